/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * providers anthropic: the Messages backend over real loopback HTTP against
 * fakellm (docs/fakellm.md): whole and streamed answers, UTF-8 split across
 * chunks, tool calls, thinking pass-back, tool results, cache_control,
 * usage and cost, every error class, retries on the manual clock (no real
 * sleeping), truncation, malformed JSON, resets, cancellation, headers.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/provider.h"
#include "agentc/secret.h"
#include "fakellm_proc.h"

#define KEY "sk-ant-test-0123456789"

typedef struct fx {
    agc_fakellm *fake;
    agc_ctx *ctx;
    agc_manual_clock clk;
    agc_secret *key;
    agc_provider *p;
} fx;

static void fx_open(fx *f, const char *script, const agc_provider_opts *extra)
{
    memset(f, 0, sizeof *f);
    f->fake = agc_fakellm_start_json(script);
    assert_non_null(f->fake);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    f->clk.now_ms = 1700000000000LL;
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &f->clk);
    assert_int_equal(agc_secret_from_bytes(&f->key, KEY, strlen(KEY), "test", f->ctx), AGC_OK);
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    if (extra)
        o = *extra;
    o.preset = "anthropic";
    o.base_url = agc_fakellm_url(f->fake);
    o.api_key = f->key;
    o.model = "fake-model";
    assert_int_equal(agc_log_set_level(f->ctx, AGC_LOG_ERROR), AGC_OK); /* retry warnings */
    assert_int_equal(agc_provider_open(&f->p, &o, f->ctx), AGC_OK);
    assert_string_equal(agc_provider_name(f->p), "anthropic");
}

static void fx_close(fx *f)
{
    agc_provider_close(f->p);
    agc_secret_free(f->key);
    agc_ctx_free(f->ctx);
    assert_int_equal(agc_fakellm_stop(f->fake), 0);
}

#define TEXTPART(t)                                                                                \
    {                                                                                              \
        AGC_PART_TEXT, (t), NULL, NULL, NULL                                                       \
    }

static agc_part hi_part[] = {TEXTPART("Hi there")};
static agc_message hi_msg[] = {{.role = AGC_ROLE_USER, .parts = hi_part, .n_parts = 1}};

static agc_chat_request hi_req(void)
{
    agc_chat_request r = AGC_CHAT_REQUEST_INIT;
    r.messages = hi_msg;
    r.n_messages = 1;
    return r;
}

/* Body of the i-th recorded request (borrowed from reqs). */
static json_t *body_of(json_t *reqs, size_t i)
{
    json_t *r = json_array_get(reqs, i);
    assert_non_null(r);
    return json_object_get(r, "body");
}

static void expect_json(const json_t *got, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    assert_non_null(w);
    if (!got || !json_equal(got, w)) {
        char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
        fprintf(stderr, "got  %s\nwant %s\n", g ? g : "(nothing)", want);
        free(g);
        fail();
    }
    json_decref(w);
}

/* Collects the text of TEXT deltas and counts each kind. */
typedef struct sink {
    agc_buf text;
    agc_buf calls;
    int n_text, n_call, n_retry;
    int cancel_after; /* return ECANCELED on this text delta (1-based), 0 = never */
} sink;

static agc_status on_delta(const agc_delta *d, void *user)
{
    sink *s = user;
    if (d->kind == AGC_DELTA_TEXT) {
        s->n_text++;
        assert_int_equal(strlen(d->text), d->text_len);
        if (agc_buf_append(&s->text, d->text, d->text_len) != AGC_OK)
            return AGC_ENOMEM;
        if (s->cancel_after && s->n_text == s->cancel_after)
            return AGC_ECANCELED;
    } else if (d->kind == AGC_DELTA_TOOL_CALL) {
        s->n_call++;
        if (agc_buf_printf(&s->calls, "%zu:%s:%s:%s|", d->index, d->id ? d->id : "",
                           d->name ? d->name : "", d->arguments_delta) != AGC_OK)
            return AGC_ENOMEM;
    } else if (d->kind == AGC_DELTA_RETRY) {
        s->n_retry++;
    }
    return AGC_OK;
}

static void sink_init(sink *s, agc_ctx *ctx)
{
    memset(s, 0, sizeof *s);
    agc_buf_init(&s->text, ctx, 0);
    agc_buf_init(&s->calls, ctx, 0);
}

static void sink_free(sink *s)
{
    agc_buf_free(&s->text);
    agc_buf_free(&s->calls);
}

/* ---- answers ------------------------------------------------------------------------ */

static void plain_text_answer_sends_auth_and_version_headers(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"text\":\"Hello!\",\"request_id\":\"req_abc\",\"usage\":"
            "{\"input_tokens\":12,\"output_tokens\":3}}]}",
            NULL);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "Hello!");
    assert_int_equal(r->finish, AGC_FINISH_STOP);
    assert_string_equal(r->finish_raw, "end_turn");
    assert_string_equal(r->request_id, "req_abc");
    assert_string_equal(r->provider, "anthropic");
    assert_non_null(r->id);
    assert_true(r->usage.known);
    assert_int_equal(r->usage.input_tokens, 12);
    assert_int_equal(r->usage.output_tokens, 3);
    assert_int_equal(r->attempts, 1);
    assert_true(r->cost_known);
    agc_chat_response_free(r);

    json_t *reqs = agc_fakellm_requests(f.fake);
    assert_int_equal(json_array_size(reqs), 1);
    json_t *r0 = json_array_get(reqs, 0);
    assert_string_equal(agc_json_str(r0, "path", ""), "/v1/messages");
    json_t *h = json_object_get(r0, "headers");
    assert_string_equal(agc_json_str(h, "x-api-key", ""), KEY);
    assert_string_equal(agc_json_str(h, "anthropic-version", ""), "2023-06-01");
    assert_non_null(strstr(agc_json_str(h, "content-type", ""), "application/json"));
    assert_null(json_object_get(h, "authorization"));
    json_t *b = body_of(reqs, 0);
    expect_json(json_object_get(b, "max_tokens"), "4096");
    expect_json(json_object_get(b, "model"), "\"fake-model\"");
    expect_json(json_object_get(b, "messages"),
                "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi there\"}]}]");
    assert_null(json_object_get(b, "stream"));
    json_decref(reqs);
    fx_close(&f);
}

static void stream_keeps_utf8_split_across_chunks(void **state)
{
    (void)state;
    fx f;
    const char *text = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
                       "\xf0\x9f\x98\x80 done";
    char script[512];
    snprintf(script, sizeof script,
             "{\"replies\":[{\"text\":\"%s\",\"fault\":{\"split_bytes\":1}}]}", text);
    fx_open(&f, script, NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_OK);
    assert_string_equal(agc_buf_cstr(&s.text), text);
    assert_string_equal(agc_chat_response_text(r), text);
    assert_true(s.n_text > 1);
    assert_true(r->ttft_ms >= 0);
    assert_int_equal(r->finish, AGC_FINISH_STOP);
    agc_chat_response_free(r);
    json_t *reqs = agc_fakellm_requests(f.fake);
    expect_json(json_object_get(body_of(reqs, 0), "stream"), "true");
    json_t *h = json_object_get(json_array_get(reqs, 0), "headers");
    assert_string_equal(agc_json_str(h, "accept", ""), "text/event-stream");
    json_decref(reqs);
    sink_free(&s);
    fx_close(&f);
}

static const char *two_calls_script =
    "{\"replies\":[{\"tool_calls\":["
    "{\"id\":\"toolu_1\",\"name\":\"read_file\",\"arguments\":{\"path\":\"src/main.c\","
    "\"lines\":[1,20]}},"
    "{\"id\":\"toolu_2\",\"name\":\"list_dir\",\"arguments\":{\"path\":\".\"}}]}]}";

static void streamed_tool_calls_are_assembled_from_json_pieces(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, two_calls_script, NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_OK);
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    assert_string_equal(r->finish_raw, "tool_use");
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].id, "toolu_1");
    assert_string_equal(r->tool_calls[0].name, "read_file");
    assert_string_equal(r->tool_calls[1].id, "toolu_2");
    json_t *a0 = json_loads(r->tool_calls[0].arguments, 0, NULL);
    expect_json(a0, "{\"path\":\"src/main.c\",\"lines\":[1,20]}");
    json_decref(a0);
    json_t *a1 = json_loads(r->tool_calls[1].arguments, 0, NULL);
    expect_json(a1, "{\"path\":\".\"}");
    json_decref(a1);
    /* the first delta of each call names it; the arguments came in several pieces */
    const char *log = agc_buf_cstr(&s.calls);
    assert_non_null(strstr(log, "0:toolu_1:read_file:|"));
    assert_non_null(strstr(log, "1:toolu_2:list_dir:|"));
    assert_true(s.n_call > 4);
    agc_chat_response_free(r);

    /* the same answer whole */
    agc_fakellm_reset(f.fake);
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_OK);
    assert_int_equal(r->n_tool_calls, 2);
    a0 = json_loads(r->tool_calls[0].arguments, 0, NULL);
    expect_json(a0, "{\"path\":\"src/main.c\",\"lines\":[1,20]}");
    json_decref(a0);
    agc_chat_response_free(r);
    sink_free(&s);
    fx_close(&f);
}

static void thinking_block_is_passed_back_unchanged(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"thinking\":\"Let me think about it.\",\"signature\":"
            "\"EqQBCkYIARgCIkD+sig==\",\"text\":\"It is 4.\"},{\"text\":\"Sure.\"}]}",
            NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_OK);
    assert_int_equal(r->n_parts, 2);
    assert_int_equal(r->parts[0].kind, AGC_PART_THINKING);
    assert_string_equal(r->parts[0].text, "Let me think about it.");
    assert_string_equal(agc_json_str(r->parts[0].raw, "signature", ""), "EqQBCkYIARgCIkD+sig==");

    agc_part follow[] = {TEXTPART("And 3+3?")};
    agc_message msgs[] = {
        hi_msg[0],
        {.role = AGC_ROLE_ASSISTANT, .parts = r->parts, .n_parts = r->n_parts},
        {.role = AGC_ROLE_USER, .parts = follow, .n_parts = 1},
    };
    agc_chat_request req2 = hi_req();
    req2.messages = msgs;
    req2.n_messages = 3;
    agc_chat_response *r2 = NULL;
    assert_int_equal(agc_provider_chat(&r2, f.p, &req2, NULL, NULL), AGC_OK);
    json_t *reqs = agc_fakellm_requests(f.fake);
    expect_json(json_object_get(json_array_get(json_object_get(body_of(reqs, 1), "messages"), 1),
                                "content"),
                "[{\"type\":\"thinking\",\"thinking\":\"Let me think about it.\","
                "\"signature\":\"EqQBCkYIARgCIkD+sig==\"},"
                "{\"type\":\"text\",\"text\":\"It is 4.\"}]");
    json_decref(reqs);
    agc_chat_response_free(r2);
    agc_chat_response_free(r);
    sink_free(&s);
    fx_close(&f);
}

static void tool_results_and_cache_control_are_encoded(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "{\"replies\":[{\"text\":\"done\"}]}", NULL);
    agc_part sys[] = {TEXTPART("You are a coder.")}, r1[] = {TEXTPART("int main(void);")},
             r2[] = {TEXTPART("permission denied")};
    agc_tool_call calls[] = {{"toolu_1", "read_file", "{\"path\":\"a.c\"}"},
                             {"toolu_2", "read_file", "{\"path\":\"/root/x\"}"}};
    agc_message msgs[] = {
        {.role = AGC_ROLE_SYSTEM, .parts = sys, .n_parts = 1},
        hi_msg[0],
        {.role = AGC_ROLE_ASSISTANT, .tool_calls = calls, .n_tool_calls = 2},
        {.role = AGC_ROLE_TOOL, .parts = r1, .n_parts = 1, .tool_call_id = "toolu_1"},
        {.role = AGC_ROLE_TOOL,
         .parts = r2,
         .n_parts = 1,
         .tool_call_id = "toolu_2",
         .is_error = true},
    };
    json_t *schema = json_loads("{\"type\":\"object\",\"properties\":{\"path\":{\"type\":"
                                "\"string\"}},\"required\":[\"path\"]}",
                                0, NULL);
    agc_tool_def tools[] = {{"read_file", "Reads a file", schema, false}};
    agc_chat_request req = hi_req();
    req.messages = msgs;
    req.n_messages = 5;
    req.tools = tools;
    req.n_tools = 1;
    req.cache_system = true;
    req.temperature = 0.25;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    json_t *reqs = agc_fakellm_requests(f.fake);
    json_t *b = body_of(reqs, 0);
    expect_json(json_object_get(b, "system"), "[{\"type\":\"text\",\"text\":\"You are a coder.\","
                                              "\"cache_control\":{\"type\":\"ephemeral\"}}]");
    expect_json(json_object_get(b, "tools"),
                "[{\"name\":\"read_file\",\"description\":\"Reads a file\",\"input_schema\":"
                "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},"
                "\"required\":[\"path\"]},\"cache_control\":{\"type\":\"ephemeral\"}}]");
    expect_json(json_object_get(b, "tool_choice"), "{\"type\":\"auto\"}");
    expect_json(json_object_get(b, "temperature"), "0.25");
    expect_json(json_object_get(b, "messages"),
                "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi there\"}]},"
                "{\"role\":\"assistant\",\"content\":["
                "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"read_file\","
                "\"input\":{\"path\":\"a.c\"}},"
                "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"read_file\","
                "\"input\":{\"path\":\"/root/x\"}}]},"
                "{\"role\":\"user\",\"content\":["
                "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
                "\"content\":\"int main(void);\"},"
                "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2\","
                "\"content\":\"permission denied\",\"is_error\":true}]}]");
    json_decref(reqs);
    json_decref(schema);
    fx_close(&f);
}

static void cache_usage_is_normalised_and_priced(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"text\":\"cached\",\"usage\":{\"input_tokens\":1000,"
            "\"cached_input_tokens\":600,\"cache_write_tokens\":100,\"output_tokens\":50}}],"
            "\"default\":{\"text\":\"cached\",\"usage\":{\"input_tokens\":1000,"
            "\"cached_input_tokens\":600,\"cache_write_tokens\":100,\"output_tokens\":50}}}",
            NULL);
    agc_chat_request req = hi_req();
    for (int streamed = 0; streamed <= 1; streamed++) {
        sink s;
        sink_init(&s, f.ctx);
        agc_chat_response *r = NULL;
        assert_int_equal(agc_provider_chat(&r, f.p, &req, streamed ? on_delta : NULL, &s), AGC_OK);
        assert_true(r->usage.known);
        assert_int_equal(r->usage.input_tokens, 1000);
        assert_int_equal(r->usage.cached_input_tokens, 600);
        assert_int_equal(r->usage.cache_write_tokens, 100);
        assert_int_equal(r->usage.output_tokens, 50);
        assert_true(r->cost_known);
        /* fake-model: input 1.0, cached 0.5, cache write 1.25, output 2.0 USD/Mtok */
        double want = (300 * 1.0 + 600 * 0.5 + 100 * 1.25 + 50 * 2.0) / 1e6;
        assert_true(r->cost_usd > want - 1e-12 && r->cost_usd < want + 1e-12);
        agc_chat_response_free(r);
        sink_free(&s);
    }
    fx_close(&f);
}

static void structured_output_comes_back_as_json_text(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"tool_calls\":[{\"id\":\"toolu_s\",\"name\":\"answer\","
            "\"arguments\":{\"n\":42}}]}],\"default\":{\"tool_calls\":[{\"id\":\"toolu_s\","
            "\"name\":\"answer\",\"arguments\":{\"n\":42}}]}}",
            NULL);
    json_t *schema = json_loads("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
                                "\"integer\"}}}",
                                0, NULL);
    agc_chat_request req = hi_req();
    req.format = AGC_FORMAT_JSON_SCHEMA;
    req.response_schema = schema;
    req.response_schema_name = "answer";
    for (int streamed = 0; streamed <= 1; streamed++) {
        sink s;
        sink_init(&s, f.ctx);
        agc_chat_response *r = NULL;
        assert_int_equal(agc_provider_chat(&r, f.p, &req, streamed ? on_delta : NULL, &s), AGC_OK);
        assert_int_equal(r->finish, AGC_FINISH_STOP);
        assert_int_equal(r->n_tool_calls, 0);
        json_t *t = json_loads(agc_chat_response_text(r), 0, NULL);
        expect_json(t, "{\"n\":42}");
        json_decref(t);
        expect_json(r->parsed, "{\"n\":42}");
        if (streamed)
            assert_string_equal(agc_buf_cstr(&s.text), agc_chat_response_text(r));
        agc_chat_response_free(r);
        sink_free(&s);
    }
    json_t *reqs = agc_fakellm_requests(f.fake);
    expect_json(json_object_get(body_of(reqs, 0), "tool_choice"),
                "{\"type\":\"tool\",\"name\":\"answer\"}");
    json_decref(reqs);
    json_decref(schema);
    fx_close(&f);
}

/* ---- errors ----------------------------------------------------------------------- */

static void http_errors_map_to_statuses_with_the_server_message(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":["
            "{\"fault\":{\"status\":400,\"error\":\"max_tokens: must be positive\"}},"
            "{\"fault\":{\"status\":401,\"error\":\"invalid x-api-key\"}},"
            "{\"fault\":{\"status\":404,\"error\":\"model: fake-model\"}},"
            "{\"fault\":{\"status\":403,\"error\":\"no access\"}}]}",
            NULL);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_EINVAL);
    assert_null(r);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "max_tokens: must be positive"));
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "invalid_request_error"));
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "req_fake_"));
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_EAUTH);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "ANTHROPIC_API_KEY"));
    assert_null(strstr(agc_ctx_errmsg(f.ctx), KEY));
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "fake-model"));
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, NULL), AGC_EAUTH);
    json_t *reqs = agc_fakellm_requests(f.fake);
    assert_int_equal(json_array_size(reqs), 4); /* none retried */
    json_decref(reqs);
    fx_close(&f);
}

static void rate_limit_honours_retry_after_on_the_clock(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"fault\":{\"status\":429,\"error\":\"slow down\","
            "\"retry_after\":\"7\"}},{\"text\":\"after the wait\"}]}",
            NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "after the wait");
    assert_int_equal(r->attempts, 2);
    assert_int_equal(f.clk.slept_ms, 7000);
    assert_int_equal(s.n_retry, 1);
    agc_chat_response_free(r);
    sink_free(&s);
    fx_close(&f);

    /* retry-after-ms wins; exhausted retries give AGC_ERATELIMIT */
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 2;
    fx_open(&f,
            "{\"replies\":[{\"fault\":{\"status\":429,\"retry_after\":\"9\","
            "\"retry_after_ms\":\"1500\"},\"times\":5}]}",
            &o);
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_ERATELIMIT);
    assert_int_equal(f.clk.slept_ms, 1500);
    fx_close(&f);
}

static void overloaded_529_is_retried_then_succeeds(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"fault\":{\"status\":529,\"error\":\"Overloaded\"},\"times\":2},"
            "{\"text\":\"finally\"}]}",
            NULL);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "finally");
    assert_int_equal(r->attempts, 3);
    assert_true(f.clk.slept_ms <= 500 + 1000);
    agc_chat_response_free(r);
    fx_close(&f);
}

#define SSE_START                                                                                  \
    "event: message_start\\ndata: {\\\"type\\\":\\\"message_start\\\",\\\"message\\\":"            \
    "{\\\"id\\\":\\\"msg_e\\\",\\\"model\\\":\\\"fake-model\\\",\\\"usage\\\":"                    \
    "{\\\"input_tokens\\\":3,\\\"output_tokens\\\":1}}}\\n\\n"
#define SSE_TEXT                                                                                   \
    "event: content_block_start\\ndata: {\\\"index\\\":0,\\\"content_block\\\":"                   \
    "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"\\\"}}\\n\\n"                                     \
    "event: content_block_delta\\ndata: {\\\"index\\\":0,\\\"delta\\\":"                           \
    "{\\\"type\\\":\\\"text_delta\\\",\\\"text\\\":\\\"partial\\\"}}\\n\\n"
#define SSE_OVERLOADED                                                                             \
    "event: error\\ndata: {\\\"type\\\":\\\"error\\\",\\\"error\\\":{\\\"type\\\":"                \
    "\\\"overloaded_error\\\",\\\"message\\\":\\\"Overloaded\\\"}}\\n\\n"

static void overloaded_event_in_a_stream_is_retried_only_before_output(void **state)
{
    (void)state;
    fx f;
    fx_open(
        &f,
        "{\"replies\":[{\"fault\":{\"content_type\":\"text/event-stream\",\"raw_body\":\"" SSE_START
            SSE_OVERLOADED "\"}},{\"text\":\"recovered\"},"
        "{\"fault\":{\"content_type\":\"text/event-stream\",\"raw_body\":\"" SSE_START SSE_TEXT
            SSE_OVERLOADED "\"}}]}",
        NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "recovered");
    assert_int_equal(r->attempts, 2);
    assert_int_equal(s.n_retry, 1);
    agc_chat_response_free(r);

    agc_buf_clear(&s.text);
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_EOVERLOADED);
    assert_string_equal(agc_buf_cstr(&s.text), "partial");
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "not retried"));
    char all[2048];
    assert_non_null(strstr(agc_error_format(f.ctx, all, sizeof all), "Overloaded"));
    json_t *reqs = agc_fakellm_requests(f.fake);
    assert_int_equal(json_array_size(reqs), 3);
    json_decref(reqs);
    sink_free(&s);
    fx_close(&f);
}

static void truncated_and_malformed_answers_are_protocol_errors(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"text\":\"cut short here\",\"fault\":{\"truncate\":true}},"
            "{\"text\":\"broken json\",\"fault\":{\"malformed\":true}},"
            "{\"text\":\"broken event\",\"fault\":{\"malformed\":true}},"
            "{\"fault\":{\"raw_body\":\"{\\\"type\\\":\\\"message\\\"}\"}}]}",
            NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "truncated"));
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "not valid JSON"));
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "malformed"));
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_EPROTO);
    assert_null(r);
    json_t *reqs = agc_fakellm_requests(f.fake);
    assert_int_equal(json_array_size(reqs), 4); /* none retried */
    json_decref(reqs);
    sink_free(&s);
    fx_close(&f);
}

static void reset_after_output_is_not_retried(void **state)
{
    (void)state;
    fx f;
    fx_open(&f,
            "{\"replies\":[{\"text\":\"one two three four five six seven eight\","
            "\"fault\":{\"reset_after_events\":6}}],\"default\":{\"text\":\"again\"}}",
            NULL);
    sink s;
    sink_init(&s, f.ctx);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    agc_status st = agc_provider_chat(&r, f.p, &req, on_delta, &s);
    assert_int_equal(st, AGC_ENET);
    assert_true(s.text.len > 0);
    assert_non_null(strstr(agc_ctx_errmsg(f.ctx), "not retried"));
    json_t *reqs = agc_fakellm_requests(f.fake);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);

    /* a reset before any output is a transport error: retried */
    agc_fakellm_set_script(f.fake, "{\"replies\":[{\"text\":\"x y z\",\"fault\":"
                                   "{\"reset_after_events\":1}},{\"text\":\"whole\"}]}");
    agc_buf_clear(&s.text);
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "whole");
    assert_int_equal(r->attempts, 2);
    agc_chat_response_free(r);
    sink_free(&s);
    fx_close(&f);
}

/* ---- cancellation ------------------------------------------------------------------ */

static void stream_callback_can_cancel_mid_stream(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "{\"replies\":[{\"text\":\"one two three four five six\"}]}", NULL);
    sink s;
    sink_init(&s, f.ctx);
    s.cancel_after = 2;
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, on_delta, &s), AGC_ECANCELED);
    assert_null(r);
    assert_int_equal(s.n_text, 2);
    json_t *reqs = agc_fakellm_requests(f.fake);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);
    sink_free(&s);
    fx_close(&f);
}

typedef struct canceler {
    agc_provider *p;
    int *n_text;
} canceler;

static void *cancel_thread(void *arg)
{
    canceler *c = arg;
    struct timespec ts = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000 && __atomic_load_n(c->n_text, __ATOMIC_SEQ_CST) < 1; i++)
        nanosleep(&ts, NULL);
    agc_provider_cancel(c->p);
    return NULL;
}

static agc_status count_delta(const agc_delta *d, void *user)
{
    if (d->kind == AGC_DELTA_TEXT)
        __atomic_add_fetch((int *)user, 1, __ATOMIC_SEQ_CST);
    return AGC_OK;
}

static void another_thread_can_cancel_mid_stream(void **state)
{
    (void)state;
    fx f;
    /* 8 words dripped 300 ms apart: ~2.4 s if never canceled */
    fx_open(&f, "{\"replies\":[{\"text\":\"a b c d e f g h\",\"fault\":{\"drip_ms\":300}}]}", NULL);
    int n_text = 0;
    canceler c = {f.p, &n_text};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_thread, &c), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    agc_chat_request req = hi_req();
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, count_delta, &n_text), AGC_ECANCELED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    assert_null(r);
    assert_true(n_text >= 1 && n_text < 8);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 2000);

    /* the provider works again afterwards */
    agc_fakellm_set_script(f.fake, "{\"replies\":[{\"text\":\"fine\"}]}");
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "fine");
    agc_chat_response_free(r);
    fx_close(&f);
}

static void extra_headers_and_api_version_are_sent(void **state)
{
    (void)state;
    fx f;
    json_t *hdrs = json_loads("{\"anthropic-beta\":\"prompt-caching-2024-07-31\"}", 0, NULL);
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.headers = hdrs;
    o.api_version = "2024-01-01";
    fx_open(&f, "{\"replies\":[{\"text\":\"ok\"}]}", &o);
    agc_chat_request req = hi_req();
    req.max_tokens = 100;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, f.p, &req, NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    json_t *reqs = agc_fakellm_requests(f.fake);
    json_t *h = json_object_get(json_array_get(reqs, 0), "headers");
    assert_string_equal(agc_json_str(h, "anthropic-beta", ""), "prompt-caching-2024-07-31");
    assert_string_equal(agc_json_str(h, "anthropic-version", ""), "2024-01-01");
    expect_json(json_object_get(body_of(reqs, 0), "max_tokens"), "100");
    json_decref(reqs);
    json_decref(hdrs);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_text_answer_sends_auth_and_version_headers),
        cmocka_unit_test(stream_keeps_utf8_split_across_chunks),
        cmocka_unit_test(streamed_tool_calls_are_assembled_from_json_pieces),
        cmocka_unit_test(thinking_block_is_passed_back_unchanged),
        cmocka_unit_test(tool_results_and_cache_control_are_encoded),
        cmocka_unit_test(cache_usage_is_normalised_and_priced),
        cmocka_unit_test(structured_output_comes_back_as_json_text),
        cmocka_unit_test(http_errors_map_to_statuses_with_the_server_message),
        cmocka_unit_test(rate_limit_honours_retry_after_on_the_clock),
        cmocka_unit_test(overloaded_529_is_retried_then_succeeds),
        cmocka_unit_test(overloaded_event_in_a_stream_is_retried_only_before_output),
        cmocka_unit_test(truncated_and_malformed_answers_are_protocol_errors),
        cmocka_unit_test(reset_after_output_is_not_retried),
        cmocka_unit_test(stream_callback_can_cancel_mid_stream),
        cmocka_unit_test(another_thread_can_cancel_mid_stream),
        cmocka_unit_test(extra_headers_and_api_version_are_sent),
    };
    return cmocka_run_group_tests_name("providers_anthropic", tests, NULL, NULL);
}
