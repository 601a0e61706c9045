/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The compiled-module cache: $XDG_CACHE_HOME/agentc/wasm (or
 * ~/.cache/agentc/wasm) holds <key>.so, <key>.sum (sha256 of the .so) and
 * <key>.lock. Invariant: a .so is only used when it matches its .sum; files
 * appear by rename, so readers never see a half-written entry; builders
 * serialise on flock(<key>.lock) and recheck after taking it. It does not
 * evict old entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "sandbox_int.h"

#define MODULE "sandbox"

agc_status agc__file_read(char **out, size_t *len, const char *path, size_t max, agc_ctx *ctx)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot open %s: %s", path, strerror(errno));
    agc_buf b;
    agc_buf_init(&b, ctx, max);
    agc_status st = AGC_OK;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = agc_error_set(ctx, AGC_EIO, MODULE, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        st = agc_buf_append(&b, chunk, (size_t)n);
        if (st == AGC_ELIMIT)
            st = agc_error_set(ctx, AGC_ELIMIT, MODULE, "%s is larger than %zu bytes", path, max);
        if (st != AGC_OK)
            break;
    }
    close(fd);
    if (st == AGC_OK)
        *out = agc_buf_detach(&b, len);
    agc_buf_free(&b);
    return st == AGC_OK && !*out ? AGC_ENOMEM : st;
}

agc_status agc__file_write(const char *path, const void *data, size_t len, agc_ctx *ctx)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot create %s: %s", path, strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return agc_error_set(ctx, AGC_EIO, MODULE, "cannot write %s: %s", path, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0)
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot write %s: %s", path, strerror(errno));
    return AGC_OK;
}

agc_status agc__sha256_file(char hex[65], const char *path, agc_ctx *ctx)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot open %s: %s", path, strerror(errno));
    crypto_hash_sha256_state s;
    crypto_hash_sha256_init(&s);
    unsigned char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return agc_error_set(ctx, AGC_EIO, MODULE, "cannot read %s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&s, chunk, (unsigned long long)n);
    }
    close(fd);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&s, h);
    sodium_bin2hex(hex, 65, h, sizeof h);
    return AGC_OK;
}

/* mkdir -p with 0700 for the parts we create. */
static agc_status mkdirs(const char *path, agc_ctx *ctx)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return agc_error_set(ctx, AGC_EINVAL, MODULE, "cache path too long: %s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return agc_error_set(ctx, AGC_EIO, MODULE, "cannot create cache directory %s: %s",
                                     tmp, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return AGC_OK;
}

agc_status agc__cache_open(agc__cache_entry *e, const char *cache_dir, const char *key,
                           agc_ctx *ctx)
{
    memset(e, 0, sizeof *e);
    e->lock_fd = -1;
    if (cache_dir)
        e->dir = agc_strdup(ctx, cache_dir);
    else if (getenv("XDG_CACHE_HOME") && getenv("XDG_CACHE_HOME")[0] == '/')
        e->dir = agc_sprintf(ctx, "%s/agentc/wasm", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && getenv("HOME")[0])
        e->dir = agc_sprintf(ctx, "%s/.cache/agentc/wasm", getenv("HOME"));
    else
        return agc_error_set(ctx, AGC_EINVAL, MODULE,
                             "no cache directory: set XDG_CACHE_HOME or HOME");
    if (!e->dir)
        return AGC_ENOMEM;
    agc_status st = mkdirs(e->dir, ctx);
    if (st == AGC_OK) {
        e->so_path = agc_sprintf(ctx, "%s/%s.so", e->dir, key);
        e->sum_path = agc_sprintf(ctx, "%s/%s.sum", e->dir, key);
        e->lock_path = agc_sprintf(ctx, "%s/%s.lock", e->dir, key);
        if (!e->so_path || !e->sum_path || !e->lock_path)
            st = AGC_ENOMEM;
    }
    if (st != AGC_OK)
        agc__cache_close(e, ctx);
    return st;
}

bool agc__cache_valid(const agc__cache_entry *e, agc_ctx *ctx)
{
    char want[80] = {0};
    FILE *f = fopen(e->sum_path, "re");
    if (!f)
        return false;
    size_t n = fread(want, 1, 64, f);
    fclose(f);
    if (n != 64)
        return false;
    char have[65];
    agc_status st = agc__sha256_file(have, e->so_path, ctx);
    if (st != AGC_OK) {
        agc_error_clear(ctx);
        return false;
    }
    return sodium_memcmp(have, want, 64) == 0;
}

agc_status agc__cache_lock(agc__cache_entry *e, agc_ctx *ctx)
{
    e->lock_fd = open(e->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (e->lock_fd < 0)
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot open %s: %s", e->lock_path,
                             strerror(errno));
    while (flock(e->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return agc_error_set(ctx, AGC_EIO, MODULE, "cannot lock %s: %s", e->lock_path,
                                 strerror(errno));
    }
    return AGC_OK;
}

agc_status agc__cache_commit(agc__cache_entry *e, const char *built_so, agc_ctx *ctx)
{
    char hex[65];
    agc_status st = agc__sha256_file(hex, built_so, ctx);
    if (st != AGC_OK)
        return st;
    char *tmp = agc_sprintf(ctx, "%s.tmp.%ld", e->sum_path, (long)getpid());
    if (!tmp)
        return AGC_ENOMEM;
    st = agc__file_write(tmp, hex, 64, ctx);
    if (st == AGC_OK && rename(tmp, e->sum_path) != 0)
        st = agc_error_set(ctx, AGC_EIO, MODULE, "cannot rename %s: %s", tmp, strerror(errno));
    if (st != AGC_OK)
        unlink(tmp);
    agc_free(ctx, tmp);
    if (st == AGC_OK && rename(built_so, e->so_path) != 0)
        st = agc_error_set(ctx, AGC_EIO, MODULE, "cannot move %s into the cache: %s", built_so,
                           strerror(errno));
    return st;
}

void agc__cache_close(agc__cache_entry *e, agc_ctx *ctx)
{
    if (e->lock_fd >= 0)
        close(e->lock_fd); /* releases the flock */
    e->lock_fd = -1;
    agc_free(ctx, e->dir);
    agc_free(ctx, e->so_path);
    agc_free(ctx, e->sum_path);
    agc_free(ctx, e->lock_path);
    e->dir = e->so_path = e->sum_path = e->lock_path = NULL;
}
