/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Loading and running a compiled module: dlopen the cached .so, check that
 * wasm2c 1.0.32 and our glue built it, resolve every import against the host
 * tables before any guest code runs, instantiate, call the entry export and
 * turn traps, exits, deadlines and caps into results and errors.
 * Invariant: one instance per process at a time (the wasm2c runtime's trap
 * state is global); an instance runs once. It does not confine the process:
 * that is the jail's job (one guest per worker process).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "sandbox_int.h"

#define MODULE             "sandbox"
#define DEFAULT_MAX_OUTPUT ((size_t)1024 * 1024)
#define DEFAULT_MAX_STDERR ((size_t)64 * 1024)
#define DEFAULT_MEMORY_MB  256u

void agc_wasm_run_opts_init(agc_wasm_run_opts *o)
{
    agc_wasm_run_opts d = AGC_WASM_RUN_OPTS_INIT;
    *o = d;
}

const char *agc_wasm_trap_name(agc_wasm_trap t)
{
    static const char *const names[] = {
        "no trap",
        "out-of-bounds memory or table access",
        "integer overflow",
        "integer divide by zero",
        "invalid conversion to integer",
        "unreachable executed (the guest aborted)",
        "invalid indirect call",
        "uncaught exception",
        "call stack exhausted",
        "deadline exceeded",
        "memory limit reached",
        "output limit reached",
        "stopped by the host",
    };
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "unknown trap";
}

const agc__host_def *agc__host_find(const char *module, const char *name)
{
    const agc__host_def *const tables[] = {agc__wasi_defs, agc__wasi_fs_defs, agc__agentc_defs};
    for (size_t t = 0; t < 3; t++)
        for (const agc__host_def *d = tables[t]; d->module; d++)
            if (strcmp(d->module, module) == 0 && strcmp(d->name, name) == 0)
                return d;
    return NULL;
}

int agc__wasm_fatal(agc_wasm_instance *in, agc_status code, const char *fmt, ...)
{
    if (in->fatal == AGC_OK) {
        in->fatal = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(in->fatal_msg, sizeof in->fatal_msg, fmt, ap);
        va_end(ap);
    }
    return AGC__HOST_UNWIND;
}

static int dispatch(void *host, uint32_t idx, const uint64_t *args, uint64_t *ret)
{
    agc_wasm_instance *in = host;
    if (idx >= in->n_imports)
        return agc__wasm_fatal(in, AGC_ERROR, "import index %u out of range", idx);
    return in->imports[idx]->fn(in, args, ret);
}

static int64_t deadline_after(uint32_t ms)
{
    if (!ms)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)ms * 1000000;
}

static agc_status load(agc_wasm_instance *in, const char *so_path, const char *entry)
{
    agc_ctx *ctx = in->ctx;
    in->dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!in->dl)
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot load compiled module %s: %s", so_path,
                             dlerror());
    in->info = dlsym(in->dl, AGC__GLUE_SYM_INFO);
    if (!in->info || in->info->abi != AGC__GLUE_ABI)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MODULE,
                             "%s was not built by this agentc (glue ABI %u missing); recompile it",
                             so_path, AGC__GLUE_ABI);
    if (strcmp(in->info->wabt_version, AGC__WABT_VERSION) != 0)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MODULE,
                             "%s was built with wasm2c %s; agentc needs wasm2c " AGC__WABT_VERSION,
                             so_path, in->info->wabt_version);
    /* wabt 1.0.32 names: Z_<module>_instantiate, Z_<module>Z_<export> */
    agc_buf sym;
    agc_buf_init(&sym, ctx, 4096);
    agc_status st = agc_buf_puts(&sym, "Z_" AGC__GLUE_MODNAME "Z_");
    st = st ? st : agc__glue_mangle(&sym, entry);
    bool ok = st == AGC_OK && dlsym(in->dl, "Z_" AGC__GLUE_MODNAME "_instantiate") &&
              dlsym(in->dl, agc_buf_cstr(&sym));
    if (st == AGC_OK && !ok)
        st = agc_error_set(ctx, AGC_EUNSUPPORTED, MODULE,
                           "%s lacks the symbol %s that wasm2c " AGC__WABT_VERSION
                           " generates; it was built by another wabt version",
                           so_path, agc_buf_cstr(&sym));
    agc_buf_free(&sym);
    if (st != AGC_OK)
        return st;
    agc__glue_new_fn gnew = (agc__glue_new_fn)dlsym(in->dl, AGC__GLUE_SYM_NEW);
    in->invoke = (agc__glue_invoke_fn)dlsym(in->dl, AGC__GLUE_SYM_INVOKE);
    in->gfree = (agc__glue_free_fn)dlsym(in->dl, AGC__GLUE_SYM_FREE);
    if (!gnew || !in->invoke || !in->gfree)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MODULE, "%s lacks the agentc glue entry points",
                             so_path);
    if (in->info->n_imports != in->n_imports)
        return agc_error_set(ctx, AGC_EINVAL, MODULE,
                             "%s was compiled from another module (%u imports, expected %zu)",
                             so_path, in->info->n_imports, in->n_imports);
    in->env.deadline_ns = deadline_after(in->timeout_ms);
    void *guest = NULL;
    int code = gnew(&in->env, &guest);
    in->guest = guest;
    if (code == 0)
        return AGC_OK;
    if (in->env.cap_hit)
        return agc_error_set(ctx, AGC_ELIMIT, MODULE,
                             "the module's memory does not fit the %u MiB cap",
                             in->env.cap_pages / 16);
    if (code == AGC__GLUE_TIMEOUT)
        return agc_error_set(ctx, AGC_ETIMEDOUT, MODULE,
                             "the start function ran past the deadline");
    if (code == AGC__GLUE_EXIT && in->fatal != AGC_OK)
        return agc_error_set(ctx, in->fatal, MODULE, "%s", in->fatal_msg);
    if (code == AGC__GLUE_EXIT)
        return agc_error_set(ctx, AGC_ERROR, MODULE, "the start function exited (code %d)",
                             in->exit_code);
    return agc_error_set(ctx, AGC_ERROR, MODULE, "instantiation trapped (code %d): %s", code,
                         code > 0 && code <= 8 ? agc_wasm_trap_name(code == 8 ? AGC_WASM_TRAP_STACK
                                                                              : (agc_wasm_trap)code)
                                               : "out of memory");
}

agc_status agc_wasm_instance_new(agc_wasm_instance **out, const char *so_path,
                                 const agc_wasm_module *m, const agc_wasm_run_opts *opts,
                                 agc_ctx *ctx)
{
    *out = NULL;
    agc_wasm_run_opts dflt = AGC_WASM_RUN_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_WASM_RUN_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MODULE, "unknown agc_wasm_run_opts version %u",
                             opts->version);
    agc_status st = agc_wasm_module_check_imports(m, ctx);
    if (st != AGC_OK)
        return st;
    const char *entry = opts->entry ? opts->entry : "_start";
    const agc_wasm_export *ex = agc_wasm_module_find_export(m, entry);
    if (!ex || ex->kind != AGC_WASM_FUNC)
        return agc_error_set(ctx, AGC_ENOTFOUND, MODULE, "the module exports no function %s",
                             entry);
    if (strcmp(ex->sig, ":") && strcmp(ex->sig, ":i") && strcmp(ex->sig, ":I"))
        return agc_error_set(ctx, AGC_EUNSUPPORTED, MODULE,
                             "export %s takes arguments (%s); only ()->(), ()->i32 and ()->i64 "
                             "exports can be called",
                             entry, ex->sig);
    uint32_t mb = opts->memory_mb ? opts->memory_mb : DEFAULT_MEMORY_MB;
    if (mb > 4096)
        mb = 4096;
    if (m->mem.present && m->mem.min_pages > mb * 16u)
        return agc_error_set(ctx, AGC_ELIMIT, MODULE,
                             "the module needs %u MiB of memory at start, above the %u MiB cap",
                             (m->mem.min_pages + 15) / 16, mb);
    agc_wasm_instance *in = agc_calloc(ctx, 1, sizeof *in);
    if (!in)
        return AGC_ENOMEM;
    in->ctx = ctx;
    in->max_output = opts->max_output ? opts->max_output : DEFAULT_MAX_OUTPUT;
    in->max_stderr = opts->max_stderr ? opts->max_stderr : DEFAULT_MAX_STDERR;
    agc_buf_init(&in->out, ctx, in->max_output);
    agc_buf_init(&in->err, ctx, in->max_stderr);
    agc_buf_init(&in->result, ctx, in->max_output);
    in->timeout_ms = opts->timeout_ms;
    in->env.abi = AGC__GLUE_ABI;
    in->env.host = in;
    in->env.call = dispatch;
    in->env.cap_pages = mb * 16u;
    for (size_t i = 0; i < m->n_imports; i++)
        if (strcmp(m->imports[i].module, "agentc") == 0)
            in->uses_agentc = true;
    in->entry = agc_strdup(ctx, entry);
    in->input_json = agc_strdup(ctx, opts->input_json ? opts->input_json : "{}");
    in->imports = agc_calloc(ctx, m->n_imports + 1, sizeof *in->imports);
    if (!in->entry || !in->input_json || !in->imports) {
        agc_wasm_instance_free(in);
        return AGC_ENOMEM;
    }
    in->input_len = strlen(in->input_json);
    for (size_t i = 0; i < m->n_imports; i++)
        in->imports[in->n_imports++] = agc__host_find(m->imports[i].module, m->imports[i].name);
    st = agc__wasi_init(in, opts);
    if (st == AGC_OK && !in->uses_agentc && !opts->stdin_data) {
        in->stdin_data = (const uint8_t *)in->input_json; /* WASI command: arguments on stdin */
        in->stdin_len = in->input_len;
    }
    st = st ? st : load(in, so_path, entry);
    if (st != AGC_OK) {
        agc_wasm_instance_free(in);
        return st;
    }
    *out = in;
    return AGC_OK;
}

static agc_status finish(agc_wasm_result *res, agc_wasm_instance *in, int code, uint64_t ret)
{
    agc_ctx *ctx = in->ctx;
    res->uses_agentc = in->uses_agentc;
    res->exited = in->exited;
    res->exit_code = in->exited ? in->exit_code : (int)(uint32_t)ret;
    res->err_truncated = in->err_truncated;
    res->out = agc_buf_detach(&in->out, &res->out_len);
    res->err = agc_buf_detach(&in->err, &res->err_len);
    if (in->has_result)
        res->result = agc_buf_detach(&in->result, &res->result_len);
    if (!res->out || !res->err || (in->has_result && !res->result))
        return agc_error_set(ctx, AGC_ENOMEM, MODULE, "out of memory collecting guest output");
    bool failed = code != 0 || res->exit_code != 0;
    if (in->env.cap_hit && failed) {
        res->trap = AGC_WASM_TRAP_MEMORY_LIMIT;
        return agc_error_set(ctx, AGC_ELIMIT, MODULE,
                             "the guest ran out of memory: memory.grow hit the %u MiB cap "
                             "(raise --memory-mb)",
                             in->env.cap_pages / 16);
    }
    if (code == AGC__GLUE_TIMEOUT || in->env.timed_out) {
        res->trap = AGC_WASM_TRAP_TIMEOUT;
        return agc_error_set(ctx, AGC_ETIMEDOUT, MODULE, "the guest ran past its %u ms deadline",
                             in->timeout_ms);
    }
    if (code == AGC__GLUE_EXIT && in->fatal != AGC_OK) {
        res->trap = in->fatal == AGC_ELIMIT ? AGC_WASM_TRAP_OUTPUT_LIMIT : AGC_WASM_TRAP_HOST;
        return agc_error_set(ctx, in->fatal, MODULE, "%s", in->fatal_msg);
    }
    if (code == AGC__GLUE_EXIT || code == 0)
        return AGC_OK;
    static const agc_wasm_trap map[] = {AGC_WASM_TRAP_NONE,
                                        AGC_WASM_TRAP_OOB,
                                        AGC_WASM_TRAP_INT_OVERFLOW,
                                        AGC_WASM_TRAP_DIV_BY_ZERO,
                                        AGC_WASM_TRAP_INVALID_CONVERSION,
                                        AGC_WASM_TRAP_UNREACHABLE,
                                        AGC_WASM_TRAP_CALL_INDIRECT,
                                        AGC_WASM_TRAP_EXCEPTION,
                                        AGC_WASM_TRAP_STACK};
    res->trap = code > 0 && code <= 8 ? map[code] : AGC_WASM_TRAP_HOST;
    return agc_error_set(ctx, AGC_ERROR, MODULE, "the guest trapped: %s",
                         agc_wasm_trap_name(res->trap));
}

agc_status agc_wasm_instance_run(agc_wasm_result *res, agc_wasm_instance *in)
{
    memset(res, 0, sizeof *res);
    res->ctx = in->ctx;
    if (in->ran)
        return agc_error_set(in->ctx, AGC_EBUSY, MODULE,
                             "this instance already ran; create a new one");
    in->ran = true;
    uint32_t idx = 0;
    bool found = false;
    for (uint32_t i = 0; i < in->info->n_exports && !found; i++)
        if (strcmp(in->info->export_names[i], in->entry) == 0) {
            idx = i;
            found = true;
        }
    if (!found)
        return agc_error_set(in->ctx, AGC_ENOTFOUND, MODULE, "the module exports no function %s",
                             in->entry);
    in->env.deadline_ns = deadline_after(in->timeout_ms);
    uint64_t ret = 0;
    int code = in->invoke(&in->env, in->guest, idx, &ret);
    agc_status st = finish(res, in, code, ret);
    if (st == AGC_OK && res->result) {
        json_t *j = NULL;
        st = agc_json_parse(&j, res->result, res->result_len, "guest result", in->ctx);
        if (st != AGC_OK)
            st = agc_error_wrap(in->ctx, AGC_EPARSE, MODULE, "the guest's result is not JSON");
        json_decref(j);
    }
    return st;
}

void agc_wasm_instance_free(agc_wasm_instance *in)
{
    if (!in)
        return;
    agc_ctx *ctx = in->ctx;
    if (in->gfree && in->guest)
        in->gfree(&in->env, in->guest);
    if (in->dl)
        dlclose(in->dl);
    agc__wasi_fini(in);
    agc_buf_free(&in->out);
    agc_buf_free(&in->err);
    agc_buf_free(&in->result);
    agc_free(ctx, in->imports);
    agc_free(ctx, in->entry);
    agc_free(ctx, in->input_json);
    agc_free(ctx, in);
}

void agc_wasm_result_free(agc_wasm_result *r)
{
    if (r->ctx) {
        agc_free(r->ctx, r->out);
        agc_free(r->ctx, r->err);
        agc_free(r->ctx, r->result);
    }
    memset(r, 0, sizeof *r);
}

agc_status agc_wasm_run(agc_wasm_result *res, const void *wasm, size_t len,
                        const agc_wasm_compile_opts *copts, const agc_wasm_run_opts *ropts,
                        agc_ctx *ctx)
{
    memset(res, 0, sizeof *res);
    res->ctx = ctx;
    agc_wasm_module *m = NULL;
    char *so = NULL;
    agc_wasm_instance *in = NULL;
    agc_status st = agc_wasm_module_parse(&m, wasm, len, ctx);
    st = st ? st : agc_wasm_module_check_imports(m, ctx);
    st = st ? st : agc_wasm_compile(&so, NULL, wasm, len, copts, ctx);
    st = st ? st : agc_wasm_instance_new(&in, so, m, ropts, ctx);
    st = st ? st : agc_wasm_instance_run(res, in);
    agc_wasm_instance_free(in);
    agc_free(ctx, so);
    agc_wasm_module_free(m);
    return st;
}
