/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Applies the hunks of one parsed "*** Update File" to a file's text in
 * memory. Each hunk is located by its context and '-' lines at or after the
 * previous hunk: exact first, then ignoring trailing whitespace. A hunk
 * without an "@@" anchor that matches twice is ambiguous; one that does not
 * match is reported with the file, the line and the nearest text. Line
 * endings (LF or CRLF) and a missing final newline are kept. No file I/O.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "tools_int.h"

typedef struct span {
    const char *s;
    size_t len;
} span;

enum { EXACT, RTRIM, TRIM };

static size_t rtrim_len(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n;
}

static bool eq(span a, span b, int mode)
{
    if (mode != EXACT) {
        a.len = rtrim_len(a.s, a.len);
        b.len = rtrim_len(b.s, b.len);
    }
    if (mode == TRIM) {
        while (a.len > 0 && (*a.s == ' ' || *a.s == '\t'))
            a.s++, a.len--;
        while (b.len > 0 && (*b.s == ' ' || *b.s == '\t'))
            b.s++, b.len--;
    }
    return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

/* Finds up to two positions >= start where want[0..m) matches lines. */
static size_t find(size_t found[2], const span *lines, size_t n, size_t start, const span *want,
                   size_t m, int mode, bool at_eof)
{
    size_t count = 0;
    if (m > n)
        return 0;
    size_t first = at_eof ? n - m : start;
    for (size_t s = first; s + m <= n && count < 2; s++) {
        if (s < start)
            break;
        size_t i = 0;
        while (i < m && eq(lines[s + i], want[i], mode))
            i++;
        if (i == m)
            found[count++] = s;
        if (at_eof)
            break;
    }
    return count;
}

static void show_lines(agc_buf *b, const span *l, size_t n, size_t first_no)
{
    for (size_t i = 0; i < n && i < 8; i++) {
        size_t len = l[i].len > 160 ? 160 : l[i].len;
        if (first_no)
            agc_buf_printf(b, "%zu| %.*s\n", first_no + i, (int)len, l[i].s);
        else
            agc_buf_printf(b, "  %.*s\n", (int)len, l[i].s);
    }
    if (n > 8)
        agc_buf_puts(b, "  ...\n");
}

static void no_match(agc_buf *err, const char *path, size_t hunk, const agc__patch_chunk *c,
                     const span *lines, size_t n, size_t pos, const span *want, size_t m)
{
    agc_buf_printf(err,
                   "'%s': hunk %zu (patch line %zu) does not match the file at or after "
                   "line %zu%s.\nexpected:\n",
                   path, hunk, c->patch_line, pos + 1, c->at_eof ? " (at the end of file)" : "");
    show_lines(err, want, m, 0);
    size_t best = 0, best_score = 0;
    for (size_t s = pos; s < n; s++) {
        size_t score = 0;
        for (size_t i = 0; i < m && s + i < n; i++)
            score += eq(lines[s + i], want[i], TRIM);
        if (score > best_score) {
            best_score = score;
            best = s;
        }
    }
    if (best_score == 0) {
        agc_buf_puts(err, "no similar text was found; read the file again and retry.\n");
        return;
    }
    agc_buf_printf(err, "nearest text (line %zu, %zu of %zu lines alike):\n", best + 1, best_score,
                   m);
    show_lines(err, lines + best, n - best < m ? n - best : m, best + 1);
}

agc_status agc__patch_apply_text(char **out, size_t *out_len, const char *old, size_t old_len,
                                 const agc__patch_file *f, agc_buf *err, agc_ctx *ctx)
{
    *out = NULL;
    *out_len = 0;
    bool ends_nl = old_len == 0 || old[old_len - 1] == '\n';
    const char *first_nl = memchr(old, '\n', old_len);
    bool crlf = first_nl && first_nl > old && first_nl[-1] == '\r';
    size_t n = 0;
    for (size_t i = 0; i < old_len; i++)
        n += old[i] == '\n';
    if (!ends_nl)
        n++;
    size_t max_m = 0;
    for (size_t c = 0; c < f->n_chunks; c++)
        max_m = f->chunks[c].n_lines > max_m ? f->chunks[c].n_lines : max_m;
    span *lines = agc_calloc(ctx, n + 1, sizeof *lines);
    span *want = agc_calloc(ctx, max_m + 1, sizeof *want);
    agc_buf o;
    agc_buf_init(&o, ctx, 0);
    agc_status st = lines && want ? AGC_OK : AGC_ENOMEM;
    for (size_t i = 0, off = 0; st == AGC_OK && i < n; i++) {
        const char *nl = memchr(old + off, '\n', old_len - off);
        size_t end = nl ? (size_t)(nl - old) : old_len;
        lines[i].s = old + off;
        lines[i].len = end - off;
        if (crlf && lines[i].len > 0 && lines[i].s[lines[i].len - 1] == '\r')
            lines[i].len--;
        off = end + 1;
    }
    const char *eol = crlf ? "\r\n" : "\n";
    size_t pos = 0;
    for (size_t ci = 0; st == AGC_OK && ci < f->n_chunks; ci++) {
        const agc__patch_chunk *c = &f->chunks[ci];
        if (c->context) {
            span cs = {c->context, strlen(c->context)};
            size_t found[2], k = 0;
            for (int mode = EXACT; mode <= TRIM && k == 0; mode++)
                k = find(found, lines, n, pos, &cs, 1, mode, false);
            if (k == 0) {
                agc_buf_printf(err,
                               "'%s': hunk %zu (patch line %zu): the '@@ %s' line was not "
                               "found at or after line %zu.\n",
                               f->path, ci + 1, c->patch_line, c->context, pos + 1);
                st = AGC_EINVAL;
                break;
            }
            for (size_t i = pos; st == AGC_OK && i <= found[0]; i++)
                st = agc_buf_append(&o, lines[i].s, lines[i].len) == AGC_OK ? agc_buf_puts(&o, eol)
                                                                            : AGC_ENOMEM;
            pos = found[0] + 1;
        }
        size_t m = 0;
        for (size_t i = 0; i < c->n_lines; i++)
            if (c->lines[i].kind != '+')
                want[m++] = (span){c->lines[i].text, strlen(c->lines[i].text)};
        size_t at;
        if (m == 0) {
            at = c->context && !c->at_eof ? pos : n;
        } else {
            size_t found[2], k = find(found, lines, n, pos, want, m, EXACT, c->at_eof);
            if (k == 0)
                k = find(found, lines, n, pos, want, m, RTRIM, c->at_eof);
            if (k == 0) {
                no_match(err, f->path, ci + 1, c, lines, n, pos, want, m);
                st = AGC_EINVAL;
                break;
            }
            if (k > 1 && !c->context) {
                agc_buf_printf(err,
                               "'%s': hunk %zu (patch line %zu) is ambiguous: it matches at "
                               "line %zu and at line %zu; add context lines or an '@@ ...' "
                               "line to pick one.\n",
                               f->path, ci + 1, c->patch_line, found[0] + 1, found[1] + 1);
                st = AGC_EINVAL;
                break;
            }
            at = found[0];
        }
        for (size_t i = pos; st == AGC_OK && i < at; i++)
            st = agc_buf_append(&o, lines[i].s, lines[i].len) == AGC_OK ? agc_buf_puts(&o, eol)
                                                                        : AGC_ENOMEM;
        /* context lines keep the file's text (it may differ in trailing whitespace) */
        for (size_t i = 0, oi = 0; st == AGC_OK && i < c->n_lines; i++) {
            char kind = c->lines[i].kind;
            if (kind == '-') {
                oi++;
                continue;
            }
            span sp = {c->lines[i].text, strlen(c->lines[i].text)};
            if (kind == ' ')
                sp = lines[at + oi++];
            st = agc_buf_append(&o, sp.s, sp.len) == AGC_OK ? agc_buf_puts(&o, eol) : AGC_ENOMEM;
        }
        pos = at + m;
    }
    for (size_t i = pos; st == AGC_OK && i < n; i++)
        st = agc_buf_append(&o, lines[i].s, lines[i].len) == AGC_OK ? agc_buf_puts(&o, eol)
                                                                    : AGC_ENOMEM;
    if (st == AGC_OK && !ends_nl && o.len >= strlen(eol)) {
        o.len -= strlen(eol);
        o.data[o.len] = '\0';
    }
    agc_free(ctx, lines);
    agc_free(ctx, want);
    if (st != AGC_OK) {
        agc_buf_free(&o);
        return st;
    }
    size_t len = o.len;
    *out = agc_buf_detach(&o, NULL);
    if (!*out)
        return AGC_ENOMEM;
    *out_len = len;
    return AGC_OK;
}
