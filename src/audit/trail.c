/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Writing the audit trail: opening the SQLite file (WAL, mode 0600), the
 * schema, and appending. Invariant: a record is chained inside one BEGIN
 * IMMEDIATE transaction that reads the last seq and hash and inserts after
 * it, so concurrent writers (threads or processes) never fork the chain and
 * a crash leaves whole transactions only. Records are redacted before they
 * are buffered or written. It does not verify or export (trail_verify.c,
 * trail_export.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "audit/audit_int.h"

static const char SCHEMA_V1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE records("
    " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, actor TEXT, run_id TEXT, subject TEXT,"
    " action TEXT NOT NULL, outcome TEXT NOT NULL, payload TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX records_by_time ON records(time_ms);"
    "CREATE INDEX records_by_run ON records(run_id) WHERE run_id IS NOT NULL;"
    "CREATE INDEX records_by_subject ON records(subject) WHERE subject IS NOT NULL;"
    "CREATE TABLE checkpoints("
    " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, hash TEXT NOT NULL,"
    " public_key TEXT NOT NULL, sig TEXT NOT NULL);"
    "INSERT INTO meta(key, value) VALUES('format', 'agentc-audit'), ('schema_version', '1'),"
    " ('genesis', '" AGC__AUDIT_GENESIS "');";

static const char *const SQL[AGC__AST_COUNT] = {
    [AGC__AST_BEGIN] = "BEGIN IMMEDIATE",
    [AGC__AST_COMMIT] = "COMMIT",
    [AGC__AST_ROLLBACK] = "ROLLBACK",
    [AGC__AST_LAST] = "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
    [AGC__AST_INSERT] = "INSERT INTO records(seq, time_ms, actor, run_id, subject, action, "
                        "outcome, payload, prev_hash, hash) "
                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [AGC__AST_CP_INSERT] = "INSERT INTO checkpoints(seq, time_ms, hash, public_key, sig) "
                           "VALUES(?1, ?2, ?3, ?4, ?5)",
};

void agc_audit_opts_init(agc_audit_opts *opts)
{
    agc_audit_opts d = AGC_AUDIT_OPTS_INIT;
    *opts = d;
}

/* ---- SQLite helpers ------------------------------------------------------------- */

agc_status agc__audit_db_error(sqlite3 *db, const char *path, int rc, const char *what,
                               agc_ctx *ctx)
{
    int prim = rc & 0xFF;
    if (prim == SQLITE_NOMEM)
        return agc_error_set(ctx, AGC_ENOMEM, "audit", "%s: SQLite ran out of memory (%s)", path,
                             what);
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return agc_error_set(ctx, AGC_EBUSY, "audit",
                             "%s: %s: the trail stayed locked by another writer (%s); retry, or "
                             "raise busy_timeout_ms",
                             path, what, msg);
    if (prim == SQLITE_NOTADB)
        return agc_error_set(ctx, AGC_EINVAL, "audit", "%s is not an SQLite database (%s)", path,
                             what);
    if (prim == SQLITE_CANTOPEN)
        return agc_error_set(ctx, AGC_ENOTFOUND, "audit", "%s: cannot open the audit trail (%s)",
                             path, msg);
    return agc_error_set(ctx, AGC_EIO, "audit", "%s: %s: %s", path, what, msg);
}

static agc_status db_err(agc_audit *a, int rc, const char *what)
{
    return agc__audit_db_error(a->db, a->path, rc, what, a->ctx);
}

static agc_status stmt(agc_audit *a, int id, sqlite3_stmt **out)
{
    *out = NULL;
    if (!a->st[id]) {
        int rc =
            sqlite3_prepare_v3(a->db, SQL[id], -1, SQLITE_PREPARE_PERSISTENT, &a->st[id], NULL);
        if (rc != SQLITE_OK)
            return db_err(a, rc, "preparing a statement");
    }
    *out = a->st[id];
    return AGC_OK;
}

static void stmt_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static agc_status exec_id(agc_audit *a, int id, const char *what)
{
    sqlite3_stmt *st = NULL;
    agc_status r = stmt(a, id, &st);
    if (r != AGC_OK)
        return r;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = db_err(a, rc, what);
    stmt_done(st);
    return r;
}

static agc_status tx_end(agc_audit *a, agc_status r)
{
    if (r == AGC_OK)
        r = exec_id(a, AGC__AST_COMMIT, "committing");
    if (r != AGC_OK && !sqlite3_get_autocommit(a->db))
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

static int bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* ---- opening -------------------------------------------------------------------- */

/* mkdir -p of path's parent directories (0700). */
agc_status agc__audit_make_parents(const char *path, agc_ctx *ctx)
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
                r = agc_error_set(ctx, AGC_EIO, "audit", "cannot create directory %s for %s: %s",
                                  dir, path, strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    agc_free(ctx, dir);
    return r;
}

static agc_status query_int(sqlite3 *db, const char *path, const char *sql, int64_t *out,
                            bool *found, agc_ctx *ctx)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            *found = true;
            rc = SQLITE_DONE;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? AGC_OK
                             : agc__audit_db_error(db, path, rc, "reading the schema", ctx);
}

/* Checks an existing trail's format; creates the schema in an empty file when writable. */
static agc_status ensure_schema(sqlite3 *db, const char *path, bool read_only, agc_ctx *ctx)
{
    bool tx = !read_only;
    if (tx) {
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return agc__audit_db_error(db, path, rc, "starting a transaction", ctx);
    }
    int64_t v = 0;
    bool found = false;
    agc_status r = query_int(db, path,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                             "name = 'meta'",
                             &v, &found, ctx);
    if (r == AGC_OK && v == 0) {
        int64_t tables = 0;
        r = query_int(db, path, "SELECT count(*) FROM sqlite_master", &tables, &found, ctx);
        if (r == AGC_OK && (tables > 0 || read_only))
            r = agc_error_set(ctx, AGC_EINVAL, "audit",
                              "%s is not an agentc audit trail (no meta table); choose another "
                              "path",
                              path);
        else if (r == AGC_OK) {
            int rc = sqlite3_exec(db, SCHEMA_V1, NULL, NULL, NULL);
            if (rc != SQLITE_OK)
                r = agc__audit_db_error(db, path, rc, "creating the schema", ctx);
        }
    } else if (r == AGC_OK) {
        r = query_int(db, path,
                      "SELECT count(*) FROM meta WHERE key = 'format' AND value = 'agentc-audit'",
                      &v, &found, ctx);
        if (r == AGC_OK && v != 1)
            r = agc_error_set(ctx, AGC_EINVAL, "audit",
                              "%s is not an agentc audit trail (meta has no format "
                              "'agentc-audit'); choose another path",
                              path);
        if (r == AGC_OK)
            r = query_int(db, path,
                          "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
                          &v, &found, ctx);
        if (r == AGC_OK && v > AGC__AUDIT_SCHEMA_VERSION)
            r = agc_error_set(ctx, AGC_EUNSUPPORTED, "audit",
                              "%s uses audit format version %lld, newer than this agentc "
                              "understands (%d); upgrade agentc",
                              path, (long long)v, AGC__AUDIT_SCHEMA_VERSION);
    }
    if (tx) {
        int rc = sqlite3_exec(db, r == AGC_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
        if (r == AGC_OK && rc != SQLITE_OK)
            r = agc__audit_db_error(db, path, rc, "creating the schema", ctx);
    }
    return r;
}

agc_status agc__audit_open_db(sqlite3 **out, const char *path, bool read_only, int busy_ms,
                              agc_ctx *ctx)
{
    *out = NULL;
    if (read_only && access(path, F_OK) != 0)
        return agc_error_set(ctx, AGC_ENOTFOUND, "audit", "no audit trail at %s: %s", path,
                             strerror(errno));
    if (!read_only) {
        agc_status r = agc__audit_make_parents(path, ctx);
        if (r != AGC_OK)
            return r;
        /* created 0600 before SQLite opens it, so the umask cannot widen it */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
            return agc_error_set(ctx, errno == EACCES || errno == EPERM ? AGC_EPERM : AGC_EIO,
                                 "audit", "cannot open the audit trail %s: %s", path,
                                 strerror(errno));
        close(fd);
    }
    sqlite3 *db = NULL;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX |
                SQLITE_OPEN_EXRESCODE;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    agc_status r = rc == SQLITE_OK ? AGC_OK : agc__audit_db_error(db, path, rc, "opening", ctx);
    if (r == AGC_OK) {
        sqlite3_busy_timeout(db, busy_ms);
        if (!read_only) {
            char *mode = NULL;
            sqlite3_stmt *st = NULL;
            rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
            /* switching a new file to WAL takes a lock that the busy handler
             * does not always wait for: retry while another process holds it */
            int step = SQLITE_ERROR;
            for (int waited = 0; rc == SQLITE_OK; waited += 10) {
                step = sqlite3_step(st);
                if (((step & 0xff) != SQLITE_BUSY && (step & 0xff) != SQLITE_LOCKED) ||
                    waited >= busy_ms)
                    break;
                sqlite3_reset(st);
                sqlite3_sleep(10);
            }
            if (rc == SQLITE_OK && step == SQLITE_ROW)
                mode = (char *)sqlite3_column_text(st, 0);
            else if (rc == SQLITE_OK)
                rc = step;
            if (rc == SQLITE_OK && (!mode || strcmp(mode, "wal") != 0))
                r = agc_error_set(ctx, AGC_EIO, "audit",
                                  "%s: cannot switch to the WAL journal; is it on a network "
                                  "file system?",
                                  path);
            else if (rc != SQLITE_OK)
                r = agc__audit_db_error(db, path, rc, "enabling the WAL journal", ctx);
            sqlite3_finalize(st);
        }
    }
    if (r == AGC_OK) {
        rc = sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            r = agc__audit_db_error(db, path, rc, "configuring the connection", ctx);
    }
    if (r == AGC_OK)
        r = ensure_schema(db, path, read_only, ctx);
    if (r != AGC_OK) {
        sqlite3_close_v2(db);
        return r;
    }
    *out = db;
    return AGC_OK;
}

/* Reads the 64-hex-digit seed behind ref into a libsodium secret key held in an agc_secret. */
static agc_status load_key(agc_secret **sk_out, unsigned char pk[32], const char *ref, agc_ctx *ctx)
{
    *sk_out = NULL;
    agc_secret *seed_hex = NULL;
    agc_status r = agc_secret_from_ref(&seed_hex, ref, ctx);
    if (r != AGC_OK)
        return r;
    unsigned char seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];
    if (!agc__audit_unhex(seed, sizeof seed, agc_secret_reveal(seed_hex, NULL)))
        r = agc_error_set(ctx, AGC_EINVAL, "audit",
                          "the audit signing key %s is not 64 hex digits (an Ed25519 seed); "
                          "make one with `agentc audit keygen`",
                          agc_secret_source(seed_hex));
    if (r == AGC_OK) {
        crypto_sign_seed_keypair(pk, sk, seed);
        r = agc_secret_from_bytes(sk_out, sk, sizeof sk, agc_secret_source(seed_hex), ctx);
    }
    agc_memzero(seed, sizeof seed);
    agc_memzero(sk, sizeof sk);
    agc_secret_free(seed_hex);
    return r;
}

agc_status agc_audit_key_public(char pub[AGC_AUDIT_HEX_SIZE], const char *ref, agc_ctx *ctx)
{
    pub[0] = '\0';
    agc_secret *sk = NULL;
    unsigned char pk[32];
    agc_status r = load_key(&sk, pk, ref, ctx);
    if (r == AGC_OK)
        sodium_bin2hex(pub, AGC_AUDIT_HEX_SIZE, pk, sizeof pk);
    agc_secret_free(sk);
    return r;
}

agc_status agc_audit_open(agc_audit **out, const char *path, const agc_audit_opts *opts,
                          agc_ctx *ctx)
{
    *out = NULL;
    agc_audit_opts dflt = AGC_AUDIT_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_AUDIT_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "audit",
                             "agc_audit_opts version %u is not supported (%d)", opts->version,
                             AGC_AUDIT_OPTS_VERSION);
    if (opts->durability != AGC_AUDIT_SYNC_EACH && opts->durability != AGC_AUDIT_SYNC_BATCH)
        return agc_error_set(ctx, AGC_EINVAL, "audit", "unknown durability mode %d",
                             (int)opts->durability);
    if (!path || !*path)
        return agc_error_set(ctx, AGC_EINVAL, "audit", "the audit trail path is empty");
    if (opts->checkpoint_every > 0 && !opts->signing_key_ref && !opts->read_only)
        return agc_error_set(ctx, AGC_EINVAL, "audit",
                             "checkpoint_every is %u but no signing_key_ref is set; give a key "
                             "reference (env:NAME or file:PATH)",
                             opts->checkpoint_every);
    agc_audit *a = agc_calloc(ctx, 1, sizeof *a);
    if (!a)
        return AGC_ENOMEM;
    a->ctx = ctx;
    a->durability = opts->durability;
    a->batch_records = opts->batch_records ? opts->batch_records : 64;
    a->batch_ms = opts->batch_ms ? opts->batch_ms : 1000;
    a->checkpoint_every = opts->read_only ? 0 : opts->checkpoint_every;
    a->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 10000;
    a->read_only = opts->read_only;
    a->path = agc_strdup(ctx, path);
    agc_status r = a->path ? AGC_OK : AGC_ENOMEM;
    if (r == AGC_OK && a->checkpoint_every > 0) {
        unsigned char pk[32];
        r = load_key(&a->sk, pk, opts->signing_key_ref, ctx);
        if (r == AGC_OK)
            sodium_bin2hex(a->pk_hex, sizeof a->pk_hex, pk, sizeof pk);
    }
    if (r == AGC_OK)
        r = agc__audit_open_db(&a->db, path, a->read_only, a->busy_ms, ctx);
    /* batched: a commit reaches the WAL without an fsync of its own (a killed
     * process loses nothing committed; power loss may lose the last batches,
     * never the chain's integrity); the WAL is fsynced at each checkpoint */
    if (r == AGC_OK && a->durability == AGC_AUDIT_SYNC_BATCH && !a->read_only &&
        sqlite3_exec(a->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
        r = db_err(a, SQLITE_ERROR, "configuring batched durability");
    if (r == AGC_OK && a->sk) {
        /* the newest signing key, for readers who have no other copy (not a trust anchor) */
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(a->db,
                                    "INSERT OR REPLACE INTO meta(key, value) "
                                    "SELECT 'public_key', ?1 WHERE NOT EXISTS (SELECT 1 FROM meta "
                                    "WHERE key = 'public_key' AND value = ?1)",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 1, a->pk_hex, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            r = db_err(a, rc, "storing the public key");
    }
    if (r != AGC_OK) {
        agc_audit_close(a);
        return r;
    }
    *out = a;
    return AGC_OK;
}

static void pending_clear(agc_audit *a, agc__audit_pending *p)
{
    agc_free(a->ctx, p->actor);
    agc_free(a->ctx, p->run_id);
    agc_free(a->ctx, p->subject);
    agc_free(a->ctx, p->action);
    agc_free(a->ctx, p->outcome);
    agc_free(a->ctx, p->payload_text);
    agc_ctx *prev = agc_json_enter(a->ctx);
    json_decref(p->payload);
    agc_json_leave(prev);
    memset(p, 0, sizeof *p);
}

void agc_audit_close(agc_audit *a)
{
    if (!a)
        return;
    if (a->npending > 0 && agc_audit_flush(a) != AGC_OK)
        agc_log(a->ctx, AGC_LOG_ERROR, "audit", "%s: %zu buffered audit records were lost: %s",
                a->path, a->npending, agc_ctx_errmsg(a->ctx));
    for (size_t i = 0; i < a->npending; i++)
        pending_clear(a, &a->pending[i]);
    agc_free(a->ctx, a->pending);
    for (int i = 0; i < AGC__AST_COUNT; i++)
        sqlite3_finalize(a->st[i]);
    sqlite3_close_v2(a->db);
    agc_secret_free(a->sk);
    agc_free(a->ctx, a->path);
    agc_free(a->ctx, a);
}

const char *agc_audit_path(const agc_audit *a)
{
    return a->path;
}

const char *agc_audit_public_key(const agc_audit *a)
{
    return a->sk ? a->pk_hex : NULL;
}

size_t agc_audit_pending(const agc_audit *a)
{
    return a->npending;
}

/* ---- appending ------------------------------------------------------------------- */

/* Chains and inserts p after (*seq, prev) inside the open transaction; updates both. */
static agc_status insert_one(agc_audit *a, const agc__audit_pending *p, uint64_t *seq,
                             char prev[AGC_AUDIT_HEX_SIZE])
{
    agc_audit_record r = {
        .seq = *seq + 1,
        .time_ms = p->time_ms,
        .actor = p->actor,
        .run_id = p->run_id,
        .subject = p->subject,
        .action = p->action,
        .outcome = p->outcome,
        .prev_hash = prev,
    };
    char hash[AGC_AUDIT_HEX_SIZE];
    agc_status st = agc__audit_hash_text(hash, &r, p->payload_text, p->payload_len, a->ctx);
    sqlite3_stmt *ins = NULL;
    if (st == AGC_OK)
        st = stmt(a, AGC__AST_INSERT, &ins);
    if (st == AGC_OK) {
        int rc = sqlite3_bind_int64(ins, 1, (sqlite3_int64)r.seq);
        rc = rc ? rc : sqlite3_bind_int64(ins, 2, r.time_ms);
        rc = rc ? rc : bind_opt(ins, 3, r.actor);
        rc = rc ? rc : bind_opt(ins, 4, r.run_id);
        rc = rc ? rc : bind_opt(ins, 5, r.subject);
        rc = rc ? rc : bind_opt(ins, 6, r.action);
        rc = rc ? rc : bind_opt(ins, 7, r.outcome);
        rc = rc ? rc
                : sqlite3_bind_text(ins, 8, p->payload_text, (int)p->payload_len, SQLITE_STATIC);
        rc = rc ? rc : bind_opt(ins, 9, prev);
        rc = rc ? rc : bind_opt(ins, 10, hash);
        rc = rc ? rc : sqlite3_step(ins);
        if (rc != SQLITE_DONE)
            st = db_err(a, rc, "inserting a record");
        stmt_done(ins);
    }
    if (st == AGC_OK && a->sk && r.seq % a->checkpoint_every == 0) {
        char sig[AGC__AUDIT_SIG_HEX_SIZE];
        agc__audit_sign(sig, a->sk, r.seq, hash);
        sqlite3_stmt *cp = NULL;
        st = stmt(a, AGC__AST_CP_INSERT, &cp);
        if (st == AGC_OK) {
            int rc = sqlite3_bind_int64(cp, 1, (sqlite3_int64)r.seq);
            rc = rc ? rc : sqlite3_bind_int64(cp, 2, r.time_ms);
            rc = rc ? rc : bind_opt(cp, 3, hash);
            rc = rc ? rc : bind_opt(cp, 4, a->pk_hex);
            rc = rc ? rc : bind_opt(cp, 5, sig);
            rc = rc ? rc : sqlite3_step(cp);
            if (rc != SQLITE_DONE)
                st = db_err(a, rc, "inserting a checkpoint");
            stmt_done(cp);
        }
    }
    if (st == AGC_OK) {
        *seq = r.seq;
        memcpy(prev, hash, sizeof hash);
    }
    return st;
}

/* Commits records[0..n) in one transaction; *last_seq = the seq of the last one. */
static agc_status commit(agc_audit *a, const agc__audit_pending *recs, size_t n, uint64_t *last_seq)
{
    agc_status st = exec_id(a, AGC__AST_BEGIN, "starting a write transaction");
    if (st != AGC_OK)
        return st;
    uint64_t seq = 0;
    char prev[AGC_AUDIT_HEX_SIZE];
    memcpy(prev, AGC__AUDIT_GENESIS, sizeof prev);
    sqlite3_stmt *last = NULL;
    st = stmt(a, AGC__AST_LAST, &last);
    if (st == AGC_OK) {
        int rc = sqlite3_step(last);
        if (rc == SQLITE_ROW) {
            const char *h = (const char *)sqlite3_column_text(last, 1);
            seq = (uint64_t)sqlite3_column_int64(last, 0);
            if (!agc__audit_is_hash(h))
                st = agc_error_set(a->ctx, AGC_EIO, "audit",
                                   "%s: record %" PRIu64 " has a malformed hash; the trail is "
                                   "damaged (agentc audit verify)",
                                   a->path, seq);
            else
                memcpy(prev, h, sizeof prev);
        } else if (rc != SQLITE_DONE) {
            st = db_err(a, rc, "reading the last record");
        }
        stmt_done(last);
    }
    for (size_t i = 0; st == AGC_OK && i < n; i++)
        st = insert_one(a, &recs[i], &seq, prev);
    st = tx_end(a, st);
    if (st == AGC_OK && last_seq)
        *last_seq = seq;
    return st;
}

static agc_status check_field(agc_audit *a, const char *name, const char *v, bool required)
{
    if (!v && required)
        return agc_error_set(a->ctx, AGC_EINVAL, "audit", "an audit entry needs an %s", name);
    if (v && (!*v || strlen(v) > AGC_AUDIT_FIELD_MAX))
        return agc_error_set(a->ctx, AGC_EINVAL, "audit",
                             "audit entry %s must be 1..%d bytes (got %zu)", name,
                             AGC_AUDIT_FIELD_MAX, strlen(v));
    return AGC_OK;
}

/* Fills p with redacted copies of e's fields, stamped now. */
static agc_status prepare(agc_audit *a, const agc_audit_entry *e, agc__audit_pending *p)
{
    memset(p, 0, sizeof *p);
    p->time_ms = agc_clock_now_ms(a->ctx);
    /* one redactor pass over all short fields; only a hit redacts them one by one */
    char joined[6 * (AGC_AUDIT_FIELD_MAX + 1)];
    size_t jn = 0;
    const char *fields[] = {e->actor, e->run_id, e->subject, e->action, e->outcome};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        size_t n = fields[i] ? strlen(fields[i]) : 0; /* checked: <= AGC_AUDIT_FIELD_MAX */
        memcpy(joined + jn, fields[i] ? fields[i] : "", n);
        jn += n;
        joined[jn++] = '\n';
    }
    agc_status st = AGC_OK;
    if (!agc_redact_would_change(joined, jn, a->ctx)) {
        char **dst[] = {&p->actor, &p->run_id, &p->subject, &p->action, &p->outcome};
        for (size_t i = 0; st == AGC_OK && i < sizeof fields / sizeof *fields; i++)
            if (fields[i] && !(*dst[i] = agc_strdup(a->ctx, fields[i])))
                st = AGC_ENOMEM;
    } else {
        st = agc__audit_redact_str(&p->actor, e->actor, a->ctx);
        if (st == AGC_OK)
            st = agc__audit_redact_str(&p->run_id, e->run_id, a->ctx);
        if (st == AGC_OK)
            st = agc__audit_redact_str(&p->subject, e->subject, a->ctx);
        if (st == AGC_OK)
            st = agc__audit_redact_str(&p->action, e->action, a->ctx);
        if (st == AGC_OK)
            st = agc__audit_redact_str(&p->outcome, e->outcome, a->ctx);
    }
    if (st != AGC_OK) {
        pending_clear(a, p);
        return st;
    }
    st = agc__audit_redact_payload_text(&p->payload_text, &p->payload_len, e->payload, a->ctx);
    if (st == AGC_OK && a->privacy && p->subject && strncmp(p->action, "consent.", 8) != 0 &&
        strncmp(p->action, "erasure", 7) != 0) {
        /* personal content: only its envelope is hashed, buffered or written */
        json_t *env = NULL;
        st = agc_privacy_seal(&env, a->privacy, p->subject, p->payload_text, p->payload_len);
        if (st == AGC_OK) {
            agc_memzero(p->payload_text, p->payload_len);
            agc_free(a->ctx, p->payload_text);
            p->payload_text = NULL;
            st = agc_json_canonical(&p->payload_text, &p->payload_len, env, a->ctx);
            agc_ctx *prev = agc_json_enter(a->ctx);
            json_decref(env);
            agc_json_leave(prev);
        }
    }
    if (st != AGC_OK)
        pending_clear(a, p);
    return st;
}

void agc_audit_set_privacy(agc_audit *a, agc_privacy *p)
{
    a->privacy = p;
}

agc_status agc_audit_prune(agc_audit *a, int64_t before_ms, uint64_t *deleted)
{
    if (deleted)
        *deleted = 0;
    if (a->read_only)
        return agc_error_set(a->ctx, AGC_EINVAL, "audit", "%s was opened read-only", a->path);
    agc_status st = agc_audit_flush(a);
    if (st == AGC_OK)
        st = exec_id(a, AGC__AST_BEGIN, "starting the prune");
    if (st != AGC_OK)
        return st;
    /* never the last record: the chain continues from it */
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(a->db,
                                "SELECT seq, hash FROM records WHERE time_ms < ?1 AND seq < "
                                "(SELECT max(seq) FROM records) ORDER BY seq DESC LIMIT 1",
                                -1, &q, NULL);
    int64_t cut = 0;
    char hash[AGC_AUDIT_HEX_SIZE] = "";
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, before_ms);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            cut = sqlite3_column_int64(q, 0);
            const char *h = (const char *)sqlite3_column_text(q, 1);
            if (agc__audit_is_hash(h))
                memcpy(hash, h, sizeof hash);
            rc = SQLITE_DONE;
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        st = db_err(a, rc, "finding records to prune");
    if (st == AGC_OK && cut > 0 && !hash[0])
        st = agc_error_set(a->ctx, AGC_EIO, "audit", "%s: record %lld has a malformed hash",
                           a->path, (long long)cut);
    uint64_t n = 0;
    if (st == AGC_OK && cut > 0) {
        char *sql = agc_sprintf(a->ctx,
                                "DELETE FROM checkpoints WHERE seq <= %lld;"
                                "INSERT OR REPLACE INTO meta(key, value) VALUES('pruned_seq', "
                                "'%lld'), ('pruned_hash', '%s');"
                                "DELETE FROM records WHERE seq <= %lld;",
                                (long long)cut, (long long)cut, hash, (long long)cut);
        if (!sql)
            st = AGC_ENOMEM;
        else {
            rc = sqlite3_exec(a->db, sql, NULL, NULL, NULL);
            n = (uint64_t)sqlite3_changes(a->db);
            agc_free(a->ctx, sql);
            if (rc != SQLITE_OK)
                st = db_err(a, rc, "pruning");
        }
    }
    st = tx_end(a, st);
    if (st != AGC_OK || cut == 0)
        return st;
    /* the purge confirms the anchor inside the chain (verify requires it) */
    agc_ctx *prev = agc_json_enter(a->ctx);
    json_t *pl = json_pack("{s:I, s:s, s:I}", "pruned_through", (json_int_t)cut, "pruned_hash",
                           hash, "before_ms", (json_int_t)before_ms);
    agc_json_leave(prev);
    if (!pl)
        return AGC_ENOMEM;
    agc_audit_entry e = {
        .actor = "agentc", .action = "retention.purge", .outcome = "ok", .payload = pl};
    st = agc_audit_append(a, &e, NULL);
    if (st == AGC_OK)
        st = agc_audit_flush(a);
    prev = agc_json_enter(a->ctx);
    json_decref(pl);
    agc_json_leave(prev);
    if (st == AGC_OK && deleted)
        *deleted = n;
    return st;
}

agc_status agc_audit_append(agc_audit *a, const agc_audit_entry *e, uint64_t *seq_out)
{
    if (seq_out)
        *seq_out = 0;
    if (a->read_only)
        return agc_error_set(a->ctx, AGC_EINVAL, "audit", "%s was opened read-only", a->path);
    agc_status st = check_field(a, "action", e->action, true);
    if (st == AGC_OK)
        st = check_field(a, "outcome", e->outcome, true);
    if (st == AGC_OK)
        st = check_field(a, "actor", e->actor, false);
    if (st == AGC_OK)
        st = check_field(a, "run_id", e->run_id, false);
    if (st == AGC_OK)
        st = check_field(a, "subject", e->subject, false);
    if (st == AGC_OK && e->payload && !json_is_object(e->payload))
        st = agc_error_set(a->ctx, AGC_EINVAL, "audit",
                           "an audit payload must be a JSON object, not %s",
                           agc_json_type_name(e->payload));
    if (st != AGC_OK)
        return st;
    if (a->durability == AGC_AUDIT_SYNC_EACH) {
        agc__audit_pending p;
        st = prepare(a, e, &p);
        if (st != AGC_OK)
            return st;
        st = commit(a, &p, 1, seq_out);
        pending_clear(a, &p);
        return st;
    }
    if (a->npending >= (size_t)a->batch_records * 16)
        return agc_error_set(a->ctx, AGC_ELIMIT, "audit",
                             "%s: %zu audit records wait for a commit that keeps failing (%s)",
                             a->path, a->npending, "call agc_audit_flush and check its error");
    if (a->npending == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 16;
        agc__audit_pending *np = agc_realloc(a->ctx, a->pending, ncap * sizeof *np);
        if (!np)
            return AGC_ENOMEM;
        a->pending = np;
        a->cap = ncap;
    }
    st = prepare(a, e, &a->pending[a->npending]);
    if (st != AGC_OK)
        return st;
    if (a->npending++ == 0)
        a->pending_since_ns = agc_clock_monotonic_ns(a->ctx);
    int64_t age_ms = (agc_clock_monotonic_ns(a->ctx) - a->pending_since_ns) / 1000000;
    if (a->npending >= a->batch_records || age_ms >= (int64_t)a->batch_ms)
        return agc_audit_flush(a);
    return AGC_OK;
}

agc_status agc_audit_flush(agc_audit *a)
{
    if (a->npending == 0)
        return AGC_OK;
    agc_status st = commit(a, a->pending, a->npending, NULL);
    if (st != AGC_OK)
        return st;
    for (size_t i = 0; i < a->npending; i++)
        pending_clear(a, &a->pending[i]);
    a->npending = 0;
    return AGC_OK;
}
