/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * agentc core: status codes, the error record and the context object.
 *
 * Every fallible call returns agc_status (0 = AGC_OK, negative = failure) and
 * leaves a human-readable error in the ctx it was given (or the ctx its object
 * remembers). There is no global or thread-local error state. A ctx serves one
 * thread at a time; give each thread its own.
 */
#ifndef AGENTC_COMMON_H
#define AGENTC_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AGC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define AGC_NODISCARD    __attribute__((warn_unused_result))
#else
#define AGC_PRINTF(f, a)
#define AGC_NODISCARD
#endif

/* Status codes: name, value, fixed text. Never renumber; only append. */
#define AGC_STATUS_MAP(X)                                                                          \
    X(OK, 0, "success")                                                                            \
    X(ERROR, -1, "failure")                                                                        \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EINVAL, -3, "invalid argument")                                                              \
    X(EPARSE, -4, "malformed input")                                                               \
    X(ESCHEMA, -5, "schema validation failed")                                                     \
    X(ENOTFOUND, -6, "not found")                                                                  \
    X(EIO, -7, "input/output error")                                                               \
    X(ETIMEDOUT, -8, "timed out")                                                                  \
    X(ECANCELED, -9, "canceled")                                                                   \
    X(EPERM, -10, "permission denied")                                                             \
    X(EUNSUPPORTED, -11, "not supported")                                                          \
    X(ELIMIT, -12, "limit exceeded")                                                               \
    X(ENET, -13, "network error")                                                                  \
    X(EPROTO, -14, "protocol error")                                                               \
    X(EAUTH, -15, "authentication failed")                                                         \
    X(EEXISTS, -16, "already exists")                                                              \
    X(EBUSY, -17, "busy, try again")                                                               \
    X(EUSAGE, -18, "usage error")                                                                  \
    X(EHTTP, -19, "HTTP error")                                                                    \
    X(ERATELIMIT, -20, "rate limited")                                                             \
    X(EOVERLOADED, -21, "service overloaded")

typedef enum agc_status {
#define AGC__STATUS_ENUM(name, val, text) AGC_##name = (val),
    AGC_STATUS_MAP(AGC__STATUS_ENUM)
#undef AGC__STATUS_ENUM
} agc_status;

/* Fixed English text of a code ("out of memory"); never NULL. */
const char *agc_strerror(agc_status code);
/* Symbolic name of a code ("AGC_ENOMEM"); never NULL. */
const char *agc_status_name(agc_status code);

/*
 * One error: code, the module that detected it ("json", "schema", ...), a
 * message that says what was wrong and what to do, and an optional cause
 * (the lower-level error it wraps). Borrowed from the ctx; valid until the
 * next failing call on that ctx or agc_error_clear().
 */
typedef struct agc_error {
    agc_status code;
    const char *module;
    const char *message;
    const struct agc_error *cause;
} agc_error;

/*
 * Allocation hook, shaped like Lua's lua_Alloc: new_size 0 frees (returns
 * NULL); ptr NULL allocates. old_size is the size of the block being
 * reallocated or freed, so a hook can wipe memory or account for it.
 */
typedef void *(*agc_realloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

typedef struct agc_ctx agc_ctx;

typedef struct agc_ctx_opts {
    unsigned version;       /* AGC_CTX_OPTS_VERSION */
    agc_realloc_fn realloc; /* NULL: the system allocator */
    void *realloc_ud;
} agc_ctx_opts;

#define AGC_CTX_OPTS_VERSION 1
#define AGC_CTX_OPTS_INIT                                                                          \
    {                                                                                              \
        AGC_CTX_OPTS_VERSION, NULL, NULL                                                           \
    }

/* Fills *opts with defaults. */
void agc_ctx_opts_init(agc_ctx_opts *opts);

/*
 * Creates a context. opts may be NULL for defaults. The ctx owns the error
 * record, the allocator, logging, the clock, the id generator and the secret
 * registry used for redaction. Free with agc_ctx_free() after every object
 * created from it. Returns AGC_EINVAL for an unknown opts version (no ctx
 * exists then to hold a message), AGC_ENOMEM when out of memory.
 */
AGC_NODISCARD agc_status agc_ctx_new(agc_ctx **out, const agc_ctx_opts *opts);
/* Frees the ctx; NULL is a no-op. */
void agc_ctx_free(agc_ctx *ctx);

/* The last error recorded on ctx, or NULL when none. Borrowed (see agc_error). */
const agc_error *agc_ctx_last_error(const agc_ctx *ctx);
/* The last error's message, or "" when none. Borrowed. */
const char *agc_ctx_errmsg(const agc_ctx *ctx);

/*
 * Records an error on ctx and returns code, so that callers can write
 * `return agc_error_set(ctx, AGC_EINVAL, "json", "...", ...);`. Replaces any
 * earlier error. Never allocates: the message is cut at 1 KiB.
 */
agc_status agc_error_set(agc_ctx *ctx, agc_status code, const char *module, const char *fmt, ...)
    AGC_PRINTF(4, 5);
agc_status agc_error_setv(agc_ctx *ctx, agc_status code, const char *module, const char *fmt,
                          va_list ap) AGC_PRINTF(4, 0);
/*
 * Adds context: the current error becomes the cause of a new one with this
 * message and code (AGC_OK keeps the cause's code). Chains deeper than 8 keep
 * the newest entries. Returns the new code.
 */
agc_status agc_error_wrap(agc_ctx *ctx, agc_status code, const char *module, const char *fmt, ...)
    AGC_PRINTF(4, 5);
/* Forgets the last error. */
void agc_error_clear(agc_ctx *ctx);
/*
 * Writes "message: cause message: ..." into buf (always NUL-terminated, cut to
 * size). Returns buf.
 */
char *agc_error_format(const agc_ctx *ctx, char *buf, size_t size);

/* Library version string ("0.1.0"). */
const char *agc_version(void);

#ifdef __cplusplus
}
#endif
#endif
