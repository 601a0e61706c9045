/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Budgets: turns, tool calls, input and output tokens, cost and wall time,
 * checked for the run and every parent run (sub-runs are charged to their
 * parents). A budget that is reached ends the run as budget_exceeded with a
 * reason naming it ("budget exceeded: max_turns 40 reached") and a
 * budget.exceeded event. Limits < 0 are unlimited. Does not estimate costs:
 * responses of unknown cost add nothing to the cost budget.
 */
#include "run_int.h"

#include <limits.h>
#include <stdio.h>

typedef struct over {
    const char *key;   /* config key: "max_turns" */
    const char *event; /* budget.exceeded name: "turns" */
    double limit;
    double used;
} over;

static bool check_one(agc_run *r, bool before_model, over *o)
{
    const agc_budgets *b = &r->budgets;
    const agc_run_stats *s = &r->stats;
    if (before_model && b->max_turns >= 0 && s->turns >= b->max_turns) {
        *o = (over){"max_turns", "turns", (double)b->max_turns, (double)s->turns};
        return true;
    }
    if (b->max_input_tokens >= 0 && s->input_tokens >= b->max_input_tokens) {
        *o = (over){"max_input_tokens", "input_tokens", (double)b->max_input_tokens,
                    (double)s->input_tokens};
        return true;
    }
    if (b->max_output_tokens >= 0 && s->output_tokens >= b->max_output_tokens) {
        *o = (over){"max_output_tokens", "output_tokens", (double)b->max_output_tokens,
                    (double)s->output_tokens};
        return true;
    }
    if (b->max_cost_usd >= 0 && s->cost_usd >= b->max_cost_usd) {
        *o = (over){"max_cost_usd", "cost_usd", b->max_cost_usd, s->cost_usd};
        return true;
    }
    int64_t el = agc__run_elapsed_ms(r);
    if (b->max_wall_ms >= 0 && el >= b->max_wall_ms) {
        *o = (over){"max_wall_seconds", "time_ms", (double)b->max_wall_ms, (double)el};
        return true;
    }
    return false;
}

static agc_status stop(agc_run *run, const over *o, const char *whose)
{
    char reason[256];
    if (o->key[4] == 'w') /* max_wall_seconds */
        snprintf(reason, sizeof reason, "budget exceeded: %s %g reached (%.1f s used)%s", o->key,
                 o->limit / 1000.0, o->used / 1000.0, whose);
    else if (o->limit == o->used || o->key[4] == 't') /* turns, tool calls */
        snprintf(reason, sizeof reason, "budget exceeded: %s %g reached%s", o->key, o->limit,
                 whose);
    else
        snprintf(reason, sizeof reason, "budget exceeded: %s %g reached (%g used)%s", o->key,
                 o->limit, o->used, whose);
    return agc__run_finish(run, AGC_RUN_BUDGET_EXCEEDED, reason, o->event, o->limit, o->used);
}

bool agc__budget_check(agc_run *run, bool before_model, agc_status *st)
{
    over o;
    for (agc_run *r = run; r; r = r->opts.parent)
        if (check_one(r, before_model && r == run, &o)) {
            *st = stop(run, &o, r == run ? "" : " (parent run)");
            return true;
        }
    return false;
}

long long agc__budget_tool_calls_left(agc_run *run)
{
    long long left = LLONG_MAX;
    for (agc_run *r = run; r; r = r->opts.parent)
        if (r->budgets.max_tool_calls >= 0) {
            long long l = r->budgets.max_tool_calls - r->stats.tool_calls;
            if (l < left)
                left = l < 0 ? 0 : l;
        }
    return left;
}

agc_status agc__budget_tool_calls_stop(agc_run *run)
{
    for (agc_run *r = run; r; r = r->opts.parent)
        if (r->budgets.max_tool_calls >= 0 && r->stats.tool_calls >= r->budgets.max_tool_calls) {
            over o = {"max_tool_calls", "tool_calls", (double)r->budgets.max_tool_calls,
                      (double)r->stats.tool_calls};
            return stop(run, &o, r == run ? "" : " (parent run)");
        }
    return AGC_OK;
}
