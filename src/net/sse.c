/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Server-Sent Events parser following the WHATWG HTML parsing rules. Bytes
 * are split into lines on CR, LF or CRLF (a CR ending one chunk swallows an LF
 * starting the next); a line is processed straight from the chunk when it is
 * whole there, otherwise buffered first. Invariant: line + data + type
 * buffered for one event never exceed max. No decoding, no I/O.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/sse.h"

typedef struct sse_bytes {
    char *p;
    size_t len, cap;
} sse_bytes;

struct agc_sse_parser {
    agc_ctx *ctx;
    agc_sse_event_fn on_event;
    agc_sse_comment_fn on_comment;
    void *user;
    size_t max;
    agc_status err;   /* sticky */
    sse_bytes line;   /* an unterminated line carried over from earlier chunks */
    sse_bytes data;   /* data buffer: each data line + "\n" */
    sse_bytes type;   /* event type buffer */
    sse_bytes idbuf;  /* last event ID buffer */
    sse_bytes lastid; /* last event ID string, set on dispatch */
    int64_t retry;
    uint64_t count;
    bool pending;  /* a field line seen since the last blank line */
    bool skip_lf;  /* the previous byte was a CR */
    bool bom_done; /* past the possible leading BOM */
    unsigned char bom_len;
    unsigned char bom[3];
};

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* Replaces or extends b with n bytes, keeping room for a NUL. */
static agc_status bytes_put(agc_sse_parser *p, sse_bytes *b, const char *s, size_t n, bool append)
{
    size_t base = append ? b->len : 0;
    if (base + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < base + n + 1)
            cap *= 2;
        char *np = agc_realloc(p->ctx, b->p, cap);
        if (!np)
            return AGC_ENOMEM;
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + base, s, n);
    b->len = base + n;
    b->p[b->len] = '\0';
    return AGC_OK;
}

static agc_status fail(agc_sse_parser *p, agc_status st)
{
    p->err = st;
    return st;
}

static agc_status too_big(agc_sse_parser *p)
{
    agc_error_set(p->ctx, AGC_ELIMIT, "sse",
                  "an SSE event exceeds max_event_bytes (%zu); the server sent an oversized "
                  "event or the stream is corrupt: raise the cap if the event is legitimate",
                  p->max);
    return fail(p, AGC_ELIMIT);
}

static bool over_cap(const agc_sse_parser *p, size_t more)
{
    size_t held = p->line.len + p->data.len + p->type.len;
    return more > p->max || held > p->max - more;
}

static agc_status dispatch(agc_sse_parser *p)
{
    agc_status st = bytes_put(p, &p->lastid, p->idbuf.p, p->idbuf.len, false);
    if (st != AGC_OK)
        return fail(p, st);
    p->pending = false;
    if (p->data.len == 0) {
        p->type.len = 0;
        return AGC_OK;
    }
    p->data.len--; /* the "\n" after the last data line */
    p->data.p[p->data.len] = '\0';
    agc_sse_event ev = {
        .type = p->type.len ? p->type.p : "message",
        .type_len = p->type.len ? p->type.len : 7,
        .data = p->data.p,
        .data_len = p->data.len,
        .id = p->lastid.p,
        .id_len = p->lastid.len,
        .retry_ms = p->retry,
    };
    p->count++;
    st = p->on_event(&ev, p->user);
    p->data.len = 0;
    p->type.len = 0;
    if (st != AGC_OK)
        return fail(p, st);
    return AGC_OK;
}

static void set_retry(agc_sse_parser *p, const char *v, size_t n)
{
    if (n == 0)
        return;
    int64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return;
    }
    for (size_t i = 0; i < n; i++) {
        int d = v[i] - '0';
        if (r > (INT64_MAX - d) / 10) {
            r = INT64_MAX;
            break;
        }
        r = r * 10 + d;
    }
    p->retry = r;
}

/* Processes one complete line (without its terminator). */
static agc_status process_line(agc_sse_parser *p, const char *s, size_t n)
{
    if (n == 0)
        return dispatch(p);
    if (s[0] == ':') {
        if (!p->on_comment)
            return AGC_OK;
        agc_status st = p->on_comment(s + 1, n - 1, p->user);
        return st == AGC_OK ? AGC_OK : fail(p, st);
    }
    p->pending = true;
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen && v[0] == ' ') {
        v++;
        vlen--;
    }
    agc_status st = AGC_OK;
    if (flen == 4 && memcmp(s, "data", 4) == 0) {
        if (over_cap(p, vlen + 1))
            return too_big(p);
        st = bytes_put(p, &p->data, v, vlen, true);
        if (st == AGC_OK)
            st = bytes_put(p, &p->data, "\n", 1, true);
    } else if (flen == 5 && memcmp(s, "event", 5) == 0) {
        p->type.len = 0;
        if (over_cap(p, vlen))
            return too_big(p);
        st = bytes_put(p, &p->type, v, vlen, false);
    } else if (flen == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(v, '\0', vlen))
            st = bytes_put(p, &p->idbuf, v, vlen, false);
    } else if (flen == 5 && memcmp(s, "retry", 5) == 0) {
        set_retry(p, v, vlen);
    }
    return st == AGC_OK ? AGC_OK : fail(p, st);
}

static agc_status parse(agc_sse_parser *p, const char *s, size_t n)
{
    while (n) {
        if (p->skip_lf) {
            p->skip_lf = false;
            if (*s == '\n') {
                s++;
                n--;
                continue;
            }
        }
        const char *lf = memchr(s, '\n', n);
        size_t seg = lf ? (size_t)(lf - s) : n;
        const char *cr = memchr(s, '\r', seg);
        const char *eol = cr ? cr : lf;
        if (!eol) {
            if (over_cap(p, n))
                return too_big(p);
            agc_status st = bytes_put(p, &p->line, s, n, true);
            return st == AGC_OK ? AGC_OK : fail(p, st);
        }
        size_t ln = (size_t)(eol - s);
        if (over_cap(p, ln))
            return too_big(p);
        agc_status st;
        if (p->line.len) {
            st = bytes_put(p, &p->line, s, ln, true);
            if (st != AGC_OK)
                return fail(p, st);
            size_t held = p->line.len;
            p->line.len = 0; /* processing may buffer data; the line is no longer pending */
            st = process_line(p, p->line.p, held);
        } else {
            st = process_line(p, s, ln);
        }
        if (st != AGC_OK)
            return st;
        p->skip_lf = *eol == '\r';
        s = eol + 1;
        n -= ln + 1;
    }
    return AGC_OK;
}

agc_status agc_sse_feed(agc_sse_parser *p, const void *data, size_t len)
{
    if (p->err != AGC_OK)
        return p->err;
    const unsigned char *s = data;
    while (!p->bom_done && len) {
        if (*s == BOM[p->bom_len]) {
            p->bom[p->bom_len++] = *s++;
            len--;
            if (p->bom_len == 3) {
                p->bom_done = true;
                p->bom_len = 0;
            }
            continue;
        }
        /* not a BOM: the held bytes are ordinary stream bytes */
        p->bom_done = true;
        size_t held = p->bom_len;
        p->bom_len = 0;
        agc_status st = parse(p, (const char *)p->bom, held);
        if (st != AGC_OK)
            return st;
    }
    return parse(p, (const char *)s, len);
}

agc_status agc_sse_finish(agc_sse_parser *p)
{
    agc_status st = p->err;
    if (st == AGC_OK && (p->pending || p->line.len || p->bom_len)) {
        size_t n = p->line.len + p->data.len + p->type.len + p->bom_len;
        st = agc_error_set(p->ctx, AGC_EPROTO, "sse",
                           "the SSE stream ended inside an event (%zu bytes pending, no blank "
                           "line after them): the stream was truncated",
                           n);
    }
    p->line.len = 0;
    p->data.len = 0;
    p->type.len = 0;
    p->pending = false;
    p->skip_lf = false;
    p->bom_done = false;
    p->bom_len = 0;
    return st;
}

void agc_sse_reset(agc_sse_parser *p)
{
    (void)agc_sse_finish(p);
    p->err = AGC_OK;
    p->idbuf.len = 0;
    p->lastid.len = 0;
    if (p->lastid.p)
        p->lastid.p[0] = '\0';
    p->retry = -1;
    p->count = 0;
}

agc_status agc_sse_parser_new(agc_sse_parser **out, agc_sse_event_fn on_event, void *user,
                              size_t max_event_bytes, agc_ctx *ctx)
{
    *out = NULL;
    if (!on_event)
        return agc_error_set(ctx, AGC_EINVAL, "sse", "agc_sse_parser_new needs an event callback");
    agc_sse_parser *p = agc_calloc(ctx, 1, sizeof *p);
    if (!p)
        return AGC_ENOMEM;
    p->ctx = ctx;
    p->on_event = on_event;
    p->user = user;
    p->max = max_event_bytes ? max_event_bytes : AGC_SSE_DEFAULT_MAX_EVENT;
    p->retry = -1;
    *out = p;
    return AGC_OK;
}

void agc_sse_parser_free(agc_sse_parser *p)
{
    if (!p)
        return;
    agc_ctx *ctx = p->ctx;
    agc_free(ctx, p->line.p);
    agc_free(ctx, p->data.p);
    agc_free(ctx, p->type.p);
    agc_free(ctx, p->idbuf.p);
    agc_free(ctx, p->lastid.p);
    agc_free(ctx, p);
}

void agc_sse_parser_set_on_comment(agc_sse_parser *p, agc_sse_comment_fn on_comment)
{
    p->on_comment = on_comment;
}

const char *agc_sse_last_event_id(const agc_sse_parser *p, size_t *len_out)
{
    if (len_out)
        *len_out = p->lastid.len;
    return p->lastid.len ? p->lastid.p : "";
}

int64_t agc_sse_retry_ms(const agc_sse_parser *p)
{
    return p->retry;
}

uint64_t agc_sse_event_count(const agc_sse_parser *p)
{
    return p->count;
}
