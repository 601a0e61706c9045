/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libmicrohttpd, loaded at first use. The library is not linked: it pulls
 * in GnuTLS and p11-kit, whose loading costs milliseconds at every process
 * start, for a server most runs never start. Include this instead of
 * <microhttpd.h>: types and constants come from the Debian header; each
 * MHD_* call goes through a table filled once per process by
 * agc_net__mhd_load(). Call nothing here before a successful load.
 */
#ifndef AGC_NET_MHD_API_H
#define AGC_NET_MHD_API_H

#include <microhttpd.h>

#include "agentc/common.h"

/* Every libmicrohttpd function the net module calls. */
#define AGC_NET__MHD_FUNCS(X)                                                                      \
    X(MHD_get_version)                                                                             \
    X(MHD_start_daemon)                                                                            \
    X(MHD_stop_daemon)                                                                             \
    X(MHD_quiesce_daemon)                                                                          \
    X(MHD_get_daemon_info)                                                                         \
    X(MHD_create_response_from_buffer)                                                             \
    X(MHD_create_response_from_callback)                                                           \
    X(MHD_add_response_header)                                                                     \
    X(MHD_queue_response)                                                                          \
    X(MHD_destroy_response)                                                                        \
    X(MHD_get_connection_values)                                                                   \
    X(MHD_get_connection_info)

/* The table: one pointer per function, typed from the header's prototype. */
#define AGC_NET__MHD_FIELD(name) __typeof__(&name) name;
typedef struct agc_net__mhd_fns {
    AGC_NET__MHD_FUNCS(AGC_NET__MHD_FIELD)
} agc_net__mhd_fns;
#undef AGC_NET__MHD_FIELD

/* Oldest libmicrohttpd accepted: 0.9.71 (enum MHD_Result, the API used here). */
#define AGC_NET__MHD_MIN_VERSION "0.9.71"
#define AGC_NET__MHD_SONAME      "libmicrohttpd.so.12"
#define AGC_NET__MHD_PACKAGE     "libmicrohttpd12"

/*
 * Loads libmicrohttpd once per process (pthread_once; later calls only
 * report the first outcome). On failure the ctx gets the message:
 * AGC_ENOTFOUND (libmicrohttpd.so.12 missing: names the package to
 * install), AGC_EUNSUPPORTED (too old). Thread-safe.
 */
agc_status agc_net__mhd_load(agc_ctx *ctx);

/* The loaded table (valid only after agc_net__mhd_load returned AGC_OK). */
const agc_net__mhd_fns *agc_net__mhd(void);

#ifndef AGC_NET__MHD_API_IMPL /* mhd_api.c needs the plain names */
#define MHD_get_version                   (agc_net__mhd()->MHD_get_version)
#define MHD_start_daemon                  (agc_net__mhd()->MHD_start_daemon)
#define MHD_stop_daemon                   (agc_net__mhd()->MHD_stop_daemon)
#define MHD_quiesce_daemon                (agc_net__mhd()->MHD_quiesce_daemon)
#define MHD_get_daemon_info               (agc_net__mhd()->MHD_get_daemon_info)
#define MHD_create_response_from_buffer   (agc_net__mhd()->MHD_create_response_from_buffer)
#define MHD_create_response_from_callback (agc_net__mhd()->MHD_create_response_from_callback)
#define MHD_add_response_header           (agc_net__mhd()->MHD_add_response_header)
#define MHD_queue_response                (agc_net__mhd()->MHD_queue_response)
#define MHD_destroy_response              (agc_net__mhd()->MHD_destroy_response)
#define MHD_get_connection_values         (agc_net__mhd()->MHD_get_connection_values)
#define MHD_get_connection_info           (agc_net__mhd()->MHD_get_connection_info)
#endif

#endif
