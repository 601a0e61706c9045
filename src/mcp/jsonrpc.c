/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON-RPC 2.0 message parsing, validation and building (MCP flavour: no
 * batches, ids are strings or integers, params are objects). Invariant: a
 * rejected message always says which member was wrong and which code the
 * answer must carry. No transport and no request correlation here.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/jsonrpc.h"

#define MOD "jsonrpc"

bool agc_jsonrpc_id_valid(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

char *agc_jsonrpc_id_format(const json_t *id, char *buf, size_t size)
{
    if (json_is_integer(id))
        snprintf(buf, size, "%lld", (long long)json_integer_value(id));
    else if (json_is_string(id))
        snprintf(buf, size, "\"%s\"", json_string_value(id));
    else
        snprintf(buf, size, "null");
    return buf;
}

const char *agc_jsonrpc_code_name(int code)
{
    switch (code) {
    case AGC_JSONRPC_PARSE_ERROR:
        return "parse error";
    case AGC_JSONRPC_INVALID_REQUEST:
        return "invalid request";
    case AGC_JSONRPC_METHOD_NOT_FOUND:
        return "method not found";
    case AGC_JSONRPC_INVALID_PARAMS:
        return "invalid params";
    case AGC_JSONRPC_INTERNAL_ERROR:
        return "internal error";
    default:
        return code >= -32099 && code <= -32000 ? "server error" : "error";
    }
}

void agc_jsonrpc_msg_clear(agc_jsonrpc_msg *msg)
{
    if (!msg)
        return;
    json_decref(msg->root);
    memset(msg, 0, sizeof *msg);
}

/* Marks m invalid with code; the message goes to the ctx. */
static agc_status reject(agc_jsonrpc_msg *m, agc_ctx *ctx, const char *fmt, const char *a)
{
    m->kind = AGC_JSONRPC_INVALID;
    m->error_code = AGC_JSONRPC_INVALID_REQUEST;
    m->method = NULL;
    m->params = m->result = m->error_data = NULL;
    m->error_message = NULL;
    return agc_error_set(ctx, AGC_EPROTO, MOD, fmt, a);
}

static agc_status parse_error_member(agc_jsonrpc_msg *m, const json_t *err, agc_ctx *ctx)
{
    if (!json_is_object(err))
        return reject(m, ctx, "invalid response: 'error' must be an object, got %s",
                      agc_json_type_name(err));
    const json_t *code = json_object_get(err, "code");
    if (!json_is_integer(code) || json_integer_value(code) < -2147483647 - 1 ||
        json_integer_value(code) > 2147483647)
        return reject(m, ctx, "invalid response: 'error.code' must be an integer, got %s",
                      code ? agc_json_type_name(code) : "nothing");
    const json_t *msg = json_object_get(err, "message");
    if (!json_is_string(msg))
        return reject(m, ctx, "invalid response: 'error.message' must be a string, got %s",
                      msg ? agc_json_type_name(msg) : "nothing");
    m->kind = AGC_JSONRPC_ERROR;
    m->error_code = (int)json_integer_value(code);
    m->error_message = json_string_value(msg);
    m->error_data = json_object_get(err, "data");
    return AGC_OK;
}

agc_status agc_jsonrpc_parse(agc_jsonrpc_msg *out, const char *text, size_t len, agc_ctx *ctx)
{
    memset(out, 0, sizeof *out);
    json_t *root = NULL;
    agc_status st = agc_json_parse(&root, text, len, "message", ctx);
    if (st == AGC_ENOMEM)
        return st;
    if (st != AGC_OK) {
        out->error_code = AGC_JSONRPC_PARSE_ERROR;
        return agc_error_wrap(ctx, AGC_EPARSE, MOD, "parse error: message is not valid JSON");
    }
    out->root = root;
    if (json_is_array(root))
        return reject(out, ctx,
                      "batch requests (JSON arrays) are not supported by MCP; send one message "
                      "per line%s",
                      "");
    if (!json_is_object(root))
        return reject(out, ctx, "a message must be a JSON object, got %s",
                      agc_json_type_name(root));
    json_t *id = json_object_get(root, "id");
    if (id && agc_jsonrpc_id_valid(id))
        out->id = id;
    json_t *method = json_object_get(root, "method");
    out->response_like =
        !method && (json_object_get(root, "result") || json_object_get(root, "error"));
    const json_t *ver = json_object_get(root, "jsonrpc");
    if (!ver)
        return reject(out, ctx, "member 'jsonrpc' is missing; it must be \"2.0\"%s", "");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return reject(out, ctx, "member 'jsonrpc' must be the string \"2.0\"%s", "");
    if (id && !out->id && !(json_is_null(id) && out->response_like))
        return reject(out, ctx, "member 'id' must be a string or an integer, got %s",
                      agc_json_type_name(id));
    if (method) {
        if (!json_is_string(method) || json_string_length(method) == 0)
            return reject(out, ctx, "member 'method' must be a non-empty string, got %s",
                          json_is_string(method) ? "\"\"" : agc_json_type_name(method));
        if (json_object_get(root, "result") || json_object_get(root, "error"))
            return reject(out, ctx, "a request must not carry 'result' or 'error'%s", "");
        json_t *params = json_object_get(root, "params");
        if (params && !json_is_object(params))
            return reject(out, ctx,
                          "member 'params' must be an object (MCP uses named parameters), got %s",
                          agc_json_type_name(params));
        out->method = json_string_value(method);
        out->params = params;
        out->kind = id ? AGC_JSONRPC_REQUEST : AGC_JSONRPC_NOTIFICATION;
        return AGC_OK;
    }
    json_t *result = json_object_get(root, "result");
    json_t *err = json_object_get(root, "error");
    if (!result && !err)
        return reject(out, ctx,
                      "message has neither 'method' (request) nor 'result'/'error' "
                      "(response)%s",
                      "");
    if (result && err)
        return reject(out, ctx, "a response must not carry both 'result' and 'error'%s", "");
    if (!id)
        return reject(out, ctx, "a response must carry an 'id'%s", "");
    if (result) {
        if (!out->id)
            return reject(out, ctx, "a result response must carry a string or integer 'id'%s", "");
        out->kind = AGC_JSONRPC_RESULT;
        out->result = result;
        return AGC_OK;
    }
    return parse_error_member(out, err, ctx);
}

/* ---- building --------------------------------------------------------------- */

/* Serialises obj (stolen) compactly. */
static agc_status finish(char **out, size_t *len_out, json_t *obj, bool oom, agc_ctx *ctx)
{
    *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!obj || oom) {
        json_decref(obj);
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory building a message");
    }
    agc_status st = agc_json_dump(out, obj, JSON_COMPACT, ctx);
    json_decref(obj);
    if (st == AGC_OK && len_out)
        *len_out = strlen(*out);
    return st;
}

/* Starts {"jsonrpc":"2.0"} inside a json scope; returns NULL on OOM. */
static json_t *base(void)
{
    json_t *o = json_object();
    if (o && json_object_set_new(o, "jsonrpc", json_string("2.0")) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static bool set_ref(json_t *o, const char *key, const json_t *v)
{
    return json_object_set(o, key, (json_t *)v) == 0;
}

agc_status agc_jsonrpc_build_request(char **out, size_t *len_out, const json_t *id,
                                     const char *method, const json_t *params, agc_ctx *ctx)
{
    *out = NULL;
    if (!agc_jsonrpc_id_valid(id))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "request id must be a string or an integer");
    if (!method || !*method)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "request method must be a non-empty string");
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *o = base();
    bool ok = o && set_ref(o, "id", id) &&
              json_object_set_new(o, "method", json_string(method)) == 0 &&
              (!params || set_ref(o, "params", params));
    bool oom = !ok || agc_json_oom(ctx);
    agc_json_leave(prev);
    return finish(out, len_out, o, oom, ctx);
}

agc_status agc_jsonrpc_build_notification(char **out, size_t *len_out, const char *method,
                                          const json_t *params, agc_ctx *ctx)
{
    *out = NULL;
    if (!method || !*method)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "notification method must be a non-empty string");
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *o = base();
    bool ok = o && json_object_set_new(o, "method", json_string(method)) == 0 &&
              (!params || set_ref(o, "params", params));
    bool oom = !ok || agc_json_oom(ctx);
    agc_json_leave(prev);
    return finish(out, len_out, o, oom, ctx);
}

agc_status agc_jsonrpc_build_result(char **out, size_t *len_out, const json_t *id,
                                    const json_t *result, agc_ctx *ctx)
{
    *out = NULL;
    if (!agc_jsonrpc_id_valid(id))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "response id must be a string or an integer");
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *o = base();
    bool ok = o && set_ref(o, "id", id) &&
              (result ? set_ref(o, "result", result)
                      : json_object_set_new(o, "result", json_object()) == 0);
    bool oom = !ok || agc_json_oom(ctx);
    agc_json_leave(prev);
    return finish(out, len_out, o, oom, ctx);
}

/* The message as a JSON string; text that is not UTF-8 gives the code's name. */
static json_t *message_string(const char *message, int code, agc_ctx *ctx)
{
    json_t *s = json_string(message && *message ? message : agc_jsonrpc_code_name(code));
    if (!s && !agc_json_oom(ctx))
        s = json_string(agc_jsonrpc_code_name(code));
    return s;
}

agc_status agc_jsonrpc_build_error(char **out, size_t *len_out, const json_t *id, int code,
                                   const char *message, const json_t *data, agc_ctx *ctx)
{
    *out = NULL;
    if (id && !agc_jsonrpc_id_valid(id))
        return agc_error_set(ctx, AGC_EINVAL, MOD, "response id must be a string or an integer");
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *o = base();
    json_t *e = json_object();
    bool ok = o && e &&
              (id ? set_ref(o, "id", id) : json_object_set_new(o, "id", json_null()) == 0) &&
              json_object_set_new(e, "code", json_integer(code)) == 0 &&
              json_object_set_new(e, "message", message_string(message, code, ctx)) == 0 &&
              (!data || set_ref(e, "data", data)) && json_object_set(o, "error", e) == 0;
    json_decref(e);
    bool oom = !ok || agc_json_oom(ctx);
    agc_json_leave(prev);
    return finish(out, len_out, o, oom, ctx);
}
