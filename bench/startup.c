/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Cold start of `agentc --version`: median wall time of 200 fork+exec runs,
 * and its ratio to /bin/true measured in the same run. Prints figures only;
 * it asserts nothing (timing belongs in benchmarks, not tests).
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

static double median(char *const argv[], int runs)
{
    double *t = malloc(sizeof(double) * (size_t)runs);
    if (!t)
        exit(1);
    for (int i = 0; i < 5; i++) /* warm the page cache */
        run_once(argv);
    for (int i = 0; i < runs; i++)
        t[i] = run_once(argv);
    qsort(t, (size_t)runs, sizeof *t, cmp);
    double m = t[runs / 2];
    free(t);
    return m;
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
    double a = median(agentc, runs);
    double t = median(truecmd, runs);
    printf("startup: agentc --version median %.0f us over %d runs; /bin/true %.0f us; ratio %.2fx\n",
           a, runs, t, a / t);
    return 0;
}
