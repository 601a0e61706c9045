/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Change sets: format detection and parse dispatch, resolution against the
 * workspace (confined paths, deny lists, reading the old contents, locating
 * the edits, existence rules per operation), dependency ordering, the
 * unified diff of the whole set and the generated summary. Applying (the
 * journal) is changeset_apply.c. A set is resolved once; after that it is
 * read-only except for agc_changeset_apply.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "changeset_int.h"
#include "tools/tools_int.h"

const char *agc_cs_op_name(agc_cs_op op)
{
    static const char *const n[] = {"create", "modify", "delete", "rename"};
    return (unsigned)op < 4 ? n[op] : "?";
}

const char *agc_cs_format_name(agc_cs_format f)
{
    static const char *const n[] = {"auto", "apply_patch", "search_replace", "udiff", "whole_file"};
    return (unsigned)f < 5 ? n[f] : "?";
}

static bool line_starts(const char *text, const char *p)
{
    size_t n = strlen(p);
    for (const char *s = text; s; s = strchr(s, '\n')) {
        if (*s == '\n')
            s++;
        if (strncmp(s, p, n) == 0)
            return true;
    }
    return false;
}

agc_cs_format agc_cs_format_detect(const char *text)
{
    if (line_starts(text, "*** Begin Patch"))
        return AGC_CS_FMT_APPLY_PATCH;
    if (line_starts(text, "<<<<<<< SEARCH"))
        return AGC_CS_FMT_SEARCH_REPLACE;
    if ((line_starts(text, "--- ") && line_starts(text, "+++ ")) ||
        line_starts(text, "diff --git "))
        return AGC_CS_FMT_UDIFF;
    return AGC_CS_FMT_WHOLE_FILE;
}

void agc_cs_apply_opts_init(agc_cs_apply_opts *opts)
{
    agc_cs_apply_opts d = AGC_CS_APPLY_OPTS_INIT;
    *opts = d;
}

void agc_changeset_free(agc_changeset *cs)
{
    if (!cs)
        return;
    agc_ctx *ctx = cs->ctx;
    for (size_t i = 0; i < cs->n; i++) {
        agc__cs_fileop *f = &cs->files[i];
        for (size_t k = 0; k < f->n_edits; k++) {
            agc_free(ctx, f->edits[k].search);
            agc_free(ctx, f->edits[k].replace);
            agc_free(ctx, f->edits[k].anchor);
        }
        agc_free(ctx, f->edits);
        agc_free(ctx, f->path);
        agc_free(ctx, f->to);
        agc_free(ctx, f->content);
        agc_free(ctx, f->rel);
        agc_free(ctx, f->rel_to);
        agc_free(ctx, f->old);
        agc_free(ctx, f->newc);
    }
    agc_free(ctx, cs->files);
    if (cs->ws)
        agc__ws_unref(cs->ws);
    agc_free(ctx, cs);
}

agc_status agc_changeset_parse(agc_changeset **out, const char *text, agc_cs_format fmt,
                               agc_ctx *ctx)
{
    *out = NULL;
    if (!text)
        return agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "no change set text");
    if ((unsigned)fmt > AGC_CS_FMT_WHOLE_FILE)
        return agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "unknown change set format %d",
                             (int)fmt);
    agc_changeset *cs = agc_calloc(ctx, 1, sizeof *cs);
    if (!cs)
        return AGC_ENOMEM;
    cs->ctx = ctx;
    cs->format = fmt == AGC_CS_FMT_AUTO ? agc_cs_format_detect(text) : fmt;
    agc_status st;
    switch (cs->format) {
    case AGC_CS_FMT_APPLY_PATCH:
        st = agc__cs_parse_apply_patch(cs, text);
        break;
    case AGC_CS_FMT_SEARCH_REPLACE:
        st = agc__cs_parse_search_replace(cs, text);
        break;
    case AGC_CS_FMT_UDIFF:
        st = agc__cs_parse_udiff(cs, text);
        break;
    default:
        st = agc__cs_parse_whole(cs, text);
        break;
    }
    if (st != AGC_OK) {
        agc_changeset_free(cs);
        return st;
    }
    *out = cs;
    return AGC_OK;
}

/* ---- resolve ------------------------------------------------------------------------------ */

static bool exists_rel(agc_workspace *ws, const char *rel, struct stat *sb, agc_ctx *ctx)
{
    int fd = -1;
    agc_status st = agc__ws_openat2(&fd, ws, rel, O_PATH | O_NOFOLLOW, 0, rel, ctx);
    if (st != AGC_OK) {
        agc_error_clear(ctx);
        return false;
    }
    bool ok = fstat(fd, sb) == 0;
    close(fd);
    return ok;
}

static agc_status read_old(agc__cs_fileop *f, agc_workspace *ws, agc_ctx *ctx)
{
    int fd = -1;
    struct stat sb;
    agc_status st =
        agc_workspace_open_file(&fd, ws, f->rel, O_RDONLY | O_NONBLOCK, 0, AGC_WS_WRITE, ctx);
    if (st != AGC_OK)
        return st;
    size_t total = 0;
    st = agc__read_fd(&f->old, &f->old_len, &total, fd, agc__ws_max_file_bytes(ws), f->rel, ctx);
    if (st == AGC_OK && fstat(fd, &sb) == 0) {
        f->mode = sb.st_mode & 07777;
        if (!S_ISREG(sb.st_mode))
            st = agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "'%s' is not a regular file", f->rel);
    }
    close(fd);
    if (st == AGC_OK && total > f->old_len)
        st = agc_error_set(ctx, AGC_ELIMIT, AGC__CS_MOD,
                           "'%s' is larger than the workspace file limit", f->rel);
    if (st == AGC_OK && agc__looks_binary(f->old, f->old_len))
        st = agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD,
                           "'%s' is a binary file; it cannot be "
                           "edited",
                           f->rel);
    f->existed = st == AGC_OK;
    return st;
}

static agc_status resolve_one(agc_changeset *cs, agc__cs_fileop *f, agc_buf *err)
{
    agc_ctx *ctx = cs->ctx;
    agc_workspace *ws = cs->ws;
    struct stat sb;
    agc_status st = agc_workspace_normalize(&f->rel, ws, f->path, ctx);
    if (st == AGC_OK && strcmp(f->rel, ".") == 0)
        st = agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "'%s' names the workspace root", f->path);
    if (st == AGC_OK)
        st = agc_workspace_check(ws, f->rel, AGC_WS_WRITE, ctx);
    if (st == AGC_OK && f->to) {
        st = agc_workspace_normalize(&f->rel_to, ws, f->to, ctx);
        if (st == AGC_OK)
            st = agc_workspace_check(ws, f->rel_to, AGC_WS_WRITE, ctx);
    }
    if (st != AGC_OK)
        return st;
    bool ex = exists_rel(ws, f->rel, &sb, ctx);
    if (ex && S_ISDIR(sb.st_mode))
        return agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "'%s' is a directory", f->rel);
    if (f->op == AGC_CS_MODIFY && !ex && f->create_ok)
        f->op = AGC_CS_CREATE;
    switch (f->op) {
    case AGC_CS_CREATE:
        if (ex)
            return agc_error_set(ctx, AGC_EEXISTS, AGC__CS_MOD,
                                 "cannot create '%s': the file already exists; edit it instead",
                                 f->rel);
        f->mode = 0644;
        if (f->whole) {
            f->newc = agc_strdup(ctx, f->content ? f->content : "");
            f->new_len = f->newc ? strlen(f->newc) : 0;
            return f->newc ? AGC_OK : AGC_ENOMEM;
        }
        /* SEARCH/REPLACE with empty searches on a missing file: the replacements */
        return agc__cs_apply_edits(&f->newc, &f->new_len, &f->fuzzy, "", 0, f, f->rel, err, ctx);
    case AGC_CS_DELETE:
        if (!ex)
            return agc_error_set(ctx, AGC_ENOTFOUND, AGC__CS_MOD,
                                 "cannot delete '%s': no such file", f->rel);
        return read_old(f, ws, ctx);
    case AGC_CS_MODIFY:
    case AGC_CS_RENAME:
        break;
    }
    if (!ex)
        return agc_error_set(ctx, AGC_ENOTFOUND, AGC__CS_MOD, "cannot %s '%s': no such file%s",
                             f->op == AGC_CS_RENAME ? "move" : "edit", f->rel,
                             f->op == AGC_CS_MODIFY ? " (to create it, give its whole "
                                                      "content)"
                                                    : "");
    st = read_old(f, ws, ctx);
    if (st != AGC_OK)
        return st;
    if (f->rel_to && exists_rel(ws, f->rel_to, &sb, ctx))
        return agc_error_set(ctx, AGC_EEXISTS, AGC__CS_MOD,
                             "cannot move '%s' to '%s': the destination exists", f->rel, f->rel_to);
    if (f->whole) {
        f->newc = agc_strdup(ctx, f->content ? f->content : "");
        f->new_len = f->newc ? strlen(f->newc) : 0;
        return f->newc ? AGC_OK : AGC_ENOMEM;
    }
    return agc__cs_apply_edits(&f->newc, &f->new_len, &f->fuzzy, f->old, f->old_len, f, f->rel, err,
                               ctx);
}

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool is_header(const char *p)
{
    const char *dot = strrchr(p, '.');
    return dot && (strcmp(dot, ".h") == 0 || strcmp(dot, ".hpp") == 0 || strcmp(dot, ".hh") == 0 ||
                   strcmp(dot, ".d.ts") == 0 || strcmp(dot, ".proto") == 0);
}

/* Whether a's new text refers to b by name (#include "b", import ... b). */
static bool uses(const agc__cs_fileop *a, const agc__cs_fileop *b)
{
    if (!a->newc || a == b)
        return false;
    const char *name = base_of(b->rel_to ? b->rel_to : b->rel);
    char stem[256];
    size_t n = strcspn(name, ".");
    if (n == 0 || n >= sizeof stem)
        return false;
    memcpy(stem, name, n);
    stem[n] = '\0';
    for (const char *p = a->newc; (p = strstr(p, is_header(name) ? name : stem)); p++) {
        const char *ls = p;
        while (ls > a->newc && ls[-1] != '\n')
            ls--;
        while (*ls == ' ' || *ls == '\t')
            ls++;
        if (strncmp(ls, "#include", 8) == 0 || strncmp(ls, "import", 6) == 0 ||
            strncmp(ls, "from", 4) == 0 || strstr(ls, "require(") != NULL)
            if ((size_t)(p - ls) < 200)
                return true;
    }
    return false;
}

static int rank(const agc__cs_fileop *f)
{
    if (f->op == AGC_CS_DELETE)
        return 3;
    if (f->op == AGC_CS_RENAME)
        return 2;
    return is_header(f->rel) ? 0 : 1;
}

/* Stable topological order: headers, then users after what they use, renames, deletes. */
static agc_status order(agc_changeset *cs)
{
    size_t n = cs->n;
    if (n < 2)
        return AGC_OK;
    agc__cs_fileop *sorted = agc_calloc(cs->ctx, n, sizeof *sorted);
    bool *done = agc_calloc(cs->ctx, n, sizeof *done);
    if (!sorted || !done) {
        agc_free(cs->ctx, sorted);
        agc_free(cs->ctx, done);
        return AGC_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        size_t pick = SIZE_MAX;
        for (int r = 0; r <= 3 && pick == SIZE_MAX; r++)
            for (size_t i = 0; i < n && pick == SIZE_MAX; i++) {
                if (done[i] || rank(&cs->files[i]) != r)
                    continue;
                bool blocked = false;
                for (size_t j = 0; j < n && !blocked; j++)
                    blocked = !done[j] && j != i && rank(&cs->files[j]) <= r &&
                              uses(&cs->files[i], &cs->files[j]) &&
                              !uses(&cs->files[j], &cs->files[i]);
                if (!blocked)
                    pick = i;
            }
        if (pick == SIZE_MAX) /* a cycle: the first left */
            for (size_t i = 0; i < n && pick == SIZE_MAX; i++)
                if (!done[i])
                    pick = i;
        sorted[k] = cs->files[pick];
        done[pick] = true;
    }
    memcpy(cs->files, sorted, n * sizeof *sorted);
    agc_free(cs->ctx, sorted);
    agc_free(cs->ctx, done);
    return AGC_OK;
}

agc_status agc_changeset_resolve(agc_changeset *cs, agc_workspace *ws)
{
    agc_ctx *ctx = cs->ctx;
    if (cs->resolved || cs->ws)
        return agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "the change set is already resolved");
    agc__ws_ref(ws);
    cs->ws = ws;
    /* a set interrupted by a crash is finished or undone before files are read */
    agc_status rst = agc_changeset_recover(NULL, ws, ctx);
    if (rst != AGC_OK)
        return rst;
    agc_buf err;
    agc_buf_init(&err, ctx, 64 * 1024);
    agc_status first = AGC_OK;
    for (size_t i = 0; i < cs->n; i++) {
        agc__cs_fileop *f = &cs->files[i];
        size_t before = err.len;
        agc_status st = resolve_one(cs, f, &err);
        if (st == AGC_ENOMEM) {
            agc_buf_free(&err);
            return st;
        }
        if (st != AGC_OK) {
            if (err.len == before)
                agc_buf_printf(&err, "%s\n", agc_ctx_errmsg(ctx));
            if (first == AGC_OK)
                first = st;
        }
    }
    /* one operation per path */
    for (size_t i = 0; first == AGC_OK && i < cs->n; i++)
        for (size_t j = 0; j < i; j++) {
            const agc__cs_fileop *a = &cs->files[i], *b = &cs->files[j];
            const char *an[2] = {a->rel, a->rel_to}, *bn[2] = {b->rel, b->rel_to};
            for (int x = 0; x < 2; x++)
                for (int y = 0; y < 2; y++)
                    if (an[x] && bn[y] && strcmp(an[x], bn[y]) == 0 && first == AGC_OK) {
                        agc_buf_printf(
                            &err, "'%s' appears in more than one operation; combine them\n", an[x]);
                        first = AGC_EINVAL;
                    }
        }
    if (first != AGC_OK) {
        while (err.len && err.data[err.len - 1] == '\n')
            err.data[--err.len] = '\0';
        agc_error_set(ctx, first, AGC__CS_MOD, "%s", agc_buf_cstr(&err));
        agc_buf_free(&err);
        return first;
    }
    agc_buf_free(&err);
    agc_status st = order(cs);
    cs->resolved = st == AGC_OK;
    return st;
}

size_t agc_changeset_count(const agc_changeset *cs)
{
    return cs ? cs->n : 0;
}

bool agc_changeset_file(const agc_changeset *cs, size_t i, agc_cs_file *out)
{
    if (!cs || i >= cs->n)
        return false;
    const agc__cs_fileop *f = &cs->files[i];
    out->op = f->op;
    out->path = f->rel ? f->rel : f->path;
    out->to = f->rel_to ? f->rel_to : f->to;
    out->old_text = f->existed ? f->old : NULL;
    out->old_len = f->old_len;
    out->new_text = f->op == AGC_CS_DELETE ? NULL : f->newc;
    out->new_len = f->new_len;
    out->fuzzy_edits = f->fuzzy;
    return true;
}

agc_status agc_changeset_diff(const agc_changeset *cs, agc_buf *out)
{
    if (!cs->resolved)
        return agc_error_set(cs->ctx, AGC_EINVAL, AGC__CS_MOD,
                             "resolve the change set before diffing it");
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < cs->n; i++) {
        const agc__cs_fileop *f = &cs->files[i];
        char *a = NULL, *b = NULL;
        a = f->op == AGC_CS_CREATE ? agc_strdup(cs->ctx, "/dev/null")
                                   : agc_sprintf(cs->ctx, "a/%s", f->rel);
        b = f->op == AGC_CS_DELETE ? agc_strdup(cs->ctx, "/dev/null")
                                   : agc_sprintf(cs->ctx, "b/%s", f->rel_to ? f->rel_to : f->rel);
        if (!a || !b)
            st = AGC_ENOMEM;
        if (st == AGC_OK && f->op == AGC_CS_RENAME)
            st = agc_buf_printf(out, "diff --git a/%s b/%s\nrename from %s\nrename to %s\n", f->rel,
                                f->rel_to, f->rel, f->rel_to);
        if (st == AGC_OK)
            st = agc__cs_udiff(out, a, f->existed ? f->old : "", f->existed ? f->old_len : 0, b,
                               f->op == AGC_CS_DELETE ? "" : f->newc,
                               f->op == AGC_CS_DELETE ? 0 : f->new_len);
        agc_free(cs->ctx, a);
        agc_free(cs->ctx, b);
    }
    return st;
}

agc_status agc_changeset_check_syntax(const agc_changeset *cs, agc_buf *errs)
{
    agc_status res = AGC_OK;
    for (size_t i = 0; i < cs->n; i++) {
        const agc__cs_fileop *f = &cs->files[i];
        if (f->op == AGC_CS_DELETE || !f->newc)
            continue;
        agc_status st = agc__cs_syntax_check(f->rel_to ? f->rel_to
                                             : f->rel  ? f->rel
                                                       : f->path,
                                             f->existed ? f->old : NULL, f->old_len, f->newc,
                                             f->new_len, errs, cs->ctx);
        if (st == AGC_ENOMEM)
            return st;
        if (st != AGC_OK)
            res = AGC_EPARSE;
    }
    return res;
}

char *agc_changeset_summary(const agc_changeset *cs)
{
    agc_buf b;
    agc_buf_init(&b, cs->ctx, 0);
    size_t counts[4] = {0};
    for (size_t i = 0; i < cs->n; i++)
        counts[cs->files[i].op]++;
    agc_status st;
    if (cs->n == 1) {
        const agc__cs_fileop *f = &cs->files[0];
        static const char *const verb[] = {"Add", "Update", "Delete", "Rename"};
        const char *p = f->rel ? f->rel : f->path;
        st = f->op == AGC_CS_RENAME
                 ? agc_buf_printf(&b, "Rename %s to %s\n", p, f->rel_to ? f->rel_to : f->to)
                 : agc_buf_printf(&b, "%s %s\n", verb[f->op], p);
    } else {
        st = agc_buf_printf(&b, "Change %zu files", cs->n);
        static const char *const what[] = {"added", "modified", "deleted", "renamed"};
        const char *sep = " (";
        for (int k = 0; st == AGC_OK && k < 4; k++)
            if (counts[k]) {
                st = agc_buf_printf(&b, "%s%zu %s", sep, counts[k], what[k]);
                sep = ", ";
            }
        if (st == AGC_OK)
            st = agc_buf_puts(&b, ")\n");
    }
    if (st == AGC_OK && cs->n > 1)
        st = agc_buf_putc(&b, '\n');
    for (size_t i = 0; st == AGC_OK && cs->n > 1 && i < cs->n; i++) {
        const agc__cs_fileop *f = &cs->files[i];
        static const char tag[] = "AMDR";
        const char *p = f->rel ? f->rel : f->path;
        st = f->rel_to ? agc_buf_printf(&b, "%c %s -> %s\n", tag[f->op], p, f->rel_to)
                       : agc_buf_printf(&b, "%c %s\n", tag[f->op], p);
    }
    if (st == AGC_OK)
        st = agc_buf_puts(&b, "\nGenerated by agentc\n");
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}
