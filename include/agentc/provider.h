/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Model providers behind one interface. A chat request (model, messages,
 * tools, tool choice, response format, sampling) goes to a provider (OpenAI
 * compatible chat completions, Anthropic Messages, replay of a cassette) and
 * comes back as a normalised response (content parts, tool calls, finish
 * reason, usage, cost, request id, latency), optionally streamed as deltas.
 * Retries with backoff, Retry-After, fallback chains and cost accounting are
 * done here once for every backend. Backends implement agc_provider_ops
 * (include/agentc/sys/provider.h).
 */
#ifndef AGENTC_PROVIDER_H
#define AGENTC_PROVIDER_H

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_secret agc_secret;

/* ---- messages ------------------------------------------------------------- */

typedef enum agc_role {
    AGC_ROLE_SYSTEM = 0,
    AGC_ROLE_USER,
    AGC_ROLE_ASSISTANT,
    AGC_ROLE_TOOL, /* a tool result; tool_call_id says which call */
} agc_role;

typedef enum agc_part_kind {
    AGC_PART_TEXT = 0,
    AGC_PART_IMAGE,    /* image_url: https URL or data: URI; media_type optional */
    AGC_PART_THINKING, /* model reasoning; `raw` keeps the provider's block (signature) */
} agc_part_kind;

typedef struct agc_part {
    agc_part_kind kind;
    const char *text;       /* TEXT, THINKING */
    const char *image_url;  /* IMAGE */
    const char *media_type; /* IMAGE, e.g. "image/png"; NULL when unknown */
    json_t *raw;            /* provider block passed back unchanged (e.g. Anthropic
                               thinking/redacted_thinking with signature); may be NULL */
} agc_part;

typedef struct agc_tool_call {
    const char *id;        /* provider's call id ("call_abc", "toolu_01...") */
    const char *name;      /* tool name */
    const char *arguments; /* JSON text of the arguments object, as the model sent it */
} agc_tool_call;

typedef struct agc_message {
    agc_role role;
    const agc_part *parts; /* content; a plain text message is one TEXT part */
    size_t n_parts;
    const agc_tool_call *tool_calls; /* ASSISTANT: calls the model made */
    size_t n_tool_calls;
    const char *tool_call_id; /* TOOL: the call this result answers */
    bool is_error;            /* TOOL: the tool failed (Anthropic is_error) */
    bool cache;               /* mark as a prompt-cache breakpoint where supported */
} agc_message;

/* ---- request -------------------------------------------------------------- */

typedef struct agc_tool_def {
    const char *name;
    const char *description;
    const json_t *parameters; /* JSON Schema of the arguments object */
    bool strict;              /* OpenAI strict function calling */
} agc_tool_def;

typedef enum agc_tool_choice {
    AGC_TOOL_CHOICE_AUTO = 0,
    AGC_TOOL_CHOICE_NONE,
    AGC_TOOL_CHOICE_REQUIRED,
    AGC_TOOL_CHOICE_NAMED, /* tool_choice_name must be set */
} agc_tool_choice;

typedef enum agc_response_format {
    AGC_FORMAT_TEXT = 0,
    AGC_FORMAT_JSON_SCHEMA, /* response_schema must be set */
} agc_response_format;

typedef struct agc_chat_request {
    unsigned version;  /* AGC_CHAT_REQUEST_VERSION */
    const char *model; /* NULL: the provider's default model */
    const agc_message *messages;
    size_t n_messages;
    const agc_tool_def *tools;
    size_t n_tools;
    agc_tool_choice tool_choice;
    const char *tool_choice_name;
    bool parallel_tool_calls; /* allow several calls in one turn (default true via INIT) */
    agc_response_format format;
    const json_t *response_schema; /* FORMAT_JSON_SCHEMA */
    const char *response_schema_name;
    bool response_schema_strict;
    double temperature; /* < 0: not sent */
    double top_p;       /* < 0: not sent */
    long max_tokens;    /* <= 0: provider default (Anthropic requires one: 4096) */
    const char *const *stop;
    size_t n_stop;
    long long seed; /* sent when has_seed */
    bool has_seed;
    bool cache_system;   /* Anthropic: cache_control on the system prompt and tools */
    const json_t *extra; /* merged into the wire body last (provider-specific knobs); may be NULL */
} agc_chat_request;

#define AGC_CHAT_REQUEST_VERSION 1
#define AGC_CHAT_REQUEST_INIT                                                                      \
    {                                                                                              \
        AGC_CHAT_REQUEST_VERSION, NULL, NULL, 0, NULL, 0, AGC_TOOL_CHOICE_AUTO, NULL, true,        \
            AGC_FORMAT_TEXT, NULL, NULL, true, -1.0, -1.0, 0, NULL, 0, 0, false, false, NULL       \
    }

void agc_chat_request_init(agc_chat_request *req);

/* ---- response ------------------------------------------------------------- */

typedef enum agc_finish_reason {
    AGC_FINISH_STOP = 0,
    AGC_FINISH_LENGTH,
    AGC_FINISH_TOOL_CALLS,
    AGC_FINISH_CONTENT_FILTER,
    AGC_FINISH_ERROR,
} agc_finish_reason;

/* "stop", "length", "tool_calls", "content_filter", "error" */
const char *agc_finish_reason_name(agc_finish_reason r);

typedef struct agc_usage {
    long long input_tokens;        /* all prompt tokens, cached ones included */
    long long output_tokens;       /* completion tokens, reasoning included */
    long long cached_input_tokens; /* read from the prompt cache */
    long long cache_write_tokens;  /* Anthropic cache_creation_input_tokens */
    long long reasoning_tokens;
    bool known; /* false: the server sent no usage */
} agc_usage;

typedef struct agc_chat_response {
    agc_part *parts; /* TEXT and THINKING parts in order */
    size_t n_parts;
    agc_tool_call *tool_calls;
    size_t n_tool_calls;
    agc_finish_reason finish;
    const char *finish_raw; /* the provider's own reason ("end_turn", "stop", ...) */
    const char *model;      /* model that answered, as reported */
    const char *id;         /* response id ("chatcmpl-...", "msg_...") */
    const char *request_id; /* provider request id header (x-request-id, request-id) */
    const char *provider;   /* backend name that answered (after fallback) */
    agc_usage usage;
    double cost_usd;   /* valid when cost_known */
    bool cost_known;   /* false when usage or the price is unknown: never estimated */
    double latency_ms; /* request start to last byte, last attempt */
    double ttft_ms;    /* to first content delta when streamed, else 0 */
    int attempts;      /* 1 + retries */
    json_t *parsed;    /* FORMAT_JSON_SCHEMA: the answer parsed as JSON, else NULL */
} agc_chat_response;

/* All text parts joined (borrowed from resp until freed; "" when none). */
const char *agc_chat_response_text(const agc_chat_response *resp);
/* Frees a response and everything in it; NULL is a no-op. */
void agc_chat_response_free(agc_chat_response *resp);

/* ---- streaming ------------------------------------------------------------ */

typedef enum agc_delta_kind {
    AGC_DELTA_TEXT = 0,  /* text: a piece of the answer */
    AGC_DELTA_THINKING,  /* text: a piece of reasoning */
    AGC_DELTA_TOOL_CALL, /* index, id + name on the first delta of a call, then argument pieces */
    AGC_DELTA_RETRY,     /* a retry is about to happen after retry_in_ms (status, text = reason) */
} agc_delta_kind;

typedef struct agc_delta {
    agc_delta_kind kind;
    const char *text; /* TEXT, THINKING, RETRY; NUL-terminated, length text_len */
    size_t text_len;
    size_t index;                /* TOOL_CALL: which call of this response */
    const char *id;              /* TOOL_CALL: set on the first delta of a call, else NULL */
    const char *name;            /* TOOL_CALL: set on the first delta of a call, else NULL */
    const char *arguments_delta; /* TOOL_CALL: a piece of the arguments JSON (may be "") */
    int status;                  /* RETRY: HTTP status or 0 */
    long retry_in_ms;            /* RETRY */
} agc_delta;

/* Return AGC_OK to continue; anything else cancels the call (the call then returns it). */
typedef agc_status (*agc_delta_fn)(const agc_delta *delta, void *user);

/* ---- providers ------------------------------------------------------------ */

typedef struct agc_provider agc_provider;

typedef struct agc_retry_policy {
    int max_attempts;       /* total attempts, >= 1 (default 4) */
    long base_delay_ms;     /* first backoff cap (default 500) */
    long max_delay_ms;      /* cap of one wait (default 30000) */
    long max_total_wait_ms; /* give up when waits would exceed it (default 120000) */
    bool replay_streams;    /* retry a stream that already delivered deltas (default false) */
} agc_retry_policy;

typedef struct agc_provider_opts {
    unsigned version;          /* AGC_PROVIDER_OPTS_VERSION */
    const char *preset;        /* "openai", "anthropic", "azure-openai", "ollama", "llama.cpp",
                                  "vllm", "lm-studio", "openrouter", "groq", "together",
                                  "deepseek", "mistral", "replay", or NULL with base_url set
                                  (OpenAI-compatible custom server) */
    const char *base_url;      /* overrides the preset's (and its *_BASE_URL variable) */
    const agc_secret *api_key; /* borrowed, must outlive the provider; NULL: from the
                                 preset's key variable (error if that is required and unset) */
    const char *model;         /* default model when a request names none */
    const char *api_version;   /* azure-openai api-version; Anthropic anthropic-version */
    const char *cassette;      /* replay: cassette path to serve; others: NULL */
    long connect_timeout_ms;   /* default 10000 */
    long timeout_ms;           /* total per attempt, default 600000 */
    long idle_timeout_ms;      /* max gap between bytes, default 120000 */
    const char *ca_bundle;     /* PEM file for TLS verification; NULL: system store */
    agc_retry_policy retry;
    const json_t
        *prices; /* overrides: {"model": {"input":..,"output":..,"cached_input":..}} USD/Mtok */
    const json_t *headers; /* extra request headers {"name": "value"} (never logged) */
} agc_provider_opts;

#define AGC_PROVIDER_OPTS_VERSION 1
#define AGC_PROVIDER_OPTS_INIT                                                                     \
    {                                                                                              \
        AGC_PROVIDER_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 10000, 600000, 120000,      \
            NULL, {4, 500, 30000, 120000, false}, NULL, NULL                                       \
    }

void agc_provider_opts_init(agc_provider_opts *opts);

/*
 * Opens a provider. The provider remembers ctx (errors, clock, allocation,
 * logging) and must be closed before it. AGC_EINVAL names an unknown preset
 * or version; AGC_EAUTH names the key variable when a required key is unset
 * ("OPENAI_API_KEY is unset; export it or set provider.api_key").
 */
AGC_NODISCARD agc_status agc_provider_open(agc_provider **out, const agc_provider_opts *opts,
                                           agc_ctx *ctx);
/*
 * Opens a provider from a config object ({"name": preset, "model", "base_url",
 * "api_key": "env:NAME"|"file:PATH", "timeout_seconds", ...}, as in
 * schemas/config.schema.json). The key secret is owned by the provider.
 */
AGC_NODISCARD agc_status agc_provider_open_config(agc_provider **out, const json_t *cfg,
                                                  agc_ctx *ctx);
/* Closes a provider (NULL is a no-op). */
void agc_provider_close(agc_provider *p);

/*
 * Sends one chat request and waits for the answer, with retries per policy.
 * on_delta (may be NULL) makes it a streaming call and receives deltas as
 * they arrive; the full response is assembled either way. *out is the
 * caller's (agc_chat_response_free). Errors: AGC_EAUTH (401/403; message
 * names the key variable), AGC_ENOTFOUND (404, unknown model), AGC_EINVAL
 * (400, with the server's message), AGC_ERATELIMIT (429 after retries),
 * AGC_EOVERLOADED (529/503 after retries), AGC_EHTTP (other status),
 * AGC_ETIMEDOUT, AGC_ENET, AGC_EPROTO (malformed or truncated answer),
 * AGC_ECANCELED. Messages keep the provider's own text and request id.
 */
AGC_NODISCARD agc_status agc_provider_chat(agc_chat_response **out, agc_provider *p,
                                           const agc_chat_request *req, agc_delta_fn on_delta,
                                           void *user);
/* Cancels a chat in progress; safe from another thread or a signal-handling thread. */
void agc_provider_cancel(agc_provider *p);
/* Backend name ("openai", "anthropic", "replay", ...). */
const char *agc_provider_name(const agc_provider *p);
/* Default model, or NULL. */
const char *agc_provider_model(const agc_provider *p);

/*
 * A chain: each chat tries the providers in order, moving on when one fails
 * with a retryable error after its own retries (429, 5xx, 529, timeout,
 * network). The chain borrows the providers; close them after it.
 */
AGC_NODISCARD agc_status agc_provider_fallback_new(agc_provider **out, agc_provider *const *chain,
                                                   size_t n, agc_ctx *ctx);

/*
 * Wraps a provider so that every exchange is appended to a cassette (JSONL,
 * one line per call: the normalised request and response, never keys or auth
 * headers). The recorder borrows inner; close the recorder first.
 */
AGC_NODISCARD agc_status agc_provider_recorder_new(agc_provider **out, agc_provider *inner,
                                                   const char *cassette_path, agc_ctx *ctx);

/* ---- presets and prices --------------------------------------------------- */

typedef struct agc_preset_info {
    const char *name;         /* "openai" */
    const char *wire;         /* "openai", "anthropic" or "replay" */
    const char *base_url;     /* default base URL */
    const char *key_env;      /* variable holding the key, NULL when none is needed */
    const char *base_url_env; /* variable overriding the base URL, or NULL */
    const char *notes;        /* one line for `agentc models` */
    bool key_required;        /* false for local servers (ollama, llama.cpp, vllm, lm-studio) */
} agc_preset_info;

/* NULL-terminated table of presets (static, never freed). */
const agc_preset_info *agc_provider_presets(void);
/* The preset called name, or NULL. */
const agc_preset_info *agc_provider_preset(const char *name);

typedef struct agc_price {
    double input_per_mtok; /* USD per million input tokens */
    double output_per_mtok;
    double cached_input_per_mtok; /* < 0: same as input */
    double cache_write_per_mtok;  /* < 0: same as input */
} agc_price;

/*
 * Looks up a model's price: overrides (may be NULL) first, then the shipped
 * table (data/prices.json). Matches the exact id, then the longest prefix
 * ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini"). AGC_ENOTFOUND when unknown.
 */
agc_status agc_price_lookup(agc_price *out, const char *model, const json_t *overrides,
                            agc_ctx *ctx);
/* Cost of usage at price; false (cost unknown) when usage is not known. */
bool agc_price_cost(const agc_price *price, const agc_usage *usage, double *cost_usd);
/* The shipped price table as JSON (new reference). */
json_t *agc_price_table(agc_ctx *ctx);

/* ---- JSON forms (cassettes, events, sessions) ----------------------------- */

/* The normalised request as JSON (new reference; keys sorted on dump). NULL + error on failure. */
json_t *agc_chat_request_to_json(const agc_chat_request *req, agc_ctx *ctx);
json_t *agc_chat_response_to_json(const agc_chat_response *resp, agc_ctx *ctx);
/* Rebuilds a response from its JSON form (replay). AGC_EPARSE names the missing field. */
AGC_NODISCARD agc_status agc_chat_response_from_json(agc_chat_response **out, const json_t *j,
                                                     agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
