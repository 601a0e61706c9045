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
#include "agentc/store.h"

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

/* The wrapper object (store.c); store_privacy.c reads it too. */
struct agc_store {
    const agc_store_ops *ops;
    void *self;
    agc_ctx *ctx;
    agc_privacy *privacy;        /* borrowed (or own_privacy); NULL: nothing sealed */
    agc_privacy *own_privacy;    /* opened from a run's privacy_db to read it */
    char *subject;               /* default subject of new runs */
    agc_retain_content retain;   /* content kept */
    char *cache_run, *cache_sub; /* the last run whose subject was looked up ("" none) */
};

/* Members of a run document left in the clear when the run is sealed. */
bool agc__store_clear_member(const char *name);
/* Before writing a new run doc (redacted, owned): subject, minimisation, sealing. */
AGC_NODISCARD agc_status agc__store_protect_run(agc_store *s, json_t **doc);
/* Before writing a run patch (redacted, owned): seals its content with the run's. */
AGC_NODISCARD agc_status agc__store_protect_patch(agc_store *s, const char *run_id, json_t **patch);
/* Before writing step data (redacted, owned, may be NULL). */
AGC_NODISCARD agc_status agc__store_protect_step(agc_store *s, const char *run_id, json_t **data);
/* After reading: opens a run doc / an array of runs / an array of steps in place. */
AGC_NODISCARD agc_status agc__store_open_run(agc_store *s, json_t *doc);
AGC_NODISCARD agc_status agc__store_open_steps(agc_store *s, const char *run_id, json_t *steps);
/* Frees the privacy settings. */
void agc__store_privacy_free(agc_store *s);

#endif
