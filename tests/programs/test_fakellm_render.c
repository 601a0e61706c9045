/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm's pure parts, without HTTP: script checking and reply choice,
 * text splitting at UTF-8 boundaries, and rendering (both wires, streamed or
 * not, errors, body faults) including an out-of-memory sweep. The program's
 * sources are compiled into this test (they are not part of libagentc).
 */
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"

#include "../../programs/fakellm/render.c"
#include "../../programs/fakellm/render_anthropic.c"
#include "../../programs/fakellm/render_openai.c"
#include "../../programs/fakellm/script.c"

static json_t *J(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (!v)
        fail_msg("bad test JSON: %s", err.text);
    return v;
}

/* ---- splitting ------------------------------------------------------------ */

static bool utf8_start(const char *s, size_t i)
{
    return ((unsigned char)s[i] & 0xC0) != 0x80;
}

static void words_split_keeps_characters_whole(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *s = "Grüße aus 東京 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀 end";
    size_t *cuts = NULL, n = 0, len = strlen(s);
    assert_int_equal(fakellm_split_words(&cuts, &n, s, len, ctx), AGC_OK);
    assert_true(n >= 5);
    assert_int_equal(cuts[0], 0);
    assert_int_equal(cuts[n], len);
    for (size_t i = 1; i < n; i++) {
        assert_true(cuts[i] > cuts[i - 1]);
        assert_true(utf8_start(s, cuts[i]));
    }
    assert_int_equal(cuts[1], strlen("Grüße "));
    agc_free(ctx, cuts);

    /* a long text gets long pieces */
    char *big = agc_malloc(ctx, 20001);
    for (size_t i = 0; i < 20000; i++)
        big[i] = i % 6 == 5 ? ' ' : 'a';
    big[20000] = '\0';
    assert_int_equal(fakellm_split_words(&cuts, &n, big, 20000, ctx), AGC_OK);
    assert_true(n >= 5 && n <= 20);
    agc_free(ctx, cuts);
    agc_free(ctx, big);

    assert_int_equal(fakellm_split_words(&cuts, &n, "", 0, ctx), AGC_OK);
    assert_int_equal(n, 0);
    agc_free(ctx, cuts);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void even_split_makes_about_n_pieces(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *s = "{\"path\":\"ü/ö/ä.c\"}";
    size_t *cuts = NULL, n = 0, len = strlen(s);
    assert_int_equal(fakellm_split_even(&cuts, &n, s, len, 3, ctx), AGC_OK);
    assert_true(n >= 3 && n <= 4);
    assert_int_equal(cuts[n], len);
    for (size_t i = 1; i < n; i++)
        assert_true(utf8_start(s, cuts[i]));
    agc_free(ctx, cuts);
    assert_int_equal(fakellm_split_even(&cuts, &n, "ab", 2, 3, ctx), AGC_OK);
    assert_int_equal(n, 2);
    agc_free(ctx, cuts);
    agc_ctx_free(ctx);
}

/* ---- script ----------------------------------------------------------------- */

static void script_check_names_the_bad_member(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    static const struct {
        const char *doc, *msg;
    } cases[] = {
        {"[]", "must be an object"},
        {"{\"replys\":[]}", "script.replys: unknown member"},
        {"{\"replies\":{}}", "script.replies: must be an array"},
        {"{\"replies\":[{\"txt\":\"x\"}]}", "replies[0].txt: unknown member"},
        {"{\"replies\":[{\"text\":1}]}", "replies[0].text: must be a string"},
        {"{\"replies\":[{},{\"tool_calls\":[{\"id\":\"a\"}]}]}", "replies[1].tool_calls[0].name"},
        {"{\"replies\":[{\"fault\":{\"status\":42}}]}",
         "replies[0].fault.status: must be 100..599"},
        {"{\"replies\":[{\"fault\":{\"drip_ms\":-1}}]}", "replies[0].fault.drip_ms"},
        {"{\"replies\":[{\"fault\":{\"split_bytes\":0}}]}", "must be an integer > 0"},
        {"{\"replies\":[{\"usage\":true}]}", "replies[0].usage: must be an object or false"},
        {"{\"replies\":[],\"default\":{\"match\":{\"who\":1}}}", "default.match.who"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = J(cases[i].doc);
        assert_int_equal(fakellm_script_check(doc, ctx), AGC_EINVAL);
        if (!strstr(agc_ctx_errmsg(ctx), cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, agc_ctx_errmsg(ctx), cases[i].msg);
        json_decref(doc);
    }
    json_t *ok = J("{\"comment\":\"c\",\"replies\":[{\"text\":\"a\",\"usage\":false,"
                   "\"tool_calls\":[{\"name\":\"t\",\"arguments\":\"{\\\"x\\\"\"}],"
                   "\"fault\":{\"retry_after\":3,\"retry_after_ms\":\"5\"}}]}");
    assert_int_equal(fakellm_script_check(ok, ctx), AGC_OK);
    json_decref(ok);
    agc_ctx_free(ctx);
}

static const char *pick_text(fakellm_script *s, const char *path, const char *body, agc_ctx *ctx,
                             char *buf, size_t size)
{
    json_t *b = J(body);
    unsigned long seq;
    char *why = NULL;
    json_t *r = fakellm_script_pick(s, path, b, &seq, &why, ctx);
    snprintf(buf, size, "%s", r ? agc_json_str(r, "text", "?") : why);
    json_decref(r);
    json_decref(b);
    agc_free(ctx, why);
    return buf;
}

static void pick_prefers_matches_then_cursor_then_default(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    json_t *doc = J("{\"replies\":[{\"text\":\"A\",\"times\":2},"
                    "{\"match\":{\"last_message_contains\":\"tool says\"},\"text\":\"M\"},"
                    "{\"text\":\"B\"}]}");
    fakellm_script *s = NULL;
    assert_int_equal(fakellm_script_new(&s, doc, "t.json", ctx), AGC_OK);
    json_decref(doc);
    char buf[256];
    const char *plain = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    const char *tool = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                       "\"tool_use_id\":\"x\",\"content\":[{\"type\":\"text\",\"text\":\"the tool "
                       "says 42\"}]}]}]}";
    assert_string_equal(pick_text(s, "/v1/messages", plain, ctx, buf, sizeof buf), "A");
    assert_string_equal(pick_text(s, "/v1/messages", tool, ctx, buf, sizeof buf), "M");
    assert_string_equal(pick_text(s, "/v1/messages", tool, ctx, buf, sizeof buf), "A");
    assert_string_equal(pick_text(s, "/v1/messages", plain, ctx, buf, sizeof buf), "B");
    assert_non_null(strstr(pick_text(s, "/v1/messages", plain, ctx, buf, sizeof buf),
                           "script t.json is exhausted"));
    fakellm_script_reset(s);
    assert_string_equal(pick_text(s, "/v1/messages", plain, ctx, buf, sizeof buf), "A");

    json_t *next = J("{\"replies\":[],\"default\":{\"text\":\"D\"}}");
    assert_int_equal(fakellm_script_replace(s, next, "<posted>", ctx), AGC_OK);
    json_decref(next);
    assert_string_equal(pick_text(s, "/v1/chat/completions", plain, ctx, buf, sizeof buf), "D");
    json_t *bad = J("{\"replies\":[1]}");
    assert_int_equal(fakellm_script_replace(s, bad, "<posted>", ctx), AGC_EINVAL);
    json_decref(bad);
    assert_string_equal(pick_text(s, "/v1/chat/completions", plain, ctx, buf, sizeof buf), "D");
    fakellm_script_free(s);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void last_message_text_joins_parts(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    json_t *b = J("{\"messages\":[{\"role\":\"user\",\"content\":\"old\"},{\"role\":\"user\","
                  "\"content\":[{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"image_url\"},"
                  "{\"type\":\"text\",\"text\":\"two\"}]}]}");
    char *t = fakellm_last_message_text(b, ctx);
    assert_string_equal(t, "one\ntwo");
    agc_free(ctx, t);
    json_decref(b);
    t = fakellm_last_message_text(NULL, ctx);
    assert_string_equal(t, "");
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

/* ---- rendering -------------------------------------------------------------- */

static const char FULL_REPLY[] =
    "{\"thinking\":\"hmm, let me see\",\"text\":\"Hello wörld, this is a reply\","
    "\"tool_calls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":{\"a\":[1,2,3]}},"
    "{\"name\":\"g\",\"arguments\":\"{\\\"b\\\":true}\"}],"
    "\"usage\":{\"input_tokens\":9,\"output_tokens\":4,\"cached_input_tokens\":2,"
    "\"reasoning_tokens\":1},\"fault\":{\"retry_after\":\"1\"}}";

typedef struct render_case {
    const char *reply;
    fakellm_req req;
} render_case;

static agc_status render_once(agc_ctx *ctx, void *user)
{
    const render_case *rc = user;
    json_t *reply = J(rc->reply);
    fakellm_plan p;
    fakellm_plan_init(&p, ctx);
    agc_status st = fakellm_render(&p, reply, &rc->req);
    fakellm_plan_free(&p);
    json_decref(reply);
    return st;
}

static void render_survives_every_allocation_failure(void **state)
{
    (void)state;
    const render_case cases[] = {
        {FULL_REPLY, {FAKELLM_OPENAI, true, true, "m", 3}},
        {FULL_REPLY, {FAKELLM_OPENAI, false, false, "m", 3}},
        {FULL_REPLY, {FAKELLM_ANTHROPIC, true, false, "m", 3}},
        {FULL_REPLY, {FAKELLM_ANTHROPIC, false, false, NULL, 3}},
        {"{\"fault\":{\"status\":529,\"error\":\"busy\"}}",
         {FAKELLM_ANTHROPIC, true, false, "m", 1}},
        {"{\"text\":\"x y\",\"fault\":{\"malformed\":true,\"truncate\":true,\"oversize_bytes\":9}}",
         {FAKELLM_OPENAI, true, false, "m", 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(agc_test_oom_sweep(render_once, (void *)&cases[i], 0) > 10);
}

static json_t *plan_json(const fakellm_plan *p, size_t i)
{
    const char *data = strstr(p->events[i], "data: ");
    return json_loads(data ? data + 6 : p->events[i], JSON_DECODE_ANY, NULL);
}

static void render_fills_plan_headers_and_fault_knobs(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    json_t *reply = J("{\"text\":\"hi there\",\"request_id\":\"r-9\",\"fault\":{\"drip_ms\":5,"
                      "\"split_bytes\":3,\"reset_after_events\":2,\"delay_ms\":7,"
                      "\"retry_after_ms\":250}}");
    fakellm_req req = {FAKELLM_ANTHROPIC, true, false, NULL, 1};
    fakellm_plan p;
    fakellm_plan_init(&p, ctx);
    assert_int_equal(fakellm_render(&p, reply, &req), AGC_OK);
    assert_int_equal(p.status, 200);
    assert_true(p.stream);
    assert_string_equal(p.content_type, "text/event-stream");
    assert_int_equal(p.drip_ms, 5);
    assert_int_equal(p.split_bytes, 3);
    assert_int_equal(p.reset_after_events, 2);
    assert_int_equal(p.delay_ms, 7);
    assert_int_equal(p.n_headers, 2);
    assert_string_equal(p.headers[0].name, "request-id");
    assert_string_equal(p.headers[0].value, "r-9");
    assert_string_equal(p.headers[1].value, "250");
    assert_memory_equal(p.events[0], "event: message_start\n", 21);
    json_t *start = plan_json(&p, 0);
    assert_string_equal(json_string_value(agc_json_pointer_get(start, "/message/model")),
                        "fake-model");
    json_decref(start);
    fakellm_plan_free(&p);
    json_decref(reply);

    /* OpenAI whole body with oversize: padded content, unsent thinking */
    reply = J(FULL_REPLY);
    json_object_set_new(json_object_get(reply, "fault"), "oversize_bytes", json_integer(100));
    req = (fakellm_req){FAKELLM_OPENAI, false, false, "gpt", 2};
    fakellm_plan_init(&p, ctx);
    assert_int_equal(fakellm_render(&p, reply, &req), AGC_OK);
    assert_int_equal(p.n_events, 1);
    json_t *body = plan_json(&p, 0);
    const char *content =
        json_string_value(agc_json_pointer_get(body, "/choices/0/message/content"));
    assert_true(strlen(content) >= 100);
    assert_string_equal(json_string_value(agc_json_pointer_get(body, "/id")), "chatcmpl-fake-2");
    assert_string_equal(
        json_string_value(agc_json_pointer_get(body, "/choices/0/message/tool_calls/1/id")),
        "call_fake_1");
    assert_string_equal(json_string_value(agc_json_pointer_get(
                            body, "/choices/0/message/tool_calls/0/function/arguments")),
                        "{\"a\":[1,2,3]}");
    assert_null(strstr(p.events[0], "hmm"));
    json_decref(body);
    fakellm_plan_free(&p);
    json_decref(reply);

    /* usage false: no usage anywhere */
    reply = J("{\"text\":\"x\",\"usage\":false}");
    req = (fakellm_req){FAKELLM_OPENAI, true, true, NULL, 1};
    fakellm_plan_init(&p, ctx);
    assert_int_equal(fakellm_render(&p, reply, &req), AGC_OK);
    for (size_t i = 0; i < p.n_events; i++)
        assert_null(strstr(p.events[i], "prompt_tokens"));
    fakellm_plan_free(&p);
    json_decref(reply);
    agc_ctx_free(ctx);
}

static void error_bodies_follow_each_wire(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    static const struct {
        fakellm_wire wire;
        int status;
        const char *ptr, *want;
    } cases[] = {
        {FAKELLM_ANTHROPIC, 529, "/error/type", "overloaded_error"},
        {FAKELLM_ANTHROPIC, 429, "/error/type", "rate_limit_error"},
        {FAKELLM_ANTHROPIC, 401, "/error/type", "authentication_error"},
        {FAKELLM_ANTHROPIC, 500, "/type", "error"},
        {FAKELLM_OPENAI, 429, "/error/code", "rate_limit_exceeded"},
        {FAKELLM_OPENAI, 401, "/error/code", "invalid_api_key"},
        {FAKELLM_OPENAI, 500, "/error/type", "server_error"},
        {FAKELLM_OPENAI, 400, "/error/message", "boom"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fakellm_plan p;
        fakellm_plan_init(&p, ctx);
        assert_int_equal(fakellm_render_error(&p, cases[i].wire, cases[i].status, NULL, "boom"),
                         AGC_OK);
        assert_int_equal(p.status, cases[i].status);
        json_t *v = plan_json(&p, 0);
        assert_string_equal(json_string_value(agc_json_pointer_get(v, cases[i].ptr)),
                            cases[i].want);
        json_decref(v);
        fakellm_plan_free(&p);
    }
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_split_keeps_characters_whole),
        cmocka_unit_test(even_split_makes_about_n_pieces),
        cmocka_unit_test(script_check_names_the_bad_member),
        cmocka_unit_test(pick_prefers_matches_then_cursor_then_default),
        cmocka_unit_test(last_message_text_joins_parts),
        cmocka_unit_test(render_survives_every_allocation_failure),
        cmocka_unit_test(render_fills_plan_headers_and_fault_knobs),
        cmocka_unit_test(error_bodies_follow_each_wire),
    };
    return cmocka_run_group_tests_name("programs_fakellm_render", tests, NULL, NULL);
}
