/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The replay backend: serves the exchanges of a cassette (docs/cassettes.md)
 * in order, offline. Each chat's normalised request must equal the next
 * recorded one (canonical JSON, no field ignored); a mismatch is AGC_EINVAL
 * naming the exchange, the cassette line and the JSON Pointer of the first
 * differing fields. Recorded errors are replayed with their code and
 * message. It never sleeps (latency is ignored) and never retries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agentc/buf.h"
#include "agentc/json.h"
#include "provider_int.h"

#define CASSETTE_MAX_BYTES ((size_t)1 << 30) /* 1 GiB */
#define DIFF_MAX           3                 /* differing fields named in a mismatch */
#define VALUE_MAX          60                /* characters of a value shown in a diff */

typedef struct exchange {
    json_t *line;    /* the whole parsed line */
    char *req_canon; /* canonical JSON of its "request" */
    size_t lineno;   /* 1-based line in the file */
} exchange;

typedef struct replay {
    agc_ctx *ctx;
    char *path;
    exchange *ex;
    size_t n;
    size_t next;
} replay;

static void replay_destroy(void *self)
{
    replay *r = self;
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        json_decref(r->ex[i].line);
        agc_free(r->ctx, r->ex[i].req_canon);
    }
    agc_free(r->ctx, r->ex);
    agc_free(r->ctx, r->path);
    agc_free(r->ctx, r);
}

/* ---- diff ----------------------------------------------------------------- */

typedef struct differ {
    agc_ctx *ctx;
    agc_buf *out; /* "ptr: recorded X, got Y; ..." */
    size_t found; /* differences seen (also those beyond DIFF_MAX) */
    agc_status st;
} differ;

/* Appends a value in compact JSON, cut at VALUE_MAX characters; NULL is "(absent)". */
static void put_value(differ *d, const json_t *v)
{
    if (d->st != AGC_OK)
        return;
    if (!v) {
        d->st = agc_buf_puts(d->out, "(absent)");
        return;
    }
    char *text = NULL;
    d->st = agc_json_dump(&text, v, JSON_COMPACT | JSON_SORT_KEYS, d->ctx);
    if (d->st != AGC_OK)
        return;
    size_t len = strlen(text);
    if (len > VALUE_MAX) {
        size_t cut = VALUE_MAX;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--; /* never split a UTF-8 character */
        d->st = agc_buf_printf(d->out, "%.*s...", (int)cut, text);
    } else
        d->st = agc_buf_append(d->out, text, len);
    agc_free(d->ctx, text);
}

static void report(differ *d, const char *ptr, const json_t *rec, const json_t *got)
{
    if (d->found++ >= DIFF_MAX || d->st != AGC_OK)
        return;
    if (d->found > 1)
        d->st = agc_buf_puts(d->out, "; ");
    if (d->st == AGC_OK)
        d->st = agc_buf_printf(d->out, "%s: recorded ", *ptr ? ptr : "(whole request)");
    put_value(d, rec);
    if (d->st == AGC_OK)
        d->st = agc_buf_puts(d->out, ", got ");
    put_value(d, got);
}

static void diff(differ *d, agc_buf *ptr, const json_t *rec, const json_t *got);

static void diff_child(differ *d, agc_buf *ptr, const char *seg, const json_t *rec,
                       const json_t *got)
{
    size_t keep = ptr->len;
    agc_status st = agc_json_pointer_append(ptr, seg);
    if (st != AGC_OK) {
        d->st = st;
        return;
    }
    diff(d, ptr, rec, got);
    ptr->len = keep;
    if (ptr->data)
        ptr->data[keep] = '\0';
}

static void diff(differ *d, agc_buf *ptr, const json_t *rec, const json_t *got)
{
    if (d->st != AGC_OK || d->found >= DIFF_MAX + 1 || json_equal(rec, got))
        return;
    if (json_is_object(rec) && json_is_object(got)) {
        const char *key;
        json_t *v;
        /* jansson keeps insertion order: a recorded line was written with
         * sorted keys, so the first difference reported is the first in
         * key order */
        json_object_foreach((json_t *)rec, key, v)
        {
            diff_child(d, ptr, key, v, json_object_get(got, key));
        }
        json_object_foreach((json_t *)got, key, v)
        {
            if (!json_object_get(rec, key))
                diff_child(d, ptr, key, NULL, v);
        }
        return;
    }
    if (json_is_array(rec) && json_is_array(got)) {
        size_t nr = json_array_size(rec), ng = json_array_size(got);
        for (size_t i = 0; i < (nr > ng ? nr : ng); i++) {
            char seg[24];
            snprintf(seg, sizeof seg, "%zu", i);
            diff_child(d, ptr, seg, json_array_get(rec, i), json_array_get(got, i));
        }
        return;
    }
    report(d, agc_buf_cstr(ptr), rec, got);
}

static agc_status mismatch(replay *r, const exchange *e, const json_t *rec, const json_t *got)
{
    agc_ctx *ctx = r->ctx;
    agc_buf out, ptr;
    agc_buf_init(&out, ctx, 0);
    agc_buf_init(&ptr, ctx, 0);
    differ d = {ctx, &out, 0, AGC_OK};
    diff(&d, &ptr, rec, got);
    if (d.st == AGC_OK && d.found == 0)
        d.st = agc_buf_puts(&out, "the requests differ in encoding only");
    if (d.st == AGC_OK && d.found > DIFF_MAX)
        d.st = agc_buf_puts(&out, "; and more");
    agc_status st = d.st;
    if (st == AGC_OK)
        st =
            agc_error_set(ctx, AGC_EINVAL, "replay", "replay mismatch at exchange %zu (%s:%zu): %s",
                          r->next + 1, r->path, e->lineno, agc_buf_cstr(&out));
    else
        st = agc_error_set(ctx, AGC_EINVAL, "replay",
                           "replay mismatch at exchange %zu (%s:%zu) (no memory to describe it)",
                           r->next + 1, r->path, e->lineno);
    agc_buf_free(&out);
    agc_buf_free(&ptr);
    return st;
}

/* ---- serving -------------------------------------------------------------- */

static agc_status status_from_name(const char *name, agc_status *out)
{
    static const struct {
        const char *name;
        agc_status code;
    } map[] = {
#define AGC__MAP_ROW(n, v, t) {"AGC_" #n, AGC_##n},
        AGC_STATUS_MAP(AGC__MAP_ROW)
#undef AGC__MAP_ROW
    };
    for (size_t i = 0; name && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0 && map[i].code != AGC_OK) {
            *out = map[i].code;
            return AGC_OK;
        }
    return AGC_ENOTFOUND;
}

static agc_status replay_error(const exchange *e, const json_t *err, agc_ctx *ctx)
{
    int status = (int)agc_json_int(err, "status", 0);
    const char *msg = agc_json_str(err, "message", "recorded failure");
    agc_status code;
    if (status_from_name(agc_json_str(err, "code", NULL), &code) == AGC_OK)
        return agc_error_set(ctx, code, "replay", "%s", msg);
    if (status > 0)
        return agc__provider_http_error(
            ctx, "replay", status, msg, NULL, NULL, NULL,
            agc_json_str(json_object_get(e->line, "request"), "model", NULL));
    return agc_error_set(ctx, AGC_ERROR, "replay", "%s", msg);
}

static agc_status replay_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                              agc_delta_fn on_delta, void *user, agc_attempt *attempt, agc_ctx *ctx)
{
    replay *r = self;
    *out = NULL;
    attempt->http_status = 0; /* a recorded outcome is final: never retried */
    if (r->next >= r->n)
        return agc_error_set(ctx, AGC_EINVAL, "replay",
                             "cassette %s is exhausted: it holds %zu exchange%s and exchange %zu "
                             "was requested; record it again",
                             r->path, r->n, r->n == 1 ? "" : "s", r->next + 1);
    const exchange *e = &r->ex[r->next];
    json_t *got = agc_chat_request_to_json(req, ctx);
    if (!got)
        return agc_ctx_last_error(ctx) ? agc_ctx_last_error(ctx)->code : AGC_ENOMEM;
    char *canon = NULL;
    agc_status st = agc_json_canonical(&canon, NULL, got, ctx);
    if (st != AGC_OK) {
        json_decref(got);
        return st;
    }
    bool same = strcmp(canon, e->req_canon) == 0;
    agc_free(ctx, canon);
    if (!same) {
        st = mismatch(r, e, json_object_get(e->line, "request"), got);
        json_decref(got);
        return st;
    }
    json_decref(got);
    const json_t *err = json_object_get(e->line, "error");
    if (json_is_object(err)) {
        r->next++;
        return replay_error(e, err, ctx);
    }
    st = agc__response_rebuild(out, json_object_get(e->line, "response"), on_delta, user, ctx);
    if (st != AGC_ENOMEM)
        r->next++; /* out of memory: the same exchange can be asked for again */
    if (st != AGC_OK && st != AGC_ENOMEM && st != AGC_ECANCELED)
        return agc_error_wrap(ctx, st, "replay", "%s:%zu: recorded response", r->path, e->lineno);
    return st;
}

static const agc_provider_ops replay_ops = {AGC_PROVIDER_OPS_VERSION, "replay", replay_chat, NULL,
                                            replay_destroy};

/* ---- loading -------------------------------------------------------------- */

static agc_status read_file(agc_buf *b, const char *path, agc_ctx *ctx)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return agc_error_set(ctx, errno == ENOENT ? AGC_ENOTFOUND : AGC_EIO, "replay",
                             "cannot open cassette %s: %s", path, strerror(errno));
    agc_status st = AGC_OK;
    char chunk[16384];
    size_t n;
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = agc_buf_append(b, chunk, n);
    if (st == AGC_OK && ferror(f))
        st = agc_error_set(ctx, AGC_EIO, "replay", "cannot read cassette %s", path);
    else if (st == AGC_ELIMIT)
        st = agc_error_set(ctx, AGC_ELIMIT, "replay", "cassette %s is larger than %zu bytes", path,
                           CASSETTE_MAX_BYTES);
    fclose(f);
    return st;
}

/* Checks one parsed line and adds it; takes the reference to v. */
static agc_status add_exchange(replay *r, json_t *v, size_t lineno, size_t *cap)
{
    agc_ctx *ctx = r->ctx;
    const char *what = NULL;
    json_t *req = json_object_get(v, "request");
    json_t *resp = json_object_get(v, "response");
    json_t *err = json_object_get(v, "error");
    if (!json_is_object(v))
        what = "a line must be a JSON object";
    else if (agc_json_int(v, "v", 0) != 1)
        what = "unsupported or missing \"v\" (this agentc reads version 1)";
    else if (!json_is_object(req))
        what = "missing \"request\" object";
    else if (!json_is_object(resp) && !json_is_object(err))
        what = "needs a \"response\" or an \"error\" object";
    else if (json_is_object(err) && !json_is_string(json_object_get(err, "message")))
        what = "\"error\" lacks a \"message\" string";
    if (what) {
        json_decref(v);
        return agc_error_set(ctx, AGC_EPARSE, "replay", "%s:%zu: %s", r->path, lineno, what);
    }
    if (r->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        exchange *ne = agc_realloc(ctx, r->ex, ncap * sizeof *ne);
        if (!ne) {
            json_decref(v);
            return agc_error_set(ctx, AGC_ENOMEM, "replay", "out of memory loading %s", r->path);
        }
        r->ex = ne;
        *cap = ncap;
    }
    char *canon = NULL;
    agc_status st = agc_json_canonical(&canon, NULL, req, ctx);
    if (st != AGC_OK) {
        json_decref(v);
        return st;
    }
    r->ex[r->n++] = (exchange){v, canon, lineno};
    return AGC_OK;
}

static agc_status load(replay *r, const char *text, size_t len)
{
    agc_ctx *ctx = r->ctx;
    size_t cap = 0, lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        bool blank = true;
        for (size_t i = 0; i < n && blank; i++)
            blank = p[i] == ' ' || p[i] == '\t';
        if (!blank) {
            json_t *v = NULL;
            agc_status st = agc_json_parse(&v, p, n, "line", ctx);
            if (st != AGC_OK)
                return st == AGC_ENOMEM ? st
                                        : agc_error_wrap(ctx, st, "replay", "%s:%zu: invalid JSON",
                                                         r->path, lineno);
            st = add_exchange(r, v, lineno, &cap);
            if (st != AGC_OK)
                return st;
        }
        p = nl ? nl + 1 : end;
    }
    if (r->n == 0)
        return agc_error_set(ctx, AGC_EPARSE, "replay",
                             "cassette %s holds no exchanges; record one with "
                             "'agentc ask --record %s'",
                             r->path, r->path);
    return AGC_OK;
}

agc_status agc__replay_open(agc_provider **out, const agc_provider_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    if (!opts->cassette || !*opts->cassette)
        return agc_error_set(ctx, AGC_EINVAL, "replay",
                             "the replay provider needs a cassette; set provider.cassette or pass "
                             "--cassette FILE");
    replay *r = agc_calloc(ctx, 1, sizeof *r);
    if (!r)
        return AGC_ENOMEM;
    r->ctx = ctx;
    r->path = agc_strdup(ctx, opts->cassette);
    agc_buf text;
    agc_buf_init(&text, ctx, CASSETTE_MAX_BYTES);
    agc_status st = r->path ? read_file(&text, opts->cassette, ctx) : AGC_ENOMEM;
    if (st == AGC_OK)
        st = load(r, text.data ? text.data : "", text.len);
    agc_buf_free(&text);
    if (st != AGC_OK) {
        replay_destroy(r);
        return st;
    }
    agc_provider_opts o = *opts;
    o.retry.max_attempts = 1;
    /* without a model of its own, replay answers for the model first recorded */
    if (!o.model)
        o.model = agc_json_str(json_object_get(r->ex[0].line, "request"), "model", NULL);
    return agc_provider_new(out, &replay_ops, r, &o, ctx);
}
