/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal worker processes (worker.c) used by the tool object
 * (pool.c): start a jailed child that serves calls over a stream socket,
 * run one call in it with a deadline, stop it. Invariant: a worker is either
 * idle, serving exactly one call, or dead (reaped, fds closed).
 */
#ifndef AGC_SANDBOX_WORKER_INT_H
#define AGC_SANDBOX_WORKER_INT_H

#include <sys/types.h>

#include "agentc/sandbox_http.h"
#include "agentc/sandbox_worker.h"

/* Everything the child needs; lives in the parent, inherited by fork. */
typedef struct agc__worker_cfg {
    const char *so_path;
    const agc_wasm_module *module;
    const agc_sandbox_policy *policy;
    const char *name;             /* guest argv[0] */
    const char *const *ro_paths;  /* Landlock: the .so and read-only preopens (NULL-terminated) */
    const char *const *rw_paths;  /* Landlock: read-write preopens */
    const agc_wasm_preopen *pre;  /* preopens for the WASI host */
    const char *const *env_names; /* allowlisted variables */
    const struct agc_jail_seccomp *seccomp; /* built once per tool; NULL: per fork */
} agc__worker_cfg;

typedef struct agc__worker {
    pid_t pid; /* 0: no process */
    int pidfd;
    int sock;
    uint32_t calls;
    bool ready; /* READY received */
    bool busy;
    uint64_t cpu_ms; /* CPU the worker has used, as of its last reply */
    agc_jail_report report;
} agc__worker;

/* Forks a jailed worker (one_shot: it exits after one call). Does not wait
 * for it to be ready. AGC_EUNSUPPORTED / AGC_EPERM / AGC_EIO. */
agc_status agc__worker_start(agc__worker *w, const agc__worker_cfg *cfg, bool one_shot,
                             agc_ctx *ctx);
/* Waits for READY (pool start); on failure the worker is stopped. */
agc_status agc__worker_wait_ready(agc__worker *w, uint32_t timeout_ms, agc_ctx *ctx);
/* Runs one call; res filled as agc_sandbox_tool_call documents. When the
 * worker died, trapped or timed out it is stopped (w->pid == 0) on return. */
agc_status agc__worker_call(agc_sandbox_call *res, agc__worker *w, const agc__worker_cfg *cfg,
                            const char *input, agc_http_gate *gate, agc_ctx *ctx);
/* Kills (SIGKILL), reaps and closes; safe on a stopped worker. */
void agc__worker_stop(agc__worker *w);

/* Builds the limit messages shared with the in-process path: sets the error
 * on ctx for a trap of a finished run, returns the status and *violation. */
agc_status agc__sandbox_violation(agc_ctx *ctx, const agc_sandbox_policy *p, agc_wasm_trap trap,
                                  agc_status st, const char *msg, const char **violation);

/* Deep copy of a policy (policy.c). AGC_ENOMEM. */
agc_status agc__sandbox_policy_copy(agc_sandbox_policy **out, const agc_sandbox_policy *src,
                                    agc_ctx *ctx);

#endif
