/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private to src/providers: backend constructors called by
 * agc_provider_open(), and the layout behind agc_chat_response.
 */
#ifndef AGC_PROVIDERS_INT_H
#define AGC_PROVIDERS_INT_H

#include "agentc/alloc.h"
#include "agentc/provider.h"
#include "agentc/sys/provider.h"

/* Responses live in a box with the arena that holds their strings. */
typedef struct agc__resp_box {
    agc_chat_response r; /* first: &box->r == resp */
    agc_ctx *ctx;
    agc_arena *arena;
    char *text; /* joined text, lazily */
} agc__resp_box;

/* Allocates an empty response with its arena. */
agc_status agc__response_alloc(agc__resp_box **out, agc_ctx *ctx);

/*
 * Backend constructors: each creates its self and calls agc_provider_new().
 * preset is the resolved preset (never NULL); opts are the caller's, already
 * defaulted; key may be NULL when the preset needs none.
 */
agc_status agc__openai_open(agc_provider **out, const agc_preset_info *preset,
                            const agc_provider_opts *opts, const char *base_url,
                            const agc_secret *key, agc_ctx *ctx);
agc_status agc__anthropic_open(agc_provider **out, const agc_preset_info *preset,
                               const agc_provider_opts *opts, const char *base_url,
                               const agc_secret *key, agc_ctx *ctx);
agc_status agc__replay_open(agc_provider **out, const agc_provider_opts *opts, agc_ctx *ctx);

/*
 * Rebuilds a response from its JSON form, passing every piece to on_delta
 * (may be NULL) as if it streamed: the replay provider's engine.
 */
agc_status agc__response_rebuild(agc_chat_response **out, const json_t *j, agc_delta_fn on_delta,
                                 void *user, agc_ctx *ctx);

/* Provider-owned secret, freed at close (used by agc_provider_open_config). */
void agc__provider_own_secret(agc_provider *p, agc_secret *s);

/* Maps an HTTP status + provider error body to a status and a ctx message. */
agc_status agc__provider_http_error(agc_ctx *ctx, const char *backend, int status,
                                    const char *error_message, const char *error_type,
                                    const char *request_id, const char *key_env, const char *model);

#endif
