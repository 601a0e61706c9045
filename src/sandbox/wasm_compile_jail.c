/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * agc_sandbox_exec_jailed: the compile tools (wasm2c, cc and what cc runs)
 * read untrusted input, so they run in the OS jail: no network, the system
 * directories read-only, the build directory the only writable place, an
 * address-space and CPU rlimit and a wall-clock deadline that kills the
 * whole jail (pid namespace). It does not meter memory across processes (no
 * cgroups): RLIMIT_AS applies to each process the compiler driver starts.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/jail.h"
#include "sandbox_int.h"

#define MODULE             "sandbox"
#define DEFAULT_TIMEOUT_MS 120000u
#define DEFAULT_MEMORY_MB  2048u
#define MAX_RO             24

/* The directory holding argv0 as found in PATH (absolute), or "" when not found. */
static void program_dir(char *out, size_t cap, const char *argv0)
{
    out[0] = 0;
    char cand[PATH_MAX];
    if (strchr(argv0, '/')) {
        snprintf(cand, sizeof cand, "%s", argv0);
    } else {
        const char *path = getenv("PATH");
        if (!path || !*path)
            path = "/usr/local/bin:/usr/bin:/bin";
        cand[0] = 0;
        while (*path) {
            size_t n = strcspn(path, ":");
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, argv0);
            if (n && access(cand, X_OK) == 0)
                break;
            cand[0] = 0;
            path += n + (path[n] == ':');
        }
    }
    char real[PATH_MAX];
    if (!cand[0] || !realpath(cand, real))
        return;
    char *slash = strrchr(real, '/');
    if (slash && slash != real)
        *slash = 0;
    snprintf(out, cap, "%s", real);
}

agc_status agc_sandbox_exec_jailed(int *exit_status, agc_buf *output, const char *const *argv,
                                   const char *workdir, void *user, agc_ctx *ctx)
{
    *exit_status = -1;
    const agc_sandbox_exec_limits *lim = user;
    agc_sandbox_exec_limits dflt = AGC_SANDBOX_EXEC_LIMITS_INIT;
    if (!lim)
        lim = &dflt;
    if (lim->version != AGC_SANDBOX_EXEC_LIMITS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MODULE, "unknown agc_sandbox_exec_limits version %u",
                             lim->version);
    uint32_t timeout_ms = lim->timeout_ms ? lim->timeout_ms : DEFAULT_TIMEOUT_MS;
    uint32_t memory_mb = lim->memory_mb ? lim->memory_mb : DEFAULT_MEMORY_MB;

    char progdir[PATH_MAX];
    program_dir(progdir, sizeof progdir, argv[0]);
    const char *ro[MAX_RO + 1];
    size_t n = 0;
    static const char *const sys[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"};
    for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
        ro[n++] = sys[i];
    if (progdir[0])
        ro[n++] = progdir;
    for (size_t i = 0; lim->ro_paths && lim->ro_paths[i] && n < MAX_RO; i++)
        ro[n++] = lim->ro_paths[i];
    ro[n] = NULL;
    const char *rw[] = {workdir, NULL};
    char tmpdir[PATH_MAX + 8];
    snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", workdir ? workdir : "/nonexistent");
    const char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", tmpdir, NULL};

    agc_jail_policy pol = AGC_JAIL_POLICY_INIT;
    pol.ro_paths = ro;
    pol.rw_paths = workdir ? rw : NULL;
    pol.network = false;
    pol.rlimit_as = (uint64_t)memory_mb << 20;
    pol.rlimit_cpu = timeout_ms / 1000 + 1;
    pol.rlimit_fsize = (uint64_t)1 << 30;
    pol.rlimit_nproc = 64;
    int stdio[3] = {AGC_JAIL_NULL, AGC_JAIL_PIPE, AGC_JAIL_STDOUT};
    int64_t deadline = agc_clock_monotonic_ns(ctx) + (int64_t)timeout_ms * 1000000;
    agc_jail_child *c = NULL;
    agc_status st = agc_jail_spawn(&c, &pol, argv, workdir, env, stdio, ctx);
    if (st == AGC_ENOTFOUND)
        return agc_error_wrap(ctx, AGC_EIO, MODULE, "cannot run %s", argv[0]);
    if (st != AGC_OK)
        return st;
    int fd = agc_jail_child_fd(c, 1);
    char chunk[4096];
    bool late = false;
    while (fd >= 0) {
        int64_t left = (deadline - agc_clock_monotonic_ns(ctx)) / 1000000;
        if (left <= 0) {
            late = true;
            break;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            late = r == 0;
            break;
        }
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (output && agc_buf_append(output, chunk, (size_t)k) != AGC_OK)
            agc_error_clear(ctx); /* over the cap: keep draining */
    }
    if (late)
        agc_jail_kill(c);
    agc_jail_exit ex;
    st = agc_jail_wait(&ex, c, deadline);
    agc_jail_free(c);
    if (st != AGC_OK)
        return st;
    if (late || ex.timed_out)
        return agc_error_set(ctx, AGC_ETIMEDOUT, MODULE,
                             "%s timed out after %u ms in the compile jail; raise tool_timeout_ms "
                             "if the module is legitimately large",
                             argv[0], timeout_ms);
    *exit_status = ex.signal ? 128 + ex.signal : ex.code;
    return AGC_OK;
}
