/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc apply FILE|- [--dir D] [--format F] [--dry-run] [--allow-dirty]
 * [--commit] [-m MSG] [--no-syntax-check]`: applies a change set (apply_patch,
 * SEARCH/REPLACE, unified diff or whole files) to the directory D
 * atomically, or prints its unified diff with --dry-run. Problems (no match,
 * ambiguous match with the closest text, syntax errors, dirty files) are
 * printed and nothing changes (exit 1). An interrupted earlier apply is
 * recovered first.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/codegen.h"
#include "cli.h"

#define USAGE                                                                                      \
    "apply FILE|- [--dir DIR] [--format auto|apply_patch|search_replace|udiff|whole_file] "        \
    "[--dry-run] [--allow-dirty] [--commit] [-m MESSAGE] [--no-syntax-check]"

static char *read_all(agc_ctx *ctx, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, (size_t)64 << 20);
    char chunk[8192];
    size_t n;
    agc_status st = agc_buf_puts(&b, "");
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = agc_buf_append(&b, chunk, n);
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (st != AGC_OK || err) {
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}

int agc_cmd_apply(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"dry-run", no_argument, NULL, 'n'},
        {"allow-dirty", no_argument, NULL, 'D'},
        {"commit", no_argument, NULL, 'c'},
        {"message", required_argument, NULL, 'm'},
        {"no-syntax-check", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = ".", *fmt_name = "auto", *message = NULL;
    bool dry = false;
    agc_cs_apply_opts ao = AGC_CS_APPLY_OPTS_INIT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":d:f:m:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'f':
            fmt_name = optarg;
            break;
        case 'n':
            dry = true;
            break;
        case 'D':
            ao.allow_dirty = true;
            break;
        case 'c':
            ao.commit = true;
            break;
        case 'm':
            message = optarg;
            break;
        case 'S':
            ao.skip_syntax = true;
            break;
        case 'h':
            printf("usage: agentc %s\n", USAGE);
            return AGC_CLI_OK;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    if (argc - optind != 1)
        return agc_cli_usage(USAGE);
    agc_cs_format fmt = AGC_CS_FMT_WHOLE_FILE + 1;
    for (int k = 0; k <= AGC_CS_FMT_WHOLE_FILE; k++)
        if (strcmp(fmt_name, agc_cs_format_name((agc_cs_format)k)) == 0)
            fmt = (agc_cs_format)k;
    if (fmt > AGC_CS_FMT_WHOLE_FILE) {
        fprintf(stderr, "agentc: unknown --format '%s'\n", fmt_name);
        return agc_cli_usage(USAGE);
    }
    if (dry && ao.commit) {
        fprintf(stderr, "agentc: --dry-run and --commit exclude each other\n");
        return agc_cli_usage(USAGE);
    }
    ao.message = message;
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    int rc = AGC_CLI_FAIL;
    agc_workspace *ws = NULL;
    agc_changeset *cs = NULL;
    agc_buf out;
    agc_buf_init(&out, ctx, 0);
    char *text = read_all(ctx, argv[optind]);
    if (!text) {
        fprintf(stderr, "agentc: cannot read the change set %s\n", argv[optind]);
        goto done;
    }
    if (agc_workspace_open(&ws, dir, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the directory %s", dir);
        goto done;
    }
    if (agc_changeset_parse(&cs, text, fmt, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot parse the change set");
        goto done;
    }
    if (agc_changeset_resolve(cs, ws) != AGC_OK) {
        fprintf(stderr, "agentc: the change set does not apply; nothing was changed:\n%s\n",
                agc_ctx_errmsg(ctx));
        goto done;
    }
    if (dry) {
        agc_buf errs;
        agc_buf_init(&errs, ctx, 0);
        agc_status sst = ao.skip_syntax ? AGC_OK : agc_changeset_check_syntax(cs, &errs);
        if (agc_changeset_diff(cs, &out) != AGC_OK) {
            agc_buf_free(&errs);
            agc_cli_error(ctx, "cannot make the diff");
            goto done;
        }
        fwrite(agc_buf_cstr(&out), 1, out.len, stdout);
        if (sst == AGC_EPARSE)
            fprintf(stderr, "agentc: the change set would introduce syntax errors:\n%s",
                    agc_buf_cstr(&errs));
        agc_buf_free(&errs);
        rc = sst == AGC_OK ? AGC_CLI_OK : AGC_CLI_FAIL;
        goto done;
    }
    if (agc_changeset_apply(cs, &ao) != AGC_OK) {
        fprintf(stderr, "agentc: %s\n", agc_ctx_errmsg(ctx));
        goto done;
    }
    size_t n = agc_changeset_count(cs);
    for (size_t i = 0; i < n; i++) {
        agc_cs_file f;
        agc_changeset_file(cs, i, &f);
        static const char tag[] = "AMDR";
        if (f.to)
            printf("%c %s -> %s\n", tag[f.op], f.path, f.to);
        else
            printf("%c %s\n", tag[f.op], f.path);
    }
    fprintf(stderr, "applied %zu file%s%s\n", n, n == 1 ? "" : "s",
            ao.commit ? " and committed them" : "");
    rc = AGC_CLI_OK;
done:
    agc_buf_free(&out);
    agc_changeset_free(cs);
    agc_workspace_close(ws);
    agc_free(ctx, text);
    agc_ctx_free(ctx);
    return rc;
}
