/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One Streamable HTTP session: the inbox the POST handlers fill, the SSE
 * streams (a ring of numbered events each, for Last-Event-ID replay), the
 * pump threads that copy events to HTTP connections, and the transport ops
 * its agc_mcp_session uses on the session thread. Invariant: the session
 * thread never blocks on a client: send only appends to a ring; pumps do the
 * writing. Not here: HTTP request parsing and checks (transport_http_server.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/jsonrpc.h"
#include "transport_http_server_int.h"

#define MOD          AGC__MCP_MOD
#define KEEPALIVE_MS 15000

int64_t agc_mcp__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

bool agc_mcp__id_key(const json_t *id, char *buf, size_t size)
{
    int n;
    if (json_is_integer(id))
        n = snprintf(buf, size, "i%lld", (long long)json_integer_value(id));
    else if (json_is_string(id))
        n = snprintf(buf, size, "s%s", json_string_value(id));
    else
        return false;
    return n >= 0 && (size_t)n < size;
}

/* ---- streams (under h->mu) --------------------------------------------------------- */

static void hstream_free(agc_mcp__hsess *h, agc_mcp__hstream *hs)
{
    for (size_t i = 0; i < hs->count; i++)
        agc_free(h->ctx, hs->ring[(hs->start + i) % hs->cap].text);
    agc_free(h->ctx, hs->ring);
    agc_free(h->ctx, hs->key);
    agc_free(h->ctx, hs->json);
    agc_free(h->ctx, hs);
}

static void unlink_stream(agc_mcp__hsess *h, agc_mcp__hstream *hs)
{
    for (agc_mcp__hstream **pp = &h->streams; *pp; pp = &(*pp)->next)
        if (*pp == hs) {
            *pp = hs->next;
            return;
        }
}

/* Drops finished POST streams nobody reads: all delivered ones, and the oldest
 * undelivered beyond 64 (kept for a client that may still resume). */
static void prune(agc_mcp__hsess *h)
{
    unsigned kept = 0;
    agc_mcp__hstream **pp = &h->streams;
    while (*pp) {
        agc_mcp__hstream *hs = *pp;
        bool idle = hs->id != 0 && hs->finished && hs->users == 0;
        if (idle && (hs->delivered || !hs->sse || kept >= 64)) {
            *pp = hs->next;
            hstream_free(h, hs);
            continue;
        }
        if (idle)
            kept++;
        pp = &hs->next;
    }
}

agc_mcp__hstream *agc_mcp__hstream_new(agc_mcp__hsess *h, const char *key, bool sse)
{
    prune(h);
    size_t cap = h->srv->o.replay_events;
    agc_mcp__hstream *hs = agc_calloc(h->ctx, 1, sizeof *hs);
    if (!hs)
        return NULL;
    hs->ring = agc_calloc(h->ctx, cap, sizeof *hs->ring);
    hs->key = key ? agc_strdup(h->ctx, key) : NULL;
    if (!hs->ring || (key && !hs->key)) {
        hstream_free(h, hs);
        return NULL;
    }
    hs->cap = cap;
    hs->sse = sse;
    hs->id = key ? ++h->next_stream : 0;
    /* newest first, so a reused request id finds its latest stream */
    hs->next = h->streams;
    h->streams = hs;
    return hs;
}

agc_mcp__hstream *agc_mcp__hstream_find(agc_mcp__hsess *h, unsigned long id)
{
    for (agc_mcp__hstream *hs = h->streams; hs; hs = hs->next)
        if (hs->id == id)
            return hs;
    return NULL;
}

agc_mcp__hstream *agc_mcp__hstream_by_key(agc_mcp__hsess *h, const char *key)
{
    for (agc_mcp__hstream *hs = h->streams; hs; hs = hs->next)
        if (hs->key && !hs->finished && strcmp(hs->key, key) == 0)
            return hs;
    return NULL;
}

void agc_mcp__hstream_release(agc_mcp__hsess *h, agc_mcp__hstream *hs)
{
    if (hs->id != 0 && hs->users == 0 && hs->finished) {
        unlink_stream(h, hs);
        hstream_free(h, hs);
    }
}

/* Appends an event (text copied); the oldest one goes when the ring is full. */
static agc_status ring_push(agc_mcp__hsess *h, agc_mcp__hstream *hs, const char *text, size_t len)
{
    char *copy = agc_malloc(h->ctx, len + 1);
    if (!copy)
        return AGC_ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (hs->count == hs->cap) {
        agc_free(h->ctx, hs->ring[hs->start].text);
        hs->start = (hs->start + 1) % hs->cap;
        hs->count--;
    }
    agc_mcp__hev *e = &hs->ring[(hs->start + hs->count) % hs->cap];
    e->seq = hs->next_seq++;
    e->text = copy;
    e->len = len;
    hs->count++;
    pthread_cond_broadcast(&h->cv);
    return AGC_OK;
}

agc_status agc_mcp__hstream_prime(agc_mcp__hsess *h, agc_mcp__hstream *hs)
{
    return ring_push(h, hs, "", 0);
}

/* First event with seq >= from, or NULL. */
static agc_mcp__hev *ring_from(agc_mcp__hstream *hs, unsigned long from)
{
    for (size_t i = 0; i < hs->count; i++) {
        agc_mcp__hev *e = &hs->ring[(hs->start + i) % hs->cap];
        if (e->seq >= from)
            return e;
    }
    return NULL;
}

agc_status agc_mcp__hsess_push(agc_mcp__hsess *h, const char *text, size_t len)
{
    agc_mcp__inmsg *m = agc_calloc(h->ctx, 1, sizeof *m);
    char *copy = m ? agc_malloc(h->ctx, len + 1) : NULL;
    if (!copy) {
        agc_free(h->ctx, m);
        return AGC_ENOMEM;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    m->text = copy;
    m->len = len;
    if (h->in_tail)
        h->in_tail->next = m;
    else
        h->in_head = m;
    h->in_tail = m;
    h->last_ms = agc_mcp__now_ms();
    pthread_cond_broadcast(&h->cv);
    return AGC_OK;
}

/* ---- pumps: one thread per attached SSE connection ------------------------------------ */

struct agc_mcp__pump {
    agc_mcp__hsess *h;
    agc_mcp__hstream *hs;
    unsigned gen;
    unsigned long next; /* next seq to write */
};
typedef agc_mcp__pump pump_arg;

/* "id: S-Q\n[retry: R\n]data: TEXT\n\n" into a new buffer of ctx. */
static char *frame(const agc_mcp__hstream *hs, const agc_mcp__hev *e, unsigned retry_ms,
                   size_t *len_out, agc_ctx *ctx)
{
    char head[96];
    int n = e->len == 0 ? snprintf(head, sizeof head, "id: %lu-%lu\nretry: %u\ndata: ", hs->id,
                                   e->seq, retry_ms)
                        : snprintf(head, sizeof head, "id: %lu-%lu\ndata: ", hs->id, e->seq);
    size_t hl = (size_t)n, total = hl + e->len + 2;
    char *out = agc_malloc(ctx, total);
    if (!out)
        return NULL;
    memcpy(out, head, hl);
    memcpy(out + hl, e->text, e->len);
    memcpy(out + hl + e->len, "\n\n", 2);
    *len_out = total;
    return out;
}

static void pump_fn(agc_http_stream *w, void *user)
{
    pump_arg *a = user;
    agc_mcp__hsess *h = a->h;
    agc_mcp__hstream *hs = a->hs;
    agc_ctx *wctx = agc_http_stream_ctx(w);
    unsigned retry = h->srv->o.retry_ms;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        /* a stale pump (stream closed or taken over) still sends what was
         * queued before its stop point, then ends its response */
        bool stale = hs->gen != a->gen;
        if (h->closed || (stale && a->next >= hs->stop_seq))
            break;
        agc_mcp__hev *e = ring_from(hs, a->next);
        if (e && stale && e->seq >= hs->stop_seq)
            break;
        if (e) {
            size_t len = 0;
            char *buf = frame(hs, e, retry, &len, wctx);
            unsigned long seq = e->seq;
            pthread_mutex_unlock(&h->mu);
            agc_status st = buf ? agc_http_stream_write(w, buf, len) : AGC_ENOMEM;
            agc_free(wctx, buf);
            pthread_mutex_lock(&h->mu);
            if (st != AGC_OK)
                break;
            a->next = seq + 1;
            if (hs->written < a->next)
                hs->written = a->next;
            continue;
        }
        if (stale)
            break;
        if (hs->finished) {
            hs->delivered = true;
            break;
        }
        struct timespec until = deadline_in(KEEPALIVE_MS);
        if (pthread_cond_timedwait(&h->cv, &h->mu, &until) == ETIMEDOUT && hs->gen == a->gen &&
            !h->closed) {
            pthread_mutex_unlock(&h->mu);
            agc_status st = agc_http_stream_write(w, ": keepalive\n\n", 13);
            pthread_mutex_lock(&h->mu);
            if (st != AGC_OK)
                break;
        }
    }
    hs->users--;
    agc_mcp__hstream_release(h, hs);
    agc_free(h->ctx, a);
    pthread_mutex_unlock(&h->mu);
    agc_mcp__hsess_unref(h);
}

agc_mcp__pump *agc_mcp__hstream_attach(agc_mcp__hsess *h, agc_mcp__hstream *hs, bool has_after,
                                       unsigned long after)
{
    pump_arg *pa = agc_malloc(h->ctx, sizeof *pa);
    if (!pa)
        return NULL;
    hs->gen++; /* an earlier pump stops now */
    hs->stop_seq = 0;
    hs->users++;
    *pa = (pump_arg){h, hs, hs->gen, has_after ? after + 1 : (hs->id == 0 ? hs->written : 0)};
    pthread_cond_broadcast(&h->cv);
    return pa;
}

agc_status agc_mcp__hstream_spawn(agc_http_sreq *req, agc_mcp__hsess *h, agc_mcp__pump *pa)
{
    agc_mcp__hsess_ref(h);
    agc_http_header hdr[] = {{"Content-Type", "text/event-stream"},
                             {"Cache-Control", "no-cache"},
                             {"Mcp-Session-Id", h->id}};
    agc_status st = agc_http_sreq_stream_spawn(req, 200, hdr, 3, pump_fn, pa);
    if (st != AGC_OK) { /* pump_fn never ran */
        pthread_mutex_lock(&h->mu);
        agc_mcp__hstream *hs = pa->hs;
        hs->users--;
        agc_free(h->ctx, pa);
        agc_mcp__hstream_release(h, hs);
        pthread_mutex_unlock(&h->mu);
        agc_mcp__hsess_unref(h);
    }
    return st;
}

/* ---- the transport ops (session thread) -------------------------------------------------- */

static agc_status t_send_related(void *self, const char *msg, size_t len, const json_t *related,
                                 bool final)
{
    agc_mcp__hsess *h = self;
    char key[256];
    bool have = related && agc_mcp__id_key(related, key, sizeof key);
    pthread_mutex_lock(&h->mu);
    agc_ctx *tctx = h->tctx;
    if (h->closed) {
        char why[sizeof h->why];
        memcpy(why, h->why, sizeof why);
        pthread_mutex_unlock(&h->mu);
        return agc_error_set(tctx, AGC_EIO, MOD, "the MCP HTTP session is closed: %s", why);
    }
    agc_mcp__hstream *hs = have ? agc_mcp__hstream_by_key(h, key) : NULL;
    agc_status st = AGC_OK;
    bool dropped = false;
    if (final) {
        if (!hs)
            dropped = true; /* canceled, or the client went away for good */
        else if (!hs->sse) {
            hs->json = agc_strndup(h->ctx, msg, len);
            hs->json_len = len;
            st = hs->json ? AGC_OK : AGC_ENOMEM;
        } else
            st = ring_push(h, hs, msg, len);
        if (hs)
            hs->finished = true;
        pthread_cond_broadcast(&h->cv);
    } else {
        if (!hs || !hs->sse)
            hs = agc_mcp__hstream_find(h, 0);
        st = hs ? ring_push(h, hs, msg, len) : AGC_OK;
    }
    pthread_mutex_unlock(&h->mu);
    if (dropped)
        agc_log(tctx, AGC_LOG_DEBUG, MOD, "dropping a response: its request stream is gone");
    if (st != AGC_OK)
        return agc_error_set(tctx, AGC_ENOMEM, MOD, "out of memory queueing an MCP message");
    return AGC_OK;
}

static agc_status t_send(void *self, const char *msg, size_t len)
{
    return t_send_related(self, msg, len, NULL, false);
}

static agc_status t_recv(void *self, char **msg_out, size_t *len_out, int64_t timeout_ms)
{
    agc_mcp__hsess *h = self;
    int64_t idle = h->srv->o.session_idle_ms;
    int64_t start = agc_mcp__now_ms();
    pthread_mutex_lock(&h->mu);
    agc_ctx *tctx = h->tctx;
    while (!h->in_head && !h->closed) {
        int64_t now = agc_mcp__now_ms();
        if (now - h->last_ms >= idle) {
            h->closed = true;
            snprintf(h->why, sizeof h->why, "no traffic for %lld ms", (long long)idle);
            pthread_cond_broadcast(&h->cv);
            break;
        }
        int64_t wait = h->last_ms + idle - now;
        if (timeout_ms >= 0) {
            int64_t left = start + timeout_ms - now;
            if (left <= 0) {
                pthread_mutex_unlock(&h->mu);
                return AGC_OK;
            }
            if (left < wait)
                wait = left;
        }
        struct timespec until = deadline_in(wait);
        pthread_cond_timedwait(&h->cv, &h->mu, &until);
    }
    if (h->in_head) {
        agc_mcp__inmsg *m = h->in_head;
        h->in_head = m->next;
        if (!h->in_head)
            h->in_tail = NULL;
        char *copy = agc_malloc(tctx, m->len + 1);
        if (copy) {
            memcpy(copy, m->text, m->len + 1);
            *msg_out = copy;
            *len_out = m->len;
        }
        agc_free(h->ctx, m->text);
        agc_free(h->ctx, m);
        pthread_mutex_unlock(&h->mu);
        return copy ? AGC_OK : AGC_ENOMEM;
    }
    char why[sizeof h->why];
    memcpy(why, h->why, sizeof why);
    pthread_mutex_unlock(&h->mu);
    return agc_error_set(tctx, AGC_EIO, MOD, "the MCP HTTP session ended: %s", why);
}

static agc_status t_close(void *self)
{
    agc_mcp__hsess_close(self, "closed by the server");
    return AGC_OK;
}

static void t_close_stream(void *self, const json_t *related)
{
    agc_mcp__hsess *h = self;
    char key[256];
    if (!related || !agc_mcp__id_key(related, key, sizeof key))
        return;
    pthread_mutex_lock(&h->mu);
    agc_mcp__hstream *hs = agc_mcp__hstream_by_key(h, key);
    if (hs && hs->sse) {
        hs->gen++; /* its pump ends the HTTP response; events stay for replay */
        hs->stop_seq = hs->next_seq;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
}

static void t_destroy(void *self)
{
    agc_mcp__hsess_unref(self);
}

static const agc_mcp_transport_ops http_ops = {
    AGC_MCP_TRANSPORT_OPS_VERSION,
    t_send,
    t_recv,
    t_close,
    t_destroy,
    t_send_related,
    t_close_stream,
};

/* ---- session lifecycle --------------------------------------------------------------------- */

void agc_mcp__hsess_ref(agc_mcp__hsess *h)
{
    atomic_fetch_add(&h->refs, 1);
}

void agc_mcp__hsess_unref(agc_mcp__hsess *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    agc_ctx *ctx = h->ctx;
    while (h->streams) {
        agc_mcp__hstream *hs = h->streams;
        h->streams = hs->next;
        hstream_free(h, hs);
    }
    while (h->in_head) {
        agc_mcp__inmsg *m = h->in_head;
        h->in_head = m->next;
        agc_free(ctx, m->text);
        agc_free(ctx, m);
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    agc_free(ctx, h);
    agc_ctx_free(ctx);
}

void agc_mcp__hsess_close(agc_mcp__hsess *h, const char *why)
{
    pthread_mutex_lock(&h->srv->mu);
    h->gone = true;
    pthread_mutex_unlock(&h->srv->mu);
    pthread_mutex_lock(&h->mu);
    if (!h->closed) {
        h->closed = true;
        snprintf(h->why, sizeof h->why, "%s", why);
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void *sess_main(void *arg)
{
    agc_mcp__hsess *h = arg;
    agc_mcp_http_server *srv = h->srv;
    agc_ctx *ctx = NULL;
    agc_ctx_opts co = {AGC_CTX_OPTS_VERSION, srv->o.realloc, srv->o.realloc_ud};
    if (agc_ctx_new(&ctx, &co) == AGC_OK) {
        pthread_mutex_lock(&h->mu);
        h->tctx = ctx;
        pthread_mutex_unlock(&h->mu);
        agc_mcp__hsess_ref(h); /* the transport's */
        agc_mcp_transport *t = NULL;
        if (agc_mcp_transport_new(&t, &http_ops, h, ctx) == AGC_OK)
            srv->fn(t, ctx, h->id, srv->user);
    }
    agc_mcp__hsess_close(h, "the session ended");
    pthread_mutex_lock(&h->mu);
    h->tctx = NULL;
    pthread_mutex_unlock(&h->mu);
    agc_ctx_free(ctx);
    pthread_mutex_lock(&srv->mu);
    h->done = true;
    pthread_mutex_unlock(&srv->mu);
    agc_mcp__hsess_unref(h); /* the thread's */
    return NULL;
}

/* Joins finished session threads and drops their table reference; srv->mu held. */
static void reap(agc_mcp_http_server *srv, unsigned *alive_out)
{
    unsigned alive = 0;
    agc_mcp__hsess **pp = &srv->sessions;
    while (*pp) {
        agc_mcp__hsess *h = *pp;
        if (h->done) {
            *pp = h->next;
            pthread_join(h->thread, NULL);
            agc_mcp__hsess_unref(h);
            continue;
        }
        if (!h->gone)
            alive++;
        pp = &h->next;
    }
    *alive_out = alive;
}

static int cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0)
        return -1;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

agc_status agc_mcp__hsess_start(agc_mcp__hsess **out, agc_mcp_http_server *srv, bool priming,
                                agc_ctx *err_ctx)
{
    *out = NULL;
    agc_ctx *ctx = NULL;
    agc_ctx_opts co = {AGC_CTX_OPTS_VERSION, srv->o.realloc, srv->o.realloc_ud};
    if (agc_ctx_new(&ctx, &co) != AGC_OK)
        return agc_error_set(err_ctx, AGC_ENOMEM, MOD, "out of memory for a session");
    agc_mcp__hsess *h = agc_calloc(ctx, 1, sizeof *h);
    if (!h || pthread_mutex_init(&h->mu, NULL) != 0) {
        agc_free(ctx, h);
        agc_ctx_free(ctx);
        return agc_error_set(err_ctx, AGC_ENOMEM, MOD, "out of memory for a session");
    }
    if (cond_init_mono(&h->cv) != 0) {
        pthread_mutex_destroy(&h->mu);
        agc_free(ctx, h);
        agc_ctx_free(ctx);
        return agc_error_set(err_ctx, AGC_ENOMEM, MOD, "cannot create a condition variable");
    }
    h->ctx = ctx;
    h->srv = srv;
    h->priming = priming;
    h->last_ms = agc_mcp__now_ms();
    atomic_init(&h->refs, 1);
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(h->id, sizeof h->id, rnd, sizeof rnd);
    if (!agc_mcp__hstream_new(h, NULL, true)) { /* the GET stream */
        agc_mcp__hsess_unref(h);
        return agc_error_set(err_ctx, AGC_ENOMEM, MOD, "out of memory for a session");
    }
    pthread_mutex_lock(&srv->mu);
    unsigned alive = 0;
    reap(srv, &alive);
    agc_status st = AGC_OK;
    if (srv->stopping)
        st = agc_error_set(err_ctx, AGC_ECANCELED, MOD, "the server is stopping");
    else if (alive >= srv->o.max_sessions)
        st = agc_error_set(err_ctx, AGC_ELIMIT, MOD,
                           "too many MCP sessions (%u); end one with DELETE or retry later",
                           srv->o.max_sessions);
    if (st == AGC_OK) {
        atomic_fetch_add(&h->refs, 2); /* the table's and the thread's */
        int rc = pthread_create(&h->thread, NULL, sess_main, h);
        if (rc != 0) {
            atomic_fetch_sub(&h->refs, 2);
            st = agc_error_set(err_ctx, AGC_ERROR, MOD, "cannot start a session thread: %s",
                               strerror(rc));
        } else {
            h->next = srv->sessions;
            srv->sessions = h;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    if (st != AGC_OK) {
        agc_mcp__hsess_unref(h);
        return st;
    }
    *out = h;
    return AGC_OK;
}

/* Finds a live session by id and takes a reference; NULL when unknown or gone. */
agc_mcp__hsess *agc_mcp__hsess_find(agc_mcp_http_server *srv, const char *id)
{
    agc_mcp__hsess *found = NULL;
    pthread_mutex_lock(&srv->mu);
    for (agc_mcp__hsess *h = srv->sessions; h; h = h->next)
        if (!h->gone && strlen(id) == strlen(h->id) && sodium_memcmp(id, h->id, strlen(id)) == 0) {
            found = h;
            agc_mcp__hsess_ref(h);
            break;
        }
    pthread_mutex_unlock(&srv->mu);
    return found;
}

unsigned agc_mcp__hsess_reap(agc_mcp_http_server *srv)
{
    unsigned alive = 0;
    pthread_mutex_lock(&srv->mu);
    reap(srv, &alive);
    pthread_mutex_unlock(&srv->mu);
    return alive;
}
