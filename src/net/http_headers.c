/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Received header lists: arrival order, case-insensitive lookup, each entry
 * one allocation "name\0value\0". The total of names and values is capped so
 * that a hostile peer cannot grow a list without bound. No parsing of values.
 */
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "http_int.h"

typedef struct hdr_entry {
    char *name; /* name and value share one block */
    char *value;
    size_t size;
} hdr_entry;

struct agc_http_headers {
    agc_ctx *ctx;
    hdr_entry *items;
    size_t n, cap;
    size_t bytes, max_bytes;
};

agc_status agc_http__headers_new(agc_http_headers **out, size_t max_bytes, agc_ctx *ctx)
{
    agc_http_headers *h = agc_calloc(ctx, 1, sizeof *h);
    *out = h;
    if (!h)
        return AGC_ENOMEM;
    h->ctx = ctx;
    h->max_bytes = max_bytes;
    return AGC_OK;
}

static agc_status too_many(agc_http_headers *h)
{
    return agc_error_set(h->ctx, AGC_ELIMIT, "http",
                         "received headers exceed %zu bytes; the peer sent too many or too "
                         "long headers",
                         h->max_bytes);
}

agc_status agc_http__headers_add(agc_http_headers *h, const char *name, size_t name_len,
                                 const char *value, size_t value_len)
{
    if (name_len + value_len > h->max_bytes - h->bytes || name_len + value_len > h->max_bytes)
        return too_many(h);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        hdr_entry *items = agc_realloc(h->ctx, h->items, cap * sizeof *items);
        if (!items)
            return AGC_ENOMEM;
        h->items = items;
        h->cap = cap;
    }
    size_t size = name_len + value_len + 2;
    char *blk = agc_malloc(h->ctx, size);
    if (!blk)
        return AGC_ENOMEM;
    memcpy(blk, name, name_len);
    blk[name_len] = '\0';
    memcpy(blk + name_len + 1, value, value_len);
    blk[size - 1] = '\0';
    h->items[h->n++] = (hdr_entry){blk, blk + name_len + 1, size};
    h->bytes += name_len + value_len;
    return AGC_OK;
}

agc_status agc_http__headers_extend_last(agc_http_headers *h, const char *more, size_t len)
{
    if (h->n == 0)
        return AGC_OK; /* a folded line with nothing to fold into: ignore */
    if (len + 1 > h->max_bytes - h->bytes)
        return too_many(h);
    hdr_entry *e = &h->items[h->n - 1];
    size_t name_len = (size_t)(e->value - e->name) - 1;
    size_t vlen = e->size - name_len - 2;
    char *blk = agc_realloc(h->ctx, e->name, e->size + len + 1);
    if (!blk)
        return AGC_ENOMEM;
    char *v = blk + name_len + 1;
    v[vlen] = ' ';
    memcpy(v + vlen + 1, more, len);
    v[vlen + 1 + len] = '\0';
    e->name = blk;
    e->value = v;
    e->size += len + 1;
    h->bytes += len + 1;
    return AGC_OK;
}

void agc_http__headers_clear(agc_http_headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        agc_memzero(h->items[i].name, h->items[i].size); /* values may hold tokens */
        agc_free(h->ctx, h->items[i].name);
    }
    h->n = 0;
    h->bytes = 0;
}

void agc_http__headers_free(agc_http_headers *h)
{
    if (!h)
        return;
    agc_http__headers_clear(h);
    agc_free(h->ctx, h->items);
    agc_free(h->ctx, h);
}

const char *agc_http_headers_get(const agc_http_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    }
    return NULL;
}

size_t agc_http_headers_count(const agc_http_headers *h)
{
    return h->n;
}

agc_http_header agc_http_headers_at(const agc_http_headers *h, size_t i)
{
    return (agc_http_header){h->items[i].name, h->items[i].value};
}

bool agc_http__has_line_break(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return true;
    }
    return false;
}
