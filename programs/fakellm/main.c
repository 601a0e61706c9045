/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fakellm: the fault-injecting fake LLM server (docs/fakellm.md). Parses the
 * command line, loads the script, serves on 127.0.0.1 (by default) until
 * SIGTERM or SIGINT, then shuts down cleanly and exits 0. Its first stdout
 * line is "listening on http://HOST:PORT". Exit 2 for usage errors, 1 when it
 * cannot load the script or listen.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/json.h"
#include "fakellm.h"

static const char usage[] =
    "usage: fakellm [--script FILE | --script-json JSON] [--host 127.0.0.1] [--port 0]\n"
    "               [--port-file PATH]\n"
    "Serves scripted OpenAI and Anthropic replies; see docs/fakellm.md.\n";

typedef struct args {
    const char *script;
    const char *script_json;
    const char *host;
    long port;
    const char *port_file;
} args;

static int parse_args(args *a, int argc, char **argv)
{
    *a = (args){NULL, NULL, "127.0.0.1", 0, NULL};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage, stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "fakellm: %s needs a value or is unknown\n%s", o, usage);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(o, "--script")) {
            a->script = v;
        } else if (!strcmp(o, "--script-json")) {
            a->script_json = v;
        } else if (!strcmp(o, "--host")) {
            a->host = v;
        } else if (!strcmp(o, "--port-file")) {
            a->port_file = v;
        } else if (!strcmp(o, "--port")) {
            char *end;
            errno = 0;
            a->port = strtol(v, &end, 10);
            if (errno || *end || end == v || a->port < 0 || a->port > 65535) {
                fprintf(stderr, "fakellm: --port must be 0..65535, got '%s'\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "fakellm: unknown option %s\n%s", o, usage);
            return 2;
        }
    }
    if (a->script && a->script_json) {
        fprintf(stderr, "fakellm: give --script or --script-json, not both\n");
        return 2;
    }
    return 0;
}

static agc_status load_script(fakellm_script **out, const args *a, agc_ctx *ctx)
{
    json_t *doc = NULL;
    agc_status st;
    if (a->script)
        st = agc_json_load_file(&doc, a->script, ctx);
    else if (a->script_json)
        st = agc_json_parse(&doc, a->script_json, strlen(a->script_json), "--script-json", ctx);
    else
        st = agc_json_parse(&doc, "{\"replies\":[]}", 14, "<empty>", ctx);
    if (st)
        return st;
    st = fakellm_script_new(out, doc, a->script ? a->script : "<inline>", ctx);
    json_decref(doc);
    return st;
}

static int write_port_file(const char *path, unsigned port)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f)) {
        fprintf(stderr, "fakellm: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    int rc = parse_args(&a, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;

    /* Block the stop signals before any thread starts, then wait for them here. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL)) {
        fprintf(stderr, "fakellm: out of memory\n");
        return 1;
    }
    fakellm_script *script = NULL;
    fakellm_server *srv = NULL;
    char msg[1200];
    if (load_script(&script, &a, ctx) ||
        fakellm_server_new(&srv, script, a.host, (uint16_t)a.port, ctx)) {
        fprintf(stderr, "fakellm: %s\n", agc_error_format(ctx, msg, sizeof msg));
        fakellm_script_free(script);
        agc_ctx_free(ctx);
        return 1;
    }
    unsigned port = fakellm_server_port(srv);
    bool v6 = strchr(a.host, ':') != NULL;
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", a.host, v6 ? "]" : "", port);
    fflush(stdout);
    rc = a.port_file ? write_port_file(a.port_file, port) : 0;

    int sig = 0;
    while (!rc && sigwait(&stop, &sig) != 0) {
    }
    fakellm_server_free(srv);
    fakellm_script_free(script);
    agc_ctx_free(ctx);
    return rc;
}
