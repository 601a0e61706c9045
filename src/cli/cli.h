/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The agentc program's command table. Each subcommand lives in its own
 * cmd_<name>.c and is listed once in commands.c. Exit codes: 0 ok, 1 failure,
 * 2 usage error (AGC_CLI_OK, AGC_CLI_FAIL, AGC_CLI_USAGE).
 */
#ifndef AGC_CLI_H
#define AGC_CLI_H

#include <stdio.h>

#include "agentc/common.h"

enum { AGC_CLI_OK = 0, AGC_CLI_FAIL = 1, AGC_CLI_USAGE = 2 };

typedef struct agc_cli_cmd {
    const char *name;                  /* first word, e.g. "config" */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *usage;                 /* one line: "config check FILE" */
    const char *summary;               /* one line of help */
} agc_cli_cmd;

/* NULL-terminated table (commands.c). */
extern const agc_cli_cmd agc_cli_commands[];

/* Prints "agentc: <msg>" and the ctx's error chain to stderr. */
void agc_cli_error(agc_ctx *ctx, const char *fmt, ...) AGC_PRINTF(2, 3);
/* Prints "agentc: usage: <usage>" to stderr and returns AGC_CLI_USAGE. */
int agc_cli_usage(const char *usage);
/* Creates the ctx every command uses (logging configured from AGENTC_LOG_*). NULL on failure. */
agc_ctx *agc_cli_ctx(void);

int agc_cmd_config(int argc, char **argv);
int agc_cmd_schema(int argc, char **argv);
int agc_cmd_models(int argc, char **argv);
int agc_cmd_ask(int argc, char **argv);
int agc_cmd_run(int argc, char **argv);
int agc_cmd_chat(int argc, char **argv);
int agc_cmd_sessions(int argc, char **argv);
int agc_cmd_resume(int argc, char **argv);
int agc_cmd_approve(int argc, char **argv);
int agc_cmd_init(int argc, char **argv);
int agc_cmd_sandbox(int argc, char **argv);
int agc_cmd_audit(int argc, char **argv);
int agc_cmd_mcp(int argc, char **argv);

#endif
