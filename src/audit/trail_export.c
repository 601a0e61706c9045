/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Reading the audit trail: filtered queries, JSONL and CSV export, stats.
 * Invariant: an unfiltered JSONL export is the whole trail, checkpoint lines
 * first, read in one transaction, so it verifies on its own exactly as the
 * database does. It never writes to the trail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "audit/audit_int.h"

static bool filter_empty(const agc_audit_filter *f)
{
    return !f ||
           (!f->since_ms && !f->until_ms && !f->run_id && !f->subject && !f->action && !f->limit);
}

/* Prepares the filtered SELECT (caller finalizes). */
static agc_status prepare_query(agc_audit *a, const agc_audit_filter *f, sqlite3_stmt **out)
{
    *out = NULL;
    agc_audit_filter none = AGC_AUDIT_FILTER_INIT;
    if (!f)
        f = &none;
    if (f->version != AGC_AUDIT_FILTER_VERSION)
        return agc_error_set(a->ctx, AGC_EINVAL, "audit",
                             "agc_audit_filter version %u is not supported (%d)", f->version,
                             AGC_AUDIT_FILTER_VERSION);
    bool prefix = f->action && *f->action && f->action[strlen(f->action) - 1] == '.';
    char sql[640];
    snprintf(sql, sizeof sql,
             "SELECT seq, time_ms, actor, run_id, subject, action, outcome, payload, prev_hash, "
             "hash FROM records WHERE 1%s%s%s%s%s ORDER BY seq%s",
             f->since_ms ? " AND time_ms >= :since" : "",
             f->until_ms ? " AND time_ms < :until" : "", f->run_id ? " AND run_id = :run" : "",
             f->subject ? " AND subject = :subject" : "",
             !f->action ? ""
             : prefix   ? " AND substr(action, 1, length(:action)) = :action"
                        : " AND action = :action",
             f->limit ? " LIMIT :limit" : "");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return agc__audit_db_error(a->db, a->path, rc, "preparing a query", a->ctx);
    int i;
    if (rc == SQLITE_OK && (i = sqlite3_bind_parameter_index(st, ":since")) > 0)
        rc = sqlite3_bind_int64(st, i, f->since_ms);
    if (rc == SQLITE_OK && (i = sqlite3_bind_parameter_index(st, ":until")) > 0)
        rc = sqlite3_bind_int64(st, i, f->until_ms);
    if (rc == SQLITE_OK && (i = sqlite3_bind_parameter_index(st, ":run")) > 0)
        rc = sqlite3_bind_text(st, i, f->run_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (i = sqlite3_bind_parameter_index(st, ":subject")) > 0)
        rc = sqlite3_bind_text(st, i, f->subject, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (i = sqlite3_bind_parameter_index(st, ":action")) > 0)
        rc = sqlite3_bind_text(st, i, f->action, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (i = sqlite3_bind_parameter_index(st, ":limit")) > 0)
        rc = sqlite3_bind_int64(st, i, (sqlite3_int64)f->limit);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return agc__audit_db_error(a->db, a->path, rc, "binding a query", a->ctx);
    }
    *out = st;
    return AGC_OK;
}

static agc_status run_query(agc_audit *a, const agc_audit_filter *f, agc_audit_record_fn fn,
                            void *user)
{
    sqlite3_stmt *st = NULL;
    agc_status r = prepare_query(a, f, &st);
    int rc = SQLITE_DONE;
    while (r == AGC_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        agc_audit_record rec = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .time_ms = sqlite3_column_int64(st, 1),
            .actor = (const char *)sqlite3_column_text(st, 2),
            .run_id = (const char *)sqlite3_column_text(st, 3),
            .subject = (const char *)sqlite3_column_text(st, 4),
            .action = (const char *)sqlite3_column_text(st, 5),
            .outcome = (const char *)sqlite3_column_text(st, 6),
            .payload = (const char *)sqlite3_column_text(st, 7),
            .prev_hash = (const char *)sqlite3_column_text(st, 8),
            .hash = (const char *)sqlite3_column_text(st, 9),
        };
        r = fn(&rec, user);
    }
    if (r == AGC_OK && rc != SQLITE_DONE)
        r = agc__audit_db_error(a->db, a->path, rc, "reading records", a->ctx);
    sqlite3_finalize(st);
    return r;
}

agc_status agc_audit_query(agc_audit *a, const agc_audit_filter *f, agc_audit_record_fn fn,
                           void *user)
{
    return run_query(a, f, fn, user);
}

/* ---- export ----------------------------------------------------------------------- */

typedef struct export_state {
    agc_audit *a;
    FILE *out;
    agc_buf line;
} export_state;

static agc_status write_all(export_state *x, const char *s, size_t len)
{
    if (fwrite(s, 1, len, x->out) != len)
        return agc_error_set(x->a->ctx, AGC_EIO, "audit", "cannot write the audit export");
    return AGC_OK;
}

static agc_status put_jsonl(const agc_audit_record *r, void *user)
{
    export_state *x = user;
    char *line = NULL;
    size_t len = 0;
    agc_status st = agc_audit_record_to_jsonl(&line, &len, r, x->a->ctx);
    if (st == AGC_OK)
        st = write_all(x, line, len);
    agc_free(x->a->ctx, line);
    return st;
}

/* One CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
static agc_status csv_field(agc_buf *b, const char *s, bool last)
{
    agc_status st = AGC_OK;
    s = s ? s : "";
    if (strpbrk(s, ",\"\r\n")) {
        st = agc_buf_putc(b, '"');
        for (const char *p = s; st == AGC_OK && *p; p++)
            st = *p == '"' ? agc_buf_puts(b, "\"\"") : agc_buf_putc(b, *p);
        if (st == AGC_OK)
            st = agc_buf_putc(b, '"');
    } else {
        st = agc_buf_puts(b, s);
    }
    if (st == AGC_OK)
        st = last ? agc_buf_puts(b, "\r\n") : agc_buf_putc(b, ',');
    return st;
}

static agc_status put_csv(const agc_audit_record *r, void *user)
{
    export_state *x = user;
    agc_buf_clear(&x->line);
    char seq[24], time[40];
    snprintf(seq, sizeof seq, "%" PRIu64, r->seq);
    agc_time_format_rfc3339(r->time_ms, time, sizeof time);
    const char *fields[] = {seq,       time,       r->actor,   r->run_id,    r->subject,
                            r->action, r->outcome, r->payload, r->prev_hash, r->hash};
    size_t n = sizeof fields / sizeof fields[0];
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < n; i++)
        st = csv_field(&x->line, fields[i], i + 1 == n);
    if (st == AGC_OK)
        st = write_all(x, x->line.data, x->line.len);
    return st;
}

static agc_status put_checkpoints(export_state *x)
{
    agc__audit_cp *cps = NULL;
    size_t n = 0;
    uint64_t aseq = 0;
    char ahash[AGC_AUDIT_HEX_SIZE];
    agc_status st = agc__audit_anchor(&aseq, ahash, x->a->db, x->a->path, x->a->ctx);
    if (st == AGC_OK && aseq) {
        /* a pruned trail: the anchor line stands for the deleted prefix */
        char line[160];
        int len = snprintf(line, sizeof line, "{\"pruned_hash\":\"%s\",\"pruned_through\":%llu}\n",
                           ahash, (unsigned long long)aseq);
        st = write_all(x, line, (size_t)len);
    }
    if (st == AGC_OK)
        st = agc__audit_load_cps(&cps, &n, x->a->db, x->a->path, x->a->ctx);
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        char *line = NULL;
        size_t len = 0;
        st = agc__audit_cp_to_jsonl(&line, &len, &cps[i], x->a->ctx);
        if (st == AGC_OK)
            st = write_all(x, line, len);
        agc_free(x->a->ctx, line);
    }
    agc_free(x->a->ctx, cps);
    return st;
}

agc_status agc_audit_export(agc_audit *a, const agc_audit_filter *f, agc_audit_format format,
                            FILE *out)
{
    if (format != AGC_AUDIT_FORMAT_JSONL && format != AGC_AUDIT_FORMAT_CSV)
        return agc_error_set(a->ctx, AGC_EINVAL, "audit", "unknown export format %d", (int)format);
    export_state x = {.a = a, .out = out};
    agc_buf_init(&x.line, a->ctx, 0);
    int rc = sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return agc__audit_db_error(a->db, a->path, rc, "starting a read transaction", a->ctx);
    agc_status st = AGC_OK;
    if (format == AGC_AUDIT_FORMAT_JSONL) {
        if (filter_empty(f))
            st = put_checkpoints(&x);
        if (st == AGC_OK)
            st = run_query(a, f, put_jsonl, &x);
    } else {
        static const char header[] =
            "seq,time,actor,run_id,subject,action,outcome,payload,prev_hash,hash\r\n";
        st = write_all(&x, header, sizeof header - 1);
        if (st == AGC_OK)
            st = run_query(a, f, put_csv, &x);
    }
    sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
    agc_buf_free(&x.line);
    if (st == AGC_OK && fflush(out) != 0)
        st = agc_error_set(a->ctx, AGC_EIO, "audit", "cannot write the audit export");
    return st;
}

/* ---- stats ----------------------------------------------------------------------- */

static json_t *int_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? json_null()
               : json_integer((json_int_t)sqlite3_column_int64(st, col));
}

/* Runs sql and lets row() add each row to o. */
static agc_status stats_query(agc_audit *a, const char *sql, json_t *o,
                              int (*row)(json_t *o, sqlite3_stmt *st))
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
    agc_status r = AGC_OK;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        agc_ctx *prev = agc_json_enter(a->ctx);
        int bad = row(o, st);
        agc_json_leave(prev);
        if (bad) {
            r = agc_error_set(a->ctx, AGC_ENOMEM, "audit", "out of memory computing stats");
            break;
        }
        rc = SQLITE_OK;
    }
    if (r == AGC_OK && rc != SQLITE_DONE)
        r = agc__audit_db_error(a->db, a->path, rc, "computing stats", a->ctx);
    sqlite3_finalize(st);
    return r;
}

static int row_totals(json_t *o, sqlite3_stmt *st)
{
    int rc = json_object_set_new(o, "records", json_integer(sqlite3_column_int64(st, 0)));
    rc |= json_object_set_new(o, "first_time", int_or_null(st, 1));
    rc |= json_object_set_new(o, "last_time", int_or_null(st, 2));
    rc |= json_object_set_new(o, "last_seq", json_integer(sqlite3_column_int64(st, 3)));
    return rc;
}

static int row_action(json_t *o, sqlite3_stmt *st)
{
    const char *action = (const char *)sqlite3_column_text(st, 0);
    const char *outcome = (const char *)sqlite3_column_text(st, 1);
    json_int_t n = (json_int_t)sqlite3_column_int64(st, 2);
    if (!action || !outcome)
        return 0;
    json_t *by = json_object_get(o, "by_action");
    json_t *acts = json_object_get(by, action);
    if (!acts) {
        acts = json_object();
        if (json_object_set_new(by, action, acts) != 0)
            return -1;
    }
    int rc = json_object_set_new(acts, outcome, json_integer(n));
    json_t *bo = json_object_get(o, "by_outcome");
    json_int_t prev = json_integer_value(json_object_get(bo, outcome));
    rc |= json_object_set_new(bo, outcome, json_integer(prev + n));
    return rc;
}

static int row_cps(json_t *o, sqlite3_stmt *st)
{
    return json_object_set_new(o, "checkpoints", json_integer(sqlite3_column_int64(st, 0)));
}

static int row_last_cp(json_t *o, sqlite3_stmt *st)
{
    const char *pk = (const char *)sqlite3_column_text(st, 2);
    return json_object_set_new(o, "last_checkpoint",
                               json_pack("{sIsIss}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
                                         "time", (json_int_t)sqlite3_column_int64(st, 1),
                                         "public_key", pk ? pk : ""));
}

agc_status agc_audit_stats(json_t **out, agc_audit *a)
{
    *out = NULL;
    agc_ctx *prev = agc_json_enter(a->ctx);
    json_t *o = json_pack("{s{}s{}snsI}", "by_action", "by_outcome", "last_checkpoint", "pending",
                          (json_int_t)a->npending);
    agc_json_leave(prev);
    if (!o)
        return agc_error_set(a->ctx, AGC_ENOMEM, "audit", "out of memory computing stats");
    int rc = sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL);
    agc_status r = rc == SQLITE_OK ? AGC_OK
                                   : agc__audit_db_error(a->db, a->path, rc,
                                                         "starting a read transaction", a->ctx);
    if (r == AGC_OK)
        r = stats_query(a,
                        "SELECT count(*), min(time_ms), max(time_ms), coalesce(max(seq), 0) "
                        "FROM records",
                        o, row_totals);
    if (r == AGC_OK)
        r = stats_query(a,
                        "SELECT action, outcome, count(*) FROM records GROUP BY action, outcome "
                        "ORDER BY action, outcome",
                        o, row_action);
    if (r == AGC_OK)
        r = stats_query(a, "SELECT count(*) FROM checkpoints", o, row_cps);
    if (r == AGC_OK)
        r = stats_query(a,
                        "SELECT seq, time_ms, public_key FROM checkpoints ORDER BY seq DESC "
                        "LIMIT 1",
                        o, row_last_cp);
    sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
    if (r != AGC_OK) {
        prev = agc_json_enter(a->ctx);
        json_decref(o);
        agc_json_leave(prev);
        return r;
    }
    *out = o;
    return AGC_OK;
}
