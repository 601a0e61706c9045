/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp session: a session over pipes with the test playing the raw peer.
 * Malformed input, id types, timeouts, cancellation both ways, progress,
 * the message cap, error answers and a closing peer.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"
#include "agentc/mcp.h"

typedef struct fixture {
    int to_sess[2];   /* the test writes [1], the session reads [0] */
    int from_sess[2]; /* the session writes [1], the test reads [0] */
    agc_ctx *ctx;
    agc_mcp_session *s;
    char rbuf[1 << 16];
    size_t rlen;
    int handler_calls;
} fixture;

static agc_status m_add(json_t **result, agc_mcp_request *req, const json_t *params, void *user)
{
    (void)req;
    fixture *f = user;
    f->handler_calls++;
    const json_t *a = json_object_get(params, "a"), *b = json_object_get(params, "b");
    if (!json_is_integer(a) || !json_is_integer(b))
        return agc_error_set(f->ctx, AGC_EINVAL, "test", "add: 'a' and 'b' must be integers");
    *result = json_pack("{s:I}", "sum", json_integer_value(a) + json_integer_value(b));
    return AGC_OK;
}

static agc_status m_broken(json_t **result, agc_mcp_request *req, const json_t *params, void *user)
{
    (void)result;
    (void)req;
    (void)params;
    fixture *f = user;
    return agc_error_set(f->ctx, AGC_EIO, "test", "disk on fire");
}

static agc_status m_custom_code(json_t **result, agc_mcp_request *req, const json_t *params,
                                void *user)
{
    (void)result;
    (void)params;
    fixture *f = user;
    agc_mcp_request_set_error_code(req, -32002);
    return agc_error_set(f->ctx, AGC_ENOTFOUND, "test", "resource not found");
}

/* Runs until the peer cancels it (polling), at most 3 s. */
static agc_status m_wait(json_t **result, agc_mcp_request *req, const json_t *params, void *user)
{
    (void)params;
    fixture *f = user;
    f->handler_calls++;
    for (int i = 0; i < 300; i++) {
        if (agc_mcp_request_canceled(req))
            return agc_error_set(f->ctx, AGC_ECANCELED, "test", "canceled");
        usleep(10000);
    }
    *result = json_object();
    return AGC_OK;
}

static const agc_mcp_method methods[] = {
    {"add", m_add}, {"broken", m_broken}, {"custom", m_custom_code}, {"wait", m_wait}, {NULL, NULL},
};

static fixture *setup(size_t in_cap, size_t out_cap)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(pipe(f->to_sess), 0);
    assert_int_equal(pipe(f->from_sess), 0);
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_log_set_level(f->ctx, AGC_LOG_OFF), AGC_OK);
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.max_message_bytes = in_cap;
    so.name = "test peer";
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_open_fds(&t, f->to_sess[0], f->from_sess[1], &so, f->ctx),
                     AGC_OK);
    agc_mcp_session_opts o = AGC_MCP_SESSION_OPTS_INIT;
    o.methods = methods;
    o.user = f;
    o.request_timeout_ms = 5000;
    o.max_message_bytes = out_cap;
    assert_int_equal(agc_mcp_session_new(&f->s, t, &o, f->ctx), AGC_OK);
    return f;
}

static void teardown(fixture *f)
{
    agc_mcp_session_free(f->s);
    agc_ctx_free(f->ctx);
    for (int i = 0; i < 2; i++) {
        close(f->to_sess[i]);
        close(f->from_sess[i]);
    }
    free(f);
}

static void peer_write(fixture *f, const char *line)
{
    size_t n = strlen(line);
    assert_int_equal(write(f->to_sess[1], line, n), (ssize_t)n);
    assert_int_equal(write(f->to_sess[1], "\n", 1), 1);
}

/* The next line the session wrote, parsed, or NULL after timeout_ms. */
static json_t *peer_read(fixture *f, int timeout_ms)
{
    for (;;) {
        char *nl = memchr(f->rbuf, '\n', f->rlen);
        if (nl) {
            size_t n = (size_t)(nl - f->rbuf);
            json_error_t e;
            json_t *v = json_loadb(f->rbuf, n, 0, &e);
            if (!v)
                fail_msg("session wrote invalid JSON: %.*s", (int)n, f->rbuf);
            memmove(f->rbuf, nl + 1, f->rlen - n - 1);
            f->rlen -= n + 1;
            return v;
        }
        struct pollfd p = {f->from_sess[0], POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            return NULL;
        ssize_t r = read(f->from_sess[0], f->rbuf + f->rlen, sizeof f->rbuf - f->rlen);
        assert_true(r > 0);
        f->rlen += (size_t)r;
    }
}

static void step_n(fixture *f, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(agc_mcp_session_step(f->s, 200), AGC_OK);
}

/* v as compact text (agc_free on f->ctx). */
static char *dump(fixture *f, const json_t *v)
{
    char *out = NULL;
    assert_int_equal(agc_json_dump(&out, v, JSON_COMPACT, f->ctx), AGC_OK);
    return out;
}

static void expect_error(fixture *f, const char *id_json, int code, const char *needle)
{
    json_t *r = peer_read(f, 1000);
    assert_non_null(r);
    char *id = dump(f, json_object_get(r, "id"));
    const json_t *e = json_object_get(r, "error");
    if (strcmp(id, id_json) != 0 || agc_json_int(e, "code", 0) != code ||
        !strstr(agc_json_str(e, "message", ""), needle))
        fail_msg("expected error %d for id %s containing '%s', got id %s: %s", code, id_json,
                 needle, id, dump(f, r));
    agc_free(f->ctx, id);
    json_decref(r);
}

static void expect_result(fixture *f, const char *id_json, const char *key, long long value)
{
    json_t *r = peer_read(f, 1000);
    assert_non_null(r);
    char *id = dump(f, json_object_get(r, "id"));
    const json_t *res = json_object_get(r, "result");
    if (strcmp(id, id_json) != 0 || !json_is_object(res) ||
        (key && agc_json_int(res, key, -1) != value))
        fail_msg("expected result for id %s, got %s", id_json, dump(f, r));
    agc_free(f->ctx, id);
    json_decref(r);
}

static void malformed_input_gets_errors_and_the_connection_stays_usable(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    peer_write(f, "this is { not json");
    peer_write(f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    peer_write(f, "{\"id\":1,\"method\":\"ping\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":2}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope/nothing\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"add\",\"params\":{\"a\":\"x\"}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"broken\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"custom\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}"); /* unknown id: dropped */
    peer_write(f, "");                                             /* blank line: skipped */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"add\",\"params\":{\"a\":1,\"b\":2}}");
    step_n(f, 12);
    expect_error(f, "null", -32700, "message:1:");
    expect_error(f, "null", -32600, "batch");
    expect_error(f, "1", -32600, "'jsonrpc' is missing");
    expect_error(f, "2", -32600, "neither 'method'");
    expect_error(f, "null", -32600, "'id' must be a string or an integer");
    expect_error(f, "null", -32600, "got array");
    expect_error(f, "3", -32601, "method 'nope/nothing' not found");
    expect_error(f, "4", -32602, "'a' and 'b' must be integers");
    expect_error(f, "5", -32603, "disk on fire");
    expect_error(f, "6", -32002, "resource not found");
    expect_result(f, "8", "sum", 3);
    assert_null(peer_read(f, 50));
    assert_int_equal(agc_mcp_session_malformed_count(f->s), 6);
    assert_false(agc_mcp_session_closed(f->s));
    teardown(f);
}

static void responses_keep_string_and_integer_ids(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":\"req-abc\",\"method\":\"add\","
                  "\"params\":{\"a\":2,\"b\":3}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"ping\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}");
    step_n(f, 3);
    expect_result(f, "\"req-abc\"", "sum", 5);
    expect_result(f, "9007199254740993", NULL, 0);
    expect_result(f, "\"\"", NULL, 0);

    /* our own request: integer ids, the result comes back */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{\"stale\":true}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}");
    json_t *res = NULL;
    assert_int_equal(agc_mcp_session_request(&res, f->s, "do/it", NULL, NULL), AGC_OK);
    assert_true(agc_json_bool(res, "ok", false));
    json_decref(res);
    json_t *sent = peer_read(f, 1000);
    assert_int_equal(agc_json_int(sent, "id", 0), 1);
    assert_string_equal(agc_json_str(sent, "method", ""), "do/it");
    json_decref(sent);
    teardown(f);
}

static void a_request_without_answer_times_out_naming_method_and_timeout(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.timeout_ms = 200;
    json_t *res = NULL;
    agc_status st = agc_mcp_session_request(&res, f->s, "tools/slow", NULL, &o);
    assert_int_equal(st, AGC_ETIMEDOUT);
    assert_null(res);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "'tools/slow'"));
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "200 ms"));
    json_t *req = peer_read(f, 1000);
    assert_string_equal(agc_json_str(req, "method", ""), "tools/slow");
    json_decref(req);
    json_t *cancel = peer_read(f, 1000);
    assert_string_equal(agc_json_str(cancel, "method", ""), "notifications/cancelled");
    assert_int_equal(agc_json_int(json_object_get(cancel, "params"), "requestId", 0), 1);
    json_decref(cancel);
    /* the late answer is dropped; the session still works */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"n\":2}}");
    assert_int_equal(agc_mcp_session_request(&res, f->s, "again", NULL, NULL), AGC_OK);
    assert_int_equal(agc_json_int(res, "n", 0), 2);
    json_decref(res);
    teardown(f);
}

typedef struct prog_seen {
    int calls;
    double last, total;
    char msg[64];
} prog_seen;

static void on_progress(double progress, double total, const char *message, void *user)
{
    prog_seen *p = user;
    p->calls++;
    p->last = progress;
    p->total = total;
    snprintf(p->msg, sizeof p->msg, "%s", message ? message : "");
}

static void progress_notifications_reach_the_callback(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                  "{\"progressToken\":1,\"progress\":1,\"total\":4}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                  "{\"progressToken\":777,\"progress\":3}}"); /* not ours */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                  "{\"progressToken\":1,\"progress\":2.5,\"message\":\"half\"}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
    prog_seen seen = {0};
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.progress = on_progress;
    o.progress_user = &seen;
    json_t *params = json_pack("{s:s,s:{s:s}}", "x", "y", "_meta", "keep", "me");
    json_t *res = NULL;
    assert_int_equal(agc_mcp_session_request(&res, f->s, "work", params, &o), AGC_OK);
    json_decref(res);
    assert_int_equal(seen.calls, 2);
    assert_true(seen.last == 2.5);
    assert_true(seen.total < 0);
    assert_string_equal(seen.msg, "half");
    json_t *sent = peer_read(f, 1000);
    json_t *meta = json_object_get(json_object_get(sent, "params"), "_meta");
    assert_int_equal(agc_json_int(meta, "progressToken", 0), 1);
    assert_string_equal(agc_json_str(meta, "keep", ""), "me");
    assert_null(json_object_get(json_object_get(params, "_meta"), "progressToken"));
    json_decref(sent);
    json_decref(params);
    teardown(f);
}

static void caller_cancel_sends_notifications_cancelled(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    agc_atomic_bool cancel;
    atomic_init(&cancel, true);
    agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
    o.cancel = &cancel;
    json_t *res = NULL;
    assert_int_equal(agc_mcp_session_request(&res, f->s, "long/job", NULL, &o), AGC_ECANCELED);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "'long/job' was canceled"));
    json_t *req = peer_read(f, 1000);
    json_decref(req);
    json_t *c = peer_read(f, 1000);
    assert_string_equal(agc_json_str(c, "method", ""), "notifications/cancelled");
    assert_int_equal(agc_json_int(json_object_get(c, "params"), "requestId", 0), 1);
    json_decref(c);
    teardown(f);
}

static void peer_cancel_stops_a_running_handler_without_a_response(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":\"w\",\"method\":\"wait\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}"); /* deferred */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                  "\"params\":{\"requestId\":\"w\",\"reason\":\"user\"}}");
    step_n(f, 1); /* runs wait, which sees the cancel */
    step_n(f, 1); /* the deferred ping */
    expect_result(f, "10", NULL, 0);
    assert_null(peer_read(f, 50)); /* nothing for "w" */
    /* a request canceled before it ran is dropped */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":\"w2\",\"method\":\"wait\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":\"w3\",\"method\":\"add\","
                  "\"params\":{\"a\":1,\"b\":1}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                  "\"params\":{\"requestId\":\"w3\"}}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                  "\"params\":{\"requestId\":\"w2\"}}");
    int before = f->handler_calls;
    step_n(f, 2);
    assert_int_equal(f->handler_calls, before + 1); /* add never ran */
    assert_null(peer_read(f, 50));
    teardown(f);
}

static void oversized_incoming_message_is_refused_and_the_session_continues(void **state)
{
    (void)state;
    fixture *f = setup(100, 0);
    char big[1200];
    snprintf(big, sizeof big,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":"
             "{\"pad\":\"%0900d\"}}",
             0);
    peer_write(f, big);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    step_n(f, 2);
    expect_error(f, "null", -32600, "exceeds the 100-byte message cap");
    expect_result(f, "2", NULL, 0);
    teardown(f);
}

static void outgoing_message_over_the_cap_is_refused_before_sending(void **state)
{
    (void)state;
    fixture *f = setup(0, 200);
    json_t *params = json_pack("{s:s}", "pad",
                               "................................................."
                               "................................................."
                               "................................................."
                               ".................................................");
    json_t *res = NULL;
    assert_int_equal(agc_mcp_session_request(&res, f->s, "big", params, NULL), AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "cannot send 'big'"));
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "200-byte message cap"));
    assert_null(peer_read(f, 50));
    json_decref(params);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
    assert_int_equal(agc_mcp_session_ping(f->s, 1000), AGC_OK);
    teardown(f);
}

static void error_answers_become_eproto_with_the_code(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
                  "\"message\":\"no such method\"}}");
    json_t *res = NULL;
    assert_int_equal(agc_mcp_session_request(&res, f->s, "x/y", NULL, NULL), AGC_EPROTO);
    assert_int_equal(agc_mcp_session_last_rpc_error(f->s), -32601);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "'x/y' with error -32601 (method not found)"));
    /* a malformed response to our request fails it too */
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":\"bad\"}}");
    assert_int_equal(agc_mcp_session_request(&res, f->s, "x/z", NULL, NULL), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "malformed response to 'x/z'"));
    teardown(f);
}

static void a_closed_peer_is_eio(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    close(f->to_sess[1]);
    f->to_sess[1] = -1;
    json_t *res = NULL;
    assert_int_equal(agc_mcp_session_request(&res, f->s, "x", NULL, NULL), AGC_EIO);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "no response to 'x'"));
    assert_true(agc_mcp_session_closed(f->s));
    assert_int_equal(agc_mcp_session_request(&res, f->s, "y", NULL, NULL), AGC_EIO);
    teardown(f);
}

static void requests_read_before_end_of_input_are_still_answered(void **state)
{
    (void)state;
    fixture *f = setup(0, 0);
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":\"w\",\"method\":\"wait\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\"}");
    peer_write(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                  "\"params\":{\"requestId\":\"w\"}}");
    close(f->to_sess[1]);
    f->to_sess[1] = -1;
    assert_int_equal(agc_mcp_session_serve(f->s), AGC_OK);
    assert_true(agc_mcp_session_closed(f->s));
    expect_result(f, "11", NULL, 0);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_input_gets_errors_and_the_connection_stays_usable),
        cmocka_unit_test(responses_keep_string_and_integer_ids),
        cmocka_unit_test(a_request_without_answer_times_out_naming_method_and_timeout),
        cmocka_unit_test(progress_notifications_reach_the_callback),
        cmocka_unit_test(caller_cancel_sends_notifications_cancelled),
        cmocka_unit_test(peer_cancel_stops_a_running_handler_without_a_response),
        cmocka_unit_test(oversized_incoming_message_is_refused_and_the_session_continues),
        cmocka_unit_test(outgoing_message_over_the_cap_is_refused_before_sending),
        cmocka_unit_test(error_answers_become_eproto_with_the_code),
        cmocka_unit_test(a_closed_peer_is_eio),
        cmocka_unit_test(requests_read_before_end_of_input_are_still_answered),
    };
    return cmocka_run_group_tests_name("mcp_session", tests, NULL, NULL);
}
