/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The OpenAI chat-completions wire as pure functions: request body encoding
 * and decoding of whole responses, stream chunks and error bodies into the
 * response builder. Every malformed input becomes AGC_EPROTO naming what was
 * wrong, never a crash or a silently empty answer. No I/O, no keys here.
 * Only choice 0 is read (n > 1 is not supported).
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "openai_int.h"

/* ---- encoding ------------------------------------------------------------------ */

typedef struct enc {
    agc_ctx *ctx;
    agc_status st; /* first failure */
} enc;

static void efail(enc *e, const char *what)
{
    if (e->st != AGC_OK)
        return;
    if (agc_json_oom(e->ctx))
        e->st = agc_error_set(e->ctx, AGC_ENOMEM, "openai", "out of memory encoding %s", what);
    else
        e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai", "%s is not valid UTF-8 text", what);
}

static json_t *estr(enc *e, const char *s, const char *what)
{
    json_t *v = json_string(s ? s : "");
    if (!v)
        efail(e, what);
    return v;
}

static json_t *enew(enc *e, json_t *v, const char *what)
{
    if (!v)
        efail(e, what);
    return v;
}

/* Sets o[key] = v (stolen); a NULL v or o records the failure. */
static void eset(enc *e, json_t *o, const char *key, json_t *v, const char *what)
{
    if (!v || !o) {
        json_decref(v);
        efail(e, what);
        return;
    }
    if (json_object_set_new(o, key, v))
        efail(e, what);
}

static void eappend(enc *e, json_t *a, json_t *v, const char *what)
{
    if (!v || !a) {
        json_decref(v);
        efail(e, what);
        return;
    }
    if (json_array_append_new(a, v))
        efail(e, what);
}

static const char *role_wire(agc_role r)
{
    switch (r) {
    case AGC_ROLE_SYSTEM:
        return "system";
    case AGC_ROLE_USER:
        return "user";
    case AGC_ROLE_ASSISTANT:
        return "assistant";
    case AGC_ROLE_TOOL:
        return "tool";
    }
    return "user";
}

/* content: a string for one text part, an array of parts otherwise, null/"" when empty. */
static json_t *content_json(enc *e, const agc_message *m, size_t mi)
{
    char what[96];
    size_t n_text = 0, n_img = 0;
    const agc_part *only = NULL;
    for (size_t k = 0; k < m->n_parts; k++) {
        if (m->parts[k].kind == AGC_PART_TEXT) {
            n_text++;
            only = &m->parts[k];
        } else if (m->parts[k].kind == AGC_PART_IMAGE) {
            n_img++;
        }
    }
    if (n_img && m->role != AGC_ROLE_USER) {
        e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai",
                              "message %zu (%s): images are only supported in user messages "
                              "on the OpenAI chat wire",
                              mi, role_wire(m->role));
        return NULL;
    }
    snprintf(what, sizeof what, "message %zu (%s) text", mi, role_wire(m->role));
    if (n_img == 0 && n_text == 1)
        return estr(e, only->text, what);
    if (n_img == 0 && n_text == 0)
        return enew(
            e, m->role == AGC_ROLE_ASSISTANT && m->n_tool_calls ? json_null() : json_string(""),
            what);
    json_t *arr = enew(e, json_array(), what);
    for (size_t k = 0; e->st == AGC_OK && k < m->n_parts; k++) {
        const agc_part *p = &m->parts[k];
        if (p->kind == AGC_PART_THINKING)
            continue;
        json_t *pj = enew(e, json_object(), what);
        if (p->kind == AGC_PART_TEXT) {
            eset(e, pj, "type", json_string("text"), what);
            eset(e, pj, "text", estr(e, p->text, what), what);
        } else {
            if (!p->image_url || !*p->image_url) {
                json_decref(pj);
                json_decref(arr);
                e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai",
                                      "message %zu part %zu: an image part needs image_url", mi, k);
                return NULL;
            }
            json_t *iu = enew(e, json_object(), what);
            eset(e, iu, "url", estr(e, p->image_url, "image_url"), what);
            eset(e, pj, "type", json_string("image_url"), what);
            eset(e, pj, "image_url", iu, what);
        }
        eappend(e, arr, pj, what);
    }
    if (e->st != AGC_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *tool_calls_json(enc *e, const agc_message *m, size_t mi)
{
    char what[96];
    snprintf(what, sizeof what, "message %zu tool call", mi);
    json_t *arr = enew(e, json_array(), what);
    for (size_t i = 0; e->st == AGC_OK && i < m->n_tool_calls; i++) {
        const agc_tool_call *c = &m->tool_calls[i];
        if (!c->id || !c->name) {
            json_decref(arr);
            e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai",
                                  "message %zu tool call %zu needs an id and a name", mi, i);
            return NULL;
        }
        char wn[72];
        json_t *fn = enew(e, json_object(), what);
        eset(e, fn, "name", estr(e, agc_tool_wire_name(wn, sizeof wn, c->name), what), what);
        eset(e, fn, "arguments", estr(e, c->arguments && *c->arguments ? c->arguments : "{}", what),
             what);
        json_t *cj = enew(e, json_object(), what);
        eset(e, cj, "id", estr(e, c->id, what), what);
        eset(e, cj, "type", json_string("function"), what);
        eset(e, cj, "function", fn, what);
        eappend(e, arr, cj, what);
    }
    if (e->st != AGC_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *message_json(enc *e, const agc_message *m, size_t mi)
{
    if (m->role == AGC_ROLE_TOOL && (!m->tool_call_id || !*m->tool_call_id)) {
        e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai",
                              "message %zu: a tool result needs tool_call_id", mi);
        return NULL;
    }
    json_t *mj = enew(e, json_object(), "message");
    eset(e, mj, "role", json_string(role_wire(m->role)), "message");
    eset(e, mj, "content", content_json(e, m, mi), "message content");
    if (m->role == AGC_ROLE_ASSISTANT && m->n_tool_calls)
        eset(e, mj, "tool_calls", tool_calls_json(e, m, mi), "tool calls");
    if (m->role == AGC_ROLE_TOOL)
        eset(e, mj, "tool_call_id", estr(e, m->tool_call_id, "tool_call_id"), "tool_call_id");
    if (e->st != AGC_OK) {
        json_decref(mj);
        return NULL;
    }
    return mj;
}

static json_t *tools_json(enc *e, const agc_chat_request *req)
{
    json_t *arr = enew(e, json_array(), "tools");
    for (size_t i = 0; e->st == AGC_OK && i < req->n_tools; i++) {
        const agc_tool_def *t = &req->tools[i];
        char what[96];
        snprintf(what, sizeof what, "tool %zu", i);
        if (!t->name || !*t->name) {
            json_decref(arr);
            e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai", "tool %zu has no name", i);
            return NULL;
        }
        char wn[72];
        json_t *fn = enew(e, json_object(), what);
        eset(e, fn, "name", estr(e, agc_tool_wire_name(wn, sizeof wn, t->name), what), what);
        if (t->description)
            eset(e, fn, "description", estr(e, t->description, what), what);
        json_t *params = t->parameters ? json_deep_copy(t->parameters)
                                       : json_pack("{s:s, s:{}}", "type", "object", "properties");
        eset(e, fn, "parameters", params, what);
        if (t->strict)
            eset(e, fn, "strict", json_true(), what);
        json_t *tj = enew(e, json_object(), what);
        eset(e, tj, "type", json_string("function"), what);
        eset(e, tj, "function", fn, what);
        eappend(e, arr, tj, what);
    }
    if (e->st != AGC_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *tool_choice_json(enc *e, const agc_chat_request *req)
{
    switch (req->tool_choice) {
    case AGC_TOOL_CHOICE_AUTO:
        return enew(e, json_string("auto"), "tool_choice");
    case AGC_TOOL_CHOICE_NONE:
        return enew(e, json_string("none"), "tool_choice");
    case AGC_TOOL_CHOICE_REQUIRED:
        return enew(e, json_string("required"), "tool_choice");
    case AGC_TOOL_CHOICE_NAMED:
        break;
    }
    char wn[72];
    json_t *fn = enew(e, json_object(), "tool_choice");
    eset(e, fn, "name",
         estr(e,
              req->tool_choice_name ? agc_tool_wire_name(wn, sizeof wn, req->tool_choice_name)
                                    : NULL,
              "tool_choice name"),
         "tool_choice");
    json_t *tc = enew(e, json_object(), "tool_choice");
    eset(e, tc, "type", json_string("function"), "tool_choice");
    eset(e, tc, "function", fn, "tool_choice");
    return tc;
}

static json_t *response_format_json(enc *e, const agc_chat_request *req)
{
    json_t *js = enew(e, json_object(), "response_format");
    const char *name = req->response_schema_name && *req->response_schema_name
                           ? req->response_schema_name
                           : "response";
    eset(e, js, "name", estr(e, name, "response_schema_name"), "response_format");
    eset(e, js, "schema", json_deep_copy(req->response_schema), "response_format");
    eset(e, js, "strict", json_boolean(req->response_schema_strict), "response_format");
    json_t *rf = enew(e, json_object(), "response_format");
    eset(e, rf, "type", json_string("json_schema"), "response_format");
    eset(e, rf, "json_schema", js, "response_format");
    return rf;
}

static void encode_body(enc *e, json_t *body, const agc_chat_request *req, const agc__oai_quirks *q,
                        bool stream)
{
    if (!req->model || !*req->model) {
        e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai", "the request names no model");
        return;
    }
    eset(e, body, "model", estr(e, req->model, "model"), "model");
    json_t *msgs = enew(e, json_array(), "messages");
    for (size_t i = 0; e->st == AGC_OK && i < req->n_messages; i++)
        eappend(e, msgs, message_json(e, &req->messages[i], i), "messages");
    eset(e, body, "messages", msgs, "messages");
    if (req->n_tools) {
        eset(e, body, "tools", tools_json(e, req), "tools");
        eset(e, body, "tool_choice", tool_choice_json(e, req), "tool_choice");
        if (!req->parallel_tool_calls)
            eset(e, body, "parallel_tool_calls", json_false(), "parallel_tool_calls");
    }
    if (req->format == AGC_FORMAT_JSON_SCHEMA && req->response_schema)
        eset(e, body, "response_format", response_format_json(e, req), "response_format");
    if (req->temperature >= 0)
        eset(e, body, "temperature", json_real(req->temperature), "temperature");
    if (req->top_p >= 0)
        eset(e, body, "top_p", json_real(req->top_p), "top_p");
    if (req->max_tokens > 0)
        eset(e, body, q && q->max_completion_tokens ? "max_completion_tokens" : "max_tokens",
             json_integer(req->max_tokens), "max_tokens");
    if (req->n_stop) {
        json_t *stop = enew(e, json_array(), "stop");
        for (size_t i = 0; e->st == AGC_OK && i < req->n_stop; i++)
            eappend(e, stop, estr(e, req->stop[i], "stop sequence"), "stop");
        eset(e, body, "stop", stop, "stop");
    }
    if (req->has_seed)
        eset(e, body, "seed", json_integer(req->seed), "seed");
    if (stream) {
        eset(e, body, "stream", json_true(), "stream");
        eset(e, body, "stream_options", json_pack("{s:b}", "include_usage", 1), "stream_options");
    }
    if (req->extra && e->st == AGC_OK) {
        if (!json_is_object(req->extra)) {
            e->st = agc_error_set(e->ctx, AGC_EINVAL, "openai",
                                  "request extra must be a JSON object, not %s",
                                  agc_json_type_name(req->extra));
            return;
        }
        json_t *copy = json_deep_copy(req->extra);
        if (!copy || json_object_update(body, copy))
            efail(e, "request extra");
        json_decref(copy);
    }
}

agc_status agc__oai_encode_request(json_t **out, const agc_chat_request *req,
                                   const agc__oai_quirks *q, bool stream, agc_ctx *ctx)
{
    *out = NULL;
    enc e = {ctx, AGC_OK};
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *body = enew(&e, json_object(), "request");
    if (body)
        encode_body(&e, body, req, q, stream);
    agc_json_leave(prev);
    if (e.st != AGC_OK) {
        json_decref(body);
        return e.st;
    }
    *out = body;
    return AGC_OK;
}

/* ---- errors ---------------------------------------------------------------------- */

/* Copies at most cap-1 bytes of s, replacing control bytes by spaces; keeps UTF-8 whole. */
static void sanitise(char *dst, size_t cap, const char *s, size_t len)
{
    size_t j = 0;
    size_t i = 0;
    while (i < len && j + 1 < cap) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
            i++;
            continue;
        }
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        bool ok = n > 1 && i + n <= len;
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
        if (!ok) {
            dst[j++] = '?';
            i++;
            continue;
        }
        if (j + n + 1 > cap)
            break;
        memcpy(dst + j, s + i, n);
        j += n;
        i += n;
    }
    dst[j] = '\0';
}

int agc__oai_error_status(const char *type)
{
    static const struct {
        const char *type;
        int status;
    } map[] = {
        {"invalid_request_error", 400}, {"invalid_request", 400},     {"authentication_error", 401},
        {"invalid_api_key", 401},       {"permission_error", 403},    {"not_found_error", 404},
        {"model_not_found", 404},       {"rate_limit_exceeded", 429}, {"rate_limit_error", 429},
        {"insufficient_quota", 429},    {"overloaded_error", 529},    {"overloaded", 529},
        {"server_error", 500},          {"api_error", 500},           {"timeout", 504},
    };
    if (type)
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcmp(type, map[i].type) == 0)
                return map[i].status;
    return 500;
}

/* Fills err from an "error" member: an object or a plain string. */
static void error_from_json(agc__oai_err *err, const json_t *ej, agc_ctx *ctx)
{
    err->present = true;
    err->message[0] = err->type[0] = '\0';
    if (json_is_string(ej)) {
        sanitise(err->message, sizeof err->message, json_string_value(ej), json_string_length(ej));
        return;
    }
    const char *msg = agc_json_str(ej, "message", NULL);
    const char *type = agc_json_str(ej, "type", NULL);
    const json_t *code = json_object_get(ej, "code");
    if (msg)
        sanitise(err->message, sizeof err->message, msg, strlen(msg));
    if (type)
        sanitise(err->type, sizeof err->type, type, strlen(type));
    else if (json_is_string(code))
        sanitise(err->type, sizeof err->type, json_string_value(code), json_string_length(code));
    if (!msg) {
        char *dump = NULL;
        if (agc_json_dump(&dump, ej, JSON_COMPACT, ctx) == AGC_OK)
            sanitise(err->message, 201, dump, strlen(dump));
        agc_free(ctx, dump);
        agc_error_clear(ctx);
    }
}

void agc__oai_parse_error_body(agc__oai_err *err, const char *body, size_t len, agc_ctx *ctx)
{
    err->present = true;
    err->message[0] = err->type[0] = '\0';
    json_t *j = NULL;
    if (len && agc_json_parse(&j, body, len, "error body", ctx) == AGC_OK) {
        const json_t *ej = json_object_get(j, "error");
        if (ej && !json_is_null(ej)) {
            error_from_json(err, ej, ctx);
        } else if (agc_json_str(j, "message", NULL)) {
            const char *m = agc_json_str(j, "message", NULL);
            sanitise(err->message, sizeof err->message, m, strlen(m));
        } else {
            sanitise(err->message, 201, body, len);
        }
        json_decref(j);
        agc_error_clear(ctx);
        return;
    }
    agc_error_clear(ctx);
    sanitise(err->message, 201, body, len);
}

/* ---- decoding helpers ------------------------------------------------------------- */

agc_finish_reason agc__oai_finish(const char *raw)
{
    if (!raw || strcmp(raw, "stop") == 0)
        return AGC_FINISH_STOP;
    if (strcmp(raw, "length") == 0)
        return AGC_FINISH_LENGTH;
    if (strcmp(raw, "tool_calls") == 0 || strcmp(raw, "function_call") == 0)
        return AGC_FINISH_TOOL_CALLS;
    if (strcmp(raw, "content_filter") == 0)
        return AGC_FINISH_CONTENT_FILTER;
    if (strcmp(raw, "error") == 0)
        return AGC_FINISH_ERROR;
    return AGC_FINISH_STOP; /* "eos", "end_turn", ...: servers' own words for a normal end */
}

static agc_status proto(agc_ctx *ctx, const char *backend, const char *what)
{
    return agc_error_set(ctx, AGC_EPROTO, "openai", "%s: malformed answer: %s", backend, what);
}

static agc_status add_str_text(agc_response_builder *b, const json_t *v, bool thinking)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return AGC_OK;
    return thinking ? agc_response_add_thinking(b, json_string_value(v), json_string_length(v))
                    : agc_response_add_text(b, json_string_value(v), json_string_length(v));
}

static void read_usage(agc_response_builder *b, const json_t *u)
{
    agc_usage us = {0};
    us.input_tokens = agc_json_int(u, "prompt_tokens", 0);
    us.output_tokens = agc_json_int(u, "completion_tokens", 0);
    us.cached_input_tokens =
        agc_json_int(json_object_get(u, "prompt_tokens_details"), "cached_tokens", 0);
    us.reasoning_tokens =
        agc_json_int(json_object_get(u, "completion_tokens_details"), "reasoning_tokens", 0);
    us.known = true;
    agc_response_set_usage(b, &us);
}

static agc_status set_meta(agc_response_builder *b, const json_t *j)
{
    return agc_response_set_meta(b, agc_json_str(j, "id", NULL), agc_json_str(j, "model", NULL),
                                 NULL);
}

/* Arguments as sent: a string, or an object some servers send, serialised. */
static agc_status call_args(const json_t *fn, char **dumped, const char **args, size_t *len,
                            agc_ctx *ctx)
{
    const json_t *a = json_object_get(fn, "arguments");
    *dumped = NULL;
    *args = NULL;
    *len = 0;
    if (json_is_string(a)) {
        *args = json_string_value(a);
        *len = json_string_length(a);
    } else if (json_is_object(a)) {
        agc_status st = agc_json_dump(dumped, a, JSON_COMPACT, ctx);
        if (st != AGC_OK)
            return st;
        *args = *dumped;
        *len = strlen(*dumped);
    } else if (a && !json_is_null(a)) {
        return AGC_EPROTO;
    }
    return AGC_OK;
}

/* ---- whole responses --------------------------------------------------------------- */

static agc_status decode_message(agc_response_builder *b, const json_t *msg, bool *refused,
                                 size_t *n_calls, const char *backend, agc_ctx *ctx)
{
    agc_status st = add_str_text(b, json_object_get(msg, "reasoning_content"), true);
    if (st == AGC_OK)
        st = add_str_text(b, json_object_get(msg, "reasoning"), true);
    const json_t *content = json_object_get(msg, "content");
    if (st == AGC_OK && json_is_array(content)) {
        size_t i;
        const json_t *p;
        json_array_foreach(content, i, p)
        {
            if (st == AGC_OK)
                st = add_str_text(b, json_object_get(p, "text"), false);
        }
    } else if (st == AGC_OK && content && !json_is_null(content)) {
        if (!json_is_string(content))
            return proto(ctx, backend, "choices[0].message.content is neither text nor null");
        st = add_str_text(b, content, false);
    }
    const json_t *refusal = json_object_get(msg, "refusal");
    if (st == AGC_OK && json_is_string(refusal) && json_string_length(refusal)) {
        *refused = true;
        st = add_str_text(b, refusal, false);
    }
    const json_t *calls = json_object_get(msg, "tool_calls");
    if (st == AGC_OK && calls && !json_is_null(calls) && !json_is_array(calls))
        return proto(ctx, backend, "choices[0].message.tool_calls is not an array");
    size_t i;
    const json_t *c;
    json_array_foreach(calls, i, c)
    {
        if (st != AGC_OK)
            break;
        const json_t *fn = json_object_get(c, "function");
        const char *name = agc_json_str(fn, "name", NULL);
        if (!json_is_object(fn) || !name)
            return proto(ctx, backend, "a tool call has no function name");
        char synth[32];
        const char *id = agc_json_str(c, "id", NULL);
        if (!id || !*id) {
            snprintf(synth, sizeof synth, "call_%zu", i);
            id = synth;
        }
        char *dumped = NULL;
        const char *args = NULL;
        size_t alen = 0;
        st = call_args(fn, &dumped, &args, &alen, ctx);
        if (st == AGC_EPROTO)
            return proto(ctx, backend, "tool call arguments are neither a string nor an object");
        if (st == AGC_OK)
            st = agc_response_add_tool_call(b, i, id, name, args, alen);
        agc_free(ctx, dumped);
        (*n_calls)++;
    }
    const json_t *fc = json_object_get(msg, "function_call"); /* legacy functions API */
    if (st == AGC_OK && json_is_object(fc) && agc_json_str(fc, "name", NULL)) {
        char *dumped = NULL;
        const char *args = NULL;
        size_t alen = 0;
        st = call_args(fc, &dumped, &args, &alen, ctx);
        if (st == AGC_EPROTO)
            return proto(ctx, backend,
                         "function_call arguments are neither a string nor an object");
        if (st == AGC_OK)
            st = agc_response_add_tool_call(b, *n_calls, "call_function",
                                            agc_json_str(fc, "name", NULL), args, alen);
        agc_free(ctx, dumped);
        (*n_calls)++;
    }
    return st;
}

static agc_status set_final_finish(agc_response_builder *b, const char *raw, bool refused,
                                   size_t n_calls)
{
    agc_finish_reason r = agc__oai_finish(raw);
    if (refused && r == AGC_FINISH_STOP)
        r = AGC_FINISH_CONTENT_FILTER;
    else if (n_calls && r == AGC_FINISH_STOP)
        r = AGC_FINISH_TOOL_CALLS;
    return agc_response_set_finish(b, r, raw && *raw ? raw : NULL);
}

agc_status agc__oai_decode_response(agc_response_builder *b, const char *body, size_t len,
                                    agc__oai_err *err, const char *backend, agc_ctx *ctx)
{
    json_t *j = NULL;
    agc_status st = agc_json_parse(&j, body, len, "response body", ctx);
    if (st == AGC_EPARSE)
        return agc_error_wrap(ctx, AGC_EPROTO, "openai", "%s: malformed JSON in the response body",
                              backend);
    if (st != AGC_OK)
        return st;
    const json_t *ej = json_object_get(j, "error");
    const json_t *choices = json_object_get(j, "choices");
    const json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    const json_t *usage = json_object_get(j, "usage");
    bool refused = false;
    size_t n_calls = 0;
    if (!json_is_object(j)) {
        st = proto(ctx, backend, "the response body is not a JSON object");
    } else if (ej && !json_is_null(ej)) {
        error_from_json(err, ej, ctx);
        err->status = agc__oai_error_status(err->type);
        st = AGC_EHTTP;
    } else if (!json_is_array(choices) || json_array_size(choices) == 0) {
        st = proto(ctx, backend, "the response has no choices");
    } else if (!json_is_object(msg)) {
        st = proto(ctx, backend, "choices[0] has no message object");
    } else {
        st = set_meta(b, j);
        if (st == AGC_OK)
            st = decode_message(b, msg, &refused, &n_calls, backend, ctx);
        if (st == AGC_OK)
            st =
                set_final_finish(b, agc_json_str(json_array_get(choices, 0), "finish_reason", NULL),
                                 refused, n_calls);
        if (st == AGC_OK && json_is_object(usage))
            read_usage(b, usage);
    }
    json_decref(j);
    return st;
}

/* ---- streams ------------------------------------------------------------------------ */

static void first_delta(agc__oai_stream *s)
{
    if (!s->got_first) {
        s->got_first = true;
        s->first_delta_ns = agc_clock_monotonic_ns(s->ctx);
    }
}

static agc_status stream_tool_call(agc__oai_stream *s, const json_t *tc)
{
    const json_t *fn = json_object_get(tc, "function");
    const char *id = agc_json_str(tc, "id", NULL);
    const char *name = agc_json_str(fn, "name", NULL);
    const json_t *jidx = json_object_get(tc, "index");
    size_t key;
    if (json_is_integer(jidx) && json_integer_value(jidx) >= 0) {
        key = (size_t)json_integer_value(jidx);
    } else if (id && *id && strcmp(id, s->last_id) != 0) {
        key = ((size_t)1 << 20) | s->n_synth++; /* servers without index: one call per new id */
    } else if (s->n_calls) {
        key = s->last_key;
    } else {
        return proto(s->ctx, s->backend, "a streamed tool call has neither index nor id");
    }
    char *dumped = NULL;
    const char *args = NULL;
    size_t alen = 0;
    agc_status st = call_args(fn, &dumped, &args, &alen, s->ctx);
    if (st == AGC_EPROTO)
        return proto(s->ctx, s->backend, "streamed tool call arguments are not a string");
    if (st != AGC_OK)
        return st;
    if (id && *id)
        snprintf(s->last_id, sizeof s->last_id, "%s", id);
    s->n_calls++;
    s->last_key = key;
    first_delta(s);
    st = agc_response_add_tool_call(s->b, key, id, name, args, alen);
    agc_free(s->ctx, dumped);
    return st;
}

static agc_status stream_choice(agc__oai_stream *s, const json_t *choice)
{
    const json_t *delta = json_object_get(choice, "delta");
    agc_status st = AGC_OK;
    if (json_is_object(delta)) {
        const json_t *v;
        const char *keys[] = {"reasoning_content", "reasoning"};
        for (int k = 0; k < 2 && st == AGC_OK; k++)
            if (json_is_string(v = json_object_get(delta, keys[k])) && json_string_length(v)) {
                first_delta(s);
                st = add_str_text(s->b, v, true);
            }
        v = json_object_get(delta, "content");
        if (st == AGC_OK && v && !json_is_null(v) && !json_is_string(v))
            return proto(s->ctx, s->backend, "a stream delta's content is not text");
        if (st == AGC_OK && json_is_string(v) && json_string_length(v)) {
            first_delta(s);
            st = add_str_text(s->b, v, false);
        }
        v = json_object_get(delta, "refusal");
        if (st == AGC_OK && json_is_string(v) && json_string_length(v)) {
            first_delta(s);
            s->refused = true;
            st = add_str_text(s->b, v, false);
        }
        const json_t *calls = json_object_get(delta, "tool_calls");
        if (st == AGC_OK && calls && !json_is_null(calls) && !json_is_array(calls))
            return proto(s->ctx, s->backend, "a stream delta's tool_calls is not an array");
        size_t i;
        const json_t *tc;
        json_array_foreach(calls, i, tc)
        {
            if (st == AGC_OK)
                st = stream_tool_call(s, tc);
        }
    } else if (delta && !json_is_null(delta)) {
        return proto(s->ctx, s->backend, "a stream chunk's delta is not an object");
    }
    const char *fin = agc_json_str(choice, "finish_reason", NULL);
    if (st == AGC_OK && fin) {
        s->finished = true;
        snprintf(s->finish_raw, sizeof s->finish_raw, "%s", fin);
    }
    return st;
}

agc_status agc__oai_stream_event(agc__oai_stream *s, const char *data, size_t len)
{
    while (len && (data[0] == ' ' || data[0] == '\t' || data[0] == '\n' || data[0] == '\r')) {
        data++;
        len--;
    }
    while (len && (data[len - 1] == ' ' || data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (s->done || len == 0)
        return AGC_OK;
    s->n_events++;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        s->done = true;
        return AGC_OK;
    }
    json_t *j = NULL;
    agc_status st = agc_json_parse(&j, data, len, "stream event", s->ctx);
    if (st == AGC_EPARSE)
        return agc_error_wrap(s->ctx, AGC_EPROTO, "openai",
                              "%s: malformed JSON in stream event #%zu", s->backend, s->n_events);
    if (st != AGC_OK)
        return st;
    const json_t *ej = json_object_get(j, "error");
    const json_t *choices = json_object_get(j, "choices");
    const json_t *usage = json_object_get(j, "usage");
    if (!json_is_object(j)) {
        st = proto(s->ctx, s->backend, "a stream event is not a JSON object");
    } else if (ej && !json_is_null(ej)) {
        error_from_json(&s->err, ej, s->ctx);
        s->err.status = agc__oai_error_status(s->err.type);
        st = AGC_EHTTP;
    } else if (choices && !json_is_null(choices) && !json_is_array(choices)) {
        st = proto(s->ctx, s->backend, "a stream chunk's choices is not an array");
    } else {
        if (!s->meta_set) {
            st = set_meta(s->b, j);
            s->meta_set = true;
        }
        if (st == AGC_OK && json_is_object(usage))
            read_usage(s->b, usage);
        size_t i;
        const json_t *c;
        json_array_foreach(choices, i, c)
        {
            if (st == AGC_OK && agc_json_int(c, "index", 0) == 0)
                st = stream_choice(s, c);
        }
    }
    json_decref(j);
    return st;
}

agc_status agc__oai_stream_end(agc__oai_stream *s)
{
    if (!s->done && !s->finished)
        return agc_error_set(s->ctx, AGC_EPROTO, "openai",
                             "%s: stream truncated: it ended without a finish reason or [DONE] "
                             "after %zu events",
                             s->backend, s->n_events);
    return set_final_finish(s->b, s->finished ? s->finish_raw : NULL, s->refused, s->n_calls);
}
