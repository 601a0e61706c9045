/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Audit trail internals shared by trail.c (writing), trail_record.c (the
 * hashed form, signatures, redaction), trail_verify.c and trail_export.c.
 * Invariant: agc__audit_hash is the only definition of what a record's hash
 * covers; writer, verifier and exporter all go through it.
 */
#ifndef AGC_AUDIT_INT_H
#define AGC_AUDIT_INT_H

#include <sqlite3.h>

#include "agentc/audit.h"
#include "agentc/privacy.h"
#include "agentc/secret.h"

#define AGC__AUDIT_SCHEMA_VERSION 1
#define AGC__AUDIT_FORMAT         "agentc-audit"
#define AGC__AUDIT_SIG_HEX_SIZE   129 /* Ed25519 signature in hex + NUL */
#define AGC__AUDIT_GENESIS        "0000000000000000000000000000000000000000000000000000000000000000"

/* A record appended in batch mode, chained when committed. */
typedef struct agc__audit_pending {
    int64_t time_ms;
    char *actor, *run_id, *subject, *action, *outcome; /* redacted copies */
    json_t *payload;                                   /* redacted object */
    char *payload_text;                                /* its canonical text */
    size_t payload_len;
} agc__audit_pending;

enum {
    AGC__AST_BEGIN,
    AGC__AST_COMMIT,
    AGC__AST_ROLLBACK,
    AGC__AST_LAST,
    AGC__AST_INSERT,
    AGC__AST_CP_INSERT,
    AGC__AST_COUNT
};

struct agc_audit {
    agc_ctx *ctx;
    sqlite3 *db;
    char *path;
    agc_audit_durability durability;
    unsigned batch_records, batch_ms, checkpoint_every;
    int busy_ms;
    bool read_only;
    agc_secret *sk; /* libsodium Ed25519 secret key (64 bytes); NULL: no signing */
    char pk_hex[AGC_AUDIT_HEX_SIZE];
    agc__audit_pending *pending;
    size_t npending, cap;
    int64_t pending_since_ns; /* monotonic time of the oldest pending record */
    sqlite3_stmt *st[AGC__AST_COUNT];
    agc_privacy *privacy; /* borrowed; NULL: payloads are not sealed */
};

/* A checkpoint as stored or exported. */
typedef struct agc__audit_cp {
    uint64_t seq;
    int64_t time_ms;
    char hash[AGC_AUDIT_HEX_SIZE];
    char public_key[AGC_AUDIT_HEX_SIZE];
    char sig[AGC__AUDIT_SIG_HEX_SIZE];
} agc__audit_cp;

/*
 * *out = the record as a JSON object: action, actor, outcome, payload (the
 * given value, shared), prev_hash, run_id, seq, subject, time, and hash when
 * with_hash. Absent optional strings are null. AGC_ENOMEM.
 */
agc_status agc__audit_record_object(json_t **out, const agc_audit_record *r, const json_t *payload,
                                    bool with_hash, agc_ctx *ctx);
/* out = hex SHA-256 of the canonical JSON of r without its hash. AGC_ENOMEM. */
agc_status agc__audit_hash(char out[AGC_AUDIT_HEX_SIZE], const agc_audit_record *r,
                           const json_t *payload, agc_ctx *ctx);
/* The same from the payload's canonical text (fast when no field needs escaping). */
agc_status agc__audit_hash_text(char out[AGC_AUDIT_HEX_SIZE], const agc_audit_record *r,
                                const char *payload_text, size_t payload_len, agc_ctx *ctx);
/* Signs checkpoint (seq, hash) with sk into sig (hex). */
void agc__audit_sign(char sig[AGC__AUDIT_SIG_HEX_SIZE], const agc_secret *sk, uint64_t seq,
                     const char *hash);
/* Whether sig (hex) is pk's signature of (seq, hash). */
bool agc__audit_sig_ok(const unsigned char pk[32], const char *sig, uint64_t seq, const char *hash);
/* Decodes exactly 2*len hex digits into out; false when malformed. */
bool agc__audit_unhex(unsigned char *out, size_t len, const char *hex);
/* Whether s is 64 lowercase hex digits. */
bool agc__audit_is_hash(const char *s);

/* Redacted copy of s (NULL stays NULL) into *out (caller's). AGC_ENOMEM. */
agc_status agc__audit_redact_str(char **out, const char *s, agc_ctx *ctx);
/* Redacted copy of an object payload (NULL gives {}). AGC_EINVAL, AGC_ELIMIT, AGC_ENOMEM. */
agc_status agc__audit_redact_payload(json_t **out, const json_t *payload, agc_ctx *ctx);

/* Canonical text of the redacted payload (NULL gives {}) into *out (caller's). */
agc_status agc__audit_redact_payload_text(char **out, size_t *len, const json_t *payload,
                                          agc_ctx *ctx);

/* Maps an SQLite failure to a status naming path and what failed. */
agc_status agc__audit_db_error(sqlite3 *db, const char *path, int rc, const char *what,
                               agc_ctx *ctx);
/* mkdir -p (0700) of path's parent directories. AGC_EIO, AGC_ENOMEM. */
agc_status agc__audit_make_parents(const char *path, agc_ctx *ctx);
/* Opens path read-only (for verify_file), checks it is an audit trail. */
agc_status agc__audit_open_db(sqlite3 **out, const char *path, bool read_only, int busy_ms,
                              agc_ctx *ctx);

/* The retention anchor (meta pruned_seq, pruned_hash); *seq 0 when never pruned. */
agc_status agc__audit_anchor(uint64_t *seq, char hash[AGC_AUDIT_HEX_SIZE], sqlite3 *db,
                             const char *path, agc_ctx *ctx);
/* Loads every checkpoint in seq order into *out (caller's, agc_free). */
agc_status agc__audit_load_cps(agc__audit_cp **out, size_t *n, sqlite3 *db, const char *path,
                               agc_ctx *ctx);
/* Writes one checkpoint as its JSONL line (with "\n") into *out (caller's). */
agc_status agc__audit_cp_to_jsonl(char **out, size_t *len, const agc__audit_cp *cp, agc_ctx *ctx);

#endif
