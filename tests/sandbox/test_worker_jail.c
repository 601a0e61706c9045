/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * agc_jail_fork as wasm workers use it: the child is pid 1 of a new pid
 * namespace, its seccomp allowlist refuses sockets, exec, ptrace and
 * io_uring, Landlock hides every path but the granted ones, rlimits apply,
 * and fds other than the kept ones are closed. Each missing kernel feature
 * is a skip with its reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "agentc/jail.h"
#include "sandbox_fixture.h"

/* Bits the child reports through its exit code: 0 when all checks hold. */
enum {
    C_PID1 = 1,
    C_SOCKET = 2,
    C_EXEC = 4,
    C_LANDLOCK = 8,
    C_GRANTED = 16,
    C_FD = 32,
    C_NOFILE = 64
};

static void worker_fork_is_confined(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_jail_report probe;
    agc_jail_probe(&probe, ctx);
    bool ns = probe.features & AGC_JAIL_F_USERNS, ll = probe.landlock_abi > 0;
    if (!ns)
        print_message("note: no user namespaces here: the pid check is skipped (%s)\n", probe.text);
    if (!ll)
        print_message("note: Landlock is unavailable: the path checks are skipped\n");
    char *dir = agc_test_tmpdir();
    char granted[4200];
    snprintf(granted, sizeof granted, "%s/ok.txt", dir);
    agc_test_write_file(granted, "fine");
    int stray = open("/dev/null", O_RDONLY); /* not kept: must be closed in the child */
    assert_true(stray >= 0);
    const char *ro[] = {dir, NULL};
    agc_jail_policy jp = AGC_JAIL_POLICY_INIT;
    jp.allow_exec = false;
    jp.seccomp_allowlist = true;
    jp.no_netns = true;
    jp.ro_paths = ro;
    jp.rlimit_nofile = 32;
    pid_t pid;
    int pidfd;
    agc_jail_report rep;
    agc_status st = agc_jail_fork(&pid, &pidfd, &rep, &jp, ctx);
    if (pid == 0) {
        int bad = 0;
        if (st != AGC_OK)
            _exit(127);
        if (ns && getpid() != 1)
            bad |= C_PID1;
        if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
            bad |= C_SOCKET;
        if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0)
            bad |= C_SOCKET;
        char *const argv[] = {"/bin/true", NULL};
        execv("/bin/true", argv);
        if (errno != EPERM)
            bad |= C_EXEC;
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0 || syscall(SYS_io_uring_setup, 1, NULL) >= 0)
            bad |= C_EXEC;
        if (ll && open("/etc/hostname", O_RDONLY) >= 0)
            bad |= C_LANDLOCK;
        if (open(granted, O_RDONLY) < 0)
            bad |= C_GRANTED;
        if (fcntl(stray, F_GETFD) >= 0)
            bad |= C_FD;
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 32)
            bad |= C_NOFILE;
        _exit(bad);
    }
    assert_int_equal(st, AGC_OK);
    print_message("worker jail: %s\n", rep.text);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    close(pidfd);
    close(stray);
    assert_true(WIFEXITED(ws));
    if (WEXITSTATUS(ws))
        print_message("failed checks: 0x%x\n", WEXITSTATUS(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    agc_test_rmtree(dir);
    free(dir);
    agc_ctx_free(ctx);
}

static void required_landlock_is_never_weakened(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_jail_policy jp = AGC_JAIL_POLICY_INIT;
    jp.allow_exec = false;
    jp.seccomp_allowlist = true;
    jp.landlock = AGC_JAIL_REQUIRED;
    jp.namespaces = AGC_JAIL_REQUIRED;
    pid_t pid;
    int pidfd;
    agc_status st = agc_jail_fork(&pid, &pidfd, NULL, &jp, ctx);
    if (pid == 0)
        _exit(st == AGC_OK ? 0 : 1);
    if (agc_jail_landlock_abi() == 0) {
        assert_int_equal(st, AGC_EUNSUPPORTED);
        print_message("skipped: Landlock is unavailable (refusal checked)\n");
        agc_ctx_free(ctx);
        skip();
    }
    if (st == AGC_EUNSUPPORTED) {
        print_message("skipped: namespaces are unavailable: %s\n", agc_ctx_errmsg(ctx));
        agc_ctx_free(ctx);
        skip();
    }
    assert_int_equal(st, AGC_OK);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    close(pidfd);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(worker_fork_is_confined),
        cmocka_unit_test(required_landlock_is_never_weakened),
    };
    return cmocka_run_group_tests_name("sandbox_worker_jail", tests, NULL, NULL);
}
