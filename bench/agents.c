/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Idle agent runs: N runs created from one parsed definition (N = 10k and
 * 100k by default), measured three ways: live bytes through a counting
 * allocator hook on the ctx (agc_ctx_opts.realloc), the process RSS delta,
 * and wall time per agc_run_new. Goals: <= 4 KiB and <= 1 us per idle run.
 * Each N is measured twice: "cold" (the heap grows, so page faults count)
 * and "warm" (the freed memory is reused). Prints figures only; asserts
 * nothing (timing belongs in benchmarks).
 * usage: bench_agents [AGENT_FILE] [N...]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentc/agent.h"
#include "agentc/runtime.h"

typedef struct counter {
    long long live; /* bytes currently allocated through the ctx */
    long long peak;
    long long calls;
} counter;

static void *counting_realloc(void *ud, void *p, size_t old_size, size_t new_size)
{
    counter *c = ud;
    if (new_size == 0) {
        free(p);
        c->live -= (long long)old_size;
        return NULL;
    }
    void *q = realloc(p, new_size);
    if (!q)
        return NULL;
    c->live += (long long)new_size - (long long)(p ? old_size : 0);
    if (c->live > c->peak)
        c->peak = c->live;
    c->calls++;
    return q;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Resident set size in bytes (from /proc/self/statm). */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lld %lld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static const char DEFAULT_AGENT[] =
    "version: 1\n"
    "name: idle\n"
    "instructions: You are a careful assistant.\n"
    "provider: {name: openai, model: gpt-4o-mini, api_key: env:OPENAI_API_KEY}\n"
    "tools: [read_file, list_dir, grep, {name: run_command, approval: ask}]\n"
    "budgets: {max_turns: 10, max_cost_usd: 1.0}\n";

static int bench(agc_agent_def *def, counter *cnt, agc_ctx *ctx, long n, const char *pass)
{
    agc_run **runs = calloc((size_t)n, sizeof *runs);
    if (!runs)
        return 1;
    memset(runs, 0, (size_t)n * sizeof *runs); /* touch the array before the RSS baseline */
    long long live0 = cnt->live, rss0 = rss_bytes(), calls0 = cnt->calls;
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        if (agc_run_new(&runs[i], def, "Summarise the repository in one paragraph.", NULL, ctx) !=
            AGC_OK) {
            fprintf(stderr, "bench_agents: agc_run_new failed at %ld: %s\n", i,
                    agc_ctx_errmsg(ctx));
            n = i;
            break;
        }
    }
    double t1 = now_us();
    long long live1 = cnt->live, rss1 = rss_bytes(), calls1 = cnt->calls;
    double t2 = now_us();
    for (long i = 0; i < n; i++)
        agc_run_free(runs[i]);
    double t3 = now_us();
    free(runs);
    if (n <= 0)
        return 1;
    printf("agents: %7ld idle runs (%s): %5.0f bytes/run counted (%.1f allocations/run), "
           "%5.0f bytes/run RSS, %.3f us/run to create, %.3f us/run to free\n",
           n, pass, (double)(live1 - live0) / (double)n, (double)(calls1 - calls0) / (double)n,
           (double)(rss1 - rss0) / (double)n, (t1 - t0) / (double)n, (t3 - t2) / (double)n);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    counter cnt = {0};
    mallopt(M_TRIM_THRESHOLD, 1 << 30); /* keep freed memory, so that "warm" reuses it */
    agc_ctx_opts co = AGC_CTX_OPTS_INIT;
    co.realloc = counting_realloc;
    co.realloc_ud = &cnt;
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, &co) != AGC_OK) {
        fprintf(stderr, "bench_agents: cannot create a ctx\n");
        return 1;
    }
    int argi = 1;
    agc_agent_def *def = NULL;
    agc_status st;
    if (argc > 1 && strspn(argv[1], "0123456789") != strlen(argv[1])) {
        st = agc_agent_def_load(&def, argv[1], NULL, ctx);
        argi = 2;
    } else {
        agc_config *cfg = NULL;
        agc_config_opts copts = AGC_CONFIG_OPTS_INIT;
        copts.no_env = true;
        st = agc_config_parse(&cfg, DEFAULT_AGENT, sizeof DEFAULT_AGENT - 1, "idle.yaml", &copts,
                              ctx);
        if (st == AGC_OK)
            st = agc_agent_def_from_config(&def, cfg, ctx);
        agc_config_free(cfg);
    }
    if (st != AGC_OK) {
        fprintf(stderr, "bench_agents: cannot load the agent: %s\n", agc_ctx_errmsg(ctx));
        agc_ctx_free(ctx);
        return 1;
    }
    printf("agents: one definition (%s), %lld bytes live in the ctx; goals <= 4096 bytes and "
           "<= 1 us per idle run\n",
           agc_agent_def_source(def), cnt.live);
    int rc = 0;
    static long defaults[] = {10000, 100000};
    long *ns = defaults;
    int count = 2;
    long given[16];
    if (argi < argc) {
        count = 0;
        for (int i = argi; i < argc && count < 16; i++)
            given[count++] = atol(argv[i]);
        ns = given;
    }
    /* cold: the heap grows (page faults dominate); warm: the same memory is reused */
    for (int i = 0; i < count; i++) {
        rc |= bench(def, &cnt, ctx, ns[i], "cold");
        rc |= bench(def, &cnt, ctx, ns[i], "warm");
    }
    agc_agent_def_unref(def);
    agc_ctx_free(ctx);
    return rc;
}
