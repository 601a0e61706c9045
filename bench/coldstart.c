/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Cold start of whole commands: median wall time of RUNS fork+exec runs of
 * each command given (separated by "--"), and the ratio of each command to
 * the first. Commands run with stdin and stdout on /dev/null; a command that
 * exits non-zero stops the benchmark (a broken run must not look fast).
 * Driven by bench/coldstart.sh (agentc run vs the @openai/agents SDK); run
 * without arguments it prints its usage and exits 0, so `make bench` loops
 * over it harmlessly. Asserts nothing about the figures.
 * usage: bench_coldstart RUNS LABEL -- CMD ARGS... [-- LABEL2 -- CMD2 ARGS...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 4

typedef struct cmd {
    const char *label;
    char **argv;
    double median_us;
    double min_us;
} cmd;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double run_once(char **argv)
{
    double t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_coldstart: fork");
        exit(1);
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open("/dev/null", O_WRONLY);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0)
            dup2(out, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double t = now_us() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_coldstart: %s failed (status %d)\n", argv[0],
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        exit(1);
    }
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(cmd *c, int runs)
{
    double *t = malloc(sizeof(double) * (size_t)runs);
    if (!t)
        exit(1);
    for (int i = 0; i < 3; i++) /* warm the page cache */
        run_once(c->argv);
    for (int i = 0; i < runs; i++)
        t[i] = run_once(c->argv);
    qsort(t, (size_t)runs, sizeof *t, cmp);
    c->median_us = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    c->min_us = t[0];
    free(t);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_coldstart RUNS LABEL -- CMD ARGS... [-- LABEL2 -- CMD2 "
                        "ARGS...] (see bench/coldstart.sh)\n");
        return 0;
    }
    int runs = atoi(argv[1]);
    if (runs < 1)
        runs = 100;
    cmd cmds[MAX_CMDS];
    int n = 0;
    /* argv[2..]: LABEL -- CMD... [-- LABEL -- CMD...] */
    int i = 2;
    while (i < argc && n < MAX_CMDS) {
        if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
            fprintf(stderr, "bench_coldstart: expected LABEL -- CMD at '%s'\n", argv[i]);
            return 2;
        }
        cmds[n].label = argv[i];
        cmds[n].argv = &argv[i + 2];
        int j = i + 2;
        while (j < argc && strcmp(argv[j], "--") != 0)
            j++;
        if (j < argc)
            argv[j] = NULL; /* terminate this command's argv */
        i = j + 1;
        n++;
    }
    for (int k = 0; k < n; k++) {
        measure(&cmds[k], runs);
        printf("coldstart: %-16s median %10.0f us  (min %.0f us) over %d runs\n", cmds[k].label,
               cmds[k].median_us, cmds[k].min_us, runs);
        fflush(stdout);
    }
    for (int k = 1; k < n; k++)
        printf("coldstart: %s / %s = %.1fx\n", cmds[k].label, cmds[0].label,
               cmds[k].median_us / cmds[0].median_us);
    return 0;
}
