/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The jail's public API: policy checks and the plan (parent side), clone3
 * into fresh namespaces with a pidfd, a small init in the jail that runs the
 * program and reports its wait status, waiting with a deadline (pidfd +
 * poll, SIGKILL of the whole jail), agc_jail_enter for the current process,
 * and the feature report. Invariant: a layer the policy requires is either
 * applied or the call fails; best-effort downgrades are logged. The child
 * side after clone3 uses no allocation (see jail_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/log.h"
#include "jail_int.h"

#define MOD          "jail"
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

struct agc_jail_child {
    agc_ctx *ctx;
    pid_t pid;
    int pidfd;
    int status_fd; /* init writes the program's wait status here */
    int fds[3];    /* parent ends of AGC_JAIL_PIPE streams */
    bool pidns;
    bool done;
    agc_jail_report report;
};

/* clone3's argument, spelled out (glibc 2.36 does not export it). */
struct jail_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static const char *const step_names[AGC__JS_COUNT] = {
    "ok",
    "writing the user namespace's uid/gid maps",
    "making mounts private",
    "hiding a denied path",
    "making a path read-only",
    "mounting a private /tmp",
    "mounting /proc",
    "setting up stdin/stdout/stderr",
    "changing to the working directory",
    "setting resource limits",
    "dropping capabilities",
    "setting no_new_privs",
    "applying Landlock rules",
    "installing the seccomp filter",
    "starting the program",
    "executing the program",
    "capping the jail's pid_max",
};

void agc_jail_policy_init(agc_jail_policy *policy)
{
    agc_jail_policy p = AGC_JAIL_POLICY_INIT;
    *policy = p;
}

/* ---- the plan ------------------------------------------------------------------------ */

static int read_cap_last(void)
{
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    char buf[16] = {0};
    int v = 63;
    if (fd >= 0) {
        if (read(fd, buf, sizeof buf - 1) > 0) {
            int x = 0;
            for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
                x = x * 10 + (*p - '0');
            if (x > 0)
                v = x;
        }
        close(fd);
    }
    return v;
}

static void add_rlimit(agc__jail_plan *pl, int res, uint64_t v, uint64_t dflt)
{
    if (v == 0)
        v = dflt;
    rlim_t r = v == UINT64_MAX ? RLIM_INFINITY : (rlim_t)v;
    pl->rl_res[pl->n_rlimits] = res;
    pl->rl_val[pl->n_rlimits].rlim_cur = r;
    pl->rl_val[pl->n_rlimits].rlim_max = r;
    pl->n_rlimits++;
}

void agc__jail_plan_free(agc__jail_plan *pl, agc_ctx *ctx)
{
    for (size_t i = 0; pl->exec_paths && pl->exec_paths[i]; i++)
        agc_free(ctx, pl->exec_paths[i]);
    agc_free(ctx, pl->exec_paths);
    if (!pl->prog_borrowed)
        agc_free(ctx, pl->prog.filter);
    memset(pl, 0, sizeof *pl);
}

/* Candidate paths for argv0: itself when it has a '/', else each PATH entry. */
static agc_status exec_candidates(agc__jail_plan *pl, const char *argv0, const char *const *env,
                                  agc_ctx *ctx)
{
    const char *path = DEFAULT_PATH;
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], "PATH=", 5) == 0)
            path = env[i] + 5;
    size_t n = 2;
    for (const char *p = path; *p; p++)
        n += *p == ':';
    pl->exec_paths = agc_calloc(ctx, n + 1, sizeof *pl->exec_paths);
    if (!pl->exec_paths)
        return AGC_ENOMEM;
    if (strchr(argv0, '/')) {
        pl->exec_paths[0] = agc_strdup(ctx, argv0);
        return pl->exec_paths[0] ? AGC_OK : AGC_ENOMEM;
    }
    size_t k = 0;
    for (const char *p = path;;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0) { /* empty entries (the cwd) are not searched */
            pl->exec_paths[k] = agc_sprintf(ctx, "%.*s/%s", (int)len, p, argv0);
            if (!pl->exec_paths[k++])
                return AGC_ENOMEM;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return AGC_OK;
}

static bool list_empty(const char *const *l)
{
    return !l || !l[0];
}

/*
 * Fills the plan from the policy. *ns_flags_out gets the namespaces to ask
 * for (before any downgrade). Checks required layers that can be checked
 * without trying: Landlock.
 */
agc_status agc__jail_plan_build(agc__jail_plan *pl, const agc_jail_policy *policy, bool spawn,
                                agc_ctx *ctx)
{
    memset(pl, 0, sizeof *pl);
    if (!policy || policy->version != AGC_JAIL_POLICY_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "jail policy: %s; use AGC_JAIL_POLICY_INIT",
                             policy ? "unknown version" : "NULL policy");
    if (policy->landlock > AGC_JAIL_OFF || policy->namespaces > AGC_JAIL_OFF)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "jail policy: unknown agc_jail_mode value");
    if (policy->landlock != AGC_JAIL_OFF) {
        pl->landlock_abi = agc__landlock_abi();
        if (pl->landlock_abi == 0 && policy->landlock == AGC_JAIL_REQUIRED)
            return agc_error_set(ctx, AGC_EUNSUPPORTED, MOD,
                                 "Landlock is unavailable on this kernel (needs Linux >= 5.13 "
                                 "with landlock in the lsm= list) and the jail policy requires "
                                 "it; refusing to run unconfined (set landlock to best_effort "
                                 "or off to accept that)");
        if (pl->landlock_abi == 0)
            agc_log(ctx, AGC_LOG_WARN, MOD,
                    "Landlock is unavailable on this kernel: the jail runs WITHOUT filesystem "
                    "rules (namespaces and seccomp only)");
    }
    pl->landlock_net = !policy->network && pl->landlock_abi >= 4;
    pl->ll_ro = policy->ro_paths;
    pl->ll_rw = policy->rw_paths;
    pl->hide = policy->deny_paths;
    pl->readonly = policy->readonly_paths;
    pl->private_tmp = policy->private_tmp;
    pl->cap_last = read_cap_last();
    add_rlimit(pl, RLIMIT_NOFILE, policy->rlimit_nofile, 256);
    add_rlimit(pl, RLIMIT_NPROC, policy->rlimit_nproc, 256);
    add_rlimit(pl, RLIMIT_CORE, UINT64_MAX - 1, 0);
    pl->rl_val[pl->n_rlimits - 1].rlim_cur = pl->rl_val[pl->n_rlimits - 1].rlim_max = 0;
    if (policy->rlimit_as)
        add_rlimit(pl, RLIMIT_AS, policy->rlimit_as, 0);
    if (policy->rlimit_cpu)
        add_rlimit(pl, RLIMIT_CPU, policy->rlimit_cpu, 0);
    if (policy->rlimit_fsize)
        add_rlimit(pl, RLIMIT_FSIZE, policy->rlimit_fsize, 0);
    pl->keep_fds = policy->keep_fds;
    pl->n_keep_fds = policy->n_keep_fds;
    uint64_t nproc = policy->rlimit_nproc ? policy->rlimit_nproc : 256;
    pl->pid_max = spawn ? (unsigned long)(nproc < 300       ? 301
                                          : nproc > 4000000 ? 4000001
                                                            : nproc + 1)
                        : 0;
    if (policy->namespaces != AGC_JAIL_OFF) {
        pl->clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
        if (spawn)
            pl->clone_flags |= CLONE_NEWPID;
        if (!policy->network && !policy->no_netns)
            pl->clone_flags |= CLONE_NEWNET;
    }
    snprintf(pl->uid_map, sizeof pl->uid_map, "%u %u 1\n", (unsigned)geteuid(),
             (unsigned)geteuid());
    snprintf(pl->gid_map, sizeof pl->gid_map, "%u %u 1\n", (unsigned)getegid(),
             (unsigned)getegid());
    if (!spawn && policy->seccomp) {
        pl->prog = policy->seccomp->prog;
        pl->prog_borrowed = true;
        return AGC_OK;
    }
    return agc__seccomp_build(pl, policy->network, spawn || policy->allow_exec,
                              !spawn && policy->seccomp_allowlist, ctx);
}

agc_status agc_jail_seccomp_new(agc_jail_seccomp **out, const agc_jail_policy *policy, agc_ctx *ctx)
{
    *out = NULL;
    agc_jail_seccomp *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    agc__jail_plan pl;
    memset(&pl, 0, sizeof pl);
    agc_status st = agc__seccomp_build(&pl, policy->network, policy->allow_exec,
                                       policy->seccomp_allowlist, ctx);
    if (st != AGC_OK) {
        agc_free(ctx, s);
        return st;
    }
    s->prog = pl.prog;
    *out = s;
    return AGC_OK;
}

void agc_jail_seccomp_free(agc_jail_seccomp *s, agc_ctx *ctx)
{
    if (!s)
        return;
    agc_free(ctx, s->prog.filter);
    agc_free(ctx, s);
}

/* After the namespaces are known: what needs the mount namespace. */
agc_status agc__jail_plan_check_mounts(agc__jail_plan *pl, const agc_jail_policy *policy,
                                       agc_ctx *ctx)
{
    bool mnt = pl->clone_flags & CLONE_NEWNS;
    pl->userns = pl->clone_flags & CLONE_NEWUSER;
    pl->mount_proc = mnt && (pl->clone_flags & CLONE_NEWPID);
    if (mnt)
        return AGC_OK;
    bool needs = !list_empty(policy->deny_paths) || !list_empty(policy->readonly_paths);
    if (needs && policy->namespaces == AGC_JAIL_REQUIRED)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MOD,
                             "the jail needs a mount namespace to hide denied paths, and none "
                             "can be created here");
    if (needs)
        agc_log(ctx, AGC_LOG_WARN, MOD,
                "no mount namespace: denied paths inside granted trees stay READABLE in the "
                "jail and read-only paths stay writable");
    pl->hide = NULL;
    pl->readonly = NULL;
    if (policy->private_tmp)
        agc_log(ctx, AGC_LOG_WARN, MOD, "no mount namespace: /tmp is the host's /tmp");
    pl->private_tmp = false;
    return AGC_OK;
}

unsigned agc__jail_plan_features(const agc__jail_plan *pl)
{
    unsigned f = AGC_JAIL_F_SECCOMP | AGC_JAIL_F_NO_NEW_PRIVS | AGC_JAIL_F_RLIMITS;
    int fl = pl->clone_flags;
    f |= (fl & CLONE_NEWUSER) ? AGC_JAIL_F_USERNS : 0;
    f |= (fl & CLONE_NEWNS) ? AGC_JAIL_F_MOUNTNS : 0;
    f |= (fl & CLONE_NEWPID) ? AGC_JAIL_F_PIDNS : 0;
    f |= (fl & CLONE_NEWNET) ? AGC_JAIL_F_NETNS : 0;
    f |= (fl & CLONE_NEWIPC) ? AGC_JAIL_F_IPCNS : 0;
    f |= (fl & CLONE_NEWUTS) ? AGC_JAIL_F_UTSNS : 0;
    f |= pl->landlock_abi ? AGC_JAIL_F_LANDLOCK : 0;
    f |= pl->landlock_net ? AGC_JAIL_F_LANDLOCK_NET : 0;
    f |= !list_empty(pl->hide) ? AGC_JAIL_F_HIDDEN : 0;
    f |= pl->private_tmp ? AGC_JAIL_F_PRIVATE_TMP : 0;
    f |= pl->mount_proc ? AGC_JAIL_F_PROC : 0;
    f |= pl->mount_proc && pl->pid_max ? AGC_JAIL_F_PID_MAX : 0;
    return f;
}

void agc__jail_report_fill(agc_jail_report *r, unsigned f, int abi)
{
    static const struct {
        unsigned bit;
        const char *name;
    } ns[] = {{AGC_JAIL_F_USERNS, "userns"}, {AGC_JAIL_F_MOUNTNS, "mountns"},
              {AGC_JAIL_F_PIDNS, "pidns"},   {AGC_JAIL_F_NETNS, "netns"},
              {AGC_JAIL_F_IPCNS, "ipcns"},   {AGC_JAIL_F_UTSNS, "utsns"}};
    memset(r, 0, sizeof *r);
    r->features = f;
    r->landlock_abi = (f & AGC_JAIL_F_LANDLOCK) ? abi : 0;
    size_t n = 0, cap = sizeof r->text;
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        if (f & ns[i].bit)
            n += (size_t)snprintf(r->text + n, cap - n, "%s%s", n ? "+" : "", ns[i].name);
    if (n == 0)
        n += (size_t)snprintf(r->text, cap, "no namespaces");
    if (f & AGC_JAIL_F_LANDLOCK)
        n += (size_t)snprintf(r->text + n, cap - n, ", landlock ABI %d", abi);
    else
        n += (size_t)snprintf(r->text + n, cap - n, ", no landlock");
    if (f & AGC_JAIL_F_SECCOMP)
        snprintf(r->text + n, cap - n, ", seccomp%s", (f & AGC_JAIL_F_NO_EXEC) ? " (no exec)" : "");
}

/* ---- the child ----------------------------------------------------------------------- */

typedef struct child_args {
    const agc__jail_plan *pl;
    int setup_w;  /* CLOEXEC; failure records */
    int status_w; /* init -> parent: the program's wait status */
    int stdio[3]; /* fds to install as 0, 1, 2 (in the parent's numbering) */
} child_args;

static void report_err(int fd, int step, int err, int index)
{
    agc__jail_err rec = {step, err, index};
    ssize_t w = write(fd, &rec, sizeof rec);
    (void)w;
}

static _Noreturn void child_fail(const child_args *a, int step, int err, int index)
{
    report_err(a->setup_w, step, err, index);
    _exit(127);
}

/* The program's process: stdio, fds, cwd, exec. */
static _Noreturn void run_program(const child_args *a)
{
    int tmp[3];
    for (int i = 0; i < 3; i++) {
        tmp[i] = fcntl(a->stdio[i], F_DUPFD_CLOEXEC, 3);
        if (tmp[i] < 0)
            child_fail(a, AGC__JS_STDIO, errno, i);
    }
    for (int i = 0; i < 3; i++)
        if (dup2(tmp[i], i) < 0)
            child_fail(a, AGC__JS_STDIO, errno, i);
    int s = a->setup_w;
    if (s > 3)
        close_range(3, (unsigned)s - 1, 0);
    close_range((unsigned)s + 1, ~0U, 0);
    if (chdir(a->pl->cwd) != 0)
        child_fail(a, AGC__JS_CHDIR, errno, -1);
    int err = ENOENT;
    for (size_t i = 0; a->pl->exec_paths[i]; i++) {
        execve(a->pl->exec_paths[i], a->pl->argv, a->pl->envp);
        if (errno != ENOENT && errno != ENOTDIR)
            err = errno; /* like execvp: remember EACCES, keep searching */
    }
    child_fail(a, AGC__JS_EXEC, err, -1);
}

/* The jail's first process: set up, start the program, reap, report. */
static _Noreturn void child_init(const child_args *a)
{
    const agc__jail_plan *pl = a->pl;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (pl->userns) {
        int e = agc__ns_write_maps(pl);
        if (e != 0)
            child_fail(a, AGC__JS_UIDMAP, e, -1);
    }
    if (pl->clone_flags & CLONE_NEWNS) {
        int step, index;
        int e = agc__ns_mounts(pl, &step, &index);
        if (e != 0)
            child_fail(a, step, e, index);
    }
    if (pl->mount_proc && pl->pid_max) {
        int e = agc__ns_cap_pids(pl);
        if (e != 0)
            report_err(a->setup_w, AGC__JS_PID_MAX, e, AGC__JAIL_WARNING);
    }
    setsid(); /* no controlling terminal; the jail is one process group */
    int step, index;
    int e = agc__ns_confine(pl, &step, &index);
    if (e != 0)
        child_fail(a, step, e, index);
    long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
    if (pid < 0)
        child_fail(a, AGC__JS_FORK, errno, -1);
    if (pid == 0) {
        close(a->status_w);
        run_program(a);
    }
    /* init keeps only the status pipe */
    int sw = a->status_w;
    if (sw > 0)
        close_range(0, (unsigned)sw - 1, 0);
    close_range((unsigned)sw + 1, ~0U, 0);
    int status = 0;
    for (;;) {
        int st;
        pid_t r = (pid_t)syscall(SYS_wait4, -1, &st, 0, NULL);
        if (r == (pid_t)pid) {
            status = st;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
    }
    ssize_t w = write(sw, &status, sizeof status);
    (void)w;
    if (!(pl->clone_flags & CLONE_NEWPID))
        kill(0, SIGKILL); /* no pid namespace: take the process group down */
    _exit(0);
}

/* ---- spawn --------------------------------------------------------------------------- */

long agc__jail_clone(int flags, int *pidfd)
{
    struct jail_clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = (uint64_t)(unsigned)flags | CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)pidfd;
    ca.exit_signal = SIGCHLD;
    return syscall(SYS_clone3, &ca, sizeof ca);
}

bool agc__jail_ns_refused(int e)
{
    return e == EPERM || e == EINVAL || e == ENOSPC || e == EUSERS || e == EACCES;
}

void agc__jail_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

agc_status agc__jail_setup_error(agc_ctx *ctx, const agc_jail_policy *policy,
                                 const char *const *argv, const agc__jail_err *rec)
{
    int step = rec->step > 0 && rec->step < AGC__JS_COUNT ? rec->step : 0;
    if (step == AGC__JS_EXEC && rec->err == ENOENT)
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                             "command '%s' not found in the jail (PATH is searched; no shell "
                             "is used)",
                             argv[0]);
    const char *what = NULL;
    if ((step == AGC__JS_HIDE) && rec->index >= 0)
        what = policy->deny_paths[rec->index];
    else if (step == AGC__JS_READONLY && rec->index >= 0)
        what = policy->readonly_paths[rec->index];
    if (step == AGC__JS_EXEC || step == AGC__JS_CHDIR)
        return agc_error_set(ctx, rec->err == EACCES ? AGC_EPERM : AGC_EIO, MOD,
                             "%s '%s' in the jail failed: %s%s", step_names[step],
                             step == AGC__JS_EXEC ? argv[0] : "", strerror(rec->err),
                             rec->err == EACCES ? " (is it inside ro_paths/rw_paths?)" : "");
    return agc_error_set(ctx, AGC_EPERM, MOD, "jail setup failed while %s%s%s%s: %s",
                         step_names[step], what ? " '" : "", what ? what : "", what ? "'" : "",
                         strerror(rec->err));
}

agc_status agc_jail_spawn(agc_jail_child **out, const agc_jail_policy *policy,
                          const char *const *argv, const char *cwd, const char *const *env,
                          const int stdio[3], agc_ctx *ctx)
{
    *out = NULL;
    if (!argv || !argv[0] || !argv[0][0])
        return agc_error_set(ctx, AGC_EINVAL, MOD, "agc_jail_spawn: empty argv");
    if (cwd && cwd[0] != '/')
        return agc_error_set(ctx, AGC_EINVAL, MOD, "agc_jail_spawn: cwd '%s' is not absolute", cwd);
    static const char *const no_env[] = {NULL};
    agc__jail_plan pl;
    agc_status st = agc__jail_plan_build(&pl, policy, true, ctx);
    if (st == AGC_OK)
        st = exec_candidates(&pl, argv[0], env, ctx);
    agc_jail_child *c = st == AGC_OK ? agc_calloc(ctx, 1, sizeof *c) : NULL;
    if (!c) {
        agc__jail_plan_free(&pl, ctx);
        return st == AGC_OK ? AGC_ENOMEM : st;
    }
    pl.argv = (char *const *)argv;
    pl.envp = (char *const *)(env ? env : no_env);
    pl.cwd = cwd ? cwd : "/";
    c->ctx = ctx;
    c->pidfd = c->status_fd = -1;
    c->fds[0] = c->fds[1] = c->fds[2] = -1;
    int setup[2] = {-1, -1}, status[2] = {-1, -1}, devnull = -1;
    int mine[3] = {-1, -1, -1}; /* child ends we created */
    child_args a;
    memset(&a, 0, sizeof a);
    if (pipe2(setup, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0 ||
        (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot create pipes: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < 3; i++) {
        int want = stdio ? stdio[i] : AGC_JAIL_NULL;
        if (want == AGC_JAIL_PIPE) {
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) {
                st = agc_error_set(ctx, AGC_EIO, MOD, "cannot create pipes: %s", strerror(errno));
                goto fail;
            }
            c->fds[i] = i == 0 ? p[1] : p[0];
            mine[i] = i == 0 ? p[0] : p[1];
            a.stdio[i] = mine[i];
        } else if (want == AGC_JAIL_STDOUT && i == 2) {
            a.stdio[i] = a.stdio[1];
        } else if (want < 0) {
            a.stdio[i] = devnull;
        } else {
            a.stdio[i] = want;
        }
    }
    a.pl = &pl;
    a.setup_w = setup[1];
    a.status_w = status[1];
    int flags = pl.clone_flags;
    long pid = -1;
    for (;;) {
        c->pidfd = -1;
        pid = agc__jail_clone(flags, &c->pidfd);
        if (pid >= 0 || flags == 0 || !agc__jail_ns_refused(errno) ||
            policy->namespaces == AGC_JAIL_REQUIRED)
            break;
        int e = errno;
        int fewer = (geteuid() == 0 && (flags & CLONE_NEWUSER)) ? flags & ~CLONE_NEWUSER : 0;
        agc_log(ctx, AGC_LOG_WARN, MOD, "cannot create %s namespaces (%s); trying %s",
                (flags & CLONE_NEWUSER) ? "user" : "the", strerror(e),
                fewer ? "without a user namespace" : "without namespaces");
        flags = fewer;
    }
    if (pid < 0) {
        st = agc_error_set(ctx, agc__jail_ns_refused(errno) ? AGC_EUNSUPPORTED : AGC_EIO, MOD,
                           "cannot start the jail (clone3 with namespaces): %s%s", strerror(errno),
                           policy->namespaces == AGC_JAIL_REQUIRED
                               ? "; the policy requires namespaces (unprivileged user "
                                 "namespaces may be disabled by sysctl or AppArmor)"
                               : "");
        goto fail;
    }
    if (pid == 0) {
        pl.clone_flags = flags;
        pl.userns = flags & CLONE_NEWUSER;
        pl.mount_proc = (flags & CLONE_NEWNS) && (flags & CLONE_NEWPID);
        if (!(flags & CLONE_NEWNS)) {
            pl.hide = pl.readonly = NULL;
            pl.private_tmp = false;
        }
        child_init(&a);
    }
    c->pid = (pid_t)pid;
    pl.clone_flags = flags;
    c->pidns = flags & CLONE_NEWPID;
    agc__jail_close_fd(&setup[1]);
    agc__jail_close_fd(&status[1]);
    for (int i = 0; i < 3; i++)
        agc__jail_close_fd(&mine[i]);
    agc__jail_close_fd(&devnull);
    c->status_fd = status[0];
    status[0] = -1;
    /* the checks that depend on the namespaces obtained (logged or refused) */
    agc__jail_plan check = pl;
    st = agc__jail_plan_check_mounts(&check, policy, ctx);
    unsigned lost = 0;
    for (;;) {
        agc__jail_err rec;
        ssize_t n;
        do {
            n = read(setup[0], &rec, sizeof rec);
        } while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof rec && rec.index == AGC__JAIL_WARNING) {
            int step = rec.step > 0 && rec.step < AGC__JS_COUNT ? rec.step : 0;
            agc_log(ctx, AGC_LOG_WARN, MOD, "jail: %s failed (%s); continuing without it%s",
                    step_names[step], strerror(rec.err),
                    step == AGC__JS_PID_MAX ? " (Linux < 6.14: only RLIMIT_NPROC and the "
                                              "timeout stop a fork bomb)"
                                            : "");
            lost |= step == AGC__JS_PID_MAX ? AGC_JAIL_F_PID_MAX : 0;
            continue;
        }
        if (n == (ssize_t)sizeof rec && st == AGC_OK)
            st = agc__jail_setup_error(ctx, policy, argv, &rec);
        else if (n != 0 && st == AGC_OK)
            st = agc_error_set(ctx, AGC_EIO, MOD, "jail setup: cannot read the setup pipe: %s",
                               n < 0 ? strerror(errno) : "short read");
        break;
    }
    agc__jail_close_fd(&setup[0]);
    if (st != AGC_OK)
        goto fail;
    agc__jail_report_fill(&c->report, agc__jail_plan_features(&check) & ~lost, pl.landlock_abi);
    agc__jail_plan_free(&pl, ctx);
    agc_log(ctx, AGC_LOG_DEBUG, MOD, "jail %d started: %s", (int)c->pid, c->report.text);
    *out = c;
    return AGC_OK;
fail:
    agc__jail_close_fd(&setup[0]);
    agc__jail_close_fd(&setup[1]);
    agc__jail_close_fd(&status[0]);
    agc__jail_close_fd(&status[1]);
    agc__jail_close_fd(&devnull);
    for (int i = 0; i < 3; i++)
        agc__jail_close_fd(&mine[i]);
    agc__jail_plan_free(&pl, ctx);
    agc_jail_free(c); /* kills and reaps a started child */
    return st;
}

/* ---- the handle ---------------------------------------------------------------------- */

pid_t agc_jail_child_pid(const agc_jail_child *child)
{
    return child->pid;
}

int agc_jail_child_pidfd(const agc_jail_child *child)
{
    return child->pidfd;
}

int agc_jail_child_fd(const agc_jail_child *child, int which)
{
    return which >= 0 && which < 3 ? child->fds[which] : -1;
}

int agc_jail_child_take_fd(agc_jail_child *child, int which)
{
    if (which < 0 || which >= 3)
        return -1;
    int fd = child->fds[which];
    child->fds[which] = -1;
    return fd;
}

const agc_jail_report *agc_jail_child_report(const agc_jail_child *child)
{
    return &child->report;
}

void agc_jail_kill(agc_jail_child *child)
{
    if (!child || child->done || child->pid <= 0)
        return;
    if (child->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0);
    else
        kill(child->pid, SIGKILL);
    if (!child->pidns)
        kill(-child->pid, SIGKILL); /* the jail's process group (init called setsid) */
}

/* Reaps init (blocking). Returns its raw wait status, or -1. */
static int reap(agc_jail_child *c)
{
    int st = 0;
    pid_t r;
    do {
        r = waitpid(c->pid, &st, 0);
    } while (r < 0 && errno == EINTR);
    c->done = true;
    return r == c->pid ? st : -1;
}

agc_status agc_jail_wait(agc_jail_exit *out, agc_jail_child *child, int64_t deadline_ns)
{
    agc_ctx *ctx = child->ctx;
    memset(out, 0, sizeof *out);
    out->code = -1;
    if (child->done)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "agc_jail_wait: the jail was already waited for");
    for (;;) {
        int timeout = -1;
        if (deadline_ns > 0) {
            int64_t left = deadline_ns - agc_clock_monotonic_ns(ctx);
            if (left <= 0) {
                out->timed_out = true;
                break;
            }
            int64_t ms = left / 1000000 + 1;
            timeout = ms > 60000 ? 60000 : (int)ms;
        }
        struct pollfd p = {child->pidfd, POLLIN, 0};
        int rc = poll(&p, 1, timeout);
        if (rc > 0)
            break;
        if (rc < 0 && errno != EINTR)
            return agc_error_set(ctx, AGC_EIO, MOD, "waiting for the jail: %s", strerror(errno));
    }
    if (out->timed_out)
        agc_jail_kill(child);
    else if (!child->pidns)
        kill(-child->pid, SIGKILL); /* leftovers of the group (init usually did this) */
    int init_status = reap(child);
    int status = 0;
    ssize_t n = -1;
    if (child->status_fd >= 0) {
        fcntl(child->status_fd, F_SETFL, O_NONBLOCK);
        n = read(child->status_fd, &status, sizeof status);
    }
    if (out->timed_out || n != (ssize_t)sizeof status) {
        /* init was killed (timeout, agc_jail_kill, or from outside) */
        out->signal = WIFSIGNALED(init_status) ? WTERMSIG(init_status) : SIGKILL;
    } else if (WIFEXITED(status)) {
        out->code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        out->signal = WTERMSIG(status);
    }
    agc__jail_close_fd(&child->status_fd);
    for (int i = 0; i < 3; i++)
        agc__jail_close_fd(&child->fds[i]);
    return AGC_OK;
}

void agc_jail_free(agc_jail_child *child)
{
    if (!child)
        return;
    if (!child->done && child->pid > 0) {
        agc_jail_kill(child);
        reap(child);
    }
    agc__jail_close_fd(&child->pidfd);
    agc__jail_close_fd(&child->status_fd);
    for (int i = 0; i < 3; i++)
        agc__jail_close_fd(&child->fds[i]);
    agc_free(child->ctx, child);
}
