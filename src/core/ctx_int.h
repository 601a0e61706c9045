/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal view of agc_ctx. Subsystems (logging, redaction, ids,
 * events, ...) keep their per-ctx state in an extension slot that they create
 * lazily and that agc_ctx_free() destroys; the ctx itself knows nothing of them.
 */
#ifndef AGC_CORE_CTX_INT_H
#define AGC_CORE_CTX_INT_H

#include "agentc/clock.h"
#include "agentc/common.h"

#define AGC__ERR_DEPTH 8
#define AGC__ERR_MSG   1024

typedef enum agc__ext_slot {
    AGC__EXT_LOG = 0,
    AGC__EXT_REDACT,
    AGC__EXT_IDS,
    AGC__EXT_EVENTS,
    AGC__EXT_SPARE1,
    AGC__EXT_SPARE2,
    AGC__EXT_SPARE3,
    AGC__EXT_SPARE4,
    AGC__EXT_COUNT
} agc__ext_slot;

typedef void (*agc__ext_free_fn)(agc_ctx *ctx, void *state);

struct agc__errslot {
    agc_error err;
    char msg[AGC__ERR_MSG];
};

struct agc_ctx {
    agc_realloc_fn realloc;
    void *realloc_ud;
    /* errors: a ring of fixed slots, no allocation; err_top is the newest */
    struct agc__errslot errs[AGC__ERR_DEPTH];
    int err_count; /* 0 = no error */
    int err_top;
    /* clock */
    const agc_clock_ops *clock_ops;
    void *clock_self;
    /* jansson allocation failures seen in the current scope */
    bool json_oom;
    /* inside json_loadb: a failed allocation is satisfied from the system
     * allocator and reported as AGC_ENOMEM afterwards (jansson 2.14's lexer
     * ignores failed buffer growth and then writes out of bounds) */
    bool json_parsing;
    /* subsystem state */
    void *ext[AGC__EXT_COUNT];
    agc__ext_free_fn ext_free[AGC__EXT_COUNT];
};

/* Returns the slot's state, or NULL. */
static inline void *agc__ctx_ext(const agc_ctx *ctx, agc__ext_slot slot)
{
    return ctx->ext[slot];
}
/* Installs state and its destructor in a free slot (asserts it is free). */
void agc__ctx_set_ext(agc_ctx *ctx, agc__ext_slot slot, void *state, agc__ext_free_fn fn);

/* The system allocator as a realloc hook (realloc/free). */
void *agc__sys_realloc(void *ud, void *p, size_t old_size, size_t new_size);

/* Raw hook calls, used by the allocator and the jansson bridge. */
void *agc__raw_realloc(agc_ctx *ctx, void *p, size_t old_size, size_t new_size);

#endif
