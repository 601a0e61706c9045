/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Durable sessions. A run is a row (id, agent, status, task, timestamps,
 * summary) plus an append-only log of steps (kind + JSON payload). The
 * runtime commits every step before its next action and rebuilds a run's
 * state by reading its steps back, so a process killed at any moment loses no
 * completed step. The store does not interpret kinds or payloads. SQLite (WAL)
 * is the embedded backend; the ops table lets a PostgreSQL backend plug in
 * without touching the runtime. Every payload passes through the ctx's
 * redactor before it is written.
 */
#ifndef AGENTC_STORE_H
#define AGENTC_STORE_H

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_store agc_store;

/*
 * Run JSON objects have these members (the store keeps unknown ones too):
 *   "id" (string, required), "agent" (string), "status" (string: "running",
 *   "awaiting_approval", "finished", "failed", "canceled", "interrupted"),
 *   "task" (string), "parent_id" (string, for sub-agent runs), "created_ms",
 *   "updated_ms" (integers, set by the store), "summary" (object: usage, cost,
 *   reason, turns...).
 * Step JSON objects read back: {"seq": n (1, 2, ... per run), "kind": string,
 *   "time_ms": integer, "data": payload}.
 */

typedef struct agc_store_ops {
    unsigned version; /* AGC_STORE_OPS_VERSION */
    const char *name; /* "sqlite", ... */
    agc_status (*run_create)(void *self, const json_t *run, agc_ctx *ctx);
    /* Merges the members of patch into the run (null deletes a member). */
    agc_status (*run_update)(void *self, const char *run_id, const json_t *patch, agc_ctx *ctx);
    agc_status (*run_get)(void *self, const char *run_id, json_t **out, agc_ctx *ctx);
    /* filter: {"status": s, "agent": a, "parent_id": p, "limit": n} (all optional); newest first.
     */
    agc_status (*run_list)(void *self, const json_t *filter, json_t **out, agc_ctx *ctx);
    /* Deletes the run and its steps. */
    agc_status (*run_delete)(void *self, const char *run_id, agc_ctx *ctx);
    /* Appends a step durably (committed before it returns); *seq_out may be NULL. */
    agc_status (*step_append)(void *self, const char *run_id, const char *kind, const json_t *data,
                              int64_t *seq_out, agc_ctx *ctx);
    /* Steps with seq > after_seq, in order, as a JSON array. */
    agc_status (*steps_load)(void *self, const char *run_id, int64_t after_seq, json_t **out,
                             agc_ctx *ctx);
    void (*destroy)(void *self);
    /* version 2 (optional, may be NULL): makes deleted content unrecoverable
     * from the backend's files (SQLite: WAL checkpointed and truncated, VACUUM). */
    agc_status (*compact)(void *self, agc_ctx *ctx);
} agc_store_ops;

#define AGC_STORE_OPS_VERSION 2

/* Wraps a backend (takes ownership of self, also on failure). */
AGC_NODISCARD agc_status agc_store_new(agc_store **out, const agc_store_ops *ops, void *self,
                                       agc_ctx *ctx);

typedef enum agc_store_sync {
    AGC_STORE_SYNC_NORMAL = 0, /* WAL + synchronous=NORMAL: survives a killed process */
    AGC_STORE_SYNC_FULL,       /* synchronous=FULL: also survives power loss */
} agc_store_sync;

typedef struct agc_sqlite_store_opts {
    unsigned version; /* AGC_SQLITE_STORE_OPTS_VERSION */
    agc_store_sync sync;
    int busy_timeout_ms; /* waiting for another process's write lock; default 5000 */
} agc_sqlite_store_opts;

#define AGC_SQLITE_STORE_OPTS_VERSION 1
#define AGC_SQLITE_STORE_OPTS_INIT                                                                 \
    {                                                                                              \
        AGC_SQLITE_STORE_OPTS_VERSION, AGC_STORE_SYNC_NORMAL, 5000                                 \
    }

/*
 * Opens (creating when missing, with parent directories, mode 0600) an SQLite
 * session store at path. Several processes may use one file. AGC_EIO names
 * the path and SQLite's message; a file from a newer schema version is refused
 * (AGC_EUNSUPPORTED); an SQLite file that is not a session store is AGC_EINVAL.
 * opts NULL means AGC_SQLITE_STORE_OPTS_INIT. *out is the caller's
 * (agc_store_close). The store is safe to call from several threads, but its
 * wrappers use the ctx given here, which serves one thread at a time: share a
 * store only with external serialisation, or open one store (and ctx) per
 * thread. Schema, JSON shapes and guarantees: docs/sessions.md.
 */
AGC_NODISCARD agc_status agc_store_open_sqlite(agc_store **out, const char *path,
                                               const agc_sqlite_store_opts *opts, agc_ctx *ctx);
/*
 * The default store path: $AGENTC_SESSIONS, else $XDG_DATA_HOME/agentc/sessions.db,
 * else ~/.local/share/agentc/sessions.db. Caller frees (agc_free).
 */
char *agc_store_default_path(agc_ctx *ctx);

/* Closes the store; NULL is a no-op. */
void agc_store_close(agc_store *s);

/*
 * Wrappers over the ops (argument checks, redaction of payloads, errors named).
 * Run ids and step kinds: 1..128 bytes of UTF-8 without control characters,
 * else AGC_EINVAL. Runs and payloads are borrowed; what is stored is their
 * redacted canonical form. Backend failures: AGC_EIO (path + SQLite message),
 * AGC_EBUSY (locked past the busy timeout), AGC_ENOMEM.
 *
 * run_create: AGC_EEXISTS when the id is taken; created_ms/updated_ms are set.
 * run_update: RFC 7396 merge patch (null deletes, objects merge recursively);
 *   "id" must match, created_ms/updated_ms are refused; AGC_ENOTFOUND.
 * run_list: filter NULL or {"status", "agent", "parent_id" (string, or null
 *   for top-level runs), "limit"}; *out is an array of run objects, newest first.
 * run_delete: also deletes the run's steps; AGC_ENOTFOUND.
 * step_append: data NULL stores null; AGC_ENOTFOUND for an unknown run.
 * steps_load: *out is an array of step objects with seq > after_seq;
 *   AGC_ENOTFOUND for an unknown run.
 */
AGC_NODISCARD agc_status agc_store_run_create(agc_store *s, const json_t *run);
AGC_NODISCARD agc_status agc_store_run_update(agc_store *s, const char *run_id,
                                              const json_t *patch);
/* AGC_ENOTFOUND names the id when there is no such run. *out is the caller's. */
AGC_NODISCARD agc_status agc_store_run_get(agc_store *s, const char *run_id, json_t **out);
AGC_NODISCARD agc_status agc_store_run_list(agc_store *s, const json_t *filter, json_t **out);
AGC_NODISCARD agc_status agc_store_run_delete(agc_store *s, const char *run_id);
AGC_NODISCARD agc_status agc_store_step_append(agc_store *s, const char *run_id, const char *kind,
                                               const json_t *data, int64_t *seq_out);
AGC_NODISCARD agc_status agc_store_steps_load(agc_store *s, const char *run_id, int64_t after_seq,
                                              json_t **out);
/* ---- privacy (docs/audit.md) ------------------------------------------------------ */

typedef struct agc_privacy agc_privacy;

typedef enum agc_retain_content {
    AGC_RETAIN_FULL = 0, /* content stored (after redaction) */
    AGC_RETAIN_REDACTED, /* the same; the caller turned the PII detectors on */
    AGC_RETAIN_NONE      /* prompts, responses, tool arguments and results: only SHA-256 + length */
} agc_retain_content;

/*
 * Privacy settings of this handle. p (borrowed, may be NULL; it must outlive
 * s): the content of every run that names a subject (its "subject" member) is
 * sealed with the subject's key: the run's members other than id, agent,
 * status, parent_id, subject and the times go into an envelope ("sealed"),
 * and so does every step's data; reading them back opens the envelopes, or
 * gives {"erased": true} once the key is erased. subject (copied, may be
 * NULL): runs created through s without a "subject" member get this one.
 * retain: what content is kept at all. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_store_set_privacy(agc_store *s, agc_privacy *p, const char *subject,
                                               agc_retain_content retain);
/*
 * Deletes every run (and its steps) whose subject is subject, then compacts
 * the backend. *n (may be NULL) = runs deleted. Errors as run_list/run_delete.
 */
AGC_NODISCARD agc_status agc_store_erase_subject(agc_store *s, const char *subject, size_t *n);
/*
 * Retention: deletes every run last updated before before_ms (and its steps),
 * then compacts. *n (may be NULL) = runs deleted.
 */
AGC_NODISCARD agc_status agc_store_purge_before(agc_store *s, int64_t before_ms, size_t *n);

/* The ctx the store was opened with. */
agc_ctx *agc_store_ctx(const agc_store *s);

#ifdef __cplusplus
}
#endif
#endif
