/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc approve RUN CALL --allow|--deny [--reason TEXT] [--store PATH]`:
 * records a decision for a tool call that a paused run waits on. It only
 * writes the decision into the session store (agc_run_approve), so it works
 * from any process; `agentc resume RUN` then applies it and continues.
 * It does not run anything itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/runtime.h"
#include "agentc/store.h"
#include "cli.h"

#define USAGE "approve RUN CALL --allow|--deny [--reason TEXT] [--store PATH]"

int agc_cmd_approve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"allow", no_argument, NULL, 'y'},        {"deny", no_argument, NULL, 'n'},
        {"reason", required_argument, NULL, 'r'}, {"store", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int decision = -1; /* 1 allow, 0 deny */
    const char *reason = NULL, *store_path = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'y':
        case 'n':
            if (decision != -1 && decision != (c == 'y')) {
                fprintf(stderr, "agentc: --allow and --deny exclude each other\n");
                return agc_cli_usage(USAGE);
            }
            decision = c == 'y';
            break;
        case 'r':
            reason = optarg;
            break;
        case 's':
            store_path = optarg;
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
    if (argc - optind != 2) {
        fprintf(stderr, "agentc: approve wants a RUN id and a CALL id\n");
        return agc_cli_usage(USAGE);
    }
    if (decision == -1) {
        fprintf(stderr, "agentc: say --allow or --deny\n");
        return agc_cli_usage(USAGE);
    }
    if (reason && decision == 1) {
        fprintf(stderr, "agentc: --reason goes with --deny (it is sent to the model)\n");
        return agc_cli_usage(USAGE);
    }
    const char *run_id = argv[optind], *call_id = argv[optind + 1];
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    int rc = AGC_CLI_OK;
    char *path = store_path ? agc_strdup(ctx, store_path) : agc_store_default_path(ctx);
    agc_store *s = NULL;
    if (!path || agc_store_open_sqlite(&s, path, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the session store");
        rc = AGC_CLI_FAIL;
    } else if (agc_run_approve(s, run_id, call_id, decision == 1, reason) != AGC_OK) {
        agc_cli_error(ctx, "cannot record the decision");
        rc = AGC_CLI_FAIL;
    } else {
        printf("%s %s of %s; continue with: agentc resume %s%s%s\n",
               decision ? "allowed" : "denied", call_id, run_id, run_id,
               store_path ? " --store " : "", store_path ? store_path : "");
    }
    agc_store_close(s);
    agc_free(ctx, path);
    agc_ctx_free(ctx);
    return rc;
}
