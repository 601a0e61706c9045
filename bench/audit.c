/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Audit trail throughput: records appended per second in each durability
 * mode (one fsynced transaction per record; batched commits of 64, 256 and
 * 1024 records), with signed checkpoints, with sealed (per-subject encrypted)
 * payloads, and records verified per second.
 * Usage: bench_audit [N] [DIR] [N_BATCH]  (N records for the fsync-per-record
 * mode, default 2000; DIR default $TMPDIR or /tmp; N_BATCH records for each
 * batched mode, default 100000). Prints one line per measurement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentc/audit.h"
#include "agentc/json.h"
#include "agentc/privacy.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: the rate per CPU second does not depend on other load. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_mode(const char *dir, const char *name, agc_audit_durability mode, unsigned batch,
                      unsigned checkpoint_every, bool sealed, long n, agc_ctx *ctx)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench-audit-%s-%ld.db", dir, name, (long)getpid());
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.durability = mode;
    o.batch_records = batch;
    o.checkpoint_every = checkpoint_every;
    o.signing_key_ref = checkpoint_every ? "env:AGC_BENCH_AUDIT_KEY" : NULL;
    agc_audit *a = NULL;
    agc_privacy *priv = NULL;
    char ppath[1100];
    snprintf(ppath, sizeof ppath, "%s.privacy", path);
    if (agc_audit_open(&a, path, &o, ctx) != AGC_OK ||
        (sealed && agc_privacy_open(&priv, ppath, ctx) != AGC_OK)) {
        fprintf(stderr, "bench_audit: %s\n", agc_ctx_errmsg(ctx));
        agc_audit_close(a);
        return 1;
    }
    if (sealed)
        agc_audit_set_privacy(a, priv);
    json_t *p = json_pack("{sssss{sssi}}", "call_id", "call_123", "tool", "shell", "arguments",
                          "cmd", "ls -la /tmp", "timeout", 30);
    double t0 = now_s(), c0 = cpu_s();
    agc_status st = AGC_OK;
    for (long i = 0; st == AGC_OK && i < n; i++) {
        agc_audit_entry e = {.actor = "agent:bench",
                             .run_id = "run_01JBENCH",
                             .subject = sealed ? "subject-1" : NULL,
                             .action = "tool.call",
                             .outcome = "ok",
                             .payload = p};
        st = agc_audit_append(a, &e, NULL);
    }
    if (st == AGC_OK)
        st = agc_audit_flush(a);
    double t1 = now_s(), c1 = cpu_s();
    json_decref(p);
    if (st != AGC_OK) {
        fprintf(stderr, "bench_audit: %s\n", agc_ctx_errmsg(ctx));
        agc_audit_close(a);
        return 1;
    }
    printf("append %-18s %8ld records  %10.0f records/s  (%.0f per CPU second)\n", name, n,
           (double)n / (t1 - t0), (double)n / (c1 - c0));
    agc_audit_verify_result res;
    double t2 = now_s();
    st = agc_audit_verify(&res, a, NULL);
    double t3 = now_s();
    if (st == AGC_OK && res.ok)
        printf("verify %-18s %8llu records  %10.0f records/s\n", name,
               (unsigned long long)res.records, (double)res.records / (t3 - t2));
    else
        fprintf(stderr, "bench_audit: verify failed: %s\n", res.message);
    agc_audit_close(a);
    agc_privacy_close(priv);
    char side[1300];
    unlink(path);
    unlink(ppath);
    snprintf(side, sizeof side, "%s-wal", ppath);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", ppath);
    unlink(side);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return st == AGC_OK && res.ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    if (!dir)
        dir = "/tmp";
    if (n <= 0)
        n = 2000;
    long nb = argc > 3 ? atol(argv[3]) : 100000;
    if (nb <= 0)
        nb = 100000;
    setenv("AGC_BENCH_AUDIT_KEY",
           "8f2d5e3a1b7c9d0e4f6a8b2c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e", 1);
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    int rc = 0;
    rc |= bench_mode(dir, "each", AGC_AUDIT_SYNC_EACH, 0, 0, false, n, ctx);
    rc |= bench_mode(dir, "batch-64", AGC_AUDIT_SYNC_BATCH, 64, 0, false, nb, ctx);
    rc |= bench_mode(dir, "batch-256", AGC_AUDIT_SYNC_BATCH, 256, 0, false, nb, ctx);
    rc |= bench_mode(dir, "batch-1024", AGC_AUDIT_SYNC_BATCH, 1024, 0, false, nb, ctx);
    rc |= bench_mode(dir, "batch-256+checkpts", AGC_AUDIT_SYNC_BATCH, 256, 1000, false, nb, ctx);
    rc |= bench_mode(dir, "batch-256+sealed", AGC_AUDIT_SYNC_BATCH, 256, 0, true, nb / 4, ctx);
    agc_ctx_free(ctx);
    return rc;
}
