/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc sandbox compile|inspect|run TOOL.wasm`: compile a module into the
 * cache, show what it imports/exports and asks for, or run it in this
 * process with explicit grants (preopened directories, environment names,
 * deadline, memory cap). A plain WASI command gets --input on stdin and its
 * stdout is the result; a module importing `agentc` uses the ABI
 * (docs/sandbox-abi.md). Exit: the guest's exit code, 1 on failure, 2 usage.
 * `run` loads the tool's policy (--policy, docs/sandbox.md; the flags add
 * to it) and runs the call in a jailed worker process (--mode fresh, the
 * default, or pool) or in this process (--mode inprocess).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/sandbox.h"
#include "agentc/sandbox_worker.h"
#include "cli.h"

#define USAGE                                                                                      \
    "sandbox compile|inspect|run TOOL.wasm [--input JSON|@FILE|-] [--dir ro:PATH|rw:PATH[=GUEST]]" \
    " [--env NAME] [--timeout-ms N] [--memory-mb N] [--entry NAME] [--cache-dir DIR]"              \
    " [--policy FILE] [--mode fresh|pool|inprocess] [--report] [--json]"
#define MAX_GRANTS 32

static char *read_all(FILE *f, size_t max, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0 || n > max)
            break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf || n > max || ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static char *read_path(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "agentc: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *s = read_all(f, max, len);
    if (f != stdin)
        fclose(f);
    if (!s)
        fprintf(stderr, "agentc: cannot read %s (missing, unreadable or too large)\n", path);
    return s;
}

static void print_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static int inspect(const agc_wasm_module *m, agc_ctx *ctx, bool json)
{
    static const char *const kinds[] = {"func", "table", "memory", "global"};
    agc_buf caps;
    agc_buf_init(&caps, ctx, 0);
    if (agc_wasm_module_capabilities(&caps, m) != AGC_OK) {
        agc_cli_error(ctx, "out of memory");
        return AGC_CLI_FAIL;
    }
    const agc_wasm_memory_limits *mem = agc_wasm_module_memory(m);
    bool runnable = agc_wasm_module_check_imports(m, ctx) == AGC_OK;
    if (json) {
        printf("{\"imports\": [");
        for (size_t i = 0; i < agc_wasm_module_import_count(m); i++) {
            const agc_wasm_import *im = agc_wasm_module_import(m, i);
            printf("%s{\"module\": ", i ? ", " : "");
            print_json_str(im->module);
            printf(", \"name\": ");
            print_json_str(im->name);
            printf(", \"kind\": \"%s\", \"signature\": \"%s\"}", kinds[im->kind],
                   im->sig ? im->sig : "");
        }
        printf("], \"exports\": [");
        for (size_t i = 0; i < agc_wasm_module_export_count(m); i++) {
            const agc_wasm_export *ex = agc_wasm_module_export(m, i);
            printf("%s{\"name\": ", i ? ", " : "");
            print_json_str(ex->name);
            printf(", \"kind\": \"%s\", \"signature\": \"%s\"}", kinds[ex->kind],
                   ex->sig ? ex->sig : "");
        }
        printf("], \"memory\": ");
        if (mem->present && mem->has_max)
            printf("{\"min_pages\": %u, \"max_pages\": %u}", mem->min_pages, mem->max_pages);
        else if (mem->present)
            printf("{\"min_pages\": %u, \"max_pages\": null}", mem->min_pages);
        else
            printf("null");
        printf(", \"capabilities\": \"%s\", \"runnable\": %s}\n", agc_buf_cstr(&caps),
               runnable ? "true" : "false");
    } else {
        printf("imports:\n");
        for (size_t i = 0; i < agc_wasm_module_import_count(m); i++) {
            const agc_wasm_import *im = agc_wasm_module_import(m, i);
            printf("  %s.%s (%s %s)\n", im->module, im->name, kinds[im->kind],
                   im->sig ? im->sig : "");
        }
        printf("exports:\n");
        for (size_t i = 0; i < agc_wasm_module_export_count(m); i++) {
            const agc_wasm_export *ex = agc_wasm_module_export(m, i);
            printf("  %s (%s %s)\n", ex->name, kinds[ex->kind], ex->sig ? ex->sig : "");
        }
        if (mem->present && mem->has_max)
            printf("memory: %u pages min, %u max\n", mem->min_pages, mem->max_pages);
        else if (mem->present)
            printf("memory: %u pages min, no max\n", mem->min_pages);
        else
            printf("memory: none\n");
        printf("capabilities: %s\n", caps.len ? agc_buf_cstr(&caps) : "(none)");
        if (!runnable)
            printf("not runnable: %s\n", agc_ctx_errmsg(ctx));
    }
    agc_buf_free(&caps);
    return AGC_CLI_OK;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Appends the --dir grants to the policy (resolved like policy entries). */
static agc_status add_dirs(agc_sandbox_policy *p, const agc_wasm_preopen *dirs, size_t n,
                           agc_ctx *ctx)
{
    agc_sandbox_path *np = agc_realloc(ctx, p->paths, (p->n_paths + n + 1) * sizeof *np);
    if (!np)
        return AGC_ENOMEM;
    p->paths = np;
    for (size_t i = 0; i < n; i++) {
        char *real = realpath(dirs[i].host_path, NULL);
        if (!real)
            return agc_error_set(ctx, AGC_ENOTFOUND, "cli", "--dir %s: %s", dirs[i].host_path,
                                 strerror(errno));
        agc_sandbox_path *e = &p->paths[p->n_paths];
        e->host = agc_strdup(ctx, real);
        e->guest = agc_strdup(ctx, dirs[i].guest_path ? dirs[i].guest_path : real);
        e->writable = dirs[i].writable;
        free(real);
        p->n_paths++;
        if (!e->host || !e->guest)
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

static agc_status add_envs(agc_sandbox_policy *p, const char *const *envs, size_t n, agc_ctx *ctx)
{
    char **ne = agc_realloc(ctx, p->env, (p->n_env + n + 1) * sizeof *ne);
    if (!ne)
        return AGC_ENOMEM;
    p->env = ne;
    for (size_t i = 0; i < n; i++) {
        if (!(p->env[p->n_env] = agc_strdup(ctx, envs[i])))
            return AGC_ENOMEM;
        p->n_env++;
    }
    return AGC_OK;
}

static int run_tool(const char *path, const char *policy_path, const char *mode,
                    const agc_wasm_preopen *dirs, size_t ndirs, const char *const *envs,
                    size_t nenv, const agc_wasm_run_opts *ro, const agc_wasm_compile_opts *co,
                    const char *input, bool report, agc_ctx *ctx)
{
    agc_sandbox_policy *pol = NULL;
    agc_status st = policy_path ? agc_sandbox_policy_load(&pol, policy_path, ctx)
                                : agc_sandbox_policy_new(&pol, ctx);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot load the policy");
        return AGC_CLI_FAIL;
    }
    if (!policy_path)
        pol->mode = AGC_SANDBOX_FRESH;
    if (mode)
        pol->mode = !strcmp(mode, "fresh")  ? AGC_SANDBOX_FRESH
                    : !strcmp(mode, "pool") ? AGC_SANDBOX_POOL
                                            : AGC_SANDBOX_INPROCESS;
    if (ro->timeout_ms)
        pol->timeout_ms = ro->timeout_ms;
    if (ro->memory_mb)
        pol->memory_mb = ro->memory_mb;
    if (ro->entry && !pol->entry)
        pol->entry = agc_strdup(ctx, ro->entry);
    st = add_dirs(pol, dirs, ndirs, ctx);
    st = st ? st : add_envs(pol, envs, nenv, ctx);
    agc_sandbox_tool_opts to = AGC_SANDBOX_TOOL_OPTS_INIT;
    to.compile = co;
    agc_sandbox_tool *tool = NULL;
    st = st ? st : agc_sandbox_tool_new(&tool, path, pol, &to, ctx);
    agc_sandbox_mode m = pol->mode;
    agc_sandbox_policy_free(pol, ctx);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot prepare %s", path);
        return AGC_CLI_FAIL;
    }
    agc_sandbox_call res;
    st = agc_sandbox_tool_call(&res, tool, input);
    if (res.err_len)
        fwrite(res.err, 1, res.err_len, stderr);
    if (res.is_result)
        printf("%s\n", res.output);
    else if (res.output_len)
        fwrite(res.output, 1, res.output_len, stdout);
    fflush(stdout);
    if (report) {
        char jail[160];
        agc_sandbox_tool_jail_text(jail, sizeof jail, tool);
        fprintf(stderr, "agentc: mode %s, jail: %s, worker pid %d, %.3f ms\n",
                agc_sandbox_mode_name(m), jail[0] ? jail : "none (in process)", res.worker_pid,
                res.wall_ms);
    }
    int rc;
    if (st != AGC_OK) {
        agc_cli_error(ctx, "running %s failed", path);
        rc = AGC_CLI_FAIL;
    } else {
        rc = res.exit_code == 0 ? AGC_CLI_OK : res.exit_code > 255 ? AGC_CLI_FAIL : res.exit_code;
    }
    agc_sandbox_call_free(&res);
    agc_sandbox_tool_free(tool);
    return rc;
}

int agc_cmd_sandbox(int argc, char **argv)
{
    if (argc < 3)
        return agc_cli_usage(USAGE);
    const char *sub = argv[1], *path = argv[2];
    static const struct option longopts[] = {{"input", required_argument, 0, 'i'},
                                             {"dir", required_argument, 0, 'd'},
                                             {"env", required_argument, 0, 'e'},
                                             {"timeout-ms", required_argument, 0, 't'},
                                             {"memory-mb", required_argument, 0, 'm'},
                                             {"entry", required_argument, 0, 'n'},
                                             {"cache-dir", required_argument, 0, 'c'},
                                             {"json", no_argument, 0, 'j'},
                                             {"policy", required_argument, 0, 'p'},
                                             {"mode", required_argument, 0, 'o'},
                                             {"report", no_argument, 0, 'r'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    agc_wasm_preopen dirs[MAX_GRANTS];
    const char *envs[MAX_GRANTS];
    char *dirbuf[MAX_GRANTS];
    size_t ndirs = 0, nenv = 0;
    const char *input = NULL;
    bool json = false, report = false;
    const char *policy_path = NULL, *mode = NULL;
    int c, rc = AGC_CLI_USAGE;
    optind = 3;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            input = optarg;
            break;
        case 'd': {
            bool rw = strncmp(optarg, "rw:", 3) == 0;
            if ((!rw && strncmp(optarg, "ro:", 3) != 0) || ndirs == MAX_GRANTS || !optarg[3]) {
                fprintf(stderr, "agentc: --dir takes ro:PATH or rw:PATH[=GUEST_PATH]\n");
                goto out;
            }
            char *d = dirbuf[ndirs] = strdup(optarg + 3);
            if (!d)
                goto out;
            char *eq = strchr(d, '=');
            if (eq)
                *eq++ = 0;
            dirs[ndirs++] = (agc_wasm_preopen){d, eq, rw};
            break;
        }
        case 'e':
            if (nenv == MAX_GRANTS)
                goto out;
            envs[nenv++] = optarg;
            break;
        case 't':
            if (!parse_u32(optarg, &ro.timeout_ms))
                goto out;
            break;
        case 'm':
            if (!parse_u32(optarg, &ro.memory_mb) || ro.memory_mb == 0)
                goto out;
            break;
        case 'n':
            ro.entry = optarg;
            break;
        case 'c':
            co.cache_dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'p':
            policy_path = optarg;
            break;
        case 'o':
            if (strcmp(optarg, "fresh") && strcmp(optarg, "pool") && strcmp(optarg, "inprocess")) {
                fprintf(stderr, "agentc: --mode takes fresh, pool or inprocess\n");
                goto out;
            }
            mode = optarg;
            break;
        case 'r':
            report = true;
            break;
        default:
            goto out;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "agentc: unexpected argument %s\n", argv[optind]);
        goto out;
    }
    if (strcmp(sub, "compile") && strcmp(sub, "inspect") && strcmp(sub, "run"))
        goto out;
    rc = AGC_CLI_FAIL;
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        goto out;
    size_t wlen = 0, ilen = 0;
    char *wasm = read_path(path, AGC_WASM_MAX_MODULE_SIZE, &wlen);
    char *in = NULL;
    if (wasm && input && (input[0] == '@' || strcmp(input, "-") == 0))
        in = read_path(input[0] == '@' ? input + 1 : "-", 64u << 20, &ilen);
    agc_wasm_module *m = NULL;
    if (!wasm || (input && (input[0] == '@' || !strcmp(input, "-")) && !in))
        ;
    else if (agc_wasm_module_parse(&m, wasm, wlen, ctx) != AGC_OK)
        agc_cli_error(ctx, "%s is not a usable wasm module", path);
    else if (!strcmp(sub, "inspect"))
        rc = inspect(m, ctx, json);
    else if (!strcmp(sub, "compile")) {
        char *so = NULL;
        bool hit = false;
        if (agc_wasm_compile(&so, &hit, wasm, wlen, &co, ctx) != AGC_OK)
            agc_cli_error(ctx, "cannot compile %s", path);
        else {
            printf("%s (%s)\n", so, hit ? "cached" : "built");
            rc = AGC_CLI_OK;
        }
        agc_free(ctx, so);
    } else {
        rc = run_tool(path, policy_path, mode, dirs, ndirs, envs, nenv, &ro, &co, in ? in : input,
                      report, ctx);
    }
    agc_wasm_module_free(m);
    free(wasm);
    free(in);
    agc_ctx_free(ctx);
out:
    for (size_t i = 0; i < ndirs; i++)
        free(dirbuf[i]);
    if (rc == AGC_CLI_USAGE)
        return agc_cli_usage(USAGE);
    return rc;
}
