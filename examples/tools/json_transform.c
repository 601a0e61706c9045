/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Example agentc tool using the `agentc` ABI (agentc/guest.h): flattens the
 * JSON arguments into an object mapping RFC 6901 pointers to scalar values,
 * e.g. {"a": {"b": [1, "x"]}} -> {"/a/b/0": 1, "/a/b/1": "x"}. Empty objects
 * and arrays map to themselves. Malformed input produces {"error": "..."}.
 * It uses no WASI capability beyond memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/guest.h"

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->len + n + 1)
            c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p)
            abort();
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static const char *src;
static size_t pos;
static sbuf out, path;
static int count;
static const char *err;

static void ws(void)
{
    while (src[pos] == ' ' || src[pos] == '\n' || src[pos] == '\t' || src[pos] == '\r')
        pos++;
}

/* Skips a string at pos (pointing at '"'); returns its raw span. */
static int string(size_t *start, size_t *end)
{
    if (src[pos] != '"')
        return -1;
    *start = ++pos;
    while (src[pos] && src[pos] != '"')
        pos += src[pos] == '\\' && src[pos + 1] ? 2 : 1;
    if (!src[pos])
        return -1;
    *end = pos++;
    return 0;
}

static void emit(size_t s, size_t e)
{
    if (count++)
        put(&out, ", ", 2);
    put(&out, "\"", 1);
    put(&out, path.p ? path.p : "", path.len);
    put(&out, "\": ", 3);
    put(&out, src + s, e - s);
}

static int value(void);

static int member_path(size_t s, size_t e)
{
    put(&path, "/", 1);
    for (size_t i = s; i < e; i++) {
        if (src[i] == '~')
            put(&path, "~0", 2);
        else if (src[i] == '/')
            put(&path, "~1", 2);
        else
            put(&path, src + i, 1);
    }
    return 0;
}

static int container(char open)
{
    size_t start = pos++, saved = path.len;
    char close = open == '{' ? '}' : ']';
    ws();
    if (src[pos] == close) {
        pos++;
        emit(start, pos);
        return 0;
    }
    for (int i = 0;; i++) {
        ws();
        if (open == '{') {
            size_t ks, ke;
            if (string(&ks, &ke) != 0)
                return err = "expected a member name", -1;
            ws();
            if (src[pos++] != ':')
                return err = "expected ':'", -1;
            member_path(ks, ke);
        } else {
            char idx[16];
            snprintf(idx, sizeof idx, "/%d", i);
            put(&path, idx, strlen(idx));
        }
        if (value() != 0)
            return -1;
        path.len = saved;
        if (path.p)
            path.p[saved] = 0;
        ws();
        if (src[pos] == ',') {
            pos++;
            continue;
        }
        if (src[pos] == close) {
            pos++;
            return 0;
        }
        return err = "expected ',' or a closing bracket", -1;
    }
}

static int value(void)
{
    ws();
    char c = src[pos];
    if (c == '{' || c == '[')
        return container(c);
    size_t s = pos, a, b;
    if (c == '"') {
        if (string(&a, &b) != 0)
            return err = "unterminated string", -1;
    } else {
        while (src[pos] && !strchr(",]} \n\t\r", src[pos]))
            pos++;
        if (pos == s)
            return err = "expected a value", -1;
    }
    emit(s, pos);
    return 0;
}

int main(void)
{
    char *in = agentc_input();
    if (!in)
        return 1;
    src = in;
    put(&out, "{", 1);
    if (value() != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "{\"error\": \"%s at offset %zu\"}", err, pos);
        agentc_log_str(AGENTC_LOG_WARN, msg);
        agentc_output(msg);
        return 0;
    }
    put(&out, "}", 1);
    char note[64];
    snprintf(note, sizeof note, "flattened %d values", count);
    agentc_log_str(AGENTC_LOG_DEBUG, note);
    agentc_output_write(out.p, (int)out.len);
    free(in);
    return 0;
}
