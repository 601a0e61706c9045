/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Crash safety of the SQLite session store: a child process appends steps
 * (and updates its run now and then) in a loop and reports each seq on a pipe
 * once step_append has returned; the parent SIGKILLs it at a random moment,
 * several rounds, alternating synchronous NORMAL and FULL. After every kill
 * the file must reopen, hold every reported step intact, number steps
 * 1..N without gaps and pass PRAGMA integrity_check.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "agentc/store.h"

#define ROUNDS 8
#define RUN_ID "crash"

/* The payload of step seq: recognisable and long enough to span WAL frames. */
static json_t *payload(int64_t seq)
{
    char pad[600];
    for (size_t i = 0; i < sizeof pad - 1; i++)
        pad[i] = (char)('a' + (seq * 7 + (int64_t)i) % 26);
    pad[sizeof pad - 1] = '\0';
    return json_pack("{sIss}", "n", (json_int_t)seq, "pad", pad);
}

/* Child: open, continue numbering, report each committed seq; runs until killed. */
static int child_loop(const char *path, agc_store_sync sync, int report)
{
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 10;
    agc_sqlite_store_opts o = AGC_SQLITE_STORE_OPTS_INIT;
    o.sync = sync;
    agc_store *s = NULL;
    agc_status st = agc_store_open_sqlite(&s, path, &o, ctx);
    json_t *steps = NULL;
    if (st == AGC_OK)
        st = agc_store_steps_load(s, RUN_ID, 0, &steps);
    int64_t next = (int64_t)json_array_size(steps) + 1;
    json_decref(steps);
    for (int i = 0; st == AGC_OK && i < 1000000; i++, next++) {
        json_t *d = payload(next);
        int64_t seq = 0;
        st = agc_store_step_append(s, RUN_ID, "tick", d, &seq);
        json_decref(d);
        if (st == AGC_OK && seq != next)
            st = AGC_ERROR;
        if (st == AGC_OK && write(report, &seq, sizeof seq) != sizeof seq)
            st = AGC_EIO;
        if (st == AGC_OK && seq % 10 == 0) {
            json_t *patch = json_pack("{s{sI}}", "summary", "turns", (json_int_t)seq);
            st = agc_store_run_update(s, RUN_ID, patch);
            json_decref(patch);
        }
    }
    fprintf(stderr, "crash child: %s: %s\n", agc_status_name(st), agc_ctx_errmsg(ctx));
    return 1;
}

static void integrity_ok(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (strcmp(res, "ok") != 0)
        fail_msg("integrity_check: %s", res);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_key_check", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void killed_writer_loses_no_reported_step(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    char *dir = agc_test_tmpdir(), *path = NULL;
    assert_true(asprintf(&path, "%s/crash.db", dir) > 0);
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_store *s = NULL;
    assert_int_equal(agc_store_open_sqlite(&s, path, NULL, ctx), AGC_OK);
    json_t *run = json_pack("{ssss}", "id", RUN_ID, "status", "running");
    assert_int_equal(agc_store_run_create(s, run), AGC_OK);
    json_decref(run);
    agc_store_close(s);
    s = NULL;

    int64_t reported_max = 0, total_reported = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        agc_store_sync sync = round % 2 ? AGC_STORE_SYNC_FULL : AGC_STORE_SYNC_NORMAL;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            _exit(child_loop(path, sync, p[1]));
        }
        close(p[1]);
        /* first rounds may kill during open; later ones mid-stream */
        int delay_ms = round < 2 ? rand() % 5 : 20 + rand() % 180;
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int ws = 0;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        if (!(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL))
            fail_msg("seed %u round %d: child ended on its own (status %d)", seed, round, ws);
        int64_t seq;
        ssize_t n;
        while ((n = read(p[0], &seq, sizeof seq)) == (ssize_t)sizeof seq) {
            if (seq != reported_max + 1)
                fail_msg("seed %u round %d: child reported seq %lld after %lld", seed, round,
                         (long long)seq, (long long)reported_max);
            reported_max = seq;
            total_reported++;
        }
        assert_true(n == 0);
        close(p[0]);

        integrity_ok(path);
        assert_int_equal(agc_store_open_sqlite(&s, path, NULL, ctx), AGC_OK);
        json_t *steps = NULL;
        assert_int_equal(agc_store_steps_load(s, RUN_ID, 0, &steps), AGC_OK);
        size_t count = json_array_size(steps);
        /* a step may commit just before the kill and never be reported, never the reverse */
        if ((int64_t)count < reported_max || (int64_t)count > reported_max + 1)
            fail_msg("seed %u round %d: %zu steps stored, %lld reported", seed, round, count,
                     (long long)reported_max);
        for (size_t k = 0; k < count; k++) {
            json_t *step = json_array_get(steps, k);
            assert_int_equal(agc_json_int(step, "seq", 0), (long long)k + 1);
            json_t *want = payload((int64_t)k + 1);
            if (!json_equal(json_object_get(step, "data"), want))
                fail_msg("seed %u round %d: step %zu is damaged", seed, round, k + 1);
            json_decref(want);
        }
        json_decref(steps);
        reported_max = (int64_t)count; /* the next child continues from what is stored */
        json_t *got = NULL;
        assert_int_equal(agc_store_run_get(s, RUN_ID, &got), AGC_OK);
        assert_string_equal(agc_json_str(got, "status", ""), "running");
        json_decref(got);
        agc_store_close(s);
        s = NULL;
    }
    /* the mid-stream rounds must have done real work */
    print_message("seed %u: %lld steps reported over %d kills\n", seed, (long long)total_reported,
                  ROUNDS);
    assert_true(total_reported > 0);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
    agc_test_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_writer_loses_no_reported_step),
    };
    return cmocka_run_group_tests_name("store_store_crash", tests, NULL, NULL);
}
