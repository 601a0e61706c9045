/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * YAML to jansson with libyaml's event parser, typed by the YAML 1.2 core
 * schema (plain scalars only; quoted scalars are always strings). The tree
 * is built with an explicit stack, so input depth never recurses. Aliases
 * are expanded as deep copies, counted against a node cap (billion laughs).
 * Rejects several documents, duplicate keys, non-scalar keys, non-finite
 * floats and unknown tags. Merge keys ("<<") are not special (YAML 1.1 only).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "config_int.h"

#define MOD        "config"
#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct frame {
    json_t *node; /* borrowed (owned by its parent or by root) */
    bool is_map;
    char *key;            /* pending key (agc_malloc), map only */
    yaml_mark_t key_mark; /* where the pending key starts */
    size_t ptr_len;       /* length of this node's pointer in the path buffer */
    size_t nodes_at_start;
    int anchor; /* index in anchors, -1 */
} frame;

typedef struct anchor {
    char *name;
    json_t *node; /* own reference */
    size_t size;  /* nodes in the subtree; 0 while still open */
} anchor;

typedef struct builder {
    agc_ctx *ctx;
    const char *source;
    json_t *posmap;
    json_t *root;
    frame *stack;
    size_t depth, cap;
    anchor *anchors;
    size_t nanchors, capanchors;
    size_t nodes;
    agc_buf path;
} builder;

static agc_status perr(builder *b, const yaml_mark_t *m, const char *fmt, const char *arg)
{
    char what[512];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    return agc_error_set(b->ctx, AGC_EPARSE, MOD, "%s:%zu:%zu: %s", b->source, m->line + 1,
                         m->column + 1, what);
}

static agc_status oom(builder *b)
{
    return agc_error_set(b->ctx, AGC_ENOMEM, MOD, "out of memory reading %s", b->source);
}

/* ---- scalar typing (YAML 1.2 core schema) ------------------------------------ */

static bool is_one_of(const char *s, size_t n, const char *const *set)
{
    for (; *set; set++)
        if (strlen(*set) == n && memcmp(*set, s, n) == 0)
            return true;
    return false;
}

static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const trues[] = {"true", "True", "TRUE", NULL};
static const char *const falses[] = {"false", "False", "FALSE", NULL};
static const char *const infs[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                   "+.INF", "-.inf", "-.Inf", "-.INF", NULL};
static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};

static bool all_in(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return false;
    return true;
}

typedef enum { K_STR, K_NULL, K_BOOL, K_INT, K_FLOAT, K_NONFINITE } kind;

static kind classify(const char *s, size_t n)
{
    if (is_one_of(s, n, nulls))
        return K_NULL;
    if (is_one_of(s, n, trues) || is_one_of(s, n, falses))
        return K_BOOL;
    if (is_one_of(s, n, infs) || is_one_of(s, n, nans))
        return K_NONFINITE;
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (all_in(s + i, n - i, "0123456789"))
        return K_INT;
    if (n > 2 && s[0] == '0' && s[1] == 'o' && all_in(s + 2, n - 2, "01234567"))
        return K_INT;
    if (n > 2 && s[0] == '0' && s[1] == 'x' && all_in(s + 2, n - 2, "0123456789abcdefABCDEF"))
        return K_INT;
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    size_t j = i, d1 = 0, d2 = 0;
    while (j < n && s[j] >= '0' && s[j] <= '9')
        j++, d1++;
    if (j < n && s[j] == '.') {
        j++;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++, d2++;
        if (d1 == 0 && d2 == 0)
            return K_STR;
    } else if (d1 == 0) {
        return K_STR;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '-' || s[j] == '+'))
            j++;
        size_t d3 = 0;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++, d3++;
        if (d3 == 0)
            return K_STR;
    }
    return j == n ? K_FLOAT : K_STR;
}

bool agc__yaml_plain_is_special(const char *s, size_t len)
{
    return classify(s, len) != K_STR;
}

/* Makes a typed value of kind k from s; NULL with *err set for bad numbers. */
static json_t *make_typed(kind k, const char *s, size_t n, const char **err)
{
    char tmp[128];
    switch (k) {
    case K_NULL:
        return json_null();
    case K_BOOL:
        return json_boolean(s[0] == 't' || s[0] == 'T');
    case K_NONFINITE:
        *err = "infinite and NaN numbers are not allowed (JSON cannot hold them); use a finite "
               "number or quote the text";
        return NULL;
    case K_INT: {
        if (n >= sizeof tmp) {
            *err = "integer out of range";
            return NULL;
        }
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        int base = 10;
        const char *digits = tmp;
        if (n > 2 && tmp[0] == '0' && (tmp[1] == 'o' || tmp[1] == 'x')) {
            base = tmp[1] == 'o' ? 8 : 16;
            digits = tmp + 2;
        }
        errno = 0;
        char *end = NULL;
        long long v = strtoll(digits, &end, base);
        if (errno == ERANGE || *end) {
            *err = "integer out of range (64-bit); quote it if it is an identifier";
            return NULL;
        }
        return json_integer((json_int_t)v);
    }
    case K_FLOAT: {
        if (n >= sizeof tmp) {
            *err = "number too long";
            return NULL;
        }
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *end = NULL;
        double d = strtod(tmp, &end);
        if (!isfinite(d)) {
            *err = "number out of range (not finite); use a smaller number or quote it";
            return NULL;
        }
        return json_real(d);
    }
    case K_STR:
        break;
    }
    return json_stringn(s, n);
}

/* ---- tree building --------------------------------------------------------- */

static agc_status record_pos(builder *b, const char *ptr, const yaml_mark_t *m)
{
    if (json_object_set_new(b->posmap, ptr,
                            json_integer(AGC__POS_PACK(m->line + 1, m->column + 1))) != 0)
        return oom(b);
    return AGC_OK;
}

static int find_anchor(builder *b, const char *name)
{
    for (size_t i = b->nanchors; i-- > 0;) /* newest definition wins */
        if (strcmp(b->anchors[i].name, name) == 0)
            return (int)i;
    return -1;
}

static agc_status add_anchor(builder *b, const yaml_char_t *name, json_t *node, size_t size,
                             int *idx)
{
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 8;
        anchor *v = agc_realloc(b->ctx, b->anchors, cap * sizeof *v);
        if (!v)
            return AGC_ENOMEM;
        b->anchors = v;
        b->capanchors = cap;
    }
    char *n = agc_strdup(b->ctx, (const char *)name);
    if (!n)
        return AGC_ENOMEM;
    b->anchors[b->nanchors] = (anchor){n, json_incref(node), size};
    *idx = (int)b->nanchors++;
    return AGC_OK;
}

/* Records positions for every node under v (an alias copy) at mark m. */
static agc_status pos_subtree(builder *b, const json_t *v, const yaml_mark_t *m, int depth)
{
    if (depth > AGC__DOC_MAX_DEPTH)
        return AGC_OK;
    size_t base = b->path.len;
    agc_status s = AGC_OK;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            b->path.len = base;
            if ((s = agc_json_pointer_append(&b->path, k)) != AGC_OK ||
                (s = record_pos(b, agc_buf_cstr(&b->path), m)) != AGC_OK ||
                (s = pos_subtree(b, c, m, depth + 1)) != AGC_OK)
                break;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            b->path.len = base;
            if ((s = agc_buf_printf(&b->path, "/%zu", i)) != AGC_OK ||
                (s = record_pos(b, agc_buf_cstr(&b->path), m)) != AGC_OK ||
                (s = pos_subtree(b, json_array_get(v, i), m, depth + 1)) != AGC_OK)
                break;
        }
    }
    b->path.len = base;
    if (b->path.data)
        b->path.data[base] = '\0';
    return s;
}

/*
 * Places value (a new reference, stolen) under the current top frame and
 * leaves the path buffer holding its pointer. For map frames without a
 * pending key, value must be a string and becomes the key.
 */
static agc_status attach(builder *b, json_t *value, const yaml_mark_t *m)
{
    if (b->depth == 0) {
        b->root = value;
        b->path.len = 0;
        if (b->path.data)
            b->path.data[0] = '\0';
        return record_pos(b, "", m);
    }
    frame *f = &b->stack[b->depth - 1];
    b->path.len = f->ptr_len;
    if (b->path.data)
        b->path.data[f->ptr_len] = '\0';
    if (f->is_map && !f->key) {
        json_decref(value); /* keys are handled by the caller */
        return perr(b, m, "mapping keys must be plain text, not collections or aliases%s", "");
    }
    agc_status s;
    if (f->is_map) {
        m = &f->key_mark; /* errors about a member point at its key */
        s = agc_json_pointer_append(&b->path, f->key);
        if (s != AGC_OK)
            json_decref(value);
        else if (json_object_set_new(f->node, f->key, value) != 0)
            s = oom(b);
        agc_free(b->ctx, f->key);
        f->key = NULL;
    } else {
        s = agc_buf_printf(&b->path, "/%zu", json_array_size(f->node));
        if (s != AGC_OK)
            json_decref(value);
        else if (json_array_append_new(f->node, value) != 0)
            s = oom(b);
    }
    if (s != AGC_OK)
        return s;
    return record_pos(b, agc_buf_cstr(&b->path), m);
}

/* Sets the pending key of the top (map) frame; duplicate keys are errors. */
static agc_status take_key(builder *b, const char *k, size_t n, const yaml_mark_t *m)
{
    frame *f = &b->stack[b->depth - 1];
    if (memchr(k, '\0', n))
        return perr(b, m, "mapping key contains a NUL character%s", "");
    char *key = agc_strndup(b->ctx, k, n);
    if (!key)
        return AGC_ENOMEM;
    if (json_object_get(f->node, key)) {
        /* find where the first one was */
        b->path.len = f->ptr_len;
        if (b->path.data)
            b->path.data[f->ptr_len] = '\0';
        int first = 0;
        if (agc_json_pointer_append(&b->path, key) == AGC_OK) {
            json_t *p = json_object_get(b->posmap, agc_buf_cstr(&b->path));
            first = p ? AGC__POS_LINE(json_integer_value(p)) : 0;
        }
        char what[400];
        snprintf(what, sizeof what, "duplicate key \"%.200s\" (first defined at line %d)", key,
                 first);
        agc_free(b->ctx, key);
        return perr(b, m, "%s", what);
    }
    f->key = key;
    f->key_mark = *m;
    return AGC_OK;
}

static agc_status push(builder *b, json_t *node, bool is_map, const yaml_mark_t *m,
                       const yaml_char_t *anchor_name)
{
    if (b->depth >= AGC__DOC_MAX_DEPTH) {
        json_decref(node);
        agc_error_set(b->ctx, AGC_ELIMIT, MOD, "%s:%zu:%zu: nesting deeper than %d levels",
                      b->source, m->line + 1, m->column + 1, AGC__DOC_MAX_DEPTH);
        return AGC_ELIMIT;
    }
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        frame *v = agc_realloc(b->ctx, b->stack, cap * sizeof *v);
        if (!v) {
            json_decref(node);
            return AGC_ENOMEM;
        }
        b->stack = v;
        b->cap = cap;
    }
    agc_status s = attach(b, node, m); /* steals node */
    if (s != AGC_OK)
        return s;
    int idx = -1;
    if (anchor_name && (s = add_anchor(b, anchor_name, node, 0, &idx)) != AGC_OK)
        return s;
    yaml_mark_t none = {0, 0, 0};
    b->stack[b->depth++] = (frame){node, is_map, NULL, none, b->path.len, b->nodes, idx};
    return AGC_OK;
}

static void pop(builder *b)
{
    frame *f = &b->stack[--b->depth];
    if (f->anchor >= 0)
        b->anchors[f->anchor].size = b->nodes - f->nodes_at_start + 1;
    agc_free(b->ctx, f->key);
}

static agc_status count_node(builder *b, size_t n, const yaml_mark_t *m)
{
    if (n > AGC__YAML_MAX_NODES - b->nodes) {
        agc_error_set(b->ctx, AGC_ELIMIT, MOD,
                      "%s:%zu:%zu: document expands to more than %d nodes (alias bomb?)", b->source,
                      m->line + 1, m->column + 1, AGC__YAML_MAX_NODES);
        return AGC_ELIMIT;
    }
    b->nodes += n;
    return AGC_OK;
}

static agc_status on_scalar(builder *b, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    agc_status st = count_node(b, 1, m);
    if (st != AGC_OK)
        return st;
    frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (f && f->is_map && !f->key) {
        if (ev->data.scalar.anchor)
            return perr(b, m, "anchors on mapping keys are not supported%s", "");
        return take_key(b, s, n, m);
    }
    kind k = K_STR;
    if (tag && strcmp(tag, "!") != 0) {
        if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
            return perr(b, m, "unsupported tag %.100s; agentc reads plain YAML 1.2 data", tag);
        const char *t = tag + strlen(TAG_PREFIX);
        kind want = strcmp(t, "str") == 0     ? K_STR
                    : strcmp(t, "null") == 0  ? K_NULL
                    : strcmp(t, "bool") == 0  ? K_BOOL
                    : strcmp(t, "int") == 0   ? K_INT
                    : strcmp(t, "float") == 0 ? K_FLOAT
                                              : (kind)-1;
        if (want == (kind)-1)
            return perr(b, m, "unsupported tag %.100s", tag);
        k = want;
        if (want != K_STR) {
            kind got = classify(s, n);
            bool ok = got == want || (want == K_FLOAT && (got == K_INT || got == K_NONFINITE));
            if (!ok)
                return perr(b, m, "value does not match its tag %.100s", tag);
            k = (want == K_FLOAT && got == K_INT) ? K_FLOAT : got;
        }
    } else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        k = classify(s, n);
    }
    const char *err = NULL;
    json_t *v = make_typed(k, s, n, &err);
    if (!v)
        return err ? perr(b, m, "%s", err) : oom(b);
    st = attach(b, v, m);
    if (st == AGC_OK && ev->data.scalar.anchor) {
        int idx;
        st = add_anchor(b, ev->data.scalar.anchor, v, 1, &idx);
    }
    return st;
}

static agc_status on_alias(builder *b, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    const char *name = (const char *)ev->data.alias.anchor;
    int i = find_anchor(b, name);
    if (i < 0)
        return perr(b, m, "alias *%.100s names no anchor defined before it", name);
    anchor *a = &b->anchors[i];
    if (a->size == 0)
        return perr(b, m, "alias *%.100s refers to a node that contains it (a cycle)", name);
    agc_status st = count_node(b, a->size, m);
    if (st != AGC_OK)
        return st;
    frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (f && f->is_map && !f->key) {
        if (!json_is_string(a->node))
            return perr(b, m, "mapping keys must be plain text, not collections%s", "");
        return take_key(b, json_string_value(a->node), json_string_length(a->node), m);
    }
    json_t *copy = json_deep_copy(a->node);
    if (!copy)
        return oom(b);
    st = attach(b, copy, m);
    return st == AGC_OK ? pos_subtree(b, copy, m, 0) : st;
}

static agc_status on_event(builder *b, const yaml_event_t *ev, int *docs, bool *done)
{
    const yaml_mark_t *m = &ev->start_mark;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return perr(b, m, "a second YAML document starts here; put one document per file%s",
                        "");
        return AGC_OK;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        bool is_map = ev->type == YAML_MAPPING_START_EVENT;
        const char *tag =
            (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        if (tag && strcmp(tag, is_map ? TAG_PREFIX "map" : TAG_PREFIX "seq") != 0 &&
            strcmp(tag, "!") != 0)
            return perr(b, m, "unsupported tag %.100s", tag);
        agc_status st = count_node(b, 1, m);
        if (st != AGC_OK)
            return st;
        json_t *node = is_map ? json_object() : json_array();
        if (!node)
            return oom(b);
        return push(b, node, is_map, m,
                    is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
    }
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        pop(b);
        return AGC_OK;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_STREAM_END_EVENT:
        *done = true;
        return AGC_OK;
    default:
        return AGC_OK;
    }
}

static agc_status parse_events(builder *b, const char *text, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return oom(b);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    agc_status st = AGC_OK;
    int docs = 0;
    bool done = false;
    while (st == AGC_OK && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            if (p.error == YAML_MEMORY_ERROR) {
                st = oom(b);
            } else {
                char what[400];
                snprintf(what, sizeof what, "%s%s%s", p.problem ? p.problem : "syntax error",
                         p.context ? " " : "", p.context ? p.context : "");
                st = perr(b, &p.problem_mark, "%s", what);
            }
            break;
        }
        st = on_event(b, &ev, &docs, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (st == AGC_OK && !b->root) {
        yaml_mark_t m = {0, 0, 0};
        st = perr(b, &m, "the file holds no YAML document (it is empty)%s", "");
    }
    return st;
}

agc_status agc__yaml_parse(json_t **out, json_t *posmap, const char *text, size_t len,
                           const char *source, agc_ctx *ctx)
{
    *out = NULL;
    builder b = {0};
    b.ctx = ctx;
    b.source = source ? source : "<input>";
    b.posmap = posmap;
    agc_buf_init(&b.path, ctx, 1024 * 1024);
    agc_ctx *prev = agc_json_enter(ctx);
    agc_status st = parse_events(&b, text, len);
    if (st == AGC_OK && agc_json_oom(ctx))
        st = oom(&b);
    while (b.depth > 0)
        pop(&b);
    for (size_t i = 0; i < b.nanchors; i++) {
        agc_free(ctx, b.anchors[i].name);
        json_decref(b.anchors[i].node);
    }
    if (st == AGC_OK)
        *out = b.root;
    else
        json_decref(b.root);
    agc_json_leave(prev);
    agc_free(ctx, b.anchors);
    agc_free(ctx, b.stack);
    agc_buf_free(&b.path);
    return st;
}

/* ---- output ------------------------------------------------------------------ */

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
    return agc_buf_append(data, buffer, size) == AGC_OK;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, size_t n, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
        return 0;
    return yaml_emitter_emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, const json_t *v, int depth)
{
    yaml_event_t ev;
    char num[64];
    if (depth > AGC__DOC_MAX_DEPTH * 4)
        return 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return 0;
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            size_t kn = strlen(k);
            yaml_scalar_style_t st = agc__yaml_plain_is_special(k, kn)
                                         ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                         : YAML_ANY_SCALAR_STYLE;
            if (!emit_scalar(e, k, kn, st) || !emit_value(e, c, depth + 1))
                return 0;
        }
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    }
    case JSON_ARRAY:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return 0;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!emit_value(e, json_array_get(v, i), depth + 1))
                return 0;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        yaml_scalar_style_t st = YAML_ANY_SCALAR_STYLE;
        if (agc__yaml_plain_is_special(s, n) || memchr(s, '\0', n))
            st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        else if (memchr(s, '\n', n))
            st = YAML_LITERAL_SCALAR_STYLE; /* the emitter falls back when it cannot */
        return emit_scalar(e, s, n, st);
    }
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return emit_scalar(e, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case JSON_REAL: {
        double d = json_real_value(v);
        snprintf(num, sizeof num, "%.15g", d);
        if (strtod(num, NULL) != d)
            snprintf(num, sizeof num, "%.17g", d);
        size_t l = strlen(num);
        if (!strpbrk(num, ".eE") && l + 3 <= sizeof num)
            memcpy(num + l, ".0", 3); /* keep it a float when read back */
        return emit_scalar(e, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    }
    case JSON_TRUE:
        return emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    case JSON_NULL:
        return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
    return 0;
}

agc_status agc__yaml_emit(agc_buf *b, const json_t *v, agc_ctx *ctx)
{
    yaml_emitter_t e;
    if (!yaml_emitter_initialize(&e))
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory writing YAML");
    yaml_emitter_set_output(&e, emit_write, b);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, 100);
    yaml_event_t ev;
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
             yaml_emitter_emit(&e, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
             yaml_emitter_emit(&e, &ev) && emit_value(&e, v, 0) &&
             yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
             yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
             yaml_emitter_flush(&e);
    agc_status st = AGC_OK;
    if (!ok)
        st = e.error == YAML_MEMORY_ERROR || e.error == YAML_WRITER_ERROR
                 ? agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory writing YAML")
                 : agc_error_set(ctx, AGC_ERROR, MOD, "cannot write YAML: %s",
                                 e.problem ? e.problem : "emitter error");
    yaml_emitter_delete(&e);
    return st;
}
