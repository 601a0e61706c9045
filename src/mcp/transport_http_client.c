/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP Streamable HTTP client transport. send POSTs one message (Accept:
 * application/json, text/event-stream); the answer comes as a JSON body or
 * an SSE stream, and server requests/notifications may come on it or on the
 * GET stream opened after notifications/initialized (404/405: none). A POST
 * stream that ends before our request was answered is resumed with a GET
 * carrying Last-Event-ID after the server's retry delay; the GET stream is
 * reopened the same way. HTTP failures become JSON-RPC errors for the request
 * they concern. Invariant: network work only happens inside send/recv/close
 * (one thread). Not here: OAuth, the legacy mode (transport_sse_legacy.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "transport_http_client_int.h"

#define MOD         AGC__MCP_MOD
#define EXCERPT_MAX 400
#define MAX_HEADERS 8
#define CT_JSON     "application/json"
#define ACCEPT_BOTH "application/json, text/event-stream"
#define CODE_HTTP   (-32000)

void agc_mcp_http_client_opts_init(agc_mcp_http_client_opts *opts)
{
    *opts = (agc_mcp_http_client_opts)AGC_MCP_HTTP_CLIENT_OPTS_INIT;
}

/* ---- small helpers ------------------------------------------------------------------- */

agc_status agc_mcp__h_queue(hcli *h, hmsg **head, hmsg **tail, const char *text, size_t len)
{
    hmsg *m = agc_calloc(h->ctx, 1, sizeof *m);
    char *copy = m ? agc_strndup(h->ctx, text, len) : NULL;
    if (!copy) {
        agc_free(h->ctx, m);
        return agc_error_set(h->ctx, AGC_ENOMEM, MOD, "out of memory queueing an MCP message");
    }
    m->text = copy;
    m->len = len;
    if (*tail)
        (*tail)->next = m;
    else
        *head = m;
    *tail = m;
    return AGC_OK;
}

void agc_mcp__h_kill(hcli *h, const char *fmt, ...)
{
    if (h->dead)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->why, sizeof h->why, fmt, ap);
    va_end(ap);
    h->dead = true;
    agc_log(h->ctx, AGC_LOG_WARN, MOD, "%s", h->why);
    agc_http_client_wakeup(h->hc);
}

void agc_mcp__h_synth_error(hcli *h, const json_t *id, int code, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!id) {
        agc_log(h->ctx, AGC_LOG_WARN, MOD, "%s", msg);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    if (agc_jsonrpc_build_error(&text, &len, id, code, msg, NULL, h->ctx) != AGC_OK ||
        agc_mcp__h_queue(h, &h->in_head, &h->in_tail, text, len) != AGC_OK)
        agc_mcp__h_kill(h, "out of memory reporting: %s", msg);
    agc_free(h->ctx, text);
    agc_http_client_wakeup(h->hc);
}

/* Printable excerpt of an error body (control characters become spaces). */
static void excerpt(char *out, size_t size, const agc_buf *b)
{
    const char *src = agc_buf_cstr(b);
    size_t n = 0;
    for (size_t i = 0; src[i] && n + 4 < size && i < EXCERPT_MAX; i++)
        out[n++] = (unsigned char)src[i] < 0x20 ? ' ' : src[i];
    if (src[0] && strlen(src) > EXCERPT_MAX && n + 4 < size) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    if (!n)
        snprintf(out, size, "(empty body)");
}

/* The JSON-RPC error inside an error body, if it is one: code and message. */
static int body_rpc_error(const agc_buf *b, char *msg, size_t size, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *j = b->len ? json_loadb(b->data, b->len, 0, NULL) : NULL;
    agc_json_leave(prev);
    const json_t *err = json_object_get(j, "error");
    int code = 0;
    if (json_is_integer(json_object_get(err, "code")) && agc_json_str(err, "message", NULL)) {
        code = (int)json_integer_value(json_object_get(err, "code"));
        snprintf(msg, size, "%s", agc_json_str(err, "message", ""));
    }
    json_decref(j);
    return code;
}

/* ---- incoming messages --------------------------------------------------------------- */

static void sniff_response(hcli *h, hstream *s, const json_t *m)
{
    const json_t *id = json_object_get(m, "id");
    if (!id || (!json_object_get(m, "result") && !json_object_get(m, "error")))
        return;
    (void)s;
    for (hstream *o = h->streams; o; o = o->next) /* the answer may come on any stream */
        if (o->req_id && json_equal((json_t *)id, o->req_id))
            o->answered = true;
    if (h->init_id && json_equal((json_t *)id, h->init_id)) {
        const char *pv = agc_json_str(json_object_get(m, "result"), "protocolVersion", NULL);
        if (pv && !h->proto)
            h->proto = agc_strdup(h->ctx, pv);
        json_decref(h->init_id);
        h->init_id = NULL;
    }
}

void agc_mcp__h_incoming(hcli *h, hstream *s, const char *text, size_t len)
{
    if (len > h->max_msg) {
        agc_log(h->ctx, AGC_LOG_WARN, MOD,
                "MCP server '%s' sent a message of %zu bytes, over the %zu-byte cap; dropped",
                h->name, len, h->max_msg);
        return;
    }
    agc_ctx *prev = agc_json_enter(h->ctx);
    json_t *m = json_loadb(text, len, 0, NULL);
    agc_json_leave(prev);
    if (json_is_array(m)) { /* a batch (2025-03-26 servers): hand out each message */
        size_t i;
        json_t *e;
        json_array_foreach(m, i, e)
        {
            char *one = NULL;
            if (agc_json_dump(&one, e, JSON_COMPACT, h->ctx) == AGC_OK)
                agc_mcp__h_incoming(h, s, one, strlen(one));
            agc_free(h->ctx, one);
        }
        json_decref(m);
        return;
    }
    if (json_is_object(m))
        sniff_response(h, s, m);
    json_decref(m);
    /* malformed text still goes to the session, which answers or logs it */
    if (agc_mcp__h_queue(h, &h->in_head, &h->in_tail, text, len) != AGC_OK)
        agc_mcp__h_kill(h, "out of memory receiving from MCP server '%s'", h->name);
    agc_http_client_wakeup(h->hc);
}

/* ---- streams -------------------------------------------------------------------------- */

static agc_status on_event(const agc_sse_event *ev, void *user)
{
    hstream *s = user;
    hcli *h = s->h;
    agc_free(h->ctx, s->last_id);
    s->last_id = ev->id_len ? agc_strndup(h->ctx, ev->id, ev->id_len) : NULL;
    s->retry_ms = ev->retry_ms;
    if (s->kind == HS_LEGACY)
        return agc_mcp__legacy_event(h, ev);
    if (strcmp(ev->type, "message") != 0 || ev->data_len == 0)
        return AGC_OK; /* priming events (empty data) and other types carry no message */
    agc_mcp__h_incoming(h, s, ev->data, ev->data_len);
    return AGC_OK;
}

hstream *agc_mcp__hs_new(hcli *h, hstream_kind kind)
{
    hstream *s = agc_calloc(h->ctx, 1, sizeof *s);
    if (!s)
        return NULL;
    s->h = h;
    s->kind = kind;
    s->retry_ms = -1;
    agc_buf_init(&s->body, h->ctx, h->max_msg + 1);
    s->next = h->streams;
    h->streams = s;
    return s;
}

void agc_mcp__hs_free(hstream *s)
{
    hcli *h = s->h;
    for (hstream **pp = &h->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    json_decref(s->req_id);
    agc_free(h->ctx, s->method);
    agc_free(h->ctx, s->last_id);
    agc_sse_parser_free(s->parser);
    agc_buf_free(&s->body);
    agc_free(h->ctx, s);
}

static agc_status on_headers(agc_http_req *req, int status, const agc_http_headers *hd, void *user)
{
    (void)req;
    hstream *s = user;
    hcli *h = s->h;
    s->status = status;
    agc_buf_clear(&s->body);
    const char *sid = agc_http_headers_get(hd, "Mcp-Session-Id");
    if (sid && status >= 200 && status < 300 && !h->legacy &&
        (!h->session_id || strcmp(sid, h->session_id) != 0)) {
        agc_free(h->ctx, h->session_id);
        h->session_id = agc_strdup(h->ctx, sid);
    }
    const char *ct = agc_http_headers_get(hd, "Content-Type");
    s->sse = status >= 200 && status < 300 && ct && strstr(ct, "text/event-stream");
    if (s->sse) {
        s->ever_ok = true;
        s->attempts = 0;
        if (!s->parser)
            return agc_sse_parser_new(&s->parser, on_event, s, h->max_msg + 4096, h->ctx);
    }
    return AGC_OK;
}

static agc_status on_data(agc_http_req *req, const void *data, size_t len, void *user)
{
    (void)req;
    hstream *s = user;
    if (s->sse)
        return agc_sse_feed(s->parser, data, len);
    if (s->status >= 300) { /* keep an excerpt of an error body, discard the rest */
        size_t room = s->body.len < EXCERPT_MAX + 8 ? EXCERPT_MAX + 8 - s->body.len : 0;
        return room ? agc_buf_append(&s->body, data, len < room ? len : room) : AGC_OK;
    }
    agc_status st = agc_buf_append(&s->body, data, len);
    if (st == AGC_ELIMIT)
        return agc_error_set(s->h->ctx, AGC_ELIMIT, MOD,
                             "MCP server '%s' sent a JSON body over the %zu-byte message cap",
                             s->h->name, s->h->max_msg);
    return st;
}

static void on_done(agc_http_req *req, const agc_http_result *res, void *user);

static const agc_http_callbacks stream_cbs = {AGC_HTTP_CALLBACKS_VERSION, on_headers, on_data,
                                              on_done};

agc_status agc_mcp__hs_start(hstream *s, const char *method, const char *url, const char *body,
                             size_t len)
{
    hcli *h = s->h;
    agc_http_header hv[MAX_HEADERS + 16];
    size_t n = 0;
    for (size_t i = 0; i < h->nheaders && n < MAX_HEADERS + 8; i++)
        hv[n++] = h->headers[i];
    bool post = strcmp(method, "POST") == 0;
    hv[n++] = (agc_http_header){"Accept", post && !h->legacy ? ACCEPT_BOTH : "text/event-stream"};
    if (post)
        hv[n++] = (agc_http_header){"Content-Type", CT_JSON};
    if (h->session_id && !h->legacy)
        hv[n++] = (agc_http_header){"Mcp-Session-Id", h->session_id};
    if (h->proto && !h->legacy)
        hv[n++] = (agc_http_header){"MCP-Protocol-Version", h->proto};
    if (!post && s->last_id)
        hv[n++] = (agc_http_header){"Last-Event-ID", s->last_id};
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.connect_timeout_ms = h->connect_timeout_ms;
    o.max_response_bytes = (size_t)-1 / 2; /* per-message caps apply instead */
    o.ca_file = h->ca_file;
    s->status = 0;
    s->sse = false;
    if (s->parser)
        (void)agc_sse_finish(s->parser);
    return agc_http_start(&s->req, h->hc, method, url, hv, n, body, len, &o, &stream_cbs, s);
}

/* Schedules a reconnection GET of s after its retry delay. */
static void reschedule(hstream *s, hstream_kind kind)
{
    hcli *h = s->h;
    int64_t wait = s->retry_ms >= 0 ? s->retry_ms : h->default_retry_ms;
    s->kind = kind;
    s->req = NULL;
    s->due_ns = agc_clock_monotonic_ns(h->ctx) + wait * 1000000;
    agc_log(h->ctx, AGC_LOG_DEBUG, MOD, "MCP server '%s': reconnecting a stream in %lld ms%s",
            h->name, (long long)wait, s->last_id ? " with Last-Event-ID" : "");
}

static void post_done(hcli *h, hstream *s, const agc_http_result *res)
{
    bool awaiting = s->req_id && !s->answered;
    const json_t *fail_id = s->req_id && (awaiting || h->legacy) ? s->req_id : NULL;
    const char *m = s->method ? s->method : "message";
    if (res->status != AGC_OK && res->http_status == 0 && !s->ever_ok &&
        res->status != AGC_ECANCELED && res->status != AGC_ELIMIT) {
        /* nothing answered at all: the server is unreachable */
        if (awaiting && !h->session_id && !h->proto)
            agc_mcp__h_kill(h, "cannot reach MCP server '%s' (POST %s): %s", h->name, m,
                            res->message);
        else
            agc_mcp__h_synth_error(h, fail_id, CODE_HTTP,
                                   "POST of '%s' to MCP server '%s' failed: %s", m, h->name,
                                   res->message);
        return;
    }
    int code = res->http_status;
    if (code >= 400 && code < 500 && h->mode == AGC_MCP_HTTP_AUTO && !h->legacy && s->method &&
        strcmp(s->method, "initialize") == 0 && !h->session_id) {
        char ex[EXCERPT_MAX + 16];
        excerpt(ex, sizeof ex, &s->body);
        snprintf(h->fallback_why, sizeof h->fallback_why, "POST answered HTTP %d: %.200s", code,
                 ex);
        agc_log(h->ctx, AGC_LOG_INFO, MOD,
                "MCP server '%s' refused Streamable HTTP (HTTP %d); trying the legacy HTTP+SSE "
                "transport",
                h->name, code);
        if (agc_mcp__legacy_start(h) != AGC_OK)
            agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP, "%s", agc_ctx_errmsg(h->ctx));
        return;
    }
    if (code >= 300) {
        char ex[EXCERPT_MAX + 16], rpc[300];
        excerpt(ex, sizeof ex, &s->body);
        int rc = body_rpc_error(&s->body, rpc, sizeof rpc, h->ctx);
        if (code == 404 && h->session_id)
            agc_mcp__h_synth_error(h, fail_id, rc ? rc : CODE_HTTP,
                                   "HTTP 404 from POST '%s' to MCP server '%s': the session "
                                   "expired or was ended by the server (initialize again): %s",
                                   m, h->name, ex);
        else
            agc_mcp__h_synth_error(h, fail_id, rc ? rc : CODE_HTTP,
                                   "HTTP %d from POST '%s' to MCP server '%s': %s", code, m,
                                   h->name, rc ? rpc : ex);
        return;
    }
    if (!s->sse && s->body.len && !h->legacy) { /* a JSON answer */
        agc_ctx *prev = agc_json_enter(h->ctx);
        json_t *probe = json_loadb(s->body.data, s->body.len, 0, NULL);
        agc_json_leave(prev);
        bool valid = probe != NULL;
        json_decref(probe);
        if (valid)
            agc_mcp__h_incoming(h, s, s->body.data, s->body.len);
        else if (awaiting) {
            char ex[EXCERPT_MAX + 16];
            excerpt(ex, sizeof ex, &s->body);
            agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP,
                                   "MCP server '%s' answered POST '%s' with a body that is not "
                                   "JSON: %s",
                                   h->name, m, ex);
            return;
        }
        agc_buf_clear(&s->body);
    }
    if (!awaiting || s->answered)
        return;
    if (res->status == AGC_ELIMIT) {
        agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP, "%s", res->message);
        return;
    }
    if (s->sse && s->last_id && s->attempts < h->max_reconnects) {
        reschedule(s, HS_RESUME);
        return;
    }
    agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP,
                           "MCP server '%s' ended the %s answer to '%s' without a response%s%s",
                           h->name, s->sse ? "SSE" : "HTTP", m,
                           res->status != AGC_OK ? ": " : " (and gave no event id to resume)",
                           res->status != AGC_OK ? res->message : "");
}

static void get_done(hcli *h, hstream *s, const agc_http_result *res)
{
    int code = res->http_status;
    if (s->kind == HS_RESUME && s->answered)
        return;
    if (code == 404 || code == 405 || (code >= 400 && s->kind == HS_GET && !s->ever_ok)) {
        if (s->kind == HS_GET) {
            agc_log(h->ctx, AGC_LOG_DEBUG, MOD, "MCP server '%s' offers no GET stream (HTTP %d)",
                    h->name, code);
            return;
        }
    }
    if (code >= 300) {
        char ex[EXCERPT_MAX + 16];
        excerpt(ex, sizeof ex, &s->body);
        if (s->kind == HS_RESUME)
            agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP,
                                   "MCP server '%s' refused to resume the answer to '%s' "
                                   "(HTTP %d from GET with Last-Event-ID): %s",
                                   h->name, s->method ? s->method : "?", code, ex);
        else
            agc_log(h->ctx, AGC_LOG_INFO, MOD, "MCP server '%s': GET stream refused (HTTP %d): %s",
                    h->name, code, ex);
        return;
    }
    if (res->status != AGC_OK || code == 0)
        s->attempts++;
    if (s->attempts < h->max_reconnects && (s->ever_ok || s->kind == HS_RESUME)) {
        h->reconnects++;
        reschedule(s, s->kind);
        return;
    }
    if (s->kind == HS_RESUME)
        agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP,
                               "MCP server '%s': could not resume the answer to '%s' after %u "
                               "attempts: %s",
                               h->name, s->method ? s->method : "?", s->attempts,
                               res->message[0] ? res->message : "stream ended");
    else
        agc_log(h->ctx, AGC_LOG_INFO, MOD, "MCP server '%s': GET stream given up: %s", h->name,
                res->message[0] ? res->message : "ended");
}

static void on_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    (void)req;
    hstream *s = user;
    hcli *h = s->h;
    s->req = NULL;
    if (s->parser)
        (void)agc_sse_finish(s->parser);
    if (h->closing || res->status == AGC_ECANCELED) {
        agc_mcp__hs_free(s);
        return;
    }
    switch (s->kind) {
    case HS_POST:
        post_done(h, s, res);
        break;
    case HS_GET:
    case HS_RESUME:
        get_done(h, s, res);
        break;
    case HS_LEGACY:
        agc_mcp__legacy_ended(h, s, res);
        break;
    }
    if (!s->req && !s->due_ns)
        agc_mcp__hs_free(s);
    agc_http_client_wakeup(h->hc);
}

/* Starts every stream whose reconnection time has come; returns the earliest due time left. */
static int64_t start_due(hcli *h)
{
    int64_t now = agc_clock_monotonic_ns(h->ctx), next = 0;
    for (hstream *s = h->streams, *nx; s; s = nx) {
        nx = s->next;
        if (s->req || !s->due_ns)
            continue;
        if (s->kind == HS_RESUME && s->answered) { /* the answer came on another stream */
            agc_mcp__hs_free(s);
            continue;
        }
        if (s->due_ns > now) {
            if (!next || s->due_ns < next)
                next = s->due_ns;
            continue;
        }
        s->due_ns = 0;
        if (s->kind == HS_RESUME)
            h->reconnects++;
        agc_status st = agc_mcp__hs_start(s, "GET", h->url, NULL, 0);
        if (st != AGC_OK) {
            if (s->kind == HS_RESUME)
                agc_mcp__h_synth_error(h, s->req_id, CODE_HTTP, "cannot resume '%s': %s",
                                       s->method ? s->method : "?", agc_ctx_errmsg(h->ctx));
            agc_mcp__hs_free(s);
        }
    }
    return next;
}

/* ---- the transport ops ------------------------------------------------------------------ */

/* We gave up on request id (canceled or timed out): stop waiting for its answer. */
static void drop_streams_of(hcli *h, const json_t *id)
{
    for (hstream *s = h->streams, *nx; id && s; s = nx) {
        nx = s->next;
        if (!s->req_id || !json_equal(s->req_id, (json_t *)id))
            continue;
        if (s->req)
            agc_http_cancel(s->req); /* on_done frees it */
        else if (s->due_ns)
            agc_mcp__hs_free(s);
    }
}

static agc_status h_send(void *self, const char *msg, size_t len)
{
    hcli *h = self;
    if (h->dead)
        return agc_error_set(h->ctx, AGC_EIO, MOD, "%s", h->why);
    agc_ctx *prev = agc_json_enter(h->ctx);
    json_t *m = json_loadb(msg, len, 0, NULL);
    agc_json_leave(prev);
    const json_t *id = json_object_get(m, "id");
    const char *method = agc_json_str(m, "method", NULL);
    bool request = method && agc_jsonrpc_id_valid(id);
    if (request && strcmp(method, "initialize") == 0) {
        json_decref(h->init_id);
        h->init_id = json_incref((json_t *)id);
        agc_free(h->ctx, h->init_text);
        h->init_text = agc_strndup(h->ctx, msg, len);
    }
    agc_status st;
    if (h->legacy || h->mode == AGC_MCP_HTTP_LEGACY_SSE) {
        st = h->legacy || !request || strcmp(method, "initialize") != 0
                 ? agc_mcp__legacy_send(h, msg, len, request ? id : NULL, method)
                 : agc_mcp__legacy_start(h);
        json_decref(m);
        return st;
    }
    if (method && !request && strcmp(method, "notifications/cancelled") == 0)
        drop_streams_of(h, json_object_get(json_object_get(m, "params"), "requestId"));
    hstream *s = agc_mcp__hs_new(h, HS_POST);
    if (!s) {
        json_decref(m);
        return agc_error_set(h->ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    s->req_id = request ? json_incref((json_t *)id) : NULL;
    s->method = method ? agc_strdup(h->ctx, method) : NULL;
    bool initialized = method && !request && strcmp(method, "notifications/initialized") == 0;
    json_decref(m);
    st = agc_mcp__hs_start(s, "POST", h->url, msg, len);
    if (st != AGC_OK) {
        agc_mcp__hs_free(s);
        return st;
    }
    if (initialized && h->open_get && !h->get_started) {
        h->get_started = true;
        hstream *g = agc_mcp__hs_new(h, HS_GET);
        if (g && agc_mcp__hs_start(g, "GET", h->url, NULL, 0) != AGC_OK)
            agc_mcp__hs_free(g); /* not fatal: the server may still answer on POST streams */
    }
    /* get the request going now (sends it without waiting for the answer) */
    st = agc_http_client_run(h->hc, 0);
    return st == AGC_EBUSY || st == AGC_OK ? AGC_OK : st;
}

static agc_status h_recv(void *self, char **msg_out, size_t *len_out, int64_t timeout_ms)
{
    hcli *h = self;
    int64_t deadline = timeout_ms > 0 ? agc_clock_monotonic_ns(h->ctx) + timeout_ms * 1000000 : 0;
    for (;;) {
        if (h->in_head) {
            hmsg *m = h->in_head;
            h->in_head = m->next;
            if (!h->in_head)
                h->in_tail = NULL;
            *msg_out = m->text;
            *len_out = m->len;
            agc_free(h->ctx, m);
            return AGC_OK;
        }
        if (h->dead)
            return agc_error_set(h->ctx, AGC_EIO, MOD, "%s", h->why);
        int64_t next_due = start_due(h);
        int64_t now = agc_clock_monotonic_ns(h->ctx);
        int64_t wait = timeout_ms < 0 ? 1000 : deadline ? (deadline - now) / 1000000 : 0;
        if (wait < 0)
            wait = 0;
        if (next_due) {
            int64_t until = (next_due - now) / 1000000 + 1;
            if (until < wait || (timeout_ms < 0 && until < 1000))
                wait = until < 0 ? 0 : until;
        }
        if (agc_http_client_pending(h->hc) == 0) {
            if (wait > 0 && !h->in_head)
                agc_clock_sleep_ms(h->ctx, wait > 50 && !next_due ? 50 : wait);
        } else {
            agc_status st = agc_http_client_run(h->hc, wait);
            if (st != AGC_OK && st != AGC_EBUSY)
                agc_mcp__h_kill(h, "MCP server '%s': HTTP client failed: %s", h->name,
                                agc_ctx_errmsg(h->ctx));
        }
        if (h->in_head || h->dead)
            continue;
        if (timeout_ms == 0 || (deadline && agc_clock_monotonic_ns(h->ctx) >= deadline))
            return AGC_OK;
    }
}

static agc_status h_close(void *self)
{
    hcli *h = self;
    /* let outgoing POSTs (e.g. a last notification) finish briefly; drop the streams */
    for (hstream *s = h->streams; s; s = s->next)
        if (s->req && s->kind != HS_POST)
            agc_http_cancel(s->req);
    int64_t until = agc_clock_monotonic_ns(h->ctx) + (int64_t)500 * 1000000;
    while (!h->dead && agc_http_client_pending(h->hc) > 0 &&
           agc_clock_monotonic_ns(h->ctx) < until) {
        bool posts = false;
        for (hstream *s = h->streams; s; s = s->next)
            posts |= s->req && s->kind == HS_POST && !s->req_id;
        if (!posts)
            break;
        (void)agc_http_client_run(h->hc, 50);
    }
    h->closing = true;
    if (h->session_id && !h->legacy && !h->dead) {
        agc_http_header hv[MAX_HEADERS + 8];
        size_t n = 0;
        for (size_t i = 0; i < h->nheaders && n < MAX_HEADERS; i++)
            hv[n++] = h->headers[i];
        hv[n++] = (agc_http_header){"Mcp-Session-Id", h->session_id};
        if (h->proto)
            hv[n++] = (agc_http_header){"MCP-Protocol-Version", h->proto};
        agc_http_opts o = AGC_HTTP_OPTS_INIT;
        o.connect_timeout_ms = h->connect_timeout_ms;
        o.timeout_ms = 2000;
        o.ca_file = h->ca_file;
        agc_http_response *r = NULL;
        if (agc_http_request_sync(&r, h->hc, "DELETE", h->url, hv, n, NULL, 0, &o) == AGC_OK)
            agc_log(h->ctx, AGC_LOG_DEBUG, MOD, "MCP server '%s': DELETE session: HTTP %d", h->name,
                    r->status);
        agc_http_response_free(r);
    }
    agc_http_client_free(h->hc); /* cancels what is left; on_done frees the streams */
    h->hc = NULL;
    return AGC_OK;
}

static void free_msgs(agc_ctx *ctx, hmsg *m)
{
    while (m) {
        hmsg *n = m->next;
        agc_free(ctx, m->text);
        agc_free(ctx, m);
        m = n;
    }
}

static void h_destroy(void *self)
{
    hcli *h = self;
    if (!h)
        return;
    h->closing = true;
    agc_http_client_free(h->hc);
    while (h->streams)
        agc_mcp__hs_free(h->streams);
    free_msgs(h->ctx, h->in_head);
    free_msgs(h->ctx, h->out_head);
    for (size_t i = 0; i < h->nheaders; i++) {
        agc_free(h->ctx, (char *)h->headers[i].name);
        agc_free(h->ctx, (char *)h->headers[i].value);
    }
    agc_free(h->ctx, h->headers);
    json_decref(h->init_id);
    agc_free(h->ctx, h->init_text);
    agc_free(h->ctx, h->url);
    agc_free(h->ctx, h->name);
    agc_free(h->ctx, h->ca_file);
    agc_free(h->ctx, h->session_id);
    agc_free(h->ctx, h->proto);
    agc_free(h->ctx, h->endpoint);
    agc_free(h->ctx, h);
}

static const agc_mcp_transport_ops http_ops = {
    .version = 1, .send = h_send, .recv = h_recv, .close = h_close, .destroy = h_destroy};

static hcli *self_of(const agc_mcp_transport *t)
{
    return t && t->ops == &http_ops ? t->self : NULL;
}

const char *agc_mcp_http_client_session_id(const agc_mcp_transport *t)
{
    hcli *h = self_of(t);
    return h ? h->session_id : NULL;
}

bool agc_mcp_http_client_is_legacy(const agc_mcp_transport *t)
{
    hcli *h = self_of(t);
    return h && h->legacy;
}

unsigned long agc_mcp_http_client_reconnects(const agc_mcp_transport *t)
{
    hcli *h = self_of(t);
    return h ? h->reconnects : 0;
}

/* "host:port" of an http(s) URL (for names). */
static char *host_of(agc_ctx *ctx, const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    return agc_strndup(ctx, p, n);
}

agc_status agc_mcp_http_client_open(agc_mcp_transport **out, const agc_mcp_http_client_opts *opts,
                                    agc_ctx *ctx)
{
    *out = NULL;
    agc_mcp_http_client_opts o = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_HTTP_CLIENT_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_http_client_opts version %u",
                             o.version);
    if (!o.url || (strncmp(o.url, "http://", 7) != 0 && strncmp(o.url, "https://", 8) != 0))
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "MCP server URL must start with http:// or https:// (got '%.80s')",
                             o.url ? o.url : "(null)");
    if (o.nheaders > MAX_HEADERS)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "at most %d extra HTTP headers (got %zu)",
                             MAX_HEADERS, o.nheaders);
    hcli *h = agc_calloc(ctx, 1, sizeof *h);
    if (!h)
        return AGC_ENOMEM;
    h->ctx = ctx;
    h->mode = o.mode;
    h->max_msg = o.max_message_bytes ? o.max_message_bytes : AGC_MCP_DEFAULT_MAX_MESSAGE;
    h->connect_timeout_ms = o.connect_timeout_ms;
    h->default_retry_ms = o.default_retry_ms > 0 ? o.default_retry_ms : 1000;
    h->max_reconnects = o.max_reconnects ? o.max_reconnects : 5;
    h->open_get = o.open_get_stream;
    h->url = agc_strdup(ctx, o.url);
    h->name = o.name ? agc_strdup(ctx, o.name) : host_of(ctx, o.url);
    h->ca_file = o.ca_file ? agc_strdup(ctx, o.ca_file) : NULL;
    bool ok = h->url && h->name && (!o.ca_file || h->ca_file);
    if (ok && o.nheaders) {
        h->headers = agc_calloc(ctx, o.nheaders, sizeof *h->headers);
        ok = h->headers != NULL;
        for (size_t i = 0; ok && i < o.nheaders; i++) {
            h->nheaders++;
            h->headers[i].name = agc_strdup(ctx, o.headers[i].name);
            h->headers[i].value = agc_strdup(ctx, o.headers[i].value);
            ok = h->headers[i].name && h->headers[i].value;
        }
    }
    if (!ok) {
        h_destroy(h);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    agc_status st = agc_http_client_new(&h->hc, NULL, ctx);
    if (st != AGC_OK) {
        h_destroy(h);
        return st;
    }
    return agc_mcp_transport_new(out, &http_ops, h, ctx);
}
