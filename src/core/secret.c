/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * agc_secret: a value in sodium_malloc memory (guard pages, mlock where the
 * system allows, read-only after creation, zeroed by sodium_free) plus its
 * source description. File secrets are read straight into guarded memory so
 * that no plain copy stays on the heap. Values are registered with the ctx
 * redactor for their lifetime. Nothing here prints a value.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "agentc/secret.h"

#define MOD "secret"

struct agc_secret {
    agc_ctx *ctx;
    char *value; /* sodium_malloc, len + 1 bytes, NUL-terminated */
    size_t len;
    char *source; /* agc_malloc */
};

static bool env_name_valid(const char *n)
{
    if (!n || !((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') || *n == '_'))
        return false;
    for (; *n; n++)
        if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') ||
              *n == '_'))
            return false;
    return true;
}

bool agc_secret_ref_valid(const char *s)
{
    if (!s)
        return false;
    if (strncmp(s, "env:", 4) == 0)
        return env_name_valid(s + 4);
    if (strncmp(s, "file:", 5) == 0)
        return s[5] != '\0';
    return false;
}

/* Takes ownership of value (sodium_malloc'd, len+1 bytes). */
static agc_status finish(agc_secret **out, char *value, size_t len, const char *source,
                         agc_ctx *ctx)
{
    value[len] = '\0';
    if (len < 4) {
        sodium_free(value);
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "the secret from %s is %s; set it to the real credential", source,
                             len == 0 ? "empty" : "shorter than 4 bytes");
    }
    (void)sodium_mlock(value, len + 1); /* best effort: RLIMIT_MEMLOCK may forbid it */
    agc_secret *s = agc_calloc(ctx, 1, sizeof *s);
    char *src = s ? agc_strdup(ctx, source) : NULL;
    agc_status st = src ? agc_redact_add_secret(ctx, value, len) : AGC_ENOMEM;
    if (st != AGC_OK) {
        agc_free(ctx, src);
        agc_free(ctx, s);
        sodium_free(value);
        return st;
    }
    (void)sodium_mprotect_readonly(value);
    s->ctx = ctx;
    s->value = value;
    s->len = len;
    s->source = src;
    *out = s;
    return AGC_OK;
}

static agc_status from_bytes(agc_secret **out, const void *data, size_t len, const char *source,
                             agc_ctx *ctx)
{
    if (len > AGC_SECRET_MAX)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "the secret from %s is larger than %d bytes; that is not a key",
                             source, AGC_SECRET_MAX);
    char *v = sodium_malloc(len + 1);
    if (!v)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of secure memory for the secret from %s",
                             source);
    memcpy(v, data, len);
    return finish(out, v, len, source, ctx);
}

agc_status agc_secret_from_bytes(agc_secret **out, const void *data, size_t len, const char *source,
                                 agc_ctx *ctx)
{
    *out = NULL;
    return from_bytes(out, data, len, source ? source : "bytes", ctx);
}

agc_status agc_secret_from_env(agc_secret **out, const char *name, agc_ctx *ctx)
{
    *out = NULL;
    if (!env_name_valid(name))
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "\"%.64s\" is not an environment variable name; use letters, digits "
                             "and underscores",
                             name ? name : "");
    const char *v = getenv(name);
    if (!v)
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD, "%s is unset; export it", name);
    if (!*v)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s is empty; export it with the real value",
                             name);
    char src[300];
    snprintf(src, sizeof src, "env:%s", name);
    return from_bytes(out, v, strlen(v), src, ctx);
}

static agc_status read_file(agc_secret **out, const char *path, const char *display, agc_ctx *ctx)
{
    char src[4200];
    snprintf(src, sizeof src, "file:%s", display);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                                 "secret file %s does not exist; create it or fix the path",
                                 display);
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot open secret file %s: %s", display,
                             strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return agc_error_set(ctx, AGC_EIO, MOD, "secret file %s is not a regular file", display);
    }
    if (sb.st_mode & 077)
        agc_log(ctx, AGC_LOG_WARN, MOD,
                "secret file %s is readable by group or others (mode %03o); chmod 600 it", display,
                (unsigned)(sb.st_mode & 0777));
    if (sb.st_size > AGC_SECRET_MAX) {
        close(fd);
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "secret file %s is larger than %d bytes; that is not a key", display,
                             AGC_SECRET_MAX);
    }
    size_t cap = (size_t)sb.st_size + 1;
    char *v = sodium_malloc(cap + 1);
    if (!v) {
        close(fd);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of secure memory for %s", src);
    }
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, v + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            sodium_free(v);
            return agc_error_set(ctx, AGC_EIO, MOD, "cannot read secret file %s: %s", display,
                                 strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n == cap) { /* grew while reading */
        sodium_free(v);
        return agc_error_set(ctx, AGC_EIO, MOD, "secret file %s changed while being read", display);
    }
    while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'))
        n--;
    return finish(out, v, n, src, ctx);
}

agc_status agc_secret_from_file(agc_secret **out, const char *path, agc_ctx *ctx)
{
    *out = NULL;
    if (!path || !*path)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "empty secret file path; give file:PATH");
    if (strncmp(path, "~/", 2) == 0) {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return agc_error_set(ctx, AGC_EINVAL, MOD,
                                 "secret file %s starts with ~/ but HOME is unset; use an "
                                 "absolute path",
                                 path);
        char *full = agc_sprintf(ctx, "%s/%s", home, path + 2);
        if (!full)
            return AGC_ENOMEM;
        agc_status st = read_file(out, full, path, ctx);
        agc_free(ctx, full);
        return st;
    }
    return read_file(out, path, path, ctx);
}

agc_status agc_secret_from_ref(agc_secret **out, const char *ref, agc_ctx *ctx)
{
    *out = NULL;
    if (ref && strncmp(ref, "env:", 4) == 0)
        return agc_secret_from_env(out, ref + 4, ctx);
    if (ref && strncmp(ref, "file:", 5) == 0)
        return agc_secret_from_file(out, ref + 5, ctx);
    return agc_error_set(ctx, AGC_EINVAL, MOD,
                         "secrets must be given by reference (env:NAME or file:PATH), not inline; "
                         "put the value in an environment variable or a file");
}

const char *agc_secret_reveal(const agc_secret *s, size_t *len)
{
    if (len)
        *len = s ? s->len : 0;
    return s ? s->value : NULL;
}

const char *agc_secret_source(const agc_secret *s)
{
    return s ? s->source : "";
}

void agc_secret_free(agc_secret *s)
{
    if (!s)
        return;
    agc_ctx *ctx = s->ctx;
    agc_redact_remove_secret(ctx, s->value, s->len);
    sodium_free(s->value); /* zeroes, unlocks, unmaps */
    agc_free(ctx, s->source);
    agc_free(ctx, s);
}
