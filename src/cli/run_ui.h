/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The terminal view of a run for `agentc run`, `chat` and `resume`: an event
 * callback that streams the model's text to stdout and writes tool calls
 * (with short arguments), tool results, approvals, per-turn usage and cost
 * and the run's outcome to stderr; plus the interactive approval prompt.
 * Invariant: it only reads events (docs/events.md) and never drives the run.
 * It does not print JSON (--json uses the event bus JSONL sink directly).
 */
#ifndef AGC_CLI_RUN_UI_H
#define AGC_CLI_RUN_UI_H

#include <stdio.h>

#include <jansson.h>

#include "agentc/event.h"

typedef struct agc_run_ui {
    FILE *out;        /* streamed model text (stdout) */
    FILE *err;        /* everything else (stderr) */
    bool color;       /* ANSI styles on err */
    bool quiet;       /* -q: print nothing (the command prints the answer itself) */
    bool stream_text; /* print model.delta text as it arrives */
    bool mid_line;    /* the cursor is not at the start of a line */
    bool text_seen;   /* some text was streamed in the current turn */
    long turns;
    char run_id[AGC_EVENT_NAME_MAX + 1];
    char status[32]; /* status of run.finished ("completed", ...); "" before */
    int wake_fd;     /* readable when a signal arrived (-1: none); ends prompts */
    bool prompts;    /* approvals are asked on the terminal (the prompt shows the call) */
} agc_run_ui;

/* Fills ui for a terminal (color when err is a tty and NO_COLOR is unset). */
void agc_run_ui_init(agc_run_ui *ui, bool quiet);

/* Event callback (agc_event_fn); user is the agc_run_ui. */
void agc_run_ui_event(const agc_event *ev, void *user);

/* Ends a half-written line on the terminal. */
void agc_run_ui_newline(agc_run_ui *ui);

/* Writes "tool(short arguments)" for a call into buf (cut to size, NUL-terminated). */
void agc_run_ui_call_text(char *buf, size_t size, const char *tool, const json_t *args);

/* The answer of the interactive approval prompt. */
typedef enum agc_run_ui_answer {
    AGC_RUN_UI_ALLOW_ONCE = 0,
    AGC_RUN_UI_ALLOW_ALWAYS,
    AGC_RUN_UI_DENY,
    AGC_RUN_UI_EOF /* no answer (end of input): treat as a pause */
} agc_run_ui_answer;

/*
 * Asks on the terminal (prompt on stderr, answer read from stdin) whether the
 * tool call may run: shows the tool and its arguments (a patch in full, other
 * arguments pretty-printed and cut), then reads y / a / n. For n it asks for
 * a reason, copied into reason (NUL-terminated, "" when none given).
 */
agc_run_ui_answer agc_run_ui_ask(agc_run_ui *ui, const char *tool, const json_t *args, char *reason,
                                 size_t reason_size);

/* true when stdin and stderr are both terminals (an interactive run). */
bool agc_run_ui_interactive(void);

/*
 * Reads one line from stdin (fd 0, unbuffered reads) into buf without its
 * newline, waiting also on wake_fd (-1: none) so that a signal can interrupt
 * the wait. Returns 1 for a line, 0 at end of input, -1 when woken.
 */
int agc_run_ui_readline(int wake_fd, char *buf, size_t size);

/* ---- hosting a run (cmd_run.c; shared by run, chat and resume) ----------------- */

/* Exit codes of run, chat and resume beyond AGC_CLI_OK/FAIL/USAGE. */
enum {
    AGC_CLI_PAUSED = 3,    /* the run waits for an approval (agentc approve, then resume) */
    AGC_CLI_BUDGET = 4,    /* a budget stopped the run */
    AGC_CLI_SIGINT = 130,  /* interrupted by SIGINT (128 + 2); the run is saved as canceled */
    AGC_CLI_SIGTERM = 143, /* terminated by SIGTERM (128 + 15) */
};

/* Whether mode is a value --approve accepts: deny, reads, all (and ask). */
bool agc_cli_approve_mode_ok(const char *mode);

/* One line for --help: the exit codes of run, chat and resume. */
#define AGC_CLI_EXIT_CODES                                                                         \
    "exit codes: 0 answered, 1 failed, 2 usage error, 3 paused for an approval, 4 budget "         \
    "reached, 130 interrupted (SIGINT), 143 terminated (SIGTERM); see docs/cli.md"

typedef struct agc_run agc_run;
typedef struct agc_store agc_store;
typedef struct agc_event_bus agc_event_bus;
typedef struct agc_provider agc_provider;
typedef struct agc_run_opts agc_run_opts;
typedef struct agc_cli_host agc_cli_host;

/* What the run, chat and resume commands share. */
typedef struct agc_cli_host_opts {
    const char *store_path; /* NULL: agc_store_default_path() */
    bool json;              /* JSONL events on stdout instead of the terminal view */
    bool quiet;             /* only the answer on stdout */
    const char *approve;    /* "deny", "reads", "all", "ask" or NULL (interactive, else pause) */
    bool no_signals;        /* leave SIGINT/SIGTERM alone */
    bool no_session_line;   /* do not print "session ID" after each drive (chat) */
    const char *audit_path; /* --audit PATH: the trail, even when the agent file disables it */
} agc_cli_host_opts;

/*
 * Creates the ctx, opens the store, the event bus (JSONL sink or the
 * terminal view) and the signal-waiting thread. Prints the error and returns
 * NULL on failure (*code_out gets the exit code).
 */
agc_cli_host *agc_cli_host_open(const agc_cli_host_opts *opts, int *code_out);
/* Stops the signal thread, frees the bus, store and ctx (after every run is freed). */
void agc_cli_host_close(agc_cli_host *h);
agc_ctx *agc_cli_host_ctx(agc_cli_host *h);
agc_store *agc_cli_host_store(agc_cli_host *h);
const char *agc_cli_host_store_path(agc_cli_host *h);
agc_run_ui *agc_cli_host_ui(agc_cli_host *h);
/* Fills the store, events, approval mode and approver of run options. */
void agc_cli_host_run_opts(agc_cli_host *h, agc_run_opts *ro);
/*
 * Opens the provider the run should use when --cassette (replay) or --record
 * is given (NULL into *out otherwise: the run opens its own). The host owns
 * and closes it. model: the definition's model. Prints errors; AGC_CLI_* code.
 */
int agc_cli_host_provider(agc_cli_host *h, const json_t *provider_cfg, const char *model,
                          const char *cassette, const char *record, agc_provider **out);
typedef struct agc_agent_def agc_agent_def;
/*
 * Opens the audit trail (docs/audit.md) and adds its sink to the bus, once per
 * host; later calls do nothing. The path is --audit, else the agent file's
 * audit.path, else $AGENTC_AUDIT, $XDG_DATA_HOME/agentc/audit.db or
 * ~/.local/share/agentc/audit.db; audit.enabled: false (without --audit)
 * leaves the run unaudited. def may be NULL (defaults). agc_cli_host_drive
 * calls it; call it before agc_run_new to fail before a run is stored.
 * Prints errors; AGC_CLI_* code (AGC_CLI_FAIL when the trail cannot be opened:
 * an enabled trail is never silently skipped).
 */
int agc_cli_host_audit(agc_cli_host *h, const agc_agent_def *def);
/* The trail being written, or NULL (none yet, or disabled). */
const char *agc_cli_host_audit_path(agc_cli_host *h);
/* Signal received so far (0: none). */
int agc_cli_host_signal(agc_cli_host *h);
/*
 * Opens the audit trail (agc_cli_host_audit, from the run's definition),
 * drives run until it is done or paused (cancelable by SIGINT/SIGTERM),
 * commits the audit records, then
 * prints the outcome: the answer (-q), the pause instructions, the reason
 * of a failure, the session id. Returns the exit code.
 */
int agc_cli_host_drive(agc_cli_host *h, agc_run *run);

/*
 * Loads an agent file like agc_agent_def_load, with --model / --provider
 * applied as AGENTC_PROVIDER__MODEL / __NAME overrides (NULL: none).
 */
agc_status agc_cli_load_agent(agc_agent_def **out, const char *path, const char *model,
                              const char *provider, agc_ctx *ctx);

#endif
