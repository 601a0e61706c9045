/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * net http_client over real loopback HTTP against agentc's own server:
 * status/headers/body, POST echo, 3xx not followed, caps, refused
 * connections, total and idle timeouts, many requests in flight, streaming
 * delivery, SSE end to end, aborted streams, cancellation (from a callback
 * and from another thread), wakeup. Handlers never assert (they run on
 * server threads); they record, and the test thread asserts.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/http.h"
#include "agentc/http_server.h"
#include "agentc/sse.h"

static atomic_int g_client_saw_first; /* set by the client when the first chunk arrived */
static atomic_int g_server_saw_flag;  /* the server saw it before sending the last chunk */

/* ---- the server side ---- */

static agc_status write_str(agc_http_stream *w, const char *s)
{
    return agc_http_stream_write(w, s, strlen(s));
}

static void produce_stall(agc_http_stream *w, void *user)
{
    (void)user;
    if (write_str(w, "partial") == AGC_OK)
        (void)agc_http_stream_sleep(w, 10000);
}

static void produce_chunks(agc_http_stream *w, void *user)
{
    (void)user;
    if (write_str(w, "first;") != AGC_OK)
        return;
    for (int i = 0; i < 1000 && !atomic_load(&g_client_saw_first); i++) {
        if (agc_http_stream_sleep(w, 5) != AGC_OK)
            return;
    }
    atomic_store(&g_server_saw_flag, atomic_load(&g_client_saw_first));
    (void)write_str(w, "last");
}

static void produce_sse(agc_http_stream *w, void *user)
{
    (void)user;
    static const char *parts[] = {
        "retry: 100\n",
        "event: delta\ndata: {\"t\":\"caf\xC3", /* U+00E9 split across two writes */
        "\xA9\"}\n\n",
        ": keep-alive\n\n",
        "id: 2\r\ndata: line1\r\ndata: line2\r\n\r\n",
        "data: [DONE]\n\n",
    };
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        if (write_str(w, parts[i]) != AGC_OK || agc_http_stream_sleep(w, 2) != AGC_OK)
            return;
    }
}

static void produce_abort(agc_http_stream *w, void *user)
{
    (void)user;
    (void)write_str(w, "data: partial\n");
    (void)agc_http_stream_sleep(w, 20);
    agc_http_stream_abort(w);
}

static void produce_forever(agc_http_stream *w, void *user)
{
    (void)user;
    while (write_str(w, "tick\n") == AGC_OK && agc_http_stream_sleep(w, 5) == AGC_OK) {
    }
}

static agc_status handler(agc_http_sreq *r, void *user)
{
    (void)user;
    const char *p = agc_http_sreq_path(r);
    static const agc_http_header sse_h[] = {{"Content-Type", "text/event-stream"},
                                            {"Cache-Control", "no-cache"}};
    if (strcmp(p, "/hello") == 0) {
        const agc_http_header h[] = {{"Content-Type", "text/plain"},
                                     {"X-Request-Id", "req-123"},
                                     {"Retry-After", "7"},
                                     {"retry-after-ms", "7000"}};
        return agc_http_sreq_respond(r, 200, h, 4, "hello world", 11);
    }
    if (strcmp(p, "/echo") == 0) {
        size_t len = 0;
        const char *body = agc_http_sreq_body(r, &len);
        const char *ct = agc_http_sreq_header(r, "content-type");
        const char *auth = agc_http_sreq_header(r, "Authorization");
        const agc_http_header h[] = {{"X-Method", agc_http_sreq_method(r)},
                                     {"X-Query", agc_http_sreq_query(r)},
                                     {"X-Content-Type", ct ? ct : "(none)"},
                                     {"X-Auth", auth ? auth : "(none)"},
                                     {"X-UA", agc_http_sreq_header(r, "User-Agent")}};
        return agc_http_sreq_respond(r, 201, h, 5, body, len);
    }
    if (strcmp(p, "/redirect") == 0) {
        const agc_http_header h[] = {{"Location", "/hello"}};
        return agc_http_sreq_respond(r, 302, h, 1, "", 0);
    }
    if (strcmp(p, "/big") == 0) {
        char *b = agc_malloc(agc_http_sreq_ctx(r), 10000);
        if (!b)
            return AGC_ENOMEM;
        memset(b, 'x', 10000);
        agc_status st = agc_http_sreq_respond(r, 200, NULL, 0, b, 10000);
        agc_free(agc_http_sreq_ctx(r), b);
        return st;
    }
    if (strcmp(p, "/slow") == 0) {
        (void)agc_http_server_sleep(agc_http_sreq_server(r), 10000);
        return agc_http_sreq_respond(r, 200, NULL, 0, "late", 4);
    }
    if (strcmp(p, "/stall") == 0)
        return agc_http_sreq_stream_spawn(r, 200, NULL, 0, produce_stall, NULL);
    if (strcmp(p, "/chunks") == 0)
        return agc_http_sreq_stream_spawn(r, 200, NULL, 0, produce_chunks, NULL);
    if (strcmp(p, "/sse") == 0)
        return agc_http_sreq_stream_spawn(r, 200, sse_h, 2, produce_sse, NULL);
    if (strcmp(p, "/abort") == 0)
        return agc_http_sreq_stream_spawn(r, 200, sse_h, 2, produce_abort, NULL);
    if (strcmp(p, "/forever") == 0)
        return agc_http_sreq_stream_spawn(r, 200, NULL, 0, produce_forever, NULL);
    return agc_http_sreq_respond(r, 404, NULL, 0, "no such path\n", 13);
}

/* ---- fixtures ---- */

typedef struct fixture {
    agc_ctx *ctx;
    agc_http_server *srv;
    agc_http_client *client;
    char base[64];
} fixture;

static int setup(void **state)
{
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_http_server_new(&f->srv, NULL, handler, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_http_client_new(&f->client, NULL, f->ctx), AGC_OK);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", agc_http_server_port(f->srv));
    atomic_store(&g_client_saw_first, 0);
    atomic_store(&g_server_saw_flag, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agc_http_client_free(f->client);
    agc_http_server_free(f->srv);
    agc_ctx_free(f->ctx);
    free(f);
    return 0;
}

static char *url(const fixture *f, const char *path)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s%s", f->base, path);
    return buf;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collects one async request's outcome. */
typedef struct outcome {
    int done;
    agc_status status;
    int http_status;
    agc_buf body;
    int chunks;
    char msg[512];
    int cancel_after; /* agc_http_cancel after this many chunks, 0 = never */
    agc_sse_parser *sse;
    agc_status sse_status;
} outcome;

static agc_status oc_data(agc_http_req *req, const void *data, size_t len, void *user)
{
    outcome *o = user;
    o->chunks++;
    atomic_store(&g_client_saw_first, 1);
    if (o->cancel_after && o->chunks >= o->cancel_after)
        agc_http_cancel(req);
    if (o->sse) {
        agc_status st = agc_sse_feed(o->sse, data, len);
        if (st != AGC_OK)
            return st;
    }
    return agc_buf_append(&o->body, data, len);
}

static void oc_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    (void)req;
    outcome *o = user;
    o->done++;
    o->status = res->status;
    o->http_status = res->http_status;
    snprintf(o->msg, sizeof o->msg, "%s", res->message);
    if (o->sse)
        o->sse_status = agc_sse_finish(o->sse);
}

static const agc_http_callbacks OC_CB = {AGC_HTTP_CALLBACKS_VERSION, NULL, oc_data, oc_done};

/* ---- tests ---- */

static void returns_status_headers_and_body(void **state)
{
    fixture *f = *state;
    agc_http_response *resp = NULL;
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, "GET", url(f, "/hello"), NULL, 0, NULL, 0, NULL),
        AGC_OK);
    assert_int_equal(resp->status, 200);
    assert_string_equal(agc_buf_cstr(&resp->body), "hello world");
    assert_int_equal(resp->body.len, 11);
    assert_string_equal(agc_http_headers_get(resp->headers, "x-request-id"), "req-123");
    assert_string_equal(agc_http_headers_get(resp->headers, "RETRY-AFTER"), "7");
    assert_string_equal(agc_http_headers_get(resp->headers, "Retry-After-Ms"), "7000");
    assert_null(agc_http_headers_get(resp->headers, "request-id"));
    assert_true(agc_http_headers_count(resp->headers) >= 4);
    agc_http_header h0 = agc_http_headers_at(resp->headers, 0);
    assert_non_null(h0.name);
    agc_http_response_free(resp);
    /* 404 is a response, not a failure */
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, NULL, url(f, "/nope"), NULL, 0, NULL, 0, NULL),
        AGC_OK);
    assert_int_equal(resp->status, 404);
    agc_http_response_free(resp);
}

static void post_body_and_headers_reach_the_server(void **state)
{
    fixture *f = *state;
    size_t n = 100000;
    char *body = malloc(n);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)(i * 7);
    const agc_http_header h[] = {{"Content-Type", "application/octet-stream"},
                                 {"Authorization", "Bearer sk-test-123"}};
    agc_http_response *resp = NULL;
    assert_int_equal(agc_http_request_sync(&resp, f->client, NULL, url(f, "/echo?a=1&b=%20"), h, 2,
                                           body, n, NULL),
                     AGC_OK);
    assert_int_equal(resp->status, 201);
    assert_int_equal(resp->body.len, n);
    assert_memory_equal(resp->body.data, body, n);
    assert_string_equal(agc_http_headers_get(resp->headers, "X-Method"), "POST");
    assert_string_equal(agc_http_headers_get(resp->headers, "X-Query"), "a=1&b=%20");
    assert_string_equal(agc_http_headers_get(resp->headers, "X-Content-Type"),
                        "application/octet-stream");
    assert_string_equal(agc_http_headers_get(resp->headers, "X-Auth"), "Bearer sk-test-123");
    assert_non_null(strstr(agc_http_headers_get(resp->headers, "X-UA"), "agentc/"));
    agc_http_response_free(resp);
    /* PUT with a body, and no default form content type */
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, "PUT", url(f, "/echo"), NULL, 0, "{}", 2, NULL),
        AGC_OK);
    assert_string_equal(agc_http_headers_get(resp->headers, "X-Method"), "PUT");
    assert_string_equal(agc_http_headers_get(resp->headers, "X-Content-Type"), "(none)");
    assert_string_equal(agc_buf_cstr(&resp->body), "{}");
    agc_http_response_free(resp);
    free(body);
}

static void redirects_are_returned_not_followed(void **state)
{
    fixture *f = *state;
    agc_http_response *resp = NULL;
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, "GET", url(f, "/redirect"), NULL, 0, NULL, 0, NULL),
        AGC_OK);
    assert_int_equal(resp->status, 302);
    assert_string_equal(agc_http_headers_get(resp->headers, "location"), "/hello");
    assert_int_equal(resp->body.len, 0);
    agc_http_response_free(resp);
}

static void body_over_cap_is_elimit(void **state)
{
    fixture *f = *state;
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.max_response_bytes = 1000;
    agc_http_response *resp = NULL;
    assert_int_equal(agc_http_request_sync(&resp, f->client, "GET", url(f, "/big?key=SECRET"), NULL,
                                           0, NULL, 0, &o),
                     AGC_ELIMIT);
    assert_null(resp);
    const char *m = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(m, "max_response_bytes (1000)"));
    assert_non_null(strstr(m, "GET http://127.0.0.1:"));
    assert_null(strstr(m, "SECRET")); /* never the query */
    assert_null(strstr(m, "/big"));
    o.max_response_bytes = 10000; /* exactly the size: fine */
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, "GET", url(f, "/big"), NULL, 0, NULL, 0, &o),
        AGC_OK);
    assert_int_equal(resp->body.len, 10000);
    agc_http_response_free(resp);
}

static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void refused_connection_is_enet_naming_host(void **state)
{
    fixture *f = *state;
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/x?token=abc", closed_port());
    agc_http_response *resp = NULL;
    assert_int_equal(agc_http_request_sync(&resp, f->client, "GET", u, NULL, 0, NULL, 0, NULL),
                     AGC_ENET);
    const char *m = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(m, "127.0.0.1"));
    assert_null(strstr(m, "token"));
}

static void total_timeout_is_etimedout(void **state)
{
    fixture *f = *state;
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.timeout_ms = 300;
    agc_http_response *resp = NULL;
    int64_t t0 = mono_ms();
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, "GET", url(f, "/slow"), NULL, 0, NULL, 0, &o),
        AGC_ETIMEDOUT);
    int64_t el = mono_ms() - t0;
    assert_true(el >= 250 && el < 5000);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "timed out"));
}

static void idle_timeout_fires_when_server_stalls_mid_body(void **state)
{
    fixture *f = *state;
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.idle_timeout_ms = 400;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    int64_t t0 = mono_ms();
    assert_int_equal(
        agc_http_start(NULL, f->client, "GET", url(f, "/stall"), NULL, 0, NULL, 0, &o, &OC_CB, &oc),
        AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    int64_t el = mono_ms() - t0;
    assert_int_equal(oc.done, 1);
    assert_int_equal(oc.status, AGC_ETIMEDOUT);
    assert_non_null(strstr(oc.msg, "idle_timeout_ms"));
    assert_true(el >= 350 && el < 10000);
    /* normally the stall comes after "partial"; on a badly overloaded machine
     * the timer may already fire before the first byte */
    if (oc.http_status)
        assert_string_equal(agc_buf_cstr(&oc.body), "partial");
    agc_buf_free(&oc.body);
}

static void twenty_requests_in_flight_all_complete(void **state)
{
    fixture *f = *state;
    enum { N = 20 };
    outcome oc[N];
    memset(oc, 0, sizeof oc);
    for (int i = 0; i < N; i++) {
        agc_buf_init(&oc[i].body, f->ctx, 0);
        char path[32];
        snprintf(path, sizeof path, "/echo?i=%d", i);
        char body[16];
        int bl = snprintf(body, sizeof body, "req %d", i);
        assert_int_equal(agc_http_start(NULL, f->client, "POST", url(f, path), NULL, 0, body,
                                        (size_t)bl, NULL, &OC_CB, &oc[i]),
                         AGC_OK);
    }
    assert_int_equal(agc_http_client_pending(f->client), N);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(agc_http_client_pending(f->client), 0);
    for (int i = 0; i < N; i++) {
        char want[16];
        snprintf(want, sizeof want, "req %d", i);
        assert_int_equal(oc[i].done, 1);
        assert_int_equal(oc[i].status, AGC_OK);
        assert_int_equal(oc[i].http_status, 201);
        assert_string_equal(agc_buf_cstr(&oc[i].body), want);
        agc_buf_free(&oc[i].body);
    }
}

static void streamed_body_arrives_before_the_server_finishes(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/chunks"), NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(oc.status, AGC_OK);
    assert_string_equal(agc_buf_cstr(&oc.body), "first;last");
    assert_true(oc.chunks >= 2);
    assert_int_equal(atomic_load(&g_server_saw_flag), 1);
    agc_buf_free(&oc.body);
}

/* SSE transcript: "type|id|data\n" per event. */
static agc_status sse_rec(const agc_sse_event *ev, void *user)
{
    agc_buf *b = user;
    return agc_buf_printf(b, "%s|%s|%s\n", ev->type, ev->id, ev->data);
}

static void sse_end_to_end_over_http(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    agc_buf events;
    agc_buf_init(&events, f->ctx, 0);
    assert_int_equal(agc_sse_parser_new(&oc.sse, sse_rec, &events, 0, f->ctx), AGC_OK);
    assert_int_equal(
        agc_http_start(NULL, f->client, "GET", url(f, "/sse"), NULL, 0, NULL, 0, NULL, &OC_CB, &oc),
        AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(oc.status, AGC_OK);
    assert_int_equal(oc.sse_status, AGC_OK);
    assert_string_equal(agc_buf_cstr(&events), "delta||{\"t\":\"caf\xC3\xA9\"}\n"
                                               "message|2|line1\nline2\n"
                                               "message|2|[DONE]\n");
    assert_int_equal(agc_sse_retry_ms(oc.sse), 100);
    agc_sse_parser_free(oc.sse);
    agc_buf_free(&events);
    agc_buf_free(&oc.body);
}

static void server_abort_mid_stream_is_enet_and_truncated_sse(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    agc_buf events;
    agc_buf_init(&events, f->ctx, 0);
    assert_int_equal(agc_sse_parser_new(&oc.sse, sse_rec, &events, 0, f->ctx), AGC_OK);
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/abort"), NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(oc.done, 1);
    assert_int_equal(oc.status, AGC_ENET);
    assert_non_null(strstr(oc.msg, "connection closed before the response was complete"));
    assert_string_equal(agc_buf_cstr(&oc.body), "data: partial\n");
    assert_int_equal(oc.sse_status, AGC_EPROTO);
    agc_sse_parser_free(oc.sse);
    agc_buf_free(&events);
    agc_buf_free(&oc.body);
}

static void cancel_from_data_callback_releases_everything(void **state)
{
    fixture *f = *state;
    outcome oc = {.cancel_after = 3};
    agc_buf_init(&oc.body, f->ctx, 0);
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/forever"), NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(oc.done, 1);
    assert_int_equal(oc.status, AGC_ECANCELED);
    assert_int_equal(oc.chunks, 3);
    assert_int_equal(agc_http_client_pending(f->client), 0);
    agc_buf_free(&oc.body);
}

static void *cancel_later(void *arg)
{
    agc_http_client *c = arg;
    for (int i = 0; i < 5000 && !atomic_load(&g_client_saw_first); i++)
        usleep(1000);
    usleep(20000);
    agc_http_client_cancel(c);
    return NULL;
}

static void cancel_from_another_thread_stops_the_stream(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/forever"), NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_OK);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, f->client), 0);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    pthread_join(t, NULL);
    assert_int_equal(oc.done, 1);
    assert_int_equal(oc.status, AGC_ECANCELED);
    assert_true(oc.chunks >= 1);
    /* the client still works afterwards */
    agc_http_response *resp = NULL;
    assert_int_equal(
        agc_http_request_sync(&resp, f->client, "GET", url(f, "/hello"), NULL, 0, NULL, 0, NULL),
        AGC_OK);
    agc_http_response_free(resp);
    agc_buf_free(&oc.body);
}

static void *wake_later(void *arg)
{
    usleep(100000);
    agc_http_client_wakeup(arg);
    return NULL;
}

static void wakeup_and_run_timeout_return_ebusy(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/forever"), NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 50), AGC_EBUSY);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wake_later, f->client), 0);
    int64_t t0 = mono_ms();
    assert_int_equal(agc_http_client_run(f->client, -1), AGC_EBUSY);
    assert_true(mono_ms() - t0 < 10000);
    pthread_join(t, NULL);
    assert_int_equal(oc.done, 0);
    assert_int_equal(agc_http_client_pending(f->client), 1);
    /* freeing the client with the request in flight fires on_done once */
    agc_http_client_free(f->client);
    f->client = NULL;
    assert_int_equal(oc.done, 1);
    assert_int_equal(oc.status, AGC_ECANCELED);
    agc_buf_free(&oc.body);
}

static void bad_requests_are_refused_without_callbacks(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_http_req *req = (agc_http_req *)&oc;
    assert_int_equal(agc_http_start(&req, f->client, "GET", "ftp://127.0.0.1/x", NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_EINVAL);
    assert_null(req);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "scheme"));
    assert_int_equal(
        agc_http_start(NULL, f->client, "GET", "not a url", NULL, 0, NULL, 0, NULL, &OC_CB, &oc),
        AGC_EINVAL);
    const agc_http_header inj[] = {{"X-A", "ok\r\nX-Evil: 1"}};
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/hello"), inj, 1, NULL, 0, NULL,
                                    &OC_CB, &oc),
                     AGC_EINVAL);
    assert_null(strstr(agc_ctx_errmsg(f->ctx), "Evil")); /* never a header value */
    const agc_http_header badname[] = {{"X A", "v"}};
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/hello"), badname, 1, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_EINVAL);
    assert_int_equal(agc_http_start(NULL, f->client, "GE T", url(f, "/hello"), NULL, 0, NULL, 0,
                                    NULL, &OC_CB, &oc),
                     AGC_EINVAL);
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.version = 99;
    assert_int_equal(
        agc_http_start(NULL, f->client, "GET", url(f, "/hello"), NULL, 0, NULL, 0, &o, &OC_CB, &oc),
        AGC_EINVAL);
    agc_http_callbacks nodone = {AGC_HTTP_CALLBACKS_VERSION, NULL, NULL, NULL};
    assert_int_equal(agc_http_start(NULL, f->client, "GET", url(f, "/hello"), NULL, 0, NULL, 0,
                                    NULL, &nodone, &oc),
                     AGC_EINVAL);
    assert_int_equal(agc_http_client_pending(f->client), 0);
    assert_int_equal(agc_http_client_run(f->client, 0), AGC_OK);
    assert_int_equal(oc.done, 0);
}

static agc_status headers_then_stop(agc_http_req *req, int status, const agc_http_headers *h,
                                    void *user)
{
    (void)req;
    outcome *o = user;
    o->http_status = status;
    if (!agc_http_headers_get(h, "X-Request-Id"))
        return AGC_OK;
    return agc_error_set(o->body.ctx, AGC_EAUTH, "test", "handler refused the response");
}

static void header_callback_fires_once_and_can_stop(void **state)
{
    fixture *f = *state;
    outcome oc = {0};
    agc_buf_init(&oc.body, f->ctx, 0);
    agc_http_callbacks cb = OC_CB;
    cb.on_headers = headers_then_stop;
    assert_int_equal(
        agc_http_start(NULL, f->client, "GET", url(f, "/hello"), NULL, 0, NULL, 0, NULL, &cb, &oc),
        AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(oc.done, 1);
    assert_int_equal(oc.status, AGC_EAUTH);
    assert_non_null(strstr(oc.msg, "handler refused the response"));
    assert_int_equal(oc.chunks, 0);
    agc_buf_free(&oc.body);
}

typedef struct reentry {
    agc_http_client *client;
    const char *url;
    agc_status run_st, sync_st;
    int done;
} reentry;

static agc_status reenter_on_headers(agc_http_req *req, int status, const agc_http_headers *h,
                                     void *user)
{
    (void)req;
    (void)status;
    (void)h;
    reentry *r = user;
    r->run_st = agc_http_client_run(r->client, 0);
    agc_http_response *resp = NULL;
    r->sync_st = agc_http_request_sync(&resp, r->client, "GET", r->url, NULL, 0, NULL, 0, NULL);
    agc_http_response_free(resp);
    return AGC_OK;
}

static void reentry_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    (void)req;
    (void)res;
    ((reentry *)user)->done++;
}

static void loop_calls_from_callbacks_are_eusage(void **state)
{
    fixture *f = *state;
    reentry r = {.client = f->client, .url = url(f, "/hello")};
    const agc_http_callbacks cb = {AGC_HTTP_CALLBACKS_VERSION, reenter_on_headers, NULL,
                                   reentry_done};
    assert_int_equal(agc_http_start(NULL, f->client, "GET", r.url, NULL, 0, NULL, 0, NULL, &cb, &r),
                     AGC_OK);
    assert_int_equal(agc_http_client_run(f->client, 20000), AGC_OK);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.run_st, AGC_EUSAGE);
    assert_int_equal(r.sync_st, AGC_EUSAGE);
}

static void tls_to_a_plain_http_port_fails_verification_path(void **state)
{
    fixture *f = *state;
    char u[96];
    snprintf(u, sizeof u, "https://127.0.0.1:%u/hello", agc_http_server_port(f->srv));
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.timeout_ms = 3000;
    agc_http_response *resp = NULL;
    /* the plain server usually answers the ClientHello with garbage (ENET);
     * if it waits for more bytes instead, the timeout ends it */
    agc_status st = agc_http_request_sync(&resp, f->client, "GET", u, NULL, 0, NULL, 0, &o);
    assert_true(st == AGC_ENET || st == AGC_ETIMEDOUT);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "https://127.0.0.1:"));
    o.ca_file = "/nonexistent/ca.pem";
    st = agc_http_request_sync(&resp, f->client, "GET", u, NULL, 0, NULL, 0, &o);
    assert_true(st == AGC_ENET || st == AGC_ETIMEDOUT);
    assert_null(resp);
}

static agc_status sweep_request(agc_ctx *ctx, void *user)
{
    const char *base = user;
    char u[128];
    snprintf(u, sizeof u, "%s/hello", base);
    agc_http_client *c = NULL;
    agc_status st = agc_http_client_new(&c, NULL, ctx);
    if (st != AGC_OK)
        return st;
    const agc_http_header h[] = {{"Authorization", "Bearer sk-abc"}, {"X-Empty", ""}};
    agc_http_response *resp = NULL;
    st = agc_http_request_sync(&resp, c, "POST", u, h, 2, "{}", 2, NULL);
    if (st == AGC_OK) {
        assert_int_equal(resp->status, 200);
        assert_string_equal(agc_buf_cstr(&resp->body), "hello world");
        assert_string_equal(agc_http_headers_get(resp->headers, "x-request-id"), "req-123");
    }
    agc_http_response_free(resp);
    agc_http_client_free(c);
    return st;
}

static void out_of_memory_in_requests_is_clean(void **state)
{
    fixture *f = *state;
    assert_true(agc_test_oom_sweep(sweep_request, f->base, 0) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(returns_status_headers_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(post_body_and_headers_reach_the_server, setup, teardown),
        cmocka_unit_test_setup_teardown(redirects_are_returned_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(body_over_cap_is_elimit, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_connection_is_enet_naming_host, setup, teardown),
        cmocka_unit_test_setup_teardown(total_timeout_is_etimedout, setup, teardown),
        cmocka_unit_test_setup_teardown(idle_timeout_fires_when_server_stalls_mid_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(twenty_requests_in_flight_all_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(streamed_body_arrives_before_the_server_finishes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sse_end_to_end_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(server_abort_mid_stream_is_enet_and_truncated_sse, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_from_data_callback_releases_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_from_another_thread_stops_the_stream, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(wakeup_and_run_timeout_return_ebusy, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_requests_are_refused_without_callbacks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(header_callback_fires_once_and_can_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(loop_calls_from_callbacks_are_eusage, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_to_a_plain_http_port_fails_verification_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(out_of_memory_in_requests_is_clean, setup, teardown),
    };
    return cmocka_run_group_tests_name("net_http_client", tests, NULL, NULL);
}
