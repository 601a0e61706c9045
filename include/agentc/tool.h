/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tools: the seam between the agent loop and anything a model may call
 * (built-in workspace tools, WASM tools, MCP tools). A tool is an ops table
 * plus self, described by a spec (name, description, input JSON Schema,
 * side-effect class, default approval, timeout, output cap). The registry
 * parses and VALIDATES the model's arguments against the compiled schema
 * before a tool runs, caps the output and turns every problem the model can
 * fix (bad JSON, bad arguments, unknown tool, tool failure) into an error
 * result to send back, never a crash. Approval is NOT enforced here: the
 * runtime reads agc_tool_approval() and asks before invoking.
 */
#ifndef AGENTC_TOOL_H
#define AGENTC_TOOL_H

#include <jansson.h>
#ifdef __cplusplus
#include <atomic>
typedef std::atomic<bool> agc_atomic_bool;
#else
#include <stdatomic.h>
typedef atomic_bool agc_atomic_bool; /* the cancel flag type (std::atomic<bool> in C++) */
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What running a tool can do to the world; the runtime's approval policy keys on it. */
typedef enum agc_tool_effect {
    AGC_TOOL_EFFECT_READ = 0, /* reads the workspace only */
    AGC_TOOL_EFFECT_WRITE,    /* changes files */
    AGC_TOOL_EFFECT_EXEC,     /* runs programs */
    AGC_TOOL_EFFECT_NETWORK   /* talks to the network */
} agc_tool_effect;

/* The default approval of a tool (a policy may override it). */
typedef enum agc_tool_approval {
    AGC_TOOL_APPROVE_ALWAYS = 0, /* runs without asking */
    AGC_TOOL_APPROVE_ASK,        /* a human must approve each call */
    AGC_TOOL_APPROVE_NEVER       /* never runs */
} agc_tool_approval;

/* "read", "write", "exec", "network" / "always", "ask", "never". Never NULL. */
const char *agc_tool_effect_name(agc_tool_effect e);
const char *agc_tool_approval_name(agc_tool_approval a);

/*
 * The outcome of one call. is_error marks a failure the model should see
 * (its text is in output). output is NUL-terminated, owned by the result and
 * allocated on the call's ctx; when the tool produced more than the cap,
 * output ends with "[output truncated: N of M bytes shown]", truncated is
 * true and total_len is M. structured is an optional JSON value (owned).
 * Free with agc_tool_result_clear() on the same ctx.
 */
typedef struct agc_tool_result {
    bool is_error;
    char *output;      /* NULL means empty */
    size_t output_len; /* bytes of output, without the NUL */
    bool truncated;
    size_t total_len; /* bytes the tool produced (>= shown bytes) */
    json_t *structured;
} agc_tool_result;

/* Zeroes r (an empty, successful result). Cannot fail. */
void agc_tool_result_init(agc_tool_result *r);
/* Frees what r owns (ctx: the one the call ran on) and re-initialises it. */
void agc_tool_result_clear(agc_tool_result *r, agc_ctx *ctx);
/*
 * Replaces r's output with a copy of len bytes of text. total_len is the
 * number of bytes the tool produced (0: len); pass more than len when the
 * tool stopped collecting early, so the truncation notice tells the model.
 * AGC_ENOMEM.
 */
agc_status agc_tool_result_set_output(agc_tool_result *r, const char *text, size_t len,
                                      size_t total_len, agc_ctx *ctx);
/*
 * Makes r an error result whose output is the formatted message. Returns
 * AGC_OK (the error is for the model, not the caller) or AGC_ENOMEM.
 */
agc_status agc_tool_result_errorf(agc_tool_result *r, agc_ctx *ctx, const char *fmt, ...)
    AGC_PRINTF(3, 4);

/*
 * Per-call context. ctx gives memory, errors and the clock (NULL: the
 * registry's ctx). deadline_ns is on agc_clock_monotonic_ns(ctx) (0: none);
 * the registry tightens it with the tool's own timeout before calling.
 * cancel, when set, is polled: another thread stores true to stop the call.
 * output_cap is filled in by the registry (the tool's cap) for tools that
 * stop collecting early. user is for the embedder.
 */
typedef struct agc_tool_call_ctx {
    unsigned version; /* AGC_TOOL_CALL_CTX_VERSION */
    agc_ctx *ctx;
    int64_t deadline_ns;
    const agc_atomic_bool *cancel;
    const char *call_id; /* the provider's call id, for logs; may be NULL */
    size_t output_cap;
    void *user;
} agc_tool_call_ctx;

#define AGC_TOOL_CALL_CTX_VERSION 1
#define AGC_TOOL_CALL_CTX_INIT                                                                     \
    {                                                                                              \
        AGC_TOOL_CALL_CTX_VERSION, NULL, 0, NULL, NULL, 0, NULL                                    \
    }

/*
 * For tools, in loops: AGC_OK, or AGC_ECANCELED / AGC_ETIMEDOUT with a
 * message on cctx->ctx when the call must stop.
 */
agc_status agc_tool_call_check(const agc_tool_call_ctx *cctx);

/* ---- implementing a tool --------------------------------------------------- */

typedef struct agc_tool_ops {
    unsigned version; /* AGC_TOOL_OPS_VERSION */
    /*
     * Runs the tool with arguments already validated against its schema.
     * Fills *out (initialised, empty). A failure the model should see may be
     * returned either as an error result (AGC_OK) or as a failing status with
     * a message on cctx->ctx: the registry turns the message into an error
     * result. Only AGC_ENOMEM and AGC_ECANCELED reach the runtime.
     */
    agc_status (*call)(void *self, const json_t *args, agc_tool_result *out,
                       agc_tool_call_ctx *cctx);
    /* Frees self; may be NULL. */
    void (*destroy)(void *self);
} agc_tool_ops;

#define AGC_TOOL_OPS_VERSION 1

typedef struct agc_tool_spec {
    unsigned version;           /* AGC_TOOL_SPEC_VERSION */
    const char *name;           /* ^[a-zA-Z0-9_.-]{1,64}$; MCP tools are "server.tool" */
    const char *description;    /* for the model; NULL: "" */
    const json_t *input_schema; /* JSON Schema of the arguments object; NULL: {"type":"object"} */
    agc_tool_effect effect;
    agc_tool_approval approval;
    int64_t timeout_ms; /* 0: none */
    size_t output_cap;  /* bytes of output shown to the model; 0: AGC_TOOL_DEFAULT_OUTPUT_CAP */
} agc_tool_spec;

#define AGC_TOOL_SPEC_VERSION       1
#define AGC_TOOL_DEFAULT_OUTPUT_CAP ((size_t)64 * 1024)
#define AGC_TOOL_SPEC_INIT                                                                         \
    {                                                                                              \
        AGC_TOOL_SPEC_VERSION, NULL, NULL, NULL, AGC_TOOL_EFFECT_READ, AGC_TOOL_APPROVE_ASK, 0, 0  \
    }

typedef struct agc_tool agc_tool;

/*
 * Creates a tool. Copies the spec's strings, takes a reference to the input
 * schema and compiles it once. Takes ownership of self: ops->destroy(self)
 * runs when the tool is freed, also when this call fails. *out is the
 * caller's (agc_tool_free, or hand it to agc_tool_registry_add). AGC_EINVAL
 * for a bad name, unknown version or a schema that does not compile (the
 * message names the tool), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_tool_new(agc_tool **out, const agc_tool_ops *ops, void *self,
                                      const agc_tool_spec *spec, agc_ctx *ctx);
/* Frees a tool that is not in a registry; NULL is a no-op. */
void agc_tool_free(agc_tool *tool);

/* Accessors; strings and the schema are borrowed for the tool's lifetime. */
const char *agc_tool_name(const agc_tool *tool);
const char *agc_tool_description(const agc_tool *tool);
const json_t *agc_tool_input_schema(const agc_tool *tool);
agc_tool_effect agc_tool_get_effect(const agc_tool *tool);
agc_tool_approval agc_tool_get_approval(const agc_tool *tool);
int64_t agc_tool_timeout_ms(const agc_tool *tool);
size_t agc_tool_output_cap(const agc_tool *tool);

/* Whether name is a valid tool name (^[a-zA-Z0-9_.-]{1,64}$). */
bool agc_tool_name_valid(const char *name);

/*
 * Validates args against the tool's schema, runs it and caps the output.
 * *out must be initialised (agc_tool_result_init) and is filled on AGC_OK:
 * invalid arguments give an error result "invalid arguments: /path: must be
 * string; ...". Returns AGC_OK when *out holds a result (maybe an error
 * result), AGC_ECANCELED when cctx->cancel was set (*out also says so),
 * AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_tool_invoke(agc_tool_result *out, agc_tool *tool, const json_t *args,
                                         agc_tool_call_ctx *cctx);

/* ---- registry ---------------------------------------------------------------- */

typedef struct agc_tool_registry agc_tool_registry;

/* Creates an empty registry that remembers ctx. AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_tool_registry_new(agc_tool_registry **out, agc_ctx *ctx);
/* Frees the registry and every tool in it; NULL is a no-op. */
void agc_tool_registry_free(agc_tool_registry *reg);
/*
 * Adds a tool; the registry takes ownership of it, also on failure.
 * AGC_EEXISTS when the name is taken, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_tool_registry_add(agc_tool_registry *reg, agc_tool *tool);
/* The tool named name, or NULL. Borrowed until the registry is freed. */
agc_tool *agc_tool_registry_lookup(const agc_tool_registry *reg, const char *name);
/* Number of tools, and the i-th in insertion order (NULL when out of range), for
 * building provider tool definitions. Borrowed. */
size_t agc_tool_registry_count(const agc_tool_registry *reg);
agc_tool *agc_tool_registry_at(const agc_tool_registry *reg, size_t i);

/*
 * Runs the tool called name with args_json (the model's argument text,
 * NUL-terminated; NULL or "" means {}). Unknown tool, arguments that are not
 * a JSON object, arguments that fail the schema and tool failures all give
 * AGC_OK with an error result in *out for the model (the unknown-tool text
 * lists the available names). *out must be initialised. Returns AGC_ENOMEM
 * or AGC_ECANCELED otherwise (see agc_tool_invoke).
 */
AGC_NODISCARD agc_status agc_tool_registry_invoke(agc_tool_result *out, agc_tool_registry *reg,
                                                  const char *name, const char *args_json,
                                                  agc_tool_call_ctx *cctx);

#ifdef __cplusplus
}
#endif
#endif
