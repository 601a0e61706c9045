/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The MCP server: lifecycle, initialize (version and capability
 * negotiation), logging/setLevel and notifications/message, and the method
 * table. Tools live in server_tools.c, resources/prompts/completion in
 * server_content.c, requests to the client in server_client.c.
 * Invariant: nothing but initialize and ping is served before initialize.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "server_int.h"

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

void agc_mcp_server_opts_init(agc_mcp_server_opts *opts)
{
    *opts = (agc_mcp_server_opts)AGC_MCP_SERVER_OPTS_INIT;
}

agc_status agc_mcp__srv_oom(agc_mcp_server *s)
{
    return agc_error_set(s->ctx, AGC_ENOMEM, MOD, "out of memory");
}
#define oom       agc_mcp__srv_oom
#define not_ready agc_mcp__srv_not_ready

agc_status agc_mcp__srv_not_ready(agc_mcp_server *s, agc_mcp_request *req)
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
    json_t *caps_out = json_object_get(r, "capabilities");
    bool ok = r != NULL;
    if (ok && (s->reg || s->ntools))
        ok = json_object_set_new(caps_out, "tools", json_pack("{s:b}", "listChanged", 1)) == 0;
    if (ok && s->nres)
        ok = json_object_set_new(caps_out, "resources",
                                 json_pack("{s:b,s:b}", "subscribe", 1, "listChanged", 1)) == 0;
    if (ok && s->nprompts)
        ok = json_object_set_new(caps_out, "prompts", json_pack("{s:b}", "listChanged", 1)) == 0;
    if (ok && (s->nprompts || s->nres || s->complete))
        ok = json_object_set_new(caps_out, "completions", json_object()) == 0;
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

static void n_roots_changed(agc_mcp_session *ss, const json_t *params, void *user)
{
    (void)ss;
    (void)params;
    agc_mcp_server *s = user;
    agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "the client's roots changed");
}

static void n_initialized(agc_mcp_session *ss, const json_t *params, void *user)
{
    (void)ss;
    (void)params;
    agc_mcp_server *s = user;
    agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "client confirmed initialization (%s)", s->proto);
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

/* The method registry. */
static const agc_mcp_method server_methods[] = {
    {"initialize", m_initialize},
    {"tools/list", agc_mcp__m_tools_list},
    {"tools/call", agc_mcp__m_tools_call},
    {"resources/list", agc_mcp__m_resources_list},
    {"resources/templates/list", agc_mcp__m_templates_list},
    {"resources/read", agc_mcp__m_resources_read},
    {"resources/subscribe", agc_mcp__m_subscribe},
    {"resources/unsubscribe", agc_mcp__m_unsubscribe},
    {"prompts/list", agc_mcp__m_prompts_list},
    {"prompts/get", agc_mcp__m_prompts_get},
    {"completion/complete", agc_mcp__m_complete},
    {"logging/setLevel", m_set_level},
    {NULL, NULL},
};

static const agc_mcp_notification server_notes[] = {
    {"notifications/initialized", n_initialized},
    {"notifications/roots/list_changed", n_roots_changed},
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
    so.methods = server_methods;
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
    agc_mcp__stools_free(s);
    agc_mcp__scontent_free(s);
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

agc_mcp_server *agc_mcp_request_server(const agc_mcp_request *req)
{
    agc_mcp_session *ss = agc_mcp_request_session(req);
    return agc_mcp__session_methods(ss) == server_methods ? agc_mcp__session_user(ss) : NULL;
}

json_t *agc_mcp__srv_copy(agc_mcp_server *s, const json_t *v)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *c = json_deep_copy(v);
    agc_json_leave(prev);
    return c;
}

void agc_mcp__srv_list_changed(agc_mcp_server *s, const char *kind)
{
    if (!s->initialized)
        return;
    char method[64];
    snprintf(method, sizeof method, "notifications/%s/list_changed", kind);
    if (agc_mcp_session_notify(s->s, method, NULL) != AGC_OK)
        agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "could not send %s", method);
}

agc_status agc_mcp__srv_cursor(size_t *off, agc_mcp_server *s, const json_t *params, size_t n,
                               const char *method)
{
    *off = 0;
    const json_t *cur = json_object_get(params, "cursor");
    if (!cur)
        return AGC_OK;
    const char *c = json_string_value(cur);
    char *end = NULL;
    unsigned long long v = c ? strtoull(c, &end, 10) : 0;
    if (!c || !*c || *end || v > n)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "%s: invalid cursor (use the nextCursor of the previous page)",
                             method);
    *off = (size_t)v;
    return AGC_OK;
}
