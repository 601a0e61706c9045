/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * agc_jail_enter (confine the current process, for wasm workers that were
 * just forked) and agc_jail_probe (what the kernel offers). Invariant: as in
 * jail.c, a required layer is applied or the call fails. Enter cannot give
 * the caller a pid namespace (the process already runs) and does not fork.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentc/log.h"
#include "jail_int.h"

#define MOD "jail"

/* ---- enter --------------------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Closes every fd >= 3 except the kept ones. */
static void close_others(const int *keep, size_t n)
{
    int sorted[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        if (keep[i] >= 3)
            sorted[k++] = keep[i];
    qsort(sorted, k, sizeof sorted[0], cmp_int);
    unsigned from = 3;
    for (size_t i = 0; i < k; i++) {
        if ((unsigned)sorted[i] > from)
            close_range(from, (unsigned)sorted[i] - 1, 0);
        if ((unsigned)sorted[i] + 1 > from)
            from = (unsigned)sorted[i] + 1;
    }
    close_range(from, ~0U, 0);
}

agc_status agc_jail_enter(agc_jail_report *report, const agc_jail_policy *policy, agc_ctx *ctx)
{
    if (report)
        memset(report, 0, sizeof *report);
    agc__jail_plan pl;
    agc_status st = agc__jail_plan_build(&pl, policy, false, ctx);
    if (st != AGC_OK) {
        agc__jail_plan_free(&pl, ctx);
        return st;
    }
    if (policy->n_keep_fds > 64) {
        agc__jail_plan_free(&pl, ctx);
        return agc_error_set(ctx, AGC_EINVAL, MOD, "jail policy: at most 64 keep_fds");
    }
    int flags = pl.clone_flags;
    while (flags != 0 && unshare(flags) != 0) {
        int e = errno;
        if (!agc__jail_ns_refused(e) || policy->namespaces == AGC_JAIL_REQUIRED) {
            agc__jail_plan_free(&pl, ctx);
            return agc_error_set(ctx, agc__jail_ns_refused(e) ? AGC_EUNSUPPORTED : AGC_EIO, MOD,
                                 "cannot create namespaces for the jail: %s%s", strerror(e),
                                 e == EINVAL ? " (unshare needs a single-threaded process)" : "");
        }
        int fewer = (geteuid() == 0 && (flags & CLONE_NEWUSER)) ? flags & ~CLONE_NEWUSER : 0;
        agc_log(ctx, AGC_LOG_WARN, MOD, "cannot create namespaces (%s); trying %s", strerror(e),
                fewer ? "without a user namespace" : "without namespaces");
        flags = fewer;
    }
    pl.clone_flags = flags;
    st = agc__jail_plan_check_mounts(&pl, policy, ctx);
    int step = AGC__JS_OK, index = -1, e = 0;
    if (st == AGC_OK && pl.userns && (e = agc__ns_write_maps(&pl)) != 0)
        step = AGC__JS_UIDMAP;
    if (st == AGC_OK && e == 0 && (flags & CLONE_NEWNS))
        e = agc__ns_mounts(&pl, &step, &index);
    if (st == AGC_OK && e == 0) {
        close_others(policy->keep_fds, policy->n_keep_fds);
        e = agc__ns_confine(&pl, &step, &index);
    }
    if (st == AGC_OK && e != 0) {
        agc__jail_err rec = {step, e, index};
        static const char *const none[] = {"(worker)", NULL};
        st = agc__jail_setup_error(ctx, policy, none, &rec);
    }
    if (st == AGC_OK && report)
        agc__jail_report_fill(
            report, agc__jail_plan_features(&pl) | (policy->allow_exec ? 0 : AGC_JAIL_F_NO_EXEC),
            pl.landlock_abi);
    agc__jail_plan_free(&pl, ctx);
    return st;
}

/* ---- fork ---------------------------------------------------------------------------- */

/* Child side of agc_jail_fork: the namespaces exist; maps, mounts, confine. */
static agc_status fork_child(agc_jail_report *report, agc__jail_plan *pl,
                             const agc_jail_policy *policy, agc_ctx *ctx)
{
    agc_status st = agc__jail_plan_check_mounts(pl, policy, ctx);
    pl->mount_proc = false; /* the worker execs nothing and needs no /proc */
    int step = AGC__JS_OK, index = -1, e = 0;
    if (st == AGC_OK && pl->userns && (e = agc__ns_write_maps(pl)) != 0)
        step = AGC__JS_UIDMAP;
    if (st == AGC_OK && e == 0 && (pl->clone_flags & CLONE_NEWNS))
        e = agc__ns_mounts(pl, &step, &index);
    if (st == AGC_OK && e == 0) {
        close_others(policy->keep_fds, policy->n_keep_fds);
        e = agc__ns_confine(pl, &step, &index);
    }
    if (st == AGC_OK && e != 0) {
        agc__jail_err rec = {step, e, index};
        static const char *const none[] = {"(worker)", NULL};
        st = agc__jail_setup_error(ctx, policy, none, &rec);
    }
    if (st == AGC_OK && report)
        agc__jail_report_fill(report, agc__jail_plan_features(pl) | AGC_JAIL_F_NO_EXEC,
                              pl->landlock_abi);
    return st;
}

agc_status agc_jail_fork(pid_t *pid_out, int *pidfd_out, agc_jail_report *report,
                         const agc_jail_policy *policy, agc_ctx *ctx)
{
    *pid_out = -1;
    *pidfd_out = -1;
    if (report)
        memset(report, 0, sizeof *report);
    if (policy && policy->allow_exec)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "agc_jail_fork: allow_exec is not supported");
    agc__jail_plan pl;
    agc_status st = agc__jail_plan_build(&pl, policy, false, ctx);
    if (st == AGC_OK && policy->n_keep_fds > 64)
        st = agc_error_set(ctx, AGC_EINVAL, MOD, "jail policy: at most 64 keep_fds");
    if (st != AGC_OK) {
        agc__jail_plan_free(&pl, ctx);
        return st;
    }
    int flags = pl.clone_flags ? pl.clone_flags | CLONE_NEWPID : 0;
    long pid;
    int pidfd = -1;
    for (;;) {
        pid = agc__jail_clone(flags, &pidfd);
        if (pid >= 0 || flags == 0)
            break;
        int e = errno;
        if (!agc__jail_ns_refused(e) || policy->namespaces == AGC_JAIL_REQUIRED) {
            agc__jail_plan_free(&pl, ctx);
            return agc_error_set(ctx, agc__jail_ns_refused(e) ? AGC_EUNSUPPORTED : AGC_EIO, MOD,
                                 "cannot fork a jailed worker: %s", strerror(e));
        }
        int fewer = (geteuid() == 0 && (flags & CLONE_NEWUSER)) ? flags & ~CLONE_NEWUSER : 0;
        agc_log(ctx, AGC_LOG_WARN, MOD, "cannot create namespaces (%s); trying %s", strerror(e),
                fewer ? "without a user namespace" : "without namespaces");
        flags = fewer;
    }
    if (pid < 0) {
        int e = errno;
        agc__jail_plan_free(&pl, ctx);
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot fork a worker: %s", strerror(e));
    }
    if (pid > 0) {
        agc__jail_plan_free(&pl, ctx);
        *pid_out = (pid_t)pid;
        *pidfd_out = pidfd;
        return AGC_OK;
    }
    *pid_out = 0;
    pl.clone_flags = flags;
    st = fork_child(report, &pl, policy, ctx);
    agc__jail_plan_free(&pl, ctx);
    return st;
}

/* ---- probe --------------------------------------------------------------------------- */

void agc_jail_probe(agc_jail_report *out, agc_ctx *ctx)
{
    int abi = agc__landlock_abi();
    int want =
        CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
    int flags = want;
    long pid = -1;
    int pidfd = -1;
    for (;;) {
        pid = agc__jail_clone(flags, &pidfd);
        if (pid >= 0 || flags == 0 || !agc__jail_ns_refused(errno))
            break;
        flags = (geteuid() == 0 && (flags & CLONE_NEWUSER)) ? flags & ~CLONE_NEWUSER : 0;
    }
    if (pid == 0)
        _exit(0);
    if (pid > 0) {
        int s;
        while (waitpid((pid_t)pid, &s, 0) < 0 && errno == EINTR)
            ;
        close(pidfd);
    } else {
        flags = 0;
    }
    agc__jail_plan pl;
    memset(&pl, 0, sizeof pl);
    pl.clone_flags = flags;
    pl.landlock_abi = abi;
    pl.landlock_net = abi >= 4;
    pl.mount_proc = (flags & CLONE_NEWNS) && (flags & CLONE_NEWPID);
    agc__jail_report_fill(out, agc__jail_plan_features(&pl), abi);
    agc_log(ctx, AGC_LOG_DEBUG, MOD, "jail probe: %s", out->text);
}
