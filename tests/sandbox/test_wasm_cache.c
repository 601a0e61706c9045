/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The compile cache: hits, rebuild of corrupted entries, concurrent builders, version pinning. */
#include <sys/stat.h>
#include <sys/wait.h>

#include "sandbox_fixture.h"

static agc_status compile(char **so, bool *hit, const void *w, size_t n, const char *cache,
                          agc_ctx *ctx)
{
    agc_wasm_compile_opts o = AGC_WASM_COMPILE_OPTS_INIT;
    o.cache_dir = cache;
    return agc_wasm_compile(so, hit, w, n, &o, ctx);
}

/* Runs export `entry` of a compiled module; returns its exit code. */
static int run_compiled(const char *so, const void *w, size_t n, const char *entry, agc_ctx *ctx)
{
    agc_wasm_module *m = NULL;
    assert_int_equal(agc_wasm_module_parse(&m, w, n, ctx), AGC_OK);
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    ro.entry = entry;
    agc_wasm_instance *in = NULL;
    agc_status st = agc_wasm_instance_new(&in, so, m, &ro, ctx);
    if (st != AGC_OK)
        fail_msg("instance: %s", agc_ctx_errmsg(ctx));
    agc_wasm_result r;
    assert_int_equal(agc_wasm_instance_run(&r, in), AGC_OK);
    int code = r.exit_code;
    agc_wasm_result_free(&r);
    /* an instance runs once */
    assert_int_equal(agc_wasm_instance_run(&r, in), AGC_EBUSY);
    agc_wasm_result_free(&r);
    agc_wasm_instance_free(in);
    agc_wasm_module_free(m);
    return code;
}

static void second_compile_is_a_cache_hit(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    char *dir = agc_test_tmpdir();
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *so1 = NULL, *so2 = NULL;
    bool hit = true;
    if (compile(&so1, &hit, MOD_ANSWER, sizeof MOD_ANSWER, dir, ctx) != AGC_OK)
        fail_msg("compile: %s", agc_ctx_errmsg(ctx));
    assert_false(hit);
    assert_int_equal(compile(&so2, &hit, MOD_ANSWER, sizeof MOD_ANSWER, dir, ctx), AGC_OK);
    assert_true(hit);
    assert_string_equal(so1, so2);
    assert_int_equal(run_compiled(so1, MOD_ANSWER, sizeof MOD_ANSWER, "answer", ctx), 42);

    /* corrupt the cached object: the hash check fails and it is rebuilt */
    agc_test_write_file(so1, "not an ELF file at all");
    char *so3 = NULL;
    assert_int_equal(compile(&so3, &hit, MOD_ANSWER, sizeof MOD_ANSWER, dir, ctx), AGC_OK);
    assert_false(hit);
    assert_string_equal(so1, so3);
    assert_int_equal(run_compiled(so3, MOD_ANSWER, sizeof MOD_ANSWER, "answer", ctx), 42);
    agc_free(ctx, so1);
    agc_free(ctx, so2);
    agc_free(ctx, so3);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
    agc_test_rmtree(dir);
    free(dir);
}

static void concurrent_compiles_build_once(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    char *dir = agc_test_tmpdir();
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            agc_ctx *ctx = NULL;
            if (agc_ctx_new(&ctx, NULL) != AGC_OK)
                _exit(90);
            char *so = NULL;
            bool hit = false;
            agc_status st = compile(&so, &hit, MOD_EMPTY_START, sizeof MOD_EMPTY_START, dir, ctx);
            int code = st != AGC_OK ? 91 : access(so, R_OK) != 0 ? 92 : hit ? 11 : 10;
            if (st != AGC_OK)
                fprintf(stderr, "child: %s\n", agc_ctx_errmsg(ctx));
            agc_free(ctx, so);
            agc_ctx_free(ctx);
            _exit(code);
        }
    }
    int built = 0, hits = 0;
    for (int i = 0; i < 2; i++) {
        int ws;
        assert_int_equal(waitpid(kids[i], &ws, 0), kids[i]);
        assert_true(WIFEXITED(ws));
        int code = WEXITSTATUS(ws);
        assert_true(code == 10 || code == 11);
        built += code == 10;
        hits += code == 11;
    }
    assert_int_equal(built, 1);
    assert_int_equal(hits, 1);
    agc_test_rmtree(dir);
    free(dir);
}

typedef struct counter {
    int calls;
    bool saw_wasm2c, saw_cc;
} counter;

static agc_status counting_exec(int *status, agc_buf *out, const char *const *argv,
                                const char *workdir, void *user, agc_ctx *ctx)
{
    counter *c = user;
    c->calls++;
    if (strcmp(argv[0], "wasm2c") == 0 && argv[1] && strcmp(argv[1], "--version") != 0)
        c->saw_wasm2c = true;
    if (strcmp(argv[0], "cc") == 0 && argv[1] && strcmp(argv[1], "--version") != 0)
        c->saw_cc = true;
    return agc_sandbox_exec_default(status, out, argv, workdir, NULL, ctx);
}

static void tools_run_through_the_exec_seam(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    char *dir = agc_test_tmpdir();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    counter c = {0, false, false};
    agc_wasm_compile_opts o = AGC_WASM_COMPILE_OPTS_INIT;
    o.cache_dir = dir;
    o.cc = "cc";
    o.exec = counting_exec;
    o.exec_user = &c;
    agc_wasm_result r;
    agc_status st = agc_wasm_run(&r, MOD_EMPTY_START, sizeof MOD_EMPTY_START, &o, NULL, ctx);
    if (st != AGC_OK)
        fail_msg("run: %s", agc_ctx_errmsg(ctx));
    assert_int_equal(r.exit_code, 0);
    assert_false(r.exited);
    agc_wasm_result_free(&r);
    assert_true(c.saw_wasm2c);
    assert_true(c.saw_cc);
    assert_true(c.calls >= 4); /* two --version probes, wasm2c, cc */
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

static void refuses_another_wasm2c_version(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    char fake[4096];
    snprintf(fake, sizeof fake, "%s/wasm2c", dir);
    agc_test_write_file(fake, "#!/bin/sh\necho 1.0.30\n");
    chmod(fake, 0755);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_compile_opts o = AGC_WASM_COMPILE_OPTS_INIT;
    o.cache_dir = dir;
    o.wasm2c = fake;
    char *so = NULL;
    assert_int_equal(agc_wasm_compile(&so, NULL, MOD_EMPTY_START, sizeof MOD_EMPTY_START, &o, ctx),
                     AGC_EUNSUPPORTED);
    assert_null(so);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "1.0.30"));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "1.0.32"));
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

static void refuses_objects_from_another_wabt_at_load(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    char *dir = agc_test_tmpdir();
    char src[4096], so[4096], cmd[9000];
    snprintf(src, sizeof src, "%s/old.c", dir);
    snprintf(so, sizeof so, "%s/old.so", dir);
    agc_test_write_file(src, "#include <stdint.h>\n"
                             "struct info { uint32_t abi; const char *v, *m; uint32_t ni, ne;"
                             " const char *const *names; };\n"
                             "const struct info agc_glue_info_v1 = {1, \"1.0.30\", \"guest\", 0,"
                             " 0, 0};\n");
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o %s %s", so, src);
    assert_int_equal(system(cmd), 0);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_module *m = NULL;
    assert_int_equal(agc_wasm_module_parse(&m, MOD_EMPTY_START, sizeof MOD_EMPTY_START, ctx),
                     AGC_OK);
    agc_wasm_instance *in = NULL;
    assert_int_equal(agc_wasm_instance_new(&in, so, m, NULL, ctx), AGC_EUNSUPPORTED);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "wasm2c 1.0.30"));
    agc_wasm_module_free(m);
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(second_compile_is_a_cache_hit),
        cmocka_unit_test(concurrent_compiles_build_once),
        cmocka_unit_test(tools_run_through_the_exec_seam),
        cmocka_unit_test(refuses_another_wasm2c_version),
        cmocka_unit_test(refuses_objects_from_another_wabt_at_load),
    };
    return cmocka_run_group_tests_name("sandbox_wasm_cache", tests, NULL, NULL);
}
