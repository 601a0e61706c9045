/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core json: strict parsing with positions, JSON Pointer, canonical form, OOM. */
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/json.h"

static agc_ctx *new_ctx(void)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    return ctx;
}

static void parse_errors_name_line_and_column(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *v = NULL;
    const char *bad = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    assert_int_equal(agc_json_parse(&v, bad, strlen(bad), "cfg.json", ctx), AGC_EPARSE);
    assert_null(v);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "cfg.json:3:"));
    const char *dup = "{\"a\":1,\"a\":2}";
    assert_int_equal(agc_json_parse(&v, dup, strlen(dup), NULL, ctx), AGC_EPARSE);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "<input>:1:"));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "duplicate"));
    const char *trailing = "[1] x";
    assert_int_equal(agc_json_parse(&v, trailing, strlen(trailing), "t", ctx), AGC_EPARSE);
    const char *badutf8 = "\"\xff\"";
    assert_int_equal(agc_json_parse(&v, badutf8, strlen(badutf8), "t", ctx), AGC_EPARSE);
    assert_int_equal(agc_json_parse(&v, "42", 2, "t", ctx), AGC_OK);
    assert_true(json_is_integer(v));
    json_decref(v);
    agc_ctx_free(ctx);
}

static void load_file_reports_missing_path(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *v = NULL;
    assert_int_equal(agc_json_load_file(&v, "/nonexistent/x.json", ctx), AGC_EIO);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/nonexistent/x.json"));
    agc_ctx_free(ctx);
}

static void pointer_get_follows_rfc6901(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    const char *doc =
        "{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"m~n\":8,\"k\":{\"0\":9}}";
    json_t *v = NULL;
    assert_int_equal(agc_json_parse(&v, doc, strlen(doc), NULL, ctx), AGC_OK);
    assert_ptr_equal(agc_json_pointer_get(v, ""), v);
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/foo/0")), "bar");
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/")), 0);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/a~1b")), 1);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/c%d")), 2);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/m~0n")), 8);
    assert_int_equal(json_integer_value(agc_json_pointer_get(v, "/k/0")), 9);
    assert_null(agc_json_pointer_get(v, "/foo/01"));
    assert_null(agc_json_pointer_get(v, "/foo/2"));
    assert_null(agc_json_pointer_get(v, "/foo/-"));
    assert_null(agc_json_pointer_get(v, "foo"));
    assert_null(agc_json_pointer_get(v, "/m~2n"));
    assert_int_equal(agc_json_pointer_check("/a~2", ctx), AGC_EINVAL);
    json_decref(v);
    agc_ctx_free(ctx);
}

static void pointer_set_creates_and_appends(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *v = json_object();
    assert_int_equal(agc_json_pointer_set(v, "/provider/model", json_string("m"), ctx), AGC_OK);
    assert_string_equal(json_string_value(agc_json_pointer_get(v, "/provider/model")), "m");
    assert_int_equal(agc_json_pointer_set(v, "/list", json_array(), ctx), AGC_OK);
    assert_int_equal(agc_json_pointer_set(v, "/list/-", json_integer(1), ctx), AGC_OK);
    assert_int_equal(agc_json_pointer_set(v, "/list/1", json_integer(2), ctx), AGC_OK);
    assert_int_equal(agc_json_pointer_set(v, "/list/0", json_integer(0), ctx), AGC_OK);
    assert_int_equal(json_array_size(agc_json_pointer_get(v, "/list")), 2);
    assert_int_equal(agc_json_pointer_set(v, "/list/5", json_integer(1), ctx), AGC_EINVAL);
    assert_int_equal(agc_json_pointer_set(v, "/provider/model/x", json_true(), ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "cannot descend into a string"));
    assert_int_equal(agc_json_pointer_set(v, "", json_true(), ctx), AGC_EINVAL);
    json_decref(v);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    assert_int_equal(agc_json_pointer_append(&b, "a/b~c"), AGC_OK);
    assert_string_equal(agc_buf_cstr(&b), "/a~1b~0c");
    agc_buf_free(&b);
    agc_ctx_free(ctx);
}

static void canonical_form_is_sorted_and_compact(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    const char *a = "{ \"b\": [1, 2.5, {\"z\":null,\"a\":true}], \"a\": \"x\\u00e9\\n\\\"\", "
                    "\"c\": 0.1, \"d\": 1e300, \"e\": 3.0, \"f\": -0.0 }";
    const char *b = "{\"f\":-0.0,\"e\":3.0,\"d\":1e300,\"c\":0.1,\"a\":\"x\xc3\xa9\\n\\\"\","
                    "\"b\":[1,2.5,{\"a\":true,\"z\":null}]}";
    json_t *va = NULL, *vb = NULL;
    assert_int_equal(agc_json_parse(&va, a, strlen(a), NULL, ctx), AGC_OK);
    assert_int_equal(agc_json_parse(&vb, b, strlen(b), NULL, ctx), AGC_OK);
    char *ca = NULL, *cb = NULL;
    size_t la = 0;
    assert_int_equal(agc_json_canonical(&ca, &la, va, ctx), AGC_OK);
    assert_int_equal(agc_json_canonical(&cb, NULL, vb, ctx), AGC_OK);
    assert_string_equal(ca, cb);
    assert_int_equal(la, strlen(ca));
    assert_string_equal(ca, "{\"a\":\"x\xc3\xa9\\n\\\"\",\"b\":[1,2.5,{\"a\":true,\"z\":null}],"
                            "\"c\":0.1,\"d\":1e+300,\"e\":3.0,\"f\":-0.0}");
    agc_free(ctx, ca);
    agc_free(ctx, cb);
    char *d = NULL;
    assert_int_equal(agc_json_dump(&d, va, JSON_COMPACT | JSON_SORT_KEYS, ctx), AGC_OK);
    assert_non_null(strstr(d, "\"a\":"));
    agc_free(ctx, d);
    json_decref(va);
    json_decref(vb);
    agc_ctx_free(ctx);
}

static void readers_fall_back_to_defaults(void **state)
{
    (void)state;
    agc_ctx *ctx = new_ctx();
    json_t *v = NULL;
    const char *t = "{\"s\":\"x\",\"i\":3,\"r\":1.5,\"b\":true}";
    assert_int_equal(agc_json_parse(&v, t, strlen(t), NULL, ctx), AGC_OK);
    assert_string_equal(agc_json_str(v, "s", "d"), "x");
    assert_string_equal(agc_json_str(v, "i", "d"), "d");
    assert_int_equal(agc_json_int(v, "i", 0), 3);
    assert_true(agc_json_num(v, "r", 0) == 1.5);
    assert_true(agc_json_num(v, "i", 0) == 3.0);
    assert_true(agc_json_bool(v, "b", false));
    assert_false(agc_json_bool(v, "zz", false));
    assert_string_equal(agc_json_type_name(json_object_get(v, "r")), "number");
    json_decref(v);
    agc_ctx_free(ctx);
}

static agc_status sweep_parse(agc_ctx *ctx, void *user)
{
    const char *text = user;
    json_t *v = NULL;
    agc_status st = agc_json_parse(&v, text, strlen(text), "doc", ctx);
    if (st != AGC_OK)
        return st;
    char *c = NULL;
    st = agc_json_canonical(&c, NULL, v, ctx);
    agc_free(ctx, c);
    if (st == AGC_OK)
        st = agc_json_pointer_set(v, "/new/deep/key", json_string("v"), ctx);
    json_decref(v);
    return st;
}

static void parsing_survives_every_oom(void **state)
{
    (void)state;
    const char *text = "{\"name\":\"agent\",\"list\":[1,2,3,{\"k\":\"v\",\"n\":null}],"
                       "\"nested\":{\"a\":{\"b\":{\"c\":[true,false,1.5e3,\"long string value "
                       "that needs its own allocation\"]}}},\"x\":\"\\u00e9\"}";
    long runs = agc_test_oom_sweep(sweep_parse, (void *)text, 0);
    assert_true(runs > 20);
    /* long strings and keys make jansson grow its lexer buffer: a failure there
     * must still be a clean AGC_ENOMEM (jansson 2.14 itself would write out of bounds) */
    const char *longs = "{\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":"
                        "\"Think about it carefully, then think again about the whole long "
                        "question\"},\"a_rather_long_key_name_for_the_lexer\":[\"0123456789abcdef"
                        "0123456789abcdef0123456789abcdef\"]}";
    assert_true(agc_test_oom_sweep(sweep_parse, (void *)longs, 0) > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors_name_line_and_column),
        cmocka_unit_test(load_file_reports_missing_path),
        cmocka_unit_test(pointer_get_follows_rfc6901),
        cmocka_unit_test(pointer_set_creates_and_appends),
        cmocka_unit_test(canonical_form_is_sorted_and_compact),
        cmocka_unit_test(readers_fall_back_to_defaults),
        cmocka_unit_test(parsing_survives_every_oom),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
