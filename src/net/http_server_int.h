/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared state of the HTTP server (http_server.c) and its stream writers
 * (http_stream.c). Lock order: server mutex before any stream mutex; a
 * stream never takes the server mutex while holding its own.
 */
#ifndef AGC_NET_HTTP_SERVER_INT_H
#define AGC_NET_HTTP_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "agentc/http_server.h"
#include "mhd_api.h"

typedef struct agc_http__producer agc_http__producer;

struct agc_http_server {
    agc_ctx *ctx;
    struct MHD_Daemon *daemon;
    agc_http_handler_fn handler;
    void *user;
    agc_http_server_opts opts;
    uint16_t port;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* stopping, for agc_http_server_sleep */
    bool stopping;
    _Atomic int64_t last_accept_ms; /* monotonic time of the newest connection */
    agc_http_stream *streams;       /* open streams (MHD still holds them) */
    agc_http__producer *producers;  /* spawned stream threads, joined on reap */
};

struct agc_http_stream {
    agc_ctx *ctx;         /* the stream's own; freed with it */
    agc_http_server *srv; /* NULL once MHD released the response */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* data, space, closing */
    char *ring;
    size_t cap, head, len;
    int refs;                     /* MHD response + the writer's owner */
    bool ended;                   /* normal end requested */
    bool aborted;                 /* abort requested */
    bool closed;                  /* client gone or server stopping */
    bool spawned;                 /* the owner's reference is held by a producer thread */
    int sock;                     /* the connection's socket, for an abortive close; -1: unknown */
    agc_http_stream *prev, *next; /* in srv->streams, under srv->mu */
};

struct agc_http__producer {
    pthread_t thread;
    agc_http_stream *w;
    agc_http_stream_fn fn;
    void *user;
    bool done; /* under srv->mu */
    agc_http_server *srv;
    agc_http__producer *next;
};

/* Makes a stream (refs 2) and its MHD response (block size for the reader). */
agc_status agc_http__stream_new(agc_http_stream **out, struct MHD_Response **resp_out,
                                agc_http_server *srv, size_t buffer_bytes, agc_ctx *err_ctx);
/* Marks a stream closed and wakes its waiters (called under srv->mu). */
void agc_http__stream_close(agc_http_stream *w);
/* Drops one reference; frees the stream at zero. */
void agc_http__stream_unref(agc_http_stream *w);
/* Inits a condition variable on the monotonic clock. */
int agc_http__cond_init(pthread_cond_t *cv);
/* Absolute monotonic deadline ms from now. */
struct timespec agc_http__deadline(int64_t ms);

#endif
