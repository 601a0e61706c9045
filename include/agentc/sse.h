/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Server-Sent Events parser (WHATWG HTML "Server-sent events", parsing rules),
 * push style: feed bytes as they arrive, in chunks cut anywhere; events come
 * out through a callback. Bytes are buffered and passed through untouched
 * (never decoded per chunk), so a UTF-8 character split across chunks arrives
 * intact. The size of one event is capped. It does no I/O and no reconnection:
 * the retry value and the last event id are only recorded for the caller.
 */
#ifndef AGENTC_SSE_H
#define AGENTC_SSE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_sse_parser agc_sse_parser;

/*
 * One dispatched event. All pointers are borrowed from the parser and valid
 * only during the callback; each string is NUL-terminated and its length is
 * given too (data may contain NUL bytes).
 */
typedef struct agc_sse_event {
    const char *type; /* the "event" field, or "message" when none was given */
    size_t type_len;
    const char *data; /* "data" lines joined with "\n" (no trailing "\n") */
    size_t data_len;
    const char *id; /* the last event id so far (persists across events), "" if none */
    size_t id_len;
    int64_t retry_ms; /* the last valid "retry" value so far, -1 if none */
} agc_sse_event;

/*
 * Called for each dispatched event. Returning anything but AGC_OK stops the
 * parser: agc_sse_feed() returns that status at once (the rest of the chunk
 * is dropped) and so does every later feed.
 */
typedef agc_status (*agc_sse_event_fn)(const agc_sse_event *ev, void *user);
/* Called for each comment line (":" ...), the text after ":" (one leading
 * space not stripped). Useful to observe keep-alives. Same return rule. */
typedef agc_status (*agc_sse_comment_fn)(const char *text, size_t len, void *user);

#define AGC_SSE_DEFAULT_MAX_EVENT ((size_t)16 * 1024 * 1024)

/*
 * Creates a parser. on_event must not be NULL; user is passed to it.
 * max_event_bytes caps the bytes buffered for one event (its pending line,
 * data and type; 0 means AGC_SSE_DEFAULT_MAX_EVENT). AGC_EINVAL, AGC_ENOMEM.
 * Free with agc_sse_parser_free().
 */
AGC_NODISCARD agc_status agc_sse_parser_new(agc_sse_parser **out, agc_sse_event_fn on_event,
                                            void *user, size_t max_event_bytes, agc_ctx *ctx);
/* Frees the parser; NULL is a no-op. */
void agc_sse_parser_free(agc_sse_parser *p);
/* Installs (or with NULL removes) a comment callback; it receives the same user. */
void agc_sse_parser_set_on_comment(agc_sse_parser *p, agc_sse_comment_fn on_comment);

/*
 * Parses len more bytes of the stream, dispatching every event completed by
 * them. Errors are sticky (every later feed returns the same code):
 * AGC_ELIMIT when one event exceeds max_event_bytes, AGC_ENOMEM, or the code
 * a callback returned. Messages go to the parser's ctx.
 */
agc_status agc_sse_feed(agc_sse_parser *p, const void *data, size_t len);
/*
 * Declares the end of the stream. Per the spec, an incomplete event (no blank
 * line after it) is discarded, not dispatched; this returns AGC_EPROTO when
 * such data was pending (a field line, or an unterminated line), so that the
 * caller can treat a truncated stream as an error. AGC_OK when the stream
 * ended cleanly, or the sticky error. Afterwards the parser takes a new
 * stream (a reconnection): pending state is dropped, the leading-BOM check
 * is rearmed, the last event id and retry value are kept.
 */
agc_status agc_sse_finish(agc_sse_parser *p);
/* Forgets all state (pending event, last id, retry, error) for a new stream.
 * Keeps the allocated buffers. Per the spec a reconnection keeps the last
 * event id: read it first with agc_sse_last_event_id() if needed. */
void agc_sse_reset(agc_sse_parser *p);

/* The last event id set by a dispatched event ("" if none); borrowed until
 * the next feed or reset. *len_out may be NULL. */
const char *agc_sse_last_event_id(const agc_sse_parser *p, size_t *len_out);
/* The last valid retry value (milliseconds), -1 if none. */
int64_t agc_sse_retry_ms(const agc_sse_parser *p);
/* Number of events dispatched since creation or reset. */
uint64_t agc_sse_event_count(const agc_sse_parser *p);

#ifdef __cplusplus
}
#endif
#endif
