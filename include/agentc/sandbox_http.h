/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The trusted-parent HTTP gate behind a guest's agentc.http_request: it
 * checks each request against the tool policy's allowed_hosts (host, port,
 * scheme, method), resolves the host itself, refuses loopback / private /
 * link-local addresses unless the entry says allow_private, pins the
 * connection to the address it checked, adds the entry's secrets as headers
 * (the guest never sees them), caps request and response sizes and time,
 * and redacts secrets from what it hands back. Entry format and reply JSON:
 * docs/sandbox-abi.md. It does not follow redirects (a 3xx is returned).
 * The gate and its secrets live in the parent process only.
 */
#ifndef AGENTC_SANDBOX_HTTP_H
#define AGENTC_SANDBOX_HTTP_H

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_http_gate agc_http_gate;

/*
 * A gate for the policy array allowed_hosts (NULL or [] allows nothing).
 * Secrets named by the entries ("env:VAR", "file:PATH") are loaded now and
 * registered with ctx's redactor. AGC_EINVAL names a bad entry by its JSON
 * path ("allowed_hosts/1/ports/0: ..."); AGC_ENOTFOUND for an unset secret
 * variable; AGC_ENOMEM. *out is the caller's (agc_http_gate_free); the gate
 * keeps ctx and serves one thread at a time.
 */
AGC_NODISCARD agc_status agc_http_gate_new(agc_http_gate **out, const json_t *allowed_hosts,
                                           agc_ctx *ctx);

/*
 * Makes one guest request (req_json, req_len bytes: {method,url,headers,body})
 * if the gate allows it, and writes the reply JSON to *resp_json (agc_malloc'ed
 * on ctx, the caller frees; NUL-terminated, *resp_len bytes): {"status",
 * "headers", "body"} or {"error", "code"}. A refused or failed request is
 * AGC_OK with an error reply; only AGC_ENOMEM is returned. gate is an
 * agc_http_gate* (void* to fit agc_wasm_http_fn).
 */
AGC_NODISCARD agc_status agc_http_gate_call(char **resp_json, size_t *resp_len,
                                            const char *req_json, size_t req_len, void *gate,
                                            agc_ctx *ctx);

/* Frees the gate, wiping and unregistering its secrets. NULL is a no-op. */
void agc_http_gate_free(agc_http_gate *g);

#ifdef __cplusplus
}
#endif
#endif
