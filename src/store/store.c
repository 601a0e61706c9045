/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The session-store wrapper: checks arguments, redacts every run document and
 * step payload before a backend sees it, and names errors. Invariant: a
 * backend only ever receives JSON whose canonical text has been through
 * agc_redact, so registered secrets and key shapes never reach storage.
 * It does no I/O itself and does not interpret step kinds or payloads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "agentc/store.h"
#include "store/store_int.h"

/* Redacted values nested deeper than this are refused (canonical JSON stops at 2048). */
#define REDACT_MAX_DEPTH 2048

/* ---- shared helpers ---------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (n bytes left), or 0 when it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

agc_status agc__store_check_name(const char *name, const char *what, agc_ctx *ctx)
{
    if (!name || !*name)
        return agc_error_set(ctx, AGC_EINVAL, "store", "%s is empty", what);
    size_t n = strlen(name);
    if (n > AGC__STORE_NAME_MAX)
        return agc_error_set(ctx, AGC_EINVAL, "store", "%s is %zu bytes long (at most %d)", what, n,
                             AGC__STORE_NAME_MAX);
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x20 || s[i] == 0x7F)
            return agc_error_set(ctx, AGC_EINVAL, "store",
                                 "%s contains a control character (byte %zu)", what, i);
        size_t k = utf8_seq(s + i, n - i);
        if (k == 0)
            return agc_error_set(ctx, AGC_EINVAL, "store", "%s is not valid UTF-8 (byte %zu)", what,
                                 i);
        i += k;
    }
    return AGC_OK;
}

static int merge(json_t *target, const json_t *patch)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)patch, key, val)
    {
        if (json_is_null(val)) {
            json_object_del(target, key);
        } else if (json_is_object(val)) {
            json_t *cur = json_object_get(target, key);
            if (!json_is_object(cur)) {
                cur = json_object();
                if (json_object_set_new(target, key, cur) != 0)
                    return -1;
            }
            if (merge(cur, val) != 0)
                return -1;
        } else if (json_object_set(target, key, val) != 0) {
            return -1;
        }
    }
    return 0;
}

agc_status agc__store_merge_patch(json_t *target, const json_t *patch, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    int rc = merge(target, patch);
    bool oom = agc_json_oom(ctx);
    agc_json_leave(prev);
    if (rc != 0 || oom)
        return agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory merging a run update");
    return AGC_OK;
}

/* ---- redaction ---------------------------------------------------------------- */

/*
 * Redacts one string (a value or a key) into *out (caller's), or sets *out
 * NULL when nothing would change.
 */
static agc_status redact_text(char **out, size_t *out_len, const char *s, size_t len, agc_ctx *ctx)
{
    *out = NULL;
    *out_len = 0;
    if (!agc_redact_would_change(s, len, ctx))
        return AGC_OK;
    agc_status st = agc_redact(out, out_len, s, len, ctx);
    if (st == AGC_OK && *out_len == len && memcmp(*out, s, len) == 0) {
        /* would_change fails closed when short of memory: nothing to redact after all */
        agc_free(ctx, *out);
        *out = NULL;
    }
    return st;
}

/* A new string value holding len bytes of s, or "[REDACTED]" when that is not UTF-8. */
static json_t *string_value(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    return v ? v : json_string(AGC_REDACTED);
}

/*
 * Builds *out, a copy of v in which every string value, object key and number
 * whose text the redactor would change is redacted (unchanged leaves are
 * shared). Matching each string on its own catches secrets whose bytes JSON
 * would escape; the canonical-text pass in redact_json catches the rest.
 */
static agc_status redact_tree(json_t **out, const json_t *v, int depth, agc_ctx *ctx)
{
    *out = NULL;
    if (depth > REDACT_MAX_DEPTH)
        return agc_error_set(ctx, AGC_ELIMIT, "store", "payload nested deeper than %d levels",
                             REDACT_MAX_DEPTH);
    agc_status st = AGC_OK;
    char *red = NULL;
    size_t red_len = 0;
    agc_ctx *prev;
    switch (json_typeof(v)) {
    case JSON_STRING:
        st = redact_text(&red, &red_len, json_string_value(v), json_string_length(v), ctx);
        if (st != AGC_OK || !red) {
            *out = st == AGC_OK ? json_incref((json_t *)v) : NULL;
            return st;
        }
        prev = agc_json_enter(ctx);
        *out = string_value(red, red_len);
        agc_json_leave(prev);
        agc_free(ctx, red);
        break;
    case JSON_INTEGER:
    case JSON_REAL: {
        char num[64];
        if (json_is_integer(v))
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(num, sizeof num, "%.17g", json_real_value(v));
        st = redact_text(&red, &red_len, num, strlen(num), ctx);
        if (st != AGC_OK || !red) {
            *out = st == AGC_OK ? json_incref((json_t *)v) : NULL;
            return st;
        }
        agc_free(ctx, red);
        prev = agc_json_enter(ctx);
        *out = json_string(AGC_REDACTED);
        agc_json_leave(prev);
        break;
    }
    case JSON_ARRAY:
        prev = agc_json_enter(ctx);
        *out = json_array();
        agc_json_leave(prev);
        for (size_t i = 0; *out && st == AGC_OK && i < json_array_size(v); i++) {
            json_t *item = NULL;
            st = redact_tree(&item, json_array_get(v, i), depth + 1, ctx);
            if (st == AGC_OK) {
                prev = agc_json_enter(ctx);
                if (json_array_append_new(*out, item) != 0)
                    st = AGC_ENOMEM;
                agc_json_leave(prev);
            }
        }
        break;
    case JSON_OBJECT: {
        prev = agc_json_enter(ctx);
        *out = json_object();
        agc_json_leave(prev);
        const char *key;
        json_t *mv;
        json_object_foreach((json_t *)v, key, mv)
        {
            if (!*out || st != AGC_OK)
                break;
            json_t *item = NULL;
            st = redact_tree(&item, mv, depth + 1, ctx);
            if (st == AGC_OK)
                st = redact_text(&red, &red_len, key, strlen(key), ctx);
            if (st == AGC_OK) {
                prev = agc_json_enter(ctx);
                /* a redacted key is at least "[REDACTED]" and holds no NUL */
                if (json_object_set_new(*out, red ? red : key, item) != 0)
                    st = AGC_ENOMEM;
                item = NULL;
                agc_json_leave(prev);
            }
            json_decref(item);
            agc_free(ctx, red);
            red = NULL;
        }
        break;
    }
    default:
        *out = json_incref((json_t *)v);
        return AGC_OK;
    }
    if (st == AGC_OK && !*out)
        st = AGC_ENOMEM;
    if (st != AGC_OK) {
        json_decref(*out);
        *out = NULL;
        if (st == AGC_ENOMEM)
            agc_error_set(ctx, AGC_ENOMEM, "store", "out of memory redacting a payload");
    }
    return st;
}

/*
 * *out = the redacted form of v: the tree pass above, then its canonical
 * text through agc_redact (re-parsed only when that pass changes anything).
 */
static agc_status redact_json(json_t **out, const json_t *v, agc_ctx *ctx)
{
    *out = NULL;
    json_t *tree = NULL;
    agc_status st = redact_tree(&tree, v, 0, ctx);
    if (st != AGC_OK)
        return st;
    char *text = NULL, *red = NULL;
    size_t len = 0, red_len = 0;
    st = agc_json_canonical(&text, &len, tree, ctx);
    if (st == AGC_OK)
        st = redact_text(&red, &red_len, text, len, ctx);
    if (st == AGC_OK && red) {
        json_decref(tree);
        tree = NULL;
        st = agc_json_parse(&tree, red, red_len, "redacted payload", ctx);
        if (st == AGC_EPARSE)
            st = agc_error_set(ctx, AGC_EINVAL, "store",
                               "payload holds a secret that spans JSON tokens; it cannot be "
                               "stored redacted");
    }
    agc_free(ctx, text);
    agc_free(ctx, red);
    if (st != AGC_OK) {
        json_decref(tree);
        return st;
    }
    *out = tree;
    return AGC_OK;
}

/* ---- the store object ----------------------------------------------------------- */

agc_status agc_store_new(agc_store **out, const agc_store_ops *ops, void *self, agc_ctx *ctx)
{
    *out = NULL;
    if (!ops || ops->version < 1 || ops->version > AGC_STORE_OPS_VERSION) {
        /* ownership of self was taken; destroy keeps its place in every version */
        if (ops && ops->destroy)
            ops->destroy(self);
        return agc_error_set(ctx, AGC_EINVAL, "store", "store ops version %u is not supported (%d)",
                             ops ? ops->version : 0, AGC_STORE_OPS_VERSION);
    }
    agc_store *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s) {
        if (ops->destroy)
            ops->destroy(self);
        return AGC_ENOMEM;
    }
    s->ops = ops;
    s->self = self;
    s->ctx = ctx;
    *out = s;
    return AGC_OK;
}

void agc_store_close(agc_store *s)
{
    if (!s)
        return;
    if (s->ops->destroy)
        s->ops->destroy(s->self);
    agc__store_privacy_free(s);
    agc_free(s->ctx, s);
}

agc_ctx *agc_store_ctx(const agc_store *s)
{
    return s->ctx;
}

static agc_status unsupported(agc_store *s, const char *what)
{
    return agc_error_set(s->ctx, AGC_EUNSUPPORTED, "store", "the %s store backend has no %s",
                         s->ops->name ? s->ops->name : "(unnamed)", what);
}

/* Members of a run document that must be strings when present. */
static const char *const STRING_MEMBERS[] = {"id", "agent", "status", "task", "parent_id"};

static agc_status check_run_members(const json_t *doc, agc_ctx *ctx)
{
    for (size_t i = 0; i < sizeof STRING_MEMBERS / sizeof *STRING_MEMBERS; i++) {
        const json_t *v = json_object_get(doc, STRING_MEMBERS[i]);
        if (v && !json_is_string(v) && !(json_is_null(v) && i > 0))
            return agc_error_set(ctx, AGC_EINVAL, "store", "run member \"%s\" must be a string%s",
                                 STRING_MEMBERS[i], i > 0 ? " or null" : "");
    }
    const json_t *summary = json_object_get(doc, "summary");
    if (summary && !json_is_object(summary) && !json_is_null(summary))
        return agc_error_set(ctx, AGC_EINVAL, "store", "run member \"summary\" must be an object");
    return AGC_OK;
}

agc_status agc_store_run_create(agc_store *s, const json_t *run)
{
    agc_ctx *ctx = s->ctx;
    if (!json_is_object(run))
        return agc_error_set(ctx, AGC_EINVAL, "store", "a run must be a JSON object, not %s",
                             run ? agc_json_type_name(run) : "NULL");
    agc_status st = check_run_members(run, ctx);
    if (st != AGC_OK)
        return st;
    const char *id = agc_json_str(run, "id", NULL);
    if (!id)
        return agc_error_set(ctx, AGC_EINVAL, "store", "a run needs a string member \"id\"");
    st = agc__store_check_name(id, "run id", ctx);
    if (st != AGC_OK)
        return st;
    if (!s->ops->run_create)
        return unsupported(s, "run_create");
    json_t *red = NULL;
    st = redact_json(&red, run, ctx);
    if (st != AGC_OK)
        return st;
    if (!json_equal(json_object_get(red, "id"), json_object_get(run, "id")))
        st = agc_error_set(ctx, AGC_EINVAL, "store",
                           "run id \"%s\" looks like a secret to the redactor; choose another id",
                           id);
    else
        st = agc__store_protect_run(s, &red);
    if (st == AGC_OK)
        st = s->ops->run_create(s->self, red, ctx);
    json_decref(red);
    return st;
}

agc_status agc_store_run_update(agc_store *s, const char *run_id, const json_t *patch)
{
    agc_ctx *ctx = s->ctx;
    agc_status st = agc__store_check_name(run_id, "run id", ctx);
    if (st != AGC_OK)
        return st;
    if (!json_is_object(patch))
        return agc_error_set(ctx, AGC_EINVAL, "store", "a run update must be a JSON object, not %s",
                             patch ? agc_json_type_name(patch) : "NULL");
    st = check_run_members(patch, ctx);
    if (st != AGC_OK)
        return st;
    const char *pid = agc_json_str(patch, "id", NULL);
    if (pid && strcmp(pid, run_id) != 0)
        return agc_error_set(ctx, AGC_EINVAL, "store",
                             "an update of run %s cannot change its id to %s", run_id, pid);
    if (json_object_get(patch, "created_ms") || json_object_get(patch, "updated_ms"))
        return agc_error_set(ctx, AGC_EINVAL, "store",
                             "created_ms and updated_ms are set by the store; remove them from "
                             "the update of run %s",
                             run_id);
    if (!s->ops->run_update)
        return unsupported(s, "run_update");
    json_t *red = NULL;
    st = redact_json(&red, patch, ctx);
    if (st != AGC_OK)
        return st;
    st = agc__store_protect_patch(s, run_id, &red);
    if (st == AGC_OK)
        st = s->ops->run_update(s->self, run_id, red, ctx);
    json_decref(red);
    return st;
}

agc_status agc_store_run_get(agc_store *s, const char *run_id, json_t **out)
{
    *out = NULL;
    agc_status st = agc__store_check_name(run_id, "run id", s->ctx);
    if (st != AGC_OK)
        return st;
    if (!s->ops->run_get)
        return unsupported(s, "run_get");
    st = s->ops->run_get(s->self, run_id, out, s->ctx);
    if (st == AGC_OK)
        st = agc__store_open_run(s, *out);
    if (st != AGC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

static agc_status check_filter(const json_t *filter, agc_ctx *ctx)
{
    if (!filter)
        return AGC_OK;
    if (!json_is_object(filter))
        return agc_error_set(ctx, AGC_EINVAL, "store", "a run filter must be a JSON object, not %s",
                             agc_json_type_name(filter));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)filter, key, v)
    {
        if (strcmp(key, "limit") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return agc_error_set(ctx, AGC_EINVAL, "store",
                                     "run filter \"limit\" must be a non-negative integer");
        } else if (strcmp(key, "status") == 0 || strcmp(key, "agent") == 0) {
            if (!json_is_string(v))
                return agc_error_set(ctx, AGC_EINVAL, "store", "run filter \"%s\" must be a string",
                                     key);
        } else if (strcmp(key, "parent_id") == 0) {
            if (!json_is_string(v) && !json_is_null(v))
                return agc_error_set(ctx, AGC_EINVAL, "store",
                                     "run filter \"parent_id\" must be a string or null");
        } else {
            return agc_error_set(ctx, AGC_EINVAL, "store",
                                 "unknown run filter \"%s\" (status, agent, parent_id, limit)",
                                 key);
        }
    }
    return AGC_OK;
}

agc_status agc_store_run_list(agc_store *s, const json_t *filter, json_t **out)
{
    *out = NULL;
    agc_status st = check_filter(filter, s->ctx);
    if (st != AGC_OK)
        return st;
    if (!s->ops->run_list)
        return unsupported(s, "run_list");
    st = s->ops->run_list(s->self, filter, out, s->ctx);
    size_t i;
    json_t *doc;
    json_array_foreach(st == AGC_OK ? *out : NULL, i, doc)
    {
        st = agc__store_open_run(s, doc);
        if (st != AGC_OK)
            break;
    }
    if (st != AGC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

agc_status agc_store_run_delete(agc_store *s, const char *run_id)
{
    agc_status st = agc__store_check_name(run_id, "run id", s->ctx);
    if (st != AGC_OK)
        return st;
    if (!s->ops->run_delete)
        return unsupported(s, "run_delete");
    return s->ops->run_delete(s->self, run_id, s->ctx);
}

agc_status agc_store_step_append(agc_store *s, const char *run_id, const char *kind,
                                 const json_t *data, int64_t *seq_out)
{
    agc_ctx *ctx = s->ctx;
    if (seq_out)
        *seq_out = 0;
    agc_status st = agc__store_check_name(run_id, "run id", ctx);
    if (st == AGC_OK)
        st = agc__store_check_name(kind, "step kind", ctx);
    if (st != AGC_OK)
        return st;
    if (agc_redact_would_change(kind, strlen(kind), ctx))
        return agc_error_set(ctx, AGC_EINVAL, "store",
                             "step kind of run %s looks like a secret to the redactor", run_id);
    if (!s->ops->step_append)
        return unsupported(s, "step_append");
    json_t *red = NULL;
    if (data) {
        st = redact_json(&red, data, ctx);
        if (st != AGC_OK)
            return st;
    }
    st = agc__store_protect_step(s, run_id, &red);
    if (st != AGC_OK) {
        json_decref(red);
        return st;
    }
    int64_t seq = 0;
    st = s->ops->step_append(s->self, run_id, kind, red ? red : json_null(), &seq, ctx);
    json_decref(red);
    if (st == AGC_OK && seq_out)
        *seq_out = seq;
    return st;
}

agc_status agc_store_steps_load(agc_store *s, const char *run_id, int64_t after_seq, json_t **out)
{
    *out = NULL;
    agc_status st = agc__store_check_name(run_id, "run id", s->ctx);
    if (st != AGC_OK)
        return st;
    if (!s->ops->steps_load)
        return unsupported(s, "steps_load");
    st = s->ops->steps_load(s->self, run_id, after_seq < 0 ? 0 : after_seq, out, s->ctx);
    if (st == AGC_OK)
        st = agc__store_open_steps(s, run_id, *out);
    if (st != AGC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

/* ---- default path ------------------------------------------------------------------ */

char *agc_store_default_path(agc_ctx *ctx)
{
    const char *env = getenv("AGENTC_SESSIONS");
    if (env && *env)
        return agc_strdup(ctx, env);
    env = getenv("XDG_DATA_HOME");
    /* the XDG spec says relative values are invalid and must be ignored */
    if (env && env[0] == '/')
        return agc_sprintf(ctx, "%s/agentc/sessions.db", env);
    env = getenv("HOME");
    if (env && *env)
        return agc_sprintf(ctx, "%s/.local/share/agentc/sessions.db", env);
    agc_error_set(ctx, AGC_ENOTFOUND, "store",
                  "no session store path: set AGENTC_SESSIONS, XDG_DATA_HOME or HOME");
    return NULL;
}
