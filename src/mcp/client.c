/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The MCP client: initialize handshake with version negotiation and our
 * capabilities (only for the handlers the caller gave), the server's
 * capabilities (never calls what the server did not offer), tools/list with
 * cursors, tools/call, ping, logging, the server's notifications and its
 * requests to us (sampling, elicitation, roots). Invariant: no request but
 * initialize/ping goes out before a successful handshake. Resources,
 * prompts, completion and the tools cache are in client_features.c.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "agentc/schema.h"
#include "client_int.h"

#define MOD AGC__MCP_MOD

void agc_mcp_client_opts_init(agc_mcp_client_opts *opts)
{
    *opts = (agc_mcp_client_opts)AGC_MCP_CLIENT_OPTS_INIT;
}

/* ---- notifications from the server -------------------------------------------------- */

static void on_message(agc_mcp_session *s, const json_t *params, void *user)
{
    agc_mcp_client *c = user;
    const char *level = agc_json_str(params, "level", "info");
    const char *logger = agc_json_str(params, "logger", NULL);
    const json_t *data = json_object_get(params, "data");
    if (c->on_log) {
        c->on_log(level, logger, data, c->log_user);
        return;
    }
    int idx = agc_mcp_log_level_index(level);
    agc_log_level lv = idx <= 0   ? AGC_LOG_DEBUG
                       : idx <= 2 ? AGC_LOG_INFO
                       : idx == 3 ? AGC_LOG_WARN
                                  : AGC_LOG_ERROR;
    if (!agc_log_enabled(agc_mcp_session_ctx(s), lv))
        return;
    char *text = NULL;
    if (json_is_string(data))
        agc_log(c->ctx, lv, MOD, "server '%s'%s%s: %s", c->srv_name ? c->srv_name : "?",
                logger ? " " : "", logger ? logger : "", json_string_value(data));
    else if (data && agc_json_dump(&text, data, JSON_COMPACT, c->ctx) == AGC_OK)
        agc_log(c->ctx, lv, MOD, "server '%s'%s%s: %s", c->srv_name ? c->srv_name : "?",
                logger ? " " : "", logger ? logger : "", text);
    agc_free(c->ctx, text);
}

static void on_other_note(agc_mcp_session *s, const json_t *params, void *user, const char *m)
{
    (void)s;
    agc_mcp_client *c = user;
    if (c->on_notify)
        c->on_notify(c, m, params, c->notify_user);
}

static void on_tools_changed(agc_mcp_session *s, const json_t *params, void *user)
{
    agc_mcp_client *c = user;
    c->tools_changed = true;
    on_other_note(s, params, user, "notifications/tools/list_changed");
}

#define NOTE_FN(fname, method)                                                                     \
    static void fname(agc_mcp_session *s, const json_t *params, void *user)                        \
    {                                                                                              \
        on_other_note(s, params, user, method);                                                    \
    }
NOTE_FN(on_res_changed, "notifications/resources/list_changed")
NOTE_FN(on_res_updated, "notifications/resources/updated")
NOTE_FN(on_prompts_changed, "notifications/prompts/list_changed")
NOTE_FN(on_elicit_done, "notifications/elicitation/complete")

static const agc_mcp_notification client_notes[] = {
    {"notifications/message", on_message},
    {"notifications/tools/list_changed", on_tools_changed},
    {"notifications/resources/list_changed", on_res_changed},
    {"notifications/resources/updated", on_res_updated},
    {"notifications/prompts/list_changed", on_prompts_changed},
    {"notifications/elicitation/complete", on_elicit_done},
    {NULL, NULL},
};

/* ---- requests from the server ------------------------------------------------------------ */

static agc_status refuse(agc_mcp_request *req, agc_mcp_client *c, const char *what)
{
    agc_mcp_request_set_error_code(req, AGC_JSONRPC_METHOD_NOT_FOUND);
    return agc_error_set(c->ctx, AGC_EUNSUPPORTED, MOD,
                         "this client does not support %s (no handler configured)", what);
}

static agc_status run_handler(json_t **result_out, agc_mcp_request *req, agc_mcp_client *c,
                              agc_mcp_client_request_fn fn, void *user, const json_t *params,
                              const char *what)
{
    if (!fn)
        return refuse(req, c, what);
    json_t *res = NULL;
    agc_status st = fn(&res, c, params, user);
    if (st == AGC_OK && !json_is_object(res)) {
        json_decref(res);
        agc_mcp_request_set_error_code(req, AGC_JSONRPC_INTERNAL_ERROR);
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "the %s handler returned no result object",
                             what);
    }
    if (st == AGC_EPERM)
        agc_mcp_request_set_error_code(req, -1); /* the user rejected it */
    else if (st != AGC_OK && st != AGC_EINVAL && st != AGC_ESCHEMA)
        agc_mcp_request_set_error_code(req, AGC_JSONRPC_INTERNAL_ERROR);
    if (st != AGC_OK) {
        json_decref(res);
        if (!agc_ctx_errmsg(c->ctx)[0])
            agc_error_set(c->ctx, st, MOD, "%s failed: %s", what, agc_strerror(st));
        return st;
    }
    *result_out = res;
    return AGC_OK;
}

static agc_status m_sampling(json_t **result_out, agc_mcp_request *req, const json_t *params,
                             void *user)
{
    agc_mcp_client *c = user;
    if (c->on_sampling && !json_is_array(json_object_get(params, "messages")))
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "sampling/createMessage: 'messages' must be an array");
    return run_handler(result_out, req, c, c->on_sampling, c->sampling_user, params,
                       "sampling/createMessage");
}

static agc_status m_elicit(json_t **result_out, agc_mcp_request *req, const json_t *params,
                           void *user)
{
    agc_mcp_client *c = user;
    const char *mode = agc_json_str(params, "mode", "form");
    if (c->on_elicitation && strcmp(mode, "form") != 0) {
        agc_mcp_request_set_error_code(req, AGC_JSONRPC_INVALID_PARAMS);
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "elicitation mode '%.40s' is not supported by this client (form only)",
                             mode);
    }
    return run_handler(result_out, req, c, c->on_elicitation, c->elicitation_user, params,
                       "elicitation/create");
}

static agc_status m_roots(json_t **result_out, agc_mcp_request *req, const json_t *params,
                          void *user)
{
    (void)params;
    agc_mcp_client *c = user;
    if (!c->roots)
        return refuse(req, c, "roots");
    agc_ctx *prev = agc_json_enter(c->ctx);
    *result_out = json_pack("{s:O}", "roots", c->roots);
    agc_json_leave(prev);
    return *result_out ? AGC_OK : agc_error_set(c->ctx, AGC_ENOMEM, MOD, "out of memory");
}

/* Requests the server may send us (ping is built into the session). */
static const agc_mcp_method client_methods[] = {
    {"sampling/createMessage", m_sampling},
    {"elicitation/create", m_elicit},
    {"roots/list", m_roots},
    {NULL, NULL},
};

/* ---- lifecycle ------------------------------------------------------------------------ */

agc_status agc_mcp_client_new(agc_mcp_client **out, agc_mcp_transport *t,
                              const agc_mcp_client_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_mcp_client_opts o = AGC_MCP_CLIENT_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_CLIENT_OPTS_VERSION) {
        agc_mcp_transport_free(t);
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_client_opts version %u",
                             o.version);
    }
    if (o.protocol_versions && !o.protocol_versions[0]) {
        agc_mcp_transport_free(t);
        return agc_error_set(ctx, AGC_EINVAL, MOD, "the client's protocol version list is empty");
    }
    agc_mcp_client *c = agc_calloc(ctx, 1, sizeof *c);
    if (!c) {
        agc_mcp_transport_free(t);
        return AGC_ENOMEM;
    }
    c->ctx = ctx;
    c->versions = o.protocol_versions ? o.protocol_versions : agc_mcp_protocol_versions;
    c->on_log = o.on_log;
    c->log_user = o.log_user;
    c->on_sampling = o.on_sampling;
    c->sampling_user = o.sampling_user;
    c->on_elicitation = o.on_elicitation;
    c->elicitation_user = o.elicitation_user;
    c->on_notify = o.on_notify;
    c->notify_user = o.notify_user;
    c->name = agc_strdup(ctx, o.name ? o.name : "agentc");
    c->cversion = agc_strdup(ctx, o.client_version ? o.client_version : agc_version());
    agc_mcp_session_opts so = AGC_MCP_SESSION_OPTS_INIT;
    so.methods = client_methods;
    so.notifications = client_notes;
    so.user = c;
    so.request_timeout_ms = o.timeout_ms;
    so.max_message_bytes = o.max_message_bytes;
    agc_status st = agc_mcp_session_new(&c->s, t, &so, ctx);
    if (st == AGC_OK && (!c->name || !c->cversion))
        st = AGC_ENOMEM;
    if (st == AGC_OK && o.roots) {
        if (!json_is_array(o.roots))
            st = agc_error_set(ctx, AGC_EINVAL, MOD, "client roots must be an array");
        else {
            agc_ctx *prev = agc_json_enter(ctx);
            c->roots = json_deep_copy(o.roots);
            agc_json_leave(prev);
            if (!c->roots)
                st = agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
        }
    }
    if (st != AGC_OK) {
        agc_mcp_client_free(c);
        return st;
    }
    *out = c;
    return AGC_OK;
}

void agc_mcp_client_free(agc_mcp_client *c)
{
    if (!c)
        return;
    agc_mcp_session_free(c->s);
    agc_free(c->ctx, c->name);
    agc_free(c->ctx, c->cversion);
    agc_free(c->ctx, c->proto);
    agc_free(c->ctx, c->srv_name);
    agc_free(c->ctx, c->srv_version);
    agc_free(c->ctx, c->instructions);
    json_decref(c->roots);
    json_decref(c->tools_cache);
    agc_free(c->ctx, c);
}

/* ---- initialize ------------------------------------------------------------------------- */

static bool has(const json_t *obj, const char *key)
{
    return json_is_object(json_object_get(obj, key));
}

static bool flag(const json_t *obj, const char *key, const char *sub)
{
    return json_is_true(json_object_get(json_object_get(obj, key), sub));
}

static agc_status read_init_result(agc_mcp_client *c, const json_t *res)
{
    const char *pv = agc_json_str(res, "protocolVersion", NULL);
    if (!json_is_object(res) || !pv)
        return agc_error_set(c->ctx, AGC_EPROTO, MOD,
                             "malformed initialize result: 'protocolVersion' is missing");
    if (!agc_mcp_protocol_version_in(pv, c->versions)) {
        char list[256] = "";
        size_t n = 0;
        for (const char *const *v = c->versions; *v && n < sizeof list; v++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *v);
        return agc_error_set(c->ctx, AGC_EPROTO, MOD,
                             "MCP server '%s' chose protocol version %s, which this client does "
                             "not accept (it speaks %s); disconnecting",
                             agc_json_str(json_object_get(res, "serverInfo"), "name", "?"), pv,
                             list);
    }
    const json_t *caps = json_object_get(res, "capabilities");
    agc_mcp_caps k = {0};
    k.tools = has(caps, "tools");
    k.tools_list_changed = flag(caps, "tools", "listChanged");
    k.resources = has(caps, "resources");
    k.resources_subscribe = flag(caps, "resources", "subscribe");
    k.resources_list_changed = flag(caps, "resources", "listChanged");
    k.prompts = has(caps, "prompts");
    k.prompts_list_changed = flag(caps, "prompts", "listChanged");
    k.logging = has(caps, "logging");
    k.completions = has(caps, "completions");
    c->caps = k;
    const json_t *info = json_object_get(res, "serverInfo");
    c->proto = agc_strdup(c->ctx, pv);
    c->srv_name = agc_strdup(c->ctx, agc_json_str(info, "name", "unnamed"));
    c->srv_version = agc_strdup(c->ctx, agc_json_str(info, "version", ""));
    const char *instr = agc_json_str(res, "instructions", NULL);
    c->instructions = instr ? agc_strdup(c->ctx, instr) : NULL;
    if (!c->proto || !c->srv_name || !c->srv_version || (instr && !c->instructions))
        return AGC_ENOMEM;
    return AGC_OK;
}

agc_status agc_mcp_client_initialize(agc_mcp_client *c)
{
    if (c->initialized)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "the MCP client is already initialized");
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *caps = json_object();
    if (caps && c->on_sampling)
        json_object_set_new(caps, "sampling", json_object());
    if (caps && c->on_elicitation)
        json_object_set_new(caps, "elicitation", json_pack("{s:{}}", "form"));
    if (caps && c->roots)
        json_object_set_new(caps, "roots", json_pack("{s:b}", "listChanged", 1));
    json_t *params =
        caps && !agc_json_oom(c->ctx)
            ? json_pack("{s:s,s:o,s:{s:s,s:s}}", "protocolVersion", c->versions[0], "capabilities",
                        caps, "clientInfo", "name", c->name, "version", c->cversion)
            : NULL;
    agc_json_leave(prev);
    if (!params)
        return agc_error_set(c->ctx, AGC_ENOMEM, MOD, "out of memory building initialize");
    json_t *res = NULL;
    agc_status st = agc_mcp_session_request(&res, c->s, "initialize", params, NULL);
    json_decref(params);
    if (st == AGC_OK)
        st = read_init_result(c, res);
    json_decref(res);
    if (st == AGC_EPROTO)
        (void)agc_mcp_session_close(c->s);
    if (st != AGC_OK)
        return st;
    st = agc_mcp_session_notify(c->s, "notifications/initialized", NULL);
    if (st == AGC_OK)
        c->initialized = true;
    return st;
}

const char *agc_mcp_client_protocol_version(const agc_mcp_client *c)
{
    return c->proto;
}
const char *agc_mcp_client_server_name(const agc_mcp_client *c)
{
    return c->srv_name;
}
const char *agc_mcp_client_server_version(const agc_mcp_client *c)
{
    return c->srv_version;
}
const char *agc_mcp_client_instructions(const agc_mcp_client *c)
{
    return c->instructions;
}
const agc_mcp_caps *agc_mcp_client_server_caps(const agc_mcp_client *c)
{
    return &c->caps;
}
bool agc_mcp_client_tools_changed(const agc_mcp_client *c)
{
    return c->tools_changed;
}
agc_mcp_session *agc_mcp_client_session(const agc_mcp_client *c)
{
    return c->s;
}

agc_status agc_mcp__client_need(agc_mcp_client *c, bool cap, const char *what)
{
    if (!c->initialized)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "call agc_mcp_client_initialize before using %s", what);
    if (!cap)
        return agc_error_set(c->ctx, AGC_EUNSUPPORTED, MOD,
                             "MCP server '%s' does not offer %s (not in its capabilities)",
                             c->srv_name, what);
    return AGC_OK;
}

/* ---- tools ---------------------------------------------------------------------------- */

agc_status agc_mcp_client_list_tools(json_t **tools_out, char **next_cursor_out, agc_mcp_client *c,
                                     const char *cursor)
{
    agc_status st = agc_mcp__client_list_page(tools_out, next_cursor_out, c, c->caps.tools,
                                              "tools/list", "tools", cursor);
    if (st == AGC_OK)
        c->tools_changed = false;
    return st;
}

agc_status agc_mcp_client_list_all_tools(json_t **tools_out, agc_mcp_client *c)
{
    return agc_mcp__client_list_all(tools_out, c, c->caps.tools, "tools/list", "tools");
}

void agc_mcp_tool_result_clear(agc_mcp_tool_result *r, agc_ctx *ctx)
{
    json_decref(r->content);
    json_decref(r->structured);
    agc_free(ctx, r->text);
    memset(r, 0, sizeof *r);
}

static agc_status join_text(agc_mcp_tool_result *out, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = AGC_OK;
    size_t i;
    json_t *blk;
    json_array_foreach(out->content, i, blk)
    {
        const char *type = agc_json_str(blk, "type", "?");
        if (i > 0)
            st = agc_buf_putc(&b, '\n');
        if (st == AGC_OK && strcmp(type, "text") == 0)
            st = agc_buf_puts(&b, agc_json_str(blk, "text", ""));
        else if (st == AGC_OK)
            st = agc_buf_printf(&b, "[%s content]", type);
        if (st != AGC_OK)
            break;
    }
    if (st == AGC_OK)
        out->text = agc_buf_detach(&b, NULL);
    agc_buf_free(&b);
    return st == AGC_OK && !out->text ? AGC_ENOMEM : st;
}

/* Validates structuredContent against the tool's outputSchema (when the tools cache
 * knows the tool; a schema we cannot compile is skipped with a debug line). */
static agc_status check_output(agc_mcp_client *c, const char *name, const agc_mcp_tool_result *r)
{
    const json_t *schema = json_object_get(agc_mcp_client_find_tool(c, name), "outputSchema");
    if (r->is_error || !json_is_object(schema))
        return AGC_OK;
    if (!r->structured)
        return agc_error_set(c->ctx, AGC_EPROTO, MOD,
                             "tool '%s' of MCP server '%s' declares an outputSchema but returned "
                             "no structuredContent",
                             name, c->srv_name);
    agc_schema *cs = NULL;
    agc_status st = agc_schema_compile(&cs, schema, NULL, c->ctx);
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK) {
        agc_log(c->ctx, AGC_LOG_DEBUG, MOD, "outputSchema of '%s' not checked: %s", name,
                agc_ctx_errmsg(c->ctx));
        agc_error_clear(c->ctx);
        return AGC_OK;
    }
    st = agc_schema_validate(NULL, cs, r->structured, c->ctx);
    agc_schema_free(cs, c->ctx);
    if (st == AGC_ESCHEMA)
        return agc_error_wrap(c->ctx, AGC_ESCHEMA, MOD,
                              "structuredContent of tool '%s' (MCP server '%s') does not match "
                              "its outputSchema",
                              name, c->srv_name);
    return st;
}

agc_status agc_mcp_client_call_tool(agc_mcp_tool_result *out, agc_mcp_client *c, const char *name,
                                    const json_t *args, const agc_mcp_call_opts *opts)
{
    memset(out, 0, sizeof *out);
    agc_status st = agc_mcp__client_need(c, c->caps.tools, "tools");
    if (st != AGC_OK)
        return st;
    if (args && !json_is_object(args))
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "arguments of tool '%s' must be an object",
                             name);
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *params = args ? json_pack("{s:s,s:O}", "name", name, "arguments", args)
                          : json_pack("{s:s,s:{}}", "name", name, "arguments");
    agc_json_leave(prev);
    if (!params)
        return agc_error_set(c->ctx, AGC_ENOMEM, MOD, "out of memory calling '%s'", name);
    json_t *res = NULL;
    st = agc_mcp_session_request(&res, c->s, "tools/call", params, opts);
    json_decref(params);
    if (st != AGC_OK)
        return st;
    json_t *content = json_object_get(res, "content");
    json_t *structured = json_object_get(res, "structuredContent");
    if ((content && !json_is_array(content)) || (!content && !structured)) {
        json_decref(res);
        return agc_error_set(c->ctx, AGC_EPROTO, MOD,
                             "malformed tools/call result for '%s': 'content' must be an array",
                             name);
    }
    out->is_error = json_is_true(json_object_get(res, "isError"));
    if (content)
        out->content = json_incref(content);
    else {
        prev = agc_json_enter(c->ctx);
        out->content = json_array();
        agc_json_leave(prev);
    }
    out->structured = json_is_object(structured) ? json_incref(structured) : NULL;
    json_decref(res);
    st = out->content ? join_text(out, c->ctx) : AGC_ENOMEM;
    if (st != AGC_OK) {
        agc_mcp_tool_result_clear(out, c->ctx);
        return agc_error_set(c->ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    st = check_output(c, name, out);
    if (st != AGC_OK)
        agc_mcp_tool_result_clear(out, c->ctx);
    return st;
}

agc_status agc_mcp_client_ping(agc_mcp_client *c)
{
    return agc_mcp_session_ping(c->s, 0);
}

agc_status agc_mcp_client_set_log_level(agc_mcp_client *c, const char *level)
{
    if (agc_mcp_log_level_index(level) < 0)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "unknown MCP log level '%s' (debug, info, notice, warning, error, "
                             "critical, alert, emergency)",
                             level ? level : "(null)");
    agc_status st = agc_mcp__client_need(c, c->caps.logging, "logging");
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *params = json_pack("{s:s}", "level", level);
    agc_json_leave(prev);
    if (!params)
        return agc_error_set(c->ctx, AGC_ENOMEM, MOD, "out of memory");
    json_t *res = NULL;
    st = agc_mcp_session_request(&res, c->s, "logging/setLevel", params, NULL);
    json_decref(params);
    json_decref(res);
    return st;
}
