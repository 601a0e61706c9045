/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Languages: file-name to language mapping, the table of grammars compiled
 * into this build (AGC_TS_HAVE_<LANG> from CMake) and parsing with limits.
 * The tags queries come from generated/ts_tags.c (written by CMake from the
 * grammar packages' queries/tags.scm); they are never part of the sources.
 */
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "ast_int.h"

#ifdef AGC_TS_HAVE_C
const TSLanguage *tree_sitter_c(void);
#endif
#ifdef AGC_TS_HAVE_CPP
const TSLanguage *tree_sitter_cpp(void);
#endif
#ifdef AGC_TS_HAVE_PYTHON
const TSLanguage *tree_sitter_python(void);
#endif
#ifdef AGC_TS_HAVE_JAVASCRIPT
const TSLanguage *tree_sitter_javascript(void);
#endif
#ifdef AGC_TS_HAVE_TYPESCRIPT
const TSLanguage *tree_sitter_typescript(void);
#endif
#ifdef AGC_TS_HAVE_TSX
const TSLanguage *tree_sitter_tsx(void);
#endif
#ifdef AGC_TS_HAVE_GO
const TSLanguage *tree_sitter_go(void);
#endif
#ifdef AGC_TS_HAVE_RUST
const TSLanguage *tree_sitter_rust(void);
#endif
#ifdef AGC_TS_HAVE_JSON
const TSLanguage *tree_sitter_json(void);
#endif

struct agc__ts_tags {
    const char *lang;
    const char *query;
};
extern const struct agc__ts_tags agc__ts_tags_table[];

typedef struct grammar {
    const char *name;
    const TSLanguage *(*fn)(void);
} grammar;

static const grammar grammars[] = {
#ifdef AGC_TS_HAVE_C
    {"c", tree_sitter_c},
#endif
#ifdef AGC_TS_HAVE_CPP
    {"cpp", tree_sitter_cpp},
#endif
#ifdef AGC_TS_HAVE_PYTHON
    {"python", tree_sitter_python},
#endif
#ifdef AGC_TS_HAVE_JAVASCRIPT
    {"javascript", tree_sitter_javascript},
#endif
#ifdef AGC_TS_HAVE_TYPESCRIPT
    {"typescript", tree_sitter_typescript},
#endif
#ifdef AGC_TS_HAVE_TSX
    {"tsx", tree_sitter_tsx},
#endif
#ifdef AGC_TS_HAVE_GO
    {"go", tree_sitter_go},
#endif
#ifdef AGC_TS_HAVE_RUST
    {"rust", tree_sitter_rust},
#endif
#ifdef AGC_TS_HAVE_JSON
    {"json", tree_sitter_json},
#endif
    {NULL, NULL}};

static const char *const language_names[] = {
#ifdef AGC_TS_HAVE_C
    "c",
#endif
#ifdef AGC_TS_HAVE_CPP
    "cpp",
#endif
#ifdef AGC_TS_HAVE_PYTHON
    "python",
#endif
#ifdef AGC_TS_HAVE_JAVASCRIPT
    "javascript",
#endif
#ifdef AGC_TS_HAVE_TYPESCRIPT
    "typescript",
#endif
#ifdef AGC_TS_HAVE_TSX
    "tsx",
#endif
#ifdef AGC_TS_HAVE_GO
    "go",
#endif
#ifdef AGC_TS_HAVE_RUST
    "rust",
#endif
#ifdef AGC_TS_HAVE_JSON
    "json",
#endif
    NULL};

static const struct {
    const char *ext;
    const char *lang;
} extensions[] = {
    {"c", "c"},
    {"h", "c"},
    {"cc", "cpp"},
    {"cpp", "cpp"},
    {"cxx", "cpp"},
    {"c++", "cpp"},
    {"hh", "cpp"},
    {"hpp", "cpp"},
    {"hxx", "cpp"},
    {"h++", "cpp"},
    {"ipp", "cpp"},
    {"py", "python"},
    {"pyi", "python"},
    {"js", "javascript"},
    {"mjs", "javascript"},
    {"cjs", "javascript"},
    {"jsx", "javascript"},
    {"ts", "typescript"},
    {"mts", "typescript"},
    {"cts", "typescript"},
    {"tsx", "tsx"},
    {"go", "go"},
    {"rs", "rust"},
    {"json", "json"},
};

const char *agc_ast_language_for_path(const char *path)
{
    if (!path)
        return NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1])
        return NULL;
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (strcasecmp(dot + 1, extensions[i].ext) == 0)
            return extensions[i].lang;
    return NULL;
}

const TSLanguage *agc_ast__grammar(const char *lang)
{
    if (!lang)
        return NULL;
    for (const grammar *g = grammars; g->name; g++)
        if (strcmp(g->name, lang) == 0)
            return g->fn();
    return NULL;
}

bool agc_ast_language_available(const char *lang)
{
    return agc_ast__grammar(lang) != NULL;
}

const char *const *agc_ast_languages(void)
{
    return language_names;
}

const char *agc_ast__tags_source(const char *lang)
{
    if (!lang)
        return NULL;
    for (const struct agc__ts_tags *t = agc__ts_tags_table; t->lang; t++)
        if (strcmp(t->lang, lang) == 0)
            return t->query;
    return NULL;
}

agc_status agc_ast__lang(const char **lang_out, const char *path, agc_ctx *ctx)
{
    const char *lang = agc_ast_language_for_path(path);
    *lang_out = NULL;
    if (!lang)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "ast",
                             "'%s': unknown language (supported extensions: .c .h .cc .cpp .hpp "
                             ".py .js .mjs .jsx .ts .tsx .go .rs .json)",
                             path ? path : "(null)");
    if (!agc_ast__grammar(lang))
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "ast",
                             "'%s': the %s grammar is not compiled into this build (run 'make "
                             "deps' and reconfigure)",
                             path, lang);
    *lang_out = lang;
    return AGC_OK;
}

agc_status agc_ast__parse(TSTree **out, const char *lang, const char *src, size_t len, agc_ctx *ctx)
{
    *out = NULL;
    const TSLanguage *g = agc_ast__grammar(lang);
    if (!g)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "ast", "no %s grammar in this build",
                             lang ? lang : "(null)");
    if (len > AGC_AST_MAX_SOURCE)
        return agc_error_set(ctx, AGC_ELIMIT, "ast", "source of %zu bytes is over the %zu limit",
                             len, AGC_AST_MAX_SOURCE);
    TSParser *p = ts_parser_new();
    if (!p)
        return agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory creating a parser");
    if (!ts_parser_set_language(p, g)) {
        ts_parser_delete(p);
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "ast",
                             "the %s grammar's ABI (%u) does not load in this libtree-sitter", lang,
                             ts_language_version(g));
    }
    ts_parser_set_timeout_micros(p, 10u * 1000u * 1000u);
    TSTree *t = ts_parser_parse_string(p, NULL, src ? src : "", (uint32_t)len);
    ts_parser_delete(p);
    if (!t)
        return agc_error_set(ctx, AGC_ETIMEDOUT, "ast", "parsing %zu bytes of %s took over 10 s",
                             len, lang);
    *out = t;
    return AGC_OK;
}

size_t agc_ast__count_errors(TSNode root)
{
    size_t n = 0;
    TSTreeCursor c = ts_tree_cursor_new(root);
    for (;;) {
        TSNode node = ts_tree_cursor_current_node(&c);
        bool descend = false;
        if (agc_ast__is_error(node) || ts_node_is_missing(node))
            n++;
        else
            descend = ts_node_has_error(node);
        if (descend && ts_tree_cursor_goto_first_child(&c))
            continue;
        while (!ts_tree_cursor_goto_next_sibling(&c)) {
            if (!ts_tree_cursor_goto_parent(&c)) {
                ts_tree_cursor_delete(&c);
                return n;
            }
        }
    }
}
