/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Example agentc tool (plain WASI command): counts lines, words and bytes of
 * a file in a preopened directory. Input on stdin: {"path": "/data/file.txt"};
 * output on stdout: {"path": ..., "lines": N, "words": N, "bytes": N}.
 * Build: clang --target=wasm32-wasi -O2 -Wl,--stack-first wc.c -o wc.wasm
 * It only reads: run it with a read-only preopen (--dir ro:/data).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Finds "key": "value" in a flat JSON object (no escapes in value). */
static int json_string(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p)
        return -1;
    p = strchr(p + strlen(pat), '"');
    if (!p)
        return -1;
    const char *e = strchr(++p, '"');
    if (!e || (size_t)(e - p) >= cap)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 0;
}

int main(void)
{
    static char in[8192];
    size_t n = fread(in, 1, sizeof in - 1, stdin);
    in[n] = 0;
    char path[4096];
    if (json_string(in, "path", path, sizeof path) != 0) {
        fprintf(stderr, "wc: input must be {\"path\": \"...\"}\n");
        return 2;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("{\"error\": \"cannot open %s\", \"errno\": %d}\n", path, errno);
        return 1;
    }
    unsigned long lines = 0, words = 0, bytes = 0;
    int c, inword = 0;
    while ((c = getc(f)) != EOF) {
        bytes++;
        if (c == '\n')
            lines++;
        if (isspace(c))
            inword = 0;
        else if (!inword) {
            inword = 1;
            words++;
        }
    }
    fclose(f);
    printf("{\"path\": \"%s\", \"lines\": %lu, \"words\": %lu, \"bytes\": %lu}\n", path, lines,
           words, bytes);
    return 0;
}
