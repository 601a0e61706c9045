/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Repo map ranking and rendering. Tags (repomap_scan.c) are grouped per
 * identifier: every file that references an identifier gets an edge to
 * every file that defines it, weighted like aider's repo map (sqrt of the
 * reference count; x10 for identifiers named in the task or focus and for
 * long snake/camel names; x0.1 for _private names and names defined in many
 * files; x50 from focus files). Personalised PageRank (damping 0.85, seeded
 * by focus files, files named in the task and files defining identifiers
 * named in the task) ranks files; each definition gets the rank flowing
 * into it. The rendering keeps the best N definitions, grouped by file,
 * with N the largest count whose text fits the budget (binary search).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentc/ast.h"
#include "agentc/buf.h"
#include "repomap_int.h"

#define DAMPING        0.85
#define ITERATIONS     40
#define MAX_DEFINERS   30
#define DEFAULT_BUDGET 1024

void agc_repomap_opts_init(agc_repomap_opts *opts)
{
    agc_repomap_opts d = AGC_REPOMAP_OPTS_INIT;
    *opts = d;
}

typedef struct entry {
    double score;
    uint32_t file;
    long tag; /* index into tags, -1: the file alone */
} entry;

typedef struct ranker {
    rm_state *s;
    double *pers;     /* per file */
    double *pr;       /* per file */
    bool *focus_file; /* per file */
    bool *mentioned;  /* per ident */
    uint32_t *order;  /* tag indices sorted by (ident, file) */
    entry *entries;
    size_t n_entries;
} ranker;

static int cmp_tag(const void *a, const void *b, void *arg)
{
    const rm_tag *tags = arg;
    const rm_tag *x = &tags[*(const uint32_t *)a], *y = &tags[*(const uint32_t *)b];
    if (x->ident != y->ident)
        return x->ident < y->ident ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (int)y->def - (int)x->def;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static bool long_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 8)
        return false;
    bool lower = false, upper = false;
    for (const char *c = n; *c; c++) {
        if (*c == '_' && c != n)
            return true;
        lower |= islower((unsigned char)*c) != 0;
        upper |= isupper((unsigned char)*c) != 0;
    }
    return lower && upper;
}

/* Marks identifiers and files named in text (words, paths, file stems). */
static void mention(ranker *r, const char *text, bool strong)
{
    rm_state *s = r->s;
    for (const char *p = text; *p;) {
        if (!word_char(*p)) {
            p++;
            continue;
        }
        const char *w = p;
        while (word_char(*p))
            p++;
        size_t n = (size_t)(p - w);
        if (n < 3)
            continue;
        uint32_t id = agc_repomap__lookup(s, w, n);
        if (id != UINT32_MAX)
            r->mentioned[id] = true;
        if (n < 4)
            continue;
        for (size_t f = 0; f < s->n_files; f++) { /* file stems: "router" names lib/router.js */
            const char *base = strrchr(s->files[f], '/');
            base = base ? base + 1 : s->files[f];
            const char *dot = strchr(base, '.');
            size_t bl = dot ? (size_t)(dot - base) : strlen(base);
            if (bl == n && strncasecmp(base, w, n) == 0)
                r->pers[f] += strong ? 10.0 : 1.0;
        }
    }
    for (size_t f = 0; f < s->n_files; f++)
        if (strstr(text, s->files[f]))
            r->pers[f] += strong ? 10.0 : 2.0;
}

static void apply_focus(ranker *r, const agc_repomap_opts *o)
{
    rm_state *s = r->s;
    for (size_t i = 0; i < o->n_focus; i++) {
        const char *f = o->focus[i];
        if (!f || !*f)
            continue;
        while (f[0] == '.' && f[1] == '/')
            f += 2;
        bool file = false;
        size_t fl = strlen(f);
        for (size_t k = 0; k < s->n_files; k++) {
            size_t kl = strlen(s->files[k]);
            if (strcmp(s->files[k], f) == 0 || (kl > fl && s->files[k][kl - fl - 1] == '/' &&
                                                strcmp(s->files[k] + kl - fl, f) == 0)) {
                r->pers[k] += 10.0;
                r->focus_file[k] = true;
                file = true;
            }
        }
        if (!file)
            mention(r, f, true);
    }
    if (o->task)
        mention(r, o->task, false);
}

/*
 * Visits every (referencer -> definer) edge of every identifier group with
 * its weight. mode 0: out-weights; 1: one PageRank step into next; 2: scores.
 */
static void edges(ranker *r, int mode, const double *out_w, double *acc)
{
    rm_state *s = r->s;
    size_t i = 0;
    while (i < s->n_tags) {
        uint32_t ident = s->tags[r->order[i]].ident;
        size_t j = i;
        while (j < s->n_tags && s->tags[r->order[j]].ident == ident)
            j++;
        /* definers: distinct files with a def tag */
        size_t ndef = 0;
        for (size_t k = i; k < j; k++) {
            const rm_tag *t = &s->tags[r->order[k]];
            if (t->def && (k == i || s->tags[r->order[k - 1]].file != t->file ||
                           !s->tags[r->order[k - 1]].def))
                ndef++;
        }
        if (ndef == 0 || ndef > MAX_DEFINERS) {
            i = j;
            continue;
        }
        const char *name = s->strs[ident];
        double mul = 1.0;
        if (r->mentioned[ident])
            mul *= 10.0;
        if (long_name(name))
            mul *= 10.0;
        if (name[0] == '_')
            mul *= 0.1;
        if (ndef > 5)
            mul *= 0.1;
        for (size_t a = i; a < j;) { /* referencer runs */
            uint32_t rf = s->tags[r->order[a]].file;
            size_t b = a, count = 0;
            while (b < j && s->tags[r->order[b]].file == rf) {
                count += !s->tags[r->order[b]].def;
                b++;
            }
            if (count) {
                double w = mul * sqrt((double)count) * (r->focus_file[rf] ? 50.0 : 1.0);
                for (size_t k = i; k < j; k++) {
                    const rm_tag *t = &s->tags[r->order[k]];
                    if (!t->def || (k > i && s->tags[r->order[k - 1]].file == t->file &&
                                    s->tags[r->order[k - 1]].def))
                        continue;
                    if (mode == 0)
                        acc[rf] += w;
                    else if (mode == 1)
                        acc[t->file] += DAMPING * r->pr[rf] * w / out_w[rf];
                    else
                        acc[r->order[k]] += r->pr[rf] * w / out_w[rf];
                }
            }
            a = b;
        }
        i = j;
    }
}

static agc_status rank(ranker *r)
{
    rm_state *s = r->s;
    agc_ctx *ctx = s->ctx;
    size_t nf = s->n_files;
    double *out_w = agc_calloc(ctx, nf ? nf : 1, sizeof *out_w);
    double *next = agc_calloc(ctx, nf ? nf : 1, sizeof *next);
    double *score = agc_calloc(ctx, s->n_tags ? s->n_tags : 1, sizeof *score);
    r->order = agc_malloc(ctx, (s->n_tags ? s->n_tags : 1) * sizeof *r->order);
    r->entries = agc_malloc(ctx, (s->n_tags + nf + 1) * sizeof *r->entries);
    if (!out_w || !next || !score || !r->order || !r->entries) {
        agc_free(ctx, out_w), agc_free(ctx, next), agc_free(ctx, score);
        return AGC_ENOMEM;
    }
    for (size_t i = 0; i < s->n_tags; i++)
        r->order[i] = (uint32_t)i;
    qsort_r(r->order, s->n_tags, sizeof *r->order, cmp_tag, s->tags);
    /* files defining a mentioned identifier are seeds too */
    for (size_t i = 0; i < s->n_tags; i++)
        if (s->tags[i].def && r->mentioned[s->tags[i].ident])
            r->pers[s->tags[i].file] += 1.0;
    double psum = 0;
    for (size_t f = 0; f < nf; f++)
        psum += r->pers[f];
    for (size_t f = 0; f < nf; f++) {
        r->pers[f] = psum > 0 ? r->pers[f] / psum : 1.0 / (double)nf;
        r->pr[f] = 1.0 / (double)nf;
    }
    edges(r, 0, NULL, out_w);
    for (int it = 0; it < ITERATIONS && nf; it++) {
        double dangling = 0;
        for (size_t f = 0; f < nf; f++) {
            next[f] = 0;
            if (out_w[f] == 0)
                dangling += r->pr[f];
        }
        edges(r, 1, out_w, next);
        for (size_t f = 0; f < nf; f++)
            next[f] += (1.0 - DAMPING + DAMPING * dangling) * r->pers[f];
        memcpy(r->pr, next, nf * sizeof *next);
    }
    edges(r, 2, out_w, score);
    /* entries: every definition, then the files without definitions */
    size_t *ndefs = (size_t *)next; /* reuse: counts per file */
    memset(ndefs, 0, nf * sizeof *next);
    for (size_t i = 0; i < s->n_tags; i++)
        ndefs[s->tags[i].file] += s->tags[i].def;
    size_t n = 0;
    for (size_t i = 0; i < s->n_tags; i++) {
        const rm_tag *t = &s->tags[i];
        if (!t->def)
            continue;
        /* a definition of a mentioned name, or in a focus/seed file, floats up */
        double base = 1e-3 * r->pr[t->file] / (double)ndefs[t->file];
        double sc = score[i] + base;
        if (r->mentioned[t->ident])
            sc += r->pr[t->file];
        r->entries[n++] = (entry){sc, t->file, (long)i};
    }
    for (size_t f = 0; f < nf; f++)
        if (!ndefs[f])
            r->entries[n++] = (entry){1e-6 * r->pr[f], (uint32_t)f, -1};
    qsort(r->entries, n, sizeof *r->entries, cmp_entry);
    r->n_entries = n;
    agc_free(ctx, out_w), agc_free(ctx, next), agc_free(ctx, score);
    return AGC_OK;
}

static int cmp_line(const void *a, const void *b, void *arg)
{
    const rm_tag *g_tags = arg;
    const entry *x = a, *y = b;
    if (x->file != y->file)
        return x->score > y->score ? -1 : 1; /* score holds the file's first position */
    if (x->tag < 0 || y->tag < 0)
        return x->tag < y->tag ? -1 : 1;
    uint32_t lx = g_tags[x->tag].line, ly = g_tags[y->tag].line;
    return lx < ly ? -1 : lx > ly;
}

/* Renders the first n entries into b. tmp has room for n entries. */
static agc_status render_n(agc_buf *b, const ranker *r, size_t n, entry *tmp, uint32_t *first)
{
    rm_state *s = r->s;
    agc_buf_clear(b);
    for (size_t f = 0; f < s->n_files; f++)
        first[f] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        tmp[i] = r->entries[i];
        if (first[tmp[i].file] == UINT32_MAX)
            first[tmp[i].file] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++)
        tmp[i].score = -(double)first[tmp[i].file];
    qsort_r(tmp, n, sizeof *tmp, cmp_line, s->tags);
    agc_status st = AGC_OK;
    uint32_t last_line = 0;
    for (size_t i = 0; i < n && st == AGC_OK; i++) {
        const entry *e = &tmp[i];
        bool new_file = i == 0 || tmp[i - 1].file != e->file;
        if (e->tag < 0) {
            st = agc_buf_printf(b, "%s\n", s->files[e->file]);
            continue;
        }
        const rm_tag *t = &s->tags[e->tag];
        if (new_file) {
            st = agc_buf_printf(b, "%s:\n", s->files[e->file]);
            last_line = 0;
        }
        if (st == AGC_OK && t->line != last_line)
            st = agc_buf_printf(b, "  %u: %s\n", t->line, t->sig ? t->sig : s->strs[t->ident]);
        last_line = t->line;
    }
    return st;
}

static agc_status build(ranker *r, rm_state *s, const char *root, const agc_repomap_opts *opts,
                        agc_ctx *ctx)
{
    memset(r, 0, sizeof *r);
    memset(s, 0, sizeof *s);
    r->s = s;
    s->ctx = ctx;
    s->root = root;
    if (opts && opts->version != AGC_REPOMAP_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "repomap", "unknown agc_repomap_opts version %u",
                             opts->version);
    agc_status st = agc_arena_new(&s->arena, (size_t)512 * 1024 * 1024, ctx);
    if (st != AGC_OK)
        return st;
    if ((st = agc_repomap__scan(s)) != AGC_OK)
        return st;
    size_t nf = s->n_files ? s->n_files : 1;
    r->pers = agc_calloc(ctx, nf, sizeof *r->pers);
    r->pr = agc_calloc(ctx, nf, sizeof *r->pr);
    r->focus_file = agc_calloc(ctx, nf, sizeof *r->focus_file);
    r->mentioned = agc_calloc(ctx, s->n_strs ? s->n_strs : 1, sizeof *r->mentioned);
    if (!r->pers || !r->pr || !r->focus_file || !r->mentioned)
        return agc_error_set(ctx, AGC_ENOMEM, "repomap", "out of memory ranking '%s'", root);
    if (opts)
        apply_focus(r, opts);
    if ((st = rank(r)) != AGC_OK)
        return agc_error_set(ctx, AGC_ENOMEM, "repomap", "out of memory ranking '%s'", root);
    return AGC_OK;
}

static void ranker_free(ranker *r, rm_state *s)
{
    agc_ctx *ctx = s->ctx;
    agc_free(ctx, r->pers), agc_free(ctx, r->pr), agc_free(ctx, r->focus_file);
    agc_free(ctx, r->mentioned), agc_free(ctx, r->order), agc_free(ctx, r->entries);
    agc_repomap__state_free(s);
}

agc_status agc_repomap_render(char **out, size_t *tokens_out, const char *root,
                              const agc_repomap_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    if (tokens_out)
        *tokens_out = 0;
    ranker r;
    rm_state s;
    agc_status st = build(&r, &s, root, opts, ctx);
    size_t budget = opts && opts->budget_tokens ? opts->budget_tokens : DEFAULT_BUDGET;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    entry *tmp = NULL;
    uint32_t *first = NULL;
    if (st == AGC_OK) {
        tmp = agc_malloc(ctx, (r.n_entries + 1) * sizeof *tmp);
        first = agc_malloc(ctx, (s.n_files + 1) * sizeof *first);
        if (!tmp || !first)
            st = AGC_ENOMEM;
    }
    size_t lo = 0, hi = st == AGC_OK ? r.n_entries : 0, tokens = 0;
    /* largest n whose rendering fits: fits(lo) holds, fits(hi + 1) does not */
    while (st == AGC_OK && lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if ((st = render_n(&b, &r, mid, tmp, first)) != AGC_OK)
            break;
        if (agc_tokens_count(b.data ? b.data : "", b.len, AGC_TOK_O200K) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (st == AGC_OK)
        st = render_n(&b, &r, lo, tmp, first);
    if (st == AGC_OK) {
        tokens = agc_tokens_count(agc_buf_cstr(&b), b.len, AGC_TOK_O200K);
        *out = agc_buf_detach(&b, NULL);
        if (!*out)
            st = AGC_ENOMEM;
        else if (tokens_out)
            *tokens_out = tokens;
    }
    if (st == AGC_ENOMEM)
        agc_error_set(ctx, st, "repomap", "out of memory rendering the map of '%s'", root);
    agc_buf_free(&b);
    agc_free(ctx, tmp);
    agc_free(ctx, first);
    ranker_free(&r, &s);
    return st;
}

agc_status agc_repomap_rank_files(char ***files, const char *root, const agc_repomap_opts *opts,
                                  size_t max, agc_ctx *ctx)
{
    *files = NULL;
    ranker r;
    rm_state s;
    agc_status st = build(&r, &s, root, opts, ctx);
    char **list = NULL;
    bool *seen = NULL;
    if (st == AGC_OK) {
        list = agc_calloc(ctx, s.n_files + 1, sizeof *list);
        seen = agc_calloc(ctx, s.n_files + 1, sizeof *seen);
        if (!list || !seen)
            st = AGC_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; st == AGC_OK && i < r.n_entries && (!max || n < max); i++) {
        uint32_t f = r.entries[i].file;
        if (seen[f])
            continue;
        seen[f] = true;
        if (!(list[n++] = agc_strdup(ctx, s.files[f])))
            st = AGC_ENOMEM;
    }
    agc_free(ctx, seen);
    ranker_free(&r, &s);
    if (st != AGC_OK) {
        agc_repomap_files_free(list, ctx);
        return st;
    }
    *files = list;
    return AGC_OK;
}

void agc_repomap_files_free(char **files, agc_ctx *ctx)
{
    if (!files)
        return;
    for (char **f = files; *f; f++)
        agc_free(ctx, *f);
    agc_free(ctx, files);
}
