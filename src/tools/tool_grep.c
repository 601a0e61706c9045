/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * grep {pattern, path?, glob?, ignore_case?, max_matches?}: lines matching a
 * PCRE2 pattern in workspace files, as "path:line:text" (paths from the
 * root). Skips binary files, .git, symlinks and read-denied files; the
 * match limit bounds backtracking. It does not search files larger than the
 * workspace's max_file_bytes beyond that size.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

#define MAX_LINE_SHOWN 400

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"pattern\":{\"type\":\"string\",\"minLength\":1,\"description\":\"PCRE2 regular "
    "expression, matched per line\"},"
    "\"path\":{\"type\":\"string\",\"description\":\"File or directory to search, relative to "
    "the workspace root (default: the root)\"},"
    "\"glob\":{\"type\":\"string\",\"description\":\"Only files whose path matches this glob, "
    "e.g. '*.c'\"},"
    "\"ignore_case\":{\"type\":\"boolean\"},"
    "\"max_matches\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"description\":"
    "\"Stop after this many matching lines (default 200)\"}},"
    "\"required\":[\"pattern\"],\"additionalProperties\":false}";

typedef struct grep_state {
    agc_workspace *ws;
    agc_ctx *ctx;
    const agc_tool_call_ctx *cctx;
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    const char *glob;
    agc_buf out;
    long long max, count;
    bool hit_max;
    size_t files, denied, errors;
} grep_state;

static void *pcre_malloc(size_t size, void *data)
{
    return agc_malloc(data, size);
}

static void pcre_free(void *p, void *data)
{
    agc_free(data, p);
}

/* Greps one open file; display is its path from the root. */
static agc_status grep_fd(grep_state *s, int fd, const char *display)
{
    char *data = NULL;
    size_t len = 0;
    agc_status st =
        agc__read_fd(&data, &len, NULL, fd, agc__ws_max_file_bytes(s->ws), display, s->ctx);
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK) {
        s->errors++;
        return AGC_OK;
    }
    s->files++;
    if (agc__looks_binary(data, len)) {
        agc_free(s->ctx, data);
        return AGC_OK;
    }
    size_t off = 0, lineno = 0;
    while (off < len && st == AGC_OK) {
        lineno++;
        const char *nl = memchr(data + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - data) : len;
        int rc = pcre2_match(s->re, (PCRE2_SPTR)(data + off), end - off, 0, 0, s->md, s->mctx);
        if (rc == PCRE2_ERROR_NOMEMORY) {
            st = agc_error_set(s->ctx, AGC_ENOMEM, "tools", "out of memory matching");
        } else if (rc >= 0) {
            if (s->count >= s->max) {
                s->hit_max = true;
                break;
            }
            s->count++;
            size_t n = end - off;
            bool cut = n > MAX_LINE_SHOWN;
            st = agc_buf_printf(&s->out, "%s:%zu:%.*s%s\n", display, lineno,
                                (int)(cut ? MAX_LINE_SHOWN : n), data + off, cut ? " [...]" : "");
        } else if (rc != PCRE2_ERROR_NOMATCH) {
            st = agc_buf_printf(&s->out, "%s:%zu: [match error %d; pattern too complex]\n", display,
                                lineno, rc);
            break;
        }
        off = end + 1;
    }
    agc_free(s->ctx, data);
    return st;
}

static agc_status visit(agc__walk_rc *rc, const char *rel, const char *full, agc__walk_type type,
                        int dirfd, const char *name, void *user)
{
    grep_state *s = user;
    if (type != AGC__W_FILE)
        return AGC_OK;
    if (s->glob && !agc__glob_match(s->glob, rel))
        return AGC_OK;
    if (agc__ws_denied(s->ws, full, AGC_WS_READ)) {
        s->denied++;
        return AGC_OK;
    }
    agc_status st = agc_tool_call_check(s->cctx);
    if (st != AGC_OK)
        return st;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        s->errors++;
        return AGC_OK;
    }
    st = grep_fd(s, fd, full);
    close(fd);
    if (s->hit_max)
        *rc = AGC__W_STOP;
    return st;
}

static agc_status compile(grep_state *s, pcre2_general_context *g, const char *pattern, bool icase,
                          agc_tool_result *out)
{
    pcre2_compile_context *cc = pcre2_compile_context_create(g);
    if (!cc)
        return AGC_ENOMEM;
    int err = 0;
    PCRE2_SIZE eoff = 0;
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (icase ? PCRE2_CASELESS : 0);
    s->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &err, &eoff, cc);
    pcre2_compile_context_free(cc);
    if (!s->re) {
        if (err == PCRE2_ERROR_HEAPLIMIT || err == PCRE2_ERROR_NOMEMORY)
            return AGC_ENOMEM;
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return agc_tool_result_errorf(out, s->ctx, "invalid pattern at offset %zu: %s",
                                      (size_t)eoff, (const char *)msg);
    }
    s->md = pcre2_match_data_create_from_pattern(s->re, g);
    s->mctx = pcre2_match_context_create(g);
    if (!s->md || !s->mctx)
        return AGC_ENOMEM;
    pcre2_set_match_limit(s->mctx, 1000000);
    pcre2_set_depth_limit(s->mctx, 10000);
    return AGC_OK;
}

static agc_status grep_call(void *self, const json_t *args, agc_tool_result *out,
                            agc_tool_call_ctx *cctx)
{
    grep_state s;
    memset(&s, 0, sizeof s);
    s.ws = self;
    s.ctx = cctx->ctx;
    s.cctx = cctx;
    s.glob = agc_json_str(args, "glob", NULL);
    s.max = agc_json_int(args, "max_matches", 200);
    agc_buf_init(&s.out, s.ctx, 0);
    const char *path = agc_json_str(args, "path", ".");
    pcre2_general_context *g = pcre2_general_context_create(pcre_malloc, pcre_free, s.ctx);
    if (!g)
        return AGC_ENOMEM;
    agc_status st = compile(&s, g, agc_json_str(args, "pattern", ""),
                            agc_json_bool(args, "ignore_case", false), out);
    if (st != AGC_OK || out->is_error)
        goto done;
    /* A single file, or a directory to walk? */
    int fd = -1;
    st = agc_workspace_open_file(&fd, s.ws, path, O_RDONLY | O_NONBLOCK, 0, AGC_WS_READ, s.ctx);
    if (st != AGC_OK)
        goto done;
    struct stat sb;
    bool is_dir = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
    bool capped = false;
    if (is_dir) {
        close(fd);
        st = agc__ws_walk(s.ws, path, true, visit, &s, &capped, cctx);
    } else {
        char *rel = NULL;
        st = agc_workspace_normalize(&rel, s.ws, path, s.ctx);
        if (st == AGC_OK)
            st = grep_fd(&s, fd, rel);
        agc_free(s.ctx, rel);
        close(fd);
    }
    if (st == AGC_OK && s.count == 0)
        st = agc_buf_printf(&s.out, "(no matches in %zu files)\n", s.files);
    if (st == AGC_OK && s.hit_max)
        st = agc_buf_printf(&s.out, "[stopped at max_matches=%lld]\n", s.max);
    else if (st == AGC_OK && capped)
        st =
            agc_buf_puts(&s.out, "[search stopped early: too many entries; narrow path or glob]\n");
    if (st == AGC_OK && s.denied)
        st = agc_buf_printf(&s.out, "[%zu denied secret files not searched]\n", s.denied);
    if (st == AGC_OK)
        st = agc_tool_result_set_output(out, agc_buf_cstr(&s.out), s.out.len, 0, s.ctx);
done:
    agc_buf_free(&s.out);
    pcre2_match_context_free(s.mctx);
    pcre2_match_data_free(s.md);
    pcre2_code_free(s.re);
    pcre2_general_context_free(g);
    return st;
}

static const agc_tool_ops grep_ops = {
    AGC_TOOL_OPS_VERSION,
    grep_call,
    agc__ws_tool_destroy,
};

agc_status agc__tool_grep_new(agc_tool **out, agc_workspace *ws, agc_ctx *ctx)
{
    return agc__ws_tool_make(out, ws, &grep_ops, "grep",
                             "Search workspace files for lines matching a PCRE2 regular "
                             "expression; prints path:line:text. Skips binary files and .git.",
                             schema, AGC_TOOL_EFFECT_READ, AGC_TOOL_APPROVE_ALWAYS, 60000, ctx);
}
