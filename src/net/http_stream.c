/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Streaming response bodies: a bounded ring buffer between writer threads
 * and libmicrohttpd's content reader, which runs on the connection's own
 * thread and blocks until bytes, the end or an abort arrive. Invariant: a
 * stream has two references, the MHD response (dropped in its free
 * callback) and the writer's owner (end/abort); the last one frees it.
 * It does no framing (SSE formatting is the caller's).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "agentc/alloc.h"
#include "http_server_int.h"

#define READER_BLOCK 16384

int agc_http__cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    int rc = pthread_condattr_init(&a);
    if (rc)
        return rc;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    rc = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

struct timespec agc_http__deadline(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void stream_destroy(agc_http_stream *w)
{
    agc_ctx *ctx = w->ctx;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    agc_free(ctx, w->ring);
    agc_free(ctx, w);
    agc_ctx_free(ctx);
}

void agc_http__stream_unref(agc_http_stream *w)
{
    pthread_mutex_lock(&w->mu);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last)
        stream_destroy(w);
}

void agc_http__stream_close(agc_http_stream *w)
{
    pthread_mutex_lock(&w->mu);
    w->closed = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* MHD's content reader, on the connection thread. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    agc_http_stream *w = cls;
    pthread_mutex_lock(&w->mu);
    while (w->len == 0 && !w->ended && !w->aborted && !w->closed)
        pthread_cond_wait(&w->cv, &w->mu);
    /* closed (client gone, server stopping): drop what is queued; aborted:
     * send what is queued, then make MHD close the connection mid-body */
    ssize_t ret = MHD_CONTENT_READER_END_WITH_ERROR;
    if (!w->closed && w->len) {
        size_t n = w->len < max ? w->len : max;
        size_t first = w->cap - w->head;
        if (first > n)
            first = n;
        memcpy(buf, w->ring + w->head, first);
        memcpy(buf + first, w->ring, n - first);
        w->head = (w->head + n) % w->cap;
        w->len -= n;
        pthread_cond_broadcast(&w->cv);
        ret = (ssize_t)n;
    } else if (!w->closed && !w->aborted) {
        ret = MHD_CONTENT_READER_END_OF_STREAM;
    } else if (w->aborted && !w->closed && w->sock >= 0) {
        /* an abort is a connection reset: connect(AF_UNSPEC) disconnects the
         * TCP socket at once with an RST (Linux tcp_disconnect), before MHD's
         * own close could send a FIN; MHD then fails on the socket and drops it */
        struct sockaddr sa = {.sa_family = AF_UNSPEC};
        (void)connect(w->sock, &sa, sizeof sa);
    }
    pthread_mutex_unlock(&w->mu);
    return ret;
}

/* MHD is done with the response (sent, failed or never queued). */
static void stream_released(void *cls)
{
    agc_http_stream *w = cls;
    agc_http_server *srv = w->srv;
    pthread_mutex_lock(&srv->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        srv->streams = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&srv->mu);
    pthread_mutex_lock(&w->mu);
    w->srv = NULL;
    w->closed = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    agc_http__stream_unref(w);
}

agc_status agc_http__stream_new(agc_http_stream **out, struct MHD_Response **resp_out,
                                agc_http_server *srv, size_t buffer_bytes, agc_ctx *err_ctx)
{
    *out = NULL;
    *resp_out = NULL;
    agc_ctx *ctx = NULL;
    agc_ctx_opts co = {AGC_CTX_OPTS_VERSION, srv->opts.realloc, srv->opts.realloc_ud};
    if (agc_ctx_new(&ctx, &co) != AGC_OK)
        return agc_error_set(err_ctx, AGC_ENOMEM, "http_server", "out of memory opening a stream");
    agc_http_stream *w = agc_calloc(ctx, 1, sizeof *w);
    char *ring = w ? agc_malloc(ctx, buffer_bytes) : NULL;
    if (w)
        w->sock = -1;
    if (!ring || pthread_mutex_init(&w->mu, NULL) != 0) {
        agc_free(ctx, ring);
        agc_free(ctx, w);
        agc_ctx_free(ctx);
        return agc_error_set(err_ctx, AGC_ENOMEM, "http_server", "out of memory opening a stream");
    }
    if (agc_http__cond_init(&w->cv) != 0) {
        pthread_mutex_destroy(&w->mu);
        agc_free(ctx, ring);
        agc_free(ctx, w);
        agc_ctx_free(ctx);
        return agc_error_set(err_ctx, AGC_ENOMEM, "http_server", "out of memory opening a stream");
    }
    w->ctx = ctx;
    w->ring = ring;
    w->cap = buffer_bytes;
    w->refs = 2;
    w->srv = srv;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READER_BLOCK,
                                                                  stream_read, w, stream_released);
    if (!resp) {
        stream_destroy(w);
        return agc_error_set(err_ctx, AGC_ENOMEM, "http_server",
                             "out of memory creating a streaming response");
    }
    pthread_mutex_lock(&srv->mu);
    w->next = srv->streams;
    if (srv->streams)
        srv->streams->prev = w;
    srv->streams = w;
    if (srv->stopping)
        agc_http__stream_close(w);
    pthread_mutex_unlock(&srv->mu);
    *out = w;
    *resp_out = resp;
    return AGC_OK;
}

agc_status agc_http_stream_write(agc_http_stream *w, const void *data, size_t len)
{
    const char *p = data;
    pthread_mutex_lock(&w->mu);
    while (len) {
        if (w->closed || w->ended || w->aborted) {
            pthread_mutex_unlock(&w->mu);
            return AGC_ECANCELED;
        }
        if (w->len == w->cap) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        size_t tail = (w->head + w->len) % w->cap;
        size_t room = tail >= w->head ? w->cap - tail : w->head - tail;
        size_t n = len < room ? len : room;
        memcpy(w->ring + tail, p, n);
        w->len += n;
        p += n;
        len -= n;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return AGC_OK;
}

agc_status agc_http_stream_sleep(agc_http_stream *w, int64_t ms)
{
    struct timespec until = agc_http__deadline(ms);
    pthread_mutex_lock(&w->mu);
    while (!w->closed) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
            break;
    }
    agc_status st = w->closed ? AGC_ECANCELED : AGC_OK;
    pthread_mutex_unlock(&w->mu);
    return st;
}

bool agc_http_stream_is_open(agc_http_stream *w)
{
    pthread_mutex_lock(&w->mu);
    bool open = !w->closed && !w->ended && !w->aborted;
    pthread_mutex_unlock(&w->mu);
    return open;
}

agc_ctx *agc_http_stream_ctx(agc_http_stream *w)
{
    return w->ctx;
}

static void stream_finish(agc_http_stream *w, bool abort)
{
    pthread_mutex_lock(&w->mu);
    if (!w->ended && !w->aborted) {
        if (abort)
            w->aborted = true;
        else
            w->ended = true;
    }
    pthread_cond_broadcast(&w->cv);
    bool spawned = w->spawned;
    pthread_mutex_unlock(&w->mu);
    if (!spawned)
        agc_http__stream_unref(w);
}

void agc_http_stream_end(agc_http_stream *w)
{
    stream_finish(w, false);
}

void agc_http_stream_abort(agc_http_stream *w)
{
    stream_finish(w, true);
}
