/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WebAssembly sandbox: reads and checks a .wasm module, compiles it ahead of
 * time to native code (wasm2c 1.0.32 + the C compiler, cached by content
 * hash) and runs it against our WASI preview1 host and the `agentc` import
 * module (docs/sandbox-abi.md). Invariant: a guest only reaches what the run
 * options grant (preopened directories, allowlisted environment, capped
 * output, capped memory, a deadline); everything else answers a WASI errno.
 * It does not isolate the process: trap handling is process-global, so run
 * one guest at a time per process; production runs each guest in a jailed
 * worker process (agentc/jail.h).
 */
#ifndef AGENTC_SANDBOX_H
#define AGENTC_SANDBOX_H

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- module inspection */

typedef struct agc_wasm_module agc_wasm_module;

typedef enum agc_wasm_kind {
    AGC_WASM_FUNC = 0,
    AGC_WASM_TABLE = 1,
    AGC_WASM_MEMORY = 2,
    AGC_WASM_GLOBAL = 3
} agc_wasm_kind;

/* One import or export. sig is the function signature ("iiii:i": params,
 * colon, results; i=i32 I=i64 f=f32 F=f64 v=v128 r=funcref x=externref) or
 * NULL for other kinds. Strings are borrowed from the module. */
typedef struct agc_wasm_import {
    const char *module;
    const char *name;
    agc_wasm_kind kind;
    const char *sig;
} agc_wasm_import;

typedef struct agc_wasm_export {
    const char *name;
    agc_wasm_kind kind;
    uint32_t index;
    const char *sig;
} agc_wasm_export;

typedef struct agc_wasm_memory_limits {
    bool present; /* the module defines a memory */
    bool exported;
    bool has_max;
    uint32_t min_pages; /* 64 KiB pages */
    uint32_t max_pages; /* valid when has_max */
} agc_wasm_memory_limits;

/* Largest module accepted (bytes). */
#define AGC_WASM_MAX_MODULE_SIZE ((size_t)64 * 1024 * 1024)

/*
 * Parses a binary module: magic and version, every section's size against
 * what remains, types, imports, functions, memory, exports. Rejects what the
 * sandbox cannot run safely (imported memory/table/global, several memories,
 * 64-bit memories). AGC_EPARSE with "offset 0x..: what" for malformed input,
 * AGC_EUNSUPPORTED for valid but unsupported modules, AGC_ENOMEM. *out is the
 * caller's (agc_wasm_module_free). The bytes are not kept.
 */
AGC_NODISCARD agc_status agc_wasm_module_parse(agc_wasm_module **out, const void *bytes, size_t len,
                                               agc_ctx *ctx);
/* Frees the module; NULL is a no-op. */
void agc_wasm_module_free(agc_wasm_module *m);

size_t agc_wasm_module_import_count(const agc_wasm_module *m);
/* The i-th import (borrowed until the module is freed). */
const agc_wasm_import *agc_wasm_module_import(const agc_wasm_module *m, size_t i);
size_t agc_wasm_module_export_count(const agc_wasm_module *m);
const agc_wasm_export *agc_wasm_module_export(const agc_wasm_module *m, size_t i);
/* The export named name, or NULL. */
const agc_wasm_export *agc_wasm_module_find_export(const agc_wasm_module *m, const char *name);
const agc_wasm_memory_limits *agc_wasm_module_memory(const agc_wasm_module *m);

/*
 * Checks that the host provides every import with the same signature.
 * AGC_ENOTFOUND names the first unknown import ("module imports
 * wasi_snapshot_preview1.sock_accept, which agentc does not provide");
 * AGC_EINVAL names an import whose signature differs.
 */
agc_status agc_wasm_module_check_imports(const agc_wasm_module *m, agc_ctx *ctx);

/*
 * The capabilities the module asks for, from its imports: a comma-separated
 * list of "args", "env", "clock", "random", "stdio", "files", "agentc-io",
 * "http", "exit" (sorted, no duplicates) into b. AGC_ENOMEM.
 */
agc_status agc_wasm_module_capabilities(agc_buf *b, const agc_wasm_module *m);

/* ---- ahead-of-time compilation */

/*
 * The seam where a jail plugs in: runs argv (argv[0] looked up in PATH) in
 * workdir, appends its stdout and stderr to output (capped by the buffer),
 * and sets *exit_status (the exit code, or 128+signal). Returns non-OK only
 * when the command could not be run at all. The default runs a plain child
 * process (agc_sandbox_exec_default).
 */
typedef agc_status (*agc_sandbox_exec_fn)(int *exit_status, agc_buf *output,
                                          const char *const *argv, const char *workdir, void *user,
                                          agc_ctx *ctx);

/* posix_spawn + pipe, no confinement. AGC_EIO when the program cannot be started. */
agc_status agc_sandbox_exec_default(int *exit_status, agc_buf *output, const char *const *argv,
                                    const char *workdir, void *user, agc_ctx *ctx);

/* Limits of agc_sandbox_exec_jailed (its user pointer; NULL: defaults). */
typedef struct agc_sandbox_exec_limits {
    unsigned version;            /* AGC_SANDBOX_EXEC_LIMITS_VERSION */
    uint32_t timeout_ms;         /* wall time per program; 0 = 120 000 */
    uint32_t memory_mb;          /* RLIMIT_AS per process; 0 = 2048 */
    const char *const *ro_paths; /* extra readable paths (NULL-terminated), may be NULL */
} agc_sandbox_exec_limits;

#define AGC_SANDBOX_EXEC_LIMITS_VERSION 1
#define AGC_SANDBOX_EXEC_LIMITS_INIT                                                               \
    {                                                                                              \
        AGC_SANDBOX_EXEC_LIMITS_VERSION, 0, 0, NULL                                                \
    }

/*
 * Runs argv in the OS jail (agentc/jail.h): new namespaces, no network,
 * Landlock read-only on the system directories (/usr, /bin, /lib*, /etc),
 * the program's own directory and limits->ro_paths, read-write on workdir
 * only (also TMPDIR); RLIMIT_AS/CPU, a wall-clock deadline that kills the
 * whole jail. user is a const agc_sandbox_exec_limits* or NULL. Layers the
 * kernel lacks are dropped with a logged warning (best effort). Returns
 * AGC_ETIMEDOUT ("wasm2c timed out after 120000 ms") at the deadline, else
 * as agc_sandbox_exec_default (the exit status tells the program's fate).
 */
agc_status agc_sandbox_exec_jailed(int *exit_status, agc_buf *output, const char *const *argv,
                                   const char *workdir, void *user, agc_ctx *ctx);

typedef struct agc_wasm_compile_opts {
    unsigned version;         /* AGC_WASM_COMPILE_OPTS_VERSION */
    const char *cache_dir;    /* NULL: $XDG_CACHE_HOME/agentc/wasm or ~/.cache/agentc/wasm */
    const char *cc;           /* NULL: $CC or "cc" */
    const char *wasm2c;       /* NULL: "wasm2c" */
    agc_sandbox_exec_fn exec; /* NULL: agc_sandbox_exec_jailed with the limits below */
    void *exec_user;
    uint32_t tool_timeout_ms; /* exec NULL: wall time per wasm2c / cc run; 0 = 120 000 */
    uint32_t tool_memory_mb;  /* exec NULL: RLIMIT_AS of wasm2c / cc; 0 = 2048 */
    bool unjailed;            /* exec NULL: run the tools unconfined (agc_sandbox_exec_default) */
} agc_wasm_compile_opts;

#define AGC_WASM_COMPILE_OPTS_VERSION 1
#define AGC_WASM_COMPILE_OPTS_INIT                                                                 \
    {                                                                                              \
        AGC_WASM_COMPILE_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, false                   \
    }
void agc_wasm_compile_opts_init(agc_wasm_compile_opts *o);

/*
 * Compiles wasm (len bytes) to a shared object in the cache, or finds it
 * there. The key is sha256 over the module, `wasm2c --version`, the first
 * line of `cc --version`, the flags and the glue ABI. Safe for concurrent use
 * by several processes (flock + build in a temp file + rename); an entry whose
 * hash no longer matches is rebuilt. *so_path is the caller's (agc_free);
 * *cache_hit (may be NULL) tells whether nothing had to be built. Errors:
 * AGC_EPARSE/AGC_EUNSUPPORTED (module), AGC_EUNSUPPORTED (wasm2c is not
 * 1.0.32), AGC_EIO (tool missing or failing: its output is in the message),
 * AGC_ETIMEDOUT (a tool ran past tool_timeout_ms in the compile jail).
 */
AGC_NODISCARD agc_status agc_wasm_compile(char **so_path, bool *cache_hit, const void *wasm,
                                          size_t len, const agc_wasm_compile_opts *opts,
                                          agc_ctx *ctx);

/* ---- running */

typedef struct agc_wasm_preopen {
    const char *host_path;  /* an existing directory */
    const char *guest_path; /* the name the guest sees ("/data"); NULL = host_path */
    bool writable;
} agc_wasm_preopen;

/*
 * The trusted side of the guest's agentc.http_request: gets the guest's JSON
 * request (req_len bytes, {method,url,headers,body}) and returns a JSON reply
 * in *resp_json (agc_malloc'ed, the caller frees it; *resp_len bytes). A
 * refused or failed request is still AGC_OK with a reply {"error": "..."};
 * a non-OK status means the reply could not be produced at all (AGC_ENOMEM).
 * agc_http_gate_call (agentc/sandbox_http.h) is one; a worker forwards to its
 * parent with another.
 */
typedef agc_status (*agc_wasm_http_fn)(char **resp_json, size_t *resp_len, const char *req_json,
                                       size_t req_len, void *user, agc_ctx *ctx);

typedef struct agc_wasm_run_opts {
    unsigned version;        /* AGC_WASM_RUN_OPTS_VERSION */
    const char *const *argv; /* guest argv (argv[0] = program name); NULL: {"tool"} */
    size_t argc;
    const char *const *env_allow; /* names passed through from the host environment */
    size_t env_count;
    const agc_wasm_preopen *preopens;
    size_t n_preopens;
    const void *stdin_data; /* borrowed for the run */
    size_t stdin_len;
    const char *input_json; /* arguments for `agentc` modules; NULL = "{}" */
    size_t max_output;      /* cap on stdout and on the agentc result; 0 = 1 MiB */
    size_t max_stderr;      /* 0 = 64 KiB; stderr past it is dropped, not fatal */
    uint32_t timeout_ms;    /* 0 = no deadline */
    uint32_t memory_mb;     /* cap on linear memory; 0 = 256 */
    const char *entry;      /* export to call; NULL = "_start" */
    agc_wasm_http_fn http;  /* NULL: the guest's agentc.http_request answers "not granted" */
    void *http_user;
    uint32_t max_http_requests; /* per call; 0 = 16 */
    uint64_t max_write_bytes;   /* total bytes written to files per call; 0 = 64 MiB */
} agc_wasm_run_opts;

#define AGC_WASM_RUN_OPTS_VERSION 1
#define AGC_WASM_RUN_OPTS_INIT                                                                     \
    {                                                                                              \
        AGC_WASM_RUN_OPTS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0, NULL,     \
            NULL, NULL, 0, 0                                                                       \
    }
void agc_wasm_run_opts_init(agc_wasm_run_opts *o);

typedef enum agc_wasm_trap {
    AGC_WASM_TRAP_NONE = 0,
    AGC_WASM_TRAP_OOB,          /* out-of-bounds memory or table access */
    AGC_WASM_TRAP_INT_OVERFLOW, /* integer overflow in division or conversion */
    AGC_WASM_TRAP_DIV_BY_ZERO,
    AGC_WASM_TRAP_INVALID_CONVERSION,
    AGC_WASM_TRAP_UNREACHABLE,   /* includes abort() in the guest */
    AGC_WASM_TRAP_CALL_INDIRECT, /* bad indirect call (null or wrong type) */
    AGC_WASM_TRAP_EXCEPTION,     /* uncaught exception */
    AGC_WASM_TRAP_STACK,         /* call stack exhausted */
    AGC_WASM_TRAP_TIMEOUT,       /* the deadline passed */
    AGC_WASM_TRAP_MEMORY_LIMIT,  /* died after memory.grow hit the cap */
    AGC_WASM_TRAP_OUTPUT_LIMIT,  /* wrote more than max_output */
    AGC_WASM_TRAP_HOST           /* a host function stopped the guest */
} agc_wasm_trap;

/* Fixed text of a trap ("out-of-bounds memory access"). */
const char *agc_wasm_trap_name(agc_wasm_trap t);

typedef struct agc_wasm_result {
    agc_ctx *ctx;
    bool exited;        /* proc_exit was called (else the entry returned) */
    int exit_code;      /* proc_exit's code, 0 when the entry returned */
    agc_wasm_trap trap; /* why the run failed, AGC_WASM_TRAP_NONE when it did not */
    char *out;          /* stdout (NUL-terminated), owned */
    size_t out_len;
    char *err; /* stderr (NUL-terminated), owned */
    size_t err_len;
    bool err_truncated;
    char *result; /* the agentc result (NULL when none was written), owned */
    size_t result_len;
    bool uses_agentc; /* the module imports the agentc module */
} agc_wasm_result;

/* Frees what a result owns and zeroes it; safe on a zeroed result. */
void agc_wasm_result_free(agc_wasm_result *r);

typedef struct agc_wasm_instance agc_wasm_instance;

/*
 * Loads a compiled module (so_path from agc_wasm_compile, built from m),
 * checks that it was produced by wasm2c 1.0.32 with our glue, resolves every
 * import (AGC_ENOTFOUND names an unknown one, before any guest code runs),
 * checks the memory cap and instantiates (data segments, start function).
 * Only one instance may exist per process at a time (wasm2c's runtime keeps
 * trap state in globals). *out is the caller's (agc_wasm_instance_free).
 */
AGC_NODISCARD agc_status agc_wasm_instance_new(agc_wasm_instance **out, const char *so_path,
                                               const agc_wasm_module *m,
                                               const agc_wasm_run_opts *opts, agc_ctx *ctx);
/*
 * Runs the entry export once and fills *res (freed by agc_wasm_result_free,
 * also on failure). AGC_OK when the guest returned or called proc_exit (any
 * code); AGC_ERROR for a trap (res->trap says which), AGC_ETIMEDOUT at the
 * deadline, AGC_ELIMIT when memory or output caps stopped it, AGC_EBUSY when
 * the instance already ran (an instance runs once).
 */
AGC_NODISCARD agc_status agc_wasm_instance_run(agc_wasm_result *res, agc_wasm_instance *inst);
/* Frees the instance and unloads the code; NULL is a no-op. */
void agc_wasm_instance_free(agc_wasm_instance *inst);

/*
 * Parse + compile (cached) + instantiate + run, in this process. copts and
 * ropts may be NULL. Same results as agc_wasm_instance_run; module and
 * compile errors as above.
 */
AGC_NODISCARD agc_status agc_wasm_run(agc_wasm_result *res, const void *wasm, size_t len,
                                      const agc_wasm_compile_opts *copts,
                                      const agc_wasm_run_opts *ropts, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
