/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The confined workspace and the built-in tools that work inside it.
 * Every path a tool touches is resolved by the kernel beneath the workspace
 * root (openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): "..", absolute
 * paths and symlinks that lead out are refused. Secret paths (.env*, *.pem,
 * .ssh/, ...) are denied for reading, .git/ for writing; both lists are
 * configurable. run_command's programs run in the OS jail by default (see
 * agc_run_command_opts below and docs/jail.md); its default approval stays "ask".
 */
#ifndef AGENTC_WORKSPACE_H
#define AGENTC_WORKSPACE_H

#include "common.h"
#include "tool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_workspace agc_workspace;

/* Which deny list a rule belongs to / which access a path is checked for. */
typedef enum agc_ws_access {
    AGC_WS_READ = 0, /* reading contents; also checked for writes */
    AGC_WS_WRITE     /* creating, changing, renaming or deleting */
} agc_ws_access;

/*
 * Deny rules are fnmatch(3) globs matched against path components of the
 * path relative to the root: "*.pem" matches the last component at any
 * depth; a rule with a "/" inside (".git/config") matches that many trailing
 * components; a rule ending in "/" (".ssh/") denies the directory and
 * everything below it, at any depth; a leading "/" anchors at the root.
 */
/* The default read deny list (NULL-terminated): .env*, *.pem, *.key, id_rsa*, ... */
extern const char *const agc_workspace_default_deny_read[];
/* The default write deny list (NULL-terminated): ".git/". */
extern const char *const agc_workspace_default_deny_write[];

typedef struct agc_workspace_opts {
    unsigned version;              /* AGC_WORKSPACE_OPTS_VERSION */
    const char *const *deny_read;  /* NULL-terminated; replaces the default; NULL: default */
    const char *const *deny_write; /* NULL-terminated; replaces the default; NULL: default */
    const char *const *env_allow;  /* extra variable names run_command passes to children */
    size_t max_file_bytes;         /* largest file read/grep/apply_patch handle; 0: 8 MiB */
    size_t max_walk_entries;       /* entries visited by list_dir/find/grep; 0: 100000 */
} agc_workspace_opts;

#define AGC_WORKSPACE_OPTS_VERSION 1
#define AGC_WORKSPACE_OPTS_INIT                                                                    \
    {                                                                                              \
        AGC_WORKSPACE_OPTS_VERSION, NULL, NULL, NULL, 0, 0                                         \
    }

void agc_workspace_opts_init(agc_workspace_opts *opts);

/*
 * Opens root (which must be an existing directory) as the workspace. The
 * workspace remembers ctx; tools made from it keep it alive (it is freed
 * when the last of the caller's handle and the tools is gone). *out is the
 * caller's (agc_workspace_close). AGC_EIO when root cannot be opened,
 * AGC_EUNSUPPORTED when the kernel lacks openat2 (Linux < 5.6), AGC_EINVAL
 * for a bad opts version or rule, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_workspace_open(agc_workspace **out, const char *root,
                                            const agc_workspace_opts *opts, agc_ctx *ctx);
/* Drops the caller's handle; NULL is a no-op. */
void agc_workspace_close(agc_workspace *ws);
/* The root as opened (the canonical absolute path). Borrowed while ws lives. */
const char *agc_workspace_root(const agc_workspace *ws);

/* Adds a deny rule to a list (copied). AGC_EINVAL for an empty rule, AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_workspace_deny_add(agc_workspace *ws, agc_ws_access list,
                                                const char *pattern);
/* Empties a deny list (to replace it, clear then add). */
void agc_workspace_deny_clear(agc_workspace *ws, agc_ws_access list);

/*
 * Normalises path (relative to the root; an absolute path under the root is
 * accepted) into *out ("." for the root, no "." or ".." components; the
 * caller's, agc_free on ctx). AGC_EPERM "path 'x' leaves the workspace" for
 * ".." above the root or an absolute path elsewhere, AGC_EINVAL for an empty
 * or over-long path, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_workspace_normalize(char **out, const agc_workspace *ws,
                                                 const char *path, agc_ctx *ctx);
/*
 * Whether a normalised relative path may be accessed: AGC_OK or AGC_EPERM
 * with "path 'x' is denied by rule 'r' ..." (writes are checked against both
 * lists).
 */
agc_status agc_workspace_check(const agc_workspace *ws, const char *rel, agc_ws_access access,
                               agc_ctx *ctx);
/*
 * Opens path beneath the root with open(2) flags (O_CLOEXEC is added) after
 * the deny check, and checks the file actually reached (after symlinks)
 * again. *fd_out is the caller's (close). AGC_EPERM (leaves the workspace,
 * denied), AGC_ENOTFOUND, AGC_EIO, AGC_ENOMEM; messages name the path.
 */
AGC_NODISCARD agc_status agc_workspace_open_file(int *fd_out, agc_workspace *ws, const char *path,
                                                 int flags, unsigned mode, agc_ws_access access,
                                                 agc_ctx *ctx);

/* ---- built-in tools -------------------------------------------------------- */

/*
 * Creates one built-in tool working in ws (the tool keeps ws alive):
 * "read_file", "list_dir", "find", "grep", "write_file", "apply_patch",
 * "run_command". AGC_ENOTFOUND for another name, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_workspace_tool_new(agc_tool **out, agc_workspace *ws, const char *name,
                                                agc_ctx *ctx);
/*
 * Adds the built-in tools named in names (NULL-terminated; NULL: all of
 * them) to reg. Stops at the first failure (tools added so far stay).
 * AGC_ENOTFOUND, AGC_EEXISTS, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_workspace_register_tools(agc_tool_registry *reg, agc_workspace *ws,
                                                      const char *const *names);

/* ---- run_command's OS jail (the sandbox module: include/agentc/jail.h) ---- */

/* Whether run_command's programs run in the jail. */
typedef enum agc_run_jail {
    AGC_RUN_JAIL_AUTO = 0, /* jailed when the kernel has Landlock (the default); else a warning */
    AGC_RUN_JAIL_OFF,      /* never jailed: the program can do what the user can */
    AGC_RUN_JAIL_REQUIRED  /* refuse to run without Landlock and namespaces */
} agc_run_jail;

/*
 * A jailed command sees: the system directories read-only (/usr, /bin,
 * /sbin, /lib*, /etc, /opt, /proc of its own pid namespace), the workspace
 * read-write except that .git/ and every path denied for reading are
 * hidden (empty mounts) and other write-denied paths are read-only, a
 * private empty /tmp, no network (unless granted), no other files.
 */
typedef struct agc_run_command_opts {
    unsigned version;            /* AGC_RUN_COMMAND_OPTS_VERSION */
    agc_run_jail jail;           /* default AGC_RUN_JAIL_AUTO */
    bool network;                /* jailed commands may use the network (default false) */
    const char *const *ro_paths; /* extra absolute read-only paths, NULL-terminated (copied) */
    const char *const *rw_paths; /* extra absolute writable paths, NULL-terminated (copied) */
} agc_run_command_opts;

#define AGC_RUN_COMMAND_OPTS_VERSION 1
#define AGC_RUN_COMMAND_OPTS_INIT                                                                  \
    {                                                                                              \
        AGC_RUN_COMMAND_OPTS_VERSION, AGC_RUN_JAIL_AUTO, false, NULL, NULL                         \
    }

void agc_run_command_opts_init(agc_run_command_opts *opts);

/*
 * Creates a run_command tool for ws with explicit jail options (opts NULL:
 * defaults, the same tool agc_workspace_tool_new(..., "run_command", ...)
 * makes). To change the built-in one, register the other built-ins by name
 * and add this one. *out is the caller's. AGC_EINVAL (opts version, a
 * relative path), AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_workspace_run_command_new(agc_tool **out, agc_workspace *ws,
                                                       const agc_run_command_opts *opts,
                                                       agc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
