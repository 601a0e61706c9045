/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The command table: one line per subcommand, in the order `agentc --help` shows. */
#include "cli.h"

const agc_cli_cmd agc_cli_commands[] = {
    {"config", agc_cmd_config, "config check FILE [--json]", "validate a config or agent file and print it"},
    {"schema", agc_cmd_schema, "schema validate SCHEMA INSTANCE",
     "validate a JSON/YAML instance against a JSON Schema (draft 2020-12)"},
    {"models", agc_cmd_models, "models [--json]", "list provider presets and model prices"},
    {"ask", agc_cmd_ask, "ask PROMPT [--provider P] [OPTIONS]",
     "send one prompt to a provider and print the answer (--help for options)"},
    {NULL, NULL, NULL, NULL},
};
