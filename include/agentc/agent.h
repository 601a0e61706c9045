/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Agent definitions: what an agent file (agent.yaml / agent.json, checked
 * against schemas/config.schema.json) says about an agent -- name,
 * instructions, provider, tools with per-tool overrides, budgets, approval
 * policy, output schema, strategy and sub-agents -- parsed once into an
 * immutable, reference-counted object that any number of runs share.
 * Invariant: a definition never changes after it is built, so runs on
 * several threads may read it at once. It opens nothing (no provider, no
 * workspace, no tools): runs do that (include/agentc/runtime.h).
 * Also here: AGENTS.md project instructions, merged from the workspace root
 * down to the working directory.
 */
#ifndef AGENTC_AGENT_H
#define AGENTC_AGENT_H

#include <jansson.h>

#include "common.h"
#include "config.h"
#include "tool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_agent_def agc_agent_def;
typedef struct agc_schema agc_schema;

/* Unset numeric limits and overrides are -1. */
#define AGC_UNSET (-1)

/* One entry of the definition's tools list. */
typedef struct agc_agent_tool {
    const char *name;   /* tool name (built-in now; WASM/MCP names later) */
    int approval;       /* agc_tool_approval, or AGC_UNSET: the tool's own default */
    int64_t timeout_ms; /* AGC_UNSET: the tool's own timeout (an override can only shorten it) */
    int64_t output_cap; /* bytes shown to the model; AGC_UNSET: the tool's own cap */
    const json_t
        *spec; /* the entry when it is an object ({"name", "wasm", "policy", ...}), else NULL */
} agc_agent_tool;

/*
 * Run limits. Any field < 0 means unlimited. The run stops when one is
 * reached, with a reason such as "budget exceeded: max_turns 40 reached".
 */
typedef struct agc_budgets {
    long long max_turns;         /* model calls */
    long long max_tool_calls;    /* tool calls started (0: none allowed) */
    long long max_input_tokens;  /* summed over the run (cached tokens included) */
    long long max_output_tokens; /* summed over the run */
    double max_cost_usd;         /* summed known cost; responses of unknown cost add nothing */
    int64_t max_wall_ms;         /* active time of the run (ctx monotonic clock) */
} agc_budgets;

#define AGC_BUDGETS_INIT                                                                           \
    {                                                                                              \
        -1, -1, -1, -1, -1.0, -1                                                                   \
    }
void agc_budgets_init(agc_budgets *b);

/*
 * What happens to a call whose approval is "ask" when no human answers:
 * ASK asks the run's approver, or pauses the run (status awaiting_approval)
 * when there is none; DENY refuses; READS allows tools whose effect is read
 * and refuses the others; ALL allows. "never" tools are refused in every
 * mode, "always" tools run in every mode.
 */
typedef enum agc_approve_mode {
    AGC_APPROVE_MODE_DEFAULT =
        0, /* in run options: the definition's mode (itself ASK by default) */
    AGC_APPROVE_MODE_ASK,
    AGC_APPROVE_MODE_DENY,
    AGC_APPROVE_MODE_READS,
    AGC_APPROVE_MODE_ALL,
} agc_approve_mode;

/* "default", "ask", "deny", "reads", "all". Never NULL. */
const char *agc_approve_mode_name(agc_approve_mode m);
/* Parses one of the names above. AGC_EINVAL lists the accepted names. */
agc_status agc_approve_mode_parse(agc_approve_mode *out, const char *name, agc_ctx *ctx);

/* Default number of times a final answer that fails output_schema is sent back. */
#define AGC_AGENT_DEFAULT_OUTPUT_RETRIES 2

/* ---- loading --------------------------------------------------------------- */

/*
 * Loads an agent file: agc_config_load(path, opts) (YAML or JSON, AGENTC_*
 * overrides, validation against the shipped schema), then the checks the
 * schema cannot express (duplicate tool names, an output_schema that does
 * not compile, unknown strategy). Every error names "file:line:column".
 * opts may be NULL. *out is the caller's reference (agc_agent_def_unref);
 * NULL on failure. Errors: those of agc_config_load (AGC_EIO, AGC_ENOTFOUND,
 * AGC_EPARSE, AGC_ESCHEMA, ...), AGC_EINVAL for the extra checks, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_agent_def_load(agc_agent_def **out, const char *path,
                                            const agc_config_opts *opts, agc_ctx *ctx);
/*
 * Builds a definition from a loaded, validated config (cfg is not kept; the
 * definition takes its own reference to the document). Same extra checks
 * and errors as agc_agent_def_load.
 */
AGC_NODISCARD agc_status agc_agent_def_from_config(agc_agent_def **out, const agc_config *cfg,
                                                   agc_ctx *ctx);
/*
 * Builds a definition from a JSON document (e.g. the copy a stored run
 * keeps), validating it against the schema first; source names it in
 * messages (no line numbers). The document is copied. Errors as above.
 */
AGC_NODISCARD agc_status agc_agent_def_from_json(agc_agent_def **out, const json_t *doc,
                                                 const char *source, agc_ctx *ctx);

/*
 * Takes another reference (thread-safe; returns def). The definition is
 * freed, on the ctx it was built with, when the last reference is dropped:
 * that ctx must outlive every reference, and must not be in use by another
 * thread when the last one goes.
 */
agc_agent_def *agc_agent_def_ref(agc_agent_def *def);
/* Drops a reference (thread-safe); NULL is a no-op. */
void agc_agent_def_unref(agc_agent_def *def);

/* ---- reading a definition --------------------------------------------------- */
/* Strings and JSON values are borrowed for the definition's lifetime. */

/* The agent name ("agent" when the file gives none). */
const char *agc_agent_def_name(const agc_agent_def *def);
/* Where it came from (the file path or the source given). */
const char *agc_agent_def_source(const agc_agent_def *def);
/* The system prompt, or NULL. */
const char *agc_agent_def_instructions(const agc_agent_def *def);
/* The provider section ({"name", "model", ...}), or NULL when absent. */
const json_t *agc_agent_def_provider(const agc_agent_def *def);
/* provider.model, or NULL. */
const char *agc_agent_def_model(const agc_agent_def *def);
/* provider.temperature (< 0: unset) and provider.max_tokens (<= 0: unset). */
double agc_agent_def_temperature(const agc_agent_def *def);
long agc_agent_def_max_tokens(const agc_agent_def *def);

/* Number of tools, and the i-th (NULL when out of range), in file order. */
size_t agc_agent_def_tool_count(const agc_agent_def *def);
const agc_agent_tool *agc_agent_def_tool(const agc_agent_def *def, size_t i);
/* The entry for name, or NULL when the agent does not list it. */
const agc_agent_tool *agc_agent_def_find_tool(const agc_agent_def *def, const char *name);
/*
 * The directory of the agent file, which relative paths in it (wasm, policy)
 * are taken from: "." for "agent.yaml", NULL when the definition has no file
 * (built from JSON: paths are then taken from the current directory).
 */
const char *agc_agent_def_dir(const agc_agent_def *def);

struct agc_workspace;
struct agc_event_bus;
/*
 * Makes the tool of the definition's i-th tools entry: a WebAssembly tool
 * (agc_wasm_tool_new, include/agentc/sandbox_worker.h: paths relative to
 * agc_agent_def_dir, violations emitted on events, which may be NULL) when
 * the entry has `wasm`, else the built-in tool of that name on ws. *out is
 * the caller's. Errors: AGC_ENOTFOUND (no built-in of that name), those of
 * agc_wasm_tool_new (with "file: /tools/N" in the message), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_agent_def_tool_new(agc_tool **out, const agc_agent_def *def, size_t i,
                                                struct agc_workspace *ws,
                                                struct agc_event_bus *events, agc_ctx *ctx);

const agc_budgets *agc_agent_def_budgets(const agc_agent_def *def);

/*
 * The effective approval of tool name whose own default is tool_default:
 * approvals.tools[name], else the tools entry's approval, else
 * approvals.default, else tool_default.
 */
agc_tool_approval agc_agent_def_approval(const agc_agent_def *def, const char *name,
                                         agc_tool_approval tool_default);
/* approvals.mode (AGC_APPROVE_MODE_ASK when absent). */
agc_approve_mode agc_agent_def_approve_mode(const agc_agent_def *def);

/* output_schema as given, or NULL; and compiled once (NULL when none). */
const json_t *agc_agent_def_output_schema(const agc_agent_def *def);
const agc_schema *agc_agent_def_output_validator(const agc_agent_def *def);
/* output_retries (AGC_AGENT_DEFAULT_OUTPUT_RETRIES when absent). */
int agc_agent_def_output_retries(const agc_agent_def *def);

/* strategy.name: "native" (the default tool-calling loop), "plan_execute", "react". */
const char *agc_agent_def_strategy(const agc_agent_def *def);
/* The strategy section, or NULL. */
const json_t *agc_agent_def_strategy_config(const agc_agent_def *def);
/* sub_agents (array), or NULL. Parsed by the multi-agent strategies, not here. */
const json_t *agc_agent_def_sub_agents(const agc_agent_def *def);
/* workspace section, or NULL. */
const json_t *agc_agent_def_workspace(const agc_agent_def *def);
/* The whole document (after environment overrides). */
const json_t *agc_agent_def_json(const agc_agent_def *def);

/* ---- AGENTS.md -------------------------------------------------------------- */

/* Cap of the merged project instructions. */
#define AGC_AGENTS_MD_MAX ((size_t)32 * 1024)

/*
 * Reads the AGENTS.md files of every directory from root down to workdir
 * (workdir must be root or below it; both are filesystem paths) and merges
 * them, root first, each introduced by a line "# AGENTS.md (<relative dir>)".
 * The merge is cut at cap bytes (0: AGC_AGENTS_MD_MAX), at a UTF-8 boundary,
 * and then ends with "[AGENTS.md truncated: N of M bytes shown]". *out is
 * the caller's (agc_free), NULL when no file exists. Unreadable files are
 * skipped with a warning logged. Errors: AGC_EINVAL when workdir is not
 * under root, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_agents_md_load(char **out, const char *root, const char *workdir,
                                            size_t cap, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
