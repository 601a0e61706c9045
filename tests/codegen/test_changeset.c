/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* codegen change sets: the four formats, strict matching, fuzzy errors, diff, ordering, syntax. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/codegen.h"

typedef struct fx {
    char *dir;
    agc_ctx *ctx;
    agc_workspace *ws;
} fx;

static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = agc_test_tmpdir();
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_workspace_open(&f->ws, f->dir, NULL, f->ctx), AGC_OK);
    return f;
}

static void fx_free(fx *f)
{
    agc_workspace_close(f->ws);
    agc_ctx_free(f->ctx);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f);
}

static void put(fx *f, const char *rel, const char *text)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", f->dir, rel);
    agc_test_write_file(p, text);
}

static char *get(fx *f, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", f->dir, rel);
    FILE *fp = fopen(p, "rb");
    if (!fp)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* parse + resolve + apply; returns the status, the error text in the ctx. */
static agc_status run(fx *f, const char *text, agc_cs_format fmt)
{
    agc_changeset *cs = NULL;
    agc_status st = agc_changeset_parse(&cs, text, fmt, f->ctx);
    if (st == AGC_OK)
        st = agc_changeset_resolve(cs, f->ws);
    if (st == AGC_OK)
        st = agc_changeset_apply(cs, NULL);
    agc_changeset_free(cs);
    return st;
}

static const char *SRC = "#include <stdio.h>\n"
                         "\n"
                         "int add(int a, int b)\n"
                         "{\n"
                         "    return a + b;\n"
                         "}\n"
                         "\n"
                         "int sub(int a, int b)\n"
                         "{\n"
                         "    return a - b;\n"
                         "}\n";

static void detects_formats(void **state)
{
    (void)state;
    assert_int_equal(agc_cs_format_detect("*** Begin Patch\n"), AGC_CS_FMT_APPLY_PATCH);
    assert_int_equal(agc_cs_format_detect("x.c\n<<<<<<< SEARCH\n"), AGC_CS_FMT_SEARCH_REPLACE);
    assert_int_equal(agc_cs_format_detect("--- a/x\n+++ b/x\n"), AGC_CS_FMT_UDIFF);
    assert_int_equal(agc_cs_format_detect("x.c\n```\nhi\n```\n"), AGC_CS_FMT_WHOLE_FILE);
}

static void search_replace_applies(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    assert_int_equal(run(f,
                         "Here is the fix:\n\nm.c\n```c\n<<<<<<< SEARCH\n    return a - b;\n"
                         "=======\n    return a - b + 0;\n>>>>>>> REPLACE\n```\n",
                         AGC_CS_FMT_AUTO),
                     AGC_OK);
    assert_non_null(strstr(get(f, "m.c"), "return a - b + 0;"));
    assert_non_null(strstr(get(f, "m.c"), "return a + b;\n"));
    fx_free(f);
}

static void search_twice_is_ambiguous(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    assert_int_equal(run(f, "m.c\n<<<<<<< SEARCH\n{\n=======\n{ /* x */\n>>>>>>> REPLACE\n",
                         AGC_CS_FMT_SEARCH_REPLACE),
                     AGC_EINVAL);
    const char *msg = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(msg, "m.c"));
    assert_non_null(strstr(msg, "matches 2 places"));
    assert_non_null(strstr(msg, "lines 4 9"));
    assert_string_equal(get(f, "m.c"), SRC); /* unchanged */
    fx_free(f);
}

static void miss_shows_closest_text(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    assert_int_equal(run(f,
                         "m.c\n<<<<<<< SEARCH\nint sub(int x, int y)\n{\n    return x - y;\n"
                         "=======\nint sub(int x, int y)\n{\n    return y - x;\n>>>>>>> REPLACE\n",
                         AGC_CS_FMT_AUTO),
                     AGC_EINVAL);
    const char *msg = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(msg, "m.c: edit 1"));
    assert_non_null(strstr(msg, "not found"));
    assert_non_null(strstr(msg, "closest text (line 8,"));
    assert_non_null(strstr(msg, "int sub(int a, int b)"));
    fx_free(f);
}

static void indentation_drift_is_reindented(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    /* the model dropped the indentation of the body */
    assert_int_equal(run(f,
                         "m.c\n<<<<<<< SEARCH\nreturn a + b;\n=======\nif (a < 0)\n"
                         "    return b;\nreturn a + b;\n>>>>>>> REPLACE\n",
                         AGC_CS_FMT_AUTO),
                     AGC_OK);
    assert_non_null(
        strstr(get(f, "m.c"), "{\n    if (a < 0)\n        return b;\n    return a + b;\n}"));
    fx_free(f);
}

static void udiff_with_wrong_line_numbers(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    assert_int_equal(run(f,
                         "--- a/m.c\n+++ b/m.c\n@@ -40,3 +40,3 @@\n int sub(int a, int b)\n {\n"
                         "-    return a - b;\n+    return b - a;\n",
                         AGC_CS_FMT_AUTO),
                     AGC_OK);
    assert_non_null(strstr(get(f, "m.c"), "return b - a;"));
    fx_free(f);
}

static void udiff_create_delete_rename(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "old.txt", "bye\n");
    put(f, "keep.txt", "one\ntwo\n");
    assert_int_equal(run(f,
                         "diff --git a/new/dir/n.txt b/new/dir/n.txt\nnew file mode 100644\n"
                         "--- /dev/null\n+++ b/new/dir/n.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n"
                         "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
                         "diff --git a/keep.txt b/moved.txt\nrename from keep.txt\nrename to "
                         "moved.txt\n--- a/keep.txt\n+++ b/moved.txt\n@@ -1,2 +1,2 @@\n one\n"
                         "-two\n+three\n",
                         AGC_CS_FMT_AUTO),
                     AGC_OK);
    assert_string_equal(get(f, "new/dir/n.txt"), "hello\nworld\n");
    assert_null(get(f, "old.txt"));
    assert_null(get(f, "keep.txt"));
    assert_string_equal(get(f, "moved.txt"), "one\nthree\n");
    fx_free(f);
}

static void apply_patch_format(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    assert_int_equal(run(f,
                         "*** Begin Patch\n*** Update File: m.c\n@@ int sub(int a, int b)\n {\n"
                         "-    return a - b;\n+    return 0;\n*** Add File: x.h\n+int x;\n"
                         "*** End Patch\n",
                         AGC_CS_FMT_AUTO),
                     AGC_OK);
    assert_non_null(strstr(get(f, "m.c"), "    return 0;\n}\n"));
    assert_non_null(strstr(get(f, "m.c"), "return a + b;"));
    assert_string_equal(get(f, "x.h"), "int x;\n");
    /* a malformed patch: strict parse error with a line number */
    agc_changeset *cs = NULL;
    assert_int_equal(agc_changeset_parse(&cs, "*** Begin Patch\n*** Frob File: x\n*** End Patch\n",
                                         AGC_CS_FMT_AUTO, f->ctx),
                     AGC_EPARSE);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "line 2"));
    fx_free(f);
}

static void whole_file_create_and_replace(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "a.py", "print(1)\n");
    assert_int_equal(run(f, "a.py\n```python\nprint(2)\n```\n\nsrc/b.py\n```python\nx = 1\n```\n",
                         AGC_CS_FMT_AUTO),
                     AGC_OK);
    assert_string_equal(get(f, "a.py"), "print(2)\n");
    assert_string_equal(get(f, "src/b.py"), "x = 1\n");
    fx_free(f);
}

static void dry_run_diff(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    agc_changeset *cs = NULL;
    assert_int_equal(agc_changeset_parse(&cs,
                                         "m.c\n<<<<<<< SEARCH\n    return a - b;\n=======\n"
                                         "    return b - a;\n>>>>>>> REPLACE\n",
                                         AGC_CS_FMT_AUTO, f->ctx),
                     AGC_OK);
    assert_int_equal(agc_changeset_resolve(cs, f->ws), AGC_OK);
    agc_buf b;
    agc_buf_init(&b, f->ctx, 0);
    assert_int_equal(agc_changeset_diff(cs, &b), AGC_OK);
    assert_string_equal(agc_buf_cstr(&b), "--- a/m.c\n+++ b/m.c\n@@ -7,5 +7,5 @@\n \n"
                                          " int sub(int a, int b)\n {\n-    return a - b;\n"
                                          "+    return b - a;\n }\n");
    agc_buf_free(&b);
    agc_changeset_free(cs);
    assert_string_equal(get(f, "m.c"), SRC); /* nothing written */
    fx_free(f);
}

static void headers_come_first(void **state)
{
    (void)state;
    fx *f = fx_new();
    agc_changeset *cs = NULL;
    assert_int_equal(
        agc_changeset_parse(&cs,
                            "main.c\n```c\n#include \"util.h\"\nint main(void) { "
                            "return u(); }\n```\n"
                            "util.c\n```c\n#include \"util.h\"\nint u(void) { return 0; }\n```\n"
                            "util.h\n```c\nint u(void);\n```\n",
                            AGC_CS_FMT_AUTO, f->ctx),
        AGC_OK);
    assert_int_equal(agc_changeset_resolve(cs, f->ws), AGC_OK);
    agc_cs_file cf;
    assert_true(agc_changeset_file(cs, 0, &cf));
    assert_string_equal(cf.path, "util.h");
    assert_int_equal(cf.op, AGC_CS_CREATE);
    char *sum = agc_changeset_summary(cs);
    assert_non_null(strstr(sum, "Change 3 files (3 added)"));
    agc_free(f->ctx, sum);
    agc_changeset_free(cs);
    fx_free(f);
}

static void syntax_errors_are_rejected(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "m.c", SRC);
    assert_int_equal(run(f,
                         "m.c\n<<<<<<< SEARCH\n    return a - b;\n}\n=======\n    return a - b;\n"
                         ">>>>>>> REPLACE\n",
                         AGC_CS_FMT_AUTO),
                     AGC_EPARSE);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "m.c:"));
    assert_string_equal(get(f, "m.c"), SRC);
    fx_free(f);
}

static void edit_errors_name_every_file(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "a.txt", "x\n");
    assert_int_equal(run(f,
                         "a.txt\n<<<<<<< SEARCH\nnope\n=======\ny\n>>>>>>> REPLACE\n"
                         "b.txt\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n",
                         AGC_CS_FMT_AUTO),
                     AGC_EINVAL);
    const char *msg = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(msg, "a.txt: edit 1"));
    assert_non_null(strstr(msg, "b.txt"));
    assert_non_null(strstr(msg, "no such file"));
    fx_free(f);
}

static void crlf_and_missing_newline_kept(void **state)
{
    (void)state;
    fx *f = fx_new();
    put(f, "w.txt", "a\r\nb\r\nc");
    assert_int_equal(
        run(f, "w.txt\n<<<<<<< SEARCH\nb\n=======\nB\n>>>>>>> REPLACE\n", AGC_CS_FMT_AUTO), AGC_OK);
    assert_string_equal(get(f, "w.txt"), "a\r\nB\r\nc");
    fx_free(f);
}

static void leaves_the_workspace_refused(void **state)
{
    (void)state;
    fx *f = fx_new();
    assert_int_equal(run(f, "../evil.txt\n```\nx\n```\n", AGC_CS_FMT_AUTO), AGC_EPERM);
    assert_int_equal(run(f, ".git/config\n```\nx\n```\n", AGC_CS_FMT_AUTO), AGC_EPERM);
    fx_free(f);
}

static agc_status sweep_fn(agc_ctx *ctx, void *user)
{
    const char *dir = user;
    agc_workspace *ws = NULL;
    agc_status st = agc_workspace_open(&ws, dir, NULL, ctx);
    if (st != AGC_OK)
        return st;
    agc_changeset *cs = NULL;
    st = agc_changeset_parse(&cs,
                             "--- a/m.c\n+++ b/m.c\n@@ -8,3 +8,3 @@\n int sub(int a, int b)\n {\n"
                             "-    return a - b;\n+    return b - a;\n",
                             AGC_CS_FMT_AUTO, ctx);
    if (st == AGC_OK)
        st = agc_changeset_resolve(cs, ws);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    if (st == AGC_OK)
        st = agc_changeset_diff(cs, &b);
    agc_buf_free(&b);
    agc_changeset_free(cs);
    agc_workspace_close(ws);
    return st;
}

static void parse_resolve_survive_oom(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    char p[4096];
    snprintf(p, sizeof p, "%s/m.c", dir);
    agc_test_write_file(p, SRC);
    assert_true(agc_test_oom_sweep(sweep_fn, dir, 0) > 10);
    agc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detects_formats),
        cmocka_unit_test(search_replace_applies),
        cmocka_unit_test(search_twice_is_ambiguous),
        cmocka_unit_test(miss_shows_closest_text),
        cmocka_unit_test(indentation_drift_is_reindented),
        cmocka_unit_test(udiff_with_wrong_line_numbers),
        cmocka_unit_test(udiff_create_delete_rename),
        cmocka_unit_test(apply_patch_format),
        cmocka_unit_test(whole_file_create_and_replace),
        cmocka_unit_test(dry_run_diff),
        cmocka_unit_test(headers_come_first),
        cmocka_unit_test(syntax_errors_are_rejected),
        cmocka_unit_test(edit_errors_name_every_file),
        cmocka_unit_test(crlf_and_missing_newline_kept),
        cmocka_unit_test(leaves_the_workspace_refused),
        cmocka_unit_test(parse_resolve_survive_oom),
    };
    return cmocka_run_group_tests_name("codegen_changeset", tests, NULL, NULL);
}
