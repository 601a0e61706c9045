/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * ULID-style ids. The generator state (last timestamp and last random part)
 * lives in the ctx slot AGC__EXT_IDS and makes ids of one ctx strictly
 * increasing: same or earlier millisecond -> previous timestamp, random + 1.
 * The 128-bit value is held as two 64-bit halves: hi = 48-bit time << 16 |
 * top 16 random bits, lo = low 64 random bits. No locking: a ctx serves one
 * thread at a time.
 */
#include <string.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/id.h"
#include "ctx_int.h"

static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

typedef struct id_state {
    bool have;
    int64_t last_ms;
    uint8_t rnd[10];
} id_state;

static void state_free(agc_ctx *ctx, void *state)
{
    agc_free(ctx, state);
}

static id_state *state_get(agc_ctx *ctx)
{
    id_state *s = agc__ctx_ext(ctx, AGC__EXT_IDS);
    if (s)
        return s;
    s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return NULL;
    agc__ctx_set_ext(ctx, AGC__EXT_IDS, s, state_free);
    return s;
}

/* Adds one to the 80-bit big-endian value; false when it was all ones. */
static bool increment(uint8_t rnd[10])
{
    for (int i = 9; i >= 0; i--) {
        if (rnd[i] != 0xFF) {
            rnd[i]++;
            return true;
        }
        rnd[i] = 0;
    }
    return false;
}

static void encode(char out[AGC_ID_SIZE], int64_t ms, const uint8_t rnd[10])
{
    uint64_t hi = (uint64_t)ms << 16 | (uint64_t)rnd[0] << 8 | rnd[1];
    uint64_t lo = 0;
    for (int i = 2; i < 10; i++)
        lo = lo << 8 | rnd[i];
    for (int i = AGC_ID_LEN - 1; i >= 0; i--) {
        out[i] = ALPHABET[lo & 31];
        lo = lo >> 5 | hi << 59;
        hi >>= 5;
    }
    out[AGC_ID_LEN] = '\0';
}

agc_status agc_id_new(char out[AGC_ID_SIZE], agc_ctx *ctx)
{
    out[0] = '\0';
    int64_t now = agc_clock_now_ms(ctx);
    if (now < 0 || now > AGC_ID_MAX_MS)
        return agc_error_set(ctx, AGC_EINVAL, "id",
                             "clock reads %lld ms, outside the id range 0..2^48-1; check the "
                             "system time or the injected clock",
                             (long long)now);
    id_state *s = state_get(ctx);
    if (!s)
        return AGC_ENOMEM;
    if (s->have && now <= s->last_ms) {
        uint8_t next[10];
        memcpy(next, s->rnd, sizeof next);
        if (!increment(next))
            return agc_error_set(ctx, AGC_ELIMIT, "id",
                                 "id space of millisecond %lld exhausted (random part "
                                 "overflowed); retry in the next millisecond",
                                 (long long)s->last_ms);
        memcpy(s->rnd, next, sizeof next);
    } else {
        randombytes_buf(s->rnd, sizeof s->rnd);
        s->last_ms = now;
        s->have = true;
    }
    encode(out, s->last_ms, s->rnd);
    return AGC_OK;
}

static bool prefix_ok(const char *p, size_t n)
{
    if (n == 0 || n > AGC_ID_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return false;
    return true;
}

agc_status agc_id_new_typed(char *out, size_t size, const char *prefix, agc_ctx *ctx)
{
    if (size > 0)
        out[0] = '\0';
    size_t n = prefix ? strlen(prefix) : 0;
    if (!prefix_ok(prefix, n))
        return agc_error_set(ctx, AGC_EINVAL, "id",
                             "id prefix \"%.32s\" must be 1 to %d characters of a-z and 0-9",
                             prefix ? prefix : "", AGC_ID_PREFIX_MAX);
    if (size < n + 1 + AGC_ID_SIZE)
        return agc_error_set(ctx, AGC_EINVAL, "id",
                             "buffer of %zu bytes too small for a \"%s_\" id; use "
                             "AGC_ID_TYPED_SIZE",
                             size, prefix);
    char body[AGC_ID_SIZE];
    agc_status st = agc_id_new(body, ctx);
    if (st != AGC_OK)
        return st;
    memcpy(out, prefix, n);
    out[n] = '_';
    memcpy(out + n + 1, body, AGC_ID_SIZE);
    return AGC_OK;
}

static int digit(char c)
{
    const char *p = c ? strchr(ALPHABET, c) : NULL;
    return p ? (int)(p - ALPHABET) : -1;
}

/* Validates; on success returns the body and the timestamp, else a reason. */
static const char *check(const char *id, int64_t *ms, const char **why)
{
    const char *body = id;
    const char *us = strchr(id, '_');
    if (us) {
        if (!prefix_ok(id, (size_t)(us - id))) {
            *why = "its prefix must be 1 to 16 characters of a-z and 0-9";
            return NULL;
        }
        body = us + 1;
    }
    size_t n = strnlen(body, AGC_ID_LEN + 1);
    if (n != AGC_ID_LEN) {
        *why = "an id has 26 characters";
        return NULL;
    }
    uint64_t hi = 0, lo = 0;
    for (size_t i = 0; i < AGC_ID_LEN; i++) {
        int d = digit(body[i]);
        if (d < 0) {
            *why = "it contains a character outside 0-9 A-Z without I L O U (upper case only)";
            return NULL;
        }
        if (i == 0 && d > 7) {
            *why = "its first character is above 7, which overflows 128 bits";
            return NULL;
        }
        hi = hi << 5 | lo >> 59;
        lo = lo << 5 | (uint64_t)d;
    }
    *ms = (int64_t)(hi >> 16);
    return body;
}

agc_status agc_id_parse(int64_t *ms_out, const char *id, agc_ctx *ctx)
{
    if (ms_out)
        *ms_out = 0;
    const char *why = "";
    int64_t ms = 0;
    if (!id)
        return agc_error_set(ctx, AGC_EPARSE, "id", "missing id");
    if (!check(id, &ms, &why))
        return agc_error_set(ctx, AGC_EPARSE, "id", "\"%.64s\" is not a valid id: %s", id, why);
    if (ms_out)
        *ms_out = ms;
    return AGC_OK;
}

bool agc_id_valid(const char *id)
{
    return agc_id_body(id) != NULL;
}

const char *agc_id_body(const char *id)
{
    const char *why;
    int64_t ms;
    return id ? check(id, &ms, &why) : NULL;
}

int agc_id_compare(const char *a, const char *b)
{
    const char *ba = agc_id_body(a);
    const char *bb = agc_id_body(b);
    if (ba && bb) {
        int c = memcmp(ba, bb, AGC_ID_LEN);
        if (c != 0)
            return c;
    }
    return strcmp(a, b);
}
