/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * URL splitting and address classification for the HTTP gate. The URL
 * grammar accepted is deliberately narrow (scheme://host[:port][/...]) so the
 * gate and curl cannot disagree on the host; the connection is pinned to the
 * checked address anyway (CURLOPT_CONNECT_TO), so a disagreement could at
 * worst send the wrong Host header to an allowed address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_gate_int.h"

bool agc__gate_url_parse(agc__gate_url *u, const char *url, const char **why)
{
    memset(u, 0, sizeof *u);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '\\') {
            *why = "the URL holds a space, control character or backslash";
            return false;
        }
    }
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        u->scheme = AGC__SCHEME_HTTPS;
        u->port = 443;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        u->scheme = AGC__SCHEME_HTTP;
        u->port = 80;
        p = url + 7;
    } else {
        *why = "the URL must start with http:// or https://";
        return false;
    }
    size_t alen = strcspn(p, "/?#");
    if (memchr(p, '@', alen)) {
        *why = "user names or passwords in the URL are not allowed";
        return false;
    }
    const char *end = p + alen, *hs = p, *he;
    if (*p == '[') {
        he = memchr(p, ']', alen);
        if (!he) {
            *why = "unterminated IPv6 address in the URL";
            return false;
        }
        hs = p + 1;
        u->ipv6_literal = true;
        p = he + 1;
    } else {
        he = memchr(p, ':', alen);
        if (!he)
            he = end;
        p = he;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen == 0 || hlen >= sizeof u->host) {
        *why = "the URL's host is empty or too long";
        return false;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)hs[i];
        bool ok = isalnum(c) || c == '.' || c == '-' || (u->ipv6_literal && c == ':');
        if (!ok) {
            *why = "the URL's host has characters other than letters, digits, '.' and '-'";
            return false;
        }
        u->host[i] = (char)tolower(c);
    }
    if (u->host[hlen - 1] == '.') /* "example.com." names the same host */
        u->host[--hlen] = 0;
    if (p < end) {
        if (*p != ':' || p + 1 == end || end - p > 6) {
            *why = "the URL's port is malformed";
            return false;
        }
        unsigned port = 0;
        for (const char *q = p + 1; q < end; q++) {
            if (!isdigit((unsigned char)*q)) {
                *why = "the URL's port is malformed";
                return false;
            }
            port = port * 10 + (unsigned)(*q - '0');
        }
        if (port == 0 || port > 65535) {
            *why = "the URL's port is out of range";
            return false;
        }
        u->port = port;
    }
    return true;
}

static const char *v4_class(uint32_t a)
{
    uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16);
    if (b0 == 127)
        return "loopback";
    if (b0 == 0)
        return "unspecified (\"this network\")";
    if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168))
        return "private";
    if (b0 == 169 && b1 == 254)
        return "link-local";
    if (b0 == 100 && (b1 & 0xc0) == 64)
        return "carrier-grade NAT (shared)";
    if (b0 == 198 && (b1 & 0xfe) == 18)
        return "benchmarking (private)";
    if (b0 == 192 && b1 == 0 && (uint8_t)(a >> 8) == 0)
        return "IETF protocol assignment (private)";
    if (b0 >= 224)
        return b0 < 240 ? "multicast" : "reserved";
    return NULL;
}

const char *agc__gate_addr_class(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return v4_class(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family != AF_INET6)
        return "not an IP address";
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    const uint8_t *b = s6->sin6_addr.s6_addr;
    static const uint8_t zero[16], mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0 ||
        (memcmp(b, zero, 12) == 0 && (b[12] | b[13] | b[14]) != 0)) /* v4-mapped, v4-compatible */
        return v4_class((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
                        b[15]);
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 1 ? "loopback" : "unspecified";
    if ((b[0] & 0xfe) == 0xfc)
        return "private (unique local)";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "site-local (private)";
    if (b[0] == 0xff)
        return "multicast";
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) /* NAT64 64:ff9b::/96 */
        return v4_class((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
                        b[15]);
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return "documentation (reserved)";
    return NULL;
}

bool agc__gate_addr_text(char *buf, size_t cap, const struct sockaddr *sa, bool brackets)
{
    char tmp[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        if (!inet_ntop(AF_INET, &s4->sin_addr, tmp, sizeof tmp))
            return false;
        return (size_t)snprintf(buf, cap, "%s", tmp) < cap;
    }
    if (sa->sa_family != AF_INET6)
        return false;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    if (!inet_ntop(AF_INET6, &s6->sin6_addr, tmp, sizeof tmp))
        return false;
    int n = snprintf(buf, cap, brackets ? "[%s]" : "%s", tmp);
    return n > 0 && (size_t)n < cap;
}
