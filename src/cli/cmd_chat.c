/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc chat [AGENT_FILE]`: an interactive conversation with an agent. Each
 * line read from stdin is a user message (the first starts a run, the next
 * ones continue it with agc_run_continue, so the history lives in the
 * session); lines starting with '/' are commands: /help, /exit, /reset,
 * /cost, /tools, /model NAME (the same session goes on with another model:
 * agc_run_set_model), /save. No line editing (use rlwrap).
 * Invariant: the runtime drives every turn; this loop only reads and routes.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/runtime.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "chat [AGENT_FILE] [--approve deny|reads|all] [--model M] [--provider P] [--store PATH] "      \
    "[--audit PATH] [--record CASSETTE] [--cassette CASSETTE] [--subject S --purpose P]"
#define LINE_MAX_BYTES ((size_t)64 * 1024)

typedef struct chat {
    agc_cli_host *h;
    agc_ctx *ctx;
    const char *agent_path;
    const char *provider;
    const char *record;
    const char *cassette;
    char *model; /* --model or /model (owned) */
    agc_agent_def *def;
    agc_run *run;
    bool prompt; /* stdin is a terminal: show "> " */
} chat;

static void help(void)
{
    fprintf(stderr, "commands:\n"
                    "  /help          this list\n"
                    "  /exit          leave (also end of input, Ctrl-D)\n"
                    "  /reset         forget the conversation and start a new session\n"
                    "  /cost          tokens and cost of this session so far\n"
                    "  /tools         the tools this agent may call\n"
                    "  /model NAME    switch the model (the conversation goes on)\n"
                    "  /save          where this session is stored\n"
                    "anything else is sent to the agent.\n");
}

static int load_def(chat *c)
{
    agc_agent_def *def = NULL;
    /* the model is the run's override (agc_run_opts.model), not the definition's */
    if (agc_cli_load_agent(&def, c->agent_path, NULL, c->provider, c->ctx) != AGC_OK) {
        agc_cli_error(c->ctx, "cannot load the agent");
        return AGC_CLI_FAIL;
    }
    agc_agent_def_unref(c->def);
    c->def = def;
    return AGC_CLI_OK;
}

/* The model of the next session: /model or --model, else the agent's. */
static const char *current_model(const chat *c)
{
    return c->model ? c->model : agc_agent_def_model(c->def);
}

static void cmd_cost(chat *c)
{
    if (!c->run) {
        fprintf(stderr, "nothing spent yet in this session\n");
        return;
    }
    agc_run_stats s;
    agc_run_get_stats(c->run, &s);
    fprintf(stderr,
            "%lld turns \xc2\xb7 %lld tool calls \xc2\xb7 %lld in (%lld cached) / %lld out "
            "tokens \xc2\xb7 ",
            s.turns, s.tool_calls, s.input_tokens, s.cached_input_tokens, s.output_tokens);
    if (s.cost_known)
        fprintf(stderr, "$%.6f\n", s.cost_usd);
    else
        fprintf(stderr, "$%.6f known (some costs unknown)\n", s.cost_usd);
}

static void cmd_tools(chat *c)
{
    size_t n = agc_agent_def_tool_count(c->def);
    if (!n)
        fprintf(stderr, "this agent has no tools\n");
    for (size_t i = 0; i < n; i++) {
        const agc_agent_tool *t = agc_agent_def_tool(c->def, i);
        int ap = (int)agc_agent_def_approval(c->def, t->name, (agc_tool_approval)AGC_UNSET);
        fprintf(stderr, "  %-20s approval: %s\n", t->name,
                ap < 0 ? "tool default" : agc_tool_approval_name((agc_tool_approval)ap));
    }
}

static void end_run(chat *c)
{
    agc_run_free(c->run);
    c->run = NULL;
}

/* Handles a /command. Returns -1 to go on, else the exit code. */
static int command(chat *c, const char *line)
{
    char name[32];
    size_t n = strcspn(line, " \t");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), line);
    const char *arg = line + n;
    arg += strspn(arg, " \t");
    if (strcmp(name, "/exit") == 0 || strcmp(name, "/quit") == 0)
        return AGC_CLI_OK;
    if (strcmp(name, "/help") == 0 || strcmp(name, "/?") == 0) {
        help();
    } else if (strcmp(name, "/reset") == 0) {
        end_run(c);
        fprintf(stderr, "conversation cleared; the next message starts a new session\n");
    } else if (strcmp(name, "/cost") == 0) {
        cmd_cost(c);
    } else if (strcmp(name, "/tools") == 0) {
        cmd_tools(c);
    } else if (strcmp(name, "/model") == 0) {
        if (!*arg) {
            const char *m = c->run ? agc_run_model(c->run) : current_model(c);
            fprintf(stderr, "model: %s (change it with /model NAME)\n", m ? m : "provider default");
            return -1;
        }
        char *m = agc_strdup(c->ctx, arg);
        if (!m)
            return AGC_CLI_FAIL;
        if (c->run && agc_run_set_model(c->run, m) != AGC_OK) {
            agc_cli_error(c->ctx, "cannot switch the model");
            agc_free(c->ctx, m);
            return -1;
        }
        agc_free(c->ctx, c->model);
        c->model = m; /* also for a session started after /reset */
        fprintf(stderr, "model set to %s; the conversation goes on\n", c->model);
    } else if (strcmp(name, "/save") == 0) {
        if (!c->run || !*agc_run_id(c->run))
            fprintf(stderr, "nothing to save yet\n");
        else
            fprintf(stderr,
                    "session %s is saved in %s (every step is saved as it happens);\n"
                    "see it with: agentc sessions show %s\n",
                    agc_run_id(c->run), agc_cli_host_store_path(c->h), agc_run_id(c->run));
    } else {
        fprintf(stderr, "unknown command %s; /help lists them\n", name);
    }
    return -1;
}

/* Sends one message. Returns -1 to go on, else the exit code. */
static int message(chat *c, const char *line)
{
    agc_status st;
    if (!c->run) {
        agc_run_opts ro = AGC_RUN_OPTS_INIT;
        agc_cli_host_run_opts(c->h, &ro);
        ro.model = c->model;
        st = agc_run_new(&c->run, c->def, line, &ro, c->ctx);
    } else {
        st = agc_run_continue(c->run, line);
    }
    if (st != AGC_OK) {
        agc_cli_error(c->ctx, "cannot send the message");
        return AGC_CLI_FAIL;
    }
    int code = agc_cli_host_drive(c->h, c->run);
    if (code == AGC_CLI_SIGINT || code == AGC_CLI_SIGTERM || code == AGC_CLI_PAUSED)
        return code;
    if (code != AGC_CLI_OK) {
        end_run(c);
        fprintf(stderr, "the run ended; the next message starts a new session\n");
    }
    return -1;
}

int agc_cmd_chat(int argc, char **argv)
{
    static const struct option opts[] = {
        {"approve", required_argument, NULL, 'a'},
        {"model", required_argument, NULL, 'm'},
        {"provider", required_argument, NULL, 'p'},
        {"store", required_argument, NULL, 's'},
        {"record", required_argument, NULL, 'r'},
        {"cassette", required_argument, NULL, 'c'},
        {"audit", required_argument, NULL, 'A'},
        {"subject", required_argument, NULL, 'S'},
        {"purpose", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    agc_cli_host_opts ho = {0};
    chat c = {0};
    const char *model = NULL, *subject = NULL, *purpose = NULL;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":m:p:h", opts, NULL)) != -1) {
        switch (o) {
        case 'a':
            if (!agc_cli_approve_mode_ok(optarg)) {
                fprintf(stderr, "agentc: --approve wants deny, reads or all, not '%s'\n", optarg);
                return agc_cli_usage(USAGE);
            }
            ho.approve = optarg;
            break;
        case 'm':
            model = optarg;
            break;
        case 'p':
            c.provider = optarg;
            break;
        case 's':
            ho.store_path = optarg;
            break;
        case 'A':
            ho.audit_path = optarg;
            break;
        case 'S':
            subject = optarg;
            break;
        case 'P':
            purpose = optarg;
            break;
        case 'r':
            c.record = optarg;
            break;
        case 'c':
            c.cassette = optarg;
            break;
        case 'h':
            printf("usage: agentc %s\n%s\n", USAGE, AGC_CLI_EXIT_CODES);
            return AGC_CLI_OK;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "agentc: one agent file only: unexpected '%s'\n", argv[optind + 1]);
        return agc_cli_usage(USAGE);
    }
    if (c.record && c.cassette) {
        fprintf(stderr, "agentc: --record and --cassette exclude each other\n");
        return agc_cli_usage(USAGE);
    }
    c.agent_path = argc > optind ? argv[optind] : "agent.yaml";
    ho.no_session_line = true;
    int rc;
    c.h = agc_cli_host_open(&ho, &rc);
    if (!c.h)
        return rc;
    if (agc_cli_host_set_subject(c.h, subject, purpose) != AGC_CLI_OK) {
        agc_cli_host_close(c.h);
        return AGC_CLI_FAIL;
    }
    c.ctx = agc_cli_host_ctx(c.h);
    c.prompt = isatty(STDIN_FILENO);
    char *line = agc_malloc(c.ctx, LINE_MAX_BYTES);
    agc_provider *p = NULL;
    if (!line || (model && !(c.model = agc_strdup(c.ctx, model)))) {
        agc_cli_error(c.ctx, "cannot start");
        rc = AGC_CLI_FAIL;
        goto done;
    }
    if ((rc = load_def(&c)) != AGC_CLI_OK)
        goto done;
    rc = agc_cli_host_provider(c.h, agc_agent_def_provider(c.def), current_model(&c), c.cassette,
                               c.record, &p);
    if (rc == AGC_CLI_OK) /* trail, privacy and consent before the first session is stored */
        rc = agc_cli_host_audit(c.h, c.def);
    if (rc != AGC_CLI_OK)
        goto done;
    if (c.prompt) {
        const char *m = current_model(&c);
        fprintf(stderr,
                "agentc chat \xc2\xb7 %s \xc2\xb7 %s \xc2\xb7 /help for commands, /exit to leave\n",
                agc_agent_def_name(c.def), m ? m : "default model");
    }
    rc = -1;
    while (rc < 0) {
        if (c.prompt) {
            fprintf(stderr, "> ");
            fflush(stderr);
        }
        int r = agc_run_ui_readline(agc_cli_host_ui(c.h)->wake_fd, line, LINE_MAX_BYTES);
        if (r < 0) {
            rc = agc_cli_host_signal(c.h) == SIGTERM ? AGC_CLI_SIGTERM : AGC_CLI_SIGINT;
            break;
        }
        if (r == 0) {
            if (c.prompt)
                fputc('\n', stderr);
            rc = AGC_CLI_OK;
            break;
        }
        const char *l = line + strspn(line, " \t");
        if (!*l)
            continue;
        rc = *l == '/' ? command(&c, l) : message(&c, l);
    }
    if (c.run && *agc_run_id(c.run))
        fprintf(stderr, "session %s\n", agc_run_id(c.run));
done:
    agc_run_free(c.run);
    agc_agent_def_unref(c.def);
    agc_free(c.ctx, c.model);
    agc_free(c.ctx, line);
    agc_cli_host_close(c.h);
    return rc;
}
