/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Runtime internals: the run object, its lazily allocated active state, the
 * conversation and the tool calls of the current turn, and the strategy
 * seam. A strategy is an ops table whose step() performs one transition
 * after prepare; the native tool-calling loop is the first one, and
 * plan-and-execute, ReAct and multi-agent strategies plug in beside it using
 * the helpers below (model call, tool dispatch, finish, commit, emit).
 * Invariant: only the run's thread touches a run, except run->cancel,
 * run->live_provider, run->live_child and run->cancel_busy (atomics, for
 * agc_run_cancel).
 */
#ifndef AGC_RUNTIME_RUN_INT_H
#define AGC_RUNTIME_RUN_INT_H

#include "agentc/provider.h"
#include "agentc/tool.h"
#include "agentc/workspace.h"

#include <stdatomic.h>

#include "agentc/agent.h"
#include "agentc/event.h"
#include "agentc/id.h"
#include "agentc/runtime.h"
#include "agentc/schema.h"
#include "agentc/store.h"

#define AGC__RT "runtime"

typedef enum agc__phase {
    AGC__PH_PREPARE = 0,
    AGC__PH_MODEL,
    AGC__PH_TOOLS,
    AGC__PH_OBSERVE,
    AGC__PH_DONE,
} agc__phase;

/* One conversation entry (the system prompt is kept apart). */
typedef struct agc__msg {
    agc_role role;
    char *text;              /* USER, TOOL */
    agc_chat_response *resp; /* ASSISTANT (owned) */
    char *call_id;           /* TOOL */
    bool is_error;           /* TOOL */
} agc__msg;

typedef enum agc__call_state {
    AGC__CALL_NEW = 0, /* not classified yet */
    AGC__CALL_PENDING, /* waits for a human decision */
    AGC__CALL_ALLOWED, /* will run */
    AGC__CALL_DONE,    /* has its result (ran, or refused) */
} agc__call_state;

/* One tool call of the current turn. Strings are owned (run ctx). */
typedef struct agc__call {
    char *id;
    char *name;
    char *arguments;
    json_t *args;   /* parsed arguments object, or NULL when not an object */
    agc_tool *tool; /* NULL: not offered to this agent */
    agc_tool_effect effect;
    agc__call_state state;
    bool started;   /* a tool.call step was committed and no result followed */
    bool requested; /* an approval.requested step exists for the current wait */
    char *reason;   /* PENDING: why a human is asked */
    char *output;   /* DONE: what goes back to the model */
    bool is_error;
    bool truncated;
    int64_t duration_ms;
    /* worker hand-over (parallel dispatch) */
    agc_ctx *wctx;
    agc_tool_result wres;
    agc_status wst;
    bool wdone;
    bool committed;
    /* resumed runs: a decision stored while the run was paused (agc_run_approve)
     * and not applied yet; the first step after the resume applies it like a
     * live one (approval.decided event; a denial's tool.result and tool.denied) */
    bool announce;
    agc_approval_decision announce_decision;
    char *announce_reason;
} agc__call;

/* Everything a working run needs; allocated at the first step. */
typedef struct agc__active {
    agc_provider *provider;
    bool own_provider;
    agc_tool_registry *reg;
    bool own_reg;
    agc_workspace *ws;
    bool own_ws;
    char *system;
    agc__msg *msgs;
    size_t n_msgs, cap_msgs;
    agc__call *calls; /* the current turn's */
    size_t n_calls;
    agc_approval_request *pending;
    size_t n_pending;
    char **always; /* tools allowed for the rest of the run */
    size_t n_always;
    agc_tool_def *tooldefs;
    size_t n_tooldefs;
    agc_schema **validators; /* per tooldef, compiled lazily for approval pre-checks */
    char *output;
    json_t *output_json;
    int output_failures;
    bool last_had_calls;
    int64_t active_since_ns; /* start of the current active period */
    int64_t turn_t0_ns;
    agc_usage turn_usage;
    double turn_cost;
    bool turn_cost_known;
    int retry_attempt;
    int64_t paused_at_ms; /* resumed runs: when it paused (0: unknown) */
    agc__phase resume_phase;
    /* the absolute workspace root the run works in (stored in run.started and
     * agent.handoff, so a resume from another directory uses the same one) */
    char *ws_root;
    /* resumed runs: a handoff call that completed before the agent.handoff
     * step (performed before the next model call), and whether a model given
     * to agc_run_resume must be committed (model.changed) at prepare */
    char *replay_handoff_tool;
    char *replay_handoff_note;
    bool commit_model;
} agc__active;

typedef struct agc__strategy {
    unsigned version; /* 1 */
    const char *name;
    /* Performs one transition for a run past PREPARE. */
    agc_status (*step)(agc_run *run);
    /* Frees run->strategy_state; may be NULL. */
    void (*destroy)(agc_run *run);
    /* Called by prepare once tools and system prompt are set up, before
     * run.started (new runs) or run.resumed (resumed runs) is committed; may
     * adjust a->system (new runs only: a resumed run's prompt is the stored
     * one) and a->tooldefs. May be NULL. */
    agc_status (*setup)(agc_run *run);
    /* Version 2. Resumed runs: called for every stored step, in order, after
     * the generic replay (nothing may be committed or emitted) to restore
     * run->strategy_state. May be NULL. */
    agc_status (*replay)(agc_run *run, const char *kind, const json_t *data);
} agc__strategy;

struct agc_run {
    agc_ctx *ctx;
    agc_agent_def *def;
    agc_run_opts opts;
    agc_budgets budgets;
    char *task;
    agc_run_status status;
    agc__phase phase;
    bool resumed;
    atomic_bool cancel;
    _Atomic(agc_provider *) live_provider;
    char *reason;
    agc_status fail_code; /* FAILED: the error's code */
    agc_run_stats stats;
    char *model; /* model override (owned), or NULL: the definition's */
    int64_t elapsed_before_ms;
    agc__active *a;
    const agc__strategy *strategy;
    void *strategy_state;
    struct agc__multi *multi;      /* sub-agents (multi_agent.c), NULL when none */
    _Atomic(agc_run *) live_child; /* a sub-run in progress (agc_run_cancel reaches it) */
    atomic_int cancel_busy;        /* agc_run_cancel calls looking at live_child */
    char id[AGC_ID_TYPED_SIZE];
};

/* ---- strategies ---- */
const agc__strategy *agc__strategy_find(const char *name);
extern const agc__strategy agc__strategy_native;
extern const agc__strategy agc__strategy_plan;     /* strategy_plan.c */
extern const agc__strategy agc__strategy_react;    /* strategy_react.c */
extern const agc__strategy agc__strategy_pipeline; /* strategy_pipeline.c */

/* How one model call asks for its answer. */
typedef enum agc__fmt {
    AGC__FMT_DEFAULT = 0, /* the definition's output_schema when it has one, else text */
    AGC__FMT_TEXT,        /* plain text */
    AGC__FMT_SCHEMA,      /* JSON matching agc__call_opts.schema */
} agc__fmt;

/* Options of one model call (NULL: tools offered, AGC__FMT_DEFAULT). */
typedef struct agc__call_opts {
    bool no_tools; /* send no tool definitions (tools = NULL) */
    agc__fmt format;
    const json_t *schema;    /* AGC__FMT_SCHEMA */
    const char *schema_name; /* AGC__FMT_SCHEMA */
    const char *const *stop; /* stop sequences, or NULL */
    size_t n_stop;
} agc__call_opts;

/* ---- multi_agent.c: sub-agents (agent-as-tool, handoff, pipeline stages) ---- */
typedef enum agc__sub_mode {
    AGC__SUB_TOOL = 0, /* agent_<name> {task}: a child run, its answer is the result */
    AGC__SUB_HANDOFF,  /* handoff_to_<name> {note}: takes over the run */
    AGC__SUB_PIPELINE, /* a pipeline stage only (no tool) */
} agc__sub_mode;

/* One sub-agent of the run's definition. */
typedef struct agc__sub {
    const char *name;        /* borrowed from the parent definition */
    const char *description; /* borrowed, or NULL */
    agc__sub_mode mode;
    agc_agent_def *def; /* own reference */
    agc_budgets budgets;
    bool has_budgets; /* the entry's budgets replace the definition's */
    char *tool;       /* agent_<name> / handoff_to_<name> */
    char *tool_description;
} agc__sub;

typedef struct agc__multi agc__multi;

/* What a finished child run gave. */
typedef struct agc__child {
    agc_run_status status;
    char *text;   /* the answer, or why it stopped (owned) */
    json_t *json; /* the validated answer (output_schema), or NULL (owned) */
    char run_id[AGC_ID_TYPED_SIZE];
} agc__child;

/* Loads the definition's sub_agents and adds their tools (agent_<name>,
 * handoff_to_<name>) to a->tooldefs (not for the pipeline strategy). Called
 * by prepare; no-op without sub_agents. */
agc_status agc__multi_setup(agc_run *run);
/* Handles the current turn's calls of sub-agent tools (runs child runs,
 * records a handoff), leaving the other calls to agc__run_tools. */
agc_status agc__multi_tools(agc_run *run);
/* Performs a handoff recorded by agc__multi_tools (before the next model
 * call): the target's definition, instructions, tools and model replace the
 * current ones. No-op when none is pending. */
agc_status agc__multi_before_model(agc_run *run);
/* Runs s on task as a child of run to its end (AGC_OK whatever the child's
 * outcome; failures only for the machinery: AGC_ENOMEM ...). *out is the
 * caller's (agc__child_clear). */
agc_status agc__multi_run_child(agc__child *out, agc_run *run, const agc__sub *s, const char *task);
void agc__child_clear(agc__child *c, agc_ctx *ctx);
const agc__sub *agc__multi_find(const agc_run *run, const char *name);
size_t agc__multi_count(const agc_run *run);
const agc__sub *agc__multi_at(const agc_run *run, size_t i);
void agc__multi_free(agc_run *run);
/* Resumed runs: re-arms a handoff whose call completed before the run
 * stopped (a->replay_handoff_tool), so the next model call performs it. */
agc_status agc__multi_restore_handoff(agc_run *run);

/* ---- run.c: helpers every strategy uses ---- */
/* Copies opts (version 1 or 2; NULL: defaults) into *dst. AGC_EINVAL on an
 * unknown version. */
agc_status agc__run_opts_copy(agc_run_opts *dst, const agc_run_opts *opts, agc_ctx *ctx);
/* The model of the next call: the override, else the definition's (may be NULL). */
const char *agc__run_model(const agc_run *run);
/* Replaces the model override (NULL: none); no step. */
agc_status agc__run_model_set(agc_run *run, const char *model);
/* The run's totals as stored in a row summary / snapshot. */
json_t *agc__run_summary_json(agc_run *run);
/* Allocates run->a when missing. */
agc_status agc__run_active(agc_run *run);
agc_status agc__run_prepare(agc_run *run);
/* One model call with the conversation; appends the answer, commits it. On a
 * provider failure or cancel the run is finished and AGC_OK returned. */
agc_status agc__run_model_call(agc_run *run);
/* The same with per-call options (o may be NULL). */
agc_status agc__run_model_call_ex(agc_run *run, const agc__call_opts *o);
/* Sets up a->reg, a->ws (when missing), a->tooldefs and a->validators from
 * run->def (run_model.c). */
agc_status agc__run_setup_tools(agc_run *run);
/* Sets a->system from run->def's instructions and AGENTS.md (run_model.c). */
agc_status agc__run_build_system(agc_run *run);
/* Observe after tool calls: results join the conversation, turn.finished,
 * phase MODEL. */
agc_status agc__run_observe_calls(agc_run *run);
/* Emits a custom event named name (steals data). */
void agc__run_emit_custom(agc_run *run, const char *name, json_t *data);
/* Ends the run: commits run.finished, updates the row, emits events. budget
 * (may be NULL) names the budget for budget.exceeded. */
agc_status agc__run_finish(agc_run *run, agc_run_status status, const char *reason,
                           const char *budget, double limit, double used);
/* Fails the run with the ctx's error chain; returns st. */
agc_status agc__run_fail(agc_run *run, agc_status st);
agc_status agc__run_commit(agc_run *run, const char *kind, json_t *data);
void agc__run_emit(agc_run *run, agc_event_type type, json_t *data);
agc_status agc__run_update_row(agc_run *run, const char *status);
int64_t agc__run_elapsed_ms(agc_run *run);
/* Adds a user message (committed as a user.message step when commit). */
agc_status agc__conv_add_user(agc_run *run, const char *text, const char *why, bool commit);
agc_status agc__conv_push(agc_run *run, agc__msg *m);
void agc__conv_free(agc_run *run);
json_t *agc__usage_json(const agc_usage *u);
void agc__charge(agc_run *run, const agc_usage *u, double cost, bool cost_known);

/* ---- run_tools.c ---- */
/* Starts the current turn's calls from resp (state NEW). */
agc_status agc__calls_from_response(agc_run *run, const agc_chat_response *resp);
void agc__calls_clear(agc_run *run);
/* Classifies, asks, runs; pauses when a decision is missing. */
agc_status agc__run_tools(agc_run *run);
/* Moves the finished calls into the conversation as tool messages. */
agc_status agc__calls_to_conv(agc_run *run);
agc__call *agc__call_find(agc_run *run, const char *call_id);
/* Sets a DONE refusal result and commits/emits it. */
agc_status agc__call_refuse(agc_run *run, agc__call *c, const char *by, const char *text);

/* ---- approval.c ---- */
/* Decides c (NEW) by policy, mode, approver; may commit approval steps. */
agc_status agc__approval_classify(agc_run *run, agc__call *c);
/* Applies a decision to a pending call (commits approval.decided when commit). */
agc_status agc__approval_apply(agc_run *run, agc__call *c, agc_approval_decision d,
                               const char *reason, const char *by, bool commit);
agc_status agc__pending_rebuild(agc_run *run);
/* Resumed runs: applies the decisions stored while the run was paused
 * (agc__call.announce) as live ones, without committing approval.decided again. */
agc_status agc__approval_announce(agc_run *run);
bool agc__always_has(agc_run *run, const char *tool);
agc_status agc__always_add(agc_run *run, const char *tool);

/* ---- budget.c ---- */
/* Checks the budgets (and the parents'); finishes the run and returns true
 * when one is reached. before_model also checks max_turns. */
bool agc__budget_check(agc_run *run, bool before_model, agc_status *st);
/* How many more tool calls may start (LLONG_MAX: unlimited). */
long long agc__budget_tool_calls_left(agc_run *run);
agc_status agc__budget_tool_calls_stop(agc_run *run);

/* ---- structured.c ---- */
/* Observes a final answer: accepts it (finishes) or sends it back. */
agc_status agc__structured_observe(agc_run *run, const agc_chat_response *resp);
/* The same for an answer's text (strategies whose answer is part of the text). */
agc_status agc__structured_accept(agc_run *run, const char *text);

#endif
