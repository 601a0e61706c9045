/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Privacy: sealing with per-subject keys and crypto-shredding (the content is
 * in no file, before or after erasure; the key is in no file after it; the
 * chain still verifies), consents, per-field minimisation, retention pruning
 * of the trail (still verifiable; a forged anchor is caught), the store's
 * sealed runs and erasure, and the fast record hash against the general one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/clock.h"
#include "agentc/event.h"
#include "agentc/json.h"
#include "agentc/privacy.h"
#include "agentc/store.h"
#include "audit/audit_int.h"

#define MARK "Orchid-Marker-Zanzibar-99"

typedef struct fixture {
    char *dir;
    char trail[512], priv[512], store[512];
    agc_ctx *ctx;
    agc_privacy *p;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = agc_test_tmpdir();
    snprintf(f->trail, sizeof f->trail, "%s/audit.db", f->dir);
    snprintf(f->priv, sizeof f->priv, "%s/privacy.db", f->dir);
    snprintf(f->store, sizeof f->store, "%s/sessions.db", f->dir);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_privacy_open(&f->p, f->priv, f->ctx), AGC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agc_privacy_close(f->p);
    agc_ctx_free(f->ctx);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Whether any file in dir whose name starts with base holds needle (bytes). */
static bool files_contain(const char *dir, const char *needle, size_t nlen)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    static const char *const bases[] = {"audit.db", "privacy.db", "sessions.db"};
    for (size_t b = 0; b < 3; b++)
        for (size_t i = 0; i < 4; i++) {
            char path[700];
            snprintf(path, sizeof path, "%s/%s%s", dir, bases[b], sfx[i]);
            FILE *fp = fopen(path, "rb");
            if (!fp)
                continue;
            fseek(fp, 0, SEEK_END);
            long n = ftell(fp);
            rewind(fp);
            char *buf = malloc((size_t)n + 1);
            size_t got = fread(buf, 1, (size_t)n, fp);
            fclose(fp);
            bool hit = memmem(buf, got, needle, nlen) != NULL;
            free(buf);
            if (hit)
                return true;
        }
    return false;
}

static bool files_contain_str(const char *dir, const char *s)
{
    return files_contain(dir, s, strlen(s));
}

static void seals_opens_and_shreds(void **state)
{
    fixture *f = *state;
    json_t *env = NULL;
    assert_int_equal(agc_privacy_seal(&env, f->p, "alice", MARK, strlen(MARK)), AGC_OK);
    assert_true(agc_privacy_is_envelope(env));
    char *pt = NULL;
    size_t n = 0;
    assert_int_equal(agc_privacy_unseal(&pt, &n, f->p, env), AGC_OK);
    assert_string_equal(pt, MARK);
    agc_free(f->ctx, pt);
    /* a modified ciphertext does not authenticate */
    json_t *bad = json_deep_copy(env);
    char *ct = strdup(json_string_value(json_object_get(bad, "ct")));
    ct[2] = ct[2] == 'A' ? 'B' : 'A';
    json_object_set_new(bad, "ct", json_string(ct));
    free(ct);
    assert_int_equal(agc_privacy_unseal(&pt, NULL, f->p, bad), AGC_EINVAL);
    /* another subject's name in the envelope does not open it either */
    json_object_set_new(bad, "ct", json_copy(json_object_get(env, "ct")));
    json_object_set_new(bad, "sub", json_string("bob"));
    assert_int_not_equal(agc_privacy_unseal(&pt, NULL, f->p, bad), AGC_OK);
    json_decref(bad);
    assert_false(files_contain_str(f->dir, MARK));
    /* the key, as stored, before erasure */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->priv, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT key FROM subject_keys WHERE subject = 'alice'", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char keyhex[65];
    snprintf(keyhex, sizeof keyhex, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    unsigned char key[32];
    assert_true(agc__audit_unhex(key, 32, keyhex));
    bool had = false;
    assert_int_equal(agc_privacy_erase(f->p, "alice", NULL, &had), AGC_OK);
    assert_true(had);
    assert_int_equal(agc_privacy_unseal(&pt, NULL, f->p, env), AGC_ENOTFOUND);
    assert_false(files_contain_str(f->dir, keyhex));
    assert_false(files_contain(f->dir, (const char *)key, sizeof key));
    /* a new key for the same subject does not open the old content */
    json_t *env2 = NULL;
    assert_int_equal(agc_privacy_seal(&env2, f->p, "alice", "x", 1), AGC_OK);
    assert_int_equal(agc_privacy_unseal(&pt, NULL, f->p, env), AGC_ENOTFOUND);
    json_t *er = NULL;
    assert_int_equal(agc_privacy_erasures(&er, f->p), AGC_OK);
    assert_int_equal(json_array_size(er), 1);
    json_decref(er);
    json_decref(env2);
    json_decref(env);
}

static void consents_are_granted_checked_and_revoked(void **state)
{
    fixture *f = *state;
    bool ok = true;
    assert_int_equal(agc_privacy_consent_check(&ok, f->p, "alice", "support"), AGC_OK);
    assert_false(ok);
    assert_int_equal(agc_privacy_consent_grant(f->p, "alice", "support"), AGC_OK);
    assert_int_equal(agc_privacy_consent_check(&ok, f->p, "alice", "support"), AGC_OK);
    assert_true(ok);
    assert_int_equal(agc_privacy_consent_check(&ok, f->p, "alice", "marketing"), AGC_OK);
    assert_false(ok);
    assert_int_equal(agc_privacy_consent_revoke(f->p, "alice", "support"), AGC_OK);
    assert_int_equal(agc_privacy_consent_check(&ok, f->p, "alice", "support"), AGC_OK);
    assert_false(ok);
    assert_int_equal(agc_privacy_consent_revoke(f->p, "alice", "support"), AGC_ENOTFOUND);
    assert_int_equal(agc_privacy_consent_grant(f->p, "", "support"), AGC_EINVAL);
    json_t *l = NULL;
    assert_int_equal(agc_privacy_consent_list(&l, f->p, NULL), AGC_OK);
    assert_int_equal(json_array_size(l), 1);
    assert_false(json_is_true(json_object_get(json_array_get(l, 0), "current")));
    json_decref(l);
    /* erasure revokes */
    assert_int_equal(agc_privacy_consent_grant(f->p, "bob", "support"), AGC_OK);
    assert_int_equal(agc_privacy_erase(f->p, "bob", NULL, NULL), AGC_OK);
    assert_int_equal(agc_privacy_consent_check(&ok, f->p, "bob", "support"), AGC_OK);
    assert_false(ok);
}

static void sealed_trail_verifies_before_and_after_erasure(void **state)
{
    fixture *f = *state;
    agc_audit *a = NULL;
    assert_int_equal(agc_audit_open(&a, f->trail, NULL, f->ctx), AGC_OK);
    agc_audit_set_privacy(a, f->p);
    json_t *pl = json_pack("{s:s}", "note", MARK);
    for (int i = 0; i < 5; i++) {
        agc_audit_entry e = {.action = "tool.call",
                             .outcome = "ok",
                             .subject = i % 2 ? "alice" : NULL,
                             .payload = pl};
        assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    }
    agc_audit_verify_result r;
    assert_int_equal(agc_audit_verify(&r, a, NULL), AGC_OK);
    assert_true(r.ok);
    assert_int_equal(agc_privacy_erase(f->p, "alice", NULL, NULL), AGC_OK);
    agc_audit_entry er = {.action = "erasure", .outcome = "ok", .subject = "alice"};
    assert_int_equal(agc_audit_append(a, &er, NULL), AGC_OK);
    assert_int_equal(agc_audit_verify(&r, a, NULL), AGC_OK);
    assert_true(r.ok);
    assert_int_equal(r.records, 6);
    agc_audit_close(a);
    json_decref(pl);
    /* records without a subject keep their content; sealed ones do not show it */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->trail, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM records WHERE payload LIKE '%" MARK "%'", -1, &st,
                       NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM records WHERE payload LIKE '%$enc%'", -1, &st,
                       NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void prune_keeps_the_trail_verifiable(void **state)
{
    fixture *f = *state;
    agc_manual_clock clk = {.now_ms = 1700000000000, .mono_ns = 1};
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &clk);
    agc_audit *a = NULL;
    assert_int_equal(agc_audit_open(&a, f->trail, NULL, f->ctx), AGC_OK);
    for (int i = 0; i < 15; i++) {
        if (i == 10)
            agc_manual_clock_advance(&clk, 10 * 86400000LL);
        agc_audit_entry e = {.action = "tool.call", .outcome = "ok"};
        assert_int_equal(agc_audit_append(a, &e, NULL), AGC_OK);
    }
    uint64_t n = 0;
    assert_int_equal(agc_audit_prune(a, clk.now_ms - 5 * 86400000LL, &n), AGC_OK);
    assert_int_equal(n, 10);
    agc_audit_verify_result r;
    assert_int_equal(agc_audit_verify(&r, a, NULL), AGC_OK);
    assert_true(r.ok);
    assert_int_equal(r.records, 6); /* 11..15 + the purge record */
    /* the JSONL export carries the anchor and verifies on its own */
    char path[600];
    snprintf(path, sizeof path, "%s/pruned.jsonl", f->dir);
    FILE *fp = fopen(path, "w");
    assert_int_equal(agc_audit_export(a, NULL, AGC_AUDIT_FORMAT_JSONL, fp), AGC_OK);
    fclose(fp);
    assert_int_equal(agc_audit_verify_file(&r, path, NULL, f->ctx), AGC_OK);
    assert_true(r.ok);
    /* nothing older: a second prune deletes nothing */
    assert_int_equal(agc_audit_prune(a, clk.now_ms - 5 * 86400000LL, &n), AGC_OK);
    assert_int_equal(n, 0);
    agc_audit_close(a);
    /* deleting the purge record (or records after the anchor) is caught */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->trail, &db), SQLITE_OK);
    sqlite3_exec(db, "DELETE FROM records WHERE action = 'retention.purge'", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(agc_audit_verify_file(&r, f->trail, NULL, f->ctx), AGC_OK);
    assert_false(r.ok);
    assert_non_null(strstr(r.message, "pruned prefix"));
    agc_ctx_set_clock(f->ctx, NULL, NULL);
}

static void field_policies_keep_redact_hash_drop(void **state)
{
    fixture *f = *state;
    json_t *v = json_pack("{s:s, s:{s:s, s:[{s:s}]}, s:s, s:i}", "keep", "k", "nested", "args",
                          "secret stuff", "list", "drop", "gone", "out", "text", "n", 5);
    json_t *pol = json_pack("{s:s, s:s, s:s, s:s}", "args", "hash", "drop", "drop", "out", "redact",
                            "keep", "keep");
    assert_int_equal(agc_privacy_apply_fields(v, pol, f->ctx), AGC_OK);
    assert_string_equal(agc_json_str(v, "keep", ""), "k");
    assert_string_equal(agc_json_str(v, "out", ""), "[REDACTED]");
    json_t *args = json_object_get(json_object_get(v, "nested"), "args");
    assert_int_equal(json_integer_value(json_object_get(args, "bytes")), 12);
    assert_int_equal(strlen(agc_json_str(args, "sha256", "")), 64);
    json_t *item = json_array_get(json_object_get(json_object_get(v, "nested"), "list"), 0);
    assert_null(json_object_get(item, "drop"));
    json_t *badpol = json_pack("{s:s}", "x", "shred");
    json_t *w = json_pack("{s:s}", "x", "y");
    assert_int_equal(agc_privacy_apply_fields(w, badpol, f->ctx), AGC_EINVAL);
    json_decref(w);
    json_decref(badpol);
    json_decref(pol);
    json_decref(v);
}

static void fast_hash_matches_the_general_one(void **state)
{
    fixture *f = *state;
    const char *const texts[] = {"{}", "{\"a\":[1,2,{\"b\":\"\\u00e9\\n\"}]}"};
    const char *const actors[] = {"agent:x", "we\"ird\\actor\n", NULL};
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < 3; k++) {
            json_t *pl = NULL;
            assert_int_equal(agc_json_parse(&pl, texts[i], strlen(texts[i]), "t", f->ctx), AGC_OK);
            char *canon = NULL;
            size_t len = 0;
            assert_int_equal(agc_json_canonical(&canon, &len, pl, f->ctx), AGC_OK);
            agc_audit_record r = {.seq = 42,
                                  .time_ms = 1700000000123,
                                  .actor = actors[k],
                                  .run_id = k == 1 ? "rün" : "run_1",
                                  .subject = k == 2 ? NULL : "s",
                                  .action = "tool.call",
                                  .outcome = "ok",
                                  .prev_hash = AGC__AUDIT_GENESIS};
            char h1[AGC_AUDIT_HEX_SIZE], h2[AGC_AUDIT_HEX_SIZE];
            assert_int_equal(agc__audit_hash(h1, &r, pl, f->ctx), AGC_OK);
            assert_int_equal(agc__audit_hash_text(h2, &r, canon, len, f->ctx), AGC_OK);
            assert_string_equal(h1, h2);
            agc_free(f->ctx, canon);
            json_decref(pl);
        }
}

static void store_seals_subject_runs_and_erases_them(void **state)
{
    fixture *f = *state;
    agc_store *s = NULL;
    assert_int_equal(agc_store_open_sqlite(&s, f->store, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_store_set_privacy(s, f->p, "alice", AGC_RETAIN_FULL), AGC_OK);
    json_t *run = json_pack("{s:s, s:s, s:s}", "id", "r1", "agent", "a", "task", MARK);
    assert_int_equal(agc_store_run_create(s, run), AGC_OK);
    json_decref(run);
    json_t *d = json_pack("{s:s}", "text", MARK);
    assert_int_equal(agc_store_step_append(s, "r1", "model.response", d, NULL), AGC_OK);
    json_t *patch = json_pack("{s:s, s:{s:s}}", "status", "finished", "summary", "answer", MARK);
    assert_int_equal(agc_store_run_update(s, "r1", patch), AGC_OK);
    json_decref(patch);
    /* a run without a subject through another handle stays in the clear */
    assert_int_equal(agc_store_set_privacy(s, f->p, NULL, AGC_RETAIN_FULL), AGC_OK);
    run = json_pack("{s:s, s:s}", "id", "r2", "task", "plain task");
    assert_int_equal(agc_store_run_create(s, run), AGC_OK);
    json_decref(run);
    assert_int_equal(agc_store_step_append(s, "r2", "note", d, NULL), AGC_OK);
    json_decref(d);
    agc_store_close(s);
    assert_false(files_contain_str(f->dir, "\"task\":\"" MARK));
    /* reading opens the envelopes (also from a handle without the db: privacy_db) */
    assert_int_equal(agc_store_open_sqlite(&s, f->store, NULL, f->ctx), AGC_OK);
    json_t *got = NULL;
    assert_int_equal(agc_store_run_get(s, "r1", &got), AGC_OK);
    assert_string_equal(agc_json_str(got, "task", ""), MARK);
    assert_string_equal(agc_json_str(got, "status", ""), "finished");
    assert_string_equal(agc_json_str(json_object_get(got, "summary"), "answer", ""), MARK);
    json_decref(got);
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(s, "r1", 0, &steps), AGC_OK);
    assert_string_equal(agc_json_str(json_object_get(json_array_get(steps, 0), "data"), "text", ""),
                        MARK);
    json_decref(steps);
    /* the key gone: the content reads as erased */
    assert_int_equal(agc_privacy_erase(f->p, "alice", NULL, NULL), AGC_OK);
    assert_int_equal(agc_store_steps_load(s, "r1", 0, &steps), AGC_OK);
    assert_true(
        json_is_true(json_object_get(json_object_get(json_array_get(steps, 0), "data"), "erased")));
    json_decref(steps);
    size_t n = 0;
    assert_int_equal(agc_store_erase_subject(s, "alice", &n), AGC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(agc_store_run_get(s, "r1", &got), AGC_ENOTFOUND);
    assert_int_equal(agc_store_run_get(s, "r2", &got), AGC_OK);
    json_decref(got);
    /* retention: everything updated before now + 1 ms */
    assert_int_equal(agc_store_purge_before(s, agc_clock_now_ms(f->ctx) + 1, &n), AGC_OK);
    assert_int_equal(n, 1);
    agc_store_close(s);
}

static void retain_none_keeps_digests_only(void **state)
{
    fixture *f = *state;
    agc_store *s = NULL;
    assert_int_equal(agc_store_open_sqlite(&s, f->store, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_store_set_privacy(s, NULL, NULL, AGC_RETAIN_NONE), AGC_OK);
    json_t *run = json_pack("{s:s, s:s}", "id", "r1", "task", MARK);
    assert_int_equal(agc_store_run_create(s, run), AGC_OK);
    json_decref(run);
    json_t *d = json_pack("{s:s, s:{s:s}}", "output", MARK, "call", "arguments", MARK);
    assert_int_equal(agc_store_step_append(s, "r1", "tool.result", d, NULL), AGC_OK);
    json_decref(d);
    agc_store_close(s);
    assert_false(files_contain_str(f->dir, MARK));
}

static void sink_applies_field_policies(void **state)
{
    fixture *f = *state;
    agc_audit *a = NULL;
    assert_int_equal(agc_audit_open(&a, f->trail, NULL, f->ctx), AGC_OK);
    json_t *fields = json_pack("{s:s}", "tool", "drop");
    agc_audit_sink_opts so = AGC_AUDIT_SINK_OPTS_INIT;
    so.include_content = true;
    so.fields = fields;
    agc_event_sink *sink = NULL;
    assert_int_equal(agc_audit_sink_new(&sink, a, &so), AGC_OK);
    json_decref(fields);
    agc_event_bus *bus = NULL;
    assert_int_equal(agc_event_bus_new(&bus, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(bus, sink, AGC_AUDIT_EVENT_MASK), AGC_OK);
    json_t *data = json_pack("{s:s, s:s}", "tool", "read_file", "call_id", "c1");
    assert_int_equal(agc_event_emitx(bus, AGC_EVENT_TOOL_CALL, NULL, "r", NULL, data), AGC_OK);
    json_decref(data);
    assert_int_equal(agc_event_bus_flush(bus), AGC_OK);
    agc_event_bus_free(bus);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->trail, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT payload FROM records", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_null(strstr((const char *)sqlite3_column_text(st, 0), "read_file"));
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 0), "c1"));
    sqlite3_finalize(st);
    sqlite3_close(db);
    agc_audit_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(seals_opens_and_shreds),
        T(consents_are_granted_checked_and_revoked),
        T(sealed_trail_verifies_before_and_after_erasure),
        T(prune_keeps_the_trail_verifiable),
        T(field_policies_keep_redact_hash_drop),
        T(fast_hash_matches_the_general_one),
        T(store_seals_subject_runs_and_erases_them),
        T(retain_none_keeps_digests_only),
        T(sink_applies_field_policies),
#undef T
    };
    return cmocka_run_group_tests_name("audit_privacy", tests, NULL, NULL);
}
