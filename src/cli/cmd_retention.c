/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc retention purge [AGENT_FILE] [--sessions-days N] [--audit-days N]`:
 * deletes sessions last updated, and audit records written, more than N days
 * ago (per data class; the agent file's privacy.retention gives the defaults,
 * the flags override). The trail keeps verifying after its prefix is pruned
 * (agc_audit_prune); every purge is audited. run and chat also purge at
 * start-up (privacy_cli.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentc/audit.h"
#include "agentc/json.h"
#include "agentc/privacy.h"
#include "agentc/runtime.h"
#include "agentc/store.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "retention purge [AGENT_FILE] [--sessions-days N] [--audit-days N] [--store PATH] "            \
    "[--trail PATH] [--privacy PATH]"

int agc_cmd_retention(int argc, char **argv)
{
    agc_cli_priv_args a;
    int rc = agc_cli_priv_parse(&a, argc, argv, USAGE);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    if (a.npos < 1 || strcmp(a.pos[0], "purge") != 0 || a.npos > 2) {
        fprintf(stderr, "agentc: retention wants purge [AGENT_FILE]\n");
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
    json_t *ret = json_deep_copy(json_object_get(priv, "retention"));
    if (!ret)
        ret = json_object();
    if (a.sessions_days >= 0)
        json_object_set_new(ret, "sessions", json_integer(a.sessions_days));
    if (a.audit_days >= 0)
        json_object_set_new(ret, "audit", json_integer(a.audit_days));
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
    if (json_object_size(ret) == 0) {
        fprintf(stderr, "agentc: no retention configured: set privacy.retention in the agent "
                        "file or pass --sessions-days / --audit-days\n");
        rc = AGC_CLI_USAGE;
    } else {
        rc = agc_cli_priv_open(&o);
    }
    if (rc == AGC_CLI_OK)
        rc = agc_cli_retention_purge(ctx, ret, store, trail, p, false);
    json_decref(ret);
    agc_store_close(store);
    agc_audit_close(trail);
    agc_privacy_close(p);
    agc_agent_def_unref(def);
    agc_ctx_free(ctx);
    return rc;
}
