/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Audit trail: an append-only, hash-chained record of security-relevant
 * events (model calls, tool calls, approvals, denials, ...) in its own SQLite
 * database, with optional Ed25519-signed checkpoints and a JSONL export.
 * Invariant: record n's hash is SHA-256 over the canonical JSON of its fields
 * (hash left out), and its prev_hash is record n-1's hash (64 zeros for n=1),
 * so any edit, deletion, insertion or reordering is found by agc_audit_verify.
 * Payloads and text fields are redacted before anything is written; with a
 * privacy database attached, the payload of a record about a data subject is
 * sealed with that subject's key (the hash covers the envelope), so erasing
 * the key (agentc erase) shreds it while the chain still verifies.
 * Consent, keys and erasure: privacy.h. Retention: agc_audit_prune.
 * Format and guarantees: docs/audit.md.
 */
#ifndef AGENTC_AUDIT_H
#define AGENTC_AUDIT_H

#include <stdio.h>

#include <jansson.h>

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A SHA-256 hash or an Ed25519 public key in lowercase hex, and its buffer size. */
#define AGC_AUDIT_HEX_LEN  64
#define AGC_AUDIT_HEX_SIZE (AGC_AUDIT_HEX_LEN + 1)
/* Longest actor, run id, subject, action or outcome (bytes). */
#define AGC_AUDIT_FIELD_MAX 256

typedef enum agc_audit_durability {
    AGC_AUDIT_SYNC_EACH = 0, /* one fsynced transaction per record (default) */
    AGC_AUDIT_SYNC_BATCH     /* buffered; committed every batch_records / batch_ms, or on flush */
} agc_audit_durability;

typedef struct agc_audit_opts {
    unsigned version;                /* AGC_AUDIT_OPTS_VERSION */
    agc_audit_durability durability; /* AGC_AUDIT_SYNC_EACH */
    unsigned batch_records;          /* batched: commit when this many wait (0 = 64) */
    unsigned batch_ms;               /* batched: or when the oldest waits this long (0 = 1000) */
    unsigned checkpoint_every;       /* sign a checkpoint every N records (0 = never) */
    /* Reference ("env:NAME" or "file:PATH") to the Ed25519 signing key: 64 hex
     * digits (the 32-byte seed). Required when checkpoint_every > 0. */
    const char *signing_key_ref;
    int busy_timeout_ms; /* wait for other writers this long (0 = 10000) */
    bool read_only;      /* open for reading and verifying only */
} agc_audit_opts;

#define AGC_AUDIT_OPTS_VERSION 1
#define AGC_AUDIT_OPTS_INIT                                                                        \
    {                                                                                              \
        AGC_AUDIT_OPTS_VERSION, AGC_AUDIT_SYNC_EACH, 0, 0, 0, NULL, 0, false                       \
    }
void agc_audit_opts_init(agc_audit_opts *opts);

typedef struct agc_audit agc_audit;

/*
 * Opens (creating it with mode 0600, and its parent directories with 0700,
 * unless read_only) the trail at path. opts may be NULL. The trail remembers
 * ctx, which must outlive it; use it from one thread at a time. Several
 * processes (or handles) may append to one file at once.
 * Errors: AGC_EINVAL (bad opts, a file that is not an audit trail, a bad or
 * missing signing key), AGC_ENOTFOUND (read_only and no file; signing key
 * variable unset or file missing), AGC_EIO, AGC_EPERM, AGC_EUNSUPPORTED (a
 * newer format), AGC_ENOMEM. *out is NULL on failure.
 */
AGC_NODISCARD agc_status agc_audit_open(agc_audit **out, const char *path,
                                        const agc_audit_opts *opts, agc_ctx *ctx);
/*
 * Flushes buffered records (a failure there is logged and the records are
 * lost; call agc_audit_flush first to see it), then closes. NULL is a no-op.
 */
void agc_audit_close(agc_audit *a);
/* The path the trail was opened with. Borrowed for the trail's lifetime. */
const char *agc_audit_path(const agc_audit *a);

/* One event to record. Strings are borrowed for the call. */
typedef struct agc_audit_entry {
    const char *actor;     /* who acted ("agent:coder", "user", ...); NULL for none */
    const char *run_id;    /* NULL when no run */
    const char *subject;   /* data-subject id; NULL when none */
    const char *action;    /* required: "model.call", "tool.call", "policy.denied", ... */
    const char *outcome;   /* required: "ok", "denied", "error", ... */
    const json_t *payload; /* an object, or NULL for {} */
} agc_audit_entry;

/*
 * Records e: redacts its text fields and payload (agc_redact, as for logs),
 * stamps it with agc_clock_now_ms, then, in one write transaction, reads the
 * last seq and hash, chains the record and inserts it (and a signed
 * checkpoint when seq is a multiple of checkpoint_every). SYNC_EACH: on disk
 * when this returns, *seq_out (may be NULL) is its seq. SYNC_BATCH: buffered
 * (chained and numbered when committed) and *seq_out is 0; a batch commits
 * when it is full or its oldest record is batch_ms old at the next append.
 * Errors: AGC_EINVAL (missing action or outcome, a field longer than
 * AGC_AUDIT_FIELD_MAX, a payload that is not an object, read-only trail),
 * AGC_EBUSY (other writers held the lock past busy_timeout_ms), AGC_EIO,
 * AGC_ENOMEM. A failed commit of a batch keeps the batch for the next try;
 * AGC_ELIMIT when 16 * batch_records records already wait that way.
 */
AGC_NODISCARD agc_status agc_audit_append(agc_audit *a, const agc_audit_entry *e,
                                          uint64_t *seq_out);
/* Commits every buffered record (SYNC_BATCH; a no-op otherwise). Errors as append. */
AGC_NODISCARD agc_status agc_audit_flush(agc_audit *a);
/* Records buffered and not yet committed. */
size_t agc_audit_pending(const agc_audit *a);

/*
 * The public key (hex) checkpoints of this handle are signed with, or NULL
 * when it signs none. Borrowed for the trail's lifetime.
 */
const char *agc_audit_public_key(const agc_audit *a);
/*
 * Derives the public key (hex, into pub) of a signing key given as 64 hex
 * digits (the seed), read from ref ("env:NAME" / "file:PATH").
 * Errors: those of agc_secret_from_ref, AGC_EINVAL for a malformed key.
 */
AGC_NODISCARD agc_status agc_audit_key_public(char pub[AGC_AUDIT_HEX_SIZE], const char *ref,
                                              agc_ctx *ctx);

typedef struct agc_privacy agc_privacy;
/*
 * Attaches a privacy database (borrowed: it must outlive a, or be detached
 * with NULL first): from now on the payload of every record that names a
 * subject, except consent.* and erasure* records (metadata only), is sealed
 * with the subject's key (agc_privacy_seal) before it is hashed or written.
 */
void agc_audit_set_privacy(agc_audit *a, agc_privacy *p);

/*
 * Retention: deletes every record older than before_ms (and checkpoints up to
 * the last deleted record), keeping the chain verifiable from its new first
 * record: the deleted prefix is replaced by an anchor (meta: pruned_seq and
 * the last deleted hash) that agc_audit_verify accepts in place of the
 * records. The prune is then recorded as a "retention.purge" record.
 * *deleted (may be NULL) = records removed. Errors as agc_audit_append.
 */
AGC_NODISCARD agc_status agc_audit_prune(agc_audit *a, int64_t before_ms, uint64_t *deleted);

/* ---- reading ----------------------------------------------------------------- */

/* One stored record. Every pointer is borrowed for the callback only. */
typedef struct agc_audit_record {
    uint64_t seq;
    int64_t time_ms;
    const char *actor;   /* NULL when none */
    const char *run_id;  /* NULL when none */
    const char *subject; /* NULL when none */
    const char *action;
    const char *outcome;
    const char *payload; /* canonical JSON text */
    const char *prev_hash;
    const char *hash;
} agc_audit_record;

/* Which records to read; NULL or zero fields mean "any". */
typedef struct agc_audit_filter {
    unsigned version;    /* AGC_AUDIT_FILTER_VERSION */
    int64_t since_ms;    /* time >= since_ms (0 = any) */
    int64_t until_ms;    /* time < until_ms (0 = any) */
    const char *run_id;  /* exact */
    const char *subject; /* exact */
    const char *action;  /* exact, or a prefix ending in '.' ("tool.") */
    uint64_t limit;      /* at most this many (0 = all) */
} agc_audit_filter;

#define AGC_AUDIT_FILTER_VERSION 1
#define AGC_AUDIT_FILTER_INIT                                                                      \
    {                                                                                              \
        AGC_AUDIT_FILTER_VERSION, 0, 0, NULL, NULL, NULL, 0                                        \
    }

/* Called per record; return AGC_OK to go on, anything else stops the query
 * and is returned by it. */
typedef agc_status (*agc_audit_record_fn)(const agc_audit_record *r, void *user);

/*
 * Calls fn for every committed record matching f (NULL: all), in seq order.
 * Errors: AGC_EINVAL (filter version), AGC_EIO, AGC_ENOMEM, or fn's status.
 */
AGC_NODISCARD agc_status agc_audit_query(agc_audit *a, const agc_audit_filter *f,
                                         agc_audit_record_fn fn, void *user);

/*
 * Serialises a record as its JSONL line: exactly the hashed fields plus
 * "hash", canonical JSON, ending in "\n". *out is the caller's (agc_free).
 * Errors: AGC_EIO (stored payload is not JSON), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_audit_record_to_jsonl(char **out, size_t *out_len,
                                                   const agc_audit_record *r, agc_ctx *ctx);

typedef enum agc_audit_format { AGC_AUDIT_FORMAT_JSONL = 0, AGC_AUDIT_FORMAT_CSV } agc_audit_format;

/*
 * Writes the records matching f to out. JSONL: one record per line; with no
 * filter (f NULL or all fields empty) the signed checkpoints come first as
 * {"checkpoint":N,...} lines, so that the file verifies on its own
 * (agc_audit_verify_file). CSV: a header line, then seq, RFC 3339 time,
 * actor, run_id, subject, action, outcome, payload, prev_hash, hash.
 * Errors: AGC_EIO (write failure), AGC_EINVAL, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_audit_export(agc_audit *a, const agc_audit_filter *f,
                                          agc_audit_format format, FILE *out);

/*
 * *out (caller's, json_decref) = {"records":N,"first_time":ms|null,
 * "last_time":ms|null,"last_seq":N,"by_action":{action:{outcome:count}},
 * "by_outcome":{outcome:count},"checkpoints":N,"last_checkpoint":
 * {"seq":N,"time":ms,"public_key":hex}|null,"pending":N}.
 * Errors: AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_audit_stats(json_t **out, agc_audit *a);

/* ---- verifying ------------------------------------------------------------------ */

typedef struct agc_audit_verify_opts {
    unsigned version; /* AGC_AUDIT_VERIFY_OPTS_VERSION */
    /* Trusted Ed25519 public key (64 hex digits): every checkpoint must be
     * signed with it. NULL: each checkpoint is checked against the key stored
     * beside it, which proves nothing against someone who can rewrite the
     * file (the result says key_trusted = false). */
    const char *public_key;
    bool require_checkpoint; /* no checkpoint at all makes the trail invalid */
    uint64_t min_seq;        /* the trail must reach this seq (known from elsewhere); 0 = any */
} agc_audit_verify_opts;

#define AGC_AUDIT_VERIFY_OPTS_VERSION 1
#define AGC_AUDIT_VERIFY_OPTS_INIT                                                                 \
    {                                                                                              \
        AGC_AUDIT_VERIFY_OPTS_VERSION, NULL, false, 0                                              \
    }

typedef struct agc_audit_verify_result {
    bool ok;                            /* the whole trail verified */
    uint64_t records;                   /* records read */
    uint64_t last_seq;                  /* seq of the last good record */
    char last_hash[AGC_AUDIT_HEX_SIZE]; /* its hash ("" when none) */
    uint64_t checkpoints;               /* checkpoint signatures checked */
    uint64_t last_checkpoint;           /* seq of the last good checkpoint (0 = none) */
    bool key_trusted;                   /* signatures were checked against opts.public_key */
    uint64_t bad_seq;  /* seq of the first bad record (0 when ok or not a record) */
    char message[320]; /* "valid" or the first problem: "record 42: hash mismatch ..." */
} agc_audit_verify_result;

/*
 * Verifies the committed records of a (after flushing it): seq 1..n without
 * gaps, each hash, each prev_hash, each checkpoint's hash and signature, and
 * that no checkpoint lies beyond the last record (a cut-off tail). Fills
 * *res; returns AGC_OK whenever the check ran, valid or not (res->ok).
 * Errors: AGC_EINVAL (opts version, malformed public key), AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_audit_verify(agc_audit_verify_result *res, agc_audit *a,
                                          const agc_audit_verify_opts *opts);
/*
 * The same for a file: an audit database (recognised by its SQLite header,
 * opened read-only) or a JSONL export (records in file order, checkpoint
 * lines first). Errors: AGC_ENOTFOUND, AGC_EIO naming path, others as above.
 */
AGC_NODISCARD agc_status agc_audit_verify_file(agc_audit_verify_result *res, const char *path,
                                               const agc_audit_verify_opts *opts, agc_ctx *ctx);

/* ---- event-bus sink ------------------------------------------------------------- */

/* The events the sink records; pass it as the mask to agc_event_bus_add_sink. */
#define AGC_AUDIT_EVENT_MASK                                                                       \
    (AGC_EVENT_BIT(AGC_EVENT_RUN_STARTED) | AGC_EVENT_BIT(AGC_EVENT_RUN_FINISHED) |                \
     AGC_EVENT_BIT(AGC_EVENT_MODEL_RESPONSE) | AGC_EVENT_BIT(AGC_EVENT_TOOL_CALL) |                \
     AGC_EVENT_BIT(AGC_EVENT_TOOL_RESULT) | AGC_EVENT_BIT(AGC_EVENT_TOOL_DENIED) |                 \
     AGC_EVENT_BIT(AGC_EVENT_APPROVAL_DECIDED) |                                                   \
     AGC_EVENT_BIT(AGC_EVENT_CUSTOM)) /* only mcp.* sessions/requests and sandbox.violation */

typedef struct agc_audit_sink_opts {
    unsigned version;     /* AGC_AUDIT_SINK_OPTS_VERSION */
    const char *actor;    /* actor when the event names no agent (NULL: "agentc"); copied */
    const char *subject;  /* data subject of every record (NULL: none); copied */
    bool include_content; /* keep run input, tool arguments and output; default: their
                             SHA-256 and length only */
    /* version 2: per-field policies {member: "keep"|"redact"|"hash"|"drop"}
     * applied to every payload at any depth (agc_privacy_apply_fields);
     * NULL: none. Copied. */
    const json_t *fields;
} agc_audit_sink_opts;

#define AGC_AUDIT_SINK_OPTS_VERSION 2
#define AGC_AUDIT_SINK_OPTS_INIT                                                                   \
    {                                                                                              \
        AGC_AUDIT_SINK_OPTS_VERSION, NULL, NULL, false, NULL                                       \
    }

/*
 * An event sink that turns run.started/finished, model.response ("model.call"),
 * tool.call, tool.result, tool.denied ("policy.denied", "sandbox.violation"
 * or "tool.denied") and approval.decided into records of a (borrowed: it must
 * outlive the sink); other events are ignored. Flushing the sink flushes a.
 * docs/audit.md lists the mapping. Errors: AGC_EINVAL (opts), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_audit_sink_new(agc_event_sink **out, agc_audit *a,
                                            const agc_audit_sink_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
