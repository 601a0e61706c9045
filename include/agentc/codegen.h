/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Code generation: change sets and the test pipeline.
 * A change set is a list of file operations (create, modify, delete, rename)
 * parsed strictly from model output in one of the common edit formats
 * (apply_patch, SEARCH/REPLACE blocks, unified diff, whole files), resolved
 * against a workspace (every edit must match exactly once; a miss names the
 * file and shows the closest text), re-parsed for syntax, and applied
 * atomically through a journal: after a crash (even kill -9) the next
 * agc_changeset_recover() rolls the workspace back (or forward, when the
 * commit point was reached), so no file is ever left half-changed.
 * The test pipeline runs a project's build/lint/test commands in the jail
 * and turns failures into file:line diagnostics for the model.
 * Not here: AST outline/symbol edits and the repo map (ast.h, repomap.h).
 */
#ifndef AGENTC_CODEGEN_H
#define AGENTC_CODEGEN_H

#include <jansson.h>

#include "buf.h"
#include "common.h"
#include "workspace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- change sets -------------------------------------------------------------------- */

typedef enum agc_cs_op {
    AGC_CS_CREATE = 0, /* a new file */
    AGC_CS_MODIFY,     /* new contents for an existing file */
    AGC_CS_DELETE,     /* remove a file */
    AGC_CS_RENAME      /* move a file (maybe with new contents) */
} agc_cs_op;

typedef enum agc_cs_format {
    AGC_CS_FMT_AUTO = 0,       /* detected from the text */
    AGC_CS_FMT_APPLY_PATCH,    /* *** Begin Patch ... *** End Patch */
    AGC_CS_FMT_SEARCH_REPLACE, /* path, <<<<<<< SEARCH / ======= / >>>>>>> REPLACE */
    AGC_CS_FMT_UDIFF,          /* --- a/x / +++ b/x / @@ -l,n +l,n @@ */
    AGC_CS_FMT_WHOLE_FILE      /* a path line, then the file in a ``` fence */
} agc_cs_format;

/* "create" ... / "auto", "apply_patch", "search_replace", "udiff", "whole_file". */
const char *agc_cs_op_name(agc_cs_op op);
const char *agc_cs_format_name(agc_cs_format f);
/* Guesses the format of text (never AUTO: WHOLE_FILE when nothing else fits). */
agc_cs_format agc_cs_format_detect(const char *text);

typedef struct agc_changeset agc_changeset;

/*
 * Parses model output into an unresolved change set (nothing is read or
 * written). fmt AUTO detects it. *out is the caller's (agc_changeset_free).
 * AGC_EPARSE with "FORMAT line N: what" for malformed input (for the model),
 * AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_changeset_parse(agc_changeset **out, const char *text,
                                             agc_cs_format fmt, agc_ctx *ctx);
/* Frees cs; NULL is a no-op. */
void agc_changeset_free(agc_changeset *cs);

/*
 * Resolves every edit against the files of ws: reads the files, locates each
 * edit (exact, then ignoring trailing whitespace, then ignoring indentation,
 * which is re-applied to the replacement), computes the new contents, checks
 * paths (confined, deny lists) and orders the files (directories before
 * their files, a header before the files that include it, deletes last).
 * Problems the model can fix (no match, two matches, missing file, file
 * exists) are AGC_EINVAL/AGC_ENOTFOUND/AGC_EEXISTS with every message (file,
 * edit, closest text with its line numbers and similarity) in the ctx
 * error. Call once; AGC_EINVAL when called again. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_changeset_resolve(agc_changeset *cs, agc_workspace *ws);

/* One resolved file operation. Pointers are borrowed while cs lives. */
typedef struct agc_cs_file {
    agc_cs_op op;
    const char *path;     /* normalised relative path (the source of a rename) */
    const char *to;       /* RENAME: the destination; else NULL */
    const char *old_text; /* NULL for CREATE */
    size_t old_len;
    const char *new_text; /* NULL for DELETE */
    size_t new_len;
    unsigned fuzzy_edits; /* edits located only by ignoring whitespace */
} agc_cs_file;

/* Number of files (after resolve: in apply order) and the i-th. */
size_t agc_changeset_count(const agc_changeset *cs);
bool agc_changeset_file(const agc_changeset *cs, size_t i, agc_cs_file *out);

/*
 * Appends the unified diff (3 lines of context, a/ b/ prefixes, /dev/null
 * for created and deleted files) of the resolved set to out. AGC_EINVAL
 * before resolve, AGC_ENOMEM / the buffer's AGC_ELIMIT.
 */
AGC_NODISCARD agc_status agc_changeset_diff(const agc_changeset *cs, agc_buf *out);

/*
 * Re-parses every created or changed file whose language is known (via the
 * AST module when available, else a bracket/string/comment balance check for
 * C-family files) and appends "path:line:col: what" lines to errs. Returns
 * AGC_OK when clean, AGC_EPARSE when errs got lines, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_changeset_check_syntax(const agc_changeset *cs, agc_buf *errs);

/* Called after each journal step while applying (tests use it to crash). */
typedef void (*agc_cs_step_fn)(size_t step, const char *what, void *user);

typedef struct agc_cs_apply_opts {
    unsigned version;    /* AGC_CS_APPLY_OPTS_VERSION */
    bool allow_dirty;    /* touch files with uncommitted changes in the git repository */
    bool skip_syntax;    /* do not run agc_changeset_check_syntax first */
    bool commit;         /* git commit the changed files afterwards */
    const char *message; /* commit message; NULL: generated from the set */
    agc_cs_step_fn on_step;
    void *step_user;
} agc_cs_apply_opts;

#define AGC_CS_APPLY_OPTS_VERSION 1
#define AGC_CS_APPLY_OPTS_INIT                                                                     \
    {                                                                                              \
        AGC_CS_APPLY_OPTS_VERSION, false, false, false, NULL, NULL, NULL                           \
    }
void agc_cs_apply_opts_init(agc_cs_apply_opts *opts);

/*
 * Applies a resolved change set to its workspace atomically: first
 * agc_changeset_recover() (a crashed earlier set), then the syntax check
 * (AGC_EPARSE, messages in the ctx error), the git check (AGC_EPERM naming
 * files with uncommitted changes unless allow_dirty), then new contents go
 * to temp files and originals are hard-linked aside, the journal
 * (.agentc-journal at the root) is written and synced, the renames are done,
 * the journal is marked committed, backups removed. Any failure rolls every
 * file back. With commit, the changed paths are committed via libgit2
 * (AGC_EUNSUPPORTED when libgit2 cannot be loaded). Errors as named, AGC_EIO.
 */
AGC_NODISCARD agc_status agc_changeset_apply(agc_changeset *cs, const agc_cs_apply_opts *opts);

/*
 * Finishes or undoes a change set interrupted by a crash in ws: a journal
 * not marked committed is rolled back (originals restored, created files and
 * directories removed), a committed one is rolled forward (backups removed).
 * *did_out (may be NULL): 0 nothing to do, 1 rolled back, 2 rolled forward.
 * AGC_EPARSE for an unreadable journal (left in place), AGC_EIO.
 */
AGC_NODISCARD agc_status agc_changeset_recover(int *did_out, agc_workspace *ws, agc_ctx *ctx);

/* The commit message agc_changeset_apply generates (caller's, agc_free). NULL on ENOMEM. */
char *agc_changeset_summary(const agc_changeset *cs);

/* ---- git (libgit2, loaded at first use) ---------------------------------------------- */

/*
 * Appends to dirty the paths among paths[0..n) (relative to the workspace
 * root) that differ from HEAD or the index in the git repository containing
 * root (one per line). No repository: AGC_OK with nothing appended.
 * AGC_EUNSUPPORTED when libgit2 cannot be loaded, AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_git_dirty_paths(agc_buf *dirty, const char *root,
                                             const char *const *paths, size_t n, agc_ctx *ctx);
/*
 * Stages paths (added, changed or removed) and commits them on HEAD with
 * message (author/committer from the repository config, else "agentc
 * <agentc@localhost>"). *oid_hex (41 bytes, may be NULL) gets the commit id.
 * AGC_ENOTFOUND (no repository), AGC_EUNSUPPORTED, AGC_EIO.
 */
AGC_NODISCARD agc_status agc_git_commit_paths(char oid_hex[41], const char *root,
                                              const char *const *paths, size_t n,
                                              const char *message, agc_ctx *ctx);

/* ---- test pipeline ----------------------------------------------------------------- */

typedef enum agc_pipe_stage { AGC_PIPE_BUILD = 0, AGC_PIPE_LINT, AGC_PIPE_TEST } agc_pipe_stage;

/* "build", "lint", "test". */
const char *agc_pipe_stage_name(agc_pipe_stage s);

/* One diagnostic parsed from a failing command's output. Strings owned by the result. */
typedef struct agc_diag {
    char *file;     /* as printed (relative when it could be made relative), or NULL */
    long line, col; /* 0 when unknown */
    char *severity; /* "error", "warning", "fail", "note" */
    char *message;
    char *test; /* a failing test's name, or NULL */
} agc_diag;

typedef struct agc_pipe_cmd {
    agc_pipe_stage stage;
    char *command; /* a shell command line (sh -c) */
} agc_pipe_cmd;

typedef struct agc_pipeline agc_pipeline;

typedef struct agc_pipeline_opts {
    unsigned version;   /* AGC_PIPELINE_OPTS_VERSION */
    const char *build;  /* NULL: detected */
    const char *lint;   /* NULL: detected (none usually) */
    const char *test;   /* NULL: detected */
    bool no_detect;     /* only the commands given */
    int64_t timeout_ms; /* per command; 0: 300000 */
    agc_run_jail jail;  /* default AUTO */
    size_t max_output;  /* bytes of output kept per command; 0: 64 KiB */
} agc_pipeline_opts;

#define AGC_PIPELINE_OPTS_VERSION 1
#define AGC_PIPELINE_OPTS_INIT                                                                     \
    {                                                                                              \
        AGC_PIPELINE_OPTS_VERSION, NULL, NULL, NULL, false, 0, AGC_RUN_JAIL_AUTO, 0                \
    }
void agc_pipeline_opts_init(agc_pipeline_opts *opts);

/*
 * Makes the pipeline for ws: the commands given in opts, and for the stages
 * left NULL the detected ones (Makefile: make / make test; CMakeLists.txt:
 * cmake -S . -B build && cmake --build build / ctest --test-dir build;
 * package.json: npm run build / npm test; pytest.ini, pyproject.toml,
 * setup.py or test_*.py: python3 -m pytest -q; go.mod: go build ./... /
 * go vet ./... / go test ./...). Keeps a reference to ws. *out is the
 * caller's. AGC_ENOTFOUND when no command is given or detected, AGC_EINVAL,
 * AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_pipeline_new(agc_pipeline **out, agc_workspace *ws,
                                          const agc_pipeline_opts *opts, agc_ctx *ctx);
void agc_pipeline_free(agc_pipeline *p);
/* The commands in stage order. Borrowed while p lives. */
size_t agc_pipeline_count(const agc_pipeline *p);
const agc_pipe_cmd *agc_pipeline_at(const agc_pipeline *p, size_t i);
/* The project kind detected ("make", "cmake", "npm", "pytest", "go", "custom"). */
const char *agc_pipeline_kind(const agc_pipeline *p);

/* The result of one run of the pipeline. */
typedef struct agc_pipe_result {
    size_t n_steps;
    struct agc_pipe_step {
        agc_pipe_stage stage;
        char *command;
        int exit_code; /* -1: killed or not started */
        bool passed;
        bool skipped; /* an earlier stage failed */
        char *output; /* merged stdout+stderr (capped) */
    } * steps;
    size_t n_diags;
    agc_diag *diags;
    bool passed; /* every step passed */
} agc_pipe_result;

/*
 * Runs the commands in order (in the workspace's jail through run_command),
 * stopping at the first failing one (the rest are skipped), and parses the
 * failing output into diagnostics. *out is filled (agc_pipe_result_clear
 * on the same ctx). Returns AGC_OK whether or not the steps passed;
 * AGC_ENOMEM, AGC_ECANCELED.
 */
AGC_NODISCARD agc_status agc_pipeline_run(agc_pipe_result *out, agc_pipeline *p);
void agc_pipe_result_clear(agc_pipe_result *r, agc_ctx *ctx);

/*
 * Parses compiler/test output into diagnostics appended to *diags (count in *n)
 * (realloc'ed on ctx; free with agc_diags_free): gcc/clang
 * "file:line:col: error: msg", make "make: *** [...] Error N", Python
 * tracebacks ('File "x", line N'), pytest "FAILED path::test - msg", go
 * test "--- FAIL: TestX" and "file.go:N: msg", node/jest "● Suite › test"
 * and "at fn (file:line:col)", and generic "FAIL name" lines. Duplicate
 * diagnostics are dropped; at most max_diags kept. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_diags_parse(agc_diag **diags, size_t *n, const char *output,
                                         size_t max_diags, agc_ctx *ctx);
void agc_diags_free(agc_diag *diags, size_t n, agc_ctx *ctx);

/*
 * Appends a report for the model (or a human) to out: each step with
 * PASS/FAIL/SKIP, the diagnostics as "file:line:col: severity: message",
 * failing test names, and the tail of the first failing step's output
 * (at most tail_bytes). AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_pipe_result_report(const agc_pipe_result *r, agc_buf *out,
                                                size_t tail_bytes);

/* ---- spec-driven generation -------------------------------------------------------- */

typedef struct agc_spec agc_spec;

/* One type of the spec (a components schema, a $defs entry, a proto message or enum). */
typedef struct agc_spec_type {
    const char *name;
    const json_t *schema;   /* JSON Schema (proto: a synthesised one); borrowed */
    const json_t *examples; /* array of example instances (may be empty) */
} agc_spec_type;

/* One operation (an OpenAPI path + method, a proto rpc). */
typedef struct agc_spec_op {
    const char *id;       /* operationId, else derived ("get_pets_by_id"); proto: rpc name */
    const char *handler;  /* the handler name generated code must define (snake_case of id) */
    const char *method;   /* "GET", ...; proto: "RPC" */
    const char *path;     /* "/pets/{id}"; proto: "Service/Method" */
    const char *resource; /* first tag, else first path segment; proto: the service */
    const char *summary;  /* may be "" */
    const char *request;  /* type name of the request body, or NULL */
    const char *response; /* type name of the success response, or NULL */
} agc_spec_op;

/*
 * Loads an OpenAPI 3.x document (YAML or JSON), a JSON Schema (with $defs /
 * definitions) or a .proto file (messages, enums, services/rpcs) into a model
 * of types and operations. *out is the caller's (agc_spec_free). AGC_EPARSE
 * ("file:line: what") for malformed input, AGC_EINVAL for a document that is
 * none of these, AGC_EIO, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_spec_load(agc_spec **out, const char *path, agc_ctx *ctx);
void agc_spec_free(agc_spec *spec);
/* "openapi", "jsonschema", "proto". */
const char *agc_spec_kind(const agc_spec *spec);
/* The title (info.title, title, package), or "api". Borrowed. */
const char *agc_spec_title(const agc_spec *spec);
size_t agc_spec_type_count(const agc_spec *spec);
const agc_spec_type *agc_spec_type_at(const agc_spec *spec, size_t i);
size_t agc_spec_op_count(const agc_spec *spec);
const agc_spec_op *agc_spec_op_at(const agc_spec *spec, size_t i);

/* One file of a generation plan. */
typedef struct agc_spec_plan_file {
    char *path;     /* relative to the output directory */
    char *role;     /* "types" or "handlers" */
    char *resource; /* handlers: the resource; types: NULL */
    char *slice;    /* the JSON text of the spec slice this file implements */
} agc_spec_plan_file;

/*
 * Plans the files for lang ("python", "typescript", "go"; NULL: python) under
 * dir (relative; NULL: "."): one types file (all types: handlers import it),
 * then one handlers file per resource, in dependency order. *files is the
 * caller's (agc_spec_plan_free). AGC_EINVAL (unknown lang), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_spec_plan(agc_spec_plan_file **files, size_t *n, const agc_spec *spec,
                                       const char *lang, const char *dir);
void agc_spec_plan_free(agc_spec_plan_file *files, size_t n, agc_ctx *ctx);

/*
 * Checks generated code under root against the spec: every operation has a
 * handler (its handler name defined in one of the plan's files), every type
 * is defined in the types file, and every example of a type validates
 * against the type's schema. Problems are appended to problems, one per
 * line. AGC_OK when none, AGC_ESCHEMA when some, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_spec_check(agc_buf *problems, const agc_spec *spec, const char *root,
                                        const agc_spec_plan_file *files, size_t n);

/* ---- tools for the coding agent -------------------------------------------------------- */

/*
 * Creates the "edit_files" tool: {"edits": TEXT, "format": optional name}
 * parses, resolves, syntax-checks and applies a change set in ws (atomic;
 * mismatches and syntax errors go back to the model as the result). When p
 * is not NULL (borrowed; must outlive the tool) the pipeline runs after each
 * applied set and its report is appended to the result. *out is the
 * caller's. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_changeset_tool_new(agc_tool **out, agc_workspace *ws, agc_pipeline *p,
                                                agc_ctx *ctx);
/*
 * Creates the "run_tests" tool: runs p (borrowed; must outlive the tool)
 * and returns its report. AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_pipeline_tool_new(agc_tool **out, agc_pipeline *p, agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
