/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Privacy in the session store wrapper: the subject of a run, minimisation
 * (retain_content: none keeps only digests of content) and sealing with the
 * subject's key (agc_privacy_seal), plus erasure and retention by deleting
 * runs and compacting. Invariant: when a privacy database is attached, no
 * content of a run that names a subject reaches the backend in the clear; a
 * run's clear members are only id, agent, status, parent_id, subject, times.
 * It does not decide what a subject is (the caller does: agc_store_set_privacy).
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/privacy.h"
#include "agentc/store.h"
#include "store/store_int.h"

#define SEALED "sealed"

static const char *const CLEAR[] = {"id",      "agent",      "status",     "parent_id",
                                    "subject", "created_ms", "updated_ms", "privacy_db"};

/* Content members (any depth) reduced to their digest under retain_content: none. */
static const char CONTENT_POLICY[] =
    "{\"task\":\"hash\",\"text\":\"hash\",\"content\":\"hash\",\"output\":\"hash\","
    "\"input\":\"hash\",\"arguments\":\"hash\",\"args\":\"hash\",\"result\":\"hash\","
    "\"system\":\"hash\",\"instructions\":\"hash\",\"answer\":\"hash\",\"message\":\"hash\","
    "\"messages\":\"hash\",\"reasoning\":\"hash\",\"summary_text\":\"hash\"}";

bool agc__store_clear_member(const char *name)
{
    for (size_t i = 0; i < sizeof CLEAR / sizeof *CLEAR; i++)
        if (strcmp(name, CLEAR[i]) == 0)
            return true;
    return false;
}

void agc__store_privacy_free(agc_store *s)
{
    agc_free(s->ctx, s->subject);
    agc_free(s->ctx, s->cache_run);
    agc_free(s->ctx, s->cache_sub);
    s->subject = s->cache_run = s->cache_sub = NULL;
    if (s->own_privacy) {
        agc_privacy_close(s->own_privacy);
        if (s->privacy == s->own_privacy)
            s->privacy = NULL;
        s->own_privacy = NULL;
    }
}

/* A reader without a privacy database opens the one that sealed the run (its privacy_db). */
static void ensure_privacy(agc_store *s, const json_t *doc)
{
    const char *path = agc_json_str(doc, "privacy_db", NULL);
    if (s->privacy || !path)
        return;
    if (agc_privacy_open(&s->own_privacy, path, s->ctx) == AGC_OK)
        s->privacy = s->own_privacy;
}

agc_status agc_store_set_privacy(agc_store *s, agc_privacy *p, const char *subject,
                                 agc_retain_content retain)
{
    char *sub = subject ? agc_strdup(s->ctx, subject) : NULL;
    if (subject && !sub)
        return AGC_ENOMEM;
    agc__store_privacy_free(s);
    s->privacy = p;
    s->subject = sub;
    s->retain = retain;
    return AGC_OK;
}

static agc_status minimise(agc_store *s, json_t *v)
{
    if (s->retain != AGC_RETAIN_NONE || !v)
        return AGC_OK;
    json_t *pol = NULL;
    agc_status st =
        agc_json_parse(&pol, CONTENT_POLICY, sizeof CONTENT_POLICY - 1, "content policy", s->ctx);
    if (st == AGC_OK)
        st = agc_privacy_apply_fields(v, pol, s->ctx);
    json_decref(pol);
    return st;
}

/* Seals the canonical text of v for subject into *env. */
static agc_status seal(agc_store *s, json_t **env, const char *subject, const json_t *v)
{
    char *text = NULL;
    size_t len = 0;
    agc_status st = agc_json_canonical(&text, &len, v, s->ctx);
    if (st == AGC_OK)
        st = agc_privacy_seal(env, s->privacy, subject, text, len);
    if (text)
        agc_memzero(text, len);
    agc_free(s->ctx, text);
    return st;
}

/* Moves the content members of doc into an envelope member "sealed". */
static agc_status seal_doc(agc_store *s, json_t *doc, const char *subject)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *content = json_object();
    const char *k;
    json_t *v, *tmp;
    int rc = content ? 0 : -1;
    json_object_foreach_safe(doc, tmp, k, v)
    {
        if (rc == 0 && !agc__store_clear_member(k) && strcmp(k, SEALED) != 0) {
            rc = json_object_set(content, k, v);
            if (rc == 0)
                json_object_del(doc, k);
        }
    }
    agc_json_leave(prev);
    agc_status st = rc == 0 ? AGC_OK : AGC_ENOMEM;
    json_t *env = NULL;
    if (st == AGC_OK)
        st = seal(s, &env, subject, content);
    prev = agc_json_enter(s->ctx);
    if (st == AGC_OK && json_object_set_new(doc, SEALED, env) != 0)
        st = AGC_ENOMEM;
    json_decref(content);
    agc_json_leave(prev);
    return st;
}

agc_status agc__store_protect_run(agc_store *s, json_t **doc)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    int rc = 0;
    if (s->subject && !json_object_get(*doc, "subject"))
        rc = json_object_set_new(*doc, "subject", json_string(s->subject));
    agc_json_leave(prev);
    if (rc != 0)
        return AGC_ENOMEM;
    agc_status st = minimise(s, *doc);
    const char *subject = agc_json_str(*doc, "subject", NULL);
    if (st == AGC_OK && s->privacy && subject) {
        prev = agc_json_enter(s->ctx);
        if (json_object_set_new(*doc, "privacy_db", json_string(agc_privacy_path(s->privacy))))
            st = AGC_ENOMEM;
        agc_json_leave(prev);
        if (st == AGC_OK)
            st = seal_doc(s, *doc, subject);
    }
    return st;
}

/* The subject of run_id ("" when none), via a one-entry cache. Borrowed until the next call. */
static agc_status run_subject(agc_store *s, const char *run_id, const char **out)
{
    *out = "";
    if (s->cache_run && strcmp(s->cache_run, run_id) == 0) {
        *out = s->cache_sub;
        return AGC_OK;
    }
    json_t *doc = NULL;
    agc_status st = s->ops->run_get ? s->ops->run_get(s->self, run_id, &doc, s->ctx) : AGC_OK;
    if (st == AGC_ENOTFOUND)
        return AGC_OK; /* the backend names it when it matters */
    if (st != AGC_OK)
        return st;
    if (json_object_get(doc, SEALED))
        ensure_privacy(s, doc);
    char *r = agc_strdup(s->ctx, run_id);
    char *sub = agc_strdup(s->ctx, agc_json_str(doc, "subject", ""));
    json_decref(doc);
    if (!r || !sub) {
        agc_free(s->ctx, r);
        agc_free(s->ctx, sub);
        return AGC_ENOMEM;
    }
    agc_free(s->ctx, s->cache_run);
    agc_free(s->ctx, s->cache_sub);
    s->cache_run = r;
    s->cache_sub = sub;
    *out = sub;
    return AGC_OK;
}

agc_status agc__store_protect_patch(agc_store *s, const char *run_id, json_t **patch)
{
    agc_status st = minimise(s, *patch);
    if (st != AGC_OK)
        return st;
    const char *subject = NULL;
    st = run_subject(s, run_id, &subject);
    if (st != AGC_OK || !*subject || !s->privacy)
        return st;
    bool content = false;
    const char *k;
    json_t *v;
    json_object_foreach(*patch, k, v) if (!agc__store_clear_member(k)) content = true;
    if (!content)
        return AGC_OK;
    /* merge the content part into the run's opened content and seal it again */
    json_t *cur = NULL;
    st = s->ops->run_get(s->self, run_id, &cur, s->ctx);
    if (st == AGC_OK)
        st = agc__store_open_run(s, cur);
    if (st == AGC_OK)
        st = agc__store_merge_patch(cur, *patch, s->ctx);
    if (st == AGC_OK)
        st = seal_doc(s, cur, subject);
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *np = st == AGC_OK ? json_object() : NULL;
    if (st == AGC_OK && !np)
        st = AGC_ENOMEM;
    json_object_foreach(st == AGC_OK ? *patch : NULL, k, v)
    {
        if (json_object_set(np, k, agc__store_clear_member(k) ? v : json_null()) != 0)
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK && json_object_set(np, SEALED, json_object_get(cur, SEALED)) != 0)
        st = AGC_ENOMEM;
    json_decref(cur);
    if (st == AGC_OK) {
        json_decref(*patch);
        *patch = np;
    } else {
        json_decref(np);
    }
    agc_json_leave(prev);
    return st;
}

agc_status agc__store_protect_step(agc_store *s, const char *run_id, json_t **data)
{
    agc_status st = minimise(s, *data);
    if (st != AGC_OK)
        return st;
    const char *subject = NULL;
    st = run_subject(s, run_id, &subject);
    if (st != AGC_OK || !s->privacy)
        return st;
    if (st != AGC_OK || !*subject)
        return st;
    json_t *env = NULL;
    st = seal(s, &env, subject, *data ? *data : json_null());
    if (st == AGC_OK) {
        json_decref(*data);
        *data = env;
    }
    return st;
}

/* Opens one envelope into *out (a new value), or {"erased": true} when its key is gone. */
static agc_status open_env(agc_store *s, const json_t *env, json_t **out)
{
    *out = NULL;
    if (!s->privacy) {
        agc_ctx *prev = agc_json_enter(s->ctx);
        *out = json_pack("{s:b, s:s}", "sealed", 1, "note",
                         "sealed content: open the store with its privacy database");
        agc_json_leave(prev);
        return *out ? AGC_OK : AGC_ENOMEM;
    }
    char *text = NULL;
    size_t len = 0;
    agc_status st = agc_privacy_unseal(&text, &len, s->privacy, env);
    if (st == AGC_ENOTFOUND) {
        agc_ctx *prev = agc_json_enter(s->ctx);
        *out = json_pack("{s:b}", "erased", 1);
        agc_json_leave(prev);
        return *out ? AGC_OK : AGC_ENOMEM;
    }
    if (st == AGC_OK)
        st = agc_json_parse(out, text, len, "sealed content", s->ctx);
    if (text)
        agc_memzero(text, len);
    agc_free(s->ctx, text);
    return st;
}

agc_status agc__store_open_run(agc_store *s, json_t *doc)
{
    json_t *env = json_object_get(doc, SEALED);
    if (!agc_privacy_is_envelope(env))
        return AGC_OK;
    ensure_privacy(s, doc);
    json_t *content = NULL;
    agc_status st = open_env(s, env, &content);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_object_del(doc, SEALED);
    if (json_is_object(content) && json_object_update_missing(doc, content) != 0)
        st = AGC_ENOMEM;
    json_decref(content);
    agc_json_leave(prev);
    return st;
}

agc_status agc__store_open_steps(agc_store *s, const char *run_id, json_t *steps)
{
    size_t i;
    json_t *step;
    if (!s->privacy && json_array_size(steps) > 0 && s->ops->run_get &&
        agc_privacy_is_envelope(json_object_get(json_array_get(steps, 0), "data"))) {
        json_t *doc = NULL;
        if (s->ops->run_get(s->self, run_id, &doc, s->ctx) == AGC_OK)
            ensure_privacy(s, doc);
        json_decref(doc);
    }
    json_array_foreach(steps, i, step)
    {
        json_t *data = json_object_get(step, "data");
        if (!agc_privacy_is_envelope(data))
            continue;
        json_t *open = NULL;
        agc_status st = open_env(s, data, &open);
        if (st != AGC_OK)
            return st;
        agc_ctx *prev = agc_json_enter(s->ctx);
        int rc = json_object_set_new(step, "data", open);
        agc_json_leave(prev);
        if (rc != 0)
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

/* ---- erasure and retention ------------------------------------------------------------ */

typedef bool (*run_pred)(const json_t *doc, const void *arg);

static bool by_subject(const json_t *doc, const void *arg)
{
    return strcmp(agc_json_str(doc, "subject", ""), (const char *)arg) == 0;
}

static bool older(const json_t *doc, const void *arg)
{
    json_t *u = json_object_get(doc, "updated_ms");
    return json_is_integer(u) && json_integer_value(u) < *(const int64_t *)arg;
}

static agc_status delete_where(agc_store *s, run_pred pred, const void *arg, size_t *n)
{
    if (n)
        *n = 0;
    if (!s->ops->run_list || !s->ops->run_delete)
        return agc_error_set(s->ctx, AGC_EUNSUPPORTED, "store",
                             "the %s store backend cannot list and delete runs", s->ops->name);
    json_t *runs = NULL;
    agc_status st = s->ops->run_list(s->self, NULL, &runs, s->ctx);
    size_t i, count = 0;
    json_t *doc;
    json_array_foreach(st == AGC_OK ? runs : NULL, i, doc)
    {
        if (!pred(doc, arg))
            continue;
        st = s->ops->run_delete(s->self, agc_json_str(doc, "id", ""), s->ctx);
        if (st == AGC_ENOTFOUND) /* a parent's delete may have taken it */
            st = AGC_OK;
        else if (st == AGC_OK)
            count++;
        if (st != AGC_OK)
            break;
    }
    json_decref(runs);
    agc_free(s->ctx, s->cache_run);
    s->cache_run = NULL;
    if (st == AGC_OK && count && s->ops->version >= 2 && s->ops->compact)
        st = s->ops->compact(s->self, s->ctx);
    if (n)
        *n = count;
    return st;
}

agc_status agc_store_erase_subject(agc_store *s, const char *subject, size_t *n)
{
    if (!subject || !*subject)
        return agc_error_set(s->ctx, AGC_EINVAL, "store", "the subject to erase is empty");
    return delete_where(s, by_subject, subject, n);
}

agc_status agc_store_purge_before(agc_store *s, int64_t before_ms, size_t *n)
{
    return delete_where(s, older, &before_ms, n);
}
