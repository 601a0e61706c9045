/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The sandboxed tool object: a compiled module plus its policy, run per call
 * in a fresh jailed worker, in a pool of pre-forked workers (replaced after
 * pool.max_calls calls, after half their CPU budget and after any failed
 * call), or in this process. Violations become specific errors and
 * "sandbox.violation" events. Invariant: after a call returns, every worker
 * that failed is reaped; the pool is refilled before the call returns.
 * Calls on one tool are serialised.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "sandbox_int.h"
#include "worker_int.h"

#define MOD "sandbox"

struct agc_sandbox_tool {
    agc_ctx *ctx;
    char *name;
    char *so_path;
    void *pin; /* dlopen handle keeping the code mapped for forked workers */
    agc_wasm_module *module;
    agc_sandbox_policy *policy;
    agc_http_gate *gate;
    agc_event_bus *events;
    char *run_id;
    agc__worker_cfg cfg;
    agc_jail_seccomp *seccomp; /* the workers' filter, built once (not in process) */
    const char **ro, **rw, **env;
    agc_wasm_preopen *pre;
    agc__worker *pool;
    size_t n_pool;
    pthread_mutex_t mu;
    agc_sandbox_stats stats;
    char jail_text[160];
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

agc_status agc__sandbox_violation(agc_ctx *ctx, const agc_sandbox_policy *p, agc_wasm_trap trap,
                                  agc_status st, const char *msg, const char **violation)
{
    if (trap == AGC_WASM_TRAP_MEMORY_LIMIT || (st == AGC_ELIMIT && strstr(msg, "memory"))) {
        *violation = "memory";
        return agc_error_set(ctx, AGC_ELIMIT, MOD, "memory limit %u MiB exceeded (%s)",
                             p->memory_mb, msg);
    }
    if (trap == AGC_WASM_TRAP_TIMEOUT || st == AGC_ETIMEDOUT) {
        *violation = "timeout";
        return agc_error_set(ctx, AGC_ETIMEDOUT, MOD, "timed out after %u ms", p->timeout_ms);
    }
    /* host_agentc.c stops a guest past max_http_requests with this message (an ELIMIT
       fatal, so the trap reads as an output limit): pass it through as its own kind */
    if (st == AGC_ELIMIT && strstr(msg, "HTTP request limit")) {
        *violation = "http";
        return agc_error_set(ctx, AGC_ELIMIT, MOD, "%s", msg);
    }
    if (trap == AGC_WASM_TRAP_OUTPUT_LIMIT) {
        *violation = "output";
        return agc_error_set(ctx, AGC_ELIMIT, MOD, "output limit %u KiB exceeded",
                             p->max_output_kb);
    }
    if (trap != AGC_WASM_TRAP_NONE) {
        *violation = "trap";
        return agc_error_set(ctx, st, MOD, "%s", msg);
    }
    *violation = NULL;
    return agc_error_set(ctx, st, MOD, "%s", msg);
}

static agc_status build_cfg(agc_sandbox_tool *t)
{
    agc_ctx *ctx = t->ctx;
    const agc_sandbox_policy *p = t->policy;
    t->ro = agc_calloc(ctx, p->n_paths + 2, sizeof *t->ro);
    t->rw = agc_calloc(ctx, p->n_paths + 1, sizeof *t->rw);
    t->env = agc_calloc(ctx, p->n_env + 1, sizeof *t->env);
    t->pre = agc_calloc(ctx, p->n_paths + 1, sizeof *t->pre);
    if (!t->ro || !t->rw || !t->env || !t->pre)
        return AGC_ENOMEM;
    size_t nro = 0, nrw = 0;
    t->ro[nro++] = t->so_path;
    for (size_t i = 0; i < p->n_paths; i++) {
        if (p->paths[i].writable)
            t->rw[nrw++] = p->paths[i].host;
        else
            t->ro[nro++] = p->paths[i].host;
        t->pre[i] = (agc_wasm_preopen){p->paths[i].host, p->paths[i].guest, p->paths[i].writable};
    }
    for (size_t i = 0; i < p->n_env; i++)
        t->env[i] = p->env[i];
    t->cfg.so_path = t->so_path;
    t->cfg.module = t->module;
    t->cfg.policy = p;
    t->cfg.name = t->name;
    t->cfg.ro_paths = t->ro;
    t->cfg.rw_paths = t->rw;
    t->cfg.pre = t->pre;
    t->cfg.env_names = t->env;
    if (p->mode == AGC_SANDBOX_INPROCESS)
        return AGC_OK;
    /* the same filter every worker installs (worker.c jail_policy_of): built once here
     * rather than with libseccomp before each fork */
    agc_jail_policy jp = AGC_JAIL_POLICY_INIT;
    jp.network = false;
    jp.allow_exec = false;
    jp.seccomp_allowlist = true;
    agc_status st = agc_jail_seccomp_new(&t->seccomp, &jp, ctx);
    t->cfg.seccomp = t->seccomp;
    return st;
}

/* Starts pooled worker i and waits until it is ready. */
static agc_status pool_start(agc_sandbox_tool *t, size_t i)
{
    agc__worker *w = &t->pool[i];
    agc_status st = agc__worker_start(w, &t->cfg, false, t->ctx);
    st = st ? st : agc__worker_wait_ready(w, 10000, t->ctx);
    if (st == AGC_OK) {
        t->stats.workers_started++;
        snprintf(t->jail_text, sizeof t->jail_text, "%s", w->report.text);
    }
    return st;
}

static char *base_name(const char *path, agc_ctx *ctx)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strcspn(b, ".");
    return agc_strndup(ctx, b, n ? n : strlen(b));
}

agc_status agc_sandbox_tool_new(agc_sandbox_tool **out, const char *wasm_path,
                                const agc_sandbox_policy *policy, const agc_sandbox_tool_opts *opts,
                                agc_ctx *ctx)
{
    *out = NULL;
    agc_sandbox_tool_opts dflt = AGC_SANDBOX_TOOL_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_SANDBOX_TOOL_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown agc_sandbox_tool_opts version %u",
                             opts->version);
    agc_sandbox_tool *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t)
        return AGC_ENOMEM;
    t->ctx = ctx;
    pthread_mutex_init(&t->mu, NULL);
    t->events = opts->events;
    char *wasm = NULL;
    size_t wlen = 0;
    agc_status st = policy ? agc__sandbox_policy_copy(&t->policy, policy, ctx)
                           : agc_sandbox_policy_new(&t->policy, ctx);
    t->name = opts->name ? agc_strdup(ctx, opts->name) : base_name(wasm_path, ctx);
    t->run_id = opts->run_id ? agc_strdup(ctx, opts->run_id) : NULL;
    if (st == AGC_OK && (!t->name || (opts->run_id && !t->run_id)))
        st = AGC_ENOMEM;
    st = st ? st : agc__file_read(&wasm, &wlen, wasm_path, AGC_WASM_MAX_MODULE_SIZE, ctx);
    st = st ? st : agc_wasm_module_parse(&t->module, wasm, wlen, ctx);
    st = st ? st : agc_wasm_module_check_imports(t->module, ctx);
    st = st ? st : agc_wasm_compile(&t->so_path, NULL, wasm, wlen, opts->compile, ctx);
    agc_free(ctx, wasm);
    if (st == AGC_OK && t->policy->allowed_hosts)
        st = agc_http_gate_new(&t->gate, t->policy->allowed_hosts, ctx);
    st = st ? st : build_cfg(t);
    if (st == AGC_OK) { /* keeps the code mapped: instantiation skips the loader */
        t->pin = dlopen(t->so_path, RTLD_NOW | RTLD_LOCAL);
        if (!t->pin)
            st = agc_error_set(ctx, AGC_EIO, MOD, "cannot load %s: %s", t->so_path, dlerror());
    }
    if (st == AGC_OK && t->policy->mode == AGC_SANDBOX_POOL) {
        t->n_pool = t->policy->pool_size ? t->policy->pool_size : 1;
        t->pool = agc_calloc(ctx, t->n_pool, sizeof *t->pool);
        if (!t->pool)
            st = AGC_ENOMEM;
        for (size_t i = 0; st == AGC_OK && i < t->n_pool; i++)
            t->pool[i].pidfd = t->pool[i].sock = -1;
        for (size_t i = 0; st == AGC_OK && i < t->n_pool; i++)
            st = pool_start(t, i);
    }
    if (st != AGC_OK) {
        agc_sandbox_tool_free(t);
        return st;
    }
    *out = t;
    return AGC_OK;
}

void agc_sandbox_tool_free(agc_sandbox_tool *t)
{
    if (!t)
        return;
    agc_ctx *ctx = t->ctx;
    for (size_t i = 0; t->pool && i < t->n_pool; i++)
        agc__worker_stop(&t->pool[i]);
    agc_free(ctx, t->pool);
    agc_jail_seccomp_free(t->seccomp, ctx);
    if (t->pin)
        dlclose(t->pin);
    agc_http_gate_free(t->gate);
    agc_wasm_module_free(t->module);
    agc_sandbox_policy_free(t->policy, ctx);
    agc_free(ctx, t->so_path);
    agc_free(ctx, t->name);
    agc_free(ctx, t->run_id);
    agc_free(ctx, t->ro);
    agc_free(ctx, t->rw);
    agc_free(ctx, t->env);
    agc_free(ctx, t->pre);
    pthread_mutex_destroy(&t->mu);
    agc_free(ctx, t);
}

static agc_status run_inprocess(agc_sandbox_call *res, agc_sandbox_tool *t, const char *input)
{
    agc_ctx *ctx = t->ctx;
    const agc_sandbox_policy *p = t->policy;
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    const char *argv[] = {t->name};
    ro.argv = argv;
    ro.argc = 1;
    ro.env_allow = t->env;
    ro.env_count = p->n_env;
    ro.preopens = t->pre;
    ro.n_preopens = p->n_paths;
    ro.input_json = input;
    ro.max_output = (size_t)p->max_output_kb * 1024;
    ro.timeout_ms = p->timeout_ms;
    ro.memory_mb = p->memory_mb;
    ro.entry = p->entry;
    ro.http = t->gate ? agc_http_gate_call : NULL;
    ro.http_user = t->gate;
    ro.max_http_requests = p->max_http_requests;
    agc_wasm_instance *in = NULL;
    agc_wasm_result r;
    memset(&r, 0, sizeof r);
    agc_status st = agc_wasm_instance_new(&in, t->so_path, t->module, &ro, ctx);
    st = st ? st : agc_wasm_instance_run(&r, in);
    agc_wasm_instance_free(in);
    res->trap = r.trap;
    res->exited = r.exited;
    res->exit_code = r.exit_code;
    res->is_result = r.result != NULL;
    if (r.result) {
        res->output = r.result;
        res->output_len = r.result_len;
        r.result = NULL;
    } else {
        res->output = r.out;
        res->output_len = r.out_len;
        r.out = NULL;
    }
    res->err = r.err;
    res->err_len = r.err_len;
    r.err = NULL;
    agc_wasm_result_free(&r);
    if (st != AGC_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", agc_ctx_errmsg(ctx));
        st = agc__sandbox_violation(ctx, p, res->trap, st, msg, &res->violation);
    }
    return st;
}

static agc_status run_pool(agc_sandbox_call *res, agc_sandbox_tool *t, const char *input)
{
    agc_status st = AGC_OK;
    agc__worker *w = NULL;
    for (size_t i = 0; i < t->n_pool && !w; i++)
        if (t->pool[i].pid > 0)
            w = &t->pool[i];
    if (!w) { /* every worker failed to restart earlier: try again now */
        w = &t->pool[0];
        st = pool_start(t, 0);
        if (st != AGC_OK) {
            res->violation = "jail";
            return st;
        }
    }
    st = agc__worker_call(res, w, &t->cfg, input, t->gate, t->ctx);
    const agc_sandbox_policy *p = t->policy;
    bool recycle = w->pid == 0 || st != AGC_OK || w->calls >= p->pool_max_calls ||
                   (p->cpu_ms && w->cpu_ms * 2 >= p->cpu_ms);
    if (recycle) {
        agc__worker_stop(w);
        t->stats.workers_recycled++;
        char saved[512];
        snprintf(saved, sizeof saved, "%s", agc_ctx_errmsg(t->ctx));
        agc_status rs = pool_start(t, (size_t)(w - t->pool));
        if (rs != AGC_OK && st == AGC_OK)
            st = AGC_OK; /* the call itself worked; the next one retries the start */
        if (st != AGC_OK)
            agc_error_set(t->ctx, st, MOD, "%s", saved);
    }
    return st;
}

static agc_status run_fresh(agc_sandbox_call *res, agc_sandbox_tool *t, const char *input)
{
    agc__worker w;
    agc_status st = agc__worker_start(&w, &t->cfg, true, t->ctx);
    if (st != AGC_OK) {
        res->violation = "jail";
        return st;
    }
    t->stats.workers_started++;
    st = agc__worker_call(res, &w, &t->cfg, input, t->gate, t->ctx);
    if (w.report.text[0])
        snprintf(t->jail_text, sizeof t->jail_text, "%s", w.report.text);
    agc__worker_stop(&w);
    return st;
}

static void emit_violation(agc_sandbox_tool *t, const agc_sandbox_call *res, agc_status st)
{
    if (!t->events)
        return;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", agc_ctx_errmsg(t->ctx));
    json_t *data =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:f}", "tool", t->name, "mode",
                  agc_sandbox_mode_name(t->policy->mode), "violation", res->violation, "message",
                  msg, "code", (int)st, "worker_pid", res->worker_pid, "wall_ms", res->wall_ms);
    if (data)
        (void)agc_event_emitx(t->events, AGC_EVENT_CUSTOM, "sandbox.violation", t->run_id, NULL,
                              data);
    json_decref(data);
    agc_error_set(t->ctx, st, MOD, "%s", msg); /* keep the call's error, not the emitter's */
}

agc_status agc_sandbox_tool_call(agc_sandbox_call *res, agc_sandbox_tool *t, const char *input_json)
{
    memset(res, 0, sizeof *res);
    res->ctx = t->ctx;
    const char *input = input_json ? input_json : "{}";
    pthread_mutex_lock(&t->mu);
    double t0 = now_ms();
    t->stats.calls++;
    agc_status st = t->policy->mode == AGC_SANDBOX_INPROCESS ? run_inprocess(res, t, input)
                    : t->policy->mode == AGC_SANDBOX_POOL    ? run_pool(res, t, input)
                                                             : run_fresh(res, t, input);
    res->wall_ms = now_ms() - t0;
    if (st != AGC_OK && res->violation) {
        t->stats.violations++;
        emit_violation(t, res, st);
    }
    pthread_mutex_unlock(&t->mu);
    return st;
}

void agc_sandbox_call_free(agc_sandbox_call *res)
{
    if (res->ctx) {
        agc_free(res->ctx, res->output);
        agc_free(res->ctx, res->err);
    }
    memset(res, 0, sizeof *res);
}

void agc_sandbox_tool_stats(agc_sandbox_stats *out, agc_sandbox_tool *t)
{
    pthread_mutex_lock(&t->mu);
    *out = t->stats;
    pthread_mutex_unlock(&t->mu);
}

void agc_sandbox_tool_jail_text(char *buf, size_t n, agc_sandbox_tool *t)
{
    pthread_mutex_lock(&t->mu);
    snprintf(buf, n, "%s", t->jail_text);
    pthread_mutex_unlock(&t->mu);
}

size_t agc_sandbox_tool_pool_pids(int *pids, size_t n, agc_sandbox_tool *t)
{
    size_t k = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_pool && k < n; i++)
        if (t->pool[i].pid > 0)
            pids[k++] = (int)t->pool[i].pid;
    pthread_mutex_unlock(&t->mu);
    return k;
}

const agc_wasm_module *agc_sandbox_tool_module(const agc_sandbox_tool *t)
{
    return t->module;
}
