/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * End to end: the example tools and the probe guest compiled (once per build,
 * in parallel, into the shared cache) and run in this process against the
 * WASI host: results, path confinement, traps, caps and the deadline.
 */
#include <errno.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "agentc/json.h"
#include "agentc/log.h"
#include "sandbox_fixture.h"

static const char *const TOOLS[] = {"probe", "wc", "sha256", "json_transform"};
static const char *skip_reason;
static char *tmp; /* a scratch directory with data/ (read-only grant) and out/ (read-write) */

static int setup(void **state)
{
    (void)state;
    skip_reason = compile_missing();
    size_t n;
    unsigned char *w = skip_reason ? NULL : load_tool("probe", &n);
    if (!skip_reason && !w)
        skip_reason = "the wasm tools were not built (clang with wasi-libc missing)";
    free(w);
    if (skip_reason)
        return 0;
    /* compile every tool once, in parallel; later runs are cache hits */
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            agc_ctx *ctx = NULL;
            size_t len = 0;
            unsigned char *wasm = load_tool(TOOLS[i], &len);
            if (!wasm || agc_ctx_new(&ctx, NULL) != AGC_OK)
                _exit(1);
            agc_wasm_compile_opts o = AGC_WASM_COMPILE_OPTS_INIT;
            o.cache_dir = shared_cache();
            char *so = NULL;
            agc_status st = agc_wasm_compile(&so, NULL, wasm, len, &o, ctx);
            if (st != AGC_OK)
                fprintf(stderr, "compiling %s: %s\n", TOOLS[i], agc_ctx_errmsg(ctx));
            agc_free(ctx, so);
            agc_ctx_free(ctx);
            free(wasm);
            _exit(st == AGC_OK ? 0 : 1);
        }
    }
    for (int i = 0; i < 4; i++) {
        int ws = 0;
        waitpid(kids[i], &ws, 0);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            return -1;
    }
    tmp = agc_test_tmpdir();
    char p[4096];
    snprintf(p, sizeof p, "%s/data", tmp);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/out", tmp);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/secret.txt", tmp);
    agc_test_write_file(p, "outside the preopen\n");
    snprintf(p, sizeof p, "%s/data/poem.txt", tmp);
    agc_test_write_file(p, "the quick brown fox\njumps over\n  the lazy dog\n");
    char target[4096];
    snprintf(target, sizeof target, "%s/secret.txt", tmp);
    snprintf(p, sizeof p, "%s/data/escape", tmp);
    if (symlink(target, p) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/data/inside", tmp);
    if (symlink("poem.txt", p) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (tmp) {
        agc_test_rmtree(tmp);
        free(tmp);
    }
    return 0;
}

#define NEED_TOOLS()                                                                               \
    do {                                                                                           \
        if (skip_reason) {                                                                         \
            print_message("skipped: %s\n", skip_reason);                                           \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

typedef struct run_case {
    const char *tool;
    const char *input; /* --input: stdin for WASI commands, arguments for agentc modules */
    uint32_t timeout_ms, memory_mb;
    size_t max_output;
    const char *const *env;
    size_t nenv;
} run_case;

static agc_status run(agc_wasm_result *r, const run_case *c, agc_ctx *ctx)
{
    size_t len = 0;
    unsigned char *w = load_tool(c->tool, &len);
    assert_non_null(w);
    char data[4096], out[4096];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    agc_wasm_preopen pre[2] = {{data, "/data", false}, {out, "/out", true}};
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    ro.preopens = pre;
    ro.n_preopens = 2;
    ro.input_json = c->input;
    ro.timeout_ms = c->timeout_ms ? c->timeout_ms : 10000;
    ro.memory_mb = c->memory_mb;
    ro.max_output = c->max_output;
    ro.env_allow = c->env;
    ro.env_count = c->nenv;
    agc_status st = agc_wasm_run(r, w, len, &co, &ro, ctx);
    free(w);
    return st;
}

/* Runs the probe with one command; returns its stdout (static buffer). */
static const char *probe(const char *cmd, agc_ctx *ctx)
{
    static char buf[4096];
    run_case c = {"probe", cmd, 0, 0, 0, NULL, 0};
    agc_wasm_result r;
    agc_status st = run(&r, &c, ctx);
    if (st != AGC_OK)
        fail_msg("probe %s: %s", cmd, agc_ctx_errmsg(ctx));
    snprintf(buf, sizeof buf, "%s", r.out);
    buf[strcspn(buf, "\n")] = 0;
    agc_wasm_result_free(&r);
    return buf;
}

static void wc_counts_a_file_in_a_readonly_preopen(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    run_case c = {"wc", "{\"path\": \"/data/poem.txt\"}", 0, 0, 0, NULL, 0};
    agc_wasm_result r;
    if (run(&r, &c, ctx) != AGC_OK)
        fail_msg("wc: %s", agc_ctx_errmsg(ctx));
    assert_int_equal(r.exit_code, 0);
    assert_false(r.uses_agentc);
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, r.out, r.out_len, "wc", ctx), AGC_OK);
    assert_int_equal(agc_json_int(j, "lines", -1), 3);
    assert_int_equal(agc_json_int(j, "words", -1), 9);
    assert_int_equal(agc_json_int(j, "bytes", -1), 46);
    json_decref(j);
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

typedef struct logcap {
    char text[1024];
} logcap;

static void capture(agc_log_level level, const char *line, size_t len, void *user)
{
    (void)level;
    logcap *l = user;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%.*s\n", (int)len, line);
}

static void json_transform_uses_the_agentc_abi(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    logcap lc = {{0}};
    assert_int_equal(agc_log_set_callback(ctx, capture, &lc), AGC_OK);
    assert_int_equal(agc_log_set_level(ctx, AGC_LOG_DEBUG), AGC_OK);
    run_case c = {"json_transform",
                  "{\"a\": {\"b\": [1, \"x\"]}, \"c\": {}, \"d/e\": null}",
                  0,
                  0,
                  0,
                  NULL,
                  0};
    agc_wasm_result r;
    if (run(&r, &c, ctx) != AGC_OK)
        fail_msg("json_transform: %s", agc_ctx_errmsg(ctx));
    assert_true(r.uses_agentc);
    assert_non_null(r.result);
    json_t *got = NULL, *want = NULL;
    assert_int_equal(agc_json_parse(&got, r.result, r.result_len, "result", ctx), AGC_OK);
    const char *w = "{\"/a/b/0\": 1, \"/a/b/1\": \"x\", \"/c\": {}, \"/d~1e\": null}";
    assert_int_equal(agc_json_parse(&want, w, strlen(w), "want", ctx), AGC_OK);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    assert_non_null(strstr(lc.text, "flattened 4 values"));
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void sha256_matches_libsodium(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)"abc", 3);
    for (int i = 1; i < 20000; i++)
        crypto_hash_sha256(h, h, 32);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h, 32);
    run_case c = {"sha256", "{\"data\": \"abc\", \"rounds\": 20000}", 0, 0, 0, NULL, 0};
    agc_wasm_result r;
    if (run(&r, &c, ctx) != AGC_OK)
        fail_msg("sha256: %s", agc_ctx_errmsg(ctx));
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, r.out, r.out_len, "sha256", ctx), AGC_OK);
    assert_string_equal(agc_json_str(j, "sha256", ""), hex);
    json_decref(j);
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void path_escapes_are_not_capable(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_string_equal(probe("open /data/poem.txt", ctx), "read=the quick brown fox");
    assert_string_equal(probe("open /data/inside", ctx), "read=the quick brown fox");
    assert_string_equal(probe("open /data/../secret.txt", ctx), "errno=76");
    assert_string_equal(probe("open /data/../../../../etc/passwd", ctx), "errno=76");
    assert_string_equal(probe("open /etc/passwd", ctx), "errno=76");
    assert_string_equal(probe("open /data/escape", ctx), "errno=76");
    char abs[4200];
    snprintf(abs, sizeof abs, "open %s/secret.txt", tmp);
    assert_string_equal(probe(abs, ctx), "errno=76");
    assert_string_equal(probe("list /data", ctx), "entries=3");
    assert_string_equal(probe("stat /data/poem.txt", ctx), "size=46 dir=0");
    agc_ctx_free(ctx);
}

static void readonly_preopen_refuses_writes(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_string_equal(probe("create /data/new.txt", ctx), "errno=66"); /* EROFS */
    assert_string_equal(probe("mkdir /data/sub", ctx), "errno=66");
    assert_string_equal(probe("unlink /data/poem.txt", ctx), "errno=66");
    assert_string_equal(probe("rename /data/poem.txt", ctx), "errno=66");
    char p[4200];
    snprintf(p, sizeof p, "%s/data/poem.txt", tmp);
    assert_int_equal(access(p, F_OK), 0);
    /* the read-write grant works, and stays confined */
    assert_string_equal(probe("create /out/made.txt", ctx), "wrote=16");
    assert_string_equal(probe("rename /out/made.txt", ctx), "errno=0");
    snprintf(p, sizeof p, "%s/out/made.txt.renamed", tmp);
    assert_int_equal(access(p, F_OK), 0);
    assert_string_equal(probe("mkdir /out/sub", ctx), "errno=0");
    assert_string_equal(probe("mkdir /out/../escaped", ctx), "errno=76");
    assert_string_equal(probe("unlink /out/made.txt.renamed", ctx), "errno=0");
    assert_int_equal(access(p, F_OK), -1);
    assert_string_equal(probe("create /out/../data/x", ctx), "errno=76");
    agc_ctx_free(ctx);
}

static agc_status run_probe_case(agc_wasm_result *r, const char *cmd, uint32_t timeout_ms,
                                 uint32_t memory_mb, size_t max_output, agc_ctx *ctx)
{
    run_case c = {"probe", cmd, timeout_ms, memory_mb, max_output, NULL, 0};
    return run(r, &c, ctx);
}

static void traps_are_reported_specifically(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    assert_int_equal(run_probe_case(&r, "oob", 0, 0, 0, ctx), AGC_ERROR);
    assert_int_equal(r.trap, AGC_WASM_TRAP_OOB);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "out-of-bounds"));
    agc_wasm_result_free(&r);
    assert_int_equal(run_probe_case(&r, "stack", 0, 0, 0, ctx), AGC_ERROR);
    assert_int_equal(r.trap, AGC_WASM_TRAP_STACK);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "stack exhausted"));
    agc_wasm_result_free(&r);
    /* the process is still healthy: a normal run afterwards works */
    assert_string_equal(probe("hello", ctx), "hello from wasm");
    assert_int_equal(run_probe_case(&r, "exit 3", 0, 0, 0, ctx), AGC_OK);
    assert_true(r.exited);
    assert_int_equal(r.exit_code, 3);
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void memory_bomb_hits_the_cap(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    assert_int_equal(run_probe_case(&r, "membomb", 0, 16, 0, ctx), AGC_ELIMIT);
    assert_int_equal(r.trap, AGC_WASM_TRAP_MEMORY_LIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "16 MiB"));
    assert_non_null(strstr(r.err, "malloc failed after"));
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void huge_output_is_capped(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    assert_int_equal(run_probe_case(&r, "bigout", 0, 0, 65536, ctx), AGC_ELIMIT);
    assert_int_equal(r.trap, AGC_WASM_TRAP_OUTPUT_LIMIT);
    assert_true(r.out_len <= 65536);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "65536-byte output cap"));
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void deadline_stops_loops_and_sleeps(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    double t0 = now_s();
    assert_int_equal(run_probe_case(&r, "loop", 300, 0, 0, ctx), AGC_ETIMEDOUT);
    assert_int_equal(r.trap, AGC_WASM_TRAP_TIMEOUT);
    agc_wasm_result_free(&r);
    assert_int_equal(run_probe_case(&r, "sleep 60000", 300, 0, 0, ctx), AGC_ETIMEDOUT);
    assert_int_equal(r.trap, AGC_WASM_TRAP_TIMEOUT);
    agc_wasm_result_free(&r);
    assert_true(now_s() - t0 < 5.0);
    assert_int_equal(run_probe_case(&r, "sleep 20", 5000, 0, 0, ctx), AGC_OK);
    assert_string_equal(r.out, "slept\n");
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void environment_is_allowlisted(void **state)
{
    (void)state;
    NEED_TOOLS();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    setenv("AGC_TEST_GRANTED", "yes", 1);
    setenv("AGC_TEST_SECRET", "hunter2", 1);
    static const char *const allow[] = {"AGC_TEST_GRANTED"};
    agc_wasm_result r;
    run_case c = {"probe", "env AGC_TEST_GRANTED", 0, 0, 0, allow, 1};
    assert_int_equal(run(&r, &c, ctx), AGC_OK);
    assert_string_equal(r.out, "AGC_TEST_GRANTED=yes\n");
    agc_wasm_result_free(&r);
    run_case d = {"probe", "env AGC_TEST_SECRET", 0, 0, 0, allow, 1};
    assert_int_equal(run(&r, &d, ctx), AGC_OK);
    assert_string_equal(r.out, "AGC_TEST_SECRET=(unset)\n");
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wc_counts_a_file_in_a_readonly_preopen),
        cmocka_unit_test(json_transform_uses_the_agentc_abi),
        cmocka_unit_test(sha256_matches_libsodium),
        cmocka_unit_test(path_escapes_are_not_capable),
        cmocka_unit_test(readonly_preopen_refuses_writes),
        cmocka_unit_test(traps_are_reported_specifically),
        cmocka_unit_test(memory_bomb_hits_the_cap),
        cmocka_unit_test(huge_output_is_capped),
        cmocka_unit_test(deadline_stops_loops_and_sleeps),
        cmocka_unit_test(environment_is_allowlisted),
    };
    return cmocka_run_group_tests_name("sandbox_wasm_run", tests, setup, teardown);
}
