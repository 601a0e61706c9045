/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Cold start of `agentc --version`: median (and minimum) wall time of 200
 * fork+exec runs, and its ratio to /bin/true. The two are run alternately so
 * that load from other processes skews both alike. Prints figures only; it
 * asserts nothing (timing belongs in benchmarks, not tests).
 * usage: bench_startup PATH/TO/agentc [runs]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double run_once(char *const argv[])
{
    double t0 = now_us();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_startup: %s failed\n", argv[0]);
        exit(1);
    }
    return now_us() - t0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs a and b alternately, runs times each; medians and minima in us. */
static void measure(char *const a[], char *const b[], int runs, double out[4])
{
    double *ta = malloc(sizeof(double) * (size_t)runs);
    double *tb = malloc(sizeof(double) * (size_t)runs);
    if (!ta || !tb)
        exit(1);
    for (int i = 0; i < 5; i++) { /* warm the page cache */
        run_once(a);
        run_once(b);
    }
    for (int i = 0; i < runs; i++) {
        ta[i] = run_once(a);
        tb[i] = run_once(b);
    }
    qsort(ta, (size_t)runs, sizeof *ta, cmp);
    qsort(tb, (size_t)runs, sizeof *tb, cmp);
    out[0] = ta[runs / 2];
    out[1] = ta[0];
    out[2] = tb[runs / 2];
    out[3] = tb[0];
    free(ta);
    free(tb);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_startup PATH/TO/agentc [runs]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 200;
    if (runs < 1)
        runs = 200;
    char *agentc[] = {argv[1], "--version", NULL};
    char *truecmd[] = {"/bin/true", NULL};
    double m[4];
    measure(agentc, truecmd, runs, m);
    printf("startup: agentc --version median %.0f us (min %.0f) over %d runs; /bin/true %.0f us "
           "(min %.0f); ratio %.2fx\n",
           m[0], m[1], runs, m[2], m[3], m[0] / m[2]);
    return 0;
}
