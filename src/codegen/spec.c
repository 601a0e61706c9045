/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Specs for generation: OpenAPI 3.x (YAML or JSON), JSON Schema and .proto
 * files loaded into one model of types (with their JSON Schemas and
 * examples) and operations (id, handler name, method, path, resource,
 * request and response types). The .proto reader understands package,
 * message (scalar, repeated and message-typed fields; nested bodies are
 * skipped), enum and service/rpc; it is not a full protobuf parser. Strings
 * live in one arena; the document is a private copy. Planning and checking
 * generated code are in spec_plan.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/config.h"
#include "agentc/json.h"
#include "spec_int.h"

const char *agc_spec_kind(const agc_spec *spec)
{
    return spec->kind;
}
const char *agc_spec_title(const agc_spec *spec)
{
    return spec->title;
}
size_t agc_spec_type_count(const agc_spec *spec)
{
    return spec->n_types;
}
const agc_spec_type *agc_spec_type_at(const agc_spec *spec, size_t i)
{
    return i < spec->n_types ? &spec->types[i] : NULL;
}
size_t agc_spec_op_count(const agc_spec *spec)
{
    return spec->n_ops;
}
const agc_spec_op *agc_spec_op_at(const agc_spec *spec, size_t i)
{
    return i < spec->n_ops ? &spec->ops[i] : NULL;
}

void agc_spec_free(agc_spec *spec)
{
    if (!spec)
        return;
    agc_ctx *ctx = spec->ctx;
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(spec->doc);
    json_decref(spec->owned);
    agc_json_leave(prev);
    agc_free(ctx, spec->types);
    agc_free(ctx, spec->ops);
    agc_arena_free(spec->arena);
    agc_free(ctx, spec);
}

char *agc__spec_snake(agc_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *o = agc_arena_alloc(a, 2 * n + 2);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c)) {
            if (k > 0 && o[k - 1] != '_' &&
                (islower((unsigned char)s[i - 1]) || isdigit((unsigned char)s[i - 1]) ||
                 (i + 1 < n && islower((unsigned char)s[i + 1]))))
                o[k++] = '_';
            o[k++] = (char)tolower(c);
        } else if (isalnum(c)) {
            o[k++] = (char)c;
        } else if (k > 0 && o[k - 1] != '_') {
            o[k++] = '_';
        }
    }
    while (k > 0 && o[k - 1] == '_')
        k--;
    o[k] = '\0';
    if (k == 0 || isdigit((unsigned char)o[0])) {
        memmove(o + 1, o, k + 1);
        o[0] = '_';
    }
    return o;
}

static agc_status add_type(agc_spec *s, const char *name, const json_t *schema, agc_spec_type **out)
{
    for (size_t i = 0; i < s->n_types; i++)
        if (strcmp(s->types[i].name, name) == 0) {
            if (out)
                *out = &s->types[i];
            return AGC_OK;
        }
    agc_spec_type *nt = agc_realloc(s->ctx, s->types, (s->n_types + 1) * sizeof *nt);
    if (!nt)
        return AGC_ENOMEM;
    s->types = nt;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *ex = json_array();
    bool oom = !ex || json_array_append_new(s->owned, ex) != 0;
    agc_json_leave(prev);
    const char *nm = agc_arena_strdup(s->arena, name);
    if (oom || !nm)
        return AGC_ENOMEM;
    nt[s->n_types] = (agc_spec_type){nm, schema, ex};
    if (out)
        *out = &nt[s->n_types];
    s->n_types++;
    return AGC_OK;
}

static agc_status add_example(agc_spec *s, agc_spec_type *t, const json_t *ex)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    int rc = json_array_append((json_t *)t->examples, (json_t *)ex);
    agc_json_leave(prev);
    return rc == 0 ? AGC_OK : AGC_ENOMEM;
}

/* "#/components/schemas/Pet" -> "Pet"; an array of refs -> the item's name. */
static const char *ref_name(const json_t *schema)
{
    const char *ref = agc_json_str(schema, "$ref", NULL);
    if (!ref) {
        const json_t *items = json_object_get(schema, "items");
        ref = items ? agc_json_str(items, "$ref", NULL) : NULL;
    }
    if (!ref)
        return NULL;
    const char *sl = strrchr(ref, '/');
    return sl ? sl + 1 : ref;
}

static const json_t *json_media(const json_t *content)
{
    const json_t *m = json_object_get(content, "application/json");
    if (!m) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)content, k, v)
        {
            return v;
        }
    }
    return m;
}

static agc_status load_openapi(agc_spec *s)
{
    const json_t *doc = s->doc;
    s->kind = "openapi";
    const char *title = agc_json_str(json_object_get(doc, "info"), "title", "api");
    s->title = agc_arena_strdup(s->arena, title);
    const json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    const char *name;
    json_t *sch;
    agc_status st = s->title ? AGC_OK : AGC_ENOMEM;
    json_object_foreach((json_t *)schemas, name, sch)
    {
        agc_spec_type *t = NULL;
        if (st == AGC_OK)
            st = add_type(s, name, sch, &t);
        const json_t *ex = json_object_get(sch, "example");
        if (st == AGC_OK && ex)
            st = add_example(s, t, ex);
        const json_t *exs = json_object_get(sch, "examples");
        size_t i;
        json_t *e;
        if (json_is_array(exs))
            json_array_foreach(exs, i, e) if (st == AGC_OK) st = add_example(s, t, e);
    }
    static const char *const methods[] = {"get", "post", "put", "patch", "delete", NULL};
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t m = 0; st == AGC_OK && methods[m]; m++) {
            const json_t *op = json_object_get(item, methods[m]);
            if (!json_is_object(op))
                continue;
            agc_spec_op *no = agc_realloc(s->ctx, s->ops, (s->n_ops + 1) * sizeof *no);
            if (!no)
                return AGC_ENOMEM;
            s->ops = no;
            agc_spec_op *o = &no[s->n_ops];
            memset(o, 0, sizeof *o);
            const char *id = agc_json_str(op, "operationId", NULL);
            char *derived = NULL;
            if (!id) {
                derived = agc_arena_sprintf(s->arena, "%s_%s", methods[m], path);
                for (char *p = derived; p && *p; p++)
                    if (*p == '{')
                        *p = ' '; /* "{id}" -> "by id" below */
                id = derived;
            }
            o->id = agc_arena_strdup(s->arena, id);
            o->handler = agc__spec_snake(s->arena, id);
            char up[8];
            size_t k = 0;
            for (; methods[m][k] && k < 7; k++)
                up[k] = (char)toupper((unsigned char)methods[m][k]);
            up[k] = '\0';
            o->method = agc_arena_strdup(s->arena, up);
            o->path = agc_arena_strdup(s->arena, path);
            o->summary = agc_arena_strdup(s->arena, agc_json_str(op, "summary", ""));
            const json_t *tags = json_object_get(op, "tags");
            const char *res = json_string_value(json_array_get(tags, 0));
            char seg[128] = "default";
            if (!res) {
                const char *p = path;
                while (*p == '/')
                    p++;
                size_t sl = strcspn(p, "/");
                if (sl > 0 && sl < sizeof seg && *p != '{')
                    snprintf(seg, sizeof seg, "%.*s", (int)sl, p);
                res = seg;
            }
            o->resource = agc__spec_snake(s->arena, res);
            const json_t *body = json_object_get(json_object_get(op, "requestBody"), "content");
            const json_t *bm = body ? json_media(body) : NULL;
            o->request = ref_name(json_object_get(bm, "schema"));
            if (o->request) {
                agc_spec_type *t = NULL;
                for (size_t i = 0; i < s->n_types; i++)
                    if (strcmp(s->types[i].name, o->request) == 0)
                        t = &s->types[i];
                if (t && json_object_get(bm, "example"))
                    st = add_example(s, t, json_object_get(bm, "example"));
            }
            const json_t *resps = json_object_get(op, "responses");
            static const char *const ok_codes[] = {"200", "201", "202", "default", NULL};
            for (size_t c = 0; ok_codes[c] && !o->response; c++) {
                const json_t *r = json_object_get(resps, ok_codes[c]);
                const json_t *rm = json_media(json_object_get(r, "content"));
                o->response = ref_name(json_object_get(rm, "schema"));
            }
            if (!o->id || !o->handler || !o->method || !o->path || !o->summary || !o->resource)
                return AGC_ENOMEM;
            s->n_ops++;
        }
    }
    return st;
}

static agc_status load_jsonschema(agc_spec *s)
{
    const json_t *doc = s->doc;
    s->kind = "jsonschema";
    s->title = agc_arena_strdup(s->arena, agc_json_str(doc, "title", "schema"));
    agc_status st = s->title ? AGC_OK : AGC_ENOMEM;
    if (st == AGC_OK && (json_object_get(doc, "properties") || json_object_get(doc, "type"))) {
        agc_spec_type *t = NULL;
        char *nm = agc_arena_strdup(s->arena, agc_json_str(doc, "title", "Root"));
        for (char *p = nm; p && *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_')
                *p = '_';
        st = nm ? add_type(s, nm, doc, &t) : AGC_ENOMEM;
        const json_t *exs = json_object_get(doc, "examples");
        size_t i;
        json_t *e;
        if (json_is_array(exs))
            json_array_foreach(exs, i, e) if (st == AGC_OK) st = add_example(s, t, e);
    }
    static const char *const defkeys[] = {"$defs", "definitions", NULL};
    for (size_t d = 0; st == AGC_OK && defkeys[d]; d++) {
        const char *name;
        json_t *sch;
        json_object_foreach(json_object_get(doc, defkeys[d]), name, sch)
        {
            agc_spec_type *t = NULL;
            if (st == AGC_OK)
                st = add_type(s, name, sch, &t);
            const json_t *exs = json_object_get(sch, "examples");
            size_t i;
            json_t *e;
            if (json_is_array(exs))
                json_array_foreach(exs, i, e) if (st == AGC_OK) st = add_example(s, t, e);
        }
    }
    if (st == AGC_OK && s->n_types == 0)
        st = agc_error_set(s->ctx, AGC_EINVAL, "spec", "%s: the JSON Schema defines no type",
                           s->source);
    return st;
}

agc_status agc_spec_load(agc_spec **out, const char *path, agc_ctx *ctx)
{
    *out = NULL;
    agc_spec *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->ctx = ctx;
    s->source = path;
    agc_status st = agc_arena_new(&s->arena, (size_t)64 << 20, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    s->owned = json_array();
    agc_json_leave(prev);
    if (st == AGC_OK && !s->owned)
        st = AGC_ENOMEM;
    size_t pl = strlen(path);
    if (st == AGC_OK && pl > 6 && strcmp(path + pl - 6, ".proto") == 0) {
        st = agc__spec_load_proto(s, path);
    } else if (st == AGC_OK) {
        agc_config *cfg = NULL;
        agc_config_opts co = AGC_CONFIG_OPTS_INIT;
        co.no_validate = true;
        co.no_env = true;
        st = agc_config_load(&cfg, path, &co, ctx);
        if (st == AGC_OK) {
            prev = agc_json_enter(ctx);
            s->doc = json_deep_copy(agc_config_root(cfg));
            agc_json_leave(prev);
            if (!s->doc)
                st = AGC_ENOMEM;
        }
        agc_config_free(cfg);
        if (st == AGC_OK) {
            const char *v = agc_json_str(s->doc, "openapi", NULL);
            if (v && strncmp(v, "3.", 2) == 0)
                st = load_openapi(s);
            else if (v || json_object_get(s->doc, "swagger"))
                st = agc_error_set(ctx, AGC_EINVAL, "spec",
                                   "%s: OpenAPI %s is not supported; convert it to 3.x", path,
                                   v ? v : "2.0");
            else if (json_is_object(s->doc) &&
                     (json_object_get(s->doc, "$schema") || json_object_get(s->doc, "$defs") ||
                      json_object_get(s->doc, "definitions") ||
                      json_object_get(s->doc, "properties")))
                st = load_jsonschema(s);
            else
                st = agc_error_set(ctx, AGC_EINVAL, "spec",
                                   "%s: neither an OpenAPI 3.x document, a JSON Schema nor a "
                                   ".proto file",
                                   path);
        }
    }
    if (st != AGC_OK) {
        agc_spec_free(s);
        return st;
    }
    s->source = agc_arena_strdup(s->arena, path);
    *out = s;
    return AGC_OK;
}
