/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * String builder: a growable, always NUL-terminated byte buffer with a hard
 * size cap set at init (like curl's dynbuf). Appending past the cap fails with
 * AGC_ELIMIT and leaves the content as it was. Memory comes from the ctx.
 */
#ifndef AGENTC_BUF_H
#define AGENTC_BUF_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_buf {
    agc_ctx *ctx;
    char *data; /* NULL until the first append; agc_buf_cstr() never returns NULL */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
} agc_buf;

#define AGC_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)

/* Initialises an empty buffer; max 0 means AGC_BUF_DEFAULT_MAX. Cannot fail. */
void agc_buf_init(agc_buf *b, agc_ctx *ctx, size_t max);
/* Appends bytes; AGC_ENOMEM or AGC_ELIMIT on failure (content unchanged). */
agc_status agc_buf_append(agc_buf *b, const void *data, size_t len);
agc_status agc_buf_puts(agc_buf *b, const char *s);
agc_status agc_buf_putc(agc_buf *b, char c);
agc_status agc_buf_printf(agc_buf *b, const char *fmt, ...) AGC_PRINTF(2, 3);
agc_status agc_buf_vprintf(agc_buf *b, const char *fmt, va_list ap) AGC_PRINTF(2, 0);
/* Makes room for n more bytes without changing len. */
agc_status agc_buf_reserve(agc_buf *b, size_t n);
/* The content, NUL-terminated; "" when empty. Borrowed until the next change. */
const char *agc_buf_cstr(const agc_buf *b);
/* Empties the buffer, keeping its memory. */
void agc_buf_clear(agc_buf *b);
/* Hands the content to the caller (agc_free on b->ctx) and empties b. Returns
 * NULL + AGC_ENOMEM only when the buffer was empty and "" could not be allocated. */
char *agc_buf_detach(agc_buf *b, size_t *len_out);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void agc_buf_free(agc_buf *b);

#ifdef __cplusplus
}
#endif
#endif
