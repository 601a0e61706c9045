/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Example agentc tool: an HTTP fetcher. Its JSON arguments are the request
 * ({"url": "...", "method": "GET", "headers": {...}, "body": "..."}); the
 * host makes it only if the tool's policy lists the host, port and method
 * (allowed_hosts), adds any configured secret header itself, and hands back
 * {"status", "headers", "body"} or {"error", "code"}, which becomes the
 * tool's result. The tool never holds a socket or a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/guest.h"

int main(void)
{
    char *req = agentc_input();
    if (!req)
        return 1;
    int err = 0;
    char *reply = agentc_http(req, &err);
    free(req);
    if (!reply) {
        char msg[96];
        snprintf(msg, sizeof msg, "{\"error\": \"HTTP is not available to this tool (%d)\"}", err);
        agentc_log_str(AGENTC_LOG_WARN, msg);
        agentc_output(msg);
        return 1;
    }
    if (strstr(reply, "\"error\"") && !strstr(reply, "\"status\""))
        agentc_log_str(AGENTC_LOG_WARN, reply);
    agentc_output(reply);
    free(reply);
    return 0;
}
