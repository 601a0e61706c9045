/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private to the repo map: the scanned tree (files, tags, interned
 * identifiers) shared by the scanner (repomap_scan.c) and the ranking and
 * rendering (repomap.c). All strings live in the state's arena.
 */
#ifndef AGC_CODEGEN_REPOMAP_INT_H
#define AGC_CODEGEN_REPOMAP_INT_H
#include <stdint.h>

#include "agentc/alloc.h"
#include "agentc/repomap.h"

typedef struct rm_tag {
    uint32_t ident;
    uint32_t file;
    uint32_t line; /* 1-based */
    bool def;
    const char *sig; /* definitions: the trimmed source line */
} rm_tag;

typedef struct rm_state {
    agc_ctx *ctx;
    agc_arena *arena;
    const char *root;
    char **files; /* relative paths */
    size_t n_files, cap_files;
    rm_tag *tags;
    size_t n_tags, cap_tags;
    /* identifier interning: open addressing over strs */
    char **strs;
    size_t n_strs, cap_strs;
    uint32_t *slots; /* index+1, 0 empty */
    size_t n_slots;
    /* .gitignore patterns of the root */
    char **ignore;
    size_t n_ignore;
} rm_state;

/* Walks root, parses every supported file and fills files and tags. AGC_ENOMEM, AGC_EIO. */
agc_status agc_repomap__scan(rm_state *s);
/* Interns name[0..len) and returns its id, or UINT32_MAX (AGC_ENOMEM). */
uint32_t agc_repomap__intern(rm_state *s, const char *name, size_t len);
/* Id of name if interned, else UINT32_MAX. */
uint32_t agc_repomap__lookup(const rm_state *s, const char *name, size_t len);
void agc_repomap__state_free(rm_state *s);

#endif
