/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The command table: one line per subcommand, in the order `agentc --help` shows. */
#include "cli.h"

const agc_cli_cmd agc_cli_commands[] = {
    {"config", agc_cmd_config, "config check FILE", "validate a config or agent file and print it"},
    {"schema", agc_cmd_schema, "schema validate SCHEMA INSTANCE",
     "validate a JSON/YAML instance against a JSON Schema (draft 2020-12)"},
    {NULL, NULL, NULL, NULL},
};
