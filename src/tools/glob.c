/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Glob matching for find and grep: fnmatch(3) inside one path component,
 * "**" for any number of whole components. A pattern without "/" matches
 * the last component at any depth ("*.c"). Matching is purely lexical; it
 * does not touch the file system.
 */
#include <fnmatch.h>
#include <string.h>

#include "tools_int.h"

#define MAX_SEGS 64

static size_t split(char *s, const char **segs)
{
    size_t n = 0;
    while (*s && n < MAX_SEGS) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        segs[n++] = s;
        char *sl = strchr(s, '/');
        if (!sl)
            break;
        *sl = '\0';
        s = sl + 1;
    }
    return n;
}

static bool match_segs(const char **ps, size_t np, const char **cs, size_t nc)
{
    while (np > 0 && strcmp(ps[0], "**") != 0) {
        if (nc == 0 || fnmatch(ps[0], cs[0], 0) != 0)
            return false;
        ps++, np--, cs++, nc--;
    }
    if (np == 0)
        return nc == 0;
    while (np > 1 && strcmp(ps[1], "**") == 0) /* "**" / "**" is one "**" */
        ps++, np--;
    for (size_t skip = 0; skip <= nc; skip++)
        if (match_segs(ps + 1, np - 1, cs + skip, nc - skip))
            return true;
    return false;
}

bool agc__glob_match(const char *pattern, const char *path)
{
    if (strncmp(pattern, "./", 2) == 0)
        pattern += 2;
    if (!strchr(pattern, '/')) {
        if (strcmp(pattern, "**") == 0)
            return true;
        const char *base = strrchr(path, '/');
        return fnmatch(pattern, base ? base + 1 : path, 0) == 0;
    }
    char pbuf[1024], cbuf[4096];
    size_t pl = strlen(pattern), cl = strlen(path);
    if (pl >= sizeof pbuf || cl >= sizeof cbuf)
        return false;
    memcpy(pbuf, pattern, pl + 1);
    memcpy(cbuf, path, cl + 1);
    const char *ps[MAX_SEGS], *cs[MAX_SEGS];
    size_t np = split(pbuf, ps), nc = split(cbuf, cs);
    return match_segs(ps, np, cs, nc);
}
