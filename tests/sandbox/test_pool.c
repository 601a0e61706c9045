/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The worker pool: a worker serves several calls, is replaced after
 * pool.max_calls calls and after any trap, and a worker killed from outside
 * mid-call gives a clean error, leaves no process behind and is replaced.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "agentc/sandbox_worker.h"
#include "sandbox_fixture.h"

static agc_sandbox_tool *make_pool(agc_ctx *ctx, uint32_t max_calls)
{
    SKIP_WITHOUT_COMPILER();
    const char *bin = getenv("AGC_BINARY_DIR");
    char wasm[4096];
    snprintf(wasm, sizeof wasm, "%s/wasm/probe.wasm", bin ? bin : ".");
    if (access(wasm, R_OK) != 0) {
        print_message("skipped: %s was not built\n", wasm);
        skip();
    }
    agc_sandbox_policy *p = NULL;
    assert_int_equal(agc_sandbox_policy_new(&p, ctx), AGC_OK);
    p->mode = AGC_SANDBOX_POOL;
    p->pool_max_calls = max_calls;
    p->memory_mb = 16;
    p->timeout_ms = 10000;
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_sandbox_tool_opts to = AGC_SANDBOX_TOOL_OPTS_INIT;
    to.compile = &co;
    agc_sandbox_tool *t = NULL;
    agc_status st = agc_sandbox_tool_new(&t, wasm, p, &to, ctx);
    if (st != AGC_OK)
        print_message("%s\n", agc_ctx_errmsg(ctx));
    assert_int_equal(st, AGC_OK);
    agc_sandbox_policy_free(p, ctx);
    return t;
}

static int pool_pid(agc_sandbox_tool *t)
{
    int pid = 0;
    assert_int_equal(agc_sandbox_tool_pool_pids(&pid, 1, t), 1);
    assert_true(pid > 0);
    return pid;
}

static bool gone(int pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

static void call_ok(agc_sandbox_tool *t, int expect_pid)
{
    agc_sandbox_call r;
    assert_int_equal(agc_sandbox_tool_call(&r, t, "hello"), AGC_OK);
    assert_string_equal(r.output, "hello from wasm\n");
    if (expect_pid)
        assert_int_equal(r.worker_pid, expect_pid);
    agc_sandbox_call_free(&r);
}

static void recycles_after_n_calls(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_sandbox_tool *t = make_pool(ctx, 3);
    int p1 = pool_pid(t);
    call_ok(t, p1);
    call_ok(t, p1);
    call_ok(t, p1); /* the third call ends this worker's life */
    assert_true(gone(p1));
    int p2 = pool_pid(t);
    assert_int_not_equal(p1, p2);
    call_ok(t, p2);
    agc_sandbox_stats s;
    agc_sandbox_tool_stats(&s, t);
    assert_int_equal(s.calls, 4);
    assert_int_equal(s.workers_started, 2);
    assert_int_equal(s.workers_recycled, 1);
    agc_sandbox_tool_free(t);
    assert_true(gone(p2));
    agc_ctx_free(ctx);
}

static void recycles_after_a_trap(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_sandbox_tool *t = make_pool(ctx, 100);
    int p1 = pool_pid(t);
    call_ok(t, p1);
    agc_sandbox_call r;
    assert_int_equal(agc_sandbox_tool_call(&r, t, "oob"), AGC_ERROR);
    assert_int_equal(r.trap, AGC_WASM_TRAP_OOB);
    assert_int_equal(r.worker_pid, p1);
    agc_sandbox_call_free(&r);
    assert_true(gone(p1));
    int p2 = pool_pid(t);
    assert_int_not_equal(p1, p2);
    call_ok(t, p2);
    agc_sandbox_tool_free(t);
    agc_ctx_free(ctx);
}

typedef struct killer {
    agc_sandbox_tool *t;
    int pid;
} killer;

static void *kill_soon(void *arg)
{
    killer *k = arg;
    struct timespec ts = {0, 150 * 1000000L};
    nanosleep(&ts, NULL);
    kill(k->pid, SIGKILL);
    return NULL;
}

static void worker_killed_mid_call_leaves_a_clean_host(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_sandbox_tool *t = make_pool(ctx, 100);
    killer k = {t, pool_pid(t)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, kill_soon, &k), 0);
    agc_sandbox_call r;
    agc_status st = agc_sandbox_tool_call(&r, t, "sleep 5000");
    pthread_join(th, NULL);
    assert_int_equal(st, AGC_ERROR);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "killed by signal 9"));
    assert_string_equal(r.violation, "crash");
    agc_sandbox_call_free(&r);
    assert_true(gone(k.pid));
    int p2 = pool_pid(t);
    assert_int_not_equal(p2, k.pid);
    call_ok(t, p2);
    agc_sandbox_tool_free(t);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recycles_after_n_calls),
        cmocka_unit_test(recycles_after_a_trap),
        cmocka_unit_test(worker_killed_mid_call_leaves_a_clean_host),
    };
    return cmocka_run_group_tests_name("sandbox_pool", tests, NULL, NULL);
}
