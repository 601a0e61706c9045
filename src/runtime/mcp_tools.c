/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * An agent's mcp_servers as tools: connects to each server, lists its tools
 * and adds proxies named "server.tool" (the registry validates arguments
 * against the server's inputSchema before a call), plus resource and prompt
 * tools; answers sampling with the agent's provider after an approval
 * decision, and elicitation by policy or through the approver; and the run
 * hook (agc__mcp_setup) that does this when a run sets up its tools.
 * Invariant: one server's failure (start, crash, hang, garbage) never fails
 * the attachment: it is logged and reported as an event, the others go on.
 */
#include "run_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/event.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/mcp_agent.h"

#define MOD "mcp"

/* ---- shared state ------------------------------------------------------------------- */

/* What every server of one attachment shares (sampling, approvals, events). */
typedef struct hub {
    atomic_int refs;
    agc_ctx *ctx; /* the attaching ctx (memory of hub, servers and tools) */
    pthread_mutex_t mu;
    agc_agent_def *def;
    agc_event_bus *events;
    char *run_id;
    char *model;
    const json_t *provider_cfg; /* the definition's (or the caller's: borrowed) */
    agc_approve_mode mode;
    agc_approver_fn approver;
    void *approver_user;
    agc_ctx *pctx; /* the sampling provider's ctx (opened at the first request) */
    agc_provider *provider;
    unsigned long seq;
} hub;

typedef struct srv {
    atomic_int refs;
    hub *h;
    agc_mcp_conn *conn;
    const json_t *spec; /* in h->def */
    char *name;
    bool sampling_always; /* allow_always was given */
} srv;

enum { K_TOOL, K_READ_RES, K_LIST_RES, K_GET_PROMPT, K_LIST_PROMPTS };

typedef struct mtool {
    srv *s;
    char *remote;
    int kind;
} mtool;

static void hub_unref(hub *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    agc_ctx *ctx = h->ctx;
    agc_provider_close(h->provider);
    agc_ctx_free(h->pctx);
    agc_agent_def_unref(h->def);
    pthread_mutex_destroy(&h->mu);
    agc_free(ctx, h->run_id);
    agc_free(ctx, h->model);
    agc_free(ctx, h);
}

static void srv_unref(srv *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    agc_ctx *ctx = s->h->ctx;
    agc_mcp_conn_unref(s->conn);
    hub *h = s->h;
    agc_free(ctx, s->name);
    agc_free(ctx, s);
    hub_unref(h);
}

static void emit(hub *h, const char *name, json_t *payload)
{
    if (h->events && payload)
        agc_event_emit_custom(h->events, name, h->run_id, payload);
    json_decref(payload);
}

/* ---- approvals for sampling and elicitation ------------------------------------------ */

typedef enum { ASK_NO, ASK_YES, ASK_ALWAYS } ask_result;

/* Asks whether server s may do what (under h->mu). by_out names who decided. */
static ask_result decide(srv *s, const char *what, const char *pseudo_tool,
                         agc_tool_approval server_default, const json_t *args, const char *reason,
                         const char **by_out)
{
    hub *h = s->h;
    agc_tool_approval ap = agc_agent_def_approval(h->def, pseudo_tool, server_default);
    *by_out = "policy";
    if (ap == AGC_TOOL_APPROVE_NEVER)
        return ASK_NO;
    if (ap == AGC_TOOL_APPROVE_ALWAYS)
        return ASK_YES;
    agc_approve_mode m =
        h->mode != AGC_APPROVE_MODE_DEFAULT ? h->mode : agc_agent_def_approve_mode(h->def);
    if (m == AGC_APPROVE_MODE_ALL)
        return ASK_YES;
    if (m != AGC_APPROVE_MODE_ASK || !h->approver)
        return ASK_NO;
    char *text = NULL;
    if (agc_json_dump(&text, args, JSON_COMPACT, h->ctx) != AGC_OK)
        return ASK_NO;
    char call_id[64];
    snprintf(call_id, sizeof call_id, "mcp_%s_%lu", what, ++h->seq);
    agc_approval_request req = {h->run_id ? h->run_id : "", call_id, pseudo_tool, text, args,
                                AGC_TOOL_EFFECT_NETWORK,    reason};
    char why[AGC_APPROVAL_REASON_MAX] = "";
    agc_approval_decision d = h->approver(&req, why, sizeof why, h->approver_user);
    agc_free(h->ctx, text);
    *by_out = "user";
    return d == AGC_APPROVAL_ALLOW_ALWAYS ? ASK_ALWAYS
           : d == AGC_APPROVAL_ALLOW_ONCE ? ASK_YES
                                          : ASK_NO;
}

static agc_tool_approval approval_of(const json_t *spec, const char *key, agc_tool_approval dflt)
{
    const char *v = agc_json_str(spec, key, NULL);
    if (!v)
        return dflt;
    return strcmp(v, "always") == 0  ? AGC_TOOL_APPROVE_ALWAYS
           : strcmp(v, "never") == 0 ? AGC_TOOL_APPROVE_NEVER
                                     : AGC_TOOL_APPROVE_ASK;
}

/* ---- sampling -------------------------------------------------------------------------- */

/* The text of one sampling message's content (an object or an array of blocks). */
static const char *msg_text(const json_t *content)
{
    if (json_is_array(content))
        content = json_array_get(content, 0);
    return agc_json_str(content, "text", "");
}

static agc_status sample_with_provider(json_t **out, hub *h, const json_t *params, agc_ctx *ctx)
{
    if (!h->provider) {
        if (!h->provider_cfg)
            return agc_error_set(ctx, AGC_EUNSUPPORTED, MOD,
                                 "the agent has no provider section to answer sampling requests");
        if (!h->pctx && agc_ctx_new(&h->pctx, NULL) != AGC_OK)
            return AGC_ENOMEM;
        if (agc_provider_open_config(&h->provider, h->provider_cfg, h->pctx) != AGC_OK)
            return agc_error_set(ctx, AGC_EUNSUPPORTED, MOD, "cannot open the provider: %s",
                                 agc_ctx_errmsg(h->pctx));
    }
    const json_t *msgs = json_object_get(params, "messages");
    size_t n = json_array_size(msgs);
    const char *sys = agc_json_str(params, "systemPrompt", NULL);
    agc_message *m = agc_calloc(ctx, n + 1, sizeof *m);
    agc_part *p = agc_calloc(ctx, n + 1, sizeof *p);
    if (!m || !p) {
        agc_free(ctx, m);
        agc_free(ctx, p);
        return AGC_ENOMEM;
    }
    size_t k = 0;
    if (sys) {
        p[k] = (agc_part){.kind = AGC_PART_TEXT, .text = sys};
        m[k] = (agc_message){.role = AGC_ROLE_SYSTEM, .parts = &p[k], .n_parts = 1};
        k++;
    }
    for (size_t i = 0; i < n; i++, k++) {
        const json_t *mj = json_array_get(msgs, i);
        bool assistant = strcmp(agc_json_str(mj, "role", "user"), "assistant") == 0;
        p[k] = (agc_part){.kind = AGC_PART_TEXT, .text = msg_text(json_object_get(mj, "content"))};
        m[k] = (agc_message){
            .role = assistant ? AGC_ROLE_ASSISTANT : AGC_ROLE_USER, .parts = &p[k], .n_parts = 1};
    }
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = h->model;
    req.messages = m;
    req.n_messages = k;
    req.max_tokens = (long)agc_json_int(params, "maxTokens", 0);
    req.temperature = agc_json_num(params, "temperature", -1.0);
    agc_chat_response *resp = NULL;
    agc_status st = agc_provider_chat(&resp, h->provider, &req, NULL, NULL);
    agc_free(ctx, m);
    agc_free(ctx, p);
    if (st != AGC_OK) {
        char buf[512];
        return agc_error_set(ctx, AGC_ERROR, MOD, "the model call failed: %s",
                             agc_error_format(h->pctx, buf, sizeof buf));
    }
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    for (size_t i = 0; st == AGC_OK && i < resp->n_parts; i++)
        if (resp->parts[i].kind == AGC_PART_TEXT && resp->parts[i].text)
            st = agc_buf_puts(&b, resp->parts[i].text);
    agc_ctx *prev = agc_json_enter(ctx);
    *out = st == AGC_OK
               ? json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}", "role", "assistant", "content", "type",
                           "text", "text", agc_buf_cstr(&b), "model",
                           resp->model ? resp->model : (h->model ? h->model : ""), "stopReason",
                           resp->finish == AGC_FINISH_LENGTH ? "maxTokens" : "endTurn")
               : NULL;
    agc_json_leave(prev);
    agc_buf_free(&b);
    agc_chat_response_free(resp);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status on_sampling(json_t **out, const char *server, const json_t *params, void *user,
                              agc_ctx *ctx)
{
    srv *s = user;
    hub *h = s->h;
    char pseudo[160], reason[256];
    snprintf(pseudo, sizeof pseudo, "%s.sampling", server);
    snprintf(reason, sizeof reason,
             "MCP server '%s' asks the model for an answer (sampling/createMessage)", server);
    pthread_mutex_lock(&h->mu);
    const char *by = "policy";
    ask_result ok =
        s->sampling_always
            ? ASK_YES
            : decide(s, "sampling", pseudo, approval_of(s->spec, "sampling", AGC_TOOL_APPROVE_ASK),
                     params, reason, &by);
    if (ok == ASK_ALWAYS)
        s->sampling_always = true;
    emit(h, "mcp.sampling",
         json_pack("{s:s, s:s, s:s}", "server", server, "decision", ok ? "allowed" : "denied", "by",
                   by));
    agc_status st =
        ok ? sample_with_provider(out, h, params, ctx)
           : agc_error_set(ctx, AGC_EPERM, MOD,
                           "sampling request refused by the %s (approval of '%s')", by, pseudo);
    pthread_mutex_unlock(&h->mu);
    agc_log(h->ctx, st == AGC_OK ? AGC_LOG_INFO : AGC_LOG_WARN, MOD, "server '%s': sampling %s",
            server, st == AGC_OK ? "answered" : agc_ctx_errmsg(ctx));
    return st;
}

/* ---- elicitation ------------------------------------------------------------------------ */

/* {"action": "accept", "content": schema defaults + fixed}, or decline/cancel. */
static agc_status on_elicit(json_t **out, const char *server, const json_t *params, void *user,
                            agc_ctx *ctx)
{
    srv *s = user;
    hub *h = s->h;
    const json_t *pol = json_object_get(s->spec, "elicitation");
    const char *action =
        json_is_string(pol) ? json_string_value(pol) : agc_json_str(pol, "action", "decline");
    const json_t *fixed = json_object_get(pol, "content");
    const char *by = "policy";
    if (strcmp(action, "ask") == 0) {
        char pseudo[160], reason[512];
        snprintf(pseudo, sizeof pseudo, "%s.elicitation", server);
        snprintf(reason, sizeof reason, "MCP server '%s' asks: %.400s (allow: accept the defaults)",
                 server, agc_json_str(params, "message", ""));
        pthread_mutex_lock(&h->mu);
        ask_result r = decide(s, "elicitation", pseudo, AGC_TOOL_APPROVE_ASK, params, reason, &by);
        pthread_mutex_unlock(&h->mu);
        action = r ? "accept" : "decline";
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *res = json_pack("{s:s}", "action", action);
    if (res && strcmp(action, "accept") == 0) {
        json_t *content = json_object();
        const json_t *props =
            json_object_get(json_object_get(params, "requestedSchema"), "properties");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)props, k, v) if (json_object_get(v, "default"))
            json_object_set(content, k, json_object_get(v, "default"));
        if (json_is_object(fixed))
            json_object_update(content, (json_t *)fixed);
        json_object_set_new(res, "content", content);
    }
    agc_json_leave(prev);
    emit(h, "mcp.elicitation",
         json_pack("{s:s, s:s, s:s}", "server", server, "action", action, "by", by));
    *out = res;
    return res ? AGC_OK : AGC_ENOMEM;
}

/* ---- the tools ---------------------------------------------------------------------------- */

static agc_status mt_call(void *self, const json_t *args, agc_tool_result *out,
                          agc_tool_call_ctx *cctx)
{
    mtool *t = self;
    agc_ctx *ctx = cctx->ctx;
    agc_mcp_conn *c = t->s->conn;
    int64_t timeout = 0;
    if (cctx->deadline_ns > 0) {
        int64_t left = (cctx->deadline_ns - agc_clock_monotonic_ns(ctx)) / 1000000;
        timeout = left > 0 ? left : 1;
    }
    json_t *res = NULL, *params = NULL;
    const char *method = NULL;
    agc_status st = AGC_OK;
    agc_ctx *prev = agc_json_enter(ctx);
    switch (t->kind) {
    case K_TOOL:
        method = "tools/call";
        params = json_pack("{s:s, s:O}", "name", t->remote, "arguments", args);
        break;
    case K_READ_RES:
        method = "resources/read";
        params = json_pack("{s:s}", "uri", agc_json_str(args, "uri", ""));
        break;
    case K_GET_PROMPT:
        method = "prompts/get";
        params = json_pack("{s:s}", "name", agc_json_str(args, "name", ""));
        if (params && json_object_get(args, "arguments"))
            json_object_set(params, "arguments", json_object_get(args, "arguments"));
        break;
    default:
        break;
    }
    agc_json_leave(prev);
    if (method && !params)
        return AGC_ENOMEM;
    if (method) {
        st = agc_mcp_conn_request(&res, c, method, params, timeout, cctx->cancel, ctx);
    } else {
        bool prompts = t->kind == K_LIST_PROMPTS;
        json_t *items = NULL;
        st = agc_mcp_conn_list(&items, c, prompts ? "prompts/list" : "resources/list",
                               prompts ? "prompts" : "resources", ctx);
        if (st == AGC_OK) {
            char *text = NULL;
            st = agc_json_dump(&text, items, JSON_INDENT(1), ctx);
            prev = agc_json_enter(ctx);
            res = st == AGC_OK
                      ? json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text)
                      : NULL;
            json_decref(items);
            agc_json_leave(prev);
            agc_free(ctx, text);
            st = res ? AGC_OK : AGC_ENOMEM;
        }
    }
    prev = agc_json_enter(ctx);
    json_decref(params);
    agc_json_leave(prev);
    if (st == AGC_ENOMEM || st == AGC_ECANCELED)
        return st;
    if (st != AGC_OK) {
        char buf[1024];
        return agc_tool_result_errorf(out, ctx, "%s", agc_error_format(ctx, buf, sizeof buf));
    }
    char *text = NULL;
    st = agc_mcp_result_text(&text, res, ctx);
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, text, strlen(text), 0, ctx);
    out->is_error = json_is_true(json_object_get(res, "isError"));
    if (st == AGC_OK && json_object_get(res, "structuredContent")) {
        prev = agc_json_enter(ctx);
        out->structured = json_deep_copy(json_object_get(res, "structuredContent"));
        agc_json_leave(prev);
    }
    agc_free(ctx, text);
    prev = agc_json_enter(ctx);
    json_decref(res);
    agc_json_leave(prev);
    return st;
}

static void mt_destroy(void *self)
{
    mtool *t = self;
    srv *s = t->s;
    agc_ctx *ctx = s->h->ctx;
    agc_free(ctx, t->remote);
    agc_free(ctx, t);
    srv_unref(s);
}

static const agc_tool_ops mt_ops = {AGC_TOOL_OPS_VERSION, mt_call, mt_destroy};

/* "server.tool" with characters outside [A-Za-z0-9_.-] replaced by '_', cut at 64. */
static void local_name(char *out, size_t size, const char *server, const char *remote)
{
    snprintf(out, size, "%s.%s", server, remote);
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            *p = '_';
}

static agc_tool_effect effect_of(const json_t *spec, const json_t *tool)
{
    const char *e = agc_json_str(spec, "effect", "exec");
    if (agc_json_bool(spec, "trust_annotations", false) &&
        json_is_true(json_object_get(json_object_get(tool, "annotations"), "readOnlyHint")))
        return AGC_TOOL_EFFECT_READ;
    return strcmp(e, "read") == 0      ? AGC_TOOL_EFFECT_READ
           : strcmp(e, "write") == 0   ? AGC_TOOL_EFFECT_WRITE
           : strcmp(e, "network") == 0 ? AGC_TOOL_EFFECT_NETWORK
                                       : AGC_TOOL_EFFECT_EXEC;
}

/* Whether the spec's tools allow-list (absent: all) names remote. */
static bool allowed(const json_t *spec, const char *remote)
{
    const json_t *list = json_object_get(spec, "tools");
    if (!json_is_array(list))
        return true;
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) if (json_is_string(v) &&
                                       strcmp(json_string_value(v), remote) == 0) return true;
    return false;
}

/* Adds one proxy tool; AGC_OK also when it is skipped (logged). */
static agc_status add_tool(size_t *added, agc_tool_registry *reg, srv *s, int kind,
                           const char *remote, const char *desc, const json_t *schema,
                           agc_tool_effect effect, agc_ctx *ctx)
{
    char name[256];
    local_name(name, sizeof name, s->name, remote);
    if (strlen(name) > 64 || agc_tool_registry_lookup(reg, name)) {
        agc_log(ctx, AGC_LOG_WARN, MOD, "MCP server '%s': tool '%s' skipped (%s)", s->name, remote,
                strlen(name) > 64 ? "name longer than 64 characters" : "name already taken");
        return AGC_OK;
    }
    mtool *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t || !(t->remote = agc_strdup(ctx, remote))) {
        agc_free(ctx, t);
        return AGC_ENOMEM;
    }
    t->kind = kind;
    t->s = s;
    atomic_fetch_add(&s->refs, 1);
    char *d = agc_sprintf(ctx, "[MCP %s] %s", s->name, desc ? desc : "");
    agc_tool_spec sp = AGC_TOOL_SPEC_INIT;
    sp.name = name;
    sp.description = d;
    sp.input_schema = json_is_object(schema) ? schema : NULL;
    sp.effect = effect;
    sp.approval = approval_of(s->spec, "approval", AGC_TOOL_APPROVE_ASK);
    sp.timeout_ms = 0;
    agc_tool *tool = NULL;
    agc_status st = d ? agc_tool_new(&tool, &mt_ops, t, &sp, ctx) : AGC_ENOMEM;
    if (!d)
        mt_destroy(t);
    agc_free(ctx, d);
    if (st == AGC_OK)
        st = agc_tool_registry_add(reg, tool);
    if (st == AGC_OK) {
        (*added)++;
    } else if (st != AGC_ENOMEM) {
        agc_log(ctx, AGC_LOG_WARN, MOD, "MCP server '%s': tool '%s' skipped: %s", s->name, remote,
                agc_ctx_errmsg(ctx));
        st = AGC_OK;
    }
    return st;
}

static const char URI_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"uri\":{\"type\":\"string\",\"description\":"
    "\"the resource URI (see list_resources)\"}},\"required\":[\"uri\"]}";
static const char PROMPT_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"arguments\":{"
    "\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}},\"required\":[\"name\"]"
    "}";
static const char EMPTY_SCHEMA[] = "{\"type\":\"object\",\"properties\":{}}";

static agc_status add_extras(size_t *added, agc_tool_registry *reg, srv *s, agc_ctx *ctx)
{
    json_t *uri = NULL, *prompt = NULL, *empty = NULL;
    agc_status st = agc_json_parse(&uri, URI_SCHEMA, sizeof URI_SCHEMA - 1, NULL, ctx);
    if (st == AGC_OK)
        st = agc_json_parse(&prompt, PROMPT_SCHEMA, sizeof PROMPT_SCHEMA - 1, NULL, ctx);
    if (st == AGC_OK)
        st = agc_json_parse(&empty, EMPTY_SCHEMA, sizeof EMPTY_SCHEMA - 1, NULL, ctx);
    if (st == AGC_OK && agc_mcp_conn_has(s->conn, "resources")) {
        st = add_tool(added, reg, s, K_LIST_RES, "list_resources",
                      "List the resources of this MCP server (uri, name, mimeType).", empty,
                      AGC_TOOL_EFFECT_READ, ctx);
        if (st == AGC_OK)
            st = add_tool(added, reg, s, K_READ_RES, "read_resource",
                          "Read one resource of this MCP server by URI.", uri, AGC_TOOL_EFFECT_READ,
                          ctx);
    }
    if (st == AGC_OK && agc_mcp_conn_has(s->conn, "prompts")) {
        st = add_tool(added, reg, s, K_LIST_PROMPTS, "list_prompts",
                      "List the prompts of this MCP server (name, arguments).", empty,
                      AGC_TOOL_EFFECT_READ, ctx);
        if (st == AGC_OK)
            st = add_tool(added, reg, s, K_GET_PROMPT, "get_prompt",
                          "Get one prompt of this MCP server, filled with its arguments.", prompt,
                          AGC_TOOL_EFFECT_READ, ctx);
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(uri);
    json_decref(prompt);
    json_decref(empty);
    agc_json_leave(prev);
    return st;
}

/* Connects one server and adds its tools; a failure of the server is logged, not returned. */
static agc_status attach_one(size_t *added, agc_tool_registry *reg, hub *h, const json_t *spec,
                             agc_ctx *ctx)
{
    const char *name = agc_json_str(spec, "name", "?");
    srv *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s || !(s->name = agc_strdup(ctx, name))) {
        agc_free(ctx, s);
        return AGC_ENOMEM;
    }
    atomic_init(&s->refs, 1);
    s->h = h;
    s->spec = spec;
    atomic_fetch_add(&h->refs, 1);
    agc_mcp_conn_opts co = AGC_MCP_CONN_OPTS_INIT;
    co.sampling = approval_of(spec, "sampling", AGC_TOOL_APPROVE_ASK) == AGC_TOOL_APPROVE_NEVER
                      ? NULL
                      : on_sampling;
    co.elicit = on_elicit;
    co.user = s;
    agc_status st = agc_mcp_conn_open(&s->conn, spec, &co, ctx);
    json_t *tools = NULL;
    if (st == AGC_OK && agc_mcp_conn_has(s->conn, "tools"))
        st = agc_mcp_conn_list(&tools, s->conn, "tools/list", "tools", ctx);
    size_t before = *added;
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t)
    {
        const char *remote = agc_json_str(t, "name", NULL);
        if (st != AGC_OK || !remote || !allowed(spec, remote))
            continue;
        st = add_tool(added, reg, s, K_TOOL, remote, agc_json_str(t, "description", NULL),
                      json_object_get(t, "inputSchema"), effect_of(spec, t), ctx);
    }
    if (st == AGC_OK)
        st = add_extras(added, reg, s, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(tools);
    if (st != AGC_OK && st != AGC_ENOMEM) {
        char buf[1024];
        agc_error_format(ctx, buf, sizeof buf);
        agc_log(ctx, AGC_LOG_WARN, MOD, "%s; the run goes on without it", buf);
        emit(
            h, "mcp.server_failed",
            json_pack("{s:s, s:s, s:s}", "server", name, "status", agc_strerror(st), "error", buf));
        st = AGC_OK;
    } else if (st == AGC_OK) {
        emit(h, "mcp.server_connected",
             json_pack(
                 "{s:s, s:s?, s:s?, s:I}", "server", name, "server_name",
                 json_string_value(json_object_get(
                     json_object_get(agc_mcp_conn_init_result(s->conn), "serverInfo"), "name")),
                 "protocol_version",
                 agc_json_str(agc_mcp_conn_init_result(s->conn), "protocolVersion", NULL), "tools",
                 (json_int_t)(*added - before)));
        agc_log(ctx, AGC_LOG_INFO, MOD, "MCP server '%s': %zu tools", name, *added - before);
    }
    agc_json_leave(prev);
    srv_unref(s);
    return st;
}

agc_status agc_mcp_attach(size_t *added_out, agc_tool_registry *reg, agc_agent_def *def,
                          const agc_mcp_attach_opts *opts, agc_ctx *ctx)
{
    size_t added = 0;
    if (added_out)
        *added_out = 0;
    agc_mcp_attach_opts o = AGC_MCP_ATTACH_OPTS_INIT;
    if (opts && opts->version != AGC_MCP_ATTACH_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_attach_opts version %u",
                             opts->version);
    if (opts)
        o = *opts;
    const json_t *list = json_object_get(agc_agent_def_json(def), "mcp_servers");
    if (json_array_size(list) == 0)
        return AGC_OK;
    hub *h = agc_calloc(ctx, 1, sizeof *h);
    if (!h)
        return AGC_ENOMEM;
    atomic_init(&h->refs, 1);
    h->ctx = ctx;
    pthread_mutex_init(&h->mu, NULL);
    h->def = agc_agent_def_ref(def);
    h->events = o.events;
    h->mode = o.mode;
    h->approver = o.approver;
    h->approver_user = o.approver_user;
    h->provider_cfg = o.provider_cfg ? o.provider_cfg : agc_agent_def_provider(def);
    const char *model = o.model ? o.model : agc_agent_def_model(def);
    agc_status st = AGC_OK;
    if ((o.run_id && !(h->run_id = agc_strdup(ctx, o.run_id))) ||
        (model && !(h->model = agc_strdup(ctx, model))))
        st = AGC_ENOMEM;
    size_t i;
    const json_t *spec;
    json_array_foreach(list, i, spec)
    {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || strcmp(agc_json_str(json_array_get(list, j), "name", ""),
                                agc_json_str(spec, "name", "?")) == 0;
        if (dup) {
            agc_log(ctx, AGC_LOG_WARN, MOD,
                    "%s: mcp_servers[%zu]: the name '%s' is used twice; "
                    "this entry is skipped",
                    agc_agent_def_source(def), i, agc_json_str(spec, "name", "?"));
            continue;
        }
        if (st == AGC_OK)
            st = attach_one(&added, reg, h, spec, ctx);
    }
    hub_unref(h);
    if (added_out)
        *added_out = added;
    return st;
}

/* ---- the run hook ----------------------------------------------------------------------- */

agc_status agc__mcp_setup(agc_run *run)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    if (json_array_size(json_object_get(agc_agent_def_json(run->def), "mcp_servers")) == 0)
        return AGC_OK;
    if (run->opts.tools) {
        agc_log(ctx, AGC_LOG_WARN, MOD,
                "%s: mcp_servers not attached: the run uses the caller's tool registry (call "
                "agc_mcp_attach on it)",
                agc_agent_def_source(run->def));
        return AGC_OK;
    }
    agc_status st = AGC_OK;
    if (!a->reg) {
        st = agc_tool_registry_new(&a->reg, ctx);
        a->own_reg = st == AGC_OK;
        if (st != AGC_OK)
            return st;
    }
    size_t n0 = agc_tool_registry_count(a->reg), added = 0;
    agc_mcp_attach_opts o = AGC_MCP_ATTACH_OPTS_INIT;
    o.events = run->opts.events;
    o.run_id = run->id;
    o.model = agc__run_model(run);
    o.mode = run->opts.approve;
    o.approver = run->opts.approver;
    o.approver_user = run->opts.approver_user;
    st = agc_mcp_attach(&added, a->reg, run->def, &o, ctx);
    if (st != AGC_OK || added == 0)
        return st;
    size_t n = a->n_tooldefs + added;
    agc_tool_def *td = agc_realloc(ctx, a->tooldefs, n * sizeof *td);
    if (!td)
        return AGC_ENOMEM;
    a->tooldefs = td;
    agc_schema **v = agc_realloc(ctx, a->validators, n * sizeof *v);
    if (!v)
        return AGC_ENOMEM;
    a->validators = v;
    for (size_t i = 0; i < added; i++) {
        agc_tool *t = agc_tool_registry_at(a->reg, n0 + i);
        size_t k = a->n_tooldefs;
        memset(&td[k], 0, sizeof td[k]);
        td[k].name = agc_tool_name(t);
        td[k].description = agc_tool_description(t);
        td[k].parameters = agc_tool_input_schema(t);
        v[k] = NULL;
        a->n_tooldefs = k + 1;
    }
    return AGC_OK;
}
