/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * providers openai: the OpenAI-compatible backend over real loopback HTTP
 * against the fakellm program (docs/fakellm.md), through agc_provider_chat
 * so that the wrapper's retries and cost accounting take part. Covers plain
 * and streamed answers (UTF-8 split across writes, parallel tool calls),
 * structured output, usage and cost, every error status, Retry-After on the
 * manual clock, streams broken after delivery, truncation, malformed JSON,
 * the size cap, timeouts, cancellation, presets' headers and URLs, and what
 * the server received. Retry waits never sleep for real (manual clock).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agc_test.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/secret.h"
#include "fakellm_proc.h"
#include "providers/openai_int.h"

#define KEY "sk-test-fake-key-0123456789"

typedef struct fx {
    agc_fakellm *f;
    char base[160];
} fx;

static int setup(void **state)
{
    setenv("OPENAI_API_KEY", KEY, 1);
    setenv("AZURE_OPENAI_API_KEY", "azure-" KEY, 1);
    fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->f = agc_fakellm_start_json("{\"replies\":[]}");
    snprintf(x->base, sizeof x->base, "%s/v1/",
             agc_fakellm_url(x->f)); /* trailing slash on purpose */
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    assert_int_equal(agc_fakellm_stop(x->f), 0);
    free(x);
    return 0;
}

static void script(fx *x, const char *json)
{
    agc_fakellm_reset(x->f);
    agc_fakellm_set_script(x->f, json);
}

/* The recorded requests to the chat endpoint. */
static size_t n_requests(fx *x)
{
    json_t *r = agc_fakellm_requests(x->f);
    size_t n = json_array_size(r);
    json_decref(r);
    return n;
}

/* The last recorded request (caller json_decrefs *all). */
static json_t *last_request(fx *x, json_t **all)
{
    *all = agc_fakellm_requests(x->f);
    assert_true(json_array_size(*all) > 0);
    return json_array_get(*all, json_array_size(*all) - 1);
}

static agc_provider *open_preset(agc_ctx *ctx, fx *x, const char *preset, int attempts)
{
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = preset;
    o.base_url = x->base;
    o.model = "fake-model";
    o.retry.max_attempts = attempts;
    agc_provider *p = NULL;
    if (agc_provider_open(&p, &o, ctx) != AGC_OK)
        fail_msg("open: %s", agc_ctx_errmsg(ctx));
    return p;
}

/* A ctx on the manual clock (retry waits advance it instead of sleeping). */
static agc_ctx *manual_ctx(agc_manual_clock *mc)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    memset(mc, 0, sizeof *mc);
    mc->now_ms = 1767225600000LL;
    mc->mono_ns = 1;
    agc_ctx_set_clock(ctx, &agc_manual_clock_ops, mc);
    return ctx;
}

static agc_ctx *real_ctx(void)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    return ctx;
}

static agc_part g_hello = {AGC_PART_TEXT, "hello", NULL, NULL, NULL};
static agc_message g_msg = {.role = AGC_ROLE_USER, .parts = &g_hello, .n_parts = 1};

static agc_chat_request basic_request(void)
{
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.messages = &g_msg;
    req.n_messages = 1;
    return req;
}

/* Collects deltas; optionally cancels on the nth text delta. */
typedef struct collect {
    agc_buf text;
    agc_buf calls;
    int n_text, n_calls, n_retry;
    int cancel_at;
    atomic_bool got_first;
} collect;

static agc_status on_delta(const agc_delta *d, void *user)
{
    collect *c = user;
    if (d->kind == AGC_DELTA_TEXT) {
        c->n_text++;
        assert_int_equal(strlen(d->text), d->text_len);
        assert_int_equal(agc_buf_append(&c->text, d->text, d->text_len), AGC_OK);
        atomic_store(&c->got_first, true);
        if (c->cancel_at && c->n_text == c->cancel_at)
            return AGC_ECANCELED;
    } else if (d->kind == AGC_DELTA_TOOL_CALL) {
        c->n_calls++;
        if (d->id)
            assert_int_equal(agc_buf_printf(&c->calls, "<%zu:%s:%s>", d->index, d->id, d->name),
                             AGC_OK);
    } else if (d->kind == AGC_DELTA_RETRY) {
        c->n_retry++;
    }
    return AGC_OK;
}

static void collect_init(collect *c, agc_ctx *ctx)
{
    memset(c, 0, sizeof *c);
    agc_buf_init(&c->text, ctx, 0);
    agc_buf_init(&c->calls, ctx, 0);
    atomic_init(&c->got_first, false);
}

static void collect_free(collect *c)
{
    agc_buf_free(&c->text);
    agc_buf_free(&c->calls);
}

/* ---- answers --------------------------------------------------------------------- */

static void plain_answer_and_what_the_server_received(void **state)
{
    fx *x = *state;
    script(x, "{\"replies\":[{\"text\":\"Hello there!\",\"request_id\":\"req_abc\","
              "\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}]}");
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 1);
    agc_chat_request req = basic_request();
    req.max_tokens = 64;
    req.temperature = 0.25;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "Hello there!");
    assert_int_equal(r->finish, AGC_FINISH_STOP);
    assert_string_equal(r->finish_raw, "stop");
    assert_string_equal(r->request_id, "req_abc");
    assert_string_equal(r->provider, "openai");
    assert_non_null(r->id);
    assert_int_equal(r->usage.input_tokens, 12);
    assert_int_equal(r->usage.output_tokens, 3);
    assert_true(r->latency_ms > 0);
    assert_true(r->ttft_ms == 0);
    agc_chat_response_free(r);

    json_t *all = NULL;
    json_t *rq = last_request(x, &all);
    assert_string_equal(agc_json_str(rq, "path", ""), "/v1/chat/completions");
    json_t *h = json_object_get(rq, "headers");
    assert_string_equal(agc_json_str(h, "authorization", ""), "Bearer " KEY);
    assert_string_equal(agc_json_str(h, "content-type", ""), "application/json");
    json_t *body = json_object_get(rq, "body");
    assert_string_equal(agc_json_str(body, "model", ""), "fake-model");
    assert_int_equal(agc_json_int(body, "max_completion_tokens", 0), 64);
    assert_null(json_object_get(body, "max_tokens"));
    assert_null(json_object_get(body, "stream"));
    assert_string_equal(
        agc_json_str(json_array_get(json_object_get(body, "messages"), 0), "content", ""), "hello");
    json_decref(all);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void streamed_text_survives_utf8_split_across_writes(void **state)
{
    fx *x = *state;
    script(x, "{\"replies\":[{\"text\":\"Gr\\u00fc\\u00dfe, \\u4e16\\u754c! \\ud83c\\udf89 "
              "done\",\"fault\":{\"split_bytes\":1},"
              "\"usage\":{\"input_tokens\":5,\"output_tokens\":7}}]}");
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 1);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_OK);
    const char *want = "Gr\xc3\xbc\xc3\x9f"
                       "e, \xe4\xb8\x96\xe7\x95\x8c! \xf0\x9f\x8e\x89 done";
    assert_string_equal(agc_chat_response_text(r), want);
    assert_string_equal(agc_buf_cstr(&c.text), want);
    assert_true(c.n_text > 1);
    assert_true(r->ttft_ms > 0);
    assert_true(r->ttft_ms <= r->latency_ms);
    assert_true(r->usage.known);
    assert_int_equal(r->usage.output_tokens, 7);
    agc_chat_response_free(r);
    json_t *all = NULL;
    json_t *rq = last_request(x, &all);
    json_t *body = json_object_get(rq, "body");
    assert_true(json_is_true(json_object_get(body, "stream")));
    assert_true(
        json_is_true(json_object_get(json_object_get(body, "stream_options"), "include_usage")));
    assert_string_equal(agc_json_str(json_object_get(rq, "headers"), "accept", ""),
                        "text/event-stream");
    json_decref(all);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void streams_two_parallel_tool_calls_with_interleaved_deltas(void **state)
{
    fx *x = *state;
    script(x, "{\"replies\":[{\"tool_calls\":["
              "{\"id\":\"call_1\",\"name\":\"read_file\",\"arguments\":{\"path\":\"src/a.c\","
              "\"max_bytes\":4096}},"
              "{\"id\":\"call_2\",\"name\":\"list_dir\",\"arguments\":{\"path\":\".\"}}],"
              "\"finish\":\"tool_calls\"}]}");
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 1);
    json_t *params =
        json_pack("{s:s, s:{s:{s:s}}}", "type", "object", "properties", "path", "type", "string");
    agc_tool_def tools[2] = {{"read_file", "Reads a file", params, true},
                             {"list_dir", "Lists a directory", params, false}};
    agc_chat_request req = basic_request();
    req.tools = tools;
    req.n_tools = 2;
    req.tool_choice = AGC_TOOL_CHOICE_REQUIRED;
    req.parallel_tool_calls = false;
    collect c;
    collect_init(&c, ctx);
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_OK);
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].id, "call_1");
    assert_string_equal(r->tool_calls[0].name, "read_file");
    json_t *a0 = NULL;
    assert_int_equal(agc_json_parse(&a0, r->tool_calls[0].arguments,
                                    strlen(r->tool_calls[0].arguments), NULL, ctx),
                     AGC_OK);
    assert_string_equal(agc_json_str(a0, "path", ""), "src/a.c");
    assert_int_equal(agc_json_int(a0, "max_bytes", 0), 4096);
    json_decref(a0);
    assert_string_equal(r->tool_calls[1].id, "call_2");
    assert_string_equal(r->tool_calls[1].name, "list_dir");
    assert_string_equal(r->tool_calls[1].arguments, "{\"path\":\".\"}");
    assert_string_equal(agc_buf_cstr(&c.calls), "<0:call_1:read_file><1:call_2:list_dir>");
    assert_true(c.n_calls > 4); /* header + several argument pieces per call */
    agc_chat_response_free(r);

    json_t *all = NULL;
    json_t *body = json_object_get(last_request(x, &all), "body");
    json_t *t = json_object_get(body, "tools");
    assert_int_equal(json_array_size(t), 2);
    json_t *fn = json_object_get(json_array_get(t, 0), "function");
    assert_string_equal(agc_json_str(json_array_get(t, 0), "type", ""), "function");
    assert_string_equal(agc_json_str(fn, "name", ""), "read_file");
    assert_true(json_is_true(json_object_get(fn, "strict")));
    assert_true(json_equal(json_object_get(fn, "parameters"), params));
    assert_string_equal(json_string_value(json_object_get(body, "tool_choice")), "required");
    assert_true(json_is_false(json_object_get(body, "parallel_tool_calls")));
    json_decref(all);
    json_decref(params);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void structured_output_sends_json_schema_and_fills_parsed(void **state)
{
    fx *x = *state;
    script(x, "{\"replies\":[{\"text\":\"{\\\"answer\\\": 42}\"}]}");
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 1);
    json_t *schema = json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object", "properties",
                               "answer", "type", "integer", "required", "answer");
    agc_chat_request req = basic_request();
    req.format = AGC_FORMAT_JSON_SCHEMA;
    req.response_schema = schema;
    req.response_schema_name = "answer_schema";
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_non_null(r->parsed);
    assert_int_equal(agc_json_int(r->parsed, "answer", 0), 42);
    agc_chat_response_free(r);
    json_t *all = NULL;
    json_t *rf = json_object_get(json_object_get(last_request(x, &all), "body"), "response_format");
    assert_string_equal(agc_json_str(rf, "type", ""), "json_schema");
    json_t *js = json_object_get(rf, "json_schema");
    assert_string_equal(agc_json_str(js, "name", ""), "answer_schema");
    assert_true(json_is_true(json_object_get(js, "strict")));
    assert_true(json_equal(json_object_get(js, "schema"), schema));
    json_decref(all);
    json_decref(schema);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void usage_cached_tokens_give_cost_and_no_usage_gives_unknown_cost(void **state)
{
    fx *x = *state;
    script(x, "{\"replies\":[{\"text\":\"a\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":"
              "500,\"cached_input_tokens\":200,\"reasoning_tokens\":50}},"
              "{\"text\":\"b\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":500,"
              "\"cached_input_tokens\":200}},"
              "{\"text\":\"c\",\"usage\":false},{\"text\":\"d\",\"usage\":false}]}");
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 1);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    for (int stream = 0; stream < 2; stream++) {
        agc_chat_response *r = NULL;
        assert_int_equal(agc_provider_chat(&r, p, &req, stream ? on_delta : NULL, &c), AGC_OK);
        assert_true(r->usage.known);
        assert_int_equal(r->usage.input_tokens, 1000);
        assert_int_equal(r->usage.cached_input_tokens, 200);
        assert_int_equal(r->usage.output_tokens, 500);
        assert_int_equal(r->usage.reasoning_tokens, stream ? 0 : 50);
        assert_true(r->cost_known);
        /* fake-model: 1.0 in, 0.5 cached, 2.0 out per Mtok: 800 + 100 + 1000 */
        assert_true(fabs(r->cost_usd - 0.0019) < 1e-9);
        agc_chat_response_free(r);
    }
    for (int stream = 0; stream < 2; stream++) {
        agc_chat_response *r = NULL;
        assert_int_equal(agc_provider_chat(&r, p, &req, stream ? on_delta : NULL, &c), AGC_OK);
        assert_false(r->usage.known);
        assert_false(r->cost_known);
        agc_chat_response_free(r);
    }
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

/* ---- errors ------------------------------------------------------------------------ */

static void client_errors_keep_the_server_message_and_are_never_retried(void **state)
{
    fx *x = *state;
    static const struct {
        int status;
        agc_status want;
        const char *needle;
    } cases[] = {
        {400, AGC_EINVAL, "Unsupported parameter: 'foo'"},
        {401, AGC_EAUTH, "OPENAI_API_KEY"},
        {403, AGC_EAUTH, "OPENAI_API_KEY"},
        {404, AGC_ENOTFOUND, "fake-model"},
    };
    agc_manual_clock mc;
    agc_ctx *ctx = manual_ctx(&mc);
    agc_provider *p = open_preset(ctx, x, "openai", 4);
    agc_chat_request req = basic_request();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[256];
        snprintf(s, sizeof s,
                 "{\"replies\":[{\"fault\":{\"status\":%d,\"error\":\"Unsupported parameter: "
                 "'foo'\"},\"request_id\":\"req_e%zu\",\"times\":9}]}",
                 cases[i].status, i);
        script(x, s);
        agc_chat_response *r = NULL;
        assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), cases[i].want);
        assert_null(r);
        char buf[2048];
        agc_error_format(ctx, buf, sizeof buf);
        if (!strstr(buf, cases[i].needle) || !strstr(buf, "Unsupported parameter: 'foo'"))
            fail_msg("HTTP %d: '%s'", cases[i].status, buf);
        char rid[32];
        snprintf(rid, sizeof rid, "req_e%zu", i);
        assert_non_null(strstr(buf, rid));
        assert_null(strstr(buf, KEY)); /* the key itself is never in a message */
        assert_int_equal(n_requests(x), 1);
    }
    assert_int_equal(mc.slept_ms, 0);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void rate_limit_waits_exactly_retry_after_on_the_manual_clock(void **state)
{
    fx *x = *state;
    agc_manual_clock mc;
    agc_ctx *ctx = manual_ctx(&mc);
    agc_provider *p = open_preset(ctx, x, "openai", 4);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);

    script(x, "{\"replies\":[{\"fault\":{\"status\":429,\"error\":\"slow down\","
              "\"retry_after\":\"3\"}},{\"text\":\"after the wait\"}]}");
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "after the wait");
    assert_int_equal(r->attempts, 2);
    assert_int_equal(mc.slept_ms, 3000);
    assert_int_equal(c.n_retry, 1);
    agc_chat_response_free(r);

    /* retry-after-ms wins over Retry-After */
    script(x, "{\"replies\":[{\"fault\":{\"status\":429,\"retry_after\":\"9\","
              "\"retry_after_ms\":1500}},{\"text\":\"ok\"}]}");
    mc.slept_ms = 0;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_int_equal(mc.slept_ms, 1500);
    agc_chat_response_free(r);

    /* an HTTP date, relative to the (manual) wall clock: 2026-01-01T00:00:07Z */
    script(x, "{\"replies\":[{\"fault\":{\"status\":429,\"retry_after\":"
              "\"Thu, 01 Jan 2026 00:00:07 GMT\"}},{\"text\":\"ok\"}]}");
    mc.slept_ms = 0;
    mc.now_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_int_equal(mc.slept_ms, 7000);
    agc_chat_response_free(r);

    /* still limited after every attempt */
    script(x, "{\"replies\":[{\"fault\":{\"status\":429,\"error\":\"quota\",\"retry_after\":"
              "\"1\"},\"times\":10}]}");
    mc.slept_ms = 0;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_ERATELIMIT);
    assert_int_equal(n_requests(x), 4);
    assert_int_equal(mc.slept_ms, 3000);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void server_errors_are_retried_and_overload_maps_to_eoverloaded(void **state)
{
    fx *x = *state;
    agc_manual_clock mc;
    agc_ctx *ctx = manual_ctx(&mc);
    agc_provider *p = open_preset(ctx, x, "openai", 2);
    agc_chat_request req = basic_request();
    agc_chat_response *r = NULL;
    script(x, "{\"replies\":[{\"fault\":{\"status\":500,\"error\":\"boom\"}},{\"text\":\"ok\"}]}");
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_int_equal(r->attempts, 2);
    assert_int_equal(n_requests(x), 2);
    agc_chat_response_free(r);
    int overloaded[] = {529, 503};
    for (int i = 0; i < 2; i++) {
        char s[160];
        snprintf(s, sizeof s,
                 "{\"replies\":[{\"fault\":{\"status\":%d,\"error\":\"busy\"},"
                 "\"times\":5}]}",
                 overloaded[i]);
        script(x, s);
        assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_EOVERLOADED);
        assert_int_equal(n_requests(x), 2);
        assert_non_null(strstr(agc_ctx_errmsg(ctx), "gave up after 2 attempts"));
    }
    /* a non-JSON error body: its start, sanitised */
    script(x, "{\"replies\":[{\"fault\":{\"status\":502,\"content_type\":\"text/html\","
              "\"raw_body\":\"<html>\\r\\nBad Gateway\\u001b</html>\"},\"times\":5}]}");
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_EHTTP);
    char buf[2048];
    agc_error_format(ctx, buf, sizeof buf);
    assert_non_null(strstr(buf, "<html>  Bad Gateway </html>"));
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void stream_broken_after_output_is_not_retried_unless_allowed(void **state)
{
    fx *x = *state;
    const char *s = "{\"replies\":[{\"text\":\"one two three four five six seven\","
                    "\"fault\":{\"reset_after_events\":3}},{\"text\":\"second try\"}]}";
    agc_manual_clock mc;
    agc_ctx *ctx = manual_ctx(&mc);
    agc_provider *p = open_preset(ctx, x, "openai", 3);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    script(x, s);
    agc_chat_response *r = NULL;
    agc_status st = agc_provider_chat(&r, p, &req, on_delta, &c);
    if (st != AGC_ENET && st != AGC_EPROTO)
        fail_msg("got %s: %s", agc_status_name(st), agc_ctx_errmsg(ctx));
    assert_true(c.n_text > 0);
    assert_int_equal(n_requests(x), 1);
    agc_provider_close(p);

    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "openai";
    o.base_url = x->base;
    o.model = "fake-model";
    o.retry.replay_streams = true;
    assert_int_equal(agc_provider_open(&p, &o, ctx), AGC_OK);
    script(x, s);
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "second try");
    assert_int_equal(r->attempts, 2);
    agc_chat_response_free(r);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void truncated_and_malformed_answers_are_eproto(void **state)
{
    fx *x = *state;
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 3);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    agc_chat_response *r = NULL;
    char buf[2048];
    /* a clean end with neither finish_reason nor [DONE] */
    script(x, "{\"replies\":[{\"fault\":{\"content_type\":\"text/event-stream\",\"raw_body\":"
              "\"data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":"
              "\\\"Hel\\\"}}]}\\n\\n\"}}]}");
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_EPROTO);
    assert_non_null(strstr(agc_error_format(ctx, buf, sizeof buf), "stream truncated"));
    assert_int_equal(n_requests(x), 1);
    /* finish_reason but no [DONE]: accepted */
    script(x, "{\"replies\":[{\"text\":\"complete\",\"fault\":{\"truncate\":true}}]}");
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "complete");
    agc_chat_response_free(r);
    for (int stream = 0; stream < 2; stream++) {
        script(x, "{\"replies\":[{\"text\":\"some answer text\",\"fault\":{\"malformed\":true}}]}");
        assert_int_equal(agc_provider_chat(&r, p, &req, stream ? on_delta : NULL, &c), AGC_EPROTO);
        agc_error_format(ctx, buf, sizeof buf);
        assert_non_null(strstr(buf, stream ? "malformed JSON in stream event"
                                           : "malformed JSON in the response body"));
        assert_int_equal(n_requests(x), 1);
    }
    /* an error event inside a 200 stream is mapped like the status it stands for */
    script(x, "{\"replies\":[{\"fault\":{\"content_type\":\"text/event-stream\",\"raw_body\":"
              "\"data: {\\\"error\\\":{\\\"message\\\":\\\"quota gone\\\",\\\"type\\\":"
              "\\\"insufficient_quota\\\"}}\\n\\n\"},\"times\":9}]}");
    agc_provider_close(p);
    p = open_preset(ctx, x, "openai", 1);
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_ERATELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "quota gone"));
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void answer_past_the_size_cap_is_an_error(void **state)
{
    fx *x = *state;
    agc_ctx *ctx = real_ctx();
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "openai";
    o.model = "fake-model";
    o.retry.max_attempts = 1;
    agc_secret *key = NULL;
    assert_int_equal(agc_secret_from_env(&key, "OPENAI_API_KEY", ctx), AGC_OK);
    agc_provider *p = NULL;
    assert_int_equal(
        agc__openai_open_capped(&p, agc_provider_preset("openai"), &o, x->base, key, 8192, ctx),
        AGC_OK);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    for (int stream = 0; stream < 2; stream++) {
        script(x, "{\"replies\":[{\"text\":\"big\",\"fault\":{\"oversize_bytes\":100000}}]}");
        agc_chat_response *r = NULL;
        assert_int_equal(agc_provider_chat(&r, p, &req, stream ? on_delta : NULL, &c), AGC_ELIMIT);
        assert_null(r);
    }
    /* under the cap it works */
    script(x, "{\"replies\":[{\"text\":\"small\"}]}");
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    collect_free(&c);
    agc_provider_close(p);
    agc_secret_free(key);
    agc_ctx_free(ctx);
}

static void slow_server_times_out(void **state)
{
    fx *x = *state;
    agc_ctx *ctx = real_ctx();
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "openai";
    o.base_url = x->base;
    o.model = "fake-model";
    o.retry.max_attempts = 1;
    o.timeout_ms = 300;
    o.idle_timeout_ms = 200;
    agc_provider *p = NULL;
    assert_int_equal(agc_provider_open(&p, &o, ctx), AGC_OK);
    agc_chat_request req = basic_request();
    agc_chat_response *r = NULL;
    script(x, "{\"replies\":[{\"text\":\"late\",\"fault\":{\"delay_ms\":3000}}]}");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    agc_provider_close(p);
    /* a stream that stalls between events hits the idle timeout */
    o.timeout_ms = 0;
    assert_int_equal(agc_provider_open(&p, &o, ctx), AGC_OK);
    collect c;
    collect_init(&c, ctx);
    script(x, "{\"replies\":[{\"text\":\"a b c d\",\"fault\":{\"drip_ms\":1500}}]}");
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_ETIMEDOUT);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

/* ---- cancellation -------------------------------------------------------------------- */

static void delta_callback_can_stop_the_stream(void **state)
{
    fx *x = *state;
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 3);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    c.cancel_at = 2;
    script(x, "{\"replies\":[{\"text\":\"one two three four five\"},{\"text\":\"next\"}]}");
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_ECANCELED);
    assert_int_equal(c.n_text, 2);
    assert_int_equal(n_requests(x), 1);
    /* the provider is usable afterwards */
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "next");
    agc_chat_response_free(r);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

typedef struct canceller {
    agc_provider *p;
    collect *c;
} canceller;

static void *cancel_thread(void *arg)
{
    canceller *k = arg;
    while (!atomic_load(&k->c->got_first)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    agc_provider_cancel(k->p);
    return NULL;
}

static void cancel_from_another_thread_stops_a_stream(void **state)
{
    fx *x = *state;
    agc_ctx *ctx = real_ctx();
    agc_provider *p = open_preset(ctx, x, "openai", 3);
    agc_chat_request req = basic_request();
    collect c;
    collect_init(&c, ctx);
    script(x, "{\"replies\":[{\"text\":\"w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 "
              "w17 w18 w19 w20\",\"fault\":{\"drip_ms\":200}},{\"text\":\"next\"}]}");
    canceller k = {p, &c};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_thread, &k), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, on_delta, &c), AGC_ECANCELED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    assert_true(t1.tv_sec - t0.tv_sec < 3); /* the whole stream would take 4 s */
    assert_true(c.n_text >= 1 && c.n_text < 20);
    assert_int_equal(n_requests(x), 1);
    /* a cancel between calls does not hit the next call */
    agc_provider_cancel(p);
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "next");
    agc_chat_response_free(r);
    collect_free(&c);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

/* ---- presets ------------------------------------------------------------------------- */

static void presets_change_auth_url_and_token_field(void **state)
{
    fx *x = *state;
    agc_ctx *ctx = real_ctx();
    agc_chat_request req = basic_request();
    req.max_tokens = 10;
    agc_chat_response *r = NULL;
    json_t *all = NULL;
    script(x, "{\"replies\":[],\"default\":{\"text\":\"ok\"}}");

    agc_provider *p = open_preset(ctx, x, "azure-openai", 1);
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    json_t *rq = last_request(x, &all);
    assert_string_equal(agc_json_str(rq, "path", ""), "/v1/chat/completions");
    assert_non_null(strstr(agc_json_str(rq, "query", ""), "api-version=2024-10-21"));
    json_t *h = json_object_get(rq, "headers");
    assert_string_equal(agc_json_str(h, "api-key", ""), "azure-" KEY);
    assert_null(json_object_get(h, "authorization"));
    assert_int_equal(agc_json_int(json_object_get(rq, "body"), "max_completion_tokens", 0), 10);
    json_decref(all);
    agc_provider_close(p);

    /* a local server without a key: no auth header, classic max_tokens; extra headers sent */
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "ollama";
    o.base_url = x->base;
    o.model = "llama3";
    json_t *hdrs = json_pack("{s:s}", "X-Team", "agents");
    o.headers = hdrs;
    assert_int_equal(agc_provider_open(&p, &o, ctx), AGC_OK);
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    rq = last_request(x, &all);
    h = json_object_get(rq, "headers");
    assert_null(json_object_get(h, "authorization"));
    assert_string_equal(agc_json_str(h, "x-team", ""), "agents");
    assert_int_equal(agc_json_int(json_object_get(rq, "body"), "max_tokens", 0), 10);
    assert_string_equal(agc_json_str(json_object_get(rq, "body"), "model", ""), "llama3");
    json_decref(all);
    json_decref(hdrs);
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

static void unreachable_server_is_a_retryable_network_error(void **state)
{
    (void)state;
    agc_manual_clock mc;
    agc_ctx *ctx = manual_ctx(&mc);
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "openai";
    o.base_url = "http://127.0.0.1:1/v1"; /* nothing listens on port 1 */
    o.model = "fake-model";
    o.retry.max_attempts = 2;
    agc_provider *p = NULL;
    assert_int_equal(agc_provider_open(&p, &o, ctx), AGC_OK);
    agc_chat_request req = basic_request();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_ENET);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "gave up after 2 attempts"));
    agc_provider_close(p);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_answer_and_what_the_server_received),
        cmocka_unit_test(streamed_text_survives_utf8_split_across_writes),
        cmocka_unit_test(streams_two_parallel_tool_calls_with_interleaved_deltas),
        cmocka_unit_test(structured_output_sends_json_schema_and_fills_parsed),
        cmocka_unit_test(usage_cached_tokens_give_cost_and_no_usage_gives_unknown_cost),
        cmocka_unit_test(client_errors_keep_the_server_message_and_are_never_retried),
        cmocka_unit_test(rate_limit_waits_exactly_retry_after_on_the_manual_clock),
        cmocka_unit_test(server_errors_are_retried_and_overload_maps_to_eoverloaded),
        cmocka_unit_test(stream_broken_after_output_is_not_retried_unless_allowed),
        cmocka_unit_test(truncated_and_malformed_answers_are_eproto),
        cmocka_unit_test(answer_past_the_size_cap_is_an_error),
        cmocka_unit_test(slow_server_times_out),
        cmocka_unit_test(delta_callback_can_stop_the_stream),
        cmocka_unit_test(cancel_from_another_thread_stops_a_stream),
        cmocka_unit_test(presets_change_auth_url_and_token_field),
        cmocka_unit_test(unreachable_server_is_a_retryable_network_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
