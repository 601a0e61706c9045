/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Acceptance: the official JSON-Schema-Test-Suite, draft2020-12. Every
 * required file must pass except the entries of tests/data/schema-known-
 * failures.txt; optional/ (optional/format with format assertion on) is run
 * and reported but never fails the test. remotes/ is served from disk
 * through the resolver callback as http://localhost:1234/... (no network).
 * Skips when AGC_TESTDATA does not hold the suite.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/json.h"
#include "agentc/schema.h"

typedef struct suite {
    char *remotes;
    char **known; /* "file | case | test" prefixes */
    size_t nknown;
    long passed, failed, unexpected;
} suite;

static agc_status resolve_remote(json_t **out, const char *uri, void *user, agc_ctx *ctx)
{
    suite *s = user;
    static const char prefix[] = "http://localhost:1234/";
    *out = NULL;
    if (strncmp(uri, prefix, sizeof prefix - 1) != 0)
        return AGC_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->remotes, uri + sizeof prefix - 1);
    struct stat stt;
    if (stat(path, &stt) != 0)
        return AGC_OK;
    return agc_json_load_file(out, path, ctx);
}

static void load_known(suite *s)
{
    char *path = agc_test_source_path("tests/data/schema-known-failures.txt");
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        /* keep "file | case | test", drop " | reason" */
        char *p = line;
        for (int k = 0; k < 3 && p; k++) {
            p = strstr(p, " | ");
            if (p && k < 2)
                p += 3;
        }
        if (p)
            *p = '\0';
        s->known = realloc(s->known, (s->nknown + 1) * sizeof *s->known);
        s->known[s->nknown++] = strdup(line);
    }
    fclose(f);
}

static bool is_known(const suite *s, const char *key)
{
    for (size_t i = 0; i < s->nknown; i++)
        if (strcmp(s->known[i], key) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_file(suite *s, const char *dir, const char *name, const char *label,
                     bool format_assert, bool required)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    json_t *cases = NULL;
    /* jansson directly: the suite has "\u0000" in strings (JSON_ALLOW_NUL) and
     * integers beyond int64 (optional/bignum.json: read as reals then) */
    json_error_t jerr;
    agc_ctx *prev = agc_json_enter(ctx);
    cases = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!cases)
        cases = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    agc_json_leave(prev);
    if (!cases)
        fprintf(stderr, "cannot load %s: %s\n", path, jerr.text);
    assert_non_null(cases);
    size_t ci;
    json_t *tc;
    json_array_foreach(cases, ci, tc)
    {
        const char *cdesc = json_string_value(json_object_get(tc, "description"));
        agc_schema_opts o = AGC_SCHEMA_OPTS_INIT;
        o.resolve = resolve_remote;
        o.resolve_user = s;
        o.format_assert = format_assert;
        agc_schema *sch = NULL;
        agc_status cst = agc_schema_compile(&sch, json_object_get(tc, "schema"), &o, ctx);
        char cerr[1024] = "";
        if (cst != AGC_OK)
            snprintf(cerr, sizeof cerr, "compile: %s: %s", agc_status_name(cst),
                     agc_ctx_errmsg(ctx));
        size_t ti;
        json_t *t;
        json_array_foreach(json_object_get(tc, "tests"), ti, t)
        {
            const char *tdesc = json_string_value(json_object_get(t, "description"));
            bool expect = json_is_true(json_object_get(t, "valid"));
            bool ok;
            char why[1200] = "";
            if (!sch) {
                ok = false;
                snprintf(why, sizeof why, "%s", cerr);
            } else {
                agc_status vst = agc_schema_validate(NULL, sch, json_object_get(t, "data"), ctx);
                if (vst != AGC_OK && vst != AGC_ESCHEMA) {
                    ok = false;
                    snprintf(why, sizeof why, "validate: %s: %s", agc_status_name(vst),
                             agc_ctx_errmsg(ctx));
                } else {
                    ok = (vst == AGC_OK) == expect;
                    if (!ok)
                        snprintf(why, sizeof why, "expected %s, got %s%s%s",
                                 expect ? "valid" : "invalid", vst == AGC_OK ? "valid" : "invalid",
                                 vst == AGC_OK ? "" : ": ",
                                 vst == AGC_OK ? "" : agc_ctx_errmsg(ctx));
                }
            }
            if (ok) {
                s->passed++;
                continue;
            }
            s->failed++;
            char key[2048];
            snprintf(key, sizeof key, "%s | %s | %s", label, cdesc, tdesc);
            bool known = is_known(s, key);
            if (required && !known)
                s->unexpected++;
            fprintf(stderr, "%s%s: %s\n",
                    required ? (known ? "known failure: " : "FAIL: ") : "optional failure: ", key,
                    why);
        }
        agc_schema_free(sch, ctx);
    }
    prev = agc_json_enter(ctx);
    json_decref(cases);
    agc_json_leave(prev);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void run_dir(suite *s, const char *dir, const char *prefix, bool format_assert,
                    bool required)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char label[512];
        snprintf(label, sizeof label, "%s%s", prefix, names[i]);
        run_file(s, dir, names[i], label, format_assert, required);
        free(names[i]);
    }
    free(names);
}

static char *suite_dir(void)
{
    char *dir = agc_test_testdata_path("JSON-Schema-Test-Suite/tests/draft2020-12");
    if (!dir)
        fprintf(stderr, "JSON-Schema-Test-Suite not found under AGC_TESTDATA (%s); skipping\n",
                getenv("AGC_TESTDATA") ? getenv("AGC_TESTDATA") : "unset");
    return dir;
}

static void suite_init(suite *s)
{
    memset(s, 0, sizeof *s);
    s->remotes = agc_test_testdata_path("JSON-Schema-Test-Suite/remotes");
    load_known(s);
}

static void suite_fini(suite *s)
{
    for (size_t i = 0; i < s->nknown; i++)
        free(s->known[i]);
    free(s->known);
    free(s->remotes);
}

static void passes_required_draft2020_12_suite(void **state)
{
    (void)state;
    char *dir = suite_dir();
    if (!dir) {
        skip();
        return;
    }
    suite s;
    suite_init(&s);
    run_dir(&s, dir, "", false, true);
    printf("schema suite (draft2020-12 required): %ld passed, %ld failed\n", s.passed, s.failed);
    fflush(stdout);
    long unexpected = s.unexpected;
    suite_fini(&s);
    free(dir);
    assert_int_equal(unexpected, 0);
}

static void runs_optional_draft2020_12_suite(void **state)
{
    (void)state;
    char *dir = suite_dir();
    if (!dir) {
        skip();
        return;
    }
    suite s;
    suite_init(&s);
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/optional", dir);
    run_dir(&s, sub, "optional/", false, false);
    snprintf(sub, sizeof sub, "%s/optional/format", dir);
    run_dir(&s, sub, "optional/format/", true, false);
    printf("schema suite (draft2020-12 optional): %ld passed, %ld failed\n", s.passed, s.failed);
    fflush(stdout);
    suite_fini(&s);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passes_required_draft2020_12_suite),
        cmocka_unit_test(runs_optional_draft2020_12_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
