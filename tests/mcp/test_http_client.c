/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp Streamable HTTP client transport against a scripted HTTP server on
 * 127.0.0.1 (agentc's http_server.h): JSON and SSE answers, progress on the
 * SSE stream, the Mcp-Session-Id / MCP-Protocol-Version / Accept headers,
 * the GET stream refused with 405, resumption with Last-Event-ID after a
 * stream ends unanswered, HTTP errors with status and body excerpt, an
 * expired session (404), a body that is not JSON, a server that hangs (the
 * request times out, the connection stays usable), DELETE on close, and the
 * error when neither transport is offered.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/http_server.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_client.h"

#define MAXREQ 64

typedef struct rec {
    char method[8], sid[32], proto[16], last_id[16], accept[64], rpc[32];
} rec;

typedef struct srvstate {
    pthread_mutex_t mu;
    rec reqs[MAXREQ];
    int n;
    json_t *pending_id; /* the "drop" call's id, answered on the resumed GET */
    bool refuse_all;    /* 404 for everything: neither transport offered */
} srvstate;

static const char *hdr(agc_http_sreq *req, const char *name)
{
    const char *v = agc_http_sreq_header(req, name);
    return v ? v : "";
}

static void record(srvstate *S, agc_http_sreq *req, const char *rpc)
{
    pthread_mutex_lock(&S->mu);
    if (S->n < MAXREQ) {
        rec *r = &S->reqs[S->n++];
        snprintf(r->method, sizeof r->method, "%s", agc_http_sreq_method(req));
        snprintf(r->sid, sizeof r->sid, "%s", hdr(req, "Mcp-Session-Id"));
        snprintf(r->proto, sizeof r->proto, "%s", hdr(req, "MCP-Protocol-Version"));
        snprintf(r->last_id, sizeof r->last_id, "%s", hdr(req, "Last-Event-ID"));
        snprintf(r->accept, sizeof r->accept, "%s", hdr(req, "Accept"));
        snprintf(r->rpc, sizeof r->rpc, "%s", rpc ? rpc : "");
    }
    pthread_mutex_unlock(&S->mu);
}

static void write_sse(agc_http_stream *w, void *user)
{
    char *text = user;
    (void)agc_http_stream_write(w, text, strlen(text));
    free(text);
}

static agc_status respond_sse(agc_http_sreq *req, const char *events)
{
    agc_http_header h[] = {{"Content-Type", "text/event-stream"}, {"Mcp-Session-Id", "sess-1"}};
    char *copy = strdup(events);
    return agc_http_sreq_stream_spawn(req, 200, h, 2, write_sse, copy);
}

static agc_status respond_json(agc_http_sreq *req, int status, const char *body)
{
    agc_http_header h[] = {{"Content-Type", "application/json"}, {"Mcp-Session-Id", "sess-1"}};
    return agc_http_sreq_respond(req, status, h, 2, body, strlen(body));
}

/* "{...,"id":ID,...}" with the request's id. */
static char *with_id(const json_t *id, const char *fmt)
{
    char idb[32];
    snprintf(idb, sizeof idb, "%lld", (long long)json_integer_value(id));
    size_t n = strlen(fmt) + 64;
    char *out = malloc(n);
    const char *at = strstr(fmt, "ID");
    snprintf(out, n, "%.*s%s%s", (int)(at - fmt), fmt, idb, at + 2);
    return out;
}

static agc_status handler(agc_http_sreq *req, void *user)
{
    srvstate *S = user;
    const char *m = agc_http_sreq_method(req);
    if (S->refuse_all) {
        record(S, req, NULL);
        return agc_http_sreq_respond(req, 404, NULL, 0, "no such thing", 13);
    }
    if (strcmp(m, "DELETE") == 0) {
        record(S, req, NULL);
        return agc_http_sreq_respond(req, 200, NULL, 0, "", 0);
    }
    if (strcmp(m, "GET") == 0) {
        record(S, req, NULL);
        const char *last = agc_http_sreq_header(req, "Last-Event-ID");
        if (last && strcmp(last, "d-1") == 0) {
            pthread_mutex_lock(&S->mu);
            char *ev = with_id(S->pending_id, "id: d-2\nevent: message\ndata: "
                                              "{\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":{"
                                              "\"content\":[{\"type\":\"text\",\"text\":"
                                              "\"resumed\"}]}}\n\n");
            pthread_mutex_unlock(&S->mu);
            agc_status st = respond_sse(req, ev);
            free(ev);
            return st;
        }
        return agc_http_sreq_respond(req, 405, NULL, 0, "", 0);
    }
    size_t len = 0;
    const char *body = agc_http_sreq_body(req, &len);
    json_t *msg = json_loadb(body, len, 0, NULL);
    const char *method = agc_json_str(msg, "method", "");
    const json_t *id = json_object_get(msg, "id");
    const char *tool = agc_json_str(json_object_get(msg, "params"), "name", "");
    char what[32];
    snprintf(what, sizeof what, "%s%s%s", method, *tool ? ":" : "", tool);
    record(S, req, what);
    agc_status st;
    char *out = NULL;
    if (!id) {
        st = agc_http_sreq_respond(req, 202, NULL, 0, "", 0);
    } else if (strcmp(method, "initialize") == 0) {
        out = with_id(id, "{\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":{\"protocolVersion\":"
                          "\"2025-06-18\",\"serverInfo\":{\"name\":\"scripted\",\"version\":"
                          "\"1\"},\"capabilities\":{\"tools\":{}}}}");
        st = respond_json(req, 200, out);
    } else if (strcmp(method, "tools/list") == 0) {
        out = with_id(id, "id: l-1\ndata: {\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":{\"tools\":"
                          "[{\"name\":\"json\",\"inputSchema\":{}}]}}\n\n");
        st = respond_sse(req, out);
    } else if (strcmp(tool, "json") == 0) {
        out = with_id(id, "{\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":{\"content\":[{\"type\":"
                          "\"text\",\"text\":\"as json\"}]}}");
        st = respond_json(req, 200, out);
    } else if (strcmp(tool, "sse") == 0) {
        json_t *tok = json_object_get(json_object_get(json_object_get(msg, "params"), "_meta"),
                                      "progressToken");
        char ev[600];
        snprintf(ev, sizeof ev,
                 ": keep-alive\n\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                 "\"params\":{\"progressToken\":%lld,\"progress\":1,\"total\":2}}\n\n"
                 "data: {\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":{\"content\":[{\"type\":"
                 "\"text\",\"text\":\"as sse\"}]}}\n\n",
                 (long long)json_integer_value(tok));
        out = with_id(id, ev);
        st = respond_sse(req, out);
    } else if (strcmp(tool, "drop") == 0) {
        pthread_mutex_lock(&S->mu);
        json_decref(S->pending_id);
        S->pending_id = json_incref((json_t *)id);
        pthread_mutex_unlock(&S->mu);
        st = respond_sse(req, "id: d-1\nretry: 100\ndata: \n\n");
    } else if (strcmp(tool, "http500") == 0) {
        st = agc_http_sreq_respond(req, 500, NULL, 0, "boom: database\non fire", 22);
    } else if (strcmp(tool, "hang") == 0) { /* answers only when the server stops */
        (void)agc_http_server_sleep(agc_http_sreq_server(req), 30000);
        st = agc_http_sreq_respond(req, 503, NULL, 0, "", 0);
    } else if (strcmp(tool, "garbage") == 0) {
        st = respond_json(req, 200, "this is not json");
    } else if (strcmp(tool, "expire") == 0) {
        st = agc_http_sreq_respond(req, 404, NULL, 0, "Session not found", 17);
    } else {
        out = with_id(id, "{\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":{}}");
        st = respond_json(req, 200, out);
    }
    free(out);
    json_decref(msg);
    return st;
}

typedef struct fx {
    srvstate S;
    agc_http_server *srv;
    agc_ctx *ctx;
    agc_mcp_client *c;
    char url[96];
    int progress;
} fx;

static void start(fx *f, bool refuse_all)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->S.mu, NULL);
    f->S.refuse_all = refuse_all;
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    agc_status st = agc_http_server_new(&f->srv, NULL, handler, &f->S, f->ctx);
    if (st == AGC_ENOTFOUND || st == AGC_EUNSUPPORTED) {
        agc_ctx_free(f->ctx);
        skip();
    }
    assert_int_equal(st, AGC_OK);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/mcp", agc_http_server_port(f->srv));
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    ho.url = f->url;
    agc_http_header extra[] = {{"X-Test", "1"}};
    ho.headers = extra;
    ho.nheaders = 1;
    agc_mcp_transport *t = NULL;
    st = agc_mcp_http_client_open(&t, &ho, f->ctx);
    if (st == AGC_ENOTFOUND) {
        agc_http_server_free(f->srv);
        agc_ctx_free(f->ctx);
        skip();
    }
    assert_int_equal(st, AGC_OK);
    agc_mcp_client_opts co = AGC_MCP_CLIENT_OPTS_INIT;
    co.timeout_ms = 10000;
    assert_int_equal(agc_mcp_client_new(&f->c, t, &co, f->ctx), AGC_OK);
}

static void stop(fx *f)
{
    agc_mcp_client_free(f->c);
    agc_http_server_free(f->srv);
    json_decref(f->S.pending_id);
    pthread_mutex_destroy(&f->S.mu);
    agc_ctx_free(f->ctx);
}

static const rec *find(fx *f, const char *method, const char *rpc)
{
    for (int i = 0; i < f->S.n; i++)
        if (strcmp(f->S.reqs[i].method, method) == 0 &&
            (!rpc || strcmp(f->S.reqs[i].rpc, rpc) == 0))
            return &f->S.reqs[i];
    return NULL;
}

static void on_progress(double p, double total, const char *msg, void *user)
{
    (void)msg;
    assert_true(p == 1 && total == 2);
    ((fx *)user)->progress++;
}

static void json_and_sse_answers_with_headers(void **state)
{
    (void)state;
    fx f;
    start(&f, false);
    assert_int_equal(agc_mcp_client_initialize(f.c), AGC_OK);
    assert_string_equal(agc_mcp_client_protocol_version(f.c), "2025-06-18");
    const agc_mcp_transport *t = agc_mcp_session_transport(agc_mcp_client_session(f.c));
    assert_string_equal(agc_mcp_http_client_session_id(t), "sess-1");
    const json_t *tools = NULL;
    assert_int_equal(agc_mcp_client_tools(&tools, f.c), AGC_OK); /* SSE answer */
    assert_int_equal(json_array_size(tools), 1);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "json", NULL, NULL), AGC_OK);
    assert_string_equal(r.text, "as json");
    agc_mcp_tool_result_clear(&r, f.ctx);
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.progress = on_progress;
    o.progress_user = &f;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "sse", NULL, &o), AGC_OK);
    assert_string_equal(r.text, "as sse");
    assert_int_equal(f.progress, 1);
    agc_mcp_tool_result_clear(&r, f.ctx);
    assert_false(agc_mcp_http_client_is_legacy(t));
    /* the GET stream runs beside the POSTs: let it reach the server before closing */
    for (int i = 0; i < 250; i++) {
        pthread_mutex_lock(&f.S.mu);
        bool got = find(&f, "GET", NULL) != NULL;
        pthread_mutex_unlock(&f.S.mu);
        if (got)
            break;
        assert_int_equal(agc_mcp_client_ping(f.c), AGC_OK);
        agc_clock_sleep_ms(f.ctx, 20);
    }
    agc_mcp_client_free(f.c);
    f.c = NULL;

    const rec *init = find(&f, "POST", "initialize");
    assert_non_null(init);
    assert_string_equal(init->sid, "");
    assert_string_equal(init->accept, "application/json, text/event-stream");
    const rec *call = find(&f, "POST", "tools/call:json");
    assert_non_null(call);
    assert_string_equal(call->sid, "sess-1");
    assert_string_equal(call->proto, "2025-06-18");
    const rec *get = find(&f, "GET", NULL); /* the GET stream was tried (405: none) */
    assert_non_null(get);
    assert_string_equal(get->accept, "text/event-stream");
    const rec *del = find(&f, "DELETE", NULL);
    assert_non_null(del);
    assert_string_equal(del->sid, "sess-1");
    stop(&f);
}

static void resumes_with_last_event_id(void **state)
{
    (void)state;
    fx f;
    start(&f, false);
    assert_int_equal(agc_mcp_client_initialize(f.c), AGC_OK);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "drop", NULL, NULL), AGC_OK);
    assert_string_equal(r.text, "resumed");
    agc_mcp_tool_result_clear(&r, f.ctx);
    const agc_mcp_transport *t = agc_mcp_session_transport(agc_mcp_client_session(f.c));
    assert_true(agc_mcp_http_client_reconnects(t) >= 1);
    bool resumed = false;
    for (int i = 0; i < f.S.n; i++)
        resumed |=
            strcmp(f.S.reqs[i].method, "GET") == 0 && strcmp(f.S.reqs[i].last_id, "d-1") == 0;
    assert_true(resumed);
    assert_int_equal(agc_mcp_client_ping(f.c), AGC_OK);
    stop(&f);
}

static void http_errors_name_status_and_body(void **state)
{
    (void)state;
    fx f;
    start(&f, false);
    assert_int_equal(agc_mcp_client_initialize(f.c), AGC_OK);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "http500", NULL, NULL), AGC_EPROTO);
    const char *msg = agc_ctx_errmsg(f.ctx);
    assert_non_null(strstr(msg, "HTTP 500"));
    assert_non_null(strstr(msg, "boom: database on fire"));
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "garbage", NULL, NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "not JSON: this is not json"));
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "expire", NULL, NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "session expired"));
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.timeout_ms = 300;
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "hang", NULL, &o), AGC_ETIMEDOUT);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "no response to 'tools/call' within 300 ms"));
    /* still usable */
    assert_int_equal(agc_mcp_client_call_tool(&r, f.c, "json", NULL, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, f.ctx);
    stop(&f);
}

static void neither_transport_is_a_clear_error(void **state)
{
    (void)state;
    fx f;
    start(&f, true);
    assert_int_equal(agc_mcp_client_initialize(f.c), AGC_EIO);
    const char *msg = agc_ctx_errmsg(f.ctx);
    assert_non_null(strstr(msg, "neither Streamable HTTP nor the legacy"));
    assert_non_null(strstr(msg, "HTTP 404"));
    assert_non_null(strstr(msg, "no such thing"));
    /* POST first, then the legacy GET */
    assert_string_equal(f.S.reqs[0].method, "POST");
    assert_string_equal(f.S.reqs[1].method, "GET");
    stop(&f);
}

static void rejects_bad_urls(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    agc_mcp_transport *t = NULL;
    ho.url = "ftp://example.org/mcp";
    assert_int_equal(agc_mcp_http_client_open(&t, &ho, ctx), AGC_EINVAL);
    assert_null(t);
    ho.url = NULL;
    assert_int_equal(agc_mcp_http_client_open(&t, &ho, ctx), AGC_EINVAL);
    ho.version = 99;
    assert_int_equal(agc_mcp_http_client_open(&t, &ho, ctx), AGC_EINVAL);
    agc_ctx_free(ctx);
}

/* Out-of-memory sweeps: opening the transport, and a client with roots over it. */
static agc_status sweep_open(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    ho.url = "http://127.0.0.1:9/mcp";
    agc_http_header extra[] = {{"Authorization", "Bearer x"}};
    ho.headers = extra;
    ho.nheaders = 1;
    agc_mcp_transport *t = NULL;
    agc_status st = agc_mcp_http_client_open(&t, &ho, ctx);
    if (st != AGC_OK)
        return st;
    agc_mcp_client_opts co = AGC_MCP_CLIENT_OPTS_INIT;
    json_t *roots = json_pack("[{s:s}]", "uri", "file:///x");
    co.roots = roots;
    agc_mcp_client *c = NULL;
    st = agc_mcp_client_new(&c, t, &co, ctx);
    json_decref(roots);
    if (st == AGC_OK) {
        json_t *schema = json_pack("{s:{s:{s:i}}}", "properties", "n", "default", 3), *out = NULL;
        st = agc_mcp_elicit_defaults(&out, schema, ctx);
        json_decref(out);
        json_decref(schema);
    }
    agc_mcp_client_free(c);
    return st;
}

static void open_survives_oom(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(sweep_open, NULL, 0) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_and_sse_answers_with_headers),
        cmocka_unit_test(resumes_with_last_event_id),
        cmocka_unit_test(http_errors_name_status_and_body),
        cmocka_unit_test(neither_transport_is_a_clear_error),
        cmocka_unit_test(rejects_bad_urls),
        cmocka_unit_test(open_survives_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
