/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private to the Anthropic Messages backend: the wire encoding of a request,
 * the decoding of a whole message, and the streaming event state machine.
 * These are pure functions over JSON and the response builder (no I/O), so
 * they are unit-tested without a server. anthropic.c does the HTTP part.
 */
#ifndef AGC_PROVIDERS_ANTHROPIC_INT_H
#define AGC_PROVIDERS_ANTHROPIC_INT_H

#include "provider_int.h"

/* max_tokens sent when the request leaves it to the provider (the API requires one). */
#define AGC__ANTH_DEFAULT_MAX_TOKENS 4096

/*
 * Name of the tool that carries structured output (FORMAT_JSON_SCHEMA), or
 * NULL for a text request: response_schema_name when it is a valid tool name
 * ([A-Za-z0-9_-]{1,64}), else "structured_output". Borrowed from req or static.
 */
const char *agc__anth_structured_tool(const agc_chat_request *req);

/*
 * Encodes req as a Messages API body (see anthropic.c's header for the
 * mapping). *out is a new reference. AGC_EINVAL (an image that is neither a
 * URL nor a base64 data: URI, a non-object response schema), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc__anth_encode(json_t **out, const agc_chat_request *req, bool stream,
                                          agc_ctx *ctx);

/* Maps a stop_reason; unknown reasons are STOP (the raw name is kept by callers). */
agc_finish_reason agc__anth_finish(const char *stop_reason);

/* The HTTP status an error type stands for (overloaded_error -> 529, ...), 0 if unknown. */
int agc__anth_error_status(const char *type);

/*
 * Adds a whole (non-streamed) message object to b: content blocks, stop
 * reason, usage, id and model. structured_tool (may be NULL) names the tool
 * whose input becomes the text answer. AGC_EPROTO when the object is not a
 * message, AGC_ENOMEM, or what the builder's delta callback returned.
 */
AGC_NODISCARD agc_status agc__anth_decode_message(agc_response_builder *b, const json_t *msg,
                                                  const char *structured_tool, agc_ctx *ctx);

/* Normalises an Anthropic usage object into b (input includes cache reads and writes). */
void agc__anth_apply_usage(agc_response_builder *b, const json_t *usage, long long raw[4]);

/* ---- streaming -------------------------------------------------------------- */

typedef struct agc__anth_stream agc__anth_stream;

/*
 * A stream decoder feeding b. structured_tool as above (borrowed, must
 * outlive the stream). clock_t0_ns is when the request started (ttft).
 */
AGC_NODISCARD agc_status agc__anth_stream_new(agc__anth_stream **out, agc_response_builder *b,
                                              const char *structured_tool, int64_t t0_ns,
                                              agc_ctx *ctx);
void agc__anth_stream_free(agc__anth_stream *s);
/* Borrowed ids for error messages (either may be NULL); must outlive the stream. */
void agc__anth_stream_set_ids(agc__anth_stream *s, const char *request_id, const char *model);
/*
 * One SSE event (name, data). AGC_EPROTO for malformed JSON or events out of
 * order; an "error" event returns the mapped status (with the server's
 * message; agc__anth_stream_error_status() then gives its HTTP status);
 * AGC_ENOMEM; or what the delta callback returned.
 */
agc_status agc__anth_stream_event(agc__anth_stream *s, const char *type, const char *data,
                                  size_t len);
/* Whether message_stop arrived. */
bool agc__anth_stream_complete(const agc__anth_stream *s);
/* The status an error event stood for (529 for overloaded_error), 0 if none came. */
int agc__anth_stream_error_status(const agc__anth_stream *s);
/* Time to the first content delta in ms, 0 if none. */
double agc__anth_stream_ttft_ms(const agc__anth_stream *s);

#endif
