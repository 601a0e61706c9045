/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON helpers on top of jansson (json_t is jansson's type; use its API for
 * building and reading values). Parsing is strict (duplicate keys, trailing
 * data and invalid UTF-8 are errors) and errors name source:line:column.
 * JSON values allocated inside these calls come from the ctx allocator:
 * free them (json_decref) before the ctx.
 */
#ifndef AGENTC_JSON_H
#define AGENTC_JSON_H

#include <jansson.h>

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parses len bytes of text into *out (a new reference; any JSON value, not
 * only objects). source names the input in messages ("config.json", "<stdin>"),
 * NULL means "<input>". AGC_EPARSE with "source:line:column: what" on bad
 * input, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_json_parse(json_t **out, const char *text, size_t len,
                                        const char *source, agc_ctx *ctx);
/* Reads and parses a file; AGC_EIO names the path when it cannot be read. */
AGC_NODISCARD agc_status agc_json_load_file(json_t **out, const char *path, agc_ctx *ctx);

/*
 * RFC 6901 JSON Pointer lookup ("" is the whole document, "/a/0/b~1c").
 * Returns a borrowed value or NULL when the pointer does not resolve or is
 * malformed (no error is recorded; use agc_json_pointer_check for that).
 */
json_t *agc_json_pointer_get(const json_t *doc, const char *ptr);
/* AGC_OK when ptr is a well-formed JSON Pointer, else AGC_EINVAL with a message. */
agc_status agc_json_pointer_check(const char *ptr, agc_ctx *ctx);
/*
 * Sets the value at ptr, stealing the reference to value (also on failure).
 * Missing object members on the way are created as objects; "-" appends to
 * an array. AGC_EINVAL names the first segment that cannot be followed.
 */
AGC_NODISCARD agc_status agc_json_pointer_set(json_t *doc, const char *ptr, json_t *value,
                                              agc_ctx *ctx);
/* Escapes one key as a pointer segment ("a/b" -> "a~1b") and appends "/seg" to b. */
agc_status agc_json_pointer_append(agc_buf *b, const char *segment);

/*
 * Canonical serialisation: object keys sorted, no insignificant whitespace,
 * UTF-8 kept as is, reals in jansson's shortest round-trip form. Equal values
 * give equal bytes, so the output can be hashed. *out is the caller's
 * (agc_free); *len_out (may be NULL) its length.
 */
AGC_NODISCARD agc_status agc_json_canonical(char **out, size_t *len_out, const json_t *value,
                                            agc_ctx *ctx);
/*
 * A NULL-terminated array of the strings in arr (pointers borrowed from arr;
 * other values are skipped); *out is NULL when arr is not an array. The array is the caller's
 * (agc_free). AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_json_str_list(const char ***out, const json_t *arr, agc_ctx *ctx);
/* Serialises with jansson flags (JSON_INDENT(2), ...). *out is the caller's (agc_free). */
AGC_NODISCARD agc_status agc_json_dump(char **out, const json_t *value, size_t flags, agc_ctx *ctx);

/* Convenience readers: the member's value or dflt when absent or of another type. */
const char *agc_json_str(const json_t *obj, const char *key, const char *dflt);
long long agc_json_int(const json_t *obj, const char *key, long long dflt);
double agc_json_num(const json_t *obj, const char *key, double dflt);
bool agc_json_bool(const json_t *obj, const char *key, bool dflt);

/* Name of a value's JSON type ("object", "integer", "null", ...). */
const char *agc_json_type_name(const json_t *v);

/*
 * Runs jansson calls with ctx's allocator: values created between enter and
 * leave are allocated (and later freed) through ctx. The library does this
 * around its own calls; callers building values for ctx-accounted work may
 * too. Scopes nest; pass leave() what enter() returned.
 */
agc_ctx *agc_json_enter(agc_ctx *ctx);
void agc_json_leave(agc_ctx *prev);
/* Whether the last jansson call in this scope failed for lack of memory. */
bool agc_json_oom(agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
