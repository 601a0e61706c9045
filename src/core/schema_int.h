/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema internals shared by schema_*.c: the compiled node tree, the
 * compile-time registry of resources and anchors, URI helpers and the
 * per-call validation state.
 * Invariant: everything reachable from agc_schema is immutable after
 * agc_schema_compile() returns (nodes live in the schema's arena, the JSON
 * documents are private deep copies), so validation only reads it.
 * Not here: the public API (include/agentc/schema.h).
 */
#ifndef AGC_CORE_SCHEMA_INT_H
#define AGC_CORE_SCHEMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/schema.h"

/* type bits */
enum {
    SCH_T_NULL = 1,
    SCH_T_BOOL = 2,
    SCH_T_OBJ = 4,
    SCH_T_ARR = 8,
    SCH_T_NUM = 16,
    SCH_T_STR = 32,
    SCH_T_INT = 64,
};

/* vocabulary bits of a resource */
enum {
    SCH_V_CORE = 1,
    SCH_V_APPLICATOR = 2,
    SCH_V_UNEVAL = 4,
    SCH_V_VALIDATION = 8,
    SCH_V_FORMAT_ASSERT = 16,
    SCH_V_LEGACY = 32, /* an earlier draft's meta-schema: prefixItems is not a keyword */
    SCH_V_DEFAULT = SCH_V_CORE | SCH_V_APPLICATOR | SCH_V_UNEVAL | SCH_V_VALIDATION,
};

typedef struct sch_node sch_node;

typedef struct sch_named {
    const char *name;
    sch_node *node;
} sch_named;

typedef struct sch_pat {
    pcre2_code *re;
    const char *src;
    sch_node *node;
} sch_pat;

typedef struct sch_depreq {
    const char *name;
    const char **req;
    size_t n;
} sch_depreq;

typedef struct sch_dyn {
    const char *name;
    const json_t *json;
    sch_node *node; /* NULL until compiled */
} sch_dyn;

/* A schema resource: a (sub)schema with its own absolute URI. */
typedef struct sch_res {
    const char *uri;    /* absolute, no fragment */
    const json_t *root; /* the resource's root schema value */
    unsigned vocab;     /* SCH_V_* enabled for this resource */
    sch_dyn *dyn;       /* its $dynamicAnchor subschemas */
    size_t ndyn, capdyn;
    struct sch_res *next; /* all resources, for freeing order and dynamic anchors */
} sch_res;

enum {
    SCH_N_BOOL = 1,
    SCH_N_TRUE = 2,
    SCH_N_UNIQUE = 4,
    SCH_N_HAS_CONST = 8,
    SCH_N_FORMAT_ASSERT = 16
};

struct sch_node {
    const json_t *json;
    sch_res *res;
    unsigned flags;
    unsigned types; /* 0: no "type" keyword */
    const json_t *enum_, *const_;
    const json_t *multiple_of, *maximum, *ex_maximum, *minimum, *ex_minimum;
    long long max_len, min_len, max_items, min_items, max_contains, min_contains;
    long long max_props, min_props; /* -1: absent */
    sch_pat pattern;
    const char **required;
    size_t nrequired;
    sch_depreq *dep_req;
    size_t ndep_req;
    const char *format;
    int format_id;
    sch_node **all_of, **any_of, **one_of;
    size_t nall_of, nany_of, none_of;
    sch_node *not_, *if_, *then_, *else_;
    sch_named *dep_schemas;
    size_t ndep_schemas;
    sch_node **prefix;
    size_t nprefix;
    sch_node *items, *contains, *additional, *prop_names, *uneval_items, *uneval_props;
    sch_named *props; /* sorted by name (strcmp) */
    size_t nprops;
    sch_pat *pat_props;
    size_t npat_props;
    sch_node *ref;
    const char *ref_str;
    sch_node *dyn_ref;
    const char *dyn_ref_str;
    const char *dyn_ref_anchor; /* non-NULL: resolve dynamically by this anchor name */
};

struct agc_schema {
    agc_arena *arena;
    sch_node *root;
    json_t **docs; /* private documents (deep copies), decref'd on free */
    size_t ndocs, capdocs;
    sch_res *resources;
    pcre2_code **codes; /* every compiled regex, freed on free */
    size_t ncodes, capcodes;
    bool format_assert;
    size_t max_errors;
};

/* ---- URIs (schema_uri.c) ---- */

/*
 * Resolves ref against base (RFC 3986 section 5.2), result allocated in a.
 * An empty trailing fragment is dropped. NULL on allocation failure.
 */
char *agc__sch_uri_resolve(agc_arena *a, const char *base, const char *ref);
/* Percent-decodes s into a new arena string; NULL on bad escapes or OOM (*bad set). */
char *agc__sch_pct_decode(agc_arena *a, const char *s, bool *bad);

/* ---- pointer/string hash map used at compile time (schema_uri.c) ---- */
typedef struct sch_map_ent {
    const void *key; /* NULL: empty */
    void *val;
} sch_map_ent;

typedef struct sch_map {
    sch_map_ent *e;
    size_t cap, n;
    bool strings; /* keys are NUL-terminated strings, else pointers */
    agc_ctx *ctx;
} sch_map;

void agc__sch_map_init(sch_map *m, bool strings, agc_ctx *ctx);
void *agc__sch_map_get(const sch_map *m, const void *key);
/* Inserts or replaces; key must outlive the map. AGC_ENOMEM. */
agc_status agc__sch_map_put(sch_map *m, const void *key, void *val);
void agc__sch_map_free(sch_map *m);

/* ---- compile helpers (schema_keywords_compile in schema_compile.c) ---- */

/* Registry entry: a resource root or an anchor. */
typedef struct sch_reg {
    const json_t *json;
    sch_res *res;
} sch_reg;

/* Compile state. */
typedef struct sch_cstate {
    agc_ctx *ctx;
    agc_schema *s;
    const agc_schema_opts *opts;
    sch_map reg;     /* "uri" / "uri#anchor" -> sch_reg */
    sch_map ptrs;    /* json_t* -> sch_node* once compiled */
    sch_map scanned; /* json_t* -> sch_res* (resource of a subschema found by the scan) */
    pcre2_general_context *gctx;
    int depth;
    int vdepth; /* meta-schema lookups in progress */
    sch_node *true_node, *false_node;
} sch_cstate;

/* A location while compiling, for messages: chain of segments below a root label. */
typedef struct sch_loc {
    const struct sch_loc *up;
    const char *key; /* NULL: idx */
    size_t idx;
    const char *root; /* only in the chain's first element */
} sch_loc;

/* "uri#/a/b" for messages, in buf (cut to size). */
const char *agc__sch_loc_str(const sch_loc *l, char *buf, size_t size);
/*
 * Sets "<head> at <location>: <message>" on the ctx and returns code. Kept out
 * of line so that recursive compile frames carry no message buffers.
 */
agc_status agc__sch_loc_error(sch_cstate *c, agc_status code, const char *head, const sch_loc *loc,
                              const char *fmt, ...) AGC_PRINTF(5, 6);

/* Compiles one keyword group of an object schema into n (schema_compile_kw.c). */
agc_status agc__sch_compile_keywords(sch_cstate *c, sch_node *n, const sch_loc *loc);
/* Compiles a subschema value (memoised by JSON identity). */
agc_status agc__sch_compile_node(sch_cstate *c, sch_node **out, const json_t *j, sch_res *res,
                                 const sch_loc *loc);
/* Compiles a regex (ECMA-262 flavoured) for the schema; AGC_EINVAL names loc. */
agc_status agc__sch_compile_regex(sch_cstate *c, pcre2_code **out, const char *src,
                                  const sch_loc *loc);
/* Translates an ECMA-262 pattern to PCRE2 syntax (\d, \w ASCII). Caller frees (ctx). */
char *agc__sch_regex_translate(const char *src, agc_ctx *ctx);
/* Resolves a $ref/$dynamicRef string at compile time to a node. */
agc_status agc__sch_resolve_ref(sch_cstate *c, sch_node **out, const char *ref, sch_res *res,
                                const sch_loc *loc);
/* PCRE2 memory routed to ctx. */
pcre2_general_context *agc__sch_gctx_new(agc_ctx *ctx);

/* ---- formats (schema_format.c) ---- */

/* Format id for a name, 0 when unknown (unknown formats always pass). */
int agc__sch_format_id(const char *name);
/*
 * Checks s (len bytes) against format id. Returns 1 valid, 0 invalid, -1 on
 * allocation failure (regex format only).
 */
int agc__sch_format_check(int id, const char *s, size_t len, pcre2_general_context *gctx,
                          agc_ctx *ctx);

/* ---- validation (schema_validate.c) ---- */

typedef struct sch_path {
    const struct sch_path *up;
    const char *key; /* NULL: idx */
    size_t idx;
} sch_path;

typedef struct sch_scope {
    const struct sch_scope *up;
    const sch_res *res;
} sch_scope;

/* evaluated-location set for unevaluated*: one byte per key (by iteration index) or item */
typedef struct sch_ev {
    unsigned char *bits;
    size_t n;
} sch_ev;

typedef struct sch_vstate {
    agc_ctx *ctx;
    const agc_schema *s;
    pcre2_general_context *gctx;
    pcre2_match_data *md;
    agc_schema_error *errs;
    size_t count, cap, max, dropped;
    int depth;
    agc_status fatal; /* AGC_OK or the first ENOMEM/ELIMIT */
} sch_vstate;

/* One node applied to one instance. */
typedef struct sch_call {
    const json_t *inst;
    const sch_path *ip;     /* instance location */
    const sch_path *sp;     /* evaluation path of this node */
    const sch_scope *scope; /* dynamic scope, innermost first */
    bool quiet;             /* errors are not recorded (only validity matters) */
    sch_ev *ev;             /* annotations out (NULL: not needed) */
} sch_call;

bool agc__sch_validate(sch_vstate *st, const sch_node *n, const sch_call *call);
/* Assertion keywords of the validation vocabulary (schema_keywords.c). */
bool agc__sch_assertions(sch_vstate *st, const sch_node *n, const sch_call *call);
/* Records an error (unless quiet); message is printf-style. */
void agc__sch_error(sch_vstate *st, const sch_call *call, const char *keyword,
                    const sch_path *extra, const char *fmt, ...) AGC_PRINTF(5, 6);
/* Error list rollback for speculative branches. */
size_t agc__sch_err_mark(const sch_vstate *st, size_t *dropped);
void agc__sch_err_rollback(sch_vstate *st, size_t mark, size_t dropped);
void agc__sch_fatal(sch_vstate *st, agc_status code, const char *fmt, ...) AGC_PRINTF(3, 4);
/* Regex search; 1 match, 0 no match, -1 failure (fatal set). */
int agc__sch_regex_match(sch_vstate *st, const pcre2_code *re, const char *s, size_t len);
/* Numeric-aware deep equality (1 == 1.0). */
bool agc__sch_equal(const json_t *a, const json_t *b);
/* Code points in a UTF-8 string. */
size_t agc__sch_utf8_len(const char *s, size_t len);

#endif
