/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm script: checking a script document, and choosing the reply for each
 * request (matched replies first, then the cursor over the unmatched ones,
 * then the default). One mutex guards the cursor, the use counts and the
 * sequence number, so concurrent requests are served in a well-defined order.
 * The document is kept as a deep copy made outside any ctx scope (jansson's
 * process default allocator), so that it never refers to a request's ctx.
 */
#include <pthread.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "fakellm.h"

struct fakellm_script {
    agc_ctx *ctx; /* owner: allocates the use counts, under mu */
    pthread_mutex_t mu;
    json_t *doc; /* deep copy, owned */
    char *name;
    size_t n;   /* replies */
    long *uses; /* per reply */
    size_t cursor;
    unsigned long seq;
};

/* ---- checking ------------------------------------------------------------- */

typedef struct field {
    const char *name;
    const char *types; /* "s" string, "i" int >= 0, "o" object, "a" array, "b" bool,
                          "f" false, "p" positive int */
} field;

static const field reply_fields[] = {
    {"text", "s"},   {"thinking", "s"}, {"signature", "s"}, {"tool_calls", "a"}, {"finish", "s"},
    {"usage", "of"}, {"model", "s"},    {"id", "s"},        {"request_id", "s"}, {"match", "o"},
    {"times", "i"},  {"fault", "o"},    {"comment", "s"},   {NULL, NULL}};
static const field call_fields[] = {{"id", "s"}, {"name", "s"}, {"arguments", "os"}, {NULL, NULL}};
static const field usage_fields[] = {{"input_tokens", "i"},        {"output_tokens", "i"},
                                     {"cached_input_tokens", "i"}, {"cache_write_tokens", "i"},
                                     {"reasoning_tokens", "i"},    {NULL, NULL}};
static const field match_fields[] = {
    {"last_message_contains", "s"}, {"path", "s"}, {"model", "s"}, {NULL, NULL}};
static const field fault_fields[] = {
    {"status", "p"},       {"error", "s"},           {"error_type", "s"},
    {"retry_after", "si"}, {"retry_after_ms", "si"}, {"delay_ms", "i"},
    {"drip_ms", "i"},      {"split_bytes", "p"},     {"reset_after_events", "i"},
    {"truncate", "b"},     {"malformed", "b"},       {"oversize_bytes", "i"},
    {"raw_body", "s"},     {"content_type", "s"},    {NULL, NULL}};

static bool type_ok(const json_t *v, const char *types)
{
    for (const char *t = types; *t; t++) {
        switch (*t) {
        case 's':
            if (json_is_string(v))
                return true;
            break;
        case 'o':
            if (json_is_object(v))
                return true;
            break;
        case 'a':
            if (json_is_array(v))
                return true;
            break;
        case 'b':
            if (json_is_boolean(v))
                return true;
            break;
        case 'f':
            if (json_is_false(v))
                return true;
            break;
        case 'i':
            if (json_is_integer(v) && json_integer_value(v) >= 0)
                return true;
            break;
        case 'p':
            if (json_is_integer(v) && json_integer_value(v) > 0)
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

static const char *type_text(const char *types)
{
    if (!strcmp(types, "s"))
        return "a string";
    if (!strcmp(types, "i"))
        return "an integer >= 0";
    if (!strcmp(types, "p"))
        return "an integer > 0";
    if (!strcmp(types, "o"))
        return "an object";
    if (!strcmp(types, "a"))
        return "an array";
    if (!strcmp(types, "b"))
        return "true or false";
    if (!strcmp(types, "of"))
        return "an object or false";
    if (!strcmp(types, "os"))
        return "an object or a JSON string";
    if (!strcmp(types, "si"))
        return "a string or an integer >= 0";
    return "of another type";
}

static agc_status check_object(const json_t *obj, const field *fields, const char *where,
                               agc_ctx *ctx)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const field *f = fields;
        while (f->name && strcmp(f->name, key))
            f++;
        if (!f->name)
            return agc_error_set(ctx, AGC_EINVAL, "fakellm",
                                 "%s.%s: unknown member; see docs/fakellm.md", where, key);
        if (!type_ok(v, f->types))
            return agc_error_set(ctx, AGC_EINVAL, "fakellm", "%s.%s: must be %s (got %s)", where,
                                 key, type_text(f->types), agc_json_type_name(v));
    }
    return AGC_OK;
}

static agc_status check_reply(const json_t *r, const char *where, agc_ctx *ctx)
{
    if (!json_is_object(r))
        return agc_error_set(ctx, AGC_EINVAL, "fakellm", "%s: must be an object (got %s)", where,
                             agc_json_type_name(r));
    agc_status st = check_object(r, reply_fields, where, ctx);
    if (st)
        return st;
    char sub[96];
    const json_t *calls = json_object_get(r, "tool_calls");
    for (size_t i = 0; i < json_array_size(calls); i++) {
        const json_t *c = json_array_get(calls, i);
        snprintf(sub, sizeof sub, "%s.tool_calls[%zu]", where, i);
        if (!json_is_object(c))
            return agc_error_set(ctx, AGC_EINVAL, "fakellm", "%s: must be an object", sub);
        if ((st = check_object(c, call_fields, sub, ctx)))
            return st;
        if (!json_is_string(json_object_get(c, "name")))
            return agc_error_set(ctx, AGC_EINVAL, "fakellm", "%s.name: is required", sub);
    }
    const json_t *usage = json_object_get(r, "usage");
    snprintf(sub, sizeof sub, "%s.usage", where);
    if (json_is_object(usage) && (st = check_object(usage, usage_fields, sub, ctx)))
        return st;
    snprintf(sub, sizeof sub, "%s.match", where);
    const json_t *m = json_object_get(r, "match");
    if (m && (st = check_object(m, match_fields, sub, ctx)))
        return st;
    snprintf(sub, sizeof sub, "%s.fault", where);
    const json_t *f = json_object_get(r, "fault");
    if (f && (st = check_object(f, fault_fields, sub, ctx)))
        return st;
    long long status = agc_json_int(f, "status", 0);
    if (f && json_object_get(f, "status") && (status < 100 || status > 599))
        return agc_error_set(ctx, AGC_EINVAL, "fakellm", "%s.status: must be 100..599", sub);
    return AGC_OK;
}

agc_status fakellm_script_check(const json_t *doc, agc_ctx *ctx)
{
    if (!json_is_object(doc))
        return agc_error_set(ctx, AGC_EINVAL, "fakellm",
                             "script: must be an object {\"replies\": [...], \"default\": {...}}");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)doc, key, v)
    {
        if (strcmp(key, "replies") && strcmp(key, "default") && strcmp(key, "comment"))
            return agc_error_set(ctx, AGC_EINVAL, "fakellm",
                                 "script.%s: unknown member (expected replies, default)", key);
    }
    const json_t *replies = json_object_get(doc, "replies");
    if (replies && !json_is_array(replies))
        return agc_error_set(ctx, AGC_EINVAL, "fakellm", "script.replies: must be an array");
    char where[48];
    for (size_t i = 0; i < json_array_size(replies); i++) {
        snprintf(where, sizeof where, "replies[%zu]", i);
        agc_status st = check_reply(json_array_get(replies, i), where, ctx);
        if (st)
            return st;
    }
    const json_t *dflt = json_object_get(doc, "default");
    return dflt ? check_reply(dflt, "default", ctx) : AGC_OK;
}

/* ---- the script object ---------------------------------------------------- */

/* A deep copy made with jansson's process allocator: safe to keep past any ctx. */
static json_t *global_copy(const json_t *doc)
{
    agc_ctx *prev = agc_json_enter(NULL);
    json_t *copy = json_deep_copy(doc);
    agc_json_leave(prev);
    return copy;
}

static agc_status install(fakellm_script *s, const json_t *doc, const char *name, agc_ctx *ctx)
{
    agc_status st = fakellm_script_check(doc, ctx);
    if (st)
        return st;
    size_t n = json_array_size(json_object_get(doc, "replies"));
    json_t *copy = global_copy(doc);
    long *uses = agc_calloc(s->ctx, n ? n : 1, sizeof *uses);
    char *nm = agc_strdup(s->ctx, name ? name : "<inline>");
    if (!copy || !uses || !nm) {
        json_decref(copy);
        agc_free(s->ctx, uses);
        agc_free(s->ctx, nm);
        return agc_error_set(ctx, AGC_ENOMEM, "fakellm", "out of memory loading a script");
    }
    json_decref(s->doc);
    agc_free(s->ctx, s->uses);
    agc_free(s->ctx, s->name);
    s->doc = copy;
    s->uses = uses;
    s->name = nm;
    s->n = n;
    s->cursor = 0;
    s->seq = 0;
    return AGC_OK;
}

agc_status fakellm_script_new(fakellm_script **out, json_t *doc, const char *name, agc_ctx *ctx)
{
    *out = NULL;
    fakellm_script *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->ctx = ctx;
    if (pthread_mutex_init(&s->mu, NULL)) {
        agc_free(ctx, s);
        return agc_error_set(ctx, AGC_ERROR, "fakellm", "cannot create a mutex");
    }
    agc_status st = install(s, doc, name, ctx);
    if (st) {
        fakellm_script_free(s);
        return st;
    }
    *out = s;
    return AGC_OK;
}

void fakellm_script_free(fakellm_script *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    json_decref(s->doc);
    agc_free(s->ctx, s->uses);
    agc_free(s->ctx, s->name);
    agc_free(s->ctx, s);
}

agc_status fakellm_script_replace(fakellm_script *s, json_t *doc, const char *name, agc_ctx *ctx)
{
    pthread_mutex_lock(&s->mu);
    agc_status st = install(s, doc, name, ctx);
    pthread_mutex_unlock(&s->mu);
    return st;
}

void fakellm_script_reset(fakellm_script *s)
{
    pthread_mutex_lock(&s->mu);
    s->cursor = 0;
    s->seq = 0;
    memset(s->uses, 0, (s->n ? s->n : 1) * sizeof *s->uses);
    pthread_mutex_unlock(&s->mu);
}

/* ---- matching ------------------------------------------------------------- */

static agc_status add_text(agc_buf *b, const char *t)
{
    if (!t)
        return AGC_OK;
    if (b->len) {
        agc_status st = agc_buf_putc(b, '\n');
        if (st)
            return st;
    }
    return agc_buf_puts(b, t);
}

/* Text of a content value: a string, or parts/blocks with text (tool results too). */
static agc_status content_text(agc_buf *b, const json_t *content, int depth)
{
    if (json_is_string(content))
        return add_text(b, json_string_value(content));
    if (!json_is_array(content) || depth > 2)
        return AGC_OK;
    size_t i;
    const json_t *part;
    json_array_foreach(content, i, part)
    {
        agc_status st = json_is_string(part) ? add_text(b, json_string_value(part))
                                             : add_text(b, agc_json_str(part, "text", NULL));
        if (!st && json_is_object(part))
            st = content_text(b, json_object_get(part, "content"), depth + 1);
        if (st)
            return st;
    }
    return AGC_OK;
}

char *fakellm_last_message_text(const json_t *body, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    const json_t *msgs = json_object_get(body, "messages");
    size_t n = json_array_size(msgs);
    if (n && content_text(&b, json_object_get(json_array_get(msgs, n - 1), "content"), 0)) {
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}

static bool matches(const json_t *m, const char *path, const json_t *body, agc_ctx *ctx)
{
    const char *want = agc_json_str(m, "path", NULL);
    if (want && strcmp(want, path))
        return false;
    want = agc_json_str(m, "model", NULL);
    if (want && strcmp(want, agc_json_str(body, "model", "")))
        return false;
    want = agc_json_str(m, "last_message_contains", NULL);
    if (want) {
        char *text = fakellm_last_message_text(body, ctx);
        bool ok = text && strstr(text, want);
        agc_free(ctx, text);
        if (!ok)
            return false;
    }
    return true;
}

static bool used_up(const fakellm_script *s, size_t i, const json_t *r)
{
    long long times = agc_json_int(r, "times", 1);
    return times > 0 && s->uses[i] >= times;
}

json_t *fakellm_script_pick(fakellm_script *s, const char *path, const json_t *body,
                            unsigned long *seq_out, char **why_out, agc_ctx *ctx)
{
    if (why_out)
        *why_out = NULL;
    pthread_mutex_lock(&s->mu);
    *seq_out = ++s->seq;
    const json_t *replies = json_object_get(s->doc, "replies");
    json_t *pick = NULL;
    for (size_t i = 0; i < s->n && !pick; i++) {
        json_t *r = json_array_get(replies, i);
        const json_t *m = json_object_get(r, "match");
        if (m && !used_up(s, i, r) && matches(m, path, body, ctx)) {
            s->uses[i]++;
            pick = r;
        }
    }
    while (!pick && s->cursor < s->n) {
        json_t *r = json_array_get(replies, s->cursor);
        if (json_object_get(r, "match") || used_up(s, s->cursor, r)) {
            s->cursor++;
            continue;
        }
        s->uses[s->cursor]++;
        pick = r;
        if (used_up(s, s->cursor, r))
            s->cursor++;
    }
    if (!pick)
        pick = json_object_get(s->doc, "default");
    if (pick)
        json_incref(pick);
    else if (why_out)
        *why_out = agc_sprintf(ctx,
                               "fakellm: script %s is exhausted (%zu replies, no default); "
                               "add replies or a \"default\" reply",
                               s->name, s->n);
    pthread_mutex_unlock(&s->mu);
    return pick;
}
