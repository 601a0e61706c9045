/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema validation entry point and its result: the error list (instance
 * path, keyword, evaluation path, message), capped at max_errors and rolled
 * back when a speculative branch (anyOf, oneOf) turns out fine; fatal
 * conditions (out of memory, recursion limit) stop validation. The ctx
 * message of an invalid instance is "<instance path>: <message>", with
 * "(root)" standing for the empty path.
 */
#include <stdio.h>
#include <string.h>

#include "schema_int.h"

/* ---- paths ----------------------------------------------------------------------- */

static agc_status path_put(agc_buf *b, const sch_path *p)
{
    if (!p)
        return AGC_OK;
    agc_status st = path_put(b, p->up);
    if (st != AGC_OK)
        return st;
    if (!p->key)
        return agc_buf_printf(b, "/%zu", p->idx);
    if ((st = agc_buf_putc(b, '/')) != AGC_OK)
        return st;
    for (const char *k = p->key; *k && st == AGC_OK; k++) {
        if (*k == '~')
            st = agc_buf_puts(b, "~0");
        else if (*k == '/')
            st = agc_buf_puts(b, "~1");
        else
            st = agc_buf_putc(b, *k);
    }
    return st;
}

/* ---- errors --------------------------------------------------------------------------- */

void agc__sch_fatal(sch_vstate *st, agc_status code, const char *fmt, ...)
{
    if (st->fatal)
        return;
    va_list ap;
    va_start(ap, fmt);
    agc_error_setv(st->ctx, code, "schema", fmt, ap);
    va_end(ap);
    st->fatal = code;
}

size_t agc__sch_err_mark(const sch_vstate *st, size_t *dropped)
{
    *dropped = st->dropped;
    return st->count;
}

void agc__sch_err_rollback(sch_vstate *st, size_t mark, size_t dropped)
{
    while (st->count > mark)
        agc_free(st->ctx, (char *)st->errs[--st->count].instance_path);
    st->dropped = dropped;
}

void agc__sch_error(sch_vstate *st, const sch_call *call, const char *keyword,
                    const sch_path *extra, const char *fmt, ...)
{
    if (call->quiet || st->fatal)
        return;
    if (st->count >= st->max) {
        st->dropped++;
        return;
    }
    if (st->count == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 8;
        if (ncap > st->max)
            ncap = st->max;
        agc_schema_error *ne = agc_realloc(st->ctx, st->errs, ncap * sizeof *ne);
        if (!ne) {
            agc__sch_fatal(st, AGC_ENOMEM, "out of memory recording a validation error");
            return;
        }
        st->errs = ne;
        st->cap = ncap;
    }
    agc_buf ip, sp;
    agc_buf_init(&ip, st->ctx, 0);
    agc_buf_init(&sp, st->ctx, 0);
    agc_status s = path_put(&ip, call->ip);
    if (s == AGC_OK)
        s = path_put(&ip, extra);
    if (s == AGC_OK)
        s = path_put(&sp, call->sp);
    if (s == AGC_OK)
        s = agc_buf_printf(&sp, "/%s", keyword);
    char *msg = NULL;
    if (s == AGC_OK) {
        va_list ap;
        va_start(ap, fmt);
        msg = agc_vsprintf(st->ctx, fmt, ap);
        va_end(ap);
    }
    char *block = NULL;
    if (msg) {
        size_t a = ip.len + 1, b = sp.len + 1, c = strlen(msg) + 1;
        block = agc_malloc(st->ctx, a + b + c);
        if (block) {
            memcpy(block, agc_buf_cstr(&ip), a);
            memcpy(block + a, agc_buf_cstr(&sp), b);
            memcpy(block + a + b, msg, c);
            agc_schema_error *e = &st->errs[st->count++];
            e->instance_path = block;
            e->schema_path = block + a;
            e->message = block + a + b;
            e->keyword = keyword;
        }
    }
    agc_free(st->ctx, msg);
    agc_buf_free(&ip);
    agc_buf_free(&sp);
    if (!block)
        agc__sch_fatal(st, AGC_ENOMEM, "out of memory recording a validation error");
}

/* ---- regex matching ------------------------------------------------------------------------ */

int agc__sch_regex_match(sch_vstate *st, const pcre2_code *re, const char *s, size_t len)
{
    if (!st->md) {
        st->md = pcre2_match_data_create(1, st->gctx);
        if (!st->md) {
            agc__sch_fatal(st, AGC_ENOMEM, "out of memory matching a pattern");
            return -1;
        }
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, st->md, NULL);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_NOMEMORY) {
        agc__sch_fatal(st, AGC_ENOMEM, "out of memory matching a pattern");
        return -1;
    }
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(rc, msg, sizeof msg);
    agc__sch_fatal(st, AGC_ELIMIT, "pattern matching failed: %s", (const char *)msg);
    return -1;
}

/* ---- public -------------------------------------------------------------------------------------
 */

static void free_errors(agc_schema_error *errs, size_t n, agc_ctx *ctx)
{
    for (size_t i = 0; i < n; i++)
        agc_free(ctx, (char *)errs[i].instance_path);
    agc_free(ctx, errs);
}

void agc_schema_result_free(agc_schema_result *res, agc_ctx *ctx)
{
    if (!res)
        return;
    free_errors(res->errors, res->count, ctx);
    agc_free(ctx, res);
}

agc_status agc_schema_validate(agc_schema_result **out, const agc_schema *schema,
                               const json_t *instance, agc_ctx *ctx)
{
    if (out)
        *out = NULL;
    if (!schema || !instance)
        return agc_error_set(ctx, AGC_EINVAL, "schema", "no %s given to validate",
                             schema ? "instance" : "schema");
    sch_vstate st = {.ctx = ctx, .s = schema, .max = schema->max_errors};
    agc_schema_result *res = NULL;
    if (out) {
        res = agc_calloc(ctx, 1, sizeof *res);
        if (!res)
            return AGC_ENOMEM;
    }
    if (schema->ncodes || schema->root) {
        st.gctx = agc__sch_gctx_new(ctx);
        if (!st.gctx) {
            agc_free(ctx, res);
            return AGC_ENOMEM;
        }
    }
    sch_call call = {.inst = instance};
    bool valid = agc__sch_validate(&st, schema->root, &call);
    if (st.md)
        pcre2_match_data_free(st.md);
    pcre2_general_context_free(st.gctx);
    if (st.fatal) {
        free_errors(st.errs, st.count, ctx);
        agc_free(ctx, res);
        return st.fatal;
    }
    agc_status rc = AGC_OK;
    if (!valid) {
        if (st.count)
            rc = agc_error_set(ctx, AGC_ESCHEMA, "schema", "%s: %s",
                               st.errs[0].instance_path[0] ? st.errs[0].instance_path : "(root)",
                               st.errs[0].message);
        else
            rc = agc_error_set(ctx, AGC_ESCHEMA, "schema", "(root): does not match the schema");
    }
    if (res) {
        res->valid = valid;
        res->count = st.count;
        res->errors = st.errs;
        res->truncated = st.dropped > 0;
        *out = res;
    } else {
        free_errors(st.errs, st.count, ctx);
    }
    return rc;
}
