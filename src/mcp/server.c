/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The MCP server: exposes an agc_tool_registry as MCP tools (tools/list with
 * cursors, tools/call through agc_tool_registry_invoke, so arguments are
 * validated against each tool's schema), answers initialize with version
 * negotiation, ping, logging/setLevel and sends notifications/message.
 * Invariant: nothing but initialize and ping is served before initialize.
 * Not here yet: resources, prompts, completion (their handlers join the
 * method table below) and requests to the client (sampling, roots, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "mcp_int.h"

#define MOD AGC__MCP_MOD

static const char *const log_levels[] = {"debug",    "info",  "notice",    "warning", "error",
                                         "critical", "alert", "emergency", NULL};

int agc_mcp_log_level_index(const char *level)
{
    for (int i = 0; level && log_levels[i]; i++)
        if (strcmp(level, log_levels[i]) == 0)
            return i;
    return -1;
}

struct agc_mcp_server {
    agc_ctx *ctx;
    agc_mcp_session *s;
    agc_tool_registry *reg;
    const char *const *versions;
    char *name, *sversion, *instructions;
    size_t page_size;
    bool initialized;
    char proto[32];
    agc_mcp_caps client_caps;
    int log_min;
};

void agc_mcp_server_opts_init(agc_mcp_server_opts *opts)
{
    *opts = (agc_mcp_server_opts)AGC_MCP_SERVER_OPTS_INIT;
}

static agc_status oom(agc_mcp_server *s)
{
    return agc_error_set(s->ctx, AGC_ENOMEM, MOD, "out of memory");
}

static agc_status not_ready(agc_mcp_server *s, agc_mcp_request *req)
{
    agc_mcp_request_set_error_code(req, AGC_JSONRPC_INVALID_REQUEST);
    return agc_error_set(s->ctx, AGC_EPROTO, MOD, "send 'initialize' before '%s'",
                         agc_mcp_request_method(req));
}

/* ---- initialize ---------------------------------------------------------------------- */

static agc_status m_initialize(json_t **result, agc_mcp_request *req, const json_t *params,
                               void *user)
{
    agc_mcp_server *s = user;
    if (s->initialized) {
        agc_mcp_request_set_error_code(req, AGC_JSONRPC_INVALID_REQUEST);
        return agc_error_set(s->ctx, AGC_EPROTO, MOD, "the session is already initialized");
    }
    const char *pv = agc_json_str(params, "protocolVersion", NULL);
    if (!pv)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "initialize: 'protocolVersion' must be a string");
    const char *chosen = agc_mcp_protocol_version_in(pv, s->versions) ? pv : s->versions[0];
    snprintf(s->proto, sizeof s->proto, "%s", chosen);
    const json_t *caps = json_object_get(params, "capabilities");
    s->client_caps.roots = json_is_object(json_object_get(caps, "roots"));
    s->client_caps.roots_list_changed =
        json_is_true(json_object_get(json_object_get(caps, "roots"), "listChanged"));
    s->client_caps.sampling = json_is_object(json_object_get(caps, "sampling"));
    s->client_caps.elicitation = json_is_object(json_object_get(caps, "elicitation"));
    const json_t *ci = json_object_get(params, "clientInfo");
    agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "client '%s' %s asked for %s; using %s",
            agc_json_str(ci, "name", "?"), agc_json_str(ci, "version", ""), pv, chosen);

    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *r = json_pack("{s:s,s:{s:{}},s:{s:s,s:s}}", "protocolVersion", chosen, "capabilities",
                          "logging", "serverInfo", "name", s->name, "version", s->sversion);
    bool ok = r != NULL;
    if (ok && s->reg)
        ok = json_object_set_new(json_object_get(r, "capabilities"), "tools",
                                 json_pack("{s:b}", "listChanged", 0)) == 0;
    if (ok && s->instructions)
        ok = json_object_set_new(r, "instructions", json_string(s->instructions)) == 0;
    ok = ok && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    if (!ok) {
        json_decref(r);
        return oom(s);
    }
    s->initialized = true;
    *result = r;
    return AGC_OK;
}

static void n_initialized(agc_mcp_session *ss, const json_t *params, void *user)
{
    (void)ss;
    (void)params;
    agc_mcp_server *s = user;
    agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "client confirmed initialization (%s)", s->proto);
}

/* ---- tools ------------------------------------------------------------------------------ */

static agc_status m_tools_list(json_t **result, agc_mcp_request *req, const json_t *params,
                               void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return not_ready(s, req);
    size_t n = agc_tool_registry_count(s->reg), off = 0;
    const json_t *cur = json_object_get(params, "cursor");
    if (cur) {
        const char *c = json_string_value(cur);
        char *end = NULL;
        unsigned long long v = c ? strtoull(c, &end, 10) : 0;
        if (!c || !*c || *end || v > n)
            return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                                 "tools/list: invalid cursor (use the nextCursor of the previous "
                                 "page)");
        off = (size_t)v;
    }
    size_t end = off + s->page_size < n ? off + s->page_size : n;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *tools = json_array();
    json_t *r = json_object();
    bool ok = tools && r && json_object_set(r, "tools", tools) == 0;
    for (size_t i = off; ok && i < end; i++) {
        const agc_tool *t = agc_tool_registry_at(s->reg, i);
        const json_t *schema = agc_tool_input_schema(t);
        json_t *e = json_pack("{s:s,s:s}", "name", agc_tool_name(t), "description",
                              agc_tool_description(t) ? agc_tool_description(t) : "");
        ok = e &&
             (schema ? json_object_set(e, "inputSchema", (json_t *)schema)
                     : json_object_set_new(e, "inputSchema",
                                           json_pack("{s:s}", "type", "object"))) == 0 &&
             json_array_append(tools, e) == 0;
        json_decref(e);
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
        return oom(s);
    }
    *result = r;
    return AGC_OK;
}

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
        return oom(s);
    }
    *out = r;
    return AGC_OK;
}

static agc_status m_tools_call(json_t **result, agc_mcp_request *req, const json_t *params,
                               void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return not_ready(s, req);
    const char *name = agc_json_str(params, "name", NULL);
    if (!name)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "tools/call: 'name' must be a string");
    if (!s->reg || !agc_tool_registry_lookup(s->reg, name))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "tools/call: unknown tool '%s'", name);
    const json_t *args = json_object_get(params, "arguments");
    if (args && !json_is_object(args))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "tools/call: 'arguments' must be an object, got %s",
                             agc_json_type_name(args));
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

agc_mcp_request *agc_mcp_request_from_tool_call(const agc_tool_call_ctx *cctx)
{
    return cctx ? (agc_mcp_request *)cctx->user : NULL;
}

/* ---- logging ------------------------------------------------------------------------------ */

static agc_status m_set_level(json_t **result, agc_mcp_request *req, const json_t *params,
                              void *user)
{
    agc_mcp_server *s = user;
    (void)result;
    if (!s->initialized)
        return not_ready(s, req);
    const char *level = agc_json_str(params, "level", NULL);
    int idx = agc_mcp_log_level_index(level);
    if (idx < 0)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "logging/setLevel: unknown level '%s' (debug, info, notice, "
                             "warning, error, critical, alert, emergency)",
                             level ? level : "(missing)");
    s->log_min = idx;
    return AGC_OK;
}

agc_status agc_mcp_server_log(agc_mcp_server *s, const char *level, const char *logger,
                              const json_t *data)
{
    int idx = agc_mcp_log_level_index(level);
    if (idx < 0)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "unknown MCP log level '%s'",
                             level ? level : "(null)");
    if (idx < s->log_min || !s->initialized)
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *p = json_pack("{s:s,s:O}", "level", level, "data", data ? (json_t *)data : json_null());
    bool ok = p && (!logger || json_object_set_new(p, "logger", json_string(logger)) == 0) &&
              !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    agc_status st = ok ? agc_mcp_session_notify(s->s, "notifications/message", p) : oom(s);
    json_decref(p);
    return st;
}

/* ---- the server --------------------------------------------------------------------------- */

/* The method registry. Later: the resources, prompts and completion methods. */
static const agc_mcp_method server_methods[] = {
    {"initialize", m_initialize},
    {"tools/list", m_tools_list},
    {"tools/call", m_tools_call},
    {"logging/setLevel", m_set_level},
    {NULL, NULL},
};

static const agc_mcp_method server_methods_no_tools[] = {
    {"initialize", m_initialize},
    {"logging/setLevel", m_set_level},
    {NULL, NULL},
};

static const agc_mcp_notification server_notes[] = {
    {"notifications/initialized", n_initialized},
    {NULL, NULL},
};

agc_status agc_mcp_server_new(agc_mcp_server **out, agc_mcp_transport *t, agc_tool_registry *reg,
                              const agc_mcp_server_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_mcp_server_opts o = AGC_MCP_SERVER_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_SERVER_OPTS_VERSION) {
        agc_mcp_transport_free(t);
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_server_opts version %u",
                             o.version);
    }
    if (o.protocol_versions && !o.protocol_versions[0]) {
        agc_mcp_transport_free(t);
        return agc_error_set(ctx, AGC_EINVAL, MOD, "the server's protocol version list is empty");
    }
    agc_mcp_server *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s) {
        agc_mcp_transport_free(t);
        return AGC_ENOMEM;
    }
    s->ctx = ctx;
    s->reg = reg;
    s->versions = o.protocol_versions ? o.protocol_versions : agc_mcp_protocol_versions;
    s->page_size = o.page_size ? o.page_size : 100;
    s->log_min = 1; /* info */
    s->name = agc_strdup(ctx, o.name ? o.name : "agentc");
    s->sversion = agc_strdup(ctx, o.server_version ? o.server_version : agc_version());
    s->instructions = o.instructions ? agc_strdup(ctx, o.instructions) : NULL;
    agc_mcp_session_opts so = AGC_MCP_SESSION_OPTS_INIT;
    so.methods = reg ? server_methods : server_methods_no_tools;
    so.notifications = server_notes;
    so.user = s;
    so.request_timeout_ms = o.timeout_ms;
    so.max_message_bytes = o.max_message_bytes;
    agc_status st = agc_mcp_session_new(&s->s, t, &so, ctx);
    if (st == AGC_OK && (!s->name || !s->sversion || (o.instructions && !s->instructions)))
        st = AGC_ENOMEM;
    if (st != AGC_OK) {
        agc_mcp_server_free(s);
        return st;
    }
    *out = s;
    return AGC_OK;
}

void agc_mcp_server_free(agc_mcp_server *s)
{
    if (!s)
        return;
    agc_mcp_session_free(s->s);
    agc_free(s->ctx, s->name);
    agc_free(s->ctx, s->sversion);
    agc_free(s->ctx, s->instructions);
    agc_free(s->ctx, s);
}

agc_status agc_mcp_server_run(agc_mcp_server *s)
{
    return agc_mcp_session_serve(s->s);
}

const char *agc_mcp_server_protocol_version(const agc_mcp_server *s)
{
    return s->initialized ? s->proto : NULL;
}
const agc_mcp_caps *agc_mcp_server_client_caps(const agc_mcp_server *s)
{
    return &s->client_caps;
}
agc_mcp_session *agc_mcp_server_session(const agc_mcp_server *s)
{
    return s->s;
}
