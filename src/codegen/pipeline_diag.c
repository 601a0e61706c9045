/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Turns build and test output into diagnostics a model can act on:
 * gcc/clang ("f.c:3:5: error: msg", "f.c:3: error"), assert(3)
 * ("prog: f.c:12: main: Assertion `x' failed."), make ("make: *** [Makefile:9:
 * test] Error 1"), Python tracebacks (the innermost 'File "x", line N' frame
 * with the exception line), pytest ("FAILED path::test - msg", "path:N:
 * Error"), go test ("--- FAIL: TestX", "    x_test.go:12: msg"), node/jest
 * ("● Suite › name", "at fn (file.js:3:7)") and generic "FAIL name" / TAP
 * "not ok N - name". Hand-written line scanners: no regex engine, linear.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "changeset_int.h"

typedef struct sink {
    agc_diag **d;
    size_t *n;
    size_t max;
    agc_ctx *ctx;
} sink;

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static agc_status add(sink *s, const char *file, size_t flen, long line, long col, const char *sev,
                      const char *msg, size_t mlen, const char *test, size_t tlen)
{
    if (*s->n >= s->max)
        return AGC_OK;
    agc_ctx *ctx = s->ctx;
    agc_diag d = {0};
    d.file = file ? agc_strndup(ctx, file, flen) : NULL;
    d.line = line;
    d.col = col;
    d.severity = agc_strdup(ctx, sev);
    while (mlen && isspace((unsigned char)msg[mlen - 1]))
        mlen--;
    d.message = agc_strndup(ctx, msg ? msg : "", msg ? (mlen > 400 ? 400 : mlen) : 0);
    d.test = test ? agc_strndup(ctx, test, tlen) : NULL;
    if ((file && !d.file) || !d.severity || !d.message || (test && !d.test)) {
        agc_diags_free(&d, 1, ctx);
        return AGC_ENOMEM;
    }
    for (size_t i = 0; i < *s->n; i++) {
        const agc_diag *o = &(*s->d)[i];
        if (same(o->file, d.file) && o->line == d.line && same(o->test, d.test) &&
            strcmp(o->message, d.message) == 0) {
            agc_diags_free(&d, 1, ctx);
            return AGC_OK;
        }
    }
    agc_diag *nd = agc_realloc(ctx, *s->d, (*s->n + 1) * sizeof *nd);
    if (!nd) {
        agc_diags_free(&d, 1, ctx);
        return AGC_ENOMEM;
    }
    *s->d = nd;
    nd[(*s->n)++] = d;
    return AGC_OK;
}

void agc_diags_free(agc_diag *diags, size_t n, agc_ctx *ctx)
{
    for (size_t i = 0; diags && i < n; i++) {
        agc_free(ctx, diags[i].file);
        agc_free(ctx, diags[i].severity);
        agc_free(ctx, diags[i].message);
        agc_free(ctx, diags[i].test);
    }
}

static bool pathch(char c)
{
    return isalnum((unsigned char)c) || strchr("._-/+@", c);
}

/* At s: "PATH.EXT:LINE[:COL]" with a dot in PATH's last component. Fills the parts and
 * returns the length consumed, 0 when it does not match. */
static size_t loc2(const char *s, size_t n, size_t *flen, long *line, long *col, bool need_dot)
{
    size_t i = 0;
    bool dot = false;
    while (i < n && pathch(s[i])) {
        if (s[i] == '/')
            dot = false;
        else if (s[i] == '.' && i > 0)
            dot = true;
        i++;
    }
    if ((need_dot && !dot) || i == 0 || i >= n || s[i] != ':' || i + 1 >= n ||
        !isdigit((unsigned char)s[i + 1]))
        return 0;
    *flen = i;
    char *end = NULL;
    *line = strtol(s + i + 1, &end, 10);
    size_t j = (size_t)(end - s);
    *col = 0;
    if (j + 1 < n && s[j] == ':' && isdigit((unsigned char)s[j + 1])) {
        *col = strtol(s + j + 1, &end, 10);
        j = (size_t)(end - s);
    }
    return j;
}

static size_t loc(const char *s, size_t n, size_t *flen, long *line, long *col)
{
    return loc2(s, n, flen, line, col, true);
}

static bool has(const char *l, size_t n, const char *w)
{
    size_t m = strlen(w);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(l + i, w, m) == 0)
            return true;
    return false;
}

static bool pre(const char *l, size_t n, const char *p)
{
    size_t m = strlen(p);
    return n >= m && memcmp(l, p, m) == 0;
}

/* One line; py holds the last traceback frame seen (file, line) until the exception line. */
typedef struct pyframe {
    const char *file;
    size_t flen;
    long line;
    bool open;
} pyframe;

static agc_status scan_line(sink *s, const char *l, size_t n, pyframe *py)
{
    size_t lead = 0;
    while (lead < n && (l[lead] == ' ' || l[lead] == '\t'))
        lead++;
    const char *t = l + lead;
    size_t tn = n - lead;
    size_t flen;
    long line, col;
    /* Python traceback frames */
    if (pre(t, tn, "File \"")) {
        const char *q = memchr(t + 6, '"', tn - 6);
        const char *ln = q ? strstr(q, ", line ") : NULL;
        if (q && ln && (size_t)(ln - t) < tn) {
            py->file = t + 6;
            py->flen = (size_t)(q - (t + 6));
            py->line = strtol(ln + 7, NULL, 10);
            py->open = true;
        }
        return AGC_OK;
    }
    if (py->open && lead == 0 && tn > 0) {
        /* "ValueError: msg" ends a traceback */
        size_t k = 0;
        while (k < tn && (isalnum((unsigned char)t[k]) || t[k] == '_' || t[k] == '.'))
            k++;
        if (k > 0 && k < tn && t[k] == ':' && (has(t, k, "Error") || has(t, k, "Exception"))) {
            py->open = false;
            return add(s, py->file, py->flen, py->line, 0, "error", t, tn, NULL, 0);
        }
        if (!pre(t, tn, "Traceback"))
            py->open = false;
    }
    /* pytest summary */
    if (pre(t, tn, "FAILED ") || pre(t, tn, "ERROR ")) {
        const char *id = t + (t[0] == 'F' ? 7 : 6);
        size_t idn = strcspn(id, " \n");
        if (idn > tn - (size_t)(id - t))
            idn = tn - (size_t)(id - t);
        const char *cc = memchr(id, ':', idn);
        const char *dash = strstr(id, " - ");
        const char *msg = dash && (size_t)(dash - t) < tn ? dash + 3 : "test failed";
        size_t mlen = dash && (size_t)(dash - t) < tn ? tn - (size_t)(msg - t) : strlen(msg);
        return add(s, cc ? id : NULL, cc ? (size_t)(cc - id) : 0, 0, 0, "fail", msg, mlen, id, idn);
    }
    /* go test */
    if (pre(t, tn, "--- FAIL: ")) {
        const char *nm = t + 10;
        size_t nn = strcspn(nm, " \n");
        return add(s, NULL, 0, 0, 0, "fail", "test failed", 11, nm, nn);
    }
    /* jest */
    if (pre(t, tn, "\xe2\x97\x8f ")) {  /* "● " */
        if (has(t, tn, "\xe2\x80\xba")) /* " › " separates suite and test */
            return add(s, NULL, 0, 0, 0, "fail", "test failed", 11, t + 4, tn - 4);
        return AGC_OK;
    }
    if (pre(t, tn, "at ") && !has(t, tn, "node_modules") && !has(t, tn, "node:")) {
        const char *p = memchr(t, '(', tn);
        const char *from = p ? p + 1 : t + 3;
        size_t rest = tn - (size_t)(from - t);
        if (pre(from, rest, "file://"))
            from += 7, rest -= 7;
        if (loc(from, rest, &flen, &line, &col))
            return add(s, from, flen, line, col, "note", t, tn, NULL, 0);
        return AGC_OK;
    }
    /* TAP / generic */
    if (pre(t, tn, "not ok ")) {
        const char *dash = memchr(t, '-', tn);
        const char *nm = dash ? dash + 1 : t + 7;
        while (*nm == ' ')
            nm++;
        return add(s, NULL, 0, 0, 0, "fail", "test failed", 11, nm, tn - (size_t)(nm - t));
    }
    if ((pre(t, tn, "FAIL ") || pre(t, tn, "FAIL: ")) && lead == 0) {
        const char *nm = t + (t[4] == ':' ? 6 : 5);
        size_t nn = tn - (size_t)(nm - t);
        return add(s, NULL, 0, 0, 0, "fail", t, tn, nm, nn);
    }
    /* make */
    if (has(t, tn, ": *** [")) {
        const char *b = strstr(t, "*** [") + 5;
        size_t rest = tn - (size_t)(b - t);
        size_t used = loc2(b, rest, &flen, &line, &col, false);
        const char *msg = strstr(b, "] ");
        size_t mlen = msg && (size_t)(msg - t) < tn ? tn - (size_t)(msg + 2 - t) : 0;
        if (used && b[used] == ':') {
            const char *tg = b + used + 1;
            while (*tg == ' ')
                tg++;
            char m[300];
            int k = snprintf(m, sizeof m, "make target '%.*s' failed (%.*s)", (int)strcspn(tg, "]"),
                             tg, (int)mlen, msg ? msg + 2 : "");
            return add(s, b, flen, line, 0, "error", m, (size_t)(k < 0 ? 0 : k), NULL, 0);
        }
        return add(s, NULL, 0, 0, 0, "error", t, tn, NULL, 0);
    }
    /* compiler / assert / pytest / go locations: a "path.ext:N" token */
    for (size_t i = 0; i < tn; i++) {
        if (i > 0 && pathch(t[i - 1]))
            continue;
        size_t used = loc(t + i, tn - i, &flen, &line, &col);
        if (!used)
            continue;
        const char *rest = t + i + used;
        size_t rn = tn - i - used;
        if (rn == 0 || (rest[0] != ':' && rest[0] != ' '))
            continue;
        const char *msg = rest + 1;
        size_t mn = rn - 1;
        while (mn && *msg == ' ')
            msg++, mn--;
        const char *sev = "error";
        if (pre(msg, mn, "warning:"))
            sev = "warning";
        else if (pre(msg, mn, "note:"))
            sev = "note";
        else if (!(pre(msg, mn, "error") || pre(msg, mn, "fatal error") ||
                   has(msg, mn, "Assertion") || has(msg, mn, "Error") || has(msg, mn, "expected") ||
                   lead > 0 || has(msg, mn, "undefined") || has(msg, mn, "FAIL")))
            continue;
        if (strcmp(sev, "note") == 0 && has(msg, mn, "in expansion of macro"))
            return AGC_OK;
        return add(s, t + i, flen, line, col, sev, msg, mn, NULL, 0);
    }
    return AGC_OK;
}

agc_status agc_diags_parse(agc_diag **diags, size_t *n, const char *output, size_t max_diags,
                           agc_ctx *ctx)
{
    sink s = {diags, n, max_diags ? max_diags : 50, ctx};
    pyframe py = {0};
    agc_status st = AGC_OK;
    for (const char *l = output; st == AGC_OK && l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        size_t ln = len;
        if (ln && l[ln - 1] == '\r')
            ln--;
        if (ln < 4096)
            st = scan_line(&s, l, ln, &py);
        l = nl ? nl + 1 : NULL;
    }
    return st;
}
