/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Internals of the HTTP gate: a strict URL splitter (it accepts less than
 * curl does, so that both read the same host) and the address classifier
 * that keeps guests off loopback, private and link-local ranges.
 */
#ifndef AGC_SANDBOX_HTTP_GATE_INT_H
#define AGC_SANDBOX_HTTP_GATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum { AGC__SCHEME_HTTP = 1, AGC__SCHEME_HTTPS = 2 };

typedef struct agc__gate_url {
    int scheme;     /* AGC__SCHEME_* */
    char host[256]; /* lower case; IPv6 without brackets */
    bool ipv6_literal;
    unsigned port; /* explicit or the scheme's default */
} agc__gate_url;

/* Splits an absolute http(s) URL. Refuses userinfo, control characters,
 * spaces, backslashes, percent signs in the host and empty hosts. false
 * with a short reason in why. */
bool agc__gate_url_parse(agc__gate_url *u, const char *url, const char **why);

/* NULL when sa is a public unicast address, else what it is ("loopback",
 * "private", "link-local", ...). IPv4-mapped IPv6 is judged as IPv4. */
const char *agc__gate_addr_class(const struct sockaddr *sa);

/* Numeric text of sa for CURLOPT_CONNECT_TO ("1.2.3.4" or "[::1]"). */
bool agc__gate_addr_text(char *buf, size_t cap, const struct sockaddr *sa, bool brackets);

#endif
