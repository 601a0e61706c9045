/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The agent file's privacy section in the CLI: redaction rules (PII
 * detectors, registered secrets, patterns), the data subject and purpose of a
 * run and its consent check, retain_content, per-field policies for the audit
 * trail, and retention purged at start-up. Shared by run, chat, resume and the
 * consent / erase / retention / compliance commands. Invariant: a run that
 * names a subject starts only with a current consent for its purpose; the
 * check and its outcome are recorded in the audit trail when there is one.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/privacy.h"
#include "agentc/redact.h"
#include "agentc/secret.h"
#include "agentc/store.h"
#include "cli.h"
#include "run_ui.h"

#define DAY_MS ((int64_t)86400000)

char *agc_cli_trail_default(agc_ctx *ctx)
{
    const char *env = getenv("AGENTC_AUDIT");
    if (env && *env)
        return agc_strdup(ctx, env);
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/')
        return agc_sprintf(ctx, "%s/agentc/audit.db", xdg);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        agc_error_set(ctx, AGC_ENOTFOUND, "cli", "no audit trail path: set HOME or AGENTC_AUDIT");
        return NULL;
    }
    return agc_sprintf(ctx, "%s/.local/share/agentc/audit.db", home);
}

agc_status agc_cli_redaction_apply(const json_t *priv, agc_ctx *ctx)
{
    if (!json_is_object(priv))
        return AGC_OK;
    const char *retain = agc_json_str(priv, "retain_content", "redacted");
    const json_t *pii = json_object_get(priv, "pii");
    agc_status st = AGC_OK;
    if (json_is_array(pii)) {
        size_t i;
        json_t *v;
        json_array_foreach(pii, i, v)
        {
            if (st == AGC_OK)
                st =
                    agc_redact_enable(ctx, json_string_value(v) ? json_string_value(v) : "?", true);
        }
    } else if (json_is_true(pii) || (!pii && strcmp(retain, "full") != 0)) {
        st = agc_redact_enable_pii(ctx, true);
    }
    const json_t *secrets = json_object_get(priv, "secrets");
    size_t i;
    json_t *v;
    json_array_foreach(st == AGC_OK ? secrets : NULL, i, v)
    {
        agc_secret *sec = NULL;
        st = agc_secret_from_ref(&sec, json_string_value(v), ctx);
        size_t n = 0;
        const char *val = st == AGC_OK ? agc_secret_reveal(sec, &n) : NULL;
        if (val)
            st = agc_redact_add_secret(ctx, val, n);
        agc_secret_free(sec);
        if (st != AGC_OK)
            break;
    }
    const char *name;
    json_object_foreach(st == AGC_OK ? json_object_get(priv, "patterns") : NULL, name, v)
    {
        st = agc_redact_add_pattern(ctx, name, json_string_value(v) ? json_string_value(v) : "");
        if (st != AGC_OK)
            break;
    }
    return st;
}

char *agc_cli_privacy_path(const json_t *priv, const char *flag, agc_ctx *ctx)
{
    if (flag)
        return agc_strdup(ctx, flag);
    const char *p = agc_json_str(priv, "path", NULL);
    return p ? agc_strdup(ctx, p) : agc_privacy_default_path(ctx);
}

/* Appends one record (errors reported, not fatal unless fatal). */
static agc_status audit_note(agc_audit *a, const char *subject, const char *action,
                             const char *outcome, json_t *payload)
{
    if (!a) {
        json_decref(payload);
        return AGC_OK;
    }
    agc_audit_entry e = {.actor = "agentc",
                         .subject = subject,
                         .action = action,
                         .outcome = outcome,
                         .payload = payload};
    agc_status st = agc_audit_append(a, &e, NULL);
    if (st == AGC_OK)
        st = agc_audit_flush(a);
    json_decref(payload);
    return st;
}

int agc_cli_retention_purge(agc_ctx *ctx, const json_t *retention, agc_store *store,
                            agc_audit *audit, agc_privacy *priv, bool quiet)
{
    if (!json_is_object(retention))
        return AGC_CLI_OK;
    int64_t now = agc_clock_now_ms(ctx);
    long long sdays = agc_json_int(retention, "sessions", -1);
    long long adays = agc_json_int(retention, "audit", -1);
    size_t sn = 0;
    uint64_t an = 0;
    if (store && sdays >= 0) {
        if (agc_store_purge_before(store, now - sdays * DAY_MS, &sn) != AGC_OK) {
            agc_cli_error(ctx, "retention: cannot purge old sessions");
            return AGC_CLI_FAIL;
        }
        if (sn && audit_note(audit, NULL, "retention.purge", "ok",
                             json_pack("{s:s, s:I, s:I}", "class", "sessions", "days",
                                       (json_int_t)sdays, "deleted", (json_int_t)sn)) != AGC_OK) {
            agc_cli_error(ctx, "retention: cannot record the purge");
            return AGC_CLI_FAIL;
        }
    }
    if (audit && adays >= 0 && agc_audit_prune(audit, now - adays * DAY_MS, &an) != AGC_OK) {
        agc_cli_error(ctx, "retention: cannot prune the audit trail");
        return AGC_CLI_FAIL;
    }
    if (priv) {
        json_t *fact =
            json_pack("{s:I, s:O, s:I, s:I}", "time_ms", (json_int_t)now, "settings", retention,
                      "sessions_deleted", (json_int_t)sn, "audit_records_deleted", (json_int_t)an);
        agc_status st = fact ? agc_privacy_fact_set(priv, "last_purge", fact) : AGC_ENOMEM;
        json_decref(fact);
        if (st != AGC_OK) {
            agc_cli_error(ctx, "retention: cannot record the purge");
            return AGC_CLI_FAIL;
        }
    }
    if (!quiet)
        printf("purged %zu session%s and %llu audit record%s\n", sn, sn == 1 ? "" : "s",
               (unsigned long long)an, an == 1 ? "" : "s");
    return AGC_CLI_OK;
}

int agc_cli_privacy_setup(agc_cli_privacy_setup_args *a)
{
    agc_ctx *ctx = a->ctx;
    const json_t *priv = json_object_get(a->agent_json, "privacy");
    const char *subject = a->subject ? a->subject : agc_json_str(priv, "subject", NULL);
    const char *purpose = a->purpose ? a->purpose : agc_json_str(priv, "purpose", NULL);
    if (!priv && !subject)
        return AGC_CLI_OK;
    if (agc_cli_redaction_apply(priv, ctx) != AGC_OK) {
        agc_cli_error(ctx, "bad privacy section (pii, secrets or patterns)");
        return AGC_CLI_FAIL;
    }
    const char *retain = agc_json_str(priv, "retain_content", "redacted");
    agc_retain_content rc = strcmp(retain, "none") == 0   ? AGC_RETAIN_NONE
                            : strcmp(retain, "full") == 0 ? AGC_RETAIN_FULL
                                                          : AGC_RETAIN_REDACTED;
    if (a->sink) {
        a->sink->include_content = rc != AGC_RETAIN_NONE;
        a->sink->fields = json_object_get(priv, "fields");
        a->sink->subject = subject;
    }
    char *path = agc_cli_privacy_path(priv, NULL, ctx);
    if (!path || agc_privacy_open(a->privacy_out, path, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the privacy database%s%s", path ? " " : "",
                      path ? path : "");
        agc_free(ctx, path);
        return AGC_CLI_FAIL;
    }
    agc_free(ctx, path);
    agc_privacy *p = *a->privacy_out;
    if (a->audit)
        agc_audit_set_privacy(a->audit, p);
    int code = agc_cli_retention_purge(ctx, json_object_get(priv, "retention"), a->store, a->audit,
                                       p, true);
    if (code != AGC_CLI_OK)
        return code;
    if (subject) {
        bool ok = false;
        if (!*subject || !purpose || !*purpose) {
            agc_cli_error(ctx,
                          "this run names the data subject %s but no purpose: pass "
                          "--purpose P or set privacy.purpose",
                          subject);
            return AGC_CLI_USAGE;
        }
        if (agc_privacy_consent_check(&ok, p, subject, purpose) != AGC_OK) {
            agc_cli_error(ctx, "cannot check consent");
            return AGC_CLI_FAIL;
        }
        if (audit_note(a->audit, subject, "consent.check", ok ? "ok" : "denied",
                       json_pack("{s:s}", "purpose", purpose)) != AGC_OK) {
            agc_cli_error(ctx, "cannot record the consent check");
            return AGC_CLI_FAIL;
        }
        if (!ok) {
            fprintf(stderr,
                    "agentc: refused: data subject %s has no current consent for purpose %s; "
                    "record one with `agentc consent grant %s %s`\n",
                    subject, purpose, subject, purpose);
            return AGC_CLI_FAIL;
        }
    }
    if (a->store && agc_store_set_privacy(a->store, p, subject, rc) != AGC_OK) {
        agc_cli_error(ctx, "cannot set up the store's privacy");
        return AGC_CLI_FAIL;
    }
    return AGC_CLI_OK;
}

/* ---- options shared by consent, erase, retention and compliance ---------------------- */

int agc_cli_priv_parse(agc_cli_priv_args *a, int argc, char **argv, const char *usage)
{
    static const struct option opts[] = {
        {"privacy", required_argument, NULL, 'p'},
        {"trail", required_argument, NULL, 't'},
        {"store", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'J'},
        {"sessions-days", required_argument, NULL, 'S'},
        {"audit-days", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->sessions_days = a->audit_days = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'p':
            a->privacy = optarg;
            break;
        case 't':
            a->trail = optarg;
            break;
        case 's':
            a->store = optarg;
            break;
        case 'J':
            a->json = true;
            break;
        case 'S':
        case 'A': {
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 1000000) {
                fprintf(stderr, "agentc: %s wants a number of days, not '%s'\n", argv[optind - 1],
                        optarg);
                return agc_cli_usage(usage);
            }
            *(c == 'S' ? &a->sessions_days : &a->audit_days) = v;
            break;
        }
        case 'h':
            printf("usage: agentc %s\n", usage);
            return -1;
        case ':':
            fprintf(stderr, "agentc: option %s needs a value\n", argv[optind - 1]);
            return agc_cli_usage(usage);
        default:
            fprintf(stderr, "agentc: unknown option '%s'\n", argv[optind - 1]);
            return agc_cli_usage(usage);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->npos == 4) {
            fprintf(stderr, "agentc: unexpected '%s'\n", argv[i]);
            return agc_cli_usage(usage);
        }
        a->pos[a->npos++] = argv[i];
    }
    return 0;
}

int agc_cli_priv_open(agc_cli_priv_open_args *o)
{
    agc_ctx *ctx = o->ctx;
    char *path = agc_cli_privacy_path(o->privacy_section, o->privacy_flag, ctx);
    if (!path || agc_privacy_open(o->privacy, path, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the privacy database%s%s", path ? " " : "",
                      path ? path : "");
        agc_free(ctx, path);
        return AGC_CLI_FAIL;
    }
    agc_free(ctx, path);
    if (o->audit) {
        path = o->trail_flag ? agc_strdup(ctx, o->trail_flag) : agc_cli_trail_default(ctx);
        if (!path || agc_audit_open(o->audit, path, NULL, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot open the audit trail%s%s", path ? " " : "",
                          path ? path : "");
            agc_free(ctx, path);
            return AGC_CLI_FAIL;
        }
        agc_free(ctx, path);
    }
    if (o->store) {
        path = o->store_flag ? agc_strdup(ctx, o->store_flag) : agc_store_default_path(ctx);
        if (!path || agc_store_open_sqlite(o->store, path, NULL, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot open the session store%s%s", path ? " " : "",
                          path ? path : "");
            agc_free(ctx, path);
            return AGC_CLI_FAIL;
        }
        agc_free(ctx, path);
        if (agc_store_set_privacy(*o->store, *o->privacy, NULL, AGC_RETAIN_FULL) != AGC_OK)
            return AGC_CLI_FAIL;
    }
    return AGC_CLI_OK;
}

int agc_cli_priv_load_agent(agc_agent_def **def, const agc_cli_priv_args *a, agc_ctx *ctx)
{
    *def = NULL;
    const char *file = a->npos == 2 ? a->pos[1] : NULL;
    if (!file && access("agent.yaml", R_OK) == 0)
        file = "agent.yaml";
    if (file && agc_cli_load_agent(def, file, NULL, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot load the agent");
        return AGC_CLI_FAIL;
    }
    return AGC_CLI_OK;
}
