/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tools in jailed workers: results, and each misbehaviour contained with
 * its specific error, a sandbox.violation event, no process or fd left.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "agentc/event.h"
#include "agentc/sandbox_worker.h"
#include "sandbox_fixture.h"

typedef struct fx {
    agc_test_alloc a;
    agc_ctx *ctx;
    agc_event_bus *bus;
    agc_event_sink *mem;
    char wasm[4096];
} fx;

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->ctx = agc_test_ctx_new(&f->a);
    assert_int_equal(agc_event_bus_new(&f->bus, f->ctx), AGC_OK);
    assert_int_equal(agc_event_sink_memory(&f->mem, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, f->mem, AGC_EVENT_MASK_ALL), AGC_OK);
    const char *bin = getenv("AGC_BINARY_DIR");
    snprintf(f->wasm, sizeof f->wasm, "%s/wasm/probe.wasm", bin ? bin : ".");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    agc_event_bus_free(f->bus);
    agc_ctx_free(f->ctx);
    free(f);
    return 0;
}

static agc_sandbox_tool *make(fx *f, const char *wasm, agc_sandbox_mode mode, uint32_t mem_mb,
                              uint32_t timeout_ms)
{
    SKIP_WITHOUT_COMPILER();
    if (access(wasm, R_OK) != 0) {
        print_message("skipped: %s was not built (clang wasm32-wasi missing)\n", wasm);
        skip();
    }
    agc_sandbox_policy *p = NULL;
    assert_int_equal(agc_sandbox_policy_new(&p, f->ctx), AGC_OK);
    p->mode = mode;
    p->memory_mb = mem_mb;
    p->timeout_ms = timeout_ms;
    p->max_output_kb = 64;
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_sandbox_tool_opts to = AGC_SANDBOX_TOOL_OPTS_INIT;
    to.compile = &co;
    to.events = f->bus;
    to.name = "probe";
    agc_sandbox_tool *t = NULL;
    agc_status st = agc_sandbox_tool_new(&t, wasm, p, &to, f->ctx);
    if (st != AGC_OK)
        print_message("tool_new: %s\n", agc_ctx_errmsg(f->ctx));
    assert_int_equal(st, AGC_OK);
    agc_sandbox_policy_free(p, f->ctx);
    return t;
}

static bool gone(int pid)
{
    return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

/* Runs cmd, expects status want and a message containing msg; checks the event. */
static void expect_violation(fx *f, agc_sandbox_tool *t, const char *cmd, agc_status want,
                             const char *msg, const char *violation)
{
    size_t before = agc_event_memory_count(f->mem);
    agc_sandbox_call r;
    agc_status st = agc_sandbox_tool_call(&r, t, cmd);
    if (st != want || !strstr(agc_ctx_errmsg(f->ctx), msg))
        print_message("%s: got %d '%s'\n", cmd, st, agc_ctx_errmsg(f->ctx));
    assert_int_equal(st, want);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), msg));
    assert_string_equal(r.violation, violation);
    if (r.worker_pid)
        assert_true(gone(r.worker_pid));
    assert_int_equal(agc_event_memory_count(f->mem), before + 1);
    const agc_event *ev = agc_event_memory_get(f->mem, before);
    assert_string_equal(ev->name, "sandbox.violation");
    assert_string_equal(json_string_value(json_object_get(ev->data, "violation")), violation);
    agc_sandbox_call_free(&r);
}

static void fresh_worker_runs_and_is_jailed(void **state)
{
    fx *f = *state;
    int fds = count_fds();
    agc_sandbox_tool *t = make(f, f->wasm, AGC_SANDBOX_FRESH, 16, 5000);
    agc_sandbox_call r;
    assert_int_equal(agc_sandbox_tool_call(&r, t, "hello"), AGC_OK);
    assert_string_equal(r.output, "hello from wasm\n");
    assert_non_null(strstr(r.err, "a line on stderr"));
    assert_true(r.worker_pid > 0);
    assert_true(gone(r.worker_pid));
    agc_sandbox_call_free(&r);
    char jail[160];
    agc_sandbox_tool_jail_text(jail, sizeof jail, t);
    print_message("jail: %s\n", jail);
    agc_jail_report probe;
    agc_jail_probe(&probe, f->ctx);
    if (probe.features & AGC_JAIL_F_USERNS)
        assert_non_null(strstr(jail, "pidns"));
    else
        print_message("note: no user namespaces here (%s)\n", probe.text);
    if (probe.landlock_abi)
        assert_non_null(strstr(jail, "landlock ABI"));
    assert_non_null(strstr(jail, "seccomp"));
    /* the environment is empty unless granted */
    assert_int_equal(agc_sandbox_tool_call(&r, t, "env HOME"), AGC_OK);
    assert_string_equal(r.output, "HOME=(unset)\n");
    agc_sandbox_call_free(&r);
    agc_sandbox_tool_free(t);
    assert_int_equal(count_fds(), fds);
}

static void infinite_loop_times_out(void **state)
{
    fx *f = *state;
    int fds = count_fds();
    agc_sandbox_tool *t = make(f, f->wasm, AGC_SANDBOX_FRESH, 16, 300);
    expect_violation(f, t, "loop", AGC_ETIMEDOUT, "timed out after 300 ms", "timeout");
    /* a guest blocked in a host call (sleep) is killed by the parent */
    expect_violation(f, t, "sleep 60000", AGC_ETIMEDOUT, "timed out after 300 ms", "timeout");
    agc_sandbox_tool_free(t);
    assert_int_equal(count_fds(), fds);
}

static void memory_bomb_hits_the_limit(void **state)
{
    fx *f = *state;
    agc_sandbox_tool *t = make(f, f->wasm, AGC_SANDBOX_FRESH, 16, 10000);
    expect_violation(f, t, "membomb", AGC_ELIMIT, "memory limit 16 MiB exceeded", "memory");
    agc_sandbox_tool_free(t);
}

static void traps_are_contained(void **state)
{
    fx *f = *state;
    agc_sandbox_tool *t = make(f, f->wasm, AGC_SANDBOX_FRESH, 16, 10000);
    expect_violation(f, t, "stack", AGC_ERROR, "call stack exhausted", "trap");
    expect_violation(f, t, "oob", AGC_ERROR, "out-of-bounds", "trap");
    expect_violation(f, t, "bigout", AGC_ELIMIT, "output limit 64 KiB exceeded", "output");
    agc_sandbox_call r;
    assert_int_equal(agc_sandbox_tool_call(&r, t, "exit 3"), AGC_OK);
    assert_int_equal(r.exit_code, 3);
    agc_sandbox_call_free(&r);
    agc_sandbox_stats s;
    agc_sandbox_tool_stats(&s, t);
    assert_int_equal(s.violations, 3);
    agc_sandbox_tool_free(t);
}

static void inprocess_mode_keeps_the_limits(void **state)
{
    fx *f = *state;
    agc_sandbox_tool *t = make(f, f->wasm, AGC_SANDBOX_INPROCESS, 16, 300);
    expect_violation(f, t, "loop", AGC_ETIMEDOUT, "timed out after 300 ms", "timeout");
    expect_violation(f, t, "membomb", AGC_ELIMIT, "memory limit 16 MiB exceeded", "memory");
    expect_violation(f, t, "oob", AGC_ERROR, "out-of-bounds", "trap");
    agc_sandbox_call r;
    assert_int_equal(agc_sandbox_tool_call(&r, t, "hello"), AGC_OK);
    assert_string_equal(r.output, "hello from wasm\n");
    assert_int_equal(r.worker_pid, 0);
    agc_sandbox_call_free(&r);
    agc_sandbox_tool_free(t);
}

static void agentc_abi_tool_in_a_worker(void **state)
{
    fx *f = *state;
    const char *bin = getenv("AGC_BINARY_DIR");
    char wasm[4096];
    snprintf(wasm, sizeof wasm, "%s/wasm/json_transform.wasm", bin ? bin : ".");
    agc_sandbox_tool *t = make(f, wasm, AGC_SANDBOX_POOL, 16, 5000);
    for (int i = 0; i < 3; i++) {
        agc_sandbox_call r;
        assert_int_equal(agc_sandbox_tool_call(&r, t, "{\"a\": [1, {\"b\": true}]}"), AGC_OK);
        assert_non_null(strstr(r.output, "\"/a/1/b\": true"));
        agc_sandbox_call_free(&r);
    }
    agc_sandbox_tool_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fresh_worker_runs_and_is_jailed, setup, teardown),
        cmocka_unit_test_setup_teardown(infinite_loop_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_bomb_hits_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(traps_are_contained, setup, teardown),
        cmocka_unit_test_setup_teardown(inprocess_mode_keeps_the_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(agentc_abi_tool_in_a_worker, setup, teardown),
    };
    return cmocka_run_group_tests_name("sandbox_worker", tests, NULL, NULL);
}
