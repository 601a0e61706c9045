/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal state of the MCP server, shared by server.c (initialize,
 * logging, lifecycle), server_tools.c, server_content.c (resources,
 * prompts, completion) and server_client.c (requests to the client).
 * JSON values held here are allocated through the server's ctx.
 */
#ifndef AGC_MCP_SERVER_INT_H
#define AGC_MCP_SERVER_INT_H

#include "agentc/schema.h"
#include "mcp_int.h"

typedef struct agc_mcp__stool {
    char *name;
    json_t *def; /* the tools/list entry */
    agc_schema *in, *out;
    agc_mcp_tool_fn fn;
    void *user;
} agc_mcp__stool;

typedef struct agc_mcp__sres {
    char *key; /* uri or template */
    bool is_template;
    json_t *def; /* the resources/list or resources/templates/list entry */
    agc_mcp_resource_fn fn;
    void *user;
} agc_mcp__sres;

typedef struct agc_mcp__sprompt {
    char *name;
    json_t *def; /* the prompts/list entry */
    agc_mcp_prompt_fn fn;
    void *user;
} agc_mcp__sprompt;

struct agc_mcp_server {
    agc_ctx *ctx;
    agc_mcp_session *s;
    agc_tool_registry *reg;
    const char *const *versions;
    char *name, *sversion, *instructions;
    size_t page_size;
    bool initialized;
    char proto[32];
    agc_mcp_caps client_caps;
    int log_min;
    agc_mcp__stool *tools;
    size_t ntools, ctools;
    agc_mcp__sres *res;
    size_t nres, cres;
    agc_mcp__sprompt *prompts;
    size_t nprompts, cprompts;
    json_t *subs; /* uri -> true */
    agc_mcp_complete_fn complete;
    void *complete_user;
};

agc_status agc_mcp__srv_oom(agc_mcp_server *s);
agc_status agc_mcp__srv_not_ready(agc_mcp_server *s, agc_mcp_request *req);
/* Offset from a numeric cursor ("0".."n"); AGC_EINVAL names the method. */
agc_status agc_mcp__srv_cursor(size_t *off, agc_mcp_server *s, const json_t *params, size_t n,
                               const char *method);
/* Sends notifications/<kind>/list_changed once initialized (failures logged). */
void agc_mcp__srv_list_changed(agc_mcp_server *s, const char *kind);
/* Copies v into the server's allocator (deep). NULL on OOM. */
json_t *agc_mcp__srv_copy(agc_mcp_server *s, const json_t *v);

/* Method handlers (the method table lives in server.c). */
agc_status agc_mcp__m_tools_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                 void *user);
agc_status agc_mcp__m_tools_call(json_t **result, agc_mcp_request *req, const json_t *params,
                                 void *user);
agc_status agc_mcp__m_resources_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                     void *user);
agc_status agc_mcp__m_templates_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                     void *user);
agc_status agc_mcp__m_resources_read(json_t **result, agc_mcp_request *req, const json_t *params,
                                     void *user);
agc_status agc_mcp__m_subscribe(json_t **result, agc_mcp_request *req, const json_t *params,
                                void *user);
agc_status agc_mcp__m_unsubscribe(json_t **result, agc_mcp_request *req, const json_t *params,
                                  void *user);
agc_status agc_mcp__m_prompts_list(json_t **result, agc_mcp_request *req, const json_t *params,
                                   void *user);
agc_status agc_mcp__m_prompts_get(json_t **result, agc_mcp_request *req, const json_t *params,
                                  void *user);
agc_status agc_mcp__m_complete(json_t **result, agc_mcp_request *req, const json_t *params,
                               void *user);
void agc_mcp__stools_free(agc_mcp_server *s);
void agc_mcp__scontent_free(agc_mcp_server *s);

#endif
