/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * HTTP client on libcurl's multi interface. One CURLM per client; each
 * request its own easy handle, added to the multi at the top of the next
 * loop pass (so agc_http_start works from inside curl callbacks). Invariant:
 * a request is in the client's list from start until on_done has fired,
 * and on_done fires exactly once. Idle timeouts are checked by the loop
 * with the ctx clock. No retries, no redirects, no cookies.
 */
#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/http.h"
#include "curl_api.h"
#include "http_int.h"

#define MAX_HEADER_BYTES ((size_t)256 * 1024)

struct agc_http_req {
    agc_http_client *client;
    agc_http_req *prev, *next;
    CURL *easy;
    struct curl_slist *hdr_list;
    struct curl_slist *connect_to; /* opts.connect_to as curl wants it */
    agc_http_callbacks cb;
    void *user;
    char *body;
    agc_http_headers *headers;
    int http_status;
    bool added; /* in the multi handle */
    bool headers_fired;
    bool in_done;    /* on_done started */
    agc_status stop; /* non-OK: end the request with this status */
    int64_t start_ns, last_rx_ns, idle_ns;
    uint64_t body_bytes, max_bytes;
    char method[16];
    char origin[200]; /* scheme://host:port, the only part of the URL in messages */
    char errbuf[CURL_ERROR_SIZE];
    char msg[768];
};

struct agc_http_client {
    agc_ctx *ctx;
    CURLM *multi;
    agc_http_req *head, *tail;
    size_t n;
    bool in_run;
    int cb_depth; /* > 0 while a user callback runs */
    atomic_bool cancel_all;
    atomic_bool woken;
};

void agc_http_opts_init(agc_http_opts *opts)
{
    *opts = (agc_http_opts)AGC_HTTP_OPTS_INIT;
}

static int64_t now_ns(const agc_http_client *c)
{
    return agc_clock_monotonic_ns(c->ctx);
}

agc_status agc_http_client_new(agc_http_client **out, const agc_http_client_opts *opts,
                               agc_ctx *ctx)
{
    *out = NULL;
    agc_http_client_opts o = AGC_HTTP_CLIENT_OPTS_INIT;
    if (opts) {
        if (opts->version != AGC_HTTP_CLIENT_OPTS_VERSION)
            return agc_error_set(ctx, AGC_EINVAL, "http",
                                 "unknown agc_http_client_opts version %u (expected %u)",
                                 opts->version, AGC_HTTP_CLIENT_OPTS_VERSION);
        o = *opts;
    }
    agc_status st = agc_net__curl_load(ctx); /* dlopen + curl_global_init, once */
    if (st != AGC_OK)
        return st;
    agc_http_client *c = agc_calloc(ctx, 1, sizeof *c);
    if (!c)
        return AGC_ENOMEM;
    c->ctx = ctx;
    atomic_init(&c->cancel_all, false);
    atomic_init(&c->woken, false);
    c->multi = curl_multi_init();
    if (!c->multi) {
        agc_free(ctx, c);
        return agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory creating a curl multi handle");
    }
    if (o.max_connections > 0)
        agc_net__multi_setopt_long(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o.max_connections);
    if (o.max_host_connections > 0)
        agc_net__multi_setopt_long(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o.max_host_connections);
    *out = c;
    return AGC_OK;
}

/* ---- request list ---- */

static void link_req(agc_http_client *c, agc_http_req *r)
{
    r->prev = c->tail;
    r->next = NULL;
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->n++;
}

static void unlink_req(agc_http_client *c, agc_http_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        c->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        c->tail = r->prev;
    r->prev = r->next = NULL;
    c->n--;
}

static void req_free(agc_http_req *r)
{
    agc_ctx *ctx = r->client->ctx;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdr_list);
    curl_slist_free_all(r->connect_to);
    agc_http__headers_free(r->headers);
    agc_free(ctx, r->body);
    agc_free(ctx, r);
}

/* Records why r must stop (the first reason wins). */
static void req_stop(agc_http_req *r, agc_status st, const char *fmt, ...) AGC_PRINTF(3, 4);
static void req_stop(agc_http_req *r, agc_status st, const char *fmt, ...)
{
    if (r->stop != AGC_OK)
        return;
    r->stop = st;
    int n = snprintf(r->msg, sizeof r->msg, "%s %s: ", r->method, r->origin);
    if (n < 0 || (size_t)n >= sizeof r->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
    va_end(ap);
}

/* A callback returned st: its message (if it left one on the ctx) explains. */
static void req_stop_by_callback(agc_http_req *r, agc_status st, const char *which)
{
    const agc_error *e = agc_ctx_last_error(r->client->ctx);
    if (e && e->code == st)
        req_stop(r, st, "%s", e->message);
    else
        req_stop(r, st, "stopped by the %s callback (%s)", which, agc_status_name(st));
}

static void fire_done(agc_http_req *r)
{
    agc_http_client *c = r->client;
    if (r->added) {
        curl_multi_remove_handle(c->multi, r->easy);
        r->added = false;
    }
    unlink_req(c, r);
    r->in_done = true;
    agc_status st = r->stop;
    if (st != AGC_OK)
        agc_error_set(c->ctx, st, "http", "%s", r->msg);
    else
        r->msg[0] = '\0';
    int64_t el = now_ns(c) - r->start_ns;
    agc_http_result res = {
        .status = st,
        .http_status = r->http_status,
        .message = r->msg,
        .headers = r->headers,
        .total_ms = el > 0 ? el / 1000000 : 0,
        .body_bytes = r->body_bytes,
    };
    c->cb_depth++;
    r->cb.on_done(r, &res, r->user);
    c->cb_depth--;
    req_free(r);
}

/* ---- curl callbacks ---- */

static agc_status fire_headers(agc_http_req *r)
{
    r->headers_fired = true;
    if (!r->cb.on_headers)
        return AGC_OK;
    agc_http_client *c = r->client;
    c->cb_depth++;
    agc_status st = r->cb.on_headers(r, r->http_status, r->headers, r->user);
    c->cb_depth--;
    if (st != AGC_OK)
        req_stop_by_callback(r, st, "on_headers");
    return st;
}

static size_t trim_end(const char *s, size_t n)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

static size_t on_curl_header(char *buf, size_t size, size_t nitems, void *ud)
{
    agc_http_req *r = ud;
    size_t total = size * nitems;
    if (r->stop != AGC_OK)
        return 0;
    r->last_rx_ns = now_ns(r->client);
    if (r->headers_fired)
        return total; /* trailers after a chunked body: ignored */
    size_t n = trim_end(buf, total);
    agc_status st = AGC_OK;
    if (n == 0) {
        if (r->http_status >= 200)
            st = fire_headers(r);
        else
            agc_http__headers_clear(r->headers); /* end of a 1xx block */
        return st == AGC_OK ? total : 0;
    }
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        agc_http__headers_clear(r->headers);
        const char *sp = memchr(buf, ' ', n);
        const char *p = sp ? sp + 1 : buf + n;
        int code = 0, digits = 0;
        for (; p < buf + n && *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
            code = code * 10 + (*p - '0');
        if (digits != 3 || code < 100) {
            req_stop(r, AGC_EPROTO, "malformed HTTP status line");
            return 0;
        }
        r->http_status = code;
        return total;
    }
    if (buf[0] == ' ' || buf[0] == '\t') {
        size_t i = 0;
        while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        st = agc_http__headers_extend_last(r->headers, buf + i, n - i);
    } else {
        const char *colon = memchr(buf, ':', n);
        if (!colon)
            return total; /* not a header line: ignore */
        size_t nl = trim_end(buf, (size_t)(colon - buf));
        const char *v = colon + 1;
        size_t vl = n - (size_t)(v - buf);
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        st = agc_http__headers_add(r->headers, buf, nl, v, vl);
    }
    if (st != AGC_OK) {
        req_stop(r, st, "%s", agc_ctx_errmsg(r->client->ctx));
        return 0;
    }
    return total;
}

static size_t on_curl_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    agc_http_req *r = ud;
    size_t n = size * nmemb;
    if (r->stop != AGC_OK)
        return 0;
    r->last_rx_ns = now_ns(r->client);
    if (!r->headers_fired && fire_headers(r) != AGC_OK)
        return 0;
    if (n > r->max_bytes - r->body_bytes) {
        req_stop(r, AGC_ELIMIT,
                 "response body exceeds max_response_bytes (%llu); raise the cap if the "
                 "response is legitimate",
                 (unsigned long long)r->max_bytes);
        return 0;
    }
    r->body_bytes += n;
    if (r->cb.on_data && n) {
        agc_http_client *c = r->client;
        c->cb_depth++;
        agc_status st = r->cb.on_data(r, ptr, n, r->user);
        c->cb_depth--;
        if (st != AGC_OK) {
            req_stop_by_callback(r, st, "on_data");
            return 0;
        }
    }
    return r->stop == AGC_OK ? n : 0; /* agc_http_cancel() from on_data */
}

/* ---- starting requests ---- */

static agc_status parse_origin(agc_http_req *r, const char *url, agc_ctx *ctx)
{
    CURLU *u = curl_url();
    if (!u)
        return agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory parsing a URL");
    char *scheme = NULL, *host = NULL, *port = NULL;
    agc_status st = AGC_OK;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc == CURLUE_OUT_OF_MEMORY) {
        st = agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory parsing a URL");
    } else if (uc != CURLUE_OK) {
        st = agc_error_set(ctx, AGC_EINVAL, "http", "%s request: the URL is not valid (%s)",
                           r->method, curl_url_strerror(uc));
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        st = agc_error_set(ctx, AGC_EINVAL, "http",
                           "%s request: URL scheme \"%.16s\" is not supported; use http or https",
                           r->method, scheme);
    } else {
        snprintf(r->origin, sizeof r->origin, "%s://%s:%s", scheme, host, port);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return st;
}

static bool valid_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch >= 127 || strchr("\"(),/:;<=>?@[\\]{}", ch))
            return false;
    }
    return true;
}

static agc_status add_header(agc_http_req *r, const char *line, agc_ctx *ctx)
{
    struct curl_slist *l = curl_slist_append(r->hdr_list, line);
    if (!l)
        return agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory building request headers");
    r->hdr_list = l;
    return AGC_OK;
}

static agc_status build_headers(agc_http_req *r, const agc_http_header *h, size_t nh, bool has_body,
                                agc_ctx *ctx)
{
    bool has_expect = false, has_ctype = false;
    for (size_t i = 0; i < nh; i++) {
        if (!h[i].name || !valid_token(h[i].name))
            return agc_error_set(ctx, AGC_EINVAL, "http",
                                 "%s %s: request header #%zu has an invalid name", r->method,
                                 r->origin, i);
        const char *v = h[i].value ? h[i].value : "";
        if (agc_http__has_line_break(v, strlen(v)))
            return agc_error_set(ctx, AGC_EINVAL, "http",
                                 "%s %s: the value of request header %s holds a line break "
                                 "(header injection refused)",
                                 r->method, r->origin, h[i].name);
        has_expect |= strcasecmp(h[i].name, "Expect") == 0;
        has_ctype |= strcasecmp(h[i].name, "Content-Type") == 0;
        /* "Name;" is curl's way to send a header with an empty value */
        char *line =
            *v ? agc_sprintf(ctx, "%s: %s", h[i].name, v) : agc_sprintf(ctx, "%s;", h[i].name);
        if (!line)
            return AGC_ENOMEM;
        agc_status st = add_header(r, line, ctx);
        agc_memzero(line, strlen(line)); /* values may hold API keys */
        agc_free(ctx, line);
        if (st != AGC_OK)
            return st;
    }
    /* no "Expect: 100-continue" round trip; no form-urlencoded default type */
    if (!has_expect && add_header(r, "Expect:", ctx) != AGC_OK)
        return AGC_ENOMEM;
    if (has_body && !has_ctype && add_header(r, "Content-Type:", ctx) != AGC_OK)
        return AGC_ENOMEM;
    return AGC_OK;
}

static agc_status check_opts(agc_http_opts *o, const agc_http_opts *opts, agc_ctx *ctx)
{
    agc_http_opts_init(o);
    if (!opts)
        return AGC_OK;
    if (opts->version != AGC_HTTP_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "http",
                             "unknown agc_http_opts version %u (expected %u)", opts->version,
                             AGC_HTTP_OPTS_VERSION);
    *o = *opts;
    if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 || o->idle_timeout_ms < 0)
        return agc_error_set(ctx, AGC_EINVAL, "http", "HTTP timeouts must not be negative");
    return AGC_OK;
}

static agc_status setup_easy(agc_http_req *r, const char *url, const void *body, size_t body_len,
                             const agc_http_opts *o, agc_ctx *ctx)
{
    CURL *e = curl_easy_init();
    if (!e)
        return agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory creating a curl handle");
    r->easy = e;
    CURLcode rc = agc_net__easy_setopt_ptr(e, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = agc_net__easy_setopt_ptr(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_OK)
        return agc_error_set(ctx, rc == CURLE_OUT_OF_MEMORY ? AGC_ENOMEM : AGC_EINVAL, "http",
                             "%s %s: %s", r->method, r->origin, curl_easy_strerror(rc));
    agc_net__easy_setopt_ptr(e, CURLOPT_PRIVATE, r);
    agc_net__easy_setopt_ptr(e, CURLOPT_ERRORBUFFER, r->errbuf);
    agc_net__easy_setopt_long(e, CURLOPT_NOSIGNAL, 1L);
    agc_net__easy_setopt_long(e, CURLOPT_FOLLOWLOCATION, 0L);
    agc_net__easy_setopt_long(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    agc_net__easy_setopt_long(e, CURLOPT_TCP_KEEPALIVE, 1L);
    char ua[64];
    snprintf(ua, sizeof ua, "agentc/%s", agc_version());
    agc_net__easy_setopt_ptr(e, CURLOPT_USERAGENT, ua); /* curl copies strings */
    agc_net__easy_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS,
                              (long)(o->connect_timeout_ms ? o->connect_timeout_ms
                                                           : AGC_HTTP_DEFAULT_CONNECT_TIMEOUT_MS));
    if (o->timeout_ms)
        agc_net__easy_setopt_long(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    agc_net__easy_setopt_long(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    agc_net__easy_setopt_long(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (o->ca_file && agc_net__easy_setopt_ptr(e, CURLOPT_CAINFO, o->ca_file) != CURLE_OK)
        return agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory setting the CA file");
    if (o->connect_to) { /* pinned address: no proxy may resolve the name instead */
        char pin[128];
        int n = snprintf(pin, sizeof pin, "::%s", o->connect_to);
        if (n < 0 || (size_t)n >= sizeof pin || strpbrk(o->connect_to, "\r\n"))
            return agc_error_set(ctx, AGC_EINVAL, "http", "%s %s: bad connect_to address",
                                 r->method, r->origin);
        if (!(r->connect_to = curl_slist_append(NULL, pin)))
            return agc_error_set(ctx, AGC_ENOMEM, "http", "out of memory pinning the address");
        agc_net__easy_setopt_ptr(e, CURLOPT_CONNECT_TO, r->connect_to);
        agc_net__easy_setopt_ptr(e, CURLOPT_NOPROXY, "*");
    }
    agc_net__easy_setopt_write_fn(e, CURLOPT_HEADERFUNCTION, on_curl_header);
    agc_net__easy_setopt_ptr(e, CURLOPT_HEADERDATA, r);
    agc_net__easy_setopt_write_fn(e, CURLOPT_WRITEFUNCTION, on_curl_write);
    agc_net__easy_setopt_ptr(e, CURLOPT_WRITEDATA, r);
    agc_net__easy_setopt_ptr(e, CURLOPT_HTTPHEADER, r->hdr_list);
    bool is_get = strcmp(r->method, "GET") == 0, is_post = strcmp(r->method, "POST") == 0;
    if (strcmp(r->method, "HEAD") == 0) {
        agc_net__easy_setopt_long(e, CURLOPT_NOBODY, 1L);
    } else if (is_get && !body) {
        agc_net__easy_setopt_long(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (!is_post)
            agc_net__easy_setopt_ptr(e, CURLOPT_CUSTOMREQUEST, r->method);
        if (body || is_post) {
            agc_net__easy_setopt_off(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
            agc_net__easy_setopt_ptr(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        }
    }
    return AGC_OK;
}

agc_status agc_http_start(agc_http_req **out, agc_http_client *c, const char *method,
                          const char *url, const agc_http_header *headers, size_t nheaders,
                          const void *body, size_t body_len, const agc_http_opts *opts,
                          const agc_http_callbacks *cb, void *user)
{
    agc_ctx *ctx = c->ctx;
    if (out)
        *out = NULL;
    agc_http_opts o;
    agc_status st = check_opts(&o, opts, ctx);
    if (st != AGC_OK)
        return st;
    if (!cb || cb->version != AGC_HTTP_CALLBACKS_VERSION || !cb->on_done)
        return agc_error_set(ctx, AGC_EINVAL, "http",
                             "agc_http_start needs callbacks of version %u with on_done",
                             AGC_HTTP_CALLBACKS_VERSION);
    if (!method)
        method = body ? "POST" : "GET";
    if (!valid_token(method) || strlen(method) >= sizeof(((agc_http_req *)0)->method))
        return agc_error_set(ctx, AGC_EINVAL, "http", "invalid HTTP method \"%.16s\"", method);
    if (!url)
        return agc_error_set(ctx, AGC_EINVAL, "http", "%s request without a URL", method);
    agc_http_req *r = agc_calloc(ctx, 1, sizeof *r);
    if (!r)
        return AGC_ENOMEM;
    r->client = c;
    r->cb = *cb;
    r->user = user;
    r->max_bytes = o.max_response_bytes ? o.max_response_bytes : AGC_HTTP_DEFAULT_MAX_RESPONSE;
    r->idle_ns = o.idle_timeout_ms * 1000000;
    snprintf(r->method, sizeof r->method, "%s", method);
    st = parse_origin(r, url, ctx);
    if (st == AGC_OK)
        st = agc_http__headers_new(&r->headers, MAX_HEADER_BYTES, ctx);
    if (st == AGC_OK && body && body_len) {
        r->body = agc_malloc(ctx, body_len);
        if (r->body)
            memcpy(r->body, body, body_len);
        else
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK)
        st = build_headers(r, headers, nheaders, body != NULL, ctx);
    if (st == AGC_OK)
        st = setup_easy(r, url, body, body_len, &o, ctx);
    if (st != AGC_OK) {
        req_free(r);
        return st;
    }
    r->start_ns = r->last_rx_ns = now_ns(c);
    link_req(c, r);
    if (out)
        *out = r;
    return AGC_OK;
}

void agc_http_cancel(agc_http_req *req)
{
    if (req->in_done)
        return;
    req_stop(req, AGC_ECANCELED, "request canceled");
}

const agc_http_headers *agc_http_req_headers(const agc_http_req *req)
{
    return req->headers;
}

agc_http_client *agc_http_req_client(const agc_http_req *req)
{
    return req->client;
}

size_t agc_http_client_pending(const agc_http_client *client)
{
    return client->n;
}

/* ---- the loop ---- */

static agc_status map_curl_code(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return AGC_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return AGC_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return AGC_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return AGC_EINVAL;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        return AGC_EPROTO;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
        return AGC_ECANCELED;
    default:
        return AGC_ENET;
    }
}

static void finish_from_curl(agc_http_req *r, CURLcode rc)
{
    if (r->http_status == 0) {
        long code = 0;
        agc_net__easy_getinfo_long(r->easy, CURLINFO_RESPONSE_CODE, &code);
        r->http_status = (int)code;
    }
    if (rc != CURLE_OK && r->stop == AGC_OK) {
        size_t el = strlen(r->errbuf);
        while (el && (r->errbuf[el - 1] == '\n' || r->errbuf[el - 1] == '\r'))
            r->errbuf[--el] = '\0';
        const char *what = el ? r->errbuf : curl_easy_strerror(rc);
        agc_status st = map_curl_code(rc);
        if (st == AGC_ETIMEDOUT)
            req_stop(r, st,
                     "timed out: %s (raise connect_timeout_ms or timeout_ms if the "
                     "server is just slow)",
                     what);
        else if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING)
            req_stop(r, st, "connection closed before the response was complete: %s", what);
        else
            req_stop(r, st, "%s", what);
    }
    if (r->stop == AGC_OK && !r->headers_fired && r->http_status >= 200)
        (void)fire_headers(r); /* a response whose header end we did not see */
    fire_done(r);
}

static void drain_info(agc_http_client *c)
{
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        agc_net__easy_getinfo_str(m->easy_handle, CURLINFO_PRIVATE, &priv);
        agc_http_req *r = (agc_http_req *)(void *)priv;
        CURLcode rc = m->data.result;
        if (r)
            finish_from_curl(r, rc);
    }
}

/* Adds new requests to the multi; marks the ones it cannot add. */
static bool add_pending(agc_http_client *c)
{
    bool any = false;
    for (agc_http_req *r = c->head; r; r = r->next) {
        if (r->added || r->stop != AGC_OK)
            continue;
        CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);
        if (mc != CURLM_OK)
            req_stop(r, mc == CURLM_OUT_OF_MEMORY ? AGC_ENOMEM : AGC_ENET, "%s",
                     curl_multi_strerror(mc));
        else
            r->added = any = true;
    }
    return any;
}

/* Fires on_done for every request that was told to stop. */
static void reap_stopped(agc_http_client *c)
{
    agc_http_req *r = c->head;
    while (r) {
        agc_http_req *next = r->next; /* on_done frees only r; new ones go to the tail */
        if (r->stop != AGC_OK)
            fire_done(r);
        r = next;
    }
}

static int64_t check_idle(agc_http_client *c, int64_t wait_ms)
{
    int64_t now = now_ns(c);
    for (agc_http_req *r = c->head; r; r = r->next) {
        if (!r->idle_ns || r->stop != AGC_OK)
            continue;
        int64_t left = r->last_rx_ns + r->idle_ns - now;
        if (left <= 0) {
            req_stop(r, AGC_ETIMEDOUT,
                     "no data received for %lld ms (idle_timeout_ms): the server stalled",
                     (long long)(r->idle_ns / 1000000));
        } else {
            int64_t ms = left / 1000000 + 1;
            if (ms < wait_ms)
                wait_ms = ms;
        }
    }
    return wait_ms;
}

static void cancel_all_now(agc_http_client *c)
{
    for (agc_http_req *r = c->head; r; r = r->next)
        req_stop(r, AGC_ECANCELED, "request canceled (client cancel)");
}

/* Runs until no request is left, or *until becomes true, or timeout / wakeup. */
static agc_status run_loop(agc_http_client *c, int64_t timeout_ms, const bool *until)
{
    int64_t t0 = now_ns(c);
    for (;;) {
        if (atomic_exchange(&c->cancel_all, false))
            cancel_all_now(c);
        add_pending(c);
        reap_stopped(c);
        if (until ? *until : c->n == 0)
            return AGC_OK;
        int running = 0;
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK)
            return agc_error_set(c->ctx, mc == CURLM_OUT_OF_MEMORY ? AGC_ENOMEM : AGC_ENET, "http",
                                 "curl_multi_perform failed: %s", curl_multi_strerror(mc));
        drain_info(c);
        int64_t wait_ms = check_idle(c, 1000);
        reap_stopped(c);
        if (until ? *until : c->n == 0)
            return AGC_OK;
        bool fresh = false;
        for (agc_http_req *r = c->head; r && !fresh; r = r->next)
            fresh = !r->added || r->stop != AGC_OK;
        if (fresh)
            continue; /* started or stopped from a callback: act now */
        if (timeout_ms >= 0) {
            int64_t left = timeout_ms - (now_ns(c) - t0) / 1000000;
            if (left <= 0)
                return AGC_EBUSY;
            if (left < wait_ms)
                wait_ms = left;
        }
        mc = curl_multi_poll(c->multi, NULL, 0, (int)wait_ms, NULL);
        if (mc != CURLM_OK)
            return agc_error_set(c->ctx, AGC_ENET, "http", "curl_multi_poll failed: %s",
                                 curl_multi_strerror(mc));
        if (atomic_exchange(&c->woken, false) && !until && !atomic_load(&c->cancel_all))
            return AGC_EBUSY;
    }
}

agc_status agc_http_client_run(agc_http_client *c, int64_t timeout_ms)
{
    if (c->in_run || c->cb_depth)
        return agc_error_set(c->ctx, AGC_EUSAGE, "http",
                             "agc_http_client_run is not reentrant (called from a callback?)");
    c->in_run = true;
    agc_http__sigpipe g;
    agc_http__sigpipe_block(&g);
    agc_status st = run_loop(c, timeout_ms, NULL);
    agc_http__sigpipe_unblock(&g);
    c->in_run = false;
    return st;
}

void agc_http_client_wakeup(agc_http_client *c)
{
    atomic_store(&c->woken, true);
    curl_multi_wakeup(c->multi);
}

void agc_http_client_cancel(agc_http_client *c)
{
    atomic_store(&c->cancel_all, true);
    atomic_store(&c->woken, true);
    curl_multi_wakeup(c->multi);
}

void agc_http_client_free(agc_http_client *c)
{
    if (!c)
        return;
    assert(!c->in_run && c->cb_depth == 0); /* not from a callback */
    agc_http__sigpipe g;
    agc_http__sigpipe_block(&g);
    while (c->head) {
        req_stop(c->head, AGC_ECANCELED, "request canceled (client freed)");
        fire_done(c->head);
    }
    curl_multi_cleanup(c->multi); /* may send TLS close_notify on dead sockets */
    agc_http__sigpipe_unblock(&g);
    agc_free(c->ctx, c);
}

/* ---- for the blocking wrapper (http_sync.c) ---- */

agc_status agc_http__run_until(agc_http_client *c, const bool *until, const void *user)
{
    assert(!c->in_run && c->cb_depth == 0); /* checked by the caller */
    c->in_run = true;
    agc_http__sigpipe g;
    agc_http__sigpipe_block(&g);
    agc_status st = run_loop(c, -1, until);
    if (!*until) {
        /* the loop itself failed: end the waiting request so that nothing leaks */
        for (agc_http_req *r = c->head; r; r = r->next) {
            if (r->user == user) {
                req_stop(r, st, "%s", agc_ctx_errmsg(c->ctx));
                fire_done(r);
                break;
            }
        }
    }
    agc_http__sigpipe_unblock(&g);
    c->in_run = false;
    return st;
}

agc_http_headers *agc_http__req_take_headers(agc_http_req *req)
{
    agc_http_headers *h = req->headers;
    req->headers = NULL;
    return h;
}

bool agc_http__client_busy(const agc_http_client *c)
{
    return c->in_run || c->cb_depth;
}

agc_ctx *agc_http__client_ctx(const agc_http_client *c)
{
    return c->ctx;
}
