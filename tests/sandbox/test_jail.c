/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * sandbox jail: files outside the grants, hidden secrets, ro/rw, network,
 * fork bombs, timeouts, denied system calls (programs/jailprobe), the pid
 * namespace, fds and environment, agc_jail_enter, the feature report. A
 * kernel feature that is missing makes the test that needs it skip with
 * the reason; on this project's CI machine every feature exists.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/clock.h"
#include "agentc/jail.h"
#include "agentc/log.h"

#define NEED(cond, why)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_message("skipped: %s\n", why);                                                   \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static agc_jail_report g_probe;
static char g_probe_path[4096];
static const char *g_sys_ro[] = {"/usr", "/bin",  "/sbin",      "/lib", "/lib64",
                                 "/etc", "/proc", g_probe_path, NULL};

static int setup_all(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_jail_probe(&g_probe, ctx);
    agc_ctx_free(ctx);
    const char *bin = getenv("AGC_BINARY_DIR");
    snprintf(g_probe_path, sizeof g_probe_path, "%s/jailprobe", bin ? bin : ".");
    print_message("jail probe: %s\n", g_probe.text);
    return 0;
}

static bool have(unsigned f)
{
    return (g_probe.features & f) == f;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct ran {
    agc_status st;
    agc_jail_exit ex;
    char out[8192];
    char report[160];
    double secs;
} ran;

/* Runs argv in a jail, collecting stdout+stderr until EOF or timeout_s. */
static void run(ran *r, const agc_jail_policy *pol, const char *const *argv, const char *cwd,
                const char *const *env, double timeout_s)
{
    memset(r, 0, sizeof *r);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_jail_child *c = NULL;
    if (getenv("AGC_JAIL_TEST_VERBOSE"))
        agc_log_set_level(ctx, AGC_LOG_DEBUG);
    int stdio[3] = {AGC_JAIL_NULL, AGC_JAIL_PIPE, AGC_JAIL_STDOUT};
    double t0 = now_s();
    r->st = agc_jail_spawn(&c, pol, argv, cwd, env, stdio, ctx);
    if (r->st != AGC_OK) {
        snprintf(r->out, sizeof r->out, "%s", agc_ctx_errmsg(ctx));
        if (getenv("AGC_JAIL_TEST_VERBOSE"))
            print_message("[%s] -> %s\n", argv[0], r->out);
        agc_ctx_free(ctx);
        return;
    }
    snprintf(r->report, sizeof r->report, "%s", agc_jail_child_report(c)->text);
    int64_t deadline = agc_clock_monotonic_ns(ctx) + (int64_t)(timeout_s * 1e9);
    int fd = agc_jail_child_fd(c, 1);
    size_t len = 0;
    for (;;) {
        int64_t left = deadline - agc_clock_monotonic_ns(ctx);
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
            continue;
        ssize_t n = read(fd, r->out + len, sizeof r->out - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    assert_int_equal(agc_jail_wait(&r->ex, c, deadline), AGC_OK);
    r->secs = now_s() - t0;
    if (getenv("AGC_JAIL_TEST_VERBOSE"))
        print_message("[%s] -> st %d code %d sig %d to %d: %s\n", argv[0], r->st, r->ex.code,
                      r->ex.signal, r->ex.timed_out, r->out);
    agc_jail_free(c);
    agc_ctx_free(ctx);
}

static agc_jail_policy base_policy(const char *const *rw)
{
    agc_jail_policy p = AGC_JAIL_POLICY_INIT;
    p.ro_paths = g_sys_ro;
    p.rw_paths = rw;
    p.landlock = AGC_JAIL_REQUIRED;
    p.namespaces = AGC_JAIL_REQUIRED;
    return p;
}

static void need_full(void)
{
    NEED(have(AGC_JAIL_F_USERNS | AGC_JAIL_F_MOUNTNS | AGC_JAIL_F_PIDNS | AGC_JAIL_F_NETNS),
         "user/mount/pid/net namespaces are unavailable here");
    NEED(have(AGC_JAIL_F_LANDLOCK), "Landlock is unavailable on this kernel");
}

static void report_names_every_layer(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    const char *argv[] = {"true", NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 5);
    assert_int_equal(r.st, AGC_OK);
    assert_int_equal(r.ex.code, 0);
    char want[160];
    snprintf(want, sizeof want, "userns+mountns+pidns+netns+ipcns+utsns, landlock ABI %d, seccomp",
             agc_jail_landlock_abi());
    assert_string_equal(r.report, want);
    print_message("jail: %s\n", r.report);
    agc_test_rmtree(ws);
    free(ws);
}

static void reading_outside_the_grants_fails(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir(), *other = agc_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/secret.txt", other);
    agc_test_write_file(path, "top secret\n");
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    const char *argv[] = {"cat", path, NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 5);
    assert_int_equal(r.st, AGC_OK);
    assert_int_not_equal(r.ex.code, 0);
    assert_null(strstr(r.out, "top secret"));
    assert_non_null(strstr(r.out, "Permission denied"));
    agc_test_rmtree(ws);
    agc_test_rmtree(other);
    free(ws);
    free(other);
}

static void hidden_secrets_inside_the_workspace_are_unreadable(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir();
    char env_p[4200], git_d[4200], gitcfg[4200], pem[4200], sub[4200], ok[4200];
    snprintf(env_p, sizeof env_p, "%s/.env", ws);
    snprintf(git_d, sizeof git_d, "%s/.git", ws);
    snprintf(gitcfg, sizeof gitcfg, "%s/.git/config", ws);
    snprintf(sub, sizeof sub, "%s/sub", ws);
    snprintf(pem, sizeof pem, "%s/sub/key.pem", ws);
    snprintf(ok, sizeof ok, "%s/sub/readme.txt", ws);
    mkdir(git_d, 0755);
    mkdir(sub, 0755);
    agc_test_write_file(env_p, "API_KEY=hunter2\n");
    agc_test_write_file(gitcfg, "[remote] url=secret\n");
    agc_test_write_file(pem, "-----BEGIN KEY-----\n");
    agc_test_write_file(ok, "hello\n");
    const char *rw[] = {ws, NULL};
    const char *deny[] = {env_p, git_d, pem, NULL};
    agc_jail_policy pol = base_policy(rw);
    pol.deny_paths = deny;
    const char *targets[] = {env_p, gitcfg, pem};
    for (int i = 0; i < 3; i++) {
        const char *argv[] = {g_probe_path, "read", targets[i], NULL};
        ran r;
        run(&r, &pol, argv, ws, NULL, 5);
        assert_int_equal(r.st, AGC_OK);
        if (!strstr(r.out, "read: EACCES"))
            fail_msg("%s readable in the jail: %s", targets[i], r.out);
    }
    const char *argv[] = {"cat", ok, env_p, NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 5);
    assert_non_null(strstr(r.out, "hello\n"));
    assert_null(strstr(r.out, "hunter2"));
    /* the host's files are untouched */
    struct stat sb;
    assert_int_equal(stat(env_p, &sb), 0);
    assert_int_equal(sb.st_size, 16);
    agc_test_rmtree(ws);
    free(ws);
}

static void writes_follow_ro_and_rw_grants(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir(), *ro = agc_test_tmpdir();
    char in_rw[4200], in_ro[4200], lock_d[4200], in_lock[4200];
    snprintf(in_rw, sizeof in_rw, "%s/new.txt", ws);
    snprintf(in_ro, sizeof in_ro, "%s/new.txt", ro);
    snprintf(lock_d, sizeof lock_d, "%s/locked", ws);
    snprintf(in_lock, sizeof in_lock, "%s/locked/f", ws);
    mkdir(lock_d, 0755);
    const char *rw[] = {ws, NULL};
    const char *ro_list[] = {"/usr",  "/bin",       "/lib", "/lib64", "/etc",
                             "/proc", g_probe_path, ro,     NULL};
    const char *readonly[] = {lock_d, NULL};
    agc_jail_policy pol = base_policy(rw);
    pol.ro_paths = ro_list;
    pol.readonly_paths = readonly;
    ran r;
    const char *a1[] = {g_probe_path, "write", in_rw, NULL};
    run(&r, &pol, a1, ws, NULL, 5);
    assert_non_null(strstr(r.out, "write: OK 2"));
    const char *a2[] = {g_probe_path, "write", in_ro, NULL};
    run(&r, &pol, a2, ws, NULL, 5);
    assert_non_null(strstr(r.out, "write: EACCES"));
    const char *a3[] = {g_probe_path, "write", in_lock, NULL};
    run(&r, &pol, a3, ws, NULL, 5);
    assert_non_null(strstr(r.out, "write: EROFS"));
    struct stat sb;
    assert_int_equal(stat(in_rw, &sb), 0);
    assert_int_not_equal(stat(in_ro, &sb), 0);
    agc_test_rmtree(ws);
    agc_test_rmtree(ro);
    free(ws);
    free(ro);
}

static void network_needs_a_grant(void **state)
{
    (void)state;
    need_full();
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    const char *argv[] = {g_probe_path, "connect", port, NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 5);
    assert_int_equal(r.st, AGC_OK);
    assert_non_null(strstr(r.out, "connect: EACCES"));
    pol.network = true;
    run(&r, &pol, argv, ws, NULL, 5);
    assert_int_equal(r.st, AGC_OK);
    if (!strstr(r.out, "connect: OK"))
        fail_msg("granted connect failed: %s", r.out);
    assert_null(strstr(r.report, "netns"));
    close(ls);
    agc_test_rmtree(ws);
    free(ws);
}

static void fork_bombs_are_contained_and_killed(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    pol.rlimit_nproc = 40;
    /* forks until refused, prints the count, then holds every process */
    const char *argv[] = {g_probe_path, "forkbomb", "hold", NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 6.0); /* generous: ~300 forks of an ASan build under load */
    assert_int_equal(r.st, AGC_OK);
    assert_true(r.ex.timed_out); /* the timeout killed the jail */
    assert_int_equal(r.ex.signal, SIGKILL);
    long n = -1;
    const char *p = strstr(r.out, "forkbomb: ");
    if (!p)
        fail_msg("no count from the fork bomb: %s", r.out);
    n = strtol(p + 10, NULL, 10);
    /* RLIMIT_NPROC (40) binds unprivileged users; root is exempt from it and
     * is held by the jail's pid_max (>= 301, Linux >= 6.14) instead */
    assert_true(n > 0 && n < (geteuid() == 0 ? 400 : 40));
    assert_non_null(strstr(r.out, "then EAGAIN"));
    /* the classic shell bomb: ends by the timeout, or earlier when the main
     * shell cannot fork any more and the jail's init takes everything down */
    const char *sh[] = {"sh", "-c", "b(){ b|b& }; b; sleep 30", NULL}; /* dash: no ":" names */
    pol.rlimit_nproc = 64;
    run(&r, &pol, sh, ws, NULL, 1.0);
    assert_int_equal(r.st, AGC_OK);
    assert_true(r.secs < 5);
    /* the host still forks */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    assert_true(pid > 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    agc_test_rmtree(ws);
    free(ws);
}

static void timeout_kills_the_child_and_its_grandchildren(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    /* the grandchildren keep stdout open: run() reads until EOF, which only
     * comes when every one of them is dead */
    const char *argv[] = {"sh", "-c", "sleep 30 & (sleep 40 &) ; echo started; wait", NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 0.5);
    assert_int_equal(r.st, AGC_OK);
    assert_true(r.ex.timed_out);
    assert_non_null(strstr(r.out, "started"));
    assert_true(r.secs < 5);
    agc_test_rmtree(ws);
    free(ws);
}

static void exit_codes_and_signals_are_reported(void **state)
{
    (void)state;
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    pol.landlock = AGC_JAIL_BEST_EFFORT;
    pol.namespaces = AGC_JAIL_BEST_EFFORT;
    ran r;
    const char *a1[] = {"sh", "-c", "echo hi; exit 3", NULL};
    run(&r, &pol, a1, ws, NULL, 5);
    assert_int_equal(r.st, AGC_OK);
    assert_string_equal(r.out, "hi\n");
    assert_int_equal(r.ex.code, 3);
    const char *a2[] = {"sh", "-c", "kill -9 $$", NULL};
    run(&r, &pol, a2, ws, NULL, 5);
    assert_int_equal(r.ex.signal, 9);
    assert_false(r.ex.timed_out);
    const char *a3[] = {"agc-no-such-program-xyz", NULL};
    run(&r, &pol, a3, ws, NULL, 5);
    assert_int_equal(r.st, AGC_ENOTFOUND);
    assert_non_null(strstr(r.out, "not found"));
    agc_jail_policy bad = pol;
    bad.version = 99;
    run(&r, &bad, a1, ws, NULL, 5);
    assert_int_equal(r.st, AGC_EINVAL);
    agc_test_rmtree(ws);
    free(ws);
}

static void dangerous_system_calls_are_denied(void **state)
{
    (void)state;
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    pol.landlock = AGC_JAIL_BEST_EFFORT;
    pol.namespaces = AGC_JAIL_BEST_EFFORT;
    static const char *const calls[] = {"ptrace", "bpf", "mount", "io_uring", "unshare"};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        /* outside the jail the probe gets another answer (control) */
        char cmd[4300], line[256] = "";
        snprintf(cmd, sizeof cmd, "%s %s", g_probe_path, calls[i]);
        FILE *fp = popen(cmd, "r");
        assert_non_null(fp);
        if (!fgets(line, sizeof line, fp))
            line[0] = '\0';
        pclose(fp);
        const char *argv[] = {g_probe_path, calls[i], NULL};
        ran r;
        run(&r, &pol, argv, ws, NULL, 5);
        assert_int_equal(r.st, AGC_OK);
        char want[64];
        snprintf(want, sizeof want, "%s: EPERM", calls[i]);
        if (!strstr(r.out, want))
            fail_msg("jailed %s: %s", calls[i], r.out);
        if (geteuid() == 0 && strcmp(calls[i], "unshare") != 0 && strstr(line, want))
            fail_msg("control: unjailed %s also gives EPERM; the probe proves nothing", calls[i]);
    }
    agc_test_rmtree(ws);
    free(ws);
}

static void the_host_pids_are_invisible(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    const char *argv[] = {g_probe_path, "pid", NULL};
    ran r;
    run(&r, &pol, argv, ws, NULL, 5);
    assert_int_equal(r.st, AGC_OK);
    int pid = -1;
    char self[32] = "";
    assert_int_equal(sscanf(r.out, "pid: %d proc-self %31s", &pid, self), 2);
    assert_true(pid > 1 && pid < 10);
    assert_int_equal(atoi(self), pid);
    char host[64];
    snprintf(host, sizeof host, "/proc/%d", (int)getpid());
    const char *a2[] = {g_probe_path, "read", "/proc/1/cmdline", NULL};
    run(&r, &pol, a2, ws, NULL, 5);
    assert_non_null(strstr(r.out, "read: OK")); /* the jail's own init */
    const char *a3[] = {"ls", "/proc", NULL};
    run(&r, &pol, a3, ws, NULL, 5);
    char mine[32];
    snprintf(mine, sizeof mine, "\n%d\n", (int)getpid());
    assert_null(strstr(r.out, mine));
    agc_test_rmtree(ws);
    free(ws);
}

static void only_the_given_environment_and_stdio_reach_the_program(void **state)
{
    (void)state;
    char *ws = agc_test_tmpdir();
    const char *rw[] = {ws, NULL};
    agc_jail_policy pol = base_policy(rw);
    pol.landlock = AGC_JAIL_BEST_EFFORT;
    pol.namespaces = AGC_JAIL_BEST_EFFORT;
    int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: must still not leak */
    assert_true(leak >= 0);
    setenv("AGC_JAIL_TEST_SECRET", "hunter2", 1);
    const char *env[] = {"PATH=/usr/bin:/bin", "FOO=bar", NULL};
    const char *a1[] = {"env", NULL};
    ran r;
    run(&r, &pol, a1, ws, env, 5);
    assert_string_equal(r.out, "PATH=/usr/bin:/bin\nFOO=bar\n");
    const char *a2[] = {"ls", "/proc/self/fd", NULL};
    run(&r, &pol, a2, ws, env, 5);
    assert_string_equal(r.out, "0\n1\n2\n3\n"); /* 3: ls's own directory fd */
    close(leak);
    unsetenv("AGC_JAIL_TEST_SECRET");
    agc_test_rmtree(ws);
    free(ws);
}

/* agc_jail_enter in a forked worker: no exec, files outside denied. */
static void enter_confines_the_current_process(void **state)
{
    (void)state;
    need_full();
    char *ws = agc_test_tmpdir(), *other = agc_test_tmpdir();
    char secret[4200], inside[4200];
    snprintf(secret, sizeof secret, "%s/s.txt", other);
    snprintf(inside, sizeof inside, "%s/in.txt", ws);
    agc_test_write_file(secret, "secret");
    agc_test_write_file(inside, "inside");
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        agc_ctx *ctx = NULL;
        char msg[512];
        if (agc_ctx_new(&ctx, NULL) != AGC_OK)
            _exit(3);
        const char *rw[] = {ws, NULL};
        agc_jail_policy pol = base_policy(rw);
        pol.allow_exec = false;
        pol.keep_fds = &p[1];
        pol.n_keep_fds = 1;
        agc_jail_report rep;
        agc_status st = agc_jail_enter(&rep, &pol, ctx);
        int fd_in = open(inside, O_RDONLY);
        int fd_out = open(secret, O_RDONLY);
        int e_out = errno;
        char *const av[] = {"true", NULL};
        execve("/bin/true", av, av + 1);
        int e_exec = errno;
        int n = snprintf(msg, sizeof msg, "st=%d in=%d out=%s exec=%s report=%s err=%s", st,
                         fd_in >= 0, fd_out >= 0 ? "OK" : strerrorname_np(e_out),
                         strerrorname_np(e_exec), rep.text, agc_ctx_errmsg(ctx));
        ssize_t w = write(p[1], msg, (size_t)n);
        (void)w;
        _exit(0);
    }
    close(p[1]);
    char buf[1024] = "";
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    print_message("enter: %s\n", buf);
    assert_non_null(strstr(buf, "st=0 in=1 out=EACCES exec=EPERM"));
    assert_non_null(strstr(buf, "seccomp (no exec)"));
    assert_non_null(strstr(buf, "userns+mountns+netns"));
    agc_test_rmtree(ws);
    agc_test_rmtree(other);
    free(ws);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_names_every_layer),
        cmocka_unit_test(reading_outside_the_grants_fails),
        cmocka_unit_test(hidden_secrets_inside_the_workspace_are_unreadable),
        cmocka_unit_test(writes_follow_ro_and_rw_grants),
        cmocka_unit_test(network_needs_a_grant),
        cmocka_unit_test(fork_bombs_are_contained_and_killed),
        cmocka_unit_test(timeout_kills_the_child_and_its_grandchildren),
        cmocka_unit_test(exit_codes_and_signals_are_reported),
        cmocka_unit_test(dangerous_system_calls_are_denied),
        cmocka_unit_test(the_host_pids_are_invisible),
        cmocka_unit_test(only_the_given_environment_and_stdio_reach_the_program),
        cmocka_unit_test(enter_confines_the_current_process),
    };
    return cmocka_run_group_tests_name("sandbox_jail", tests, setup_all, NULL);
}
