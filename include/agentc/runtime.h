/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Runs: one agent working on one task. A run is an explicit state machine
 * (prepare -> model call -> tool calls -> observe -> model call ... -> done)
 * that agc_run_step() advances by one transition and agc_run_until_done()
 * drives to the end. It stops on a final answer, a budget, a provider error
 * (after the provider's own retries), or cancellation; it pauses when a tool
 * call needs a human decision and nobody can give it now.
 * Invariant: with a store, every model response, tool call start and finish,
 * approval request and decision and the final result is committed as a step
 * BEFORE the next action, so agc_run_resume() can rebuild the run from its
 * steps without re-running completed tool calls.
 * An idle run is small (the definition is shared by reference; provider,
 * tools, conversation are set up at the first step).
 * Strategies (native, plan_execute, react, pipeline) and sub-agents (handoff,
 * agent-as-tool) plug into the strategy seam of src/runtime/run_int.h
 * (docs/runtime.md).
 */
#ifndef AGENTC_RUNTIME_H
#define AGENTC_RUNTIME_H

#include <jansson.h>

#include "agent.h"
#include "common.h"
#include "tool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_run agc_run;
typedef struct agc_provider agc_provider;
typedef struct agc_store agc_store;
typedef struct agc_event_bus agc_event_bus;
typedef struct agc_workspace agc_workspace;

/* Where a run is. */
typedef enum agc_run_status {
    AGC_RUN_CREATED = 0,       /* made, no step taken yet */
    AGC_RUN_RUNNING,           /* steps remain */
    AGC_RUN_AWAITING_APPROVAL, /* paused: a tool call waits for a decision (agc_run_pending_*) */
    AGC_RUN_FINISHED,          /* final answer (agc_run_output) */
    AGC_RUN_FAILED,            /* provider or internal error (agc_run_reason) */
    AGC_RUN_CANCELED,          /* agc_run_cancel() */
    AGC_RUN_BUDGET_EXCEEDED,   /* a budget was reached (agc_run_reason names it) */
} agc_run_status;

/*
 * "created", "running", "awaiting_approval", "finished", "failed",
 * "canceled", "budget_exceeded" (also the run row's status in the store).
 * Never NULL.
 */
const char *agc_run_status_name(agc_run_status s);
/* Whether s is terminal (finished, failed, canceled, budget_exceeded). */
bool agc_run_status_terminal(agc_run_status s);

/* ---- approvals -------------------------------------------------------------- */

/* A tool call waiting for a decision. Every pointer is borrowed (see where it is handed out). */
typedef struct agc_approval_request {
    const char *run_id;
    const char *call_id;
    const char *tool;
    const char *arguments; /* the arguments as the model sent them (JSON text) */
    const json_t *args;    /* parsed and valid against the tool's schema */
    agc_tool_effect effect;
    const char *reason; /* why a human is asked ("run_command needs approval (effect exec)",
                           or "interrupted: the call started but did not finish; run it again?") */
} agc_approval_request;

typedef enum agc_approval_decision {
    AGC_APPROVAL_DEFER = 0,    /* no decision now: the run pauses (awaiting_approval) */
    AGC_APPROVAL_ALLOW_ONCE,   /* run this call */
    AGC_APPROVAL_ALLOW_ALWAYS, /* run this call and every later call of this tool in this run */
    AGC_APPROVAL_DENY,         /* do not run it; the reason goes back to the model as the result */
} agc_approval_decision;

/* "defer", "allow_once", "allow_always", "deny". */
const char *agc_approval_decision_name(agc_approval_decision d);

/* Size of the reason buffer an approver gets (bytes, NUL included). */
#define AGC_APPROVAL_REASON_MAX 1024

/*
 * Asked, on the run's thread, for each call whose approval is "ask" in mode
 * ASK. Returns the decision; for DENY it may write a reason (NUL-terminated,
 * at most reason_size bytes) into reason, which starts as "". req is
 * borrowed for the call.
 */
typedef agc_approval_decision (*agc_approver_fn)(const agc_approval_request *req, char *reason,
                                                 size_t reason_size, void *user);

/* ---- options ---------------------------------------------------------------- */

typedef struct agc_run_opts {
    unsigned version; /* AGC_RUN_OPTS_VERSION */
    /* Borrowed; NULL: opened at the first step from the definition's provider
     * section (agc_provider_open_config) and closed with the run. */
    agc_provider *provider;
    /* Borrowed; NULL: built at the first step with the definition's built-in
     * tools working in the workspace. Must outlive the run. */
    agc_tool_registry *tools;
    /* Borrowed; used when tools is NULL. NULL: opened at the definition's
     * workspace.root (relative to the current directory; default ".") with its
     * deny lists. */
    agc_workspace *workspace;
    /* Directory whose AGENTS.md chain (from the workspace root down) is added
     * to the instructions; NULL: the current directory (when it is inside the
     * workspace). */
    const char *workdir;
    bool no_agents_md;        /* true: read no AGENTS.md */
    agc_store *store;         /* borrowed; NULL: nothing is persisted (no resume) */
    agc_event_bus *events;    /* borrowed; NULL: no events */
    agc_approve_mode approve; /* DEFAULT: the definition's approvals.mode */
    agc_approver_fn approver; /* NULL: "ask" calls pause the run in mode ASK */
    void *approver_user;
    int max_parallel;   /* tool calls of one turn run at once; 0: 4; 1: one by one */
    bool no_stream;     /* true: plain requests (no model.delta / model.retry events) */
    const char *run_id; /* NULL: a new "run_<ULID>"; copied */
    /* A sub-run: its usage, cost and tool calls are charged to parent too, and
     * parent's budgets apply. parent must outlive the run. */
    agc_run *parent;
    const agc_budgets *budgets; /* NULL: the definition's; else used instead (copied) */
    /* Since version 2. The model of this run's model calls instead of the
     * definition's provider.model (copied; NULL: the definition's). Stored with
     * the run (run.started model_override), so a resume keeps it; given to
     * agc_run_resume it replaces the stored one. A handoff ends it (the target
     * agent's model applies); sub-agent runs use their own definitions. */
    const char *model;
} agc_run_opts;

/* Version 1 had every field before model; it is still accepted. */
#define AGC_RUN_OPTS_VERSION 2
#define AGC_RUN_OPTS_INIT                                                                          \
    {                                                                                              \
        AGC_RUN_OPTS_VERSION, NULL, NULL, NULL, NULL, false, NULL, NULL, AGC_APPROVE_MODE_DEFAULT, \
            NULL, NULL, 0, false, NULL, NULL, NULL, NULL                                           \
    }

void agc_run_opts_init(agc_run_opts *opts);

/* ---- life cycle ------------------------------------------------------------- */

/*
 * Creates an idle run of def on task (the user's request; copied). Takes a
 * reference to def. Cheap: nothing is opened, written or sent until the
 * first step. opts (may be NULL) is copied; what it points to is borrowed.
 * The run uses ctx (one thread at a time) and must be freed before it.
 * *out is the caller's (agc_run_free). Errors: AGC_EINVAL (opts version,
 * NULL task, bad run_id), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_run_new(agc_run **out, agc_agent_def *def, const char *task,
                                     const agc_run_opts *opts, agc_ctx *ctx);

/*
 * Rebuilds the run run_id from its steps in store (on the store's ctx) and
 * makes it ready to continue: the conversation, usage, turns and decisions
 * are restored; completed tool calls are NOT run again. A tool call that
 * started but did not finish is run again when its effect is read, otherwise
 * it becomes a pending approval (even under mode ALL) so that a human sees
 * it first. Approvals recorded with agc_run_approve() are applied. The
 * definition is the copy stored with the run (the agent file may have
 * changed since). opts->store and opts->run_id are ignored (store and run_id
 * are used); other options as in agc_run_new. *out is the caller's.
 * Emits run.resumed at the first step. Errors: AGC_ENOTFOUND (no such run),
 * AGC_EINVAL (the run is terminal: finished, failed, canceled,
 * budget_exceeded), AGC_EPARSE (steps that do not make sense), AGC_ENOMEM,
 * store errors.
 */
AGC_NODISCARD agc_status agc_run_resume(agc_run **out, agc_store *store, const char *run_id,
                                        const agc_run_opts *opts);

/*
 * Records a decision for a pending tool call of a stored run (usually one
 * awaiting approval) as an approval.decided step; agc_run_resume() applies
 * it. allow false: the call is denied and reason (may be NULL) goes back to
 * the model. Works across processes (it only touches the store). Errors:
 * AGC_ENOTFOUND (no such run, or call_id is not pending in it),
 * AGC_EINVAL (the run is terminal), store errors.
 */
AGC_NODISCARD agc_status agc_run_approve(agc_store *store, const char *run_id, const char *call_id,
                                         bool allow, const char *reason);

/*
 * Does one transition of the state machine (prepare, one model call, the
 * tool calls of one turn, or observing their results) and returns. Returns
 * AGC_OK when the transition was made, whatever the run's outcome (a run
 * that stops on a budget, a provider error or cancellation returns AGC_OK
 * from the step that stopped it: see agc_run_status / agc_run_reason); a
 * call on a terminal or paused run does nothing and returns AGC_OK. A
 * failing status means the machinery itself failed (AGC_ENOMEM, the store
 * could not commit a step: AGC_EIO ...); the run is then failed with that
 * error as its reason. Blocks for the model call and the tool calls.
 */
AGC_NODISCARD agc_status agc_run_step(agc_run *run);

/*
 * Steps until the run is terminal or paused. Returns AGC_OK when it
 * finished with an answer or paused awaiting approval (check
 * agc_run_status), AGC_ELIMIT when a budget stopped it, AGC_ECANCELED when
 * canceled, and the failure's code otherwise (message on the ctx and in
 * agc_run_reason).
 */
AGC_NODISCARD agc_status agc_run_until_done(agc_run *run);

/*
 * Asks the run to stop: the model call or tool calls in progress are
 * abandoned, what is complete stays persisted, the run becomes "canceled".
 * Safe from any thread (including a signal-waiting thread) and idempotent;
 * takes effect at once in a blocked step, or at the next step. A run paused
 * awaiting approval is ended by the next agc_run_step() or
 * agc_run_until_done() (which then returns AGC_ECANCELED): run.finished with
 * status "canceled" is committed and the row becomes "canceled"; its pending
 * calls never run and the run cannot be resumed.
 */
void agc_run_cancel(agc_run *run);

/*
 * Decides a pending call of a live run (one listed by agc_run_pending_at);
 * the next agc_run_step() applies it. reason (may be NULL) is for DENY.
 * Errors: AGC_ENOTFOUND (no such pending call), AGC_EINVAL (DEFER), store
 * errors (the decision is committed as a step first).
 */
AGC_NODISCARD agc_status agc_run_decide(agc_run *run, const char *call_id,
                                        agc_approval_decision decision, const char *reason);

/*
 * Continues a finished run with another user message (chat): the run goes
 * back to "running" and the next step calls the model with the whole
 * conversation. Budgets keep counting. Errors: AGC_EINVAL when the run is
 * not finished, AGC_ENOMEM, store errors.
 */
AGC_NODISCARD agc_status agc_run_continue(agc_run *run, const char *message);

/*
 * Switches the model of the run's next model calls (chat's "/model NAME"),
 * keeping the conversation; NULL goes back to the definition's model. When
 * the run has started, a model.changed step is committed so that a resumed
 * run keeps the choice. Not while a step runs (same thread as the steps).
 * The provider is not reopened: the model must be one it serves.
 * Errors: AGC_EINVAL (an empty name, or a terminal run other than finished),
 * AGC_ENOMEM, store errors.
 */
AGC_NODISCARD agc_status agc_run_set_model(agc_run *run, const char *model);

/* Frees the run (and the provider/tools/workspace it opened itself); drops
 * its definition reference. Must not be called while a step runs. NULL is a
 * no-op. A run freed before it is terminal stays "running" or
 * "awaiting_approval" in the store and can be resumed. */
void agc_run_free(agc_run *run);

/* ---- reading a run ---------------------------------------------------------- */

agc_run_status agc_run_status_get(const agc_run *run);
/* The run id; "" until the first step when none was given. Borrowed. */
const char *agc_run_id(const agc_run *run);
/* The definition (borrowed for the run's lifetime; after a handoff, the
 * agent the run was handed to). */
agc_agent_def *agc_run_def(const agc_run *run);
/* The model the next model call asks for: the override (agc_run_opts.model,
 * agc_run_set_model), else the definition's provider.model, else NULL (the
 * provider's default). Borrowed until the next step or agc_run_set_model. */
const char *agc_run_model(const agc_run *run);
/* The state machine's next transition: "prepare", "model", "tools", "observe",
 * "paused", "done". */
const char *agc_run_phase(const agc_run *run);
/* Why the run is not finished with an answer ("budget exceeded: max_turns 40
 * reached", the provider's error chain, "canceled"), or NULL. Borrowed. */
const char *agc_run_reason(const agc_run *run);
/* The final answer's text, or NULL before it. Borrowed until the next step. */
const char *agc_run_output(const agc_run *run);
/* With output_schema: the final answer parsed and validated, else NULL. Borrowed. */
const json_t *agc_run_output_json(const agc_run *run);

typedef struct agc_run_stats {
    long long input_tokens; /* summed over every model response (cached tokens included) */
    long long output_tokens;
    long long cached_input_tokens;
    long long reasoning_tokens;
    double cost_usd;      /* summed known costs */
    bool cost_known;      /* false when some response's cost was unknown */
    long long turns;      /* model calls */
    long long tool_calls; /* tool calls started */
    int64_t elapsed_ms;   /* active time (the ctx monotonic clock) */
} agc_run_stats;

/* Copies the run's totals into *out. */
void agc_run_get_stats(const agc_run *run, agc_run_stats *out);

/* Calls waiting for a decision (status awaiting_approval). The request is
 * borrowed until the next step or decision. NULL when out of range. */
size_t agc_run_pending_count(const agc_run *run);
const agc_approval_request *agc_run_pending_at(const agc_run *run, size_t i);

#ifdef __cplusplus
}
#endif
#endif
