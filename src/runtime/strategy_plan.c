/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The plan_execute strategy: a first model call asks for a JSON plan
 * (schemas/plan.schema.json, sent as the response format and validated with
 * agc_schema); then each step runs as a native tool-calling sub-loop on the
 * step's goal, in the one conversation, sharing the run's budgets; a step
 * the model reports as failed ("STEP FAILED: ...") or that exceeds
 * strategy.max_step_turns triggers a re-plan with the failure, up to
 * strategy.max_replans times; a last call writes the final answer (checked
 * against output_schema as in the native loop).
 * Invariant: every plan, step start/end and re-plan is committed as a step
 * (plan.created, plan.step.started, plan.step.finished, plan.replan) and
 * emitted as a custom event of the same name before the run moves on.
 * A resumed run restores its plan, the results so far and the step in
 * progress from those steps and goes on where it stopped.
 * Not here: parallel steps or dependencies between steps.
 */
#include "run_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"

#define PLAN_SCHEMA_URI     "agentc:plan.schema.json"
#define DEFAULT_MAX_REPLANS 2
#define DEFAULT_MAX_STEPS   10
#define DEFAULT_STEP_TURNS  20
#define FAIL_MARK           "STEP FAILED"
#define MAX_LISTED          8

typedef enum stage { ST_PLAN = 0, ST_STEP, ST_FINAL } stage;

typedef struct plan_state {
    stage stage;
    bool prompted;  /* the request for the current stage is in the conversation */
    json_t *schema; /* plan schema document */
    agc_schema *validator;
    json_t *plan; /* the current plan (valid) */
    size_t step;  /* index of the step in progress */
    long long step_turns;
    int replans;      /* re-plans made */
    int bad_plans;    /* invalid plans in a row */
    json_t *results;  /* [{id, goal, ok, result}] of every step run, all plans */
    char *replan_why; /* the failure the next plan request reports, or NULL */
    int max_replans;
    int max_steps;
    long long max_step_turns;
} plan_state;

static void plan_destroy(agc_run *run)
{
    plan_state *ps = run->strategy_state;
    if (!ps)
        return;
    agc_schema_free(ps->validator, run->ctx);
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_decref(ps->schema);
    json_decref(ps->plan);
    json_decref(ps->results);
    agc_json_leave(prev);
    agc_free(run->ctx, ps->replan_why);
    agc_free(run->ctx, ps);
    run->strategy_state = NULL;
}

static agc_status state_init(agc_run *run)
{
    agc_ctx *ctx = run->ctx;
    plan_state *ps = agc_calloc(ctx, 1, sizeof *ps);
    if (!ps)
        return AGC_ENOMEM;
    run->strategy_state = ps;
    const json_t *cfg = agc_agent_def_strategy_config(run->def);
    ps->max_replans = (int)agc_json_int(cfg, "max_replans", DEFAULT_MAX_REPLANS);
    ps->max_steps = (int)agc_json_int(cfg, "max_steps", DEFAULT_MAX_STEPS);
    ps->max_step_turns = agc_json_int(cfg, "max_step_turns", DEFAULT_STEP_TURNS);
    agc_ctx *prev = agc_json_enter(ctx);
    ps->schema = agc_schema_builtin(PLAN_SCHEMA_URI, ctx);
    ps->results = json_array();
    agc_json_leave(prev);
    if (!ps->schema || !ps->results)
        return agc_error_set(ctx, AGC_ENOMEM, AGC__RT, "cannot load %s", PLAN_SCHEMA_URI);
    return agc_schema_compile(&ps->validator, ps->schema, NULL, ctx);
}

/* Commits a step of kind and emits the custom event of the same name. */
static agc_status record(agc_run *run, const char *kind, json_t *data)
{
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *ev = data ? json_deep_copy(data) : NULL;
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, kind, data);
    agc__run_emit_custom(run, kind, ev);
    return st;
}

static void emit_turn_finished(agc_run *run)
{
    agc__active *a = run->a;
    if (!a->turn_t0_ns)
        return;
    agc_ctx *prev = agc_json_enter(run->ctx);
    agc__run_emit(
        run, AGC_EVENT_TURN_FINISHED,
        json_pack("{s:I, s:i, s:o, s:o, s:I}", "turn", (json_int_t)run->stats.turns, "tool_calls",
                  0, "usage", agc__usage_json(&a->turn_usage), "cost_usd",
                  a->turn_cost_known ? json_real(a->turn_cost) : json_null(), "duration_ms",
                  (json_int_t)((agc_clock_monotonic_ns(run->ctx) - a->turn_t0_ns) / 1000000)));
    agc_json_leave(prev);
    a->turn_t0_ns = 0;
}

/* ---- prompts ------------------------------------------------------------------------ */

static agc_status tool_list(agc_buf *b, agc_run *run)
{
    agc_status st =
        agc_buf_puts(b, run->a->n_tooldefs ? "Tools you can use:" : "You have no tools.");
    for (size_t i = 0; st == AGC_OK && i < run->a->n_tooldefs; i++)
        st = agc_buf_printf(b, "%s %s", i ? "," : "", run->a->tooldefs[i].name);
    return st;
}

static agc_status results_list(agc_buf *b, const plan_state *ps)
{
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < json_array_size(ps->results); i++) {
        const json_t *r = json_array_get(ps->results, i);
        st = agc_buf_printf(b, "\n- step %s (%s): %s", agc_json_str(r, "id", "?"),
                            agc_json_bool(r, "ok", false) ? "done" : "failed",
                            agc_json_str(r, "result", ""));
    }
    return st;
}

/* Adds the request for a plan (first plan, re-plan, or a plan that failed checks). */
static agc_status ask_plan(agc_run *run, plan_state *ps, const char *problems)
{
    agc_buf b;
    agc_buf_init(&b, run->ctx, 0);
    agc_status st;
    if (problems)
        st = agc_buf_printf(&b, "Your plan is not valid:%s\n", problems);
    else if (ps->replan_why)
        st = agc_buf_printf(&b, "The plan must change: %s\nSteps so far:", ps->replan_why);
    else
        st = agc_buf_puts(&b, "Before you act, plan the work for the task above.");
    if (st == AGC_OK && ps->replan_why && !problems)
        st = json_array_size(ps->results) ? results_list(&b, ps) : agc_buf_puts(&b, " none");
    if (st == AGC_OK)
        st = agc_buf_printf(
            &b,
            "%sAnswer with only a JSON object {\"steps\": [{\"id\": \"1\", \"goal\": \"...\", "
            "\"tool\": \"optional tool name\"}, ...]} listing at most %d steps%s, in order. ",
            problems || !ps->replan_why ? "" : "\nWrite a new plan for the remaining work. ",
            ps->max_steps, ps->replan_why && !problems ? " still to do" : "");
    if (st == AGC_OK)
        st = tool_list(&b, run);
    if (st == AGC_OK)
        st = agc__conv_add_user(run, agc_buf_cstr(&b), ps->replan_why ? "replan" : "plan", true);
    agc_buf_free(&b);
    ps->prompted = st == AGC_OK;
    return st;
}

static agc_status ask_step(agc_run *run, plan_state *ps)
{
    const json_t *steps = json_object_get(ps->plan, "steps");
    const json_t *s = json_array_get(steps, ps->step);
    const char *tool = agc_json_str(s, "tool", NULL);
    char *msg = agc_sprintf(run->ctx,
                            "Step %zu of %zu (id %s): %s\n%s%s%s"
                            "Work on this step only, using the tools as needed. When it is done, "
                            "reply with its result in plain text. If it cannot be done, reply "
                            "with a first line starting with \"" FAIL_MARK ":\" and the reason.",
                            ps->step + 1, json_array_size(steps), agc_json_str(s, "id", "?"),
                            agc_json_str(s, "goal", ""), tool ? "Suggested tool: " : "",
                            tool ? tool : "", tool ? "\n" : "");
    if (!msg)
        return AGC_ENOMEM;
    agc_status st = agc__conv_add_user(run, msg, "plan.step", true);
    agc_free(run->ctx, msg);
    if (st != AGC_OK)
        return st;
    ps->prompted = true;
    ps->step_turns = 0;
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *d = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)ps->step, "id",
                          agc_json_str(s, "id", "?"), "goal", agc_json_str(s, "goal", ""));
    agc_json_leave(prev);
    return record(run, "plan.step.started", d);
}

static agc_status ask_final(agc_run *run, plan_state *ps)
{
    ps->stage = ST_FINAL;
    ps->prompted = true;
    return agc__conv_add_user(run,
                              "All steps of the plan are done. Write the final answer to the task "
                              "for the user, using the results of the steps.",
                              "plan.final", true);
}

/* ---- observing -------------------------------------------------------------------- */

/* Parses text as JSON (a ```json fence is accepted). */
static agc_status parse_json(json_t **out, const char *text, agc_ctx *ctx)
{
    const char *s = text;
    size_t len = strlen(text);
    while (len && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    if (len >= 6 && strncmp(s, "```", 3) == 0 && strncmp(s + len - 3, "```", 3) == 0) {
        const char *nl = memchr(s, '\n', len);
        if (nl && nl < s + len - 3) {
            len = (size_t)(s + len - 3 - (nl + 1));
            s = nl + 1;
        }
    }
    return agc_json_parse(out, s, len, "plan", ctx);
}

/* Appends what is wrong with the plan text to b; AGC_ESCHEMA when something is. */
static agc_status check_plan(json_t **plan, agc_buf *b, agc_run *run, plan_state *ps,
                             const char *text)
{
    agc_ctx *ctx = run->ctx;
    agc_status st = parse_json(plan, text, ctx);
    if (st == AGC_EPARSE)
        return agc_buf_printf(b, "\n- not valid JSON: %s", agc_ctx_errmsg(ctx)) == AGC_OK
                   ? AGC_ESCHEMA
                   : AGC_ENOMEM;
    if (st != AGC_OK)
        return st;
    agc_schema_result *res = NULL;
    st = agc_schema_validate(&res, ps->validator, *plan, ctx);
    if (st == AGC_ESCHEMA && res) {
        st = AGC_OK;
        for (size_t i = 0; st == AGC_OK && i < res->count && i < MAX_LISTED; i++)
            st = agc_buf_printf(b, "\n- %s: %s",
                                res->errors[i].instance_path[0] ? res->errors[i].instance_path
                                                                : "(root)",
                                res->errors[i].message);
        if (st == AGC_OK)
            st = AGC_ESCHEMA;
    }
    agc_schema_result_free(res, ctx);
    if (st == AGC_OK && json_array_size(json_object_get(*plan, "steps")) > (size_t)ps->max_steps)
        st = agc_buf_printf(b, "\n- /steps: at most %d steps are allowed", ps->max_steps) == AGC_OK
                 ? AGC_ESCHEMA
                 : AGC_ENOMEM;
    return st;
}

static agc_status fail_run(agc_run *run, const char *reason)
{
    run->fail_code = AGC_ERROR;
    return agc__run_finish(run, AGC_RUN_FAILED, reason, NULL, 0, 0);
}

static agc_status accept_plan(agc_run *run, plan_state *ps, const char *text)
{
    agc_ctx *ctx = run->ctx;
    json_t *plan = NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, 16384);
    agc_status st = check_plan(&plan, &b, run, ps, text);
    if (st != AGC_OK) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(plan);
        agc_json_leave(prev);
        if (st == AGC_ESCHEMA && ++ps->bad_plans > agc_agent_def_output_retries(run->def)) {
            char *why = agc_sprintf(ctx, "the plan does not match %s after %d attempt(s):%s",
                                    PLAN_SCHEMA_URI, ps->bad_plans, agc_buf_cstr(&b));
            st = why ? fail_run(run, why) : AGC_ENOMEM;
            agc_free(ctx, why);
        } else if (st == AGC_ESCHEMA) {
            st = ask_plan(run, ps, agc_buf_cstr(&b));
            run->phase = AGC__PH_MODEL;
        }
        agc_buf_free(&b);
        return st;
    }
    agc_buf_free(&b);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(ps->plan);
    ps->plan = plan;
    json_t *d = json_pack("{s:O, s:i, s:I}", "plan", plan, "replan", ps->replans, "turn",
                          (json_int_t)run->stats.turns);
    agc_json_leave(prev);
    st = record(run, "plan.created", d);
    if (st != AGC_OK)
        return st;
    ps->bad_plans = 0;
    agc_free(ctx, ps->replan_why);
    ps->replan_why = NULL;
    ps->stage = ST_STEP;
    ps->step = 0;
    run->phase = AGC__PH_MODEL;
    return ask_step(run, ps);
}

/* Whether the step answer reports a failure (its first non-blank text starts with the mark). */
static bool is_failure(const char *text)
{
    while (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t' || *text == '*')
        text++;
    return strncasecmp(text, FAIL_MARK, strlen(FAIL_MARK)) == 0;
}

static agc_status replan(agc_run *run, plan_state *ps, const char *id, const char *why)
{
    agc_ctx *ctx = run->ctx;
    if (ps->replans >= ps->max_replans) {
        char *reason =
            agc_sprintf(ctx, "plan step %s failed after %d re-plan(s): %s", id, ps->replans, why);
        agc_status st = reason ? fail_run(run, reason) : AGC_ENOMEM;
        agc_free(ctx, reason);
        return st;
    }
    ps->replans++;
    agc_free(ctx, ps->replan_why);
    if (!(ps->replan_why = agc_sprintf(ctx, "step %s failed: %s", id, why)))
        return AGC_ENOMEM;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *d = json_pack("{s:s, s:s, s:i}", "step_id", id, "reason", why, "replan", ps->replans);
    agc_json_leave(prev);
    agc_status st = record(run, "plan.replan", d);
    if (st != AGC_OK)
        return st;
    ps->stage = ST_PLAN;
    run->phase = AGC__PH_MODEL;
    return ask_plan(run, ps, NULL);
}

static agc_status finish_step(agc_run *run, plan_state *ps, const char *text, bool ok)
{
    agc_ctx *ctx = run->ctx;
    const json_t *s = json_array_get(json_object_get(ps->plan, "steps"), ps->step);
    const char *id = agc_json_str(s, "id", "?");
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *r = json_pack("{s:s, s:s, s:b, s:s}", "id", id, "goal", agc_json_str(s, "goal", ""),
                          "ok", ok, "result", text);
    json_t *d = json_pack("{s:I, s:s, s:b, s:s}", "index", (json_int_t)ps->step, "id", id, "ok", ok,
                          "result", text);
    bool added = r && json_array_append_new(ps->results, r) == 0;
    agc_json_leave(prev);
    agc_status st = record(run, "plan.step.finished", d);
    if (st == AGC_OK && !added)
        st = AGC_ENOMEM;
    if (st != AGC_OK)
        return st;
    run->phase = AGC__PH_MODEL;
    if (!ok)
        return replan(run, ps, id, text);
    if (++ps->step < json_array_size(json_object_get(ps->plan, "steps")))
        return ask_step(run, ps);
    return ask_final(run, ps);
}

static agc_status plan_observe(agc_run *run, plan_state *ps)
{
    agc__active *a = run->a;
    if (a->last_had_calls)
        return agc__run_observe_calls(run);
    const agc__msg *last = a->n_msgs ? &a->msgs[a->n_msgs - 1] : NULL;
    if (!last || last->role != AGC_ROLE_ASSISTANT) {
        run->phase = AGC__PH_MODEL;
        return AGC_OK;
    }
    const char *text = agc_chat_response_text(last->resp);
    if (ps->stage == ST_FINAL)
        return agc__structured_accept(run, text);
    emit_turn_finished(run);
    if (ps->stage == ST_PLAN)
        return accept_plan(run, ps, text);
    return finish_step(run, ps, text, !is_failure(text));
}

/* ---- the step ---------------------------------------------------------------------- */

static agc_status plan_model(agc_run *run, plan_state *ps)
{
    agc_status st = AGC_OK;
    if (agc__budget_check(run, true, &st))
        return st;
    if ((st = agc__multi_before_model(run)) != AGC_OK)
        return st;
    if (!ps->prompted) /* a resumed run may stop between a step and the next request */
        st = ps->stage == ST_PLAN   ? ask_plan(run, ps, NULL)
             : ps->stage == ST_STEP ? ask_step(run, ps)
                                    : ask_final(run, ps);
    if (st != AGC_OK)
        return st;
    if (ps->stage == ST_STEP && ps->max_step_turns > 0 && ps->step_turns >= ps->max_step_turns) {
        char why[96];
        snprintf(why, sizeof why, "the step used %lld model calls without finishing",
                 ps->step_turns);
        return finish_step(run, ps, why, false);
    }
    agc__call_opts o = {0};
    if (ps->stage == ST_PLAN) {
        o.no_tools = true;
        o.format = AGC__FMT_SCHEMA;
        o.schema = ps->schema;
        o.schema_name = "plan";
    } else if (ps->stage == ST_STEP) {
        o.format = AGC__FMT_TEXT;
        ps->step_turns++;
    } else {
        o.no_tools = true;
    }
    return agc__run_model_call_ex(run, &o);
}

static agc_status plan_step(agc_run *run)
{
    agc_status st = AGC_OK;
    if (!run->strategy_state && (st = state_init(run)) != AGC_OK)
        return st;
    plan_state *ps = run->strategy_state;
    switch (run->phase) {
    case AGC__PH_MODEL:
        return plan_model(run, ps);
    case AGC__PH_TOOLS:
        st = agc__multi_tools(run);
        if (st != AGC_OK || agc_run_status_terminal(run->status))
            return st;
        return agc__run_tools(run);
    case AGC__PH_OBSERVE:
        return plan_observe(run, ps);
    default:
        return AGC_OK;
    }
}

/* ---- resume ------------------------------------------------------------------------ */

static agc_status replay_step_finished(agc_run *run, plan_state *ps, const json_t *d)
{
    agc_ctx *ctx = run->ctx;
    const json_t *steps = json_object_get(ps->plan, "steps");
    size_t index = (size_t)agc_json_int(d, "index", (json_int_t)ps->step);
    const char *id = agc_json_str(d, "id", "?");
    const char *result = agc_json_str(d, "result", "");
    bool ok = agc_json_bool(d, "ok", false);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *r = json_pack("{s:s, s:s, s:b, s:s}", "id", id, "goal",
                          agc_json_str(json_array_get(steps, index), "goal", ""), "ok", ok,
                          "result", result);
    bool added = r && json_array_append_new(ps->results, r) == 0;
    agc_json_leave(prev);
    if (!added)
        return AGC_ENOMEM;
    ps->prompted = false; /* the next request follows (it may be missing after a crash) */
    if (!ok) {            /* plan.replan follows */
        ps->stage = ST_PLAN;
        agc_free(ctx, ps->replan_why);
        ps->replan_why = agc_sprintf(ctx, "step %s failed: %s", id, result);
        return ps->replan_why ? AGC_OK : AGC_ENOMEM;
    }
    ps->step = index + 1;
    ps->stage = ps->step < json_array_size(steps) ? ST_STEP : ST_FINAL;
    return AGC_OK;
}

/* Rebuilds the plan state from the stored steps (nothing committed or emitted). */
static agc_status plan_replay(agc_run *run, const char *kind, const json_t *d)
{
    agc_ctx *ctx = run->ctx;
    agc_status st = AGC_OK;
    if (!run->strategy_state && (st = state_init(run)) != AGC_OK)
        return st;
    plan_state *ps = run->strategy_state;
    if (strcmp(kind, "plan.created") == 0) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_t *plan = json_deep_copy(json_object_get(d, "plan"));
        json_decref(ps->plan);
        ps->plan = plan;
        agc_json_leave(prev);
        if (!plan)
            return AGC_ENOMEM;
        ps->replans = (int)agc_json_int(d, "replan", ps->replans);
        ps->bad_plans = 0;
        agc_free(ctx, ps->replan_why);
        ps->replan_why = NULL;
        ps->stage = ST_STEP;
        ps->step = 0;
        ps->step_turns = 0;
        ps->prompted = false;
    } else if (strcmp(kind, "plan.step.started") == 0) {
        ps->stage = ST_STEP;
        ps->step = (size_t)agc_json_int(d, "index", (json_int_t)ps->step);
        ps->step_turns = 0;
        ps->prompted = true;
    } else if (strcmp(kind, "plan.step.finished") == 0 && ps->plan) {
        return replay_step_finished(run, ps, d);
    } else if (strcmp(kind, "plan.replan") == 0) {
        ps->replans = (int)agc_json_int(d, "replan", ps->replans);
        agc_free(ctx, ps->replan_why);
        ps->replan_why = agc_sprintf(ctx, "step %s failed: %s", agc_json_str(d, "step_id", "?"),
                                     agc_json_str(d, "reason", ""));
        ps->stage = ST_PLAN;
        ps->prompted = false;
        return ps->replan_why ? AGC_OK : AGC_ENOMEM;
    } else if (strcmp(kind, "user.message") == 0) {
        const char *why = agc_json_str(d, "why", "");
        if (strcmp(why, "plan") == 0 || strcmp(why, "replan") == 0) {
            if (ps->stage == ST_PLAN && ps->prompted)
                ps->bad_plans++; /* the last plan was sent back */
            ps->stage = ST_PLAN;
            ps->prompted = true;
        } else if (strcmp(why, "plan.step") == 0) {
            ps->stage = ST_STEP;
            ps->prompted = true;
        } else if (strcmp(why, "plan.final") == 0) {
            ps->stage = ST_FINAL;
            ps->prompted = true;
        }
    } else if (strcmp(kind, "model.response") == 0 && ps->stage == ST_STEP) {
        ps->step_turns++;
    }
    return AGC_OK;
}

const agc__strategy agc__strategy_plan = {2,    "plan_execute", plan_step, plan_destroy,
                                          NULL, plan_replay};
