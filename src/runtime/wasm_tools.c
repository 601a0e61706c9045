/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WebAssembly tools for the runtime: an agent-file entry with `wasm:` and a
 * policy becomes an agc_tool whose calls run in the sandbox (jailed worker,
 * pool or in process, per the policy). Invariant: the model sees the tool's
 * output or the specific violation message, never a crash of the host. It
 * does not choose approvals beyond the effect-based default.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "agentc/agent.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/sandbox_worker.h"
#include "agentc/tool.h"
#include "agentc/workspace.h"

#define MOD "runtime"

typedef struct wasm_tool {
    agc_ctx *ctx;
    agc_sandbox_tool *sbx;
} wasm_tool;

static agc_status wt_call(void *self, const json_t *args, agc_tool_result *out,
                          agc_tool_call_ctx *cctx)
{
    wasm_tool *w = self;
    agc_ctx *ctx = cctx && cctx->ctx ? cctx->ctx : w->ctx;
    char *in = NULL;
    if (agc_json_dump(&in, args, JSON_COMPACT, ctx) != AGC_OK)
        return AGC_ENOMEM;
    agc_sandbox_call r;
    agc_status st = agc_sandbox_tool_call(&r, w->sbx, in);
    agc_free(ctx, in);
    if (st == AGC_OK && r.exit_code != 0) {
        /* what the guest said: its stderr, else its stdout ({"error": ...}) */
        const char *why = r.err_len ? r.err : r.output;
        size_t wn = r.err_len ? r.err_len : r.output_len;
        st = agc_tool_result_errorf(out, ctx, "the tool exited with code %d: %.*s", r.exit_code,
                                    (int)(wn > 2000 ? 2000 : wn), why ? why : "");
    } else if (st == AGC_OK)
        st = agc_tool_result_set_output(out, r.output, r.output_len, r.output_len, ctx);
    else if (st != AGC_ENOMEM)
        st = agc_tool_result_errorf(out, ctx, "%s", agc_ctx_errmsg(w->ctx));
    agc_sandbox_call_free(&r);
    return st;
}

static void wt_destroy(void *self)
{
    wasm_tool *w = self;
    if (!w)
        return;
    agc_sandbox_tool_free(w->sbx);
    agc_free(w->ctx, w);
}

static const agc_tool_ops wasm_tool_ops = {AGC_TOOL_OPS_VERSION, wt_call, wt_destroy};

static void resolve(char *buf, size_t n, const char *base_dir, const char *path)
{
    if (path[0] == '/' || !base_dir)
        snprintf(buf, n, "%s", path);
    else
        snprintf(buf, n, "%s/%s", base_dir, path);
}

agc_status agc_wasm_tool_new(agc_tool **out, const json_t *entry, const char *base_dir,
                             const char *where, const agc_wasm_compile_opts *compile,
                             agc_event_bus *events, agc_ctx *ctx)
{
    *out = NULL;
    const char *name = agc_json_str(entry, "name", NULL);
    const char *wasm = agc_json_str(entry, "wasm", NULL);
    if (!name || !wasm)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s%sa wasm tool needs name and wasm",
                             where ? where : "", where ? ": " : "");
    char path[PATH_MAX], ppath[PATH_MAX];
    resolve(path, sizeof path, base_dir, wasm);
    const json_t *pol = json_object_get(entry, "policy");
    agc_sandbox_policy *p = NULL;
    agc_status st;
    if (json_is_string(pol)) {
        resolve(ppath, sizeof ppath, base_dir, json_string_value(pol));
        st = agc_sandbox_policy_load(&p, ppath, ctx);
    } else if (json_is_object(pol)) {
        st = agc_sandbox_policy_from_json(&p, pol, base_dir, where, ctx);
    } else {
        st = agc_sandbox_policy_new(&p, ctx);
    }
    if (st != AGC_OK)
        return st;
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = name;
    spec.description = agc_json_str(entry, "description", "");
    spec.input_schema = json_object_get(entry, "parameters");
    spec.effect = p->allowed_hosts ? AGC_TOOL_EFFECT_NETWORK : AGC_TOOL_EFFECT_READ;
    for (size_t i = 0; i < p->n_paths && spec.effect == AGC_TOOL_EFFECT_READ; i++)
        if (p->paths[i].writable)
            spec.effect = AGC_TOOL_EFFECT_WRITE;
    spec.approval =
        spec.effect == AGC_TOOL_EFFECT_READ ? AGC_TOOL_APPROVE_ALWAYS : AGC_TOOL_APPROVE_ASK;
    spec.output_cap = (size_t)p->max_output_kb * 1024;
    agc_sandbox_tool_opts to = AGC_SANDBOX_TOOL_OPTS_INIT;
    to.name = name;
    to.compile = compile;
    to.events = events;
    wasm_tool *w = agc_calloc(ctx, 1, sizeof *w);
    if (!w) {
        agc_sandbox_policy_free(p, ctx);
        return AGC_ENOMEM;
    }
    w->ctx = ctx;
    st = agc_sandbox_tool_new(&w->sbx, path, p, &to, ctx);
    agc_sandbox_policy_free(p, ctx);
    if (st != AGC_OK) {
        wt_destroy(w);
        return agc_error_wrap(ctx, st, MOD, "%s%swasm tool '%s'", where ? where : "",
                              where ? ": " : "", name);
    }
    return agc_tool_new(out, &wasm_tool_ops, w, &spec, ctx);
}

agc_status agc_agent_def_tool_new(agc_tool **out, const agc_agent_def *def, size_t i,
                                  agc_workspace *ws, agc_event_bus *events, agc_ctx *ctx)
{
    *out = NULL;
    const agc_agent_tool *e = agc_agent_def_tool(def, i);
    if (!e)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s: no tools entry %zu",
                             agc_agent_def_source(def), i);
    if (!e->spec || !json_object_get(e->spec, "wasm"))
        return agc_workspace_tool_new(out, ws, e->name, ctx);
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s: /tools/%zu", agc_agent_def_source(def), i);
    return agc_wasm_tool_new(out, e->spec, agc_agent_def_dir(def), where, NULL, events, ctx);
}
