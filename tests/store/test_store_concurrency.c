/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Several writers on one session-store file at the same time: 4 processes
 * (fork) and 4 threads with a store and ctx each, appending to one shared run
 * and to runs of their own. Every run's steps must come out numbered 1..N
 * without gap or duplicate, each writer's steps once and in its order, and no
 * call may fail (the busy timeout absorbs lock waits).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "agentc/store.h"

typedef struct fx {
    agc_test_alloc a;
    agc_ctx *ctx;
    char *dir;
    char *path;
    agc_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->ctx = agc_test_ctx_new(&f->a);
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

static void create(fx *f, const char *id)
{
    json_t *run = json_pack("{ss}", "id", id);
    assert_int_equal(agc_store_run_create(f->s, run), AGC_OK);
    json_decref(run);
}

#define WRITERS    4
#define PER_WRITER 200

/* One writer: its own ctx and store; PER_WRITER steps to "shared" and to own-<c>. */
static agc_status write_steps(const char *path, int c, char *err, size_t errsize)
{
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return AGC_ENOMEM;
    agc_store *s = NULL;
    agc_sqlite_store_opts o = AGC_SQLITE_STORE_OPTS_INIT;
    o.busy_timeout_ms = 15000;
    agc_status st = agc_store_open_sqlite(&s, path, &o, ctx);
    char own[32];
    snprintf(own, sizeof own, "own-%d", c);
    for (int i = 0; st == AGC_OK && i < PER_WRITER; i++) {
        json_t *d = json_pack("{sisi}", "writer", c, "i", i);
        int64_t seq = 0;
        st = agc_store_step_append(s, "shared", "tick", d, &seq);
        if (st == AGC_OK)
            st = agc_store_step_append(s, own, "tick", d, &seq);
        if (st == AGC_OK && seq != i + 1)
            st = agc_error_set(ctx, AGC_ERROR, "test", "own run got seq %lld for step %d",
                               (long long)seq, i + 1);
        json_decref(d);
    }
    if (st != AGC_OK)
        snprintf(err, errsize, "writer %d: %s: %s", c, agc_status_name(st), agc_ctx_errmsg(ctx));
    agc_store_close(s);
    agc_ctx_free(ctx);
    return st;
}

static void prepare_runs(fx *f)
{
    create(f, "shared");
    for (int c = 0; c < WRITERS; c++) {
        char id[32];
        snprintf(id, sizeof id, "own-%d", c);
        create(f, id);
    }
}

static void check_runs(fx *f)
{
    reopen(f);
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(f->s, "shared", 0, &steps), AGC_OK);
    assert_int_equal(json_array_size(steps), WRITERS * PER_WRITER);
    int next[WRITERS] = {0};
    for (size_t k = 0; k < json_array_size(steps); k++) {
        json_t *step = json_array_get(steps, k);
        assert_int_equal(agc_json_int(step, "seq", 0), (long long)k + 1);
        json_t *d = json_object_get(step, "data");
        int c = (int)agc_json_int(d, "writer", -1);
        assert_true(c >= 0 && c < WRITERS);
        /* each writer's steps appear once, in its own order */
        assert_int_equal(agc_json_int(d, "i", -1), next[c]);
        next[c]++;
    }
    json_decref(steps);
    for (int c = 0; c < WRITERS; c++) {
        char own[32];
        snprintf(own, sizeof own, "own-%d", c);
        assert_int_equal(agc_store_steps_load(f->s, own, 0, &steps), AGC_OK);
        assert_int_equal(json_array_size(steps), PER_WRITER);
        for (size_t k = 0; k < PER_WRITER; k++)
            assert_int_equal(agc_json_int(json_array_get(steps, k), "seq", 0), (long long)k + 1);
        json_decref(steps);
    }
}

static void processes_appending_at_once_get_unique_contiguous_seqs(void **state)
{
    fx *f = *state;
    prepare_runs(f);
    agc_store_close(f->s); /* no connection crosses fork() */
    f->s = NULL;
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pids[WRITERS];
    for (int c = 0; c < WRITERS; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            close(gate[1]);
            char one, err[1200] = "";
            if (read(gate[0], &one, 1) != 0) /* EOF when the parent opens the gate */
                _exit(10);
            agc_status st = write_steps(f->path, c, err, sizeof err);
            if (st != AGC_OK)
                fprintf(stderr, "%s\n", err);
            _exit(st == AGC_OK ? 0 : 1);
        }
    }
    close(gate[0]);
    close(gate[1]); /* all children start now */
    for (int c = 0; c < WRITERS; c++) {
        int ws = 0;
        assert_int_equal(waitpid(pids[c], &ws, 0), pids[c]);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 0);
    }
    check_runs(f);
}

typedef struct worker {
    pthread_t th;
    const char *path;
    int c;
    pthread_barrier_t *start;
    agc_status st;
    char err[1200];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->start);
    w->st = write_steps(w->path, w->c, w->err, sizeof w->err);
    return NULL;
}

static void threads_with_a_store_each_get_unique_contiguous_seqs(void **state)
{
    fx *f = *state;
    prepare_runs(f);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, WRITERS), 0);
    worker w[WRITERS];
    memset(w, 0, sizeof w);
    for (int c = 0; c < WRITERS; c++) {
        w[c].path = f->path;
        w[c].c = c;
        w[c].start = &start;
        assert_int_equal(pthread_create(&w[c].th, NULL, worker_main, &w[c]), 0);
    }
    for (int c = 0; c < WRITERS; c++) {
        pthread_join(w[c].th, NULL);
        if (w[c].st != AGC_OK)
            fail_msg("%s", w[c].err);
    }
    pthread_barrier_destroy(&start);
    check_runs(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(processes_appending_at_once_get_unique_contiguous_seqs,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(threads_with_a_store_each_get_unique_contiguous_seqs, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("store_store_concurrency", tests, NULL, NULL);
}
