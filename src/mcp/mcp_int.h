/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal view of the mcp module: the transport wrapper (so the
 * stdio backend can recognise its own instances) and shared constants.
 * Nothing here is part of the public API.
 */
#ifndef AGC_MCP_INT_H
#define AGC_MCP_INT_H

#include "agentc/mcp.h"

#define AGC__MCP_MOD "mcp"

struct agc_mcp_transport {
    const agc_mcp_transport_ops *ops;
    void *self;
    agc_ctx *ctx;
    bool closed;
    agc_status close_status;
};

/* The session's user pointer (the server or client that owns it). */
void *agc_mcp__session_user(const agc_mcp_session *s);
/* The session's method table (tells a server session from a client one). */
const agc_mcp_method *agc_mcp__session_methods(const agc_mcp_session *s);

/* The stdio backend's ops (to recognise stdio transports). */
extern const agc_mcp_transport_ops agc_mcp__stdio_ops;

#endif
