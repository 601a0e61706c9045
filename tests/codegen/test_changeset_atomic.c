/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * codegen change sets, atomicity: rollback of every file when a step fails,
 * a real kill -9 of a child in the middle of applying (rolled back by the
 * next recover) and after the commit point (rolled forward), and git
 * awareness (dirty files refused unless allowed, commit with a message).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/codegen.h"

static const char *SET = "*** Begin Patch\n"
                         "*** Update File: a.txt\n-one\n+ONE\n"
                         "*** Update File: b.txt\n-two\n+TWO\n"
                         "*** Add File: sub/dir/c.txt\n+three\n"
                         "*** Delete File: d.txt\n"
                         "*** End Patch\n";

static void seed(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/a.txt", dir);
    agc_test_write_file(p, "one\n");
    snprintf(p, sizeof p, "%s/b.txt", dir);
    agc_test_write_file(p, "two\n");
    snprintf(p, sizeof p, "%s/d.txt", dir);
    agc_test_write_file(p, "four\n");
}

static char *slurp(const char *dir, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *fp = fopen(p, "rb");
    if (!fp)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static bool exists(const char *dir, const char *rel)
{
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return lstat(p, &sb) == 0;
}

/* Only the seeded files (and the directories they need) are in dir. */
static void assert_original(const char *dir)
{
    assert_string_equal(slurp(dir, "a.txt"), "one\n");
    assert_string_equal(slurp(dir, "b.txt"), "two\n");
    assert_string_equal(slurp(dir, "d.txt"), "four\n");
    assert_false(exists(dir, "sub"));
    assert_false(exists(dir, ".agentc-journal"));
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 3 || { ls -A '%s'; false; }", dir,
             dir);
    assert_int_equal(system(cmd), 0); /* no temp or backup left */
}

static void assert_applied(const char *dir)
{
    assert_string_equal(slurp(dir, "a.txt"), "ONE\n");
    assert_string_equal(slurp(dir, "b.txt"), "TWO\n");
    assert_string_equal(slurp(dir, "sub/dir/c.txt"), "three\n");
    assert_false(exists(dir, "d.txt"));
    assert_false(exists(dir, ".agentc-journal"));
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 3 || { ls -A '%s'; false; }", dir,
             dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct hook {
    const char *dir;
    const char *at; /* step name to act on */
    int action;     /* 0: create a file in the way, 1: SIGKILL */
} hook;

static void on_step(size_t step, const char *what, void *user)
{
    (void)step;
    hook *h = user;
    if (strcmp(what, h->at) != 0)
        return;
    if (h->action == 1)
        kill(getpid(), SIGKILL);
    char p[4096];
    snprintf(p, sizeof p, "%s/sub/dir/c.txt", h->dir);
    agc_test_write_file(p, "in the way\n");
}

static agc_status apply_with(const char *dir, hook *h, agc_ctx *ctx)
{
    agc_workspace *ws = NULL;
    agc_changeset *cs = NULL;
    agc_status st = agc_workspace_open(&ws, dir, NULL, ctx);
    if (st == AGC_OK)
        st = agc_changeset_parse(&cs, SET, AGC_CS_FMT_AUTO, ctx);
    if (st == AGC_OK)
        st = agc_changeset_resolve(cs, ws);
    agc_cs_apply_opts o = AGC_CS_APPLY_OPTS_INIT;
    o.on_step = on_step;
    o.step_user = h;
    if (st == AGC_OK)
        st = agc_changeset_apply(cs, &o);
    agc_changeset_free(cs);
    agc_workspace_close(ws);
    return st;
}

static void applies_mixed_set(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    seed(dir);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    hook h = {dir, "never", 0};
    assert_int_equal(apply_with(dir, &h, ctx), AGC_OK);
    assert_applied(dir);
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

static void failure_rolls_back_every_file(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    seed(dir);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    /* after a.txt and b.txt were replaced, a file appears where c.txt goes */
    hook h = {dir, "b.txt", 0};
    assert_int_equal(apply_with(dir, &h, ctx), AGC_EEXISTS);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "every file was rolled back"));
    assert_string_equal(slurp(dir, "a.txt"), "one\n");
    assert_string_equal(slurp(dir, "b.txt"), "two\n");
    assert_string_equal(slurp(dir, "d.txt"), "four\n");
    assert_string_equal(slurp(dir, "sub/dir/c.txt"), "in the way\n"); /* not ours: kept */
    assert_false(exists(dir, ".agentc-journal"));
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

/* Forks a child that applies the set and kills itself with SIGKILL at step `at`. */
static void crash_child(const char *dir, const char *at)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        agc_ctx *ctx = NULL;
        if (agc_ctx_new(&ctx, NULL) != AGC_OK)
            _exit(3);
        hook h = {dir, at, 1};
        agc_status st = apply_with(dir, &h, ctx);
        _exit(st == AGC_OK ? 0 : 4);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFSIGNALED(ws));
    assert_int_equal(WTERMSIG(ws), SIGKILL);
}

static int recover(const char *dir)
{
    agc_ctx *ctx = NULL;
    agc_workspace *ws = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_int_equal(agc_workspace_open(&ws, dir, NULL, ctx), AGC_OK);
    int did = -1;
    assert_int_equal(agc_changeset_recover(&did, ws, ctx), AGC_OK);
    agc_workspace_close(ws);
    agc_ctx_free(ctx);
    return did;
}

static void kill9_mid_apply_rolls_back(void **state)
{
    (void)state;
    static const char *const points[] = {"journal", "prepared", "a.txt", "b.txt", "sub/dir/c.txt"};
    for (size_t i = 0; i < sizeof points / sizeof *points; i++) {
        char *dir = agc_test_tmpdir();
        seed(dir);
        crash_child(dir, points[i]);
        assert_true(exists(dir, ".agentc-journal"));
        assert_int_equal(recover(dir), 1);
        assert_original(dir);
        assert_int_equal(recover(dir), 0); /* idempotent */
        agc_test_rmtree(dir);
        free(dir);
    }
}

static void kill9_after_commit_rolls_forward(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    seed(dir);
    crash_child(dir, "committed");
    assert_true(exists(dir, ".agentc-journal"));
    assert_int_equal(recover(dir), 2);
    assert_applied(dir);
    agc_test_rmtree(dir);
    free(dir);
}

static void next_apply_recovers_first(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    seed(dir);
    crash_child(dir, "a.txt");
    assert_string_equal(slurp(dir, "a.txt"), "ONE\n"); /* half-applied on disk */
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    hook h = {dir, "never", 0};
    assert_int_equal(apply_with(dir, &h, ctx), AGC_OK); /* rolls back, then applies */
    assert_applied(dir);
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

static int sh(const char *dir, const char *cmd)
{
    char full[8192];
    snprintf(
        full, sizeof full,
        "cd '%s' && GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null %s >/dev/null 2>&1",
        dir, cmd);
    return system(full);
}

static void git_dirty_refused_and_commit(void **state)
{
    (void)state;
    if (system("git --version >/dev/null 2>&1") != 0)
        skip();
    char *dir = agc_test_tmpdir();
    seed(dir);
    assert_int_equal(sh(dir, "git init -q && git -c user.name=t -c user.email=t@x add -A && "
                             "git -c user.name=t -c user.email=t@x commit -qm init"),
                     0);
    agc_ctx *ctx = NULL;
    agc_workspace *ws = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_int_equal(agc_workspace_open(&ws, dir, NULL, ctx), AGC_OK);
    char p[4096];
    snprintf(p, sizeof p, "%s/b.txt", dir);
    agc_test_write_file(p, "two\nuser edit\n"); /* an uncommitted change */
    agc_changeset *cs = NULL;
    assert_int_equal(agc_changeset_parse(&cs, SET, AGC_CS_FMT_AUTO, ctx), AGC_OK);
    assert_int_equal(agc_changeset_resolve(cs, ws), AGC_OK);
    agc_status st = agc_changeset_apply(cs, NULL);
    if (st == AGC_EUNSUPPORTED) { /* libgit2 missing */
        agc_changeset_free(cs);
        agc_workspace_close(ws);
        agc_ctx_free(ctx);
        agc_test_rmtree(dir);
        free(dir);
        skip();
    }
    assert_int_equal(st, AGC_EPERM);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "b.txt"));
    assert_null(strstr(agc_ctx_errmsg(ctx), "a.txt"));
    assert_string_equal(slurp(dir, "a.txt"), "one\n");
    agc_cs_apply_opts o = AGC_CS_APPLY_OPTS_INIT;
    o.allow_dirty = true;
    o.commit = true;
    assert_int_equal(agc_changeset_apply(cs, &o), AGC_OK);
    assert_string_equal(slurp(dir, "a.txt"), "ONE\n");
    assert_string_equal(slurp(dir, "b.txt"), "TWO\nuser edit\n");
    assert_false(exists(dir, "d.txt"));
    assert_int_equal(sh(dir, "git log -1 --format=%s | grep -q 'Change 4 files'"), 0);
    assert_int_equal(sh(dir, "test -z \"$(git status --porcelain)\""), 0);
    assert_int_equal(sh(dir, "git show --stat HEAD | grep -q 'sub/dir/c.txt'"), 0);
    agc_changeset_free(cs);
    agc_workspace_close(ws);
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(applies_mixed_set),
        cmocka_unit_test(failure_rolls_back_every_file),
        cmocka_unit_test(kill9_mid_apply_rolls_back),
        cmocka_unit_test(kill9_after_commit_rolls_forward),
        cmocka_unit_test(next_apply_recovers_first),
        cmocka_unit_test(git_dirty_refused_and_commit),
    };
    return cmocka_run_group_tests_name("codegen_changeset_atomic", tests, NULL, NULL);
}
