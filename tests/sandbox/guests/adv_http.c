/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Test guest for the HTTP ABI: the agentc input is a command line, not JSON:
 * "many N URL" (N GETs, prints how many got a status), "small URL" (a 16-byte
 * buffer: the -42 NOBUFS path, then the re-read), "fault" (a request pointer
 * out of bounds), "none" (a re-read with nothing pending).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/guest.h"

int main(void)
{
    char *in = agentc_input();
    char cmd[32] = {0}, url[1024] = {0};
    int n = 0;
    char req[1200], out[256];
    if (!in)
        return 1;
    if (sscanf(in, "many %d %1023s", &n, url) == 2) {
        int ok = 0;
        snprintf(req, sizeof req, "{\"url\": \"%s\"}", url);
        for (int i = 0; i < n; i++) {
            char *r = agentc_http(req, NULL);
            ok += r && strstr(r, "\"status\"") != NULL;
            free(r);
        }
        snprintf(out, sizeof out, "{\"ok\": %d}", ok);
    } else if (sscanf(in, "small %1023s", url) == 1) {
        char small[16];
        int len = 0;
        snprintf(req, sizeof req, "{\"url\": \"%s\"}", url);
        int rc = agentc_http_request(req, (int)strlen(req), small, sizeof small, &len);
        char *big = malloc((size_t)len + 1);
        int rc2 = agentc_http_request("", 0, big, len, &len);
        big[rc2 == 0 ? len : 0] = 0;
        snprintf(out, sizeof out, "{\"rc\": %d, \"rc2\": %d, \"has_status\": %d}", rc, rc2,
                 strstr(big, "\"status\":200") != NULL);
        free(big);
    } else if (sscanf(in, "%31s", cmd) == 1 && !strcmp(cmd, "fault")) {
        int len = 0;
        char buf[64];
        int rc = agentc_http_request((const char *)(size_t)0xFFFFFF00u, 4096, buf, 64, &len);
        snprintf(out, sizeof out, "{\"rc\": %d}", rc);
    } else if (!strcmp(cmd, "none")) {
        int len = 0;
        char buf[64];
        snprintf(out, sizeof out, "{\"rc\": %d}", agentc_http_request("", 0, buf, 64, &len));
    } else {
        snprintf(out, sizeof out, "{\"error\": \"unknown command\"}");
    }
    free(in);
    agentc_output(out);
    return 0;
}
