/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm rendering, wire-independent part: plans (status, headers, body
 * events), reading a script reply into normalised content, text splitting,
 * error bodies in each wire's shape and the fault fields that change the body
 * (status, raw_body, oversize_bytes, malformed, truncate). Timing faults are
 * only copied into the plan: the sender applies them. No I/O here.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "fakellm.h"

/* ---- plans ---------------------------------------------------------------- */

void fakellm_plan_init(fakellm_plan *p, agc_ctx *ctx)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->status = 200;
    p->reset_after_events = -1;
}

void fakellm_plan_free(fakellm_plan *p)
{
    if (!p || !p->ctx)
        return;
    for (size_t i = 0; i < p->n_events; i++)
        agc_free(p->ctx, p->events[i]);
    agc_free(p->ctx, p->events);
    agc_free(p->ctx, p->event_lens);
    for (size_t i = 0; i < p->n_headers; i++) {
        agc_free(p->ctx, p->headers[i].name);
        agc_free(p->ctx, p->headers[i].value);
    }
    agc_free(p->ctx, p->content_type);
    agc_ctx *ctx = p->ctx;
    fakellm_plan_init(p, ctx);
}

agc_status fakellm_plan_add(fakellm_plan *p, const char *data, size_t len)
{
    if (p->n_events == p->cap_events) {
        size_t cap = p->cap_events ? p->cap_events * 2 : 16;
        char **ev = agc_realloc(p->ctx, p->events, cap * sizeof *ev);
        if (!ev)
            return AGC_ENOMEM;
        p->events = ev;
        size_t *lens = agc_realloc(p->ctx, p->event_lens, cap * sizeof *lens);
        if (!lens)
            return AGC_ENOMEM;
        p->event_lens = lens;
        p->cap_events = cap;
    }
    char *copy = agc_malloc(p->ctx, len + 1);
    if (!copy)
        return AGC_ENOMEM;
    memcpy(copy, data, len);
    copy[len] = '\0';
    p->events[p->n_events] = copy;
    p->event_lens[p->n_events++] = len;
    return AGC_OK;
}

agc_status fakellm_plan_header(fakellm_plan *p, const char *name, const char *value)
{
    if (p->n_headers == FAKELLM_MAX_HEADERS)
        return agc_error_set(p->ctx, AGC_ELIMIT, "fakellm", "too many reply headers");
    char *n = agc_strdup(p->ctx, name);
    char *v = agc_strdup(p->ctx, value);
    if (!n || !v) {
        agc_free(p->ctx, n);
        agc_free(p->ctx, v);
        return AGC_ENOMEM;
    }
    p->headers[p->n_headers].name = n;
    p->headers[p->n_headers++].value = v;
    return AGC_OK;
}

static agc_status set_content_type(fakellm_plan *p, const char *ct)
{
    char *c = agc_strdup(p->ctx, ct);
    if (!c)
        return AGC_ENOMEM;
    agc_free(p->ctx, p->content_type);
    p->content_type = c;
    return AGC_OK;
}

static agc_status dump_compact(char **out, size_t *len, json_t *v, agc_ctx *ctx)
{
    *out = NULL;
    if (!v)
        return agc_error_set(ctx, AGC_ENOMEM, "fakellm", "out of memory building JSON");
    agc_status st = agc_json_dump(out, v, JSON_COMPACT, ctx);
    json_decref(v);
    if (!st)
        *len = strlen(*out);
    return st;
}

agc_status fakellm_plan_sse(fakellm_plan *p, const char *name, json_t *v)
{
    char *json;
    size_t len;
    agc_status st = dump_compact(&json, &len, v, p->ctx);
    if (st)
        return st;
    agc_buf b;
    agc_buf_init(&b, p->ctx, 0);
    if (name)
        st = agc_buf_printf(&b, "event: %s\n", name);
    if (!st)
        st = agc_buf_puts(&b, "data: ");
    if (!st)
        st = agc_buf_append(&b, json, len);
    if (!st)
        st = agc_buf_puts(&b, "\n\n");
    if (!st)
        st = fakellm_plan_add(p, b.data, b.len);
    agc_buf_free(&b);
    agc_free(p->ctx, json);
    return st;
}

agc_status fakellm_plan_body(fakellm_plan *p, json_t *v)
{
    char *json;
    size_t len;
    agc_status st = dump_compact(&json, &len, v, p->ctx);
    if (st)
        return st;
    st = fakellm_plan_add(p, json, len);
    agc_free(p->ctx, json);
    return st;
}

agc_status fakellm_render_json(fakellm_plan *p, int status, const json_t *value)
{
    p->status = status;
    agc_status st = set_content_type(p, "application/json");
    return st ? st : fakellm_plan_body(p, json_incref((json_t *)value));
}

json_t *fakellm_set(json_t *o, const char *k, json_t *v)
{
    if (json_object_set_new(o, k, v) == 0)
        return o;
    json_decref(o);
    return NULL;
}

json_t *fakellm_push(json_t *a, json_t *v)
{
    if (json_array_append_new(a, v) == 0)
        return a;
    json_decref(a);
    return NULL;
}

/* ---- splitting ------------------------------------------------------------ */

static bool is_cont(const char *s, size_t i)
{
    return ((unsigned char)s[i] & 0xC0) == 0x80;
}

/* Moves a cut at i (start < i < len) to a UTF-8 character boundary. */
static size_t boundary(const char *s, size_t len, size_t start, size_t i)
{
    size_t j = i;
    while (j > start && j < len && is_cont(s, j))
        j--;
    if (j > start)
        return j;
    while (i < len && is_cont(s, i))
        i++;
    return i;
}

static agc_status push_cut(size_t **cuts, size_t *n, size_t *cap, size_t v, agc_ctx *ctx)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        size_t *nc = agc_realloc(ctx, *cuts, c * sizeof *nc);
        if (!nc)
            return AGC_ENOMEM;
        *cuts = nc;
        *cap = c;
    }
    (*cuts)[(*n)++] = v;
    return AGC_OK;
}

agc_status fakellm_split_words(size_t **cuts_out, size_t *n_out, const char *s, size_t len,
                               agc_ctx *ctx)
{
    size_t *cuts = NULL, n = 0, cap = 0;
    size_t min_piece = len > 4096 ? 1024 : 1;
    size_t max_piece = len > 4096 ? 4096 : 48;
    agc_status st = push_cut(&cuts, &n, &cap, 0, ctx);
    size_t start = 0;
    while (!st && start < len) {
        size_t i = start;
        for (;;) {
            while (i < len && s[i] != ' ' && i - start < max_piece)
                i++;
            while (i < len && s[i] == ' ')
                i++;
            if (i >= len || i - start >= min_piece)
                break;
        }
        if (i < len)
            i = boundary(s, len, start, i);
        st = push_cut(&cuts, &n, &cap, i, ctx);
        start = i;
    }
    if (st) {
        agc_free(ctx, cuts);
        return st;
    }
    *cuts_out = cuts;
    *n_out = n - 1;
    return AGC_OK;
}

agc_status fakellm_split_even(size_t **cuts_out, size_t *n_out, const char *s, size_t len,
                              size_t parts, agc_ctx *ctx)
{
    size_t *cuts = NULL, n = 0, cap = 0;
    size_t step = parts ? (len + parts - 1) / parts : len;
    if (!step)
        step = 1;
    agc_status st = push_cut(&cuts, &n, &cap, 0, ctx);
    size_t start = 0;
    while (!st && start < len) {
        size_t i = start + step < len ? boundary(s, len, start, start + step) : len;
        st = push_cut(&cuts, &n, &cap, i, ctx);
        start = i;
    }
    if (st) {
        agc_free(ctx, cuts);
        return st;
    }
    *cuts_out = cuts;
    *n_out = n - 1;
    return AGC_OK;
}

/* ---- errors --------------------------------------------------------------- */

static const char *openai_type(int status)
{
    switch (status) {
    case 400:
        return "invalid_request_error";
    case 401:
        return "authentication_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 429:
        return "rate_limit_error";
    default:
        return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

static const char *openai_code(int status)
{
    switch (status) {
    case 401:
        return "invalid_api_key";
    case 429:
        return "rate_limit_exceeded";
    case 503:
    case 529:
        return "overloaded";
    default:
        return NULL;
    }
}

static const char *anthropic_type(int status)
{
    switch (status) {
    case 400:
        return "invalid_request_error";
    case 401:
        return "authentication_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 413:
        return "request_too_large";
    case 429:
        return "rate_limit_error";
    case 529:
        return "overloaded_error";
    default:
        return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

agc_status fakellm_render_error(fakellm_plan *p, fakellm_wire wire, int status, const char *type,
                                const char *message)
{
    agc_ctx *prev = agc_json_enter(p->ctx);
    json_t *body;
    if (wire == FAKELLM_ANTHROPIC) {
        body = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "type",
                         type ? type : anthropic_type(status), "message", message);
    } else {
        const char *code = openai_code(status);
        body = json_pack("{s:{s:s, s:s, s:o, s:n}}", "error", "message", message, "type",
                         type ? type : openai_type(status), "code",
                         code ? json_string(code) : json_null(), "param");
    }
    agc_json_leave(prev);
    p->status = status;
    agc_status st = set_content_type(p, "application/json");
    if (st) {
        json_decref(body);
        return st;
    }
    return fakellm_plan_body(p, body);
}

/* ---- reading a reply ------------------------------------------------------ */

static const char *const pad_words = "lorem ipsum dolor sit amet consectetur adipiscing elit ";

static agc_status pad_text(fakellm_content *c, size_t want, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = agc_buf_puts(&b, c->text ? c->text : "");
    while (!st && b.len < want)
        st = agc_buf_puts(&b, pad_words);
    if (st) {
        agc_buf_free(&b);
        return st;
    }
    c->text_owned = agc_buf_detach(&b, NULL);
    c->text = c->text_owned;
    return c->text ? AGC_OK : AGC_ENOMEM;
}

static void content_free(fakellm_content *c, agc_ctx *ctx)
{
    for (size_t i = 0; i < c->n_calls; i++)
        agc_free(ctx, c->calls[i].arguments);
    agc_free(ctx, c->calls);
    agc_free(ctx, c->text_owned);
    agc_free(ctx, c->id);
}

static agc_status read_content(fakellm_content *c, const json_t *reply, const fakellm_req *req,
                               agc_ctx *ctx)
{
    memset(c, 0, sizeof *c);
    c->text = agc_json_str(reply, "text", NULL);
    c->thinking = agc_json_str(reply, "thinking", NULL);
    c->signature = agc_json_str(reply, "signature", "fakellm-signature");
    const json_t *calls = json_object_get(reply, "tool_calls");
    size_t n = json_array_size(calls);
    if (n && !(c->calls = agc_calloc(ctx, n, sizeof *c->calls)))
        return AGC_ENOMEM;
    for (size_t i = 0; i < n; i++, c->n_calls++) {
        const json_t *call = json_array_get(calls, i);
        fakellm_call *fc = &c->calls[i];
        fc->id = agc_json_str(call, "id", NULL);
        fc->name = agc_json_str(call, "name", "");
        const json_t *args = json_object_get(call, "arguments");
        if (json_is_string(args)) {
            fc->arguments = agc_strdup(ctx, json_string_value(args));
        } else if (json_is_object(args)) {
            if (agc_json_dump(&fc->arguments, args, JSON_COMPACT, ctx))
                return AGC_ENOMEM;
        } else {
            fc->arguments = agc_strdup(ctx, "{}");
        }
        if (!fc->arguments)
            return AGC_ENOMEM;
    }
    c->finish = agc_json_str(reply, "finish", n ? "tool_calls" : "stop");
    const json_t *usage = json_object_get(reply, "usage");
    c->has_usage = !json_is_false(usage);
    c->input_tokens = agc_json_int(usage, "input_tokens", 10);
    c->output_tokens = agc_json_int(usage, "output_tokens", 5);
    c->cached_input_tokens = agc_json_int(usage, "cached_input_tokens", 0);
    c->cache_write_tokens = agc_json_int(usage, "cache_write_tokens", 0);
    c->reasoning_tokens = agc_json_int(usage, "reasoning_tokens", 0);
    c->model = agc_json_str(reply, "model", req->model ? req->model : "fake-model");
    const char *id = agc_json_str(reply, "id", NULL);
    c->id =
        id ? agc_strdup(ctx, id)
           : agc_sprintf(ctx, req->wire == FAKELLM_ANTHROPIC ? "msg_fake_%lu" : "chatcmpl-fake-%lu",
                         req->seq);
    return c->id ? AGC_OK : AGC_ENOMEM;
}

/* ---- faults that change the body ------------------------------------------ */

/* Cuts the JSON of one event in half so that it no longer parses. */
static agc_status break_event(fakellm_plan *p, size_t i)
{
    char *ev = p->events[i];
    size_t len = p->event_lens[i];
    char *data = strstr(ev, "data: ");
    if (!data)
        return AGC_OK;
    size_t from = (size_t)(data - ev) + 6;
    size_t json_len = len - from;
    while (json_len && (ev[from + json_len - 1] == '\n'))
        json_len--;
    size_t cut = boundary(ev, from + json_len, from, from + json_len / 2);
    memcpy(ev + cut, "\n\n", 3);
    p->event_lens[i] = cut + 2;
    return AGC_OK;
}

static agc_status apply_malformed(fakellm_plan *p)
{
    if (!p->n_events)
        return AGC_OK;
    if (p->stream)
        return break_event(p, p->first_delta < p->n_events ? p->first_delta : 0);
    char *body = p->events[0];
    size_t len = p->event_lens[0];
    size_t cut = boundary(body, len, 0, len / 2);
    body[cut] = '\0';
    p->event_lens[0] = cut;
    return AGC_OK;
}

static agc_status fault_headers(fakellm_plan *p, const json_t *fault)
{
    agc_status st = AGC_OK;
    const json_t *ra = json_object_get(fault, "retry_after");
    const json_t *ram = json_object_get(fault, "retry_after_ms");
    char num[32];
    if (json_is_string(ra)) {
        st = fakellm_plan_header(p, "Retry-After", json_string_value(ra));
    } else if (json_is_integer(ra)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(ra));
        st = fakellm_plan_header(p, "Retry-After", num);
    }
    if (!st && json_is_string(ram)) {
        st = fakellm_plan_header(p, "retry-after-ms", json_string_value(ram));
    } else if (!st && json_is_integer(ram)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(ram));
        st = fakellm_plan_header(p, "retry-after-ms", num);
    }
    return st;
}

agc_status fakellm_render(fakellm_plan *p, const json_t *reply, const fakellm_req *req)
{
    agc_ctx *ctx = p->ctx;
    const json_t *fault = json_object_get(reply, "fault");
    p->delay_ms = (long)agc_json_int(fault, "delay_ms", 0);
    p->drip_ms = (long)agc_json_int(fault, "drip_ms", 0);
    p->split_bytes = (size_t)agc_json_int(fault, "split_bytes", 0);
    p->reset_after_events = (long)agc_json_int(fault, "reset_after_events", -1);
    p->truncate = agc_json_bool(fault, "truncate", false);
    int status = (int)agc_json_int(fault, "status", 200);

    char rid[48];
    const char *request_id = agc_json_str(reply, "request_id", NULL);
    if (!request_id) {
        snprintf(rid, sizeof rid, "req_fake_%lu", req->seq);
        request_id = rid;
    }
    agc_status st = fakellm_plan_header(
        p, req->wire == FAKELLM_ANTHROPIC ? "request-id" : "x-request-id", request_id);
    if (!st)
        st = fault_headers(p, fault);
    if (st)
        return st;

    const char *raw = agc_json_str(fault, "raw_body", NULL);
    if (raw) {
        p->status = status;
        st = set_content_type(p, agc_json_str(fault, "content_type", "application/json"));
        return st ? st : fakellm_plan_add(p, raw, strlen(raw));
    }
    if (status >= 400) {
        char dflt[64];
        snprintf(dflt, sizeof dflt, "fakellm: scripted HTTP %d", status);
        st = fakellm_render_error(p, req->wire, status, agc_json_str(fault, "error_type", NULL),
                                  agc_json_str(fault, "error", dflt));
        if (!st && agc_json_bool(fault, "malformed", false))
            st = apply_malformed(p);
        return st;
    }

    fakellm_content c;
    st = read_content(&c, reply, req, ctx);
    long long oversize = agc_json_int(fault, "oversize_bytes", 0);
    if (!st && oversize > 0)
        st = pad_text(&c, (size_t)oversize, ctx);
    if (!st) {
        p->status = status;
        p->stream = req->stream;
        st = set_content_type(p, req->stream ? "text/event-stream" : "application/json");
    }
    if (!st)
        st = req->wire == FAKELLM_ANTHROPIC ? fakellm_anthropic_body(p, &c, req)
                                            : fakellm_openai_body(p, &c, req);
    content_free(&c, ctx);
    if (!st && agc_json_bool(fault, "malformed", false))
        st = apply_malformed(p);
    if (!st && p->truncate && p->stream && p->n_events > 1) {
        agc_free(ctx, p->events[--p->n_events]);
    }
    return st;
}
