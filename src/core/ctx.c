/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The context object: allocator hook, error chain, clock and subsystem slots.
 * Creating a ctx also makes sure libsodium is initialised (idempotent and
 * thread-safe in libsodium) and installs the jansson allocation bridge.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentc/common.h"
#include "ctx_int.h"

void agc__json_bridge_install(void);

void *agc__sys_realloc(void *ud, void *p, size_t old_size, size_t new_size)
{
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, new_size);
}

void *agc__raw_realloc(agc_ctx *ctx, void *p, size_t old_size, size_t new_size)
{
    return ctx->realloc(ctx->realloc_ud, p, old_size, new_size);
}

void agc_ctx_opts_init(agc_ctx_opts *opts)
{
    agc_ctx_opts d = AGC_CTX_OPTS_INIT;
    *opts = d;
}

agc_status agc_ctx_new(agc_ctx **out, const agc_ctx_opts *opts)
{
    *out = NULL;
    agc_ctx_opts o = AGC_CTX_OPTS_INIT;
    if (opts) {
        if (opts->version != AGC_CTX_OPTS_VERSION)
            return AGC_EINVAL;
        o = *opts;
    }
    if (sodium_init() < 0)
        return AGC_ERROR;
    agc__json_bridge_install();
    agc_realloc_fn fn = o.realloc ? o.realloc : agc__sys_realloc;
    agc_ctx *ctx = fn(o.realloc_ud, NULL, 0, sizeof *ctx);
    if (!ctx)
        return AGC_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->realloc = fn;
    ctx->realloc_ud = o.realloc_ud;
    *out = ctx;
    return AGC_OK;
}

void agc__ctx_set_ext(agc_ctx *ctx, agc__ext_slot slot, void *state, agc__ext_free_fn fn)
{
    assert(ctx->ext[slot] == NULL);
    ctx->ext[slot] = state;
    ctx->ext_free[slot] = fn;
}

void agc_ctx_free(agc_ctx *ctx)
{
    if (!ctx)
        return;
    /* later slots may use earlier ones (events log, log redacts): free in reverse */
    for (int i = AGC__EXT_COUNT - 1; i >= 0; i--) {
        if (ctx->ext[i] && ctx->ext_free[i])
            ctx->ext_free[i](ctx, ctx->ext[i]);
        ctx->ext[i] = NULL;
    }
    agc_realloc_fn fn = ctx->realloc;
    void *ud = ctx->realloc_ud;
    fn(ud, ctx, sizeof *ctx, 0);
}

const char *agc_version(void)
{
    return AGC_VERSION;
}
