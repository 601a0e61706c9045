/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Requests the MCP server sends to its client: sampling/createMessage,
 * elicitation/create and roots/list. Each is refused locally (no message
 * sent) when the client did not declare the capability in initialize.
 * From a handler the request travels on the stream of the request being
 * served (Streamable HTTP), and the session serves the client's answer
 * while waiting.
 */
#include <string.h>

#include "agentc/json.h"
#include "server_int.h"

#define MOD AGC__MCP_MOD

static agc_status need(agc_mcp_server *s, bool cap, const char *what, const char *method)
{
    if (!s->initialized)
        return agc_error_set(s->ctx, AGC_EPROTO, MOD, "cannot send '%s' before initialize", method);
    if (!cap)
        return agc_error_set(s->ctx, AGC_EUNSUPPORTED, MOD,
                             "the client did not declare the '%s' capability; '%s' is unavailable",
                             what, method);
    return AGC_OK;
}

agc_status agc_mcp_server_create_message(json_t **result_out, agc_mcp_server *s,
                                         const json_t *params, const agc_mcp_call_opts *opts)
{
    *result_out = NULL;
    agc_status st = need(s, s->client_caps.sampling, "sampling", "sampling/createMessage");
    return st == AGC_OK
               ? agc_mcp_session_request(result_out, s->s, "sampling/createMessage", params, opts)
               : st;
}

agc_status agc_mcp_server_elicit(json_t **result_out, agc_mcp_server *s, const json_t *params,
                                 const agc_mcp_call_opts *opts)
{
    *result_out = NULL;
    agc_status st = need(s, s->client_caps.elicitation, "elicitation", "elicitation/create");
    if (st != AGC_OK)
        return st;
    st = agc_mcp_session_request(result_out, s->s, "elicitation/create", params, opts);
    if (st == AGC_OK && !agc_json_str(*result_out, "action", NULL)) {
        json_decref(*result_out);
        *result_out = NULL;
        st = agc_error_set(s->ctx, AGC_EPROTO, MOD,
                           "the client's elicitation/create result has no 'action'");
    }
    return st;
}

agc_status agc_mcp_server_list_roots(json_t **roots_out, agc_mcp_server *s,
                                     const agc_mcp_call_opts *opts)
{
    *roots_out = NULL;
    agc_status st = need(s, s->client_caps.roots, "roots", "roots/list");
    json_t *r = NULL;
    if (st == AGC_OK)
        st = agc_mcp_session_request(&r, s->s, "roots/list", NULL, opts);
    if (st != AGC_OK)
        return st;
    json_t *roots = json_object_get(r, "roots");
    if (!json_is_array(roots)) {
        json_decref(r);
        return agc_error_set(s->ctx, AGC_EPROTO, MOD,
                             "the client's roots/list result has no "
                             "'roots' array");
    }
    *roots_out = json_incref(roots);
    json_decref(r);
    return AGC_OK;
}
