/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The OS jail for child processes: namespaces (user, mount, pid, network,
 * ipc, uts), Landlock filesystem/network rules, a seccomp denylist, rlimits,
 * no_new_privs, dropped capabilities, closed fds and a caller-given
 * environment. Invariant: a policy that says "required" is never silently
 * weakened: a missing kernel feature is a refusal with a message, and every
 * best-effort downgrade is logged (agc_log, module "jail") and visible in the
 * feature report. It is not a resource accountant (no cgroups) and does not
 * hide the host's files from the jail by itself: only what the policy grants
 * is reachable through Landlock.
 */
#ifndef AGENTC_JAIL_H
#define AGENTC_JAIL_H

#include <stdint.h>
#include <sys/types.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How strictly a layer is wanted. */
typedef enum agc_jail_mode {
    AGC_JAIL_BEST_EFFORT = 0, /* use it when the kernel has it; log a warning when not */
    AGC_JAIL_REQUIRED,        /* refuse to run without it (AGC_EUNSUPPORTED) */
    AGC_JAIL_OFF              /* do not use it */
} agc_jail_mode;

/* Features applied (agc_jail_report.features). */
enum {
    AGC_JAIL_F_USERNS = 1u << 0,
    AGC_JAIL_F_MOUNTNS = 1u << 1,
    AGC_JAIL_F_PIDNS = 1u << 2,
    AGC_JAIL_F_NETNS = 1u << 3,
    AGC_JAIL_F_IPCNS = 1u << 4,
    AGC_JAIL_F_UTSNS = 1u << 5,
    AGC_JAIL_F_LANDLOCK = 1u << 6,
    AGC_JAIL_F_LANDLOCK_NET = 1u << 7, /* TCP bind/connect ruled by Landlock (ABI >= 4) */
    AGC_JAIL_F_SECCOMP = 1u << 8,
    AGC_JAIL_F_NO_NEW_PRIVS = 1u << 9,
    AGC_JAIL_F_RLIMITS = 1u << 10,
    AGC_JAIL_F_HIDDEN = 1u << 11,      /* deny_paths covered by empty mounts */
    AGC_JAIL_F_PRIVATE_TMP = 1u << 12, /* a fresh tmpfs on /tmp */
    AGC_JAIL_F_PROC = 1u << 13,        /* a /proc of the jail's own pid namespace */
    AGC_JAIL_F_NO_EXEC = 1u << 14,     /* execve/execveat denied by seccomp */
    AGC_JAIL_F_PID_MAX = 1u << 15      /* the pid namespace's pid_max caps processes */
};

/* What a jail got: feature bits, the Landlock ABI used (0: none) and text. */
typedef struct agc_jail_report {
    unsigned features;
    int landlock_abi;
    /* "userns+mountns+pidns+netns+ipcns+utsns, landlock ABI 4, seccomp" */
    char text[160];
} agc_jail_report;

typedef struct agc_jail_policy {
    unsigned version; /* AGC_JAIL_POLICY_VERSION */
    /* Absolute paths (NULL-terminated lists; missing paths are skipped). */
    const char *const *ro_paths; /* read and execute */
    const char *const *rw_paths; /* read, write, create, delete, execute */
    /* Paths inside granted trees made unreadable: each is covered by an
     * empty read-only tmpfs (directory) or an empty mode-000 file (file) in
     * the jail's private mount namespace. Needs the mount namespace. */
    const char *const *deny_paths;
    /* Paths inside rw trees made read-only (a read-only bind mount). */
    const char *const *readonly_paths;
    agc_jail_mode landlock;   /* default best effort */
    agc_jail_mode namespaces; /* default best effort */
    bool network;             /* allow IP networking (default false: new netns + seccomp) */
    bool allow_exec;          /* agc_jail_enter only: keep execve (spawn always execs once) */
    bool private_tmp;         /* mount an empty tmpfs on /tmp (needs the mount namespace) */
    /* Resource limits: 0 means the default in brackets; UINT64_MAX unlimited. */
    uint64_t rlimit_as;     /* bytes [unlimited: wasm guard pages need address space] */
    uint64_t rlimit_nofile; /* [256] */
    uint64_t rlimit_nproc;  /* processes of the jail's user [256] */
    uint64_t rlimit_cpu;    /* seconds [unlimited] */
    uint64_t rlimit_fsize;  /* bytes [unlimited]; core dumps are always off */
    /* agc_jail_enter only: fds kept open besides 0, 1 and 2. */
    const int *keep_fds;
    size_t n_keep_fds;
    /* seccomp as an allowlist (default deny with EPERM) of the calls a wasm
     * worker needs: file I/O on open fds and under preopens, memory, time,
     * randomness, futex, exit. No socket, exec, ptrace, mount, bpf, io_uring,
     * clone or namespace call. For agc_jail_enter/agc_jail_fork workers. */
    bool seccomp_allowlist;
    /* Without network: skip the new network namespace (it costs ~0.5 ms);
     * seccomp and Landlock (ABI >= 4) still refuse IP sockets. */
    bool no_netns;
    /* Optional: the seccomp program built once by agc_jail_seccomp_new for
     * a policy with the same network / allow_exec / seccomp_allowlist, reused
     * for each fork instead of rebuilt with libseccomp (borrowed; NULL: built
     * per call). */
    const struct agc_jail_seccomp *seccomp;
} agc_jail_policy;

#define AGC_JAIL_POLICY_VERSION 1
#define AGC_JAIL_POLICY_INIT                                                                       \
    {                                                                                              \
        AGC_JAIL_POLICY_VERSION, NULL, NULL, NULL, NULL, AGC_JAIL_BEST_EFFORT,                     \
            AGC_JAIL_BEST_EFFORT, false, true, false, 0, 0, 0, 0, 0, NULL, 0, false, false, NULL   \
    }

typedef struct agc_jail_seccomp agc_jail_seccomp;

/*
 * Builds the seccomp program agc_jail_fork / agc_jail_enter would build for
 * policy (its network, allow_exec and seccomp_allowlist), to be set as
 * policy->seccomp and reused for many forks. *out is the caller's
 * (agc_jail_seccomp_free, after the last fork using it). Errors: AGC_ERROR /
 * AGC_EIO (libseccomp), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_jail_seccomp_new(agc_jail_seccomp **out, const agc_jail_policy *policy,
                                              agc_ctx *ctx);
/* Frees a program from agc_jail_seccomp_new; NULL is a no-op. */
void agc_jail_seccomp_free(agc_jail_seccomp *s, agc_ctx *ctx);

/* Fills *policy with the defaults (nothing granted, no network). */
void agc_jail_policy_init(agc_jail_policy *policy);

/* Standard streams of a spawned child: an fd of the caller (dup'ed, stays
 * the caller's), or one of these. */
enum {
    AGC_JAIL_NULL = -1,  /* /dev/null */
    AGC_JAIL_PIPE = -2,  /* a pipe; the parent's end is in agc_jail_child_fd() */
    AGC_JAIL_STDOUT = -3 /* stderr only: the same as stdout */
};

typedef struct agc_jail_child agc_jail_child;

/*
 * Starts argv[0] (searched in the PATH of env, or /usr/local/bin:/usr/bin:/bin)
 * with arguments argv and exactly the environment env (NULL-terminated
 * "NAME=value"; NULL: empty) in a jail made from policy, in directory cwd
 * (absolute; NULL: "/"). stdio[0..2] are fds or AGC_JAIL_* values. The jail's
 * first process is a small init that runs the program and, in a pid
 * namespace, takes every process of the jail with it when it ends. Returns
 * after the program was executed. *out is the caller's (agc_jail_free).
 * Errors: AGC_ENOTFOUND (program not found), AGC_EUNSUPPORTED (a required
 * layer is missing), AGC_EPERM (the jail could not be set up; the message
 * names the step), AGC_EINVAL (bad policy), AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_jail_spawn(agc_jail_child **out, const agc_jail_policy *policy,
                                        const char *const *argv, const char *cwd,
                                        const char *const *env, const int stdio[3], agc_ctx *ctx);

/* The host pid of the jail's init, and a pidfd for it (borrowed; poll it for
 * POLLIN to learn that the jail ended). */
pid_t agc_jail_child_pid(const agc_jail_child *child);
int agc_jail_child_pidfd(const agc_jail_child *child);
/* The parent's end of a piped stream (0, 1 or 2), or -1. Borrowed; set it
 * to -1 with agc_jail_child_take_fd to own it. */
int agc_jail_child_fd(const agc_jail_child *child, int which);
/* Hands the parent's end of stream `which` to the caller (who closes it). */
int agc_jail_child_take_fd(agc_jail_child *child, int which);
/* What the jail got. Borrowed while child lives. */
const agc_jail_report *agc_jail_child_report(const agc_jail_child *child);

/* How a jailed program ended. */
typedef struct agc_jail_exit {
    int code;       /* exit status, or -1 when killed */
    int signal;     /* the signal that killed it, or 0 */
    bool timed_out; /* the deadline passed and the jail was killed */
} agc_jail_exit;

/*
 * Waits until the program ends or deadline_ns (agc_clock_monotonic_ns of
 * the child's ctx; 0: no deadline) passes; then the whole jail is killed
 * with SIGKILL and reaped. Fills *out. Also closes the child's pipes that
 * the caller did not take. Call once. AGC_EIO when waiting fails.
 */
agc_status agc_jail_wait(agc_jail_exit *out, agc_jail_child *child, int64_t deadline_ns);
/* Kills every process of the jail now (SIGKILL); the caller still waits. */
void agc_jail_kill(agc_jail_child *child);
/* Kills the jail if still running, reaps it, closes fds, frees; NULL is a no-op. */
void agc_jail_free(agc_jail_child *child);

/*
 * Applies policy to the CURRENT process (a freshly forked worker that will
 * load untrusted code): user/mount/network namespaces (no pid namespace:
 * the process is already running), hidden paths, Landlock, rlimits,
 * no_new_privs, capabilities dropped, fds other than 0-2 and keep_fds
 * closed, seccomp (execve denied unless policy->allow_exec). Irreversible.
 * report may be NULL. Errors as for agc_jail_spawn; on failure the process
 * may be partly confined and should exit.
 */
AGC_NODISCARD agc_status agc_jail_enter(agc_jail_report *report, const agc_jail_policy *policy,
                                        agc_ctx *ctx);

/*
 * Forks a jailed child of the current process: new user, mount, pid, ipc,
 * uts (and, unless policy->no_netns or network, network) namespaces made by
 * clone3, then the rest as agc_jail_enter. Returns in both processes: in the
 * parent *pid_out > 0 and *pidfd_out (the caller's), AGC_OK or the clone
 * error; in the child *pid_out == 0 and the status of its confinement (the
 * child must _exit on failure; the message is on ctx). The child is pid 1 of
 * its namespace: when it ends, everything it started ends. Fork-based: the
 * child continues the caller's code (no exec), so call it from a thread that
 * holds no lock the child needs.
 */
AGC_NODISCARD agc_status agc_jail_fork(pid_t *pid_out, int *pidfd_out, agc_jail_report *report,
                                       const agc_jail_policy *policy, agc_ctx *ctx);

/*
 * What this kernel offers without running anything: Landlock ABI, whether
 * namespaces can be created (tested with a short-lived child). *out gets
 * the features a best-effort jail would have.
 */
void agc_jail_probe(agc_jail_report *out, agc_ctx *ctx);

/* The Landlock ABI version of the running kernel (0: unavailable). */
int agc_jail_landlock_abi(void);

#ifdef __cplusplus
}
#endif
#endif
