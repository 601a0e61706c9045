/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Capped string builder. Growth doubles; a failed append leaves the buffer as
 * it was so that callers can report the error with the partial content.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"

void agc_buf_init(agc_buf *b, agc_ctx *ctx, size_t max)
{
    b->ctx = ctx;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : AGC_BUF_DEFAULT_MAX;
}

agc_status agc_buf_reserve(agc_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return agc_error_set(b->ctx, AGC_ELIMIT, "buf",
                             "buffer limit of %zu bytes reached (have %zu, need %zu more)", b->max,
                             b->len, n);
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return AGC_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *d = agc_realloc(b->ctx, b->data, cap);
    if (!d)
        return AGC_ENOMEM;
    b->data = d;
    b->cap = cap;
    return AGC_OK;
}

agc_status agc_buf_append(agc_buf *b, const void *data, size_t len)
{
    agc_status st = agc_buf_reserve(b, len);
    if (st != AGC_OK)
        return st;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return AGC_OK;
}

agc_status agc_buf_puts(agc_buf *b, const char *s)
{
    return agc_buf_append(b, s, strlen(s));
}

agc_status agc_buf_putc(agc_buf *b, char c)
{
    return agc_buf_append(b, &c, 1);
}

agc_status agc_buf_vprintf(agc_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return agc_error_set(b->ctx, AGC_EINVAL, "buf", "invalid format string \"%s\"", fmt);
    agc_status st = agc_buf_reserve(b, (size_t)n);
    if (st != AGC_OK)
        return st;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return AGC_OK;
}

agc_status agc_buf_printf(agc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agc_status st = agc_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

const char *agc_buf_cstr(const agc_buf *b)
{
    return b->data ? b->data : "";
}

void agc_buf_clear(agc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *agc_buf_detach(agc_buf *b, size_t *len_out)
{
    char *d = b->data;
    size_t len = b->len;
    if (!d) {
        d = agc_strdup(b->ctx, "");
        len = 0;
    }
    b->data = NULL;
    b->len = b->cap = 0;
    if (len_out)
        *len_out = len;
    return d;
}

void agc_buf_free(agc_buf *b)
{
    agc_free(b->ctx, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
