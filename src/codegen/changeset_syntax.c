/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The syntax gate of change sets: every created or changed file is parsed
 * with tree-sitter through the AST module (include/agentc/ast.h). An edit is
 * rejected only when the new text has more errors than the old one had, so
 * a file that was already broken can still be fixed step by step. When the
 * file's grammar is not compiled in, C-family files get a lexical check
 * (brackets balanced outside strings and comments); other files pass.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/ast.h"
#include "changeset_int.h"

/* Bracket balance of C-like text; 0 when balanced, else fills line/col/what. */
static int lex_check(const char *s, size_t n, size_t *line, size_t *col, char *what, size_t wsz)
{
    char stack[256];
    size_t sl[256], sc[256];
    size_t depth = 0, ln = 1, cl = 1;
    for (size_t i = 0; i < n; i++, cl++) {
        char c = s[i];
        if (c == '\n') {
            ln++;
            cl = 0;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                i++;
            i--;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++)
                if (s[i] == '\n')
                    ln++, cl = 0;
            i++;
            continue;
        }
        if (c == '"' || c == '\'') {
            for (i++; i < n && s[i] != c && s[i] != '\n'; i++)
                if (s[i] == '\\')
                    i++;
            if (i >= n || s[i] == '\n') {
                *line = ln;
                *col = cl;
                snprintf(what, wsz, "unterminated %s literal", c == '"' ? "string" : "character");
                return 1;
            }
            continue;
        }
        if (c == '(' || c == '[' || c == '{') {
            if (depth < sizeof stack) {
                stack[depth] = c;
                sl[depth] = ln;
                sc[depth] = cl;
            }
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            char want = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (depth == 0 || (depth <= sizeof stack && stack[depth - 1] != want)) {
                *line = ln;
                *col = cl;
                snprintf(what, wsz, "unbalanced '%c'", c);
                return 1;
            }
            depth--;
        }
    }
    if (depth) {
        size_t d = depth <= sizeof stack ? depth - 1 : sizeof stack - 1;
        *line = sl[d];
        *col = sc[d];
        snprintf(what, wsz, "'%c' is never closed", stack[d]);
        return 1;
    }
    return 0;
}

static bool c_family(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const char *const ext[] = {".c",  ".h",  ".cc", ".cpp",  ".hpp",  ".js",
                                      ".ts", ".go", ".rs", ".java", ".json", NULL};
    for (size_t i = 0; dot && ext[i]; i++)
        if (strcmp(dot, ext[i]) == 0)
            return true;
    return false;
}

agc_status agc__cs_syntax_check(const char *path, const char *old, size_t old_len, const char *text,
                                size_t len, agc_buf *errs, agc_ctx *ctx)
{
    char *lines = NULL;
    agc_status st = agc_ast_check_syntax(&lines, path, text, len, ctx);
    if (st == AGC_OK || st == AGC_ENOMEM)
        return st;
    if (st == AGC_EPARSE) {
        agc_free(ctx, lines);
        long before = old ? agc_ast_error_count(path, old, old_len, ctx) : 0;
        long after = agc_ast_error_count(path, text, len, ctx);
        if (before >= 0 && after >= 0 && after <= before && old) {
            agc_error_clear(ctx);
            return AGC_OK; /* no worse than it was */
        }
        lines = NULL;
        st = agc_ast_check_syntax(&lines, path, text, len, ctx);
        if (st != AGC_EPARSE) {
            agc_free(ctx, lines);
            return st == AGC_OK ? AGC_OK : st == AGC_ENOMEM ? st : AGC_OK;
        }
        agc_status w = AGC_OK;
        for (char *p = lines; w == AGC_OK && p && *p;) {
            char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            w = agc_buf_printf(errs, "%s:%.*s\n", path, (int)n, p);
            p = nl ? nl + 1 : p + n;
        }
        agc_free(ctx, lines);
        agc_error_clear(ctx);
        return w == AGC_OK ? AGC_EPARSE : w;
    }
    agc_free(ctx, lines);
    agc_error_clear(ctx);
    /* no grammar: a lexical check for C-family files */
    if (!c_family(path))
        return AGC_OK;
    size_t line = 0, col = 0, ol = 0, oc = 0;
    char what[96], ow[96];
    if (!lex_check(text, len, &line, &col, what, sizeof what))
        return AGC_OK;
    if (old && lex_check(old, old_len, &ol, &oc, ow, sizeof ow))
        return AGC_OK; /* it was unbalanced before */
    agc_status w = agc_buf_printf(errs, "%s:%zu:%zu: syntax error: %s\n", path, line, col, what);
    return w == AGC_OK ? AGC_EPARSE : w;
}
