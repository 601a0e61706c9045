/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Unit tests of the JSON Schema validator: error records and messages,
 * compile errors (malformed keywords, unresolvable $ref), numeric and
 * Unicode semantics, formats, the built-in meta-schemas, the resolver
 * callback, the recursion guard, concurrent validation from 4 threads and an
 * out-of-memory sweep over compile + validate. The full official suite is in
 * test_schema_suite.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "agentc/schema.h"

/* ---- helpers --------------------------------------------------------------------------- */

static json_t *parse(agc_ctx *ctx, const char *text)
{
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, text, strlen(text), "test", ctx), AGC_OK);
    return j;
}

static void drop(agc_ctx *ctx, json_t *j)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(j);
    agc_json_leave(prev);
}

static agc_schema *compile_ok(agc_ctx *ctx, const char *text, const agc_schema_opts *opts)
{
    agc_schema *s = NULL;
    agc_status st = agc_schema_compile_text(&s, text, strlen(text), "test", opts, ctx);
    if (st != AGC_OK)
        fprintf(stderr, "compile failed: %s\n", agc_ctx_errmsg(ctx));
    assert_int_equal(st, AGC_OK);
    return s;
}

/* Validates instance text; returns the status, leaves the result in *res when res != NULL. */
static agc_status check(agc_ctx *ctx, const agc_schema *s, const char *inst,
                        agc_schema_result **res)
{
    json_t *j = parse(ctx, inst);
    agc_status st = agc_schema_validate(res, s, j, ctx);
    drop(ctx, j);
    return st;
}

static void expect_msg(const char *schema, const char *inst, const char *msg)
{
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_schema *s = compile_ok(ctx, schema, NULL);
    assert_int_equal(check(ctx, s, inst, NULL), AGC_ESCHEMA);
    if (strcmp(agc_ctx_errmsg(ctx), msg) != 0)
        fprintf(stderr, "got \"%s\", want \"%s\"\n", agc_ctx_errmsg(ctx), msg);
    assert_string_equal(agc_ctx_errmsg(ctx), msg);
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static bool is_valid(const char *schema, const char *inst, bool format_assert)
{
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_schema_opts o = AGC_SCHEMA_OPTS_INIT;
    o.format_assert = format_assert;
    agc_schema *s = compile_ok(ctx, schema, &o);
    agc_status st = check(ctx, s, inst, NULL);
    assert_true(st == AGC_OK || st == AGC_ESCHEMA);
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
    return st == AGC_OK;
}

static const char nested[] = "{\"type\":\"object\",\"properties\":{\"args\":{\"type\":\"object\","
                             "\"properties\":{\"path\":{\"type\":\"string\"}},"
                             "\"required\":[\"path\"]}}}";

/* ---- error records ------------------------------------------------------------------------ */

static void reports_instance_path_keyword_and_schema_path(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_schema *s = compile_ok(ctx, nested, NULL);
    agc_schema_result *r = NULL;
    assert_int_equal(check(ctx, s, "{\"args\":{\"path\":5}}", &r), AGC_ESCHEMA);
    assert_string_equal(agc_ctx_errmsg(ctx), "/args/path: must be string");
    assert_non_null(r);
    assert_false(r->valid);
    assert_int_equal(r->count, 1);
    assert_false(r->truncated);
    assert_string_equal(r->errors[0].instance_path, "/args/path");
    assert_string_equal(r->errors[0].keyword, "type");
    assert_string_equal(r->errors[0].schema_path, "/properties/args/properties/path/type");
    assert_string_equal(r->errors[0].message, "must be string");
    agc_schema_result_free(r, ctx);
    r = NULL;
    assert_int_equal(check(ctx, s, "{\"args\":{\"path\":\"/tmp\"}}", &r), AGC_OK);
    assert_true(r->valid);
    assert_int_equal(r->count, 0);
    agc_schema_result_free(r, ctx);
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void messages_name_the_failed_constraint(void **state)
{
    (void)state;
    expect_msg(nested, "{\"args\":{}}", "/args: must have required property 'path'");
    expect_msg("{\"pattern\":\"^a\"}", "\"b\"", "(root): must match pattern \"^a\"");
    expect_msg("{\"type\":[\"string\",\"null\"]}", "1", "(root): must be null or string");
    expect_msg("{\"minimum\":5}", "4", "(root): must be >= 5");
    expect_msg("{\"exclusiveMaximum\":2.5}", "2.5", "(root): must be < 2.5");
    expect_msg("{\"maxLength\":2}", "\"abc\"", "(root): must NOT have more than 2 characters");
    expect_msg("{\"enum\":[1,2]}", "3", "(root): must be equal to one of the allowed values");
    expect_msg("{\"additionalProperties\":false,\"properties\":{\"a\":true}}",
               "{\"a\":1,\"b~/\":2}", "(root): must NOT have additional property 'b~/'");
    expect_msg("{\"properties\":{\"a/b\":{\"type\":\"string\"}}}", "{\"a/b\":1}",
               "/a~1b: must be string");
    expect_msg("{\"items\":{\"type\":\"integer\"}}", "[1,\"x\"]", "/1: must be integer");
    expect_msg("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}", "null",
               "(root): must be string");
    expect_msg("{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}", "1",
               "(root): must match exactly one schema in oneOf (schemas 0 and 1 both match)");
    expect_msg("{\"not\":{\"type\":\"string\"}}", "\"x\"", "(root): must NOT be valid");
    expect_msg("{\"unevaluatedProperties\":false,\"allOf\":[{\"properties\":{\"a\":true}}]}",
               "{\"a\":1,\"b\":2}", "(root): must NOT have unevaluated property 'b'");
    expect_msg("{\"dependentRequired\":{\"a\":[\"b\"]}}", "{\"a\":1}",
               "(root): must have property 'b' when property 'a' is present");
    expect_msg("{\"uniqueItems\":true}", "[1,2,1.0]",
               "(root): must NOT have duplicate items (items 0 and 2 are identical)");
    expect_msg("false", "1", "(root): boolean schema is false");
}

static void caps_errors_at_max_errors(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_schema_opts o = AGC_SCHEMA_OPTS_INIT;
    o.max_errors = 2;
    agc_schema *s = compile_ok(ctx, "{\"items\":{\"type\":\"string\"}}", &o);
    agc_schema_result *r = NULL;
    assert_int_equal(check(ctx, s, "[1,2,3,4,5]", &r), AGC_ESCHEMA);
    assert_int_equal(r->count, 2);
    assert_true(r->truncated);
    assert_string_equal(r->errors[1].instance_path, "/1");
    agc_schema_result_free(r, ctx);
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

/* ---- compile errors ----------------------------------------------------------------------- */

static void rejects_malformed_keyword_naming_its_location(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *text = "{\"properties\":{\"a\":{\"type\":5}}}";
    agc_schema *s = NULL;
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx), AGC_EINVAL);
    assert_null(s);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "#/properties/a/type"));
    text = "{\"pattern\":\"(\"}";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "#/pattern"));
    text = "{\"minLength\":-1}";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx), AGC_EINVAL);
    text = "{\"allOf\":[]}";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx), AGC_EINVAL);
    text = "5";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx), AGC_EINVAL);
    agc_schema_opts o = AGC_SCHEMA_OPTS_INIT;
    o.version = 99;
    text = "{}";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", &o, ctx), AGC_EINVAL);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void unresolvable_ref_is_not_found_naming_the_uri(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *text = "{\"properties\":{\"x\":{\"$ref\":\"http://example.com/missing.json\"}}}";
    agc_schema *s = NULL;
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx),
                     AGC_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "http://example.com/missing.json"));
    text = "{\"$ref\":\"#/$defs/nope\"}";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx),
                     AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "#/$defs/nope"));
    text = "{\"$ref\":\"#nope\"}";
    assert_int_equal(agc_schema_compile_text(&s, text, strlen(text), "t", NULL, ctx),
                     AGC_ENOTFOUND);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void infinite_ref_loop_is_a_limit_not_a_crash(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_schema *s =
        compile_ok(ctx,
                   "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}},"
                   "\"$ref\":\"#/$defs/a\"}",
                   NULL);
    agc_schema_result *r = NULL;
    assert_int_equal(check(ctx, s, "1", &r), AGC_ELIMIT);
    assert_null(r);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "$ref"));
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

/* ---- semantics --------------------------------------------------------------------------- */

static void numbers_compare_by_value(void **state)
{
    (void)state;
    assert_true(is_valid("{\"type\":\"integer\"}", "1.0", false));
    assert_false(is_valid("{\"type\":\"integer\"}", "1.5", false));
    assert_true(is_valid("{\"enum\":[1]}", "1.0", false));
    assert_true(is_valid("{\"const\":{\"a\":[2]}}", "{\"a\":[2.0]}", false));
    assert_true(is_valid("{\"multipleOf\":0.01}", "19.99", false));
    assert_false(is_valid("{\"multipleOf\":0.01}", "19.991", false));
    assert_true(is_valid("{\"maximum\":9007199254740993}", "9007199254740992", false));
    assert_false(is_valid("{\"maximum\":9007199254740992}", "9007199254740993", false));
}

static void string_length_counts_code_points(void **state)
{
    (void)state;
    assert_true(is_valid("{\"maxLength\":2}", "\"\xc3\xa9\xc3\xa9\"", false));
    assert_false(is_valid("{\"maxLength\":2}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", false));
    assert_true(is_valid("{\"minLength\":1}", "\"\xf0\x9f\x98\x80\"", false));
}

static void format_is_annotation_unless_asserted(void **state)
{
    (void)state;
    assert_true(is_valid("{\"format\":\"date\"}", "\"2020-13-01\"", false));
    assert_false(is_valid("{\"format\":\"date\"}", "\"2020-13-01\"", true));
    assert_true(is_valid("{\"format\":\"date-time\"}", "\"2020-02-29T23:59:60Z\"", true));
    assert_false(is_valid("{\"format\":\"ipv4\"}", "\"1.2.3.04\"", true));
    assert_true(
        is_valid("{\"format\":\"uuid\"}", "\"2eb8aa08-aa98-11ea-b4aa-73b441d16380\"", true));
    assert_false(is_valid("{\"format\":\"regex\"}", "\"(\"", true));
    assert_true(is_valid("{\"format\":\"no-such-format\"}", "\"x\"", true));
}

static void pattern_is_an_unanchored_unicode_search(void **state)
{
    (void)state;
    assert_true(is_valid("{\"pattern\":\"b\"}", "\"abc\"", false));
    assert_true(is_valid("{\"pattern\":\"^\\\\p{Letter}+$\"}", "\"\xc3\xa9t\xc3\xa9\"", false));
    assert_false(is_valid("{\"pattern\":\"^\\\\d$\"}", "\"\xe0\xa7\xaa\"", false));
    assert_true(is_valid("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}}}",
                         "{\"x-a\":\"s\",\"y\":1}", false));
    assert_false(
        is_valid("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}}}", "{\"x-a\":1}", false));
}

static void builtin_meta_schema_works_offline(void **state)
{
    (void)state;
    const char *meta = "{\"$ref\":\"https://json-schema.org/draft/2020-12/schema\"}";
    assert_true(is_valid(meta, "{\"type\":\"string\",\"minLength\":1}", false));
    assert_false(is_valid(meta, "{\"type\":5}", false));
    assert_false(is_valid(meta, "{\"properties\":{\"a\":{\"minItems\":-1}}}", false));
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    json_t *j = agc_schema_builtin("https://json-schema.org/draft/2020-12/meta/core", ctx);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "$id")),
                        "https://json-schema.org/draft/2020-12/meta/core");
    drop(ctx, j);
    j = agc_schema_builtin("agentc:meta/2020-12/schema.json", ctx);
    assert_non_null(j);
    drop(ctx, j);
    assert_null(agc_schema_builtin("agentc:no-such.schema.json", ctx));
    assert_null(agc_schema_builtin("https://example.com/x", ctx));
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static agc_status test_resolver(json_t **out, const char *uri, void *user, agc_ctx *ctx)
{
    int *calls = user;
    (*calls)++;
    *out = NULL;
    if (strcmp(uri, "http://example.com/defs.json") == 0) {
        const char *t = "{\"$defs\":{\"name\":{\"type\":\"string\",\"$anchor\":\"nm\"}}}";
        return agc_json_parse(out, t, strlen(t), uri, ctx);
    }
    return AGC_OK;
}

static void remote_refs_go_through_the_resolver(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    int calls = 0;
    agc_schema_opts o = AGC_SCHEMA_OPTS_INIT;
    o.resolve = test_resolver;
    o.resolve_user = &calls;
    o.base_uri = "http://example.com/root.json";
    agc_schema *s = compile_ok(ctx,
                               "{\"properties\":{\"a\":{\"$ref\":\"defs.json#/$defs/name\"},"
                               "\"b\":{\"$ref\":\"http://example.com/defs.json#nm\"}}}",
                               &o);
    assert_int_equal(calls, 1);
    assert_int_equal(check(ctx, s, "{\"a\":\"x\",\"b\":\"y\"}", NULL), AGC_OK);
    assert_int_equal(check(ctx, s, "{\"a\":\"x\",\"b\":2}", NULL), AGC_ESCHEMA);
    assert_string_equal(agc_ctx_errmsg(ctx), "/b: must be string");
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

/* ---- threads ------------------------------------------------------------------------------- */

static const char tree_schema[] =
    "{\"$id\":\"urn:example:tree\",\"$dynamicAnchor\":\"node\",\"type\":\"object\","
    "\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"},"
    "\"kids\":{\"type\":\"array\",\"items\":{\"$dynamicRef\":\"#node\"}}},"
    "\"patternProperties\":{\"^x-\":{\"type\":\"integer\"}},"
    "\"allOf\":[{\"properties\":{\"size\":{\"minimum\":0}}}],"
    "\"unevaluatedProperties\":false,\"required\":[\"name\"]}";

typedef struct worker {
    const agc_schema *s;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK) {
        w->failures++;
        return NULL;
    }
    const char *good = "{\"name\":\"a\",\"x-n\":1,\"size\":2,\"kids\":[{\"name\":\"b\"},"
                       "{\"name\":\"c\",\"kids\":[{\"name\":\"d\"}]}]}";
    const char *bad = "{\"name\":\"a\",\"kids\":[{\"name\":\"b\",\"extra\":1}]}";
    json_t *g = NULL, *b = NULL;
    if (agc_json_parse(&g, good, strlen(good), "good", ctx) != AGC_OK ||
        agc_json_parse(&b, bad, strlen(bad), "bad", ctx) != AGC_OK)
        w->failures++;
    for (int i = 0; i < 300 && g && b; i++) {
        if (agc_schema_validate(NULL, w->s, g, ctx) != AGC_OK)
            w->failures++;
        agc_schema_result *r = NULL;
        if (agc_schema_validate(&r, w->s, b, ctx) != AGC_ESCHEMA || !r || r->count != 1 ||
            strcmp(r->errors[0].instance_path, "/kids/0") != 0)
            w->failures++;
        agc_schema_result_free(r, ctx);
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(g);
    json_decref(b);
    agc_json_leave(prev);
    agc_ctx_free(ctx);
    return NULL;
}

static void validates_concurrently_from_four_threads(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_schema *s = compile_ok(ctx, tree_schema, NULL);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){s, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    agc_schema_free(s, ctx);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

/* ---- out of memory -------------------------------------------------------------------------- */

static agc_status oom_run(agc_ctx *ctx, void *user)
{
    (void)user;
    static const char schema[] =
        "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
        "\"$defs\":{\"meta\":{\"$ref\":\"https://json-schema.org/draft/2020-12/schema\"},"
        "\"tree\":{\"$id\":\"urn:t\",\"$dynamicAnchor\":\"n\",\"type\":\"object\","
        "\"properties\":{\"kids\":{\"items\":{\"$dynamicRef\":\"#n\"}}}}},"
        "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$"
        "\","
        "\"format\":\"hostname\"},\"schema\":{\"$ref\":\"#/$defs/meta\"},"
        "\"tree\":{\"$ref\":\"urn:t\"},\"list\":{\"prefixItems\":[{\"type\":\"integer\"}],"
        "\"unevaluatedItems\":{\"type\":\"string\"},\"uniqueItems\":true}},"
        "\"patternProperties\":{\"^x-\":true},\"anyOf\":[{\"required\":[\"name\"]},"
        "{\"required\":[\"tree\"]}],\"unevaluatedProperties\":false}";
    static const char good[] = "{\"name\":\"abc\",\"x-1\":null,\"schema\":{\"type\":\"string\"},"
                               "\"tree\":{\"kids\":[{},{\"kids\":[]}]},\"list\":[1,\"a\",\"b\"]}";
    static const char bad[] = "{\"name\":\"A\",\"zz\":1,\"schema\":{\"type\":5},"
                              "\"tree\":{\"kids\":[1]},\"list\":[1,2]}";
    agc_schema_opts o = AGC_SCHEMA_OPTS_INIT;
    o.format_assert = true;
    agc_schema *s = NULL;
    agc_status st = agc_schema_compile_text(&s, schema, strlen(schema), "oom", &o, ctx);
    if (st != AGC_OK)
        return st;
    json_t *g = NULL, *b = NULL;
    st = agc_json_parse(&g, good, strlen(good), "good", ctx);
    if (st == AGC_OK)
        st = agc_json_parse(&b, bad, strlen(bad), "bad", ctx);
    if (st == AGC_OK) {
        agc_schema_result *r = NULL;
        st = agc_schema_validate(&r, s, g, ctx);
        agc_schema_result_free(r, ctx);
        r = NULL;
        if (st == AGC_OK) {
            st = agc_schema_validate(&r, s, b, ctx);
            if (st == AGC_ESCHEMA)
                st = r && r->count >= 4 ? AGC_OK : AGC_ERROR;
            else if (st == AGC_OK)
                st = AGC_ERROR; /* the bad instance must never pass */
            agc_schema_result_free(r, ctx);
        }
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(g);
    json_decref(b);
    agc_json_leave(prev);
    agc_schema_free(s, ctx);
    return st;
}

static void out_of_memory_is_clean_in_compile_and_validate(void **state)
{
    (void)state;
    long runs = agc_test_oom_sweep(oom_run, NULL, 0);
    printf("schema oom sweep: %ld runs\n", runs);
    assert_true(runs > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reports_instance_path_keyword_and_schema_path),
        cmocka_unit_test(messages_name_the_failed_constraint),
        cmocka_unit_test(caps_errors_at_max_errors),
        cmocka_unit_test(rejects_malformed_keyword_naming_its_location),
        cmocka_unit_test(unresolvable_ref_is_not_found_naming_the_uri),
        cmocka_unit_test(infinite_ref_loop_is_a_limit_not_a_crash),
        cmocka_unit_test(numbers_compare_by_value),
        cmocka_unit_test(string_length_counts_code_points),
        cmocka_unit_test(format_is_annotation_unless_asserted),
        cmocka_unit_test(pattern_is_an_unanchored_unicode_search),
        cmocka_unit_test(builtin_meta_schema_works_offline),
        cmocka_unit_test(remote_refs_go_through_the_resolver),
        cmocka_unit_test(validates_concurrently_from_four_threads),
        cmocka_unit_test(out_of_memory_is_clean_in_compile_and_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
