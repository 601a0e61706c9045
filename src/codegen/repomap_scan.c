/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Repo map scanner: walks the tree (skipping .git, node_modules, build
 * directories, hidden entries, minified and large files, and the root
 * .gitignore's patterns), parses each file of a known language and runs the
 * grammar's tags query: @definition.* / @reference.* captures with @name
 * become tags. Text predicates (#eq?, #not-eq?, #match?, #not-match?) are
 * evaluated here (libtree-sitter 0.20 leaves them to the caller); directive
 * predicates (#strip!, #select-adjacent!, #set-adjacent!) are ignored. A
 * file whose query yields no references gets its identifier leaves as
 * references, so C, C++ and TypeScript files take part in the graph.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ast_int.h"
#include "repomap_int.h"

#define MAX_FILES      20000
#define MAX_FILE_BYTES ((size_t)1024 * 1024)
#define MAX_DEPTH      32

enum { P_EQ, P_NOT_EQ, P_MATCH, P_NOT_MATCH };

typedef struct check {
    int op;
    uint32_t cap;
    const char *str; /* eq: the literal (or NULL with cap2) */
    uint32_t cap2;   /* eq against another capture */
    pcre2_code *re;  /* match */
    uint16_t pattern;
} check;

typedef struct lang_query {
    const char *lang;
    TSQuery *q;
    bool failed;
    check *checks;
    size_t n_checks;
    uint32_t name_cap;
} lang_query;

typedef struct scanner {
    rm_state *s;
    lang_query qs[12];
    size_t n_qs;
    TSQueryCursor *cur;
} scanner;

uint32_t agc_repomap__lookup(const rm_state *s, const char *name, size_t len)
{
    if (!s->n_slots)
        return UINT32_MAX;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
    for (size_t i = h & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
        uint32_t v = s->slots[i];
        if (!v)
            return UINT32_MAX;
        const char *t = s->strs[v - 1];
        if (strncmp(t, name, len) == 0 && t[len] == '\0')
            return v - 1;
    }
}

static bool rehash(rm_state *s, size_t n)
{
    uint32_t *slots = agc_calloc(s->ctx, n, sizeof *slots);
    if (!slots)
        return false;
    for (size_t k = 0; k < s->n_strs; k++) {
        const char *t = s->strs[k];
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; t[i]; i++)
            h = (h ^ (unsigned char)t[i]) * 1099511628211ull;
        size_t i = h & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)k + 1;
    }
    agc_free(s->ctx, s->slots);
    s->slots = slots, s->n_slots = n;
    return true;
}

uint32_t agc_repomap__intern(rm_state *s, const char *name, size_t len)
{
    uint32_t id = agc_repomap__lookup(s, name, len);
    if (id != UINT32_MAX)
        return id;
    if ((s->n_strs + 1) * 2 > s->n_slots && !rehash(s, s->n_slots ? s->n_slots * 2 : 1024))
        return UINT32_MAX;
    if (s->n_strs == s->cap_strs) {
        size_t nc = s->cap_strs ? s->cap_strs * 2 : 1024;
        char **ns = agc_realloc(s->ctx, s->strs, nc * sizeof *ns);
        if (!ns)
            return UINT32_MAX;
        s->strs = ns, s->cap_strs = nc;
    }
    char *copy = agc_arena_alloc(s->arena, len + 1);
    if (!copy)
        return UINT32_MAX;
    memcpy(copy, name, len);
    copy[len] = '\0';
    s->strs[s->n_strs++] = copy;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
    size_t i = h & (s->n_slots - 1);
    while (s->slots[i])
        i = (i + 1) & (s->n_slots - 1);
    s->slots[i] = (uint32_t)s->n_strs;
    return (uint32_t)s->n_strs - 1;
}

void agc_repomap__state_free(rm_state *s)
{
    agc_free(s->ctx, s->files);
    agc_free(s->ctx, s->tags);
    agc_free(s->ctx, s->strs);
    agc_free(s->ctx, s->slots);
    agc_free(s->ctx, s->ignore);
    agc_arena_free(s->arena);
}

/* ---- queries ------------------------------------------------------------------ */

static void query_free(lang_query *lq, agc_ctx *ctx)
{
    for (size_t i = 0; i < lq->n_checks; i++)
        pcre2_code_free(lq->checks[i].re);
    agc_free(ctx, lq->checks);
    if (lq->q)
        ts_query_delete(lq->q);
}

static void compile_checks(lang_query *lq, agc_ctx *ctx)
{
    uint32_t np = ts_query_pattern_count(lq->q);
    for (uint32_t p = 0; p < np; p++) {
        uint32_t n = 0;
        const TSQueryPredicateStep *st = ts_query_predicates_for_pattern(lq->q, p, &n);
        for (uint32_t i = 0; i < n;) {
            uint32_t j = i;
            while (j < n && st[j].type != TSQueryPredicateStepTypeDone)
                j++;
            if (j - i >= 3 && st[i].type == TSQueryPredicateStepTypeString &&
                st[i + 1].type == TSQueryPredicateStepTypeCapture) {
                uint32_t l;
                const char *op = ts_query_string_value_for_id(lq->q, st[i].value_id, &l);
                check c = {.cap = st[i + 1].value_id, .pattern = (uint16_t)p, .cap2 = UINT32_MAX};
                bool ok = true;
                if (strcmp(op, "eq?") == 0 || strcmp(op, "not-eq?") == 0) {
                    c.op = op[0] == 'e' ? P_EQ : P_NOT_EQ;
                    if (st[i + 2].type == TSQueryPredicateStepTypeString)
                        c.str = ts_query_string_value_for_id(lq->q, st[i + 2].value_id, &l);
                    else
                        c.cap2 = st[i + 2].value_id;
                } else if ((strcmp(op, "match?") == 0 || strcmp(op, "not-match?") == 0) &&
                           st[i + 2].type == TSQueryPredicateStepTypeString) {
                    c.op = op[0] == 'm' ? P_MATCH : P_NOT_MATCH;
                    const char *re = ts_query_string_value_for_id(lq->q, st[i + 2].value_id, &l);
                    int err;
                    PCRE2_SIZE off;
                    c.re = pcre2_compile((PCRE2_SPTR)re, l, PCRE2_UTF, &err, &off, NULL);
                    ok = c.re != NULL;
                } else {
                    ok = false; /* directives and unknown predicates: ignored */
                }
                if (ok) {
                    check *nc = agc_realloc(ctx, lq->checks, (lq->n_checks + 1) * sizeof *nc);
                    if (nc) {
                        lq->checks = nc;
                        lq->checks[lq->n_checks++] = c;
                    } else {
                        pcre2_code_free(c.re);
                    }
                }
            }
            i = j + 1;
        }
    }
}

static lang_query *query_for(scanner *sc, const char *lang)
{
    for (size_t i = 0; i < sc->n_qs; i++)
        if (sc->qs[i].lang == lang)
            return &sc->qs[i];
    if (sc->n_qs == sizeof sc->qs / sizeof sc->qs[0])
        return NULL;
    lang_query *lq = &sc->qs[sc->n_qs++];
    memset(lq, 0, sizeof *lq);
    lq->lang = lang;
    const char *src = agc_ast__tags_source(lang);
    if (!src || !*src) {
        lq->failed = true;
        return lq;
    }
    uint32_t off = 0;
    TSQueryError err = TSQueryErrorNone;
    lq->q = ts_query_new(agc_ast__grammar(lang), src, (uint32_t)strlen(src), &off, &err);
    if (!lq->q) {
        lq->failed = true;
        return lq;
    }
    lq->name_cap = UINT32_MAX;
    for (uint32_t i = 0; i < ts_query_capture_count(lq->q); i++) {
        uint32_t l;
        if (strcmp(ts_query_capture_name_for_id(lq->q, i, &l), "name") == 0)
            lq->name_cap = i;
    }
    compile_checks(lq, sc->s->ctx);
    return lq;
}

static bool text_eq(const char *src, TSNode n, const char *s)
{
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    return strlen(s) == b - a && memcmp(src + a, s, b - a) == 0;
}

static bool passes(const lang_query *lq, const TSQueryMatch *m, const char *src)
{
    for (size_t i = 0; i < lq->n_checks; i++) {
        const check *c = &lq->checks[i];
        if (c->pattern != m->pattern_index)
            continue;
        TSNode n = {0}, n2 = {0};
        for (uint16_t k = 0; k < m->capture_count; k++) {
            if (m->captures[k].index == c->cap)
                n = m->captures[k].node;
            if (m->captures[k].index == c->cap2)
                n2 = m->captures[k].node;
        }
        if (ts_node_is_null(n))
            continue;
        bool r;
        if (c->op == P_EQ || c->op == P_NOT_EQ) {
            if (c->str) {
                r = text_eq(src, n, c->str);
            } else {
                uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
                uint32_t a2 = ts_node_start_byte(n2), b2 = ts_node_end_byte(n2);
                r = !ts_node_is_null(n2) && b - a == b2 - a2 &&
                    memcmp(src + a, src + a2, b - a) == 0;
            }
            if (c->op == P_NOT_EQ)
                r = !r;
        } else {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->re, NULL);
            if (!md)
                continue;
            uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
            r = pcre2_match(c->re, (PCRE2_SPTR)(src + a), b - a, 0, 0, md, NULL) >= 0;
            pcre2_match_data_free(md);
            if (c->op == P_NOT_MATCH)
                r = !r;
        }
        if (!r)
            return false;
    }
    return true;
}

/* ---- tags --------------------------------------------------------------------- */

static agc_status add_tag(rm_state *s, uint32_t file, const char *src, TSNode name, bool def)
{
    uint32_t a = ts_node_start_byte(name), b = ts_node_end_byte(name);
    if (b <= a || b - a > 200)
        return AGC_OK;
    uint32_t id = agc_repomap__intern(s, src + a, b - a);
    if (id == UINT32_MAX)
        return AGC_ENOMEM;
    if (s->n_tags == s->cap_tags) {
        size_t nc = s->cap_tags ? s->cap_tags * 2 : 4096;
        rm_tag *nt = agc_realloc(s->ctx, s->tags, nc * sizeof *nt);
        if (!nt)
            return AGC_ENOMEM;
        s->tags = nt, s->cap_tags = nc;
    }
    rm_tag *t = &s->tags[s->n_tags++];
    t->ident = id, t->file = file, t->def = def, t->sig = NULL;
    t->line = ts_node_start_point(name).row + 1;
    if (def) {
        uint32_t ls = a, le = b;
        while (ls > 0 && src[ls - 1] != '\n')
            ls--;
        while (src[le] && src[le] != '\n' && le - ls < 160)
            le++;
        while (ls < a && (src[ls] == ' ' || src[ls] == '\t'))
            ls++;
        char *sig = agc_arena_alloc(s->arena, le - ls + 1);
        if (!sig)
            return AGC_ENOMEM;
        memcpy(sig, src + ls, le - ls);
        sig[le - ls] = '\0';
        t->sig = sig;
    }
    return AGC_OK;
}

static bool ident_leaf(const char *type)
{
    return strcmp(type, "identifier") == 0 || strcmp(type, "type_identifier") == 0 ||
           strcmp(type, "field_identifier") == 0 || strcmp(type, "property_identifier") == 0;
}

static agc_status leaf_refs(rm_state *s, uint32_t file, const char *src, TSNode root)
{
    TSTreeCursor c = ts_tree_cursor_new(root);
    agc_status st = AGC_OK;
    for (;;) {
        TSNode n = ts_tree_cursor_current_node(&c);
        if (ts_node_child_count(n) == 0 && ident_leaf(ts_node_type(n)))
            st = add_tag(s, file, src, n, false);
        if (st == AGC_OK && ts_tree_cursor_goto_first_child(&c))
            continue;
        bool done = st != AGC_OK;
        while (!done && !ts_tree_cursor_goto_next_sibling(&c))
            if (!ts_tree_cursor_goto_parent(&c))
                done = true;
        if (done)
            break;
    }
    ts_tree_cursor_delete(&c);
    return st;
}

static agc_status tag_file(scanner *sc, uint32_t file, const char *lang, const char *src,
                           size_t len)
{
    rm_state *s = sc->s;
    TSTree *tree = NULL;
    agc_status st = agc_ast__parse(&tree, lang, src, len, s->ctx);
    if (st != AGC_OK) {
        agc_error_clear(s->ctx);
        return st == AGC_ENOMEM ? st : AGC_OK; /* a file that does not parse is skipped */
    }
    TSNode root = ts_tree_root_node(tree);
    lang_query *lq = query_for(sc, lang);
    size_t refs = 0;
    if (lq && !lq->failed && lq->name_cap != UINT32_MAX) {
        ts_query_cursor_exec(sc->cur, lq->q, root);
        TSQueryMatch m;
        while (st == AGC_OK && ts_query_cursor_next_match(sc->cur, &m)) {
            TSNode name = {0};
            int role = 0; /* 1 def, 2 ref */
            for (uint16_t k = 0; k < m.capture_count; k++) {
                uint32_t l;
                const char *cn = ts_query_capture_name_for_id(lq->q, m.captures[k].index, &l);
                if (m.captures[k].index == lq->name_cap)
                    name = m.captures[k].node;
                else if (strncmp(cn, "definition.", 11) == 0)
                    role = 1;
                else if (strncmp(cn, "reference.", 10) == 0)
                    role = 2;
            }
            if (!role || ts_node_is_null(name) || !passes(lq, &m, src))
                continue;
            st = add_tag(s, file, src, name, role == 1);
            refs += role == 2;
        }
    }
    if (st == AGC_OK && refs == 0)
        st = leaf_refs(s, file, src, root);
    ts_tree_delete(tree);
    return st;
}

/* ---- walking ------------------------------------------------------------------ */

static bool ignored(const rm_state *s, const char *rel, const char *name, bool dir)
{
    if (name[0] == '.')
        return true;
    if (dir && (strcmp(name, "node_modules") == 0 || strcmp(name, "build") == 0 ||
                strncmp(name, "build-", 6) == 0 || strncmp(name, "cmake-build", 11) == 0 ||
                strcmp(name, "__pycache__") == 0 || strcmp(name, "target") == 0 ||
                strcmp(name, "vendor") == 0 || strcmp(name, "third_party") == 0))
        return true;
    if (!dir) {
        size_t n = strlen(name);
        if ((n > 7 && strcmp(name + n - 7, ".min.js") == 0) ||
            (n > 5 && strcmp(name + n - 5, ".json") == 0))
            return true;
    }
    for (size_t i = 0; i < s->n_ignore; i++) {
        const char *p = s->ignore[i];
        size_t pl = strlen(p);
        bool dir_only = pl && p[pl - 1] == '/';
        if (dir_only && !dir)
            continue;
        char pat[512];
        snprintf(pat, sizeof pat, "%.*s", (int)(dir_only ? pl - 1 : pl), p);
        const char *pp = pat[0] == '/' ? pat + 1 : pat;
        bool anchored = pat[0] == '/' || strchr(pp, '/') != NULL;
        if (anchored ? fnmatch(pp, rel, FNM_PATHNAME) == 0 : fnmatch(pp, name, 0) == 0)
            return true;
    }
    return false;
}

static void load_gitignore(rm_state *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.gitignore", s->root);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[512];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#' || line[0] == '!')
            continue;
        if (s->n_ignore == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **ni = agc_realloc(s->ctx, s->ignore, nc * sizeof *ni);
            if (!ni)
                break;
            s->ignore = ni, cap = nc;
        }
        char *copy = agc_arena_strdup(s->arena, line);
        if (!copy)
            break;
        s->ignore[s->n_ignore++] = copy;
    }
    fclose(f);
}

static agc_status read_small(char **out, size_t *len, int dirfd, const char *name, agc_ctx *ctx)
{
    *out = NULL;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return AGC_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > MAX_FILE_BYTES) {
        close(fd);
        return AGC_OK;
    }
    char *buf = agc_malloc(ctx, (size_t)sb.st_size + 1);
    if (!buf) {
        close(fd);
        return AGC_ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf, *len = got;
    return AGC_OK;
}

static agc_status walk(scanner *sc, int dirfd, const char *rel, unsigned depth)
{
    rm_state *s = sc->s;
    if (depth > MAX_DEPTH)
        return AGC_OK;
    int fd = dup(dirfd);
    if (fd < 0)
        return AGC_OK;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return AGC_OK;
    }
    /* sorted for a deterministic order */
    char **names = NULL;
    size_t n = 0, cap = 0;
    agc_status st = AGC_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = agc_realloc(s->ctx, names, nc * sizeof *nn);
            if (!nn) {
                st = AGC_ENOMEM;
                break;
            }
            names = nn, cap = nc;
        }
        if (!(names[n++] = agc_arena_strdup(s->arena, e->d_name))) {
            st = AGC_ENOMEM;
            break;
        }
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: directories are small */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1], names[j - 1] = t;
        }
    for (size_t i = 0; i < n && st == AGC_OK && s->n_files < MAX_FILES; i++) {
        struct stat sb;
        if (fstatat(dirfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        bool dir = S_ISDIR(sb.st_mode);
        if (!dir && !S_ISREG(sb.st_mode))
            continue;
        char *path = *rel ? agc_arena_sprintf(s->arena, "%s/%s", rel, names[i])
                          : agc_arena_strdup(s->arena, names[i]);
        if (!path) {
            st = AGC_ENOMEM;
            break;
        }
        if (ignored(s, path, names[i], dir))
            continue;
        if (dir) {
            int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub >= 0) {
                st = walk(sc, sub, path, depth + 1);
                close(sub);
            }
            continue;
        }
        const char *lang = agc_ast_language_for_path(path);
        if (!lang || !agc_ast_language_available(lang))
            continue;
        char *src = NULL;
        size_t len = 0;
        if ((st = read_small(&src, &len, dirfd, names[i], s->ctx)) != AGC_OK || !src)
            continue;
        if (s->n_files == s->cap_files) {
            size_t nc = s->cap_files ? s->cap_files * 2 : 256;
            char **nf = agc_realloc(s->ctx, s->files, nc * sizeof *nf);
            if (!nf) {
                agc_free(s->ctx, src);
                st = AGC_ENOMEM;
                break;
            }
            s->files = nf, s->cap_files = nc;
        }
        s->files[s->n_files] = path;
        st = tag_file(sc, (uint32_t)s->n_files, lang, src, len);
        s->n_files++;
        agc_free(s->ctx, src);
    }
    agc_free(s->ctx, names);
    return st;
}

agc_status agc_repomap__scan(rm_state *s)
{
    int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return agc_error_set(s->ctx, errno == ENOENT ? AGC_ENOTFOUND : AGC_EIO, "repomap",
                             "cannot open directory '%s': %s", s->root, strerror(errno));
    load_gitignore(s);
    scanner sc = {.s = s};
    sc.cur = ts_query_cursor_new();
    agc_status st = sc.cur ? walk(&sc, fd, "", 0) : AGC_ENOMEM;
    if (sc.cur)
        ts_query_cursor_delete(sc.cur);
    for (size_t i = 0; i < sc.n_qs; i++)
        query_free(&sc.qs[i], s->ctx);
    close(fd);
    if (st == AGC_ENOMEM)
        return agc_error_set(s->ctx, AGC_ENOMEM, "repomap", "out of memory scanning '%s'", s->root);
    return st;
}
