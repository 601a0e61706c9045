/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Parsers of the four edit formats into file operations with search/replace
 * edits: SEARCH/REPLACE blocks (a path line, <<<<<<< SEARCH, =======,
 * >>>>>>> REPLACE), unified diffs (git headers for new/deleted/renamed
 * files; hunk counts are recomputed, the old start line becomes a hint),
 * whole files (a path line, then the content in a ``` fence) and the
 * apply_patch format (the tools' own strict parser, src/tools/patch_parse.c).
 * Prose around blocks is ignored; anything malformed inside a block is an
 * AGC_EPARSE naming the format and line. No file access.
 */
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "changeset_int.h"
#include "tools/tools_int.h"

typedef struct lines {
    char *buf;
    char **l;
    size_t n;
} lines;

static void lines_free(lines *ls, agc_ctx *ctx)
{
    agc_free(ctx, ls->buf);
    agc_free(ctx, ls->l);
}

static agc_status lines_split(lines *ls, const char *text, agc_ctx *ctx)
{
    memset(ls, 0, sizeof *ls);
    ls->buf = agc_strdup(ctx, text);
    if (!ls->buf)
        return AGC_ENOMEM;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    ls->l = agc_calloc(ctx, cap + 1, sizeof *ls->l);
    if (!ls->l) {
        agc_free(ctx, ls->buf);
        return AGC_ENOMEM;
    }
    char *s = ls->buf;
    while (*s) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(s);
        if (len && s[len - 1] == '\r')
            s[len - 1] = '\0';
        ls->l[ls->n++] = s;
        if (!nl)
            break;
        s = nl + 1;
    }
    return AGC_OK;
}

static bool starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

static bool is_marker(const char *s, const char *m)
{
    return starts(s, m) && blank(s + strlen(m));
}

static bool is_fence(const char *s)
{
    while (*s == ' ')
        s++;
    return starts(s, "```") || starts(s, "~~~");
}

/* A path from a line such as "src/a.c", "`src/a.c`", "**src/a.c**:", "File: src/a.c". */
static char *path_of(char *l)
{
    while (*l == ' ' || *l == '\t' || *l == '#' || *l == '*' || *l == '`')
        l++;
    if (starts(l, "File: ") || starts(l, "file: "))
        l += 6;
    while (*l == ' ' || *l == '`' || *l == '*')
        l++;
    size_t n = strlen(l);
    while (n > 0 && strchr(" \t`*:", l[n - 1]))
        l[--n] = '\0';
    if (n == 0 || strchr(l, ' ') || n > 4096)
        return NULL;
    return l;
}

static agc_status grow(agc_ctx *ctx, void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return AGC_OK;
    size_t nc = *cap ? *cap * 2 : 4;
    void *na = agc_realloc(ctx, *arr, nc * elem);
    if (!na)
        return AGC_ENOMEM;
    *arr = na;
    *cap = nc;
    return AGC_OK;
}

agc_status agc__cs_fileop_get(agc__cs_fileop **out, agc_changeset *cs, const char *path,
                              agc_cs_op op)
{
    if (op == AGC_CS_MODIFY)
        for (size_t i = 0; i < cs->n; i++)
            if (cs->files[i].op == AGC_CS_MODIFY && !cs->files[i].whole &&
                strcmp(cs->files[i].path, path) == 0) {
                *out = &cs->files[i];
                return AGC_OK;
            }
    if (grow(cs->ctx, (void **)&cs->files, &cs->cap, cs->n, sizeof *cs->files) != AGC_OK)
        return AGC_ENOMEM;
    agc__cs_fileop *f = &cs->files[cs->n];
    memset(f, 0, sizeof *f);
    f->op = op;
    f->path = agc_strdup(cs->ctx, path);
    if (!f->path)
        return AGC_ENOMEM;
    cs->n++;
    *out = f;
    return AGC_OK;
}

agc_status agc__cs_edit_add(agc__cs_fileop *f, agc_ctx *ctx, char *search, char *replace,
                            size_t src_line)
{
    if (!search || !replace ||
        grow(ctx, (void **)&f->edits, &f->cap_edits, f->n_edits, sizeof *f->edits) != AGC_OK) {
        agc_free(ctx, search);
        agc_free(ctx, replace);
        return AGC_ENOMEM;
    }
    agc__cs_edit *e = &f->edits[f->n_edits++];
    memset(e, 0, sizeof *e);
    e->search = search;
    e->replace = replace;
    e->src_line = src_line;
    return AGC_OK;
}

/* Joins l[a..b) with "\n" (no final newline); skip_marker drops each line's first char. */
static char *join(agc_ctx *ctx, char **l, size_t a, size_t b, bool nl_end)
{
    agc_buf o;
    agc_buf_init(&o, ctx, 0);
    agc_status st = agc_buf_puts(&o, "");
    for (size_t i = a; st == AGC_OK && i < b; i++) {
        if (i > a)
            st = agc_buf_putc(&o, '\n');
        if (st == AGC_OK)
            st = agc_buf_puts(&o, l[i]);
    }
    if (st == AGC_OK && nl_end && b > a)
        st = agc_buf_putc(&o, '\n');
    if (st != AGC_OK) {
        agc_buf_free(&o);
        return NULL;
    }
    return agc_buf_detach(&o, NULL);
}

/* ---- SEARCH/REPLACE ---------------------------------------------------------------- */

agc_status agc__cs_parse_search_replace(agc_changeset *cs, const char *text)
{
    agc_ctx *ctx = cs->ctx;
    lines ls;
    agc_status st = lines_split(&ls, text, ctx);
    if (st != AGC_OK)
        return st;
    char *prev_path = NULL;
    size_t blocks = 0;
    for (size_t i = 0; st == AGC_OK && i < ls.n; i++) {
        if (!is_marker(ls.l[i], "<<<<<<< SEARCH")) {
            if (starts(ls.l[i], "=======") || starts(ls.l[i], ">>>>>>> REPLACE"))
                st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                                   "search_replace line %zu: '%.14s' outside a SEARCH block", i + 1,
                                   ls.l[i]);
            continue;
        }
        /* the path: the closest non-blank, non-fence line above */
        char *path = NULL;
        size_t j = i;
        while (j > 0 && (blank(ls.l[j - 1]) || is_fence(ls.l[j - 1])))
            j--;
        if (j > 0 && is_marker(ls.l[j - 1], ">>>>>>> REPLACE"))
            path = prev_path;
        else if (j > 0)
            path = path_of(ls.l[j - 1]);
        if (!path) {
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "search_replace line %zu: put the file path alone on the line "
                               "before '<<<<<<< SEARCH'",
                               i + 1);
            break;
        }
        size_t mid = 0, end = 0;
        for (size_t k = i + 1; k < ls.n && !end; k++) {
            if (is_marker(ls.l[k], "<<<<<<< SEARCH"))
                break;
            if (!mid && is_marker(ls.l[k], "======="))
                mid = k;
            else if (mid && is_marker(ls.l[k], ">>>>>>> REPLACE"))
                end = k;
        }
        if (!mid || !end) {
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "search_replace line %zu: the block for '%s' lacks %s", i + 1, path,
                               mid ? "'>>>>>>> REPLACE'" : "'=======' and '>>>>>>> REPLACE'");
            break;
        }
        agc__cs_fileop *f = NULL;
        st = agc__cs_fileop_get(&f, cs, path, AGC_CS_MODIFY);
        if (st == AGC_OK) {
            if (mid == i + 1)
                f->create_ok = true; /* empty SEARCH: a new file (or append) */
            st = agc__cs_edit_add(f, ctx, join(ctx, ls.l, i + 1, mid, false),
                                  join(ctx, ls.l, mid + 1, end, false), i + 1);
        }
        prev_path = path;
        blocks++;
        i = end;
    }
    if (st == AGC_OK && blocks == 0)
        st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                           "search_replace: no '<<<<<<< SEARCH' block found");
    lines_free(&ls, ctx);
    return st;
}

/* ---- unified diff ---------------------------------------------------------------------- */

static const char *strip_ab(const char *p)
{
    if ((p[0] == 'a' || p[0] == 'b') && p[1] == '/')
        return p + 2;
    return p;
}

/* The path of a ---/+++ line (tab-separated timestamp cut), "" for /dev/null. */
static char *diff_path(char *l)
{
    l += 4;
    while (*l == ' ')
        l++;
    char *tab = strchr(l, '\t');
    if (tab)
        *tab = '\0';
    size_t n = strlen(l);
    while (n > 0 && l[n - 1] == ' ')
        l[--n] = '\0';
    if (strcmp(l, "/dev/null") == 0)
        return l + n; /* "" */
    return (char *)strip_ab(l);
}

static bool parse_hunk_header(const char *l, long *old_start)
{
    /* @@ -l[,n] +l[,n] @@ */
    if (!starts(l, "@@ -"))
        return false;
    char *end = NULL;
    long v = strtol(l + 4, &end, 10);
    if (end == l + 4 || v < 0)
        return false;
    *old_start = v;
    return strstr(end, " +") != NULL && strstr(end, "@@") != NULL;
}

agc_status agc__cs_parse_udiff(agc_changeset *cs, const char *text)
{
    agc_ctx *ctx = cs->ctx;
    lines ls;
    agc_status st = lines_split(&ls, text, ctx);
    if (st != AGC_OK)
        return st;
    char *rename_from = NULL, *rename_to = NULL;
    size_t files = 0;
    for (size_t i = 0; st == AGC_OK && i < ls.n; i++) {
        char *l = ls.l[i];
        if (starts(l, "diff --git ")) {
            rename_from = rename_to = NULL;
            continue;
        }
        if (starts(l, "rename from ")) {
            rename_from = l + 12;
            continue;
        }
        if (starts(l, "rename to ")) {
            rename_to = l + 10;
            if (rename_from && (i + 1 >= ls.n || !starts(ls.l[i + 1], "--- "))) {
                agc__cs_fileop *f = NULL;
                st = agc__cs_fileop_get(&f, cs, rename_from, AGC_CS_RENAME);
                if (st == AGC_OK && !(f->to = agc_strdup(ctx, rename_to)))
                    st = AGC_ENOMEM;
                files++;
                rename_from = rename_to = NULL;
            }
            continue;
        }
        if (!starts(l, "--- "))
            continue;
        if (i + 1 >= ls.n || !starts(ls.l[i + 1], "+++ ")) {
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "udiff line %zu: '---' must be followed by a '+++' line", i + 2);
            break;
        }
        char *from = diff_path(l), *to = diff_path(ls.l[i + 1]);
        i += 2;
        if (!from[0] && !to[0]) {
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "udiff line %zu: both sides are /dev/null", i - 1);
            break;
        }
        agc_cs_op op = !from[0]                                 ? AGC_CS_CREATE
                       : !to[0]                                 ? AGC_CS_DELETE
                       : (rename_from || strcmp(from, to) != 0) ? AGC_CS_RENAME
                                                                : AGC_CS_MODIFY;
        agc__cs_fileop *f = NULL;
        st = agc__cs_fileop_get(&f, cs, op == AGC_CS_CREATE ? to : from, op);
        if (st == AGC_OK && op == AGC_CS_RENAME && !(f->to = agc_strdup(ctx, to)))
            st = AGC_ENOMEM;
        rename_from = rename_to = NULL;
        files++;
        /* hunks */
        long offset = 0;
        size_t hunks = 0;
        agc_buf created;
        agc_buf_init(&created, ctx, 0);
        while (st == AGC_OK && i < ls.n && starts(ls.l[i], "@@")) {
            long old_start = 0;
            if (!parse_hunk_header(ls.l[i], &old_start)) {
                st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                                   "udiff line %zu: expected '@@ -l,n +l,n @@'", i + 1);
                break;
            }
            size_t h0 = ++i;
            size_t h1 = h0;
            while (h1 < ls.n) {
                char c = ls.l[h1][0];
                if (c == ' ' || c == '-' || c == '+' || c == '\\') {
                    if ((c == '-' && starts(ls.l[h1], "--- ")) && h1 + 1 < ls.n &&
                        starts(ls.l[h1 + 1], "+++ "))
                        break;
                    h1++;
                } else if (c == '\0' && h1 + 1 < ls.n && strchr(" -+", ls.l[h1 + 1][0]) &&
                           ls.l[h1 + 1][0] != '\0' && !starts(ls.l[h1 + 1], "--- ")) {
                    h1++; /* an empty context line whose space was dropped */
                } else {
                    break;
                }
            }
            agc_buf s, r;
            agc_buf_init(&s, ctx, 0);
            agc_buf_init(&r, ctx, 0);
            st = agc_buf_puts(&s, "") == AGC_OK ? agc_buf_puts(&r, "") : AGC_ENOMEM;
            size_t ns = 0, nr = 0;
            bool s_nonl = false, r_nonl = false;
            char last = 0;
            for (size_t k = h0; st == AGC_OK && k < h1; k++) {
                char c = ls.l[k][0] ? ls.l[k][0] : ' ';
                const char *t = ls.l[k][0] ? ls.l[k] + 1 : ls.l[k];
                if (c == '\\') {
                    if (last == '-')
                        s_nonl = true;
                    else if (last == '+')
                        r_nonl = true;
                    else
                        s_nonl = r_nonl = true;
                    continue;
                }
                if (c != '+')
                    st = (ns++ ? agc_buf_putc(&s, '\n') : AGC_OK) == AGC_OK ? agc_buf_puts(&s, t)
                                                                            : AGC_ENOMEM;
                if (st == AGC_OK && c != '-')
                    st = (nr++ ? agc_buf_putc(&r, '\n') : AGC_OK) == AGC_OK ? agc_buf_puts(&r, t)
                                                                            : AGC_ENOMEM;
                last = c;
            }
            (void)s_nonl;
            if (st == AGC_OK && h1 == h0)
                st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD, "udiff line %zu: empty hunk", h0);
            if (st == AGC_OK && op == AGC_CS_CREATE) {
                st = agc_buf_append(&created, r.data, r.len);
                if (st == AGC_OK && !r_nonl && nr)
                    st = agc_buf_putc(&created, '\n');
            } else if (st == AGC_OK && op != AGC_CS_DELETE) {
                st = agc__cs_edit_add(f, ctx, agc_buf_detach(&s, NULL), agc_buf_detach(&r, NULL),
                                      h0 - 1);
                if (st == AGC_OK) {
                    agc__cs_edit *e = &f->edits[f->n_edits - 1];
                    e->ordered = true;
                    e->line_hint = old_start + offset > 0 ? old_start + offset : 0;
                    if (ns == 0)
                        e->line_hint = old_start + offset + 1; /* insert after line old_start */
                }
                offset += (long)nr - (long)ns;
            }
            agc_buf_free(&s);
            agc_buf_free(&r);
            hunks++;
            i = h1;
        }
        if (st == AGC_OK && op == AGC_CS_CREATE) {
            st = agc_buf_puts(&created, "");
            f->content = st == AGC_OK ? agc_buf_detach(&created, NULL) : NULL;
            f->whole = true;
            if (st == AGC_OK && !f->content)
                st = AGC_ENOMEM;
        }
        agc_buf_free(&created);
        if (st == AGC_OK && hunks == 0 && op == AGC_CS_MODIFY)
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "udiff line %zu: '%s' has no '@@' hunk", i + 1, from);
        i--; /* the loop's i++ */
    }
    if (st == AGC_OK && files == 0)
        st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                           "udiff: no '--- a/PATH' / '+++ b/PATH' file header found");
    lines_free(&ls, ctx);
    return st;
}

/* ---- whole files ------------------------------------------------------------------------- */

agc_status agc__cs_parse_whole(agc_changeset *cs, const char *text)
{
    agc_ctx *ctx = cs->ctx;
    lines ls;
    agc_status st = lines_split(&ls, text, ctx);
    if (st != AGC_OK)
        return st;
    size_t files = 0;
    for (size_t i = 0; st == AGC_OK && i < ls.n; i++) {
        if (!is_fence(ls.l[i]))
            continue;
        const char *fence = strstr(ls.l[i], "```") ? "```" : "~~~";
        size_t j = i;
        while (j > 0 && blank(ls.l[j - 1]))
            j--;
        char *path = j > 0 ? path_of(ls.l[j - 1]) : NULL;
        size_t end = i + 1;
        while (end < ls.n && !is_marker(ls.l[end], fence))
            end++;
        if (end >= ls.n) {
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "whole_file line %zu: the ``` block is not closed", i + 1);
            break;
        }
        if (!path) {
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "whole_file line %zu: put the file path alone on the line before "
                               "the ``` block",
                               i + 1);
            break;
        }
        agc__cs_fileop *f = NULL;
        st = agc__cs_fileop_get(&f, cs, path, AGC_CS_CREATE);
        if (st == AGC_OK) {
            f->op = AGC_CS_MODIFY; /* decided at resolve: create when missing */
            f->whole = true;
            f->create_ok = true;
            f->content = join(ctx, ls.l, i + 1, end, true);
            if (!f->content)
                st = AGC_ENOMEM;
        }
        files++;
        i = end;
    }
    if (st == AGC_OK && files == 0)
        st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                           "whole_file: no file found (a path line, then the content in ``` "
                           "fences)");
    lines_free(&ls, ctx);
    return st;
}

/* ---- apply_patch ---------------------------------------------------------------------------- */

static char *patch_lines(agc_ctx *ctx, const agc__patch_chunk *c, bool want_new)
{
    agc_buf o;
    agc_buf_init(&o, ctx, 0);
    agc_status st = agc_buf_puts(&o, "");
    size_t k = 0;
    for (size_t i = 0; st == AGC_OK && i < c->n_lines; i++) {
        char kind = c->lines[i].kind;
        if ((want_new && kind == '-') || (!want_new && kind == '+'))
            continue;
        if (k++)
            st = agc_buf_putc(&o, '\n');
        if (st == AGC_OK)
            st = agc_buf_puts(&o, c->lines[i].text);
    }
    if (st != AGC_OK) {
        agc_buf_free(&o);
        return NULL;
    }
    return agc_buf_detach(&o, NULL);
}

agc_status agc__cs_parse_apply_patch(agc_changeset *cs, const char *text)
{
    agc_ctx *ctx = cs->ctx;
    agc__patch p;
    agc_status st = agc__patch_parse(&p, text, ctx);
    if (st != AGC_OK)
        return st;
    for (size_t i = 0; st == AGC_OK && i < p.n_files; i++) {
        const agc__patch_file *pf = &p.files[i];
        agc_cs_op op = pf->op == AGC__P_ADD      ? AGC_CS_CREATE
                       : pf->op == AGC__P_DELETE ? AGC_CS_DELETE
                       : pf->move_to             ? AGC_CS_RENAME
                                                 : AGC_CS_MODIFY;
        agc__cs_fileop *f = NULL;
        st = agc__cs_fileop_get(&f, cs, pf->path, op == AGC_CS_MODIFY ? AGC_CS_CREATE : op);
        if (st != AGC_OK)
            break;
        f->op = op; /* each Update File is its own op (duplicates are rejected at resolve) */
        if (op == AGC_CS_RENAME && !(f->to = agc_strdup(ctx, pf->move_to))) {
            st = AGC_ENOMEM;
            break;
        }
        if (op == AGC_CS_CREATE) {
            agc_buf o;
            agc_buf_init(&o, ctx, 0);
            st = agc_buf_puts(&o, "");
            for (size_t k = 0; st == AGC_OK && k < pf->n_add; k++)
                st = agc_buf_puts(&o, pf->add_lines[k].text) == AGC_OK ? agc_buf_putc(&o, '\n')
                                                                       : AGC_ENOMEM;
            f->whole = true;
            f->content = st == AGC_OK ? agc_buf_detach(&o, NULL) : NULL;
            if (st == AGC_OK && !f->content)
                st = AGC_ENOMEM;
            agc_buf_free(&o);
            continue;
        }
        for (size_t c = 0; st == AGC_OK && c < pf->n_chunks; c++) {
            const agc__patch_chunk *ch = &pf->chunks[c];
            st = agc__cs_edit_add(f, ctx, patch_lines(ctx, ch, false), patch_lines(ctx, ch, true),
                                  ch->patch_line);
            if (st != AGC_OK)
                break;
            agc__cs_edit *e = &f->edits[f->n_edits - 1];
            e->ordered = true;
            e->at_eof = ch->at_eof;
            if (ch->context && !(e->anchor = agc_strdup(ctx, ch->context)))
                st = AGC_ENOMEM;
        }
    }
    agc__patch_free(&p, ctx);
    return st;
}
