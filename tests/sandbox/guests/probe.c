/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Test guest for the sandbox suite: one module, many misbehaviours, chosen by
 * the first word on stdin ("oob", "stack", "membomb", "bigout", "loop",
 * "open PATH", "create PATH", "mkdir PATH", "unlink PATH", "list PATH",
 * "sleep MS", "exit N", "env NAME", "hello"). Prints results as
 * "errno=N" or data lines; wasi-libc errno values are WASI's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

volatile unsigned sink;
char *volatile keep;

__attribute__((noinline)) static unsigned deep(unsigned n)
{
    unsigned r = n ? deep(n - 1) : 0;
    sink = r;
    return r + n;
}

int main(void)
{
    char cmd[4096] = {0}, arg[4096] = {0};
    static char in[8192];
    size_t n = fread(in, 1, sizeof in - 1, stdin);
    in[n] = 0;
    sscanf(in, "%4095s %4095[^\n]", cmd, arg);
    if (!strcmp(cmd, "hello")) {
        printf("hello from wasm\n");
        fprintf(stderr, "a line on stderr\n");
    } else if (!strcmp(cmd, "oob")) {
        volatile unsigned *p = (volatile unsigned *)(uintptr_t)0xFFFFFFF0u;
        printf("%u\n", *p);
    } else if (!strcmp(cmd, "stack")) {
        printf("%u\n", deep(10000000));
    } else if (!strcmp(cmd, "membomb")) {
        for (unsigned i = 0;; i++) {
            char *p = malloc(1 << 20);
            if (!p) {
                fprintf(stderr, "malloc failed after %u MiB\n", i);
                return 1;
            }
            memset(p, 1, 1 << 20);
            keep = p; /* the allocation must not be optimised away */
        }
    } else if (!strcmp(cmd, "bigout")) {
        static char line[4096];
        memset(line, 'x', sizeof line - 1);
        for (;;)
            puts(line);
    } else if (!strcmp(cmd, "loop")) {
        for (;;)
            sink++;
    } else if (!strcmp(cmd, "sleep")) {
        struct timespec ts = {atoi(arg) / 1000, (atoi(arg) % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        printf("slept\n");
    } else if (!strcmp(cmd, "exit")) {
        exit(atoi(arg));
    } else if (!strcmp(cmd, "env")) {
        const char *v = getenv(arg);
        printf("%s=%s\n", arg, v ? v : "(unset)");
    } else if (!strcmp(cmd, "open")) {
        int fd = open(arg, O_RDONLY);
        if (fd < 0) {
            printf("errno=%d\n", errno);
            return 0;
        }
        char buf[256];
        ssize_t k = read(fd, buf, sizeof buf - 1);
        buf[k > 0 ? k : 0] = 0;
        printf("read=%s\n", buf);
        close(fd);
    } else if (!strcmp(cmd, "create")) {
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            printf("errno=%d\n", errno);
            return 0;
        }
        ssize_t k = write(fd, "written by wasm\n", 16);
        close(fd);
        printf("wrote=%zd\n", k);
    } else if (!strcmp(cmd, "mkdir")) {
        printf("errno=%d\n", mkdir(arg, 0755) == 0 ? 0 : errno);
    } else if (!strcmp(cmd, "unlink")) {
        printf("errno=%d\n", unlink(arg) == 0 ? 0 : errno);
    } else if (!strcmp(cmd, "rename")) {
        char to[4096];
        snprintf(to, sizeof to, "%s.renamed", arg);
        printf("errno=%d\n", rename(arg, to) == 0 ? 0 : errno);
    } else if (!strcmp(cmd, "stat")) {
        struct stat st;
        if (stat(arg, &st) != 0)
            printf("errno=%d\n", errno);
        else
            printf("size=%lld dir=%d\n", (long long)st.st_size, S_ISDIR(st.st_mode));
    } else if (!strcmp(cmd, "list")) {
        DIR *d = opendir(arg);
        if (!d) {
            printf("errno=%d\n", errno);
            return 0;
        }
        struct dirent *de;
        int count = 0;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                count++;
        closedir(d);
        printf("entries=%d\n", count);
    } else {
        fprintf(stderr, "probe: unknown command %s\n", cmd);
        return 2;
    }
    return 0;
}
