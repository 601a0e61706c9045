/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm Anthropic Messages bodies: a message object, or the named SSE
 * events (message_start with the input usage, ping, per block
 * content_block_start / _delta / _stop with text_delta, thinking_delta +
 * signature_delta and input_json_delta pieces, message_delta with the stop
 * reason and output usage, message_stop). The script's usage is normalised
 * (input_tokens counts cached reads and writes): here it is split back into
 * Anthropic's input_tokens, cache_read_input_tokens and cache_creation_input_tokens.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "fakellm.h"

static const char *stop_reason(const char *f)
{
    if (!strcmp(f, "stop"))
        return "end_turn";
    if (!strcmp(f, "length"))
        return "max_tokens";
    if (!strcmp(f, "tool_calls"))
        return "tool_use";
    if (!strcmp(f, "content_filter"))
        return "refusal";
    return f; /* Anthropic's own names pass through */
}

static json_t *an_usage_json(const fakellm_content *c, bool start)
{
    long long plain = c->input_tokens - c->cached_input_tokens - c->cache_write_tokens;
    return json_pack("{s:I, s:I, s:I, s:I}", "input_tokens", (json_int_t)(plain > 0 ? plain : 0),
                     "output_tokens", (json_int_t)(start ? 1 : c->output_tokens),
                     "cache_creation_input_tokens", (json_int_t)c->cache_write_tokens,
                     "cache_read_input_tokens", (json_int_t)c->cached_input_tokens);
}

static char *an_call_id(const fakellm_call *call, size_t i, agc_ctx *ctx)
{
    return call->id ? agc_strdup(ctx, call->id) : agc_sprintf(ctx, "toolu_fake_%zu", i);
}

/* The arguments as an input object; text that does not parse is sent as a string. */
static json_t *call_input(const fakellm_call *call)
{
    json_t *v = json_loads(call->arguments, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(call->arguments);
}

static agc_status an_whole(fakellm_plan *p, const fakellm_content *c)
{
    json_t *content = json_array();
    if (c->thinking)
        content = fakellm_push(content, json_pack("{s:s, s:s, s:s}", "type", "thinking", "thinking",
                                                  c->thinking, "signature", c->signature));
    if (c->text)
        content = fakellm_push(content, json_pack("{s:s, s:s}", "type", "text", "text", c->text));
    for (size_t i = 0; i < c->n_calls; i++) {
        char *id = an_call_id(&c->calls[i], i, p->ctx);
        content = fakellm_push(content, !id ? NULL
                                            : json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use",
                                                        "id", id, "name", c->calls[i].name, "input",
                                                        call_input(&c->calls[i])));
        agc_free(p->ctx, id);
    }
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:n}", "id", c->id, "type", "message",
                            "role", "assistant", "model", c->model, "content", content,
                            "stop_reason", stop_reason(c->finish), "stop_sequence");
    if (c->has_usage)
        msg = fakellm_set(msg, "usage", an_usage_json(c, false));
    return fakellm_plan_body(p, msg);
}

static agc_status ev(fakellm_plan *p, const char *name, json_t *v)
{
    return fakellm_plan_sse(p, name, v);
}

static agc_status delta(fakellm_plan *p, size_t index, json_t *d)
{
    if (!p->first_delta)
        p->first_delta = p->n_events;
    return ev(p, "content_block_delta",
              json_pack("{s:s, s:i, s:o}", "type", "content_block_delta", "index", (int)index,
                        "delta", d));
}

static agc_status stop_block(fakellm_plan *p, size_t index)
{
    return ev(p, "content_block_stop",
              json_pack("{s:s, s:i}", "type", "content_block_stop", "index", (int)index));
}

/* Pieces of text as deltas of type dtype carrying member key. */
static agc_status pieces(fakellm_plan *p, size_t index, const char *text, bool words,
                         const char *dtype, const char *key)
{
    size_t *cuts = NULL, n = 0, len = strlen(text);
    agc_status st = words ? fakellm_split_words(&cuts, &n, text, len, p->ctx)
                          : fakellm_split_even(&cuts, &n, text, len, 3, p->ctx);
    for (size_t i = 0; !st && i < n; i++)
        st = delta(
            p, index,
            json_pack("{s:s, s:s%}", "type", dtype, key, text + cuts[i], cuts[i + 1] - cuts[i]));
    agc_free(p->ctx, cuts);
    return st;
}

static agc_status an_stream(fakellm_plan *p, const fakellm_content *c)
{
    json_t *msg =
        json_pack("{s:s, s:s, s:s, s:s, s:[], s:n, s:n}", "id", c->id, "type", "message", "role",
                  "assistant", "model", c->model, "content", "stop_reason", "stop_sequence");
    if (c->has_usage)
        msg = fakellm_set(msg, "usage", an_usage_json(c, true));
    agc_status st =
        ev(p, "message_start", json_pack("{s:s, s:o}", "type", "message_start", "message", msg));
    if (!st)
        st = ev(p, "ping", json_pack("{s:s}", "type", "ping"));
    size_t index = 0;
    if (!st && c->thinking) {
        st = ev(p, "content_block_start",
                json_pack("{s:s, s:i, s:{s:s, s:s}}", "type", "content_block_start", "index", 0,
                          "content_block", "type", "thinking", "thinking", ""));
        if (!st)
            st = pieces(p, index, c->thinking, true, "thinking_delta", "thinking");
        if (!st)
            st = delta(
                p, index,
                json_pack("{s:s, s:s}", "type", "signature_delta", "signature", c->signature));
        if (!st)
            st = stop_block(p, index);
        index++;
    }
    if (!st && c->text) {
        st = ev(p, "content_block_start",
                json_pack("{s:s, s:i, s:{s:s, s:s}}", "type", "content_block_start", "index",
                          (int)index, "content_block", "type", "text", "text", ""));
        if (!st)
            st = pieces(p, index, c->text, true, "text_delta", "text");
        if (!st)
            st = stop_block(p, index);
        index++;
    }
    for (size_t i = 0; !st && i < c->n_calls; i++, index++) {
        char *id = an_call_id(&c->calls[i], i, p->ctx);
        st = id ? ev(p, "content_block_start",
                     json_pack("{s:s, s:i, s:{s:s, s:s, s:s, s:{}}}", "type", "content_block_start",
                               "index", (int)index, "content_block", "type", "tool_use", "id", id,
                               "name", c->calls[i].name, "input"))
                : AGC_ENOMEM;
        agc_free(p->ctx, id);
        if (!st)
            st = pieces(p, index, c->calls[i].arguments, false, "input_json_delta", "partial_json");
        if (!st)
            st = stop_block(p, index);
    }
    if (!st) {
        json_t *md = json_pack("{s:s, s:{s:s, s:n}}", "type", "message_delta", "delta",
                               "stop_reason", stop_reason(c->finish), "stop_sequence");
        if (c->has_usage)
            md = fakellm_set(md, "usage",
                             json_pack("{s:I}", "output_tokens", (json_int_t)c->output_tokens));
        st = ev(p, "message_delta", md);
    }
    if (!st)
        st = ev(p, "message_stop", json_pack("{s:s}", "type", "message_stop"));
    return st;
}

agc_status fakellm_anthropic_body(fakellm_plan *p, const fakellm_content *c, const fakellm_req *req)
{
    agc_ctx *prev = agc_json_enter(p->ctx);
    agc_status st = req->stream ? an_stream(p, c) : an_whole(p, c);
    agc_json_leave(prev);
    return st;
}
