/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of config loading: YAML 1.2 core typing, anchors and the alias cap,
 * rejected inputs (several documents, duplicate keys, non-finite numbers),
 * JSON and YAML positions, AGENTC_* overrides, schema validation with
 * file:line:col messages, secret references, YAML output, and OOM sweeps.
 */
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/config.h"
#include "agentc/json.h"
#include "agentc/redact.h"

static const char *const no_env[] = {NULL};

static agc_status parse(agc_config **out, const char *text, const char *source, bool validate,
                        const char *const *env, agc_ctx *ctx)
{
    agc_config_opts o = AGC_CONFIG_OPTS_INIT;
    o.env = env ? env : no_env;
    o.no_validate = !validate;
    return agc_config_parse(out, text, strlen(text), source, &o, ctx);
}

static json_t *at(const agc_config *cfg, const char *ptr)
{
    json_t *v = agc_json_pointer_get(agc_config_root(cfg), ptr);
    if (!v)
        fail_msg("no value at %s", ptr);
    return v;
}

static void types_plain_scalars_by_the_core_schema(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *y = "n1: null\nn2: ~\nn3:\nb1: true\nb2: False\ni1: 42\ni2: -7\ni3: 0x1F\n"
                    "i4: 0o17\nf1: 1.5\nf2: -2e3\nf3: .5\ns1: yes\ns2: '42'\ns3: \"true\"\n"
                    "s4: 0x\ns5: !!str 12\nf4: !!float 3\ns6: 1.2.3\ns7: hello world\n";
    agc_config *cfg = NULL;
    assert_int_equal(parse(&cfg, y, "t.yaml", false, NULL, ctx), AGC_OK);
    assert_true(json_is_null(at(cfg, "/n1")) && json_is_null(at(cfg, "/n2")) &&
                json_is_null(at(cfg, "/n3")));
    assert_true(json_is_true(at(cfg, "/b1")) && json_is_false(at(cfg, "/b2")));
    assert_int_equal(json_integer_value(at(cfg, "/i1")), 42);
    assert_int_equal(json_integer_value(at(cfg, "/i2")), -7);
    assert_int_equal(json_integer_value(at(cfg, "/i3")), 31);
    assert_int_equal(json_integer_value(at(cfg, "/i4")), 15);
    assert_true(json_real_value(at(cfg, "/f1")) == 1.5);
    assert_true(json_real_value(at(cfg, "/f2")) == -2000.0);
    assert_true(json_real_value(at(cfg, "/f3")) == 0.5);
    assert_true(json_is_real(at(cfg, "/f4")));
    const char *strs[][2] = {{"/s1", "yes"}, {"/s2", "42"},    {"/s3", "true"},       {"/s4", "0x"},
                             {"/s5", "12"},  {"/s6", "1.2.3"}, {"/s7", "hello world"}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        assert_string_equal(json_string_value(at(cfg, strs[i][0])), strs[i][1]);
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void expect_error(const char *text, const char *source, agc_status code, const char *msg)
{
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_config *cfg = (agc_config *)1;
    agc_status st = parse(&cfg, text, source, false, NULL, ctx);
    if (st != code || !strstr(agc_ctx_errmsg(ctx), msg))
        fail_msg("input %s: got %s \"%s\", want %s containing \"%s\"", source, agc_status_name(st),
                 agc_ctx_errmsg(ctx), agc_status_name(code), msg);
    assert_null(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void rejects_bad_documents_with_positions(void **state)
{
    (void)state;
    expect_error("a: 1\nb:\n  c: 2\n  c: 3\n", "dup.yaml", AGC_EPARSE,
                 "dup.yaml:4:3: duplicate key \"c\" (first defined at line 3)");
    expect_error("a: 1\n---\nb: 2\n", "multi.yaml", AGC_EPARSE, "multi.yaml:2:1: a second YAML");
    expect_error("x: .inf\n", "inf.yaml", AGC_EPARSE, "inf.yaml:1:4: infinite and NaN");
    expect_error("x: [1, -.INF]\n", "inf.yaml", AGC_EPARSE, "infinite");
    expect_error("x: .nan\n", "nan.yaml", AGC_EPARSE, "NaN");
    expect_error("x: 1e999\n", "big.yaml", AGC_EPARSE, "not finite");
    expect_error("x: 99999999999999999999\n", "big.yaml", AGC_EPARSE, "out of range");
    expect_error("x: !custom 1\n", "tag.yaml", AGC_EPARSE, "unsupported tag");
    expect_error("x: !!int abc\n", "tag.yaml", AGC_EPARSE, "does not match its tag");
    expect_error("? [a]\n: 1\n", "key.yaml", AGC_EPARSE, "mapping keys must be plain text");
    expect_error("a: [1, 2\n", "syntax.yaml", AGC_EPARSE, "syntax.yaml:");
    expect_error("", "empty.yaml", AGC_EPARSE, "empty");
    expect_error("a: *nope\n", "alias.yaml", AGC_EPARSE, "names no anchor");
    expect_error("{\"a\": 1, \"a\": 2}", "dup.json", AGC_EPARSE, "dup.json:1:");
}

static void expands_aliases_and_caps_alias_bombs(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *y = "base: &b\n  model: m1\n  tags: [x, y]\ncopy: *b\nname: &n coder\nalso: *n\n";
    agc_config *cfg = NULL;
    assert_int_equal(parse(&cfg, y, "a.yaml", false, NULL, ctx), AGC_OK);
    assert_true(json_equal(at(cfg, "/base"), at(cfg, "/copy")));
    assert_ptr_not_equal(at(cfg, "/base"), at(cfg, "/copy")); /* a copy, not shared */
    assert_string_equal(json_string_value(at(cfg, "/also")), "coder");
    agc_config_pos pos;
    assert_true(agc_config_position(cfg, "/copy/tags/1", &pos));
    assert_int_equal(pos.line, 4); /* copies point at the alias */
    agc_config_free(cfg);
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert_int_equal(parse(&cfg, bomb, "bomb.yaml", false, NULL, ctx), AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "alias bomb"));
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void maps_pointers_to_lines_for_yaml_and_json(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_config *cfg = NULL;
    agc_config_pos pos;
    assert_int_equal(
        parse(&cfg, "a:\n  b: 1\n  list:\n    - x\n    - {c~/d: 2}\n", "p.yaml", false, NULL, ctx),
        AGC_OK);
    assert_true(agc_config_position(cfg, "/a/b", &pos));
    assert_string_equal(pos.file, "p.yaml");
    assert_int_equal(pos.line, 2);
    assert_int_equal(pos.column, 3);
    assert_true(agc_config_position(cfg, "/a/list/1/c~0~1d", &pos));
    assert_int_equal(pos.line, 5);
    assert_true(agc_config_position(cfg, "/a/list/1/missing", &pos)); /* nearest ancestor */
    assert_int_equal(pos.line, 5);
    agc_config_free(cfg);
    assert_int_equal(
        parse(&cfg, "{\n  \"a\": {\"b\\u00e9\": [1,\n   2]}\n}", "p.json", false, NULL, ctx),
        AGC_OK);
    assert_true(agc_config_position(cfg, "/a/b\xc3\xa9/1", &pos));
    assert_int_equal(pos.line, 3);
    assert_int_equal(pos.column, 4);
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static char *example(const char *name, size_t *len)
{
    char *path = agc_test_source_path(name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    free(path);
    char *buf = calloc(1, 1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static void example_files_validate_and_agree(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_config *y = NULL, *j = NULL;
    char *path = agc_test_source_path("examples/agent.yaml");
    agc_config_opts o = AGC_CONFIG_OPTS_INIT;
    o.env = no_env;
    agc_status st = agc_config_load(&y, path, &o, ctx);
    if (st != AGC_OK)
        fail_msg("%s", agc_ctx_errmsg(ctx));
    free(path);
    path = agc_test_source_path("examples/agent.json");
    assert_int_equal(agc_config_load(&j, path, &o, ctx), AGC_OK);
    free(path);
    assert_true(json_equal(agc_config_root(y), agc_config_root(j)));
    assert_string_equal(json_string_value(at(y, "/provider/api_key")), "env:OPENAI_API_KEY");
    agc_config_free(y);
    agc_config_free(j);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void validation_errors_name_file_line_and_pointer(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *y = "version: 1\nprovider:\n  name: openai\n  model: 5\nmodle: x\n";
    agc_config *cfg = NULL;
    assert_int_equal(parse(&cfg, y, "bad.yaml", true, NULL, ctx), AGC_ESCHEMA);
    assert_null(cfg);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "bad.yaml:"));
    assert_int_equal(parse(&cfg, y, "bad.yaml", false, NULL, ctx), AGC_OK);
    agc_config_report *r = NULL;
    assert_int_equal(agc_config_validate(&r, cfg, ctx), AGC_ESCHEMA);
    assert_false(r->valid);
    bool model = false, unknown = false;
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->diags[i].text, "bad.yaml:4:3: /provider/model: must be string") == 0)
            model = true;
        if (strstr(r->diags[i].text, "modle"))
            unknown = true;
    }
    if (!model || !unknown)
        fail_msg("findings: %zu, first %s", r->count, r->count ? r->diags[0].text : "-");
    agc_config_report_free(r, ctx);
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void inline_secrets_are_rejected_without_echo(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *y = "version: 1\nprovider:\n  name: openai\n  api_key: my-pasted-key-123\n";
    agc_config *cfg = NULL;
    assert_int_equal(parse(&cfg, y, "s.yaml", false, NULL, ctx), AGC_OK);
    agc_config_report *r = NULL;
    assert_int_equal(agc_config_validate(&r, cfg, ctx), AGC_ESCHEMA);
    assert_int_equal(r->count, 1);
    assert_string_equal(r->diags[0].pointer, "/provider/api_key");
    assert_string_equal(r->diags[0].keyword, "x-agentc-secret");
    assert_non_null(strstr(r->diags[0].text, "s.yaml:4:3: /provider/api_key: secrets must be"));
    assert_null(strstr(r->diags[0].text, "pasted"));
    assert_null(strstr(agc_ctx_errmsg(ctx), "pasted"));
    assert_true(agc_redact_would_change("my-pasted-key-123", 17, ctx)); /* now redacted */
    agc_secret *s = NULL;
    assert_int_equal(agc_config_secret(&s, cfg, "/provider/api_key", ctx), AGC_EINVAL);
    assert_null(strstr(agc_ctx_errmsg(ctx), "pasted"));
    agc_config_report_free(r, ctx);
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void resolves_secret_references(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    setenv("AGC_TEST_CFG_KEY", "sekrit-value", 1);
    unsetenv("AGC_TEST_CFG_NOPE");
    agc_config *cfg = NULL;
    assert_int_equal(
        parse(&cfg, "version: 1\nprovider:\n  name: openai\n  api_key: env:AGC_TEST_CFG_KEY\n",
              "r.yaml", true, NULL, ctx),
        AGC_OK);
    agc_secret *s = NULL;
    assert_int_equal(agc_config_secret(&s, cfg, "/provider/api_key", ctx), AGC_OK);
    assert_string_equal(agc_secret_reveal(s, NULL), "sekrit-value");
    agc_secret_free(s);
    assert_int_equal(agc_config_secret(&s, cfg, "/provider/other", ctx), AGC_ENOTFOUND);
    agc_config_free(cfg);
    assert_int_equal(
        parse(&cfg, "version: 1\nprovider:\n  name: openai\n  api_key: env:AGC_TEST_CFG_NOPE\n",
              "r.yaml", true, NULL, ctx),
        AGC_OK);
    assert_int_equal(agc_config_secret(&s, cfg, "/provider/api_key", ctx), AGC_ENOTFOUND);
    char buf[512];
    agc_error_format(ctx, buf, sizeof buf);
    assert_non_null(strstr(buf, "r.yaml:4:3: /provider/api_key"));
    assert_non_null(strstr(buf, "AGC_TEST_CFG_NOPE is unset; export it"));
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void environment_overrides_set_nested_values(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    const char *env[] = {"AGENTC_PROVIDER__MODEL=gpt-4o",
                         "AGENTC_BUDGETS__MAX_TURNS=12",
                         "AGENTC_LOG_LEVEL=debug", /* logging, not an override */
                         "AGENTC_WORKSPACE__DENY_READ=[\"*.key\"]",
                         "OTHER=1",
                         NULL};
    agc_config *cfg = NULL;
    assert_int_equal(parse(&cfg, "version: 1\nprovider:\n  name: openai\n  model: old\n", "e.yaml",
                           true, env, ctx),
                     AGC_OK);
    assert_string_equal(json_string_value(at(cfg, "/provider/model")), "gpt-4o");
    assert_int_equal(json_integer_value(at(cfg, "/budgets/max_turns")), 12);
    assert_string_equal(json_string_value(at(cfg, "/workspace/deny_read/0")), "*.key");
    assert_null(json_object_get(agc_config_root(cfg), "log_level"));
    agc_config_pos pos;
    assert_true(agc_config_position(cfg, "/budgets/max_turns", &pos));
    assert_string_equal(pos.file, "AGENTC_BUDGETS__MAX_TURNS");
    assert_int_equal(pos.line, 0);
    agc_config_free(cfg);

    const char *bad[] = {"AGENTC_PROVIDER__MODEL=[1]", NULL};
    assert_int_equal(
        parse(&cfg, "version: 1\nprovider:\n  name: openai\n", "e.yaml", true, bad, ctx),
        AGC_ESCHEMA);
    assert_string_equal(agc_ctx_errmsg(ctx),
                        "AGENTC_PROVIDER__MODEL: /provider/model: must be string");
    const char *through[] = {"AGENTC_NAME__X=1", NULL};
    assert_int_equal(parse(&cfg, "version: 1\nname: coder\n", "e.yaml", true, through, ctx),
                     AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "AGENTC_NAME__X"));
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void yaml_output_reads_back_equal(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    size_t len = 0;
    char *text = example("examples/agent.json", &len);
    agc_config *cfg = NULL, *back = NULL;
    assert_int_equal(parse(&cfg, text, "agent.json", false, NULL, ctx), AGC_OK);
    free(text);
    json_t *extra = agc_config_root(cfg);
    agc_ctx *prev = agc_json_enter(ctx);
    json_object_set_new(extra, "tricky",
                        json_pack("[s,s,s,s,f,s,{}]", "true", "0x10", "~", "", 1.0, "a: b", "-"));
    agc_json_leave(prev);
    char *y = NULL;
    assert_int_equal(agc_config_to_yaml(&y, extra, ctx), AGC_OK);
    assert_int_equal(parse(&back, y, "back.yaml", false, NULL, ctx), AGC_OK);
    if (!json_equal(agc_config_root(back), extra))
        fail_msg("YAML did not read back equal:\n%s", y);
    agc_free(ctx, y);
    agc_config_free(back);
    agc_config_free(cfg);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void rejects_unknown_opts_version(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_config_opts o = AGC_CONFIG_OPTS_INIT;
    o.version = 7;
    agc_config *cfg = NULL;
    assert_int_equal(agc_config_parse(&cfg, "a: 1", 4, "x.yaml", &o, ctx), AGC_EINVAL);
    assert_int_equal(agc_config_load(&cfg, "/nonexistent/agent.yaml", NULL, ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/nonexistent/agent.yaml"));
    agc_ctx_free(ctx);
}

typedef struct sweep_in {
    const char *text;
    const char *source;
    bool validate;
} sweep_in;

static agc_status sweep_parse(agc_ctx *ctx, void *user)
{
    const sweep_in *in = user;
    /* overrides only for small documents: they parse the config schema on every run */
    const char *env[] = {"AGENTC_PROVIDER__MODEL=gpt-4o", NULL};
    bool small = strlen(in->text) < 200;
    agc_config *cfg = NULL;
    agc_status st = parse(&cfg, in->text, in->source, in->validate, small ? env : NULL, ctx);
    if (st == AGC_OK) {
        char *y = NULL;
        st = agc_config_to_yaml(&y, agc_config_root(cfg), ctx);
        agc_free(ctx, y);
    }
    agc_config_free(cfg);
    return st;
}

static void out_of_memory_fails_cleanly(void **state)
{
    (void)state;
    size_t len = 0;
    char *yaml = example("examples/agent.yaml", &len);
    char *json = example("examples/agent.json", &len);
    sweep_in cases[] = {
        {yaml, "agent.yaml", false},
        {json, "agent.json", false},
        {"version: 1\nprovider: {name: x}\n", "env.yaml", false},
        {"a: &x [1, {b: c}]\nd: *x\n", "alias.yaml", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(agc_test_oom_sweep(sweep_parse, &cases[i], 0) > 10);
    free(yaml);
    free(json);
}

static void out_of_memory_during_validation_fails_cleanly(void **state)
{
    (void)state;
    /* small on purpose: every run compiles the whole config schema */
    sweep_in in = {"version: 1\nprovider: {name: openai, api_key: env:KEY}\ntools: [grep]\n",
                   "small.yaml", true};
    assert_true(agc_test_oom_sweep(sweep_parse, &in, 0) > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types_plain_scalars_by_the_core_schema),
        cmocka_unit_test(rejects_bad_documents_with_positions),
        cmocka_unit_test(expands_aliases_and_caps_alias_bombs),
        cmocka_unit_test(maps_pointers_to_lines_for_yaml_and_json),
        cmocka_unit_test(example_files_validate_and_agree),
        cmocka_unit_test(validation_errors_name_file_line_and_pointer),
        cmocka_unit_test(inline_secrets_are_rejected_without_echo),
        cmocka_unit_test(resolves_secret_references),
        cmocka_unit_test(environment_overrides_set_nested_values),
        cmocka_unit_test(yaml_output_reads_back_equal),
        cmocka_unit_test(rejects_unknown_opts_version),
        cmocka_unit_test(out_of_memory_fails_cleanly),
        cmocka_unit_test(out_of_memory_during_validation_fails_cleanly),
    };
    return cmocka_run_group_tests_name("core_config", tests, NULL, NULL);
}
