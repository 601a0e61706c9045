/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of the event bus and its sinks: order and seq, type masks, custom
 * events, the JSONL envelope (file and stream), redaction of secrets before
 * writing, sinks that fail (/dev/full) without stopping the others,
 * re-entrance, concurrent emitters, and an OOM sweep.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/event.h"
#include "agentc/json.h"
#include "agentc/redact.h"

/* 2023-11-14T22:13:20.123Z */
#define T0 INT64_C(1700000000123)

typedef struct fixture {
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx;
    agc_event_bus *bus;
    char *dir;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ctx = agc_test_ctx_new(&f->a);
    f->clk.now_ms = T0;
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &f->clk);
    assert_int_equal(agc_event_bus_new(&f->bus, f->ctx), AGC_OK);
    f->dir = agc_test_tmpdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agc_event_bus_free(f->bus);
    agc_ctx_free(f->ctx);
    assert_int_equal(f->a.live, 0);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Builds a JSON object from text (system allocator, outside any ctx scope). */
static json_t *obj(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    assert_non_null(v);
    return v;
}

static agc_event_sink *add_memory(fixture *f, uint64_t mask)
{
    agc_event_sink *s = NULL;
    assert_int_equal(agc_event_sink_memory(&s, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, s, mask), AGC_OK);
    return s;
}

static char *path_in(fixture *f, const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
    return p;
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

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- bus and memory sink ------------------------------------------------ */

static void emits_in_order_with_increasing_seq(void **state)
{
    fixture *f = *state;
    agc_event_sink *mem = add_memory(f, AGC_EVENT_MASK_ALL);
    assert_int_equal(agc_event_bus_last_seq(f->bus), 0);

    json_t *p = obj("{\"provider\":\"openai\",\"model\":\"gpt\",\"messages\":3,\"tools\":1}");
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_RUN_STARTED, "run_1", NULL), AGC_OK);
    agc_manual_clock_advance(&f->clk, 5);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_MODEL_REQUEST, "run_1", p), AGC_OK);
    json_decref(p); /* the copy must not depend on the caller's payload */
    agc_manual_clock_advance(&f->clk, 5);
    assert_int_equal(agc_event_emitx(f->bus, AGC_EVENT_TOOL_CALL, NULL, "run_1", "coder", NULL),
                     AGC_OK);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_LOG, NULL, NULL), AGC_OK);

    assert_int_equal(agc_event_bus_last_seq(f->bus), 4);
    assert_int_equal(agc_event_memory_count(mem), 4);
    static const char *names[] = {"run.started", "model.request", "tool.call", "log"};
    for (size_t i = 0; i < 4; i++) {
        const agc_event *ev = agc_event_memory_get(mem, i);
        assert_non_null(ev);
        assert_int_equal(ev->seq, i + 1);
        assert_string_equal(ev->name, names[i]);
    }
    const agc_event *req = agc_event_memory_get(mem, 1);
    assert_int_equal(req->type, AGC_EVENT_MODEL_REQUEST);
    assert_int_equal(req->time_ms, T0 + 5);
    assert_string_equal(req->run_id, "run_1");
    assert_null(req->agent);
    assert_string_equal(agc_json_str(req->data, "provider", ""), "openai");
    assert_int_equal(agc_json_int(req->data, "messages", 0), 3);
    const agc_event *call = agc_event_memory_get(mem, 2);
    assert_string_equal(call->agent, "coder");
    assert_int_equal(call->time_ms, T0 + 10);
    assert_null(call->data);
    assert_null(agc_event_memory_get(mem, 3)->run_id);

    agc_event_memory_clear(mem);
    assert_int_equal(agc_event_memory_count(mem), 0);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_RUN_FINISHED, "run_1", NULL), AGC_OK);
    assert_int_equal(agc_event_memory_get(mem, 0)->seq, 5);
    assert_int_equal(agc_event_bus_dropped(f->bus), 0);
}

static void type_names_round_trip(void **state)
{
    (void)state;
    for (int t = 0; t < AGC_EVENT__COUNT; t++) {
        const char *name = agc_event_type_name((agc_event_type)t);
        assert_int_equal(agc_event_type_from_name(name), t);
    }
    assert_string_equal(agc_event_type_name(AGC_EVENT_TOOL_CALL), "tool.call");
    assert_string_equal(agc_event_type_name(AGC_EVENT_APPROVAL_DECIDED), "approval.decided");
    assert_string_equal(agc_event_type_name(AGC_EVENT__COUNT), "custom");
    assert_int_equal(agc_event_type_from_name("plugin.thing"), AGC_EVENT_CUSTOM);
    assert_int_equal(agc_event_type_from_name(NULL), AGC_EVENT_CUSTOM);
    assert_true(AGC_EVENT__COUNT <= 64); /* masks are 64 bits */
}

static void custom_events_carry_caller_name(void **state)
{
    fixture *f = *state;
    agc_event_sink *mem = add_memory(f, AGC_EVENT_MASK_ALL);
    json_t *p = obj("{\"k\":1}");
    assert_int_equal(agc_event_emit_custom(f->bus, "plugin.cache:hit", "run_2", p), AGC_OK);
    const agc_event *ev = agc_event_memory_get(mem, 0);
    assert_int_equal(ev->type, AGC_EVENT_CUSTOM);
    assert_string_equal(ev->name, "plugin.cache:hit");

    /* refused without using a seq */
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_CUSTOM, NULL, p), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "agc_event_emit_custom"));
    assert_int_equal(agc_event_emit_custom(f->bus, "", NULL, p), AGC_EINVAL);
    assert_int_equal(agc_event_emit_custom(f->bus, NULL, NULL, p), AGC_EINVAL);
    assert_int_equal(agc_event_emit_custom(f->bus, "has space", NULL, p), AGC_EINVAL);
    assert_int_equal(agc_event_emit_custom(f->bus, "quote\"", NULL, p), AGC_EINVAL);
    char longname[AGC_EVENT_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(agc_event_emit_custom(f->bus, longname, NULL, p), AGC_EINVAL);
    longname[AGC_EVENT_NAME_MAX] = '\0';
    assert_int_equal(agc_event_emit_custom(f->bus, longname, NULL, p), AGC_OK);
    assert_int_equal(agc_event_bus_last_seq(f->bus), 2);
    json_decref(p);
}

static void rejects_bad_payload_and_ids(void **state)
{
    fixture *f = *state;
    agc_event_sink *mem = add_memory(f, AGC_EVENT_MASK_ALL);
    json_t *arr = obj("[1,2]");
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_LOG, NULL, arr), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "must be a JSON object"));
    json_decref(arr);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_LOG, "run\n1", NULL), AGC_EINVAL);
    assert_int_equal(agc_event_emitx(f->bus, AGC_EVENT_LOG, NULL, NULL, "", NULL), AGC_EINVAL);
    assert_int_equal(agc_event_emit(f->bus, (agc_event_type)99, NULL, NULL), AGC_EINVAL);
    assert_int_equal(agc_event_memory_count(mem), 0);
    assert_int_equal(agc_event_bus_last_seq(f->bus), 0);
}

static void sink_mask_filters_types(void **state)
{
    fixture *f = *state;
    agc_event_sink *all = add_memory(f, AGC_EVENT_MASK_ALL);
    agc_event_sink *tools =
        add_memory(f, AGC_EVENT_BIT(AGC_EVENT_TOOL_CALL) | AGC_EVENT_BIT(AGC_EVENT_TOOL_RESULT));
    agc_event_sink *none = add_memory(f, 0);
    agc_event_type seq[] = {AGC_EVENT_RUN_STARTED, AGC_EVENT_TOOL_CALL, AGC_EVENT_MODEL_DELTA,
                            AGC_EVENT_TOOL_RESULT, AGC_EVENT_RUN_FINISHED};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(agc_event_emit(f->bus, seq[i], NULL, NULL), AGC_OK);
    assert_int_equal(agc_event_memory_count(all), 5);
    assert_int_equal(agc_event_memory_count(tools), 2);
    assert_int_equal(agc_event_memory_count(none), 0);
    assert_int_equal(agc_event_memory_get(tools, 0)->seq, 2);
    assert_int_equal(agc_event_memory_get(tools, 1)->seq, 4);
}

/* ---- callback sink ------------------------------------------------------ */

typedef struct cb_rec {
    agc_event_bus *bus;
    int calls;
    uint64_t last_seq;
    char last_name[64];
    agc_status reenter;
} cb_rec;

static void on_event(const agc_event *ev, void *user)
{
    cb_rec *r = user;
    r->calls++;
    assert_true(ev->seq > r->last_seq);
    r->last_seq = ev->seq;
    snprintf(r->last_name, sizeof r->last_name, "%s", ev->name);
    if (r->bus) {
        r->reenter = agc_event_emit(r->bus, AGC_EVENT_LOG, NULL, NULL);
        /* reading counters from inside a sink must not unlock the bus */
        assert_int_equal(agc_event_bus_last_seq(r->bus), ev->seq);
    }
}

static void callback_sink_sees_each_event(void **state)
{
    fixture *f = *state;
    cb_rec r = {0};
    agc_event_sink *s = NULL;
    assert_int_equal(agc_event_sink_callback(&s, on_event, &r, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, s, AGC_EVENT_MASK_ALL), AGC_OK);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_TURN_STARTED, "r", NULL), AGC_OK);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_TURN_FINISHED, "r", NULL), AGC_OK);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.last_seq, 2);
    assert_string_equal(r.last_name, "turn.finished");
    agc_event_sink *bad = NULL;
    assert_int_equal(agc_event_sink_callback(&bad, NULL, &r, f->ctx), AGC_EINVAL);
    assert_null(bad);
}

static void sink_calling_back_into_bus_gets_ebusy(void **state)
{
    fixture *f = *state;
    cb_rec r = {.bus = f->bus};
    agc_event_sink *s = NULL;
    assert_int_equal(agc_event_sink_callback(&s, on_event, &r, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, s, AGC_EVENT_MASK_ALL), AGC_OK);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_RUN_STARTED, NULL, NULL), AGC_OK);
    assert_int_equal(r.reenter, AGC_EBUSY);
    assert_int_equal(r.calls, 1);
    assert_int_equal(agc_event_bus_last_seq(f->bus), 1);
    /* the bus still works afterwards */
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_RUN_FINISHED, NULL, NULL), AGC_OK);
    assert_int_equal(r.calls, 2);
}

static void add_and_remove_sinks(void **state)
{
    fixture *f = *state;
    agc_event_sink *mem = add_memory(f, AGC_EVENT_MASK_ALL);
    assert_int_equal(agc_event_bus_add_sink(f->bus, mem, AGC_EVENT_MASK_ALL), AGC_EINVAL);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_LOG, NULL, NULL), AGC_OK);
    assert_int_equal(agc_event_bus_remove_sink(f->bus, mem), AGC_OK);
    assert_int_equal(agc_event_bus_remove_sink(f->bus, mem), AGC_ENOTFOUND);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_LOG, NULL, NULL), AGC_OK);
    assert_int_equal(agc_event_memory_count(mem), 1); /* detached: no second event */
    /* a detached sink can join another bus */
    agc_event_bus *other = NULL;
    assert_int_equal(agc_event_bus_new(&other, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(other, mem, AGC_EVENT_MASK_ALL), AGC_OK);
    assert_int_equal(agc_event_emit(other, AGC_EVENT_LOG, NULL, NULL), AGC_OK);
    assert_int_equal(agc_event_memory_get(mem, 1)->seq, 1); /* seq is per bus */
    assert_int_equal(agc_event_bus_remove_sink(other, mem), AGC_OK);
    agc_event_bus_free(other);
    agc_event_sink_free(mem);
    agc_event_sink_free(NULL);
    agc_event_bus_free(NULL);
}

static agc_status noop_emit(void *self, const agc_event *ev)
{
    (void)self;
    (void)ev;
    return AGC_OK;
}

static void sink_new_rejects_bad_ops(void **state)
{
    fixture *f = *state;
    static const agc_event_sink_ops v2 = {2, noop_emit, NULL, NULL};
    static const agc_event_sink_ops no_emit = {AGC_EVENT_SINK_OPS_VERSION, NULL, NULL, NULL};
    static const agc_event_sink_ops ok = {AGC_EVENT_SINK_OPS_VERSION, noop_emit, NULL, NULL};
    agc_event_sink *s = (agc_event_sink *)1;
    assert_int_equal(agc_event_sink_new(&s, &v2, NULL, f->ctx), AGC_EINVAL);
    assert_null(s);
    assert_int_equal(agc_event_sink_new(&s, &no_emit, NULL, f->ctx), AGC_EINVAL);
    assert_int_equal(agc_event_sink_new(&s, &ok, NULL, f->ctx), AGC_OK);
    /* not a memory sink: accessors answer empty */
    assert_int_equal(agc_event_memory_count(s), 0);
    assert_null(agc_event_memory_get(s, 0));
    agc_event_memory_clear(s);
    agc_event_sink_free(s);
}

/* ---- JSONL sinks -------------------------------------------------------- */

static void jsonl_file_writes_envelope_per_line(void **state)
{
    fixture *f = *state;
    char *path = path_in(f, "events.jsonl");
    agc_event_sink *s = NULL;
    agc_event_jsonl_opts o;
    agc_event_jsonl_opts_init(&o);
    o.fsync = true;
    assert_int_equal(agc_event_sink_jsonl_open(&s, path, &o, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, s, AGC_EVENT_MASK_ALL), AGC_OK);
    json_t *p =
        obj("{\"tool\":\"read_file\",\"call_id\":\"c1\",\"arguments\":{\"path\":\"a\\\"b\"},"
            "\"cost\":0.1}");
    assert_int_equal(agc_event_emitx(f->bus, AGC_EVENT_TOOL_CALL, NULL, "run_01", "coder", p),
                     AGC_OK);
    json_decref(p);
    agc_manual_clock_advance(&f->clk, 1000);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_LOG, NULL, NULL), AGC_OK);

    char *text = slurp(path);
    assert_string_equal(text,
                        "{\"seq\":1,\"time\":\"2023-11-14T22:13:20.123Z\",\"type\":\"tool.call\","
                        "\"run_id\":\"run_01\",\"agent\":\"coder\",\"data\":{\"arguments\":{"
                        "\"path\":\"a\\\"b\"},\"call_id\":\"c1\",\"cost\":0.1,\"tool\":"
                        "\"read_file\"}}\n"
                        "{\"seq\":2,\"time\":\"2023-11-14T22:13:21.123Z\",\"type\":\"log\","
                        "\"data\":{}}\n");
    /* every line is valid JSON */
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *v = NULL;
        assert_int_equal(agc_json_parse(&v, line, strlen(line), "line", f->ctx), AGC_OK);
        assert_true(json_is_object(json_object_get(v, "data")));
        json_decref(v);
    }
    free(text);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(path);
}

static void jsonl_file_appends_to_existing_content(void **state)
{
    fixture *f = *state;
    char *path = path_in(f, "append.jsonl");
    agc_test_write_file(path, "{\"seq\":0}\n");
    for (int round = 0; round < 2; round++) {
        agc_event_sink *s = NULL;
        assert_int_equal(agc_event_sink_jsonl_open(&s, path, NULL, f->ctx), AGC_OK);
        assert_int_equal(agc_event_bus_add_sink(f->bus, s, AGC_EVENT_MASK_ALL), AGC_OK);
        assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_SESSION_SAVED, NULL, NULL), AGC_OK);
        assert_int_equal(agc_event_bus_remove_sink(f->bus, s), AGC_OK);
        agc_event_sink_free(s);
    }
    char *text = slurp(path);
    assert_int_equal(count_lines(text), 3);
    assert_non_null(strstr(text, "\"seq\":2,"));
    free(text);
    free(path);
}

static void jsonl_open_reports_unopenable_path(void **state)
{
    fixture *f = *state;
    char *path = path_in(f, "no/such/dir/events.jsonl");
    agc_event_sink *s = (agc_event_sink *)1;
    assert_int_equal(agc_event_sink_jsonl_open(&s, path, NULL, f->ctx), AGC_EIO);
    assert_null(s);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), path));
    agc_event_jsonl_opts bad = {99, false};
    assert_int_equal(agc_event_sink_jsonl_open(&s, path, &bad, f->ctx), AGC_EINVAL);
    assert_int_equal(agc_event_sink_jsonl_stream(&s, stdout, &bad, f->ctx), AGC_EINVAL);
    free(path);
}

static void jsonl_stream_writes_lines(void **state)
{
    fixture *f = *state;
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    agc_event_sink *s = NULL;
    assert_int_equal(agc_event_sink_jsonl_stream(&s, tmp, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, s, AGC_EVENT_MASK_ALL), AGC_OK);
    json_t *p = obj("{\"msg\":\"h\\u00e9llo\\nworld\"}");
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_ERROR, "run_x", p), AGC_OK);
    json_decref(p);
    assert_int_equal(agc_event_bus_flush(f->bus), AGC_OK);
    rewind(tmp);
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, tmp));
    assert_string_equal(line,
                        "{\"seq\":1,\"time\":\"2023-11-14T22:13:20.123Z\",\"type\":\"error\","
                        "\"run_id\":\"run_x\",\"data\":{\"msg\":\"h\xc3\xa9llo\\nworld\"}}\n");
    /* the sink does not close the caller's stream */
    assert_int_equal(agc_event_bus_remove_sink(f->bus, s), AGC_OK);
    agc_event_sink_free(s);
    assert_int_equal(fclose(tmp), 0);
}

static void to_jsonl_escapes_hand_made_strings(void **state)
{
    fixture *f = *state;
    agc_event ev = {.type = AGC_EVENT_CUSTOM,
                    .name = "x\"y",
                    .seq = 7,
                    .time_ms = 0,
                    .run_id = "a\\b\x01",
                    .agent = NULL,
                    .data = NULL};
    char *line = NULL;
    size_t len = 0;
    assert_int_equal(agc_event_to_jsonl(&line, &len, &ev, f->ctx), AGC_OK);
    assert_string_equal(line,
                        "{\"seq\":7,\"time\":\"1970-01-01T00:00:00.000Z\",\"type\":\"x\\\"y\","
                        "\"run_id\":\"a\\\\b\\u0001\",\"data\":{}}\n");
    assert_int_equal(len, strlen(line));
    agc_free(f->ctx, line);
}

static void jsonl_never_writes_registered_secret(void **state)
{
    fixture *f = *state;
    static const char secret[] = "hunter2-very-secret-value-42";
    assert_int_equal(agc_redact_add_secret(f->ctx, secret, strlen(secret)), AGC_OK);
    char *path = path_in(f, "secret.jsonl");
    agc_event_sink *s = NULL;
    assert_int_equal(agc_event_sink_jsonl_open(&s, path, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, s, AGC_EVENT_MASK_ALL), AGC_OK);
    json_t *p = json_pack("{s:s, s:{s:s}}", "output", "token is hunter2-very-secret-value-42!",
                          "arguments", "key", secret);
    assert_non_null(p);
    assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_TOOL_RESULT, "run_1", p), AGC_OK);
    json_decref(p);
    char *text = slurp(path);
    assert_null(strstr(text, secret));
    assert_non_null(strstr(text, AGC_REDACTED));
    /* still one valid JSON line */
    assert_int_equal(count_lines(text), 1);
    json_t *v = NULL;
    assert_int_equal(agc_json_parse(&v, text, strlen(text), "events", f->ctx), AGC_OK);
    json_decref(v);
    free(text);
    free(path);
}

/* ---- failing sinks -------------------------------------------------------- */

static void failing_sink_does_not_stop_the_others(void **state)
{
    fixture *f = *state;
    agc_event_sink *full = NULL, *fullstream = NULL;
    assert_int_equal(agc_event_sink_jsonl_open(&full, "/dev/full", NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, full, AGC_EVENT_MASK_ALL), AGC_OK);
    FILE *fp = fopen("/dev/full", "w");
    assert_non_null(fp);
    assert_int_equal(agc_event_sink_jsonl_stream(&fullstream, fp, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(f->bus, fullstream, AGC_EVENT_MASK_ALL), AGC_OK);
    agc_event_sink *mem = add_memory(f, AGC_EVENT_MASK_ALL);

    for (int i = 0; i < 3; i++) {
        assert_int_equal(agc_event_emit(f->bus, AGC_EVENT_MODEL_DELTA, "run_1", NULL), AGC_EIO);
        const agc_error *e = agc_ctx_last_error(f->ctx);
        assert_non_null(e);
        assert_int_equal(e->code, AGC_EIO);
        assert_non_null(strstr(e->message, "dropped model.delta"));
        assert_non_null(e->cause);
        assert_non_null(strstr(e->cause->message, "No space left on device"));
    }
    assert_int_equal(agc_event_memory_count(mem), 3);
    assert_int_equal(agc_event_sink_dropped(full), 3);
    assert_int_equal(agc_event_sink_dropped(fullstream), 3);
    assert_int_equal(agc_event_sink_dropped(mem), 0);
    assert_int_equal(agc_event_bus_dropped(f->bus), 6);
    assert_int_equal(agc_event_bus_last_seq(f->bus), 3);
    /* a sink whose mask skips the type is not asked, so nothing is dropped */
    assert_int_equal(agc_event_bus_remove_sink(f->bus, fullstream), AGC_OK);
    agc_event_sink_free(fullstream);
    fclose(fp);
}

/* ---- threads -------------------------------------------------------------- */

typedef struct thr_arg {
    agc_event_bus *bus;
    int n;
    int failures;
} thr_arg;

static void *emitter(void *p)
{
    thr_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        json_t *d = json_pack("{s:i}", "i", i);
        if (!d || agc_event_emit(a->bus, AGC_EVENT_MODEL_DELTA, "run_t", d) != AGC_OK)
            a->failures++;
        json_decref(d);
    }
    return NULL;
}

static void concurrent_emitters_get_unique_ordered_seqs(void **state)
{
    fixture *f = *state;
    agc_event_sink *mem = add_memory(f, AGC_EVENT_MASK_ALL);
    enum { THREADS = 4, PER = 250 };
    pthread_t th[THREADS];
    thr_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (thr_arg){f->bus, PER, 0};
        assert_int_equal(pthread_create(&th[i], NULL, emitter, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(agc_event_memory_count(mem), THREADS * PER);
    for (size_t i = 0; i < THREADS * PER; i++)
        assert_int_equal(agc_event_memory_get(mem, i)->seq, i + 1);
}

/* ---- OOM sweep ------------------------------------------------------------ */

static agc_status sweep_bus(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_manual_clock clk = {.now_ms = T0};
    agc_ctx_set_clock(ctx, &agc_manual_clock_ops, &clk);
    agc_event_bus *bus = NULL;
    agc_event_sink *mem = NULL, *file = NULL;
    json_t *p = NULL;
    agc_status st = agc_event_bus_new(&bus, ctx);
    if (st == AGC_OK)
        st = agc_event_sink_memory(&mem, ctx);
    if (st == AGC_OK) {
        st = agc_event_bus_add_sink(bus, mem, AGC_EVENT_MASK_ALL);
        if (st != AGC_OK)
            agc_event_sink_free(mem);
    }
    if (st == AGC_OK)
        st = agc_event_sink_jsonl_open(&file, "/dev/null", NULL, ctx);
    if (st == AGC_OK) {
        st = agc_event_bus_add_sink(bus, file, AGC_EVENT_MASK_ALL);
        if (st != AGC_OK)
            agc_event_sink_free(file);
    }
    if (st == AGC_OK) {
        agc_ctx *prev = agc_json_enter(ctx);
        p = json_pack("{s:s, s:{s:i, s:i}, s:n, s:[s,s]}", "finish_reason", "stop", "usage",
                      "input_tokens", 10, "output_tokens", 2, "cost_usd", "tags", "a", "b");
        bool oom = agc_json_oom(ctx);
        agc_json_leave(prev);
        if (!p || oom)
            st = agc_error_set(ctx, AGC_ENOMEM, "test", "out of memory building payload");
    }
    for (int i = 0; st == AGC_OK && i < 3; i++)
        st = agc_event_emit(bus, AGC_EVENT_MODEL_RESPONSE, "run_1", p);
    if (st == AGC_OK && agc_event_memory_count(mem) != 3)
        st = agc_error_set(ctx, AGC_ERROR, "test", "memory sink holds %zu events",
                           agc_event_memory_count(mem));
    json_decref(p);
    agc_event_bus_free(bus);
    return st;
}

static void bus_out_of_memory_fails_cleanly(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(sweep_bus, NULL, 0) > 4);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(emits_in_order_with_increasing_seq),
        cmocka_unit_test(type_names_round_trip),
        T(custom_events_carry_caller_name),
        T(rejects_bad_payload_and_ids),
        T(sink_mask_filters_types),
        T(callback_sink_sees_each_event),
        T(sink_calling_back_into_bus_gets_ebusy),
        T(add_and_remove_sinks),
        T(sink_new_rejects_bad_ops),
        T(jsonl_file_writes_envelope_per_line),
        T(jsonl_file_appends_to_existing_content),
        T(jsonl_open_reports_unopenable_path),
        T(jsonl_stream_writes_lines),
        T(to_jsonl_escapes_hand_made_strings),
        T(jsonl_never_writes_registered_secret),
        T(failing_sink_does_not_stop_the_others),
        T(concurrent_emitters_get_unique_ordered_seqs),
        cmocka_unit_test(bus_out_of_memory_fails_cleanly),
    };
#undef T
    return cmocka_run_group_tests_name("core_event", tests, NULL, NULL);
}
