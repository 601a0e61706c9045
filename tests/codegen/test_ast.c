/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * AST: language by file name, syntax check, outlines of every language,
 * symbol lookup and symbol-targeted edits. Skips (with the reason) when the
 * build has no grammars (.deps missing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/ast.h"

#define NEED(lang)                                                                                 \
    do {                                                                                           \
        if (!agc_ast_language_available(lang)) {                                                   \
            printf("SKIP: no %s grammar in this build (run 'make deps' and reconfigure)\n", lang); \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static const char c_src[] = "#include <stdio.h>\n"
                            "#define MAX(a, b) ((a) > (b) ? (a) : (b))\n"
                            "typedef struct node { int v; struct node *next; } node;\n"
                            "struct list { node *head; };\n"
                            "int list_len(const struct list *l);\n"
                            "static int *find(struct list *l, int v)\n"
                            "{\n"
                            "    return NULL;\n"
                            "}\n"
                            "int list_len(const struct list *l)\n"
                            "{\n"
                            "    int n = 0;\n"
                            "    for (node *p = l->head; p; p = p->next)\n"
                            "        n++;\n"
                            "    return n;\n"
                            "}\n";

static const char py_src[] = "import os\n"
                             "\n"
                             "def top(x):\n"
                             "    return x + 1\n"
                             "\n"
                             "class Parser:\n"
                             "    def __init__(self, text):\n"
                             "        self.text = text\n"
                             "\n"
                             "    @staticmethod\n"
                             "    def parse(text):\n"
                             "        return Parser(text)\n"
                             "\n"
                             "    def run(self):\n"
                             "        return 1\n";

typedef struct expect {
    const char *qualified;
    const char *kind;
    unsigned start, end;
} expect;

static void check_outline(const char *path, const char *src, const expect *ex, size_t n)
{
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_ast_outline *o = NULL;
    assert_int_equal(agc_ast_outline_new(&o, path, src, strlen(src), ctx), AGC_OK);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < o->n_symbols && !found; k++) {
            const agc_ast_symbol *s = &o->symbols[k];
            if (strcmp(s->qualified, ex[i].qualified) == 0 &&
                strcmp(agc_ast_kind_name(s->kind), ex[i].kind) == 0 &&
                s->start_line == ex[i].start && s->end_line == ex[i].end)
                found = true;
        }
        if (!found) {
            char *t = NULL;
            assert_int_equal(agc_ast_outline_render(&t, o, false, ctx), AGC_OK);
            fprintf(stderr, "%s: missing %s %s %u-%u in:\n%s", path, ex[i].kind, ex[i].qualified,
                    ex[i].start, ex[i].end, t);
            agc_free(ctx, t);
        }
        assert_true(found);
    }
    agc_ast_outline_free(o);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void language_comes_from_the_file_name(void **state)
{
    (void)state;
    assert_string_equal(agc_ast_language_for_path("src/a.c"), "c");
    assert_string_equal(agc_ast_language_for_path("x/y.HPP"), "cpp");
    assert_string_equal(agc_ast_language_for_path("m.py"), "python");
    assert_string_equal(agc_ast_language_for_path("a.mjs"), "javascript");
    assert_string_equal(agc_ast_language_for_path("a.ts"), "typescript");
    assert_string_equal(agc_ast_language_for_path("a.tsx"), "tsx");
    assert_string_equal(agc_ast_language_for_path("main.go"), "go");
    assert_string_equal(agc_ast_language_for_path("lib.rs"), "rust");
    assert_string_equal(agc_ast_language_for_path("p.json"), "json");
    assert_null(agc_ast_language_for_path("README"));
    assert_null(agc_ast_language_for_path(".bashrc"));
    assert_null(agc_ast_language_for_path("a.txt"));
    assert_null(agc_ast_language_for_path(NULL));
}

static void unknown_language_is_unsupported(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *errs = NULL;
    assert_int_equal(agc_ast_check_syntax(&errs, "notes.txt", "x", 1, ctx), AGC_EUNSUPPORTED);
    assert_null(errs);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "unknown language"));
    agc_ast_outline *o = NULL;
    assert_int_equal(agc_ast_outline_new(&o, "a.txt", "x", 1, ctx), AGC_EUNSUPPORTED);
    assert_null(o);
    agc_ctx_free(ctx);
}

static void syntax_errors_have_line_col_and_node(void **state)
{
    (void)state;
    NEED("c");
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *errs = NULL;
    assert_int_equal(agc_ast_check_syntax(&errs, "a.c", c_src, strlen(c_src), ctx), AGC_OK);
    assert_null(errs);
    const char bad[] = "int f(void) {\n  return (1 + ;\n}\n";
    assert_int_equal(agc_ast_check_syntax(&errs, "a.c", bad, strlen(bad), ctx), AGC_EPARSE);
    assert_non_null(errs);
    assert_true(strncmp(errs, "2:", 2) == 0);
    assert_non_null(strstr(errs, "syntax error near `"));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "a.c: 1 syntax error"));
    agc_free(ctx, errs);
    assert_int_equal(agc_ast_error_count("a.c", bad, strlen(bad), ctx), 1);
    assert_int_equal(agc_ast_error_count("a.c", c_src, strlen(c_src), ctx), 0);
    if (agc_ast_language_available("python")) {
        const char pbad[] = "def f(:\n    pass\n";
        assert_int_equal(agc_ast_check_syntax(&errs, "m.py", pbad, strlen(pbad), ctx), AGC_EPARSE);
        assert_true(strncmp(errs, "1:", 2) == 0);
        agc_free(ctx, errs);
    }
    if (agc_ast_language_available("json")) {
        const char j[] = "{\"a\": 1,}";
        assert_int_equal(agc_ast_check_syntax(&errs, "p.json", j, strlen(j), ctx), AGC_EPARSE);
        agc_free(ctx, errs);
    }
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void outlines_c(void **state)
{
    (void)state;
    NEED("c");
    static const expect ex[] = {
        {"MAX", "macro", 2, 2},     {"node", "type", 3, 3},
        {"list", "class", 4, 4},    {"list_len", "function", 5, 5},
        {"find", "function", 6, 9}, {"list_len", "function", 10, 16},
    };
    check_outline("a.c", c_src, ex, sizeof ex / sizeof ex[0]);
}

static void outlines_python(void **state)
{
    (void)state;
    NEED("python");
    static const expect ex[] = {{"top", "function", 3, 4},
                                {"Parser", "class", 6, 15},
                                {"Parser.__init__", "method", 7, 8},
                                {"Parser.parse", "method", 10, 12},
                                {"Parser.run", "method", 14, 15}};
    check_outline("m.py", py_src, ex, sizeof ex / sizeof ex[0]);
}

static void outlines_javascript_and_typescript(void **state)
{
    (void)state;
    NEED("javascript");
    const char js[] = "export function load(path) {\n  return path;\n}\n"
                      "const helper = (a, b) => a + b;\n"
                      "class Store {\n  get(key) { return key; }\n}\n"
                      "module.exports.save = function (x) { return x; };\n";
    static const expect jx[] = {{"load", "function", 1, 3},
                                {"helper", "function", 4, 4},
                                {"Store", "class", 5, 7},
                                {"Store.get", "method", 6, 6},
                                {"module.exports.save", "function", 8, 8}};
    check_outline("a.js", js, jx, sizeof jx / sizeof jx[0]);
    NEED("typescript");
    const char ts[] = "export interface Shape { area(): number }\n"
                      "type Id = string | number;\n"
                      "export abstract class Base implements Shape {\n"
                      "  abstract area(): number;\n"
                      "  describe(p: string): string { return p; }\n"
                      "}\n"
                      "namespace NS { export function inner() {} }\n";
    static const expect tx[] = {{"Shape", "interface", 1, 1}, {"Id", "type", 2, 2},
                                {"Base", "class", 3, 6},      {"Base.describe", "method", 5, 5},
                                {"NS", "module", 7, 7},       {"NS.inner", "function", 7, 7}};
    check_outline("a.ts", ts, tx, sizeof tx / sizeof tx[0]);
}

static void outlines_go_rust_cpp(void **state)
{
    (void)state;
    NEED("go");
    const char go[] = "package main\n\ntype Point struct {\n\tX int\n}\n\n"
                      "func (p *Point) String() string {\n\treturn \"\"\n}\n\nfunc main() {}\n";
    static const expect gx[] = {
        {"Point", "class", 3, 5}, {"Point.String", "method", 7, 9}, {"main", "function", 11, 11}};
    check_outline("main.go", go, gx, sizeof gx / sizeof gx[0]);
    NEED("rust");
    const char rs[] = "pub struct P { x: i32 }\n"
                      "impl P {\n    pub fn new() -> Self { P { x: 0 } }\n}\n"
                      "trait T { fn t(&self); }\n"
                      "fn main() {}\n";
    static const expect rx[] = {{"P", "class", 1, 1},
                                {"P", "module", 2, 4},
                                {"P.new", "method", 3, 3},
                                {"T", "interface", 5, 5},
                                {"main", "function", 6, 6}};
    check_outline("lib.rs", rs, rx, sizeof rx / sizeof rx[0]);
    NEED("cpp");
    const char cpp[] = "namespace geo {\nclass Shape {\npublic:\n    int sides() const { return 0; "
                       "}\n};\n}\ndouble geo::Shape::area() const { return 1.0; }\n";
    static const expect cx[] = {{"geo", "module", 1, 6},
                                {"geo.Shape", "class", 2, 5},
                                {"geo.Shape.sides", "method", 4, 4},
                                {"geo.Shape.area", "method", 7, 7}};
    check_outline("s.cpp", cpp, cx, sizeof cx / sizeof cx[0]);
}

static void find_symbol_prefers_definitions_and_explains_misses(void **state)
{
    (void)state;
    NEED("c");
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_ast_outline *o = NULL;
    assert_int_equal(agc_ast_outline_new(&o, "a.c", c_src, strlen(c_src), ctx), AGC_OK);
    const agc_ast_symbol *s = NULL;
    /* a prototype and a definition: the definition wins */
    assert_int_equal(agc_ast_find_symbol(&s, o, "list_len", ctx), AGC_OK);
    assert_int_equal(s->start_line, 10);
    assert_false(s->declaration);
    assert_int_equal(agc_ast_find_symbol(&s, o, "lst_len", ctx), AGC_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "no symbol 'lst_len'"));
    agc_ast_outline_free(o);
    NEED("python");
    const char dup[] = "class A:\n    def f(self): pass\nclass B:\n    def f(self): pass\n";
    assert_int_equal(agc_ast_outline_new(&o, "d.py", dup, strlen(dup), ctx), AGC_OK);
    assert_int_equal(agc_ast_find_symbol(&s, o, "f", ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "ambiguous"));
    assert_int_equal(agc_ast_find_symbol(&s, o, "B.f", ctx), AGC_OK);
    assert_int_equal(s->start_line, 4);
    assert_int_equal(agc_ast_find_symbol(&s, o, "B::f", ctx), AGC_OK);
    agc_ast_outline_free(o);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void replace_reindents_and_keeps_decorators(void **state)
{
    (void)state;
    NEED("python");
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *out = NULL;
    size_t n = 0;
    /* given without the class's indentation and without the decorator */
    assert_int_equal(agc_ast_edit(&out, &n, NULL, "m.py", py_src, strlen(py_src), "Parser.parse",
                                  AGC_AST_REPLACE,
                                  "def parse(text, strict=False):\n    return Parser(text)\n", ctx),
                     AGC_OK);
    assert_int_equal(n, strlen(out));
    assert_non_null(strstr(out, "    @staticmethod\n    def parse(text, strict=False):\n"
                                "        return Parser(text)\n\n    def run"));
    agc_free(ctx, out);
    /* with a decorator: the whole range is replaced */
    assert_int_equal(agc_ast_edit(&out, &n, NULL, "m.py", py_src, strlen(py_src), "parse",
                                  AGC_AST_REPLACE,
                                  "@classmethod\ndef parse(cls, text):\n    return cls(text)", ctx),
                     AGC_OK);
    assert_non_null(strstr(out, "\n    @classmethod\n    def parse(cls, text):\n        return "
                                "cls(text)\n\n    def run"));
    assert_null(strstr(out, "staticmethod"));
    agc_free(ctx, out);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void insert_after_places_a_new_method(void **state)
{
    (void)state;
    NEED("python");
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *out = NULL;
    assert_int_equal(agc_ast_edit(&out, NULL, NULL, "m.py", py_src, strlen(py_src), "__init__",
                                  AGC_AST_INSERT_AFTER, "def size(self):\n    return 0\n", ctx),
                     AGC_OK);
    assert_non_null(strstr(out, "        self.text = text\n\n    def size(self):\n        return "
                                "0\n\n    @staticmethod"));
    agc_ast_outline *o = NULL;
    assert_int_equal(agc_ast_outline_new(&o, "m.py", out, strlen(out), ctx), AGC_OK);
    const agc_ast_symbol *s = NULL;
    assert_int_equal(agc_ast_find_symbol(&s, o, "Parser.size", ctx), AGC_OK);
    assert_int_equal(o->n_errors, 0);
    agc_ast_outline_free(o);
    agc_free(ctx, out);
    NEED("c");
    assert_int_equal(agc_ast_edit(&out, NULL, NULL, "a.c", c_src, strlen(c_src), "find",
                                  AGC_AST_INSERT_BEFORE, "static int g(void) { return 1; }", ctx),
                     AGC_OK);
    assert_non_null(strstr(out, "static int g(void) { return 1; }\n\nstatic int *find("));
    agc_free(ctx, out);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void edit_that_breaks_syntax_is_refused_with_errors(void **state)
{
    (void)state;
    NEED("c");
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *out = NULL, *errs = NULL;
    assert_int_equal(
        agc_ast_edit(&out, NULL, &errs, "a.c", c_src, strlen(c_src), "find", AGC_AST_REPLACE,
                     "static int *find(struct list *l, int v)\n{\n    return (NULL;\n}", ctx),
        AGC_EPARSE);
    assert_null(out);
    assert_non_null(errs);
    assert_non_null(strstr(errs, "syntax error near"));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "introduces syntax errors"));
    agc_free(ctx, errs);
    assert_int_equal(agc_ast_edit(&out, NULL, &errs, "a.c", c_src, strlen(c_src), "nothere",
                                  AGC_AST_REPLACE, "int x;", ctx),
                     AGC_ENOTFOUND);
    assert_null(errs);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static agc_status outline_sweep(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_ast_outline *o = NULL;
    agc_status st = agc_ast_outline_new(&o, "m.py", py_src, strlen(py_src), ctx);
    char *t = NULL;
    if (st == AGC_OK)
        st = agc_ast_outline_render(&t, o, true, ctx);
    agc_free(ctx, t);
    agc_ast_outline_free(o);
    if (st != AGC_OK)
        return st;
    char *out = NULL;
    st = agc_ast_edit(&out, NULL, NULL, "m.py", py_src, strlen(py_src), "top", AGC_AST_REPLACE,
                      "def top(x):\n    return x", ctx);
    agc_free(ctx, out);
    return st;
}

static void outline_and_edit_survive_allocation_failures(void **state)
{
    (void)state;
    NEED("python");
    assert_true(agc_test_oom_sweep(outline_sweep, NULL, 0) > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(language_comes_from_the_file_name),
        cmocka_unit_test(unknown_language_is_unsupported),
        cmocka_unit_test(syntax_errors_have_line_col_and_node),
        cmocka_unit_test(outlines_c),
        cmocka_unit_test(outlines_python),
        cmocka_unit_test(outlines_javascript_and_typescript),
        cmocka_unit_test(outlines_go_rust_cpp),
        cmocka_unit_test(find_symbol_prefers_definitions_and_explains_misses),
        cmocka_unit_test(replace_reindents_and_keeps_decorators),
        cmocka_unit_test(insert_after_places_a_new_method),
        cmocka_unit_test(edit_that_breaks_syntax_is_refused_with_errors),
        cmocka_unit_test(outline_and_edit_survive_allocation_failures),
    };
    return cmocka_run_group_tests_name("codegen_ast", tests, NULL, NULL);
}
