/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of ULID-style ids: format, ordering, monotonicity within one
 * millisecond (manual clock), timestamp decoding, typed ids, rejection of
 * malformed ids, random-part overflow (through libsodium's RNG seam) and OOM.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agc_test.h"
#include "agentc/clock.h"
#include "agentc/id.h"

/* ---- RNG seam: delegates to the system RNG unless forced to a fixed fill --- */

static int rng_fill = -1; /* -1: real randomness; else every byte is this value */
static int rng_last = -1; /* when >= 0 and rng_fill >= 0: value of the last byte */

static const char *rng_name(void)
{
    return "agc-test";
}
static uint32_t rng_random(void)
{
    return randombytes_sysrandom_implementation.random();
}
static void rng_stir(void)
{
    randombytes_sysrandom_implementation.stir();
}
static void rng_buf(void *const buf, const size_t size)
{
    if (rng_fill < 0) {
        randombytes_sysrandom_implementation.buf(buf, size);
        return;
    }
    memset(buf, rng_fill, size);
    if (rng_last >= 0 && size > 0)
        ((unsigned char *)buf)[size - 1] = (unsigned char)rng_last;
}
static int rng_close(void)
{
    return 0;
}
static randombytes_implementation test_rng = {rng_name, rng_random, rng_stir,
                                              NULL,     rng_buf,    rng_close};

/* ---- helpers ------------------------------------------------------------ */

static agc_ctx *ctx_with_clock(agc_test_alloc *a, agc_manual_clock *clk, int64_t now)
{
    agc_ctx *ctx = agc_test_ctx_new(a);
    memset(clk, 0, sizeof *clk);
    clk->now_ms = now;
    agc_ctx_set_clock(ctx, &agc_manual_clock_ops, clk);
    return ctx;
}

/* ULID spec example: 01ARYZ6S41 encodes 1469918176385 ms. */
#define SPEC_MS INT64_C(1469918176385)

/* ---- tests ------------------------------------------------------------- */

static void new_id_is_26_canonical_chars(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, SPEC_MS);
    char id[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    assert_int_equal(strlen(id), AGC_ID_LEN);
    assert_memory_equal(id, "01ARYZ6S41", 10);
    for (size_t i = 0; i < AGC_ID_LEN; i++)
        assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", id[i]));
    assert_true(agc_id_valid(id));
    agc_ctx_free(ctx);
}

static void parse_decodes_timestamp(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, 1700000000123);
    int64_t ms = 0;
    assert_int_equal(agc_id_parse(&ms, "01ARYZ6S41TSV4RRFFQ69G5FAV", ctx), AGC_OK);
    assert_int_equal(ms, SPEC_MS);
    char id[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    assert_int_equal(agc_id_parse(&ms, id, ctx), AGC_OK);
    assert_int_equal(ms, 1700000000123);
    /* extremes */
    assert_int_equal(agc_id_parse(&ms, "00000000000000000000000000", ctx), AGC_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(agc_id_parse(&ms, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", ctx), AGC_OK);
    assert_int_equal(ms, AGC_ID_MAX_MS);
    assert_int_equal(agc_id_parse(NULL, "01ARYZ6S41TSV4RRFFQ69G5FAV", ctx), AGC_OK);
    agc_ctx_free(ctx);
}

static void ids_sort_by_time(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, 1000);
    char prev[AGC_ID_SIZE], cur[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(prev, ctx), AGC_OK);
    int64_t steps[] = {1, 7, 1000, 86400000, 31536000000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        agc_manual_clock_advance(&clk, steps[i]);
        assert_int_equal(agc_id_new(cur, ctx), AGC_OK);
        assert_true(strcmp(prev, cur) < 0);
        assert_true(agc_id_compare(prev, cur) < 0);
        assert_true(agc_id_compare(cur, prev) > 0);
        int64_t ms;
        assert_int_equal(agc_id_parse(&ms, cur, ctx), AGC_OK);
        assert_int_equal(ms, clk.now_ms);
        memcpy(prev, cur, sizeof cur);
    }
    agc_ctx_free(ctx);
}

static void ids_in_one_millisecond_increase_strictly(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, SPEC_MS);
    char prev[AGC_ID_SIZE], cur[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(prev, ctx), AGC_OK);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(agc_id_new(cur, ctx), AGC_OK);
        assert_true(strcmp(prev, cur) < 0);
        assert_memory_equal(prev, cur, 10); /* same timestamp */
        memcpy(prev, cur, sizeof cur);
    }
    agc_ctx_free(ctx);
}

static void clock_stepping_back_keeps_ids_increasing(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, 5000);
    char first[AGC_ID_SIZE], second[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(first, ctx), AGC_OK);
    clk.now_ms = 4000;
    assert_int_equal(agc_id_new(second, ctx), AGC_OK);
    assert_true(strcmp(first, second) < 0);
    int64_t ms;
    assert_int_equal(agc_id_parse(&ms, second, ctx), AGC_OK);
    assert_int_equal(ms, 5000);
    agc_ctx_free(ctx);
}

static void random_overflow_in_one_millisecond_is_elimit(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, SPEC_MS);
    rng_fill = 0xFF;
    rng_last = 0xFE;
    char id[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    assert_string_equal(id, "01ARYZ6S41ZZZZZZZZZZZZZZZY");
    assert_int_equal(agc_id_new(id, ctx), AGC_OK); /* the last one of this ms */
    assert_string_equal(id, "01ARYZ6S41ZZZZZZZZZZZZZZZZ");
    assert_int_equal(agc_id_new(id, ctx), AGC_ELIMIT);
    assert_string_equal(id, "");
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "next millisecond"));
    /* the next millisecond works again */
    agc_manual_clock_advance(&clk, 1);
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    rng_fill = -1;
    rng_last = -1;
    agc_ctx_free(ctx);
}

static void increment_carries_across_bytes(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, 0);
    rng_fill = 0x00;
    rng_last = 0xFF;
    char id[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    assert_string_equal(id, "0000000000000000000000007Z");
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    assert_string_equal(id, "00000000000000000000000080");
    rng_fill = -1;
    rng_last = -1;
    agc_ctx_free(ctx);
}

static void clock_outside_range_is_einval(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, -1);
    char id[AGC_ID_SIZE];
    assert_int_equal(agc_id_new(id, ctx), AGC_EINVAL);
    clk.now_ms = AGC_ID_MAX_MS + 1;
    assert_int_equal(agc_id_new(id, ctx), AGC_EINVAL);
    clk.now_ms = AGC_ID_MAX_MS;
    assert_int_equal(agc_id_new(id, ctx), AGC_OK);
    assert_true(id[0] == '7');
    agc_ctx_free(ctx);
}

static void rejects_malformed_ids(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    static const char *bad[] = {
        "",
        "01ARYZ6S41TSV4RRFFQ69G5FA",   /* 25 chars */
        "01ARYZ6S41TSV4RRFFQ69G5FAVX", /* 27 chars */
        "01ARYZ6S41TSV4RRFFQ69G5FAI",  /* I */
        "01ARYZ6S41TSV4RRFFQ69G5FAL",  /* L */
        "01ARYZ6S41TSV4RRFFQ69G5FAO",  /* O */
        "01ARYZ6S41TSV4RRFFQ69G5FAU",  /* U */
        "01aryz6s41tsv4rrffq69g5fav",  /* lower case */
        "01ARYZ6S41TSV4RRFFQ69G5FA-",
        "01ARYZ6S41 SV4RRFFQ69G5FAV",
        "80000000000000000000000000", /* first char > 7: overflow */
        "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "_01ARYZ6S41TSV4RRFFQ69G5FAV",    /* empty prefix */
        "Run_01ARYZ6S41TSV4RRFFQ69G5FAV", /* upper-case prefix */
        "averyveryverylongprefix_01ARYZ6S41TSV4RRFFQ69G5FAV",
        "run_",
        "run_01ARYZ6S41TSV4RRFFQ69G5FA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        assert_int_equal(agc_id_parse(&ms, bad[i], ctx), AGC_EPARSE);
        assert_int_equal(ms, 0);
        assert_non_null(strstr(agc_ctx_errmsg(ctx), "not a valid id"));
        assert_false(agc_id_valid(bad[i]));
        assert_null(agc_id_body(bad[i]));
    }
    assert_int_equal(agc_id_parse(NULL, NULL, ctx), AGC_EPARSE);
    assert_false(agc_id_valid(NULL));
    agc_ctx_free(ctx);
}

static void typed_ids_carry_prefix(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx = ctx_with_clock(&a, &clk, SPEC_MS);
    char id[AGC_ID_TYPED_SIZE];
    assert_int_equal(agc_id_new_typed(id, sizeof id, "run", ctx), AGC_OK);
    assert_int_equal(strlen(id), 4 + AGC_ID_LEN);
    assert_memory_equal(id, "run_01ARYZ6S41", 14);
    int64_t ms;
    assert_int_equal(agc_id_parse(&ms, id, ctx), AGC_OK);
    assert_int_equal(ms, SPEC_MS);
    assert_ptr_equal(agc_id_body(id), id + 4);
    /* longest prefix fits the typed size exactly */
    assert_int_equal(agc_id_new_typed(id, sizeof id, "abcdefghij012345", ctx), AGC_OK);
    assert_int_equal(strlen(id) + 1, AGC_ID_TYPED_SIZE);
    /* typed and bare ids of one stream still sort by creation */
    char bare[AGC_ID_SIZE];
    agc_manual_clock_advance(&clk, 1);
    assert_int_equal(agc_id_new(bare, ctx), AGC_OK);
    assert_true(agc_id_compare(id, bare) < 0);
    assert_true(agc_id_compare(bare, id) > 0);
    assert_int_equal(agc_id_compare(id, id), 0);
    agc_ctx_free(ctx);
}

static void typed_id_rejects_bad_prefix_and_small_buffer(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char id[AGC_ID_TYPED_SIZE];
    static const char *bad[] = {"", "Run", "run_x", "tool-call", "abcdefghij0123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(id, "junk");
        assert_int_equal(agc_id_new_typed(id, sizeof id, bad[i], ctx), AGC_EINVAL);
        assert_string_equal(id, "");
    }
    assert_int_equal(agc_id_new_typed(id, sizeof id, NULL, ctx), AGC_EINVAL);
    assert_int_equal(agc_id_new_typed(id, 30, "run", ctx), AGC_EINVAL); /* needs 31 */
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "AGC_ID_TYPED_SIZE"));
    assert_int_equal(agc_id_new_typed(id, 31, "run", ctx), AGC_OK);
    agc_ctx_free(ctx);
}

static void compare_orders_malformed_as_strings(void **state)
{
    (void)state;
    assert_true(agc_id_compare("abc", "abd") < 0);
    assert_int_equal(agc_id_compare("x", "x"), 0);
}

static agc_status sweep_new_ids(agc_ctx *ctx, void *user)
{
    (void)user;
    char id[AGC_ID_TYPED_SIZE];
    agc_status st = agc_id_new(id, ctx);
    if (st == AGC_OK)
        st = agc_id_new_typed(id, sizeof id, "tool", ctx);
    return st;
}

static void new_id_out_of_memory_fails_cleanly(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(sweep_new_ids, NULL, 0) >= 2);
}

int main(void)
{
    if (randombytes_set_implementation(&test_rng) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_id_is_26_canonical_chars),
        cmocka_unit_test(parse_decodes_timestamp),
        cmocka_unit_test(ids_sort_by_time),
        cmocka_unit_test(ids_in_one_millisecond_increase_strictly),
        cmocka_unit_test(clock_stepping_back_keeps_ids_increasing),
        cmocka_unit_test(random_overflow_in_one_millisecond_is_elimit),
        cmocka_unit_test(increment_carries_across_bytes),
        cmocka_unit_test(clock_outside_range_is_einval),
        cmocka_unit_test(rejects_malformed_ids),
        cmocka_unit_test(typed_ids_carry_prefix),
        cmocka_unit_test(typed_id_rejects_bad_prefix_and_small_buffer),
        cmocka_unit_test(compare_orders_malformed_as_strings),
        cmocka_unit_test(new_id_out_of_memory_fails_cleanly),
    };
    return cmocka_run_group_tests_name("core_id", tests, NULL, NULL);
}
