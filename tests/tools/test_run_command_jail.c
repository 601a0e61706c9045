/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Adversarial run_command in the OS jail: a fork bomb is contained (the
 * jail's process cap: RLIMIT_NPROC in the user namespace, and the pid
 * namespace's own pid_max on Linux >= 6.14, which also holds for root, whom
 * RLIMIT_NPROC exempts), a TCP connect without a network grant fails, and
 * .git plus the deny-read secret paths are unreadable while the workspace
 * stays writable. A kernel without the needed layer is a printed skip.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agentc/jail.h"
#include "tools_fixture.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The jail's features, or a printed skip when `want` is not all there. */
static unsigned need(unsigned want)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_jail_report rep;
    agc_jail_probe(&rep, ctx);
    agc_ctx_free(ctx);
    if ((rep.features & want) != want) {
        print_message("skipped: the jail lacks a needed layer here (%s)\n", rep.text);
        skip();
    }
    return rep.features;
}

static int count_host_processes(void)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += de->d_name[0] >= '0' && de->d_name[0] <= '9';
    if (d)
        closedir(d);
    return n;
}

static void fork_bomb_is_contained(void **state)
{
    (void)state;
    need(AGC_JAIL_F_LANDLOCK | AGC_JAIL_F_PIDNS | AGC_JAIL_F_USERNS);
    fx *f = fx_new(NULL);
    int before = count_host_processes();
    /* measure the cap: start sleepers until fork fails, report how many got through */
    double t0 = now_s();
    agc_status st = fx_call(f, "run_command",
                            "{\"argv\":[\"sh\",\"-c\",\"n=0; while [ $n -lt 3000 ]; do "
                            "(sleep 30 >/dev/null 2>&1 &) 2>/dev/null || break; n=$((n+1)); done; "
                            "echo spawned=$n\"],\"timeout_seconds\":90}");
    assert_int_equal(st, AGC_OK);
    const char *out = f->res.output;
    print_message("process cap: %s (uid %d: %s)\n", out, (int)getuid(),
                  getuid() == 0 ? "RLIMIT_NPROC does not bind root; pid_max of the jail's "
                                  "pid namespace does"
                                : "RLIMIT_NPROC 512 in the user namespace");
    const char *sp = strstr(out, "spawned=");
    assert_non_null(sp);
    int spawned = atoi(sp + 8);
    assert_true(spawned < 3000);
    assert_true(spawned <= 600);
    /* a real bomb: stopped at the deadline, every process of the jail killed */
    fx_free(f);
    f = fx_new(NULL);
    st = fx_call(f, "run_command",
                 "{\"argv\":[\"sh\",\"-c\",\"b() { b | b & }; b; sleep 30\"],"
                 "\"timeout_seconds\":2}");
    assert_int_equal(st, AGC_OK);
    assert_true(now_s() - t0 < 60);
    /* the host is healthy: processes left over are few (none of the jail's) */
    int after = count_host_processes();
    /* printed, not asserted: tests running in parallel start processes too */
    print_message("host processes before %d, after %d\n", before, after);
    assert_string_equal(fx_ok(f, "run_command", "{\"argv\":[\"echo\",\"alive\"]}"),
                        "alive\n[exit status 0]");
    fx_free(f);
}

static void network_connect_without_a_grant_fails(void **state)
{
    (void)state;
    need(AGC_JAIL_F_LANDLOCK | AGC_JAIL_F_NETNS);
    if (access("/bin/bash", X_OK) != 0) {
        print_message("skipped: /bin/bash (for /dev/tcp) is not installed\n");
        skip();
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "{\"argv\":[\"bash\",\"-c\",\"exec 3<>/dev/tcp/127.0.0.1/%d && echo CONNECTED\"]}",
             ntohs(a.sin_port));
    fx *f = fx_new(NULL);
    assert_int_equal(fx_call(f, "run_command", cmd), AGC_OK);
    print_message("%s\n", f->res.output);
    assert_null(strstr(f->res.output, "CONNECTED"));
    assert_null(strstr(f->res.output, "[exit status 0]"));
    fx_free(f);
    close(ls);
}

static void git_and_secret_paths_are_unreadable(void **state)
{
    (void)state;
    need(AGC_JAIL_F_LANDLOCK | AGC_JAIL_F_MOUNTNS);
    fx *f = fx_new(NULL);
    fx_write(f, "src/main.c", "int main(void) { return 0; }\n");
    fx_write(f, ".git/HEAD", "ref: refs/heads/GITHEADSECRET\n");
    fx_write(f, ".git/objects/ab/cdef", "GITOBJSECRET\n");
    fx_write(f, ".env.local", "TOKEN=ENVLOCALSECRET\n");
    fx_write(f, "deploy/id_rsa", "RSASECRET\n");
    fx_write(f, "config/server.key", "KEYSECRET\n");
    fx_write(f, ".aws/credentials", "CREDSECRET\n");
    assert_int_equal(
        fx_call(f, "run_command",
                "{\"argv\":[\"sh\",\"-c\",\"cat src/main.c; cat .git/HEAD; "
                "cat .git/objects/ab/cdef; ls .git; cat .env.local; cat deploy/id_rsa; "
                "cat config/server.key .aws/credentials; find . -type f | xargs cat 2>/dev/null; "
                "echo new > src/new.c && echo WROTE; echo x > .git/HEAD || echo NOGITWRITE\"]}"),
        AGC_OK);
    const char *out = f->res.output;
    print_message("%s\n", out);
    assert_non_null(strstr(out, "int main"));
    assert_non_null(strstr(out, "WROTE"));
    assert_non_null(strstr(out, "NOGITWRITE"));
    assert_null(strstr(out, "GITHEADSECRET"));
    assert_null(strstr(out, "GITOBJSECRET"));
    assert_null(strstr(out, "ENVLOCALSECRET"));
    assert_null(strstr(out, "RSASECRET"));
    assert_null(strstr(out, "CREDSECRET"));
    assert_null(strstr(out, "KEYSECRET"));
    fx_expect_file(f, ".git/HEAD", "ref: refs/heads/GITHEADSECRET\n");
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fork_bomb_is_contained),
        cmocka_unit_test(network_connect_without_a_grant_fails),
        cmocka_unit_test(git_and_secret_paths_are_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
