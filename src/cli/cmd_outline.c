/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc outline FILE [--json]`: the definitions of a source file
 * (functions, methods, classes, types...) with their line ranges, from the
 * tree-sitter grammars compiled in. Exit 1 for an unreadable file or a
 * language without a grammar; a file with syntax errors still gets a best
 * effort outline (and a note).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/ast.h"
#include "cli.h"

#define USAGE "outline FILE [--json]"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb, cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

int agc_cmd_outline(int argc, char **argv)
{
    const char *file = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: agentc %s\n", USAGE);
            return AGC_CLI_OK;
        } else if (argv[i][0] == '-' || file)
            return agc_cli_usage(USAGE);
        else
            file = argv[i];
    }
    if (!file)
        return agc_cli_usage(USAGE);
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    size_t len = 0;
    char *src = slurp(file, &len);
    if (!src) {
        fprintf(stderr, "agentc: cannot read '%s'\n", file);
        agc_ctx_free(ctx);
        return AGC_CLI_FAIL;
    }
    int rc = AGC_CLI_FAIL;
    agc_ast_outline *o = NULL;
    char *text = NULL;
    if (agc_ast_outline_new(&o, file, src, len, ctx) != AGC_OK ||
        agc_ast_outline_render(&text, o, json, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot outline '%s'", file);
    } else {
        fputs(text, stdout);
        if (json)
            fputc('\n', stdout);
        rc = AGC_CLI_OK;
    }
    agc_free(ctx, text);
    agc_ast_outline_free(o);
    free(src);
    agc_ctx_free(ctx);
    return rc;
}
