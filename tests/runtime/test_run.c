/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * runtime run: the agent loop against the fakellm program over loopback,
 * with the real workspace tools in a temporary directory and an SQLite
 * session store. Covers a multi-step run, every budget, invalid arguments
 * and unknown tools going back to the model, tool timeouts, parallel tool
 * calls (both started before either finished; results in call order),
 * structured output retries and exhaustion, provider errors, streaming
 * deltas, chat continuation, and cancellation from another thread.
 */
/* gcc 12 at -O2 reports a false "dangling pointer" for strings returned by
 * rt_agent_yaml() through asprintf(); the pointer is heap memory. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentc/clock.h"
#include "rt_fixture.h"

static char *slurp(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void multi_step_run_uses_tools_and_finishes(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"write_file\","
                   "\"arguments\":{\"path\":\"hello.txt\",\"content\":\"hi there\"}}]},"
                   "{\"tool_calls\":[{\"id\":\"c2\",\"name\":\"read_file\","
                   "\"arguments\":{\"path\":\"hello.txt\"}}]},"
                   "{\"text\":\"The file says hi there.\"}]}");
    rt_agent(t, "tools:\n  - read_file\n  - name: write_file\n    approval: always\n");
    rt_start(t, "write and read a file", NULL);
    assert_string_equal(agc_run_phase(t->run), "prepare");
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_CREATED);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "The file says hi there.");
    char *content = slurp(t->ws, "hello.txt");
    assert_non_null(content);
    assert_string_equal(content, "hi there");
    free(content);
    /* the read result went back to the model */
    char *last = rt_last_message(t, 2);
    assert_non_null(strstr(last, "hi there"));
    free(last);

    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 3);
    assert_int_equal(s.tool_calls, 2);
    assert_int_equal(s.input_tokens, 30);
    assert_int_equal(s.output_tokens, 15);

    assert_int_equal(rt_count(t, AGC_EVENT_RUN_STARTED), 1);
    assert_int_equal(rt_count(t, AGC_EVENT_TURN_STARTED), 3);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL), 2);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_RESULT), 2);
    assert_true(rt_count(t, AGC_EVENT_MODEL_DELTA) > 0);
    const agc_event *last_ev = agc_event_memory_get(t->mem, agc_event_memory_count(t->mem) - 1);
    assert_int_equal(last_ev->type, AGC_EVENT_RUN_FINISHED);
    assert_string_equal(agc_json_str(last_ev->data, "status", ""), "completed");
    assert_string_equal(last_ev->agent, "tester");
    const agc_event *call = rt_event(t, AGC_EVENT_TOOL_CALL, 0);
    assert_string_equal(agc_json_str(call->data, "tool", ""), "write_file");
    assert_string_equal(agc_json_str(json_object_get(call->data, "arguments"), "path", ""),
                        "hello.txt");

    const char *id = agc_run_id(t->run);
    assert_int_equal(rt_step_count(t, id, "model.response"), 3);
    assert_int_equal(rt_step_count(t, id, "tool.call"), 2);
    assert_int_equal(rt_step_count(t, id, "tool.result"), 2);
    assert_int_equal(rt_step_count(t, id, "run.finished"), 1);
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, id, &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "finished");
    assert_string_equal(agc_json_str(row, "agent", ""), "tester");
    json_decref(row);
    /* a finished run cannot be resumed */
    agc_run *again = NULL;
    assert_int_equal(agc_run_resume(&again, t->store, id, NULL), AGC_EINVAL);
    assert_null(again);
    rt_free(t);
}

/* Every reply asks for list_dir (twice when two is true). */
#define LOOP_SCRIPT                                                                                \
    "{\"replies\":[],\"default\":{\"tool_calls\":[{\"id\":\"a\",\"name\":\"list_dir\","            \
    "\"arguments\":{}},{\"id\":\"b\",\"name\":\"list_dir\",\"arguments\":{}}]}}"

static void expect_budget(rt *t, const char *budget_event, const char *reason_part)
{
    assert_int_equal(rt_go(t), AGC_ELIMIT);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_BUDGET_EXCEEDED);
    const char *reason = agc_run_reason(t->run);
    assert_non_null(reason);
    if (!strstr(reason, reason_part))
        fail_msg("reason '%s' lacks '%s'", reason, reason_part);
    const agc_event *e = rt_event(t, AGC_EVENT_BUDGET_EXCEEDED, 0);
    assert_non_null(e);
    assert_string_equal(agc_json_str(e->data, "budget", ""), budget_event);
    const agc_event *fin = rt_event(t, AGC_EVENT_RUN_FINISHED, 0);
    assert_string_equal(agc_json_str(fin->data, "status", ""), "budget_exceeded");
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, agc_run_id(t->run), &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "budget_exceeded");
    json_decref(row);
}

static void max_turns_stops_the_loop(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    rt_agent(t, "tools: [list_dir]\nbudgets: {max_turns: 2}\n");
    rt_start(t, "loop", NULL);
    expect_budget(t, "turns", "budget exceeded: max_turns 2 reached");
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 2);
    rt_free(t);
}

static void max_tool_calls_stops_the_loop(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    rt_agent(t, "tools: [list_dir]\nbudgets: {max_tool_calls: 3}\n");
    rt_start(t, "loop", NULL);
    expect_budget(t, "tool_calls", "budget exceeded: max_tool_calls 3 reached");
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.tool_calls, 3);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL), 3);
    rt_free(t);
}

static void max_input_tokens_stops_the_loop(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    rt_agent(t, "tools: [list_dir]\nbudgets: {max_input_tokens: 25}\n");
    rt_start(t, "loop", NULL);
    expect_budget(t, "input_tokens", "budget exceeded: max_input_tokens 25 reached (30 used)");
    rt_free(t);
}

static void max_output_tokens_stops_the_loop(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    rt_agent(t, "tools: [list_dir]\nbudgets: {max_output_tokens: 10}\n");
    rt_start(t, "loop", NULL);
    expect_budget(t, "output_tokens", "budget exceeded: max_output_tokens 10 reached");
    rt_free(t);
}

static void max_cost_stops_the_loop(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    /* 10 in + 5 out at 1000 USD/Mtok = 0.015 per response */
    /* prices come through the provider section */
    const char *extra = "tools: [list_dir]\nbudgets: {max_cost_usd: 0.04}\n";
    char *y = rt_agent_yaml(t, extra);
    const char *p = strstr(y, "  retry:");
    assert_non_null(p);
    int off = (int)(p - y); /* an offset: gcc 12 -O2 misreads the pointer as dangling */
    char *full = NULL;
    assert_true(asprintf(&full, "%.*s  prices: {fake-model: {input: 1000, output: 1000}}\n%s", off,
                         y, y + off) > 0);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_config *cfg = NULL;
    assert_int_equal(agc_config_parse(&cfg, full, strlen(full), "agent.yaml", &co, t->ctx), AGC_OK);
    agc_agent_def_unref(t->def);
    assert_int_equal(agc_agent_def_from_config(&t->def, cfg, t->ctx), AGC_OK);
    agc_config_free(cfg);
    free(full);
    free(y);
    rt_start(t, "loop", NULL);
    expect_budget(t, "cost_usd", "budget exceeded: max_cost_usd 0.04 reached (0.045 used)");
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_true(s.cost_known);
    rt_free(t);
}

static void wall_time_budget_uses_the_ctx_clock(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    agc_manual_clock mc = {1700000000000LL, 1000000000LL, 0};
    agc_ctx_set_clock(t->ctx, &agc_manual_clock_ops, &mc);
    rt_agent(t, "tools: [list_dir]\nbudgets: {max_wall_seconds: 5}\n");
    rt_start(t, "loop", NULL);
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* prepare */
    assert_string_equal(agc_run_phase(t->run), "model");
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* model call: two tool calls */
    assert_string_equal(agc_run_phase(t->run), "tools");
    agc_manual_clock_advance(&mc, 6000);
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* tools: the budget stops it first */
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_BUDGET_EXCEEDED);
    assert_string_equal(agc_run_reason(t->run),
                        "budget exceeded: max_wall_seconds 5 reached (6.0 s used)");
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL), 0);
    assert_string_equal(agc_run_phase(t->run), "done");
    /* stepping a finished run does nothing */
    assert_int_equal(agc_run_step(t->run), AGC_OK);
    rt_free(t);
}

static void invalid_arguments_go_back_to_the_model(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"read_file\","
                   "\"arguments\":{\"path\":5}}]},"
                   "{\"tool_calls\":[{\"id\":\"c2\",\"name\":\"read_file\","
                   "\"arguments\":\"{not json\"}]},"
                   "{\"text\":\"sorry\"}]}");
    rt_agent(t, "tools: [read_file]\n");
    rt_start(t, "read", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "invalid arguments"));
    assert_non_null(strstr(m, "/path"));
    free(m);
    m = rt_last_message(t, 2);
    assert_non_null(strstr(m, "invalid arguments: not valid JSON"));
    free(m);
    const agc_event *d = rt_event(t, AGC_EVENT_TOOL_DENIED, 0);
    assert_non_null(d);
    assert_string_equal(agc_json_str(d->data, "by", ""), "schema");
    rt_free(t);
}

static void unknown_tool_goes_back_to_the_model(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"launch_rockets\"}]},"
                   "{\"tool_calls\":[{\"id\":\"c2\",\"name\":\"write_file\","
                   "\"arguments\":{\"path\":\"x\",\"content\":\"y\"}}]},"
                   "{\"text\":\"ok\"}]}");
    rt_agent(t, "tools: [read_file, list_dir]\n");
    rt_start(t, "go", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    char *m = rt_last_message(t, 1);
    assert_string_equal(m, "unknown tool 'launch_rockets'; available tools: read_file, list_dir");
    free(m);
    /* a built-in the agent does not list is unknown too */
    m = rt_last_message(t, 2);
    assert_non_null(strstr(m, "unknown tool 'write_file'"));
    free(m);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_DENIED), 2);
    assert_string_equal(agc_json_str(rt_event(t, AGC_EVENT_TOOL_DENIED, 0)->data, "by", ""),
                        "unknown_tool");
    rt_free(t);
}

static void tool_timeout_from_the_definition(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"run_command\","
                   "\"arguments\":{\"argv\":[\"sleep\",\"5\"]}}]},"
                   "{\"text\":\"it timed out\"}]}");
    rt_agent(t, "tools:\n  - name: run_command\n    approval: always\n    timeout_seconds: 0.3\n");
    rt_start(t, "sleep", NULL);
    time_t t0 = time(NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_true(time(NULL) - t0 < 4);
    const agc_event *r = rt_event(t, AGC_EVENT_TOOL_RESULT, 0);
    assert_false(agc_json_bool(r->data, "ok", true));
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "timed out"));
    free(m);
    rt_free(t);
}

#define STAMP_CALL(id)                                                                             \
    "{\"id\":\"" id "\",\"name\":\"run_command\",\"arguments\":{\"argv\":[\"sh\",\"-c\","          \
    "\"date +%s%N; sleep 0.3; date +%s%N\"]}}"

static void stamps(const char *out, long long *start, long long *end)
{
    assert_int_equal(sscanf(out, "%lld %lld", start, end), 2);
}

static void parallel_calls_overlap_and_keep_call_order(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" STAMP_CALL("call_a") "," STAMP_CALL(
        "call_b") "]},{\"text\":\"done\"}]}");
    rt_agent(t, "tools:\n  - name: run_command\n    approval: always\n");
    rt_start(t, "stamp", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    json_t *all = NULL;
    const json_t *body = rt_request(t, 1, &all);
    const json_t *msgs = json_object_get(body, "messages");
    size_t n = json_array_size(msgs);
    const json_t *ma = json_array_get(msgs, n - 2), *mb = json_array_get(msgs, n - 1);
    assert_string_equal(agc_json_str(ma, "tool_call_id", ""), "call_a");
    assert_string_equal(agc_json_str(mb, "tool_call_id", ""), "call_b");
    long long sa, ea, sb, eb;
    stamps(agc_json_str(ma, "content", ""), &sa, &ea);
    stamps(agc_json_str(mb, "content", ""), &sb, &eb);
    /* both started before either finished */
    assert_true(sa < eb);
    assert_true(sb < ea);
    json_decref(all);
    rt_free(t);
}

static void one_by_one_when_max_parallel_is_one(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" STAMP_CALL("call_a") "," STAMP_CALL(
        "call_b") "]},{\"text\":\"done\"}]}");
    rt_agent(t, "tools:\n  - name: run_command\n    approval: always\n");
    agc_run_opts o = rt_opts(t);
    o.max_parallel = 1;
    rt_start(t, "stamp", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    json_t *all = NULL;
    const json_t *msgs = json_object_get(rt_request(t, 1, &all), "messages");
    size_t n = json_array_size(msgs);
    long long sa, ea, sb, eb;
    stamps(agc_json_str(json_array_get(msgs, n - 2), "content", ""), &sa, &ea);
    stamps(agc_json_str(json_array_get(msgs, n - 1), "content", ""), &sb, &eb);
    assert_true(ea <= sb);
    json_decref(all);
    rt_free(t);
}

#define SCHEMA_AGENT                                                                               \
    "output_schema:\n  type: object\n  required: [answer]\n  properties:\n"                        \
    "    answer: {type: integer}\n"

static void structured_output_retries_then_succeeds(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"{\\\"answer\\\": \\\"forty-two\\\"}\"},"
                   "{\"text\":\"{\\\"answer\\\": 42}\"}]}");
    rt_agent(t, SCHEMA_AGENT);
    rt_start(t, "answer", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    const json_t *out = agc_run_output_json(t->run);
    assert_non_null(out);
    assert_int_equal(agc_json_int(out, "answer", 0), 42);
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "/answer: must be integer"));
    free(m);
    json_t *all = NULL;
    const json_t *body = rt_request(t, 0, &all);
    assert_string_equal(agc_json_str(json_object_get(body, "response_format"), "type", ""),
                        "json_schema");
    json_decref(all);
    assert_int_equal(rt_step_count(t, agc_run_id(t->run), "user.message"), 1);
    rt_free(t);
}

static void structured_output_gives_up_after_the_retries(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[],\"default\":{\"text\":\"not json at all\"}}");
    rt_agent(t, SCHEMA_AGENT "output_retries: 1\n");
    rt_start(t, "answer", NULL);
    assert_int_equal(rt_go(t), AGC_ESCHEMA);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FAILED);
    assert_non_null(strstr(agc_run_reason(t->run),
                           "the final answer does not match output_schema after 2 attempt(s)"));
    assert_non_null(strstr(agc_run_reason(t->run), "not valid JSON"));
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 2);
    rt_free(t);
}

static void provider_error_fails_the_run_with_its_chain(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"fault\":{\"status\":401,\"error\":\"bad key given\"}}]}");
    rt_agent(t, NULL);
    rt_start(t, "hello", NULL);
    assert_int_equal(rt_go(t), AGC_EAUTH);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FAILED);
    assert_non_null(strstr(agc_run_reason(t->run), "bad key given"));
    const agc_event *e = rt_event(t, AGC_EVENT_ERROR, 0);
    assert_non_null(e);
    assert_true(agc_json_bool(e->data, "fatal", false));
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, agc_run_id(t->run), &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "failed");
    json_decref(row);
    rt_free(t);
}

static void chat_continues_a_finished_run(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"first\"},{\"text\":\"second\"}]}");
    rt_agent(t, NULL);
    agc_run_opts o = rt_opts(t);
    o.no_stream = true;
    rt_start(t, "hello", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "first");
    assert_int_equal(rt_count(t, AGC_EVENT_MODEL_DELTA), 0);
    assert_int_equal(agc_run_continue(t->run, "and again"), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "second");
    json_t *all = NULL;
    const json_t *msgs = json_object_get(rt_request(t, 1, &all), "messages");
    assert_int_equal(json_array_size(msgs), 4); /* system, user, assistant, user */
    json_decref(all);
    rt_free(t);
}

typedef struct canceler {
    agc_run *run;
    useconds_t delay_us;
} canceler;

static void *cancel_main(void *arg)
{
    canceler *c = arg;
    usleep(c->delay_us);
    agc_run_cancel(c->run);
    return NULL;
}

static void cancel_from_another_thread(rt *t)
{
    canceler c = {t->run, 300000};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_main, &c), 0);
    time_t t0 = time(NULL);
    assert_int_equal(rt_go(t), AGC_ECANCELED);
    assert_true(time(NULL) - t0 < 4);
    pthread_join(th, NULL);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_CANCELED);
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, agc_run_id(t->run), &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "canceled");
    json_decref(row);
    assert_string_equal(agc_json_str(rt_event(t, AGC_EVENT_RUN_FINISHED, 0)->data, "status", ""),
                        "canceled");
}

static void cancel_during_the_model_call(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"slow answer\",\"fault\":{\"delay_ms\":5000}}]}");
    rt_agent(t, NULL);
    rt_start(t, "hello", NULL);
    cancel_from_another_thread(t);
    rt_free(t);
}

static void cancel_during_a_tool_call(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"run_command\","
                   "\"arguments\":{\"argv\":[\"sleep\",\"5\"]}}]},{\"text\":\"never\"}]}");
    rt_agent(t, "tools:\n  - name: run_command\n    approval: always\n");
    rt_start(t, "sleep", NULL);
    cancel_from_another_thread(t);
    /* the interrupted call's result is committed */
    assert_int_equal(rt_step_count(t, agc_run_id(t->run), "tool.result"), 1);
    rt_free(t);
}

static void many_idle_runs_share_one_definition(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[]}");
    rt_agent(t, "tools: [read_file]\n");
    enum { N = 10000 };
    agc_run **runs = calloc(N, sizeof *runs);
    for (int i = 0; i < N; i++)
        assert_int_equal(agc_run_new(&runs[i], t->def, "task", NULL, t->ctx), AGC_OK);
    for (int i = 0; i < N; i++)
        agc_run_free(runs[i]);
    free(runs);
    rt_free(t);
}

static void sub_runs_are_charged_to_their_parent(void **state)
{
    (void)state;
    rt *t = rt_new(LOOP_SCRIPT);
    rt_agent(t, "tools: [list_dir]\nbudgets: {max_input_tokens: 15}\n");
    rt_start(t, "parent", NULL);
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* prepare: the parent has an id */
    agc_agent_def *child_def = NULL;
    json_t *doc = json_deep_copy(agc_agent_def_json(t->def));
    json_object_del(doc, "budgets");
    assert_int_equal(agc_agent_def_from_json(&child_def, doc, "child", t->ctx), AGC_OK);
    json_decref(doc);
    agc_run_opts o = rt_opts(t);
    o.parent = t->run;
    agc_run *child = NULL;
    assert_int_equal(agc_run_new(&child, child_def, "child task", &o, t->ctx), AGC_OK);
    agc_agent_def_unref(child_def);
    assert_int_equal(agc_run_until_done(child), AGC_ELIMIT);
    assert_non_null(
        strstr(agc_run_reason(child), "max_input_tokens 15 reached (20 used) (parent run)"));
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.input_tokens, 20);
    assert_int_equal(s.tool_calls, 2);
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, agc_run_id(child), &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "parent_id", ""), agc_run_id(t->run));
    json_decref(row);
    agc_run_free(child);
    rt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multi_step_run_uses_tools_and_finishes),
        cmocka_unit_test(max_turns_stops_the_loop),
        cmocka_unit_test(max_tool_calls_stops_the_loop),
        cmocka_unit_test(max_input_tokens_stops_the_loop),
        cmocka_unit_test(max_output_tokens_stops_the_loop),
        cmocka_unit_test(max_cost_stops_the_loop),
        cmocka_unit_test(wall_time_budget_uses_the_ctx_clock),
        cmocka_unit_test(invalid_arguments_go_back_to_the_model),
        cmocka_unit_test(unknown_tool_goes_back_to_the_model),
        cmocka_unit_test(tool_timeout_from_the_definition),
        cmocka_unit_test(parallel_calls_overlap_and_keep_call_order),
        cmocka_unit_test(one_by_one_when_max_parallel_is_one),
        cmocka_unit_test(structured_output_retries_then_succeeds),
        cmocka_unit_test(structured_output_gives_up_after_the_retries),
        cmocka_unit_test(provider_error_fails_the_run_with_its_chain),
        cmocka_unit_test(chat_continues_a_finished_run),
        cmocka_unit_test(cancel_during_the_model_call),
        cmocka_unit_test(cancel_during_a_tool_call),
        cmocka_unit_test(many_idle_runs_share_one_definition),
        cmocka_unit_test(sub_runs_are_charged_to_their_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
