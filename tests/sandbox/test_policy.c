/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tool policies from YAML: defaults deny everything, fields are read,
 * relative paths resolve from the file's directory, and every mistake is an
 * error naming file:line:col or the field.
 */
#include "agentc/sandbox_worker.h"
#include <sys/stat.h>

#include "sandbox_fixture.h"

static agc_status load_text(agc_sandbox_policy **p, agc_ctx *ctx, const char *dir, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/policy.yaml", dir);
    agc_test_write_file(path, text);
    return agc_sandbox_policy_load(p, path, ctx);
}

static void defaults_deny_everything(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_sandbox_policy *p = NULL;
    assert_int_equal(agc_sandbox_policy_new(&p, ctx), AGC_OK);
    assert_int_equal(p->n_paths, 0);
    assert_int_equal(p->n_env, 0);
    assert_null(p->allowed_hosts);
    assert_int_equal(p->memory_mb, 64);
    assert_int_equal(p->timeout_ms, 5000);
    assert_int_equal(p->mode, AGC_SANDBOX_POOL);
    assert_false(p->network_namespace);
    agc_sandbox_policy_free(p, ctx);
    agc_ctx_free(ctx);
}

static void loads_every_field(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *dir = agc_test_tmpdir();
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/data", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    agc_sandbox_policy *p = NULL;
    agc_status st = load_text(&p, ctx, dir,
                              "allowed_paths: [\"ro:data=/in\", \"rw:.\"]\n"
                              "allowed_hosts:\n  - {host: example.org}\n"
                              "env: [LANG]\nmemory_mb: 32\ntimeout_ms: 1500\n"
                              "max_output_kb: 8\ncpu_ms: 2000\nmax_write_kb: 100\n"
                              "landlock: required\nnamespaces: off\nnetwork_namespace: true\n"
                              "mode: fresh\npool: {size: 2, max_calls: 7}\nentry: run\n");
    if (st != AGC_OK)
        print_message("%s\n", agc_ctx_errmsg(ctx));
    assert_int_equal(st, AGC_OK);
    assert_int_equal(p->n_paths, 2);
    char real[4200];
    assert_non_null(realpath(sub, real));
    assert_string_equal(p->paths[0].host, real);
    assert_string_equal(p->paths[0].guest, "/in");
    assert_false(p->paths[0].writable);
    assert_true(p->paths[1].writable);
    assert_int_equal(p->n_env, 1);
    assert_string_equal(p->env[0], "LANG");
    assert_int_equal(json_array_size(p->allowed_hosts), 1);
    assert_int_equal(p->memory_mb, 32);
    assert_int_equal(p->timeout_ms, 1500);
    assert_int_equal(p->max_output_kb, 8);
    assert_int_equal(p->cpu_ms, 2000);
    assert_int_equal(p->max_write_kb, 100);
    assert_int_equal(p->landlock, AGC_JAIL_REQUIRED);
    assert_int_equal(p->namespaces, AGC_JAIL_OFF);
    assert_true(p->network_namespace);
    assert_int_equal(p->mode, AGC_SANDBOX_FRESH);
    assert_int_equal(p->pool_size, 2);
    assert_int_equal(p->pool_max_calls, 7);
    assert_string_equal(p->entry, "run");
    agc_sandbox_policy_free(p, ctx);
    agc_test_rmtree(dir);
    free(dir);
    agc_ctx_free(ctx);
}

static void errors_name_the_place(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    char *dir = agc_test_tmpdir();
    agc_sandbox_policy *p = NULL;
    /* unknown key, line 2 */
    assert_int_equal(load_text(&p, ctx, dir, "memory_mb: 8\nallowed_pathz: []\n"), AGC_ESCHEMA);
    assert_null(p);
    print_message("%s\n", agc_ctx_errmsg(ctx));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "policy.yaml:2:1: /: "));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "allowed_pathz"));
    /* wrong type at line 1 col 12 */
    assert_int_equal(load_text(&p, ctx, dir, "memory_mb: lots\n"), AGC_ESCHEMA);
    print_message("%s\n", agc_ctx_errmsg(ctx));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "policy.yaml:1:1: /memory_mb: must be integer"));
    assert_int_equal(load_text(&p, ctx, dir, "mode: sometimes\n"), AGC_ESCHEMA);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/mode"));
    assert_int_equal(load_text(&p, ctx, dir, "allowed_paths: [\"xx:/tmp\"]\n"), AGC_ESCHEMA);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/allowed_paths/0"));
    assert_int_equal(load_text(&p, ctx, dir, "allowed_paths: [\"ro:no/such/dir\"]\n"),
                     AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/allowed_paths/0"));
    assert_int_equal(load_text(&p, ctx, dir, "- a list\n"), AGC_ESCHEMA);
    assert_int_equal(load_text(&p, ctx, dir, "memory_mb: [\n"), AGC_EPARSE);
    /* from JSON, with a location prefix */
    json_t *o = json_pack("{s:i}", "timeout_ms", -5);
    assert_int_equal(agc_sandbox_policy_from_json(&p, o, NULL, "agent.yaml:7:3", ctx), AGC_ESCHEMA);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "agent.yaml:7:3"));
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "/timeout_ms"));
    json_decref(o);
    agc_test_rmtree(dir);
    free(dir);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_deny_everything),
        cmocka_unit_test(loads_every_field),
        cmocka_unit_test(errors_name_the_place),
    };
    return cmocka_run_group_tests_name("sandbox_policy", tests, NULL, NULL);
}
