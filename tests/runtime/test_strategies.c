/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * runtime strategies: plan_execute and react against the fakellm program
 * over loopback, with the real workspace tools in a temporary directory and
 * an SQLite session store. Covers a plan executed step by step, a failing
 * step that triggers a re-plan, an invalid plan sent back, and the ReAct
 * text protocol (tools in the system prompt, none in the request, actions
 * run as tool calls, observations, one malformed answer recovered).
 */
/* gcc 12 at -O2 reports a false "dangling pointer" for strings returned by
 * rt_agent_yaml() through asprintf(); the pointer is heap memory. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_fixture.h"

/* Number of custom events named name. */
static size_t custom_count(rt *t, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < agc_event_memory_count(t->mem); i++) {
        const agc_event *e = agc_event_memory_get(t->mem, i);
        n += e->type == AGC_EVENT_CUSTOM && strcmp(e->name, name) == 0;
    }
    return n;
}

static void write_ws_file(rt *t, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", t->ws, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The content of message i of request k ("" when not a string). */
static char *message_text(rt *t, size_t k, size_t i)
{
    json_t *all = NULL;
    const json_t *body = rt_request(t, k, &all);
    const json_t *m = json_array_get(json_object_get(body, "messages"), i);
    const json_t *c = json_object_get(m, "content");
    char *s = strdup(json_is_string(c) ? json_string_value(c) : "");
    json_decref(all);
    return s;
}

static bool request_has(rt *t, size_t k, const char *member)
{
    json_t *all = NULL;
    const json_t *body = rt_request(t, k, &all);
    bool has = json_object_get(body, member) != NULL;
    json_decref(all);
    return has;
}

/* ---- plan_execute ------------------------------------------------------------------ */

#define PLAN_TWO                                                                                   \
    "{\\\"steps\\\":[{\\\"id\\\":\\\"1\\\",\\\"goal\\\":\\\"write hello.txt\\\",\\\"tool\\\":"     \
    "\\\"write_file\\\"},{\\\"id\\\":\\\"2\\\",\\\"goal\\\":\\\"read hello.txt back\\\"}]}"

static void plan_executes_two_steps_and_answers(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"text\":\"" PLAN_TWO "\"},"
                   "{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"write_file\","
                   "\"arguments\":{\"path\":\"hello.txt\",\"content\":\"hi plan\"}}]},"
                   "{\"text\":\"wrote hello.txt\"},"
                   "{\"tool_calls\":[{\"id\":\"c2\",\"name\":\"read_file\","
                   "\"arguments\":{\"path\":\"hello.txt\"}}]},"
                   "{\"text\":\"it says hi plan\"},"
                   "{\"text\":\"Done: hello.txt says hi plan.\"}]}");
    rt_agent(t, "strategy: plan_execute\n"
                "tools:\n  - read_file\n  - name: write_file\n    approval: always\n");
    rt_start(t, "write a file and read it", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "Done: hello.txt says hi plan.");

    /* the plan request: JSON schema format, no tools; steps: tools offered */
    json_t *all = NULL;
    const json_t *body = rt_request(t, 0, &all);
    const json_t *rf = json_object_get(body, "response_format");
    assert_string_equal(agc_json_str(rf, "type", ""), "json_schema");
    assert_string_equal(agc_json_str(json_object_get(rf, "json_schema"), "name", ""), "plan");
    assert_null(json_object_get(body, "tools"));
    json_decref(all);
    assert_true(request_has(t, 1, "tools"));
    assert_false(request_has(t, 1, "response_format"));
    assert_false(request_has(t, 5, "tools"));
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "Step 1 of 2 (id 1): write hello.txt"));
    free(m);
    m = rt_last_message(t, 3);
    assert_non_null(strstr(m, "Step 2 of 2 (id 2): read hello.txt back"));
    free(m);
    m = rt_last_message(t, 5);
    assert_non_null(strstr(m, "All steps of the plan are done"));
    free(m);

    const char *id = agc_run_id(t->run);
    assert_int_equal(rt_step_count(t, id, "plan.created"), 1);
    assert_int_equal(rt_step_count(t, id, "plan.step.started"), 2);
    assert_int_equal(rt_step_count(t, id, "plan.step.finished"), 2);
    assert_int_equal(rt_step_count(t, id, "plan.replan"), 0);
    assert_int_equal(rt_step_count(t, id, "tool.result"), 2);
    assert_int_equal(custom_count(t, "plan.created"), 1);
    assert_int_equal(custom_count(t, "plan.step.finished"), 2);
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 6);
    assert_int_equal(s.tool_calls, 2);
    rt_free(t);
}

#define PLAN_READ   "{\\\"steps\\\":[{\\\"id\\\":\\\"1\\\",\\\"goal\\\":\\\"read missing.txt\\\"}]}"
#define PLAN_CREATE "{\\\"steps\\\":[{\\\"id\\\":\\\"2\\\",\\\"goal\\\":\\\"create it\\\"}]}"

static void failing_step_triggers_one_replan(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"text\":\"" PLAN_READ "\"},"
                   "{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"read_file\","
                   "\"arguments\":{\"path\":\"missing.txt\"}}]},"
                   "{\"text\":\"STEP FAILED: missing.txt does not exist\"},"
                   "{\"text\":\"" PLAN_CREATE "\"},"
                   "{\"text\":\"created it\"},"
                   "{\"text\":\"All good.\"}]}");
    rt_agent(t, "strategy: {name: plan_execute, max_replans: 1}\ntools: [read_file]\n");
    rt_start(t, "read missing.txt", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "All good.");
    /* the re-plan request names the failure and the schema format again */
    char *m = rt_last_message(t, 3);
    assert_non_null(strstr(m, "step 1 failed: STEP FAILED: missing.txt does not exist"));
    free(m);
    json_t *all = NULL;
    const json_t *body = rt_request(t, 3, &all);
    assert_string_equal(agc_json_str(json_object_get(body, "response_format"), "type", ""),
                        "json_schema");
    json_decref(all);
    const char *id = agc_run_id(t->run);
    assert_int_equal(rt_step_count(t, id, "plan.created"), 2);
    assert_int_equal(rt_step_count(t, id, "plan.replan"), 1);
    assert_int_equal(rt_step_count(t, id, "plan.step.finished"), 2);
    assert_int_equal(custom_count(t, "plan.replan"), 1);
    rt_free(t);
}

static void second_failure_without_replans_left_fails_the_run(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"text\":\"" PLAN_READ "\"},"
                   "{\"text\":\"STEP FAILED: no\"}]}");
    rt_agent(t, "strategy: {name: plan_execute, max_replans: 0}\ntools: [read_file]\n");
    rt_start(t, "read missing.txt", NULL);
    assert_int_equal(rt_go(t), AGC_ERROR);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FAILED);
    assert_non_null(strstr(agc_run_reason(t->run), "plan step 1 failed after 0 re-plan(s)"));
    rt_free(t);
}

static void invalid_plan_goes_back_to_the_model(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"text\":\"{\\\"steps\\\":[]}\"},"
                   "{\"text\":\"" PLAN_CREATE "\"},"
                   "{\"text\":\"made\"},"
                   "{\"text\":\"fine\"}]}");
    rt_agent(t, "strategy: plan_execute\n");
    rt_start(t, "do it", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "fine");
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "Your plan is not valid"));
    assert_non_null(strstr(m, "/steps"));
    free(m);
    rt_free(t);
}

/* ---- react ---------------------------------------------------------------------------- */

static void react_parses_actions_and_recovers_from_a_malformed_answer(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"text\":\"Thought: I should read it.\\nAction: read_file\\n"
                   "Action Input: {\\\"path\\\": \\\"a.txt\\\"}\"},"
                   "{\"text\":\"I think the answer is in the file.\"},"
                   "{\"text\":\"Thought: I know.\\nAction: `read_file`\\nAction Input: "
                   "```json\\n{\\\"path\\\": \\\"b.txt\\\"}\\n```\\nObservation: made up\"},"
                   "{\"text\":\"Thought: done.\\nFinal Answer: a.txt says hello react\"}]}");
    write_ws_file(t, "a.txt", "hello react");
    write_ws_file(t, "b.txt", "second file");
    rt_agent(t, "strategy: react\ntools: [read_file]\n");
    rt_start(t, "what does a.txt say?", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "a.txt says hello react");

    /* no tools in the request; the protocol and the tool schema in the system prompt */
    assert_false(request_has(t, 0, "tools"));
    char *sys = message_text(t, 0, 0);
    assert_non_null(strstr(sys, "You are a test agent."));
    assert_non_null(strstr(sys, "Action Input:"));
    assert_non_null(strstr(sys, "- read_file:"));
    assert_non_null(strstr(sys, "\"path\""));
    free(sys);
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "Observation: "));
    assert_non_null(strstr(m, "hello react"));
    free(m);
    m = rt_last_message(t, 2);
    assert_non_null(strstr(m, "does not follow the required format"));
    assert_non_null(strstr(m, "Final Answer:"));
    free(m);
    m = rt_last_message(t, 3);
    assert_non_null(strstr(m, "second file"));
    assert_null(strstr(m, "made up"));
    free(m);

    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL), 2);
    const char *id = agc_run_id(t->run);
    assert_int_equal(rt_step_count(t, id, "tool.call"), 2);
    assert_int_equal(rt_step_count(t, id, "tool.result"), 2);
    assert_int_equal(rt_step_count(t, id, "user.message"), 3); /* 2 observations, 1 format */
    rt_free(t);
}

static void react_gives_up_after_repeated_malformed_answers(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[],\"default\":{\"text\":\"no format at all\"}}");
    rt_agent(t, "strategy: {name: react, max_format_retries: 1}\n");
    rt_start(t, "hi", NULL);
    assert_int_equal(rt_go(t), AGC_EPARSE);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FAILED);
    assert_non_null(strstr(agc_run_reason(t->run), "did not follow the ReAct format after 2"));
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 2);
    rt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_executes_two_steps_and_answers),
        cmocka_unit_test(failing_step_triggers_one_replan),
        cmocka_unit_test(second_failure_without_replans_left_fails_the_run),
        cmocka_unit_test(invalid_plan_goes_back_to_the_model),
        cmocka_unit_test(react_parses_actions_and_recovers_from_a_malformed_answer),
        cmocka_unit_test(react_gives_up_after_repeated_malformed_answers),
    };
    return cmocka_run_group_tests_name("runtime_strategies", tests, NULL, NULL);
}
