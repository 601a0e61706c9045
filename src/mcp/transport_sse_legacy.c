/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The legacy MCP HTTP+SSE transport (protocol 2024-11-05), client side, as a
 * mode of the HTTP client transport: GET the SSE URL, wait for the
 * `endpoint` event (a URL of the same origin), then POST every message
 * there; all answers and server messages arrive on the GET stream as
 * `message` events. Used when asked to, or as the fallback when the first
 * POST of Streamable HTTP gets a 4xx (the spec's backwards-compatibility
 * rule). Invariant: messages sent before the endpoint is known wait in order.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "transport_http_client_int.h"

#define MOD AGC__MCP_MOD

/* Length of "scheme://host:port" in url. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

char *agc_mcp__url_resolve(hcli *h, const char *base, const char *ref)
{
    size_t ol = origin_len(base);
    if (strstr(ref, "://")) {
        size_t rl = origin_len(ref);
        if (rl != ol || strncmp(ref, base, ol) != 0) {
            agc_error_set(h->ctx, AGC_EPROTO, MOD,
                          "MCP server '%s' gave a legacy endpoint on another origin; refused",
                          h->name);
            return NULL;
        }
        return agc_strdup(h->ctx, ref);
    }
    if (ref[0] == '/')
        return agc_sprintf(h->ctx, "%.*s%s", (int)ol, base, ref);
    /* relative: replace the last path segment of base */
    size_t path_end = ol + strcspn(base + ol, "?#");
    size_t cut = path_end;
    while (cut > ol && base[cut - 1] != '/')
        cut--;
    if (cut == ol)
        return agc_sprintf(h->ctx, "%.*s/%s", (int)ol, base, ref);
    return agc_sprintf(h->ctx, "%.*s%s", (int)cut, base, ref);
}

agc_status agc_mcp__legacy_start(hcli *h)
{
    h->legacy = true;
    hstream *s = agc_mcp__hs_new(h, HS_LEGACY);
    if (!s)
        return agc_error_set(h->ctx, AGC_ENOMEM, MOD, "out of memory");
    agc_status st = agc_mcp__hs_start(s, "GET", h->url, NULL, 0);
    if (st != AGC_OK)
        agc_mcp__hs_free(s);
    return st;
}

static agc_status post(hcli *h, const char *msg, size_t len, const json_t *id, const char *method)
{
    hstream *s = agc_mcp__hs_new(h, HS_POST);
    if (!s)
        return agc_error_set(h->ctx, AGC_ENOMEM, MOD, "out of memory");
    /* answers come on the GET stream: the POST itself awaits nothing, but an HTTP
     * error on it fails the request it carried */
    s->method = method ? agc_strdup(h->ctx, method) : NULL;
    s->req_id = id ? json_incref((json_t *)id) : NULL;
    s->answered = true;
    agc_status st = agc_mcp__hs_start(s, "POST", h->endpoint, msg, len);
    if (st != AGC_OK)
        agc_mcp__hs_free(s);
    return st;
}

agc_status agc_mcp__legacy_send(hcli *h, const char *msg, size_t len, const json_t *id,
                                const char *method)
{
    if (!h->endpoint)
        return agc_mcp__h_queue(h, &h->out_head, &h->out_tail, msg, len);
    return post(h, msg, len, id, method);
}

static agc_status flush_waiting(hcli *h)
{
    while (h->out_head) {
        hmsg *m = h->out_head;
        agc_ctx *prev = agc_json_enter(h->ctx);
        json_t *j = json_loadb(m->text, m->len, 0, NULL);
        agc_json_leave(prev);
        const char *method = agc_json_str(j, "method", NULL);
        const json_t *id = json_object_get(j, "id");
        agc_status st = post(h, m->text, m->len, method && id ? id : NULL, method);
        json_decref(j);
        if (st != AGC_OK)
            return st;
        h->out_head = m->next;
        if (!h->out_head)
            h->out_tail = NULL;
        agc_free(h->ctx, m->text);
        agc_free(h->ctx, m);
    }
    return AGC_OK;
}

agc_status agc_mcp__legacy_event(hcli *h, const agc_sse_event *ev)
{
    if (strcmp(ev->type, "endpoint") == 0) {
        char *ref = agc_strndup(h->ctx, ev->data, ev->data_len);
        char *url = ref ? agc_mcp__url_resolve(h, h->url, ref) : NULL;
        agc_free(h->ctx, ref);
        if (!url) {
            agc_mcp__h_kill(h, "%s", agc_ctx_errmsg(h->ctx));
            return AGC_OK;
        }
        bool first = !h->endpoint;
        agc_free(h->ctx, h->endpoint);
        h->endpoint = url;
        agc_log(h->ctx, AGC_LOG_DEBUG, MOD, "MCP server '%s' (legacy HTTP+SSE): endpoint received",
                h->name);
        if (first && h->init_text && !h->out_head) {
            agc_status st =
                agc_mcp__h_queue(h, &h->out_head, &h->out_tail, h->init_text, strlen(h->init_text));
            if (st != AGC_OK)
                return st;
        }
        agc_status st = flush_waiting(h);
        if (st != AGC_OK)
            agc_mcp__h_kill(h, "MCP server '%s': cannot POST to the legacy endpoint: %s", h->name,
                            agc_ctx_errmsg(h->ctx));
        return AGC_OK;
    }
    if (strcmp(ev->type, "message") == 0 && ev->data_len)
        agc_mcp__h_incoming(h, NULL, ev->data, ev->data_len);
    return AGC_OK;
}

void agc_mcp__legacy_ended(hcli *h, hstream *s, const agc_http_result *res)
{
    (void)s;
    if (res->http_status >= 300 || res->http_status == 0) {
        char fb[320] = "";
        if (h->fallback_why[0])
            snprintf(fb, sizeof fb, "Streamable HTTP: %s; ", h->fallback_why);
        if (res->http_status)
            agc_mcp__h_kill(h,
                            "MCP server '%s' speaks neither Streamable HTTP nor the legacy "
                            "HTTP+SSE transport (%slegacy GET answered HTTP %d)",
                            h->name, fb, res->http_status);
        else
            agc_mcp__h_kill(h, "cannot reach MCP server '%s' (%slegacy GET): %s", h->name, fb,
                            res->message);
        return;
    }
    agc_mcp__h_kill(h, "MCP server '%s' closed its legacy SSE stream%s%s", h->name,
                    res->message[0] ? ": " : "", res->message);
}
