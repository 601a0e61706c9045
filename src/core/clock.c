/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * System and manual clocks. The ctx asks its clock ops; the default reads
 * CLOCK_REALTIME / CLOCK_MONOTONIC and sleeps with nanosleep.
 */
#include <stdio.h>
#include <time.h>

#include "agentc/clock.h"
#include "ctx_int.h"

static int64_t sys_now_ms(void *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sys_mono_ns(void *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sys_sleep_ms(void *self, int64_t ms)
{
    (void)self;
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static const agc_clock_ops sys_clock = {AGC_CLOCK_OPS_VERSION, sys_now_ms, sys_mono_ns,
                                        sys_sleep_ms};

void agc_ctx_set_clock(agc_ctx *ctx, const agc_clock_ops *ops, void *self)
{
    ctx->clock_ops = ops;
    ctx->clock_self = self;
}

static const agc_clock_ops *ops_of(agc_ctx *ctx, void **self)
{
    if (ctx && ctx->clock_ops) {
        *self = ctx->clock_self;
        return ctx->clock_ops;
    }
    *self = NULL;
    return &sys_clock;
}

int64_t agc_clock_now_ms(agc_ctx *ctx)
{
    void *self;
    const agc_clock_ops *o = ops_of(ctx, &self);
    return o->now_ms(self);
}

int64_t agc_clock_monotonic_ns(agc_ctx *ctx)
{
    void *self;
    const agc_clock_ops *o = ops_of(ctx, &self);
    return o->monotonic_ns(self);
}

void agc_clock_sleep_ms(agc_ctx *ctx, int64_t ms)
{
    void *self;
    const agc_clock_ops *o = ops_of(ctx, &self);
    o->sleep_ms(self, ms);
}

static int64_t man_now(void *self)
{
    return ((agc_manual_clock *)self)->now_ms;
}

static int64_t man_mono(void *self)
{
    return ((agc_manual_clock *)self)->mono_ns;
}

static void man_sleep(void *self, int64_t ms)
{
    agc_manual_clock *c = self;
    if (ms > 0) {
        c->slept_ms += ms;
        agc_manual_clock_advance(c, ms);
    }
}

const agc_clock_ops agc_manual_clock_ops = {AGC_CLOCK_OPS_VERSION, man_now, man_mono, man_sleep};

void agc_manual_clock_advance(agc_manual_clock *c, int64_t ms)
{
    c->now_ms += ms;
    c->mono_ns += ms * 1000000;
}

char *agc_time_format_rfc3339(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}
