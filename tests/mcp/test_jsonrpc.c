/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* mcp jsonrpc: parsing and validation of every message shape, builders, OOM. */
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"

static agc_ctx *new_ctx(void)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    return ctx;
}

static agc_status parse(agc_jsonrpc_msg *m, const char *text, agc_ctx *ctx)
{
    return agc_jsonrpc_parse(m, text, strlen(text), ctx);
}

static void parses_requests_notifications_and_responses(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    agc_jsonrpc_msg m;
    assert_int_equal(parse(&m,
                           "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\","
                           "\"params\":{\"cursor\":\"x\"}}",
                           ctx),
                     AGC_OK);
    assert_int_equal(m.kind, AGC_JSONRPC_REQUEST);
    assert_int_equal(json_integer_value(m.id), 7);
    assert_string_equal(m.method, "tools/list");
    assert_string_equal(agc_json_str(m.params, "cursor", ""), "x");
    agc_jsonrpc_msg_clear(&m);

    assert_int_equal(parse(&m, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}", ctx),
                     AGC_OK);
    assert_int_equal(m.kind, AGC_JSONRPC_REQUEST);
    assert_string_equal(json_string_value(m.id), "abc");
    assert_null(m.params);
    agc_jsonrpc_msg_clear(&m);

    assert_int_equal(
        parse(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", ctx), AGC_OK);
    assert_int_equal(m.kind, AGC_JSONRPC_NOTIFICATION);
    assert_null(m.id);
    agc_jsonrpc_msg_clear(&m);

    assert_int_equal(parse(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":1}}", ctx), AGC_OK);
    assert_int_equal(m.kind, AGC_JSONRPC_RESULT);
    assert_int_equal(agc_json_int(m.result, "a", 0), 1);
    agc_jsonrpc_msg_clear(&m);

    assert_int_equal(parse(&m,
                           "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                           "\"message\":\"bad\",\"data\":[1]}}",
                           ctx),
                     AGC_OK);
    assert_int_equal(m.kind, AGC_JSONRPC_ERROR);
    assert_null(m.id);
    assert_int_equal(m.error_code, -32700);
    assert_string_equal(m.error_message, "bad");
    assert_true(json_is_array(m.error_data));
    agc_jsonrpc_msg_clear(&m);
    agc_ctx_free(ctx);
}

static void invalid_json_is_a_parse_error_with_position(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    agc_jsonrpc_msg m;
    assert_int_equal(parse(&m, "{\"jsonrpc\": \"2.0\", \"id\": 1, nope}", ctx), AGC_EPARSE);
    assert_int_equal(m.kind, AGC_JSONRPC_INVALID);
    assert_int_equal(m.error_code, AGC_JSONRPC_PARSE_ERROR);
    char buf[512];
    agc_error_format(ctx, buf, sizeof buf);
    assert_non_null(strstr(buf, "parse error"));
    assert_non_null(strstr(buf, "message:1:"));
    agc_jsonrpc_msg_clear(&m);
    assert_int_equal(parse(&m, "", ctx), AGC_EPARSE);
    agc_jsonrpc_msg_clear(&m);
    assert_int_equal(parse(&m, "{\"a\":1,\"a\":2}", ctx), AGC_EPARSE);
    agc_jsonrpc_msg_clear(&m);
    agc_ctx_free(ctx);
}

typedef struct bad_case {
    const char *text;
    const char *needle; /* in the ctx message */
    bool has_id;
} bad_case;

static void malformed_messages_are_invalid_requests(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", "batch", false},
        {"[]", "batch", false},
        {"42", "must be a JSON object, got integer", false},
        {"\"ping\"", "got string", false},
        {"null", "got null", false},
        {"{\"id\":1,\"method\":\"ping\"}", "'jsonrpc' is missing", true},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", "'jsonrpc' must be", true},
        {"{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}", "'jsonrpc' must be", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", "neither 'method'", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", "'method' must be a non-empty string",
         true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", "non-empty", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
         "'id' must be a string or an "
         "integer, got number",
         false},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", "got null", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", "got boolean", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", "got object", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}",
         "'params' must be an "
         "object",
         true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":{}}", "must not carry", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}", "both", true},
        {"{\"jsonrpc\":\"2.0\",\"result\":{}}", "must carry an 'id'", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", "string or integer 'id'", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"x\"}", "'error' must be an object", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
         "'error.code' must be an integer", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}", "'error.message'", true},
    };
    agc_ctx *ctx = new_ctx();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        agc_jsonrpc_msg m;
        agc_status st = parse(&m, cases[i].text, ctx);
        if (st != AGC_EPROTO || !strstr(agc_ctx_errmsg(ctx), cases[i].needle))
            fail_msg("case %zu (%s): status %d message '%s'", i, cases[i].text, st,
                     agc_ctx_errmsg(ctx));
        assert_int_equal(m.kind, AGC_JSONRPC_INVALID);
        assert_int_equal(m.error_code, AGC_JSONRPC_INVALID_REQUEST);
        if (cases[i].has_id != (m.id != NULL))
            fail_msg("case %zu: id recovered = %d", i, m.id != NULL);
        agc_jsonrpc_msg_clear(&m);
    }
    agc_ctx_free(ctx);
}

static void builders_write_compact_one_line_messages(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *id = json_integer(5);
    json_t *sid = json_string("x\ny");
    json_t *params = json_pack("{s:s}", "text", "line1\nline2");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(agc_jsonrpc_build_request(&out, &len, id, "tools/call", params, ctx), AGC_OK);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
                             "\"params\":{\"text\":\"line1\\nline2\"}}");
    assert_int_equal(len, strlen(out));
    agc_free(ctx, out);
    assert_int_equal(
        agc_jsonrpc_build_notification(&out, NULL, "notifications/initialized", NULL, ctx), AGC_OK);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    agc_free(ctx, out);
    assert_int_equal(agc_jsonrpc_build_result(&out, NULL, sid, NULL, ctx), AGC_OK);
    assert_string_equal(out, "{\"jsonrpc\":\"2.0\",\"id\":\"x\\ny\",\"result\":{}}");
    assert_null(memchr(out, '\n', strlen(out)));
    agc_free(ctx, out);
    assert_int_equal(agc_jsonrpc_build_error(&out, NULL, NULL, AGC_JSONRPC_PARSE_ERROR,
                                             "bad \xff text", NULL, ctx),
                     AGC_OK);
    assert_non_null(strstr(out, "\"id\":null"));
    assert_non_null(strstr(out, "\"code\":-32700"));
    assert_non_null(strstr(out, "parse error")); /* invalid UTF-8 replaced by the code name */
    agc_free(ctx, out);
    json_t *bad = json_real(1.5);
    assert_int_equal(agc_jsonrpc_build_request(&out, NULL, bad, "x", NULL, ctx), AGC_EINVAL);
    assert_null(out);
    assert_int_equal(agc_jsonrpc_build_request(&out, NULL, id, "", NULL, ctx), AGC_EINVAL);
    json_decref(bad);
    json_decref(id);
    json_decref(sid);
    json_decref(params);
    assert_string_equal(agc_jsonrpc_code_name(-32601), "method not found");
    assert_string_equal(agc_jsonrpc_code_name(-32050), "server error");
    char b[32];
    json_t *s = json_string("ab");
    assert_string_equal(agc_jsonrpc_id_format(s, b, sizeof b), "\"ab\"");
    assert_string_equal(agc_jsonrpc_id_format(NULL, b, sizeof b), "null");
    json_decref(s);
    agc_ctx_free(ctx);
}

static void built_messages_parse_back(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *id = json_string("req-1");
    json_t *data = json_pack("{s:i}", "n", 1);
    char *out = NULL;
    assert_int_equal(
        agc_jsonrpc_build_error(&out, NULL, id, AGC_JSONRPC_INVALID_PARAMS, "bad args", data, ctx),
        AGC_OK);
    agc_jsonrpc_msg m;
    assert_int_equal(parse(&m, out, ctx), AGC_OK);
    assert_int_equal(m.kind, AGC_JSONRPC_ERROR);
    assert_string_equal(json_string_value(m.id), "req-1");
    assert_int_equal(m.error_code, -32602);
    assert_int_equal(agc_json_int(m.error_data, "n", 0), 1);
    agc_jsonrpc_msg_clear(&m);
    agc_free(ctx, out);
    json_decref(id);
    json_decref(data);
    agc_ctx_free(ctx);
}

/* Parses and builds a mix of messages; parse rejections count as success. */
static agc_status sweep_body(agc_ctx *ctx, void *user)
{
    (void)user;
    static const char *texts[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
        "\"arguments\":{\"text\":\"hello world\",\"list\":[1,2,3,{\"a\":null}]}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"result\":{\"tools\":[{\"name\":\"a\"}]}}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,\"message\":\"nope\"}}",
        "[{\"jsonrpc\":\"2.0\"}]",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
        "{not json",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        agc_jsonrpc_msg m;
        agc_status st = agc_jsonrpc_parse(&m, texts[i], strlen(texts[i]), ctx);
        if (st == AGC_OK && m.kind == AGC_JSONRPC_REQUEST) {
            char *out = NULL;
            st = agc_jsonrpc_build_request(&out, NULL, m.id, m.method, m.params, ctx);
            agc_free(ctx, out);
            if (st == AGC_OK) {
                st = agc_jsonrpc_build_error(&out, NULL, m.id, -32603, "x", m.params, ctx);
                agc_free(ctx, out);
            }
        }
        agc_jsonrpc_msg_clear(&m);
        if (st == AGC_ENOMEM)
            return st;
    }
    return AGC_OK;
}

static void oom_sweep_over_parsing_and_building(void **state)
{
    (void)state;
    long runs = agc_test_oom_sweep(sweep_body, NULL, 0);
    assert_true(runs > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_requests_notifications_and_responses),
        cmocka_unit_test(invalid_json_is_a_parse_error_with_position),
        cmocka_unit_test(malformed_messages_are_invalid_requests),
        cmocka_unit_test(builders_write_compact_one_line_messages),
        cmocka_unit_test(built_messages_parse_back),
        cmocka_unit_test(oom_sweep_over_parsing_and_building),
    };
    return cmocka_run_group_tests_name("mcp_jsonrpc", tests, NULL, NULL);
}
