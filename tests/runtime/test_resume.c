/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * runtime resume: what a run paused (or interrupted) in one process and
 * resumed from the SQLite store in another keeps. Covers usage, cost and
 * budgets across the resume, the resumed turn's turn.finished, decisions
 * stored with agc_run_approve applied like live ones (events, a denial's
 * tool.result), canceling a paused run, the per-run model override (options,
 * resume, agc_run_set_model), plan_execute / handoff / ReAct state restored,
 * and the workspace of a run resumed from another directory.
 */
/* gcc 12 at -O2 reports a false "dangling pointer" for strings returned by
 * rt_agent_yaml() through asprintf(); the pointer is heap memory. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_fixture.h"

#define WRITE_CALL(id, path)                                                                       \
    "{\"id\":\"" id "\",\"name\":\"write_file\",\"arguments\":{\"path\":\"" path                   \
    "\",\"content\":\"x\"}}"

/* Runs t->run until it pauses, keeps its id in id and frees it (the process is gone). */
static void pause_and_drop(rt *t, char *id, size_t size)
{
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    snprintf(id, size, "%s", agc_run_id(t->run));
    agc_run_free(t->run);
    t->run = NULL;
}

static void resume(rt *t, const char *id, const agc_run_opts *opts)
{
    agc_run_opts o = opts ? *opts : rt_opts(t);
    agc_status st = agc_run_resume(&t->run, t->store, id, &o);
    if (st != AGC_OK)
        fail_msg("resume: %s", agc_ctx_errmsg(t->ctx));
}

static bool exists(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

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

static char *request_model(rt *t, size_t k)
{
    json_t *all = NULL;
    char *s = strdup(agc_json_str(rt_request(t, k, &all), "model", ""));
    json_decref(all);
    return s;
}

static size_t request_count(rt *t)
{
    json_t *all = agc_fakellm_requests(t->llm);
    size_t n = json_array_size(all);
    json_decref(all);
    return n;
}

/* ---- accounting ------------------------------------------------------------------- */

static void resume_keeps_usage_cost_and_budgets(void **state)
{
    (void)state;
    /* fake-model: 1 USD/Mtok in, 2 out; each reply 10 in, 5 out: 0.00002 USD */
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1", "a.txt") "]},"
                       "{\"tool_calls\":[{\"id\":\"c2\",\"name\":\"list_dir\",\"arguments\":{}}]},"
                       "{\"text\":\"never asked\"}]}");
    rt_agent(t, "tools: [write_file, list_dir]\nbudgets: {max_cost_usd: 0.00003}\n");
    rt_start(t, "write", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_true(s.cost_known);
    assert_true(s.cost_usd > 0.0000199 && s.cost_usd < 0.0000201);
    assert_int_equal(s.turns, 1);
    assert_int_equal(s.input_tokens, 10);
    /* turn 2 reaches the cost budget: no third model call */
    assert_int_equal(rt_go(t), AGC_ELIMIT);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_BUDGET_EXCEEDED);
    assert_int_equal(request_count(t), 2);
    agc_run_get_stats(t->run, &s);
    assert_true(s.cost_known);
    assert_true(s.cost_usd > 0.0000399 && s.cost_usd < 0.0000401);
    assert_int_equal(s.turns, 2);
    assert_int_equal(s.tool_calls, 1); /* the budget stops turn 2 before its call */
    assert_int_equal(s.input_tokens, 20);
    assert_int_equal(s.output_tokens, 10);
    /* the row and the run.finished event have the whole run */
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, id, &row), AGC_OK);
    const json_t *sum = json_object_get(row, "summary");
    assert_true(agc_json_bool(sum, "cost_known", false));
    assert_true(agc_json_num(sum, "cost_usd", 0) > 0.0000399);
    assert_int_equal(agc_json_int(json_object_get(sum, "usage"), "input_tokens", 0), 20);
    json_decref(row);
    const agc_event *fin = rt_event(t, AGC_EVENT_RUN_FINISHED, 0);
    assert_true(json_is_number(json_object_get(fin->data, "cost_usd")));
    rt_free(t);
}

static void resumed_turn_finished_has_its_usage_and_a_sane_duration(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1",
        "a.txt") "],"
                 "\"usage\":{\"input_tokens\":31,\"output_tokens\":7}},{\"text\":\"done\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(rt_count(t, AGC_EVENT_TURN_FINISHED), 0);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    const agc_event *e = rt_event(t, AGC_EVENT_TURN_FINISHED, 0);
    assert_non_null(e);
    assert_int_equal(agc_json_int(e->data, "turn", 0), 1);
    assert_int_equal(agc_json_int(json_object_get(e->data, "usage"), "input_tokens", 0), 31);
    assert_true(json_is_number(json_object_get(e->data, "cost_usd")));
    long long ms = agc_json_int(e->data, "duration_ms", -1);
    assert_true(ms >= 0 && ms < 60000);
    rt_free(t);
}

/* ---- decisions stored while paused --------------------------------------------------- */

static void stored_denial_is_applied_like_a_live_one(void **state)
{
    (void)state;
    rt *t =
        rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]},"
                                                                           "{\"text\":\"ok\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(agc_run_approve(t->store, id, "c1", false, "not today"), AGC_OK);
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_false(exists(t->ws, "a.txt"));
    const agc_event *dec = rt_event(t, AGC_EVENT_APPROVAL_DECIDED, 0);
    assert_non_null(dec);
    assert_string_equal(agc_json_str(dec->data, "decision", ""), "denied");
    assert_string_equal(agc_json_str(dec->data, "reason", ""), "not today");
    assert_int_equal(rt_count(t, AGC_EVENT_APPROVAL_DECIDED), 1);
    const agc_event *den = rt_event(t, AGC_EVENT_TOOL_DENIED, 0);
    assert_non_null(den);
    assert_string_equal(agc_json_str(den->data, "by", ""), "user");
    /* the denial is stored as the call's result; the decision is not stored twice */
    json_t *steps = rt_steps(t, id);
    bool found = false;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        const json_t *s = json_array_get(steps, i);
        const json_t *d = json_object_get(s, "data");
        if (strcmp(agc_json_str(s, "kind", ""), "tool.result") == 0 &&
            strcmp(agc_json_str(d, "call_id", ""), "c1") == 0) {
            found = true;
            assert_string_equal(agc_json_str(d, "denied_by", ""), "user");
            assert_string_equal(agc_json_str(d, "output", ""),
                                "the user denied this call: not today");
        }
    }
    json_decref(steps);
    assert_true(found);
    assert_int_equal(rt_step_count(t, id, "approval.decided"), 1);
    char *m = rt_last_message(t, 1);
    assert_string_equal(m, "the user denied this call: not today");
    free(m);
    rt_free(t);
}

static void stored_approval_emits_its_decision_once(void **state)
{
    (void)state;
    rt *t =
        rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]},"
                                                                           "{\"text\":\"ok\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_true(exists(t->ws, "a.txt"));
    assert_int_equal(rt_count(t, AGC_EVENT_APPROVAL_DECIDED), 1);
    assert_string_equal(
        agc_json_str(rt_event(t, AGC_EVENT_APPROVAL_DECIDED, 0)->data, "decision", ""), "approved");
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_DENIED), 0);
    assert_int_equal(rt_step_count(t, id, "approval.decided"), 1);
    rt_free(t);
}

/* ---- cancel ---------------------------------------------------------------------------- */

static void canceling_a_paused_run_ends_it_canceled(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    char id[AGC_ID_TYPED_SIZE];
    snprintf(id, sizeof id, "%s", agc_run_id(t->run));
    agc_run_cancel(t->run);
    assert_int_equal(rt_go(t), AGC_ECANCELED);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_CANCELED);
    assert_string_equal(agc_run_phase(t->run), "done");
    assert_false(exists(t->ws, "a.txt"));
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, id, &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "canceled");
    json_decref(row);
    assert_int_equal(rt_step_count(t, id, "run.finished"), 1);
    const agc_event *fin = rt_event(t, AGC_EVENT_RUN_FINISHED, 0);
    assert_string_equal(agc_json_str(fin->data, "status", ""), "canceled");
    /* it is over: no resume, no approval */
    agc_run_free(t->run);
    t->run = NULL;
    agc_run_opts o = rt_opts(t);
    assert_int_equal(agc_run_resume(&t->run, t->store, id, &o), AGC_EINVAL);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_EINVAL);
    rt_free(t);
}

/* ---- model override -------------------------------------------------------------------- */

static void model_override_is_used_kept_on_resume_and_switchable(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1", "a.txt") "]},"
                       "{\"text\":\"first answer\"},{\"text\":\"second answer\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    agc_run_opts o = rt_opts(t);
    o.model = "other-model";
    rt_start(t, "write", &o);
    assert_string_equal(agc_run_model(t->run), "other-model");
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL); /* no model given: the stored override stays */
    assert_string_equal(agc_run_model(t->run), "other-model");
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "first answer");
    char *m0 = request_model(t, 0), *m1 = request_model(t, 1);
    assert_string_equal(m0, "other-model");
    assert_string_equal(m1, "other-model");
    free(m0);
    free(m1);
    /* chat's /model: the next message goes to the new model with the whole history */
    assert_int_equal(agc_run_set_model(t->run, ""), AGC_EINVAL);
    assert_int_equal(agc_run_set_model(t->run, "third-model"), AGC_OK);
    assert_int_equal(agc_run_continue(t->run, "and now?"), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "second answer");
    char *m2 = request_model(t, 2);
    assert_string_equal(m2, "third-model");
    free(m2);
    char *task = message_text(t, 2, 1);
    assert_string_equal(task, "write");
    free(task);
    assert_int_equal(rt_step_count(t, id, "model.changed"), 1);
    /* NULL goes back to the definition's model */
    assert_int_equal(agc_run_set_model(t->run, NULL), AGC_OK);
    assert_string_equal(agc_run_model(t->run), "fake-model");
    rt_free(t);
}

static void model_given_to_resume_is_stored_for_the_next_resume(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1", "a.txt") "]},"
                       "{\"tool_calls\":[" WRITE_CALL("c2", "b.txt") "]},{\"text\":\"done\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    agc_run_opts o = rt_opts(t);
    o.model = "resumed-model";
    resume(t, id, &o);
    pause_and_drop(t, id, sizeof id); /* c2 waits */
    assert_int_equal(rt_step_count(t, id, "model.changed"), 1);
    assert_int_equal(agc_run_approve(t->store, id, "c2", true, NULL), AGC_OK);
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "done");
    char *m0 = request_model(t, 0), *m1 = request_model(t, 1), *m2 = request_model(t, 2);
    assert_string_equal(m0, "fake-model");
    assert_string_equal(m1, "resumed-model");
    assert_string_equal(m2, "resumed-model");
    free(m0);
    free(m1);
    free(m2);
    rt_free(t);
}

static void run_opts_version_1_is_accepted_and_unknown_refused(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"hi\"}]}");
    rt_agent(t, NULL);
    agc_run_opts o = rt_opts(t);
    o.version = 1;
    o.model = "ignored: not in version 1";
    rt_start(t, "hello", &o);
    assert_string_equal(agc_run_model(t->run), "fake-model");
    assert_int_equal(rt_go(t), AGC_OK);
    agc_run *r = NULL;
    o.version = 3;
    assert_int_equal(agc_run_new(&r, t->def, "x", &o, t->ctx), AGC_EINVAL);
    assert_null(r);
    o.version = AGC_RUN_OPTS_VERSION;
    o.model = "";
    assert_int_equal(agc_run_new(&r, t->def, "x", &o, t->ctx), AGC_EINVAL);
    rt_free(t);
}

/* ---- strategies -------------------------------------------------------------------------- */

#define PLAN_TWO                                                                                   \
    "{\\\"steps\\\":[{\\\"id\\\":\\\"1\\\",\\\"goal\\\":\\\"write a.txt\\\"},"                     \
    "{\\\"id\\\":\\\"2\\\",\\\"goal\\\":\\\"report\\\"}]}"

static void resumed_plan_goes_on_with_the_remaining_steps(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"" PLAN_TWO "\"},"
                   "{\"tool_calls\":[" WRITE_CALL(
                       "c1", "a.txt") "]},"
                                      "{\"text\":\"wrote a.txt\"},{\"text\":\"reported\"},"
                                      "{\"text\":\"All done.\"}]}");
    rt_agent(t, "strategy: plan_execute\ntools: [write_file]\n");
    rt_start(t, "write and report", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "All done.");
    assert_true(exists(t->ws, "a.txt"));
    assert_int_equal(rt_step_count(t, id, "plan.created"), 1);
    assert_int_equal(rt_step_count(t, id, "plan.replan"), 0);
    assert_int_equal(rt_step_count(t, id, "plan.step.finished"), 2);
    assert_int_equal(request_count(t), 5);
    char *m = rt_last_message(t, 3);
    assert_non_null(strstr(m, "Step 2 of 2 (id 2): report"));
    free(m);
    m = rt_last_message(t, 4);
    assert_non_null(strstr(m, "All steps of the plan are done"));
    free(m);
    rt_free(t);
}

#define HANDOFF_AGENT                                                                              \
    "tools: [write_file]\n"                                                                        \
    "sub_agents:\n"                                                                                \
    "  - name: expert\n"                                                                           \
    "    mode: handoff\n"                                                                          \
    "    agent:\n"                                                                                 \
    "      instructions: You are the expert agent.\n"                                              \
    "      tools: [write_file]\n"

static void resumed_run_continues_as_the_agent_it_was_handed_to(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"h1\",\"name\":\"handoff_to_expert\","
                   "\"arguments\":{\"note\":\"over to you\"}}]},"
                   "{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]},"
                                                                 "{\"text\":\"expert done\"}]}");
    rt_agent(t, HANDOFF_AGENT);
    rt_start(t, "hard task", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id); /* the expert's write_file waits */
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    assert_string_equal(agc_agent_def_name(agc_run_def(t->run)), "expert");
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "expert done");
    assert_true(exists(t->ws, "a.txt"));
    char *sys = message_text(t, 2, 0);
    assert_string_equal(sys, "You are the expert agent.");
    free(sys);
    assert_int_equal(rt_step_count(t, id, "agent.handoff"), 1);
    rt_free(t);
}

static void handoff_made_before_a_pause_happens_after_the_resume(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1", "a.txt") ","
                       "{\"id\":\"h1\",\"name\":\"handoff_to_expert\",\"arguments\":{}}]},"
                       "{\"text\":\"expert here\"}]}");
    rt_agent(t, HANDOFF_AGENT);
    rt_start(t, "hard task", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(rt_step_count(t, id, "agent.handoff"), 0);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "expert here");
    assert_string_equal(agc_agent_def_name(agc_run_def(t->run)), "expert");
    char *sys = message_text(t, 1, 0);
    assert_string_equal(sys, "You are the expert agent.");
    free(sys);
    assert_int_equal(rt_step_count(t, id, "agent.handoff"), 1);
    rt_free(t);
}

static void interrupted_react_action_goes_to_a_human(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"Thought: write it.\\nAction: write_file\\n"
                   "Action Input: {\\\"path\\\": \\\"a.txt\\\", \\\"content\\\": \\\"x\\\"}\"},"
                   "{\"text\":\"Thought: ok.\\nFinal Answer: stopped\"}]}");
    rt_agent(t, "strategy: react\ntools:\n  - name: write_file\n    approval: always\n");
    rt_start(t, "write", NULL);
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* prepare */
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* model: the action */
    char id[AGC_ID_TYPED_SIZE];
    snprintf(id, sizeof id, "%s", agc_run_id(t->run));
    /* the process died after committing the start of the action */
    json_t *d = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:i}", "call_id", "rc1", "tool",
                          "write_file", "arguments", "{\"path\":\"a.txt\",\"content\":\"x\"}",
                          "args", "path", "a.txt", "content", "x", "effect", "write", "turn", 1);
    assert_int_equal(agc_store_step_append(t->store, id, "tool.call", d, NULL), AGC_OK);
    json_decref(d);
    agc_run_free(t->run);
    t->run = NULL;
    resume(t, id, NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    assert_int_equal(agc_run_pending_count(t->run), 1);
    const agc_approval_request *p = agc_run_pending_at(t->run, 0);
    assert_string_equal(p->call_id, "rc1");
    assert_non_null(strstr(p->reason, "interrupted"));
    assert_false(exists(t->ws, "a.txt"));
    assert_int_equal(request_count(t), 1);
    /* denied: the model sees it as the observation */
    assert_int_equal(agc_run_decide(t->run, "rc1", AGC_APPROVAL_DENY, "no"), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "stopped");
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "Observation: error: the user denied this call: no"));
    free(m);
    rt_free(t);
}

/* ---- the workspace of a stored run ------------------------------------------------------ */

static void resume_from_another_directory_uses_the_run_workspace(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"run_command\","
                   "\"arguments\":{\"argv\":[\"sh\",\"-c\",\"f=$(mktemp) && echo tmp-ok > "
                   "\\\"$f\\\" && cat \\\"$f\\\" > here.txt\"]}}]},"
                   "{\"text\":\"done\"}]}");
    /* workspace.root "." is relative to the directory the run started in */
    char *yaml = NULL;
    assert_true(asprintf(&yaml,
                         "version: 1\nname: tester\ninstructions: You are a test agent.\n"
                         "provider:\n  name: openai\n  base_url: %s/v1\n  model: fake-model\n"
                         "  api_key: env:RT_FAKE_KEY\n  retry: {max_attempts: 1}\n"
                         "workspace:\n  root: .\ntools: [run_command]\n",
                         agc_fakellm_url(t->llm)) > 0);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_config *cfg = NULL;
    assert_int_equal(agc_config_parse(&cfg, yaml, strlen(yaml), "agent.yaml", &co, t->ctx), AGC_OK);
    assert_int_equal(agc_agent_def_from_config(&t->def, cfg, t->ctx), AGC_OK);
    agc_config_free(cfg);
    free(yaml);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(t->ws), 0);
    rt_start(t, "run it", NULL);
    char id[AGC_ID_TYPED_SIZE];
    pause_and_drop(t, id, sizeof id);
    assert_int_equal(chdir(t->dir), 0); /* `agentc resume` from somewhere else */
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    resume(t, id, NULL);
    agc_status st = rt_go(t);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, AGC_OK);
    assert_true(exists(t->ws, "here.txt"));
    assert_false(exists(t->dir, "here.txt"));
    json_t *all = NULL;
    const json_t *msgs = json_object_get(rt_request(t, 1, &all), "messages");
    const char *out = agc_json_str(json_array_get(msgs, json_array_size(msgs) - 1), "content", "");
    assert_non_null(strstr(out, "[exit status 0]"));
    json_decref(all);
    char path[1024];
    snprintf(path, sizeof path, "%s/here.txt", t->ws);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[64] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "tmp-ok\n");
    rt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_keeps_usage_cost_and_budgets),
        cmocka_unit_test(resumed_turn_finished_has_its_usage_and_a_sane_duration),
        cmocka_unit_test(stored_denial_is_applied_like_a_live_one),
        cmocka_unit_test(stored_approval_emits_its_decision_once),
        cmocka_unit_test(canceling_a_paused_run_ends_it_canceled),
        cmocka_unit_test(model_override_is_used_kept_on_resume_and_switchable),
        cmocka_unit_test(model_given_to_resume_is_stored_for_the_next_resume),
        cmocka_unit_test(run_opts_version_1_is_accepted_and_unknown_refused),
        cmocka_unit_test(resumed_plan_goes_on_with_the_remaining_steps),
        cmocka_unit_test(resumed_run_continues_as_the_agent_it_was_handed_to),
        cmocka_unit_test(handoff_made_before_a_pause_happens_after_the_resume),
        cmocka_unit_test(interrupted_react_action_goes_to_a_human),
        cmocka_unit_test(resume_from_another_directory_uses_the_run_workspace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
