/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tool policies: a YAML/JSON object checked against the shipped schema
 * (schemas/sandbox-policy.schema.json, "agentc:sandbox-policy.schema.json"),
 * then turned into an agc_sandbox_policy with absolute, existing paths.
 * Invariant: deny by default; an unknown key, a bad value or a missing path
 * is an error naming file:line:col (files) or the JSON pointer.
 * allowed_hosts is not interpreted here: the HTTP gate validates it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agentc/alloc.h"
#include "agentc/config.h"
#include "agentc/schema.h"
#include "worker_int.h"

#define MOD        "sandbox"
#define SCHEMA_URI "agentc:sandbox-policy.schema.json"

const char *agc_sandbox_mode_name(agc_sandbox_mode m)
{
    return m == AGC_SANDBOX_FRESH ? "fresh" : m == AGC_SANDBOX_POOL ? "pool" : "inprocess";
}

void agc_sandbox_tool_opts_init(agc_sandbox_tool_opts *o)
{
    agc_sandbox_tool_opts d = AGC_SANDBOX_TOOL_OPTS_INIT;
    *o = d;
}

agc_status agc_sandbox_policy_new(agc_sandbox_policy **out, agc_ctx *ctx)
{
    agc_sandbox_policy *p = agc_calloc(ctx, 1, sizeof *p);
    *out = p;
    if (!p)
        return AGC_ENOMEM;
    p->memory_mb = 64;
    p->timeout_ms = 5000;
    p->max_output_kb = 1024;
    p->max_open_files = 64;
    p->max_http_requests = 16;
    p->landlock = AGC_JAIL_BEST_EFFORT;
    p->namespaces = AGC_JAIL_BEST_EFFORT;
    p->mode = AGC_SANDBOX_POOL;
    p->pool_size = 1;
    p->pool_max_calls = 100;
    return AGC_OK;
}

void agc_sandbox_policy_free(agc_sandbox_policy *p, agc_ctx *ctx)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_paths; i++) {
        agc_free(ctx, p->paths[i].host);
        agc_free(ctx, p->paths[i].guest);
    }
    agc_free(ctx, p->paths);
    for (size_t i = 0; i < p->n_env; i++)
        agc_free(ctx, p->env[i]);
    agc_free(ctx, p->env);
    json_decref(p->allowed_hosts);
    agc_free(ctx, p->entry);
    agc_free(ctx, p);
}

static agc_status schema_check(const json_t *obj, const char *where, agc_ctx *ctx,
                               agc_schema_result **res_out)
{
    json_t *doc = agc_schema_builtin(SCHEMA_URI, ctx);
    if (!doc)
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD, "the policy schema is not built in");
    agc_schema *s = NULL;
    agc_status st = agc_schema_compile(&s, doc, NULL, ctx);
    json_decref(doc);
    if (st != AGC_OK)
        return st;
    st = agc_schema_validate(res_out, s, obj, ctx);
    agc_schema_free(s, ctx);
    if (st == AGC_ESCHEMA && where && !*res_out)
        st = agc_error_wrap(ctx, AGC_ESCHEMA, MOD, "%s: invalid sandbox policy", where);
    return st;
}

static agc_jail_mode jail_mode(const char *s)
{
    return !strcmp(s, "required") ? AGC_JAIL_REQUIRED
           : !strcmp(s, "off")    ? AGC_JAIL_OFF
                                  : AGC_JAIL_BEST_EFFORT;
}

static uint32_t u32_of(const json_t *o, const char *key, uint32_t dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (uint32_t)json_integer_value(v) : dflt;
}

static agc_status add_path(agc_sandbox_policy *p, const char *spec, size_t idx,
                           const char *base_dir, const char *where, agc_ctx *ctx)
{
    bool rw = strncmp(spec, "rw:", 3) == 0;
    const char *rest = spec + 3;
    const char *eq = strchr(rest, '=');
    size_t hl = eq ? (size_t)(eq - rest) : strlen(rest);
    char host[PATH_MAX], real[PATH_MAX];
    int n = rest[0] == '/' || !base_dir
                ? snprintf(host, sizeof host, "%.*s", (int)hl, rest)
                : snprintf(host, sizeof host, "%s/%.*s", base_dir, (int)hl, rest);
    if (n < 0 || (size_t)n >= sizeof host)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s%s/allowed_paths/%zu: path too long",
                             where ? where : "", where ? ": " : "", idx);
    struct stat sb;
    if (!realpath(host, real) || stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD,
                             "%s%s/allowed_paths/%zu: %s is not an existing directory (%s)",
                             where ? where : "", where ? ": " : "", idx, host,
                             errno ? strerror(errno) : "not a directory");
    agc_sandbox_path *e = &p->paths[p->n_paths];
    e->writable = rw;
    e->host = agc_strdup(ctx, real);
    e->guest = agc_strdup(ctx, eq && eq[1] ? eq + 1 : real);
    if (!e->host || !e->guest) {
        agc_free(ctx, e->host);
        agc_free(ctx, e->guest);
        return AGC_ENOMEM;
    }
    p->n_paths++;
    return AGC_OK;
}

static agc_status fill(agc_sandbox_policy *p, const json_t *o, const char *base_dir,
                       const char *where, agc_ctx *ctx)
{
    p->memory_mb = u32_of(o, "memory_mb", p->memory_mb);
    p->timeout_ms = u32_of(o, "timeout_ms", p->timeout_ms);
    p->max_output_kb = u32_of(o, "max_output_kb", p->max_output_kb);
    p->cpu_ms = u32_of(o, "cpu_ms", p->cpu_ms);
    p->max_write_kb = u32_of(o, "max_write_kb", p->max_write_kb);
    p->max_open_files = u32_of(o, "max_open_files", p->max_open_files);
    p->max_http_requests = u32_of(o, "max_http_requests", p->max_http_requests);
    const json_t *v;
    if ((v = json_object_get(o, "landlock")))
        p->landlock = jail_mode(json_string_value(v));
    if ((v = json_object_get(o, "namespaces")))
        p->namespaces = jail_mode(json_string_value(v));
    p->network_namespace = json_is_true(json_object_get(o, "network_namespace"));
    if ((v = json_object_get(o, "mode"))) {
        const char *m = json_string_value(v);
        p->mode = !strcmp(m, "fresh")  ? AGC_SANDBOX_FRESH
                  : !strcmp(m, "pool") ? AGC_SANDBOX_POOL
                                       : AGC_SANDBOX_INPROCESS;
    }
    if ((v = json_object_get(o, "pool"))) {
        p->pool_size = u32_of(v, "size", p->pool_size);
        p->pool_max_calls = u32_of(v, "max_calls", p->pool_max_calls);
    }
    if ((v = json_object_get(o, "entry")) && !(p->entry = agc_strdup(ctx, json_string_value(v))))
        return AGC_ENOMEM;
    if ((v = json_object_get(o, "allowed_hosts")) && json_array_size(v))
        p->allowed_hosts = json_deep_copy(v);
    const json_t *paths = json_object_get(o, "allowed_paths");
    size_t np = json_array_size(paths), ne = json_array_size(json_object_get(o, "env"));
    p->paths = agc_calloc(ctx, np + 1, sizeof *p->paths);
    p->env = agc_calloc(ctx, ne + 1, sizeof *p->env);
    if (!p->paths || !p->env)
        return AGC_ENOMEM;
    agc_status st = AGC_OK;
    for (size_t i = 0; i < np && st == AGC_OK; i++)
        st = add_path(p, json_string_value(json_array_get(paths, i)), i, base_dir, where, ctx);
    for (size_t i = 0; i < ne && st == AGC_OK; i++) {
        p->env[i] =
            agc_strdup(ctx, json_string_value(json_array_get(json_object_get(o, "env"), i)));
        st = p->env[i] ? AGC_OK : AGC_ENOMEM;
        p->n_env += st == AGC_OK;
    }
    return st;
}

agc_status agc_sandbox_policy_from_json(agc_sandbox_policy **out, const json_t *obj,
                                        const char *base_dir, const char *where, agc_ctx *ctx)
{
    *out = NULL;
    agc_schema_result *res = NULL;
    agc_status st = schema_check(obj, where, ctx, &res);
    if (st == AGC_ESCHEMA && res && res->count)
        st = agc_error_set(ctx, AGC_ESCHEMA, MOD, "%s%ssandbox policy %s: %s", where ? where : "",
                           where ? ": " : "",
                           res->errors[0].instance_path[0] ? res->errors[0].instance_path : "/",
                           res->errors[0].message);
    agc_schema_result_free(res, ctx);
    if (st != AGC_OK)
        return st;
    agc_sandbox_policy *p = NULL;
    st = agc_sandbox_policy_new(&p, ctx);
    st = st ? st : fill(p, obj, base_dir, where, ctx);
    if (st != AGC_OK) {
        agc_sandbox_policy_free(p, ctx);
        return st;
    }
    *out = p;
    return AGC_OK;
}

agc_status agc_sandbox_policy_load(agc_sandbox_policy **out, const char *path, agc_ctx *ctx)
{
    *out = NULL;
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    co.no_validate = true;
    agc_config *cfg = NULL;
    agc_status st = agc_config_load(&cfg, path, &co, ctx);
    if (st != AGC_OK)
        return st;
    const json_t *root = agc_config_root(cfg);
    agc_schema_result *res = NULL;
    st = json_is_object(root)
             ? schema_check(root, NULL, ctx, &res)
             : agc_error_set(ctx, AGC_ESCHEMA, MOD, "%s: a sandbox policy is a mapping of settings",
                             path);
    if (st == AGC_ESCHEMA && res && res->count) {
        const agc_schema_error *e = &res->errors[0];
        agc_config_pos pos;
        char ptr[512];
        const char *q = strchr(e->message, '\'');
        const char *q2 = q ? strchr(q + 1, '\'') : NULL;
        if (q2 && strcmp(e->keyword, "additionalProperties") == 0) /* point at the key itself */
            snprintf(ptr, sizeof ptr, "%s/%.*s", e->instance_path, (int)(q2 - q - 1), q + 1);
        else
            snprintf(ptr, sizeof ptr, "%s", e->instance_path);
        agc_config_position(cfg, ptr, &pos);
        st = agc_error_set(ctx, AGC_ESCHEMA, MOD, "%s:%d:%d: %s: %s", pos.file, pos.line,
                           pos.column, e->instance_path[0] ? e->instance_path : "/", e->message);
    }
    agc_schema_result_free(res, ctx);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    if (st == AGC_OK) {
        agc_sandbox_policy *p = NULL;
        st = agc_sandbox_policy_new(&p, ctx);
        st = st ? st : fill(p, root, slash == dir ? "/" : dir, path, ctx);
        if (st != AGC_OK)
            agc_sandbox_policy_free(p, ctx);
        else
            *out = p;
    }
    agc_config_free(cfg);
    return st;
}

agc_status agc__sandbox_policy_copy(agc_sandbox_policy **out, const agc_sandbox_policy *src,
                                    agc_ctx *ctx)
{
    agc_sandbox_policy *p = agc_calloc(ctx, 1, sizeof *p);
    *out = NULL;
    if (!p)
        return AGC_ENOMEM;
    *p = *src;
    p->paths = agc_calloc(ctx, src->n_paths + 1, sizeof *p->paths);
    p->env = agc_calloc(ctx, src->n_env + 1, sizeof *p->env);
    p->n_paths = p->n_env = 0;
    p->entry = src->entry ? agc_strdup(ctx, src->entry) : NULL;
    p->allowed_hosts = src->allowed_hosts ? json_deep_copy(src->allowed_hosts) : NULL;
    bool ok = p->paths && p->env && (!src->entry || p->entry) &&
              (!src->allowed_hosts || p->allowed_hosts);
    for (size_t i = 0; ok && i < src->n_paths; i++) {
        agc_sandbox_path *d = &p->paths[i];
        d->writable = src->paths[i].writable;
        d->host = agc_strdup(ctx, src->paths[i].host);
        d->guest = agc_strdup(ctx, src->paths[i].guest ? src->paths[i].guest : src->paths[i].host);
        p->n_paths++;
        ok = d->host && d->guest;
    }
    for (size_t i = 0; ok && i < src->n_env; i++) {
        p->env[i] = agc_strdup(ctx, src->env[i]);
        p->n_env += p->env[i] != NULL;
        ok = p->env[i] != NULL;
    }
    if (!ok) {
        agc_sandbox_policy_free(p, ctx);
        return AGC_ENOMEM;
    }
    *out = p;
    return AGC_OK;
}
