/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc compliance report [AGENT_FILE] [--json]`: a report computed from
 * the real state at the time it runs: subjects, consents and erasures (privacy
 * database), retention settings (agent file) and the last purge, the audit
 * trail verified now (and that result stored as the last verify), session
 * counts, and the redaction rules in force for the agent file. Nothing in it
 * is fixed text except headings and labels.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "agentc/privacy.h"
#include "agentc/redact.h"
#include "agentc/runtime.h"
#include "agentc/store.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "compliance report [AGENT_FILE] [--json] [--privacy PATH] [--trail PATH] [--store PATH]"

static json_t *audit_part(agc_ctx *ctx, agc_audit *trail, agc_privacy *p)
{
    json_t *o = json_pack("{s:s}", "trail", agc_audit_path(trail));
    json_t *stats = NULL;
    if (agc_audit_stats(&stats, trail) == AGC_OK) {
        json_object_set(o, "records", json_object_get(stats, "records"));
        json_object_set(o, "last_seq", json_object_get(stats, "last_seq"));
        json_object_set(o, "checkpoints", json_object_get(stats, "checkpoints"));
        json_decref(stats);
    }
    agc_audit_verify_result res;
    if (agc_audit_verify(&res, trail, NULL) == AGC_OK) {
        json_t *v = json_pack("{s:b, s:s, s:I, s:I, s:b}", "ok", res.ok, "message", res.message,
                              "records", (json_int_t)res.records, "time_ms",
                              (json_int_t)agc_clock_now_ms(ctx), "key_trusted", res.key_trusted);
        if (v && agc_privacy_fact_set(p, "last_verify", v) != AGC_OK)
            agc_cli_error(ctx, "warning: cannot store the verify result");
        json_object_set_new(o, "verify", v);
    } else {
        json_object_set_new(o, "verify",
                            json_pack("{s:b, s:s}", "ok", 0, "message", agc_ctx_errmsg(ctx)));
    }
    return o;
}

static json_t *sessions_part(agc_store *store)
{
    json_t *runs = NULL;
    if (agc_store_run_list(store, NULL, &runs) != AGC_OK)
        return json_null();
    size_t i, with = 0;
    json_t *r;
    json_array_foreach(runs, i, r) with += json_object_get(r, "subject") != NULL;
    json_t *o = json_pack("{s:I, s:I}", "runs", (json_int_t)json_array_size(runs),
                          "runs_with_subject", (json_int_t)with);
    json_decref(runs);
    return o;
}

static json_t *redaction_part(agc_ctx *ctx, const json_t *priv)
{
    json_t *rules = json_array();
    for (size_t i = 0; rules; i++) {
        bool on = false;
        const char *name = agc_redact_rule_at(ctx, i, &on);
        if (!name)
            break;
        json_array_append_new(rules, json_pack("{s:s, s:b}", "name", name, "enabled", on));
    }
    const json_t *fields = json_object_get(priv, "fields");
    return json_pack("{s:o, s:I, s:s, s:o}", "rules", rules, "secrets_registered",
                     (json_int_t)agc_redact_secret_count(ctx), "retain_content",
                     priv ? agc_json_str(priv, "retain_content", "redacted")
                          : "full (no privacy section)",
                     "fields", fields ? json_deep_copy(fields) : json_object());
}

static void md_time(const json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v))
        agc_time_format_rfc3339(json_integer_value(v), buf, n);
    else
        snprintf(buf, n, "-");
}

static void print_md(const json_t *r)
{
    char t[40], u[40];
    md_time(json_object_get(r, "generated_ms"), t, sizeof t);
    printf("# Compliance report\n\nGenerated %s from %s (privacy), %s (trail), %s "
           "(sessions).\n\n",
           t, agc_json_str(r, "privacy_db", "?"),
           agc_json_str(json_object_get(r, "audit"), "trail", "?"),
           agc_json_str(r, "session_store", "?"));
    const json_t *subs = json_object_get(r, "subjects");
    printf("## Data subjects (%zu)\n\n", json_array_size(subs));
    if (json_array_size(subs))
        printf("| subject | key | current consents | erased |\n|---|---|---|---|\n");
    size_t i;
    json_t *o;
    json_array_foreach(subs, i, o)
    {
        md_time(json_object_get(o, "erased_ms"), u, sizeof u);
        printf("| %s | %s | %lld | %s |\n", agc_json_str(o, "subject", ""),
               agc_json_bool(o, "has_key", false) ? "present" : "none",
               agc_json_int(o, "consents", 0), u);
    }
    const json_t *cons = json_object_get(r, "consents");
    printf("\n## Consents (%zu)\n\n", json_array_size(cons));
    if (json_array_size(cons))
        printf("| subject | purpose | granted | revoked |\n|---|---|---|---|\n");
    json_array_foreach(cons, i, o)
    {
        md_time(json_object_get(o, "granted_ms"), t, sizeof t);
        md_time(json_object_get(o, "revoked_ms"), u, sizeof u);
        printf("| %s | %s | %s | %s |\n", agc_json_str(o, "subject", ""),
               agc_json_str(o, "purpose", ""), t, u);
    }
    const json_t *er = json_object_get(r, "erasures");
    printf("\n## Erasures (%zu)\n\n", json_array_size(er));
    json_array_foreach(er, i, o)
    {
        md_time(json_object_get(o, "time_ms"), t, sizeof t);
        printf("- %s erased at %s (%lld runs deleted)\n", agc_json_str(o, "subject", ""), t,
               agc_json_int(json_object_get(o, "details"), "runs_deleted", 0));
    }
    const json_t *ret = json_object_get(r, "retention");
    const json_t *set = json_object_get(ret, "settings");
    printf("\n## Retention\n\n");
    if (json_object_size(set) == 0)
        printf("- no retention configured\n");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v)
        printf("- %s: %lld days\n", k, (long long)json_integer_value(v));
    const json_t *lp = json_object_get(ret, "last_purge");
    md_time(json_object_get(lp, "time_ms"), t, sizeof t);
    if (lp)
        printf("- last purge: %s (%lld sessions, %lld audit records deleted)\n", t,
               agc_json_int(lp, "sessions_deleted", 0),
               agc_json_int(lp, "audit_records_deleted", 0));
    else
        printf("- last purge: never\n");
    const json_t *au = json_object_get(r, "audit");
    const json_t *ver = json_object_get(au, "verify");
    printf("\n## Audit trail\n\n- records: %lld (last seq %lld), checkpoints: %lld\n- verify: "
           "%s — %s\n",
           agc_json_int(au, "records", 0), agc_json_int(au, "last_seq", 0),
           agc_json_int(au, "checkpoints", 0), agc_json_bool(ver, "ok", false) ? "OK" : "FAILED",
           agc_json_str(ver, "message", ""));
    const json_t *se = json_object_get(r, "sessions");
    printf("\n## Sessions\n\n- runs: %lld, naming a data subject (sealed): %lld\n",
           agc_json_int(se, "runs", 0), agc_json_int(se, "runs_with_subject", 0));
    const json_t *red = json_object_get(r, "redaction");
    printf("\n## Redaction and minimisation\n\n- retain_content: %s\n- registered secrets: "
           "%lld\n- rules enabled:",
           agc_json_str(red, "retain_content", ""), agc_json_int(red, "secrets_registered", 0));
    json_array_foreach(json_object_get(red, "rules"), i, o) if (agc_json_bool(o, "enabled", false))
        printf(" %s", agc_json_str(o, "name", ""));
    printf("\n- rules disabled:");
    json_array_foreach(json_object_get(red, "rules"), i, o) if (!agc_json_bool(o, "enabled", true))
        printf(" %s", agc_json_str(o, "name", ""));
    printf("\n- field policies:");
    json_object_foreach(json_object_get(red, "fields"), k, v)
        printf(" %s=%s", k, json_string_value(v));
    printf("\n");
}

int agc_cmd_compliance(int argc, char **argv)
{
    agc_cli_priv_args a;
    int rc = agc_cli_priv_parse(&a, argc, argv, USAGE);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    if (a.npos < 1 || strcmp(a.pos[0], "report") != 0 || a.npos > 2) {
        fprintf(stderr, "agentc: compliance wants report [AGENT_FILE]\n");
        return agc_cli_usage(USAGE);
    }
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    agc_agent_def *def = NULL;
    if (agc_cli_priv_load_agent(&def, &a, ctx) != AGC_CLI_OK) {
        agc_ctx_free(ctx);
        return AGC_CLI_FAIL;
    }
    const json_t *priv = def ? json_object_get(agc_agent_def_json(def), "privacy") : NULL;
    agc_privacy *p = NULL;
    agc_audit *trail = NULL;
    agc_store *store = NULL;
    agc_cli_priv_open_args o = {.ctx = ctx,
                                .privacy_section = priv,
                                .privacy_flag = a.privacy,
                                .trail_flag = a.trail,
                                .store_flag = a.store,
                                .privacy = &p,
                                .audit = &trail,
                                .store = &store};
    rc = agc_cli_priv_open(&o);
    if (rc == AGC_CLI_OK && priv && agc_cli_redaction_apply(priv, ctx) != AGC_OK) {
        agc_cli_error(ctx, "bad privacy section");
        rc = AGC_CLI_FAIL;
    }
    json_t *subjects = NULL, *consents = NULL, *erasures = NULL, *last_purge = NULL;
    if (rc == AGC_CLI_OK && (agc_privacy_subjects(&subjects, p) != AGC_OK ||
                             agc_privacy_consent_list(&consents, p, NULL) != AGC_OK ||
                             agc_privacy_erasures(&erasures, p) != AGC_OK ||
                             agc_privacy_fact_get(&last_purge, p, "last_purge") != AGC_OK)) {
        agc_cli_error(ctx, "cannot read the privacy database");
        rc = AGC_CLI_FAIL;
    }
    if (rc == AGC_CLI_OK) {
        const json_t *set = json_object_get(priv, "retention");
        if (!set)
            set = json_object_get(last_purge, "settings");
        char *store_path = a.store ? agc_strdup(ctx, a.store) : agc_store_default_path(ctx);
        json_t *r = json_pack(
            "{s:I, s:s, s:s?, s:o, s:o, s:o, s:{s:o, s:O}, s:o, s:o, s:o}", "generated_ms",
            (json_int_t)agc_clock_now_ms(ctx), "privacy_db", agc_privacy_path(p), "session_store",
            store_path, "subjects", subjects, "consents", consents, "erasures", erasures,
            "retention", "settings", set ? json_deep_copy(set) : json_object(), "last_purge",
            last_purge ? last_purge : json_null(), "audit", audit_part(ctx, trail, p), "sessions",
            sessions_part(store), "redaction", redaction_part(ctx, priv));
        subjects = consents = erasures = NULL;
        agc_free(ctx, store_path);
        if (!r) {
            agc_cli_error(ctx, "cannot build the report");
            rc = AGC_CLI_FAIL;
        } else if (a.json) {
            char *s = NULL;
            if (agc_json_dump(&s, r, JSON_INDENT(2) | JSON_SORT_KEYS, ctx) == AGC_OK)
                printf("%s\n", s);
            agc_free(ctx, s);
        } else {
            print_md(r);
        }
        json_decref(r);
    }
    json_decref(subjects);
    json_decref(consents);
    json_decref(erasures);
    json_decref(last_purge);
    agc_store_close(store);
    agc_audit_close(trail);
    agc_privacy_close(p);
    agc_agent_def_unref(def);
    agc_ctx_free(ctx);
    return rc;
}
