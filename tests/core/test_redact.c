/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of redaction: registered secrets (exact bytes, reference counted),
 * every built-in credential pattern, PII rules (off by default, validators),
 * custom rules, in-place buffers, and an out-of-memory sweep.
 */
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/redact.h"

static char *red(agc_ctx *ctx, const char *text)
{
    char *out = NULL;
    size_t n = 0;
    assert_int_equal(agc_redact(&out, &n, text, strlen(text), ctx), AGC_OK);
    assert_int_equal(n, strlen(out));
    return out;
}

static void expect(agc_ctx *ctx, const char *in, const char *want)
{
    char *out = red(ctx, in);
    if (strcmp(out, want) != 0)
        fail_msg("redact(%s)\n  got  %s\n  want %s", in, out, want);
    agc_free(ctx, out);
}

static void redacts_registered_secret_everywhere(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    assert_int_equal(agc_redact_add_secret(ctx, "hunter2-pass", 12), AGC_OK);
    expect(ctx, "pw=hunter2-pass and again hunter2-pass.", "pw=[REDACTED] and again [REDACTED].");
    expect(ctx, "nothing here", "nothing here");
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void rejects_secrets_shorter_than_four_bytes(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    assert_int_equal(agc_redact_add_secret(ctx, "abc", 3), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "4 bytes"));
    agc_ctx_free(ctx);
}

static void removing_a_secret_honours_reference_counts(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    assert_int_equal(agc_redact_add_secret(ctx, "shared-value", 12), AGC_OK);
    assert_int_equal(agc_redact_add_secret(ctx, "shared-value", 12), AGC_OK);
    agc_redact_remove_secret(ctx, "shared-value", 12);
    expect(ctx, "x shared-value", "x [REDACTED]");
    agc_redact_remove_secret(ctx, "shared-value", 12);
    expect(ctx, "x shared-value", "x shared-value");
    agc_redact_remove_secret(ctx, "never-added", 11); /* no-op */
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void redacts_builtin_credential_patterns(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    expect(ctx, "Authorization: Bearer abcdef0123456789.xyz", "Authorization: Bearer [REDACTED]");
    expect(ctx, "authorization: bearer abcdefghijkl==", "authorization: bearer [REDACTED]");
    expect(ctx, "key sk-abcdefghijklmnop1234 end", "key [REDACTED] end");
    expect(ctx, "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789", "[REDACTED]");
    expect(ctx, "x=sk-ant-api03-AbCdEfGhIjKlMnOpQrSt-uvwxyz", "x=[REDACTED]");
    expect(ctx, "id AKIAIOSFODNN7EXAMPLE,", "id [REDACTED],");
    expect(ctx, "id ASIAIOSFODNN7EXAMPLE", "id [REDACTED]");
    expect(ctx, "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "aws_secret_access_key = [REDACTED]");
    expect(ctx, "AWS_SECRET_ACCESS_KEY=\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
           "AWS_SECRET_ACCESS_KEY=\"[REDACTED]\"");
    expect(ctx, "tok ghp_0123456789abcdefghijABCDEFGHIJ012345", "tok [REDACTED]");
    expect(ctx, "gho_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]");
    expect(ctx, "ghs_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]");
    expect(ctx, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[REDACTED]");
    expect(ctx, "slack xoxb-1234567890-abcdefghij", "slack [REDACTED]");
    expect(ctx, "xoxp-1234567890-abcdefghij", "[REDACTED]");
    expect(ctx, "g AIzaSyA-0123456789abcdefghijklmnopqrstu end", "g [REDACTED] end");
    expect(ctx,
           "jwt "
           "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
           "XgL0n3I9PlFUP0THsR8U ok",
           "jwt [REDACTED] ok");
    expect(ctx,
           "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc/def+\n-----END RSA "
           "PRIVATE KEY-----\nafter",
           "before\n[REDACTED]\nafter");
    expect(ctx,
           "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n-----END OPENSSH PRIVATE KEY-----",
           "[REDACTED]");
    expect(ctx, "cut -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
           "cut [REDACTED]");
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void leaves_ordinary_text_alone(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *plain[] = {
        "The bearer of this letter is welcome.",
        "task-12345 ask-me skip sk-short",
        "2026-11-23T14:49:45.123Z WARN  config: /provider/model: must be string",
        "mail bob@example.com, call +1 415 555 0100, card 4111 1111 1111 1111",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYH\n-----END PUBLIC KEY-----",
        "",
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        expect(ctx, plain[i], plain[i]);
        assert_false(agc_redact_would_change(plain[i], strlen(plain[i]), ctx));
    }
    assert_true(agc_redact_would_change("sk-abcdefghijklmnop1234", 23, ctx));
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void pii_rules_are_off_until_enabled(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *in = "mail bob.smith@example.co.uk call +44 20 7946 0958 card 4111-1111-1111-1111 "
                     "not 4111-1111-1111-1112 iban GB82 WEST 1234 5698 7654 32 bad GB82 WEST 1234 "
                     "5698 7654 33";
    expect(ctx, in, in);
    assert_int_equal(agc_redact_enable_pii(ctx, true), AGC_OK);
    expect(ctx, in,
           "mail [REDACTED] call [REDACTED] card [REDACTED] not 4111-1111-1111-1112 iban "
           "[REDACTED] bad GB82 WEST 1234 5698 7654 33");
    assert_true(agc_redact_hits(ctx, "email") >= 1);
    assert_int_equal(agc_redact_hits(ctx, "credit_card"), 1);
    assert_int_equal(agc_redact_enable(ctx, "email", false), AGC_OK);
    expect(ctx, "bob@example.com", "bob@example.com");
    assert_int_equal(agc_redact_enable(ctx, "no_such_rule", true), AGC_ENOTFOUND);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void validators_check_luhn_and_iban(void **state)
{
    (void)state;
    assert_true(agc_redact_luhn_valid("4111111111111111", 16));
    assert_true(agc_redact_luhn_valid("4111 1111 1111 1111", 19));
    assert_false(agc_redact_luhn_valid("4111111111111112", 16));
    assert_false(agc_redact_luhn_valid("1234", 4));
    assert_true(agc_redact_iban_valid("DE89370400440532013000", 22));
    assert_true(agc_redact_iban_valid("GB82 WEST 1234 5698 7654 32", 27));
    assert_false(agc_redact_iban_valid("DE89370400440532013001", 22));
}

static bool only_even(const char *m, size_t len, void *user)
{
    (void)user;
    return (m[len - 1] - '0') % 2 == 0;
}

static void custom_rules_with_names_and_validators(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    assert_int_equal(agc_redact_add_pattern(ctx, "ticket", "TICKET-[0-9]+"), AGC_OK);
    agc_redact_rule r = AGC_REDACT_RULE_INIT;
    r.name = "even";
    r.pattern = "\\bN[0-9]+\\b";
    r.validate = only_even;
    assert_int_equal(agc_redact_add_rule(ctx, &r), AGC_OK);
    expect(ctx, "TICKET-42 N12 N13", "[REDACTED] [REDACTED] N13");
    assert_int_equal(agc_redact_hits(ctx, "ticket"), 1);
    assert_int_equal(agc_redact_add_pattern(ctx, "ticket", "x"), AGC_EINVAL);
    assert_int_equal(agc_redact_add_pattern(ctx, "broken", "(unclosed"), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "broken"));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "offset"));
    r.version = 99;
    assert_int_equal(agc_redact_add_rule(ctx, &r), AGC_EINVAL);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void overlapping_matches_merge_into_one(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    /* the registered value overlaps the sk- pattern match */
    assert_int_equal(agc_redact_add_secret(ctx, "mnop1234 tail", 13), AGC_OK);
    expect(ctx, "k=sk-abcdefghijklmnop1234 tail!", "k=[REDACTED]!");
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void redacts_buffers_in_place(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    assert_int_equal(agc_buf_puts(&b, "token: Bearer abcdefghijklmnop"), AGC_OK);
    assert_int_equal(agc_redact_buf(&b, ctx), AGC_OK);
    assert_string_equal(agc_buf_cstr(&b), "token: Bearer [REDACTED]");
    assert_int_equal(b.len, strlen("token: Bearer [REDACTED]"));
    assert_int_equal(agc_buf_puts(&b, " more"), AGC_OK); /* still a usable buffer */
    assert_string_equal(agc_buf_cstr(&b), "token: Bearer [REDACTED] more");
    agc_buf_free(&b);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static agc_status sweep_redact(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_status st = agc_redact_add_secret(ctx, "my-secret-value", 15);
    if (st != AGC_OK)
        return st;
    if ((st = agc_redact_add_pattern(ctx, "ticket", "TICKET-[0-9]+")) != AGC_OK)
        return st;
    if ((st = agc_redact_enable_pii(ctx, true)) != AGC_OK)
        return st;
    const char *in = "a my-secret-value b sk-abcdefghijklmnop1234 TICKET-7 bob@example.com "
                     "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----";
    char *out = NULL;
    if ((st = agc_redact(&out, NULL, in, strlen(in), ctx)) != AGC_OK)
        return st;
    bool ok = strstr(out, "my-secret") == NULL && strstr(out, "sk-") == NULL &&
              strstr(out, "TICKET") == NULL && strstr(out, "bob@") == NULL;
    agc_free(ctx, out);
    assert_true(ok);
    return AGC_OK;
}

static void out_of_memory_fails_cleanly(void **state)
{
    (void)state;
    long runs = agc_test_oom_sweep(sweep_redact, NULL, 0);
    assert_true(runs > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redacts_registered_secret_everywhere),
        cmocka_unit_test(rejects_secrets_shorter_than_four_bytes),
        cmocka_unit_test(removing_a_secret_honours_reference_counts),
        cmocka_unit_test(redacts_builtin_credential_patterns),
        cmocka_unit_test(leaves_ordinary_text_alone),
        cmocka_unit_test(pii_rules_are_off_until_enabled),
        cmocka_unit_test(validators_check_luhn_and_iban),
        cmocka_unit_test(custom_rules_with_names_and_validators),
        cmocka_unit_test(overlapping_matches_merge_into_one),
        cmocka_unit_test(redacts_buffers_in_place),
        cmocka_unit_test(out_of_memory_fails_cleanly),
    };
    return cmocka_run_group_tests_name("core_redact", tests, NULL, NULL);
}
