/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Anthropic Messages streaming: the named SSE events (message_start,
 * content_block_start/delta/stop, message_delta, message_stop, ping, error)
 * turned into response-builder calls as they arrive. Invariant: a content
 * block index maps to one kind for its lifetime; tool_use blocks get call
 * indexes 0, 1, ... in order of appearance; a thinking block's raw form
 * (text + signature) is handed to the builder at its content_block_stop.
 * It does no I/O: anthropic.c feeds it events from the SSE parser.
 */
#include <string.h>

#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "anthropic_int.h"

#define MAX_BLOCKS 512

enum { B_NONE = 0, B_TEXT, B_TOOL, B_STRUCT, B_THINK, B_OTHER };

typedef struct sblock {
    unsigned char kind;
    size_t call; /* B_TOOL: the builder's call index */
} sblock;

struct agc__anth_stream {
    agc_ctx *ctx;
    agc_response_builder *b;
    const char *structured_tool;
    const char *request_id, *model;
    int64_t t0_ns;
    double ttft_ms;
    bool got_content, stopped, structured_used;
    int error_status;
    long long usage[4];
    size_t n_calls;
    char *stop_reason;
    json_t *think;      /* the open thinking block as it started */
    agc_buf think_text; /* its text so far */
    agc_buf think_sig;  /* its signature so far */
    sblock blocks[MAX_BLOCKS];
};

agc_status agc__anth_stream_new(agc__anth_stream **out, agc_response_builder *b,
                                const char *structured_tool, int64_t t0_ns, agc_ctx *ctx)
{
    *out = NULL;
    agc__anth_stream *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->ctx = ctx;
    s->b = b;
    s->structured_tool = structured_tool;
    s->t0_ns = t0_ns;
    for (int i = 0; i < 4; i++)
        s->usage[i] = -1;
    agc_buf_init(&s->think_text, ctx, 0);
    agc_buf_init(&s->think_sig, ctx, 0);
    *out = s;
    return AGC_OK;
}

void agc__anth_stream_free(agc__anth_stream *s)
{
    if (!s)
        return;
    json_decref(s->think);
    agc_buf_free(&s->think_text);
    agc_buf_free(&s->think_sig);
    agc_free(s->ctx, s->stop_reason);
    agc_free(s->ctx, s);
}

void agc__anth_stream_set_ids(agc__anth_stream *s, const char *request_id, const char *model)
{
    s->request_id = request_id;
    s->model = model;
}

bool agc__anth_stream_complete(const agc__anth_stream *s)
{
    return s->stopped;
}

int agc__anth_stream_error_status(const agc__anth_stream *s)
{
    return s->error_status;
}

double agc__anth_stream_ttft_ms(const agc__anth_stream *s)
{
    return s->ttft_ms;
}

static void mark_content(agc__anth_stream *s)
{
    if (s->got_content)
        return;
    s->got_content = true;
    s->ttft_ms = (double)(agc_clock_monotonic_ns(s->ctx) - s->t0_ns) / 1e6;
}

static agc_status proto(agc__anth_stream *s, const char *what)
{
    return agc_error_set(s->ctx, AGC_EPROTO, "provider", "anthropic: stream: %s", what);
}

static sblock *block_at(agc__anth_stream *s, const json_t *ev, bool open)
{
    json_t *iv = json_object_get(ev, "index");
    if (!json_is_integer(iv) || json_integer_value(iv) < 0 ||
        json_integer_value(iv) >= MAX_BLOCKS) {
        proto(s, "content block event without a valid index");
        return NULL;
    }
    sblock *blk = &s->blocks[json_integer_value(iv)];
    if (open != (blk->kind == B_NONE)) {
        proto(s, open ? "content block started twice" : "event for a content block never started");
        return NULL;
    }
    return blk;
}

static agc_status on_message_start(agc__anth_stream *s, const json_t *ev)
{
    json_t *msg = json_object_get(ev, "message");
    if (!json_is_object(msg))
        return proto(s, "message_start without a message");
    agc__anth_apply_usage(s->b, json_object_get(msg, "usage"), s->usage);
    return agc_response_set_meta(s->b, agc_json_str(msg, "id", NULL),
                                 agc_json_str(msg, "model", NULL), NULL);
}

static agc_status on_block_start(agc__anth_stream *s, const json_t *ev)
{
    sblock *blk = block_at(s, ev, true);
    if (!blk)
        return AGC_EPROTO;
    json_t *cb = json_object_get(ev, "content_block");
    const char *type = agc_json_str(cb, "type", "");
    if (strcmp(type, "text") == 0) {
        blk->kind = B_TEXT;
        const char *t = agc_json_str(cb, "text", "");
        if (*t)
            mark_content(s);
        return agc_response_add_text(s->b, t, strlen(t));
    }
    if (strcmp(type, "tool_use") == 0) {
        const char *name = agc_json_str(cb, "name", NULL);
        if (s->structured_tool && name && strcmp(name, s->structured_tool) == 0) {
            blk->kind = B_STRUCT;
            s->structured_used = true;
            return AGC_OK;
        }
        blk->kind = B_TOOL;
        blk->call = s->n_calls++;
        mark_content(s);
        return agc_response_add_tool_call(s->b, blk->call, agc_json_str(cb, "id", NULL), name, NULL,
                                          0);
    }
    if (strcmp(type, "thinking") == 0) {
        blk->kind = B_THINK;
        json_decref(s->think);
        agc_ctx *prev = agc_json_enter(s->ctx);
        s->think = json_deep_copy(cb);
        agc_json_leave(prev);
        agc_buf_clear(&s->think_text);
        agc_buf_clear(&s->think_sig);
        if (!s->think)
            return AGC_ENOMEM;
        const char *t = agc_json_str(cb, "thinking", "");
        agc_status st = agc_buf_puts(&s->think_text, t);
        if (st == AGC_OK)
            st = agc_buf_puts(&s->think_sig, agc_json_str(cb, "signature", ""));
        if (st == AGC_OK && *t) {
            mark_content(s);
            st = agc_response_add_thinking(s->b, t, strlen(t));
        }
        return st;
    }
    blk->kind = B_OTHER;
    if (strcmp(type, "redacted_thinking") == 0)
        return agc_response_add_raw_thinking(s->b, cb);
    return AGC_OK; /* block types this backend does not keep (server tools) */
}

static agc_status on_block_delta(agc__anth_stream *s, const json_t *ev)
{
    sblock *blk = block_at(s, ev, false);
    if (!blk)
        return AGC_EPROTO;
    json_t *d = json_object_get(ev, "delta");
    const char *type = agc_json_str(d, "type", "");
    if (strcmp(type, "text_delta") == 0) {
        const char *t = agc_json_str(d, "text", "");
        if (*t)
            mark_content(s);
        return agc_response_add_text(s->b, t, strlen(t));
    }
    if (strcmp(type, "input_json_delta") == 0) {
        const char *pj = agc_json_str(d, "partial_json", "");
        if (blk->kind == B_STRUCT) {
            if (*pj)
                mark_content(s);
            return agc_response_add_text(s->b, pj, strlen(pj));
        }
        if (blk->kind != B_TOOL)
            return proto(s, "input_json_delta for a block that is not a tool_use");
        return agc_response_add_tool_call(s->b, blk->call, NULL, NULL, pj, strlen(pj));
    }
    if (strcmp(type, "thinking_delta") == 0 || strcmp(type, "signature_delta") == 0) {
        if (blk->kind != B_THINK)
            return proto(s, "thinking delta for a block that is not a thinking block");
        bool sig = type[0] == 's';
        const char *t = agc_json_str(d, sig ? "signature" : "thinking", "");
        agc_status st = agc_buf_puts(sig ? &s->think_sig : &s->think_text, t);
        if (st == AGC_OK && !sig && *t) {
            mark_content(s);
            st = agc_response_add_thinking(s->b, t, strlen(t));
        }
        return st;
    }
    return AGC_OK; /* citations_delta and future delta types */
}

static agc_status on_block_stop(agc__anth_stream *s, const json_t *ev)
{
    sblock *blk = block_at(s, ev, false);
    if (!blk)
        return AGC_EPROTO;
    if (blk->kind != B_THINK || !s->think)
        return AGC_OK;
    agc_status st = AGC_OK;
    agc_ctx *prev = agc_json_enter(s->ctx);
    if (json_object_set_new(s->think, "thinking",
                            json_stringn(agc_buf_cstr(&s->think_text), s->think_text.len)) ||
        json_object_set_new(s->think, "signature",
                            json_stringn(agc_buf_cstr(&s->think_sig), s->think_sig.len)))
        st = AGC_ENOMEM;
    agc_json_leave(prev);
    if (st == AGC_OK)
        st = s->think_text.len ? agc_response_set_thinking_raw(s->b, s->think)
                               : agc_response_add_raw_thinking(s->b, s->think);
    json_decref(s->think);
    s->think = NULL;
    return st;
}

static agc_status on_message_delta(agc__anth_stream *s, const json_t *ev)
{
    agc__anth_apply_usage(s->b, json_object_get(ev, "usage"), s->usage);
    const char *r = agc_json_str(json_object_get(ev, "delta"), "stop_reason", NULL);
    if (!r)
        return AGC_OK;
    char *n = agc_strdup(s->ctx, r);
    if (!n)
        return AGC_ENOMEM;
    agc_free(s->ctx, s->stop_reason);
    s->stop_reason = n;
    return AGC_OK;
}

static agc_status on_message_stop(agc__anth_stream *s)
{
    s->stopped = true;
    agc_finish_reason fr = agc__anth_finish(s->stop_reason);
    if (s->structured_used && fr == AGC_FINISH_TOOL_CALLS)
        fr = AGC_FINISH_STOP;
    return agc_response_set_finish(s->b, fr, s->stop_reason);
}

static agc_status on_error(agc__anth_stream *s, const json_t *ev)
{
    json_t *e = json_object_get(ev, "error");
    const char *type = agc_json_str(e, "type", NULL);
    int status = agc__anth_error_status(type);
    s->error_status = status ? status : 500;
    return agc__provider_http_error(s->ctx, "anthropic", s->error_status,
                                    agc_json_str(e, "message", NULL), type, s->request_id,
                                    "ANTHROPIC_API_KEY", s->model);
}

agc_status agc__anth_stream_event(agc__anth_stream *s, const char *type, const char *data,
                                  size_t len)
{
    if (strcmp(type, "ping") == 0 || s->stopped)
        return AGC_OK;
    json_t *ev = NULL;
    agc_status st = agc_json_parse(&ev, data, len, "anthropic stream event", s->ctx);
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK || !json_is_object(ev)) {
        json_decref(ev);
        if (st == AGC_OK)
            return agc_error_set(s->ctx, AGC_EPROTO, "provider",
                                 "anthropic: stream: the %s event is not a JSON object", type);
        return agc_error_wrap(s->ctx, AGC_EPROTO, "provider",
                              "anthropic: stream: malformed JSON in a %s event", type);
    }
    if (strcmp(type, "message_start") == 0)
        st = on_message_start(s, ev);
    else if (strcmp(type, "content_block_start") == 0)
        st = on_block_start(s, ev);
    else if (strcmp(type, "content_block_delta") == 0)
        st = on_block_delta(s, ev);
    else if (strcmp(type, "content_block_stop") == 0)
        st = on_block_stop(s, ev);
    else if (strcmp(type, "message_delta") == 0)
        st = on_message_delta(s, ev);
    else if (strcmp(type, "message_stop") == 0)
        st = on_message_stop(s);
    else if (strcmp(type, "error") == 0)
        st = on_error(s, ev);
    /* unknown event names are ignored, as the API's versioning policy asks */
    json_decref(ev);
    return st;
}
