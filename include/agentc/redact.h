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
 * Adds a PCRE2 pattern; name identifies it in errors and in agc_redact_hits.
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

/* ---- named rules (appended) ------------------------------------------------ */

/*
 * Decides whether one pattern match really is sensitive (e.g. a Luhn check
 * for card numbers). match is not NUL-terminated. Returns true to redact.
 */
typedef bool (*agc_redact_validate_fn)(const char *match, size_t len, void *user);

typedef struct agc_redact_rule {
    unsigned version;                /* AGC_REDACT_RULE_VERSION */
    const char *name;                /* unique; "email", "my_token" */
    const char *pattern;             /* PCRE2; \K keeps what precedes it */
    agc_redact_validate_fn validate; /* NULL: every match is redacted */
    void *user;                      /* passed to validate */
    bool enabled;                    /* false: registered but inactive */
} agc_redact_rule;

#define AGC_REDACT_RULE_VERSION 1
#define AGC_REDACT_RULE_INIT                                                                       \
    {                                                                                              \
        AGC_REDACT_RULE_VERSION, NULL, NULL, NULL, NULL, true                                      \
    }

/*
 * Adds a named rule (strings are copied). AGC_EINVAL for an unknown version,
 * a missing name or pattern, a name already in use, or a pattern that does
 * not compile (PCRE2 message and offset); AGC_ENOMEM.
 *
 * Built-in rules, enabled from the start: "bearer" (keeps "Bearer "),
 * "openai_key" (sk-..., sk-proj-..., sk-ant-...), "aws_access_key"
 * (AKIA/ASIA...), "aws_secret_key" (aws_secret_access_key=...),
 * "github_token" (ghp_, gho_, ghs_, ghu_, ghr_, github_pat_), "slack_token"
 * (xoxb- ...), "google_api_key" (AIza...), "jwt" and "private_key" (PEM
 * private key blocks, up to the end of the text when the END line is
 * missing). Built-in PII rules, off until enabled: "email", "phone" (+country
 * numbers of 9-15 digits, or NANP 555-123-4567 / (555) 123-4567), "iban" (mod-97 check) and
 * "credit_card" (13-19 digits, Luhn).
 */
agc_status agc_redact_add_rule(agc_ctx *ctx, const agc_redact_rule *rule);
/* Turns a rule (built-in or added) on or off. AGC_ENOTFOUND names an unknown rule. */
agc_status agc_redact_enable(agc_ctx *ctx, const char *name, bool on);
/* Turns the four built-in PII rules (email, phone, iban, credit_card) on or off. */
agc_status agc_redact_enable_pii(agc_ctx *ctx, bool on);
/* How many times rule name redacted something on this ctx ("secret" counts
 * registered values); 0 for an unknown name. */
size_t agc_redact_hits(const agc_ctx *ctx, const char *name);

/* Number of named rules (built-ins included); 0 when out of memory. */
size_t agc_redact_rule_count(agc_ctx *ctx);
/* The i-th rule's name (borrowed until rules are added) and whether it is
 * enabled (*enabled may be NULL); NULL past the end. */
const char *agc_redact_rule_at(agc_ctx *ctx, size_t i, bool *enabled);
/* Number of registered secret values (their bytes are never exposed). */
size_t agc_redact_secret_count(const agc_ctx *ctx);

/* The validators behind the PII rules; digits may be separated by spaces or '-'. */
bool agc_redact_luhn_valid(const char *text, size_t len);
bool agc_redact_iban_valid(const char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
