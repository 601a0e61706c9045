/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Jailed worker processes for wasm tools. The parent forks a child with
 * agc_jail_fork (namespaces, Landlock on the preopens and the tool's .so,
 * seccomp allowlist, rlimits, no_new_privs, other fds closed, empty
 * environment but the allowlisted names); the child serves calls over a
 * stream socket with framed messages: CALL input -> [HTTP_REQ -> HTTP_RESP]*
 * -> RESULT. The parent enforces the deadline by SIGKILL through the
 * pidfd, answers HTTP requests through its gate and turns deaths into
 * specific errors. Invariant: the child never holds a secret or a socket to
 * the outside; it exits after any failed call.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "worker_int.h"

#define MOD "sandbox"

enum { M_READY = 1, M_FAIL, M_CALL, M_RESULT, M_HTTP_REQ, M_HTTP_RESP };

#define MAX_FRAME ((uint32_t)256 << 20)
#define GRACE_MS  50 /* the child's own deadline check gets this head start */

typedef struct frame_hdr {
    uint32_t type;
    uint32_t len;
} frame_hdr;

typedef struct result_hdr {
    int32_t status;
    uint32_t trap;
    int32_t exit_code;
    uint8_t exited, is_result, pad[2];
    uint32_t out_len, err_len, msg_len;
    uint64_t cpu_ms;
} result_hdr;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- framing (both sides) */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_frame(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
    frame_hdr h = {type, (uint32_t)(alen + blen)};
    if (write_all(fd, &h, sizeof h) || (alen && write_all(fd, a, alen)) ||
        (blen && write_all(fd, b, blen)))
        return -1;
    return 0;
}

/* Reads n bytes; deadline_ns 0 blocks. 0, -1 (EOF/error) or -2 (deadline). */
static int read_all(int fd, void *p, size_t n, int64_t deadline_ns)
{
    char *c = p;
    while (n) {
        if (deadline_ns) {
            /* past the deadline, what is already readable (a result sent just in
             * time, or EOF) is still taken: returning -2 for a readable fd made
             * the caller's poll loop spin */
            int64_t left = deadline_ns - now_ns();
            struct pollfd pf = {fd, POLLIN, 0};
            int r = poll(&pf, 1, left <= 0 ? 0 : (int)(left / 1000000) + 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0)
                return -2;
        }
        ssize_t k = read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads a frame; *payload is malloc'ed (NUL-terminated) or NULL when empty. */
static int read_frame(int fd, frame_hdr *h, char **payload, int64_t deadline_ns)
{
    *payload = NULL;
    int r = read_all(fd, h, sizeof *h, deadline_ns);
    if (r)
        return r;
    if (h->len > MAX_FRAME)
        return -1;
    char *p = malloc((size_t)h->len + 1);
    if (!p)
        return -1;
    r = read_all(fd, p, h->len, deadline_ns);
    if (r) {
        free(p);
        return r;
    }
    p[h->len] = 0;
    *payload = p;
    return 0;
}

/* ---- child */

typedef struct child_state {
    int sock;
} child_state;

static agc_status fwd_http(char **resp, size_t *resp_len, const char *req, size_t req_len,
                           void *user, agc_ctx *ctx)
{
    child_state *cs = user;
    *resp = NULL;
    *resp_len = 0;
    if (send_frame(cs->sock, M_HTTP_REQ, req, req_len, NULL, 0))
        return agc_error_set(ctx, AGC_EIO, MOD, "the worker's control channel is closed");
    frame_hdr h;
    char *p = NULL;
    if (read_frame(cs->sock, &h, &p, 0) || h.type != M_HTTP_RESP) {
        free(p);
        return agc_error_set(ctx, AGC_EIO, MOD, "the worker's control channel is closed");
    }
    char *copy = agc_malloc(ctx, (size_t)h.len + 1);
    if (!copy) {
        free(p);
        return AGC_ENOMEM;
    }
    memcpy(copy, p ? p : "", (size_t)h.len + 1);
    free(p);
    *resp = copy;
    *resp_len = h.len;
    return AGC_OK;
}

static uint64_t cpu_used_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* Runs one call in the child and sends RESULT; returns the status. */
static agc_status child_call(child_state *cs, const agc__worker_cfg *cfg, const char *input,
                             agc_ctx *ctx)
{
    const agc_sandbox_policy *p = cfg->policy;
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    const char *argv[] = {cfg->name};
    ro.argv = argv;
    ro.argc = 1;
    ro.env_allow = cfg->env_names;
    ro.env_count = p->n_env;
    ro.preopens = cfg->pre;
    ro.n_preopens = p->n_paths;
    ro.input_json = input;
    ro.max_output = (size_t)p->max_output_kb * 1024;
    ro.timeout_ms = p->timeout_ms;
    ro.memory_mb = p->memory_mb;
    ro.entry = p->entry;
    ro.http = fwd_http;
    ro.http_user = cs;
    ro.max_http_requests = p->max_http_requests;
    agc_wasm_instance *in = NULL;
    agc_wasm_result r;
    memset(&r, 0, sizeof r);
    agc_status st = agc_wasm_instance_new(&in, cfg->so_path, cfg->module, &ro, ctx);
    if (st == AGC_OK)
        st = agc_wasm_instance_run(&r, in);
    const char *msg = st != AGC_OK ? agc_ctx_errmsg(ctx) : "";
    const char *out = r.result ? r.result : r.out ? r.out : "";
    size_t out_len = r.result ? r.result_len : r.out_len;
    result_hdr h;
    memset(&h, 0, sizeof h);
    h.status = st;
    h.trap = (uint32_t)r.trap;
    h.exit_code = r.exit_code;
    h.exited = r.exited;
    h.is_result = r.result != NULL;
    h.out_len = (uint32_t)out_len;
    h.err_len = (uint32_t)r.err_len;
    h.msg_len = (uint32_t)strlen(msg);
    h.cpu_ms = cpu_used_ms();
    frame_hdr fh = {M_RESULT, (uint32_t)(sizeof h + out_len + r.err_len + h.msg_len)};
    if (write_all(cs->sock, &fh, sizeof fh) || write_all(cs->sock, &h, sizeof h) ||
        (out_len && write_all(cs->sock, out, out_len)) ||
        (r.err_len && write_all(cs->sock, r.err, r.err_len)) ||
        (h.msg_len && write_all(cs->sock, msg, h.msg_len)))
        st = AGC_EIO;
    agc_wasm_result_free(&r);
    agc_wasm_instance_free(in);
    return st;
}

static _Noreturn void child_main(int sock, int devnull, const agc__worker_cfg *cfg, bool one_shot,
                                 agc_ctx *ctx)
{
    /* stdio to /dev/null, environment reduced to the allowlist */
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (devnull > 2)
        close(devnull);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a write past max_write_kb fails with EFBIG */
    const agc_sandbox_policy *p = cfg->policy;
    char **keep = calloc(p->n_env + 1, sizeof *keep);
    for (size_t i = 0; keep && i < p->n_env; i++) {
        const char *v = getenv(p->env[i]);
        if (v && asprintf(&keep[i], "%s=%s", p->env[i], v) < 0)
            keep[i] = NULL;
    }
    clearenv();
    for (size_t i = 0; keep && i < p->n_env; i++)
        if (keep[i])
            putenv(keep[i]); /* kept for the process's life */
    free(keep);

    child_state cs = {sock};
    frame_hdr h;
    char *payload = NULL;
    for (;;) {
        int r = read_frame(sock, &h, &payload, 0);
        if (r || h.type != M_CALL)
            _exit(0);
        agc_status st = child_call(&cs, cfg, payload ? payload : "{}", ctx);
        free(payload);
        payload = NULL;
        if (st != AGC_OK || one_shot)
            _exit(0);
    }
}

/* ---- parent */

/* Virtual size of this process (bytes), or a generous guess. */
static uint64_t mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (f) {
        if (fscanf(f, "%llu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    long ps = sysconf(_SC_PAGESIZE);
    return pages ? pages * (uint64_t)(ps > 0 ? ps : 4096) : (uint64_t)1 << 32;
}

static void jail_policy_of(agc_jail_policy *jp, const agc__worker_cfg *cfg, const int *keep)
{
    const agc_sandbox_policy *p = cfg->policy;
    agc_jail_policy d = AGC_JAIL_POLICY_INIT;
    *jp = d;
    jp->ro_paths = cfg->ro_paths;
    jp->rw_paths = cfg->rw_paths;
    jp->landlock = p->landlock;
    jp->namespaces = p->namespaces;
    jp->network = false;
    jp->no_netns = !p->network_namespace;
    jp->allow_exec = false;
    jp->seccomp_allowlist = true;
    /* no guard pages (bounds-checked memory): the address space can be capped,
     * at what the process maps now plus the guest's memory (twice: growing
     * copies) plus room for the host */
    jp->rlimit_as = mapped_bytes() + ((uint64_t)p->memory_mb * 2 + 256) * 1024 * 1024;
    jp->rlimit_nofile = p->max_open_files ? p->max_open_files : 64;
    jp->rlimit_cpu = p->cpu_ms ? (p->cpu_ms + 999) / 1000 : 0;
    jp->rlimit_fsize = p->max_write_kb ? (uint64_t)p->max_write_kb * 1024 : 0;
    jp->keep_fds = keep;
    jp->n_keep_fds = 2;
    jp->seccomp = cfg->seccomp;
}

agc_status agc__worker_start(agc__worker *w, const agc__worker_cfg *cfg, bool one_shot,
                             agc_ctx *ctx)
{
    memset(w, 0, sizeof *w);
    w->pidfd = w->sock = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot create the worker channel: %s",
                             strerror(errno));
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        close(sv[0]);
        close(sv[1]);
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot open /dev/null: %s", strerror(errno));
    }
    int keep[2] = {sv[1], devnull};
    agc_jail_policy jp;
    jail_policy_of(&jp, cfg, keep);
    pid_t pid;
    int pidfd;
    agc_status st = agc_jail_fork(&pid, &pidfd, &w->report, &jp, ctx);
    if (pid == 0) {
        /* child: confined now (or failed to be) */
        if (st != AGC_OK) {
            const char *msg = agc_ctx_errmsg(ctx);
            int32_t code = st;
            send_frame(sv[1], M_FAIL, &code, sizeof code, msg, strlen(msg));
            _exit(127);
        }
        send_frame(sv[1], M_READY, w->report.text, strlen(w->report.text) + 1, NULL, 0);
        child_main(sv[1], devnull, cfg, one_shot, ctx);
    }
    close(sv[1]);
    close(devnull);
    if (st != AGC_OK) {
        close(sv[0]);
        return st;
    }
    w->pid = pid;
    w->pidfd = pidfd;
    w->sock = sv[0];
    return AGC_OK;
}

void agc__worker_stop(agc__worker *w)
{
    if (w->pid > 0) {
        syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
        int s;
        while (waitpid(w->pid, &s, 0) < 0 && errno == EINTR)
            ;
    }
    if (w->pidfd >= 0)
        close(w->pidfd);
    if (w->sock >= 0)
        close(w->sock);
    w->pid = 0;
    w->pidfd = w->sock = -1;
    w->ready = w->busy = false;
}

/* Handles READY / FAIL. Returns 1 when handled, or a status. */
static agc_status on_setup(agc__worker *w, const frame_hdr *h, const char *p, agc_ctx *ctx)
{
    if (h->type == M_READY) {
        w->ready = true;
        snprintf(w->report.text, sizeof w->report.text, "%s", p ? p : "");
        return AGC_OK;
    }
    int32_t code = AGC_EPERM;
    if (p && h->len >= sizeof code)
        memcpy(&code, p, sizeof code);
    return agc_error_set(ctx, code < 0 ? code : AGC_EPERM, MOD, "the worker's jail failed: %s",
                         p && h->len > sizeof code ? p + sizeof code : "(no message)");
}

agc_status agc__worker_wait_ready(agc__worker *w, uint32_t timeout_ms, agc_ctx *ctx)
{
    frame_hdr h;
    char *p = NULL;
    int r = read_frame(w->sock, &h, &p, now_ns() + (int64_t)timeout_ms * 1000000);
    agc_status st = r == 0 && (h.type == M_READY || h.type == M_FAIL)
                        ? on_setup(w, &h, p, ctx)
                        : agc_error_set(ctx, AGC_EIO, MOD, "the worker did not start (%s)",
                                        r == -2 ? "no answer in time" : "it exited");
    free(p);
    if (st != AGC_OK)
        agc__worker_stop(w);
    return st;
}

/* The worker ended without a RESULT: reap it and say why. */
static agc_status on_death(agc_sandbox_call *res, agc__worker *w, const agc_sandbox_policy *p,
                           agc_ctx *ctx)
{
    int s = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t pid = w->pid;
    while (wait4(pid, &s, 0, &ru) < 0 && errno == EINTR)
        ;
    w->pid = 0;
    agc__worker_stop(w);
    uint64_t cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                   (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    int sig = WIFSIGNALED(s) ? WTERMSIG(s) : 0;
    if (p->cpu_ms && (sig == SIGKILL || sig == SIGXCPU) &&
        cpu + 50 >= (p->cpu_ms + 999) / 1000 * 1000) {
        res->violation = "cpu";
        res->trap = AGC_WASM_TRAP_HOST;
        return agc_error_set(ctx, AGC_ELIMIT, MOD, "cpu limit %u ms exceeded", p->cpu_ms);
    }
    res->violation = "crash";
    res->trap = AGC_WASM_TRAP_HOST;
    if (sig)
        return agc_error_set(ctx, AGC_ERROR, MOD,
                             "the worker (pid %d) was killed by signal %d (%s)", (int)pid, sig,
                             strsignal(sig));
    return agc_error_set(ctx, AGC_ERROR, MOD, "the worker (pid %d) exited with status %d mid-call",
                         (int)pid, WIFEXITED(s) ? WEXITSTATUS(s) : -1);
}

static agc_status on_result(agc_sandbox_call *res, agc__worker *w, const agc_sandbox_policy *p,
                            const char *payload, size_t len, agc_ctx *ctx)
{
    result_hdr h;
    if (len < sizeof h)
        return agc_error_set(ctx, AGC_EPROTO, MOD, "the worker sent a short result");
    memcpy(&h, payload, sizeof h);
    if ((uint64_t)h.out_len + h.err_len + h.msg_len != len - sizeof h)
        return agc_error_set(ctx, AGC_EPROTO, MOD, "the worker sent a malformed result");
    const char *o = payload + sizeof h;
    res->output = agc_malloc(ctx, (size_t)h.out_len + 1);
    res->err = agc_malloc(ctx, (size_t)h.err_len + 1);
    if (!res->output || !res->err)
        return AGC_ENOMEM;
    memcpy(res->output, o, h.out_len);
    res->output[h.out_len] = 0;
    res->output_len = h.out_len;
    memcpy(res->err, o + h.out_len, h.err_len);
    res->err[h.err_len] = 0;
    res->err_len = h.err_len;
    res->is_result = h.is_result;
    res->exited = h.exited;
    res->exit_code = h.exit_code;
    res->trap = (agc_wasm_trap)h.trap;
    w->cpu_ms = h.cpu_ms;
    if (h.status == AGC_OK)
        return AGC_OK;
    char msg[512];
    snprintf(msg, sizeof msg, "%.*s", (int)h.msg_len, o + h.out_len + h.err_len);
    return agc__sandbox_violation(ctx, p, res->trap, h.status, msg, &res->violation);
}

static agc_status on_http(agc__worker *w, const char *req, size_t len, agc_http_gate *gate,
                          agc_ctx *ctx)
{
    char *resp = NULL;
    size_t rlen = 0;
    static const char refused[] = "{\"error\": \"http is not granted to this tool (no "
                                  "allowed_hosts)\", \"code\": \"denied\"}";
    agc_status st = AGC_OK;
    if (gate)
        st = agc_http_gate_call(&resp, &rlen, req ? req : "", len, gate, ctx);
    int r = resp ? send_frame(w->sock, M_HTTP_RESP, resp, rlen, NULL, 0)
                 : send_frame(w->sock, M_HTTP_RESP, refused, sizeof refused - 1, NULL, 0);
    agc_free(ctx, resp);
    if (st == AGC_OK && r != 0)
        st = AGC_EIO;
    return st;
}

agc_status agc__worker_call(agc_sandbox_call *res, agc__worker *w, const agc__worker_cfg *cfg,
                            const char *input, agc_http_gate *gate, agc_ctx *ctx)
{
    const agc_sandbox_policy *p = cfg->policy;
    res->worker_pid = (int)w->pid;
    w->calls++;
    if (send_frame(w->sock, M_CALL, input, strlen(input), NULL, 0))
        return on_death(res, w, p, ctx);
    int64_t deadline = p->timeout_ms ? now_ns() + ((int64_t)p->timeout_ms + GRACE_MS) * 1000000 : 0;
    for (;;) {
        struct pollfd pf[2] = {{w->sock, POLLIN, 0}, {w->pidfd, POLLIN, 0}};
        int wait_ms = -1;
        if (deadline) {
            int64_t left = deadline - now_ns();
            wait_ms = left <= 0 ? 0 : (int)(left / 1000000) + 1;
        }
        int r = poll(pf, 2, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (deadline && now_ns() >= deadline && !(pf[0].revents & POLLIN))) {
            agc__worker_stop(w);
            res->violation = "timeout";
            res->trap = AGC_WASM_TRAP_TIMEOUT;
            return agc_error_set(ctx, AGC_ETIMEDOUT, MOD, "timed out after %u ms", p->timeout_ms);
        }
        if (!(pf[0].revents & (POLLIN | POLLHUP)))
            return on_death(res, w, p, ctx);
        frame_hdr h;
        char *payload = NULL;
        int rr = read_frame(w->sock, &h, &payload, deadline);
        if (rr == -2) {
            free(payload);
            continue; /* the next poll reports the deadline */
        }
        if (rr != 0)
            return on_death(res, w, p, ctx);
        agc_status st = AGC_OK;
        bool done = false;
        if (h.type == M_READY || h.type == M_FAIL) {
            st = on_setup(w, &h, payload, ctx);
            if (st != AGC_OK) {
                res->violation = "jail";
                done = true;
            }
        } else if (h.type == M_HTTP_REQ) {
            st = on_http(w, payload, h.len, gate, ctx);
            done = st != AGC_OK;
        } else if (h.type == M_RESULT) {
            st = on_result(res, w, p, payload, h.len, ctx);
            done = true;
        } else {
            st = agc_error_set(ctx, AGC_EPROTO, MOD, "the worker sent message type %u", h.type);
            done = true;
        }
        free(payload);
        if (done) {
            if (st != AGC_OK)
                agc__worker_stop(w);
            return st;
        }
    }
}
