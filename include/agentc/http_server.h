/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A small HTTP/1.1 server on libmicrohttpd, the base of the fake LLM server
 * and the MCP Streamable HTTP server. One thread per connection, so a
 * handler may block (delay) and long-lived streaming responses run beside
 * other requests. A handler answers with a whole response or opens a stream:
 * a writer any thread can push bytes into, end normally, or abort (the
 * connection is closed mid-body: clients see a truncated response). Plain
 * HTTP only (no TLS), no routing, no keep-alive tuning beyond a timeout.
 *
 * Memory and threads: the server object serves the thread that created it.
 * Each request gets its own ctx (agc_http_sreq_ctx), and each stream its own
 * (agc_http_stream_ctx), made with opts->realloc -- which must therefore be
 * thread-safe -- so handlers never share a ctx across threads.
 *
 * libmicrohttpd is not linked: the first agc_http_server_new() of the
 * process loads libmicrohttpd.so.12 (dlopen, Debian package libmicrohttpd12,
 * 0.9.71 or newer), once (pthread_once); the function table is process-wide
 * and immutable afterwards, and the library stays loaded until exit.
 */
#ifndef AGENTC_HTTP_SERVER_H
#define AGENTC_HTTP_SERVER_H

#include "common.h"
#include "http.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_http_server agc_http_server;
/* One incoming request; borrowed by the handler for the duration of its call. */
typedef struct agc_http_sreq agc_http_sreq;
/* The body writer of a streaming response. */
typedef struct agc_http_stream agc_http_stream;

/*
 * Called on a connection thread once a request (headers and whole body) has
 * arrived. It must answer with agc_http_sreq_respond() or one of the stream
 * calls before returning; if it does not, or returns non-OK without
 * answering, the client gets a 500. It may block (use agc_http_server_sleep
 * for delays so that shutdown is not held up).
 */
typedef agc_status (*agc_http_handler_fn)(agc_http_sreq *req, void *user);
/* Body of a streaming response run on a server thread (agc_http_sreq_stream_spawn). */
typedef void (*agc_http_stream_fn)(agc_http_stream *w, void *user);

typedef struct agc_http_server_opts {
    unsigned version;           /* AGC_HTTP_SERVER_OPTS_VERSION */
    const char *bind_address;   /* IPv4 or IPv6 literal; NULL: "127.0.0.1" */
    uint16_t port;              /* 0: any free port (see agc_http_server_port) */
    size_t max_body_bytes;      /* request body cap, 0: 16 MiB; larger bodies get 413 */
    size_t stream_buffer_bytes; /* per stream, 0: 64 KiB; writers block while it is full */
    unsigned max_connections;   /* 0: 256 */
    unsigned idle_timeout_s;    /* idle connections are closed after this, 0: 60 */
    agc_realloc_fn realloc;     /* allocator of the per-request ctxs, thread-safe; NULL: system */
    void *realloc_ud;
} agc_http_server_opts;

#define AGC_HTTP_SERVER_OPTS_VERSION 1
#define AGC_HTTP_SERVER_OPTS_INIT                                                                  \
    {                                                                                              \
        AGC_HTTP_SERVER_OPTS_VERSION, NULL, 0, 0, 0, 0, 0, NULL, NULL                              \
    }
#define AGC_HTTP_SERVER_DEFAULT_MAX_BODY ((size_t)16 * 1024 * 1024)

/* Fills *opts with defaults. */
void agc_http_server_opts_init(agc_http_server_opts *opts);

/*
 * Starts listening and serving on internal threads; handler(req, user) runs
 * for each request, possibly on several threads at once. opts may be NULL.
 * AGC_EINVAL (opts version, bad bind address), AGC_EIO (cannot listen: the
 * message names address, port and reason), AGC_ENOMEM, AGC_ENOTFOUND
 * (libmicrohttpd.so.12 not installed: the message names the package),
 * AGC_EUNSUPPORTED (older than 0.9.71; a load failure is remembered for the
 * life of the process). Free with
 * agc_http_server_free().
 */
AGC_NODISCARD agc_status agc_http_server_new(agc_http_server **out,
                                             const agc_http_server_opts *opts,
                                             agc_http_handler_fn handler, void *user, agc_ctx *ctx);
/* The port actually listened on. */
uint16_t agc_http_server_port(const agc_http_server *srv);
/*
 * Stops the server: stops accepting, makes every open stream fail (its
 * connection is closed, writers get AGC_ECANCELED, sleeps end early), waits
 * for running handlers and spawned stream threads to return, and frees
 * everything. It may pause up to 50 ms when a connection was accepted just
 * before (works around a libmicrohttpd 0.9.75 shutdown race). Writers a
 * caller still holds stay valid until ended or aborted. NULL is a no-op.
 * Not from a handler.
 */
void agc_http_server_free(agc_http_server *srv);
/*
 * Sleeps ms milliseconds, or less when the server stops: then AGC_ECANCELED.
 * Any thread (handlers use it for delays).
 */
agc_status agc_http_server_sleep(agc_http_server *srv, int64_t ms);

/* ---- the request, valid during the handler call ---- */

/* "GET", "POST", ... */
const char *agc_http_sreq_method(const agc_http_sreq *req);
/* The path as sent, percent-encoding kept ("/v1/chat"), without the query. */
const char *agc_http_sreq_path(const agc_http_sreq *req);
/* The raw query after "?" ("" when none). */
const char *agc_http_sreq_query(const agc_http_sreq *req);
/* Request headers (case-insensitive lookups). */
const agc_http_headers *agc_http_sreq_headers(const agc_http_sreq *req);
/* Shortcut: the first header called name, or NULL. */
const char *agc_http_sreq_header(const agc_http_sreq *req, const char *name);
/* The whole body (NUL-terminated for convenience; "" when none). */
const char *agc_http_sreq_body(const agc_http_sreq *req, size_t *len_out);
/* A ctx for this request's thread, freed after the handler returns. */
agc_ctx *agc_http_sreq_ctx(agc_http_sreq *req);
agc_http_server *agc_http_sreq_server(const agc_http_sreq *req);

/*
 * Answers with a whole response: status, headers (copied; Content-Length
 * is set by the server, do not pass it; headers with an empty value are
 * left out, libmicrohttpd cannot send them), body (copied). Once per request,
 * from the handler. AGC_EINVAL (bad header, second answer), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_http_sreq_respond(agc_http_sreq *req, int status,
                                               const agc_http_header *headers, size_t nheaders,
                                               const void *body, size_t body_len);
/*
 * Answers with a streaming response (chunked for HTTP/1.1 clients): the
 * status and headers go out when the handler returns, then whatever is
 * written to *out. The writer is the caller's: push with
 * agc_http_stream_write() from any thread, and release it exactly once with
 * agc_http_stream_end() or agc_http_stream_abort() -- also after the client
 * left or the server stopped. Once per request, from the handler.
 * Bytes start flowing only after the handler returns: a handler that writes
 * itself must stop at opts->stream_buffer_bytes before returning (or it
 * blocks until shutdown); hand the writer to a thread, or use _spawn.
 * AGC_EINVAL, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_http_sreq_stream(agc_http_stream **out, agc_http_sreq *req, int status,
                                              const agc_http_header *headers, size_t nheaders);
/*
 * Like agc_http_sreq_stream(), but the server runs fn(w, user) on a thread
 * of its own and ends the stream normally when fn returns (unless fn ended
 * or aborted it; fn must not release w otherwise). agc_http_server_free()
 * waits for fn. AGC_EINVAL, AGC_ENOMEM, AGC_ERROR (no thread: the response
 * is then aborted).
 */
AGC_NODISCARD agc_status agc_http_sreq_stream_spawn(agc_http_sreq *req, int status,
                                                    const agc_http_header *headers, size_t nheaders,
                                                    agc_http_stream_fn fn, void *user);

/* ---- stream writers: any thread, one thread at a time per writer ---- */

/*
 * Queues len bytes for the client, blocking while the stream buffer is full
 * (backpressure). AGC_ECANCELED when the stream cannot carry data any more:
 * the client left, the server is stopping, or it was already ended/aborted.
 */
agc_status agc_http_stream_write(agc_http_stream *w, const void *data, size_t len);
/* Sleeps ms milliseconds, or returns AGC_ECANCELED early when the stream closes. */
agc_status agc_http_stream_sleep(agc_http_stream *w, int64_t ms);
/* Whether writes can still succeed. */
bool agc_http_stream_is_open(agc_http_stream *w);
/* A ctx for the writer's thread, valid until the writer is released. */
agc_ctx *agc_http_stream_ctx(agc_http_stream *w);
/*
 * Ends the body normally after the queued bytes (the final chunk is sent)
 * and releases the caller's reference (w is invalid afterwards unless it
 * came from agc_http_sreq_stream_spawn, whose thread still holds it).
 */
void agc_http_stream_end(agc_http_stream *w);
/*
 * Sends the queued bytes, then resets the connection (a TCP RST) without
 * finishing the body: the client sees "connection reset by peer" mid-response.
 * Releases like _end.
 */
void agc_http_stream_abort(agc_http_stream *w);

#ifdef __cplusplus
}
#endif
#endif
