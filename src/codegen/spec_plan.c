/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Planning and checking spec-driven generation. The plan is one types file
 * (every type; handler files import it, so it comes first) and one handlers
 * file per resource, each with the JSON slice of the spec it implements
 * (its operations and the types they use). The check reads the generated
 * files: every operation's handler is defined (snake_case, camelCase or
 * PascalCase of the operation id, by a def/function/func/const/let
 * definition), every type is defined in the types file (class, interface,
 * type, struct, enum or an assignment), and every example of a type
 * validates against the type's schema (the spec's own components/$defs in
 * scope for $ref).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "agentc/json.h"
#include "agentc/schema.h"
#include "spec_int.h"

typedef struct lang {
    const char *name, *types_file, *ext, *suffix;
} lang;

static const lang LANGS[] = {
    {"python", "models.py", ".py", "_handlers"},
    {"typescript", "types.ts", ".ts", ""},
    {"go", "types.go", ".go", "_handlers"},
};

void agc_spec_plan_free(agc_spec_plan_file *files, size_t n, agc_ctx *ctx)
{
    for (size_t i = 0; files && i < n; i++) {
        agc_free(ctx, files[i].path);
        agc_free(ctx, files[i].role);
        agc_free(ctx, files[i].resource);
        agc_free(ctx, files[i].slice);
    }
    agc_free(ctx, files);
}

static json_t *types_slice(const agc_spec *s, const char *only_for)
{
    json_t *t = json_object();
    for (size_t i = 0; t && i < s->n_types; i++) {
        bool want = !only_for;
        for (size_t k = 0; !want && k < s->n_ops; k++) {
            const agc_spec_op *o = &s->ops[k];
            want = strcmp(o->resource, only_for) == 0 &&
                   ((o->request && strcmp(o->request, s->types[i].name) == 0) ||
                    (o->response && strcmp(o->response, s->types[i].name) == 0));
        }
        if (want && json_object_set(t, s->types[i].name, (json_t *)s->types[i].schema) != 0) {
            json_decref(t);
            return NULL;
        }
    }
    return t;
}

agc_status agc_spec_plan(agc_spec_plan_file **files, size_t *n, const agc_spec *spec,
                         const char *lang_name, const char *dir)
{
    agc_ctx *ctx = spec->ctx;
    *files = NULL;
    *n = 0;
    const lang *L = NULL;
    for (size_t i = 0; i < sizeof LANGS / sizeof *LANGS; i++)
        if (strcmp(LANGS[i].name, lang_name ? lang_name : "python") == 0)
            L = &LANGS[i];
    if (!L)
        return agc_error_set(ctx, AGC_EINVAL, "spec",
                             "unknown language '%s'; use python, typescript or go", lang_name);
    if (!dir || !*dir)
        dir = ".";
    size_t cap = spec->n_ops + 2;
    agc_spec_plan_file *f = agc_calloc(ctx, cap, sizeof *f);
    if (!f)
        return AGC_ENOMEM;
    size_t k = 0;
    agc_status st = AGC_OK;
    agc_ctx *prev = agc_json_enter(ctx);
    if (spec->n_types > 0) {
        json_t *sl = json_pack("{s:s, s:s}", "spec", spec->kind, "title", spec->title);
        if (sl && json_object_set_new(sl, "types", types_slice(spec, NULL)) != 0) {
            json_decref(sl);
            sl = NULL;
        }
        f[k].path = agc_sprintf(ctx, "%s/%s", dir, L->types_file);
        f[k].role = agc_strdup(ctx, "types");
        if (sl)
            st = agc_json_dump(&f[k].slice, sl, JSON_INDENT(1) | JSON_SORT_KEYS, ctx);
        json_decref(sl);
        if (!sl || !f[k].path || !f[k].role || !f[k].slice)
            st = AGC_ENOMEM;
        k++;
    }
    for (size_t i = 0; st == AGC_OK && i < spec->n_ops; i++) {
        const char *res = spec->ops[i].resource;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(spec->ops[j].resource, res) == 0;
        if (seen)
            continue;
        json_t *ops = json_array();
        for (size_t j = i; ops && j < spec->n_ops; j++) {
            const agc_spec_op *o = &spec->ops[j];
            if (strcmp(o->resource, res) != 0)
                continue;
            json_t *jo =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "operation", o->id, "handler",
                          o->handler, "method", o->method, "path", o->path, "summary", o->summary,
                          "request", o->request, "response", o->response);
            if (!jo || json_array_append_new(ops, jo) != 0) {
                json_decref(ops);
                ops = NULL;
            }
        }
        json_t *sl = ops ? json_pack("{s:s, s:s, s:s}", "spec", spec->kind, "resource", res,
                                     "types_module", L->types_file)
                         : NULL;
        if (!sl || json_object_set_new(sl, "operations", ops) != 0 ||
            json_object_set_new(sl, "types", types_slice(spec, res)) != 0) {
            if (!sl)
                json_decref(ops);
            json_decref(sl);
            sl = NULL;
        }
        f[k].path = agc_sprintf(ctx, "%s/%s%s%s", dir, res, L->suffix, L->ext);
        f[k].role = agc_strdup(ctx, "handlers");
        f[k].resource = agc_strdup(ctx, res);
        if (sl)
            st = agc_json_dump(&f[k].slice, sl, JSON_INDENT(1) | JSON_SORT_KEYS, ctx);
        json_decref(sl);
        if (!sl || !f[k].path || !f[k].role || !f[k].resource || !f[k].slice)
            st = AGC_ENOMEM;
        k++;
    }
    agc_json_leave(prev);
    if (st != AGC_OK) {
        agc_spec_plan_free(f, k, ctx);
        return st;
    }
    /* "./x" -> "x" */
    for (size_t i = 0; i < k; i++)
        if (strncmp(f[i].path, "./", 2) == 0)
            memmove(f[i].path, f[i].path + 2, strlen(f[i].path) - 1);
    *files = f;
    *n = k;
    return AGC_OK;
}

/* ---- check ------------------------------------------------------------------------------- */

static char *read_text(const char *root, const char *rel, agc_ctx *ctx)
{
    char *p = agc_sprintf(ctx, "%s/%s", root, rel);
    FILE *f = p ? fopen(p, "rb") : NULL;
    agc_free(ctx, p);
    if (!f)
        return NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, (size_t)16 << 20);
    char chunk[8192];
    size_t n;
    agc_status st = agc_buf_puts(&b, "");
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = agc_buf_append(&b, chunk, n);
    fclose(f);
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}

/* Whether text defines name: one of the keywords, then name, then a non-identifier char. */
static bool defines(const char *text, const char *name, const char *const *kw)
{
    size_t nl = strlen(name);
    for (const char *p = text; (p = strstr(p, name)); p++) {
        if (isalnum((unsigned char)p[nl]) || p[nl] == '_')
            continue;
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        const char *q = p;
        while (q > text && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '*'))
            q--;
        for (size_t k = 0; kw[k]; k++) {
            size_t kl = strlen(kw[k]);
            if ((size_t)(q - text) >= kl && strncmp(q - kl, kw[k], kl) == 0 &&
                (q - kl == text || !isalnum((unsigned char)q[-(long)kl - 1])))
                return true;
        }
        /* "name = ..." / "name: TypeAlias" at the start of a line */
        const char *ls = p;
        while (ls > text && (ls[-1] == ' ' || ls[-1] == '\t'))
            ls--;
        const char *after = p + nl;
        while (*after == ' ')
            after++;
        if ((ls == text || ls[-1] == '\n') && (after[0] == '=' && after[1] != '='))
            return true;
    }
    return false;
}

static void variants(char out[3][256], const char *snake)
{
    snprintf(out[0], 256, "%s", snake);
    size_t k1 = 0, k2 = 0;
    bool up = true;
    for (const char *p = snake; *p && k1 < 254; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        char c1 = (char)(up && k1 > 0 ? toupper((unsigned char)*p) : *p);
        out[1][k1++] = c1;
        out[2][k2++] = (char)(up ? toupper((unsigned char)*p) : *p);
        up = false;
    }
    out[1][k1] = out[2][k2] = '\0';
}

agc_status agc_spec_check(agc_buf *problems, const agc_spec *spec, const char *root,
                          const agc_spec_plan_file *files, size_t n)
{
    agc_ctx *ctx = spec->ctx;
    static const char *const fn_kw[] = {"def", "async def", "function", "func",           "const",
                                        "let", "var",       "fn",       "async function", NULL};
    static const char *const ty_kw[] = {"class", "interface",      "type", "struct",
                                        "enum",  "typedef struct", NULL};
    char **texts = agc_calloc(ctx, n + 1, sizeof *texts);
    if (!texts)
        return AGC_ENOMEM;
    agc_status st = AGC_OK;
    const char *types_text = NULL;
    for (size_t i = 0; i < n; i++) {
        texts[i] = read_text(root, files[i].path, ctx);
        if (!texts[i])
            st =
                agc_buf_printf(problems, "%s: the planned file was not generated\n", files[i].path);
        else if (strcmp(files[i].role, "types") == 0)
            types_text = texts[i];
    }
    for (size_t i = 0; st == AGC_OK && i < spec->n_ops; i++) {
        char v[3][256];
        variants(v, spec->ops[i].handler);
        bool found = false;
        for (size_t f = 0; f < n && !found; f++)
            for (int k = 0; k < 3 && texts[f] && !found; k++)
                found = defines(texts[f], v[k], fn_kw) ||
                        (strstr(texts[f], v[k]) && strstr(texts[f], "def ") == NULL &&
                         defines(texts[f], v[k], ty_kw)); /* Go methods: func (s *S) Name */
        for (size_t f = 0; f < n && !found; f++) {
            if (!texts[f])
                continue;
            for (int k = 0; k < 3 && !found; k++) { /* "func (r *Recv) Name(" */
                char pat[300];
                snprintf(pat, sizeof pat, ") %s(", v[k]);
                found = strstr(texts[f], pat) != NULL && strstr(texts[f], "func (") != NULL;
            }
        }
        if (!found)
            st = agc_buf_printf(problems, "operation %s %s (%s): no handler '%s' is defined\n",
                                spec->ops[i].method, spec->ops[i].path, spec->ops[i].id,
                                spec->ops[i].handler);
    }
    for (size_t i = 0; st == AGC_OK && types_text && i < spec->n_types; i++)
        if (!defines(types_text, spec->types[i].name, ty_kw))
            st = agc_buf_printf(problems, "type %s is not defined in the types file\n",
                                spec->types[i].name);
    /* examples against their schemas (with the document's definitions in scope) */
    agc_ctx *prev = agc_json_enter(ctx);
    for (size_t i = 0; st == AGC_OK && i < spec->n_types; i++) {
        const agc_spec_type *t = &spec->types[i];
        if (json_array_size(t->examples) == 0)
            continue;
        json_t *wrapper = json_deep_copy(t->schema);
        if (wrapper && spec->doc && json_is_object(wrapper)) {
            const json_t *comp = json_object_get(spec->doc, "components");
            if (comp)
                json_object_set(wrapper, "components", (json_t *)comp);
            static const char *const defs[] = {"$defs", "definitions", NULL};
            for (size_t d = 0; defs[d]; d++)
                if (json_object_get(spec->doc, defs[d]) && !json_object_get(wrapper, defs[d]))
                    json_object_set(wrapper, defs[d], json_object_get(spec->doc, defs[d]));
        }
        agc_schema *sc = NULL;
        if (!wrapper) {
            st = AGC_ENOMEM;
            break;
        }
        agc_status cst = agc_schema_compile(&sc, wrapper, NULL, ctx);
        json_decref(wrapper);
        if (cst == AGC_ENOMEM) {
            st = cst;
            break;
        }
        if (cst != AGC_OK) {
            st = agc_buf_printf(problems, "type %s: its schema does not compile: %s\n", t->name,
                                agc_ctx_errmsg(ctx));
            agc_error_clear(ctx);
            continue;
        }
        size_t k;
        json_t *ex;
        json_array_foreach(t->examples, k, ex)
        {
            agc_schema_result *res = NULL;
            agc_status vst = agc_schema_validate(&res, sc, ex, ctx);
            if (vst == AGC_ESCHEMA)
                st = agc_buf_printf(problems, "type %s: example %zu does not validate: %s\n",
                                    t->name, k + 1, agc_ctx_errmsg(ctx));
            else if (vst == AGC_ENOMEM)
                st = vst;
            agc_schema_result_free(res, ctx);
            agc_error_clear(ctx);
            if (st != AGC_OK)
                break;
        }
        agc_schema_free(sc, ctx);
    }
    agc_json_leave(prev);
    for (size_t i = 0; i < n; i++)
        agc_free(ctx, texts[i]);
    agc_free(ctx, texts);
    if (st != AGC_OK)
        return st;
    return problems->len ? AGC_ESCHEMA : AGC_OK;
}
