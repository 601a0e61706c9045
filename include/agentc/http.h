/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * HTTP client on libcurl's multi interface: many requests in flight on one
 * client, driven by agc_http_client_run(); bodies stream to a callback as
 * they arrive (an SSE parser plugs in there); a blocking wrapper collects a
 * whole response. Safe defaults: TLS verified, no redirects followed (a 3xx
 * is returned as is), a response size cap. It does NOT retry: the provider
 * layer decides what to retry. Error messages name the method and the
 * scheme://host:port of the URL, never its path or query, never header values.
 *
 * Threads: a client and its requests serve one thread at a time (the thread
 * calling run), except agc_http_client_wakeup() and agc_http_client_cancel(),
 * which any thread may call.
 *
 * libcurl is not linked: the first agc_http_client_new() of the process
 * loads libcurl.so.4 (dlopen, Debian package libcurl4, 7.85 or newer) and
 * runs its process-wide curl_global_init(), once (pthread_once); the
 * function table so obtained is process-wide and immutable afterwards, and
 * the library stays loaded until exit. Programs that never create a client
 * never load it (with its dependencies it costs ~12 ms). An embedder that
 * also uses libcurl directly shares the same loaded copy and should call
 * curl_global_init() itself first, before starting threads.
 *
 * Proxies come from the environment as curl reads them (http_proxy,
 * https_proxy, no_proxy, all_proxy). While the client runs (its callbacks
 * included) SIGPIPE is blocked for the calling thread only, and one raised
 * by a write to a closed TLS socket is swallowed; the process-wide
 * disposition is never changed.
 */
#ifndef AGENTC_HTTP_H
#define AGENTC_HTTP_H

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One header: name and value (no line breaks). Used for request headers. */
typedef struct agc_http_header {
    const char *name;
    const char *value;
} agc_http_header;

/*
 * A received header list, in arrival order. Lookups ignore case. Multiple
 * fields with one name stay separate entries.
 */
typedef struct agc_http_headers agc_http_headers;

/* The value of the first header called name (any case), or NULL. Borrowed
 * from h (valid as long as h). */
const char *agc_http_headers_get(const agc_http_headers *h, const char *name);
/* Number of entries. */
size_t agc_http_headers_count(const agc_http_headers *h);
/* Entry i (< count): name and value borrowed from h. */
agc_http_header agc_http_headers_at(const agc_http_headers *h, size_t i);

/* Per-request options. NULL means all defaults. */
typedef struct agc_http_opts {
    unsigned version;           /* AGC_HTTP_OPTS_VERSION */
    int64_t connect_timeout_ms; /* 0: 10 000 */
    int64_t timeout_ms;         /* whole request, 0: none */
    int64_t idle_timeout_ms;    /* longest time without receiving a byte (from the start,
                                 * so it also bounds the wait for the first byte); 0: none */
    size_t max_response_bytes; /* body cap, 0: AGC_HTTP_DEFAULT_MAX_RESPONSE; past it: AGC_ELIMIT */
    const char *ca_file;       /* PEM CA bundle (CURLOPT_CAINFO); NULL: the system store */
    bool insecure;             /* skip TLS verification: tests only, never in production */
    /* Pins the connection (CURLOPT_CONNECT_TO "::ADDR:PORT"): whatever host the
     * URL names, connect to this numeric address (IPv6 in brackets) and port;
     * TLS still checks the URL's host name; proxies are not used. NULL: off. */
    const char *connect_to;
} agc_http_opts;

#define AGC_HTTP_OPTS_VERSION 1
#define AGC_HTTP_OPTS_INIT                                                                         \
    {                                                                                              \
        AGC_HTTP_OPTS_VERSION, 0, 0, 0, 0, NULL, false, NULL                                       \
    }
#define AGC_HTTP_DEFAULT_MAX_RESPONSE       ((size_t)64 * 1024 * 1024)
#define AGC_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000

/* Fills *opts with defaults. */
void agc_http_opts_init(agc_http_opts *opts);

typedef struct agc_http_client agc_http_client;
/* One request in flight; borrowed, valid from agc_http_start() until its
 * on_done callback returns (the client frees it then). */
typedef struct agc_http_req agc_http_req;

/*
 * How a request ended, given to on_done (pointers valid during the call).
 *   status: AGC_OK when a whole response arrived (any HTTP status, 4xx and
 *   5xx included: HTTP errors are the caller's to judge); AGC_ETIMEDOUT
 *   (connect, total or idle timeout); AGC_ENET (DNS, connect refused, TLS,
 *   connection reset or closed before the body was complete -- a truncated
 *   body is ENET so that callers can retry it like any dropped connection);
 *   AGC_EPROTO (not a valid HTTP response); AGC_ELIMIT (body past
 *   max_response_bytes); AGC_ECANCELED (agc_http_cancel, client cancel or
 *   free); AGC_ENOMEM; or the code a callback returned to stop the request.
 */
typedef struct agc_http_result {
    agc_status status;
    int http_status;                 /* 0 when no status line arrived */
    const char *message;             /* "" on success, else what went wrong and where */
    const agc_http_headers *headers; /* never NULL (empty when none arrived) */
    int64_t total_ms;
    uint64_t body_bytes;
} agc_http_result;

typedef struct agc_http_callbacks {
    unsigned version; /* AGC_HTTP_CALLBACKS_VERSION */
    /* Once, when the final response's headers are complete, before any body.
     * May be NULL. Returning non-OK stops the request with that status. */
    agc_status (*on_headers)(agc_http_req *req, int http_status, const agc_http_headers *headers,
                             void *user);
    /* Each body chunk as it arrives (data borrowed for the call). May be NULL
     * (body discarded, still counted against the cap). Returning non-OK stops
     * the request with that status; set a message on the ctx first, it
     * becomes the result's message. */
    agc_status (*on_data)(agc_http_req *req, const void *data, size_t len, void *user);
    /* Exactly once per accepted request, from agc_http_client_run (or from
     * agc_http_client_free with AGC_ECANCELED). For a failure, the error is
     * also set on the client's ctx, so the callback may wrap it. Required. */
    void (*on_done)(agc_http_req *req, const agc_http_result *res, void *user);
} agc_http_callbacks;

#define AGC_HTTP_CALLBACKS_VERSION 1

typedef struct agc_http_client_opts {
    unsigned version;          /* AGC_HTTP_CLIENT_OPTS_VERSION */
    long max_connections;      /* total open connections, 0: no limit (curl's default) */
    long max_host_connections; /* per host, 0: no limit */
} agc_http_client_opts;

#define AGC_HTTP_CLIENT_OPTS_VERSION 1
#define AGC_HTTP_CLIENT_OPTS_INIT                                                                  \
    {                                                                                              \
        AGC_HTTP_CLIENT_OPTS_VERSION, 0, 0                                                         \
    }

/*
 * Creates a client owning one libcurl multi handle (its connection pool).
 * opts may be NULL. AGC_EINVAL (unknown opts version), AGC_ENOMEM;
 * AGC_ENOTFOUND when libcurl.so.4 is not installed (the message names the
 * package), AGC_EUNSUPPORTED when it is older than 7.85, AGC_ENET when
 * curl_global_init fails -- a load failure is remembered: every later call
 * fails the same way. Free with agc_http_client_free().
 */
AGC_NODISCARD agc_status agc_http_client_new(agc_http_client **out,
                                             const agc_http_client_opts *opts, agc_ctx *ctx);
/*
 * Frees the client: every request still in flight ends with AGC_ECANCELED
 * (its on_done fires here). NULL is a no-op. Not from inside a callback.
 */
void agc_http_client_free(agc_http_client *client);

/*
 * Starts a request: method ("GET", "POST", ...; NULL means POST when body is
 * non-NULL, else GET), an http:// or https:// url, headers (copied; nheaders
 * entries, may be NULL when 0), body (copied; body_len bytes, NULL for none),
 * opts (NULL: defaults; copied), callbacks (copied; on_done required) and
 * user for the callbacks. The request makes progress inside
 * agc_http_client_run(). *out (may be NULL) receives a handle valid until
 * on_done returns. On failure nothing is started and no callback fires:
 * AGC_EINVAL (bad url or scheme, header with a line break, bad opts),
 * AGC_ENOMEM. May be called from any callback of this client.
 */
AGC_NODISCARD agc_status agc_http_start(agc_http_req **out, agc_http_client *client,
                                        const char *method, const char *url,
                                        const agc_http_header *headers, size_t nheaders,
                                        const void *body, size_t body_len,
                                        const agc_http_opts *opts,
                                        const agc_http_callbacks *callbacks, void *user);

/*
 * Cancels a request: its transfer is aborted and its on_done fires with
 * AGC_ECANCELED from the next (or current) agc_http_client_run. Callable from
 * any callback of the client or between runs, on the client's thread; a
 * no-op once on_done has started.
 */
void agc_http_cancel(agc_http_req *req);

/* The response headers received so far (final response only; empty before
 * on_headers). Borrowed, valid until on_done returns. */
const agc_http_headers *agc_http_req_headers(const agc_http_req *req);
/* The client a request belongs to. */
agc_http_client *agc_http_req_client(const agc_http_req *req);

/*
 * Drives every request of the client (connect, send, receive, callbacks)
 * until none is left (AGC_OK), or timeout_ms passed (-1: no timeout), or
 * another thread called agc_http_client_wakeup(): then AGC_EBUSY with
 * requests still in flight (no error message is recorded for that). Other
 * failures of the loop itself: AGC_ENOMEM, AGC_ENET. Not reentrant: calling
 * it from a callback is AGC_EUSAGE.
 */
agc_status agc_http_client_run(agc_http_client *client, int64_t timeout_ms);

/* Requests in flight (started, on_done not yet fired). */
size_t agc_http_client_pending(const agc_http_client *client);

/*
 * Thread-safe: makes a blocked agc_http_client_run() return AGC_EBUSY soon
 * (curl_multi_wakeup). Does nothing visible when no run is in progress,
 * except that the next run returns after its first pass.
 */
void agc_http_client_wakeup(agc_http_client *client);
/*
 * Thread-safe: cancels every request in flight; their on_done fire with
 * AGC_ECANCELED from the client's run (which is woken). Requests started
 * after the run has noticed the cancel are not affected. Suitable for a
 * thread that waits for signals (it is not async-signal-safe itself).
 */
void agc_http_client_cancel(agc_http_client *client);

/* A whole response collected by agc_http_request_sync(). */
typedef struct agc_http_response {
    int status;                /* HTTP status */
    agc_http_headers *headers; /* owned by the response */
    agc_buf body;              /* the body, NUL-terminated (body.data may be NULL when empty) */
    int64_t total_ms;
} agc_http_response;

/*
 * Blocking request on client: starts it and runs the client (other requests
 * in flight on it progress too, and their callbacks fire) until it is done.
 * Arguments as agc_http_start(); the body is collected in memory up to
 * opts->max_response_bytes. *out is the caller's (agc_http_response_free);
 * any HTTP status is AGC_OK. On failure *out is NULL and the ctx holds the
 * message: the codes of agc_http_result plus those of agc_http_start.
 * Not from inside a callback (AGC_EUSAGE).
 */
AGC_NODISCARD agc_status agc_http_request_sync(agc_http_response **out, agc_http_client *client,
                                               const char *method, const char *url,
                                               const agc_http_header *headers, size_t nheaders,
                                               const void *body, size_t body_len,
                                               const agc_http_opts *opts);
/* Frees a response; NULL is a no-op. */
void agc_http_response_free(agc_http_response *resp);

#ifdef __cplusplus
}
#endif
#endif
