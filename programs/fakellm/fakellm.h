/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm internals: the script (validated replies, a cursor, per-reply use
 * counts, all behind one mutex so that concurrent requests pick replies in a
 * well-defined order) and the renderer, which turns one reply into a "plan":
 * status, headers and the body as a list of events, plus the fault knobs the
 * HTTP layer applies while sending. Script and renderer do no I/O; the HTTP
 * layer (server.c) does no wire formatting. See docs/fakellm.md.
 */
#ifndef FAKELLM_H
#define FAKELLM_H

#include <jansson.h>

#include "agentc/common.h"

typedef enum fakellm_wire {
    FAKELLM_OPENAI = 0, /* POST /v1/chat/completions */
    FAKELLM_ANTHROPIC,  /* POST /v1/messages */
} fakellm_wire;

/* ---- script --------------------------------------------------------------- */

typedef struct fakellm_script fakellm_script;

/*
 * Checks a script document (see docs/fakellm.md): AGC_EINVAL with a message
 * naming the first bad member ("replies[2].fault.drip_ms: ...").
 */
agc_status fakellm_script_check(const json_t *doc, agc_ctx *ctx);
/*
 * A script holding doc (a new reference is taken) after checking it. name
 * labels it in messages (a path, "<inline>"). Thread-safe afterwards.
 */
agc_status fakellm_script_new(fakellm_script **out, json_t *doc, const char *name, agc_ctx *ctx);
void fakellm_script_free(fakellm_script *s);
/* Replaces the document (checked first; on failure nothing changes) and resets. */
agc_status fakellm_script_replace(fakellm_script *s, json_t *doc, const char *name, agc_ctx *ctx);
/* Resets the cursor, every reply's use count and the request sequence number. */
void fakellm_script_reset(fakellm_script *s);

/*
 * Picks the reply for one request (path, parsed body or NULL) and counts its
 * use. Returns a new reference to the reply object, or NULL when the script is
 * exhausted and has no default; then *why_out (may be NULL) receives a
 * message, owned by the caller (agc_free on ctx). *seq_out gets the request's
 * 1-based sequence number (for ids). ctx only allocates.
 */
json_t *fakellm_script_pick(fakellm_script *s, const char *path, const json_t *body,
                            unsigned long *seq_out, char **why_out, agc_ctx *ctx);

/* The text of a request's last message (all text parts joined), caller frees
 * (agc_free); "" when there is none. NULL only when out of memory. */
char *fakellm_last_message_text(const json_t *body, agc_ctx *ctx);

/* ---- plans ---------------------------------------------------------------- */

typedef struct fakellm_header {
    char *name;
    char *value;
} fakellm_header;

#define FAKELLM_MAX_HEADERS 6

typedef struct fakellm_plan {
    agc_ctx *ctx;
    int status;
    char *content_type;
    fakellm_header headers[FAKELLM_MAX_HEADERS];
    size_t n_headers;
    bool stream;   /* events are SSE events; else events[0] is the whole body */
    char **events; /* each a complete chunk of the body */
    size_t *event_lens;
    size_t n_events;
    size_t cap_events;
    size_t first_delta; /* index of the first content event (malformed targets it) */
    /* faults, applied by the sender */
    long delay_ms;
    long drip_ms;
    size_t split_bytes;      /* 0: whole events */
    long reset_after_events; /* < 0: never */
    bool truncate;           /* informational: render already dropped the final event */
} fakellm_plan;

/* What the renderer needs from a request. */
typedef struct fakellm_req {
    fakellm_wire wire;
    bool stream;
    bool include_usage; /* OpenAI stream_options.include_usage */
    const char *model;  /* the request's model or NULL */
    unsigned long seq;  /* 1-based request number */
} fakellm_req;

/* Initialises an empty plan (status 200, no fault). */
void fakellm_plan_init(fakellm_plan *p, agc_ctx *ctx);
void fakellm_plan_free(fakellm_plan *p);
/* Appends a copy of len bytes as the next event. */
agc_status fakellm_plan_add(fakellm_plan *p, const char *data, size_t len);
agc_status fakellm_plan_header(fakellm_plan *p, const char *name, const char *value);

/*
 * Renders a reply (a checked script reply object) for req into an empty plan:
 * the wire's body (stream or not), or its error body for a fault status, or
 * the raw body, with every fault field applied. AGC_ENOMEM.
 */
agc_status fakellm_render(fakellm_plan *p, const json_t *reply, const fakellm_req *req);
/*
 * Renders an error answer in the wire's shape: status, message; type NULL
 * picks the wire's type for the status (429 rate_limit_error, 529
 * overloaded_error, ...).
 */
agc_status fakellm_render_error(fakellm_plan *p, fakellm_wire wire, int status, const char *type,
                                const char *message);
/* Renders a JSON value as a whole application/json body with this status. */
agc_status fakellm_render_json(fakellm_plan *p, int status, const json_t *value);

/* ---- wire renderers (render_openai.c, render_anthropic.c) ----------------- */

/* The reply's content, normalised by render.c for both wires. */
typedef struct fakellm_call {
    const char *id;
    const char *name;
    char *arguments; /* JSON text (owned) */
} fakellm_call;

typedef struct fakellm_content {
    const char *text; /* NULL: no text */
    char *text_owned; /* set when text was padded (oversize) */
    const char *thinking;
    const char *signature;
    fakellm_call *calls;
    size_t n_calls;
    const char *finish; /* normalised name: stop, length, tool_calls, content_filter, or other */
    bool has_usage;
    long long input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
        reasoning_tokens;
    const char *model;
    char *id; /* owned */
} fakellm_content;

agc_status fakellm_openai_body(fakellm_plan *p, const fakellm_content *c, const fakellm_req *req);
agc_status fakellm_anthropic_body(fakellm_plan *p, const fakellm_content *c,
                                  const fakellm_req *req);

/* Shared helpers for the renderers. */
/* Serialises v (compact, UTF-8 kept) and adds it as an SSE event:
 * "event: NAME\n" when name is non-NULL, then "data: JSON\n\n". Steals v. */
agc_status fakellm_plan_sse(fakellm_plan *p, const char *name, json_t *v);
/* o[k] = v, stealing v; on any failure (o or v NULL, no memory) frees both
 * and returns NULL, so that a failed member is never silently missing. */
json_t *fakellm_set(json_t *o, const char *k, json_t *v);
/* Appends v to a, stealing v; on failure frees both and returns NULL. */
json_t *fakellm_push(json_t *a, json_t *v);
/* Adds v serialised as the whole body. Steals v. */
agc_status fakellm_plan_body(fakellm_plan *p, json_t *v);
/*
 * Cuts text into delta pieces: word by word (a word with its trailing
 * spaces), longer pieces for long texts, never inside a UTF-8 character.
 * *cuts_out (agc_free) receives n+1 offsets: piece i is [cuts[i], cuts[i+1]).
 */
agc_status fakellm_split_words(size_t **cuts_out, size_t *n_out, const char *s, size_t len,
                               agc_ctx *ctx);
/* Cuts s into about `parts` pieces of equal size at UTF-8 boundaries. */
agc_status fakellm_split_even(size_t **cuts_out, size_t *n_out, const char *s, size_t len,
                              size_t parts, agc_ctx *ctx);

/* ---- the HTTP server (server.c) ------------------------------------------- */

typedef struct fakellm_server fakellm_server;

/*
 * Starts serving script (borrowed; must outlive the server) on host:port
 * (port 0: any free port) on the HTTP server's threads. AGC_EIO when it
 * cannot listen, AGC_ENOMEM.
 */
agc_status fakellm_server_new(fakellm_server **out, fakellm_script *script, const char *host,
                              uint16_t port, agc_ctx *ctx);
uint16_t fakellm_server_port(const fakellm_server *s);
/* Stops serving (open streams are cut) and frees the server. NULL is a no-op. */
void fakellm_server_free(fakellm_server *s);

#endif
