/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tool objects, results and the registry. Invariant: a tool's ops->call only
 * ever sees arguments that are a JSON object valid against the tool's
 * compiled schema, and everything the model could fix comes back as an error
 * result, not a failing status. Approval policy and event emission are the
 * runtime's job, not done here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/schema.h"
#include "agentc/tool.h"

#define MOD "tools"

struct agc_tool {
    agc_ctx *ctx;
    const agc_tool_ops *ops;
    void *self;
    char *name;
    char *description;
    json_t *schema_json;
    agc_schema *schema;
    agc_tool_effect effect;
    agc_tool_approval approval;
    int64_t timeout_ms;
    size_t output_cap;
};

struct agc_tool_registry {
    agc_ctx *ctx;
    agc_tool **tools;
    size_t n, cap;
};

const char *agc_tool_effect_name(agc_tool_effect e)
{
    switch (e) {
    case AGC_TOOL_EFFECT_READ:
        return "read";
    case AGC_TOOL_EFFECT_WRITE:
        return "write";
    case AGC_TOOL_EFFECT_EXEC:
        return "exec";
    case AGC_TOOL_EFFECT_NETWORK:
        return "network";
    }
    return "unknown";
}

const char *agc_tool_approval_name(agc_tool_approval a)
{
    switch (a) {
    case AGC_TOOL_APPROVE_ALWAYS:
        return "always";
    case AGC_TOOL_APPROVE_ASK:
        return "ask";
    case AGC_TOOL_APPROVE_NEVER:
        return "never";
    }
    return "unknown";
}

/* ---- results ------------------------------------------------------------------ */

void agc_tool_result_init(agc_tool_result *r)
{
    memset(r, 0, sizeof *r);
}

void agc_tool_result_clear(agc_tool_result *r, agc_ctx *ctx)
{
    if (!r)
        return;
    agc_free(ctx, r->output);
    if (r->structured) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(r->structured);
        agc_json_leave(prev);
    }
    agc_tool_result_init(r);
}

agc_status agc_tool_result_set_output(agc_tool_result *r, const char *text, size_t len,
                                      size_t total_len, agc_ctx *ctx)
{
    char *copy = agc_strndup(ctx, text ? text : "", text ? len : 0);
    if (!copy)
        return AGC_ENOMEM;
    agc_free(ctx, r->output);
    r->output = copy;
    r->output_len = text ? len : 0;
    r->total_len = total_len > r->output_len ? total_len : r->output_len;
    r->truncated = false;
    return AGC_OK;
}

agc_status agc_tool_result_errorf(agc_tool_result *r, agc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = agc_vsprintf(ctx, fmt, ap);
    va_end(ap);
    if (!msg)
        return AGC_ENOMEM;
    agc_free(ctx, r->output);
    r->output = msg;
    r->output_len = strlen(msg);
    r->total_len = r->output_len;
    r->truncated = false;
    r->is_error = true;
    return AGC_OK;
}

/* Cuts r->output to cap bytes (on a UTF-8 boundary) and appends the notice. */
static agc_status cap_output(agc_tool_result *r, size_t cap, agc_ctx *ctx)
{
    size_t total = r->total_len > r->output_len ? r->total_len : r->output_len;
    size_t shown = r->output_len;
    if (shown > cap) {
        shown = cap;
        while (shown > 0 && ((unsigned char)r->output[shown] & 0xC0) == 0x80)
            shown--;
    }
    if (shown == total) {
        r->total_len = total;
        return AGC_OK;
    }
    char *s = agc_sprintf(ctx, "%.*s%s[output truncated: %zu of %zu bytes shown]", (int)shown,
                          r->output ? r->output : "",
                          shown > 0 && r->output[shown - 1] != '\n' ? "\n" : "", shown, total);
    if (!s)
        return AGC_ENOMEM;
    agc_free(ctx, r->output);
    r->output = s;
    r->output_len = strlen(s);
    r->total_len = total;
    r->truncated = true;
    return AGC_OK;
}

agc_status agc_tool_call_check(const agc_tool_call_ctx *cctx)
{
    if (!cctx)
        return AGC_OK;
    if (cctx->cancel && atomic_load(cctx->cancel))
        return agc_error_set(cctx->ctx, AGC_ECANCELED, MOD, "the tool call was canceled");
    if (cctx->deadline_ns > 0 && agc_clock_monotonic_ns(cctx->ctx) >= cctx->deadline_ns)
        return agc_error_set(cctx->ctx, AGC_ETIMEDOUT, MOD, "the tool call timed out");
    return AGC_OK;
}

/* ---- tools -------------------------------------------------------------------- */

bool agc_tool_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok || n >= 64)
            return false;
    }
    return n > 0;
}

void agc_tool_free(agc_tool *tool)
{
    if (!tool)
        return;
    agc_ctx *ctx = tool->ctx;
    if (tool->ops && tool->ops->destroy)
        tool->ops->destroy(tool->self);
    agc_schema_free(tool->schema, ctx);
    if (tool->schema_json) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(tool->schema_json);
        agc_json_leave(prev);
    }
    agc_free(ctx, tool->name);
    agc_free(ctx, tool->description);
    agc_free(ctx, tool);
}

agc_status agc_tool_new(agc_tool **out, const agc_tool_ops *ops, void *self,
                        const agc_tool_spec *spec, agc_ctx *ctx)
{
    *out = NULL;
    agc_status st;
    if (!ops || ops->version != AGC_TOOL_OPS_VERSION || !ops->call) {
        st = agc_error_set(ctx, AGC_EINVAL, MOD, "tool ops: unknown version %u or no call method",
                           ops ? ops->version : 0);
        goto fail_self;
    }
    if (!spec || spec->version != AGC_TOOL_SPEC_VERSION) {
        st = agc_error_set(ctx, AGC_EINVAL, MOD,
                           "tool spec: unknown version %u; use AGC_TOOL_SPEC_INIT",
                           spec ? spec->version : 0);
        goto fail_self;
    }
    if (!agc_tool_name_valid(spec->name)) {
        st = agc_error_set(ctx, AGC_EINVAL, MOD,
                           "tool name '%s' is invalid; use 1-64 characters of [a-zA-Z0-9_.-]",
                           spec->name ? spec->name : "(null)");
        goto fail_self;
    }
    agc_tool *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t) {
        st = AGC_ENOMEM;
        goto fail_self;
    }
    t->ctx = ctx;
    t->ops = ops;
    t->self = self;
    t->effect = spec->effect;
    t->approval = spec->approval;
    t->timeout_ms = spec->timeout_ms;
    t->output_cap = spec->output_cap ? spec->output_cap : AGC_TOOL_DEFAULT_OUTPUT_CAP;
    t->name = agc_strdup(ctx, spec->name);
    t->description = agc_strdup(ctx, spec->description ? spec->description : "");
    if (!t->name || !t->description) {
        agc_tool_free(t);
        return AGC_ENOMEM;
    }
    if (spec->input_schema) {
        t->schema_json = json_incref((json_t *)spec->input_schema);
    } else {
        static const char dflt[] = "{\"type\":\"object\"}";
        st = agc_json_parse(&t->schema_json, dflt, sizeof dflt - 1, "default schema", ctx);
        if (st != AGC_OK) {
            agc_tool_free(t);
            return st;
        }
    }
    st = agc_schema_compile(&t->schema, t->schema_json, NULL, ctx);
    if (st != AGC_OK) {
        if (st != AGC_ENOMEM)
            st = agc_error_wrap(ctx, AGC_EINVAL, MOD, "tool '%s': input schema does not compile",
                                spec->name);
        agc_tool_free(t);
        return st;
    }
    *out = t;
    return AGC_OK;

fail_self:
    if (ops && ops->destroy)
        ops->destroy(self);
    return st;
}

const char *agc_tool_name(const agc_tool *tool)
{
    return tool->name;
}
const char *agc_tool_description(const agc_tool *tool)
{
    return tool->description;
}
const json_t *agc_tool_input_schema(const agc_tool *tool)
{
    return tool->schema_json;
}
agc_tool_effect agc_tool_get_effect(const agc_tool *tool)
{
    return tool->effect;
}
agc_tool_approval agc_tool_get_approval(const agc_tool *tool)
{
    return tool->approval;
}
int64_t agc_tool_timeout_ms(const agc_tool *tool)
{
    return tool->timeout_ms;
}
size_t agc_tool_output_cap(const agc_tool *tool)
{
    return tool->output_cap;
}

/* Builds "invalid arguments: /a: must be string; must have required property 'b'". */
static agc_status validation_result(agc_tool_result *out, const agc_schema_result *res,
                                    agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 8192);
    agc_status st = agc_buf_puts(&b, "invalid arguments: ");
    size_t shown = 0;
    for (size_t i = 0; st == AGC_OK && res && i < res->count && shown < 8; i++) {
        const agc_schema_error *e = &res->errors[i];
        if (shown)
            st = agc_buf_puts(&b, "; ");
        if (st == AGC_OK && e->instance_path && e->instance_path[0])
            st = agc_buf_printf(&b, "%s: ", e->instance_path);
        if (st == AGC_OK)
            st = agc_buf_puts(&b, e->message ? e->message : "invalid");
        shown++;
    }
    if (st == AGC_OK && (!res || res->count == 0))
        st = agc_buf_puts(&b, agc_ctx_errmsg(ctx));
    if (st == AGC_OK && res && (res->count > shown || res->truncated))
        st = agc_buf_puts(&b, "; ...");
    if (st == AGC_ELIMIT)
        st = AGC_OK; /* keep what fits */
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
    agc_buf_free(&b);
    if (st == AGC_OK)
        out->is_error = true;
    return st == AGC_OK ? AGC_OK : AGC_ENOMEM;
}

agc_status agc_tool_invoke(agc_tool_result *out, agc_tool *tool, const json_t *args,
                           agc_tool_call_ctx *cctx)
{
    agc_tool_call_ctx local = AGC_TOOL_CALL_CTX_INIT;
    if (cctx)
        local = *cctx;
    if (!local.ctx)
        local.ctx = tool->ctx;
    agc_ctx *ctx = local.ctx;

    if (!json_is_object(args))
        return agc_tool_result_errorf(out, ctx,
                                      "invalid arguments: %s expects a JSON object, got %s",
                                      tool->name, agc_json_type_name(args));

    agc_schema_result *res = NULL;
    agc_status st = agc_schema_validate(&res, tool->schema, args, ctx);
    if (st == AGC_ESCHEMA) {
        st = validation_result(out, res, ctx);
        agc_schema_result_free(res, ctx);
        return st;
    }
    agc_schema_result_free(res, ctx);
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK)
        return agc_tool_result_errorf(out, ctx, "invalid arguments: %s", agc_ctx_errmsg(ctx));

    if (tool->timeout_ms > 0) {
        int64_t dl = agc_clock_monotonic_ns(ctx) + tool->timeout_ms * 1000000;
        if (local.deadline_ns <= 0 || dl < local.deadline_ns)
            local.deadline_ns = dl;
    }
    local.output_cap = tool->output_cap;
    st = agc_tool_call_check(&local);
    if (st == AGC_OK)
        st = tool->ops->call(tool->self, args, out, &local);
    if (st == AGC_ENOMEM)
        return st;
    if (st == AGC_ECANCELED) {
        agc_status est = agc_tool_result_errorf(out, ctx, "%s: canceled", tool->name);
        return est == AGC_OK ? AGC_ECANCELED : est;
    }
    if (st != AGC_OK) {
        st = agc_tool_result_errorf(out, ctx, "%s", agc_ctx_errmsg(ctx));
        if (st != AGC_OK)
            return st;
    }
    return cap_output(out, tool->output_cap, ctx);
}

/* ---- registry ------------------------------------------------------------------ */

agc_status agc_tool_registry_new(agc_tool_registry **out, agc_ctx *ctx)
{
    *out = agc_calloc(ctx, 1, sizeof **out);
    if (!*out)
        return AGC_ENOMEM;
    (*out)->ctx = ctx;
    return AGC_OK;
}

void agc_tool_registry_free(agc_tool_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++)
        agc_tool_free(reg->tools[i]);
    agc_free(reg->ctx, reg->tools);
    agc_free(reg->ctx, reg);
}

agc_tool *agc_tool_registry_lookup(const agc_tool_registry *reg, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->tools[i]->name, name) == 0)
            return reg->tools[i];
    return NULL;
}

agc_status agc_tool_registry_add(agc_tool_registry *reg, agc_tool *tool)
{
    if (!tool)
        return agc_error_set(reg->ctx, AGC_EINVAL, MOD, "no tool given");
    if (agc_tool_registry_lookup(reg, tool->name)) {
        agc_status st =
            agc_error_set(reg->ctx, AGC_EEXISTS, MOD,
                          "a tool named '%s' is already registered; names are unique", tool->name);
        agc_tool_free(tool);
        return st;
    }
    if (reg->n == reg->cap) {
        size_t ncap = reg->cap ? reg->cap * 2 : 16;
        agc_tool **nt = agc_realloc(reg->ctx, reg->tools, ncap * sizeof *nt);
        if (!nt) {
            agc_tool_free(tool);
            return AGC_ENOMEM;
        }
        reg->tools = nt;
        reg->cap = ncap;
    }
    reg->tools[reg->n++] = tool;
    return AGC_OK;
}

size_t agc_tool_registry_count(const agc_tool_registry *reg)
{
    return reg->n;
}

agc_tool *agc_tool_registry_at(const agc_tool_registry *reg, size_t i)
{
    return i < reg->n ? reg->tools[i] : NULL;
}

static agc_status unknown_tool(agc_tool_result *out, const agc_tool_registry *reg, const char *name,
                               agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 16384);
    agc_status st =
        agc_buf_printf(&b, "unknown tool '%.100s'; available tools: ", name ? name : "");
    for (size_t i = 0; st == AGC_OK && i < reg->n; i++)
        st = agc_buf_printf(&b, "%s%s", i ? ", " : "", reg->tools[i]->name);
    if (st == AGC_OK && reg->n == 0)
        st = agc_buf_puts(&b, "(none)");
    if (st == AGC_ELIMIT)
        st = AGC_OK;
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
    agc_buf_free(&b);
    if (st != AGC_OK)
        return AGC_ENOMEM;
    out->is_error = true;
    return AGC_OK;
}

agc_status agc_tool_registry_invoke(agc_tool_result *out, agc_tool_registry *reg, const char *name,
                                    const char *args_json, agc_tool_call_ctx *cctx)
{
    agc_ctx *ctx = cctx && cctx->ctx ? cctx->ctx : reg->ctx;
    agc_tool *tool = agc_tool_registry_lookup(reg, name);
    if (!tool)
        return unknown_tool(out, reg, name, ctx);
    const char *text = args_json && args_json[0] ? args_json : "{}";
    json_t *args = NULL;
    agc_status st = agc_json_parse(&args, text, strlen(text), "arguments", ctx);
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK)
        return agc_tool_result_errorf(out, ctx, "invalid arguments: not valid JSON: %s",
                                      agc_ctx_errmsg(ctx));
    st = agc_tool_invoke(out, tool, args, cctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(args);
    agc_json_leave(prev);
    return st;
}
