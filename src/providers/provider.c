/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The provider wrapper every backend sits behind: opening by preset, the
 * retry loop (exponential backoff with full jitter, Retry-After honoured,
 * only safe statuses retried, a stream that already delivered deltas is not
 * replayed unless allowed), cost and latency accounting, cancellation, and
 * the fallback chain. Backends make exactly one attempt per call.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/secret.h"
#include "provider_int.h"

struct agc_provider {
    const agc_provider_ops *ops;
    void *self;
    agc_ctx *ctx;
    char *model;
    agc_retry_policy retry;
    json_t *prices;
    agc_secret *owned_secret;
    atomic_bool canceled;
};

void agc_chat_request_init(agc_chat_request *req)
{
    agc_chat_request d = AGC_CHAT_REQUEST_INIT;
    *req = d;
}

void agc_provider_opts_init(agc_provider_opts *opts)
{
    agc_provider_opts d = AGC_PROVIDER_OPTS_INIT;
    *opts = d;
}

agc_status agc_provider_new(agc_provider **out, const agc_provider_ops *ops, void *self,
                            const agc_provider_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_provider_opts d = AGC_PROVIDER_OPTS_INIT;
    if (!opts)
        opts = &d;
    agc_provider *p = agc_calloc(ctx, 1, sizeof *p);
    if (!p) {
        ops->destroy(self);
        return AGC_ENOMEM;
    }
    p->ops = ops;
    p->self = self;
    p->ctx = ctx;
    p->retry = opts->retry;
    if (p->retry.max_attempts < 1)
        p->retry.max_attempts = 1;
    atomic_init(&p->canceled, false);
    if (opts->model && !(p->model = agc_strdup(ctx, opts->model))) {
        agc_provider_close(p);
        return AGC_ENOMEM;
    }
    if (opts->prices) {
        agc_ctx *prev = agc_json_enter(ctx);
        p->prices = json_deep_copy(opts->prices);
        agc_json_leave(prev);
        if (!p->prices) {
            agc_provider_close(p);
            return agc_error_set(ctx, AGC_ENOMEM, "provider", "out of memory copying prices");
        }
    }
    *out = p;
    return AGC_OK;
}

void agc_provider_close(agc_provider *p)
{
    if (!p)
        return;
    if (p->ops && p->ops->destroy)
        p->ops->destroy(p->self);
    agc_free(p->ctx, p->model);
    json_decref(p->prices);
    agc_secret_free(p->owned_secret);
    agc_free(p->ctx, p);
}

void agc__provider_own_secret(agc_provider *p, agc_secret *s)
{
    agc_secret_free(p->owned_secret);
    p->owned_secret = s;
}

const char *agc_provider_name(const agc_provider *p)
{
    return p->ops->name;
}

const char *agc_provider_model(const agc_provider *p)
{
    return p->model;
}

void agc_provider_cancel(agc_provider *p)
{
    atomic_store(&p->canceled, true);
    if (p->ops->cancel)
        p->ops->cancel(p->self);
}

/* ---- errors ----------------------------------------------------------------- */

agc_status agc__provider_http_error(agc_ctx *ctx, const char *backend, int status,
                                    const char *error_message, const char *error_type,
                                    const char *request_id, const char *key_env, const char *model)
{
    char rid[160] = "";
    if (request_id && *request_id)
        snprintf(rid, sizeof rid, " (request id %s)", request_id);
    const char *msg = error_message && *error_message ? error_message : "no error message";
    const char *type = error_type && *error_type ? error_type : "error";
    switch (status) {
    case 401:
    case 403:
        return agc_error_set(ctx, AGC_EAUTH, "provider", "%s: HTTP %d %s: %s%s; check %s", backend,
                             status, type, msg, rid, key_env ? key_env : "the API key");
    case 404:
        return agc_error_set(ctx, AGC_ENOTFOUND, "provider",
                             "%s: HTTP 404: %s%s; is the model '%s' available at this endpoint?",
                             backend, msg, rid, model ? model : "?");
    case 400:
    case 413:
    case 422:
        return agc_error_set(ctx, AGC_EINVAL, "provider", "%s: HTTP %d %s: %s%s", backend, status,
                             type, msg, rid);
    case 429:
        return agc_error_set(ctx, AGC_ERATELIMIT, "provider",
                             "%s: HTTP 429 rate limited: %s%s; wait or lower the request rate",
                             backend, msg, rid);
    case 503:
    case 529:
        return agc_error_set(ctx, AGC_EOVERLOADED, "provider",
                             "%s: HTTP %d overloaded: %s%s; try again later", backend, status, msg,
                             rid);
    default:
        return agc_error_set(ctx, AGC_EHTTP, "provider", "%s: HTTP %d %s: %s%s", backend, status,
                             type, msg, rid);
    }
}

static bool retryable(agc_status st, const agc_attempt *at)
{
    if (st == AGC_ECANCELED || st == AGC_ENOMEM)
        return false;
    if (at->http_status) {
        int s = at->http_status;
        return s == 408 || s == 409 || s == 425 || s == 429 || s == 500 || s == 502 || s == 503 ||
               s == 504 || s == 529;
    }
    return at->transport_error || st == AGC_ENET || st == AGC_ETIMEDOUT;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(n-1))]. */
static long backoff_ms(const agc_retry_policy *rp, int attempt)
{
    long ceil = rp->base_delay_ms;
    for (int i = 1; i < attempt && ceil < rp->max_delay_ms; i++)
        ceil *= 2;
    if (ceil > rp->max_delay_ms)
        ceil = rp->max_delay_ms;
    if (ceil <= 0)
        return 0;
    return (long)randombytes_uniform((uint32_t)(ceil > 0x7fffffff ? 0x7fffffff : ceil) + 1);
}

/* Sleeps in slices so that a cancel interrupts the wait. */
static bool wait_ms(agc_provider *p, long ms)
{
    while (ms > 0) {
        if (atomic_load(&p->canceled))
            return false;
        long slice = ms > 100 ? 100 : ms;
        agc_clock_sleep_ms(p->ctx, slice);
        ms -= slice;
    }
    return !atomic_load(&p->canceled);
}

static void account(agc_provider *p, agc_chat_response *r, const agc_chat_request *req)
{
    if (!r->provider)
        r->provider = p->ops->name;
    agc_price price;
    const char *model = r->model ? r->model : req->model;
    if (model && r->usage.known && !r->cost_known) {
        if (agc_price_lookup(&price, model, p->prices, p->ctx) == AGC_OK ||
            (r->model && req->model &&
             agc_price_lookup(&price, req->model, p->prices, p->ctx) == AGC_OK))
            r->cost_known = agc_price_cost(&price, &r->usage, &r->cost_usd);
        agc_error_clear(p->ctx);
    }
    if (req->format == AGC_FORMAT_JSON_SCHEMA && !r->parsed) {
        const char *text = agc_chat_response_text(r);
        json_t *v = NULL;
        if (agc_json_parse(&v, text, strlen(text), "structured output", p->ctx) == AGC_OK)
            r->parsed = v;
        agc_error_clear(p->ctx); /* the caller validates and reports */
    }
}

agc_status agc_provider_chat(agc_chat_response **out, agc_provider *p, const agc_chat_request *req,
                             agc_delta_fn on_delta, void *user)
{
    *out = NULL;
    agc_ctx *ctx = p->ctx;
    if (!req || req->version != AGC_CHAT_REQUEST_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "chat request version %u is not supported (want %u)",
                             req ? req->version : 0, AGC_CHAT_REQUEST_VERSION);
    agc_chat_request eff = *req;
    if (!eff.model)
        eff.model = p->model;
    if (!eff.model)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "%s: no model given; set provider.model in the agent file or pass "
                             "--model",
                             p->ops->name);
    if (eff.tool_choice == AGC_TOOL_CHOICE_NAMED && !eff.tool_choice_name)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "tool_choice is NAMED but no tool_choice_name was given");
    if (eff.format == AGC_FORMAT_JSON_SCHEMA && !eff.response_schema)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "response format JSON_SCHEMA needs a response_schema");
    atomic_store(&p->canceled, false);
    long waited = 0;
    for (int attempt = 1;; attempt++) {
        agc_attempt at = {0, -1, false, false};
        int64_t t0 = agc_clock_monotonic_ns(ctx);
        agc_chat_response *r = NULL;
        agc_status st = p->ops->chat(p->self, &r, &eff, on_delta, user, &at, ctx);
        if (st == AGC_OK) {
            r->latency_ms = (double)(agc_clock_monotonic_ns(ctx) - t0) / 1e6;
            r->attempts = attempt;
            account(p, r, &eff);
            *out = r;
            return AGC_OK;
        }
        if (atomic_load(&p->canceled))
            return agc_error_set(ctx, AGC_ECANCELED, "provider", "%s: the call was canceled",
                                 p->ops->name);
        if (!retryable(st, &at) || attempt >= p->retry.max_attempts)
            return attempt > 1
                       ? agc_error_wrap(ctx, st, "provider", "%s: gave up after %d attempts",
                                        p->ops->name, attempt)
                       : st;
        if (at.delivered && !p->retry.replay_streams)
            return agc_error_wrap(ctx, st, "provider",
                                  "%s: not retried because the stream had already delivered "
                                  "output (set retry.replay_streams to allow it)",
                                  p->ops->name);
        long delay = at.retry_after_ms >= 0 ? at.retry_after_ms : backoff_ms(&p->retry, attempt);
        if (waited + delay > p->retry.max_total_wait_ms)
            return agc_error_wrap(ctx, st, "provider",
                                  "%s: not retried: waiting %ld ms more would pass the retry "
                                  "budget of %ld ms",
                                  p->ops->name, delay, p->retry.max_total_wait_ms);
        agc_log(ctx, AGC_LOG_WARN, "provider", "%s: attempt %d failed (%s); retrying in %ld ms",
                p->ops->name, attempt, agc_ctx_errmsg(ctx), delay);
        if (on_delta) {
            agc_delta d = {.kind = AGC_DELTA_RETRY,
                           .text = agc_ctx_errmsg(ctx),
                           .status = at.http_status,
                           .retry_in_ms = delay};
            d.text_len = strlen(d.text);
            agc_status cst = on_delta(&d, user);
            if (cst != AGC_OK)
                return agc_error_set(ctx, cst, "provider", "retry stopped by the stream callback");
        }
        if (!wait_ms(p, delay))
            return agc_error_set(ctx, AGC_ECANCELED, "provider",
                                 "%s: canceled while waiting to retry", p->ops->name);
        waited += delay;
    }
}

/* ---- opening by preset -------------------------------------------------------- */

agc_status agc_provider_open(agc_provider **out, const agc_provider_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    agc_provider_opts d = AGC_PROVIDER_OPTS_INIT;
    if (!opts)
        opts = &d;
    if (opts->version != AGC_PROVIDER_OPTS_VERSION)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "provider options version %u is not supported (want %u)",
                             opts->version, AGC_PROVIDER_OPTS_VERSION);
    const char *name = opts->preset ? opts->preset : (opts->base_url ? "openai" : NULL);
    if (!name)
        return agc_error_set(
            ctx, AGC_EINVAL, "provider",
            "no provider given; name a preset (see 'agentc models') or a base_url");
    const agc_preset_info *preset = agc_provider_preset(name);
    if (!preset)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "unknown provider '%s'; see 'agentc models' for the presets", name);
    if (strcmp(preset->wire, "replay") == 0)
        return agc__replay_open(out, opts, ctx);

    const char *base = opts->base_url;
    if (!base && preset->base_url_env) {
        const char *e = getenv(preset->base_url_env);
        if (e && *e)
            base = e;
    }
    if (!base)
        base = preset->base_url;
    if (!base || !*base)
        return agc_error_set(ctx, AGC_EINVAL, "provider",
                             "%s needs a base URL: set %s or provider.base_url", preset->name,
                             preset->base_url_env ? preset->base_url_env : "base_url");
    const agc_secret *key = opts->api_key;
    agc_secret *owned = NULL;
    if (!key && preset->key_env) {
        const char *e = getenv(preset->key_env);
        if (e && *e) {
            agc_status st = agc_secret_from_env(&owned, preset->key_env, ctx);
            if (st != AGC_OK)
                return st;
            key = owned;
        } else if (preset->key_required) {
            return agc_error_set(ctx, AGC_EAUTH, "provider",
                                 "%s is unset; export it or set provider.api_key (as env:NAME "
                                 "or file:PATH)",
                                 preset->key_env);
        }
    }
    agc_status st;
    if (strcmp(preset->wire, "anthropic") == 0)
        st = agc__anthropic_open(out, preset, opts, base, key, ctx);
    else
        st = agc__openai_open(out, preset, opts, base, key, ctx);
    if (st != AGC_OK)
        agc_secret_free(owned);
    else if (owned)
        agc__provider_own_secret(*out, owned);
    return st;
}

agc_status agc_provider_open_config(agc_provider **out, const json_t *cfg, agc_ctx *ctx)
{
    *out = NULL;
    if (!json_is_object(cfg))
        return agc_error_set(ctx, AGC_EINVAL, "provider", "provider config must be an object");
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.preset = agc_json_str(cfg, "name", NULL);
    o.model = agc_json_str(cfg, "model", NULL);
    o.base_url = agc_json_str(cfg, "base_url", NULL);
    o.api_version = agc_json_str(cfg, "api_version", NULL);
    o.cassette = agc_json_str(cfg, "cassette", NULL);
    o.ca_bundle = agc_json_str(cfg, "ca_bundle", NULL);
    double t = agc_json_num(cfg, "timeout_seconds", -1);
    if (t > 0)
        o.timeout_ms = (long)(t * 1000);
    json_t *retry = json_object_get(cfg, "retry");
    if (json_is_object(retry)) {
        o.retry.max_attempts = (int)agc_json_int(retry, "max_attempts", o.retry.max_attempts);
        o.retry.base_delay_ms = (long)agc_json_int(retry, "base_delay_ms", o.retry.base_delay_ms);
        o.retry.max_delay_ms = (long)agc_json_int(retry, "max_delay_ms", o.retry.max_delay_ms);
        o.retry.max_total_wait_ms =
            (long)agc_json_int(retry, "max_total_wait_ms", o.retry.max_total_wait_ms);
        o.retry.replay_streams = agc_json_bool(retry, "replay_streams", false);
    }
    o.prices = json_object_get(cfg, "prices");
    o.headers = json_object_get(cfg, "headers");
    agc_secret *key = NULL;
    const char *ref = agc_json_str(cfg, "api_key", NULL);
    if (ref) {
        agc_status st = agc_secret_from_ref(&key, ref, ctx);
        if (st != AGC_OK)
            return agc_error_wrap(ctx, st, "provider", "provider.api_key");
        o.api_key = key;
    }
    agc_status st = agc_provider_open(out, &o, ctx);
    if (st != AGC_OK)
        agc_secret_free(key);
    else if (key)
        agc__provider_own_secret(*out, key);
    return st;
}

/* ---- fallback chain ------------------------------------------------------------ */

typedef struct chain {
    agc_provider **items;
    size_t n;
    agc_ctx *ctx;
    agc_provider *current;
} chain;

static agc_status chain_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                             agc_delta_fn on_delta, void *user, agc_attempt *at, agc_ctx *ctx)
{
    chain *c = self;
    agc_status st = AGC_ERROR;
    for (size_t i = 0; i < c->n; i++) {
        c->current = c->items[i];
        agc_chat_request r = *req;
        r.model = c->items[i]->model ? c->items[i]->model : req->model;
        st = agc_provider_chat(out, c->items[i], &r, on_delta, user);
        c->current = NULL;
        if (st == AGC_OK) {
            (*out)->provider = agc_provider_name(c->items[i]);
            return AGC_OK;
        }
        bool moves_on = st == AGC_ERATELIMIT || st == AGC_EOVERLOADED || st == AGC_ETIMEDOUT ||
                        st == AGC_ENET || st == AGC_EHTTP;
        if (!moves_on || i + 1 == c->n)
            break;
        agc_log(ctx, AGC_LOG_WARN, "provider", "fallback: %s failed (%s); trying %s",
                agc_provider_name(c->items[i]), agc_ctx_errmsg(ctx),
                agc_provider_name(c->items[i + 1]));
    }
    at->http_status = 0; /* the members retried already: the chain does not */
    return st;
}

static void chain_cancel(void *self)
{
    chain *c = self;
    for (size_t i = 0; i < c->n; i++)
        agc_provider_cancel(c->items[i]);
}

static void chain_destroy(void *self)
{
    chain *c = self;
    agc_free(c->ctx, c->items);
    agc_free(c->ctx, c);
}

static const agc_provider_ops chain_ops = {AGC_PROVIDER_OPS_VERSION, "fallback", chain_chat,
                                           chain_cancel, chain_destroy};

agc_status agc_provider_fallback_new(agc_provider **out, agc_provider *const *items, size_t n,
                                     agc_ctx *ctx)
{
    *out = NULL;
    if (n == 0)
        return agc_error_set(ctx, AGC_EINVAL, "provider", "a fallback chain needs providers");
    chain *c = agc_calloc(ctx, 1, sizeof *c);
    if (!c)
        return AGC_ENOMEM;
    c->ctx = ctx;
    c->n = n;
    c->items = agc_calloc(ctx, n, sizeof *c->items);
    if (!c->items) {
        agc_free(ctx, c);
        return AGC_ENOMEM;
    }
    memcpy(c->items, items, n * sizeof *items);
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 1;
    o.model = items[0]->model;
    return agc_provider_new(out, &chain_ops, c, &o, ctx);
}
