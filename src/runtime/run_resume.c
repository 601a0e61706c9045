/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Resuming a stored run: its steps are replayed into a fresh run (the
 * definition stored in run.started -- or agent.handoff after a handoff --,
 * the workspace root, the model override, the conversation, usage, cost and
 * counts, the current turn's calls with their results and decisions, the
 * strategy's state) without running anything and without committing or
 * emitting anything. A call that started and has no result was interrupted:
 * the next TOOLS step re-runs it when it is read-only and otherwise asks a
 * human first. Decisions stored while the run was paused are applied, with
 * their events and steps, by the first step after the resume. Also
 * agc_run_approve(), which records a decision for a stored run from any
 * process.
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

/* What replaying needs beside the run (whose store is detached meanwhile). */
typedef struct replay_ctx {
    agc_run *run;
    agc_store *store;
} replay_ctx;

static agc_status flush_calls(agc_run *run)
{
    if (run->a->n_calls == 0)
        return AGC_OK;
    agc_status st = AGC_OK;
    /* react: the results went back as an "Observation:" user message, not tool messages */
    if (run->strategy != &agc__strategy_react)
        st = agc__calls_to_conv(run);
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
    c->announce = false;
    return c->output ? AGC_OK : AGC_ENOMEM;
}

/* Totals from a row summary (or a run.paused snapshot): absolute, or added (a child run's). */
static void stats_from_summary(agc_run_stats *s, const json_t *sum, bool add)
{
    if (!json_is_object(sum))
        return;
    const json_t *u = json_object_get(sum, "usage");
    long long in = agc_json_int(u, "input_tokens", 0), out = agc_json_int(u, "output_tokens", 0);
    long long cached = agc_json_int(u, "cached_input_tokens", 0);
    long long reasoning = agc_json_int(u, "reasoning_tokens", 0);
    double cost = agc_json_num(sum, "cost_usd", 0);
    bool known = agc_json_bool(sum, "cost_known", true);
    long long calls = agc_json_int(sum, "tool_calls", 0);
    if (add) {
        s->input_tokens += in;
        s->output_tokens += out;
        s->cached_input_tokens += cached;
        s->reasoning_tokens += reasoning;
        s->cost_usd += cost;
        s->cost_known = s->cost_known && known;
        s->tool_calls += calls;
        return;
    }
    s->input_tokens = in;
    s->output_tokens = out;
    s->cached_input_tokens = cached;
    s->reasoning_tokens = reasoning;
    s->cost_usd = cost;
    s->cost_known = known;
    s->tool_calls = calls;
    s->turns = agc_json_int(sum, "turns", s->turns);
}

static agc_status replay_response(agc_run *run, const json_t *d)
{
    agc__active *a = run->a;
    agc_status st = flush_calls(run);
    agc_chat_response *resp = NULL;
    if (st == AGC_OK)
        st = agc_chat_response_from_json(&resp, json_object_get(d, "response"), run->ctx);
    if (st != AGC_OK)
        return st;
    /* the cost is stored beside the response (steps of older builds: unknown) */
    const json_t *cost = json_object_get(d, "cost_usd");
    if (cost) {
        resp->cost_known = json_is_number(cost);
        resp->cost_usd = resp->cost_known ? json_number_value(cost) : 0;
    }
    agc__charge(run, &resp->usage, resp->cost_usd, resp->cost_known);
    run->stats.turns = agc_json_int(d, "turn", run->stats.turns + 1);
    a->turn_usage = resp->usage;
    a->turn_cost = resp->cost_usd;
    a->turn_cost_known = resp->cost_known;
    agc__msg m = {.role = AGC_ROLE_ASSISTANT, .resp = resp};
    st = agc__conv_push(run, &m);
    if (st != AGC_OK) {
        agc_chat_response_free(resp);
        return st;
    }
    a->last_had_calls = resp->n_tool_calls > 0;
    agc_free(run->ctx, a->output);
    a->output = NULL;
    return resp->n_tool_calls ? agc__calls_from_response(run, resp) : AGC_OK;
}

/* A call the strategy made itself (a react action, or a refused one): not in any
 * model response, rebuilt from its steps. */
static agc_status add_call(agc__call **out, agc_run *run, const json_t *d)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    *out = NULL;
    agc__call *n = agc_realloc(ctx, a->calls, (a->n_calls + 1) * sizeof *n);
    if (!n)
        return AGC_ENOMEM;
    a->calls = n;
    agc__call *c = &n[a->n_calls++];
    memset(c, 0, sizeof *c);
    c->id = agc_strdup(ctx, agc_json_str(d, "call_id", ""));
    c->name = agc_strdup(ctx, agc_json_str(d, "tool", ""));
    const json_t *args = json_object_get(d, "arguments");
    if (json_is_string(args))
        c->arguments = agc_strdup(ctx, json_string_value(args));
    else if (json_is_object(args) &&
             agc_json_dump(&c->arguments, args, JSON_COMPACT, ctx) != AGC_OK)
        return AGC_ENOMEM;
    if (!c->arguments)
        c->arguments = agc_strdup(ctx, "{}");
    if (!c->id || !c->name || !c->arguments)
        return AGC_ENOMEM;
    a->last_had_calls = true;
    *out = c;
    return AGC_OK;
}

static bool is_handoff_tool(const char *name)
{
    return name && strncmp(name, "handoff_to_", 11) == 0;
}

/* A handoff call that completed: it is performed before the next model call. */
static agc_status note_handoff(agc_run *run, const agc__call *c)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    json_t *args = NULL;
    const char *note = NULL;
    if (agc_json_parse(&args, c->arguments, strlen(c->arguments), "arguments", ctx) == AGC_OK)
        note = agc_json_str(args, "note", NULL);
    agc_error_clear(ctx);
    agc_free(ctx, a->replay_handoff_tool);
    agc_free(ctx, a->replay_handoff_note);
    a->replay_handoff_tool = agc_strdup(ctx, c->name);
    a->replay_handoff_note = note && *note ? agc_strdup(ctx, note) : NULL;
    bool ok = a->replay_handoff_tool && (!note || !*note || a->replay_handoff_note);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(args);
    agc_json_leave(prev);
    return ok ? AGC_OK : AGC_ENOMEM;
}

/* agent.handoff: the run continues as the target (its stored definition, prompt, workspace). */
static agc_status replay_handoff(agc_run *run, const json_t *d)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    agc_free(ctx, a->replay_handoff_tool);
    agc_free(ctx, a->replay_handoff_note);
    a->replay_handoff_tool = a->replay_handoff_note = NULL;
    const json_t *dj = json_object_get(d, "definition");
    if (!json_is_object(dj)) /* stored by an older build: the handoff is not restored */
        return AGC_OK;
    agc_agent_def *def = NULL;
    agc_status st = agc_agent_def_from_json(&def, dj, agc_json_str(d, "source", run->id), ctx);
    if (st != AGC_OK)
        return st;
    agc_agent_def_unref(run->def);
    run->def = def;
    const char *sys = agc_json_str(d, "system", NULL);
    const char *root = agc_json_str(d, "workspace_root", NULL);
    agc_free(ctx, a->system);
    agc_free(ctx, a->ws_root);
    a->system = sys ? agc_strdup(ctx, sys) : NULL;
    a->ws_root = root ? agc_strdup(ctx, root) : NULL;
    if ((sys && !a->system) || (root && !a->ws_root))
        return AGC_ENOMEM;
    return agc__run_model_set(run, NULL); /* the target's own model */
}

/* A child run's totals (agent-as-tool) are part of the parent's. */
static void charge_child(replay_ctx *rc, const char *child_id)
{
    json_t *row = NULL;
    if (!rc->store || agc_store_run_get(rc->store, child_id, &row) != AGC_OK) {
        agc_error_clear(rc->run->ctx);
        return;
    }
    stats_from_summary(&rc->run->stats, json_object_get(row, "summary"), true);
    agc_ctx *prev = agc_json_enter(rc->run->ctx);
    json_decref(row);
    agc_json_leave(prev);
}

static agc_status replay_call_step(replay_ctx *rc, const char *kind, const json_t *d, agc__call *c)
{
    agc_run *run = rc->run;
    if (strcmp(kind, "tool.call") == 0) {
        c->started = true;
        c->announce = false;
        run->stats.tool_calls++;
        return AGC_OK;
    }
    if (strcmp(kind, "tool.result") == 0) {
        agc_status st = set_output(run, c, d);
        const char *child = agc_json_str(d, "child_run_id", NULL);
        if (st == AGC_OK && child)
            charge_child(rc, child);
        if (st == AGC_OK && is_handoff_tool(c->name) && agc_json_bool(d, "ok", false))
            st = note_handoff(run, c);
        return st;
    }
    if (strcmp(kind, "approval.requested") == 0) {
        agc_free(run->ctx, c->reason);
        c->reason = agc_strdup(run->ctx, agc_json_str(d, "reason", "needs approval"));
        c->state = AGC__CALL_PENDING;
        c->requested = true;
        c->announce = false;
        return c->reason ? AGC_OK : AGC_ENOMEM;
    }
    if (strcmp(kind, "approval.decided") == 0) {
        /* applied (events, a denial's tool.result) at the first step after the
         * resume unless later steps show that it was applied live */
        bool allow = strcmp(agc_json_str(d, "decision", ""), "approved") == 0;
        bool always = agc_json_bool(d, "always", false);
        const char *why = agc_json_str(d, "reason", NULL);
        c->requested = false;
        c->announce = true;
        c->announce_decision = !allow   ? AGC_APPROVAL_DENY
                               : always ? AGC_APPROVAL_ALLOW_ALWAYS
                                        : AGC_APPROVAL_ALLOW_ONCE;
        agc_free(run->ctx, c->announce_reason);
        c->announce_reason = why ? agc_strdup(run->ctx, why) : NULL;
        if (why && !c->announce_reason)
            return AGC_ENOMEM;
        if (!allow) {
            c->state = AGC__CALL_PENDING; /* refused when announced */
            return AGC_OK;
        }
        c->state = AGC__CALL_ALLOWED;
        c->started = false;
        return always ? agc__always_add(run, c->name) : AGC_OK;
    }
    return AGC_OK;
}

static agc_status replay_step(replay_ctx *rc, const json_t *step)
{
    agc_run *run = rc->run;
    agc__active *a = run->a;
    const char *kind = agc_json_str(step, "kind", "");
    const json_t *d = json_object_get(step, "data");
    if (strcmp(kind, "model.response") == 0)
        return replay_response(run, d);
    if (strcmp(kind, "user.message") == 0) {
        agc_status st = flush_calls(run);
        return st == AGC_OK ? agc__conv_add_user(run, agc_json_str(d, "text", ""), NULL, false)
                            : st;
    }
    if (strcmp(kind, "run.started") == 0) {
        const char *root = agc_json_str(d, "workspace_root", NULL);
        const char *model = agc_json_str(d, "model_override", NULL);
        if (root && !a->ws_root && !(a->ws_root = agc_strdup(run->ctx, root)))
            return AGC_ENOMEM;
        return model ? agc__run_model_set(run, model) : AGC_OK;
    }
    if (strcmp(kind, "run.paused") == 0) {
        a->paused_at_ms = agc_json_int(step, "time_ms", 0);
        stats_from_summary(&run->stats, json_object_get(d, "summary"), false);
        return AGC_OK;
    }
    if (strcmp(kind, "run.finished") == 0) { /* a chat that continued after an answer */
        agc_free(run->ctx, a->output);
        a->output = NULL;
        return AGC_OK;
    }
    if (strcmp(kind, "model.changed") == 0)
        return agc__run_model_set(run, agc_json_str(d, "model", NULL));
    if (strcmp(kind, "agent.handoff") == 0)
        return replay_handoff(run, d);
    if (strcmp(kind, "pipeline.stage") == 0) {
        const char *child = agc_json_str(d, "run_id", NULL);
        if (child)
            charge_child(rc, child);
        return AGC_OK;
    }
    const char *id = agc_json_str(d, "call_id", NULL);
    agc__call *c = agc__call_find(run, id);
    if (!c && id &&
        (strcmp(kind, "tool.call") == 0 || strcmp(kind, "tool.result") == 0 ||
         strcmp(kind, "approval.requested") == 0)) {
        agc_status st = add_call(&c, run, d);
        if (st != AGC_OK)
            return st;
    }
    return c ? replay_call_step(rc, kind, d, c) : AGC_OK;
}

static agc_status replay(replay_ctx *rc, const json_t *steps)
{
    agc_run *run = rc->run;
    agc__active *a = run->a;
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < json_array_size(steps); i++) {
        const json_t *step = json_array_get(steps, i);
        st = replay_step(rc, step);
        if (st == AGC_OK && run->strategy->version >= 2 && run->strategy->replay)
            st = run->strategy->replay(run, agc_json_str(step, "kind", ""),
                                       json_object_get(step, "data"));
    }
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
    agc_run_opts ro;
    agc_status st = agc__run_opts_copy(&ro, opts, ctx);
    if (st != AGC_OK)
        return st;
    const char *model = ro.model; /* replaces the stored one (after the replay) */
    ro.model = NULL;
    json_t *row = NULL, *steps = NULL;
    st = load(&row, &steps, store, run_id);
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
        replay_ctx rc = {run, keep_store};
        st = replay(&rc, steps);
        run->opts.store = keep_store;
        run->opts.events = keep_bus;
        /* paused: the row's summary is exact (runs stored by older builds too) */
        if (st == AGC_OK && strcmp(agc_json_str(row, "status", ""), "awaiting_approval") == 0)
            stats_from_summary(&run->stats, json_object_get(row, "summary"), false);
        if (st == AGC_OK && model && (!run->model || strcmp(run->model, model) != 0)) {
            st = agc__run_model_set(run, model);
            run->a->commit_model = true;
        }
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
