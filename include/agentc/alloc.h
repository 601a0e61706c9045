/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Memory: every allocation of the library goes through the ctx's realloc hook
 * (see agc_ctx_opts), so tests can fail the Nth allocation and embedders can
 * account for or wipe memory. Blocks carry a small header with their size, so
 * agc_free() needs no size. Out of memory is reported as AGC_ENOMEM on the ctx,
 * never by aborting.
 */
#ifndef AGENTC_ALLOC_H
#define AGENTC_ALLOC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Allocates size bytes (uninitialised). NULL + AGC_ENOMEM on ctx on failure. */
void *agc_malloc(agc_ctx *ctx, size_t size);
/* Allocates n*size zeroed bytes; overflow is AGC_ENOMEM. */
void *agc_calloc(agc_ctx *ctx, size_t n, size_t size);
/* Resizes p (NULL allocates). On failure returns NULL and p is untouched. */
void *agc_realloc(agc_ctx *ctx, void *p, size_t size);
/* Frees p (NULL is a no-op). p must come from the same ctx. */
void agc_free(agc_ctx *ctx, void *p);
/* Copies of strings, owned by the caller (agc_free). NULL + AGC_ENOMEM on failure. */
char *agc_strdup(agc_ctx *ctx, const char *s);
char *agc_strndup(agc_ctx *ctx, const char *s, size_t n);
/* printf into a new string owned by the caller. */
char *agc_sprintf(agc_ctx *ctx, const char *fmt, ...) AGC_PRINTF(2, 3);
char *agc_vsprintf(agc_ctx *ctx, const char *fmt, va_list ap) AGC_PRINTF(2, 0);

/* Zeroes n bytes in a way the compiler cannot elide (libsodium). */
void agc_memzero(void *p, size_t n);

/*
 * Per-turn arena: many small allocations, freed at once. Blocks come from the
 * ctx allocator. Growth is capped (max_bytes, 0 = 64 MiB); going past it is
 * AGC_ELIMIT. Never put secrets in an arena.
 */
typedef struct agc_arena agc_arena;

AGC_NODISCARD agc_status agc_arena_new(agc_arena **out, size_t max_bytes, agc_ctx *ctx);
/* Allocates size bytes aligned for any type; NULL + error on ctx on failure. */
void *agc_arena_alloc(agc_arena *a, size_t size);
char *agc_arena_strdup(agc_arena *a, const char *s);
char *agc_arena_sprintf(agc_arena *a, const char *fmt, ...) AGC_PRINTF(2, 3);
/* Bytes handed out so far (without block overhead). */
size_t agc_arena_used(const agc_arena *a);
/* Forgets every allocation but keeps the first block for reuse. */
void agc_arena_reset(agc_arena *a);
/* Frees everything; NULL is a no-op. */
void agc_arena_free(agc_arena *a);

#ifdef __cplusplus
}
#endif
#endif
