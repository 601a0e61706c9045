/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tools workspace: confinement (.., absolute, symlinks, chains) and deny rules. */
#include <fcntl.h>
#include <unistd.h>

#include "tools_fixture.h"

static void normalize_removes_dots_and_refuses_escapes(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    char *out = NULL;
    assert_int_equal(agc_workspace_normalize(&out, f->ws, "./a//b/../c/.", f->ctx), AGC_OK);
    assert_string_equal(out, "a/c");
    agc_free(f->ctx, out);
    assert_int_equal(agc_workspace_normalize(&out, f->ws, "a/..", f->ctx), AGC_OK);
    assert_string_equal(out, ".");
    agc_free(f->ctx, out);
    assert_int_equal(agc_workspace_normalize(&out, f->ws, "a/../../b", f->ctx), AGC_EPERM);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "leaves the workspace"));
    assert_int_equal(agc_workspace_normalize(&out, f->ws, "/etc/passwd", f->ctx), AGC_EPERM);
    char *inside = fx_path(f, "x/y");
    assert_int_equal(agc_workspace_normalize(&out, f->ws, inside, f->ctx), AGC_OK);
    assert_string_equal(out, "x/y");
    agc_free(f->ctx, out);
    free(inside);
    assert_int_equal(agc_workspace_normalize(&out, f->ws, "", f->ctx), AGC_EINVAL);
    fx_free(f);
}

static void dotdot_and_absolute_paths_leave_the_workspace(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "a.txt", "hello\n");
    fx_err(f, "read_file", "{\"path\":\"../a.txt\"}", "path '../a.txt' leaves the workspace");
    fx_err(f, "read_file", "{\"path\":\"sub/../../a.txt\"}", "leaves the workspace");
    fx_err(f, "read_file", "{\"path\":\"/etc/passwd\"}", "path '/etc/passwd' leaves the workspace");
    fx_err(f, "list_dir", "{\"path\":\"..\"}", "leaves the workspace");
    fx_err(f, "write_file", "{\"path\":\"../evil.txt\",\"content\":\"x\"}", "leaves the workspace");
    /* an absolute path inside the root is fine */
    char *abs = fx_path(f, "a.txt");
    char args[4200];
    snprintf(args, sizeof args, "{\"path\":\"%s\"}", abs);
    assert_string_equal(fx_ok(f, "read_file", args), "hello\n");
    free(abs);
    fx_free(f);
}

static void symlinks_that_lead_out_are_refused(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    char *outside = agc_test_tmpdir();
    char *secret = NULL;
    assert_true(asprintf(&secret, "%s/secret.txt", outside) > 0);
    agc_test_write_file(secret, "outside secret\n");
    char *p1 = fx_path(f, "to_dir"), *p2 = fx_path(f, "to_file");
    assert_int_equal(symlink(outside, p1), 0);
    assert_int_equal(symlink(secret, p2), 0);
    fx_err(f, "read_file", "{\"path\":\"to_dir/secret.txt\"}", "leaves the workspace");
    fx_err(f, "read_file", "{\"path\":\"to_file\"}", "leaves the workspace");
    fx_err(f, "list_dir", "{\"path\":\"to_dir\"}", "leaves the workspace");
    fx_err(f, "grep", "{\"pattern\":\"secret\",\"path\":\"to_dir\"}", "leaves the workspace");
    fx_err(f, "write_file", "{\"path\":\"to_dir/new.txt\",\"content\":\"x\"}",
           "leaves the workspace");
    fx_err(f, "run_command", "{\"argv\":[\"true\"],\"cwd\":\"to_dir\"}", "leaves the workspace");
    /* the walk shows the links but never follows them */
    const char *list = fx_ok(f, "list_dir", "{\"recursive\":true}");
    assert_non_null(strstr(list, "to_dir@"));
    assert_null(strstr(list, "secret.txt"));
    const char *g = fx_ok(f, "grep", "{\"pattern\":\"outside\"}");
    assert_non_null(strstr(g, "(no matches"));
    free(p1);
    free(p2);
    free(secret);
    agc_test_rmtree(outside);
    free(outside);
    fx_free(f);
}

static void symlink_chains_are_resolved_beneath_the_root(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    char *outside = agc_test_tmpdir();
    fx_write(f, "real.txt", "real\n");
    fx_write(f, "sub/keep", "");
    char *a = fx_path(f, "a"), *b = fx_path(f, "sub/b"), *c = fx_path(f, "c"),
         *d = fx_path(f, "sub/d");
    /* a -> sub/b -> ../real.txt: stays inside */
    assert_int_equal(symlink("sub/b", a), 0);
    assert_int_equal(symlink("../real.txt", b), 0);
    assert_string_equal(fx_ok(f, "read_file", "{\"path\":\"a\"}"), "real\n");
    /* c -> sub/d -> ../../<outside>: leaves on the second hop */
    char *rel_out = NULL;
    assert_true(asprintf(&rel_out, "../..%s", outside) > 0);
    assert_int_equal(symlink("sub/d", c), 0);
    assert_int_equal(symlink(rel_out, d), 0);
    fx_err(f, "list_dir", "{\"path\":\"c\"}", "leaves the workspace");
    /* a loop */
    char *l1 = fx_path(f, "l1"), *l2 = fx_path(f, "l2");
    assert_int_equal(symlink("l2", l1), 0);
    assert_int_equal(symlink("l1", l2), 0);
    fx_err(f, "read_file", "{\"path\":\"l1\"}", "symbolic links");
    free(a), free(b), free(c), free(d), free(l1), free(l2), free(rel_out);
    agc_test_rmtree(outside);
    free(outside);
    fx_free(f);
}

static void default_secret_paths_are_denied(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    static const struct {
        const char *path, *rule;
    } cases[] = {
        {".env", ".env*"},
        {"app/.env.production", ".env*"},
        {"certs/server.pem", "*.pem"},
        {"tls.key", "*.key"},
        {"id_rsa", "id_rsa*"},
        {"keys/id_rsa.pub", "id_rsa*"},
        {"id_ed25519", "id_ed25519*"},
        {".ssh/config", ".ssh/"},
        {"home/.aws/credentials", ".aws/"},
        {".gnupg/pubring.kbx", ".gnupg/"},
        {".git/config", ".git/config"},
        {"vendor/lib/.git/config", ".git/config"},
        {".netrc", ".netrc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_write(f, cases[i].path, "TOPSECRET\n");
        char args[256], want[256];
        snprintf(args, sizeof args, "{\"path\":\"%s\"}", cases[i].path);
        snprintf(want, sizeof want, "denied by rule '%s'", cases[i].rule);
        fx_err(f, "read_file", args, want);
    }
    /* not secret: similar names */
    fx_write(f, "environment.txt", "ok\n");
    fx_write(f, ".git/HEAD", "ref: refs/heads/main\n");
    fx_ok(f, "read_file", "{\"path\":\"environment.txt\"}");
    fx_ok(f, "read_file", "{\"path\":\".git/HEAD\"}");
    /* a symlink to a secret is denied too, naming the real path */
    char *l = fx_path(f, "innocent.txt");
    assert_int_equal(symlink(".env", l), 0);
    free(l);
    fx_err(f, "read_file", "{\"path\":\"innocent.txt\"}", "path '.env' is denied by rule '.env*'");
    /* grep skips them, list_dir does not enter denied directories */
    const char *g = fx_ok(f, "grep", "{\"pattern\":\"TOPSECRET\"}");
    assert_non_null(strstr(g, "(no matches"));
    assert_non_null(strstr(g, "denied secret files not searched"));
    const char *list = fx_ok(f, "list_dir", "{\"recursive\":true}");
    assert_non_null(strstr(list, ".ssh/\n"));
    assert_null(strstr(list, ".ssh/config"));
    fx_err(f, "list_dir", "{\"path\":\".ssh\"}", "denied by rule '.ssh/'");
    fx_free(f);
}

static void deny_rules_are_configurable(void **state)
{
    (void)state;
    const char *deny[] = {"*.secret", NULL};
    agc_workspace_opts o = AGC_WORKSPACE_OPTS_INIT;
    o.deny_read = deny;
    fx *f = fx_new(&o);
    fx_write(f, ".env", "A=1\n");
    fx_write(f, "db.secret", "pw\n");
    fx_write(f, "notes.private", "p\n");
    assert_string_equal(fx_ok(f, "read_file", "{\"path\":\".env\"}"), "A=1\n");
    fx_err(f, "read_file", "{\"path\":\"db.secret\"}", "denied by rule '*.secret'");
    fx_ok(f, "read_file", "{\"path\":\"notes.private\"}");
    assert_int_equal(agc_workspace_deny_add(f->ws, AGC_WS_READ, "*.private"), AGC_OK);
    fx_err(f, "read_file", "{\"path\":\"notes.private\"}", "denied by rule '*.private'");
    agc_workspace_deny_clear(f->ws, AGC_WS_READ);
    fx_ok(f, "read_file", "{\"path\":\"db.secret\"}");
    assert_int_equal(agc_workspace_deny_add(f->ws, AGC_WS_READ, ""), AGC_EINVAL);
    assert_int_equal(agc_workspace_check(f->ws, "a/b", AGC_WS_READ, f->ctx), AGC_OK);
    fx_free(f);
}

static void writes_into_git_are_denied(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, ".git/HEAD", "ref\n");
    fx_err(f, "write_file",
           "{\"path\":\".git/hooks/pre-commit\",\"content\":\"x\","
           "\"create_dirs\":true}",
           "denied for writing by rule '.git/'");
    fx_err(f, "apply_patch",
           "{\"patch\":\"*** Begin Patch\\n*** Add File: .git/x\\n+y\\n*** End Patch\"}",
           "denied for writing by rule '.git/'");
    /* through a symlinked directory */
    char *l = fx_path(f, "gitdir");
    assert_int_equal(symlink(".git", l), 0);
    free(l);
    fx_err(f, "write_file", "{\"path\":\"gitdir/HEAD\",\"content\":\"x\"}", "denied for writing");
    fx_expect_file(f, ".git/HEAD", "ref\n");
    /* and secrets are not writable either */
    fx_err(f, "write_file", "{\"path\":\".env\",\"content\":\"x\"}", "denied by rule '.env*'");
    fx_free(f);
}

static void open_file_confines_and_checks(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "d/x.txt", "x");
    int fd = -1;
    assert_int_equal(
        agc_workspace_open_file(&fd, f->ws, "d/x.txt", O_RDONLY, 0, AGC_WS_READ, f->ctx), AGC_OK);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(
        agc_workspace_open_file(&fd, f->ws, "d/missing", O_RDONLY, 0, AGC_WS_READ, f->ctx),
        AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "'d/missing' does not exist"));
    assert_int_equal(fd, -1);
    agc_workspace *ws = NULL;
    assert_int_equal(agc_workspace_open(&ws, "/nonexistent/dir", NULL, f->ctx), AGC_EIO);
    agc_workspace_opts bad = AGC_WORKSPACE_OPTS_INIT;
    bad.version = 99;
    assert_int_equal(agc_workspace_open(&ws, f->dir, &bad, f->ctx), AGC_EINVAL);
    assert_null(ws);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_removes_dots_and_refuses_escapes),
        cmocka_unit_test(dotdot_and_absolute_paths_leave_the_workspace),
        cmocka_unit_test(symlinks_that_lead_out_are_refused),
        cmocka_unit_test(symlink_chains_are_resolved_beneath_the_root),
        cmocka_unit_test(default_secret_paths_are_denied),
        cmocka_unit_test(deny_rules_are_configurable),
        cmocka_unit_test(writes_into_git_are_denied),
        cmocka_unit_test(open_file_confines_and_checks),
    };
    return cmocka_run_group_tests_name("tools_workspace", tests, NULL, NULL);
}
