/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Adversarial file-system guests (tests/sandbox/guests/adv_fs.c) against the
 * WASI host in this process: "..", absolute paths, symlinks and hard links
 * leading out of a preopen, /proc/self, FIFOs, writes to a read-only grant,
 * fd exhaustion, huge stderr and the file write cap. Each case checks both
 * the guest's view (a WASI errno) and the host (files untouched, no fd leak).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "agentc/json.h"
#include "sandbox_fixture.h"

static const char *skip_reason;
static char *tmp; /* data/ (read-only grant), out/ (read-write), secret.txt outside */

static void path_of(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", tmp, rel);
}

static int setup(void **state)
{
    (void)state;
    skip_reason = compile_missing();
    size_t n;
    unsigned char *w = skip_reason ? NULL : load_tool("adv_fs", &n);
    if (!skip_reason && !w)
        skip_reason = "the wasm guests were not built (clang with wasi-libc missing)";
    free(w);
    if (skip_reason)
        return 0;
    tmp = agc_test_tmpdir();
    char p[4096], q[4096];
    path_of(p, sizeof p, "data");
    mkdir(p, 0755);
    path_of(p, sizeof p, "data/sub");
    mkdir(p, 0755);
    path_of(p, sizeof p, "out");
    mkdir(p, 0755);
    path_of(p, sizeof p, "secret.txt");
    agc_test_write_file(p, "TOP SECRET outside\n");
    path_of(p, sizeof p, "data/poem.txt");
    agc_test_write_file(p, "inside the grant\n");
    path_of(q, sizeof q, "secret.txt");
    path_of(p, sizeof p, "data/escape");
    if (symlink(q, p) != 0)
        return -1;
    path_of(p, sizeof p, "data/rel_escape");
    if (symlink("../secret.txt", p) != 0)
        return -1;
    path_of(p, sizeof p, "data/proc");
    if (symlink("/proc/self", p) != 0)
        return -1;
    path_of(p, sizeof p, "data/hard");
    if (link(q, p) != 0)
        return -1;
    path_of(p, sizeof p, "out/hardw");
    if (link(q, p) != 0)
        return -1;
    path_of(p, sizeof p, "data/fifo");
    if (mkfifo(p, 0600) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (tmp) {
        agc_test_rmtree(tmp);
        free(tmp);
    }
    return 0;
}

#define NEED_GUEST()                                                                               \
    do {                                                                                           \
        if (skip_reason) {                                                                         \
            print_message("skipped: %s\n", skip_reason);                                           \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

typedef struct opts {
    bool with_proc;
    uint64_t max_write;
} opts;

static agc_status run_with(agc_wasm_result *r, const char *cmd, const opts *o, agc_ctx *ctx)
{
    size_t len = 0;
    unsigned char *w = load_tool("adv_fs", &len);
    assert_non_null(w);
    char data[4096], out[4096];
    path_of(data, sizeof data, "data");
    path_of(out, sizeof out, "out");
    agc_wasm_preopen pre[3] = {
        {data, "/data", false}, {out, "/out", true}, {"/proc", "/proc", false}};
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    ro.preopens = pre;
    ro.n_preopens = o && o->with_proc ? 3 : 2;
    ro.stdin_data = cmd;
    ro.stdin_len = strlen(cmd);
    ro.timeout_ms = 20000;
    ro.max_write_bytes = o ? o->max_write : 0;
    agc_status st = agc_wasm_run(r, w, len, &co, &ro, ctx);
    free(w);
    return st;
}

/* The guest's first output line for cmd (static buffer). */
static const char *adv(const char *cmd, const opts *o)
{
    static char buf[4096];
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    agc_status st = run_with(&r, cmd, o, ctx);
    if (st != AGC_OK)
        fail_msg("adv_fs %s: %s", cmd, agc_ctx_errmsg(ctx));
    snprintf(buf, sizeof buf, "%s", r.out);
    buf[strcspn(buf, "\n")] = 0;
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
    return buf;
}

static void expect(const char *cmd, const char *want)
{
    const char *got = adv(cmd, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", cmd, got, want);
}

static void secret_untouched(void)
{
    char p[4096], buf[64] = {0};
    path_of(p, sizeof p, "secret.txt");
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "TOP SECRET outside\n");
}

static void dotdot_paths_are_not_capable(void **state)
{
    (void)state;
    NEED_GUEST();
    expect("read /data/poem.txt", "read=inside the grant");
    expect("read /data/../secret.txt", "errno=76");
    expect("read /data/sub/../../secret.txt", "errno=76");
    expect("read /data/sub/../poem.txt", "read=inside the grant"); /* inside stays fine */
    expect("list /data/..", "errno=76");
    expect("stat /data/../secret.txt", "errno=76");
    expect("rename /out/../secret.txt /out/stolen", "errno=76");
    secret_untouched();
}

static void absolute_paths_are_not_capable(void **state)
{
    (void)state;
    NEED_GUEST();
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "read %s/secret.txt", tmp);
    expect(cmd, "errno=76");
    expect("read /etc/passwd", "errno=76");
    expect("read //data/../secret.txt", "errno=76");
}

static void symlinks_pointing_out_are_not_capable(void **state)
{
    (void)state;
    NEED_GUEST();
    expect("read /data/escape", "errno=76");     /* absolute target */
    expect("read /data/rel_escape", "errno=76"); /* ../ target */
    expect("stat /data/escape", "errno=76");
    /* the guest cannot plant one either */
    expect("symlink /etc/passwd /out/planted", "errno=76");
    expect("symlink ../secret.txt /out/planted", "errno=76");
    char p[4096];
    path_of(p, sizeof p, "out/planted");
    struct stat st;
    assert_int_equal(lstat(p, &st), -1);
}

static void hard_links_to_outside_files_are_refused(void **state)
{
    (void)state;
    NEED_GUEST();
    expect("read /data/hard", "errno=76");
    expect("write /out/hardw", "errno=76");
    expect("append /out/hardw", "errno=76");
    secret_untouched();
    expect("link /data/poem.txt /out/newlink", "errno=76");
    char p[4096];
    path_of(p, sizeof p, "out/newlink");
    assert_int_equal(access(p, F_OK), -1);
}

static void proc_self_is_unreachable(void **state)
{
    (void)state;
    NEED_GUEST();
    expect("read /data/proc/environ", "errno=76"); /* symlink to /proc/self */
    expect("read /proc/self/environ", "errno=76"); /* no /proc grant */
    /* even with /proc granted, the magic links that lead into the host do not resolve */
    opts o = {true, 0};
    const char *magic[] = {"read /proc/self/root/etc/passwd", "read /proc/self/cwd/x",
                           "read /proc/self/fd/0", "read /proc/self/exe"};
    for (size_t i = 0; i < sizeof magic / sizeof *magic; i++) {
        const char *got = adv(magic[i], &o);
        if (strcmp(got, "errno=32") != 0 && strcmp(got, "errno=76") != 0) /* ELOOP / NOTCAPABLE */
            fail_msg("%s: got \"%s\"", magic[i], got);
    }
}

static void fifos_do_not_block_the_host(void **state)
{
    (void)state;
    NEED_GUEST();
    expect("read /data/fifo", "errno=76");
}

static void readonly_grant_refuses_every_write(void **state)
{
    (void)state;
    NEED_GUEST();
    expect("write /data/poem.txt", "errno=66");
    expect("append /data/poem.txt", "errno=66");
    expect("rename /data/poem.txt /out/moved", "errno=66");
    expect("symlink poem.txt /data/alias", "errno=76");
    char p[4096], buf[64] = {0};
    path_of(p, sizeof p, "data/poem.txt");
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "inside the grant\n");
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static void fd_exhaustion_is_an_errno_and_leaks_nothing(void **state)
{
    (void)state;
    NEED_GUEST();
    (void)adv("read /data/poem.txt", NULL); /* warm up lazily opened host fds */
    int before = count_fds();
    /* 64 slots - stdio - 2 preopens */
    expect("fds /data/poem.txt", "opened=59 errno=33"); /* EMFILE */
    assert_int_equal(count_fds(), before);
}

static void huge_stderr_is_truncated_not_fatal(void **state)
{
    (void)state;
    NEED_GUEST();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    assert_int_equal(run_with(&r, "bigerr", NULL, ctx), AGC_OK);
    assert_string_equal(r.out, "done\n");
    assert_true(r.err_truncated);
    assert_true(r.err_len <= 64 * 1024);
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void file_write_cap_stops_the_guest(void **state)
{
    (void)state;
    NEED_GUEST();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    opts o = {false, 1 << 20};
    assert_int_equal(run_with(&r, "spin-write /out/big", &o, ctx), AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "1048576-byte file write cap"));
    agc_wasm_result_free(&r);
    char p[4096];
    path_of(p, sizeof p, "out/big");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size <= (1 << 20));
    unlink(p);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dotdot_paths_are_not_capable),
        cmocka_unit_test(absolute_paths_are_not_capable),
        cmocka_unit_test(symlinks_pointing_out_are_not_capable),
        cmocka_unit_test(hard_links_to_outside_files_are_refused),
        cmocka_unit_test(proc_self_is_unreachable),
        cmocka_unit_test(fifos_do_not_block_the_host),
        cmocka_unit_test(readonly_grant_refuses_every_write),
        cmocka_unit_test(fd_exhaustion_is_an_errno_and_leaks_nothing),
        cmocka_unit_test(huge_stderr_is_truncated_not_fatal),
        cmocka_unit_test(file_write_cap_stops_the_guest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
