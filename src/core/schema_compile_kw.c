/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema keyword compilation: checks each keyword's value (a malformed
 * one is AGC_EINVAL naming its location), compiles subschemas and regexes
 * (PCRE2, ECMA-262 flavoured: \d and \w stay ASCII, $ only at the end) and
 * fills the node. Keywords of vocabularies the resource's meta-schema does
 * not enable are ignored; unknown keywords are ignored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

static agc_status bad(sch_cstate *c, const sch_loc *loc, const char *kw, const char *what)
{
    sch_loc l = {.up = loc, .key = kw};
    return agc__sch_loc_error(c, AGC_EINVAL, "invalid schema", &l, "\"%s\" %s", kw, what);
}

static agc_status oom(sch_cstate *c)
{
    const agc_error *e = agc_ctx_last_error(c->ctx);
    if (e && e->code == AGC_ELIMIT)
        return AGC_ELIMIT;
    return agc_error_set(c->ctx, AGC_ENOMEM, "schema", "out of memory compiling a schema");
}

/* ---- regexes --------------------------------------------------------------- */

/* ECMA-262 long General_Category names that PCRE2 10.42 does not know. */
static const char *const gc_names[][2] = {
    {"Letter", "L"},
    {"Cased_Letter", "L&"},
    {"Uppercase_Letter", "Lu"},
    {"Lowercase_Letter", "Ll"},
    {"Titlecase_Letter", "Lt"},
    {"Modifier_Letter", "Lm"},
    {"Other_Letter", "Lo"},
    {"Mark", "M"},
    {"Combining_Mark", "M"},
    {"Nonspacing_Mark", "Mn"},
    {"Spacing_Mark", "Mc"},
    {"Enclosing_Mark", "Me"},
    {"Number", "N"},
    {"Decimal_Number", "Nd"},
    {"digit", "Nd"},
    {"Letter_Number", "Nl"},
    {"Other_Number", "No"},
    {"Punctuation", "P"},
    {"punct", "P"},
    {"Connector_Punctuation", "Pc"},
    {"Dash_Punctuation", "Pd"},
    {"Open_Punctuation", "Ps"},
    {"Close_Punctuation", "Pe"},
    {"Initial_Punctuation", "Pi"},
    {"Final_Punctuation", "Pf"},
    {"Other_Punctuation", "Po"},
    {"Symbol", "S"},
    {"Math_Symbol", "Sm"},
    {"Currency_Symbol", "Sc"},
    {"Modifier_Symbol", "Sk"},
    {"Other_Symbol", "So"},
    {"Separator", "Z"},
    {"Space_Separator", "Zs"},
    {"Line_Separator", "Zl"},
    {"Paragraph_Separator", "Zp"},
    {"Other", "C"},
    {"Control", "Cc"},
    {"cntrl", "Cc"},
    {"Format", "Cf"},
    {"Surrogate", "Cs"},
    {"Private_Use", "Co"},
    {"Unassigned", "Cn"},
};

/* Appends \p{name} / \P{name} with ECMA-262 property syntax mapped to PCRE2's. */
static agc_status put_property(agc_buf *b, char kind, const char *name, size_t n)
{
    static const char *const prefixes[] = {
        "General_Category=", "gc=", "Script_Extensions=", "scx=", "Script=", "sc="};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i]);
        if (n > pl && strncmp(name, prefixes[i], pl) == 0) {
            name += pl;
            n -= pl;
            break;
        }
    }
    for (size_t i = 0; i < sizeof gc_names / sizeof gc_names[0]; i++) {
        if (strlen(gc_names[i][0]) == n && strncmp(name, gc_names[i][0], n) == 0) {
            name = gc_names[i][1];
            n = strlen(name);
            break;
        }
    }
    return agc_buf_printf(b, "\\%c{%.*s}", kind, (int)n, name);
}

char *agc__sch_regex_translate(const char *src, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    bool in_class = false;
    agc_status st = AGC_OK;
    for (const char *p = src; *p && st == AGC_OK; p++) {
        if (*p == '\\' && p[1]) {
            char e = p[1];
            const char *close = (e == 'p' || e == 'P') && p[2] == '{' ? strchr(p + 3, '}') : NULL;
            if (close) {
                st = put_property(&b, e, p + 3, (size_t)(close - p - 3));
                p = close;
                continue;
            }
            if (e == 'd')
                st = agc_buf_puts(&b, in_class ? "0-9" : "[0-9]");
            else if (e == 'w')
                st = agc_buf_puts(&b, in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]");
            else if (e == 's')
                st = agc_buf_puts(&b, in_class ? "\\s\\uFEFF" : "[\\s\\uFEFF]");
            else if (e == 'D' && !in_class)
                st = agc_buf_puts(&b, "[^0-9]");
            else if (e == 'W' && !in_class)
                st = agc_buf_puts(&b, "[^A-Za-z0-9_]");
            else if (e == 'S' && !in_class)
                st = agc_buf_puts(&b, "[^\\s\\uFEFF]");
            else
                st = agc_buf_append(&b, p, 2);
            p++;
            continue;
        }
        if (*p == '[' && !in_class && p[1] == ']') {
            st = agc_buf_puts(&b, "(?!)"); /* ECMA-262 []: matches nothing */
            p++;
            continue;
        }
        if (*p == '[' && !in_class && p[1] == '^' && p[2] == ']') {
            st = agc_buf_puts(&b, "[\\s\\S]"); /* ECMA-262 [^]: any character */
            p += 2;
            continue;
        }
        if (*p == '[' && !in_class)
            in_class = true;
        else if (*p == ']' && in_class)
            in_class = false;
        st = agc_buf_putc(&b, *p);
    }
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}

agc_status agc__sch_compile_regex(sch_cstate *c, pcre2_code **out, const char *src,
                                  const sch_loc *loc)
{
    *out = NULL;
    agc_schema *s = c->s;
    if (s->ncodes == s->capcodes) {
        size_t ncap = s->capcodes ? s->capcodes * 2 : 8;
        pcre2_code **nc = agc_realloc(c->ctx, s->codes, ncap * sizeof *nc);
        if (!nc)
            return oom(c);
        s->codes = nc;
        s->capcodes = ncap;
    }
    char *pat = agc__sch_regex_translate(src, c->ctx);
    if (!pat)
        return oom(c);
    pcre2_compile_context *cc = pcre2_compile_context_create(c->gctx);
    if (!cc) {
        agc_free(c->ctx, pat);
        return oom(c);
    }
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX,
                                   &err, &off, cc);
    pcre2_compile_context_free(cc);
    agc_free(c->ctx, pat);
    if (!re) {
        if (err == PCRE2_ERROR_HEAP_FAILED)
            return oom(c);
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        return agc__sch_loc_error(c, AGC_EINVAL, "invalid schema", loc,
                                  "bad regular expression \"%s\": %s", src, (const char *)msg);
    }
    s->codes[s->ncodes++] = re;
    *out = re;
    return AGC_OK;
}

/* ---- keyword helpers --------------------------------------------------------- */

static agc_status nonneg(sch_cstate *c, const json_t *j, const char *kw, long long *out,
                         const sch_loc *loc)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return AGC_OK;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return AGC_OK;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9e18 &&
        floor(json_real_value(v)) == json_real_value(v)) {
        *out = (long long)json_real_value(v);
        return AGC_OK;
    }
    return bad(c, loc, kw, "must be a non-negative integer");
}

static agc_status number(sch_cstate *c, const json_t *j, const char *kw, const json_t **out,
                         const sch_loc *loc)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return AGC_OK;
    if (!json_is_number(v))
        return bad(c, loc, kw, "must be a number");
    *out = v;
    return AGC_OK;
}

static agc_status sub(sch_cstate *c, const json_t *j, const char *kw, sch_node **out, sch_res *res,
                      const sch_loc *loc)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return AGC_OK;
    sch_loc l = {.up = loc, .key = kw};
    return agc__sch_compile_node(c, out, v, res, &l);
}

static agc_status subarr(sch_cstate *c, const json_t *j, const char *kw, sch_node ***out,
                         size_t *nout, sch_res *res, const sch_loc *loc)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return AGC_OK;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(c, loc, kw, "must be a non-empty array of schemas");
    size_t n = json_array_size(v);
    sch_node **arr = agc_arena_alloc(c->s->arena, n * sizeof *arr);
    if (!arr)
        return oom(c);
    sch_loc l = {.up = loc, .key = kw};
    for (size_t i = 0; i < n; i++) {
        sch_loc il = {.up = &l, .idx = i};
        agc_status st = agc__sch_compile_node(c, &arr[i], json_array_get(v, i), res, &il);
        if (st != AGC_OK)
            return st;
    }
    *out = arr;
    *nout = n;
    return AGC_OK;
}

static int named_cmp(const void *a, const void *b)
{
    return strcmp(((const sch_named *)a)->name, ((const sch_named *)b)->name);
}

static agc_status submap(sch_cstate *c, const json_t *j, const char *kw, sch_named **out,
                         size_t *nout, sch_res *res, const sch_loc *loc)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return AGC_OK;
    if (!json_is_object(v))
        return bad(c, loc, kw, "must be an object whose values are schemas");
    size_t n = json_object_size(v);
    sch_named *arr = agc_arena_alloc(c->s->arena, (n ? n : 1) * sizeof *arr);
    if (!arr)
        return oom(c);
    sch_loc l = {.up = loc, .key = kw};
    size_t i = 0;
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e)
    {
        sch_loc il = {.up = &l, .key = k};
        arr[i].name = k;
        agc_status st = agc__sch_compile_node(c, &arr[i].node, e, res, &il);
        if (st != AGC_OK)
            return st;
        i++;
    }
    qsort(arr, n, sizeof *arr, named_cmp);
    *out = arr;
    *nout = n;
    return AGC_OK;
}

static agc_status strings(sch_cstate *c, const json_t *v, const char *kw, const char ***out,
                          size_t *nout, const sch_loc *loc)
{
    if (!json_is_array(v))
        return bad(c, loc, kw, "must be an array of strings");
    size_t n = json_array_size(v);
    const char **arr = agc_arena_alloc(c->s->arena, (n ? n : 1) * sizeof *arr);
    if (!arr)
        return oom(c);
    for (size_t i = 0; i < n; i++) {
        arr[i] = json_string_value(json_array_get(v, i));
        if (!arr[i])
            return bad(c, loc, kw, "must be an array of strings");
    }
    *out = arr;
    *nout = n;
    return AGC_OK;
}

static unsigned type_bit(const char *t)
{
    static const struct {
        const char *name;
        unsigned bit;
    } types[] = {{"null", SCH_T_NULL},  {"boolean", SCH_T_BOOL}, {"object", SCH_T_OBJ},
                 {"array", SCH_T_ARR},  {"number", SCH_T_NUM},   {"string", SCH_T_STR},
                 {"integer", SCH_T_INT}};
    for (size_t i = 0; t && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(t, types[i].name) == 0)
            return types[i].bit;
    return 0;
}

/* ---- vocabularies --------------------------------------------------------------- */

static agc_status core_kw(sch_cstate *c, sch_node *n, const sch_loc *loc)
{
    const json_t *j = n->json;
    agc_status st;
    static const char *const strs[] = {"$id", "$schema", "$anchor", "$dynamicAnchor", "$comment"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        json_t *v = json_object_get(j, strs[i]);
        if (v && !json_is_string(v))
            return bad(c, loc, strs[i], "must be a string");
    }
    json_t *v = json_object_get(j, "$ref");
    if (v) {
        if (!json_is_string(v))
            return bad(c, loc, "$ref", "must be a string");
        n->ref_str = json_string_value(v);
        sch_loc l = {.up = loc, .key = "$ref"};
        if ((st = agc__sch_resolve_ref(c, &n->ref, n->ref_str, n->res, &l)) != AGC_OK)
            return st;
    }
    v = json_object_get(j, "$dynamicRef");
    if (v) {
        if (!json_is_string(v))
            return bad(c, loc, "$dynamicRef", "must be a string");
        n->dyn_ref_str = json_string_value(v);
        sch_loc l = {.up = loc, .key = "$dynamicRef"};
        if ((st = agc__sch_resolve_ref(c, &n->dyn_ref, n->dyn_ref_str, n->res, &l)) != AGC_OK)
            return st;
        const char *hash = strchr(n->dyn_ref_str, '#');
        const char *target_anchor =
            json_string_value(json_object_get(n->dyn_ref->json, "$dynamicAnchor"));
        if (hash && hash[1] && hash[1] != '/' && target_anchor &&
            strcmp(target_anchor, hash + 1) == 0)
            n->dyn_ref_anchor = target_anchor;
    }
    v = json_object_get(j, "$defs");
    if (v) {
        sch_named *defs = NULL;
        size_t ndefs = 0;
        if ((st = submap(c, j, "$defs", &defs, &ndefs, n->res, loc)) != AGC_OK)
            return st;
    }
    return AGC_OK;
}

static agc_status depreq(sch_cstate *c, sch_depreq *d, const char *name, const json_t *v,
                         const char *kw, const sch_loc *loc)
{
    d->name = name;
    return strings(c, v, kw, &d->req, &d->n, loc);
}

/*
 * "dependencies" of earlier drafts, honoured when neither dependentRequired
 * nor dependentSchemas is present: arrays are dependentRequired, schemas
 * dependentSchemas.
 */
static agc_status dependencies(sch_cstate *c, sch_node *n, const sch_loc *loc)
{
    json_t *v = json_object_get(n->json, "dependencies");
    if (!json_is_object(v) || json_object_get(n->json, "dependentRequired") ||
        json_object_get(n->json, "dependentSchemas"))
        return AGC_OK;
    size_t size = json_object_size(v);
    n->dep_req = agc_arena_alloc(c->s->arena, (size ? size : 1) * sizeof *n->dep_req);
    n->dep_schemas = agc_arena_alloc(c->s->arena, (size ? size : 1) * sizeof *n->dep_schemas);
    if (!n->dep_req || !n->dep_schemas)
        return oom(c);
    sch_loc l = {.up = loc, .key = "dependencies"};
    const char *k;
    json_t *e;
    agc_status st;
    json_object_foreach(v, k, e)
    {
        if (json_is_array(e)) {
            if ((st = depreq(c, &n->dep_req[n->ndep_req++], k, e, "dependencies", loc)) != AGC_OK)
                return st;
            continue;
        }
        sch_loc il = {.up = &l, .key = k};
        sch_named *d = &n->dep_schemas[n->ndep_schemas++];
        d->name = k;
        if ((st = agc__sch_compile_node(c, &d->node, e, n->res, &il)) != AGC_OK)
            return st;
    }
    return AGC_OK;
}

static agc_status applicator_kw(sch_cstate *c, sch_node *n, const sch_loc *loc)
{
    const json_t *j = n->json;
    sch_res *r = n->res;
    agc_status st;
    if ((st = subarr(c, j, "allOf", &n->all_of, &n->nall_of, r, loc)) != AGC_OK ||
        (st = subarr(c, j, "anyOf", &n->any_of, &n->nany_of, r, loc)) != AGC_OK ||
        (st = subarr(c, j, "oneOf", &n->one_of, &n->none_of, r, loc)) != AGC_OK ||
        (st = sub(c, j, "not", &n->not_, r, loc)) != AGC_OK ||
        (st = sub(c, j, "if", &n->if_, r, loc)) != AGC_OK ||
        (st = sub(c, j, "then", &n->then_, r, loc)) != AGC_OK ||
        (st = sub(c, j, "else", &n->else_, r, loc)) != AGC_OK ||
        (st = submap(c, j, "dependentSchemas", &n->dep_schemas, &n->ndep_schemas, r, loc)) !=
            AGC_OK ||
        (!(r->vocab & SCH_V_LEGACY) &&
         (st = subarr(c, j, "prefixItems", &n->prefix, &n->nprefix, r, loc)) != AGC_OK) ||
        (st = sub(c, j, "contains", &n->contains, r, loc)) != AGC_OK ||
        (st = submap(c, j, "properties", &n->props, &n->nprops, r, loc)) != AGC_OK ||
        (st = sub(c, j, "additionalProperties", &n->additional, r, loc)) != AGC_OK ||
        (st = sub(c, j, "propertyNames", &n->prop_names, r, loc)) != AGC_OK)
        return st;
    json_t *items = json_object_get(j, "items");
    if (json_is_array(items) && !n->prefix) {
        /* the array form of earlier drafts: prefixItems + additionalItems */
        if ((st = subarr(c, j, "items", &n->prefix, &n->nprefix, r, loc)) != AGC_OK ||
            (st = sub(c, j, "additionalItems", &n->items, r, loc)) != AGC_OK)
            return st;
    } else if ((st = sub(c, j, "items", &n->items, r, loc)) != AGC_OK) {
        return st;
    }
    if ((st = dependencies(c, n, loc)) != AGC_OK)
        return st;
    json_t *pp = json_object_get(j, "patternProperties");
    if (pp) {
        sch_named *named = NULL;
        size_t nn = 0;
        if ((st = submap(c, j, "patternProperties", &named, &nn, r, loc)) != AGC_OK)
            return st;
        n->pat_props = agc_arena_alloc(c->s->arena, (nn ? nn : 1) * sizeof *n->pat_props);
        if (!n->pat_props)
            return oom(c);
        sch_loc l = {.up = loc, .key = "patternProperties"};
        for (size_t i = 0; i < nn; i++) {
            sch_loc il = {.up = &l, .key = named[i].name};
            n->pat_props[i].src = named[i].name;
            n->pat_props[i].node = named[i].node;
            if ((st = agc__sch_compile_regex(c, &n->pat_props[i].re, named[i].name, &il)) != AGC_OK)
                return st;
        }
        n->npat_props = nn;
    }
    return AGC_OK;
}

static agc_status validation_kw(sch_cstate *c, sch_node *n, const sch_loc *loc)
{
    const json_t *j = n->json;
    agc_status st;
    json_t *v = json_object_get(j, "type");
    if (v) {
        if (json_is_string(v)) {
            n->types = type_bit(json_string_value(v));
            if (!n->types)
                return bad(c, loc, "type",
                           "must name a JSON type (null, boolean, object, array, "
                           "number, string, integer)");
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                unsigned b = type_bit(json_string_value(e));
                if (!b)
                    return bad(c, loc, "type", "must be an array of JSON type names");
                n->types |= b;
            }
            if (!n->types)
                return bad(c, loc, "type", "must not be an empty array");
        } else {
            return bad(c, loc, "type", "must be a string or an array of strings");
        }
    }
    v = json_object_get(j, "enum");
    if (v) {
        if (!json_is_array(v))
            return bad(c, loc, "enum", "must be an array");
        n->enum_ = v;
    }
    v = json_object_get(j, "const");
    if (v) {
        n->const_ = v;
        n->flags |= SCH_N_HAS_CONST;
    }
    if ((st = number(c, j, "multipleOf", &n->multiple_of, loc)) != AGC_OK ||
        (st = number(c, j, "maximum", &n->maximum, loc)) != AGC_OK ||
        (st = number(c, j, "exclusiveMaximum", &n->ex_maximum, loc)) != AGC_OK ||
        (st = number(c, j, "minimum", &n->minimum, loc)) != AGC_OK ||
        (st = number(c, j, "exclusiveMinimum", &n->ex_minimum, loc)) != AGC_OK)
        return st;
    if (n->multiple_of && json_number_value(n->multiple_of) <= 0)
        return bad(c, loc, "multipleOf", "must be greater than 0");
    if ((st = nonneg(c, j, "maxLength", &n->max_len, loc)) != AGC_OK ||
        (st = nonneg(c, j, "minLength", &n->min_len, loc)) != AGC_OK ||
        (st = nonneg(c, j, "maxItems", &n->max_items, loc)) != AGC_OK ||
        (st = nonneg(c, j, "minItems", &n->min_items, loc)) != AGC_OK ||
        (st = nonneg(c, j, "maxContains", &n->max_contains, loc)) != AGC_OK ||
        (st = nonneg(c, j, "minContains", &n->min_contains, loc)) != AGC_OK ||
        (st = nonneg(c, j, "maxProperties", &n->max_props, loc)) != AGC_OK ||
        (st = nonneg(c, j, "minProperties", &n->min_props, loc)) != AGC_OK)
        return st;
    v = json_object_get(j, "pattern");
    if (v) {
        if (!json_is_string(v))
            return bad(c, loc, "pattern", "must be a string");
        n->pattern.src = json_string_value(v);
        sch_loc l = {.up = loc, .key = "pattern"};
        if ((st = agc__sch_compile_regex(c, &n->pattern.re, n->pattern.src, &l)) != AGC_OK)
            return st;
    }
    v = json_object_get(j, "uniqueItems");
    if (v) {
        if (!json_is_boolean(v))
            return bad(c, loc, "uniqueItems", "must be a boolean");
        if (json_is_true(v))
            n->flags |= SCH_N_UNIQUE;
    }
    v = json_object_get(j, "required");
    if (v && (st = strings(c, v, "required", &n->required, &n->nrequired, loc)) != AGC_OK)
        return st;
    v = json_object_get(j, "dependentRequired");
    if (v) {
        if (!json_is_object(v))
            return bad(c, loc, "dependentRequired", "must be an object of string arrays");
        n->ndep_req = json_object_size(v);
        n->dep_req =
            agc_arena_alloc(c->s->arena, (n->ndep_req ? n->ndep_req : 1) * sizeof *n->dep_req);
        if (!n->dep_req)
            return oom(c);
        size_t i = 0;
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            n->dep_req[i].name = k;
            if ((st = strings(c, e, "dependentRequired", &n->dep_req[i].req, &n->dep_req[i].n,
                              loc)) != AGC_OK)
                return st;
            i++;
        }
    }
    return AGC_OK;
}

agc_status agc__sch_compile_keywords(sch_cstate *c, sch_node *n, const sch_loc *loc)
{
    unsigned vocab = n->res->vocab;
    agc_status st = core_kw(c, n, loc);
    if (st == AGC_OK && (vocab & SCH_V_APPLICATOR))
        st = applicator_kw(c, n, loc);
    if (st == AGC_OK && (vocab & SCH_V_UNEVAL)) {
        if ((st = sub(c, n->json, "unevaluatedItems", &n->uneval_items, n->res, loc)) == AGC_OK)
            st = sub(c, n->json, "unevaluatedProperties", &n->uneval_props, n->res, loc);
    }
    if (st == AGC_OK && (vocab & SCH_V_VALIDATION))
        st = validation_kw(c, n, loc);
    json_t *f = json_object_get(n->json, "format");
    if (st == AGC_OK && f) {
        if (!json_is_string(f))
            return bad(c, loc, "format", "must be a string");
        n->format = json_string_value(f);
        n->format_id = agc__sch_format_id(n->format);
        if (vocab & SCH_V_FORMAT_ASSERT)
            n->flags |= SCH_N_FORMAT_ASSERT;
    }
    return st;
}
