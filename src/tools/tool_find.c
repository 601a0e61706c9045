/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * find {pattern, path?, max_results?}: workspace paths matching a glob
 * ("**" spans directories; a pattern without "/" matches file names at any
 * depth). Paths are relative to the searched directory, directories end in
 * "/". Symlinks are matched by name, never followed; .git is not searched.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"pattern\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Glob, e.g. '*.c' or "
    "'src/**/test_*.py'\"},"
    "\"path\":{\"type\":\"string\",\"description\":\"Directory to search, relative to the "
    "workspace root (default: the root)\"},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"description\":"
    "\"Stop after this many matches (default 1000)\"}},"
    "\"required\":[\"pattern\"],\"additionalProperties\":false}";

typedef struct find_state {
    agc_buf out;
    const char *pattern;
    long long max, count;
    bool hit_max;
} find_state;

static agc_status visit(agc__walk_rc *rc, const char *rel, const char *full, agc__walk_type type,
                        int dirfd, const char *name, void *user)
{
    (void)full, (void)dirfd, (void)name;
    find_state *s = user;
    if (!agc__glob_match(s->pattern, rel))
        return AGC_OK;
    if (s->count >= s->max) {
        s->hit_max = true;
        *rc = AGC__W_STOP;
        return AGC_OK;
    }
    s->count++;
    return agc_buf_printf(&s->out, "%s%s\n", rel, type == AGC__W_DIR ? "/" : "");
}

static agc_status find_call(void *self, const json_t *args, agc_tool_result *out,
                            agc_tool_call_ctx *cctx)
{
    agc_workspace *ws = self;
    agc_ctx *ctx = cctx->ctx;
    find_state s;
    agc_buf_init(&s.out, ctx, 0);
    s.pattern = agc_json_str(args, "pattern", "*");
    s.max = agc_json_int(args, "max_results", 1000);
    s.count = 0;
    s.hit_max = false;
    bool capped = false;
    agc_status st =
        agc__ws_walk(ws, agc_json_str(args, "path", "."), true, visit, &s, &capped, cctx);
    if (st == AGC_OK && s.count == 0 && !capped)
        st = agc_buf_puts(&s.out, "(no matches)\n");
    if (st == AGC_OK && s.hit_max)
        st = agc_buf_printf(&s.out, "[stopped at max_results=%lld]\n", s.max);
    else if (st == AGC_OK && capped)
        st = agc_buf_printf(&s.out, "[search stopped early: too many entries; search a "
                                    "subdirectory]\n");
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&s.out), s.out.len, 0, ctx);
    agc_buf_free(&s.out);
    return st;
}

static const agc_tool_ops find_ops = {
    AGC_TOOL_OPS_VERSION,
    find_call,
    agc__ws_tool_destroy,
};

agc_status agc__tool_find_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc__ws_tool_make(out, ws, &find_ops, "find",
                             "Find files in the workspace by glob ('**' matches any number of "
                             "directories; a pattern without '/' matches names at any depth).",
                             schema, AGC_TOOL_EFFECT_READ, AGC_TOOL_APPROVE_ALWAYS, 60000, ctx);
}
