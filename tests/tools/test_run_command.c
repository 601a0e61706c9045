/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tools run_command: output, exit status, timeout kills the group, env scrub, cwd, caps. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "tools_fixture.h"

static void captures_output_and_exit_status(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    assert_string_equal(fx_ok(f, "run_command", "{\"argv\":[\"echo\",\"hello\"]}"),
                        "hello\n[exit status 0]");
    const char *out = fx_ok(f, "run_command",
                            "{\"argv\":[\"sh\",\"-c\",\"echo out; echo err >&2; exit 3\"]}");
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
    fx *f = fx_new(NULL);
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
    fx *f = fx_new(NULL);
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
    };
    return cmocka_run_group_tests_name("tools_run_command", tests, NULL, NULL);
}
