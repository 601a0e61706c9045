/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Anthropic Messages backend: one POST {base}/v1/messages per attempt, whole
 * or streamed (SSE), on the agc_http client; the wire mapping lives in
 * anthropic_wire.c and anthropic_stream.c. Invariant: the API key is read
 * (agc_secret_reveal) only to build the x-api-key header of a request and is
 * never copied into messages, logs or the provider's own memory.
 *
 * Structured output (FORMAT_JSON_SCHEMA): the Messages API has no
 * response_format, so the schema becomes a tool (named after
 * response_schema_name) that the model is forced to call (tool_choice
 * {type: tool}; {type: any} when real tools are offered too, so the model may
 * still call those first). The input of that tool_use is returned as the
 * text answer (JSON text) with finish "stop", streamed as text deltas. The
 * schema's top level must be an object (an API rule for input_schema).
 *
 * It does not retry, back off or price: the agc_provider wrapper does.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/clock.h"
#include "agentc/http.h"
#include "agentc/json.h"
#include "agentc/secret.h"
#include "agentc/sse.h"
#include "anthropic_int.h"

#define DEFAULT_VERSION   "2023-06-01"
#define MAX_EXTRA_HEADERS 32
#define MAX_BODY          ((size_t)64 * 1024 * 1024) /* the HTTP layer caps it too */

typedef struct anth {
    agc_ctx *ctx;
    agc_http_client *client;
    char *url;
    char *version;
    char *ca_file;
    const agc_secret *key; /* borrowed */
    json_t *headers;       /* extra request headers {"name": "value"} */
    agc_http_opts http;
    atomic_bool canceled;
    atomic_bool inflight;
} anth;

/* State of one attempt, shared with the HTTP callbacks. */
typedef struct call {
    anth *a;
    agc_ctx *ctx;
    const char *model;
    bool stream;
    agc_response_builder *b;
    agc__anth_stream *st;
    agc_sse_parser *sse;
    agc_buf body;
    int status;
    long retry_after_ms;
    char *request_id;
    bool done;
    agc_status done_status;
    agc_status cb_status; /* our own callback stopped the request with this */
    char cb_msg[1024];    /* ... and this message */
} call;

/* ---- HTTP callbacks --------------------------------------------------------------- */

static agc_status cb_fail(call *c, agc_status st)
{
    c->cb_status = st;
    agc_error_format(c->ctx, c->cb_msg, sizeof c->cb_msg);
    return st;
}

static long parse_ms(const char *v)
{
    if (!v)
        return -1;
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || d < 0 || d > 86400000.0)
        return -1;
    return (long)d;
}

static agc_status on_headers(agc_http_req *req, int status, const agc_http_headers *h, void *user)
{
    (void)req;
    call *c = user;
    c->status = status;
    const char *rid = agc_http_headers_get(h, "request-id");
    if (!rid)
        rid = agc_http_headers_get(h, "x-request-id");
    if (rid && !(c->request_id = agc_strdup(c->ctx, rid)))
        return cb_fail(c, agc_error_set(c->ctx, AGC_ENOMEM, "provider", "out of memory"));
    long ra = parse_ms(agc_http_headers_get(h, "retry-after-ms"));
    const char *v = agc_http_headers_get(h, "retry-after");
    if (ra < 0 && v)
        ra = agc_parse_retry_after(v, agc_clock_now_ms(c->ctx));
    c->retry_after_ms = ra;
    if (c->st)
        agc__anth_stream_set_ids(c->st, c->request_id, c->model);
    return AGC_OK;
}

static agc_status on_sse(const agc_sse_event *ev, void *user)
{
    call *c = user;
    return agc__anth_stream_event(c->st, ev->type, ev->data, ev->data_len);
}

static agc_status on_data(agc_http_req *req, const void *data, size_t len, void *user)
{
    (void)req;
    call *c = user;
    agc_status st;
    if (c->stream && c->status >= 200 && c->status < 300)
        st = agc_sse_feed(c->sse, data, len);
    else
        st = agc_buf_append(&c->body, data, len);
    return st == AGC_OK ? AGC_OK : cb_fail(c, st);
}

static void on_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    (void)req;
    call *c = user;
    c->done = true;
    c->done_status = res->status;
    if (res->http_status)
        c->status = res->http_status;
}

/* ---- results ---------------------------------------------------------------------- */

/* Copies an error message from the server: control characters become spaces, cut short. */
static void sanitize(char *dst, size_t size, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[n] = '\0';
}

static agc_status http_error(call *c)
{
    char msg[512] = "", type[96] = "";
    json_t *j = NULL;
    const char *body = agc_buf_cstr(&c->body);
    if (agc_json_parse(&j, body, c->body.len, "error body", c->ctx) == AGC_OK) {
        json_t *e = json_object_get(j, "error");
        const char *m = agc_json_str(e, "message", agc_json_str(j, "message", NULL));
        const char *t = agc_json_str(e, "type", NULL);
        if (m)
            sanitize(msg, sizeof msg, m, strlen(m));
        if (t)
            sanitize(type, sizeof type, t, strlen(t));
    }
    json_decref(j);
    if (!*msg)
        sanitize(msg, sizeof msg < 200 ? sizeof msg : 200, body, c->body.len);
    return agc__provider_http_error(c->ctx, "anthropic", c->status, msg, type, c->request_id,
                                    "ANTHROPIC_API_KEY", c->model);
}

static agc_status finish_ok(call *c, const char *structured_tool)
{
    agc_status st;
    if (c->stream) {
        st = agc_sse_finish(c->sse);
        if (!agc__anth_stream_complete(c->st))
            return agc_error_set(c->ctx, AGC_EPROTO, "provider",
                                 "anthropic: stream truncated: it ended without message_stop%s%s",
                                 c->request_id ? "; request id " : "",
                                 c->request_id ? c->request_id : "");
        agc_error_clear(c->ctx);
    } else {
        json_t *msg = NULL;
        st = agc_json_parse(&msg, agc_buf_cstr(&c->body), c->body.len, "anthropic answer", c->ctx);
        if (st == AGC_ENOMEM)
            return st;
        if (st != AGC_OK)
            return agc_error_wrap(c->ctx, AGC_EPROTO, "provider",
                                  "anthropic: the answer is not valid JSON");
        st = agc__anth_decode_message(c->b, msg, structured_tool, c->ctx);
        json_decref(msg);
        if (st != AGC_OK)
            return st;
    }
    return agc_response_set_meta(c->b, NULL, NULL, c->request_id);
}

/* ---- the chat operation ----------------------------------------------------------- */

static void build_headers(agc_http_header *h, size_t *n, const anth *a, bool stream)
{
    size_t k = 0;
    h[k++] = (agc_http_header){"content-type", "application/json"};
    h[k++] = (agc_http_header){"accept", stream ? "text/event-stream" : "application/json"};
    h[k++] = (agc_http_header){"anthropic-version", a->version};
    h[k++] = (agc_http_header){"user-agent", "agentc/" AGC_VERSION};
    if (a->key)
        h[k++] = (agc_http_header){"x-api-key", agc_secret_reveal(a->key, NULL)};
    const char *name;
    json_t *v;
    json_object_foreach(a->headers, name, v)
    {
        h[k++] = (agc_http_header){name, json_string_value(v)};
    }
    *n = k;
}

static agc_status run_request(call *c, const char *body, size_t len)
{
    anth *a = c->a;
    agc_http_header hdrs[5 + MAX_EXTRA_HEADERS];
    size_t nh = 0;
    build_headers(hdrs, &nh, a, c->stream);
    agc_http_callbacks cbs = {AGC_HTTP_CALLBACKS_VERSION, on_headers, on_data, on_done};
    /* consume a cancel that arrived after the previous attempt ended */
    (void)agc_http_client_run(a->client, 0);
    agc_error_clear(c->ctx);
    agc_http_req *req = NULL;
    agc_status st =
        agc_http_start(&req, a->client, "POST", a->url, hdrs, nh, body, len, &a->http, &cbs, c);
    if (st != AGC_OK)
        return st;
    atomic_store(&a->inflight, true);
    if (atomic_load(&a->canceled))
        agc_http_cancel(req);
    while (!c->done) {
        st = agc_http_client_run(a->client, -1);
        if (st != AGC_OK && st != AGC_EBUSY && !c->done)
            agc_http_cancel(req); /* the loop failed: end the request, then reap it */
    }
    atomic_store(&a->inflight, false);
    return AGC_OK;
}

static agc_status anth_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                            agc_delta_fn on_delta, void *user, agc_attempt *at, agc_ctx *ctx)
{
    anth *a = self;
    *out = NULL;
    atomic_store(&a->canceled, false);
    call c = {
        .a = a, .ctx = ctx, .model = req->model, .stream = on_delta != NULL, .retry_after_ms = -1};
    agc_buf_init(&c.body, ctx, MAX_BODY);
    const char *stool = agc__anth_structured_tool(req);
    int64_t t0 = agc_clock_monotonic_ns(ctx);
    json_t *j = NULL;
    char *body = NULL;
    agc_status st = agc__anth_encode(&j, req, c.stream, ctx);
    if (st == AGC_OK)
        st = agc_json_dump(&body, j, JSON_COMPACT, ctx);
    json_decref(j);
    if (st == AGC_OK)
        st = agc_response_builder_new(&c.b, on_delta, user, ctx);
    if (st == AGC_OK)
        agc_response_builder_set_tools(c.b, req->tools, req->n_tools);
    if (st == AGC_OK && c.stream)
        st = agc__anth_stream_new(&c.st, c.b, stool, t0, ctx);
    if (st == AGC_OK && c.stream)
        st = agc_sse_parser_new(&c.sse, on_sse, &c, 0, ctx);
    if (st == AGC_OK)
        st = run_request(&c, body, strlen(body));
    if (st != AGC_OK)
        goto out;

    at->http_status = c.status;
    at->retry_after_ms = c.retry_after_ms;
    if (c.cb_status != AGC_OK) {
        st = agc_error_set(ctx, c.cb_status, "provider", "%s", c.cb_msg);
        if (c.st && agc__anth_stream_error_status(c.st))
            at->http_status = agc__anth_stream_error_status(c.st);
    } else if (c.done_status == AGC_ECANCELED || atomic_load(&a->canceled)) {
        st = agc_error_set(ctx, AGC_ECANCELED, "provider", "anthropic: the request was canceled");
    } else if (c.done_status != AGC_OK) {
        st = c.done_status;
        if (st == AGC_ENET || st == AGC_ETIMEDOUT) {
            at->transport_error = true;
            at->http_status = 0;
        }
        agc_error_wrap(ctx, st, "provider", "anthropic: the request failed");
    } else if (c.status < 200 || c.status >= 300) {
        st = http_error(&c);
    } else {
        st = finish_ok(&c, stool);
        if (st == AGC_OK)
            st = agc_response_builder_finish(out, c.b);
        if (st == AGC_OK && c.st)
            (*out)->ttft_ms = agc__anth_stream_ttft_ms(c.st);
    }
out:
    if (c.b)
        at->delivered = agc_response_delivered(c.b);
    agc_sse_parser_free(c.sse);
    agc__anth_stream_free(c.st);
    agc_response_builder_free(c.b);
    agc_buf_free(&c.body);
    agc_free(ctx, c.request_id);
    agc_free(ctx, body);
    return st;
}

static void anth_cancel(void *self)
{
    anth *a = self;
    atomic_store(&a->canceled, true);
    if (atomic_load(&a->inflight))
        agc_http_client_cancel(a->client);
}

static void anth_destroy(void *self)
{
    anth *a = self;
    if (!a)
        return;
    agc_http_client_free(a->client);
    json_decref(a->headers);
    agc_free(a->ctx, a->url);
    agc_free(a->ctx, a->version);
    agc_free(a->ctx, a->ca_file);
    agc_free(a->ctx, a);
}

static const agc_provider_ops anthropic_ops = {
    AGC_PROVIDER_OPS_VERSION, "anthropic", anth_chat, anth_cancel, anth_destroy,
};

/* ---- opening ---------------------------------------------------------------------- */

static agc_status copy_headers(anth *a, const json_t *h, agc_ctx *ctx)
{
    if (!h)
        return AGC_OK;
    if (!json_is_object(h) || json_object_size(h) > MAX_EXTRA_HEADERS)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "anthropic: provider headers must be an object of at most %d "
                             "\"name\": \"value\" strings",
                             MAX_EXTRA_HEADERS);
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)h, name, v)
    {
        if (!json_is_string(v))
            return agc_error_set(ctx, AGC_EINVAL, "provider",
                                 "anthropic: provider header '%s' must be a string", name);
    }
    agc_ctx *prev = agc_json_enter(ctx);
    a->headers = json_deep_copy(h);
    agc_json_leave(prev);
    return a->headers ? AGC_OK : AGC_ENOMEM;
}

static char *make_url(const char *base, agc_ctx *ctx)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    /* a base that already names the API version ("https://host/v1") is accepted too */
    bool has_v1 = n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    if (agc_buf_append(&b, base, n) != AGC_OK ||
        agc_buf_puts(&b, has_v1 ? "/messages" : "/v1/messages") != AGC_OK) {
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}

agc_status agc__anthropic_open(agc_provider **out, const agc_preset_info *preset,
                               const agc_provider_opts *opts, const char *base_url,
                               const agc_secret *key, agc_ctx *ctx)
{
    (void)preset;
    *out = NULL;
    anth *a = agc_calloc(ctx, 1, sizeof *a);
    if (!a)
        return agc_error_set(ctx, AGC_ENOMEM, "provider", "out of memory opening anthropic");
    a->ctx = ctx;
    a->key = key;
    atomic_init(&a->canceled, false);
    atomic_init(&a->inflight, false);
    agc_http_opts_init(&a->http);
    a->http.connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 0;
    a->http.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
    a->http.idle_timeout_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 0;
    agc_status st = AGC_OK;
    a->url = make_url(base_url, ctx);
    a->version = agc_strdup(ctx, opts->api_version && *opts->api_version ? opts->api_version
                                                                         : DEFAULT_VERSION);
    if (opts->ca_bundle && !(a->ca_file = agc_strdup(ctx, opts->ca_bundle)))
        st = AGC_ENOMEM;
    a->http.ca_file = a->ca_file;
    if (!a->url || !a->version)
        st = AGC_ENOMEM;
    if (st == AGC_OK)
        st = copy_headers(a, opts->headers, ctx);
    if (st == AGC_OK)
        st = agc_http_client_new(&a->client, NULL, ctx);
    if (st != AGC_OK) {
        anth_destroy(a);
        if (st == AGC_ENOMEM)
            return agc_error_set(ctx, AGC_ENOMEM, "provider", "out of memory opening anthropic");
        return st;
    }
    return agc_provider_new(out, &anthropic_ops, a, opts, ctx);
}
