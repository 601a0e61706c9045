/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP server tools: tools/list over the server's own tools (full MCP
 * results: any content type, structuredContent checked against an
 * outputSchema, annotations, titles) followed by the registry's tools, with
 * numeric cursors; tools/call with arguments validated against inputSchema.
 * Invariant: a tool failure is an isError result, never a protocol error;
 * an unknown tool is -32602.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "server_int.h"

#define MOD AGC__MCP_MOD

static void stool_clear(agc_mcp_server *s, agc_mcp__stool *t)
{
    agc_free(s->ctx, t->name);
    json_decref(t->def);
    agc_schema_free(t->in, s->ctx);
    agc_schema_free(t->out, s->ctx);
    memset(t, 0, sizeof *t);
}

void agc_mcp__stools_free(agc_mcp_server *s)
{
    for (size_t i = 0; i < s->ntools; i++)
        stool_clear(s, &s->tools[i]);
    agc_free(s->ctx, s->tools);
    s->tools = NULL;
    s->ntools = s->ctools = 0;
}

static agc_mcp__stool *find_tool(agc_mcp_server *s, const char *name)
{
    for (size_t i = 0; i < s->ntools; i++)
        if (strcmp(s->tools[i].name, name) == 0)
            return &s->tools[i];
    return NULL;
}

agc_status agc_mcp_server_add_tool(agc_mcp_server *s, const agc_mcp_server_tool *t)
{
    if (!t || !t->name || !*t->name || !t->fn)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "a server tool needs a name and a function");
    agc_mcp__stool n = {.fn = t->fn, .user = t->user};
    agc_status st = AGC_OK;
    if (t->input_schema)
        st = agc_schema_compile(&n.in, t->input_schema, NULL, s->ctx);
    if (st == AGC_OK && t->output_schema)
        st = agc_schema_compile(&n.out, t->output_schema, NULL, s->ctx);
    if (st != AGC_OK) {
        stool_clear(s, &n);
        return agc_error_wrap(s->ctx, AGC_EINVAL, MOD, "tool '%s': invalid schema", t->name);
    }
    agc_ctx *prev = agc_json_enter(s->ctx);
    n.def = json_pack("{s:s,s:s}", "name", t->name, "description",
                      t->description ? t->description : "");
    bool ok =
        n.def && (!t->title || json_object_set_new(n.def, "title", json_string(t->title)) == 0) &&
        json_object_set_new(n.def, "inputSchema",
                            t->input_schema
                                ? json_deep_copy(t->input_schema)
                                : json_pack("{s:s,s:{}}", "type", "object", "properties")) == 0 &&
        (!t->output_schema ||
         json_object_set_new(n.def, "outputSchema", json_deep_copy(t->output_schema)) == 0) &&
        (!t->annotations ||
         json_object_set_new(n.def, "annotations", json_deep_copy(t->annotations)) == 0) &&
        !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    n.name = agc_strdup(s->ctx, t->name);
    if (!ok || !n.name) {
        stool_clear(s, &n);
        return agc_mcp__srv_oom(s);
    }
    agc_mcp__stool *old = find_tool(s, t->name);
    if (old) {
        stool_clear(s, old);
        *old = n;
    } else {
        if (s->ntools == s->ctools) {
            size_t cap = s->ctools ? s->ctools * 2 : 8;
            agc_mcp__stool *grown = agc_realloc(s->ctx, s->tools, cap * sizeof *grown);
            if (!grown) {
                stool_clear(s, &n);
                return agc_mcp__srv_oom(s);
            }
            s->tools = grown;
            s->ctools = cap;
        }
        s->tools[s->ntools++] = n;
    }
    agc_mcp__srv_list_changed(s, "tools");
    return AGC_OK;
}

agc_status agc_mcp_server_remove_tool(agc_mcp_server *s, const char *name)
{
    agc_mcp__stool *t = name ? find_tool(s, name) : NULL;
    if (!t)
        return agc_error_set(s->ctx, AGC_ENOTFOUND, MOD, "no server tool named '%s'",
                             name ? name : "(null)");
    stool_clear(s, t);
    size_t i = (size_t)(t - s->tools);
    memmove(&s->tools[i], &s->tools[i + 1], (s->ntools - i - 1) * sizeof *t);
    s->ntools--;
    agc_mcp__srv_list_changed(s, "tools");
    return AGC_OK;
}

/* ---- tools/list ---------------------------------------------------------------------- */

static json_t *registry_entry(const agc_tool *t)
{
    const json_t *schema = agc_tool_input_schema(t);
    json_t *e = json_pack("{s:s,s:s}", "name", agc_tool_name(t), "description",
                          agc_tool_description(t) ? agc_tool_description(t) : "");
    if (e && (schema ? json_object_set(e, "inputSchema", (json_t *)schema)
                     : json_object_set_new(e, "inputSchema",
                                           json_pack("{s:s}", "type", "object"))) != 0) {
        json_decref(e);
        e = NULL;
    }
    return e;
}

agc_status agc_mcp__m_tools_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                 void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    size_t nreg = s->reg ? agc_tool_registry_count(s->reg) : 0, n = s->ntools + nreg, off = 0;
    agc_status st = agc_mcp__srv_cursor(&off, s, params, n, "tools/list");
    if (st != AGC_OK)
        return st;
    size_t end = off + s->page_size < n ? off + s->page_size : n;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *tools = json_array();
    json_t *r = json_object();
    bool ok = tools && r && json_object_set(r, "tools", tools) == 0;
    for (size_t i = off; ok && i < end; i++) {
        if (i < s->ntools)
            ok = json_array_append(tools, s->tools[i].def) == 0;
        else {
            json_t *e = registry_entry(agc_tool_registry_at(s->reg, i - s->ntools));
            ok = e && json_array_append_new(tools, e) == 0;
        }
    }
    if (ok && end < n) {
        char next[32];
        snprintf(next, sizeof next, "%zu", end);
        ok = json_object_set_new(r, "nextCursor", json_string(next)) == 0;
    }
    ok = ok && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    json_decref(tools);
    if (!ok) {
        json_decref(r);
        return agc_mcp__srv_oom(s);
    }
    *result = r;
    return AGC_OK;
}

/* ---- tools/call ------------------------------------------------------------------------ */

/* A JSON string of text; bytes that are not UTF-8 become '?'. */
static json_t *text_value(const char *text, size_t len, agc_ctx *ctx)
{
    json_t *v = json_stringn(text, len);
    if (v || agc_json_oom(ctx))
        return v;
    char *copy = agc_malloc(ctx, len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)text[i] < 0x80 && text[i] != '\0' ? text[i] : '?';
    v = json_stringn(copy, len);
    agc_free(ctx, copy);
    return v;
}

static agc_status tool_result_json(json_t **out, agc_mcp_server *s, const agc_tool_result *tr)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *r = json_object();
    json_t *content = json_array();
    json_t *blk = json_object();
    bool ok = r && content && blk && json_object_set_new(blk, "type", json_string("text")) == 0 &&
              json_object_set_new(blk, "text",
                                  text_value(tr->output ? tr->output : "",
                                             tr->output ? tr->output_len : 0, s->ctx)) == 0 &&
              json_array_append(content, blk) == 0 && json_object_set(r, "content", content) == 0 &&
              json_object_set_new(r, "isError", json_boolean(tr->is_error)) == 0;
    if (ok && json_is_object(tr->structured))
        ok = json_object_set(r, "structuredContent", tr->structured) == 0;
    ok = ok && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    json_decref(blk);
    json_decref(content);
    if (!ok) {
        json_decref(r);
        return agc_mcp__srv_oom(s);
    }
    *out = r;
    return AGC_OK;
}

/* {"content":[{"type":"text","text":msg}],"isError":true} */
static agc_status error_result(json_t **out, agc_mcp_server *s, const char *msg)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *r = json_pack("{s:[{s:s,s:o}],s:b}", "content", "type", "text", "text",
                          text_value(msg, strlen(msg), s->ctx), "isError", 1);
    bool ok = r && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    if (!ok) {
        json_decref(r);
        return agc_mcp__srv_oom(s);
    }
    *out = r;
    return AGC_OK;
}

/* Completes a handler's result: content present, structuredContent checked. */
static agc_status finish_result(json_t **out, agc_mcp_server *s, agc_mcp__stool *t, json_t *r)
{
    if (!json_is_object(r)) {
        json_decref(r);
        return error_result(out, s, "the tool returned no result object");
    }
    const json_t *sc = json_object_get(r, "structuredContent");
    bool is_error = json_is_true(json_object_get(r, "isError"));
    if (t->out && !is_error) {
        char why[512] = "the tool returned no structuredContent but declares an outputSchema";
        agc_status st = sc ? agc_schema_validate(NULL, t->out, sc, s->ctx) : AGC_ESCHEMA;
        if (st != AGC_OK) {
            if (sc)
                snprintf(why, sizeof why, "structuredContent does not match the outputSchema: %s",
                         agc_ctx_errmsg(s->ctx));
            json_decref(r);
            return error_result(out, s, why);
        }
    }
    if (!json_is_array(json_object_get(r, "content"))) {
        char *text = NULL;
        if (sc && agc_json_dump(&text, sc, JSON_COMPACT, s->ctx) != AGC_OK) {
            json_decref(r);
            return agc_mcp__srv_oom(s);
        }
        agc_ctx *prev = agc_json_enter(s->ctx);
        json_t *c = text ? json_pack("[{s:s,s:s}]", "type", "text", "text", text) : json_array();
        bool ok = c && json_object_set_new(r, "content", c) == 0 && !agc_json_oom(s->ctx);
        agc_json_leave(prev);
        agc_free(s->ctx, text);
        if (!ok) {
            json_decref(r);
            return agc_mcp__srv_oom(s);
        }
    }
    *out = r;
    return AGC_OK;
}

static agc_status call_server_tool(json_t **result, agc_mcp_server *s, agc_mcp__stool *t,
                                   agc_mcp_request *req, const json_t *args)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *empty = args ? NULL : json_object();
    agc_json_leave(prev);
    if (!args && !empty)
        return agc_mcp__srv_oom(s);
    const json_t *a = args ? args : empty;
    agc_status st = AGC_OK;
    if (t->in) {
        st = agc_schema_validate(NULL, t->in, a, s->ctx);
        if (st == AGC_ESCHEMA) {
            char why[600];
            snprintf(why, sizeof why, "invalid arguments: %s", agc_ctx_errmsg(s->ctx));
            json_decref(empty);
            return error_result(result, s, why);
        }
    }
    json_t *r = NULL;
    if (st == AGC_OK) {
        agc_error_clear(s->ctx);
        st = t->fn(&r, req, a, t->user);
    }
    json_decref(empty);
    if (st == AGC_ENOMEM) {
        json_decref(r);
        return st;
    }
    if (st != AGC_OK) {
        json_decref(r);
        char why[800];
        agc_error_format(s->ctx, why, sizeof why);
        return error_result(result, s, why[0] ? why : agc_strerror(st));
    }
    return finish_result(result, s, t, r);
}

agc_status agc_mcp__m_tools_call(json_t **result, agc_mcp_request *req, const json_t *params,
                                 void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    const char *name = agc_json_str(params, "name", NULL);
    if (!name)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "tools/call: 'name' must be a string");
    const json_t *args = json_object_get(params, "arguments");
    if (args && json_is_null(args))
        args = NULL;
    if (args && !json_is_object(args))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "tools/call: 'arguments' must be an object, got %s",
                             agc_json_type_name(args));
    agc_mcp__stool *t = find_tool(s, name);
    if (t)
        return call_server_tool(result, s, t, req, args);
    if (!s->reg || !agc_tool_registry_lookup(s->reg, name))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "tools/call: unknown tool '%s'", name);
    char *text = NULL;
    if (args && agc_json_dump(&text, args, JSON_COMPACT, s->ctx) != AGC_OK)
        return AGC_ENOMEM;
    agc_tool_call_ctx cctx = AGC_TOOL_CALL_CTX_INIT;
    cctx.ctx = s->ctx;
    cctx.cancel = agc_mcp_request_cancel_flag(req);
    cctx.user = req;
    agc_tool_result tr;
    agc_tool_result_init(&tr);
    agc_status st = agc_tool_registry_invoke(&tr, s->reg, name, text, &cctx);
    agc_free(s->ctx, text);
    if (st == AGC_OK)
        st = tool_result_json(result, s, &tr);
    else if (st == AGC_ECANCELED)
        st = agc_error_set(s->ctx, AGC_ECANCELED, MOD, "tool '%s' was canceled", name);
    agc_tool_result_clear(&tr, s->ctx);
    return st;
}
