/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Test support: the fakellm child process. fork + exec with stdout on a
 * pipe; the first line gives the URL; PR_SET_PDEATHSIG stops the child when
 * the test dies. The /_fake/ calls use the agentc HTTP client on a ctx of
 * this helper's own. Failures assert (cmocka), they are never returned.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/http.h"
#include "fakellm_proc.h"

struct agc_fakellm {
    pid_t pid;
    uint16_t port;
    char url[256];
    agc_ctx *ctx;
    agc_http_client *client;
};

static char *binary_path(void)
{
    const char *env = getenv("FAKELLM");
    if (env && *env)
        return strdup(env);
    const char *dir = getenv("AGC_BINARY_DIR");
    assert_non_null(dir); /* ctest sets AGC_BINARY_DIR (and FAKELLM) */
    size_t n = strlen(dir) + sizeof "/fakellm";
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/fakellm", dir);
    return p;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the first stdout line of the child (up to 10 s). */
static void read_first_line(int fd, char *line, size_t size)
{
    size_t len = 0;
    int64_t deadline = now_ms() + 10000;
    while (len + 1 < size) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            fail_msg("fakellm did not print its 'listening on' line within 10 s");
        struct pollfd pfd = {fd, POLLIN, 0};
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        assert_true(rc >= 0);
        if (rc == 0)
            continue;
        ssize_t n = read(fd, line + len, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("fakellm exited before listening (see its stderr above)");
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
}

static agc_fakellm *start(const char *opt, const char *value)
{
    char *bin = binary_path();
    if (access(bin, X_OK) != 0)
        fail_msg("fakellm binary not found at %s (set FAKELLM)", bin);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *argv[] = {bin, (char *)"--port", (char *)"0", (char *)opt, (char *)value, NULL};
        if (!opt)
            argv[3] = NULL;
        execv(bin, argv);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    free(bin);
    char line[256];
    read_first_line(fds[0], line, sizeof line);
    close(fds[0]);
    agc_fakellm *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->pid = pid;
    const char *pfx = "listening on ";
    if (strncmp(line, pfx, strlen(pfx)) != 0)
        fail_msg("unexpected first line from fakellm: %s", line);
    snprintf(f->url, sizeof f->url, "%s", line + strlen(pfx));
    const char *colon = strrchr(f->url, ':');
    assert_non_null(colon);
    f->port = (uint16_t)strtoul(colon + 1, NULL, 10);
    assert_true(f->port > 0);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_http_client_new(&f->client, NULL, f->ctx), AGC_OK);
    return f;
}

agc_fakellm *agc_fakellm_start_file(const char *path)
{
    return start(path ? "--script" : NULL, path);
}

agc_fakellm *agc_fakellm_start_json(const char *script_json)
{
    return start("--script-json", script_json);
}

const char *agc_fakellm_url(const agc_fakellm *f)
{
    return f->url;
}

uint16_t agc_fakellm_port(const agc_fakellm *f)
{
    return f->port;
}

pid_t agc_fakellm_pid(const agc_fakellm *f)
{
    return f->pid;
}

/* One request to the server; returns the response (asserted 200). */
static agc_http_response *call(agc_fakellm *f, const char *method, const char *path,
                               const char *body)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", f->url, path);
    agc_http_header h = {"Content-Type", "application/json"};
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.timeout_ms = 10000;
    agc_http_response *resp = NULL;
    agc_status st = agc_http_request_sync(&resp, f->client, method, url, &h, body ? 1 : 0, body,
                                          body ? strlen(body) : 0, &o);
    if (st != AGC_OK)
        fail_msg("%s %s: %s", method, path, agc_ctx_errmsg(f->ctx));
    if (resp->status != 200)
        fail_msg("%s %s: HTTP %d: %s", method, path, resp->status, agc_buf_cstr(&resp->body));
    return resp;
}

json_t *agc_fakellm_requests(agc_fakellm *f)
{
    agc_http_response *resp = call(f, "GET", "/_fake/requests", NULL);
    json_error_t err;
    json_t *v = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &err);
    if (!v)
        fail_msg("/_fake/requests is not JSON: %s", err.text);
    agc_http_response_free(resp);
    assert_true(json_is_array(v));
    return v;
}

void agc_fakellm_set_script(agc_fakellm *f, const char *script_json)
{
    agc_http_response_free(call(f, "POST", "/_fake/script", script_json));
}

void agc_fakellm_reset(agc_fakellm *f)
{
    agc_http_response_free(call(f, "POST", "/_fake/reset", "{}"));
}

int agc_fakellm_stop(agc_fakellm *f)
{
    if (!f)
        return -1;
    agc_http_client_free(f->client);
    agc_ctx_free(f->ctx);
    kill(f->pid, SIGTERM);
    int status = 0;
    int64_t deadline = now_ms() + 10000;
    pid_t r;
    while ((r = waitpid(f->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
        usleep(5000);
    if (r == 0) {
        kill(f->pid, SIGKILL);
        r = waitpid(f->pid, &status, 0);
    }
    free(f);
    if (r < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
