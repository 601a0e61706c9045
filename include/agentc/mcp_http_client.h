/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP client transports over HTTP (libcurl through agentc's http.h):
 * Streamable HTTP (2025-03-26 and later: POST every message with
 * Accept: application/json, text/event-stream; JSON or SSE answers; the
 * optional GET stream; Mcp-Session-Id and MCP-Protocol-Version headers;
 * resumption with Last-Event-ID after the SSE retry delay; DELETE on close)
 * and the legacy HTTP+SSE transport of 2024-11-05 (GET gives an `endpoint`
 * event, messages are POSTed there, answers come on the GET stream), used as
 * a fallback when the first POST fails with a 4xx. Both are ordinary
 * agc_mcp_transport backends: give the result to agc_mcp_client_new or
 * agc_mcp_session_new. Single-threaded like the session: all network work
 * happens inside send/recv. No OAuth here: pass an Authorization header.
 */
#ifndef AGENTC_MCP_HTTP_CLIENT_H
#define AGENTC_MCP_HTTP_CLIENT_H

#include "http.h"
#include "mcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which HTTP transport to speak. */
typedef enum agc_mcp_http_mode {
    AGC_MCP_HTTP_AUTO = 0,   /* Streamable HTTP; legacy HTTP+SSE when the first POST gets a 4xx */
    AGC_MCP_HTTP_STREAMABLE, /* Streamable HTTP only */
    AGC_MCP_HTTP_LEGACY_SSE  /* the 2024-11-05 HTTP+SSE transport only (url = the SSE endpoint) */
} agc_mcp_http_mode;

typedef struct agc_mcp_http_client_opts {
    unsigned version;               /* AGC_MCP_HTTP_CLIENT_OPTS_VERSION */
    const char *url;                /* the MCP endpoint, http:// or https:// (required) */
    agc_mcp_http_mode mode;         /* default AGC_MCP_HTTP_AUTO */
    const agc_http_header *headers; /* extra headers on every request (e.g. Authorization); */
    size_t nheaders;                /* copied; values are never logged nor put in messages */
    const char *name;               /* for logs and messages; NULL: the URL's host */
    size_t max_message_bytes;       /* incoming cap per message; 0: AGC_MCP_DEFAULT_MAX_MESSAGE */
    int64_t connect_timeout_ms;     /* 0: 10 000 */
    int64_t default_retry_ms;       /* SSE reconnection delay when the server sent none; 0: 1000 */
    unsigned max_reconnects;        /* consecutive failed reconnections of a stream; 0: 5 */
    const char *ca_file;            /* PEM bundle; NULL: the system store */
    bool open_get_stream;           /* open the GET stream after initialize (default true via
                                     * INIT; 404/405 mean the server offers none) */
} agc_mcp_http_client_opts;

#define AGC_MCP_HTTP_CLIENT_OPTS_VERSION 1
#define AGC_MCP_HTTP_CLIENT_OPTS_INIT                                                              \
    {                                                                                              \
        AGC_MCP_HTTP_CLIENT_OPTS_VERSION, NULL, AGC_MCP_HTTP_AUTO, NULL, 0, NULL, 0, 0, 0, 0,      \
            NULL, true                                                                             \
    }

void agc_mcp_http_client_opts_init(agc_mcp_http_client_opts *opts);

/*
 * Creates an HTTP client transport for opts->url. Nothing is sent until the
 * first message (the session's initialize). HTTP failures reach the waiting
 * request as JSON-RPC errors whose message names the status, the method and
 * an excerpt of the body ("HTTP 500 from POST http://host:port: ...");
 * network failures end the transport (AGC_EIO from recv). AGC_EINVAL (no or
 * bad url, unknown opts version), AGC_ENOTFOUND (libcurl missing),
 * AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_http_client_open(agc_mcp_transport **out,
                                                  const agc_mcp_http_client_opts *opts,
                                                  agc_ctx *ctx);

/* The Mcp-Session-Id the server gave (borrowed until the next recv/send), NULL when none
 * or when t is not an HTTP client transport. */
const char *agc_mcp_http_client_session_id(const agc_mcp_transport *t);
/* Whether t fell back to (or was opened in) the legacy HTTP+SSE mode. */
bool agc_mcp_http_client_is_legacy(const agc_mcp_transport *t);
/* Stream reconnections made so far (resumptions with Last-Event-ID included). */
unsigned long agc_mcp_http_client_reconnects(const agc_mcp_transport *t);

#ifdef __cplusplus
}
#endif
#endif
