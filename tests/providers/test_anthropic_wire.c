/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * providers anthropic wire: request encoding (system, merging, tool results,
 * tool_use, thinking pass-back, images, cache_control, tool_choice,
 * structured output, extra), whole-message decoding, the streaming event
 * machine (text, tool input pieces, thinking + signature, errors), and OOM
 * sweeps over encode and decode. No network.
 */
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "providers/anthropic_int.h"

static agc_ctx *new_ctx(void)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    return ctx;
}

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
    assert_non_null(v);
    return v;
}

/* Asserts that value at ptr in doc equals the JSON text want. */
static void expect_at(const json_t *doc, const char *ptr, const char *want)
{
    json_t *w = J(want);
    json_t *got = agc_json_pointer_get(doc, ptr);
    if (!got || !json_equal(got, w)) {
        char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
        fprintf(stderr, "at %s: got %s, want %s\n", ptr, g ? g : "(nothing)", want);
        free(g);
        fail();
    }
    json_decref(w);
}

#define TEXT(t)                                                                                    \
    {                                                                                              \
        AGC_PART_TEXT, (t), NULL, NULL, NULL                                                       \
    }

static void encodes_system_messages_and_defaults(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    agc_part sys1[] = {TEXT("You are terse.")}, sys2[] = {TEXT("Answer in French.")};
    agc_part u1[] = {TEXT("Hi")}, u2[] = {TEXT("there")}, a1[] = {TEXT("Bonjour")};
    agc_message msgs[] = {
        {.role = AGC_ROLE_SYSTEM, .parts = sys1, .n_parts = 1},
        {.role = AGC_ROLE_SYSTEM, .parts = sys2, .n_parts = 1},
        {.role = AGC_ROLE_USER, .parts = u1, .n_parts = 1},
        {.role = AGC_ROLE_USER, .parts = u2, .n_parts = 1, .cache = true},
        {.role = AGC_ROLE_ASSISTANT, .parts = a1, .n_parts = 1},
    };
    const char *stop[] = {"END"};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "claude-x";
    req.messages = msgs;
    req.n_messages = 5;
    req.temperature = 0.5;
    req.stop = stop;
    req.n_stop = 1;
    req.cache_system = true;
    json_t *extra = J("{\"top_k\": 5, \"max_tokens\": 77}");
    req.extra = extra;
    json_t *b = NULL;
    assert_int_equal(agc__anth_encode(&b, &req, true, ctx), AGC_OK);
    expect_at(b, "/model", "\"claude-x\"");
    expect_at(b, "/max_tokens", "77"); /* extra wins */
    expect_at(b, "/top_k", "5");
    expect_at(b, "/stream", "true");
    expect_at(b, "/temperature", "0.5");
    expect_at(b, "/stop_sequences", "[\"END\"]");
    assert_null(json_object_get(b, "top_p"));
    assert_null(json_object_get(b, "tools"));
    assert_null(json_object_get(b, "tool_choice"));
    expect_at(b, "/system",
              "[{\"type\":\"text\",\"text\":\"You are terse.\"},"
              "{\"type\":\"text\",\"text\":\"Answer in French.\","
              "\"cache_control\":{\"type\":\"ephemeral\"}}]");
    expect_at(b, "/messages",
              "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"},"
              "{\"type\":\"text\",\"text\":\"there\",\"cache_control\":{\"type\":\"ephemeral\"}}]},"
              "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Bonjour\"}]}]");
    json_decref(b);
    req.extra = NULL;
    req.cache_system = false;
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_OK);
    expect_at(b, "/max_tokens", "4096");
    assert_null(json_object_get(b, "stream"));
    assert_null(json_object_get(json_array_get(json_object_get(b, "system"), 1), "cache_control"));
    json_decref(b);
    json_decref(extra);
    agc_ctx_free(ctx);
}

static void encodes_tool_calls_results_and_thinking(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *raw = J("{\"type\":\"thinking\",\"thinking\":\"hmm\",\"signature\":\"sig==\"}");
    json_t *red = J("{\"type\":\"redacted_thinking\",\"data\":\"opaque\"}");
    agc_part u[] = {TEXT("read both")};
    agc_part a[] = {{AGC_PART_TEXT, "Reading.", NULL, NULL, NULL},
                    {AGC_PART_THINKING, "hmm", NULL, NULL, raw},
                    {AGC_PART_THINKING, "", NULL, NULL, red},
                    {AGC_PART_THINKING, "no signature: dropped", NULL, NULL, NULL}};
    agc_tool_call calls[] = {{"toolu_1", "read_file", "{\"path\":\"a.c\"}"},
                             {"toolu_2", "list_dir", ""}};
    agc_part r1[] = {TEXT("int main;")}, r2[] = {TEXT("no such dir")}, u2[] = {TEXT("thanks")};
    agc_message msgs[] = {
        {.role = AGC_ROLE_USER, .parts = u, .n_parts = 1},
        {.role = AGC_ROLE_ASSISTANT,
         .parts = a,
         .n_parts = 4,
         .tool_calls = calls,
         .n_tool_calls = 2},
        {.role = AGC_ROLE_TOOL, .parts = r1, .n_parts = 1, .tool_call_id = "toolu_1"},
        {.role = AGC_ROLE_TOOL,
         .parts = r2,
         .n_parts = 1,
         .tool_call_id = "toolu_2",
         .is_error = true},
        {.role = AGC_ROLE_USER, .parts = u2, .n_parts = 1},
    };
    json_t *params = J("{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}");
    agc_tool_def tools[] = {{"read_file", "Reads a file", params, false},
                            {"list_dir", NULL, NULL, false}};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = msgs;
    req.n_messages = 5;
    req.tools = tools;
    req.n_tools = 2;
    req.parallel_tool_calls = false;
    req.cache_system = true;
    json_t *b = NULL;
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_OK);
    expect_at(b, "/messages/1",
              "{\"role\":\"assistant\",\"content\":["
              "{\"type\":\"thinking\",\"thinking\":\"hmm\",\"signature\":\"sig==\"},"
              "{\"type\":\"redacted_thinking\",\"data\":\"opaque\"},"
              "{\"type\":\"text\",\"text\":\"Reading.\"},"
              "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"read_file\","
              "\"input\":{\"path\":\"a.c\"}},"
              "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"list_dir\",\"input\":{}}]}");
    expect_at(b, "/messages/2",
              "{\"role\":\"user\",\"content\":["
              "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"int main;\"},"
              "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2\",\"content\":\"no such dir\","
              "\"is_error\":true},"
              "{\"type\":\"text\",\"text\":\"thanks\"}]}");
    assert_int_equal(json_array_size(json_object_get(b, "messages")), 3);
    expect_at(b, "/tools",
              "[{\"name\":\"read_file\",\"description\":\"Reads a file\",\"input_schema\":"
              "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}},"
              "{\"name\":\"list_dir\",\"input_schema\":{\"type\":\"object\"},"
              "\"cache_control\":{\"type\":\"ephemeral\"}}]");
    expect_at(b, "/tool_choice", "{\"type\":\"auto\",\"disable_parallel_tool_use\":true}");
    json_decref(b);

    static const struct {
        agc_tool_choice c;
        const char *want;
    } choices[] = {{AGC_TOOL_CHOICE_NONE, "{\"type\":\"none\"}"},
                   {AGC_TOOL_CHOICE_REQUIRED, "{\"type\":\"any\"}"},
                   {AGC_TOOL_CHOICE_NAMED, "{\"type\":\"tool\",\"name\":\"list_dir\"}"}};
    req.parallel_tool_calls = true;
    req.tool_choice_name = "list_dir";
    for (size_t i = 0; i < 3; i++) {
        req.tool_choice = choices[i].c;
        assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_OK);
        expect_at(b, "/tool_choice", choices[i].want);
        json_decref(b);
    }
    json_decref(params);
    json_decref(raw);
    json_decref(red);
    agc_ctx_free(ctx);
}

static void encodes_images_and_rejects_bad_ones(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    agc_part u[] = {TEXT("what is this?"),
                    {AGC_PART_IMAGE, NULL, "data:image/png;base64,iVBORw0KGgo=", NULL, NULL},
                    {AGC_PART_IMAGE, NULL, "https://example.com/cat.jpg", NULL, NULL}};
    agc_message m = {.role = AGC_ROLE_USER, .parts = u, .n_parts = 3};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = &m;
    req.n_messages = 1;
    json_t *b = NULL;
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_OK);
    expect_at(b, "/messages/0/content/1",
              "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
              "\"data\":\"iVBORw0KGgo=\"}}");
    expect_at(b, "/messages/0/content/2",
              "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":"
              "\"https://example.com/cat.jpg\"}}");
    json_decref(b);
    u[1].image_url = "data:image/png,rawbytes";
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_EINVAL);
    assert_null(b);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "base64"));
    u[1].image_url = "file:///etc/passwd";
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_EINVAL);
    agc_ctx_free(ctx);
}

static void structured_output_forces_a_schema_tool(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    agc_part u[] = {TEXT("extract")};
    agc_message m = {.role = AGC_ROLE_USER, .parts = u, .n_parts = 1};
    json_t *schema = J("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}");
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = &m;
    req.n_messages = 1;
    req.format = AGC_FORMAT_JSON_SCHEMA;
    req.response_schema = schema;
    req.response_schema_name = "answer";
    assert_string_equal(agc__anth_structured_tool(&req), "answer");
    json_t *b = NULL;
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_OK);
    expect_at(b, "/tools/0/name", "\"answer\"");
    expect_at(b, "/tools/0/input_schema",
              "{\"type\":\"object\",\"properties\":{\"n\":"
              "{\"type\":\"integer\"}}}");
    expect_at(b, "/tool_choice", "{\"type\":\"tool\",\"name\":\"answer\"}");
    json_decref(b);
    req.response_schema_name = "not a valid name!";
    assert_string_equal(agc__anth_structured_tool(&req), "structured_output");
    json_t *arr = J("{\"type\":\"array\"}");
    req.response_schema = arr;
    assert_int_equal(agc__anth_encode(&b, &req, false, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "object"));

    /* decoding: the tool input becomes the text answer, finish stop */
    const char *msg = "{\"id\":\"msg_1\",\"type\":\"message\",\"model\":\"m\",\"content\":["
                      "{\"type\":\"tool_use\",\"id\":\"toolu_9\",\"name\":\"answer\","
                      "\"input\":{\"n\":42}}],\"stop_reason\":\"tool_use\","
                      "\"usage\":{\"input_tokens\":5,\"output_tokens\":7}}";
    json_t *mj = J(msg);
    agc_response_builder *rb = NULL;
    assert_int_equal(agc_response_builder_new(&rb, NULL, NULL, ctx), AGC_OK);
    assert_int_equal(agc__anth_decode_message(rb, mj, "answer", ctx), AGC_OK);
    agc_chat_response *r = NULL;
    assert_int_equal(agc_response_builder_finish(&r, rb), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "{\"n\":42}");
    assert_int_equal(r->n_tool_calls, 0);
    assert_int_equal(r->finish, AGC_FINISH_STOP);
    assert_string_equal(r->finish_raw, "tool_use");
    agc_chat_response_free(r);
    agc_response_builder_free(rb);
    json_decref(mj);
    json_decref(arr);
    json_decref(schema);
    agc_ctx_free(ctx);
}

static void decodes_a_whole_message(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    const char *msg =
        "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-y\","
        "\"content\":["
        "{\"type\":\"thinking\",\"thinking\":\"Let me see.\",\"signature\":\"EqQB\"},"
        "{\"type\":\"redacted_thinking\",\"data\":\"xyz\"},"
        "{\"type\":\"text\",\"text\":\"I will read it.\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"read_file\","
        "\"input\":{\"path\":\"a.c\"}},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"ls\",\"input\":{}}],"
        "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":10,\"output_tokens\":20,"
        "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":1000}}";
    json_t *mj = J(msg);
    agc_response_builder *rb = NULL;
    assert_int_equal(agc_response_builder_new(&rb, NULL, NULL, ctx), AGC_OK);
    assert_int_equal(agc__anth_decode_message(rb, mj, NULL, ctx), AGC_OK);
    agc_chat_response *r = NULL;
    assert_int_equal(agc_response_builder_finish(&r, rb), AGC_OK);
    assert_string_equal(r->id, "msg_01");
    assert_string_equal(r->model, "claude-y");
    assert_int_equal(r->n_parts, 3);
    assert_int_equal(r->parts[0].kind, AGC_PART_THINKING);
    assert_string_equal(r->parts[0].text, "Let me see.");
    assert_string_equal(agc_json_str(r->parts[0].raw, "signature", ""), "EqQB");
    assert_int_equal(r->parts[1].kind, AGC_PART_THINKING);
    assert_string_equal(agc_json_str(r->parts[1].raw, "type", ""), "redacted_thinking");
    assert_string_equal(agc_chat_response_text(r), "I will read it.");
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].arguments, "{\"path\":\"a.c\"}");
    assert_string_equal(r->tool_calls[1].name, "ls");
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    assert_true(r->usage.known);
    assert_int_equal(r->usage.input_tokens, 1110);
    assert_int_equal(r->usage.cached_input_tokens, 1000);
    assert_int_equal(r->usage.cache_write_tokens, 100);
    assert_int_equal(r->usage.output_tokens, 20);
    agc_chat_response_free(r);
    agc_response_builder_free(rb);
    json_decref(mj);

    static const struct {
        const char *raw;
        agc_finish_reason want;
    } reasons[] = {{"end_turn", AGC_FINISH_STOP},          {"stop_sequence", AGC_FINISH_STOP},
                   {"max_tokens", AGC_FINISH_LENGTH},      {"tool_use", AGC_FINISH_TOOL_CALLS},
                   {"refusal", AGC_FINISH_CONTENT_FILTER}, {"pause_turn", AGC_FINISH_STOP}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        assert_int_equal(agc__anth_finish(reasons[i].raw), reasons[i].want);
    assert_int_equal(agc__anth_error_status("overloaded_error"), 529);
    assert_int_equal(agc__anth_error_status("rate_limit_error"), 429);
    assert_int_equal(agc__anth_error_status("nonsense"), 0);

    mj = J("{\"type\":\"error\"}");
    assert_int_equal(agc_response_builder_new(&rb, NULL, NULL, ctx), AGC_OK);
    assert_int_equal(agc__anth_decode_message(rb, mj, NULL, ctx), AGC_EPROTO);
    agc_response_builder_free(rb);
    json_decref(mj);
    agc_ctx_free(ctx);
}

/* ---- streaming ---------------------------------------------------------------------- */

typedef struct ev {
    const char *type;
    const char *data;
} ev;

typedef struct seen {
    agc_buf log;
} seen;

static agc_status record(const agc_delta *d, void *user)
{
    seen *s = user;
    switch (d->kind) {
    case AGC_DELTA_TEXT:
        return agc_buf_printf(&s->log, "T[%s]", d->text);
    case AGC_DELTA_THINKING:
        return agc_buf_printf(&s->log, "K[%s]", d->text);
    case AGC_DELTA_TOOL_CALL:
        return agc_buf_printf(&s->log, "C%zu[%s|%s|%s]", d->index, d->id ? d->id : "-",
                              d->name ? d->name : "-", d->arguments_delta);
    default:
        return AGC_OK;
    }
}

static agc_status feed(agc_ctx *ctx, const ev *evs, size_t n, const char *stool, seen *sn,
                       agc_chat_response **out, int *err_status)
{
    agc_response_builder *b = NULL;
    agc__anth_stream *s = NULL;
    agc_status st = agc_response_builder_new(&b, sn ? record : NULL, sn, ctx);
    if (st == AGC_OK)
        st = agc__anth_stream_new(&s, b, stool, 0, ctx);
    for (size_t i = 0; st == AGC_OK && i < n; i++)
        st = agc__anth_stream_event(s, evs[i].type, evs[i].data, strlen(evs[i].data));
    if (st == AGC_OK && !agc__anth_stream_complete(s))
        st = AGC_EPROTO;
    if (err_status && s)
        *err_status = agc__anth_stream_error_status(s);
    if (st == AGC_OK)
        st = agc_response_builder_finish(out, b);
    agc__anth_stream_free(s);
    agc_response_builder_free(b);
    return st;
}

static const ev tool_stream[] = {
    {"message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"model\":"
                      "\"claude-z\",\"content\":[],\"usage\":{\"input_tokens\":50,"
                      "\"cache_read_input_tokens\":7,\"output_tokens\":1}}}"},
    {"ping", "{\"type\":\"ping\"}"},
    {"content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                            "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}"},
    {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
                            "\"thinking\":\"Think\"}}"},
    {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
                            "\"thinking\":\"ing.\"}}"},
    {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"signature_delta\","
                            "\"signature\":\"SIG\"}}"},
    {"content_block_stop", "{\"index\":0}"},
    {"content_block_start", "{\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"},
    {"content_block_delta", "{\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Héllo\"}}"},
    {"content_block_stop", "{\"index\":1}"},
    {"content_block_start", "{\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":"
                            "\"toolu_a\",\"name\":\"read_file\",\"input\":{}}}"},
    {"content_block_delta", "{\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
                            "\"partial_json\":\"\"}}"},
    {"content_block_delta", "{\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
                            "\"partial_json\":\"{\\\"path\\\": \\\"a\"}}"},
    {"content_block_delta", "{\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
                            "\"partial_json\":\".c\\\"}\"}}"},
    {"content_block_stop", "{\"index\":2}"},
    {"content_block_start", "{\"index\":3,\"content_block\":{\"type\":\"tool_use\",\"id\":"
                            "\"toolu_b\",\"name\":\"ls\",\"input\":{}}}"},
    {"content_block_stop", "{\"index\":3}"},
    {"message_delta", "{\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":"
                      "{\"output_tokens\":30}}"},
    {"message_stop", "{\"type\":\"message_stop\"}"},
};

static void stream_assembles_thinking_text_and_tools(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    seen sn;
    agc_buf_init(&sn.log, ctx, 0);
    agc_chat_response *r = NULL;
    assert_int_equal(
        feed(ctx, tool_stream, sizeof tool_stream / sizeof tool_stream[0], NULL, &sn, &r, NULL),
        AGC_OK);
    assert_string_equal(agc_buf_cstr(&sn.log), "K[Think]K[ing.]T[Héllo]C0[toolu_a|read_file|]"
                                               "C0[-|-|]C0[-|-|{\"path\": \"a]C0[-|-|.c\"}]"
                                               "C1[toolu_b|ls|]");
    assert_string_equal(r->id, "msg_s");
    assert_string_equal(r->model, "claude-z");
    assert_int_equal(r->parts[0].kind, AGC_PART_THINKING);
    assert_string_equal(r->parts[0].text, "Thinking.");
    assert_string_equal(agc_json_str(r->parts[0].raw, "thinking", ""), "Thinking.");
    assert_string_equal(agc_json_str(r->parts[0].raw, "signature", ""), "SIG");
    assert_string_equal(agc_chat_response_text(r), "Héllo");
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].arguments, "{\"path\": \"a.c\"}");
    assert_string_equal(r->tool_calls[1].arguments, "{}");
    assert_int_equal(r->finish, AGC_FINISH_TOOL_CALLS);
    assert_int_equal(r->usage.input_tokens, 57);
    assert_int_equal(r->usage.cached_input_tokens, 7);
    assert_int_equal(r->usage.output_tokens, 30);
    agc_chat_response_free(r);
    agc_buf_free(&sn.log);
    agc_ctx_free(ctx);
}

static void stream_reports_error_events_and_bad_json(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    agc_chat_response *r = NULL;
    int status = 0;
    ev over[] = {{"message_start", "{\"message\":{\"id\":\"m\",\"usage\":{}}}"},
                 {"error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                           "\"message\":\"Overloaded\"}}"}};
    assert_int_equal(feed(ctx, over, 2, NULL, NULL, &r, &status), AGC_EOVERLOADED);
    assert_int_equal(status, 529);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "Overloaded"));
    ev bad[] = {{"message_start", "{\"message\":{\"id\":\"m\"}}"},
                {"content_block_start", "{\"index\":0,\"content_block\":{\"type\":"}};
    assert_int_equal(feed(ctx, bad, 2, NULL, NULL, &r, NULL), AGC_EPROTO);
    ev orphan[] = {{"content_block_delta", "{\"index\":4,\"delta\":{\"type\":\"input_json_delta\","
                                           "\"partial_json\":\"{}\"}}"}};
    assert_int_equal(feed(ctx, orphan, 1, NULL, NULL, &r, NULL), AGC_EPROTO);
    /* unknown events and delta types are ignored */
    ev future[] = {{"message_start", "{\"message\":{\"id\":\"m\"}}"},
                   {"brand_new_event", "{\"x\":1}"},
                   {"message_delta", "{\"delta\":{\"stop_reason\":\"end_turn\"}}"},
                   {"message_stop", "{}"}};
    assert_int_equal(feed(ctx, future, 4, NULL, NULL, &r, NULL), AGC_OK);
    assert_false(r->usage.known);
    agc_chat_response_free(r);
    agc_ctx_free(ctx);
}

static void stream_structured_output_arrives_as_text(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    seen sn;
    agc_buf_init(&sn.log, ctx, 0);
    ev evs[] = {{"message_start", "{\"message\":{\"id\":\"m\"}}"},
                {"content_block_start", "{\"index\":0,\"content_block\":{\"type\":\"tool_use\","
                                        "\"id\":\"t\",\"name\":\"answer\",\"input\":{}}}"},
                {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
                                        "\"partial_json\":\"{\\\"n\\\":\"}}"},
                {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
                                        "\"partial_json\":\"42}\"}}"},
                {"content_block_stop", "{\"index\":0}"},
                {"message_delta", "{\"delta\":{\"stop_reason\":\"tool_use\"}}"},
                {"message_stop", "{}"}};
    agc_chat_response *r = NULL;
    assert_int_equal(feed(ctx, evs, 7, "answer", &sn, &r, NULL), AGC_OK);
    assert_string_equal(agc_buf_cstr(&sn.log), "T[{\"n\":]T[42}]");
    assert_string_equal(agc_chat_response_text(r), "{\"n\":42}");
    assert_int_equal(r->finish, AGC_FINISH_STOP);
    assert_int_equal(r->n_tool_calls, 0);
    agc_chat_response_free(r);
    agc_buf_free(&sn.log);
    agc_ctx_free(ctx);
}

/* ---- OOM ---------------------------------------------------------------------------- */

static agc_status oom_encode(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_part sys[] = {TEXT("sys")}, u[] = {TEXT("hi")}, r1[] = {TEXT("res")};
    agc_part a[] = {TEXT("ok")};
    agc_tool_call calls[] = {{"t1", "f", "{\"a\":[1,2]}"}};
    agc_message msgs[] = {
        {.role = AGC_ROLE_SYSTEM, .parts = sys, .n_parts = 1},
        {.role = AGC_ROLE_USER, .parts = u, .n_parts = 1, .cache = true},
        {.role = AGC_ROLE_ASSISTANT,
         .parts = a,
         .n_parts = 1,
         .tool_calls = calls,
         .n_tool_calls = 1},
        {.role = AGC_ROLE_TOOL, .parts = r1, .n_parts = 1, .tool_call_id = "t1", .is_error = true}};
    agc_tool_def tools[] = {{"f", "does f", NULL, false}};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "m";
    req.messages = msgs;
    req.n_messages = 4;
    req.tools = tools;
    req.n_tools = 1;
    req.cache_system = true;
    req.parallel_tool_calls = false;
    json_t *b = NULL;
    agc_status st = agc__anth_encode(&b, &req, true, ctx);
    json_decref(b);
    return st;
}

/*
 * Short strings only: jansson 2.14's lexer drops characters when growing its
 * token buffer fails (lex_save ignores the error) and then overruns; a JSON
 * string longer than 13 bytes under an injected failure crashes inside
 * json_loadb. Reported to the core owner; until then this sweep avoids it.
 */
static const ev short_stream[] = {
    {"message_start", "{\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":5}}}"},
    {"content_block_start", "{\"index\":0,\"x\":{\"type\":\"text\"}}"},
    {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}"},
    {"content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}"},
    {"content_block_stop", "{\"index\":0}"},
    {"message_delta", "{\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":"
                      "{\"output_tokens\":3}}"},
    {"message_stop", "{}"},
};

static agc_status oom_stream(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_chat_response *r = NULL;
    agc_status st =
        feed(ctx, short_stream, sizeof short_stream / sizeof short_stream[0], NULL, NULL, &r, NULL);
    agc_chat_response_free(r);
    return st;
}

static void encode_and_stream_survive_oom(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(oom_encode, NULL, 0) > 10);
    assert_true(agc_test_oom_sweep(oom_stream, NULL, 0) > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_system_messages_and_defaults),
        cmocka_unit_test(encodes_tool_calls_results_and_thinking),
        cmocka_unit_test(encodes_images_and_rejects_bad_ones),
        cmocka_unit_test(structured_output_forces_a_schema_tool),
        cmocka_unit_test(decodes_a_whole_message),
        cmocka_unit_test(stream_assembles_thinking_text_and_tools),
        cmocka_unit_test(stream_reports_error_events_and_bad_json),
        cmocka_unit_test(stream_structured_output_arrives_as_text),
        cmocka_unit_test(encode_and_stream_survive_oom),
    };
    return cmocka_run_group_tests_name("providers_anthropic_wire", tests, NULL, NULL);
}
