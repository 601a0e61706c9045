/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp-echo: a small stdio MCP server on the agentc server library, for tests
 * and benchmarks. Tools: echo, fail, slow (progress + cancellation), big,
 * crash, garbage (prints non-JSON to stdout), log. Options make it misbehave
 * on purpose (never answer, ignore stdin EOF, ignore SIGTERM, odd versions).
 * It is a test peer, not an example of a production server.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/mcp.h"
#include "agentc/tool.h"

typedef struct app {
    agc_mcp_server *server;
} app;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static agc_status t_echo(void *self, const json_t *args, agc_tool_result *out,
                         agc_tool_call_ctx *cctx)
{
    (void)self;
    const char *text = agc_json_str(args, "text", "");
    agc_status st = agc_tool_result_set_output(out, text, strlen(text), 0, cctx->ctx);
    agc_ctx *prev = agc_json_enter(cctx->ctx);
    out->structured = json_pack("{s:s}", "text", text);
    agc_json_leave(prev);
    return st == AGC_OK && !out->structured ? AGC_ENOMEM : st;
}

static agc_status t_fail(void *self, const json_t *args, agc_tool_result *out,
                         agc_tool_call_ctx *cctx)
{
    (void)self;
    (void)args;
    return agc_tool_result_errorf(out, cctx->ctx, "this tool always fails");
}

static agc_status t_slow(void *self, const json_t *args, agc_tool_result *out,
                         agc_tool_call_ctx *cctx)
{
    (void)self;
    long long ms = agc_json_int(args, "ms", 1000);
    long long steps = agc_json_int(args, "steps", 10);
    if (steps < 1)
        steps = 1;
    agc_mcp_request *req = agc_mcp_request_from_tool_call(cctx);
    for (long long i = 0; i < steps; i++) {
        if (req && agc_mcp_request_canceled(req)) {
            fprintf(stderr, "mcp-echo: slow was canceled at step %lld\n", i);
            return agc_error_set(cctx->ctx, AGC_ECANCELED, "mcp-echo", "canceled");
        }
        if (req)
            (void)agc_mcp_request_progress(req, (double)i, (double)steps, "sleeping");
        sleep_ms((long)(ms / steps));
    }
    return agc_tool_result_set_output(out, "slept", 5, 0, cctx->ctx);
}

static agc_status t_big(void *self, const json_t *args, agc_tool_result *out,
                        agc_tool_call_ctx *cctx)
{
    (void)self;
    long long n = agc_json_int(args, "bytes", 1000);
    char *buf = agc_malloc(cctx->ctx, (size_t)n + 1);
    if (!buf)
        return AGC_ENOMEM;
    memset(buf, 'x', (size_t)n);
    agc_status st = agc_tool_result_set_output(out, buf, (size_t)n, 0, cctx->ctx);
    agc_free(cctx->ctx, buf);
    return st;
}

static agc_status t_crash(void *self, const json_t *args, agc_tool_result *out,
                          agc_tool_call_ctx *cctx)
{
    (void)self;
    (void)args;
    (void)out;
    (void)cctx;
    fprintf(stderr, "mcp-echo: crashing on purpose\n");
    kill(getpid(), SIGKILL);
    return AGC_ERROR;
}

static agc_status t_garbage(void *self, const json_t *args, agc_tool_result *out,
                            agc_tool_call_ctx *cctx)
{
    (void)self;
    (void)args;
    static const char junk[] = "this is not json\n{\"broken\": \n[1,2]\n";
    if (write(STDOUT_FILENO, junk, sizeof junk - 1) < 0)
        return agc_error_set(cctx->ctx, AGC_EIO, "mcp-echo", "write failed");
    return agc_tool_result_set_output(out, "ok", 2, 0, cctx->ctx);
}

static agc_status t_log(void *self, const json_t *args, agc_tool_result *out,
                        agc_tool_call_ctx *cctx)
{
    app *a = self;
    json_t *data = json_object_get(args, "message");
    agc_status st =
        agc_mcp_server_log(a->server, agc_json_str(args, "level", "info"), "echo", data);
    if (st != AGC_OK)
        return st;
    return agc_tool_result_set_output(out, "logged", 6, 0, cctx->ctx);
}

static int add(agc_tool_registry *reg, const char *name, const char *desc, const char *schema,
               agc_status (*fn)(void *, const json_t *, agc_tool_result *, agc_tool_call_ctx *),
               void *self, agc_ctx *ctx)
{
    static agc_tool_ops ops[8];
    static int nops;
    ops[nops] = (agc_tool_ops){AGC_TOOL_OPS_VERSION, fn, NULL};
    json_t *js = NULL;
    if (agc_json_parse(&js, schema, strlen(schema), name, ctx) != AGC_OK)
        return -1;
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = name;
    spec.description = desc;
    spec.input_schema = js;
    spec.output_cap = (size_t)256 * 1024 * 1024;
    agc_tool *t = NULL;
    agc_status st = agc_tool_new(&t, &ops[nops++], self, &spec, ctx);
    json_decref(js);
    if (st == AGC_OK)
        st = agc_tool_registry_add(reg, t);
    return st == AGC_OK ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: mcp-echo [--page-size N] [--max-message BYTES] [--versions V1,V2] "
                    "[--mute] [--ignore-eof] [--ignore-sigterm] [--stderr-hello] [--no-tools]\n");
}

int main(int argc, char **argv)
{
    size_t page = 0, maxmsg = 0;
    const char *versions_arg = NULL;
    bool mute = false, ignore_eof = false, ignore_term = false, hello = false, no_tools = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--page-size") == 0 && i + 1 < argc)
            page = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--max-message") == 0 && i + 1 < argc)
            maxmsg = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--versions") == 0 && i + 1 < argc)
            versions_arg = argv[++i];
        else if (strcmp(argv[i], "--mute") == 0)
            mute = true;
        else if (strcmp(argv[i], "--ignore-eof") == 0)
            ignore_eof = true;
        else if (strcmp(argv[i], "--ignore-sigterm") == 0)
            ignore_term = ignore_eof = true;
        else if (strcmp(argv[i], "--stderr-hello") == 0)
            hello = true;
        else if (strcmp(argv[i], "--no-tools") == 0)
            no_tools = true;
        else {
            usage();
            return 2;
        }
    }
    if (ignore_term)
        signal(SIGTERM, SIG_IGN);
    if (hello)
        fprintf(stderr, "mcp-echo: started\n");
    if (mute) { /* reads everything, answers nothing */
        char buf[4096];
        while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
        }
        return 0;
    }
    const char *versions[8] = {NULL};
    char vbuf[256];
    if (versions_arg) {
        snprintf(vbuf, sizeof vbuf, "%s", versions_arg);
        int n = 0;
        for (char *save = NULL, *tok = strtok_r(vbuf, ",", &save); tok && n < 7;
             tok = strtok_r(NULL, ",", &save))
            versions[n++] = tok;
    }

    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    (void)agc_log_configure_from_env(ctx);
    app a = {NULL};
    agc_tool_registry *reg = NULL;
    int rc = 1;
    if (!no_tools) {
        if (agc_tool_registry_new(&reg, ctx) != AGC_OK)
            goto out;
        static const char obj[] = "{\"type\":\"object\"}";
        if (add(reg, "echo", "Returns its text.",
                "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
                "\"required\":[\"text\"],\"additionalProperties\":false}",
                t_echo, &a, ctx) ||
            add(reg, "fail", "Always fails.", obj, t_fail, &a, ctx) ||
            add(reg, "slow", "Sleeps ms in steps, reporting progress; cancellable.",
                "{\"type\":\"object\",\"properties\":{\"ms\":{\"type\":\"integer\"},"
                "\"steps\":{\"type\":\"integer\"}}}",
                t_slow, &a, ctx) ||
            add(reg, "big", "Returns bytes x characters.",
                "{\"type\":\"object\",\"properties\":{\"bytes\":{\"type\":\"integer\","
                "\"minimum\":0}}}",
                t_big, &a, ctx) ||
            add(reg, "crash", "Kills the server.", obj, t_crash, &a, ctx) ||
            add(reg, "garbage", "Prints non-JSON lines to stdout, then answers.", obj, t_garbage,
                &a, ctx) ||
            add(reg, "log", "Sends notifications/message.", obj, t_log, &a, ctx)) {
            fprintf(stderr, "mcp-echo: %s\n", agc_ctx_errmsg(ctx));
            goto out;
        }
    }
    agc_mcp_stdio_opts so = AGC_MCP_STDIO_OPTS_INIT;
    so.name = "client";
    so.max_message_bytes = maxmsg;
    agc_mcp_transport *t = NULL;
    if (agc_mcp_stdio_open_fds(&t, STDIN_FILENO, STDOUT_FILENO, &so, ctx) != AGC_OK)
        goto out;
    agc_mcp_server_opts o = AGC_MCP_SERVER_OPTS_INIT;
    o.name = "mcp-echo";
    o.server_version = "1.0";
    o.instructions = "A test server.";
    o.page_size = page;
    o.max_message_bytes = maxmsg;
    o.protocol_versions = versions_arg ? versions : NULL;
    if (agc_mcp_server_new(&a.server, t, reg, &o, ctx) != AGC_OK) {
        fprintf(stderr, "mcp-echo: %s\n", agc_ctx_errmsg(ctx));
        goto out;
    }
    rc = agc_mcp_server_run(a.server) == AGC_OK ? 0 : 1;
    if (rc != 0)
        fprintf(stderr, "mcp-echo: %s\n", agc_ctx_errmsg(ctx));
    while (ignore_eof)
        sleep_ms(1000);
out:
    agc_mcp_server_free(a.server);
    agc_tool_registry_free(reg);
    agc_ctx_free(ctx);
    return rc;
}
