/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP client features beyond the handshake and tools/call: paging of the
 * list methods (following nextCursor, bounded, a repeated cursor is an
 * error), the tools cache refreshed after list_changed, resources (list,
 * templates, read, subscribe), prompts (list, get), completion, roots and
 * the SEP-1034 elicitation defaults. Every call checks the capability the
 * server offered before sending anything.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "client_int.h"

#define MOD       AGC__MCP_MOD
#define MAX_PAGES 1000

static agc_status oom(agc_mcp_client *c)
{
    return agc_error_set(c->ctx, AGC_ENOMEM, MOD, "out of memory");
}

agc_status agc_mcp__client_list_page(json_t **items_out, char **next_out, agc_mcp_client *c,
                                     bool cap, const char *method, const char *key,
                                     const char *cursor)
{
    *items_out = NULL;
    *next_out = NULL;
    agc_status st = agc_mcp__client_need(c, cap, method);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;
    agc_json_leave(prev);
    if (cursor && !params)
        return oom(c);
    json_t *res = NULL;
    st = agc_mcp_session_request(&res, c->s, method, params, NULL);
    json_decref(params);
    if (st != AGC_OK)
        return st;
    json_t *items = json_object_get(res, key);
    const json_t *next = json_object_get(res, "nextCursor");
    if (!json_is_array(items) || (next && !json_is_string(next) && !json_is_null(next))) {
        json_decref(res);
        return agc_error_set(c->ctx, AGC_EPROTO, MOD,
                             "malformed %s result from '%s': '%s' must be an array and "
                             "'nextCursor' a string",
                             method, c->srv_name, key);
    }
    if (json_is_string(next) && !(*next_out = agc_strdup(c->ctx, json_string_value(next)))) {
        json_decref(res);
        return oom(c);
    }
    *items_out = json_incref(items);
    json_decref(res);
    return AGC_OK;
}

agc_status agc_mcp__client_list_all(json_t **items_out, agc_mcp_client *c, bool cap,
                                    const char *method, const char *key)
{
    *items_out = NULL;
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *all = json_array();
    agc_json_leave(prev);
    if (!all)
        return oom(c);
    char *cursor = NULL;
    agc_status st = AGC_OK;
    for (int page = 0;; page++) {
        if (page >= MAX_PAGES) {
            st = agc_error_set(c->ctx, AGC_EPROTO, MOD,
                               "MCP server '%s' returned more than %d %s pages", c->srv_name,
                               MAX_PAGES, method);
            break;
        }
        json_t *items = NULL;
        char *next = NULL;
        st = agc_mcp__client_list_page(&items, &next, c, cap, method, key, cursor);
        if (st != AGC_OK)
            break;
        prev = agc_json_enter(c->ctx);
        int rc = json_array_extend(all, items);
        agc_json_leave(prev);
        json_decref(items);
        if (rc != 0) {
            agc_free(c->ctx, next);
            st = oom(c);
            break;
        }
        bool repeat = next && cursor && strcmp(next, cursor) == 0;
        agc_free(c->ctx, cursor);
        cursor = next;
        if (repeat) {
            st = agc_error_set(c->ctx, AGC_EPROTO, MOD,
                               "MCP server '%s' returned the same %s cursor twice", c->srv_name,
                               method);
            break;
        }
        if (!cursor)
            break;
    }
    agc_free(c->ctx, cursor);
    if (st != AGC_OK) {
        json_decref(all);
        return st;
    }
    *items_out = all;
    return AGC_OK;
}

/* ---- tools cache, generic requests --------------------------------------------------------- */

agc_status agc_mcp_client_tools(const json_t **tools_out, agc_mcp_client *c)
{
    *tools_out = NULL;
    if (c->tools_cache && !c->tools_changed) {
        *tools_out = c->tools_cache;
        return AGC_OK;
    }
    c->tools_changed = false; /* a notification during the fetch marks it stale again */
    json_t *all = NULL;
    agc_status st = agc_mcp_client_list_all_tools(&all, c);
    if (st != AGC_OK)
        return st;
    json_decref(c->tools_cache);
    c->tools_cache = all;
    *tools_out = all;
    return AGC_OK;
}

const json_t *agc_mcp_client_find_tool(const agc_mcp_client *c, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(c->tools_cache, i, t)
    {
        const char *n = agc_json_str(t, "name", NULL);
        if (n && strcmp(n, name) == 0)
            return t;
    }
    return NULL;
}

agc_status agc_mcp_client_request(json_t **result_out, agc_mcp_client *c, const char *method,
                                  const json_t *params, const agc_mcp_call_opts *opts)
{
    *result_out = NULL;
    if (!c->initialized && strcmp(method, "ping") != 0)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "call agc_mcp_client_initialize before sending '%s'", method);
    return agc_mcp_session_request(result_out, c->s, method, params, opts);
}

/* A request whose result must be an object with key of type check (NULL: any). */
static agc_status simple(json_t **out, agc_mcp_client *c, bool cap, const char *what,
                         const char *method, json_t *params, const char *key,
                         bool (*check)(const json_t *))
{
    *out = NULL;
    agc_status st = agc_mcp__client_need(c, cap, what);
    if (st == AGC_OK && !params)
        st = oom(c);
    json_t *res = NULL;
    if (st == AGC_OK)
        st = agc_mcp_session_request(&res, c->s, method, params, NULL);
    json_decref(params);
    if (st != AGC_OK)
        return st;
    json_t *v = key ? json_object_get(res, key) : res;
    if (!json_is_object(res) || (check && !check(v))) {
        json_decref(res);
        return agc_error_set(c->ctx, AGC_EPROTO, MOD, "malformed %s result from '%s'%s%s", method,
                             c->srv_name, key ? ": bad or missing " : "", key ? key : "");
    }
    *out = json_incref(v);
    json_decref(res);
    return AGC_OK;
}

static bool is_array(const json_t *v)
{
    return json_is_array(v);
}
static bool is_object(const json_t *v)
{
    return json_is_object(v);
}

static json_t *pack_s(agc_mcp_client *c, const char *k, const char *v)
{
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *p = json_pack("{s:s}", k, v ? v : "");
    agc_json_leave(prev);
    return p;
}

/* ---- resources ------------------------------------------------------------------------------ */

agc_status agc_mcp_client_list_resources(json_t **items_out, char **next_cursor_out,
                                         agc_mcp_client *c, const char *cursor)
{
    return agc_mcp__client_list_page(items_out, next_cursor_out, c, c->caps.resources,
                                     "resources/list", "resources", cursor);
}

agc_status agc_mcp_client_list_all_resources(json_t **items_out, agc_mcp_client *c)
{
    return agc_mcp__client_list_all(items_out, c, c->caps.resources, "resources/list", "resources");
}

agc_status agc_mcp_client_list_resource_templates(json_t **items_out, char **next_cursor_out,
                                                  agc_mcp_client *c, const char *cursor)
{
    return agc_mcp__client_list_page(items_out, next_cursor_out, c, c->caps.resources,
                                     "resources/templates/list", "resourceTemplates", cursor);
}

agc_status agc_mcp_client_list_all_resource_templates(json_t **items_out, agc_mcp_client *c)
{
    return agc_mcp__client_list_all(items_out, c, c->caps.resources, "resources/templates/list",
                                    "resourceTemplates");
}

agc_status agc_mcp_client_read_resource(json_t **contents_out, agc_mcp_client *c, const char *uri)
{
    if (!uri || !*uri) {
        *contents_out = NULL;
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "resources/read needs a URI");
    }
    return simple(contents_out, c, c->caps.resources, "resources", "resources/read",
                  pack_s(c, "uri", uri), "contents", is_array);
}

static agc_status sub(agc_mcp_client *c, const char *method, const char *uri)
{
    if (!uri || !*uri)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "%s needs a URI", method);
    json_t *r = NULL;
    agc_status st = simple(&r, c, c->caps.resources_subscribe, "resource subscriptions", method,
                           pack_s(c, "uri", uri), NULL, NULL);
    json_decref(r);
    return st;
}

agc_status agc_mcp_client_subscribe(agc_mcp_client *c, const char *uri)
{
    return sub(c, "resources/subscribe", uri);
}

agc_status agc_mcp_client_unsubscribe(agc_mcp_client *c, const char *uri)
{
    return sub(c, "resources/unsubscribe", uri);
}

/* ---- prompts ------------------------------------------------------------------------------------
 */

agc_status agc_mcp_client_list_prompts(json_t **items_out, char **next_cursor_out,
                                       agc_mcp_client *c, const char *cursor)
{
    return agc_mcp__client_list_page(items_out, next_cursor_out, c, c->caps.prompts, "prompts/list",
                                     "prompts", cursor);
}

agc_status agc_mcp_client_list_all_prompts(json_t **items_out, agc_mcp_client *c)
{
    return agc_mcp__client_list_all(items_out, c, c->caps.prompts, "prompts/list", "prompts");
}

static bool has_messages(const json_t *res)
{
    return json_is_array(json_object_get(res, "messages"));
}

agc_status agc_mcp_client_get_prompt(json_t **result_out, agc_mcp_client *c, const char *name,
                                     const json_t *args)
{
    *result_out = NULL;
    if (!name || !*name)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "prompts/get needs a prompt name");
    if (args && !json_is_object(args))
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "arguments of prompt '%s' must be an object",
                             name);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)args, k, v)
    {
        if (!json_is_string(v))
            return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                                 "argument '%s' of prompt '%s' must be a string (got %s)", k, name,
                                 agc_json_type_name(v));
    }
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *params = args ? json_pack("{s:s,s:O}", "name", name, "arguments", args)
                          : json_pack("{s:s}", "name", name);
    agc_json_leave(prev);
    return simple(result_out, c, c->caps.prompts, "prompts", "prompts/get", params, NULL,
                  has_messages);
}

/* ---- completion
 * ----------------------------------------------------------------------------------- */

agc_status agc_mcp_client_complete(json_t **completion_out, agc_mcp_client *c, const json_t *ref,
                                   const char *arg_name, const char *arg_value,
                                   const json_t *context_args)
{
    *completion_out = NULL;
    const char *type = agc_json_str(ref, "type", "");
    if (strcmp(type, "ref/prompt") != 0 && strcmp(type, "ref/resource") != 0)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "completion ref must have type 'ref/prompt' or 'ref/resource'");
    if (!arg_name || !*arg_name)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "completion needs an argument name");
    if (context_args && !json_is_object(context_args))
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "completion context must be an object");
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *params = json_pack("{s:O,s:{s:s,s:s}}", "ref", ref, "argument", "name", arg_name,
                               "value", arg_value ? arg_value : "");
    if (params && context_args &&
        json_object_set_new(params, "context", json_pack("{s:O}", "arguments", context_args)) !=
            0) {
        json_decref(params);
        params = NULL;
    }
    agc_json_leave(prev);
    json_t *res = NULL;
    agc_status st = simple(&res, c, c->caps.completions, "completions", "completion/complete",
                           params, "completion", is_object);
    if (st == AGC_OK && !json_is_array(json_object_get(res, "values"))) {
        json_decref(res);
        return agc_error_set(c->ctx, AGC_EPROTO, MOD,
                             "malformed completion/complete result from '%s': "
                             "'completion.values' must be an array",
                             c->srv_name);
    }
    *completion_out = res;
    return st;
}

/* ---- roots, elicitation defaults
 * ----------------------------------------------------------------- */

agc_status agc_mcp_client_set_roots(agc_mcp_client *c, const json_t *roots)
{
    if (!json_is_array(roots))
        return agc_error_set(c->ctx, AGC_EINVAL, MOD, "roots must be an array of {uri, name}");
    if (!c->roots)
        return agc_error_set(c->ctx, AGC_EINVAL, MOD,
                             "roots were not enabled when the client was created (set "
                             "opts.roots, even to [], to advertise the capability)");
    agc_ctx *prev = agc_json_enter(c->ctx);
    json_t *copy = json_deep_copy(roots);
    agc_json_leave(prev);
    if (!copy)
        return oom(c);
    json_decref(c->roots);
    c->roots = copy;
    if (!c->initialized)
        return AGC_OK;
    return agc_mcp_session_notify(c->s, "notifications/roots/list_changed", NULL);
}

agc_status agc_mcp_elicit_defaults(json_t **content_out, const json_t *requested_schema,
                                   agc_ctx *ctx)
{
    *content_out = NULL;
    const json_t *props = json_object_get(requested_schema, "properties");
    if (!json_is_object(props))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "elicitation schema has no 'properties' object");
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *out = json_object();
    const char *k;
    json_t *p;
    bool ok = out != NULL;
    json_object_foreach((json_t *)props, k, p)
    {
        json_t *d = json_object_get(p, "default");
        if (ok && d)
            ok = json_object_set(out, k, d) == 0;
    }
    agc_json_leave(prev);
    if (!ok) {
        json_decref(out);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    *content_out = out;
    return AGC_OK;
}
