/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Private state of the MCP client, shared by client.c (handshake, tools,
 * server-to-client requests and notifications) and client_features.c
 * (resources, prompts, completion, roots, the tools cache, paging).
 */
#ifndef AGC_MCP_CLIENT_INT_H
#define AGC_MCP_CLIENT_INT_H

#include "mcp_int.h"

struct agc_mcp_client {
    agc_ctx *ctx;
    agc_mcp_session *s;
    const char *const *versions;
    char *name, *cversion;
    agc_mcp_log_fn on_log;
    void *log_user;
    agc_mcp_client_request_fn on_sampling, on_elicitation;
    void *sampling_user, *elicitation_user;
    agc_mcp_client_notify_fn on_notify;
    void *notify_user;
    json_t *roots; /* owned; NULL: no roots capability */
    bool initialized;
    char *proto, *srv_name, *srv_version, *instructions;
    agc_mcp_caps caps;
    bool tools_changed;
    json_t *tools_cache; /* all pages, or NULL */
};

/* Checks the handshake was done and the capability offered (AGC_EINVAL / AGC_EUNSUPPORTED). */
agc_status agc_mcp__client_need(agc_mcp_client *c, bool cap, const char *what);
/*
 * One page of a list method: *items_out = result[key] (owned), *next_out the cursor
 * (agc_free) or NULL. what names the feature for messages.
 */
agc_status agc_mcp__client_list_page(json_t **items_out, char **next_out, agc_mcp_client *c,
                                     bool cap, const char *method, const char *key,
                                     const char *cursor);
/* Every page of a list method concatenated. */
agc_status agc_mcp__client_list_all(json_t **items_out, agc_mcp_client *c, bool cap,
                                    const char *method, const char *key);

#endif
