/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Atomic application of a resolved change set through a journal.
 *   1. the journal (.agentc-journal at the workspace root: JSON with the
 *      state "prepared", the directories to create and, per file, the op,
 *      paths and the names of its temp and backup files) is written, synced
 *      and renamed into place BEFORE anything else changes;
 *   2. directories are created, new contents written to temp files next to
 *      their targets (synced), originals hard-linked to backup names;
 *   3. temp files are renamed over their targets, deleted/moved sources
 *      unlinked (their backups keep them);
 *   4. the journal is rewritten with the state "committed" (the commit point);
 *   5. backups and the journal are removed.
 * Recovery (agc_changeset_recover, run first by every apply): a "prepared"
 * journal is rolled back (backups renamed over their paths, created files
 * and directories removed, temps removed), a "committed" one rolled forward
 * (backups removed). Both are idempotent, so a crash during recovery is
 * recovered again. No file is ever half-written: only renames make changes
 * visible.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "changeset_int.h"
#include "tools/tools_int.h"

#define JOURNAL     ".agentc-journal"
#define JOURNAL_TMP ".agentc-journal.tmp"

/* One journal entry (strings owned by the json document or the caller). */
typedef struct jent {
    agc_cs_op op;
    const char *path, *to; /* relative */
    char newname[64];      /* temp in path's (or to's, for a rename) directory; "" none */
    char bakname[64];      /* backup in path's directory; "" none */
} jent;

static agc_status sync_dir(int dirfd)
{
    (void)fsync(dirfd);
    return AGC_OK;
}

static agc_status root_fd(int *fd, agc_workspace *ws, agc_ctx *ctx)
{
    *fd = open(agc_workspace_root(ws), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return agc_error_set(ctx, AGC_EIO, AGC__CS_MOD, "cannot open the workspace root %s: %s",
                             agc_workspace_root(ws), strerror(errno));
    return AGC_OK;
}

/* Writes data to dirfd/name (O_EXCL), synced. */
static agc_status write_file(int dirfd, const char *name, const char *data, size_t len,
                             unsigned mode, bool excl, agc_ctx *ctx)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
    if (fd < 0)
        return agc_error_set(ctx, AGC_EIO, AGC__CS_MOD, "cannot create '%s': %s", name,
                             strerror(errno));
    agc_status st = agc__write_all(fd, data, len, name, ctx);
    if (st == AGC_OK && fchmod(fd, mode) != 0)
        st = agc_error_set(ctx, AGC_EIO, AGC__CS_MOD, "cannot chmod '%s': %s", name,
                           strerror(errno));
    if (st == AGC_OK && fsync(fd) != 0)
        st =
            agc_error_set(ctx, AGC_EIO, AGC__CS_MOD, "cannot sync '%s': %s", name, strerror(errno));
    close(fd);
    if (st != AGC_OK)
        unlinkat(dirfd, name, 0);
    return st;
}

static const char *state_name(bool committed)
{
    return committed ? "committed" : "prepared";
}

/* Writes the journal atomically (tmp + fsync + rename + fsync of the root). */
static agc_status journal_write(int rfd, const jent *e, size_t n, const char *const *dirs,
                                size_t nd, bool committed, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *doc = json_object(), *files = json_array(), *jd = json_array();
    agc_status st = doc && files && jd ? AGC_OK : AGC_ENOMEM;
    for (size_t i = 0; st == AGC_OK && i < nd; i++)
        if (json_array_append_new(jd, json_string(dirs[i])) != 0)
            st = AGC_ENOMEM;
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s}", "op", agc_cs_op_name(e[i].op), "path",
                              e[i].path, "to", e[i].to, "new", e[i].newname, "bak", e[i].bakname);
        if (!o || json_array_append_new(files, o) != 0)
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK &&
        (json_object_set_new(doc, "version", json_integer(1)) != 0 ||
         json_object_set_new(doc, "state", json_string(state_name(committed))) ||
         json_object_set(doc, "dirs", jd) != 0 || json_object_set(doc, "files", files) != 0))
        st = AGC_ENOMEM;
    char *text = NULL;
    if (st == AGC_OK)
        st = agc_json_dump(&text, doc, JSON_COMPACT, ctx);
    json_decref(doc);
    json_decref(files);
    json_decref(jd);
    agc_json_leave(prev);
    if (st != AGC_OK)
        return st;
    unlinkat(rfd, JOURNAL_TMP, 0);
    st = write_file(rfd, JOURNAL_TMP, text, strlen(text), 0600, true, ctx);
    agc_free(ctx, text);
    if (st == AGC_OK && renameat(rfd, JOURNAL_TMP, rfd, JOURNAL) != 0)
        st = agc_error_set(ctx, AGC_EIO, AGC__CS_MOD, "cannot write the journal: %s",
                           strerror(errno));
    if (st == AGC_OK)
        sync_dir(rfd);
    return st;
}

/* Opens the directory containing rel (no creation); -1 when it is missing. */
static int parent_fd(agc_workspace *ws, const char *rel, const char **base, agc_ctx *ctx)
{
    int fd = -1;
    if (agc__ws_open_parent(&fd, base, ws, rel, false, ctx) != AGC_OK) {
        agc_error_clear(ctx);
        return -1;
    }
    return fd;
}

static bool present(int dirfd, const char *name)
{
    struct stat sb;
    return dirfd >= 0 && name[0] && fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Rolls entries back (or forward). Best effort and idempotent; false when something failed. */
static bool undo(agc_workspace *ws, const jent *e, size_t n, const char *const *dirs, size_t nd,
                 bool forward, agc_ctx *ctx)
{
    bool ok = true;
    for (size_t i = n; i-- > 0;) {
        const char *base = NULL, *tbase = NULL;
        int d = parent_fd(ws, e[i].path, &base, ctx);
        const char *target = e[i].op == AGC_CS_RENAME ? e[i].to : e[i].path;
        int td = target == e[i].path ? -1 : parent_fd(ws, target, &tbase, ctx);
        int nd_fd = target == e[i].path ? d : td;
        if (!tbase)
            tbase = base;
        bool new_left = present(nd_fd, e[i].newname);
        if (forward) {
            if (new_left) /* cannot happen after the commit point; keep the file safe */
                ok = false;
            if (present(d, e[i].bakname))
                ok = unlinkat(d, e[i].bakname, 0) == 0 && ok;
        } else {
            if (new_left)
                ok = unlinkat(nd_fd, e[i].newname, 0) == 0 && ok;
            bool had_original = e[i].op != AGC_CS_CREATE;
            if (e[i].op == AGC_CS_CREATE || e[i].op == AGC_CS_RENAME) {
                /* the created target exists only if its rename happened (temp gone) */
                if (!new_left && e[i].newname[0] && present(nd_fd, tbase))
                    ok = unlinkat(nd_fd, tbase, 0) == 0 && ok;
            }
            if (had_original && present(d, e[i].bakname)) {
                ok = renameat(d, e[i].bakname, d, base) == 0 && ok;
                /* rename(2) does nothing when both names link the same file */
                if (present(d, e[i].bakname))
                    ok = unlinkat(d, e[i].bakname, 0) == 0 && ok;
            }
        }
        if (d >= 0) {
            sync_dir(d);
            close(d);
        }
        if (td >= 0) {
            sync_dir(td);
            close(td);
        }
    }
    if (!forward) {
        int rfd = -1;
        if (root_fd(&rfd, ws, ctx) == AGC_OK) {
            for (size_t i = nd; i-- > 0;)
                unlinkat(rfd, dirs[i], AT_REMOVEDIR); /* fails harmlessly when not empty */
            close(rfd);
        }
    }
    return ok;
}

static agc_cs_op op_parse(const char *s)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(s, agc_cs_op_name((agc_cs_op)k)) == 0)
            return (agc_cs_op)k;
    return (agc_cs_op)-1;
}

agc_status agc_changeset_recover(int *did_out, agc_workspace *ws, agc_ctx *ctx)
{
    if (did_out)
        *did_out = 0;
    int rfd = -1;
    agc_status st = root_fd(&rfd, ws, ctx);
    if (st != AGC_OK)
        return st;
    unlinkat(rfd, JOURNAL_TMP, 0); /* a journal never made valid: nothing was changed for it */
    int jfd = openat(rfd, JOURNAL, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (jfd < 0) {
        close(rfd);
        return AGC_OK;
    }
    char *text = NULL;
    size_t len = 0, total = 0;
    st = agc__read_fd(&text, &len, &total, jfd, (size_t)16 << 20, JOURNAL, ctx);
    close(jfd);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *doc = st == AGC_OK ? json_loadb(text, len, 0, NULL) : NULL;
    agc_json_leave(prev);
    agc_free(ctx, text);
    const json_t *files = json_object_get(doc, "files"), *dirs = json_object_get(doc, "dirs");
    const char *state = agc_json_str(doc, "state", "");
    if (st == AGC_OK && (!json_is_array(files) || !json_is_array(dirs) ||
                         (strcmp(state, "prepared") != 0 && strcmp(state, "committed") != 0)))
        st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                           "the change set journal %s/%s is unreadable; inspect the workspace "
                           "and remove it",
                           agc_workspace_root(ws), JOURNAL);
    size_t n = st == AGC_OK ? json_array_size(files) : 0,
           nd = st == AGC_OK ? json_array_size(dirs) : 0;
    jent *e = st == AGC_OK ? agc_calloc(ctx, n + 1, sizeof *e) : NULL;
    const char **dl = st == AGC_OK ? agc_calloc(ctx, nd + 1, sizeof *dl) : NULL;
    if (st == AGC_OK && (!e || !dl))
        st = AGC_ENOMEM;
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        const json_t *o = json_array_get(files, i);
        e[i].op = op_parse(agc_json_str(o, "op", ""));
        e[i].path = agc_json_str(o, "path", NULL);
        e[i].to = agc_json_str(o, "to", NULL);
        snprintf(e[i].newname, sizeof e[i].newname, "%s", agc_json_str(o, "new", ""));
        snprintf(e[i].bakname, sizeof e[i].bakname, "%s", agc_json_str(o, "bak", ""));
        if ((int)e[i].op < 0 || !e[i].path || (e[i].op == AGC_CS_RENAME && !e[i].to) ||
            strchr(e[i].newname, '/') || strchr(e[i].bakname, '/'))
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "the change set journal has a bad entry %zu; inspect the "
                               "workspace and remove %s",
                               i, JOURNAL);
    }
    for (size_t i = 0; st == AGC_OK && i < nd; i++)
        if (!(dl[i] = json_string_value(json_array_get(dirs, i))))
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD, "the change set journal is bad");
    if (st == AGC_OK) {
        bool forward = strcmp(state, "committed") == 0;
        if (!undo(ws, e, n, dl, nd, forward, ctx))
            st = agc_error_set(ctx, AGC_EIO, AGC__CS_MOD,
                               "could not fully %s the interrupted change set; the journal %s "
                               "stays: inspect the workspace",
                               forward ? "finish" : "roll back", JOURNAL);
        else {
            unlinkat(rfd, JOURNAL, 0);
            sync_dir(rfd);
            if (did_out)
                *did_out = forward ? 2 : 1;
        }
    }
    agc_free(ctx, e);
    agc_free(ctx, dl);
    prev = agc_json_enter(ctx);
    json_decref(doc);
    agc_json_leave(prev);
    close(rfd);
    return st;
}

/* ---- apply ------------------------------------------------------------------------------- */

/* Directories (relative) missing for rel's parent, outermost first, appended if new. */
static agc_status missing_dirs(char ***dirs, size_t *nd, int rfd, const char *rel, agc_ctx *ctx)
{
    for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
        char *d = agc_strndup(ctx, rel, (size_t)(p - rel));
        if (!d)
            return AGC_ENOMEM;
        struct stat sb;
        bool have = fstatat(rfd, d, &sb, AT_SYMLINK_NOFOLLOW) == 0;
        for (size_t i = 0; !have && i < *nd; i++)
            have = strcmp((*dirs)[i], d) == 0;
        if (have) {
            agc_free(ctx, d);
            continue;
        }
        char **nd2 = agc_realloc(ctx, *dirs, (*nd + 1) * sizeof **dirs);
        if (!nd2) {
            agc_free(ctx, d);
            return AGC_ENOMEM;
        }
        *dirs = nd2;
        (*dirs)[(*nd)++] = d;
    }
    return AGC_OK;
}

static void step(const agc_cs_apply_opts *o, size_t *k, const char *what)
{
    if (o && o->on_step)
        o->on_step((*k)++, what, o->step_user);
}

agc_status agc_changeset_apply(agc_changeset *cs, const agc_cs_apply_opts *opts)
{
    agc_ctx *ctx = cs->ctx;
    agc_cs_apply_opts defaults = AGC_CS_APPLY_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    if (opts->version != AGC_CS_APPLY_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD, "unknown apply options version %u",
                             opts->version);
    if (!cs->resolved)
        return agc_error_set(ctx, AGC_EINVAL, AGC__CS_MOD,
                             "resolve the change set before applying it");
    agc_workspace *ws = cs->ws;
    agc_status st = agc_changeset_recover(NULL, ws, ctx);
    if (st != AGC_OK)
        return st;
    if (!opts->skip_syntax) {
        agc_buf errs;
        agc_buf_init(&errs, ctx, 64 * 1024);
        st = agc_changeset_check_syntax(cs, &errs);
        if (st == AGC_EPARSE) {
            while (errs.len && errs.data[errs.len - 1] == '\n')
                errs.data[--errs.len] = '\0';
            st = agc_error_set(ctx, AGC_EPARSE, AGC__CS_MOD,
                               "the change set introduces syntax errors; nothing was changed:\n%s",
                               agc_buf_cstr(&errs));
        }
        agc_buf_free(&errs);
        if (st != AGC_OK)
            return st;
    }
    const char **paths = agc_calloc(ctx, 2 * cs->n + 1, sizeof *paths);
    if (!paths)
        return AGC_ENOMEM;
    size_t np = 0;
    for (size_t i = 0; i < cs->n; i++) {
        paths[np++] = cs->files[i].rel;
        if (cs->files[i].rel_to)
            paths[np++] = cs->files[i].rel_to;
    }
    if (!opts->allow_dirty) {
        agc_buf dirty;
        agc_buf_init(&dirty, ctx, 0);
        st = agc_git_dirty_paths(&dirty, agc_workspace_root(ws), paths, np, ctx);
        if (st == AGC_EUNSUPPORTED)
            st = AGC_OK; /* no libgit2: nothing to protect with */
        if (st == AGC_OK && dirty.len) {
            dirty.data[--dirty.len] = '\0';
            st = agc_error_set(ctx, AGC_EPERM, AGC__CS_MOD,
                               "these files have uncommitted changes; commit or stash them, or "
                               "allow it (--allow-dirty): %s",
                               agc_buf_cstr(&dirty));
        }
        agc_buf_free(&dirty);
        if (st != AGC_OK) {
            agc_free(ctx, paths);
            return st;
        }
    }

    int rfd = -1;
    char **dirs = NULL;
    size_t nd = 0, k = 0;
    jent *e = agc_calloc(ctx, cs->n + 1, sizeof *e);
    st = e ? root_fd(&rfd, ws, ctx) : AGC_ENOMEM;
    unsigned long id = (unsigned long)getpid() ^ ((unsigned long)time(NULL) << 16);
    for (size_t i = 0; st == AGC_OK && i < cs->n; i++) {
        const agc__cs_fileop *f = &cs->files[i];
        e[i].op = f->op;
        e[i].path = f->rel;
        e[i].to = f->rel_to;
        if (f->op != AGC_CS_DELETE)
            snprintf(e[i].newname, sizeof e[i].newname, ".agc-%lx-%zu.new", id, i);
        if (f->op != AGC_CS_CREATE)
            snprintf(e[i].bakname, sizeof e[i].bakname, ".agc-%lx-%zu.bak", id, i);
        if (f->op == AGC_CS_CREATE || f->op == AGC_CS_RENAME)
            st = missing_dirs(&dirs, &nd, rfd, f->op == AGC_CS_RENAME ? f->rel_to : f->rel, ctx);
    }
    if (st == AGC_OK)
        st = journal_write(rfd, e, cs->n, (const char *const *)dirs, nd, false, ctx);
    bool journal = st == AGC_OK;
    if (journal)
        step(opts, &k, "journal");
    /* phase A: directories, temps, backups */
    for (size_t i = 0; st == AGC_OK && i < nd; i++)
        if (mkdirat(rfd, dirs[i], 0755) != 0 && errno != EEXIST)
            st = agc_error_set(ctx, AGC_EIO, AGC__CS_MOD, "cannot create directory '%s': %s",
                               dirs[i], strerror(errno));
    for (size_t i = 0; st == AGC_OK && i < cs->n; i++) {
        const agc__cs_fileop *f = &cs->files[i];
        const char *base = NULL, *tbase = NULL;
        int d = -1, td = -1;
        st = agc__ws_open_parent(&d, &base, ws, f->rel, false, ctx);
        if (st == AGC_OK && f->rel_to)
            st = agc__ws_open_parent(&td, &tbase, ws, f->rel_to, false, ctx);
        if (st == AGC_OK && f->op != AGC_CS_DELETE)
            st = write_file(f->rel_to ? td : d, e[i].newname, f->newc, f->new_len,
                            f->mode ? f->mode : 0644, true, ctx);
        if (st == AGC_OK && f->op != AGC_CS_CREATE && linkat(d, base, d, e[i].bakname, 0) != 0)
            st = write_file(d, e[i].bakname, f->old, f->old_len, f->mode, true, ctx);
        if (st == AGC_OK)
            sync_dir(d);
        if (d >= 0)
            close(d);
        if (td >= 0)
            close(td);
    }
    if (st == AGC_OK)
        step(opts, &k, "prepared");
    /* phase B: the renames */
    for (size_t i = 0; st == AGC_OK && i < cs->n; i++) {
        const agc__cs_fileop *f = &cs->files[i];
        const char *base = NULL, *tbase = NULL;
        int d = -1, td = -1;
        st = agc__ws_open_parent(&d, &base, ws, f->rel, false, ctx);
        if (st == AGC_OK && f->rel_to)
            st = agc__ws_open_parent(&td, &tbase, ws, f->rel_to, false, ctx);
        if (st == AGC_OK) {
            int rc = 0;
            switch (f->op) {
            case AGC_CS_CREATE:
                rc = renameat2(d, e[i].newname, d, base, RENAME_NOREPLACE);
                break;
            case AGC_CS_MODIFY:
                rc = renameat(d, e[i].newname, d, base);
                break;
            case AGC_CS_DELETE:
                rc = unlinkat(d, base, 0);
                break;
            case AGC_CS_RENAME:
                rc = renameat2(td, e[i].newname, td, tbase, RENAME_NOREPLACE);
                if (rc == 0)
                    rc = unlinkat(d, base, 0);
                break;
            }
            if (rc != 0)
                st = agc_error_set(ctx, errno == EEXIST ? AGC_EEXISTS : AGC_EIO, AGC__CS_MOD,
                                   "cannot %s '%s': %s", agc_cs_op_name(f->op), f->rel,
                                   strerror(errno));
            sync_dir(d);
            if (td >= 0)
                sync_dir(td);
        }
        if (d >= 0)
            close(d);
        if (td >= 0)
            close(td);
        if (st == AGC_OK)
            step(opts, &k, f->rel);
    }
    if (st == AGC_OK)
        st = journal_write(rfd, e, cs->n, (const char *const *)dirs, nd, true, ctx);
    if (st == AGC_OK) {
        step(opts, &k, "committed");
        undo(ws, e, cs->n, (const char *const *)dirs, nd, true, ctx);
        unlinkat(rfd, JOURNAL, 0);
        sync_dir(rfd);
    } else if (journal) {
        char first[1024];
        snprintf(first, sizeof first, "%s", agc_ctx_errmsg(ctx));
        bool clean = undo(ws, e, cs->n, (const char *const *)dirs, nd, false, ctx);
        if (clean) {
            unlinkat(rfd, JOURNAL, 0);
            sync_dir(rfd);
        }
        agc_error_set(ctx, st, AGC__CS_MOD, "%s; %s", first,
                      clean ? "every file was rolled back"
                            : "ROLLBACK INCOMPLETE: the journal stays for the next run");
    }
    if (st == AGC_OK && opts->commit) {
        char *msg = opts->message ? agc_strdup(ctx, opts->message) : agc_changeset_summary(cs);
        st = msg ? agc_git_commit_paths(NULL, agc_workspace_root(ws), paths, np, msg, ctx)
                 : AGC_ENOMEM;
        agc_free(ctx, msg);
    }
    for (size_t i = 0; i < nd; i++)
        agc_free(ctx, dirs[i]);
    agc_free(ctx, dirs);
    agc_free(ctx, e);
    agc_free(ctx, paths);
    if (rfd >= 0)
        close(rfd);
    return st;
}
