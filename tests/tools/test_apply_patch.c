/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tools apply_patch: parsing, hunk matching, add/delete/move, all-or-nothing. */
#include <ftw.h>
#include <sys/stat.h>

#include "tools_fixture.h"

/* Runs apply_patch with text; returns the result text. */
static const char *patch(fx *f, const char *text, bool want_ok)
{
    json_t *a = json_pack("{s:s}", "patch", text);
    char *args = json_dumps(a, 0);
    json_decref(a);
    assert_int_equal(fx_call(f, "apply_patch", args), AGC_OK);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf); /* jansson's allocator is the library's bridge */
    jf(args);
    if (f->res.is_error == want_ok)
        fprintf(stderr, "apply_patch: wanted %s, got: %s\n", want_ok ? "success" : "an error",
                f->res.output);
    assert_true(f->res.is_error != want_ok);
    return f->res.output;
}

static const char *SRC = "#include <stdio.h>\n"
                         "\n"
                         "int add(int a, int b)\n"
                         "{\n"
                         "    return a + b;\n"
                         "}\n"
                         "\n"
                         "int main(void)\n"
                         "{\n"
                         "    printf(\"%d\\n\", add(1, 2));\n"
                         "    return 0;\n"
                         "}\n";

static void update_applies_matching_hunks(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "m.c", SRC);
    const char *out = patch(f,
                            "*** Begin Patch\n"
                            "*** Update File: m.c\n"
                            "@@ int add(int a, int b)\n"
                            " {\n"
                            "-    return a + b;\n"
                            "+    return a + b + 0;\n"
                            " }\n"
                            "@@ int main(void)\n"
                            " {\n"
                            "-    printf(\"%d\\n\", add(1, 2));\n"
                            "+    printf(\"%d\\n\", add(2, 3));\n"
                            "*** End Patch\n",
                            true);
    assert_non_null(strstr(out, "M m.c"));
    char *want = strdup(SRC);
    char *p = strstr(want, "a + b;");
    assert_non_null(p);
    fx_expect_file(f, "m.c",
                   "#include <stdio.h>\n\nint add(int a, int b)\n{\n    return a + b + 0;\n}\n\n"
                   "int main(void)\n{\n    printf(\"%d\\n\", add(2, 3));\n    return 0;\n}\n");
    free(want);
    fx_free(f);
}

static void trailing_whitespace_is_ignored_when_exact_match_fails(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "t.txt", "alpha   \nbeta\t\ngamma\n");
    patch(f, "*** Begin Patch\n*** Update File: t.txt\n alpha\n-beta\n+BETA\n gamma\n*** End Patch",
          true);
    fx_expect_file(f, "t.txt", "alpha   \nBETA\ngamma\n");
    /* CRLF files keep their line endings, a missing final newline stays missing */
    fx_write(f, "w.txt", "one\r\ntwo\r\nthree");
    patch(f, "*** Begin Patch\n*** Update File: w.txt\n one\n-two\n+TWO\n three\n*** End Patch",
          true);
    fx_expect_file(f, "w.txt", "one\r\nTWO\r\nthree");
    fx_free(f);
}

static void non_matching_hunk_names_file_and_line_and_changes_nothing(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "m.c", SRC);
    const char *out = patch(f,
                            "*** Begin Patch\n"
                            "*** Update File: m.c\n"
                            " int main(void)\n"
                            " {\n"
                            "-    printf(\"%d\\n\", add(1, 3));\n"
                            "+    puts(\"x\");\n"
                            "*** End Patch\n",
                            false);
    assert_non_null(strstr(out, "'m.c': hunk 1 (patch line 3) does not match"));
    assert_non_null(strstr(out, "nearest text (line 8"));
    assert_non_null(strstr(out, "8| int main(void)"));
    assert_non_null(strstr(out, "nothing was changed"));
    fx_expect_file(f, "m.c", SRC);
    fx_free(f);
}

static void ambiguous_hunk_is_an_error(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "r.txt", "x = 1\ny = 2\nx = 1\ny = 2\n");
    const char *out = patch(
        f, "*** Begin Patch\n*** Update File: r.txt\n x = 1\n-y = 2\n+y = 3\n*** End Patch", false);
    assert_non_null(strstr(out, "ambiguous"));
    assert_non_null(strstr(out, "line 1 and at line 3"));
    fx_expect_file(f, "r.txt", "x = 1\ny = 2\nx = 1\ny = 2\n");
    /* End of File anchors the hunk at the end */
    patch(f,
          "*** Begin Patch\n*** Update File: r.txt\n x = 1\n-y = 2\n+y = 3\n*** End of File\n"
          "*** End Patch",
          true);
    fx_expect_file(f, "r.txt", "x = 1\ny = 2\nx = 1\ny = 3\n");
    fx_free(f);
}

static void malformed_patches_are_rejected(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "a.txt", "a\n");
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"*** Update File: a.txt\n-a\n+b\n*** End Patch", "must start with '*** Begin Patch'"},
        {"*** Begin Patch\n*** Update File: a.txt\n-a\n+b\n", "does not end with '*** End Patch'"},
        {"*** Begin Patch\n*** Frobnicate: a.txt\n*** End Patch", "patch line 2: expected"},
        {"*** Begin Patch\n*** Add File: n.txt\nno plus\n*** End Patch", "starts with '+'"},
        {"*** Begin Patch\n*** Update File: a.txt\n?a\n*** End Patch", "patch line 3"},
        {"*** Begin Patch\n*** Update File: a.txt\n*** End Patch", "has no hunks"},
        {"*** Begin Patch\n*** End Patch", "changes no files"},
        {"*** Begin Patch\n*** Delete File: a.txt\n*** End Patch\nmore", "after '*** End Patch'"},
        {"*** Begin Patch\n*** Update File: \n-a\n*** End Patch", "path is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *out = patch(f, cases[i].text, false);
        if (!strstr(out, cases[i].want))
            fprintf(stderr, "case %zu: wanted '%s' in '%s'\n", i, cases[i].want, out);
        assert_non_null(strstr(out, cases[i].want));
        assert_non_null(strstr(out, "malformed patch"));
    }
    fx_expect_file(f, "a.txt", "a\n");
    fx_free(f);
}

static void add_delete_and_move_files(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "old.txt", "bye\n");
    fx_write(f, "src/a.txt", "one\ntwo\n");
    char *p = fx_path(f, "src/a.txt");
    chmod(p, 0700);
    free(p);
    const char *out = patch(f,
                            "*** Begin Patch\n"
                            "*** Add File: new/dir/hello.txt\n"
                            "+hello\n"
                            "+world\n"
                            "*** Delete File: old.txt\n"
                            "*** Update File: src/a.txt\n"
                            "*** Move to: dst/b.txt\n"
                            "@@\n"
                            " one\n"
                            "-two\n"
                            "+2\n"
                            "*** End Patch\n",
                            true);
    assert_non_null(strstr(out, "A new/dir/hello.txt\nD old.txt\nR src/a.txt -> dst/b.txt\n"));
    fx_expect_file(f, "new/dir/hello.txt", "hello\nworld\n");
    assert_null(fx_read(f, "old.txt"));
    assert_null(fx_read(f, "src/a.txt"));
    fx_expect_file(f, "dst/b.txt", "one\n2\n");
    struct stat sb;
    p = fx_path(f, "dst/b.txt");
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    free(p);
    /* adding an existing file or deleting a missing one fails */
    assert_non_null(
        strstr(patch(f, "*** Begin Patch\n*** Add File: dst/b.txt\n+x\n*** End Patch", false),
               "already exists"));
    assert_non_null(
        strstr(patch(f, "*** Begin Patch\n*** Delete File: nope.txt\n*** End Patch", false),
               "no such file"));
    assert_non_null(strstr(patch(f,
                                 "*** Begin Patch\n*** Delete File: dst/b.txt\n*** Delete File: "
                                 "./dst/b.txt\n*** End Patch",
                                 false),
                           "more than once"));
    fx_free(f);
}

static void multi_file_patch_is_all_or_nothing(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "one.txt", "a\nb\nc\n");
    fx_write(f, "two.txt", "x\ny\nz\n");
    fx_write(f, "gone.txt", "keep me\n");
    const char *out = patch(f,
                            "*** Begin Patch\n"
                            "*** Update File: one.txt\n"
                            " a\n"
                            "-b\n"
                            "+B\n"
                            "*** Delete File: gone.txt\n"
                            "*** Add File: added.txt\n"
                            "+new\n"
                            "*** Update File: two.txt\n"
                            " x\n"
                            "-NOT THERE\n"
                            "+q\n"
                            "*** End Patch\n",
                            false);
    assert_non_null(strstr(out, "'two.txt': hunk 1"));
    assert_non_null(strstr(out, "nothing was changed"));
    fx_expect_file(f, "one.txt", "a\nb\nc\n");
    fx_expect_file(f, "two.txt", "x\ny\nz\n");
    fx_expect_file(f, "gone.txt", "keep me\n");
    assert_null(fx_read(f, "added.txt"));
    /* a denied path in the middle also stops everything */
    patch(f,
          "*** Begin Patch\n*** Update File: one.txt\n a\n-b\n+B\n*** Add File: .env\n+X=1\n"
          "*** End Patch",
          false);
    fx_expect_file(f, "one.txt", "a\nb\nc\n");
    assert_null(fx_read(f, ".env"));
    /* an escape is refused, nothing written */
    assert_non_null(strstr(patch(f,
                                 "*** Begin Patch\n*** Update File: one.txt\n a\n-b\n+B\n"
                                 "*** Add File: ../escape.txt\n+x\n*** End Patch",
                                 false),
                           "leaves the workspace"));
    fx_expect_file(f, "one.txt", "a\nb\nc\n");
    fx_free(f);
}

static void pure_insertion_and_blank_context_lines(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "p.py", "def f():\n    return 1\n\ndef g():\n    return 2\n");
    /* an '@@' anchor then only '+' lines inserts right after the anchor */
    patch(f,
          "*** Begin Patch\n*** Update File: p.py\n@@ def g():\n+    \"\"\"doc\"\"\"\n"
          "*** End Patch",
          true);
    fx_expect_file(f, "p.py",
                   "def f():\n    return 1\n\ndef g():\n    \"\"\"doc\"\"\"\n    return 2\n");
    /* an empty patch line counts as an empty context line */
    patch(f,
          "*** Begin Patch\n*** Update File: p.py\n     return 1\n\n-def g():\n+def h():\n"
          "*** End Patch",
          true);
    fx_expect_file(f, "p.py",
                   "def f():\n    return 1\n\ndef h():\n    \"\"\"doc\"\"\"\n    return 2\n");
    fx_free(f);
}

/* ---- OOM sweep: a multi-file patch either applies fully or leaves no trace ---- */

static const char *SWEEP_PATCH = "*** Begin Patch\n"
                                 "*** Update File: one.txt\n a\n-b\n+B\n"
                                 "*** Delete File: gone.txt\n"
                                 "*** Add File: sub/added.txt\n+new\n"
                                 "*** Update File: two.txt\n*** Move to: moved.txt\n x\n-y\n+Y\n"
                                 "*** End Patch\n";

static void write_at(const char *dir, const char *rel, const char *content)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
    agc_test_write_file(p, content);
    free(p);
}

static bool file_is(const char *dir, const char *rel, const char *want)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
    FILE *fp = fopen(p, "rb");
    free(p);
    if (!fp)
        return want == NULL;
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return want && strcmp(buf, want) == 0;
}

static int n_files;

static int count_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path, (void)sb, (void)ftw;
    n_files += flag == FTW_F;
    return 0;
}

static int count_files(const char *dir)
{
    n_files = 0;
    nftw(dir, count_one, 16, FTW_PHYS);
    return n_files;
}

static agc_status sweep_fn(agc_ctx *ctx, void *user)
{
    const char *dir = user;
    agc_test_rmtree(dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    write_at(dir, "one.txt", "a\nb\nc\n");
    write_at(dir, "two.txt", "x\ny\n");
    write_at(dir, "gone.txt", "g\n");
    agc_workspace *ws = NULL;
    agc_tool_registry *reg = NULL;
    agc_tool_result r;
    agc_tool_result_init(&r);
    agc_status st = agc_workspace_open(&ws, dir, NULL, ctx);
    if (st == AGC_OK)
        st = agc_tool_registry_new(&reg, ctx);
    if (st == AGC_OK) {
        const char *names[] = {"apply_patch", NULL};
        st = agc_workspace_register_tools(reg, ws, names);
    }
    json_t *a = json_pack("{s:s}", "patch", SWEEP_PATCH);
    char *args = json_dumps(a, 0);
    json_decref(a);
    if (st == AGC_OK)
        st = agc_tool_registry_invoke(&r, reg, "apply_patch", args, NULL);
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf);
    jf(args);
    bool applied = st == AGC_OK && !r.is_error;
    if (applied) {
        assert_true(file_is(dir, "one.txt", "a\nB\nc\n"));
        assert_true(file_is(dir, "gone.txt", NULL));
        assert_true(file_is(dir, "sub/added.txt", "new\n"));
        assert_true(file_is(dir, "two.txt", NULL));
        assert_true(file_is(dir, "moved.txt", "x\nY\n"));
        assert_int_equal(count_files(dir), 3);
    } else {
        if (r.is_error && !strstr(r.output, "out of memory") && !strstr(r.output, "rolled back")) {
            fprintf(stderr, "unexpected error result: %s\n", r.output);
            st = AGC_ERROR;
        } else if (st == AGC_OK) {
            st = AGC_ENOMEM;
        }
        if (!file_is(dir, "one.txt", "a\nb\nc\n"))
            fprintf(stderr, "st=%d result=%s err=%s\n", st, r.output ? r.output : "-",
                    agc_ctx_errmsg(ctx));
        assert_true(file_is(dir, "one.txt", "a\nb\nc\n"));
        assert_true(file_is(dir, "gone.txt", "g\n"));
        assert_true(file_is(dir, "sub/added.txt", NULL));
        assert_true(file_is(dir, "two.txt", "x\ny\n"));
        assert_true(file_is(dir, "moved.txt", NULL));
        assert_int_equal(count_files(dir), 3); /* no temp or backup file left */
    }
    agc_tool_result_clear(&r, ctx);
    agc_tool_registry_free(reg);
    agc_workspace_close(ws);
    return st;
}

static void oom_sweep_leaves_all_or_nothing(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    assert_true(agc_test_oom_sweep(sweep_fn, dir, 0) > 10);
    agc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(update_applies_matching_hunks),
        cmocka_unit_test(trailing_whitespace_is_ignored_when_exact_match_fails),
        cmocka_unit_test(non_matching_hunk_names_file_and_line_and_changes_nothing),
        cmocka_unit_test(ambiguous_hunk_is_an_error),
        cmocka_unit_test(malformed_patches_are_rejected),
        cmocka_unit_test(add_delete_and_move_files),
        cmocka_unit_test(multi_file_patch_is_all_or_nothing),
        cmocka_unit_test(pure_insertion_and_blank_context_lines),
        cmocka_unit_test(oom_sweep_leaves_all_or_nothing),
    };
    return cmocka_run_group_tests_name("tools_apply_patch", tests, NULL, NULL);
}
