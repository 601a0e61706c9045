/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tool dispatch for one turn: resolve each call (offered tool? arguments an
 * object?), classify it (approval.c), run the allowed ones -- in parallel on
 * worker threads, each with its own agc_ctx, when there are several -- and
 * commit every start (tool.call) before the call runs and every finish
 * (tool.result) as soon as it is known. Results go back to the model in the
 * call order whatever order they finished in. Invariant: only this (the
 * run's) thread touches the run, its ctx, the store and the bus; workers see
 * only their call and their own ctx. The registry validates arguments
 * before any tool runs.
 */
#include "run_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "core/ctx_int.h"

#define DEFAULT_PARALLEL 4

/* ---- the calls of a turn --------------------------------------------------------- */

void agc__calls_clear(agc_run *run)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    for (size_t i = 0; i < a->n_calls; i++) {
        agc__call *c = &a->calls[i];
        agc_free(ctx, c->id);
        agc_free(ctx, c->name);
        agc_free(ctx, c->arguments);
        agc_free(ctx, c->reason);
        agc_free(ctx, c->output);
        agc_free(ctx, c->announce_reason);
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(c->args);
        agc_json_leave(prev);
    }
    agc_free(ctx, a->calls);
    a->calls = NULL;
    a->n_calls = 0;
    agc_free(ctx, a->pending);
    a->pending = NULL;
    a->n_pending = 0;
}

agc_status agc__calls_from_response(agc_run *run, const agc_chat_response *resp)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    agc__calls_clear(run);
    a->calls = agc_calloc(ctx, resp->n_tool_calls, sizeof *a->calls);
    if (!a->calls)
        return AGC_ENOMEM;
    for (size_t i = 0; i < resp->n_tool_calls; i++) {
        const agc_tool_call *tc = &resp->tool_calls[i];
        agc__call *c = &a->calls[i];
        a->n_calls = i + 1;
        if (tc->id && *tc->id) {
            c->id = agc_strdup(ctx, tc->id);
        } else {
            char id[AGC_ID_TYPED_SIZE];
            if (agc_id_new_typed(id, sizeof id, "call", ctx) != AGC_OK)
                return AGC_ENOMEM;
            c->id = agc_strdup(ctx, id);
        }
        c->name = agc_strdup(ctx, tc->name ? tc->name : "");
        c->arguments = agc_strdup(ctx, tc->arguments && *tc->arguments ? tc->arguments : "{}");
        if (!c->id || !c->name || !c->arguments)
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

agc__call *agc__call_find(agc_run *run, const char *call_id)
{
    for (size_t i = 0; run->a && call_id && i < run->a->n_calls; i++)
        if (strcmp(run->a->calls[i].id, call_id) == 0)
            return &run->a->calls[i];
    return NULL;
}

/* Whether name is offered to the model (in the tool definitions sent). */
static agc_tool *offered(agc_run *run, const char *name)
{
    for (size_t i = 0; i < run->a->n_tooldefs; i++)
        if (strcmp(run->a->tooldefs[i].name, name) == 0)
            return agc_tool_registry_lookup(run->a->reg, name);
    return NULL;
}

/* Looks up the tool and parses the arguments; a problem becomes a refusal. */
static agc_status resolve(agc_run *run, agc__call *c)
{
    agc_ctx *ctx = run->ctx;
    if (c->state == AGC__CALL_DONE || (c->tool && c->args))
        return AGC_OK;
    c->tool = offered(run, c->name);
    if (!c->tool) {
        agc_buf b;
        agc_buf_init(&b, ctx, 0);
        agc_status st = agc_buf_printf(&b, "unknown tool '%s'; ", c->name);
        if (run->a->n_tooldefs == 0)
            st = agc_buf_puts(&b, "this agent has no tools");
        else
            st = agc_buf_puts(&b, "available tools:");
        for (size_t i = 0; st == AGC_OK && i < run->a->n_tooldefs; i++)
            st = agc_buf_printf(&b, "%s %s", i ? "," : "", run->a->tooldefs[i].name);
        if (st == AGC_OK)
            st = agc__call_refuse(run, c, "unknown_tool", agc_buf_cstr(&b));
        agc_buf_free(&b);
        return st;
    }
    c->effect = agc_tool_get_effect(c->tool);
    if (c->args)
        return AGC_OK;
    json_t *args = NULL;
    agc_status st = agc_json_parse(&args, c->arguments, strlen(c->arguments), "arguments", ctx);
    if (st == AGC_ENOMEM)
        return st;
    char msg[1200];
    if (st != AGC_OK) {
        snprintf(msg, sizeof msg, "invalid arguments: not valid JSON: %s", agc_ctx_errmsg(ctx));
        return agc__call_refuse(run, c, "schema", msg);
    }
    if (!json_is_object(args)) {
        snprintf(msg, sizeof msg, "invalid arguments: %s expects a JSON object, got %s", c->name,
                 agc_json_type_name(args));
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(args);
        agc_json_leave(prev);
        return agc__call_refuse(run, c, "schema", msg);
    }
    c->args = args;
    return AGC_OK;
}

agc_status agc__call_refuse(agc_run *run, agc__call *c, const char *by, const char *text)
{
    agc_ctx *ctx = run->ctx;
    agc_free(ctx, c->output);
    c->output = agc_strdup(ctx, text);
    if (!c->output)
        return AGC_ENOMEM;
    c->is_error = true;
    c->state = AGC__CALL_DONE;
    c->started = false;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *step = json_pack("{s:s, s:s, s:b, s:s, s:s}", "call_id", c->id, "tool", c->name, "ok",
                             false, "output", text, "denied_by", by);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "call_id", c->id, "tool", c->name, "by", by,
                           "reason", text);
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "tool.result", step);
    agc__run_emit(run, AGC_EVENT_TOOL_DENIED, ev);
    return st;
}

/* ---- running one call --------------------------------------------------------------- */

/* Runs c on cctx_ctx (the run's ctx, or a worker's); result in *res. */
static agc_status exec_call(agc_run *run, agc__call *c, agc_ctx *ctx, agc_tool_result *res,
                            int64_t *duration_ms)
{
    const agc_agent_tool *t = agc_agent_def_find_tool(run->def, c->name);
    agc_tool_call_ctx cctx = AGC_TOOL_CALL_CTX_INIT;
    cctx.ctx = ctx;
    cctx.cancel = &run->cancel;
    cctx.call_id = c->id;
    int64_t t0 = agc_clock_monotonic_ns(ctx);
    if (t && t->timeout_ms > 0)
        cctx.deadline_ns = t0 + t->timeout_ms * 1000000;
    agc_status st = agc_tool_registry_invoke(res, run->a->reg, c->name, c->arguments, &cctx);
    *duration_ms = (agc_clock_monotonic_ns(ctx) - t0) / 1000000;
    return st;
}

/* Cuts text to the definition's cap for the tool (when smaller than the tool's own). */
static agc_status apply_cap(agc_run *run, agc__call *c)
{
    const agc_agent_tool *t = agc_agent_def_find_tool(run->def, c->name);
    size_t len = c->output ? strlen(c->output) : 0;
    if (!t || t->output_cap < 0 || len <= (size_t)t->output_cap)
        return AGC_OK;
    size_t keep = (size_t)t->output_cap;
    while (keep > 0 && ((unsigned char)c->output[keep] & 0xC0) == 0x80)
        keep--;
    char *s = agc_sprintf(run->ctx, "%.*s\n[output truncated: %zu of %zu bytes shown]", (int)keep,
                          c->output, keep, len);
    if (!s)
        return AGC_ENOMEM;
    agc_free(run->ctx, c->output);
    c->output = s;
    c->truncated = true;
    return AGC_OK;
}

/* Takes the result (made on rctx) into c, commits tool.result, emits the event. */
static agc_status finish_call(agc_run *run, agc__call *c, agc_tool_result *res, agc_ctx *rctx,
                              agc_status st, int64_t duration_ms)
{
    agc_ctx *ctx = run->ctx;
    if (st != AGC_OK && st != AGC_ECANCELED) {
        agc_tool_result_clear(res, rctx);
        return st; /* AGC_ENOMEM */
    }
    c->output = agc_strndup(ctx, res->output ? res->output : "", res->output_len);
    c->is_error = res->is_error || st == AGC_ECANCELED;
    c->truncated = res->truncated;
    c->duration_ms = duration_ms;
    agc_tool_result_clear(res, rctx);
    if (!c->output || apply_cap(run, c) != AGC_OK)
        return AGC_ENOMEM;
    c->state = AGC__CALL_DONE;
    c->started = false;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *step = json_pack("{s:s, s:s, s:b, s:s, s:b, s:I}", "call_id", c->id, "tool", c->name,
                             "ok", !c->is_error, "output", c->output, "truncated", c->truncated,
                             "duration_ms", (json_int_t)duration_ms);
    json_t *ev =
        json_pack("{s:s, s:s, s:b, s:s, s:I}", "call_id", c->id, "tool", c->name, "ok",
                  !c->is_error, "output", c->output, "duration_ms", (json_int_t)duration_ms);
    if (ev && c->truncated)
        json_object_set_new(ev, "truncated", json_true());
    if (ev && c->is_error)
        json_object_set_new(ev, "error", json_string(c->output));
    agc_json_leave(prev);
    st = agc__run_commit(run, "tool.result", step);
    agc__run_emit(run, AGC_EVENT_TOOL_RESULT, ev);
    return st;
}

/* Commits the start of c (tool.call) and counts it. */
static agc_status start_call(agc_run *run, agc__call *c)
{
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *step = json_pack("{s:s, s:s, s:s, s:O, s:s, s:I}", "call_id", c->id, "tool", c->name,
                             "arguments", c->arguments, "args", c->args, "effect",
                             agc_tool_effect_name(c->effect), "turn", (json_int_t)run->stats.turns);
    json_t *ev =
        json_pack("{s:s, s:s, s:O}", "call_id", c->id, "tool", c->name, "arguments", c->args);
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "tool.call", step);
    if (st != AGC_OK) {
        prev = agc_json_enter(run->ctx);
        json_decref(ev);
        agc_json_leave(prev);
        return st;
    }
    c->started = true;
    for (agc_run *r = run; r; r = r->opts.parent)
        r->stats.tool_calls++;
    agc__run_emit(run, AGC_EVENT_TOOL_CALL, ev);
    return AGC_OK;
}

/* ---- parallel execution ------------------------------------------------------------ */

typedef struct pool {
    agc_run *run;
    agc__call **calls;
    size_t n;
    size_t next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool;

static void *worker_main(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        agc__call *c = p->next < p->n ? p->calls[p->next++] : NULL;
        pthread_mutex_unlock(&p->mu);
        if (!c)
            return NULL;
        agc_ctx *w = NULL;
        int64_t dur = 0;
        agc_tool_result_init(&c->wres);
        agc_status st = agc_ctx_new(&w, NULL);
        if (st == AGC_OK) {
            /* same clock as the run (tests use a manual one) */
            agc_ctx_set_clock(w, p->run->ctx->clock_ops, p->run->ctx->clock_self);
            st = exec_call(p->run, c, w, &c->wres, &dur);
        }
        pthread_mutex_lock(&p->mu);
        c->wctx = w;
        c->wst = st;
        c->duration_ms = dur;
        c->wdone = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static agc_status run_parallel(agc_run *run, agc__call **calls, size_t n, size_t nthreads)
{
    pool p = {.run = run, .calls = calls, .n = n};
    pthread_t th[16];
    if (nthreads > sizeof th / sizeof *th)
        nthreads = sizeof th / sizeof *th;
    if (pthread_mutex_init(&p.mu, NULL) != 0)
        return agc_error_set(run->ctx, AGC_ERROR, AGC__RT, "cannot create a mutex");
    if (pthread_cond_init(&p.cv, NULL) != 0) {
        pthread_mutex_destroy(&p.mu);
        return agc_error_set(run->ctx, AGC_ERROR, AGC__RT, "cannot create a condition variable");
    }
    size_t started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&th[started], NULL, worker_main, &p) != 0)
            break;
    if (started == 0) /* no thread: run them here, one by one */
        worker_main(&p);
    agc_status st = AGC_OK;
    size_t committed = 0;
    pthread_mutex_lock(&p.mu);
    while (committed < n) {
        agc__call *c = NULL;
        for (size_t i = 0; i < n && !c; i++)
            if (calls[i]->wdone && !calls[i]->committed)
                c = calls[i];
        if (!c) {
            pthread_cond_wait(&p.cv, &p.mu);
            continue;
        }
        c->committed = true;
        pthread_mutex_unlock(&p.mu);
        agc_status cst =
            c->wctx ? finish_call(run, c, &c->wres, c->wctx, c->wst, c->duration_ms) : AGC_ENOMEM;
        agc_ctx_free(c->wctx);
        c->wctx = NULL;
        if (st == AGC_OK)
            st = cst;
        committed++;
        pthread_mutex_lock(&p.mu);
    }
    pthread_mutex_unlock(&p.mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return st;
}

/* Runs up to limit ALLOWED calls, in order; returns how many could not run. */
static agc_status run_allowed(agc_run *run, long long limit, size_t *skipped)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    *skipped = 0;
    size_t n = 0;
    agc__call **todo = agc_calloc(ctx, a->n_calls + 1, sizeof *todo);
    if (!todo)
        return AGC_ENOMEM;
    for (size_t i = 0; i < a->n_calls; i++)
        if (a->calls[i].state == AGC__CALL_ALLOWED) {
            if ((long long)n < limit)
                todo[n++] = &a->calls[i];
            else
                (*skipped)++;
        }
    size_t par = run->opts.max_parallel > 0 ? (size_t)run->opts.max_parallel : DEFAULT_PARALLEL;
    agc_status st = AGC_OK;
    if (n > 1 && par > 1) {
        for (size_t i = 0; st == AGC_OK && i < n; i++)
            st = start_call(run, todo[i]);
        if (st == AGC_OK)
            st = run_parallel(run, todo, n, par < n ? par : n);
    } else {
        for (size_t i = 0; st == AGC_OK && i < n && !atomic_load(&run->cancel); i++) {
            st = start_call(run, todo[i]);
            if (st != AGC_OK)
                break;
            agc_tool_result res;
            agc_tool_result_init(&res);
            int64_t dur = 0;
            agc_status cst = exec_call(run, todo[i], ctx, &res, &dur);
            st = finish_call(run, todo[i], &res, ctx, cst, dur);
        }
    }
    agc_free(ctx, todo);
    return st;
}

/* ---- the TOOLS phase --------------------------------------------------------------- */

static agc_status pause_run(agc_run *run)
{
    agc_ctx *ctx = run->ctx;
    agc__active *a = run->a;
    run->elapsed_before_ms = agc__run_elapsed_ms(run);
    a->active_since_ns = 0;
    run->status = AGC_RUN_AWAITING_APPROVAL;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < a->n_pending; i++)
        json_array_append_new(ids, json_string(a->pending[i].call_id));
    /* the totals so far (children included): a resume restores them from here */
    json_t *step = json_pack("{s:s, s:o, s:o}", "reason", "approval", "call_ids", ids, "summary",
                             agc__run_summary_json(run));
    json_t *ev = json_pack("{s:s, s:s}", "reason", "approval", "call_id",
                           a->n_pending ? a->pending[0].call_id : "");
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "run.paused", step);
    if (st == AGC_OK)
        st = agc__run_update_row(run, "awaiting_approval");
    agc__run_emit(run, AGC_EVENT_RUN_PAUSED, ev);
    return st;
}

agc_status agc__run_tools(agc_run *run)
{
    agc__active *a = run->a;
    agc_status st = AGC_OK;
    if (agc__budget_check(run, false, &st))
        return st;
    for (size_t i = 0; st == AGC_OK && i < a->n_calls; i++)
        st = resolve(run, &a->calls[i]);
    for (size_t i = 0; st == AGC_OK && i < a->n_calls; i++)
        if (a->calls[i].state == AGC__CALL_NEW || a->calls[i].state == AGC__CALL_PENDING)
            st = agc__approval_classify(run, &a->calls[i]);
    if (st != AGC_OK)
        return st;
    long long left = agc__budget_tool_calls_left(run);
    size_t skipped = 0;
    st = run_allowed(run, left, &skipped);
    if (st != AGC_OK)
        return st;
    if (atomic_load(&run->cancel))
        return agc__run_finish(run, AGC_RUN_CANCELED, "canceled", NULL, 0, 0);
    if (skipped > 0)
        return agc__budget_tool_calls_stop(run);
    st = agc__pending_rebuild(run);
    if (st != AGC_OK)
        return st;
    if (a->n_pending > 0)
        return pause_run(run);
    run->phase = AGC__PH_OBSERVE;
    return AGC_OK;
}

agc_status agc__calls_to_conv(agc_run *run)
{
    agc__active *a = run->a;
    for (size_t i = 0; i < a->n_calls; i++) {
        agc__call *c = &a->calls[i];
        agc__msg m = {.role = AGC_ROLE_TOOL, .is_error = c->is_error};
        m.text = c->output && *c->output ? c->output : agc_strdup(run->ctx, "(no output)");
        m.call_id = c->id;
        if (!m.text)
            return AGC_ENOMEM;
        agc_status st = agc__conv_push(run, &m);
        if (st != AGC_OK) {
            if (m.text != c->output)
                agc_free(run->ctx, m.text);
            return st;
        }
        if (m.text == c->output)
            c->output = NULL;
        c->id = NULL; /* now owned by the message */
    }
    return AGC_OK;
}
