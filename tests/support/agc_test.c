/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Counting/failing allocator, OOM sweep and file helpers for the test suite. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agc_test.h"

void *agc_test_alloc_hook(void *ud, void *p, size_t old_size, size_t new_size)
{
    agc_test_alloc *a = ud;
    if (new_size == 0) {
        if (p) {
            a->live--;
            a->live_bytes -= old_size;
            free(p);
        }
        return NULL;
    }
    a->calls++;
    if (a->fail_at && (a->calls == a->fail_at || (a->persistent && a->calls > a->fail_at))) {
        a->failures++;
        return NULL;
    }
    void *n = realloc(p, new_size);
    if (!n)
        return NULL;
    if (!p)
        a->live++;
    a->live_bytes = a->live_bytes - old_size + new_size;
    return n;
}

agc_ctx *agc_test_ctx_new(agc_test_alloc *a)
{
    memset(a, 0, sizeof *a);
    agc_ctx_opts o = AGC_CTX_OPTS_INIT;
    o.realloc = agc_test_alloc_hook;
    o.realloc_ud = a;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, &o), AGC_OK);
    return ctx;
}

long agc_test_oom_sweep(agc_test_sweep_fn fn, void *user, agc_status also_ok)
{
    long runs = 0;
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (long n = 1;; n++) {
            agc_test_alloc a;
            memset(&a, 0, sizeof a);
            agc_ctx_opts o = AGC_CTX_OPTS_INIT;
            o.realloc = agc_test_alloc_hook;
            o.realloc_ud = &a;
            agc_ctx *ctx = NULL;
            assert_int_equal(agc_ctx_new(&ctx, &o), AGC_OK);
            a.fail_at = n + a.calls; /* count from after the ctx itself */
            a.persistent = persistent;
            agc_status st = fn(ctx, user);
            runs++;
            long failures = a.failures;
            if (st != AGC_OK && st != AGC_ENOMEM && !(also_ok && st == also_ok)) {
                fprintf(stderr, "oom sweep: failing allocation %ld (%s) gave %s: %s\n", n,
                        persistent ? "persistent" : "once", agc_status_name(st),
                        agc_ctx_errmsg(ctx));
                fail();
            }
            if (failures > 0 && st == AGC_OK && persistent) {
                /* a persistent failure that still succeeds is fine only if the
                 * code recovered; nothing to check beyond leaks */
            }
            agc_ctx_free(ctx);
            if (a.live != 0) {
                fprintf(stderr, "oom sweep: failing allocation %ld (%s) leaked %ld blocks\n", n,
                        persistent ? "persistent" : "once", a.live);
                fail();
            }
            if (failures == 0) {
                assert_int_equal(st, AGC_OK);
                break;
            }
        }
    }
    return runs;
}

char *agc_test_source_path(const char *rel)
{
    const char *root = getenv("AGC_SOURCE_DIR");
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", root ? root : ".", rel) > 0);
    return p;
}

char *agc_test_testdata_path(const char *rel)
{
    const char *root = getenv("AGC_TESTDATA");
    if (!root)
        return NULL;
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
    struct stat st;
    if (stat(p, &st) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

char *agc_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    assert_true(asprintf(&p, "%s/agctest.XXXXXX", base ? base : "/tmp") > 0);
    assert_non_null(mkdtemp(p));
    return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void agc_test_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void agc_test_write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
}
