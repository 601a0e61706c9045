/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The agentc program's command table. Each subcommand lives in its own
 * cmd_<name>.c and is listed once in commands.c. Exit codes: 0 ok, 1 failure,
 * 2 usage error (AGC_CLI_OK, AGC_CLI_FAIL, AGC_CLI_USAGE).
 */
#ifndef AGC_CLI_H
#define AGC_CLI_H

#include <stdio.h>

#include "agentc/common.h"

enum { AGC_CLI_OK = 0, AGC_CLI_FAIL = 1, AGC_CLI_USAGE = 2 };

typedef struct agc_cli_cmd {
    const char *name;                  /* first word, e.g. "config" */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *usage;                 /* one line: "config check FILE" */
    const char *summary;               /* one line of help */
} agc_cli_cmd;

/* NULL-terminated table (commands.c). */
extern const agc_cli_cmd agc_cli_commands[];

/* Prints "agentc: <msg>" and the ctx's error chain to stderr. */
void agc_cli_error(agc_ctx *ctx, const char *fmt, ...) AGC_PRINTF(2, 3);
/* Prints "agentc: usage: <usage>" to stderr and returns AGC_CLI_USAGE. */
int agc_cli_usage(const char *usage);
/* Creates the ctx every command uses (logging configured from AGENTC_LOG_*). NULL on failure. */
agc_ctx *agc_cli_ctx(void);

int agc_cmd_config(int argc, char **argv);
int agc_cmd_schema(int argc, char **argv);
int agc_cmd_models(int argc, char **argv);
int agc_cmd_ask(int argc, char **argv);
int agc_cmd_run(int argc, char **argv);
int agc_cmd_chat(int argc, char **argv);
int agc_cmd_sessions(int argc, char **argv);
int agc_cmd_resume(int argc, char **argv);
int agc_cmd_approve(int argc, char **argv);
int agc_cmd_init(int argc, char **argv);
int agc_cmd_sandbox(int argc, char **argv);
int agc_cmd_audit(int argc, char **argv);
int agc_cmd_apply(int argc, char **argv);
int agc_cmd_code(int argc, char **argv);
int agc_cmd_gen(int argc, char **argv);
int agc_cmd_outline(int argc, char **argv);
int agc_cmd_map(int argc, char **argv);
int agc_cmd_consent(int argc, char **argv);
int agc_cmd_erase(int argc, char **argv);
int agc_cmd_retention(int argc, char **argv);
int agc_cmd_compliance(int argc, char **argv);

/* ---- privacy (privacy_cli.c; docs/audit.md) ---------------------------------------- */

#include <jansson.h>

typedef struct agc_audit agc_audit;
typedef struct agc_store agc_store;
typedef struct agc_privacy agc_privacy;
typedef struct agc_audit_sink_opts agc_audit_sink_opts;

/* The default trail path ($AGENTC_AUDIT, XDG, HOME); caller frees; NULL + ctx error. */
char *agc_cli_trail_default(agc_ctx *ctx);
/* The privacy database path: flag, else privacy.path, else the default. Caller frees. */
char *agc_cli_privacy_path(const json_t *privacy_section, const char *flag, agc_ctx *ctx);
/* Applies privacy.pii / secrets / patterns to ctx's redactor. */
agc_status agc_cli_redaction_apply(const json_t *privacy_section, agc_ctx *ctx);
/* Purges per retention ({"sessions": days, "audit": days}); records it. Exit code. */
int agc_cli_retention_purge(agc_ctx *ctx, const json_t *retention, agc_store *store,
                            agc_audit *audit, agc_privacy *priv, bool quiet);

typedef struct agc_cli_privacy_setup_args {
    agc_ctx *ctx;
    const json_t *agent_json;  /* the agent definition (its "privacy" section) */
    const char *subject;       /* --subject, or NULL (then privacy.subject) */
    const char *purpose;       /* --purpose, or NULL (then privacy.purpose) */
    agc_store *store;          /* attached for sealing; may be NULL */
    agc_audit *audit;          /* attached for sealing; consent check recorded; may be NULL */
    agc_audit_sink_opts *sink; /* filled (subject, fields, include_content); may be NULL */
    agc_privacy **privacy_out; /* opened when needed; the caller closes it after store/audit */
} agc_cli_privacy_setup_args;

/*
 * For a run: applies the privacy section, opens the privacy database, purges
 * per retention, checks the subject's consent (refusing with exit 1 and an
 * audited consent.check "denied"), attaches store and trail. Exit code.
 */
int agc_cli_privacy_setup(agc_cli_privacy_setup_args *a);

typedef struct agc_cli_priv_args {
    const char *privacy, *trail, *store; /* --privacy, --trail, --store */
    bool json;                           /* --json */
    long long sessions_days, audit_days; /* --sessions-days, --audit-days (-1: not given) */
    const char *pos[4];                  /* positional arguments */
    int npos;
} agc_cli_priv_args;
/* Parses those options; 0 ok, -1 help printed, else an exit code. */
int agc_cli_priv_parse(agc_cli_priv_args *a, int argc, char **argv, const char *usage);
/* The agent file of a privacy command: a->pos[1], else ./agent.yaml when it exists; *def
 * stays NULL when there is none. Prints the error; exit code. */
typedef struct agc_agent_def agc_agent_def;
int agc_cli_priv_load_agent(agc_agent_def **def, const agc_cli_priv_args *a, agc_ctx *ctx);

typedef struct agc_cli_priv_open_args {
    agc_ctx *ctx;
    const json_t *privacy_section; /* an agent file's, or NULL */
    const char *privacy_flag, *trail_flag, *store_flag;
    agc_privacy **privacy; /* always opened */
    agc_audit **audit;     /* opened when not NULL */
    agc_store **store;     /* opened when not NULL (privacy attached) */
} agc_cli_priv_open_args;
/* Opens what o asks for (messages printed); the caller closes. Exit code. */
int agc_cli_priv_open(agc_cli_priv_open_args *o);

typedef struct agc_cli_host agc_cli_host;
/* --subject / --purpose of the runs a host drives (copied; NULL: none). Exit code. */
int agc_cli_host_set_subject(agc_cli_host *h, const char *subject, const char *purpose);
int agc_cmd_mcp(int argc, char **argv);

#endif
