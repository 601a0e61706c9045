/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The normalised chat response and the builder every backend uses to make
 * one, from stream deltas or from whole blocks. The builder forwards each
 * piece to the caller's delta callback as it is added, so streaming order is
 * the order of the add_* calls. Finished responses keep their strings in an
 * arena owned by the response.
 */
#include <string.h>

#include "agentc/buf.h"
#include "agentc/json.h"
#include "provider_int.h"

#define MAX_PARTS 256
#define MAX_CALLS 128

typedef struct bpart {
    agc_part_kind kind;
    agc_buf text;
    json_t *raw;
} bpart;

typedef struct bcall {
    bool used;
    size_t index;
    char *id;
    char *name;
    agc_buf args;
} bcall;

struct agc_response_builder {
    agc_ctx *ctx;
    agc_delta_fn on_delta;
    void *user;
    bool delivered;
    bpart parts[MAX_PARTS];
    size_t n_parts;
    bcall calls[MAX_CALLS];
    size_t n_calls;
    char *id, *model, *request_id, *finish_raw;
    bool has_finish;
    agc_finish_reason finish;
    agc_usage usage;
    const agc_tool_def *tools; /* borrowed: maps wire names back */
    size_t n_tools;
};

const char *agc_finish_reason_name(agc_finish_reason r)
{
    switch (r) {
    case AGC_FINISH_STOP:
        return "stop";
    case AGC_FINISH_LENGTH:
        return "length";
    case AGC_FINISH_TOOL_CALLS:
        return "tool_calls";
    case AGC_FINISH_CONTENT_FILTER:
        return "content_filter";
    case AGC_FINISH_ERROR:
        return "error";
    }
    return "error";
}

static bool finish_from_name(const char *s, agc_finish_reason *r)
{
    static const char *names[] = {"stop", "length", "tool_calls", "content_filter", "error"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *r = (agc_finish_reason)i;
            return true;
        }
    return false;
}

agc_status agc_response_builder_new(agc_response_builder **out, agc_delta_fn on_delta, void *user,
                                    agc_ctx *ctx)
{
    *out = NULL;
    agc_response_builder *b = agc_calloc(ctx, 1, sizeof *b);
    if (!b)
        return AGC_ENOMEM;
    b->ctx = ctx;
    b->on_delta = on_delta;
    b->user = user;
    *out = b;
    return AGC_OK;
}

void agc_response_builder_free(agc_response_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_parts; i++) {
        agc_buf_free(&b->parts[i].text);
        json_decref(b->parts[i].raw);
    }
    for (size_t i = 0; i < b->n_calls; i++) {
        agc_free(b->ctx, b->calls[i].id);
        agc_free(b->ctx, b->calls[i].name);
        agc_buf_free(&b->calls[i].args);
    }
    agc_free(b->ctx, b->id);
    agc_free(b->ctx, b->model);
    agc_free(b->ctx, b->request_id);
    agc_free(b->ctx, b->finish_raw);
    agc_free(b->ctx, b);
}

static agc_status emit(agc_response_builder *b, const agc_delta *d)
{
    if (!b->on_delta)
        return AGC_OK;
    b->delivered = true;
    agc_status st = b->on_delta(d, b->user);
    if (st != AGC_OK && !agc_ctx_last_error(b->ctx))
        agc_error_set(b->ctx, st, "provider", "the stream callback stopped the call (%s)",
                      agc_strerror(st));
    else if (st != AGC_OK)
        agc_error_wrap(b->ctx, st, "provider", "the stream callback stopped the call");
    return st;
}

static bpart *part_for(agc_response_builder *b, agc_part_kind kind, bool force_new)
{
    if (!force_new && b->n_parts > 0 && b->parts[b->n_parts - 1].kind == kind &&
        !b->parts[b->n_parts - 1].raw)
        return &b->parts[b->n_parts - 1];
    if (b->n_parts == MAX_PARTS) {
        agc_error_set(b->ctx, AGC_ELIMIT, "provider", "response has more than %d content parts",
                      MAX_PARTS);
        return NULL;
    }
    bpart *p = &b->parts[b->n_parts++];
    p->kind = kind;
    p->raw = NULL;
    agc_buf_init(&p->text, b->ctx, 0);
    return p;
}

static agc_status add_piece(agc_response_builder *b, agc_part_kind kind, const char *text,
                            size_t len)
{
    if (len == 0)
        return AGC_OK;
    bpart *p = part_for(b, kind, false);
    if (!p)
        return agc_ctx_last_error(b->ctx)->code;
    agc_status st = agc_buf_append(&p->text, text, len);
    if (st != AGC_OK)
        return st;
    agc_delta d = {.kind = kind == AGC_PART_TEXT ? AGC_DELTA_TEXT : AGC_DELTA_THINKING};
    /* hand out a NUL-terminated piece: it is the tail of the part's buffer */
    d.text = p->text.data + p->text.len - len;
    d.text_len = len;
    return emit(b, &d);
}

agc_status agc_response_add_text(agc_response_builder *b, const char *text, size_t len)
{
    return add_piece(b, AGC_PART_TEXT, text, len);
}

agc_status agc_response_add_thinking(agc_response_builder *b, const char *text, size_t len)
{
    return add_piece(b, AGC_PART_THINKING, text, len);
}

agc_status agc_response_set_thinking_raw(agc_response_builder *b, json_t *raw)
{
    bpart *p = NULL;
    if (b->n_parts > 0 && b->parts[b->n_parts - 1].kind == AGC_PART_THINKING)
        p = &b->parts[b->n_parts - 1];
    else
        p = part_for(b, AGC_PART_THINKING, true);
    if (!p)
        return agc_ctx_last_error(b->ctx)->code;
    json_decref(p->raw);
    p->raw = json_incref(raw);
    return AGC_OK;
}

agc_status agc_response_add_raw_thinking(agc_response_builder *b, json_t *raw)
{
    bpart *p = part_for(b, AGC_PART_THINKING, true);
    if (!p)
        return agc_ctx_last_error(b->ctx)->code;
    p->raw = json_incref(raw);
    return AGC_OK;
}

const char *agc_tool_wire_name(char *buf, size_t cap, const char *name)
{
    size_t n = 0;
    for (; name && name[n] && n + 1 < cap && n < 64; n++) {
        unsigned char ch = (unsigned char)name[n];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        buf[n] = ok ? (char)ch : '_';
    }
    if (cap)
        buf[n] = '\0';
    return buf;
}

void agc_response_builder_set_tools(agc_response_builder *b, const agc_tool_def *tools, size_t n)
{
    b->tools = tools;
    b->n_tools = n;
}

/* The request's name of a tool the provider called by its wire name. */
static const char *unwire(const agc_response_builder *b, const char *name)
{
    char w[72];
    for (size_t i = 0; name && i < b->n_tools; i++) {
        const char *orig = b->tools[i].name;
        if (orig && strcmp(orig, name) == 0)
            return name;
    }
    for (size_t i = 0; name && i < b->n_tools; i++) {
        const char *orig = b->tools[i].name;
        if (orig && strcmp(agc_tool_wire_name(w, sizeof w, orig), name) == 0)
            return orig;
    }
    return name;
}

agc_status agc_response_add_tool_call(agc_response_builder *b, size_t index, const char *id,
                                      const char *name, const char *args, size_t args_len)
{
    name = unwire(b, name);
    bcall *c = NULL;
    for (size_t i = 0; i < b->n_calls; i++)
        if (b->calls[i].index == index)
            c = &b->calls[i];
    bool first = false;
    if (!c) {
        if (b->n_calls == MAX_CALLS)
            return agc_error_set(b->ctx, AGC_ELIMIT, "provider",
                                 "response has more than %d tool calls", MAX_CALLS);
        c = &b->calls[b->n_calls++];
        c->used = true;
        c->index = index;
        c->id = c->name = NULL;
        agc_buf_init(&c->args, b->ctx, 0);
        first = true;
    }
    if (id && *id && !c->id) {
        c->id = agc_strdup(b->ctx, id);
        if (!c->id)
            return AGC_ENOMEM;
    }
    if (name && *name && !c->name) {
        c->name = agc_strdup(b->ctx, name);
        if (!c->name)
            return AGC_ENOMEM;
    }
    if (args && args_len) {
        agc_status st = agc_buf_append(&c->args, args, args_len);
        if (st != AGC_OK)
            return st;
    }
    agc_delta d = {.kind = AGC_DELTA_TOOL_CALL, .index = (size_t)(c - b->calls)};
    d.id = first ? c->id : (id ? c->id : NULL);
    d.name = first ? c->name : (name ? c->name : NULL);
    d.arguments_delta = args_len ? c->args.data + c->args.len - args_len : "";
    return emit(b, &d);
}

bool agc_response_delivered(const agc_response_builder *b)
{
    return b->delivered;
}

static agc_status replace_str(agc_ctx *ctx, char **dst, const char *src)
{
    if (!src)
        return AGC_OK;
    char *n = agc_strdup(ctx, src);
    if (!n)
        return AGC_ENOMEM;
    agc_free(ctx, *dst);
    *dst = n;
    return AGC_OK;
}

agc_status agc_response_set_meta(agc_response_builder *b, const char *id, const char *model,
                                 const char *request_id)
{
    agc_status st = replace_str(b->ctx, &b->id, id);
    if (st == AGC_OK)
        st = replace_str(b->ctx, &b->model, model);
    if (st == AGC_OK)
        st = replace_str(b->ctx, &b->request_id, request_id);
    return st;
}

void agc_response_set_usage(agc_response_builder *b, const agc_usage *usage)
{
    b->usage = *usage;
}

void agc_response_merge_usage(agc_response_builder *b, long long input, long long output,
                              long long cached_input, long long cache_write, long long reasoning)
{
    if (input >= 0)
        b->usage.input_tokens = input;
    if (output >= 0)
        b->usage.output_tokens = output;
    if (cached_input >= 0)
        b->usage.cached_input_tokens = cached_input;
    if (cache_write >= 0)
        b->usage.cache_write_tokens = cache_write;
    if (reasoning >= 0)
        b->usage.reasoning_tokens = reasoning;
    b->usage.known = true;
}

agc_status agc_response_set_finish(agc_response_builder *b, agc_finish_reason r, const char *raw)
{
    b->has_finish = true;
    b->finish = r;
    return replace_str(b->ctx, &b->finish_raw, raw);
}

agc_status agc__response_alloc(agc__resp_box **out, agc_ctx *ctx)
{
    *out = NULL;
    agc__resp_box *box = agc_calloc(ctx, 1, sizeof *box);
    if (!box)
        return AGC_ENOMEM;
    box->ctx = ctx;
    agc_status st = agc_arena_new(&box->arena, 0, ctx);
    if (st != AGC_OK) {
        agc_free(ctx, box);
        return st;
    }
    *out = box;
    return AGC_OK;
}

static const char *adup(agc_arena *a, const char *s)
{
    return s ? agc_arena_strdup(a, s) : NULL;
}

agc_status agc_response_builder_finish(agc_chat_response **out, agc_response_builder *b)
{
    *out = NULL;
    agc_ctx *ctx = b->ctx;
    if (!b->has_finish)
        return agc_error_set(ctx, AGC_EPROTO, "provider",
                             "the answer ended without a finish reason (truncated stream?)");
    for (size_t i = 0; i < b->n_calls; i++) {
        bcall *c = &b->calls[i];
        if (!c->id || !c->name)
            return agc_error_set(ctx, AGC_EPROTO, "provider", "tool call #%zu arrived without %s",
                                 i, c->id ? "a name" : "an id");
    }
    agc__resp_box *box = NULL;
    agc_status st = agc__response_alloc(&box, ctx);
    if (st != AGC_OK)
        return st;
    agc_chat_response *r = &box->r;
    agc_arena *a = box->arena;
    r->parts = agc_arena_alloc(a, sizeof *r->parts * (b->n_parts ? b->n_parts : 1));
    r->tool_calls = agc_arena_alloc(a, sizeof *r->tool_calls * (b->n_calls ? b->n_calls : 1));
    if (!r->parts || !r->tool_calls)
        goto oom;
    for (size_t i = 0; i < b->n_parts; i++) {
        agc_part *p = &r->parts[r->n_parts];
        memset(p, 0, sizeof *p);
        p->kind = b->parts[i].kind;
        p->text = agc_arena_strdup(a, agc_buf_cstr(&b->parts[i].text));
        if (!p->text)
            goto oom;
        p->raw = b->parts[i].raw;
        b->parts[i].raw = NULL; /* moved */
        r->n_parts++;
    }
    for (size_t i = 0; i < b->n_calls; i++) {
        agc_tool_call *c = &r->tool_calls[r->n_tool_calls];
        const char *args = b->calls[i].args.len ? agc_buf_cstr(&b->calls[i].args) : "{}";
        json_t *parsed = NULL;
        agc_status pst = agc_json_parse(&parsed, args, strlen(args), "tool call arguments", ctx);
        if (pst == AGC_ENOMEM)
            goto oom;
        /* invalid arguments are kept as sent: the runtime reports them to the model */
        json_decref(parsed);
        c->id = adup(a, b->calls[i].id);
        c->name = adup(a, b->calls[i].name);
        c->arguments = agc_arena_strdup(a, args);
        if (!c->id || !c->name || !c->arguments)
            goto oom;
        r->n_tool_calls++;
    }
    r->finish = b->finish;
    if ((b->finish_raw && !(r->finish_raw = adup(a, b->finish_raw))) ||
        (b->id && !(r->id = adup(a, b->id))) || (b->model && !(r->model = adup(a, b->model))) ||
        (b->request_id && !(r->request_id = adup(a, b->request_id))))
        goto oom;
    r->usage = b->usage;
    r->attempts = 1;
    agc_error_clear(ctx);
    *out = r;
    return AGC_OK;
oom:
    agc_chat_response_free(r);
    return agc_error_set(ctx, AGC_ENOMEM, "provider", "out of memory assembling the response");
}

const char *agc_chat_response_text(const agc_chat_response *resp)
{
    agc__resp_box *box = (agc__resp_box *)resp;
    if (box->text)
        return box->text;
    size_t n = 0, count = 0;
    for (size_t i = 0; i < resp->n_parts; i++)
        if (resp->parts[i].kind == AGC_PART_TEXT) {
            n += strlen(resp->parts[i].text);
            count++;
        }
    if (count == 1)
        for (size_t i = 0; i < resp->n_parts; i++)
            if (resp->parts[i].kind == AGC_PART_TEXT)
                return resp->parts[i].text;
    char *t = agc_arena_alloc(box->arena, n + 1);
    if (!t)
        return "";
    size_t at = 0;
    for (size_t i = 0; i < resp->n_parts; i++)
        if (resp->parts[i].kind == AGC_PART_TEXT) {
            size_t len = strlen(resp->parts[i].text);
            memcpy(t + at, resp->parts[i].text, len);
            at += len;
        }
    t[at] = '\0';
    box->text = t;
    return t;
}

void agc_chat_response_free(agc_chat_response *resp)
{
    if (!resp)
        return;
    agc__resp_box *box = (agc__resp_box *)resp;
    for (size_t i = 0; i < resp->n_parts; i++)
        json_decref(resp->parts[i].raw);
    json_decref(resp->parsed);
    agc_arena_free(box->arena);
    agc_free(box->ctx, box);
}

/* ---- JSON forms ------------------------------------------------------------ */

static const char *role_name(agc_role r)
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

static const char *kind_name(agc_part_kind k)
{
    switch (k) {
    case AGC_PART_TEXT:
        return "text";
    case AGC_PART_IMAGE:
        return "image";
    case AGC_PART_THINKING:
        return "thinking";
    }
    return "text";
}

/* json_pack under the ctx allocator; returns NULL on OOM (error recorded). */
static json_t *part_json(const agc_part *p)
{
    json_t *o = json_pack("{s:s}", "type", kind_name(p->kind));
    if (!o)
        return NULL;
    int rc = 0;
    if (p->text)
        rc |= json_object_set_new(o, "text", json_string(p->text));
    if (p->image_url)
        rc |= json_object_set_new(o, "image_url", json_string(p->image_url));
    if (p->media_type)
        rc |= json_object_set_new(o, "media_type", json_string(p->media_type));
    if (p->raw)
        rc |= json_object_set(o, "raw", p->raw);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *calls_json(const agc_tool_call *calls, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *c = json_pack("{s:s?, s:s?, s:s?}", "id", calls[i].id, "name", calls[i].name,
                              "arguments", calls[i].arguments);
        if (!c || json_array_append_new(a, c)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *agc_chat_request_to_json(const agc_chat_request *req, agc_ctx *ctx)
{
    static const char *choices[] = {"auto", "none", "required", "named"};
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *j = json_object();
    json_t *msgs = json_array();
    json_t *tools = json_array();
    bool ok = j && msgs && tools;
    for (size_t i = 0; ok && i < req->n_messages; i++) {
        const agc_message *m = &req->messages[i];
        json_t *mj = json_pack("{s:s}", "role", role_name(m->role));
        json_t *parts = json_array();
        ok = mj && parts;
        for (size_t k = 0; ok && k < m->n_parts; k++) {
            json_t *pj = part_json(&m->parts[k]);
            ok = pj && json_array_append_new(parts, pj) == 0;
        }
        if (ok)
            ok = json_object_set_new(mj, "content", parts) == 0;
        else
            json_decref(parts);
        if (ok && m->n_tool_calls) {
            json_t *cj = calls_json(m->tool_calls, m->n_tool_calls);
            ok = cj && json_object_set_new(mj, "tool_calls", cj) == 0;
        }
        if (ok && m->tool_call_id)
            ok = json_object_set_new(mj, "tool_call_id", json_string(m->tool_call_id)) == 0;
        if (ok && m->is_error)
            ok = json_object_set_new(mj, "is_error", json_true()) == 0;
        if (ok && m->cache)
            ok = json_object_set_new(mj, "cache", json_true()) == 0;
        if (ok)
            ok = json_array_append_new(msgs, mj) == 0; /* steals mj, also on failure */
        else
            json_decref(mj);
    }
    for (size_t i = 0; ok && i < req->n_tools; i++) {
        const agc_tool_def *t = &req->tools[i];
        json_t *tj = json_pack("{s:s, s:s?, s:O?, s:b}", "name", t->name, "description",
                               t->description, "parameters", t->parameters, "strict", t->strict);
        ok = tj && json_array_append_new(tools, tj) == 0;
    }
    if (ok)
        ok = json_object_set_new(j, "messages", msgs) == 0;
    else
        json_decref(msgs);
    msgs = NULL;
    if (ok)
        ok = json_object_set_new(j, "tools", tools) == 0;
    else
        json_decref(tools);
    if (ok && req->model)
        ok = json_object_set_new(j, "model", json_string(req->model)) == 0;
    if (ok)
        ok = json_object_set_new(j, "tool_choice", json_string(choices[req->tool_choice])) == 0;
    if (ok && req->tool_choice_name)
        ok = json_object_set_new(j, "tool_choice_name", json_string(req->tool_choice_name)) == 0;
    if (ok && req->format == AGC_FORMAT_JSON_SCHEMA)
        ok =
            json_object_set_new(j, "response_format",
                                json_pack("{s:s, s:s?, s:O?, s:b}", "type", "json_schema", "name",
                                          req->response_schema_name, "schema", req->response_schema,
                                          "strict", req->response_schema_strict)) == 0;
    if (ok && req->temperature >= 0)
        ok = json_object_set_new(j, "temperature", json_real(req->temperature)) == 0;
    if (ok && req->top_p >= 0)
        ok = json_object_set_new(j, "top_p", json_real(req->top_p)) == 0;
    if (ok && req->max_tokens > 0)
        ok = json_object_set_new(j, "max_tokens", json_integer(req->max_tokens)) == 0;
    if (ok && req->n_stop) {
        json_t *s = json_array();
        ok = s != NULL;
        for (size_t i = 0; ok && i < req->n_stop; i++)
            ok = json_array_append_new(s, json_string(req->stop[i])) == 0;
        if (ok)
            ok = json_object_set_new(j, "stop", s) == 0;
        else
            json_decref(s);
    }
    if (ok && req->has_seed)
        ok = json_object_set_new(j, "seed", json_integer(req->seed)) == 0;
    if (ok && !req->parallel_tool_calls)
        ok = json_object_set_new(j, "parallel_tool_calls", json_false()) == 0;
    if (ok && req->cache_system)
        ok = json_object_set_new(j, "cache_system", json_true()) == 0;
    if (ok && req->extra)
        ok = json_object_set(j, "extra", (json_t *)req->extra) == 0;
    agc_json_leave(prev);
    if (!ok) {
        json_decref(j);
        agc_error_set(ctx, AGC_ENOMEM, "provider", "out of memory encoding the request");
        return NULL;
    }
    return j;
}

json_t *agc_chat_response_to_json(const agc_chat_response *r, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *parts = json_array();
    bool ok = parts != NULL;
    for (size_t i = 0; ok && i < r->n_parts; i++) {
        json_t *pj = part_json(&r->parts[i]);
        ok = pj && json_array_append_new(parts, pj) == 0;
    }
    json_t *calls = ok ? calls_json(r->tool_calls, r->n_tool_calls) : NULL;
    json_t *usage = NULL;
    if (r->usage.known)
        usage = json_pack("{s:I, s:I, s:I, s:I, s:I}", "input_tokens",
                          (json_int_t)r->usage.input_tokens, "output_tokens",
                          (json_int_t)r->usage.output_tokens, "cached_input_tokens",
                          (json_int_t)r->usage.cached_input_tokens, "cache_write_tokens",
                          (json_int_t)r->usage.cache_write_tokens, "reasoning_tokens",
                          (json_int_t)r->usage.reasoning_tokens);
    else
        usage = json_null();
    json_t *j = NULL;
    if (ok && calls && usage)
        j = json_pack("{s:o, s:o, s:s, s:s?, s:s?, s:s?, s:o}", "content", parts, "tool_calls",
                      calls, "finish_reason", agc_finish_reason_name(r->finish), "finish_raw",
                      r->finish_raw, "model", r->model, "id", r->id, "usage", usage);
    else {
        json_decref(parts);
        json_decref(calls);
        json_decref(usage);
    }
    if (j && r->request_id && json_object_set_new(j, "request_id", json_string(r->request_id))) {
        json_decref(j);
        j = NULL;
    }
    agc_json_leave(prev);
    if (!j)
        agc_error_set(ctx, AGC_ENOMEM, "provider", "out of memory encoding the response");
    return j;
}

agc_status agc__response_rebuild(agc_chat_response **out, const json_t *j, agc_delta_fn on_delta,
                                 void *user, agc_ctx *ctx)
{
    *out = NULL;
    const char *fin = agc_json_str(j, "finish_reason", NULL);
    agc_finish_reason fr;
    if (!json_is_object(j) || !fin || !finish_from_name(fin, &fr))
        return agc_error_set(ctx, AGC_EPARSE, "provider",
                             "recorded response lacks a valid \"finish_reason\"");
    agc_response_builder *b = NULL;
    agc_status st = agc_response_builder_new(&b, on_delta, user, ctx);
    if (st != AGC_OK)
        return st;
    json_t *parts = json_object_get(j, "content");
    size_t i;
    json_t *v;
    json_array_foreach(parts, i, v)
    {
        const char *type = agc_json_str(v, "type", "text");
        const char *text = agc_json_str(v, "text", "");
        json_t *raw = json_object_get(v, "raw");
        if (strcmp(type, "thinking") == 0) {
            if (*text)
                st = agc_response_add_thinking(b, text, strlen(text));
            if (st == AGC_OK && raw)
                st = *text ? agc_response_set_thinking_raw(b, raw)
                           : agc_response_add_raw_thinking(b, raw);
        } else {
            st = agc_response_add_text(b, text, strlen(text));
        }
        if (st != AGC_OK)
            goto done;
    }
    json_array_foreach(json_object_get(j, "tool_calls"), i, v)
    {
        const char *args = agc_json_str(v, "arguments", "");
        st = agc_response_add_tool_call(b, i, agc_json_str(v, "id", NULL),
                                        agc_json_str(v, "name", NULL), args, strlen(args));
        if (st != AGC_OK)
            goto done;
    }
    json_t *u = json_object_get(j, "usage");
    if (json_is_object(u))
        agc_response_merge_usage(
            b, agc_json_int(u, "input_tokens", 0), agc_json_int(u, "output_tokens", 0),
            agc_json_int(u, "cached_input_tokens", 0), agc_json_int(u, "cache_write_tokens", 0),
            agc_json_int(u, "reasoning_tokens", 0));
    st = agc_response_set_meta(b, agc_json_str(j, "id", NULL), agc_json_str(j, "model", NULL),
                               agc_json_str(j, "request_id", NULL));
    if (st == AGC_OK)
        st = agc_response_set_finish(b, fr, agc_json_str(j, "finish_raw", NULL));
    if (st == AGC_OK)
        st = agc_response_builder_finish(out, b);
done:
    agc_response_builder_free(b);
    return st;
}

agc_status agc_chat_response_from_json(agc_chat_response **out, const json_t *j, agc_ctx *ctx)
{
    return agc__response_rebuild(out, j, NULL, NULL, ctx);
}
