/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Preparing a run (provider, tools, system prompt with AGENTS.md, the run
 * row and its run.started step) and the model call of a turn (request from
 * the conversation, streaming deltas to model.delta events, the response
 * committed as a model.response step before anything else happens). Also
 * the conversation list. Invariant: the conversation only grows; what the
 * model saw can always be rebuilt from the steps. Tool calls: run_tools.c.
 */
#include "run_int.h"
#include "mcp_int_rt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"

/* ---- conversation ------------------------------------------------------------- */

agc_status agc__conv_push(agc_run *run, agc__msg *m)
{
    agc__active *a = run->a;
    if (a->n_msgs == a->cap_msgs) {
        size_t ncap = a->cap_msgs ? a->cap_msgs * 2 : 8;
        agc__msg *nm = agc_realloc(run->ctx, a->msgs, ncap * sizeof *nm);
        if (!nm)
            return AGC_ENOMEM;
        a->msgs = nm;
        a->cap_msgs = ncap;
    }
    a->msgs[a->n_msgs++] = *m;
    return AGC_OK;
}

agc_status agc__conv_add_user(agc_run *run, const char *text, const char *why, bool commit)
{
    agc__msg m = {.role = AGC_ROLE_USER, .text = agc_strdup(run->ctx, text)};
    if (!m.text)
        return AGC_ENOMEM;
    agc_status st = AGC_OK;
    if (commit) {
        agc_ctx *prev = agc_json_enter(run->ctx);
        json_t *data = json_pack("{s:s, s:s}", "text", text, "why", why ? why : "user");
        agc_json_leave(prev);
        st = agc__run_commit(run, "user.message", data);
    }
    if (st == AGC_OK)
        st = agc__conv_push(run, &m);
    if (st != AGC_OK)
        agc_free(run->ctx, m.text);
    return st;
}

void agc__conv_free(agc_run *run)
{
    agc__active *a = run->a;
    for (size_t i = 0; i < a->n_msgs; i++) {
        agc_free(run->ctx, a->msgs[i].text);
        agc_free(run->ctx, a->msgs[i].call_id);
        agc_chat_response_free(a->msgs[i].resp);
    }
    agc_free(run->ctx, a->msgs);
    a->msgs = NULL;
    a->n_msgs = a->cap_msgs = 0;
}

/* ---- prepare -------------------------------------------------------------------- */

static agc_status open_workspace(agc_run *run)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    const json_t *w = agc_agent_def_workspace(run->def);
    agc_workspace_opts wo = AGC_WORKSPACE_OPTS_INIT;
    const char **dr = NULL, **dw = NULL, **env = NULL;
    agc_status st = agc_json_str_list(&dr, json_object_get(w, "deny_read"), ctx);
    if (st == AGC_OK)
        st = agc_json_str_list(&dw, json_object_get(w, "deny_write"), ctx);
    if (st == AGC_OK)
        st = agc_json_str_list(&env, json_object_get(w, "env_allow"), ctx);
    if (st == AGC_OK) {
        wo.deny_read = dr;
        wo.deny_write = dw;
        wo.env_allow = env;
        /* a stored run keeps the directory it started in, wherever it resumes */
        const char *root = a->ws_root ? a->ws_root : agc_json_str(w, "root", ".");
        st = agc_workspace_open(&a->ws, root, &wo, ctx);
        a->own_ws = st == AGC_OK;
    }
    if (st == AGC_OK && !a->ws_root && !(a->ws_root = agc_strdup(ctx, agc_workspace_root(a->ws))))
        st = AGC_ENOMEM;
    agc_free(ctx, dr);
    agc_free(ctx, dw);
    agc_free(ctx, env);
    return st;
}

static agc_status setup_builtin_tools(agc_run *run)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    size_t nd = agc_agent_def_tool_count(run->def);
    agc_status st = AGC_OK;
    a->ws = run->opts.workspace;
    if (!a->ws && (nd > 0 || run->opts.tools == NULL))
        st = open_workspace(run);
    if (st != AGC_OK)
        return st;
    if (run->opts.tools) {
        a->reg = run->opts.tools;
    } else if (nd > 0) {
        st = agc_tool_registry_new(&a->reg, ctx);
        a->own_reg = st == AGC_OK;
        for (size_t i = 0; st == AGC_OK && i < nd; i++) {
            agc_tool *t = NULL;
            st = agc_agent_def_tool_new(&t, run->def, i, a->ws, run->opts.events, ctx);
            if (st == AGC_OK)
                st = agc_tool_registry_add(a->reg, t);
            else if (st == AGC_ENOTFOUND)
                st = agc_error_wrap(ctx, AGC_EINVAL, AGC__RT, "%s: agent '%s' lists tool '%s'",
                                    agc_agent_def_source(run->def), agc_agent_def_name(run->def),
                                    agc_agent_def_tool(run->def, i)->name);
        }
    }
    if (st != AGC_OK || !a->reg)
        return st;
    size_t n = nd > 0 ? nd : agc_tool_registry_count(a->reg);
    if (n == 0)
        return AGC_OK;
    a->tooldefs = agc_calloc(ctx, n, sizeof *a->tooldefs);
    a->validators = agc_calloc(ctx, n, sizeof *a->validators);
    if (!a->tooldefs || !a->validators)
        return AGC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        agc_tool *t = nd > 0
                          ? agc_tool_registry_lookup(a->reg, agc_agent_def_tool(run->def, i)->name)
                          : agc_tool_registry_at(a->reg, i);
        if (!t)
            return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                                 "%s: agent '%s' lists tool '%s', which the tool registry lacks",
                                 agc_agent_def_source(run->def), agc_agent_def_name(run->def),
                                 agc_agent_def_tool(run->def, i)->name);
        a->tooldefs[i].name = agc_tool_name(t);
        a->tooldefs[i].description = agc_tool_description(t);
        a->tooldefs[i].parameters = agc_tool_input_schema(t);
        a->n_tooldefs = i + 1;
    }
    return AGC_OK;
}

/* The definition's built-in tools, then its mcp_servers' tools (mcp_tools.c). */
agc_status agc__run_setup_tools(agc_run *run)
{
    agc_status st = setup_builtin_tools(run);
    return st == AGC_OK ? agc__mcp_setup(run) : st;
}

agc_status agc__run_build_system(agc_run *run)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    const char *instr = agc_agent_def_instructions(run->def);
    char *md = NULL;
    if (!run->opts.no_agents_md && a->ws) {
        const char *root = agc_workspace_root(a->ws);
        char cwd[PATH_MAX];
        const char *wd = run->opts.workdir ? run->opts.workdir : getcwd(cwd, sizeof cwd);
        agc_status st = agc_agents_md_load(&md, root, wd ? wd : root, 0, ctx);
        if (st == AGC_EINVAL)
            st = agc_agents_md_load(&md, root, root, 0, ctx);
        if (st == AGC_ENOMEM)
            return st;
        if (st != AGC_OK)
            agc_log(ctx, AGC_LOG_WARN, AGC__RT, "AGENTS.md not read: %s", agc_ctx_errmsg(ctx));
    }
    if (instr && md)
        a->system = agc_sprintf(ctx, "%s\n\n%s", instr, md);
    else if (instr || md)
        a->system = agc_strdup(ctx, instr ? instr : md);
    agc_free(ctx, md);
    return (instr || md) && !a->system ? AGC_ENOMEM : AGC_OK;
}

agc_status agc__run_active(agc_run *run)
{
    if (!run->a && !(run->a = agc_calloc(run->ctx, 1, sizeof *run->a)))
        return AGC_ENOMEM;
    return AGC_OK;
}

static agc_status start_new(agc_run *run)
{
    agc_ctx *ctx = run->ctx;
    agc__active *a = run->a;
    const char *provider = agc_provider_name(a->provider);
    const char *model = agc__run_model(run);
    if (!model)
        model = agc_provider_model(a->provider);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "id", run->id, "agent",
                            agc_agent_def_name(run->def), "status", "running", "task", run->task);
    if (row && run->opts.parent)
        json_object_set_new(row, "parent_id", json_string(run->opts.parent->id));
    json_t *started = json_pack(
        "{s:s, s:s, s:O, s:o, s:s?, s:s?, s:o}", "agent", agc_agent_def_name(run->def), "task",
        run->task, "definition", agc_agent_def_json(run->def), "system",
        a->system ? json_string(a->system) : json_null(), "provider", provider, "model", model,
        "parent_id", run->opts.parent ? json_string(run->opts.parent->id) : json_null());
    if (started && run->model)
        json_object_set_new(started, "model_override", json_string(run->model));
    if (started && a->ws)
        json_object_set_new(started, "workspace_root", json_string(agc_workspace_root(a->ws)));
    agc_json_leave(prev);
    agc_status st = row ? AGC_OK : AGC_ENOMEM;
    if (st == AGC_OK && run->opts.store)
        st = agc_store_run_create(run->opts.store, row);
    prev = agc_json_enter(ctx);
    json_decref(row);
    agc_json_leave(prev);
    if (st == AGC_OK) {
        st = agc__run_commit(run, "run.started", started);
    } else {
        prev = agc_json_enter(ctx);
        json_decref(started);
        agc_json_leave(prev);
    }
    if (st != AGC_OK)
        return st;
    prev = agc_json_enter(ctx);
    agc__run_emit(run, AGC_EVENT_RUN_STARTED,
                  json_pack("{s:s, s:s, s:s?, s:s}", "agent", agc_agent_def_name(run->def),
                            "provider", provider ? provider : "", "model", model, "input",
                            run->task));
    agc_json_leave(prev);
    run->phase = AGC__PH_MODEL;
    return agc__conv_add_user(run, run->task, "task", false);
}

static agc_status start_resumed(agc_run *run)
{
    agc_ctx *ctx = run->ctx;
    agc__active *a = run->a;
    int64_t now = agc_clock_now_ms(ctx);
    int64_t paused = a->paused_at_ms > 0 && now > a->paused_at_ms ? now - a->paused_at_ms : 0;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *data = json_pack("{s:I}", "paused_ms", (json_int_t)paused);
    agc_json_leave(prev);
    agc_status st = agc__run_commit(run, "run.resumed", data);
    if (st == AGC_OK)
        st = agc__run_update_row(run, "running");
    if (st == AGC_OK && a->commit_model) { /* a model given to agc_run_resume */
        prev = agc_json_enter(ctx);
        json_t *m = json_pack("{s:s}", "model", run->model);
        agc_json_leave(prev);
        st = agc__run_commit(run, "model.changed", m);
        a->commit_model = false;
    }
    if (st != AGC_OK)
        return st;
    prev = agc_json_enter(ctx);
    agc__run_emit(run, AGC_EVENT_RUN_RESUMED, json_pack("{s:I}", "paused_ms", (json_int_t)paused));
    agc_json_leave(prev);
    /* the turn in progress goes on from now (its usage was restored by the replay) */
    a->turn_t0_ns = agc_clock_monotonic_ns(ctx);
    run->phase = a->resume_phase;
    st = agc__multi_restore_handoff(run);
    if (st == AGC_OK)
        st = agc__approval_announce(run);
    return st;
}

agc_status agc__run_prepare(agc_run *run)
{
    agc_ctx *ctx = run->ctx;
    agc_status st = agc__run_active(run);
    if (st != AGC_OK)
        return st;
    agc__active *a = run->a;
    a->active_since_ns = agc_clock_monotonic_ns(ctx);
    run->status = AGC_RUN_RUNNING;
    if (!run->id[0] && (st = agc_id_new_typed(run->id, sizeof run->id, "run", ctx)) != AGC_OK)
        return st;
    if (run->opts.provider) {
        a->provider = run->opts.provider;
    } else {
        const json_t *pc = agc_agent_def_provider(run->def);
        if (!pc)
            return agc_error_set(ctx, AGC_EINVAL, AGC__RT,
                                 "%s: agent '%s' has no provider section; add provider: {name: "
                                 "openai, model: ...}",
                                 agc_agent_def_source(run->def), agc_agent_def_name(run->def));
        st = agc_provider_open_config(&a->provider, pc, ctx);
        if (st != AGC_OK)
            return st;
        a->own_provider = true;
    }
    atomic_store(&run->live_provider, a->provider);
    st = agc__run_setup_tools(run);
    if (st == AGC_OK && !run->resumed)
        st = agc__run_build_system(run);
    if (st == AGC_OK)
        st = agc__multi_setup(run);
    if (st == AGC_OK && run->strategy->setup)
        st = run->strategy->setup(run);
    if (st != AGC_OK)
        return st;
    return run->resumed ? start_resumed(run) : start_new(run);
}

/* ---- the model call ------------------------------------------------------------- */

static const char *retry_status(int http)
{
    if (http == 429)
        return "AGC_ERATELIMIT";
    if (http == 529 || http == 503)
        return "AGC_EOVERLOADED";
    return http ? "AGC_EHTTP" : "AGC_ENET";
}

static agc_status on_delta(const agc_delta *d, void *user)
{
    agc_run *run = user;
    if (atomic_load(&run->cancel))
        return AGC_ECANCELED;
    if (!run->opts.events)
        return AGC_OK;
    agc_ctx *prev = agc_json_enter(run->ctx);
    json_t *data = NULL;
    switch (d->kind) {
    case AGC_DELTA_TEXT:
    case AGC_DELTA_THINKING:
        data = json_pack("{s:s, s:s%}", "kind", d->kind == AGC_DELTA_TEXT ? "text" : "reasoning",
                         "text", d->text ? d->text : "", d->text ? d->text_len : 0);
        break;
    case AGC_DELTA_TOOL_CALL:
        data =
            json_pack("{s:s, s:s, s:I}", "kind", "tool_call", "text",
                      d->arguments_delta ? d->arguments_delta : "", "index", (json_int_t)d->index);
        break;
    case AGC_DELTA_RETRY: {
        const char *model = agc__run_model(run);
        data = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s}", "provider",
                         agc_provider_name(run->a->provider), "model", model ? model : "",
                         "attempt", run->a->retry_attempt++, "delay_ms", (json_int_t)d->retry_in_ms,
                         "status", retry_status(d->status), "reason", d->text ? d->text : "");
        if (data && d->status)
            json_object_set_new(data, "http_status", json_integer(d->status));
        agc__run_emit(run, AGC_EVENT_MODEL_RETRY, data);
        agc_json_leave(prev);
        return AGC_OK;
    }
    }
    agc__run_emit(run, AGC_EVENT_MODEL_DELTA, data);
    agc_json_leave(prev);
    return AGC_OK;
}

/* Fills msgs/parts (n_msgs + 1 entries each) from the system prompt and conversation. */
static size_t build_messages(agc_run *run, agc_message *msgs, agc_part *parts)
{
    agc__active *a = run->a;
    size_t n = 0;
    if (a->system) {
        parts[n] = (agc_part){.kind = AGC_PART_TEXT, .text = a->system};
        msgs[n] = (agc_message){.role = AGC_ROLE_SYSTEM, .parts = &parts[n], .n_parts = 1};
        n++;
    }
    for (size_t i = 0; i < a->n_msgs; i++, n++) {
        const agc__msg *m = &a->msgs[i];
        msgs[n] = (agc_message){.role = m->role};
        if (m->role == AGC_ROLE_ASSISTANT) {
            msgs[n].parts = m->resp->parts;
            msgs[n].n_parts = m->resp->n_parts;
            msgs[n].tool_calls = m->resp->tool_calls;
            msgs[n].n_tool_calls = m->resp->n_tool_calls;
        } else {
            parts[n] = (agc_part){.kind = AGC_PART_TEXT, .text = m->text};
            msgs[n].parts = &parts[n];
            msgs[n].n_parts = 1;
            msgs[n].tool_call_id = m->call_id;
            msgs[n].is_error = m->is_error;
        }
    }
    return n;
}

static json_t *response_event(agc_run *run, const agc_chat_response *r)
{
    json_t *ev = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:I}", "provider",
                           r->provider ? r->provider : agc_provider_name(run->a->provider), "model",
                           r->model ? r->model : "", "finish_reason",
                           agc_finish_reason_name(r->finish), "usage", agc__usage_json(&r->usage),
                           "cost_usd", r->cost_known ? json_real(r->cost_usd) : json_null(),
                           "latency_ms", (json_int_t)r->latency_ms, "request_id",
                           r->request_id ? json_string(r->request_id) : json_null(), "tool_calls",
                           (json_int_t)r->n_tool_calls);
    return ev;
}

agc_status agc__run_model_call(agc_run *run)
{
    return agc__run_model_call_ex(run, NULL);
}

agc_status agc__run_model_call_ex(agc_run *run, const agc__call_opts *o)
{
    static const agc__call_opts dflt = {0};
    if (!o)
        o = &dflt;
    agc_ctx *ctx = run->ctx;
    agc__active *a = run->a;
    run->stats.turns++;
    a->turn_t0_ns = agc_clock_monotonic_ns(ctx);
    a->turn_usage = (agc_usage){0};
    a->turn_cost = 0;
    a->turn_cost_known = true;
    agc_ctx *prev = agc_json_enter(ctx);
    agc__run_emit(run, AGC_EVENT_TURN_STARTED,
                  json_pack("{s:I}", "turn", (json_int_t)run->stats.turns));
    agc_json_leave(prev);

    size_t cap = a->n_msgs + 1;
    agc_message *msgs = agc_calloc(ctx, cap, sizeof *msgs);
    agc_part *parts = agc_calloc(ctx, cap, sizeof *parts);
    if (!msgs || !parts) {
        agc_free(ctx, msgs);
        agc_free(ctx, parts);
        return AGC_ENOMEM;
    }
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.model = agc__run_model(run);
    req.messages = msgs;
    req.n_messages = build_messages(run, msgs, parts);
    req.tools = o->no_tools ? NULL : a->tooldefs;
    req.n_tools = o->no_tools ? 0 : a->n_tooldefs;
    req.temperature = agc_agent_def_temperature(run->def);
    req.max_tokens = agc_agent_def_max_tokens(run->def);
    req.stop = o->stop;
    req.n_stop = o->n_stop;
    if (o->format == AGC__FMT_SCHEMA) {
        req.format = AGC_FORMAT_JSON_SCHEMA;
        req.response_schema = o->schema;
        req.response_schema_name = o->schema_name;
        req.response_schema_strict = false;
    } else if (o->format == AGC__FMT_DEFAULT && agc_agent_def_output_schema(run->def)) {
        req.format = AGC_FORMAT_JSON_SCHEMA;
        req.response_schema = agc_agent_def_output_schema(run->def);
        req.response_schema_name = "final_answer";
        req.response_schema_strict = false;
    }
    const char *model = req.model ? req.model : agc_provider_model(a->provider);
    prev = agc_json_enter(ctx);
    agc__run_emit(run, AGC_EVENT_MODEL_REQUEST,
                  json_pack("{s:s, s:s, s:I, s:I, s:i, s:b}", "provider",
                            agc_provider_name(a->provider), "model", model ? model : "", "messages",
                            (json_int_t)req.n_messages, "tools", (json_int_t)req.n_tools, "attempt",
                            1, "stream", !run->opts.no_stream));
    agc_json_leave(prev);

    a->retry_attempt = 1;
    agc_chat_response *resp = NULL;
    agc_status st =
        agc_provider_chat(&resp, a->provider, &req, run->opts.no_stream ? NULL : on_delta, run);
    agc_free(ctx, msgs);
    agc_free(ctx, parts);
    if (atomic_load(&run->cancel) || st == AGC_ECANCELED) {
        agc_chat_response_free(resp);
        return agc__run_finish(run, AGC_RUN_CANCELED, "canceled", NULL, 0, 0);
    }
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK) {
        agc__run_fail(run, st);
        return AGC_OK; /* the transition happened: the run failed */
    }
    agc__charge(run, &resp->usage, resp->cost_usd, resp->cost_known);
    a->turn_usage = resp->usage;
    a->turn_cost = resp->cost_usd;
    a->turn_cost_known = resp->cost_known;

    json_t *rj = agc_chat_response_to_json(resp, ctx);
    prev = agc_json_enter(ctx);
    /* the cost is the runtime's (provider prices): stored beside the response */
    json_t *step =
        rj ? json_pack("{s:I, s:o, s:o}", "turn", (json_int_t)run->stats.turns, "response", rj,
                       "cost_usd", resp->cost_known ? json_real(resp->cost_usd) : json_null())
           : NULL;
    agc_json_leave(prev);
    st = agc__run_commit(run, "model.response", step);
    agc__msg m = {.role = AGC_ROLE_ASSISTANT, .resp = resp};
    if (st == AGC_OK)
        st = agc__conv_push(run, &m);
    if (st != AGC_OK) {
        agc_chat_response_free(resp);
        return st;
    }
    prev = agc_json_enter(ctx);
    agc__run_emit(run, AGC_EVENT_MODEL_RESPONSE, response_event(run, resp));
    agc_json_leave(prev);
    if (resp->n_tool_calls > 0) {
        a->last_had_calls = true;
        run->phase = AGC__PH_TOOLS;
        return agc__calls_from_response(run, resp);
    }
    a->last_had_calls = false;
    run->phase = AGC__PH_OBSERVE;
    return AGC_OK;
}
