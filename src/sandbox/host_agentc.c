/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The `agentc` import module (docs/sandbox-abi.md): a tool reads its JSON
 * arguments, writes its JSON result (capped) and logs through the ctx's
 * logger. Invariant: results over the output cap stop the guest (AGC_ELIMIT)
 * rather than being cut silently. http_request hands the guest's JSON request
 * to the run's trusted HTTP function (agc_wasm_run_opts.http); without one it
 * answers -76 (NOTCAPABLE). The guest never holds a socket or a secret.
 */
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/log.h"
#include "wasi_int.h"

#define HF(name)      static int name(agc_wasm_instance *in, const uint64_t *a, uint64_t *r)
#define MAX_LOG_BYTES (256 * 1024) /* per call: a guest cannot flood the host's log */
#define NEG(e)        ((uint64_t)(uint32_t)(-(int32_t)(e)))

HF(input_len)
{
    (void)a;
    *r = (uint32_t)in->input_len;
    return AGC__HOST_OK;
}

/* input_read(ptr, len) -> bytes copied (from the start) or -errno */
HF(input_read)
{
    uint64_t n = a[1] < in->input_len ? a[1] : in->input_len;
    uint8_t *p = agc__wasm_mem(in, a[0], n);
    if (!p) {
        *r = NEG(W_FAULT);
        return AGC__HOST_OK;
    }
    memcpy(p, in->input_json, n);
    *r = (uint32_t)n;
    return AGC__HOST_OK;
}

/* output_write(ptr, len) -> 0 or -errno; appends to the result */
HF(output_write)
{
    const uint8_t *p = agc__wasm_mem(in, a[0], a[1]);
    if (!p) {
        *r = NEG(W_FAULT);
        return AGC__HOST_OK;
    }
    if (in->result.len + a[1] > in->max_output) {
        *r = NEG(W_FBIG);
        return agc__wasm_fatal(in, AGC_ELIMIT,
                               "the guest's result is larger than the %zu-byte output cap",
                               in->max_output);
    }
    if (agc_buf_append(&in->result, p, (size_t)a[1]) != AGC_OK) {
        *r = NEG(W_NOMEM);
        return AGC__HOST_OK;
    }
    in->has_result = true;
    *r = 0;
    return AGC__HOST_OK;
}

/* log(level, ptr, len): 0 trace .. 4 error; messages cut at 4 KiB, 256 KiB per call */
HF(log_msg)
{
    (void)r;
    uint64_t n = a[2] > 4096 ? 4096 : a[2];
    const uint8_t *p = agc__wasm_mem(in, a[1], n);
    if (!p || in->log_bytes > MAX_LOG_BYTES)
        return AGC__HOST_OK;
    in->log_bytes += (size_t)n;
    if (in->log_bytes > MAX_LOG_BYTES) {
        agc_log(in->ctx, AGC_LOG_WARN, "sandbox",
                "the guest logged more than %d bytes; further log lines of this call are dropped",
                MAX_LOG_BYTES);
        return AGC__HOST_OK;
    }
    agc_log_level lv = a[0] > AGC_LOG_ERROR ? AGC_LOG_ERROR : (agc_log_level)a[0];
    agc_log(in->ctx, lv, "guest", "%.*s", (int)n, (const char *)p);
    return AGC__HOST_OK;
}

/* Hands a reply to the guest: the whole reply fits in [resp, resp+cap) or it
 * is kept for a re-read (req_len 0) and the call answers -NOBUFS. */
static int give_reply(agc_wasm_instance *in, const uint64_t *a, uint64_t *r, char *reply,
                      size_t len)
{
    if (reply == in->http_pending) /* the reply is ours again until kept below */
        in->http_pending = NULL;
    uint8_t *p = len <= a[3] ? agc__wasm_mem(in, a[2], len) : NULL;
    if (!agc__wasi_ret32(in, a[4], (uint32_t)len) || (len <= a[3] && !p)) {
        agc_free(in->ctx, reply);
        *r = NEG(W_FAULT);
        return AGC__HOST_OK;
    }
    if (len > a[3]) {
        agc_free(in->ctx, in->http_pending);
        in->http_pending = reply;
        in->http_pending_len = len;
        *r = NEG(W_NOBUFS);
        return AGC__HOST_OK;
    }
    memcpy(p, reply, len);
    agc_free(in->ctx, reply);
    *r = 0;
    return AGC__HOST_OK;
}

/* http_request(req, req_len, resp, resp_cap, resp_len_ptr) -> 0 or -errno.
 * The trusted side (opts.http: the HTTP gate, or a worker's channel to its
 * parent) decides and makes the request; req_len 0 re-reads a reply that did
 * not fit. Past max_http_requests the guest is stopped (AGC_ELIMIT). */
HF(http_request)
{
    if (!in->http) {
        agc_log(in->ctx, AGC_LOG_WARN, "sandbox", "guest asked for HTTP, which is not granted");
        *r = NEG(W_NOTCAPABLE);
        return AGC__HOST_OK;
    }
    if (a[1] == 0) {
        if (!in->http_pending) {
            *r = NEG(W_INVAL);
            return AGC__HOST_OK;
        }
        return give_reply(in, a, r, in->http_pending, in->http_pending_len);
    }
    const uint8_t *req = agc__wasm_mem(in, a[0], a[1]);
    if (!req || !agc__wasm_mem(in, a[4], 4)) {
        *r = NEG(W_FAULT);
        return AGC__HOST_OK;
    }
    if (in->n_http >= in->max_http) {
        *r = NEG(W_NOBUFS);
        return agc__wasm_fatal(in, AGC_ELIMIT, "HTTP request limit %u per call exceeded",
                               in->max_http);
    }
    in->n_http++;
    agc_free(in->ctx, in->http_pending); /* a new request drops an unread reply */
    in->http_pending = NULL;
    char *reply = NULL;
    size_t len = 0;
    agc_status st = in->http(&reply, &len, (const char *)req, (size_t)a[1], in->http_user, in->ctx);
    if (st != AGC_OK || !reply) {
        agc_log(in->ctx, AGC_LOG_WARN, "sandbox", "guest HTTP request failed: %s",
                agc_ctx_last_error(in->ctx)->message);
        agc_free(in->ctx, reply);
        *r = NEG(st == AGC_ENOMEM ? W_NOMEM : W_IO);
        return AGC__HOST_OK;
    }
    if (len > UINT32_MAX) {
        agc_free(in->ctx, reply);
        *r = NEG(W_FBIG);
        return AGC__HOST_OK;
    }
    return give_reply(in, a, r, reply, len);
}

const agc__host_def agc__agentc_defs[] = {
    {"agentc", "input_len", ":i", input_len},
    {"agentc", "input_read", "ii:i", input_read},
    {"agentc", "output_write", "ii:i", output_write},
    {"agentc", "log", "iii:", log_msg},
    {"agentc", "http_request", "iiiii:i", http_request},
    {NULL, NULL, NULL, NULL},
};
