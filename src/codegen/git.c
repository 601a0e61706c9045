/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The git side of change sets, on libgit2 loaded with dlopen at first use
 * (like libcurl in src/net/curl_api.c) so that agentc's start-up does not pay
 * for it. Two operations: which of some paths have uncommitted changes
 * (index or work tree differs from HEAD, or untracked), and committing some
 * paths on HEAD. Process-wide state: the function table, written once under
 * pthread_once; the library is never closed.
 */
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "changeset_int.h"
#include "net/dynlib.h"

#define GIT_FUNCS(X)                                                                               \
    X(git_libgit2_init)                                                                            \
    X(git_repository_open_ext)                                                                     \
    X(git_repository_workdir)                                                                      \
    X(git_repository_free)                                                                         \
    X(git_repository_index)                                                                        \
    X(git_status_file)                                                                             \
    X(git_index_add_bypath)                                                                        \
    X(git_index_remove_bypath)                                                                     \
    X(git_index_write)                                                                             \
    X(git_index_write_tree)                                                                        \
    X(git_index_free)                                                                              \
    X(git_tree_lookup)                                                                             \
    X(git_tree_free)                                                                               \
    X(git_signature_default)                                                                       \
    X(git_signature_now)                                                                           \
    X(git_signature_free)                                                                          \
    X(git_reference_name_to_id)                                                                    \
    X(git_commit_lookup)                                                                           \
    X(git_commit_free)                                                                             \
    X(git_commit_create)                                                                           \
    X(git_oid_tostr)                                                                               \
    X(git_error_last)

#define SLOT_TYPE(name) __typeof__(&name) name;
typedef struct git_fns {
    GIT_FUNCS(SLOT_TYPE)
} git_fns;
#undef SLOT_TYPE

#define SLOT(name) {#name, offsetof(git_fns, name)},
static const agc_net__dlsym_slot g_slots[] = {GIT_FUNCS(SLOT)};
#undef SLOT

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static git_fns g_git;
static bool g_ok;
static char g_msg[512];

static void load_once(void)
{
    void *lib = agc_net__dlopen("libgit2.so.1.5", "libgit2-1.5", g_msg, sizeof g_msg);
    if (!lib)
        return;
    git_fns fns;
    if (!agc_net__dlsym_all(lib, "libgit2.so.1.5", g_slots, sizeof g_slots / sizeof g_slots[0],
                            &fns, g_msg, sizeof g_msg))
        return;
    fns.git_libgit2_init();
    g_git = fns;
    g_ok = true;
}

static agc_status load(agc_ctx *ctx)
{
    pthread_once(&g_once, load_once);
    if (!g_ok)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "git", "%s", g_msg);
    return AGC_OK;
}

static agc_status git_err(agc_ctx *ctx, const char *what)
{
    const git_error *e = g_git.git_error_last();
    return agc_error_set(ctx, AGC_EIO, "git", "%s: %s", what, e && e->message ? e->message : "?");
}

/* Opens the repository around root; *prefix_out: root relative to the work tree ("" or "d/"). */
static agc_status open_repo(git_repository **repo, char **prefix_out, const char *root,
                            agc_ctx *ctx)
{
    *repo = NULL;
    *prefix_out = NULL;
    int rc = g_git.git_repository_open_ext(repo, root, 0, NULL);
    if (rc == GIT_ENOTFOUND)
        return AGC_ENOTFOUND;
    if (rc != 0)
        return git_err(ctx, "cannot open the git repository");
    const char *wd = g_git.git_repository_workdir(*repo);
    char real_root[PATH_MAX], real_wd[PATH_MAX];
    if (!wd || !realpath(root, real_root) || !realpath(wd, real_wd)) {
        g_git.git_repository_free(*repo);
        *repo = NULL;
        return agc_error_set(ctx, AGC_EIO, "git", "the repository at %s has no work tree", root);
    }
    size_t n = strlen(real_wd);
    const char *rest = strncmp(real_root, real_wd, n) == 0 ? real_root + n : "";
    while (*rest == '/')
        rest++;
    *prefix_out = *rest ? agc_sprintf(ctx, "%s/", rest) : agc_strdup(ctx, "");
    if (!*prefix_out) {
        g_git.git_repository_free(*repo);
        *repo = NULL;
        return AGC_ENOMEM;
    }
    return AGC_OK;
}

agc_status agc_git_dirty_paths(agc_buf *dirty, const char *root, const char *const *paths, size_t n,
                               agc_ctx *ctx)
{
    agc_status st = load(ctx);
    if (st != AGC_OK)
        return st;
    git_repository *repo = NULL;
    char *prefix = NULL;
    st = open_repo(&repo, &prefix, root, ctx);
    if (st == AGC_ENOTFOUND)
        return AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        char *p = agc_sprintf(ctx, "%s%s", prefix, paths[i]);
        if (!p) {
            st = AGC_ENOMEM;
            break;
        }
        unsigned flags = 0;
        int rc = g_git.git_status_file(&flags, repo, p);
        if (rc == 0 && flags != GIT_STATUS_CURRENT && !(flags & GIT_STATUS_IGNORED))
            st = agc_buf_printf(dirty, "%s\n", paths[i]);
        agc_free(ctx, p);
    }
    agc_free(ctx, prefix);
    g_git.git_repository_free(repo);
    return st;
}

agc_status agc_git_commit_paths(char oid_hex[41], const char *root, const char *const *paths,
                                size_t n, const char *message, agc_ctx *ctx)
{
    agc_status st = load(ctx);
    if (st != AGC_OK)
        return st;
    git_repository *repo = NULL;
    char *prefix = NULL;
    st = open_repo(&repo, &prefix, root, ctx);
    if (st == AGC_ENOTFOUND)
        return agc_error_set(ctx, AGC_ENOTFOUND, "git", "%s is not in a git repository", root);
    if (st != AGC_OK)
        return st;
    git_index *idx = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_commit *parent = NULL;
    git_oid tree_id, head_id, commit_id;
    if (g_git.git_repository_index(&idx, repo) != 0)
        st = git_err(ctx, "cannot read the index");
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        char *p = agc_sprintf(ctx, "%s%s", prefix, paths[i]);
        if (!p) {
            st = AGC_ENOMEM;
            break;
        }
        char *abs = agc_sprintf(ctx, "%s/%s", root, paths[i]);
        bool exists = abs && access(abs, F_OK) == 0;
        agc_free(ctx, abs);
        int rc =
            exists ? g_git.git_index_add_bypath(idx, p) : g_git.git_index_remove_bypath(idx, p);
        if (rc != 0)
            st = git_err(ctx, exists ? "cannot stage a file" : "cannot stage a removal");
        agc_free(ctx, p);
    }
    if (st == AGC_OK &&
        (g_git.git_index_write(idx) != 0 || g_git.git_index_write_tree(&tree_id, idx) != 0 ||
         g_git.git_tree_lookup(&tree, repo, &tree_id) != 0))
        st = git_err(ctx, "cannot write the tree");
    if (st == AGC_OK && g_git.git_signature_default(&sig, repo) != 0 &&
        g_git.git_signature_now(&sig, "agentc", "agentc@localhost") != 0)
        st = git_err(ctx, "cannot make a signature");
    bool has_head = st == AGC_OK && g_git.git_reference_name_to_id(&head_id, repo, "HEAD") == 0;
    if (has_head && g_git.git_commit_lookup(&parent, repo, &head_id) != 0)
        st = git_err(ctx, "cannot read HEAD");
    if (st == AGC_OK) {
        const git_commit *parents[1] = {parent};
        if (g_git.git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL, message, tree,
                                    parent ? 1 : 0, parents) != 0)
            st = git_err(ctx, "cannot commit");
        else if (oid_hex)
            g_git.git_oid_tostr(oid_hex, 41, &commit_id);
    }
    g_git.git_commit_free(parent);
    g_git.git_signature_free(sig);
    g_git.git_tree_free(tree);
    g_git.git_index_free(idx);
    g_git.git_repository_free(repo);
    agc_free(ctx, prefix);
    return st;
}
