/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc map [--budget N] [--focus FILE|SYMBOL]... [--task TEXT] [--dir DIR]`:
 * the repo map of DIR (default "."): the definitions that matter most for
 * the focus and the task, ranked by personalised PageRank over the
 * reference graph, cut to N tokens (default 1024). The token count goes to
 * stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/repomap.h"
#include "cli.h"

#define USAGE     "map [--budget N] [--focus FILE|SYMBOL]... [--task TEXT] [--dir DIR]"
#define MAX_FOCUS 64

int agc_cmd_map(int argc, char **argv)
{
    agc_repomap_opts o = AGC_REPOMAP_OPTS_INIT;
    const char *focus[MAX_FOCUS];
    const char *dir = ".";
    size_t nf = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: agentc %s\n", USAGE);
            return AGC_CLI_OK;
        } else if (strcmp(a, "--budget") == 0 && has) {
            char *end = NULL;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (!end || *end || v == 0 || v > 1000000) {
                fprintf(stderr, "agentc: --budget wants a token count from 1 to 1000000\n");
                return AGC_CLI_USAGE;
            }
            o.budget_tokens = (size_t)v;
        } else if (strcmp(a, "--focus") == 0 && has) {
            if (nf == MAX_FOCUS) {
                fprintf(stderr, "agentc: at most %d --focus options\n", MAX_FOCUS);
                return AGC_CLI_USAGE;
            }
            focus[nf++] = argv[++i];
        } else if (strcmp(a, "--task") == 0 && has) {
            o.task = argv[++i];
        } else if (strcmp(a, "--dir") == 0 && has) {
            dir = argv[++i];
        } else {
            return agc_cli_usage(USAGE);
        }
    }
    o.focus = focus;
    o.n_focus = nf;
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    char *map = NULL;
    size_t tokens = 0;
    int rc = AGC_CLI_OK;
    if (agc_repomap_render(&map, &tokens, dir, &o, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot map '%s'", dir);
        rc = AGC_CLI_FAIL;
    } else {
        fputs(map, stdout);
        fprintf(stderr, "agentc: map of %s: %zu tokens (budget %zu)\n", dir, tokens,
                o.budget_tokens);
    }
    agc_free(ctx, map);
    agc_ctx_free(ctx);
    return rc;
}
