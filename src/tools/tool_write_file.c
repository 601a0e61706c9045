/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * write_file {path, content, create_dirs?}: creates or replaces a workspace
 * file atomically (temporary file in the same directory, fsync, rename,
 * directory fsync), keeping the mode of a file it replaces. A reader sees
 * the old or the new content, never a mix. A symlink at path is replaced by
 * a regular file, its target is not written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":\"File path relative to the workspace root\"},"
    "\"content\":{\"type\":\"string\",\"description\":\"The complete new content\"},"
    "\"create_dirs\":{\"type\":\"boolean\",\"description\":\"Create missing parent directories "
    "(default false)\"}},"
    "\"required\":[\"path\",\"content\"],\"additionalProperties\":false}";

static agc_status write_file_call(void *self, const json_t *args, agc_tool_result *out,
                                  agc_tool_call_ctx *cctx)
{
    agc_workspace *ws = self;
    agc_ctx *ctx = cctx->ctx;
    const char *path = agc_json_str(args, "path", "");
    const json_t *content = json_object_get(args, "content");
    const char *data = json_string_value(content);
    size_t len = json_string_length(content);
    char *rel = NULL;
    agc_status st = agc_workspace_normalize(&rel, ws, path, ctx);
    if (st != AGC_OK)
        return st;
    int dirfd = -1;
    const char *base = NULL;
    st =
        agc__ws_open_parent(&dirfd, &base, ws, rel, agc_json_bool(args, "create_dirs", false), ctx);
    if (st != AGC_OK) {
        agc_free(ctx, rel);
        return st;
    }
    unsigned mode = 0644;
    bool existed = false;
    struct stat sb;
    if (fstatat(dirfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        existed = true;
        if (S_ISDIR(sb.st_mode))
            st = agc_error_set(ctx, AGC_EINVAL, "tools", "path '%s' is a directory", path);
        else if (S_ISREG(sb.st_mode))
            mode = sb.st_mode & 07777;
    }
    char *tmp = NULL;
    if (st == AGC_OK)
        st = agc__ws_write_tmp(&tmp, dirfd, base, data, len, mode, ctx);
    if (st == AGC_OK && renameat(dirfd, tmp, dirfd, base) != 0) {
        st = agc_error_set(ctx, AGC_EIO, "tools", "cannot rename into '%s': %s", path,
                           strerror(errno));
        unlinkat(dirfd, tmp, 0);
    }
    if (st == AGC_OK)
        (void)fsync(dirfd);
    agc_free(ctx, tmp);
    close(dirfd);
    if (st == AGC_OK) {
        char msg[128];
        int n =
            snprintf(msg, sizeof msg, "%s %zu bytes to ", existed ? "replaced with" : "wrote", len);
        agc_buf b;
        agc_buf_init(&b, ctx, 0);
        st = agc_buf_append(&b, msg, (size_t)n);
        if (st == AGC_OK)
            st = agc_buf_puts(&b, rel);
        if (st == AGC_OK)
            st = agc_tool_result_set_output(out, agc_buf_cstr(&b), b.len, 0, ctx);
        agc_buf_free(&b);
    }
    agc_free(ctx, rel);
    return st;
}

static const agc_tool_ops write_file_ops = {
    AGC_TOOL_OPS_VERSION,
    write_file_call,
    agc__ws_tool_destroy,
};

agc_status agc__tool_write_file_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc__ws_tool_make(out, ws, &write_file_ops, "write_file",
                             "Create or overwrite a workspace file with the given content "
                             "(atomic). Prefer apply_patch for edits.",
                             schema, AGC_TOOL_EFFECT_WRITE, AGC_TOOL_APPROVE_ASK, 30000, ctx);
}
