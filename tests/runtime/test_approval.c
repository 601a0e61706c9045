/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * runtime approval: approvals and durable sessions against fakellm and an
 * SQLite store. Covers an approver that denies (its reason reaches the
 * model) or allows always, the non-interactive modes, a run that pauses
 * without an approver and is approved and resumed from the store, resuming
 * without re-running a completed tool call, and a child process killed with
 * SIGKILL in the middle of a tool call whose run is resumed here: the
 * interrupted side-effecting call is presented for approval and the
 * completed steps are intact. The child is this executable run again with
 * RT_CHILD set.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt_fixture.h"

#define WRITE_CALL(id, path)                                                                       \
    "{\"id\":\"" id "\",\"name\":\"write_file\",\"arguments\":{\"path\":\"" path                   \
    "\",\"content\":\"x\"}}"

static bool exists(rt *t, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", t->ws, name);
    return access(path, F_OK) == 0;
}

typedef struct approver_state {
    int calls;
    agc_approval_decision answer;
    const char *reason;
    char last_tool[64];
} approver_state;

static agc_approval_decision approver(const agc_approval_request *req, char *reason, size_t size,
                                      void *user)
{
    approver_state *s = user;
    s->calls++;
    snprintf(s->last_tool, sizeof s->last_tool, "%s", req->tool);
    assert_non_null(req->args);
    assert_non_null(strstr(req->reason, "needs approval"));
    if (s->reason)
        snprintf(reason, size, "%s", s->reason);
    return s->answer;
}

static void denial_reason_reaches_the_model(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1", "a.txt") "]},"
                       "{\"text\":\"ok, I will not\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    approver_state s = {0, AGC_APPROVAL_DENY, "not in this repo", ""};
    agc_run_opts o = rt_opts(t);
    o.approver = approver;
    o.approver_user = &s;
    rt_start(t, "write", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.last_tool, "write_file");
    assert_false(exists(t, "a.txt"));
    char *m = rt_last_message(t, 1);
    assert_string_equal(m, "the user denied this call: not in this repo");
    free(m);
    const agc_event *d = rt_event(t, AGC_EVENT_TOOL_DENIED, 0);
    assert_string_equal(agc_json_str(d->data, "by", ""), "user");
    assert_int_equal(rt_count(t, AGC_EVENT_APPROVAL_REQUESTED), 1);
    const agc_event *dec = rt_event(t, AGC_EVENT_APPROVAL_DECIDED, 0);
    assert_string_equal(agc_json_str(dec->data, "decision", ""), "denied");
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL), 0);
    rt_free(t);
}

static void allow_always_asks_once_per_run(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
        "c1", "a.txt") "]},"
                       "{\"tool_calls\":[" WRITE_CALL("c2", "b.txt") "]},{\"text\":\"done\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    approver_state s = {0, AGC_APPROVAL_ALLOW_ALWAYS, NULL, ""};
    agc_run_opts o = rt_opts(t);
    o.approver = approver;
    o.approver_user = &s;
    rt_start(t, "write", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(s.calls, 1);
    assert_true(exists(t, "a.txt"));
    assert_true(exists(t, "b.txt"));
    rt_free(t);
}

static void modes_decide_without_a_human(void **state)
{
    (void)state;
    static const struct {
        agc_approve_mode mode;
        bool wrote;
    } cases[] = {{AGC_APPROVE_MODE_DENY, false},
                 {AGC_APPROVE_MODE_READS, false},
                 {AGC_APPROVE_MODE_ALL, true}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rt *t = rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL(
            "c1", "a.txt") ","
                           "{\"id\":\"c2\",\"name\":\"list_dir\",\"arguments\":{}}]},"
                           "{\"text\":\"done\"}]}");
        /* list_dir is made "ask" too, so that reads mode has something to allow */
        rt_agent(t, "tools: [write_file, list_dir]\napprovals: {default: ask}\n");
        agc_run_opts o = rt_opts(t);
        o.approve = cases[i].mode;
        rt_start(t, "write", &o);
        assert_int_equal(rt_go(t), AGC_OK);
        assert_int_equal(exists(t, "a.txt"), cases[i].wrote);
        /* list_dir ran except in deny mode */
        assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL),
                         (size_t)(cases[i].mode == AGC_APPROVE_MODE_DENY ? 0
                                  : cases[i].wrote                       ? 2
                                                                         : 1));
        rt_free(t);
    }
}

static void never_policy_refuses_in_every_mode(void **state)
{
    (void)state;
    rt *t =
        rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]},"
                                                                           "{\"text\":\"done\"}]}");
    rt_agent(t, "tools: [write_file]\napprovals: {tools: {write_file: never}}\n");
    agc_run_opts o = rt_opts(t);
    o.approve = AGC_APPROVE_MODE_ALL;
    rt_start(t, "write", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_false(exists(t, "a.txt"));
    assert_string_equal(agc_json_str(rt_event(t, AGC_EVENT_TOOL_DENIED, 0)->data, "by", ""),
                        "policy");
    rt_free(t);
}

static void pause_then_approve_and_resume(void **state)
{
    (void)state;
    rt *t = rt_new(
        "{\"replies\":[{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]},"
                                                                    "{\"text\":\"written\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    assert_string_equal(agc_run_phase(t->run), "paused");
    assert_int_equal(agc_run_pending_count(t->run), 1);
    assert_string_equal(agc_run_pending_at(t->run, 0)->call_id, "c1");
    assert_int_equal(rt_count(t, AGC_EVENT_RUN_PAUSED), 1);
    char id[AGC_ID_TYPED_SIZE];
    snprintf(id, sizeof id, "%s", agc_run_id(t->run));
    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, id, &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "awaiting_approval");
    json_decref(row);
    agc_run_free(t->run); /* the process that paused is gone */
    t->run = NULL;

    assert_int_equal(agc_run_approve(t->store, id, "nope", true, NULL), AGC_ENOTFOUND);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_OK);
    assert_int_equal(agc_run_approve(t->store, id, "c1", true, NULL), AGC_ENOTFOUND);
    agc_run_opts o = rt_opts(t);
    agc_status st = agc_run_resume(&t->run, t->store, id, &o);
    if (st != AGC_OK)
        fail_msg("resume: %s", agc_ctx_errmsg(t->ctx));
    assert_string_equal(agc_run_id(t->run), id);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "written");
    assert_true(exists(t, "a.txt"));
    assert_int_equal(rt_count(t, AGC_EVENT_RUN_RESUMED), 1);
    /* the model saw the write's result, and was asked only twice */
    json_t *all = agc_fakellm_requests(t->llm);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    rt_free(t);
}

static void decide_on_a_live_paused_run(void **state)
{
    (void)state;
    rt *t =
        rt_new("{\"replies\":[{\"tool_calls\":[" WRITE_CALL("c1", "a.txt") "]},"
                                                                           "{\"text\":\"fine\"}]}");
    rt_agent(t, "tools: [write_file]\n");
    rt_start(t, "write", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    assert_int_equal(agc_run_decide(t->run, "c1", AGC_APPROVAL_DEFER, NULL), AGC_EINVAL);
    assert_int_equal(agc_run_decide(t->run, "c1", AGC_APPROVAL_DENY, "no"), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_RUNNING);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_false(exists(t, "a.txt"));
    char *m = rt_last_message(t, 1);
    assert_string_equal(m, "the user denied this call: no");
    free(m);
    rt_free(t);
}

static int count_lines(rt *t, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", t->ws, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void resume_does_not_rerun_a_completed_call(void **state)
{
    (void)state;
    rt *t = rt_new(
        "{\"replies\":[{\"tool_calls\":["
        "{\"id\":\"c1\",\"name\":\"run_command\",\"arguments\":{\"argv\":[\"sh\","
        "\"-c\",\"echo x >> count.txt\"]}}," WRITE_CALL("c2", "a.txt") "]},"
                                                                       "{\"text\":\"done\"}]}");
    rt_agent(t, "tools:\n  - name: run_command\n    approval: always\n  - write_file\n");
    rt_start(t, "count", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    assert_int_equal(count_lines(t, "count.txt"), 1);
    char id[AGC_ID_TYPED_SIZE];
    snprintf(id, sizeof id, "%s", agc_run_id(t->run));
    agc_run_free(t->run);
    t->run = NULL;
    assert_int_equal(agc_run_approve(t->store, id, "c2", true, NULL), AGC_OK);
    agc_run_opts o = rt_opts(t);
    assert_int_equal(agc_run_resume(&t->run, t->store, id, &o), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_int_equal(count_lines(t, "count.txt"), 1);
    assert_true(exists(t, "a.txt"));
    assert_int_equal(rt_step_count(t, id, "tool.call"), 2);
    /* both results went to the model in call order */
    json_t *all = NULL;
    const json_t *msgs = json_object_get(rt_request(t, 1, &all), "messages");
    size_t n = json_array_size(msgs);
    assert_string_equal(agc_json_str(json_array_get(msgs, n - 2), "tool_call_id", ""), "c1");
    assert_string_equal(agc_json_str(json_array_get(msgs, n - 1), "tool_call_id", ""), "c2");
    json_decref(all);
    rt_free(t);
}

/* ---- a process killed in the middle of a tool call ----------------------------------- */

#define KILL_RUN_ID "run_01JKILLTEST0000000000000000"

static int child_main(void)
{
    const char *dir = getenv("RT_CHILD");
    char path[1024];
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 2;
    snprintf(path, sizeof path, "%s/agent.yaml", dir);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_agent_def *def = NULL;
    agc_store *store = NULL;
    agc_run *run = NULL;
    if (agc_agent_def_load(&def, path, &co, ctx) != AGC_OK)
        return 3;
    snprintf(path, sizeof path, "%s/s.db", dir);
    if (agc_store_open_sqlite(&store, path, NULL, ctx) != AGC_OK)
        return 4;
    agc_run_opts o = AGC_RUN_OPTS_INIT;
    o.store = store;
    o.run_id = KILL_RUN_ID;
    o.no_agents_md = true;
    if (agc_run_new(&run, def, "sleep a while", &o, ctx) != AGC_OK)
        return 5;
    agc_status st = agc_run_until_done(run); /* killed during the tool call */
    (void)st;
    return 6;
}

static void killed_process_resumes_with_the_call_pending(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"run_command\","
                   "\"arguments\":{\"argv\":[\"sleep\",\"3\"]}}]},{\"text\":\"after\"}]}");
    char *yaml = rt_agent_yaml(t, "tools:\n  - name: run_command\n    approval: always\n");
    char path[1024];
    snprintf(path, sizeof path, "%s/agent.yaml", t->dir);
    agc_test_write_file(path, yaml);
    free(yaml);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("RT_CHILD", t->dir, 1);
        execl("/proc/self/exe", "runtime_test_approval", (char *)NULL);
        _exit(127);
    }
    /* wait until the child committed the start of the tool call */
    bool started = false;
    for (int i = 0; i < 200 && !started; i++) {
        json_t *steps = NULL;
        if (agc_store_steps_load(t->store, KILL_RUN_ID, 0, &steps) == AGC_OK) {
            for (size_t k = 0; k < json_array_size(steps); k++)
                started |=
                    strcmp(agc_json_str(json_array_get(steps, k), "kind", ""), "tool.call") == 0;
            json_decref(steps);
        }
        if (!started)
            usleep(50000);
    }
    assert_true(started);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    json_t *row = NULL;
    assert_int_equal(agc_store_run_get(t->store, KILL_RUN_ID, &row), AGC_OK);
    assert_string_equal(agc_json_str(row, "status", ""), "running");
    json_decref(row);
    assert_int_equal(rt_step_count(t, KILL_RUN_ID, "model.response"), 1);
    assert_int_equal(rt_step_count(t, KILL_RUN_ID, "tool.result"), 0);

    agc_run_opts o = rt_opts(t);
    assert_int_equal(agc_run_resume(&t->run, t->store, KILL_RUN_ID, &o), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_AWAITING_APPROVAL);
    assert_int_equal(agc_run_pending_count(t->run), 1);
    const agc_approval_request *p = agc_run_pending_at(t->run, 0);
    assert_string_equal(p->call_id, "c1");
    assert_string_equal(p->tool, "run_command");
    assert_non_null(strstr(p->reason, "interrupted"));
    /* the completed model response was not asked again */
    json_t *all = agc_fakellm_requests(t->llm);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);

    assert_int_equal(agc_run_decide(t->run, "c1", AGC_APPROVAL_DENY, "do not retry"), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "after");
    char *m = rt_last_message(t, 1);
    assert_string_equal(m, "the user denied this call: do not retry");
    free(m);
    assert_int_equal(rt_step_count(t, KILL_RUN_ID, "model.response"), 2);
    assert_int_equal(rt_step_count(t, KILL_RUN_ID, "tool.call"), 1);
    rt_free(t);
}

static void interrupted_read_call_runs_again(void **state)
{
    (void)state;
    /* a stored run whose read_file call started and never finished */
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"r1\",\"name\":\"read_file\","
                   "\"arguments\":{\"path\":\"f.txt\"}}]},{\"text\":\"read it\"}]}");
    rt_agent(t, "tools: [read_file]\n");
    char path[1024];
    snprintf(path, sizeof path, "%s/f.txt", t->ws);
    agc_test_write_file(path, "content of f");
    rt_start(t, "read", NULL);
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* prepare */
    assert_int_equal(agc_run_step(t->run), AGC_OK); /* model: one call */
    char id[AGC_ID_TYPED_SIZE];
    snprintf(id, sizeof id, "%s", agc_run_id(t->run));
    json_t *d = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:i}", "call_id", "r1", "tool",
                          "read_file", "arguments", "{\"path\":\"f.txt\"}", "args", "path", "f.txt",
                          "effect", "read", "turn", 1);
    assert_int_equal(agc_store_step_append(t->store, id, "tool.call", d, NULL), AGC_OK);
    json_decref(d);
    agc_run_free(t->run);
    t->run = NULL;
    agc_run_opts o = rt_opts(t);
    assert_int_equal(agc_run_resume(&t->run, t->store, id, &o), AGC_OK);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    char *m = rt_last_message(t, 1);
    assert_non_null(strstr(m, "content of f"));
    free(m);
    rt_free(t);
}

int main(void)
{
    if (getenv("RT_CHILD"))
        return child_main();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(denial_reason_reaches_the_model),
        cmocka_unit_test(allow_always_asks_once_per_run),
        cmocka_unit_test(modes_decide_without_a_human),
        cmocka_unit_test(never_policy_refuses_in_every_mode),
        cmocka_unit_test(pause_then_approve_and_resume),
        cmocka_unit_test(decide_on_a_live_paused_run),
        cmocka_unit_test(resume_does_not_rerun_a_completed_call),
        cmocka_unit_test(killed_process_resumes_with_the_call_pending),
        cmocka_unit_test(interrupted_read_call_runs_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
