/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The fakellm program end to end: one child process (tests/support
 * fakellm_proc), scripted per test through POST /_fake/script, spoken to with
 * the agentc HTTP client. Checks both wire shapes, streaming and not,
 * sequencing, match, times, default, every fault of docs/fakellm.md, the
 * request log, concurrency and a clean SIGTERM shutdown. Streams are parsed
 * with agentc's SSE parser.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/http.h"
#include "agentc/json.h"
#include "agentc/sse.h"
#include "fakellm_proc.h"

static agc_fakellm *F;
static agc_ctx *C;
static agc_http_client *H;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    (void)state;
    F = agc_fakellm_start_json("{\"replies\": []}");
    assert_int_equal(agc_ctx_new(&C, NULL), AGC_OK);
    assert_int_equal(agc_http_client_new(&H, NULL, C), AGC_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    agc_http_client_free(H);
    agc_ctx_free(C);
    assert_int_equal(agc_fakellm_stop(F), 0);
    return 0;
}

/* Each test: a fresh script and an empty log. */
static void script(const char *json)
{
    agc_fakellm_set_script(F, json);
    agc_fakellm_reset(F);
}

/* ---- requests ------------------------------------------------------------- */

/* What one streamed request delivered. */
typedef struct got {
    agc_status status; /* the transfer's end */
    int http;
    agc_buf body;
    size_t chunks; /* on_data calls */
    int64_t ms;
    char header[128]; /* value of the header asked for, "" if none */
    const char *want_header;
    bool done;
} got;

static agc_status on_data(agc_http_req *req, const void *data, size_t len, void *user)
{
    (void)req;
    got *g = user;
    g->chunks++;
    return agc_buf_append(&g->body, data, len);
}

static void on_done(agc_http_req *req, const agc_http_result *res, void *user)
{
    (void)req;
    got *g = user;
    g->status = res->status;
    g->http = res->http_status;
    const char *h = g->want_header ? agc_http_headers_get(res->headers, g->want_header) : NULL;
    snprintf(g->header, sizeof g->header, "%s", h ? h : "");
    g->done = true;
}

/* POSTs body to path and collects everything; the caller frees g->body. */
static void post_hdr(got *g, const char *path, const char *body, const char *want_header)
{
    memset(g, 0, sizeof *g);
    agc_buf_init(&g->body, C, 0);
    g->want_header = want_header;
    char url[160];
    snprintf(url, sizeof url, "%s%s", agc_fakellm_url(F), path);
    agc_http_header hs[] = {{"Content-Type", "application/json"},
                            {"Authorization", "Bearer sk-test-123"},
                            {"x-api-key", "ak-test-456"},
                            {"X-Mixed-Case", "Value"}};
    agc_http_opts o = AGC_HTTP_OPTS_INIT;
    o.timeout_ms = 10000;
    agc_http_callbacks cb = {AGC_HTTP_CALLBACKS_VERSION, NULL, on_data, on_done};
    int64_t t0 = now_ms();
    assert_int_equal(agc_http_start(NULL, H, "POST", url, hs, 4, body, strlen(body), &o, &cb, g),
                     AGC_OK);
    while (!g->done)
        assert_int_equal(agc_http_client_run(H, 10000), AGC_OK);
    g->ms = now_ms() - t0;
}

static void post(got *g, const char *path, const char *body)
{
    post_hdr(g, path, body, NULL);
}

static json_t *body_json(const got *g)
{
    json_error_t err;
    json_t *v = json_loadb(agc_buf_cstr(&g->body), g->body.len, 0, &err);
    if (!v)
        fail_msg("not JSON (%s): %s", err.text, agc_buf_cstr(&g->body));
    return v;
}

/* ---- SSE ------------------------------------------------------------------ */

/* Events as [{"type": name, "data": parsed JSON, or the raw string}]. */
static agc_status collect_event(const agc_sse_event *ev, void *user)
{
    json_t *v = json_loadb(ev->data, ev->data_len, JSON_DECODE_ANY, NULL);
    if (!v)
        v = json_stringn(ev->data, ev->data_len);
    json_array_append_new(user,
                          json_pack("{s:s%, s:o}", "type", ev->type, ev->type_len, "data", v));
    return AGC_OK;
}

static json_t *events_of(const got *g)
{
    json_t *evs = json_array();
    agc_sse_parser *p = NULL;
    assert_int_equal(agc_sse_parser_new(&p, collect_event, evs, 0, C), AGC_OK);
    assert_int_equal(agc_sse_feed(p, g->body.data, g->body.len), AGC_OK);
    (void)agc_sse_finish(p);
    agc_sse_parser_free(p);
    return evs;
}

static json_t *ev_data(const json_t *evs, size_t i)
{
    return json_object_get(json_array_get(evs, i), "data");
}

static const char *ev_type(const json_t *evs, size_t i)
{
    return json_string_value(json_object_get(json_array_get(evs, i), "type"));
}

/* Joins the OpenAI content deltas; counts them. */
static char *openai_text(const json_t *evs, size_t *pieces)
{
    agc_buf b;
    agc_buf_init(&b, C, 0);
    *pieces = 0;
    for (size_t i = 0; i < json_array_size(evs); i++) {
        const json_t *d = agc_json_pointer_get(ev_data(evs, i), "/choices/0/delta/content");
        if (json_is_string(d) && json_string_length(d)) {
            assert_int_equal(agc_buf_puts(&b, json_string_value(d)), AGC_OK);
            (*pieces)++;
        }
    }
    return agc_buf_detach(&b, NULL);
}

/* ---- wire shapes ---------------------------------------------------------- */

static const char *REQ =
    "{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *REQ_STREAM_USAGE =
    "{\"model\":\"gpt-test\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *REQ_STREAM =
    "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static void openai_whole_response_is_a_chat_completion(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"Hello!\",\"request_id\":\"rq-1\",\"usage\":{"
           "\"input_tokens\":12,\"output_tokens\":3,\"cached_input_tokens\":4,"
           "\"reasoning_tokens\":2}}]}");
    got g;
    post_hdr(&g, "/v1/chat/completions", REQ, "x-request-id");
    assert_int_equal(g.status, AGC_OK);
    assert_int_equal(g.http, 200);
    assert_string_equal(g.header, "rq-1");
    json_t *v = body_json(&g);
    assert_string_equal(agc_json_str(v, "object", ""), "chat.completion");
    assert_string_equal(agc_json_str(v, "model", ""), "gpt-test");
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/choices/0/message/content")),
                        "Hello!");
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/choices/0/finish_reason")),
                        "stop");
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/usage/prompt_tokens")), 12);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/usage/completion_tokens")), 3);
    assert_int_equal(
        json_integer_value(agc_json_pointer_get(v, "/usage/prompt_tokens_details/cached_tokens")),
        4);
    assert_int_equal(json_integer_value(agc_json_pointer_get(
                         v, "/usage/completion_tokens_details/reasoning_tokens")),
                     2);
    json_decref(v);
    agc_buf_free(&g.body);
}

static void openai_stream_has_word_deltas_finish_usage_and_done(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"Grüße aus 東京, friend!\",\"finish\":\"length\","
           "\"usage\":{\"input_tokens\":7,\"output_tokens\":4}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ_STREAM_USAGE);
    assert_int_equal(g.status, AGC_OK);
    json_t *evs = events_of(&g);
    size_t n = json_array_size(evs);
    assert_true(n >= 6);
    assert_string_equal(
        json_string_value(agc_json_pointer_get(ev_data(evs, 0), "/choices/0/delta/role")),
        "assistant");
    size_t pieces;
    char *text = openai_text(evs, &pieces);
    assert_string_equal(text, "Grüße aus 東京, friend!");
    assert_true(pieces >= 3);
    agc_free(C, text);
    assert_string_equal(
        json_string_value(agc_json_pointer_get(ev_data(evs, n - 3), "/choices/0/finish_reason")),
        "length");
    assert_int_equal(json_array_size(json_object_get(ev_data(evs, n - 2), "choices")), 0);
    assert_int_equal(
        json_integer_value(agc_json_pointer_get(ev_data(evs, n - 2), "/usage/prompt_tokens")), 7);
    assert_string_equal(json_string_value(ev_data(evs, n - 1)), "[DONE]");
    json_decref(evs);
    agc_buf_free(&g.body);

    /* without stream_options.include_usage there is no usage chunk */
    agc_fakellm_reset(F);
    post(&g, "/v1/chat/completions", REQ_STREAM);
    evs = events_of(&g);
    n = json_array_size(evs);
    assert_string_equal(json_string_value(ev_data(evs, n - 1)), "[DONE]");
    for (size_t i = 0; i < n - 1; i++)
        assert_null(json_object_get(ev_data(evs, i), "usage"));
    json_decref(evs);
    agc_buf_free(&g.body);
}

static void openai_stream_interleaves_parallel_tool_call_deltas(void **state)
{
    (void)state;
    script(
        "{\"replies\":[{\"tool_calls\":["
        "{\"id\":\"call_1\",\"name\":\"read_file\",\"arguments\":{\"path\":\"src/a.c\"}},"
        "{\"id\":\"call_2\",\"name\":\"list_dir\",\"arguments\":\"{\\\"path\\\":\\\".\\\"}\"}]}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ_STREAM);
    json_t *evs = events_of(&g);
    char args[2][128] = {"", ""};
    const char *names[2] = {NULL, NULL};
    int pieces[2] = {0, 0};
    long order[64];
    size_t no = 0;
    const char *finish = NULL;
    for (size_t i = 0; i < json_array_size(evs); i++) {
        const json_t *d = ev_data(evs, i);
        const json_t *tc = agc_json_pointer_get(d, "/choices/0/delta/tool_calls/0");
        const json_t *fr = agc_json_pointer_get(d, "/choices/0/finish_reason");
        if (json_is_string(fr))
            finish = json_string_value(fr);
        if (!tc)
            continue;
        long idx = (long)agc_json_int(tc, "index", -1);
        assert_true(idx == 0 || idx == 1);
        order[no++] = idx;
        const char *name = json_string_value(agc_json_pointer_get(tc, "/function/name"));
        if (name) {
            names[idx] = name;
            assert_string_equal(agc_json_str(tc, "type", ""), "function");
            assert_string_equal(agc_json_str(tc, "id", ""), idx ? "call_2" : "call_1");
        }
        const char *piece = json_string_value(agc_json_pointer_get(tc, "/function/arguments"));
        if (piece && *piece) {
            strcat(args[idx], piece);
            pieces[idx]++;
        }
    }
    assert_string_equal(names[0], "read_file");
    assert_string_equal(names[1], "list_dir");
    assert_string_equal(args[0], "{\"path\":\"src/a.c\"}");
    assert_string_equal(args[1], "{\"path\":\".\"}");
    assert_true(pieces[0] >= 2 && pieces[1] >= 2);
    bool interleaved = false; /* a delta of call 0 comes after one of call 1 */
    for (size_t i = 1; i < no; i++)
        interleaved |= order[i] == 0 && order[i - 1] == 1;
    assert_true(interleaved);
    assert_string_equal(finish, "tool_calls");
    json_decref(evs);
    agc_buf_free(&g.body);
}

static const char *ANTH_REPLY =
    "{\"replies\":[{\"thinking\":\"Let me look at the file.\",\"text\":\"Reading it.\","
    "\"tool_calls\":[{\"id\":\"toolu_1\",\"name\":\"read_file\",\"arguments\":{\"path\":\"a.c\"}}],"
    "\"usage\":{\"input_tokens\":100,\"output_tokens\":9,\"cached_input_tokens\":30,"
    "\"cache_write_tokens\":20}}]}";
static const char *AREQ = "{\"model\":\"claude-test\",\"max_tokens\":100,\"messages\":[]}";
static const char *AREQ_STREAM =
    "{\"model\":\"claude-test\",\"max_tokens\":100,\"stream\":true,\"messages\":[]}";

static void anthropic_whole_response_is_a_message(void **state)
{
    (void)state;
    script(ANTH_REPLY);
    got g;
    post_hdr(&g, "/v1/messages", AREQ, "request-id");
    assert_int_equal(g.http, 200);
    assert_string_equal(g.header, "req_fake_1");
    json_t *v = body_json(&g);
    assert_string_equal(agc_json_str(v, "type", ""), "message");
    assert_string_equal(agc_json_str(v, "role", ""), "assistant");
    assert_string_equal(agc_json_str(v, "stop_reason", ""), "tool_use");
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/content/0/type")), "thinking");
    assert_non_null(json_string_value(agc_json_pointer_get(v, "/content/0/signature")));
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/content/1/text")),
                        "Reading it.");
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/content/2/input/path")), "a.c");
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/usage/input_tokens")), 50);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/usage/cache_read_input_tokens")),
                     30);
    assert_int_equal(
        json_integer_value(agc_json_pointer_get(v, "/usage/cache_creation_input_tokens")), 20);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/usage/output_tokens")), 9);
    json_decref(v);
    agc_buf_free(&g.body);
}

static void anthropic_stream_has_named_events_per_block(void **state)
{
    (void)state;
    script(ANTH_REPLY);
    got g;
    post(&g, "/v1/messages", AREQ_STREAM);
    json_t *evs = events_of(&g);
    size_t n = json_array_size(evs);
    assert_string_equal(ev_type(evs, 0), "message_start");
    assert_int_equal(
        json_integer_value(agc_json_pointer_get(ev_data(evs, 0), "/message/usage/input_tokens")),
        50);
    assert_string_equal(ev_type(evs, 1), "ping");
    assert_string_equal(ev_type(evs, n - 2), "message_delta");
    assert_string_equal(
        json_string_value(agc_json_pointer_get(ev_data(evs, n - 2), "/delta/stop_reason")),
        "tool_use");
    assert_int_equal(
        json_integer_value(agc_json_pointer_get(ev_data(evs, n - 2), "/usage/output_tokens")), 9);
    assert_string_equal(ev_type(evs, n - 1), "message_stop");
    char text[3][128] = {"", "", ""};
    int starts = 0, stops = 0, deltas[3] = {0, 0, 0};
    bool signature = false;
    for (size_t i = 0; i < n; i++) {
        const json_t *d = ev_data(evs, i);
        assert_string_equal(agc_json_str(d, "type", ""), ev_type(evs, i));
        if (!strcmp(ev_type(evs, i), "content_block_start"))
            starts++;
        if (!strcmp(ev_type(evs, i), "content_block_stop"))
            stops++;
        if (strcmp(ev_type(evs, i), "content_block_delta"))
            continue;
        long idx = (long)agc_json_int(d, "index", -1);
        assert_true(idx >= 0 && idx < 3);
        const json_t *delta = json_object_get(d, "delta");
        const char *t = agc_json_str(delta, "type", "");
        const char *piece = !strcmp(t, "thinking_delta") ? agc_json_str(delta, "thinking", "")
                            : !strcmp(t, "text_delta")   ? agc_json_str(delta, "text", "")
                            : !strcmp(t, "input_json_delta")
                                ? agc_json_str(delta, "partial_json", "")
                                : NULL;
        if (!strcmp(t, "signature_delta"))
            signature = idx == 0;
        if (piece) {
            strcat(text[idx], piece);
            deltas[idx]++;
        }
    }
    assert_int_equal(starts, 3);
    assert_int_equal(stops, 3);
    assert_true(signature);
    assert_string_equal(text[0], "Let me look at the file.");
    assert_string_equal(text[1], "Reading it.");
    assert_string_equal(text[2], "{\"path\":\"a.c\"}");
    assert_true(deltas[0] >= 2 && deltas[2] >= 2);
    json_decref(evs);
    agc_buf_free(&g.body);
}

/* ---- sequencing ----------------------------------------------------------- */

/* The reply text (OpenAI whole) or "HTTP n". */
static void answer(char *out, size_t size, const char *path, const char *body)
{
    got g;
    post(&g, path, body);
    assert_int_equal(g.status, AGC_OK);
    if (g.http != 200) {
        snprintf(out, size, "HTTP %d", g.http);
    } else {
        json_t *v = body_json(&g);
        const json_t *t = agc_json_pointer_get(v, "/choices/0/message/content");
        if (!t)
            t = agc_json_pointer_get(v, "/content/0/text");
        snprintf(out, size, "%s", json_string_value(t));
        json_decref(v);
    }
    agc_buf_free(&g.body);
}

static void replies_follow_order_times_and_default(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"one\"},{\"fault\":{\"status\":429},\"times\":2},"
           "{\"text\":\"two\"}],\"default\":{\"text\":\"dflt\"}}");
    const char *want[] = {"one", "HTTP 429", "HTTP 429", "two", "dflt", "dflt"};
    char got_text[64];
    for (size_t i = 0; i < 6; i++) {
        answer(got_text, sizeof got_text, "/v1/chat/completions", REQ);
        assert_string_equal(got_text, want[i]);
    }
}

static void exhausted_script_without_default_answers_500(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"only\"}]}");
    char t[64];
    answer(t, sizeof t, "/v1/messages", AREQ);
    assert_string_equal(t, "only");
    got g;
    post(&g, "/v1/messages", AREQ);
    assert_int_equal(g.http, 500);
    json_t *v = body_json(&g);
    assert_string_equal(agc_json_str(v, "type", ""), "error");
    assert_non_null(
        strstr(json_string_value(agc_json_pointer_get(v, "/error/message")), "exhausted"));
    json_decref(v);
    agc_buf_free(&g.body);
}

static void matched_replies_win_over_the_cursor(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"first\"},"
           "{\"match\":{\"last_message_contains\":\"weather\"},\"text\":\"Sunny.\"},"
           "{\"match\":{\"path\":\"/v1/messages\"},\"text\":\"anthropic\",\"times\":0},"
           "{\"match\":{\"model\":\"special\"},\"text\":\"special model\"},"
           "{\"text\":\"second\"}]}");
    char t[64];
    const char *weather = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                          "[{\"type\":\"text\",\"text\":\"what is the weather?\"}]}]}";
    answer(t, sizeof t, "/v1/chat/completions", weather);
    assert_string_equal(t, "Sunny.");
    answer(t, sizeof t, "/v1/chat/completions", weather); /* used up: the cursor answers */
    assert_string_equal(t, "first");
    answer(t, sizeof t, "/v1/messages", AREQ);
    assert_string_equal(t, "anthropic");
    answer(t, sizeof t, "/v1/messages", AREQ); /* times 0: unlimited */
    assert_string_equal(t, "anthropic");
    answer(t, sizeof t, "/v1/chat/completions", "{\"model\":\"special\",\"messages\":[]}");
    assert_string_equal(t, "special model");
    answer(t, sizeof t, "/v1/chat/completions", REQ);
    assert_string_equal(t, "second");
}

/* ---- faults --------------------------------------------------------------- */

static void status_fault_sends_wire_error_and_retry_after(void **state)
{
    (void)state;
    script(
        "{\"replies\":[{\"fault\":{\"status\":429,\"retry_after\":\"2\",\"error\":\"slow down\"}},"
        "{\"fault\":{\"status\":529,\"retry_after_ms\":1500}},"
        "{\"fault\":{\"status\":503,\"raw_body\":\"upstream down\","
        "\"content_type\":\"text/plain\"}}]}");
    got g;
    post_hdr(&g, "/v1/chat/completions", REQ, "retry-after");
    assert_int_equal(g.http, 429);
    assert_string_equal(g.header, "2");
    json_t *v = body_json(&g);
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/error/message")), "slow down");
    assert_non_null(agc_json_pointer_get(v, "/error/type"));
    assert_non_null(agc_json_pointer_get(v, "/error/code"));
    json_decref(v);
    agc_buf_free(&g.body);

    post_hdr(&g, "/v1/messages", AREQ, "retry-after-ms");
    assert_int_equal(g.http, 529);
    assert_string_equal(g.header, "1500");
    v = body_json(&g);
    assert_string_equal(agc_json_str(v, "type", ""), "error");
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/error/type")),
                        "overloaded_error");
    json_decref(v);
    agc_buf_free(&g.body);

    post_hdr(&g, "/v1/messages", AREQ, "content-type");
    assert_int_equal(g.http, 503);
    assert_string_equal(g.header, "text/plain");
    assert_string_equal(agc_buf_cstr(&g.body), "upstream down");
    agc_buf_free(&g.body);
}

static void delay_and_drip_slow_the_answer(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"late\",\"fault\":{\"delay_ms\":300}},"
           "{\"text\":\"a b c d e\",\"fault\":{\"drip_ms\":40}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ);
    assert_int_equal(g.http, 200);
    assert_true(g.ms >= 290);
    agc_buf_free(&g.body);
    post(&g, "/v1/chat/completions", REQ_STREAM);
    json_t *evs = events_of(&g);
    size_t n = json_array_size(evs); /* role + 5 words + finish + [DONE] */
    assert_int_equal(n, 8);
    assert_true(g.ms >= (int64_t)(n - 1) * 40 - 10);
    assert_true(g.chunks >= n - 1); /* events arrived separately */
    json_decref(evs);
    agc_buf_free(&g.body);
}

static void split_bytes_cuts_writes_but_not_the_content(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"naïve café 😀 ok\",\"fault\":{\"split_bytes\":5}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ_STREAM);
    assert_int_equal(g.status, AGC_OK);
    json_t *evs = events_of(&g);
    assert_true(g.chunks > json_array_size(evs) * 2);
    size_t pieces;
    char *text = openai_text(evs, &pieces);
    assert_string_equal(text, "naïve café 😀 ok");
    agc_free(C, text);
    json_decref(evs);
    agc_buf_free(&g.body);
}

static void reset_closes_the_connection_mid_stream(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"one two three four five six\","
           "\"fault\":{\"reset_after_events\":3}},"
           "{\"text\":\"whole\",\"fault\":{\"reset_after_events\":0}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ_STREAM);
    assert_int_equal(g.status, AGC_ENET);
    json_t *evs = events_of(&g);
    assert_int_equal(json_array_size(evs), 3);
    json_decref(evs);
    agc_buf_free(&g.body);
    post(&g, "/v1/chat/completions", REQ);
    assert_int_equal(g.status, AGC_ENET);
    assert_int_equal(g.body.len, 0);
    agc_buf_free(&g.body);
}

static void truncate_drops_the_final_event(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"cut short\",\"fault\":{\"truncate\":true}},"
           "{\"text\":\"cut short\",\"fault\":{\"truncate\":true}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ_STREAM);
    assert_int_equal(g.status, AGC_OK);
    json_t *evs = events_of(&g);
    size_t n = json_array_size(evs);
    assert_string_equal(
        json_string_value(agc_json_pointer_get(ev_data(evs, n - 1), "/choices/0/finish_reason")),
        "stop");
    json_decref(evs);
    assert_null(strstr(agc_buf_cstr(&g.body), "[DONE]"));
    agc_buf_free(&g.body);
    post(&g, "/v1/messages", AREQ_STREAM);
    assert_int_equal(g.status, AGC_OK);
    evs = events_of(&g);
    assert_string_equal(ev_type(evs, json_array_size(evs) - 1), "message_delta");
    json_decref(evs);
    agc_buf_free(&g.body);
}

static void malformed_breaks_the_body_or_one_event(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"x\",\"fault\":{\"malformed\":true}},"
           "{\"text\":\"a b c\",\"fault\":{\"malformed\":true}},"
           "{\"text\":\"a b c\",\"fault\":{\"malformed\":true}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ);
    assert_int_equal(g.http, 200);
    assert_null(json_loadb(agc_buf_cstr(&g.body), g.body.len, 0, NULL));
    assert_true(g.body.len > 10);
    agc_buf_free(&g.body);
    const char *paths[] = {"/v1/chat/completions", "/v1/messages"};
    const char *reqs[] = {REQ_STREAM, AREQ_STREAM};
    for (int w = 0; w < 2; w++) {
        post(&g, paths[w], reqs[w]);
        json_t *evs = events_of(&g);
        int broken = 0;
        for (size_t i = 0; i < json_array_size(evs); i++)
            broken += json_is_string(ev_data(evs, i)) &&
                      strcmp(json_string_value(ev_data(evs, i)), "[DONE]");
        assert_int_equal(broken, 1);
        assert_true(json_array_size(evs) > 4);
        json_decref(evs);
        agc_buf_free(&g.body);
    }
}

static void oversize_pads_the_answer(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"big\",\"fault\":{\"oversize_bytes\":200000}},"
           "{\"text\":\"big\",\"fault\":{\"oversize_bytes\":100000}}]}");
    got g;
    post(&g, "/v1/chat/completions", REQ);
    json_t *v = body_json(&g);
    const char *t = json_string_value(agc_json_pointer_get(v, "/choices/0/message/content"));
    assert_true(strlen(t) >= 200000);
    assert_memory_equal(t, "big", 3);
    json_decref(v);
    agc_buf_free(&g.body);
    post(&g, "/v1/messages", AREQ_STREAM);
    json_t *evs = events_of(&g);
    size_t total = 0, deltas = 0;
    for (size_t i = 0; i < json_array_size(evs); i++) {
        const char *piece = json_string_value(agc_json_pointer_get(ev_data(evs, i), "/delta/text"));
        if (piece) {
            total += strlen(piece);
            deltas++;
        }
    }
    assert_true(total >= 100000);
    assert_true(deltas >= 10);
    json_decref(evs);
    agc_buf_free(&g.body);
}

/* ---- log, models, script endpoints ---------------------------------------- */

static void requests_are_recorded_with_headers_and_body(void **state)
{
    (void)state;
    script("{\"replies\":[],\"default\":{\"text\":\"ok\"}}");
    got g;
    post(&g, "/v1/messages?beta=true", AREQ);
    agc_buf_free(&g.body);
    post(&g, "/v1/chat/completions", "not json");
    assert_int_equal(g.http, 400);
    agc_buf_free(&g.body);
    json_t *log = agc_fakellm_requests(F);
    assert_int_equal(json_array_size(log), 2); /* /_fake/ calls are not recorded */
    const json_t *r = json_array_get(log, 0);
    assert_string_equal(agc_json_str(r, "method", ""), "POST");
    assert_string_equal(agc_json_str(r, "path", ""), "/v1/messages");
    assert_string_equal(agc_json_str(r, "query", ""), "beta=true");
    const json_t *h = json_object_get(r, "headers");
    assert_string_equal(agc_json_str(h, "authorization", ""), "Bearer sk-test-123");
    assert_string_equal(agc_json_str(h, "x-api-key", ""), "ak-test-456");
    assert_string_equal(agc_json_str(h, "x-mixed-case", ""), "Value");
    assert_string_equal(json_string_value(agc_json_pointer_get(r, "/body/model")), "claude-test");
    assert_string_equal(json_string_value(agc_json_pointer_get(log, "/1/body")), "not json");
    json_decref(log);
    agc_fakellm_reset(F);
    log = agc_fakellm_requests(F);
    assert_int_equal(json_array_size(log), 0);
    json_decref(log);
}

static void models_and_script_endpoints_work(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "%s/v1/models", agc_fakellm_url(F));
    agc_http_response *resp = NULL;
    assert_int_equal(agc_http_request_sync(&resp, H, "GET", url, NULL, 0, NULL, 0, NULL), AGC_OK);
    assert_int_equal(resp->status, 200);
    json_t *v = json_loads(agc_buf_cstr(&resp->body), 0, NULL);
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/data/0/id")), "fake-model");
    json_decref(v);
    agc_http_response_free(resp);

    snprintf(url, sizeof url, "%s/_fake/script", agc_fakellm_url(F));
    const char *bad = "{\"replies\":[{\"txt\":\"typo\"}]}";
    assert_int_equal(agc_http_request_sync(&resp, H, "POST", url, NULL, 0, bad, strlen(bad), NULL),
                     AGC_OK);
    assert_int_equal(resp->status, 400);
    assert_non_null(strstr(agc_buf_cstr(&resp->body), "replies[0].txt"));
    agc_http_response_free(resp);

    snprintf(url, sizeof url, "%s/nowhere", agc_fakellm_url(F));
    assert_int_equal(agc_http_request_sync(&resp, H, "GET", url, NULL, 0, NULL, 0, NULL), AGC_OK);
    assert_int_equal(resp->status, 404);
    agc_http_response_free(resp);
}

/* ---- concurrency and shutdown --------------------------------------------- */

static void concurrent_requests_each_get_one_reply(void **state)
{
    (void)state;
    script("{\"replies\":[{\"text\":\"r0\"},{\"text\":\"r1\"},{\"text\":\"r2\"},{\"text\":\"r3\"},"
           "{\"text\":\"r4\"},{\"text\":\"r5\"},{\"text\":\"r6\"},{\"text\":\"r7\"}]}");
    enum { N = 8 };
    got g[N];
    char url[160];
    snprintf(url, sizeof url, "%s/v1/chat/completions", agc_fakellm_url(F));
    agc_http_callbacks cb = {AGC_HTTP_CALLBACKS_VERSION, NULL, on_data, on_done};
    for (int i = 0; i < N; i++) {
        memset(&g[i], 0, sizeof g[i]);
        agc_buf_init(&g[i].body, C, 0);
        assert_int_equal(agc_http_start(NULL, H, "POST", url, NULL, 0, REQ_STREAM,
                                        strlen(REQ_STREAM), NULL, &cb, &g[i]),
                         AGC_OK);
    }
    assert_int_equal(agc_http_client_run(H, 10000), AGC_OK);
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(g[i].status, AGC_OK);
        json_t *evs = events_of(&g[i]);
        size_t pieces;
        char *text = openai_text(evs, &pieces);
        assert_int_equal(strlen(text), 2);
        seen[text[1] - '0']++;
        agc_free(C, text);
        json_decref(evs);
        agc_buf_free(&g[i].body);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
}

static void sigterm_during_a_stream_exits_cleanly(void **state)
{
    (void)state;
    agc_fakellm *f = agc_fakellm_start_json(
        "{\"replies\":[],\"default\":{\"text\":\"a b c d e f g h\",\"fault\":{\"drip_ms\":2000}}}");
    char url[160];
    snprintf(url, sizeof url, "%s/v1/chat/completions", agc_fakellm_url(f));
    got g;
    memset(&g, 0, sizeof g);
    agc_buf_init(&g.body, C, 0);
    agc_http_callbacks cb = {AGC_HTTP_CALLBACKS_VERSION, NULL, on_data, on_done};
    assert_int_equal(agc_http_start(NULL, H, "POST", url, NULL, 0, REQ_STREAM, strlen(REQ_STREAM),
                                    NULL, &cb, &g),
                     AGC_OK);
    while (g.body.len == 0)
        (void)agc_http_client_run(H, 50);
    int64_t t0 = now_ms();
    assert_int_equal(agc_fakellm_stop(f), 0);
    assert_true(now_ms() - t0 < 3000);
    while (!g.done)
        (void)agc_http_client_run(H, 1000);
    assert_int_not_equal(g.status, AGC_OK); /* the stream was cut */
    agc_buf_free(&g.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openai_whole_response_is_a_chat_completion),
        cmocka_unit_test(openai_stream_has_word_deltas_finish_usage_and_done),
        cmocka_unit_test(openai_stream_interleaves_parallel_tool_call_deltas),
        cmocka_unit_test(anthropic_whole_response_is_a_message),
        cmocka_unit_test(anthropic_stream_has_named_events_per_block),
        cmocka_unit_test(replies_follow_order_times_and_default),
        cmocka_unit_test(exhausted_script_without_default_answers_500),
        cmocka_unit_test(matched_replies_win_over_the_cursor),
        cmocka_unit_test(status_fault_sends_wire_error_and_retry_after),
        cmocka_unit_test(delay_and_drip_slow_the_answer),
        cmocka_unit_test(split_bytes_cuts_writes_but_not_the_content),
        cmocka_unit_test(reset_closes_the_connection_mid_stream),
        cmocka_unit_test(truncate_drops_the_final_event),
        cmocka_unit_test(malformed_breaks_the_body_or_one_event),
        cmocka_unit_test(oversize_pads_the_answer),
        cmocka_unit_test(requests_are_recorded_with_headers_and_body),
        cmocka_unit_test(models_and_script_endpoints_work),
        cmocka_unit_test(concurrent_requests_each_get_one_reply),
        cmocka_unit_test(sigterm_during_a_stream_exits_cleanly),
    };
    return cmocka_run_group_tests_name("programs_fakellm", tests, setup, teardown);
}
