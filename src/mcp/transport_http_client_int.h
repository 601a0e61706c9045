/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private state of the MCP HTTP client transport, shared by the Streamable
 * HTTP core (transport_http_client.c) and the legacy HTTP+SSE mode
 * (transport_sse_legacy.c). A "stream" is one HTTP request we made (a POST
 * of one message, the GET stream, a resumption GET, the legacy GET); a
 * stream waiting to reconnect stays in the list with req == NULL and a due
 * time. Incoming messages queue up until recv hands them to the session.
 */
#ifndef AGC_MCP_TRANSPORT_HTTP_CLIENT_INT_H
#define AGC_MCP_TRANSPORT_HTTP_CLIENT_INT_H

#include <jansson.h>

#include "agentc/buf.h"
#include "agentc/mcp_http_client.h"
#include "agentc/sse.h"
#include "mcp_int.h"

typedef enum hstream_kind {
    HS_POST = 0, /* POST of one message; for a request, req_id is awaited */
    HS_GET,      /* the standalone GET stream */
    HS_RESUME,   /* GET with Last-Event-ID resuming a POST stream that ended unanswered */
    HS_LEGACY    /* the legacy transport's GET stream (endpoint + all answers) */
} hstream_kind;

typedef struct hcli hcli;

typedef struct hstream {
    struct hstream *next;
    hcli *h;
    hstream_kind kind;
    agc_http_req *req;  /* in flight; NULL while waiting to reconnect */
    int64_t due_ns;     /* reconnect time when req is NULL */
    json_t *req_id;     /* the id awaited (owned), NULL when none */
    char *method;       /* the method POSTed (owned), for messages */
    int status;         /* HTTP status of the current response */
    bool sse, answered; /* the response is an event stream; the awaited answer came */
    bool ever_ok;       /* a 2xx event stream was received at least once */
    agc_sse_parser *parser;
    agc_buf body;      /* JSON body, or the excerpt of an error body */
    char *last_id;     /* last SSE event id (owned) */
    int64_t retry_ms;  /* last SSE retry value, -1 when none */
    unsigned attempts; /* consecutive failed reconnections */
} hstream;

typedef struct hmsg {
    struct hmsg *next;
    char *text;
    size_t len;
} hmsg;

struct hcli {
    agc_ctx *ctx;
    agc_http_client *hc;
    char *url, *name;
    agc_http_header *headers; /* the caller's, copied */
    size_t nheaders;
    agc_mcp_http_mode mode;
    char *ca_file;
    size_t max_msg;
    int64_t connect_timeout_ms, default_retry_ms;
    unsigned max_reconnects;
    bool open_get, get_started;
    char *session_id, *proto;
    json_t *init_id;           /* id of our initialize request, to read the negotiated version */
    char *init_text;           /* our initialize message, re-sent after a legacy fallback */
    bool legacy;               /* speaking the 2024-11-05 transport */
    char *endpoint;            /* legacy: where to POST (absolute URL) */
    hmsg *out_head, *out_tail; /* legacy: messages waiting for the endpoint */
    hmsg *in_head, *in_tail;   /* received, not yet handed out */
    hstream *streams;
    bool dead, closing;
    char why[600];
    unsigned long reconnects;
    char fallback_why[300]; /* why Streamable HTTP was given up (for messages) */
};

/* Shared by both files. */
hstream *agc_mcp__hs_new(hcli *h, hstream_kind kind);
agc_status agc_mcp__hs_start(hstream *s, const char *method, const char *url, const char *body,
                             size_t len);
void agc_mcp__hs_free(hstream *s);
agc_status agc_mcp__h_queue(hcli *h, hmsg **head, hmsg **tail, const char *text, size_t len);
/* Handles one incoming message text from stream s (may be NULL). */
void agc_mcp__h_incoming(hcli *h, hstream *s, const char *text, size_t len);
/* Queues a JSON-RPC error answer to id (our request) with this message. */
void agc_mcp__h_synth_error(hcli *h, const json_t *id, int code, const char *fmt, ...)
    AGC_PRINTF(4, 5);
void agc_mcp__h_kill(hcli *h, const char *fmt, ...) AGC_PRINTF(2, 3);

/* Legacy HTTP+SSE (transport_sse_legacy.c). */
/* Starts the legacy GET on h->url; the initialize text waits for the endpoint. */
agc_status agc_mcp__legacy_start(hcli *h);
/* An event on the legacy GET stream. */
agc_status agc_mcp__legacy_event(hcli *h, const agc_sse_event *ev);
/* POSTs msg to the endpoint (or queues it until the endpoint is known). */
agc_status agc_mcp__legacy_send(hcli *h, const char *msg, size_t len, const json_t *id,
                                const char *method);
/* The legacy GET ended. */
void agc_mcp__legacy_ended(hcli *h, hstream *s, const agc_http_result *res);
/* Resolves ref against base (absolute URL, absolute path, or relative); NULL on OOM or when
 * ref names another origin (message on h->ctx). */
char *agc_mcp__url_resolve(hcli *h, const char *base, const char *ref);

#endif
