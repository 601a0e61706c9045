/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Small helpers of the schema compiler: RFC 3986 reference resolution
 * (section 5.2 with dot-segment removal), percent-decoding of fragments, a
 * pointer/string hash map, and location strings for messages.
 * URIs are not normalised beyond what RFC 3986 resolution does (no case
 * folding of scheme or host, no default-port removal).
 */
#include <stdio.h>
#include <string.h>

#include "schema_int.h"

/* ---- RFC 3986 ---------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t n;
    bool def;
} span;

typedef struct uri_parts {
    span scheme, auth, path, query, frag;
} uri_parts;

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t scheme_len(const char *s)
{
    if (!is_alpha(s[0]))
        return 0;
    size_t i = 1;
    while (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
           s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

static void uri_parse(const char *s, uri_parts *u)
{
    memset(u, 0, sizeof *u);
    size_t sl = scheme_len(s);
    if (sl) {
        u->scheme = (span){s, sl, true};
        s += sl + 1;
    }
    if (s[0] == '/' && s[1] == '/') {
        s += 2;
        size_t n = strcspn(s, "/?#");
        u->auth = (span){s, n, true};
        s += n;
    }
    size_t n = strcspn(s, "?#");
    u->path = (span){s, n, true};
    s += n;
    if (*s == '?') {
        s++;
        n = strcspn(s, "#");
        u->query = (span){s, n, true};
        s += n;
    }
    if (*s == '#') {
        s++;
        u->frag = (span){s, strlen(s), true};
    }
}

/* RFC 3986 5.2.4 on in[0..n) into out (at least n+2 bytes); returns out's length. */
static size_t remove_dots(const char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        const char *p = in + i;
        size_t rest = n - i;
        if (rest >= 3 && memcmp(p, "../", 3) == 0) {
            i += 3;
        } else if (rest >= 2 && memcmp(p, "./", 2) == 0) {
            i += 2;
        } else if (rest >= 3 && memcmp(p, "/./", 3) == 0) {
            i += 2;
        } else if (rest == 2 && memcmp(p, "/.", 2) == 0) {
            out[o++] = '/';
            i += 2;
        } else if ((rest >= 4 && memcmp(p, "/../", 4) == 0) ||
                   (rest == 3 && memcmp(p, "/..", 3) == 0)) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            if (rest == 3)
                out[o++] = '/';
            i += 3;
        } else if ((rest == 1 && p[0] == '.') || (rest == 2 && memcmp(p, "..", 2) == 0)) {
            i = n;
        } else {
            size_t k = p[0] == '/' ? 1 : 0;
            while (k < rest && p[k] != '/')
                k++;
            memcpy(out + o, p, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return o;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

char *agc__sch_uri_resolve(agc_arena *a, const char *base, const char *ref)
{
    uri_parts b, r, t;
    uri_parse(base ? base : "", &b);
    uri_parse(ref, &r);
    size_t cap = strlen(base ? base : "") + strlen(ref) + 8;
    char *merged = agc_arena_alloc(a, cap);
    char *path = agc_arena_alloc(a, cap);
    char *out = agc_arena_alloc(a, cap);
    if (!merged || !path || !out)
        return NULL;
    const char *pin;
    size_t pn;
    memset(&t, 0, sizeof t);
    if (r.scheme.def) {
        t = r;
        pin = r.path.p;
        pn = r.path.n;
    } else {
        t.scheme = b.scheme;
        if (r.auth.def) {
            t.auth = r.auth;
            pin = r.path.p;
            pn = r.path.n;
            t.query = r.query;
        } else {
            t.auth = b.auth;
            if (r.path.n == 0) {
                pin = b.path.p;
                pn = b.path.n;
                t.query = r.query.def ? r.query : b.query;
            } else if (r.path.p[0] == '/') {
                pin = r.path.p;
                pn = r.path.n;
                t.query = r.query;
            } else {
                size_t m = 0;
                if (b.auth.def && b.path.n == 0) {
                    merged[m++] = '/';
                } else {
                    size_t k = b.path.n;
                    while (k > 0 && b.path.p[k - 1] != '/')
                        k--;
                    memcpy(merged, b.path.p, k);
                    m = k;
                }
                memcpy(merged + m, r.path.p, r.path.n);
                m += r.path.n;
                pin = merged;
                pn = m;
                t.query = r.query;
            }
        }
    }
    t.frag = r.frag;
    size_t plen = remove_dots(pin, pn, path);
    /* keep paths of non-hierarchical URIs (urn:a:b) as they are */
    if (!t.auth.def && pn > 0 && pin[0] != '/' && memchr(pin, '/', pn) == NULL) {
        memcpy(path, pin, pn);
        path[pn] = '\0';
        plen = pn;
    }
    char *o = out;
    if (t.scheme.def) {
        o = put(o, t.scheme.p, t.scheme.n);
        *o++ = ':';
    }
    if (t.auth.def) {
        o = put(o, "//", 2);
        o = put(o, t.auth.p, t.auth.n);
    }
    o = put(o, path, plen);
    if (t.query.def) {
        *o++ = '?';
        o = put(o, t.query.p, t.query.n);
    }
    if (t.frag.def && t.frag.n > 0) {
        *o++ = '#';
        o = put(o, t.frag.p, t.frag.n);
    }
    *o = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *agc__sch_pct_decode(agc_arena *a, const char *s, bool *bad)
{
    *bad = false;
    size_t n = strlen(s);
    char *d = agc_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h = i + 2 < n + 1 ? hexval(s[i + 1]) : -1;
            int l = h >= 0 ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                *bad = true;
                return NULL;
            }
            d[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    return d;
}

/* ---- hash map ---------------------------------------------------------- */

static size_t hash_key(const sch_map *m, const void *key)
{
    uint64_t h;
    if (m->strings) {
        h = 1469598103934665603ull;
        for (const unsigned char *p = key; *p; p++) {
            h ^= *p;
            h *= 1099511628211ull;
        }
    } else {
        h = (uint64_t)(uintptr_t)key;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    return (size_t)h;
}

static bool key_eq(const sch_map *m, const void *a, const void *b)
{
    return m->strings ? strcmp(a, b) == 0 : a == b;
}

void agc__sch_map_init(sch_map *m, bool strings, agc_ctx *ctx)
{
    memset(m, 0, sizeof *m);
    m->strings = strings;
    m->ctx = ctx;
}

void *agc__sch_map_get(const sch_map *m, const void *key)
{
    if (!m->cap)
        return NULL;
    size_t i = hash_key(m, key) & (m->cap - 1);
    while (m->e[i].key) {
        if (key_eq(m, m->e[i].key, key))
            return m->e[i].val;
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static void insert_raw(sch_map *m, const void *key, void *val)
{
    size_t i = hash_key(m, key) & (m->cap - 1);
    while (m->e[i].key) {
        if (key_eq(m, m->e[i].key, key)) {
            m->e[i].val = val;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->e[i].key = key;
    m->e[i].val = val;
    m->n++;
}

agc_status agc__sch_map_put(sch_map *m, const void *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        sch_map_ent *ne = agc_calloc(m->ctx, ncap, sizeof *ne);
        if (!ne)
            return AGC_ENOMEM;
        sch_map_ent *old = m->e;
        size_t ocap = m->cap;
        m->e = ne;
        m->cap = ncap;
        m->n = 0;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].key)
                insert_raw(m, old[i].key, old[i].val);
        agc_free(m->ctx, old);
    }
    insert_raw(m, key, val);
    return AGC_OK;
}

void agc__sch_map_free(sch_map *m)
{
    agc_free(m->ctx, m->e);
    m->e = NULL;
    m->cap = m->n = 0;
}

/* ---- locations ----------------------------------------------------------- */

const char *agc__sch_loc_str(const sch_loc *l, char *buf, size_t size)
{
    const sch_loc *segs[256];
    size_t n = 0;
    const char *root = "";
    for (const sch_loc *p = l; p; p = p->up) {
        if (p->root && !p->up) {
            root = p->root;
            break;
        }
        if (n < 256)
            segs[n++] = p;
    }
    static const char dflt[] = "urn:agentc:schema"; /* the default base: not worth naming */
    if (strncmp(root, dflt, sizeof dflt - 1) == 0 &&
        (!root[sizeof dflt - 1] || root[sizeof dflt - 1] == '#'))
        root += sizeof dflt - 1;
    size_t o = (size_t)snprintf(buf, size, "%s%s", root, strchr(root, '#') ? "" : "#");
    for (size_t i = n; i-- > 0 && o < size;) {
        const sch_loc *s = segs[i];
        if (s->key) {
            o += (size_t)snprintf(buf + o, size - o, "/");
            for (const char *k = s->key; *k && o < size; k++) {
                if (*k == '~')
                    o += (size_t)snprintf(buf + o, size - o, "~0");
                else if (*k == '/')
                    o += (size_t)snprintf(buf + o, size - o, "~1");
                else
                    o += (size_t)snprintf(buf + o, size - o, "%c", *k);
            }
        } else {
            o += (size_t)snprintf(buf + o, size - o, "/%zu", s->idx);
        }
    }
    return buf;
}

__attribute__((noinline, cold)) agc_status agc__sch_loc_error(sch_cstate *c, agc_status code,
                                                              const char *head, const sch_loc *loc,
                                                              const char *fmt, ...)
{
    char where[512], msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return agc_error_set(c->ctx, code, "schema", "%s at %s: %s", head,
                         agc__sch_loc_str(loc, where, sizeof where), msg);
}
