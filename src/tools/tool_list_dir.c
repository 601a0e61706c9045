/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * list_dir {path?, recursive?, max_entries?}: the entries of a workspace
 * directory, sorted, one per line ("dir/", "link@", "file"), optionally
 * recursive (paths relative to the listed directory). Symlinks are shown,
 * never followed; .git and read-denied directories are shown but not entered.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":\"Directory relative to the workspace root "
    "(default: the root)\"},"
    "\"recursive\":{\"type\":\"boolean\",\"description\":\"List subdirectories too (default "
    "false)\"},"
    "\"max_entries\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"description\":"
    "\"Stop after this many entries (default 500)\"}},"
    "\"additionalProperties\":false}";

typedef struct list_state {
    agc_buf out;
    long long max, count;
} list_state;

static agc_status visit(agc__walk_rc *rc, const char *rel, const char *full, agc__walk_type type,
                        int dirfd, const char *name, void *user)
{
    (void)full, (void)dirfd, (void)name;
    list_state *s = user;
    if (s->count >= s->max) {
        *rc = AGC__W_STOP;
        return AGC_OK;
    }
    s->count++;
    const char *suffix = type == AGC__W_DIR ? "/" : type == AGC__W_LINK ? "@" : "";
    return agc_buf_printf(&s->out, "%s%s\n", rel, suffix);
}

static agc_status list_dir_call(void *self, const json_t *args, agc_tool_result *out,
                                agc_tool_call_ctx *cctx)
{
    agc_workspace *ws = self;
    agc_ctx *ctx = cctx->ctx;
    const char *path = agc_json_str(args, "path", ".");
    list_state s;
    agc_buf_init(&s.out, ctx, 0);
    s.max = agc_json_int(args, "max_entries", 500);
    s.count = 0;
    bool capped = false;
    agc_status st =
        agc__ws_walk(ws, path, agc_json_bool(args, "recursive", false), visit, &s, &capped, cctx);
    if (st == AGC_OK && s.count == 0 && !capped)
        st = agc_buf_puts(&s.out, "(empty directory)\n");
    if (st == AGC_OK && capped)
        st = agc_buf_printf(&s.out,
                            "[listing stopped after %lld entries; list a subdirectory or raise "
                            "max_entries]\n",
                            s.count);
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&s.out), s.out.len, 0, ctx);
    agc_buf_free(&s.out);
    return st;
}

static const agc_tool_ops list_dir_ops = {
    AGC_TOOL_OPS_VERSION,
    list_dir_call,
    agc__ws_tool_destroy,
};

agc_status agc__tool_list_dir_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc__ws_tool_make(out, ws, &list_dir_ops, "list_dir",
                             "List a directory of the workspace (dirs end in '/', symlinks in "
                             "'@'), optionally recursively.",
                             schema, AGC_TOOL_EFFECT_READ, AGC_TOOL_APPROVE_ALWAYS, 30000, ctx);
}
