/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * apply_patch {patch}: applies a Codex-format patch to the workspace,
 * ALL-OR-NOTHING. Phase 1 parses the patch and computes every new file in
 * memory (paths confined and deny-checked, every hunk matched); any problem
 * there changes nothing. Phase 2 writes each file as temp + fsync + rename,
 * and undoes the steps already done if a later one fails (the old files
 * are kept under hidden backup names until the end, so undo allocates
 * nothing; updates are swapped in with RENAME_EXCHANGE).
 * Directories created for added files are not removed on rollback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

#define MOD "apply_patch"

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"patch\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The patch, from '*** Begin "
    "Patch' to '*** End Patch'\"}},"
    "\"required\":[\"patch\"],\"additionalProperties\":false}";

typedef struct step {
    const agc__patch_file *f;
    char *rel, *rel_to;         /* normalised paths; rel_to only for a move */
    int dirfd, dirfd_to;        /* parents; -1 when still to be created */
    const char *base, *base_to; /* last components (into rel / rel_to) */
    char *old, *newc;
    size_t old_len, new_len;
    unsigned mode;
    int done;  /* commit progress, for undo */
    char *bak; /* backup name in dirfd (delete, move source) */
} step;

typedef struct plan {
    agc_workspace *ws;
    agc_ctx *ctx;
    step *steps;
    size_t n;
} plan;

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        step *s = &p->steps[i];
        if (s->dirfd >= 0)
            close(s->dirfd);
        if (s->dirfd_to >= 0)
            close(s->dirfd_to);
        agc_free(p->ctx, s->rel);
        agc_free(p->ctx, s->rel_to);
        agc_free(p->ctx, s->old);
        agc_free(p->ctx, s->newc);
        agc_free(p->ctx, s->bak);
    }
    agc_free(p->ctx, p->steps);
}

/* Opens the parent of rel; a missing directory is fine (created at commit). */
static agc_status parent(int *fd, const char **base, plan *p, const char *rel)
{
    agc_status st = agc__ws_open_parent(fd, base, p->ws, rel, false, p->ctx);
    if (st == AGC_ENOTFOUND) {
        const char *sl = strrchr(rel, '/');
        *base = sl ? sl + 1 : rel;
        *fd = -1;
        return AGC_OK;
    }
    return st;
}

static bool exists(int dirfd, const char *base, struct stat *sb)
{
    return dirfd >= 0 && fstatat(dirfd, base, sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static agc_status dup_check(plan *p, size_t upto, const char *rel)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(p->steps[i].rel, rel) == 0 ||
            (p->steps[i].rel_to && strcmp(p->steps[i].rel_to, rel) == 0))
            return agc_error_set(p->ctx, AGC_EINVAL, MOD,
                                 "'%s' appears more than once in the patch; combine its changes",
                                 rel);
    return AGC_OK;
}

static agc_status join_add(step *s, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < s->f->n_add; i++) {
        st = agc_buf_puts(&b, s->f->add_lines[i].text);
        if (st == AGC_OK)
            st = agc_buf_putc(&b, '\n');
    }
    if (st == AGC_OK) {
        s->new_len = b.len;
        s->newc = agc_buf_detach(&b, NULL);
        st = s->newc ? AGC_OK : AGC_ENOMEM;
    }
    agc_buf_free(&b);
    return st;
}

/* Phase 1 for one file. Problems the model can fix go to err/ctx as AGC_EINVAL etc. */
static agc_status prepare(plan *p, size_t idx, agc_buf *err)
{
    step *s = &p->steps[idx];
    const agc__patch_file *f = s->f;
    agc_ctx *ctx = p->ctx;
    struct stat sb;
    agc_status st = agc_workspace_normalize(&s->rel, p->ws, f->path, ctx);
    if (st == AGC_OK)
        st = dup_check(p, idx, s->rel);
    if (st == AGC_OK)
        st = parent(&s->dirfd, &s->base, p, s->rel);
    if (st != AGC_OK)
        return st;
    switch (f->op) {
    case AGC__P_ADD:
        if (exists(s->dirfd, s->base, &sb))
            return agc_error_set(ctx, AGC_EEXISTS, MOD,
                                 "Add File '%s': the file already exists; use Update File", s->rel);
        s->mode = 0644;
        return join_add(s, ctx);
    case AGC__P_DELETE:
        if (!exists(s->dirfd, s->base, &sb))
            return agc_error_set(ctx, AGC_ENOTFOUND, MOD, "Delete File '%s': no such file", s->rel);
        if (S_ISDIR(sb.st_mode))
            return agc_error_set(ctx, AGC_EINVAL, MOD,
                                 "Delete File '%s': it is a directory; only files can be deleted",
                                 s->rel);
        return AGC_OK;
    case AGC__P_UPDATE:
        break;
    }
    int fd = -1;
    st = agc_workspace_open_file(&fd, p->ws, s->rel, O_RDONLY | O_NONBLOCK, 0, AGC_WS_WRITE, ctx);
    if (st != AGC_OK)
        return st;
    size_t total = 0;
    st = agc__read_fd(&s->old, &s->old_len, &total, fd, agc__ws_max_file_bytes(p->ws), s->rel, ctx);
    if (st == AGC_OK && fstat(fd, &sb) == 0)
        s->mode = sb.st_mode & 07777;
    close(fd);
    if (st != AGC_OK)
        return st;
    if (total > s->old_len)
        return agc_error_set(ctx, AGC_ELIMIT, MOD,
                             "Update File '%s': the file is larger than the workspace limit",
                             s->rel);
    if (agc__looks_binary(s->old, s->old_len))
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "Update File '%s': binary files cannot be patched", s->rel);
    if (f->n_chunks > 0) {
        st = agc__patch_apply_text(&s->newc, &s->new_len, s->old, s->old_len, f, err, ctx);
        if (st != AGC_OK)
            return st;
    } else {
        s->newc = agc_strndup(ctx, s->old, s->old_len);
        s->new_len = s->old_len;
        if (!s->newc)
            return AGC_ENOMEM;
    }
    if (!f->move_to)
        return AGC_OK;
    st = agc_workspace_normalize(&s->rel_to, p->ws, f->move_to, ctx);
    if (st == AGC_OK && strcmp(s->rel_to, s->rel) == 0) {
        agc_free(ctx, s->rel_to); /* a move onto itself is a plain update */
        s->rel_to = NULL;
        return AGC_OK;
    }
    if (st == AGC_OK)
        st = dup_check(p, idx, s->rel_to);
    if (st == AGC_OK)
        st = parent(&s->dirfd_to, &s->base_to, p, s->rel_to);
    if (st == AGC_OK && exists(s->dirfd_to, s->base_to, &sb))
        st = agc_error_set(ctx, AGC_EEXISTS, MOD, "Move to '%s': the file already exists",
                           s->rel_to);
    return st;
}

/* Renames name in dirfd to a fresh hidden backup name. */
static agc_status backup(step *s, agc_ctx *ctx)
{
    int fd = -1;
    agc_status st = agc__ws_tmpfile(&fd, &s->bak, s->dirfd, s->base, ctx);
    if (st != AGC_OK)
        return st;
    close(fd);
    if (renameat(s->dirfd, s->base, s->dirfd, s->bak) != 0) {
        st =
            agc_error_set(ctx, AGC_EIO, MOD, "cannot move '%s' aside: %s", s->rel, strerror(errno));
        unlinkat(s->dirfd, s->bak, 0);
        agc_free(ctx, s->bak);
        s->bak = NULL;
    }
    return st;
}

/* Writes data into dirfd/base via a temp file; noreplace refuses an existing file. */
static agc_status put(int dirfd, const char *base, const char *data, size_t len, unsigned mode,
                      bool noreplace, const char *display, agc_ctx *ctx)
{
    char *tmp = NULL;
    agc_status st = agc__ws_write_tmp(&tmp, dirfd, base, data, len, mode, ctx);
    if (st != AGC_OK)
        return st;
    int rc = noreplace ? renameat2(dirfd, tmp, dirfd, base, RENAME_NOREPLACE)
                       : renameat(dirfd, tmp, dirfd, base);
    if (rc != 0) {
        st = agc_error_set(ctx, errno == EEXIST ? AGC_EEXISTS : AGC_EIO, MOD,
                           "cannot write '%s': %s", display, strerror(errno));
        unlinkat(dirfd, tmp, 0);
    }
    agc_free(ctx, tmp);
    return st;
}

static agc_status commit_one(plan *p, step *s)
{
    agc_ctx *ctx = p->ctx;
    agc_status st = AGC_OK;
    if (s->dirfd < 0)
        st = agc__ws_open_parent(&s->dirfd, &s->base, p->ws, s->rel, true, ctx);
    if (st == AGC_OK && s->rel_to && s->dirfd_to < 0)
        st = agc__ws_open_parent(&s->dirfd_to, &s->base_to, p->ws, s->rel_to, true, ctx);
    if (st != AGC_OK)
        return st;
    switch (s->f->op) {
    case AGC__P_ADD:
        st = put(s->dirfd, s->base, s->newc, s->new_len, s->mode, true, s->rel, ctx);
        s->done = st == AGC_OK;
        return st;
    case AGC__P_DELETE:
        st = backup(s, ctx);
        s->done = st == AGC_OK;
        return st;
    case AGC__P_UPDATE:
        break;
    }
    if (!s->rel_to) {
        /* Swap the new file in atomically; the old one stays under the temp name,
         * so undo needs no memory. Without RENAME_EXCHANGE: rename, undo from memory. */
        char *tmp = NULL;
        st = agc__ws_write_tmp(&tmp, s->dirfd, s->base, s->newc, s->new_len, s->mode, ctx);
        if (st != AGC_OK)
            return st;
        if (renameat2(s->dirfd, tmp, s->dirfd, s->base, RENAME_EXCHANGE) == 0) {
            s->bak = tmp;
            s->done = 1;
            return AGC_OK;
        }
        if (renameat(s->dirfd, tmp, s->dirfd, s->base) == 0) {
            agc_free(ctx, tmp);
            s->done = 1;
            return AGC_OK;
        }
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot write '%s': %s", s->rel, strerror(errno));
        unlinkat(s->dirfd, tmp, 0);
        agc_free(ctx, tmp);
        return st;
    }
    st = put(s->dirfd_to, s->base_to, s->newc, s->new_len, s->mode, true, s->rel_to, ctx);
    if (st != AGC_OK)
        return st;
    s->done = 1;
    st = backup(s, ctx);
    if (st == AGC_OK)
        s->done = 2;
    return st;
}

/* Undoes a committed step; returns false when that failed. */
static bool undo_one(plan *p, step *s)
{
    bool ok = true;
    if (s->f->op == AGC__P_ADD && s->done)
        ok = unlinkat(s->dirfd, s->base, 0) == 0;
    else if (s->f->op == AGC__P_DELETE && s->done)
        ok = renameat(s->dirfd, s->bak, s->dirfd, s->base) == 0;
    else if (s->f->op == AGC__P_UPDATE && !s->rel_to && s->done && s->bak)
        ok = renameat(s->dirfd, s->bak, s->dirfd, s->base) == 0;
    else if (s->f->op == AGC__P_UPDATE && !s->rel_to && s->done)
        ok = put(s->dirfd, s->base, s->old, s->old_len, s->mode, false, s->rel, p->ctx) == AGC_OK;
    else if (s->f->op == AGC__P_UPDATE && s->rel_to) {
        if (s->done >= 2)
            ok = renameat(s->dirfd, s->bak, s->dirfd, s->base) == 0;
        if (s->done >= 1)
            ok = unlinkat(s->dirfd_to, s->base_to, 0) == 0 && ok;
    }
    if (ok && s->bak) {
        agc_free(p->ctx, s->bak);
        s->bak = NULL;
    }
    s->done = 0;
    return ok;
}

static agc_status summary(agc_tool_result *out, const plan *p, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st =
        agc_buf_printf(&b, "applied the patch to %zu file%s:\n", p->n, p->n == 1 ? "" : "s");
    for (size_t i = 0; st == AGC_OK && i < p->n; i++) {
        const step *s = &p->steps[i];
        if (s->f->op == AGC__P_ADD)
            st = agc_buf_printf(&b, "A %s\n", s->rel);
        else if (s->f->op == AGC__P_DELETE)
            st = agc_buf_printf(&b, "D %s\n", s->rel);
        else if (s->rel_to)
            st = agc_buf_printf(&b, "R %s -> %s\n", s->rel, s->rel_to);
        else
            st = agc_buf_printf(&b, "M %s\n", s->rel);
    }
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
    agc_buf_free(&b);
    return st;
}

static agc_status apply_patch_call(void *self, const json_t *args, agc_tool_result *out,
                                   agc_tool_call_ctx *cctx)
{
    agc_ctx *ctx = cctx->ctx;
    agc__patch patch;
    agc_status st = agc__patch_parse(&patch, agc_json_str(args, "patch", ""), ctx);
    if (st != AGC_OK)
        return st == AGC_ENOMEM
                   ? st
                   : agc_tool_result_errorf(out, ctx, "malformed patch: %s; nothing was changed",
                                            agc_ctx_errmsg(ctx));
    plan p = {self, ctx, NULL, 0};
    agc_buf err;
    agc_buf_init(&err, ctx, 16384);
    p.steps = agc_calloc(ctx, patch.n_files, sizeof *p.steps);
    if (!p.steps) {
        st = AGC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < patch.n_files; i++) {
        p.steps[i].f = &patch.files[i];
        p.steps[i].dirfd = p.steps[i].dirfd_to = -1;
        p.n++;
    }
    for (size_t i = 0; i < p.n && st == AGC_OK; i++) {
        st = prepare(&p, i, &err);
        if (st == AGC_OK)
            st = agc_tool_call_check(cctx);
    }
    if (st != AGC_OK) {
        if (st != AGC_ENOMEM && st != AGC_ECANCELED) {
            const char *why = err.len ? agc_buf_cstr(&err) : agc_ctx_errmsg(ctx);
            st = agc_tool_result_errorf(out, ctx, "%s%snothing was changed", why,
                                        err.len ? "" : "; ");
        }
        goto done;
    }
    /* The summary is built first: once files change, nothing may fail for memory. */
    st = summary(out, &p, ctx);
    if (st != AGC_OK)
        goto done;
    /* Phase 2: commit, undoing on failure. */
    size_t k = 0;
    for (; k < p.n && st == AGC_OK; k++)
        st = commit_one(&p, &p.steps[k]);
    if (st != AGC_OK) {
        char first[512];
        snprintf(first, sizeof first, "%s", agc_ctx_errmsg(ctx));
        bool clean = true;
        for (size_t j = k; j-- > 0;)
            clean = undo_one(&p, &p.steps[j]) && clean;
        agc_tool_result_clear(out, ctx); /* the summary must not stand */
        if (st != AGC_ENOMEM || !clean)
            st = agc_tool_result_errorf(out, ctx, "%s; %s", first,
                                        clean ? "the changes already made were rolled back"
                                              : "ROLLBACK FAILED: the workspace may be partly "
                                                "patched; inspect it");
        goto done;
    }
    for (size_t i = 0; i < p.n; i++) {
        step *s = &p.steps[i];
        if (s->bak)
            unlinkat(s->dirfd, s->bak, 0);
        if (s->dirfd >= 0)
            (void)fsync(s->dirfd);
        if (s->dirfd_to >= 0)
            (void)fsync(s->dirfd_to);
    }
done:
    plan_free(&p);
    agc_buf_free(&err);
    agc__patch_free(&patch, ctx);
    return st;
}

static const agc_tool_ops apply_patch_ops = {
    AGC_TOOL_OPS_VERSION,
    apply_patch_call,
    agc__ws_tool_destroy,
};

agc_status agc__tool_apply_patch_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc__ws_tool_make(
        out, ws, &apply_patch_ops, "apply_patch",
        "Edit workspace files with a patch (all files change or none). Format:\n"
        "*** Begin Patch\n"
        "*** Add File: path/new.txt\n+line\n"
        "*** Delete File: path/old.txt\n"
        "*** Update File: path/file.c\n*** Move to: path/renamed.c   (optional)\n"
        "@@ optional line that precedes the hunk, e.g. a function signature\n"
        " context line\n-removed line\n+added line\n"
        "*** End Patch\n"
        "Give about 3 lines of context around each change; each hunk must match exactly once.",
        schema, AGC_TOOL_EFFECT_WRITE, AGC_TOOL_APPROVE_ASK, 60000, ctx);
}
