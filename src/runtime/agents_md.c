/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * AGENTS.md project instructions: the files of every directory from the
 * workspace root down to the working directory, merged root first, each
 * under a heading naming its directory, and capped (32 KiB by default) with a
 * note saying how much was cut. Invariant: the result never exceeds the cap
 * and is never cut inside a UTF-8 character. Reads only regular files named
 * exactly AGENTS.md; does not follow the chain above the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/agent.h"
#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/log.h"

#define MOD "agent"
/* Room kept under the cap for the truncation note. */
#define NOTE_ROOM 96

/* Appends the file dir/AGENTS.md (when it is a regular file) under a heading. */
static agc_status add_file(agc_buf *b, const char *dir, const char *rel, size_t *total,
                           agc_ctx *ctx)
{
    char *path = agc_sprintf(ctx, "%s/AGENTS.md", dir);
    if (!path)
        return AGC_ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR))
            agc_log(ctx, AGC_LOG_WARN, MOD, "skipping %s: not a readable regular file", path);
        if (fd >= 0)
            close(fd);
        agc_free(ctx, path);
        return AGC_OK;
    }
    agc_status st = agc_buf_printf(b, "%s# AGENTS.md (%s)\n\n", b->len ? "\n\n" : "", rel);
    char chunk[8192];
    ssize_t n;
    while (st == AGC_OK && (n = read(fd, chunk, sizeof chunk)) > 0) {
        *total += (size_t)n;
        st = agc_buf_append(b, chunk, (size_t)n);
    }
    if (st == AGC_OK && n < 0)
        agc_log(ctx, AGC_LOG_WARN, MOD, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    agc_free(ctx, path);
    return st;
}

/* Length <= max that does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

agc_status agc_agents_md_load(char **out, const char *root, const char *workdir, size_t cap,
                              agc_ctx *ctx)
{
    *out = NULL;
    if (cap == 0)
        cap = AGC_AGENTS_MD_MAX;
    if (cap <= NOTE_ROOM)
        cap = NOTE_ROOM + 1;
    char *rroot = realpath(root, NULL);
    char *rwork = realpath(workdir ? workdir : root, NULL);
    agc_status st = AGC_OK;
    size_t rl = rroot ? strlen(rroot) : 0;
    if (!rroot || !rwork)
        st = agc_error_set(ctx, AGC_EINVAL, MOD, "cannot resolve '%s': %s", !rroot ? root : workdir,
                           strerror(errno));
    else if (strncmp(rwork, rroot, rl) != 0 ||
             (rwork[rl] != '\0' && rwork[rl] != '/' && !(rl == 1 && rroot[0] == '/')))
        st = agc_error_set(ctx, AGC_EINVAL, MOD,
                           "the working directory '%s' is not inside the workspace '%s'", rwork,
                           rroot);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    size_t total = 0;
    if (st == AGC_OK) {
        /* walk root, root/a, root/a/b, ... by cutting rwork at each '/' after the root */
        size_t wl = strlen(rwork);
        size_t pos = rl;
        for (;;) {
            char save = rwork[pos];
            rwork[pos] = '\0';
            const char *rel = pos > rl ? rwork + rl + (rroot[rl - 1] == '/' ? 0 : 1) : ".";
            st = add_file(&b, pos == 0 ? "/" : rwork, rel, &total, ctx);
            rwork[pos] = save;
            if (st != AGC_OK || pos >= wl)
                break;
            pos++;
            while (pos < wl && rwork[pos] != '/')
                pos++;
        }
    }
    free(rroot);
    free(rwork);
    if (st == AGC_OK && b.len > cap) {
        size_t keep = utf8_cut(b.data, b.len, cap - NOTE_ROOM);
        size_t full = b.len;
        b.len = keep;
        b.data[keep] = '\0';
        st = agc_buf_printf(&b, "\n[AGENTS.md truncated: %zu of %zu bytes shown]", keep, full);
    }
    if (st == AGC_OK && b.len > 0) {
        *out = agc_buf_detach(&b, NULL);
        st = *out ? AGC_OK : AGC_ENOMEM;
    }
    agc_buf_free(&b);
    (void)total;
    return st;
}
