/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The react strategy, for models without native tool calling: the tools and
 * their JSON schemas are rendered into the system prompt, no tools are sent
 * in the request, and the model answers in a text protocol --
 * "Thought: ...\nAction: tool\nAction Input: {json}" or
 * "Thought: ...\nFinal Answer: ..." -- parsed here. An action becomes one
 * tool call dispatched like a native one (approvals, budgets, tool.call /
 * tool.result steps); its result goes back as a user message
 * "Observation: ...". A malformed answer goes back with the expected format,
 * up to strategy.max_format_retries times (default 2) in a row.
 * Invariant: one action per model answer; the parser never guesses a tool
 * name or repairs JSON beyond stripping a code fence.
 */
#include "run_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"

#define DEFAULT_FORMAT_RETRIES 2

static const char FORMAT_HELP[] = "Answer in exactly one of these two forms.\n"
                                  "To use a tool:\n"
                                  "Thought: <your reasoning>\n"
                                  "Action: <tool name>\n"
                                  "Action Input: <the arguments as one JSON object>\n"
                                  "To answer:\n"
                                  "Thought: <your reasoning>\n"
                                  "Final Answer: <your answer>";

typedef struct react_state {
    int bad; /* malformed answers in a row */
} react_state;

static void react_destroy(agc_run *run)
{
    agc_free(run->ctx, run->strategy_state);
    run->strategy_state = NULL;
}

/* ---- the system prompt --------------------------------------------------------------- */

static agc_status react_setup(agc_run *run)
{
    if (run->resumed) /* the stored prompt already has it */
        return AGC_OK;
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = a->system ? agc_buf_printf(&b, "%s\n\n", a->system) : AGC_OK;
    if (st == AGC_OK)
        st = agc_buf_puts(&b, "You work step by step. After each Action you get the tool's "
                              "result as \"Observation: <result>\".\n");
    if (st == AGC_OK)
        st = agc_buf_puts(&b, FORMAT_HELP);
    if (st == AGC_OK)
        st = agc_buf_puts(&b, a->n_tooldefs ? "\n\nTools:" : "\n\nYou have no tools.");
    for (size_t i = 0; st == AGC_OK && i < a->n_tooldefs; i++) {
        char *schema = NULL;
        const agc_tool_def *t = &a->tooldefs[i];
        if (t->parameters)
            st = agc_json_dump(&schema, t->parameters, JSON_COMPACT, ctx);
        if (st == AGC_OK)
            st = agc_buf_printf(&b, "\n- %s: %s\n  Action Input schema: %s", t->name,
                                t->description ? t->description : "", schema ? schema : "{}");
        agc_free(ctx, schema);
    }
    char *sys = st == AGC_OK ? agc_buf_detach(&b, NULL) : NULL;
    agc_buf_free(&b);
    if (st != AGC_OK)
        return st;
    if (!sys)
        return AGC_ENOMEM;
    agc_free(ctx, a->system);
    a->system = sys;
    return AGC_OK;
}

/* ---- parsing ------------------------------------------------------------------------- */

typedef enum verdict { V_BAD = 0, V_ACTION, V_FINAL } verdict;

typedef struct parsed {
    verdict v;
    const char *problem; /* V_BAD */
    char *tool;          /* V_ACTION (owned) */
    char *input;         /* V_ACTION: JSON object text (owned) */
    char *final;         /* V_FINAL (owned) */
} parsed;

/* Position of the first line starting with key (case-insensitive, after blanks
 * and Markdown '*'), at or after from; *val_out: where its value starts. */
static const char *find_key(const char *from, const char *key, const char **val_out)
{
    size_t kl = strlen(key);
    for (const char *line = from; line && *line;) {
        const char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '*')
            p++;
        if (strncasecmp(p, key, kl) == 0) {
            p += kl;
            while (*p == '*' || *p == ' ' || *p == '\t')
                p++;
            *val_out = p;
            return line;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s))
        (*s)++, (*len)--;
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* Length of the JSON object starting at s ('{'), or 0 when it does not close. */
static size_t object_span(const char *s, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

static agc_status parse_action(parsed *p, const char *tool_v, const char *end, agc_ctx *ctx)
{
    const char *nl = strchr(tool_v, '\n');
    const char *t = tool_v;
    size_t tl = nl ? (size_t)(nl - tool_v) : strlen(tool_v);
    trim(&t, &tl);
    while (tl && (*t == '`' || *t == '"' || *t == '\''))
        t++, tl--;
    while (tl && (t[tl - 1] == '`' || t[tl - 1] == '"' || t[tl - 1] == '\'' || t[tl - 1] == '*'))
        tl--;
    if (tl == 0) {
        p->problem = "the Action line names no tool";
        return AGC_OK;
    }
    const char *in_v = NULL;
    if (!find_key(tool_v, "Action Input:", &in_v) || in_v >= end) {
        p->problem = "the Action Input line is missing";
        return AGC_OK;
    }
    size_t il = (size_t)(end - in_v);
    trim(&in_v, &il);
    if (il >= 3 && strncmp(in_v, "```", 3) == 0) { /* a code fence */
        const char *body = memchr(in_v, '\n', il);
        const char *close = body ? strstr(body, "```") : NULL;
        if (body && close && close < in_v + il) {
            il = (size_t)(close - body);
            in_v = body;
            trim(&in_v, &il);
        }
    }
    size_t span = il && *in_v == '{' ? object_span(in_v, il) : 0;
    if (il == 0) {
        p->input = agc_strdup(ctx, "{}");
    } else if (span == 0) {
        p->problem = "the Action Input is not a JSON object";
        return AGC_OK;
    } else {
        json_t *v = NULL;
        agc_status st = agc_json_parse(&v, in_v, span, "Action Input", ctx);
        if (st == AGC_ENOMEM)
            return st;
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(v);
        agc_json_leave(prev);
        if (st != AGC_OK) {
            p->problem = "the Action Input is not valid JSON";
            return AGC_OK;
        }
        p->input = agc_strndup(ctx, in_v, span);
    }
    p->tool = agc_strndup(ctx, t, tl);
    if (!p->tool || !p->input)
        return AGC_ENOMEM;
    p->v = V_ACTION;
    return AGC_OK;
}

static agc_status parse_reply(parsed *p, const char *text, agc_ctx *ctx)
{
    *p = (parsed){V_BAD, NULL, NULL, NULL, NULL};
    const char *act_v = NULL, *fin_v = NULL, *obs_v = NULL;
    const char *act = find_key(text, "Action:", &act_v);
    const char *fin = find_key(text, "Final Answer:", &fin_v);
    if (act && fin) {
        p->problem = "it has both an Action and a Final Answer; give one of them";
        return AGC_OK;
    }
    if (act) {
        /* a model that writes its own Observation: only what comes before counts */
        const char *obs = find_key(act_v, "Observation:", &obs_v);
        return parse_action(p, act_v, obs ? obs : act_v + strlen(act_v), ctx);
    }
    if (fin) {
        const char *s = fin_v;
        size_t l = strlen(s);
        trim(&s, &l);
        if (l == 0) {
            p->problem = "the Final Answer is empty";
            return AGC_OK;
        }
        if (!(p->final = agc_strndup(ctx, s, l)))
            return AGC_ENOMEM;
        p->v = V_FINAL;
        return AGC_OK;
    }
    p->problem = "it has neither an \"Action:\" line nor a \"Final Answer:\" line";
    return AGC_OK;
}

static void parsed_free(parsed *p, agc_ctx *ctx)
{
    agc_free(ctx, p->tool);
    agc_free(ctx, p->input);
    agc_free(ctx, p->final);
}

/* ---- observing ----------------------------------------------------------------------- */

static void emit_turn_finished(agc_run *run, size_t calls)
{
    agc__active *a = run->a;
    if (!a->turn_t0_ns)
        return;
    agc_ctx *prev = agc_json_enter(run->ctx);
    agc__run_emit(
        run, AGC_EVENT_TURN_FINISHED,
        json_pack("{s:I, s:I, s:o, s:o, s:I}", "turn", (json_int_t)run->stats.turns, "tool_calls",
                  (json_int_t)calls, "usage", agc__usage_json(&a->turn_usage), "cost_usd",
                  a->turn_cost_known ? json_real(a->turn_cost) : json_null(), "duration_ms",
                  (json_int_t)((agc_clock_monotonic_ns(run->ctx) - a->turn_t0_ns) / 1000000)));
    agc_json_leave(prev);
    a->turn_t0_ns = 0;
}

/* Makes the action the turn's only call (state NEW) and moves to TOOLS. */
static agc_status start_action(agc_run *run, parsed *p)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    agc__calls_clear(run);
    a->calls = agc_calloc(ctx, 1, sizeof *a->calls);
    if (!a->calls)
        return AGC_ENOMEM;
    a->n_calls = 1;
    char id[AGC_ID_TYPED_SIZE];
    agc_status st = agc_id_new_typed(id, sizeof id, "call", ctx);
    if (st != AGC_OK)
        return st;
    agc__call *c = &a->calls[0];
    if (!(c->id = agc_strdup(ctx, id)))
        return AGC_ENOMEM;
    c->name = p->tool;
    c->arguments = p->input;
    p->tool = p->input = NULL;
    a->last_had_calls = true;
    run->phase = AGC__PH_TOOLS;
    return AGC_OK;
}

/* The results of the turn's call go back as one "Observation:" user message. */
static agc_status observe_results(agc_run *run)
{
    agc__active *a = run->a;
    agc_buf b;
    agc_buf_init(&b, run->ctx, 0);
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < a->n_calls; i++) {
        const agc__call *c = &a->calls[i];
        st = agc_buf_printf(&b, "%sObservation: %s%s", i ? "\n" : "", c->is_error ? "error: " : "",
                            c->output && *c->output ? c->output : "(no output)");
    }
    if (st == AGC_OK)
        st = agc__conv_add_user(run, agc_buf_cstr(&b), "observation", true);
    agc_buf_free(&b);
    if (st != AGC_OK)
        return st;
    emit_turn_finished(run, a->n_calls);
    agc__calls_clear(run);
    a->last_had_calls = false;
    run->phase = AGC__PH_MODEL;
    return AGC_OK;
}

static agc_status react_observe(agc_run *run, react_state *rs)
{
    agc__active *a = run->a;
    agc_ctx *ctx = run->ctx;
    if (a->last_had_calls)
        return observe_results(run);
    const agc__msg *last = a->n_msgs ? &a->msgs[a->n_msgs - 1] : NULL;
    if (!last || last->role != AGC_ROLE_ASSISTANT) {
        run->phase = AGC__PH_MODEL;
        return AGC_OK;
    }
    if (last->resp->n_tool_calls > 0) { /* a native call despite no tools offered */
        a->last_had_calls = true;
        run->phase = AGC__PH_TOOLS;
        return agc__calls_from_response(run, last->resp);
    }
    parsed p;
    agc_status st = parse_reply(&p, agc_chat_response_text(last->resp), ctx);
    if (st == AGC_OK && p.v == V_FINAL) {
        rs->bad = 0;
        st = agc__structured_accept(run, p.final);
    } else if (st == AGC_OK && p.v == V_ACTION) {
        rs->bad = 0;
        st = start_action(run, &p); /* the turn goes on with the call */
    } else if (st == AGC_OK) {
        emit_turn_finished(run, 0);
        const json_t *cfg = agc_agent_def_strategy_config(run->def);
        int max = (int)agc_json_int(cfg, "max_format_retries", DEFAULT_FORMAT_RETRIES);
        char *msg = NULL;
        if (++rs->bad > max) {
            msg = agc_sprintf(ctx,
                              "the model did not follow the ReAct format after %d attempt(s): %s",
                              rs->bad, p.problem);
            run->fail_code = AGC_EPARSE;
            st = msg ? agc__run_finish(run, AGC_RUN_FAILED, msg, NULL, 0, 0) : AGC_ENOMEM;
        } else {
            msg = agc_sprintf(ctx, "Your answer does not follow the required format: %s.\n%s",
                              p.problem, FORMAT_HELP);
            st = msg ? agc__conv_add_user(run, msg, "react_format", true) : AGC_ENOMEM;
            run->phase = AGC__PH_MODEL;
        }
        agc_free(ctx, msg);
    }
    parsed_free(&p, ctx);
    return st;
}

/* ---- the step ---------------------------------------------------------------------- */

static agc_status react_step(agc_run *run)
{
    if (!run->strategy_state &&
        !(run->strategy_state = agc_calloc(run->ctx, 1, sizeof(react_state))))
        return AGC_ENOMEM;
    react_state *rs = run->strategy_state;
    agc_status st = AGC_OK;
    switch (run->phase) {
    case AGC__PH_MODEL: {
        if (agc__budget_check(run, true, &st))
            return st;
        if ((st = agc__multi_before_model(run)) != AGC_OK)
            return st;
        static const char *const stop[] = {"\nObservation:"};
        agc__call_opts o = {.no_tools = true, .format = AGC__FMT_TEXT, .stop = stop, .n_stop = 1};
        return agc__run_model_call_ex(run, &o);
    }
    case AGC__PH_TOOLS:
        st = agc__multi_tools(run);
        if (st != AGC_OK || agc_run_status_terminal(run->status))
            return st;
        return agc__run_tools(run);
    case AGC__PH_OBSERVE:
        return react_observe(run, rs);
    default:
        return AGC_OK;
    }
}

const agc__strategy agc__strategy_react = {2,           "react", react_step, react_destroy,
                                           react_setup, NULL};
