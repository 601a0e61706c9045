/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The coding agent's tools on top of change sets and the pipeline:
 * "edit_files" (parse, resolve, syntax-check and atomically apply edits in
 * any supported format; every problem goes back to the model as the result
 * and nothing is changed) and "run_tests" (runs the project's pipeline and
 * returns its report). The runtime asks for approval per the tools' effects.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "changeset_int.h"
#include "tools/tools_int.h"

static const char edit_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"edits\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The edits, in one "
    "format: SEARCH/REPLACE blocks (the file path on its own line, then <<<<<<< SEARCH, the exact "
    "lines to find, =======, the new lines, >>>>>>> REPLACE), a unified diff, an apply_patch "
    "patch, or whole files (the path on its own line, then the full content in a ``` fence)\"},"
    "\"format\":{\"enum\":[\"auto\",\"search_replace\",\"udiff\",\"apply_patch\",\"whole_file\"]}"
    "},\"required\":[\"edits\"],\"additionalProperties\":false}";

static agc_cs_format fmt_of(const char *s)
{
    for (int k = 0; k <= AGC_CS_FMT_WHOLE_FILE; k++)
        if (strcmp(s, agc_cs_format_name((agc_cs_format)k)) == 0)
            return (agc_cs_format)k;
    return AGC_CS_FMT_AUTO;
}

typedef struct edit_tool {
    agc_workspace *ws;
    agc_pipeline *p; /* borrowed; may be NULL */
} edit_tool;

static void edit_destroy(void *self)
{
    edit_tool *t = self;
    agc_ctx *ctx = agc__ws_ctx(t->ws);
    agc__ws_unref(t->ws);
    agc_free(ctx, t);
}

static agc_status edit_call(void *self, const json_t *args, agc_tool_result *out,
                            agc_tool_call_ctx *cctx)
{
    edit_tool *et = self;
    agc_workspace *ws = et->ws;
    agc_ctx *ctx = cctx->ctx;
    agc_changeset *cs = NULL;
    agc_status st = agc_changeset_parse(&cs, agc_json_str(args, "edits", ""),
                                        fmt_of(agc_json_str(args, "format", "auto")), ctx);
    if (st == AGC_OK)
        st = agc_changeset_resolve(cs, ws);
    agc_cs_apply_opts o = AGC_CS_APPLY_OPTS_INIT;
    o.allow_dirty = true; /* the CLI checks the tree before the agent starts */
    if (st == AGC_OK)
        st = agc_changeset_apply(cs, &o);
    if (st == AGC_ENOMEM || st == AGC_ECANCELED) {
        agc_changeset_free(cs);
        return st;
    }
    if (st != AGC_OK) {
        agc_changeset_free(cs);
        return agc_tool_result_errorf(out, ctx, "%s\nNothing was changed; fix the edits and retry.",
                                      agc_ctx_errmsg(ctx));
    }
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    size_t n = agc_changeset_count(cs);
    st = agc_buf_printf(&b, "applied %zu file%s:\n", n, n == 1 ? "" : "s");
    unsigned fuzzy = 0;
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        agc_cs_file f;
        agc_changeset_file(cs, i, &f);
        static const char tag[] = "AMDR";
        fuzzy += f.fuzzy_edits;
        st = f.to ? agc_buf_printf(&b, "%c %s -> %s\n", tag[f.op], f.path, f.to)
                  : agc_buf_printf(&b, "%c %s\n", tag[f.op], f.path);
    }
    if (st == AGC_OK && fuzzy)
        st = agc_buf_printf(&b,
                            "(%u edit%s matched only when whitespace was ignored; re-read "
                            "those files before editing them again)\n",
                            fuzzy, fuzzy == 1 ? "" : "s");
    if (st == AGC_OK && et->p) { /* the pipeline after each applied set */
        agc_pipe_result r;
        st = agc_pipeline_run(&r, et->p);
        if (st == AGC_OK) {
            st = agc_buf_puts(&b, "\nbuild and tests after this change: ");
            if (st == AGC_OK)
                st = agc_pipe_result_report(&r, &b, 4000);
            agc_pipe_result_clear(&r, ctx);
        }
    }
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
    agc_buf_free(&b);
    agc_changeset_free(cs);
    return st;
}

static const agc_tool_ops edit_ops = {AGC_TOOL_OPS_VERSION, edit_call, edit_destroy};

agc_status agc_changeset_tool_new(agc_tool **out, agc_workspace *ws, agc_pipeline *p, agc_ctx *ctx)
{
    *out = NULL;
    json_t *schema = NULL;
    agc_status st = agc_json_parse(&schema, edit_schema, strlen(edit_schema), "edit_files", ctx);
    if (st != AGC_OK)
        return st;
    edit_tool *et = agc_calloc(agc__ws_ctx(ws), 1, sizeof *et);
    if (!et) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(schema);
        agc_json_leave(prev);
        return AGC_ENOMEM;
    }
    agc__ws_ref(ws);
    et->ws = ws;
    et->p = p;
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = "edit_files";
    spec.description =
        "Change workspace files atomically (all files change or none). Prefer SEARCH/REPLACE "
        "blocks:\npath/to/file.c\n<<<<<<< SEARCH\nexact existing lines\n=======\nnew lines\n"
        ">>>>>>> REPLACE\nEach SEARCH must match exactly one place (include enough lines). An "
        "empty SEARCH for a missing file creates it. Unified diffs, apply_patch patches and "
        "whole files (path line + ``` fenced content) are accepted too. Edits that introduce "
        "syntax errors are refused with the errors. The build and tests run after each "
        "accepted change when the project has them.";
    spec.input_schema = schema;
    spec.effect = AGC_TOOL_EFFECT_WRITE;
    spec.approval = AGC_TOOL_APPROVE_ASK;
    spec.timeout_ms = p ? 0 : 60000;
    st = agc_tool_new(out, &edit_ops, et, &spec, ctx); /* destroys et on failure */
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    return st;
}

/* ---- run_tests ----------------------------------------------------------------------- */

static agc_status tests_call(void *self, const json_t *args, agc_tool_result *out,
                             agc_tool_call_ctx *cctx)
{
    (void)args;
    agc_pipeline *p = self;
    agc_ctx *ctx = cctx->ctx;
    agc_pipe_result r;
    agc_status st = agc_pipeline_run(&r, p);
    if (st != AGC_OK)
        return st;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    st = agc_pipe_result_report(&r, &b, 6000);
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
    agc_buf_free(&b);
    if (st == AGC_OK) {
        agc_ctx *prev = agc_json_enter(ctx);
        out->structured =
            json_pack("{s:b, s:I}", "passed", r.passed, "diagnostics", (json_int_t)r.n_diags);
        agc_json_leave(prev);
        if (!out->structured)
            st = AGC_ENOMEM;
    }
    agc_pipe_result_clear(&r, ctx);
    return st;
}

static const agc_tool_ops tests_ops = {AGC_TOOL_OPS_VERSION, tests_call, NULL};

agc_status agc_pipeline_tool_new(agc_tool **out, agc_pipeline *p, agc_ctx *ctx)
{
    json_t *schema = NULL;
    static const char text[] = "{\"type\":\"object\",\"properties\":{},"
                               "\"additionalProperties\":false}";
    agc_status st = agc_json_parse(&schema, text, strlen(text), "run_tests", ctx);
    if (st != AGC_OK)
        return st;
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = "run_tests";
    spec.description = "Build the project and run its tests (in the sandbox); returns PASS/FAIL "
                       "per step, file:line diagnostics and failing test names.";
    spec.input_schema = schema;
    spec.effect = AGC_TOOL_EFFECT_EXEC;
    spec.approval = AGC_TOOL_APPROVE_ASK;
    st = agc_tool_new(out, &tests_ops, p, &spec, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    return st;
}
