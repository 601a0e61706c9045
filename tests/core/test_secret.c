/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of agc_secret: construction from env, file, reference and bytes;
 * actionable messages that never contain the value; registration with the
 * redactor for exactly the secret's lifetime; permission warnings; OOM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "agentc/secret.h"

static bool redacts(agc_ctx *ctx, const char *text)
{
    return agc_redact_would_change(text, strlen(text), ctx);
}

static void reads_env_and_registers_for_redaction(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    setenv("AGC_TEST_KEY", "k-0123456789", 1);
    agc_secret *s = NULL;
    assert_int_equal(agc_secret_from_env(&s, "AGC_TEST_KEY", ctx), AGC_OK);
    size_t n = 0;
    assert_string_equal(agc_secret_reveal(s, &n), "k-0123456789");
    assert_int_equal(n, 12);
    assert_string_equal(agc_secret_source(s), "env:AGC_TEST_KEY");
    assert_true(redacts(ctx, "value k-0123456789 here"));
    agc_secret_free(s);
    assert_false(redacts(ctx, "value k-0123456789 here"));
    agc_secret_free(NULL);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void unset_and_empty_env_say_what_to_do(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_secret *s = (agc_secret *)1;
    unsetenv("AGC_TEST_MISSING");
    assert_int_equal(agc_secret_from_env(&s, "AGC_TEST_MISSING", ctx), AGC_ENOTFOUND);
    assert_null(s);
    assert_string_equal(agc_ctx_errmsg(ctx), "AGC_TEST_MISSING is unset; export it");
    setenv("AGC_TEST_EMPTY", "", 1);
    assert_int_equal(agc_secret_from_env(&s, "AGC_TEST_EMPTY", ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "AGC_TEST_EMPTY is empty"));
    setenv("AGC_TEST_SHORT", "abc", 1);
    assert_int_equal(agc_secret_from_env(&s, "AGC_TEST_SHORT", ctx), AGC_EINVAL);
    assert_null(strstr(agc_ctx_errmsg(ctx), "abc"));
    assert_int_equal(agc_secret_from_env(&s, "BAD-NAME", ctx), AGC_EINVAL);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void warn_capture(agc_log_level level, const char *line, size_t len, void *user)
{
    (void)level;
    (void)len;
    snprintf(user, 512, "%s", line);
}

static void reads_files_trimming_newlines_and_warns_on_loose_modes(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char warned[512] = "";
    assert_int_equal(agc_log_set_callback(ctx, warn_capture, warned), AGC_OK);
    char *dir = agc_test_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/key", dir);
    agc_test_write_file(path, "file-secret-1\r\n");
    chmod(path, 0600);
    agc_secret *s = NULL;
    assert_int_equal(agc_secret_from_file(&s, path, ctx), AGC_OK);
    assert_string_equal(agc_secret_reveal(s, NULL), "file-secret-1");
    assert_string_equal(warned, "");
    agc_secret_free(s);

    chmod(path, 0644);
    char ref[1100];
    snprintf(ref, sizeof ref, "file:%s", path);
    assert_int_equal(agc_secret_from_ref(&s, ref, ctx), AGC_OK);
    assert_string_equal(agc_secret_source(s), ref);
    assert_non_null(strstr(warned, "chmod 600"));
    assert_non_null(strstr(warned, path));
    assert_null(strstr(warned, "file-secret-1"));
    agc_secret_free(s);

    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(agc_secret_from_file(&s, path, ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), path));
    snprintf(path, sizeof path, "%s/empty", dir);
    agc_test_write_file(path, "\n");
    assert_int_equal(agc_secret_from_file(&s, path, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "empty"));
    agc_test_rmtree(dir);
    free(dir);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void inline_values_are_refused_without_echo(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_secret *s = NULL;
    assert_int_equal(agc_secret_from_ref(&s, "sk-pasted-key-123456789", ctx), AGC_EINVAL);
    assert_null(s);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "by reference"));
    assert_null(strstr(agc_ctx_errmsg(ctx), "pasted"));
    assert_int_equal(agc_secret_from_ref(&s, NULL, ctx), AGC_EINVAL);
    assert_true(agc_secret_ref_valid("env:OPENAI_API_KEY"));
    assert_true(agc_secret_ref_valid("file:/run/secrets/key"));
    assert_false(agc_secret_ref_valid("env:"));
    assert_false(agc_secret_ref_valid("env:1X"));
    assert_false(agc_secret_ref_valid("file:"));
    assert_false(agc_secret_ref_valid("sk-abc"));
    agc_ctx_free(ctx);
}

static void copies_bytes_and_refcounts_duplicates(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_secret *s1 = NULL, *s2 = NULL;
    char buf[] = "same-bytes";
    assert_int_equal(agc_secret_from_bytes(&s1, buf, 10, "keyring:x", ctx), AGC_OK);
    assert_int_equal(agc_secret_from_bytes(&s2, buf, 10, NULL, ctx), AGC_OK);
    memset(buf, 0, sizeof buf);
    assert_string_equal(agc_secret_reveal(s1, NULL), "same-bytes");
    assert_string_equal(agc_secret_source(s2), "bytes");
    agc_secret_free(s1);
    assert_true(redacts(ctx, "x same-bytes")); /* s2 still holds it */
    agc_secret_free(s2);
    assert_false(redacts(ctx, "x same-bytes"));
    assert_int_equal(agc_secret_from_bytes(&s1, "ab", 2, NULL, ctx), AGC_EINVAL);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static agc_status sweep_env(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_secret *s = NULL;
    agc_status st = agc_secret_from_ref(&s, "env:AGC_TEST_KEY", ctx);
    if (st != AGC_OK)
        return st;
    char *out = NULL;
    st = agc_redact(&out, NULL, "k k-0123456789", 14, ctx);
    if (st == AGC_OK)
        assert_string_equal(out, "k [REDACTED]");
    agc_free(ctx, out);
    agc_secret_free(s);
    return st;
}

static void out_of_memory_fails_cleanly(void **state)
{
    (void)state;
    setenv("AGC_TEST_KEY", "k-0123456789", 1);
    assert_true(agc_test_oom_sweep(sweep_env, NULL, 0) > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_env_and_registers_for_redaction),
        cmocka_unit_test(unset_and_empty_env_say_what_to_do),
        cmocka_unit_test(reads_files_trimming_newlines_and_warns_on_loose_modes),
        cmocka_unit_test(inline_values_are_refused_without_echo),
        cmocka_unit_test(copies_bytes_and_refcounts_duplicates),
        cmocka_unit_test(out_of_memory_fails_cleanly),
    };
    return cmocka_run_group_tests_name("core_secret", tests, NULL, NULL);
}
