/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of cassettes: the recorder (src/providers/recorder.c) around a
 * scripted in-memory backend writes one redacted JSONL line per exchange,
 * and the replay provider (src/providers/replay.c) serves them back in
 * order, streaming or not, with readable mismatch diffs, recorded errors,
 * exhaustion and bad-cassette errors naming the line, plus OOM sweeps over
 * replay, recording and the request form cassettes match on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "providers/provider_int.h"

/* ---- an echo backend: answers "echo: <last text>", or fails for "fail..." ------ */

typedef struct echo {
    int calls;
} echo;

static agc_status echo_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                            agc_delta_fn on_delta, void *user, agc_attempt *at, agc_ctx *ctx)
{
    echo *e = self;
    e->calls++;
    const agc_message *last = &req->messages[req->n_messages - 1];
    const char *text = last->n_parts ? last->parts[0].text : "";
    if (strncmp(text, "fail", 4) == 0) {
        at->http_status = 429;
        return agc__provider_http_error(ctx, "echo", 429, "slow down", "rate_limit_error",
                                        "req_fail", "ECHO_API_KEY", req->model);
    }
    agc_response_builder *b = NULL;
    agc_status st = agc_response_builder_new(&b, on_delta, user, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_response_add_text(b, "echo: ", 6);
    if (st == AGC_OK)
        st = agc_response_add_text(b, text, strlen(text));
    if (st == AGC_OK)
        st = agc_response_set_meta(b, "resp_1", req->model, "req_1");
    if (st == AGC_OK) {
        agc_response_merge_usage(b, 1000, 500, 200, 100, -1);
        st = agc_response_set_finish(b, AGC_FINISH_STOP, "stop");
    }
    if (st == AGC_OK)
        st = agc_response_builder_finish(out, b);
    agc_response_builder_free(b);
    return st;
}

static void echo_destroy(void *self)
{
    (void)self;
}

static const agc_provider_ops echo_ops = {AGC_PROVIDER_OPS_VERSION, "echo", echo_chat, NULL,
                                          echo_destroy};

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fixture {
    agc_test_alloc a;
    agc_ctx *ctx;
    char *dir;
    char *path; /* dir/c.jsonl */
    echo e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ctx = agc_test_ctx_new(&f->a);
    assert_int_equal(agc_log_set_level(f->ctx, AGC_LOG_OFF), AGC_OK);
    f->dir = agc_test_tmpdir();
    assert_true(asprintf(&f->path, "%s/c.jsonl", f->dir) > 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agc_ctx_free(f->ctx);
    assert_int_equal(f->a.live, 0);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static agc_provider *open_echo(fixture *f, int max_attempts)
{
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.model = "fake-model";
    o.retry.max_attempts = max_attempts;
    agc_provider *p = NULL;
    assert_int_equal(agc_provider_new(&p, &echo_ops, &f->e, &o, f->ctx), AGC_OK);
    return p;
}

static agc_provider *open_replay(fixture *f, const char *path)
{
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "replay";
    o.cassette = path;
    agc_provider *p = NULL;
    assert_int_equal(agc_provider_open(&p, &o, f->ctx), AGC_OK);
    return p;
}

typedef struct req_holder {
    agc_part parts[2];
    agc_message msgs[2];
    agc_chat_request req;
} req_holder;

/* A request with a system message and one user message; model left to the provider. */
static agc_chat_request *make_req(req_holder *h, const char *prompt)
{
    h->parts[0] = (agc_part){.kind = AGC_PART_TEXT, .text = "be brief"};
    h->parts[1] = (agc_part){.kind = AGC_PART_TEXT, .text = prompt};
    h->msgs[0] = (agc_message){.role = AGC_ROLE_SYSTEM, .parts = &h->parts[0], .n_parts = 1};
    h->msgs[1] = (agc_message){.role = AGC_ROLE_USER, .parts = &h->parts[1], .n_parts = 1};
    agc_chat_request r = AGC_CHAT_REQUEST_INIT;
    h->req = r;
    h->req.messages = h->msgs;
    h->req.n_messages = 2;
    return &h->req;
}

typedef struct collected {
    char text[256];
    int deltas;
} collected;

static agc_status collect(const agc_delta *d, void *user)
{
    collected *c = user;
    if (d->kind == AGC_DELTA_TEXT) {
        strncat(c->text, d->text, sizeof c->text - strlen(c->text) - 1);
        c->deltas++;
    }
    return AGC_OK;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static json_t *dump_of(agc_chat_response *r, agc_ctx *ctx)
{
    json_t *j = agc_chat_response_to_json(r, ctx);
    assert_non_null(j);
    return j;
}

/* Records prompts through a recorder around the echo backend; streams every odd one. */
static void record(fixture *f, const char *const *prompts, size_t n, json_t **responses)
{
    agc_provider *inner = open_echo(f, 1), *rec = NULL;
    assert_int_equal(agc_provider_recorder_new(&rec, inner, f->path, f->ctx), AGC_OK);
    assert_string_equal(agc_provider_model(rec), "fake-model");
    for (size_t i = 0; i < n; i++) {
        req_holder h;
        collected c = {{0}, 0};
        agc_chat_response *r = NULL;
        agc_status st =
            agc_provider_chat(&r, rec, make_req(&h, prompts[i]), i % 2 ? collect : NULL, &c);
        if (responses)
            responses[i] = st == AGC_OK ? dump_of(r, f->ctx) : NULL;
        agc_chat_response_free(r);
    }
    agc_provider_close(rec);
    agc_provider_close(inner);
}

/* ---- recording ----------------------------------------------------------------- */

static void recorder_writes_one_line_per_exchange(void **state)
{
    fixture *f = *state;
    const char *prompts[] = {"foo", "bar"};
    record(f, prompts, 2, NULL);
    char *text = slurp(f->path);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_non_null(strchr(nl + 1, '\n'));
    assert_string_equal(strchr(nl + 1, '\n') + 1, "");
    json_error_t jerr;
    json_t *l1 = json_loadb(text, (size_t)(nl - text), 0, &jerr);
    json_t *l2 = json_loads(nl + 1, 0, &jerr);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_int_equal(agc_json_int(l1, "v", 0), 1);
    assert_string_equal(agc_json_str(l1, "provider", ""), "echo");
    assert_false(agc_json_bool(l1, "stream", true));
    assert_true(agc_json_bool(l2, "stream", false));
    assert_true(json_is_null(json_object_get(l1, "error")));
    assert_true(json_is_integer(json_object_get(l1, "latency_ms")));
    json_t *req = json_object_get(l1, "request");
    assert_string_equal(agc_json_str(req, "model", ""), "fake-model");
    assert_string_equal(json_string_value(agc_json_pointer_get(req, "/messages/1/content/0/text")),
                        "foo");
    assert_null(json_object_get(req, "headers"));
    json_t *resp = json_object_get(l2, "response");
    assert_string_equal(json_string_value(agc_json_pointer_get(resp, "/content/0/text")),
                        "echo: bar");
    assert_int_equal(json_integer_value(agc_json_pointer_get(resp, "/usage/input_tokens")), 1000);
    /* keys are written sorted: "error" comes before "latency_ms" before "provider" */
    assert_true(strstr(text, "\"error\"") < strstr(text, "\"latency_ms\""));
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    json_decref(l1);
    json_decref(l2);
    free(text);
}

static void recorder_appends_to_an_existing_cassette(void **state)
{
    fixture *f = *state;
    const char *p1[] = {"one"}, *p2[] = {"two"};
    record(f, p1, 1, NULL);
    record(f, p2, 1, NULL);
    char *text = slurp(f->path);
    assert_non_null(strstr(text, "echo: one"));
    assert_non_null(strstr(text, "echo: two"));
    assert_true(strstr(text, "echo: one") < strstr(text, "echo: two"));
    free(text);
}

static void secrets_never_reach_the_cassette(void **state)
{
    fixture *f = *state;
    static const char secret[] = "hunter2-very-secret-value";
    assert_int_equal(agc_redact_add_secret(f->ctx, secret, strlen(secret)), AGC_OK);
    const char *prompts[] = {"my password is hunter2-very-secret-value, keep it",
                             "and a key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"};
    record(f, prompts, 2, NULL);
    char *text = slurp(f->path);
    assert_null(strstr(text, secret));
    assert_null(strstr(text, "abcdefghijklmnopqrstuvwxyz0123456789"));
    assert_non_null(strstr(text, AGC_REDACTED));
    free(text);
}

static void recorder_rejects_an_unwritable_path(void **state)
{
    fixture *f = *state;
    agc_provider *inner = open_echo(f, 1), *rec = NULL;
    assert_int_equal(agc_provider_recorder_new(&rec, inner, "/nonexistent-dir/c.jsonl", f->ctx),
                     AGC_EIO);
    assert_null(rec);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "/nonexistent-dir/c.jsonl"));
    agc_provider_close(inner);
}

/* ---- replaying ------------------------------------------------------------------ */

static void replays_responses_in_order_streamed_or_not(void **state)
{
    fixture *f = *state;
    const char *prompts[] = {"foo", "bar", "baz"};
    json_t *orig[3];
    record(f, prompts, 3, orig);
    assert_int_equal(f->e.calls, 3);
    agc_provider *p = open_replay(f, f->path);
    assert_string_equal(agc_provider_name(p), "replay");
    assert_string_equal(agc_provider_model(p), "fake-model"); /* from the cassette */
    for (int i = 0; i < 3; i++) {
        req_holder h;
        collected c = {{0}, 0};
        agc_chat_response *r = NULL;
        /* streaming is not part of the match: stream the ones recorded without */
        assert_int_equal(
            agc_provider_chat(&r, p, make_req(&h, prompts[i]), i % 2 ? NULL : collect, &c), AGC_OK);
        json_t *j = dump_of(r, f->ctx);
        assert_true(json_equal(j, orig[i]));
        if (i % 2 == 0) {
            assert_int_equal(c.deltas, 1);
            assert_string_equal(c.text, agc_chat_response_text(r));
        }
        assert_true(r->cost_known);
        assert_true(r->cost_usd > 0.0019 && r->cost_usd < 0.0020);
        assert_string_equal(r->request_id, "req_1");
        json_decref(j);
        json_decref(orig[i]);
        agc_chat_response_free(r);
    }
    assert_int_equal(f->e.calls, 3); /* replay never calls the real backend */
    agc_provider_close(p);
}

static void mismatch_names_the_field_and_both_values(void **state)
{
    fixture *f = *state;
    const char *prompts[] = {"foo", "bar"};
    record(f, prompts, 2, NULL);
    agc_provider *p = open_replay(f, f->path);
    req_holder h;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, make_req(&h, "bar"), NULL, NULL), AGC_EINVAL);
    assert_null(r);
    char want[512];
    snprintf(want, sizeof want,
             "replay mismatch at exchange 1 (%s:1): /messages/1/content/0/text: recorded "
             "\"foo\", got \"bar\"",
             f->path);
    assert_string_equal(agc_ctx_errmsg(f->ctx), want);
    /* the cursor did not move: the right request still matches */
    assert_int_equal(agc_provider_chat(&r, p, make_req(&h, "foo"), NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    /* an added field, and a long value cut short */
    agc_chat_request *req = make_req(&h, "bar but this time with a much longer prompt than was "
                                         "recorded, long enough to be truncated in the message");
    req->temperature = 0.5;
    assert_int_equal(agc_provider_chat(&r, p, req, NULL, NULL), AGC_EINVAL);
    const char *msg = agc_ctx_errmsg(f->ctx);
    assert_non_null(strstr(msg, "at exchange 2 ("));
    assert_non_null(strstr(msg, "c.jsonl:2)"));
    assert_non_null(strstr(msg, "/messages/1/content/0/text: recorded \"bar\", got \"bar but"));
    assert_non_null(strstr(msg, "..."));
    assert_non_null(strstr(msg, "/temperature: recorded (absent), got 0.5"));
    agc_provider_close(p);
}

static void exhausted_cassette_is_a_clear_error(void **state)
{
    fixture *f = *state;
    const char *prompts[] = {"foo"};
    record(f, prompts, 1, NULL);
    agc_provider *p = open_replay(f, f->path);
    req_holder h;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, make_req(&h, "foo"), NULL, NULL), AGC_OK);
    agc_chat_response_free(r);
    assert_int_equal(agc_provider_chat(&r, p, make_req(&h, "foo"), NULL, NULL), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "is exhausted"));
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "1 exchange and exchange 2"));
    agc_provider_close(p);
}

static void recorded_errors_replay_with_their_code_and_message(void **state)
{
    fixture *f = *state;
    const char *prompts[] = {"fail please", "after"};
    json_t *orig[2];
    record(f, prompts, 2, orig);
    assert_null(orig[0]);
    char *text = slurp(f->path);
    assert_non_null(strstr(text, "\"code\":\"AGC_ERATELIMIT\""));
    assert_non_null(strstr(text, "\"status\":429"));
    free(text);
    agc_provider *p = open_replay(f, f->path);
    req_holder h;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, make_req(&h, "fail please"), NULL, NULL),
                     AGC_ERATELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "HTTP 429 rate limited: slow down"));
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "req_fail"));
    /* not retried: the next exchange is still there */
    assert_int_equal(agc_provider_chat(&r, p, make_req(&h, "after"), NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "echo: after");
    agc_chat_response_free(r);
    json_decref(orig[1]);
    agc_provider_close(p);
}

static void bad_cassettes_are_named_with_their_line(void **state)
{
    fixture *f = *state;
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "replay";
    agc_provider *p = NULL;
    assert_int_equal(agc_provider_open(&p, &o, f->ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "cassette"));

    char *missing = NULL;
    assert_true(asprintf(&missing, "%s/missing.jsonl", f->dir) > 0);
    o.cassette = missing;
    assert_int_equal(agc_provider_open(&p, &o, f->ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), missing));
    free(missing);

    static const struct {
        const char *content;
        const char *want;
    } cases[] = {
        {"", "holds no exchanges"},
        {"\n  \n", "holds no exchanges"},
        {"{\"v\":1,\"request\":{},\"response\":{\"finish_reason\":\"stop\"}}\n{oops\n",
         "c.jsonl:2: invalid JSON"},
        {"[1]\n", "c.jsonl:1: a line must be a JSON object"},
        {"{\"v\":2,\"request\":{},\"response\":{}}\n", "c.jsonl:1: unsupported"},
        {"\n{\"v\":1,\"response\":{}}\n", "c.jsonl:2: missing \"request\""},
        {"{\"v\":1,\"request\":{}}\n", "needs a \"response\" or an \"error\""},
        {"{\"v\":1,\"request\":{},\"error\":{\"status\":500}}\n", "lacks a \"message\""},
    };
    o.cassette = f->path;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        agc_test_write_file(f->path, cases[i].content);
        agc_status st = agc_provider_open(&p, &o, f->ctx);
        assert_int_equal(st, AGC_EPARSE);
        assert_null(p);
        char msg[1024];
        agc_error_format(f->ctx, msg, sizeof msg);
        if (!strstr(msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, msg, cases[i].want);
    }
}

static void replays_a_handwritten_cassette(void **state)
{
    fixture *f = *state;
    /* keys in any order, CRLF line ends, a blank line, an error naming only a status */
    agc_test_write_file(
        f->path,
        "{\"request\":{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"hi\"}]}],\"model\":\"m1\",\"tool_choice\":\"auto\",\"tools\":[]},"
        "\"v\":1,\"response\":{\"content\":[{\"type\":\"text\",\"text\":\"Hello!\"}],"
        "\"tool_calls\":[],\"finish_reason\":\"stop\",\"usage\":null}}\r\n"
        "\r\n"
        "{\"v\":1,\"request\":{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"again\"}]}],\"model\":\"m1\",\"tool_choice\":\"auto\",\"tools\":[]},"
        "\"error\":{\"status\":503,\"message\":\"busy\"}}\n");
    agc_provider *p = open_replay(f, f->path);
    assert_string_equal(agc_provider_model(p), "m1");
    agc_part part = {.kind = AGC_PART_TEXT, .text = "hi"};
    agc_message msg = {.role = AGC_ROLE_USER, .parts = &part, .n_parts = 1};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.messages = &msg;
    req.n_messages = 1;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_OK);
    assert_string_equal(agc_chat_response_text(r), "Hello!");
    assert_false(r->cost_known); /* no usage recorded: cost unknown */
    agc_chat_response_free(r);
    part.text = "again";
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_EOVERLOADED);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "busy"));
    agc_provider_close(p);
}

/* ---- OOM sweeps ------------------------------------------------------------------ */

static agc_status sweep_replay(agc_ctx *ctx, void *user)
{
    const char *path = user;
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = "replay";
    o.cassette = path;
    agc_provider *p = NULL;
    agc_status st = agc_provider_open(&p, &o, ctx);
    if (st != AGC_OK)
        return st;
    const char *prompts[] = {"foo", "nope"};
    for (int i = 0; i < 2 && st == AGC_OK; i++) {
        req_holder h;
        collected c = {{0}, 0};
        agc_chat_response *r = NULL;
        st = agc_provider_chat(&r, p, make_req(&h, prompts[i]), collect, &c);
        agc_chat_response_free(r);
        if (i == 1 && st == AGC_EINVAL)
            st = strstr(agc_ctx_errmsg(ctx), "mismatch") ? AGC_OK : AGC_ERROR;
    }
    agc_provider_close(p);
    return st;
}

/* The request form cassettes match on: every field, more messages than jansson's
 * first array block (its growth failing once freed a message twice). */
static agc_status request_json(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_part text = {.kind = AGC_PART_TEXT, .text = "look"};
    agc_part img[2] = {
        {.kind = AGC_PART_TEXT, .text = "see"},
        {.kind = AGC_PART_IMAGE, .image_url = "https://x/y.png", .media_type = "image/png"}};
    agc_tool_call call = {"call_1", "read_file", "{\"path\":\"a\"}"};
    agc_message msgs[12];
    for (int i = 0; i < 12; i++)
        msgs[i] = (agc_message){.role = AGC_ROLE_USER, .parts = &text, .n_parts = 1};
    msgs[0].role = AGC_ROLE_SYSTEM;
    msgs[0].cache = true;
    msgs[1].parts = img;
    msgs[1].n_parts = 2;
    msgs[2] = (agc_message){.role = AGC_ROLE_ASSISTANT, .tool_calls = &call, .n_tool_calls = 1};
    msgs[3] = (agc_message){.role = AGC_ROLE_TOOL,
                            .parts = &text,
                            .n_parts = 1,
                            .tool_call_id = "call_1",
                            .is_error = true};
    json_error_t jerr;
    json_t *params = json_loads("{\"type\":\"object\"}", 0, &jerr);
    agc_tool_def tool = {"read_file", "reads a file", params, true};
    static const char *const stop[] = {"END", "STOP", "HALT"};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = "fake-model";
    req.messages = msgs;
    req.n_messages = 12;
    req.tools = &tool;
    req.n_tools = 1;
    req.tool_choice = AGC_TOOL_CHOICE_NAMED;
    req.tool_choice_name = "read_file";
    req.parallel_tool_calls = false;
    req.format = AGC_FORMAT_JSON_SCHEMA;
    req.response_schema = params;
    req.response_schema_name = "answer";
    req.temperature = 0.5;
    req.top_p = 0.9;
    req.max_tokens = 100;
    req.stop = stop;
    req.n_stop = 3;
    req.seed = 7;
    req.has_seed = true;
    req.cache_system = true;
    req.extra = params;
    json_t *j = agc_chat_request_to_json(&req, ctx);
    agc_status st = j ? AGC_OK : agc_ctx_last_error(ctx)->code;
    if (j && (json_array_size(json_object_get(j, "messages")) != 12 ||
              json_array_size(json_object_get(j, "stop")) != 3 ||
              !json_is_object(json_object_get(j, "response_format"))))
        st = AGC_ERROR;
    json_decref(j);
    json_decref(params);
    return st;
}

static void oom_sweep_over_the_request_form(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(request_json, NULL, 0) > 10);
}

static void oom_sweep_over_replay(void **state)
{
    fixture *f = *state;
    const char *prompts[] = {"foo", "bar"};
    record(f, prompts, 2, NULL);
    assert_true(agc_test_oom_sweep(sweep_replay, f->path, 0) > 10);
}

typedef struct rec_sweep {
    const char *path;
    echo e;
} rec_sweep;

static agc_status sweep_record(agc_ctx *ctx, void *user)
{
    rec_sweep *s = user;
    unlink(s->path);
    (void)agc_log_set_level(ctx, AGC_LOG_OFF); /* may fail under OOM: then it warns */
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.model = "fake-model";
    o.retry.max_attempts = 1;
    agc_provider *inner = NULL, *rec = NULL;
    agc_status st = agc_provider_new(&inner, &echo_ops, &s->e, &o, ctx);
    if (st == AGC_OK)
        st = agc_provider_recorder_new(&rec, inner, s->path, ctx);
    const char *prompts[] = {"foo", "fail"};
    for (int i = 0; i < 2 && st == AGC_OK; i++) {
        req_holder h;
        agc_chat_response *r = NULL;
        st = agc_provider_chat(&r, rec, make_req(&h, prompts[i]), NULL, NULL);
        agc_chat_response_free(r);
        if (i == 1 && st == AGC_ERATELIMIT)
            st = AGC_OK;
    }
    agc_provider_close(rec);
    agc_provider_close(inner);
    return st;
}

static void oom_sweep_over_recording(void **state)
{
    fixture *f = *state;
    rec_sweep s = {f->path, {0}};
    assert_true(agc_test_oom_sweep(sweep_record, &s, 0) > 10);
    /* the last (unfailing) run recorded both exchanges */
    char *text = slurp(f->path);
    assert_non_null(strstr(text, "echo: foo"));
    assert_non_null(strstr(text, "AGC_ERATELIMIT"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(recorder_writes_one_line_per_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(recorder_appends_to_an_existing_cassette, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_never_reach_the_cassette, setup, teardown),
        cmocka_unit_test_setup_teardown(recorder_rejects_an_unwritable_path, setup, teardown),
        cmocka_unit_test_setup_teardown(replays_responses_in_order_streamed_or_not, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mismatch_names_the_field_and_both_values, setup, teardown),
        cmocka_unit_test_setup_teardown(exhausted_cassette_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(recorded_errors_replay_with_their_code_and_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_cassettes_are_named_with_their_line, setup, teardown),
        cmocka_unit_test_setup_teardown(replays_a_handwritten_cassette, setup, teardown),
        cmocka_unit_test_setup_teardown(oom_sweep_over_the_request_form, setup, teardown),
        cmocka_unit_test_setup_teardown(oom_sweep_over_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(oom_sweep_over_recording, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
