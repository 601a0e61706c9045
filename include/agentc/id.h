/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Time-sortable ids in the ULID format: 26 Crockford base32 characters,
 * a 48-bit Unix millisecond timestamp (from the ctx clock) followed by 80
 * random bits (libsodium). Ids made by one ctx are strictly increasing, so
 * sorting them as strings sorts them by creation. An optional typed form puts
 * a short lowercase prefix in front ("run_01JD3...").
 * Not a secret: the random part is unpredictable but ids are meant to be shown.
 */
#ifndef AGENTC_ID_H
#define AGENTC_ID_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Length of a bare id, and the buffer size it needs with its NUL. */
#define AGC_ID_LEN  26
#define AGC_ID_SIZE (AGC_ID_LEN + 1)
/* Longest prefix of a typed id, and the buffer size that holds any typed id. */
#define AGC_ID_PREFIX_MAX 16
#define AGC_ID_TYPED_SIZE (AGC_ID_PREFIX_MAX + 1 + AGC_ID_LEN + 1)
/* Largest timestamp an id can carry (2^48 - 1 ms, year 10889). */
#define AGC_ID_MAX_MS ((int64_t)0xFFFFFFFFFFFF)

/*
 * Writes a new id and its NUL into out. Monotonic per ctx: an id made in the
 * same millisecond as the previous one (or after the wall clock stepped back)
 * reuses the previous timestamp and adds one to the previous random part, as
 * the ULID spec says. When that random part is already all ones (about one
 * chance in 2^80 per millisecond) the call fails with AGC_ELIMIT instead of
 * waiting; retry in the next millisecond. Errors: AGC_ENOMEM (first call on a
 * ctx allocates the generator state), AGC_EINVAL when the clock is before
 * 1970 or past AGC_ID_MAX_MS.
 */
AGC_NODISCARD agc_status agc_id_new(char out[AGC_ID_SIZE], agc_ctx *ctx);

/*
 * Writes a typed id "prefix_<id>" into out (size bytes; AGC_ID_TYPED_SIZE is
 * always enough). prefix is 1..AGC_ID_PREFIX_MAX characters of [a-z0-9].
 * Errors: those of agc_id_new, AGC_EINVAL for a bad prefix or a too small
 * buffer (out is then "" when size > 0).
 */
AGC_NODISCARD agc_status agc_id_new_typed(char *out, size_t size, const char *prefix, agc_ctx *ctx);

/*
 * Checks id and gives its timestamp. id is a bare id or a typed one
 * ("run_01J..."); the bare part must be exactly 26 characters of the
 * canonical upper-case Crockford alphabet (no I, L, O, U; lower case is
 * refused so that ids compare bytewise) and its first character at most '7'
 * (a larger one would overflow 128 bits). ms_out may be NULL.
 * Errors: AGC_EPARSE with a message naming what is wrong.
 */
AGC_NODISCARD agc_status agc_id_parse(int64_t *ms_out, const char *id, agc_ctx *ctx);

/* Whether id is well formed (agc_id_parse without the message). */
bool agc_id_valid(const char *id);

/*
 * The bare 26-character part of a bare or typed id (a pointer into id), or
 * NULL when id is not well formed.
 */
const char *agc_id_body(const char *id);

/*
 * Orders two ids by their bare part (time first, then the random part), then
 * by the whole string, so typed and bare ids of one stream sort by creation.
 * Returns <0, 0 or >0 like strcmp. Malformed ids are compared as strings.
 */
int agc_id_compare(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
