/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Temporary: replaced by cmd_config.c and cmd_schema.c. */
#include "cli.h"
int agc_cmd_config(int argc, char **argv) { (void)argc; (void)argv; return agc_cli_usage("config check FILE"); }
int agc_cmd_schema(int argc, char **argv) { (void)argc; (void)argv; return agc_cli_usage("schema validate SCHEMA INSTANCE"); }
