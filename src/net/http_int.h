/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * net internals shared by the HTTP client and server: building header lists.
 * A list owns copies of its names and values and caps their total size.
 */
#ifndef AGC_NET_HTTP_INT_H
#define AGC_NET_HTTP_INT_H

#include <signal.h>

#include "agentc/http.h"

/* Creates an empty list; max_bytes caps the sum of name and value lengths. */
agc_status agc_http__headers_new(agc_http_headers **out, size_t max_bytes, agc_ctx *ctx);
/* Appends a copy of one header. AGC_ENOMEM, AGC_ELIMIT (message set). */
agc_status agc_http__headers_add(agc_http_headers *h, const char *name, size_t name_len,
                                 const char *value, size_t value_len);
/* Appends " " + more to the last value (an obsolete folded line). */
agc_status agc_http__headers_extend_last(agc_http_headers *h, const char *more, size_t len);
/* Forgets every entry, keeping the list. */
void agc_http__headers_clear(agc_http_headers *h);
/* Frees the list; NULL is a no-op. */
void agc_http__headers_free(agc_http_headers *h);

/* Whether s (len bytes) holds CR, LF or NUL (header injection). */
bool agc_http__has_line_break(const char *s, size_t len);

/* Blocks SIGPIPE for the calling thread around libcurl calls (sigpipe.c);
 * unblock swallows a SIGPIPE raised in between. */
typedef struct agc_http__sigpipe {
    sigset_t old;
    bool was_pending;
} agc_http__sigpipe;
void agc_http__sigpipe_block(agc_http__sigpipe *g);
void agc_http__sigpipe_unblock(agc_http__sigpipe *g);

/* Client internals for the blocking wrapper (http_sync.c). */
/* Runs the client until *until is true (the request whose callbacks get user
 * is done). If the loop itself fails, that request is ended with the
 * failure. AGC_EUSAGE from inside the loop. */
agc_status agc_http__run_until(agc_http_client *c, const bool *until, const void *user);
/* Takes the response headers from a request (on_done): the caller frees them. */
agc_http_headers *agc_http__req_take_headers(agc_http_req *req);
agc_ctx *agc_http__client_ctx(const agc_http_client *c);
/* Whether the client's loop or one of its callbacks is running. */
bool agc_http__client_busy(const agc_http_client *c);

#endif
