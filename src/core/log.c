/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Per-ctx logging. Without configuration no state exists and lines at warn
 * and above go to stderr in human form. Order per line: level check, format
 * the message, redact it, build the line, write. Any failure drops the line
 * and restores the ctx's error record, so logging from an error path never
 * hides the error being reported. Not thread-safe beyond the ctx's rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "ctx_int.h"

#define MOD "log"

typedef struct log_state {
    agc_log_level level;
    agc_log_format format;
    FILE *file; /* NULL: stderr */
    bool owns_file;
    agc_log_fn fn;
    void *user;
    bool busy; /* re-entrancy guard: a callback that logs is ignored */
} log_state;

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "off"};
static const char *const level_tags[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};

const char *agc_log_level_name(agc_log_level level)
{
    return (unsigned)level <= AGC_LOG_OFF ? level_names[level] : "unknown";
}

static void state_free(agc_ctx *ctx, void *p)
{
    log_state *st = p;
    if (st->owns_file && st->file)
        fclose(st->file);
    agc_free(ctx, st);
}

static log_state *state_get(agc_ctx *ctx)
{
    log_state *st = agc__ctx_ext(ctx, AGC__EXT_LOG);
    if (st)
        return st;
    st = agc_calloc(ctx, 1, sizeof *st);
    if (!st)
        return NULL;
    st->level = AGC_LOG_WARN;
    st->format = AGC_LOG_HUMAN;
    agc__ctx_set_ext(ctx, AGC__EXT_LOG, st, state_free);
    return st;
}

agc_log_level agc_log_get_level(const agc_ctx *ctx)
{
    const log_state *st = agc__ctx_ext(ctx, AGC__EXT_LOG);
    return st ? st->level : AGC_LOG_WARN;
}

bool agc_log_enabled(const agc_ctx *ctx, agc_log_level level)
{
    return ctx && level < AGC_LOG_OFF && level >= agc_log_get_level(ctx);
}

agc_status agc_log_set_level(agc_ctx *ctx, agc_log_level level)
{
    if ((unsigned)level > AGC_LOG_OFF)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown log level %d", (int)level);
    log_state *st = state_get(ctx);
    if (!st)
        return AGC_ENOMEM;
    st->level = level;
    return AGC_OK;
}

agc_status agc_log_set_format(agc_ctx *ctx, agc_log_format format)
{
    if (format != AGC_LOG_HUMAN && format != AGC_LOG_JSON)
        return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown log format %d", (int)format);
    log_state *st = state_get(ctx);
    if (!st)
        return AGC_ENOMEM;
    st->format = format;
    return AGC_OK;
}

static void drop_sink(log_state *st)
{
    if (st->owns_file && st->file)
        fclose(st->file);
    st->file = NULL;
    st->owns_file = false;
    st->fn = NULL;
    st->user = NULL;
}

agc_status agc_log_set_file(agc_ctx *ctx, FILE *f)
{
    log_state *st = state_get(ctx);
    if (!st)
        return AGC_ENOMEM;
    drop_sink(st);
    st->file = f;
    return AGC_OK;
}

agc_status agc_log_open_path(agc_ctx *ctx, const char *path)
{
    log_state *st = state_get(ctx);
    if (!st)
        return AGC_ENOMEM;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot open log file %s: %s; check the path", path,
                             strerror(errno));
    FILE *f = fdopen(fd, "a");
    if (!f) {
        int e = errno;
        close(fd);
        return agc_error_set(ctx, AGC_EIO, MOD, "cannot open log file %s: %s", path, strerror(e));
    }
    drop_sink(st);
    st->file = f;
    st->owns_file = true;
    return AGC_OK;
}

agc_status agc_log_set_callback(agc_ctx *ctx, agc_log_fn fn, void *user)
{
    log_state *st = state_get(ctx);
    if (!st)
        return AGC_ENOMEM;
    drop_sink(st);
    st->fn = fn;
    st->user = user;
    return AGC_OK;
}

agc_status agc_log_level_parse(agc_log_level *out, const char *name, agc_ctx *ctx)
{
    for (int i = 0; i <= AGC_LOG_OFF; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (agc_log_level)i;
            return AGC_OK;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = AGC_LOG_WARN;
        return AGC_OK;
    }
    return agc_error_set(ctx, AGC_EINVAL, MOD,
                         "unknown log level \"%.64s\"; use trace, debug, info, warn, error or off",
                         name);
}

agc_status agc_log_format_parse(agc_log_format *out, const char *name, agc_ctx *ctx)
{
    if (strcasecmp(name, "human") == 0 || strcasecmp(name, "text") == 0) {
        *out = AGC_LOG_HUMAN;
        return AGC_OK;
    }
    if (strcasecmp(name, "json") == 0) {
        *out = AGC_LOG_JSON;
        return AGC_OK;
    }
    return agc_error_set(ctx, AGC_EINVAL, MOD, "unknown log format \"%.64s\"; use human or json",
                         name);
}

agc_status agc_log_configure_from_env(agc_ctx *ctx)
{
    const char *lv = getenv("AGENTC_LOG_LEVEL");
    const char *fm = getenv("AGENTC_LOG_FORMAT");
    const char *path = getenv("AGENTC_LOG_FILE");
    agc_status s;
    if (lv && *lv) {
        agc_log_level level;
        if (agc_log_level_parse(&level, lv, ctx) != AGC_OK)
            return agc_error_wrap(ctx, AGC_EINVAL, MOD, "AGENTC_LOG_LEVEL is invalid");
        if ((s = agc_log_set_level(ctx, level)) != AGC_OK)
            return s;
    }
    if (fm && *fm) {
        agc_log_format format;
        if (agc_log_format_parse(&format, fm, ctx) != AGC_OK)
            return agc_error_wrap(ctx, AGC_EINVAL, MOD, "AGENTC_LOG_FORMAT is invalid");
        if ((s = agc_log_set_format(ctx, format)) != AGC_OK)
            return s;
    }
    if (path && *path) {
        if (agc_log_open_path(ctx, path) != AGC_OK)
            return agc_error_wrap(ctx, AGC_EIO, MOD, "AGENTC_LOG_FILE cannot be used");
    }
    return AGC_OK;
}

/* ---- writing ---------------------------------------------------------------- */

static agc_status put_json_string(agc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    agc_status st = agc_buf_putc(b, '"');
    for (size_t i = 0; st == AGC_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            st = agc_buf_puts(b, "\\\"");
            break;
        case '\\':
            st = agc_buf_puts(b, "\\\\");
            break;
        case '\n':
            st = agc_buf_puts(b, "\\n");
            break;
        case '\r':
            st = agc_buf_puts(b, "\\r");
            break;
        case '\t':
            st = agc_buf_puts(b, "\\t");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                st = agc_buf_append(b, e, sizeof e);
            } else {
                st = agc_buf_putc(b, (char)c);
            }
        }
    }
    return st == AGC_OK ? agc_buf_putc(b, '"') : st;
}

/* Builds the finished line (without newline) into b. */
static agc_status build_line(agc_buf *b, const log_state *st, agc_log_level level,
                             const char *module, const char *msg, size_t msglen, agc_ctx *ctx)
{
    char ts[32];
    agc_time_format_rfc3339(agc_clock_now_ms(ctx), ts, sizeof ts);
    agc_log_format format = st ? st->format : AGC_LOG_HUMAN;
    agc_status s;
    if (format == AGC_LOG_JSON) {
        s = agc_buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"module\":", ts,
                           level_names[level]);
        if (s == AGC_OK)
            s = put_json_string(b, module, strlen(module));
        if (s == AGC_OK)
            s = agc_buf_puts(b, ",\"msg\":");
        if (s == AGC_OK)
            s = put_json_string(b, msg, msglen);
        return s == AGC_OK ? agc_buf_putc(b, '}') : s;
    }
    s = agc_buf_printf(b, "%s %s %s: ", ts, level_tags[level], module);
    return s == AGC_OK ? agc_buf_append(b, msg, msglen) : s;
}

void agc_logv(agc_ctx *ctx, agc_log_level level, const char *module, const char *fmt, va_list ap)
{
    if (!agc_log_enabled(ctx, level))
        return;
    log_state *st = agc__ctx_ext(ctx, AGC__EXT_LOG);
    if (st && st->busy)
        return;
    /* keep the caller's error: logging failures must not replace it */
    struct agc__errslot saved[AGC__ERR_DEPTH];
    int saved_count = ctx->err_count, saved_top = ctx->err_top;
    if (saved_count > 0)
        memcpy(saved, ctx->errs, sizeof saved);
    if (!module)
        module = "agentc";

    agc_buf b, line;
    agc_buf_init(&b, ctx, 64 * 1024);
    agc_buf_init(&line, ctx, 80 * 1024);
    char *clean = NULL, *mod_clean = NULL;
    size_t clean_len = 0, mod_len = 0;
    va_list ap2;
    va_copy(ap2, ap);
    agc_status s = agc_buf_vprintf(&b, fmt, ap);
    if (s == AGC_ELIMIT) { /* over-long message: keep a prefix (redacted below) */
        agc_buf_clear(&b);
        char head[4096];
        vsnprintf(head, sizeof head, fmt, ap2);
        s = agc_buf_printf(&b, "%s... (truncated)", head);
        agc_memzero(head, sizeof head);
    }
    va_end(ap2);
    if (s == AGC_OK)
        s = agc_redact(&clean, &clean_len, agc_buf_cstr(&b), b.len, ctx);
    if (s == AGC_OK)
        s = agc_redact(&mod_clean, &mod_len, module, strlen(module), ctx);
    if (s == AGC_OK)
        s = build_line(&line, st, level, mod_clean, clean, clean_len, ctx);
    if (s == AGC_OK) {
        if (st && st->fn) {
            st->busy = true;
            st->fn(level, agc_buf_cstr(&line), line.len, st->user);
            st->busy = false;
        } else {
            FILE *f = st && st->file ? st->file : stderr;
            fwrite(agc_buf_cstr(&line), 1, line.len, f);
            fputc('\n', f);
            fflush(f);
        }
    }
    if (b.data)
        agc_memzero(b.data, b.len); /* the unredacted text */
    agc_buf_free(&b);
    agc_buf_free(&line);
    agc_free(ctx, clean);
    agc_free(ctx, mod_clean);
    /* restore unconditionally: even a written line may have met a recovered error */
    ctx->err_count = saved_count;
    ctx->err_top = saved_top;
    if (saved_count > 0)
        memcpy(ctx->errs, saved, sizeof saved);
}

void agc_log(agc_ctx *ctx, agc_log_level level, const char *module, const char *fmt, ...)
{
    if (!agc_log_enabled(ctx, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    agc_logv(ctx, level, module, fmt, ap);
    va_end(ap);
}
