/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp client features against a server built on our session library, in a
 * thread, over stdio pipes: capabilities advertised only for the handlers
 * given, tools paging + cache refreshed by list_changed, structuredContent
 * and isError, resources (list, templates, read, subscribe, updated),
 * prompts, completion, logging, progress and cancellation of our requests,
 * and the server-to-client requests (sampling, elicitation, roots) answered
 * by callbacks or refused with -32601 when no handler is set.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"

/* ---- the test server ----------------------------------------------------------------------- */

typedef struct srv {
    agc_ctx *ctx;
    agc_mcp_session *s;
    int in_fd, out_fd;
    bool no_prompts;
    json_t *client_caps; /* what the client advertised */
    int tools_version;   /* bumps with the "grow" tool */
    char level[16];
    char subscribed[128];
    pthread_t th;
} srv;

static json_t *j(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    return v;
}

static agc_status m_init(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    srv *S = user;
    S->client_caps = json_deep_copy(json_object_get(p, "capabilities"));
    *out = j(S->no_prompts ? "{\"protocolVersion\":\"2025-11-25\",\"serverInfo\":{\"name\":\"t\","
                             "\"version\":\"1\"},\"capabilities\":{\"tools\":{}}}"
                           : "{\"protocolVersion\":\"2025-11-25\",\"serverInfo\":{\"name\":\"t\","
                             "\"version\":\"1\"},\"capabilities\":{\"tools\":{\"listChanged\":"
                             "true},\"resources\":{\"subscribe\":true,\"listChanged\":true},"
                             "\"prompts\":{},\"logging\":{},\"completions\":{}}}");
    return AGC_OK;
}

#define OUT_SCHEMA                                                                                 \
    "{\"type\":\"object\",\"properties\":{\"echo\":{\"type\":\"string\"}},\"required\":[\"echo\"]" \
    "}"

static agc_status m_tools_list(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    srv *S = user;
    const char *cur = agc_json_str(p, "cursor", NULL);
    if (!cur)
        *out = j("{\"tools\":[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\"},"
                 "\"outputSchema\":" OUT_SCHEMA "},{\"name\":\"shape\",\"inputSchema\":{},"
                 "\"outputSchema\":" OUT_SCHEMA "},{\"name\":\"bad\",\"inputSchema\":{\"type\":"
                 "\"object\"}}],\"nextCursor\":\"p2\"}");
    else if (strcmp(cur, "p2") == 0)
        *out = S->tools_version ? j("{\"tools\":[{\"name\":\"ask\",\"inputSchema\":{}},"
                                    "{\"name\":\"slow\",\"inputSchema\":{}},{\"name\":\"grown\","
                                    "\"inputSchema\":{}}]}")
                                : j("{\"tools\":[{\"name\":\"ask\",\"inputSchema\":{}},"
                                    "{\"name\":\"slow\",\"inputSchema\":{}}]}");
    else
        return agc_error_set(S->ctx, AGC_EINVAL, "test", "bad cursor %s", cur);
    return AGC_OK;
}

/* sends a request to the client; returns "ok:<text>" or "err:<code>" */
static json_t *ask_client(srv *S, const char *method, const char *params)
{
    json_t *pp = params ? j(params) : NULL;
    json_t *res = NULL;
    agc_status st = agc_mcp_session_request(&res, S->s, method, pp, NULL);
    json_decref(pp);
    json_t *out = NULL;
    if (st == AGC_OK) {
        char *d = NULL;
        assert_int_equal(agc_json_dump(&d, res, JSON_COMPACT | JSON_SORT_KEYS, S->ctx), AGC_OK);
        out = json_pack("{s:s}", "ok", d);
        agc_free(S->ctx, d);
    } else
        out = json_pack("{s:i}", "err", agc_mcp_session_last_rpc_error(S->s));
    json_decref(res);
    return out;
}

static agc_status m_call(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    srv *S = user;
    const char *name = agc_json_str(p, "name", "");
    const json_t *args = json_object_get(p, "arguments");
    if (strcmp(name, "echo") == 0) {
        *out = json_pack("{s:[{s:s,s:s}],s:{s:O}}", "content", "type", "text", "text",
                         agc_json_str(args, "text", ""), "structuredContent", "echo",
                         json_object_get(args, "text"));
        return AGC_OK;
    }
    if (strcmp(name, "shape") == 0) { /* does not match its outputSchema */
        *out = j("{\"content\":[],\"structuredContent\":{\"echo\":5}}");
        return AGC_OK;
    }
    if (strcmp(name, "bad") == 0) {
        *out = j("{\"content\":[{\"type\":\"text\",\"text\":\"it broke\"}],\"isError\":true}");
        return AGC_OK;
    }
    if (strcmp(name, "grow") == 0) {
        S->tools_version++;
        (void)agc_mcp_session_notify(S->s, "notifications/tools/list_changed", NULL);
        *out = j("{\"content\":[]}");
        return AGC_OK;
    }
    if (strcmp(name, "ask") == 0) {
        json_t *r = json_object();
        json_object_set_new(r, "sampling",
                            ask_client(S, "sampling/createMessage",
                                       "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":"
                                       "\"text\",\"text\":\"2+2?\"}}],\"maxTokens\":5}"));
        json_object_set_new(
            r, "elicit",
            ask_client(
                S, "elicitation/create",
                "{\"message\":\"who?\",\"requestedSchema\":{\"type\":\"object\","
                "\"properties\":{\"name\":{\"type\":\"string\",\"default\":\"Ada\"},"
                "\"n\":{\"type\":\"integer\",\"default\":3},\"x\":{\"type\":\"string\"}}}}"));
        json_object_set_new(r, "roots", ask_client(S, "roots/list", NULL));
        *out = json_pack("{s:[],s:o}", "content", "structuredContent", r);
        return AGC_OK;
    }
    if (strcmp(name, "slow") == 0) { /* progress until canceled */
        for (int i = 0; i < 2000; i++) {
            (void)agc_mcp_request_progress(req, i, -1, "working");
            if (agc_mcp_request_canceled(req))
                break;
            usleep(5000);
        }
        *out = j("{\"content\":[]}");
        return AGC_OK;
    }
    if (strcmp(name, "notify") == 0) {
        json_t *u = json_pack("{s:s}", "uri", S->subscribed);
        (void)agc_mcp_session_notify(S->s, "notifications/resources/updated", u);
        json_decref(u);
        u = j("{\"level\":\"warning\",\"logger\":\"t\",\"data\":\"careful\"}");
        (void)agc_mcp_session_notify(S->s, "notifications/message", u);
        json_decref(u);
        u = j("{\"level\":\"debug\",\"data\":\"chatty\"}");
        if (strcmp(S->level, "debug") == 0)
            (void)agc_mcp_session_notify(S->s, "notifications/message", u);
        json_decref(u);
        *out = j("{\"content\":[]}");
        return AGC_OK;
    }
    return agc_error_set(S->ctx, AGC_EINVAL, "test", "unknown tool %s", name);
}

static agc_status m_res_list(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    (void)user;
    *out = agc_json_str(p, "cursor", NULL)
               ? j("{\"resources\":[{\"uri\":\"test://b\",\"name\":\"b\"}]}")
               : j("{\"resources\":[{\"uri\":\"test://a\",\"name\":\"a\"}],\"nextCursor\":\"x\"}");
    return AGC_OK;
}

static agc_status m_tpl_list(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    (void)p;
    (void)user;
    *out = j("{\"resourceTemplates\":[{\"uriTemplate\":\"test://{id}\",\"name\":\"t\"}]}");
    return AGC_OK;
}

static agc_status m_read(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    srv *S = user;
    const char *uri = agc_json_str(p, "uri", "");
    if (strncmp(uri, "test://", 7) != 0) {
        agc_mcp_request_set_error_code(req, -32002);
        return agc_error_set(S->ctx, AGC_ENOTFOUND, "test", "Resource not found: %s", uri);
    }
    *out = json_pack("{s:[{s:s,s:s,s:s}]}", "contents", "uri", uri, "mimeType", "text/plain",
                     "text", "content of resource");
    return AGC_OK;
}

static agc_status m_sub(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    srv *S = user;
    bool sub = strcmp(agc_mcp_request_method(req), "resources/subscribe") == 0;
    snprintf(S->subscribed, sizeof S->subscribed, "%s", sub ? agc_json_str(p, "uri", "") : "");
    *out = NULL;
    return AGC_OK;
}

static agc_status m_prompts(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    (void)p;
    (void)user;
    *out = j("{\"prompts\":[{\"name\":\"greet\",\"arguments\":[{\"name\":\"who\",\"required\":"
             "true}]}]}");
    return AGC_OK;
}

static agc_status m_prompt_get(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    srv *S = user;
    const char *who = agc_json_str(json_object_get(p, "arguments"), "who", NULL);
    if (!who)
        return agc_error_set(S->ctx, AGC_EINVAL, "test", "missing argument 'who'");
    char text[128];
    snprintf(text, sizeof text, "Hello, %s!", who);
    *out = json_pack("{s:s,s:[{s:s,s:{s:s,s:s}}]}", "description", "greeting", "messages", "role",
                     "user", "content", "type", "text", "text", text);
    return AGC_OK;
}

static agc_status m_complete(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    (void)user;
    const char *v = agc_json_str(json_object_get(p, "argument"), "value", "");
    const char *ctxv =
        agc_json_str(json_object_get(json_object_get(p, "context"), "arguments"), "lang", "en");
    const char *cand = strcmp(ctxv, "fr") == 0 ? "Bonjour" : "Bob";
    *out = json_pack("{s:{s:[s],s:i,s:b}}", "completion", "values",
                     strncmp(cand, v, strlen(v)) == 0 ? cand : "none", "total", 1, "hasMore", 0);
    return AGC_OK;
}

static agc_status m_level(json_t **out, agc_mcp_request *req, const json_t *p, void *user)
{
    (void)req;
    srv *S = user;
    snprintf(S->level, sizeof S->level, "%s", agc_json_str(p, "level", ""));
    *out = NULL;
    return AGC_OK;
}

static const agc_mcp_method methods[] = {
    {"initialize", m_init},
    {"tools/list", m_tools_list},
    {"tools/call", m_call},
    {"resources/list", m_res_list},
    {"resources/templates/list", m_tpl_list},
    {"resources/read", m_read},
    {"resources/subscribe", m_sub},
    {"resources/unsubscribe", m_sub},
    {"prompts/list", m_prompts},
    {"prompts/get", m_prompt_get},
    {"completion/complete", m_complete},
    {"logging/setLevel", m_level},
    {NULL, NULL},
};

static void *serve(void *arg)
{
    srv *S = arg;
    (void)agc_mcp_session_serve(S->s);
    return NULL;
}

typedef struct fixture {
    srv S;
    int c2s[2], s2c[2];
    agc_ctx *ctx;
    agc_mcp_client *c;
    /* client-side observations */
    int notes, updated, logs, progress;
    char last_log[64];
    agc_atomic_bool cancel;
} fixture;

static void on_note(agc_mcp_client *c, const char *method, const json_t *params, void *user)
{
    (void)c;
    fixture *f = user;
    f->notes++;
    if (strcmp(method, "notifications/resources/updated") == 0 &&
        strcmp(agc_json_str(params, "uri", ""), "test://a") == 0)
        f->updated++;
}

static void on_log(const char *level, const char *logger, const json_t *data, void *user)
{
    (void)logger;
    fixture *f = user;
    f->logs++;
    snprintf(f->last_log, sizeof f->last_log, "%s:%s", level,
             json_is_string(data) ? json_string_value(data) : "?");
}

static agc_status sampling(json_t **out, agc_mcp_client *c, const json_t *params, void *user)
{
    (void)c;
    (void)user;
    assert_int_equal(json_array_size(json_object_get(params, "messages")), 1);
    *out = j("{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"4\"},"
             "\"model\":\"m\",\"stopReason\":\"endTurn\"}");
    return AGC_OK;
}

static agc_status elicit(json_t **out, agc_mcp_client *c, const json_t *params, void *user)
{
    fixture *f = user;
    (void)c;
    json_t *content = NULL;
    assert_int_equal(
        agc_mcp_elicit_defaults(&content, json_object_get(params, "requestedSchema"), f->ctx),
        AGC_OK);
    *out = json_pack("{s:s,s:o}", "action", "accept", "content", content);
    return AGC_OK;
}

static void start(fixture *f, bool handlers, bool no_prompts)
{
    memset(f, 0, sizeof *f);
    atomic_init(&f->cancel, false);
    assert_int_equal(pipe(f->c2s), 0);
    assert_int_equal(pipe(f->s2c), 0);
    assert_int_equal(agc_ctx_new(&f->S.ctx, NULL), AGC_OK);
    f->S.no_prompts = no_prompts;
    snprintf(f->S.level, sizeof f->S.level, "info");
    agc_mcp_transport *st = NULL;
    assert_int_equal(agc_mcp_stdio_open_fds(&st, f->c2s[0], f->s2c[1], NULL, f->S.ctx), AGC_OK);
    agc_mcp_session_opts so = AGC_MCP_SESSION_OPTS_INIT;
    so.methods = methods;
    so.user = &f->S;
    assert_int_equal(agc_mcp_session_new(&f->S.s, st, &so, f->S.ctx), AGC_OK);
    assert_int_equal(pthread_create(&f->S.th, NULL, serve, &f->S), 0);

    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    agc_mcp_transport *ct = NULL;
    assert_int_equal(agc_mcp_stdio_open_fds(&ct, f->s2c[0], f->c2s[1], NULL, f->ctx), AGC_OK);
    agc_mcp_client_opts o = AGC_MCP_CLIENT_OPTS_INIT;
    o.timeout_ms = 10000;
    o.on_notify = on_note;
    o.notify_user = f;
    o.on_log = on_log;
    o.log_user = f;
    json_t *roots = j("[{\"uri\":\"file:///work\",\"name\":\"work\"}]");
    if (handlers) {
        o.on_sampling = sampling;
        o.on_elicitation = elicit;
        o.elicitation_user = f;
        o.roots = roots;
    }
    assert_int_equal(agc_mcp_client_new(&f->c, ct, &o, f->ctx), AGC_OK);
    json_decref(roots);
    assert_int_equal(agc_mcp_client_initialize(f->c), AGC_OK);
}

static void stop(fixture *f)
{
    agc_mcp_client_free(f->c);
    close(f->c2s[1]); /* EOF for the server */
    pthread_join(f->S.th, NULL);
    agc_mcp_session_free(f->S.s);
    json_decref(f->S.client_caps);
    close(f->c2s[0]);
    close(f->s2c[0]);
    close(f->s2c[1]);
    agc_ctx_free(f->S.ctx);
    agc_ctx_free(f->ctx);
}

/* ---- tests -------------------------------------------------------------------------------------
 */

static void advertises_only_the_handlers_given(void **state)
{
    (void)state;
    fixture f;
    start(&f, true, false);
    assert_non_null(json_object_get(f.S.client_caps, "sampling"));
    assert_non_null(json_object_get(f.S.client_caps, "elicitation"));
    assert_true(
        json_is_true(json_object_get(json_object_get(f.S.client_caps, "roots"), "listChanged")));
    stop(&f);
    start(&f, false, false);
    assert_int_equal(json_object_size(f.S.client_caps), 0);
    stop(&f);
}

static void server_requests_answered_or_refused(void **state)
{
    (void)state;
    fixture f;
    start(&f, true, false);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "ask", NULL, NULL), AGC_OK);
    const json_t *sres = r.structured;
    assert_non_null(
        strstr(agc_json_str(json_object_get(sres, "sampling"), "ok", ""), "\"text\":\"4\""));
    const char *el = agc_json_str(json_object_get(sres, "elicit"), "ok", "");
    assert_non_null(strstr(el, "\"action\":\"accept\""));
    assert_non_null(strstr(el, "\"name\":\"Ada\""));
    assert_non_null(strstr(el, "\"n\":3"));
    assert_null(strstr(el, "\"x\""));
    assert_non_null(strstr(agc_json_str(json_object_get(sres, "roots"), "ok", ""), "file:///work"));
    agc_mcp_tool_result_clear(&r, f.ctx);
    /* roots change: set + notify */
    json_t *roots = j("[{\"uri\":\"file:///other\"}]");
    assert_int_equal(agc_mcp_client_set_roots(f.c, roots), AGC_OK);
    json_decref(roots);
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "ask", NULL, NULL), AGC_OK);
    assert_non_null(
        strstr(agc_json_str(json_object_get(r.structured, "roots"), "ok", ""), "file:///other"));
    agc_mcp_tool_result_clear(&r, f.ctx);
    stop(&f);

    start(&f, false, false);
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "ask", NULL, NULL), AGC_OK);
    assert_int_equal(agc_json_int(json_object_get(r.structured, "sampling"), "err", 0), -32601);
    assert_int_equal(agc_json_int(json_object_get(r.structured, "elicit"), "err", 0), -32601);
    assert_int_equal(agc_json_int(json_object_get(r.structured, "roots"), "err", 0), -32601);
    agc_mcp_tool_result_clear(&r, f.ctx);
    roots = j("[]");
    assert_int_equal(agc_mcp_client_set_roots(f.c, roots), AGC_EINVAL);
    json_decref(roots);
    stop(&f);
}

static void tools_pages_cache_and_list_changed(void **state)
{
    (void)state;
    fixture f;
    start(&f, false, false);
    const json_t *tools = NULL;
    assert_int_equal(agc_mcp_client_tools(&tools, f.c), AGC_OK);
    assert_int_equal(json_array_size(tools), 5);
    const json_t *again = NULL;
    assert_int_equal(agc_mcp_client_tools(&again, f.c), AGC_OK);
    assert_ptr_equal(tools, again); /* cached */
    assert_null(agc_mcp_client_find_tool(f.c, "grown"));
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "grow", NULL, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_true(agc_mcp_client_tools_changed(f.c));
    assert_int_equal(agc_mcp_client_tools(&tools, f.c), AGC_OK);
    assert_int_equal(json_array_size(tools), 6);
    assert_non_null(agc_mcp_client_find_tool(f.c, "grown"));
    assert_true(f.notes >= 1);
    /* structuredContent and isError */
    json_t *args = j("{\"text\":\"hi\"}");
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "echo", args, NULL), AGC_OK);
    json_decref(args);
    assert_false(r.is_error);
    assert_string_equal(r.text, "hi");
    assert_string_equal(agc_json_str(r.structured, "echo", ""), "hi");
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "bad", NULL, NULL), AGC_OK);
    assert_true(r.is_error);
    assert_string_equal(r.text, "it broke");
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "shape", NULL, NULL), AGC_ESCHEMA);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "does not match its outputSchema"));
    char full[1024];
    assert_non_null(strstr(agc_error_format(f.ctx, full, sizeof full), "/echo"));
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "nope", NULL, NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "unknown tool nope"));
    stop(&f);
}

static void resources_read_subscribe_updated(void **state)
{
    (void)state;
    fixture f;
    start(&f, false, false);
    json_t *items = NULL;
    assert_int_equal(agc_mcp_client_list_all_resources(&items, f.c), AGC_OK);
    assert_int_equal(json_array_size(items), 2);
    json_decref(items);
    char *next = NULL;
    assert_int_equal(agc_mcp_client_list_resources(&items, &next, f.c, NULL), AGC_OK);
    assert_string_equal(next, "x");
    agc_free(f.ctx, next);
    json_decref(items);
    assert_int_equal(agc_mcp_client_list_all_resource_templates(&items, f.c), AGC_OK);
    assert_string_equal(agc_json_str(json_array_get(items, 0), "uriTemplate", ""), "test://{id}");
    json_decref(items);
    json_t *contents = NULL;
    assert_int_equal(agc_mcp_client_read_resource(&contents, f.c, "test://a"), AGC_OK);
    assert_string_equal(agc_json_str(json_array_get(contents, 0), "text", ""),
                        "content of resource");
    json_decref(contents);
    assert_int_equal(agc_mcp_client_read_resource(&contents, f.c, "nope://x"), AGC_EPROTO);
    assert_int_equal(agc_mcp_session_last_rpc_error(agc_mcp_client_session(f.c)), -32002);
    assert_int_equal(agc_mcp_client_subscribe(f.c, "test://a"), AGC_OK);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "notify", NULL, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_int_equal(f.updated, 1);
    assert_int_equal(agc_mcp_client_unsubscribe(f.c, "test://a"), AGC_OK);
    stop(&f);
}

static void prompts_completion_logging(void **state)
{
    (void)state;
    fixture f;
    start(&f, false, false);
    json_t *items = NULL;
    assert_int_equal(agc_mcp_client_list_all_prompts(&items, f.c), AGC_OK);
    assert_string_equal(agc_json_str(json_array_get(items, 0), "name", ""), "greet");
    json_decref(items);
    json_t *args = j("{\"who\":\"Ada\"}"), *res = NULL;
    assert_int_equal(agc_mcp_client_get_prompt(&res, f.c, "greet", args), AGC_OK);
    json_decref(args);
    const json_t *msg0 = json_array_get(json_object_get(res, "messages"), 0);
    assert_string_equal(agc_json_str(json_object_get(msg0, "content"), "text", ""), "Hello, Ada!");
    json_decref(res);
    assert_int_equal(agc_mcp_client_get_prompt(&res, f.c, "greet", NULL), AGC_EPROTO);
    args = j("{\"who\":3}");
    assert_int_equal(agc_mcp_client_get_prompt(&res, f.c, "greet", args), AGC_EINVAL);
    json_decref(args);

    json_t *ref = j("{\"type\":\"ref/prompt\",\"name\":\"greet\"}"), *comp = NULL;
    assert_int_equal(agc_mcp_client_complete(&comp, f.c, ref, "who", "B", NULL), AGC_OK);
    assert_string_equal(json_string_value(json_array_get(json_object_get(comp, "values"), 0)),
                        "Bob");
    json_decref(comp);
    json_t *cx = j("{\"lang\":\"fr\"}");
    assert_int_equal(agc_mcp_client_complete(&comp, f.c, ref, "who", "Bon", cx), AGC_OK);
    assert_string_equal(json_string_value(json_array_get(json_object_get(comp, "values"), 0)),
                        "Bonjour");
    json_decref(comp);
    json_decref(cx);
    json_decref(ref);
    ref = j("{\"type\":\"ref/nothing\"}");
    assert_int_equal(agc_mcp_client_complete(&comp, f.c, ref, "who", "", NULL), AGC_EINVAL);
    json_decref(ref);

    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "notify", NULL, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_int_equal(f.logs, 1);
    assert_string_equal(f.last_log, "warning:careful");
    assert_int_equal(agc_mcp_client_set_log_level(f.c, "debug"), AGC_OK);
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "notify", NULL, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_int_equal(f.logs, 3);
    assert_string_equal(f.last_log, "debug:chatty");
    assert_int_equal(agc_mcp_client_set_log_level(f.c, "loud"), AGC_EINVAL);
    stop(&f);
}

static void on_progress_cancel(double progress, double total, const char *message, void *user)
{
    (void)total;
    fixture *f = user;
    assert_string_equal(message, "working");
    f->progress++;
    if (progress >= 3)
        atomic_store(&f->cancel, true);
}

static void progress_and_cancellation(void **state)
{
    (void)state;
    fixture f;
    start(&f, false, false);
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.progress = on_progress_cancel;
    o.progress_user = &f;
    o.cancel = &f.cancel;
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "slow", NULL, &o), AGC_ECANCELED);
    assert_true(f.progress >= 4);
    /* the connection stays usable */
    assert_int_equal(agc_mcp_client_ping(f.c), AGC_OK);
    stop(&f);
}

static void missing_capabilities_are_not_called(void **state)
{
    (void)state;
    fixture f;
    start(&f, false, true);
    json_t *items = NULL, *res = NULL;
    assert_int_equal(agc_mcp_client_list_all_prompts(&items, f.c), AGC_EUNSUPPORTED);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "prompts/list"));
    assert_int_equal(agc_mcp_client_list_all_resources(&items, f.c), AGC_EUNSUPPORTED);
    assert_int_equal(agc_mcp_client_subscribe(f.c, "test://a"), AGC_EUNSUPPORTED);
    json_t *ref = j("{\"type\":\"ref/prompt\",\"name\":\"greet\"}");
    assert_int_equal(agc_mcp_client_complete(&res, f.c, ref, "who", "", NULL), AGC_EUNSUPPORTED);
    json_decref(ref);
    assert_int_equal(agc_mcp_client_set_log_level(f.c, "debug"), AGC_EUNSUPPORTED);
    json_t *r = NULL;
    assert_int_equal(agc_mcp_client_request(&r, f.c, "tools/list", NULL, NULL), AGC_OK);
    json_decref(r);
    stop(&f);
}

static void elicit_defaults_rejects_bad_schema(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    json_t *out = NULL, *schema = j("{\"type\":\"object\"}");
    assert_int_equal(agc_mcp_elicit_defaults(&out, schema, ctx), AGC_EINVAL);
    assert_null(out);
    json_decref(schema);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(advertises_only_the_handlers_given),
        cmocka_unit_test(server_requests_answered_or_refused),
        cmocka_unit_test(tools_pages_cache_and_list_changed),
        cmocka_unit_test(resources_read_subscribe_updated),
        cmocka_unit_test(prompts_completion_logging),
        cmocka_unit_test(progress_and_cancellation),
        cmocka_unit_test(missing_capabilities_are_not_called),
        cmocka_unit_test(elicit_defaults_rejects_bad_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
