/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * SIGPIPE guard for the calling thread. libcurl, with CURLOPT_NOSIGNAL set
 * (needed in threaded programs), no longer shields TLS writes to a closed
 * socket from SIGPIPE, which would kill the process. The guard blocks
 * SIGPIPE for this thread only and swallows one raised meanwhile, like
 * libpq does; it never touches the process-wide disposition.
 */
#include <signal.h>
#include <time.h>

#include "http_int.h"

void agc_http__sigpipe_block(agc_http__sigpipe *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

void agc_http__sigpipe_unblock(agc_http__sigpipe *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        (void)sigtimedwait(&set, NULL, &zero); /* ours: consume it */
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}
