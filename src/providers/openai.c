/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The OpenAI-compatible chat-completions backend (OpenAI, Azure OpenAI,
 * Ollama, llama.cpp, vLLM, LM Studio, OpenRouter, Groq, ...): one HTTP
 * attempt per chat call on a pooled agc_http_client, streamed through the
 * SSE parser or read whole, decoded by openai_wire.c. The API key is read
 * only to build the auth header of a request, then that copy is wiped; it is
 * never logged or put in a message. Retries, backoff, cost and fallback are
 * the wrapper's (provider.c); this file only reports what happened.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/http.h"
#include "agentc/json.h"
#include "agentc/secret.h"
#include "agentc/sse.h"
#include "openai_int.h"

#define DEFAULT_MAX_RESPONSE      ((size_t)32 * 1024 * 1024)
#define MAX_ERROR_BODY            ((size_t)64 * 1024)
#define AZURE_DEFAULT_API_VERSION "2024-10-21"
#define MAX_EXTRA_HEADERS         32

typedef struct oai {
    agc_ctx *ctx;
    agc_http_client *client;
    char *name;            /* preset name, for messages */
    char *url;             /* endpoint (never holds a secret) */
    char *key_env;         /* where the key comes from, for 401 messages */
    const agc_secret *key; /* borrowed; NULL: no auth header */
    bool azure;            /* api-key header instead of Authorization */
    agc__oai_quirks quirks;
    agc_http_header extra[MAX_EXTRA_HEADERS]; /* copies of opts->headers */
    size_t n_extra;
    long connect_timeout_ms, timeout_ms, idle_timeout_ms;
    char *ca_bundle;
    size_t max_response;
    atomic_bool canceled;
} oai;

/* One attempt: the request's callbacks fill it. */
typedef struct xfer {
    oai *o;
    agc_ctx *ctx;
    bool stream; /* a stream was asked for */
    bool sse;    /* the answer is being parsed as SSE */
    bool ended;  /* on_done fired */
    int http_status;
    agc_status status;
    agc_buf body; /* a whole answer or an error body */
    agc_sse_parser *parser;
    agc__oai_stream st;
    char request_id[128];
    long retry_after_ms;
} xfer;

/* ---- HTTP callbacks -------------------------------------------------------------- */

static bool is_2xx(int s)
{
    return s >= 200 && s < 300;
}

static void copy_header(char *dst, size_t cap, const char *v)
{
    size_t j = 0;
    for (; v && *v && j + 1 < cap; v++)
        dst[j++] = (unsigned char)*v < 0x20 || *v == 0x7f ? ' ' : *v;
    dst[j] = '\0';
}

/* retry-after-ms (OpenAI: milliseconds, maybe fractional) wins over Retry-After. */
static long retry_after(const agc_http_headers *h, int64_t now_ms)
{
    const char *ms = agc_http_headers_get(h, "retry-after-ms");
    if (ms) {
        char *end = NULL;
        double v = strtod(ms, &end);
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        if (end && end != ms && !*end && v >= 0 && v < 2147483647.0)
            return (long)v;
    }
    return agc_parse_retry_after(agc_http_headers_get(h, "retry-after"), now_ms);
}

static agc_status on_event(const agc_sse_event *ev, void *user)
{
    xfer *x = user;
    if (strcmp(ev->type, "message") != 0 && strcmp(ev->type, "error") != 0)
        return AGC_OK; /* keep-alives and other named events carry no chunk */
    return agc__oai_stream_event(&x->st, ev->data, ev->data_len);
}

static agc_status on_headers(agc_http_req *req, int status, const agc_http_headers *h, void *user)
{
    (void)req;
    xfer *x = user;
    x->http_status = status;
    const char *rid = agc_http_headers_get(h, "x-request-id");
    if (!rid)
        rid = agc_http_headers_get(h, "request-id");
    if (!rid)
        rid = agc_http_headers_get(h, "apim-request-id");
    copy_header(x->request_id, sizeof x->request_id, rid);
    if (!is_2xx(status)) {
        x->retry_after_ms = retry_after(h, agc_clock_now_ms(x->ctx));
        return AGC_OK;
    }
    const char *ct = agc_http_headers_get(h, "content-type");
    /* a server that ignores "stream" and answers with JSON is read whole */
    x->sse = x->stream && !(ct && strncasecmp(ct, "application/json", 16) == 0);
    if (x->sse) {
        size_t cap = x->o->max_response < AGC_SSE_DEFAULT_MAX_EVENT ? x->o->max_response
                                                                    : AGC_SSE_DEFAULT_MAX_EVENT;
        return agc_sse_parser_new(&x->parser, on_event, x, cap, x->ctx);
    }
    return AGC_OK;
}

static agc_status on_data(agc_http_req *req, const void *data, size_t len, void *user)
{
    (void)req;
    xfer *x = user;
    if (x->sse)
        return agc_sse_feed(x->parser, data, len);
    if (!is_2xx(x->http_status)) { /* keep the start of an error body, drop the rest */
        size_t room = MAX_ERROR_BODY > x->body.len ? MAX_ERROR_BODY - x->body.len : 0;
        return agc_buf_append(&x->body, data, len < room ? len : room);
    }
    return agc_buf_append(&x->body, data, len);
}

static void on_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    (void)req;
    xfer *x = user;
    x->ended = true;
    x->status = res->status;
    if (res->http_status)
        x->http_status = res->http_status;
}

/* ---- one attempt ------------------------------------------------------------------ */

static agc_status build_headers(oai *o, bool stream, agc_http_header *h, size_t *n, char **auth)
{
    *n = 0;
    *auth = NULL;
    bool has_auth = false, has_ct = false, has_accept = false, has_ua = false;
    for (size_t i = 0; i < o->n_extra; i++) {
        const char *nm = o->extra[i].name;
        has_auth |= strcasecmp(nm, "authorization") == 0 || strcasecmp(nm, "api-key") == 0;
        has_ct |= strcasecmp(nm, "content-type") == 0;
        has_accept |= strcasecmp(nm, "accept") == 0;
        has_ua |= strcasecmp(nm, "user-agent") == 0;
        h[(*n)++] = o->extra[i];
    }
    if (!has_ct)
        h[(*n)++] = (agc_http_header){"Content-Type", "application/json"};
    if (!has_accept)
        h[(*n)++] = (agc_http_header){"Accept", stream ? "text/event-stream" : "application/json"};
    if (!has_ua)
        h[(*n)++] = (agc_http_header){"User-Agent", "agentc/" AGC_VERSION};
    if (o->key && !has_auth) {
        size_t klen = 0;
        const char *k = agc_secret_reveal(o->key, &klen);
        const char *prefix = o->azure ? "" : "Bearer ";
        size_t plen = strlen(prefix);
        char *v = agc_malloc(o->ctx, plen + klen + 1);
        if (!v)
            return AGC_ENOMEM;
        memcpy(v, prefix, plen);
        memcpy(v + plen, k, klen);
        v[plen + klen] = '\0';
        *auth = v;
        h[(*n)++] = (agc_http_header){o->azure ? "api-key" : "Authorization", v};
    }
    return AGC_OK;
}

static void wipe_auth(oai *o, char *auth)
{
    if (auth) {
        agc_memzero(auth, strlen(auth));
        agc_free(o->ctx, auth);
    }
}

/* Runs the client until the request has ended; cancels it if the loop itself fails. */
static void run_until_done(oai *o, xfer *x, agc_http_req *req)
{
    int failures = 0;
    while (!x->ended) {
        agc_status st = agc_http_client_run(o->client, -1);
        if (st == AGC_OK || st == AGC_EBUSY)
            continue;
        if (++failures == 1)
            agc_http_cancel(req);
        if (failures > 3) { /* cannot drive the loop: freeing the client ends the request */
            agc_http_client_free(o->client);
            o->client = NULL;
        }
        if (!o->client)
            break;
    }
}

static agc_status http_failure(oai *o, xfer *x, const agc_chat_request *req, agc_attempt *at)
{
    agc_ctx *ctx = o->ctx;
    agc_status st = x->status;
    if (x->st.err.present) /* an error event inside the stream */
        goto mapped;
    switch (st) {
    case AGC_ECANCELED:
        if (atomic_load(&o->canceled))
            return agc_error_set(ctx, AGC_ECANCELED, "openai", "%s: the call was canceled",
                                 o->name);
        return st; /* the delta callback stopped it: its message stands */
    case AGC_ETIMEDOUT:
    case AGC_ENET: {
        at->transport_error = true;
        char detail[512];
        snprintf(detail, sizeof detail, "%s", agc_ctx_errmsg(ctx));
        return agc_error_wrap(ctx, st, "openai", "%s: %s: %s", o->name,
                              at->delivered ? "the stream broke after output was delivered"
                                            : "the request failed",
                              detail);
    }
    case AGC_ELIMIT:
        return agc_error_wrap(ctx, st, "openai",
                              "%s: the answer is larger than the %zu-byte response cap", o->name,
                              o->max_response);
    default:
        if (!agc_ctx_last_error(ctx))
            agc_error_set(ctx, st, "openai", "%s: the request failed (%s)", o->name,
                          agc_strerror(st));
        return st;
    }
mapped:
    at->http_status = x->st.err.status;
    return agc__provider_http_error(ctx, o->name, x->st.err.status, x->st.err.message,
                                    x->st.err.type, x->request_id, o->key_env, req->model);
}

static agc_status finish_ok(oai *o, xfer *x, agc_chat_response **out, const agc_chat_request *req,
                            agc_attempt *at, int64_t t0)
{
    agc_ctx *ctx = o->ctx;
    agc_response_builder *b = x->st.b;
    agc_status st;
    if (x->sse) {
        agc_status fst = agc_sse_finish(x->parser);
        if (fst != AGC_OK && fst != AGC_EPROTO)
            return fst;
        agc_error_clear(ctx);
        st = agc__oai_stream_end(&x->st);
    } else {
        agc__oai_err err = {0};
        st = agc__oai_decode_response(b, agc_buf_cstr(&x->body), x->body.len, &err, o->name, ctx);
        if (st == AGC_EHTTP && err.present) {
            at->http_status = err.status;
            return agc__provider_http_error(ctx, o->name, err.status, err.message, err.type,
                                            x->request_id, o->key_env, req->model);
        }
    }
    if (st == AGC_OK && x->request_id[0])
        st = agc_response_set_meta(b, NULL, NULL, x->request_id);
    if (st != AGC_OK)
        return st;
    st = agc_response_builder_finish(out, b);
    if (st == AGC_OK && x->st.got_first)
        (*out)->ttft_ms = (double)(x->st.first_delta_ns - t0) / 1e6;
    return st;
}

static agc_status attempt(oai *o, xfer *x, agc_chat_response **out, const agc_chat_request *req,
                          agc_attempt *at)
{
    agc_ctx *ctx = o->ctx;
    json_t *body = NULL;
    agc_status st = agc__oai_encode_request(&body, req, &o->quirks, x->stream, ctx);
    if (st != AGC_OK)
        return st;
    char *text = NULL;
    size_t text_len = 0;
    st = agc_json_dump(&text, body, JSON_COMPACT, ctx);
    json_decref(body);
    if (st != AGC_OK)
        return st;
    text_len = strlen(text);
    if (!o->client && (st = agc_http_client_new(&o->client, NULL, ctx)) != AGC_OK) {
        agc_free(ctx, text);
        return st;
    }
    agc_http_header headers[MAX_EXTRA_HEADERS + 4];
    size_t nh = 0;
    char *auth = NULL;
    st = build_headers(o, x->stream, headers, &nh, &auth);
    agc_http_opts ho = AGC_HTTP_OPTS_INIT;
    ho.connect_timeout_ms = o->connect_timeout_ms;
    ho.timeout_ms = o->timeout_ms;
    /* a whole answer may think for minutes before its first byte: only streams get an idle cap */
    ho.idle_timeout_ms = x->stream ? o->idle_timeout_ms : 0;
    ho.max_response_bytes = o->max_response;
    ho.ca_file = o->ca_bundle;
    agc_http_callbacks cb = {AGC_HTTP_CALLBACKS_VERSION, on_headers, on_data, on_done};
    agc_http_req *hreq = NULL;
    int64_t t0 = agc_clock_monotonic_ns(ctx);
    if (st == AGC_OK)
        st = agc_http_start(&hreq, o->client, "POST", o->url, headers, nh, text, text_len, &ho, &cb,
                            x);
    wipe_auth(o, auth);
    agc_free(ctx, text);
    if (st != AGC_OK)
        return st;
    if (atomic_load(&o->canceled))
        agc_http_cancel(hreq);
    run_until_done(o, x, hreq);
    at->delivered = agc_response_delivered(x->st.b);
    if (!x->ended)
        return agc_error_set(ctx, AGC_ENET, "openai", "%s: the HTTP client loop failed", o->name);
    if (x->status != AGC_OK)
        return http_failure(o, x, req, at);
    if (!is_2xx(x->http_status)) {
        at->http_status = x->http_status;
        at->retry_after_ms = x->retry_after_ms;
        agc__oai_err err = {0};
        agc__oai_parse_error_body(&err, agc_buf_cstr(&x->body), x->body.len, ctx);
        return agc__provider_http_error(ctx, o->name, x->http_status, err.message, err.type,
                                        x->request_id, o->key_env, req->model);
    }
    return finish_ok(o, x, out, req, at, t0);
}

static agc_status oai_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                           agc_delta_fn on_delta, void *user, agc_attempt *at, agc_ctx *ctx)
{
    oai *o = self;
    (void)ctx; /* the same ctx the provider was opened with */
    *out = NULL;
    atomic_store(&o->canceled, false);
    /* a client cancel that came after the previous call ended must not hit this one:
     * a run with nothing in flight consumes it */
    if (o->client)
        (void)agc_http_client_run(o->client, 0);
    xfer x;
    memset(&x, 0, sizeof x);
    x.o = o;
    x.ctx = o->ctx;
    x.stream = on_delta != NULL;
    x.retry_after_ms = -1;
    agc_buf_init(&x.body, o->ctx, o->max_response + 1);
    x.st.ctx = o->ctx;
    x.st.backend = o->name;
    agc_status st = agc_response_builder_new(&x.st.b, on_delta, user, o->ctx);
    if (st == AGC_OK)
        agc_response_builder_set_tools(x.st.b, req->tools, req->n_tools);
    if (st == AGC_OK)
        st = attempt(o, &x, out, req, at);
    if (x.st.b)
        at->delivered = agc_response_delivered(x.st.b);
    agc_response_builder_free(x.st.b);
    agc_sse_parser_free(x.parser);
    agc_buf_free(&x.body);
    return st;
}

static void oai_cancel(void *self)
{
    oai *o = self;
    atomic_store(&o->canceled, true);
    if (o->client)
        agc_http_client_cancel(o->client);
}

static void oai_destroy(void *self)
{
    oai *o = self;
    if (!o)
        return;
    agc_ctx *ctx = o->ctx;
    agc_http_client_free(o->client);
    for (size_t i = 0; i < o->n_extra; i++) {
        agc_free(ctx, (char *)o->extra[i].name);
        if (o->extra[i].value) {
            agc_memzero((char *)o->extra[i].value, strlen(o->extra[i].value));
            agc_free(ctx, (char *)o->extra[i].value);
        }
    }
    agc_free(ctx, o->name);
    agc_free(ctx, o->url);
    agc_free(ctx, o->key_env);
    agc_free(ctx, o->ca_bundle);
    agc_free(ctx, o);
}

static const agc_provider_ops openai_ops = {AGC_PROVIDER_OPS_VERSION, "openai", oai_chat,
                                            oai_cancel, oai_destroy};

/* ---- opening ---------------------------------------------------------------------- */

static bool api_version_ok(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++)
        if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
              *v == '-' || *v == '.'))
            return false;
    return true;
}

static agc_status make_url(oai *o, const char *base, const char *api_version, agc_ctx *ctx)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    if (n == 0)
        return agc_error_set(ctx, AGC_EINVAL, "openai", "%s: the base URL is empty", o->name);
    if (o->azure) {
        const char *v = api_version ? api_version : AZURE_DEFAULT_API_VERSION;
        if (!api_version_ok(v))
            return agc_error_set(ctx, AGC_EINVAL, "openai",
                                 "azure-openai: api_version must be like 2024-10-21");
        o->url = agc_sprintf(ctx, "%.*s/chat/completions?api-version=%s", (int)n, base, v);
    } else {
        o->url = agc_sprintf(ctx, "%.*s/chat/completions", (int)n, base);
    }
    return o->url ? AGC_OK : AGC_ENOMEM;
}

static agc_status copy_headers(oai *o, const json_t *headers, agc_ctx *ctx)
{
    if (!headers)
        return AGC_OK;
    if (!json_is_object(headers))
        return agc_error_set(ctx, AGC_EINVAL, "openai",
                             "%s: provider headers must be an object of strings", o->name);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)headers, k, v)
    {
        if (!json_is_string(v))
            return agc_error_set(ctx, AGC_EINVAL, "openai",
                                 "%s: header '%s' must have a string value", o->name, k);
        if (o->n_extra == MAX_EXTRA_HEADERS)
            return agc_error_set(ctx, AGC_ELIMIT, "openai", "%s: more than %d extra headers",
                                 o->name, MAX_EXTRA_HEADERS);
        agc_http_header *h = &o->extra[o->n_extra];
        h->name = agc_strdup(ctx, k);
        h->value = h->name ? agc_strdup(ctx, json_string_value(v)) : NULL;
        if (!h->value) {
            agc_free(ctx, (char *)h->name);
            h->name = NULL;
            return AGC_ENOMEM;
        }
        o->n_extra++;
    }
    return AGC_OK;
}

agc_status agc__openai_open_capped(agc_provider **out, const agc_preset_info *preset,
                                   const agc_provider_opts *opts, const char *base_url,
                                   const agc_secret *key, size_t max_response_bytes, agc_ctx *ctx)
{
    *out = NULL;
    oai *o = agc_calloc(ctx, 1, sizeof *o);
    if (!o)
        return AGC_ENOMEM;
    o->ctx = ctx;
    atomic_init(&o->canceled, false);
    o->key = key;
    o->azure = strcmp(preset->name, "azure-openai") == 0;
    /* max_tokens is deprecated on OpenAI's own API (and rejected for reasoning models);
     * a custom server given by base_url alone keeps the classic name */
    o->quirks.max_completion_tokens =
        o->azure || (opts->preset && strcmp(opts->preset, "openai") == 0);
    o->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
    o->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
    o->idle_timeout_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 0;
    o->max_response = max_response_bytes ? max_response_bytes : DEFAULT_MAX_RESPONSE;
    const char *src = opts->api_key ? agc_secret_source(opts->api_key) : preset->key_env;
    agc_status st = AGC_OK;
    if (!(o->name = agc_strdup(ctx, preset->name)) ||
        (src && !(o->key_env = agc_strdup(ctx, src))) ||
        (opts->ca_bundle && !(o->ca_bundle = agc_strdup(ctx, opts->ca_bundle))))
        st = AGC_ENOMEM;
    if (st == AGC_OK)
        st = make_url(o, base_url, opts->api_version, ctx);
    if (st == AGC_OK)
        st = copy_headers(o, opts->headers, ctx);
    if (st == AGC_OK)
        st = agc_http_client_new(&o->client, NULL, ctx);
    if (st != AGC_OK) {
        oai_destroy(o);
        return st;
    }
    return agc_provider_new(out, &openai_ops, o, opts, ctx);
}

agc_status agc__openai_open(agc_provider **out, const agc_preset_info *preset,
                            const agc_provider_opts *opts, const char *base_url,
                            const agc_secret *key, agc_ctx *ctx)
{
    return agc__openai_open_capped(out, preset, opts, base_url, key, 0, ctx);
}
