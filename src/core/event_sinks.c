/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Event sink backends: JSONL to a stream or an append-only file, a callback,
 * and an in-memory recorder. Every JSONL line goes through agc_redact()
 * before it is written, so registered secrets never reach an events file.
 * A backend reports a failed event with an error on its ctx and a status;
 * it never retries and never stops the bus.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/event.h"
#include "agentc/json.h"
#include "agentc/redact.h"

void *agc__event_sink_self(const agc_event_sink *sink, const agc_event_sink_ops *ops);

/* ---- serialisation -------------------------------------------------------- */

/* Appends s as a JSON string; bytes >= 0x80 pass through (UTF-8 stays UTF-8). */
static agc_status put_str(agc_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    agc_status st = agc_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; st == AGC_OK && *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            st = agc_buf_append(b, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            st = agc_buf_append(b, esc, 6);
        } else {
            st = agc_buf_putc(b, (char)*p);
        }
    }
    return st == AGC_OK ? agc_buf_putc(b, '"') : st;
}

static agc_status put_member(agc_buf *b, const char *key, const char *value)
{
    if (!value)
        return AGC_OK;
    agc_status st = agc_buf_printf(b, ",\"%s\":", key);
    return st == AGC_OK ? put_str(b, value) : st;
}

agc_status agc_event_to_jsonl(char **out, size_t *out_len, const agc_event *ev, agc_ctx *ctx)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    char when[40];
    agc_time_format_rfc3339(ev->time_ms, when, sizeof when);
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    agc_status st = agc_buf_printf(
        &b, "{\"seq\":%llu,\"time\":\"%s\",\"type\":", (unsigned long long)ev->seq, when);
    if (st == AGC_OK)
        st = put_str(&b, ev->name ? ev->name : agc_event_type_name(ev->type));
    if (st == AGC_OK)
        st = put_member(&b, "run_id", ev->run_id);
    if (st == AGC_OK)
        st = put_member(&b, "agent", ev->agent);
    if (st == AGC_OK)
        st = agc_buf_puts(&b, ",\"data\":");
    if (st == AGC_OK && ev->data) {
        char *data = NULL;
        size_t len = 0;
        st = agc_json_canonical(&data, &len, ev->data, ctx);
        if (st == AGC_OK)
            st = agc_buf_append(&b, data, len);
        agc_free(ctx, data);
    } else if (st == AGC_OK) {
        st = agc_buf_puts(&b, "{}");
    }
    if (st == AGC_OK)
        st = agc_buf_puts(&b, "}\n");
    if (st == AGC_OK)
        st = agc_redact(out, out_len, agc_buf_cstr(&b), b.len, ctx);
    agc_buf_free(&b);
    return st;
}

/* ---- JSONL sinks ---------------------------------------------------------- */

typedef struct jsonl_sink {
    agc_ctx *ctx;
    FILE *stream; /* stream sink: the caller's */
    int fd;       /* file sink: ours; -1 for a stream sink */
    bool fsync;
    bool need_nl; /* a partial line was written: start the next one on a new line */
    char *path;   /* for messages; NULL for a stream */
} jsonl_sink;

void agc_event_jsonl_opts_init(agc_event_jsonl_opts *opts)
{
    agc_event_jsonl_opts d = AGC_EVENT_JSONL_OPTS_INIT;
    *opts = d;
}

static const char *where(const jsonl_sink *j)
{
    return j->path ? j->path : "the event stream";
}

/* fsync, ignoring descriptors that cannot be synced (pipes, terminals). */
static agc_status sync_fd(jsonl_sink *j, int fd)
{
    if (fd < 0 || fsync(fd) == 0 || errno == EINVAL || errno == EROFS)
        return AGC_OK;
    return agc_error_set(j->ctx, AGC_EIO, "event", "cannot sync %s: %s", where(j), strerror(errno));
}

static agc_status write_all(jsonl_sink *j, const char *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(j->fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            if (done > 0)
                j->need_nl = true;
            return agc_error_set(j->ctx, AGC_EIO, "event", "cannot write an event to %s: %s",
                                 where(j), strerror(e));
        }
        done += (size_t)n;
    }
    return AGC_OK;
}

static agc_status write_stream(jsonl_sink *j, const char *p, size_t len)
{
    errno = 0;
    size_t n = fwrite(p, 1, len, j->stream);
    if (n == len && fflush(j->stream) == 0)
        return AGC_OK;
    int e = errno ? errno : EIO;
    clearerr(j->stream);
    if (n > 0)
        j->need_nl = true;
    return agc_error_set(j->ctx, AGC_EIO, "event", "cannot write an event to %s: %s", where(j),
                         strerror(e));
}

static agc_status jsonl_emit(void *self, const agc_event *ev)
{
    jsonl_sink *j = self;
    char *line = NULL;
    size_t len = 0;
    agc_status st = agc_event_to_jsonl(&line, &len, ev, j->ctx);
    if (st != AGC_OK)
        return agc_error_wrap(j->ctx, AGC_OK, "event", "cannot format event #%llu for %s",
                              (unsigned long long)ev->seq, where(j));
    if (j->need_nl) {
        st = j->stream ? write_stream(j, "\n", 1) : write_all(j, "\n", 1);
        if (st == AGC_OK)
            j->need_nl = false;
    }
    if (st == AGC_OK)
        st = j->stream ? write_stream(j, line, len) : write_all(j, line, len);
    if (st == AGC_OK && j->fsync)
        st = sync_fd(j, j->stream ? fileno(j->stream) : j->fd);
    agc_free(j->ctx, line);
    return st;
}

static agc_status jsonl_flush(void *self)
{
    jsonl_sink *j = self;
    if (j->stream && fflush(j->stream) != 0) {
        int e = errno;
        clearerr(j->stream);
        return agc_error_set(j->ctx, AGC_EIO, "event", "cannot flush %s: %s", where(j),
                             strerror(e));
    }
    return AGC_OK;
}

static void jsonl_destroy(void *self)
{
    jsonl_sink *j = self;
    if (j->fd >= 0)
        close(j->fd);
    agc_free(j->ctx, j->path);
    agc_free(j->ctx, j);
}

static const agc_event_sink_ops jsonl_ops = {
    AGC_EVENT_SINK_OPS_VERSION,
    jsonl_emit,
    jsonl_flush,
    jsonl_destroy,
};

static agc_status jsonl_new(agc_event_sink **out, jsonl_sink **jout,
                            const agc_event_jsonl_opts *opts, agc_ctx *ctx)
{
    *out = NULL;
    *jout = NULL;
    agc_event_jsonl_opts o = AGC_EVENT_JSONL_OPTS_INIT;
    if (opts) {
        if (opts->version != AGC_EVENT_JSONL_OPTS_VERSION)
            return agc_error_set(ctx, AGC_EINVAL, "event",
                                 "agc_event_jsonl_opts version %u is unknown; use "
                                 "AGC_EVENT_JSONL_OPTS_INIT",
                                 opts->version);
        o = *opts;
    }
    jsonl_sink *j = agc_calloc(ctx, 1, sizeof *j);
    if (!j)
        return AGC_ENOMEM;
    j->ctx = ctx;
    j->fd = -1;
    j->fsync = o.fsync;
    agc_status st = agc_event_sink_new(out, &jsonl_ops, j, ctx);
    if (st != AGC_OK) {
        agc_free(ctx, j);
        return st;
    }
    *jout = j;
    return AGC_OK;
}

agc_status agc_event_sink_jsonl_stream(agc_event_sink **out, FILE *stream,
                                       const agc_event_jsonl_opts *opts, agc_ctx *ctx)
{
    jsonl_sink *j;
    agc_status st = jsonl_new(out, &j, opts, ctx);
    if (st == AGC_OK)
        j->stream = stream;
    return st;
}

agc_status agc_event_sink_jsonl_open(agc_event_sink **out, const char *path,
                                     const agc_event_jsonl_opts *opts, agc_ctx *ctx)
{
    jsonl_sink *j;
    agc_status st = jsonl_new(out, &j, opts, ctx);
    if (st != AGC_OK)
        return st;
    j->path = agc_strdup(ctx, path);
    if (!j->path) {
        agc_event_sink_free(*out);
        *out = NULL;
        return AGC_ENOMEM;
    }
    j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        int e = errno;
        agc_event_sink_free(*out);
        *out = NULL;
        return agc_error_set(ctx, AGC_EIO, "event", "cannot open events file %s: %s", path,
                             strerror(e));
    }
    return AGC_OK;
}

/* ---- callback sink -------------------------------------------------------- */

typedef struct cb_sink {
    agc_ctx *ctx;
    agc_event_fn fn;
    void *user;
} cb_sink;

static agc_status cb_emit(void *self, const agc_event *ev)
{
    cb_sink *c = self;
    c->fn(ev, c->user);
    return AGC_OK;
}

static void cb_destroy(void *self)
{
    cb_sink *c = self;
    agc_free(c->ctx, c);
}

static const agc_event_sink_ops cb_ops = {AGC_EVENT_SINK_OPS_VERSION, cb_emit, NULL, cb_destroy};

agc_status agc_event_sink_callback(agc_event_sink **out, agc_event_fn fn, void *user, agc_ctx *ctx)
{
    *out = NULL;
    if (!fn)
        return agc_error_set(ctx, AGC_EINVAL, "event", "event callback sink needs a function");
    cb_sink *c = agc_calloc(ctx, 1, sizeof *c);
    if (!c)
        return AGC_ENOMEM;
    c->ctx = ctx;
    c->fn = fn;
    c->user = user;
    agc_status st = agc_event_sink_new(out, &cb_ops, c, ctx);
    if (st != AGC_OK)
        agc_free(ctx, c);
    return st;
}

/* ---- memory sink ---------------------------------------------------------- */

typedef struct mem_sink {
    agc_ctx *ctx;
    agc_event **evs; /* each event and its strings in one block */
    size_t n, cap;
} mem_sink;

static void mem_event_free(agc_ctx *ctx, agc_event *ev)
{
    json_decref((json_t *)ev->data);
    agc_free(ctx, ev);
}

static char *put_copy(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *dst = *cursor;
    memcpy(dst, s, n);
    *cursor += n;
    return dst;
}

static agc_status mem_emit(void *self, const agc_event *ev)
{
    mem_sink *m = self;
    agc_ctx *ctx = m->ctx;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        agc_event **evs = agc_realloc(ctx, m->evs, cap * sizeof *evs);
        if (!evs)
            return agc_error_set(ctx, AGC_ENOMEM, "event", "out of memory recording an event");
        m->evs = evs;
        m->cap = cap;
    }
    const char *name = ev->name ? ev->name : agc_event_type_name(ev->type);
    size_t strs = strlen(name) + 1 + (ev->run_id ? strlen(ev->run_id) + 1 : 0) +
                  (ev->agent ? strlen(ev->agent) + 1 : 0);
    agc_event *copy = agc_malloc(ctx, sizeof *copy + strs);
    if (!copy)
        return agc_error_set(ctx, AGC_ENOMEM, "event", "out of memory recording an event");
    *copy = *ev;
    char *cursor = (char *)(copy + 1);
    copy->name = put_copy(&cursor, name);
    copy->run_id = put_copy(&cursor, ev->run_id);
    copy->agent = put_copy(&cursor, ev->agent);
    copy->data = NULL;
    if (ev->data) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_t *data = json_deep_copy(ev->data);
        bool oom = agc_json_oom(ctx);
        agc_json_leave(prev);
        if (!data || oom) {
            json_decref(data);
            agc_free(ctx, copy);
            return agc_error_set(ctx, AGC_ENOMEM, "event", "out of memory recording an event");
        }
        copy->data = data;
    }
    m->evs[m->n++] = copy;
    return AGC_OK;
}

static void mem_clear(mem_sink *m)
{
    for (size_t i = 0; i < m->n; i++)
        mem_event_free(m->ctx, m->evs[i]);
    m->n = 0;
}

static void mem_destroy(void *self)
{
    mem_sink *m = self;
    mem_clear(m);
    agc_free(m->ctx, m->evs);
    agc_free(m->ctx, m);
}

static const agc_event_sink_ops mem_ops = {AGC_EVENT_SINK_OPS_VERSION, mem_emit, NULL, mem_destroy};

agc_status agc_event_sink_memory(agc_event_sink **out, agc_ctx *ctx)
{
    *out = NULL;
    mem_sink *m = agc_calloc(ctx, 1, sizeof *m);
    if (!m)
        return AGC_ENOMEM;
    m->ctx = ctx;
    agc_status st = agc_event_sink_new(out, &mem_ops, m, ctx);
    if (st != AGC_OK)
        agc_free(ctx, m);
    return st;
}

size_t agc_event_memory_count(const agc_event_sink *sink)
{
    const mem_sink *m = agc__event_sink_self(sink, &mem_ops);
    return m ? m->n : 0;
}

const agc_event *agc_event_memory_get(const agc_event_sink *sink, size_t i)
{
    const mem_sink *m = agc__event_sink_self(sink, &mem_ops);
    return m && i < m->n ? m->evs[i] : NULL;
}

void agc_event_memory_clear(agc_event_sink *sink)
{
    mem_sink *m = agc__event_sink_self(sink, &mem_ops);
    if (m)
        mem_clear(m);
}
