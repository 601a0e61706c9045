/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP server resources (list, templates with RFC 6570 simple {var}
 * expressions, read, subscribe/unsubscribe and updated notifications),
 * prompts (list, get with required-argument checks) and completion.
 * Invariant: an unknown resource is -32002, an unknown prompt or a missing
 * required argument -32602. Not here: tools (server_tools.c).
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "server_int.h"

#define MOD                   AGC__MCP_MOD
#define RESOURCE_NOT_FOUND    (-32002)
#define COMPLETION_MAX_VALUES 100

void agc_mcp__scontent_free(agc_mcp_server *s)
{
    for (size_t i = 0; i < s->nres; i++) {
        agc_free(s->ctx, s->res[i].key);
        json_decref(s->res[i].def);
    }
    agc_free(s->ctx, s->res);
    for (size_t i = 0; i < s->nprompts; i++) {
        agc_free(s->ctx, s->prompts[i].name);
        json_decref(s->prompts[i].def);
    }
    agc_free(s->ctx, s->prompts);
    json_decref(s->subs);
    s->res = NULL;
    s->prompts = NULL;
    s->subs = NULL;
    s->nres = s->cres = s->nprompts = s->cprompts = 0;
}

/* Grows *arr (elements of size) to hold one more. */
static bool grow(agc_mcp_server *s, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *g = agc_realloc(s->ctx, *arr, nc * size);
    if (!g)
        return false;
    *arr = g;
    *cap = nc;
    return true;
}

/* Sets key to a string when v is set. */
static bool opt_str(json_t *o, const char *key, const char *v)
{
    return !v || json_object_set_new(o, key, json_string(v)) == 0;
}

/* ---- resources ---------------------------------------------------------------------------- */

agc_status agc_mcp_server_add_resource(agc_mcp_server *s, const agc_mcp_server_resource *r)
{
    if (!r || !r->fn || !r->name || (!r->uri == !r->uri_template))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "a resource needs a name, a function and either uri or uri_template");
    const char *key = r->uri ? r->uri : r->uri_template;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *def = json_pack("{s:s,s:s}", r->uri ? "uri" : "uriTemplate", key, "name", r->name);
    bool ok = def && opt_str(def, "title", r->title) &&
              opt_str(def, "description", r->description) &&
              opt_str(def, "mimeType", r->mime_type) && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    char *k = ok ? agc_strdup(s->ctx, key) : NULL;
    if (!k) {
        json_decref(def);
        return agc_mcp__srv_oom(s);
    }
    agc_mcp__sres n = {k, r->uri_template != NULL, def, r->fn, r->user};
    for (size_t i = 0; i < s->nres; i++)
        if (s->res[i].is_template == n.is_template && strcmp(s->res[i].key, key) == 0) {
            agc_free(s->ctx, s->res[i].key);
            json_decref(s->res[i].def);
            s->res[i] = n;
            agc_mcp__srv_list_changed(s, "resources");
            return AGC_OK;
        }
    if (!grow(s, (void **)&s->res, &s->cres, s->nres, sizeof *s->res)) {
        agc_free(s->ctx, k);
        json_decref(def);
        return agc_mcp__srv_oom(s);
    }
    s->res[s->nres++] = n;
    agc_mcp__srv_list_changed(s, "resources");
    return AGC_OK;
}

/* Lists the direct resources (templates=false) or the templates, paged. */
static agc_status list_res(json_t **result, agc_mcp_server *s, agc_mcp_request *req,
                           const json_t *params, bool templates)
{
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    const char *method = templates ? "resources/templates/list" : "resources/list";
    size_t n = 0;
    for (size_t i = 0; i < s->nres; i++)
        n += s->res[i].is_template == templates;
    size_t off = 0;
    agc_status st = agc_mcp__srv_cursor(&off, s, params, n, method);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *arr = json_array();
    json_t *r = json_object();
    bool ok =
        arr && r && json_object_set(r, templates ? "resourceTemplates" : "resources", arr) == 0;
    size_t k = 0, sent = 0;
    for (size_t i = 0; ok && i < s->nres; i++) {
        if (s->res[i].is_template != templates)
            continue;
        if (k++ < off)
            continue;
        if (sent == s->page_size) {
            char next[32];
            snprintf(next, sizeof next, "%zu", off + sent);
            ok = json_object_set_new(r, "nextCursor", json_string(next)) == 0;
            break;
        }
        ok = json_array_append(arr, s->res[i].def) == 0;
        sent++;
    }
    ok = ok && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    json_decref(arr);
    if (!ok) {
        json_decref(r);
        return agc_mcp__srv_oom(s);
    }
    *result = r;
    return AGC_OK;
}

agc_status agc_mcp__m_resources_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                     void *user)
{
    return list_res(result, user, req, params, false);
}

agc_status agc_mcp__m_templates_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                     void *user)
{
    return list_res(result, user, req, params, true);
}

/*
 * Matches uri against a template of literal text and {name} expressions (a
 * variable matches one or more characters other than '/'); fills vars.
 */
static bool match_template(const char *tmpl, const char *uri, json_t *vars)
{
    while (*tmpl) {
        if (*tmpl != '{') {
            if (*tmpl++ != *uri++)
                return false;
            continue;
        }
        const char *close = strchr(tmpl, '}');
        if (!close)
            return false;
        char name[64];
        size_t nl = (size_t)(close - tmpl - 1);
        if (nl == 0 || nl >= sizeof name)
            return false;
        memcpy(name, tmpl + 1, nl);
        name[nl] = '\0';
        tmpl = close + 1;
        size_t vl = strcspn(uri, "/");
        if (*tmpl && *tmpl != '/') { /* literal text follows inside the segment */
            const char *lit = strchr(uri, *tmpl);
            if (!lit || (size_t)(lit - uri) > vl)
                return false;
            vl = (size_t)(lit - uri);
        }
        if (vl == 0 || json_object_set_new(vars, name, json_stringn(uri, vl)) != 0)
            return false;
        uri += vl;
    }
    return *uri == '\0';
}

agc_status agc_mcp__m_resources_read(json_t **result, agc_mcp_request *req, const json_t *params,
                                     void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    const char *uri = agc_json_str(params, "uri", NULL);
    if (!uri)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "resources/read: 'uri' must be a string");
    agc_mcp__sres *found = NULL;
    json_t *vars = NULL;
    for (size_t i = 0; i < s->nres && !found; i++)
        if (!s->res[i].is_template && strcmp(s->res[i].key, uri) == 0)
            found = &s->res[i];
    for (size_t i = 0; i < s->nres && !found; i++) {
        if (!s->res[i].is_template)
            continue;
        agc_ctx *prev = agc_json_enter(s->ctx);
        vars = json_object();
        agc_json_leave(prev);
        if (!vars)
            return agc_mcp__srv_oom(s);
        if (match_template(s->res[i].key, uri, vars))
            found = &s->res[i];
        else {
            json_decref(vars);
            vars = NULL;
        }
    }
    if (!found) {
        agc_mcp_request_set_error_code(req, RESOURCE_NOT_FOUND);
        return agc_error_set(s->ctx, AGC_ENOTFOUND, MOD, "resource not found: %s", uri);
    }
    json_t *contents = NULL;
    agc_error_clear(s->ctx);
    agc_status st = found->fn(&contents, req, uri, vars, found->user);
    json_decref(vars);
    if (st == AGC_ENOTFOUND)
        agc_mcp_request_set_error_code(req, RESOURCE_NOT_FOUND);
    if (st == AGC_OK && !json_is_array(contents))
        st = agc_error_set(s->ctx, AGC_ERROR, MOD, "resource '%s' returned no contents array", uri);
    if (st != AGC_OK) {
        json_decref(contents);
        return st;
    }
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *r = json_pack("{s:o}", "contents", contents);
    agc_json_leave(prev);
    if (!r)
        return agc_mcp__srv_oom(s);
    *result = r;
    return AGC_OK;
}

static agc_status subscription(json_t **result, agc_mcp_server *s, agc_mcp_request *req,
                               const json_t *params, bool on)
{
    (void)result;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    const char *uri = agc_json_str(params, "uri", NULL);
    if (!uri)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "%s: 'uri' must be a string",
                             agc_mcp_request_method(req));
    agc_ctx *prev = agc_json_enter(s->ctx);
    if (!s->subs)
        s->subs = json_object();
    bool ok = s->subs != NULL;
    if (ok && on)
        ok = json_object_set_new(s->subs, uri, json_true()) == 0;
    else if (ok)
        (void)json_object_del(s->subs, uri);
    ok = ok && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    if (!ok)
        return agc_mcp__srv_oom(s);
    agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "client %s %s", on ? "subscribed to" : "unsubscribed from",
            uri);
    return AGC_OK;
}

agc_status agc_mcp__m_subscribe(json_t **result, agc_mcp_request *req, const json_t *params,
                                void *user)
{
    return subscription(result, user, req, params, true);
}

agc_status agc_mcp__m_unsubscribe(json_t **result, agc_mcp_request *req, const json_t *params,
                                  void *user)
{
    return subscription(result, user, req, params, false);
}

bool agc_mcp_server_subscribed(const agc_mcp_server *s, const char *uri)
{
    return uri && s->subs && json_object_get(s->subs, uri) != NULL;
}

agc_status agc_mcp_server_resource_updated(agc_mcp_server *s, const char *uri)
{
    if (!s->initialized || !agc_mcp_server_subscribed(s, uri))
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *p = json_pack("{s:s}", "uri", uri);
    agc_json_leave(prev);
    if (!p)
        return agc_mcp__srv_oom(s);
    agc_status st = agc_mcp_session_notify(s->s, "notifications/resources/updated", p);
    json_decref(p);
    return st;
}

/* ---- prompts ----------------------------------------------------------------------------------
 */

agc_status agc_mcp_server_add_prompt(agc_mcp_server *s, const agc_mcp_server_prompt *p)
{
    if (!p || !p->name || !*p->name || !p->fn || (p->nargs && !p->args))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "a prompt needs a name and a function");
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *def = json_pack("{s:s}", "name", p->name);
    json_t *args = json_array();
    bool ok = def && args && opt_str(def, "title", p->title) &&
              opt_str(def, "description", p->description);
    for (size_t i = 0; ok && i < p->nargs; i++) {
        if (!p->args[i].name) {
            ok = false;
            break;
        }
        json_t *a =
            json_pack("{s:s,s:b}", "name", p->args[i].name, "required", p->args[i].required);
        ok = a && opt_str(a, "description", p->args[i].description) &&
             json_array_append_new(args, a) == 0;
        if (!a)
            ok = false;
    }
    ok = ok && json_object_set(def, "arguments", args) == 0 && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    json_decref(args);
    char *name = ok ? agc_strdup(s->ctx, p->name) : NULL;
    if (!name) {
        json_decref(def);
        return agc_mcp__srv_oom(s);
    }
    agc_mcp__sprompt n = {name, def, p->fn, p->user};
    for (size_t i = 0; i < s->nprompts; i++)
        if (strcmp(s->prompts[i].name, name) == 0) {
            agc_free(s->ctx, s->prompts[i].name);
            json_decref(s->prompts[i].def);
            s->prompts[i] = n;
            agc_mcp__srv_list_changed(s, "prompts");
            return AGC_OK;
        }
    if (!grow(s, (void **)&s->prompts, &s->cprompts, s->nprompts, sizeof *s->prompts)) {
        agc_free(s->ctx, name);
        json_decref(def);
        return agc_mcp__srv_oom(s);
    }
    s->prompts[s->nprompts++] = n;
    agc_mcp__srv_list_changed(s, "prompts");
    return AGC_OK;
}

agc_status agc_mcp__m_prompts_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                   void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    size_t off = 0;
    agc_status st = agc_mcp__srv_cursor(&off, s, params, s->nprompts, "prompts/list");
    if (st != AGC_OK)
        return st;
    size_t end = off + s->page_size < s->nprompts ? off + s->page_size : s->nprompts;
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *arr = json_array();
    json_t *r = json_object();
    bool ok = arr && r && json_object_set(r, "prompts", arr) == 0;
    for (size_t i = off; ok && i < end; i++)
        ok = json_array_append(arr, s->prompts[i].def) == 0;
    if (ok && end < s->nprompts) {
        char next[32];
        snprintf(next, sizeof next, "%zu", end);
        ok = json_object_set_new(r, "nextCursor", json_string(next)) == 0;
    }
    ok = ok && !agc_json_oom(s->ctx);
    agc_json_leave(prev);
    json_decref(arr);
    if (!ok) {
        json_decref(r);
        return agc_mcp__srv_oom(s);
    }
    *result = r;
    return AGC_OK;
}

agc_status agc_mcp__m_prompts_get(json_t **result, agc_mcp_request *req, const json_t *params,
                                  void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    const char *name = agc_json_str(params, "name", NULL);
    if (!name)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "prompts/get: 'name' must be a string");
    agc_mcp__sprompt *p = NULL;
    for (size_t i = 0; i < s->nprompts && !p; i++)
        if (strcmp(s->prompts[i].name, name) == 0)
            p = &s->prompts[i];
    if (!p)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "prompts/get: unknown prompt '%s'", name);
    const json_t *args = json_object_get(params, "arguments");
    if (args && !json_is_object(args) && !json_is_null(args))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "prompts/get: 'arguments' must be an object, got %s",
                             agc_json_type_name(args));
    if (json_is_null(args))
        args = NULL;
    const json_t *decl = json_object_get(p->def, "arguments");
    for (size_t i = 0; i < json_array_size(decl); i++) {
        const json_t *a = json_array_get(decl, i);
        const char *an = agc_json_str(a, "name", "");
        const json_t *v = json_object_get(args, an);
        if (v && !json_is_string(v))
            return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                                 "prompts/get '%s': argument '%s' must be a string", name, an);
        if (!v && agc_json_bool(a, "required", false))
            return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                                 "prompts/get '%s': missing required argument '%s'", name, an);
    }
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *empty = args ? NULL : json_object();
    agc_json_leave(prev);
    if (!args && !empty)
        return agc_mcp__srv_oom(s);
    json_t *r = NULL;
    agc_error_clear(s->ctx);
    agc_status st = p->fn(&r, req, args ? args : empty, p->user);
    json_decref(empty);
    if (st == AGC_OK && !json_is_array(json_object_get(r, "messages")))
        st = agc_error_set(s->ctx, AGC_ERROR, MOD, "prompt '%s' returned no messages array", name);
    if (st != AGC_OK) {
        json_decref(r);
        return st == AGC_EINVAL || st == AGC_ENOMEM
                   ? st
                   : agc_error_wrap(s->ctx, AGC_ERROR, MOD, "prompt '%s' failed", name);
    }
    *result = r;
    return AGC_OK;
}

/* ---- completion
 * ---------------------------------------------------------------------------------- */

void agc_mcp_server_set_completion(agc_mcp_server *s, agc_mcp_complete_fn fn, void *user)
{
    s->complete = fn;
    s->complete_user = user;
}

agc_status agc_mcp__m_complete(json_t **result, agc_mcp_request *req, const json_t *params,
                               void *user)
{
    agc_mcp_server *s = user;
    if (!s->initialized)
        return agc_mcp__srv_not_ready(s, req);
    const json_t *ref = json_object_get(params, "ref");
    const json_t *arg = json_object_get(params, "argument");
    const char *type = agc_json_str(ref, "type", NULL);
    const char *an = agc_json_str(arg, "name", NULL);
    if (!type || (strcmp(type, "ref/prompt") != 0 && strcmp(type, "ref/resource") != 0))
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "completion/complete: 'ref.type' must be \"ref/prompt\" or "
                             "\"ref/resource\"");
    if (!an)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD,
                             "completion/complete: 'argument.name' must be a string");
    json_t *values = NULL;
    if (s->complete) {
        agc_error_clear(s->ctx);
        agc_status st = s->complete(&values, req, ref, an, agc_json_str(arg, "value", ""),
                                    json_object_get(params, "context"), s->complete_user);
        if (st != AGC_OK) {
            json_decref(values);
            return st;
        }
    }
    agc_ctx *prev = agc_json_enter(s->ctx);
    size_t total = json_array_size(values);
    json_t *sent = json_array();
    bool ok = sent != NULL;
    for (size_t i = 0; ok && i < total && i < COMPLETION_MAX_VALUES; i++)
        if (json_is_string(json_array_get(values, i)))
            ok = json_array_append(sent, json_array_get(values, i)) == 0;
    json_t *r = ok ? json_pack("{s:{s:O,s:I,s:b}}", "completion", "values", sent, "total",
                               (json_int_t)total, "hasMore", total > COMPLETION_MAX_VALUES)
                   : NULL;
    agc_json_leave(prev);
    json_decref(sent);
    json_decref(values);
    if (!r)
        return agc_mcp__srv_oom(s);
    *result = r;
    return AGC_OK;
}
