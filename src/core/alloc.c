/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Allocation through the ctx hook. Each block has a 16-byte header holding its
 * size and owning ctx, so frees need no size and the hook always learns the
 * old size. Failures record AGC_ENOMEM on the ctx (no allocation needed).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "ctx_int.h"

typedef union agc__hdr {
    struct {
        size_t size;
        agc_ctx *ctx;
    } h;
    max_align_t align;
} agc__hdr;

#define HDR sizeof(agc__hdr)

static void *oom(agc_ctx *ctx, size_t size)
{
    agc_error_set(ctx, AGC_ENOMEM, "alloc", "out of memory allocating %zu bytes", size);
    return NULL;
}

void *agc_malloc(agc_ctx *ctx, size_t size)
{
    if (size > SIZE_MAX - HDR)
        return oom(ctx, size);
    agc__hdr *h = agc__raw_realloc(ctx, NULL, 0, size + HDR);
    if (!h)
        return oom(ctx, size);
    h->h.size = size;
    h->h.ctx = ctx;
    return h + 1;
}

void *agc_calloc(agc_ctx *ctx, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return oom(ctx, SIZE_MAX);
    void *p = agc_malloc(ctx, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *agc_realloc(agc_ctx *ctx, void *p, size_t size)
{
    if (!p)
        return agc_malloc(ctx, size);
    if (size > SIZE_MAX - HDR)
        return oom(ctx, size);
    agc__hdr *h = (agc__hdr *)p - 1;
    agc__hdr *n = agc__raw_realloc(ctx, h, h->h.size + HDR, size + HDR);
    if (!n)
        return oom(ctx, size);
    n->h.size = size;
    return n + 1;
}

void agc_free(agc_ctx *ctx, void *p)
{
    if (!p)
        return;
    agc__hdr *h = (agc__hdr *)p - 1;
    (void)ctx;
    agc_ctx *owner = h->h.ctx;
    agc__raw_realloc(owner, h, h->h.size + HDR, 0);
}

/* jansson bridge helpers: allocate with a given ctx, free with the recorded one */
void *agc__hdr_alloc(agc_ctx *ctx, size_t size)
{
    agc__hdr *h = agc__raw_realloc(ctx, NULL, 0, size + HDR);
    if (!h)
        return NULL;
    h->h.size = size;
    h->h.ctx = ctx;
    return h + 1;
}

void agc__hdr_free(void *p)
{
    if (p) {
        agc__hdr *h = (agc__hdr *)p - 1;
        agc__raw_realloc(h->h.ctx, h, h->h.size + HDR, 0);
    }
}

char *agc_strndup(agc_ctx *ctx, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = agc_malloc(ctx, len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *agc_strdup(agc_ctx *ctx, const char *s)
{
    return agc_strndup(ctx, s, SIZE_MAX);
}

char *agc_vsprintf(agc_ctx *ctx, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        agc_error_set(ctx, AGC_EINVAL, "alloc", "invalid format string \"%s\"", fmt);
        return NULL;
    }
    char *s = agc_malloc(ctx, (size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *agc_sprintf(agc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = agc_vsprintf(ctx, fmt, ap);
    va_end(ap);
    return s;
}

void agc_memzero(void *p, size_t n)
{
    if (p && n)
        sodium_memzero(p, n);
}
