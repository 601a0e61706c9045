/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WASM tools as runtime tools: agent-file entries (wasm + policy) for the
 * wc, json_transform and sha256 examples registered in a tool registry and
 * invoked as the runtime does, each call in a jailed worker; a violation is
 * an error result for the model.
 */
#include "agentc/sandbox_worker.h"
#include "agentc/tool.h"
#include "sandbox_fixture.h"

static agc_tool *entry_tool(agc_ctx *ctx, const char *yamlish_json)
{
    json_error_t je;
    json_t *e = json_loads(yamlish_json, 0, &je);
    assert_non_null(e);
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    const char *bin = getenv("AGC_BINARY_DIR");
    char base[4096];
    snprintf(base, sizeof base, "%s/wasm", bin ? bin : ".");
    agc_tool *t = NULL;
    agc_status st = agc_wasm_tool_new(&t, e, base, "agent.yaml:3:5", &co, NULL, ctx);
    if (st != AGC_OK)
        print_message("%s\n", agc_ctx_errmsg(ctx));
    assert_int_equal(st, AGC_OK);
    json_decref(e);
    return t;
}

static void examples_run_as_registry_tools(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    size_t n;
    unsigned char *probe = load_tool("wc", &n);
    if (!probe) {
        print_message("skipped: the example wasm tools were not built\n");
        skip();
    }
    free(probe);
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *dir = agc_test_tmpdir();
    char file[4200], entry[9000];
    snprintf(file, sizeof file, "%s/notes.txt", dir);
    agc_test_write_file(file, "one two\nthree\n");
    agc_tool_registry *reg = NULL;
    assert_int_equal(agc_tool_registry_new(&reg, ctx), AGC_OK);
    snprintf(entry, sizeof entry,
             "{\"name\": \"wc\", \"wasm\": \"wc.wasm\", \"description\": \"count\","
             " \"parameters\": {\"type\": \"object\", \"required\": [\"path\"],"
             " \"properties\": {\"path\": {\"type\": \"string\"}}},"
             " \"policy\": {\"allowed_paths\": [\"ro:%s=/data\"], \"mode\": \"fresh\"}}",
             dir);
    assert_int_equal(agc_tool_registry_add(reg, entry_tool(ctx, entry)), AGC_OK);
    assert_int_equal(
        agc_tool_registry_add(reg, entry_tool(ctx, "{\"name\": \"json_transform\", \"wasm\": "
                                                   "\"json_transform.wasm\", \"policy\": {}}")),
        AGC_OK);
    assert_int_equal(
        agc_tool_registry_add(reg, entry_tool(ctx, "{\"name\": \"sha256\", \"wasm\": "
                                                   "\"sha256.wasm\", \"policy\": {\"mode\": "
                                                   "\"pool\", \"timeout_ms\": 300}}")),
        AGC_OK);
    assert_int_equal(agc_tool_get_approval(agc_tool_registry_lookup(reg, "wc")),
                     AGC_TOOL_APPROVE_ALWAYS);
    agc_tool_result r;
    agc_tool_result_init(&r);
    assert_int_equal(
        agc_tool_registry_invoke(&r, reg, "wc", "{\"path\": \"/data/notes.txt\"}", NULL), AGC_OK);
    print_message("wc: %s\n", r.output);
    assert_false(r.is_error);
    assert_non_null(strstr(r.output, "\"words\": 3"));
    agc_tool_result_clear(&r, ctx);
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "json_transform", "{\"k\": [true]}", NULL),
                     AGC_OK);
    assert_false(r.is_error);
    assert_non_null(strstr(r.output, "\"/k/0\": true"));
    agc_tool_result_clear(&r, ctx);
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "sha256", "{\"data\": \"abc\"}", NULL),
                     AGC_OK);
    assert_false(r.is_error);
    assert_non_null(
        strstr(r.output, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    agc_tool_result_clear(&r, ctx);
    /* a violation reaches the model as an error result */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "sha256",
                                              "{\"data\": \"abc\", \"rounds\": 2000000000}", NULL),
                     AGC_OK);
    assert_true(r.is_error);
    assert_non_null(strstr(r.output, "timed out after 300 ms"));
    agc_tool_result_clear(&r, ctx);
    /* the wc tool cannot read outside its preopen */
    assert_int_equal(agc_tool_registry_invoke(&r, reg, "wc", "{\"path\": \"/etc/passwd\"}", NULL),
                     AGC_OK);
    assert_true(r.is_error || !strstr(r.output, "\"lines\""));
    agc_tool_result_clear(&r, ctx);
    agc_tool_registry_free(reg);
    agc_test_rmtree(dir);
    free(dir);
    agc_ctx_free(ctx);
}

static void bad_entries_are_refused(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    json_t *e = json_pack("{s:s}", "name", "x");
    agc_tool *t = NULL;
    assert_int_equal(agc_wasm_tool_new(&t, e, NULL, "agent.yaml:3:5", NULL, NULL, ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "agent.yaml:3:5"));
    json_decref(e);
    e = json_pack("{s:s, s:s, s:{s:s}}", "name", "x", "wasm", "x.wasm", "policy", "mode", "never");
    assert_int_equal(agc_wasm_tool_new(&t, e, NULL, "agent.yaml:3:5", NULL, NULL, ctx),
                     AGC_ESCHEMA);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/mode"));
    json_decref(e);
    assert_null(t);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(examples_run_as_registry_tools),
        cmocka_unit_test(bad_entries_are_refused),
    };
    return cmocka_run_group_tests_name("sandbox_worker_tools", tests, NULL, NULL);
}
