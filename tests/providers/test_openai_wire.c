/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * providers openai_wire: the chat-completions wire without a network.
 * Request encoding (content forms, tools, tool_choice, quirks, extra),
 * decoding of whole answers, stream chunks (interleaved tool calls, usage
 * chunk, [DONE], truncation, error events, malformed chunks), error bodies,
 * Retry-After parsing, and OOM sweeps over encoding and decoding.
 */
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "providers/openai_int.h"

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    assert_non_null(j);
    return j;
}

static json_t *encode(agc_ctx *ctx, const agc_chat_request *req, bool mct, bool stream)
{
    agc__oai_quirks q = {mct};
    json_t *body = NULL;
    agc_status st = agc__oai_encode_request(&body, req, &q, stream, ctx);
    if (st != AGC_OK)
        fail_msg("encode: %s", agc_ctx_errmsg(ctx));
    return body;
}

static agc_part text_part(const char *t)
{
    agc_part p = {AGC_PART_TEXT, t, NULL, NULL, NULL};
    return p;
}

/* ---- encoding ---------------------------------------------------------------------- */

static void encodes_plain_text_messages_as_strings(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_part sys = text_part("be brief"), usr = text_part("hi");
    agc_part think = {AGC_PART_THINKING, "secret reasoning", NULL, NULL, NULL};
    agc_part asst[2] = {think, text_part("hello")};
    agc_message msgs[3] = {{.role = AGC_ROLE_SYSTEM, .parts = &sys, .n_parts = 1},
                           {.role = AGC_ROLE_USER, .parts = &usr, .n_parts = 1},
                           {.role = AGC_ROLE_ASSISTANT, .parts = asst, .n_parts = 2}};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "gpt-x";
    req.messages = msgs;
    req.n_messages = 3;
    req.max_tokens = 100;
    json_t *b = encode(ctx, &req, false, false);
    assert_string_equal(agc_json_str(b, "model", ""), "gpt-x");
    json_t *m = json_object_get(b, "messages");
    assert_int_equal(json_array_size(m), 3);
    assert_string_equal(agc_json_str(json_array_get(m, 0), "role", ""), "system");
    assert_string_equal(agc_json_str(json_array_get(m, 0), "content", ""), "be brief");
    assert_string_equal(agc_json_str(json_array_get(m, 1), "content", ""), "hi");
    /* the thinking part is not sent: one text part left, a plain string */
    assert_string_equal(agc_json_str(json_array_get(m, 2), "content", ""), "hello");
    assert_int_equal(agc_json_int(b, "max_tokens", 0), 100);
    assert_null(json_object_get(b, "max_completion_tokens"));
    assert_null(json_object_get(b, "stream"));
    assert_null(json_object_get(b, "tools"));
    assert_null(json_object_get(b, "tool_choice"));
    assert_null(json_object_get(b, "temperature"));
    json_decref(b);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void encodes_images_tool_calls_and_tool_results(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_part up[2] = {text_part("what is this?"),
                      {AGC_PART_IMAGE, NULL, "data:image/png;base64,AAAA", "image/png", NULL}};
    agc_tool_call calls[2] = {{"call_1", "read", "{\"path\":\"a\"}"}, {"call_2", "ls", ""}};
    agc_part res = text_part("file body");
    agc_message msgs[3] = {
        {.role = AGC_ROLE_USER, .parts = up, .n_parts = 2},
        {.role = AGC_ROLE_ASSISTANT, .tool_calls = calls, .n_tool_calls = 2},
        {.role = AGC_ROLE_TOOL, .parts = &res, .n_parts = 1, .tool_call_id = "call_1"}};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = msgs;
    req.n_messages = 3;
    json_t *b = encode(ctx, &req, false, true);
    json_t *m = json_object_get(b, "messages");
    json_t *content = json_object_get(json_array_get(m, 0), "content");
    assert_true(json_is_array(content));
    assert_string_equal(agc_json_str(json_array_get(content, 0), "type", ""), "text");
    assert_string_equal(agc_json_str(json_array_get(content, 1), "type", ""), "image_url");
    assert_string_equal(
        agc_json_str(json_object_get(json_array_get(content, 1), "image_url"), "url", ""),
        "data:image/png;base64,AAAA");
    json_t *asst = json_array_get(m, 1);
    assert_true(json_is_null(json_object_get(asst, "content")));
    json_t *tc = json_object_get(asst, "tool_calls");
    assert_int_equal(json_array_size(tc), 2);
    assert_string_equal(agc_json_str(json_array_get(tc, 0), "id", ""), "call_1");
    assert_string_equal(agc_json_str(json_array_get(tc, 0), "type", ""), "function");
    json_t *fn = json_object_get(json_array_get(tc, 0), "function");
    assert_string_equal(agc_json_str(fn, "name", ""), "read");
    assert_string_equal(agc_json_str(fn, "arguments", ""), "{\"path\":\"a\"}");
    fn = json_object_get(json_array_get(tc, 1), "function");
    assert_string_equal(agc_json_str(fn, "arguments", ""), "{}");
    json_t *tool = json_array_get(m, 2);
    assert_string_equal(agc_json_str(tool, "role", ""), "tool");
    assert_string_equal(agc_json_str(tool, "tool_call_id", ""), "call_1");
    assert_string_equal(agc_json_str(tool, "content", ""), "file body");
    assert_true(json_is_true(json_object_get(b, "stream")));
    assert_true(
        json_is_true(json_object_get(json_object_get(b, "stream_options"), "include_usage")));
    json_decref(b);
    agc_ctx_free(ctx);
}

static void encodes_tools_choice_format_sampling_and_extra(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    json_t *params = parse("{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\"}}}");
    json_t *schema = parse("{\"type\":\"object\"}");
    json_t *extra = parse("{\"temperature\":0.5,\"user\":\"u1\"}");
    agc_tool_def tools[2] = {{"read", "reads a file", params, true}, {"ls", NULL, NULL, false}};
    agc_part usr = text_part("hi");
    agc_message msg = {.role = AGC_ROLE_USER, .parts = &usr, .n_parts = 1};
    const char *stop[] = {"END", "STOP"};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = &msg;
    req.n_messages = 1;
    req.tools = tools;
    req.n_tools = 2;
    req.tool_choice = AGC_TOOL_CHOICE_NAMED;
    req.tool_choice_name = "read";
    req.parallel_tool_calls = false;
    req.format = AGC_FORMAT_JSON_SCHEMA;
    req.response_schema = schema;
    req.response_schema_name = "answer";
    req.temperature = 0.2;
    req.top_p = 0.9;
    req.max_tokens = 50;
    req.stop = stop;
    req.n_stop = 2;
    req.seed = 42;
    req.has_seed = true;
    req.extra = extra;
    json_t *b = encode(ctx, &req, true, false);
    json_t *t = json_object_get(b, "tools");
    assert_int_equal(json_array_size(t), 2);
    json_t *f0 = json_object_get(json_array_get(t, 0), "function");
    assert_string_equal(agc_json_str(json_array_get(t, 0), "type", ""), "function");
    assert_string_equal(agc_json_str(f0, "name", ""), "read");
    assert_string_equal(agc_json_str(f0, "description", ""), "reads a file");
    assert_true(json_equal(json_object_get(f0, "parameters"), params));
    assert_true(json_is_true(json_object_get(f0, "strict")));
    json_t *f1 = json_object_get(json_array_get(t, 1), "function");
    assert_null(json_object_get(f1, "strict"));
    assert_string_equal(agc_json_str(json_object_get(f1, "parameters"), "type", ""), "object");
    json_t *tc = json_object_get(b, "tool_choice");
    assert_string_equal(agc_json_str(tc, "type", ""), "function");
    assert_string_equal(agc_json_str(json_object_get(tc, "function"), "name", ""), "read");
    assert_true(json_is_false(json_object_get(b, "parallel_tool_calls")));
    json_t *rf = json_object_get(b, "response_format");
    assert_string_equal(agc_json_str(rf, "type", ""), "json_schema");
    json_t *js = json_object_get(rf, "json_schema");
    assert_string_equal(agc_json_str(js, "name", ""), "answer");
    assert_true(json_equal(json_object_get(js, "schema"), schema));
    assert_true(json_is_true(json_object_get(js, "strict")));
    assert_int_equal(agc_json_int(b, "max_completion_tokens", 0), 50);
    assert_null(json_object_get(b, "max_tokens"));
    assert_true(agc_json_num(b, "top_p", 0) > 0.89);
    assert_int_equal(json_array_size(json_object_get(b, "stop")), 2);
    assert_int_equal(agc_json_int(b, "seed", 0), 42);
    /* extra is merged last: its temperature wins */
    assert_true(agc_json_num(b, "temperature", 0) > 0.49);
    assert_string_equal(agc_json_str(b, "user", ""), "u1");
    json_decref(b);

    const char *choices[] = {"auto", "none", "required"};
    for (int i = 0; i < 3; i++) {
        req.tool_choice = (agc_tool_choice)i;
        b = encode(ctx, &req, false, false);
        assert_string_equal(json_string_value(json_object_get(b, "tool_choice")), choices[i]);
        json_decref(b);
    }
    json_decref(params);
    json_decref(schema);
    json_decref(extra);
    agc_ctx_free(ctx);
}

static void rejects_bad_messages_with_names(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_quirks q = {false};
    json_t *b = NULL;
    agc_part bad = text_part("ab\xff");
    agc_message m = {.role = AGC_ROLE_USER, .parts = &bad, .n_parts = 1};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = &m;
    req.n_messages = 1;
    assert_int_equal(agc__oai_encode_request(&b, &req, &q, false, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "message 0 (user) text"));
    assert_null(b);

    agc_part ok = text_part("x");
    agc_message t = {.role = AGC_ROLE_TOOL, .parts = &ok, .n_parts = 1};
    req.messages = &t;
    assert_int_equal(agc__oai_encode_request(&b, &req, &q, false, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "tool_call_id"));

    agc_part img = {AGC_PART_IMAGE, NULL, "https://x/y.png", NULL, NULL};
    agc_message ti = {.role = AGC_ROLE_TOOL, .parts = &img, .n_parts = 1, .tool_call_id = "c"};
    req.messages = &ti;
    assert_int_equal(agc__oai_encode_request(&b, &req, &q, false, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "images are only supported in user messages"));

    json_t *extra = json_array();
    req.messages = &m;
    m.parts = &ok;
    req.extra = extra;
    assert_int_equal(agc__oai_encode_request(&b, &req, &q, false, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "extra must be a JSON object"));
    json_decref(extra);
    agc_ctx_free(ctx);
}

/* `server.tool` names (MCP) go out as `server_tool` and come back under their own name */
static void dotted_tool_names_are_mapped_on_the_wire(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_tool_def tools[2] = {{.name = "fs.read_file"}, {.name = "plain"}};
    agc_part p = text_part("hi");
    agc_message m = {.role = AGC_ROLE_USER, .parts = &p, .n_parts = 1};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = &m;
    req.n_messages = 1;
    req.tools = tools;
    req.n_tools = 2;
    req.tool_choice = AGC_TOOL_CHOICE_NAMED;
    req.tool_choice_name = "fs.read_file";
    json_t *body = encode(ctx, &req, false, false);
    json_t *t0 = json_object_get(json_array_get(json_object_get(body, "tools"), 0), "function");
    assert_string_equal(json_string_value(json_object_get(t0, "name")), "fs_read_file");
    json_t *tc = json_object_get(json_object_get(body, "tool_choice"), "function");
    assert_string_equal(json_string_value(json_object_get(tc, "name")), "fs_read_file");
    json_decref(body);

    char w[72];
    assert_string_equal(agc_tool_wire_name(w, sizeof w, "a.b/c d"), "a_b_c_d");
    agc_response_builder *b = NULL;
    assert_int_equal(agc_response_builder_new(&b, NULL, NULL, ctx), AGC_OK);
    agc_response_builder_set_tools(b, tools, 2);
    agc__oai_err err;
    memset(&err, 0, sizeof err);
    const char *ans = "{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"c1\",\"type\":"
                      "\"function\",\"function\":{\"name\":\"fs_read_file\",\"arguments\":\"{}\"}},"
                      "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"plain\","
                      "\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}";
    assert_int_equal(agc__oai_decode_response(b, ans, strlen(ans), &err, "openai", ctx), AGC_OK);
    agc_chat_response *r = NULL;
    assert_int_equal(agc_response_builder_finish(&r, b), AGC_OK);
    agc_response_builder_free(b);
    assert_string_equal(r->tool_calls[0].name, "fs.read_file");
    assert_string_equal(r->tool_calls[1].name, "plain");
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
}

/* ---- whole answers --------------------------------------------------------------------- */

static agc_status decode(agc_chat_response **out, agc__oai_err *err, const char *body, agc_ctx *ctx)
{
    agc_response_builder *b = NULL;
    *out = NULL;
    assert_int_equal(agc_response_builder_new(&b, NULL, NULL, ctx), AGC_OK);
    memset(err, 0, sizeof *err);
    agc_status st = agc__oai_decode_response(b, body, strlen(body), err, "openai", ctx);
    if (st == AGC_OK)
        st = agc_response_builder_finish(out, b);
    agc_response_builder_free(b);
    return st;
}

static void decodes_text_usage_and_meta(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc__oai_err err;
    agc_chat_response *r = NULL;
    const char *body =
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-x-2024\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi "
        "\\u00e9!\",\"reasoning_content\":\"thought\"},\"finish_reason\":\"length\"}],"
        "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,\"prompt_tokens_details\":"
        "{\"cached_tokens\":64},\"completion_tokens_details\":{\"reasoning_tokens\":5}}}";
    assert_int_equal(decode(&r, &err, body, ctx), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "Hi \xc3\xa9!");
    assert_int_equal(r->n_parts, 2);
    assert_int_equal(r->parts[0].kind, AGC_PART_THINKING);
    assert_string_equal(r->parts[0].text, "thought");
    assert_int_equal(r->finish, AGC_FINISH_LENGTH);
    assert_string_equal(r->finish_raw, "length");
    assert_string_equal(r->id, "chatcmpl-1");
    assert_string_equal(r->model, "gpt-x-2024");
    assert_true(r->usage.known);
    assert_int_equal(r->usage.input_tokens, 100);
    assert_int_equal(r->usage.output_tokens, 20);
    assert_int_equal(r->usage.cached_input_tokens, 64);
    assert_int_equal(r->usage.reasoning_tokens, 5);
    agc_chat_response_free(r);

    /* no usage: unknown, never estimated */
    body = "{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}";
    assert_int_equal(decode(&r, &err, body, ctx), AGC_OK);
    assert_false(r->usage.known);
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void decodes_tool_calls_refusals_and_legacy_finish(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_err err;
    agc_chat_response *r = NULL;
    const char *body =
        "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":["
        "{\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"read\",\"arguments\":"
        "\"{\\\"path\\\":\\\"a.c\\\"}\"}},"
        "{\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"ls\",\"arguments\":"
        "{\"path\":\".\"}}}]},\"finish_reason\":\"function_call\"}]}";
    assert_int_equal(decode(&r, &err, body, ctx), AGC_OK);
    assert_int_equal(r->n_parts, 0);
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].id, "call_a");
    assert_string_equal(r->tool_calls[0].name, "read");
    assert_string_equal(r->tool_calls[0].arguments, "{\"path\":\"a.c\"}");
    assert_string_equal(r->tool_calls[1].arguments, "{\"path\":\".\"}");
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    agc_chat_response_free(r);

    /* calls with finish "stop" (some local servers) are normalised to tool_calls */
    body = "{\"choices\":[{\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"ls\","
           "\"arguments\":\"{}\"}}]},\"finish_reason\":\"stop\"}]}";
    assert_int_equal(decode(&r, &err, body, ctx), AGC_OK);
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    assert_string_equal(r->tool_calls[0].id, "call_0"); /* synthesised when missing */
    agc_chat_response_free(r);

    body = "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"I can't help with "
           "that.\"},\"finish_reason\":\"stop\"}]}";
    assert_int_equal(decode(&r, &err, body, ctx), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "I can't help with that.");
    assert_int_equal(r->finish, AGC_FINISH_CONTENT_FILTER);
    assert_string_equal(r->finish_raw, "stop");
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
}

static void malformed_answers_are_eproto_naming_the_fault(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_err err;
    agc_chat_response *r = NULL;
    static const struct {
        const char *body, *needle;
    } cases[] = {
        {"{\"choices\":[{\"message\":{\"content\":\"x\"", "malformed JSON in the response body"},
        {"[1,2]", "not a JSON object"},
        {"{\"choices\":[]}", "no choices"},
        {"{\"object\":\"chat.completion\"}", "no choices"},
        {"{\"choices\":[{\"text\":\"x\"}]}", "no message object"},
        {"{\"choices\":[{\"message\":{\"content\":42}}]}", "neither text nor null"},
        {"{\"choices\":[{\"message\":{\"tool_calls\":{}}}]}", "tool_calls is not an array"},
        {"{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"c\"}]}}]}", "no function name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(decode(&r, &err, cases[i].body, ctx), AGC_EPROTO);
        char buf[2048];
        agc_error_format(ctx, buf, sizeof buf);
        if (!strstr(buf, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, buf, cases[i].needle);
        assert_null(r);
    }
    /* an error object in a 200 answer is an error, not an empty answer */
    assert_int_equal(decode(&r, &err,
                            "{\"error\":{\"message\":\"Rate limit reached\",\"type\":"
                            "\"rate_limit_exceeded\"}}",
                            ctx),
                     AGC_EHTTP);
    assert_true(err.present);
    assert_int_equal(err.status, 429);
    assert_string_equal(err.message, "Rate limit reached");
    agc_ctx_free(ctx);
}

/* ---- streams ------------------------------------------------------------------------- */

typedef struct seen {
    agc_buf log;
    int stop_at; /* return AGC_ECANCELED on this delta (1-based), 0 = never */
    int n;
} seen;

static agc_status on_delta(const agc_delta *d, void *user)
{
    seen *s = user;
    s->n++;
    if (d->kind == AGC_DELTA_TEXT)
        agc_buf_printf(&s->log, "T[%s]", d->text);
    else if (d->kind == AGC_DELTA_TOOL_CALL)
        agc_buf_printf(&s->log, "C%zu[%s|%s|%s]", d->index, d->id ? d->id : "-",
                       d->name ? d->name : "-", d->arguments_delta);
    return s->stop_at && s->n == s->stop_at ? AGC_ECANCELED : AGC_OK;
}

/* Feeds the events (NULL-terminated) to a fresh stream; the end status in *end_st. */
static agc_status run_stream(agc_chat_response **out, seen *sn, agc__oai_stream *s,
                             const char *const *events, agc_ctx *ctx)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->backend = "openai";
    *out = NULL;
    assert_int_equal(agc_response_builder_new(&s->b, sn ? on_delta : NULL, sn, ctx), AGC_OK);
    agc_status st = AGC_OK;
    for (size_t i = 0; events[i] && st == AGC_OK; i++)
        st = agc__oai_stream_event(s, events[i], strlen(events[i]));
    if (st == AGC_OK)
        st = agc__oai_stream_end(s);
    if (st == AGC_OK)
        st = agc_response_builder_finish(out, s->b);
    agc_response_builder_free(s->b);
    return st;
}

static void stream_assembles_interleaved_parallel_tool_calls(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *ev[] = {
        "{\"id\":\"c1\",\"model\":\"m1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
        "\"assistant\",\"content\":\"Let me \"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"look.\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
        "\"type\":\"function\",\"function\":{\"name\":\"read\",\"arguments\":\"\"}}]}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\","
        "\"type\":\"function\",\"function\":{\"name\":\"ls\",\"arguments\":\"{\\\"pa\"}}]}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"{\\\"path\\\":\"}}]}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":"
        "{\"arguments\":\"th\\\":\\\".\\\"}\"}}]}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"\\\"a.c\\\"}\"}}]}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
        "{\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":9,"
        "\"prompt_tokens_details\":{\"cached_tokens\":10}}}",
        "[DONE]",
        "{\"this is\": \"ignored after DONE\"",
        NULL};
    seen sn = {0};
    agc_buf_init(&sn.log, ctx, 0);
    agc__oai_stream s;
    agc_chat_response *r = NULL;
    assert_int_equal(run_stream(&r, &sn, &s, ev, ctx), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "Let me look.");
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].id, "call_1");
    assert_string_equal(r->tool_calls[0].name, "read");
    assert_string_equal(r->tool_calls[0].arguments, "{\"path\":\"a.c\"}");
    assert_string_equal(r->tool_calls[1].id, "call_2");
    assert_string_equal(r->tool_calls[1].arguments, "{\"path\":\".\"}");
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    assert_string_equal(r->id, "c1");
    assert_string_equal(r->model, "m1");
    assert_int_equal(r->usage.input_tokens, 30);
    assert_int_equal(r->usage.cached_input_tokens, 10);
    assert_true(s.got_first);
    assert_string_equal(agc_buf_cstr(&sn.log),
                        "T[Let me ]T[look.]C0[call_1|read|]C1[call_2|ls|{\"pa]"
                        "C0[-|-|{\"path\":]C1[-|-|th\":\".\"}]C0[-|-|\"a.c\"}]");
    agc_buf_free(&sn.log);
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void stream_end_rules_truncation_and_finish_without_done(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_stream s;
    agc_chat_response *r = NULL;
    const char *truncated[] = {"{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}", NULL};
    assert_int_equal(run_stream(&r, NULL, &s, truncated, ctx), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "stream truncated"));
    const char *no_done[] = {"{\"choices\":[{\"delta\":{\"content\":\"Hi\"},"
                             "\"finish_reason\":\"stop\"}]}",
                             NULL};
    assert_int_equal(run_stream(&r, NULL, &s, no_done, ctx), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "Hi");
    assert_false(r->usage.known);
    agc_chat_response_free(r);
    const char *done_only[] = {"{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}", "[DONE]", NULL};
    assert_int_equal(run_stream(&r, NULL, &s, done_only, ctx), AGC_OK);
    assert_int_equal(r->finish, AGC_FINISH_STOP);
    assert_null(r->finish_raw);
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
}

static void stream_errors_malformed_events_and_callback_stop(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_stream s;
    agc_chat_response *r = NULL;
    const char *bad[] = {"{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}", "{\"choices\":[{",
                         NULL};
    assert_int_equal(run_stream(&r, NULL, &s, bad, ctx), AGC_EPROTO);
    char buf[2048];
    assert_non_null(strstr(agc_error_format(ctx, buf, sizeof buf), "stream event #2"));
    const char *err[] = {"{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}",
                         "{\"error\":{\"message\":\"The server had an error\",\"type\":"
                         "\"server_error\"}}",
                         NULL};
    assert_int_equal(run_stream(&r, NULL, &s, err, ctx), AGC_EHTTP);
    assert_true(s.err.present);
    assert_int_equal(s.err.status, 500);
    assert_string_equal(s.err.message, "The server had an error");
    assert_string_equal(s.err.type, "server_error");
    const char *notxt[] = {"{\"choices\":[{\"delta\":{\"content\":[1]}}]}", NULL};
    assert_int_equal(run_stream(&r, NULL, &s, notxt, ctx), AGC_EPROTO);

    seen sn = {0};
    agc_buf_init(&sn.log, ctx, 0);
    sn.stop_at = 2;
    const char *three[] = {"{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}",
                           "{\"choices\":[{\"delta\":{\"content\":\"b\"}}]}",
                           "{\"choices\":[{\"delta\":{\"content\":\"c\"}}]}", "[DONE]", NULL};
    assert_int_equal(run_stream(&r, &sn, &s, three, ctx), AGC_ECANCELED);
    assert_string_equal(agc_buf_cstr(&sn.log), "T[a]T[b]");
    agc_buf_free(&sn.log);
    agc_ctx_free(ctx);
}

static void stream_without_index_keys_calls_by_id(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_stream s;
    agc_chat_response *r = NULL;
    const char *ev[] = {
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"x\","
        "\"arguments\":\"{\\\"k\\\":\"}}]}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"1}\"}}]}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"y\","
        "\"arguments\":{\"k\":2}}}]},\"finish_reason\":\"tool_calls\"}]}",
        NULL};
    assert_int_equal(run_stream(&r, NULL, &s, ev, ctx), AGC_OK);
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].arguments, "{\"k\":1}");
    assert_string_equal(r->tool_calls[1].id, "b");
    assert_string_equal(r->tool_calls[1].arguments, "{\"k\":2}");
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
}

/* ---- error bodies and Retry-After ------------------------------------------------------ */

static void error_bodies_keep_message_and_sanitise_junk(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc__oai_err e;
    const char *j = "{\"error\":{\"message\":\"Invalid model\",\"type\":\"invalid_request_error\","
                    "\"code\":\"model_not_found\"}}";
    agc__oai_parse_error_body(&e, j, strlen(j), ctx);
    assert_string_equal(e.message, "Invalid model");
    assert_string_equal(e.type, "invalid_request_error");
    j = "{\"error\":{\"message\":\"m\",\"code\":\"rate_limit_exceeded\"}}";
    agc__oai_parse_error_body(&e, j, strlen(j), ctx);
    assert_string_equal(e.type, "rate_limit_exceeded");
    j = "{\"error\":\"model is loading\"}";
    agc__oai_parse_error_body(&e, j, strlen(j), ctx);
    assert_string_equal(e.message, "model is loading");
    char junk[400];
    memset(junk, 'x', sizeof junk);
    memcpy(junk, "<html>\r\n\x01\x1b[31m", 14);
    agc__oai_parse_error_body(&e, junk, sizeof junk, ctx);
    assert_int_equal(strlen(e.message), 200);
    assert_null(strchr(e.message, '\r'));
    assert_null(strchr(e.message, '\x1b'));
    assert_int_equal(strncmp(e.message, "<html>  ", 8), 0);
    agc__oai_parse_error_body(&e, "", 0, ctx);
    assert_string_equal(e.message, "");
    assert_null(agc_ctx_last_error(ctx));
    assert_int_equal(agc__oai_error_status("overloaded_error"), 529);
    assert_int_equal(agc__oai_error_status(NULL), 500);
    agc_ctx_free(ctx);
}

static void retry_after_parses_seconds_and_http_dates(void **state)
{
    (void)state;
    /* 1994-11-06T08:49:37Z = 784111777 s */
    int64_t now = 784111777LL * 1000;
    assert_int_equal(agc_parse_retry_after("2", now), 2000);
    assert_int_equal(agc_parse_retry_after(" 120 ", now), 120000);
    assert_int_equal(agc_parse_retry_after("0", now), 0);
    assert_int_equal(agc_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), 10000);
    assert_int_equal(agc_parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now), 60000);
    assert_int_equal(agc_parse_retry_after("Sun Nov  6 08:49:39 1994", now), 2000);
    assert_int_equal(agc_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0); /* past */
    assert_int_equal(agc_parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", 1767225600000LL - 5000),
                     5000);
    assert_int_equal(agc_parse_retry_after("99999999999999999999", now), 2147483647L);
    const char *bad[] = {"",
                         "-1",
                         "1.5",
                         "2s",
                         "soon",
                         "Sun, 6 Nov 1994 08:49:37 GMT",
                         "Sun, 06 Foo 1994 08:49:37 GMT",
                         "Sun, 06 Nov 1994 25:49:37 GMT",
                         "Sun, 06 Nov 1994 08:49:37 UTC",
                         "Sun Nov  6 08:49:37",
                         NULL};
    for (int i = 0; bad[i]; i++)
        if (agc_parse_retry_after(bad[i], now) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(agc_parse_retry_after(NULL, now), -1);
}

/* ---- OOM ----------------------------------------------------------------------------- */

static agc_status oom_encode(agc_ctx *ctx, void *user)
{
    (void)user;
    json_t *params = NULL;
    agc_status st = agc_json_parse(&params, "{\"type\":\"object\"}", 17, NULL, ctx);
    if (st != AGC_OK)
        return st;
    agc_tool_def tool = {"read", "d", params, true};
    agc_part up[2] = {text_part("hi"), {AGC_PART_IMAGE, NULL, "https://x/i.png", NULL, NULL}};
    agc_tool_call call = {"c1", "read", "{}"};
    agc_part res = text_part("out");
    agc_message msgs[3] = {
        {.role = AGC_ROLE_USER, .parts = up, .n_parts = 2},
        {.role = AGC_ROLE_ASSISTANT, .tool_calls = &call, .n_tool_calls = 1},
        {.role = AGC_ROLE_TOOL, .parts = &res, .n_parts = 1, .tool_call_id = "c1"}};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = msgs;
    req.n_messages = 3;
    req.tools = &tool;
    req.n_tools = 1;
    req.format = AGC_FORMAT_JSON_SCHEMA;
    req.response_schema = params;
    agc__oai_quirks q = {true};
    json_t *b = NULL;
    st = agc__oai_encode_request(&b, &req, &q, true, ctx);
    json_decref(b);
    json_decref(params);
    return st;
}

static agc_status oom_decode(agc_ctx *ctx, void *user)
{
    (void)user;
    agc__oai_err err;
    agc_chat_response *r = NULL;
    agc_response_builder *b = NULL;
    agc_status st = agc_response_builder_new(&b, NULL, NULL, ctx);
    if (st != AGC_OK)
        return st;
    const char *body =
        "{\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"message\":{\"content\":\"hi\","
        "\"tool_calls\":[{\"id\":\"c\",\"function\":{\"name\":\"n\",\"arguments\":"
        "{\"a\":1}}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{}}";
    memset(&err, 0, sizeof err);
    st = agc__oai_decode_response(b, body, strlen(body), &err, "openai", ctx);
    if (st == AGC_OK)
        st = agc_response_builder_finish(&r, b);
    agc_response_builder_free(b);
    agc_chat_response_free(r);
    r = NULL;
    if (st != AGC_OK)
        return st;
    agc__oai_stream s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.backend = "openai";
    if ((st = agc_response_builder_new(&s.b, NULL, NULL, ctx)) != AGC_OK)
        return st;
    const char *ev[] = {"{\"id\":\"i\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}",
                        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
                        "\"function\":{\"name\":\"n\",\"arguments\":\"{}\"}}]},"
                        "\"finish_reason\":\"tool_calls\"}]}",
                        "[DONE]"};
    for (int i = 0; i < 3 && st == AGC_OK; i++)
        st = agc__oai_stream_event(&s, ev[i], strlen(ev[i]));
    if (st == AGC_OK)
        st = agc__oai_stream_end(&s);
    if (st == AGC_OK)
        st = agc_response_builder_finish(&r, s.b);
    agc_response_builder_free(s.b);
    agc_chat_response_free(r);
    return st;
}

static void out_of_memory_is_clean(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(oom_encode, NULL, 0) > 10);
    assert_true(agc_test_oom_sweep(oom_decode, NULL, 0) > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_plain_text_messages_as_strings),
        cmocka_unit_test(encodes_images_tool_calls_and_tool_results),
        cmocka_unit_test(encodes_tools_choice_format_sampling_and_extra),
        cmocka_unit_test(rejects_bad_messages_with_names),
        cmocka_unit_test(decodes_text_usage_and_meta),
        cmocka_unit_test(decodes_tool_calls_refusals_and_legacy_finish),
        cmocka_unit_test(malformed_answers_are_eproto_naming_the_fault),
        cmocka_unit_test(stream_assembles_interleaved_parallel_tool_calls),
        cmocka_unit_test(stream_end_rules_truncation_and_finish_without_done),
        cmocka_unit_test(stream_errors_malformed_events_and_callback_stop),
        cmocka_unit_test(stream_without_index_keys_calls_by_id),
        cmocka_unit_test(error_bodies_keep_message_and_sanitise_junk),
        cmocka_unit_test(retry_after_parses_seconds_and_http_dates),
        cmocka_unit_test(dotted_tool_names_are_mapped_on_the_wire),
        cmocka_unit_test(out_of_memory_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
