/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Library-internal parts of the spec model (src/codegen/spec*.c). */
#ifndef AGC_SPEC_INT_H
#define AGC_SPEC_INT_H

#include "agentc/alloc.h"
#include "agentc/codegen.h"

struct agc_spec {
    agc_ctx *ctx;
    agc_arena *arena;
    const char *kind, *title, *source;
    json_t *doc;   /* the document (OpenAPI, JSON Schema); NULL for proto */
    json_t *owned; /* values the model owns (examples arrays, proto schemas) */
    agc_spec_type *types;
    size_t n_types;
    agc_spec_op *ops;
    size_t n_ops;
};

/* snake_case of s in the arena ("listPets" -> "list_pets"); NULL on ENOMEM. */
char *agc__spec_snake(agc_arena *a, const char *s);
/* Reads a .proto file into s (spec_proto.c). */
agc_status agc__spec_load_proto(agc_spec *s, const char *path);

#endif
