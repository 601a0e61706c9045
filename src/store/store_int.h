/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Helpers shared by the store wrapper and its backends: name checks (run ids,
 * step kinds) and RFC 7396 merge patch, so every backend applies run updates
 * the same way. Backends may assume the wrapper has already checked names and
 * redacted payloads; these helpers do no I/O.
 */
#ifndef AGC_STORE_STORE_INT_H
#define AGC_STORE_STORE_INT_H

#include <jansson.h>

#include "agentc/common.h"

/* Longest run id or step kind, in bytes. */
#define AGC__STORE_NAME_MAX 128

/*
 * AGC_OK when name is a usable run id / step kind: 1..128 bytes of valid
 * UTF-8 without control characters. Else AGC_EINVAL naming what (e.g.
 * "run id") and the reason.
 */
agc_status agc__store_check_name(const char *name, const char *what, agc_ctx *ctx);

/*
 * Applies patch to the object target in place (RFC 7396: null deletes a
 * member, objects merge recursively, anything else replaces). Values of patch
 * may end up shared with target (reference counted). AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc__store_merge_patch(json_t *target, const json_t *patch, agc_ctx *ctx);

#endif
