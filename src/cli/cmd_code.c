/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc code "task" [--dir DIR] [OPTIONS]`: the coding agent. One run of
 * the runtime with the workspace tools (read_file, list_dir, find, grep,
 * run_command), the change-set tool (edit_files), the AST tools
 * (outline_file, replace_symbol, insert_after_symbol), run_tests (the test
 * pipeline), a repo map in its instructions (sized to the model window minus
 * what the turn needs) and the current test status in the task. When the
 * agent says it is done, the pipeline runs again; while it fails, its report
 * goes back to the agent (at most --max-rounds repair rounds). The final
 * report says what passed. Exit 0 when the pipeline passes at the end.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/agent.h"
#include "agentc/alloc.h"
#include "agentc/ast.h"
#include "agentc/buf.h"
#include "agentc/codegen.h"
#include "agentc/json.h"
#include "agentc/repomap.h"
#include "agentc/runtime.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "code TASK [--dir DIR] [--agent FILE] [--model M] [--provider P] [--approve deny|reads|all] "  \
    "[--build CMD] [--test CMD] [--max-rounds N] [--map-tokens N] [--window N] [--json] [-q] "     \
    "[--store PATH] [--audit PATH]"

static const char INSTRUCTIONS[] =
    "You are a careful software engineer changing the code base at the workspace root.\n"
    "Work in small verified steps: read the relevant files (read_file, grep, outline_file), "
    "change them with edit_files (SEARCH/REPLACE blocks whose SEARCH text matches the file "
    "exactly once), then call run_tests. When the tests pass, answer with a short summary of "
    "what you changed and why. Do not change tests to make them pass unless the task asks.\n";

typedef struct code_args {
    const char *task, *dir, *agent, *model, *provider, *build, *test;
    long max_rounds, map_tokens, window;
    agc_cli_host_opts host;
} code_args;

static int parse_args(code_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"agent", required_argument, NULL, 'g'},
        {"model", required_argument, NULL, 'm'},
        {"provider", required_argument, NULL, 'p'},
        {"approve", required_argument, NULL, 'a'},
        {"build", required_argument, NULL, 'B'},
        {"test", required_argument, NULL, 'T'},
        {"max-rounds", required_argument, NULL, 'r'},
        {"map-tokens", required_argument, NULL, 'M'},
        {"window", required_argument, NULL, 'W'},
        {"json", no_argument, NULL, 'J'},
        {"quiet", no_argument, NULL, 'q'},
        {"store", required_argument, NULL, 's'},
        {"audit", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->dir = ".";
    a->max_rounds = 3;
    a->map_tokens = 4096;
    a->window = 128000;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":d:m:p:qh", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'd':
            a->dir = optarg;
            break;
        case 'g':
            a->agent = optarg;
            break;
        case 'm':
            a->model = optarg;
            break;
        case 'p':
            a->provider = optarg;
            break;
        case 'a':
            if (!agc_cli_approve_mode_ok(optarg)) {
                fprintf(stderr, "agentc: --approve wants deny, reads or all, not '%s'\n", optarg);
                return agc_cli_usage(USAGE);
            }
            a->host.approve = optarg;
            break;
        case 'B':
            a->build = optarg;
            break;
        case 'T':
            a->test = optarg;
            break;
        case 'r':
        case 'M':
        case 'W': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 10000000) {
                fprintf(stderr, "agentc: %s wants a number, not '%s'\n", argv[optind - 1], optarg);
                return agc_cli_usage(USAGE);
            }
            *(c == 'r' ? &a->max_rounds : c == 'M' ? &a->map_tokens : &a->window) = v;
            break;
        }
        case 'J':
            a->host.json = true;
            break;
        case 'q':
            a->host.quiet = true;
            break;
        case 's':
            a->host.store_path = optarg;
            break;
        case 'A':
            a->host.audit_path = optarg;
            break;
        case 'h':
            printf("usage: agentc %s\n%s\n", USAGE, AGC_CLI_EXIT_CODES);
            return -1;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    if (argc - optind != 1 || !argv[optind][0]) {
        fprintf(stderr, "agentc: give the task as one (quoted) argument\n");
        return agc_cli_usage(USAGE);
    }
    a->task = argv[optind];
    if (a->host.json && a->host.quiet) {
        fprintf(stderr, "agentc: --json and -q exclude each other\n");
        return agc_cli_usage(USAGE);
    }
    return 0;
}

/* The default coding agent definition. */
static agc_status default_def(agc_agent_def **out, const code_args *a, const char *instructions,
                              agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *doc = json_pack(
        "{s:i, s:s, s:s, s:{s:s, s:s, s:f}, s:{s:i, s:i}, s:{s:s, s:{s:s, s:s, s:s, s:s, s:s}}}",
        "version", 1, "name", "coder", "instructions", instructions, "provider", "name",
        a->provider ? a->provider : "openai", "model", a->model ? a->model : "gpt-4o-mini",
        "temperature", 0.0, "budgets", "max_turns", 40, "max_tool_calls", 120, "approvals",
        "default", "ask", "tools", "read_file", "always", "list_dir", "always", "grep", "always",
        "find", "always", "outline_file", "always");
    agc_json_leave(prev);
    if (!doc)
        return AGC_ENOMEM;
    agc_status st = agc_agent_def_from_json(out, doc, "agentc code", ctx);
    prev = agc_json_enter(ctx);
    json_decref(doc);
    agc_json_leave(prev);
    return st;
}

/* Instructions + the repo map, sized to what the window leaves. */
static char *build_instructions(const code_args *a, const char *root, const char *base,
                                agc_ctx *ctx)
{
    size_t used = agc_tokens_count(base, strlen(base), AGC_TOK_O200K) +
                  agc_tokens_count(a->task, strlen(a->task), AGC_TOK_O200K) + 8192 /* reply +
                                                                                     tool output */
        ;
    long room = a->window > (long)used ? a->window - (long)used : 0;
    long budget = a->map_tokens < room ? a->map_tokens : room;
    char *map = NULL;
    size_t tokens = 0;
    if (budget >= 64) {
        agc_repomap_opts ro = AGC_REPOMAP_OPTS_INIT;
        ro.budget_tokens = (size_t)budget;
        ro.task = a->task;
        if (agc_repomap_render(&map, &tokens, root, &ro, ctx) != AGC_OK) {
            agc_cli_error(ctx, "warning: no repo map");
            agc_error_clear(ctx);
            map = NULL;
        }
    }
    char *s = map && *map ? agc_sprintf(ctx,
                                        "%s\nRepository map (the most relevant definitions, "
                                        "%zu tokens):\n%s\n",
                                        base, tokens, map)
                          : agc_strdup(ctx, base);
    agc_free(ctx, map);
    return s;
}

/* Runs the pipeline; report into b (cleared); *passed. */
static agc_status pipeline_report(agc_pipeline *p, agc_buf *b, bool *passed, agc_ctx *ctx)
{
    agc_pipe_result r;
    agc_status st = agc_pipeline_run(&r, p);
    if (st != AGC_OK)
        return st;
    agc_buf_clear(b);
    st = agc_pipe_result_report(&r, b, 6000);
    *passed = r.passed;
    agc_pipe_result_clear(&r, ctx);
    return st;
}

int agc_cmd_code(int argc, char **argv)
{
    code_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    agc_cli_host *h = agc_cli_host_open(&a.host, &rc);
    if (!h)
        return rc;
    agc_ctx *ctx = agc_cli_host_ctx(h);
    rc = AGC_CLI_FAIL;
    agc_workspace *ws = NULL;
    agc_pipeline *pl = NULL;
    agc_tool_registry *reg = NULL;
    agc_agent_def *def = NULL;
    agc_run *run = NULL;
    char *instr = NULL, *task = NULL;
    agc_buf rep;
    agc_buf_init(&rep, ctx, 0);
    if (agc_workspace_open(&ws, a.dir, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the directory %s", a.dir);
        goto done;
    }
    int did = 0;
    if (agc_changeset_recover(&did, ws, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot recover an interrupted change set");
        goto done;
    }
    if (did)
        fprintf(stderr, "agentc: an interrupted change set was %s\n",
                did == 1 ? "rolled back" : "completed");
    agc_pipeline_opts po = AGC_PIPELINE_OPTS_INIT;
    po.build = a.build;
    po.test = a.test;
    bool have_pipeline = agc_pipeline_new(&pl, ws, &po, ctx) == AGC_OK;
    if (!have_pipeline) {
        if (agc_ctx_last_error(ctx)->code == AGC_ENOMEM)
            goto done;
        fprintf(stderr, "agentc: warning: %s; the agent runs without the test loop\n",
                agc_ctx_errmsg(ctx));
        agc_error_clear(ctx);
    }
    static const char *const builtins[] = {"read_file", "list_dir",    "find",
                                           "grep",      "run_command", NULL};
    agc_tool *t = NULL;
    if (agc_tool_registry_new(&reg, ctx) != AGC_OK ||
        agc_workspace_register_tools(reg, ws, builtins) != AGC_OK ||
        agc_changeset_tool_new(&t, ws, have_pipeline ? pl : NULL, ctx) != AGC_OK ||
        agc_tool_registry_add(reg, t) != AGC_OK ||
        (t = NULL, agc_ast_register_tools(reg, ws, ctx) != AGC_OK)) {
        agc_cli_error(ctx, "cannot set up the tools");
        goto done;
    }
    if (have_pipeline &&
        (agc_pipeline_tool_new(&t, pl, ctx) != AGC_OK || agc_tool_registry_add(reg, t) != AGC_OK)) {
        agc_cli_error(ctx, "cannot set up run_tests");
        goto done;
    }
    /* the test status before any change goes into the task */
    bool passed = false;
    if (have_pipeline) {
        fprintf(stderr, "agentc: running the %s pipeline first\n", agc_pipeline_kind(pl));
        if (pipeline_report(pl, &rep, &passed, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot run the pipeline");
            goto done;
        }
    }
    instr = build_instructions(&a, agc_workspace_root(ws), INSTRUCTIONS, ctx);
    task = have_pipeline ? agc_sprintf(ctx, "%s\n\nCurrent build and test status:\n%s", a.task,
                                       agc_buf_cstr(&rep))
                         : agc_strdup(ctx, a.task);
    if (!instr || !task)
        goto done;
    agc_status st = a.agent ? agc_cli_load_agent(&def, a.agent, a.model, a.provider, ctx)
                            : default_def(&def, &a, instr, ctx);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot load the agent");
        goto done;
    }
    agc_run_opts ro = AGC_RUN_OPTS_INIT;
    agc_cli_host_run_opts(h, &ro);
    ro.tools = reg;
    ro.workspace = ws;
    ro.workdir = agc_workspace_root(ws);
    ro.model = a.agent ? a.model : NULL;
    if (agc_cli_host_audit(h, def) != AGC_CLI_OK)
        goto done;
    if (agc_run_new(&run, def, task, &ro, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot start the run");
        goto done;
    }
    long round = 0;
    for (;;) {
        rc = agc_cli_host_drive(h, run);
        if (rc != AGC_CLI_OK || agc_run_status_get(run) != AGC_RUN_FINISHED || !have_pipeline)
            break;
        if (pipeline_report(pl, &rep, &passed, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot run the pipeline");
            rc = AGC_CLI_FAIL;
            break;
        }
        if (passed || round >= a.max_rounds)
            break;
        round++;
        fprintf(stderr, "agentc: the pipeline still fails; repair round %ld of %ld\n", round,
                a.max_rounds);
        char *msg = agc_sprintf(ctx,
                                "The build/tests still fail after your changes:\n%s\nFix the "
                                "cause, run run_tests, then summarise.",
                                agc_buf_cstr(&rep));
        st = msg ? agc_run_continue(run, msg) : AGC_ENOMEM;
        agc_free(ctx, msg);
        if (st != AGC_OK) {
            agc_cli_error(ctx, "cannot continue the run");
            rc = AGC_CLI_FAIL;
            break;
        }
    }
    if (rc == AGC_CLI_OK && have_pipeline) {
        fprintf(stderr, "agentc: final report (%ld repair round%s):\n%s", round,
                round == 1 ? "" : "s", agc_buf_cstr(&rep));
        rc = passed ? AGC_CLI_OK : AGC_CLI_FAIL;
    }
done:
    agc_run_free(run);
    agc_agent_def_unref(def);
    agc_tool_registry_free(reg);
    agc_pipeline_free(pl);
    agc_workspace_close(ws);
    agc_free(ctx, instr);
    agc_free(ctx, task);
    agc_buf_free(&rep);
    agc_cli_host_close(h);
    return rc;
}
