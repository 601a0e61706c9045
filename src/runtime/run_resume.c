/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Resuming a stored run: its steps are replayed into a fresh run (the
 * definition stored in run.started, the conversation, usage, the current
 * turn's calls with their results and decisions) without running anything
 * and without committing or emitting anything. A call that started and has
 * no result was interrupted: the next TOOLS step re-runs it when it is
 * read-only and otherwise asks a human first. Also agc_run_approve(), which
 * records a decision for a stored run from any process.
 */
#include "run_int.h"

#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"

static bool terminal_name(const char *s)
{
    return s && (strcmp(s, "finished") == 0 || strcmp(s, "failed") == 0 ||
                 strcmp(s, "canceled") == 0 || strcmp(s, "budget_exceeded") == 0);
}

static agc_status load(json_t **row, json_t **steps, agc_store *store, const char *run_id)
{
    agc_ctx *ctx = agc_store_ctx(store);
    *row = *steps = NULL;
    agc_status st = agc_store_run_get(store, run_id, row);
    if (st != AGC_OK)
        return st;
    if (terminal_name(agc_json_str(*row, "status", NULL)))
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT, "run %s is %s; there is nothing to resume",
                             run_id, agc_json_str(*row, "status", ""));
    return agc_store_steps_load(store, run_id, 0, steps);
}

static void drop(agc_ctx *ctx, json_t *a, json_t *b)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(a);
    json_decref(b);
    agc_json_leave(prev);
}

/* ---- replay ------------------------------------------------------------------------ */

static agc_status flush_calls(agc_run *run)
{
    if (run->a->n_calls == 0)
        return AGC_OK;
    agc_status st = agc__calls_to_conv(run);
    agc__calls_clear(run);
    run->a->last_had_calls = false;
    return st;
}

static agc_status set_output(agc_run *run, agc__call *c, const json_t *d)
{
    agc_free(run->ctx, c->output);
    c->output = agc_strdup(run->ctx, agc_json_str(d, "output", ""));
    c->is_error = !agc_json_bool(d, "ok", false);
    c->truncated = agc_json_bool(d, "truncated", false);
    c->state = AGC__CALL_DONE;
    c->started = false;
    c->requested = false;
    return c->output ? AGC_OK : AGC_ENOMEM;
}

static agc_status replay_response(agc_run *run, const json_t *d)
{
    agc_status st = flush_calls(run);
    agc_chat_response *resp = NULL;
    if (st == AGC_OK)
        st = agc_chat_response_from_json(&resp, json_object_get(d, "response"), run->ctx);
    if (st != AGC_OK)
        return st;
    agc__charge(run, &resp->usage, resp->cost_usd, resp->cost_known);
    run->stats.turns = agc_json_int(d, "turn", run->stats.turns + 1);
    agc__msg m = {.role = AGC_ROLE_ASSISTANT, .resp = resp};
    st = agc__conv_push(run, &m);
    if (st != AGC_OK) {
        agc_chat_response_free(resp);
        return st;
    }
    run->a->last_had_calls = resp->n_tool_calls > 0;
    agc_free(run->ctx, run->a->output);
    run->a->output = NULL;
    return resp->n_tool_calls ? agc__calls_from_response(run, resp) : AGC_OK;
}

static agc_status replay_step(agc_run *run, const json_t *step)
{
    const char *kind = agc_json_str(step, "kind", "");
    const json_t *d = json_object_get(step, "data");
    agc__call *c = agc__call_find(run, agc_json_str(d, "call_id", NULL));
    if (strcmp(kind, "model.response") == 0)
        return replay_response(run, d);
    if (strcmp(kind, "user.message") == 0) {
        agc_status st = flush_calls(run);
        return st == AGC_OK ? agc__conv_add_user(run, agc_json_str(d, "text", ""), NULL, false)
                            : st;
    }
    if (strcmp(kind, "run.paused") == 0) {
        run->a->paused_at_ms = agc_json_int(step, "time_ms", 0);
        return AGC_OK;
    }
    if (strcmp(kind, "run.finished") == 0) { /* a chat that continued after an answer */
        agc_free(run->ctx, run->a->output);
        run->a->output = NULL;
        return AGC_OK;
    }
    if (!c)
        return AGC_OK; /* run.started, run.resumed, steps of other strategies */
    if (strcmp(kind, "tool.call") == 0) {
        c->started = true;
        run->stats.tool_calls++;
        return AGC_OK;
    }
    if (strcmp(kind, "tool.result") == 0)
        return set_output(run, c, d);
    if (strcmp(kind, "approval.requested") == 0) {
        agc_free(run->ctx, c->reason);
        c->reason = agc_strdup(run->ctx, agc_json_str(d, "reason", "needs approval"));
        c->state = AGC__CALL_PENDING;
        c->requested = true;
        return c->reason ? AGC_OK : AGC_ENOMEM;
    }
    if (strcmp(kind, "approval.decided") == 0) {
        bool allow = strcmp(agc_json_str(d, "decision", ""), "approved") == 0;
        c->requested = false;
        if (!allow) { /* nothing is committed while replaying */
            const char *why = agc_json_str(d, "reason", NULL);
            char *text = agc_sprintf(run->ctx, "the user denied this call%s%s", why ? ": " : "",
                                     why ? why : "");
            agc_status st = text ? agc__call_refuse(run, c, "user", text) : AGC_ENOMEM;
            agc_free(run->ctx, text);
            return st;
        }
        c->state = AGC__CALL_ALLOWED;
        c->started = false;
        return agc_json_bool(d, "always", false) ? agc__always_add(run, c->name) : AGC_OK;
    }
    return AGC_OK;
}

static agc_status replay(agc_run *run, const json_t *steps)
{
    agc__active *a = run->a;
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < json_array_size(steps); i++)
        st = replay_step(run, json_array_get(steps, i));
    if (st != AGC_OK)
        return st;
    bool open = false;
    for (size_t i = 0; i < a->n_calls; i++) {
        agc__call *c = &a->calls[i];
        if (c->state != AGC__CALL_DONE && c->state != AGC__CALL_PENDING && c->started)
            c->state = AGC__CALL_NEW; /* interrupted: classified again (started stays set) */
        open |= c->state != AGC__CALL_DONE;
    }
    if (a->n_calls > 0)
        a->resume_phase = open ? AGC__PH_TOOLS : AGC__PH_OBSERVE;
    else if (a->n_msgs && a->msgs[a->n_msgs - 1].role == AGC_ROLE_ASSISTANT)
        a->resume_phase = AGC__PH_OBSERVE;
    else
        a->resume_phase = AGC__PH_MODEL;
    return AGC_OK;
}

agc_status agc_run_resume(agc_run **out, agc_store *store, const char *run_id,
                          const agc_run_opts *opts)
{
    *out = NULL;
    agc_ctx *ctx = agc_store_ctx(store);
    if (opts && opts->version != AGC_RUN_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                             "run options: unknown version %u; use AGC_RUN_OPTS_INIT",
                             opts->version);
    json_t *row = NULL, *steps = NULL;
    agc_status st = load(&row, &steps, store, run_id);
    const json_t *started = NULL;
    for (size_t i = 0; st == AGC_OK && i < json_array_size(steps) && !started; i++)
        if (strcmp(agc_json_str(json_array_get(steps, i), "kind", ""), "run.started") == 0)
            started = json_object_get(json_array_get(steps, i), "data");
    if (st == AGC_OK && !started)
        st = agc_error_set(ctx, AGC_EPARSE, AGC__RT,
                           "run %s has no run.started step; it cannot be resumed", run_id);
    agc_agent_def *def = NULL;
    if (st == AGC_OK)
        st = agc_agent_def_from_json(&def, json_object_get(started, "definition"), run_id, ctx);
    agc_run_opts ro = AGC_RUN_OPTS_INIT;
    if (opts)
        ro = *opts;
    ro.store = store;
    ro.run_id = run_id;
    agc_run *run = NULL;
    if (st == AGC_OK)
        st = agc_run_new(&run, def, agc_json_str(started, "task", ""), &ro, ctx);
    agc_agent_def_unref(def);
    if (st == AGC_OK)
        st = agc__run_active(run);
    if (st == AGC_OK) {
        const json_t *sum = json_object_get(row, "summary");
        run->elapsed_before_ms = agc_json_int(sum, "elapsed_ms", 0);
        run->resumed = true;
        const char *sys = agc_json_str(started, "system", NULL);
        if (sys && !(run->a->system = agc_strdup(ctx, sys)))
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK)
        st = agc__conv_add_user(run, run->task, NULL, false);
    if (st == AGC_OK) {
        /* replay without committing or emitting */
        agc_store *keep_store = run->opts.store;
        agc_event_bus *keep_bus = run->opts.events;
        run->opts.store = NULL;
        run->opts.events = NULL;
        st = replay(run, steps);
        run->opts.store = keep_store;
        run->opts.events = keep_bus;
        if (st == AGC_EPARSE || st == AGC_EINVAL)
            st = agc_error_wrap(ctx, AGC_EPARSE, AGC__RT, "run %s: its steps cannot be replayed",
                                run_id);
    }
    drop(ctx, row, steps);
    if (st != AGC_OK) {
        agc_run_free(run);
        return st;
    }
    *out = run;
    return AGC_OK;
}

agc_status agc_run_approve(agc_store *store, const char *run_id, const char *call_id, bool allow,
                           const char *reason)
{
    agc_ctx *ctx = agc_store_ctx(store);
    json_t *row = NULL, *steps = NULL;
    agc_status st = load(&row, &steps, store, run_id);
    bool pending = false;
    const char *tool = NULL;
    for (size_t i = 0; st == AGC_OK && call_id && i < json_array_size(steps); i++) {
        const json_t *s = json_array_get(steps, i);
        const json_t *d = json_object_get(s, "data");
        if (strcmp(agc_json_str(d, "call_id", ""), call_id) != 0)
            continue;
        const char *kind = agc_json_str(s, "kind", "");
        if (strcmp(kind, "approval.requested") == 0) {
            pending = true;
            tool = agc_json_str(d, "tool", "");
        } else if (strcmp(kind, "approval.decided") == 0 || strcmp(kind, "tool.result") == 0) {
            pending = false;
        }
    }
    if (st == AGC_OK && !pending)
        st = agc_error_set(ctx, AGC_ENOTFOUND, AGC__RT,
                           "tool call '%s' of run %s is not waiting for approval",
                           call_id ? call_id : "(null)", run_id);
    if (st == AGC_OK) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_t *d =
            json_pack("{s:s, s:s, s:s, s:o, s:s, s:b}", "call_id", call_id, "tool", tool,
                      "decision", allow ? "approved" : "denied", "reason",
                      reason ? json_string(reason) : json_null(), "by", "user", "always", false);
        agc_json_leave(prev);
        st = d ? agc_store_step_append(store, run_id, "approval.decided", d, NULL) : AGC_ENOMEM;
        drop(ctx, d, NULL);
    }
    drop(ctx, row, steps);
    return st;
}
