/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc erase SUBJECT`: erasure (GDPR Art. 17) by crypto-shredding. Deletes
 * the subject's runs from the session store (compacted so no page keeps
 * them), destroys the subject's key in the privacy database (overwritten on
 * disk), which leaves the sealed payloads in the audit trail unreadable while
 * the hash chain still verifies, revokes the subject's consents, and records
 * the erasure in the trail. It cannot reach copies outside these files
 * (backups, exports made before): docs/audit.md.
 */
#include <stdio.h>
#include <string.h>

#include "agentc/audit.h"
#include "agentc/privacy.h"
#include "agentc/store.h"
#include "cli.h"

#define USAGE "erase SUBJECT [--privacy PATH] [--store PATH] [--trail PATH]"

int agc_cmd_erase(int argc, char **argv)
{
    agc_cli_priv_args a;
    int rc = agc_cli_priv_parse(&a, argc, argv, USAGE);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    if (a.npos != 1 || !*a.pos[0]) {
        fprintf(stderr, "agentc: erase wants one SUBJECT\n");
        return agc_cli_usage(USAGE);
    }
    const char *subject = a.pos[0];
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    agc_privacy *p = NULL;
    agc_audit *trail = NULL;
    agc_store *store = NULL;
    agc_cli_priv_open_args o = {.ctx = ctx,
                                .privacy_flag = a.privacy,
                                .trail_flag = a.trail,
                                .store_flag = a.store,
                                .privacy = &p,
                                .audit = &trail,
                                .store = &store};
    rc = agc_cli_priv_open(&o);
    size_t runs = 0;
    bool had_key = false;
    if (rc == AGC_CLI_OK && agc_store_erase_subject(store, subject, &runs) != AGC_OK) {
        agc_cli_error(ctx, "cannot delete the runs of %s", subject);
        rc = AGC_CLI_FAIL;
    }
    json_t *details = json_pack("{s:I}", "runs_deleted", (json_int_t)runs);
    if (rc == AGC_CLI_OK && agc_privacy_erase(p, subject, details, &had_key) != AGC_OK) {
        agc_cli_error(ctx, "cannot destroy the key of %s", subject);
        rc = AGC_CLI_FAIL;
    }
    if (trail) {
        /* recorded also when it failed half-way: the trail says what happened */
        json_object_set_new(details, "key_destroyed", json_boolean(rc == AGC_CLI_OK && had_key));
        agc_audit_entry e = {.actor = "user",
                             .subject = subject,
                             .action = "erasure",
                             .outcome = rc == AGC_CLI_OK ? "ok" : "error",
                             .payload = details};
        if (agc_audit_append(trail, &e, NULL) != AGC_OK) {
            agc_cli_error(ctx, "the erasure could not be audited");
            rc = AGC_CLI_FAIL;
        }
    }
    if (rc == AGC_CLI_OK)
        printf("erased %s: %zu run%s deleted, %s\n", subject, runs, runs == 1 ? "" : "s",
               had_key ? "key destroyed (sealed audit payloads are now unreadable)"
                       : "no key existed");
    json_decref(details);
    agc_store_close(store);
    agc_audit_close(trail);
    agc_privacy_close(p);
    agc_ctx_free(ctx);
    return rc;
}
