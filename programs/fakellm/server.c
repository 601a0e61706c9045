/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm HTTP side: routes requests, records them, asks the script for a
 * reply, renders it and sends the plan, applying the timing faults (delay,
 * drip, split writes, abrupt close). Every plan is rendered into a ctx of its
 * own that the sending thread frees, so nothing outlives its allocator. The
 * request log is a JSON array made with jansson's process allocator, guarded
 * by a mutex. It does no wire formatting (render*.c does).
 */
#include <pthread.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/http_server.h"
#include "agentc/json.h"
#include "fakellm.h"

struct fakellm_server {
    agc_ctx *ctx;
    fakellm_script *script;
    agc_http_server *http;
    pthread_mutex_t log_mu;
    json_t *log; /* array, process allocator */
};

/* A plan on its way to a client; owns its ctx. */
typedef struct job {
    agc_ctx *ctx;
    fakellm_plan plan;
} job;

#define SPLIT_PAUSE_MS 2

static void job_free(job *j)
{
    if (!j)
        return;
    agc_ctx *ctx = j->ctx;
    fakellm_plan_free(&j->plan);
    agc_free(ctx, j);
    agc_ctx_free(ctx);
}

static agc_status job_new(job **out, agc_ctx *err_ctx)
{
    *out = NULL;
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL))
        return agc_error_set(err_ctx, AGC_ENOMEM, "fakellm", "out of memory");
    job *j = agc_calloc(ctx, 1, sizeof *j);
    if (!j) {
        agc_ctx_free(ctx);
        return agc_error_set(err_ctx, AGC_ENOMEM, "fakellm", "out of memory");
    }
    j->ctx = ctx;
    fakellm_plan_init(&j->plan, ctx);
    *out = j;
    return AGC_OK;
}

/* ---- sending -------------------------------------------------------------- */

static size_t plan_headers(const fakellm_plan *p, agc_http_header *h)
{
    size_t n = 0;
    if (p->content_type)
        h[n++] = (agc_http_header){"Content-Type", p->content_type};
    if (p->stream)
        h[n++] = (agc_http_header){"Cache-Control", "no-cache"};
    for (size_t i = 0; i < p->n_headers; i++)
        h[n++] = (agc_http_header){p->headers[i].name, p->headers[i].value};
    return n;
}

static void send_events(agc_http_stream *w, void *user)
{
    job *j = user;
    const fakellm_plan *p = &j->plan;
    agc_status st = AGC_OK;
    for (size_t i = 0; !st && i < p->n_events; i++) {
        if (p->reset_after_events >= 0 && i == (size_t)p->reset_after_events)
            break;
        if (i && p->drip_ms > 0)
            st = agc_http_stream_sleep(w, p->drip_ms);
        const char *ev = p->events[i];
        size_t len = p->event_lens[i];
        size_t step = p->split_bytes ? p->split_bytes : len;
        for (size_t off = 0; !st && off < len; off += step) {
            if (off)
                st = agc_http_stream_sleep(w, SPLIT_PAUSE_MS);
            if (!st)
                st = agc_http_stream_write(w, ev + off, len - off < step ? len - off : step);
        }
    }
    if (!st && p->reset_after_events >= 0)
        agc_http_stream_abort(w); /* the queued bytes go out, then the connection closes */
    job_free(j);
}

/* Sends j's plan and takes ownership of j. */
static agc_status send_plan(agc_http_sreq *req, job *j)
{
    fakellm_plan *p = &j->plan;
    agc_http_server *srv = agc_http_sreq_server(req);
    if (p->delay_ms > 0 && agc_http_server_sleep(srv, p->delay_ms)) {
        job_free(j);
        return AGC_ECANCELED;
    }
    agc_http_header h[FAKELLM_MAX_HEADERS + 2];
    size_t nh = plan_headers(p, h);
    bool whole = !p->stream && !p->split_bytes && p->reset_after_events < 0 && p->drip_ms <= 0;
    agc_status st;
    if (whole) {
        st = agc_http_sreq_respond(req, p->status, h, nh, p->n_events ? p->events[0] : "",
                                   p->n_events ? p->event_lens[0] : 0);
        job_free(j);
        return st;
    }
    st = agc_http_sreq_stream_spawn(req, p->status, h, nh, send_events, j);
    if (st)
        job_free(j);
    return st;
}

/* ---- the request log ------------------------------------------------------ */

static json_t *record_of(agc_http_sreq *req, const json_t *parsed)
{
    size_t len;
    const char *body = agc_http_sreq_body(req, &len);
    const agc_http_headers *hs = agc_http_sreq_headers(req);
    agc_ctx *prev = agc_json_enter(NULL); /* process allocator: the log outlives the request */
    json_t *headers = json_object();
    for (size_t i = 0; headers && i < agc_http_headers_count(hs); i++) {
        agc_http_header h = agc_http_headers_at(hs, i);
        char name[128];
        size_t k = 0;
        for (; h.name[k] && k + 1 < sizeof name; k++)
            name[k] = (char)((h.name[k] >= 'A' && h.name[k] <= 'Z') ? h.name[k] + 32 : h.name[k]);
        name[k] = '\0';
        const char *old = json_string_value(json_object_get(headers, name));
        if (old) {
            size_t n = strlen(old) + strlen(h.value) + 3;
            char *joined = agc_malloc(agc_http_sreq_ctx(req), n);
            if (joined) {
                snprintf(joined, n, "%s, %s", old, h.value);
                json_object_set_new(headers, name, json_string(joined));
                agc_free(agc_http_sreq_ctx(req), joined);
            }
        } else {
            json_object_set_new(headers, name, json_string(h.value));
        }
    }
    json_t *b = parsed ? json_deep_copy(parsed) : json_stringn(body, len);
    if (!b)
        b = json_sprintf("<%zu bytes, not UTF-8>", len);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:o, s:o}", "method", agc_http_sreq_method(req),
                            "path", agc_http_sreq_path(req), "query", agc_http_sreq_query(req),
                            "headers", headers, "body", b ? b : json_null());
    agc_json_leave(prev);
    return rec;
}

static void record(fakellm_server *s, agc_http_sreq *req, const json_t *parsed)
{
    json_t *rec = record_of(req, parsed);
    if (!rec)
        return;
    agc_ctx *prev = agc_json_enter(NULL);
    pthread_mutex_lock(&s->log_mu);
    json_array_append_new(s->log, rec);
    pthread_mutex_unlock(&s->log_mu);
    agc_json_leave(prev);
}

/* ---- handlers ------------------------------------------------------------- */

static agc_status answer_json(agc_http_sreq *req, int status, const json_t *v)
{
    agc_ctx *ctx = agc_http_sreq_ctx(req);
    char *text = NULL;
    agc_status st = agc_json_dump(&text, v, JSON_COMPACT, ctx);
    if (st)
        return st;
    agc_http_header h = {"Content-Type", "application/json"};
    st = agc_http_sreq_respond(req, status, &h, 1, text, strlen(text));
    agc_free(ctx, text);
    return st;
}

static agc_status answer_error(agc_http_sreq *req, fakellm_wire wire, int status,
                               const char *message)
{
    job *j;
    agc_status st = job_new(&j, agc_http_sreq_ctx(req));
    if (st)
        return st;
    st = fakellm_render_error(&j->plan, wire, status, NULL, message);
    if (st) {
        job_free(j);
        return st;
    }
    return send_plan(req, j);
}

static agc_status model_call(fakellm_server *s, agc_http_sreq *req, fakellm_wire wire,
                             const json_t *body)
{
    agc_ctx *ctx = agc_http_sreq_ctx(req);
    if (!json_is_object(body))
        return answer_error(req, wire, 400, "fakellm: the request body must be a JSON object");
    unsigned long seq = 0;
    char *why = NULL;
    json_t *reply = fakellm_script_pick(s->script, agc_http_sreq_path(req), body, &seq, &why, ctx);
    if (!reply) {
        agc_status st = answer_error(req, wire, 500, why ? why : "fakellm: script exhausted");
        agc_free(ctx, why);
        return st;
    }
    const json_t *opts = json_object_get(body, "stream_options");
    fakellm_req fr = {.wire = wire,
                      .stream = agc_json_bool(body, "stream", false),
                      .include_usage = agc_json_bool(opts, "include_usage", false),
                      .model = agc_json_str(body, "model", NULL),
                      .seq = seq};
    job *j;
    agc_status st = job_new(&j, ctx);
    if (!st) {
        st = fakellm_render(&j->plan, reply, &fr);
        if (st)
            job_free(j);
        else
            st = send_plan(req, j);
    }
    json_decref(reply);
    return st;
}

static agc_status list_models(agc_http_sreq *req)
{
    agc_ctx *prev = agc_json_enter(agc_http_sreq_ctx(req));
    json_t *v =
        json_pack("{s:s, s:[{s:s, s:s, s:s, s:i, s:s, s:s}], s:b, s:s, s:s}", "object", "list",
                  "data", "id", "fake-model", "object", "model", "type", "model", "created",
                  1700000000, "owned_by", "fakellm", "display_name", "Fake model", "has_more", 0,
                  "first_id", "fake-model", "last_id", "fake-model");
    agc_json_leave(prev);
    agc_status st = v ? answer_json(req, 200, v) : AGC_ENOMEM;
    json_decref(v);
    return st;
}

static agc_status fake_requests(fakellm_server *s, agc_http_sreq *req)
{
    pthread_mutex_lock(&s->log_mu);
    agc_status st = answer_json(req, 200, s->log);
    pthread_mutex_unlock(&s->log_mu);
    return st;
}

static agc_status fake_ok(agc_http_sreq *req)
{
    static const char ok[] = "{\"ok\":true}";
    agc_http_header h = {"Content-Type", "application/json"};
    return agc_http_sreq_respond(req, 200, &h, 1, ok, sizeof ok - 1);
}

static agc_status fake_script(fakellm_server *s, agc_http_sreq *req, const json_t *body)
{
    agc_ctx *ctx = agc_http_sreq_ctx(req);
    agc_status st = body ? fakellm_script_replace(s->script, (json_t *)body, "<posted>", ctx)
                         : agc_error_set(ctx, AGC_EPARSE, "fakellm", "the script is not JSON");
    if (st)
        return answer_error(req, FAKELLM_OPENAI, 400, agc_ctx_errmsg(ctx));
    return fake_ok(req);
}

static agc_status fake_reset(fakellm_server *s, agc_http_sreq *req)
{
    fakellm_script_reset(s->script);
    pthread_mutex_lock(&s->log_mu);
    json_array_clear(s->log);
    pthread_mutex_unlock(&s->log_mu);
    return fake_ok(req);
}

static agc_status handle(agc_http_sreq *req, void *user)
{
    fakellm_server *s = user;
    agc_ctx *ctx = agc_http_sreq_ctx(req);
    const char *method = agc_http_sreq_method(req);
    const char *path = agc_http_sreq_path(req);
    bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
    size_t len;
    const char *text = agc_http_sreq_body(req, &len);
    json_t *body = NULL;
    if (len && agc_json_parse(&body, text, len, "request body", ctx))
        body = NULL;
    bool internal = !strncmp(path, "/_fake/", 7);
    if (!internal)
        record(s, req, body);

    agc_status st;
    fakellm_wire wire = strncmp(path, "/v1/messages", 12) ? FAKELLM_OPENAI : FAKELLM_ANTHROPIC;
    if (post && (!strcmp(path, "/v1/chat/completions") || !strcmp(path, "/v1/messages")))
        st = model_call(s, req, wire, body);
    else if (get && !strcmp(path, "/v1/models"))
        st = list_models(req);
    else if (get && !strcmp(path, "/_fake/requests"))
        st = fake_requests(s, req);
    else if (post && !strcmp(path, "/_fake/script"))
        st = fake_script(s, req, body);
    else if (post && !strcmp(path, "/_fake/reset"))
        st = fake_reset(s, req);
    else if (!strcmp(path, "/v1/chat/completions") || !strcmp(path, "/v1/messages") ||
             !strcmp(path, "/v1/models") || internal)
        st = answer_error(req, wire, 405, "fakellm: method not allowed on this path");
    else
        st = answer_error(req, wire, 404, "fakellm: no such endpoint");
    json_decref(body);
    return st;
}

/* ---- lifecycle ------------------------------------------------------------ */

agc_status fakellm_server_new(fakellm_server **out, fakellm_script *script, const char *host,
                              uint16_t port, agc_ctx *ctx)
{
    *out = NULL;
    fakellm_server *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->ctx = ctx;
    s->script = script;
    agc_ctx *prev = agc_json_enter(NULL);
    s->log = json_array();
    agc_json_leave(prev);
    if (!s->log || pthread_mutex_init(&s->log_mu, NULL)) {
        json_decref(s->log);
        agc_free(ctx, s);
        return agc_error_set(ctx, AGC_ENOMEM, "fakellm", "out of memory");
    }
    agc_http_server_opts o;
    agc_http_server_opts_init(&o);
    o.bind_address = host;
    o.port = port;
    o.max_body_bytes = (size_t)64 * 1024 * 1024;
    agc_status st = agc_http_server_new(&s->http, &o, handle, s, ctx);
    if (st) {
        pthread_mutex_destroy(&s->log_mu);
        json_decref(s->log);
        agc_free(ctx, s);
        return st;
    }
    *out = s;
    return AGC_OK;
}

uint16_t fakellm_server_port(const fakellm_server *s)
{
    return agc_http_server_port(s->http);
}

void fakellm_server_free(fakellm_server *s)
{
    if (!s)
        return;
    agc_http_server_free(s->http);
    pthread_mutex_destroy(&s->log_mu);
    json_decref(s->log);
    agc_free(s->ctx, s);
}
