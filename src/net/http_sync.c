/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The blocking HTTP call: one request started on a client and the client's
 * loop run until it is done, the body collected into a capped agc_buf.
 * Invariant: on failure nothing is returned and nothing leaks. It adds no
 * behaviour of its own (no retries, no status checks).
 */
#include "agentc/alloc.h"
#include "agentc/http.h"
#include "http_int.h"

typedef struct sync_state {
    agc_buf body;
    bool done;
    agc_status status;
    int http_status;
    int64_t total_ms;
    agc_http_headers *headers;
} sync_state;

static agc_status sync_on_data(agc_http_req *req, const void *data, size_t len, void *user)
{
    (void)req;
    sync_state *s = user;
    return agc_buf_append(&s->body, data, len);
}

static void sync_on_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    sync_state *s = user;
    s->done = true;
    s->status = res->status;
    s->http_status = res->http_status;
    s->total_ms = res->total_ms;
    s->headers = agc_http__req_take_headers(req);
}

agc_status agc_http_request_sync(agc_http_response **out, agc_http_client *c, const char *method,
                                 const char *url, const agc_http_header *headers, size_t nheaders,
                                 const void *body, size_t body_len, const agc_http_opts *opts)
{
    agc_ctx *ctx = agc_http__client_ctx(c);
    *out = NULL;
    if (agc_http__client_busy(c))
        return agc_error_set(ctx, AGC_EUSAGE, "http",
                             "agc_http_request_sync cannot run inside the client's loop "
                             "(called from a callback?)");
    size_t cap =
        opts && opts->max_response_bytes ? opts->max_response_bytes : AGC_HTTP_DEFAULT_MAX_RESPONSE;
    sync_state s = {0};
    agc_buf_init(&s.body, ctx, cap);
    static const agc_http_callbacks cb = {AGC_HTTP_CALLBACKS_VERSION, NULL, sync_on_data,
                                          sync_on_done};
    agc_status st =
        agc_http_start(NULL, c, method, url, headers, nheaders, body, body_len, opts, &cb, &s);
    if (st != AGC_OK)
        return st;
    (void)agc_http__run_until(c, &s.done, &s); /* a loop failure ends our request too */
    st = s.status;
    agc_http_response *resp = NULL;
    if (st == AGC_OK) {
        resp = agc_calloc(ctx, 1, sizeof *resp);
        if (!resp)
            st = AGC_ENOMEM;
    }
    if (st != AGC_OK) {
        agc_buf_free(&s.body);
        agc_http__headers_free(s.headers);
        return st;
    }
    resp->status = s.http_status;
    resp->headers = s.headers;
    resp->body = s.body;
    resp->total_ms = s.total_ms;
    *out = resp;
    return AGC_OK;
}

void agc_http_response_free(agc_http_response *resp)
{
    if (!resp)
        return;
    agc_ctx *ctx = resp->body.ctx;
    agc_http__headers_free(resp->headers);
    agc_buf_free(&resp->body);
    agc_free(ctx, resp);
}
