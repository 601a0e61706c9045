/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Sandbox figures: per-call latency (p50/p99) of the sha256 example tool in
 * process, from a pooled jailed worker and from a fresh jailed worker per
 * call; the guest's speed against the same C compiled natively (ratio); the
 * compile time cold (empty cache) and cached. Usage: bench_sandbox
 * [BUILD_DIR] (default: the current directory, which holds wasm/sha256.wasm).
 * Prints figures only; goals: pooled p50 <= 0.3 ms, fresh p50 <= 1 ms,
 * guest <= 1.2x native.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/sandbox_worker.h"

/* the same C, natively: the tool's source with its main renamed */
#define main agc_bench_sha256_tool_main
#include "../examples/tools/sha256.c"
#undef main

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void latency(const char *label, const char *wasm, agc_sandbox_mode mode, int n,
                    const agc_wasm_compile_opts *co, agc_ctx *ctx)
{
    agc_sandbox_policy *p = NULL;
    if (agc_sandbox_policy_new(&p, ctx) != AGC_OK)
        return;
    p->mode = mode;
    p->pool_max_calls = 1000000;
    agc_sandbox_tool_opts to = AGC_SANDBOX_TOOL_OPTS_INIT;
    to.compile = co;
    agc_sandbox_tool *t = NULL;
    if (agc_sandbox_tool_new(&t, wasm, p, &to, ctx) != AGC_OK) {
        printf("%-28s failed: %s\n", label, agc_ctx_errmsg(ctx));
        agc_sandbox_policy_free(p, ctx);
        return;
    }
    double *v = malloc(sizeof *v * (size_t)n);
    int ok = 0;
    for (int i = 0; i < n + 10 && v; i++) {
        agc_sandbox_call r;
        double t0 = now_ms();
        agc_status st = agc_sandbox_tool_call(&r, t, "{\"data\": \"abc\", \"rounds\": 1}");
        double dt = now_ms() - t0;
        if (st != AGC_OK)
            printf("  call failed: %s\n", agc_ctx_errmsg(ctx));
        else if (i >= 10)
            v[ok++] = dt;
        agc_sandbox_call_free(&r);
    }
    if (ok) {
        qsort(v, (size_t)ok, sizeof *v, cmp_d);
        char jail[160];
        agc_sandbox_tool_jail_text(jail, sizeof jail, t);
        printf("%-28s p50 %.3f ms  p99 %.3f ms  (%d calls)%s%s\n", label, v[ok / 2],
               v[(ok * 99) / 100], ok, jail[0] ? "  jail: " : "", jail);
    }
    free(v);
    agc_sandbox_tool_free(t);
    agc_sandbox_policy_free(p, ctx);
}

static void speed(const char *wasm, const agc_wasm_compile_opts *co, agc_ctx *ctx)
{
    const long rounds = 2000000;
    agc_sandbox_policy *p = NULL;
    if (agc_sandbox_policy_new(&p, ctx) != AGC_OK)
        return;
    p->mode = AGC_SANDBOX_INPROCESS;
    p->timeout_ms = 600000;
    agc_sandbox_tool_opts to = AGC_SANDBOX_TOOL_OPTS_INIT;
    to.compile = co;
    agc_sandbox_tool *t = NULL;
    char input[128];
    snprintf(input, sizeof input, "{\"data\": \"abc\", \"rounds\": %ld}", rounds);
    double best_g = 1e30, best_n = 1e30;
    char gout[128] = "", nout[128] = "";
    if (agc_sandbox_tool_new(&t, wasm, p, &to, ctx) == AGC_OK) {
        for (int k = 0; k < 3; k++) {
            agc_sandbox_call r;
            double t0 = now_ms();
            if (agc_sandbox_tool_call(&r, t, input) == AGC_OK) {
                double dt = now_ms() - t0;
                best_g = dt < best_g ? dt : best_g;
                snprintf(gout, sizeof gout, "%.20s", strstr(r.output, ": \"") + 3);
            }
            agc_sandbox_call_free(&r);
        }
    }
    for (int k = 0; k < 3; k++) {
        uint8_t dig[32];
        double t0 = now_ms();
        sha256(dig, (const uint8_t *)"abc", 3);
        for (long i = 1; i < rounds; i++)
            sha256(dig, dig, sizeof dig);
        double dt = now_ms() - t0;
        best_n = dt < best_n ? dt : best_n;
        for (int i = 0; i < 10; i++)
            snprintf(nout + 2 * i, 3, "%02x", dig[i]);
    }
    printf("guest vs native (sha256 x%ld): guest %.1f ms, native %.1f ms, ratio %.2fx%s\n", rounds,
           best_g, best_n, best_g / best_n, strcmp(gout, nout) == 0 ? "" : "  (DIGESTS DIFFER)");
    agc_sandbox_tool_free(t);
    agc_sandbox_policy_free(p, ctx);
}

static void compile_times(const char *wasm_path, agc_ctx *ctx)
{
    char dir[] = "/tmp/agc-bench-cache-XXXXXX";
    if (!mkdtemp(dir))
        return;
    FILE *f = fopen(wasm_path, "rb");
    static unsigned char buf[1 << 22];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = dir;
    double t[2];
    for (int k = 0; k < 2; k++) {
        char *so = NULL;
        bool hit = false;
        double t0 = now_ms();
        if (agc_wasm_compile(&so, &hit, buf, n, &co, ctx) != AGC_OK)
            printf("compile failed: %s\n", agc_ctx_errmsg(ctx));
        t[k] = now_ms() - t0;
        agc_free(ctx, so);
    }
    printf("compile sha256.wasm: cold %.1f ms, cached %.3f ms\n", t[0], t[1]);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("(could not remove %s)\n", dir);
}

int main(int argc, char **argv)
{
    char *bin = realpath(argc > 1 ? argv[1] : ".", NULL);
    if (!bin)
        return 1;
    char wasm[4096], cache[4096];
    snprintf(wasm, sizeof wasm, "%s/wasm/sha256.wasm", bin);
    snprintf(cache, sizeof cache, "%s/wasm-cache", bin);
    if (access(wasm, R_OK) != 0) {
        printf("skipped: %s is missing (build the wasm tools)\n", wasm);
        free(bin);
        return 0;
    }
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = cache;
    compile_times(wasm, ctx);
    latency("in-process", wasm, AGC_SANDBOX_INPROCESS, 2000, &co, ctx);
    latency("pooled jailed worker", wasm, AGC_SANDBOX_POOL, 2000, &co, ctx);
    latency("fresh jailed worker", wasm, AGC_SANDBOX_FRESH, 300, &co, ctx);
    speed(wasm, &co, ctx);
    agc_ctx_free(ctx);
    free(bin);
    return 0;
}
