/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A small .proto reader for generation: package, top-level message (fields
 * "[repeated|optional] type name = N;", nested message/enum/oneof bodies
 * are skipped), enum, service with rpc lines ("rpc M (Req) returns (Resp);",
 * stream markers ignored). Comments (// and block) are removed first. Each
 * message becomes a type with a synthesised JSON Schema (scalars mapped to
 * JSON types, messages to $ref), each rpc an operation. Errors name the line.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "agentc/json.h"
#include "spec_int.h"

typedef struct lexer {
    const char *s;
    size_t i, n;
    size_t line;
} lexer;

static void skip_ws(lexer *L)
{
    while (L->i < L->n) {
        char c = L->s[L->i];
        if (c == '\n') {
            L->line++;
            L->i++;
        } else if (isspace((unsigned char)c)) {
            L->i++;
        } else if (c == '/' && L->i + 1 < L->n && L->s[L->i + 1] == '/') {
            while (L->i < L->n && L->s[L->i] != '\n')
                L->i++;
        } else if (c == '/' && L->i + 1 < L->n && L->s[L->i + 1] == '*') {
            L->i += 2;
            while (L->i + 1 < L->n && !(L->s[L->i] == '*' && L->s[L->i + 1] == '/')) {
                if (L->s[L->i] == '\n')
                    L->line++;
                L->i++;
            }
            L->i += 2;
        } else {
            break;
        }
    }
}

/* The next token into buf: an identifier (with dots), a number, a string, or one char. */
static bool tok(lexer *L, char *buf, size_t size)
{
    skip_ws(L);
    if (L->i >= L->n)
        return false;
    size_t k = 0;
    char c = L->s[L->i];
    if (isalnum((unsigned char)c) || c == '_' || c == '.') {
        while (L->i < L->n &&
               (isalnum((unsigned char)L->s[L->i]) || L->s[L->i] == '_' || L->s[L->i] == '.')) {
            if (k + 1 < size)
                buf[k++] = L->s[L->i];
            L->i++;
        }
    } else if (c == '"' || c == '\'') {
        L->i++;
        while (L->i < L->n && L->s[L->i] != c) {
            if (k + 1 < size)
                buf[k++] = L->s[L->i];
            L->i++;
        }
        L->i++;
    } else {
        buf[k++] = c;
        L->i++;
    }
    buf[k] = '\0';
    return true;
}

static agc_status perr(agc_spec *s, const lexer *L, const char *what)
{
    return agc_error_set(s->ctx, AGC_EPARSE, "spec", "%s:%zu: %s", s->source, L->line, what);
}

/* Skips a balanced { ... } body; the '{' was just read. */
static agc_status skip_body(agc_spec *s, lexer *L)
{
    int depth = 1;
    char t[256];
    while (depth > 0) {
        if (!tok(L, t, sizeof t))
            return perr(s, L, "unbalanced '{'");
        if (strcmp(t, "{") == 0)
            depth++;
        else if (strcmp(t, "}") == 0)
            depth--;
    }
    return AGC_OK;
}

static json_t *scalar_schema(const char *type)
{
    static const struct {
        const char *proto, *json;
    } map[] = {{"string", "string"},   {"bytes", "string"},     {"bool", "boolean"},
               {"double", "number"},   {"float", "number"},     {"int32", "integer"},
               {"int64", "integer"},   {"uint32", "integer"},   {"uint64", "integer"},
               {"sint32", "integer"},  {"sint64", "integer"},   {"fixed32", "integer"},
               {"fixed64", "integer"}, {"sfixed32", "integer"}, {"sfixed64", "integer"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(type, map[i].proto) == 0)
            return json_pack("{s:s}", "type", map[i].json);
    const char *dot = strrchr(type, '.');
    char ref[300];
    snprintf(ref, sizeof ref, "#/$defs/%s", dot ? dot + 1 : type);
    return json_pack("{s:s}", "$ref", ref);
}

static agc_status add_schema_type(agc_spec *s, const char *name, json_t *schema)
{
    if (!schema || json_array_append_new(s->owned, schema) != 0)
        return AGC_ENOMEM;
    agc_spec_type *nt = agc_realloc(s->ctx, s->types, (s->n_types + 1) * sizeof *nt);
    if (!nt)
        return AGC_ENOMEM;
    s->types = nt;
    json_t *ex = json_array();
    if (!ex || json_array_append_new(s->owned, ex) != 0)
        return AGC_ENOMEM;
    const char *nm = agc_arena_strdup(s->arena, name);
    if (!nm)
        return AGC_ENOMEM;
    nt[s->n_types++] = (agc_spec_type){nm, schema, ex};
    return AGC_OK;
}

static agc_status message(agc_spec *s, lexer *L, const char *name)
{
    json_t *schema = json_object(), *props = json_object();
    if (!schema || !props) {
        json_decref(schema);
        json_decref(props);
        return AGC_ENOMEM;
    }
    if (json_object_set_new(schema, "properties", props) != 0 || /* props stolen */
        json_object_set_new(schema, "type", json_string("object")) != 0) {
        json_decref(schema);
        return AGC_ENOMEM;
    }
    char t[256], fname[256], type[256];
    for (;;) {
        if (!tok(L, t, sizeof t)) {
            json_decref(schema);
            return perr(s, L, "message body not closed");
        }
        if (strcmp(t, "}") == 0)
            break;
        if (strcmp(t, ";") == 0)
            continue;
        if (strcmp(t, "message") == 0 || strcmp(t, "enum") == 0 || strcmp(t, "oneof") == 0 ||
            strcmp(t, "reserved") == 0 || strcmp(t, "option") == 0 ||
            strcmp(t, "extensions") == 0) {
            /* skip to the body or the end of the statement */
            while (tok(L, t, sizeof t) && strcmp(t, "{") != 0 && strcmp(t, ";") != 0)
                ;
            if (strcmp(t, "{") == 0 && skip_body(s, L) != AGC_OK) {
                json_decref(schema);
                return AGC_EPARSE;
            }
            continue;
        }
        bool repeated = strcmp(t, "repeated") == 0;
        if (repeated || strcmp(t, "optional") == 0 || strcmp(t, "required") == 0) {
            if (!tok(L, t, sizeof t))
                break;
        }
        snprintf(type, sizeof type, "%s", t);
        if (strcmp(type, "map") == 0) { /* map<K, V> name = N; */
            while (tok(L, t, sizeof t) && strcmp(t, ">") != 0)
                ;
            snprintf(type, sizeof type, "map");
        }
        if (!tok(L, fname, sizeof fname) || !tok(L, t, sizeof t) || strcmp(t, "=") != 0) {
            json_decref(schema);
            return perr(s, L, "expected 'type name = number;' in a message");
        }
        while (tok(L, t, sizeof t) && strcmp(t, ";") != 0)
            ;
        json_t *fs =
            strcmp(type, "map") == 0 ? json_pack("{s:s}", "type", "object") : scalar_schema(type);
        if (fs && repeated) {
            json_t *arr = json_object();
            if (!arr || json_object_set_new(arr, "type", json_string("array")) != 0) {
                json_decref(arr);
                json_decref(fs);
                fs = NULL;
            } else {
                fs = json_object_set_new(arr, "items", fs) == 0 ? arr : (json_decref(arr), NULL);
            }
        }
        if (!fs || json_object_set_new(props, fname, fs) != 0) {
            json_decref(schema);
            return AGC_ENOMEM;
        }
    }
    return add_schema_type(s, name, schema);
}

static agc_status enum_body(agc_spec *s, lexer *L, const char *name)
{
    json_t *schema = json_object(), *vals = json_array();
    if (!schema || !vals) {
        json_decref(schema);
        json_decref(vals);
        return AGC_ENOMEM;
    }
    if (json_object_set_new(schema, "enum", vals) != 0 || /* vals stolen */
        json_object_set_new(schema, "type", json_string("string")) != 0) {
        json_decref(schema);
        return AGC_ENOMEM;
    }
    char t[256], v[256];
    for (;;) {
        if (!tok(L, t, sizeof t)) {
            json_decref(schema);
            return perr(s, L, "enum body not closed");
        }
        if (strcmp(t, "}") == 0)
            break;
        if (strcmp(t, "option") == 0 || strcmp(t, "reserved") == 0) {
            while (tok(L, t, sizeof t) && strcmp(t, ";") != 0)
                ;
            continue;
        }
        snprintf(v, sizeof v, "%s", t);
        while (tok(L, t, sizeof t) && strcmp(t, ";") != 0)
            ;
        if (json_array_append_new(vals, json_string(v)) != 0) {
            json_decref(schema);
            return AGC_ENOMEM;
        }
    }
    return add_schema_type(s, name, schema);
}

static agc_status service(agc_spec *s, lexer *L, const char *svc)
{
    char t[256], m[256], req[256], resp[256];
    for (;;) {
        if (!tok(L, t, sizeof t))
            return perr(s, L, "service body not closed");
        if (strcmp(t, "}") == 0)
            return AGC_OK;
        if (strcmp(t, "option") == 0) {
            while (tok(L, t, sizeof t) && strcmp(t, ";") != 0)
                ;
            continue;
        }
        if (strcmp(t, "rpc") != 0)
            return perr(s, L, "expected 'rpc' in a service");
        if (!tok(L, m, sizeof m) || !tok(L, t, sizeof t) || strcmp(t, "(") != 0)
            return perr(s, L, "expected 'rpc Name (Request) returns (Response)'");
        tok(L, req, sizeof req);
        if (strcmp(req, "stream") == 0)
            tok(L, req, sizeof req);
        if (!tok(L, t, sizeof t) || strcmp(t, ")") != 0 || !tok(L, t, sizeof t) ||
            strcmp(t, "returns") != 0 || !tok(L, t, sizeof t) || strcmp(t, "(") != 0)
            return perr(s, L, "expected 'rpc Name (Request) returns (Response)'");
        tok(L, resp, sizeof resp);
        if (strcmp(resp, "stream") == 0)
            tok(L, resp, sizeof resp);
        if (!tok(L, t, sizeof t) || strcmp(t, ")") != 0)
            return perr(s, L, "expected ')' after the response type");
        if (tok(L, t, sizeof t) && strcmp(t, "{") == 0 && skip_body(s, L) != AGC_OK)
            return AGC_EPARSE;
        agc_spec_op *no = agc_realloc(s->ctx, s->ops, (s->n_ops + 1) * sizeof *no);
        if (!no)
            return AGC_ENOMEM;
        s->ops = no;
        agc_spec_op *o = &no[s->n_ops];
        const char *rd = strrchr(req, '.'), *pd = strrchr(resp, '.');
        *o = (agc_spec_op){agc_arena_strdup(s->arena, m),
                           agc__spec_snake(s->arena, m),
                           "RPC",
                           agc_arena_sprintf(s->arena, "%s/%s", svc, m),
                           agc__spec_snake(s->arena, svc),
                           "",
                           agc_arena_strdup(s->arena, rd ? rd + 1 : req),
                           agc_arena_strdup(s->arena, pd ? pd + 1 : resp)};
        if (!o->id || !o->handler || !o->path || !o->resource || !o->request || !o->response)
            return AGC_ENOMEM;
        s->n_ops++;
    }
}

agc_status agc__spec_load_proto(agc_spec *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return agc_error_set(s->ctx, AGC_EIO, "spec", "cannot read %s", path);
    agc_buf b;
    agc_buf_init(&b, s->ctx, (size_t)8 << 20);
    char chunk[8192];
    size_t n;
    agc_status st = agc_buf_puts(&b, "");
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = agc_buf_append(&b, chunk, n);
    fclose(f);
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return st;
    }
    s->kind = "proto";
    s->title = "api";
    lexer L = {b.data, 0, b.len, 1};
    char t[256], name[256];
    agc_ctx *prev = agc_json_enter(s->ctx);
    while (st == AGC_OK && tok(&L, t, sizeof t)) {
        if (strcmp(t, "package") == 0) {
            if (tok(&L, name, sizeof name))
                s->title = agc_arena_strdup(s->arena, name);
            if (!s->title)
                st = AGC_ENOMEM;
        } else if (strcmp(t, "message") == 0 || strcmp(t, "enum") == 0 ||
                   strcmp(t, "service") == 0) {
            char br[8];
            if (!tok(&L, name, sizeof name) || !tok(&L, br, sizeof br) || strcmp(br, "{") != 0) {
                st = perr(s, &L, "expected 'NAME {'");
                break;
            }
            st = t[0] == 'm'   ? message(s, &L, name)
                 : t[0] == 'e' ? enum_body(s, &L, name)
                               : service(s, &L, name);
        } else if (strcmp(t, "syntax") == 0 || strcmp(t, "import") == 0 ||
                   strcmp(t, "option") == 0) {
            while (tok(&L, t, sizeof t) && strcmp(t, ";") != 0)
                ;
        } else if (strcmp(t, ";") != 0) {
            st = perr(s, &L,
                      "expected syntax, package, import, option, message, enum or "
                      "service");
        }
    }
    agc_json_leave(prev);
    agc_buf_free(&b);
    if (st == AGC_OK && s->n_types == 0 && s->n_ops == 0)
        st = agc_error_set(s->ctx, AGC_EINVAL, "spec", "%s: no message or service found", path);
    return st;
}
