/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Agent definitions: an agent file, loaded and schema-checked by the config
 * module, turned into an immutable reference-counted object. Strings and JSON
 * members are borrowed from the document the definition holds, so building
 * one copies almost nothing and runs share it. Invariant: nothing changes
 * after agc_agent_def_from_*() returns (the refcount is the only mutable,
 * atomic, field). Opens no provider, tool or workspace.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "agentc/agent.h"
#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/schema.h"

#define MOD "agent"

struct agc_agent_def {
    atomic_long refs;
    agc_ctx *ctx;
    json_t *doc;
    char *source;
    char *dir; /* the agent file's directory, NULL without a file */
    const char *name;
    const char *instructions;
    const char *model;
    const json_t *provider;
    const json_t *output_schema;
    const json_t *strategy_cfg;
    const json_t *sub_agents;
    const json_t *workspace;
    const json_t *approval_tools;
    const char *strategy;
    double temperature;
    long max_tokens;
    agc_agent_tool *tools;
    size_t n_tools;
    agc_budgets budgets;
    int approval_default; /* agc_tool_approval or AGC_UNSET */
    agc_approve_mode mode;
    agc_schema *output_validator;
    int output_retries;
};

void agc_budgets_init(agc_budgets *b)
{
    *b = (agc_budgets)AGC_BUDGETS_INIT;
}

static const char *const mode_names[] = {"default", "ask", "deny", "reads", "all"};

const char *agc_approve_mode_name(agc_approve_mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof *mode_names ? mode_names[m] : "default";
}

agc_status agc_approve_mode_parse(agc_approve_mode *out, const char *name, agc_ctx *ctx)
{
    for (unsigned i = 1; name && i < sizeof mode_names / sizeof *mode_names; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *out = (agc_approve_mode)i;
            return AGC_OK;
        }
    return agc_error_set(ctx, AGC_EINVAL, MOD,
                         "unknown approval mode '%s'; use ask, deny, reads or all",
                         name ? name : "(null)");
}

static int approval_parse(const char *s)
{
    if (!s)
        return AGC_UNSET;
    if (strcmp(s, "always") == 0)
        return AGC_TOOL_APPROVE_ALWAYS;
    if (strcmp(s, "ask") == 0)
        return AGC_TOOL_APPROVE_ASK;
    if (strcmp(s, "never") == 0)
        return AGC_TOOL_APPROVE_NEVER;
    return AGC_UNSET;
}

static void def_destroy(agc_agent_def *d)
{
    agc_ctx *ctx = d->ctx;
    agc_schema_free(d->output_validator, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(d->doc);
    agc_json_leave(prev);
    agc_free(ctx, d->tools);
    agc_free(ctx, d->source);
    agc_free(ctx, d->dir);
    agc_free(ctx, d);
}

agc_agent_def *agc_agent_def_ref(agc_agent_def *def)
{
    if (def)
        atomic_fetch_add_explicit(&def->refs, 1, memory_order_relaxed);
    return def;
}

void agc_agent_def_unref(agc_agent_def *def)
{
    if (def && atomic_fetch_sub_explicit(&def->refs, 1, memory_order_acq_rel) == 1)
        def_destroy(def);
}

/* "file:line:col: /ptr: " when cfg knows the position, else "source: /ptr: ". */
static agc_status def_error(agc_ctx *ctx, const agc_config *cfg, const char *source,
                            const char *ptr, const char *fmt, const char *arg)
{
    char what[512];
    snprintf(what, sizeof what, fmt, arg);
    agc_config_pos pos = {source, 0, 0};
    if (cfg && agc_config_position(cfg, ptr, &pos) && pos.line > 0)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s:%d:%d: %s: %s", pos.file, pos.line,
                             pos.column, ptr, what);
    return agc_error_set(ctx, AGC_EINVAL, MOD, "%s: %s: %s", pos.file ? pos.file : source, ptr,
                         what);
}

static int64_t seconds_ms(const json_t *v)
{
    return json_is_number(v) ? (int64_t)(json_number_value(v) * 1000.0 + 0.5) : AGC_UNSET;
}

static agc_status read_tools(agc_agent_def *d, const agc_config *cfg)
{
    const json_t *tools = json_object_get(d->doc, "tools");
    size_t n = json_array_size(tools);
    if (n == 0)
        return AGC_OK;
    d->tools = agc_calloc(d->ctx, n, sizeof *d->tools);
    if (!d->tools)
        return AGC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(tools, i);
        agc_agent_tool *e = &d->tools[i];
        e->approval = AGC_UNSET;
        e->timeout_ms = AGC_UNSET;
        e->output_cap = AGC_UNSET;
        if (json_is_string(t)) {
            e->name = json_string_value(t);
        } else {
            e->name = agc_json_str(t, "name", "");
            e->approval = approval_parse(agc_json_str(t, "approval", NULL));
            e->timeout_ms = seconds_ms(json_object_get(t, "timeout_seconds"));
            e->output_cap = agc_json_int(t, "max_output_bytes", AGC_UNSET);
            e->spec = t;
            const char *extra = json_object_get(t, "policy")        ? "policy"
                                : json_object_get(t, "parameters")  ? "parameters"
                                : json_object_get(t, "description") ? "description"
                                                                    : NULL;
            if (extra && !json_object_get(t, "wasm")) {
                char ptr[64];
                snprintf(ptr, sizeof ptr, "/tools/%zu/%s", i, extra);
                return def_error(d->ctx, cfg, d->source, ptr,
                                 "'%s' is only for wasm tools; add 'wasm: FILE.wasm' or remove it",
                                 extra);
            }
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->tools[j].name, e->name) == 0) {
                char ptr[48];
                snprintf(ptr, sizeof ptr, "/tools/%zu", i);
                return def_error(d->ctx, cfg, d->source, ptr,
                                 "tool '%s' is listed twice; list each tool once", e->name);
            }
        d->n_tools = i + 1;
    }
    return AGC_OK;
}

static void read_budgets(agc_agent_def *d)
{
    agc_budgets_init(&d->budgets);
    const json_t *b = json_object_get(d->doc, "budgets");
    if (!b)
        return;
    d->budgets.max_turns = agc_json_int(b, "max_turns", -1);
    d->budgets.max_tool_calls = agc_json_int(b, "max_tool_calls", -1);
    d->budgets.max_input_tokens = agc_json_int(b, "max_input_tokens", -1);
    d->budgets.max_output_tokens = agc_json_int(b, "max_output_tokens", -1);
    d->budgets.max_cost_usd = agc_json_num(b, "max_cost_usd", -1.0);
    d->budgets.max_wall_ms = seconds_ms(json_object_get(b, "max_wall_seconds"));
}

static agc_status read_strategy(agc_agent_def *d, const agc_config *cfg)
{
    const json_t *s = json_object_get(d->doc, "strategy");
    d->strategy = "native";
    if (json_is_string(s)) {
        d->strategy = json_string_value(s);
    } else if (json_is_object(s)) {
        d->strategy_cfg = s;
        d->strategy = agc_json_str(s, "name", "native");
    }
    static const char *const known[] = {"native", "plan_execute", "react", "pipeline"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(d->strategy, known[i]) == 0)
            return AGC_OK;
    return def_error(d->ctx, cfg, d->source, "/strategy",
                     "unknown strategy '%s'; use native, plan_execute, react or pipeline",
                     d->strategy);
}

static agc_status build(agc_agent_def **out, json_t *doc, const char *source, const agc_config *cfg,
                        agc_ctx *ctx)
{
    *out = NULL;
    agc_agent_def *d = agc_calloc(ctx, 1, sizeof *d);
    if (!d) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(doc);
        agc_json_leave(prev);
        return AGC_ENOMEM;
    }
    atomic_init(&d->refs, 1);
    d->ctx = ctx;
    d->doc = doc;
    d->source = agc_strdup(ctx, source ? source : "<agent>");
    if (!d->source) {
        def_destroy(d);
        return AGC_ENOMEM;
    }
    if (cfg) {
        const char *slash = strrchr(d->source, '/');
        size_t n = slash ? (size_t)(slash - d->source) : 0;
        d->dir = slash ? agc_strndup(ctx, d->source, n ? n : 1) : agc_strdup(ctx, ".");
        if (!d->dir) {
            def_destroy(d);
            return AGC_ENOMEM;
        }
    }
    d->name = agc_json_str(doc, "name", "agent");
    d->instructions = agc_json_str(doc, "instructions", NULL);
    d->provider = json_object_get(doc, "provider");
    d->model = agc_json_str(d->provider, "model", NULL);
    d->temperature = agc_json_num(d->provider, "temperature", -1.0);
    d->max_tokens = (long)agc_json_int(d->provider, "max_tokens", 0);
    d->output_schema = json_object_get(doc, "output_schema");
    d->output_retries = (int)agc_json_int(doc, "output_retries", AGC_AGENT_DEFAULT_OUTPUT_RETRIES);
    d->sub_agents = json_object_get(doc, "sub_agents");
    d->workspace = json_object_get(doc, "workspace");
    const json_t *ap = json_object_get(doc, "approvals");
    d->approval_default = approval_parse(agc_json_str(ap, "default", NULL));
    d->approval_tools = json_object_get(ap, "tools");
    d->mode = AGC_APPROVE_MODE_ASK;
    const char *mode = agc_json_str(ap, "mode", NULL);
    agc_status st = AGC_OK;
    if (mode)
        st = agc_approve_mode_parse(&d->mode, mode, ctx);
    if (st == AGC_OK)
        st = read_tools(d, cfg);
    if (st == AGC_OK)
        st = read_strategy(d, cfg);
    read_budgets(d);
    if (st == AGC_OK && d->output_schema) {
        st = agc_schema_compile(&d->output_validator, d->output_schema, NULL, ctx);
        if (st != AGC_OK && st != AGC_ENOMEM) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", agc_ctx_errmsg(ctx));
            st = def_error(ctx, cfg, d->source, "/output_schema",
                           "output_schema does not compile: %s", msg);
        }
    }
    if (st != AGC_OK) {
        def_destroy(d);
        return st;
    }
    *out = d;
    return AGC_OK;
}

agc_status agc_agent_def_from_config(agc_agent_def **out, const agc_config *cfg, agc_ctx *ctx)
{
    json_t *doc = agc_config_root(cfg);
    if (!json_is_object(doc)) {
        *out = NULL;
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s: an agent file must be a mapping",
                             agc_config_source(cfg));
    }
    return build(out, json_incref(doc), agc_config_source(cfg), cfg, ctx);
}

agc_status agc_agent_def_load(agc_agent_def **out, const char *path, const agc_config_opts *opts,
                              agc_ctx *ctx)
{
    *out = NULL;
    agc_config *cfg = NULL;
    agc_status st = agc_config_load(&cfg, path, opts, ctx);
    if (st == AGC_OK)
        st = agc_agent_def_from_config(out, cfg, ctx);
    agc_config_free(cfg);
    return st;
}

agc_status agc_agent_def_from_json(agc_agent_def **out, const json_t *doc, const char *source,
                                   agc_ctx *ctx)
{
    *out = NULL;
    if (!source)
        source = "<agent>";
    if (!json_is_object(doc))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "%s: an agent definition must be an object",
                             source);
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *schema_doc = agc_schema_builtin("agentc:config.schema.json", ctx);
    agc_json_leave(prev);
    if (!schema_doc)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "cannot load the agent file schema");
    agc_schema *schema = NULL;
    agc_status st = agc_schema_compile(&schema, schema_doc, NULL, ctx);
    if (st == AGC_OK) {
        st = agc_schema_validate(NULL, schema, doc, ctx);
        if (st == AGC_ESCHEMA)
            st = agc_error_wrap(ctx, AGC_ESCHEMA, MOD, "%s: not a valid agent definition", source);
    }
    agc_schema_free(schema, ctx);
    prev = agc_json_enter(ctx);
    json_decref(schema_doc);
    json_t *copy = st == AGC_OK ? json_deep_copy(doc) : NULL;
    agc_json_leave(prev);
    if (st != AGC_OK)
        return st;
    if (!copy)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory copying an agent definition");
    return build(out, copy, source, NULL, ctx);
}

/* ---- accessors ----------------------------------------------------------------- */

const char *agc_agent_def_name(const agc_agent_def *d)
{
    return d->name;
}
const char *agc_agent_def_source(const agc_agent_def *d)
{
    return d->source;
}
const char *agc_agent_def_instructions(const agc_agent_def *d)
{
    return d->instructions;
}
const json_t *agc_agent_def_provider(const agc_agent_def *d)
{
    return d->provider;
}
const char *agc_agent_def_model(const agc_agent_def *d)
{
    return d->model;
}
double agc_agent_def_temperature(const agc_agent_def *d)
{
    return d->temperature;
}
long agc_agent_def_max_tokens(const agc_agent_def *d)
{
    return d->max_tokens;
}
size_t agc_agent_def_tool_count(const agc_agent_def *d)
{
    return d->n_tools;
}
const agc_agent_tool *agc_agent_def_tool(const agc_agent_def *d, size_t i)
{
    return i < d->n_tools ? &d->tools[i] : NULL;
}
const char *agc_agent_def_dir(const agc_agent_def *d)
{
    return d->dir;
}

const agc_agent_tool *agc_agent_def_find_tool(const agc_agent_def *d, const char *name)
{
    for (size_t i = 0; name && i < d->n_tools; i++)
        if (strcmp(d->tools[i].name, name) == 0)
            return &d->tools[i];
    return NULL;
}
const agc_budgets *agc_agent_def_budgets(const agc_agent_def *d)
{
    return &d->budgets;
}

agc_tool_approval agc_agent_def_approval(const agc_agent_def *d, const char *name,
                                         agc_tool_approval tool_default)
{
    int a = approval_parse(agc_json_str(d->approval_tools, name, NULL));
    if (a == AGC_UNSET) {
        const agc_agent_tool *t = agc_agent_def_find_tool(d, name);
        a = t ? t->approval : AGC_UNSET;
    }
    if (a == AGC_UNSET)
        a = d->approval_default;
    return a == AGC_UNSET ? tool_default : (agc_tool_approval)a;
}

agc_approve_mode agc_agent_def_approve_mode(const agc_agent_def *d)
{
    return d->mode;
}
const json_t *agc_agent_def_output_schema(const agc_agent_def *d)
{
    return d->output_schema;
}
const agc_schema *agc_agent_def_output_validator(const agc_agent_def *d)
{
    return d->output_validator;
}
int agc_agent_def_output_retries(const agc_agent_def *d)
{
    return d->output_retries;
}
const char *agc_agent_def_strategy(const agc_agent_def *d)
{
    return d->strategy;
}
const json_t *agc_agent_def_strategy_config(const agc_agent_def *d)
{
    return d->strategy_cfg;
}
const json_t *agc_agent_def_sub_agents(const agc_agent_def *d)
{
    return d->sub_agents;
}
const json_t *agc_agent_def_workspace(const agc_agent_def *d)
{
    return d->workspace;
}
const json_t *agc_agent_def_json(const agc_agent_def *d)
{
    return d->doc;
}
