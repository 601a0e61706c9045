/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp server features over stdio pipes: the server runs on a thread, the
 * test is the raw client writing JSON lines. initialize (versions,
 * capabilities), tools (pagination, structuredContent against outputSchema,
 * argument validation, isError, annotations, list_changed), resources
 * (list, templates, read, -32002, subscribe/updated/unsubscribe), prompts
 * (list, get, required arguments), completion, logging levels, requests to
 * the client (sampling, elicitation, roots) with capability checks, and
 * malformed input leaving the connection usable.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"

typedef struct fx {
    int to_srv[2], from_srv[2];
    agc_ctx *ctx;
    agc_mcp_server *srv;
    pthread_t thread;
    char rbuf[1 << 16];
    size_t rlen;
} fx;

/* ---- the server's features -------------------------------------------------------------- */

static agc_status t_structured(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)req, (void)u;
    const json_t *n = json_object_get(a, "n");
    *out = n ? json_pack("{s:{s:O}}", "structuredContent", "n", n)
             : json_pack("{s:{}}", "structuredContent");
    return AGC_OK;
}

static agc_status t_fail(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)out, (void)a, (void)u;
    return agc_error_set(agc_mcp_session_ctx(agc_mcp_request_session(req)), AGC_EIO, "t",
                         "the disk is on fire");
}

static agc_status t_touch(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    agc_mcp_server *s = agc_mcp_request_server(req);
    agc_status st = agc_mcp_server_resource_updated(s, "mem://a");
    json_t *d = json_string("a warning");
    if (st == AGC_OK)
        st = agc_mcp_server_log(s, "warning", "t", d);
    json_decref(d);
    *out = json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text", "touched");
    return st;
}

static agc_status t_add(json_t **out, agc_mcp_request *req, const json_t *a, void *u);

static agc_status t_ask(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)u;
    agc_mcp_server *s = agc_mcp_request_server(req);
    const char *what = agc_json_str(a, "what", "");
    json_t *r = NULL;
    agc_status st;
    if (strcmp(what, "sampling") == 0) {
        json_t *p = json_pack("{s:[],s:i}", "messages", "maxTokens", 5);
        st = agc_mcp_server_create_message(&r, s, p, NULL);
        json_decref(p);
    } else if (strcmp(what, "elicit") == 0) {
        json_t *p =
            json_pack("{s:s,s:{s:s}}", "message", "name?", "requestedSchema", "type", "object");
        st = agc_mcp_server_elicit(&r, s, p, NULL);
        json_decref(p);
    } else
        st = agc_mcp_server_list_roots(&r, s, NULL);
    char *text = NULL;
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_request_session(req));
    if (st == AGC_OK && agc_json_dump(&text, r, JSON_COMPACT, ctx) != AGC_OK)
        text = NULL;
    *out = json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text",
                     text ? text : agc_ctx_errmsg(ctx));
    agc_free(ctx, text);
    json_decref(r);
    return AGC_OK;
}

static agc_status r_read(json_t **out, agc_mcp_request *req, const char *uri, const json_t *vars,
                         void *u)
{
    (void)req, (void)u;
    const char *id = agc_json_str(vars, "id", "direct");
    *out = json_pack("[{s:s,s:s}]", "uri", uri, "text", id);
    return AGC_OK;
}

static agc_status p_get(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)req, (void)u;
    *out = json_pack("{s:[{s:s,s:{s:s,s:s}}]}", "messages", "role", "user", "content", "type",
                     "text", "text", agc_json_str(a, "topic", "none"));
    return AGC_OK;
}

static agc_status complete(json_t **out, agc_mcp_request *req, const json_t *ref, const char *arg,
                           const char *value, const json_t *context, void *u)
{
    (void)req, (void)ref, (void)context, (void)u, (void)arg;
    *out = json_array();
    for (int i = 0; i < 150; i++) {
        char v[32];
        snprintf(v, sizeof v, "%s%d", value, i);
        json_array_append_new(*out, json_string(v));
    }
    return AGC_OK;
}

static void add_tool(agc_mcp_server *s, const char *name, const char *in, const char *out_schema,
                     agc_mcp_tool_fn fn)
{
    json_t *i = in ? json_loads(in, 0, NULL) : NULL;
    json_t *o = out_schema ? json_loads(out_schema, 0, NULL) : NULL;
    json_t *ann = json_pack("{s:b}", "readOnlyHint", 1);
    agc_mcp_server_tool t = {name, "A title", "desc", i, o, ann, fn, NULL};
    assert_int_equal(agc_mcp_server_add_tool(s, &t), AGC_OK);
    json_decref(i);
    json_decref(o);
    json_decref(ann);
}

static agc_status t_add(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    add_tool(agc_mcp_request_server(req), "late", NULL, NULL, t_fail);
    *out = json_pack("{s:[]}", "content");
    return AGC_OK;
}

static void *serve(void *arg)
{
    fx *f = arg;
    (void)agc_mcp_server_run(f->srv);
    return NULL;
}

static fx *start(void)
{
    fx *f = calloc(1, sizeof *f);
    assert_int_equal(pipe(f->to_srv), 0);
    assert_int_equal(pipe(f->from_srv), 0);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_log_set_level(f->ctx, AGC_LOG_OFF), AGC_OK);
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_open_fds(&t, f->to_srv[0], f->from_srv[1], NULL, f->ctx),
                     AGC_OK);
    agc_mcp_server_opts o = AGC_MCP_SERVER_OPTS_INIT;
    o.page_size = 2;
    o.timeout_ms = 5000;
    assert_int_equal(agc_mcp_server_new(&f->srv, t, NULL, &o, f->ctx), AGC_OK);
    agc_mcp_server *s = f->srv;
    add_tool(
        s, "structured", "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}",
        "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}",
        t_structured);
    add_tool(s, "fail", NULL, NULL, t_fail);
    add_tool(s, "touch", NULL, NULL, t_touch);
    add_tool(s, "ask", NULL, NULL, t_ask);
    add_tool(s, "add", NULL, NULL, t_add);
    agc_mcp_server_resource r1 = {"mem://a", NULL, "a", NULL, "direct", "text/plain", r_read, NULL};
    agc_mcp_server_resource r2 = {NULL, "mem://item/{id}/x", "item", NULL, NULL, NULL, r_read,
                                  NULL};
    assert_int_equal(agc_mcp_server_add_resource(s, &r1), AGC_OK);
    assert_int_equal(agc_mcp_server_add_resource(s, &r2), AGC_OK);
    static const agc_mcp_prompt_arg args[] = {{"topic", "what about", true}};
    agc_mcp_server_prompt p = {"explain", NULL, "explains", args, 1, p_get, NULL};
    assert_int_equal(agc_mcp_server_add_prompt(s, &p), AGC_OK);
    agc_mcp_server_set_completion(s, complete, NULL);
    assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
    return f;
}

static void stop(fx *f)
{
    close(f->to_srv[1]);
    pthread_join(f->thread, NULL);
    agc_mcp_server_free(f->srv);
    agc_ctx_free(f->ctx);
    close(f->to_srv[0]);
    close(f->from_srv[0]);
    close(f->from_srv[1]);
    free(f);
}

static void put(fx *f, const char *line)
{
    size_t n = strlen(line);
    assert_int_equal(write(f->to_srv[1], line, n), (ssize_t)n);
    assert_int_equal(write(f->to_srv[1], "\n", 1), 1);
}

/* The next message from the server (parsed), NULL after 5 s. */
static json_t *get(fx *f)
{
    for (;;) {
        char *nl = memchr(f->rbuf, '\n', f->rlen);
        if (nl) {
            size_t n = (size_t)(nl - f->rbuf);
            json_t *v = json_loadb(f->rbuf, n, 0, NULL);
            assert_non_null(v);
            memmove(f->rbuf, nl + 1, f->rlen - n - 1);
            f->rlen -= n + 1;
            return v;
        }
        struct pollfd p = {f->from_srv[0], POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            return NULL;
        ssize_t r = read(f->from_srv[0], f->rbuf + f->rlen, sizeof f->rbuf - f->rlen);
        assert_true(r > 0);
        f->rlen += (size_t)r;
    }
}

/* Sends a request line and returns its response (skipping nothing: asserts the id). */
static json_t *call(fx *f, const char *line, int id)
{
    put(f, line);
    json_t *v = get(f);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "id")), id);
    return v;
}

static const char *text0(const json_t *resp)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(resp, "result"), "content"), 0), "text"));
}

static int err_code(const json_t *resp)
{
    return (int)json_integer_value(json_object_get(json_object_get(resp, "error"), "code"));
}

static void init(fx *f, const char *version, const char *caps)
{
    char line[512];
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":\"%s\",\"capabilities\":%s,\"clientInfo\":{\"name\":\"t\","
             "\"version\":\"1\"}}}",
             version, caps);
    json_t *r = call(f, line, 1);
    json_decref(r);
    put(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void initialize_negotiates_versions_and_caps(void **state)
{
    (void)state;
    fx *f = start();
    /* before initialize */
    json_t *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"tools/list\"}", 0);
    assert_int_equal(err_code(r), -32600);
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":\"2024-11-05\",\"capabilities\":{}}}",
             1);
    json_t *res = json_object_get(r, "result");
    assert_string_equal(agc_json_str(res, "protocolVersion", ""), "2024-11-05");
    json_t *caps = json_object_get(res, "capabilities");
    assert_true(json_is_true(json_object_get(json_object_get(caps, "tools"), "listChanged")));
    assert_true(json_is_true(json_object_get(json_object_get(caps, "resources"), "subscribe")));
    assert_non_null(json_object_get(caps, "prompts"));
    assert_non_null(json_object_get(caps, "completions"));
    assert_non_null(json_object_get(caps, "logging"));
    json_decref(r);
    r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{}}", 2);
    assert_int_equal(err_code(r), -32600); /* already initialized */
    json_decref(r);
    stop(f);
    f = start();
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":\"1999-01-01\",\"capabilities\":{}}}",
             1);
    assert_string_equal(agc_json_str(json_object_get(r, "result"), "protocolVersion", ""),
                        AGC_MCP_PROTOCOL_LATEST);
    json_decref(r);
    stop(f);
}

static void tools_list_pages_and_calls(void **state)
{
    (void)state;
    fx *f = start();
    init(f, "2025-11-25", "{}");
    json_t *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", 2);
    json_t *tools = json_object_get(json_object_get(r, "result"), "tools");
    assert_int_equal(json_array_size(tools), 2);
    json_t *t0 = json_array_get(tools, 0);
    assert_string_equal(agc_json_str(t0, "title", ""), "A title");
    assert_non_null(json_object_get(t0, "outputSchema"));
    assert_true(json_is_true(json_object_get(json_object_get(t0, "annotations"), "readOnlyHint")));
    assert_string_equal(agc_json_str(json_object_get(r, "result"), "nextCursor", ""), "2");
    json_decref(r);
    r = call(
        f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":\"4\"}}",
        3);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "result"), "tools")), 1);
    assert_null(json_object_get(json_object_get(r, "result"), "nextCursor"));
    json_decref(r);
    r = call(
        f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"params\":{\"cursor\":\"x\"}}",
        4);
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    /* structuredContent validated; content added as its JSON text */
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"structured\",\"arguments\":{\"n\":3}}}",
             5);
    assert_string_equal(text0(r), "{\"n\":3}");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(r, "result"), "structuredContent"), "n")),
                     3);
    json_decref(r);
    /* missing structured output -> isError */
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"structured\",\"arguments\":{}}}",
             6);
    assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "isError")));
    assert_non_null(strstr(text0(r), "outputSchema"));
    json_decref(r);
    /* invalid arguments -> isError naming the path */
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
             "\"structured\",\"arguments\":{\"n\":\"three\"}}}",
             7);
    assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "isError")));
    assert_non_null(strstr(text0(r), "invalid arguments"));
    assert_non_null(strstr(text0(r), "/n"));
    json_decref(r);
    /* a failing tool -> isError with its message; an unknown tool -> -32602 */
    r = call(
        f,
        "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"fail\"}}",
        8);
    assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "isError")));
    assert_non_null(strstr(text0(r), "the disk is on fire"));
    json_decref(r);
    r = call(
        f,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}",
        9);
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    /* adding a tool after initialize announces list_changed */
    put(f,
        "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"add\"}}");
    r = get(f);
    assert_string_equal(agc_json_str(r, "method", ""), "notifications/tools/list_changed");
    json_decref(r);
    r = get(f);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 10);
    json_decref(r);
    stop(f);
}

static void resources_and_subscriptions(void **state)
{
    (void)state;
    fx *f = start();
    init(f, "2025-06-18", "{}");
    json_t *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}", 2);
    json_t *list = json_object_get(json_object_get(r, "result"), "resources");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(agc_json_str(json_array_get(list, 0), "mimeType", ""), "text/plain");
    json_decref(r);
    r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/templates/list\"}", 3);
    list = json_object_get(json_object_get(r, "result"), "resourceTemplates");
    assert_string_equal(agc_json_str(json_array_get(list, 0), "uriTemplate", ""),
                        "mem://item/{id}/x");
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":{\"uri\":"
             "\"mem://item/42/x\"}}",
             4);
    json_t *c0 = json_array_get(json_object_get(json_object_get(r, "result"), "contents"), 0);
    assert_string_equal(agc_json_str(c0, "text", ""), "42");
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/read\",\"params\":{\"uri\":"
             "\"mem://item/42/y\"}}",
             5);
    assert_int_equal(err_code(r), -32002);
    json_decref(r);
    /* subscribed: the tool's update arrives before its result */
    json_decref(call(f,
                     "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/subscribe\",\"params\":"
                     "{\"uri\":\"mem://a\"}}",
                     6));
    put(f,
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"touch\"}}");
    r = get(f);
    assert_string_equal(agc_json_str(r, "method", ""), "notifications/resources/updated");
    assert_string_equal(agc_json_str(json_object_get(r, "params"), "uri", ""), "mem://a");
    json_decref(r);
    r = get(f);
    assert_string_equal(agc_json_str(r, "method", ""), "notifications/message");
    json_decref(r);
    json_decref(get(f));
    /* unsubscribed, log level error: only the result */
    json_decref(
        call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"resources/unsubscribe\",\"params\":"
             "{\"uri\":\"mem://a\"}}",
             8));
    json_decref(call(f,
                     "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"logging/setLevel\",\"params\":{"
                     "\"level\":\"error\"}}",
                     9));
    r = call(
        f,
        "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"touch\"}}",
        10);
    assert_string_equal(text0(r), "touched");
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"logging/setLevel\",\"params\":{"
             "\"level\":\"loud\"}}",
             11);
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    stop(f);
}

static void prompts_and_completion(void **state)
{
    (void)state;
    fx *f = start();
    init(f, "2025-11-25", "{}");
    json_t *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/list\"}", 2);
    json_t *p0 = json_array_get(json_object_get(json_object_get(r, "result"), "prompts"), 0);
    assert_string_equal(agc_json_str(p0, "name", ""), "explain");
    assert_true(json_is_true(
        json_object_get(json_array_get(json_object_get(p0, "arguments"), 0), "required")));
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/get\",\"params\":{\"name\":"
             "\"explain\",\"arguments\":{\"topic\":\"sockets\"}}}",
             3);
    json_t *m0 = json_array_get(json_object_get(json_object_get(r, "result"), "messages"), 0);
    assert_string_equal(agc_json_str(json_object_get(m0, "content"), "text", ""), "sockets");
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"prompts/"
             "get\",\"params\":{\"name\":\"explain\"}}",
             4);
    assert_int_equal(err_code(r), -32602);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(r, "error"), "message")), "topic"));
    json_decref(r);
    r = call(
        f,
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\",\"params\":{\"name\":\"nope\"}}",
        5);
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"completion/complete\",\"params\":{"
             "\"ref\":{\"type\":\"ref/prompt\",\"name\":\"explain\"},\"argument\":{\"name\":"
             "\"topic\",\"value\":\"so\"}}}",
             6);
    json_t *comp = json_object_get(json_object_get(r, "result"), "completion");
    assert_int_equal(json_array_size(json_object_get(comp, "values")), 100);
    assert_string_equal(json_string_value(json_array_get(json_object_get(comp, "values"), 0)),
                        "so0");
    assert_int_equal(json_integer_value(json_object_get(comp, "total")), 150);
    assert_true(json_is_true(json_object_get(comp, "hasMore")));
    json_decref(r);
    stop(f);
}

static void requests_to_the_client(void **state)
{
    (void)state;
    fx *f = start();
    init(f, "2025-11-25", "{\"sampling\":{},\"roots\":{}}");
    put(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"ask\","
           "\"arguments\":{\"what\":\"sampling\"}}}");
    json_t *q = get(f);
    assert_string_equal(agc_json_str(q, "method", ""), "sampling/createMessage");
    char line[256];
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":{\"role\":\"assistant\",\"content\":{"
             "\"type\":\"text\",\"text\":\"ok\"},\"model\":\"m\"}}",
             (long long)json_integer_value(json_object_get(q, "id")));
    json_decref(q);
    put(f, line);
    json_t *r = get(f);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
    assert_non_null(strstr(text0(r), "\"model\":\"m\""));
    json_decref(r);
    /* roots */
    put(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"ask\","
           "\"arguments\":{\"what\":\"roots\"}}}");
    q = get(f);
    assert_string_equal(agc_json_str(q, "method", ""), "roots/list");
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":{\"roots\":[{\"uri\":\"file:///w\"}]}}",
             (long long)json_integer_value(json_object_get(q, "id")));
    json_decref(q);
    put(f, line);
    r = get(f);
    assert_non_null(strstr(text0(r), "file:///w"));
    json_decref(r);
    /* elicitation was not declared: refused without asking */
    r = call(f,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"ask\","
             "\"arguments\":{\"what\":\"elicit\"}}}",
             4);
    assert_non_null(strstr(text0(r), "elicitation"));
    json_decref(r);
    stop(f);
}

static void malformed_input_keeps_the_connection(void **state)
{
    (void)state;
    fx *f = start();
    init(f, "2025-11-25", "{}");
    put(f, "this is not json");
    json_t *r = get(f);
    assert_int_equal(err_code(r), -32700);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    put(f, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}");
    r = get(f);
    assert_int_equal(err_code(r), -32600);
    json_decref(r);
    r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"no/such\"}", 5);
    assert_int_equal(err_code(r), -32601);
    json_decref(r);
    r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}", 6);
    assert_non_null(json_object_get(r, "result"));
    json_decref(r);
    stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initialize_negotiates_versions_and_caps),
        cmocka_unit_test(tools_list_pages_and_calls),
        cmocka_unit_test(resources_and_subscriptions),
        cmocka_unit_test(prompts_and_completion),
        cmocka_unit_test(requests_to_the_client),
        cmocka_unit_test(malformed_input_keeps_the_connection),
    };
    return cmocka_run_group_tests_name("mcp_server_features", tests, NULL, NULL);
}
