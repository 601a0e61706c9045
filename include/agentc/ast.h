/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * AST awareness for code generation, on tree-sitter (Debian libtree-sitter
 * 0.20, language ABI 14) with grammars compiled into the library when the
 * build found them (.deps/node_modules; see docs/codegen-ast.md): language by
 * file name, syntax check with line:col errors, an outline of definitions
 * (functions, types, classes, methods) with exact ranges, and symbol-targeted
 * edits where the caller names a symbol and the library finds its range.
 * Nothing here touches files: callers pass text and get text back.
 */
#ifndef AGENTC_AST_H
#define AGENTC_AST_H
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#ifdef __cplusplus
extern "C" {
#endif

/*
 * The language of a file by its name: "c", "cpp", "python", "javascript",
 * "typescript", "tsx", "go", "rust", "json", or NULL when the extension is
 * not one of these. Says nothing about whether the grammar was compiled in
 * (agc_ast_language_available). Returns a static string.
 */
const char *agc_ast_language_for_path(const char *path);

/* Whether the grammar of lang (a name as above) is compiled into this build. */
bool agc_ast_language_available(const char *lang);

/* The languages compiled in, NULL-terminated (static; empty without grammars). */
const char *const *agc_ast_languages(void);

/*
 * Parses src (len bytes) as the language of path. AGC_OK when the tree is
 * clean (*errors NULL). AGC_EPARSE when it has ERROR or MISSING nodes:
 * *errors is "LINE:COL: syntax error near <node>" lines (1-based; at most
 * 20 lines, then "... N more"), the caller's (agc_free on ctx), and the ctx
 * message names the path and the first error. AGC_EUNSUPPORTED for an
 * unknown language or one not compiled in, AGC_ENOMEM.
 */
agc_status agc_ast_check_syntax(char **errors, const char *path, const char *src, size_t len,
                                agc_ctx *ctx);

/* The count of syntax errors in src (0 clean); -1 for an unsupported language or no memory. */
long agc_ast_error_count(const char *path, const char *src, size_t len, agc_ctx *ctx);

/* ---- outline ------------------------------------------------------------------ */

/* What a definition is. */
typedef enum agc_ast_kind {
    AGC_AST_FUNCTION = 0,
    AGC_AST_METHOD,
    AGC_AST_CLASS, /* class, struct, union, enum with a body */
    AGC_AST_TYPE,  /* typedef, type alias, enum */
    AGC_AST_INTERFACE,
    AGC_AST_MODULE, /* namespace, module, impl block */
    AGC_AST_CONSTANT,
    AGC_AST_MACRO
} agc_ast_kind;

/* "function", "method", "class", "type", "interface", "module", "constant", "macro". */
const char *agc_ast_kind_name(agc_ast_kind k);

/*
 * One definition. Ranges: bytes [start_byte, end_byte) cover the whole
 * definition (with its decorators or "export", without a leading doc
 * comment); inner_start_byte is where the definition itself starts (after
 * decorators / export). Lines are 1-based and inclusive. declaration marks a
 * prototype or signature without a body. parent is the enclosing definition's index
 * or -1. qualified is "Parent.name" for members ("name" otherwise).
 * signature is the first line of the definition, trimmed (at most 200 bytes).
 */
typedef struct agc_ast_symbol {
    const char *name;
    const char *qualified;
    const char *signature;
    agc_ast_kind kind;
    long parent;
    uint32_t start_line, end_line;
    uint32_t start_col; /* 0-based byte column of start_byte */
    size_t start_byte, end_byte;
    size_t inner_start_byte;
    bool declaration;
} agc_ast_symbol;

/* An outline: definitions in source order. Strings live as long as the outline. */
typedef struct agc_ast_outline {
    agc_ctx *ctx;
    const char *language;
    agc_ast_symbol *symbols;
    size_t n_symbols;
    size_t n_errors; /* syntax errors in the parsed text (the outline is still best effort) */
    void *priv;      /* arena */
} agc_ast_outline;

/*
 * Outlines src as the language of path. *out is the caller's
 * (agc_ast_outline_free). AGC_EUNSUPPORTED for an unknown or absent
 * language, AGC_ENOMEM. Syntax errors do not fail the call (see n_errors).
 */
AGC_NODISCARD agc_status agc_ast_outline_new(agc_ast_outline **out, const char *path,
                                             const char *src, size_t len, agc_ctx *ctx);
void agc_ast_outline_free(agc_ast_outline *o);

/*
 * Finds the definition called name: a plain name ("parse") or a qualified one
 * ("Parser.parse", also "Parser::parse"). *out is borrowed from o. When a
 * plain name matches several definitions, a kind-less exact unique match
 * wins, else AGC_EINVAL "ambiguous: ... at lines ..." (qualify it).
 * AGC_ENOTFOUND names the closest symbols.
 */
agc_status agc_ast_find_symbol(const agc_ast_symbol **out, const agc_ast_outline *o,
                               const char *name, agc_ctx *ctx);

/*
 * Renders the outline as text, one line per symbol, indented by nesting:
 * "12-40 method Parser.parse: <signature>", or as JSON ({"language", "errors",
 * "symbols": [{name, qualified, kind, start_line, end_line, signature, parent}]})
 * when json is true. *out is the caller's (agc_free). AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_ast_outline_render(char **out, const agc_ast_outline *o, bool json,
                                                agc_ctx *ctx);

/* ---- symbol-targeted edits ------------------------------------------------------- */

/* How an edit places its text. */
typedef enum agc_ast_edit_op {
    AGC_AST_REPLACE = 0,  /* the text replaces the symbol's whole range */
    AGC_AST_INSERT_AFTER, /* the text goes after the symbol, separated by a blank line */
    AGC_AST_INSERT_BEFORE /* the text goes before the symbol (and its doc comment) */
} agc_ast_edit_op;

/*
 * Edits src: finds symbol (agc_ast_find_symbol rules) and places text by op,
 * re-indented to the symbol's indentation (the text's common indentation is
 * removed first), so a method can be given without its class's indentation.
 * A replacement that does not start with a decorator ("@") or "export" keeps
 * the symbol's own decorators / export and replaces from inner_start_byte.
 * The new file is *out (len *out_len; the caller's, NUL-terminated). The
 * result is re-parsed: when it has more syntax errors than src had, the call
 * fails with AGC_EPARSE and *errors (if errors is not NULL) holds the
 * agc_ast_check_syntax lines of the result. AGC_ENOTFOUND / AGC_EINVAL from
 * the lookup, AGC_EUNSUPPORTED, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_ast_edit(char **out, size_t *out_len, char **errors, const char *path,
                                      const char *src, size_t len, const char *symbol,
                                      agc_ast_edit_op op, const char *text, agc_ctx *ctx);

/* ---- tools ----------------------------------------------------------------------- */

struct agc_tool_registry;
struct agc_workspace;
/*
 * Registers "outline_file" (read), "replace_symbol" and "insert_after_symbol"
 * (write) working in ws, into reg. Edits are syntax-checked and written
 * through the workspace (path confinement, deny lists). AGC_EEXISTS, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_ast_register_tools(struct agc_tool_registry *reg,
                                                struct agc_workspace *ws, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
