/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Multi-agent patterns on top of any strategy: the definition's sub_agents
 * (an agent file relative to this one, or an inline definition that inherits
 * the provider and workspace sections) become built-in tools.
 * agent_<name> {task} (mode tool, the default) starts a child run (parent_id
 * set, its own budgets, usage and cost charged to every ancestor too), runs
 * it to the end and returns its final answer as the tool result.
 * handoff_to_<name> {note} (mode handoff) hands the conversation over: before
 * the next model call the target's definition, instructions, tools and model
 * replace the current ones in the same run (an agent.handoff step and event).
 * Invariant: sub-agent tool calls never reach the tool registry; they are
 * committed as tool.call / tool.result steps like any other call.
 * The agent.handoff step stores the target's definition, prompt and
 * workspace root, so a resumed run continues as the agent it was handed to.
 * Not here: approvals for sub-agent tools (they always run), a child run
 * that pauses for approval (its call fails; the child stays paused in the
 * store). The pipeline is strategy_pipeline.c.
 */
#include "run_int.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"

#define AGENT_PREFIX   "agent_"
#define HANDOFF_PREFIX "handoff_to_"

static const char TASK_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"task\":{\"type\":\"string\",\"description\":"
    "\"The task for the agent, with everything it needs to know.\"}},\"required\":[\"task\"],"
    "\"additionalProperties\":false}";
static const char NOTE_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"note\":{\"type\":\"string\",\"description\":"
    "\"What the next agent should know or do.\"}},\"additionalProperties\":false}";

struct agc__multi {
    agc__sub *subs;
    size_t n;
    json_t *task_schema;
    json_t *note_schema;
    const agc__sub *handoff; /* pending until the next model call */
    char *handoff_note;
};

/* ---- loading ------------------------------------------------------------------------ */

static agc__sub_mode mode_parse(const char *s)
{
    if (s && strcmp(s, "handoff") == 0)
        return AGC__SUB_HANDOFF;
    if (s && strcmp(s, "pipeline") == 0)
        return AGC__SUB_PIPELINE;
    return AGC__SUB_TOOL;
}

static void budgets_read(agc_budgets *b, const json_t *j)
{
    agc_budgets_init(b);
    b->max_turns = agc_json_int(j, "max_turns", -1);
    b->max_tool_calls = agc_json_int(j, "max_tool_calls", -1);
    b->max_input_tokens = agc_json_int(j, "max_input_tokens", -1);
    b->max_output_tokens = agc_json_int(j, "max_output_tokens", -1);
    b->max_cost_usd = agc_json_num(j, "max_cost_usd", -1.0);
    const json_t *w = json_object_get(j, "max_wall_seconds");
    b->max_wall_ms = json_is_number(w) ? (int64_t)(json_number_value(w) * 1000.0 + 0.5) : -1;
}

/* dirname(source without any "#fragment") joined with file, or file when absolute. */
static char *sub_path(const char *source, const char *file, agc_ctx *ctx)
{
    if (file[0] == '/')
        return agc_strdup(ctx, file);
    size_t len = strcspn(source, "#");
    const char *slash = NULL;
    for (const char *p = source; p < source + len; p++)
        if (*p == '/')
            slash = p;
    if (!slash)
        return agc_strdup(ctx, file);
    return agc_sprintf(ctx, "%.*s/%s", (int)(slash - source), source, file);
}

/* The inline definition with version, name, provider and workspace filled in. */
static agc_status inline_def(agc_agent_def **out, const json_t *agent, const char *name,
                             const agc_agent_def *parent, const char *source, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *doc = json_deep_copy(agent);
    if (doc && !json_object_get(doc, "version"))
        json_object_set_new(doc, "version", json_integer(1));
    if (doc && !json_object_get(doc, "name"))
        json_object_set_new(doc, "name", json_string(name));
    const json_t *p = agc_agent_def_provider(parent);
    if (doc && p && !json_object_get(doc, "provider"))
        json_object_set_new(doc, "provider", json_deep_copy(p));
    const json_t *w = agc_agent_def_workspace(parent);
    if (doc && w && !json_object_get(doc, "workspace"))
        json_object_set_new(doc, "workspace", json_deep_copy(w));
    agc_json_leave(prev);
    if (!doc)
        return agc_error_set(ctx, AGC_ENOMEM, AGC__RT, "out of memory copying sub-agent '%s'",
                             name);
    agc_status st = agc_agent_def_from_json(out, doc, source, ctx);
    prev = agc_json_enter(ctx);
    json_decref(doc);
    agc_json_leave(prev);
    return st;
}

static agc_status load_sub(agc__sub *s, const json_t *e, size_t i, const agc_agent_def *parent,
                           agc_ctx *ctx)
{
    const char *src = agc_agent_def_source(parent);
    s->name = agc_json_str(e, "name", "");
    s->description = agc_json_str(e, "description", NULL);
    s->mode = mode_parse(agc_json_str(e, "mode", NULL));
    const json_t *b = json_object_get(e, "budgets");
    s->has_budgets = json_is_object(b);
    budgets_read(&s->budgets, b);
    const char *file = agc_json_str(e, "file", NULL);
    const json_t *agent = json_object_get(e, "agent");
    agc_status st;
    if (file) {
        char *path = sub_path(src, file, ctx);
        if (!path)
            return AGC_ENOMEM;
        st = agc_agent_def_load(&s->def, path, NULL, ctx);
        agc_free(ctx, path);
    } else if (json_is_object(agent)) {
        char *where =
            agc_sprintf(ctx, "%.*s#/sub_agents/%zu/agent", (int)strcspn(src, "#"), src, i);
        if (!where)
            return AGC_ENOMEM;
        st = inline_def(&s->def, agent, s->name, parent, where, ctx);
        agc_free(ctx, where);
    } else {
        return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                             "%s: sub-agent '%s' needs a file or an inline agent definition", src,
                             s->name);
    }
    if (st != AGC_OK && st != AGC_ENOMEM)
        st = agc_error_wrap(ctx, st, AGC__RT, "%s: sub-agent '%s' does not load", src, s->name);
    if (st != AGC_OK)
        return st;
    s->tool = agc_sprintf(ctx, "%s%s", s->mode == AGC__SUB_HANDOFF ? HANDOFF_PREFIX : AGENT_PREFIX,
                          s->name);
    const char *d = s->description ? s->description
                                   : agc_json_str(agc_agent_def_json(s->def), "description", NULL);
    if (s->mode == AGC__SUB_HANDOFF)
        s->tool_description =
            agc_sprintf(ctx,
                        "Hand the conversation over to the agent '%s'%s%s. It continues the work "
                        "in your place with its own instructions and tools; you stop.",
                        s->name, d ? ": " : "", d ? d : "");
    else
        s->tool_description =
            agc_sprintf(ctx,
                        "Give a task to the agent '%s'%s%s. It works on it alone with its own "
                        "tools and budget and returns its final answer.",
                        s->name, d ? ": " : "", d ? d : "");
    return s->tool && s->tool_description ? AGC_OK : AGC_ENOMEM;
}

void agc__multi_free(agc_run *run)
{
    agc__multi *m = run->multi;
    if (!m)
        return;
    agc_ctx *ctx = run->ctx;
    for (size_t i = 0; i < m->n; i++) {
        agc_agent_def_unref(m->subs[i].def);
        agc_free(ctx, m->subs[i].tool);
        agc_free(ctx, m->subs[i].tool_description);
    }
    agc_free(ctx, m->subs);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(m->task_schema);
    json_decref(m->note_schema);
    agc_json_leave(prev);
    agc_free(ctx, m->handoff_note);
    agc_free(ctx, m);
    run->multi = NULL;
}

/* Appends the sub-agent tools to a->tooldefs (and room in a->validators). */
static agc_status add_tooldefs(agc_run *run, agc__multi *m)
{
    agc__active *a = run->a;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++)
        k += m->subs[i].mode != AGC__SUB_PIPELINE;
    if (k == 0)
        return AGC_OK;
    agc_tool_def *td = agc_realloc(run->ctx, a->tooldefs, (a->n_tooldefs + k) * sizeof *td);
    if (!td)
        return AGC_ENOMEM;
    a->tooldefs = td;
    agc_schema **v = agc_realloc(run->ctx, a->validators, (a->n_tooldefs + k) * sizeof *v);
    if (!v)
        return AGC_ENOMEM;
    a->validators = v;
    for (size_t i = 0; i < m->n; i++) {
        const agc__sub *s = &m->subs[i];
        if (s->mode == AGC__SUB_PIPELINE)
            continue;
        v[a->n_tooldefs] = NULL;
        td[a->n_tooldefs++] = (agc_tool_def){
            .name = s->tool,
            .description = s->tool_description,
            .parameters = s->mode == AGC__SUB_HANDOFF ? m->note_schema : m->task_schema,
        };
    }
    return AGC_OK;
}

agc_status agc__multi_setup(agc_run *run)
{
    const json_t *list = agc_agent_def_sub_agents(run->def);
    if (json_array_size(list) == 0 || run->multi)
        return AGC_OK;
    agc_ctx *ctx = run->ctx;
    agc__multi *m = agc_calloc(ctx, 1, sizeof *m);
    if (!m)
        return AGC_ENOMEM;
    run->multi = m;
    m->subs = agc_calloc(ctx, json_array_size(list), sizeof *m->subs);
    if (!m->subs)
        return AGC_ENOMEM;
    agc_status st = agc_json_parse(&m->task_schema, TASK_SCHEMA, strlen(TASK_SCHEMA), NULL, ctx);
    if (st == AGC_OK)
        st = agc_json_parse(&m->note_schema, NOTE_SCHEMA, strlen(NOTE_SCHEMA), NULL, ctx);
    for (size_t i = 0; st == AGC_OK && i < json_array_size(list); i++) {
        agc__sub *s = &m->subs[i];
        m->n = i + 1;
        st = load_sub(s, json_array_get(list, i), i, run->def, ctx);
        for (size_t j = 0; st == AGC_OK && j < i; j++)
            if (strcmp(m->subs[j].name, s->name) == 0)
                st = agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                                   "%s: sub-agent '%s' is defined twice; give each a unique name",
                                   agc_agent_def_source(run->def), s->name);
    }
    if (st == AGC_OK && strcmp(run->strategy->name, "pipeline") != 0)
        st = add_tooldefs(run, m);
    return st;
}

const agc__sub *agc__multi_find(const agc_run *run, const char *name)
{
    for (size_t i = 0; run->multi && name && i < run->multi->n; i++)
        if (strcmp(run->multi->subs[i].name, name) == 0)
            return &run->multi->subs[i];
    return NULL;
}

size_t agc__multi_count(const agc_run *run)
{
    return run->multi ? run->multi->n : 0;
}

const agc__sub *agc__multi_at(const agc_run *run, size_t i)
{
    return run->multi && i < run->multi->n ? &run->multi->subs[i] : NULL;
}

/* ---- child runs ------------------------------------------------------------------- */

static bool same_json(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

void agc__child_clear(agc__child *c, agc_ctx *ctx)
{
    agc_free(ctx, c->text);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(c->json);
    agc_json_leave(prev);
    *c = (agc__child){0};
}

agc_status agc__multi_run_child(agc__child *out, agc_run *run, const agc__sub *s, const char *task)
{
    agc_ctx *ctx = run->ctx;
    *out = (agc__child){0};
    agc_run_opts o = AGC_RUN_OPTS_INIT;
    o.store = run->opts.store;
    o.events = run->opts.events;
    o.approve = run->opts.approve;
    o.approver = run->opts.approver;
    o.approver_user = run->opts.approver_user;
    o.max_parallel = run->opts.max_parallel;
    o.no_stream = run->opts.no_stream;
    o.no_agents_md = run->opts.no_agents_md;
    o.workdir = run->opts.workdir;
    o.parent = run;
    o.budgets = s->has_budgets ? &s->budgets : NULL;
    if (same_json(agc_agent_def_provider(s->def), agc_agent_def_provider(run->def)))
        o.provider = run->a->provider;
    if (run->a->ws && same_json(agc_agent_def_workspace(s->def), agc_agent_def_workspace(run->def)))
        o.workspace = run->a->ws;
    agc_run *child = NULL;
    agc_status st = agc_run_new(&child, s->def, task, &o, ctx);
    if (st != AGC_OK)
        return st;
    atomic_store(&run->live_child, child);
    if (atomic_load(&run->cancel))
        agc_run_cancel(child);
    st = agc_run_until_done(child);
    atomic_store(&run->live_child, NULL);
    while (atomic_load(&run->cancel_busy) > 0) /* an agc_run_cancel may still hold child */
        sched_yield();
    out->status = agc_run_status_get(child);
    memcpy(out->run_id, agc_run_id(child), strlen(agc_run_id(child)) + 1);
    const char *reason = agc_run_reason(child);
    if (out->status == AGC_RUN_FINISHED) {
        const json_t *j = agc_run_output_json(child);
        out->text = agc_strdup(ctx, agc_run_output(child) ? agc_run_output(child) : "");
        agc_ctx *prev = agc_json_enter(ctx);
        out->json = j ? json_deep_copy(j) : NULL;
        agc_json_leave(prev);
        st = out->text && (!j || out->json) ? AGC_OK : AGC_ENOMEM;
    } else if (out->status == AGC_RUN_AWAITING_APPROVAL) {
        out->text = agc_sprintf(ctx,
                                "agent '%s' stopped: its run %s waits for a tool approval, which a "
                                "sub-agent call cannot wait for",
                                s->name, out->run_id);
        st = out->text ? AGC_OK : AGC_ENOMEM;
    } else {
        out->text = agc_sprintf(ctx, "agent '%s' stopped (%s): %s", s->name,
                                agc_run_status_name(out->status), reason ? reason : "no reason");
        st = out->text ? AGC_OK : AGC_ENOMEM;
    }
    agc_run_free(child);
    return st;
}

/* ---- the calls of a turn ------------------------------------------------------------- */

static const agc__sub *sub_for_tool(const agc_run *run, const char *tool)
{
    for (size_t i = 0; run->multi && i < run->multi->n; i++)
        if (run->multi->subs[i].mode != AGC__SUB_PIPELINE &&
            strcmp(run->multi->subs[i].tool, tool) == 0)
            return &run->multi->subs[i];
    return NULL;
}

/* Commits tool.call (and counts it) for c, whose arguments are args. */
static agc_status start(agc_run *run, agc__call *c, const json_t *args)
{
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *step = json_pack("{s:s, s:s, s:s, s:O, s:s, s:I}", "call_id", c->id, "tool", c->name,
                             "arguments", c->arguments, "args", args, "effect", "exec", "turn",
                             (json_int_t)run->stats.turns);
    json_t *ev = json_pack("{s:s, s:s, s:O}", "call_id", c->id, "tool", c->name, "arguments", args);
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "tool.call", step);
    if (st == AGC_OK)
        for (agc_run *r = run; r; r = r->opts.parent)
            r->stats.tool_calls++;
    agc__run_emit(run, AGC_EVENT_TOOL_CALL, st == AGC_OK ? ev : NULL);
    if (st != AGC_OK) {
        prev = agc_json_enter(run->ctx);
        json_decref(ev);
        agc_json_leave(prev);
    }
    return st;
}

/* Sets c's result (text is taken) and commits tool.result; child_id may be NULL. */
static agc_status finish(agc_run *run, agc__call *c, char *text, bool is_error,
                         const char *child_id)
{
    agc_ctx *ctx = run->ctx;
    agc_free(ctx, c->output);
    c->output = text;
    c->is_error = is_error;
    c->state = AGC__CALL_DONE;
    c->started = false;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *step =
        json_pack("{s:s, s:s, s:b, s:s, s:b, s:I}", "call_id", c->id, "tool", c->name, "ok",
                  !is_error, "output", text, "truncated", false, "duration_ms", (json_int_t)0);
    json_t *ev = json_pack("{s:s, s:s, s:b, s:s, s:I}", "call_id", c->id, "tool", c->name, "ok",
                           !is_error, "output", text, "duration_ms", (json_int_t)0);
    if (child_id && step)
        json_object_set_new(step, "child_run_id", json_string(child_id));
    if (child_id && ev)
        json_object_set_new(ev, "child_run_id", json_string(child_id));
    if (is_error && ev)
        json_object_set_new(ev, "error", json_string(text));
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "tool.result", step);
    agc__run_emit(run, AGC_EVENT_TOOL_RESULT, ev);
    return st;
}

/* Runs one sub-agent call c (state NEW) of sub s. */
static agc_status do_call(agc_run *run, agc__call *c, const agc__sub *s)
{
    agc_ctx *ctx = run->ctx;
    agc__multi *m = run->multi;
    json_t *args = NULL;
    agc_status st = agc_json_parse(&args, c->arguments, strlen(c->arguments), "arguments", ctx);
    if (st == AGC_ENOMEM)
        return st;
    const char *task = agc_json_str(args, "task", NULL);
    const char *note = agc_json_str(args, "note", NULL);
    if (st != AGC_OK || !json_is_object(args) || (s->mode == AGC__SUB_TOOL && !task)) {
        char *msg =
            agc_sprintf(ctx, "invalid arguments: %s expects %s", c->name,
                        s->mode == AGC__SUB_TOOL ? "{\"task\": string}" : "{\"note\": string}");
        st = msg ? agc__call_refuse(run, c, "schema", msg) : AGC_ENOMEM;
        agc_free(ctx, msg);
    } else if (s->mode == AGC__SUB_HANDOFF && m->handoff) {
        st = agc__call_refuse(run, c, "policy", "only one handoff per turn; this one was ignored");
    } else if ((st = start(run, c, args)) == AGC_OK && s->mode == AGC__SUB_HANDOFF) {
        m->handoff = s;
        agc_free(ctx, m->handoff_note);
        m->handoff_note = note && *note ? agc_strdup(ctx, note) : NULL;
        char *text = agc_sprintf(ctx, "Handed the conversation over to agent '%s'.", s->name);
        if (text && (!note || !*note || m->handoff_note)) {
            st = finish(run, c, text, false, NULL); /* takes text */
        } else {
            agc_free(ctx, text);
            st = AGC_ENOMEM;
        }
    } else if (st == AGC_OK) {
        agc__child ch;
        st = agc__multi_run_child(&ch, run, s, task);
        if (st == AGC_OK) {
            st = finish(run, c, ch.text, ch.status != AGC_RUN_FINISHED, ch.run_id);
            ch.text = NULL;
        }
        agc__child_clear(&ch, ctx);
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(args);
    agc_json_leave(prev);
    return st;
}

agc_status agc__multi_tools(agc_run *run)
{
    agc__active *a = run->a;
    if (!run->multi)
        return AGC_OK;
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < a->n_calls; i++) {
        agc__call *c = &a->calls[i];
        const agc__sub *s = c->state == AGC__CALL_NEW ? sub_for_tool(run, c->name) : NULL;
        if (!s)
            continue;
        if (agc__budget_check(run, false, &st))
            return st;
        if (agc__budget_tool_calls_left(run) <= 0)
            return agc__budget_tool_calls_stop(run);
        st = do_call(run, c, s);
        if (st == AGC_OK && atomic_load(&run->cancel))
            return agc__run_finish(run, AGC_RUN_CANCELED, "canceled", NULL, 0, 0);
    }
    return st;
}

/* ---- handoff -------------------------------------------------------------------------- */

/* Drops the tools, registry and workspace the run set up for its definition. */
static void tools_drop(agc_run *run)
{
    agc__active *a = run->a;
    for (size_t i = 0; a->validators && i < a->n_tooldefs; i++)
        agc_schema_free(a->validators[i], run->ctx);
    agc_free(run->ctx, a->validators);
    agc_free(run->ctx, a->tooldefs);
    a->validators = NULL;
    a->tooldefs = NULL;
    a->n_tooldefs = 0;
    if (a->own_reg)
        agc_tool_registry_free(a->reg);
    a->reg = NULL;
    a->own_reg = false;
    if (a->own_ws)
        agc_workspace_close(a->ws);
    a->ws = NULL;
    a->own_ws = false;
}

/* Opens the target's provider when the run owns its provider and the section differs. */
static agc_status switch_provider(agc_run *run, const agc_agent_def *to)
{
    agc__active *a = run->a;
    const json_t *pc = agc_agent_def_provider(to);
    if (!a->own_provider || !pc || same_json(pc, agc_agent_def_provider(run->def)))
        return AGC_OK;
    agc_provider *p = NULL;
    agc_status st = agc_provider_open_config(&p, pc, run->ctx);
    if (st != AGC_OK)
        return st;
    atomic_store(&run->live_provider, p);
    agc_provider_close(a->provider);
    a->provider = p;
    return AGC_OK;
}

/* Commits agent.handoff (after the switch: with what a resume needs to
 * continue as the target) and emits the event (from, to, note, turn). */
static agc_status record_handoff(agc_run *run, const char *from, const char *note)
{
    agc__active *a = run->a;
    const char *to = agc_agent_def_name(run->def);
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *ev = json_pack("{s:s, s:s, s:s?, s:I}", "from", from, "to", to, "note", note, "turn",
                           (json_int_t)run->stats.turns);
    json_t *d = ev ? json_deep_copy(ev) : NULL;
    if (d && (json_object_set_new(d, "definition", json_deep_copy(agc_agent_def_json(run->def))) ||
              json_object_set_new(d, "source", json_string(agc_agent_def_source(run->def))) ||
              json_object_set_new(d, "system", a->system ? json_string(a->system) : json_null()) ||
              json_object_set_new(d, "workspace_root",
                                  a->ws ? json_string(agc_workspace_root(a->ws)) : json_null()))) {
        json_decref(d);
        d = NULL;
    }
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "agent.handoff", d);
    agc__run_emit_custom(run, "agent.handoff", ev);
    return st;
}

agc_status agc__multi_restore_handoff(agc_run *run)
{
    agc__active *a = run->a;
    if (!a->replay_handoff_tool)
        return AGC_OK;
    const agc__sub *s = sub_for_tool(run, a->replay_handoff_tool);
    agc_free(run->ctx, a->replay_handoff_tool);
    a->replay_handoff_tool = NULL;
    char *note = a->replay_handoff_note;
    a->replay_handoff_note = NULL;
    if (!s || s->mode != AGC__SUB_HANDOFF) { /* the stored definition no longer has it */
        agc_free(run->ctx, note);
        return AGC_OK;
    }
    run->multi->handoff = s;
    agc_free(run->ctx, run->multi->handoff_note);
    run->multi->handoff_note = note;
    return AGC_OK;
}

agc_status agc__multi_before_model(agc_run *run)
{
    agc__multi *m = run->multi;
    if (!m || !m->handoff)
        return AGC_OK;
    agc_ctx *ctx = run->ctx;
    agc__active *a = run->a;
    agc_agent_def *to = agc_agent_def_ref(m->handoff->def);
    agc_agent_def *from = run->def;
    char *note = m->handoff_note;
    m->handoff_note = NULL;
    m->handoff = NULL;
    char *from_name = agc_strdup(ctx, agc_agent_def_name(from));
    agc_status st = from_name ? switch_provider(run, to) : AGC_ENOMEM;
    if (st != AGC_OK) {
        agc_agent_def_unref(to);
        agc_free(ctx, note);
        agc_free(ctx, from_name);
        return st;
    }
    bool same_ws = same_json(agc_agent_def_workspace(to), agc_agent_def_workspace(from));
    tools_drop(run);
    agc__multi_free(run);
    run->def = to;
    agc_agent_def_unref(from);
    agc_free(ctx, a->system);
    a->system = NULL;
    if (!same_ws) { /* the target's own workspace section */
        agc_free(ctx, a->ws_root);
        a->ws_root = NULL;
    }
    st = agc__run_model_set(run, NULL); /* the target's own model */
    if (st == AGC_OK)
        st = agc__run_setup_tools(run);
    if (st == AGC_OK)
        st = agc__run_build_system(run);
    if (st == AGC_OK)
        st = agc__multi_setup(run);
    if (st == AGC_OK && run->strategy->setup) {
        bool resumed = run->resumed; /* a new agent: its prompt is new too */
        run->resumed = false;
        st = run->strategy->setup(run);
        run->resumed = resumed;
    }
    if (st == AGC_OK)
        st = record_handoff(run, from_name, note);
    if (st == AGC_OK && note) {
        char *msg =
            agc_sprintf(ctx, "Note from agent '%s', who handed the conversation over to you: %s",
                        from_name, note);
        st = msg ? agc__conv_add_user(run, msg, "handoff", true) : AGC_ENOMEM;
        agc_free(ctx, msg);
    }
    agc_free(ctx, note);
    agc_free(ctx, from_name);
    return st;
}
