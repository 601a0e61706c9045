/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc resume RUN [--json] [-q] [--approve deny|reads|all] [--model M] [--store PATH]`:
 * continues a paused or interrupted run from its stored steps
 * (agc_run_resume: completed tool calls are not run again; decisions made
 * with `agentc approve` are applied), with the same view and exit codes as
 * `agentc run`. The run keeps the agent definition, workspace directory and
 * model stored with it (--model switches the model from here on).
 * It cannot resume a finished, failed or canceled run.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agentc/runtime.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "resume RUN [--json] [-q] [--approve deny|reads|all] [--model M] [--store PATH] "              \
    "[--audit PATH]"

int agc_cmd_resume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},          {"quiet", no_argument, NULL, 'q'},
        {"approve", required_argument, NULL, 'a'}, {"store", required_argument, NULL, 's'},
        {"model", required_argument, NULL, 'm'},   {"help", no_argument, NULL, 'h'},
        {"audit", required_argument, NULL, 'A'},   {NULL, 0, NULL, 0},
    };
    const char *model = NULL;
    agc_cli_host_opts ho = {0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":qm:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'J':
            ho.json = true;
            break;
        case 'q':
            ho.quiet = true;
            break;
        case 'a':
            if (!agc_cli_approve_mode_ok(optarg)) {
                fprintf(stderr, "agentc: --approve wants deny, reads or all, not '%s'\n", optarg);
                return agc_cli_usage(USAGE);
            }
            ho.approve = optarg;
            break;
        case 's':
            ho.store_path = optarg;
            break;
        case 'A':
            ho.audit_path = optarg;
            break;
        case 'h':
            printf("usage: agentc %s\n%s\n", USAGE, AGC_CLI_EXIT_CODES);
            return AGC_CLI_OK;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "agentc: resume wants one RUN id\n");
        return agc_cli_usage(USAGE);
    }
    if (ho.json && ho.quiet) {
        fprintf(stderr, "agentc: --json and -q exclude each other\n");
        return agc_cli_usage(USAGE);
    }
    const char *run_id = argv[optind];
    int rc;
    agc_cli_host *h = agc_cli_host_open(&ho, &rc);
    if (!h)
        return rc;
    agc_run_opts ro = AGC_RUN_OPTS_INIT;
    agc_cli_host_run_opts(h, &ro);
    ro.model = model;
    agc_run *run = NULL;
    if (agc_run_resume(&run, agc_cli_host_store(h), run_id, &ro) != AGC_OK) {
        agc_cli_error(agc_cli_host_ctx(h), "cannot resume %s", run_id);
        rc = AGC_CLI_FAIL;
    } else {
        rc = agc_cli_host_drive(h, run);
    }
    agc_run_free(run);
    agc_cli_host_close(h);
    return rc;
}
