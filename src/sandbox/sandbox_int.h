/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal parts of the WebAssembly sandbox: the parsed module, the
 * ABI shared with the generated glue (wasm_glue.c writes the same layout as C
 * text into every compiled module), the host-function registry and the
 * per-instance state that WASI and the `agentc` import module work on.
 * Invariant: guest memory is only touched through agc__wasm_mem(), which
 * bounds-checks against the memory's current size.
 */
#ifndef AGC_SANDBOX_INT_H
#define AGC_SANDBOX_INT_H

#include "agentc/buf.h"
#include "agentc/sandbox.h"

/* ---- parsed module */

struct agc_wasm_module {
    agc_ctx *ctx;
    agc_wasm_import *imports;
    size_t n_imports;
    agc_wasm_export *exports;
    size_t n_exports;
    agc_wasm_memory_limits mem;
    char **types; /* signature strings "ii:i", one per type-section entry */
    uint32_t n_types;
    uint32_t *func_types; /* type index per function (imports first) */
    uint32_t n_funcs;
    uint32_t cap_funcs;
    uint32_t n_func_imports;
    bool has_start;
};

/* ---- glue ABI: keep in sync with the C text in wasm_glue.c */

#define AGC__GLUE_ABI     1u
#define AGC__WABT_VERSION "1.0.32"
#define AGC__GLUE_MODNAME "guest"
/* Codes the glue returns beyond wasm_rt_trap_t (0..8). */
#define AGC__GLUE_EXIT    100 /* proc_exit or a fatal host error unwound the guest */
#define AGC__GLUE_TIMEOUT 101 /* the deadline passed (checked at loop headers) */

typedef struct agc__glue_env {
    uint32_t abi;
    void *host; /* agc_wasm_instance* */
    int (*call)(void *host, uint32_t import_index, const uint64_t *args, uint64_t *ret);
    uint8_t *mem_data; /* refreshed by the glue before every host call */
    uint64_t mem_size;
    uint32_t cap_pages;  /* memory cap (pages) applied after instantiation */
    uint32_t cap_hit;    /* set when memory.grow failed because of cap_pages */
    int64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
    uint32_t timed_out;
} agc__glue_env;

typedef struct agc__glue_info {
    uint32_t abi;
    const char *wabt_version;
    const char *module_name;
    uint32_t n_imports;
    uint32_t n_exports;
    const char *const *export_names; /* callable exports: ()->() ()->i32 ()->i64 */
} agc__glue_info;

/* Symbols the glue exports (looked up with dlsym). */
#define AGC__GLUE_SYM_INFO   "agc_glue_info_v1"
#define AGC__GLUE_SYM_NEW    "agc_glue_new"
#define AGC__GLUE_SYM_INVOKE "agc_glue_invoke"
#define AGC__GLUE_SYM_FREE   "agc_glue_free"
typedef int (*agc__glue_new_fn)(agc__glue_env *env, void **inst_out);
typedef int (*agc__glue_invoke_fn)(agc__glue_env *env, void *inst, uint32_t export_index,
                                   uint64_t *ret);
typedef void (*agc__glue_free_fn)(agc__glue_env *env, void *inst);

/* ---- host functions */

/* A host call's outcome: continue, or unwind the guest (exit / fatal). */
enum { AGC__HOST_OK = 0, AGC__HOST_UNWIND = 1 };

typedef int (*agc__host_fn)(agc_wasm_instance *inst, const uint64_t *args, uint64_t *ret);

typedef struct agc__host_def {
    const char *module;
    const char *name;
    const char *sig;
    agc__host_fn fn;
} agc__host_def;

/* NULL-terminated tables (wasi.c, wasi_fs.c, host_agentc.c). */
extern const agc__host_def agc__wasi_defs[];
extern const agc__host_def agc__wasi_fs_defs[];
extern const agc__host_def agc__agentc_defs[];

/* The definition for module.name, or NULL. */
const agc__host_def *agc__host_find(const char *module, const char *name);

/* ---- WASI state (wasi.c) */

typedef struct agc__wasi_fd {
    int host_fd;   /* -1 for a free slot or a captured stdio stream */
    int kind;      /* AGC__FD_* */
    bool writable; /* preopen or file opened under a read-write preopen */
    bool readable;
    bool append;
    char *guest_path; /* preopens: the name the guest sees */
    void *dir;        /* DIR* for fd_readdir, opened lazily */
} agc__wasi_fd;

enum {
    AGC__FD_FREE = 0,
    AGC__FD_STDIN,
    AGC__FD_STDOUT,
    AGC__FD_STDERR,
    AGC__FD_PREOPEN,
    AGC__FD_FILE,
    AGC__FD_DIR
};

#define AGC__WASI_MAX_FDS 64

struct agc_wasm_instance {
    agc_ctx *ctx;
    agc__glue_env env;
    void *dl;
    void *guest; /* the glue's instance */
    agc__glue_invoke_fn invoke;
    agc__glue_free_fn gfree;
    const agc__glue_info *info;
    const agc__host_def **imports; /* resolved, one per function import */
    size_t n_imports;
    bool ran;
    char *entry;
    uint32_t timeout_ms;
    /* WASI */
    char **argv;
    size_t argc;
    char **envp; /* "NAME=value" */
    size_t envc;
    agc__wasi_fd fds[AGC__WASI_MAX_FDS];
    const uint8_t *stdin_data;
    size_t stdin_len, stdin_pos;
    agc_buf out, err;
    bool err_truncated;
    size_t max_output, max_stderr;
    /* agentc ABI */
    char *input_json;
    size_t input_len;
    agc_buf result;
    bool has_result;
    bool uses_agentc;
    /* agentc.http_request (host_agentc.c; set up by agc__wasi_init) */
    agc_wasm_http_fn http;
    void *http_user;
    uint32_t max_http, n_http;
    char *http_pending; /* a reply too large for the guest's buffer, kept for a re-read */
    size_t http_pending_len;
    uint64_t written, max_written; /* bytes written to files, cap (wasi.c) */
    size_t log_bytes;              /* logged by agentc.log this run (capped) */
    /* how the run ended */
    int exit_code;
    bool exited;
    agc_status fatal; /* set with a message by a host function that unwinds */
    char fatal_msg[256];
};

/* Guest memory [addr, addr+len) or NULL when out of bounds. */
static inline uint8_t *agc__wasm_mem(agc_wasm_instance *in, uint64_t addr, uint64_t len)
{
    if (addr > in->env.mem_size || len > in->env.mem_size - addr)
        return NULL;
    return in->env.mem_data + addr;
}

/* Stops the guest with a host error (the run returns code with msg). */
int agc__wasm_fatal(agc_wasm_instance *in, agc_status code, const char *fmt, ...) AGC_PRINTF(3, 4);

/* Sets up / tears down WASI state from the run options (wasi.c). */
agc_status agc__wasi_init(agc_wasm_instance *in, const agc_wasm_run_opts *o);
void agc__wasi_fini(agc_wasm_instance *in);
/* A free fd slot (>= 3) or -1. */
int agc__wasi_fd_alloc(agc_wasm_instance *in);
/* Converts an errno value to a WASI errno. */
uint32_t agc__wasi_errno(int err);

/* ---- compile helpers (wasm_glue.c) */

/* Writes the glue C source for m into b. */
agc_status agc__glue_source(agc_buf *b, const agc_wasm_module *m, const char *gen_header,
                            agc_ctx *ctx);
/* Rewrites wasm2c's C output (src) into b with deadline checks at every loop
 * header and function entry. */
agc_status agc__glue_instrument(agc_buf *b, const char *src, size_t len);
/* wasm2c's mangling of one name ("do-it" -> "doZ2Dit") appended to b. */
agc_status agc__glue_mangle(agc_buf *b, const char *name);

/* ---- cache (wasm_cache.c) */

typedef struct agc__cache_entry {
    char *dir;      /* cache directory */
    char *so_path;  /* <dir>/<key>.so */
    char *sum_path; /* <dir>/<key>.sum: sha256 of the .so */
    char *lock_path;
    int lock_fd;
} agc__cache_entry;

/* Fills e for key (64 hex chars) under cache_dir (NULL: XDG default) and creates the dir. */
agc_status agc__cache_open(agc__cache_entry *e, const char *cache_dir, const char *key,
                           agc_ctx *ctx);
/* Whether the entry's .so exists and matches its recorded hash. */
bool agc__cache_valid(const agc__cache_entry *e, agc_ctx *ctx);
agc_status agc__cache_lock(agc__cache_entry *e, agc_ctx *ctx);
/* Moves a freshly built file into place (hash file first, then rename). */
agc_status agc__cache_commit(agc__cache_entry *e, const char *built_so, agc_ctx *ctx);
void agc__cache_close(agc__cache_entry *e, agc_ctx *ctx);
/* Reads a whole file (at most max bytes) into *out (agc_free; NUL-terminated). AGC_EIO. */
agc_status agc__file_read(char **out, size_t *len, const char *path, size_t max, agc_ctx *ctx);
/* Creates/truncates path (0600) with data. AGC_EIO. */
agc_status agc__file_write(const char *path, const void *data, size_t len, agc_ctx *ctx);
/* Hex sha256 of a file into hex[65]. */
agc_status agc__sha256_file(char hex[65], const char *path, agc_ctx *ctx);

#endif
