/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The confined workspace: a root directory held as an O_PATH fd, lexical
 * path normalisation, deny rules (fnmatch globs on path components) and
 * kernel-enforced resolution with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS). Invariant: no fd handed to a tool refers to
 * anything outside the root, and a denied path is refused both as written
 * and as reached through symlinks. It does not jail processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "tools_int.h"

#define MOD "workspace"

const char *const agc_workspace_default_deny_read[] = {
    ".env*", "*.pem", "*.key",   "id_rsa*",     "id_dsa*", "id_ecdsa*", "id_ed25519*",
    ".ssh/", ".aws/", ".gnupg/", ".git/config", ".netrc",  ".pgpass",   NULL,
};

const char *const agc_workspace_default_deny_write[] = {".git/", NULL};

typedef struct deny_list {
    char **rules;
    size_t n, cap;
} deny_list;

struct agc_workspace {
    agc_ctx *ctx;
    int refs;
    int rootfd;
    char *root;
    size_t root_len;
    deny_list deny[2];
    char **env_allow; /* NULL-terminated */
    size_t max_file;
    size_t max_walk;
};

void agc_workspace_opts_init(agc_workspace_opts *opts)
{
    agc_workspace_opts o = AGC_WORKSPACE_OPTS_INIT;
    *opts = o;
}

/* ---- lifetime -------------------------------------------------------------------- */

static void ws_destroy(agc_workspace *ws)
{
    agc_ctx *ctx = ws->ctx;
    if (ws->rootfd >= 0)
        close(ws->rootfd);
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < ws->deny[l].n; i++)
            agc_free(ctx, ws->deny[l].rules[i]);
        agc_free(ctx, ws->deny[l].rules);
    }
    for (size_t i = 0; ws->env_allow && ws->env_allow[i]; i++)
        agc_free(ctx, ws->env_allow[i]);
    agc_free(ctx, ws->env_allow);
    agc_free(ctx, ws->root);
    agc_free(ctx, ws);
}

void agc__ws_ref(agc_workspace *ws)
{
    ws->refs++;
}

void agc__ws_unref(agc_workspace *ws)
{
    if (ws && --ws->refs == 0)
        ws_destroy(ws);
}

void agc_workspace_close(agc_workspace *ws)
{
    agc__ws_unref(ws);
}

const char *agc_workspace_root(const agc_workspace *ws)
{
    return ws->root;
}
size_t agc__ws_max_file_bytes(const agc_workspace *ws)
{
    return ws->max_file;
}
size_t agc__ws_max_walk_entries(const agc_workspace *ws)
{
    return ws->max_walk;
}
const char *const *agc__ws_env_allow(const agc_workspace *ws)
{
    return (const char *const *)ws->env_allow;
}
agc_ctx *agc__ws_ctx(const agc_workspace *ws)
{
    return ws->ctx;
}

agc_status agc_workspace_deny_add(agc_workspace *ws, agc_ws_access list, const char *pattern)
{
    if (!pattern || !pattern[0] || strcmp(pattern, "/") == 0)
        return agc_error_set(ws->ctx, AGC_EINVAL, MOD, "a deny rule must be a non-empty glob");
    deny_list *d = &ws->deny[list == AGC_WS_WRITE];
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        char **nr = agc_realloc(ws->ctx, d->rules, ncap * sizeof *nr);
        if (!nr)
            return AGC_ENOMEM;
        d->rules = nr;
        d->cap = ncap;
    }
    char *copy = agc_strdup(ws->ctx, pattern);
    if (!copy)
        return AGC_ENOMEM;
    d->rules[d->n++] = copy;
    return AGC_OK;
}

void agc_workspace_deny_clear(agc_workspace *ws, agc_ws_access list)
{
    deny_list *d = &ws->deny[list == AGC_WS_WRITE];
    for (size_t i = 0; i < d->n; i++)
        agc_free(ws->ctx, d->rules[i]);
    d->n = 0;
}

static int sys_openat2(int dirfd, const char *path, int flags, unsigned mode)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r;
    do {
        r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (r < 0 && (errno == EAGAIN || errno == EINTR));
    return (int)r;
}

agc_status agc_workspace_open(agc_workspace **out, const char *root, const agc_workspace_opts *opts,
                              agc_ctx *ctx)
{
    *out = NULL;
    agc_workspace_opts dflt = AGC_WORKSPACE_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_WORKSPACE_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "workspace opts: unknown version %u; use AGC_WORKSPACE_OPTS_INIT",
                             opts->version);
    char real[PATH_MAX];
    if (!root || !realpath(root, real))
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot open workspace root '%s': %s",
                             root ? root : "(null)", strerror(errno));
    agc_workspace *ws = agc_calloc(ctx, 1, sizeof *ws);
    if (!ws)
        return AGC_ENOMEM;
    ws->ctx = ctx;
    ws->refs = 1;
    ws->max_file = opts->max_file_bytes ? opts->max_file_bytes : (size_t)8 << 20;
    ws->max_walk = opts->max_walk_entries ? opts->max_walk_entries : 100000;
    ws->rootfd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    agc_status st = AGC_OK;
    if (ws->rootfd < 0) {
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot open workspace root '%s': %s", real,
                           strerror(errno));
        goto fail;
    }
    int probe = sys_openat2(ws->rootfd, ".", O_PATH | O_DIRECTORY, 0);
    if (probe < 0 && errno == ENOSYS) {
        st = agc_error_set(ctx, AGC_EUNSUPPORTED, MOD,
                           "openat2 is unavailable; the workspace needs Linux 5.6 or newer");
        goto fail;
    }
    if (probe >= 0)
        close(probe);
    ws->root = agc_strdup(ctx, real);
    if (!ws->root) {
        st = AGC_ENOMEM;
        goto fail;
    }
    ws->root_len = strlen(real);
    for (int l = 0; l < 2; l++) {
        const char *const *src = l ? opts->deny_write : opts->deny_read;
        if (!src)
            src = l ? agc_workspace_default_deny_write : agc_workspace_default_deny_read;
        for (size_t i = 0; src[i] && st == AGC_OK; i++)
            st = agc_workspace_deny_add(ws, l ? AGC_WS_WRITE : AGC_WS_READ, src[i]);
    }
    if (st != AGC_OK)
        goto fail;
    size_t n_env = 0;
    while (opts->env_allow && opts->env_allow[n_env])
        n_env++;
    ws->env_allow = agc_calloc(ctx, n_env + 1, sizeof *ws->env_allow);
    if (!ws->env_allow) {
        st = AGC_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n_env; i++) {
        ws->env_allow[i] = agc_strdup(ctx, opts->env_allow[i]);
        if (!ws->env_allow[i]) {
            st = AGC_ENOMEM;
            goto fail;
        }
    }
    *out = ws;
    return AGC_OK;
fail:
    ws_destroy(ws);
    return st;
}

/* ---- paths -------------------------------------------------------------------------- */

agc_status agc_workspace_normalize(char **out, const agc_workspace *ws, const char *path,
                                   agc_ctx *ctx)
{
    *out = NULL;
    if (!path || !path[0])
        return agc_error_set(ctx, AGC_EINVAL, MOD, "empty path; use '.' for the workspace root");
    size_t plen = strlen(path);
    if (plen >= PATH_MAX)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "path is longer than %d bytes", PATH_MAX - 1);
    const char *p = path;
    if (p[0] == '/') {
        bool under = ws->root_len == 1 || (strncmp(p, ws->root, ws->root_len) == 0 &&
                                           (p[ws->root_len] == '/' || p[ws->root_len] == '\0'));
        if (!under)
            return agc_error_set(ctx, AGC_EPERM, MOD,
                                 "path '%s' leaves the workspace (use a path relative to the "
                                 "workspace root)",
                                 path);
        p += ws->root_len == 1 ? 0 : ws->root_len;
    }
    char *res = agc_malloc(ctx, plen + 2);
    if (!res)
        return AGC_ENOMEM;
    size_t len = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (len == 0) {
                agc_free(ctx, res);
                return agc_error_set(ctx, AGC_EPERM, MOD, "path '%s' leaves the workspace", path);
            }
            while (len > 0 && res[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the slash */
        } else {
            if (len > 0)
                res[len++] = '/';
            memcpy(res + len, p, n);
            len += n;
        }
        p += n;
    }
    if (len == 0)
        res[len++] = '.';
    res[len] = '\0';
    *out = res;
    return AGC_OK;
}

#define MAX_COMPS 512

/* Whether rule matches rel (see the header for the rule language). */
static bool rule_match(const char *rule, const char *rel)
{
    if (strcmp(rel, ".") == 0)
        return false;
    bool anchored = rule[0] == '/';
    if (anchored)
        rule++;
    char rbuf[256];
    size_t rl = strlen(rule);
    if (rl == 0 || rl >= sizeof rbuf)
        return false;
    memcpy(rbuf, rule, rl + 1);
    bool dir = rbuf[rl - 1] == '/';
    if (dir)
        rbuf[--rl] = '\0';
    const char *segs[32];
    size_t k = 0;
    for (char *s = rbuf; k < 32;) {
        segs[k++] = s;
        char *sl = strchr(s, '/');
        if (!sl)
            break;
        *sl = '\0';
        s = sl + 1;
    }
    char pbuf[PATH_MAX];
    size_t pl = strlen(rel);
    if (pl >= sizeof pbuf)
        return false;
    memcpy(pbuf, rel, pl + 1);
    const char *comps[MAX_COMPS];
    size_t n = 0;
    for (char *s = pbuf; n < MAX_COMPS;) {
        comps[n++] = s;
        char *sl = strchr(s, '/');
        if (!sl)
            break;
        *sl = '\0';
        s = sl + 1;
    }
    for (size_t i = 0; i + k <= n; i++) {
        if (anchored && i != 0)
            break;
        if (!dir && i + k != n)
            continue;
        size_t j = 0;
        while (j < k && fnmatch(segs[j], comps[i + j], 0) == 0)
            j++;
        if (j == k)
            return true;
    }
    return false;
}

const char *agc__ws_denied(const agc_workspace *ws, const char *rel, agc_ws_access access)
{
    for (int l = 0; l <= (access == AGC_WS_WRITE); l++)
        for (size_t i = 0; i < ws->deny[l].n; i++)
            if (rule_match(ws->deny[l].rules[i], rel))
                return ws->deny[l].rules[i];
    return NULL;
}

agc_status agc_workspace_check(const agc_workspace *ws, const char *rel, agc_ws_access access,
                               agc_ctx *ctx)
{
    const deny_list *r = &ws->deny[0];
    for (size_t i = 0; i < r->n; i++)
        if (rule_match(r->rules[i], rel))
            return agc_error_set(
                ctx, AGC_EPERM, MOD,
                "path '%s' is denied by rule '%s' (secret files are not "
                "accessible to tools; change the workspace deny rules to allow it)",
                rel, r->rules[i]);
    if (access == AGC_WS_WRITE) {
        const deny_list *w = &ws->deny[1];
        for (size_t i = 0; i < w->n; i++)
            if (rule_match(w->rules[i], rel))
                return agc_error_set(ctx, AGC_EPERM, MOD,
                                     "path '%s' is denied for writing by rule '%s'", rel,
                                     w->rules[i]);
    }
    return AGC_OK;
}

static agc_status open_errno(int err, const char *display, int flags, agc_ctx *ctx)
{
    switch (err) {
    case EXDEV:
        return agc_error_set(ctx, AGC_EPERM, MOD, "path '%s' leaves the workspace", display);
    case ELOOP:
        if (flags & O_NOFOLLOW)
            return agc_error_set(ctx, AGC_EPERM, MOD, "path '%s' is a symbolic link", display);
        return agc_error_set(ctx, AGC_EPERM, MOD,
                             "path '%s' has too many levels of symbolic links or a magic link",
                             display);
    case ENOENT:
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD, "path '%s' does not exist", display);
    case ENOTDIR:
        if (flags & O_DIRECTORY)
            return agc_error_set(ctx, AGC_EINVAL, MOD, "path '%s' is not a directory", display);
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                             "path '%s' does not exist (a component is not a directory)", display);
    case EISDIR:
        return agc_error_set(ctx, AGC_EINVAL, MOD, "path '%s' is a directory", display);
    case EEXIST:
        return agc_error_set(ctx, AGC_EEXISTS, MOD, "path '%s' already exists", display);
    case EACCES:
    case EPERM:
        return agc_error_set(ctx, AGC_EPERM, MOD, "path '%s': permission denied", display);
    case ENOSYS:
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MOD, "openat2 is unavailable (Linux >= 5.6)");
    default:
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot open '%s': %s", display, strerror(err));
    }
}

agc_status agc__ws_openat2(int *fd_out, agc_workspace *ws, const char *rel, int flags,
                           unsigned mode, const char *display, agc_ctx *ctx)
{
    *fd_out = -1;
    int fd = sys_openat2(ws->rootfd, rel, flags, mode);
    if (fd < 0)
        return open_errno(errno, display ? display : rel, flags, ctx);
    *fd_out = fd;
    return AGC_OK;
}

agc_status agc__ws_fd_relpath(char **out, const agc_workspace *ws, int fd, agc_ctx *ctx)
{
    *out = NULL;
    char link[64], buf[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n < 0)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MOD, "cannot read %s: %s", link,
                             strerror(errno));
    buf[n] = '\0';
    const char *rest;
    if (ws->root_len == 1)
        rest = buf + 1;
    else if (strncmp(buf, ws->root, ws->root_len) == 0 &&
             (buf[ws->root_len] == '/' || buf[ws->root_len] == '\0'))
        rest = buf + ws->root_len + (buf[ws->root_len] == '/');
    else
        return agc_error_set(ctx, AGC_EPERM, MOD, "an opened file lies outside the workspace");
    *out = agc_strdup(ctx, rest[0] ? rest : ".");
    return *out ? AGC_OK : AGC_ENOMEM;
}

agc_status agc_workspace_open_file(int *fd_out, agc_workspace *ws, const char *path, int flags,
                                   unsigned mode, agc_ws_access access, agc_ctx *ctx)
{
    *fd_out = -1;
    char *rel = NULL;
    agc_status st = agc_workspace_normalize(&rel, ws, path, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_workspace_check(ws, rel, access, ctx);
    int fd = -1;
    if (st == AGC_OK)
        st = agc__ws_openat2(&fd, ws, rel, flags, mode, path, ctx);
    agc_free(ctx, rel);
    if (st != AGC_OK)
        return st;
    char *real = NULL;
    st = agc__ws_fd_relpath(&real, ws, fd, ctx);
    if (st == AGC_EUNSUPPORTED) {
        st = AGC_OK; /* no /proc: the lexical check stands */
    } else if (st == AGC_OK) {
        st = agc_workspace_check(ws, real, access, ctx); /* names the real path and rule */
    }
    agc_free(ctx, real);
    if (st != AGC_OK) {
        close(fd);
        return st;
    }
    *fd_out = fd;
    return AGC_OK;
}
