/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared state of the Streamable HTTP server transport: the HTTP side
 * (transport_http_server.c: endpoints, security checks, sessions table) and
 * the per-session side (transport_http_server_sess.c: inbox, SSE streams
 * with replay rings, the transport ops the session thread uses).
 * Lock order: srv->mu before h->mu. A session's memory comes from its own
 * ctx (h->ctx), only touched under h->mu.
 */
#ifndef AGC_MCP_TRANSPORT_HTTP_SERVER_INT_H
#define AGC_MCP_TRANSPORT_HTTP_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "agentc/http_server.h"
#include "agentc/mcp_http_server.h"
#include "mcp_int.h"

/* One queued SSE event: seq within its stream; text is the JSON ("" = priming). */
typedef struct agc_mcp__hev {
    unsigned long seq;
    char *text;
    size_t len;
} agc_mcp__hev;

/* A logical response stream: the GET stream (id 0) or one POST request's. */
typedef struct agc_mcp__hstream {
    struct agc_mcp__hstream *next;
    unsigned long id;
    char *key;      /* POST: key of the request it answers (see agc_mcp__id_key); NULL: GET */
    bool sse;       /* false: the POST handler waits for a JSON answer */
    bool finished;  /* the final response is queued (or the request was canceled) */
    bool delivered; /* a pump wrote everything after finished */
    unsigned gen;   /* attach generation: a pump whose gen is stale stops */
    unsigned long stop_seq; /* a stale pump still sends events below this seq */
    int users;              /* pumps and waiting handlers holding a pointer */
    agc_mcp__hev *ring;
    size_t cap, start, count;
    unsigned long next_seq;
    unsigned long written; /* highest seq written + 1 (GET: where a fresh GET starts) */
    char *json;            /* JSON mode: the response */
    size_t json_len;
} agc_mcp__hstream;

typedef struct agc_mcp__inmsg {
    struct agc_mcp__inmsg *next;
    char *text;
    size_t len;
} agc_mcp__inmsg;

typedef struct agc_mcp__hsess {
    struct agc_mcp__hsess *next; /* in srv->sessions (srv->mu) */
    agc_mcp_http_server *srv;
    _Atomic int refs;
    bool done; /* srv->mu: the session thread returned */
    bool gone; /* srv->mu: closed (no longer counted, lookups miss it) */
    pthread_t thread;
    char id[33];
    /* under mu: */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    agc_ctx *ctx;  /* memory of everything below */
    agc_ctx *tctx; /* the session thread's ctx (recv copies into it) */
    agc_mcp__inmsg *in_head, *in_tail;
    agc_mcp__hstream *streams;
    unsigned long next_stream;
    bool closed;
    char why[96];
    int64_t last_ms;
    bool priming; /* the client speaks 2025-11-25+: prime POST streams */
} agc_mcp__hsess;

struct agc_mcp_http_server {
    agc_ctx *ctx; /* own: memory of this struct and the copies below */
    agc_http_server *http;
    agc_mcp_http_server_opts o;
    char *path, *token;
    char **origins, **hosts;
    char bind[64];
    agc_mcp_http_session_fn fn;
    void *user;
    pthread_mutex_t mu;
    agc_mcp__hsess *sessions;
    bool stopping;
};

int64_t agc_mcp__now_ms(void);
/* Key of a request id ("i123" / "s<text>"), written into buf; false when it does not fit. */
bool agc_mcp__id_key(const json_t *id, char *buf, size_t size);

/* Creates a session (one ref for the caller) and starts its thread; AGC_ELIMIT when
 * max_sessions are alive, AGC_ECANCELED when the server stops. */
agc_status agc_mcp__hsess_start(agc_mcp__hsess **out, agc_mcp_http_server *srv, bool priming,
                                agc_ctx *err_ctx);
void agc_mcp__hsess_ref(agc_mcp__hsess *h);
void agc_mcp__hsess_unref(agc_mcp__hsess *h);
/* A live session by id with a reference taken; NULL when unknown or gone. */
agc_mcp__hsess *agc_mcp__hsess_find(agc_mcp_http_server *srv, const char *id);
/* Joins finished session threads; returns the sessions alive. */
unsigned agc_mcp__hsess_reap(agc_mcp_http_server *srv);
/* Ends the session (DELETE, shutdown): its transport reports AGC_EIO. */
void agc_mcp__hsess_close(agc_mcp__hsess *h, const char *why);

/* Under h->mu. */
agc_status agc_mcp__hsess_push(agc_mcp__hsess *h, const char *text, size_t len);
agc_mcp__hstream *agc_mcp__hstream_new(agc_mcp__hsess *h, const char *key, bool sse);
agc_mcp__hstream *agc_mcp__hstream_find(agc_mcp__hsess *h, unsigned long id);
agc_mcp__hstream *agc_mcp__hstream_by_key(agc_mcp__hsess *h, const char *key);
/* Queues the priming event (an id, empty data, the retry hint). */
agc_status agc_mcp__hstream_prime(agc_mcp__hsess *h, agc_mcp__hstream *hs);
/* Drops a stream nobody uses any more. */
void agc_mcp__hstream_release(agc_mcp__hsess *h, agc_mcp__hstream *hs);

/* A pump: the thread copying one stream's events to one HTTP response. */
typedef struct agc_mcp__pump agc_mcp__pump;
/*
 * Under h->mu: makes hs the pump's stream, starting after seq `after`
 * (has_after) or at its unwritten events; an earlier pump of hs stops.
 * NULL on OOM. Then call agc_mcp__hstream_spawn without the lock.
 */
agc_mcp__pump *agc_mcp__hstream_attach(agc_mcp__hsess *h, agc_mcp__hstream *hs, bool has_after,
                                       unsigned long after);
/* Answers req with the SSE stream of an attached pump (consumed, also on failure). */
agc_status agc_mcp__hstream_spawn(agc_http_sreq *req, agc_mcp__hsess *h, agc_mcp__pump *pa);

#endif
