/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc mcp serve`: agentc's tools as an MCP server, over stdio (stdout
 * carries only protocol; logs go to stderr) or Streamable HTTP (127.0.0.1 by
 * default, one thread per session, optional bearer token). The registry is
 * built like `agentc run` builds it: the agent file's built-in tools in its
 * workspace (all built-ins in "." without an agent file), its mcp_servers'
 * tools, and with --expose-agent a tool "agent_<name>" {task} that runs the
 * agent. Invariant: tools whose effective approval is "never" are not served.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_agent.h"
#include "agentc/mcp_http_server.h"
#include "agentc/runtime.h"
#include "agentc/secret.h"
#include "agentc/workspace.h"
#include "cli.h"
#include "run_ui.h"

int agc__cli_mcp_serve(const char *http, const char *agent, bool expose_agent, const char *token,
                       agc_ctx *ctx);

/* ---- the agent as a tool ------------------------------------------------------------ */

static agc_status agent_call(void *self, const json_t *args, agc_tool_result *out,
                             agc_tool_call_ctx *cctx)
{
    agc_agent_def *def = self;
    agc_ctx *ctx = cctx->ctx;
    agc_run_opts ro = AGC_RUN_OPTS_INIT;
    ro.approve = agc_agent_def_approve_mode(def) == AGC_APPROVE_MODE_ASK
                     ? AGC_APPROVE_MODE_DENY /* nobody to ask: refuse */
                     : AGC_APPROVE_MODE_DEFAULT;
    agc_run *run = NULL;
    agc_status st = agc_run_new(&run, def, agc_json_str(args, "task", ""), &ro, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_run_until_done(run); /* the outcome is read below */
    if (st == AGC_ENOMEM) {
        agc_run_free(run);
        return st;
    }
    const char *answer = agc_run_output(run);
    if (agc_run_status_get(run) == AGC_RUN_FINISHED && answer)
        st = agc_tool_result_set_output(out, answer, strlen(answer), 0, ctx);
    else
        st = agc_tool_result_errorf(out, ctx, "the agent run ended %s: %s",
                                    agc_run_status_name(agc_run_status_get(run)),
                                    agc_run_reason(run) ? agc_run_reason(run) : "no answer");
    agc_run_free(run);
    return st;
}

static void agent_destroy(void *self)
{
    agc_agent_def_unref(self);
}

static const agc_tool_ops agent_ops = {AGC_TOOL_OPS_VERSION, agent_call, agent_destroy};

static agc_status add_agent_tool(agc_tool_registry *reg, agc_agent_def *def, agc_ctx *ctx)
{
    json_t *schema = NULL;
    static const char sch[] = "{\"type\":\"object\",\"properties\":{\"task\":{\"type\":\"string\","
                              "\"description\":\"what the agent should do\"}},"
                              "\"required\":[\"task\"]}";
    agc_status st = agc_json_parse(&schema, sch, sizeof sch - 1, NULL, ctx);
    if (st != AGC_OK)
        return st;
    char name[80];
    snprintf(name, sizeof name, "agent_%s", agc_agent_def_name(def));
    const char *d = agc_json_str(agc_agent_def_json(def), "description", NULL);
    char *desc =
        agc_sprintf(ctx, "Runs the agentc agent '%s' on a task and returns its answer.%s%s",
                    agc_agent_def_name(def), d ? " " : "", d ? d : "");
    agc_tool_spec sp = AGC_TOOL_SPEC_INIT;
    sp.name = name;
    sp.description = desc;
    sp.input_schema = schema;
    sp.effect = AGC_TOOL_EFFECT_EXEC;
    agc_tool *t = NULL;
    st = desc ? agc_tool_new(&t, &agent_ops, agc_agent_def_ref(def), &sp, ctx) : AGC_ENOMEM;
    if (st == AGC_OK)
        st = agc_tool_registry_add(reg, t);
    agc_free(ctx, desc);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    return st;
}

/* ---- the registry --------------------------------------------------------------------- */

static agc_status open_ws(agc_workspace **ws, const agc_agent_def *def, agc_ctx *ctx)
{
    const json_t *w = def ? agc_agent_def_workspace(def) : NULL;
    agc_workspace_opts wo = AGC_WORKSPACE_OPTS_INIT;
    const char **dr = NULL, **dw = NULL, **env = NULL;
    agc_status st = agc_json_str_list(&dr, json_object_get(w, "deny_read"), ctx);
    if (st == AGC_OK)
        st = agc_json_str_list(&dw, json_object_get(w, "deny_write"), ctx);
    if (st == AGC_OK)
        st = agc_json_str_list(&env, json_object_get(w, "env_allow"), ctx);
    if (st == AGC_OK) {
        wo.deny_read = dr;
        wo.deny_write = dw;
        wo.env_allow = env;
        st = agc_workspace_open(ws, agc_json_str(w, "root", "."), &wo, ctx);
    }
    agc_free(ctx, dr);
    agc_free(ctx, dw);
    agc_free(ctx, env);
    return st;
}

static agc_status build_registry(agc_tool_registry **reg, agc_workspace **ws, agc_agent_def *def,
                                 bool expose_agent, agc_ctx *ctx)
{
    agc_status st = agc_tool_registry_new(reg, ctx);
    if (st == AGC_OK)
        st = open_ws(ws, def, ctx);
    size_t nd = def ? agc_agent_def_tool_count(def) : 0;
    if (st == AGC_OK && nd == 0 && !def)
        st = agc_workspace_register_tools(*reg, *ws, NULL);
    for (size_t i = 0; st == AGC_OK && i < nd; i++) {
        const char *name = agc_agent_def_tool(def, i)->name;
        agc_tool *t = NULL;
        st = agc_agent_def_tool_new(&t, def, i, *ws, NULL, ctx);
        if (st == AGC_OK &&
            agc_agent_def_approval(def, name, agc_tool_get_approval(t)) == AGC_TOOL_APPROVE_NEVER) {
            agc_tool_free(t);
            continue;
        }
        if (st == AGC_OK)
            st = agc_tool_registry_add(*reg, t);
    }
    if (st == AGC_OK && def) {
        agc_mcp_attach_opts o = AGC_MCP_ATTACH_OPTS_INIT;
        o.mode = AGC_APPROVE_MODE_DEFAULT;
        st = agc_mcp_attach(NULL, *reg, def, &o, ctx);
    }
    if (st == AGC_OK && def && expose_agent)
        st = add_agent_tool(*reg, def, ctx);
    return st;
}

/* ---- serving ----------------------------------------------------------------------------- */

typedef struct serve_state {
    agc_tool_registry *reg;
    const char *name;
} serve_state;

static void http_session(agc_mcp_transport *t, agc_ctx *ctx, const char *sid, void *user)
{
    (void)sid;
    serve_state *s = user;
    agc_mcp_server_opts so = AGC_MCP_SERVER_OPTS_INIT;
    so.name = s->name;
    agc_mcp_server *srv = NULL;
    if (agc_mcp_server_new(&srv, t, s->reg, &so, ctx) != AGC_OK) {
        agc_log(ctx, AGC_LOG_WARN, "mcp", "cannot serve a session: %s", agc_ctx_errmsg(ctx));
        return;
    }
    (void)agc_mcp_server_run(srv);
    agc_mcp_server_free(srv);
}

static int serve_stdio(serve_state *s, agc_ctx *ctx)
{
    agc_mcp_transport *t = NULL;
    agc_mcp_server *srv = NULL;
    agc_mcp_server_opts so = AGC_MCP_SERVER_OPTS_INIT;
    so.name = s->name;
    if (agc_mcp_stdio_open_fds(&t, 0, 1, NULL, ctx) != AGC_OK ||
        agc_mcp_server_new(&srv, t, s->reg, &so, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot serve on stdio");
        return AGC_CLI_FAIL;
    }
    agc_status st = agc_mcp_server_run(srv);
    if (st != AGC_OK)
        agc_cli_error(ctx, "serving stopped");
    agc_mcp_server_free(srv);
    return st == AGC_OK ? AGC_CLI_OK : AGC_CLI_FAIL;
}

static int serve_http(serve_state *s, const char *addr, const char *token, agc_ctx *ctx)
{
    const char *colon = strrchr(addr, ':');
    char host[128];
    long port = colon ? strtol(colon + 1, NULL, 10) : -1;
    if (!colon || (size_t)(colon - addr) >= sizeof host || port < 0 || port > 65535) {
        fprintf(stderr, "agentc: --http wants ADDRESS:PORT (e.g. 127.0.0.1:8080), not '%s'\n",
                addr);
        return AGC_CLI_USAGE;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    agc_secret *sec = NULL;
    const char *tok = token;
    if (token && (strncmp(token, "env:", 4) == 0 || strncmp(token, "file:", 5) == 0)) {
        if (agc_secret_from_ref(&sec, token, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot read --token");
            return AGC_CLI_FAIL;
        }
        tok = agc_secret_reveal(sec, NULL);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* session threads inherit the mask */
    agc_mcp_http_server_opts ho = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    ho.bind_address = host[0] ? host : NULL;
    ho.port = (uint16_t)port;
    ho.bearer_token = tok;
    agc_mcp_http_server *hs = NULL;
    agc_status st = agc_mcp_http_server_new(&hs, &ho, http_session, s, ctx);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot listen on %s", addr);
        agc_secret_free(sec);
        return AGC_CLI_FAIL;
    }
    printf("listening on http://%s:%u/mcp\n", host[0] ? host : "127.0.0.1",
           (unsigned)agc_mcp_http_server_port(hs));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    agc_mcp_http_server_free(hs);
    agc_secret_free(sec);
    return AGC_CLI_OK;
}

int agc__cli_mcp_serve(const char *http, const char *agent, bool expose_agent, const char *token,
                       agc_ctx *ctx)
{
    if (expose_agent && !agent) {
        fprintf(stderr, "agentc: --expose-agent needs --agent AGENT_FILE\n");
        return AGC_CLI_USAGE;
    }
    if (token && !http) {
        fprintf(stderr, "agentc: --token is for --http\n");
        return AGC_CLI_USAGE;
    }
    agc_agent_def *def = NULL;
    if (agent && agc_cli_load_agent(&def, agent, NULL, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot load the agent");
        return AGC_CLI_FAIL;
    }
    agc_tool_registry *reg = NULL;
    agc_workspace *ws = NULL;
    int rc = AGC_CLI_FAIL;
    if (build_registry(&reg, &ws, def, expose_agent, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot build the tools");
    } else {
        serve_state s = {reg, def ? agc_agent_def_name(def) : "agentc"};
        rc = http ? serve_http(&s, http, token, ctx) : serve_stdio(&s, ctx);
    }
    agc_tool_registry_free(reg);
    agc_workspace_close(ws);
    agc_agent_def_unref(def);
    return rc;
}
