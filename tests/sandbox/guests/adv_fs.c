/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Adversarial file-system guest (a plain WASI command): the first line of
 * stdin is "CMD ARG [ARG2]". Commands: read, write (O_WRONLY|O_TRUNC), append,
 * link, symlink, rename, fds (open ARG until it fails), stat, list, bigerr
 * (10 MB to stderr), spin-write (writes to ARG until an error). Prints
 * "errno=N" or a result line; errno values are WASI's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(void)
{
    printf("errno=%d\n", errno);
    return 0;
}

int main(void)
{
    static char in[8192];
    char cmd[64] = {0}, arg[4096] = {0}, arg2[4096] = {0};
    size_t n = fread(in, 1, sizeof in - 1, stdin);
    in[n] = 0;
    sscanf(in, "%63s %4095s %4095s", cmd, arg, arg2);
    if (!strcmp(cmd, "read")) {
        int fd = open(arg, O_RDONLY);
        if (fd < 0)
            return fail();
        char buf[256];
        ssize_t k = read(fd, buf, sizeof buf - 1);
        if (k < 0)
            return fail();
        buf[k] = 0;
        buf[strcspn(buf, "\n")] = 0;
        printf("read=%s\n", buf);
    } else if (!strcmp(cmd, "write") || !strcmp(cmd, "append")) {
        int fd = open(arg, O_WRONLY | (!strcmp(cmd, "write") ? O_TRUNC : O_APPEND));
        if (fd < 0)
            return fail();
        ssize_t k = write(fd, "pwned\n", 6);
        if (k < 0)
            return fail();
        printf("wrote=%zd\n", k);
    } else if (!strcmp(cmd, "link")) {
        printf("errno=%d\n", link(arg, arg2) == 0 ? 0 : errno);
    } else if (!strcmp(cmd, "symlink")) {
        printf("errno=%d\n", symlink(arg, arg2) == 0 ? 0 : errno);
    } else if (!strcmp(cmd, "rename")) {
        printf("errno=%d\n", rename(arg, arg2) == 0 ? 0 : errno);
    } else if (!strcmp(cmd, "fds")) {
        int opened = 0, last = -1;
        for (int i = 0; i < 10000; i++) {
            int fd = open(arg, O_RDONLY);
            if (fd < 0)
                break;
            last = fd;
            opened++;
        }
        int err = errno;
        for (int fd = 3; fd <= last; fd++)
            close(fd);
        printf("opened=%d errno=%d\n", opened, err);
    } else if (!strcmp(cmd, "stat")) {
        struct stat st;
        if (stat(arg, &st) != 0)
            return fail();
        printf("size=%lld\n", (long long)st.st_size);
    } else if (!strcmp(cmd, "list")) {
        DIR *d = opendir(arg);
        if (!d)
            return fail();
        int count = 0;
        while (readdir(d))
            count++;
        closedir(d);
        printf("entries=%d\n", count);
    } else if (!strcmp(cmd, "bigerr")) {
        static char line[4096];
        memset(line, 'e', sizeof line - 1);
        for (int i = 0; i < 2560; i++)
            fputs(line, stderr);
        printf("done\n");
    } else if (!strcmp(cmd, "spin-write")) {
        int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return fail();
        static char block[65536];
        for (;;)
            if (write(fd, block, sizeof block) < 0)
                return fail();
    } else {
        printf("unknown\n");
        return 2;
    }
    return 0;
}
