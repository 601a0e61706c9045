/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private to the OpenAI-compatible backend: the chat-completions wire as
 * pure functions (request body encoding, whole-response and stream-chunk
 * decoding into an agc_response_builder, error bodies), so that they can be
 * unit-tested without a network. openai.c does the HTTP around them.
 * Nothing here sees or handles the API key.
 */
#ifndef AGC_PROVIDERS_OPENAI_INT_H
#define AGC_PROVIDERS_OPENAI_INT_H

#include "provider_int.h"

/* Differences between OpenAI-compatible servers that change the body. */
typedef struct agc__oai_quirks {
    bool max_completion_tokens; /* send max_completion_tokens instead of max_tokens */
} agc__oai_quirks;

/*
 * Encodes req as a chat-completions body (*out: new reference). stream adds
 * "stream": true and stream_options.include_usage. THINKING parts are not
 * sent. req->extra is merged last (its keys win). AGC_EINVAL names the
 * message or tool at fault (invalid UTF-8, image outside a user message,
 * tool result without tool_call_id, extra not an object), AGC_ENOMEM.
 */
agc_status agc__oai_encode_request(json_t **out, const agc_chat_request *req,
                                   const agc__oai_quirks *q, bool stream, agc_ctx *ctx);

/* An error reported inside a 200 answer (whole body or stream event). */
typedef struct agc__oai_err {
    bool present;
    int status;        /* HTTP status the error type stands for (500 when unknown) */
    char message[512]; /* sanitised */
    char type[128];
} agc__oai_err;

/*
 * Reads an error body ({"error":{"message","type","code"}}, {"error":"..."},
 * {"message":"..."}, or anything else: its first 200 bytes, sanitised) into
 * err (message and type; status untouched). Never fails.
 */
void agc__oai_parse_error_body(agc__oai_err *err, const char *body, size_t len, agc_ctx *ctx);

/* State of one streamed answer; zero it, then set b, ctx and backend. */
typedef struct agc__oai_stream {
    agc_response_builder *b;
    agc_ctx *ctx;
    const char *backend; /* name used in messages ("openai", "groq", ...) */
    bool done;           /* "[DONE]" seen */
    bool finished;       /* a finish_reason seen */
    bool refused;        /* a refusal was part of the answer */
    bool meta_set;
    bool got_first;         /* first content delta seen */
    int64_t first_delta_ns; /* monotonic time of the first content delta */
    size_t n_events;
    size_t n_calls;  /* tool-call deltas seen */
    size_t n_synth;  /* calls keyed by id (servers that send no index) */
    size_t last_key; /* builder key of the last tool call (servers without index) */
    char last_id[128];
    char finish_raw[64];
    agc__oai_err err; /* an in-stream error event; its status is AGC_EHTTP */
} agc__oai_stream;

/*
 * Handles one SSE "data" payload: a chat.completion.chunk, "[DONE]", a usage
 * chunk or an error event. Content goes to the builder (and so to the
 * caller's delta callback). AGC_EPROTO names a malformed chunk; AGC_EHTTP
 * with s->err filled for an error event; a status returned by the delta
 * callback; AGC_ENOMEM.
 */
agc_status agc__oai_stream_event(agc__oai_stream *s, const char *data, size_t len);

/*
 * Sets the finish reason once the stream is over: the server's, normalised
 * (a refusal gives content_filter, calls with "stop" give tool_calls), or
 * inferred when "[DONE]" came without one. AGC_EPROTO ("stream truncated")
 * when neither "[DONE]" nor a finish reason arrived.
 */
agc_status agc__oai_stream_end(agc__oai_stream *s);

/*
 * Decodes a whole chat.completion body into b (content, tool calls, finish,
 * usage, id, model). AGC_EPROTO names what is malformed; AGC_EHTTP with err
 * filled when the body is an error object; AGC_ENOMEM.
 */
agc_status agc__oai_decode_response(agc_response_builder *b, const char *body, size_t len,
                                    agc__oai_err *err, const char *backend, agc_ctx *ctx);

/* The HTTP status an error type stands for ("rate_limit_exceeded" -> 429, ...), 500 if unknown. */
int agc__oai_error_status(const char *type);

/* Maps a finish_reason string ("stop", "length", "tool_calls", "function_call", ...). */
agc_finish_reason agc__oai_finish(const char *raw);

/*
 * Test seam: agc__openai_open with a response size cap (bytes; 0 = default,
 * 32 MiB) so that tests can hit the cap without huge bodies.
 */
agc_status agc__openai_open_capped(agc_provider **out, const agc_preset_info *preset,
                                   const agc_provider_opts *opts, const char *base_url,
                                   const agc_secret *key, size_t max_response_bytes, agc_ctx *ctx);

#endif
