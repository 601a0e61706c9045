/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Running WebAssembly tools under a per-tool policy: the policy (YAML/JSON,
 * deny by default, schemas/sandbox-policy.schema.json), and the tool object
 * that runs each call in a jailed worker process (fresh per call, or from a
 * pre-forked pool recycled after N calls and after any trap), or in this
 * process. Invariant: a call gets exactly what its policy grants; every limit
 * violation is a specific error ("memory limit 64 MiB exceeded", "timed out
 * after 2000 ms"), an event ("sandbox.violation") and leaves no process or
 * file descriptor behind. The HTTP gate and its secrets stay in this
 * process: workers forward agentc.http_request over their control channel.
 * It is not a scheduler: one call per worker at a time.
 */
#ifndef AGENTC_SANDBOX_WORKER_H
#define AGENTC_SANDBOX_WORKER_H

#include <jansson.h>

#include "event.h"
#include "jail.h"
#include "sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a call runs. */
typedef enum agc_sandbox_mode {
    AGC_SANDBOX_FRESH = 0, /* a new jailed worker process per call */
    AGC_SANDBOX_POOL,      /* pre-forked jailed workers, recycled */
    AGC_SANDBOX_INPROCESS  /* this process: no OS jail, only the wasm limits */
} agc_sandbox_mode;

/* A directory granted to the guest. Strings owned by the policy. */
typedef struct agc_sandbox_path {
    char *host;  /* absolute, resolved at load */
    char *guest; /* the name the guest sees */
    bool writable;
} agc_sandbox_path;

/*
 * A tool's policy. Everything not listed is denied. Strings and arrays are
 * owned by the policy (agc_sandbox_policy_free). Defaults in brackets.
 */
typedef struct agc_sandbox_policy {
    agc_sandbox_path *paths; /* allowed_paths */
    size_t n_paths;
    char **env; /* environment variable names passed through */
    size_t n_env;
    json_t *allowed_hosts;      /* array handed to agc_http_gate_new, or NULL [none] */
    uint32_t memory_mb;         /* guest linear memory cap [64] */
    uint32_t timeout_ms;        /* wall time per call [5000] */
    uint32_t max_output_kb;     /* stdout / result cap [1024] */
    uint32_t cpu_ms;            /* CPU time per worker (RLIMIT_CPU, whole seconds up) [0: none] */
    uint32_t max_write_kb;      /* largest file the guest may write (RLIMIT_FSIZE) [0: none] */
    uint32_t max_open_files;    /* RLIMIT_NOFILE of the worker [64] */
    uint32_t max_http_requests; /* per call [16] */
    agc_jail_mode landlock;     /* [best effort] */
    agc_jail_mode namespaces;   /* [best effort] */
    bool network_namespace;     /* also put the worker in a new network namespace [false] */
    agc_sandbox_mode mode;      /* [pool] */
    uint32_t pool_size;         /* [1] */
    uint32_t pool_max_calls;    /* a pooled worker is replaced after this many calls [100] */
    char *entry;                /* export to call [NULL: "_start"] */
} agc_sandbox_policy;

/* A new policy with the defaults (nothing granted). *out is the caller's. AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_sandbox_policy_new(agc_sandbox_policy **out, agc_ctx *ctx);

/*
 * Builds a policy from a JSON object (already parsed; validated against the
 * policy schema here). base_dir resolves relative paths (NULL: the current
 * directory); where (may be NULL) prefixes messages ("agent.yaml:12:5").
 * Paths must exist. Errors: AGC_ESCHEMA / AGC_EINVAL naming the field,
 * AGC_ENOTFOUND for a missing path, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_sandbox_policy_from_json(agc_sandbox_policy **out, const json_t *obj,
                                                      const char *base_dir, const char *where,
                                                      agc_ctx *ctx);

/*
 * Loads a policy file (YAML or JSON). Errors carry "file:line:col: /ptr:
 * message" (AGC_EPARSE, AGC_ESCHEMA), else as agc_sandbox_policy_from_json;
 * relative paths are taken from the file's directory.
 */
AGC_NODISCARD agc_status agc_sandbox_policy_load(agc_sandbox_policy **out, const char *path,
                                                 agc_ctx *ctx);

/* Frees a policy; NULL is a no-op. */
void agc_sandbox_policy_free(agc_sandbox_policy *p, agc_ctx *ctx);

/* "fresh", "pool", "inprocess". */
const char *agc_sandbox_mode_name(agc_sandbox_mode m);

/* ---- tools */

typedef struct agc_sandbox_tool agc_sandbox_tool;

typedef struct agc_sandbox_tool_opts {
    unsigned version;                     /* AGC_SANDBOX_TOOL_OPTS_VERSION */
    const char *name;                     /* for events and messages; NULL: the file name */
    const agc_wasm_compile_opts *compile; /* NULL: defaults (the user cache) */
    agc_event_bus *events;                /* violations are emitted here; may be NULL */
    const char *run_id;                   /* stamped on events; may be NULL */
} agc_sandbox_tool_opts;

#define AGC_SANDBOX_TOOL_OPTS_VERSION 1
#define AGC_SANDBOX_TOOL_OPTS_INIT                                                                 \
    {                                                                                              \
        AGC_SANDBOX_TOOL_OPTS_VERSION, NULL, NULL, NULL, NULL                                      \
    }
void agc_sandbox_tool_opts_init(agc_sandbox_tool_opts *o);

/*
 * Reads, checks (imports) and compiles (cached) the module at wasm_path,
 * copies the policy, builds the HTTP gate from allowed_hosts, and in pool
 * mode starts the workers. A required jail layer that is missing fails here
 * (AGC_EUNSUPPORTED). *out is the caller's (agc_sandbox_tool_free). Errors:
 * those of the module parse / compile, AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_sandbox_tool_new(agc_sandbox_tool **out, const char *wasm_path,
                                              const agc_sandbox_policy *policy,
                                              const agc_sandbox_tool_opts *opts, agc_ctx *ctx);

/* One call's outcome. Owned strings; agc_sandbox_call_free. */
typedef struct agc_sandbox_call {
    agc_ctx *ctx;
    agc_wasm_trap trap; /* AGC_WASM_TRAP_NONE unless the guest was stopped */
    bool exited;
    int exit_code;
    char *output; /* the agentc result, else stdout (NUL-terminated) */
    size_t output_len;
    bool is_result; /* output is the agentc result (JSON) */
    char *err;      /* the guest's stderr */
    size_t err_len;
    const char *violation; /* "memory", "timeout", "output", "cpu", "trap", "crash", "http",
                              "jail" or NULL (static) */
    int worker_pid;        /* host pid of the worker, 0 in process */
    double wall_ms;
} agc_sandbox_call;

/*
 * Runs the tool once with input_json (NULL: "{}"): the JSON arguments for an
 * agentc module, or stdin for a WASI command. Fills *res (free it with
 * agc_sandbox_call_free, also on failure). AGC_OK when the guest returned or
 * exited (any code); otherwise the specific error: AGC_ELIMIT ("memory limit
 * 64 MiB exceeded", "output limit 1024 KiB exceeded", "cpu limit 1 s
 * exceeded"), AGC_ETIMEDOUT ("timed out after 2000 ms"), AGC_ERROR (a trap or
 * a worker crash), AGC_EUNSUPPORTED / AGC_EPERM (jail). The tool serves
 * several threads (in-process calls are serialised).
 */
AGC_NODISCARD agc_status agc_sandbox_tool_call(agc_sandbox_call *res, agc_sandbox_tool *t,
                                               const char *input_json);
void agc_sandbox_call_free(agc_sandbox_call *res);

typedef struct agc_sandbox_stats {
    uint64_t calls;
    uint64_t workers_started;
    uint64_t workers_recycled; /* pooled workers replaced (call count or trap) */
    uint64_t violations;
} agc_sandbox_stats;

void agc_sandbox_tool_stats(agc_sandbox_stats *out, agc_sandbox_tool *t);
/* The jail the last worker got ("" before any, or in process). Copied into buf. */
void agc_sandbox_tool_jail_text(char *buf, size_t n, agc_sandbox_tool *t);
/* Host pids of the live pooled workers into pids (at most n); returns the count. */
size_t agc_sandbox_tool_pool_pids(int *pids, size_t n, agc_sandbox_tool *t);
/* The module (borrowed while t lives). */
const agc_wasm_module *agc_sandbox_tool_module(const agc_sandbox_tool *t);
/* Stops the workers and frees; NULL is a no-op. */
void agc_sandbox_tool_free(agc_sandbox_tool *t);

/* ---- runtime adapter (src/runtime/wasm_tools.c) */

struct agc_tool;

/*
 * Makes a runtime tool (agentc/tool.h) from an agent-file entry:
 * {"name", "wasm": PATH, "description", "parameters": JSON Schema,
 *  "policy": {...} | "policy.yaml", "timeout_seconds"}. Relative paths are
 * taken from base_dir (the agent file's directory; NULL: cwd); where prefixes
 * messages. Each call runs per the policy (worker, pool or in process); a
 * violation is an error result for the model with the specific message, and
 * an event on events (may be NULL). Effect: read, write (an rw: path) or
 * network (allowed_hosts); approval "always" for read-only tools, else "ask".
 * *out is the caller's (agc_tool_free or a registry). Errors: as
 * agc_sandbox_policy_load / agc_sandbox_tool_new, AGC_EINVAL (bad entry).
 */
AGC_NODISCARD agc_status agc_wasm_tool_new(struct agc_tool **out, const json_t *entry,
                                           const char *base_dir, const char *where,
                                           const agc_wasm_compile_opts *compile,
                                           agc_event_bus *events, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
