/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Outline: walks a parse tree and records definitions (functions, methods,
 * classes, types, interfaces, modules, macros) with their exact byte and
 * line ranges. The node-type rules per language are ours (the grammars'
 * tags.scm mark names, not whole definitions, and C's misses bodies). The
 * walk does not descend into function bodies: local definitions are not
 * part of an outline.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "ast_int.h"

#define MAX_DEPTH 200

typedef struct walker {
    agc_ast_outline *o;
    agc_arena *arena;
    const char *src;
    size_t cap;
    const char *lang;
    bool c_like, py, js, go, rust;
    agc_status st;
} walker;

static bool is(TSNode n, const char *type)
{
    return !ts_node_is_null(n) && strcmp(ts_node_type(n), type) == 0;
}

static TSNode field(TSNode n, const char *name)
{
    return ts_node_child_by_field_name(n, name, (uint32_t)strlen(name));
}

static char *node_text(walker *w, TSNode n)
{
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    char *s = agc_arena_alloc(w->arena, b - a + 1);
    if (!s)
        return NULL;
    memcpy(s, w->src + a, b - a);
    s[b - a] = '\0';
    return s;
}

/* C/C++: follows declarator fields down to the declared name. */
static TSNode declarator_name(TSNode d, bool *is_function)
{
    while (!ts_node_is_null(d)) {
        const char *t = ts_node_type(d);
        if (strcmp(t, "function_declarator") == 0 && is_function)
            *is_function = true;
        if (strcmp(t, "identifier") == 0 || strcmp(t, "field_identifier") == 0 ||
            strcmp(t, "type_identifier") == 0 || strcmp(t, "qualified_identifier") == 0 ||
            strcmp(t, "operator_name") == 0 || strcmp(t, "destructor_name") == 0 ||
            strcmp(t, "primitive_type") == 0)
            return d;
        TSNode next = field(d, "declarator");
        if (ts_node_is_null(next))
            next = ts_node_named_child_count(d) ? ts_node_named_child(d, 0) : next;
        d = next;
    }
    return d;
}

typedef struct def {
    bool found;
    agc_ast_kind kind;
    TSNode name; /* node whose text is the name (may be null when name_text is set) */
    const char *name_text;
    const char *scope; /* qualifier from the source (C++ A::f, Go receiver, JS object) */
    TSNode outer;
    bool recurse, decl;
} def;

static bool has_function_value(TSNode v)
{
    return is(v, "arrow_function") || is(v, "function_expression") || is(v, "function") ||
           is(v, "generator_function");
}

static void classify_c(walker *w, TSNode n, const char *t, agc_ast_kind pkind, bool in_class,
                       def *d)
{
    if (strcmp(t, "function_definition") == 0 || strcmp(t, "declaration") == 0 ||
        strcmp(t, "field_declaration") == 0) {
        bool fn = false;
        TSNode nm = declarator_name(field(n, "declarator"), &fn);
        if (ts_node_is_null(nm) || (!fn && strcmp(t, "function_definition") != 0))
            return;
        d->found = true;
        d->decl = strcmp(t, "function_definition") != 0;
        d->kind = in_class ? AGC_AST_METHOD : AGC_AST_FUNCTION;
        if (is(nm, "qualified_identifier")) {
            TSNode last = field(nm, "name");
            while (is(last, "qualified_identifier"))
                last = field(last, "name");
            uint32_t a = ts_node_start_byte(nm), b = ts_node_start_byte(last);
            while (b > a && w->src[b - 1] == ':')
                b--;
            char *scope = agc_arena_alloc(w->arena, b - a + 1);
            if (scope) {
                memcpy(scope, w->src + a, b - a);
                scope[b - a] = '\0';
            }
            d->scope = scope;
            nm = last;
            d->kind = AGC_AST_METHOD;
        }
        d->name = nm;
    } else if ((strcmp(t, "struct_specifier") == 0 || strcmp(t, "union_specifier") == 0 ||
                strcmp(t, "class_specifier") == 0) &&
               !ts_node_is_null(field(n, "body")) && !ts_node_is_null(field(n, "name"))) {
        d->found = true, d->kind = AGC_AST_CLASS, d->name = field(n, "name"), d->recurse = true;
    } else if (strcmp(t, "enum_specifier") == 0 && !ts_node_is_null(field(n, "body")) &&
               !ts_node_is_null(field(n, "name"))) {
        d->found = true, d->kind = AGC_AST_TYPE, d->name = field(n, "name");
    } else if (strcmp(t, "type_definition") == 0) {
        TSNode nm = declarator_name(field(n, "declarator"), NULL);
        if (!ts_node_is_null(nm))
            d->found = true, d->kind = AGC_AST_TYPE, d->name = nm, d->recurse = true;
    } else if (strcmp(t, "alias_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_TYPE, d->name = field(n, "name");
    } else if (strcmp(t, "namespace_definition") == 0 && !ts_node_is_null(field(n, "name"))) {
        d->found = true, d->kind = AGC_AST_MODULE, d->name = field(n, "name"), d->recurse = true;
    } else if (strcmp(t, "preproc_function_def") == 0) {
        d->found = true, d->kind = AGC_AST_MACRO, d->name = field(n, "name");
    }
    (void)pkind;
}

static void classify_py(TSNode n, const char *t, bool in_class, def *d)
{
    if (strcmp(t, "function_definition") == 0) {
        d->found = true, d->name = field(n, "name");
        d->kind = in_class ? AGC_AST_METHOD : AGC_AST_FUNCTION;
    } else if (strcmp(t, "class_definition") == 0) {
        d->found = true, d->kind = AGC_AST_CLASS, d->name = field(n, "name"), d->recurse = true;
    }
}

static void classify_js(walker *w, TSNode n, const char *t, bool in_class, def *d)
{
    if (strcmp(t, "function_declaration") == 0 ||
        strcmp(t, "generator_function_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_FUNCTION, d->name = field(n, "name");
    } else if (strcmp(t, "function_signature") == 0) {
        d->found = true, d->kind = AGC_AST_FUNCTION, d->name = field(n, "name"), d->decl = true;
    } else if (strcmp(t, "class_declaration") == 0 ||
               strcmp(t, "abstract_class_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_CLASS, d->name = field(n, "name"), d->recurse = true;
    } else if (strcmp(t, "method_definition") == 0) {
        d->found = true, d->kind = AGC_AST_METHOD, d->name = field(n, "name");
    } else if (strcmp(t, "method_signature") == 0 || strcmp(t, "abstract_method_signature") == 0) {
        d->found = true, d->kind = AGC_AST_METHOD, d->name = field(n, "name"), d->decl = true;
    } else if (strcmp(t, "interface_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_INTERFACE, d->name = field(n, "name");
        d->recurse = true;
    } else if (strcmp(t, "type_alias_declaration") == 0 || strcmp(t, "enum_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_TYPE, d->name = field(n, "name");
    } else if (strcmp(t, "internal_module") == 0 || strcmp(t, "module") == 0) {
        d->found = !ts_node_is_null(field(n, "name"));
        d->kind = AGC_AST_MODULE, d->name = field(n, "name"), d->recurse = true;
    } else if (strcmp(t, "lexical_declaration") == 0 || strcmp(t, "variable_declaration") == 0) {
        uint32_t k = ts_node_named_child_count(n);
        for (uint32_t i = 0; i < k; i++) {
            TSNode v = ts_node_named_child(n, i);
            if (!is(v, "variable_declarator"))
                continue;
            TSNode val = field(v, "value");
            if (has_function_value(val) || is(val, "class")) {
                d->found = true, d->name = field(v, "name");
                d->kind = is(val, "class") ? AGC_AST_CLASS : AGC_AST_FUNCTION;
                d->recurse = is(val, "class");
                return;
            }
        }
    } else if ((strcmp(t, "public_field_definition") == 0 || strcmp(t, "field_definition") == 0) &&
               in_class && has_function_value(field(n, "value"))) {
        TSNode nm = field(n, "name");
        if (ts_node_is_null(nm))
            nm = field(n, "property");
        d->found = !ts_node_is_null(nm), d->kind = AGC_AST_METHOD, d->name = nm;
    } else if (strcmp(t, "expression_statement") == 0 && ts_node_named_child_count(n) == 1) {
        TSNode a = ts_node_named_child(n, 0);
        if (!is(a, "assignment_expression") || !has_function_value(field(a, "right")))
            return;
        TSNode left = field(a, "left");
        if (is(left, "identifier")) {
            d->found = true, d->kind = AGC_AST_FUNCTION, d->name = left;
        } else if (is(left, "member_expression")) {
            d->found = true, d->kind = AGC_AST_FUNCTION, d->name = field(left, "property");
            d->scope = node_text(w, field(left, "object"));
        }
    }
}

static void classify_go(walker *w, TSNode n, const char *t, def *d)
{
    if (strcmp(t, "function_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_FUNCTION, d->name = field(n, "name");
    } else if (strcmp(t, "method_declaration") == 0) {
        d->found = true, d->kind = AGC_AST_METHOD, d->name = field(n, "name");
        TSNode recv = field(n, "receiver");
        for (uint32_t i = 0; i < ts_node_named_child_count(recv); i++) {
            TSNode p = ts_node_named_child(recv, i), ty = field(p, "type");
            while (is(ty, "pointer_type") || is(ty, "generic_type"))
                ty = ts_node_named_child(ty, 0);
            if (!ts_node_is_null(ty)) {
                d->scope = node_text(w, ty);
                break;
            }
        }
    } else if (strcmp(t, "type_spec") == 0 || strcmp(t, "type_alias") == 0) {
        TSNode ty = field(n, "type");
        d->found = true, d->name = field(n, "name");
        d->kind = is(ty, "struct_type")      ? AGC_AST_CLASS
                  : is(ty, "interface_type") ? AGC_AST_INTERFACE
                                             : AGC_AST_TYPE;
        TSNode p = ts_node_parent(n);
        if (is(p, "type_declaration") && ts_node_named_child_count(p) == 1)
            d->outer = p;
    }
}

static void classify_rust(walker *w, TSNode n, const char *t, bool in_class, def *d)
{
    if (strcmp(t, "function_item") == 0) {
        d->found = true, d->name = field(n, "name");
        d->kind = in_class ? AGC_AST_METHOD : AGC_AST_FUNCTION;
    } else if (strcmp(t, "function_signature_item") == 0) {
        d->found = true, d->name = field(n, "name"), d->decl = true;
        d->kind = in_class ? AGC_AST_METHOD : AGC_AST_FUNCTION;
    } else if (strcmp(t, "struct_item") == 0 || strcmp(t, "enum_item") == 0 ||
               strcmp(t, "union_item") == 0) {
        d->found = true, d->kind = AGC_AST_CLASS, d->name = field(n, "name");
    } else if (strcmp(t, "type_item") == 0) {
        d->found = true, d->kind = AGC_AST_TYPE, d->name = field(n, "name");
    } else if (strcmp(t, "trait_item") == 0) {
        d->found = true, d->kind = AGC_AST_INTERFACE, d->name = field(n, "name");
        d->recurse = true;
    } else if (strcmp(t, "impl_item") == 0) {
        TSNode ty = field(n, "type");
        while (is(ty, "generic_type"))
            ty = field(ty, "type");
        d->found = !ts_node_is_null(ty), d->kind = AGC_AST_MODULE, d->recurse = true;
        d->name = ty;
    } else if (strcmp(t, "mod_item") == 0) {
        d->found = true, d->kind = AGC_AST_MODULE, d->name = field(n, "name"), d->recurse = true;
    } else if (strcmp(t, "macro_definition") == 0) {
        d->found = true, d->kind = AGC_AST_MACRO, d->name = field(n, "name");
    } else if (strcmp(t, "const_item") == 0 || strcmp(t, "static_item") == 0) {
        d->found = true, d->kind = AGC_AST_CONSTANT, d->name = field(n, "name");
    }
    (void)w;
}

static bool wrapper(TSNode p)
{
    return is(p, "decorated_definition") || is(p, "export_statement") ||
           is(p, "template_declaration");
}

static void signature(walker *w, agc_ast_symbol *s, size_t from)
{
    size_t e = from;
    while (e < s->end_byte && w->src[e] != '\n' && e - from < 200)
        e++;
    while (e > from && (w->src[e - 1] == ' ' || w->src[e - 1] == '\t' || w->src[e - 1] == '\r'))
        e--;
    char *sig = agc_arena_alloc(w->arena, e - from + 1);
    if (sig) {
        memcpy(sig, w->src + from, e - from);
        sig[e - from] = '\0';
    }
    s->signature = sig ? sig : "";
}

static agc_status add(walker *w, TSNode n, const def *d, long parent)
{
    agc_ast_outline *o = w->o;
    if (o->n_symbols == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        agc_ast_symbol *ns = agc_realloc(o->ctx, o->symbols, nc * sizeof *ns);
        if (!ns)
            return AGC_ENOMEM;
        o->symbols = ns, w->cap = nc;
    }
    const char *name = d->name_text ? d->name_text : node_text(w, d->name);
    if (!name)
        return AGC_ENOMEM;
    TSNode outer = d->outer;
    if (ts_node_is_null(outer)) {
        outer = n;
        TSNode p = ts_node_parent(n);
        while (wrapper(p)) {
            outer = p;
            p = ts_node_parent(p);
        }
    }
    agc_ast_symbol *s = &o->symbols[o->n_symbols];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->kind = d->kind;
    s->parent = parent;
    s->declaration = d->decl;
    s->start_byte = ts_node_start_byte(outer);
    s->end_byte = ts_node_end_byte(outer);
    s->inner_start_byte = ts_node_is_null(d->outer) ? ts_node_start_byte(n) : s->start_byte;
    TSPoint sp = ts_node_start_point(outer), ep = ts_node_end_point(outer);
    s->start_line = sp.row + 1;
    s->start_col = sp.column;
    s->end_line = (ep.column == 0 && ep.row > sp.row) ? ep.row : ep.row + 1;
    const char *scope = d->scope;
    if (!scope && parent >= 0) {
        const agc_ast_symbol *ps = &o->symbols[parent];
        if (ps->kind == AGC_AST_CLASS || ps->kind == AGC_AST_INTERFACE ||
            ps->kind == AGC_AST_MODULE)
            scope = ps->qualified;
    }
    if (scope && *scope) {
        char *q = agc_arena_sprintf(w->arena, "%s.%s", scope, name);
        if (!q)
            return AGC_ENOMEM;
        for (char *c = q; (c = strstr(c, "::")) != NULL;)
            memmove(c, c + 1, strlen(c + 1) + 1), *c = '.';
        s->qualified = q;
    } else {
        s->qualified = name;
    }
    signature(w, s, s->inner_start_byte);
    o->n_symbols++;
    return AGC_OK;
}

static void walk(walker *w, TSNode node, long parent, unsigned depth)
{
    if (w->st != AGC_OK || depth > MAX_DEPTH)
        return;
    uint32_t k = ts_node_named_child_count(node);
    for (uint32_t i = 0; i < k && w->st == AGC_OK; i++) {
        TSNode n = ts_node_named_child(node, i);
        if (agc_ast__is_error(n))
            continue;
        const char *t = ts_node_type(n);
        agc_ast_kind pkind = parent >= 0 ? w->o->symbols[parent].kind : AGC_AST_FUNCTION;
        bool in_class = parent >= 0 && (pkind == AGC_AST_CLASS || pkind == AGC_AST_INTERFACE ||
                                        (pkind == AGC_AST_MODULE && w->rust));
        def d = {.found = false};
        d.outer = (TSNode){0};
        d.name = (TSNode){0};
        if (w->c_like)
            classify_c(w, n, t, pkind, in_class, &d);
        else if (w->py)
            classify_py(n, t, in_class, &d);
        else if (w->js)
            classify_js(w, n, t, in_class, &d);
        else if (w->go)
            classify_go(w, n, t, &d);
        else if (w->rust)
            classify_rust(w, n, t, in_class, &d);
        if (d.found && (d.name_text || !ts_node_is_null(d.name))) {
            if (add(w, n, &d, parent) != AGC_OK) {
                w->st = AGC_ENOMEM;
                return;
            }
            if (d.recurse)
                walk(w, n, (long)w->o->n_symbols - 1, depth + 1);
        } else if (!d.found) {
            walk(w, n, parent, depth + 1);
        }
    }
}

void agc_ast_outline_free(agc_ast_outline *o)
{
    if (!o)
        return;
    agc_ctx *ctx = o->ctx;
    agc_arena_free(o->priv);
    agc_free(ctx, o->symbols);
    agc_free(ctx, o);
}

agc_status agc_ast_outline_new(agc_ast_outline **out, const char *path, const char *src, size_t len,
                               agc_ctx *ctx)
{
    *out = NULL;
    const char *lang;
    agc_status st = agc_ast__lang(&lang, path, ctx);
    if (st != AGC_OK)
        return st;
    agc_ast_outline *o = agc_calloc(ctx, 1, sizeof *o);
    if (!o)
        return AGC_ENOMEM;
    o->ctx = ctx;
    o->language = lang;
    agc_arena *arena = NULL;
    if ((st = agc_arena_new(&arena, 0, ctx)) != AGC_OK) {
        agc_free(ctx, o);
        return st;
    }
    o->priv = arena;
    TSTree *tree = NULL;
    if ((st = agc_ast__parse(&tree, lang, src, len, ctx)) != AGC_OK) {
        agc_ast_outline_free(o);
        return st;
    }
    TSNode root = ts_tree_root_node(tree);
    o->n_errors = ts_node_has_error(root) ? agc_ast__count_errors(root) : 0;
    walker w = {.o = o, .arena = arena, .src = src, .lang = lang};
    w.c_like = strcmp(lang, "c") == 0 || strcmp(lang, "cpp") == 0;
    w.py = strcmp(lang, "python") == 0;
    w.js = strcmp(lang, "javascript") == 0 || strcmp(lang, "typescript") == 0 ||
           strcmp(lang, "tsx") == 0;
    w.go = strcmp(lang, "go") == 0;
    w.rust = strcmp(lang, "rust") == 0;
    walk(&w, root, -1, 0);
    ts_tree_delete(tree);
    if (w.st != AGC_OK) {
        agc_ast_outline_free(o);
        return agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory outlining '%s'", path);
    }
    *out = o;
    return AGC_OK;
}
