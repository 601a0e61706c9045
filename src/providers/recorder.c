/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The recorder: a provider backend that forwards each chat to an inner
 * provider (with the inner's retries) and appends the exchange to a cassette
 * as one JSONL line (docs/cassettes.md): the normalised request, the
 * response or the final error, whether it streamed, and the latency. Every
 * line passes through agc_redact before it is written, so registered secrets
 * never reach the file; the request form carries no headers or keys at all.
 * It does not retry on its own and never closes the inner provider.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "provider_int.h"

typedef struct recorder {
    agc_ctx *ctx;
    agc_provider *inner;
    char *path;
    int fd;
} recorder;

static void rec_destroy(void *self)
{
    recorder *r = self;
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    agc_free(r->ctx, r->path);
    agc_free(r->ctx, r);
}

static void rec_cancel(void *self)
{
    recorder *r = self;
    agc_provider_cancel(r->inner);
}

/* The HTTP status named in an error text ("... HTTP 429 ..."), or 0. */
static int status_in(const char *msg)
{
    for (const char *p = strstr(msg, "HTTP "); p; p = strstr(p + 1, "HTTP ")) {
        const char *d = p + 5;
        if (d[0] >= '1' && d[0] <= '5' && d[1] >= '0' && d[1] <= '9' && d[2] >= '0' &&
            d[2] <= '9' && (d[3] < '0' || d[3] > '9'))
            return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    }
    return 0;
}

/* Builds the line's JSON object (new reference) or NULL on OOM. */
static json_t *line_json(recorder *r, const agc_chat_request *req, const agc_chat_response *resp,
                         bool stream, agc_status st, const char *errmsg, double latency_ms)
{
    agc_ctx *ctx = r->ctx;
    json_t *reqj = agc_chat_request_to_json(req, ctx);
    json_t *respj = resp ? agc_chat_response_to_json(resp, ctx) : NULL;
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *errj = NULL;
    if (st != AGC_OK)
        errj = json_pack("{s:i, s:s, s:s}", "status", status_in(errmsg), "code",
                         agc_status_name(st), "message", errmsg);
    json_t *line = NULL;
    if (reqj && (respj || !resp) && (errj || st == AGC_OK))
        line = json_pack("{s:i, s:s, s:O, s:O?, s:b, s:O?, s:I}", "v", 1, "provider",
                         resp && resp->provider ? resp->provider : agc_provider_name(r->inner),
                         "request", reqj, "response", respj, "stream", stream, "error", errj,
                         "latency_ms", (json_int_t)(latency_ms + 0.5));
    json_decref(reqj);
    json_decref(respj);
    json_decref(errj);
    agc_json_leave(prev);
    return line;
}

/* Writes all of text + "\n" with one write when possible (O_APPEND keeps lines whole). */
static agc_status append_line(recorder *r, char *text, size_t len)
{
    text[len] = '\n'; /* the buffer has room: it held the NUL */
    size_t off = 0;
    while (off < len + 1) {
        ssize_t w = write(r->fd, text + off, len + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            text[len] = '\0';
            return agc_error_set(r->ctx, AGC_EIO, "recorder", "cannot append to cassette %s: %s",
                                 r->path, w < 0 ? strerror(errno) : "short write");
        }
        off += (size_t)w;
    }
    text[len] = '\0';
    return AGC_OK;
}

static agc_status record(recorder *r, const agc_chat_request *req, const agc_chat_response *resp,
                         bool stream, agc_status st, const char *errmsg, double latency_ms)
{
    agc_ctx *ctx = r->ctx;
    json_t *line = line_json(r, req, resp, stream, st, errmsg, latency_ms);
    if (!line)
        return agc_error_set(ctx, AGC_ENOMEM, "recorder", "out of memory recording an exchange");
    char *canon = NULL, *clean = NULL;
    size_t len = 0, clean_len = 0;
    agc_status ws = agc_json_canonical(&canon, &len, line, ctx);
    json_decref(line);
    if (ws == AGC_OK)
        ws = agc_redact(&clean, &clean_len, canon, len, ctx);
    agc_free(ctx, canon);
    if (ws == AGC_OK)
        ws = append_line(r, clean, clean_len);
    agc_free(ctx, clean);
    return ws;
}

static agc_status rec_chat(void *self, agc_chat_response **out, const agc_chat_request *req,
                           agc_delta_fn on_delta, void *user, agc_attempt *attempt, agc_ctx *ctx)
{
    recorder *r = self;
    attempt->http_status = 0; /* the inner provider retried already */
    int64_t t0 = agc_clock_monotonic_ns(ctx);
    agc_status st = agc_provider_chat(out, r->inner, req, on_delta, user);
    double latency = (double)(agc_clock_monotonic_ns(ctx) - t0) / 1e6;
    if (st == AGC_ECANCELED || st == AGC_ENOMEM)
        return st; /* not an outcome worth replaying */
    if (st == AGC_OK) {
        agc_status ws = record(r, req, *out, on_delta != NULL, st, NULL, latency);
        if (ws != AGC_OK) {
            agc_chat_response_free(*out);
            *out = NULL;
        }
        return ws;
    }
    /* keep the inner's error as the call's error, whatever recording does */
    char msg[1024];
    agc_error_format(ctx, msg, sizeof msg);
    agc_status ws = record(r, req, NULL, on_delta != NULL, st, msg, latency);
    if (ws != AGC_OK)
        agc_log(ctx, AGC_LOG_WARN, "recorder", "failed exchange not recorded: %s",
                agc_ctx_errmsg(ctx));
    const agc_error *e = agc_ctx_last_error(ctx);
    if (!e || e->code != st || strcmp(e->module, "recorder") == 0)
        agc_error_set(ctx, st, "provider", "%s", msg);
    return st;
}

static const agc_provider_ops rec_ops = {AGC_PROVIDER_OPS_VERSION, "recorder", rec_chat, rec_cancel,
                                         rec_destroy};

agc_status agc_provider_recorder_new(agc_provider **out, agc_provider *inner,
                                     const char *cassette_path, agc_ctx *ctx)
{
    *out = NULL;
    if (!inner || !cassette_path || !*cassette_path)
        return agc_error_set(ctx, AGC_EINVAL, "recorder",
                             "a recorder needs an inner provider and a cassette path");
    recorder *r = agc_calloc(ctx, 1, sizeof *r);
    if (!r)
        return AGC_ENOMEM;
    r->ctx = ctx;
    r->inner = inner;
    r->fd = -1;
    r->path = agc_strdup(ctx, cassette_path);
    if (!r->path) {
        rec_destroy(r);
        return AGC_ENOMEM;
    }
    r->fd = open(cassette_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (r->fd < 0) {
        int e = errno;
        rec_destroy(r);
        return agc_error_set(ctx, AGC_EIO, "recorder", "cannot open cassette %s for appending: %s",
                             cassette_path, strerror(e));
    }
    agc_provider_opts o = AGC_PROVIDER_OPTS_INIT;
    o.retry.max_attempts = 1;
    o.model = agc_provider_model(inner);
    return agc_provider_new(out, &rec_ops, r, &o, ctx);
}
