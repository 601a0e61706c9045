/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc run [AGENT_FILE] [TASK|-]`: one agent run on one task, with the
 * terminal view (run_ui.c), JSONL events (--json) or only the answer (-q).
 * Also the host every run-driving command shares (run_ui.h): ctx, session
 * store, event bus and sinks (the audit trail's among them), approval wiring,
 * the signal-waiting thread that cancels the run on SIGINT/SIGTERM, and the
 * mapping of outcomes to exit codes. Invariant: the runtime drives the run (agc_run_until_done);
 * this file only wires it and reports. Every step is persisted by the runtime.
 */
/* tool.h and provider.h both name agc_tool_call (a function, a type): see src/runtime/run_int.h */
#define agc_tool_call agc__tool_call_fn_shadowed
#include "agentc/tool.h"
#undef agc_tool_call
#include "agentc/provider.h"

#include <getopt.h>
#include <sodium.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/buf.h"
#include "agentc/event.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/privacy.h"
#include "agentc/runtime.h"
#include "agentc/store.h"
#include "cli.h"
#include "run_ui.h"

#define TASK_MAX ((size_t)1 << 20)

bool agc_cli_approve_mode_ok(const char *mode)
{
    static const char *const modes[] = {"deny", "reads", "all", "ask"};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (strcmp(mode, modes[i]) == 0)
            return true;
    return false;
}

/* ---- the host --------------------------------------------------------------------- */

struct agc_cli_host {
    agc_ctx *ctx;
    agc_store *store;
    char *store_path;
    agc_event_bus *bus;
    agc_provider *inner;
    agc_provider *rec;
    agc_run_ui ui;
    /* audit trail: opened once, at the first run (its agent file decides) */
    char *audit_flag;         /* --audit PATH (copied), or NULL */
    bool audit_done;          /* agc_cli_host_audit ran (successfully) */
    agc_audit *audit;         /* NULL: no trail (disabled) */
    agc_event_sink *audit_sk; /* owned by the bus; kept to count dropped events */
    char *subject, *purpose;  /* --subject / --purpose (privacy_cli.c) */
    agc_privacy *privacy;     /* opened by the privacy section or a subject */
    bool json;
    bool interactive;
    bool explicit_store; /* --store was given: repeat it in hints */
    bool session_line;   /* print "session ID" after a drive */
    agc_approve_mode approve;
    /* signals */
    pthread_t thread;
    bool thread_running;
    sigset_t set;
    pthread_mutex_t mu; /* guards run (the thread cancels it) */
    agc_run *run;
    volatile sig_atomic_t got;
    int wake[2];
};

static void *sig_main(void *arg)
{
    agc_cli_host *h = arg;
    int sig = 0;
    while (sigwait(&h->set, &sig) == 0) {
        if (sig == SIGUSR1)
            break; /* host closing */
        if (!h->got)
            h->got = sig;
        if (h->wake[1] >= 0) {
            char c = 1;
            ssize_t n = write(h->wake[1], &c, 1);
            (void)n;
        }
        pthread_mutex_lock(&h->mu);
        if (h->run)
            agc_run_cancel(h->run);
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

static agc_approval_decision approver(const agc_approval_request *req, char *reason,
                                      size_t reason_size, void *user)
{
    agc_cli_host *h = user;
    if (h->got)
        return AGC_APPROVAL_DEFER;
    switch (agc_run_ui_ask(&h->ui, req->tool, req->args, reason, reason_size)) {
    case AGC_RUN_UI_ALLOW_ONCE:
        return AGC_APPROVAL_ALLOW_ONCE;
    case AGC_RUN_UI_ALLOW_ALWAYS:
        return AGC_APPROVAL_ALLOW_ALWAYS;
    case AGC_RUN_UI_DENY:
        if (!reason[0])
            snprintf(reason, reason_size, "the user denied this call");
        return AGC_APPROVAL_DENY;
    default:
        return AGC_APPROVAL_DEFER;
    }
}

agc_cli_host *agc_cli_host_open(const agc_cli_host_opts *o, int *code_out)
{
    *code_out = AGC_CLI_FAIL;
    agc_approve_mode mode = AGC_APPROVE_MODE_DEFAULT;
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return NULL;
    if (o->approve && agc_approve_mode_parse(&mode, o->approve, ctx) != AGC_OK) {
        agc_cli_error(ctx, "bad --approve");
        agc_ctx_free(ctx);
        *code_out = AGC_CLI_USAGE;
        return NULL;
    }
    agc_cli_host *h = agc_calloc(ctx, 1, sizeof *h);
    if (!h) {
        agc_cli_error(ctx, "cannot start");
        agc_ctx_free(ctx);
        return NULL;
    }
    h->ctx = ctx;
    h->json = o->json;
    h->explicit_store = o->store_path != NULL;
    h->session_line = !o->no_session_line;
    h->approve = mode;
    h->wake[0] = h->wake[1] = -1;
    pthread_mutex_init(&h->mu, NULL);
    agc_run_ui_init(&h->ui, o->quiet || o->json);
    h->interactive = agc_run_ui_interactive() && mode == AGC_APPROVE_MODE_DEFAULT;
    h->ui.prompts = h->interactive;

    h->store_path = o->store_path ? agc_strdup(ctx, o->store_path) : agc_store_default_path(ctx);
    if (o->audit_path && !(h->audit_flag = agc_strdup(ctx, o->audit_path)))
        goto fail_msg;
    agc_event_sink *sink = NULL;
    if (!h->store_path || agc_store_open_sqlite(&h->store, h->store_path, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the session store%s%s", h->store_path ? " " : "",
                      h->store_path ? h->store_path : "");
        goto fail;
    }
    if (agc_event_bus_new(&h->bus, ctx) != AGC_OK)
        goto fail_msg;
    if (o->json ? agc_event_sink_jsonl_stream(&sink, stdout, NULL, ctx)
                : agc_event_sink_callback(&sink, agc_run_ui_event, &h->ui, ctx))
        goto fail_msg;
    if (agc_event_bus_add_sink(h->bus, sink, AGC_EVENT_MASK_ALL) != AGC_OK) {
        agc_event_sink_free(sink);
        goto fail_msg;
    }
    if (!o->no_signals) {
        if (pipe(h->wake) != 0)
            h->wake[0] = h->wake[1] = -1;
        h->ui.wake_fd = h->wake[0];
        sigemptyset(&h->set);
        sigaddset(&h->set, SIGINT);
        sigaddset(&h->set, SIGTERM);
        sigaddset(&h->set, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &h->set, NULL);
        h->thread_running = pthread_create(&h->thread, NULL, sig_main, h) == 0;
    }
    *code_out = AGC_CLI_OK;
    return h;
fail_msg:
    agc_cli_error(ctx, "cannot set up the run");
fail:
    agc_cli_host_close(h);
    return NULL;
}

void agc_cli_host_close(agc_cli_host *h)
{
    if (!h)
        return;
    if (h->thread_running) {
        pthread_kill(h->thread, SIGUSR1);
        pthread_join(h->thread, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (h->wake[i] >= 0)
            close(h->wake[i]);
    agc_provider_close(h->rec);
    agc_provider_close(h->inner);
    if (h->bus && h->audit_sk && agc_event_bus_flush(h->bus) != AGC_OK)
        agc_cli_error(h->ctx, "warning: cannot flush the audit trail %s", agc_audit_path(h->audit));
    agc_event_bus_free(h->bus); /* frees the audit sink: before the trail it writes to */
    agc_audit_close(h->audit);
    agc_store_close(h->store);
    agc_privacy_close(h->privacy);
    pthread_mutex_destroy(&h->mu);
    agc_ctx *ctx = h->ctx;
    agc_free(ctx, h->subject);
    agc_free(ctx, h->purpose);
    agc_free(ctx, h->audit_flag);
    agc_free(ctx, h->store_path);
    agc_free(ctx, h);
    agc_ctx_free(ctx);
}

agc_ctx *agc_cli_host_ctx(agc_cli_host *h)
{
    return h->ctx;
}
agc_store *agc_cli_host_store(agc_cli_host *h)
{
    return h->store;
}
const char *agc_cli_host_store_path(agc_cli_host *h)
{
    return h->store_path;
}
agc_run_ui *agc_cli_host_ui(agc_cli_host *h)
{
    return &h->ui;
}
int agc_cli_host_signal(agc_cli_host *h)
{
    return h->got;
}

void agc_cli_host_run_opts(agc_cli_host *h, agc_run_opts *ro)
{
    ro->store = h->store;
    ro->events = h->bus;
    ro->approve = h->approve;
    if (h->interactive) {
        ro->approver = approver;
        ro->approver_user = h;
    }
    if (h->rec || h->inner)
        ro->provider = h->rec ? h->rec : h->inner;
}

int agc_cli_host_provider(agc_cli_host *h, const json_t *provider_cfg, const char *model,
                          const char *cassette, const char *record, agc_provider **out)
{
    *out = NULL;
    if (!cassette && !record)
        return AGC_CLI_OK;
    agc_status st;
    if (cassette) {
        agc_provider_opts po = AGC_PROVIDER_OPTS_INIT;
        po.preset = "replay";
        po.cassette = cassette;
        po.model = model;
        st = agc_provider_open(&h->inner, &po, h->ctx);
    } else {
        st = agc_provider_open_config(&h->inner, provider_cfg, h->ctx);
    }
    if (st != AGC_OK) {
        agc_cli_error(h->ctx, "cannot open the provider");
        return AGC_CLI_FAIL;
    }
    if (record && agc_provider_recorder_new(&h->rec, h->inner, record, h->ctx) != AGC_OK) {
        agc_cli_error(h->ctx, "cannot record to %s", record);
        return AGC_CLI_FAIL;
    }
    *out = h->rec ? h->rec : h->inner;
    return AGC_CLI_OK;
}

/* ---- the audit trail ------------------------------------------------------------- */

/* The trail path when neither --audit nor audit.path gives one (as `agentc audit`). */
static char *audit_default_path(agc_ctx *ctx)
{
    const char *env = getenv("AGENTC_AUDIT");
    if (env && *env)
        return agc_strdup(ctx, env);
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/')
        return agc_sprintf(ctx, "%s/agentc/audit.db", xdg);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        agc_error_set(ctx, AGC_ENOTFOUND, "cli",
                      "no audit trail path: set HOME, AGENTC_AUDIT or audit.path, pass --audit "
                      "PATH, or turn the trail off with audit: {enabled: false}");
        return NULL;
    }
    return agc_sprintf(ctx, "%s/.local/share/agentc/audit.db", home);
}

int agc_cli_host_set_subject(agc_cli_host *h, const char *subject, const char *purpose)
{
    if ((subject && !(h->subject = agc_strdup(h->ctx, subject))) ||
        (purpose && !(h->purpose = agc_strdup(h->ctx, purpose))))
        return AGC_CLI_FAIL;
    return AGC_CLI_OK;
}

/* A config.loaded record: which agent file, its digest (canonical JSON, after
 * overrides), provider and model. A failure to record is a warning. */
static void audit_config_loaded(agc_cli_host *h, const agc_agent_def *def)
{
    if (!def || !h->audit)
        return;
    agc_ctx *ctx = h->ctx;
    char *canon = NULL;
    size_t len = 0;
    char hex[crypto_hash_sha256_BYTES * 2 + 1] = "";
    if (agc_json_canonical(&canon, &len, agc_agent_def_json(def), ctx) == AGC_OK) {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(d, (const unsigned char *)canon, len);
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    }
    agc_free(ctx, canon);
    agc_ctx *prev = agc_json_enter(ctx);
    const json_t *prov = json_object_get(agc_agent_def_json(def), "provider");
    json_t *p = json_pack("{s:s?, s:s?, s:s, s:s?, s:s?}", "agent", agc_agent_def_name(def),
                          "source", agc_agent_def_source(def), "sha256", hex, "provider",
                          agc_json_str(prov, "name", NULL), "model", agc_agent_def_model(def));
    agc_json_leave(prev);
    agc_audit_entry e = {.actor = "agentc",
                         .subject = h->subject,
                         .action = "config.loaded",
                         .outcome = "ok",
                         .payload = p};
    if (!p || agc_audit_append(h->audit, &e, NULL) != AGC_OK)
        agc_log(ctx, AGC_LOG_WARN, "audit", "cannot record config.loaded: %s", agc_ctx_errmsg(ctx));
    prev = agc_json_enter(ctx);
    json_decref(p);
    agc_json_leave(prev);
}

int agc_cli_host_audit(agc_cli_host *h, const agc_agent_def *def)
{
    if (h->audit_done)
        return AGC_CLI_OK;
    agc_ctx *ctx = h->ctx;
    const json_t *cfg = def ? json_object_get(agc_agent_def_json(def), "audit") : NULL;
    agc_cli_privacy_setup_args pa = {ctx,        def ? agc_agent_def_json(def) : NULL,
                                     h->subject, h->purpose,
                                     h->store,   NULL,
                                     NULL,       &h->privacy};
    if (!h->audit_flag && !agc_json_bool(cfg, "enabled", true)) {
        int pc = agc_cli_privacy_setup(&pa);
        h->audit_done = pc == AGC_CLI_OK;
        return pc;
    }
    agc_audit_opts ao = AGC_AUDIT_OPTS_INIT;
    const char *dur = agc_json_str(cfg, "durability", "full");
    ao.durability = strcmp(dur, "batched") == 0 ? AGC_AUDIT_SYNC_BATCH : AGC_AUDIT_SYNC_EACH;
    long long every = agc_json_int(cfg, "checkpoint_every", 0);
    ao.checkpoint_every = every > 0 && every <= (long long)UINT32_MAX ? (unsigned)every : 0;
    ao.signing_key_ref = agc_json_str(cfg, "signing_key", NULL);
    const char *cfg_path = agc_json_str(cfg, "path", NULL);
    char *path = h->audit_flag ? agc_strdup(ctx, h->audit_flag)
                 : cfg_path    ? agc_strdup(ctx, cfg_path)
                               : audit_default_path(ctx);
    agc_event_sink *sink = NULL;
    agc_audit_sink_opts so = AGC_AUDIT_SINK_OPTS_INIT;
    int pc = AGC_CLI_OK;
    if (path && agc_audit_open(&h->audit, path, &ao, ctx) == AGC_OK) {
        pa.audit = h->audit;
        pa.sink = &so;
        pc = agc_cli_privacy_setup(&pa);
    }
    if (pc != AGC_CLI_OK || !h->audit || agc_audit_sink_new(&sink, h->audit, &so) != AGC_OK) {
        if (pc == AGC_CLI_OK)
            agc_cli_error(ctx, "cannot open the audit trail%s%s", path ? " " : "",
                          path ? path : "");
        agc_free(ctx, path);
        agc_audit_close(h->audit);
        h->audit = NULL;
        return pc != AGC_CLI_OK ? pc : AGC_CLI_FAIL;
    }
    agc_free(ctx, path);
    if (agc_event_bus_add_sink(h->bus, sink, AGC_AUDIT_EVENT_MASK) != AGC_OK) {
        agc_event_sink_free(sink);
        agc_cli_error(ctx, "cannot attach the audit trail");
        agc_audit_close(h->audit);
        h->audit = NULL;
        return AGC_CLI_FAIL;
    }
    h->audit_sk = sink;
    h->audit_done = true;
    audit_config_loaded(h, def);
    return AGC_CLI_OK;
}

const char *agc_cli_host_audit_path(agc_cli_host *h)
{
    return h->audit ? agc_audit_path(h->audit) : NULL;
}

/* Commits what the trail buffers and warns about events it could not take. */
static void audit_settle(agc_cli_host *h)
{
    if (!h->audit_sk)
        return;
    if (agc_event_bus_flush(h->bus) != AGC_OK)
        agc_cli_error(h->ctx, "warning: cannot flush the audit trail %s", agc_audit_path(h->audit));
    uint64_t lost = agc_event_sink_dropped(h->audit_sk);
    if (lost)
        fprintf(stderr,
                "agentc: warning: %llu event%s could not be written to the audit trail %s\n",
                (unsigned long long)lost, lost == 1 ? "" : "s", agc_audit_path(h->audit));
}

static void print_pending(agc_cli_host *h, agc_run *run)
{
    const char *id = agc_run_id(run);
    size_t n = agc_run_pending_count(run);
    fprintf(stderr, "agentc: run %s is paused: %zu tool call%s wait%s for approval\n", id, n,
            n == 1 ? "" : "s", n == 1 ? "s" : "");
    for (size_t i = 0; i < n; i++) {
        const agc_approval_request *r = agc_run_pending_at(run, i);
        char call[256];
        agc_run_ui_call_text(call, sizeof call, r->tool, r->args);
        fprintf(stderr, "  %s  %s\n    %s\n", r->call_id, call, r->reason ? r->reason : "");
    }
    const char *call = n ? agc_run_pending_at(run, 0)->call_id : "CALL";
    fprintf(stderr,
            "decide, then continue:\n"
            "  agentc approve %s %s --allow      (or --deny [--reason TEXT])\n"
            "  agentc resume %s\n",
            id, call, id);
    if (h->explicit_store)
        fprintf(stderr, "  (both with --store %s)\n", h->store_path);
}

int agc_cli_host_drive(agc_cli_host *h, agc_run *run)
{
    int acode = agc_cli_host_audit(h, agc_run_def(run));
    if (acode != AGC_CLI_OK)
        return acode;
    pthread_mutex_lock(&h->mu);
    h->run = run;
    if (h->got)
        agc_run_cancel(run);
    pthread_mutex_unlock(&h->mu);
    agc_status st = agc_run_until_done(run);
    pthread_mutex_lock(&h->mu);
    h->run = NULL;
    pthread_mutex_unlock(&h->mu);
    (void)st;
    audit_settle(h);

    agc_run_ui_newline(&h->ui);
    agc_run_status rs = agc_run_status_get(run);
    const char *id = agc_run_id(run);
    const char *reason = agc_run_reason(run);
    const char *out = agc_run_output(run);
    bool quiet = h->ui.quiet && !h->json; /* -q */
    int code;
    if (h->got || rs == AGC_RUN_CANCELED) {
        fprintf(stderr, "agentc: %s; session %s saved (status %s); see 'agentc sessions show %s'\n",
                h->got == SIGTERM ? "terminated" : "interrupted", id, agc_run_status_name(rs), id);
        return h->got == SIGTERM ? AGC_CLI_SIGTERM : AGC_CLI_SIGINT;
    }
    switch (rs) {
    case AGC_RUN_FINISHED:
        if (quiet) {
            printf("%s\n", out ? out : "");
        } else if (!h->json && !h->ui.text_seen && out && *out) {
            printf("%s\n", out); /* the answer was not streamed */
        }
        code = AGC_CLI_OK;
        break;
    case AGC_RUN_AWAITING_APPROVAL:
        print_pending(h, run);
        code = AGC_CLI_PAUSED;
        break;
    case AGC_RUN_BUDGET_EXCEEDED:
        fprintf(stderr, "agentc: %s\n", reason ? reason : "budget exceeded");
        code = AGC_CLI_BUDGET;
        break;
    default:
        if (reason)
            fprintf(stderr, "agentc: run failed: %s\n", reason);
        else
            agc_cli_error(h->ctx, "run failed");
        code = AGC_CLI_FAIL;
        break;
    }
    fflush(stdout);
    if (!quiet && !h->json && h->session_line && *id)
        fprintf(stderr, "session %s\n", id);
    return ferror(stdout) && code == AGC_CLI_OK ? AGC_CLI_FAIL : code;
}

/* ---- the command ------------------------------------------------------------------ */

#define USAGE                                                                                      \
    "run [AGENT_FILE] [TASK|-] [--json] [-q] [--approve deny|reads|all] [--model M] "              \
    "[--provider P] [--store PATH] [--audit PATH] [--record CASSETTE] [--cassette CASSETTE] "      \
    "[--subject S --purpose P]"

typedef struct run_args {
    const char *agent;
    const char *task;
    const char *model;
    const char *provider;
    const char *record;
    const char *cassette;
    const char *subject, *purpose;
    agc_cli_host_opts host;
} run_args;

static bool looks_like_agent_file(const char *s)
{
    size_t n = strlen(s);
    struct stat st;
    bool ext = (n > 5 && strcmp(s + n - 5, ".yaml") == 0) ||
               (n > 4 && strcmp(s + n - 4, ".yml") == 0) ||
               (n > 5 && strcmp(s + n - 5, ".json") == 0);
    return ext && stat(s, &st) == 0 && S_ISREG(st.st_mode);
}

/* 0: run; -1: --help printed; else the exit code. */
static int parse_args(run_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"quiet", no_argument, NULL, 'q'},
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
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":qm:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'J':
            a->host.json = true;
            break;
        case 'q':
            a->host.quiet = true;
            break;
        case 'a':
            if (!agc_cli_approve_mode_ok(optarg)) {
                fprintf(stderr, "agentc: --approve wants deny, reads or all, not '%s'\n", optarg);
                return agc_cli_usage(USAGE);
            }
            a->host.approve = optarg;
            break;
        case 'm':
            a->model = optarg;
            break;
        case 'p':
            a->provider = optarg;
            break;
        case 's':
            a->host.store_path = optarg;
            break;
        case 'A':
            if (!*optarg) {
                fprintf(stderr, "agentc: --audit wants a file path\n");
                return agc_cli_usage(USAGE);
            }
            a->host.audit_path = optarg;
            break;
        case 'r':
            a->record = optarg;
            break;
        case 'S':
            a->subject = optarg;
            break;
        case 'P':
            a->purpose = optarg;
            break;
        case 'c':
            a->cassette = optarg;
            break;
        case 'h':
            printf("usage: agentc %s\n%s\n", USAGE, AGC_CLI_EXIT_CODES);
            return -1;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(USAGE);
        }
    }
    int npos = argc - optind;
    if (npos > 2) {
        fprintf(stderr, "agentc: one agent file and one task (quote it): unexpected '%s'\n",
                argv[optind + 2]);
        return agc_cli_usage(USAGE);
    }
    if (npos == 2) {
        a->agent = argv[optind];
        a->task = argv[optind + 1];
    } else if (npos == 1 && looks_like_agent_file(argv[optind])) {
        a->agent = argv[optind];
    } else if (npos == 1) {
        a->task = argv[optind];
    }
    if (!a->agent)
        a->agent = "agent.yaml";
    if (a->host.json && a->host.quiet) {
        fprintf(stderr, "agentc: --json and -q exclude each other\n");
        return agc_cli_usage(USAGE);
    }
    if (a->record && a->cassette) {
        fprintf(stderr, "agentc: --record and --cassette exclude each other\n");
        return agc_cli_usage(USAGE);
    }
    if (a->cassette && a->provider) {
        fprintf(stderr, "agentc: --cassette replays a recording; it takes no --provider\n");
        return agc_cli_usage(USAGE);
    }
    return 0;
}

/* Reads the task from stdin (trailing newlines cut). NULL on failure (message printed). */
static char *read_task(agc_ctx *ctx)
{
    agc_buf b;
    agc_buf_init(&b, ctx, TASK_MAX);
    char chunk[8192];
    size_t n;
    agc_status st = AGC_OK;
    while (st == AGC_OK && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        st = agc_buf_append(&b, chunk, n);
    while (st == AGC_OK && b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = '\0';
    if (st != AGC_OK || ferror(stdin) || b.len == 0) {
        fprintf(stderr, "agentc: %s\n",
                st != AGC_OK ? "the task on stdin is too large" : "the task on stdin is empty");
        agc_buf_free(&b);
        return NULL;
    }
    return agc_buf_detach(&b, NULL);
}

/*
 * The process environment plus AGENTC_PROVIDER__* overrides for --model and
 * --provider (replacing any such variable already set), without AGENTC_AUDIT:
 * that one is the default trail path (as for `agentc audit`), not an override
 * of the agent file's audit section (AGENTC_AUDIT__PATH and friends are). NULL-terminated;
 * the strings are borrowed except the overrides (freed with the array).
 */
extern char **environ;
static char **override_env(agc_ctx *ctx, const char *model, const char *provider)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = agc_calloc(ctx, n + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if ((model && strncmp(environ[i], "AGENTC_PROVIDER__MODEL=", 23) == 0) ||
            (provider && strncmp(environ[i], "AGENTC_PROVIDER__NAME=", 22) == 0) ||
            strncmp(environ[i], "AGENTC_AUDIT=", 13) == 0)
            continue;
        env[k++] = environ[i];
    }
    char *m = model ? agc_sprintf(ctx, "AGENTC_PROVIDER__MODEL=%s", model) : NULL;
    char *p = provider ? agc_sprintf(ctx, "AGENTC_PROVIDER__NAME=%s", provider) : NULL;
    if ((model && !m) || (provider && !p)) {
        agc_free(ctx, m);
        agc_free(ctx, p);
        agc_free(ctx, env);
        return NULL;
    }
    if (m)
        env[k++] = m;
    if (p)
        env[k++] = p;
    env[k] = NULL;
    return env;
}

static void free_env(agc_ctx *ctx, char **env, const char *model, const char *provider)
{
    if (!env)
        return;
    size_t n = 0;
    while (env[n])
        n++;
    size_t own = (model != NULL) + (provider != NULL);
    for (size_t i = n - own; i < n; i++)
        agc_free(ctx, env[i]);
    agc_free(ctx, env);
}

agc_status agc_cli_load_agent(agc_agent_def **out, const char *path, const char *model,
                              const char *provider, agc_ctx *ctx)
{
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    char **env = override_env(ctx, model, provider);
    if (!env)
        return AGC_ENOMEM;
    co.env = (const char *const *)env;
    agc_status st = agc_agent_def_load(out, path, &co, ctx);
    free_env(ctx, env, model, provider);
    return st;
}

int agc_cmd_run(int argc, char **argv)
{
    run_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    if (!a.task && isatty(STDIN_FILENO)) {
        fprintf(stderr, "agentc: no task: give it as an argument or on stdin\n");
        return agc_cli_usage(USAGE);
    }
    agc_cli_host *h = agc_cli_host_open(&a.host, &rc);
    if (!h)
        return rc;
    agc_ctx *ctx = agc_cli_host_ctx(h);
    char *stdin_task = NULL;
    agc_agent_def *def = NULL;
    agc_run *run = NULL;
    rc = agc_cli_host_set_subject(h, a.subject, a.purpose);
    if (rc != AGC_CLI_OK)
        goto done;
    rc = AGC_CLI_FAIL;
    if (!a.task || strcmp(a.task, "-") == 0) {
        stdin_task = read_task(ctx);
        if (!stdin_task) {
            rc = AGC_CLI_USAGE;
            goto done;
        }
        a.task = stdin_task;
    }
    /* --model is the run's model override (stored with the run, kept by a
     * resume); --provider still rewrites the definition's provider section */
    if (agc_cli_load_agent(&def, a.agent, NULL, a.provider, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot load the agent");
        goto done;
    }
    agc_run_opts ro = AGC_RUN_OPTS_INIT;
    agc_provider *p = NULL;
    rc = agc_cli_host_provider(h, agc_agent_def_provider(def),
                               a.model ? a.model : agc_agent_def_model(def), a.cassette, a.record,
                               &p);
    if (rc != AGC_CLI_OK)
        goto done;
    rc = agc_cli_host_audit(h, def);
    if (rc != AGC_CLI_OK)
        goto done;
    agc_cli_host_run_opts(h, &ro);
    ro.model = a.model;
    if (agc_run_new(&run, def, a.task, &ro, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot start the run");
        rc = AGC_CLI_FAIL;
        goto done;
    }
    rc = agc_cli_host_drive(h, run);
done:
    agc_run_free(run);
    agc_agent_def_unref(def);
    agc_free(ctx, stdin_task);
    agc_cli_host_close(h);
    return rc;
}
