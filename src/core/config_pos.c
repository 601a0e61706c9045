/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Source positions for JSON documents: jansson parses (strictly) but keeps
 * no positions, so this scanner walks the already-accepted text once and
 * maps each value's JSON Pointer to its line and column. It trusts its input
 * (jansson accepted it) and simply stops on anything unexpected.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "config_int.h"

typedef struct scan {
    const char *p, *end;
    int line;
    const char *line_start;
    json_t *posmap;
    agc_buf path;
    agc_buf key;
    bool oom;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
        if (*s->p == '\n') {
            s->line++;
            s->line_start = s->p + 1;
        }
        s->p++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(scan *s, unsigned *out)
{
    if (s->end - s->p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s->p[i]);
        if (h < 0)
            return false;
        v = v * 16 + (unsigned)h;
    }
    s->p += 4;
    *out = v;
    return true;
}

static bool put_utf8(agc_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return agc_buf_append(b, u, n) == AGC_OK;
}

/* Reads a string at s->p (on the opening quote); decoded into s->key when keep. */
static bool string(scan *s, bool keep)
{
    if (keep)
        agc_buf_clear(&s->key);
    s->p++;
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if (c != '\\') {
            if (keep && agc_buf_putc(&s->key, c) != AGC_OK)
                return s->oom = true, false;
            continue;
        }
        if (s->p >= s->end)
            return false;
        char e = *s->p++;
        unsigned cp = 0;
        switch (e) {
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            if (!hex4(s, &cp))
                return false;
            if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\' &&
                s->p[1] == 'u') {
                unsigned lo;
                s->p += 2;
                if (!hex4(s, &lo))
                    return false;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            break;
        default:
            cp = (unsigned char)e;
            break;
        }
        if (keep && !put_utf8(&s->key, cp))
            return s->oom = true, false;
    }
    if (s->p >= s->end)
        return false;
    s->p++;
    return true;
}

static bool value(scan *s, int depth)
{
    ws(s);
    if (s->p >= s->end || depth > 4096)
        return false;
    json_int_t pos = AGC__POS_PACK(s->line, (int)(s->p - s->line_start) + 1);
    if (json_object_set_new(s->posmap, agc_buf_cstr(&s->path), json_integer(pos)) != 0)
        return s->oom = true, false;
    size_t base = s->path.len;
    char c = *s->p;
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        s->p++;
        ws(s);
        if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
            s->p++;
            return true;
        }
        for (size_t i = 0;; i++) {
            ws(s);
            agc_status st;
            if (obj) {
                if (s->p >= s->end || *s->p != '"' || !string(s, true))
                    return false;
                ws(s);
                if (s->p >= s->end || *s->p != ':')
                    return false;
                s->p++;
                st = agc_json_pointer_append(&s->path, agc_buf_cstr(&s->key));
            } else {
                st = agc_buf_printf(&s->path, "/%zu", i);
            }
            if (st != AGC_OK)
                return s->oom = true, false;
            if (!value(s, depth + 1))
                return false;
            s->path.len = base;
            s->path.data[base] = '\0';
            ws(s);
            if (s->p >= s->end)
                return false;
            if (*s->p == ',') {
                s->p++;
                continue;
            }
            if (*s->p == (obj ? '}' : ']')) {
                s->p++;
                return true;
            }
            return false;
        }
    }
    if (c == '"')
        return string(s, false);
    while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
        s->p++;
    return true;
}

agc_status agc__json_positions(json_t *posmap, const char *text, size_t len, agc_ctx *ctx)
{
    scan s = {0};
    s.p = text;
    s.end = text + len;
    s.line = 1;
    s.line_start = text;
    s.posmap = posmap;
    agc_buf_init(&s.path, ctx, 1024 * 1024);
    agc_buf_init(&s.key, ctx, 1024 * 1024);
    agc_ctx *prev = agc_json_enter(ctx);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        s.p += 3;
    (void)value(&s, 0);
    bool oom = s.oom || agc_json_oom(ctx);
    agc_json_leave(prev);
    agc_buf_free(&s.path);
    agc_buf_free(&s.key);
    return oom ? agc_error_set(ctx, AGC_ENOMEM, "config", "out of memory reading positions")
               : AGC_OK;
}
