/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp Streamable HTTP server transport over real loopback HTTP: the test is
 * a raw HTTP/1.1 client on a socket. Sessions (initialize, Mcp-Session-Id,
 * DELETE, 400/404), JSON and SSE answers, 202 for notifications and
 * responses, the GET stream, server-to-client requests answered by POST,
 * resumption with Last-Event-ID after the server closed a stream, and the
 * checks: Origin/Host (DNS rebinding), bearer token, protocol version
 * header, body cap, malformed JSON, the session limit.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_server.h"

/* ---- the server side ---------------------------------------------------------------------- */

static agc_status t_echo(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)req, (void)u;
    *out = json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text",
                     agc_json_str(a, "text", ""));
    return AGC_OK;
}

static agc_status t_log(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    json_t *d = json_string("log-line-from-tool");
    agc_status st = agc_mcp_server_log(agc_mcp_request_server(req), "warning", "test", d);
    json_decref(d);
    *out = json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text", "logged");
    return st;
}

static agc_status t_reconnect(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    agc_mcp_request_progress(req, 1, 2, "before close");
    agc_mcp_request_close_stream(req);
    usleep(100000);
    *out = json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text", "after-reconnect");
    return AGC_OK;
}

static agc_status t_sample(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    json_t *p = json_pack("{s:[{s:s,s:{s:s,s:s}}],s:i}", "messages", "role", "user", "content",
                          "type", "text", "text", "hi", "maxTokens", 10);
    json_t *r = NULL;
    agc_status st = agc_mcp_server_create_message(&r, agc_mcp_request_server(req), p, NULL);
    json_decref(p);
    char text[256];
    snprintf(text, sizeof text, "sampled: %s",
             st == AGC_OK ? agc_json_str(json_object_get(r, "content"), "text", "?") : "failed");
    json_decref(r);
    *out = json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text", text);
    return AGC_OK;
}

static void run_session(agc_mcp_transport *t, agc_ctx *ctx, const char *sid, void *user)
{
    (void)sid, (void)user;
    agc_log_set_level(ctx, AGC_LOG_OFF);
    agc_mcp_server *srv = NULL;
    if (agc_mcp_server_new(&srv, t, NULL, NULL, ctx) != AGC_OK)
        return;
    static const struct {
        const char *name;
        agc_mcp_tool_fn fn;
    } tools[] = {
        {"echo", t_echo}, {"log", t_log}, {"reconnect", t_reconnect}, {"sample", t_sample}};
    for (size_t i = 0; i < 4; i++) {
        agc_mcp_server_tool td = {tools[i].name, NULL, "test tool", NULL,
                                  NULL,          NULL, tools[i].fn, NULL};
        if (agc_mcp_server_add_tool(srv, &td) != AGC_OK)
            break;
    }
    (void)agc_mcp_server_run(srv);
    agc_mcp_server_free(srv);
}

typedef struct fx {
    agc_ctx *ctx;
    agc_mcp_http_server *srv;
    uint16_t port;
} fx;

static fx *start(const agc_mcp_http_server_opts *o)
{
    fx *f = calloc(1, sizeof *f);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    agc_status st = agc_mcp_http_server_new(&f->srv, o, run_session, NULL, f->ctx);
    if (st == AGC_ENOTFOUND) {
        agc_ctx_free(f->ctx);
        free(f);
        skip();
    }
    assert_int_equal(st, AGC_OK);
    f->port = agc_mcp_http_server_port(f->srv);
    return f;
}

static void stop(fx *f)
{
    agc_mcp_http_server_free(f->srv);
    agc_ctx_free(f->ctx);
    free(f);
}

/* ---- a raw HTTP client ---------------------------------------------------------------------- */

typedef struct conn {
    int fd;
    char buf[1 << 16];
    size_t len;
} conn;

static conn *http_send(uint16_t port, const char *method, const char *headers, const char *body)
{
    conn *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[4096];
    size_t blen = body ? strlen(body) : 0;
    bool has_host = headers && strcasestr(headers, "Host:");
    int n = snprintf(head, sizeof head,
                     "%s /mcp HTTP/1.1\r\n%s%s%sConnection: close\r\nContent-Length: %zu\r\n\r\n",
                     method, has_host ? "" : "Host: 127.0.0.1\r\n", headers ? headers : "",
                     body ? "Content-Type: application/json\r\n" : "", blen);
    assert_int_equal(write(c->fd, head, (size_t)n), n);
    if (blen)
        assert_int_equal(write(c->fd, body, blen), (ssize_t)blen);
    return c;
}

/* Reads until needle appears in what arrived (or EOF with needle NULL); false on timeout. */
static bool http_read_until(conn *c, const char *needle, int timeout_ms)
{
    for (;;) {
        c->buf[c->len] = '\0';
        if (needle && strstr(c->buf, needle))
            return true;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            return false;
        if (c->len + 1 >= sizeof c->buf)
            return false;
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1);
        if (r <= 0)
            return needle == NULL;
        c->len += (size_t)r;
    }
}

static int http_status(const conn *c)
{
    int st = 0;
    return sscanf(c->buf, "HTTP/1.%*d %d", &st) == 1 ? st : -1;
}

/* Copies a response header's value into out (case-insensitive name). */
static bool http_header(const conn *c, const char *name, char *out, size_t size)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\r\n%s:", name);
    const char *p = strcasestr(c->buf, pat);
    if (!p)
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(out, size, "%.*s", (int)n, p);
    return true;
}

static void http_close(conn *c)
{
    close(c->fd);
    free(c);
}

/* One whole exchange; returns the connection for inspection (free with http_close). */
static conn *http_do(uint16_t port, const char *method, const char *headers, const char *body)
{
    conn *c = http_send(port, method, headers, body);
    assert_true(http_read_until(c, NULL, 10000));
    return c;
}

#define ACCEPT_JSON "Accept: application/json\r\n"
#define ACCEPT_BOTH "Accept: application/json, text/event-stream\r\n"
#define INIT_BODY                                                                                  \
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"     \
    "\"2025-11-25\",\"capabilities\":{\"sampling\":{}},\"clientInfo\":{\"name\":\"t\","            \
    "\"version\":\"1\"}}}"

/* Initializes a session (JSON answer) and writes its id into sid. */
static void init_session(fx *f, char *sid, size_t size)
{
    conn *c = http_do(f->port, "POST", ACCEPT_JSON, INIT_BODY);
    assert_int_equal(http_status(c), 200);
    assert_true(http_header(c, "Mcp-Session-Id", sid, size));
    assert_non_null(strstr(c->buf, "\"protocolVersion\":\"2025-11-25\""));
    http_close(c);
    char h[256];
    snprintf(h, sizeof h, ACCEPT_BOTH "Mcp-Session-Id: %s\r\n", sid);
    c = http_do(f->port, "POST", h,
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_int_equal(http_status(c), 202);
    http_close(c);
}

/* ---- tests -------------------------------------------------------------------------------------
 */

static void session_lifecycle_json_and_sse(void **state)
{
    (void)state;
    fx *f = start(NULL);
    char sid[80], h[256];
    init_session(f, sid, sizeof sid);
    assert_int_equal(strlen(sid), 32);
    assert_int_equal(agc_mcp_http_server_session_count(f->srv), 1);

    /* JSON answer */
    snprintf(h, sizeof h, ACCEPT_JSON "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: 2025-11-25\r\n",
             sid);
    conn *c = http_do(f->port, "POST", h,
                      "{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"tools/call\",\"params\":{"
                      "\"name\":\"echo\",\"arguments\":{\"text\":\"hello json\"}}}");
    assert_int_equal(http_status(c), 200);
    assert_non_null(strstr(c->buf, "application/json"));
    assert_non_null(strstr(c->buf, "\"id\":\"s1\""));
    assert_non_null(strstr(c->buf, "hello json"));
    http_close(c);

    /* SSE answer: priming event (id, retry, empty data), then the response; the stream ends */
    snprintf(h, sizeof h, ACCEPT_BOTH "Mcp-Session-Id: %s\r\n", sid);
    c = http_do(f->port, "POST", h,
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
                "\"echo\",\"arguments\":{\"text\":\"hello sse\"}}}");
    assert_int_equal(http_status(c), 200);
    assert_non_null(strstr(c->buf, "text/event-stream"));
    assert_non_null(strstr(c->buf, "retry: 1000\ndata: \n\n"));
    assert_non_null(strstr(c->buf, "data: {\"jsonrpc\":\"2.0\",\"id\":7,"));
    assert_non_null(strstr(c->buf, "hello sse"));
    http_close(c);

    /* ping, an unknown method (-32601) */
    c = http_do(f->port, "POST", h, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"nope/x\"}");
    assert_non_null(strstr(c->buf, "-32601"));
    http_close(c);

    /* DELETE ends it: later requests get 404 */
    snprintf(h, sizeof h, "Mcp-Session-Id: %s\r\n", sid);
    c = http_do(f->port, "DELETE", h, NULL);
    assert_int_equal(http_status(c), 200);
    http_close(c);
    snprintf(h, sizeof h, ACCEPT_JSON "Mcp-Session-Id: %s\r\n", sid);
    c = http_do(f->port, "POST", h, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}");
    assert_int_equal(http_status(c), 404);
    http_close(c);
    stop(f);
}

static void rejects_bad_requests(void **state)
{
    (void)state;
    agc_mcp_http_server_opts o = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    o.max_body_bytes = 4096;
    fx *f = start(&o);
    char sid[80], h[256];
    /* no session id on a non-initialize request */
    conn *c =
        http_do(f->port, "POST", ACCEPT_JSON, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    assert_int_equal(http_status(c), 400);
    assert_non_null(strstr(c->buf, "Mcp-Session-Id"));
    http_close(c);
    /* unknown session */
    c = http_do(f->port, "POST", ACCEPT_JSON "Mcp-Session-Id: 0123456789abcdef\r\n",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    assert_int_equal(http_status(c), 404);
    http_close(c);
    /* malformed JSON: 400 with a parse error, id null */
    c = http_do(f->port, "POST", ACCEPT_JSON, "{\"jsonrpc\":");
    assert_int_equal(http_status(c), 400);
    assert_non_null(strstr(c->buf, "-32700"));
    assert_non_null(strstr(c->buf, "\"id\":null"));
    http_close(c);
    /* a batch */
    c = http_do(f->port, "POST", ACCEPT_JSON, "[]");
    assert_int_equal(http_status(c), 400);
    assert_non_null(strstr(c->buf, "-32600"));
    http_close(c);
    /* wrong content type, wrong Accept on GET, unsupported method */
    c = http_do(f->port, "POST", ACCEPT_JSON "Content-Type: text/plain\r\n", NULL);
    assert_int_equal(http_status(c), 415);
    http_close(c);
    c = http_do(f->port, "PUT", NULL, NULL);
    assert_int_equal(http_status(c), 405);
    http_close(c);
    /* body over the cap */
    char *big = malloc(8192);
    memset(big, ' ', 8191);
    big[8191] = '\0';
    big[0] = '{';
    big[8190] = '}';
    c = http_do(f->port, "POST", ACCEPT_JSON, big);
    assert_int_equal(http_status(c), 413);
    http_close(c);
    free(big);
    /* an unsupported protocol version header */
    init_session(f, sid, sizeof sid);
    snprintf(h, sizeof h, ACCEPT_JSON "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: 1999-01-01\r\n",
             sid);
    c = http_do(f->port, "POST", h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    assert_int_equal(http_status(c), 400);
    assert_non_null(strstr(c->buf, "1999-01-01"));
    http_close(c);
    /* the session still works after all that */
    snprintf(h, sizeof h, ACCEPT_JSON "Mcp-Session-Id: %s\r\n", sid);
    c = http_do(f->port, "POST", h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
    assert_int_equal(http_status(c), 200);
    assert_non_null(strstr(c->buf, "\"result\":{}"));
    http_close(c);
    stop(f);
}

static void rejects_foreign_origin_and_host(void **state)
{
    (void)state;
    fx *f = start(NULL);
    conn *c =
        http_do(f->port, "POST", ACCEPT_JSON "Origin: http://evil.example.com\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 403);
    http_close(c);
    c = http_do(f->port, "POST", ACCEPT_JSON "Host: evil.example.com\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 403);
    http_close(c);
    c = http_do(f->port, "POST",
                ACCEPT_JSON "Host: localhost:1234\r\nOrigin: http://localhost:3000\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 200);
    http_close(c);
    c = http_do(f->port, "POST", ACCEPT_JSON "Host: [::1]:80\r\nOrigin: https://127.0.0.1\r\n",
                INIT_BODY);
    assert_int_equal(http_status(c), 200);
    http_close(c);
    stop(f);
    /* an allow-list admits a named origin */
    const char *origins[] = {"https://app.example.com", NULL};
    agc_mcp_http_server_opts o = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    o.allowed_origins = origins;
    f = start(&o);
    c = http_do(f->port, "POST", ACCEPT_JSON "Origin: https://app.example.com\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 200);
    http_close(c);
    c = http_do(f->port, "POST", ACCEPT_JSON "Origin: https://other.example.com\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 403);
    http_close(c);
    stop(f);
}

static void requires_bearer_token(void **state)
{
    (void)state;
    agc_mcp_http_server_opts o = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    o.bearer_token = "s3cret-token";
    fx *f = start(&o);
    conn *c = http_do(f->port, "POST", ACCEPT_JSON, INIT_BODY);
    assert_int_equal(http_status(c), 401);
    assert_non_null(strcasestr(c->buf, "WWW-Authenticate: Bearer"));
    http_close(c);
    c = http_do(f->port, "POST", ACCEPT_JSON "Authorization: Bearer wrong\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 401);
    http_close(c);
    c = http_do(f->port, "POST", ACCEPT_JSON "Authorization: Bearer s3cret-token\r\n", INIT_BODY);
    assert_int_equal(http_status(c), 200);
    http_close(c);
    stop(f);
}

static void limits_sessions(void **state)
{
    (void)state;
    agc_mcp_http_server_opts o = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    o.max_sessions = 2;
    fx *f = start(&o);
    char a[80], b[80], h[256];
    init_session(f, a, sizeof a);
    init_session(f, b, sizeof b);
    conn *c = http_do(f->port, "POST", ACCEPT_JSON, INIT_BODY);
    assert_int_equal(http_status(c), 503);
    assert_non_null(strstr(c->buf, "too many"));
    http_close(c);
    snprintf(h, sizeof h, "Mcp-Session-Id: %s\r\n", a);
    http_close(http_do(f->port, "DELETE", h, NULL));
    c = http_do(f->port, "POST", ACCEPT_JSON, INIT_BODY);
    assert_int_equal(http_status(c), 200);
    http_close(c);
    stop(f);
}

static void get_stream_carries_unrelated_messages(void **state)
{
    (void)state;
    fx *f = start(NULL);
    char sid[80], h[256];
    init_session(f, sid, sizeof sid);
    snprintf(h, sizeof h, "Accept: text/event-stream\r\nMcp-Session-Id: %s\r\n", sid);
    conn *g = http_send(f->port, "GET", h, NULL);
    assert_true(http_read_until(g, "text/event-stream", 5000));
    /* a JSON-answered call cannot carry the log line: it goes to the GET stream */
    snprintf(h, sizeof h, ACCEPT_JSON "Mcp-Session-Id: %s\r\n", sid);
    conn *c = http_do(f->port, "POST", h,
                      "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{"
                      "\"name\":\"log\"}}");
    assert_non_null(strstr(c->buf, "logged"));
    http_close(c);
    assert_true(http_read_until(g, "log-line-from-tool", 5000));
    assert_non_null(strstr(g->buf, "id: 0-"));
    http_close(g);
    stop(f);
}

static void resumes_after_last_event_id(void **state)
{
    (void)state;
    fx *f = start(NULL);
    char sid[80], h[256];
    init_session(f, sid, sizeof sid);
    snprintf(h, sizeof h, ACCEPT_BOTH "Mcp-Session-Id: %s\r\n", sid);
    conn *c = http_do(f->port, "POST", h,
                      "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{"
                      "\"name\":\"reconnect\",\"_meta\":{\"progressToken\":\"p\"}}}");
    /* the server closed the stream after the priming event and a progress event */
    assert_null(strstr(c->buf, "after-reconnect"));
    const char *last = NULL;
    for (const char *p = c->buf; (p = strstr(p, "id: ")); p += 4)
        last = p + 4;
    assert_non_null(last);
    char lei[64];
    snprintf(lei, sizeof lei, "%.*s", (int)strcspn(last, "\n"), last);
    http_close(c);
    snprintf(h, sizeof h,
             "Accept: text/event-stream\r\nMcp-Session-Id: %s\r\nLast-Event-ID: %s\r\n", sid, lei);
    c = http_send(f->port, "GET", h, NULL);
    assert_true(http_read_until(c, "after-reconnect", 5000));
    assert_non_null(strstr(c->buf, "\"id\":11"));
    assert_null(strstr(c->buf, "before close")); /* already seen: not replayed */
    http_close(c);
    /* an unknown stream */
    snprintf(h, sizeof h,
             "Accept: text/event-stream\r\nMcp-Session-Id: %s\r\nLast-Event-ID: 999-1\r\n", sid);
    c = http_do(f->port, "GET", h, NULL);
    assert_int_equal(http_status(c), 404);
    http_close(c);
    stop(f);
}

static void server_request_answered_by_post(void **state)
{
    (void)state;
    fx *f = start(NULL);
    char sid[80], h[256];
    init_session(f, sid, sizeof sid);
    snprintf(h, sizeof h, ACCEPT_BOTH "Mcp-Session-Id: %s\r\n", sid);
    conn *c = http_send(f->port, "POST", h,
                        "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/call\",\"params\":{"
                        "\"name\":\"sample\"}}");
    /* the sampling request travels on this request's stream */
    assert_true(http_read_until(c, "sampling/createMessage", 5000));
    const char *idp = strstr(strstr(c->buf, "sampling/createMessage") - 40, "\"id\":");
    assert_non_null(idp);
    long id = strtol(idp + 5, NULL, 10);
    char body[256];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"result\":{\"role\":\"assistant\",\"content\":{"
             "\"type\":\"text\",\"text\":\"from-the-client\"},\"model\":\"m\"}}",
             id);
    conn *r = http_do(f->port, "POST", h, body);
    assert_int_equal(http_status(r), 202);
    http_close(r);
    assert_true(http_read_until(c, "sampled: from-the-client", 5000));
    http_close(c);
    stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session_lifecycle_json_and_sse),
        cmocka_unit_test(rejects_bad_requests),
        cmocka_unit_test(rejects_foreign_origin_and_host),
        cmocka_unit_test(requires_bearer_token),
        cmocka_unit_test(limits_sessions),
        cmocka_unit_test(get_stream_carries_unrelated_messages),
        cmocka_unit_test(resumes_after_last_event_id),
        cmocka_unit_test(server_request_answered_by_post),
    };
    return cmocka_run_group_tests_name("mcp_http_server_transport", tests, NULL, NULL);
}
