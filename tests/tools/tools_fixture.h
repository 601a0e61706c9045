/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared fixture for the tools suites: a temporary directory opened as a
 * workspace with every built-in tool registered, a helper to invoke a tool
 * by name with JSON argument text, and file helpers. Header-only (static
 * functions) because each suite is its own executable.
 */
#ifndef AGC_TOOLS_FIXTURE_H
#define AGC_TOOLS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/tool.h"
#include "agentc/workspace.h"

typedef struct fx {
    char *dir;
    agc_ctx *ctx;
    agc_workspace *ws;
    agc_tool_registry *reg;
    agc_tool_result res;
} fx;

static inline fx *fx_new(const agc_workspace_opts *opts)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = agc_test_tmpdir();
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_workspace_open(&f->ws, f->dir, opts, f->ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_new(&f->reg, f->ctx), AGC_OK);
    assert_int_equal(agc_workspace_register_tools(f->reg, f->ws, NULL), AGC_OK);
    agc_tool_result_init(&f->res);
    return f;
}

static inline void fx_free(fx *f)
{
    agc_tool_result_clear(&f->res, f->ctx);
    agc_tool_registry_free(f->reg);
    agc_workspace_close(f->ws);
    agc_ctx_free(f->ctx);
    agc_test_rmtree(f->dir);
    free(f->dir);
    free(f);
}

/* Invokes tool with args; the result is in f->res (its output never NULL). */
static inline agc_status fx_call(fx *f, const char *tool, const char *args)
{
    agc_tool_result_clear(&f->res, f->ctx);
    agc_status st = agc_tool_registry_invoke(&f->res, f->reg, tool, args, NULL);
    if (!f->res.output) {
        f->res.output = agc_strdup(f->ctx, "");
        assert_non_null(f->res.output);
    }
    return st;
}

/* Expects a successful, non-error result and returns its output. */
static inline const char *fx_ok(fx *f, const char *tool, const char *args)
{
    assert_int_equal(fx_call(f, tool, args), AGC_OK);
    if (f->res.is_error)
        fprintf(stderr, "unexpected tool error from %s: %s\n", tool, f->res.output);
    assert_false(f->res.is_error);
    return f->res.output;
}

/* Expects an error result whose text contains want. */
static inline void fx_err(fx *f, const char *tool, const char *args, const char *want)
{
    assert_int_equal(fx_call(f, tool, args), AGC_OK);
    if (!f->res.is_error || !strstr(f->res.output, want))
        fprintf(stderr, "%s %s: wanted an error containing '%s', got (%s) '%s'\n", tool, args, want,
                f->res.is_error ? "error" : "ok", f->res.output);
    assert_true(f->res.is_error);
    assert_non_null(strstr(f->res.output, want));
}

static inline char *fx_path(const fx *f, const char *rel)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", f->dir, rel) > 0);
    return p;
}

/* Writes rel (creating parent directories). */
static inline void fx_write(const fx *f, const char *rel, const char *content)
{
    char *p = fx_path(f, rel);
    for (char *s = p + strlen(f->dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    agc_test_write_file(p, content);
    free(p);
}

/* The content of rel (malloc'd), or NULL when it does not exist. */
static inline char *fx_read(const fx *f, const char *rel)
{
    char *p = fx_path(f, rel);
    FILE *fp = fopen(p, "rb");
    free(p);
    if (!fp)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static inline void fx_expect_file(const fx *f, const char *rel, const char *want)
{
    char *got = fx_read(f, rel);
    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "%s: wanted '%s', got '%s'\n", rel, want, got ? got : "(missing)");
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

#endif
