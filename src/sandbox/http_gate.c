/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The HTTP gate (agentc/sandbox_http.h): the trusted parent's side of a
 * guest's agentc.http_request. Deny by default: a request goes out only when
 * an allowed_hosts entry matches its scheme, host, port and method, its host
 * resolves to addresses that are all public (or the entry says
 * allow_private), and it fits the entry's size caps. The connection is pinned
 * to the checked address; the entry's secrets are added as headers here and
 * redacted out of everything handed back. Refusals are replies, not errors.
 */
#include "agentc/sandbox_http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/http.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "agentc/secret.h"
#include "http_gate_int.h"

#define MODULE              "sandbox"
#define MAX_PORTS           16
#define MAX_METHODS         8
#define MAX_SECRETS         8
#define MAX_GUEST_HEADERS   64
#define HARD_MAX_REQUEST    ((size_t)16 * 1024 * 1024)
#define DEFAULT_TIMEOUT_MS  10000
#define MAX_TIMEOUT_MS      300000
#define DEFAULT_MAX_RESP_KB 1024
#define DEFAULT_MAX_REQ_KB  256

typedef struct gate_secret {
    char *header;
    char *prefix; /* "Bearer " etc., may be "" */
    agc_secret *value;
} gate_secret;

typedef struct gate_entry {
    char *host;  /* lower case; "*.example.com" matches subdomains only */
    int schemes; /* AGC__SCHEME_* bits */
    unsigned ports[MAX_PORTS];
    size_t n_ports; /* 0: the scheme's default port */
    char methods[MAX_METHODS][16];
    size_t n_methods;
    gate_secret secrets[MAX_SECRETS];
    size_t n_secrets;
    bool allow_private;
    uint32_t timeout_ms;
    size_t max_response, max_request;
} gate_entry;

struct agc_http_gate {
    agc_ctx *ctx;
    gate_entry *entries;
    size_t n;
    agc_http_client *client; /* created at the first allowed request */
};

/* ---- policy entries */

static agc_status bad(agc_ctx *ctx, size_t i, const char *what, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    return agc_error_set(ctx, AGC_EINVAL, MODULE, "allowed_hosts/%zu%s%s: %s", i, *what ? "/" : "",
                         what, msg);
}

static bool valid_token(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr("!#$%&'*+-.^_`|~", c))
            return false;
    }
    return true;
}

static bool valid_host_pattern(const char *h)
{
    if (strncmp(h, "*.", 2) == 0)
        h += 2;
    if (!*h || strlen(h) > 253)
        return false;
    for (const char *p = h; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != ':')
            return false;
    return true;
}

static agc_status parse_uint(uint64_t *out, const json_t *v, uint64_t lo, uint64_t hi, agc_ctx *ctx,
                             size_t i, const char *key)
{
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
        (uint64_t)json_integer_value(v) > hi) {
        char range[64];
        snprintf(range, sizeof range, "%llu..%llu", (unsigned long long)lo, (unsigned long long)hi);
        return bad(ctx, i, key, "must be an integer in %s", range);
    }
    *out = (uint64_t)json_integer_value(v);
    return AGC_OK;
}

static agc_status parse_secret(gate_secret *s, const char *header, const json_t *v, agc_ctx *ctx,
                               size_t i)
{
    char path[96];
    snprintf(path, sizeof path, "secrets/%.64s", header);
    if (!valid_token(header, 64))
        return bad(ctx, i, "secrets", "\"%s\" is not a valid header name", header);
    const char *ref = NULL, *prefix = "";
    if (json_is_string(v)) {
        ref = json_string_value(v);
    } else if (json_is_object(v)) {
        ref = agc_json_str(v, "ref", NULL);
        prefix = agc_json_str(v, "prefix", "");
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (strcmp(k, "ref") != 0 && strcmp(k, "prefix") != 0)
                return bad(ctx, i, path, "unknown key \"%s\" (use ref, prefix)", k);
        }
        if (strpbrk(prefix, "\r\n") || strlen(prefix) > 64)
            return bad(ctx, i, path, "prefix must be one short line%s", NULL);
    }
    if (!ref || !agc_secret_ref_valid(ref))
        return bad(ctx, i, path,
                   "must be a secret reference \"env:NAME\" or \"file:PATH\" "
                   "(or {ref, prefix}), never the value itself%s",
                   NULL);
    s->header = agc_strdup(ctx, header);
    s->prefix = agc_strdup(ctx, prefix);
    if (!s->header || !s->prefix) {
        agc_free(ctx, s->header);
        agc_free(ctx, s->prefix);
        s->header = s->prefix = NULL;
        return AGC_ENOMEM;
    }
    agc_status st = agc_secret_from_ref(&s->value, ref, ctx);
    if (st != AGC_OK)
        return agc_error_set(ctx, st, MODULE, "allowed_hosts/%zu/%s: cannot load the secret", i,
                             path);
    return AGC_OK;
}

static agc_status parse_entry(gate_entry *e, const json_t *o, agc_ctx *ctx, size_t i)
{
    if (!json_is_object(o))
        return bad(ctx, i, "", "must be an object {host, ports, methods, ...}%s", NULL);
    static const char *const keys[] = {
        "host",          "schemes",    "ports",           "methods",        "secrets",
        "allow_private", "timeout_ms", "max_response_kb", "max_request_kb", NULL};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        size_t j = 0;
        while (keys[j] && strcmp(keys[j], k) != 0)
            j++;
        if (!keys[j])
            return bad(ctx, i, "", "unknown key \"%s\"", k);
    }
    const char *host = agc_json_str(o, "host", NULL);
    if (!host || !valid_host_pattern(host))
        return bad(ctx, i, "host", "must be a host name, IP address or \"*.domain\"%s", NULL);
    if (!(e->host = agc_strdup(ctx, host)))
        return AGC_ENOMEM;
    for (char *p = e->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (e->host[0] == '[') /* "[::1]" -> "::1" */
        return bad(ctx, i, "host", "write IPv6 addresses without brackets%s", NULL);

    e->schemes = AGC__SCHEME_HTTPS;
    const json_t *sch = json_object_get(o, "schemes");
    if (sch) {
        e->schemes = 0;
        size_t j;
        json_t *x;
        if (!json_is_array(sch) || json_array_size(sch) == 0)
            return bad(ctx, i, "schemes", "must be a non-empty array of \"http\" / \"https\"%s",
                       NULL);
        json_array_foreach(sch, j, x)
        {
            const char *s = json_string_value(x);
            if (s && strcmp(s, "https") == 0)
                e->schemes |= AGC__SCHEME_HTTPS;
            else if (s && strcmp(s, "http") == 0)
                e->schemes |= AGC__SCHEME_HTTP;
            else
                return bad(ctx, i, "schemes", "only \"http\" and \"https\" are allowed%s", NULL);
        }
    }
    const json_t *ports = json_object_get(o, "ports");
    if (ports) {
        size_t j;
        json_t *x;
        if (!json_is_array(ports) || json_array_size(ports) == 0 ||
            json_array_size(ports) > MAX_PORTS)
            return bad(ctx, i, "ports", "must be an array of 1..16 port numbers%s", NULL);
        json_array_foreach(ports, j, x)
        {
            uint64_t port;
            char key[32];
            snprintf(key, sizeof key, "ports/%zu", j);
            agc_status st = parse_uint(&port, x, 1, 65535, ctx, i, key);
            if (st != AGC_OK)
                return st;
            e->ports[e->n_ports++] = (unsigned)port;
        }
    }
    const json_t *methods = json_object_get(o, "methods");
    if (methods) {
        size_t j;
        json_t *x;
        if (!json_is_array(methods) || json_array_size(methods) == 0 ||
            json_array_size(methods) > MAX_METHODS)
            return bad(ctx, i, "methods", "must be an array of 1..8 methods (\"GET\", ...)%s",
                       NULL);
        json_array_foreach(methods, j, x)
        {
            const char *m = json_string_value(x);
            if (!m || !valid_token(m, 15))
                return bad(ctx, i, "methods", "\"%s\" is not an HTTP method", m ? m : "?");
            size_t n = strlen(m);
            for (size_t c = 0; c <= n; c++)
                e->methods[e->n_methods][c] = (char)toupper((unsigned char)m[c]);
            e->n_methods++;
        }
    } else {
        strcpy(e->methods[0], "GET");
        e->n_methods = 1;
    }
    const json_t *al = json_object_get(o, "allow_private");
    if (al && !json_is_boolean(al))
        return bad(ctx, i, "allow_private", "must be true or false%s", NULL);
    e->allow_private = al && json_is_true(al);
    uint64_t u = DEFAULT_TIMEOUT_MS;
    const json_t *x = json_object_get(o, "timeout_ms");
    agc_status st = x ? parse_uint(&u, x, 1, MAX_TIMEOUT_MS, ctx, i, "timeout_ms") : AGC_OK;
    if (st != AGC_OK)
        return st;
    e->timeout_ms = (uint32_t)u;
    u = DEFAULT_MAX_RESP_KB;
    x = json_object_get(o, "max_response_kb");
    st = x ? parse_uint(&u, x, 1, 64 * 1024, ctx, i, "max_response_kb") : AGC_OK;
    if (st != AGC_OK)
        return st;
    e->max_response = (size_t)u * 1024;
    u = DEFAULT_MAX_REQ_KB;
    x = json_object_get(o, "max_request_kb");
    st = x ? parse_uint(&u, x, 1, HARD_MAX_REQUEST / 1024, ctx, i, "max_request_kb") : AGC_OK;
    if (st != AGC_OK)
        return st;
    e->max_request = (size_t)u * 1024;
    const json_t *sec = json_object_get(o, "secrets");
    if (sec) {
        if (!json_is_object(sec) || json_object_size(sec) > MAX_SECRETS)
            return bad(ctx, i, "secrets", "must be an object {Header: \"env:VAR\"} of at most 8%s",
                       NULL);
        const char *hk;
        json_t *hv;
        json_object_foreach((json_t *)sec, hk, hv)
        {
            st = parse_secret(&e->secrets[e->n_secrets], hk, hv, ctx, i);
            if (e->secrets[e->n_secrets].header)
                e->n_secrets++;
            if (st != AGC_OK)
                return st;
        }
    }
    return AGC_OK;
}

static void entry_free(gate_entry *e, agc_ctx *ctx)
{
    agc_free(ctx, e->host);
    for (size_t i = 0; i < e->n_secrets; i++) {
        agc_free(ctx, e->secrets[i].header);
        agc_free(ctx, e->secrets[i].prefix);
        agc_secret_free(e->secrets[i].value);
    }
}

agc_status agc_http_gate_new(agc_http_gate **out, const json_t *allowed_hosts, agc_ctx *ctx)
{
    *out = NULL;
    if (allowed_hosts && !json_is_array(allowed_hosts))
        return agc_error_set(ctx, AGC_EINVAL, MODULE,
                             "allowed_hosts must be an array of {host, ports, methods, ...}");
    agc_http_gate *g = agc_calloc(ctx, 1, sizeof *g);
    if (!g)
        return AGC_ENOMEM;
    g->ctx = ctx;
    size_t n = allowed_hosts ? json_array_size(allowed_hosts) : 0;
    if (n && !(g->entries = agc_calloc(ctx, n, sizeof *g->entries))) {
        agc_free(ctx, g);
        return AGC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        g->n = i + 1;
        agc_status st = parse_entry(&g->entries[i], json_array_get(allowed_hosts, i), ctx, i);
        if (st != AGC_OK) {
            agc_http_gate_free(g);
            return st;
        }
    }
    *out = g;
    return AGC_OK;
}

void agc_http_gate_free(agc_http_gate *g)
{
    if (!g)
        return;
    agc_http_client_free(g->client);
    for (size_t i = 0; i < g->n; i++)
        entry_free(&g->entries[i], g->ctx);
    agc_free(g->ctx, g->entries);
    agc_free(g->ctx, g);
}

/* ---- one request */

static bool host_matches(const char *pattern, const char *host)
{
    if (strncmp(pattern, "*.", 2) == 0) {
        size_t pl = strlen(pattern + 1), hl = strlen(host); /* ".example.com" */
        return hl > pl && strcmp(host + hl - pl, pattern + 1) == 0;
    }
    return strcmp(pattern, host) == 0;
}

static bool entry_allows(const gate_entry *e, const agc__gate_url *u, const char *method)
{
    if (!host_matches(e->host, u->host) || !(e->schemes & u->scheme))
        return false;
    bool port_ok = false;
    if (e->n_ports == 0)
        port_ok = u->port == (u->scheme == AGC__SCHEME_HTTPS ? 443u : 80u);
    for (size_t i = 0; i < e->n_ports; i++)
        port_ok = port_ok || e->ports[i] == u->port;
    if (!port_ok)
        return false;
    for (size_t i = 0; i < e->n_methods; i++)
        if (strcmp(e->methods[i], method) == 0)
            return true;
    return false;
}

/* Builds {"error": msg, "code": code} into *out. */
static agc_status reply_error(char **out, size_t *len, agc_ctx *ctx, const char *code,
                              const char *fmt, ...) AGC_PRINTF(5, 6);
static agc_status reply_error(char **out, size_t *len, agc_ctx *ctx, const char *code,
                              const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    agc_log(ctx, AGC_LOG_WARN, MODULE, "guest HTTP request refused: %s", msg);
    json_t *o = json_pack("{s:s, s:s}", "error", msg, "code", code);
    if (!o)
        return AGC_ENOMEM;
    agc_status st = agc_json_dump(out, o, JSON_COMPACT, ctx);
    json_decref(o);
    if (st != AGC_OK)
        return st;
    /* the message may quote guest input that holds a secret-looking token */
    char *red = NULL;
    st = agc_redact(&red, len, *out, strlen(*out), ctx);
    agc_free(ctx, *out);
    *out = red;
    return st;
}

static bool forbidden_header(const char *name, const gate_entry *e)
{
    static const char *const deny[] = {
        "host",    "content-length", "transfer-encoding", "connection", "upgrade", "te",
        "trailer", "expect",         "keep-alive",        NULL};
    for (size_t i = 0; deny[i]; i++)
        if (strcasecmp(name, deny[i]) == 0)
            return true;
    if (strncasecmp(name, "proxy-", 6) == 0)
        return true;
    for (size_t i = 0; i < e->n_secrets; i++)
        if (strcasecmp(name, e->secrets[i].header) == 0)
            return true;
    return false;
}

/* Resolves u's host; fills pin with the first address's text. A forbidden
 * class (when not allowed) is reported in *why_class with the address. */
static int resolve_checked(char *pin, size_t cap, const char **why_class, char *bad_addr,
                           size_t bad_cap, const agc__gate_url *u, bool allow_private)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    if (u->ipv6_literal)
        hints.ai_flags = AI_NUMERICHOST;
    int rc = getaddrinfo(u->host, NULL, &hints, &res);
    if (rc != 0)
        return rc;
    *why_class = NULL;
    pin[0] = 0;
    bool pinned_v4 = false;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        const char *cls = agc__gate_addr_class(a->ai_addr);
        if (cls && !allow_private) { /* every address must pass: no round-robin rebinding */
            *why_class = cls;
            agc__gate_addr_text(bad_addr, bad_cap, a->ai_addr, false);
            break;
        }
        /* one address is pinned: the first IPv4 one, else the first */
        bool v4 = a->ai_family == AF_INET;
        if (!pin[0] || (v4 && !pinned_v4)) {
            agc__gate_addr_text(pin, cap, a->ai_addr, true);
            pinned_v4 = v4;
        }
    }
    freeaddrinfo(res);
    return pin[0] || *why_class ? 0 : EAI_NONAME;
}

static agc_status add_secret_headers(agc_http_header *h, size_t *nh, char **vals,
                                     const gate_entry *e, agc_ctx *ctx)
{
    for (size_t i = 0; i < e->n_secrets; i++) {
        size_t sl;
        const char *sv = agc_secret_reveal(e->secrets[i].value, &sl);
        size_t pl = strlen(e->secrets[i].prefix);
        if (!(vals[i] = agc_malloc(ctx, pl + sl + 1)))
            return AGC_ENOMEM;
        memcpy(vals[i], e->secrets[i].prefix, pl);
        memcpy(vals[i] + pl, sv, sl + 1);
        h[*nh].name = e->secrets[i].header;
        h[*nh].value = vals[i];
        (*nh)++;
    }
    return AGC_OK;
}

/* The redacted response as reply JSON. */
static agc_status reply_response(char **out, size_t *len, const agc_http_response *r, agc_ctx *ctx)
{
    json_t *o = json_object(), *hdrs = json_object();
    agc_status st = o && hdrs ? AGC_OK : AGC_ENOMEM;
    if (st == AGC_OK)
        st = json_object_set_new(o, "status", json_integer(r->status)) ? AGC_ENOMEM : AGC_OK;
    size_t nh = agc_http_headers_count(r->headers);
    for (size_t i = 0; st == AGC_OK && i < nh; i++) {
        agc_http_header h = agc_http_headers_at(r->headers, i);
        char name[128];
        size_t n = strlen(h.name);
        if (n >= sizeof name)
            continue;
        for (size_t c = 0; c <= n; c++)
            name[c] = (char)tolower((unsigned char)h.name[c]);
        char *val = NULL;
        st = agc_redact(&val, NULL, h.value, strlen(h.value), ctx);
        if (st != AGC_OK)
            break;
        json_t *prev = json_object_get(hdrs, name);
        json_t *v;
        if (prev && json_is_string(prev)) {
            char *joined = agc_sprintf(ctx, "%s, %s", json_string_value(prev), val);
            v = joined ? json_string(joined) : NULL;
            agc_free(ctx, joined);
        } else {
            v = json_string(val);
        }
        agc_free(ctx, val);
        if (v && json_object_set_new(hdrs, name, v) != 0)
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK) {
        json_object_set_new(o, "headers", hdrs);
        hdrs = NULL;
        char *body = NULL;
        size_t blen = 0;
        st = agc_redact(&body, &blen, r->body.data ? r->body.data : "", r->body.len, ctx);
        if (st == AGC_OK) {
            json_t *b = json_stringn(body, blen);
            if (b) {
                json_object_set_new(o, "body", b);
            } else { /* not UTF-8: base64 */
                size_t cap = sodium_base64_encoded_len(blen, sodium_base64_VARIANT_ORIGINAL);
                char *b64 = agc_malloc(ctx, cap);
                if (!b64) {
                    st = AGC_ENOMEM;
                } else {
                    sodium_bin2base64(b64, cap, (const unsigned char *)body, blen,
                                      sodium_base64_VARIANT_ORIGINAL);
                    json_object_set_new(o, "body_base64", json_string(b64));
                    agc_free(ctx, b64);
                }
            }
            agc_free(ctx, body);
        }
    }
    json_decref(hdrs);
    if (st == AGC_OK) {
        st = agc_json_dump(out, o, JSON_COMPACT, ctx);
        if (st == AGC_OK)
            *len = strlen(*out);
    }
    json_decref(o);
    return st;
}

static agc_status do_call(char **out, size_t *len, agc_http_gate *g, const json_t *req,
                          size_t req_len, agc_ctx *ctx)
{
    if (!json_is_object(req))
        return reply_error(out, len, ctx, "bad_request",
                           "the request must be a JSON object {method, url, headers, body}");
    const char *method = agc_json_str(req, "method", "GET");
    const char *url = agc_json_str(req, "url", NULL);
    if (!valid_token(method, 15))
        return reply_error(out, len, ctx, "bad_request", "\"method\" is not an HTTP method");
    char m[16];
    for (size_t c = 0; c <= strlen(method); c++)
        m[c] = (char)toupper((unsigned char)method[c]);
    if (!url)
        return reply_error(out, len, ctx, "bad_request", "\"url\" is missing");
    agc__gate_url u;
    const char *why = NULL;
    if (!agc__gate_url_parse(&u, url, &why))
        return reply_error(out, len, ctx, "bad_request", "bad url: %s", why);
    const char *scheme = u.scheme == AGC__SCHEME_HTTPS ? "https" : "http";
    const char *lb = u.ipv6_literal ? "[" : "", *rb = u.ipv6_literal ? "]" : "";
    const gate_entry *e = NULL;
    for (size_t i = 0; i < g->n && !e; i++)
        if (entry_allows(&g->entries[i], &u, m))
            e = &g->entries[i];
    if (!e)
        return reply_error(out, len, ctx, "not_allowed",
                           "%s %s://%s%s%s:%u is not on the tool's allowed_hosts", m, scheme, lb,
                           u.host, rb, u.port);
    if (req_len > e->max_request)
        return reply_error(out, len, ctx, "limit",
                           "the request is %zu bytes, over the %zu-byte max_request_kb", req_len,
                           e->max_request);
    const json_t *jh = json_object_get(req, "headers");
    const json_t *jb = json_object_get(req, "body");
    if ((jh && !json_is_object(jh) && !json_is_null(jh)) ||
        (jb && !json_is_string(jb) && !json_is_null(jb)))
        return reply_error(out, len, ctx, "bad_request",
                           "\"headers\" must be an object of strings and \"body\" a string");
    size_t ngh = jh ? json_object_size(jh) : 0;
    if (ngh > MAX_GUEST_HEADERS)
        return reply_error(out, len, ctx, "bad_request", "more than %d headers", MAX_GUEST_HEADERS);
    agc_http_header hdrs[MAX_GUEST_HEADERS + MAX_SECRETS];
    size_t nh = 0;
    if (jh) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)jh, k, v)
        {
            const char *val = json_string_value(v);
            if (!val || !valid_token(k, 128) || strpbrk(val, "\r\n"))
                return reply_error(out, len, ctx, "bad_request",
                                   "header \"%.64s\" is not a valid name with a one-line string",
                                   k);
            if (forbidden_header(k, e))
                return reply_error(out, len, ctx, "not_allowed",
                                   "header \"%.64s\" is set by the host, not by the tool", k);
            hdrs[nh].name = k;
            hdrs[nh++].value = val;
        }
    }
    char pin[INET6_ADDRSTRLEN + 4], badaddr[INET6_ADDRSTRLEN + 4] = "";
    const char *cls = NULL;
    int rc = resolve_checked(pin, sizeof pin, &cls, badaddr, sizeof badaddr, &u, e->allow_private);
    if (rc != 0)
        return reply_error(out, len, ctx, "network", "cannot resolve %s: %s", u.host,
                           gai_strerror(rc));
    if (cls && strcmp(badaddr, u.host) == 0)
        return reply_error(out, len, ctx, "private_address",
                           "%s is a %s address; the entry needs allow_private to reach it", u.host,
                           cls);
    if (cls)
        return reply_error(out, len, ctx, "private_address",
                           "%s resolves to %s, a %s address; the entry needs allow_private to "
                           "reach it",
                           u.host, badaddr, cls);
    char connect_to[INET6_ADDRSTRLEN + 16];
    snprintf(connect_to, sizeof connect_to, "%s:%u", pin, u.port);
    if (!g->client) {
        agc_status st = agc_http_client_new(&g->client, NULL, g->ctx);
        if (st != AGC_OK)
            return reply_error(out, len, ctx, "network", "HTTP client unavailable: %s",
                               agc_ctx_last_error(g->ctx)->message);
    }
    char *secret_vals[MAX_SECRETS] = {NULL};
    agc_status st = add_secret_headers(hdrs, &nh, secret_vals, e, ctx);
    agc_http_response *resp = NULL;
    if (st == AGC_OK) {
        agc_http_opts o = AGC_HTTP_OPTS_INIT;
        o.timeout_ms = e->timeout_ms;
        o.connect_timeout_ms = e->timeout_ms;
        o.max_response_bytes = e->max_response;
        o.connect_to = connect_to;
        const char *body = jb ? json_string_value(jb) : NULL;
        size_t blen = jb ? json_string_length(jb) : 0;
        st = agc_http_request_sync(&resp, g->client, m, url, hdrs, nh, body, blen, &o);
    }
    for (size_t i = 0; i < MAX_SECRETS; i++) {
        if (secret_vals[i]) {
            agc_memzero(secret_vals[i], strlen(secret_vals[i]));
            agc_free(ctx, secret_vals[i]);
        }
    }
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK) {
        const char *code = st == AGC_ETIMEDOUT ? "timeout" : st == AGC_ELIMIT ? "limit" : "network";
        return reply_error(out, len, ctx, code, "%s", agc_ctx_last_error(g->ctx)->message);
    }
    agc_log(ctx, AGC_LOG_INFO, MODULE, "guest HTTP %s %s://%s%s%s:%u -> %d, %zu bytes", m, scheme,
            lb, u.host, rb, u.port, resp->status, resp->body.len);
    st = reply_response(out, len, resp, ctx);
    agc_http_response_free(resp);
    return st;
}

agc_status agc_http_gate_call(char **resp_json, size_t *resp_len, const char *req_json,
                              size_t req_len, void *gate, agc_ctx *ctx)
{
    agc_http_gate *g = gate;
    *resp_json = NULL;
    *resp_len = 0;
    if (req_len > HARD_MAX_REQUEST)
        return reply_error(resp_json, resp_len, ctx, "limit",
                           "the request is %zu bytes, over the %zu-byte hard cap", req_len,
                           HARD_MAX_REQUEST);
    json_t *req = NULL;
    if (agc_json_parse(&req, req_json, req_len, "http request", ctx) != AGC_OK)
        return reply_error(resp_json, resp_len, ctx, "bad_request",
                           "the request is not valid JSON");
    agc_status st = do_call(resp_json, resp_len, g, req, req_len, ctx);
    json_decref(req);
    if (st != AGC_OK) {
        agc_free(ctx, *resp_json);
        *resp_json = NULL;
        *resp_len = 0;
    }
    return st;
}
