/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * run_command {argv, cwd?, timeout_seconds?, stdin?, merge_stderr?}: runs a
 * program (no shell), cwd confined to the workspace at start, environment
 * scrubbed (PATH, HOME, LANG, LC_*, TERM, TMPDIR and allowed names; never
 * names that look like secrets). By default (when the kernel has Landlock)
 * the program runs in the OS jail (jail.h): workspace writable, .git and read-denied paths hidden,
 * system directories read-only, nothing else, no network. Unjailed it runs in its own process group
 * (posix_spawnp). On timeout or cancel the group gets SIGTERM, then SIGKILL; when the program
 * exits, what is left is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/jail.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "tools_int.h"

extern char **environ;

#define MOD               "run_command"
#define DEFAULT_TIMEOUT_S 120
#define MAX_TIMEOUT_S     3600
#define KILL_GRACE_NS     2000000000LL

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"argv\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"string\"},\"description\":"
    "\"Program and arguments, e.g. [\\\"make\\\", \\\"test\\\"]; no shell is involved\"},"
    "\"cwd\":{\"type\":\"string\",\"description\":\"Working directory relative to the workspace "
    "root (default: the root)\"},"
    "\"timeout_seconds\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"maximum\":3600,"
    "\"description\":\"Kill the command after this long (default 120)\"},"
    "\"stdin\":{\"type\":\"string\",\"description\":\"Text given on standard input (default: "
    "none)\"},"
    "\"merge_stderr\":{\"type\":\"boolean\",\"description\":\"Send stderr into stdout (default "
    "false)\"}},"
    "\"required\":[\"argv\"],\"additionalProperties\":false}";

static const char *const base_env[] = {"PATH", "HOME", "LANG", "TERM", "TMPDIR", NULL};

static bool has_suffix(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && strncmp(s + n - m, suf, m) == 0;
}

static bool contains(const char *s, size_t n, const char *sub)
{
    size_t m = strlen(sub);
    for (size_t i = 0; i + m <= n; i++)
        if (strncmp(s + i, sub, m) == 0)
            return true;
    return false;
}

/* Whether a variable name looks like it carries a credential (never passed). */
static bool secret_name(const char *name, size_t n)
{
    char up[256];
    if (n >= sizeof up)
        return true;
    for (size_t i = 0; i < n; i++)
        up[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
    return has_suffix(up, n, "_KEY") || has_suffix(up, n, "_KEYS") || strncmp(up, "AWS_", 4) == 0 ||
           contains(up, n, "TOKEN") || contains(up, n, "SECRET") || contains(up, n, "PASSWORD") ||
           contains(up, n, "PASSWD") || contains(up, n, "CREDENTIAL") ||
           contains(up, n, "API_KEY") || contains(up, n, "APIKEY") || contains(up, n, "AUTH");
}

static bool allowed_name(const char *name, size_t n, const char *const *extra)
{
    if (secret_name(name, n))
        return false;
    if (n > 3 && strncmp(name, "LC_", 3) == 0)
        return true;
    for (size_t i = 0; base_env[i]; i++)
        if (strlen(base_env[i]) == n && strncmp(base_env[i], name, n) == 0)
            return true;
    for (size_t i = 0; extra && extra[i]; i++)
        if (strlen(extra[i]) == n && strncmp(extra[i], name, n) == 0)
            return true;
    return false;
}

/* The scrubbed environment: borrowed strings from environ, NULL-terminated. */
static agc_status build_env(char ***out, const char *const *extra, agc_ctx *ctx)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = agc_calloc(ctx, n + 2, sizeof *env);
    if (!env)
        return AGC_ENOMEM;
    size_t k = 0;
    bool have_path = false;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        if (!eq)
            continue;
        size_t len = (size_t)(eq - environ[i]);
        if (!allowed_name(environ[i], len, extra))
            continue;
        have_path |= len == 4 && strncmp(environ[i], "PATH", 4) == 0;
        env[k++] = environ[i];
    }
    if (!have_path)
        env[k++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin";
    *out = env;
    return AGC_OK;
}

typedef struct stream {
    int fd;
    agc_buf buf; /* first cap bytes */
    size_t total;
} stream;

typedef struct run {
    agc_ctx *ctx;
    pid_t pid;
    int pidfd;
    int in_fd;
    const char *in_data;
    size_t in_len, in_off;
    stream out, err;
    size_t cap;
    bool exited, timed_out, canceled;
    int status;
} run;

static void drain(run *r, stream *s)
{
    char chunk[16384];
    for (;;) {
        ssize_t n = read(s->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                close(s->fd);
                s->fd = -1;
            }
            return;
        }
        size_t room = r->cap > s->buf.len ? r->cap - s->buf.len : 0;
        if (room > 0 &&
            agc_buf_append(&s->buf, chunk, (size_t)n < room ? (size_t)n : room) != AGC_OK)
            room = 0; /* out of memory: keep counting, stop collecting */
        s->total += (size_t)n;
    }
}

static void feed(run *r)
{
    while (r->in_off < r->in_len) {
        ssize_t n = write(r->in_fd, r->in_data + r->in_off, r->in_len - r->in_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0)
            break; /* EPIPE: the program does not read */
        r->in_off += (size_t)n;
    }
    close(r->in_fd);
    r->in_fd = -1;
}

static bool leader_exited(run *r)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc = waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if (rc != 0 && errno == ECHILD)
        return true; /* reaped behind our back (SIGCHLD ignored by the embedder) */
    return rc == 0 && si.si_pid == r->pid;
}

/*
 * Polls pipes and the child until it exited and the pipes reached EOF, or
 * the deadline, or (cctx not NULL) cancellation. After the leader exits the
 * rest of its group is killed and draining gets at most one more second.
 */
static void pump(run *r, int64_t deadline, const agc_tool_call_ctx *cctx)
{
    for (;;) {
        if (!r->exited && leader_exited(r)) {
            r->exited = true;
            kill(-r->pid, SIGKILL); /* leftovers of the group; the zombie keeps the pgid */
            int64_t soon = agc_clock_monotonic_ns(r->ctx) + 1000000000LL;
            deadline = soon < deadline ? soon : deadline;
        }
        if (r->exited && r->out.fd < 0 && r->err.fd < 0)
            return;
        int64_t now = agc_clock_monotonic_ns(r->ctx);
        if (now >= deadline)
            return;
        if (cctx && cctx->cancel && atomic_load(cctx->cancel)) {
            r->canceled = true;
            return;
        }
        struct pollfd p[4];
        int np = 0;
        if (r->out.fd >= 0)
            p[np++] = (struct pollfd){r->out.fd, POLLIN, 0};
        if (r->err.fd >= 0)
            p[np++] = (struct pollfd){r->err.fd, POLLIN, 0};
        if (r->in_fd >= 0)
            p[np++] = (struct pollfd){r->in_fd, POLLOUT, 0};
        if (r->pidfd >= 0 && !r->exited)
            p[np++] = (struct pollfd){r->pidfd, POLLIN, 0};
        int64_t wait_ms = (deadline - now) / 1000000 + 1;
        int limit = r->pidfd >= 0 ? 100 : 20;
        int rc = poll(p, (nfds_t)np, wait_ms < limit ? (int)wait_ms : limit);
        if (rc < 0 && errno != EINTR)
            return;
        if (r->out.fd >= 0)
            drain(r, &r->out);
        if (r->err.fd >= 0)
            drain(r, &r->err);
        if (r->in_fd >= 0)
            feed(r);
    }
}

/* SIGTERM to the group, a grace period, then SIGKILL. */
static void stop_group(run *r)
{
    kill(-r->pid, SIGTERM);
    int64_t grace = agc_clock_monotonic_ns(r->ctx) + KILL_GRACE_NS;
    while (!leader_exited(r) && agc_clock_monotonic_ns(r->ctx) < grace) {
        struct pollfd p = {r->pidfd, POLLIN, 0};
        if (r->pidfd >= 0)
            poll(&p, 1, 50);
        else
            usleep(20000);
    }
    kill(-r->pid, SIGKILL);
}

static agc_status spawn(run *r, char **argv, char **env, int cwdfd, bool merge, bool has_stdin)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    agc_status st = AGC_OK;
    if ((has_stdin && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0 ||
        (!merge && pipe2(err, O_CLOEXEC) != 0)) {
        st = agc_error_set(r->ctx, AGC_EIO, MOD, "cannot create pipes: %s", strerror(errno));
        goto close_all;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    if (has_stdin)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, merge ? out[1] : err[1], 2);
    posix_spawn_file_actions_addfchdir_np(&fa, cwdfd);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    int rc = posix_spawnp(&r->pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        st = rc == ENOENT ? agc_error_set(r->ctx, AGC_ENOTFOUND, MOD,
                                          "command '%s' not found (PATH is searched; no shell "
                                          "is used)",
                                          argv[0])
                          : agc_error_set(r->ctx, AGC_EIO, MOD, "cannot run '%s': %s", argv[0],
                                          strerror(rc));
        goto close_all;
    }
    r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
    r->in_fd = in[1];
    r->out.fd = out[0];
    r->err.fd = err[0];
    in[1] = out[0] = err[0] = -1;
    if (r->in_fd >= 0)
        fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
    fcntl(r->out.fd, F_SETFL, O_NONBLOCK);
    if (r->err.fd >= 0)
        fcntl(r->err.fd, F_SETFL, O_NONBLOCK);
close_all:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
    }
    return st;
}

/* Appends n of s's bytes and, when cut, the notice. */
static agc_status put_stream(agc_buf *b, const stream *s, size_t n, const char *what)
{
    agc_status st = agc_buf_append(b, s->buf.data ? s->buf.data : "", n);
    if (st == AGC_OK && n > 0 && s->buf.data[n - 1] != '\n')
        st = agc_buf_putc(b, '\n');
    if (st == AGC_OK && n < s->total)
        st = agc_buf_printf(b, "[%s truncated: %zu of %zu bytes shown]\n", what, n, s->total);
    return st;
}

static agc_status report(agc_tool_result *out, run *r, double timeout_s, agc_ctx *ctx)
{
    size_t budget = r->cap > 1024 ? r->cap - 512 : r->cap;
    size_t el = r->err.buf.len, ol = r->out.buf.len;
    size_t out_show = ol < budget - (el < budget / 2 ? el : budget / 2)
                          ? ol
                          : budget - (el < budget / 2 ? el : budget / 2);
    size_t err_show = el < budget - out_show ? el : budget - out_show;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = put_stream(&b, &r->out, out_show, "output");
    if (st == AGC_OK && r->err.total > 0) {
        st = agc_buf_puts(&b, "[stderr]\n");
        if (st == AGC_OK)
            st = put_stream(&b, &r->err, err_show, "stderr");
    }
    int code = -1, sig = 0;
    if (WIFEXITED(r->status))
        code = WEXITSTATUS(r->status);
    else if (WIFSIGNALED(r->status))
        sig = WTERMSIG(r->status);
    if (st == AGC_OK) {
        if (r->timed_out)
            st = agc_buf_printf(&b, "[timed out after %.3g s; the process group was killed]",
                                timeout_s);
        else if (r->canceled)
            st = agc_buf_puts(&b, "[canceled; the process group was killed]");
        else if (sig)
            st = agc_buf_printf(&b, "[killed by signal %d]", sig);
        else
            st = agc_buf_printf(&b, "[exit status %d]", code);
    }
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
    agc_buf_free(&b);
    if (st != AGC_OK)
        return st;
    out->is_error = r->timed_out || r->canceled || sig != 0;
    agc_ctx *prev = agc_json_enter(ctx);
    out->structured = json_pack(
        "{s:o, s:o, s:b, s:I, s:I}", "exit_code", code >= 0 ? json_integer(code) : json_null(),
        "signal", sig ? json_integer(sig) : json_null(), "timed_out", r->timed_out, "stdout_bytes",
        (json_int_t)r->out.total, "stderr_bytes", (json_int_t)r->err.total);
    agc_json_leave(prev);
    return out->structured ? AGC_OK : AGC_ENOMEM;
}

/* ---- the jail ------------------------------------------------------------------------ */

typedef struct rc_tool {
    agc_workspace *ws;
    agc_run_jail mode;
    bool network;
    char **ro, **rw; /* extra grants, NULL-terminated (owned) */
    int probed;      /* 0: not yet; 1: Landlock available; -1: not */
} rc_tool;

static const char *const sys_ro[] = {"/usr",    "/bin", "/sbin", "/lib",  "/lib32", "/lib64",
                                     "/libx32", "/etc", "/opt",  "/proc", NULL};

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static agc_status sv_add(strvec *sv, char *s, agc_ctx *ctx)
{
    if (!s)
        return AGC_ENOMEM;
    if (sv->n + 2 > sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 16;
        char **nv = agc_realloc(ctx, sv->v, nc * sizeof *nv);
        if (!nv) {
            agc_free(ctx, s);
            return AGC_ENOMEM;
        }
        sv->v = nv;
        sv->cap = nc;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return AGC_OK;
}

static void sv_free(strvec *sv, agc_ctx *ctx)
{
    for (size_t i = 0; i < sv->n; i++)
        agc_free(ctx, sv->v[i]);
    agc_free(ctx, sv->v);
    memset(sv, 0, sizeof *sv);
}

typedef struct deny_walk {
    agc_workspace *ws;
    agc_ctx *ctx;
    strvec hide, readonly;
} deny_walk;

/* Collects what the jail must hide (.git, read-denied) or make read-only. */
static agc_status deny_visit(agc__walk_rc *rc, const char *rel, const char *full,
                             agc__walk_type type, int dirfd, const char *name, void *user)
{
    (void)rel;
    (void)dirfd;
    deny_walk *w = user;
    *rc = AGC__W_CONTINUE;
    if (type == AGC__W_LINK)
        return AGC_OK; /* not followed; a link's target is ruled by its own path */
    strvec *to = NULL;
    if (strcmp(name, ".git") == 0 || agc__ws_denied(w->ws, full, AGC_WS_READ))
        to = &w->hide;
    else if (agc__ws_denied(w->ws, full, AGC_WS_WRITE))
        to = &w->readonly;
    if (!to)
        return AGC_OK;
    *rc = AGC__W_SKIP;
    return sv_add(to, agc_sprintf(w->ctx, "%s/%s", agc_workspace_root(w->ws), full), w->ctx);
}

/* Whether to jail this call; a warning once when AUTO finds no Landlock. */
static bool want_jail(rc_tool *t, agc_ctx *ctx)
{
    if (t->mode == AGC_RUN_JAIL_OFF)
        return false;
    if (t->mode == AGC_RUN_JAIL_REQUIRED)
        return true;
    if (t->probed == 0) {
        t->probed = agc_jail_landlock_abi() > 0 ? 1 : -1;
        if (t->probed < 0)
            agc_log(ctx, AGC_LOG_WARN, MOD,
                    "Landlock is unavailable: run_command runs programs UNJAILED (they can "
                    "read and write anything the user can)");
    }
    return t->probed > 0;
}

/* Starts argv in the jail; fills r's pid, pidfd and pipes. */
static agc_status spawn_jailed(run *r, agc_jail_child **jc_out, rc_tool *t, char **argv, char **env,
                               const char *cwd_rel, bool merge, bool has_stdin,
                               const agc_tool_call_ctx *cctx)
{
    agc_ctx *ctx = r->ctx;
    const char *root = agc_workspace_root(t->ws);
    deny_walk w = {t->ws, ctx, {0}, {0}};
    strvec ro = {0}, rw = {0};
    char *cwd = NULL;
    bool capped = false;
    agc_status st = agc__ws_walk(t->ws, ".", true, deny_visit, &w, &capped, cctx);
    if (capped)
        agc_log(ctx, AGC_LOG_WARN, MOD,
                "the workspace has more entries than the walk limit: denied paths beyond it "
                "are not hidden from the jailed command");
    for (size_t i = 0; st == AGC_OK && sys_ro[i]; i++)
        st = sv_add(&ro, agc_strdup(ctx, sys_ro[i]), ctx);
    for (size_t i = 0; st == AGC_OK && t->ro && t->ro[i]; i++)
        st = sv_add(&ro, agc_strdup(ctx, t->ro[i]), ctx);
    if (st == AGC_OK)
        st = sv_add(&rw, agc_strdup(ctx, root), ctx);
    for (size_t i = 0; st == AGC_OK && t->rw && t->rw[i]; i++)
        st = sv_add(&rw, agc_strdup(ctx, t->rw[i]), ctx);
    if (st == AGC_OK) {
        cwd = strcmp(cwd_rel, ".") == 0 ? agc_strdup(ctx, root)
                                        : agc_sprintf(ctx, "%s/%s", root, cwd_rel);
        st = cwd ? AGC_OK : AGC_ENOMEM;
    }
    if (st == AGC_OK) {
        agc_jail_policy pol = AGC_JAIL_POLICY_INIT;
        pol.ro_paths = (const char *const *)ro.v;
        pol.rw_paths = (const char *const *)rw.v;
        pol.deny_paths = (const char *const *)w.hide.v;
        pol.readonly_paths = (const char *const *)w.readonly.v;
        pol.network = t->network;
        pol.private_tmp = true;
        pol.rlimit_nproc = 512;
        pol.rlimit_nofile = 4096;
        if (t->mode == AGC_RUN_JAIL_REQUIRED)
            pol.landlock = pol.namespaces = AGC_JAIL_REQUIRED;
        int stdio[3] = {has_stdin ? AGC_JAIL_PIPE : AGC_JAIL_NULL, AGC_JAIL_PIPE,
                        merge ? AGC_JAIL_STDOUT : AGC_JAIL_PIPE};
        st = agc_jail_spawn(jc_out, &pol, (const char *const *)argv, cwd, (const char *const *)env,
                            stdio, ctx);
    }
    if (st == AGC_OK) {
        agc_jail_child *jc = *jc_out;
        r->pid = agc_jail_child_pid(jc);
        r->pidfd = agc_jail_child_pidfd(jc);
        r->in_fd = agc_jail_child_take_fd(jc, 0);
        r->out.fd = agc_jail_child_take_fd(jc, 1);
        r->err.fd = agc_jail_child_take_fd(jc, 2);
        if (r->in_fd >= 0)
            fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
        fcntl(r->out.fd, F_SETFL, O_NONBLOCK);
        if (r->err.fd >= 0)
            fcntl(r->err.fd, F_SETFL, O_NONBLOCK);
    }
    sv_free(&w.hide, ctx);
    sv_free(&w.readonly, ctx);
    sv_free(&ro, ctx);
    sv_free(&rw, ctx);
    agc_free(ctx, cwd);
    return st;
}

static agc_status run_command_call(void *self, const json_t *args, agc_tool_result *out,
                                   agc_tool_call_ctx *cctx)
{
    rc_tool *t = self;
    agc_workspace *ws = t->ws;
    agc_ctx *ctx = cctx->ctx;
    const json_t *jargv = json_object_get(args, "argv");
    size_t argc = json_array_size(jargv);
    double timeout_s = agc_json_num(args, "timeout_seconds", DEFAULT_TIMEOUT_S);
    bool merge = agc_json_bool(args, "merge_stderr", false);
    const json_t *jin = json_object_get(args, "stdin");
    int cwdfd = -1;
    agc_status st = agc_workspace_open_file(&cwdfd, ws, agc_json_str(args, "cwd", "."),
                                            O_RDONLY | O_DIRECTORY, 0, AGC_WS_READ, ctx);
    if (st != AGC_OK)
        return st;
    char **argv = agc_calloc(ctx, argc + 1, sizeof *argv);
    char **env = NULL;
    if (!argv || build_env(&env, agc__ws_env_allow(ws), ctx) != AGC_OK) {
        close(cwdfd);
        agc_free(ctx, argv);
        return AGC_ENOMEM;
    }
    for (size_t i = 0; i < argc; i++)
        argv[i] = (char *)json_string_value(json_array_get(jargv, i));
    run r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    r.pidfd = r.in_fd = r.out.fd = r.err.fd = -1;
    r.cap = cctx->output_cap ? cctx->output_cap : AGC_TOOL_DEFAULT_OUTPUT_CAP;
    r.in_data = json_string_value(jin);
    r.in_len = json_string_length(jin);
    agc_buf_init(&r.out.buf, ctx, 0);
    agc_buf_init(&r.err.buf, ctx, 0);
    int64_t now = agc_clock_monotonic_ns(ctx);
    int64_t deadline = now + (int64_t)(timeout_s * 1e9);
    if (cctx->deadline_ns > 0 && cctx->deadline_ns < deadline) {
        deadline = cctx->deadline_ns; /* the caller's deadline is earlier */
        timeout_s = (double)(deadline - now) / 1e9;
    }
    /* Writing to a closed stdin pipe must not kill us: block SIGPIPE meanwhile. */
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    agc_jail_child *jc = NULL;
    if (want_jail(t, ctx)) {
        char *rel = NULL;
        st = agc__ws_fd_relpath(&rel, ws, cwdfd, ctx);
        if (st == AGC_OK)
            st = spawn_jailed(&r, &jc, t, argv, env, rel, merge, jin != NULL, cctx);
        agc_free(ctx, rel);
    } else {
        st = spawn(&r, argv, env, cwdfd, merge, jin != NULL);
    }
    close(cwdfd);
    if (st == AGC_OK) {
        pump(&r, deadline, cctx);
        if (!r.exited) {
            r.timed_out = !r.canceled;
            stop_group(&r);
        }
        /* collect what is left in the pipes (the group is dead or dying) */
        pump(&r, agc_clock_monotonic_ns(ctx) + 1000000000LL, NULL);
        if (jc) {
            agc_jail_exit ex;
            r.pidfd = -1; /* the jail's */
            if (agc_jail_wait(&ex, jc, agc_clock_monotonic_ns(ctx) + 2000000000LL) == AGC_OK)
                r.status = ex.signal ? ex.signal : (ex.code & 0xff) << 8;
        } else {
            while (waitpid(r.pid, &r.status, 0) < 0 && errno == EINTR)
                ;
        }
        if (r.in_fd >= 0)
            close(r.in_fd);
        if (r.out.fd >= 0)
            close(r.out.fd);
        if (r.err.fd >= 0)
            close(r.err.fd);
        if (r.pidfd >= 0)
            close(r.pidfd);
        st = report(out, &r, timeout_s, ctx);
        if (st == AGC_OK) {
            agc_ctx *prev = agc_json_enter(ctx);
            json_t *sb = jc ? json_string(agc_jail_child_report(jc)->text) : json_null();
            if (!sb || json_object_set_new(out->structured, "sandbox", sb) != 0)
                st = AGC_ENOMEM;
            agc_json_leave(prev);
        }
        if (st == AGC_OK && r.canceled)
            st = agc_error_set(ctx, AGC_ECANCELED, MOD, "the command was canceled");
    }
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    agc_jail_free(jc);
    agc_buf_free(&r.out.buf);
    agc_buf_free(&r.err.buf);
    agc_free(ctx, argv);
    agc_free(ctx, env);
    return st;
}

static void run_command_destroy(void *self)
{
    rc_tool *t = self;
    agc_ctx *ctx = agc__ws_ctx(t->ws);
    for (int l = 0; l < 2; l++) {
        char **v = l ? t->rw : t->ro;
        for (size_t i = 0; v && v[i]; i++)
            agc_free(ctx, v[i]);
        agc_free(ctx, v);
    }
    agc__ws_unref(t->ws);
    agc_free(ctx, t);
}

static const agc_tool_ops run_command_ops = {
    AGC_TOOL_OPS_VERSION,
    run_command_call,
    run_command_destroy,
};

void agc_run_command_opts_init(agc_run_command_opts *opts)
{
    agc_run_command_opts o = AGC_RUN_COMMAND_OPTS_INIT;
    *opts = o;
}

static agc_status copy_paths(char ***out, const char *const *src, agc_ctx *ctx)
{
    size_t n = 0;
    while (src && src[n]) {
        if (src[n][0] != '/')
            return agc_error_set(ctx, AGC_EINVAL, MOD, "run_command jail path '%s' is not absolute",
                                 src[n]);
        n++;
    }
    *out = agc_calloc(ctx, n + 1, sizeof **out);
    if (!*out)
        return AGC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!((*out)[i] = agc_strdup(ctx, src[i])))
            return AGC_ENOMEM;
    return AGC_OK;
}

agc_status agc_workspace_run_command_new(agc_tool **out, agc_workspace *ws,
                                         const agc_run_command_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_run_command_opts dflt = AGC_RUN_COMMAND_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_RUN_COMMAND_OPTS_VERSION || opts->jail > AGC_RUN_JAIL_REQUIRED)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "run_command opts: unknown version %u or jail mode; use "
                             "AGC_RUN_COMMAND_OPTS_INIT",
                             opts->version);
    rc_tool *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t)
        return AGC_ENOMEM;
    agc__ws_ref(ws);
    t->ws = ws;
    t->mode = opts->jail;
    t->network = opts->network;
    agc_status st = copy_paths(&t->ro, opts->ro_paths, ctx);
    if (st == AGC_OK)
        st = copy_paths(&t->rw, opts->rw_paths, ctx);
    json_t *schema_json = NULL;
    if (st == AGC_OK)
        st = agc_json_parse(&schema_json, schema, strlen(schema), "run_command", ctx);
    if (st != AGC_OK) {
        run_command_destroy(t);
        return st;
    }
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = "run_command";
    spec.description = "Run a program in the workspace (argv list, no shell) and return its "
                       "output and exit status. Use [\"sh\", \"-c\", \"...\"] for pipelines.";
    spec.input_schema = schema_json;
    spec.effect = AGC_TOOL_EFFECT_EXEC;
    spec.approval = AGC_TOOL_APPROVE_ASK;
    spec.timeout_ms = (int64_t)(MAX_TIMEOUT_S + 10) * 1000;
    st = agc_tool_new(out, &run_command_ops, t, &spec, ctx); /* destroys t on failure */
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema_json);
    agc_json_leave(prev);
    return st;
}

agc_status agc__tool_run_command_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc_workspace_run_command_new(out, ws, NULL, ctx);
}
