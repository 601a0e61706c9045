/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The wasm binary reader: accepts real modules, rejects malformed ones with precise errors. */
#include "sandbox_fixture.h"

static agc_status parse(agc_ctx *ctx, const void *b, size_t n, agc_wasm_module **m)
{
    return agc_wasm_module_parse(m, b, n, ctx);
}

static void reads_imports_exports_and_memory(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_wasm_module *m = NULL;
    assert_int_equal(parse(ctx, MOD_UNKNOWN_IMPORT, sizeof MOD_UNKNOWN_IMPORT, &m), AGC_OK);
    assert_int_equal(agc_wasm_module_import_count(m), 1);
    const agc_wasm_import *im = agc_wasm_module_import(m, 0);
    assert_string_equal(im->module, "env");
    assert_string_equal(im->name, "mystery");
    assert_string_equal(im->sig, ":");
    const agc_wasm_export *ex = agc_wasm_module_find_export(m, "_start");
    assert_non_null(ex);
    assert_int_equal(ex->index, 1);
    assert_false(agc_wasm_module_memory(m)->present);
    agc_wasm_module_free(m);

    size_t len;
    unsigned char *wc = load_tool("wc", &len);
    if (wc) {
        assert_int_equal(parse(ctx, wc, len, &m), AGC_OK);
        assert_true(agc_wasm_module_memory(m)->present);
        assert_true(agc_wasm_module_memory(m)->exported);
        assert_non_null(agc_wasm_module_find_export(m, "_start"));
        assert_int_equal(agc_wasm_module_check_imports(m, ctx), AGC_OK);
        agc_buf caps;
        agc_buf_init(&caps, ctx, 0);
        assert_int_equal(agc_wasm_module_capabilities(&caps, m), AGC_OK);
        assert_non_null(strstr(agc_buf_cstr(&caps), "files"));
        assert_non_null(strstr(agc_buf_cstr(&caps), "stdio"));
        agc_buf_free(&caps);
        agc_wasm_module_free(m);
        free(wc);
    }
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void expect_error(const void *b, size_t n, agc_status code, const char *needle)
{
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_wasm_module *m = (agc_wasm_module *)1;
    assert_int_equal(parse(ctx, b, n, &m), code);
    assert_null(m);
    if (!strstr(agc_ctx_errmsg(ctx), needle))
        fail_msg("error '%s' lacks '%s'", agc_ctx_errmsg(ctx), needle);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void rejects_bad_magic_and_version(void **state)
{
    (void)state;
    static const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    expect_error(elf, sizeof elf, AGC_EPARSE, "does not start with \\0asm");
    static const unsigned char v2[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    expect_error(v2, sizeof v2, AGC_EPARSE, "version 2");
    expect_error("", 0, AGC_EPARSE, "\\0asm");
}

static void rejects_truncated_modules(void **state)
{
    (void)state;
    /* every strict prefix that cuts a section is an error, never a crash */
    for (size_t n = 9; n < sizeof MOD_UNKNOWN_IMPORT; n++) {
        agc_test_alloc a;
        agc_ctx *ctx = agc_test_ctx_new(&a);
        agc_wasm_module *m = NULL;
        agc_status st = parse(ctx, MOD_UNKNOWN_IMPORT, n, &m);
        if (st == AGC_OK) /* a prefix ending exactly at a section boundary is a valid module */
            agc_wasm_module_free(m);
        else
            assert_int_equal(st, AGC_EPARSE);
        agc_ctx_free(ctx);
        assert_int_equal(a.live, 0);
    }
    unsigned char cut[sizeof MOD_EMPTY_START - 3];
    memcpy(cut, MOD_EMPTY_START, sizeof cut);
    expect_error(cut, sizeof cut, AGC_EPARSE, "code section declares 4 bytes but only 1 remain");
}

static void rejects_absurd_section_sizes(void **state)
{
    (void)state;
    /* type section claiming 0xFFFFFFF0 bytes */
    static const unsigned char huge[] = {WASM_MAGIC, 0x01, 0xf0, 0xff, 0xff, 0xff, 0x0f, 0x01};
    expect_error(huge, sizeof huge, AGC_EPARSE, "type section declares 4294967280 bytes");
    /* LEB128 too long */
    static const unsigned char leb[] = {WASM_MAGIC, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_error(leb, sizeof leb, AGC_EPARSE, "LEB128");
    /* an import count far above what the section can hold */
    static const unsigned char many[] = {WASM_MAGIC, 0x02, 0x04, 0xff, 0xff, 0xff, 0x0f};
    expect_error(many, sizeof many, AGC_EPARSE, "cannot fit");
    /* sections out of order */
    static const unsigned char order[] = {WASM_MAGIC, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00};
    expect_error(order, sizeof order, AGC_EPARSE, "out of order");
    /* unknown section id */
    static const unsigned char unk[] = {WASM_MAGIC, 0x2a, 0x00};
    expect_error(unk, sizeof unk, AGC_EPARSE, "unknown section id 42");
    /* memory above 4 GiB and imported memories */
    static const unsigned char mem[] = {WASM_MAGIC, 0x05, 0x05, 0x01, 0x00, 0x81, 0x80, 0x04};
    expect_error(mem, sizeof mem, AGC_EPARSE, "65536 pages");
    static const unsigned char imem[] = {WASM_MAGIC, 0x02, 0x0c, 0x01, 0x03, 'e',  'n', 'v',
                                         0x03,       'm',  'e',  'm',  0x02, 0x00, 0x01};
    expect_error(imem, sizeof imem, AGC_EUNSUPPORTED, "imports a memory (env.mem)");
}

static void unknown_import_fails_to_load_naming_it(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_wasm_module *m = NULL;
    assert_int_equal(parse(ctx, MOD_UNKNOWN_IMPORT, sizeof MOD_UNKNOWN_IMPORT, &m), AGC_OK);
    assert_int_equal(agc_wasm_module_check_imports(m, ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "env.mystery"));
    /* instance_new refuses before touching the (nonexistent) compiled file */
    agc_wasm_instance *in = NULL;
    assert_int_equal(agc_wasm_instance_new(&in, "/nonexistent.so", m, NULL, ctx), AGC_ENOTFOUND);
    assert_null(in);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "env.mystery"));
    agc_wasm_module_free(m);
    /* and so does the one-call path, before compiling anything */
    agc_wasm_result r;
    assert_int_equal(
        agc_wasm_run(&r, MOD_UNKNOWN_IMPORT, sizeof MOD_UNKNOWN_IMPORT, NULL, NULL, ctx),
        AGC_ENOTFOUND);
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static agc_status sweep_parse(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_wasm_module *m = NULL;
    agc_status st = parse(ctx, MOD_UNKNOWN_IMPORT, sizeof MOD_UNKNOWN_IMPORT, &m);
    agc_wasm_module_free(m);
    return st;
}

static void parse_survives_allocation_failures(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(sweep_parse, NULL, 0) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_imports_exports_and_memory),
        cmocka_unit_test(rejects_bad_magic_and_version),
        cmocka_unit_test(rejects_truncated_modules),
        cmocka_unit_test(rejects_absurd_section_sizes),
        cmocka_unit_test(unknown_import_fails_to_load_naming_it),
        cmocka_unit_test(parse_survives_allocation_failures),
    };
    return cmocka_run_group_tests_name("sandbox_wasm_module", tests, NULL, NULL);
}
