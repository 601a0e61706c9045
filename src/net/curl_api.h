/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libcurl, loaded at first use. The library is not linked: libcurl.so.4 and
 * its ~30 dependencies cost ~12 ms at every process start. Include this
 * instead of <curl/curl.h>: types and constants come from the Debian
 * headers; each curl_* call goes through a table filled once per process by
 * agc_net__curl_load(). Call nothing here before a successful load. The
 * variadic setters are replaced by typed wrappers (no gcc typecheck macros).
 */
#ifndef AGC_NET_CURL_API_H
#define AGC_NET_CURL_API_H

#include <assert.h>

#include <curl/curl.h>

#include "agentc/common.h"

/* gcc's type-checking macros would call libcurl directly: typed wrappers below */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt

/* Every libcurl function the net module calls. */
#define AGC_NET__CURL_FUNCS(X)                                                                     \
    X(curl_version_info)                                                                           \
    X(curl_global_init)                                                                            \
    X(curl_free)                                                                                   \
    X(curl_easy_init)                                                                              \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_strerror)                                                                          \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)                                                                         \
    X(curl_url)                                                                                    \
    X(curl_url_set)                                                                                \
    X(curl_url_get)                                                                                \
    X(curl_url_cleanup)                                                                            \
    X(curl_url_strerror)                                                                           \
    X(curl_multi_init)                                                                             \
    X(curl_multi_setopt)                                                                           \
    X(curl_multi_add_handle)                                                                       \
    X(curl_multi_remove_handle)                                                                    \
    X(curl_multi_perform)                                                                          \
    X(curl_multi_poll)                                                                             \
    X(curl_multi_wakeup)                                                                           \
    X(curl_multi_info_read)                                                                        \
    X(curl_multi_strerror)                                                                         \
    X(curl_multi_cleanup)

/* The table: one pointer per function, typed from the header's prototype. */
#define AGC_NET__CURL_FIELD(name) __typeof__(&name) name;
typedef struct agc_net__curl_fns {
    AGC_NET__CURL_FUNCS(AGC_NET__CURL_FIELD)
} agc_net__curl_fns;
#undef AGC_NET__CURL_FIELD

/* Oldest libcurl accepted: 7.85.0 brought CURLOPT_PROTOCOLS_STR (the newest
 * feature used; curl_multi_poll is 7.66, curl_multi_wakeup 7.68). */
#define AGC_NET__CURL_MIN_VERSION_NUM 0x075500
#define AGC_NET__CURL_MIN_VERSION     "7.85.0"
#define AGC_NET__CURL_SONAME          "libcurl.so.4"
#define AGC_NET__CURL_PACKAGE         "libcurl4"

/*
 * Loads libcurl and runs curl_global_init(), once per process (pthread_once;
 * later calls only report the first outcome). On failure the ctx gets the
 * message: AGC_ENOTFOUND (libcurl.so.4 missing: names the package to
 * install), AGC_EUNSUPPORTED (too old: a function is missing or the version
 * is below 7.85.0), AGC_ENET (curl_global_init failed). Thread-safe.
 */
agc_status agc_net__curl_load(agc_ctx *ctx);

/* The loaded table (valid only after agc_net__curl_load returned AGC_OK). */
const agc_net__curl_fns *agc_net__curl(void);

/* ---- typed replacements for the variadic setters and getters ---- */

static inline CURLcode agc_net__easy_setopt_long(CURL *e, CURLoption o, long v)
{
    assert(o < CURLOPTTYPE_OBJECTPOINT);
    return agc_net__curl()->curl_easy_setopt(e, o, v);
}

/* Strings (copied by curl), object pointers and slists. */
static inline CURLcode agc_net__easy_setopt_ptr(CURL *e, CURLoption o, const void *v)
{
    assert(o >= CURLOPTTYPE_OBJECTPOINT && o < CURLOPTTYPE_FUNCTIONPOINT);
    return agc_net__curl()->curl_easy_setopt(e, o, v);
}

/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION. */
static inline CURLcode agc_net__easy_setopt_write_fn(CURL *e, CURLoption o, curl_write_callback v)
{
    assert(o == CURLOPT_WRITEFUNCTION || o == CURLOPT_HEADERFUNCTION);
    return agc_net__curl()->curl_easy_setopt(e, o, v);
}

static inline CURLcode agc_net__easy_setopt_off(CURL *e, CURLoption o, curl_off_t v)
{
    assert(o >= CURLOPTTYPE_OFF_T && o < CURLOPTTYPE_BLOB);
    return agc_net__curl()->curl_easy_setopt(e, o, v);
}

static inline CURLcode agc_net__easy_getinfo_long(CURL *e, CURLINFO i, long *out)
{
    assert((i & CURLINFO_TYPEMASK) == CURLINFO_LONG);
    return agc_net__curl()->curl_easy_getinfo(e, i, out);
}

static inline CURLcode agc_net__easy_getinfo_str(CURL *e, CURLINFO i, char **out)
{
    assert((i & CURLINFO_TYPEMASK) == CURLINFO_STRING);
    return agc_net__curl()->curl_easy_getinfo(e, i, out);
}

static inline CURLMcode agc_net__multi_setopt_long(CURLM *m, CURLMoption o, long v)
{
    assert(o < CURLOPTTYPE_OBJECTPOINT);
    return agc_net__curl()->curl_multi_setopt(m, o, v);
}

/* ---- every other call goes through the table under its own name ---- */

#ifndef AGC_NET__CURL_API_IMPL /* curl_api.c needs the plain names */
#define curl_easy_setopt  agc_net__use_the_typed_easy_setopt_wrappers
#define curl_easy_getinfo agc_net__use_the_typed_easy_getinfo_wrappers
#define curl_multi_setopt agc_net__use_the_typed_multi_setopt_wrapper

#define curl_version_info        (agc_net__curl()->curl_version_info)
#define curl_global_init         (agc_net__curl()->curl_global_init)
#define curl_free                (agc_net__curl()->curl_free)
#define curl_easy_init           (agc_net__curl()->curl_easy_init)
#define curl_easy_cleanup        (agc_net__curl()->curl_easy_cleanup)
#define curl_easy_strerror       (agc_net__curl()->curl_easy_strerror)
#define curl_slist_append        (agc_net__curl()->curl_slist_append)
#define curl_slist_free_all      (agc_net__curl()->curl_slist_free_all)
#define curl_url                 (agc_net__curl()->curl_url)
#define curl_url_set             (agc_net__curl()->curl_url_set)
#define curl_url_get             (agc_net__curl()->curl_url_get)
#define curl_url_cleanup         (agc_net__curl()->curl_url_cleanup)
#define curl_url_strerror        (agc_net__curl()->curl_url_strerror)
#define curl_multi_init          (agc_net__curl()->curl_multi_init)
#define curl_multi_add_handle    (agc_net__curl()->curl_multi_add_handle)
#define curl_multi_remove_handle (agc_net__curl()->curl_multi_remove_handle)
#define curl_multi_perform       (agc_net__curl()->curl_multi_perform)
#define curl_multi_poll          (agc_net__curl()->curl_multi_poll)
#define curl_multi_wakeup        (agc_net__curl()->curl_multi_wakeup)
#define curl_multi_info_read     (agc_net__curl()->curl_multi_info_read)
#define curl_multi_strerror      (agc_net__curl()->curl_multi_strerror)
#define curl_multi_cleanup       (agc_net__curl()->curl_multi_cleanup)
#endif

#endif
