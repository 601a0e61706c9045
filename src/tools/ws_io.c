/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * File I/O helpers for the workspace tools: capped reads, full writes,
 * temporary files next to their target (for temp + fsync + rename), and
 * opening (optionally creating) the parent directory of a path to write.
 * Invariant: every directory fd returned lies beneath the root and passed
 * the write deny rules. Does not decide what a tool does with the files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "tools_int.h"

#define MOD "workspace"

bool agc__looks_binary(const char *data, size_t len)
{
    size_t n = len < 8192 ? len : 8192;
    return memchr(data, '\0', n) != NULL;
}

agc_status agc__read_fd(char **out, size_t *len_out, size_t *total_out, int fd, size_t max,
                        const char *display, agc_ctx *ctx)
{
    *out = NULL;
    *len_out = 0;
    if (total_out)
        *total_out = 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot stat '%s': %s", display, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "path '%s' is a directory", display);
    if (!S_ISREG(sb.st_mode))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "path '%s' is not a regular file", display);
    size_t size = (size_t)sb.st_size;
    size_t want = size < max ? size : max;
    char *buf = agc_malloc(ctx, want + 1);
    if (!buf)
        return AGC_ENOMEM;
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            agc_free(ctx, buf);
            return agc_error_set(ctx, AGC_EIO, MOD, "cannot read '%s': %s", display,
                                 strerror(errno));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len_out = got;
    if (total_out)
        *total_out = size > got ? size : got;
    return AGC_OK;
}

agc_status agc__write_all(int fd, const char *data, size_t len, const char *display, agc_ctx *ctx)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return agc_error_set(ctx, AGC_EIO, MOD, "cannot write '%s': %s", display,
                                 strerror(errno));
        data += w;
        len -= (size_t)w;
    }
    return AGC_OK;
}

agc_status agc__ws_tmpfile(int *fd_out, char **name_out, int dirfd, const char *base, agc_ctx *ctx)
{
    *fd_out = -1;
    *name_out = NULL;
    for (int attempt = 0; attempt < 16; attempt++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            return agc_error_set(ctx, AGC_EIO, MOD, "getrandom failed: %s", strerror(errno));
        char *name = agc_sprintf(ctx, ".%.180s.agc-tmp-%02x%02x%02x%02x%02x%02x", base, rnd[0],
                                 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        if (!name)
            return AGC_ENOMEM;
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            *fd_out = fd;
            *name_out = name;
            return AGC_OK;
        }
        int err = errno;
        agc_free(ctx, name);
        if (err != EEXIST)
            return agc_error_set(ctx, AGC_EIO, MOD, "cannot create a temporary file for '%s': %s",
                                 base, strerror(err));
    }
    return agc_error_set(ctx, AGC_EIO, MOD, "cannot create a unique temporary file for '%s'", base);
}

agc_status agc__ws_write_tmp(char **tmp_out, int dirfd, const char *base, const char *data,
                             size_t len, unsigned mode, agc_ctx *ctx)
{
    *tmp_out = NULL;
    int fd = -1;
    char *tmp = NULL;
    agc_status st = agc__ws_tmpfile(&fd, &tmp, dirfd, base, ctx);
    if (st != AGC_OK)
        return st;
    st = agc__write_all(fd, data, len, base, ctx);
    if (st == AGC_OK && fchmod(fd, (mode_t)mode) != 0)
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot set the mode of '%s': %s", base,
                           strerror(errno));
    if (st == AGC_OK && fsync(fd) != 0)
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot sync '%s': %s", base, strerror(errno));
    if (close(fd) != 0 && st == AGC_OK)
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot close '%s': %s", base, strerror(errno));
    if (st != AGC_OK) {
        unlinkat(dirfd, tmp, 0);
        agc_free(ctx, tmp);
        return st;
    }
    *tmp_out = tmp;
    return AGC_OK;
}

/* Opens (creating when asked) each directory of dir[0..len) below the root. */
static agc_status open_dirs(int *fd_out, agc_workspace *ws, const char *rel, size_t len,
                            bool create, agc_ctx *ctx)
{
    char *dir = agc_strndup(ctx, rel, len);
    if (!dir)
        return AGC_ENOMEM;
    agc_status st = agc__ws_openat2(fd_out, ws, dir, O_DIRECTORY | O_RDONLY, 0, dir, ctx);
    if (st != AGC_ENOTFOUND || !create) {
        if (st == AGC_ENOTFOUND)
            st = agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                               "directory '%s' does not exist (create it first or ask for "
                               "create_dirs)",
                               dir);
        agc_free(ctx, dir);
        return st;
    }
    /* Create component by component; each step is confined by openat2. */
    int fd = -1;
    st = agc__ws_openat2(&fd, ws, ".", O_DIRECTORY | O_RDONLY, 0, ".", ctx);
    char *p = dir;
    while (st == AGC_OK && *p) {
        char *sl = strchr(p, '/');
        if (sl)
            *sl = '\0';
        if (mkdirat(fd, p, 0777) != 0 && errno != EEXIST) {
            st = agc_error_set(ctx, AGC_EIO, MOD, "cannot create directory '%s': %s", p,
                               strerror(errno));
            break;
        }
        /* O_NOFOLLOW: a symlinked component is refused, so we stay beneath the root */
        int nfd = openat(fd, p, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        if (nfd < 0) {
            st = err == ELOOP || err == ENOTDIR
                     ? agc_error_set(ctx, AGC_EPERM, MOD,
                                     "'%s' is not a directory inside the workspace", p)
                     : agc_error_set(ctx, AGC_EIO, MOD, "cannot open directory '%s': %s", p,
                                     strerror(err));
            break;
        }
        close(fd);
        fd = nfd;
        p = sl ? sl + 1 : p + strlen(p);
    }
    agc_free(ctx, dir);
    if (st != AGC_OK) {
        if (fd >= 0)
            close(fd);
        return st;
    }
    *fd_out = fd;
    return AGC_OK;
}

agc_status agc__ws_open_parent(int *dirfd_out, const char **base_out, agc_workspace *ws,
                               const char *rel, bool create_dirs, agc_ctx *ctx)
{
    *dirfd_out = -1;
    *base_out = NULL;
    if (strcmp(rel, ".") == 0)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "the workspace root is not a file");
    agc_status st = agc_workspace_check(ws, rel, AGC_WS_WRITE, ctx);
    if (st != AGC_OK)
        return st;
    const char *sl = strrchr(rel, '/');
    const char *base = sl ? sl + 1 : rel;
    int fd = -1;
    if (sl)
        st = open_dirs(&fd, ws, rel, (size_t)(sl - rel), create_dirs, ctx);
    else
        st = agc__ws_openat2(&fd, ws, ".", O_DIRECTORY | O_RDONLY, 0, ".", ctx);
    if (st != AGC_OK)
        return st;
    /* Check the real location too: a symlinked parent may lead into .git/. */
    char *real = NULL;
    st = agc__ws_fd_relpath(&real, ws, fd, ctx);
    if (st == AGC_OK) {
        char *full =
            strcmp(real, ".") == 0 ? agc_strdup(ctx, base) : agc_sprintf(ctx, "%s/%s", real, base);
        st = full ? agc_workspace_check(ws, full, AGC_WS_WRITE, ctx) : AGC_ENOMEM;
        agc_free(ctx, full);
    } else if (st == AGC_EUNSUPPORTED) {
        st = AGC_OK;
    }
    agc_free(ctx, real);
    if (st != AGC_OK) {
        close(fd);
        return st;
    }
    *dirfd_out = fd;
    *base_out = base;
    return AGC_OK;
}
