/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The SQLite session-store backend (schema in docs/sessions.md). WAL journal,
 * foreign keys on, every write in a BEGIN IMMEDIATE transaction, so several
 * processes can share one file and a step is on disk (in the WAL) when
 * step_append returns. One mutex per store serialises whole operations on
 * the connection (opened FULLMUTEX), which also guards the prepared-statement
 * cache. It does not redact or check names: the wrapper in store.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/store.h"
#include "store/store_int.h"

#define SCHEMA_VERSION 1

/* Version 1 of the schema; later versions add migrations below, never edit this. */
static const char SCHEMA_V1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE runs("
    " id TEXT PRIMARY KEY, agent TEXT, status TEXT, task TEXT, parent_id TEXT,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX runs_by_created ON runs(created_ms);"
    "CREATE INDEX runs_by_status ON runs(status, created_ms);"
    "CREATE INDEX runs_by_agent ON runs(agent, created_ms);"
    "CREATE INDEX runs_by_parent ON runs(parent_id, created_ms);"
    "CREATE TABLE steps("
    " run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, kind TEXT NOT NULL, time_ms INTEGER NOT NULL, data TEXT NOT NULL,"
    " PRIMARY KEY(run_id, seq)) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES('schema_version', '1');";

/*
 * Migrations: MIGRATIONS[v] turns schema version v into v + 1 (run inside the
 * opening transaction). Empty while there is only version 1.
 */
static const char *const MIGRATIONS[SCHEMA_VERSION] = {NULL};

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_RUN_INSERT,
    S_RUN_DOC,
    S_RUN_UPDATE,
    S_RUN_DELETE,
    S_RUN_EXISTS,
    S_STEP_NEXT,
    S_STEP_INSERT,
    S_STEPS_LOAD,
    S_LIST, /* 12 variants: status (2) x agent (2) x parent (none, value, IS NULL) */
    S_COUNT = S_LIST + 12
};

static const char *const SQL[S_LIST] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_RUN_INSERT] = "INSERT INTO runs(id, agent, status, task, parent_id, created_ms, "
                     "updated_ms, doc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_RUN_DOC] = "SELECT doc FROM runs WHERE id = ?1",
    [S_RUN_UPDATE] = "UPDATE runs SET agent = ?2, status = ?3, task = ?4, parent_id = ?5, "
                     "updated_ms = ?6, doc = ?7 WHERE id = ?1",
    [S_RUN_DELETE] = "DELETE FROM runs WHERE id = ?1",
    [S_RUN_EXISTS] = "SELECT 1 FROM runs WHERE id = ?1",
    [S_STEP_NEXT] = "SELECT EXISTS(SELECT 1 FROM runs WHERE id = ?1),"
                    " (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE run_id = ?1)",
    [S_STEP_INSERT] = "INSERT INTO steps(run_id, seq, kind, time_ms, data) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_STEPS_LOAD] = "SELECT seq, kind, time_ms, data FROM steps WHERE run_id = ?1 AND seq > ?2 "
                     "ORDER BY seq",
};

typedef struct sq_store {
    agc_ctx *ctx; /* the opening ctx: owns this struct and path */
    sqlite3 *db;
    char *path;
    int busy_ms;
    pthread_mutex_t mu; /* one operation at a time; guards stmt[] */
    sqlite3_stmt *stmt[S_COUNT];
} sq_store;

/* ---- errors and statements ------------------------------------------------------ */

/* Maps an SQLite failure to a status with the path, what failed and SQLite's message. */
static agc_status db_error(sq_store *s, int rc, const char *what, agc_ctx *ctx)
{
    int prim = rc & 0xFF;
    if (prim == SQLITE_NOMEM)
        return agc_error_set(ctx, AGC_ENOMEM, "store", "%s: SQLite ran out of memory (%s)", s->path,
                             what);
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return agc_error_set(ctx, AGC_EBUSY, "store",
                             "%s: %s: the database stayed locked by another connection for "
                             "%d ms (%s); retry, or raise busy_timeout_ms",
                             s->path, what, s->busy_ms, msg);
    return agc_error_set(ctx, AGC_EIO, "store", "%s: %s: %s", s->path, what, msg);
}

/* The cached statement id, prepared on first use (mutex held). */
static agc_status stmt_get(sq_store *s, int id, const char *sql, sqlite3_stmt **out, agc_ctx *ctx)
{
    *out = NULL;
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, sql ? sql : SQL[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
        if (rc != SQLITE_OK)
            return db_error(s, rc, "preparing a statement", ctx);
    }
    *out = s->stmt[id];
    return AGC_OK;
}

static void stmt_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Runs a cached statement that returns no rows. */
static agc_status exec_stmt(sq_store *s, int id, const char *what, agc_ctx *ctx)
{
    sqlite3_stmt *st;
    agc_status r = stmt_get(s, id, NULL, &st, ctx);
    if (r != AGC_OK)
        return r;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = db_error(s, rc, what, ctx);
    stmt_done(st);
    return r;
}

static agc_status tx_begin(sq_store *s, agc_ctx *ctx)
{
    return exec_stmt(s, S_BEGIN, "starting a write transaction", ctx);
}

/* Commits when st is AGC_OK, else rolls back; returns the outcome. */
static agc_status tx_end(sq_store *s, agc_status st, agc_ctx *ctx)
{
    if (st == AGC_OK)
        st = exec_stmt(s, S_COMMIT, "committing", ctx);
    if (st != AGC_OK && !sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *rb = NULL;
        if (stmt_get(s, S_ROLLBACK, NULL, &rb, ctx) == AGC_OK) {
            sqlite3_step(rb);
            stmt_done(rb);
        } else {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    return st;
}

static agc_status bind_text(sq_store *s, sqlite3_stmt *st, int i, const char *v, size_t len,
                            agc_ctx *ctx)
{
    int rc = v ? sqlite3_bind_text64(st, i, v, len, SQLITE_STATIC, SQLITE_UTF8)
               : sqlite3_bind_null(st, i);
    return rc == SQLITE_OK ? AGC_OK : db_error(s, rc, "binding a value", ctx);
}

static agc_status bind_str(sq_store *s, sqlite3_stmt *st, int i, const char *v, agc_ctx *ctx)
{
    return bind_text(s, st, i, v, v ? strlen(v) : 0, ctx);
}

static agc_status bind_int(sq_store *s, sqlite3_stmt *st, int i, int64_t v, agc_ctx *ctx)
{
    int rc = sqlite3_bind_int64(st, i, v);
    return rc == SQLITE_OK ? AGC_OK : db_error(s, rc, "binding a value", ctx);
}

static agc_status not_found(sq_store *s, const char *run_id, agc_ctx *ctx)
{
    return agc_error_set(ctx, AGC_ENOTFOUND, "store", "no run \"%s\" in the session store %s",
                         run_id, s->path);
}

/* Parses a stored JSON text; corruption is AGC_EIO. */
static agc_status parse_stored(json_t **out, sqlite3_stmt *st, int col, sq_store *s,
                               const char *what, agc_ctx *ctx)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!text)
        return sqlite3_errcode(s->db) == SQLITE_NOMEM
                   ? agc_error_set(ctx, AGC_ENOMEM, "store", "%s: SQLite ran out of memory",
                                   s->path)
                   : agc_error_set(ctx, AGC_EIO, "store", "%s: %s is missing", s->path, what);
    agc_status r = agc_json_parse(out, text, len, what, ctx);
    if (r == AGC_EPARSE)
        r = agc_error_wrap(ctx, AGC_EIO, "store", "%s: %s holds malformed JSON", s->path, what);
    return r;
}

/* ---- runs ---------------------------------------------------------------------------- */

/* Binds the columns derived from a run document: ?first.. = agent, status, task, parent_id. */
static agc_status bind_columns(sq_store *s, sqlite3_stmt *st, int first, const json_t *doc,
                               agc_ctx *ctx)
{
    static const char *const cols[] = {"agent", "status", "task", "parent_id"};
    agc_status r = AGC_OK;
    for (int i = 0; r == AGC_OK && i < 4; i++)
        r = bind_str(s, st, first + i, agc_json_str(doc, cols[i], NULL), ctx);
    return r;
}

/* Sets created_ms / updated_ms on doc (a private copy). */
static agc_status set_times(json_t *doc, bool created, int64_t now, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    int rc = 0;
    if (created)
        rc = json_object_set_new(doc, "created_ms", json_integer(now));
    if (rc == 0)
        rc = json_object_set_new(doc, "updated_ms", json_integer(now));
    agc_json_leave(prev);
    return rc == 0 ? AGC_OK : agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory");
}

static agc_status sq_run_create(void *self, const json_t *run, agc_ctx *ctx)
{
    sq_store *s = self;
    const char *id = agc_json_str(run, "id", NULL);
    int64_t now = agc_clock_now_ms(ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *doc = json_copy((json_t *)run);
    agc_json_leave(prev);
    if (!doc)
        return agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory");
    char *text = NULL;
    size_t len = 0;
    agc_status r = set_times(doc, true, now, ctx);
    if (r == AGC_OK)
        r = agc_json_canonical(&text, &len, doc, ctx);
    if (r != AGC_OK) {
        json_decref(doc);
        return r;
    }
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    r = stmt_get(s, S_RUN_INSERT, NULL, &st, ctx);
    if (r == AGC_OK)
        r = bind_str(s, st, 1, id, ctx);
    if (r == AGC_OK)
        r = bind_columns(s, st, 2, doc, ctx);
    if (r == AGC_OK)
        r = bind_int(s, st, 6, now, ctx);
    if (r == AGC_OK)
        r = bind_int(s, st, 7, now, ctx);
    if (r == AGC_OK)
        r = bind_text(s, st, 8, text, len, ctx);
    if (r == AGC_OK) {
        /* a single INSERT commits on its own (autocommit) */
        int rc = sqlite3_step(st);
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            r = agc_error_set(ctx, AGC_EEXISTS, "store",
                              "run \"%s\" already exists in the session store %s; pick a new id "
                              "or update it",
                              id, s->path);
        else if (rc != SQLITE_DONE)
            r = db_error(s, rc, "creating a run", ctx);
    }
    stmt_done(st);
    pthread_mutex_unlock(&s->mu);
    agc_free(ctx, text);
    json_decref(doc);
    return r;
}

/* Reads run_id's document into *out (mutex held). */
static agc_status load_doc(sq_store *s, const char *run_id, json_t **out, agc_ctx *ctx)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    agc_status r = stmt_get(s, S_RUN_DOC, NULL, &st, ctx);
    if (r == AGC_OK)
        r = bind_str(s, st, 1, run_id, ctx);
    if (r == AGC_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            r = parse_stored(out, st, 0, s, "run document", ctx);
        else if (rc == SQLITE_DONE)
            r = not_found(s, run_id, ctx);
        else
            r = db_error(s, rc, "reading a run", ctx);
    }
    stmt_done(st);
    return r;
}

static agc_status sq_run_update(void *self, const char *run_id, const json_t *patch, agc_ctx *ctx)
{
    sq_store *s = self;
    int64_t now = agc_clock_now_ms(ctx);
    json_t *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    agc_status r = tx_begin(s, ctx);
    if (r == AGC_OK) {
        r = load_doc(s, run_id, &doc, ctx);
        if (r == AGC_OK && !json_is_object(doc))
            r = agc_error_set(ctx, AGC_EIO, "store", "%s: run %s is not a JSON object", s->path,
                              run_id);
        if (r == AGC_OK)
            r = agc__store_merge_patch(doc, patch, ctx);
        if (r == AGC_OK)
            r = set_times(doc, false, now, ctx);
        if (r == AGC_OK)
            r = agc_json_canonical(&text, &len, doc, ctx);
        if (r == AGC_OK)
            r = stmt_get(s, S_RUN_UPDATE, NULL, &st, ctx);
        if (r == AGC_OK)
            r = bind_str(s, st, 1, run_id, ctx);
        if (r == AGC_OK)
            r = bind_columns(s, st, 2, doc, ctx);
        if (r == AGC_OK)
            r = bind_int(s, st, 6, now, ctx);
        if (r == AGC_OK)
            r = bind_text(s, st, 7, text, len, ctx);
        if (r == AGC_OK) {
            int rc = sqlite3_step(st);
            if (rc != SQLITE_DONE)
                r = db_error(s, rc, "updating a run", ctx);
        }
        stmt_done(st);
        r = tx_end(s, r, ctx);
    }
    pthread_mutex_unlock(&s->mu);
    agc_free(ctx, text);
    json_decref(doc);
    return r;
}

static agc_status sq_run_get(void *self, const char *run_id, json_t **out, agc_ctx *ctx)
{
    sq_store *s = self;
    pthread_mutex_lock(&s->mu);
    agc_status r = load_doc(s, run_id, out, ctx);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* The list statement for a filter shape (mutex held). */
static agc_status list_stmt(sq_store *s, bool status, bool agent, int parent, sqlite3_stmt **out,
                            agc_ctx *ctx)
{
    int variant = (status ? 1 : 0) + (agent ? 2 : 0) + parent * 4;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT doc FROM runs WHERE 1%s%s%s ORDER BY created_ms DESC, id DESC"
             " LIMIT :limit",
             status ? " AND status = :status" : "", agent ? " AND agent = :agent" : "",
             parent == 1   ? " AND parent_id = :parent"
             : parent == 2 ? " AND parent_id IS NULL"
                           : "");
    return stmt_get(s, S_LIST + variant, sql, out, ctx);
}

static agc_status bind_named(sq_store *s, sqlite3_stmt *st, const char *name, const char *v,
                             agc_ctx *ctx)
{
    int i = sqlite3_bind_parameter_index(st, name);
    return i > 0 ? bind_str(s, st, i, v, ctx) : AGC_OK;
}

static agc_status sq_run_list(void *self, const json_t *filter, json_t **out, agc_ctx *ctx)
{
    sq_store *s = self;
    *out = NULL;
    const char *status = agc_json_str(filter, "status", NULL);
    const char *agent = agc_json_str(filter, "agent", NULL);
    const json_t *pv = json_object_get(filter, "parent_id");
    int parent = json_is_string(pv) ? 1 : json_is_null(pv) ? 2 : 0;
    long long limit = agc_json_int(filter, "limit", -1);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *arr = json_array();
    agc_json_leave(prev);
    if (!arr)
        return agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory");
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    agc_status r = list_stmt(s, status, agent, parent, &st, ctx);
    if (r == AGC_OK)
        r = bind_named(s, st, ":status", status, ctx);
    if (r == AGC_OK)
        r = bind_named(s, st, ":agent", agent, ctx);
    if (r == AGC_OK)
        r = bind_named(s, st, ":parent", json_string_value(pv), ctx);
    if (r == AGC_OK)
        r = bind_int(s, st, sqlite3_bind_parameter_index(st, ":limit"), limit, ctx);
    while (r == AGC_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            r = db_error(s, rc, "listing runs", ctx);
            break;
        }
        json_t *doc = NULL;
        r = parse_stored(&doc, st, 0, s, "run document", ctx);
        if (r == AGC_OK) {
            prev = agc_json_enter(ctx);
            if (json_array_append_new(arr, doc) != 0)
                r = agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory listing runs");
            agc_json_leave(prev);
        }
    }
    stmt_done(st);
    pthread_mutex_unlock(&s->mu);
    if (r != AGC_OK) {
        json_decref(arr);
        return r;
    }
    *out = arr;
    return AGC_OK;
}

static agc_status sq_run_delete(void *self, const char *run_id, agc_ctx *ctx)
{
    sq_store *s = self;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    agc_status r = stmt_get(s, S_RUN_DELETE, NULL, &st, ctx);
    if (r == AGC_OK)
        r = bind_str(s, st, 1, run_id, ctx);
    if (r == AGC_OK) {
        /* one statement: the cascade to steps commits with it */
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            r = db_error(s, rc, "deleting a run", ctx);
        else if (sqlite3_changes(s->db) == 0)
            r = not_found(s, run_id, ctx);
    }
    stmt_done(st);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ---- steps ------------------------------------------------------------------------- */

static agc_status sq_step_append(void *self, const char *run_id, const char *kind,
                                 const json_t *data, int64_t *seq_out, agc_ctx *ctx)
{
    sq_store *s = self;
    if (seq_out)
        *seq_out = 0;
    char *text = NULL;
    size_t len = 0;
    agc_status r = agc_json_canonical(&text, &len, data, ctx);
    if (r != AGC_OK)
        return r;
    int64_t now = agc_clock_now_ms(ctx), seq = 0;
    pthread_mutex_lock(&s->mu);
    r = tx_begin(s, ctx);
    if (r == AGC_OK) {
        sqlite3_stmt *st = NULL;
        r = stmt_get(s, S_STEP_NEXT, NULL, &st, ctx);
        if (r == AGC_OK)
            r = bind_str(s, st, 1, run_id, ctx);
        if (r == AGC_OK) {
            int rc = sqlite3_step(st);
            if (rc != SQLITE_ROW)
                r = db_error(s, rc, "numbering a step", ctx);
            else if (sqlite3_column_int(st, 0) == 0)
                r = not_found(s, run_id, ctx);
            else
                seq = sqlite3_column_int64(st, 1);
        }
        stmt_done(st);
        st = NULL;
        if (r == AGC_OK)
            r = stmt_get(s, S_STEP_INSERT, NULL, &st, ctx);
        if (r == AGC_OK)
            r = bind_str(s, st, 1, run_id, ctx);
        if (r == AGC_OK)
            r = bind_int(s, st, 2, seq, ctx);
        if (r == AGC_OK)
            r = bind_str(s, st, 3, kind, ctx);
        if (r == AGC_OK)
            r = bind_int(s, st, 4, now, ctx);
        if (r == AGC_OK)
            r = bind_text(s, st, 5, text, len, ctx);
        if (r == AGC_OK) {
            int rc = sqlite3_step(st);
            if (rc != SQLITE_DONE)
                r = db_error(s, rc, "appending a step", ctx);
        }
        stmt_done(st);
        r = tx_end(s, r, ctx);
    }
    pthread_mutex_unlock(&s->mu);
    agc_free(ctx, text);
    if (r == AGC_OK && seq_out)
        *seq_out = seq;
    return r;
}

/* Appends one step row as {"seq","kind","time_ms","data"} to arr. */
static agc_status add_step(json_t *arr, sqlite3_stmt *st, sq_store *s, agc_ctx *ctx)
{
    json_t *data = NULL;
    agc_status r = parse_stored(&data, st, 3, s, "step data", ctx);
    if (r != AGC_OK)
        return r;
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *o = json_object();
    int rc = json_object_set_new(o, "seq", json_integer(sqlite3_column_int64(st, 0)));
    rc |= json_object_set_new(o, "kind", json_string(kind ? kind : ""));
    rc |= json_object_set_new(o, "time_ms", json_integer(sqlite3_column_int64(st, 2)));
    rc |= json_object_set_new(o, "data", data);
    rc |= json_array_append_new(arr, o);
    agc_json_leave(prev);
    return rc == 0 ? AGC_OK
                   : agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory loading steps");
}

static agc_status sq_steps_load(void *self, const char *run_id, int64_t after_seq, json_t **out,
                                agc_ctx *ctx)
{
    sq_store *s = self;
    *out = NULL;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *arr = json_array();
    agc_json_leave(prev);
    if (!arr)
        return agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory");
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    agc_status r = stmt_get(s, S_STEPS_LOAD, NULL, &st, ctx);
    if (r == AGC_OK)
        r = bind_str(s, st, 1, run_id, ctx);
    if (r == AGC_OK)
        r = bind_int(s, st, 2, after_seq, ctx);
    while (r == AGC_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc == SQLITE_ROW)
            r = add_step(arr, st, s, ctx);
        else
            r = db_error(s, rc, "loading steps", ctx);
    }
    stmt_done(st);
    if (r == AGC_OK && json_array_size(arr) == 0) {
        /* no steps: tell an empty run from a missing one */
        st = NULL;
        r = stmt_get(s, S_RUN_EXISTS, NULL, &st, ctx);
        if (r == AGC_OK)
            r = bind_str(s, st, 1, run_id, ctx);
        if (r == AGC_OK) {
            int rc = sqlite3_step(st);
            if (rc == SQLITE_DONE)
                r = not_found(s, run_id, ctx);
            else if (rc != SQLITE_ROW)
                r = db_error(s, rc, "loading steps", ctx);
        }
        stmt_done(st);
    }
    pthread_mutex_unlock(&s->mu);
    if (r != AGC_OK) {
        json_decref(arr);
        return r;
    }
    *out = arr;
    return AGC_OK;
}

/* ---- open / close ------------------------------------------------------------------- */

static void sq_destroy(void *self)
{
    sq_store *s = self;
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    agc_free(s->ctx, s->path);
    agc_free(s->ctx, s);
}

/* Deleted rows leave no old page image: secure_delete zeroed freed cells; the WAL
 * (which holds older images) is checkpointed and truncated, and VACUUM rebuilds the file. */
static agc_status sq_compact(void *self, agc_ctx *ctx)
{
    sq_store *s = self;
    pthread_mutex_lock(&s->mu);
    int rc = sqlite3_exec(
        s->db, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);", NULL,
        NULL, NULL);
    agc_status r = rc == SQLITE_OK ? AGC_OK : db_error(s, rc, "compacting after a delete", ctx);
    pthread_mutex_unlock(&s->mu);
    return r;
}

static const agc_store_ops SQLITE_OPS = {
    .version = AGC_STORE_OPS_VERSION,
    .name = "sqlite",
    .run_create = sq_run_create,
    .run_update = sq_run_update,
    .run_get = sq_run_get,
    .run_list = sq_run_list,
    .run_delete = sq_run_delete,
    .step_append = sq_step_append,
    .steps_load = sq_steps_load,
    .destroy = sq_destroy,
    .compact = sq_compact,
};

/* mkdir -p of path's parent directories (mode 0700 for the ones created). */
static agc_status make_parents(const char *path, agc_ctx *ctx)
{
    char *dir = agc_strdup(ctx, path);
    if (!dir)
        return AGC_ENOMEM;
    agc_status r = AGC_OK;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; r == AGC_OK; p++) {
            bool end = *p == '\0';
            if (*p != '/' && !end)
                continue;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                r = agc_error_set(ctx, AGC_EIO, "store", "cannot create directory %s for %s: %s",
                                  dir, path, strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    agc_free(ctx, dir);
    return r;
}

/* Creates the file with mode 0600 when missing (before SQLite, so the umask cannot widen it). */
static agc_status create_file(const char *path, agc_ctx *ctx)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return agc_error_set(ctx, errno == EACCES || errno == EPERM ? AGC_EPERM : AGC_EIO, "store",
                             "cannot open the session store %s: %s", path, strerror(errno));
    close(fd);
    return AGC_OK;
}

/* Runs a one-integer query: *out and *found = true, or *found = false when no row. */
static agc_status query_int(sq_store *s, const char *sql, int64_t *out, bool *found, agc_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            *found = true;
            rc = SQLITE_DONE;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AGC_OK : db_error(s, rc, "reading the schema", ctx);
}

/* Creates, checks or migrates the schema inside one write transaction. */
static agc_status ensure_schema(sq_store *s, agc_ctx *ctx)
{
    agc_status r = tx_begin(s, ctx);
    if (r != AGC_OK)
        return r;
    int64_t v = 0, tables = 0;
    bool found = false;
    r = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                  &v, &found, ctx);
    if (r == AGC_OK && v == 0) {
        r = query_int(s, "SELECT count(*) FROM sqlite_master", &tables, &found, ctx);
        if (r == AGC_OK && tables > 0)
            r = agc_error_set(ctx, AGC_EINVAL, "store",
                              "%s is an SQLite database but not an agentc session store (no meta "
                              "table); choose another path",
                              s->path);
        else if (r == AGC_OK) {
            int rc = sqlite3_exec(s->db, SCHEMA_V1, NULL, NULL, NULL);
            if (rc != SQLITE_OK)
                r = db_error(s, rc, "creating the schema", ctx);
        }
        return tx_end(s, r, ctx);
    }
    if (r == AGC_OK)
        r = query_int(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'", &v,
                      &found, ctx);
    if (r == AGC_OK && (!found || v < 1))
        r = agc_error_set(ctx, AGC_EIO, "store", "%s: the meta table has no valid schema_version",
                          s->path);
    if (r == AGC_OK && v > SCHEMA_VERSION)
        r = agc_error_set(ctx, AGC_EUNSUPPORTED, "store",
                          "%s uses session-store schema version %lld, newer than this agentc "
                          "understands (%d); upgrade agentc or use another path",
                          s->path, (long long)v, SCHEMA_VERSION);
    for (; r == AGC_OK && v < SCHEMA_VERSION; v++) {
        int rc = sqlite3_exec(s->db, MIGRATIONS[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            char sql[96];
            snprintf(sql, sizeof sql, "UPDATE meta SET value = '%lld' WHERE key = 'schema_version'",
                     (long long)v + 1);
            rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        }
        if (rc != SQLITE_OK)
            r = db_error(s, rc, "migrating the schema", ctx);
    }
    return tx_end(s, r, ctx);
}

/* Pragmas: WAL, synchronous, foreign keys. */
static agc_status configure(sq_store *s, agc_store_sync sync, agc_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    /* switching a new file to WAL takes a lock that the busy handler does not
     * always wait for: retry while another process holds it (up to 5 s) */
    for (int waited = 0;
         rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
         waited += 10) {
        if (rc != SQLITE_OK) {
            if (waited >= 5000)
                break;
            sqlite3_reset(st);
            sqlite3_sleep(10);
        }
        rc = sqlite3_step(st);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
    }
    if (rc == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_CANTOPEN;
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return agc_error_set(ctx, AGC_EIO, "store",
                                 "%s: cannot switch to the WAL journal (mode stays %s); is it on "
                                 "a network file system?",
                                 s->path, mode ? mode : "unknown");
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return db_error(s, rc, "enabling the WAL journal", ctx);
    rc = sqlite3_exec(s->db,
                      sync == AGC_STORE_SYNC_FULL
                          ? "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                            " PRAGMA secure_delete = ON"
                          : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                            " PRAGMA secure_delete = ON",
                      NULL, NULL, NULL);
    return rc == SQLITE_OK ? AGC_OK : db_error(s, rc, "configuring the connection", ctx);
}

agc_status agc_store_open_sqlite(agc_store **out, const char *path,
                                 const agc_sqlite_store_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_sqlite_store_opts dflt = AGC_SQLITE_STORE_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_SQLITE_STORE_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "store",
                             "agc_sqlite_store_opts version %u is not supported (%d)",
                             opts->version, AGC_SQLITE_STORE_OPTS_VERSION);
    if (opts->sync != AGC_STORE_SYNC_NORMAL && opts->sync != AGC_STORE_SYNC_FULL)
        return agc_error_set(ctx, AGC_EINVAL, "store", "unknown sync mode %d", (int)opts->sync);
    if (!path || !*path)
        return agc_error_set(ctx, AGC_EINVAL, "store", "the session store path is empty");
    agc_status r = make_parents(path, ctx);
    if (r == AGC_OK)
        r = create_file(path, ctx);
    if (r != AGC_OK)
        return r;
    sq_store *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->ctx = ctx;
    s->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 0;
    s->path = agc_strdup(ctx, path);
    if (!s->path || pthread_mutex_init(&s->mu, NULL) != 0) {
        agc_free(ctx, s->path);
        agc_free(ctx, s);
        return agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory opening %s", path);
    }
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
                                 SQLITE_OPEN_EXRESCODE,
                             NULL);
    r = rc == SQLITE_OK ? AGC_OK : db_error(s, rc, "opening", ctx);
    if (r == AGC_OK) {
        sqlite3_busy_timeout(s->db, s->busy_ms);
        r = configure(s, opts->sync, ctx);
    }
    if (r == AGC_OK)
        r = ensure_schema(s, ctx);
    if (r != AGC_OK) {
        sq_destroy(s);
        return r;
    }
    return agc_store_new(out, &SQLITE_OPS, s, ctx);
}
