/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON on jansson: strict parsing with positions, JSON Pointer, canonical
 * serialisation, and the allocation bridge. jansson's allocator is process
 * wide (json_set_alloc_funcs), so it is installed once and routes each call
 * to the ctx of the innermost agc_json_enter() scope of the calling thread,
 * or to the system allocator outside any scope. Every block records its
 * owning ctx, so a free goes back to the allocator that made it.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "ctx_int.h"

void *agc__hdr_alloc(agc_ctx *ctx, size_t size);
void agc__hdr_free(void *p);

/* ---- allocation bridge ---------------------------------------------------- */

/* Outside any scope jansson uses this ctx; only its allocator fields are read. */
static struct agc_ctx bridge_default = {.realloc = agc__sys_realloc};
static _Thread_local agc_ctx *bridge_scope;
static pthread_once_t bridge_once = PTHREAD_ONCE_INIT;

static void *bridge_malloc(size_t size)
{
    agc_ctx *ctx = bridge_scope;
    void *p = agc__hdr_alloc(ctx ? ctx : &bridge_default, size);
    if (!p && ctx) {
        ctx->json_oom = true;
        /* jansson's parser does not survive a failed allocation: give it
         * system memory (owned by bridge_default, so it is freed there) and
         * let agc_json_parse report AGC_ENOMEM once json_loadb returns */
        if (ctx->json_parsing)
            p = agc__hdr_alloc(&bridge_default, size);
    }
    return p;
}

static void bridge_install_once(void)
{
    json_set_alloc_funcs(bridge_malloc, agc__hdr_free);
}

void agc__json_bridge_install(void)
{
    pthread_once(&bridge_once, bridge_install_once);
}

agc_ctx *agc_json_enter(agc_ctx *ctx)
{
    agc_ctx *prev = bridge_scope;
    bridge_scope = ctx;
    if (ctx)
        ctx->json_oom = false;
    return prev;
}

void agc_json_leave(agc_ctx *prev)
{
    bridge_scope = prev;
}

bool agc_json_oom(agc_ctx *ctx)
{
    return ctx && ctx->json_oom;
}

/* ---- parsing -------------------------------------------------------------- */

agc_status agc_json_parse(json_t **out, const char *text, size_t len, const char *source,
                          agc_ctx *ctx)
{
    *out = NULL;
    json_error_t jerr;
    agc_ctx *prev = agc_json_enter(ctx);
    ctx->json_parsing = true;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    ctx->json_parsing = false;
    bool oom = ctx->json_oom;
    agc_json_leave(prev);
    if (!v) {
        if (oom || json_error_code(&jerr) == json_error_out_of_memory)
            return agc_error_set(ctx, AGC_ENOMEM, "json", "out of memory parsing %s",
                                 source ? source : "<input>");
        return agc_error_set(ctx, AGC_EPARSE, "json", "%s:%d:%d: %s", source ? source : "<input>",
                             jerr.line, jerr.column, jerr.text);
    }
    if (oom) { /* jansson recovered internally but something may be missing */
        json_decref(v);
        return agc_error_set(ctx, AGC_ENOMEM, "json", "out of memory parsing %s",
                             source ? source : "<input>");
    }
    *out = v;
    return AGC_OK;
}

agc_status agc_json_load_file(json_t **out, const char *path, agc_ctx *ctx)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return agc_error_set(ctx, AGC_EIO, "json", "cannot open %s: %s", path, strerror(errno));
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    char chunk[8192];
    size_t n;
    agc_status st = AGC_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        st = agc_buf_append(&b, chunk, n);
        if (st != AGC_OK)
            break;
    }
    if (st == AGC_OK && ferror(f))
        st = agc_error_set(ctx, AGC_EIO, "json", "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    if (st == AGC_OK)
        st = agc_json_parse(out, agc_buf_cstr(&b), b.len, path, ctx);
    agc_buf_free(&b);
    return st;
}

/* ---- JSON Pointer (RFC 6901) -------------------------------------------- */

/* Decodes one segment starting at *p into buf (cap bytes); advances *p past it. */
static int next_segment(const char **p, char *buf, size_t cap)
{
    const char *s = *p; /* points at '/' */
    size_t n = 0;
    s++;
    while (*s && *s != '/') {
        char c = *s++;
        if (c == '~') {
            if (*s == '0')
                c = '~';
            else if (*s == '1')
                c = '/';
            else
                return -1;
            s++;
        }
        if (n + 1 >= cap)
            return -2;
        buf[n++] = c;
    }
    buf[n] = '\0';
    *p = s;
    return 0;
}

static bool parse_index(const char *seg, size_t *idx)
{
    if (!seg[0] || (seg[0] == '0' && seg[1]))
        return false;
    size_t v = 0;
    for (const char *c = seg; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        if (v > (SIZE_MAX - 9) / 10)
            return false;
        v = v * 10 + (size_t)(*c - '0');
    }
    *idx = v;
    return true;
}

agc_status agc_json_pointer_check(const char *ptr, agc_ctx *ctx)
{
    if (ptr[0] && ptr[0] != '/')
        return agc_error_set(ctx, AGC_EINVAL, "json",
                             "JSON Pointer \"%s\" must be empty or start with '/'", ptr);
    for (const char *c = ptr; *c; c++)
        if (*c == '~' && c[1] != '0' && c[1] != '1')
            return agc_error_set(ctx, AGC_EINVAL, "json",
                                 "JSON Pointer \"%s\": '~' must be followed by 0 or 1", ptr);
    return AGC_OK;
}

json_t *agc_json_pointer_get(const json_t *doc, const char *ptr)
{
    if (!doc || !ptr)
        return NULL;
    if (ptr[0] && ptr[0] != '/')
        return NULL;
    json_t *cur = (json_t *)doc;
    const char *p = ptr;
    char seg[1024];
    while (*p && cur) {
        if (next_segment(&p, seg, sizeof seg) != 0)
            return NULL;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        } else if (json_is_array(cur)) {
            size_t i;
            if (!parse_index(seg, &i))
                return NULL;
            cur = json_array_get(cur, i);
        } else {
            return NULL;
        }
    }
    return cur;
}

agc_status agc_json_pointer_set(json_t *doc, const char *ptr, json_t *value, agc_ctx *ctx)
{
    agc_status st = agc_json_pointer_check(ptr, ctx);
    if (st != AGC_OK) {
        json_decref(value);
        return st;
    }
    if (!ptr[0]) {
        json_decref(value);
        return agc_error_set(ctx, AGC_EINVAL, "json",
                             "cannot replace the whole document through the pointer \"\"");
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *cur = doc;
    const char *p = ptr;
    char seg[1024];
    st = AGC_OK;
    while (*p) {
        const char *start = p;
        if (next_segment(&p, seg, sizeof seg) != 0) {
            st = agc_error_set(ctx, AGC_EINVAL, "json", "JSON Pointer \"%s\": segment too long",
                               ptr);
            break;
        }
        bool last = *p == '\0';
        if (json_is_object(cur)) {
            if (last) {
                if (json_object_set_new(cur, seg, value) != 0)
                    st = agc_error_set(ctx, AGC_ENOMEM, "json", "out of memory setting %s", ptr);
                value = NULL;
                break;
            }
            json_t *next = json_object_get(cur, seg);
            if (!next) {
                next = json_object();
                if (!next || json_object_set_new(cur, seg, next) != 0) {
                    st = agc_error_set(ctx, AGC_ENOMEM, "json", "out of memory setting %s", ptr);
                    break;
                }
            }
            cur = next;
        } else if (json_is_array(cur)) {
            size_t i, n = json_array_size(cur);
            if (strcmp(seg, "-") == 0)
                i = n;
            else if (!parse_index(seg, &i) || i > n) {
                st = agc_error_set(ctx, AGC_EINVAL, "json",
                                   "JSON Pointer \"%s\": \"%.*s\" is not an index of an array "
                                   "of %zu items",
                                   ptr, (int)(p - start - 1), start + 1, n);
                break;
            }
            if (last) {
                int rc = (i == n) ? json_array_append_new(cur, value)
                                  : json_array_set_new(cur, i, value);
                value = NULL;
                if (rc != 0)
                    st = agc_error_set(ctx, AGC_ENOMEM, "json", "out of memory setting %s", ptr);
                break;
            }
            if (i == n) {
                st = agc_error_set(ctx, AGC_EINVAL, "json",
                                   "JSON Pointer \"%s\": index %zu is past the end of an array "
                                   "of %zu items",
                                   ptr, i, n);
                break;
            }
            cur = json_array_get(cur, i);
        } else {
            st = agc_error_set(ctx, AGC_EINVAL, "json",
                               "JSON Pointer \"%s\": cannot descend into a %s at \"%.*s\"", ptr,
                               agc_json_type_name(cur), (int)(start - ptr), ptr);
            break;
        }
    }
    json_decref(value);
    agc_json_leave(prev);
    return st;
}

agc_status agc_json_pointer_append(agc_buf *b, const char *segment)
{
    agc_status st = agc_buf_putc(b, '/');
    for (const char *c = segment; st == AGC_OK && *c; c++) {
        if (*c == '~')
            st = agc_buf_append(b, "~0", 2);
        else if (*c == '/')
            st = agc_buf_append(b, "~1", 2);
        else
            st = agc_buf_putc(b, *c);
    }
    return st;
}

/* ---- serialisation -------------------------------------------------------- */

static agc_status put_string(agc_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    agc_status st = agc_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; st == AGC_OK && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            st = agc_buf_append(b, s + i - run, run);
            run = 0;
            if (st == AGC_OK)
                st = agc_buf_puts(b, esc);
        } else {
            run++;
        }
    }
    if (st == AGC_OK)
        st = agc_buf_append(b, s + len - run, run);
    if (st == AGC_OK)
        st = agc_buf_putc(b, '"');
    return st;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static agc_status put_real(agc_buf *b, double d, agc_ctx *ctx)
{
    if (!isfinite(d))
        return agc_error_set(ctx, AGC_EINVAL, "json", "cannot serialise a non-finite number");
    char tmp[40];
    /* shortest form that reads back to the same double */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* keep it a real: 1 -> 1.0 */
    if (!strpbrk(tmp, ".eE"))
        strcat(tmp, ".0"); /* fits: at most 24 chars were used */
    return agc_buf_puts(b, tmp);
}

static agc_status put_value(agc_buf *b, const json_t *v, agc_ctx *ctx, int depth)
{
    if (depth > 2048)
        return agc_error_set(ctx, AGC_ELIMIT, "json", "value nested deeper than 2048 levels");
    switch (json_typeof(v)) {
    case JSON_NULL:
        return agc_buf_puts(b, "null");
    case JSON_TRUE:
        return agc_buf_puts(b, "true");
    case JSON_FALSE:
        return agc_buf_puts(b, "false");
    case JSON_INTEGER:
        return agc_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return put_real(b, json_real_value(v), ctx);
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        agc_status st = agc_buf_putc(b, '[');
        for (size_t i = 0; st == AGC_OK && i < json_array_size(v); i++) {
            if (i)
                st = agc_buf_putc(b, ',');
            if (st == AGC_OK)
                st = put_value(b, json_array_get(v, i), ctx, depth + 1);
        }
        return st == AGC_OK ? agc_buf_putc(b, ']') : st;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        const char **keys = agc_calloc(ctx, n ? n : 1, sizeof *keys);
        if (!keys)
            return AGC_ENOMEM;
        size_t i = 0;
        const char *k;
        json_t *mv;
        json_object_foreach((json_t *)v, k, mv) keys[i++] = k;
        qsort(keys, n, sizeof *keys, cmp_keys);
        agc_status st = agc_buf_putc(b, '{');
        for (i = 0; st == AGC_OK && i < n; i++) {
            if (i)
                st = agc_buf_putc(b, ',');
            if (st == AGC_OK)
                st = put_string(b, keys[i], strlen(keys[i]));
            if (st == AGC_OK)
                st = agc_buf_putc(b, ':');
            if (st == AGC_OK)
                st = put_value(b, json_object_get(v, keys[i]), ctx, depth + 1);
        }
        agc_free(ctx, keys);
        return st == AGC_OK ? agc_buf_putc(b, '}') : st;
    }
    }
    return agc_error_set(ctx, AGC_EINVAL, "json", "unknown JSON value type");
}

agc_status agc_json_canonical(char **out, size_t *len_out, const json_t *value, agc_ctx *ctx)
{
    *out = NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = put_value(&b, value, ctx, 0);
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return st;
    }
    *out = agc_buf_detach(&b, len_out);
    return *out ? AGC_OK : AGC_ENOMEM;
}

agc_status agc_json_dump(char **out, const json_t *value, size_t flags, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    /* jansson's blocks carry our header, so the caller can agc_free() the result */
    *out = json_dumps(value, flags | JSON_ENCODE_ANY);
    agc_json_leave(prev);
    if (!*out)
        return agc_error_set(ctx, AGC_ENOMEM, "json", "out of memory serialising JSON");
    return AGC_OK;
}

/* ---- readers ---------------------------------------------------------------- */

const char *agc_json_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

long long agc_json_int(const json_t *obj, const char *key, long long dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

double agc_json_num(const json_t *obj, const char *key, double dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

bool agc_json_bool(const json_t *obj, const char *key, bool dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

const char *agc_json_type_name(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

agc_status agc_json_str_list(const char ***out, const json_t *arr, agc_ctx *ctx)
{
    *out = NULL;
    if (!json_is_array(arr))
        return AGC_OK;
    const char **l = agc_calloc(ctx, json_array_size(arr) + 1, sizeof *l);
    if (!l)
        return AGC_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_array_get(arr, i));
        if (v)
            l[n++] = v;
    }
    *out = l;
    return AGC_OK;
}
