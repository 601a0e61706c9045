/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tools run_command: output, exit status, timeout kills the group, env scrub,
 * cwd, caps; the OS jail by default (secrets hidden, files outside denied,
 * network only when granted) and the option to turn it off.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agentc/jail.h"
#include "tools_fixture.h"

/* A fixture whose run_command has explicit jail options. */
static fx *fx_jail(agc_run_jail mode, bool network, const char *const *ro)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = agc_test_tmpdir();
    assert_int_equal(agc_ctx_new(&f->ctx, NULL), AGC_OK);
    assert_int_equal(agc_workspace_open(&f->ws, f->dir, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_new(&f->reg, f->ctx), AGC_OK);
    static const char *const others[] = {"read_file", "write_file", NULL};
    assert_int_equal(agc_workspace_register_tools(f->reg, f->ws, others), AGC_OK);
    agc_run_command_opts o = AGC_RUN_COMMAND_OPTS_INIT;
    o.jail = mode;
    o.network = network;
    o.ro_paths = ro;
    agc_tool *t = NULL;
    assert_int_equal(agc_workspace_run_command_new(&t, f->ws, &o, f->ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_add(f->reg, t), AGC_OK);
    agc_tool_result_init(&f->res);
    return f;
}

/* Skips (with the reason) when the kernel cannot give run_command its full jail. */
static void need_jail(void)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_jail_report rep;
    agc_jail_probe(&rep, ctx);
    agc_ctx_free(ctx);
    unsigned want = AGC_JAIL_F_LANDLOCK | AGC_JAIL_F_MOUNTNS | AGC_JAIL_F_PIDNS;
    if ((rep.features & want) != want) {
        print_message("skipped: the jail lacks Landlock or namespaces here (%s)\n", rep.text);
        skip();
    }
}

static void captures_output_and_exit_status(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    assert_string_equal(fx_ok(f, "run_command", "{\"argv\":[\"echo\",\"hello\"]}"),
                        "hello\n[exit status 0]");
    const char *out =
        fx_ok(f, "run_command", "{\"argv\":[\"sh\",\"-c\",\"echo out; echo err >&2; exit 3\"]}");
    assert_string_equal(out, "out\n[stderr]\nerr\n[exit status 3]");
    assert_int_equal(json_integer_value(json_object_get(f->res.structured, "exit_code")), 3);
    out = fx_ok(f, "run_command",
                "{\"argv\":[\"sh\",\"-c\",\"echo a; echo b >&2\"],\"merge_stderr\":true}");
    assert_string_equal(out, "a\nb\n[exit status 0]");
    assert_string_equal(fx_ok(f, "run_command", "{\"argv\":[\"cat\"],\"stdin\":\"abc\"}"),
                        "abc\n[exit status 0]");
    /* no stdin given: the program reads end-of-file at once */
    assert_string_equal(fx_ok(f, "run_command", "{\"argv\":[\"cat\"]}"), "[exit status 0]");
    fx_err(f, "run_command", "{\"argv\":[\"agc-no-such-command-xyz\"]}", "not found");
    fx_err(f, "run_command", "{\"argv\":[]}", "/argv: must NOT have fewer than 1 items");
    fx_err(f, "run_command", "{\"argv\":\"ls -l\"}", "/argv: must be array");
    fx_err(f, "run_command", "{\"argv\":[\"sh\",\"-c\",\"kill -9 $$\"]}", "[killed by signal 9]");
    fx_free(f);
}

static bool process_gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X'); /* a zombie is dead */
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void timeout_kills_the_process_group(void **state)
{
    (void)state;
    fx *f = fx_jail(AGC_RUN_JAIL_OFF, false, NULL); /* host pids in bg.pid */
    double t0 = now_s();
    fx_err(f, "run_command",
           "{\"argv\":[\"sh\",\"-c\",\"sleep 30 & echo $! > bg.pid; echo started; wait\"],"
           "\"timeout_seconds\":1}",
           "[timed out after 1 s; the process group was killed]");
    assert_non_null(strstr(f->res.output, "started\n"));
    assert_true(now_s() - t0 < 10);
    char *pidtxt = fx_read(f, "bg.pid");
    assert_non_null(pidtxt);
    pid_t bg = (pid_t)atoi(pidtxt);
    free(pidtxt);
    assert_true(bg > 0);
    for (int i = 0; i < 50 && !process_gone(bg); i++)
        usleep(20000);
    assert_true(process_gone(bg));
    assert_true(json_is_true(json_object_get(f->res.structured, "timed_out")));
    fx_free(f);
}

static void leftover_background_processes_are_killed_on_exit(void **state)
{
    (void)state;
    fx *f = fx_jail(AGC_RUN_JAIL_OFF, false, NULL); /* host pids in bg.pid */
    double t0 = now_s();
    fx_ok(f, "run_command", "{\"argv\":[\"sh\",\"-c\",\"sleep 30 & echo $! > bg.pid\"]}");
    assert_true(now_s() - t0 < 5);
    char *pidtxt = fx_read(f, "bg.pid");
    pid_t bg = (pid_t)atoi(pidtxt);
    free(pidtxt);
    for (int i = 0; i < 50 && !process_gone(bg); i++)
        usleep(20000);
    assert_true(process_gone(bg));
    fx_free(f);
}

static void environment_is_scrubbed(void **state)
{
    (void)state;
    setenv("OPENAI_API_KEY", "sk-test-should-not-leak", 1);
    setenv("GITHUB_TOKEN", "ghp_nope", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AGC_VISIBLE", "yes", 1);
    setenv("LC_ALL", "C", 1);
    fx *f = fx_new(NULL);
    const char *out = fx_ok(f, "run_command", "{\"argv\":[\"env\"]}");
    assert_null(strstr(out, "sk-test-should-not-leak"));
    assert_null(strstr(out, "OPENAI_API_KEY"));
    assert_null(strstr(out, "GITHUB_TOKEN"));
    assert_null(strstr(out, "AWS_REGION"));
    assert_null(strstr(out, "AGC_VISIBLE"));
    assert_non_null(strstr(out, "PATH="));
    assert_non_null(strstr(out, "LC_ALL=C"));
    fx_free(f);
    /* explicitly allowed names pass, secret-looking names never do */
    const char *allow[] = {"AGC_VISIBLE", "OPENAI_API_KEY", NULL};
    agc_workspace_opts o = AGC_WORKSPACE_OPTS_INIT;
    o.env_allow = allow;
    f = fx_new(&o);
    out = fx_ok(f, "run_command", "{\"argv\":[\"env\"]}");
    assert_non_null(strstr(out, "AGC_VISIBLE=yes"));
    assert_null(strstr(out, "sk-test-should-not-leak"));
    fx_free(f);
    unsetenv("OPENAI_API_KEY");
    unsetenv("GITHUB_TOKEN");
    unsetenv("AWS_REGION");
    unsetenv("AGC_VISIBLE");
}

static void cwd_is_confined_to_the_workspace(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "sub/x.txt", "");
    const char *out = fx_ok(f, "run_command", "{\"argv\":[\"pwd\"],\"cwd\":\"sub\"}");
    assert_non_null(strstr(out, "/sub\n[exit status 0]"));
    fx_err(f, "run_command", "{\"argv\":[\"pwd\"],\"cwd\":\"..\"}", "leaves the workspace");
    fx_err(f, "run_command", "{\"argv\":[\"pwd\"],\"cwd\":\"/tmp\"}", "leaves the workspace");
    fx_err(f, "run_command", "{\"argv\":[\"pwd\"],\"cwd\":\"sub/x.txt\"}", "not a directory");
    fx_free(f);
}

static void output_is_capped_but_status_kept(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    const char *out = fx_ok(f, "run_command",
                            "{\"argv\":[\"sh\",\"-c\",\"head -c 200000 /dev/zero | tr '\\\\0' a; "
                            "echo done >&2\"]}");
    assert_non_null(strstr(out, "[output truncated: "));
    assert_non_null(strstr(out, " of 200000 bytes shown]"));
    assert_non_null(strstr(out, "[stderr]\ndone\n[exit status 0]"));
    assert_true(f->res.output_len <= AGC_TOOL_DEFAULT_OUTPUT_CAP);
    assert_int_equal(json_integer_value(json_object_get(f->res.structured, "stdout_bytes")),
                     200000);
    fx_free(f);
}

static void *cancel_later(void *arg)
{
    usleep(300000);
    atomic_store((atomic_bool *)arg, true);
    return NULL;
}

static void cancel_stops_a_running_command(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    atomic_bool cancel = false;
    agc_tool_call_ctx cc = AGC_TOOL_CALL_CTX_INIT;
    cc.cancel = &cancel;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_later, &cancel), 0);
    double t0 = now_s();
    agc_tool_result_clear(&f->res, f->ctx);
    assert_int_equal(agc_tool_registry_invoke(&f->res, f->reg, "run_command",
                                              "{\"argv\":[\"sleep\",\"30\"]}", &cc),
                     AGC_ECANCELED);
    pthread_join(th, NULL);
    assert_true(now_s() - t0 < 10);
    assert_true(f->res.is_error);
    fx_free(f);
}

static void jailed_by_default_secrets_and_outside_files_are_unreadable(void **state)
{
    (void)state;
    need_jail();
    fx *f = fx_new(NULL);
    fx_write(f, "notes.txt", "visible\n");
    fx_write(f, ".env", "API_KEY=hunter2\n");
    fx_write(f, ".git/config", "[remote] url=gitsecret\n");
    fx_write(f, "sub/key.pem", "PEMSECRET\n");
    char *other = agc_test_tmpdir();
    char outside[4200], cmd[9000];
    snprintf(outside, sizeof outside, "%s/outside.txt", other);
    agc_test_write_file(outside, "OUTSIDESECRET\n");
    snprintf(cmd, sizeof cmd,
             "{\"argv\":[\"sh\",\"-c\",\"cat notes.txt; cat .env; cat .git/config; "
             "cat sub/key.pem; cat %s; echo made > made.txt; echo t > /tmp/t && cat /tmp/t\"]}",
             outside);
    agc_status st = fx_call(f, "run_command", cmd);
    const char *out = f->res.output;
    print_message("%s\n", out);
    assert_int_equal(st, AGC_OK);
    assert_non_null(strstr(out, "visible\nt\n")); /* a writable private /tmp */
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "gitsecret"));
    assert_null(strstr(out, "PEMSECRET"));
    assert_null(strstr(out, "OUTSIDESECRET"));
    assert_non_null(strstr(out, "Permission denied"));
    char *made = fx_read(f, "made.txt");
    assert_non_null(made);
    assert_string_equal(made, "made\n");
    free(made);
    const char *sb = json_string_value(json_object_get(f->res.structured, "sandbox"));
    assert_non_null(sb);
    assert_non_null(strstr(sb, "landlock ABI"));
    /* the host's secrets are intact */
    char *env = fx_read(f, ".env");
    assert_string_equal(env, "API_KEY=hunter2\n");
    free(env);
    agc_test_rmtree(other);
    free(other);
    fx_free(f);
}

static void jail_can_be_turned_off(void **state)
{
    (void)state;
    fx *f = fx_jail(AGC_RUN_JAIL_OFF, false, NULL);
    char *other = agc_test_tmpdir();
    char outside[4200], cmd[9000];
    snprintf(outside, sizeof outside, "%s/outside.txt", other);
    agc_test_write_file(outside, "reachable\n");
    snprintf(cmd, sizeof cmd, "{\"argv\":[\"cat\",\"%s\"]}", outside);
    assert_string_equal(fx_ok(f, "run_command", cmd), "reachable\n[exit status 0]");
    assert_true(json_is_null(json_object_get(f->res.structured, "sandbox")));
    agc_test_rmtree(other);
    free(other);
    fx_free(f);
}

static void jailed_network_needs_a_grant(void **state)
{
    (void)state;
    need_jail();
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
    const char *bin = getenv("AGC_BINARY_DIR");
    char probe[4200], cmd[9000];
    snprintf(probe, sizeof probe, "%s/jailprobe", bin ? bin : ".");
    const char *ro[] = {probe, NULL};
    snprintf(cmd, sizeof cmd, "{\"argv\":[\"%s\",\"connect\",\"%d\"]}", probe, ntohs(a.sin_port));
    fx *f = fx_jail(AGC_RUN_JAIL_REQUIRED, false, ro);
    assert_non_null(strstr(fx_ok(f, "run_command", cmd), "connect: EACCES"));
    fx_free(f);
    f = fx_jail(AGC_RUN_JAIL_REQUIRED, true, ro);
    assert_non_null(strstr(fx_ok(f, "run_command", cmd), "connect: OK"));
    fx_free(f);
    close(ls);
}

static void jailed_timeout_kills_every_process_of_the_jail(void **state)
{
    (void)state;
    need_jail();
    fx *f = fx_new(NULL);
    double t0 = now_s();
    fx_err(f, "run_command",
           "{\"argv\":[\"sh\",\"-c\",\"sleep 30 & (sleep 40 &); echo started; wait\"],"
           "\"timeout_seconds\":0.5}",
           "[timed out after 0.5 s; the process group was killed]");
    assert_non_null(strstr(f->res.output, "started\n"));
    assert_true(now_s() - t0 < 5);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(captures_output_and_exit_status),
        cmocka_unit_test(timeout_kills_the_process_group),
        cmocka_unit_test(leftover_background_processes_are_killed_on_exit),
        cmocka_unit_test(environment_is_scrubbed),
        cmocka_unit_test(cwd_is_confined_to_the_workspace),
        cmocka_unit_test(output_is_capped_but_status_kept),
        cmocka_unit_test(cancel_stops_a_running_command),
        cmocka_unit_test(jailed_by_default_secrets_and_outside_files_are_unreadable),
        cmocka_unit_test(jail_can_be_turned_off),
        cmocka_unit_test(jailed_network_needs_a_grant),
        cmocka_unit_test(jailed_timeout_kills_every_process_of_the_jail),
    };
    return cmocka_run_group_tests_name("tools_run_command", tests, NULL, NULL);
}
