/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema compilation: documents (deep-copied, so the compiled schema owns
 * them), the scan that registers resources ($id) and anchors, reference
 * resolution ($ref, $dynamicRef, remote documents through the caller's
 * resolver or the built-in meta-schemas), and the public compile/free calls.
 * Invariant: after agc_schema_compile() nothing in agc_schema changes.
 * Keyword parsing lives in schema_compile_kw.c; no network is ever used.
 */
#include <string.h>

#include "agentc/json.h"
#include "embedded.h"
#include "schema_int.h"

#define MAX_COMPILE_DEPTH 500
#define DRAFT2020         "https://json-schema.org/draft/2020-12/schema"

/* ---- built-in documents ---------------------------------------------------- */

/* Embedded file name for a built-in URI, in buf; NULL when not built in. */
static const char *builtin_name(const char *uri, char *buf, size_t size)
{
    static const char meta[] = "https://json-schema.org/draft/2020-12/meta/";
    if (strcmp(uri, DRAFT2020) == 0)
        return "schemas/meta/2020-12/schema.json";
    if (strncmp(uri, meta, sizeof meta - 1) == 0) {
        const char *v = uri + sizeof meta - 1;
        if (!*v || strchr(v, '/') || strchr(v, '.'))
            return NULL;
        snprintf(buf, size, "schemas/meta/2020-12/meta/%s.json", v);
        return buf;
    }
    if (strncmp(uri, "agentc:", 7) == 0) {
        const char *v = uri + 7;
        if (!*v || strstr(v, ".."))
            return NULL;
        snprintf(buf, size, "schemas/%s", v);
        return buf;
    }
    return NULL;
}

static agc_status builtin_parse(json_t **out, const char *uri, agc_ctx *ctx)
{
    *out = NULL;
    char buf[512];
    const char *name = builtin_name(uri, buf, sizeof buf);
    if (!name)
        return AGC_OK;
    size_t len = 0;
    const char *text = agc__embedded_find(name, &len);
    if (!text)
        return AGC_OK;
    return agc_json_parse(out, text, len, name, ctx);
}

json_t *agc_schema_builtin(const char *uri, agc_ctx *ctx)
{
    json_t *doc = NULL;
    if (builtin_parse(&doc, uri, ctx) != AGC_OK)
        return NULL;
    return doc;
}

/* ---- PCRE2 memory ---------------------------------------------------------- */

static void *pcre_malloc(size_t size, void *data)
{
    return agc_malloc(data, size);
}

static void pcre_free(void *p, void *data)
{
    agc_free(data, p);
}

pcre2_general_context *agc__sch_gctx_new(agc_ctx *ctx)
{
    pcre2_general_context *g = pcre2_general_context_create(pcre_malloc, pcre_free, ctx);
    if (!g)
        agc_error_set(ctx, AGC_ENOMEM, "schema", "out of memory creating a regex context");
    return g;
}

/* ---- documents, resources and the scan ------------------------------------- */

static agc_status nomem(sch_cstate *c)
{
    return agc_error_set(c->ctx, AGC_ENOMEM, "schema", "out of memory compiling a schema");
}

static agc_status arena_fail(sch_cstate *c)
{
    const agc_error *e = agc_ctx_last_error(c->ctx);
    if (e && e->code == AGC_ELIMIT)
        return AGC_ELIMIT;
    return nomem(c);
}

static agc_status keep_doc(sch_cstate *c, json_t *doc)
{
    agc_schema *s = c->s;
    if (s->ndocs == s->capdocs) {
        size_t ncap = s->capdocs ? s->capdocs * 2 : 4;
        json_t **nd = agc_realloc(c->ctx, s->docs, ncap * sizeof *nd);
        if (!nd)
            return nomem(c);
        s->docs = nd;
        s->capdocs = ncap;
    }
    s->docs[s->ndocs++] = doc;
    return AGC_OK;
}

static sch_res *new_res(sch_cstate *c, const char *uri, const json_t *root, unsigned vocab)
{
    sch_res *r = agc_arena_alloc(c->s->arena, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->uri = uri;
    r->root = root;
    r->vocab = vocab;
    r->next = c->s->resources;
    c->s->resources = r;
    return r;
}

static agc_status reg_put(sch_cstate *c, const char *key, const json_t *j, sch_res *r)
{
    sch_reg *e = agc_arena_alloc(c->s->arena, sizeof *e);
    if (!e)
        return arena_fail(c);
    e->json = j;
    e->res = r;
    if (agc__sch_map_put(&c->reg, key, e) != AGC_OK)
        return nomem(c);
    return AGC_OK;
}

static agc_status load_doc(sch_cstate *c, const char *uri, bool *found);

/* Vocabularies declared by the meta-schema at uri (SCH_V_DEFAULT when unknown). */
static agc_status vocab_of(sch_cstate *c, const char *uri, unsigned *out)
{
    *out = SCH_V_DEFAULT;
    if (strncmp(uri, DRAFT2020, strlen(DRAFT2020)) == 0 || c->vdepth > 8)
        return AGC_OK;
    if (strncmp(uri, "http://json-schema.org/", 23) == 0 ||
        strncmp(uri, "https://json-schema.org/", 24) == 0) {
        /* earlier drafts are read as 2020-12 except for what 2020-12 added */
        if (strstr(uri, "/draft-0") || strstr(uri, "/draft/2019-09/"))
            *out |= SCH_V_LEGACY;
        return AGC_OK;
    }
    char *abs = agc__sch_uri_resolve(c->s->arena, NULL, uri);
    if (!abs)
        return arena_fail(c);
    char *hash = strchr(abs, '#');
    if (hash)
        *hash = '\0';
    sch_reg *e = agc__sch_map_get(&c->reg, abs);
    if (!e) {
        bool found = false;
        c->vdepth++;
        agc_status st = load_doc(c, abs, &found);
        c->vdepth--;
        if (st != AGC_OK)
            return st;
        e = agc__sch_map_get(&c->reg, abs);
        if (!e)
            return AGC_OK; /* unknown meta-schema: treated as 2020-12 */
    }
    json_t *voc = json_object_get(e->json, "$vocabulary");
    if (!json_is_object(voc))
        return AGC_OK;
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {
        {"core", SCH_V_CORE},
        {"applicator", SCH_V_APPLICATOR},
        {"unevaluated", SCH_V_UNEVAL},
        {"validation", SCH_V_VALIDATION},
        {"format-assertion", SCH_V_FORMAT_ASSERT},
        {"format-annotation", 0},
        {"meta-data", 0},
        {"content", 0},
    };
    static const char pre[] = "https://json-schema.org/draft/2020-12/vocab/";
    unsigned v = SCH_V_CORE;
    const char *k;
    json_t *val;
    json_object_foreach(voc, k, val)
    {
        bool ok = false;
        if (strncmp(k, pre, sizeof pre - 1) == 0) {
            for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
                if (strcmp(k + sizeof pre - 1, known[i].name) == 0) {
                    v |= known[i].bit;
                    ok = true;
                }
            }
        }
        if (!ok && json_is_true(val))
            return agc_error_set(c->ctx, AGC_EINVAL, "schema",
                                 "meta-schema %s requires vocabulary %s, which is not supported",
                                 abs, k);
    }
    *out = v;
    return AGC_OK;
}

static agc_status scan(sch_cstate *c, const json_t *j, sch_res *res, int depth);

static agc_status scan_each(sch_cstate *c, const json_t *j, const char *kw, sch_res *res, int depth)
{
    json_t *v = json_object_get(j, kw);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            agc_status st = scan(c, e, res, depth + 1);
            if (st != AGC_OK)
                return st;
        }
    }
    return AGC_OK;
}

static agc_status scan_values(sch_cstate *c, const json_t *j, const char *kw, sch_res *res,
                              int depth)
{
    json_t *v = json_object_get(j, kw);
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            agc_status st = scan(c, e, res, depth + 1);
            if (st != AGC_OK)
                return st;
        }
    }
    return AGC_OK;
}

static agc_status add_anchor(sch_cstate *c, sch_res *res, const char *name, const json_t *j,
                             bool dynamic)
{
    char *key = agc_arena_sprintf(c->s->arena, "%s#%s", res->uri, name);
    if (!key)
        return arena_fail(c);
    agc_status st = reg_put(c, key, j, res);
    if (st != AGC_OK || !dynamic)
        return st;
    if (res->ndyn == res->capdyn) {
        size_t ncap = res->capdyn ? res->capdyn * 2 : 4;
        sch_dyn *nd = agc_arena_alloc(c->s->arena, ncap * sizeof *nd);
        if (!nd)
            return arena_fail(c);
        if (res->ndyn)
            memcpy(nd, res->dyn, res->ndyn * sizeof *nd);
        res->dyn = nd;
        res->capdyn = ncap;
    }
    res->dyn[res->ndyn].name = name;
    res->dyn[res->ndyn].json = j;
    res->dyn[res->ndyn].node = NULL;
    res->ndyn++;
    return AGC_OK;
}

/* Registers $id resources and anchors below j (known subschema positions only). */
static agc_status scan(sch_cstate *c, const json_t *j, sch_res *res, int depth)
{
    if (!json_is_object(j))
        return AGC_OK;
    if (depth > MAX_COMPILE_DEPTH)
        return agc_error_set(c->ctx, AGC_EINVAL, "schema",
                             "schema %s is nested more than %d levels deep", res->uri,
                             MAX_COMPILE_DEPTH);
    agc_status st;
    const char *id = json_string_value(json_object_get(j, "$id"));
    if (id && res->root != j) {
        char *uri = agc__sch_uri_resolve(c->s->arena, res->uri, id);
        if (!uri)
            return arena_fail(c);
        char *hash = strchr(uri, '#');
        if (hash)
            *hash = '\0';
        unsigned vocab = res->vocab;
        const char *ms = json_string_value(json_object_get(j, "$schema"));
        if (ms && (st = vocab_of(c, ms, &vocab)) != AGC_OK)
            return st;
        sch_res *nr = new_res(c, uri, j, vocab);
        if (!nr)
            return arena_fail(c);
        if ((st = reg_put(c, uri, j, nr)) != AGC_OK)
            return st;
        res = nr;
    }
    if (agc__sch_map_put(&c->scanned, j, res) != AGC_OK)
        return nomem(c);
    const char *anchor = json_string_value(json_object_get(j, "$anchor"));
    if (anchor && (st = add_anchor(c, res, anchor, j, false)) != AGC_OK)
        return st;
    anchor = json_string_value(json_object_get(j, "$dynamicAnchor"));
    if (anchor && (st = add_anchor(c, res, anchor, j, true)) != AGC_OK)
        return st;
    static const char *const single[] = {"additionalProperties",
                                         "propertyNames",
                                         "items",
                                         "contains",
                                         "not",
                                         "if",
                                         "then",
                                         "else",
                                         "unevaluatedItems",
                                         "unevaluatedProperties",
                                         "additionalItems"};
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
        if ((st = scan(c, json_object_get(j, single[i]), res, depth + 1)) != AGC_OK)
            return st;
    static const char *const arrays[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items"};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        if ((st = scan_each(c, j, arrays[i], res, depth)) != AGC_OK)
            return st;
    static const char *const maps[] = {
        "$defs",       "definitions", "properties", "patternProperties", "dependentSchemas",
        "dependencies"};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if ((st = scan_values(c, j, maps[i], res, depth)) != AGC_OK)
            return st;
    return AGC_OK;
}

/* Adds a document (stealing doc) under its retrieval uri and scans it. */
static agc_status add_doc(sch_cstate *c, json_t *doc, const char *uri)
{
    agc_status st = keep_doc(c, doc);
    if (st != AGC_OK) {
        json_decref(doc);
        return st;
    }
    unsigned vocab = SCH_V_DEFAULT;
    const char *ms =
        json_is_object(doc) ? json_string_value(json_object_get(doc, "$schema")) : NULL;
    if (ms && (st = vocab_of(c, ms, &vocab)) != AGC_OK)
        return st;
    uri = agc_arena_strdup(c->s->arena, uri);
    if (!uri)
        return arena_fail(c);
    const char *base = uri;
    const char *id = json_is_object(doc) ? json_string_value(json_object_get(doc, "$id")) : NULL;
    if (id) {
        char *abs = agc__sch_uri_resolve(c->s->arena, uri, id);
        if (!abs)
            return arena_fail(c);
        char *hash = strchr(abs, '#');
        if (hash)
            *hash = '\0';
        base = abs;
    }
    sch_res *r = new_res(c, base, doc, vocab);
    if (!r)
        return arena_fail(c);
    if ((st = reg_put(c, base, doc, r)) != AGC_OK)
        return st;
    if (strcmp(base, uri) != 0 && (st = reg_put(c, uri, doc, r)) != AGC_OK)
        return st;
    return scan(c, doc, r, 0);
}

/* A private deep copy of v (allocated through ctx). */
static agc_status copy_json(sch_cstate *c, json_t **out, const json_t *v)
{
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *cp = json_deep_copy(v);
    bool oom = agc_json_oom(c->ctx);
    agc_json_leave(prev);
    if (!cp || oom) {
        if (cp) {
            prev = agc_json_enter(c->ctx);
            json_decref(cp);
            agc_json_leave(prev);
        }
        return nomem(c);
    }
    *out = cp;
    return AGC_OK;
}

static agc_status load_doc(sch_cstate *c, const char *uri, bool *found)
{
    *found = false;
    json_t *doc = NULL;
    agc_status st = builtin_parse(&doc, uri, c->ctx);
    if (st != AGC_OK)
        return st;
    if (!doc && c->opts->resolve) {
        json_t *ext = NULL;
        st = c->opts->resolve(&ext, uri, c->opts->resolve_user, c->ctx);
        if (st != AGC_OK) {
            if (ext)
                json_decref(ext);
            return st;
        }
        if (ext) {
            st = copy_json(c, &doc, ext);
            json_decref(ext);
            if (st != AGC_OK)
                return st;
        }
    }
    if (!doc)
        return AGC_OK;
    *found = true;
    return add_doc(c, doc, uri);
}

/* ---- references -------------------------------------------------------------- */

agc_status agc__sch_resolve_ref(sch_cstate *c, sch_node **out, const char *ref, sch_res *res,
                                const sch_loc *loc)
{
    *out = NULL;
    char *abs = agc__sch_uri_resolve(c->s->arena, res->uri, ref);
    if (!abs)
        return arena_fail(c);
    const char *frag = "";
    char *doc = agc_arena_strdup(c->s->arena, abs);
    if (!doc)
        return arena_fail(c);
    char *hash = strchr(doc, '#');
    if (hash) {
        *hash = '\0';
        frag = hash + 1;
    }
    sch_reg *e = agc__sch_map_get(&c->reg, doc);
    if (!e) {
        bool found = false;
        agc_status st = load_doc(c, doc, &found);
        if (st != AGC_OK)
            return st;
        e = agc__sch_map_get(&c->reg, doc);
        if (!e)
            return agc__sch_loc_error(c, AGC_ENOTFOUND, "cannot resolve $ref", loc,
                                      "\"%s\": no schema is known as %s%s", ref, doc,
                                      c->opts->resolve ? "" : " (no resolver was given)");
    }
    const json_t *target = e->json;
    sch_res *tres = e->res;
    if (frag[0] == '/') {
        bool bad = false;
        char *ptr = agc__sch_pct_decode(c->s->arena, frag, &bad);
        if (!ptr && !bad)
            return arena_fail(c);
        target = ptr ? agc_json_pointer_get(e->json, ptr) : NULL;
        if (!target)
            return agc__sch_loc_error(c, AGC_ENOTFOUND, "cannot resolve $ref", loc,
                                      "\"%s\": %s has nothing at #%s", ref, doc, frag);
        sch_res *r = agc__sch_map_get(&c->scanned, target);
        if (r)
            tres = r;
    } else if (frag[0]) {
        sch_reg *a = agc__sch_map_get(&c->reg, abs);
        if (!a)
            return agc__sch_loc_error(c, AGC_ENOTFOUND, "cannot resolve $ref", loc,
                                      "\"%s\": no anchor \"%s\" in %s", ref, frag, doc);
        target = a->json;
        tres = a->res;
    }
    sch_loc tl = {.root = abs};
    return agc__sch_compile_node(c, out, target, tres, &tl);
}

/* ---- nodes ------------------------------------------------------------------ */

static sch_node *alloc_node(sch_cstate *c, const json_t *j, sch_res *res)
{
    sch_node *n = agc_arena_alloc(c->s->arena, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->json = j;
    n->res = res;
    n->max_len = n->min_len = n->max_items = n->min_items = -1;
    n->max_contains = n->min_contains = n->max_props = n->min_props = -1;
    return n;
}

agc_status agc__sch_compile_node(sch_cstate *c, sch_node **out, const json_t *j, sch_res *res,
                                 const sch_loc *loc)
{
    *out = NULL;
    if (json_is_boolean(j)) {
        sch_node **slot = json_is_true(j) ? &c->true_node : &c->false_node;
        if (!*slot) {
            sch_node *n = alloc_node(c, j, res);
            if (!n)
                return arena_fail(c);
            n->flags = SCH_N_BOOL | (json_is_true(j) ? SCH_N_TRUE : 0);
            *slot = n;
        }
        *out = *slot;
        return AGC_OK;
    }
    if (!json_is_object(j))
        return agc__sch_loc_error(c, AGC_EINVAL, "invalid schema", loc,
                                  "a schema must be an object or a boolean, not %s",
                                  agc_json_type_name(j));
    sch_node *n = agc__sch_map_get(&c->ptrs, j);
    if (n) {
        *out = n;
        return AGC_OK;
    }
    if (c->depth >= MAX_COMPILE_DEPTH)
        return agc__sch_loc_error(c, AGC_EINVAL, "invalid schema", loc,
                                  "nested more than %d levels deep", MAX_COMPILE_DEPTH);
    sch_res *r = agc__sch_map_get(&c->scanned, j);
    n = alloc_node(c, j, r ? r : res);
    if (!n)
        return arena_fail(c);
    if (agc__sch_map_put(&c->ptrs, j, n) != AGC_OK)
        return nomem(c);
    c->depth++;
    agc_status st = agc__sch_compile_keywords(c, n, loc);
    c->depth--;
    if (st != AGC_OK)
        return st;
    *out = n;
    return AGC_OK;
}

/* Compiles every $dynamicAnchor subschema so the dynamic scope can jump there. */
static agc_status compile_dynamic_anchors(sch_cstate *c)
{
    bool again = true;
    while (again) {
        again = false;
        for (sch_res *r = c->s->resources; r; r = r->next) {
            for (size_t i = 0; i < r->ndyn; i++) {
                if (r->dyn[i].node)
                    continue;
                sch_node *n = NULL;
                sch_loc l = {.root = r->uri};
                agc_status st = agc__sch_compile_node(c, &n, r->dyn[i].json, r, &l);
                if (st != AGC_OK)
                    return st;
                r->dyn[i].node = n;
                again = true;
            }
        }
    }
    return AGC_OK;
}

/* ---- public API --------------------------------------------------------------- */

void agc_schema_opts_init(agc_schema_opts *opts)
{
    agc_schema_opts d = AGC_SCHEMA_OPTS_INIT;
    *opts = d;
}

void agc_schema_free(agc_schema *s, agc_ctx *ctx)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncodes; i++)
        pcre2_code_free(s->codes[i]);
    agc_free(ctx, s->codes);
    agc_ctx *prev = agc_json_enter(ctx);
    for (size_t i = 0; i < s->ndocs; i++)
        json_decref(s->docs[i]);
    agc_json_leave(prev);
    agc_free(ctx, s->docs);
    agc_arena_free(s->arena);
    agc_free(ctx, s);
}

agc_status agc_schema_compile(agc_schema **out, const json_t *schema, const agc_schema_opts *opts,
                              agc_ctx *ctx)
{
    *out = NULL;
    agc_schema_opts dflt = AGC_SCHEMA_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_SCHEMA_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "schema",
                             "unknown agc_schema_opts version %u (expected %u)", opts->version,
                             AGC_SCHEMA_OPTS_VERSION);
    if (!schema)
        return agc_error_set(ctx, AGC_EINVAL, "schema", "no schema given");
    agc_schema *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->format_assert = opts->format_assert;
    s->max_errors = opts->max_errors ? opts->max_errors : 64;
    agc_status st = agc_arena_new(&s->arena, 0, ctx);
    if (st != AGC_OK) {
        agc_free(ctx, s);
        return st;
    }
    sch_cstate c = {.ctx = ctx, .s = s, .opts = opts};
    agc__sch_map_init(&c.reg, true, ctx);
    agc__sch_map_init(&c.ptrs, false, ctx);
    agc__sch_map_init(&c.scanned, false, ctx);
    c.gctx = agc__sch_gctx_new(ctx);
    json_t *doc = NULL;
    const char *base = opts->base_uri ? opts->base_uri : "urn:agentc:schema"; /* see schema_uri.c */
    if (!c.gctx)
        st = AGC_ENOMEM;
    if (st == AGC_OK)
        st = copy_json(&c, &doc, schema);
    if (st == AGC_OK)
        st = add_doc(&c, doc, base);
    if (st == AGC_OK) {
        sch_reg *e = agc__sch_map_get(&c.reg, base);
        sch_loc l = {.root = ""};
        st = agc__sch_compile_node(&c, &s->root, doc, e->res, &l);
    }
    if (st == AGC_OK)
        st = compile_dynamic_anchors(&c);
    pcre2_general_context_free(c.gctx);
    agc__sch_map_free(&c.reg);
    agc__sch_map_free(&c.ptrs);
    agc__sch_map_free(&c.scanned);
    if (st != AGC_OK) {
        agc_schema_free(s, ctx);
        return st;
    }
    *out = s;
    return AGC_OK;
}

agc_status agc_schema_compile_text(agc_schema **out, const char *text, size_t len,
                                   const char *source, const agc_schema_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    json_t *j = NULL;
    agc_status st = agc_json_parse(&j, text, len, source, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_schema_compile(out, j, opts, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(j);
    agc_json_leave(prev);
    return st;
}
