/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc schema validate SCHEMA INSTANCE`: both files JSON or YAML. Prints
 * "valid" (exit 0) or one line per error, "INSTANCE: /path: message (keyword
 * at schema path)" (exit 1); usage errors exit 2. $refs to other files are
 * resolved relative to the schema's file:// URI; nothing is fetched over the
 * network.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc/config.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/schema.h"
#include "cli.h"

#define USAGE "schema validate SCHEMA INSTANCE"

/* Reads a JSON or YAML document (no overrides, no validation). */
static agc_status read_doc(json_t **out, const char *path, agc_ctx *ctx)
{
    *out = NULL;
    agc_config_opts o = AGC_CONFIG_OPTS_INIT;
    o.no_env = true;
    o.no_validate = true;
    agc_config *doc = NULL;
    agc_status st = agc_config_load(&doc, path, &o, ctx);
    if (st == AGC_OK) {
        *out = json_incref(agc_config_root(doc));
        agc_config_free(doc);
    }
    return st;
}

/* Resolves file:// URIs of other schema files. */
static agc_status resolve_file(json_t **out, const char *uri, void *user, agc_ctx *ctx)
{
    (void)user;
    *out = NULL;
    if (strncmp(uri, "file://", 7) != 0)
        return AGC_OK; /* unknown: the validator reports it */
    return read_doc(out, uri + 7, ctx);
}

static int validate(const char *schema_path, const char *inst_path)
{
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    int rc = AGC_CLI_FAIL;
    json_t *sdoc = NULL, *inst = NULL;
    agc_schema *sch = NULL;
    agc_schema_result *res = NULL;
    char base[PATH_MAX + 8];
    char abs[PATH_MAX];
    if (agc_log_configure_from_env(ctx) != AGC_OK) {
        agc_cli_error(ctx, "bad logging settings");
        goto done;
    }
    if (read_doc(&sdoc, schema_path, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot read the schema");
        goto done;
    }
    agc_schema_opts so = AGC_SCHEMA_OPTS_INIT;
    if (realpath(schema_path, abs)) {
        snprintf(base, sizeof base, "file://%s", abs);
        so.base_uri = base;
    }
    so.resolve = resolve_file;
    if (agc_schema_compile(&sch, sdoc, &so, ctx) != AGC_OK) {
        agc_cli_error(ctx, "%s is not a usable schema", schema_path);
        goto done;
    }
    if (read_doc(&inst, inst_path, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot read the instance");
        goto done;
    }
    agc_status st = agc_schema_validate(&res, sch, inst, ctx);
    if (st == AGC_OK) {
        printf("valid\n");
        rc = AGC_CLI_OK;
    } else if (st == AGC_ESCHEMA && res) {
        for (size_t i = 0; i < res->count; i++) {
            const agc_schema_error *e = &res->errors[i];
            fprintf(stderr, "%s: %s: %s (%s at %s)\n", inst_path,
                    *e->instance_path ? e->instance_path : "/", e->message, e->keyword,
                    *e->schema_path ? e->schema_path : "/");
        }
        if (res->truncated)
            fprintf(stderr, "%s: more errors were found than shown\n", inst_path);
    } else {
        agc_cli_error(ctx, "cannot validate %s", inst_path);
    }
done:
    agc_schema_result_free(res, ctx);
    agc_schema_free(sch, ctx);
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(sdoc);
    json_decref(inst);
    agc_json_leave(prev);
    agc_ctx_free(ctx);
    return rc;
}

int agc_cmd_schema(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "validate") != 0)
        return agc_cli_usage(USAGE);
    return validate(argv[2], argv[3]);
}
