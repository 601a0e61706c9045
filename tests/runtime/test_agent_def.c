/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * runtime agent_def: agent files (the shipped examples, every section, the
 * approval precedence), errors that name the line, definitions rebuilt from
 * JSON, AGENTS.md merge order and cap (and its place in the system prompt),
 * reference counting, and an out-of-memory sweep over loading a definition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rt_fixture.h"

static agc_status parse_def(agc_agent_def **out, const char *yaml, agc_ctx *ctx)
{
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_config *cfg = NULL;
    agc_status st = agc_config_parse(&cfg, yaml, strlen(yaml), "agent.yaml", &co, ctx);
    if (st == AGC_OK)
        st = agc_agent_def_from_config(out, cfg, ctx);
    agc_config_free(cfg);
    return st;
}

static void check_example(agc_agent_def *d)
{
    assert_string_equal(agc_agent_def_name(d), "coder");
    assert_string_equal(agc_agent_def_model(d), "gpt-4o-mini");
    assert_string_equal(agc_json_str(agc_agent_def_provider(d), "name", ""), "openai");
    assert_int_equal(agc_agent_def_tool_count(d), 5);
    const agc_agent_tool *rc = agc_agent_def_find_tool(d, "run_command");
    assert_non_null(rc);
    assert_int_equal(rc->timeout_ms, 300000);
    assert_int_equal(rc->approval, AGC_TOOL_APPROVE_ASK);
    assert_int_equal(agc_agent_def_tool(d, 0)->approval, AGC_UNSET);
    const agc_budgets *b = agc_agent_def_budgets(d);
    assert_int_equal(b->max_turns, 40);
    assert_int_equal(b->max_tool_calls, 200);
    assert_int_equal(b->max_wall_ms, 1800000);
    assert_true(b->max_cost_usd > 2.4 && b->max_cost_usd < 2.6);
    assert_int_equal(agc_agent_def_approval(d, "read_file", AGC_TOOL_APPROVE_ASK),
                     AGC_TOOL_APPROVE_ALWAYS);
    assert_int_equal(agc_agent_def_approval(d, "apply_patch", AGC_TOOL_APPROVE_ALWAYS),
                     AGC_TOOL_APPROVE_ASK);
    /* approvals.default applies to tools without their own setting */
    assert_int_equal(agc_agent_def_approval(d, "find", AGC_TOOL_APPROVE_ALWAYS),
                     AGC_TOOL_APPROVE_ASK);
    assert_string_equal(agc_agent_def_strategy(d), "native");
    assert_int_equal(agc_agent_def_output_retries(d), AGC_AGENT_DEFAULT_OUTPUT_RETRIES);
    assert_null(agc_agent_def_output_validator(d));
    assert_int_equal(agc_agent_def_approve_mode(d), AGC_APPROVE_MODE_ASK);
}

static void loads_the_shipped_examples(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    const char *files[] = {"examples/agent.yaml", "examples/agent.json"};
    for (size_t i = 0; i < 2; i++) {
        char *path = agc_test_source_path(files[i]);
        agc_agent_def *d = NULL;
        if (agc_agent_def_load(&d, path, &co, ctx) != AGC_OK)
            fail_msg("%s: %s", path, agc_ctx_errmsg(ctx));
        check_example(d);
        /* the stored JSON copy builds the same definition */
        agc_agent_def *copy = NULL;
        assert_int_equal(agc_agent_def_from_json(&copy, agc_agent_def_json(d), "copy", ctx),
                         AGC_OK);
        check_example(copy);
        assert_ptr_equal(agc_agent_def_ref(copy), copy);
        agc_agent_def_unref(copy);
        agc_agent_def_unref(copy);
        agc_agent_def_unref(d);
        free(path);
    }
    agc_ctx_free(ctx);
}

static void reads_runtime_sections(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_agent_def *d = NULL;
    const char *yaml = "version: 1\n"
                       "tools:\n"
                       "  - name: grep\n"
                       "    approval: never\n"
                       "    max_output_bytes: 100\n"
                       "approvals: {mode: reads, tools: {grep: always}}\n"
                       "output_schema: {type: object}\n"
                       "output_retries: 5\n"
                       "strategy: {name: native, max_steps: 3}\n"
                       "sub_agents:\n"
                       "  - {name: helper, file: helper.yaml, mode: tool}\n";
    if (parse_def(&d, yaml, ctx) != AGC_OK)
        fail_msg("%s", agc_ctx_errmsg(ctx));
    assert_string_equal(agc_agent_def_name(d), "agent");
    assert_null(agc_agent_def_provider(d));
    assert_int_equal(agc_agent_def_tool(d, 0)->output_cap, 100);
    /* approvals.tools beats the tools entry */
    assert_int_equal(agc_agent_def_approval(d, "grep", AGC_TOOL_APPROVE_ASK),
                     AGC_TOOL_APPROVE_ALWAYS);
    assert_int_equal(agc_agent_def_approval(d, "other", AGC_TOOL_APPROVE_NEVER),
                     AGC_TOOL_APPROVE_NEVER);
    assert_int_equal(agc_agent_def_approve_mode(d), AGC_APPROVE_MODE_READS);
    assert_non_null(agc_agent_def_output_validator(d));
    assert_int_equal(agc_agent_def_output_retries(d), 5);
    assert_int_equal(agc_json_int(agc_agent_def_strategy_config(d), "max_steps", 0), 3);
    assert_int_equal(json_array_size(agc_agent_def_sub_agents(d)), 1);
    assert_int_equal(agc_agent_def_budgets(d)->max_turns, -1);
    agc_agent_def_unref(d);

    agc_approve_mode m;
    assert_int_equal(agc_approve_mode_parse(&m, "all", ctx), AGC_OK);
    assert_int_equal(m, AGC_APPROVE_MODE_ALL);
    assert_int_equal(agc_approve_mode_parse(&m, "maybe", ctx), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "ask, deny, reads or all"));
    assert_string_equal(agc_approve_mode_name(AGC_APPROVE_MODE_READS), "reads");
    agc_ctx_free(ctx);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    static const struct {
        const char *yaml;
        agc_status code;
        const char *where;
    } cases[] = {
        {"version: 1\nname: a\nbudgets:\n  max_turns: many\n", AGC_ESCHEMA, "agent.yaml:4:"},
        {"version: 1\ntools:\n  - read_file\n  - grep\n  - read_file\n", AGC_EINVAL,
         "agent.yaml:5:"},
        {"version: 1\n\noutput_schema:\n  type: 5\n", AGC_EINVAL, "agent.yaml:"},
        {"version: 1\napprovals: {mode: sometimes}\n", AGC_ESCHEMA, "agent.yaml:2:"},
        {"version: 1\nstrategy: swarm\n", AGC_ESCHEMA, "agent.yaml:2:"},
        {"version: 1\nname: x\n  bad: indent\n", AGC_EPARSE, "agent.yaml:3:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        agc_agent_def *d = NULL;
        agc_status st = parse_def(&d, cases[i].yaml, ctx);
        if (st != cases[i].code || !strstr(agc_ctx_errmsg(ctx), cases[i].where))
            fail_msg("case %zu: %s: %s", i, agc_status_name(st), agc_ctx_errmsg(ctx));
        assert_null(d);
    }
    agc_ctx_free(ctx);
}

static void json_definitions_are_validated(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    json_t *bad = json_pack("{s:i, s:s}", "version", 1, "nonsense", "x");
    agc_agent_def *d = NULL;
    assert_int_equal(agc_agent_def_from_json(&d, bad, "stored", ctx), AGC_ESCHEMA);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "stored"));
    assert_null(d);
    json_decref(bad);
    agc_ctx_free(ctx);
}

static void mkdirs(const char *root, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    mkdir(path, 0700);
}

static void put(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    agc_test_write_file(path, text);
}

static void agents_md_merges_root_first(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char *root = agc_test_tmpdir();
    mkdirs(root, "a/b/c");
    char *md = NULL;
    assert_int_equal(agc_agents_md_load(&md, root, root, 0, ctx), AGC_OK);
    assert_null(md);
    put(root, "AGENTS.md", "ROOT RULES");
    put(root, "a/b/AGENTS.md", "B RULES");
    put(root, "a/AGENTS.md", "A RULES");
    put(root, "a/b/c/AGENTS.md", "C RULES (below the workdir)");
    char wd[1024];
    snprintf(wd, sizeof wd, "%s/a/b", root);
    assert_int_equal(agc_agents_md_load(&md, root, wd, 0, ctx), AGC_OK);
    const char *r = strstr(md, "ROOT RULES"), *a = strstr(md, "A RULES"),
               *b = strstr(md, "B RULES");
    assert_true(r && a && b && r < a && a < b);
    assert_null(strstr(md, "C RULES"));
    assert_non_null(strstr(md, "# AGENTS.md (a/b)"));
    agc_free(ctx, md);
    /* a working directory outside the workspace is refused */
    assert_int_equal(agc_agents_md_load(&md, wd, root, 0, ctx), AGC_EINVAL);
    assert_null(md);
    agc_test_rmtree(root);
    free(root);
    agc_ctx_free(ctx);
}

static void agents_md_is_capped_with_a_note(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char *root = agc_test_tmpdir();
    size_t big = 40 * 1024;
    char *text = malloc(big + 1);
    for (size_t i = 0; i < big; i += 2)
        memcpy(text + i, "\xc3\xa9", 2); /* é: a cut must not split it */
    text[big] = '\0';
    put(root, "AGENTS.md", text);
    free(text);
    char *md = NULL;
    assert_int_equal(agc_agents_md_load(&md, root, root, 0, ctx), AGC_OK);
    size_t len = strlen(md);
    assert_true(len <= AGC_AGENTS_MD_MAX);
    assert_non_null(strstr(md, "[AGENTS.md truncated: "));
    assert_non_null(strstr(md, " bytes shown]"));
    const char *note = strstr(md, "\n[AGENTS.md truncated");
    assert_int_equal(((unsigned char)note[-1] & 0xC0) != 0x80 || (unsigned char)note[-2] == 0xc3,
                     1);
    agc_free(ctx, md);
    agc_test_rmtree(root);
    free(root);
    agc_ctx_free(ctx);
}

static void agents_md_joins_the_system_prompt(void **state)
{
    (void)state;
    rt *t = rt_new("{\"replies\":[{\"text\":\"ok\"}]}");
    put(t->ws, "AGENTS.md", "Always run the tests.");
    rt_agent(t, NULL);
    agc_run_opts o = rt_opts(t);
    o.no_agents_md = false;
    o.workdir = t->ws;
    rt_start(t, "hi", &o);
    assert_int_equal(rt_go(t), AGC_OK);
    json_t *all = NULL;
    const json_t *msgs = json_object_get(rt_request(t, 0, &all), "messages");
    const char *sys = agc_json_str(json_array_get(msgs, 0), "content", "");
    assert_non_null(strstr(sys, "You are a test agent."));
    assert_non_null(strstr(sys, "Always run the tests."));
    json_decref(all);
    rt_free(t);
}

static agc_status sweep_load(agc_ctx *ctx, void *user)
{
    agc_agent_def *d = NULL;
    agc_status st = parse_def(&d, user, ctx);
    if (st == AGC_OK) {
        agc_run *run = NULL;
        st = agc_run_new(&run, d, "task", NULL, ctx);
        agc_run_free(run);
    }
    agc_agent_def_unref(d);
    return st;
}

static void out_of_memory_while_loading_fails_cleanly(void **state)
{
    (void)state;
    char *path = agc_test_source_path("examples/agent.yaml");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, f);
    fclose(f);
    text[n] = '\0';
    char *full = NULL;
    assert_true(asprintf(&full, "%soutput_schema: {type: object, required: [a]}\n", text) > 0);
    assert_true(agc_test_oom_sweep(sweep_load, full, 0) > 10);
    free(full);
    free(text);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_the_shipped_examples),
        cmocka_unit_test(reads_runtime_sections),
        cmocka_unit_test(errors_name_the_line),
        cmocka_unit_test(json_definitions_are_validated),
        cmocka_unit_test(agents_md_merges_root_first),
        cmocka_unit_test(agents_md_is_capped_with_a_note),
        cmocka_unit_test(agents_md_joins_the_system_prompt),
        cmocka_unit_test(out_of_memory_while_loading_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
