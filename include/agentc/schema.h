/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema (draft 2020-12) validation. A schema is compiled once (refs
 * resolved, regexes compiled with PCRE2) and can then validate any number of
 * instances, from several threads at once: validation never mutates the
 * compiled schema; each call takes its own ctx for memory and errors.
 * Remote references are resolved only through the caller's resolver (never
 * the network); the 2020-12 meta-schemas are built in.
 */
#ifndef AGENTC_SCHEMA_H
#define AGENTC_SCHEMA_H

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_schema agc_schema;

/*
 * Resolves an absolute URI (without fragment) to a schema document. Returns
 * a new reference in *out, or NULL *out when unknown (an error is then
 * reported naming the URI). Called only during compilation.
 */
typedef agc_status (*agc_schema_resolve_fn)(json_t **out, const char *uri, void *user,
                                            agc_ctx *ctx);

typedef struct agc_schema_opts {
    unsigned version;              /* AGC_SCHEMA_OPTS_VERSION */
    const char *base_uri;          /* retrieval URI of the root schema; NULL: a fixed urn */
    agc_schema_resolve_fn resolve; /* NULL: only built-in meta-schemas and embedded ids */
    void *resolve_user;
    bool format_assert; /* true: "format" is an assertion, not only an annotation */
    size_t max_errors;  /* errors collected per validation; 0 = 64 */
} agc_schema_opts;

#define AGC_SCHEMA_OPTS_VERSION 1
#define AGC_SCHEMA_OPTS_INIT                                                                       \
    {                                                                                              \
        AGC_SCHEMA_OPTS_VERSION, NULL, NULL, NULL, false, 0                                        \
    }

void agc_schema_opts_init(agc_schema_opts *opts);

/*
 * Compiles a schema (object or boolean). The schema JSON is copied or
 * referenced internally; the caller keeps its own reference. *out is the
 * caller's (agc_schema_free). AGC_EINVAL for a malformed schema (message
 * names the schema location), AGC_ENOTFOUND for an unresolvable $ref,
 * AGC_ENOMEM. The compiled schema remembers no ctx: pass one to each call.
 */
AGC_NODISCARD agc_status agc_schema_compile(agc_schema **out, const json_t *schema,
                                            const agc_schema_opts *opts, agc_ctx *ctx);
/* Parses text (JSON) and compiles it; source names it in messages. */
AGC_NODISCARD agc_status agc_schema_compile_text(agc_schema **out, const char *text, size_t len,
                                                 const char *source, const agc_schema_opts *opts,
                                                 agc_ctx *ctx);
/* Frees a compiled schema (NULL is a no-op). ctx must be the one it was compiled with. */
void agc_schema_free(agc_schema *schema, agc_ctx *ctx);

/* One validation error. Strings are owned by the agc_schema_result. */
typedef struct agc_schema_error {
    const char *instance_path; /* JSON Pointer into the instance: "/args/path" ("" = root) */
    const char *keyword;       /* "type", "required", ... */
    const char *schema_path;   /* keyword location: "/properties/args/properties/path/type" */
    const char *message;       /* "must be string" */
} agc_schema_error;

typedef struct agc_schema_result {
    bool valid;
    size_t count; /* errors collected (capped by max_errors) */
    agc_schema_error *errors;
    bool truncated; /* more errors existed than were collected */
} agc_schema_result;

/*
 * Validates instance. Returns AGC_OK when valid, AGC_ESCHEMA when invalid
 * (the ctx's message is the first error as "/args/path: must be string"),
 * AGC_ENOMEM or AGC_ELIMIT (recursion too deep). When out is not NULL it
 * receives the full result (also when valid), the caller frees it with
 * agc_schema_result_free(). Safe to call concurrently on one schema with
 * different ctxs.
 */
AGC_NODISCARD agc_status agc_schema_validate(agc_schema_result **out, const agc_schema *schema,
                                             const json_t *instance, agc_ctx *ctx);
void agc_schema_result_free(agc_schema_result *res, agc_ctx *ctx);

/*
 * Returns a built-in document by URI (the 2020-12 meta-schema and its
 * vocabularies, and schemas shipped with agentc under "agentc:NAME"), as a
 * new reference, or NULL when unknown.
 */
json_t *agc_schema_builtin(const char *uri, agc_ctx *ctx);

/*
 * Notes on the behaviour of the calls above (draft 2020-12):
 *
 * - Every keyword of the core, applicator, unevaluated and validation
 *   vocabularies is implemented; unknown keywords are ignored. A resource
 *   whose "$schema" names a meta-schema that the resolver can fetch gets the
 *   vocabularies of that meta-schema's "$vocabulary" (an unknown required
 *   vocabulary is AGC_EINVAL); an unresolvable "$schema" is read as 2020-12.
 *   Earlier drafts' "dependencies" and array-form "items"/"additionalItems"
 *   are honoured for compatibility.
 * - "pattern"/"patternProperties" use PCRE2 (UTF, UCP) with ECMA-262
 *   adjustments (\d and \w ASCII, \p{Letter}-style names, $ only at the
 *   end) as an unanchored search. "format" is an annotation unless
 *   opts.format_assert (or a format-assertion vocabulary) asks to assert it;
 *   idn-hostname and unknown formats always pass.
 * - agc_schema_error.schema_path is the evaluation path: it goes through
 *   "$ref" ("/properties/a/$ref/type"). instance_path is "" for the root.
 * - On an invalid instance the ctx message is the first error as
 *   "<instance path>: <message>", where the root is written "(root)":
 *   "/args/path: must be string", "(root): must be object".
 * - Validation nested deeper than 800 schema levels (an infinite $ref loop)
 *   is AGC_ELIMIT; a compiled schema nested deeper than 500 is AGC_EINVAL.
 */

#ifdef __cplusplus
}
#endif
#endif
