/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Status texts and the per-ctx error chain. Errors live in fixed slots of the
 * ctx, so recording one never allocates and works when memory is exhausted.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/common.h"
#include "ctx_int.h"

const char *agc_strerror(agc_status code)
{
    switch (code) {
#define AGC__CASE(name, val, text)                                                                 \
    case AGC_##name:                                                                               \
        return text;
        AGC_STATUS_MAP(AGC__CASE)
#undef AGC__CASE
    }
    return "unknown status";
}

const char *agc_status_name(agc_status code)
{
    switch (code) {
#define AGC__CASE(name, val, text)                                                                 \
    case AGC_##name:                                                                               \
        return "AGC_" #name;
        AGC_STATUS_MAP(AGC__CASE)
#undef AGC__CASE
    }
    return "AGC_UNKNOWN";
}

static void relink(agc_ctx *ctx)
{
    /* slot i's cause is the slot before it in the ring, for err_count entries */
    for (int k = 0; k < ctx->err_count; k++) {
        int i = (ctx->err_top - k + AGC__ERR_DEPTH) % AGC__ERR_DEPTH;
        int prev = (i - 1 + AGC__ERR_DEPTH) % AGC__ERR_DEPTH;
        ctx->errs[i].err.cause = (k + 1 < ctx->err_count) ? &ctx->errs[prev].err : NULL;
    }
}

static agc_status put(agc_ctx *ctx, bool wrap, agc_status code, const char *module, const char *fmt,
                      va_list ap)
{
    if (!ctx)
        return code;
    agc_status eff = code;
    if (wrap && ctx->err_count > 0) {
        if (code == AGC_OK)
            eff = ctx->errs[ctx->err_top].err.code;
        ctx->err_top = (ctx->err_top + 1) % AGC__ERR_DEPTH;
        if (ctx->err_count < AGC__ERR_DEPTH)
            ctx->err_count++;
    } else {
        if (code == AGC_OK)
            eff = AGC_ERROR;
        ctx->err_top = 0;
        ctx->err_count = 1;
    }
    struct agc__errslot *s = &ctx->errs[ctx->err_top];
    /* format first into a scratch buffer: args may point into the old message */
    char tmp[AGC__ERR_MSG];
    vsnprintf(tmp, sizeof tmp, fmt ? fmt : "", ap);
    memcpy(s->msg, tmp, sizeof tmp);
    s->err.code = eff;
    s->err.module = module ? module : "agentc";
    s->err.message = s->msg;
    relink(ctx);
    return eff;
}

agc_status agc_error_setv(agc_ctx *ctx, agc_status code, const char *module, const char *fmt,
                          va_list ap)
{
    return put(ctx, false, code, module, fmt, ap);
}

agc_status agc_error_set(agc_ctx *ctx, agc_status code, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agc_status st = put(ctx, false, code, module, fmt, ap);
    va_end(ap);
    return st;
}

agc_status agc_error_wrap(agc_ctx *ctx, agc_status code, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agc_status st = put(ctx, true, code, module, fmt, ap);
    va_end(ap);
    return st;
}

void agc_error_clear(agc_ctx *ctx)
{
    if (ctx)
        ctx->err_count = 0;
}

const agc_error *agc_ctx_last_error(const agc_ctx *ctx)
{
    if (!ctx || ctx->err_count == 0)
        return NULL;
    return &ctx->errs[ctx->err_top].err;
}

const char *agc_ctx_errmsg(const agc_ctx *ctx)
{
    const agc_error *e = agc_ctx_last_error(ctx);
    return e ? e->message : "";
}

char *agc_error_format(const agc_ctx *ctx, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    for (const agc_error *e = agc_ctx_last_error(ctx); e && used + 1 < size; e = e->cause) {
        int n = snprintf(buf + used, size - used, "%s%s", used ? ": " : "", e->message);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}
