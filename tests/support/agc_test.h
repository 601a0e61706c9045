/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Test support: cmocka plus a counting allocator that fails the Nth
 * allocation (once or from then on), an out-of-memory sweep in the style of
 * SQLite's test_malloc.c, and paths to the source tree and shared test data.
 */
#ifndef AGC_TEST_H
#define AGC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentc/common.h"

typedef struct agc_test_alloc {
    long calls;     /* allocations so far (new blocks and growths) */
    long fail_at;   /* 0 = never; else the call number that fails */
    int persistent; /* fail every call from fail_at on */
    long failures;  /* how many calls failed */
    long live;      /* blocks currently allocated */
    size_t live_bytes;
} agc_test_alloc;

/* Realloc hook for agc_ctx_opts; ud is an agc_test_alloc. */
void *agc_test_alloc_hook(void *ud, void *p, size_t old_size, size_t new_size);

/* A ctx with the counting allocator bound to *a (zeroed here). Asserts success. */
agc_ctx *agc_test_ctx_new(agc_test_alloc *a);

/*
 * Runs fn(ctx, user) with a fresh counting ctx that fails the 1st, 2nd, ...
 * allocation (each once, then each persistently) until fn succeeds with no
 * failure injected. Every run must return AGC_OK or AGC_ENOMEM (or one of
 * also_ok, a status that may stand for a clean failure, 0 for none), and leave
 * no live block after the ctx is freed. Returns the number of runs.
 */
typedef agc_status (*agc_test_sweep_fn)(agc_ctx *ctx, void *user);
long agc_test_oom_sweep(agc_test_sweep_fn fn, void *user, agc_status also_ok);

/* $AGC_SOURCE_DIR/rel (static buffer per call site is not used: caller frees with free()). */
char *agc_test_source_path(const char *rel);
/* $AGC_TESTDATA/rel, or NULL when AGC_TESTDATA is unset or the path does not exist. */
char *agc_test_testdata_path(const char *rel);
/* Creates a fresh temporary directory; caller frees the path with free() and
 * removes the tree with agc_test_rmtree(). */
char *agc_test_tmpdir(void);
void agc_test_rmtree(const char *path);
/* Writes a file (creating it); asserts success. */
void agc_test_write_file(const char *path, const char *content);

#endif
