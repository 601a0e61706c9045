/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Generates the C "glue" compiled with every module: trampolines for each
 * import (the guest's import calls land in agc__glue_env->call with a uniform
 * uint64_t argument array), the setjmp'd entry points the host calls through
 * dlsym, the memory cap and the deadline check. Also rewrites wasm2c's output
 * to tick a fuel counter at every loop header and function entry.
 * Invariant: the text here matches wabt 1.0.32's naming (Z_<mod>Z_<name>)
 * and the agc__glue_env layout in sandbox_int.h (AGC__GLUE_ABI).
 */
#include <ctype.h>
#include <string.h>

#include "sandbox_int.h"

#define FUEL_CHUNK "(1 << 20)"

agc_status agc__glue_mangle(agc_buf *b, const char *name)
{
    agc_status st = AGC_OK;
    for (const unsigned char *p = (const unsigned char *)name; *p && st == AGC_OK; p++) {
        if ((isalnum(*p) && *p != 'Z' && *p < 0x80) || *p == '_')
            st = agc_buf_putc(b, (char)*p);
        else
            st = agc_buf_printf(b, "Z%02X", *p);
    }
    return st;
}

static const char *ctype_of(char c)
{
    switch (c) {
    case 'i':
        return "u32";
    case 'I':
        return "u64";
    case 'f':
        return "f32";
    case 'F':
        return "f64";
    default:
        return NULL;
    }
}

static const char PRELUDE[] =
    "#include <setjmp.h>\n#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include <time.h>\n#include \"wasm-rt-impl.h\"\n#include \"guest.h\"\n"
    "#define AGC_VIS __attribute__((visibility(\"default\")))\n"
    "#define AGC_HID __attribute__((visibility(\"hidden\")))\n"
    "typedef struct agc__glue_env {\n  uint32_t abi;\n  void *host;\n"
    "  int (*call)(void *host, uint32_t import_index, const uint64_t *args, uint64_t *ret);\n"
    "  uint8_t *mem_data;\n  uint64_t mem_size;\n  uint32_t cap_pages;\n  uint32_t cap_hit;\n"
    "  int64_t deadline_ns;\n  uint32_t timed_out;\n} agc__glue_env;\n"
    "typedef struct agc__glue_info {\n  uint32_t abi;\n  const char *wabt_version;\n"
    "  const char *module_name;\n  uint32_t n_imports;\n  uint32_t n_exports;\n"
    "  const char *const *export_names;\n} agc__glue_info;\n"
    "AGC_HID agc__glue_env *agc_glue_cur;\n"
    "AGC_HID int64_t agc_glue_fuel = " FUEL_CHUNK ";\n"
    "static wasm_rt_memory_t *agc_glue_mem;\n"
    "static uint32_t agc_glue_orig_max;\n"
    "static int agc_glue_inited;\n"
    "AGC_HID __attribute__((noreturn)) void agc_glue_unwind(int code) {\n"
    "#if WASM_RT_USE_STACK_DEPTH_COUNT\n"
    "  wasm_rt_call_stack_depth = wasm_rt_saved_call_stack_depth;\n#endif\n"
    "  longjmp(wasm_rt_jmp_buf, code);\n}\n"
    "AGC_HID void agc_glue_fuel_out(void) {\n"
    "  agc__glue_env *e = agc_glue_cur;\n  agc_glue_fuel = " FUEL_CHUNK ";\n"
    "  if (e && e->deadline_ns) {\n    struct timespec ts;\n"
    "    clock_gettime(CLOCK_MONOTONIC, &ts);\n"
    "    if ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec >= e->deadline_ns) {\n"
    "      e->timed_out = 1;\n      agc_glue_unwind(101);\n    }\n  }\n}\n"
    "AGC_HID void agc_glue_allocate_memory(wasm_rt_memory_t *m, uint32_t initial, uint32_t "
    "max) {\n"
    "  agc__glue_env *e = agc_glue_cur;\n"
    "  if (e && initial > e->cap_pages) { e->cap_hit = 1; agc_glue_unwind(100); }\n"
    "  wasm_rt_allocate_memory(m, initial, max);\n"
    "  if (!m->data && initial) agc_glue_unwind(100);\n"
    "  agc_glue_orig_max = m->max_pages;\n"
    "  if (e && m->max_pages > e->cap_pages) m->max_pages = e->cap_pages;\n"
    "  agc_glue_mem = m;\n}\n"
    "AGC_HID uint32_t agc_glue_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {\n"
    "  uint32_t r = wasm_rt_grow_memory(m, delta);\n"
    "  uint64_t want = (uint64_t)m->pages + delta;\n"
    "  if (r == (uint32_t)-1 && agc_glue_cur && want > m->max_pages && want <= "
    "agc_glue_orig_max)\n"
    "    agc_glue_cur->cap_hit = 1;\n  return r;\n}\n"
    "static inline void agc_glue_sync(agc__glue_env *e) {\n"
    "  if (agc_glue_mem) { e->mem_data = agc_glue_mem->data; e->mem_size = "
    "agc_glue_mem->size; }\n"
    "  else { e->mem_data = NULL; e->mem_size = 0; }\n}\n";

/* The argument list "struct X *e, u32 a0, ..." of an import trampoline. */
static agc_status trampoline(agc_buf *b, const agc_wasm_import *im, uint32_t idx, agc_ctx *ctx)
{
    const char *colon = strchr(im->sig, ':');
    size_t np = (size_t)(colon - im->sig);
    const char *res = colon + 1;
    if (strlen(res) > 1)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "sandbox",
                             "import %s.%s returns several values", im->module, im->name);
    for (const char *p = im->sig; *p; p++)
        if (*p != ':' && !ctype_of(*p))
            return agc_error_set(ctx, AGC_EUNSUPPORTED, "sandbox",
                                 "import %s.%s uses a vector or reference type", im->module,
                                 im->name);
    agc_status st = agc_buf_printf(b, "AGC_HID %s Z_", *res ? ctype_of(*res) : "void");
    st = st ? st : agc__glue_mangle(b, im->module);
    st = st ? st : agc_buf_puts(b, "Z_");
    st = st ? st : agc__glue_mangle(b, im->name);
    st = st ? st : agc_buf_puts(b, "(struct Z_");
    st = st ? st : agc__glue_mangle(b, im->module);
    st = st ? st : agc_buf_puts(b, "_instance_t *ip");
    for (size_t i = 0; i < np && st == AGC_OK; i++)
        st = agc_buf_printf(b, ", %s a%zu", ctype_of(im->sig[i]), i);
    st = st ? st
            : agc_buf_printf(b,
                             ") {\n  agc__glue_env *e = (agc__glue_env *)ip;\n"
                             "  uint64_t a[%zu] = {0};\n  uint64_t r = 0;\n",
                             np ? np : 1);
    for (size_t i = 0; i < np && st == AGC_OK; i++) {
        char c = im->sig[i];
        if (c == 'f' || c == 'F')
            st = agc_buf_printf(b, "  memcpy(&a[%zu], &a%zu, sizeof a%zu);\n", i, i, i);
        else
            st = agc_buf_printf(b, "  a[%zu] = (uint64_t)a%zu;\n", i, i);
    }
    st = st ? st
            : agc_buf_printf(b,
                             "  agc_glue_sync(e);\n"
                             "  if (e->call(e->host, %uu, a, &r)) agc_glue_unwind(100);\n",
                             idx);
    if (st == AGC_OK && *res) {
        if (*res == 'f' || *res == 'F')
            st = agc_buf_printf(b, "  %s v;\n  memcpy(&v, &r, sizeof v);\n  return v;\n",
                                ctype_of(*res));
        else
            st = agc_buf_printf(b, "  return (%s)r;\n", ctype_of(*res));
    }
    (void)np;
    return st ? st : agc_buf_puts(b, "}\n");
}

/* The callable exports: nullary functions returning nothing, i32 or i64. */
static bool callable(const agc_wasm_export *ex)
{
    return ex->kind == AGC_WASM_FUNC &&
           (strcmp(ex->sig, ":") == 0 || strcmp(ex->sig, ":i") == 0 || strcmp(ex->sig, ":I") == 0);
}

agc_status agc__glue_source(agc_buf *b, const agc_wasm_module *m, const char *gen_header,
                            agc_ctx *ctx)
{
    agc_status st = agc_buf_puts(b, PRELUDE);
    /* import modules in the order wasm2c's instantiate takes them */
    const char *proto = strstr(gen_header, "void Z_" AGC__GLUE_MODNAME "_instantiate(");
    if (!proto)
        return agc_error_set(ctx, AGC_EUNSUPPORTED, "sandbox",
                             "wasm2c output has no Z_" AGC__GLUE_MODNAME "_instantiate; "
                             "agentc needs wasm2c " AGC__WABT_VERSION);
    const char *eol = strchr(proto, ';');
    uint32_t fi = 0;
    for (size_t i = 0; i < m->n_imports && st == AGC_OK; i++)
        if (m->imports[i].kind == AGC_WASM_FUNC)
            st = trampoline(b, &m->imports[i], fi++, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_buf_puts(b, "static const char *const agc_glue_exports[] = {");
    uint32_t ne = 0;
    for (size_t i = 0; i < m->n_exports && st == AGC_OK; i++)
        if (callable(&m->exports[i])) {
            st = agc_buf_puts(b, "\"");
            for (const char *p = m->exports[i].name; *p && st == AGC_OK; p++)
                st = agc_buf_printf(b, "\\%03o", (unsigned char)*p);
            st = st ? st : agc_buf_puts(b, "\", ");
            ne++;
        }
    st =
        st ? st
           : agc_buf_printf(b,
                            "NULL};\nAGC_VIS const agc__glue_info agc_glue_info_v1 = {%uu, \"%s\", "
                            "\"%s\", %uu, %uu, agc_glue_exports};\n",
                            AGC__GLUE_ABI, AGC__WABT_VERSION, AGC__GLUE_MODNAME, fi, ne);
    st = st ? st
            : agc_buf_puts(b, "AGC_VIS int agc_glue_new(agc__glue_env *env, void **out) {\n"
                              "  if (!agc_glue_inited) { wasm_rt_init(); Z_" AGC__GLUE_MODNAME
                              "_init_module(); agc_glue_inited = 1; }\n"
                              "  Z_" AGC__GLUE_MODNAME "_instance_t *volatile i = calloc(1, "
                              "sizeof *i);\n"
                              "  if (!i) return -1;\n  agc_glue_cur = env;\n  agc_glue_mem = "
                              "NULL;\n  agc_glue_fuel = " FUEL_CHUNK ";\n"
                              "  int code = wasm_rt_impl_try();\n"
                              "  if (code) { agc_glue_cur = NULL; *out = i; return code; }\n"
                              "  Z_" AGC__GLUE_MODNAME "_instantiate(i");
    /* one env pointer per imported module, cast to that module's struct */
    for (const char *p = strchr(proto, ','); st == AGC_OK && p && p < eol; p = strchr(p + 1, ',')) {
        const char *s = strstr(p, "struct ");
        const char *star = s ? strchr(s, '*') : NULL;
        if (!s || !star || star > eol)
            break;
        st = agc_buf_printf(b, ", (%.*s*)env", (int)(star - s), s);
    }
    st = st ? st
            : agc_buf_puts(b, ");\n  agc_glue_cur = NULL;\n  *out = i;\n  return 0;\n}\n"
                              "AGC_VIS int agc_glue_invoke(agc__glue_env *env, void *inst, "
                              "uint32_t idx, uint64_t *ret) {\n"
                              "  agc_glue_cur = env;\n  agc_glue_fuel = " FUEL_CHUNK ";\n"
                              "  int code = wasm_rt_impl_try();\n"
                              "  if (code) { agc_glue_cur = NULL; return code; }\n"
                              "  switch (idx) {\n");
    ne = 0;
    for (size_t i = 0; i < m->n_exports && st == AGC_OK; i++) {
        const agc_wasm_export *ex = &m->exports[i];
        if (!callable(ex))
            continue;
        st = agc_buf_printf(b, "  case %u: %sZ_" AGC__GLUE_MODNAME "Z_", ne++,
                            strcmp(ex->sig, ":") == 0 ? "" : "*ret = ");
        st = st ? st : agc__glue_mangle(b, ex->name);
        st = st ? st : agc_buf_puts(b, "(inst); break;\n");
    }
    st = st ? st
            : agc_buf_puts(b, "  default: agc_glue_cur = NULL; return -2;\n  }\n"
                              "  agc_glue_cur = NULL;\n  return 0;\n}\n"
                              "AGC_VIS void agc_glue_free(agc__glue_env *env, void *inst) {\n"
                              "  (void)env;\n  if (!inst) return;\n"
                              "  Z_" AGC__GLUE_MODNAME "_free(inst);\n"
                              "  agc_glue_mem = NULL;\n  free(inst);\n"
                              "  wasm_rt_free();\n  agc_glue_inited = 0;\n}\n");
    return st;
}

static bool loop_label(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && line[i] == ' ')
        i++;
    if (n - i < 7 || memcmp(line + i, "w2c_L", 5) != 0)
        return false;
    i += 5;
    size_t d = i;
    while (i < n && isdigit((unsigned char)line[i]))
        i++;
    if (i == d || i >= n || line[i] != ':')
        return false;
    for (i++; i < n; i++)
        if (line[i] != ' ')
            return false;
    return true;
}

static bool is_prologue(const char *line, size_t n)
{
    static const char pro[] = "FUNC_PROLOGUE;";
    size_t i = 0;
    while (i < n && line[i] == ' ')
        i++;
    return n - i == sizeof pro - 1 && memcmp(line + i, pro, sizeof pro - 1) == 0;
}

agc_status agc__glue_instrument(agc_buf *b, const char *src, size_t len)
{
    agc_status st =
        agc_buf_puts(b, "#define wasm_rt_grow_memory agc_glue_grow_memory\n"
                        "#define wasm_rt_allocate_memory agc_glue_allocate_memory\n"
                        "#include <stdint.h>\n"
                        "extern __attribute__((visibility(\"hidden\"))) int64_t agc_glue_fuel;\n"
                        "__attribute__((visibility(\"hidden\"))) void agc_glue_fuel_out(void);\n"
                        "#define AGC_TICK() do { if (__builtin_expect(--agc_glue_fuel < 0, 0)) "
                        "agc_glue_fuel_out(); } while (0)\n");
    const char *p = src, *end = src + len;
    while (p < end && st == AGC_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        st = agc_buf_append(b, p, n);
        if (st == AGC_OK && (loop_label(p, n) || is_prologue(p, n)))
            st = agc_buf_puts(b, " AGC_TICK();");
        if (st == AGC_OK && nl)
            st = agc_buf_putc(b, '\n');
        p += n + (nl ? 1 : 0);
    }
    return st;
}
