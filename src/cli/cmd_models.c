/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc models [--json]`: the provider presets (name, wire, base URL, key
 * variable, notes) and the shipped price table (USD per million tokens), as
 * aligned text or one JSON document. Reads only built-in tables: no network,
 * no keys (it names key variables, never reads them).
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/provider.h"
#include "cli.h"

#define USAGE "models [--json]"

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void base_url_text(char *buf, size_t size, const agc_preset_info *p)
{
    if (p->base_url)
        snprintf(buf, size, "%s", p->base_url);
    else if (p->base_url_env)
        snprintf(buf, size, "(from %s)", p->base_url_env);
    else
        snprintf(buf, size, "-");
}

static void key_text(char *buf, size_t size, const agc_preset_info *p)
{
    if (!p->key_env)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%s%s", p->key_env, p->key_required ? "" : " (optional)");
}

static void print_presets(void)
{
    int wn = 4, ww = 4, wu = 8, wk = 3;
    char url[256], key[128];
    for (const agc_preset_info *p = agc_provider_presets(); p->name; p++) {
        base_url_text(url, sizeof url, p);
        key_text(key, sizeof key, p);
        wn = (int)strlen(p->name) > wn ? (int)strlen(p->name) : wn;
        ww = (int)strlen(p->wire) > ww ? (int)strlen(p->wire) : ww;
        wu = (int)strlen(url) > wu ? (int)strlen(url) : wu;
        wk = (int)strlen(key) > wk ? (int)strlen(key) : wk;
    }
    printf("Providers (--provider NAME; *_BASE_URL variables override the base URL)\n");
    printf("  %-*s  %-*s  %-*s  %-*s  %s\n", wn, "NAME", ww, "WIRE", wu, "BASE URL", wk, "KEY",
           "NOTES");
    for (const agc_preset_info *p = agc_provider_presets(); p->name; p++) {
        base_url_text(url, sizeof url, p);
        key_text(key, sizeof key, p);
        printf("  %-*s  %-*s  %-*s  %-*s  %s\n", wn, p->name, ww, p->wire, wu, url, wk, key,
               or_dash(p->notes));
    }
}

static void price_cell(char *buf, size_t size, const json_t *e, const char *field)
{
    const json_t *v = json_object_get(e, field);
    if (json_is_number(v))
        snprintf(buf, size, "%g", json_number_value(v));
    else
        snprintf(buf, size, "-");
}

static void print_prices(const json_t *table)
{
    const json_t *models = json_object_get(table, "models");
    int wm = 5;
    const char *name;
    json_t *e;
    json_object_foreach((json_t *)models, name, e)
    {
        wm = (int)strlen(name) > wm ? (int)strlen(name) : wm;
    }
    printf("\nPrices (USD per million tokens; '-' is billed at the input price; override "
           "under provider.prices)\n");
    printf("  %-*s  %8s  %8s  %12s  %11s\n", wm, "MODEL", "INPUT", "OUTPUT", "CACHED INPUT",
           "CACHE WRITE");
    json_object_foreach((json_t *)models, name, e)
    {
        char in[32], out[32], cached[32], write[32];
        price_cell(in, sizeof in, e, "input");
        price_cell(out, sizeof out, e, "output");
        price_cell(cached, sizeof cached, e, "cached_input");
        price_cell(write, sizeof write, e, "cache_write");
        printf("  %-*s  %8s  %8s  %12s  %11s\n", wm, name, in, out, cached, write);
    }
}

static json_t *presets_json(void)
{
    json_t *a = json_array();
    for (const agc_preset_info *p = agc_provider_presets(); a && p->name; p++) {
        json_t *o =
            json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b, s:s?}", "name", p->name, "wire", p->wire,
                      "base_url", p->base_url, "key_env", p->key_env, "base_url_env",
                      p->base_url_env, "key_required", p->key_required, "notes", p->notes);
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int agc_cmd_models(int argc, char **argv)
{
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: agentc %s\n", USAGE);
            return AGC_CLI_OK;
        } else
            return agc_cli_usage(USAGE);
    }
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    int rc = AGC_CLI_FAIL;
    json_t *table = agc_price_table(ctx);
    if (!table) {
        agc_cli_error(ctx, "cannot read the price table");
        goto done;
    }
    if (!as_json) {
        print_presets();
        print_prices(table);
        rc = fflush(stdout) == 0 ? AGC_CLI_OK : AGC_CLI_FAIL;
        goto done;
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *presets = presets_json();
    json_t *doc = presets ? json_pack("{s:o, s:O}", "presets", presets, "prices", table) : NULL;
    agc_json_leave(prev);
    char *text = NULL;
    if (!doc || agc_json_dump(&text, doc, JSON_INDENT(2), ctx) != AGC_OK) {
        agc_cli_error(ctx, "out of memory");
    } else {
        printf("%s\n", text);
        rc = fflush(stdout) == 0 ? AGC_CLI_OK : AGC_CLI_FAIL;
    }
    agc_free(ctx, text);
    json_decref(doc);
done:
    json_decref(table);
    agc_ctx_free(ctx);
    return rc;
}
