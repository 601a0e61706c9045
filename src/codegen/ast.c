/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Syntax check (ERROR / MISSING nodes to "LINE:COL: syntax error near ..."
 * lines), symbol lookup in an outline and outline rendering (text, JSON).
 */
#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "ast_int.h"

#define MAX_ERROR_LINES 20

const char *agc_ast_kind_name(agc_ast_kind k)
{
    switch (k) {
    case AGC_AST_FUNCTION:
        return "function";
    case AGC_AST_METHOD:
        return "method";
    case AGC_AST_CLASS:
        return "class";
    case AGC_AST_TYPE:
        return "type";
    case AGC_AST_INTERFACE:
        return "interface";
    case AGC_AST_MODULE:
        return "module";
    case AGC_AST_CONSTANT:
        return "constant";
    case AGC_AST_MACRO:
        return "macro";
    }
    return "symbol";
}

/* Appends the node's text, on one line, at most 40 bytes, quoted. */
static agc_status put_snippet(agc_buf *b, const char *src, size_t len, TSNode n)
{
    size_t a = ts_node_start_byte(n), e = ts_node_end_byte(n);
    if (a >= len)
        return agc_buf_puts(b, "end of file");
    if (e > len)
        e = len;
    if (e == a) /* zero-width: show what follows */
        e = a + 1 < len ? a + 1 : len;
    agc_status st = agc_buf_putc(b, '`');
    size_t shown = 0;
    bool space = false;
    for (size_t i = a; i < e && shown < 40 && st == AGC_OK; i++) {
        unsigned char c = (unsigned char)src[i];
        if (isspace(c)) {
            space = shown > 0;
            continue;
        }
        if (space)
            st = agc_buf_putc(b, ' '), shown++, space = false;
        if (st == AGC_OK)
            st = agc_buf_putc(b, (char)c), shown++;
    }
    if (st == AGC_OK)
        st = agc_buf_puts(b, shown >= 40 ? "...`" : "`");
    return st;
}

static agc_status collect(agc_buf *b, size_t *count, TSNode root, const char *src, size_t len)
{
    TSTreeCursor c = ts_tree_cursor_new(root);
    agc_status st = AGC_OK;
    for (;;) {
        TSNode node = ts_tree_cursor_current_node(&c);
        bool descend = false;
        bool err = agc_ast__is_error(node), missing = !err && ts_node_is_missing(node);
        if (err || missing) {
            (*count)++;
            if (*count <= MAX_ERROR_LINES && st == AGC_OK) {
                TSPoint p = ts_node_start_point(node);
                st = agc_buf_printf(b, "%u:%u: syntax error near ", p.row + 1, p.column + 1);
                if (st == AGC_OK && missing) {
                    TSNode ctxnode = ts_node_parent(node);
                    st = put_snippet(b, src, len, ts_node_is_null(ctxnode) ? node : ctxnode);
                    if (st == AGC_OK)
                        st = agc_buf_printf(b, " (missing %s)", ts_node_type(node));
                } else if (st == AGC_OK) {
                    st = put_snippet(b, src, len, node);
                }
                if (st == AGC_OK)
                    st = agc_buf_putc(b, '\n');
            }
        } else {
            descend = ts_node_has_error(node);
        }
        if (descend && ts_tree_cursor_goto_first_child(&c))
            continue;
        bool done = false;
        while (!ts_tree_cursor_goto_next_sibling(&c)) {
            if (!ts_tree_cursor_goto_parent(&c)) {
                done = true;
                break;
            }
        }
        if (done)
            break;
    }
    ts_tree_cursor_delete(&c);
    return st;
}

agc_status agc_ast_check_syntax(char **errors, const char *path, const char *src, size_t len,
                                agc_ctx *ctx)
{
    *errors = NULL;
    const char *lang;
    agc_status st = agc_ast__lang(&lang, path, ctx);
    if (st != AGC_OK)
        return st;
    TSTree *tree = NULL;
    if ((st = agc_ast__parse(&tree, lang, src, len, ctx)) != AGC_OK)
        return st;
    TSNode root = ts_tree_root_node(tree);
    if (!ts_node_has_error(root)) {
        ts_tree_delete(tree);
        return AGC_OK;
    }
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    size_t count = 0;
    st = collect(&b, &count, root, src, len);
    ts_tree_delete(tree);
    if (st == AGC_OK && count > MAX_ERROR_LINES)
        st = agc_buf_printf(&b, "... %zu more\n", count - MAX_ERROR_LINES);
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory listing syntax errors");
    }
    char *text = agc_buf_detach(&b, NULL);
    if (!text)
        return AGC_ENOMEM;
    size_t first = strcspn(text, "\n");
    *errors = text;
    return agc_error_set(ctx, AGC_EPARSE, "ast", "%s: %zu syntax error%s, first at %.*s", path,
                         count, count == 1 ? "" : "s", (int)first, text);
}

long agc_ast_error_count(const char *path, const char *src, size_t len, agc_ctx *ctx)
{
    const char *lang;
    if (agc_ast__lang(&lang, path, ctx) != AGC_OK)
        return -1;
    TSTree *tree = NULL;
    if (agc_ast__parse(&tree, lang, src, len, ctx) != AGC_OK)
        return -1;
    TSNode root = ts_tree_root_node(tree);
    long n = ts_node_has_error(root) ? (long)agc_ast__count_errors(root) : 0;
    ts_tree_delete(tree);
    return n;
}

/* "A::b" -> "A.b" into buf (cut at size). */
static void normalize(char *buf, size_t size, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 1 < size; i++) {
        if (name[i] == ':' && name[i + 1] == ':') {
            buf[j++] = '.';
            i++;
        } else {
            buf[j++] = name[i];
        }
    }
    buf[j] = '\0';
}

agc_status agc_ast_find_symbol(const agc_ast_symbol **out, const agc_ast_outline *o,
                               const char *name, agc_ctx *ctx)
{
    *out = NULL;
    if (!name || !*name)
        return agc_error_set(ctx, AGC_EINVAL, "ast", "empty symbol name");
    char want[512];
    normalize(want, sizeof want, name);
    bool qualified = strchr(want, '.') != NULL;
    size_t matches = 0, defs = 0;
    const agc_ast_symbol *first = NULL, *first_def = NULL;
    for (size_t i = 0; i < o->n_symbols; i++) {
        const agc_ast_symbol *s = &o->symbols[i];
        bool hit = strcmp(s->qualified, want) == 0 || (!qualified && strcmp(s->name, want) == 0);
        if (!hit)
            continue;
        matches++;
        if (!first)
            first = s;
        if (!s->declaration) {
            defs++;
            if (!first_def)
                first_def = s;
        }
    }
    if (matches == 1 || (matches > 1 && defs == 1)) {
        *out = matches == 1 ? first : first_def;
        return AGC_OK;
    }
    agc_buf b;
    agc_buf_init(&b, ctx, 2048);
    agc_status st;
    if (matches > 1) {
        for (size_t i = 0; i < o->n_symbols; i++) {
            const agc_ast_symbol *s = &o->symbols[i];
            if (strcmp(s->qualified, want) == 0 || (!qualified && strcmp(s->name, want) == 0))
                (void)agc_buf_printf(&b, "%s%s %s (line %u)", b.len ? ", " : "",
                                     agc_ast_kind_name(s->kind), s->qualified, s->start_line);
        }
        st = agc_error_set(ctx, AGC_EINVAL, "ast",
                           "symbol '%s' is ambiguous: %s; name it qualified (Class.method)", name,
                           agc_buf_cstr(&b));
    } else {
        const char *base = strrchr(want, '.');
        base = base ? base + 1 : want;
        size_t shown = 0;
        for (int pass = 0; pass < 2 && shown == 0; pass++) {
            for (size_t i = 0; i < o->n_symbols && shown < 15; i++) {
                const agc_ast_symbol *s = &o->symbols[i];
                if (pass == 0 && !strcasestr(s->qualified, base))
                    continue;
                (void)agc_buf_printf(&b, "%s%s", shown ? ", " : "", s->qualified);
                shown++;
            }
        }
        st = agc_error_set(ctx, AGC_ENOTFOUND, "ast", "no symbol '%s' in this file; %s%s", name,
                           shown ? "symbols: " : "the file has no definitions", agc_buf_cstr(&b));
    }
    agc_buf_free(&b);
    return st;
}

static unsigned depth_of(const agc_ast_outline *o, const agc_ast_symbol *s)
{
    unsigned d = 0;
    for (long p = s->parent; p >= 0 && d < 64; p = o->symbols[p].parent)
        d++;
    return d;
}

static agc_status render_json(char **out, const agc_ast_outline *o, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *root = json_object(), *arr = json_array();
    bool ok = root && arr && json_object_set_new(root, "language", json_string(o->language)) == 0 &&
              json_object_set_new(root, "errors", json_integer((json_int_t)o->n_errors)) == 0;
    for (size_t i = 0; ok && i < o->n_symbols; i++) {
        const agc_ast_symbol *s = &o->symbols[i];
        json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:b}", "name", s->name, "qualified",
                              s->qualified, "kind", agc_ast_kind_name(s->kind), "start_line",
                              (json_int_t)s->start_line, "end_line", (json_int_t)s->end_line,
                              "signature", s->signature, "declaration", s->declaration);
        if (e && s->parent >= 0 &&
            json_object_set_new(e, "parent", json_string(o->symbols[s->parent].qualified)) != 0) {
            json_decref(e);
            e = NULL;
        }
        ok = e && json_array_append_new(arr, e) == 0;
    }
    ok = ok && json_object_set(root, "symbols", arr) == 0;
    agc_status st = ok ? agc_json_dump(out, root, JSON_INDENT(2), ctx) : AGC_ENOMEM;
    json_decref(arr);
    json_decref(root);
    agc_json_leave(prev);
    if (st == AGC_ENOMEM)
        return agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory rendering an outline");
    return st;
}

agc_status agc_ast_outline_render(char **out, const agc_ast_outline *o, bool json, agc_ctx *ctx)
{
    *out = NULL;
    if (json)
        return render_json(out, o, ctx);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = AGC_OK;
    for (size_t i = 0; i < o->n_symbols && st == AGC_OK; i++) {
        const agc_ast_symbol *s = &o->symbols[i];
        st = agc_buf_printf(&b, "%*s%u-%u %s%s %s: %s\n", (int)(2 * depth_of(o, s)), "",
                            s->start_line, s->end_line, agc_ast_kind_name(s->kind),
                            s->declaration ? " (declaration)" : "", s->qualified, s->signature);
    }
    if (st == AGC_OK && o->n_errors)
        st = agc_buf_printf(&b, "(%zu syntax error%s: the outline may be incomplete)\n",
                            o->n_errors, o->n_errors == 1 ? "" : "s");
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory rendering an outline");
    }
    *out = agc_buf_detach(&b, NULL);
    return *out ? AGC_OK : AGC_ENOMEM;
}
