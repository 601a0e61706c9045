/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Logging: leveled lines to a per-ctx sink (a FILE*, a file opened for
 * append, or a callback), as human text or JSON lines. The level is checked
 * before anything is formatted, and every line is redacted (agc_redact)
 * before it reaches the sink; a line that cannot be redacted is dropped,
 * never written in the clear. Logging never changes the ctx's last error.
 */
#ifndef AGENTC_LOG_H
#define AGENTC_LOG_H

#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum agc_log_level {
    AGC_LOG_TRACE = 0,
    AGC_LOG_DEBUG,
    AGC_LOG_INFO,
    AGC_LOG_WARN, /* the default */
    AGC_LOG_ERROR,
    AGC_LOG_OFF
} agc_log_level;

typedef enum agc_log_format {
    AGC_LOG_HUMAN = 0, /* 2026-11-23T14:49:45.123Z WARN  module: message */
    AGC_LOG_JSON       /* {"time":"...","level":"warn","module":"...","msg":"..."} */
} agc_log_format;

/*
 * A callback sink: receives one finished, redacted line without its trailing
 * newline (line[len] is NUL). The line is borrowed for the call only.
 */
typedef void (*agc_log_fn)(agc_log_level level, const char *line, size_t len, void *user);

/*
 * Writes one line at level from module (a short constant like "config") when
 * level is enabled on ctx. printf-style; nothing is formatted when disabled.
 * Never fails visibly: a line that cannot be built or redacted is dropped.
 */
void agc_log(agc_ctx *ctx, agc_log_level level, const char *module, const char *fmt, ...)
    AGC_PRINTF(4, 5);
void agc_logv(agc_ctx *ctx, agc_log_level level, const char *module, const char *fmt, va_list ap)
    AGC_PRINTF(4, 0);
/* Whether a line at level would be written (use it to skip costly preparation). */
bool agc_log_enabled(const agc_ctx *ctx, agc_log_level level);

/* Sets the threshold (AGC_LOG_OFF silences everything). AGC_ENOMEM. */
agc_status agc_log_set_level(agc_ctx *ctx, agc_log_level level);
/* The current threshold (AGC_LOG_WARN until changed). */
agc_log_level agc_log_get_level(const agc_ctx *ctx);
/* Chooses human or JSON lines. AGC_ENOMEM. */
agc_status agc_log_set_format(agc_ctx *ctx, agc_log_format format);
/* Writes to f (borrowed: must outlive the ctx or the next sink change; not
 * closed). NULL means stderr, the default. AGC_ENOMEM. */
agc_status agc_log_set_file(agc_ctx *ctx, FILE *f);
/* Opens path for append (created 0600) and writes there; the ctx closes it.
 * AGC_EIO names the path and the reason; the previous sink stays then. */
agc_status agc_log_open_path(agc_ctx *ctx, const char *path);
/* Sends lines to fn(level, line, len, user) instead of a file. AGC_ENOMEM. */
agc_status agc_log_set_callback(agc_ctx *ctx, agc_log_fn fn, void *user);

/*
 * Reads AGENTC_LOG_LEVEL (trace, debug, info, warn, error, off), AGENTC_LOG_FORMAT
 * (human, json) and AGENTC_LOG_FILE (a path to append to); unset variables
 * change nothing. AGC_EINVAL names the variable and the accepted values.
 */
agc_status agc_log_configure_from_env(agc_ctx *ctx);

/* Parses a level or format name (case-insensitive; "warning" is accepted).
 * AGC_EINVAL lists the accepted names. */
agc_status agc_log_level_parse(agc_log_level *out, const char *name, agc_ctx *ctx);
agc_status agc_log_format_parse(agc_log_format *out, const char *name, agc_ctx *ctx);
/* "trace", "debug", "info", "warn", "error", "off". */
const char *agc_log_level_name(agc_log_level level);

#ifdef __cplusplus
}
#endif
#endif
