/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Symbol-targeted edits: the caller names a symbol, the outline gives its
 * exact range, the text is re-indented to the symbol's column and placed
 * (replace / insert after / insert before). The result is re-parsed and
 * refused when it has more syntax errors than the original. Pure text in,
 * text out: writing the file is the caller's job (ast_tools.c).
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "ast_int.h"

static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Common leading whitespace (bytes) of the non-blank lines of text. */
static size_t common_indent(const char *text)
{
    size_t best = (size_t)-1;
    for (const char *l = text; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        if (!blank_line(l, n)) {
            size_t k = 0;
            while (k < n && (l[k] == ' ' || l[k] == '\t'))
                k++;
            if (k < best)
                best = k;
        }
        if (!e)
            break;
        l = e + 1;
    }
    return best == (size_t)-1 ? 0 : best;
}

/*
 * Appends text re-indented: common indentation removed, indent put before
 * every non-blank line (except the first when first_bare), trailing blank
 * lines dropped, no final newline.
 */
static agc_status put_indented(agc_buf *b, const char *text, const char *indent, size_t ilen,
                               bool first_bare)
{
    size_t strip = common_indent(text);
    size_t tlen = strlen(text);
    while (tlen && (text[tlen - 1] == '\n' || text[tlen - 1] == '\r' || text[tlen - 1] == ' ' ||
                    text[tlen - 1] == '\t'))
        tlen--;
    /* skip leading blank lines */
    size_t pos = 0;
    for (;;) {
        const char *e = memchr(text + pos, '\n', tlen - pos);
        if (!e || !blank_line(text + pos, (size_t)(e - text - pos)))
            break;
        pos = (size_t)(e - text) + 1;
    }
    agc_status st = AGC_OK;
    bool first = true;
    while (pos <= tlen && st == AGC_OK) {
        const char *e = memchr(text + pos, '\n', tlen - pos);
        size_t n = e ? (size_t)(e - text - pos) : tlen - pos;
        const char *l = text + pos;
        if (!first)
            st = agc_buf_putc(b, '\n');
        if (st == AGC_OK && !blank_line(l, n)) {
            size_t k = 0;
            while (k < strip && k < n && (l[k] == ' ' || l[k] == '\t'))
                k++;
            if (!(first && first_bare))
                st = agc_buf_append(b, indent, ilen);
            if (st == AGC_OK)
                st = agc_buf_append(b, l + k, n - k);
        }
        first = false;
        if (!e)
            break;
        pos += n + 1;
    }
    return st;
}

static bool starts_with_word(const char *text, const char *w)
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    size_t n = strlen(w);
    return strncmp(text, w, n) == 0;
}

agc_status agc_ast_edit(char **out, size_t *out_len, char **errors, const char *path,
                        const char *src, size_t len, const char *symbol, agc_ast_edit_op op,
                        const char *text, agc_ctx *ctx)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (errors)
        *errors = NULL;
    if (!text)
        return agc_error_set(ctx, AGC_EINVAL, "ast", "no text given for the edit of '%s'",
                             symbol ? symbol : "");
    agc_ast_outline *o = NULL;
    agc_status st = agc_ast_outline_new(&o, path, src, len, ctx);
    if (st != AGC_OK)
        return st;
    const agc_ast_symbol *s = NULL;
    if ((st = agc_ast_find_symbol(&s, o, symbol, ctx)) != AGC_OK) {
        agc_ast_outline_free(o);
        return st;
    }
    /* indentation of the symbol's first line, when only whitespace precedes it */
    size_t line_start = s->start_byte;
    while (line_start > 0 && src[line_start - 1] != '\n')
        line_start--;
    size_t ilen = s->start_byte - line_start;
    if (!blank_line(src + line_start, ilen))
        ilen = 0;
    const char *indent = src + line_start;

    size_t a, e; /* the bytes [a, e) of src that are replaced */
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    if (op == AGC_AST_REPLACE) {
        bool whole = starts_with_word(text, "@") || starts_with_word(text, "export") ||
                     starts_with_word(text, "template");
        a = whole ? s->start_byte : s->inner_start_byte;
        e = s->end_byte;
        st = agc_buf_append(&b, src, a);
        if (st == AGC_OK)
            st = put_indented(&b, text, indent, ilen, true);
    } else if (op == AGC_AST_INSERT_AFTER) {
        e = s->end_byte;
        while (e < len && src[e] != '\n')
            e++;
        bool had_nl = e < len;
        if (had_nl)
            e++;
        a = e;
        st = agc_buf_append(&b, src, a);
        if (st == AGC_OK && !had_nl)
            st = agc_buf_putc(&b, '\n');
        if (st == AGC_OK)
            st = agc_buf_putc(&b, '\n');
        if (st == AGC_OK)
            st = put_indented(&b, text, indent, ilen, false);
        if (st == AGC_OK && had_nl)
            st = agc_buf_putc(&b, '\n');
    } else {
        a = e = line_start;
        st = agc_buf_append(&b, src, a);
        if (st == AGC_OK)
            st = put_indented(&b, text, indent, ilen, false);
        if (st == AGC_OK)
            st = agc_buf_puts(&b, "\n\n");
    }
    if (st == AGC_OK)
        st = agc_buf_append(&b, src + e, len - e);
    size_t old_errors = o->n_errors;
    agc_ast_outline_free(o);
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory editing '%s'", path);
    }
    size_t nlen = b.len;
    char *result = agc_buf_detach(&b, NULL);
    if (!result)
        return AGC_ENOMEM;
    long now = agc_ast_error_count(path, result, nlen, ctx);
    if (now < 0) {
        agc_free(ctx, result);
        return agc_ctx_last_error(ctx) ? agc_ctx_last_error(ctx)->code : AGC_ERROR;
    }
    if ((size_t)now > old_errors) {
        char *lines = NULL;
        st = agc_ast_check_syntax(&lines, path, result, nlen, ctx);
        agc_free(ctx, result);
        if (errors)
            *errors = lines;
        else
            agc_free(ctx, lines);
        if (st == AGC_EPARSE)
            return agc_error_wrap(ctx, AGC_EPARSE, "ast",
                                  "the edit of '%s' in %s introduces syntax errors (%ld, was %zu)",
                                  symbol, path, now, old_errors);
        return st == AGC_OK ? AGC_EPARSE : st;
    }
    *out = result;
    if (out_len)
        *out_len = nlen;
    return AGC_OK;
}
