/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Model prices: the shipped table (data/prices.json, embedded) plus caller
 * overrides, matched by exact id, then longest prefix, then without an
 * "org/" prefix (OpenRouter names). Cost comes only from usage reported on
 * the wire; with no usage the cost is unknown, never estimated.
 */
#include <string.h>

#include "agentc/json.h"
#include "agentc/provider.h"
#include "core/embedded.h"

json_t *agc_price_table(agc_ctx *ctx)
{
    size_t len = 0;
    const char *text = agc__embedded_find("data/prices.json", &len);
    json_t *v = NULL;
    if (!text) {
        agc_error_set(ctx, AGC_ENOTFOUND, "price", "the price table was not built in");
        return NULL;
    }
    if (agc_json_parse(&v, text, len, "data/prices.json", ctx) != AGC_OK)
        return NULL;
    return v;
}

static const json_t *best_match(const json_t *models, const char *model)
{
    const json_t *exact = json_object_get(models, model);
    if (exact)
        return exact;
    const char *key;
    json_t *v;
    const json_t *best = NULL;
    size_t best_len = 0;
    json_object_foreach((json_t *)models, key, v)
    {
        size_t n = strlen(key);
        if (n > best_len && strncmp(model, key, n) == 0 &&
            (model[n] == '-' || model[n] == ':' || model[n] == '@' || model[n] == '.')) {
            best = v;
            best_len = n;
        }
    }
    return best;
}

static bool fill(agc_price *out, const json_t *e)
{
    if (!json_is_object(e) || !json_is_number(json_object_get(e, "input")) ||
        !json_is_number(json_object_get(e, "output")))
        return false;
    out->input_per_mtok = agc_json_num(e, "input", 0);
    out->output_per_mtok = agc_json_num(e, "output", 0);
    out->cached_input_per_mtok = agc_json_num(e, "cached_input", -1);
    out->cache_write_per_mtok = agc_json_num(e, "cache_write", -1);
    return true;
}

agc_status agc_price_lookup(agc_price *out, const char *model, const json_t *overrides,
                            agc_ctx *ctx)
{
    const char *names[2] = {model, NULL};
    const char *slash = strrchr(model, '/');
    if (slash && slash[1])
        names[1] = slash + 1;
    for (int i = 0; i < 2 && names[i]; i++) {
        if (overrides && fill(out, best_match(overrides, names[i])))
            return AGC_OK;
    }
    json_t *table = agc_price_table(ctx);
    if (!table)
        return agc_ctx_last_error(ctx)->code;
    const json_t *models = json_object_get(table, "models");
    bool ok = false;
    for (int i = 0; i < 2 && names[i] && !ok; i++)
        ok = fill(out, best_match(models, names[i]));
    json_decref(table);
    if (!ok)
        return agc_error_set(ctx, AGC_ENOTFOUND, "price",
                             "no price known for model '%s'; add it under provider.prices", model);
    return AGC_OK;
}

bool agc_price_cost(const agc_price *p, const agc_usage *u, double *cost_usd)
{
    if (!u->known)
        return false;
    double cached_rate =
        p->cached_input_per_mtok >= 0 ? p->cached_input_per_mtok : p->input_per_mtok;
    double write_rate = p->cache_write_per_mtok >= 0 ? p->cache_write_per_mtok : p->input_per_mtok;
    long long cached = u->cached_input_tokens;
    long long uncached = u->input_tokens - cached - u->cache_write_tokens;
    if (uncached < 0)
        uncached = 0;
    *cost_usd = ((double)uncached * p->input_per_mtok + (double)cached * cached_rate +
                 (double)u->cache_write_tokens * write_rate +
                 (double)u->output_tokens * p->output_per_mtok) /
                1e6;
    return true;
}
