/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal parts of configuration loading: YAML (libyaml) and JSON
 * text to jansson values with a position map, and YAML output. A position
 * map is a jansson object from JSON Pointer to a packed line/column integer
 * (AGC__POS_PACK); every node of a parsed document has an entry.
 */
#ifndef AGC_CORE_CONFIG_INT_H
#define AGC_CORE_CONFIG_INT_H

#include <jansson.h>

#include "agentc/buf.h"
#include "agentc/common.h"

#define AGC__POS_PACK(line, col) (((json_int_t)(line) << 24) | (json_int_t)(col))
#define AGC__POS_LINE(p)         ((int)((p) >> 24))
#define AGC__POS_COL(p)          ((int)((p)&0xffffff))

/* Nodes (including alias expansions) one YAML document may produce. */
#define AGC__YAML_MAX_NODES 100000
/* Nesting depth of YAML and JSON documents. */
#define AGC__DOC_MAX_DEPTH 256

/*
 * Parses one YAML 1.2 (core schema) document into *out (new reference) and
 * adds an entry to posmap for every node. AGC_EPARSE "source:line:col: what"
 * for bad input (duplicate keys, several documents, non-finite floats,
 * unsupported tags), AGC_ELIMIT for alias bombs or deep nesting, AGC_ENOMEM.
 */
agc_status agc__yaml_parse(json_t **out, json_t *posmap, const char *text, size_t len,
                           const char *source, agc_ctx *ctx);
/*
 * Fills posmap for JSON text that jansson has already accepted. AGC_ENOMEM;
 * malformed text just stops the scan (positions stay partial).
 */
agc_status agc__json_positions(json_t *posmap, const char *text, size_t len, agc_ctx *ctx);
/* Whether a plain YAML scalar with this text would be read as something other
 * than a string (so that output must quote it). */
bool agc__yaml_plain_is_special(const char *s, size_t len);
/* Appends v as a YAML document (block style, strings quoted when needed) to b. */
agc_status agc__yaml_emit(agc_buf *b, const json_t *v, agc_ctx *ctx);

/* The embedded config schema (schemas/config.schema.json) parsed, as a new reference. */
agc_status agc__config_schema_json(json_t **out, agc_ctx *ctx);

#endif
