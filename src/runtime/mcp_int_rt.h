/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Runtime-internal MCP seams: the Streamable HTTP transport opener used by
 * mcp_conn.c (mcp_http_rt.c) and the run hook that attaches an agent's
 * mcp_servers (mcp_tools.c) when its tools are set up.
 */
#ifndef AGC_RUNTIME_MCP_INT_RT_H
#define AGC_RUNTIME_MCP_INT_RT_H

#include <jansson.h>

#include "agentc/mcp.h"

/* Opens a Streamable HTTP transport for spec (url, headers, bearer_token). */
agc_status agc__mcp_open_http(agc_mcp_transport **out, const json_t *spec, agc_ctx *ctx);

/* Run hook: attaches the definition's mcp_servers to the run's registry and
 * tool definitions (creating the registry when the agent lists no tools).
 * Called after the built-in tools are set up. AGC_ENOMEM only: a server
 * that fails is skipped (logged, "mcp.server_failed" event). */
struct agc_run;
agc_status agc__mcp_setup(struct agc_run *run);

#endif
