/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Locates the edits of one file and splices them in. An edit's search text
 * is found exactly, else ignoring trailing whitespace, else ignoring all
 * leading/trailing whitespace and runs of blanks (then the replacement is
 * re-indented by the indentation difference, and replacement lines equal
 * to search lines keep the file's text). It must match once: a second match
 * is an error unless an anchor, a line hint or the edit order decides. A
 * miss reports the closest window of the file by line similarity (hashed
 * character bigrams). Line endings and a missing final newline are kept.
 * No file I/O.
 */
#include <stdint.h>
#include <string.h>

#include "agentc/alloc.h"
#include "changeset_int.h"

typedef struct span {
    const char *s;
    size_t len;
} span;

enum { M_EXACT, M_RTRIM, M_WS, M_COUNT };
#define MAX_MATCHES 64

static size_t rtrim(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n;
}

static size_t lead(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* Compares with runs of blanks collapsed and ends trimmed. */
static bool eq_ws(span a, span b)
{
    size_t i = lead(a.s, a.len), j = lead(b.s, b.len);
    size_t an = rtrim(a.s, a.len), bn = rtrim(b.s, b.len);
    while (i < an && j < bn) {
        bool wa = a.s[i] == ' ' || a.s[i] == '\t', wb = b.s[j] == ' ' || b.s[j] == '\t';
        if (wa != wb)
            return false;
        if (wa) {
            while (i < an && (a.s[i] == ' ' || a.s[i] == '\t'))
                i++;
            while (j < bn && (b.s[j] == ' ' || b.s[j] == '\t'))
                j++;
            continue;
        }
        if (a.s[i] != b.s[j])
            return false;
        i++, j++;
    }
    return i == an && j == bn;
}

static bool eq(span a, span b, int mode)
{
    if (mode == M_EXACT)
        return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
    if (mode == M_RTRIM) {
        size_t x = rtrim(a.s, a.len), y = rtrim(b.s, b.len);
        return x == y && memcmp(a.s, b.s, x) == 0;
    }
    return eq_ws(a, b);
}

static uint64_t bigrams(const char *s, size_t n)
{
    uint64_t m = 0;
    size_t i = lead(s, n);
    n = rtrim(s, n);
    for (; i + 1 < n; i++) {
        unsigned h = ((unsigned char)s[i] * 31u + (unsigned char)s[i + 1]) * 2654435761u;
        m |= (uint64_t)1 << (h >> 26);
    }
    if (i < n && m == 0)
        m = (uint64_t)1 << ((unsigned char)s[i] & 63);
    return m;
}

double agc__cs_line_similarity(const char *a, size_t alen, const char *b, size_t blen)
{
    uint64_t x = bigrams(a, alen), y = bigrams(b, blen);
    if (x == 0 && y == 0)
        return 1.0;
    int inter = __builtin_popcountll(x & y), uni = __builtin_popcountll(x | y);
    return uni ? (double)inter / uni : 0.0;
}

/* Splits text into lines (CR of CRLF removed); *n lines; trailing newline -> no empty line. */
static span *split(size_t *n_out, const char *text, size_t len, agc_ctx *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n')
        n++;
    span *l = agc_calloc(ctx, n + 1, sizeof *l);
    if (!l)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;
        l[i].s = text + off;
        l[i].len = end - off;
        if (l[i].len > 0 && l[i].s[l[i].len - 1] == '\r')
            l[i].len--;
        off = end + 1;
    }
    *n_out = n;
    return l;
}

/* Lines of an edit's text ("" gives none). */
static span *split_edit(size_t *n, const char *s, agc_ctx *ctx)
{
    if (!s[0]) {
        *n = 0;
        return agc_calloc(ctx, 1, sizeof(span));
    }
    size_t len = strlen(s);
    /* "a\n" is two lines "a" and "" in our join convention: keep a trailing empty one */
    span *l = split(n, s, len, ctx);
    if (l && len > 0 && s[len - 1] == '\n') {
        span *nl = agc_realloc(ctx, l, (*n + 2) * sizeof *l);
        if (!nl) {
            agc_free(ctx, l);
            return NULL;
        }
        l = nl;
        l[*n].s = s + len;
        l[*n].len = 0;
        (*n)++;
    }
    return l;
}

static size_t find_all(size_t *found, const span *lines, size_t n, size_t start, const span *want,
                       size_t m, int mode, bool at_eof)
{
    size_t k = 0;
    if (m > n)
        return 0;
    for (size_t s = at_eof ? n - m : start; s + m <= n && k < MAX_MATCHES; s++) {
        if (s < start)
            break;
        size_t i = 0;
        while (i < m && eq(lines[s + i], want[i], mode))
            i++;
        if (i == m)
            found[k++] = s;
        if (at_eof)
            break;
    }
    return k;
}

static void show(agc_buf *b, const span *l, size_t n, size_t first_no)
{
    for (size_t i = 0; i < n && i < 12; i++) {
        int len = (int)(l[i].len > 200 ? 200 : l[i].len);
        if (first_no)
            agc_buf_printf(b, "%6zu| %.*s\n", first_no + i, len, l[i].s);
        else
            agc_buf_printf(b, "      | %.*s\n", len, l[i].s);
    }
    if (n > 12)
        agc_buf_printf(b, "      | ... (%zu more lines)\n", n - 12);
}

/* Reports a miss with the most similar window of the file. */
static void closest(agc_buf *err, const span *lines, size_t n, const span *want, size_t m)
{
    if (n == 0 || m == 0) {
        agc_buf_puts(err, "the file is empty.\n");
        return;
    }
    size_t mm = m > 60 ? 60 : m;
    double best = -1;
    size_t at = 0;
    for (size_t s = 0; s < n; s++) {
        double sum = 0;
        size_t k = 0;
        for (size_t i = 0; i < mm && s + i < n; i++, k++)
            sum +=
                agc__cs_line_similarity(lines[s + i].s, lines[s + i].len, want[i].s, want[i].len);
        double score = sum / mm;
        if (score > best + 1e-9) {
            best = score;
            at = s;
        }
        (void)k;
    }
    agc_buf_printf(err, "closest text (line %zu, %.0f%% similar):\n", at + 1, best * 100);
    show(err, lines + at, n - at < m ? n - at : m, at + 1);
}

/* The indentation string of the first non-blank line of l[0..n). */
static span indent_of(const span *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rtrim(l[i].s, l[i].len) > 0)
            return (span){l[i].s, lead(l[i].s, l[i].len)};
    return (span){"", 0};
}

/* Appends a replacement line re-indented from `from` to `to`. */
static agc_status put_reindented(agc_buf *o, span r, span from, span to)
{
    if (rtrim(r.s, r.len) == 0 || (from.len == to.len && memcmp(from.s, to.s, from.len) == 0))
        return agc_buf_append(o, r.s, r.len);
    if (r.len >= from.len && memcmp(r.s, from.s, from.len) == 0) {
        agc_status st = agc_buf_append(o, to.s, to.len);
        return st == AGC_OK ? agc_buf_append(o, r.s + from.len, r.len - from.len) : st;
    }
    /* a line indented less than the first one: keep the common relation if possible */
    size_t li = lead(r.s, r.len);
    if (to.len > from.len && li <= from.len) {
        agc_status st = agc_buf_append(o, to.s, to.len - from.len);
        return st == AGC_OK ? agc_buf_append(o, r.s, r.len) : st;
    }
    if (from.len > to.len && li >= from.len - to.len)
        return agc_buf_append(o, r.s + (from.len - to.len), r.len - (from.len - to.len));
    return agc_buf_append(o, r.s, r.len);
}

/* Applies one edit to lines; the result goes to o (joined with "\n", no final newline).
 * *next_out: the line index after the replacement in the new text. */
static agc_status apply_one(agc_buf *o, size_t *next_out, bool *fuzzy, const span *lines, size_t n,
                            size_t start, const agc__cs_edit *e, size_t ei, const char *display,
                            agc_buf *err, agc_ctx *ctx)
{
    size_t m = 0, r = 0;
    span *want = split_edit(&m, e->search, ctx);
    span *rep = split_edit(&r, e->replace, ctx);
    size_t *found = agc_calloc(ctx, MAX_MATCHES, sizeof *found);
    agc_status st = want && rep && found ? AGC_OK : AGC_ENOMEM;
    size_t at = 0, k = 0;
    int mode = M_EXACT;
    if (st != AGC_OK)
        goto done;
    if (e->anchor) {
        span a = {e->anchor, strlen(e->anchor)};
        for (mode = M_EXACT; mode < M_COUNT && k == 0; mode++)
            k = find_all(found, lines, n, start, &a, 1, mode, false);
        if (k == 0) {
            agc_buf_printf(err, "%s: edit %zu (line %zu): the anchor line '%s' was not found%s.\n",
                           display, ei + 1, e->src_line, e->anchor,
                           start ? " after the previous edit" : "");
            st = AGC_EINVAL;
            goto done;
        }
        start = found[0] + 1;
        k = 0;
    }
    if (m == 0) {
        if (e->at_eof || (!e->anchor && !e->line_hint))
            at = n;
        else if (e->anchor)
            at = start;
        else
            at = (size_t)e->line_hint <= n ? (size_t)e->line_hint - 1 : n;
        if (at < start)
            at = start;
    } else {
        for (mode = M_EXACT; mode < M_COUNT && k == 0; mode++)
            k = find_all(found, lines, n, start, want, m, mode, e->at_eof);
        mode--;
        if (k == 0) {
            agc_buf_printf(err, "%s: edit %zu (line %zu): the search text was not found%s:\n",
                           display, ei + 1, e->src_line, start ? " after the previous edit" : "");
            show(err, want, m, 0);
            closest(err, lines, n, want, m);
            st = AGC_EINVAL;
            goto done;
        }
        at = found[0];
        if (k > 1) {
            size_t pick = SIZE_MAX;
            if (e->line_hint > 0) {
                size_t h = (size_t)e->line_hint - 1;
                for (size_t i = 0; i < k; i++)
                    if (found[i] == h)
                        pick = found[i];
            } else if (e->anchor) {
                pick = found[0]; /* the first after the anchor */
            }
            if (pick == SIZE_MAX) {
                agc_buf_printf(err,
                               "%s: edit %zu (line %zu): the search text matches %s%zu places "
                               "(lines",
                               display, ei + 1, e->src_line, k == MAX_MATCHES ? "at least " : "",
                               k);
                for (size_t i = 0; i < k && i < 6; i++)
                    agc_buf_printf(err, " %zu", found[i] + 1);
                agc_buf_puts(err, "); add surrounding lines so that it matches once.\n");
                st = AGC_EINVAL;
                goto done;
            }
            at = pick;
        }
    }
    *fuzzy = mode == M_WS && m > 0;
    for (size_t i = 0; st == AGC_OK && i < at; i++) {
        st = agc_buf_append(o, lines[i].s, lines[i].len);
        if (st == AGC_OK)
            st = agc_buf_putc(o, '\n');
    }
    span from = indent_of(want, m), to = m ? indent_of(lines + at, m) : from;
    size_t sk = 0;
    bool mapped = false; /* a previous replacement line was mapped to a file line */
    span mprev = {0}, fprev = {0};
    for (size_t i = 0; st == AGC_OK && i < r; i++) {
        /* a replacement line equal to a search line keeps the file's version of it */
        size_t j = sk;
        while (j < m && !eq(want[j], rep[i], mode == M_EXACT ? M_EXACT : M_RTRIM))
            j++;
        if (j < m && m > 0) {
            st = agc_buf_append(o, lines[at + j].s, lines[at + j].len);
            sk = j + 1;
            mapped = true;
            mprev = want[j];
            fprev = lines[at + j];
        } else if (mode == M_WS && mapped && rtrim(rep[i].s, rep[i].len) > 0) {
            /* indent relative to the last mapped line: the model's offset, the file's base */
            span rr = {rep[i].s, rtrim(rep[i].s, rep[i].len)};
            span mi = {mprev.s, lead(mprev.s, mprev.len)}, fi = {fprev.s, lead(fprev.s, fprev.len)};
            st = put_reindented(o, rr, mi, fi);
        } else if (mode == M_WS) {
            span rr = {rep[i].s, rtrim(rep[i].s, rep[i].len)};
            st = put_reindented(o, rr, from, to);
        } else if (mode == M_RTRIM) {
            st = agc_buf_append(o, rep[i].s, rtrim(rep[i].s, rep[i].len));
        } else {
            st = agc_buf_append(o, rep[i].s, rep[i].len);
        }
        if (st == AGC_OK)
            st = agc_buf_putc(o, '\n');
    }
    *next_out = at + r;
    for (size_t i = at + m; st == AGC_OK && i < n; i++) {
        st = agc_buf_append(o, lines[i].s, lines[i].len);
        if (st == AGC_OK)
            st = agc_buf_putc(o, '\n');
    }
done:
    agc_free(ctx, want);
    agc_free(ctx, rep);
    agc_free(ctx, found);
    return st;
}

agc_status agc__cs_apply_edits(char **out, size_t *out_len, unsigned *fuzzy_out, const char *text,
                               size_t len, const agc__cs_fileop *f, const char *display,
                               agc_buf *err, agc_ctx *ctx)
{
    *out = NULL;
    *out_len = 0;
    *fuzzy_out = 0;
    if (f->n_edits == 0) {
        *out = agc_strndup(ctx, text, len);
        *out_len = len;
        return *out ? AGC_OK : AGC_ENOMEM;
    }
    bool ends_nl = len == 0 || text[len - 1] == '\n';
    const char *nl1 = memchr(text, '\n', len);
    bool crlf = nl1 && nl1 > text && nl1[-1] == '\r';
    /* work on an LF copy */
    char *cur = agc_strndup(ctx, text, len);
    if (!cur)
        return AGC_ENOMEM;
    size_t cur_len = len, next = 0;
    agc_status st = AGC_OK;
    for (size_t ei = 0; st == AGC_OK && ei < f->n_edits; ei++) {
        const agc__cs_edit *e = &f->edits[ei];
        size_t n = 0;
        span *lines = split(&n, cur, cur_len, ctx);
        if (!lines) {
            st = AGC_ENOMEM;
            break;
        }
        agc_buf o;
        agc_buf_init(&o, ctx, 0);
        bool fz = false;
        size_t nx = 0;
        st = apply_one(&o, &nx, &fz, lines, n, e->ordered ? next : 0, e, ei, display, err, ctx);
        agc_free(ctx, lines);
        if (st != AGC_OK) {
            agc_buf_free(&o);
            break;
        }
        next = nx;
        *fuzzy_out += fz;
        agc_free(ctx, cur);
        cur_len = o.len;
        cur = agc_buf_detach(&o, NULL);
        if (!cur)
            st = AGC_ENOMEM;
    }
    if (st != AGC_OK) {
        agc_free(ctx, cur);
        return st;
    }
    /* cur: lines each ending in "\n" (LF); restore CRLF and the final newline state */
    agc_buf o;
    agc_buf_init(&o, ctx, 0);
    if (!crlf) {
        st = agc_buf_append(&o, cur, cur_len);
    } else {
        for (size_t i = 0; st == AGC_OK && i < cur_len;) {
            const char *nl = memchr(cur + i, '\n', cur_len - i);
            size_t end = nl ? (size_t)(nl - cur) : cur_len;
            st = agc_buf_append(&o, cur + i, end - i);
            if (st == AGC_OK && nl)
                st = agc_buf_append(&o, "\r\n", 2);
            i = end + 1;
        }
    }
    agc_free(ctx, cur);
    if (st == AGC_OK && !o.data)
        st = agc_buf_puts(&o, "");
    if (st != AGC_OK) {
        agc_buf_free(&o);
        return st;
    }
    if (!ends_nl && o.len > 0 && o.data[o.len - 1] == '\n') {
        o.len -= crlf && o.len > 1 ? 2 : 1;
        o.data[o.len] = '\0';
    }
    *out_len = o.len;
    *out = agc_buf_detach(&o, NULL);
    return *out ? AGC_OK : AGC_ENOMEM;
}
