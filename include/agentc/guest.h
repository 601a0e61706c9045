/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * For authors of agentc tools in C compiled to WebAssembly
 * (clang --target=wasm32-wasi -O2 -Wl,--stack-first): the `agentc` import
 * module. A tool reads its JSON arguments with agentc_input(), writes its
 * JSON result with agentc_output() and may log. Plain WASI (stdio, preopened
 * directories, clocks, random) works alongside. See docs/sandbox-abi.md.
 * This header is for the guest side only: it is never compiled into the
 * host library. HTTP goes through the trusted host (agentc_http()): the
 * tool never opens a socket and never sees the secrets the host adds.
 */
#ifndef AGENTC_GUEST_H
#define AGENTC_GUEST_H

#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__wasm__)
#define AGENTC_IMPORT(n) __attribute__((import_module("agentc"), import_name(n)))
#else /* host compilers (header checks) only see plain declarations */
#define AGENTC_IMPORT(n)
#endif

/* Length in bytes of the JSON arguments. */
AGENTC_IMPORT("input_len") int agentc_input_len(void);
/* Copies up to len bytes of the arguments into buf; returns the count or -errno. */
AGENTC_IMPORT("input_read") int agentc_input_read(void *buf, int len);
/* Appends len bytes to the JSON result; 0 or -errno. Going over the host's
 * output cap stops the tool with an error. */
AGENTC_IMPORT("output_write") int agentc_output_write(const void *buf, int len);
/* Logs a message: level 0 trace, 1 debug, 2 info, 3 warn, 4 error. */
AGENTC_IMPORT("log") void agentc_log(int level, const char *msg, int len);
/*
 * An HTTP request described as JSON {"method","url","headers":{..},"body"},
 * made by the host when its policy allows it. The reply JSON ({"status",
 * "headers","body"} or {"error","code"}) goes to resp; *resp_len gets its
 * length. Returns 0, -76 (NOTCAPABLE: no HTTP granted), -42 (NOBUFS: the
 * reply is *resp_len bytes, larger than resp_cap; call again with req_len 0
 * and a larger buffer to read it), -21 (FAULT), -29 (IO). Going over the
 * per-call request cap stops the tool with an error.
 */
AGENTC_IMPORT("http_request")
int agentc_http_request(const char *req, int req_len, char *resp, int resp_cap, int *resp_len);

enum { AGENTC_LOG_TRACE = 0, AGENTC_LOG_DEBUG, AGENTC_LOG_INFO, AGENTC_LOG_WARN, AGENTC_LOG_ERROR };

/* The arguments as a NUL-terminated string (free() it), or NULL when out of memory. */
static inline char *agentc_input(void)
{
    int n = agentc_input_len();
    char *buf = (char *)malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    int got = agentc_input_read(buf, n);
    buf[got > 0 ? got : 0] = 0;
    return buf;
}

/* Appends a NUL-terminated string to the result. */
static inline int agentc_output(const char *s)
{
    return agentc_output_write(s, (int)strlen(s));
}

/*
 * Makes the HTTP request req_json and returns the reply JSON as a
 * NUL-terminated string (free() it), or NULL with -errno in *err (may be
 * NULL): -76 when HTTP is not granted, -48 out of memory. Refusals by the
 * host's policy are replies with an "error" member, not NULL.
 */
static inline char *agentc_http(const char *req_json, int *err)
{
    int cap = 64 * 1024, len = 0, rc;
    char *buf = (char *)malloc((size_t)cap + 1);
    if (!buf) {
        if (err)
            *err = -48;
        return NULL;
    }
    rc = agentc_http_request(req_json, (int)strlen(req_json), buf, cap, &len);
    if (rc == -42 && len > cap) {
        char *big = (char *)realloc(buf, (size_t)len + 1);
        if (!big) {
            free(buf);
            if (err)
                *err = -48;
            return NULL;
        }
        buf = big;
        rc = agentc_http_request("", 0, buf, len, &len);
    }
    if (rc != 0) {
        free(buf);
        if (err)
            *err = rc;
        return NULL;
    }
    buf[len] = 0;
    if (err)
        *err = 0;
    return buf;
}

static inline void agentc_log_str(int level, const char *s)
{
    agentc_log(level, s, (int)strlen(s));
}

#ifdef __cplusplus
}
#endif
#endif
