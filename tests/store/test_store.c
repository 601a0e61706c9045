/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of the SQLite session store on real files: run create/get/update/
 * list/delete, step numbering (also across reopen), file modes, schema
 * versions, lock and I/O errors, redaction down to the raw database bytes,
 * the default path and an OOM sweep. Several writers at once are in
 * test_store_concurrency.c, SIGKILL safety in test_store_crash.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "agentc/store.h"

/* ---- fixture ------------------------------------------------------------------- */

typedef struct fx {
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx;
    char *dir;
    char *path;
    agc_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->ctx = agc_test_ctx_new(&f->a);
    f->clk.now_ms = 1700000000000;
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &f->clk);
    f->dir = agc_test_tmpdir();
    assert_true(asprintf(&f->path, "%s/sessions.db", f->dir) > 0);
    assert_int_equal(agc_store_open_sqlite(&f->s, f->path, NULL, f->ctx), AGC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    agc_store_close(f->s);
    agc_ctx_free(f->ctx);
    assert_int_equal(f->a.live, 0);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static void reopen(fx *f)
{
    agc_store_close(f->s);
    f->s = NULL;
    assert_int_equal(agc_store_open_sqlite(&f->s, f->path, NULL, f->ctx), AGC_OK);
}

static json_t *js(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

static void create(fx *f, const char *json)
{
    json_t *run = js(json);
    agc_status st = agc_store_run_create(f->s, run);
    if (st != AGC_OK)
        fail_msg("run_create %s: %s", json, agc_ctx_errmsg(f->ctx));
    json_decref(run);
}

static int64_t append(fx *f, const char *run_id, const char *kind, const char *data)
{
    json_t *d = data ? js(data) : NULL;
    int64_t seq = -1;
    agc_status st = agc_store_step_append(f->s, run_id, kind, d, &seq);
    if (st != AGC_OK)
        fail_msg("step_append: %s", agc_ctx_errmsg(f->ctx));
    json_decref(d);
    return seq;
}

/* Runs sql on path through a separate connection; returns the first column of the first row. */
static long long raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    long long v = -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- runs ---------------------------------------------------------------------- */

static void run_create_then_get_returns_doc_with_store_timestamps(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"r1\",\"agent\":\"coder\",\"status\":\"running\",\"task\":\"fix it\","
              "\"custom\":[1,2],\"created_ms\":5}");
    json_t *got = NULL;
    assert_int_equal(agc_store_run_get(f->s, "r1", &got), AGC_OK);
    json_t *want = js("{\"id\":\"r1\",\"agent\":\"coder\",\"status\":\"running\",\"task\":\"fix "
                      "it\",\"custom\":[1,2],\"created_ms\":1700000000000,"
                      "\"updated_ms\":1700000000000}");
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    assert_ptr_equal(agc_store_ctx(f->s), f->ctx);
}

static void run_create_existing_id_is_eexists(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"dup\"}");
    json_t *run = js("{\"id\":\"dup\",\"agent\":\"x\"}");
    assert_int_equal(agc_store_run_create(f->s, run), AGC_EEXISTS);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "dup"));
    json_decref(run);
}

static void run_get_unknown_is_enotfound_naming_id(void **state)
{
    fx *f = *state;
    json_t *got = (json_t *)1;
    assert_int_equal(agc_store_run_get(f->s, "nope-42", &got), AGC_ENOTFOUND);
    assert_null(got);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "nope-42"));
    assert_int_equal(agc_store_run_delete(f->s, "nope-42"), AGC_ENOTFOUND);
    json_t *patch = js("{\"status\":\"failed\"}");
    assert_int_equal(agc_store_run_update(f->s, "nope-42", patch), AGC_ENOTFOUND);
    json_decref(patch);
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(f->s, "nope-42", 0, &steps), AGC_ENOTFOUND);
}

static void invalid_ids_and_documents_are_einval(void **state)
{
    fx *f = *state;
    char longid[130];
    memset(longid, 'a', 129);
    longid[129] = '\0';
    const char *bad_ids[] = {"", longid, "a\nb", "tab\there", "\x7f", "bad\xff"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        json_t *got = NULL;
        assert_int_equal(agc_store_run_get(f->s, bad_ids[i], &got), AGC_EINVAL);
        json_t *run = json_object();
        json_object_set_new(run, "id", json_stringn_nocheck(bad_ids[i], strlen(bad_ids[i])));
        assert_int_equal(agc_store_run_create(f->s, run), AGC_EINVAL);
        json_decref(run);
        assert_int_equal(agc_store_step_append(f->s, bad_ids[i], "k", NULL, NULL), AGC_EINVAL);
    }
    longid[128] = '\0';
    create(f, "{\"id\":\"ok\"}");
    json_t *run = json_pack("{ss}", "id", longid);
    assert_int_equal(agc_store_run_create(f->s, run), AGC_OK); /* 128 bytes is the limit */
    json_decref(run);
    assert_int_equal(agc_store_run_get(f->s, NULL, &run), AGC_EINVAL);
    const char *bad_docs[] = {"[1]",
                              "{}",
                              "{\"id\":7}",
                              "{\"id\":\"x\",\"agent\":1}",
                              "{\"id\":\"x\",\"summary\":[]}",
                              "{\"id\":null}"};
    for (size_t i = 0; i < sizeof bad_docs / sizeof *bad_docs; i++) {
        run = js(bad_docs[i]);
        assert_int_equal(agc_store_run_create(f->s, run), AGC_EINVAL);
        json_decref(run);
    }
    assert_int_equal(agc_store_run_create(f->s, NULL), AGC_EINVAL);
    assert_int_equal(agc_store_step_append(f->s, "ok", "", NULL, NULL), AGC_EINVAL);
    assert_int_equal(agc_store_step_append(f->s, "ok", "a\x01", NULL, NULL), AGC_EINVAL);
    json_t *filter = js("{\"colour\":\"red\"}");
    json_t *list = NULL;
    assert_int_equal(agc_store_run_list(f->s, filter, &list), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "colour"));
    json_decref(filter);
    filter = js("{\"limit\":-1}");
    assert_int_equal(agc_store_run_list(f->s, filter, &list), AGC_EINVAL);
    json_decref(filter);
}

static void run_update_merges_members_and_null_deletes(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"u\",\"agent\":\"a\",\"status\":\"running\",\"task\":\"t\","
              "\"summary\":{\"turns\":1,\"cost\":0.5},\"extra\":true}");
    agc_manual_clock_advance(&f->clk, 250);
    json_t *patch = js("{\"status\":\"finished\",\"task\":null,\"summary\":{\"turns\":3,"
                       "\"reason\":\"done\",\"cost\":null},\"new\":[1]}");
    assert_int_equal(agc_store_run_update(f->s, "u", patch), AGC_OK);
    json_decref(patch);
    json_t *got = NULL;
    assert_int_equal(agc_store_run_get(f->s, "u", &got), AGC_OK);
    json_t *want = js("{\"id\":\"u\",\"agent\":\"a\",\"status\":\"finished\",\"summary\":"
                      "{\"turns\":3,\"reason\":\"done\"},\"extra\":true,\"new\":[1],"
                      "\"created_ms\":1700000000000,\"updated_ms\":1700000000250}");
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    /* the indexed columns follow the document */
    json_t *filter = js("{\"status\":\"finished\"}"), *list = NULL;
    assert_int_equal(agc_store_run_list(f->s, filter, &list), AGC_OK);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    json_decref(filter);
    assert_int_equal(raw_sql(f->path, "SELECT count(*) FROM runs WHERE task IS NULL"), 1);
    /* the id and the timestamps belong to the store */
    const char *bad[] = {"{\"id\":\"other\"}", "{\"created_ms\":1}", "{\"updated_ms\":1}",
                         "{\"agent\":3}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        patch = js(bad[i]);
        assert_int_equal(agc_store_run_update(f->s, "u", patch), AGC_EINVAL);
        json_decref(patch);
    }
    patch = js("{\"id\":\"u\"}");
    assert_int_equal(agc_store_run_update(f->s, "u", patch), AGC_OK);
    json_decref(patch);
}

static void run_list_filters_newest_first_with_limit(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"p1\",\"agent\":\"boss\",\"status\":\"running\"}");
    agc_manual_clock_advance(&f->clk, 10);
    create(f, "{\"id\":\"c1\",\"agent\":\"worker\",\"status\":\"finished\",\"parent_id\":\"p1\"}");
    agc_manual_clock_advance(&f->clk, 10);
    create(f, "{\"id\":\"c2\",\"agent\":\"worker\",\"status\":\"running\",\"parent_id\":\"p1\"}");
    agc_manual_clock_advance(&f->clk, 10);
    create(f, "{\"id\":\"p2\",\"agent\":\"boss\",\"status\":\"failed\"}");
    struct {
        const char *filter;
        const char *ids;
    } cases[] = {
        {NULL, "p2 c2 c1 p1"},
        {"{}", "p2 c2 c1 p1"},
        {"{\"status\":\"running\"}", "c2 p1"},
        {"{\"agent\":\"worker\"}", "c2 c1"},
        {"{\"parent_id\":\"p1\"}", "c2 c1"},
        {"{\"parent_id\":null}", "p2 p1"},
        {"{\"agent\":\"worker\",\"status\":\"finished\"}", "c1"},
        {"{\"agent\":\"boss\",\"status\":\"running\",\"parent_id\":null}", "p1"},
        {"{\"limit\":2}", "p2 c2"},
        {"{\"limit\":0}", ""},
        {"{\"agent\":\"nobody\"}", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *filter = cases[i].filter ? js(cases[i].filter) : NULL, *list = NULL;
        assert_int_equal(agc_store_run_list(f->s, filter, &list), AGC_OK);
        char ids[128] = "";
        for (size_t k = 0; k < json_array_size(list); k++) {
            if (k)
                strcat(ids, " ");
            strcat(ids, agc_json_str(json_array_get(list, k), "id", "?"));
        }
        if (strcmp(ids, cases[i].ids) != 0)
            fail_msg("filter %s: got \"%s\", want \"%s\"", cases[i].filter, ids, cases[i].ids);
        json_decref(list);
        json_decref(filter);
    }
}

static void run_delete_cascades_steps(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"gone\"}");
    create(f, "{\"id\":\"kept\"}");
    for (int i = 0; i < 5; i++) {
        append(f, "gone", "message", "{\"i\":1}");
        append(f, "kept", "message", "{\"i\":2}");
    }
    assert_int_equal(agc_store_run_delete(f->s, "gone"), AGC_OK);
    json_t *got = NULL;
    assert_int_equal(agc_store_run_get(f->s, "gone", &got), AGC_ENOTFOUND);
    assert_int_equal(agc_store_steps_load(f->s, "gone", 0, &got), AGC_ENOTFOUND);
    assert_int_equal(raw_sql(f->path, "SELECT count(*) FROM steps WHERE run_id = 'gone'"), 0);
    assert_int_equal(raw_sql(f->path, "SELECT count(*) FROM steps WHERE run_id = 'kept'"), 5);
    /* a new run of the same id starts again at seq 1 */
    create(f, "{\"id\":\"gone\"}");
    assert_int_equal(append(f, "gone", "message", NULL), 1);
}

/* ---- steps --------------------------------------------------------------------- */

static void steps_append_and_load_after_seq(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"s\"}");
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(f->s, "s", 0, &steps), AGC_OK);
    assert_int_equal(json_array_size(steps), 0);
    json_decref(steps);
    assert_int_equal(append(f, "s", "user", "{\"text\":\"hi\"}"), 1);
    agc_manual_clock_advance(&f->clk, 7);
    assert_int_equal(append(f, "s", "llm", "[1,\"two\",{\"b\":null,\"a\":1.5}]"), 2);
    assert_int_equal(append(f, "s", "note", "\"just a string\""), 3);
    assert_int_equal(append(f, "s", "empty", NULL), 4);
    assert_int_equal(agc_store_step_append(f->s, "s", "x", NULL, NULL), AGC_OK); /* seq_out NULL */
    assert_int_equal(agc_store_steps_load(f->s, "s", 0, &steps), AGC_OK);
    json_t *want = js("[{\"seq\":1,\"kind\":\"user\",\"time_ms\":1700000000000,\"data\":{\"text\":"
                      "\"hi\"}},{\"seq\":2,\"kind\":\"llm\",\"time_ms\":1700000000007,\"data\":"
                      "[1,\"two\",{\"a\":1.5,\"b\":null}]},{\"seq\":3,\"kind\":\"note\","
                      "\"time_ms\":1700000000007,\"data\":\"just a string\"},{\"seq\":4,\"kind\":"
                      "\"empty\",\"time_ms\":1700000000007,\"data\":null},{\"seq\":5,\"kind\":"
                      "\"x\",\"time_ms\":1700000000007,\"data\":null}]");
    assert_true(json_equal(steps, want));
    json_decref(steps);
    json_decref(want);
    assert_int_equal(agc_store_steps_load(f->s, "s", 3, &steps), AGC_OK);
    assert_int_equal(json_array_size(steps), 2);
    assert_int_equal(agc_json_int(json_array_get(steps, 0), "seq", 0), 4);
    json_decref(steps);
    assert_int_equal(agc_store_steps_load(f->s, "s", 5, &steps), AGC_OK);
    assert_int_equal(json_array_size(steps), 0);
    json_decref(steps);
    assert_int_equal(agc_store_steps_load(f->s, "s", -3, &steps), AGC_OK);
    assert_int_equal(json_array_size(steps), 5);
    json_decref(steps);
}

static void step_append_to_unknown_run_is_enotfound(void **state)
{
    fx *f = *state;
    int64_t seq = 99;
    assert_int_equal(agc_store_step_append(f->s, "ghost", "k", NULL, &seq), AGC_ENOTFOUND);
    assert_int_equal(seq, 0);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "ghost"));
    assert_int_equal(raw_sql(f->path, "SELECT count(*) FROM steps"), 0);
}

static void seq_continues_after_reopen(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"r\"}");
    for (int i = 1; i <= 3; i++)
        assert_int_equal(append(f, "r", "k", "{}"), i);
    reopen(f);
    assert_int_equal(append(f, "r", "k", "{}"), 4);
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(f->s, "r", 0, &steps), AGC_OK);
    assert_int_equal(json_array_size(steps), 4);
    json_decref(steps);
}

/* ---- files, schema, errors ---------------------------------------------------------- */

static void file_is_0600_and_parents_0700_whatever_the_umask(void **state)
{
    fx *f = *state;
    char *path = NULL;
    assert_true(asprintf(&path, "%s/a/b/c/s.db", f->dir) > 0);
    mode_t old = umask(0);
    agc_store *s = NULL;
    agc_status st = agc_store_open_sqlite(&s, path, NULL, f->ctx);
    umask(old);
    assert_int_equal(st, AGC_OK);
    json_t *run = js("{\"id\":\"m\"}");
    assert_int_equal(agc_store_run_create(s, run), AGC_OK);
    json_decref(run);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *wal = NULL;
    assert_true(asprintf(&wal, "%s-wal", path) > 0);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    *strrchr(path, '/') = '\0';
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    agc_store_close(s);
    free(wal);
    free(path);
}

static void newer_schema_version_is_refused(void **state)
{
    fx *f = *state;
    agc_store_close(f->s);
    f->s = NULL;
    raw_sql(f->path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    assert_int_equal(agc_store_open_sqlite(&f->s, f->path, NULL, f->ctx), AGC_EUNSUPPORTED);
    assert_null(f->s);
    const char *msg = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(msg, "99"));
    assert_non_null(strstr(msg, f->path));
    assert_non_null(strstr(msg, "upgrade agentc"));
    raw_sql(f->path, "UPDATE meta SET value = '1' WHERE key = 'schema_version'");
    reopen(f);
}

static void foreign_and_corrupt_files_are_refused_naming_the_path(void **state)
{
    fx *f = *state;
    char *other = NULL, *junk = NULL;
    assert_true(asprintf(&other, "%s/other.db", f->dir) > 0);
    assert_true(asprintf(&junk, "%s/junk.db", f->dir) > 0);
    raw_sql(other, "CREATE TABLE t(x)");
    agc_store *s = NULL;
    assert_int_equal(agc_store_open_sqlite(&s, other, NULL, f->ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "not an agentc session store"));
    agc_test_write_file(junk, "this is not an SQLite database, just some text that is long "
                              "enough to have a header of a hundred bytes or so..........");
    assert_int_equal(agc_store_open_sqlite(&s, junk, NULL, f->ctx), AGC_EIO);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), junk));
    /* a directory where the file should be */
    assert_int_equal(agc_store_open_sqlite(&s, f->dir, NULL, f->ctx), AGC_EIO);
    assert_null(s);
    agc_sqlite_store_opts o = AGC_SQLITE_STORE_OPTS_INIT;
    o.version = 42;
    assert_int_equal(agc_store_open_sqlite(&s, other, &o, f->ctx), AGC_EINVAL);
    assert_int_equal(agc_store_open_sqlite(&s, "", NULL, f->ctx), AGC_EINVAL);
    free(other);
    free(junk);
}

static void locked_past_busy_timeout_is_ebusy(void **state)
{
    fx *f = *state;
    create(f, "{\"id\":\"l\"}");
    agc_store *s = NULL;
    agc_sqlite_store_opts o = AGC_SQLITE_STORE_OPTS_INIT;
    o.busy_timeout_ms = 50;
    o.sync = AGC_STORE_SYNC_FULL;
    assert_int_equal(agc_store_open_sqlite(&s, f->path, &o, f->ctx), AGC_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(agc_store_step_append(s, "l", "k", NULL, NULL), AGC_EBUSY);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "busy_timeout_ms"));
    /* reads still work in WAL mode while another connection writes */
    json_t *got = NULL;
    assert_int_equal(agc_store_run_get(s, "l", &got), AGC_OK);
    json_decref(got);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    int64_t seq = 0;
    assert_int_equal(agc_store_step_append(s, "l", "k", NULL, &seq), AGC_OK);
    assert_int_equal(seq, 1);
    agc_store_close(s);
}

/* ---- redaction ------------------------------------------------------------------- */

static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        if (n == 0)
            break;
        len += n;
    }
    fclose(fp);
    bool hit = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return hit;
}

#define SECRET        "hunter2-correct-horse-battery"
#define QUOTED_SECRET "pa\"ss\\word-1234"
#define API_KEY       "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"

static void redaction_keeps_secrets_out_of_the_database_files(void **state)
{
    fx *f = *state;
    assert_int_equal(agc_redact_add_secret(f->ctx, SECRET, strlen(SECRET)), AGC_OK);
    assert_int_equal(agc_redact_add_secret(f->ctx, QUOTED_SECRET, strlen(QUOTED_SECRET)), AGC_OK);
    assert_int_equal(agc_redact_add_secret(f->ctx, "31415926535", 11), AGC_OK);
    json_t *run = json_pack("{ss ss s{ss}}", "id", "sec", "task", "use " SECRET " please",
                            "summary", "note", API_KEY);
    assert_int_equal(agc_store_run_create(f->s, run), AGC_OK);
    json_decref(run);
    json_t *data =
        json_pack("{ss s[ss] s{ss} sI}", "text", "key=" API_KEY, "list", SECRET, "q=" QUOTED_SECRET,
                  "nested", SECRET, "as a key", "pin", (json_int_t)31415926535);
    int64_t seq = 0;
    assert_int_equal(agc_store_step_append(f->s, "sec", "tool_result", data, &seq), AGC_OK);
    json_decref(data);
    json_t *patch = json_pack("{s{ss}}", "summary", "reason", "leaked " SECRET);
    assert_int_equal(agc_store_run_update(f->s, "sec", patch), AGC_OK);
    json_decref(patch);
    /* what reads back is redacted, and still valid JSON */
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(f->s, "sec", 0, &steps), AGC_OK);
    json_t *d = json_object_get(json_array_get(steps, 0), "data");
    assert_string_equal(agc_json_str(d, "text", ""), "key=" AGC_REDACTED);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "list"), 0)),
                        AGC_REDACTED);
    assert_non_null(json_object_get(json_object_get(d, "nested"), AGC_REDACTED));
    assert_string_equal(agc_json_str(d, "pin", ""), AGC_REDACTED);
    json_decref(steps);
    json_t *got = NULL;
    assert_int_equal(agc_store_run_get(f->s, "sec", &got), AGC_OK);
    assert_string_equal(agc_json_str(got, "task", ""), "use " AGC_REDACTED " please");
    json_decref(got);
    /* the raw bytes of the database and its WAL hold none of it */
    char *wal = NULL;
    assert_true(asprintf(&wal, "%s-wal", f->path) > 0);
    const char *needles[] = {SECRET, API_KEY, QUOTED_SECRET, "pa\\\"ss", "31415926535"};
    for (int round = 0; round < 2; round++) {
        assert_true(file_contains(round ? f->path : wal, AGC_REDACTED));
        for (size_t i = 0; i < sizeof needles / sizeof *needles; i++) {
            if (file_contains(f->path, needles[i]) || file_contains(wal, needles[i]))
                fail_msg("\"%s\" reached the database files", needles[i]);
        }
        reopen(f); /* the second round checks after a checkpoint on close */
    }
    free(wal);
    /* a run id or step kind that the redactor would hide is refused */
    run = json_pack("{ss}", "id", "run-" SECRET);
    assert_int_equal(agc_store_run_create(f->s, run), AGC_EINVAL);
    json_decref(run);
    assert_int_equal(agc_store_step_append(f->s, "sec", API_KEY, NULL, NULL), AGC_EINVAL);
}

/* ---- default path, wrapper, OOM ---------------------------------------------------- */

static void default_path_follows_the_environment(void **state)
{
    fx *f = *state;
    char *saved[3];
    const char *names[3] = {"AGENTC_SESSIONS", "XDG_DATA_HOME", "HOME"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        saved[i] = v ? strdup(v) : NULL;
    }
    setenv("AGENTC_SESSIONS", "/x/s.db", 1);
    setenv("XDG_DATA_HOME", "/xdg", 1);
    setenv("HOME", "/home/u", 1);
    char *p = agc_store_default_path(f->ctx);
    assert_string_equal(p, "/x/s.db");
    agc_free(f->ctx, p);
    unsetenv("AGENTC_SESSIONS");
    p = agc_store_default_path(f->ctx);
    assert_string_equal(p, "/xdg/agentc/sessions.db");
    agc_free(f->ctx, p);
    setenv("XDG_DATA_HOME", "relative/ignored", 1);
    p = agc_store_default_path(f->ctx);
    assert_string_equal(p, "/home/u/.local/share/agentc/sessions.db");
    agc_free(f->ctx, p);
    unsetenv("XDG_DATA_HOME");
    unsetenv("HOME");
    assert_null(agc_store_default_path(f->ctx));
    assert_int_equal(agc_ctx_last_error(f->ctx)->code, AGC_ENOTFOUND);
    for (int i = 0; i < 3; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        free(saved[i]);
    }
}

static int destroyed;
static void fake_destroy(void *self)
{
    (void)self;
    destroyed++;
}

static void wrapper_checks_ops_version_and_missing_methods(void **state)
{
    fx *f = *state;
    agc_store_ops ops = {
        .version = AGC_STORE_OPS_VERSION + 1, .name = "fake", .destroy = fake_destroy};
    agc_store *s = NULL;
    destroyed = 0;
    assert_int_equal(agc_store_new(&s, &ops, NULL, f->ctx), AGC_EINVAL);
    assert_null(s);
    assert_int_equal(destroyed, 1); /* ownership of self was taken */
    ops.version = AGC_STORE_OPS_VERSION;
    assert_int_equal(agc_store_new(&s, &ops, NULL, f->ctx), AGC_OK);
    json_t *run = js("{\"id\":\"x\"}");
    assert_int_equal(agc_store_run_create(s, run), AGC_EUNSUPPORTED);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "fake"));
    json_decref(run);
    agc_store_close(s);
    assert_int_equal(destroyed, 2);
    agc_store_close(NULL);
}

static agc_status oom_body(agc_ctx *ctx, void *user)
{
    const char *path = user;
    char side[512];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    agc_store *s = NULL;
    agc_status st = agc_store_open_sqlite(&s, path, NULL, ctx);
    if (st != AGC_OK)
        return st;
    json_t *run = json_pack("{ss ss s{si}}", "id", "oom", "agent", "a", "summary", "turns", 1);
    json_t *data = json_pack("{ss s[i s]}", "text", "hello sk-abcdefghijklmnop1234", "l", 1, "x");
    json_t *patch = json_pack("{ss s{s n}}", "status", "finished", "summary", "turns");
    json_t *got = NULL;
    st = agc_store_run_create(s, run);
    if (st == AGC_OK)
        st = agc_store_step_append(s, "oom", "message", data, NULL);
    if (st == AGC_OK)
        st = agc_store_run_update(s, "oom", patch);
    if (st == AGC_OK)
        st = agc_store_steps_load(s, "oom", 0, &got);
    json_decref(got);
    got = NULL;
    if (st == AGC_OK)
        st = agc_store_run_get(s, "oom", &got);
    json_decref(got);
    got = NULL;
    if (st == AGC_OK)
        st = agc_store_run_list(s, NULL, &got);
    json_decref(got);
    json_decref(run);
    json_decref(data);
    json_decref(patch);
    agc_store_close(s);
    return st;
}

static void open_create_append_load_close_survive_oom(void **state)
{
    fx *f = *state;
    char *path = NULL;
    assert_true(asprintf(&path, "%s/oom/s.db", f->dir) > 0);
    long runs = agc_test_oom_sweep(oom_body, path, 0);
    assert_true(runs > 10);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(run_create_then_get_returns_doc_with_store_timestamps),
        T(run_create_existing_id_is_eexists),
        T(run_get_unknown_is_enotfound_naming_id),
        T(invalid_ids_and_documents_are_einval),
        T(run_update_merges_members_and_null_deletes),
        T(run_list_filters_newest_first_with_limit),
        T(run_delete_cascades_steps),
        T(steps_append_and_load_after_seq),
        T(step_append_to_unknown_run_is_enotfound),
        T(seq_continues_after_reopen),
        T(file_is_0600_and_parents_0700_whatever_the_umask),
        T(newer_schema_version_is_refused),
        T(foreign_and_corrupt_files_are_refused_naming_the_path),
        T(locked_past_busy_timeout_is_ebusy),
        T(redaction_keeps_secrets_out_of_the_database_files),
        T(default_path_follows_the_environment),
        T(wrapper_checks_ops_version_and_missing_methods),
        T(open_create_append_load_close_survive_oom),
#undef T
    };
    return cmocka_run_group_tests_name("store_store", tests, NULL, NULL);
}
