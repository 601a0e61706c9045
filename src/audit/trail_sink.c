/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The audit event sink: maps runtime events (run, model, tool, approval) to
 * audit records so that adding the sink to a bus records a run. Invariant:
 * content (run input, tool arguments and output) is kept only when asked;
 * otherwise its SHA-256 and length stand in for it. It does not buffer: the
 * trail's durability mode decides when records reach the disk.
 */
#include <string.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "audit/audit_int.h"

typedef struct audit_sink {
    agc_audit *a;
    char *actor;
    char *subject;
    bool include_content;
    json_t *fields; /* per-field policies, or NULL */
} audit_sink;

/* Replaces member key of o by {"sha256": hex, "bytes": n} of its canonical text. */
static int digest_member(json_t *o, const char *key, agc_ctx *ctx)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (json_is_string(v)) {
        len = json_string_length(v);
    } else if (agc_json_canonical(&text, &len, v, ctx) != AGC_OK) {
        return -1;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)(text ? text : json_string_value(v)), len);
    agc_free(ctx, text);
    char hex[AGC_AUDIT_HEX_SIZE];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return json_object_set_new(o, key,
                               json_pack("{sssI}", "sha256", hex, "bytes", (json_int_t)len));
}

/* The record's action and outcome for an event; false for events not audited. */
static bool map_event(const agc_event *ev, const char **action, const char **outcome)
{
    const json_t *d = ev->data;
    const char *s;
    switch (ev->type) {
    case AGC_EVENT_RUN_STARTED:
        *action = "run.started";
        *outcome = "ok";
        return true;
    case AGC_EVENT_RUN_FINISHED:
        *action = "run.finished";
        s = agc_json_str(d, "status", "unknown");
        *outcome = strcmp(s, "completed") == 0 ? "ok" : strcmp(s, "failed") == 0 ? "error" : s;
        return true;
    case AGC_EVENT_MODEL_RESPONSE:
        *action = "model.call";
        *outcome = strcmp(agc_json_str(d, "finish_reason", ""), "error") == 0 ? "error" : "ok";
        return true;
    case AGC_EVENT_TOOL_CALL:
        *action = "tool.call";
        *outcome = "ok";
        return true;
    case AGC_EVENT_TOOL_RESULT:
        *action = "tool.result";
        *outcome = agc_json_bool(d, "ok", false) ? "ok" : "error";
        return true;
    case AGC_EVENT_TOOL_DENIED:
        s = agc_json_str(d, "by", "");
        *action = strcmp(s, "policy") == 0    ? "policy.denied"
                  : strcmp(s, "sandbox") == 0 ? "sandbox.violation"
                                              : "tool.denied";
        *outcome = "denied";
        return true;
    case AGC_EVENT_APPROVAL_DECIDED:
        *action = "approval.decided";
        s = agc_json_str(d, "decision", "unknown");
        *outcome = strcmp(s, "approved") == 0 ? "ok" : strcmp(s, "denied") == 0 ? "denied" : s;
        return true;
    case AGC_EVENT_CUSTOM:
        /* MCP sessions and server-initiated requests, sandbox violations */
        if (!ev->name)
            return false;
        if (strcmp(ev->name, "mcp.server_connected") == 0) {
            *action = ev->name;
            *outcome = "ok";
            return true;
        }
        if (strcmp(ev->name, "mcp.server_failed") == 0) {
            *action = ev->name;
            *outcome = "error";
            return true;
        }
        if (strcmp(ev->name, "mcp.sampling") == 0 || strcmp(ev->name, "mcp.elicitation") == 0) {
            *action = ev->name;
            s = agc_json_str(d, "decision", agc_json_str(d, "action", "unknown"));
            *outcome = strcmp(s, "allowed") == 0 || strcmp(s, "accept") == 0   ? "ok"
                       : strcmp(s, "denied") == 0 || strcmp(s, "decline") == 0 ? "denied"
                                                                               : s;
            return true;
        }
        if (strcmp(ev->name, "sandbox.violation") == 0) {
            *action = ev->name;
            *outcome = "denied";
            return true;
        }
        return false;
    default:
        return false;
    }
}

static agc_status sink_emit(void *self, const agc_event *ev)
{
    audit_sink *s = self;
    agc_ctx *ctx = s->a->ctx;
    const char *action = NULL, *outcome = NULL;
    if (!map_event(ev, &action, &outcome))
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *payload = ev->data ? json_deep_copy(ev->data) : json_object();
    int rc = payload ? 0 : -1;
    if (rc == 0 && !s->include_content) {
        rc |= digest_member(payload, "input", ctx);
        rc |= digest_member(payload, "arguments", ctx);
        rc |= digest_member(payload, "output", ctx);
    }
    agc_json_leave(prev);
    if (rc == 0 && s->fields && agc_privacy_apply_fields(payload, s->fields, ctx) != AGC_OK)
        rc = -1;
    prev = agc_json_enter(ctx);
    if (rc == 0 && ev->agent)
        rc |= json_object_set_new(payload, "agent", json_string(ev->agent));
    if (rc == 0)
        rc |= json_object_set_new(payload, "event_seq", json_integer((json_int_t)ev->seq));
    agc_json_leave(prev);
    agc_status st = AGC_OK;
    if (rc != 0)
        st =
            agc_error_set(ctx, AGC_ENOMEM, "audit", "out of memory recording a %s event", ev->name);
    char *actor = NULL;
    if (st == AGC_OK) {
        if (ev->type == AGC_EVENT_APPROVAL_DECIDED && agc_json_str(ev->data, "by", NULL))
            actor = agc_sprintf(ctx, "%s", agc_json_str(ev->data, "by", NULL));
        else if (ev->agent)
            actor = agc_sprintf(ctx, "agent:%s", ev->agent);
        else
            actor = agc_strdup(ctx, s->actor ? s->actor : "agentc");
        if (!actor)
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK) {
        agc_audit_entry e = {
            .actor = actor,
            .run_id = ev->run_id,
            .subject = s->subject,
            .action = action,
            .outcome = outcome,
            .payload = payload,
        };
        st = agc_audit_append(s->a, &e, NULL);
    }
    agc_free(ctx, actor);
    prev = agc_json_enter(ctx);
    json_decref(payload);
    agc_json_leave(prev);
    return st;
}

static agc_status sink_flush(void *self)
{
    audit_sink *s = self;
    return agc_audit_flush(s->a);
}

static void sink_destroy(void *self)
{
    audit_sink *s = self;
    if (!s)
        return;
    agc_ctx *ctx = s->a->ctx;
    agc_free(ctx, s->actor);
    agc_free(ctx, s->subject);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(s->fields);
    agc_json_leave(prev);
    agc_free(ctx, s);
}

static const agc_event_sink_ops AUDIT_SINK_OPS = {
    .version = AGC_EVENT_SINK_OPS_VERSION,
    .emit = sink_emit,
    .flush = sink_flush,
    .destroy = sink_destroy,
};

agc_status agc_audit_sink_new(agc_event_sink **out, agc_audit *a, const agc_audit_sink_opts *opts)
{
    *out = NULL;
    agc_ctx *ctx = a->ctx;
    agc_audit_sink_opts dflt = AGC_AUDIT_SINK_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_AUDIT_SINK_OPTS_VERSION && opts->version != 1)
        return agc_error_set(ctx, AGC_EINVAL, "audit",
                             "agc_audit_sink_opts version %u is not supported (%d)", opts->version,
                             AGC_AUDIT_SINK_OPTS_VERSION);
    audit_sink *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->a = a;
    s->include_content = opts->include_content;
    if (opts->actor)
        s->actor = agc_strdup(ctx, opts->actor);
    if (opts->subject)
        s->subject = agc_strdup(ctx, opts->subject);
    if (opts->version >= 2 && opts->fields) {
        agc_field_policy fp;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)opts->fields, k, v)
        {
            if (!agc_field_policy_parse(&fp, json_string_value(v))) {
                sink_destroy(s);
                return agc_error_set(ctx, AGC_EINVAL, "audit",
                                     "field policy for %s must be keep, redact, hash or drop", k);
            }
        }
        agc_ctx *prev = agc_json_enter(ctx);
        s->fields = json_deep_copy(opts->fields);
        agc_json_leave(prev);
        if (!s->fields) {
            sink_destroy(s);
            return AGC_ENOMEM;
        }
    }
    if ((opts->actor && !s->actor) || (opts->subject && !s->subject)) {
        sink_destroy(s);
        return AGC_ENOMEM;
    }
    agc_status st = agc_event_sink_new(out, &AUDIT_SINK_OPS, s, ctx);
    if (st != AGC_OK)
        sink_destroy(s);
    return st;
}
