/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The `agentc` import module (docs/sandbox-abi.md): a tool reads its JSON
 * arguments, writes its JSON result (capped) and logs through the ctx's
 * logger. Invariant: results over the output cap stop the guest (AGC_ELIMIT)
 * rather than being cut silently. http_request is declared so tools can be
 * written against it, but it is not granted yet: it answers -76 (NOTCAPABLE)
 * until the jail's parent/worker split brokers network access.
 */
#include <string.h>

#include "agentc/log.h"
#include "wasi_int.h"

#define HF(name) static int name(agc_wasm_instance *in, const uint64_t *a, uint64_t *r)
#define NEG(e)   ((uint64_t)(uint32_t)(-(int32_t)(e)))

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

/* log(level, ptr, len): 0 trace .. 4 error; messages cut at 4 KiB */
HF(log_msg)
{
    (void)r;
    uint64_t n = a[2] > 4096 ? 4096 : a[2];
    const uint8_t *p = agc__wasm_mem(in, a[1], n);
    if (!p)
        return AGC__HOST_OK;
    agc_log_level lv = a[0] > AGC_LOG_ERROR ? AGC_LOG_ERROR : (agc_log_level)a[0];
    agc_log(in->ctx, lv, "guest", "%.*s", (int)n, (const char *)p);
    return AGC__HOST_OK;
}

/* http_request(req, req_len, resp, resp_cap, resp_len_ptr) -> 0 or -errno */
HF(http_request)
{
    (void)a;
    agc_log(in->ctx, AGC_LOG_WARN, "sandbox", "guest asked for HTTP, which is not granted");
    *r = NEG(W_NOTCAPABLE);
    return AGC__HOST_OK;
}

const agc__host_def agc__agentc_defs[] = {
    {"agentc", "input_len", ":i", input_len},
    {"agentc", "input_read", "ii:i", input_read},
    {"agentc", "output_write", "ii:i", output_write},
    {"agentc", "log", "iii:", log_msg},
    {"agentc", "http_request", "iiiii:i", http_request},
    {NULL, NULL, NULL, NULL},
};
