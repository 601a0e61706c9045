/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One connection to an MCP server for agents and the CLI: the transport
 * (stdio child process, or Streamable HTTP once built), an agc_mcp_session on
 * a private ctx, the initialize handshake (offering sampling/elicitation
 * only when handlers are given), and thread-safe requests (one mutex per
 * connection). Results are deep-copied onto the caller's ctx, so nothing
 * the caller keeps points into the connection's memory.
 * Not here: which tools an agent gets (mcp_tools.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/mcp.h"
#include "agentc/mcp_agent.h"
#include "mcp_int_rt.h"

#define MOD "mcp"

struct agc_mcp_conn {
    atomic_int refs;
    agc_ctx *own; /* the session's ctx (used under mu only) */
    pthread_mutex_t mu;
    agc_mcp_session *s;
    char *name;
    json_t *init; /* initialize result (own ctx) */
    int64_t timeout_ms;
    agc_mcp_conn_opts opts;
    atomic_bool dead;
};

/* ---- server-to-client requests ------------------------------------------------ */

static agc_status on_sampling(json_t **out, agc_mcp_request *req, const json_t *params, void *user)
{
    agc_mcp_conn *c = user;
    if (!c->opts.sampling) {
        agc_mcp_request_set_error_code(req, -32601);
        return agc_error_set(c->own, AGC_EUNSUPPORTED, MOD,
                             "sampling is not offered by this client");
    }
    return c->opts.sampling(out, c->name, params, c->opts.user, c->own);
}

static agc_status on_elicit(json_t **out, agc_mcp_request *req, const json_t *params, void *user)
{
    agc_mcp_conn *c = user;
    if (!c->opts.elicit) {
        agc_mcp_request_set_error_code(req, -32601);
        return agc_error_set(c->own, AGC_EUNSUPPORTED, MOD,
                             "elicitation is not offered by this client");
    }
    return c->opts.elicit(out, c->name, params, c->opts.user, c->own);
}

static agc_status on_roots(json_t **out, agc_mcp_request *req, const json_t *params, void *user)
{
    (void)req;
    (void)params;
    agc_mcp_conn *c = user;
    agc_ctx *prev = agc_json_enter(c->own);
    *out = json_pack("{s:[]}", "roots");
    agc_json_leave(prev);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static void on_log(agc_mcp_session *s, const json_t *params, void *user)
{
    (void)s;
    agc_mcp_conn *c = user;
    const char *level = agc_json_str(params, "level", "info");
    const json_t *data = json_object_get(params, "data");
    int idx = agc_mcp_log_level_index(level);
    agc_log_level lv = idx <= 0 ? AGC_LOG_DEBUG : idx <= 2 ? AGC_LOG_INFO : AGC_LOG_WARN;
    char *text = NULL;
    if (!json_is_string(data) && data && agc_json_dump(&text, data, JSON_COMPACT, c->own) != AGC_OK)
        return;
    agc_log(c->own, lv, MOD, "server '%s': %s", c->name,
            text                   ? text
            : json_is_string(data) ? json_string_value(data)
                                   : "");
    agc_free(c->own, text);
}

static const agc_mcp_method conn_methods[] = {
    {"sampling/createMessage", on_sampling},
    {"elicitation/create", on_elicit},
    {"roots/list", on_roots},
    {NULL, NULL},
};

static const agc_mcp_notification conn_notes[] = {
    {"notifications/message", on_log},
    {NULL, NULL},
};

/* ---- opening ---------------------------------------------------------------------- */

static int64_t seconds_ms(const json_t *spec, const char *key, int64_t dflt)
{
    double v = agc_json_num(spec, key, -1.0);
    if (v <= 0)
        return dflt;
    return v * 1000.0 > 86400000.0 ? 86400000 : (int64_t)(v * 1000.0);
}

/* Copies the own ctx's error to ctx with the server named; returns st. */
static agc_status copy_err(agc_mcp_conn *c, agc_status st, agc_ctx *ctx)
{
    char buf[1024];
    agc_error_format(c->own, buf, sizeof buf);
    return agc_error_set(ctx, st, MOD, "MCP server '%s': %s", c->name, buf[0] ? buf : "failed");
}

static void conn_free(agc_mcp_conn *c)
{
    if (!c)
        return;
    agc_ctx *own = c->own;
    agc_mcp_session_free(c->s);
    if (c->init) {
        agc_ctx *prev = agc_json_enter(own);
        json_decref(c->init);
        agc_json_leave(prev);
    }
    agc_free(own, c->name);
    pthread_mutex_destroy(&c->mu);
    agc_free(own, c);
    agc_ctx_free(own);
}

static agc_status handshake(agc_mcp_conn *c, int64_t startup_ms)
{
    agc_ctx *ctx = c->own;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *caps = json_object();
    if (caps && c->opts.sampling)
        json_object_set_new(caps, "sampling", json_object());
    if (caps && c->opts.elicit)
        json_object_set_new(caps, "elicitation", json_object());
    if (caps)
        json_object_set_new(caps, "roots", json_object());
    json_t *params = caps ? json_pack("{s:s, s:o, s:{s:s, s:s}}", "protocolVersion",
                                      AGC_MCP_PROTOCOL_LATEST, "capabilities", caps, "clientInfo",
                                      "name", "agentc", "version", agc_version())
                          : NULL;
    agc_json_leave(prev);
    if (!params)
        return AGC_ENOMEM;
    agc_mcp_call_opts co = AGC_MCP_CALL_OPTS_INIT;
    co.timeout_ms = startup_ms;
    json_t *res = NULL;
    agc_status st = agc_mcp_session_request(&res, c->s, "initialize", params, &co);
    prev = agc_json_enter(ctx);
    json_decref(params);
    agc_json_leave(prev);
    if (st != AGC_OK)
        return agc_error_wrap(ctx, st, MOD, "initialize failed");
    const char *v = agc_json_str(res, "protocolVersion", NULL);
    if (!json_is_object(res) || !v || !agc_mcp_protocol_version_in(v, NULL)) {
        st = agc_error_set(ctx, AGC_EPROTO, MOD,
                           "the initialize answer has %s protocolVersion '%s' (we speak %s, "
                           "2025-06-18, 2025-03-26, 2024-11-05)",
                           v ? "an unsupported" : "no", v ? v : "", AGC_MCP_PROTOCOL_LATEST);
        prev = agc_json_enter(ctx);
        json_decref(res);
        agc_json_leave(prev);
        return st;
    }
    c->init = res;
    return agc_mcp_session_notify(c->s, "notifications/initialized", NULL);
}

/* NULL-terminated environment: a safe subset of ours (or all of it) plus spec.env. */
extern char **environ;
static char **build_env(const json_t *spec, agc_ctx *ctx)
{
    static const char *const keep[] = {
        "PATH=",   "HOME=",   "USER=", "LOGNAME=", "SHELL=", "TERM=", "LANG=",
        "LC_ALL=", "TMPDIR=", "TZ=",   "ASAN_",    "UBSAN_", "LSAN_", NULL};
    bool all = agc_json_bool(spec, "inherit_env", false);
    const json_t *env = json_object_get(spec, "env");
    size_t n = 0;
    while (environ[n])
        n++;
    char **out = agc_calloc(ctx, n + json_object_size(env) + 1, sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool ok = all;
        for (size_t j = 0; !ok && keep[j]; j++)
            ok = strncmp(environ[i], keep[j], strlen(keep[j])) == 0;
        const char *eq = strchr(environ[i], '=');
        if (ok && eq && env) { /* spec.env replaces it */
            size_t kl = (size_t)(eq - environ[i]);
            const char *key;
            json_t *val;
            json_object_foreach((json_t *)env, key,
                                val) if (strlen(key) == kl && strncmp(key, environ[i], kl) == 0)
                ok = false;
        }
        if (ok && !(out[k++] = agc_strdup(ctx, environ[i])))
            goto oom;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)env, key, val)
    {
        const char *v = json_string_value(val);
        if (v && strncmp(v, "env:", 4) == 0) { /* a reference to one of our variables */
            v = getenv(v + 4);
            if (!v)
                continue;
        }
        if (!(out[k++] = agc_sprintf(ctx, "%s=%s", key, v ? v : "")))
            goto oom;
    }
    return out;
oom:
    for (size_t i = 0; out[i]; i++)
        agc_free(ctx, out[i]);
    agc_free(ctx, out);
    return NULL;
}

static void free_strv(char **v, agc_ctx *ctx)
{
    for (size_t i = 0; v && v[i]; i++)
        agc_free(ctx, v[i]);
    agc_free(ctx, v);
}

static agc_status open_stdio(agc_mcp_transport **t, agc_mcp_conn *c, const json_t *spec)
{
    agc_ctx *ctx = c->own;
    const json_t *cmd = json_object_get(spec, "command");
    const json_t *args = json_object_get(spec, "args");
    size_t na = json_array_size(args);
    char **argv = agc_calloc(ctx, na + 2, sizeof *argv);
    char **env = build_env(spec, ctx);
    agc_status st = argv && env ? AGC_OK : AGC_ENOMEM;
    if (st == AGC_OK && !(argv[0] = agc_strdup(ctx, json_string_value(cmd))))
        st = AGC_ENOMEM;
    for (size_t i = 0; st == AGC_OK && i < na; i++) {
        const char *a = json_string_value(json_array_get(args, i));
        if (!a)
            st = agc_error_set(ctx, AGC_EINVAL, MOD, "args[%zu] is not a string", i);
        else if (!(argv[i + 1] = agc_strdup(ctx, a)))
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK) {
        agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
        so.argv = (const char *const *)argv;
        so.env = (const char *const *)env;
        so.cwd = agc_json_str(spec, "cwd", NULL);
        so.name = c->name;
        so.shutdown_grace_ms = seconds_ms(spec, "shutdown_grace", 0);
        so.stderr_level = AGC_LOG_INFO;
        so.max_message_bytes = (size_t)agc_json_int(spec, "max_message_bytes", 0);
        st = agc_mcp_stdio_spawn(t, &so, ctx);
    }
    free_strv(argv, ctx);
    free_strv(env, ctx);
    return st;
}

agc_status agc_mcp_conn_open(agc_mcp_conn **out, const json_t *spec, const agc_mcp_conn_opts *opts,
                             agc_ctx *ctx)
{
    *out = NULL;
    if (opts && opts->version != AGC_MCP_CONN_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_conn_opts version %u",
                             opts->version);
    const char *name = agc_json_str(spec, "name", NULL);
    bool has_cmd = json_is_string(json_object_get(spec, "command"));
    bool has_url = json_is_string(json_object_get(spec, "url"));
    if (!name || has_cmd == has_url)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "MCP server '%s': give a name and either command or url",
                             name ? name : "?");
    agc_ctx *own = NULL;
    if (agc_ctx_new(&own, NULL) != AGC_OK)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    agc_mcp_conn *c = agc_calloc(own, 1, sizeof *c);
    if (!c) {
        agc_ctx_free(own);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    c->own = own;
    atomic_init(&c->refs, 1);
    atomic_init(&c->dead, false);
    pthread_mutex_init(&c->mu, NULL);
    if (opts)
        c->opts = *opts;
    c->timeout_ms = seconds_ms(spec, "timeout", AGC_MCP_DEFAULT_TIMEOUT_MS);
    /* the private ctx logs (server stderr lines, warnings) to stderr at the caller's level */
    agc_log_set_level(own, agc_log_get_level(ctx));
    agc_status st = agc_log_set_file(own, stderr);
    if (st == AGC_OK && !(c->name = agc_strdup(own, name)))
        st = AGC_ENOMEM;
    agc_mcp_transport *t = NULL;
    if (st == AGC_OK)
        st = has_cmd ? open_stdio(&t, c, spec) : agc__mcp_open_http(&t, spec, own);
    if (st == AGC_OK) {
        agc_mcp_session_opts so = AGC_MCP_SESSION_OPTS_INIT;
        so.methods = conn_methods;
        so.notifications = conn_notes;
        so.user = c;
        so.request_timeout_ms = c->timeout_ms;
        st = agc_mcp_session_new(&c->s, t, &so, own);
    }
    if (st == AGC_OK)
        st = handshake(c, seconds_ms(spec, "startup_timeout", 30000));
    if (st != AGC_OK) {
        st = copy_err(c, st, ctx);
        conn_free(c);
        return st;
    }
    *out = c;
    return AGC_OK;
}

agc_mcp_conn *agc_mcp_conn_ref(agc_mcp_conn *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void agc_mcp_conn_unref(agc_mcp_conn *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        conn_free(c);
}

const char *agc_mcp_conn_name(const agc_mcp_conn *c)
{
    return c->name;
}

const json_t *agc_mcp_conn_init_result(const agc_mcp_conn *c)
{
    return c->init;
}

bool agc_mcp_conn_has(const agc_mcp_conn *c, const char *capability)
{
    return json_object_get(json_object_get(c->init, "capabilities"), capability) != NULL;
}

bool agc_mcp_conn_dead(const agc_mcp_conn *c)
{
    return atomic_load(&((agc_mcp_conn *)c)->dead);
}

/* ---- requests ----------------------------------------------------------------------- */

agc_status agc_mcp_conn_request(json_t **result_out, agc_mcp_conn *c, const char *method,
                                const json_t *params, int64_t timeout_ms,
                                const agc_atomic_bool *cancel, agc_ctx *ctx)
{
    *result_out = NULL;
    if (atomic_load(&c->dead))
        return agc_error_set(ctx, AGC_EIO, MOD,
                             "MCP server '%s' is no longer available (it stopped earlier)",
                             c->name);
    pthread_mutex_lock(&c->mu);
    agc_mcp_call_opts co = AGC_MCP_CALL_OPTS_INIT;
    co.timeout_ms = timeout_ms > 0 ? timeout_ms : c->timeout_ms;
    co.cancel = cancel;
    json_t *res = NULL;
    agc_status st = agc_mcp_session_request(&res, c->s, method, params, &co);
    if (st == AGC_EIO || agc_mcp_session_closed(c->s))
        atomic_store(&c->dead, true);
    if (st != AGC_OK) {
        st = copy_err(c, st, ctx);
        pthread_mutex_unlock(&c->mu);
        return st;
    }
    agc_ctx *prev = agc_json_enter(ctx);
    *result_out = json_deep_copy(res);
    agc_json_leave(prev);
    prev = agc_json_enter(c->own);
    json_decref(res);
    agc_json_leave(prev);
    pthread_mutex_unlock(&c->mu);
    return *result_out ? AGC_OK : agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
}

agc_status agc_mcp_conn_list(json_t **items_out, agc_mcp_conn *c, const char *method,
                             const char *key, agc_ctx *ctx)
{
    *items_out = NULL;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *all = json_array();
    json_t *params = json_object();
    agc_json_leave(prev);
    agc_status st = all && params ? AGC_OK : AGC_ENOMEM;
    char *last = NULL;
    for (int page = 0; st == AGC_OK; page++) {
        json_t *res = NULL;
        if (page >= 1000) {
            st = agc_error_set(ctx, AGC_EPROTO, MOD, "MCP server '%s': %s: over 1000 pages",
                               c->name, method);
            break;
        }
        st = agc_mcp_conn_request(&res, c, method, params, 0, NULL, ctx);
        if (st != AGC_OK)
            break;
        prev = agc_json_enter(ctx);
        json_t *items = json_object_get(res, key);
        if (!json_is_array(items) || json_array_extend(all, items) != 0) {
            st = json_is_array(items) ? AGC_ENOMEM
                                      : agc_error_set(ctx, AGC_EPROTO, MOD,
                                                      "MCP server '%s': the %s answer has no '%s' "
                                                      "array",
                                                      c->name, method, key);
        }
        const char *next = agc_json_str(res, "nextCursor", NULL);
        if (st == AGC_OK && next && last && strcmp(next, last) == 0)
            st = agc_error_set(ctx, AGC_EPROTO, MOD, "MCP server '%s': %s repeated the cursor '%s'",
                               c->name, method, next);
        if (st == AGC_OK && next) {
            agc_free(ctx, last);
            last = agc_strdup(ctx, next);
            if (!last || json_object_set_new(params, "cursor", json_string(next)) != 0)
                st = AGC_ENOMEM;
        }
        json_decref(res);
        agc_json_leave(prev);
        if (!next)
            break;
    }
    agc_free(ctx, last);
    prev = agc_json_enter(ctx);
    json_decref(params);
    if (st != AGC_OK)
        json_decref(all);
    agc_json_leave(prev);
    if (st == AGC_OK)
        *items_out = all;
    return st;
}

/* ---- result text ---------------------------------------------------------------------- */

static agc_status add_block(agc_buf *b, const json_t *blk, agc_ctx *ctx)
{
    const char *type = agc_json_str(blk, "type", "");
    char tmp[256];
    if (b->len && agc_buf_append(b, "\n", 1) != AGC_OK)
        return AGC_ENOMEM;
    if (strcmp(type, "text") == 0)
        return agc_buf_puts(b, agc_json_str(blk, "text", ""));
    if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0) {
        snprintf(tmp, sizeof tmp, "[%s %s, %zu bytes base64]", type,
                 agc_json_str(blk, "mimeType", "?"), strlen(agc_json_str(blk, "data", "")));
        return agc_buf_puts(b, tmp);
    }
    if (strcmp(type, "resource_link") == 0) {
        snprintf(tmp, sizeof tmp, "[resource link %.200s]", agc_json_str(blk, "uri", "?"));
        return agc_buf_puts(b, tmp);
    }
    const json_t *res = json_object_get(blk, "resource");
    if (!res && json_object_get(blk, "uri")) /* resources/read contents */
        res = blk;
    if (res) {
        const char *text = agc_json_str(res, "text", NULL);
        if (text)
            return agc_buf_puts(b, text);
        snprintf(tmp, sizeof tmp, "[resource %.200s: %s, binary]", agc_json_str(res, "uri", "?"),
                 agc_json_str(res, "mimeType", "?"));
        return agc_buf_puts(b, tmp);
    }
    char *dump = NULL;
    agc_status st = agc_json_dump(&dump, blk, JSON_COMPACT, ctx);
    if (st == AGC_OK)
        st = agc_buf_puts(b, dump);
    agc_free(ctx, dump);
    return st;
}

agc_status agc_mcp_result_text(char **out, const json_t *result, agc_ctx *ctx)
{
    *out = NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = AGC_OK;
    const json_t *content = json_object_get(result, "content");
    if (!content)
        content = json_object_get(result, "contents");        /* resources/read */
    const json_t *msgs = json_object_get(result, "messages"); /* prompts/get */
    size_t i;
    const json_t *v;
    if (json_is_array(content)) {
        json_array_foreach(content, i, v) if (st == AGC_OK) st = add_block(&b, v, ctx);
    }
    if (json_is_array(msgs)) {
        const char *d = agc_json_str(result, "description", NULL);
        if (d && (st = agc_buf_puts(&b, d)) == AGC_OK)
            st = agc_buf_append(&b, "\n", 1);
        json_array_foreach(msgs, i, v)
        {
            if (st == AGC_OK && b.len)
                st = agc_buf_append(&b, "\n", 1);
            if (st == AGC_OK)
                st = agc_buf_puts(&b, agc_json_str(v, "role", "?"));
            if (st == AGC_OK)
                st = agc_buf_append(&b, ": ", 2);
            agc_buf tmp;
            agc_buf_init(&tmp, ctx, 0);
            if (st == AGC_OK)
                st = add_block(&tmp, json_object_get(v, "content"), ctx);
            if (st == AGC_OK && tmp.len)
                st = agc_buf_append(&b, tmp.data, tmp.len);
            agc_buf_free(&tmp);
        }
    }
    const json_t *sc = json_object_get(result, "structuredContent");
    if (st == AGC_OK && b.len == 0 && sc) {
        char *dump = NULL;
        st = agc_json_dump(&dump, sc, JSON_COMPACT, ctx);
        if (st == AGC_OK)
            st = agc_buf_puts(&b, dump);
        agc_free(ctx, dump);
    }
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return st == AGC_ENOMEM ? agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory") : st;
    }
    *out = agc_buf_detach(&b, NULL);
    return *out ? AGC_OK : AGC_ENOMEM;
}
