/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp stdio: our client against our server (programs/mcp-echo) in real child
 * processes: handshake and version negotiation, tools/list pages, tools/call,
 * crashes, garbage on stdout, the message cap, timeouts, cancellation,
 * progress, logging and the shutdown sequence (stdin close, SIGTERM, SIGKILL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"

typedef struct logcap {
    char lines[64][256];
    int n;
} logcap;

static void on_log_line(agc_log_level level, const char *line, size_t len, void *user)
{
    (void)level;
    (void)len;
    logcap *c = user;
    if (c->n < 64)
        snprintf(c->lines[c->n++], sizeof c->lines[0], "%s", line);
}

static bool logged(const logcap *c, const char *needle)
{
    for (int i = 0; i < c->n; i++)
        if (strstr(c->lines[i], needle))
            return true;
    return false;
}

static char *echo_path(void)
{
    const char *dir = getenv("AGC_BINARY_DIR");
    assert_non_null(dir);
    size_t n = strlen(dir) + sizeof "/mcp-echo";
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/mcp-echo", dir);
    if (access(p, X_OK) != 0)
        fail_msg("mcp-echo not built at %s", p);
    return p;
}

typedef struct env {
    agc_ctx *ctx;
    logcap log;
    char *bin;
} env;

static env *env_new(void)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(agc_ctx_new(&e->ctx, NULL), AGC_OK);
    assert_int_equal(agc_log_set_callback(e->ctx, on_log_line, &e->log), AGC_OK);
    assert_int_equal(agc_log_set_level(e->ctx, AGC_LOG_INFO), AGC_OK);
    e->bin = echo_path();
    return e;
}

static void env_free(env *e)
{
    agc_ctx_free(e->ctx);
    free(e->bin);
    free(e);
}

/* Spawns mcp-echo with extra arguments (NULL-terminated) and a client over it. */
static agc_status start(agc_mcp_client **out, env *e, const agc_mcp_client_opts *copts,
                        size_t in_cap, const char *a1, const char *a2, const char *a3)
{
    const char *argv[] = {e->bin, a1, a2, a3, NULL};
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.argv = argv;
    so.max_message_bytes = in_cap;
    so.shutdown_grace_ms = 300;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_spawn(&t, &so, e->ctx), AGC_OK);
    assert_true(agc_mcp_stdio_pid(t) > 0);
    assert_int_equal(agc_mcp_client_new(out, t, copts, e->ctx), AGC_OK);
    return agc_mcp_client_initialize(*out);
}

static json_t *obj(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    assert_non_null(v);
    return v;
}

static void client_initializes_with_the_latest_version(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    assert_int_equal(start(&c, e, NULL, 0, "--stderr-hello", NULL, NULL), AGC_OK);
    assert_string_equal(agc_mcp_client_protocol_version(c), AGC_MCP_PROTOCOL_LATEST);
    assert_string_equal(agc_mcp_client_server_name(c), "mcp-echo");
    assert_string_equal(agc_mcp_client_server_version(c), "1.0");
    assert_string_equal(agc_mcp_client_instructions(c), "A test server.");
    const agc_mcp_caps *caps = agc_mcp_client_server_caps(c);
    assert_true(caps->tools);
    assert_true(caps->logging);
    assert_false(caps->resources);
    assert_false(caps->prompts);
    assert_int_equal(agc_mcp_client_ping(c), AGC_OK);
    assert_int_equal(agc_mcp_client_initialize(c), AGC_EINVAL); /* only once */
    agc_mcp_client_free(c);
    assert_true(logged(&e->log, "mcp-echo: started")); /* its stderr reached agc_log */
    env_free(e);
}

static void older_versions_are_negotiated_or_refused(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    /* an older client: the server speaks its version */
    static const char *const old[] = {"2024-11-05", NULL};
    agc_mcp_client_opts o = AGC_MCP_CLIENT_OPTS_INIT;
    o.protocol_versions = old;
    assert_int_equal(start(&c, e, &o, 0, NULL, NULL, NULL), AGC_OK);
    assert_string_equal(agc_mcp_client_protocol_version(c), "2024-11-05");
    agc_mcp_client_free(c);
    /* an unknown version offered: the server answers with its latest, which we accept */
    static const char *const future[] = {"2099-01-01", "2025-06-18", "2025-11-25", NULL};
    o.protocol_versions = future;
    assert_int_equal(start(&c, e, &o, 0, NULL, NULL, NULL), AGC_OK);
    assert_string_equal(agc_mcp_client_protocol_version(c), "2025-11-25");
    agc_mcp_client_free(c);
    /* a server that only speaks 2025-11-25 and a client that only speaks 2024-11-05 */
    o.protocol_versions = old;
    assert_int_equal(start(&c, e, &o, 0, "--versions", "2025-11-25", NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "chose protocol version 2025-11-25"));
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "speaks 2024-11-05"));
    json_t *tools = NULL;
    char *cursor = NULL;
    assert_int_equal(agc_mcp_client_list_tools(&tools, &cursor, c, NULL), AGC_EINVAL);
    agc_mcp_client_free(c);
    env_free(e);
}

static void tools_list_follows_cursors(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    assert_int_equal(start(&c, e, NULL, 0, "--page-size", "2", NULL), AGC_OK);
    json_t *tools = NULL;
    char *cursor = NULL;
    assert_int_equal(agc_mcp_client_list_tools(&tools, &cursor, c, NULL), AGC_OK);
    assert_int_equal(json_array_size(tools), 2);
    assert_non_null(cursor);
    const json_t *first = json_array_get(tools, 0);
    assert_string_equal(agc_json_str(first, "name", ""), "echo");
    assert_string_equal(agc_json_str(first, "description", ""), "Returns its text.");
    assert_string_equal(agc_json_str(json_object_get(first, "inputSchema"), "type", ""), "object");
    json_decref(tools);
    agc_free(e->ctx, cursor);
    assert_int_equal(agc_mcp_client_list_all_tools(&tools, c), AGC_OK);
    assert_int_equal(json_array_size(tools), 7);
    assert_string_equal(agc_json_str(json_array_get(tools, 6), "name", ""), "log");
    json_decref(tools);
    assert_int_equal(agc_mcp_client_list_tools(&tools, &cursor, c, "bogus"), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "invalid cursor"));
    agc_mcp_client_free(c);
    env_free(e);
}

static void tools_call_gives_results_errors_and_schema_messages(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    assert_int_equal(start(&c, e, NULL, 0, NULL, NULL, NULL), AGC_OK);
    agc_mcp_tool_result r;
    json_t *args = obj("{\"text\":\"hello\\nworld\"}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", args, NULL), AGC_OK);
    assert_false(r.is_error);
    assert_string_equal(r.text, "hello\nworld");
    assert_string_equal(agc_json_str(r.structured, "text", ""), "hello\nworld");
    agc_mcp_tool_result_clear(&r, e->ctx);
    json_decref(args);

    assert_int_equal(agc_mcp_client_call_tool(&r, c, "fail", NULL, NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.text, "always fails"));
    agc_mcp_tool_result_clear(&r, e->ctx);

    args = obj("{\"text\":5}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", args, NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.text, "invalid arguments: /text: must be string"));
    agc_mcp_tool_result_clear(&r, e->ctx);
    json_decref(args);

    args = obj("{}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", args, NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.text, "text"));
    agc_mcp_tool_result_clear(&r, e->ctx);
    json_decref(args);

    assert_int_equal(agc_mcp_client_call_tool(&r, c, "no_such_tool", NULL, NULL), AGC_EPROTO);
    assert_int_equal(agc_mcp_session_last_rpc_error(agc_mcp_client_session(c)), -32602);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "unknown tool 'no_such_tool'"));
    agc_mcp_client_free(c);
    env_free(e);
}

static void a_server_crash_mid_request_is_a_clear_error(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    assert_int_equal(start(&c, e, NULL, 0, NULL, NULL, NULL), AGC_OK);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "crash", NULL, NULL), AGC_EIO);
    const char *msg = agc_ctx_errmsg(e->ctx);
    assert_non_null(strstr(msg, "no response to 'tools/call'"));
    assert_non_null(strstr(msg, "MCP server 'mcp-echo' was killed by signal 9"));
    assert_int_equal(agc_mcp_client_ping(c), AGC_EIO);
    agc_mcp_transport *t = agc_mcp_session_transport(agc_mcp_client_session(c));
    int code = 0, sig = 0;
    (void)agc_mcp_stdio_exit_info(t, &code, &sig);
    assert_int_equal(sig, 9);
    agc_mcp_client_free(c);
    env_free(e);
}

static void garbage_on_stdout_is_reported_and_the_client_survives(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    assert_int_equal(start(&c, e, NULL, 0, NULL, NULL, NULL), AGC_OK);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "garbage", NULL, NULL), AGC_OK);
    assert_string_equal(r.text, "ok");
    agc_mcp_tool_result_clear(&r, e->ctx);
    assert_int_equal(agc_mcp_session_malformed_count(agc_mcp_client_session(c)), 3);
    assert_true(logged(&e->log, "malformed message from the peer (-32700 parse error)"));
    json_t *args = obj("{\"text\":\"still here\"}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", args, NULL), AGC_OK);
    assert_string_equal(r.text, "still here");
    agc_mcp_tool_result_clear(&r, e->ctx);
    json_decref(args);
    agc_mcp_client_free(c);
    env_free(e);
}

static json_t *text_of(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 'a', n);
    s[n] = '\0';
    json_t *v = json_pack("{s:s}", "text", s);
    free(s);
    return v;
}

static void messages_over_the_cap_are_refused_both_ways(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    agc_mcp_tool_result r;
    json_t *huge = text_of(5000);
    json_t *small = obj("{\"text\":\"small\"}");

    /* our outgoing cap */
    agc_mcp_client_opts o = AGC_MCP_CLIENT_OPTS_INIT;
    o.max_message_bytes = 1000;
    assert_int_equal(start(&c, e, &o, 0, NULL, NULL, NULL), AGC_OK);
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", huge, NULL), AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "1000-byte message cap"));
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", small, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, e->ctx);
    agc_mcp_client_free(c);

    /* the server's incoming cap */
    assert_int_equal(start(&c, e, NULL, 0, "--max-message", "1000", NULL), AGC_OK);
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", huge, NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "exceeds the 1000-byte message cap"));
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", small, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, e->ctx);
    agc_mcp_client_free(c);

    /* our incoming cap: a huge response */
    assert_int_equal(start(&c, e, NULL, 1000, NULL, NULL, NULL), AGC_OK);
    json_t *args = obj("{\"bytes\":200000}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "big", args, NULL), AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "no usable response to 'tools/call'"));
    json_decref(args);
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", small, NULL), AGC_OK);
    assert_string_equal(r.text, "small");
    agc_mcp_tool_result_clear(&r, e->ctx);
    agc_mcp_client_free(c);
    json_decref(huge);
    json_decref(small);
    env_free(e);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void a_server_that_never_answers_times_out(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    agc_mcp_client_opts o = AGC_MCP_CLIENT_OPTS_INIT;
    o.timeout_ms = 300;
    int64_t t0 = mono_ms();
    assert_int_equal(start(&c, e, &o, 0, "--mute", NULL, NULL), AGC_ETIMEDOUT);
    assert_true(mono_ms() - t0 < 3000);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "no response to 'initialize' within 300 ms"));
    agc_mcp_client_free(c);
    env_free(e);
}

typedef struct canceler {
    int calls;
    agc_atomic_bool flag;
} canceler;

static void cancel_on_third(double progress, double total, const char *message, void *user)
{
    (void)progress;
    (void)total;
    (void)message;
    canceler *k = user;
    if (++k->calls == 3)
        atomic_store(&k->flag, true);
}

static void cancellation_and_progress_reach_the_server(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    assert_int_equal(start(&c, e, NULL, 0, NULL, NULL, NULL), AGC_OK);
    canceler k = {0};
    atomic_init(&k.flag, false);
    agc_mcp_call_opts co = AGC_MCP_CALL_OPTS_INIT;
    co.progress = cancel_on_third;
    co.progress_user = &k;
    co.cancel = &k.flag;
    json_t *args = obj("{\"ms\":10000,\"steps\":500}");
    agc_mcp_tool_result r;
    int64_t t0 = mono_ms();
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "slow", args, &co), AGC_ECANCELED);
    assert_true(mono_ms() - t0 < 3000);
    json_decref(args);
    /* the server stopped the tool: it is free to answer at once */
    json_t *small = obj("{\"text\":\"next\"}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "echo", small, NULL), AGC_OK);
    assert_string_equal(r.text, "next");
    agc_mcp_tool_result_clear(&r, e->ctx);
    json_decref(small);
    /* progress to completion */
    k.calls = 0;
    atomic_store(&k.flag, false);
    co.cancel = NULL;
    args = obj("{\"ms\":200,\"steps\":4}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "slow", args, &co), AGC_OK);
    assert_string_equal(r.text, "slept");
    assert_int_equal(k.calls, 4);
    agc_mcp_tool_result_clear(&r, e->ctx);
    json_decref(args);
    agc_mcp_client_free(c);
    assert_true(logged(&e->log, "slow was canceled at step"));
    env_free(e);
}

typedef struct seen_log {
    int n;
    char level[32];
    char data[64];
} seen_log;

static void on_server_log(const char *level, const char *logger, const json_t *data, void *user)
{
    (void)logger;
    seen_log *s = user;
    s->n++;
    snprintf(s->level, sizeof s->level, "%s", level);
    snprintf(s->data, sizeof s->data, "%s", json_is_string(data) ? json_string_value(data) : "");
}

static void logging_level_filters_server_messages(void **state)
{
    (void)state;
    env *e = env_new();
    agc_mcp_client *c = NULL;
    seen_log seen = {0};
    agc_mcp_client_opts o = AGC_MCP_CLIENT_OPTS_INIT;
    o.on_log = on_server_log;
    o.log_user = &seen;
    assert_int_equal(start(&c, e, &o, 0, NULL, NULL, NULL), AGC_OK);
    assert_int_equal(agc_mcp_client_set_log_level(c, "loud"), AGC_EINVAL);
    assert_int_equal(agc_mcp_client_set_log_level(c, "warning"), AGC_OK);
    agc_mcp_tool_result r;
    json_t *info = obj("{\"level\":\"info\",\"message\":\"quiet\"}");
    json_t *err = obj("{\"level\":\"error\",\"message\":\"loud\"}");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "log", info, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, e->ctx);
    assert_int_equal(seen.n, 0);
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "log", err, NULL), AGC_OK);
    agc_mcp_tool_result_clear(&r, e->ctx);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.level, "error");
    assert_string_equal(seen.data, "loud");
    json_decref(info);
    json_decref(err);
    agc_mcp_client_free(c);

    /* a server without tools: logging works, tools are not called */
    assert_int_equal(start(&c, e, NULL, 0, "--no-tools", NULL, NULL), AGC_OK);
    assert_false(agc_mcp_client_server_caps(c)->tools);
    json_t *tools = NULL;
    char *cursor = NULL;
    assert_int_equal(agc_mcp_client_list_tools(&tools, &cursor, c, NULL), AGC_EUNSUPPORTED);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "does not offer tools"));
    assert_int_equal(agc_mcp_client_set_log_level(c, "debug"), AGC_OK);
    agc_mcp_client_free(c);
    env_free(e);
}

static agc_mcp_stdio_stop stop_with(env *e, const char *arg, int *code, int *sig)
{
    const char *argv[] = {e->bin, arg, NULL};
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.argv = argv;
    /* a peer that exits by itself may need long under sanitizers (leak check at exit) */
    so.shutdown_grace_ms = strcmp(arg, "--stderr-hello") == 0 ? 3000 : 300;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_spawn(&t, &so, e->ctx), AGC_OK);
    usleep(100000); /* let it install its signal disposition */
    assert_int_equal(agc_mcp_transport_close(t), AGC_OK);
    agc_mcp_stdio_stop stop = agc_mcp_stdio_exit_info(t, code, sig);
    agc_mcp_transport_free(t);
    return stop;
}

static void shutdown_closes_stdin_then_signals(void **state)
{
    (void)state;
    env *e = env_new();
    int code = 0, sig = 0;
    int64_t t0 = mono_ms();
    assert_int_equal(stop_with(e, "--stderr-hello", &code, &sig), AGC_MCP_STOP_STDIN);
    assert_int_equal(code, 0);
    assert_int_equal(sig, -1);
    assert_int_equal(stop_with(e, "--ignore-eof", &code, &sig), AGC_MCP_STOP_SIGTERM);
    assert_int_equal(sig, 15);
    assert_int_equal(stop_with(e, "--ignore-sigterm", &code, &sig), AGC_MCP_STOP_SIGKILL);
    assert_int_equal(sig, 9);
    assert_true(mono_ms() - t0 < 5000);

    const char *argv[] = {"agc-no-such-mcp-server", NULL};
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.argv = argv;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_spawn(&t, &so, e->ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(e->ctx), "agc-no-such-mcp-server' not found"));
    assert_null(t);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_initializes_with_the_latest_version),
        cmocka_unit_test(older_versions_are_negotiated_or_refused),
        cmocka_unit_test(tools_list_follows_cursors),
        cmocka_unit_test(tools_call_gives_results_errors_and_schema_messages),
        cmocka_unit_test(a_server_crash_mid_request_is_a_clear_error),
        cmocka_unit_test(garbage_on_stdout_is_reported_and_the_client_survives),
        cmocka_unit_test(messages_over_the_cap_are_refused_both_ways),
        cmocka_unit_test(a_server_that_never_answers_times_out),
        cmocka_unit_test(cancellation_and_progress_reach_the_server),
        cmocka_unit_test(logging_level_filters_server_messages),
        cmocka_unit_test(shutdown_closes_stdin_then_signals),
    };
    return cmocka_run_group_tests_name("mcp_stdio", tests, NULL, NULL);
}
