/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc mcp serve|list|call`: serve agentc's tools over MCP (stdio or
 * Streamable HTTP), and use any MCP server from the command line. serve
 * builds its registry like `agentc run` does: the agent file's built-in
 * workspace tools (all of them without an agent file; run_command jailed as
 * always), the tools of its mcp_servers, and with --expose-agent the agent
 * itself as a tool. Tools whose approval is "never" are not served.
 * SERVER is a command line ("npx -y pkg", quoted words allowed) or an
 * http(s) URL. Exit codes: 0 ok, 1 failure (also a tool result with
 * isError), 2 usage.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_agent.h"
#include "agentc/mcp_http_server.h"
#include "agentc/runtime.h"
#include "agentc/workspace.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "mcp serve --stdio | --http 127.0.0.1:PORT [--agent AGENT_FILE] [--expose-agent] "             \
    "[--token T]\n"                                                                                \
    "       agentc mcp list SERVER [--json] [--header 'K: V'] [--token T] [--timeout S]\n"         \
    "       agentc mcp call SERVER TOOL [--args JSON] [--json] [--header 'K: V'] [--token T] "     \
    "[--timeout S]\n"                                                                              \
    "  SERVER is a command line (\"mcp-echo --page-size 2\") or an http(s):// URL"
#define MAX_HEADERS 16

typedef struct mcp_args {
    const char *sub;
    bool stdio, json, expose_agent;
    const char *http, *agent, *token, *args, *timeout;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
    const char *pos[2];
    size_t npos;
} mcp_args;

/* 0: go on; -1: --help printed; else an exit code. */
static int parse(mcp_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"stdio", no_argument, NULL, 's'},
        {"http", required_argument, NULL, 'H'},
        {"agent", required_argument, NULL, 'a'},
        {"expose-agent", no_argument, NULL, 'E'},
        {"token", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'J'},
        {"args", required_argument, NULL, 'A'},
        {"header", required_argument, NULL, 'h'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return agc_cli_usage(USAGE);
        printf("usage: agentc %s\n", USAGE);
        return -1;
    }
    a->sub = argv[1];
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1 || optind < argc) {
        if (c == -1) { /* a positional argument: take it and go on */
            if (a->npos == 2) {
                fprintf(stderr, "agentc: unexpected argument '%s'\n", argv[optind]);
                return agc_cli_usage(USAGE);
            }
            a->pos[a->npos++] = argv[optind++];
            continue;
        }
        switch (c) {
        case 's':
            a->stdio = true;
            break;
        case 'H':
            a->http = optarg;
            break;
        case 'a':
            a->agent = optarg;
            break;
        case 'E':
            a->expose_agent = true;
            break;
        case 't':
            a->token = optarg;
            break;
        case 'J':
            a->json = true;
            break;
        case 'A':
            a->args = optarg;
            break;
        case 'T':
            a->timeout = optarg;
            break;
        case 'h':
            if (a->n_headers == MAX_HEADERS || !strchr(optarg, ':')) {
                fprintf(stderr, "agentc: --header wants 'Name: value' (at most %d)\n", MAX_HEADERS);
                return agc_cli_usage(USAGE);
            }
            a->headers[a->n_headers++] = optarg;
            break;
        case 'x':
            printf("usage: agentc %s\n", USAGE);
            return -1;
        default:
            fprintf(stderr, "agentc: unknown option or missing value: '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    return 0;
}

/* ---- SERVER as a spec --------------------------------------------------------------- */

/* Splits a command line into words ('...' and "..." group, \ escapes outside '). */
static json_t *split_words(const char *s)
{
    json_t *arr = json_array();
    char *w = malloc(strlen(s) + 1);
    if (!arr || !w) {
        json_decref(arr);
        free(w);
        return NULL;
    }
    size_t n = 0;
    bool in = false;
    char q = 0;
    for (const char *p = s;; p++) {
        if (!*p || (!q && (*p == ' ' || *p == '\t'))) {
            if (in) {
                w[n] = 0;
                json_array_append_new(arr, json_string(w));
                n = 0;
                in = false;
            }
            if (!*p)
                break;
            continue;
        }
        in = true;
        if (q && *p == q) {
            q = 0;
        } else if (!q && (*p == '\'' || *p == '"')) {
            q = *p;
        } else if (*p == '\\' && q != '\'' && p[1]) {
            w[n++] = *++p;
        } else {
            w[n++] = *p;
        }
    }
    free(w);
    if (q || json_array_size(arr) == 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *server_spec(const mcp_args *a, const char *server)
{
    json_t *spec = json_pack("{s:s}", "name", "server");
    if (!spec)
        return NULL;
    if (strncmp(server, "http://", 7) == 0 || strncmp(server, "https://", 8) == 0) {
        json_t *h = json_object();
        json_object_set_new(spec, "url", json_string(server));
        for (size_t i = 0; h && i < a->n_headers; i++) {
            const char *colon = strchr(a->headers[i], ':');
            char *k = strndup(a->headers[i], (size_t)(colon - a->headers[i]));
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            if (k)
                json_object_set_new(h, k, json_string(v));
            free(k);
        }
        if (h && a->token) {
            char *auth = NULL;
            if (asprintf(&auth, "Bearer %s", a->token) > 0)
                json_object_set_new(h, "Authorization", json_string(auth));
            free(auth);
        }
        json_object_set_new(spec, "headers", h);
    } else {
        json_t *words = split_words(server);
        if (!words) {
            fprintf(stderr, "agentc: SERVER '%s' is not a command line (unbalanced quotes?)\n",
                    server);
            json_decref(spec);
            return NULL;
        }
        json_object_set(spec, "command", json_array_get(words, 0));
        json_array_remove(words, 0);
        json_object_set_new(spec, "args", words);
        json_object_set_new(spec, "inherit_env", json_true());
        json_object_set_new(spec, "shutdown_grace", json_real(1.0));
    }
    if (a->timeout) {
        double t = atof(a->timeout);
        if (t > 0) {
            json_object_set_new(spec, "timeout", json_real(t));
            json_object_set_new(spec, "startup_timeout", json_real(t));
        }
    }
    return spec;
}

/* elicitation/create on the terminal: one line per schema property, empty = default. */
static agc_status tty_elicit(json_t **out, const char *server, const json_t *params, void *user,
                             agc_ctx *ctx)
{
    (void)user;
    agc_ctx *prev = agc_json_enter(ctx);
    if (!isatty(STDIN_FILENO)) {
        *out = json_pack("{s:s}", "action", "decline");
        agc_json_leave(prev);
        return *out ? AGC_OK : AGC_ENOMEM;
    }
    fprintf(stderr, "MCP server '%s' asks: %s\n", server, agc_json_str(params, "message", ""));
    json_t *content = json_object();
    const json_t *props = json_object_get(json_object_get(params, "requestedSchema"), "properties");
    const char *k;
    json_t *v;
    bool answered = true;
    json_object_foreach((json_t *)props, k, v)
    {
        const json_t *d = json_object_get(v, "default");
        fprintf(stderr, "  %s (%s)%s", k, agc_json_str(v, "type", "string"), d ? " default " : "");
        if (d)
            json_dumpf(d, stderr, JSON_ENCODE_ANY);
        fputs(": ", stderr);
        char line[1024];
        if (!fgets(line, sizeof line, stdin)) {
            answered = false;
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        const char *type = agc_json_str(v, "type", "string");
        json_t *val = NULL;
        if (!*line && d)
            val = json_deep_copy(d);
        else if (strcmp(type, "integer") == 0)
            val = json_integer(atoll(line));
        else if (strcmp(type, "number") == 0)
            val = json_real(atof(line));
        else if (strcmp(type, "boolean") == 0)
            val = json_boolean(line[0] == 'y' || line[0] == 't' || line[0] == '1');
        else
            val = json_string(line);
        json_object_set_new(content, k, val);
    }
    *out = answered ? json_pack("{s:s, s:o}", "action", "accept", "content", content)
                    : json_pack("{s:s}", "action", "cancel");
    if (!answered)
        json_decref(content);
    agc_json_leave(prev);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_mcp_conn *connect_server(const mcp_args *a, agc_ctx *ctx)
{
    json_t *spec = server_spec(a, a->pos[0]);
    if (!spec)
        return NULL;
    agc_mcp_conn_opts co = AGC_MCP_CONN_OPTS_INIT;
    co.elicit = tty_elicit;
    agc_mcp_conn *c = NULL;
    if (agc_mcp_conn_open(&c, spec, &co, ctx) != AGC_OK)
        agc_cli_error(ctx, "cannot connect to %s", a->pos[0]);
    json_decref(spec);
    return c;
}

/* ---- list / call --------------------------------------------------------------------- */

static void print_items(const char *title, const json_t *items, const char *k1, const char *k2)
{
    printf("%s (%zu):\n", title, json_array_size(items));
    size_t i;
    const json_t *v;
    json_array_foreach(items, i, v)
    {
        const char *d = agc_json_str(v, k2, "");
        printf("  %-28s %.*s\n", agc_json_str(v, k1, "?"), (int)strcspn(d, "\n"), d);
    }
}

static int cmd_list(const mcp_args *a, agc_ctx *ctx)
{
    agc_mcp_conn *c = connect_server(a, ctx);
    if (!c)
        return AGC_CLI_FAIL;
    static const struct {
        const char *cap, *method, *key, *k1, *k2;
    } kinds[] = {
        {"tools", "tools/list", "tools", "name", "description"},
        {"resources", "resources/list", "resources", "uri", "name"},
        {"resources", "resources/templates/list", "resourceTemplates", "uriTemplate", "name"},
        {"prompts", "prompts/list", "prompts", "name", "description"},
    };
    json_t *doc = json_object();
    const json_t *init = agc_mcp_conn_init_result(c);
    json_object_set(doc, "serverInfo", json_object_get(init, "serverInfo"));
    json_object_set(doc, "protocolVersion", json_object_get(init, "protocolVersion"));
    json_object_set(doc, "capabilities", json_object_get(init, "capabilities"));
    int rc = AGC_CLI_OK;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        if (!agc_mcp_conn_has(c, kinds[i].cap))
            continue;
        json_t *items = NULL;
        if (agc_mcp_conn_list(&items, c, kinds[i].method, kinds[i].key, ctx) != AGC_OK) {
            if (i == 2) /* templates are optional */
                continue;
            agc_cli_error(ctx, "%s failed", kinds[i].method);
            rc = AGC_CLI_FAIL;
            continue;
        }
        json_object_set_new(doc, kinds[i].key, items);
    }
    if (a->json) {
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        const json_t *si = json_object_get(init, "serverInfo");
        printf("server %s %s (protocol %s)\n", agc_json_str(si, "name", "?"),
               agc_json_str(si, "version", ""), agc_json_str(init, "protocolVersion", "?"));
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
            if (json_object_get(doc, kinds[i].key))
                print_items(kinds[i].key, json_object_get(doc, kinds[i].key), kinds[i].k1,
                            kinds[i].k2);
    }
    json_decref(doc);
    agc_mcp_conn_unref(c);
    return rc;
}

static int cmd_call(const mcp_args *a, agc_ctx *ctx)
{
    json_t *args = NULL;
    if (a->args && agc_json_parse(&args, a->args, strlen(a->args), "--args", ctx) != AGC_OK) {
        agc_cli_error(ctx, "--args is not JSON");
        return AGC_CLI_USAGE;
    }
    if (args && !json_is_object(args)) {
        fprintf(stderr, "agentc: --args wants a JSON object, not %s\n", agc_json_type_name(args));
        json_decref(args);
        return AGC_CLI_USAGE;
    }
    agc_mcp_conn *c = connect_server(a, ctx);
    if (!c) {
        json_decref(args);
        return AGC_CLI_FAIL;
    }
    json_t *params =
        json_pack("{s:s, s:o}", "name", a->pos[1], "arguments", args ? args : json_object());
    json_t *res = NULL;
    int rc = AGC_CLI_OK;
    if (agc_mcp_conn_request(&res, c, "tools/call", params, 0, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "tools/call %s failed", a->pos[1]);
        rc = AGC_CLI_FAIL;
    } else {
        bool err = json_is_true(json_object_get(res, "isError"));
        if (a->json) {
            json_dumpf(res, stdout, JSON_INDENT(2));
            putchar('\n');
        } else {
            char *text = NULL;
            if (agc_mcp_result_text(&text, res, ctx) == AGC_OK) {
                fputs(text, err ? stderr : stdout);
                fputc('\n', err ? stderr : stdout);
            }
            agc_free(ctx, text);
        }
        if (err) {
            fprintf(stderr, "agentc: tool %s reported an error\n", a->pos[1]);
            rc = AGC_CLI_FAIL;
        }
    }
    json_decref(res);
    json_decref(params);
    agc_mcp_conn_unref(c);
    return rc;
}

/* ---- serve ------------------------------------------------------------------------------ */

int agc__cli_mcp_serve(const char *stdio_or_http, const char *agent, bool expose_agent,
                       const char *token, agc_ctx *ctx);

int agc_cmd_mcp(int argc, char **argv)
{
    mcp_args a;
    int rc = parse(&a, argc, argv);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    bool serve = strcmp(a.sub, "serve") == 0, list = strcmp(a.sub, "list") == 0,
         call = strcmp(a.sub, "call") == 0;
    if (!serve && !list && !call) {
        fprintf(stderr, "agentc: unknown mcp subcommand '%s' (serve, list, call)\n", a.sub);
        return agc_cli_usage(USAGE);
    }
    if (serve && (a.stdio == (a.http != NULL) || a.npos)) {
        fprintf(stderr, "agentc: mcp serve wants exactly one of --stdio or --http ADDR:PORT\n");
        return agc_cli_usage(USAGE);
    }
    if ((list && a.npos != 1) || (call && a.npos != 2)) {
        fprintf(stderr, "agentc: mcp %s wants %s\n", a.sub, list ? "SERVER" : "SERVER TOOL");
        return agc_cli_usage(USAGE);
    }
    if (!call && a.args) {
        fprintf(stderr, "agentc: --args is for mcp call\n");
        return agc_cli_usage(USAGE);
    }
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    if (serve)
        rc = agc__cli_mcp_serve(a.stdio ? NULL : a.http, a.agent, a.expose_agent, a.token, ctx);
    else
        rc = list ? cmd_list(&a, ctx) : cmd_call(&a, ctx);
    agc_ctx_free(ctx);
    return rc;
}
