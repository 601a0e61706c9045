/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Configuration files (agent files): YAML 1.2 or JSON read into a jansson
 * value, with the source line and column of every node, AGENTC_* environment
 * overrides applied, and validation against the shipped JSON Schema
 * (schemas/config.schema.json, "agentc:config.schema.json"). Fields marked
 * "x-agentc-secret" in the schema hold references ("env:NAME", "file:PATH"),
 * never values; agc_config_secret() resolves one. Errors name
 * "file:line:column: /json/pointer: message".
 */
#ifndef AGENTC_CONFIG_H
#define AGENTC_CONFIG_H

#include <jansson.h>

#include "common.h"
#include "secret.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_config agc_config;

typedef struct agc_config_opts {
    unsigned version;       /* AGC_CONFIG_OPTS_VERSION */
    bool no_env;            /* true: ignore AGENTC_* overrides */
    const char *const *env; /* NULL-terminated "NAME=value" list; NULL: the process environment */
    bool no_validate;       /* true: skip schema and secret-reference checks (any document) */
    const char *format;     /* "yaml", "json", or NULL: by extension, then by content */
} agc_config_opts;

#define AGC_CONFIG_OPTS_VERSION 1
#define AGC_CONFIG_OPTS_INIT                                                                       \
    {                                                                                              \
        AGC_CONFIG_OPTS_VERSION, false, NULL, false, NULL                                          \
    }

void agc_config_opts_init(agc_config_opts *opts);

/* Largest file agc_config_load reads. */
#define AGC_CONFIG_MAX_BYTES (4 * 1024 * 1024)

/*
 * Loads path. Environment overrides: AGENTC_PROVIDER__MODEL=gpt-4o sets
 * /provider/model ("__" separates levels, names are lower-cased; the value
 * is JSON when it parses as JSON, else a string). Only variables whose first
 * level names a top-level property of the config schema count, so
 * AGENTC_LOG_LEVEL (logging) is not an override but AGENTC_LOG__LEVEL is.
 * Then validates unless opts->no_validate.
 * Errors: AGC_EIO / AGC_ENOTFOUND (file), AGC_EPARSE ("file:line:col: what"),
 * AGC_ELIMIT (too large, alias bomb, too deep), AGC_EINVAL (bad override or
 * opts version), AGC_ESCHEMA (first error as "file:line:col: /ptr: message";
 * use agc_config_validate for all of them), AGC_ENOMEM. *out is the caller's
 * (agc_config_free); NULL on failure.
 */
AGC_NODISCARD agc_status agc_config_load(agc_config **out, const char *path,
                                         const agc_config_opts *opts, agc_ctx *ctx);
/* Same from text in memory; source names it in messages (and picks the format
 * by extension when it has one). */
AGC_NODISCARD agc_status agc_config_parse(agc_config **out, const char *text, size_t len,
                                          const char *source, const agc_config_opts *opts,
                                          agc_ctx *ctx);
/* Frees cfg; NULL is a no-op. */
void agc_config_free(agc_config *cfg);

/* The document (overrides applied). Borrowed: valid until agc_config_free. Do
 * not change it (positions would no longer match). */
json_t *agc_config_root(const agc_config *cfg);
/* The source name given at load (the path). Borrowed. */
const char *agc_config_source(const agc_config *cfg);

/* Where a value came from. file is the source name, or the environment
 * variable that overrode it (line and column 0 then). Borrowed from cfg. */
typedef struct agc_config_pos {
    const char *file;
    int line;   /* 1-based; 0 when unknown or from the environment */
    int column; /* 1-based */
} agc_config_pos;

/*
 * Finds the position of pointer (or of its nearest ancestor that has one).
 * Returns false, with pos set to the source and 0:0, when nothing matches.
 */
bool agc_config_position(const agc_config *cfg, const char *pointer, agc_config_pos *pos);

/* One finding of agc_config_validate. Strings are owned by the report. */
typedef struct agc_config_diag {
    agc_config_pos pos;
    const char *location;    /* "agent.yaml:3:5", or "AGENTC_PROVIDER__MODEL" */
    const char *pointer;     /* "/provider/model" ("" = the document) */
    const char *message;     /* "must be string"; never repeats a secret value */
    const char *keyword;     /* schema keyword, or "x-agentc-secret" */
    const char *schema_path; /* "/properties/provider/properties/model/type" */
    const char *text;        /* "agent.yaml:3:5: /provider/model: must be string" */
} agc_config_diag;

typedef struct agc_config_report {
    bool valid;
    size_t count;
    agc_config_diag *diags; /* in source order */
    bool truncated;         /* more errors existed */
} agc_config_report;

/*
 * Validates cfg against the config schema and checks that secret fields are
 * references (an inline value is reported without its text and registered
 * for redaction). Returns AGC_OK when valid, AGC_ESCHEMA when not (first
 * finding in the ctx message), AGC_ENOMEM, or an error compiling the schema.
 * When report_out is not NULL it receives the report on AGC_OK and
 * AGC_ESCHEMA; free it with agc_config_report_free().
 */
AGC_NODISCARD agc_status agc_config_validate(agc_config_report **report_out, const agc_config *cfg,
                                             agc_ctx *ctx);
void agc_config_report_free(agc_config_report *report, agc_ctx *ctx);

/*
 * Resolves the secret reference at pointer ("/provider/api_key") into a new
 * agc_secret (caller frees). AGC_ENOTFOUND when the field is absent,
 * AGC_EINVAL when it is not a reference (value not repeated), else the
 * errors of agc_secret_from_ref, wrapped with the field's location.
 */
AGC_NODISCARD agc_status agc_config_secret(agc_secret **out, const agc_config *cfg,
                                           const char *pointer, agc_ctx *ctx);

/* Serialises v as YAML (block style; strings that would read back as other
 * types are quoted). *out is the caller's (agc_free). AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_config_to_yaml(char **out, const json_t *v, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
