/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of logging: level threshold (checked before formatting), human and
 * JSON line formats with an injected clock, callback / FILE / path sinks,
 * redaction of every line, configuration from the environment, and that
 * logging never replaces the ctx's last error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agc_test.h"
#include "agentc/clock.h"
#include "agentc/log.h"
#include "agentc/redact.h"

#define T0 1795445385123LL /* 2026-11-23T14:49:45.123Z */

typedef struct capture {
    char lines[8][2048];
    int n;
    agc_log_level levels[8];
} capture;

static void capture_fn(agc_log_level level, const char *line, size_t len, void *user)
{
    capture *c = user;
    assert_int_equal(strlen(line), len);
    if (c->n < 8) {
        snprintf(c->lines[c->n], sizeof c->lines[0], "%s", line);
        c->levels[c->n++] = level;
    }
}

static agc_manual_clock clk = {T0, 0, 0};

static agc_ctx *ctx_with_capture(agc_test_alloc *a, capture *c)
{
    agc_ctx *ctx = agc_test_ctx_new(a);
    memset(c, 0, sizeof *c);
    agc_ctx_set_clock(ctx, &agc_manual_clock_ops, &clk);
    assert_int_equal(agc_log_set_callback(ctx, capture_fn, c), AGC_OK);
    return ctx;
}

static void default_level_is_warn(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    assert_int_equal(agc_log_get_level(ctx), AGC_LOG_WARN);
    agc_log(ctx, AGC_LOG_INFO, "test", "hidden %d", 1);
    agc_log(ctx, AGC_LOG_WARN, "test", "shown %d", 2);
    agc_log(ctx, AGC_LOG_ERROR, "test", "shown %d", 3);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.levels[0], AGC_LOG_WARN);
    assert_false(agc_log_enabled(ctx, AGC_LOG_DEBUG));
    assert_true(agc_log_enabled(ctx, AGC_LOG_ERROR));
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void disabled_levels_format_nothing(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    long before = a.calls;
    for (int i = 0; i < 100; i++)
        agc_log(ctx, AGC_LOG_DEBUG, "test", "%s %d", "expensive", i);
    assert_int_equal(a.calls, before); /* no allocation: nothing was formatted */
    assert_int_equal(agc_log_set_level(ctx, AGC_LOG_OFF), AGC_OK);
    agc_log(ctx, AGC_LOG_ERROR, "test", "silenced");
    assert_int_equal(c.n, 0);
    agc_ctx_free(ctx);
}

static void human_lines_have_time_level_and_module(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    assert_int_equal(agc_log_set_level(ctx, AGC_LOG_TRACE), AGC_OK);
    agc_log(ctx, AGC_LOG_WARN, "config", "model %s is deprecated", "gpt-3");
    agc_log(ctx, AGC_LOG_INFO, "net", "ok");
    assert_string_equal(c.lines[0],
                        "2026-11-23T14:49:45.123Z WARN  config: model gpt-3 is deprecated");
    assert_string_equal(c.lines[1], "2026-11-23T14:49:45.123Z INFO  net: ok");
    agc_ctx_free(ctx);
}

static void json_lines_are_compact_objects(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    assert_int_equal(agc_log_set_format(ctx, AGC_LOG_JSON), AGC_OK);
    agc_log(ctx, AGC_LOG_ERROR, "tool", "quote \" backslash \\ newline\n tab\t ctl \x01 end");
    assert_null(strchr(c.lines[0], '\n'));
    assert_string_equal(c.lines[0],
                        "{\"time\":\"2026-11-23T14:49:45.123Z\",\"level\":\"error\",\"module\":"
                        "\"tool\",\"msg\":\"quote \\\" backslash \\\\ newline\\n tab\\t ctl "
                        "\\u0001 end\"}");
    json_error_t e;
    json_t *v = json_loads(c.lines[0], 0, &e);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "level")), "error");
    json_decref(v);
    agc_ctx_free(ctx);
}

static void secrets_never_reach_the_sink(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    assert_int_equal(agc_log_set_level(ctx, AGC_LOG_INFO), AGC_OK);
    assert_int_equal(agc_redact_add_secret(ctx, "p@ss\"word-1", 11), AGC_OK);
    agc_log(ctx, AGC_LOG_INFO, "auth", "login with p@ss\"word-1 and key sk-abcdefghijklmnop1234");
    assert_int_equal(agc_log_set_format(ctx, AGC_LOG_JSON), AGC_OK);
    agc_log(ctx, AGC_LOG_INFO, "auth", "login with p@ss\"word-1 and key sk-abcdefghijklmnop1234");
    assert_int_equal(c.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_null(strstr(c.lines[i], "word-1"));
        assert_null(strstr(c.lines[i], "sk-abc"));
        assert_non_null(strstr(c.lines[i], "login with [REDACTED] and key [REDACTED]"));
    }
    agc_ctx_free(ctx);
}

static void file_sinks_receive_redacted_lines(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(agc_log_set_file(ctx, f), AGC_OK);
    agc_log(ctx, AGC_LOG_WARN, "m", "Bearer abcdefghijklmnopqrstu");
    rewind(f);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, " WARN  m: Bearer [REDACTED]\n"));
    fclose(f);

    char *dir = agc_test_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/agent.log", dir);
    assert_int_equal(agc_log_open_path(ctx, path), AGC_OK);
    agc_log(ctx, AGC_LOG_ERROR, "m", "first");
    assert_int_equal(agc_log_open_path(ctx, path), AGC_OK); /* reopen appends */
    agc_log(ctx, AGC_LOG_ERROR, "m", "second");
    agc_ctx_free(ctx); /* closes the file */
    f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0;
    while (fgets(line, sizeof line, f))
        lines++;
    fclose(f);
    assert_int_equal(lines, 2);
    ctx = agc_test_ctx_new(&a);
    assert_int_equal(agc_log_open_path(ctx, "/nonexistent-dir/x.log"), AGC_EIO);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/nonexistent-dir/x.log"));
    agc_ctx_free(ctx);
    agc_test_rmtree(dir);
    free(dir);
}

static void configures_from_environment(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    setenv("AGENTC_LOG_LEVEL", "debug", 1);
    setenv("AGENTC_LOG_FORMAT", "json", 1);
    unsetenv("AGENTC_LOG_FILE");
    assert_int_equal(agc_log_configure_from_env(ctx), AGC_OK);
    assert_int_equal(agc_log_get_level(ctx), AGC_LOG_DEBUG);
    agc_log(ctx, AGC_LOG_DEBUG, "m", "x");
    assert_int_equal(c.n, 1);
    assert_int_equal(c.lines[0][0], '{');
    setenv("AGENTC_LOG_LEVEL", "loud", 1);
    assert_int_equal(agc_log_configure_from_env(ctx), AGC_EINVAL);
    char buf[512];
    agc_error_format(ctx, buf, sizeof buf);
    assert_non_null(strstr(buf, "AGENTC_LOG_LEVEL"));
    assert_non_null(strstr(buf, "loud"));
    unsetenv("AGENTC_LOG_LEVEL");
    setenv("AGENTC_LOG_FORMAT", "xml", 1);
    assert_int_equal(agc_log_configure_from_env(ctx), AGC_EINVAL);
    unsetenv("AGENTC_LOG_FORMAT");
    agc_log_level lv;
    assert_int_equal(agc_log_level_parse(&lv, "WARNING", ctx), AGC_OK);
    assert_int_equal(lv, AGC_LOG_WARN);
    assert_string_equal(agc_log_level_name(AGC_LOG_TRACE), "trace");
    agc_ctx_free(ctx);
}

static void logging_keeps_the_last_error(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    agc_error_set(ctx, AGC_EIO, "disk", "cannot read x");
    a.fail_at = a.calls + 1; /* the log line cannot be built */
    a.persistent = 1;
    agc_log(ctx, AGC_LOG_ERROR, "m", "while failing");
    a.fail_at = 0;
    assert_int_equal(c.n, 0); /* dropped, not written unredacted */
    assert_int_equal(agc_ctx_last_error(ctx)->code, AGC_EIO);
    assert_string_equal(agc_ctx_errmsg(ctx), "cannot read x");
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void reentrant_fn(agc_log_level level, const char *line, size_t len, void *user)
{
    (void)level;
    (void)line;
    (void)len;
    agc_ctx *ctx = user;
    agc_log(ctx, AGC_LOG_ERROR, "inner", "would recurse");
}

static void logging_from_the_callback_is_ignored(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    assert_int_equal(agc_log_set_callback(ctx, reentrant_fn, ctx), AGC_OK);
    agc_log(ctx, AGC_LOG_ERROR, "outer", "once");
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void over_long_messages_are_cut_and_still_redacted(void **state)
{
    (void)state;
    agc_test_alloc a;
    capture c;
    agc_ctx *ctx = ctx_with_capture(&a, &c);
    char *big = malloc(100001);
    assert_non_null(big);
    memset(big, 'x', 100000);
    big[100000] = '\0';
    memcpy(big, "key sk-abcdefghijklmnop1234 ", 28);
    agc_log(ctx, AGC_LOG_ERROR, "m", "%s", big);
    free(big);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.lines[0], "key [REDACTED] xxx"));
    assert_null(strstr(c.lines[0], "sk-abc"));
    assert_int_equal(agc_ctx_last_error(ctx), NULL); /* the cut left no error behind */
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_level_is_warn),
        cmocka_unit_test(disabled_levels_format_nothing),
        cmocka_unit_test(human_lines_have_time_level_and_module),
        cmocka_unit_test(json_lines_are_compact_objects),
        cmocka_unit_test(secrets_never_reach_the_sink),
        cmocka_unit_test(file_sinks_receive_redacted_lines),
        cmocka_unit_test(configures_from_environment),
        cmocka_unit_test(logging_keeps_the_last_error),
        cmocka_unit_test(logging_from_the_callback_is_ignored),
        cmocka_unit_test(over_long_messages_are_cut_and_still_redacted),
    };
    return cmocka_run_group_tests_name("core_log", tests, NULL, NULL);
}
