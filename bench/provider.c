/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Provider overhead per call: the same chat request sent N times to a local
 * fakellm (a) as a bare libcurl POST on a reused easy handle and (b) through
 * agc_provider_chat (request encoding, HTTP client, response decoding, cost),
 * streaming and not, in the same run. Prints medians and the ratio; asserts
 * nothing. usage: bench_provider PATH/TO/fakellm [N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agentc/provider.h"

static const char *SCRIPT = "{\"replies\":[],\"default\":{\"text\":\"The answer is 42, as "
                            "always.\",\"finish\":\"stop\",\"model\":\"fake-model\","
                            "\"usage\":{\"input_tokens\":20,\"output_tokens\":8}}}";
static const char *BODY = "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":"
                          "\"What is the answer?\"}]}";
static const char *BODY_STREAM =
    "{\"model\":\"fake-model\",\"stream\":true,\"messages\":[{\"role\":"
    "\"user\",\"content\":\"What is the answer?\"}]}";

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp);
    return t[n / 2];
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static pid_t start_fakellm(const char *bin, char *url, size_t url_size)
{
    char path[] = "/tmp/agc_bench_script.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, SCRIPT, strlen(SCRIPT)) != (ssize_t)strlen(SCRIPT))
        return -1;
    close(fd);
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(bin, bin, "--script", path, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char line[256] = "";
    if (!f || !fgets(line, sizeof line, f))
        return -1;
    fclose(f);
    unlink(path);
    line[strcspn(line, "\r\n")] = '\0';
    const char *pfx = "listening on ";
    if (strncmp(line, pfx, strlen(pfx)) != 0)
        return -1;
    snprintf(url, url_size, "%s", line + strlen(pfx));
    return pid;
}

static agc_status on_delta(const agc_delta *d, void *user)
{
    (void)d;
    (void)user;
    return AGC_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_provider PATH/TO/fakellm [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 300;
    if (n < 10)
        n = 300;
    char base[256];
    pid_t pid = start_fakellm(argv[1], base, sizeof base);
    if (pid <= 0) {
        fprintf(stderr, "bench_provider: cannot start %s\n", argv[1]);
        return 1;
    }
    double *t = malloc(sizeof(double) * (size_t)n);
    if (!t)
        return 1;

    /* (a) bare libcurl */
    char url[320];
    snprintf(url, sizeof url, "%s/v1/chat/completions", base);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Authorization: Bearer sk-bench");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    double bare[2];
    for (int stream = 0; stream <= 1; stream++) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, stream ? BODY_STREAM : BODY);
        for (int i = 0; i < n + 10; i++) {
            double t0 = now_us();
            if (curl_easy_perform(h) != CURLE_OK) {
                fprintf(stderr, "bench_provider: bare libcurl request failed\n");
                return 1;
            }
            if (i >= 10)
                t[i - 10] = now_us() - t0;
        }
        bare[stream] = median(t, n);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);

    /* (b) through the provider, plain and streaming */
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    setenv("OPENAI_API_KEY", "sk-bench-not-a-real-key", 1);
    char v1[300];
    snprintf(v1, sizeof v1, "%s/v1", base);
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "openai";
    o.base_url = v1;
    o.model = "fake-model";
    agc_provider *p = NULL;
    if (agc_provider_open(&p, &o, ctx) != AGC_OK) {
        fprintf(stderr, "bench_provider: %s\n", agc_ctx_errmsg(ctx));
        return 1;
    }
    agc_part part = {.kind = AGC_PART_TEXT, .text = "What is the answer?"};
    agc_message msg = {.role = AGC_ROLE_USER, .parts = &part, .n_parts = 1};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.messages = &msg;
    req.n_messages = 1;
    double res[2];
    for (int stream = 0; stream <= 1; stream++) {
        for (int i = 0; i < n + 10; i++) {
            agc_chat_response *r = NULL;
            double t0 = now_us();
            if (agc_provider_chat(&r, p, &req, stream ? on_delta : NULL, NULL) != AGC_OK) {
                fprintf(stderr, "bench_provider: %s\n", agc_ctx_errmsg(ctx));
                return 1;
            }
            if (i >= 10)
                t[i - 10] = now_us() - t0;
            agc_chat_response_free(r);
        }
        res[stream] = median(t, n);
    }
    agc_provider_close(p);
    agc_ctx_free(ctx);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(t);
    printf(
        "provider: plain: bare libcurl %.0f us/call, agc_provider_chat %.0f us/call, ratio %.2fx; "
        "streaming: bare libcurl %.0f us/call, agc_provider_chat %.0f us/call, ratio %.2fx "
        "(median of %d calls each to fakellm on loopback)\n",
        bare[0], res[0], res[0] / bare[0], bare[1], res[1], res[1] / bare[1], n);
    return 0;
}
