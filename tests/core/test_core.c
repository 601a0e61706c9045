/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core: status texts, the error chain, the allocator hook, arena and string builder. */
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"

static void status_texts_are_fixed(void **state)
{
    (void)state;
    assert_string_equal(agc_strerror(AGC_ENOMEM), "out of memory");
    assert_string_equal(agc_status_name(AGC_ESCHEMA), "AGC_ESCHEMA");
    assert_string_equal(agc_strerror((agc_status)-999), "unknown status");
}

static void rejects_unknown_opts_version(void **state)
{
    (void)state;
    agc_ctx_opts o = AGC_CTX_OPTS_INIT;
    o.version = 99;
    agc_ctx *ctx = (agc_ctx *)0x1;
    assert_int_equal(agc_ctx_new(&ctx, &o), AGC_EINVAL);
    assert_null(ctx);
}

static void error_chain_keeps_causes(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_null(agc_ctx_last_error(ctx));
    assert_string_equal(agc_ctx_errmsg(ctx), "");
    assert_int_equal(agc_error_set(ctx, AGC_EIO, "test", "cannot open %s", "x.yaml"), AGC_EIO);
    assert_int_equal(agc_error_wrap(ctx, AGC_OK, "config", "loading agent"), AGC_EIO);
    const agc_error *e = agc_ctx_last_error(ctx);
    assert_non_null(e);
    assert_string_equal(e->message, "loading agent");
    assert_string_equal(e->module, "config");
    assert_non_null(e->cause);
    assert_string_equal(e->cause->message, "cannot open x.yaml");
    assert_null(e->cause->cause);
    char buf[128];
    assert_string_equal(agc_error_format(ctx, buf, sizeof buf),
                        "loading agent: cannot open x.yaml");
    /* a deep chain keeps the newest 8 and stays consistent */
    for (int i = 0; i < 20; i++)
        agc_error_wrap(ctx, AGC_EPARSE, "t", "level %d", i);
    int depth = 0;
    for (e = agc_ctx_last_error(ctx); e; e = e->cause)
        depth++;
    assert_int_equal(depth, 8);
    assert_string_equal(agc_ctx_errmsg(ctx), "level 19");
    /* a message may quote the previous one */
    agc_error_set(ctx, AGC_EINVAL, "t", "again: %s", agc_ctx_errmsg(ctx));
    assert_string_equal(agc_ctx_errmsg(ctx), "again: level 19");
    agc_error_clear(ctx);
    assert_null(agc_ctx_last_error(ctx));
    agc_ctx_free(ctx);
}

static void long_messages_are_cut_not_overflowed(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    agc_error_set(ctx, AGC_EINVAL, "t", "%s", big);
    assert_true(strlen(agc_ctx_errmsg(ctx)) < 1024);
    agc_ctx_free(ctx);
}

static void allocator_hook_sees_every_block(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    long base = a.live;
    char *s = agc_strdup(ctx, "hello");
    char *t = agc_sprintf(ctx, "%s-%d", s, 42);
    assert_string_equal(t, "hello-42");
    assert_int_equal(a.live, base + 2);
    s = agc_realloc(ctx, s, 1000);
    assert_non_null(s);
    assert_string_equal(s, "hello");
    agc_free(ctx, s);
    agc_free(ctx, t);
    agc_free(ctx, NULL);
    assert_int_equal(a.live, base);
    a.fail_at = a.calls + 1;
    assert_null(agc_malloc(ctx, 10));
    assert_int_equal(agc_ctx_last_error(ctx)->code, AGC_ENOMEM);
    assert_null(agc_calloc(ctx, SIZE_MAX / 2, 4));
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void arena_allocates_aligned_and_resets(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_arena *ar = NULL;
    assert_int_equal(agc_arena_new(&ar, 0, ctx), AGC_OK);
    for (int i = 0; i < 1000; i++) {
        void *p = agc_arena_alloc(ar, (size_t)(i % 37) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    }
    char *big = agc_arena_alloc(ar, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    assert_string_equal(agc_arena_sprintf(ar, "%d-%s", 7, "x"), "7-x");
    assert_string_equal(agc_arena_strdup(ar, "dup"), "dup");
    assert_true(agc_arena_used(ar) > 100000);
    agc_arena_reset(ar);
    assert_int_equal(agc_arena_used(ar), 0);
    assert_non_null(agc_arena_alloc(ar, 10));
    agc_arena_free(ar);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void arena_cap_is_an_error(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_arena *ar = NULL;
    assert_int_equal(agc_arena_new(&ar, 8192, ctx), AGC_OK);
    assert_non_null(agc_arena_alloc(ar, 4000));
    assert_null(agc_arena_alloc(ar, 10000));
    assert_int_equal(agc_ctx_last_error(ctx)->code, AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "arena limit"));
    agc_arena_free(ar);
    agc_ctx_free(ctx);
}

static void buf_appends_and_caps(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_buf b;
    agc_buf_init(&b, ctx, 16);
    assert_string_equal(agc_buf_cstr(&b), "");
    assert_int_equal(agc_buf_puts(&b, "hello"), AGC_OK);
    assert_int_equal(agc_buf_printf(&b, " %d", 12345), AGC_OK);
    assert_string_equal(agc_buf_cstr(&b), "hello 12345");
    assert_int_equal(agc_buf_puts(&b, " too long!"), AGC_ELIMIT);
    assert_string_equal(agc_buf_cstr(&b), "hello 12345"); /* unchanged */
    assert_int_equal(agc_buf_putc(&b, '!'), AGC_OK);
    size_t len = 0;
    char *s = agc_buf_detach(&b, &len);
    assert_string_equal(s, "hello 12345!");
    assert_int_equal(len, 12);
    assert_int_equal(b.len, 0);
    agc_free(ctx, s);
    agc_buf_free(&b);
    agc_ctx_free(ctx);
}

static agc_status sweep_buf_arena(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_arena *ar = NULL;
    agc_status st = agc_arena_new(&ar, 0, ctx);
    for (int i = 0; st == AGC_OK && i < 200; i++) {
        st = agc_buf_printf(&b, "line %d\n", i);
        if (st == AGC_OK && !agc_arena_alloc(ar, 300))
            st = agc_ctx_last_error(ctx)->code;
    }
    agc_arena_free(ar);
    agc_buf_free(&b);
    return st;
}

static void buf_and_arena_survive_every_oom(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(sweep_buf_arena, NULL, 0) > 10);
}

static void manual_clock_moves_only_when_told(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    assert_true(agc_clock_now_ms(ctx) > 1700000000000LL);
    agc_manual_clock mc = {.now_ms = 1000, .mono_ns = 5};
    agc_ctx_set_clock(ctx, &agc_manual_clock_ops, &mc);
    assert_int_equal(agc_clock_now_ms(ctx), 1000);
    agc_clock_sleep_ms(ctx, 2500);
    assert_int_equal(agc_clock_now_ms(ctx), 3500);
    assert_int_equal(mc.slept_ms, 2500);
    char ts[32];
    assert_string_equal(agc_time_format_rfc3339(1795444185123LL, ts, sizeof ts),
                        "2026-11-23T14:29:45.123Z");
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_texts_are_fixed),
        cmocka_unit_test(rejects_unknown_opts_version),
        cmocka_unit_test(error_chain_keeps_causes),
        cmocka_unit_test(long_messages_are_cut_not_overflowed),
        cmocka_unit_test(allocator_hook_sees_every_block),
        cmocka_unit_test(arena_allocates_aligned_and_resets),
        cmocka_unit_test(arena_cap_is_an_error),
        cmocka_unit_test(buf_appends_and_caps),
        cmocka_unit_test(buf_and_arena_survive_every_oom),
        cmocka_unit_test(manual_clock_moves_only_when_told),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
