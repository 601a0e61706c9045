/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Streamable HTTP server transport: the /mcp endpoint. Checks every request
 * (Host and Origin against DNS rebinding, the bearer token, the protocol
 * version header, content types, the body cap), then POST creates a session
 * (initialize) or feeds one (answered with an SSE stream, JSON, or 202 for
 * notifications and responses), GET attaches the server-to-client stream or
 * resumes a stream after Last-Event-ID, DELETE ends a session.
 * Invariant: a rejected request gets a 4xx with a JSON-RPC error body and
 * never reaches a session. Not here: the session side (..._sess.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "transport_http_server_int.h"

#define MOD AGC__MCP_MOD

void agc_mcp_http_server_opts_init(agc_mcp_http_server_opts *opts)
{
    *opts = (agc_mcp_http_server_opts)AGC_MCP_HTTP_SERVER_OPTS_INIT;
}

/* ---- answers -------------------------------------------------------------------------- */

static agc_status reply_error(agc_http_sreq *req, int status, int code, const json_t *id,
                              const char *msg, const char *sid)
{
    agc_ctx *ctx = agc_http_sreq_ctx(req);
    char *body = NULL;
    size_t len = 0;
    agc_status st = agc_jsonrpc_build_error(&body, &len, id, code, msg, NULL, ctx);
    agc_http_header hdr[3] = {{"Content-Type", "application/json"}, {NULL, NULL}, {NULL, NULL}};
    size_t n = 1;
    if (sid)
        hdr[n++] = (agc_http_header){"Mcp-Session-Id", sid};
    if (status == 401)
        hdr[n++] = (agc_http_header){"WWW-Authenticate", "Bearer"};
    else if (status == 405)
        hdr[n++] = (agc_http_header){"Allow", "GET, POST, DELETE"};
    if (st == AGC_OK)
        st = agc_http_sreq_respond(req, status, hdr, n, body, len);
    agc_free(ctx, body);
    return st;
}

static agc_status reply_empty(agc_http_sreq *req, int status, const char *sid)
{
    agc_http_header hdr[1] = {{"Mcp-Session-Id", sid}};
    return agc_http_sreq_respond(req, status, hdr, sid ? 1 : 0, NULL, 0);
}

/* ---- security checks -------------------------------------------------------------------- */

/* Copies the host name of a Host value or of an origin's authority into out. */
static void host_name(const char *authority, size_t n, char *out, size_t size)
{
    size_t len;
    if (n && authority[0] == '[') {
        const char *rb = memchr(authority, ']', n);
        len = rb ? (size_t)(rb - authority) + 1 : n;
    } else {
        const char *colon = memchr(authority, ':', n);
        len = colon ? (size_t)(colon - authority) : n;
    }
    if (len >= size)
        len = size - 1;
    for (size_t i = 0; i < len; i++)
        out[i] =
            (char)((authority[i] >= 'A' && authority[i] <= 'Z') ? authority[i] + 32 : authority[i]);
    out[len] = '\0';
}

static bool loopback_name(const char *h)
{
    return strcmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 || strcmp(h, "[::1]") == 0;
}

static bool listed(char *const *list, const char *v, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], "*") == 0 || strcasecmp(list[i], v) == 0 ||
            (name && strcasecmp(list[i], name) == 0))
            return true;
    return false;
}

static bool host_ok(const agc_mcp_http_server *srv, const char *host)
{
    if (!host)
        return true; /* HTTP/1.0 without Host: nothing a browser would send */
    char name[256];
    host_name(host, strlen(host), name, sizeof name);
    if (loopback_name(name) || listed(srv->hosts, host, name))
        return true;
    return srv->bind[0] && strcmp(srv->bind, "0.0.0.0") != 0 && strcmp(srv->bind, "::") != 0 &&
           (strcmp(name, srv->bind) == 0 ||
            (name[0] == '[' && strncmp(name + 1, srv->bind, strlen(srv->bind)) == 0));
}

static bool origin_ok(const agc_mcp_http_server *srv, const char *origin)
{
    if (!origin)
        return true; /* not a browser */
    if (listed(srv->origins, origin, NULL))
        return true;
    const char *p = strstr(origin, "://");
    if (!p || (strncasecmp(origin, "http://", 7) != 0 && strncasecmp(origin, "https://", 8) != 0))
        return false;
    p += 3;
    char name[256];
    host_name(p, strcspn(p, "/"), name, sizeof name);
    return loopback_name(name);
}

static bool token_ok(const agc_mcp_http_server *srv, const char *auth)
{
    if (!srv->token)
        return true;
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *t = auth + 7;
    size_t n = strlen(srv->token);
    return strlen(t) == n && sodium_memcmp(t, srv->token, n) == 0;
}

/* ---- POST --------------------------------------------------------------------------------- */

static bool accepts(const char *accept, const char *type)
{
    return !accept || strstr(accept, type) || strstr(accept, "*/*");
}

/* Waits for the JSON answer of hs and sends it. */
static agc_status answer_json(agc_http_sreq *req, agc_mcp__hsess *h, agc_mcp__hstream *hs,
                              const json_t *id)
{
    pthread_mutex_lock(&h->mu);
    while (!hs->finished && !h->closed)
        pthread_cond_wait(&h->cv, &h->mu);
    agc_status st;
    if (hs->json) {
        agc_http_header hdr[] = {{"Content-Type", "application/json"}, {"Mcp-Session-Id", h->id}};
        st = agc_http_sreq_respond(req, 200, hdr, 2, hs->json, hs->json_len);
        hs->users--;
        agc_mcp__hstream_release(h, hs);
        pthread_mutex_unlock(&h->mu);
        return st;
    }
    bool canceled = hs->finished;
    hs->finished = true;
    hs->users--;
    agc_mcp__hstream_release(h, hs);
    pthread_mutex_unlock(&h->mu);
    return reply_error(req, canceled ? 200 : 404, AGC_JSONRPC_INTERNAL_ERROR, id,
                       canceled ? "the request was canceled" : "the MCP session ended", NULL);
}

/* notifications/cancelled also ends the HTTP response of the canceled request. */
static void note_cancel(agc_mcp__hsess *h, const agc_jsonrpc_msg *m)
{
    char key[256];
    if (strcmp(m->method, "notifications/cancelled") != 0 ||
        !agc_mcp__id_key(json_object_get(m->params, "requestId"), key, sizeof key))
        return;
    agc_mcp__hstream *hs = agc_mcp__hstream_by_key(h, key);
    if (hs) {
        hs->finished = true;
        pthread_cond_broadcast(&h->cv);
    }
}

static agc_status do_post(agc_http_sreq *req, agc_mcp_http_server *srv)
{
    agc_ctx *ctx = agc_http_sreq_ctx(req);
    const char *ct = agc_http_sreq_header(req, "Content-Type");
    if (!ct || !strstr(ct, "application/json"))
        return reply_error(req, 415, AGC_JSONRPC_INVALID_REQUEST, NULL,
                           "Content-Type must be application/json", NULL);
    const char *accept = agc_http_sreq_header(req, "Accept");
    bool sse = !srv->o.json_only && accept && strstr(accept, "text/event-stream");
    if (!sse && !accepts(accept, "application/json"))
        return reply_error(req, 406, AGC_JSONRPC_INVALID_REQUEST, NULL,
                           "Accept must include application/json or text/event-stream", NULL);
    size_t len = 0;
    const char *body = agc_http_sreq_body(req, &len);
    agc_jsonrpc_msg m;
    agc_status st = agc_jsonrpc_parse(&m, body, len, ctx);
    if (st != AGC_OK) {
        char why[512];
        agc_error_format(ctx, why, sizeof why);
        st = st == AGC_ENOMEM
                 ? reply_error(req, 500, AGC_JSONRPC_INTERNAL_ERROR, NULL, "out of memory", NULL)
                 : reply_error(req, 400, m.error_code, m.id, why, NULL);
        agc_jsonrpc_msg_clear(&m);
        return st;
    }
    const char *pv = agc_http_sreq_header(req, "MCP-Protocol-Version");
    if (pv && !agc_mcp_protocol_version_in(pv, NULL)) {
        char why[160];
        snprintf(why, sizeof why, "unsupported MCP-Protocol-Version '%.40s' (we speak %s)", pv,
                 AGC_MCP_PROTOCOL_LATEST);
        st = reply_error(req, 400, AGC_JSONRPC_INVALID_REQUEST, m.id, why, NULL);
        agc_jsonrpc_msg_clear(&m);
        return st;
    }
    bool is_init = m.kind == AGC_JSONRPC_REQUEST && strcmp(m.method, "initialize") == 0;
    const char *sid = agc_http_sreq_header(req, "Mcp-Session-Id");
    agc_mcp__hsess *h = NULL;
    if (!sid && is_init) {
        const char *cv = agc_json_str(m.params, "protocolVersion", "");
        st = agc_mcp__hsess_start(&h, srv, strcmp(cv, "2025-11-25") >= 0, ctx);
        if (st != AGC_OK) {
            char why[300];
            snprintf(why, sizeof why, "%s", agc_ctx_errmsg(ctx));
            st = reply_error(req, st == AGC_ENOMEM ? 500 : 503, AGC_JSONRPC_INTERNAL_ERROR, m.id,
                             why, NULL);
            agc_jsonrpc_msg_clear(&m);
            return st;
        }
    } else if (!sid) {
        st = reply_error(req, 400, AGC_JSONRPC_INVALID_REQUEST, m.id,
                         "Mcp-Session-Id header is required (send initialize first)", NULL);
        agc_jsonrpc_msg_clear(&m);
        return st;
    } else if (!(h = agc_mcp__hsess_find(srv, sid))) {
        st = reply_error(req, 404, -32001, m.id, "session not found; initialize a new one", NULL);
        agc_jsonrpc_msg_clear(&m);
        return st;
    }
    pthread_mutex_lock(&h->mu);
    agc_mcp__hstream *hs = NULL;
    agc_mcp__pump *pump = NULL;
    char key[256];
    if (h->closed)
        st = AGC_EIO;
    else if (m.kind != AGC_JSONRPC_REQUEST) {
        if (m.kind == AGC_JSONRPC_NOTIFICATION)
            note_cancel(h, &m);
        st = agc_mcp__hsess_push(h, body, len);
    } else if (!agc_mcp__id_key(m.id, key, sizeof key))
        st = AGC_ELIMIT;
    else if (!(hs = agc_mcp__hstream_new(h, key, sse)))
        st = AGC_ENOMEM;
    else {
        hs->users++; /* ours until the pump or the JSON wait takes over */
        /* priming event: an id and empty data, so the client can resume */
        st = sse && h->priming ? agc_mcp__hstream_prime(h, hs) : AGC_OK;
        /* attach before the session sees the request: it may close the stream at once */
        if (st == AGC_OK && sse && !(pump = agc_mcp__hstream_attach(h, hs, false, 0)))
            st = AGC_ENOMEM;
        if (st == AGC_OK)
            st = agc_mcp__hsess_push(h, body, len);
        if (st != AGC_OK) {
            if (pump) {
                hs->users--;
                agc_free(h->ctx, pump);
            }
            hs->finished = true;
            hs->users--;
            agc_mcp__hstream_release(h, hs);
            hs = NULL;
        } else if (pump)
            hs->users--; /* the pump holds its own */
    }
    pthread_mutex_unlock(&h->mu);
    if (st == AGC_OK && !hs)
        st = reply_empty(req, 202, h->id);
    else if (st == AGC_OK && sse) {
        st = agc_mcp__hstream_spawn(req, h, pump);
        if (st != AGC_OK)
            st = reply_error(req, 500, AGC_JSONRPC_INTERNAL_ERROR, m.id,
                             "cannot open an SSE stream", NULL);
    } else if (st == AGC_OK)
        st = answer_json(req, h, hs, m.id);
    else if (st == AGC_EIO)
        st = reply_error(req, 404, -32001, m.id, "session not found; initialize a new one", NULL);
    else if (st == AGC_ELIMIT)
        st = reply_error(req, 400, AGC_JSONRPC_INVALID_REQUEST, m.id, "request id too long", NULL);
    else
        st = reply_error(req, 500, AGC_JSONRPC_INTERNAL_ERROR, m.id, "out of memory", NULL);
    agc_mcp__hsess_unref(h);
    agc_jsonrpc_msg_clear(&m);
    return st;
}

/* ---- GET and DELETE ------------------------------------------------------------------------ */

static agc_mcp__hsess *session_of(agc_http_sreq *req, agc_mcp_http_server *srv, agc_status *st)
{
    const char *sid = agc_http_sreq_header(req, "Mcp-Session-Id");
    agc_mcp__hsess *h = sid ? agc_mcp__hsess_find(srv, sid) : NULL;
    if (!sid)
        *st = reply_error(req, 400, AGC_JSONRPC_INVALID_REQUEST, NULL,
                          "Mcp-Session-Id header is required", NULL);
    else if (!h)
        *st = reply_error(req, 404, -32001, NULL, "session not found; initialize a new one", NULL);
    return h;
}

static agc_status do_get(agc_http_sreq *req, agc_mcp_http_server *srv)
{
    const char *accept = agc_http_sreq_header(req, "Accept");
    if (!accept || !strstr(accept, "text/event-stream"))
        return reply_error(req, 406, AGC_JSONRPC_INVALID_REQUEST, NULL,
                           "Accept must include text/event-stream", NULL);
    agc_status st = AGC_OK;
    agc_mcp__hsess *h = session_of(req, srv, &st);
    if (!h)
        return st;
    const char *lei = agc_http_sreq_header(req, "Last-Event-ID");
    unsigned long sid = 0, seq = 0;
    bool has_after = false;
    if (lei) {
        char *end = NULL;
        sid = strtoul(lei, &end, 10);
        if (end && *end == '-') {
            seq = strtoul(end + 1, &end, 10);
            has_after = end && *end == '\0';
        }
        if (!has_after) {
            agc_mcp__hsess_unref(h);
            return reply_error(req, 400, AGC_JSONRPC_INVALID_REQUEST, NULL,
                               "malformed Last-Event-ID (expected STREAM-SEQ)", NULL);
        }
    }
    pthread_mutex_lock(&h->mu);
    agc_mcp__hstream *hs = agc_mcp__hstream_find(h, sid);
    agc_mcp__pump *pump = hs ? agc_mcp__hstream_attach(h, hs, has_after, seq) : NULL;
    pthread_mutex_unlock(&h->mu);
    if (!hs)
        st = reply_error(req, 404, AGC_JSONRPC_INVALID_REQUEST, NULL,
                         "the stream of this Last-Event-ID is gone", NULL);
    else if (!pump)
        st = reply_error(req, 500, AGC_JSONRPC_INTERNAL_ERROR, NULL, "out of memory", NULL);
    else {
        st = agc_mcp__hstream_spawn(req, h, pump);
        if (st != AGC_OK)
            st = reply_error(req, 500, AGC_JSONRPC_INTERNAL_ERROR, NULL,
                             "cannot open an SSE stream", NULL);
    }
    agc_mcp__hsess_unref(h);
    return st;
}

static agc_status do_delete(agc_http_sreq *req, agc_mcp_http_server *srv)
{
    agc_status st = AGC_OK;
    agc_mcp__hsess *h = session_of(req, srv, &st);
    if (!h)
        return st;
    agc_mcp__hsess_close(h, "ended by the client (DELETE)");
    agc_mcp__hsess_unref(h);
    return reply_empty(req, 200, NULL);
}

static agc_status on_request(agc_http_sreq *req, void *user)
{
    agc_mcp_http_server *srv = user;
    const char *method = agc_http_sreq_method(req);
    if (strcmp(agc_http_sreq_path(req), srv->path) != 0)
        return reply_error(req, 404, AGC_JSONRPC_INVALID_REQUEST, NULL,
                           "not found (use the MCP path)", NULL);
    if (!host_ok(srv, agc_http_sreq_header(req, "Host")) ||
        !origin_ok(srv, agc_http_sreq_header(req, "Origin")))
        return reply_error(req, 403, AGC_JSONRPC_INVALID_REQUEST, NULL,
                           "forbidden: Host or Origin is not allowed (DNS rebinding protection)",
                           NULL);
    if (!token_ok(srv, agc_http_sreq_header(req, "Authorization")))
        return reply_error(req, 401, AGC_JSONRPC_INVALID_REQUEST, NULL,
                           "unauthorized: a valid bearer token is required", NULL);
    if (strcmp(method, "POST") == 0)
        return do_post(req, srv);
    if (strcmp(method, "GET") == 0)
        return do_get(req, srv);
    if (strcmp(method, "DELETE") == 0)
        return do_delete(req, srv);
    return reply_error(req, 405, AGC_JSONRPC_INVALID_REQUEST, NULL,
                       "method not allowed (GET, POST, DELETE)", NULL);
}

/* ---- the server ---------------------------------------------------------------------------- */

static char **copy_list(const char *const *list, agc_ctx *ctx, bool *oom)
{
    if (!list)
        return NULL;
    size_t n = 0;
    while (list[n])
        n++;
    char **out = agc_calloc(ctx, n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = agc_strdup(ctx, list[i])))
            *oom = true;
    if (!out)
        *oom = true;
    return out;
}

static void free_list(char **list, agc_ctx *ctx)
{
    for (size_t i = 0; list && list[i]; i++)
        agc_free(ctx, list[i]);
    agc_free(ctx, list);
}

static void srv_free_fields(agc_mcp_http_server *srv)
{
    agc_ctx *ctx = srv->ctx;
    free_list(srv->origins, ctx);
    free_list(srv->hosts, ctx);
    agc_free(ctx, srv->path);
    if (srv->token) {
        agc_memzero(srv->token, strlen(srv->token));
        agc_free(ctx, srv->token);
    }
    pthread_mutex_destroy(&srv->mu);
    agc_free(ctx, srv);
    agc_ctx_free(ctx);
}

agc_status agc_mcp_http_server_new(agc_mcp_http_server **out, const agc_mcp_http_server_opts *opts,
                                   agc_mcp_http_session_fn fn, void *user, agc_ctx *ctx)
{
    *out = NULL;
    agc_mcp_http_server_opts o = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_HTTP_SERVER_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_http_server_opts version %u",
                             o.version);
    if (!fn)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "the MCP HTTP server needs a session function");
    if (o.path && o.path[0] != '/')
        return agc_error_set(ctx, AGC_EINVAL, MOD, "the MCP path must start with '/', got '%s'",
                             o.path);
    if (!o.max_sessions)
        o.max_sessions = 100;
    if (!o.max_body_bytes)
        o.max_body_bytes = (size_t)4 * 1024 * 1024;
    if (!o.replay_events)
        o.replay_events = 256;
    if (o.session_idle_ms <= 0)
        o.session_idle_ms = 600000;
    if (!o.retry_ms)
        o.retry_ms = 1000;
    agc_ctx *own = NULL;
    agc_ctx_opts co = {AGC_CTX_OPTS_VERSION, o.realloc, o.realloc_ud};
    if (agc_ctx_new(&own, &co) != AGC_OK)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    agc_mcp_http_server *srv = agc_calloc(own, 1, sizeof *srv);
    if (!srv || pthread_mutex_init(&srv->mu, NULL) != 0) {
        agc_free(own, srv);
        agc_ctx_free(own);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    srv->ctx = own;
    srv->o = o;
    srv->fn = fn;
    srv->user = user;
    bool oom = false;
    srv->path = agc_strdup(own, o.path ? o.path : "/mcp");
    srv->token = o.bearer_token ? agc_strdup(own, o.bearer_token) : NULL;
    srv->origins = copy_list(o.allowed_origins, own, &oom);
    srv->hosts = copy_list(o.allowed_hosts, own, &oom);
    snprintf(srv->bind, sizeof srv->bind, "%s", o.bind_address ? o.bind_address : "127.0.0.1");
    srv->o.bind_address = NULL;
    srv->o.path = NULL;
    srv->o.bearer_token = NULL;
    srv->o.allowed_origins = srv->o.allowed_hosts = NULL;
    if (oom || !srv->path || (o.bearer_token && !srv->token)) {
        srv_free_fields(srv);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory");
    }
    agc_http_server_opts ho = AGC_HTTP_SERVER_OPTS_INIT;
    ho.bind_address = srv->bind;
    ho.port = o.port;
    ho.max_body_bytes = o.max_body_bytes;
    ho.max_connections = o.max_sessions * 4 + 16;
    ho.idle_timeout_s = 3600; /* SSE streams stay open; keepalives detect dead peers */
    ho.realloc = o.realloc;
    ho.realloc_ud = o.realloc_ud;
    agc_status st = agc_http_server_new(&srv->http, &ho, on_request, srv, ctx);
    if (st != AGC_OK) {
        srv_free_fields(srv);
        return st;
    }
    *out = srv;
    return AGC_OK;
}

uint16_t agc_mcp_http_server_port(const agc_mcp_http_server *srv)
{
    return agc_http_server_port(srv->http);
}

unsigned agc_mcp_http_server_session_count(agc_mcp_http_server *srv)
{
    return agc_mcp__hsess_reap(srv);
}

void agc_mcp_http_server_free(agc_mcp_http_server *srv)
{
    if (!srv)
        return;
    /* end every session: their threads return, waiting handlers and pumps wake */
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    pthread_mutex_unlock(&srv->mu);
    for (;;) {
        agc_mcp__hsess *victim = NULL;
        pthread_mutex_lock(&srv->mu);
        for (agc_mcp__hsess *h = srv->sessions; h; h = h->next)
            if (!h->gone) {
                victim = h;
                agc_mcp__hsess_ref(h);
                break;
            }
        pthread_mutex_unlock(&srv->mu);
        if (!victim)
            break;
        agc_mcp__hsess_close(victim, "the server is stopping");
        agc_mcp__hsess_unref(victim);
    }
    agc_http_server_free(srv->http); /* joins handlers and pumps */
    pthread_mutex_lock(&srv->mu);
    while (srv->sessions) {
        agc_mcp__hsess *h = srv->sessions;
        srv->sessions = h->next;
        pthread_mutex_unlock(&srv->mu);
        pthread_join(h->thread, NULL);
        agc_mcp__hsess_unref(h);
        pthread_mutex_lock(&srv->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    srv_free_fields(srv);
}
