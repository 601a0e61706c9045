/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The clock every time-dependent part asks: wall time for timestamps and ids,
 * a monotonic clock for durations and deadlines, and sleep. Injectable per ctx
 * so that tests of retries, timeouts and ids never sleep for real.
 */
#ifndef AGENTC_CLOCK_H
#define AGENTC_CLOCK_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agc_clock_ops {
    unsigned version;                         /* AGC_CLOCK_OPS_VERSION */
    int64_t (*now_ms)(void *self);            /* Unix time in milliseconds */
    int64_t (*monotonic_ns)(void *self);      /* arbitrary origin, never goes back */
    void (*sleep_ms)(void *self, int64_t ms); /* may return early; callers re-check */
} agc_clock_ops;

#define AGC_CLOCK_OPS_VERSION 1

/* Replaces ctx's clock (ops and self must outlive the ctx); NULL ops restores the system clock. */
void agc_ctx_set_clock(agc_ctx *ctx, const agc_clock_ops *ops, void *self);

int64_t agc_clock_now_ms(agc_ctx *ctx);
int64_t agc_clock_monotonic_ns(agc_ctx *ctx);
void agc_clock_sleep_ms(agc_ctx *ctx, int64_t ms);

/*
 * A manual clock for tests: time moves only when advanced (sleep advances it).
 * Embed it and pass &agc_manual_clock_ops with a pointer to it.
 */
typedef struct agc_manual_clock {
    int64_t now_ms;
    int64_t mono_ns;
    int64_t slept_ms; /* total asked to sleep */
} agc_manual_clock;

extern const agc_clock_ops agc_manual_clock_ops;
void agc_manual_clock_advance(agc_manual_clock *c, int64_t ms);

/* Formats Unix milliseconds as RFC 3339 UTC ("2026-11-23T14:49:45.123Z") into buf (>= 25 bytes). */
char *agc_time_format_rfc3339(int64_t ms, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
