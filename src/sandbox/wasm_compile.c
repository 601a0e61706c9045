/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Ahead-of-time compilation of a wasm module: wasm2c (pinned to 1.0.32) turns
 * it into C, wasm_glue.c instruments it and writes the glue, and the C
 * compiler builds one shared object into the cache (wasm_cache.c). Tools run
 * through an agc_sandbox_exec_fn, by default agc_sandbox_exec_jailed
 * (wasm_compile_jail.c): the translator and the compiler read untrusted input. Invariant: memory
 * checks are explicit bounds checks (no guard pages: works under RLIMIT_AS, installs no SIGSEGV
 * handler). It does not load the result (wasm_instance.c does).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "sandbox_int.h"

#define MODULE        "sandbox"
#define GLUE_REV      "4"
#define MAX_GENERATED ((size_t)512 * 1024 * 1024)
#define CC_FLAGS_KEY                                                                               \
    "-O2 -fPIC -shared -w -Wl,-Bsymbolic -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 "                     \
    "-DWASM_RT_MAX_CALL_STACK_DEPTH=4000 -lm"

extern char **environ;

void agc_wasm_compile_opts_init(agc_wasm_compile_opts *o)
{
    agc_wasm_compile_opts d = AGC_WASM_COMPILE_OPTS_INIT;
    *o = d;
}

agc_status agc_sandbox_exec_default(int *exit_status, agc_buf *output, const char *const *argv,
                                    const char *workdir, void *user, agc_ctx *ctx)
{
    (void)user;
    *exit_status = -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return agc_error_set(ctx, AGC_EIO, MODULE, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    if (workdir)
        posix_spawn_file_actions_addchdir_np(&fa, workdir);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return agc_error_set(ctx, AGC_EIO, MODULE, "cannot run %s: %s", argv[0], strerror(rc));
    }
    char chunk[4096];
    for (;;) {
        ssize_t n = read(p[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (output && agc_buf_append(output, chunk, (size_t)n) != AGC_OK)
            agc_error_clear(ctx); /* over the cap: keep draining */
    }
    close(p[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return agc_error_set(ctx, AGC_EIO, MODULE, "waitpid: %s", strerror(errno));
    *exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    /* a program that posix_spawnp could not exec exits 127 */
    return AGC_OK;
}

typedef struct tools {
    agc_sandbox_exec_fn exec;
    void *user;
    agc_sandbox_exec_fn version_exec; /* `--version` reads no untrusted input */
    const char *cc;
    const char *wasm2c;
    const char *rtdir;
} tools;

/* Runs argv; AGC_EIO with the tool's output when it fails. out may be NULL. */
static agc_status run(const tools *t, const char *const *argv, const char *workdir, agc_buf *out,
                      agc_ctx *ctx)
{
    agc_buf o;
    agc_buf_init(&o, ctx, 16384);
    int status;
    agc_status st = t->exec(&status, &o, argv, workdir, t->user, ctx);
    if (st == AGC_OK && status != 0)
        st = agc_error_set(ctx, AGC_EIO, MODULE, "%s failed (exit %d)%s%s", argv[0], status,
                           o.len ? ": " : "", agc_buf_cstr(&o));
    if (st == AGC_OK && out)
        st = agc_buf_append(out, o.data ? o.data : "", o.len);
    agc_buf_free(&o);
    return st;
}

static const char *runtime_dir(void)
{
    const char *env = getenv("AGENTC_WASM2C_RUNTIME");
    if (env && *env)
        return env;
    return "/usr/share/wabt/wasm2c";
}

/* The first line of `prog --version` into b. */
static agc_status tool_version(agc_buf *b, const tools *t, const char *prog, agc_ctx *ctx)
{
    const char *argv[] = {prog, "--version", NULL};
    agc_buf o;
    agc_buf_init(&o, ctx, 4096);
    tools vt = *t;
    vt.exec = t->version_exec;
    agc_status st = run(&vt, argv, NULL, &o, ctx);
    if (st == AGC_OK) {
        const char *s = agc_buf_cstr(&o);
        st = agc_buf_append(b, s, strcspn(s, "\n"));
    } else {
        st = agc_error_wrap(ctx, AGC_EIO, MODULE,
                            "%s is needed to compile wasm modules (Debian package %s)", prog,
                            prog == t->wasm2c ? "wabt" : "gcc or clang");
    }
    agc_buf_free(&o);
    return st;
}

static agc_status compute_key(char hex[65], const void *wasm, size_t len, const tools *t,
                              agc_ctx *ctx)
{
    agc_buf v;
    agc_buf_init(&v, ctx, 0);
    agc_status st = tool_version(&v, t, t->wasm2c, ctx);
    if (st == AGC_OK && strcmp(agc_buf_cstr(&v), AGC__WABT_VERSION) != 0)
        st = agc_error_set(ctx, AGC_EUNSUPPORTED, MODULE,
                           "%s is version %s; agentc needs wasm2c " AGC__WABT_VERSION
                           " (its generated names and runtime ABI differ between versions)",
                           t->wasm2c, agc_buf_cstr(&v));
    st = st ? st : agc_buf_putc(&v, '\n');
    st = st ? st : tool_version(&v, t, t->cc, ctx);
    st = st ? st
            : agc_buf_printf(&v, "\n%s\n%s\nabi %u rev " GLUE_REV " agentc %s\n", CC_FLAGS_KEY,
                             t->rtdir, AGC__GLUE_ABI, agc_version());
    if (st == AGC_OK) {
        crypto_hash_sha256_state s;
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_init(&s);
        crypto_hash_sha256_update(&s, wasm, len);
        crypto_hash_sha256_update(&s, (const unsigned char *)v.data, v.len);
        crypto_hash_sha256_final(&s, h);
        sodium_bin2hex(hex, 65, h, sizeof h);
    }
    agc_buf_free(&v);
    return st;
}

static void rm_build_dir(const char *dir)
{
    static const char *const files[] = {"guest.wasm", "guest.c", "guest.h",
                                        "guest_i.c",  "glue.c",  "guest.so"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Builds <dir>/guest.so from the module. */
static agc_status build(const char *dir, const void *wasm, size_t len, const agc_wasm_module *m,
                        const tools *t, agc_ctx *ctx)
{
    char p_wasm[PATH_MAX], p_c[PATH_MAX], p_h[PATH_MAX], p_ic[PATH_MAX], p_glue[PATH_MAX],
        p_so[PATH_MAX], p_rt[PATH_MAX], inc[PATH_MAX + 2];
    snprintf(p_wasm, sizeof p_wasm, "%s/guest.wasm", dir);
    snprintf(p_c, sizeof p_c, "%s/guest.c", dir);
    snprintf(p_h, sizeof p_h, "%s/guest.h", dir);
    snprintf(p_ic, sizeof p_ic, "%s/guest_i.c", dir);
    snprintf(p_glue, sizeof p_glue, "%s/glue.c", dir);
    snprintf(p_so, sizeof p_so, "%s/guest.so", dir);
    snprintf(p_rt, sizeof p_rt, "%s/wasm-rt-impl.c", t->rtdir);
    snprintf(inc, sizeof inc, "-I%s", t->rtdir);
    if (access(p_rt, R_OK) != 0)
        return agc_error_set(ctx, AGC_EIO, MODULE,
                             "the wasm2c runtime %s is missing; install the wabt package or set "
                             "AGENTC_WASM2C_RUNTIME",
                             p_rt);
    agc_status st = agc__file_write(p_wasm, wasm, len, ctx);
    const char *w2c[] = {t->wasm2c, p_wasm, "-n", AGC__GLUE_MODNAME, "-o", p_c, NULL};
    st = st ? st : run(t, w2c, dir, NULL, ctx);
    char *src = NULL, *hdr = NULL;
    size_t src_len = 0, hdr_len = 0;
    st = st ? st : agc__file_read(&src, &src_len, p_c, MAX_GENERATED, ctx);
    st = st ? st : agc__file_read(&hdr, &hdr_len, p_h, MAX_GENERATED, ctx);
    agc_buf b;
    agc_buf_init(&b, ctx, MAX_GENERATED);
    st = st ? st : agc__glue_instrument(&b, src, src_len);
    st = st ? st : agc__file_write(p_ic, b.data, b.len, ctx);
    agc_buf_clear(&b);
    st = st ? st : agc__glue_source(&b, m, hdr, ctx);
    st = st ? st : agc__file_write(p_glue, b.data, b.len, ctx);
    agc_buf_free(&b);
    agc_free(ctx, src);
    agc_free(ctx, hdr);
    const char *cc[] = {t->cc,
                        "-O2",
                        "-fPIC",
                        "-shared",
                        "-w",
                        "-Wl,-Bsymbolic",
                        "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0",
                        "-DWASM_RT_MAX_CALL_STACK_DEPTH=4000",
                        inc,
                        "-o",
                        p_so,
                        p_ic,
                        p_glue,
                        p_rt,
                        "-lm",
                        NULL};
    st = st ? st : run(t, cc, dir, NULL, ctx);
    return st;
}

agc_status agc_wasm_compile(char **so_path, bool *cache_hit, const void *wasm, size_t len,
                            const agc_wasm_compile_opts *opts, agc_ctx *ctx)
{
    *so_path = NULL;
    if (cache_hit)
        *cache_hit = false;
    agc_wasm_compile_opts dflt = AGC_WASM_COMPILE_OPTS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != AGC_WASM_COMPILE_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MODULE, "unknown agc_wasm_compile_opts version %u",
                             opts->version);
    const char *envcc = getenv("CC");
    agc_sandbox_exec_limits lim = AGC_SANDBOX_EXEC_LIMITS_INIT;
    lim.timeout_ms = opts->tool_timeout_ms;
    lim.memory_mb = opts->tool_memory_mb;
    const char *rt_ro[] = {runtime_dir(), NULL};
    lim.ro_paths = rt_ro;
    agc_sandbox_exec_fn exec = opts->exec       ? opts->exec
                               : opts->unjailed ? agc_sandbox_exec_default
                                                : agc_sandbox_exec_jailed;
    tools t = {exec,
               opts->exec ? opts->exec_user : &lim,
               exec == agc_sandbox_exec_jailed ? agc_sandbox_exec_default : exec,
               opts->cc          ? opts->cc
               : envcc && *envcc ? envcc
                                 : "cc",
               opts->wasm2c ? opts->wasm2c : "wasm2c",
               runtime_dir()};
    agc_wasm_module *m = NULL;
    agc_status st = agc_wasm_module_parse(&m, wasm, len, ctx);
    if (st != AGC_OK)
        return st;
    char key[65];
    agc__cache_entry e;
    e.lock_fd = -1;
    e.dir = e.so_path = e.sum_path = e.lock_path = NULL;
    st = compute_key(key, wasm, len, &t, ctx);
    st = st ? st : agc__cache_open(&e, opts->cache_dir, key, ctx);
    bool hit = st == AGC_OK && agc__cache_valid(&e, ctx);
    if (st == AGC_OK && !hit) {
        st = agc__cache_lock(&e, ctx);
        hit = st == AGC_OK && agc__cache_valid(&e, ctx); /* another process built it */
        if (st == AGC_OK && !hit) {
            char *dir = agc_sprintf(ctx, "%s/build.XXXXXX", e.dir);
            if (!dir)
                st = AGC_ENOMEM;
            else if (!mkdtemp(dir))
                st = agc_error_set(ctx, AGC_EIO, MODULE,
                                   "cannot create a build directory in "
                                   "%s: %s",
                                   e.dir, strerror(errno));
            else {
                st = build(dir, wasm, len, m, &t, ctx);
                if (st == AGC_OK) {
                    char *so = agc_sprintf(ctx, "%s/guest.so", dir);
                    st = so ? agc__cache_commit(&e, so, ctx) : AGC_ENOMEM;
                    agc_free(ctx, so);
                }
                rm_build_dir(dir);
            }
            agc_free(ctx, dir);
        }
    }
    if (st == AGC_OK) {
        *so_path = agc_strdup(ctx, e.so_path);
        if (!*so_path)
            st = AGC_ENOMEM;
        else if (cache_hit)
            *cache_hit = hit;
    }
    agc__cache_close(&e, ctx);
    agc_wasm_module_free(m);
    return st;
}
