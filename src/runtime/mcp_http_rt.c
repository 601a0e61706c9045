/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The Streamable HTTP side of agent MCP connections: maps an mcp_servers
 * entry with a url (headers; bearer_token as a secret reference env:NAME or
 * file:PATH, sent as "Authorization: Bearer ...") onto the HTTP client
 * transport (include/agentc/mcp_http_client.h). The token is revealed only
 * to build the header copy the transport keeps; our copies are wiped.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp_http_client.h"
#include "agentc/secret.h"
#include "mcp_int_rt.h"

agc_status agc__mcp_open_http(agc_mcp_transport **out, const json_t *spec, agc_ctx *ctx)
{
    *out = NULL;
    const json_t *hdrs = json_object_get(spec, "headers");
    const char *tok_ref = agc_json_str(spec, "bearer_token", NULL);
    size_t n = json_object_size(hdrs) + (tok_ref != NULL);
    agc_http_header *h = agc_calloc(ctx, n + 1, sizeof *h);
    if (!h)
        return AGC_ENOMEM;
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)hdrs, key, val)
    {
        h[k].name = key;
        h[k].value = json_string_value(val) ? json_string_value(val) : "";
        k++;
    }
    agc_secret *tok = NULL;
    char *auth = NULL;
    agc_status st = AGC_OK;
    if (tok_ref) {
        st = agc_secret_from_ref(&tok, tok_ref, ctx);
        size_t len = 0;
        const char *v = st == AGC_OK ? agc_secret_reveal(tok, &len) : NULL;
        if (st == AGC_OK && !(auth = agc_sprintf(ctx, "Bearer %.*s", (int)len, v)))
            st = AGC_ENOMEM;
        if (st == AGC_OK) {
            h[k].name = "Authorization";
            h[k].value = auth;
            k++;
        }
    }
    if (st == AGC_OK) {
        agc_mcp_http_client_opts o = AGC_MCP_HTTP_CLIENT_OPTS_INIT;
        o.url = agc_json_str(spec, "url", NULL);
        o.headers = h;
        o.nheaders = k;
        o.name = agc_json_str(spec, "name", NULL);
        o.max_message_bytes = (size_t)agc_json_int(spec, "max_message_bytes", 0);
        st = agc_mcp_http_client_open(out, &o, ctx);
    }
    if (auth) {
        agc_memzero(auth, strlen(auth));
        agc_free(ctx, auth);
    }
    agc_secret_free(tok);
    agc_free(ctx, h);
    return st;
}
