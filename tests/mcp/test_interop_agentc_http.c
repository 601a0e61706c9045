/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp interop, agentc against agentc over Streamable HTTP: our client (and
 * its HTTP transport) against programs/mcp-conformance-server (our server
 * library and HTTP server transport) in a child process, in SSE and in
 * JSON-only mode. Every tool the fixture offers is called (sampling and
 * elicitation answered by our callbacks, progress, logging, the SSE-polling
 * tool that closes its stream before answering), resources and templates are
 * read, prompts fetched, subscriptions made.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_client.h"

typedef struct peer {
    pid_t pid;
    char url[128];
} peer;

static pid_t running = -1; /* killed by the teardown when a test fails midway */

static bool start_peer(peer *p, bool json_only)
{
    const char *dir = getenv("AGC_BINARY_DIR");
    assert_non_null(dir);
    char bin[512];
    snprintf(bin, sizeof bin, "%s/mcp-conformance-server", dir);
    if (access(bin, X_OK) != 0)
        return false;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (json_only)
            execl(bin, bin, "--port", "0", "--json", (char *)NULL);
        else
            execl(bin, bin, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    running = p->pid;
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    bool ok = false;
    while (fgets(line, sizeof line, f)) {
        const char *u = strstr(line, "http://");
        if (strstr(line, "listening on") && u) {
            snprintf(p->url, sizeof p->url, "%.*s", (int)strcspn(u, "\r\n"), u);
            ok = true;
            break;
        }
    }
    fclose(f);
    assert_true(ok);
    return true;
}

static void stop_peer(peer *p)
{
    running = -1;
    kill(p->pid, SIGTERM);
    int st;
    for (int i = 0; i < 250; i++) {
        if (waitpid(p->pid, &st, WNOHANG) == p->pid)
            return;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
}

typedef struct seen {
    int samplings, elicitations, logs, progress;
} seen;

static agc_status on_sampling(json_t **out, agc_mcp_client *c, const json_t *params, void *user)
{
    (void)c;
    (void)params;
    ((seen *)user)->samplings++;
    *out = json_pack("{s:s,s:{s:s,s:s},s:s,s:s}", "role", "assistant", "content", "type", "text",
                     "text", "sampled", "model", "m", "stopReason", "endTurn");
    return AGC_OK;
}

static agc_status on_elicit(json_t **out, agc_mcp_client *c, const json_t *params, void *user)
{
    ((seen *)user)->elicitations++;
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_client_session(c));
    json_t *content = NULL;
    assert_int_equal(
        agc_mcp_elicit_defaults(&content, json_object_get(params, "requestedSchema"), ctx), AGC_OK);
    /* fill required strings without defaults */
    const json_t *req = json_object_get(json_object_get(params, "requestedSchema"), "required");
    size_t i;
    json_t *k;
    json_array_foreach(req, i, k)
    {
        if (!json_object_get(content, json_string_value(k)))
            json_object_set_new(content, json_string_value(k), json_string("agentc"));
    }
    *out = json_pack("{s:s,s:o}", "action", "accept", "content", content);
    return AGC_OK;
}

static void on_log(const char *level, const char *logger, const json_t *data, void *user)
{
    (void)level;
    (void)logger;
    (void)data;
    ((seen *)user)->logs++;
}

static void on_progress(double p, double total, const char *message, void *user)
{
    (void)p;
    (void)total;
    (void)message;
    ((seen *)user)->progress++;
}

/* A value for a schema: objects get every property, strings "hello", numbers 2. */
static json_t *value_for(const json_t *schema)
{
    const char *type = agc_json_str(schema, "type", "string");
    if (json_object_get(schema, "$ref")) /* only the fixture's address object uses one */
        return json_object();
    if (json_object_get(schema, "default"))
        return json_incref(json_object_get(schema, "default"));
    if (json_is_array(json_object_get(schema, "enum")))
        return json_incref(json_array_get(json_object_get(schema, "enum"), 0));
    if (strcmp(type, "object") == 0) {
        json_t *o = json_object();
        const char *k;
        json_t *p;
        json_object_foreach(json_object_get(schema, "properties"), k, p)
        {
            json_object_set_new(o, k, value_for(p));
        }
        return o;
    }
    if (strcmp(type, "array") == 0)
        return json_array();
    if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0)
        return json_integer(2);
    if (strcmp(type, "boolean") == 0)
        return json_true();
    return json_string("hello");
}

static json_t *args_for(const json_t *tool)
{
    return value_for(json_object_get(tool, "inputSchema"));
}

static void against_agentc_server(bool json_only)
{
    peer p;
    if (!start_peer(&p, json_only))
        skip();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    ho.url = p.url;
    agc_mcp_transport *t = NULL;
    assert_int_equal(agc_mcp_http_client_open(&t, &ho, ctx), AGC_OK);
    seen s = {0};
    agc_mcp_client_opts co = AGC_MCP_CLIENT_OPTS_INIT;
    co.timeout_ms = 20000;
    co.on_sampling = on_sampling;
    co.sampling_user = &s;
    co.on_elicitation = on_elicit;
    co.elicitation_user = &s;
    co.on_log = on_log;
    co.log_user = &s;
    agc_mcp_client *c = NULL;
    assert_int_equal(agc_mcp_client_new(&c, t, &co, ctx), AGC_OK);
    assert_int_equal(agc_mcp_client_initialize(c), AGC_OK);
    assert_non_null(agc_mcp_http_client_session_id(t));
    assert_int_equal(agc_mcp_client_set_log_level(c, "debug"), AGC_OK);

    const json_t *tools = NULL;
    assert_int_equal(agc_mcp_client_tools(&tools, c), AGC_OK);
    assert_true(json_array_size(tools) >= 10);
    size_t i;
    json_t *tool;
    json_array_foreach(tools, i, tool)
    {
        const char *name = agc_json_str(tool, "name", "?");
        json_t *args = args_for(tool);
        agc_mcp_call_opts o = AGC_MCP_CALL_OPTS_INIT;
        o.progress = on_progress;
        o.progress_user = &s;
        agc_mcp_tool_result r;
        agc_status st = agc_mcp_client_call_tool(&r, c, name, args, &o);
        json_decref(args);
        if (st != AGC_OK)
            fail_msg("%s: %s", name, agc_ctx_errmsg(ctx));
        if (r.is_error != (strcmp(name, "test_error_handling") == 0))
            fail_msg("%s: isError %d: %s", name, r.is_error, r.text);
        agc_mcp_tool_result_clear(&r, ctx);
    }
    assert_true(s.samplings >= 1);
    assert_true(s.elicitations >= 1);
    assert_true(s.logs >= 1);
    assert_true(s.progress >= 1);

    json_t *contents = NULL, *items = NULL, *res = NULL;
    assert_int_equal(agc_mcp_client_read_resource(&contents, c, "test://static-text"), AGC_OK);
    assert_non_null(agc_json_str(json_array_get(contents, 0), "text", NULL));
    json_decref(contents);
    assert_int_equal(agc_mcp_client_read_resource(&contents, c, "test://static-binary"), AGC_OK);
    assert_non_null(agc_json_str(json_array_get(contents, 0), "blob", NULL));
    json_decref(contents);
    assert_int_equal(agc_mcp_client_list_all_resources(&items, c), AGC_OK);
    assert_true(json_array_size(items) >= 2);
    json_decref(items);
    assert_int_equal(agc_mcp_client_list_all_resource_templates(&items, c), AGC_OK);
    assert_true(json_array_size(items) >= 1);
    json_decref(items);
    if (agc_mcp_client_server_caps(c)->resources_subscribe) {
        assert_int_equal(agc_mcp_client_subscribe(c, "test://watched-resource"), AGC_OK);
        assert_int_equal(agc_mcp_client_unsubscribe(c, "test://watched-resource"), AGC_OK);
    }
    json_t *pargs = json_pack("{s:s,s:s}", "arg1", "one", "arg2", "two");
    assert_int_equal(agc_mcp_client_get_prompt(&res, c, "test_prompt_with_arguments", pargs),
                     AGC_OK);
    json_decref(pargs);
    char *dump = NULL;
    assert_int_equal(agc_json_dump(&dump, res, JSON_COMPACT, ctx), AGC_OK);
    assert_non_null(strstr(dump, "arg1='one'"));
    agc_free(ctx, dump);
    json_decref(res);
    agc_mcp_client_free(c);
    agc_ctx_free(ctx);
    stop_peer(&p);
}

static void sse_mode(void **state)
{
    (void)state;
    against_agentc_server(false);
}

static void json_only_mode(void **state)
{
    (void)state;
    against_agentc_server(true);
}

static int teardown(void **state)
{
    (void)state;
    if (running > 0) {
        peer p = {.pid = running};
        stop_peer(&p);
    }
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(sse_mode, teardown),
        cmocka_unit_test_teardown(json_only_mode, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
