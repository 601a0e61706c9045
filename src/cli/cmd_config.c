/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc config check FILE [--json]`: load an agent file, apply AGENTC_*
 * overrides, validate, and print the effective config (YAML, or JSON with
 * --json). Secret fields are references, printed as such, never resolved;
 * the output also passes through redaction. Errors go to stderr as
 * "FILE:LINE:COL: /path: message"; exit 1 on invalid input, 2 on usage.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/config.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "cli.h"

#define USAGE "config check FILE [--json]"

/* Prints a load error: parse errors already read "file:line:col: what". */
static void print_load_error(agc_ctx *ctx)
{
    const agc_error *e = agc_ctx_last_error(ctx);
    if (e && (e->code == AGC_EPARSE || e->code == AGC_ELIMIT || e->code == AGC_ESCHEMA)) {
        fputs(e->message, stderr);
        for (e = e->cause; e; e = e->cause)
            fprintf(stderr, ": %s", e->message);
        fputc('\n', stderr);
    } else {
        agc_cli_error(ctx, "cannot load the config");
    }
}

static int print_effective(agc_ctx *ctx, const agc_config *cfg, bool json)
{
    char *text = NULL, *clean = NULL;
    agc_status st = json ? agc_json_dump(&text, agc_config_root(cfg), JSON_INDENT(2), ctx)
                         : agc_config_to_yaml(&text, agc_config_root(cfg), ctx);
    if (st == AGC_OK)
        st = agc_redact(&clean, NULL, text, strlen(text), ctx);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot print the config");
        agc_free(ctx, text);
        return AGC_CLI_FAIL;
    }
    fputs(clean, stdout);
    size_t n = strlen(clean);
    if (n == 0 || clean[n - 1] != '\n')
        fputc('\n', stdout);
    agc_free(ctx, text);
    agc_free(ctx, clean);
    return AGC_CLI_OK;
}

static int check(const char *path, bool json)
{
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    int rc = AGC_CLI_FAIL;
    agc_config *cfg = NULL;
    agc_config_report *rep = NULL;
    if (agc_log_configure_from_env(ctx) != AGC_OK) {
        agc_cli_error(ctx, "bad logging settings");
        goto done;
    }
    agc_config_opts o = AGC_CONFIG_OPTS_INIT;
    o.no_validate = true; /* validated below, to report every finding */
    if (agc_config_load(&cfg, path, &o, ctx) != AGC_OK) {
        print_load_error(ctx);
        goto done;
    }
    agc_status st = agc_config_validate(&rep, cfg, ctx);
    if (st == AGC_ESCHEMA) {
        for (size_t i = 0; i < rep->count; i++)
            fprintf(stderr, "%s\n", rep->diags[i].text);
        if (rep->truncated)
            fprintf(stderr, "%s: more errors were found than shown; fix these first\n", path);
        goto done;
    }
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot validate %s", path);
        goto done;
    }
    rc = print_effective(ctx, cfg, json);
done:
    agc_config_report_free(rep, ctx);
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    return rc;
}

int agc_cmd_config(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "check") != 0)
        return agc_cli_usage(USAGE);
    const char *file = NULL;
    bool json = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return agc_cli_usage(USAGE);
        else if (!file)
            file = argv[i];
        else
            return agc_cli_usage(USAGE);
    }
    if (!file)
        return agc_cli_usage(USAGE);
    return check(file, json);
}
