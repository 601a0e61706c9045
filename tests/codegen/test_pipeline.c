/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* codegen pipeline: diagnostics parsers, project detection, a real make run in the jail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/codegen.h"

typedef struct dl {
    agc_diag *d;
    size_t n;
} dl;

static dl parse(agc_ctx *ctx, const char *text)
{
    dl r = {NULL, 0};
    assert_int_equal(agc_diags_parse(&r.d, &r.n, text, 50, ctx), AGC_OK);
    return r;
}

static void dl_free(dl *r, agc_ctx *ctx)
{
    agc_diags_free(r->d, r->n, ctx);
    agc_free(ctx, r->d);
}

static void gcc_and_make(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    dl r = parse(ctx, "cc -o x x.c\n"
                      "src/x.c: In function 'main':\n"
                      "src/x.c:12:5: error: 'y' undeclared (first use in this function)\n"
                      "src/x.c:12:5: note: each undeclared identifier is reported only once\n"
                      "src/x.c:3:1: warning: unused variable 'z' [-Wunused-variable]\n"
                      "make: *** [Makefile:7: x] Error 1\n");
    assert_int_equal(r.n, 4);
    assert_string_equal(r.d[0].file, "src/x.c");
    assert_int_equal(r.d[0].line, 12);
    assert_int_equal(r.d[0].col, 5);
    assert_string_equal(r.d[0].severity, "error");
    assert_string_equal(r.d[0].message, "error: 'y' undeclared (first use in this function)");
    assert_string_equal(r.d[1].severity, "note");
    assert_string_equal(r.d[2].severity, "warning");
    assert_string_equal(r.d[3].file, "Makefile");
    assert_int_equal(r.d[3].line, 7);
    assert_non_null(strstr(r.d[3].message, "make target 'x' failed (Error 1)"));
    dl_free(&r, ctx);
    /* assert(3) */
    r = parse(ctx, "t: t.c:9: main: Assertion `f(2) == 4' failed.\nAborted\n");
    assert_int_equal(r.n, 1);
    assert_string_equal(r.d[0].file, "t.c");
    assert_int_equal(r.d[0].line, 9);
    dl_free(&r, ctx);
    agc_ctx_free(ctx);
}

static void python_and_pytest(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    dl r = parse(ctx, "Traceback (most recent call last):\n"
                      "  File \"/w/app.py\", line 10, in <module>\n"
                      "    main()\n"
                      "  File \"/w/lib/calc.py\", line 4, in main\n"
                      "    return 1 / 0\n"
                      "ZeroDivisionError: division by zero\n");
    assert_int_equal(r.n, 1);
    assert_string_equal(r.d[0].file, "/w/lib/calc.py");
    assert_int_equal(r.d[0].line, 4);
    assert_string_equal(r.d[0].message, "ZeroDivisionError: division by zero");
    dl_free(&r, ctx);
    r = parse(ctx, "tests/test_calc.py:8: AssertionError\n"
                   "=========================== short test summary info ======\n"
                   "FAILED tests/test_calc.py::test_add - assert 3 == 4\n"
                   "1 failed, 2 passed in 0.03s\n");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.d[0].file, "tests/test_calc.py");
    assert_int_equal(r.d[0].line, 8);
    assert_string_equal(r.d[1].test, "tests/test_calc.py::test_add");
    assert_string_equal(r.d[1].message, "assert 3 == 4");
    dl_free(&r, ctx);
    agc_ctx_free(ctx);
}

static void go_and_jest(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    dl r = parse(ctx, "--- FAIL: TestAdd (0.00s)\n"
                      "    calc_test.go:12: Add(1, 2) = 4, want 3\n"
                      "FAIL\n"
                      "FAIL\texample.com/calc\t0.002s\n");
    assert_true(r.n >= 2);
    assert_string_equal(r.d[0].test, "TestAdd");
    assert_string_equal(r.d[1].file, "calc_test.go");
    assert_int_equal(r.d[1].line, 12);
    dl_free(&r, ctx);
    r = parse(ctx,
              "  \xe2\x97\x8f calc \xe2\x80\xba adds numbers\n"
              "    expect(received).toBe(expected)\n"
              "      at Object.<anonymous> (src/calc.test.js:5:17)\n"
              "      at Promise.then.completed (node_modules/jest-circus/build/utils.js:1:1)\n");
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.d[0].test, "adds numbers"));
    assert_string_equal(r.d[1].file, "src/calc.test.js");
    assert_int_equal(r.d[1].line, 5);
    assert_int_equal(r.d[1].col, 17);
    dl_free(&r, ctx);
    agc_ctx_free(ctx);
}

static void detects_projects(void **state)
{
    (void)state;
    static const struct {
        const char *file, *content, *kind, *test;
    } cases[] = {
        {"Makefile", "all:\n\ttrue\ntest:\n\ttrue\n", "make", "make test"},
        {"CMakeLists.txt", "project(x)\n", "cmake", "ctest --test-dir build --output-on-failure"},
        {"go.mod", "module x\n", "go", "go test ./..."},
        {"package.json", "{}\n", "npm", "npm test"},
        {"test_x.py", "def test_a(): pass\n", "pytest", "python3 -m pytest -q"},
    };
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *dir = agc_test_tmpdir();
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, cases[i].file);
        agc_test_write_file(p, cases[i].content);
        agc_workspace *ws = NULL;
        agc_pipeline *pl = NULL;
        assert_int_equal(agc_workspace_open(&ws, dir, NULL, ctx), AGC_OK);
        assert_int_equal(agc_pipeline_new(&pl, ws, NULL, ctx), AGC_OK);
        assert_string_equal(agc_pipeline_kind(pl), cases[i].kind);
        const agc_pipe_cmd *last = agc_pipeline_at(pl, agc_pipeline_count(pl) - 1);
        assert_int_equal(last->stage, AGC_PIPE_TEST);
        assert_string_equal(last->command, cases[i].test);
        agc_pipeline_free(pl);
        agc_workspace_close(ws);
        agc_test_rmtree(dir);
        free(dir);
    }
    /* nothing to detect */
    char *dir = agc_test_tmpdir();
    agc_workspace *ws = NULL;
    agc_pipeline *pl = NULL;
    assert_int_equal(agc_workspace_open(&ws, dir, NULL, ctx), AGC_OK);
    assert_int_equal(agc_pipeline_new(&pl, ws, NULL, ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "no build or test command"));
    agc_workspace_close(ws);
    agc_test_rmtree(dir);
    free(dir);
    agc_ctx_free(ctx);
}

static void make_project_fails_then_passes(void **state)
{
    (void)state;
    if (system("command -v make >/dev/null && command -v cc >/dev/null") != 0)
        skip();
    char *src = agc_test_source_path("examples/code-demo");
    char *dir = agc_test_tmpdir();
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "cp -r '%s'/. '%s'/ && rm -f '%s/test_strutil'", src, dir, dir);
    assert_int_equal(system(cmd), 0);
    agc_ctx *ctx = NULL;
    agc_workspace *ws = NULL;
    agc_pipeline *pl = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_int_equal(agc_workspace_open(&ws, dir, NULL, ctx), AGC_OK);
    assert_int_equal(agc_pipeline_new(&pl, ws, NULL, ctx), AGC_OK);
    agc_pipe_result r;
    assert_int_equal(agc_pipeline_run(&r, pl), AGC_OK);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    assert_int_equal(agc_pipe_result_report(&r, &b, 2000), AGC_OK);
    if (r.passed)
        fprintf(stderr, "%s", agc_buf_cstr(&b));
    assert_false(r.passed);
    assert_int_equal(r.n_steps, 2);
    assert_true(r.steps[0].passed);
    assert_false(r.steps[1].passed);
    assert_non_null(strstr(agc_buf_cstr(&b), "test_strutil.c:20: error: "));
    assert_non_null(strstr(agc_buf_cstr(&b), "FAIL  test: make test (exit 2)"));
    agc_pipe_result_clear(&r, ctx);
    /* fix it through a change set, run again */
    agc_changeset *cs = NULL;
    assert_int_equal(agc_changeset_parse(&cs,
                                         "strutil.c\n<<<<<<< SEARCH\n            in_word = 1;\n"
                                         "=======\n            in_word = 1;\n            n++;\n"
                                         ">>>>>>> REPLACE\n",
                                         AGC_CS_FMT_AUTO, ctx),
                     AGC_OK);
    assert_int_equal(agc_changeset_resolve(cs, ws), AGC_OK);
    assert_int_equal(agc_changeset_apply(cs, NULL), AGC_OK);
    agc_changeset_free(cs);
    assert_int_equal(agc_pipeline_run(&r, pl), AGC_OK);
    agc_buf_clear(&b);
    assert_int_equal(agc_pipe_result_report(&r, &b, 2000), AGC_OK);
    if (!r.passed)
        fprintf(stderr, "%s", agc_buf_cstr(&b));
    assert_true(r.passed);
    assert_non_null(strstr(agc_buf_cstr(&b), "ALL PASSED"));
    agc_pipe_result_clear(&r, ctx);
    agc_buf_free(&b);
    agc_pipeline_free(pl);
    agc_workspace_close(ws);
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcc_and_make),
        cmocka_unit_test(python_and_pytest),
        cmocka_unit_test(go_and_jest),
        cmocka_unit_test(detects_projects),
        cmocka_unit_test(make_project_fails_then_passes),
    };
    return cmocka_run_group_tests_name("codegen_pipeline", tests, NULL, NULL);
}
