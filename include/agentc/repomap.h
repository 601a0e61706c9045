/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Repo map: a ranked outline of a source tree that fits a token budget, for
 * the model's context. Definitions and references come from tree-sitter tag
 * queries (ast.h languages); files become a graph (an edge from the file
 * that references an identifier to the files that define it); personalised
 * PageRank, seeded by the files and identifiers named in the focus list and
 * the task text, ranks definitions; the top entries are rendered grouped by
 * file, with as many entries as fit the budget (binary search on the count,
 * measured with agc_tokens_count). Skips .git, node_modules, build dirs,
 * hidden dirs, vendored/minified files and .gitignore'd names.
 */
#ifndef AGENTC_REPOMAP_H
#define AGENTC_REPOMAP_H
#include <stddef.h>

#include "common.h"
#ifdef __cplusplus
extern "C" {
#endif

/* ---- token counting (src/codegen/tokens.c) -------------------------------------- */

/* Which tokenizer agc_tokens_count approximates. */
typedef enum agc_tokenizer {
    AGC_TOK_O200K = 0, /* OpenAI o200k_base (GPT-4o, o-series, GPT-5) */
    AGC_TOK_CL100K     /* OpenAI cl100k_base (GPT-4, GPT-3.5) */
} agc_tokenizer;

/*
 * Estimates the number of tokens of text (len bytes) under tok, without the
 * vocabulary: the text is split as tiktoken's pre-tokenizer does and each
 * piece is costed by a model of BPE merges. Within 5% of the real count on
 * code and English prose of a few hundred bytes or more (checked against
 * js-tiktoken by tests/codegen/test_tokens.c). Cannot fail.
 */
size_t agc_tokens_count(const char *text, size_t len, agc_tokenizer tok);

/* ---- repo map ------------------------------------------------------------------ */

typedef struct agc_repomap_opts {
    unsigned version;
    size_t budget_tokens;     /* 0: 1024 */
    const char *const *focus; /* files (relative to root) or symbols to rank first */
    size_t n_focus;
    const char *task; /* free text (the task, the conversation): names in it seed the ranking */
} agc_repomap_opts;
#define AGC_REPOMAP_OPTS_VERSION 1
#define AGC_REPOMAP_OPTS_INIT                                                                      \
    {                                                                                              \
        AGC_REPOMAP_OPTS_VERSION, 1024, NULL, 0, NULL                                              \
    }
void agc_repomap_opts_init(agc_repomap_opts *opts);

/*
 * Renders the map of the tree at root into *out (the caller's, agc_free):
 * "path:" lines followed by the ranked definitions' signature lines
 * ("│ 12: int parse(const char *s)"), files in rank order, at most
 * budget_tokens tokens (o200k estimate, *tokens_out). Files without
 * definitions are listed by name when they rank high enough. An empty
 * tree gives "". AGC_EINVAL (opts version), AGC_EIO / AGC_ENOTFOUND (root),
 * AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_repomap_render(char **out, size_t *tokens_out, const char *root,
                                            const agc_repomap_opts *opts, agc_ctx *ctx);

/*
 * The files of the map in rank order (best first), for evaluation: *files is
 * a NULL-terminated array of relative paths (the caller's; free with
 * agc_repomap_files_free). max 0 means all ranked files.
 */
AGC_NODISCARD agc_status agc_repomap_rank_files(char ***files, const char *root,
                                                const agc_repomap_opts *opts, size_t max,
                                                agc_ctx *ctx);
void agc_repomap_files_free(char **files, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
