/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private to the codegen AST files: the compiled-in grammar table, parsing
 * with the size and time limits, and the tags query text of each language.
 * tree-sitter allocates with malloc (its allocator hook is process-global,
 * which the house rules forbid changing), so parse trees never come from
 * the ctx allocator; everything handed to callers does.
 */
#ifndef AGC_CODEGEN_AST_INT_H
#define AGC_CODEGEN_AST_INT_H
#include <tree_sitter/api.h>

#include "agentc/ast.h"

/* Largest source we parse (tree-sitter takes uint32_t lengths). */
#define AGC_AST_MAX_SOURCE ((size_t)16 * 1024 * 1024)

/* The grammar of lang, or NULL when it is not compiled in. */
const TSLanguage *agc_ast__grammar(const char *lang);

/* The tags query text for lang ("" when the grammar has none), or NULL. Static. */
const char *agc_ast__tags_source(const char *lang);

/*
 * Parses src as lang. *out is the caller's (ts_tree_delete). AGC_EUNSUPPORTED,
 * AGC_ELIMIT (too large), AGC_ENOMEM / AGC_ERROR when tree-sitter gives up.
 */
agc_status agc_ast__parse(TSTree **out, const char *lang, const char *src, size_t len,
                          agc_ctx *ctx);

/* Language of path, with the "not compiled in" / "unknown" error set on ctx. */
agc_status agc_ast__lang(const char **lang_out, const char *path, agc_ctx *ctx);

/* Whether node is an ERROR node (0.20 has no ts_node_is_error). */
static inline bool agc_ast__is_error(TSNode n)
{
    return ts_node_symbol(n) == (TSSymbol)-1;
}

/* Number of ERROR / MISSING nodes under root (not counting inside an ERROR). */
size_t agc_ast__count_errors(TSNode root);

#endif
