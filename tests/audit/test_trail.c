/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The audit trail in one process: appending chains records that verify;
 * every kind of tampering, done with SQL on the database or as text on a
 * JSONL export, is found and the first bad record named; signed checkpoints
 * catch a cut-off tail and a wrong key; secrets never reach the files;
 * batching, the event sink, and an out-of-memory sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/clock.h"
#include "agentc/event.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "audit/audit_int.h"

#define KEY_ENV "AGC_TEST_AUDIT_KEY"

typedef struct fixture {
    char *dir;
    char db[512];
    char jsonl[512];
    char pub[AGC_AUDIT_HEX_SIZE];
    agc_ctx *ctx;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = agc_test_tmpdir();
    snprintf(f->db, sizeof f->db, "%s/sub/audit.db", f->dir);
    snprintf(f->jsonl, sizeof f->jsonl, "%s/export.jsonl", f->dir);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    /* a fresh signing key per test, in the environment */
    unsigned char seed[32];
    randombytes_buf(seed, sizeof seed);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, seed, sizeof seed);
    setenv(KEY_ENV, hex, 1);
    assert_int_equal(agc_audit_key_public(f->pub, "env:" KEY_ENV, f->ctx), AGC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agc_ctx_free(f->ctx);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static agc_audit *open_trail_mode(fixture *f, unsigned checkpoint_every, agc_audit_durability mode)
{
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.durability = mode;
    o.batch_records = 1000;
    o.checkpoint_every = checkpoint_every;
    o.signing_key_ref = checkpoint_every ? "env:" KEY_ENV : NULL;
    agc_audit *a = NULL;
    agc_status st = agc_audit_open(&a, f->db, &o, f->ctx);
    if (st != AGC_OK)
        fail_msg("open: %s", agc_ctx_errmsg(f->ctx));
    return a;
}

static agc_audit *open_trail(fixture *f, unsigned checkpoint_every)
{
    return open_trail_mode(f, checkpoint_every, AGC_AUDIT_SYNC_EACH);
}

static void append_n(agc_audit *a, int n)
{
    for (int i = 0; i < n; i++) {
        json_t *p = json_pack("{sisss{sb}}", "i", i + 1, "text", "hello", "meta", "flag", 1);
        agc_audit_entry e = {.actor = "agent:test",
                             .run_id = "run_1",
                             .action = "tool.call",
                             .outcome = i % 7 == 0 ? "denied" : "ok",
                             .payload = p};
        if (i % 3 == 0)
            e.subject = "user-42";
        uint64_t seq = 0;
        assert_int_equal(agc_audit_append(a, &e, &seq), AGC_OK);
        json_decref(p);
    }
}

/* A trail of n records, written in one batch (closing commits it). */
static void make_trail(fixture *f, int n, unsigned checkpoint_every)
{
    agc_audit *a = open_trail_mode(f, checkpoint_every, AGC_AUDIT_SYNC_BATCH);
    append_n(a, n);
    agc_audit_close(a);
}

static void run_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("sql %s: %s", sql, err);
    sqlite3_close(db);
}

/* Verifies path and expects failure with want in the message (or success when want NULL). */
static void expect_verify(fixture *f, const char *path, const char *pub, const char *want,
                          uint64_t bad_seq)
{
    agc_audit_verify_opts vo = AGC_AUDIT_VERIFY_OPTS_INIT;
    vo.public_key = pub;
    agc_audit_verify_result res;
    agc_status st = agc_audit_verify_file(&res, path, &vo, f->ctx);
    if (st != AGC_OK)
        fail_msg("verify %s: %s", path, agc_ctx_errmsg(f->ctx));
    if (!want) {
        if (!res.ok)
            fail_msg("expected valid, got: %s", res.message);
        return;
    }
    if (res.ok || !strstr(res.message, want))
        fail_msg("expected '%s', got: %s", want, res.message);
    if (bad_seq)
        assert_int_equal(res.bad_seq, bad_seq);
}

static void appends_are_numbered_and_chained(void **state)
{
    fixture *f = *state;
    agc_audit *a = open_trail(f, 0);
    for (uint64_t i = 1; i <= 20; i++) {
        agc_audit_entry e = {.action = "model.call", .outcome = "ok"};
        uint64_t seq = 0;
        assert_int_equal(agc_audit_append(a, &e, &seq), AGC_OK);
        assert_int_equal(seq, i);
    }
    agc_audit_verify_result res;
    assert_int_equal(agc_audit_verify(&res, a, NULL), AGC_OK);
    assert_true(res.ok);
    assert_int_equal(res.records, 20);
    assert_int_equal(res.last_seq, 20);
    assert_int_equal(strlen(res.last_hash), 64);
    agc_audit_close(a);
    struct stat sb;
    assert_int_equal(stat(f->db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    expect_verify(f, f->db, NULL, NULL, 0);
}

static void rejects_bad_entries_and_opts(void **state)
{
    fixture *f = *state;
    agc_audit *a = open_trail(f, 0);
    agc_audit_entry e = {.action = "x"};
    assert_int_equal(agc_audit_append(a, &e, NULL), AGC_EINVAL);
    json_t *arr = json_array();
    agc_audit_entry e2 = {.action = "x", .outcome = "ok", .payload = arr};
    assert_int_equal(agc_audit_append(a, &e2, NULL), AGC_EINVAL);
    json_decref(arr);
    agc_audit_close(a);
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.checkpoint_every = 5;
    assert_int_equal(agc_audit_open(&a, f->db, &o, f->ctx), AGC_EINVAL);
    assert_null(a);
    o.signing_key_ref = "env:AGC_TEST_AUDIT_NO_SUCH_KEY";
    assert_int_equal(agc_audit_open(&a, f->db, &o, f->ctx), AGC_ENOTFOUND);
    /* an SQLite file of another kind */
    char other[600];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    run_sql(other, "CREATE TABLE t(x)");
    assert_int_equal(agc_audit_open(&a, other, NULL, f->ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "not an agentc audit trail"));
}

/* ---- tampering with the database --------------------------------------------------- */

static void detects_modified_payload(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    run_sql(f->db, "UPDATE records SET payload = '{\"i\":4242}' WHERE seq = 42");
    expect_verify(f, f->db, NULL, "record 42: hash mismatch (payload or fields modified)", 42);
}

static void detects_modified_time(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    run_sql(f->db, "UPDATE records SET time_ms = time_ms + 1 WHERE seq = 42");
    expect_verify(f, f->db, NULL, "record 42: hash mismatch", 42);
}

static void detects_deleted_middle_record(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    run_sql(f->db, "DELETE FROM records WHERE seq = 42");
    expect_verify(f, f->db, NULL, "seq gap: 41 -> 43 (record deleted)", 43);
}

static void detects_deleted_first_record(void **state)
{
    fixture *f = *state;
    make_trail(f, 10, 0);
    run_sql(f->db, "DELETE FROM records WHERE seq = 1");
    expect_verify(f, f->db, NULL, "trail starts at record 2", 2);
}

/* Replaces record seq by a forged one whose hash is right for its (wrong) prev_hash. */
static void forge(fixture *f, uint64_t seq, const char *prev_hash)
{
    agc_audit_record r = {.seq = seq,
                          .time_ms = 1234,
                          .actor = "mallory",
                          .action = "tool.call",
                          .outcome = "ok",
                          .prev_hash = prev_hash};
    json_t *p = json_pack("{ss}", "forged", "yes");
    char hash[AGC_AUDIT_HEX_SIZE];
    assert_int_equal(agc__audit_hash(hash, &r, p, f->ctx), AGC_OK);
    json_decref(p);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "DELETE FROM records WHERE seq = %llu; INSERT INTO records(seq, time_ms, actor, "
             "action, outcome, payload, prev_hash, hash) VALUES(%llu, 1234, 'mallory', "
             "'tool.call', 'ok', '{\"forged\":\"yes\"}', '%s', '%s')",
             (unsigned long long)seq, (unsigned long long)seq, prev_hash, hash);
    run_sql(f->db, sql);
}

static void detects_forged_record_with_wrong_prev(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    forge(f, 42, "1111111111111111111111111111111111111111111111111111111111111111");
    expect_verify(f, f->db, NULL, "record 42: prev_hash does not match record 41", 42);
}

static void detects_forged_record_appended_at_the_end(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    forge(f, 101, AGC__AUDIT_GENESIS);
    expect_verify(f, f->db, NULL, "record 101: prev_hash does not match record 100", 101);
}

static void detects_reordered_records(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    /* swap every column of records 10 and 11 but seq */
    run_sql(f->db, "CREATE TEMP TABLE t AS SELECT * FROM records WHERE seq IN (10, 11);"
                   "UPDATE records SET (time_ms, actor, run_id, subject, action, outcome, "
                   "payload, prev_hash, hash) = (SELECT time_ms, actor, run_id, subject, action, "
                   "outcome, payload, prev_hash, hash FROM t WHERE t.seq = 21 - records.seq) "
                   "WHERE seq IN (10, 11)");
    expect_verify(f, f->db, NULL, "record 10: hash mismatch", 10);
}

static void truncated_tail_is_undetectable_without_checkpoints(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    run_sql(f->db, "DELETE FROM records WHERE seq > 90");
    expect_verify(f, f->db, NULL, NULL, 0);
}

static void detects_truncated_tail_with_checkpoints(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 10);
    expect_verify(f, f->db, f->pub, NULL, 0);
    run_sql(f->db, "DELETE FROM records WHERE seq > 90");
    expect_verify(f, f->db, f->pub, "trail ends at 90 but checkpoint 100 was signed (truncated)",
                  0);
}

static void detects_rewritten_chain_with_checkpoints(void **state)
{
    fixture *f = *state;
    make_trail(f, 60, 10);
    /* the attacker rewrites record 42 and recomputes every later hash */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    char prev[AGC_AUDIT_HEX_SIZE];
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT hash FROM records WHERE seq = 41", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    for (uint64_t seq = 42; seq <= 60; seq++) {
        agc_audit_record r = {
            .seq = seq, .time_ms = 1, .action = "tool.call", .outcome = "ok", .prev_hash = prev};
        json_t *p = json_object();
        char hash[AGC_AUDIT_HEX_SIZE];
        assert_int_equal(agc__audit_hash(hash, &r, p, f->ctx), AGC_OK);
        json_decref(p);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "UPDATE records SET time_ms = 1, actor = NULL, run_id = NULL, subject = NULL, "
                 "outcome = 'ok', payload = '{}', prev_hash = '%s', hash = '%s' WHERE seq = %llu",
                 prev, hash, (unsigned long long)seq);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        memcpy(prev, hash, sizeof prev);
    }
    sqlite3_close(db);
    expect_verify(f, f->db, f->pub, "checkpoint 50: signed hash does not match record 50", 50);
    /* the stored key cannot help the attacker either: the signature still covers the old hash */
    expect_verify(f, f->db, NULL, "checkpoint 50: signed hash does not match record 50", 50);
}

static void detects_checkpoint_signed_with_another_key(void **state)
{
    fixture *f = *state;
    make_trail(f, 30, 10);
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char other[65];
    sodium_bin2hex(other, sizeof other, pk, sizeof pk);
    expect_verify(f, f->db, other, "checkpoint 10: bad signature", 0);
    /* a forged signature is caught even against the stored key */
    run_sql(f->db, "UPDATE checkpoints SET sig = replace(sig, substr(sig, 1, 2), 'ff') "
                   "WHERE seq = 20");
    expect_verify(f, f->db, NULL, "checkpoint 20: bad signature", 0);
}

/* ---- tampering with a JSONL export ------------------------------------------------- */

typedef struct lines {
    char **v;
    size_t n;
} lines;

static void export_jsonl(fixture *f)
{
    agc_audit *a = NULL;
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.read_only = true;
    assert_int_equal(agc_audit_open(&a, f->db, &o, f->ctx), AGC_OK);
    FILE *out = fopen(f->jsonl, "w");
    assert_int_equal(agc_audit_export(a, NULL, AGC_AUDIT_FORMAT_JSONL, out), AGC_OK);
    fclose(out);
    agc_audit_close(a);
}

static lines read_lines(const char *path)
{
    lines l = {0};
    FILE *in = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        l.v = realloc(l.v, (l.n + 1) * sizeof *l.v);
        l.v[l.n++] = strdup(line);
    }
    free(line);
    fclose(in);
    return l;
}

static void write_lines(const char *path, lines *l)
{
    FILE *out = fopen(path, "w");
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i])
            fputs(l->v[i], out);
        free(l->v[i]);
    }
    free(l->v);
    fclose(out);
}

/* Index of the line of record seq. */
static size_t line_of(lines *l, uint64_t seq)
{
    char key[40];
    snprintf(key, sizeof key, "\"seq\":%llu,", (unsigned long long)seq);
    for (size_t i = 0; i < l->n; i++)
        if (strstr(l->v[i], key))
            return i;
    fail_msg("no line for record %llu", (unsigned long long)seq);
    return 0;
}

static void replace_in(char **line, const char *from, const char *to)
{
    char *p = strstr(*line, from);
    assert_non_null(p);
    char *n = NULL;
    assert_true(asprintf(&n, "%.*s%s%s", (int)(p - *line), *line, to, p + strlen(from)) > 0);
    free(*line);
    *line = n;
}

static void jsonl_export_verifies(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 10);
    export_jsonl(f);
    expect_verify(f, f->jsonl, f->pub, NULL, 0);
    lines l = read_lines(f->jsonl);
    assert_int_equal(l.n, 110); /* 10 checkpoint lines first, then the records */
    assert_non_null(strstr(l.v[0], "{\"checkpoint\":10,"));
    assert_non_null(strstr(l.v[10], "{\"action\":\"tool.call\""));
    write_lines(f->jsonl, &l);
}

static void jsonl_detects_modified_payload_and_time(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    export_jsonl(f);
    lines l = read_lines(f->jsonl);
    replace_in(&l.v[line_of(&l, 42)], "\"i\":42", "\"i\":43");
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, NULL, "record 42: hash mismatch", 42);
    export_jsonl(f);
    l = read_lines(f->jsonl);
    replace_in(&l.v[line_of(&l, 42)], "\"time\":", "\"time\":1");
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, NULL, "record 42: hash mismatch", 42);
    /* an extra field is a modification too, though the hash does not cover it */
    export_jsonl(f);
    l = read_lines(f->jsonl);
    replace_in(&l.v[line_of(&l, 42)], "{\"action\"", "{\"note\":1,\"action\"");
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, NULL, "record 42: fields missing, extra", 42);
}

static void jsonl_detects_deleted_and_reordered_lines(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    export_jsonl(f);
    lines l = read_lines(f->jsonl);
    size_t i = line_of(&l, 42);
    free(l.v[i]);
    l.v[i] = NULL;
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, NULL, "seq gap: 41 -> 43 (record deleted)", 43);
    export_jsonl(f);
    l = read_lines(f->jsonl);
    size_t a = line_of(&l, 10), b = line_of(&l, 11);
    char *t = l.v[a];
    l.v[a] = l.v[b];
    l.v[b] = t;
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, NULL, "record 10: out of order", 10);
}

static void jsonl_detects_forged_line(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 0);
    export_jsonl(f);
    lines l = read_lines(f->jsonl);
    agc_audit_record r = {.seq = 42,
                          .time_ms = 5,
                          .action = "tool.call",
                          .outcome = "ok",
                          .prev_hash = AGC__AUDIT_GENESIS};
    json_t *p = json_object();
    char hash[AGC_AUDIT_HEX_SIZE];
    assert_int_equal(agc__audit_hash(hash, &r, p, f->ctx), AGC_OK);
    json_decref(p);
    r.hash = hash;
    r.payload = "{}";
    char *line = NULL;
    assert_int_equal(agc_audit_record_to_jsonl(&line, NULL, &r, f->ctx), AGC_OK);
    size_t i = line_of(&l, 42);
    free(l.v[i]);
    l.v[i] = strdup(line);
    agc_free(f->ctx, line);
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, NULL, "record 42: prev_hash does not match record 41", 42);
}

static void jsonl_detects_truncation_only_with_checkpoints(void **state)
{
    fixture *f = *state;
    make_trail(f, 100, 10);
    export_jsonl(f);
    lines l = read_lines(f->jsonl);
    for (uint64_t s = 91; s <= 100; s++) {
        size_t i = line_of(&l, s);
        free(l.v[i]);
        l.v[i] = strdup("");
    }
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, f->pub, "trail ends at 90 but checkpoint 100 was signed", 0);
    /* without its checkpoint lines the cut is invisible, unless checkpoints are required */
    l = read_lines(f->jsonl);
    for (size_t i = 0; i < 10; i++) {
        free(l.v[i]);
        l.v[i] = NULL;
    }
    write_lines(f->jsonl, &l);
    expect_verify(f, f->jsonl, f->pub, NULL, 0);
    agc_audit_verify_opts vo = AGC_AUDIT_VERIFY_OPTS_INIT;
    vo.require_checkpoint = true;
    agc_audit_verify_result res;
    assert_int_equal(agc_audit_verify_file(&res, f->jsonl, &vo, f->ctx), AGC_OK);
    assert_false(res.ok);
    assert_non_null(strstr(res.message, "no signed checkpoint"));
    vo.require_checkpoint = false;
    vo.min_seq = 95;
    assert_int_equal(agc_audit_verify_file(&res, f->jsonl, &vo, f->ctx), AGC_OK);
    assert_false(res.ok);
    assert_non_null(strstr(res.message, "trail ends at 90 but record 95"));
}

/* ---- redaction --------------------------------------------------------------------- */

static bool file_contains(const char *path, const char *needle)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return false;
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, in)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(in);
    bool hit = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return hit;
}

static void secrets_never_reach_the_files(void **state)
{
    fixture *f = *state;
    static const char secret[] = "hunter2-correct-horse-battery";
    static const char key[] = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    assert_int_equal(agc_redact_add_secret(f->ctx, secret, strlen(secret)), AGC_OK);
    agc_audit *a = open_trail(f, 0);
    char both[256];
    snprintf(both, sizeof both, "token=%s and %s", secret, key);
    json_t *p = json_pack("{sss[s]s{ss}}", "args", both, "list", key, "nested", secret, "x");
    agc_audit_entry e = {.actor = secret, .action = "tool.call", .outcome = "ok", .payload = p};
    for (int i = 0; i < 5; i++)
        assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    json_decref(p);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    assert_false(file_contains(wal, secret));
    assert_false(file_contains(wal, key));
    FILE *out = fopen(f->jsonl, "w");
    assert_int_equal(agc_audit_export(a, NULL, AGC_AUDIT_FORMAT_JSONL, out), AGC_OK);
    fclose(out);
    agc_audit_close(a);
    assert_false(file_contains(f->db, secret));
    assert_false(file_contains(f->db, key));
    assert_false(file_contains(f->jsonl, secret));
    assert_false(file_contains(f->jsonl, key));
    assert_true(file_contains(f->jsonl, AGC_REDACTED));
    expect_verify(f, f->jsonl, NULL, NULL, 0);
}

/* ---- batching ---------------------------------------------------------------------- */

static void batched_records_commit_when_full_on_flush_and_on_age(void **state)
{
    fixture *f = *state;
    agc_manual_clock clk = {.now_ms = 1700000000000, .mono_ns = 1};
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &clk);
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.durability = AGC_AUDIT_SYNC_BATCH;
    o.batch_records = 4;
    o.batch_ms = 50;
    agc_audit *a = NULL;
    assert_int_equal(agc_audit_open(&a, f->db, &o, f->ctx), AGC_OK);
    agc_audit_entry e = {.action = "model.call", .outcome = "ok"};
    uint64_t seq = 99;
    assert_int_equal(agc_audit_append(a, &e, &seq), AGC_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(agc_audit_pending(a), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    assert_int_equal(agc_audit_pending(a), 0); /* the 4th filled the batch */
    assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    agc_manual_clock_advance(&clk, 60);
    assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    assert_int_equal(agc_audit_pending(a), 0); /* the oldest was 60 ms old */
    assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    assert_int_equal(agc_audit_flush(a), AGC_OK);
    assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK); /* close flushes this one */
    agc_audit_close(a);
    agc_audit_verify_result res;
    assert_int_equal(agc_audit_verify_file(&res, f->db, NULL, f->ctx), AGC_OK);
    assert_true(res.ok);
    assert_int_equal(res.records, 8);
    agc_ctx_set_clock(f->ctx, NULL, NULL);
}

/* ---- queries, stats, export formats ------------------------------------------------ */

static agc_status count_cb(const agc_audit_record *r, void *user)
{
    (void)r;
    (*(int *)user)++;
    return AGC_OK;
}

static void queries_filter_and_stats_count(void **state)
{
    fixture *f = *state;
    agc_audit *a = open_trail(f, 10);
    append_n(a, 21);
    agc_audit_entry e = {.action = "policy.denied", .outcome = "denied", .run_id = "run_2"};
    assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    int n = 0;
    agc_audit_filter flt = AGC_AUDIT_FILTER_INIT;
    flt.subject = "user-42";
    assert_int_equal(agc_audit_query(a, &flt, count_cb, &n), AGC_OK);
    assert_int_equal(n, 7);
    n = 0;
    flt.subject = NULL;
    flt.action = "policy.";
    assert_int_equal(agc_audit_query(a, &flt, count_cb, &n), AGC_OK);
    assert_int_equal(n, 1);
    n = 0;
    flt.action = NULL;
    flt.run_id = "run_1";
    flt.limit = 5;
    assert_int_equal(agc_audit_query(a, &flt, count_cb, &n), AGC_OK);
    assert_int_equal(n, 5);
    json_t *s = NULL;
    assert_int_equal(agc_audit_stats(&s, a), AGC_OK);
    assert_int_equal(agc_json_int(s, "records", 0), 22);
    assert_int_equal(agc_json_int(s, "checkpoints", 0), 2);
    assert_int_equal(agc_json_int(json_object_get(s, "last_checkpoint"), "seq", 0), 20);
    assert_int_equal(agc_json_int(json_object_get(s, "by_outcome"), "denied", 0), 4);
    assert_int_equal(
        agc_json_int(json_object_get(json_object_get(s, "by_action"), "tool.call"), "denied", 0),
        3);
    json_decref(s);
    FILE *out = fopen(f->jsonl, "w");
    assert_int_equal(agc_audit_export(a, NULL, AGC_AUDIT_FORMAT_CSV, out), AGC_OK);
    fclose(out);
    lines l = read_lines(f->jsonl);
    assert_int_equal(l.n, 23);
    assert_non_null(strstr(l.v[1], "\"{\"\"i\"\":1,"));
    write_lines(f->jsonl, &l);
    agc_audit_close(a);
}

/* ---- the event sink ---------------------------------------------------------------- */

static agc_status collect_cb(const agc_audit_record *r, void *user)
{
    json_t *arr = user;
    json_array_append_new(arr, json_pack("{ssssss?ss}", "action", r->action, "outcome", r->outcome,
                                         "actor", r->actor, "payload", r->payload));
    return AGC_OK;
}

static void sink_records_runtime_events(void **state)
{
    fixture *f = *state;
    agc_audit *a = open_trail(f, 0);
    agc_event_bus *bus = NULL;
    assert_int_equal(agc_event_bus_new(&bus, f->ctx), AGC_OK);
    agc_event_sink *sink = NULL;
    assert_int_equal(agc_audit_sink_new(&sink, a, NULL), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(bus, sink, AGC_AUDIT_EVENT_MASK), AGC_OK);
    json_t *d = json_pack("{ssss}", "agent", "coder", "model", "m1");
    agc_event_emit(bus, AGC_EVENT_RUN_STARTED, "run_1", d);
    json_decref(d);
    d = json_pack("{sssss{ss}}", "call_id", "c1", "tool", "shell", "arguments", "cmd", "ls -la");
    assert_int_equal(agc_event_emitx(bus, AGC_EVENT_TOOL_CALL, NULL, "run_1", "coder", d), AGC_OK);
    json_decref(d);
    d = json_pack("{sssssbss}", "call_id", "c1", "tool", "shell", "ok", 0, "output", "nope");
    agc_event_emit(bus, AGC_EVENT_TOOL_RESULT, "run_1", d);
    json_decref(d);
    d = json_pack("{ssssssss}", "call_id", "c2", "tool", "rm", "by", "policy", "reason", "no");
    agc_event_emit(bus, AGC_EVENT_TOOL_DENIED, "run_1", d);
    json_decref(d);
    d = json_pack("{ssssssss}", "call_id", "c3", "tool", "x", "decision", "denied", "by", "alice");
    agc_event_emit(bus, AGC_EVENT_APPROVAL_DECIDED, "run_1", d);
    json_decref(d);
    agc_event_emit(bus, AGC_EVENT_TURN_STARTED, "run_1", NULL); /* not audited */
    d = json_pack("{sssi}", "status", "completed", "turns", 2);
    agc_event_emit(bus, AGC_EVENT_RUN_FINISHED, "run_1", d);
    json_decref(d);
    agc_event_bus_free(bus);
    json_t *arr = json_array();
    assert_int_equal(agc_audit_query(a, NULL, collect_cb, arr), AGC_OK);
    assert_int_equal(json_array_size(arr), 6);
    static const char *const want[][3] = {
        {"run.started", "ok", "agentc"},         {"tool.call", "ok", "agent:coder"},
        {"tool.result", "error", "agentc"},      {"policy.denied", "denied", "agentc"},
        {"approval.decided", "denied", "alice"}, {"run.finished", "ok", "agentc"},
    };
    for (size_t i = 0; i < 6; i++) {
        json_t *r = json_array_get(arr, i);
        assert_string_equal(agc_json_str(r, "action", ""), want[i][0]);
        assert_string_equal(agc_json_str(r, "outcome", ""), want[i][1]);
        assert_string_equal(agc_json_str(r, "actor", ""), want[i][2]);
    }
    /* content is replaced by its digest */
    const char *p = agc_json_str(json_array_get(arr, 1), "payload", "");
    assert_null(strstr(p, "ls -la"));
    assert_non_null(strstr(p, "\"arguments\":{\"bytes\":"));
    assert_null(strstr(agc_json_str(json_array_get(arr, 2), "payload", ""), "nope"));
    json_decref(arr);
    agc_audit_verify_result res;
    assert_int_equal(agc_audit_verify(&res, a, NULL), AGC_OK);
    assert_true(res.ok);
    agc_audit_close(a);
}

/* ---- out of memory ----------------------------------------------------------------- */

typedef struct sweep {
    fixture *f;
    int run;
} sweep;

static void remove_trail(const char *path)
{
    char side[700];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static agc_status sweep_fn(agc_ctx *ctx, void *user)
{
    /* a fresh trail per run, on tmpfs when there is one: hundreds of runs, each fsyncing */
    sweep *s = user;
    char path[600];
    snprintf(path, sizeof path, "%s/agc-audit-oom-%d.db",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : s->f->dir, (int)getpid());
    remove_trail(path);
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.checkpoint_every = 2;
    o.signing_key_ref = "env:" KEY_ENV;
    o.durability = s->run++ % 2 ? AGC_AUDIT_SYNC_BATCH : AGC_AUDIT_SYNC_EACH;
    o.batch_records = 2;
    agc_audit *a = NULL;
    agc_status st = agc_audit_open(&a, path, &o, ctx);
    for (int i = 0; st == AGC_OK && i < 3; i++) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_t *p = json_pack("{sis[s]}", "i", i, "l", "v");
        agc_json_leave(prev);
        agc_audit_entry e = {.actor = "a", .action = "tool.call", .outcome = "ok", .payload = p};
        st = p ? agc_audit_append(a, &e, NULL) : AGC_ENOMEM;
        prev = agc_json_enter(ctx);
        json_decref(p);
        agc_json_leave(prev);
    }
    if (st == AGC_OK)
        st = agc_audit_flush(a);
    agc_audit_verify_result res;
    if (st == AGC_OK)
        st = agc_audit_verify(&res, a, NULL);
    if (st == AGC_OK && !res.ok)
        fail_msg("trail invalid after OOM sweep step: %s", res.message);
    agc_audit_close(a);
    if (st == AGC_OK) {
        st = agc_audit_verify_file(&res, path, NULL, ctx);
        if (st == AGC_OK && !res.ok)
            fail_msg("file invalid after OOM sweep step: %s", res.message);
    }
    remove_trail(path);
    return st;
}

static void survives_allocation_failures(void **state)
{
    sweep s = {.f = *state};
    long runs = agc_test_oom_sweep(sweep_fn, &s, 0);
    assert_true(runs > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(appends_are_numbered_and_chained),
        T(rejects_bad_entries_and_opts),
        T(detects_modified_payload),
        T(detects_modified_time),
        T(detects_deleted_middle_record),
        T(detects_deleted_first_record),
        T(detects_forged_record_with_wrong_prev),
        T(detects_forged_record_appended_at_the_end),
        T(detects_reordered_records),
        T(truncated_tail_is_undetectable_without_checkpoints),
        T(detects_truncated_tail_with_checkpoints),
        T(detects_rewritten_chain_with_checkpoints),
        T(detects_checkpoint_signed_with_another_key),
        T(jsonl_export_verifies),
        T(jsonl_detects_modified_payload_and_time),
        T(jsonl_detects_deleted_and_reordered_lines),
        T(jsonl_detects_forged_line),
        T(jsonl_detects_truncation_only_with_checkpoints),
        T(secrets_never_reach_the_files),
        T(batched_records_commit_when_full_on_flush_and_on_age),
        T(queries_filter_and_stats_count),
        T(sink_records_runtime_events),
        T(survives_allocation_failures),
#undef T
    };
    return cmocka_run_group_tests_name("audit_trail", tests, NULL, NULL);
}
