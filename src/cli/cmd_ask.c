/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc ask PROMPT`: one chat request to a provider preset, the answer on
 * stdout (streamed as it arrives with --stream, validated and pretty-printed
 * with --json-schema, the whole normalised response with --json) and a
 * one-line summary (tokens, cost, latency, request id) on stderr. Can record
 * the exchange to a cassette or replay one. Keys come only from the preset's
 * environment variable; nothing here prints or logs them. No tools, no
 * conversation: one user turn.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/config.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/provider.h"
#include "agentc/schema.h"
#include "cli.h"

#define USAGE                                                                                      \
    "ask [PROMPT|-] [--provider P] [--model M] [--base-url URL] [--system TEXT] [--stream] "       \
    "[--json-schema FILE] [--max-tokens N] [--temperature X] [--record CASSETTE] "                 \
    "[--cassette CASSETTE] [--json]"
#define PROMPT_MAX ((size_t)16 * 1024 * 1024)

typedef struct ask_args {
    const char *prompt;
    const char *provider;
    const char *model;
    const char *base_url;
    const char *system;
    const char *schema_path;
    const char *record;
    const char *cassette;
    long max_tokens;
    double temperature;
    bool stream;
    bool json;
} ask_args;

/* 0: run; -1: --help was printed; else the exit code (usage printed). */
static int parse_args(ask_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"provider", required_argument, NULL, 'p'},
        {"model", required_argument, NULL, 'm'},
        {"base-url", required_argument, NULL, 'u'},
        {"system", required_argument, NULL, 's'},
        {"stream", no_argument, NULL, 'S'},
        {"json-schema", required_argument, NULL, 'j'},
        {"max-tokens", required_argument, NULL, 'n'},
        {"temperature", required_argument, NULL, 't'},
        {"record", required_argument, NULL, 'r'},
        {"cassette", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (ask_args){.temperature = -1.0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":p:m:s:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'p':
            a->provider = optarg;
            break;
        case 'm':
            a->model = optarg;
            break;
        case 'u':
            a->base_url = optarg;
            break;
        case 's':
            a->system = optarg;
            break;
        case 'S':
            a->stream = true;
            break;
        case 'j':
            a->schema_path = optarg;
            break;
        case 'r':
            a->record = optarg;
            break;
        case 'c':
            a->cassette = optarg;
            break;
        case 'J':
            a->json = true;
            break;
        case 'n':
            a->max_tokens = strtol(optarg, &end, 10);
            if (!*optarg || *end || a->max_tokens <= 0) {
                fprintf(stderr, "agentc: --max-tokens wants a positive integer, not '%s'\n",
                        optarg);
                return AGC_CLI_USAGE;
            }
            break;
        case 't':
            a->temperature = strtod(optarg, &end);
            if (!*optarg || *end || !(a->temperature >= 0 && a->temperature <= 2)) {
                fprintf(stderr, "agentc: --temperature wants a number from 0 to 2, not '%s'\n",
                        optarg);
                return AGC_CLI_USAGE;
            }
            break;
        case 'h':
            printf("usage: agentc %s\n", USAGE);
            return -1;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    /* getopt_long permuted argv: the prompt may come before or after the options */
    for (int i = optind; i < argc; i++) {
        if (a->prompt) {
            fprintf(stderr, "agentc: one prompt only (quote it): unexpected '%s'\n", argv[i]);
            return agc_cli_usage(USAGE);
        }
        a->prompt = argv[i];
    }
    if (a->cassette && a->provider && strcmp(a->provider, "replay") != 0) {
        fprintf(stderr, "agentc: --cassette replays a recording; use it with --provider replay\n");
        return agc_cli_usage(USAGE);
    }
    if (a->cassette && !a->provider)
        a->provider = "replay";
    if (!a->provider && !a->base_url) {
        fprintf(stderr, "agentc: name a provider with --provider (see 'agentc models') or give "
                        "--base-url\n");
        return agc_cli_usage(USAGE);
    }
    return 0;
}

/* Reads all of stdin into *out (caller frees with agc_free), trailing newlines cut. */
static agc_status read_stdin(char **out, agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, PROMPT_MAX);
    char chunk[8192];
    size_t n;
    agc_status st = AGC_OK;
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        st = agc_buf_append(&b, chunk, n);
    if (st == AGC_OK && ferror(stdin))
        st = agc_error_set(ctx, AGC_EIO, "cli", "cannot read the prompt from stdin");
    while (st == AGC_OK && b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = '\0';
    if (st == AGC_OK && b.len == 0)
        st = agc_error_set(ctx, AGC_EINVAL, "cli", "the prompt on stdin is empty");
    if (st != AGC_OK) {
        agc_buf_free(&b);
        return st;
    }
    *out = agc_buf_detach(&b, NULL);
    return *out ? AGC_OK : AGC_ENOMEM;
}

/* ---- cancellation: SIGINT/SIGTERM cancel the call from a signal-waiting thread ---- */

typedef struct sigwatch {
    pthread_t thread;
    sigset_t set;
    agc_provider *p;
    volatile sig_atomic_t got;
    bool running;
} sigwatch;

static void *sigwatch_main(void *arg)
{
    sigwatch *w = arg;
    int sig = 0;
    while (sigwait(&w->set, &sig) == 0) {
        if (sig == SIGUSR1)
            break; /* done */
        w->got = sig;
        agc_provider_cancel(w->p);
    }
    return NULL;
}

static void sigwatch_start(sigwatch *w, agc_provider *p)
{
    w->p = p;
    sigemptyset(&w->set);
    sigaddset(&w->set, SIGINT);
    sigaddset(&w->set, SIGTERM);
    sigaddset(&w->set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &w->set, NULL);
    w->running = pthread_create(&w->thread, NULL, sigwatch_main, w) == 0;
}

static void sigwatch_stop(sigwatch *w)
{
    if (w->running) {
        pthread_kill(w->thread, SIGUSR1);
        pthread_join(w->thread, NULL);
    }
    pthread_sigmask(SIG_UNBLOCK, &w->set, NULL);
}

/* ---- output -------------------------------------------------------------------- */

typedef struct printer {
    bool echo; /* print text deltas to stdout */
    char last; /* last character printed */
} printer;

static agc_status on_delta(const agc_delta *d, void *user)
{
    printer *pr = user;
    if (d->kind == AGC_DELTA_TEXT && pr->echo && d->text_len) {
        fwrite(d->text, 1, d->text_len, stdout);
        fflush(stdout);
        pr->last = d->text[d->text_len - 1];
    } else if (d->kind == AGC_DELTA_RETRY) {
        fprintf(stderr, "agentc: retrying in %ld ms: %s\n", d->retry_in_ms, d->text);
    }
    return AGC_OK;
}

static void print_summary(const agc_chat_response *r, const char *model)
{
    fprintf(stderr, "%s/%s", r->provider ? r->provider : "?", r->model ? r->model : model);
    if (r->usage.known)
        fprintf(stderr, " \xc2\xb7 in %lld (cached %lld) \xc2\xb7 out %lld tokens",
                r->usage.input_tokens, r->usage.cached_input_tokens, r->usage.output_tokens);
    else
        fprintf(stderr, " \xc2\xb7 usage unknown");
    if (r->cost_known)
        fprintf(stderr, " \xc2\xb7 $%.6f", r->cost_usd);
    else
        fprintf(stderr, " \xc2\xb7 cost unknown");
    fprintf(stderr, " \xc2\xb7 %.0f ms", r->latency_ms);
    if (r->request_id)
        fprintf(stderr, " \xc2\xb7 request id %s", r->request_id);
    if (r->finish != AGC_FINISH_STOP)
        fprintf(stderr, " \xc2\xb7 finish %s", agc_finish_reason_name(r->finish));
    fputc('\n', stderr);
}

/* The whole normalised response plus accounting, pretty. */
static agc_status print_json(const agc_chat_response *r, agc_ctx *ctx)
{
    json_t *j = agc_chat_response_to_json(r, ctx);
    if (!j)
        return AGC_ENOMEM;
    agc_ctx *prev = agc_json_enter(ctx);
    int rc =
        json_object_set_new(j, "provider", r->provider ? json_string(r->provider) : json_null());
    rc |= json_object_set_new(j, "cost_usd", r->cost_known ? json_real(r->cost_usd) : json_null());
    rc |= json_object_set_new(j, "latency_ms", json_real(r->latency_ms));
    rc |= json_object_set_new(j, "attempts", json_integer(r->attempts));
    if (r->parsed)
        rc |= json_object_set(j, "parsed", r->parsed);
    agc_json_leave(prev);
    char *text = NULL;
    agc_status st = rc ? agc_error_set(ctx, AGC_ENOMEM, "cli", "out of memory")
                       : agc_json_dump(&text, j, JSON_INDENT(2), ctx);
    if (st == AGC_OK)
        printf("%s\n", text);
    agc_free(ctx, text);
    json_decref(j);
    return st;
}

/* Checks the structured answer against the schema and prints it pretty. */
static agc_status print_structured(const agc_chat_response *r, const agc_schema *schema,
                                   const char *schema_path, bool print, agc_ctx *ctx)
{
    if (!r->parsed) {
        const char *t = agc_chat_response_text(r);
        return agc_error_set(ctx, AGC_ESCHEMA, "cli", "the answer is not JSON: %.200s%s", t,
                             strlen(t) > 200 ? "..." : "");
    }
    agc_status st = agc_schema_validate(NULL, schema, r->parsed, ctx);
    if (st == AGC_ESCHEMA)
        return agc_error_wrap(ctx, st, "cli", "the answer does not match %s", schema_path);
    if (st != AGC_OK || !print)
        return st;
    char *text = NULL;
    st = agc_json_dump(&text, r->parsed, JSON_INDENT(2), ctx);
    if (st == AGC_OK)
        printf("%s\n", text);
    agc_free(ctx, text);
    return st;
}

/* A response_format name from the schema file name: [A-Za-z0-9_-], at most 64. */
static void schema_name(char *out, size_t size, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = 0;
    for (const char *c = base; *c && *c != '.' && n + 1 < size && n < 64; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
        out[n++] = ok ? *c : '_';
    }
    if (n == 0)
        n = (size_t)snprintf(out, size, "answer");
    out[n] = '\0';
}

/* ---- the command --------------------------------------------------------------- */

typedef struct ask_state {
    agc_ctx *ctx;
    agc_provider *inner;
    agc_provider *rec;
    agc_config *schema_doc;
    agc_schema *schema;
    char *stdin_prompt;
    agc_chat_response *resp;
} ask_state;

static int run(ask_args *a, ask_state *s)
{
    agc_ctx *ctx = s->ctx;
    if (!a->prompt || strcmp(a->prompt, "-") == 0) {
        if (!a->prompt && isatty(STDIN_FILENO))
            return agc_cli_usage(USAGE);
        if (read_stdin(&s->stdin_prompt, ctx) != AGC_OK) {
            agc_cli_error(ctx, "no prompt");
            return AGC_CLI_USAGE;
        }
        a->prompt = s->stdin_prompt;
    }
    char name[72] = "answer";
    if (a->schema_path) {
        agc_config_opts co = AGC_CONFIG_OPTS_INIT;
        co.no_env = true;
        co.no_validate = true;
        if (agc_config_load(&s->schema_doc, a->schema_path, &co, ctx) != AGC_OK ||
            agc_schema_compile(&s->schema, agc_config_root(s->schema_doc), NULL, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot use the schema %s", a->schema_path);
            return AGC_CLI_FAIL;
        }
        schema_name(name, sizeof name, a->schema_path);
    }
    agc_provider_opts po = AGC_PROVIDER_OPTS_INIT;
    po.preset = a->provider;
    po.model = a->model;
    po.base_url = a->base_url;
    po.cassette = a->cassette;
    if (agc_provider_open(&s->inner, &po, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open provider %s", a->provider ? a->provider : a->base_url);
        return AGC_CLI_FAIL;
    }
    agc_provider *p = s->inner;
    if (a->record) {
        if (agc_provider_recorder_new(&s->rec, s->inner, a->record, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot record");
            return AGC_CLI_FAIL;
        }
        p = s->rec;
    }

    agc_part parts[2] = {{.kind = AGC_PART_TEXT, .text = a->system},
                         {.kind = AGC_PART_TEXT, .text = a->prompt}};
    agc_message msgs[2] = {{.role = AGC_ROLE_SYSTEM, .parts = &parts[0], .n_parts = 1},
                           {.role = AGC_ROLE_USER, .parts = &parts[1], .n_parts = 1}};
    agc_chat_request req = AGC_CHAT_REQUEST_INIT;
    req.messages = a->system ? msgs : msgs + 1;
    req.n_messages = a->system ? 2 : 1;
    req.max_tokens = a->max_tokens;
    req.temperature = a->temperature;
    if (s->schema) {
        req.format = AGC_FORMAT_JSON_SCHEMA;
        req.response_schema = agc_config_root(s->schema_doc);
        req.response_schema_name = name;
    }
    bool plain = !a->json && !a->schema_path;
    printer pr = {a->stream && plain, '\n'};
    sigwatch w = {0};
    sigwatch_start(&w, p);
    agc_status st = agc_provider_chat(&s->resp, p, &req, a->stream ? on_delta : NULL, &pr);
    sigwatch_stop(&w);
    if (st != AGC_OK) {
        if (pr.last != '\n')
            putchar('\n');
        fflush(stdout);
        agc_cli_error(ctx, "ask failed");
        return AGC_CLI_FAIL;
    }
    if (plain && !a->stream) {
        const char *text = agc_chat_response_text(s->resp);
        fputs(text, stdout);
        if (*text)
            pr.last = text[strlen(text) - 1];
    }
    if (plain && pr.last != '\n')
        putchar('\n');
    st = AGC_OK;
    if (s->schema)
        st = print_structured(s->resp, s->schema, a->schema_path, !a->json, ctx);
    if (st == AGC_OK && a->json)
        st = print_json(s->resp, ctx);
    fflush(stdout);
    print_summary(s->resp, a->model ? a->model : agc_provider_model(p));
    if (st != AGC_OK) {
        agc_cli_error(ctx, "ask");
        return AGC_CLI_FAIL;
    }
    return ferror(stdout) ? AGC_CLI_FAIL : AGC_CLI_OK;
}

int agc_cmd_ask(int argc, char **argv)
{
    ask_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc < 0)
        return AGC_CLI_OK; /* --help */
    if (rc)
        return rc;
    ask_state s = {0};
    s.ctx = agc_cli_ctx();
    if (!s.ctx)
        return AGC_CLI_FAIL;
    if (agc_log_configure_from_env(s.ctx) != AGC_OK) {
        agc_cli_error(s.ctx, "bad logging settings");
        agc_ctx_free(s.ctx);
        return AGC_CLI_USAGE;
    }
    rc = run(&a, &s);
    agc_chat_response_free(s.resp);
    agc_provider_close(s.rec);
    agc_provider_close(s.inner);
    agc_schema_free(s.schema, s.ctx);
    agc_config_free(s.schema_doc);
    agc_free(s.ctx, s.stdin_prompt);
    agc_ctx_free(s.ctx);
    return rc;
}
