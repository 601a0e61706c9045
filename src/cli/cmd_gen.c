/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc gen SPEC --task "..." [--dir DIR] [--out SUBDIR] [--lang L] ...`:
 * spec-driven generation. The spec (OpenAPI 3.x, JSON Schema, .proto) is
 * loaded into types and operations, a plan of files is made (types first,
 * then one handlers file per resource), and each file is asked of the model
 * with its slice of the spec, the types file already written and the repo
 * map; the answer (a path line + the file in a fence) goes through a change
 * set (atomic, syntax-checked; errors go back to the model, at most
 * --max-rounds retries). Then the result is checked against the spec (every
 * operation has a handler, every type is defined, examples validate) and by
 * the test pipeline when the project has one. Exit 0 when both pass.
 */
#define agc_tool_call agc__tool_call_fn_shadowed
#include "agentc/tool.h"
#undef agc_tool_call
#include "agentc/provider.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/codegen.h"
#include "agentc/json.h"
#include "agentc/repomap.h"
#include "cli.h"

#define USAGE                                                                                      \
    "gen SPEC --task TEXT [--dir DIR] [--out SUBDIR] [--lang python|typescript|go] [--model M] "   \
    "[--provider P] [--max-rounds N] [--map-tokens N] [--plan] [--allow-dirty]"

static const char SYSTEM[] =
    "You write one source file of a project from a specification. Follow the spec slice "
    "exactly: every operation gets a function named exactly as its \"handler\" field; every "
    "type gets a definition with the type's name. Answer with the file path alone on one line, "
    "then the complete file content in one ``` fence, and nothing else.";

typedef struct gen_args {
    const char *spec, *task, *dir, *out, *lang, *model, *provider;
    long rounds, map_tokens;
    bool plan_only, allow_dirty;
} gen_args;

static int parse(gen_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"task", required_argument, NULL, 't'},
        {"dir", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"lang", required_argument, NULL, 'l'},
        {"model", required_argument, NULL, 'm'},
        {"provider", required_argument, NULL, 'p'},
        {"max-rounds", required_argument, NULL, 'r'},
        {"map-tokens", required_argument, NULL, 'M'},
        {"plan", no_argument, NULL, 'P'},
        {"allow-dirty", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->dir = ".";
    a->out = ".";
    a->lang = "python";
    a->rounds = 2;
    a->map_tokens = 2048;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":t:d:o:l:m:p:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 't':
            a->task = optarg;
            break;
        case 'd':
            a->dir = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'l':
            a->lang = optarg;
            break;
        case 'm':
            a->model = optarg;
            break;
        case 'p':
            a->provider = optarg;
            break;
        case 'r':
        case 'M': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 1000000) {
                fprintf(stderr, "agentc: %s wants a number\n", argv[optind - 1]);
                return agc_cli_usage(USAGE);
            }
            *(c == 'r' ? &a->rounds : &a->map_tokens) = v;
            break;
        }
        case 'P':
            a->plan_only = true;
            break;
        case 'D':
            a->allow_dirty = true;
            break;
        case 'h':
            printf("usage: agentc %s\n", USAGE);
            return -1;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    if (argc - optind != 1 || (!a->task && !a->plan_only)) {
        fprintf(stderr, "agentc: give one SPEC and --task TEXT\n");
        return agc_cli_usage(USAGE);
    }
    a->spec = argv[optind];
    return 0;
}

/* Asks for one file until it applies (or the rounds run out). */
static int gen_file(agc_provider *prov, const gen_args *a, agc_workspace *ws,
                    const agc_spec_plan_file *f, const char *types_path, const char *map,
                    agc_ctx *ctx)
{
    char *types_text = NULL;
    if (types_path && strcmp(f->role, "handlers") == 0) {
        char *p = agc_sprintf(ctx, "%s/%s", agc_workspace_root(ws), types_path);
        FILE *fp = p ? fopen(p, "rb") : NULL;
        agc_free(ctx, p);
        if (fp) {
            agc_buf b;
            agc_buf_init(&b, ctx, 1 << 20);
            char chunk[4096];
            size_t n;
            (void)agc_buf_puts(&b, "");
            while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0 &&
                   agc_buf_append(&b, chunk, n) == AGC_OK)
                ;
            fclose(fp);
            types_text = agc_buf_detach(&b, NULL);
        }
    }
    char *user = agc_sprintf(
        ctx,
        "Task: %s\n\nWrite the file: %s (%s%s%s)\n\nSpec slice:\n```json\n%s\n```\n"
        "%s%s%s%s%s%s",
        a->task, f->path, f->role, f->resource ? " of resource " : "",
        f->resource ? f->resource : "", f->slice,
        types_text ? "\nThe types module already written (" : "", types_text ? types_path : "",
        types_text ? "):\n```\n" : "", types_text ? types_text : "", types_text ? "```\n" : "",
        map && *map ? "\nRepository map:\n" : "");
    char *user2 = user && map && *map ? agc_sprintf(ctx, "%s%s\n", user, map) : NULL;
    if (user2) {
        agc_free(ctx, user);
        user = user2;
    }
    agc_free(ctx, types_text);
    if (!user)
        return AGC_CLI_FAIL;
    /* the conversation: system, user, then (answer, error) pairs */
    enum { MAXM = 2 + 2 * 8 };
    agc_message msgs[MAXM];
    agc_part parts[MAXM];
    char *owned[MAXM] = {0};
    size_t nm = 0;
    parts[nm] = (agc_part){AGC_PART_TEXT, SYSTEM, NULL, NULL, NULL};
    msgs[nm] = (agc_message){AGC_ROLE_SYSTEM, &parts[nm], 1, NULL, 0, NULL, false, false};
    nm++;
    parts[nm] = (agc_part){AGC_PART_TEXT, user, NULL, NULL, NULL};
    msgs[nm] = (agc_message){AGC_ROLE_USER, &parts[nm], 1, NULL, 0, NULL, false, false};
    owned[nm] = user;
    nm++;
    int rc = AGC_CLI_FAIL;
    long rounds = a->rounds > 7 ? 7 : a->rounds;
    for (long round = 0; round <= rounds; round++) {
        agc_chat_request req = AGC_CHAT_REQUEST_INIT;
        req.messages = msgs;
        req.n_messages = nm;
        req.temperature = 0;
        agc_chat_response *resp = NULL;
        if (agc_provider_chat(&resp, prov, &req, NULL, NULL) != AGC_OK) {
            agc_cli_error(ctx, "the model call for %s failed", f->path);
            break;
        }
        const char *text = agc_chat_response_text(resp);
        char *answer = agc_strdup(ctx, text ? text : "");
        agc_chat_response_free(resp);
        if (!answer)
            break;
        agc_changeset *cs = NULL;
        agc_cs_file cf;
        agc_status st = agc_changeset_parse(&cs, answer, AGC_CS_FMT_WHOLE_FILE, ctx);
        if (st == AGC_OK && (agc_changeset_count(cs) != 1))
            st =
                agc_error_set(ctx, AGC_EINVAL, "gen", "answer with exactly one file (%s)", f->path);
        if (st == AGC_OK)
            st = agc_changeset_resolve(cs, ws);
        if (st == AGC_OK && agc_changeset_file(cs, 0, &cf) && strcmp(cf.path, f->path) != 0)
            st = agc_error_set(ctx, AGC_EINVAL, "gen", "the file must be %s, not %s", f->path,
                               cf.path);
        agc_cs_apply_opts ao = AGC_CS_APPLY_OPTS_INIT;
        ao.allow_dirty = a->allow_dirty;
        if (st == AGC_OK)
            st = agc_changeset_apply(cs, &ao);
        agc_changeset_free(cs);
        if (st == AGC_OK) {
            fprintf(stderr, "agentc: wrote %s\n", f->path);
            agc_free(ctx, answer);
            rc = AGC_CLI_OK;
            break;
        }
        if (st == AGC_ENOMEM || round == rounds || nm + 2 > MAXM) {
            fprintf(stderr, "agentc: %s: %s\n", f->path, agc_ctx_errmsg(ctx));
            agc_free(ctx, answer);
            break;
        }
        char *fix = agc_sprintf(ctx,
                                "That answer was not accepted:\n%s\nAnswer again with the "
                                "whole file.",
                                agc_ctx_errmsg(ctx));
        fprintf(stderr, "agentc: %s: retrying: %s\n", f->path, agc_ctx_errmsg(ctx));
        if (!fix) {
            agc_free(ctx, answer);
            break;
        }
        parts[nm] = (agc_part){AGC_PART_TEXT, answer, NULL, NULL, NULL};
        msgs[nm] = (agc_message){AGC_ROLE_ASSISTANT, &parts[nm], 1, NULL, 0, NULL, false, false};
        owned[nm++] = answer;
        parts[nm] = (agc_part){AGC_PART_TEXT, fix, NULL, NULL, NULL};
        msgs[nm] = (agc_message){AGC_ROLE_USER, &parts[nm], 1, NULL, 0, NULL, false, false};
        owned[nm++] = fix;
    }
    for (size_t i = 0; i < nm; i++)
        agc_free(ctx, owned[i]);
    return rc;
}

int agc_cmd_gen(int argc, char **argv)
{
    gen_args a;
    int rc = parse(&a, argc, argv);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    rc = AGC_CLI_FAIL;
    agc_spec *spec = NULL;
    agc_spec_plan_file *plan = NULL;
    size_t np = 0;
    agc_workspace *ws = NULL;
    agc_provider *prov = NULL;
    agc_pipeline *pl = NULL;
    char *map = NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    if (agc_spec_load(&spec, a.spec, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot load the spec");
        goto done;
    }
    if (agc_spec_plan(&plan, &np, spec, a.lang, a.out) != AGC_OK) {
        agc_cli_error(ctx, "cannot plan the files");
        goto done;
    }
    printf("%s '%s': %zu types, %zu operations; plan:\n", agc_spec_kind(spec), agc_spec_title(spec),
           agc_spec_type_count(spec), agc_spec_op_count(spec));
    for (size_t i = 0; i < np; i++)
        printf("  %zu. %s (%s%s%s)\n", i + 1, plan[i].path, plan[i].role,
               plan[i].resource ? ": " : "", plan[i].resource ? plan[i].resource : "");
    fflush(stdout);
    if (a.plan_only) {
        rc = AGC_CLI_OK;
        goto done;
    }
    if (agc_workspace_open(&ws, a.dir, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the directory %s", a.dir);
        goto done;
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *pc = json_pack("{s:s, s:s}", "name", a.provider ? a.provider : "openai", "model",
                           a.model ? a.model : "gpt-4o-mini");
    agc_json_leave(prev);
    agc_status pst = pc ? agc_provider_open_config(&prov, pc, ctx) : AGC_ENOMEM;
    prev = agc_json_enter(ctx);
    json_decref(pc);
    agc_json_leave(prev);
    if (pst != AGC_OK) {
        agc_cli_error(ctx, "cannot open the provider");
        goto done;
    }
    if (a.map_tokens >= 64) {
        agc_repomap_opts ro = AGC_REPOMAP_OPTS_INIT;
        ro.budget_tokens = (size_t)a.map_tokens;
        ro.task = a.task;
        size_t tokens = 0;
        if (agc_repomap_render(&map, &tokens, agc_workspace_root(ws), &ro, ctx) != AGC_OK) {
            agc_error_clear(ctx);
            map = NULL;
        }
    }
    const char *types_path = NULL;
    for (size_t i = 0; i < np; i++) {
        if (gen_file(prov, &a, ws, &plan[i], types_path, map, ctx) != AGC_CLI_OK)
            goto done;
        if (strcmp(plan[i].role, "types") == 0)
            types_path = plan[i].path;
    }
    agc_status cst = agc_spec_check(&b, spec, agc_workspace_root(ws), plan, np);
    if (cst == AGC_ENOMEM)
        goto done;
    if (cst != AGC_OK)
        fprintf(stderr, "agentc: the generated code does not match the spec:\n%s",
                agc_buf_cstr(&b));
    else
        fprintf(stderr,
                "agentc: spec check passed: %zu operations have handlers, %zu types are "
                "defined, their examples validate\n",
                agc_spec_op_count(spec), agc_spec_type_count(spec));
    bool passed = true;
    if (agc_pipeline_new(&pl, ws, NULL, ctx) == AGC_OK) {
        agc_pipe_result r;
        if (agc_pipeline_run(&r, pl) != AGC_OK)
            goto done;
        agc_buf_clear(&b);
        if (agc_pipe_result_report(&r, &b, 4000) != AGC_OK) {
            agc_pipe_result_clear(&r, ctx);
            goto done;
        }
        passed = r.passed;
        agc_pipe_result_clear(&r, ctx);
        fprintf(stderr, "agentc: test pipeline (%s):\n%s", agc_pipeline_kind(pl), agc_buf_cstr(&b));
    } else {
        agc_error_clear(ctx);
        fprintf(stderr, "agentc: no build or test command found; the pipeline was skipped\n");
    }
    rc = cst == AGC_OK && passed ? AGC_CLI_OK : AGC_CLI_FAIL;
done:
    agc_buf_free(&b);
    agc_free(ctx, map);
    agc_pipeline_free(pl);
    agc_provider_close(prov);
    agc_workspace_close(ws);
    agc_spec_plan_free(plan, np, ctx);
    agc_spec_free(spec);
    agc_ctx_free(ctx);
    return rc;
}
