/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Tests of the provider wrapper (src/providers/provider.c), the response
 * builder and JSON forms (response.c) and prices (price.c), driven by a
 * scripted in-memory backend (an ops table defined here) and the manual
 * clock, so retries never sleep for real: backoff with full jitter, exact
 * Retry-After, attempt and wait budgets, which statuses are retried,
 * streams that already delivered, cancellation during a wait, fallback
 * chains, cost accounting, and an OOM sweep over the builder and JSON forms.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agc_test.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "providers/provider_int.h"

/* cmocka before 1.1.6 has no assert_double_equal */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

/* ---- the scripted backend ---------------------------------------------------- */

typedef struct step {
    int http_status;     /* 0: success (unless transport) */
    long retry_after_ms; /* -1: none */
    bool deliver;        /* stream one delta before failing */
    bool transport;      /* fail as a network error */
    const char *model;   /* reported model, NULL: none */
    bool usage;
    long long in, out, cached, write;
} step;

#define OK_STEP                                                                                    \
    {                                                                                              \
        0, -1, false, false, NULL, true, 10, 5, 0, 0                                               \
    }

typedef struct script {
    const step *steps;
    size_t n;
    int calls;
} script;

static agc_status script_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                              agc_delta_fn on_delta, void *user, agc_attempt *at, agc_ctx *ctx)
{
    script *s = self;
    const step *st = &s->steps[(size_t)s->calls < s->n ? (size_t)s->calls : s->n - 1];
    s->calls++;
    agc_response_builder *b = NULL;
    agc_status rc = agc_response_builder_new(&b, on_delta, user, ctx);
    if (rc != AGC_OK)
        return rc;
    if (st->http_status || st->transport) {
        if (st->deliver)
            rc = agc_response_add_text(b, "partial", 7);
        at->delivered = agc_response_delivered(b);
        agc_response_builder_free(b);
        if (rc != AGC_OK)
            return rc;
        at->retry_after_ms = st->retry_after_ms;
        if (st->transport) {
            at->transport_error = true;
            return agc_error_set(ctx, AGC_ENET, "script", "connection reset");
        }
        at->http_status = st->http_status;
        return agc__provider_http_error(ctx, "script", st->http_status, "scripted failure",
                                        "scripted_error", "req_1", "SCRIPT_API_KEY", req->model);
    }
    rc = agc_response_add_text(b, "Hello", 5);
    if (rc == AGC_OK)
        rc = agc_response_set_meta(b, "resp_1", st->model, "req_ok");
    if (rc == AGC_OK && st->usage)
        agc_response_merge_usage(b, st->in, st->out, st->cached, st->write, 0);
    if (rc == AGC_OK)
        rc = agc_response_set_finish(b, AGC_FINISH_STOP, "stop");
    if (rc == AGC_OK)
        rc = agc_response_builder_finish(out, b);
    agc_response_builder_free(b);
    return rc;
}

static void script_destroy(void *self)
{
    (void)self; /* lives in the test */
}

static const agc_provider_ops script_a_ops = {AGC_PROVIDER_OPS_VERSION, "script-a", script_chat,
                                              NULL, script_destroy};
static const agc_provider_ops script_b_ops = {AGC_PROVIDER_OPS_VERSION, "script-b", script_chat,
                                              NULL, script_destroy};

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fixture {
    agc_test_alloc a;
    agc_manual_clock clk;
    agc_ctx *ctx;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ctx = agc_test_ctx_new(&f->a);
    f->clk.now_ms = INT64_C(1700000000000);
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &f->clk);
    assert_int_equal(agc_log_set_level(f->ctx, AGC_LOG_ERROR), AGC_OK); /* retries warn */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agc_ctx_free(f->ctx);
    assert_int_equal(f->a.live, 0);
    free(f);
    return 0;
}

static agc_provider *open_script(fixture *f, script *s, const agc_provider_ops *ops,
                                 const agc_provider_opts *opts)
{
    agc_provider *p = NULL;
    assert_int_equal(agc_provider_new(&p, ops, s, opts, f->ctx), AGC_OK);
    return p;
}

static agc_chat_request user_request(agc_part *part, agc_message *msg)
{
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    *part = (agc_part){.kind = AGC_PART_TEXT, .text = "hi"};
    *msg = (agc_message){.role = AGC_ROLE_USER, .parts = part, .n_parts = 1};
    req.model = "fake-model";
    req.messages = msg;
    req.n_messages = 1;
    return req;
}

typedef struct seen {
    long retry_in[16];
    int n_retry;
    int n_text;
} seen;

static agc_status on_delta(const agc_delta *d, void *user)
{
    seen *s = user;
    if (d->kind == AGC_DELTA_RETRY && s->n_retry < 16)
        s->retry_in[s->n_retry++] = d->retry_in_ms;
    if (d->kind == AGC_DELTA_TEXT)
        s->n_text++;
    return AGC_OK;
}

/* Runs one chat; returns the status, frees any response. */
static agc_status chat(agc_provider *p, agc_delta_fn fn, void *user, agc_chat_response **keep)
{
    agc_part part;
    agc_message msg;
    agc_chat_request req = user_request(&part, &msg);
    agc_chat_response *r = NULL;
    agc_status st = agc_provider_chat(&r, p, &req, fn, user);
    if (keep)
        *keep = r;
    else
        agc_chat_response_free(r);
    return st;
}

/* ---- retries ----------------------------------------------------------------- */

static void retries_5xx_with_bounded_full_jitter_backoff(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{503, -1, false, false, NULL, false, 0, 0, 0, 0},
                                 {502, -1, false, false, NULL, false, 0, 0, 0, 0},
                                 {500, -1, false, false, NULL, false, 0, 0, 0, 0},
                                 OK_STEP};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT; /* 4 attempts, base 500, cap 30000 */
    long first_min = 1000, first_max = -1;
    for (int run = 0; run < 40; run++) {
        script s = {steps, 4, 0};
        agc_provider *p = open_script(f, &s, &script_a_ops, &o);
        seen sn = {0};
        int64_t slept0 = f->clk.slept_ms;
        agc_chat_response *r = NULL;
        assert_int_equal(chat(p, on_delta, &sn, &r), AGC_OK);
        assert_int_equal(s.calls, 4);
        assert_int_equal(r->attempts, 4);
        assert_int_equal(sn.n_retry, 3);
        long ceil = 500, sum = 0;
        for (int i = 0; i < 3; i++, ceil *= 2) {
            assert_true(sn.retry_in[i] >= 0 && sn.retry_in[i] <= ceil);
            sum += sn.retry_in[i];
        }
        assert_int_equal(f->clk.slept_ms - slept0, sum);
        if (sn.retry_in[0] < first_min)
            first_min = sn.retry_in[0];
        if (sn.retry_in[0] > first_max)
            first_max = sn.retry_in[0];
        agc_chat_response_free(r);
        agc_provider_close(p);
    }
    assert_true(first_min < first_max); /* jittered, not a fixed delay */
}

static void backoff_is_capped_by_max_delay(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{503, -1, false, false, NULL, false, 0, 0, 0, 0}};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 8;
    o.retry.base_delay_ms = 400;
    o.retry.max_delay_ms = 700;
    for (int run = 0; run < 10; run++) {
        script s = {steps, 1, 0};
        agc_provider *p = open_script(f, &s, &script_a_ops, &o);
        seen sn = {0};
        assert_int_equal(chat(p, on_delta, &sn, NULL), AGC_EOVERLOADED);
        assert_int_equal(sn.n_retry, 7);
        for (int i = 0; i < sn.n_retry; i++)
            assert_true(sn.retry_in[i] <= (i == 0 ? 400 : 700));
        agc_provider_close(p);
    }
}

static void honours_retry_after_exactly(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{429, 1234, false, false, NULL, false, 0, 0, 0, 0}, OK_STEP};
    script s = {steps, 2, 0};
    agc_provider *p = open_script(f, &s, &script_a_ops, NULL);
    seen sn = {0};
    agc_chat_response *r = NULL;
    assert_int_equal(chat(p, on_delta, &sn, &r), AGC_OK);
    assert_int_equal(f->clk.slept_ms, 1234);
    assert_int_equal(sn.n_retry, 1);
    assert_int_equal(sn.retry_in[0], 1234);
    assert_int_equal(r->attempts, 2);
    agc_chat_response_free(r);
    agc_provider_close(p);
}

static void gives_up_after_max_attempts(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{503, 10, false, false, NULL, false, 0, 0, 0, 0}};
    script s = {steps, 1, 0};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 3;
    agc_provider *p = open_script(f, &s, &script_a_ops, &o);
    assert_int_equal(chat(p, NULL, NULL, NULL), AGC_EOVERLOADED);
    assert_int_equal(s.calls, 3);
    assert_int_equal(f->clk.slept_ms, 20);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "gave up after 3 attempts"));
    char buf[512];
    assert_non_null(strstr(agc_error_format(f->ctx, buf, sizeof buf), "scripted failure"));
    agc_provider_close(p);
}

static void stops_when_the_wait_budget_would_pass(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{429, 5000, false, false, NULL, false, 0, 0, 0, 0}};
    script s = {steps, 1, 0};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 10;
    o.retry.max_total_wait_ms = 8000;
    agc_provider *p = open_script(f, &s, &script_a_ops, &o);
    assert_int_equal(chat(p, NULL, NULL, NULL), AGC_ERATELIMIT);
    assert_int_equal(s.calls, 2);
    assert_int_equal(f->clk.slept_ms, 5000);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "retry budget"));
    agc_provider_close(p);
}

static void does_not_retry_client_errors(void **state)
{
    fixture *f = *state;
    static const struct {
        int status;
        agc_status code;
    } cases[] = {{400, AGC_EINVAL}, {401, AGC_EAUTH}, {403, AGC_EAUTH}, {404, AGC_ENOTFOUND}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        step st[] = {{cases[i].status, 0, false, false, NULL, false, 0, 0, 0, 0}};
        script s = {st, 1, 0};
        agc_provider *p = open_script(f, &s, &script_a_ops, NULL);
        assert_int_equal(chat(p, NULL, NULL, NULL), cases[i].code);
        assert_int_equal(s.calls, 1);
        assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "scripted failure"));
        assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "req_1"));
        agc_provider_close(p);
    }
    assert_int_equal(f->clk.slept_ms, 0);
    /* the auth message names the key variable */
    step st[] = {{401, 0, false, false, NULL, false, 0, 0, 0, 0}};
    script s = {st, 1, 0};
    agc_provider *p = open_script(f, &s, &script_a_ops, NULL);
    assert_int_equal(chat(p, NULL, NULL, NULL), AGC_EAUTH);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "SCRIPT_API_KEY"));
    agc_provider_close(p);
}

static void retries_transport_errors(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{0, -1, false, true, NULL, false, 0, 0, 0, 0}, OK_STEP};
    script s = {steps, 2, 0};
    agc_provider *p = open_script(f, &s, &script_a_ops, NULL);
    assert_int_equal(chat(p, NULL, NULL, NULL), AGC_OK);
    assert_int_equal(s.calls, 2);
    agc_provider_close(p);
}

static void does_not_replay_a_stream_that_delivered(void **state)
{
    fixture *f = *state;
    static const step steps[] = {{503, 0, true, false, NULL, false, 0, 0, 0, 0}, OK_STEP};
    script s = {steps, 2, 0};
    agc_provider *p = open_script(f, &s, &script_a_ops, NULL);
    seen sn = {0};
    assert_int_equal(chat(p, on_delta, &sn, NULL), AGC_EOVERLOADED);
    assert_int_equal(s.calls, 1);
    assert_int_equal(sn.n_text, 1);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "replay_streams"));
    agc_provider_close(p);

    /* without a stream callback nothing was delivered: retried */
    script s2 = {steps, 2, 0};
    p = open_script(f, &s2, &script_a_ops, NULL);
    assert_int_equal(chat(p, NULL, NULL, NULL), AGC_OK);
    assert_int_equal(s2.calls, 2);
    agc_provider_close(p);

    /* replay_streams allows it */
    script s3 = {steps, 2, 0};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.replay_streams = true;
    p = open_script(f, &s3, &script_a_ops, &o);
    seen sn3 = {0};
    assert_int_equal(chat(p, on_delta, &sn3, NULL), AGC_OK);
    assert_int_equal(s3.calls, 2);
    assert_int_equal(sn3.n_text, 2); /* the partial text, then the full answer */
    agc_provider_close(p);
}

/* A clock whose sleep really waits a little, so another thread can cancel. */
typedef struct slow_clock {
    int64_t mono_ns;
    atomic_int sleeping;
    atomic_long sleeps;
} slow_clock;

static int64_t slow_now(void *self)
{
    (void)self;
    return INT64_C(1700000000000);
}

static int64_t slow_mono(void *self)
{
    return ((slow_clock *)self)->mono_ns;
}

static void slow_sleep(void *self, int64_t ms)
{
    slow_clock *c = self;
    atomic_store(&c->sleeping, 1);
    atomic_fetch_add(&c->sleeps, 1);
    struct timespec ts = {0, 1000000}; /* 1 ms of real time per slice */
    nanosleep(&ts, NULL);
    c->mono_ns += ms * 1000000;
}

static const agc_clock_ops slow_clock_ops = {AGC_CLOCK_OPS_VERSION, slow_now, slow_mono,
                                             slow_sleep};

typedef struct canceler {
    slow_clock *clk;
    agc_provider *p;
} canceler;

static void *cancel_thread(void *arg)
{
    canceler *c = arg;
    while (!atomic_load(&c->clk->sleeping)) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    agc_provider_cancel(c->p);
    return NULL;
}

static void cancel_interrupts_the_retry_wait(void **state)
{
    fixture *f = *state;
    slow_clock clk = {0};
    agc_ctx_set_clock(f->ctx, &slow_clock_ops, &clk);
    static const step steps[] = {{503, 600000, false, false, NULL, false, 0, 0, 0, 0}};
    script s = {steps, 1, 0};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_total_wait_ms = 10000000;
    agc_provider *p = open_script(f, &s, &script_a_ops, &o);
    canceler c = {&clk, p};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_thread, &c), 0);
    assert_int_equal(chat(p, NULL, NULL, NULL), AGC_ECANCELED);
    pthread_join(th, NULL);
    assert_int_equal(s.calls, 1);
    assert_true(atomic_load(&clk.sleeps) < 6000); /* far from the whole 10 minute wait */
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "canceled"));
    agc_provider_close(p);
    agc_ctx_set_clock(f->ctx, &agc_manual_clock_ops, &f->clk);
}

static void rejects_a_request_without_model_or_version(void **state)
{
    fixture *f = *state;
    static const step steps[] = {OK_STEP};
    script s = {steps, 1, 0};
    agc_provider *p = open_script(f, &s, &script_a_ops, NULL);
    agc_part part;
    agc_message msg;
    agc_chat_request req = user_request(&part, &msg);
    req.model = NULL;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_EINVAL);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "--model"));
    req.model = "fake-model";
    req.version = 99;
    assert_int_equal(agc_provider_chat(&r, p, &req, NULL, NULL), AGC_EINVAL);
    assert_null(r);
    assert_int_equal(s.calls, 0);
    agc_provider_close(p);
}

/* ---- fallback ---------------------------------------------------------------- */

static void fallback_moves_on_for_429_and_5xx(void **state)
{
    fixture *f = *state;
    static const int statuses[] = {429, 500, 503, 529};
    for (size_t i = 0; i < 4; i++) {
        step sa[] = {{statuses[i], 0, false, false, NULL, false, 0, 0, 0, 0}};
        static const step sb[] = {OK_STEP};
        script a = {sa, 1, 0}, b = {sb, 1, 0};
        agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
        o.retry.max_attempts = 2;
        agc_provider *pa = open_script(f, &a, &script_a_ops, &o);
        agc_provider *pb = open_script(f, &b, &script_b_ops, &o);
        agc_provider *chain[] = {pa, pb}, *fb = NULL;
        assert_int_equal(agc_provider_fallback_new(&fb, chain, 2, f->ctx), AGC_OK);
        agc_chat_response *r = NULL;
        assert_int_equal(chat(fb, NULL, NULL, &r), AGC_OK);
        assert_string_equal(r->provider, "script-b");
        assert_int_equal(a.calls, 2); /* its own retries first */
        assert_int_equal(b.calls, 1);
        agc_chat_response_free(r);
        agc_provider_close(fb);
        agc_provider_close(pa);
        agc_provider_close(pb);
    }
}

static void fallback_stops_on_400(void **state)
{
    fixture *f = *state;
    static const step sa[] = {{400, 0, false, false, NULL, false, 0, 0, 0, 0}};
    static const step sb[] = {OK_STEP};
    script a = {sa, 1, 0}, b = {sb, 1, 0};
    agc_provider *pa = open_script(f, &a, &script_a_ops, NULL);
    agc_provider *pb = open_script(f, &b, &script_b_ops, NULL);
    agc_provider *chain[] = {pa, pb}, *fb = NULL;
    assert_int_equal(agc_provider_fallback_new(&fb, chain, 2, f->ctx), AGC_OK);
    assert_int_equal(chat(fb, NULL, NULL, NULL), AGC_EINVAL);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 0);
    agc_provider_close(fb);
    agc_provider_close(pa);
    agc_provider_close(pb);
}

static void fallback_reports_the_last_failure(void **state)
{
    fixture *f = *state;
    static const step sx[] = {{503, 0, false, false, NULL, false, 0, 0, 0, 0}};
    script a = {sx, 1, 0}, b = {sx, 1, 0};
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 1;
    agc_provider *pa = open_script(f, &a, &script_a_ops, &o);
    agc_provider *pb = open_script(f, &b, &script_b_ops, &o);
    agc_provider *chain[] = {pa, pb}, *fb = NULL;
    assert_int_equal(agc_provider_fallback_new(&fb, chain, 2, f->ctx), AGC_OK);
    assert_int_equal(chat(fb, NULL, NULL, NULL), AGC_EOVERLOADED);
    assert_int_equal(a.calls + b.calls, 2);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "script"));
    agc_provider_close(fb);
    agc_provider_close(pa);
    agc_provider_close(pb);
    agc_provider *none = NULL;
    assert_int_equal(agc_provider_fallback_new(&none, chain, 0, f->ctx), AGC_EINVAL);
}

/* ---- cost -------------------------------------------------------------------- */

static agc_chat_response *chat_with(fixture *f, const step *st, const agc_provider_opts *o)
{
    script s = {st, 1, 0};
    agc_provider *p = open_script(f, &s, &script_a_ops, o);
    agc_chat_response *r = NULL;
    assert_int_equal(chat(p, NULL, NULL, &r), AGC_OK);
    agc_provider_close(p);
    return r;
}

static void cost_from_usage_for_fake_model(void **state)
{
    fixture *f = *state;
    /* fake-model: 1.0 in, 2.0 out, 0.5 cached, 1.25 cache write per Mtok */
    step st[] = {{0, -1, false, false, NULL, true, 1000, 500, 200, 100}};
    agc_chat_response *r = chat_with(f, st, NULL);
    assert_true(r->cost_known);
    /* 700 * 1.0 + 200 * 0.5 + 100 * 1.25 + 500 * 2.0 = 1925 micro-dollars */
    assert_near(r->cost_usd, 0.001925, 1e-12);
    assert_string_equal(r->provider, "script-a");
    agc_chat_response_free(r);
}

static void cost_by_longest_prefix_of_the_reported_model(void **state)
{
    fixture *f = *state;
    step st[] = {{0, -1, false, false, "gpt-4o-mini-2024-07-18", true, 1000000, 1000000, 0, 0}};
    agc_chat_response *r = chat_with(f, st, NULL);
    assert_true(r->cost_known);
    assert_near(r->cost_usd, 0.15 + 0.6, 1e-12); /* gpt-4o-mini, not gpt-4o */
    agc_chat_response_free(r);

    agc_price price;
    assert_int_equal(agc_price_lookup(&price, "gpt-4o-mini-2024-07-18", NULL, f->ctx), AGC_OK);
    assert_near(price.input_per_mtok, 0.15, 1e-12);
    assert_near(price.cached_input_per_mtok, 0.075, 1e-12);
    assert_int_equal(agc_price_lookup(&price, "openai/gpt-4o", NULL, f->ctx), AGC_OK);
    assert_near(price.input_per_mtok, 2.5, 1e-12);
    assert_int_equal(agc_price_lookup(&price, "gpt-4oX", NULL, f->ctx), AGC_ENOTFOUND);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "provider.prices"));
}

static void cost_unknown_without_usage_or_price(void **state)
{
    fixture *f = *state;
    step no_usage[] = {{0, -1, false, false, NULL, false, 0, 0, 0, 0}};
    agc_chat_response *r = chat_with(f, no_usage, NULL);
    assert_false(r->usage.known);
    assert_false(r->cost_known);
    agc_chat_response_free(r);

    step unknown[] = {{0, -1, false, false, "mystery-model", true, 10, 10, 0, 0}};
    r = chat_with(f, unknown, NULL);
    assert_true(r->usage.known);
    /* the reported model is unknown but the requested one (fake-model) is priced */
    assert_true(r->cost_known);
    agc_chat_response_free(r);

    agc_usage u = {0};
    agc_price p = {1, 1, -1, -1};
    double c = -1;
    assert_false(agc_price_cost(&p, &u, &c));
}

static void price_overrides_win_over_the_table(void **state)
{
    fixture *f = *state;
    json_error_t jerr;
    json_t *prices = json_loads("{\"fake-model\": {\"input\": 10, \"output\": 20},"
                                " \"house-model\": {\"input\": 1, \"output\": 1}}",
                                0, &jerr);
    assert_non_null(prices);
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.prices = prices;
    step st[] = {{0, -1, false, false, NULL, true, 1000, 500, 200, 100}};
    agc_chat_response *r = chat_with(f, st, &o);
    assert_true(r->cost_known);
    /* cached and cache-write fall back to the input rate: 1000 * 10 + 500 * 20 */
    assert_near(r->cost_usd, 0.02, 1e-12);
    agc_chat_response_free(r);

    step house[] = {{0, -1, false, false, "house-model-v2", true, 1000000, 0, 0, 0}};
    r = chat_with(f, house, &o);
    assert_true(r->cost_known);
    assert_near(r->cost_usd, 1.0, 1e-12);
    agc_chat_response_free(r);
    json_decref(prices);
}

/* ---- the response builder and JSON forms --------------------------------------- */

static agc_status build_rich(agc_chat_response **out, agc_ctx *ctx)
{
    *out = NULL;
    agc_response_builder *b = NULL;
    agc_status st = agc_response_builder_new(&b, NULL, NULL, ctx);
    if (st != AGC_OK)
        return st;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *raw =
        json_pack("{s:s, s:s, s:s}", "type", "thinking", "thinking", "hmm", "signature", "sig==");
    json_t *red = json_pack("{s:s, s:s}", "type", "redacted_thinking", "data", "opaque");
    agc_json_leave(prev);
    if (!raw || !red)
        st = AGC_ENOMEM;
    if (st == AGC_OK)
        st = agc_response_add_thinking(b, "hm", 2);
    if (st == AGC_OK)
        st = agc_response_add_thinking(b, "m", 1);
    if (st == AGC_OK)
        st = agc_response_set_thinking_raw(b, raw);
    if (st == AGC_OK)
        st = agc_response_add_raw_thinking(b, red);
    if (st == AGC_OK)
        st = agc_response_add_text(b, "Hello, ", 7);
    if (st == AGC_OK)
        st = agc_response_add_text(b, "world", 5);
    if (st == AGC_OK)
        st = agc_response_add_tool_call(b, 0, "call_1", "read_file", "{\"pa", 4);
    if (st == AGC_OK)
        st = agc_response_add_tool_call(b, 1, "call_2", "list_dir", NULL, 0);
    if (st == AGC_OK)
        st = agc_response_add_tool_call(b, 0, NULL, NULL, "th\":\"a.c\"}", 10);
    if (st == AGC_OK)
        st = agc_response_set_meta(b, "msg_1", "fake-model", "req_9");
    if (st == AGC_OK) {
        agc_response_merge_usage(b, 100, -1, 20, 10, -1);
        agc_response_merge_usage(b, -1, 7, -1, -1, 3);
        st = agc_response_set_finish(b, AGC_FINISH_TOOL_CALLS, "tool_use");
    }
    if (st == AGC_OK)
        st = agc_response_builder_finish(out, b);
    json_decref(raw);
    json_decref(red);
    agc_response_builder_free(b);
    return st;
}

static agc_status round_trip(agc_ctx *ctx, void *user)
{
    (void)user;
    agc_chat_response *r = NULL, *back = NULL;
    agc_status st = build_rich(&r, ctx);
    if (st != AGC_OK)
        return st;
    json_t *j = agc_chat_response_to_json(r, ctx);
    json_t *j2 = NULL;
    st = j ? agc_chat_response_from_json(&back, j, ctx) : AGC_ENOMEM;
    if (st == AGC_OK) {
        j2 = agc_chat_response_to_json(back, ctx);
        if (!j2)
            st = AGC_ENOMEM;
    }
    if (st == AGC_OK && !json_equal(j, j2))
        st = AGC_ERROR;
    json_decref(j);
    json_decref(j2);
    agc_chat_response_free(r);
    agc_chat_response_free(back);
    return st;
}

static void response_json_round_trips(void **state)
{
    fixture *f = *state;
    agc_chat_response *r = NULL, *back = NULL;
    assert_int_equal(build_rich(&r, f->ctx), AGC_OK);
    assert_int_equal(r->n_parts, 3);
    assert_int_equal(r->parts[0].kind, AGC_PART_THINKING);
    assert_string_equal(r->parts[0].text, "hmm");
    assert_string_equal(agc_json_str(r->parts[0].raw, "signature", ""), "sig==");
    assert_string_equal(agc_json_str(r->parts[1].raw, "type", ""), "redacted_thinking");
    assert_string_equal(agc_chat_response_text(r), "Hello, world");
    assert_int_equal(r->n_tool_calls, 2);
    assert_string_equal(r->tool_calls[0].arguments, "{\"path\":\"a.c\"}");
    assert_string_equal(r->tool_calls[1].arguments, "{}");
    assert_true(r->usage.known);
    assert_int_equal(r->usage.input_tokens, 100);
    assert_int_equal(r->usage.output_tokens, 7);
    assert_int_equal(r->usage.reasoning_tokens, 3);

    json_t *j = agc_chat_response_to_json(r, f->ctx);
    assert_non_null(j);
    assert_string_equal(agc_json_str(j, "finish_reason", ""), "tool_calls");
    assert_string_equal(agc_json_str(j, "finish_raw", ""), "tool_use");
    assert_string_equal(agc_json_str(j, "request_id", ""), "req_9");
    assert_int_equal(agc_chat_response_from_json(&back, j, f->ctx), AGC_OK);
    json_t *j2 = agc_chat_response_to_json(back, f->ctx);
    assert_true(json_equal(j, j2));
    assert_string_equal(back->model, "fake-model");
    assert_int_equal(back->finish, AGC_FINISH_TOOL_CALLS);
    json_decref(j);
    json_decref(j2);
    agc_chat_response_free(r);
    agc_chat_response_free(back);

    json_error_t jerr;
    json_t *bad = json_loads("{\"content\": []}", 0, &jerr);
    assert_int_equal(agc_chat_response_from_json(&back, bad, f->ctx), AGC_EPARSE);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "finish_reason"));
    assert_null(back);
    json_decref(bad);
}

static void builder_rejects_missing_finish_and_anonymous_calls(void **state)
{
    fixture *f = *state;
    agc_response_builder *b = NULL;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_response_builder_new(&b, NULL, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_response_add_text(b, "cut", 3), AGC_OK);
    assert_int_equal(agc_response_builder_finish(&r, b), AGC_EPROTO);
    assert_null(r);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "finish reason"));
    agc_response_builder_free(b);

    assert_int_equal(agc_response_builder_new(&b, NULL, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_response_add_tool_call(b, 0, NULL, "read_file", "{}", 2), AGC_OK);
    assert_int_equal(agc_response_set_finish(b, AGC_FINISH_TOOL_CALLS, NULL), AGC_OK);
    assert_int_equal(agc_response_builder_finish(&r, b), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "without an id"));
    agc_response_builder_free(b);

    assert_int_equal(agc_response_builder_new(&b, NULL, NULL, f->ctx), AGC_OK);
    assert_int_equal(agc_response_add_tool_call(b, 3, "call_9", NULL, "{}", 2), AGC_OK);
    assert_int_equal(agc_response_set_finish(b, AGC_FINISH_TOOL_CALLS, NULL), AGC_OK);
    assert_int_equal(agc_response_builder_finish(&r, b), AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(f->ctx), "without a name"));
    agc_response_builder_free(b);
}

static void builder_streams_deltas_in_order(void **state)
{
    fixture *f = *state;
    seen sn = {0};
    agc_response_builder *b = NULL;
    agc_chat_response *r = NULL;
    assert_int_equal(agc_response_builder_new(&b, on_delta, &sn, f->ctx), AGC_OK);
    assert_false(agc_response_delivered(b));
    assert_int_equal(agc_response_add_text(b, "a", 1), AGC_OK);
    assert_int_equal(agc_response_add_text(b, "", 0), AGC_OK); /* nothing to say */
    assert_int_equal(agc_response_add_text(b, "b", 1), AGC_OK);
    assert_true(agc_response_delivered(b));
    assert_int_equal(agc_response_set_finish(b, AGC_FINISH_STOP, "stop"), AGC_OK);
    assert_int_equal(agc_response_builder_finish(&r, b), AGC_OK);
    assert_int_equal(sn.n_text, 2);
    assert_string_equal(agc_chat_response_text(r), "ab");
    assert_false(r->usage.known);
    agc_chat_response_free(r);
    agc_response_builder_free(b);
}

static void oom_sweep_over_builder_and_json_forms(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(round_trip, NULL, 0) > 10);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(retries_5xx_with_bounded_full_jitter_backoff),
        TEST(backoff_is_capped_by_max_delay),
        TEST(honours_retry_after_exactly),
        TEST(gives_up_after_max_attempts),
        TEST(stops_when_the_wait_budget_would_pass),
        TEST(does_not_retry_client_errors),
        TEST(retries_transport_errors),
        TEST(does_not_replay_a_stream_that_delivered),
        TEST(cancel_interrupts_the_retry_wait),
        TEST(rejects_a_request_without_model_or_version),
        TEST(fallback_moves_on_for_429_and_5xx),
        TEST(fallback_stops_on_400),
        TEST(fallback_reports_the_last_failure),
        TEST(cost_from_usage_for_fake_model),
        TEST(cost_by_longest_prefix_of_the_reported_model),
        TEST(cost_unknown_without_usage_or_price),
        TEST(price_overrides_win_over_the_table),
        TEST(response_json_round_trips),
        TEST(builder_rejects_missing_finish_and_anonymous_calls),
        TEST(builder_streams_deltas_in_order),
        TEST(oom_sweep_over_builder_and_json_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
