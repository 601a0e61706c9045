/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tools registry: names, validation before running, unknown tools, caps, OOM. */
#include "tools_fixture.h"

#include "agentc/json.h"

/* A test double: counts calls and echoes a given number of bytes. */
typedef struct echo {
    int calls;
    int destroyed;
    size_t bytes;
} echo;

static agc_status echo_call(void *self, const json_t *args, agc_tool_result *out,
                            agc_tool_call_ctx *cctx)
{
    echo *e = self;
    e->calls++;
    (void)args;
    char *buf = agc_malloc(cctx->ctx, e->bytes + 1);
    if (!buf)
        return AGC_ENOMEM;
    memset(buf, 'x', e->bytes);
    agc_status st = agc_tool_result_set_output(out, buf, e->bytes, 0, cctx->ctx);
    agc_free(cctx->ctx, buf);
    return st;
}

static void echo_destroy(void *self)
{
    ((echo *)self)->destroyed++;
}

static const agc_tool_ops echo_ops = {AGC_TOOL_OPS_VERSION, echo_call, echo_destroy};

static agc_tool *make_echo(agc_ctx *ctx, echo *e, const char *name, size_t cap)
{
    json_t *schema = NULL;
    const char *s = "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
                    "\"n\":{\"type\":\"integer\"}},\"required\":[\"path\"],"
                    "\"additionalProperties\":false}";
    assert_int_equal(agc_json_parse(&schema, s, strlen(s), "t", ctx), AGC_OK);
    agc_tool_spec spec = AGC_TOOL_SPEC_INIT;
    spec.name = name;
    spec.description = "echo";
    spec.input_schema = schema;
    spec.output_cap = cap;
    agc_tool *t = NULL;
    agc_status st = agc_tool_new(&t, &echo_ops, e, &spec, ctx);
    json_decref(schema);
    return st == AGC_OK ? t : NULL;
}

static void tool_names_follow_the_pattern(void **state)
{
    (void)state;
    assert_true(agc_tool_name_valid("read_file"));
    assert_true(agc_tool_name_valid("github.create-issue"));
    assert_false(agc_tool_name_valid(""));
    assert_false(agc_tool_name_valid("a b"));
    assert_false(agc_tool_name_valid("a/b"));
    char long_name[66];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    assert_false(agc_tool_name_valid(long_name));
    long_name[64] = '\0';
    assert_true(agc_tool_name_valid(long_name));

    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    echo e = {0, 0, 1};
    assert_null(make_echo(ctx, &e, "bad name", 0));
    assert_int_equal(e.destroyed, 1); /* self is owned even on failure */
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "bad name"));
    agc_ctx_free(ctx);
}

static void registry_rejects_duplicate_names(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_tool_registry *reg = NULL;
    assert_int_equal(agc_tool_registry_new(&reg, ctx), AGC_OK);
    echo a = {0, 0, 1}, b = {0, 0, 1};
    assert_int_equal(agc_tool_registry_add(reg, make_echo(ctx, &a, "srv.echo", 0)), AGC_OK);
    assert_int_equal(agc_tool_registry_add(reg, make_echo(ctx, &b, "srv.echo", 0)), AGC_EEXISTS);
    assert_int_equal(b.destroyed, 1);
    assert_int_equal(agc_tool_registry_count(reg), 1);
    assert_non_null(agc_tool_registry_lookup(reg, "srv.echo"));
    assert_null(agc_tool_registry_lookup(reg, "nope"));
    assert_string_equal(agc_tool_name(agc_tool_registry_at(reg, 0)), "srv.echo");
    assert_null(agc_tool_registry_at(reg, 1));
    agc_tool_registry_free(reg);
    assert_int_equal(a.destroyed, 1);
    agc_ctx_free(ctx);
}

static void invalid_arguments_are_rejected_before_running(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_tool_registry *reg = NULL;
    assert_int_equal(agc_tool_registry_new(&reg, ctx), AGC_OK);
    echo e = {0, 0, 3};
    assert_int_equal(agc_tool_registry_add(reg, make_echo(ctx, &e, "echo", 0)), AGC_OK);
    agc_tool_result r;
    agc_tool_result_init(&r);

    /* wrong type */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{\"path\":5}", NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.output, "invalid arguments: /path: must be string"));
    agc_tool_result_clear(&r, ctx);
    /* missing required */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{}", NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.output, "invalid arguments: must have required property 'path'"));
    agc_tool_result_clear(&r, ctx);
    /* extra property */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{\"path\":\"a\",\"zz\":1}", NULL),
                     AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.output, "must NOT have additional property 'zz'"));
    agc_tool_result_clear(&r, ctx);
    /* not JSON, not an object */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{\"path\":", NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.output, "invalid arguments: not valid JSON"));
    agc_tool_result_clear(&r, ctx);
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "[1]", NULL), AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.output, "expects a JSON object, got array"));
    agc_tool_result_clear(&r, ctx);
    assert_int_equal(e.calls, 0);

    /* valid */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{\"path\":\"a\",\"n\":2}", NULL),
                     AGC_OK);
    assert_false(r.is_error);
    assert_string_equal(r.output, "xxx");
    assert_int_equal(e.calls, 1);
    agc_tool_result_clear(&r, ctx);
    agc_tool_registry_free(reg);
    agc_ctx_free(ctx);
}

static void unknown_tool_lists_available_names(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_err(f, "delete_everything", "{}", "unknown tool 'delete_everything'");
    assert_non_null(strstr(f->res.output, "read_file"));
    assert_non_null(strstr(f->res.output, "run_command"));
    fx_free(f);
}

static void output_over_the_cap_is_truncated_with_a_notice(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_tool_registry *reg = NULL;
    assert_int_equal(agc_tool_registry_new(&reg, ctx), AGC_OK);
    echo e = {0, 0, 1000};
    assert_int_equal(agc_tool_registry_add(reg, make_echo(ctx, &e, "echo", 100)), AGC_OK);
    agc_tool_result r;
    agc_tool_result_init(&r);
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{\"path\":\"a\"}", NULL), AGC_OK);
    assert_true(r.truncated);
    assert_int_equal(r.total_len, 1000);
    assert_non_null(strstr(r.output, "[output truncated: 100 of 1000 bytes shown]"));
    assert_int_equal(strspn(r.output, "x"), 100);
    agc_tool_result_clear(&r, ctx);
    agc_tool_registry_free(reg);
    agc_ctx_free(ctx);
}

static void canceled_call_does_not_run(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_tool_registry *reg = NULL;
    assert_int_equal(agc_tool_registry_new(&reg, ctx), AGC_OK);
    echo e = {0, 0, 1};
    assert_int_equal(agc_tool_registry_add(reg, make_echo(ctx, &e, "echo", 0)), AGC_OK);
    atomic_bool cancel = true;
    agc_tool_call_ctx cc = AGC_TOOL_CALL_CTX_INIT;
    cc.cancel = &cancel;
    agc_tool_result r;
    agc_tool_result_init(&r);
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "echo", "{\"path\":\"a\"}", &cc),
                     AGC_ECANCELED);
    assert_true(r.is_error);
    assert_int_equal(e.calls, 0);
    agc_tool_result_clear(&r, ctx);
    agc_tool_registry_free(reg);
    agc_ctx_free(ctx);
}

static void past_deadline_gives_a_timeout_result(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    fx_write(f, "a/b.txt", "x\n");
    agc_tool_call_ctx cc = AGC_TOOL_CALL_CTX_INIT;
    cc.deadline_ns = 1; /* long gone on the monotonic clock */
    agc_tool_result_clear(&f->res, f->ctx);
    assert_int_equal(agc_tool_registry_invoke(&f->res, f->reg, "find", "{\"pattern\":\"*\"}", &cc),
                     AGC_OK);
    assert_true(f->res.is_error);
    assert_non_null(strstr(f->res.output, "timed out"));
    fx_free(f);
}

static void builtin_tools_have_schemas_and_classes(void **state)
{
    (void)state;
    fx *f = fx_new(NULL);
    assert_int_equal(agc_tool_registry_count(f->reg), 7);
    agc_tool *rc = agc_tool_registry_lookup(f->reg, "run_command");
    assert_int_equal(agc_tool_get_approval(rc), AGC_TOOL_APPROVE_ASK);
    assert_int_equal(agc_tool_get_effect(rc), AGC_TOOL_EFFECT_EXEC);
    agc_tool *rf = agc_tool_registry_lookup(f->reg, "read_file");
    assert_int_equal(agc_tool_get_effect(rf), AGC_TOOL_EFFECT_READ);
    assert_true(json_is_object(agc_tool_input_schema(rf)));
    assert_string_equal(agc_tool_effect_name(AGC_TOOL_EFFECT_WRITE), "write");
    assert_string_equal(agc_tool_approval_name(AGC_TOOL_APPROVE_NEVER), "never");
    agc_tool *t = NULL;
    assert_int_equal(agc_workspace_tool_new(&t, f->ws, "nope", f->ctx), AGC_ENOTFOUND);
    fx_free(f);
}

/* ---- OOM sweep: registry creation + read_file with validation ---- */

typedef struct sweep {
    const char *dir;
} sweep;

static agc_status sweep_fn(agc_ctx *ctx, void *user)
{
    sweep *s = user;
    agc_workspace *ws = NULL;
    agc_tool_registry *reg = NULL;
    agc_tool_result r;
    agc_tool_result_init(&r);
    agc_status st = agc_workspace_open(&ws, s->dir, NULL, ctx);
    if (st == AGC_OK)
        st = agc_tool_registry_new(&reg, ctx);
    if (st == AGC_OK) {
        const char *names[] = {"read_file", "list_dir", NULL};
        st = agc_workspace_register_tools(reg, ws, names);
    }
    if (st == AGC_OK)
        st = agc_tool_registry_invoke(&r, reg, "read_file", "{\"path\":\"a.txt\",\"start_line\":2}",
                                      NULL);
    if (st == AGC_OK && r.is_error && !strstr(r.output, "out of memory"))
        st = AGC_ERROR; /* a real error result is a bug here */
    if (st == AGC_OK && !r.is_error && strcmp(r.output, "two\n[lines 2-2 of 2]") != 0)
        st = AGC_ERROR;
    if (st == AGC_OK && r.is_error)
        st = AGC_ENOMEM; /* an out-of-memory error result is a clean failure */
    if (st == AGC_OK) {
        agc_tool_result_clear(&r, ctx);
        st = agc_tool_registry_invoke(&r, reg, "read_file", "{\"path\":7}", NULL);
        if (st == AGC_OK && (!r.is_error || !strstr(r.output, "/path: must be string")))
            st = strstr(r.output ? r.output : "", "out of memory") ? AGC_ENOMEM : AGC_ERROR;
    }
    agc_tool_result_clear(&r, ctx);
    agc_tool_registry_free(reg);
    agc_workspace_close(ws);
    return st;
}

static void oom_sweep_registry_and_read_file(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    char *p = NULL;
    assert_true(asprintf(&p, "%s/a.txt", dir) > 0);
    agc_test_write_file(p, "one\ntwo\n");
    free(p);
    sweep s = {dir};
    long runs = agc_test_oom_sweep(sweep_fn, &s, 0);
    assert_true(runs > 10);
    agc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tool_names_follow_the_pattern),
        cmocka_unit_test(registry_rejects_duplicate_names),
        cmocka_unit_test(invalid_arguments_are_rejected_before_running),
        cmocka_unit_test(unknown_tool_lists_available_names),
        cmocka_unit_test(output_over_the_cap_is_truncated_with_a_notice),
        cmocka_unit_test(canceled_call_does_not_run),
        cmocka_unit_test(past_deadline_gives_a_timeout_result),
        cmocka_unit_test(builtin_tools_have_schemas_and_classes),
        cmocka_unit_test(oom_sweep_registry_and_read_file),
    };
    return cmocka_run_group_tests_name("tools_registry", tests, NULL, NULL);
}
