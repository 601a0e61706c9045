/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared helpers for the sandbox tests: hand-assembled tiny modules, the
 * tool checks that decide whether to skip, and the shared compile cache in
 * the build directory ($AGC_BINARY_DIR/wasm-cache) so each example is
 * compiled once per build, not once per test.
 */
#ifndef AGC_TESTS_SANDBOX_FIXTURE_H
#define AGC_TESTS_SANDBOX_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/sandbox.h"

#define WASM_MAGIC 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

/* (module (func (export "_start"))) */
static const unsigned char MOD_EMPTY_START[] = {
    WASM_MAGIC, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06,
    '_',        's',  't',  'a',  'r',  't',  0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};

/* (module (func (export "answer") (result i32) i32.const 42)) */
static const unsigned char MOD_ANSWER[] = {WASM_MAGIC, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
                                           0x03,       0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06,
                                           'a',        'n',  's',  'w',  'e',  'r',  0x00, 0x00,
                                           0x0a,       0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b};

/* (module (import "env" "mystery" (func)) (func (export "_start"))) */
static const unsigned char MOD_UNKNOWN_IMPORT[] = {
    WASM_MAGIC, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x0f, 0x01, 0x03, 'e',
    'n',        'v',  0x07, 'm',  'y',  's',  't',  'e',  'r',  'y',  0x00, 0x00,
    0x03,       0x02, 0x01, 0x00, 0x07, 0x0a, 0x01, 0x06, '_',  's',  't',  'a',
    'r',        't',  0x00, 0x01, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};

static inline bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* Why the compile tests cannot run here, or NULL. */
static inline const char *compile_missing(void)
{
    if (!on_path("wasm2c"))
        return "wasm2c (Debian package wabt) is not installed";
    if (!on_path("cc"))
        return "no C compiler (cc) on PATH";
    if (access("/usr/share/wabt/wasm2c/wasm-rt-impl.c", R_OK) != 0)
        return "the wasm2c runtime source is missing";
    return NULL;
}

#define SKIP_WITHOUT_COMPILER()                                                                    \
    do {                                                                                           \
        const char *why_ = compile_missing();                                                      \
        if (why_) {                                                                                \
            print_message("skipped: %s\n", why_);                                                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* $AGC_BINARY_DIR/wasm/<name>.wasm read into memory (free()), or NULL. */
static inline unsigned char *load_tool(const char *name, size_t *len)
{
    const char *bin = getenv("AGC_BINARY_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/wasm/%s.wasm", bin ? bin : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 22);
    *len = buf ? fread(buf, 1, 1 << 22, f) : 0;
    fclose(f);
    return buf;
}

/* The compile cache shared by all sandbox tests of one build directory. */
static inline const char *shared_cache(void)
{
    static char path[4096];
    const char *bin = getenv("AGC_BINARY_DIR");
    snprintf(path, sizeof path, "%s/wasm-cache", bin ? bin : "/tmp");
    return path;
}

#endif
