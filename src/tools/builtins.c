/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The table of built-in workspace tools ({name, constructor}, NULL-terminated)
 * and the shared constructor that wraps a workspace into an agc_tool.
 * Invariant: each tool holds one workspace reference, released by its
 * destroy. Does not implement any tool itself.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "tools_int.h"

typedef agc_status (*tool_ctor)(agc_tool **out, agc_workspace *ws, agc_ctx *ctx);

static const struct {
    const char *name;
    tool_ctor fn;
} builtins[] = {
    {"read_file", agc__tool_read_file_new},
    {"list_dir", agc__tool_list_dir_new},
    {"find", agc__tool_find_new},
    {"grep", agc__tool_grep_new},
    {"write_file", agc__tool_write_file_new},
    {"apply_patch", agc__tool_apply_patch_new},
    {"run_command", agc__tool_run_command_new},
    {NULL, NULL},
};

void agc__ws_tool_destroy(void *self)
{
    agc__ws_unref(self);
}

agc_status agc__ws_tool_make(agc_tool **out, agc_workspace *ws, const agc_tool_ops *ops,
                             const char *name, const char *description, const char *schema_text,
                             agc_tool_effect effect, agc_tool_approval approval, int64_t timeout_ms,
                             agc_ctx *ctx)
{
    *out = NULL;
    json_t *schema = NULL;
    agc_status st = agc_json_parse(&schema, schema_text, strlen(schema_text), name, ctx);
    if (st != AGC_OK)
        return st;
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = name;
    spec.description = description;
    spec.input_schema = schema;
    spec.effect = effect;
    spec.approval = approval;
    spec.timeout_ms = timeout_ms;
    agc__ws_ref(ws);
    st = agc_tool_new(out, ops, ws, &spec, ctx); /* releases ws on failure */
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(schema);
    agc_json_leave(prev);
    return st;
}

agc_status agc_workspace_tool_new(agc_tool **out, agc_workspace *ws, const char *name, agc_ctx *ctx)
{
    *out = NULL;
    for (size_t i = 0; builtins[i].name; i++)
        if (name && strcmp(builtins[i].name, name) == 0)
            return builtins[i].fn(out, ws, ctx);
    return agc_error_set(ctx, AGC_ENOTFOUND, "tools",
                         "no built-in tool named '%s'; built-ins are read_file, list_dir, find, "
                         "grep, write_file, apply_patch, run_command",
                         name ? name : "(null)");
}

agc_status agc_workspace_register_tools(agc_tool_registry *reg, agc_workspace *ws,
                                        const char *const *names)
{
    agc_ctx *ctx = agc__ws_ctx(ws);
    size_t n = 0;
    if (!names) {
        while (builtins[n].name)
            n++;
    } else {
        while (names[n])
            n++;
    }
    for (size_t i = 0; i < n; i++) {
        agc_tool *t = NULL;
        agc_status st = agc_workspace_tool_new(&t, ws, names ? names[i] : builtins[i].name, ctx);
        if (st == AGC_OK)
            st = agc_tool_registry_add(reg, t);
        if (st != AGC_OK)
            return st;
    }
    return AGC_OK;
}
