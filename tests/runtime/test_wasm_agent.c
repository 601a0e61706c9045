/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WebAssembly tools declared in an agent file (tools: - name, wasm, policy,
 * description, parameters) driven end to end by the fake model: the wc
 * (preopened directory), json_transform and sha256 examples run in the
 * sandbox and their results reach the model; a policy violation (timeout)
 * reaches it as an error result. Relative wasm and policy paths are taken
 * from the agent file's directory; policy/parameters without wasm are refused.
 */
#include <unistd.h>

#include "../sandbox/sandbox_fixture.h"
#include "agentc/agent.h"
#include "rt_fixture.h"

/* Why these tests cannot run here, or NULL. */
static const char *wasm_missing(void)
{
    const char *why = compile_missing();
    if (why)
        return why;
    size_t n;
    unsigned char *probe = load_tool("sha256", &n);
    if (!probe)
        return "the example wasm tools were not built";
    free(probe);
    return NULL;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Writes dir/agent.yaml with the three example tools and loads it into t->def. */
static void load_wasm_agent(rt *t)
{
    const char *bin = getenv("AGC_BINARY_DIR");
    char wasm[4096], path[4400], yaml_path[4200], data[4200];
    /* compiled modules go to a cache shared by the runs of this build */
    snprintf(wasm, sizeof wasm, "%s/wasm-xdg-cache", bin ? bin : ".");
    setenv("XDG_CACHE_HOME", wasm, 1);
    snprintf(wasm, sizeof wasm, "%s/wasm", bin ? bin : ".");
    /* json_transform sits beside the agent file, its policy in a file */
    snprintf(path, sizeof path, "%s/tools", t->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char src[4400];
    snprintf(src, sizeof src, "%s/json_transform.wasm", wasm);
    snprintf(path, sizeof path, "%s/tools/jt.wasm", t->dir);
    copy_file(src, path);
    snprintf(path, sizeof path, "%s/tools/jt-policy.yaml", t->dir);
    agc_test_write_file(path, "mode: fresh\nmemory_mb: 16\n");
    snprintf(data, sizeof data, "%s/data", t->dir);
    assert_int_equal(mkdir(data, 0700), 0);
    snprintf(path, sizeof path, "%s/notes.txt", data);
    agc_test_write_file(path, "one two\nthree\n");

    char extra[16384];
    snprintf(extra, sizeof extra,
             "tools:\n"
             "  - read_file\n"
             "  - name: wc\n"
             "    wasm: %s/wc.wasm\n"
             "    description: Count lines, words and bytes of a file under /data.\n"
             "    parameters:\n"
             "      type: object\n"
             "      required: [path]\n"
             "      properties: {path: {type: string}}\n"
             "    policy:\n"
             "      allowed_paths: [\"ro:data=/data\"]\n"
             "      mode: fresh\n"
             "  - name: json_transform\n"
             "    wasm: tools/jt.wasm\n"
             "    policy: tools/jt-policy.yaml\n"
             "  - name: sha256\n"
             "    wasm: %s/sha256.wasm\n"
             "    description: SHA-256 of data, iterated rounds times.\n"
             "    policy: {mode: pool, timeout_ms: 300}\n",
             wasm, wasm);
    char *yaml = rt_agent_yaml(t, extra);
    snprintf(yaml_path, sizeof yaml_path, "%s/agent.yaml", t->dir);
    agc_test_write_file(yaml_path, yaml);
    free(yaml);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_status st = agc_agent_def_load(&t->def, yaml_path, &co, t->ctx);
    if (st != AGC_OK)
        fail_msg("agent: %s", agc_ctx_errmsg(t->ctx));
    assert_string_equal(agc_agent_def_dir(t->def), t->dir);
    assert_non_null(agc_agent_def_find_tool(t->def, "wc")->spec);
    assert_null(agc_agent_def_find_tool(t->def, "read_file")->spec);
}

/* Request k's member as JSON text (agc_free on t->ctx). */
static char *request_text(rt *t, size_t k, const char *member)
{
    json_t *all = NULL;
    const json_t *body = rt_request(t, k, &all);
    char *s = NULL;
    assert_int_equal(agc_json_dump(&s, json_object_get(body, member), 0, t->ctx), AGC_OK);
    json_decref(all);
    return s;
}

static void model_calls_wasm_tools_end_to_end(void **state)
{
    (void)state;
    const char *why = wasm_missing();
    if (why) {
        print_message("skipped: %s\n", why);
        skip();
    }
    rt *t = rt_new("{\"replies\":["
                   "{\"tool_calls\":["
                   "{\"id\":\"c1\",\"name\":\"wc\",\"arguments\":{\"path\":\"/data/notes.txt\"}},"
                   "{\"id\":\"c2\",\"name\":\"json_transform\",\"arguments\":{\"k\":[true]}},"
                   "{\"id\":\"c3\",\"name\":\"sha256\",\"arguments\":{\"data\":\"abc\"}}]},"
                   "{\"tool_calls\":[{\"id\":\"c4\",\"name\":\"sha256\","
                   "\"arguments\":{\"data\":\"abc\",\"rounds\":2000000000}}]},"
                   "{\"text\":\"All done.\"}]}");
    load_wasm_agent(t);
    rt_start(t, "count, transform and hash", NULL);
    assert_int_equal(rt_go(t), AGC_OK);
    if (agc_run_status_get(t->run) != AGC_RUN_FINISHED)
        fail_msg("run: %s", agc_ctx_errmsg(t->ctx));
    assert_string_equal(agc_run_output(t->run), "All done.");

    /* the model saw the tools with their description and parameters */
    char *tools = request_text(t, 0, "tools");
    assert_non_null(strstr(tools, "\"wc\""));
    assert_non_null(strstr(tools, "Count lines, words and bytes"));
    assert_non_null(strstr(tools, "\"required\""));
    agc_free(t->ctx, tools);

    /* the three results went back to the model */
    char *m = request_text(t, 1, "messages");
    assert_non_null(strstr(m, "\\\"words\\\": 3"));
    assert_non_null(strstr(m, "\\\"/k/0\\\": true"));
    assert_non_null(strstr(m, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    agc_free(t->ctx, m);
    /* the violation reached it as an error result */
    m = rt_last_message(t, 2);
    assert_non_null(strstr(m, "timed out after 300 ms"));
    free(m);
    agc_run_stats s;
    agc_run_get_stats(t->run, &s);
    assert_int_equal(s.tool_calls, 4);
    rt_free(t);
}

static void wasm_only_fields_need_wasm(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[]}");
    char *yaml = rt_agent_yaml(t, "tools:\n  - name: read_file\n    policy: {timeout_ms: 10}\n");
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_config *cfg = NULL;
    assert_int_equal(agc_config_parse(&cfg, yaml, strlen(yaml), "agent.yaml", &co, t->ctx), AGC_OK);
    assert_int_equal(agc_agent_def_from_config(&t->def, cfg, t->ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(t->ctx), "/tools/0/policy"));
    assert_non_null(strstr(agc_ctx_errmsg(t->ctx), "only for wasm tools"));
    agc_config_free(cfg);
    free(yaml);
    rt_free(t);
}

static void missing_wasm_file_fails_the_run_setup(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"unused\"}]}");
    rt_agent(t, "tools:\n  - name: ghost\n    wasm: /nonexistent/ghost.wasm\n");
    agc_run_opts o = rt_opts(t);
    agc_run *run = NULL;
    agc_status st = agc_run_new(&run, t->def, "x", &o, t->ctx);
    if (st == AGC_OK)
        st = agc_run_until_done(run);
    assert_int_not_equal(st, AGC_OK);
    assert_non_null(strstr(agc_ctx_errmsg(t->ctx), "ghost"));
    agc_run_free(run);
    rt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_calls_wasm_tools_end_to_end),
        cmocka_unit_test(wasm_only_fields_need_wasm),
        cmocka_unit_test(missing_wasm_file_fails_the_run_setup),
    };
    return cmocka_run_group_tests_name("runtime_wasm_agent", tests, NULL, NULL);
}
