/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP servers used by an agent, end to end: the agent (driven by fakellm over
 * loopback) calls tools of real MCP server processes (mcp-echo, mcp-badpeer)
 * declared in mcp_servers; approvals apply to them; sampling is answered by
 * the agent's provider (fakellm) and elicitation by policy; bad peers
 * (crash, hang, garbage, huge message, slow start, crash mid-call) are
 * skipped with an mcp.server_failed event while the run goes on.
 */
#include "../runtime/rt_fixture.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_server.h"

static char *bin(const char *name)
{
    const char *dir = getenv("AGC_BINARY_DIR");
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir ? dir : ".", name) > 0);
    return p;
}

/* Number of custom events called name. */
static size_t count_custom(rt *t, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < agc_event_memory_count(t->mem); i++) {
        const agc_event *e = agc_event_memory_get(t->mem, i);
        n += e->type == AGC_EVENT_CUSTOM && strcmp(e->name, name) == 0;
    }
    return n;
}

/* The JSON text of fakellm's request i (the caller frees). */
static char *request_text(rt *t, size_t i)
{
    json_t *reqs = agc_fakellm_requests(t->llm);
    assert_true(json_array_size(reqs) > i);
    char *s = json_dumps(json_object_get(json_array_get(reqs, i), "body"), JSON_COMPACT);
    json_decref(reqs);
    assert_non_null(s);
    char *copy = strdup(s);
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    f(s); /* jansson's allocator (agentc installs its own) */
    return copy;
}

static size_t request_count(rt *t)
{
    json_t *reqs = agc_fakellm_requests(t->llm);
    size_t n = json_array_size(reqs);
    json_decref(reqs);
    return n;
}

/* Loads the agent with the extra YAML given printf-style. */
#define agent_with(t, ...)                                                                         \
    do {                                                                                           \
        char *x_ = NULL;                                                                           \
        assert_true(asprintf(&x_, __VA_ARGS__) > 0);                                               \
        rt_agent(t, x_);                                                                           \
        free(x_);                                                                                  \
    } while (0)

static void echo_tool_end_to_end(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"echo.echo\","
                   "\"arguments\":{\"text\":\"hello from the agent\"}}]},"
                   "{\"text\":\"all done\"}]}");
    char *echo = bin("mcp-echo");
    agent_with(t,
               "mcp_servers:\n"
               "  - name: echo\n"
               "    command: %s\n"
               "    approval: always\n"
               "    shutdown_grace: 0.5\n",
               echo);
    rt_start(t, "use the echo tool", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "all done");
    char *first = request_text(t, 0);
    assert_non_null(strstr(first, "\"echo_echo\"")); /* providers send [A-Za-z0-9_-] names */
    assert_non_null(strstr(first, "[MCP echo]"));
    free(first);
    char *second = request_text(t, 1);
    assert_non_null(strstr(second, "hello from the agent"));
    free(second);
    assert_int_equal(count_custom(t, "mcp.server_connected"), 1);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_RESULT), 1);
    free(echo);
    rt_free(t);
}

static void invalid_arguments_never_reach_the_server(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"echo.echo\","
                   "\"arguments\":{\"text\":42}}]},{\"text\":\"ok\"}]}");
    char *echo = bin("mcp-echo");
    agent_with(t, "mcp_servers:\n  - {name: echo, command: %s, approval: always}\n", echo);
    rt_start(t, "bad args", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    char *second = request_text(t, 1);
    assert_non_null(strstr(second, "must be string"));
    free(second);
    free(echo);
    rt_free(t);
}

static void approval_policies_apply(void **state)
{
    (void)state;
    /* per tool: approvals.tools[echo.echo] never; per server: ask + mode deny */
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"echo.echo\","
                   "\"arguments\":{\"text\":\"secret\"}},{\"id\":\"c2\",\"name\":\"peer.hello\","
                   "\"arguments\":{\"name\":\"x\"}}]},{\"text\":\"denied\"}]}");
    char *echo = bin("mcp-echo");
    char *peer = bin("mcp-badpeer");
    agent_with(t,
               "mcp_servers:\n"
               "  - {name: echo, command: %s, approval: always}\n"
               "  - {name: peer, command: %s, args: [good], approval: ask}\n"
               "approvals:\n"
               "  mode: deny\n"
               "  tools: {echo.echo: never}\n",
               echo, peer);
    rt_start(t, "try", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_DENIED), 2);
    assert_int_equal(rt_count(t, AGC_EVENT_TOOL_CALL), 0);
    free(echo);
    free(peer);
    rt_free(t);
}

static void sampling_answered_by_the_provider(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"peer.ask_model\","
                   "\"arguments\":{}}]},"
                   "{\"match\":{\"last_message_contains\":\"(sampling)\"},\"text\":\"four\"},"
                   "{\"text\":\"the server heard four\"}]}");
    char *peer = bin("mcp-badpeer");
    agent_with(t,
               "mcp_servers:\n"
               "  - {name: peer, command: %s, args: [good], approval: always, sampling: always}\n",
               peer);
    rt_start(t, "ask", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "the server heard four");
    assert_int_equal(request_count(t), 3);
    char *last = request_text(t, 2);
    assert_non_null(strstr(last, "four"));
    free(last);
    char *sampling = request_text(t, 1);
    assert_non_null(strstr(sampling, "Answer briefly."));
    free(sampling);
    assert_int_equal(count_custom(t, "mcp.sampling"), 1);
    free(peer);
    rt_free(t);
}

static void sampling_refused_without_approval(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"peer.ask_model\","
                   "\"arguments\":{}}]},{\"text\":\"no sampling\"}]}");
    char *peer = bin("mcp-badpeer");
    agent_with(t,
               "mcp_servers:\n"
               "  - {name: peer, command: %s, args: [good], approval: always}\n"
               "approvals: {mode: deny}\n",
               peer);
    rt_start(t, "ask", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(request_count(t), 2); /* no model call for the server */
    char *second = request_text(t, 1);
    assert_non_null(strstr(second, "refused"));
    free(second);
    free(peer);
    rt_free(t);
}

static void elicitation_by_policy(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"peer.ask_user\","
                   "\"arguments\":{}},{\"id\":\"c2\",\"name\":\"dec.ask_user\","
                   "\"arguments\":{}}]},{\"text\":\"ok\"}]}");
    char *peer = bin("mcp-badpeer");
    agent_with(t,
               "mcp_servers:\n"
               "  - {name: peer, command: %s, args: [good], approval: always,\n"
               "     elicitation: {action: accept, content: {extra: 1}}}\n"
               "  - {name: dec, command: %s, args: [good], approval: always}\n",
               peer, peer);
    rt_start(t, "elicit", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    char *second = request_text(t, 1);
    assert_non_null(strstr(second, "{\\\"action\\\":\\\"accept\\\",\\\"content\\\":{\\\"extra\\\":"
                                   "1,\\\"name\\\":\\\"Ada\\\"}}"));
    assert_non_null(strstr(second, "{\\\"action\\\":\\\"decline\\\"}"));
    free(second);
    free(peer);
    rt_free(t);
}

static void bad_peers_are_skipped(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"echo.echo\","
                   "\"arguments\":{\"text\":\"still works\"}},{\"id\":\"c2\",\"name\":"
                   "\"late.hello\",\"arguments\":{\"name\":\"a\"}}]},"
                   "{\"tool_calls\":[{\"id\":\"c3\",\"name\":\"late.hello\",\"arguments\":"
                   "{\"name\":\"b\"}}]},{\"text\":\"survived\"}]}");
    char *peer = bin("mcp-badpeer");
    char *echo = bin("mcp-echo");
    agent_with(t,
               "mcp_servers:\n"
               "  - {name: crash, command: %1$s, args: [crash], shutdown_grace: 0.2}\n"
               "  - {name: hang, command: %1$s, args: [hang], startup_timeout: 0.5,"
               " shutdown_grace: 0.2}\n"
               "  - {name: garbage, command: %1$s, args: [garbage], startup_timeout: 0.5,"
               " shutdown_grace: 0.2}\n"
               "  - {name: huge, command: %1$s, args: [huge, '300000'], startup_timeout: 5,"
               " max_message_bytes: 65536, shutdown_grace: 0.2}\n"
               "  - {name: slow, command: %1$s, args: [slow-start, '5000'], startup_timeout: 0.3,"
               " shutdown_grace: 0.2}\n"
               "  - {name: missing, command: /nonexistent/mcp-server}\n"
               "  - {name: late, command: %1$s, args: [crash-on-call], approval: always}\n"
               "  - {name: echo, command: %2$s, approval: always}\n",
               peer, echo);
    rt_start(t, "survive", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_int_equal(agc_run_status_get(t->run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(t->run), "survived");
    assert_int_equal(count_custom(t, "mcp.server_failed"), 6);
    assert_int_equal(count_custom(t, "mcp.server_connected"), 2);
    char *second = request_text(t, 1);
    assert_non_null(strstr(second, "still works"));
    assert_non_null(strstr(second, "MCP server 'late'"));
    free(second);
    char *third = request_text(t, 2);
    assert_non_null(strstr(third, "no longer available"));
    free(third);
    free(peer);
    free(echo);
    rt_free(t);
}

/* ---- over Streamable HTTP: an in-process server with an echo tool ---------------------- */

static agc_status h_echo(void *self, const json_t *args, agc_tool_result *out,
                         agc_tool_call_ctx *cctx)
{
    (void)self;
    const char *text = agc_json_str(args, "text", "");
    return agc_tool_result_set_output(out, text, strlen(text), 0, cctx->ctx);
}

static const agc_tool_ops h_echo_ops = {AGC_TOOL_OPS_VERSION, h_echo, NULL};

static void h_session(agc_mcp_transport *tr, agc_ctx *ctx, const char *sid, void *user)
{
    (void)sid;
    agc_mcp_server *srv = NULL;
    if (agc_mcp_server_new(&srv, tr, user, NULL, ctx) != AGC_OK)
        return;
    (void)agc_mcp_server_run(srv);
    agc_mcp_server_free(srv);
}

static void echo_tool_over_http(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"web.echo\","
                   "\"arguments\":{\"text\":\"over http\"}}]},{\"text\":\"done\"}]}");
    agc_tool_registry *reg = NULL;
    agc_tool *tool = NULL;
    json_t *schema = json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object", "properties", "text",
                               "type", "string", "required", "text");
    assert_int_equal(agc_tool_registry_new(&reg, t->ctx), AGC_OK);
    agc_tool_spec sp = AGC_TOOL_SPEC_INIT;
    sp.name = "echo";
    sp.input_schema = schema;
    assert_int_equal(agc_tool_new(&tool, &h_echo_ops, NULL, &sp, t->ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_add(reg, tool), AGC_OK);
    agc_mcp_http_server_opts ho = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    ho.bearer_token = "tok-http-test";
    agc_mcp_http_server *hs = NULL;
    agc_status st = agc_mcp_http_server_new(&hs, &ho, h_session, reg, t->ctx);
    if (st == AGC_ENOTFOUND) { /* no libmicrohttpd */
        agc_tool_registry_free(reg);
        json_decref(schema);
        rt_free(t);
        skip();
    }
    assert_int_equal(st, AGC_OK);
    setenv("MCPI_HTTP_TOKEN", "tok-http-test", 1);
    agent_with(t,
               "mcp_servers:\n"
               "  - {name: web, url: 'http://127.0.0.1:%u/mcp', bearer_token: env:MCPI_HTTP_TOKEN,"
               " approval: always}\n"
               "  - {name: nope, url: 'http://127.0.0.1:%u/mcp', startup_timeout: 2}\n",
               (unsigned)agc_mcp_http_server_port(hs), (unsigned)agc_mcp_http_server_port(hs));
    rt_start(t, "use it over http", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "done");
    char *second = request_text(t, 1);
    assert_non_null(strstr(second, "over http"));
    free(second);
    assert_int_equal(count_custom(t, "mcp.server_connected"), 1);
    assert_int_equal(count_custom(t, "mcp.server_failed"), 1); /* no token: refused */
    agc_run_free(t->run);
    t->run = NULL;
    agc_mcp_http_server_free(hs);
    agc_tool_registry_free(reg);
    json_decref(schema);
    rt_free(t);
}

/* ---- sampling through the run's approver ------------------------------------------------- */

static int approver_calls;

static agc_approval_decision allow_sampling(const agc_approval_request *req, char *reason,
                                            size_t size, void *user)
{
    (void)reason;
    (void)size;
    (void)user;
    approver_calls++;
    return strcmp(req->tool, "peer.sampling") == 0 ? AGC_APPROVAL_ALLOW_ONCE : AGC_APPROVAL_DENY;
}

static void sampling_asks_the_approver(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"tool_calls\":[{\"id\":\"c1\",\"name\":\"peer.ask_model\","
                   "\"arguments\":{}}]},{\"text\":\"four\"},{\"text\":\"heard four\"}]}");
    char *peer = bin("mcp-badpeer");
    agent_with(t, "mcp_servers:\n  - {name: peer, command: %s, args: [good], approval: always}\n",
               peer);
    agc_run_opts o = rt_opts(t);
    o.approver = allow_sampling;
    approver_calls = 0;
    rt_start(t, "ask", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    assert_string_equal(agc_run_output(t->run), "heard four");
    assert_int_equal(approver_calls, 1);
    free(peer);
    rt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_tool_end_to_end),
        cmocka_unit_test(invalid_arguments_never_reach_the_server),
        cmocka_unit_test(approval_policies_apply),
        cmocka_unit_test(sampling_answered_by_the_provider),
        cmocka_unit_test(sampling_refused_without_approval),
        cmocka_unit_test(elicitation_by_policy),
        cmocka_unit_test(bad_peers_are_skipped),
        cmocka_unit_test(echo_tool_over_http),
        cmocka_unit_test(sampling_asks_the_approver),
    };
    return cmocka_run_group_tests_name("mcp_agent", tests, NULL, NULL);
}
