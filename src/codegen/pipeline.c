/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The test pipeline: a project's build, lint and test commands (given, or
 * detected from the files at the workspace root), run one after the other in
 * the jail through the run_command tool (so the same confinement applies as
 * for the model's own commands: .git and secrets hidden, no network, private
 * /tmp), stopping at the first failure. The failing output is parsed into
 * diagnostics (pipeline_diag.c) and the whole run summarised as a report.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "changeset_int.h"
#include "tools/tools_int.h"

struct agc_pipeline {
    agc_ctx *ctx;
    agc_workspace *ws;
    agc_tool *runner;
    agc_pipe_cmd cmds[3];
    size_t n;
    const char *kind;
    int64_t timeout_ms;
    size_t max_output;
};

const char *agc_pipe_stage_name(agc_pipe_stage s)
{
    static const char *const n[] = {"build", "lint", "test"};
    return (unsigned)s < 3 ? n[s] : "?";
}

void agc_pipeline_opts_init(agc_pipeline_opts *opts)
{
    agc_pipeline_opts d = AGC_PIPELINE_OPTS_INIT;
    *opts = d;
}

static bool has_file(const char *root, const char *name)
{
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", root, name);
    return stat(p, &sb) == 0;
}

/* Whether root/name has a line starting with target (a make target). */
static bool file_has_line(const char *root, const char *name, const char *target)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    size_t n = strlen(target);
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, target, n) == 0;
    fclose(f);
    return found;
}

static bool any_test_py(const char *root)
{
    static const char *const c[] = {
        "pytest.ini", "pyproject.toml", "setup.py",          "setup.cfg",
        "tox.ini",    "conftest.py",    "tests/conftest.py", NULL};
    for (size_t i = 0; c[i]; i++)
        if (has_file(root, c[i]))
            return true;
    /* a test_*.py at the root or in tests/ */
    bool found = false;
    for (int d = 0; d < 2 && !found; d++) {
        char dir[4300];
        snprintf(dir, sizeof dir, "%s%s", root, d ? "/tests" : "");
        DIR *dp = opendir(dir);
        if (!dp)
            continue;
        for (struct dirent *e; !found && (e = readdir(dp));) {
            size_t n = strlen(e->d_name);
            found = strncmp(e->d_name, "test_", 5) == 0 && n > 8 &&
                    strcmp(e->d_name + n - 3, ".py") == 0;
        }
        closedir(dp);
    }
    return found;
}

/* Fills the detected commands for the stages still empty. */
static const char *detect(const char *root, const char *cmd[3])
{
    const char *mk = has_file(root, "Makefile")      ? "Makefile"
                     : has_file(root, "makefile")    ? "makefile"
                     : has_file(root, "GNUmakefile") ? "GNUmakefile"
                                                     : NULL;
    if (mk) {
        cmd[AGC_PIPE_BUILD] = "make";
        cmd[AGC_PIPE_TEST] = file_has_line(root, mk, "test:")    ? "make test"
                             : file_has_line(root, mk, "check:") ? "make check"
                                                                 : NULL;
        return "make";
    }
    if (has_file(root, "CMakeLists.txt")) {
        cmd[AGC_PIPE_BUILD] = "cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug && cmake --build build";
        cmd[AGC_PIPE_TEST] = "ctest --test-dir build --output-on-failure";
        return "cmake";
    }
    if (has_file(root, "go.mod")) {
        cmd[AGC_PIPE_BUILD] = "go build ./...";
        cmd[AGC_PIPE_LINT] = "go vet ./...";
        cmd[AGC_PIPE_TEST] = "go test ./...";
        return "go";
    }
    if (has_file(root, "package.json")) {
        cmd[AGC_PIPE_BUILD] = "npm run build --if-present";
        cmd[AGC_PIPE_TEST] = "npm test";
        return "npm";
    }
    if (has_file(root, "Cargo.toml")) {
        cmd[AGC_PIPE_BUILD] = "cargo build --offline";
        cmd[AGC_PIPE_TEST] = "cargo test --offline";
        return "cargo";
    }
    if (any_test_py(root)) {
        cmd[AGC_PIPE_TEST] = "python3 -m pytest -q";
        return "pytest";
    }
    return NULL;
}

void agc_pipeline_free(agc_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        agc_free(p->ctx, p->cmds[i].command);
    agc_tool_free(p->runner);
    agc_workspace_close(p->ws);
    agc_free(p->ctx, p);
}

agc_status agc_pipeline_new(agc_pipeline **out, agc_workspace *ws, const agc_pipeline_opts *opts,
                            agc_ctx *ctx)
{
    *out = NULL;
    agc_pipeline_opts d = AGC_PIPELINE_OPTS_INIT;
    if (!opts)
        opts = &d;
    if (opts->version != AGC_PIPELINE_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "pipeline", "unknown pipeline options version %u",
                             opts->version);
    const char *cmd[3] = {opts->build, opts->lint, opts->test};
    const char *det[3] = {NULL, NULL, NULL};
    const char *kind = "custom";
    if (!opts->no_detect) {
        const char *k = detect(agc_workspace_root(ws), det);
        if (k && !(cmd[0] || cmd[1] || cmd[2]))
            kind = k;
        for (int i = 0; i < 3; i++)
            if (!cmd[i])
                cmd[i] = det[i];
    }
    if (!cmd[0] && !cmd[1] && !cmd[2])
        return agc_error_set(ctx, AGC_ENOTFOUND, "pipeline",
                             "no build or test command for %s: none was given and no Makefile, "
                             "CMakeLists.txt, go.mod, package.json, Cargo.toml or pytest "
                             "project was found",
                             agc_workspace_root(ws));
    agc_pipeline *p = agc_calloc(ctx, 1, sizeof *p);
    if (!p)
        return AGC_ENOMEM;
    p->ctx = ctx;
    agc__ws_ref(ws);
    p->ws = ws;
    p->kind = kind;
    p->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 300000;
    p->max_output = opts->max_output ? opts->max_output : 64 * 1024;
    agc_status st = AGC_OK;
    for (int i = 0; st == AGC_OK && i < 3; i++) {
        if (!cmd[i] || !cmd[i][0])
            continue;
        p->cmds[p->n].stage = (agc_pipe_stage)i;
        p->cmds[p->n].command = agc_strdup(ctx, cmd[i]);
        st = p->cmds[p->n++].command ? AGC_OK : AGC_ENOMEM;
    }
    agc_run_command_opts ro = AGC_RUN_COMMAND_OPTS_INIT;
    ro.jail = opts->jail;
    if (st == AGC_OK)
        st = agc_workspace_run_command_new(&p->runner, ws, &ro, ctx);
    if (st != AGC_OK) {
        agc_pipeline_free(p);
        return st;
    }
    *out = p;
    return AGC_OK;
}

size_t agc_pipeline_count(const agc_pipeline *p)
{
    return p->n;
}

const agc_pipe_cmd *agc_pipeline_at(const agc_pipeline *p, size_t i)
{
    return i < p->n ? &p->cmds[i] : NULL;
}

const char *agc_pipeline_kind(const agc_pipeline *p)
{
    return p->kind;
}

void agc_pipe_result_clear(agc_pipe_result *r, agc_ctx *ctx)
{
    for (size_t i = 0; i < r->n_steps; i++) {
        agc_free(ctx, r->steps[i].command);
        agc_free(ctx, r->steps[i].output);
    }
    agc_free(ctx, r->steps);
    agc_diags_free(r->diags, r->n_diags, ctx);
    agc_free(ctx, r->diags);
    memset(r, 0, sizeof *r);
}

/* Runs one command line; fills the step. */
static agc_status run_one(agc_pipeline *p, struct agc_pipe_step *s)
{
    agc_ctx *ctx = p->ctx;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *args = json_pack("{s:[s,s,s], s:b, s:f}", "argv", "sh", "-c", s->command,
                             "merge_stderr", 1, "timeout_seconds", (double)p->timeout_ms / 1000.0);
    agc_json_leave(prev);
    if (!args)
        return AGC_ENOMEM;
    agc_tool_result res;
    agc_tool_result_init(&res);
    agc_tool_call_ctx cc = AGC_TOOL_CALL_CTX_INIT;
    cc.ctx = ctx;
    agc_status st = agc_tool_invoke(&res, p->runner, args, &cc);
    prev = agc_json_enter(ctx);
    json_decref(args);
    agc_json_leave(prev);
    if (st != AGC_OK) {
        agc_tool_result_clear(&res, ctx);
        return st;
    }
    const json_t *code = json_object_get(res.structured, "exit_code");
    s->exit_code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
    s->passed = !res.is_error && s->exit_code == 0;
    const char *o = res.output ? res.output : "";
    size_t n = res.output_len;
    if (n > p->max_output) { /* keep the tail: errors are usually at the end */
        o += n - p->max_output;
        n = p->max_output;
    }
    s->output = agc_strndup(ctx, o, n);
    agc_tool_result_clear(&res, ctx);
    return s->output ? AGC_OK : AGC_ENOMEM;
}

agc_status agc_pipeline_run(agc_pipe_result *out, agc_pipeline *p)
{
    agc_ctx *ctx = p->ctx;
    memset(out, 0, sizeof *out);
    out->steps = agc_calloc(ctx, p->n + 1, sizeof *out->steps);
    if (!out->steps)
        return AGC_ENOMEM;
    out->passed = true;
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < p->n; i++) {
        struct agc_pipe_step *s = &out->steps[out->n_steps++];
        s->stage = p->cmds[i].stage;
        s->exit_code = -1;
        s->command = agc_strdup(ctx, p->cmds[i].command);
        if (!s->command) {
            st = AGC_ENOMEM;
            break;
        }
        if (!out->passed) {
            s->skipped = true;
            continue;
        }
        st = run_one(p, s);
        if (st == AGC_OK && !s->passed) {
            out->passed = false;
            st = agc_diags_parse(&out->diags, &out->n_diags, s->output, 50, ctx);
        }
    }
    if (st != AGC_OK)
        agc_pipe_result_clear(out, ctx);
    return st;
}

agc_status agc_pipe_result_report(const agc_pipe_result *r, agc_buf *out, size_t tail_bytes)
{
    agc_status st = agc_buf_printf(out, "%s\n", r->passed ? "ALL PASSED" : "FAILED");
    const struct agc_pipe_step *failed = NULL;
    for (size_t i = 0; st == AGC_OK && i < r->n_steps; i++) {
        const struct agc_pipe_step *s = &r->steps[i];
        if (!s->passed && !s->skipped && !failed)
            failed = s;
        st = agc_buf_printf(out, "%-5s %s: %s",
                            s->skipped  ? "SKIP"
                            : s->passed ? "PASS"
                                        : "FAIL",
                            agc_pipe_stage_name(s->stage), s->command);
        if (st == AGC_OK && !s->skipped && !s->passed)
            st = s->exit_code >= 0 ? agc_buf_printf(out, " (exit %d)", s->exit_code)
                                   : agc_buf_puts(out, " (killed or timed out)");
        if (st == AGC_OK)
            st = agc_buf_putc(out, '\n');
    }
    bool tests = false;
    for (size_t i = 0; st == AGC_OK && i < r->n_diags; i++) {
        const agc_diag *d = &r->diags[i];
        if (d->test) {
            tests = true;
            continue;
        }
        if (i == 0 || (i > 0 && r->diags[i - 1].test))
            st = agc_buf_puts(out, "diagnostics:\n");
        if (st != AGC_OK)
            break;
        if (d->file && d->col)
            st = agc_buf_printf(out, "  %s:%ld:%ld: %s: %s\n", d->file, d->line, d->col,
                                d->severity, d->message);
        else if (d->file && d->line)
            st = agc_buf_printf(out, "  %s:%ld: %s: %s\n", d->file, d->line, d->severity,
                                d->message);
        else
            st = agc_buf_printf(out, "  %s%s%s: %s\n", d->file ? d->file : "", d->file ? ": " : "",
                                d->severity, d->message);
    }
    if (st == AGC_OK && tests) {
        st = agc_buf_puts(out, "failing tests:\n");
        for (size_t i = 0; st == AGC_OK && i < r->n_diags; i++)
            if (r->diags[i].test)
                st = agc_buf_printf(out, "  %s\n", r->diags[i].test);
    }
    if (st == AGC_OK && failed && failed->output && tail_bytes) {
        size_t n = strlen(failed->output);
        const char *o = failed->output;
        if (n > tail_bytes) {
            o += n - tail_bytes;
            const char *nl = strchr(o, '\n');
            if (nl)
                o = nl + 1;
        }
        st = agc_buf_printf(out, "output of the failing step%s:\n%s%s",
                            o != failed->output ? " (tail)" : "", o,
                            o[0] && o[strlen(o) - 1] != '\n' ? "\n" : "");
    }
    return st;
}
