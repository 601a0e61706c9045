/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Anthropic Messages wire format: request encoding and whole-message
 * decoding. Invariant: every json_t built here is allocated in the ctx's
 * jansson scope and the caller's values (schemas, raw thinking blocks,
 * extra) are deep-copied, never shared. It does no I/O and never sees the
 * API key. Structured output is emulated with a forced tool (see
 * anthropic.c's header).
 */
#include <string.h>

#include "agentc/json.h"
#include "anthropic_int.h"

/* ---- small helpers ------------------------------------------------------------ */

/* Sets key to v (stolen); false on failure (v released). */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static bool append(json_t *a, json_t *v)
{
    return v && json_array_append_new(a, v) == 0;
}

static bool set_cache_control(json_t *block)
{
    return put(block, "cache_control", json_pack("{s:s}", "type", "ephemeral"));
}

static bool valid_tool_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

const char *agc__anth_structured_tool(const agc_chat_request *req)
{
    if (req->format != AGC_FORMAT_JSON_SCHEMA)
        return NULL;
    return valid_tool_name(req->response_schema_name) ? req->response_schema_name
                                                      : "structured_output";
}

/* ---- content blocks ------------------------------------------------------------- */

static json_t *text_block(const char *text)
{
    return json_pack("{s:s, s:s}", "type", "text", "text", text);
}

/* data:[<media type>][;base64],<data> -> base64 source; http(s) URL -> url source. */
static agc_status image_block(json_t **out, const agc_part *p, agc_ctx *ctx)
{
    *out = NULL;
    const char *u = p->image_url ? p->image_url : "";
    if (strncmp(u, "data:", 5) == 0) {
        const char *comma = strchr(u, ',');
        const char *b64 = comma ? strstr(u, ";base64") : NULL;
        if (!comma || !b64 || b64 > comma)
            return agc_error_set(ctx, AGC_EINVAL, "provider",
                                 "anthropic: image data: URI must be base64 "
                                 "(data:image/png;base64,...)");
        char mt[128] = "";
        const char *semi = strchr(u + 5, ';');
        size_t n = (size_t)((semi && semi < comma ? semi : comma) - (u + 5));
        if (n < sizeof mt) {
            memcpy(mt, u + 5, n);
            mt[n] = '\0';
        }
        const char *media = p->media_type && *p->media_type ? p->media_type : mt;
        if (!*media)
            return agc_error_set(ctx, AGC_EINVAL, "provider",
                                 "anthropic: image data: URI has no media type; set the part's "
                                 "media_type (image/png, image/jpeg, image/gif, image/webp)");
        *out = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "image", "source", "type", "base64",
                         "media_type", media, "data", comma + 1);
    } else if (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) {
        *out = json_pack("{s:s, s:{s:s, s:s}}", "type", "image", "source", "type", "url", "url", u);
    } else {
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "anthropic: an image part needs an https URL or a base64 data: URI");
    }
    return *out ? AGC_OK : AGC_ENOMEM;
}

/* Appends the text and image parts of m to arr (thinking parts are handled apart). */
static agc_status add_parts(json_t *arr, const agc_message *m, agc_ctx *ctx)
{
    for (size_t i = 0; i < m->n_parts; i++) {
        const agc_part *p = &m->parts[i];
        json_t *blk = NULL;
        if (p->kind == AGC_PART_TEXT) {
            if (!p->text || !*p->text)
                continue; /* the API rejects empty text blocks */
            blk = text_block(p->text);
        } else if (p->kind == AGC_PART_IMAGE) {
            agc_status st = image_block(&blk, p, ctx);
            if (st != AGC_OK)
                return st;
        } else {
            continue;
        }
        if (!append(arr, blk))
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

/* Thinking parts with a raw block, passed back unchanged (signatures must match). */
static agc_status add_thinking(json_t *arr, const agc_message *m)
{
    for (size_t i = 0; i < m->n_parts; i++) {
        const agc_part *p = &m->parts[i];
        if (p->kind != AGC_PART_THINKING || !json_is_object(p->raw))
            continue; /* without its signature a thinking block cannot be sent back */
        if (!append(arr, json_deep_copy(p->raw)))
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

static agc_status add_tool_uses(json_t *arr, const agc_message *m, agc_ctx *ctx)
{
    for (size_t i = 0; i < m->n_tool_calls; i++) {
        const agc_tool_call *c = &m->tool_calls[i];
        const char *args = c->arguments && *c->arguments ? c->arguments : "{}";
        json_t *input = NULL;
        agc_status st = agc_json_parse(&input, args, strlen(args), "tool call arguments", ctx);
        if (st == AGC_ENOMEM)
            return st;
        if (!json_is_object(input)) {
            /* the model sent invalid arguments; the API needs an object here */
            json_decref(input);
            input = json_object();
        }
        agc_error_clear(ctx);
        char wn[72];
        json_t *blk =
            json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use", "id", c->id ? c->id : "", "name",
                      agc_tool_wire_name(wn, sizeof wn, c->name), "input", input);
        if (!append(arr, blk))
            return AGC_ENOMEM;
    }
    return AGC_OK;
}

static agc_status tool_result(json_t *arr, const agc_message *m, agc_ctx *ctx)
{
    json_t *blk = json_pack("{s:s, s:s}", "type", "tool_result", "tool_use_id",
                            m->tool_call_id ? m->tool_call_id : "");
    if (!blk)
        return AGC_ENOMEM;
    bool images = false;
    for (size_t i = 0; i < m->n_parts; i++)
        images |= m->parts[i].kind == AGC_PART_IMAGE;
    agc_status st = AGC_OK;
    if (images) {
        json_t *content = json_array();
        if (!content)
            st = AGC_ENOMEM;
        else if ((st = add_parts(content, m, ctx)) != AGC_OK)
            json_decref(content);
        else if (!put(blk, "content", content))
            st = AGC_ENOMEM;
    } else {
        agc_buf t;
        agc_buf_init(&t, ctx, 0);
        for (size_t i = 0; st == AGC_OK && i < m->n_parts; i++)
            if (m->parts[i].kind == AGC_PART_TEXT && m->parts[i].text)
                st = agc_buf_puts(&t, m->parts[i].text);
        if (st == AGC_OK && t.len && !put(blk, "content", json_stringn(t.data, t.len)))
            st = AGC_ENOMEM;
        agc_buf_free(&t);
    }
    if (st == AGC_OK && m->is_error && !put(blk, "is_error", json_true()))
        st = AGC_ENOMEM;
    if (st != AGC_OK) {
        json_decref(blk);
        return st;
    }
    return append(arr, blk) ? AGC_OK : AGC_ENOMEM;
}

static bool is_tool_result(const json_t *blk)
{
    const char *t = agc_json_str(blk, "type", "");
    return strcmp(t, "tool_result") == 0;
}

/* Moves blocks into content: tool results go before any other block (the API wants them first). */
static bool merge_blocks(json_t *content, json_t *blocks)
{
    size_t first_other = json_array_size(content);
    for (size_t i = 0; i < json_array_size(content); i++)
        if (!is_tool_result(json_array_get(content, i))) {
            first_other = i;
            break;
        }
    size_t i;
    json_t *b;
    json_array_foreach(blocks, i, b)
    {
        int rc = is_tool_result(b) ? json_array_insert(content, first_other++, b)
                                   : json_array_append(content, b);
        if (rc)
            return false;
    }
    return true;
}

/* ---- the request --------------------------------------------------------------- */

static agc_status encode_messages(json_t *body, const agc_chat_request *req, agc_ctx *ctx)
{
    json_t *system = json_array();
    json_t *msgs = json_array();
    if (!put(body, "messages", msgs) || !system) {
        json_decref(system);
        return AGC_ENOMEM;
    }
    agc_status st = AGC_OK;
    const char *last_role = NULL;
    json_t *last_content = NULL;
    for (size_t i = 0; st == AGC_OK && i < req->n_messages; i++) {
        const agc_message *m = &req->messages[i];
        if (m->role == AGC_ROLE_SYSTEM) {
            size_t before = json_array_size(system);
            for (size_t k = 0; st == AGC_OK && k < m->n_parts; k++) {
                const agc_part *p = &m->parts[k];
                if (p->kind == AGC_PART_TEXT && p->text && *p->text &&
                    !append(system, text_block(p->text)))
                    st = AGC_ENOMEM;
            }
            if (st == AGC_OK && m->cache && json_array_size(system) > before &&
                !set_cache_control(json_array_get(system, json_array_size(system) - 1)))
                st = AGC_ENOMEM;
            continue;
        }
        json_t *blocks = json_array();
        if (!blocks) {
            st = AGC_ENOMEM;
            break;
        }
        const char *role = m->role == AGC_ROLE_ASSISTANT ? "assistant" : "user";
        if (m->role == AGC_ROLE_TOOL) {
            st = tool_result(blocks, m, ctx);
        } else if (m->role == AGC_ROLE_ASSISTANT) {
            st = add_thinking(blocks, m);
            if (st == AGC_OK)
                st = add_parts(blocks, m, ctx);
            if (st == AGC_OK)
                st = add_tool_uses(blocks, m, ctx);
        } else {
            st = add_parts(blocks, m, ctx);
        }
        size_t n = json_array_size(blocks);
        if (st == AGC_OK && m->cache && n && !set_cache_control(json_array_get(blocks, n - 1)))
            st = AGC_ENOMEM;
        if (st == AGC_OK && n) {
            if (last_role && strcmp(last_role, role) == 0) {
                if (!merge_blocks(last_content, blocks))
                    st = AGC_ENOMEM;
            } else {
                json_t *wm = json_pack("{s:s, s:O}", "role", role, "content", blocks);
                if (!append(msgs, wm))
                    st = AGC_ENOMEM;
                else {
                    last_role = role;
                    last_content = json_object_get(wm, "content");
                }
            }
        }
        json_decref(blocks);
    }
    size_t ns = json_array_size(system);
    if (st == AGC_OK && ns && req->cache_system &&
        !json_object_get(json_array_get(system, ns - 1), "cache_control") &&
        !set_cache_control(json_array_get(system, ns - 1)))
        st = AGC_ENOMEM;
    if (st == AGC_OK && ns && !put(body, "system", system))
        return AGC_ENOMEM;
    if (st != AGC_OK || !ns)
        json_decref(system);
    return st;
}

static agc_status encode_tools(json_t *body, const agc_chat_request *req, agc_ctx *ctx)
{
    const char *stool = agc__anth_structured_tool(req);
    if (!req->n_tools && !stool)
        return AGC_OK;
    json_t *tools = json_array();
    if (!put(body, "tools", tools))
        return AGC_ENOMEM;
    for (size_t i = 0; i < req->n_tools; i++) {
        const agc_tool_def *t = &req->tools[i];
        json_t *schema =
            t->parameters ? json_deep_copy(t->parameters) : json_pack("{s:s}", "type", "object");
        char wn[72];
        json_t *tj = json_pack("{s:s, s:o}", "name", agc_tool_wire_name(wn, sizeof wn, t->name),
                               "input_schema", schema);
        if (!append(tools, tj) ||
            (t->description && !put(tj, "description", json_string(t->description))))
            return AGC_ENOMEM;
    }
    if (stool) {
        const json_t *s = req->response_schema;
        const char *type = agc_json_str(s, "type", NULL);
        if (!json_is_object(s) || !type || strcmp(type, "object") != 0)
            return agc_error_set(ctx, AGC_EINVAL, "provider",
                                 "anthropic: structured output needs a JSON schema whose top level "
                                 "is {\"type\": \"object\", ...}; wrap other values in an object");
        json_t *tj = json_pack("{s:s, s:s, s:o}", "name", stool, "description",
                               "Give the final answer by calling this tool; its input is the "
                               "answer and must match the schema.",
                               "input_schema", json_deep_copy(s));
        if (!append(tools, tj))
            return AGC_ENOMEM;
    }
    size_t n = json_array_size(tools);
    if (req->cache_system && n && !set_cache_control(json_array_get(tools, n - 1)))
        return AGC_ENOMEM;

    /* tool_choice: structured output forces its tool unless the model may call real tools */
    json_t *choice = NULL;
    char wn[72];
    if (req->tool_choice == AGC_TOOL_CHOICE_NAMED)
        choice = json_pack("{s:s, s:s}", "type", "tool", "name",
                           agc_tool_wire_name(wn, sizeof wn, req->tool_choice_name));
    else if (stool && (req->n_tools == 0 || req->tool_choice == AGC_TOOL_CHOICE_NONE))
        choice = json_pack("{s:s, s:s}", "type", "tool", "name", stool);
    else if (stool || req->tool_choice == AGC_TOOL_CHOICE_REQUIRED)
        choice = json_pack("{s:s}", "type", "any");
    else if (req->tool_choice == AGC_TOOL_CHOICE_NONE)
        choice = json_pack("{s:s}", "type", "none");
    else
        choice = json_pack("{s:s}", "type", "auto");
    if (!put(body, "tool_choice", choice))
        return AGC_ENOMEM;
    if (!req->parallel_tool_calls && strcmp(agc_json_str(choice, "type", ""), "none") != 0 &&
        !put(choice, "disable_parallel_tool_use", json_true()))
        return AGC_ENOMEM;
    return AGC_OK;
}

agc_status agc__anth_encode(json_t **out, const agc_chat_request *req, bool stream, agc_ctx *ctx)
{
    *out = NULL;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *body = json_object();
    agc_status st = AGC_OK;
    long max_tokens = req->max_tokens > 0 ? req->max_tokens : AGC__ANTH_DEFAULT_MAX_TOKENS;
    if (!body || !put(body, "model", json_string(req->model ? req->model : "")) ||
        !put(body, "max_tokens", json_integer(max_tokens)))
        st = AGC_ENOMEM;
    if (st == AGC_OK)
        st = encode_messages(body, req, ctx);
    if (st == AGC_OK)
        st = encode_tools(body, req, ctx);
    if (st == AGC_OK && req->temperature >= 0 &&
        !put(body, "temperature", json_real(req->temperature)))
        st = AGC_ENOMEM;
    if (st == AGC_OK && req->top_p >= 0 && !put(body, "top_p", json_real(req->top_p)))
        st = AGC_ENOMEM;
    if (st == AGC_OK && req->n_stop) {
        json_t *s = json_array();
        if (!put(body, "stop_sequences", s))
            st = AGC_ENOMEM;
        for (size_t i = 0; st == AGC_OK && i < req->n_stop; i++)
            if (!append(s, json_string(req->stop[i] ? req->stop[i] : "")))
                st = AGC_ENOMEM;
    }
    if (st == AGC_OK && stream && !put(body, "stream", json_true()))
        st = AGC_ENOMEM;
    if (st == AGC_OK && json_is_object(req->extra)) {
        json_t *x = json_deep_copy(req->extra);
        if (!x || json_object_update(body, x))
            st = AGC_ENOMEM;
        json_decref(x);
    }
    agc_json_leave(prev);
    if (st != AGC_OK) {
        json_decref(body);
        if (st == AGC_ENOMEM)
            return agc_error_set(ctx, AGC_ENOMEM, "provider",
                                 "anthropic: out of memory encoding the request");
        return st;
    }
    *out = body;
    return AGC_OK;
}

/* ---- responses -------------------------------------------------------------------- */

agc_finish_reason agc__anth_finish(const char *r)
{
    if (!r)
        return AGC_FINISH_STOP;
    if (strcmp(r, "max_tokens") == 0 || strcmp(r, "model_context_window_exceeded") == 0)
        return AGC_FINISH_LENGTH;
    if (strcmp(r, "tool_use") == 0)
        return AGC_FINISH_TOOL_CALLS;
    if (strcmp(r, "refusal") == 0)
        return AGC_FINISH_CONTENT_FILTER;
    return AGC_FINISH_STOP; /* end_turn, stop_sequence, pause_turn, unknown */
}

int agc__anth_error_status(const char *type)
{
    static const struct {
        const char *type;
        int status;
    } map[] = {
        {"invalid_request_error", 400}, {"authentication_error", 401},
        {"billing_error", 402},         {"permission_error", 403},
        {"not_found_error", 404},       {"request_too_large", 413},
        {"rate_limit_error", 429},      {"api_error", 500},
        {"timeout_error", 504},         {"overloaded_error", 529},
    };
    for (size_t i = 0; type && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(type, map[i].type) == 0)
            return map[i].status;
    return 0;
}

void agc__anth_apply_usage(agc_response_builder *b, const json_t *u, long long raw[4])
{
    if (!json_is_object(u))
        return;
    static const char *keys[4] = {"input_tokens", "output_tokens", "cache_read_input_tokens",
                                  "cache_creation_input_tokens"};
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(u, keys[i]);
        if (json_is_integer(v))
            raw[i] = json_integer_value(v);
    }
    long long in = raw[0] < 0 ? 0 : raw[0], cr = raw[2] < 0 ? 0 : raw[2],
              cw = raw[3] < 0 ? 0 : raw[3];
    agc_response_merge_usage(b, in + cr + cw, raw[1] < 0 ? 0 : raw[1], cr, cw, -1);
}

/* Dumps a tool_use input object as compact JSON text (caller frees with agc_free). */
static agc_status input_text(char **out, const json_t *blk, agc_ctx *ctx)
{
    json_t *input = json_object_get(blk, "input");
    if (!input) {
        *out = NULL;
        return AGC_OK;
    }
    return agc_json_dump(out, input, JSON_COMPACT, ctx);
}

agc_status agc__anth_decode_message(agc_response_builder *b, const json_t *msg,
                                    const char *structured_tool, agc_ctx *ctx)
{
    json_t *content = json_object_get(msg, "content");
    if (!json_is_object(msg) || !json_is_array(content))
        return agc_error_set(ctx, AGC_EPROTO, "provider",
                             "anthropic: the answer is not a message (no content array)");
    agc_status st = agc_response_set_meta(b, agc_json_str(msg, "id", NULL),
                                          agc_json_str(msg, "model", NULL), NULL);
    size_t i, calls = 0;
    json_t *blk;
    bool structured_used = false;
    json_array_foreach(content, i, blk)
    {
        if (st != AGC_OK)
            break;
        const char *type = agc_json_str(blk, "type", "");
        if (strcmp(type, "text") == 0) {
            const char *t = agc_json_str(blk, "text", "");
            st = agc_response_add_text(b, t, strlen(t));
        } else if (strcmp(type, "tool_use") == 0) {
            const char *name = agc_json_str(blk, "name", NULL);
            char *args = NULL;
            st = input_text(&args, blk, ctx);
            if (st != AGC_OK)
                break;
            size_t len = args ? strlen(args) : 0;
            if (structured_tool && name && strcmp(name, structured_tool) == 0) {
                structured_used = true;
                st = agc_response_add_text(b, args ? args : "", len);
            } else {
                st = agc_response_add_tool_call(b, calls++, agc_json_str(blk, "id", NULL), name,
                                                args, len);
            }
            agc_free(ctx, args);
        } else if (strcmp(type, "thinking") == 0) {
            const char *t = agc_json_str(blk, "thinking", "");
            if (*t) {
                st = agc_response_add_thinking(b, t, strlen(t));
                if (st == AGC_OK)
                    st = agc_response_set_thinking_raw(b, blk);
            } else {
                st = agc_response_add_raw_thinking(b, blk);
            }
        } else if (strcmp(type, "redacted_thinking") == 0) {
            st = agc_response_add_raw_thinking(b, blk);
        }
        /* other block types (server tools, citations-only blocks) are not kept */
    }
    if (st != AGC_OK)
        return st;
    long long raw[4] = {-1, -1, -1, -1};
    agc__anth_apply_usage(b, json_object_get(msg, "usage"), raw);
    const char *stop = agc_json_str(msg, "stop_reason", NULL);
    if (!stop)
        return agc_error_set(ctx, AGC_EPROTO, "provider",
                             "anthropic: the message has no stop_reason");
    agc_finish_reason fr = agc__anth_finish(stop);
    if (structured_used && fr == AGC_FINISH_TOOL_CALLS)
        fr = AGC_FINISH_STOP;
    return agc_response_set_finish(b, fr, stop);
}
