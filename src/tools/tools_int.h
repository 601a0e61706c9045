/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Library-internal pieces shared by the built-in workspace tools: workspace
 * internals (refcount, confined directory opens, atomic writes), the tree
 * walker, the ** glob matcher and the per-tool constructors. Nothing here
 * is visible outside src/tools.
 */
#ifndef AGC_TOOLS_INT_H
#define AGC_TOOLS_INT_H

#include <sys/types.h>

#include "agentc/buf.h"
#include "agentc/workspace.h"

/* ---- workspace internals (workspace.c) ---- */

void agc__ws_ref(agc_workspace *ws);
void agc__ws_unref(agc_workspace *ws);
size_t agc__ws_max_file_bytes(const agc_workspace *ws);
size_t agc__ws_max_walk_entries(const agc_workspace *ws);
const char *const *agc__ws_env_allow(const agc_workspace *ws);
agc_ctx *agc__ws_ctx(const agc_workspace *ws);

/* The deny rule that refuses rel for access, or NULL (sets no error). */
const char *agc__ws_denied(const agc_workspace *ws, const char *rel, agc_ws_access access);
/* Opens a normalised relative path beneath the root (openat2, confined). Sets
 * the error naming display. No deny check. */
agc_status agc__ws_openat2(int *fd_out, agc_workspace *ws, const char *rel, int flags,
                           unsigned mode, const char *display, agc_ctx *ctx);
/*
 * Opens the parent directory of rel (normalised, not ".") for writing after
 * the write deny check, creating missing directories when create_dirs.
 * *dirfd_out is the caller's; *base_out points into rel (the last component).
 */
agc_status agc__ws_open_parent(int *dirfd_out, const char **base_out, agc_workspace *ws,
                               const char *rel, bool create_dirs, agc_ctx *ctx);
/* The path of an open fd relative to the root into *out (agc_free), or
 * AGC_EPERM when it lies outside. */
agc_status agc__ws_fd_relpath(char **out, const agc_workspace *ws, int fd, agc_ctx *ctx);

/* Reads at most max bytes of fd into a new NUL-terminated buffer (agc_free);
 * *total_out gets the file size (from fstat, or bytes read). */
agc_status agc__read_fd(char **out, size_t *len_out, size_t *total_out, int fd, size_t max,
                        const char *display, agc_ctx *ctx);
/* Creates a unique temporary file next to base in dirfd: *fd_out, *name_out (agc_free). */
agc_status agc__ws_tmpfile(int *fd_out, char **name_out, int dirfd, const char *base, agc_ctx *ctx);
/* Creates a temporary file next to base in dirfd holding data with mode,
 * synced and closed; *tmp_out is its name (agc_free). Removed on failure. */
agc_status agc__ws_write_tmp(char **tmp_out, int dirfd, const char *base, const char *data,
                             size_t len, unsigned mode, agc_ctx *ctx);
/* Writes len bytes to fd completely. */
agc_status agc__write_all(int fd, const char *data, size_t len, const char *display, agc_ctx *ctx);
/* Whether data looks binary (a NUL byte in the first 8 KiB). */
bool agc__looks_binary(const char *data, size_t len);

/* ---- tree walk (walk.c) ---- */

typedef enum agc__walk_type { AGC__W_FILE, AGC__W_DIR, AGC__W_LINK, AGC__W_OTHER } agc__walk_type;

typedef enum agc__walk_rc { AGC__W_CONTINUE, AGC__W_SKIP, AGC__W_STOP } agc__walk_rc;

/*
 * Visits the entries below the directory rel_start in sorted depth-first
 * order. rel is the path relative to rel_start ("a/b"), full the path from
 * the root; dirfd is the open parent directory and name the entry name (for
 * openat with O_NOFOLLOW). Symlinks are reported, never followed; ".git" is
 * reported but not entered. Returning AGC__W_SKIP does not enter a directory,
 * a failing status stops the walk and is returned. *stopped_out (may be NULL)
 * says whether the entry cap or a visitor stopped it early.
 */
typedef agc_status (*agc__walk_fn)(agc__walk_rc *rc, const char *rel, const char *full,
                                   agc__walk_type type, int dirfd, const char *name, void *user);
agc_status agc__ws_walk(agc_workspace *ws, const char *rel_start, bool recursive, agc__walk_fn fn,
                        void *user, bool *capped_out, const agc_tool_call_ctx *cctx);

/* ---- glob (glob.c) ---- */

/* Whether path ("a/b/c.txt") matches pattern with "*", "?", "[...]" inside a
 * component and "**" for any number of components. A pattern without "/"
 * matches the last component at any depth. */
bool agc__glob_match(const char *pattern, const char *path);

/* ---- tool constructors ---- */

agc_status agc__tool_read_file_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);
agc_status agc__tool_list_dir_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);
agc_status agc__tool_find_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);
agc_status agc__tool_grep_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);
agc_status agc__tool_write_file_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);
agc_status agc__tool_apply_patch_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);
agc_status agc__tool_run_command_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);

/* ops->destroy of the workspace tools: drops their workspace reference. */
void agc__ws_tool_destroy(void *self);

/* Shared constructor: parses schema_text, builds the spec and the tool
 * around ws (taking a workspace reference released by the tool). */
agc_status agc__ws_tool_make(agc_tool **out, agc_workspace *ws, const agc_tool_ops *ops,
                             const char *name, const char *description, const char *schema_text,
                             agc_tool_effect effect, agc_tool_approval approval, int64_t timeout_ms,
                             agc_ctx *ctx);

/* ---- apply_patch parser (patch_parse.c) ---- */

typedef enum agc__patch_op { AGC__P_ADD, AGC__P_DELETE, AGC__P_UPDATE } agc__patch_op;

typedef struct agc__patch_line {
    char kind;        /* ' ', '-', '+' */
    const char *text; /* into the patch copy, NUL-terminated, without the marker */
} agc__patch_line;

typedef struct agc__patch_chunk {
    const char *context; /* "@@ text" anchor, or NULL */
    agc__patch_line *lines;
    size_t n_lines;
    bool at_eof;       /* "*** End of File" */
    size_t patch_line; /* line number in the patch, for messages */
} agc__patch_chunk;

typedef struct agc__patch_file {
    agc__patch_op op;
    const char *path;
    const char *move_to;        /* UPDATE only; NULL */
    agc__patch_line *add_lines; /* ADD: the content lines */
    size_t n_add;
    agc__patch_chunk *chunks; /* UPDATE */
    size_t n_chunks;
} agc__patch_file;

typedef struct agc__patch {
    char *text; /* the patch copy the strings point into */
    agc__patch_file *files;
    size_t n_files;
} agc__patch;

/* Parses the Codex apply_patch format strictly. AGC_EPARSE with "line N: ..." */
agc_status agc__patch_parse(agc__patch *out, const char *text, agc_ctx *ctx);
void agc__patch_free(agc__patch *p, agc_ctx *ctx);
/*
 * Applies f's hunks (an UPDATE) to old[0..old_len) into a new buffer *out
 * (agc_free). AGC_EINVAL when a hunk does not match or is ambiguous: the
 * message for the model (file, line, nearest text) is appended to err.
 */
agc_status agc__patch_apply_text(char **out, size_t *out_len, const char *old, size_t old_len,
                                 const agc__patch_file *f, agc_buf *err, agc_ctx *ctx);

#endif
