/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Approvals: which tool calls run, which are refused, and which wait for a
 * human. The definition's approval (approvals.tools > tools entry >
 * approvals.default > the tool's own) says always / ask / never; for "ask"
 * the mode (run options, else approvals.mode) decides: ask the approver or
 * pause, deny, allow reads, allow all. A call interrupted by a crash that is
 * not read-only always goes to a human. Invariant: every request and every
 * decision is committed as a step before the call runs or is refused.
 */
#include "run_int.h"

#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"

static const char *const decision_names[] = {"defer", "allow_once", "allow_always", "deny"};

const char *agc_approval_decision_name(agc_approval_decision d)
{
    return (unsigned)d < 4 ? decision_names[d] : "defer";
}

bool agc__always_has(agc_run *run, const char *tool)
{
    for (size_t i = 0; i < run->a->n_always; i++)
        if (strcmp(run->a->always[i], tool) == 0)
            return true;
    return false;
}

agc_status agc__always_add(agc_run *run, const char *tool)
{
    agc__active *a = run->a;
    if (agc__always_has(run, tool))
        return AGC_OK;
    char **n = agc_realloc(run->ctx, a->always, (a->n_always + 1) * sizeof *n);
    if (!n)
        return AGC_ENOMEM;
    a->always = n;
    if (!(n[a->n_always] = agc_strdup(run->ctx, tool)))
        return AGC_ENOMEM;
    a->n_always++;
    return AGC_OK;
}

/* Whether c's arguments pass its schema (compiled once per run); invalid calls
 * are not shown to a human: the registry refuses them without running them. */
static bool args_valid(agc_run *run, agc__call *c)
{
    agc__active *a = run->a;
    for (size_t i = 0; i < a->n_tooldefs; i++) {
        if (strcmp(a->tooldefs[i].name, c->name) != 0)
            continue;
        if (!a->validators[i] && agc_schema_compile(&a->validators[i], a->tooldefs[i].parameters,
                                                    NULL, run->ctx) != AGC_OK)
            return true; /* let the registry judge */
        return agc_schema_validate(NULL, a->validators[i], c->args, run->ctx) != AGC_ESCHEMA;
    }
    return true;
}

static agc_approve_mode effective_mode(agc_run *run)
{
    return run->opts.approve != AGC_APPROVE_MODE_DEFAULT ? run->opts.approve
                                                         : agc_agent_def_approve_mode(run->def);
}

static agc_status request(agc_run *run, agc__call *c, const char *reason)
{
    agc_free(run->ctx, c->reason);
    if (!(c->reason = agc_strdup(run->ctx, reason)))
        return AGC_ENOMEM;
    c->state = AGC__CALL_PENDING;
    c->requested = true;
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *step = json_pack("{s:s, s:s, s:O, s:s, s:s, s:b}", "call_id", c->id, "tool", c->name,
                             "arguments", c->args, "reason", reason, "effect",
                             agc_tool_effect_name(c->effect), "interrupted", c->started);
    json_t *ev = json_pack("{s:s, s:s, s:O, s:s}", "call_id", c->id, "tool", c->name, "arguments",
                           c->args, "reason", reason);
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "approval.requested", step);
    agc__run_emit(run, AGC_EVENT_APPROVAL_REQUESTED, ev);
    return st;
}

static agc_status ask_approver(agc_run *run, agc__call *c)
{
    agc_approval_request req = {run->id, c->id,     c->name,  c->arguments,
                                c->args, c->effect, c->reason};
    char reason[AGC_APPROVAL_REASON_MAX] = "";
    agc_approval_decision d =
        run->opts.approver(&req, reason, sizeof reason, run->opts.approver_user);
    reason[sizeof reason - 1] = '\0';
    if (d == AGC_APPROVAL_DEFER || (unsigned)d > AGC_APPROVAL_DENY)
        return AGC_OK;
    return agc__approval_apply(run, c, d, reason[0] ? reason : NULL, "user", true);
}

agc_status agc__approval_classify(agc_run *run, agc__call *c)
{
    char msg[512];
    if (c->state == AGC__CALL_NEW) {
        if (!c->tool || !c->args)
            return AGC_OK; /* resolve() refused it */
        if (c->started) {
            /* interrupted by a crash: read-only calls run again, others need a human */
            if (c->effect == AGC_TOOL_EFFECT_READ) {
                c->state = AGC__CALL_ALLOWED;
                return AGC_OK;
            }
            snprintf(msg, sizeof msg,
                     "interrupted: %s (effect %s) started but did not finish; run it again?",
                     c->name, agc_tool_effect_name(c->effect));
            agc_status st = request(run, c, msg);
            if (st == AGC_OK && run->opts.approver)
                st = ask_approver(run, c);
            return st;
        }
        agc_tool_approval ap =
            agc_agent_def_approval(run->def, c->name, agc_tool_get_approval(c->tool));
        if (ap == AGC_TOOL_APPROVE_NEVER) {
            snprintf(msg, sizeof msg, "tool '%s' is not allowed by this agent's approval policy",
                     c->name);
            return agc__call_refuse(run, c, "policy", msg);
        }
        if (ap == AGC_TOOL_APPROVE_ALWAYS || agc__always_has(run, c->name) || !args_valid(run, c)) {
            c->state = AGC__CALL_ALLOWED;
            return AGC_OK;
        }
        switch (effective_mode(run)) {
        case AGC_APPROVE_MODE_ALL:
            c->state = AGC__CALL_ALLOWED;
            return AGC_OK;
        case AGC_APPROVE_MODE_READS:
            if (c->effect == AGC_TOOL_EFFECT_READ) {
                c->state = AGC__CALL_ALLOWED;
                return AGC_OK;
            }
            snprintf(msg, sizeof msg,
                     "tool '%s' (effect %s) needs approval and only read-only tools are "
                     "allowed in this run",
                     c->name, agc_tool_effect_name(c->effect));
            return agc__call_refuse(run, c, "policy", msg);
        case AGC_APPROVE_MODE_DENY:
            snprintf(msg, sizeof msg,
                     "tool '%s' needs approval and approvals are denied in this run", c->name);
            return agc__call_refuse(run, c, "policy", msg);
        default:
            break;
        }
        snprintf(msg, sizeof msg, "%s needs approval (effect %s)", c->name,
                 agc_tool_effect_name(c->effect));
        agc_status st = request(run, c, msg);
        if (st != AGC_OK)
            return st;
    }
    if (c->state == AGC__CALL_PENDING && run->opts.approver)
        return ask_approver(run, c);
    return AGC_OK;
}

agc_status agc__approval_apply(agc_run *run, agc__call *c, agc_approval_decision d,
                               const char *reason, const char *by, bool commit)
{
    bool allow = d == AGC_APPROVAL_ALLOW_ONCE || d == AGC_APPROVAL_ALLOW_ALWAYS;
    const char *decision = allow ? "approved" : "denied";
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *step = commit ? json_pack("{s:s, s:s, s:s, s:o, s:s, s:b}", "call_id", c->id, "tool",
                                      c->name, "decision", decision, "reason",
                                      reason ? json_string(reason) : json_null(), "by", by,
                                      "always", d == AGC_APPROVAL_ALLOW_ALWAYS)
                          : NULL;
    json_t *ev =
        json_pack("{s:s, s:s, s:s, s:o, s:s}", "call_id", c->id, "tool", c->name, "decision",
                  decision, "reason", reason ? json_string(reason) : json_null(), "by", by);
    agc_json_leave(prev);
    agc_status st = commit ? agc__run_commit(run, "approval.decided", step) : AGC_OK;
    agc__run_emit(run, AGC_EVENT_APPROVAL_DECIDED, ev);
    if (st != AGC_OK)
        return st;
    c->requested = false;
    if (d == AGC_APPROVAL_ALLOW_ALWAYS)
        st = agc__always_add(run, c->name);
    if (allow) {
        c->state = AGC__CALL_ALLOWED;
        c->started = false;
        return st;
    }
    char text[AGC_APPROVAL_REASON_MAX + 64];
    snprintf(text, sizeof text, "the user denied this call%s%s", reason ? ": " : "",
             reason ? reason : "");
    return agc__call_refuse(run, c, "user", text);
}

agc_status agc__pending_rebuild(agc_run *run)
{
    agc__active *a = run->a;
    agc_free(run->ctx, a->pending);
    a->pending = NULL;
    a->n_pending = 0;
    size_t n = 0;
    for (size_t i = 0; i < a->n_calls; i++)
        n += a->calls[i].state == AGC__CALL_PENDING;
    if (n == 0)
        return AGC_OK;
    a->pending = agc_calloc(run->ctx, n, sizeof *a->pending);
    if (!a->pending)
        return AGC_ENOMEM;
    for (size_t i = 0; i < a->n_calls; i++) {
        agc__call *c = &a->calls[i];
        if (c->state == AGC__CALL_PENDING)
            a->pending[a->n_pending++] = (agc_approval_request){
                run->id, c->id, c->name, c->arguments, c->args, c->effect, c->reason};
    }
    return AGC_OK;
}

agc_status agc_run_decide(agc_run *run, const char *call_id, agc_approval_decision decision,
                          const char *reason)
{
    agc__call *c = agc__call_find(run, call_id);
    if (!c || c->state != AGC__CALL_PENDING)
        return agc_error_set(run->ctx, AGC_ENOTFOUND, AGC__RT,
                             "no tool call '%s' is waiting for approval in run %s",
                             call_id ? call_id : "(null)", run->id);
    if (decision == AGC_APPROVAL_DEFER || (unsigned)decision > AGC_APPROVAL_DENY)
        return agc_error_set(run->ctx, AGC_EINVAL, AGC__RT,
                             "decide allow_once, allow_always or deny");
    agc_status st = agc__approval_apply(run, c, decision, reason, "user", true);
    if (st == AGC_OK)
        st = agc__pending_rebuild(run);
    if (st == AGC_OK && run->a->n_pending == 0 && run->status == AGC_RUN_AWAITING_APPROVAL) {
        run->status = AGC_RUN_RUNNING;
        run->a->active_since_ns = agc_clock_monotonic_ns(run->ctx);
        st = agc__run_update_row(run, "running");
    }
    return st;
}

agc_status agc__approval_announce(agc_run *run)
{
    agc__active *a = run->a;
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && a && i < a->n_calls; i++) {
        agc__call *c = &a->calls[i];
        if (!c->announce)
            continue;
        c->announce = false;
        /* the approval.decided step is stored already: events, always-list,
         * and for a denial the tool.result, exactly as a live decision */
        st = agc__approval_apply(run, c, c->announce_decision, c->announce_reason, "user", false);
        agc_free(run->ctx, c->announce_reason);
        c->announce_reason = NULL;
    }
    return st;
}
