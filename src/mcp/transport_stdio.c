/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The stdio transport: newline-delimited JSON over pipes. Client side spawns
 * the server (own process group, stdin/stdout/stderr on pipes, stderr lines
 * logged), server side uses given fds. Invariants: a line over the cap is
 * discarded and reported as AGC_ELIMIT without ending the connection; a
 * write never dies of SIGPIPE; writing also drains the peer's output so
 * the two sides cannot deadlock on full pipes. Closing a child: close its
 * stdin, wait, SIGTERM, wait, SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/log.h"
#include "mcp_int.h"

#define MOD          AGC__MCP_MOD
#define CHUNK        65536
#define ERR_LINE_MAX 4096

extern char **environ;

typedef struct stdio_t {
    agc_ctx *ctx;
    char name[128];
    int rfd, wfd, efd; /* -1 once closed */
    bool own_fds;
    pid_t pid; /* 0: not a child */
    int pidfd;
    bool reaped;
    int code, sig;
    agc_mcp_stdio_stop stop;
    size_t max;
    int64_t grace_ms, write_timeout_ms;
    agc_log_level err_level;
    agc_buf in; /* complete lines in [rpos, line_start), then a partial line */
    size_t rpos, line_start;
    bool discarding;    /* inside an over-cap line */
    bool overflow;      /* an over-cap line was dropped and not yet reported */
    size_t overflow_at; /* where it was in the buffer (reported in order) */
    size_t overflow_bytes;
    bool eof;
    agc_buf err; /* partial stderr line */
    bool err_skip;
} stdio_t;

static int64_t now_ms(stdio_t *t)
{
    return agc_clock_monotonic_ns(t->ctx) / 1000000;
}

/* ---- reading ---------------------------------------------------------------------- */

static void log_err_line(stdio_t *t)
{
    if (t->err.len > 0)
        agc_log(t->ctx, t->err_level, MOD, "%s: %s", t->name, agc_buf_cstr(&t->err));
    agc_buf_clear(&t->err);
}

/* Reads the child's stderr and logs complete lines. */
static void read_stderr(stdio_t *t)
{
    char buf[CHUNK];
    for (int i = 0; i < 16 && t->efd >= 0; i++) {
        ssize_t n = read(t->efd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            log_err_line(t);
            close(t->efd);
            t->efd = -1;
            return;
        }
        for (ssize_t k = 0; k < n; k++) {
            if (buf[k] == '\n') {
                if (!t->err_skip)
                    log_err_line(t);
                t->err_skip = false;
                agc_buf_clear(&t->err);
            } else if (!t->err_skip && buf[k] != '\r') {
                if (t->err.len >= ERR_LINE_MAX) {
                    (void)agc_buf_puts(&t->err, " [line cut]");
                    log_err_line(t);
                    t->err_skip = true;
                } else if (agc_buf_putc(&t->err, buf[k]) != AGC_OK) {
                    t->err_skip = true; /* out of memory: drop the rest of the line */
                }
            }
        }
    }
}

/* Adds n bytes of stdout to the line buffer, dropping lines over the cap. */
static agc_status take(stdio_t *t, const char *data, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t k = nl ? (size_t)(nl - data) + 1 : n;
        if (t->discarding) {
            t->overflow_bytes += nl ? k - 1 : k;
            t->discarding = !nl;
        } else {
            size_t partial = t->in.len - t->line_start;
            size_t body = nl ? k - 1 : k;
            if (partial + body > t->max) {
                t->in.len = t->line_start;
                if (t->in.data)
                    t->in.data[t->in.len] = '\0';
                if (!t->overflow) {
                    t->overflow = true;
                    t->overflow_at = t->line_start;
                    t->overflow_bytes = partial + body;
                }
                t->discarding = !nl;
            } else {
                agc_status st = agc_buf_append(&t->in, data, k);
                if (st != AGC_OK)
                    return st;
                if (nl)
                    t->line_start = t->in.len;
            }
        }
        data += k;
        n -= k;
    }
    return AGC_OK;
}

/* Reads stdout; greedy reads everything available, else stops at one line. */
static agc_status read_stdout(stdio_t *t, bool greedy)
{
    char buf[CHUNK];
    for (;;) {
        if (!greedy && (t->rpos < t->line_start || t->overflow))
            return AGC_OK;
        ssize_t n = read(t->rfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return AGC_OK;
        if (n <= 0) {
            t->eof = true;
            return AGC_OK;
        }
        agc_status st = take(t, buf, (size_t)n);
        if (st != AGC_OK)
            return st;
    }
}

/* Waits up to ms for output (stdout and stderr) and reads it. */
static agc_status fill(stdio_t *t, int ms, bool greedy)
{
    struct pollfd p[2];
    int n = 0, ri = -1, ei = -1;
    if (t->rfd >= 0 && !t->eof) {
        ri = n;
        p[n++] = (struct pollfd){t->rfd, POLLIN, 0};
    }
    if (t->efd >= 0) {
        ei = n;
        p[n++] = (struct pollfd){t->efd, POLLIN, 0};
    }
    if (n == 0)
        return AGC_OK;
    if (poll(p, (nfds_t)n, ms) <= 0)
        return AGC_OK;
    if (ei >= 0 && p[ei].revents)
        read_stderr(t);
    if (ri >= 0 && p[ri].revents)
        return read_stdout(t, greedy);
    return AGC_OK;
}

static bool try_reap(stdio_t *t)
{
    if (t->pid <= 0 || t->reaped)
        return t->reaped;
    int status = 0;
    pid_t r = waitpid(t->pid, &status, WNOHANG);
    if (r != t->pid)
        return false;
    t->reaped = true;
    if (WIFEXITED(status))
        t->code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        t->sig = WTERMSIG(status);
    return true;
}

/* Waits up to ms for the child to exit, draining its output meanwhile. */
static bool wait_exit(stdio_t *t, int64_t ms)
{
    int64_t deadline = now_ms(t) + ms;
    while (!try_reap(t)) {
        int64_t left = deadline - now_ms(t);
        if (left <= 0)
            return false;
        struct pollfd p[3];
        int n = 0;
        if (t->pidfd >= 0)
            p[n++] = (struct pollfd){t->pidfd, POLLIN, 0};
        if (t->rfd >= 0 && !t->eof)
            p[n++] = (struct pollfd){t->rfd, POLLIN, 0};
        if (t->efd >= 0)
            p[n++] = (struct pollfd){t->efd, POLLIN, 0};
        (void)poll(p, (nfds_t)n, (int)(left < 50 ? left : 50));
        if (t->efd >= 0)
            read_stderr(t);
        if (t->rfd >= 0 && !t->eof) { /* the child may block on a full stdout: discard */
            char buf[CHUNK];
            ssize_t r = read(t->rfd, buf, sizeof buf);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                t->eof = true;
        }
    }
    return true;
}

static void describe_exit(stdio_t *t, char *buf, size_t size)
{
    if (t->reaped && t->sig > 0)
        snprintf(buf, size, "was killed by signal %d (%s)", t->sig, strsignal(t->sig));
    else if (t->reaped)
        snprintf(buf, size, "exited with status %d", t->code);
    else
        snprintf(buf, size, "closed its output");
}

static agc_status peer_gone(stdio_t *t)
{
    if (t->pid <= 0)
        return agc_error_set(t->ctx, AGC_EIO, MOD, "%s closed the connection (end of input)",
                             t->name);
    if (!t->reaped) {
        wait_exit(t, 500);
        if (t->efd >= 0)
            read_stderr(t);
    }
    char how[160];
    describe_exit(t, how, sizeof how);
    return agc_error_set(t->ctx, AGC_EIO, MOD, "MCP server '%s' %s (see its stderr in the log)",
                         t->name, how);
}

static void compact(stdio_t *t)
{
    if (t->rpos == t->in.len) {
        agc_buf_clear(&t->in);
        t->rpos = t->line_start = t->overflow_at = 0;
    } else if (t->rpos > CHUNK && t->rpos > t->in.len / 2) {
        memmove(t->in.data, t->in.data + t->rpos, t->in.len - t->rpos + 1);
        t->in.len -= t->rpos;
        t->line_start -= t->rpos;
        t->overflow_at = t->overflow_at > t->rpos ? t->overflow_at - t->rpos : 0;
        t->rpos = 0;
    }
}

static agc_status stdio_recv(void *self, char **out, size_t *len_out, int64_t timeout_ms)
{
    stdio_t *t = self;
    int64_t deadline = timeout_ms >= 0 ? now_ms(t) + timeout_ms : 0;
    bool tried = false;
    for (;;) {
        while (t->rpos < t->line_start && !(t->overflow && t->rpos >= t->overflow_at)) {
            char *start = t->in.data + t->rpos;
            char *nl = memchr(start, '\n', t->line_start - t->rpos);
            size_t n = (size_t)(nl - start);
            t->rpos += n + 1;
            while (n > 0 && (start[n - 1] == '\r' || start[n - 1] == ' ' || start[n - 1] == '\t'))
                n--;
            if (n == 0)
                continue; /* blank line */
            *out = agc_strndup(t->ctx, start, n);
            if (!*out)
                return AGC_ENOMEM;
            *len_out = n;
            compact(t);
            return AGC_OK;
        }
        compact(t);
        if (t->overflow) {
            t->overflow = false;
            return agc_error_set(t->ctx, AGC_ELIMIT, MOD,
                                 "a message from %s of %zu+ bytes exceeds the %zu-byte message "
                                 "cap; it was discarded",
                                 t->name, t->overflow_bytes, t->max);
        }
        if (t->eof || t->rfd < 0)
            return peer_gone(t);
        int64_t wait = -1;
        if (timeout_ms >= 0) {
            wait = deadline - now_ms(t);
            if (wait <= 0 && tried)
                return AGC_OK;
            if (wait < 0)
                wait = 0;
        }
        agc_status st = fill(t, wait > 1000000 ? 1000000 : (int)wait, false);
        if (st != AGC_OK)
            return st;
        tried = true;
    }
}

/* ---- writing ------------------------------------------------------------------------ */

/* write() that reports EPIPE instead of raising SIGPIPE (the signal is blocked for this
 * thread and a SIGPIPE it caused is consumed). */
static ssize_t write_nosig(int fd, const char *p, size_t n)
{
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    sigemptyset(&pend);
    sigpending(&pend);
    bool was_pending = sigismember(&pend, SIGPIPE);
    ssize_t w = write(fd, p, n);
    int e = errno;
    if (w < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        (void)sigtimedwait(&set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return w;
}

static agc_status write_all(stdio_t *t, const char *p, size_t n, int64_t deadline)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write_nosig(t->wfd, p + off, n - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN) {
            if (t->pid > 0) {
                try_reap(t);
                char how[160];
                describe_exit(t, how, sizeof how);
                return agc_error_set(t->ctx, AGC_EIO, MOD,
                                     "cannot write to MCP server '%s': %s (it %s)", t->name,
                                     strerror(errno), t->reaped ? how : "closed its input");
            }
            return agc_error_set(t->ctx, AGC_EIO, MOD, "cannot write to %s: %s", t->name,
                                 strerror(errno));
        }
        int64_t left = deadline - now_ms(t);
        if (left <= 0)
            return agc_error_set(t->ctx, AGC_ETIMEDOUT, MOD,
                                 "%s stopped reading its input: a write made no progress for "
                                 "%lld ms",
                                 t->name, (long long)t->write_timeout_ms);
        struct pollfd pf[3];
        int np = 0;
        pf[np++] = (struct pollfd){t->wfd, POLLOUT, 0};
        if (t->rfd >= 0 && !t->eof)
            pf[np++] = (struct pollfd){t->rfd, POLLIN, 0};
        if (t->efd >= 0)
            pf[np++] = (struct pollfd){t->efd, POLLIN, 0};
        (void)poll(pf, (nfds_t)np, (int)(left < 100 ? left : 100));
        if (t->efd >= 0)
            read_stderr(t);
        if (t->rfd >= 0 && !t->eof) {
            agc_status st = read_stdout(t, true); /* keep the peer unblocked */
            if (st != AGC_OK)
                return st;
        }
    }
    return AGC_OK;
}

static agc_status stdio_send(void *self, const char *msg, size_t len)
{
    stdio_t *t = self;
    if (t->wfd < 0)
        return agc_error_set(t->ctx, AGC_EIO, MOD, "the input of %s is already closed", t->name);
    if (memchr(msg, '\n', len))
        return agc_error_set(t->ctx, AGC_EINVAL, MOD,
                             "a stdio message must not contain a newline (send compact JSON)");
    int64_t deadline = now_ms(t) + t->write_timeout_ms;
    agc_status st = write_all(t, msg, len, deadline);
    if (st == AGC_OK)
        st = write_all(t, "\n", 1, deadline);
    return st;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static agc_status stdio_close(void *self)
{
    stdio_t *t = self;
    if (t->pid <= 0) {
        if (t->own_fds) {
            close_fd(&t->wfd);
            close_fd(&t->rfd);
        }
        return AGC_OK;
    }
    if (t->stop != AGC_MCP_STOP_RUNNING)
        return AGC_OK;
    bool early = try_reap(t);
    close_fd(&t->wfd);
    if (early)
        t->stop = AGC_MCP_STOP_EXITED;
    else if (wait_exit(t, t->grace_ms))
        t->stop = AGC_MCP_STOP_STDIN;
    else {
        kill(-t->pid, SIGTERM);
        kill(t->pid, SIGTERM);
        if (wait_exit(t, t->grace_ms))
            t->stop = AGC_MCP_STOP_SIGTERM;
        else {
            kill(-t->pid, SIGKILL);
            kill(t->pid, SIGKILL);
            wait_exit(t, 5000);
            t->stop = AGC_MCP_STOP_SIGKILL;
        }
        kill(-t->pid, SIGKILL); /* leftovers of its process group */
    }
    if (t->efd >= 0)
        read_stderr(t);
    log_err_line(t);
    close_fd(&t->efd);
    close_fd(&t->rfd);
    close_fd(&t->pidfd);
    char how[160];
    describe_exit(t, how, sizeof how);
    agc_log(t->ctx, AGC_LOG_DEBUG, MOD, "MCP server '%s' stopped (%s): it %s", t->name,
            t->stop == AGC_MCP_STOP_EXITED    ? "on its own"
            : t->stop == AGC_MCP_STOP_STDIN   ? "stdin closed"
            : t->stop == AGC_MCP_STOP_SIGTERM ? "after SIGTERM"
                                              : "after SIGKILL",
            how);
    return AGC_OK;
}

static void stdio_destroy(void *self)
{
    stdio_t *t = self;
    if (t->pid > 0 && t->stop == AGC_MCP_STOP_RUNNING)
        (void)stdio_close(t);
    if (t->own_fds) {
        close_fd(&t->wfd);
        close_fd(&t->rfd);
        close_fd(&t->efd);
    }
    close_fd(&t->pidfd);
    agc_buf_free(&t->in);
    agc_buf_free(&t->err);
    agc_free(t->ctx, t);
}

const agc_mcp_transport_ops agc_mcp__stdio_ops = {
    AGC_MCP_TRANSPORT_OPS_VERSION, stdio_send, stdio_recv, stdio_close, stdio_destroy, NULL, NULL};

void agc_mcp_stdio_opts_init(agc_mcp_stdio_opts *opts)
{
    *opts = (agc_mcp_stdio_opts)AGC_MCP_STDIO_OPTS_INIT;
}

static agc_status new_stdio(stdio_t **out, const agc_mcp_stdio_opts *opts, const char *dflt_name,
                            agc_ctx *ctx)
{
    agc_mcp_stdio_opts o = AGC_MCP_STDIO_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_STDIO_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_stdio_opts version %u",
                             o.version);
    stdio_t *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t)
        return AGC_ENOMEM;
    t->ctx = ctx;
    t->rfd = t->wfd = t->efd = t->pidfd = -1;
    t->code = t->sig = -1;
    t->max = o.max_message_bytes ? o.max_message_bytes : AGC_MCP_DEFAULT_MAX_MESSAGE;
    t->grace_ms = o.shutdown_grace_ms > 0 ? o.shutdown_grace_ms : 2000;
    t->write_timeout_ms = o.write_timeout_ms > 0 ? o.write_timeout_ms : 30000;
    t->err_level = o.stderr_level;
    const char *name = o.name ? o.name : dflt_name;
    const char *slash = strrchr(name, '/');
    snprintf(t->name, sizeof t->name, "%s", o.name || !slash ? name : slash + 1);
    agc_buf_init(&t->in, ctx, 0);
    agc_buf_init(&t->err, ctx, ERR_LINE_MAX + 64);
    *out = t;
    return AGC_OK;
}

agc_status agc_mcp_stdio_open_fds(agc_mcp_transport **out, int in_fd, int out_fd,
                                  const agc_mcp_stdio_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    stdio_t *t = NULL;
    agc_status st = new_stdio(&t, opts, "peer", ctx);
    if (st != AGC_OK)
        return st;
    t->rfd = in_fd;
    t->wfd = out_fd;
    fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
    fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
    return agc_mcp_transport_new(out, &agc_mcp__stdio_ops, t, ctx);
}

static agc_status spawn(stdio_t *t, const agc_mcp_stdio_opts *o)
{
    int in[2] = {-1, -1}, outp[2] = {-1, -1}, err[2] = {-1, -1};
    agc_status st = AGC_OK;
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        st = agc_error_set(t->ctx, AGC_EIO, MOD, "cannot create pipes for MCP server '%s': %s",
                           t->name, strerror(errno));
        goto done;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (o->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    char *const *env = o->env ? (char *const *)o->env : environ;
    int rc = posix_spawnp(&t->pid, o->argv[0], &fa, &at, (char *const *)o->argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        t->pid = 0;
        st = rc == ENOENT ? agc_error_set(t->ctx, AGC_ENOTFOUND, MOD,
                                          "MCP server command '%s' not found (PATH is searched; "
                                          "no shell is used)",
                                          o->argv[0])
                          : agc_error_set(t->ctx, AGC_EIO, MOD, "cannot start MCP server '%s': %s",
                                          o->argv[0], strerror(rc));
        goto done;
    }
    t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
    t->wfd = in[1];
    t->rfd = outp[0];
    t->efd = err[0];
    in[1] = outp[0] = err[0] = -1;
    fcntl(t->wfd, F_SETFL, O_NONBLOCK);
    fcntl(t->rfd, F_SETFL, O_NONBLOCK);
    fcntl(t->efd, F_SETFL, O_NONBLOCK);
done:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&outp[i]);
        close_fd(&err[i]);
    }
    return st;
}

agc_status agc_mcp_stdio_spawn(agc_mcp_transport **out, const agc_mcp_stdio_opts *opts,
                               agc_ctx *ctx)
{
    *out = NULL;
    if (!opts || !opts->argv || !opts->argv[0] || !opts->argv[0][0])
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "an MCP stdio server needs a command (argv[0] is missing)");
    if (opts->cwd) {
        struct stat sb;
        if (stat(opts->cwd, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                                 "working directory '%s' of MCP server '%s' is not a directory",
                                 opts->cwd, opts->argv[0]);
    }
    stdio_t *t = NULL;
    agc_status st = new_stdio(&t, opts, opts->argv[0], ctx);
    if (st != AGC_OK)
        return st;
    t->own_fds = true;
    st = spawn(t, opts);
    if (st != AGC_OK) {
        stdio_destroy(t);
        return st;
    }
    agc_log(ctx, AGC_LOG_DEBUG, MOD, "started MCP server '%s' (pid %d)", t->name, (int)t->pid);
    return agc_mcp_transport_new(out, &agc_mcp__stdio_ops, t, ctx);
}

int agc_mcp_stdio_pid(const agc_mcp_transport *t)
{
    if (!t || t->ops != &agc_mcp__stdio_ops)
        return -1;
    const stdio_t *s = t->self;
    return s->pid > 0 ? (int)s->pid : -1;
}

agc_mcp_stdio_stop agc_mcp_stdio_exit_info(const agc_mcp_transport *t, int *code_out, int *sig_out)
{
    if (code_out)
        *code_out = -1;
    if (sig_out)
        *sig_out = -1;
    if (!t || t->ops != &agc_mcp__stdio_ops)
        return AGC_MCP_STOP_RUNNING;
    const stdio_t *s = t->self;
    if (s->reaped && code_out)
        *code_out = s->sig > 0 ? -1 : s->code;
    if (s->reaped && sig_out)
        *sig_out = s->sig > 0 ? s->sig : -1;
    return s->stop;
}
