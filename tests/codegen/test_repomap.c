/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Repo map on a small real tree: budget fitting, ranking by references,
 * personalisation by focus files, focus symbols and task text, skipped
 * directories and .gitignore.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/ast.h"
#include "agentc/repomap.h"

static void put(const char *dir, const char *rel, const char *text)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    assert_int_equal(system(cmd), 0);
    *slash = '/';
    agc_test_write_file(p, text);
}

/* util.c is used by everyone; parser.c by main.c; report.py stands alone */
static char *make_tree(void)
{
    char *d = agc_test_tmpdir();
    put(d, "src/util.h",
        "int util_clamp(int v, int lo, int hi);\nchar *util_strdup(const char *s);\n");
    put(d, "src/util.c",
        "#include \"util.h\"\nint util_clamp(int v, int lo, int hi)\n{\n    return v < lo ? lo : v "
        "> hi ? hi : v;\n}\nchar *util_strdup(const char *s)\n{\n    return 0;\n}\n");
    put(d, "src/parser.c",
        "#include \"util.h\"\nint parse_number(const char *s)\n{\n    return util_clamp(s[0], 0, "
        "9);\n}\nint parse_list(const char *s)\n{\n    util_strdup(s);\n    return "
        "parse_number(s);\n}\n");
    put(d, "src/main.c",
        "#include \"util.h\"\nint parse_list(const char *s);\nint main(void)\n{\n    "
        "util_clamp(1, 2, 3);\n    return parse_list(\"1\");\n}\n");
    put(d, "src/render.c",
        "#include \"util.h\"\nint render_table(int rows)\n{\n    return util_clamp(rows, 0, "
        "100);\n}\n");
    put(d, "tools/report.py",
        "def summarize_invoices(rows):\n    return len(rows)\n\nclass InvoiceReport:\n    def "
        "build(self):\n        return summarize_invoices([])\n");
    put(d, "node_modules/dep/index.js", "function fromNodeModules() {}\n");
    put(d, "build/gen.c", "int generated_in_build(void) { return 0; }\n");
    put(d, ".hidden/x.c", "int hidden_fn(void) { return 0; }\n");
    put(d, "secret/skip.c", "int ignored_by_gitignore(void) { return 0; }\n");
    put(d, ".gitignore", "# comment\nsecret/\n*.tmp\n");
    return d;
}

static char *map(const char *root, size_t budget, const char *const *focus, size_t nf,
                 const char *task, size_t *tokens)
{
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_repomap_opts o = AGC_REPOMAP_OPTS_INIT;
    o.budget_tokens = budget;
    o.focus = focus;
    o.n_focus = nf;
    o.task = task;
    char *out = NULL;
    assert_int_equal(agc_repomap_render(&out, tokens, root, &o, ctx), AGC_OK);
    char *copy = strdup(out);
    agc_free(ctx, out);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
    return copy;
}

#define NEED_C()                                                                                   \
    do {                                                                                           \
        if (!agc_ast_language_available("c") || !agc_ast_language_available("python")) {           \
            printf(                                                                                \
                "SKIP: no C/Python grammars in this build (run 'make deps' and reconfigure)\n");   \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static void map_fits_the_budget_and_ranks_shared_code_first(void **state)
{
    (void)state;
    NEED_C();
    char *d = make_tree();
    size_t tokens = 0;
    char *m = map(d, 4000, NULL, 0, NULL, &tokens);
    /* everything fits in 4000 tokens: every definition, skipped dirs absent */
    assert_non_null(strstr(m, "src/util.c:\n"));
    assert_non_null(strstr(m, "  2: int util_clamp(int v, int lo, int hi)"));
    assert_non_null(strstr(m, "tools/report.py:\n"));
    assert_null(strstr(m, "fromNodeModules"));
    assert_null(strstr(m, "generated_in_build"));
    assert_null(strstr(m, "hidden_fn"));
    assert_null(strstr(m, "ignored_by_gitignore"));
    assert_true(tokens > 0 && tokens <= 4000);
    assert_int_equal(tokens, agc_tokens_count(m, strlen(m), AGC_TOK_O200K));
    /* the most referenced definition comes first */
    assert_true(strncmp(m, "src/util", 8) == 0);
    free(m);
    /* small budgets: never over, and growing with the budget */
    size_t prev = 0;
    for (size_t b = 10; b <= 200; b += 19) {
        m = map(d, b, NULL, 0, NULL, &tokens);
        assert_true(tokens <= b);
        assert_true(tokens >= prev);
        prev = tokens;
        free(m);
    }
    agc_test_rmtree(d);
    free(d);
}

static void focus_and_task_personalise_the_ranking(void **state)
{
    (void)state;
    NEED_C();
    char *d = make_tree();
    size_t tokens;
    /* a focus file's neighbourhood first */
    const char *f1[] = {"tools/report.py"};
    char *m = map(d, 40, f1, 1, NULL, &tokens);
    assert_non_null(strstr(m, "tools/report.py:"));
    free(m);
    /* a symbol named in the task pulls its file in at a small budget */
    m = map(d, 40, NULL, 0, "render_table returns the wrong count for empty tables", &tokens);
    assert_non_null(strstr(m, "render_table"));
    free(m);
    /* a focus symbol */
    const char *f2[] = {"InvoiceReport"};
    m = map(d, 40, f2, 1, NULL, &tokens);
    assert_non_null(strstr(m, "InvoiceReport"));
    free(m);
    /* ranked files for evaluation */
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_repomap_opts o = AGC_REPOMAP_OPTS_INIT;
    o.task = "fix parse_number";
    char **files = NULL;
    assert_int_equal(agc_repomap_rank_files(&files, d, &o, 0, ctx), AGC_OK);
    size_t n = 0;
    while (files[n])
        n++;
    assert_int_equal(n, 6);
    assert_string_equal(files[0], "src/parser.c");
    agc_repomap_files_free(files, ctx);
    o.version = 99;
    char *out = NULL;
    assert_int_equal(agc_repomap_render(&out, NULL, d, &o, ctx), AGC_EINVAL);
    assert_int_equal(agc_repomap_render(&out, NULL, "/nonexistent/dir", NULL, ctx), AGC_ENOTFOUND);
    assert_null(out);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
    agc_test_rmtree(d);
    free(d);
}

static void empty_tree_gives_an_empty_map(void **state)
{
    (void)state;
    char *d = agc_test_tmpdir();
    size_t tokens = 7;
    char *m = map(d, 100, NULL, 0, "anything", &tokens);
    assert_string_equal(m, "");
    assert_int_equal(tokens, 0);
    free(m);
    agc_test_rmtree(d);
    free(d);
}

typedef struct sweep {
    const char *dir;
} sweep;

static agc_status map_sweep(agc_ctx *ctx, void *user)
{
    const sweep *s = user;
    agc_repomap_opts o = AGC_REPOMAP_OPTS_INIT;
    o.budget_tokens = 60;
    o.task = "util_clamp";
    char *out = NULL;
    agc_status st = agc_repomap_render(&out, NULL, s->dir, &o, ctx);
    agc_free(ctx, out);
    return st;
}

static void map_survives_allocation_failures(void **state)
{
    (void)state;
    NEED_C();
    char *d = make_tree();
    sweep s = {d};
    assert_true(agc_test_oom_sweep(map_sweep, &s, 0) > 10);
    agc_test_rmtree(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_fits_the_budget_and_ranks_shared_code_first),
        cmocka_unit_test(focus_and_task_personalise_the_ranking),
        cmocka_unit_test(empty_tree_gives_an_empty_map),
        cmocka_unit_test(map_survives_allocation_failures),
    };
    return cmocka_run_group_tests_name("codegen_repomap", tests, NULL, NULL);
}
