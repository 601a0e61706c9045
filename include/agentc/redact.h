/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Redaction: the step every log line, event and persisted text passes through
 * before it is written. Registered secret values (exact bytes) and patterns
 * (PCRE2; built in: Bearer tokens, sk-... API keys, AWS access keys, private
 * key blocks, ...) become "[REDACTED]". The rule set lives in the ctx.
 */
#ifndef AGENTC_REDACT_H
#define AGENTC_REDACT_H

#include <stddef.h>

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGC_REDACTED "[REDACTED]"

/*
 * Registers a secret value: every later occurrence of these bytes is
 * redacted. The ctx keeps a copy in locked, zeroed-on-free memory. Values
 * shorter than 4 bytes are refused (AGC_EINVAL): they would redact noise.
 */
agc_status agc_redact_add_secret(agc_ctx *ctx, const char *value, size_t len);
/* Forgets a registered value (e.g. when its agc_secret is freed). */
void agc_redact_remove_secret(agc_ctx *ctx, const char *value, size_t len);
/*
 * Adds a PCRE2 pattern; name identifies it in errors and in agc_redact_stats.
 * AGC_EINVAL with the PCRE2 message and offset when it does not compile.
 */
agc_status agc_redact_add_pattern(agc_ctx *ctx, const char *name, const char *pattern);
/*
 * Redacts len bytes of text into a new NUL-terminated string owned by the
 * caller (agc_free). *out_len may be NULL. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_redact(char **out, size_t *out_len, const char *text, size_t len,
                                    agc_ctx *ctx);
/* Redacts b's content in place. */
AGC_NODISCARD agc_status agc_redact_buf(agc_buf *b, agc_ctx *ctx);
/* Whether text contains anything that would be redacted. */
bool agc_redact_would_change(const char *text, size_t len, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
