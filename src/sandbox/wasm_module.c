/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Our own small reader of the WebAssembly binary format (core spec 1.0 +
 * reference types): magic/version, the section walk with every size checked
 * against what remains, and the type, import, function, memory and export
 * sections. Invariant: no read goes past the input; counts are capped before
 * anything is allocated from them. It does not validate code bodies: wasm2c
 * does that when compiling.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "sandbox_int.h"

#define MODULE    "sandbox"
#define MAX_ITEMS 100000u /* types, imports, functions, exports */
#define MAX_NAME  1024u

typedef struct rd {
    const uint8_t *p;
    size_t len, pos;
    agc_ctx *ctx;
} rd;

static agc_status bad(rd *r, const char *what)
{
    return agc_error_set(r->ctx, AGC_EPARSE, MODULE, "malformed wasm module at offset 0x%zx: %s",
                         r->pos, what);
}

static agc_status u8(rd *r, uint8_t *out)
{
    if (r->pos >= r->len)
        return bad(r, "unexpected end of data");
    *out = r->p[r->pos++];
    return AGC_OK;
}

static agc_status leb_u32(rd *r, uint32_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        uint8_t b = 0;
        if (u8(r, &b) != AGC_OK)
            return AGC_EPARSE;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (v > UINT32_MAX)
                return bad(r, "LEB128 value does not fit 32 bits");
            *out = (uint32_t)v;
            return AGC_OK;
        }
    }
    return bad(r, "LEB128 value too long");
}

/* A count of items each at least min_size bytes: checked against what remains. */
static agc_status count(rd *r, uint32_t *out, size_t min_size, const char *what)
{
    if (leb_u32(r, out) != AGC_OK)
        return AGC_EPARSE;
    if (*out > MAX_ITEMS || (size_t)*out * min_size > r->len - r->pos)
        return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                             "malformed wasm module at offset 0x%zx: %u %s cannot fit in the "
                             "%zu bytes that remain",
                             r->pos, *out, what, r->len - r->pos);
    return AGC_OK;
}

static agc_status name(rd *r, char **out, agc_ctx *ctx)
{
    uint32_t n;
    if (leb_u32(r, &n) != AGC_OK)
        return AGC_EPARSE;
    if (n > MAX_NAME)
        return bad(r, "name longer than 1024 bytes");
    if (n > r->len - r->pos)
        return bad(r, "name runs past the end of its section");
    if (memchr(r->p + r->pos, 0, n))
        return bad(r, "name contains a NUL byte");
    *out = agc_strndup(ctx, (const char *)r->p + r->pos, n);
    if (!*out)
        return AGC_ENOMEM;
    r->pos += n;
    return AGC_OK;
}

static int valtype_char(uint8_t t)
{
    switch (t) {
    case 0x7f:
        return 'i';
    case 0x7e:
        return 'I';
    case 0x7d:
        return 'f';
    case 0x7c:
        return 'F';
    case 0x7b:
        return 'v';
    case 0x70:
        return 'r';
    case 0x6f:
        return 'x';
    default:
        return 0;
    }
}

static agc_status limits(rd *r, uint32_t *min, uint32_t *max, bool *has_max, bool memory)
{
    uint8_t flags = 0;
    if (u8(r, &flags) != AGC_OK || leb_u32(r, min) != AGC_OK)
        return AGC_EPARSE;
    if (flags > 1) {
        if (memory && (flags & 4))
            return agc_error_set(r->ctx, AGC_EUNSUPPORTED, MODULE,
                                 "64-bit memories are not supported");
        if (memory && (flags & 2))
            return agc_error_set(r->ctx, AGC_EUNSUPPORTED, MODULE,
                                 "shared memories (threads) are not supported");
        return bad(r, "bad limits flags");
    }
    *has_max = flags == 1;
    *max = 0;
    if (*has_max && leb_u32(r, max) != AGC_OK)
        return AGC_EPARSE;
    if (*has_max && *max < *min)
        return bad(r, "limits maximum below minimum");
    if (memory && (*min > 65536 || (*has_max && *max > 65536)))
        return bad(r, "memory limits above 65536 pages (4 GiB)");
    return AGC_OK;
}

static agc_status sec_types(rd *r, agc_wasm_module *m)
{
    uint32_t n;
    if (count(r, &n, 3, "types") != AGC_OK)
        return AGC_EPARSE;
    m->types = agc_calloc(m->ctx, n ? n : 1, sizeof *m->types);
    if (!m->types)
        return AGC_ENOMEM;
    m->n_types = n;
    char sig[2 * 1000 + 2];
    for (uint32_t i = 0; i < n; i++) {
        uint8_t form = 0;
        if (u8(r, &form) != AGC_OK)
            return AGC_EPARSE;
        if (form != 0x60)
            return bad(r, "type is not a function type (0x60)");
        size_t sl = 0;
        for (int part = 0; part < 2; part++) {
            uint32_t k;
            if (leb_u32(r, &k) != AGC_OK)
                return AGC_EPARSE;
            if (k > 1000)
                return bad(r, "function type with more than 1000 parameters or results");
            for (uint32_t j = 0; j < k; j++) {
                uint8_t t = 0;
                if (u8(r, &t) != AGC_OK)
                    return AGC_EPARSE;
                int c = valtype_char(t);
                if (!c)
                    return bad(r, "unknown value type");
                sig[sl++] = (char)c;
            }
            if (part == 0)
                sig[sl++] = ':';
        }
        sig[sl] = 0;
        m->types[i] = agc_strdup(m->ctx, sig);
        if (!m->types[i])
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

static agc_status add_func(rd *r, agc_wasm_module *m, uint32_t type)
{
    if (type >= m->n_types)
        return bad(r, "function type index out of range");
    if (m->n_funcs >= MAX_ITEMS)
        return bad(r, "too many functions");
    if (m->n_funcs == m->cap_funcs) {
        uint32_t cap = m->cap_funcs ? m->cap_funcs * 2 : 64;
        uint32_t *nt = agc_realloc(m->ctx, m->func_types, cap * sizeof *nt);
        if (!nt)
            return AGC_ENOMEM;
        m->func_types = nt;
        m->cap_funcs = cap;
    }
    m->func_types[m->n_funcs++] = type;
    return AGC_OK;
}

static agc_status sec_imports(rd *r, agc_wasm_module *m)
{
    uint32_t n;
    if (count(r, &n, 4, "imports") != AGC_OK)
        return AGC_EPARSE;
    m->imports = agc_calloc(m->ctx, n ? n : 1, sizeof *m->imports);
    if (!m->imports)
        return AGC_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        agc_wasm_import *im = &m->imports[i];
        char *mod = NULL, *nm = NULL;
        agc_status st = name(r, &mod, m->ctx);
        im->module = mod;
        if (st == AGC_OK)
            st = name(r, &nm, m->ctx);
        im->name = nm;
        m->n_imports = i + 1;
        if (st != AGC_OK)
            return st;
        uint8_t kind = 0;
        if (u8(r, &kind) != AGC_OK)
            return AGC_EPARSE;
        uint32_t a, b;
        bool hm;
        switch (kind) {
        case 0:
            im->kind = AGC_WASM_FUNC;
            if (leb_u32(r, &a) != AGC_OK)
                return AGC_EPARSE;
            if ((st = add_func(r, m, a)) != AGC_OK)
                return st;
            im->sig = m->types[a];
            m->n_func_imports++;
            break;
        case 1:
        case 2:
        case 3:
            im->kind = (agc_wasm_kind)kind;
            uint8_t reftype;
            if (kind == 1 && (u8(r, &reftype) != AGC_OK || limits(r, &a, &b, &hm, false)))
                return AGC_EPARSE;
            if (kind == 2 && (st = limits(r, &a, &b, &hm, true)) != AGC_OK)
                return st;
            return agc_error_set(r->ctx, AGC_EUNSUPPORTED, MODULE,
                                 "the module imports a %s (%s.%s); only function imports are "
                                 "supported",
                                 kind == 1   ? "table"
                                 : kind == 2 ? "memory"
                                             : "global",
                                 mod, nm);
        default:
            return bad(r, "unknown import kind");
        }
    }
    return AGC_OK;
}

static agc_status sec_functions(rd *r, agc_wasm_module *m)
{
    uint32_t n, t;
    if (count(r, &n, 1, "functions") != AGC_OK)
        return AGC_EPARSE;
    for (uint32_t i = 0; i < n; i++) {
        if (leb_u32(r, &t) != AGC_OK)
            return AGC_EPARSE;
        agc_status st = add_func(r, m, t);
        if (st != AGC_OK)
            return st;
    }
    return AGC_OK;
}

static agc_status sec_memory(rd *r, agc_wasm_module *m)
{
    uint32_t n;
    if (count(r, &n, 2, "memories") != AGC_OK)
        return AGC_EPARSE;
    if (n > 1)
        return agc_error_set(r->ctx, AGC_EUNSUPPORTED, MODULE,
                             "the module defines %u memories; only one is supported", n);
    if (n == 1) {
        agc_status st = limits(r, &m->mem.min_pages, &m->mem.max_pages, &m->mem.has_max, true);
        if (st != AGC_OK)
            return st;
        m->mem.present = true;
    }
    return AGC_OK;
}

static agc_status sec_exports(rd *r, agc_wasm_module *m)
{
    uint32_t n;
    if (count(r, &n, 3, "exports") != AGC_OK)
        return AGC_EPARSE;
    m->exports = agc_calloc(m->ctx, n ? n : 1, sizeof *m->exports);
    if (!m->exports)
        return AGC_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        agc_wasm_export *ex = &m->exports[i];
        char *nm = NULL;
        agc_status st = name(r, &nm, m->ctx);
        ex->name = nm;
        m->n_exports = i + 1;
        if (st != AGC_OK)
            return st;
        uint8_t kind = 0;
        if (u8(r, &kind) != AGC_OK || leb_u32(r, &ex->index) != AGC_OK)
            return AGC_EPARSE;
        if (kind > 3)
            return bad(r, "unknown export kind");
        ex->kind = (agc_wasm_kind)kind;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(m->exports[j].name, nm) == 0)
                return bad(r, "duplicate export name");
        if (kind == AGC_WASM_FUNC) {
            if (ex->index >= m->n_funcs)
                return bad(r, "exported function index out of range");
            ex->sig = m->types[m->func_types[ex->index]];
        } else if (kind == AGC_WASM_MEMORY) {
            if (!m->mem.present || ex->index != 0)
                return bad(r, "exported memory index out of range");
            m->mem.exported = true;
        }
    }
    return AGC_OK;
}

static agc_status parse(rd *r, agc_wasm_module *m)
{
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (r->len < 8 || memcmp(r->p, magic, 4) != 0)
        return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                             "not a wasm module: the file does not start with \\0asm");
    if (memcmp(r->p + 4, magic + 4, 4) != 0)
        return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                             "unsupported wasm binary version %u (expected 1)", r->p[4]);
    r->pos = 8;
    static const char *const names[] = {"custom", "type",   "import",   "function", "table",
                                        "memory", "global", "export",   "start",    "element",
                                        "code",   "data",   "datacount"};
    static const int order[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11}; /* 12 before code */
    int last = 0;
    while (r->pos < r->len) {
        size_t at = r->pos;
        uint8_t id;
        uint32_t size;
        if (u8(r, &id) != AGC_OK || leb_u32(r, &size) != AGC_OK)
            return AGC_EPARSE;
        if (id > 12)
            return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                                 "malformed wasm module at offset 0x%zx: unknown section id %u", at,
                                 id);
        if (size > r->len - r->pos)
            return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                                 "malformed wasm module at offset 0x%zx: %s section declares "
                                 "%u bytes but only %zu remain",
                                 at, names[id], size, r->len - r->pos);
        if (id != 0) {
            if (order[id] <= last)
                return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                                     "malformed wasm module at offset 0x%zx: %s section out of "
                                     "order or repeated",
                                     at, names[id]);
            last = order[id];
        }
        rd sub = {r->p, r->pos + size, r->pos, r->ctx};
        agc_status st = AGC_OK;
        switch (id) {
        case 1:
            st = sec_types(&sub, m);
            break;
        case 2:
            st = sec_imports(&sub, m);
            break;
        case 3:
            st = sec_functions(&sub, m);
            break;
        case 5:
            st = sec_memory(&sub, m);
            break;
        case 7:
            st = sec_exports(&sub, m);
            break;
        case 8:
            m->has_start = true;
            break;
        default:
            sub.pos = sub.len;
            break; /* skipped: checked by wasm2c */
        }
        if (st != AGC_OK)
            return st;
        if (sub.pos != sub.len)
            return agc_error_set(r->ctx, AGC_EPARSE, MODULE,
                                 "malformed wasm module at offset 0x%zx: %s section has %zu "
                                 "trailing bytes",
                                 sub.pos, names[id], sub.len - sub.pos);
        r->pos += size;
    }
    return AGC_OK;
}

agc_status agc_wasm_module_parse(agc_wasm_module **out, const void *bytes, size_t len, agc_ctx *ctx)
{
    *out = NULL;
    if (len > AGC_WASM_MAX_MODULE_SIZE)
        return agc_error_set(ctx, AGC_ELIMIT, MODULE,
                             "wasm module of %zu bytes is larger than the %zu-byte limit", len,
                             AGC_WASM_MAX_MODULE_SIZE);
    agc_wasm_module *m = agc_calloc(ctx, 1, sizeof *m);
    if (!m)
        return AGC_ENOMEM;
    m->ctx = ctx;
    rd r = {bytes, len, 0, ctx};
    agc_status st = parse(&r, m);
    if (st != AGC_OK) {
        agc_wasm_module_free(m);
        return st;
    }
    *out = m;
    return AGC_OK;
}

void agc_wasm_module_free(agc_wasm_module *m)
{
    if (!m)
        return;
    agc_ctx *ctx = m->ctx;
    for (size_t i = 0; i < m->n_imports; i++) {
        agc_free(ctx, (char *)m->imports[i].module);
        agc_free(ctx, (char *)m->imports[i].name);
    }
    for (size_t i = 0; i < m->n_exports; i++)
        agc_free(ctx, (char *)m->exports[i].name);
    for (uint32_t i = 0; i < m->n_types; i++)
        agc_free(ctx, m->types[i]);
    agc_free(ctx, m->imports);
    agc_free(ctx, m->exports);
    agc_free(ctx, m->types);
    agc_free(ctx, m->func_types);
    agc_free(ctx, m);
}

size_t agc_wasm_module_import_count(const agc_wasm_module *m)
{
    return m->n_imports;
}
const agc_wasm_import *agc_wasm_module_import(const agc_wasm_module *m, size_t i)
{
    return i < m->n_imports ? &m->imports[i] : NULL;
}
size_t agc_wasm_module_export_count(const agc_wasm_module *m)
{
    return m->n_exports;
}
const agc_wasm_export *agc_wasm_module_export(const agc_wasm_module *m, size_t i)
{
    return i < m->n_exports ? &m->exports[i] : NULL;
}
const agc_wasm_export *agc_wasm_module_find_export(const agc_wasm_module *m, const char *nm)
{
    for (size_t i = 0; i < m->n_exports; i++)
        if (strcmp(m->exports[i].name, nm) == 0)
            return &m->exports[i];
    return NULL;
}
const agc_wasm_memory_limits *agc_wasm_module_memory(const agc_wasm_module *m)
{
    return &m->mem;
}

agc_status agc_wasm_module_check_imports(const agc_wasm_module *m, agc_ctx *ctx)
{
    for (size_t i = 0; i < m->n_imports; i++) {
        const agc_wasm_import *im = &m->imports[i];
        const agc__host_def *d = agc__host_find(im->module, im->name);
        if (!d)
            return agc_error_set(ctx, AGC_ENOTFOUND, MODULE,
                                 "the module imports %s.%s, which agentc does not provide",
                                 im->module, im->name);
        if (strcmp(d->sig, im->sig) != 0)
            return agc_error_set(ctx, AGC_EINVAL, MODULE,
                                 "the module imports %s.%s with signature (%s), expected (%s)",
                                 im->module, im->name, im->sig, d->sig);
    }
    return AGC_OK;
}

static const char *capability_of(const agc_wasm_import *im)
{
    const char *n = im->name;
    if (strcmp(im->module, "agentc") == 0)
        return strncmp(n, "http", 4) == 0 ? "http" : "agentc-io";
    if (strncmp(n, "args_", 5) == 0)
        return "args";
    if (strncmp(n, "environ_", 8) == 0)
        return "env";
    if (strncmp(n, "clock_", 6) == 0 || strcmp(n, "poll_oneoff") == 0)
        return "clock";
    if (strcmp(n, "random_get") == 0)
        return "random";
    if (strcmp(n, "proc_exit") == 0 || strcmp(n, "sched_yield") == 0)
        return "exit";
    if (strncmp(n, "path_", 5) == 0 || strncmp(n, "fd_prestat", 10) == 0 ||
        strcmp(n, "fd_readdir") == 0)
        return "files";
    if (strncmp(n, "sock_", 5) == 0)
        return "sockets";
    return "stdio";
}

agc_status agc_wasm_module_capabilities(agc_buf *b, const agc_wasm_module *m)
{
    static const char *const all[] = {"agentc-io", "args", "clock",  "env",     "exit",
                                      "files",     "http", "random", "sockets", "stdio"};
    bool first = true;
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
        bool used = false;
        for (size_t i = 0; i < m->n_imports && !used; i++)
            used = strcmp(capability_of(&m->imports[i]), all[k]) == 0;
        if (!used)
            continue;
        agc_status st = agc_buf_printf(b, "%s%s", first ? "" : ",", all[k]);
        if (st != AGC_OK)
            return st;
        first = false;
    }
    return AGC_OK;
}
