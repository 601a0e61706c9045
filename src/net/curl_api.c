/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Loads libcurl at the first agc_http_client_new(), not at process start.
 * Process-wide state, written once under pthread_once and immutable after:
 * the function table, the outcome and its message (like curl_global_init,
 * which runs in the same once). The library is never dlclosed: libcurl and
 * the TLS libraries under it register atexit handlers and thread-local
 * destructors that must find their code mapped until the process ends.
 */
#define AGC_NET__CURL_API_IMPL
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "curl_api.h"
#include "dynlib.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static agc_net__curl_fns g_fns;
static agc_status g_status = AGC_ERROR;
static char g_msg[512];

#define AGC_NET__CURL_SLOT(name) {#name, offsetof(agc_net__curl_fns, name)},
static const agc_net__dlsym_slot g_slots[] = {AGC_NET__CURL_FUNCS(AGC_NET__CURL_SLOT)};
#undef AGC_NET__CURL_SLOT

static agc_status load(void)
{
    void *lib = agc_net__dlopen(AGC_NET__CURL_SONAME, AGC_NET__CURL_PACKAGE, g_msg, sizeof g_msg);
    if (!lib)
        return AGC_ENOTFOUND;
    agc_net__curl_fns fns;
    if (!agc_net__dlsym_all(lib, AGC_NET__CURL_SONAME, g_slots, sizeof g_slots / sizeof g_slots[0],
                            &fns, g_msg, sizeof g_msg))
        return AGC_EUNSUPPORTED;
    const curl_version_info_data *vi = fns.curl_version_info(CURLVERSION_NOW);
    if (!vi || vi->version_num < AGC_NET__CURL_MIN_VERSION_NUM) {
        snprintf(g_msg, sizeof g_msg,
                 "%s is version %s; agentc needs libcurl %s or newer: upgrade %s",
                 AGC_NET__CURL_SONAME, vi && vi->version ? vi->version : "unknown",
                 AGC_NET__CURL_MIN_VERSION, AGC_NET__CURL_PACKAGE);
        return AGC_EUNSUPPORTED;
    }
    CURLcode rc = fns.curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(g_msg, sizeof g_msg, "libcurl could not be initialised: %s",
                 fns.curl_easy_strerror(rc));
        return AGC_ENET;
    }
    g_fns = fns;
    return AGC_OK;
}

static void load_once(void)
{
    g_status = load();
}

agc_status agc_net__curl_load(agc_ctx *ctx)
{
    pthread_once(&g_once, load_once);
    if (g_status != AGC_OK)
        return agc_error_set(ctx, g_status, "http", "%s", g_msg);
    return AGC_OK;
}

const agc_net__curl_fns *agc_net__curl(void)
{
    return &g_fns;
}
