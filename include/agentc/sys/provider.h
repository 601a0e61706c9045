/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * For implementers of provider backends. A backend makes ONE attempt per
 * chat call; the agc_provider wrapper (src/providers/provider.c) does
 * retries, backoff, fallback, cost and latency, using what the backend
 * reports in agc_attempt. Test doubles are just another ops table.
 */
#ifndef AGENTC_SYS_PROVIDER_H
#define AGENTC_SYS_PROVIDER_H

#include "../provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one attempt tells the retry logic. The wrapper zeroes it before each attempt. */
typedef struct agc_attempt {
    int http_status;      /* 0 when no response status was received */
    long retry_after_ms;  /* from Retry-After / retry-after-ms; -1 when absent */
    bool delivered;       /* at least one delta reached the caller */
    bool transport_error; /* connect failure, reset, timeout: no usable HTTP answer */
} agc_attempt;

typedef struct agc_provider_ops {
    unsigned version; /* AGC_PROVIDER_OPS_VERSION */
    const char *name; /* "openai", ... */
    /*
     * One attempt. On success fills *out (built with agc_response_builder).
     * On failure returns a status and sets the ctx error (keeping the
     * provider's message and request id) and fills attempt.
     */
    agc_status (*chat)(void *self, agc_chat_response **out, const agc_chat_request *req,
                       agc_delta_fn on_delta, void *user, agc_attempt *attempt, agc_ctx *ctx);
    /* Cancels the attempt in progress from any thread; may be NULL. */
    void (*cancel)(void *self);
    /* Frees self. */
    void (*destroy)(void *self);
} agc_provider_ops;

#define AGC_PROVIDER_OPS_VERSION 1

/*
 * Creates a provider around a backend. Takes ownership of self (destroyed by
 * agc_provider_close, also when this call fails). opts supplies the retry
 * policy, default model and price overrides; may be NULL.
 */
AGC_NODISCARD agc_status agc_provider_new(agc_provider **out, const agc_provider_ops *ops,
                                          void *self, const agc_provider_opts *opts, agc_ctx *ctx);

/* ---- response builder: assembles a response from deltas or whole blocks ---- */

typedef struct agc_response_builder agc_response_builder;

/*
 * Starts a response. on_delta/user (may be NULL) receive each piece as it is
 * added, so a backend that streams calls the add_* functions as events
 * arrive and the caller sees deltas in order.
 */
AGC_NODISCARD agc_status agc_response_builder_new(agc_response_builder **out, agc_delta_fn on_delta,
                                                  void *user, agc_ctx *ctx);
void agc_response_builder_free(agc_response_builder *b);
/* Appends text to the current TEXT part (a new one after a non-text part). */
agc_status agc_response_add_text(agc_response_builder *b, const char *text, size_t len);
/* Appends reasoning text to the current THINKING part. */
agc_status agc_response_add_thinking(agc_response_builder *b, const char *text, size_t len);
/* Sets the raw provider block of the current THINKING part (e.g. with its signature); takes a
 * reference. */
agc_status agc_response_set_thinking_raw(agc_response_builder *b, json_t *raw);
/* Adds a whole raw part the caller must pass back unchanged (redacted_thinking); takes a reference.
 */
agc_status agc_response_add_raw_thinking(agc_response_builder *b, json_t *raw);
/*
 * Tool calls are keyed by the provider's index. The first delta of an index
 * should carry id and name (later ones NULL); args is a piece of the
 * arguments JSON. Indexes may interleave (parallel calls).
 */
agc_status agc_response_add_tool_call(agc_response_builder *b, size_t index, const char *id,
                                      const char *name, const char *args, size_t args_len);
/*
 * OpenAI and Anthropic accept function names made of [A-Za-z0-9_-] only, while
 * agentc names tools like `server.tool`. Writes name into buf (cap bytes, at
 * most 64 characters) with every other byte replaced by '_'; returns buf.
 */
const char *agc_tool_wire_name(char *buf, size_t cap, const char *name);
/* Lets the builder map a wire name (agc_tool_wire_name) in a tool call back to
 * the request's tool name; tools are borrowed for the life of the builder. */
void agc_response_builder_set_tools(agc_response_builder *b, const agc_tool_def *tools, size_t n);
/* Whether any delta was passed to on_delta yet. */
bool agc_response_delivered(const agc_response_builder *b);
/* Metadata; strings are copied. NULL leaves a field unchanged. */
agc_status agc_response_set_meta(agc_response_builder *b, const char *id, const char *model,
                                 const char *request_id);
void agc_response_set_usage(agc_response_builder *b, const agc_usage *usage);
/* Usage fields merge: values >= 0 overwrite (Anthropic sends input early, output late). */
void agc_response_merge_usage(agc_response_builder *b, long long input, long long output,
                              long long cached_input, long long cache_write, long long reasoning);
agc_status agc_response_set_finish(agc_response_builder *b, agc_finish_reason r, const char *raw);
/*
 * Checks and hands over the response: tool calls must have id and name and
 * arguments that parse as a JSON object ("" becomes "{}"); a missing finish
 * reason is AGC_EPROTO. *out is the caller's.
 */
AGC_NODISCARD agc_status agc_response_builder_finish(agc_chat_response **out,
                                                     agc_response_builder *b);

/* Parses a Retry-After value (delta seconds or an HTTP date, relative to now_ms). -1 if invalid. */
long agc_parse_retry_after(const char *value, int64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
