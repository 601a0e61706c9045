/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal pieces of the jail. The parent builds a plan (every
 * string, the seccomp BPF program, the uid maps) with allocations; the code
 * that runs in the cloned child (agc__jail_child_*) only reads the plan and
 * makes raw system calls: no allocation, no locks, no logging, so that it is
 * safe after clone() in a multi-threaded (or ASan) process.
 */
#ifndef AGC_SANDBOX_JAIL_INT_H
#define AGC_SANDBOX_JAIL_INT_H

#include <linux/filter.h>
#include <stdint.h>
#include <sys/resource.h>

#include "agentc/jail.h"

/* Steps that can fail in the child; reported to the parent by number. */
typedef enum agc__jail_step {
    AGC__JS_OK = 0,
    AGC__JS_UIDMAP,
    AGC__JS_MOUNT_PRIVATE,
    AGC__JS_HIDE,
    AGC__JS_READONLY,
    AGC__JS_TMP,
    AGC__JS_PROC,
    AGC__JS_STDIO,
    AGC__JS_CHDIR,
    AGC__JS_RLIMIT,
    AGC__JS_CAPS,
    AGC__JS_NNP,
    AGC__JS_LANDLOCK,
    AGC__JS_SECCOMP,
    AGC__JS_FORK,
    AGC__JS_EXEC,
    AGC__JS_PID_MAX,
    AGC__JS_COUNT
} agc__jail_step;

/* One record written by the child on the setup pipe: a failure, or with
 * index AGC__JAIL_WARNING a best-effort step that did not work. */
typedef struct agc__jail_err {
    int step;
    int err;   /* errno */
    int index; /* which path, for HIDE/READONLY/LANDLOCK; -1 otherwise */
} agc__jail_err;

#define AGC__JAIL_WARNING (-2)

#define AGC__JAIL_MAX_RLIMITS 8

typedef struct agc__jail_plan {
    int clone_flags; /* CLONE_NEW* requested */
    bool userns;
    char uid_map[48], gid_map[48];
    /* mounts (need CLONE_NEWNS) */
    const char *const *hide;     /* NULL-terminated; borrowed from the policy */
    const char *const *readonly; /* NULL-terminated; borrowed from the policy */
    bool private_tmp;
    bool mount_proc;
    unsigned long pid_max; /* for the jail's pid namespace (Linux >= 6.14); 0: none */
    /* landlock */
    int landlock_abi;         /* 0: do not use */
    bool landlock_net;        /* deny TCP bind/connect (ABI >= 4) */
    const char *const *ll_ro; /* NULL-terminated; borrowed */
    const char *const *ll_rw; /* NULL-terminated; borrowed */
    /* limits */
    int n_rlimits;
    int rl_res[AGC__JAIL_MAX_RLIMITS];
    struct rlimit rl_val[AGC__JAIL_MAX_RLIMITS];
    /* seccomp */
    struct sock_fprog prog;
    bool prog_borrowed; /* prog.filter belongs to a policy's agc_jail_seccomp */
    /* exec (spawn only) */
    char **exec_paths; /* candidate paths of argv[0], NULL-terminated (owned) */
    char *const *argv; /* borrowed */
    char *const *envp; /* borrowed; never NULL */
    const char *cwd;   /* borrowed; never NULL */
    /* enter only */
    const int *keep_fds;
    size_t n_keep_fds;
    int cap_last; /* /proc/sys/kernel/cap_last_cap */
} agc__jail_plan;

/* ---- jail.c: the plan, shared with jail_enter.c ---- */
/* Fills the plan from the policy (checks versions and a required Landlock;
 * builds the seccomp program). spawn: a pid namespace and exec allowed. */
agc_status agc__jail_plan_build(agc__jail_plan *pl, const agc_jail_policy *policy, bool spawn,
                                agc_ctx *ctx);
void agc__jail_plan_free(agc__jail_plan *pl, agc_ctx *ctx);
/* After the namespaces are known: drops (with a warning) or refuses the
 * mount-based parts when there is no mount namespace. */
agc_status agc__jail_plan_check_mounts(agc__jail_plan *pl, const agc_jail_policy *policy,
                                       agc_ctx *ctx);
unsigned agc__jail_plan_features(const agc__jail_plan *pl);
void agc__jail_report_fill(agc_jail_report *r, unsigned features, int abi);
/* Turns a child's failure record into an error on ctx. */
agc_status agc__jail_setup_error(agc_ctx *ctx, const agc_jail_policy *policy,
                                 const char *const *argv, const agc__jail_err *rec);
/* clone3 with CLONE_PIDFD | flags, fork-like (0 in the child). */
long agc__jail_clone(int flags, int *pidfd);
/* Whether a clone/unshare errno means "namespaces not allowed here". */
bool agc__jail_ns_refused(int e);
void agc__jail_close_fd(int *fd);

/* ---- jail_landlock.c ---- */
/* Landlock ABI version of the kernel, 0 when unavailable. */
int agc__landlock_abi(void);
/* Child side: builds and enforces the ruleset. Returns 0 or an errno,
 * *bad_index the path that failed (ro paths first, then rw; -1: the
 * ruleset itself). */
int agc__landlock_apply(const agc__jail_plan *plan, int *bad_index);

/* A prebuilt seccomp program (agc_jail_seccomp_new). */
struct agc_jail_seccomp {
    struct sock_fprog prog; /* filter owned */
};

/* ---- jail_seccomp.c ---- */
/* Builds the BPF program into plan->prog (agc_free plan->prog.filter):
 * the denylist, or with allowlist the worker allowlist. */
agc_status agc__seccomp_build(agc__jail_plan *plan, bool network, bool allow_exec, bool allowlist,
                              agc_ctx *ctx);

/* ---- jail_ns.c (child side, raw system calls only) ---- */
/* Writes the uid/gid maps of a fresh user namespace. 0 or errno. */
int agc__ns_write_maps(const agc__jail_plan *plan);
/* Private mounts: hidden paths, read-only paths, /tmp, /proc. 0 or errno;
 * *step and *index say what failed. */
int agc__ns_mounts(const agc__jail_plan *plan, int *step, int *index);
/* rlimits, capabilities, no_new_privs, Landlock, seccomp: the last steps
 * before exec. 0 or errno with *step, *index. */
int agc__ns_confine(const agc__jail_plan *plan, int *step, int *index);
/* Writes plan->pid_max to the jail's /proc/sys/kernel/pid_max (a per pid
 * namespace cap on processes since Linux 6.14). 0 or errno. */
int agc__ns_cap_pids(const agc__jail_plan *plan);
/* Drops every capability (bounding set, ambient, effective/permitted). */
int agc__ns_drop_caps(const agc__jail_plan *plan);

#endif
