/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp-conformance-client: the MCP client the official conformance suite
 * drives (`conformance client --command "mcp-conformance-client" ...`). It is
 * built on the real agentc client library and HTTP transport: it reads the
 * scenario from MCP_CONFORMANCE_SCENARIO (context, if any, from
 * MCP_CONFORMANCE_CONTEXT), takes the server URL as its last argument,
 * initializes, lists the tools and calls each with arguments made from its
 * input schema; elicitation requests are accepted with the schema's defaults
 * (SEP-1034). Exit 0 when every step worked, 1 otherwise (reason on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_client.h"

static agc_status on_elicit(json_t **result_out, agc_mcp_client *c, const json_t *params,
                            void *user)
{
    (void)c;
    agc_ctx *ctx = user;
    json_t *content = NULL;
    agc_status st =
        agc_mcp_elicit_defaults(&content, json_object_get(params, "requestedSchema"), ctx);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(ctx);
    *result_out = json_pack("{s:s,s:o}", "action", "accept", "content", content);
    agc_json_leave(prev);
    return *result_out ? AGC_OK : AGC_ENOMEM;
}

/* Arguments for a tool from its input schema: numbers 5 then 3, strings "test", booleans true. */
static json_t *make_args(const json_t *tool)
{
    json_t *args = json_object();
    const json_t *props = json_object_get(json_object_get(tool, "inputSchema"), "properties");
    const char *k;
    json_t *p;
    int n = 0;
    json_object_foreach((json_t *)props, k, p)
    {
        const char *type = agc_json_str(p, "type", "string");
        json_t *v = NULL;
        if (json_object_get(p, "default"))
            v = json_incref(json_object_get(p, "default"));
        else if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0)
            v = json_integer(n++ == 0 ? 5 : 3);
        else if (strcmp(type, "boolean") == 0)
            v = json_true();
        else if (strcmp(type, "string") == 0)
            v = json_string("test");
        if (v)
            json_object_set_new(args, k, v);
    }
    return args;
}

static int fail(agc_ctx *ctx, const char *what)
{
    char why[1024];
    fprintf(stderr, "mcp-conformance-client: %s: %s\n", what,
            agc_error_format(ctx, why, sizeof why));
    return 1;
}

static int run(agc_ctx *ctx, const char *url, const char *scenario)
{
    agc_mcp_http_client_opts ho = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
    ho.url = url;
    agc_mcp_transport *t = NULL;
    if (agc_mcp_http_client_open(&t, &ho, ctx) != AGC_OK)
        return fail(ctx, "open");
    agc_mcp_client_opts co = AGC_MCP_CLIENT_OPTS_INIT;
    co.name = "agentc-conformance-client";
    co.timeout_ms = 20000;
    co.on_elicitation = on_elicit;
    co.elicitation_user = ctx;
    agc_mcp_client *c = NULL;
    if (agc_mcp_client_new(&c, t, &co, ctx) != AGC_OK)
        return fail(ctx, "client");
    int rc = 0;
    if (agc_mcp_client_initialize(c) != AGC_OK) {
        rc = fail(ctx, "initialize");
        goto out;
    }
    fprintf(stderr, "scenario %s: server '%s', protocol %s\n", scenario,
            agc_mcp_client_server_name(c), agc_mcp_client_protocol_version(c));
    if (!agc_mcp_client_server_caps(c)->tools)
        goto out;
    const json_t *tools = NULL;
    if (agc_mcp_client_tools(&tools, c) != AGC_OK) {
        rc = fail(ctx, "tools/list");
        goto out;
    }
    if (strcmp(scenario, "initialize") == 0)
        goto out;
    size_t i;
    json_t *tool;
    json_array_foreach(tools, i, tool)
    {
        const char *name = agc_json_str(tool, "name", "?");
        json_t *args = make_args(tool);
        agc_mcp_tool_result r;
        agc_status st = agc_mcp_client_call_tool(&r, c, name, args, NULL);
        json_decref(args);
        if (st != AGC_OK) {
            rc = fail(ctx, name);
            continue;
        }
        fprintf(stderr, "tool %s%s: %s\n", name, r.is_error ? " (isError)" : "", r.text);
        agc_mcp_tool_result_clear(&r, ctx);
    }
out:
    agc_mcp_client_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mcp-conformance-client [ARGS...] SERVER_URL\n"
                        "(scenario from MCP_CONFORMANCE_SCENARIO)\n");
        return 2;
    }
    const char *scenario = getenv("MCP_CONFORMANCE_SCENARIO");
    if (!scenario || !*scenario)
        scenario = "initialize";
    if (strncmp(scenario, "auth/", 5) == 0) {
        fprintf(stderr, "mcp-conformance-client: OAuth scenarios are not implemented (%s)\n",
                scenario);
        return 1;
    }
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    (void)agc_log_configure_from_env(ctx);
    int rc = run(ctx, argv[argc - 1], scenario);
    agc_ctx_free(ctx);
    return rc;
}
