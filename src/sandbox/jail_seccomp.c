/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The jail's seccomp filter, built with libseccomp in the parent and
 * exported as a BPF program that the child installs with one system call.
 * It is a denylist (default allow: the jail runs arbitrary programs) of the
 * calls that widen the kernel attack surface or undo the jail: ptrace, bpf,
 * io_uring, mount API, kexec, modules, keyrings, perf, namespaces,
 * personality flags, userfaultfd, process_vm_*, TIOCSTI; socket(AF_INET*)
 * without network; execve without exec. Other architectures' system calls
 * kill the process (libseccomp's default for a non-native ABI).
 * Workers that only run a wasm guest get an allowlist instead (default
 * EPERM): the system calls of our WASI host, malloc, the control channel.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "jail_int.h"

#define MOD "jail"

/* Denied with EPERM. Names unknown to this libseccomp are skipped. */
static const char *const denied[] = {
    "ptrace",
    "bpf",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "mount",
    "umount2",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "pivot_root",
    "chroot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "unshare",
    "setns",
    "userfaultfd",
    "process_vm_readv",
    "process_vm_writev",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "lookup_dcookie",
    "fanotify_init",
    "open_by_handle_at",
    "name_to_handle_at",
    "syslog",
    NULL,
};

static int deny_name(scmp_filter_ctx f, const char *name, int err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;
    return seccomp_rule_add(f, SCMP_ACT_ERRNO((uint32_t)err), nr, 0);
}

static int add_rules(scmp_filter_ctx f, bool network, bool allow_exec)
{
    int rc = 0;
    for (size_t i = 0; denied[i] && rc == 0; i++)
        rc = deny_name(f, denied[i], EPERM);
    /* clone3 passes its flags in memory that BPF cannot read: ENOSYS makes
     * libc fall back to clone(), whose flags are checked below. */
    if (rc == 0)
        rc = deny_name(f, "clone3", ENOSYS);
    static const uint64_t ns_flags[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,   CLONE_NEWNET,
                                        CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0] && rc == 0; i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
    /* personality(): the query (0xffffffff) and plain values stay allowed;
     * flags that weaken exploit mitigations are refused. */
    static const uint64_t persona[] = {ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT,
                                       MMAP_PAGE_ZERO};
    for (size_t i = 0; i < sizeof persona / sizeof persona[0] && rc == 0; i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, persona[i] | 0x80000000u, persona[i]));
    if (rc == 0)
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
#ifdef TIOCLINUX
    if (rc == 0)
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
#endif
    if (!network) {
        if (rc == 0)
            rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                                  SCMP_A0(SCMP_CMP_EQ, AF_INET));
        if (rc == 0)
            rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                                  SCMP_A0(SCMP_CMP_EQ, AF_INET6));
    }
    if (!allow_exec) {
        if (rc == 0)
            rc = deny_name(f, "execve", EPERM);
        if (rc == 0)
            rc = deny_name(f, "execveat", EPERM);
    }
    return rc;
}

/* What a wasm worker may call after confinement (everything else: EPERM). */
static const char *const worker_allowed[] = {
    /* I/O on fds it has and files under its preopens (openat2 confines paths) */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek",
    "close", "fstat", "newfstatat", "statx", "openat", "openat2", "getdents64", "mkdirat",
    "unlinkat", "renameat", "renameat2", "readlinkat", "faccessat", "faccessat2", "fcntl", "dup",
    "dup3", "ftruncate", "fsync", "fdatasync", "utimensat", "fadvise64", "fallocate", "linkat",
    "symlinkat", "poll", "ppoll",
    /* memory */
    "brk", "mmap", "munmap", "mprotect", "mremap", "madvise",
    /* signals of its own, time, randomness, threads' futex, identity */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "clock_gettime",
    "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "getrandom", "futex",
    "sched_yield", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "uname",
    "getrusage", "prlimit64", "set_robust_list", "rseq", "restart_syscall", "exit", "exit_group",
    NULL};

static int add_allowlist(scmp_filter_ctx f)
{
    int rc = 0;
    for (size_t i = 0; worker_allowed[i] && rc == 0; i++) {
        int nr = seccomp_syscall_resolve_name(worker_allowed[i]);
        if (nr != __NR_SCMP_ERROR)
            rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
    }
    /* no kill/tgkill: abort() then ends the worker by its fallback fault */
    return rc;
}

agc_status agc__seccomp_build(agc__jail_plan *plan, bool network, bool allow_exec, bool allowlist,
                              agc_ctx *ctx)
{
    scmp_filter_ctx f = seccomp_init(allowlist ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW);
    if (!f)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "seccomp_init failed");
    /* the child sets no_new_privs itself, before loading */
    seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
    int rc = allowlist ? add_allowlist(f) : add_rules(f, network, allow_exec);
    if (rc != 0) {
        seccomp_release(f);
        return agc_error_set(ctx, AGC_ERROR, MOD, "cannot build the seccomp filter: %s",
                             strerror(-rc));
    }
    agc_status st = AGC_OK;
    int mfd = memfd_create("agc-seccomp", MFD_CLOEXEC);
    struct stat sb;
    if (mfd < 0 || seccomp_export_bpf(f, mfd) != 0 || fstat(mfd, &sb) != 0 || sb.st_size <= 0 ||
        sb.st_size % (off_t)sizeof(struct sock_filter) != 0) {
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot export the seccomp filter: %s",
                           strerror(errno));
        goto out;
    }
    struct sock_filter *prog = agc_malloc(ctx, (size_t)sb.st_size);
    if (!prog) {
        st = AGC_ENOMEM;
        goto out;
    }
    if (pread(mfd, prog, (size_t)sb.st_size, 0) != sb.st_size) {
        agc_free(ctx, prog);
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot read the seccomp filter back");
        goto out;
    }
    plan->prog.filter = prog;
    plan->prog.len = (unsigned short)((size_t)sb.st_size / sizeof(struct sock_filter));
out:
    if (mfd >= 0)
        close(mfd);
    seccomp_release(f);
    return st;
}
