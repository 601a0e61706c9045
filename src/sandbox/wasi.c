/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WASI preview1 host, process part: args, allowlisted environment, clocks,
 * random, captured stdin/stdout/stderr with caps, fd bookkeeping (close,
 * seek, tell, fdstat, prestat), poll_oneoff for clock sleeps, proc_exit and
 * sched_yield; stubs answer NOSYS / NOTCAPABLE for what is not granted.
 * Invariant: every guest pointer goes through agc__wasm_mem (bounds-checked);
 * a bad one is WASI FAULT, never a host crash. Path calls are in wasi_fs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "agentc/alloc.h"
#include "wasi_int.h"

#define HF(name) static int name(agc_wasm_instance *in, const uint64_t *a, uint64_t *r)

uint32_t agc__wasi_errno(int err)
{
    switch (err) {
    case 0:
        return W_SUCCESS;
    case E2BIG:
        return W_2BIG;
    case EACCES:
        return W_ACCES;
    case EAGAIN:
        return W_AGAIN;
    case EBADF:
        return W_BADF;
    case EBUSY:
        return W_BUSY;
    case EEXIST:
        return W_EXIST;
    case EFAULT:
        return W_FAULT;
    case EFBIG:
        return W_FBIG;
    case EILSEQ:
        return W_ILSEQ;
    case EINTR:
        return W_INTR;
    case EINVAL:
        return W_INVAL;
    case EISDIR:
        return W_ISDIR;
    case ELOOP:
        return W_LOOP;
    case EMFILE:
        return W_MFILE;
    case ENAMETOOLONG:
        return W_NAMETOOLONG;
    case ENFILE:
        return W_NFILE;
    case ENOENT:
        return W_NOENT;
    case ENOMEM:
        return W_NOMEM;
    case ENOSPC:
        return W_NOSPC;
    case ENOSYS:
        return W_NOSYS;
    case ENOTDIR:
        return W_NOTDIR;
    case ENOTEMPTY:
        return W_NOTEMPTY;
    case EOPNOTSUPP:
        return W_NOTSUP;
    case ENOTTY:
        return W_NOTTY;
    case EOVERFLOW:
        return W_OVERFLOW;
    case EPERM:
        return W_PERM;
    case EPIPE:
        return W_PIPE;
    case EROFS:
        return W_ROFS;
    case ESPIPE:
        return W_SPIPE;
    case EXDEV:
        return W_NOTCAPABLE; /* RESOLVE_BENEATH refused an escape */
    default:
        return W_IO;
    }
}

agc__wasi_fd *agc__wasi_get(agc_wasm_instance *in, uint64_t fd)
{
    if (fd >= AGC__WASI_MAX_FDS || in->fds[fd].kind == AGC__FD_FREE)
        return NULL;
    return &in->fds[fd];
}

bool agc__wasi_ret32(agc_wasm_instance *in, uint64_t addr, uint32_t v)
{
    uint8_t *p = agc__wasm_mem(in, addr, 4);
    if (p)
        put_u32(p, v);
    return p != NULL;
}

bool agc__wasi_ret64(agc_wasm_instance *in, uint64_t addr, uint64_t v)
{
    uint8_t *p = agc__wasm_mem(in, addr, 8);
    if (p)
        put_u64(p, v);
    return p != NULL;
}

uint8_t agc__wasi_filetype(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return W_FT_DIR;
    case S_IFREG:
        return W_FT_REG;
    case S_IFLNK:
        return W_FT_SYMLINK;
    case S_IFCHR:
        return W_FT_CHAR;
    case S_IFBLK:
        return W_FT_BLOCK;
    case S_IFSOCK:
        return W_FT_SOCK_STREAM;
    default:
        return W_FT_UNKNOWN;
    }
}

int agc__wasi_fd_alloc(agc_wasm_instance *in)
{
    for (int i = 3; i < AGC__WASI_MAX_FDS; i++)
        if (in->fds[i].kind == AGC__FD_FREE)
            return i;
    return -1;
}

/* ---- args and environment */

static uint32_t strings_get(agc_wasm_instance *in, char **v, size_t n, uint64_t ptrs, uint64_t buf)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        uint8_t *dst = agc__wasm_mem(in, buf, len);
        if (!dst || !agc__wasi_ret32(in, ptrs + 4 * i, (uint32_t)buf))
            return W_FAULT;
        memcpy(dst, v[i], len);
        buf += len;
    }
    return W_SUCCESS;
}

static uint32_t strings_sizes(agc_wasm_instance *in, char **v, size_t n, uint64_t pc, uint64_t ps)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(v[i]) + 1;
    if (!agc__wasi_ret32(in, pc, (uint32_t)n) || !agc__wasi_ret32(in, ps, (uint32_t)total))
        return W_FAULT;
    return W_SUCCESS;
}

HF(args_get)
{
    *r = strings_get(in, in->argv, in->argc, a[0], a[1]);
    return AGC__HOST_OK;
}
HF(args_sizes_get)
{
    *r = strings_sizes(in, in->argv, in->argc, a[0], a[1]);
    return AGC__HOST_OK;
}
HF(environ_get)
{
    *r = strings_get(in, in->envp, in->envc, a[0], a[1]);
    return AGC__HOST_OK;
}
HF(environ_sizes_get)
{
    *r = strings_sizes(in, in->envp, in->envc, a[0], a[1]);
    return AGC__HOST_OK;
}

/* ---- clocks, random, scheduling */

static bool clock_of(uint64_t id, clockid_t *c)
{
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    if (id >= 4)
        return false;
    *c = ids[id];
    return true;
}

HF(clock_res_get)
{
    clockid_t c;
    struct timespec ts;
    if (!clock_of(a[0], &c) || clock_getres(c, &ts) != 0)
        *r = W_INVAL;
    else
        *r = agc__wasi_ret64(in, a[1], (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec)
                 ? W_SUCCESS
                 : W_FAULT;
    return AGC__HOST_OK;
}

HF(clock_time_get)
{
    clockid_t c;
    struct timespec ts;
    if (!clock_of(a[0], &c) || clock_gettime(c, &ts) != 0)
        *r = W_INVAL;
    else
        *r = agc__wasi_ret64(in, a[2], (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec)
                 ? W_SUCCESS
                 : W_FAULT;
    return AGC__HOST_OK;
}

HF(random_get)
{
    uint8_t *p = agc__wasm_mem(in, a[0], a[1]);
    if (p)
        randombytes_buf(p, (size_t)a[1]);
    *r = p ? W_SUCCESS : W_FAULT;
    return AGC__HOST_OK;
}

HF(sched_yield)
{
    (void)in;
    (void)a;
    *r = W_SUCCESS;
    return AGC__HOST_OK;
}

HF(proc_exit)
{
    (void)r;
    in->exited = true;
    in->exit_code = (int)(uint32_t)a[0];
    return AGC__HOST_UNWIND;
}

HF(proc_raise)
{
    (void)a;
    *r = W_NOSYS;
    return agc__wasm_fatal(in, AGC_ERROR, "the guest raised a signal (proc_raise)");
}

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* poll_oneoff: clock subscriptions sleep (never past the deadline); fd
 * subscriptions on our captured streams and files are always ready. */
HF(poll_oneoff)
{
    uint64_t n = a[2];
    uint8_t *subs = agc__wasm_mem(in, a[0], n * 48);
    uint8_t *evs = agc__wasm_mem(in, a[1], n * 32);
    if (n == 0 || n > 4096) {
        *r = W_INVAL;
        return AGC__HOST_OK;
    }
    if (!subs || !evs) {
        *r = W_FAULT;
        return AGC__HOST_OK;
    }
    uint32_t nev = 0;
    int64_t wake = INT64_MAX;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *s = subs + 48 * i;
        uint8_t tag = s[8];
        if (tag == 0) {
            clockid_t c;
            if (!clock_of(get_u32(s + 16), &c)) {
                *r = W_INVAL;
                return AGC__HOST_OK;
            }
            uint64_t t = get_u64(s + 24);
            uint16_t flags;
            memcpy(&flags, s + 40, 2);
            int64_t rel = (flags & 1) ? (int64_t)t - now_ns(c)
                                      : (int64_t)(t > INT64_MAX / 2 ? INT64_MAX / 2 : t);
            int64_t w = now_ns(CLOCK_MONOTONIC) + (rel > 0 ? rel : 0);
            if (w < wake)
                wake = w;
        } else {
            uint8_t *e = evs + 32 * nev++;
            memset(e, 0, 32);
            memcpy(e, s, 8);
            e[10] = tag;
            uint32_t fd = get_u32(s + 16);
            agc__wasi_fd *f = agc__wasi_get(in, fd);
            put_u16(e + 8, f ? W_SUCCESS : W_BADF);
            if (f && f->kind == AGC__FD_STDIN)
                put_u64(e + 16, in->stdin_len - in->stdin_pos);
        }
    }
    if (nev == 0 && wake != INT64_MAX) {
        bool timeout = in->env.deadline_ns && wake > in->env.deadline_ns;
        if (timeout)
            wake = in->env.deadline_ns;
        struct timespec ts = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        if (timeout) {
            in->env.timed_out = 1;
            return agc__wasm_fatal(in, AGC_ETIMEDOUT, "the guest slept past its deadline");
        }
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *s = subs + 48 * i;
            if (s[8] != 0)
                continue;
            uint8_t *e = evs + 32 * nev++;
            memset(e, 0, 32);
            memcpy(e, s, 8);
            e[10] = 0;
            break; /* the earliest is enough for a sleep */
        }
    }
    *r = agc__wasi_ret32(in, a[3], nev) ? W_SUCCESS : W_FAULT;
    return AGC__HOST_OK;
}

/* ---- fd_read / fd_write on captured streams and files */

static uint32_t do_io(agc_wasm_instance *in, agc__wasi_fd *f, uint64_t iovs, uint64_t niov,
                      bool writing, uint64_t *done, int *unwind)
{
    *done = 0;
    if (niov > 1024)
        return W_INVAL;
    const uint8_t *v = agc__wasm_mem(in, iovs, niov * 8);
    if (!v)
        return W_FAULT;
    for (uint64_t i = 0; i < niov; i++) {
        uint32_t ptr = get_u32(v + 8 * i), len = get_u32(v + 8 * i + 4);
        uint8_t *buf = agc__wasm_mem(in, ptr, len);
        if (!buf)
            return W_FAULT;
        if (len == 0)
            continue;
        if (writing && f->kind == AGC__FD_STDOUT) {
            if (in->out.len + len > in->max_output) {
                *unwind = agc__wasm_fatal(in, AGC_ELIMIT,
                                          "the guest wrote more than the %zu-byte output cap",
                                          in->max_output);
                return W_FBIG;
            }
            if (agc_buf_append(&in->out, buf, len) != AGC_OK)
                return W_NOMEM;
        } else if (writing && f->kind == AGC__FD_STDERR) {
            size_t room = in->max_stderr - in->err.len;
            if (len > room)
                in->err_truncated = true;
            if (agc_buf_append(&in->err, buf, len < room ? len : room) != AGC_OK)
                return W_NOMEM;
        } else if (!writing && f->kind == AGC__FD_STDIN) {
            size_t left = in->stdin_len - in->stdin_pos;
            size_t k = len < left ? len : left;
            memcpy(buf, in->stdin_data + in->stdin_pos, k);
            in->stdin_pos += k;
            *done += k;
            if (k < len)
                return W_SUCCESS;
            continue;
        } else if (f->kind == AGC__FD_FILE) {
            if (writing ? !f->writable : !f->readable)
                return W_BADF;
            if (writing && in->written + len > in->max_written) {
                *unwind = agc__wasm_fatal(in, AGC_ELIMIT,
                                          "the guest wrote more than the %llu-byte file write cap",
                                          (unsigned long long)in->max_written);
                return W_FBIG;
            }
            ssize_t k = writing ? write(f->host_fd, buf, len) : read(f->host_fd, buf, len);
            if (k < 0)
                return *done ? W_SUCCESS : agc__wasi_errno(errno);
            *done += (uint64_t)k;
            if (writing)
                in->written += (uint64_t)k;
            if ((uint32_t)k < len)
                return W_SUCCESS;
            continue;
        } else {
            return f->kind == AGC__FD_DIR || f->kind == AGC__FD_PREOPEN ? W_ISDIR : W_BADF;
        }
        *done += len;
    }
    return W_SUCCESS;
}

static int rw(agc_wasm_instance *in, const uint64_t *a, uint64_t *r, bool writing)
{
    agc__wasi_fd *f = agc__wasi_get(in, a[0]);
    int unwind = AGC__HOST_OK;
    uint64_t done = 0;
    if (!f)
        *r = W_BADF;
    else
        *r = do_io(in, f, a[1], a[2], writing, &done, &unwind);
    if (*r == W_SUCCESS && !agc__wasi_ret32(in, a[3], (uint32_t)done))
        *r = W_FAULT;
    return unwind;
}

HF(fd_read)
{
    return rw(in, a, r, false);
}
HF(fd_write)
{
    return rw(in, a, r, true);
}

HF(fd_close)
{
    agc__wasi_fd *f = agc__wasi_get(in, a[0]);
    if (!f) {
        *r = W_BADF;
        return AGC__HOST_OK;
    }
    if (f->dir)
        closedir(f->dir);
    if (f->host_fd >= 0)
        close(f->host_fd);
    agc_free(in->ctx, f->guest_path);
    memset(f, 0, sizeof *f);
    f->host_fd = -1;
    *r = W_SUCCESS;
    return AGC__HOST_OK;
}

static int seek(agc_wasm_instance *in, uint64_t fd, int64_t off, uint64_t whence, uint64_t ret,
                uint64_t *r)
{
    agc__wasi_fd *f = agc__wasi_get(in, fd);
    static const int wh[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    if (!f)
        *r = W_BADF;
    else if (f->kind != AGC__FD_FILE)
        *r = f->kind == AGC__FD_DIR || f->kind == AGC__FD_PREOPEN ? W_ISDIR : W_SPIPE;
    else if (whence > 2)
        *r = W_INVAL;
    else {
        off_t pos = lseek(f->host_fd, (off_t)off, wh[whence]);
        if (pos < 0)
            *r = agc__wasi_errno(errno);
        else
            *r = agc__wasi_ret64(in, ret, (uint64_t)pos) ? W_SUCCESS : W_FAULT;
    }
    return AGC__HOST_OK;
}

HF(fd_seek)
{
    return seek(in, a[0], (int64_t)a[1], a[2], a[3], r);
}
HF(fd_tell)
{
    return seek(in, a[0], 0, 1, a[1], r);
}

HF(fd_fdstat_get)
{
    agc__wasi_fd *f = agc__wasi_get(in, a[0]);
    uint8_t *p = agc__wasm_mem(in, a[1], 24);
    if (!f || !p) {
        *r = f ? W_FAULT : W_BADF;
        return AGC__HOST_OK;
    }
    memset(p, 0, 24);
    uint8_t ft = W_FT_UNKNOWN;
    struct stat st;
    if (f->kind == AGC__FD_PREOPEN || f->kind == AGC__FD_DIR)
        ft = W_FT_DIR;
    else if (f->kind == AGC__FD_FILE && fstat(f->host_fd, &st) == 0)
        ft = agc__wasi_filetype(st.st_mode);
    put_u8(p, ft);
    put_u16(p + 2, f->append ? 1 : 0);
    uint64_t rights = W_RIGHTS_ALL;
    if (!f->writable && f->kind != AGC__FD_STDOUT && f->kind != AGC__FD_STDERR)
        rights &= ~W_RIGHT_FD_WRITE;
    put_u64(p + 8, rights);
    put_u64(p + 16, rights);
    *r = W_SUCCESS;
    return AGC__HOST_OK;
}

HF(fd_prestat_get)
{
    agc__wasi_fd *f = agc__wasi_get(in, a[0]);
    uint8_t *p = agc__wasm_mem(in, a[1], 8);
    if (!f || f->kind != AGC__FD_PREOPEN)
        *r = W_BADF;
    else if (!p)
        *r = W_FAULT;
    else {
        memset(p, 0, 8);
        put_u32(p + 4, (uint32_t)strlen(f->guest_path));
        *r = W_SUCCESS;
    }
    return AGC__HOST_OK;
}

HF(fd_prestat_dir_name)
{
    agc__wasi_fd *f = agc__wasi_get(in, a[0]);
    if (!f || f->kind != AGC__FD_PREOPEN) {
        *r = W_BADF;
        return AGC__HOST_OK;
    }
    size_t n = strlen(f->guest_path);
    uint8_t *p = agc__wasm_mem(in, a[1], a[2]);
    if (!p)
        *r = W_FAULT;
    else if (a[2] < n)
        *r = W_NAMETOOLONG;
    else {
        memcpy(p, f->guest_path, n);
        *r = W_SUCCESS;
    }
    return AGC__HOST_OK;
}

HF(nosys)
{
    (void)in;
    (void)a;
    *r = W_NOSYS;
    return AGC__HOST_OK;
}

HF(notcapable)
{
    (void)in;
    (void)a;
    *r = W_NOTCAPABLE;
    return AGC__HOST_OK;
}

#define W "wasi_snapshot_preview1"
const agc__host_def agc__wasi_defs[] = {
    {W, "args_get", "ii:i", args_get},
    {W, "args_sizes_get", "ii:i", args_sizes_get},
    {W, "environ_get", "ii:i", environ_get},
    {W, "environ_sizes_get", "ii:i", environ_sizes_get},
    {W, "clock_res_get", "ii:i", clock_res_get},
    {W, "clock_time_get", "iIi:i", clock_time_get},
    {W, "random_get", "ii:i", random_get},
    {W, "sched_yield", ":i", sched_yield},
    {W, "proc_exit", "i:", proc_exit},
    {W, "proc_raise", "i:i", proc_raise},
    {W, "poll_oneoff", "iiii:i", poll_oneoff},
    {W, "fd_read", "iiii:i", fd_read},
    {W, "fd_write", "iiii:i", fd_write},
    {W, "fd_close", "i:i", fd_close},
    {W, "fd_seek", "iIii:i", fd_seek},
    {W, "fd_tell", "ii:i", fd_tell},
    {W, "fd_fdstat_get", "ii:i", fd_fdstat_get},
    {W, "fd_prestat_get", "ii:i", fd_prestat_get},
    {W, "fd_prestat_dir_name", "iii:i", fd_prestat_dir_name},
    /* known but not provided: the guest gets an errno, never a load failure */
    {W, "fd_advise", "iIIi:i", nosys},
    {W, "fd_allocate", "iII:i", nosys},
    {W, "fd_datasync", "i:i", nosys},
    {W, "fd_sync", "i:i", nosys},
    {W, "fd_fdstat_set_flags", "ii:i", nosys},
    {W, "fd_fdstat_set_rights", "iII:i", nosys},
    {W, "fd_filestat_set_size", "iI:i", nosys},
    {W, "fd_filestat_set_times", "iIIi:i", nosys},
    {W, "fd_pread", "iiiIi:i", nosys},
    {W, "fd_pwrite", "iiiIi:i", nosys},
    {W, "fd_renumber", "ii:i", nosys},
    {W, "path_filestat_set_times", "iiiiIIi:i", nosys},
    {W, "path_link", "iiiiiii:i", notcapable},
    {W, "path_readlink", "iiiiii:i", notcapable},
    {W, "path_symlink", "iiiii:i", notcapable},
    {W, "sock_accept", "iii:i", notcapable},
    {W, "sock_recv", "iiiiii:i", notcapable},
    {W, "sock_send", "iiiii:i", notcapable},
    {W, "sock_shutdown", "ii:i", notcapable},
    {NULL, NULL, NULL, NULL},
};

/* ---- state */

static agc_status add_preopen(agc_wasm_instance *in, const agc_wasm_preopen *p)
{
    int slot = agc__wasi_fd_alloc(in);
    if (slot < 0)
        return agc_error_set(in->ctx, AGC_ELIMIT, "sandbox", "too many preopened directories");
    int fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return agc_error_set(in->ctx, AGC_EIO, "sandbox", "cannot open directory %s: %s",
                             p->host_path, strerror(errno));
    agc__wasi_fd *f = &in->fds[slot];
    f->guest_path = agc_strdup(in->ctx, p->guest_path ? p->guest_path : p->host_path);
    if (!f->guest_path) {
        close(fd);
        return AGC_ENOMEM;
    }
    f->host_fd = fd;
    f->kind = AGC__FD_PREOPEN;
    f->readable = true;
    f->writable = p->writable;
    return AGC_OK;
}

agc_status agc__wasi_init(agc_wasm_instance *in, const agc_wasm_run_opts *o)
{
    agc_ctx *ctx = in->ctx;
    for (int i = 0; i < AGC__WASI_MAX_FDS; i++)
        in->fds[i].host_fd = -1;
    in->fds[0].kind = AGC__FD_STDIN;
    in->fds[1].kind = AGC__FD_STDOUT;
    in->fds[2].kind = AGC__FD_STDERR;
    in->fds[0].readable = true;
    in->fds[1].writable = in->fds[2].writable = true;
    static const char *const dflt_argv[] = {"tool"};
    const char *const *argv = o->argv ? o->argv : dflt_argv;
    size_t argc = o->argv ? o->argc : 1;
    in->argv = agc_calloc(ctx, argc + 1, sizeof *in->argv);
    in->envp = agc_calloc(ctx, o->env_count + 1, sizeof *in->envp);
    if (!in->argv || !in->envp)
        return AGC_ENOMEM;
    for (size_t i = 0; i < argc; i++) {
        if (!(in->argv[i] = agc_strdup(ctx, argv[i])))
            return AGC_ENOMEM;
        in->argc = i + 1;
    }
    for (size_t i = 0; i < o->env_count; i++) {
        const char *v = getenv(o->env_allow[i]);
        if (!v || strchr(o->env_allow[i], '='))
            continue;
        if (!(in->envp[in->envc] = agc_sprintf(ctx, "%s=%s", o->env_allow[i], v)))
            return AGC_ENOMEM;
        in->envc++;
    }
    in->http = o->http;
    in->http_user = o->http_user;
    in->max_http = o->max_http_requests ? o->max_http_requests : 16;
    in->max_written = o->max_write_bytes ? o->max_write_bytes : (uint64_t)64 << 20;
    in->stdin_data = o->stdin_data;
    in->stdin_len = o->stdin_data ? o->stdin_len : 0;
    for (size_t i = 0; i < o->n_preopens; i++) {
        agc_status st = add_preopen(in, &o->preopens[i]);
        if (st != AGC_OK)
            return st;
    }
    return AGC_OK;
}

void agc__wasi_fini(agc_wasm_instance *in)
{
    agc_ctx *ctx = in->ctx;
    for (size_t i = 0; in->argv && i < in->argc; i++)
        agc_free(ctx, in->argv[i]);
    for (size_t i = 0; in->envp && i < in->envc; i++)
        agc_free(ctx, in->envp[i]);
    agc_free(ctx, in->argv);
    agc_free(ctx, in->envp);
    in->argv = in->envp = NULL;
    agc_free(ctx, in->http_pending);
    in->http_pending = NULL;
    for (int i = 0; i < AGC__WASI_MAX_FDS; i++) {
        agc__wasi_fd *f = &in->fds[i];
        if (f->dir)
            closedir(f->dir);
        if (f->host_fd >= 0)
            close(f->host_fd);
        agc_free(ctx, f->guest_path);
        memset(f, 0, sizeof *f);
        f->host_fd = -1;
    }
}
