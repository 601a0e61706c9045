/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Privacy state: per-subject encryption keys (crypto-shredding), consents
 * (subject x purpose), the erasure log and small facts the compliance report
 * needs (last verify, last purge), in one SQLite file of its own (mode 0600,
 * secure_delete on). Personal content is sealed with the subject's key
 * (XChaCha20-Poly1305, libsodium) into an envelope object
 * {"$enc":"xchacha20poly1305","sub":S,"kid":K,"n":NONCE,"ct":BASE64};
 * destroying the key (agc_privacy_erase) makes every envelope unreadable.
 * Invariant: a key is never written anywhere but this file's subject_keys
 * table, and erasure overwrites it there (secure_delete, WAL truncated, VACUUM).
 * Not here: what is personal (callers decide), retention of other stores.
 * docs/audit.md describes the whole model.
 */
#ifndef AGENTC_PRIVACY_H
#define AGENTC_PRIVACY_H

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_privacy agc_privacy;

/*
 * The default path: $AGENTC_PRIVACY_DB, else $XDG_DATA_HOME/agentc/privacy.db,
 * else ~/.local/share/agentc/privacy.db. Caller frees (agc_free); NULL with
 * AGC_ENOTFOUND in ctx when none can be formed.
 */
char *agc_privacy_default_path(agc_ctx *ctx);

/*
 * Opens (creating it 0600, parents 0700) the privacy database at path. The
 * handle remembers ctx (one thread at a time); several processes may share
 * the file. Errors: AGC_EINVAL (not a privacy database), AGC_EIO, AGC_EBUSY,
 * AGC_ENOMEM. *out is NULL on failure.
 */
AGC_NODISCARD agc_status agc_privacy_open(agc_privacy **out, const char *path, agc_ctx *ctx);
/* Closes; NULL is a no-op. */
void agc_privacy_close(agc_privacy *p);
/* The path it was opened with (borrowed for the handle's lifetime). */
const char *agc_privacy_path(const agc_privacy *p);

/* ---- sealing ----------------------------------------------------------------- */

/*
 * Encrypts len bytes of plaintext for subject (creating the subject's key on
 * first use) into a new envelope object (*out, caller's json_decref).
 * Errors: AGC_EINVAL (empty subject), AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_privacy_seal(json_t **out, agc_privacy *p, const char *subject,
                                          const char *plaintext, size_t len);
/*
 * Decrypts an envelope into *out (NUL-terminated, caller's agc_free; *len may
 * be NULL). Errors: AGC_ENOTFOUND when the subject's key was erased (or never
 * existed), AGC_EINVAL (not an envelope, or it does not authenticate), AGC_EIO.
 */
AGC_NODISCARD agc_status agc_privacy_unseal(char **out, size_t *len, agc_privacy *p,
                                            const json_t *envelope);
/* Whether v is an object with "$enc" (an envelope, readable or not). */
bool agc_privacy_is_envelope(const json_t *v);

/* ---- consent ------------------------------------------------------------------ */

/*
 * Grants (or re-grants) subject's consent to purpose, now. Revoking marks it
 * revoked (AGC_ENOTFOUND when no current consent). Both: AGC_EINVAL for an
 * empty or over-long (256 bytes) name, AGC_EIO.
 */
AGC_NODISCARD agc_status agc_privacy_consent_grant(agc_privacy *p, const char *subject,
                                                   const char *purpose);
AGC_NODISCARD agc_status agc_privacy_consent_revoke(agc_privacy *p, const char *subject,
                                                    const char *purpose);
/* *ok = whether subject has a current (granted, not revoked) consent for purpose. */
AGC_NODISCARD agc_status agc_privacy_consent_check(bool *ok, agc_privacy *p, const char *subject,
                                                   const char *purpose);
/*
 * *out (caller's) = [{"subject","purpose","granted_ms","revoked_ms"|null,
 * "current":bool}], for one subject or all (subject NULL), ordered.
 */
AGC_NODISCARD agc_status agc_privacy_consent_list(json_t **out, agc_privacy *p,
                                                  const char *subject);

/* ---- erasure ------------------------------------------------------------------ */

/*
 * Crypto-shreds subject: deletes its key (overwritten on disk: secure_delete,
 * WAL checkpointed and truncated, VACUUM), revokes its consents and logs the
 * erasure with the given details (an object, copied; may be NULL).
 * *had_key (may be NULL) says whether a key existed. Errors: AGC_EINVAL,
 * AGC_EIO, AGC_EBUSY (another process holds the file: retry).
 */
AGC_NODISCARD agc_status agc_privacy_erase(agc_privacy *p, const char *subject,
                                           const json_t *details, bool *had_key);
/* *out = [{"subject","time_ms","details"}] of every erasure, oldest first. */
AGC_NODISCARD agc_status agc_privacy_erasures(json_t **out, agc_privacy *p);
/*
 * *out = [{"subject","has_key":bool,"key_created_ms"|null,"consents":N,
 * "erased_ms"|null}]: every subject with a key, a consent or an erasure.
 */
AGC_NODISCARD agc_status agc_privacy_subjects(json_t **out, agc_privacy *p);

/* ---- facts ---------------------------------------------------------------------- */

/* Stores a JSON fact under name ("last_verify", "last_purge"); value copied. */
AGC_NODISCARD agc_status agc_privacy_fact_set(agc_privacy *p, const char *name,
                                              const json_t *value);
/* *out = the fact, or NULL when never set (AGC_OK). */
AGC_NODISCARD agc_status agc_privacy_fact_get(json_t **out, agc_privacy *p, const char *name);

/* ---- minimisation --------------------------------------------------------------- */

typedef enum agc_field_policy {
    AGC_FIELD_KEEP = 0, /* as is (after redaction) */
    AGC_FIELD_REDACT,   /* "[REDACTED]" */
    AGC_FIELD_HASH,     /* {"sha256": hex, "bytes": n} of the value's text */
    AGC_FIELD_DROP      /* member removed */
} agc_field_policy;

/* Parses "keep", "redact", "hash", "drop"; false for anything else. */
bool agc_field_policy_parse(agc_field_policy *out, const char *name);

/*
 * Applies policies (an object {member name: "keep"|"redact"|"hash"|"drop"})
 * to every member of v with that name, at any depth, in place. Values are
 * hashed as their canonical JSON text (strings: their bytes). Unknown policy
 * names are AGC_EINVAL; AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_privacy_apply_fields(json_t *v, const json_t *policies, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
