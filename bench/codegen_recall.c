/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Repo-map recall: `bench_codegen_recall OLD_TREE TASK_FILE TRUTH_FILE [NAME]`.
 * Renders the repo map of OLD_TREE with the task text (a release's changelog
 * section) at 1k, 2k and 4k tokens and prints the share of the truth files
 * (one relative path per line: the files the release changed) that appear
 * in each map. bench/codegen_recall.sh fetches real npm releases and drives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/repomap.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = b ? fread(b, 1, (size_t)n, f) : 0;
    fclose(f);
    if (b)
        b[got] = '\0';
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s OLD_TREE TASK_FILE TRUTH_FILE [NAME]\n", argv[0]);
        return 2;
    }
    char *task = slurp(argv[2]), *truth = slurp(argv[3]);
    if (!task || !truth) {
        fprintf(stderr, "cannot read %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    static const size_t budgets[] = {1024, 2048, 4096};
    size_t n_truth = 0;
    for (char *l = truth; *l; l++)
        n_truth += *l == '\n';
    printf("%-24s files changed %3zu", argc > 4 ? argv[4] : argv[1], n_truth);
    for (size_t b = 0; b < 3; b++) {
        agc_repomap_opts o = AGC_REPOMAP_OPTS_INIT;
        o.budget_tokens = budgets[b];
        o.task = task;
        char *map = NULL;
        size_t tokens = 0;
        if (agc_repomap_render(&map, &tokens, argv[1], &o, ctx) != AGC_OK) {
            fprintf(stderr, "map failed: %s\n", agc_ctx_errmsg(ctx));
            return 1;
        }
        size_t hit = 0;
        char *copy = strdup(truth);
        for (char *save = NULL, *p = strtok_r(copy, "\n", &save); p;
             p = strtok_r(NULL, "\n", &save)) {
            char needle[4200];
            snprintf(needle, sizeof needle, "\n%s", p);
            size_t pl = strlen(p);
            bool in = (strncmp(map, p, pl) == 0 && (map[pl] == ':' || map[pl] == '\n')) ||
                      ((strstr(map, needle) != NULL) &&
                       (strstr(map, needle)[pl + 1] == ':' || strstr(map, needle)[pl + 1] == '\n'));
            hit += in;
        }
        free(copy);
        printf("  %zuk: %5.1f%% (%zu tok)", budgets[b] / 1024,
               n_truth ? 100.0 * (double)hit / (double)n_truth : 0.0, tokens);
        agc_free(ctx, map);
    }
    printf("\n");
    agc_ctx_free(ctx);
    free(task), free(truth);
    return 0;
}
