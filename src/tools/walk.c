/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Depth-first, sorted directory walk below a workspace path, for list_dir,
 * find and grep. Invariant: the walk never follows a symlink (directories
 * are entered with openat O_NOFOLLOW from an fd that is already beneath the
 * root), never enters .git or a read-denied directory, and stops at the
 * workspace's entry cap or the call's deadline. It does not read files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "tools_int.h"

#define MOD       "workspace"
#define MAX_DEPTH 64

typedef struct walk_state {
    agc_workspace *ws;
    agc_ctx *ctx;
    agc__walk_fn fn;
    void *user;
    const agc_tool_call_ctx *cctx;
    size_t visited, max;
    bool capped;
    agc_buf rel, full;
} walk_state;

typedef struct entry {
    char *name;
    unsigned char type;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static void free_entries(agc_ctx *ctx, entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        agc_free(ctx, e[i].name);
    agc_free(ctx, e);
}

/* Reads the names in dirfd (without . and ..), sorted. */
static agc_status read_entries(entry **out, size_t *n_out, int dirfd, agc_ctx *ctx)
{
    *out = NULL;
    *n_out = 0;
    int dfd = dup(dirfd);
    if (dfd < 0)
        return agc_error_set(ctx, AGC_EIO, MOD, "dup: %s", strerror(errno));
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot read a directory: %s", strerror(errno));
    }
    rewinddir(d);
    entry *es = NULL;
    size_t n = 0, cap = 0;
    agc_status st = AGC_OK;
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            entry *ne = agc_realloc(ctx, es, ncap * sizeof *ne);
            if (!ne) {
                st = AGC_ENOMEM;
                break;
            }
            es = ne;
            cap = ncap;
        }
        es[n].name = agc_strdup(ctx, de->d_name);
        if (!es[n].name) {
            st = AGC_ENOMEM;
            break;
        }
        es[n].type = de->d_type;
        n++;
    }
    closedir(d);
    if (st != AGC_OK) {
        free_entries(ctx, es, n);
        return st;
    }
    if (n > 1)
        qsort(es, n, sizeof *es, cmp_entry);
    *out = es;
    *n_out = n;
    return AGC_OK;
}

static agc__walk_type entry_type(int dirfd, const entry *e)
{
    unsigned char t = e->type;
    if (t == DT_UNKNOWN) {
        struct stat sb;
        if (fstatat(dirfd, e->name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            return AGC__W_OTHER;
        if (S_ISDIR(sb.st_mode))
            return AGC__W_DIR;
        if (S_ISLNK(sb.st_mode))
            return AGC__W_LINK;
        return S_ISREG(sb.st_mode) ? AGC__W_FILE : AGC__W_OTHER;
    }
    if (t == DT_DIR)
        return AGC__W_DIR;
    if (t == DT_LNK)
        return AGC__W_LINK;
    return t == DT_REG ? AGC__W_FILE : AGC__W_OTHER;
}

/* Appends "/name" (or "name" to an empty buffer); returns the old length. */
static agc_status push(agc_buf *b, const char *name, size_t *old)
{
    *old = b->len;
    agc_status st = b->len ? agc_buf_putc(b, '/') : AGC_OK;
    if (st == AGC_OK)
        st = agc_buf_puts(b, name);
    if (st != AGC_OK)
        b->len = *old;
    return st;
}

static void pop(agc_buf *b, size_t old)
{
    b->len = old;
    if (b->data)
        b->data[old] = '\0';
}

static agc_status walk_dir(walk_state *w, int dirfd, bool recursive, int depth, bool *stop)
{
    entry *es = NULL;
    size_t n = 0;
    agc_status st = read_entries(&es, &n, dirfd, w->ctx);
    if (st != AGC_OK)
        return st;
    for (size_t i = 0; i < n && !*stop && st == AGC_OK; i++) {
        if (w->visited >= w->max) {
            w->capped = true;
            *stop = true;
            break;
        }
        if ((++w->visited & 255) == 0 && (st = agc_tool_call_check(w->cctx)) != AGC_OK)
            break;
        size_t orel, ofull;
        st = push(&w->rel, es[i].name, &orel);
        if (st != AGC_OK)
            break;
        st = push(&w->full, es[i].name, &ofull);
        if (st != AGC_OK) {
            pop(&w->rel, orel);
            break;
        }
        agc__walk_type type = entry_type(dirfd, &es[i]);
        agc__walk_rc rc = AGC__W_CONTINUE;
        st = w->fn(&rc, agc_buf_cstr(&w->rel), agc_buf_cstr(&w->full), type, dirfd, es[i].name,
                   w->user);
        if (st == AGC_OK && rc == AGC__W_STOP) {
            w->capped = true;
            *stop = true;
        }
        bool enter = st == AGC_OK && !*stop && rc == AGC__W_CONTINUE && recursive &&
                     type == AGC__W_DIR && depth < MAX_DEPTH && strcmp(es[i].name, ".git") != 0;
        if (enter)
            enter = !agc__ws_denied(w->ws, agc_buf_cstr(&w->full), AGC_WS_READ);
        if (enter) {
            int sub = openat(dirfd, es[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                st = walk_dir(w, sub, recursive, depth + 1, stop);
                close(sub);
            }
        }
        pop(&w->rel, orel);
        pop(&w->full, ofull);
    }
    free_entries(w->ctx, es, n);
    return st;
}

agc_status agc__ws_walk(agc_workspace *ws, const char *rel_start, bool recursive, agc__walk_fn fn,
                        void *user, bool *capped_out, const agc_tool_call_ctx *cctx)
{
    agc_ctx *ctx = cctx && cctx->ctx ? cctx->ctx : agc__ws_ctx(ws);
    if (capped_out)
        *capped_out = false;
    char *rel = NULL;
    agc_status st = agc_workspace_normalize(&rel, ws, rel_start ? rel_start : ".", ctx);
    if (st != AGC_OK)
        return st;
    st = agc_workspace_check(ws, rel, AGC_WS_READ, ctx);
    int fd = -1;
    if (st == AGC_OK)
        st = agc__ws_openat2(&fd, ws, rel, O_RDONLY | O_DIRECTORY, 0, rel_start, ctx);
    if (st != AGC_OK) {
        agc_free(ctx, rel);
        return st;
    }
    walk_state w;
    memset(&w, 0, sizeof w);
    w.ws = ws;
    w.ctx = ctx;
    w.fn = fn;
    w.user = user;
    w.cctx = cctx;
    w.max = agc__ws_max_walk_entries(ws);
    agc_buf_init(&w.rel, ctx, 8192);
    agc_buf_init(&w.full, ctx, 8192);
    if (strcmp(rel, ".") != 0)
        st = agc_buf_puts(&w.full, rel);
    bool stop = false;
    if (st == AGC_OK)
        st = walk_dir(&w, fd, recursive, 0, &stop);
    close(fd);
    agc_buf_free(&w.rel);
    agc_buf_free(&w.full);
    agc_free(ctx, rel);
    if (capped_out)
        *capped_out = w.capped;
    return st;
}
