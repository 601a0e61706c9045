/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * MCP servers used by agents (runtime layer): a connection to one server
 * described like an `mcp_servers:` entry of agent.yaml (a command for
 * stdio, or a URL for Streamable HTTP), and the attachment of every server
 * of an agent definition to a tool registry as tools named "server.tool",
 * plus "server.read_resource" / "server.get_prompt" (and their list_
 * companions) when the server offers resources or prompts.
 * Server-to-client requests: sampling/createMessage is answered by the
 * agent's provider after an approval decision; elicitation/create by policy
 * (decline, cancel, fixed answers) or through the run's approver.
 * Invariant: a server that cannot be started, crashes, hangs or talks
 * garbage never fails the run: it is logged, an "mcp.server_failed" event is
 * emitted and the run goes on without it; calls to a server that died later
 * give error results. Each connection has its own ctx and a mutex, so tool
 * calls from several worker threads are safe (one request per server at a
 * time). Not here: the protocol itself (include/agentc/mcp.h).
 */
#ifndef AGENTC_MCP_AGENT_H
#define AGENTC_MCP_AGENT_H

#include <jansson.h>

#include "agent.h"
#include "common.h"
#include "runtime.h"
#include "tool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_mcp_conn agc_mcp_conn;
typedef struct agc_event_bus agc_event_bus;

/*
 * Handles a server-to-client request (sampling/createMessage or
 * elicitation/create) with the request's params. On AGC_OK *result_out is
 * the result object (owned by the caller). Failing statuses (with a message
 * on ctx) become JSON-RPC errors for the server. Runs on the thread that
 * made the request which the server interrupted.
 */
typedef agc_status (*agc_mcp_conn_handler_fn)(json_t **result_out, const char *server,
                                              const json_t *params, void *user, agc_ctx *ctx);

typedef struct agc_mcp_conn_opts {
    unsigned version;                 /* AGC_MCP_CONN_OPTS_VERSION */
    agc_mcp_conn_handler_fn sampling; /* NULL: sampling not offered to the server */
    agc_mcp_conn_handler_fn elicit;   /* NULL: elicitation not offered */
    void *user;                       /* given to the handlers */
} agc_mcp_conn_opts;

#define AGC_MCP_CONN_OPTS_VERSION 1
#define AGC_MCP_CONN_OPTS_INIT                                                                     \
    {                                                                                              \
        AGC_MCP_CONN_OPTS_VERSION, NULL, NULL, NULL                                                \
    }

/*
 * Connects to the server described by spec (an mcp_servers entry: name,
 * command + args + env + cwd, or url + headers + bearer_token;
 * startup_timeout and timeout in seconds) and performs the initialize
 * handshake within startup_timeout (default 30 s). The connection keeps its
 * own ctx; errors are copied to ctx. opts may be NULL. AGC_EINVAL (bad
 * spec), AGC_ENOTFOUND (program not found), AGC_ETIMEDOUT (no answer in
 * time), AGC_EIO (the server died or closed), AGC_EPROTO (garbage or a
 * refused version), AGC_EUNSUPPORTED (a URL while the HTTP transport is not
 * built), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_conn_open(agc_mcp_conn **out, const json_t *spec,
                                           const agc_mcp_conn_opts *opts, agc_ctx *ctx);
/* Takes a reference (thread-safe); returns c. */
agc_mcp_conn *agc_mcp_conn_ref(agc_mcp_conn *c);
/* Drops a reference; the last one closes the connection (graceful: close
 * stdin, wait, SIGTERM, SIGKILL) and frees it. NULL is a no-op. */
void agc_mcp_conn_unref(agc_mcp_conn *c);

/* The server's configured name, its serverInfo and initialize result (borrowed). */
const char *agc_mcp_conn_name(const agc_mcp_conn *c);
const json_t *agc_mcp_conn_init_result(const agc_mcp_conn *c);
/* Whether the server offered the capability ("tools", "resources", "prompts", ...). */
bool agc_mcp_conn_has(const agc_mcp_conn *c, const char *capability);
/* Whether the server is gone (crashed, closed, or timed out past recovery). */
bool agc_mcp_conn_dead(const agc_mcp_conn *c);

/*
 * Sends one request and waits for its result (thread-safe: requests to one
 * server are serialised). timeout_ms 0: the spec's timeout; cancel may be
 * NULL. *result_out is the caller's. Errors are copied to ctx, naming the
 * server: AGC_ETIMEDOUT, AGC_ECANCELED, AGC_EPROTO (error answer), AGC_EIO
 * (server gone), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_conn_request(json_t **result_out, agc_mcp_conn *c,
                                              const char *method, const json_t *params,
                                              int64_t timeout_ms, const agc_atomic_bool *cancel,
                                              agc_ctx *ctx);
/*
 * Lists every item of a paginated list method ("tools/list" -> "tools",
 * "resources/list" -> "resources", "prompts/list" -> "prompts",
 * "resources/templates/list" -> "resourceTemplates"), following nextCursor
 * (at most 1000 pages). *items_out is an array (the caller's). Errors as
 * agc_mcp_conn_request, AGC_EPROTO for a malformed answer.
 */
AGC_NODISCARD agc_status agc_mcp_conn_list(json_t **items_out, agc_mcp_conn *c, const char *method,
                                           const char *key, agc_ctx *ctx);
/*
 * Text a model can read from a tools/call result, a resources/read result
 * or a prompts/get result: text blocks joined by newlines, other blocks
 * described ("[image image/png, 1234 bytes base64]"), structuredContent
 * dumped when there is no text. *out is the caller's (agc_free on ctx).
 */
AGC_NODISCARD agc_status agc_mcp_result_text(char **out, const json_t *result, agc_ctx *ctx);

/* ---- agents ------------------------------------------------------------------ */

typedef struct agc_mcp_attach_opts {
    unsigned version;      /* AGC_MCP_ATTACH_OPTS_VERSION */
    agc_event_bus *events; /* borrowed (must outlive the registry); NULL: no events */
    const char *run_id;    /* for events; copied; may be NULL */
    /* Sampling: the provider section to open (on a private ctx, at the first
     * request) and the model to ask for; NULL: the definition's. */
    const json_t *provider_cfg;
    const char *model;
    agc_approve_mode mode;    /* DEFAULT: the definition's approvals.mode */
    agc_approver_fn approver; /* NULL: "ask" is refused (a tool call cannot pause) */
    void *approver_user;      /* borrowed; must outlive the registry */
    /* Also serve the run's tool-call threads: the registry may be used from
     * several threads at once (the connections are thread-safe). */
} agc_mcp_attach_opts;

#define AGC_MCP_ATTACH_OPTS_VERSION 1
#define AGC_MCP_ATTACH_OPTS_INIT                                                                   \
    {                                                                                              \
        AGC_MCP_ATTACH_OPTS_VERSION, NULL, NULL, NULL, NULL, AGC_APPROVE_MODE_DEFAULT, NULL, NULL  \
    }

/*
 * Connects to every server of def's mcp_servers (in order, each within its
 * startup_timeout) and adds their tools to reg (tool names "server.tool",
 * the server's input schemas, description, effect and approval from the
 * entry; resources and prompts as "server.read_resource",
 * "server.list_resources", "server.get_prompt", "server.list_prompts").
 * A server that fails is skipped: WARN log + "mcp.server_failed" event; a
 * connected one emits "mcp.server_connected". The tools keep their
 * connection alive: it closes when the last tool is freed with reg.
 * *added_out (may be NULL) counts the tools added. Errors (nothing about
 * one server's failure): AGC_EINVAL (opts version), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_mcp_attach(size_t *added_out, agc_tool_registry *reg,
                                        agc_agent_def *def, const agc_mcp_attach_opts *opts,
                                        agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
