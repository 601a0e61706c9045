/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* `agentc sandbox inspect|run`: the command-line face of the sandbox ($AGENTC). */
#include <sys/wait.h>

#include "sandbox_fixture.h"

/* Runs a shell command; returns its exit code and its stdout in out. */
static int sh(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int ws = pclose(p);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static void inspect_names_an_unknown_import(void **state)
{
    (void)state;
    const char *agentc = getenv("AGENTC");
    if (!agentc) {
        print_message("skipped: AGENTC is unset\n");
        skip();
    }
    char *dir = agc_test_tmpdir();
    char path[4096], cmd[9000], out[8192];
    snprintf(path, sizeof path, "%s/odd.wasm", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(MOD_UNKNOWN_IMPORT, 1, sizeof MOD_UNKNOWN_IMPORT, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s sandbox inspect %s", agentc, path);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "env.mystery"));
    assert_non_null(strstr(out, "not runnable"));
    snprintf(cmd, sizeof cmd, "%s sandbox run %s 2>&1", agentc, path);
    assert_int_equal(sh(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "env.mystery, which agentc does not provide"));
    snprintf(cmd, sizeof cmd, "%s sandbox inspect %s/nothing.wasm 2>&1", agentc, dir);
    assert_int_equal(sh(cmd, out, sizeof out), 1);
    snprintf(cmd, sizeof cmd, "%s sandbox run %s --dir xx:/tmp 2>&1", agentc, path);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    agc_test_rmtree(dir);
    free(dir);
}

static void run_passes_input_and_prints_the_result(void **state)
{
    (void)state;
    SKIP_WITHOUT_COMPILER();
    const char *agentc = getenv("AGENTC"), *bin = getenv("AGC_BINARY_DIR");
    size_t n;
    unsigned char *w = load_tool("json_transform", &n);
    if (!agentc || !bin || !w) {
        free(w);
        print_message("skipped: AGENTC or the wasm tools are missing\n");
        skip();
    }
    free(w);
    char cmd[9000], out[8192];
    snprintf(cmd, sizeof cmd,
             "%s sandbox run %s/wasm/json_transform.wasm --cache-dir %s --input '{\"a\":[1]}'",
             agentc, bin, shared_cache());
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_string_equal(out, "{\"/a/0\": 1}\n");
    snprintf(cmd, sizeof cmd, "%s sandbox run %s/wasm/probe.wasm --cache-dir %s --input 'exit 7'",
             agentc, bin, shared_cache());
    assert_int_equal(sh(cmd, out, sizeof out), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inspect_names_an_unknown_import),
        cmocka_unit_test(run_passes_input_and_prints_the_result),
    };
    return cmocka_run_group_tests_name("sandbox_cli", tests, NULL, NULL);
}
