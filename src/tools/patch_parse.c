/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Strict parser for the Codex apply_patch format:
 *   *** Begin Patch / *** Add File: p (+lines) / *** Delete File: p /
 *   *** Update File: p [*** Move to: q] (@@ [context] / ' ', '-', '+' lines /
 *   *** End of File) / *** End Patch
 * Every other line is an error naming its line number. The only leniency: a
 * completely empty line inside an update is an empty context line (models
 * drop the space), and such lines at the end of a hunk are dropped. It does
 * not touch files; tool_apply_patch.c applies the result.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "tools_int.h"

#define MOD "apply_patch"

typedef struct parser {
    agc_ctx *ctx;
    char **lines;
    size_t n, i;
    agc__patch *p;
} parser;

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* s without trailing spaces/tabs, compared with a marker. */
static bool is_marker(const char *s, const char *marker)
{
    size_t n = strlen(marker);
    if (strncmp(s, marker, n) != 0)
        return false;
    for (s += n; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static agc_status grow(agc_ctx *ctx, void **arr, size_t n, size_t elem)
{
    /* capacity is 4, then doubles: grow at 0 and at every power of two from 4 */
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return AGC_OK;
    size_t ncap = n ? n * 2 : 4;
    void *na = agc_realloc(ctx, *arr, ncap * elem);
    if (!na)
        return AGC_ENOMEM;
    *arr = na;
    return AGC_OK;
}

static agc_status perr(parser *ps, const char *what)
{
    return agc_error_set(ps->ctx, AGC_EPARSE, MOD, "patch line %zu: %s", ps->i + 1, what);
}

static agc_status add_line(parser *ps, agc__patch_line **arr, size_t *n, char kind,
                           const char *text)
{
    if (grow(ps->ctx, (void **)arr, *n, sizeof **arr) != AGC_OK)
        return AGC_ENOMEM;
    (*arr)[*n].kind = kind;
    (*arr)[*n].text = text;
    (*n)++;
    return AGC_OK;
}

static agc_status new_file(parser *ps, agc__patch_op op, char *path, agc__patch_file **out)
{
    agc__patch *p = ps->p;
    path = trim(path);
    if (!path[0])
        return perr(ps, "the file path is empty");
    if (grow(ps->ctx, (void **)&p->files, p->n_files, sizeof *p->files) != AGC_OK)
        return AGC_ENOMEM;
    agc__patch_file *f = &p->files[p->n_files++];
    memset(f, 0, sizeof *f);
    f->op = op;
    f->path = path;
    *out = f;
    return AGC_OK;
}

static agc_status parse_update(parser *ps, agc__patch_file *f)
{
    agc__patch_chunk *cur = NULL;
    size_t blank_tail = 0; /* empty patch lines at the end of cur */
    for (; ps->i < ps->n; ps->i++) {
        char *l = ps->lines[ps->i];
        if (starts(l, "@@")) {
            if (cur && cur->n_lines == 0)
                return perr(ps, "the previous hunk has no lines");
            if (l[2] && l[2] != ' ')
                return perr(ps, "expected '@@' or '@@ context'");
            if (cur)
                cur->n_lines -= blank_tail;
            blank_tail = 0;
            if (grow(ps->ctx, (void **)&f->chunks, f->n_chunks, sizeof *f->chunks) != AGC_OK)
                return AGC_ENOMEM;
            cur = &f->chunks[f->n_chunks++];
            memset(cur, 0, sizeof *cur);
            cur->patch_line = ps->i + 1;
            char *c = l[2] ? trim(l + 3) : l + 2;
            cur->context = c[0] ? c : NULL;
            continue;
        }
        if (is_marker(l, "*** End of File")) {
            if (!cur || cur->n_lines == 0)
                return perr(ps, "'*** End of File' must follow hunk lines");
            cur->n_lines -= blank_tail;
            blank_tail = 0;
            cur->at_eof = true;
            continue;
        }
        if (starts(l, "***"))
            break;
        char kind = l[0] ? l[0] : ' ';
        if (kind != ' ' && kind != '-' && kind != '+')
            return perr(ps, "hunk lines start with ' ', '-' or '+' (or use '@@' for a new hunk)");
        if (cur && cur->at_eof)
            return perr(ps, "no hunk lines may follow '*** End of File'; start a new '@@' hunk");
        if (!cur) {
            if (f->n_chunks > 0)
                return perr(ps, "hunk lines outside a hunk");
            if (grow(ps->ctx, (void **)&f->chunks, f->n_chunks, sizeof *f->chunks) != AGC_OK)
                return AGC_ENOMEM;
            cur = &f->chunks[f->n_chunks++];
            memset(cur, 0, sizeof *cur);
            cur->patch_line = ps->i + 1;
        }
        if (add_line(ps, &cur->lines, &cur->n_lines, kind, l[0] ? l + 1 : l) != AGC_OK)
            return AGC_ENOMEM;
        blank_tail = l[0] ? 0 : blank_tail + 1;
    }
    if (cur) {
        cur->n_lines -= blank_tail;
        if (cur->n_lines == 0)
            return agc_error_set(ps->ctx, AGC_EPARSE, MOD, "patch line %zu: the hunk has no lines",
                                 cur->patch_line);
    }
    if (f->n_chunks == 0 && !f->move_to)
        return agc_error_set(ps->ctx, AGC_EPARSE, MOD,
                             "patch line %zu: '*** Update File: %s' has no hunks", ps->i, f->path);
    return AGC_OK;
}

static agc_status parse_files(parser *ps)
{
    while (ps->i < ps->n) {
        char *l = ps->lines[ps->i];
        agc__patch_file *f = NULL;
        agc_status st;
        if (is_marker(l, "*** End Patch")) {
            for (ps->i++; ps->i < ps->n; ps->i++)
                if (trim(ps->lines[ps->i])[0])
                    return perr(ps, "text after '*** End Patch'");
            if (ps->p->n_files == 0)
                return agc_error_set(ps->ctx, AGC_EPARSE, MOD, "the patch changes no files");
            return AGC_OK;
        } else if (starts(l, "*** Add File: ")) {
            if ((st = new_file(ps, AGC__P_ADD, l + 14, &f)) != AGC_OK)
                return st;
            for (ps->i++; ps->i < ps->n && !starts(ps->lines[ps->i], "***"); ps->i++) {
                char *a = ps->lines[ps->i];
                if (a[0] != '+')
                    return perr(ps, "every line of an added file starts with '+'");
                if (add_line(ps, &f->add_lines, &f->n_add, '+', a + 1) != AGC_OK)
                    return AGC_ENOMEM;
            }
        } else if (starts(l, "*** Delete File: ")) {
            if ((st = new_file(ps, AGC__P_DELETE, l + 17, &f)) != AGC_OK)
                return st;
            ps->i++;
        } else if (starts(l, "*** Update File: ")) {
            if ((st = new_file(ps, AGC__P_UPDATE, l + 17, &f)) != AGC_OK)
                return st;
            ps->i++;
            if (ps->i < ps->n && starts(ps->lines[ps->i], "*** Move to: ")) {
                char *to = trim(ps->lines[ps->i] + 13);
                if (!to[0])
                    return perr(ps, "the 'Move to' path is empty");
                f->move_to = to;
                ps->i++;
            }
            if ((st = parse_update(ps, f)) != AGC_OK)
                return st;
        } else {
            return perr(ps, "expected '*** Add File: ', '*** Delete File: ', '*** Update File: ' "
                            "or '*** End Patch'");
        }
    }
    return agc_error_set(ps->ctx, AGC_EPARSE, MOD, "the patch does not end with '*** End Patch'");
}

void agc__patch_free(agc__patch *p, agc_ctx *ctx)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_files; i++) {
        agc__patch_file *f = &p->files[i];
        agc_free(ctx, f->add_lines);
        for (size_t c = 0; c < f->n_chunks; c++)
            agc_free(ctx, f->chunks[c].lines);
        agc_free(ctx, f->chunks);
    }
    agc_free(ctx, p->files);
    agc_free(ctx, p->text);
    memset(p, 0, sizeof *p);
}

agc_status agc__patch_parse(agc__patch *out, const char *text, agc_ctx *ctx)
{
    memset(out, 0, sizeof *out);
    out->text = agc_strdup(ctx, text);
    if (!out->text)
        return AGC_ENOMEM;
    parser ps = {ctx, NULL, 0, 0, out};
    agc_status st = AGC_OK;
    for (char *s = out->text; st == AGC_OK;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(s);
        if (len > 0 && s[len - 1] == '\r')
            s[len - 1] = '\0';
        if (!nl && !s[0])
            break; /* no empty line after the final newline */
        st = grow(ctx, (void **)&ps.lines, ps.n, sizeof *ps.lines);
        if (st == AGC_OK)
            ps.lines[ps.n++] = s;
        if (!nl)
            break;
        s = nl + 1;
    }
    /* Leading blank lines are tolerated; then the Begin marker. */
    while (st == AGC_OK && ps.i < ps.n && !trim(ps.lines[ps.i])[0])
        ps.i++;
    if (st == AGC_OK && (ps.i == ps.n || !is_marker(ps.lines[ps.i], "*** Begin Patch")))
        st =
            agc_error_set(ctx, AGC_EPARSE, MOD,
                          "the patch must start with '*** Begin Patch' (patch line %zu)", ps.i + 1);
    if (st == AGC_OK) {
        ps.i++;
        st = parse_files(&ps);
    }
    agc_free(ctx, ps.lines);
    if (st != AGC_OK)
        agc__patch_free(out, ctx);
    return st;
}
