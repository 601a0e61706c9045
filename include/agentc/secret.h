/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Secrets (API keys, tokens): held only in an opaque agc_secret whose bytes
 * live in libsodium guarded memory (locked where allowed, read-only, wiped on
 * free). Creating one registers its value with the ctx redactor, so it never
 * appears in logs or events; freeing unregisters it. No function in agentc
 * prints, logs or serialises a secret's value: messages name its source
 * ("env:OPENAI_API_KEY") instead. Config files hold references, never values.
 */
#ifndef AGENTC_SECRET_H
#define AGENTC_SECRET_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_secret agc_secret;

/* Largest secret accepted (bytes): keys and tokens, not documents. */
#define AGC_SECRET_MAX (64 * 1024)

/*
 * From the environment variable name. AGC_ENOTFOUND when unset ("OPENAI_API_KEY
 * is unset; export it"), AGC_EINVAL when empty, too short to redact (< 4
 * bytes) or name is not a valid variable name, AGC_ENOMEM. *out is the
 * caller's (agc_secret_free); NULL on failure.
 */
AGC_NODISCARD agc_status agc_secret_from_env(agc_secret **out, const char *name, agc_ctx *ctx);
/*
 * From a file's content with trailing newlines ("\n", "\r\n") trimmed; a path
 * starting with "~/" is taken relative to $HOME. A file readable by group or
 * others is accepted with a warning logged (chmod 600 it). AGC_ENOTFOUND
 * (missing), AGC_EIO (unreadable), AGC_EINVAL (empty, too short, larger than
 * AGC_SECRET_MAX), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_secret_from_file(agc_secret **out, const char *path, agc_ctx *ctx);
/*
 * From a reference: "env:NAME" or "file:PATH". Anything else is AGC_EINVAL
 * ("secrets must be given by reference"); the message never repeats ref,
 * which may be a pasted key. Otherwise as the two calls above.
 */
AGC_NODISCARD agc_status agc_secret_from_ref(agc_secret **out, const char *ref, agc_ctx *ctx);
/*
 * From len bytes (copied; the caller should wipe its copy). source is a
 * description for messages ("keyring:openai"); NULL means "bytes".
 * AGC_EINVAL for fewer than 4 bytes or more than AGC_SECRET_MAX, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_secret_from_bytes(agc_secret **out, const void *data, size_t len,
                                               const char *source, agc_ctx *ctx);

/*
 * The value, NUL-terminated, and its length in *len (may be NULL). Borrowed:
 * valid until agc_secret_free(s); read-only. Do not copy it into logs,
 * arenas, error messages or other long-lived memory.
 */
const char *agc_secret_reveal(const agc_secret *s, size_t *len);
/* Where the value came from, for messages: "env:OPENAI_API_KEY", "file:/run/key".
 * Borrowed for the secret's lifetime. */
const char *agc_secret_source(const agc_secret *s);
/* Unregisters the value from the redactor, wipes and frees it. NULL is a no-op. */
void agc_secret_free(agc_secret *s);

/* Whether s is a well-formed reference ("env:NAME" with NAME [A-Za-z_][A-Za-z0-9_]*,
 * or "file:PATH" with a non-empty PATH). Never echoes s anywhere. */
bool agc_secret_ref_valid(const char *s);

#ifdef __cplusplus
}
#endif
#endif
