/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Verifying an audit trail, stored (SQLite) or exported (JSONL). One pass in
 * seq order checks numbering, each hash, each prev_hash link and each signed
 * checkpoint; the first problem is reported with the record it concerns and
 * the pass stops. Invariant: the database is read inside one read
 * transaction, so a concurrent writer cannot make a consistent trail look cut.
 * It never writes and never repairs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "audit/audit_int.h"

#define LINE_MAX_BYTES ((size_t)64 * 1024 * 1024)

typedef struct verifier {
    agc_ctx *ctx;
    agc_audit_verify_result *res;
    const agc_audit_verify_opts *opts;
    bool have_key;
    unsigned char key[32];
    agc__audit_cp *cps; /* seq order */
    size_t ncp, icp;
    uint64_t expect; /* the next seq */
    char prev[AGC_AUDIT_HEX_SIZE];
    bool done; /* a problem was reported */
    /* retention: records up to anchor_seq were pruned; anchor_hash was the last one's hash */
    uint64_t anchor_seq;
    char anchor_hash[AGC_AUDIT_HEX_SIZE];
    bool anchor_ok; /* a retention.purge record in the chain confirms the anchor */
} verifier;

/* Starts the chain after a pruned prefix (the purge record must confirm it). */
static void set_anchor(verifier *v, uint64_t seq, const char *hash)
{
    v->anchor_seq = seq;
    memcpy(v->anchor_hash, hash, AGC_AUDIT_HEX_SIZE);
    v->expect = seq + 1;
    memcpy(v->prev, hash, AGC_AUDIT_HEX_SIZE);
}

static void fail(verifier *v, uint64_t bad_seq, const char *fmt, ...) AGC_PRINTF(3, 4);
static void fail(verifier *v, uint64_t bad_seq, const char *fmt, ...)
{
    if (v->done)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->res->message, sizeof v->res->message, fmt, ap);
    va_end(ap);
    v->res->ok = false;
    v->res->bad_seq = bad_seq;
    v->done = true;
}

static agc_status verifier_init(verifier *v, agc_audit_verify_result *res,
                                const agc_audit_verify_opts *opts, agc_ctx *ctx)
{
    static const agc_audit_verify_opts dflt = AGC_AUDIT_VERIFY_OPTS_INIT;
    memset(res, 0, sizeof *res);
    memset(v, 0, sizeof *v);
    v->ctx = ctx;
    v->res = res;
    v->opts = opts ? opts : &dflt;
    v->expect = 1;
    memcpy(v->prev, AGC__AUDIT_GENESIS, sizeof v->prev);
    if (v->opts->version != AGC_AUDIT_VERIFY_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "audit",
                             "agc_audit_verify_opts version %u is not supported (%d)",
                             v->opts->version, AGC_AUDIT_VERIFY_OPTS_VERSION);
    if (v->opts->public_key) {
        if (!agc__audit_unhex(v->key, sizeof v->key, v->opts->public_key))
            return agc_error_set(ctx, AGC_EINVAL, "audit",
                                 "the public key must be 64 hex digits (an Ed25519 key)");
        v->have_key = true;
        res->key_trusted = true;
    }
    res->ok = true;
    return AGC_OK;
}

/* Checks cp's signature; reports and returns false when bad. */
static bool cp_signature_ok(verifier *v, const agc__audit_cp *cp)
{
    unsigned char own[32];
    const unsigned char *pk = v->key;
    if (!v->have_key) {
        if (!agc__audit_unhex(own, sizeof own, cp->public_key)) {
            fail(v, 0, "checkpoint %" PRIu64 ": malformed public key (modified)", cp->seq);
            return false;
        }
        pk = own;
    }
    if (!agc__audit_sig_ok(pk, cp->sig, cp->seq, cp->hash)) {
        fail(v, 0, "checkpoint %" PRIu64 ": bad signature (%s)", cp->seq,
             v->have_key ? "not made with the given public key, or modified"
                         : "forged or modified");
        return false;
    }
    return true;
}

/* Reports a seq that is not the expected one (database order: always a gap). */
static void seq_gap(verifier *v, uint64_t seq)
{
    if (v->expect == 1)
        fail(v, seq, "trail starts at record %" PRIu64 ", not 1 (records deleted)", seq);
    else if (seq > v->expect)
        fail(v, seq, "seq gap: %" PRIu64 " -> %" PRIu64 " (record deleted)", v->expect - 1, seq);
    else
        fail(v, seq, "record %" PRIu64 " comes after record %" PRIu64 " (reordered or duplicated)",
             seq, v->expect - 1);
}

/* One record in order; payload NULL means its stored text is not JSON. */
static agc_status verify_record(verifier *v, const agc_audit_record *r, const json_t *payload)
{
    if (v->done)
        return AGC_OK;
    v->res->records++;
    if (r->seq != v->expect) {
        seq_gap(v, r->seq);
        return AGC_OK;
    }
    if (!payload) {
        fail(v, r->seq, "record %" PRIu64 ": payload is not a JSON object (modified)", r->seq);
        return AGC_OK;
    }
    char hash[AGC_AUDIT_HEX_SIZE];
    agc_status st = agc__audit_hash(hash, r, payload, v->ctx);
    if (st != AGC_OK)
        return st;
    if (!r->hash || strcmp(hash, r->hash) != 0) {
        fail(v, r->seq, "record %" PRIu64 ": hash mismatch (payload or fields modified)", r->seq);
        return AGC_OK;
    }
    if (!r->prev_hash || strcmp(r->prev_hash, v->prev) != 0) {
        if (r->seq == 1)
            fail(v, 1, "record 1: prev_hash is not the genesis value (64 zeros)");
        else
            fail(v, r->seq, "record %" PRIu64 ": prev_hash does not match record %" PRIu64, r->seq,
                 r->seq - 1);
        return AGC_OK;
    }
    while (v->icp < v->ncp && v->cps[v->icp].seq <= r->seq) {
        const agc__audit_cp *cp = &v->cps[v->icp];
        if (!cp_signature_ok(v, cp))
            return AGC_OK;
        if (cp->seq != r->seq) {
            fail(v, 0, "checkpoint %" PRIu64 ": no such record (modified)", cp->seq);
            return AGC_OK;
        }
        if (strcmp(cp->hash, hash) != 0) {
            fail(v, r->seq,
                 "checkpoint %" PRIu64 ": signed hash does not match record %" PRIu64
                 " (records rewritten)",
                 cp->seq, r->seq);
            return AGC_OK;
        }
        v->res->checkpoints++;
        v->res->last_checkpoint = cp->seq;
        v->icp++;
    }
    if (v->anchor_seq && strcmp(r->action, "retention.purge") == 0 &&
        json_integer_value(json_object_get(payload, "pruned_through")) ==
            (json_int_t)v->anchor_seq &&
        strcmp(agc_json_str(payload, "pruned_hash", ""), v->anchor_hash) == 0)
        v->anchor_ok = true;
    memcpy(v->prev, hash, sizeof hash);
    memcpy(v->res->last_hash, hash, sizeof hash);
    v->res->last_seq = r->seq;
    v->expect = r->seq + 1;
    return AGC_OK;
}

static void verifier_finish(verifier *v)
{
    uint64_t last = v->expect - 1;
    if (!v->done && v->icp < v->ncp) {
        const agc__audit_cp *cp = &v->cps[v->icp];
        if (cp_signature_ok(v, cp))
            fail(v, 0,
                 "trail ends at %" PRIu64 " but checkpoint %" PRIu64 " was signed (truncated)",
                 last, cp->seq);
    }
    if (!v->done && v->anchor_seq && !v->anchor_ok)
        fail(v, v->anchor_seq + 1,
             "trail starts at record %" PRIu64 " after a pruned prefix that no retention.purge "
             "record confirms (records deleted)",
             v->anchor_seq + 1);
    if (!v->done && v->opts->min_seq > last)
        fail(v, 0, "trail ends at %" PRIu64 " but record %" PRIu64 " is known to exist (truncated)",
             last, v->opts->min_seq);
    if (!v->done && v->opts->require_checkpoint && v->res->checkpoints == 0)
        fail(v, 0, "no signed checkpoint in the trail (checkpoints removed, or none made yet)");
    if (!v->done)
        snprintf(v->res->message, sizeof v->res->message,
                 "valid: %" PRIu64 " records, %" PRIu64 " checkpoints%s", v->res->records,
                 v->res->checkpoints,
                 v->res->checkpoints && !v->res->key_trusted ? " (signatures checked against the "
                                                               "keys stored in the trail)"
                                                             : "");
    agc_free(v->ctx, v->cps);
    v->cps = NULL;
}

/* ---- the SQLite trail ------------------------------------------------------------- */

agc_status agc__audit_anchor(uint64_t *seq, char hash[AGC_AUDIT_HEX_SIZE], sqlite3 *db,
                             const char *path, agc_ctx *ctx)
{
    *seq = 0;
    hash[0] = '\0';
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT (SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                                "'pruned_seq'), (SELECT value FROM meta WHERE key = 'pruned_hash')",
                                -1, &q, NULL);
    agc_status st = AGC_OK;
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(q, 0);
        const char *h = (const char *)sqlite3_column_text(q, 1);
        if (n > 0 && agc__audit_is_hash(h)) {
            *seq = (uint64_t)n;
            memcpy(hash, h, AGC_AUDIT_HEX_SIZE);
        } else if (n > 0 || h) {
            st =
                agc_error_set(ctx, AGC_EIO, "audit", "%s: the retention anchor is malformed", path);
        }
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(q);
    if (st == AGC_OK && rc != SQLITE_DONE)
        st = agc__audit_db_error(db, path, rc, "reading the retention anchor", ctx);
    return st;
}

agc_status agc__audit_load_cps(agc__audit_cp **out, size_t *n, sqlite3 *db, const char *path,
                               agc_ctx *ctx)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT seq, time_ms, hash, public_key, sig FROM checkpoints "
                                "ORDER BY seq",
                                -1, &st, NULL);
    agc__audit_cp *cps = NULL;
    size_t cap = 0, cnt = 0;
    agc_status r =
        rc == SQLITE_OK ? AGC_OK : agc__audit_db_error(db, path, rc, "reading checkpoints", ctx);
    while (r == AGC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            agc__audit_cp *np = agc_realloc(ctx, cps, ncap * sizeof *np);
            if (!np) {
                r = AGC_ENOMEM;
                break;
            }
            cps = np;
            cap = ncap;
        }
        agc__audit_cp *cp = &cps[cnt++];
        memset(cp, 0, sizeof *cp);
        cp->seq = (uint64_t)sqlite3_column_int64(st, 0);
        cp->time_ms = sqlite3_column_int64(st, 1);
        const char *h = (const char *)sqlite3_column_text(st, 2);
        const char *k = (const char *)sqlite3_column_text(st, 3);
        const char *s = (const char *)sqlite3_column_text(st, 4);
        snprintf(cp->hash, sizeof cp->hash, "%s", h ? h : "");
        snprintf(cp->public_key, sizeof cp->public_key, "%s", k ? k : "");
        snprintf(cp->sig, sizeof cp->sig, "%s", s ? s : "");
    }
    if (r == AGC_OK && rc != SQLITE_DONE)
        r = agc__audit_db_error(db, path, rc, "reading checkpoints", ctx);
    sqlite3_finalize(st);
    if (r != AGC_OK) {
        agc_free(ctx, cps);
        return r;
    }
    *out = cps;
    *n = cnt;
    return AGC_OK;
}

static agc_status verify_db(agc_audit_verify_result *res, sqlite3 *db, const char *path,
                            const agc_audit_verify_opts *opts, agc_ctx *ctx)
{
    verifier v;
    agc_status st = verifier_init(&v, res, opts, ctx);
    if (st != AGC_OK)
        return st;
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return agc__audit_db_error(db, path, rc, "starting a read transaction", ctx);
    st = agc__audit_load_cps(&v.cps, &v.ncp, db, path, ctx);
    sqlite3_stmt *q = NULL;
    if (st == AGC_OK) {
        char ahash[AGC_AUDIT_HEX_SIZE];
        uint64_t aseq = 0;
        st = agc__audit_anchor(&aseq, ahash, db, path, ctx);
        if (st == AGC_OK && aseq)
            set_anchor(&v, aseq, ahash);
    }
    if (st == AGC_OK) {
        rc = sqlite3_prepare_v2(db,
                                "SELECT seq, time_ms, actor, run_id, subject, action, outcome, "
                                "payload, prev_hash, hash FROM records ORDER BY seq",
                                -1, &q, NULL);
        if (rc != SQLITE_OK)
            st = agc__audit_db_error(db, path, rc, "reading records", ctx);
    }
    while (st == AGC_OK && !v.done && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        agc_audit_record r = {
            .seq = (uint64_t)sqlite3_column_int64(q, 0),
            .time_ms = sqlite3_column_int64(q, 1),
            .actor = (const char *)sqlite3_column_text(q, 2),
            .run_id = (const char *)sqlite3_column_text(q, 3),
            .subject = (const char *)sqlite3_column_text(q, 4),
            .action = (const char *)sqlite3_column_text(q, 5),
            .outcome = (const char *)sqlite3_column_text(q, 6),
            .payload = (const char *)sqlite3_column_text(q, 7),
            .prev_hash = (const char *)sqlite3_column_text(q, 8),
            .hash = (const char *)sqlite3_column_text(q, 9),
        };
        json_t *payload = NULL;
        if (r.payload) {
            agc_status pst = agc_json_parse(&payload, r.payload, strlen(r.payload), "payload", ctx);
            if (pst == AGC_ENOMEM)
                st = pst;
            if (payload && !json_is_object(payload)) {
                json_decref(payload);
                payload = NULL;
            }
        }
        if (st == AGC_OK)
            st = verify_record(&v, &r, payload);
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(payload);
        agc_json_leave(prev);
    }
    if (st == AGC_OK && !v.done && rc != SQLITE_DONE)
        st = agc__audit_db_error(db, path, rc, "reading records", ctx);
    sqlite3_finalize(q);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (st != AGC_OK) {
        agc_free(ctx, v.cps);
        res->ok = false;
        snprintf(res->message, sizeof res->message, "verification did not finish");
        return st;
    }
    verifier_finish(&v);
    return AGC_OK;
}

agc_status agc_audit_verify(agc_audit_verify_result *res, agc_audit *a,
                            const agc_audit_verify_opts *opts)
{
    memset(res, 0, sizeof *res);
    agc_status st = agc_audit_flush(a);
    if (st != AGC_OK)
        return st;
    return verify_db(res, a->db, a->path, opts, a->ctx);
}

/* ---- the JSONL export ------------------------------------------------------------- */

/* Reads one line (without its newline) into b; *eof when nothing was left. */
static agc_status read_line(agc_buf *b, FILE *f, bool *eof, const char *path, agc_ctx *ctx)
{
    agc_buf_clear(b);
    *eof = false;
    char chunk[8192];
    for (;;) {
        if (!fgets(chunk, sizeof chunk, f)) {
            if (ferror(f))
                return agc_error_set(ctx, AGC_EIO, "audit", "cannot read %s", path);
            *eof = b->len == 0;
            return AGC_OK;
        }
        size_t n = strlen(chunk);
        bool nl = n > 0 && chunk[n - 1] == '\n';
        agc_status st = agc_buf_append(b, chunk, nl ? n - 1 : n);
        if (st != AGC_OK)
            return st;
        if (nl)
            return AGC_OK;
    }
}

/* A string member, NULL for null; *bad when present with another type or missing. */
static const char *member_str(const json_t *o, const char *key, bool nullable, bool *bad)
{
    const json_t *m = json_object_get(o, key);
    if (json_is_string(m))
        return json_string_value(m);
    if (!(nullable && json_is_null(m)))
        *bad = true;
    return NULL;
}

static agc_status parse_cp(agc__audit_cp *cp, const json_t *o)
{
    bool bad = false;
    const json_t *s = json_object_get(o, "checkpoint");
    const char *h = member_str(o, "hash", false, &bad);
    const char *k = member_str(o, "public_key", false, &bad);
    const char *g = member_str(o, "sig", false, &bad);
    if (bad || !json_is_integer(s) || json_integer_value(s) < 1 || strlen(h) >= sizeof cp->hash ||
        strlen(k) >= sizeof cp->public_key || strlen(g) >= sizeof cp->sig)
        return AGC_EPARSE;
    memset(cp, 0, sizeof *cp);
    cp->seq = (uint64_t)json_integer_value(s);
    cp->time_ms = agc_json_int(o, "time", 0);
    memcpy(cp->hash, h, strlen(h) + 1);
    memcpy(cp->public_key, k, strlen(k) + 1);
    memcpy(cp->sig, g, strlen(g) + 1);
    return AGC_OK;
}

/* Whether a record with this seq appears in the rest of f (to tell reordering from deletion). */
static bool seq_ahead(FILE *f, uint64_t seq, agc_buf *b, agc_ctx *ctx)
{
    bool eof = false;
    while (read_line(b, f, &eof, "", ctx) == AGC_OK && !eof) {
        json_t *o = NULL;
        if (agc_json_parse(&o, agc_buf_cstr(b), b->len, "line", ctx) != AGC_OK)
            continue;
        const json_t *s = json_object_get(o, "seq");
        bool hit = json_is_integer(s) && (uint64_t)json_integer_value(s) == seq;
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(o);
        agc_json_leave(prev);
        if (hit)
            return true;
    }
    return false;
}

/* Handles one parsed line. */
static agc_status jsonl_line(verifier *v, const json_t *o, unsigned long lineno, bool *in_records,
                             FILE *f, agc_buf *b)
{
    if (!json_is_object(o)) {
        fail(v, 0, "line %lu: not a JSON object", lineno);
        return AGC_OK;
    }
    if (json_object_get(o, "pruned_through")) {
        const char *h = agc_json_str(o, "pruned_hash", NULL);
        json_int_t n = json_integer_value(json_object_get(o, "pruned_through"));
        if (*in_records || v->anchor_seq || n < 1 || !h || !agc__audit_is_hash(h) ||
            json_object_size(o) != 2) {
            fail(v, 0, "line %lu: malformed or misplaced pruned_through line", lineno);
            return AGC_OK;
        }
        set_anchor(v, (uint64_t)n, h);
        return AGC_OK;
    }
    if (json_object_get(o, "checkpoint")) {
        if (*in_records) {
            fail(v, 0, "line %lu: checkpoint line after the records (moved)", lineno);
            return AGC_OK;
        }
        agc__audit_cp cp;
        if (parse_cp(&cp, o) != AGC_OK || json_object_size(o) != 5) {
            fail(v, 0, "line %lu: malformed checkpoint line", lineno);
            return AGC_OK;
        }
        if (v->ncp > 0 && v->cps[v->ncp - 1].seq >= cp.seq) {
            fail(v, 0, "line %lu: checkpoint %" PRIu64 " out of order", lineno, cp.seq);
            return AGC_OK;
        }
        agc__audit_cp *np = agc_realloc(v->ctx, v->cps, (v->ncp + 1) * sizeof *np);
        if (!np)
            return AGC_ENOMEM;
        v->cps = np;
        v->cps[v->ncp++] = cp;
        return AGC_OK;
    }
    *in_records = true;
    bool bad = false;
    const json_t *seq = json_object_get(o, "seq");
    const json_t *time = json_object_get(o, "time");
    const json_t *payload = json_object_get(o, "payload");
    agc_audit_record r = {
        .actor = member_str(o, "actor", true, &bad),
        .run_id = member_str(o, "run_id", true, &bad),
        .subject = member_str(o, "subject", true, &bad),
        .action = member_str(o, "action", false, &bad),
        .outcome = member_str(o, "outcome", false, &bad),
        .prev_hash = member_str(o, "prev_hash", false, &bad),
        .hash = member_str(o, "hash", false, &bad),
    };
    if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
        fail(v, 0, "line %lu: not an audit record (no seq)", lineno);
        return AGC_OK;
    }
    r.seq = (uint64_t)json_integer_value(seq);
    if (r.seq != v->expect && !v->done) {
        v->res->records++;
        if (r.seq > v->expect && seq_ahead(f, v->expect, b, v->ctx))
            fail(v, v->expect,
                 "record %" PRIu64 ": out of order (found after record %" PRIu64
                 "; records reordered)",
                 v->expect, r.seq);
        else
            seq_gap(v, r.seq);
        return AGC_OK;
    }
    if (bad || !json_is_integer(time) || json_object_size(o) != 10) {
        fail(v, r.seq, "record %" PRIu64 ": fields missing, extra or of the wrong type (modified)",
             r.seq);
        return AGC_OK;
    }
    r.time_ms = json_integer_value(time);
    return verify_record(v, &r, json_is_object(payload) ? payload : NULL);
}

static agc_status verify_jsonl(agc_audit_verify_result *res, FILE *f, const char *path,
                               const agc_audit_verify_opts *opts, agc_ctx *ctx)
{
    verifier v;
    agc_status st = verifier_init(&v, res, opts, ctx);
    if (st != AGC_OK)
        return st;
    agc_buf b;
    agc_buf_init(&b, ctx, LINE_MAX_BYTES);
    bool in_records = false, eof = false;
    for (unsigned long lineno = 1; st == AGC_OK && !v.done; lineno++) {
        st = read_line(&b, f, &eof, path, ctx);
        if (st != AGC_OK || eof)
            break;
        if (b.len == 0) {
            fail(&v, 0, "line %lu: empty line (records deleted?)", lineno);
            break;
        }
        json_t *o = NULL;
        st = agc_json_parse(&o, agc_buf_cstr(&b), b.len, "line", ctx);
        if (st == AGC_EPARSE) {
            st = AGC_OK;
            fail(&v, 0, "line %lu: not valid JSON (modified)", lineno);
            break;
        }
        if (st == AGC_OK)
            st = jsonl_line(&v, o, lineno, &in_records, f, &b);
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(o);
        agc_json_leave(prev);
    }
    agc_buf_free(&b);
    if (st != AGC_OK) {
        agc_free(ctx, v.cps);
        res->ok = false;
        snprintf(res->message, sizeof res->message, "verification did not finish");
        return st == AGC_ELIMIT
                   ? agc_error_set(ctx, AGC_EIO, "audit", "%s: a line is longer than %zu bytes",
                                   path, LINE_MAX_BYTES)
                   : st;
    }
    verifier_finish(&v);
    return AGC_OK;
}

agc_status agc_audit_verify_file(agc_audit_verify_result *res, const char *path,
                                 const agc_audit_verify_opts *opts, agc_ctx *ctx)
{
    memset(res, 0, sizeof *res);
    FILE *f = fopen(path, "rbe");
    if (!f)
        return agc_error_set(ctx, errno == ENOENT ? AGC_ENOTFOUND : AGC_EIO, "audit",
                             "cannot open %s: %s", path, strerror(errno));
    char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    bool sqlite = n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0;
    if (sqlite) {
        fclose(f);
        sqlite3 *db = NULL;
        agc_status st = agc__audit_open_db(&db, path, true, 10000, ctx);
        if (st == AGC_OK)
            st = verify_db(res, db, path, opts, ctx);
        sqlite3_close_v2(db);
        return st;
    }
    rewind(f);
    agc_status st = verify_jsonl(res, f, path, opts, ctx);
    fclose(f);
    return st;
}
