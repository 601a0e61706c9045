/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP Streamable HTTP server transport (protocol 2025-03-26 and later) on
 * the libmicrohttpd wrapper (http_server.h). One endpoint (default /mcp):
 * POST carries client messages and is answered with JSON or an SSE stream,
 * GET opens the server-to-client stream, DELETE ends a session. Each
 * Mcp-Session-Id is one agc_mcp_session served by a thread of its own; the
 * transport routes what the session sends to the SSE stream of the request
 * it belongs to (else to the GET stream), numbers every event and keeps the
 * last ones per stream so a client resumes with Last-Event-ID.
 * Security defaults: listens on 127.0.0.1, rejects a non-loopback Origin or
 * Host (DNS rebinding), optional bearer token, caps on sessions and body.
 * Not here: TLS, OAuth (a bearer token is compared as an opaque secret).
 */
#ifndef AGENTC_MCP_HTTP_SERVER_H
#define AGENTC_MCP_HTTP_SERVER_H

#include "common.h"
#include "mcp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_mcp_http_server agc_mcp_http_server;

/*
 * Serves one MCP session on its own thread. t is the session's transport
 * and is the callee's (agc_mcp_server_new takes it; free it otherwise). ctx
 * belongs to that thread and is freed after the call; session_id is
 * borrowed for the call. Return when the session is over (typically when
 * agc_mcp_server_run returns: DELETE, idle expiry or server shutdown).
 */
typedef void (*agc_mcp_http_session_fn)(agc_mcp_transport *t, agc_ctx *ctx, const char *session_id,
                                        void *user);

typedef struct agc_mcp_http_server_opts {
    unsigned version;         /* AGC_MCP_HTTP_SERVER_OPTS_VERSION */
    const char *bind_address; /* IPv4/IPv6 literal; NULL: "127.0.0.1" */
    uint16_t port;            /* 0: any free port (agc_mcp_http_server_port) */
    const char *path;         /* endpoint path; NULL: "/mcp" */
    /* Origins allowed besides loopback ones (http(s)://localhost|127.0.0.1|[::1][:port]);
     * NULL-terminated; an entry "*" allows any Origin. NULL: loopback only. */
    const char *const *allowed_origins;
    /* Host header values (host or host:port) allowed besides loopback names and
     * the bind address; "*" allows any. NULL: those only. */
    const char *const *allowed_hosts;
    const char *bearer_token; /* when set, "Authorization: Bearer <token>" is required */
    unsigned max_sessions;    /* concurrent sessions; 0: 100 (then 503) */
    size_t max_body_bytes;    /* POST body cap; 0: 4 MiB (then 413) */
    size_t replay_events;     /* events kept per stream for Last-Event-ID; 0: 256 */
    int64_t session_idle_ms;  /* a session without traffic for this long ends; 0: 600000 */
    unsigned retry_ms;        /* SSE "retry:" hint in priming events; 0: 1000 */
    bool json_only;           /* answer every request with application/json, never SSE */
    agc_realloc_fn realloc;   /* allocator for all ctxs made here (thread-safe); NULL: system */
    void *realloc_ud;
} agc_mcp_http_server_opts;

#define AGC_MCP_HTTP_SERVER_OPTS_VERSION 1
#define AGC_MCP_HTTP_SERVER_OPTS_INIT                                                              \
    {                                                                                              \
        AGC_MCP_HTTP_SERVER_OPTS_VERSION, NULL, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, false,   \
            NULL, NULL                                                                             \
    }

void agc_mcp_http_server_opts_init(agc_mcp_http_server_opts *opts);

/*
 * Starts listening; fn(t, ctx, session_id, user) runs on a new thread for
 * each session a client initializes. opts may be NULL. AGC_EINVAL (opts
 * version, no fn, bad address or path), AGC_EIO (cannot listen),
 * AGC_ENOTFOUND (libmicrohttpd missing), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_http_server_new(agc_mcp_http_server **out,
                                                 const agc_mcp_http_server_opts *opts,
                                                 agc_mcp_http_session_fn fn, void *user,
                                                 agc_ctx *ctx);
/* The port listened on. */
uint16_t agc_mcp_http_server_port(const agc_mcp_http_server *srv);
/* Sessions alive now (any thread). */
unsigned agc_mcp_http_server_session_count(agc_mcp_http_server *srv);
/*
 * Stops: ends every session (their transports report AGC_EIO, so the
 * session functions return), closes the streams, joins the threads and
 * frees. NULL is a no-op. Not from a session thread.
 */
void agc_mcp_http_server_free(agc_mcp_http_server *srv);

#ifdef __cplusplus
}
#endif
#endif
