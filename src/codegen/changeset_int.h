/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal pieces of the change sets (src/codegen/changeset*.c):
 * the parsed form (file operations holding search/replace edits), the edit
 * locator, the diff writer, the syntax wrapper and the journal. Nothing here
 * is visible outside src/codegen.
 */
#ifndef AGC_CHANGESET_INT_H
#define AGC_CHANGESET_INT_H

#include "agentc/buf.h"
#include "agentc/codegen.h"

#define AGC__CS_MOD "changeset"

/* One located replacement: search (may be empty: insert at an anchor/EOF) -> replace. */
typedef struct agc__cs_edit {
    char *search;    /* lines joined with "\n" (no final newline); "" = nothing */
    char *replace;   /* same */
    char *anchor;    /* apply_patch "@@ text": search starts after this line; NULL */
    long line_hint;  /* 1-based old start line (unified diff), 0: unknown */
    bool at_eof;     /* must match at the end of the file */
    bool ordered;    /* search only after the previous edit of the file (patch formats) */
    size_t src_line; /* line of the edit in the model's text */
} agc__cs_edit;

typedef struct agc__cs_fileop {
    agc_cs_op op;   /* requested: CREATE (whole content), MODIFY (edits or whole), DELETE, RENAME */
    char *path;     /* as written by the model */
    char *to;       /* RENAME target, as written */
    bool whole;     /* content replaces the file (CREATE or whole-file MODIFY) */
    bool create_ok; /* MODIFY whole/empty-search may create the file when missing */
    char *content;
    agc__cs_edit *edits;
    size_t n_edits, cap_edits;
    /* resolved */
    char *rel, *rel_to;
    char *old;
    size_t old_len;
    char *newc;
    size_t new_len;
    unsigned mode;
    unsigned fuzzy;
    bool existed;
} agc__cs_fileop;

struct agc_changeset {
    agc_ctx *ctx;
    agc_workspace *ws; /* referenced after resolve */
    agc_cs_format format;
    agc__cs_fileop *files;
    size_t n, cap;
    bool resolved;
};

/* ---- parsing (changeset_parse.c) ---- */
agc_status agc__cs_parse_search_replace(agc_changeset *cs, const char *text);
agc_status agc__cs_parse_udiff(agc_changeset *cs, const char *text);
agc_status agc__cs_parse_whole(agc_changeset *cs, const char *text);
agc_status agc__cs_parse_apply_patch(agc_changeset *cs, const char *text);
/* The file op for path (merging repeated paths of MODIFY), created when new. */
agc_status agc__cs_fileop_get(agc__cs_fileop **out, agc_changeset *cs, const char *path,
                              agc_cs_op op);
agc_status agc__cs_edit_add(agc__cs_fileop *f, agc_ctx *ctx, char *search, char *replace,
                            size_t src_line);

/* ---- locating edits (changeset_match.c) ---- */
/*
 * Applies f's edits to text[0..len) into *out (agc_free). Mismatches append
 * a message for the model to err and return AGC_EINVAL; *fuzzy_out counts
 * edits placed by a whitespace-insensitive match.
 */
agc_status agc__cs_apply_edits(char **out, size_t *out_len, unsigned *fuzzy_out, const char *text,
                               size_t len, const agc__cs_fileop *f, const char *display,
                               agc_buf *err, agc_ctx *ctx);
/* Similarity of two lines in [0,1] ignoring surrounding whitespace (hashed bigrams). */
double agc__cs_line_similarity(const char *a, size_t alen, const char *b, size_t blen);

/* ---- diff (changeset_diff.c) ---- */
agc_status agc__cs_udiff(agc_buf *out, const char *a_name, const char *a, size_t alen,
                         const char *b_name, const char *b, size_t blen);

/* ---- syntax (changeset_syntax.c) ---- */
/* Checks one file's new text (old: its previous text or NULL: errors already there are
 * not blamed on the edit); appends "path:line:col: msg" lines; AGC_EPARSE when it did. */
agc_status agc__cs_syntax_check(const char *path, const char *old, size_t old_len, const char *text,
                                size_t len, agc_buf *errs, agc_ctx *ctx);

#endif
