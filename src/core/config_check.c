/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Config validation: the JSON Schema validator's findings plus the secret
 * reference check, each located ("file:line:col" or the overriding variable)
 * and sorted in source order. The secret check walks the schema alongside
 * the instance (properties, additionalProperties, items, prefixItems, local
 * $ref, allOf/anyOf/oneOf) looking for "x-agentc-secret": true. Messages
 * never include the text of a secret field; inline values are registered
 * for redaction so that they cannot leak through logs either.
 */
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/config.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "agentc/schema.h"
#include "config_int.h"

#define MOD       "config"
#define MAX_DIAGS 256

typedef struct diagv {
    agc_config_diag *v;
    size_t n, cap;
    bool truncated;
} diagv;

static void diag_clear(agc_config_diag *d, agc_ctx *ctx)
{
    agc_free(ctx, (char *)d->location);
    agc_free(ctx, (char *)d->pointer);
    agc_free(ctx, (char *)d->message);
    agc_free(ctx, (char *)d->keyword);
    agc_free(ctx, (char *)d->schema_path);
    agc_free(ctx, (char *)d->text);
}

void agc_config_report_free(agc_config_report *r, agc_ctx *ctx)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        diag_clear(&r->diags[i], ctx);
    agc_free(ctx, r->diags);
    agc_free(ctx, r);
}

static agc_status add_diag(diagv *dv, const agc_config *cfg, const char *pointer,
                           const char *message, const char *keyword, const char *schema_path,
                           agc_ctx *ctx)
{
    for (size_t i = 0; i < dv->n; i++) /* the same finding reached twice (anyOf branches) */
        if (strcmp(dv->v[i].pointer, pointer) == 0 && strcmp(dv->v[i].keyword, keyword) == 0 &&
            strcmp(dv->v[i].message, message) == 0)
            return AGC_OK;
    if (dv->n >= MAX_DIAGS) {
        dv->truncated = true;
        return AGC_OK;
    }
    if (dv->n == dv->cap) {
        size_t cap = dv->cap ? dv->cap * 2 : 8;
        agc_config_diag *v = agc_realloc(ctx, dv->v, cap * sizeof *v);
        if (!v)
            return AGC_ENOMEM;
        dv->v = v;
        dv->cap = cap;
    }
    agc_config_diag d = {0};
    agc_config_position(cfg, pointer, &d.pos);
    if (d.pos.line > 0)
        d.location = agc_sprintf(ctx, "%s:%d:%d", d.pos.file, d.pos.line, d.pos.column);
    else
        d.location = agc_strdup(ctx, d.pos.file);
    d.pointer = agc_strdup(ctx, pointer);
    d.message = agc_strdup(ctx, message);
    d.keyword = agc_strdup(ctx, keyword ? keyword : "");
    d.schema_path = agc_strdup(ctx, schema_path ? schema_path : "");
    if (d.location && d.pointer)
        d.text = agc_sprintf(ctx, "%s: %s: %s", d.location, *pointer ? pointer : "/", message);
    if (!d.location || !d.pointer || !d.message || !d.keyword || !d.schema_path || !d.text) {
        diag_clear(&d, ctx);
        return AGC_ENOMEM;
    }
    dv->v[dv->n++] = d;
    return AGC_OK;
}

/* ---- secret references ----------------------------------------------------- */

static agc_status walk(diagv *dv, const agc_config *cfg, const json_t *inst, const json_t *sch,
                       const json_t *root, agc_buf *path, int depth, agc_ctx *ctx);

static agc_status walk_child(diagv *dv, const agc_config *cfg, const json_t *inst,
                             const json_t *sch, const json_t *root, agc_buf *path, const char *key,
                             size_t index, int depth, agc_ctx *ctx)
{
    size_t base = path->len;
    agc_status st = key ? agc_json_pointer_append(path, key) : agc_buf_printf(path, "/%zu", index);
    if (st == AGC_OK)
        st = walk(dv, cfg, inst, sch, root, path, depth + 1, ctx);
    path->len = base;
    if (path->data)
        path->data[base] = '\0';
    return st;
}

static agc_status walk(diagv *dv, const agc_config *cfg, const json_t *inst, const json_t *sch,
                       const json_t *root, agc_buf *path, int depth, agc_ctx *ctx)
{
    if (depth > 64 || !json_is_object(sch))
        return AGC_OK;
    agc_status st = AGC_OK;
    const char *ref = json_string_value(json_object_get(sch, "$ref"));
    if (ref && ref[0] == '#') {
        const json_t *target = agc_json_pointer_get(root, ref + 1);
        if (target && (st = walk(dv, cfg, inst, target, root, path, depth + 1, ctx)) != AGC_OK)
            return st;
    }
    if (json_is_true(json_object_get(sch, "x-agentc-secret")) && json_is_string(inst) &&
        !agc_secret_ref_valid(json_string_value(inst))) {
        size_t n = json_string_length(inst);
        if (n >= 4) /* keep the pasted value out of every later log line */
            (void)agc_redact_add_secret(ctx, json_string_value(inst), n);
        st = add_diag(dv, cfg, agc_buf_cstr(path),
                      "secrets must be given by reference (env:NAME or file:PATH), not inline; "
                      "put the value in an environment variable and write env:NAME",
                      "x-agentc-secret", "", ctx);
        if (st != AGC_OK)
            return st;
    }
    static const char *const combos[] = {"allOf", "anyOf", "oneOf"};
    for (size_t c = 0; c < 3; c++) {
        const json_t *arr = json_object_get(sch, combos[c]);
        for (size_t i = 0; i < json_array_size(arr); i++)
            if ((st = walk(dv, cfg, inst, json_array_get(arr, i), root, path, depth + 1, ctx)) !=
                AGC_OK)
                return st;
    }
    if (json_is_object(inst)) {
        const json_t *props = json_object_get(sch, "properties");
        const json_t *addl = json_object_get(sch, "additionalProperties");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)inst, k, v)
        {
            const json_t *sub = json_object_get(props, k);
            if (!sub)
                sub = addl;
            if (sub && (st = walk_child(dv, cfg, v, sub, root, path, k, 0, depth, ctx)) != AGC_OK)
                return st;
        }
    } else if (json_is_array(inst)) {
        const json_t *prefix = json_object_get(sch, "prefixItems");
        const json_t *items = json_object_get(sch, "items");
        for (size_t i = 0; i < json_array_size(inst); i++) {
            const json_t *sub = i < json_array_size(prefix) ? json_array_get(prefix, i) : items;
            if (sub && (st = walk_child(dv, cfg, json_array_get(inst, i), sub, root, path, NULL, i,
                                        depth, ctx)) != AGC_OK)
                return st;
        }
    }
    return AGC_OK;
}

/* ---- validation ------------------------------------------------------------------- */

static int diag_cmp(const void *a, const void *b)
{
    const agc_config_diag *x = a, *y = b;
    /* source positions first, in order; overrides (line 0) after them */
    int lx = x->pos.line ? x->pos.line : 1 << 30, ly = y->pos.line ? y->pos.line : 1 << 30;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (x->pos.column != y->pos.column)
        return x->pos.column < y->pos.column ? -1 : 1;
    return strcmp(x->pointer, y->pointer);
}

static agc_status schema_findings(diagv *dv, const agc_config *cfg, const json_t *schema,
                                  agc_ctx *ctx)
{
    agc_schema_opts so = AGC_SCHEMA_OPTS_INIT;
    so.format_assert = true;
    so.max_errors = 64;
    agc_schema *sch = NULL;
    agc_status st = agc_schema_compile(&sch, schema, &so, ctx);
    if (st != AGC_OK)
        return st == AGC_ENOMEM ? st
                                : agc_error_wrap(ctx, AGC_OK, MOD,
                                                 "the built-in config schema does not compile");
    agc_schema_result *res = NULL;
    st = agc_schema_validate(&res, sch, agc_config_root(cfg), ctx);
    if (st == AGC_ESCHEMA)
        st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && res && i < res->count; i++) {
        const agc_schema_error *e = &res->errors[i];
        st = add_diag(dv, cfg, e->instance_path, e->message, e->keyword, e->schema_path, ctx);
    }
    if (st == AGC_OK && res && res->truncated)
        dv->truncated = true;
    agc_schema_result_free(res, ctx);
    agc_schema_free(sch, ctx);
    return st;
}

agc_status agc_config_validate(agc_config_report **report_out, const agc_config *cfg, agc_ctx *ctx)
{
    if (report_out)
        *report_out = NULL;
    json_t *schema = NULL;
    agc_status st = agc__config_schema_json(&schema, ctx);
    if (st != AGC_OK)
        return st;
    diagv dv = {0};
    st = schema_findings(&dv, cfg, schema, ctx);
    if (st == AGC_OK) {
        agc_buf path;
        agc_buf_init(&path, ctx, 64 * 1024);
        st = walk(&dv, cfg, agc_config_root(cfg), schema, schema, &path, 0, ctx);
        agc_buf_free(&path);
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    agc_config_report *r = NULL;
    if (st == AGC_OK && report_out) {
        r = agc_calloc(ctx, 1, sizeof *r);
        if (!r)
            st = AGC_ENOMEM;
    }
    if (st != AGC_OK) {
        for (size_t i = 0; i < dv.n; i++)
            diag_clear(&dv.v[i], ctx);
        agc_free(ctx, dv.v);
        return st;
    }
    if (dv.n > 1)
        qsort(dv.v, dv.n, sizeof *dv.v, diag_cmp);
    if (dv.n > 0) {
        st = agc_error_set(ctx, AGC_ESCHEMA, MOD, "%s%s", dv.v[0].text,
                           dv.n > 1 ? " (and more errors)" : "");
    }
    if (r) {
        r->valid = dv.n == 0;
        r->count = dv.n;
        r->diags = dv.v;
        r->truncated = dv.truncated;
        *report_out = r;
    } else {
        for (size_t i = 0; i < dv.n; i++)
            diag_clear(&dv.v[i], ctx);
        agc_free(ctx, dv.v);
    }
    return st;
}
