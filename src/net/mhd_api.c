/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Loads libmicrohttpd at the first agc_http_server_new(), not at process
 * start. Process-wide state, written once under pthread_once and immutable
 * after: the function table, the outcome and its message. The library is
 * never dlclosed: server threads and GnuTLS (loaded with it) keep
 * thread-local state and atexit handlers that need its code mapped.
 */
#define AGC_NET__MHD_API_IMPL
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "dynlib.h"
#include "mhd_api.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static agc_net__mhd_fns g_fns;
static agc_status g_status = AGC_ERROR;
static char g_msg[512];

#define AGC_NET__MHD_SLOT(name) {#name, offsetof(agc_net__mhd_fns, name)},
static const agc_net__dlsym_slot g_slots[] = {AGC_NET__MHD_FUNCS(AGC_NET__MHD_SLOT)};
#undef AGC_NET__MHD_SLOT

static agc_status load(void)
{
    void *lib = agc_net__dlopen(AGC_NET__MHD_SONAME, AGC_NET__MHD_PACKAGE, g_msg, sizeof g_msg);
    if (!lib)
        return AGC_ENOTFOUND;
    agc_net__mhd_fns fns;
    if (!agc_net__dlsym_all(lib, AGC_NET__MHD_SONAME, g_slots, sizeof g_slots / sizeof g_slots[0],
                            &fns, g_msg, sizeof g_msg))
        return AGC_EUNSUPPORTED;
    const char *v = fns.MHD_get_version();
    if (!v || agc_net__version_cmp(v, AGC_NET__MHD_MIN_VERSION) < 0) {
        snprintf(g_msg, sizeof g_msg,
                 "%s is version %s; agentc needs libmicrohttpd %s or newer: upgrade %s",
                 AGC_NET__MHD_SONAME, v ? v : "unknown", AGC_NET__MHD_MIN_VERSION,
                 AGC_NET__MHD_PACKAGE);
        return AGC_EUNSUPPORTED;
    }
    g_fns = fns;
    return AGC_OK;
}

static void load_once(void)
{
    g_status = load();
}

agc_status agc_net__mhd_load(agc_ctx *ctx)
{
    pthread_once(&g_once, load_once);
    if (g_status != AGC_OK)
        return agc_error_set(ctx, g_status, "http_server", "%s", g_msg);
    return AGC_OK;
}

const agc_net__mhd_fns *agc_net__mhd(void)
{
    return &g_fns;
}
