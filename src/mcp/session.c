/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * An MCP peer session over a transport: correlates our requests with the
 * peer's responses, serves the peer's requests through a NULL-terminated
 * method table, and handles the protocol's own traffic (ping, progress,
 * cancellation). Invariant: bad input from the peer never ends the session;
 * it is answered with a JSON-RPC error (or logged when it was a response).
 * Single-threaded: waiting pumps the transport. Incoming requests that
 * arrive while a handler runs are deferred until it returns.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "mcp_int.h"

#define MOD AGC__MCP_MOD

const char *const agc_mcp_protocol_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                 "2024-11-05", NULL};

bool agc_mcp_protocol_version_in(const char *v, const char *const *list)
{
    if (!v)
        return false;
    for (const char *const *p = list ? list : agc_mcp_protocol_versions; *p; p++)
        if (strcmp(*p, v) == 0)
            return true;
    return false;
}

/* ---- transport wrapper ---------------------------------------------------------- */

agc_status agc_mcp_transport_new(agc_mcp_transport **out, const agc_mcp_transport_ops *ops,
                                 void *self, agc_ctx *ctx)
{
    *out = NULL;
    if (!ops || ops->version < 1 || ops->version > AGC_MCP_TRANSPORT_OPS_VERSION || !ops->send ||
        !ops->recv) {
        if (ops && ops->destroy)
            ops->destroy(self);
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "transport ops must have version 1..%d and send/recv methods",
                             AGC_MCP_TRANSPORT_OPS_VERSION);
    }
    agc_mcp_transport *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t) {
        if (ops->destroy)
            ops->destroy(self);
        return AGC_ENOMEM;
    }
    t->ops = ops;
    t->self = self;
    t->ctx = ctx;
    *out = t;
    return AGC_OK;
}

agc_status agc_mcp_transport_send(agc_mcp_transport *t, const char *msg, size_t len)
{
    if (t->closed)
        return agc_error_set(t->ctx, AGC_EIO, MOD, "the MCP connection is closed");
    return t->ops->send(t->self, msg, len);
}

/* send with routing information (ops version 2), else plain send. */
static agc_status transport_send_rel(agc_mcp_transport *t, const char *msg, size_t len,
                                     const json_t *related, bool final)
{
    if (t->closed)
        return agc_error_set(t->ctx, AGC_EIO, MOD, "the MCP connection is closed");
    if (t->ops->version >= 2 && t->ops->send_related)
        return t->ops->send_related(t->self, msg, len, related, final);
    return t->ops->send(t->self, msg, len);
}

agc_status agc_mcp_transport_recv(agc_mcp_transport *t, char **msg_out, size_t *len_out,
                                  int64_t timeout_ms)
{
    *msg_out = NULL;
    *len_out = 0;
    if (t->closed)
        return agc_error_set(t->ctx, AGC_EIO, MOD, "the MCP connection is closed");
    return t->ops->recv(t->self, msg_out, len_out, timeout_ms);
}

agc_status agc_mcp_transport_close(agc_mcp_transport *t)
{
    if (t->closed)
        return t->close_status;
    t->closed = true;
    t->close_status = t->ops->close ? t->ops->close(t->self) : AGC_OK;
    return t->close_status;
}

void agc_mcp_transport_free(agc_mcp_transport *t)
{
    if (!t)
        return;
    if (!t->closed)
        (void)agc_mcp_transport_close(t);
    if (t->ops->destroy)
        t->ops->destroy(t->self);
    agc_free(t->ctx, t);
}

/* ---- session state ------------------------------------------------------------------ */

/* One of our requests waiting for its response; lives on the waiter's stack. */
typedef struct pending {
    struct pending *next; /* the request waiting below this one */
    json_int_t id;
    const char *method;
    agc_mcp_progress_fn progress;
    void *progress_user;
    bool resets;
    int64_t timeout_ms;
    int64_t deadline_ns; /* 0: none */
    bool done;
    agc_jsonrpc_msg msg; /* the response */
    agc_status fail;     /* set when it failed without a response */
    char why[768];
} pending;

struct agc_mcp_request {
    struct agc_mcp_request *next;
    agc_mcp_session *s;
    json_t *id;
    const char *method;
    json_t *progress_token;
    agc_atomic_bool cancel;
    int code;
};

typedef struct deferred {
    struct deferred *next;
    agc_jsonrpc_msg msg;
} deferred;

struct agc_mcp_session {
    agc_ctx *ctx;
    agc_mcp_transport *t;
    const agc_mcp_method *methods;
    const agc_mcp_notification *notes;
    void *user;
    int64_t timeout_ms;
    size_t max_msg;
    json_int_t next_id;
    pending *pending;
    agc_mcp_request *active;
    int depth; /* handlers running */
    deferred *q_head, *q_tail;
    bool closed;
    int last_rpc_error;
    unsigned long malformed;
};

void agc_mcp_session_opts_init(agc_mcp_session_opts *opts)
{
    *opts = (agc_mcp_session_opts)AGC_MCP_SESSION_OPTS_INIT;
}

agc_status agc_mcp_session_new(agc_mcp_session **out, agc_mcp_transport *t,
                               const agc_mcp_session_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_mcp_session_opts o = AGC_MCP_SESSION_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_SESSION_OPTS_VERSION) {
        agc_mcp_transport_free(t);
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_mcp_session_opts version %u",
                             o.version);
    }
    agc_mcp_session *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s) {
        agc_mcp_transport_free(t);
        return AGC_ENOMEM;
    }
    s->ctx = ctx;
    s->t = t;
    s->methods = o.methods;
    s->notes = o.notifications;
    s->user = o.user;
    s->timeout_ms = o.request_timeout_ms > 0 ? o.request_timeout_ms : AGC_MCP_DEFAULT_TIMEOUT_MS;
    s->max_msg = o.max_message_bytes ? o.max_message_bytes : AGC_MCP_DEFAULT_MAX_MESSAGE;
    s->next_id = 1;
    *out = s;
    return AGC_OK;
}

agc_status agc_mcp_session_close(agc_mcp_session *s)
{
    s->closed = true;
    return agc_mcp_transport_close(s->t);
}

void agc_mcp_session_free(agc_mcp_session *s)
{
    if (!s)
        return;
    while (s->q_head) {
        deferred *d = s->q_head;
        s->q_head = d->next;
        agc_jsonrpc_msg_clear(&d->msg);
        agc_free(s->ctx, d);
    }
    agc_mcp_transport_free(s->t);
    agc_free(s->ctx, s);
}

bool agc_mcp_session_closed(const agc_mcp_session *s)
{
    return s->closed;
}
int agc_mcp_session_last_rpc_error(const agc_mcp_session *s)
{
    return s->last_rpc_error;
}
unsigned long agc_mcp_session_malformed_count(const agc_mcp_session *s)
{
    return s->malformed;
}
agc_ctx *agc_mcp_session_ctx(const agc_mcp_session *s)
{
    return s->ctx;
}
void *agc_mcp__session_user(const agc_mcp_session *s)
{
    return s->user;
}
const agc_mcp_method *agc_mcp__session_methods(const agc_mcp_session *s)
{
    return s->methods;
}
agc_mcp_transport *agc_mcp_session_transport(const agc_mcp_session *s)
{
    return s->t;
}

/* ---- sending ------------------------------------------------------------------------ */

/* The id of the request whose handler runs now (routing of what it sends). */
static const json_t *current_id(const agc_mcp_session *s)
{
    return s->active ? s->active->id : NULL;
}

/* Sends text (freed here) after checking the cap; related/final: see send_related. */
static agc_status send_text(agc_mcp_session *s, char *text, size_t len, const json_t *related,
                            bool final)
{
    agc_status st;
    if (len > s->max_msg)
        st = agc_error_set(s->ctx, AGC_ELIMIT, MOD,
                           "outgoing message of %zu bytes exceeds the %zu-byte message cap", len,
                           s->max_msg);
    else
        st = transport_send_rel(s->t, text, len, related, final);
    agc_free(s->ctx, text);
    if (st == AGC_EIO)
        s->closed = true;
    return st;
}

static agc_status send_error(agc_mcp_session *s, const json_t *id, int code, const char *message)
{
    char *text = NULL;
    size_t len = 0;
    agc_status st = agc_jsonrpc_build_error(&text, &len, id, code, message, NULL, s->ctx);
    return st == AGC_OK ? send_text(s, text, len, id, id != NULL) : st;
}

static agc_status send_result(agc_mcp_session *s, const json_t *id, const json_t *result)
{
    char *text = NULL;
    size_t len = 0;
    agc_status st = agc_jsonrpc_build_result(&text, &len, id, result, s->ctx);
    if (st != AGC_OK)
        return st;
    if (len > s->max_msg) { /* tell the peer instead of leaving it waiting */
        agc_free(s->ctx, text);
        char msg[160];
        snprintf(msg, sizeof msg, "result of %zu bytes exceeds the %zu-byte message cap", len,
                 s->max_msg);
        return send_error(s, id, AGC_JSONRPC_INTERNAL_ERROR, msg);
    }
    return send_text(s, text, len, id, true);
}

agc_status agc_mcp_session_notify(agc_mcp_session *s, const char *method, const json_t *params)
{
    /* the peer's input may have ended while ours is still open: try to send */
    char *text = NULL;
    size_t len = 0;
    agc_status st = agc_jsonrpc_build_notification(&text, &len, method, params, s->ctx);
    return st == AGC_OK ? send_text(s, text, len, current_id(s), false) : st;
}

/* notifications/cancelled for one of our requests; failures are only logged. */
static void send_cancel(agc_mcp_session *s, json_int_t id, const char *reason)
{
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *p = json_pack("{s:I,s:s}", "requestId", (json_int_t)id, "reason", reason);
    agc_json_leave(prev);
    if (!p || agc_mcp_session_notify(s, "notifications/cancelled", p) != AGC_OK)
        agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "could not send notifications/cancelled for %lld",
                (long long)id);
    json_decref(p);
}

/* ---- receiving ----------------------------------------------------------------------- */

static void fail_pending(pending *p, agc_status st, const char *fmt, ...) AGC_PRINTF(3, 4);
static void fail_pending(pending *p, agc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
    p->fail = st;
    p->done = true;
}

static pending *find_pending(agc_mcp_session *s, const json_t *id)
{
    if (!json_is_integer(id))
        return NULL;
    for (pending *p = s->pending; p; p = p->next)
        if (!p->done && p->id == json_integer_value(id))
            return p;
    return NULL;
}

static pending *innermost_open(agc_mcp_session *s)
{
    for (pending *p = s->pending; p; p = p->next)
        if (!p->done)
            return p;
    return NULL;
}

static agc_status on_malformed(agc_mcp_session *s, agc_jsonrpc_msg *m)
{
    s->malformed++;
    char why[1024];
    agc_error_format(s->ctx, why, sizeof why);
    agc_log(s->ctx, AGC_LOG_WARN, MOD, "malformed message from the peer (%d %s): %s", m->error_code,
            agc_jsonrpc_code_name(m->error_code), why);
    if (m->response_like) { /* never answer a response */
        pending *p = find_pending(s, m->id);
        if (p)
            fail_pending(p, AGC_EPROTO, "malformed response to '%s': %s", p->method, why);
        return AGC_OK;
    }
    return send_error(s, m->id, m->error_code, why);
}

static void on_response(agc_mcp_session *s, agc_jsonrpc_msg *m)
{
    if (m->kind == AGC_JSONRPC_ERROR && !m->id) {
        /* an error the peer could not tie to a request (e.g. ours was over its cap) */
        pending *p = innermost_open(s);
        s->last_rpc_error = m->error_code;
        if (p)
            fail_pending(p, AGC_EPROTO,
                         "peer reported error %d (%s) without a request id while '%s' was "
                         "pending: %s",
                         m->error_code, agc_jsonrpc_code_name(m->error_code), p->method,
                         m->error_message);
        else
            agc_log(s->ctx, AGC_LOG_WARN, MOD, "peer reported error %d (%s): %s", m->error_code,
                    agc_jsonrpc_code_name(m->error_code), m->error_message);
        return;
    }
    pending *p = find_pending(s, m->id);
    if (!p) {
        char idb[64];
        agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "dropping a response to unknown or abandoned id %s",
                agc_jsonrpc_id_format(m->id, idb, sizeof idb));
        return;
    }
    p->msg = *m;
    memset(m, 0, sizeof *m);
    p->done = true;
}

static void on_cancelled(agc_mcp_session *s, const json_t *params)
{
    const json_t *id = json_object_get(params, "requestId");
    if (!agc_jsonrpc_id_valid(id))
        return;
    for (agc_mcp_request *r = s->active; r; r = r->next)
        if (json_equal(r->id, (json_t *)id)) {
            atomic_store(&r->cancel, true);
            return;
        }
    for (deferred **pp = &s->q_head, *prevd = NULL; *pp; prevd = *pp, pp = &(*pp)->next) {
        deferred *d = *pp;
        if (d->msg.kind == AGC_JSONRPC_REQUEST && json_equal(d->msg.id, (json_t *)id)) {
            *pp = d->next;
            if (s->q_tail == d)
                s->q_tail = prevd;
            agc_jsonrpc_msg_clear(&d->msg);
            agc_free(s->ctx, d);
            return;
        }
    }
}

static void on_progress(agc_mcp_session *s, const json_t *params)
{
    pending *p = find_pending(s, json_object_get(params, "progressToken"));
    const json_t *prog = json_object_get(params, "progress");
    if (!p || !p->progress || !json_is_number(prog))
        return;
    const json_t *total = json_object_get(params, "total");
    if (p->resets && p->deadline_ns)
        p->deadline_ns = agc_clock_monotonic_ns(s->ctx) + p->timeout_ms * 1000000;
    p->progress(json_number_value(prog), json_is_number(total) ? json_number_value(total) : -1.0,
                agc_json_str(params, "message", NULL), p->progress_user);
}

static int status_code(agc_status st)
{
    switch (st) {
    case AGC_EINVAL:
    case AGC_ESCHEMA:
        return AGC_JSONRPC_INVALID_PARAMS;
    case AGC_EUNSUPPORTED:
        return AGC_JSONRPC_METHOD_NOT_FOUND;
    default:
        return AGC_JSONRPC_INTERNAL_ERROR;
    }
}

static agc_status dispatch_request(agc_mcp_session *s, agc_jsonrpc_msg *m)
{
    if (strcmp(m->method, "ping") == 0)
        return send_result(s, m->id, NULL);
    agc_mcp_method_fn fn = NULL;
    for (const agc_mcp_method *e = s->methods; e && e->name; e++)
        if (strcmp(e->name, m->method) == 0) {
            fn = e->fn;
            break;
        }
    if (!fn) {
        char msg[300];
        snprintf(msg, sizeof msg, "method '%.200s' not found", m->method);
        return send_error(s, m->id, AGC_JSONRPC_METHOD_NOT_FOUND, msg);
    }
    agc_mcp_request r = {.s = s, .id = m->id, .method = m->method};
    atomic_init(&r.cancel, false);
    json_t *tok = json_object_get(json_object_get(m->params, "_meta"), "progressToken");
    r.progress_token = agc_jsonrpc_id_valid(tok) ? tok : NULL;
    r.next = s->active;
    s->active = &r;
    s->depth++;
    json_t *result = NULL;
    agc_error_clear(s->ctx);
    agc_status st = fn(&result, &r, m->params, s->user);
    s->depth--;
    s->active = r.next;
    if (atomic_load(&r.cancel)) {
        json_decref(result);
        agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "'%s' was canceled by the peer; not answering",
                m->method);
        return AGC_OK;
    }
    if (st == AGC_OK) {
        st = send_result(s, m->id, result);
        json_decref(result);
        return st;
    }
    json_decref(result);
    char msg[1024];
    if (st == AGC_ENOMEM)
        snprintf(msg, sizeof msg, "out of memory handling '%s'", m->method);
    else
        agc_error_format(s->ctx, msg, sizeof msg);
    return send_error(s, m->id, r.code ? r.code : status_code(st), msg);
}

static void dispatch_note(agc_mcp_session *s, agc_jsonrpc_msg *m)
{
    for (const agc_mcp_notification *e = s->notes; e && e->name; e++)
        if (strcmp(e->name, m->method) == 0) {
            e->fn(s, m->params, s->user);
            return;
        }
    agc_log(s->ctx, AGC_LOG_DEBUG, MOD, "ignoring notification '%s'", m->method);
}

static agc_status defer_msg(agc_mcp_session *s, agc_jsonrpc_msg *m)
{
    deferred *d = agc_calloc(s->ctx, 1, sizeof *d);
    if (!d)
        return AGC_ENOMEM;
    d->msg = *m;
    memset(m, 0, sizeof *m);
    if (s->q_tail)
        s->q_tail->next = d;
    else
        s->q_head = d;
    s->q_tail = d;
    return AGC_OK;
}

static agc_status handle_msg(agc_mcp_session *s, agc_jsonrpc_msg *m)
{
    switch (m->kind) {
    case AGC_JSONRPC_REQUEST:
        return s->depth > 0 ? defer_msg(s, m) : dispatch_request(s, m);
    case AGC_JSONRPC_NOTIFICATION:
        if (strcmp(m->method, "notifications/cancelled") == 0)
            on_cancelled(s, m->params);
        else if (strcmp(m->method, "notifications/progress") == 0)
            on_progress(s, m->params);
        else if (s->depth > 0)
            return defer_msg(s, m);
        else
            dispatch_note(s, m);
        return AGC_OK;
    case AGC_JSONRPC_RESULT:
    case AGC_JSONRPC_ERROR:
        on_response(s, m);
        return AGC_OK;
    default:
        return AGC_OK;
    }
}

static agc_status on_oversized(agc_mcp_session *s)
{
    s->malformed++;
    char why[512];
    snprintf(why, sizeof why, "%s", agc_ctx_errmsg(s->ctx));
    agc_log(s->ctx, AGC_LOG_WARN, MOD, "%s", why);
    pending *p = innermost_open(s);
    if (p) { /* most likely its response */
        fail_pending(p, AGC_ELIMIT, "no usable response to '%s': %s", p->method, why);
        return AGC_OK;
    }
    return send_error(s, NULL, AGC_JSONRPC_INVALID_REQUEST, why);
}

/* Receives and handles at most one message; *got says whether one came. */
static agc_status pump(agc_mcp_session *s, int64_t wait_ms, bool *got)
{
    *got = false;
    char *text = NULL;
    size_t len = 0;
    agc_status st = agc_mcp_transport_recv(s->t, &text, &len, wait_ms);
    if (st == AGC_ELIMIT) {
        *got = true;
        return on_oversized(s);
    }
    if (st == AGC_EIO)
        s->closed = true;
    if (st != AGC_OK || !text)
        return st;
    *got = true;
    agc_jsonrpc_msg m;
    st = agc_jsonrpc_parse(&m, text, len, s->ctx);
    agc_free(s->ctx, text);
    if (st == AGC_EPARSE || st == AGC_EPROTO)
        st = on_malformed(s, &m);
    else if (st == AGC_OK)
        st = handle_msg(s, &m);
    agc_jsonrpc_msg_clear(&m);
    return st;
}

static agc_status drain_deferred(agc_mcp_session *s)
{
    while (s->depth == 0 && s->q_head) {
        deferred *d = s->q_head;
        s->q_head = d->next;
        if (!s->q_head)
            s->q_tail = NULL;
        agc_status st = handle_msg(s, &d->msg);
        agc_jsonrpc_msg_clear(&d->msg);
        agc_free(s->ctx, d);
        if (st != AGC_OK)
            return st;
    }
    return AGC_OK;
}

agc_status agc_mcp_session_step(agc_mcp_session *s, int64_t timeout_ms)
{
    agc_status st = drain_deferred(s);
    if (st != AGC_OK)
        return st;
    if (s->closed)
        return agc_error_set(s->ctx, AGC_EIO, MOD, "the peer closed the connection");
    bool got = false;
    return pump(s, timeout_ms, &got);
}

agc_status agc_mcp_session_serve(agc_mcp_session *s)
{
    for (;;) {
        agc_status st = agc_mcp_session_step(s, -1);
        if (s->closed) /* answer what arrived before the end of input */
            return st == AGC_ENOMEM ? st : drain_deferred(s);
        if (st != AGC_OK)
            return st;
    }
}

/* ---- our requests ----------------------------------------------------------------------- */

/* params with _meta.progressToken = id (a new shallow copy), or NULL on OOM. */
static json_t *with_token(const json_t *params, json_int_t id, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *p = params ? json_copy((json_t *)params) : json_object();
    json_t *old = json_object_get(p, "_meta");
    json_t *meta = json_is_object(old) ? json_copy(old) : json_object();
    bool ok = p && meta && json_object_set_new(meta, "progressToken", json_integer(id)) == 0 &&
              json_object_set(p, "_meta", meta) == 0 && !agc_json_oom(ctx);
    json_decref(meta);
    if (!ok) {
        json_decref(p);
        p = NULL;
    }
    agc_json_leave(prev);
    return p;
}

static agc_status wait_for(agc_mcp_session *s, pending *p, const agc_mcp_call_opts *o)
{
    while (!p->done) {
        if (o->cancel && atomic_load(o->cancel)) {
            send_cancel(s, p->id, "canceled by the caller");
            return agc_error_set(s->ctx, AGC_ECANCELED, MOD,
                                 "request '%s' was canceled; the peer was told "
                                 "(notifications/cancelled)",
                                 p->method);
        }
        int64_t wait = -1;
        if (p->deadline_ns) {
            int64_t now = agc_clock_monotonic_ns(s->ctx);
            if (now >= p->deadline_ns) {
                send_cancel(s, p->id, "timed out");
                return agc_error_set(s->ctx, AGC_ETIMEDOUT, MOD,
                                     "no response to '%s' within %lld ms; the request was "
                                     "canceled (raise the timeout if the server is slow)",
                                     p->method, (long long)p->timeout_ms);
            }
            wait = (p->deadline_ns - now) / 1000000 + 1;
        }
        if (o->cancel && (wait < 0 || wait > 50))
            wait = 50;
        bool got = false;
        agc_status st = pump(s, wait, &got);
        if (st == AGC_EIO && !p->done) {
            char why[600];
            snprintf(why, sizeof why, "%s", agc_ctx_errmsg(s->ctx));
            return agc_error_set(s->ctx, AGC_EIO, MOD, "no response to '%s': %s", p->method, why);
        }
        if (st != AGC_OK && st != AGC_EIO)
            return st;
    }
    return AGC_OK;
}

static void unlink_pending(agc_mcp_session *s, pending *p)
{
    for (pending **pp = &s->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

agc_status agc_mcp_session_request(json_t **result_out, agc_mcp_session *s, const char *method,
                                   const json_t *params, const agc_mcp_call_opts *opts)
{
    *result_out = NULL;
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    if (opts)
        o = *opts;
    if (o.version != AGC_MCP_CALL_OPTS_VERSION)
        return agc_error_set(s->ctx, AGC_EINVAL, MOD, "unknown agc_mcp_call_opts version %u",
                             o.version);
    if (s->closed)
        return agc_error_set(s->ctx, AGC_EIO, MOD,
                             "cannot send '%s': the connection to the peer is closed", method);
    pending p = {.id = s->next_id++,
                 .method = method,
                 .progress = o.progress,
                 .progress_user = o.progress_user,
                 .resets = o.progress_resets_timeout};
    p.timeout_ms = o.timeout_ms == 0 ? s->timeout_ms : o.timeout_ms;
    json_t *copy = NULL;
    if (o.progress && !(copy = with_token(params, p.id, s->ctx)))
        return agc_error_set(s->ctx, AGC_ENOMEM, MOD, "out of memory building '%s'", method);
    agc_ctx *prev = agc_json_enter(s->ctx);
    json_t *idv = json_integer(p.id);
    agc_json_leave(prev);
    char *text = NULL;
    size_t len = 0;
    agc_status st =
        idv ? agc_jsonrpc_build_request(&text, &len, idv, method, copy ? copy : params, s->ctx)
            : agc_error_set(s->ctx, AGC_ENOMEM, MOD, "out of memory");
    json_decref(idv);
    json_decref(copy);
    if (st != AGC_OK)
        return st;
    st = send_text(s, text, len, current_id(s), false);
    if (st != AGC_OK) {
        char why[600];
        snprintf(why, sizeof why, "%s", agc_ctx_errmsg(s->ctx));
        return agc_error_set(s->ctx, st, MOD, "cannot send '%s': %s", method, why);
    }
    if (p.timeout_ms > 0)
        p.deadline_ns = agc_clock_monotonic_ns(s->ctx) + p.timeout_ms * 1000000;
    p.next = s->pending;
    s->pending = &p;
    st = wait_for(s, &p, &o);
    unlink_pending(s, &p);
    if (st == AGC_OK && p.fail != AGC_OK)
        st = agc_error_set(s->ctx, p.fail, MOD, "%s", p.why);
    else if (st == AGC_OK && p.msg.kind == AGC_JSONRPC_ERROR) {
        s->last_rpc_error = p.msg.error_code;
        st = agc_error_set(s->ctx, AGC_EPROTO, MOD, "peer answered '%s' with error %d (%s): %s",
                           method, p.msg.error_code, agc_jsonrpc_code_name(p.msg.error_code),
                           p.msg.error_message);
    } else if (st == AGC_OK)
        *result_out = json_incref(p.msg.result);
    agc_jsonrpc_msg_clear(&p.msg);
    return st;
}

agc_status agc_mcp_session_ping(agc_mcp_session *s, int64_t timeout_ms)
{
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.timeout_ms = timeout_ms;
    json_t *r = NULL;
    agc_status st = agc_mcp_session_request(&r, s, "ping", NULL, &o);
    json_decref(r);
    return st;
}

/* ---- requests being served ---------------------------------------------------------------- */

const json_t *agc_mcp_request_id(const agc_mcp_request *req)
{
    return req->id;
}
const char *agc_mcp_request_method(const agc_mcp_request *req)
{
    return req->method;
}
agc_mcp_session *agc_mcp_request_session(const agc_mcp_request *req)
{
    return req->s;
}
void agc_mcp_request_set_error_code(agc_mcp_request *req, int code)
{
    req->code = code;
}
const agc_atomic_bool *agc_mcp_request_cancel_flag(const agc_mcp_request *req)
{
    return &req->cancel;
}

bool agc_mcp_request_canceled(agc_mcp_request *req)
{
    agc_mcp_session *s = req->s;
    for (int i = 0; i < 64 && !atomic_load(&req->cancel) && !s->closed; i++) {
        bool got = false;
        if (pump(s, 0, &got) != AGC_OK || !got)
            break;
    }
    return atomic_load(&req->cancel);
}

agc_status agc_mcp_request_progress(agc_mcp_request *req, double progress, double total,
                                    const char *message)
{
    if (!req->progress_token)
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(req->s->ctx);
    json_t *p = json_pack("{s:O,s:f}", "progressToken", req->progress_token, "progress", progress);
    bool ok = p && (total < 0 || json_object_set_new(p, "total", json_real(total)) == 0) &&
              (!message || json_object_set_new(p, "message", json_string(message)) == 0) &&
              !agc_json_oom(req->s->ctx);
    agc_json_leave(prev);
    agc_status st = ok ? agc_mcp_session_notify(req->s, "notifications/progress", p)
                       : agc_error_set(req->s->ctx, AGC_ENOMEM, MOD, "out of memory");
    json_decref(p);
    return st;
}

void agc_mcp_request_close_stream(agc_mcp_request *req)
{
    agc_mcp_transport *t = req->s->t;
    if (!t->closed && t->ops->version >= 2 && t->ops->close_stream)
        t->ops->close_stream(t->self, req->id);
}
