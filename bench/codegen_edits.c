/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Edit application rate of change sets on a corpus of model-style edits that
 * the bench generates itself over real files (the C sources of this
 * repository by default, or the files given): per file and category, edits
 * are made from random windows of the file, and each is run through
 * agc_changeset_parse + agc_changeset_resolve; the new text is compared with
 * the intended one. Categories:
 *   correct     SEARCH/REPLACE whose SEARCH is the exact text
 *   shifted     unified diff whose hunk line numbers are off by 7..60 lines
 *   whitespace  SEARCH/REPLACE with re-indented and trailing-space-drifted lines
 *   ambiguous   SEARCH text that occurs twice: success = refused naming both lines
 * A baseline column gives the rate of a plain exact-substring replacement
 * (what a naive applier does). Also times per edit. Prints figures only.
 * usage: bench_codegen_edits [--per-file N] [FILE...]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/codegen.h"

enum { C_CORRECT, C_SHIFTED, C_WS, C_AMBIG, C_N };
static const char *const CNAME[] = {"correct", "shifted", "whitespace", "ambiguous"};

typedef struct tally {
    long tried[C_N], ok[C_N], base_ok[C_N];
    double ns[C_N];
} tally;

static unsigned long rng = 88172645463325252UL;
static unsigned long rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Lines of text as offsets (start of each line; n+1 entries). */
static size_t *line_index(const char *t, size_t len, size_t *n)
{
    size_t c = 0;
    for (size_t i = 0; i < len; i++)
        c += t[i] == '\n';
    size_t *ix = malloc((c + 2) * sizeof *ix);
    size_t k = 0;
    ix[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\n')
            ix[k++] = i + 1;
    *n = k - 1;
    return ix;
}

static size_t count_occ(const char *hay, const char *needle)
{
    size_t c = 0, m = strlen(needle);
    for (const char *p = hay; m && (p = strstr(p, needle)); p++)
        c++;
    return c;
}

static bool blank_window(const char *t, const size_t *ix, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        for (size_t k = ix[i]; k < ix[i + 1] - 1; k++)
            if (t[k] != ' ' && t[k] != '\t')
                return false;
    return true;
}

/* Runs one edit text against the workspace file; *out_text the result. */
static bool resolve(const char *edit, agc_workspace *ws, agc_ctx *ctx, char **out_text, double *ns)
{
    double t0 = now_ns();
    agc_changeset *cs = NULL;
    bool ok = agc_changeset_parse(&cs, edit, AGC_CS_FMT_AUTO, ctx) == AGC_OK &&
              agc_changeset_resolve(cs, ws) == AGC_OK;
    *ns += now_ns() - t0;
    *out_text = NULL;
    agc_cs_file f;
    if (ok && agc_changeset_file(cs, 0, &f) && f.new_text)
        *out_text = strndup(f.new_text, f.new_len);
    agc_changeset_free(cs);
    return ok;
}

/* The naive applier: replace the single exact occurrence. */
static char *naive(const char *text, const char *search, const char *replace)
{
    if (count_occ(text, search) != 1)
        return NULL;
    const char *p = strstr(text, search);
    size_t a = (size_t)(p - text), sl = strlen(search), rl = strlen(replace), tl = strlen(text);
    char *o = malloc(tl - sl + rl + 1);
    memcpy(o, text, a);
    memcpy(o + a, replace, rl);
    memcpy(o + a + rl, p + sl, tl - a - sl + 1);
    return o;
}

static void bench_file(const char *path, int per, tally *t, agc_ctx *ctx, const char *dir)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text || len < 200 || memchr(text, '\0', len))
        goto out;
    size_t n = 0;
    size_t *ix = line_index(text, len, &n);
    if (n < 20) {
        free(ix);
        goto out;
    }
    char wpath[4200];
    snprintf(wpath, sizeof wpath, "%s/f.c", dir);
    FILE *wf = fopen(wpath, "wb");
    fwrite(text, 1, len, wf);
    fclose(wf);
    agc_workspace *ws = NULL;
    if (agc_workspace_open(&ws, dir, NULL, ctx) != AGC_OK) {
        free(ix);
        goto out;
    }
    agc_buf e;
    agc_buf_init(&e, ctx, 0);
    for (int cat = 0; cat < C_N; cat++) {
        for (int k = 0; k < per; k++) {
            agc_buf_clear(&e);
            char *expect = NULL, *search = NULL, *replace = NULL;
            if (cat == C_AMBIG) {
                /* a line of >= 8 chars occurring at least twice */
                size_t tries = 0, a = 0;
                char line[512];
                bool found = false;
                while (!found && tries++ < 200) {
                    a = rnd() % n;
                    size_t l = ix[a + 1] - ix[a];
                    if (l < 9 || l >= sizeof line)
                        continue;
                    memcpy(line, text + ix[a], l);
                    line[l] = '\0';
                    size_t same = 0; /* full lines equal to it */
                    for (size_t i = 0; i < n; i++)
                        same += ix[i + 1] - ix[i] == l && memcmp(text + ix[i], line, l) == 0;
                    found = same >= 2;
                }
                if (!found)
                    continue;
                line[strlen(line) - 1] = '\0';
                agc_buf_printf(&e, "f.c\n<<<<<<< SEARCH\n%s\n=======\n%s // x\n>>>>>>> REPLACE\n",
                               line, line);
                char *got = NULL;
                t->tried[cat]++;
                bool ok = resolve(agc_buf_cstr(&e), ws, ctx, &got, &t->ns[cat]);
                if (!ok && strstr(agc_ctx_errmsg(ctx), "matches"))
                    t->ok[cat]++;
                char *s2 = NULL;
                if (asprintf(&s2, "%s\n", line) > 0 && count_occ(text, s2) >= 2)
                    t->base_ok[cat]++; /* the naive applier refuses too (count != 1) */
                free(s2);
                free(got);
                continue;
            }
            /* a window of 3..6 lines, unique in the file, not blank */
            size_t w = 3 + rnd() % 4, a = 0;
            bool found = false;
            for (int tries = 0; !found && tries < 100; tries++) {
                a = rnd() % (n - w);
                if (blank_window(text, ix, a, a + w))
                    continue;
                char *win = strndup(text + ix[a], ix[a + w] - ix[a]);
                found = count_occ(text, win) == 1;
                free(win);
            }
            if (!found)
                continue;
            /* the change: a new line after the middle one, indented like it */
            size_t mid = a + w / 2;
            size_t ml = ix[mid + 1] - ix[mid];
            size_t ind = 0;
            while (ind < ml && (text[ix[mid] + ind] == ' ' || text[ix[mid] + ind] == '\t'))
                ind++;
            char added[256];
            snprintf(added, sizeof added, "%.*sedit_marker_%d();\n", (int)ind, text + ix[mid], k);
            search = strndup(text + ix[a], ix[a + w] - ix[a]);
            size_t bl = ix[mid + 1] - ix[a];
            replace = malloc(strlen(search) + strlen(added) + 1);
            memcpy(replace, search, bl);
            strcpy(replace + bl, added);
            strcat(replace, search + bl);
            expect = malloc(len + strlen(added) + 1);
            memcpy(expect, text, ix[mid + 1]);
            strcpy(expect + ix[mid + 1], added);
            strcat(expect, text + ix[mid + 1]);
            char *base = NULL;
            if (cat == C_CORRECT) {
                agc_buf_printf(&e, "f.c\n<<<<<<< SEARCH\n%.*s=======\n%.*s>>>>>>> REPLACE\n",
                               (int)strlen(search), search, (int)strlen(replace), replace);
                base = naive(text, search, replace);
            } else if (cat == C_SHIFTED) {
                long shift = (long)(7 + rnd() % 54) * ((rnd() & 1) ? 1 : -1);
                long start = (long)a + 1 + shift;
                if (start < 1)
                    start = 1;
                agc_buf_printf(&e, "--- a/f.c\n+++ b/f.c\n@@ -%ld,%zu +%ld,%zu @@\n", start, w,
                               start, w + 1);
                for (size_t i = a; i < a + w; i++) {
                    agc_buf_printf(&e, " %.*s", (int)(ix[i + 1] - ix[i]), text + ix[i]);
                    if (i == mid)
                        agc_buf_printf(&e, "+%s", added);
                }
                base = naive(text, search, replace); /* a naive patcher keyed on text */
            } else {
                /* whitespace drift: indentation removed (or tabs/spaces swapped) and trailing
                 * spaces added in the SEARCH and REPLACE the model sends */
                agc_buf drift;
                agc_buf_init(&drift, ctx, 0);
                agc_buf_puts(&e, "f.c\n<<<<<<< SEARCH\n");
                for (int part = 0; part < 2; part++) {
                    const char *s = part ? replace : search;
                    for (const char *l = s; *l;) {
                        const char *nl = strchr(l, '\n');
                        size_t ll = nl ? (size_t)(nl - l) : strlen(l);
                        size_t li = 0;
                        while (li < ll && (l[li] == ' ' || l[li] == '\t'))
                            li++;
                        /* drop 4 columns of indentation (or all of it) */
                        size_t cut = li >= 4 ? 4 : li;
                        agc_buf_printf(&e, "%.*s%s\n", (int)(ll - cut), l + cut,
                                       (rnd() % 3 == 0) ? "  " : "");
                        l = nl ? nl + 1 : l + ll;
                    }
                    agc_buf_puts(&e, part ? ">>>>>>> REPLACE\n" : "=======\n");
                }
                agc_buf_free(&drift);
                base = NULL; /* exact matching cannot find drifted text */
            }
            char *got = NULL;
            t->tried[cat]++;
            resolve(agc_buf_cstr(&e), ws, ctx, &got, &t->ns[cat]);
            if (got && strcmp(got, expect) == 0)
                t->ok[cat]++;
            if (base && strcmp(base, expect) == 0)
                t->base_ok[cat]++;
            free(got);
            free(base);
            free(expect);
            free(search);
            free(replace);
        }
    }
    agc_buf_free(&e);
    agc_workspace_close(ws);
    free(ix);
out:
    free(text);
}

int main(int argc, char **argv)
{
    int per = 10;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--per-file") == 0) {
        per = atoi(argv[2]);
        first = 3;
    }
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    char dir[] = "/tmp/agc_bench_edits.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    tally t;
    memset(&t, 0, sizeof t);
    long files = 0;
    if (first < argc) {
        for (int i = first; i < argc; i++, files++)
            bench_file(argv[i], per, &t, ctx, dir);
    } else {
        /* the C sources of this repository (real code, not written for the bench) */
        static const char *const dirs[] = {"src/core", "src/tools", "src/runtime", "src/providers",
                                           "src/net",  "src/store", NULL};
        const char *srcdir = getenv("AGC_SOURCE_DIR") ? getenv("AGC_SOURCE_DIR") : ".";
        for (size_t d = 0; dirs[d]; d++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", srcdir, dirs[d]);
            DIR *dp = opendir(p);
            if (!dp)
                continue;
            for (struct dirent *de; (de = readdir(dp));) {
                size_t l = strlen(de->d_name);
                if (l < 3 || strcmp(de->d_name + l - 2, ".c") != 0)
                    continue;
                char f[4400];
                snprintf(f, sizeof f, "%s/%s", p, de->d_name);
                bench_file(f, per, &t, ctx, dir);
                files++;
            }
            closedir(dp);
        }
    }
    char rm[256];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    if (files == 0) {
        fprintf(stderr, "no files (run from the source tree or set AGC_SOURCE_DIR)\n");
        agc_ctx_free(ctx);
        return 1;
    }
    printf("change-set edit application over %ld real source files (%d edits per file and "
           "category)\n",
           files, per);
    printf("%-11s %7s %9s %13s %10s\n", "category", "edits", "applied", "naive exact", "us/edit");
    long all = 0, allok = 0;
    for (int c = 0; c < C_N; c++) {
        all += t.tried[c];
        allok += t.ok[c];
        printf("%-11s %7ld %8.1f%% %12.1f%% %10.1f\n", CNAME[c], t.tried[c],
               t.tried[c] ? 100.0 * t.ok[c] / t.tried[c] : 0.0,
               t.tried[c] ? 100.0 * t.base_ok[c] / t.tried[c] : 0.0,
               t.tried[c] ? t.ns[c] / t.tried[c] / 1000.0 : 0.0);
    }
    printf("overall     %7ld %8.1f%%   (ambiguous: refused with both lines named)\n", all,
           all ? 100.0 * allok / all : 0.0);
    agc_ctx_free(ctx);
    return 0;
}
