/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Arena for per-turn data: bump allocation in blocks that double in size
 * (4 KiB first), freed all at once. Large requests get a block of their own.
 * The total is capped; the cap is an error, not an abort.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    max_align_t data[];
} block;

struct agc_arena {
    agc_ctx *ctx;
    block *head;
    size_t max;
    size_t reserved; /* sum of block sizes */
    size_t used;
};

#define ALIGN       _Alignof(max_align_t)
#define FIRST_BLOCK 4096

agc_status agc_arena_new(agc_arena **out, size_t max_bytes, agc_ctx *ctx)
{
    *out = NULL;
    agc_arena *a = agc_calloc(ctx, 1, sizeof *a);
    if (!a)
        return AGC_ENOMEM;
    a->ctx = ctx;
    a->max = max_bytes ? max_bytes : (size_t)64 * 1024 * 1024;
    *out = a;
    return AGC_OK;
}

static block *grow(agc_arena *a, size_t need)
{
    size_t size = a->head ? a->head->size * 2 : FIRST_BLOCK;
    if (size < need)
        size = need;
    if (a->reserved + size > a->max) {
        size = need; /* try the exact size before giving up */
        if (a->reserved + size > a->max) {
            agc_error_set(a->ctx, AGC_ELIMIT, "arena",
                          "arena limit of %zu bytes reached (asked for %zu more)", a->max, need);
            return NULL;
        }
    }
    block *b = agc_malloc(a->ctx, sizeof *b + size);
    if (!b)
        return NULL;
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->reserved += size;
    return b;
}

void *agc_arena_alloc(agc_arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    size_t rounded = (size + ALIGN - 1) & ~(ALIGN - 1);
    if (rounded < size) {
        agc_error_set(a->ctx, AGC_ELIMIT, "arena", "allocation of %zu bytes is too large", size);
        return NULL;
    }
    block *b = a->head;
    if (!b || b->size - b->used < rounded) {
        b = grow(a, rounded);
        if (!b)
            return NULL;
    }
    void *p = (char *)b->data + b->used;
    b->used += rounded;
    a->used += size;
    return p;
}

char *agc_arena_strdup(agc_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = agc_arena_alloc(a, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *agc_arena_sprintf(agc_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = NULL;
    if (n >= 0) {
        s = agc_arena_alloc(a, (size_t)n + 1);
        if (s)
            vsnprintf(s, (size_t)n + 1, fmt, ap2);
    } else {
        agc_error_set(a->ctx, AGC_EINVAL, "arena", "invalid format string \"%s\"", fmt);
    }
    va_end(ap2);
    return s;
}

size_t agc_arena_used(const agc_arena *a)
{
    return a->used;
}

void agc_arena_reset(agc_arena *a)
{
    if (!a->head)
        return;
    /* keep the oldest (smallest) block */
    block *b = a->head;
    while (b->next) {
        block *n = b->next;
        a->reserved -= b->size;
        agc_free(a->ctx, b);
        b = n;
    }
    b->used = 0;
    a->head = b;
    a->used = 0;
}

void agc_arena_free(agc_arena *a)
{
    if (!a)
        return;
    block *b = a->head;
    while (b) {
        block *n = b->next;
        agc_free(a->ctx, b);
        b = n;
    }
    agc_free(a->ctx, a);
}
