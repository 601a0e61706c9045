/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * SSE parsing throughput: an OpenAI-style chat stream (many small "data:"
 * events of JSON deltas, fed in TCP-sized chunks) and large events (256 KiB
 * payloads, single-line and multi-line, fed in 16 KiB chunks). Prints MB/s
 * and events/s only; asserts nothing about time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentc/buf.h"
#include "agentc/sse.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static agc_status count_event(const agc_sse_event *ev, void *user)
{
    size_t *bytes = user;
    *bytes += ev->data_len;
    return AGC_OK;
}

static const char *WORDS[] = {"Hello",     " world",  ",",     " this",        " is",     " a",
                              " streamed", " answer", " with", " caf\xC3\xA9", " tokens", "."};

static int build_chat(agc_buf *b, size_t target)
{
    unsigned i = 0;
    while (b->len < target) {
        if (agc_buf_printf(b,
                           "data: {\"id\":\"chatcmpl-9xYzAbCdEfGh\",\"object\":\"chat.completion."
                           "chunk\",\"created\":1732370985,\"model\":\"gpt-4o-2024-08-06\","
                           "\"system_fingerprint\":\"fp_45c6de4934\",\"choices\":[{\"index\":0,"
                           "\"delta\":{\"content\":\"%s\"},\"logprobs\":null,\"finish_reason\":"
                           "null}]}\n\n",
                           WORDS[i++ % (sizeof WORDS / sizeof *WORDS)]) != AGC_OK)
            return -1;
    }
    return agc_buf_puts(b, "data: [DONE]\n\n") == AGC_OK ? 0 : -1;
}

static int build_large(agc_buf *b, size_t target, int multiline)
{
    char line[1024];
    memset(line, 'q', sizeof line);
    while (b->len < target) {
        if (agc_buf_puts(b, "event: blob\ndata: ") != AGC_OK)
            return -1;
        for (int i = 0; i < 256; i++) { /* 256 KiB payload */
            if (agc_buf_append(b, line, sizeof line) != AGC_OK)
                return -1;
            if (multiline && i % 16 == 15 && agc_buf_puts(b, "\ndata: ") != AGC_OK)
                return -1;
        }
        if (agc_buf_puts(b, "\n\n") != AGC_OK)
            return -1;
    }
    return 0;
}

static int run(const char *name, const agc_buf *stream, size_t chunk, agc_ctx *ctx)
{
    size_t data_bytes = 0;
    agc_sse_parser *p = NULL;
    if (agc_sse_parser_new(&p, count_event, &data_bytes, 0, ctx) != AGC_OK)
        return -1;
    double t0 = now_s(), el = 0;
    size_t total = 0;
    uint64_t events = 0;
    do {
        for (size_t off = 0; off < stream->len; off += chunk) {
            size_t n = stream->len - off < chunk ? stream->len - off : chunk;
            if (agc_sse_feed(p, stream->data + off, n) != AGC_OK) {
                fprintf(stderr, "bench_sse: %s\n", agc_ctx_errmsg(ctx));
                agc_sse_parser_free(p);
                return -1;
            }
        }
        if (agc_sse_finish(p) != AGC_OK) {
            fprintf(stderr, "bench_sse: %s\n", agc_ctx_errmsg(ctx));
            agc_sse_parser_free(p);
            return -1;
        }
        total += stream->len;
        el = now_s() - t0;
    } while (el < 0.5);
    events = agc_sse_event_count(p);
    printf("%-28s %8.1f MB/s  %10.0f events/s  (chunks of %zu bytes)\n", name,
           (double)total / el / 1e6, (double)events / el, chunk);
    agc_sse_parser_free(p);
    return 0;
}

int main(void)
{
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    agc_buf chat, big1, bigm;
    agc_buf_init(&chat, ctx, 0);
    agc_buf_init(&big1, ctx, 0);
    agc_buf_init(&bigm, ctx, 0);
    int rc = 0;
    if (build_chat(&chat, 4u << 20) || build_large(&big1, 8u << 20, 0) ||
        build_large(&bigm, 8u << 20, 1)) {
        fprintf(stderr, "bench_sse: out of memory building the input\n");
        rc = 1;
    }
    if (!rc)
        rc = run("chat stream (small events)", &chat, 1400, ctx) ||
             run("chat stream (small events)", &chat, 16384, ctx) ||
             run("large events, one line", &big1, 16384, ctx) ||
             run("large events, multi-line", &bigm, 16384, ctx);
    agc_buf_free(&chat);
    agc_buf_free(&big1);
    agc_buf_free(&bigm);
    agc_ctx_free(ctx);
    return rc ? 1 : 0;
}
