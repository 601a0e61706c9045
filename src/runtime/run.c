/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The run state machine: creation (cheap, nothing opened), the step driver,
 * prepare (provider, tools, instructions, run row), the native strategy
 * (model call -> tool calls -> observe -> model call ...), finishing and
 * cancellation. Invariant: every state change the outside world could see
 * is committed as a step before the next action (see docs/runtime.md).
 * Tool dispatch lives in run_tools.c, approvals in approval.c, resume in
 * run_resume.c.
 */
#include "run_int.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"

static const char *const status_names[] = {"created", "running",  "awaiting_approval", "finished",
                                           "failed",  "canceled", "budget_exceeded"};

const char *agc_run_status_name(agc_run_status s)
{
    return (unsigned)s < sizeof status_names / sizeof *status_names ? status_names[s] : "unknown";
}

bool agc_run_status_terminal(agc_run_status s)
{
    return s == AGC_RUN_FINISHED || s == AGC_RUN_FAILED || s == AGC_RUN_CANCELED ||
           s == AGC_RUN_BUDGET_EXCEEDED;
}

void agc_run_opts_init(agc_run_opts *opts)
{
    *opts = (agc_run_opts)AGC_RUN_OPTS_INIT;
}

/* ---- creation ------------------------------------------------------------------ */

agc_status agc__run_opts_copy(agc_run_opts *dst, const agc_run_opts *opts, agc_ctx *ctx)
{
    agc_run_opts_init(dst);
    if (!opts)
        return AGC_OK;
    if (opts->version == AGC_RUN_OPTS_VERSION) {
        *dst = *opts;
    } else if (opts->version == 1) { /* every field before model */
        memcpy(dst, opts, offsetof(agc_run_opts, model));
        dst->version = AGC_RUN_OPTS_VERSION;
        dst->model = NULL;
    } else {
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                             "run options: unknown version %u; use AGC_RUN_OPTS_INIT",
                             opts->version);
    }
    if (dst->model && !*dst->model)
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                             "run options: model is empty; give a model name or NULL");
    return AGC_OK;
}

agc_status agc_run_new(agc_run **out, agc_agent_def *def, const char *task,
                       const agc_run_opts *opts_in, agc_ctx *ctx)
{
    *out = NULL;
    agc_run_opts copy;
    agc_status cst = agc__run_opts_copy(&copy, opts_in, ctx);
    if (cst != AGC_OK)
        return cst;
    const agc_run_opts *opts = &copy;
    if (!def || !task)
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT, "a run needs a definition and a task");
    if (opts && opts->run_id && (strlen(opts->run_id) >= AGC_ID_TYPED_SIZE || !*opts->run_id))
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT, "run id '%s' is too long or empty",
                             opts->run_id);
    const agc__strategy *strat = agc__strategy_find(agc_agent_def_strategy(def));
    if (!strat)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, AGC__RT,
                             "strategy '%s' is not available in this build; use native, "
                             "plan_execute, react or pipeline",
                             agc_agent_def_strategy(def));
    agc_run *r = agc_calloc(ctx, 1, sizeof *r);
    if (!r)
        return AGC_ENOMEM;
    r->task = agc_strdup(ctx, task);
    r->model = opts->model ? agc_strdup(ctx, opts->model) : NULL;
    if (!r->task || (opts->model && !r->model)) {
        agc_free(ctx, r->task);
        agc_free(ctx, r->model);
        agc_free(ctx, r);
        return AGC_ENOMEM;
    }
    r->ctx = ctx;
    r->def = agc_agent_def_ref(def);
    r->opts = *opts;
    r->opts.model = NULL; /* r->model */
    r->budgets = r->opts.budgets ? *r->opts.budgets : *agc_agent_def_budgets(def);
    r->opts.budgets = NULL;
    if (r->opts.run_id)
        memcpy(r->id, r->opts.run_id, strlen(r->opts.run_id) + 1);
    r->opts.run_id = NULL;
    r->strategy = strat;
    r->stats.cost_known = true;
    atomic_init(&r->cancel, false);
    atomic_init(&r->live_provider, NULL);
    atomic_init(&r->live_child, NULL);
    atomic_init(&r->cancel_busy, 0);
    *out = r;
    return AGC_OK;
}

static void active_free(agc_run *run)
{
    agc__active *a = run->a;
    if (!a)
        return;
    agc_ctx *ctx = run->ctx;
    agc__calls_clear(run);
    agc__conv_free(run);
    for (size_t i = 0; i < a->n_tooldefs; i++)
        if (a->validators)
            agc_schema_free(a->validators[i], ctx);
    agc_free(ctx, a->validators);
    agc_free(ctx, a->tooldefs);
    for (size_t i = 0; i < a->n_always; i++)
        agc_free(ctx, a->always[i]);
    agc_free(ctx, a->always);
    agc_free(ctx, a->pending);
    agc_free(ctx, a->system);
    agc_free(ctx, a->output);
    agc_free(ctx, a->ws_root);
    agc_free(ctx, a->replay_handoff_tool);
    agc_free(ctx, a->replay_handoff_note);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(a->output_json);
    agc_json_leave(prev);
    atomic_store(&run->live_provider, NULL);
    if (a->own_provider)
        agc_provider_close(a->provider);
    if (a->own_reg)
        agc_tool_registry_free(a->reg);
    if (a->own_ws)
        agc_workspace_close(a->ws);
    agc_free(ctx, a);
    run->a = NULL;
}

void agc_run_free(agc_run *run)
{
    if (!run)
        return;
    if (run->strategy && run->strategy->destroy)
        run->strategy->destroy(run);
    agc__multi_free(run);
    active_free(run);
    agc_free(run->ctx, run->reason);
    agc_free(run->ctx, run->task);
    agc_free(run->ctx, run->model);
    agc_agent_def_unref(run->def);
    agc_free(run->ctx, run);
}

/* ---- small accessors ----------------------------------------------------------- */

agc_run_status agc_run_status_get(const agc_run *run)
{
    return run->status;
}
const char *agc_run_id(const agc_run *run)
{
    return run->id;
}
agc_agent_def *agc_run_def(const agc_run *run)
{
    return run->def;
}
const char *agc__run_model(const agc_run *run)
{
    return run->model ? run->model : agc_agent_def_model(run->def);
}
const char *agc_run_model(const agc_run *run)
{
    return agc__run_model(run);
}

agc_status agc__run_model_set(agc_run *run, const char *model)
{
    char *m = model ? agc_strdup(run->ctx, model) : NULL;
    if (model && !m)
        return AGC_ENOMEM;
    agc_free(run->ctx, run->model);
    run->model = m;
    return AGC_OK;
}

agc_status agc_run_set_model(agc_run *run, const char *model)
{
    if (model && !*model)
        return agc_error_set(run->ctx, AGC_EINVAL, AGC__RT,
                             "the model name is empty; give a name, or NULL for the agent's");
    if (agc_run_status_terminal(run->status) && run->status != AGC_RUN_FINISHED)
        return agc_error_set(run->ctx, AGC_EINVAL, AGC__RT, "run %s is %s; its model cannot change",
                             run->id, agc_run_status_name(run->status));
    if (run->a && run->phase != AGC__PH_PREPARE && run->id[0]) {
        agc_ctx *prev = agc_json_enter(run->ctx);
        json_t *d = json_pack("{s:o}", "model", model ? json_string(model) : json_null());
        agc_json_leave(prev);
        agc_status st = agc__run_commit(run, "model.changed", d);
        if (st != AGC_OK)
            return st;
    }
    return agc__run_model_set(run, model);
}

const char *agc_run_reason(const agc_run *run)
{
    return run->reason;
}
const char *agc_run_output(const agc_run *run)
{
    return run->a ? run->a->output : NULL;
}
const json_t *agc_run_output_json(const agc_run *run)
{
    return run->a ? run->a->output_json : NULL;
}

const char *agc_run_phase(const agc_run *run)
{
    if (run->status == AGC_RUN_AWAITING_APPROVAL)
        return "paused";
    static const char *const names[] = {"prepare", "model", "tools", "observe", "done"};
    return names[run->phase];
}

int64_t agc__run_elapsed_ms(agc_run *run)
{
    int64_t ms = run->elapsed_before_ms;
    if (run->a && run->a->active_since_ns)
        ms += (agc_clock_monotonic_ns(run->ctx) - run->a->active_since_ns) / 1000000;
    return ms;
}

void agc_run_get_stats(const agc_run *run, agc_run_stats *out)
{
    *out = run->stats;
    out->elapsed_ms = agc__run_elapsed_ms((agc_run *)run);
}

size_t agc_run_pending_count(const agc_run *run)
{
    return run->a ? run->a->n_pending : 0;
}

const agc_approval_request *agc_run_pending_at(const agc_run *run, size_t i)
{
    return run->a && i < run->a->n_pending ? &run->a->pending[i] : NULL;
}

void agc_run_cancel(agc_run *run)
{
    if (!run)
        return;
    atomic_store(&run->cancel, true);
    agc_provider *p = atomic_load(&run->live_provider);
    if (p)
        agc_provider_cancel(p);
    /* the runner of a sub-run waits for cancel_busy to drop before freeing it */
    atomic_fetch_add(&run->cancel_busy, 1);
    agc_run *child = atomic_load(&run->live_child);
    if (child)
        agc_run_cancel(child);
    atomic_fetch_sub(&run->cancel_busy, 1);
}

/* ---- persistence and events ------------------------------------------------------ */

agc_status agc__run_commit(agc_run *run, const char *kind, json_t *data)
{
    agc_status st = AGC_OK;
    if (!data)
        st = agc_error_set(run->ctx, AGC_ENOMEM, AGC__RT, "out of memory building a %s step", kind);
    else if (run->opts.store)
        st = agc_store_step_append(run->opts.store, run->id, kind, data, NULL);
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_decref(data);
    agc_json_leave(prev);
    return st;
}

void agc__run_emit(agc_run *run, agc_event_type type, json_t *data)
{
    if (run->opts.events && data)
        (void)agc_event_emitx(run->opts.events, type, NULL, run->id[0] ? run->id : NULL,
                              agc_agent_def_name(run->def), data);
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_decref(data);
    agc_json_leave(prev);
}

void agc__run_emit_custom(agc_run *run, const char *name, json_t *data)
{
    if (run->opts.events && data)
        (void)agc_event_emitx(run->opts.events, AGC_EVENT_CUSTOM, name, run->id[0] ? run->id : NULL,
                              agc_agent_def_name(run->def), data);
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_decref(data);
    agc_json_leave(prev);
}

json_t *agc__usage_json(const agc_usage *u)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "input_tokens", (json_int_t)u->input_tokens,
                     "output_tokens", (json_int_t)u->output_tokens, "cached_input_tokens",
                     (json_int_t)u->cached_input_tokens, "reasoning_tokens",
                     (json_int_t)u->reasoning_tokens);
}

static json_t *stats_usage_json(const agc_run_stats *s)
{
    agc_usage u = {
        s->input_tokens, s->output_tokens, s->cached_input_tokens, 0, s->reasoning_tokens, true};
    return agc__usage_json(&u);
}

static json_t *cost_json(double cost, bool known)
{
    return known ? json_real(cost) : json_null();
}

json_t *agc__run_summary_json(agc_run *run)
{
    return json_pack("{s:o, s:I, s:I, s:o, s:o, s:I, s:b}", "reason",
                     run->reason ? json_string(run->reason) : json_null(), "turns",
                     (json_int_t)run->stats.turns, "tool_calls", (json_int_t)run->stats.tool_calls,
                     "usage", stats_usage_json(&run->stats), "cost_usd",
                     json_real(run->stats.cost_usd), "elapsed_ms",
                     (json_int_t)agc__run_elapsed_ms(run), "cost_known", run->stats.cost_known);
}

agc_status agc__run_update_row(agc_run *run, const char *status)
{
    if (!run->opts.store)
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *patch =
        json_pack("{s:s, s:o}", "status", status, "summary", agc__run_summary_json(run));
    agc_json_leave(prev);
    if (!patch)
        return agc_error_set(run->ctx, AGC_ENOMEM, AGC__RT, "out of memory updating a run");
    agc_status st = agc_store_run_update(run->opts.store, run->id, patch);
    prev = agc_json_enter(run->ctx);
    json_decref(patch);
    agc_json_leave(prev);
    return st;
}

/* Sums usage and cost into the run and every parent (sub-runs charge their parents). */
void agc__charge(agc_run *run, const agc_usage *u, double cost, bool cost_known)
{
    for (agc_run *r = run; r; r = r->opts.parent) {
        r->stats.input_tokens += u->input_tokens;
        r->stats.output_tokens += u->output_tokens;
        r->stats.cached_input_tokens += u->cached_input_tokens;
        r->stats.reasoning_tokens += u->reasoning_tokens;
        if (cost_known)
            r->stats.cost_usd += cost;
        else
            r->stats.cost_known = false;
    }
}

/* ---- finishing ----------------------------------------------------------------------- */

static const char *event_status(agc_run_status s)
{
    return s == AGC_RUN_FINISHED ? "completed" : agc_run_status_name(s);
}

agc_status agc__run_finish(agc_run *run, agc_run_status status, const char *reason,
                           const char *budget, double limit, double used)
{
    agc_ctx *ctx = run->ctx;
    agc_free(ctx, run->reason);
    run->reason = NULL;
    if (reason && !(run->reason = agc_strdup(ctx, reason)))
        return AGC_ENOMEM;
    if (run->a && run->a->active_since_ns) {
        run->elapsed_before_ms = agc__run_elapsed_ms(run);
        run->a->active_since_ns = 0;
    }
    run->status = status;
    run->phase = AGC__PH_DONE;
    agc_ctx *prev = agc_json_enter(ctx);
    if (budget)
        agc__run_emit(run, AGC_EVENT_BUDGET_EXCEEDED,
                      json_pack("{s:s, s:f, s:f}", "budget", budget, "limit", limit, "used", used));
    const agc__active *a = run->a;
    json_t *step = json_pack("{s:s, s:o, s:o, s:o, s:o}", "status", agc_run_status_name(status),
                             "reason", reason ? json_string(reason) : json_null(), "output",
                             a && a->output ? json_string(a->output) : json_null(), "output_json",
                             a && a->output_json ? json_incref(a->output_json) : json_null(),
                             "summary", agc__run_summary_json(run));
    agc_json_leave(prev);
    agc_status st = AGC_OK;
    if (run->id[0]) {
        st = agc__run_commit(run, "run.finished", step);
        if (st == AGC_OK)
            st = agc__run_update_row(run, agc_run_status_name(status));
    } else {
        prev = agc_json_enter(ctx);
        json_decref(step);
        agc_json_leave(prev);
    }
    prev = agc_json_enter(ctx);
    agc__run_emit(run, AGC_EVENT_RUN_FINISHED,
                  json_pack("{s:s, s:o, s:I, s:o, s:o, s:I}", "status", event_status(status),
                            "reason", reason ? json_string(reason) : json_null(), "turns",
                            (json_int_t)run->stats.turns, "usage", stats_usage_json(&run->stats),
                            "cost_usd", cost_json(run->stats.cost_usd, run->stats.cost_known),
                            "duration_ms", (json_int_t)run->elapsed_before_ms));
    agc_json_leave(prev);
    return st;
}

agc_status agc__run_fail(agc_run *run, agc_status st)
{
    char msg[2048];
    agc_error_format(run->ctx, msg, sizeof msg);
    if (!msg[0])
        snprintf(msg, sizeof msg, "%s", agc_strerror(st));
    agc_ctx *prev = agc_json_enter(run->ctx);
    const agc_error *e = agc_ctx_last_error(run->ctx);
    agc__run_emit(run, AGC_EVENT_ERROR,
                  json_pack("{s:s, s:s, s:s, s:b}", "status", agc_status_name(st), "module",
                            e && e->module ? e->module : AGC__RT, "message", msg, "fatal", true));
    agc_json_leave(prev);
    run->fail_code = st;
    if (!agc_run_status_terminal(run->status))
        (void)agc__run_finish(run, AGC_RUN_FAILED, msg, NULL, 0, 0);
    /* leave the original error on the ctx for the caller */
    agc_error_set(run->ctx, st, AGC__RT, "%s", msg);
    return st;
}

static agc_status finish_canceled(agc_run *run)
{
    return agc__run_finish(run, AGC_RUN_CANCELED, "canceled", NULL, 0, 0);
}

/* ---- driving ---------------------------------------------------------------------- */

agc_status agc_run_step(agc_run *run)
{
    bool cancel = atomic_load(&run->cancel);
    bool paused = run->status == AGC_RUN_AWAITING_APPROVAL;
    if (agc_run_status_terminal(run->status) || (paused && !cancel))
        return AGC_OK;
    agc_status st;
    if (cancel && (run->phase != AGC__PH_PREPARE || paused))
        st = finish_canceled(run); /* also a paused run: it ends canceled */
    else if (run->phase == AGC__PH_PREPARE)
        st = agc__run_prepare(run);
    else
        st = run->strategy->step(run);
    if (st != AGC_OK && !agc_run_status_terminal(run->status))
        st = agc__run_fail(run, st);
    return st;
}

agc_status agc_run_until_done(agc_run *run)
{
    agc_status st = AGC_OK;
    while (st == AGC_OK && !agc_run_status_terminal(run->status) &&
           (run->status != AGC_RUN_AWAITING_APPROVAL || atomic_load(&run->cancel)))
        st = agc_run_step(run);
    if (st != AGC_OK)
        return st;
    switch (run->status) {
    case AGC_RUN_BUDGET_EXCEEDED:
        return agc_error_set(run->ctx, AGC_ELIMIT, AGC__RT, "%s", run->reason);
    case AGC_RUN_CANCELED:
        return agc_error_set(run->ctx, AGC_ECANCELED, AGC__RT, "the run was canceled");
    case AGC_RUN_FAILED:
        return agc_error_set(run->ctx, run->fail_code ? run->fail_code : AGC_ERROR, AGC__RT, "%s",
                             run->reason ? run->reason : "failed");
    default:
        return AGC_OK;
    }
}

agc_status agc_run_continue(agc_run *run, const char *message)
{
    if (run->status != AGC_RUN_FINISHED || !run->a || !message)
        return agc_error_set(run->ctx, AGC_EINVAL, AGC__RT,
                             "only a finished run can continue with another message (it is %s)",
                             agc_run_status_name(run->status));
    agc_status st = agc__conv_add_user(run, message, "chat", true);
    if (st != AGC_OK)
        return st;
    agc_free(run->ctx, run->a->output);
    run->a->output = NULL;
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_decref(run->a->output_json);
    agc_json_leave(prev);
    run->a->output_json = NULL;
    run->a->output_failures = 0;
    run->status = AGC_RUN_RUNNING;
    run->phase = AGC__PH_MODEL;
    run->a->active_since_ns = agc_clock_monotonic_ns(run->ctx);
    return agc__run_update_row(run, "running");
}

/* ---- the native strategy ------------------------------------------------------------ */

agc_status agc__run_observe_calls(agc_run *run)
{
    agc__active *a = run->a;
    agc_status st = agc__calls_to_conv(run);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(run->ctx);
    agc__run_emit(
        run, AGC_EVENT_TURN_FINISHED,
        json_pack("{s:I, s:I, s:o, s:o, s:I}", "turn", (json_int_t)run->stats.turns, "tool_calls",
                  (json_int_t)a->n_calls, "usage", agc__usage_json(&a->turn_usage), "cost_usd",
                  cost_json(a->turn_cost, a->turn_cost_known), "duration_ms",
                  (json_int_t)((agc_clock_monotonic_ns(run->ctx) - a->turn_t0_ns) / 1000000)));
    agc_json_leave(prev);
    agc__calls_clear(run);
    a->last_had_calls = false;
    run->phase = AGC__PH_MODEL;
    return AGC_OK;
}

static agc_status native_observe(agc_run *run)
{
    agc__active *a = run->a;
    if (a->last_had_calls)
        return agc__run_observe_calls(run);
    const agc__msg *last = a->n_msgs ? &a->msgs[a->n_msgs - 1] : NULL;
    if (!last || last->role != AGC_ROLE_ASSISTANT) {
        run->phase = AGC__PH_MODEL;
        return AGC_OK;
    }
    return agc__structured_observe(run, last->resp);
}

static agc_status native_step(agc_run *run)
{
    switch (run->phase) {
    case AGC__PH_MODEL: {
        agc_status st = AGC_OK;
        if (agc__budget_check(run, true, &st))
            return st;
        if ((st = agc__multi_before_model(run)) != AGC_OK)
            return st;
        return agc__run_model_call(run);
    }
    case AGC__PH_TOOLS: {
        agc_status st = agc__multi_tools(run);
        if (st != AGC_OK || agc_run_status_terminal(run->status))
            return st;
        return agc__run_tools(run);
    }
    case AGC__PH_OBSERVE:
        return native_observe(run);
    default:
        return AGC_OK;
    }
}

const agc__strategy agc__strategy_native = {2, "native", native_step, NULL, NULL, NULL};

const agc__strategy *agc__strategy_find(const char *name)
{
    static const agc__strategy *const all[] = {&agc__strategy_native, &agc__strategy_plan,
                                               &agc__strategy_react, &agc__strategy_pipeline};
    if (!name)
        return &agc__strategy_native;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (strcmp(name, all[i]->name) == 0)
            return all[i];
    return NULL;
}
