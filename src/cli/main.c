/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * agentc entry point: global flags (--version, --help) and dispatch through
 * the command table. Kept free of library start-up work so that
 * `agentc --version` costs no more than exec and dynamic linking.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agentc/common.h"
#include "agentc/log.h"
#include "cli.h"

static void help(FILE *f)
{
    fprintf(f, "agentc %s - a secure, fast AI-agent framework\n\n", agc_version());
    fprintf(f, "usage: agentc [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
    for (const agc_cli_cmd *c = agc_cli_commands; c->name; c++)
        fprintf(f, "  %-36s %s\n", c->usage, c->summary);
    fprintf(f, "\nexit codes: 0 ok, 1 failure, 2 usage error\n");
}

void agc_cli_error(agc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("agentc: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    const agc_error *e = ctx ? agc_ctx_last_error(ctx) : NULL;
    for (; e; e = e->cause)
        fprintf(stderr, ": %s", e->message);
    fputc('\n', stderr);
}

int agc_cli_usage(const char *usage)
{
    fprintf(stderr, "agentc: usage: agentc %s\n", usage);
    return AGC_CLI_USAGE;
}

agc_ctx *agc_cli_ctx(void)
{
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK) {
        fprintf(stderr, "agentc: cannot initialise (out of memory or libsodium failed)\n");
        return NULL;
    }
    if (agc_log_configure_from_env(ctx) != AGC_OK)
        agc_cli_error(ctx, "ignoring bad logging settings");
    return ctx;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return AGC_CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("agentc %s\n", agc_version());
        return AGC_CLI_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        help(stdout);
        return AGC_CLI_OK;
    }
    for (const agc_cli_cmd *c = agc_cli_commands; c->name; c++)
        if (strcmp(c->name, cmd) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "agentc: unknown command '%s'; see 'agentc --help'\n", cmd);
    return AGC_CLI_USAGE;
}
