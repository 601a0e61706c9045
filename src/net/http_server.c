/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * HTTP server on libmicrohttpd, one thread per connection. A request object
 * is born in MHD's URI-log callback (which sees the raw URI) and freed in its
 * completion callback; the body is collected under a cap (413 past it)
 * before the handler runs. Invariant: every request gets exactly one
 * response, the handler's or a 413/500 of ours. No TLS, no routing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "http_int.h"
#include "http_server_int.h"

#define REQ_HEADER_BYTES ((size_t)64 * 1024)
#define ACCEPT_SETTLE_MS 50

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    agc_http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_store(&srv->last_accept_ms, now_ms());
}

struct agc_http_sreq {
    agc_http_server *srv;
    agc_ctx *ctx; /* the request's own; freed with it */
    struct MHD_Connection *conn;
    char *uri; /* raw copy: path, then '\0', then query */
    const char *path, *query, *method;
    agc_http_headers *headers;
    agc_buf body;
    bool started, too_large, failed, answered;
    agc_status body_status; /* why the body was dropped: ELIMIT (413) or ENOMEM (500) */
};

void agc_http_server_opts_init(agc_http_server_opts *opts)
{
    *opts = (agc_http_server_opts)AGC_HTTP_SERVER_OPTS_INIT;
}

/* ---- per-request state ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    agc_http_server *srv = cls;
    agc_ctx *ctx = NULL;
    agc_ctx_opts co = {AGC_CTX_OPTS_VERSION, srv->opts.realloc, srv->opts.realloc_ud};
    if (agc_ctx_new(&ctx, &co) != AGC_OK)
        return NULL;
    agc_http_sreq *r = agc_calloc(ctx, 1, sizeof *r);
    char *u = r ? agc_strdup(ctx, uri) : NULL;
    if (!u || agc_http__headers_new(&r->headers, REQ_HEADER_BYTES, ctx) != AGC_OK) {
        agc_free(ctx, u);
        agc_free(ctx, r);
        agc_ctx_free(ctx);
        return NULL;
    }
    r->srv = srv;
    r->ctx = ctx;
    r->conn = conn;
    r->uri = u;
    char *q = strchr(u, '?');
    if (q)
        *q++ = '\0';
    r->path = u;
    r->query = q ? q : "";
    agc_buf_init(&r->body, ctx, srv->opts.max_body_bytes);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    agc_http_sreq *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    agc_ctx *ctx = r->ctx;
    agc_buf_free(&r->body);
    agc_http__headers_free(r->headers);
    agc_free(ctx, r->uri);
    agc_free(ctx, r);
    agc_ctx_free(ctx);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    agc_http_sreq *r = cls;
    if (!value)
        value = "";
    if (agc_http__headers_add(r->headers, key, strlen(key), value, strlen(value)) != AGC_OK) {
        r->failed = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* ---- answers ---- */

static bool valid_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch >= 127 || ch == ':')
            return false;
    }
    return true;
}

static agc_status add_headers(struct MHD_Response *resp, const agc_http_header *h, size_t n,
                              agc_ctx *ctx)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = h[i].value ? h[i].value : "";
        if (!valid_name(h[i].name) || agc_http__has_line_break(v, strlen(v)))
            return agc_error_set(ctx, AGC_EINVAL, "http_server",
                                 "response header #%zu has an invalid name or a line break", i);
        if (!*v)
            continue; /* libmicrohttpd cannot send empty values */
        if (MHD_add_response_header(resp, h[i].name, v) != MHD_YES)
            return agc_error_set(ctx, AGC_EINVAL, "http_server",
                                 "response header %s refused (Content-Length and "
                                 "Transfer-Encoding are the server's)",
                                 h[i].name);
    }
    return AGC_OK;
}

static agc_status check_answer(agc_http_sreq *r, int status)
{
    if (r->answered)
        return agc_error_set(r->ctx, AGC_EINVAL, "http_server", "a request was answered twice");
    if (status < 100 || status > 999)
        return agc_error_set(r->ctx, AGC_EINVAL, "http_server", "invalid HTTP status %d", status);
    return AGC_OK;
}

static agc_status queue(agc_http_sreq *r, int status, struct MHD_Response *resp)
{
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES)
        return agc_error_set(r->ctx, AGC_EINVAL, "http_server",
                             "could not queue the response (answer from the handler only)");
    r->answered = true;
    return AGC_OK;
}

agc_status agc_http_sreq_respond(agc_http_sreq *r, int status, const agc_http_header *headers,
                                 size_t nheaders, const void *body, size_t body_len)
{
    agc_status st = check_answer(r, status);
    if (st != AGC_OK)
        return st;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body_len, body_len ? (void *)body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return agc_error_set(r->ctx, AGC_ENOMEM, "http_server", "out of memory for a response");
    st = add_headers(resp, headers, nheaders, r->ctx);
    if (st != AGC_OK) {
        MHD_destroy_response(resp);
        return st;
    }
    return queue(r, status, resp);
}

static agc_status open_stream(agc_http_stream **out, agc_http_sreq *r, int status,
                              const agc_http_header *headers, size_t nheaders, bool spawned)
{
    *out = NULL;
    agc_status st = check_answer(r, status);
    if (st != AGC_OK)
        return st;
    agc_http_stream *w = NULL;
    struct MHD_Response *resp = NULL;
    st = agc_http__stream_new(&w, &resp, r->srv, r->srv->opts.stream_buffer_bytes, r->ctx);
    if (st != AGC_OK)
        return st;
    w->spawned = spawned;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        w->sock = ci->connect_fd;
    st = add_headers(resp, headers, nheaders, r->ctx);
    if (st == AGC_OK)
        st = queue(r, status, resp); /* MHD now owns the response */
    else
        MHD_destroy_response(resp);
    if (st != AGC_OK) {
        /* the response is gone, which dropped MHD's reference; drop ours */
        w->spawned = false;
        agc_http_stream_abort(w);
        return st;
    }
    *out = w;
    return AGC_OK;
}

agc_status agc_http_sreq_stream(agc_http_stream **out, agc_http_sreq *r, int status,
                                const agc_http_header *headers, size_t nheaders)
{
    return open_stream(out, r, status, headers, nheaders, false);
}

/* Joins finished producer threads (all of them when all is set); srv->mu held. */
static void reap_producers(agc_http_server *srv, bool all)
{
    agc_http__producer **pp = &srv->producers;
    while (*pp) {
        agc_http__producer *p = *pp;
        if (!all && !p->done) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        pthread_mutex_unlock(&srv->mu);
        pthread_join(p->thread, NULL);
        agc_http_stream *w = p->w;
        agc_free(w->ctx, p);
        agc_http__stream_unref(w);
        pthread_mutex_lock(&srv->mu);
        pp = &srv->producers; /* the list may have changed while unlocked */
    }
}

static void *producer_main(void *arg)
{
    agc_http__producer *p = arg;
    p->fn(p->w, p->user);
    agc_http_stream_end(p->w); /* no-op when fn ended or aborted it */
    agc_http_server *srv = p->srv;
    pthread_mutex_lock(&srv->mu);
    p->done = true;
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

agc_status agc_http_sreq_stream_spawn(agc_http_sreq *r, int status, const agc_http_header *headers,
                                      size_t nheaders, agc_http_stream_fn fn, void *user)
{
    if (!fn)
        return agc_error_set(r->ctx, AGC_EINVAL, "http_server", "stream_spawn needs a function");
    agc_http_stream *w = NULL;
    agc_status st = open_stream(&w, r, status, headers, nheaders, true);
    if (st != AGC_OK)
        return st;
    agc_http_server *srv = r->srv;
    agc_http__producer *p = agc_calloc(w->ctx, 1, sizeof *p);
    if (p) {
        p->w = w;
        p->fn = fn;
        p->user = user;
        p->srv = srv;
    }
    pthread_mutex_lock(&srv->mu);
    reap_producers(srv, false);
    int rc = p ? pthread_create(&p->thread, NULL, producer_main, p) : ENOMEM;
    if (rc == 0) {
        p->next = srv->producers;
        srv->producers = p;
    }
    pthread_mutex_unlock(&srv->mu);
    if (rc != 0) {
        agc_free(w->ctx, p);
        w->spawned = false; /* nobody else holds the owner's reference */
        agc_http_stream_abort(w);
        return agc_error_set(r->ctx, rc == ENOMEM ? AGC_ENOMEM : AGC_ERROR, "http_server",
                             "could not start a stream thread: %s", strerror(rc));
    }
    return AGC_OK;
}

/* ---- the access handler ---- */

static enum MHD_Result plain(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static const char MSG_413[] = "request body too large\n";
static const char MSG_500[] = "internal server error\n";

static enum MHD_Result first_call(agc_http_sreq *r, struct MHD_Connection *conn, const char *method)
{
    r->started = true;
    r->method = method;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r);
    if (r->failed) {
        r->answered = true;
        return plain(conn, 431, "request headers too large\n");
    }
    const char *cl = agc_http_headers_get(r->headers, "Content-Length");
    const char *expect = agc_http_headers_get(r->headers, "Expect");
    if (cl && expect && strncasecmp(expect, "100-continue", 12) == 0) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > r->srv->opts.max_body_bytes) {
            r->answered = true;
            return plain(conn, 413, MSG_413); /* before the client sends the body */
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    agc_http_sreq *r = *con_cls;
    if (!r)
        return plain(conn, 500, "out of memory\n");
    if (!r->started)
        return first_call(r, conn, method);
    if (*upload_data_size) {
        if (!r->too_large) {
            agc_status st = agc_buf_append(&r->body, upload_data, *upload_data_size);
            if (st != AGC_OK) {
                r->too_large = true;
                r->body_status = st;
                agc_buf_free(&r->body);
            }
        }
        *upload_data_size = 0; /* consumed (or dropped) */
        return MHD_YES;
    }
    if (r->answered)
        return MHD_YES;
    if (r->too_large)
        return r->body_status == AGC_ELIMIT ? plain(conn, 413, MSG_413) : plain(conn, 500, MSG_500);
    agc_status st = r->srv->handler(r, r->srv->user);
    (void)st;
    if (!r->answered)
        return plain(conn, 500, MSG_500);
    return MHD_YES;
}

/* ---- the server ---- */

static agc_status bind_addr(struct sockaddr_storage *ss, unsigned *flags, const char *addr,
                            uint16_t port, agc_ctx *ctx)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        return AGC_OK;
    }
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        *flags |= MHD_USE_IPv6;
        return AGC_OK;
    }
    return agc_error_set(ctx, AGC_EINVAL, "http_server",
                         "bind address \"%.64s\" is not an IPv4 or IPv6 literal", addr);
}

agc_status agc_http_server_new(agc_http_server **out, const agc_http_server_opts *opts,
                               agc_http_handler_fn handler, void *user, agc_ctx *ctx)
{
    *out = NULL;
    agc_http_server_opts o = AGC_HTTP_SERVER_OPTS_INIT;
    if (opts) {
        if (opts->version != AGC_HTTP_SERVER_OPTS_VERSION)
            return agc_error_set(ctx, AGC_EINVAL, "http_server",
                                 "unknown agc_http_server_opts version %u (expected %u)",
                                 opts->version, AGC_HTTP_SERVER_OPTS_VERSION);
        o = *opts;
    }
    if (!handler)
        return agc_error_set(ctx, AGC_EINVAL, "http_server", "the server needs a handler");
    agc_status st = agc_net__mhd_load(ctx); /* dlopen, once per process */
    if (st != AGC_OK)
        return st;
    if (!o.bind_address)
        o.bind_address = "127.0.0.1";
    if (!o.max_body_bytes)
        o.max_body_bytes = AGC_HTTP_SERVER_DEFAULT_MAX_BODY;
    if (!o.stream_buffer_bytes)
        o.stream_buffer_bytes = (size_t)64 * 1024;
    if (!o.max_connections)
        o.max_connections = 256;
    if (!o.idle_timeout_s)
        o.idle_timeout_s = 60;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_AUTO | MHD_USE_ITC;
    struct sockaddr_storage ss;
    st = bind_addr(&ss, &flags, o.bind_address, o.port, ctx);
    if (st != AGC_OK)
        return st;
    agc_http_server *srv = agc_calloc(ctx, 1, sizeof *srv);
    if (!srv)
        return AGC_ENOMEM;
    srv->ctx = ctx;
    atomic_init(&srv->last_accept_ms, 0);
    srv->handler = handler;
    srv->user = user;
    srv->opts = o;
    srv->opts.bind_address = NULL; /* not kept: the caller's string */
    if (pthread_mutex_init(&srv->mu, NULL) != 0) {
        agc_free(ctx, srv);
        return agc_error_set(ctx, AGC_ENOMEM, "http_server", "cannot create a mutex");
    }
    if (agc_http__cond_init(&srv->cv) != 0) {
        pthread_mutex_destroy(&srv->mu);
        agc_free(ctx, srv);
        return agc_error_set(ctx, AGC_ENOMEM, "http_server", "cannot create a condition");
    }
    errno = 0;
    srv->daemon = MHD_start_daemon(
        flags, o.port, NULL, NULL, on_access, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)o.idle_timeout_s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_END);
    if (!srv->daemon) {
        int err = errno;
        pthread_cond_destroy(&srv->cv);
        pthread_mutex_destroy(&srv->mu);
        agc_free(ctx, srv);
        return agc_error_set(ctx, AGC_EIO, "http_server",
                             "cannot listen on %s port %u (%s); is the port in use?",
                             o.bind_address, (unsigned)o.port,
                             err ? strerror(err) : "libmicrohttpd refused to start");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : o.port;
    *out = srv;
    return AGC_OK;
}

uint16_t agc_http_server_port(const agc_http_server *srv)
{
    return srv->port;
}

agc_status agc_http_server_sleep(agc_http_server *srv, int64_t ms)
{
    struct timespec until = agc_http__deadline(ms);
    pthread_mutex_lock(&srv->mu);
    while (!srv->stopping) {
        if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT)
            break;
    }
    agc_status st = srv->stopping ? AGC_ECANCELED : AGC_OK;
    pthread_mutex_unlock(&srv->mu);
    return st;
}

void agc_http_server_free(agc_http_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    for (agc_http_stream *w = srv->streams; w; w = w->next)
        agc_http__stream_close(w);
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    /* Stop accepting. libmicrohttpd 0.9.75 can crash (NULL response in a
     * connection thread) when MHD_stop_daemon races a connection accepted a
     * moment ago that the client closed without a request (a TLS client
     * giving up, a port probe): give such connections a moment to settle. */
    MHD_socket ls = MHD_quiesce_daemon(srv->daemon);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    int64_t since = now_ms() - atomic_load(&srv->last_accept_ms);
    if (since >= 0 && since < ACCEPT_SETTLE_MS)
        usleep((useconds_t)(ACCEPT_SETTLE_MS - since) * 1000);
    MHD_stop_daemon(srv->daemon); /* joins connection threads: handlers have returned */
    pthread_mutex_lock(&srv->mu);
    reap_producers(srv, true);
    pthread_mutex_unlock(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    agc_free(srv->ctx, srv);
}

/* ---- request accessors ---- */

const char *agc_http_sreq_method(const agc_http_sreq *r)
{
    return r->method;
}

const char *agc_http_sreq_path(const agc_http_sreq *r)
{
    return r->path;
}

const char *agc_http_sreq_query(const agc_http_sreq *r)
{
    return r->query;
}

const agc_http_headers *agc_http_sreq_headers(const agc_http_sreq *r)
{
    return r->headers;
}

const char *agc_http_sreq_header(const agc_http_sreq *r, const char *name)
{
    return agc_http_headers_get(r->headers, name);
}

const char *agc_http_sreq_body(const agc_http_sreq *r, size_t *len_out)
{
    if (len_out)
        *len_out = r->body.len;
    return agc_buf_cstr(&r->body);
}

agc_ctx *agc_http_sreq_ctx(agc_http_sreq *r)
{
    return r->ctx;
}

agc_http_server *agc_http_sreq_server(const agc_http_sreq *r)
{
    return r->srv;
}
