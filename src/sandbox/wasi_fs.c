/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WASI preview1 host, file-system part: path_open and the path_* calls,
 * fd_readdir, fd_filestat_get, path_filestat_get, all relative to preopened
 * directories. Invariant: every guest path is resolved by openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS against a preopen's fd (or a
 * directory opened beneath one), so "..", absolute paths and symlinks that
 * lead out fail with NOTCAPABLE; a read-only preopen refuses writes with
 * ROFS. Only regular files (with one link) and directories open: FIFOs,
 * sockets, devices and multiply-linked files are NOTCAPABLE. It does not
 * provide links, symlinks or timestamps (wasi.c stubs).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_int.h"

#define HF(name) static int name(agc_wasm_instance *in, const uint64_t *a, uint64_t *r)

enum { OF_CREAT = 1, OF_DIRECTORY = 2, OF_EXCL = 4, OF_TRUNC = 8 };
enum { FDF_APPEND = 1, FDF_NONBLOCK = 4 };
enum { LOOKUP_SYMLINK_FOLLOW = 1 };

/* Copies the guest path into buf (NUL-terminated). */
static uint32_t guest_path(agc_wasm_instance *in, uint64_t ptr, uint64_t len, char buf[PATH_MAX])
{
    const uint8_t *p = agc__wasm_mem(in, ptr, len);
    if (!p)
        return W_FAULT;
    if (len >= PATH_MAX)
        return W_NAMETOOLONG;
    if (memchr(p, 0, len))
        return W_INVAL;
    memcpy(buf, p, len);
    buf[len] = 0;
    return W_SUCCESS;
}

/* A directory fd paths may be resolved against. */
static uint32_t dir_of(agc_wasm_instance *in, uint64_t fd, agc__wasi_fd **out)
{
    agc__wasi_fd *d = agc__wasi_get(in, fd);
    if (!d)
        return W_BADF;
    if (d->kind != AGC__FD_PREOPEN && d->kind != AGC__FD_DIR)
        return W_NOTDIR;
    *out = d;
    return W_SUCCESS;
}

static uint32_t beneath(int dirfd, const char *path, uint64_t flags, uint64_t mode, int *out)
{
    if (!*path)
        return W_NOENT;
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags | O_CLOEXEC;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return agc__wasi_errno(errno); /* EXDEV (escape) -> NOTCAPABLE */
    *out = (int)fd;
    return W_SUCCESS;
}

/* Opens the parent of path beneath d (O_PATH) and points *last at the final
 * component, which must be a real name (not "", "." or ".."). */
static uint32_t parent(agc__wasi_fd *d, char *path, int *pfd, const char **last)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
    char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name)
        return path[0] == '/' ? W_NOTCAPABLE : W_NOENT;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        int probe;
        uint32_t e = beneath(d->host_fd, path, O_PATH, 0, &probe);
        if (e != W_SUCCESS)
            return e;
        close(probe);
        return W_INVAL;
    }
    *last = name;
    if (!slash)
        return beneath(d->host_fd, ".", O_PATH | O_DIRECTORY, 0, pfd);
    if (slash == path)
        return W_NOTCAPABLE; /* "/name": absolute */
    *slash = 0;
    uint32_t e = beneath(d->host_fd, path, O_PATH | O_DIRECTORY, 0, pfd);
    *slash = '/';
    return e;
}

static void fill_filestat(uint8_t *p, const struct stat *st)
{
    memset(p, 0, 64);
    put_u64(p, (uint64_t)st->st_dev);
    put_u64(p + 8, (uint64_t)st->st_ino);
    put_u8(p + 16, agc__wasi_filetype(st->st_mode));
    put_u64(p + 24, (uint64_t)st->st_nlink);
    put_u64(p + 32, (uint64_t)st->st_size);
    put_u64(p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec);
    put_u64(p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    put_u64(p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);
}

/* Only regular files and directories are granted: a FIFO or socket could
 * block the host, a device is not data. A regular file with several hard
 * links may have a name outside the preopen: refused too (NOTCAPABLE). */
static uint32_t special_file(const struct stat *st)
{
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
        return W_NOTCAPABLE;
    if (S_ISREG(st->st_mode) && st->st_nlink > 1)
        return W_NOTCAPABLE;
    return W_SUCCESS;
}

/* path_open(fd, dirflags, path, path_len, oflags, rights_base, rights_inh, fdflags, ret) */
HF(path_open)
{
    agc__wasi_fd *d = NULL;
    char path[PATH_MAX];
    uint32_t e = dir_of(in, a[0], &d);
    if (e == W_SUCCESS)
        e = guest_path(in, a[2], a[3], path);
    uint64_t of = a[4], rights = a[5], fdf = a[7];
    bool want_write =
        (rights & W_RIGHT_FD_WRITE) || (of & (OF_CREAT | OF_TRUNC)) || (fdf & FDF_APPEND);
    bool want_read = (rights & W_RIGHT_FD_READ) != 0;
    if (e == W_SUCCESS && want_write && !d->writable)
        e = W_ROFS;
    if (e != W_SUCCESS) {
        *r = e;
        return AGC__HOST_OK;
    }
    int slot = agc__wasi_fd_alloc(in);
    if (slot < 0) {
        *r = W_MFILE;
        return AGC__HOST_OK;
    }
    uint64_t flags = want_write ? (want_read ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (of & OF_CREAT)
        flags |= O_CREAT;
    if (of & OF_EXCL)
        flags |= O_EXCL;
    /* O_TRUNC is applied after the checks below (a refused file stays intact) */
    if (of & OF_DIRECTORY)
        flags |= O_DIRECTORY;
    if (fdf & FDF_APPEND)
        flags |= O_APPEND;
    if (!(a[1] & LOOKUP_SYMLINK_FOLLOW))
        flags |= O_NOFOLLOW;
    /* O_NONBLOCK: opening a FIFO must not block the host; cleared below */
    int fd;
    e = beneath(d->host_fd, path, flags | O_NONBLOCK, 0644, &fd);
    struct stat st;
    if (e == W_SUCCESS && fstat(fd, &st) != 0) {
        e = agc__wasi_errno(errno);
        close(fd);
    } else if (e == W_SUCCESS) {
        e = special_file(&st);
        if (e == W_SUCCESS && !(fdf & FDF_NONBLOCK) && fcntl(fd, F_SETFL, flags & O_APPEND) != 0)
            e = agc__wasi_errno(errno);
        if (e == W_SUCCESS && (of & OF_TRUNC) && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0)
            e = agc__wasi_errno(errno);
        if (e != W_SUCCESS)
            close(fd);
    }
    if (e != W_SUCCESS) {
        *r = e;
        return AGC__HOST_OK;
    }
    agc__wasi_fd *f = &in->fds[slot];
    f->host_fd = fd;
    f->kind = S_ISDIR(st.st_mode) ? AGC__FD_DIR : AGC__FD_FILE;
    f->readable = want_read || f->kind == AGC__FD_DIR;
    f->writable = f->kind == AGC__FD_DIR ? d->writable : want_write;
    f->append = (fdf & FDF_APPEND) != 0;
    if (!agc__wasi_ret32(in, a[8], (uint32_t)slot)) {
        close(fd);
        memset(f, 0, sizeof *f);
        f->host_fd = -1;
        *r = W_FAULT;
        return AGC__HOST_OK;
    }
    *r = W_SUCCESS;
    return AGC__HOST_OK;
}

static uint8_t dtype(unsigned char t)
{
    switch (t) {
    case DT_DIR:
        return W_FT_DIR;
    case DT_REG:
        return W_FT_REG;
    case DT_LNK:
        return W_FT_SYMLINK;
    case DT_CHR:
        return W_FT_CHAR;
    case DT_BLK:
        return W_FT_BLOCK;
    case DT_SOCK:
        return W_FT_SOCK_STREAM;
    default:
        return W_FT_UNKNOWN;
    }
}

/* fd_readdir(fd, buf, buf_len, cookie, ret) */
HF(fd_readdir)
{
    agc__wasi_fd *d = NULL;
    uint32_t e = dir_of(in, a[0], &d);
    uint8_t *buf = e == W_SUCCESS ? agc__wasm_mem(in, a[1], a[2]) : NULL;
    if (e == W_SUCCESS && !buf)
        e = W_FAULT;
    if (e == W_SUCCESS && !d->dir) {
        int fd = openat(d->host_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d->dir = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d->dir) {
            e = agc__wasi_errno(errno);
            if (fd >= 0)
                close(fd);
        }
    }
    if (e != W_SUCCESS) {
        *r = e;
        return AGC__HOST_OK;
    }
    DIR *dir = d->dir;
    if (a[3] == 0)
        rewinddir(dir);
    else
        seekdir(dir, (long)a[3]);
    uint64_t used = 0, cap = a[2];
    struct dirent *de;
    while (used < cap && (de = readdir(dir)) != NULL) {
        uint8_t ent[24 + 256];
        size_t nl = strlen(de->d_name);
        memset(ent, 0, 24);
        put_u64(ent, (uint64_t)telldir(dir));
        put_u64(ent + 8, (uint64_t)de->d_ino);
        put_u32(ent + 16, (uint32_t)nl);
        put_u8(ent + 20, dtype(de->d_type));
        memcpy(ent + 24, de->d_name, nl);
        size_t k = 24 + nl;
        if (k > cap - used)
            k = (size_t)(cap - used);
        memcpy(buf + used, ent, k);
        used += k;
    }
    *r = agc__wasi_ret32(in, a[4], (uint32_t)used) ? W_SUCCESS : W_FAULT;
    return AGC__HOST_OK;
}

HF(fd_filestat_get)
{
    agc__wasi_fd *f = agc__wasi_get(in, a[0]);
    uint8_t *p = agc__wasm_mem(in, a[1], 64);
    struct stat st;
    if (!f)
        *r = W_BADF;
    else if (!p)
        *r = W_FAULT;
    else if (f->host_fd < 0) {
        memset(p, 0, 64);
        put_u8(p + 16, W_FT_CHAR);
        *r = W_SUCCESS;
    } else if (fstat(f->host_fd, &st) != 0)
        *r = agc__wasi_errno(errno);
    else {
        fill_filestat(p, &st);
        *r = W_SUCCESS;
    }
    return AGC__HOST_OK;
}

/* path_filestat_get(fd, flags, path, path_len, ret) */
HF(path_filestat_get)
{
    agc__wasi_fd *d = NULL;
    char path[PATH_MAX];
    uint32_t e = dir_of(in, a[0], &d);
    if (e == W_SUCCESS)
        e = guest_path(in, a[2], a[3], path);
    uint8_t *p = e == W_SUCCESS ? agc__wasm_mem(in, a[4], 64) : NULL;
    if (e == W_SUCCESS && !p)
        e = W_FAULT;
    int fd = -1;
    if (e == W_SUCCESS)
        e = beneath(d->host_fd, path, O_PATH | ((a[1] & LOOKUP_SYMLINK_FOLLOW) ? 0 : O_NOFOLLOW), 0,
                    &fd);
    struct stat st;
    if (e == W_SUCCESS) {
        if (fstat(fd, &st) != 0)
            e = agc__wasi_errno(errno);
        else
            fill_filestat(p, &st);
        close(fd);
    }
    *r = e;
    return AGC__HOST_OK;
}

typedef enum { OP_MKDIR, OP_RMDIR, OP_UNLINK } path_op;

static int mutate(agc_wasm_instance *in, const uint64_t *a, uint64_t *r, path_op op)
{
    agc__wasi_fd *d = NULL;
    char path[PATH_MAX];
    uint32_t e = dir_of(in, a[0], &d);
    if (e == W_SUCCESS)
        e = guest_path(in, a[1], a[2], path);
    if (e == W_SUCCESS && !d->writable)
        e = W_ROFS;
    int pfd = -1;
    const char *last = NULL;
    if (e == W_SUCCESS)
        e = parent(d, path, &pfd, &last);
    if (e == W_SUCCESS) {
        int rc = op == OP_MKDIR   ? mkdirat(pfd, last, 0755)
                 : op == OP_RMDIR ? unlinkat(pfd, last, AT_REMOVEDIR)
                                  : unlinkat(pfd, last, 0);
        if (rc != 0)
            e = agc__wasi_errno(errno);
        close(pfd);
    }
    *r = e;
    return AGC__HOST_OK;
}

HF(path_create_directory)
{
    return mutate(in, a, r, OP_MKDIR);
}
HF(path_remove_directory)
{
    return mutate(in, a, r, OP_RMDIR);
}
HF(path_unlink_file)
{
    return mutate(in, a, r, OP_UNLINK);
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) */
HF(path_rename)
{
    agc__wasi_fd *d1 = NULL, *d2 = NULL;
    char p1[PATH_MAX], p2[PATH_MAX];
    uint32_t e = dir_of(in, a[0], &d1);
    if (e == W_SUCCESS)
        e = dir_of(in, a[3], &d2);
    if (e == W_SUCCESS)
        e = guest_path(in, a[1], a[2], p1);
    if (e == W_SUCCESS)
        e = guest_path(in, a[4], a[5], p2);
    if (e == W_SUCCESS && (!d1->writable || !d2->writable))
        e = W_ROFS;
    int f1 = -1, f2 = -1;
    const char *l1 = NULL, *l2 = NULL;
    if (e == W_SUCCESS)
        e = parent(d1, p1, &f1, &l1);
    if (e == W_SUCCESS)
        e = parent(d2, p2, &f2, &l2);
    if (e == W_SUCCESS && renameat(f1, l1, f2, l2) != 0)
        e = agc__wasi_errno(errno);
    if (f1 >= 0)
        close(f1);
    if (f2 >= 0)
        close(f2);
    *r = e;
    return AGC__HOST_OK;
}

#define W "wasi_snapshot_preview1"
const agc__host_def agc__wasi_fs_defs[] = {
    {W, "path_open", "iiiiiIIii:i", path_open},
    {W, "fd_readdir", "iiiIi:i", fd_readdir},
    {W, "fd_filestat_get", "ii:i", fd_filestat_get},
    {W, "path_filestat_get", "iiiii:i", path_filestat_get},
    {W, "path_create_directory", "iii:i", path_create_directory},
    {W, "path_remove_directory", "iii:i", path_remove_directory},
    {W, "path_unlink_file", "iii:i", path_unlink_file},
    {W, "path_rename", "iiiiii:i", path_rename},
    {NULL, NULL, NULL, NULL},
};
