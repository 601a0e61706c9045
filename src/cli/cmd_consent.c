/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc consent grant|revoke SUBJECT PURPOSE` and `agentc consent list
 * [SUBJECT] [--json]`: the consents a run that names a data subject needs
 * (privacy_cli.c checks them). Grants and revocations are recorded in the
 * privacy database and, as consent.grant / consent.revoke, in the audit
 * trail. It does not decide what a purpose means: purposes are names.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/json.h"
#include "agentc/clock.h"
#include "agentc/privacy.h"
#include "cli.h"

#define USAGE                                                                                      \
    "consent grant|revoke SUBJECT PURPOSE | consent list [SUBJECT] [--json] "                      \
    "[--privacy PATH] [--trail PATH]"

static int list(agc_ctx *ctx, agc_privacy *p, const char *subject, bool json)
{
    json_t *arr = NULL;
    if (agc_privacy_consent_list(&arr, p, subject) != AGC_OK) {
        agc_cli_error(ctx, "cannot list consents");
        return AGC_CLI_FAIL;
    }
    if (json) {
        char *s = NULL;
        if (agc_json_dump(&s, arr, JSON_INDENT(2), ctx) == AGC_OK)
            printf("%s\n", s);
        agc_free(ctx, s);
    } else {
        printf("%-24s %-20s %-25s %s\n", "SUBJECT", "PURPOSE", "GRANTED", "STATE");
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
            char t[40], r[40];
            agc_time_format_rfc3339(json_integer_value(json_object_get(o, "granted_ms")), t,
                                    sizeof t);
            const json_t *rv = json_object_get(o, "revoked_ms");
            if (json_is_integer(rv))
                agc_time_format_rfc3339(json_integer_value(rv), r, sizeof r);
            printf("%-24s %-20s %-25s %s%s\n", json_string_value(json_object_get(o, "subject")),
                   json_string_value(json_object_get(o, "purpose")), t,
                   json_is_integer(rv) ? "revoked " : "granted", json_is_integer(rv) ? r : "");
        }
    }
    json_decref(arr);
    return AGC_CLI_OK;
}

int agc_cmd_consent(int argc, char **argv)
{
    agc_cli_priv_args a;
    int rc = agc_cli_priv_parse(&a, argc, argv, USAGE);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    const char *verb = a.npos > 0 ? a.pos[0] : "";
    bool grant = strcmp(verb, "grant") == 0, revoke = strcmp(verb, "revoke") == 0;
    if ((grant || revoke) && a.npos != 3) {
        fprintf(stderr, "agentc: consent %s wants a SUBJECT and a PURPOSE\n", verb);
        return agc_cli_usage(USAGE);
    }
    if (!grant && !revoke && (strcmp(verb, "list") != 0 || a.npos > 2)) {
        fprintf(stderr, "agentc: consent wants grant, revoke or list\n");
        return agc_cli_usage(USAGE);
    }
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    agc_privacy *p = NULL;
    agc_audit *trail = NULL;
    agc_cli_priv_open_args o = {.ctx = ctx,
                                .privacy_flag = a.privacy,
                                .trail_flag = a.trail,
                                .privacy = &p,
                                .audit = grant || revoke ? &trail : NULL};
    rc = agc_cli_priv_open(&o);
    if (rc == AGC_CLI_OK && (grant || revoke)) {
        const char *subject = a.pos[1], *purpose = a.pos[2];
        agc_status st = grant ? agc_privacy_consent_grant(p, subject, purpose)
                              : agc_privacy_consent_revoke(p, subject, purpose);
        if (st != AGC_OK) {
            agc_cli_error(ctx, "cannot %s the consent", verb);
            rc = AGC_CLI_FAIL;
        } else {
            json_t *pl = json_pack("{s:s}", "purpose", purpose);
            agc_audit_entry e = {.actor = "user",
                                 .subject = subject,
                                 .action = grant ? "consent.grant" : "consent.revoke",
                                 .outcome = "ok",
                                 .payload = pl};
            if (!pl || agc_audit_append(trail, &e, NULL) != AGC_OK) {
                agc_cli_error(ctx, "the consent was %s but could not be audited",
                              grant ? "granted" : "revoked");
                rc = AGC_CLI_FAIL;
            } else {
                printf("consent %s: %s for %s\n", grant ? "granted" : "revoked", subject, purpose);
            }
            json_decref(pl);
        }
    } else if (rc == AGC_CLI_OK) {
        rc = list(ctx, p, a.npos == 2 ? a.pos[1] : NULL, a.json);
    }
    agc_audit_close(trail);
    agc_privacy_close(p);
    agc_ctx_free(ctx);
    return rc;
}
