/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * jailprobe: a test helper for the jail (tests/sandbox). Each command tries
 * one thing and prints "NAME: OK ..." or "NAME: ERRNONAME" on stdout, so a
 * test can tell what the jail allowed. It never changes anything outside
 * what it is told to write, and it is not part of the library.
 * Usage: jailprobe CMD [ARG]...; commands are listed in usage().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Under AddressSanitizer: LeakSanitizer needs ptrace, which the jail denies. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

static int result(const char *name, long rc)
{
    if (rc < 0)
        printf("%s: %s\n", name, strerrorname_np(errno));
    else
        printf("%s: OK %ld\n", name, rc);
    fflush(stdout);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: jailprobe ptrace|bpf|mount|io_uring|unshare|pid|forkbomb|"
                    "read PATH|write PATH|connect PORT|sleep SECONDS|exec\n");
    return 2;
}

static int do_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return result("read", -1);
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return result("read", n);
}

static int do_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return result("write", -1);
    ssize_t n = write(fd, "x\n", 2);
    close(fd);
    return result("write", n);
}

static int do_connect(const char *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return result("connect", -1);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    long rc = connect(s, (struct sockaddr *)&a, sizeof a);
    close(s);
    return result("connect", rc);
}

/* Forks until refused, prints the count; then holds (pauses) or exits. */
static _Noreturn void forkbomb(bool hold)
{
    long n = 0;
    for (;;) {
        pid_t p = fork();
        if (p == 0) {
            for (;;)
                pause();
        }
        if (p < 0)
            break;
        n++;
    }
    printf("forkbomb: %ld then %s\n", n, strerrorname_np(errno));
    fflush(stdout);
    if (!hold)
        exit(0); /* the children die with the jail's init */
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "ptrace") == 0) /* ESRCH when allowed (no such pid) */
        return result("ptrace", ptrace(PTRACE_PEEKDATA, (pid_t)0x3ffffff0, NULL, NULL));
    if (strcmp(cmd, "bpf") == 0) /* EINVAL when allowed (bad command) */
        return result("bpf", syscall(SYS_bpf, 0x7fff, NULL, 0));
    if (strcmp(cmd, "mount") == 0) /* ENOENT when allowed (no such target) */
        return result("mount", mount("none", "/nonexistent-agc-jailprobe", "tmpfs", 0, NULL));
    if (strcmp(cmd, "io_uring") == 0) /* EFAULT when allowed */
        return result("io_uring", syscall(SYS_io_uring_setup, 1, NULL));
    if (strcmp(cmd, "unshare") == 0)
        return result("unshare", unshare(CLONE_NEWUSER));
    if (strcmp(cmd, "pid") == 0) {
        char link[64] = "";
        ssize_t n = readlink("/proc/self", link, sizeof link - 1);
        link[n > 0 ? n : 0] = '\0';
        printf("pid: %d proc-self %s\n", (int)getpid(), link);
        return 0;
    }
    if (strcmp(cmd, "forkbomb") == 0)
        forkbomb(argc > 2 && strcmp(argv[2], "hold") == 0);
    if (strcmp(cmd, "exec") == 0) {
        char *const av[] = {"true", NULL};
        execve("/bin/true", av, av + 1);
        return result("exec", -1);
    }
    if (argc < 3)
        return usage();
    if (strcmp(cmd, "read") == 0)
        return do_read(argv[2]);
    if (strcmp(cmd, "write") == 0)
        return do_write(argv[2]);
    if (strcmp(cmd, "connect") == 0)
        return do_connect(argv[2]);
    if (strcmp(cmd, "sleep") == 0) {
        sleep((unsigned)atoi(argv[2]));
        return result("sleep", 0);
    }
    return usage();
}
