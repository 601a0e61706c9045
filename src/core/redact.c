/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Redaction: registered secret values (exact bytes, kept in sodium_malloc
 * memory, wiped on removal) and named PCRE2 rules (built-ins compiled lazily,
 * once per ctx, with the ctx allocator). Every match of every enabled rule and
 * every secret is collected as a byte span; overlapping spans are merged and
 * each merged span becomes "[REDACTED]". Fails closed: on any error the caller
 * gets a status, never unredacted text. Not a PII classifier: PII rules are
 * plain patterns plus optional validators (Luhn, IBAN mod-97), off by default.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/redact.h"
#include "ctx_int.h"

#define MOD         "redact"
#define MATCH_LIMIT 10000000u

typedef struct rule {
    char *name;       /* owned */
    char *pattern;    /* owned */
    pcre2_code *code; /* NULL until compiled */
    agc_redact_validate_fn validate;
    void *user;
    bool enabled;
    size_t hits;
} rule;

typedef struct secret_ent {
    unsigned char *val; /* sodium_malloc */
    size_t len;
    unsigned refs;
} secret_ent;

typedef struct redact_state {
    pcre2_general_context *gctx;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    rule *rules;
    size_t nrules, caprules;
    bool builtins_added;
    secret_ent *secrets;
    size_t nsecrets, capsecrets;
    size_t secret_hits;
} redact_state;

typedef struct span {
    size_t a, b;
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

/* ---- validators ----------------------------------------------------------- */

bool agc_redact_luhn_valid(const char *text, size_t len)
{
    int digits = 0, sum = 0;
    for (size_t i = len; i-- > 0;) {
        char c = text[i];
        if (c == ' ' || c == '-')
            continue;
        if (c < '0' || c > '9')
            return false;
        int d = c - '0';
        if (digits % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        digits++;
    }
    return digits >= 13 && digits <= 19 && sum % 10 == 0;
}

bool agc_redact_iban_valid(const char *text, size_t len)
{
    char s[40];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ')
            continue;
        if (n >= sizeof s)
            return false;
        s[n++] = text[i];
    }
    if (n < 15 || n > 34)
        return false;
    unsigned rem = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[(k + 4) % n]; /* first four characters move to the end */
        if (c >= '0' && c <= '9')
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        else if (c >= 'A' && c <= 'Z')
            rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
        else
            return false;
    }
    return rem == 1;
}

static bool phone_valid(const char *text, size_t len, void *user)
{
    (void)user;
    int digits = 0;
    for (size_t i = 0; i < len; i++)
        digits += text[i] >= '0' && text[i] <= '9';
    return digits >= 9 && digits <= 15;
}

static bool luhn_cb(const char *text, size_t len, void *user)
{
    (void)user;
    return agc_redact_luhn_valid(text, len);
}

static bool iban_cb(const char *text, size_t len, void *user)
{
    (void)user;
    return agc_redact_iban_valid(text, len);
}

/* ---- built-in rules --------------------------------------------------------- */

static const struct builtin {
    const char *name;
    const char *pattern;
    agc_redact_validate_fn validate;
    bool enabled;
} builtins[] = {
    {"bearer", "(?i)\\bbearer[ \\t]+\\K[A-Za-z0-9._~+/\\-]{8,}=*", NULL, true},
    {"openai_key", "\\bsk-[A-Za-z0-9][A-Za-z0-9_\\-]{15,}", NULL, true},
    {"aws_access_key", "\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b", NULL, true},
    {"aws_secret_key",
     "(?i)\\baws_secret_access_key[\"']?[ \\t]*[=:][ "
     "\\t]*[\"']?\\K[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])",
     NULL, true},
    {"github_token", "\\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})", NULL, true},
    {"slack_token", "\\bxox[bpars]-[A-Za-z0-9\\-]{10,}", NULL, true},
    {"google_api_key", "\\bAIza[0-9A-Za-z_\\-]{35}", NULL, true},
    {"jwt", "\\beyJ[A-Za-z0-9_\\-]{5,}\\.[A-Za-z0-9_\\-]{5,}\\.[A-Za-z0-9_\\-]*", NULL, true},
    {"private_key",
     "-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:[\\s\\S]*?-----END[A-Z0-9 ]*PRIVATE "
     "KEY-----|[\\s\\S]*$)",
     NULL, true},
    {"email", "\\b[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,}\\b",
     NULL, false},
    {"phone",
     "(?<![\\w+\\-])(?:\\+[1-9][0-9 ()\\-.]{7,}[0-9]|(?:\\([0-9]{3}\\) ?|[0-9]{3}[ .\\-])[0-9]{3}[ "
     ".\\-][0-9]{4})(?![\\w\\-])",
     phone_valid, false},
    {"iban", "\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\\b", iban_cb, false},
    {"credit_card", "(?<![0-9])(?:[0-9][ \\-]?){12,18}[0-9](?![0-9])", luhn_cb, false},
};

static const char *const pii_names[] = {"email", "phone", "iban", "credit_card"};

/* ---- state ---------------------------------------------------------------- */

static void state_free(agc_ctx *ctx, void *p)
{
    redact_state *st = p;
    for (size_t i = 0; i < st->nrules; i++) {
        pcre2_code_free(st->rules[i].code);
        agc_free(ctx, st->rules[i].name);
        agc_free(ctx, st->rules[i].pattern);
    }
    agc_free(ctx, st->rules);
    for (size_t i = 0; i < st->nsecrets; i++)
        sodium_free(st->secrets[i].val); /* zeroes before unmapping */
    agc_free(ctx, st->secrets);
    pcre2_match_data_free(st->md);
    pcre2_match_context_free(st->mctx);
    pcre2_general_context_free(st->gctx);
    agc_free(ctx, st);
}

/* PCRE2 memory comes from the ctx so that it is accounted and fault-injectable. */
static void *pcre_malloc(PCRE2_SIZE n, void *ud)
{
    return agc_malloc(ud, n);
}

static void pcre_free(void *p, void *ud)
{
    agc_free(ud, p);
}

static redact_state *state_get(agc_ctx *ctx)
{
    redact_state *st = agc__ctx_ext(ctx, AGC__EXT_REDACT);
    if (st)
        return st;
    st = agc_calloc(ctx, 1, sizeof *st);
    if (!st)
        return NULL;
    st->gctx = pcre2_general_context_create(pcre_malloc, pcre_free, ctx);
    if (st->gctx)
        st->mctx = pcre2_match_context_create(st->gctx);
    if (st->mctx)
        st->md = pcre2_match_data_create(1, st->gctx);
    if (!st->md) {
        pcre2_match_context_free(st->mctx);
        pcre2_general_context_free(st->gctx);
        agc_free(ctx, st);
        agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory creating the redaction state");
        return NULL;
    }
    pcre2_set_match_limit(st->mctx, MATCH_LIMIT);
    agc__ctx_set_ext(ctx, AGC__EXT_REDACT, st, state_free);
    return st;
}

static rule *find_rule(redact_state *st, const char *name)
{
    for (size_t i = 0; i < st->nrules; i++)
        if (strcmp(st->rules[i].name, name) == 0)
            return &st->rules[i];
    return NULL;
}

static agc_status compile_rule(redact_state *st, rule *r, agc_ctx *ctx)
{
    if (r->code)
        return AGC_OK;
    pcre2_compile_context *cc = pcre2_compile_context_create(st->gctx);
    if (!cc)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory compiling rule %s", r->name);
    int err = 0;
    PCRE2_SIZE off = 0;
    r->code = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, cc);
    pcre2_compile_context_free(cc);
    if (!r->code) {
        if (err == 121) /* PCRE2's "failed to allocate memory" */
            return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory compiling rule %s", r->name);
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        if (strstr((const char *)msg, "memory"))
            return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory compiling rule %s", r->name);
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "redaction pattern %s does not compile at offset %zu: %s; fix the "
                             "regular expression",
                             r->name, (size_t)off, (const char *)msg);
    }
    /* JIT is an optimisation only: ignore failure (no exec memory, OOM) */
    (void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
    return AGC_OK;
}

static agc_status push_rule(redact_state *st, const char *name, const char *pattern,
                            agc_redact_validate_fn validate, void *user, bool enabled, agc_ctx *ctx)
{
    if (st->nrules == st->caprules) {
        size_t cap = st->caprules ? st->caprules * 2 : 16;
        rule *v = agc_realloc(ctx, st->rules, cap * sizeof *v);
        if (!v)
            return AGC_ENOMEM;
        st->rules = v;
        st->caprules = cap;
    }
    rule r = {0};
    r.name = agc_strdup(ctx, name);
    r.pattern = r.name ? agc_strdup(ctx, pattern) : NULL;
    if (!r.pattern) {
        agc_free(ctx, r.name);
        return AGC_ENOMEM;
    }
    r.validate = validate;
    r.user = user;
    r.enabled = enabled;
    st->rules[st->nrules++] = r;
    return AGC_OK;
}

/* Registers (not compiles) the built-in rules, once. */
static agc_status ensure_builtins(redact_state *st, agc_ctx *ctx)
{
    if (st->builtins_added)
        return AGC_OK;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (find_rule(st, builtins[i].name))
            continue; /* added by an earlier, interrupted call */
        agc_status s = push_rule(st, builtins[i].name, builtins[i].pattern, builtins[i].validate,
                                 NULL, builtins[i].enabled, ctx);
        if (s != AGC_OK)
            return s;
    }
    st->builtins_added = true;
    return AGC_OK;
}

static redact_state *ready_state(agc_ctx *ctx, agc_status *s)
{
    redact_state *st = state_get(ctx);
    if (!st) {
        *s = AGC_ENOMEM;
        return NULL;
    }
    *s = ensure_builtins(st, ctx);
    return *s == AGC_OK ? st : NULL;
}

/* ---- secrets ---------------------------------------------------------------- */

agc_status agc_redact_add_secret(agc_ctx *ctx, const char *value, size_t len)
{
    if (len < 4)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "secret values shorter than 4 bytes cannot be registered for "
                             "redaction; use a real credential");
    redact_state *st = state_get(ctx);
    if (!st)
        return AGC_ENOMEM;
    for (size_t i = 0; i < st->nsecrets; i++) {
        secret_ent *e = &st->secrets[i];
        if (e->len == len && sodium_memcmp(e->val, value, len) == 0) {
            e->refs++;
            return AGC_OK;
        }
    }
    if (st->nsecrets == st->capsecrets) {
        size_t cap = st->capsecrets ? st->capsecrets * 2 : 8;
        secret_ent *v = agc_realloc(ctx, st->secrets, cap * sizeof *v);
        if (!v)
            return AGC_ENOMEM;
        st->secrets = v;
        st->capsecrets = cap;
    }
    unsigned char *copy = sodium_malloc(len);
    if (!copy)
        return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of secure memory registering a secret");
    memcpy(copy, value, len);
    (void)sodium_mprotect_readonly(copy);
    st->secrets[st->nsecrets++] = (secret_ent){copy, len, 1};
    return AGC_OK;
}

void agc_redact_remove_secret(agc_ctx *ctx, const char *value, size_t len)
{
    redact_state *st = agc__ctx_ext(ctx, AGC__EXT_REDACT);
    if (!st || !value)
        return;
    for (size_t i = 0; i < st->nsecrets; i++) {
        secret_ent *e = &st->secrets[i];
        if (e->len == len && sodium_memcmp(e->val, value, len) == 0) {
            if (--e->refs == 0) {
                sodium_free(e->val);
                st->secrets[i] = st->secrets[--st->nsecrets];
            }
            return;
        }
    }
}

/* ---- rules API -------------------------------------------------------------- */

agc_status agc_redact_add_rule(agc_ctx *ctx, const agc_redact_rule *rule_in)
{
    if (!rule_in || rule_in->version != AGC_REDACT_RULE_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "unknown agc_redact_rule version; initialise with "
                             "AGC_REDACT_RULE_INIT");
    if (!rule_in->name || !*rule_in->name || !rule_in->pattern)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "a redaction rule needs a name and a pattern");
    agc_status s;
    redact_state *st = ready_state(ctx, &s);
    if (!st)
        return s;
    if (find_rule(st, rule_in->name))
        return agc_error_set(ctx, AGC_EINVAL, MOD,
                             "a redaction rule named %s already exists; pick another name",
                             rule_in->name);
    s = push_rule(st, rule_in->name, rule_in->pattern, rule_in->validate, rule_in->user,
                  rule_in->enabled, ctx);
    if (s != AGC_OK)
        return s;
    rule *r = &st->rules[st->nrules - 1];
    s = compile_rule(st, r, ctx);
    if (s != AGC_OK) {
        agc_free(ctx, r->name);
        agc_free(ctx, r->pattern);
        st->nrules--;
    }
    return s;
}

agc_status agc_redact_add_pattern(agc_ctx *ctx, const char *name, const char *pattern)
{
    agc_redact_rule r = AGC_REDACT_RULE_INIT;
    r.name = name;
    r.pattern = pattern;
    return agc_redact_add_rule(ctx, &r);
}

agc_status agc_redact_enable(agc_ctx *ctx, const char *name, bool on)
{
    agc_status s;
    redact_state *st = ready_state(ctx, &s);
    if (!st)
        return s;
    rule *r = find_rule(st, name);
    if (!r)
        return agc_error_set(ctx, AGC_ENOTFOUND, MOD, "no redaction rule named %s", name);
    r->enabled = on;
    return AGC_OK;
}

agc_status agc_redact_enable_pii(agc_ctx *ctx, bool on)
{
    for (size_t i = 0; i < sizeof pii_names / sizeof pii_names[0]; i++) {
        agc_status s = agc_redact_enable(ctx, pii_names[i], on);
        if (s != AGC_OK)
            return s;
    }
    return AGC_OK;
}

size_t agc_redact_rule_count(agc_ctx *ctx)
{
    agc_status s;
    redact_state *st = ready_state(ctx, &s);
    return st ? st->nrules : 0;
}

const char *agc_redact_rule_at(agc_ctx *ctx, size_t i, bool *enabled)
{
    agc_status s;
    redact_state *st = ready_state(ctx, &s);
    if (!st || i >= st->nrules)
        return NULL;
    if (enabled)
        *enabled = st->rules[i].enabled;
    return st->rules[i].name;
}

size_t agc_redact_secret_count(const agc_ctx *ctx)
{
    redact_state *st = agc__ctx_ext(ctx, AGC__EXT_REDACT);
    return st ? st->nsecrets : 0;
}

size_t agc_redact_hits(const agc_ctx *ctx, const char *name)
{
    redact_state *st = agc__ctx_ext(ctx, AGC__EXT_REDACT);
    if (!st || !name)
        return 0;
    if (strcmp(name, "secret") == 0)
        return st->secret_hits;
    for (size_t i = 0; i < st->nrules; i++)
        if (strcmp(st->rules[i].name, name) == 0)
            return st->rules[i].hits;
    return 0;
}

/* ---- matching --------------------------------------------------------------- */

static agc_status span_push(spans *sp, size_t a, size_t b, agc_ctx *ctx)
{
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 16;
        span *v = agc_realloc(ctx, sp->v, cap * sizeof *v);
        if (!v)
            return AGC_ENOMEM;
        sp->v = v;
        sp->cap = cap;
    }
    sp->v[sp->n++] = (span){a, b};
    return AGC_OK;
}

static int span_cmp(const void *x, const void *y)
{
    const span *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : (a->b > b->b);
}

static agc_status match_rule(redact_state *st, rule *r, const char *text, size_t len, spans *sp,
                             bool count, agc_ctx *ctx)
{
    size_t off = 0;
    while (off <= len) {
        int rc = pcre2_match(r->code, (PCRE2_SPTR)text, len, off, 0, st->md, st->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return AGC_OK;
        if (rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAPLIMIT)
            return agc_error_set(ctx, AGC_ENOMEM, MOD, "out of memory matching rule %s", r->name);
        if (rc < 0)
            return agc_error_set(ctx, AGC_ELIMIT, MOD,
                                 "redaction rule %s failed on this text (PCRE2 error %d); the "
                                 "text was withheld",
                                 r->name, rc);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->md);
        size_t a = ov[0], b = ov[1];
        if (b <= a) { /* empty match (or \K past the end): step on */
            off = (b > off ? b : off) + 1;
            continue;
        }
        if (!r->validate || r->validate(text + a, b - a, r->user)) {
            agc_status s = span_push(sp, a, b, ctx);
            if (s != AGC_OK)
                return s;
            if (count)
                r->hits++;
            off = b;
        } else {
            off = a + 1;
        }
    }
    return AGC_OK;
}

static agc_status collect(redact_state *st, const char *text, size_t len, spans *sp, bool count,
                          agc_ctx *ctx)
{
    for (size_t i = 0; i < st->nsecrets; i++) {
        const secret_ent *e = &st->secrets[i];
        size_t off = 0;
        while (off + e->len <= len) {
            const char *p = memmem(text + off, len - off, e->val, e->len);
            if (!p)
                break;
            size_t a = (size_t)(p - text);
            agc_status s = span_push(sp, a, a + e->len, ctx);
            if (s != AGC_OK)
                return s;
            if (count)
                st->secret_hits++;
            off = a + e->len;
        }
    }
    for (size_t i = 0; i < st->nrules; i++) {
        rule *r = &st->rules[i];
        if (!r->enabled)
            continue;
        agc_status s = compile_rule(st, r, ctx);
        if (s == AGC_OK)
            s = match_rule(st, r, text, len, sp, count, ctx);
        if (s != AGC_OK)
            return s;
    }
    return AGC_OK;
}

agc_status agc_redact(char **out, size_t *out_len, const char *text, size_t len, agc_ctx *ctx)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    agc_status s;
    redact_state *st = ready_state(ctx, &s);
    if (!st)
        return s;
    spans sp = {0};
    s = collect(st, text, len, &sp, true, ctx);
    if (s != AGC_OK) {
        agc_free(ctx, sp.v);
        return s;
    }
    if (sp.n > 1)
        qsort(sp.v, sp.n, sizeof *sp.v, span_cmp);
    /* merge overlapping or touching spans and size the result */
    size_t m = 0;
    for (size_t i = 0; i < sp.n; i++) {
        if (m > 0 && sp.v[i].a <= sp.v[m - 1].b) {
            if (sp.v[i].b > sp.v[m - 1].b)
                sp.v[m - 1].b = sp.v[i].b;
        } else {
            sp.v[m++] = sp.v[i];
        }
    }
    size_t rlen = strlen(AGC_REDACTED), total = len;
    for (size_t i = 0; i < m; i++)
        total = total - (sp.v[i].b - sp.v[i].a) + rlen;
    char *r = agc_malloc(ctx, total + 1);
    if (!r) {
        agc_free(ctx, sp.v);
        return AGC_ENOMEM;
    }
    size_t w = 0, from = 0;
    for (size_t i = 0; i < m; i++) {
        memcpy(r + w, text + from, sp.v[i].a - from);
        w += sp.v[i].a - from;
        memcpy(r + w, AGC_REDACTED, rlen);
        w += rlen;
        from = sp.v[i].b;
    }
    memcpy(r + w, text + from, len - from);
    w += len - from;
    r[w] = '\0';
    agc_free(ctx, sp.v);
    *out = r;
    if (out_len)
        *out_len = w;
    return AGC_OK;
}

agc_status agc_redact_buf(agc_buf *b, agc_ctx *ctx)
{
    char *r = NULL;
    size_t n = 0;
    agc_status s = agc_redact(&r, &n, agc_buf_cstr(b), b->len, ctx);
    if (s != AGC_OK)
        return s;
    if (n > b->max) {
        agc_free(ctx, r);
        return agc_error_set(ctx, AGC_ELIMIT, MOD,
                             "redacted text (%zu bytes) exceeds the buffer limit of %zu bytes", n,
                             b->max);
    }
    if (b->data)
        agc_memzero(b->data, b->len);
    agc_free(b->ctx, b->data);
    b->data = r;
    b->len = n;
    b->cap = n + 1;
    return AGC_OK;
}

bool agc_redact_would_change(const char *text, size_t len, agc_ctx *ctx)
{
    agc_status s;
    redact_state *st = ready_state(ctx, &s);
    if (!st)
        return true; /* fail closed */
    spans sp = {0};
    s = collect(st, text, len, &sp, false, ctx);
    bool any = s != AGC_OK || sp.n > 0;
    agc_free(ctx, sp.v);
    return any;
}
