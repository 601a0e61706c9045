/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Runtime tools over the AST: outline_file {path}, replace_symbol {path,
 * symbol, code}, insert_after_symbol {path, symbol, code}. Files are read
 * with agc_workspace_open_file (confined, read deny list) and written by
 * the workspace's own write_file tool (confined, write deny list, atomic
 * temp file + rename), which each tool holds; that tool also keeps the
 * workspace alive. An edit that adds syntax errors is refused and the
 * errors (line:col, node) go back to the model; the file is not touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "agentc/workspace.h"
#include "ast_int.h"

#define MAX_FILE ((size_t)8 * 1024 * 1024)

typedef struct ast_tool {
    agc_ctx *ctx;
    agc_workspace *ws;
    agc_tool *io; /* write_file (edits) or read_file (outline): keeps ws alive */
    agc_ast_edit_op op;
} ast_tool;

static void ast_tool_destroy(void *self)
{
    ast_tool *t = self;
    if (!t)
        return;
    agc_tool_free(t->io);
    agc_free(t->ctx, t);
}

static agc_status read_all(char **out, size_t *len_out, agc_workspace *ws, const char *path,
                           agc_ctx *ctx)
{
    *out = NULL;
    int fd = -1;
    agc_status st = agc_workspace_open_file(&fd, ws, path, O_RDONLY, 0, AGC_WS_READ, ctx);
    if (st != AGC_OK)
        return st;
    agc_buf b;
    agc_buf_init(&b, ctx, MAX_FILE);
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = agc_error_set(ctx, AGC_EIO, "ast", "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((st = agc_buf_append(&b, chunk, (size_t)n)) != AGC_OK) {
            if (st == AGC_ELIMIT)
                agc_error_set(ctx, st, "ast", "'%s' is larger than %zu bytes", path, MAX_FILE);
            break;
        }
    }
    close(fd);
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return st;
    }
    *len_out = b.len;
    *out = agc_buf_detach(&b, NULL);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status outline_call(void *self, const json_t *args, agc_tool_result *out,
                               agc_tool_call_ctx *cctx)
{
    ast_tool *t = self;
    agc_ctx *ctx = cctx->ctx;
    const char *path = agc_json_str(args, "path", "");
    char *src = NULL, *text = NULL;
    size_t len = 0;
    agc_status st = read_all(&src, &len, t->ws, path, ctx);
    agc_ast_outline *o = NULL;
    if (st == AGC_OK)
        st = agc_ast_outline_new(&o, path, src, len, ctx);
    if (st == AGC_OK)
        st = agc_ast_outline_render(&text, o, false, ctx);
    if (st == AGC_OK) {
        if (!*text)
            st = agc_tool_result_errorf(out, ctx, "%s: no definitions found", path);
        else
            st = agc_tool_result_set_output(out, text, strlen(text), 0, ctx);
    }
    agc_free(ctx, text);
    agc_ast_outline_free(o);
    agc_free(ctx, src);
    return st;
}

static agc_status edit_call(void *self, const json_t *args, agc_tool_result *out,
                            agc_tool_call_ctx *cctx)
{
    ast_tool *t = self;
    agc_ctx *ctx = cctx->ctx;
    const char *path = agc_json_str(args, "path", "");
    const char *symbol = agc_json_str(args, "symbol", "");
    const char *code = agc_json_str(args, "code", "");
    char *src = NULL, *result = NULL, *errors = NULL;
    size_t len = 0, rlen = 0;
    agc_status st = read_all(&src, &len, t->ws, path, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_ast_edit(&result, &rlen, &errors, path, src, len, symbol, t->op, code, ctx);
    if (st == AGC_EPARSE && errors) {
        st = agc_tool_result_errorf(
            out, ctx, "%s; the file was not changed. Syntax errors in the result:\n%s",
            agc_ctx_errmsg(ctx), errors);
        goto done;
    }
    if (st != AGC_OK)
        goto done;
    /* write through the workspace's atomic write_file tool */
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *wargs = json_pack("{s:s, s:s%}", "path", path, "content", result, rlen);
    agc_json_leave(prev);
    if (!wargs) {
        st = agc_error_set(ctx, AGC_ENOMEM, "ast", "out of memory");
        goto done;
    }
    agc_tool_result wr;
    agc_tool_result_init(&wr);
    st = agc_tool_invoke(&wr, t->io, wargs, cctx);
    prev = agc_json_enter(ctx);
    json_decref(wargs);
    agc_json_leave(prev);
    if (st == AGC_OK && wr.is_error) {
        st = agc_tool_result_errorf(out, ctx, "%s", wr.output ? wr.output : "write failed");
    } else if (st == AGC_OK) {
        agc_ast_outline *o = NULL;
        const agc_ast_symbol *s = NULL;
        const char *what = t->op == AGC_AST_REPLACE ? "replaced" : "inserted after";
        char *msg;
        if (agc_ast_outline_new(&o, path, result, rlen, ctx) == AGC_OK &&
            agc_ast_find_symbol(&s, o, symbol, ctx) == AGC_OK)
            msg = agc_sprintf(ctx, "%s %s %s in %s (it is now at lines %u-%u)", what,
                              agc_ast_kind_name(s->kind), s->qualified, path, s->start_line,
                              s->end_line);
        else
            msg = agc_sprintf(ctx, "%s %s in %s", what, symbol, path);
        st = msg ? agc_tool_result_set_output(out, msg, strlen(msg), 0, ctx) : AGC_ENOMEM;
        agc_free(ctx, msg);
        agc_ast_outline_free(o);
    }
    agc_tool_result_clear(&wr, ctx);
done:
    agc_free(ctx, errors);
    agc_free(ctx, result);
    agc_free(ctx, src);
    return st;
}

static const agc_tool_ops outline_ops = {AGC_TOOL_OPS_VERSION, outline_call, ast_tool_destroy};
static const agc_tool_ops edit_ops = {AGC_TOOL_OPS_VERSION, edit_call, ast_tool_destroy};

static const char outline_schema[] =
    "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\",\"minLength\":1,"
    "\"description\":\"Source file relative to the workspace root\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

static const char edit_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Source file relative to the "
    "workspace root\"},"
    "\"symbol\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Name of the function, "
    "method, class or type; qualify members as Class.method\"},"
    "\"code\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The complete new "
    "definition (indentation is adjusted)\"}},"
    "\"required\":[\"path\",\"symbol\",\"code\"],\"additionalProperties\":false}";

static agc_status make(agc_tool **out, agc_workspace *ws, const char *name, const char *desc,
                       const char *schema_text, const agc_tool_ops *ops, agc_ast_edit_op op,
                       agc_ctx *ctx)
{
    *out = NULL;
    ast_tool *t = agc_calloc(ctx, 1, sizeof *t);
    if (!t)
        return AGC_ENOMEM;
    t->ctx = ctx, t->ws = ws, t->op = op;
    agc_status st =
        agc_workspace_tool_new(&t->io, ws, ops == &outline_ops ? "read_file" : "write_file", ctx);
    json_t *schema = NULL;
    if (st == AGC_OK)
        st = agc_json_parse(&schema, schema_text, strlen(schema_text), name, ctx);
    if (st != AGC_OK) {
        ast_tool_destroy(t);
        return st;
    }
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = name;
    spec.description = desc;
    spec.input_schema = schema;
    spec.effect = ops == &outline_ops ? AGC_TOOL_EFFECT_READ : AGC_TOOL_EFFECT_WRITE;
    spec.approval = ops == &outline_ops ? AGC_TOOL_APPROVE_ALWAYS : AGC_TOOL_APPROVE_ASK;
    spec.timeout_ms = 30000;
    st = agc_tool_new(out, ops, t, &spec, ctx); /* destroys t on failure */
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    return st;
}

agc_status agc_ast_register_tools(agc_tool_registry *reg, agc_workspace *ws, agc_ctx *ctx)
{
    static const struct {
        const char *name, *desc, *schema;
        const agc_tool_ops *ops;
        agc_ast_edit_op op;
    } defs[] = {
        {"outline_file",
         "List the definitions (functions, methods, classes, types) of a source file with their "
         "line ranges.",
         outline_schema, &outline_ops, AGC_AST_REPLACE},
        {"replace_symbol",
         "Replace a whole function, method, class or type, found by name, with new code. The "
         "result must parse.",
         edit_schema, &edit_ops, AGC_AST_REPLACE},
        {"insert_after_symbol",
         "Insert new code (e.g. a function or method) right after the named definition. The "
         "result must parse.",
         edit_schema, &edit_ops, AGC_AST_INSERT_AFTER},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        agc_tool *tool = NULL;
        agc_status st = make(&tool, ws, defs[i].name, defs[i].desc, defs[i].schema, defs[i].ops,
                             defs[i].op, ctx);
        if (st == AGC_OK)
            st = agc_tool_registry_add(reg, tool);
        if (st != AGC_OK)
            return st;
    }
    return AGC_OK;
}
