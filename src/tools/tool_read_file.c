/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * read_file {path, start_line?, end_line?}: the text of a workspace file,
 * whole or a 1-based inclusive line range. Files larger than the workspace's
 * max_file_bytes are read up to that size; binary files (a NUL byte early
 * on) are refused. The registry caps what the model sees; this tool does
 * not page through huge files.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":\"File path relative to the workspace root\"},"
    "\"start_line\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"First line to return "
    "(1-based, default 1)\"},"
    "\"end_line\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Last line to return "
    "(inclusive, default: the last line)\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

/* Byte offset of the start of line `line` (1-based) in text, or len when past the end. */
static size_t line_offset(const char *text, size_t len, long long line)
{
    size_t off = 0;
    for (long long l = 1; l < line && off < len; l++) {
        const char *nl = memchr(text + off, '\n', len - off);
        if (!nl)
            return len;
        off = (size_t)(nl - text) + 1;
    }
    return off;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
        n++;
    if (len > 0 && text[len - 1] != '\n')
        n++;
    return n;
}

static agc_status set_structured(agc_tool_result *out, const char *path, long long a, long long b,
                                 size_t lines, size_t size, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "path", path, "start_line", a, "end_line", b,
                          "total_lines", (json_int_t)lines, "bytes", (json_int_t)size);
    bool oom = agc_json_oom(ctx);
    if (j && oom) {
        json_decref(j);
        j = NULL;
    }
    agc_json_leave(prev);
    if (!j)
        return agc_error_set(ctx, AGC_ENOMEM, "tools", "out of memory building a result");
    out->structured = j;
    return AGC_OK;
}

static agc_status read_file_call(void *self, const json_t *args, agc_tool_result *out,
                                 agc_tool_call_ctx *cctx)
{
    agc_workspace *ws = self;
    agc_ctx *ctx = cctx->ctx;
    const char *path = agc_json_str(args, "path", "");
    long long start = agc_json_int(args, "start_line", 1);
    long long end = agc_json_int(args, "end_line", -1);
    bool ranged = json_object_get(args, "start_line") || json_object_get(args, "end_line");
    if (end != -1 && end < start)
        return agc_tool_result_errorf(out, ctx, "end_line %lld is before start_line %lld", end,
                                      start);
    int fd = -1;
    agc_status st =
        agc_workspace_open_file(&fd, ws, path, O_RDONLY | O_NONBLOCK, 0, AGC_WS_READ, ctx);
    if (st != AGC_OK)
        return st;
    char *data = NULL;
    size_t len = 0, total = 0;
    st = agc__read_fd(&data, &len, &total, fd, agc__ws_max_file_bytes(ws), path, ctx);
    close(fd);
    if (st != AGC_OK)
        return st;
    if (agc__looks_binary(data, len)) {
        agc_free(ctx, data);
        return agc_tool_result_errorf(
            out, ctx, "'%s' is a binary file (%zu bytes); read_file shows text only", path, total);
    }
    size_t lines = count_lines(data, len);
    if (end == -1 || (size_t)end > lines)
        end = (long long)lines;
    if (ranged && (size_t)start > lines && !(start == 1 && lines == 0)) {
        agc_free(ctx, data);
        return agc_tool_result_errorf(
            out, ctx, "start_line %lld is past the end of '%s' (%zu lines)", start, path, lines);
    }
    size_t a = line_offset(data, len, start);
    size_t b = line_offset(data, len, end + 1);
    agc_buf o;
    agc_buf_init(&o, ctx, 0);
    st = agc_buf_append(&o, data + a, b - a);
    if (st == AGC_OK && total > len)
        st = agc_buf_printf(&o,
                            "%s[file cut at %zu of %zu bytes (the workspace read limit); "
                            "ask for a line range]",
                            b > a && data[b - 1] != '\n' ? "\n" : "", len, total);
    else if (st == AGC_OK && ranged)
        st = agc_buf_printf(&o, "%s[lines %lld-%lld of %zu]",
                            b > a && data[b - 1] != '\n' ? "\n" : "", start, end, lines);
    agc_free(ctx, data);
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&o), o.len, 0, ctx);
    agc_buf_free(&o);
    if (st == AGC_OK)
        st = set_structured(out, path, start, end, lines, total, ctx);
    return st;
}

static const agc_tool_ops read_file_ops = {
    AGC_TOOL_OPS_VERSION,
    read_file_call,
    agc__ws_tool_destroy,
};

agc_status agc__tool_read_file_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc__ws_tool_make(out, ws, &read_file_ops, "read_file",
                             "Read a text file in the workspace, optionally a 1-based inclusive "
                             "line range.",
                             schema, AGC_TOOL_EFFECT_READ, AGC_TOOL_APPROVE_ALWAYS, 30000, ctx);
}
