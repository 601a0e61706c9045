/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tools read_file, list_dir, find, grep, write_file on real files. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools_fixture.h"

static void read_file_returns_line_ranges(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "a.txt", "one\ntwo\nthree\nfour");
    assert_string_equal(fx_ok(f, "read_file", "{\"path\":\"a.txt\"}"), "one\ntwo\nthree\nfour");
    assert_string_equal(
        fx_ok(f, "read_file", "{\"path\":\"a.txt\",\"start_line\":2,\"end_line\":3}"),
        "two\nthree\n[lines 2-3 of 4]");
    assert_string_equal(fx_ok(f, "read_file", "{\"path\":\"a.txt\",\"start_line\":4}"),
                        "four\n[lines 4-4 of 4]");
    assert_string_equal(fx_ok(f, "read_file", "{\"path\":\"a.txt\",\"end_line\":99}"),
                        "one\ntwo\nthree\nfour\n[lines 1-4 of 4]");
    json_t *s = f->res.structured;
    assert_int_equal(json_integer_value(json_object_get(s, "total_lines")), 4);
    fx_err(f, "read_file", "{\"path\":\"a.txt\",\"start_line\":9}", "past the end");
    fx_err(f, "read_file", "{\"path\":\"a.txt\",\"start_line\":3,\"end_line\":2}", "before");
    fx_err(f, "read_file", "{\"path\":\"a.txt\",\"start_line\":0}", "/start_line: must be >= 1");
    fx_err(f, "read_file", "{\"path\":\"missing.txt\"}", "'missing.txt' does not exist");
    fx_err(f, "read_file", "{\"path\":\".\"}", "is a directory");
    fx_write(f, "empty.txt", "");
    assert_string_equal(fx_ok(f, "read_file", "{\"path\":\"empty.txt\"}"), "");
    fx_free(f);
}

static void read_file_refuses_binary_and_caps_size(void **state)
{
    (void)state;
    agc_workspace_opts o = AGC_WORKSPACE_OPTS_INIT;
    o.max_file_bytes = 100;
    fx *f = fx_new(&o);
    char *p = fx_path(f, "bin.dat");
    FILE *fp = fopen(p, "wb");
    fwrite("ab\0cd", 1, 5, fp);
    fclose(fp);
    free(p);
    fx_err(f, "read_file", "{\"path\":\"bin.dat\"}", "binary file");
    char big[301];
    for (int i = 0; i < 300; i++)
        big[i] = (i % 10 == 9) ? '\n' : 'a';
    big[300] = '\0';
    fx_write(f, "big.txt", big);
    const char *out = fx_ok(f, "read_file", "{\"path\":\"big.txt\"}");
    assert_non_null(strstr(out, "[file cut at 100 of 300 bytes"));
    /* the registry's output cap: 64 KiB by default */
    agc_workspace_opts o2 = AGC_WORKSPACE_OPTS_INIT;
    fx *g = fx_new(&o2);
    size_t n = 100000;
    char *huge = malloc(n + 1);
    memset(huge, 'z', n);
    huge[n] = '\0';
    fx_write(g, "huge.txt", huge);
    free(huge);
    out = fx_ok(g, "read_file", "{\"path\":\"huge.txt\"}");
    assert_true(g->res.truncated);
    assert_non_null(strstr(out, "[output truncated: 65536 of 100000 bytes shown]"));
    fx_free(g);
    fx_free(f);
}

static void list_dir_lists_sorted_entries(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "b.txt", "");
    fx_write(f, "a/x.c", "");
    fx_write(f, "a/y/z.h", "");
    fx_write(f, ".git/HEAD", "");
    assert_string_equal(fx_ok(f, "list_dir", "{}"), ".git/\na/\nb.txt\n");
    assert_string_equal(fx_ok(f, "list_dir", "{\"path\":\"a\",\"recursive\":true}"),
                        "x.c\ny/\ny/z.h\n");
    assert_string_equal(fx_ok(f, "list_dir", "{\"recursive\":true}"),
                        ".git/\na/\na/x.c\na/y/\na/y/z.h\nb.txt\n");
    const char *capped = fx_ok(f, "list_dir", "{\"recursive\":true,\"max_entries\":2}");
    assert_non_null(strstr(capped, ".git/\na/\n[listing stopped after 2 entries"));
    fx_write(f, "e/.keep", "");
    char *e = fx_path(f, "e/.keep");
    unlink(e);
    free(e);
    assert_string_equal(fx_ok(f, "list_dir", "{\"path\":\"e\"}"), "(empty directory)\n");
    fx_err(f, "list_dir", "{\"path\":\"b.txt\"}", "not a directory");
    fx_err(f, "list_dir", "{\"max_entries\":0}", "/max_entries: must be >= 1");
    fx_free(f);
}

static void find_matches_globs_with_double_star(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "src/main.c", "");
    fx_write(f, "src/util/str.c", "");
    fx_write(f, "src/util/str.h", "");
    fx_write(f, "tests/test_str.c", "");
    fx_write(f, ".git/objects/x.c", "");
    assert_string_equal(fx_ok(f, "find", "{\"pattern\":\"*.c\"}"),
                        "src/main.c\nsrc/util/str.c\ntests/test_str.c\n");
    assert_string_equal(fx_ok(f, "find", "{\"pattern\":\"src/**/*.h\"}"), "src/util/str.h\n");
    assert_string_equal(fx_ok(f, "find", "{\"pattern\":\"src/*.c\"}"), "src/main.c\n");
    assert_string_equal(fx_ok(f, "find", "{\"pattern\":\"**/util\"}"), "src/util/\n");
    assert_string_equal(fx_ok(f, "find", "{\"pattern\":\"*.c\",\"path\":\"src/util\"}"), "str.c\n");
    assert_string_equal(fx_ok(f, "find", "{\"pattern\":\"*.rs\"}"), "(no matches)\n");
    assert_non_null(strstr(fx_ok(f, "find", "{\"pattern\":\"*.c\",\"max_results\":1}"),
                           "[stopped at max_results=1]"));
    fx_err(f, "find", "{}", "must have required property 'pattern'");
    fx_free(f);
}

static void grep_finds_lines_and_skips_binary_and_git(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "a.c", "int main(void)\n{\n    return Foo();\n}\n");
    fx_write(f, "b/c.h", "#define FOO 1\nint foo;\n");
    fx_write(f, ".git/packed", "Foo in git\n");
    char *p = fx_path(f, "bin.o");
    FILE *fp = fopen(p, "wb");
    fwrite("Foo\0\1\2", 1, 6, fp);
    fclose(fp);
    free(p);
    assert_string_equal(fx_ok(f, "grep", "{\"pattern\":\"Foo\"}"), "a.c:3:    return Foo();\n");
    assert_string_equal(fx_ok(f, "grep", "{\"pattern\":\"foo\",\"ignore_case\":true}"),
                        "a.c:3:    return Foo();\nb/c.h:1:#define FOO 1\nb/c.h:2:int foo;\n");
    assert_string_equal(fx_ok(f, "grep", "{\"pattern\":\"^int\",\"glob\":\"*.h\"}"),
                        "b/c.h:2:int foo;\n");
    assert_string_equal(fx_ok(f, "grep", "{\"pattern\":\"foo\",\"path\":\"b/c.h\"}"),
                        "b/c.h:2:int foo;\n");
    assert_string_equal(fx_ok(f, "grep", "{\"pattern\":\"\\\\bFOO\\\\b\",\"path\":\"b\"}"),
                        "b/c.h:1:#define FOO 1\n");
    const char *lim = fx_ok(f, "grep", "{\"pattern\":\"o\",\"max_matches\":1}");
    assert_non_null(strstr(lim, "[stopped at max_matches=1]"));
    fx_err(f, "grep", "{\"pattern\":\"(unclosed\"}", "invalid pattern at offset");
    assert_non_null(strstr(fx_ok(f, "grep", "{\"pattern\":\"zzz\"}"), "(no matches in"));
    fx_free(f);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.' || strstr(de->d_name, "agc-tmp") != NULL;
    closedir(d);
    return n;
}

static void write_file_replaces_atomically(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    const char *out = fx_ok(f, "write_file", "{\"path\":\"new.txt\",\"content\":\"hi\\n\"}");
    assert_string_equal(out, "wrote 3 bytes to new.txt");
    fx_expect_file(f, "new.txt", "hi\n");
    /* replacing keeps the mode, leaves no temporary file behind */
    char *p = fx_path(f, "new.txt");
    chmod(p, 0750);
    fx_ok(f, "write_file", "{\"path\":\"new.txt\",\"content\":\"second\"}");
    fx_expect_file(f, "new.txt", "second");
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0750);
    free(p);
    assert_int_equal(count_entries(f->dir), 1);
    /* missing directories need create_dirs */
    fx_err(f, "write_file", "{\"path\":\"d/e/f.txt\",\"content\":\"x\"}", "create_dirs");
    assert_null(fx_read(f, "d"));
    fx_ok(f, "write_file", "{\"path\":\"d/e/f.txt\",\"content\":\"x\",\"create_dirs\":true}");
    fx_expect_file(f, "d/e/f.txt", "x");
    fx_err(f, "write_file", "{\"path\":\"d\",\"content\":\"x\"}", "is a directory");
    fx_err(f, "write_file", "{\"path\":\"x.txt\"}", "must have required property 'content'");
    fx_err(f, "write_file", "{\"path\":\"x.txt\",\"content\":1}", "/content: must be string");
    /* a symlink is replaced, its target is untouched */
    fx_write(f, "target.txt", "target\n");
    char *l = fx_path(f, "link.txt");
    assert_int_equal(symlink("target.txt", l), 0);
    fx_ok(f, "write_file", "{\"path\":\"link.txt\",\"content\":\"new\"}");
    assert_int_equal(lstat(l, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    fx_expect_file(f, "target.txt", "target\n");
    free(l);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_file_returns_line_ranges),
        cmocka_unit_test(read_file_refuses_binary_and_caps_size),
        cmocka_unit_test(list_dir_lists_sorted_entries),
        cmocka_unit_test(find_matches_globs_with_double_star),
        cmocka_unit_test(grep_finds_lines_and_skips_binary_and_git),
        cmocka_unit_test(write_file_replaces_atomically),
    };
    return cmocka_run_group_tests_name("tools_fs_tools", tests, NULL, NULL);
}
