/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Config loading: read the file, parse YAML or JSON (with positions), apply
 * AGENTC_* overrides (remembering which variable set which pointer), then
 * validate against the embedded config schema and check that fields marked
 * "x-agentc-secret" hold references. Invariant: no message built here ever
 * contains the text of a secret field. Typed accessors are not provided:
 * read values with jansson and agc_json_pointer_get on agc_config_root().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/config.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "agentc/schema.h"
#include "config_int.h"
#include "embedded.h"

#define MOD         "config"
#define SCHEMA_FILE "schemas/config.schema.json"

extern char **environ;

struct agc_config {
    agc_ctx *ctx;
    char *source;
    json_t *root;
    json_t *posmap; /* pointer -> packed line/col */
    json_t *envmap; /* pointer -> name of the overriding variable */
};

void agc_config_opts_init(agc_config_opts *opts)
{
    agc_config_opts d = AGC_CONFIG_OPTS_INIT;
    *opts = d;
}

void agc_config_free(agc_config *cfg)
{
    if (!cfg)
        return;
    agc_ctx *ctx = cfg->ctx;
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(cfg->root);
    json_decref(cfg->posmap);
    json_decref(cfg->envmap);
    agc_json_leave(prev);
    agc_free(ctx, cfg->source);
    agc_free(ctx, cfg);
}

json_t *agc_config_root(const agc_config *cfg)
{
    return cfg ? cfg->root : NULL;
}

const char *agc_config_source(const agc_config *cfg)
{
    return cfg ? cfg->source : "";
}

agc_status agc__config_schema_json(json_t **out, agc_ctx *ctx)
{
    size_t n = 0;
    const char *text = agc__embedded_find(SCHEMA_FILE, &n);
    if (!text)
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD, "the built-in %s is missing (build error)",
                             SCHEMA_FILE);
    return agc_json_parse(out, text, n, SCHEMA_FILE, ctx);
}

/* ---- positions -------------------------------------------------------------- */

bool agc_config_position(const agc_config *cfg, const char *pointer, agc_config_pos *pos)
{
    pos->file = cfg ? cfg->source : "";
    pos->line = 0;
    pos->column = 0;
    if (!cfg || !pointer)
        return false;
    size_t plen = strlen(pointer), best = 0;
    const char *env = NULL, *k;
    json_t *v;
    json_object_foreach(cfg->envmap, k, v)
    {
        size_t kl = strlen(k);
        if (kl <= plen && memcmp(pointer, k, kl) == 0 &&
            (pointer[kl] == '\0' || pointer[kl] == '/') && (!env || kl >= best)) {
            env = json_string_value(v);
            best = kl;
        }
    }
    if (env) {
        pos->file = env;
        return true;
    }
    char tmp[1024];
    if (plen >= sizeof tmp)
        plen = sizeof tmp - 1;
    memcpy(tmp, pointer, plen);
    tmp[plen] = '\0';
    for (;;) {
        json_t *p = json_object_get(cfg->posmap, tmp);
        if (p) {
            pos->line = AGC__POS_LINE(json_integer_value(p));
            pos->column = AGC__POS_COL(json_integer_value(p));
            return true;
        }
        char *slash = strrchr(tmp, '/');
        if (!slash)
            return false;
        *slash = '\0';
    }
}

/* ---- parsing ---------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static agc_status parse_doc(agc_config *cfg, const char *text, size_t len, const char *format)
{
    agc_ctx *ctx = cfg->ctx;
    bool json = false, fallback = false;
    if (format && strcmp(format, "json") == 0) {
        json = true;
    } else if (format && strcmp(format, "yaml") == 0) {
        json = false;
    } else if (format) {
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown format \"%.32s\"; use yaml or json",
                             format);
    } else if (ends_with(cfg->source, ".json")) {
        json = true;
    } else if (!ends_with(cfg->source, ".yaml") && !ends_with(cfg->source, ".yml")) {
        size_t i = 0;
        while (i < len && strchr(" \t\r\n", text[i]))
            i++;
        json = fallback = i < len && (text[i] == '{' || text[i] == '[');
    }
    agc_status st;
    if (json) {
        st = agc_json_parse(&cfg->root, text, len, cfg->source, ctx);
        if (st == AGC_OK)
            return agc__json_positions(cfg->posmap, text, len, ctx);
        if (st != AGC_EPARSE || !fallback)
            return st;
        /* sniffed as JSON but is not: a YAML flow document? */
    }
    return agc__yaml_parse(&cfg->root, cfg->posmap, text, len, cfg->source, ctx);
}

/* ---- environment overrides ------------------------------------------------- */

typedef struct override {
    const char *name; /* "AGENTC_PROVIDER__MODEL" (not NUL-terminated at '=') */
    size_t name_len;
    const char *value;
} override;

static int override_cmp(const void *a, const void *b)
{
    const override *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* Builds the pointer for one variable into b; false when it is not an override. */
static bool override_pointer(agc_buf *b, const override *o, const json_t *props, agc_status *st)
{
    const char *p = o->name + 7, *end = o->name + o->name_len; /* after "AGENTC_" */
    bool first = true;
    char seg[256];
    *st = AGC_OK;
    while (p <= end) {
        const char *sep = p;
        while (sep < end && !(sep + 1 < end && sep[0] == '_' && sep[1] == '_'))
            sep++;
        size_t n = (size_t)(sep - p);
        if (n == 0 || n >= sizeof seg)
            return false;
        for (size_t i = 0; i < n; i++)
            seg[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
        seg[n] = '\0';
        if (first && !json_object_get(props, seg))
            return false;
        first = false;
        if ((*st = agc_json_pointer_append(b, seg)) != AGC_OK)
            return false;
        if (sep >= end)
            break;
        p = sep + 2;
    }
    return true;
}

static agc_status apply_overrides(agc_config *cfg, const agc_config_opts *o)
{
    agc_ctx *ctx = cfg->ctx;
    const char *const *env = o->env ? o->env : (const char *const *)environ;
    size_t n = 0;
    for (size_t i = 0; env && env[i]; i++)
        n += strncmp(env[i], "AGENTC_", 7) == 0;
    if (n == 0)
        return AGC_OK;
    override *ov = agc_calloc(ctx, n, sizeof *ov);
    if (!ov)
        return AGC_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        /* AGENTC_AUDIT is the audit trail path (agentc audit, run), not the audit section */
        if (strncmp(env[i], "AGENTC_", 7) != 0 || !eq || strncmp(env[i], "AGENTC_AUDIT=", 13) == 0)
            continue;
        ov[k++] = (override){env[i], (size_t)(eq - env[i]), eq + 1};
    }
    qsort(ov, k, sizeof *ov, override_cmp);
    json_t *schema = NULL; /* its top-level properties tell overrides from other variables */
    agc_status st = agc__config_schema_json(&schema, ctx);
    const json_t *props = json_object_get(schema, "properties");
    agc_buf ptr;
    agc_buf_init(&ptr, ctx, 4096);
    for (size_t i = 0; i < k && st == AGC_OK; i++) {
        agc_buf_clear(&ptr);
        if (!override_pointer(&ptr, &ov[i], props, &st))
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)ov[i].name_len, ov[i].name);
        agc_ctx *prev = agc_json_enter(ctx);
        json_t *v = json_loads(ov[i].value, JSON_DECODE_ANY, NULL);
        if (!v && !agc_json_oom(ctx))
            v = json_string(ov[i].value);
        bool oom = agc_json_oom(ctx);
        if (oom)
            json_decref(v);
        agc_json_leave(prev);
        if (oom) {
            st = agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory applying %s", name);
            break;
        }
        if (!v) {
            st =
                agc_error_set(ctx, AGC_EINVAL, MOD, "%s is not valid UTF-8; fix or unset it", name);
            break;
        }
        prev = agc_json_enter(ctx);
        st = agc_json_pointer_set(cfg->root, agc_buf_cstr(&ptr), v, ctx);
        if (st == AGC_OK) {
            json_t *s = json_string(name);
            if (!s || json_object_set_new(cfg->envmap, agc_buf_cstr(&ptr), s) != 0)
                st = agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory applying %s", name);
        } else if (st != AGC_ENOMEM) {
            st =
                agc_error_wrap(ctx, AGC_EINVAL, MOD, "%s: cannot set %s; fix or unset the variable",
                               name, agc_buf_cstr(&ptr));
        }
        agc_json_leave(prev);
    }
    agc_buf_free(&ptr);
    agc_free(ctx, ov);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    return st;
}

/* ---- load ------------------------------------------------------------------------ */

static agc_status finish_load(agc_config *cfg, const char *text, size_t len,
                              const agc_config_opts *o)
{
    agc_ctx *ctx = cfg->ctx;
    agc_ctx *prev = agc_json_enter(ctx);
    cfg->posmap = json_object();
    cfg->envmap = json_object();
    agc_json_leave(prev);
    if (!cfg->posmap || !cfg->envmap)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory loading %s", cfg->source);
    agc_status st = parse_doc(cfg, text, len, o->format);
    if (st != AGC_OK)
        return st;
    if (!o->no_env)
        st = apply_overrides(cfg, o);
    if (st == AGC_OK && !o->no_validate)
        st = agc_config_validate(NULL, cfg, ctx);
    return st;
}

agc_status agc_config_parse(agc_config **out, const char *text, size_t len, const char *source,
                            const agc_config_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_config_opts o = AGC_CONFIG_OPTS_INIT;
    if (opts) {
        if (opts->version != AGC_CONFIG_OPTS_VERSION)
            return agc_error_set(ctx, AGC_EINVAL, MOD,
                                 "unknown agc_config_opts version %u; use AGC_CONFIG_OPTS_INIT",
                                 opts->version);
        o = *opts;
    }
    agc_config *cfg = agc_calloc(ctx, 1, sizeof *cfg);
    if (!cfg)
        return AGC_ENOMEM;
    cfg->ctx = ctx;
    cfg->source = agc_strdup(ctx, source ? source : "<input>");
    agc_status st = cfg->source ? finish_load(cfg, text, len, &o) : AGC_ENOMEM;
    if (st != AGC_OK) {
        agc_config_free(cfg);
        return st;
    }
    *out = cfg;
    return AGC_OK;
}

agc_status agc_config_load(agc_config **out, const char *path, const agc_config_opts *opts,
                           agc_ctx *ctx)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return agc_error_set(ctx, e == ENOENT ? AGC_ENOTFOUND : AGC_EIO, MOD, "cannot open %s: %s",
                             path, strerror(e));
    }
    agc_buf b;
    agc_buf_init(&b, ctx, AGC_CONFIG_MAX_BYTES);
    char chunk[8192];
    size_t n;
    agc_status st = AGC_OK;
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = agc_buf_append(&b, chunk, n);
    if (st == AGC_OK && ferror(f))
        st = agc_error_set(ctx, AGC_EIO, MOD, "cannot read %s: %s", path, strerror(errno));
    else if (st == AGC_ELIMIT)
        st = agc_error_set(ctx, AGC_ELIMIT, MOD, "%s is larger than %d bytes; not a config file",
                           path, AGC_CONFIG_MAX_BYTES);
    fclose(f);
    if (st == AGC_OK)
        st = agc_config_parse(out, agc_buf_cstr(&b), b.len, path, opts, ctx);
    agc_buf_free(&b);
    return st;
}

agc_status agc_config_to_yaml(char **out, const json_t *v, agc_ctx *ctx)
{
    *out = NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = agc__yaml_emit(&b, v, ctx);
    if (st == AGC_OK) {
        *out = agc_buf_detach(&b, NULL);
        if (!*out)
            st = AGC_ENOMEM;
    }
    agc_buf_free(&b);
    return st;
}

agc_status agc_config_secret(agc_secret **out, const agc_config *cfg, const char *pointer,
                             agc_ctx *ctx)
{
    *out = NULL;
    agc_config_pos pos;
    agc_config_position(cfg, pointer, &pos);
    char where[512];
    if (pos.line > 0)
        snprintf(where, sizeof where, "%s:%d:%d: %s", pos.file, pos.line, pos.column, pointer);
    else
        snprintf(where, sizeof where, "%s: %s", pos.file, pointer);
    json_t *v = agc_json_pointer_get(cfg->root, pointer);
    if (!v)
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                             "%s is not set; add it as env:NAME or file:PATH", where);
    if (!json_is_string(v) || !agc_secret_ref_valid(json_string_value(v)))
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "%s: secrets must be given by reference (env:NAME or file:PATH), not "
                             "inline",
                             where);
    agc_status st = agc_secret_from_ref(out, json_string_value(v), ctx);
    if (st != AGC_OK && st != AGC_ENOMEM)
        agc_error_wrap(ctx, st, MOD, "%s", where);
    return st;
}
