/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The pipeline strategy: strategy {name: pipeline, pipeline: [agent names]}
 * (or, without the list, the sub_agents whose mode is pipeline, in file
 * order). The task goes to the first agent as a child run; its final answer
 * is the task of the next one, and so on; the last answer is the run's.
 * Each stage is one step of the run (one agc_run_step), committed as a
 * pipeline.stage step and emitted as a custom event of the same name.
 * Children are charged to the run (usage, cost, tool calls) and its budgets
 * apply to them. Invariant: the pipeline agent itself never calls a model.
 * A resumed run goes on with the stage after the last finished one.
 * Not here: branching or parallel stages; a stage that fails ends the run.
 */
#include "run_int.h"

#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"

typedef struct pipe_state {
    const agc__sub **stages;
    size_t n;
    size_t next;
    char *input; /* the next stage's task */
} pipe_state;

static void pipe_destroy(agc_run *run)
{
    pipe_state *ps = run->strategy_state;
    if (!ps)
        return;
    agc_free(run->ctx, ps->stages);
    agc_free(run->ctx, ps->input);
    agc_free(run->ctx, ps);
    run->strategy_state = NULL;
}

static agc_status stages_init(agc_run *run, pipe_state *ps)
{
    agc_ctx *ctx = run->ctx;
    const json_t *list = json_object_get(agc_agent_def_strategy_config(run->def), "pipeline");
    size_t cap = json_is_array(list) ? json_array_size(list) : agc__multi_count(run);
    ps->stages = agc_calloc(ctx, cap + 1, sizeof *ps->stages);
    if (!ps->stages)
        return AGC_ENOMEM;
    if (json_is_array(list)) {
        for (size_t i = 0; i < cap; i++) {
            const char *name = json_string_value(json_array_get(list, i));
            const agc__sub *s = agc__multi_find(run, name);
            if (!s)
                return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                                     "%s: pipeline stage %zu names '%s', which is not one of the "
                                     "sub_agents; define it under sub_agents",
                                     agc_agent_def_source(run->def), i + 1,
                                     name ? name : "(not a string)");
            ps->stages[ps->n++] = s;
        }
    } else {
        for (size_t i = 0; i < cap; i++)
            if (agc__multi_at(run, i)->mode == AGC__SUB_PIPELINE)
                ps->stages[ps->n++] = agc__multi_at(run, i);
    }
    if (ps->n == 0)
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                             "%s: the pipeline strategy has no stages; list sub-agent names in "
                             "strategy.pipeline or give sub_agents mode: pipeline",
                             agc_agent_def_source(run->def));
    return AGC_OK;
}

static agc_status record(agc_run *run, size_t i, const agc__sub *s, const agc__child *c)
{
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *d = json_pack("{s:I, s:s, s:s, s:s, s:s}", "index", (json_int_t)i, "agent", s->name,
                          "run_id", c->run_id, "status", agc_run_status_name(c->status), "output",
                          c->text ? c->text : "");
    json_t *ev = d ? json_deep_copy(d) : NULL;
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "pipeline.stage", d);
    agc__run_emit_custom(run, "pipeline.stage", ev);
    return st;
}

/* The text of the last user message (a chat continuation restarts the pipeline on it). */
static const char *last_user(const agc_run *run)
{
    for (size_t i = run->a->n_msgs; i > 0; i--)
        if (run->a->msgs[i - 1].role == AGC_ROLE_USER)
            return run->a->msgs[i - 1].text;
    return run->task;
}

static agc_status finish_with(agc_run *run, agc__child *c)
{
    agc__active *a = run->a;
    agc_free(run->ctx, a->output);
    a->output = c->text;
    c->text = NULL;
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_decref(a->output_json);
    agc_json_leave(prev);
    a->output_json = c->json;
    c->json = NULL;
    return agc__run_finish(run, AGC_RUN_FINISHED, NULL, NULL, 0, 0);
}

static agc_status pipe_step(agc_run *run)
{
    agc_ctx *ctx = run->ctx;
    agc_status st = AGC_OK;
    pipe_state *ps = run->strategy_state;
    if (!ps && !(ps = run->strategy_state = agc_calloc(ctx, 1, sizeof *ps)))
        return AGC_ENOMEM;
    if (!ps->stages && (st = stages_init(run, ps)) != AGC_OK)
        return st;
    if (ps->next == 0 || ps->next >= ps->n || !ps->input) {
        ps->next = 0;
        agc_free(ctx, ps->input);
        if (!(ps->input = agc_strdup(ctx, last_user(run))))
            return AGC_ENOMEM;
    }
    if (agc__budget_check(run, false, &st))
        return st;
    const agc__sub *s = ps->stages[ps->next];
    agc__child c;
    st = agc__multi_run_child(&c, run, s, ps->input);
    if (st == AGC_OK)
        st = record(run, ps->next, s, &c);
    if (st != AGC_OK) {
        agc__child_clear(&c, ctx);
        return st;
    }
    if (atomic_load(&run->cancel)) {
        st = agc__run_finish(run, AGC_RUN_CANCELED, "canceled", NULL, 0, 0);
    } else if (c.status != AGC_RUN_FINISHED) {
        if (agc__budget_check(run, false, &st)) { /* the child used up this run's budget */
            agc__child_clear(&c, ctx);
            return st;
        }
        char *why = agc_sprintf(ctx, "pipeline stage %zu (%s) did not finish: %s", ps->next + 1,
                                s->name, c.text);
        run->fail_code = c.status == AGC_RUN_BUDGET_EXCEEDED ? AGC_ELIMIT : AGC_ERROR;
        st = why ? agc__run_finish(run, AGC_RUN_FAILED, why, NULL, 0, 0) : AGC_ENOMEM;
        agc_free(ctx, why);
    } else if (++ps->next == ps->n) {
        st = finish_with(run, &c);
    } else {
        agc_free(ctx, ps->input);
        ps->input = c.text;
        c.text = NULL;
    }
    agc__child_clear(&c, ctx);
    return st;
}

/* Resumed runs: a finished stage's answer is the next stage's task. */
static agc_status pipe_replay(agc_run *run, const char *kind, const json_t *data)
{
    if (strcmp(kind, "pipeline.stage") != 0)
        return AGC_OK;
    pipe_state *ps = run->strategy_state;
    if (!ps && !(ps = run->strategy_state = agc_calloc(run->ctx, 1, sizeof *ps)))
        return AGC_ENOMEM;
    agc_free(run->ctx, ps->input);
    ps->input = NULL;
    ps->next = 0;
    if (strcmp(agc_json_str(data, "status", ""), "finished") != 0)
        return AGC_OK;
    ps->next = (size_t)agc_json_int(data, "index", 0) + 1;
    ps->input = agc_strdup(run->ctx, agc_json_str(data, "output", ""));
    return ps->input ? AGC_OK : AGC_ENOMEM;
}

const agc__strategy agc__strategy_pipeline = {2,    "pipeline", pipe_step, pipe_destroy,
                                              NULL, pipe_replay};
