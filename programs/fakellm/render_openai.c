/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm OpenAI chat-completions bodies: a chat.completion object, or
 * chat.completion.chunk SSE events (role chunk, text pieces, tool call deltas
 * with the arguments in several pieces and parallel calls interleaved, the
 * finish chunk, the usage chunk when asked for, then [DONE]). Thinking is not
 * sent on this wire. Usage counts are the script's (normalised) numbers.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "fakellm.h"

#define CREATED 1700000000

static const char *finish_name(const char *f)
{
    return f; /* the script uses OpenAI's names; others pass through */
}

static json_t *oa_usage_json(const fakellm_content *c)
{
    json_t *u = json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)c->input_tokens,
                          "completion_tokens", (json_int_t)c->output_tokens, "total_tokens",
                          (json_int_t)(c->input_tokens + c->output_tokens));
    if (c->cached_input_tokens)
        u = fakellm_set(u, "prompt_tokens_details",
                        json_pack("{s:I}", "cached_tokens", (json_int_t)c->cached_input_tokens));
    if (c->reasoning_tokens)
        u = fakellm_set(u, "completion_tokens_details",
                        json_pack("{s:I}", "reasoning_tokens", (json_int_t)c->reasoning_tokens));
    return u;
}

static char *oa_call_id(const fakellm_call *call, size_t i, agc_ctx *ctx)
{
    return call->id ? agc_strdup(ctx, call->id) : agc_sprintf(ctx, "call_fake_%zu", i);
}

static agc_status oa_whole(fakellm_plan *p, const fakellm_content *c)
{
    json_t *msg = json_pack("{s:s, s:o}", "role", "assistant", "content",
                            c->text ? json_string(c->text) : json_null());
    if (msg && c->n_calls) {
        json_t *calls = json_array();
        for (size_t i = 0; i < c->n_calls; i++) {
            char *id = oa_call_id(&c->calls[i], i, p->ctx);
            calls = fakellm_push(calls,
                                 !id ? NULL
                                     : json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id, "type",
                                                 "function", "function", "name", c->calls[i].name,
                                                 "arguments", c->calls[i].arguments));
            agc_free(p->ctx, id);
        }
        msg = fakellm_set(msg, "tool_calls", calls);
    }
    json_t *body =
        json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:o, s:s, s:n}]}", "id", c->id, "object",
                  "chat.completion", "created", CREATED, "model", c->model, "choices", "index", 0,
                  "message", msg, "finish_reason", finish_name(c->finish), "logprobs");
    if (c->has_usage)
        body = fakellm_set(body, "usage", oa_usage_json(c));
    return fakellm_plan_body(p, body);
}

/* One chunk with choices[0].delta = delta (stolen) and finish_reason. */
static agc_status chunk(fakellm_plan *p, const fakellm_content *c, const fakellm_req *req,
                        json_t *delta, const char *finish)
{
    json_t *ch = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:o, s:o}]}", "id", c->id, "object",
                           "chat.completion.chunk", "created", CREATED, "model", c->model,
                           "choices", "index", 0, "delta", delta, "finish_reason",
                           finish ? json_string(finish) : json_null());
    if (req->include_usage)
        ch = fakellm_set(ch, "usage", json_null());
    return fakellm_plan_sse(p, NULL, ch);
}

static json_t *call_delta(size_t index, const char *id, const char *name, const char *args,
                          size_t args_len)
{
    json_t *fn = json_object();
    if (name)
        fn = fakellm_set(fn, "name", json_string(name));
    fn = fakellm_set(fn, "arguments", json_stringn(args, args_len));
    json_t *tc = json_pack("{s:i}", "index", (int)index);
    if (id) {
        tc = fakellm_set(tc, "id", json_string(id));
        tc = fakellm_set(tc, "type", json_string("function"));
    }
    tc = fakellm_set(tc, "function", fn);
    return tc ? json_pack("{s:[o]}", "tool_calls", tc) : NULL;
}

/* Tool call deltas: each call's header, then its argument pieces, round robin
 * across calls so that parallel calls interleave. */
static agc_status tool_deltas(fakellm_plan *p, const fakellm_content *c, const fakellm_req *req)
{
    agc_ctx *ctx = p->ctx;
    size_t **cuts = agc_calloc(ctx, c->n_calls, sizeof *cuts);
    size_t *ns = agc_calloc(ctx, c->n_calls, sizeof *ns);
    agc_status st = cuts && ns ? AGC_OK : AGC_ENOMEM;
    for (size_t i = 0; !st && i < c->n_calls; i++)
        st = fakellm_split_even(&cuts[i], &ns[i], c->calls[i].arguments,
                                strlen(c->calls[i].arguments), 3, ctx);
    size_t most = 0;
    for (size_t i = 0; !st && i < c->n_calls; i++)
        most = ns[i] + 1 > most ? ns[i] + 1 : most;
    /* step 0 is the header (id, type, name, empty arguments); step k the kth piece */
    for (size_t step = 0; !st && step < most; step++) {
        for (size_t i = 0; !st && i < c->n_calls; i++) {
            const fakellm_call *call = &c->calls[i];
            if (step == 0) {
                char *id = oa_call_id(call, i, ctx);
                st = id ? chunk(p, c, req, call_delta(i, id, call->name, "", 0), NULL) : AGC_ENOMEM;
                agc_free(ctx, id);
            } else if (step <= ns[i]) {
                size_t a = cuts[i][step - 1], b = cuts[i][step];
                st = chunk(p, c, req, call_delta(i, NULL, NULL, call->arguments + a, b - a), NULL);
            }
        }
    }
    for (size_t i = 0; cuts && i < c->n_calls; i++)
        agc_free(ctx, cuts[i]);
    agc_free(ctx, cuts);
    agc_free(ctx, ns);
    return st;
}

static agc_status oa_stream(fakellm_plan *p, const fakellm_content *c, const fakellm_req *req)
{
    agc_ctx *ctx = p->ctx;
    json_t *role = json_pack("{s:s, s:o}", "role", "assistant", "content",
                             c->n_calls && !c->text ? json_null() : json_string(""));
    agc_status st = chunk(p, c, req, role, NULL);
    p->first_delta = p->n_events;
    if (!st && c->text) {
        size_t *cuts = NULL, n = 0;
        st = fakellm_split_words(&cuts, &n, c->text, strlen(c->text), ctx);
        for (size_t i = 0; !st && i < n; i++)
            st = chunk(p, c, req,
                       json_pack("{s:s%}", "content", c->text + cuts[i], cuts[i + 1] - cuts[i]),
                       NULL);
        agc_free(ctx, cuts);
    }
    if (!st && c->n_calls)
        st = tool_deltas(p, c, req);
    if (!st)
        st = chunk(p, c, req, json_object(), finish_name(c->finish));
    if (!st && req->include_usage && c->has_usage) {
        json_t *u = json_pack("{s:s, s:s, s:i, s:s, s:[], s:o}", "id", c->id, "object",
                              "chat.completion.chunk", "created", CREATED, "model", c->model,
                              "choices", "usage", oa_usage_json(c));
        st = fakellm_plan_sse(p, NULL, u);
    }
    if (!st)
        st = fakellm_plan_add(p, "data: [DONE]\n\n", 14);
    return st;
}

agc_status fakellm_openai_body(fakellm_plan *p, const fakellm_content *c, const fakellm_req *req)
{
    agc_ctx *prev = agc_json_enter(p->ctx);
    agc_status st = req->stream ? oa_stream(p, c, req) : oa_whole(p, c);
    agc_json_leave(prev);
    return st;
}
