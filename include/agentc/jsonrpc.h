/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON-RPC 2.0 messages as MCP uses them: parsing with full validation
 * (requests, notifications, results, errors; ids are strings or integers,
 * never null or fractional; params are objects; batches are rejected) and
 * building the compact one-line text of each kind. A rejected message
 * carries the JSON-RPC error code to answer with and, when it could be
 * recovered, the id to answer to. No I/O and no correlation here: see mcp.h.
 */
#ifndef AGENTC_JSONRPC_H
#define AGENTC_JSONRPC_H

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The standard error codes. -32000..-32099 are for implementation errors. */
#define AGC_JSONRPC_PARSE_ERROR      (-32700)
#define AGC_JSONRPC_INVALID_REQUEST  (-32600)
#define AGC_JSONRPC_METHOD_NOT_FOUND (-32601)
#define AGC_JSONRPC_INVALID_PARAMS   (-32602)
#define AGC_JSONRPC_INTERNAL_ERROR   (-32603)

typedef enum agc_jsonrpc_kind {
    AGC_JSONRPC_INVALID = 0,  /* rejected: see error_code and the ctx message */
    AGC_JSONRPC_REQUEST,      /* method + id */
    AGC_JSONRPC_NOTIFICATION, /* method, no id */
    AGC_JSONRPC_RESULT,       /* id + result */
    AGC_JSONRPC_ERROR         /* id (maybe null) + error */
} agc_jsonrpc_kind;

/*
 * One parsed message. root owns everything; the other pointers are borrowed
 * from it and live until agc_jsonrpc_msg_clear().
 */
typedef struct agc_jsonrpc_msg {
    agc_jsonrpc_kind kind;
    json_t *root;              /* the whole message; NULL when the text was not JSON */
    json_t *id;                /* string or integer; NULL for notifications and null ids */
    const char *method;        /* requests and notifications */
    json_t *params;            /* object, or NULL when absent */
    json_t *result;            /* AGC_JSONRPC_RESULT */
    int error_code;            /* AGC_JSONRPC_ERROR: the peer's code; INVALID: the code to answer */
    const char *error_message; /* AGC_JSONRPC_ERROR: the peer's message */
    json_t *error_data;        /* AGC_JSONRPC_ERROR: optional data */
    bool response_like;        /* INVALID: it had no "method" (a broken response: do not answer) */
} agc_jsonrpc_msg;

/*
 * Parses and validates one message of len bytes. out is always initialised
 * (clear it with agc_jsonrpc_msg_clear, also on failure). Returns AGC_OK for
 * a valid message; AGC_EPARSE when the text is not JSON (error_code
 * AGC_JSONRPC_PARSE_ERROR, message "message:LINE:COLUMN: what"); AGC_EPROTO
 * for a JSON value that is not a valid message (error_code
 * AGC_JSONRPC_INVALID_REQUEST, out->id set when a valid id was present, the
 * ctx message names the member that was wrong; arrays get "batch ... not
 * supported"); AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_jsonrpc_parse(agc_jsonrpc_msg *out, const char *text, size_t len,
                                           agc_ctx *ctx);
/* Frees what msg owns and zeroes it. NULL is a no-op. */
void agc_jsonrpc_msg_clear(agc_jsonrpc_msg *msg);

/* Whether id is usable as a request id: a string or an integer. */
bool agc_jsonrpc_id_valid(const json_t *id);
/* Writes the id as text ("7" or "\"abc\"", cut to size) into buf; "null" for NULL. Returns buf. */
char *agc_jsonrpc_id_format(const json_t *id, char *buf, size_t size);

/*
 * Builders: each writes one compact JSON text without a newline into *out
 * (the caller's, agc_free) and its length into *len_out (may be NULL).
 * params/result/data are borrowed; NULL params are omitted, a NULL result
 * is sent as {}. AGC_EINVAL for an invalid id or empty method, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_jsonrpc_build_request(char **out, size_t *len_out, const json_t *id,
                                                   const char *method, const json_t *params,
                                                   agc_ctx *ctx);
AGC_NODISCARD agc_status agc_jsonrpc_build_notification(char **out, size_t *len_out,
                                                        const char *method, const json_t *params,
                                                        agc_ctx *ctx);
AGC_NODISCARD agc_status agc_jsonrpc_build_result(char **out, size_t *len_out, const json_t *id,
                                                  const json_t *result, agc_ctx *ctx);
/* id NULL sends "id": null (for messages whose id could not be read). */
AGC_NODISCARD agc_status agc_jsonrpc_build_error(char **out, size_t *len_out, const json_t *id,
                                                 int code, const char *message, const json_t *data,
                                                 agc_ctx *ctx);

/* Short name of a code: "parse error", "invalid request", "method not found",
 * "invalid params", "internal error", "server error" (-32000..-32099), else "error". */
const char *agc_jsonrpc_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif
