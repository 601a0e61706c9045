/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * codegen coding agent: the runtime driving edit_files and run_tests against
 * fakellm on a copy of examples/code-demo. The model's first edit is
 * ambiguous: the error (with the matching lines) must reach the model as the
 * tool result and change nothing; its second edit fixes the bug; run_tests
 * reports ALL PASSED back to the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/codegen.h"
#include "agentc/json.h"
#include "agentc/runtime.h"
#include "fakellm_proc.h"

static char *dump(const json_t *v, agc_ctx *ctx)
{
    char *text = NULL;
    assert_int_equal(agc_json_dump(&text, v, 0, ctx), AGC_OK);
    return text;
}

static char *script(agc_ctx *ctx)
{
    json_t *s = json_pack(
        "{s:[{s:[{s:s, s:s, s:{s:s}}]}, {s:[{s:s, s:s, s:{s:s}}]}, {s:[{s:s, s:s, s:{}}]}, "
        "{s:s, s:s}]}",
        "replies", "tool_calls", "id", "c1", "name", "edit_files", "arguments", "edits",
        "strutil.c\n<<<<<<< SEARCH\n    }\n=======\n    } /* loop */\n>>>>>>> REPLACE\n",
        "tool_calls", "id", "c2", "name", "edit_files", "arguments", "edits",
        "strutil.c\n<<<<<<< SEARCH\n            in_word = 1;\n=======\n            in_word = 1;\n"
        "            n++;\n>>>>>>> REPLACE\n",
        "tool_calls", "id", "c3", "name", "run_tests", "arguments", "text", "Fixed.", "finish",
        "stop");
    char *text = dump(s, ctx);
    json_decref(s);
    return text;
}

static void fixes_the_demo_with_feedback(void **state)
{
    (void)state;
    if (system("command -v make >/dev/null && command -v cc >/dev/null") != 0)
        skip();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char *js = script(ctx);
    agc_fakellm *llm = agc_fakellm_start_json(js);
    agc_free(ctx, js);
    char *src = agc_test_source_path("examples/code-demo");
    char *dir = agc_test_tmpdir();
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "cp -r '%s'/. '%s'/ && rm -f '%s'/test_strutil '%s'/*.json", src, dir,
             dir, dir);
    assert_int_equal(system(cmd), 0);
    setenv("CODE_AGENT_KEY", "sk-test-code-agent-0123456789", 1);

    agc_workspace *ws = NULL;
    agc_pipeline *pl = NULL;
    agc_tool_registry *reg = NULL;
    agc_tool *t = NULL;
    assert_int_equal(agc_workspace_open(&ws, dir, NULL, ctx), AGC_OK);
    assert_int_equal(agc_pipeline_new(&pl, ws, NULL, ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_new(&reg, ctx), AGC_OK);
    assert_int_equal(agc_changeset_tool_new(&t, ws, pl, ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_add(reg, t), AGC_OK);
    assert_int_equal(agc_pipeline_tool_new(&t, pl, ctx), AGC_OK);
    assert_int_equal(agc_tool_registry_add(reg, t), AGC_OK);

    char base[512];
    snprintf(base, sizeof base, "%s/v1", agc_fakellm_url(llm));
    json_t *doc = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:{s:i}}}", "version", 1,
                            "name", "coder", "instructions", "Fix the code.", "provider", "name",
                            "openai", "base_url", base, "model", "fake-model", "api_key",
                            "env:CODE_AGENT_KEY", "retry", "max_attempts", 1);
    agc_agent_def *def = NULL;
    assert_int_equal(agc_agent_def_from_json(&def, doc, "test", ctx), AGC_OK);
    json_decref(doc);
    agc_run_opts ro = AGC_RUN_OPTS_INIT;
    ro.tools = reg;
    ro.workspace = ws;
    ro.approve = AGC_APPROVE_MODE_ALL;
    ro.no_agents_md = true;
    agc_run *run = NULL;
    assert_int_equal(agc_run_new(&run, def, "make test fails; fix it", &ro, ctx), AGC_OK);
    assert_int_equal(agc_run_until_done(run), AGC_OK);
    assert_int_equal(agc_run_status_get(run), AGC_RUN_FINISHED);
    assert_string_equal(agc_run_output(run), "Fixed.");

    /* what the model saw as tool results */
    json_t *reqs = agc_fakellm_requests(llm);
    assert_int_equal(json_array_size(reqs), 4);
    char *second = dump(json_object_get(json_array_get(reqs, 1), "body"), ctx);
    if (!strstr(second, "matches 2 places"))
        fprintf(stderr, "second request: %s\n", second);
    assert_non_null(strstr(second, "matches 2 places"));
    assert_non_null(strstr(second, "Nothing was changed"));
    agc_free(ctx, second);
    char *third = dump(json_object_get(json_array_get(reqs, 2), "body"), ctx);
    assert_non_null(strstr(third, "applied 1 file"));
    assert_non_null(strstr(third, "build and tests after this change: ALL PASSED"));
    agc_free(ctx, third);
    char *fourth = dump(json_object_get(json_array_get(reqs, 3), "body"), ctx);
    assert_non_null(strstr(fourth, "ALL PASSED"));
    agc_free(ctx, fourth);
    json_decref(reqs);

    /* and the project passes now */
    agc_pipe_result r;
    assert_int_equal(agc_pipeline_run(&r, pl), AGC_OK);
    assert_true(r.passed);
    agc_pipe_result_clear(&r, ctx);

    agc_run_free(run);
    agc_agent_def_unref(def);
    agc_tool_registry_free(reg);
    agc_pipeline_free(pl);
    agc_workspace_close(ws);
    agc_ctx_free(ctx);
    assert_int_equal(agc_fakellm_stop(llm), 0);
    agc_test_rmtree(dir);
    free(dir);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixes_the_demo_with_feedback),
    };
    return cmocka_run_group_tests_name("codegen_code_agent", tests, NULL, NULL);
}
