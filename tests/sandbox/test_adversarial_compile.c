/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Adversarial inputs to the compile path: mutated modules never crash the
 * parser (ASan build), a module our parser accepts but wasm2c's validator
 * rejects fails cleanly, unknown imports fail at load naming the import; and
 * the compile jail (agc_sandbox_exec_jailed): nothing outside the build
 * directory is writable, files outside the granted system paths are not
 * readable, no network, the deadline kills, the memory limit holds.
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "agentc/http_server.h"
#include "agentc/jail.h"
#include "sandbox_fixture.h"

static char *tmp;

static int setup(void **state)
{
    (void)state;
    tmp = agc_test_tmpdir();
    char p[4096];
    snprintf(p, sizeof p, "%s/build", tmp);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/outside", tmp);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/outside/secret.txt", tmp);
    agc_test_write_file(p, "not for the compiler\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    agc_test_rmtree(tmp);
    free(tmp);
    return 0;
}

static uint32_t rng = 2463534242u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void mutated_modules_never_crash_the_parser(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *w = load_tool("http_fetch", &len);
    const unsigned char *base = w ? w : MOD_UNKNOWN_IMPORT;
    size_t blen = w ? len : sizeof MOD_UNKNOWN_IMPORT;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    unsigned char *m = malloc(blen);
    int ok = 0, bad = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(m, base, blen);
        int flips = 1 + (int)(next_rand() % 8);
        for (int k = 0; k < flips; k++) {
            size_t at = next_rand() % blen;
            m[at] = (unsigned char)(next_rand() % 3 == 0 ? 0xff : next_rand());
        }
        size_t cut = next_rand() % 4 == 0 ? next_rand() % blen : blen;
        agc_wasm_module *mod = NULL;
        agc_status st = agc_wasm_module_parse(&mod, m, cut, ctx);
        if (st == AGC_OK) {
            ok++;
            (void)agc_wasm_module_check_imports(mod, ctx);
            agc_buf b;
            agc_buf_init(&b, ctx, 0);
            assert_int_equal(agc_wasm_module_capabilities(&b, mod), AGC_OK);
            agc_buf_free(&b);
            agc_wasm_module_free(mod);
        } else {
            bad++;
            assert_true(st == AGC_EPARSE || st == AGC_EUNSUPPORTED);
            assert_null(mod);
        }
    }
    print_message("mutants: %d parsed, %d rejected\n", ok, bad);
    assert_true(bad > 0);
    free(m);
    free(w);
    agc_ctx_free(ctx);
}

/* (module (func (export "_start") i32.const 1)): leaves a value on the stack. */
static const unsigned char MOD_INVALID_BODY[] = {
    WASM_MAGIC, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
    0x07,       0x0a, 0x01, 0x06, '_',  's',  't',  'a',  'r',  't',  0x00,
    0x00,       0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x01, 0x0b};

static void module_wasm2c_rejects_fails_cleanly(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_module *m = NULL;
    assert_int_equal(agc_wasm_module_parse(&m, MOD_INVALID_BODY, sizeof MOD_INVALID_BODY, ctx),
                     AGC_OK);
    agc_wasm_module_free(m);
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    agc_wasm_compile_opts o = AGC_WASM_COMPILE_OPTS_INIT;
    o.cache_dir = cache;
    char *so = NULL;
    assert_int_equal(
        agc_wasm_compile(&so, NULL, MOD_INVALID_BODY, sizeof MOD_INVALID_BODY, &o, ctx), AGC_EIO);
    assert_null(so);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "wasm2c failed"));
    agc_ctx_free(ctx);
}

static void unknown_import_fails_at_load_naming_it(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    agc_wasm_compile_opts o = AGC_WASM_COMPILE_OPTS_INIT;
    o.cache_dir = shared_cache();
    assert_int_equal(agc_wasm_run(&r, MOD_UNKNOWN_IMPORT, sizeof MOD_UNKNOWN_IMPORT, &o, NULL, ctx),
                     AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "env.mystery"));
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static agc_status jailed(int *status, agc_buf *out, const char *script, uint32_t timeout_ms,
                         uint32_t memory_mb, agc_ctx *ctx)
{
    char build[4200];
    snprintf(build, sizeof build, "%s/build", tmp);
    agc_sandbox_exec_limits lim = AGC_SANDBOX_EXEC_LIMITS_INIT;
    lim.timeout_ms = timeout_ms;
    lim.memory_mb = memory_mb;
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return agc_sandbox_exec_jailed(status, out, argv, build, &lim, ctx);
}

static void compile_jail_confines_writes_and_reads(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_jail_report rep;
    agc_jail_probe(&rep, ctx);
    print_message("kernel offers: %s\n", rep.text);
    if (!(rep.features & AGC_JAIL_F_LANDLOCK)) {
        print_message("skipped: Landlock is not available on this kernel\n");
        agc_ctx_free(ctx);
        skip();
    }
    char script[8192];
    int status = -1;
    agc_buf out;
    agc_buf_init(&out, ctx, 65536);
    /* the build directory is writable */
    assert_int_equal(jailed(&status, &out, "echo built > guest.c && cat guest.c", 0, 0, ctx),
                     AGC_OK);
    assert_int_equal(status, 0);
    assert_non_null(strstr(agc_buf_cstr(&out), "built"));
    /* outside it nothing is writable, and files outside the grants are unreadable */
    agc_buf_clear(&out);
    snprintf(script, sizeof script, "echo pwned > %s/outside/new.txt", tmp);
    assert_int_equal(jailed(&status, &out, script, 0, 0, ctx), AGC_OK);
    assert_int_not_equal(status, 0);
    snprintf(script, sizeof script, "%s/outside/new.txt", tmp);
    assert_int_equal(access(script, F_OK), -1);
    snprintf(script, sizeof script, "cat %s/outside/secret.txt", tmp);
    agc_buf_clear(&out);
    assert_int_equal(jailed(&status, &out, script, 0, 0, ctx), AGC_OK);
    assert_int_not_equal(status, 0);
    assert_null(strstr(agc_buf_cstr(&out), "not for the compiler"));
    agc_buf_clear(&out);
    assert_int_equal(
        jailed(&status, &out, "cat ~/.ssh/id_rsa ~/.bash_history 2>&1; echo x > ~/pw", 0, 0, ctx),
        AGC_OK);
    assert_int_not_equal(status, 0);
    agc_buf_free(&out);
    agc_ctx_free(ctx);
}

static agc_status ok_handler(agc_http_sreq *r, void *user)
{
    (void)user;
    return agc_http_sreq_respond(r, 200, NULL, 0, "reached", 7);
}

static void compile_jail_has_no_network(void **state)
{
    (void)state;
    if (access("/bin/bash", X_OK) != 0) {
        print_message("skipped: /bin/bash (for /dev/tcp) is not installed\n");
        skip();
    }
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_http_server *srv = NULL;
    assert_int_equal(agc_http_server_new(&srv, NULL, ok_handler, NULL, ctx), AGC_OK);
    char build[4200];
    snprintf(build, sizeof build, "%s/build", tmp);
    char script[256];
    snprintf(script, sizeof script,
             "exec 3<>/dev/tcp/127.0.0.1/%u && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3",
             agc_http_server_port(srv));
    const char *argv[] = {"/bin/bash", "-c", script, NULL};
    int status = -1;
    agc_buf out;
    agc_buf_init(&out, ctx, 65536);
    /* unjailed, the server is reachable: the check below means something */
    assert_int_equal(agc_sandbox_exec_default(&status, &out, argv, build, NULL, ctx), AGC_OK);
    assert_int_equal(status, 0);
    assert_non_null(strstr(agc_buf_cstr(&out), "reached"));
    agc_buf_clear(&out);
    assert_int_equal(agc_sandbox_exec_jailed(&status, &out, argv, build, NULL, ctx), AGC_OK);
    assert_int_not_equal(status, 0);
    assert_null(strstr(agc_buf_cstr(&out), "reached"));
    agc_buf_free(&out);
    agc_http_server_free(srv);
    agc_ctx_free(ctx);
}

static void compile_jail_deadline_kills_everything(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    int status = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(jailed(&status, NULL, "sleep 60 & sleep 60; wait", 300, 0, ctx),
                     AGC_ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "timed out after 300 ms"));
    assert_true(t1.tv_sec - t0.tv_sec < 20);
    agc_ctx_free(ctx);
}

static void compile_jail_memory_limit_holds(void **state)
{
    (void)state;
    if (access("/usr/bin/awk", X_OK) != 0) {
        print_message("skipped: awk is not installed\n");
        skip();
    }
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    int status = -1;
    agc_buf out;
    agc_buf_init(&out, ctx, 65536);
    /* doubles a string until it cannot: 64 MiB of address space stops it early */
    assert_int_equal(jailed(&status, &out,
                            "awk 'BEGIN { s = \"x\"; for (i = 0; i < 40; i++) s = s s; "
                            "print length(s) }'",
                            20000, 64, ctx),
                     AGC_OK);
    assert_int_not_equal(status, 0);
    assert_null(strstr(agc_buf_cstr(&out), "1099511627776"));
    agc_buf_free(&out);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutated_modules_never_crash_the_parser),
        cmocka_unit_test(module_wasm2c_rejects_fails_cleanly),
        cmocka_unit_test(unknown_import_fails_at_load_naming_it),
        cmocka_unit_test(compile_jail_confines_writes_and_reads),
        cmocka_unit_test(compile_jail_has_no_network),
        cmocka_unit_test(compile_jail_deadline_kills_everything),
        cmocka_unit_test(compile_jail_memory_limit_holds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
