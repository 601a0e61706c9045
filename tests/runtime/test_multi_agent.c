/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * runtime multi-agent patterns against the fakellm program over loopback:
 * handoff (the next request carries the other agent's system prompt),
 * agent-as-tool (a child run with parent_id whose usage and cost are charged
 * to the parent, and whose usage can exhaust the parent's budget), and the
 * sequential pipeline (each agent's answer is the next one's task), a
 * sub-agent file beside the agent file, and cancellation reaching a child.
 * Most sub-agents are inline definitions inheriting the parent's provider
 * and workspace.
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

#include "rt_fixture.h"

static size_t custom_count(rt *t, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < agc_event_memory_count(t->mem); i++) {
        const agc_event *e = agc_event_memory_get(t->mem, i);
        n += e->type == AGC_EVENT_CUSTOM && strcmp(e->name, name) == 0;
    }
    return n;
}

/* Content of message i of request k ("" when not a string). */
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

/* Whether request k offers a tool named name. */
static bool offers(rt *t, size_t k, const char *name)
{
    json_t *all = NULL;
    const json_t *body = rt_request(t, k, &all);
    const json_t *tools = json_object_get(body, "tools");
    bool found = false;
    for (size_t i = 0; i < json_array_size(tools); i++)
        found |=
            strcmp(agc_json_str(json_object_get(json_array_get(tools, i), "function"), "name", ""),
                   name) == 0;
    json_decref(all);
    return found;
}

/* The runs whose parent is parent_id (json_decref). */
static json_t *children(rt *t, const char *parent_id)
{
    json_t *filter = json_pack("{s:s}", "parent_id", parent_id);
    json_t *list = NULL;
    assert_int_equal(agc_store_run_list(t->store, filter, &list), AGC_OK);
    json_decref(filter);
    return list;
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

/* ---- handoff -------------------------------------------------------------------------- */

static void handoff_switches_to_the_other_agent(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"h1\",\"name\":\"handoff_to_expert\","
                   "\"arguments\":{\"note\":\"the user needs the expert\"}}]},"
                   "{\"text\":\"Expert answer.\"}]}");
    rt_agent(t, "tools: [list_dir]\n"
                "sub_agents:\n"
                "  - name: expert\n"
                "    mode: handoff\n"
                "    description: knows everything\n"
                "    agent:\n"
                "      instructions: You are the expert agent.\n"
                "      tools: [read_file]\n");
    rt_start(t, "a hard question", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "Expert answer.");
    assert_string_equal(agc_agent_def_name(agc_run_def(t->run)), "expert");

    /* before: the tester's prompt and tools plus the handoff tool */
    char *sys = message_text(t, 0, 0);
    assert_string_equal(sys, "You are a test agent.");
    free(sys);
    assert_true(offers(t, 0, "handoff_to_expert"));
    assert_true(offers(t, 0, "list_dir"));
    /* after: the expert's prompt and tools, the conversation and the note */
    sys = message_text(t, 1, 0);
    assert_string_equal(sys, "You are the expert agent.");
    free(sys);
    assert_true(offers(t, 1, "read_file"));
    assert_false(offers(t, 1, "list_dir"));
    assert_false(offers(t, 1, "handoff_to_expert"));
    char *task = message_text(t, 1, 1);
    assert_string_equal(task, "a hard question");
    free(task);
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "the user needs the expert"));
    free(m);

    const char *id = agc_run_id(t->run);
    assert_int_equal(rt_step_count(t, id, "agent.handoff"), 1);
    assert_int_equal(rt_step_count(t, id, "tool.result"), 1);
    assert_int_equal(custom_count(t, "agent.handoff"), 1);
    const agc_event *fin = rt_event(t, AGC_EVENT_RUN_FINISHED, 0);
    assert_string_equal(fin->agent, "expert");
    rt_free(t);
}

/* ---- agent as tool ------------------------------------------------------------------ */

/* The fixture's agent with prices in the provider section (1000 USD/Mtok). */
static void agent_with_prices(rt *t, const char *extra)
{
    char *y = rt_agent_yaml(t, extra);
    const char *p = strstr(y, "  retry:");
    assert_non_null(p);
    int off = (int)(p - y);
    char *full = NULL;
    assert_true(asprintf(&full, "%.*s  prices: {fake-model: {input: 1000, output: 1000}}\n%s", off,
                         y, y + off) > 0);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_config *cfg = NULL;
    if (agc_config_parse(&cfg, full, strlen(full), "agent.yaml", &co, t->ctx) != AGC_OK)
        fail_msg("agent: %s", agc_ctx_errmsg(t->ctx));
    agc_agent_def_unref(t->def);
    t->def = NULL;
    if (agc_agent_def_from_config(&t->def, cfg, t->ctx) != AGC_OK)
        fail_msg("agent: %s", agc_ctx_errmsg(t->ctx));
    agc_config_free(cfg);
    free(full);
    free(y);
}

static void agent_as_tool_runs_a_child_charged_to_the_parent(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"s1\",\"name\":\"agent_helper\","
                   "\"arguments\":{\"task\":\"read a.txt\"}}]},"
                   "{\"tool_calls\":[{\"id\":\"r1\",\"name\":\"read_file\","
                   "\"arguments\":{\"path\":\"a.txt\"}}]},"
                   "{\"text\":\"a.txt says hello child\"},"
                   "{\"text\":\"The helper says hello.\"}]}");
    write_ws_file(t, "a.txt", "hello child");
    agent_with_prices(t, "sub_agents:\n"
                         "  - name: helper\n"
                         "    budgets: {max_turns: 5}\n"
                         "    agent:\n"
                         "      instructions: You are the helper.\n"
                         "      tools: [read_file]\n");
    rt_start(t, "ask the helper", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "The helper says hello.");

    /* the child ran with its own prompt and tools; its answer came back as the result */
    assert_true(offers(t, 0, "agent_helper"));
    char *sys = message_text(t, 1, 0);
    assert_string_equal(sys, "You are the helper.");
    free(sys);
    char *task = message_text(t, 1, 1);
    assert_string_equal(task, "read a.txt");
    free(task);
    assert_false(offers(t, 1, "agent_helper"));
    char *m = rt_last_message(t, 3);
    assert_string_equal(m, "a.txt says hello child");
    free(m);

    /* the child's usage and cost are the parent's too */
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 2);
    assert_int_equal(s.input_tokens, 40);
    assert_int_equal(s.output_tokens, 20);
    assert_int_equal(s.tool_calls, 2);
    assert_true(s.cost_known);
    assert_true(s.cost_usd > 0.0599 && s.cost_usd < 0.0601); /* 4 x 0.015 */

    const char *id = agc_run_id(t->run);
    json_t *kids = children(t, id);
    assert_int_equal(json_array_size(kids), 1);
    const json_t *kid = json_array_get(kids, 0);
    assert_string_equal(agc_json_str(kid, "status", ""), "finished");
    assert_string_equal(agc_json_str(kid, "agent", ""), "helper");
    assert_string_equal(agc_json_str(kid, "parent_id", ""), id);
    const char *kid_id = agc_json_str(kid, "id", "");
    assert_int_equal(rt_step_count(t, kid_id, "model.response"), 2);
    assert_int_equal(rt_step_count(t, kid_id, "tool.result"), 1);
    /* the parent's tool.result names the child run */
    json_t *steps = rt_steps(t, id);
    bool named = false;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        const json_t *d = json_object_get(json_array_get(steps, i), "data");
        named |= strcmp(agc_json_str(d, "child_run_id", ""), kid_id) == 0;
    }
    assert_true(named);
    json_decref(steps);
    json_decref(kids);
    rt_free(t);
}

static void child_usage_exhausts_the_parent_budget(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"s1\",\"name\":\"agent_helper\","
                   "\"arguments\":{\"task\":\"loop\"}}]}],"
                   "\"default\":{\"tool_calls\":[{\"id\":\"l\",\"name\":\"list_dir\","
                   "\"arguments\":{}}]}}");
    rt_agent(t, "budgets: {max_output_tokens: 12}\n"
                "sub_agents:\n"
                "  - name: helper\n"
                "    agent:\n"
                "      tools: [list_dir]\n");
    rt_start(t, "delegate", NULL);
    assert_int_equal(rt_go(t), AGC_ELIMIT);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_BUDGET_EXCEEDED);
    assert_string_equal(agc_run_reason(t->run),
                        "budget exceeded: max_output_tokens 12 reached (15 used)");
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.turns, 1); /* the parent made one call; the child two */
    assert_int_equal(s.output_tokens, 15);

    json_t *kids = children(t, agc_run_id(t->run));
    assert_int_equal(json_array_size(kids), 1);
    const json_t *kid = json_array_get(kids, 0);
    assert_string_equal(agc_json_str(kid, "status", ""), "budget_exceeded");
    assert_non_null(
        strstr(agc_json_str(json_object_get(kid, "summary"), "reason", ""), "(parent run)"));
    json_decref(kids);
    /* the child's stop went back to the parent as an error result */
    const agc_event *r = NULL;
    for (size_t i = 0; (r = rt_event(t, AGC_EVENT_TOOL_RESULT, i)) != NULL; i++)
        if (strcmp(agc_json_str(r->data, "tool", ""), "agent_helper") == 0)
            break;
    assert_non_null(r);
    assert_false(agc_json_bool(r->data, "ok", true));
    assert_non_null(strstr(agc_json_str(r->data, "output", ""), "agent 'helper' stopped"));
    rt_free(t);
}

static void sub_agent_file_is_found_beside_the_agent_file(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"s1\",\"name\":\"agent_reviewer\","
                   "\"arguments\":{\"task\":\"review\"}}]},"
                   "{\"text\":\"looks good\"},"
                   "{\"text\":\"The reviewer is happy.\"}]}");
    /* reviewer.yaml: a full agent file (same provider); main.yaml names it relatively */
    char *helper = rt_agent_yaml(t, "");
    char *named = NULL;
    assert_true(asprintf(&named, "%s", helper) > 0);
    char *p = strstr(named, "name: tester");
    assert_non_null(p);
    memcpy(p, "name: review", 12); /* same length: "tester" -> "review" */
    char *instr = strstr(named, "You are a test agent.");
    assert_non_null(instr);
    memcpy(instr, "You are a reviewer...", 21);
    char path[1024];
    snprintf(path, sizeof path, "%s/reviewer.yaml", t->dir);
    agc_test_write_file(path, named);
    char *main_yaml =
        rt_agent_yaml(t, "sub_agents:\n  - name: reviewer\n    file: reviewer.yaml\n");
    snprintf(path, sizeof path, "%s/main.yaml", t->dir);
    agc_test_write_file(path, main_yaml);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    if (agc_agent_def_load(&t->def, path, &co, t->ctx) != AGC_OK)
        fail_msg("agent: %s", agc_ctx_errmsg(t->ctx));
    rt_start(t, "get a review", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "The reviewer is happy.");
    char *sys = message_text(t, 1, 0);
    assert_string_equal(sys, "You are a reviewer...");
    free(sys);
    json_t *kids = children(t, agc_run_id(t->run));
    assert_int_equal(json_array_size(kids), 1);
    assert_string_equal(agc_json_str(json_array_get(kids, 0), "agent", ""), "review");
    json_decref(kids);
    free(helper);
    free(named);
    free(main_yaml);
    rt_free(t);
}

static void *cancel_main(void *arg)
{
    usleep(300000);
    agc_run_cancel(arg);
    return NULL;
}

static void canceling_the_parent_cancels_the_child(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":[{\"id\":\"s1\",\"name\":\"agent_helper\","
                   "\"arguments\":{\"task\":\"slow\"}}]},"
                   "{\"text\":\"slow answer\",\"fault\":{\"delay_ms\":5000}}]}");
    rt_agent(t, "sub_agents:\n  - name: helper\n    agent: {instructions: You help.}\n");
    rt_start(t, "delegate", NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_main, t->run), 0);
    time_t t0 = time(NULL);
    assert_int_equal(rt_go(t), AGC_ECANCELED);
    assert_true(time(NULL) - t0 < 4);
    pthread_join(th, NULL);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_CANCELED);
    json_t *kids = children(t, agc_run_id(t->run));
    assert_int_equal(json_array_size(kids), 1);
    assert_string_equal(agc_json_str(json_array_get(kids, 0), "status", ""), "canceled");
    json_decref(kids);
    rt_free(t);
}

/* ---- pipeline ---------------------------------------------------------------------------- */

static void pipeline_chains_two_agents(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"draft: hello\"},{\"text\":\"final: Hello!\"}]}");
    rt_agent(t, "strategy: {name: pipeline, pipeline: [drafter, editor]}\n"
                "sub_agents:\n"
                "  - name: editor\n"
                "    agent: {instructions: You edit.}\n"
                "  - name: drafter\n"
                "    agent: {instructions: You draft.}\n");
    rt_start(t, "write a greeting", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "final: Hello!");

    json_t *all = agc_fakellm_requests(t->llm);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    char *s = message_text(t, 0, 0);
    assert_string_equal(s, "You draft.");
    free(s);
    s = message_text(t, 0, 1);
    assert_string_equal(s, "write a greeting");
    free(s);
    s = message_text(t, 1, 0);
    assert_string_equal(s, "You edit.");
    free(s);
    s = message_text(t, 1, 1);
    assert_string_equal(s, "draft: hello");
    free(s);

    agc_run_stats st;
    agc_run_get_stats(t->run, &st);
    assert_int_equal(st.turns, 0);
    assert_int_equal(st.input_tokens, 20);
    const char *id = agc_run_id(t->run);
    assert_int_equal(rt_step_count(t, id, "pipeline.stage"), 2);
    assert_int_equal(custom_count(t, "pipeline.stage"), 2);
    json_t *kids = children(t, id);
    assert_int_equal(json_array_size(kids), 2);
    json_decref(kids);
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, id, &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "finished");
    json_decref(row);
    rt_free(t);
}

static void pipeline_with_an_unknown_stage_fails(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[]}");
    rt_agent(t, "strategy: {name: pipeline, pipeline: [ghost]}\n"
                "sub_agents:\n"
                "  - name: editor\n"
                "    agent: {instructions: You edit.}\n");
    rt_start(t, "x", NULL);
    assert_int_equal(rt_go(t), AGC_EINVAL);
    assert_non_null(strstr(agc_run_reason(t->run), "'ghost'"));
    rt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handoff_switches_to_the_other_agent),
        cmocka_unit_test(agent_as_tool_runs_a_child_charged_to_the_parent),
        cmocka_unit_test(child_usage_exhausts_the_parent_budget),
        cmocka_unit_test(sub_agent_file_is_found_beside_the_agent_file),
        cmocka_unit_test(canceling_the_parent_cancels_the_child),
        cmocka_unit_test(pipeline_chains_two_agents),
        cmocka_unit_test(pipeline_with_an_unknown_stage_fails),
    };
    return cmocka_run_group_tests_name("runtime_multi_agent", tests, NULL, NULL);
}
