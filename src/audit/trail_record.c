/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The hashed form of an audit record, checkpoint signatures and the
 * redaction every record passes before it is stored. Invariant: the hash is
 * SHA-256 over agc_json_canonical of exactly the fields listed in
 * agc__audit_record_object (hash excluded); changing that list changes the
 * format. It does not touch SQLite.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "audit/audit_int.h"

#define REDACT_MAX_DEPTH 64

/* ---- the hashed record ----------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

agc_status agc__audit_record_object(json_t **out, const agc_audit_record *r, const json_t *payload,
                                    bool with_hash, agc_ctx *ctx)
{
    *out = NULL;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *o = json_object();
    int rc = o ? 0 : -1;
    if (rc == 0)
        rc |= json_object_set_new(o, "action", str_or_null(r->action));
    if (rc == 0)
        rc |= json_object_set_new(o, "actor", str_or_null(r->actor));
    if (rc == 0)
        rc |= json_object_set_new(o, "outcome", str_or_null(r->outcome));
    if (rc == 0)
        rc |= json_object_set(o, "payload", (json_t *)payload);
    if (rc == 0)
        rc |= json_object_set_new(o, "prev_hash", str_or_null(r->prev_hash));
    if (rc == 0)
        rc |= json_object_set_new(o, "run_id", str_or_null(r->run_id));
    if (rc == 0)
        rc |= json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
    if (rc == 0)
        rc |= json_object_set_new(o, "subject", str_or_null(r->subject));
    if (rc == 0)
        rc |= json_object_set_new(o, "time", json_integer((json_int_t)r->time_ms));
    if (rc == 0 && with_hash)
        rc |= json_object_set_new(o, "hash", str_or_null(r->hash));
    if (rc != 0) {
        json_decref(o);
        o = NULL;
    }
    agc_json_leave(prev);
    if (!o)
        return agc_error_set(ctx, AGC_ENOMEM, "audit", "out of memory building an audit record");
    *out = o;
    return AGC_OK;
}

agc_status agc__audit_hash(char out[AGC_AUDIT_HEX_SIZE], const agc_audit_record *r,
                           const json_t *payload, agc_ctx *ctx)
{
    out[0] = '\0';
    json_t *o = NULL;
    agc_status st = agc__audit_record_object(&o, r, payload, false, ctx);
    char *text = NULL;
    size_t len = 0;
    if (st == AGC_OK)
        st = agc_json_canonical(&text, &len, o, ctx);
    if (st == AGC_OK) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)text, len);
        sodium_bin2hex(out, AGC_AUDIT_HEX_SIZE, h, sizeof h);
    }
    agc_free(ctx, text);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(o);
    agc_json_leave(prev);
    return st;
}

/* Whether s is null or only printable ASCII without '"' and '\\' (its canonical form is itself). */
static bool plain(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

static void put_field(agc_buf *b, const char *name, const char *v, agc_status *st)
{
    if (*st != AGC_OK)
        return;
    *st = agc_buf_append(b, name, strlen(name));
    if (*st == AGC_OK && !v)
        *st = agc_buf_append(b, "null", 4);
    else if (*st == AGC_OK) {
        *st = agc_buf_putc(b, '"');
        if (*st == AGC_OK)
            *st = agc_buf_append(b, v, strlen(v));
        if (*st == AGC_OK)
            *st = agc_buf_putc(b, '"');
    }
}

agc_status agc__audit_hash_text(char out[AGC_AUDIT_HEX_SIZE], const agc_audit_record *r,
                                const char *payload_text, size_t payload_len, agc_ctx *ctx)
{
    out[0] = '\0';
    if (!plain(r->action) || !plain(r->actor) || !plain(r->outcome) || !plain(r->prev_hash) ||
        !plain(r->run_id) || !plain(r->subject)) {
        /* some field needs escaping: the general path */
        json_t *payload = NULL;
        agc_status st = agc_json_parse(&payload, payload_text, payload_len, "audit payload", ctx);
        if (st == AGC_OK)
            st = agc__audit_hash(out, r, payload, ctx);
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(payload);
        agc_json_leave(prev);
        return st;
    }
    /* the canonical text of agc__audit_record_object, written directly (keys sorted) */
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = agc_buf_reserve(&b, payload_len + 512);
    char num[64];
    put_field(&b, "{\"action\":", r->action, &st);
    put_field(&b, ",\"actor\":", r->actor, &st);
    put_field(&b, ",\"outcome\":", r->outcome, &st);
    if (st == AGC_OK)
        st = agc_buf_append(&b, ",\"payload\":", 11);
    if (st == AGC_OK)
        st = agc_buf_append(&b, payload_text, payload_len);
    put_field(&b, ",\"prev_hash\":", r->prev_hash, &st);
    put_field(&b, ",\"run_id\":", r->run_id, &st);
    int n = snprintf(num, sizeof num, ",\"seq\":%" PRIu64, r->seq);
    if (st == AGC_OK)
        st = agc_buf_append(&b, num, (size_t)n);
    put_field(&b, ",\"subject\":", r->subject, &st);
    n = snprintf(num, sizeof num, ",\"time\":%" PRId64 "}", r->time_ms);
    if (st == AGC_OK)
        st = agc_buf_append(&b, num, (size_t)n);
    if (st == AGC_OK) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)b.data, b.len);
        sodium_bin2hex(out, AGC_AUDIT_HEX_SIZE, h, sizeof h);
    }
    agc_buf_free(&b);
    return st;
}

agc_status agc_audit_record_to_jsonl(char **out, size_t *out_len, const agc_audit_record *r,
                                     agc_ctx *ctx)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    json_t *payload = NULL;
    agc_status st = agc_json_parse(&payload, r->payload ? r->payload : "{}",
                                   r->payload ? strlen(r->payload) : 2, "audit payload", ctx);
    if (st == AGC_EPARSE)
        return agc_error_wrap(ctx, AGC_EIO, "audit",
                              "record %" PRIu64 ": stored payload is not JSON", r->seq);
    if (st != AGC_OK)
        return st;
    json_t *o = NULL;
    st = agc__audit_record_object(&o, r, payload, true, ctx);
    char *text = NULL;
    size_t len = 0;
    if (st == AGC_OK)
        st = agc_json_canonical(&text, &len, o, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(o);
    json_decref(payload);
    agc_json_leave(prev);
    if (st != AGC_OK)
        return st;
    char *line = agc_realloc(ctx, text, len + 2);
    if (!line) {
        agc_free(ctx, text);
        return AGC_ENOMEM;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    *out = line;
    if (out_len)
        *out_len = len + 1;
    return AGC_OK;
}

/* ---- checkpoints ----------------------------------------------------------------- */

/* The signed message: a domain tag, seq and hash. */
static size_t cp_message(char *buf, size_t size, uint64_t seq, const char *hash)
{
    int n = snprintf(buf, size, "agentc-audit-checkpoint-v1\n%" PRIu64 "\n%s", seq, hash);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

void agc__audit_sign(char sig[AGC__AUDIT_SIG_HEX_SIZE], const agc_secret *sk, uint64_t seq,
                     const char *hash)
{
    char msg[160];
    size_t len = cp_message(msg, sizeof msg, seq, hash);
    unsigned char s[crypto_sign_BYTES];
    crypto_sign_detached(s, NULL, (const unsigned char *)msg, len,
                         (const unsigned char *)agc_secret_reveal(sk, NULL));
    sodium_bin2hex(sig, AGC__AUDIT_SIG_HEX_SIZE, s, sizeof s);
}

bool agc__audit_sig_ok(const unsigned char pk[32], const char *sig, uint64_t seq, const char *hash)
{
    unsigned char s[crypto_sign_BYTES];
    if (!sig || !hash || !agc__audit_unhex(s, sizeof s, sig))
        return false;
    char msg[160];
    size_t len = cp_message(msg, sizeof msg, seq, hash);
    return len > 0 && crypto_sign_verify_detached(s, (const unsigned char *)msg, len, pk) == 0;
}

bool agc__audit_unhex(unsigned char *out, size_t len, const char *hex)
{
    size_t got = 0;
    if (!hex || strlen(hex) != 2 * len)
        return false;
    return sodium_hex2bin(out, len, hex, 2 * len, NULL, &got, NULL) == 0 && got == len;
}

bool agc__audit_is_hash(const char *s)
{
    if (!s || strlen(s) != AGC_AUDIT_HEX_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

agc_status agc__audit_cp_to_jsonl(char **out, size_t *len, const agc__audit_cp *cp, agc_ctx *ctx)
{
    *out = agc_sprintf(ctx,
                       "{\"checkpoint\":%" PRIu64 ",\"hash\":\"%s\",\"public_key\":\"%s\","
                       "\"sig\":\"%s\",\"time\":%" PRId64 "}\n",
                       cp->seq, cp->hash, cp->public_key, cp->sig, cp->time_ms);
    if (!*out)
        return AGC_ENOMEM;
    *len = strlen(*out);
    return AGC_OK;
}

/* ---- redaction ------------------------------------------------------------------- */

agc_status agc__audit_redact_str(char **out, const char *s, agc_ctx *ctx)
{
    *out = NULL;
    if (!s)
        return AGC_OK;
    size_t len = strlen(s);
    if (!agc_redact_would_change(s, len, ctx)) {
        *out = agc_strdup(ctx, s);
        return *out ? AGC_OK : AGC_ENOMEM;
    }
    return agc_redact(out, NULL, s, len, ctx);
}

/* *out = a new string value of text redacted, or a new reference to v when unchanged. */
static agc_status redact_leaf(json_t **out, const json_t *v, const char *text, size_t len,
                              bool number, agc_ctx *ctx)
{
    *out = NULL;
    if (!agc_redact_would_change(text, len, ctx)) {
        *out = json_incref((json_t *)v);
        return AGC_OK;
    }
    char *red = NULL;
    size_t red_len = 0;
    agc_status st = number ? AGC_OK : agc_redact(&red, &red_len, text, len, ctx);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(ctx);
    *out = red ? json_stringn(red, red_len) : NULL;
    if (!*out)
        *out = json_string(AGC_REDACTED);
    agc_json_leave(prev);
    agc_free(ctx, red);
    return *out ? AGC_OK : AGC_ENOMEM;
}

/* A copy of v with every string, key and number the redactor would change redacted. */
static agc_status redact_tree(json_t **out, const json_t *v, int depth, agc_ctx *ctx)
{
    *out = NULL;
    if (depth > REDACT_MAX_DEPTH)
        return agc_error_set(ctx, AGC_ELIMIT, "audit", "payload nested deeper than %d levels",
                             REDACT_MAX_DEPTH);
    char num[64];
    agc_status st = AGC_OK;
    agc_ctx *prev;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return redact_leaf(out, v, json_string_value(v), json_string_length(v), false, ctx);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return redact_leaf(out, v, num, strlen(num), true, ctx);
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        return redact_leaf(out, v, num, strlen(num), true, ctx);
    case JSON_ARRAY:
        prev = agc_json_enter(ctx);
        *out = json_array();
        agc_json_leave(prev);
        for (size_t i = 0; *out && st == AGC_OK && i < json_array_size(v); i++) {
            json_t *item = NULL;
            st = redact_tree(&item, json_array_get(v, i), depth + 1, ctx);
            prev = agc_json_enter(ctx);
            if (st == AGC_OK && json_array_append_new(*out, item) != 0)
                st = AGC_ENOMEM;
            agc_json_leave(prev);
        }
        break;
    case JSON_OBJECT: {
        prev = agc_json_enter(ctx);
        *out = json_object();
        agc_json_leave(prev);
        const char *key;
        json_t *mv;
        json_object_foreach((json_t *)v, key, mv)
        {
            if (!*out || st != AGC_OK)
                break;
            json_t *item = NULL;
            char *rkey = NULL;
            st = redact_tree(&item, mv, depth + 1, ctx);
            if (st == AGC_OK)
                st = agc__audit_redact_str(&rkey, key, ctx);
            prev = agc_json_enter(ctx);
            if (st == AGC_OK && json_object_set_new(*out, rkey, item) != 0)
                st = AGC_ENOMEM;
            else if (st != AGC_OK)
                json_decref(item);
            agc_json_leave(prev);
            agc_free(ctx, rkey);
        }
        break;
    }
    default:
        *out = json_incref((json_t *)v);
        return AGC_OK;
    }
    if (st == AGC_OK && !*out)
        st = AGC_ENOMEM;
    if (st != AGC_OK) {
        prev = agc_json_enter(ctx);
        json_decref(*out);
        agc_json_leave(prev);
        *out = NULL;
        if (st == AGC_ENOMEM)
            agc_error_set(ctx, AGC_ENOMEM, "audit", "out of memory redacting a payload");
    }
    return st;
}

agc_status agc__audit_redact_payload_text(char **out, size_t *len, const json_t *payload,
                                          agc_ctx *ctx)
{
    *out = NULL;
    *len = 0;
    if (payload && json_is_object(payload)) {
        /* fast path: nothing escaped and nothing to redact in the canonical text
         * means no string, key or number holds anything the redactor matches */
        agc_status st = agc_json_canonical(out, len, payload, ctx);
        if (st != AGC_OK)
            return st;
        if (!memchr(*out, '\\', *len) && !agc_redact_would_change(*out, *len, ctx))
            return AGC_OK;
        agc_free(ctx, *out);
        *out = NULL;
        *len = 0;
    }
    json_t *tree = NULL;
    agc_status st = agc__audit_redact_payload(&tree, payload, ctx);
    if (st == AGC_OK)
        st = agc_json_canonical(out, len, tree, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(tree);
    agc_json_leave(prev);
    return st;
}

agc_status agc__audit_redact_payload(json_t **out, const json_t *payload, agc_ctx *ctx)
{
    *out = NULL;
    agc_ctx *prev;
    if (!payload) {
        prev = agc_json_enter(ctx);
        *out = json_object();
        agc_json_leave(prev);
        return *out ? AGC_OK : agc_error_set(ctx, AGC_ENOMEM, "audit", "out of memory");
    }
    if (!json_is_object(payload))
        return agc_error_set(ctx, AGC_EINVAL, "audit",
                             "an audit payload must be a JSON object, "
                             "not %s",
                             agc_json_type_name(payload));
    json_t *tree = NULL;
    agc_status st = redact_tree(&tree, payload, 0, ctx);
    /* second pass over the canonical text: secrets that only appear once escaped */
    char *text = NULL, *red = NULL;
    size_t len = 0, red_len = 0;
    if (st == AGC_OK)
        st = agc_json_canonical(&text, &len, tree, ctx);
    if (st == AGC_OK && agc_redact_would_change(text, len, ctx)) {
        st = agc_redact(&red, &red_len, text, len, ctx);
        if (st == AGC_OK && (red_len != len || memcmp(red, text, len) != 0)) {
            prev = agc_json_enter(ctx);
            json_decref(tree);
            agc_json_leave(prev);
            tree = NULL;
            st = agc_json_parse(&tree, red, red_len, "redacted payload", ctx);
            if (st == AGC_EPARSE) {
                /* a secret spans JSON tokens: keep the record, lose the payload */
                prev = agc_json_enter(ctx);
                tree = json_pack("{ss}", "redacted", "payload held a secret across JSON tokens");
                agc_json_leave(prev);
                st = tree ? AGC_OK : AGC_ENOMEM;
            }
        }
    }
    agc_free(ctx, text);
    agc_free(ctx, red);
    if (st != AGC_OK) {
        prev = agc_json_enter(ctx);
        json_decref(tree);
        agc_json_leave(prev);
        return st == AGC_ENOMEM ? agc_error_set(ctx, AGC_ENOMEM, "audit",
                                                "out of memory redacting "
                                                "a payload")
                                : st;
    }
    *out = tree;
    return AGC_OK;
}
