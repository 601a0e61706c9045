/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc sessions list|show RUN|rm RUN`: the runs kept in the session store
 * (--store PATH, else $AGENTC_SESSIONS, $XDG_DATA_HOME/agentc/sessions.db or
 * ~/.local/share/agentc/sessions.db). list: one row per run (id, agent,
 * status, updated, cost), newest first; show: the run and its steps in
 * readable form; --json prints the stored JSON instead. Invariant: read-only
 * except rm. It interprets step payloads only to summarise them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/store.h"
#include "cli.h"
#include "run_ui.h"

#define USAGE                                                                                      \
    "sessions list [--status S] [--agent A] [--limit N] [--json] | sessions show RUN [--json] | "  \
    "sessions rm RUN  [--store PATH]"

typedef struct ses_args {
    const char *sub;
    const char *run_id;
    const char *store_path;
    const char *status;
    const char *agent;
    long limit;
    bool json;
} ses_args;

static int parse_args(ses_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},
        {"status", required_argument, NULL, 'S'},
        {"agent", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->sub = "list";
    a->limit = 50;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 's':
            a->store_path = optarg;
            break;
        case 'S':
            a->status = optarg;
            break;
        case 'a':
            a->agent = optarg;
            break;
        case 'n':
            a->limit = strtol(optarg, &end, 10);
            if (!*optarg || *end || a->limit <= 0) {
                fprintf(stderr, "agentc: --limit wants a positive integer, not '%s'\n", optarg);
                return agc_cli_usage(USAGE);
            }
            break;
        case 'J':
            a->json = true;
            break;
        case 'h':
            printf("usage: agentc %s\n", USAGE);
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
    a->sub = npos > 0 ? argv[optind] : "list";
    bool needs_id = strcmp(a->sub, "show") == 0 || strcmp(a->sub, "rm") == 0;
    if (strcmp(a->sub, "list") != 0 && !needs_id) {
        fprintf(stderr, "agentc: unknown sessions command '%s'\n", a->sub);
        return agc_cli_usage(USAGE);
    }
    if (needs_id && npos != 2) {
        fprintf(stderr, "agentc: sessions %s wants one RUN id\n", a->sub);
        return agc_cli_usage(USAGE);
    }
    if (!needs_id && npos > 1) {
        fprintf(stderr, "agentc: sessions list takes no argument: unexpected '%s'\n",
                argv[optind + 1]);
        return agc_cli_usage(USAGE);
    }
    if (needs_id)
        a->run_id = argv[optind + 1];
    return 0;
}

/* "2026-01-02 03:04:05" in local time. */
static void fmt_time(char *buf, size_t size, long long ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, size, "-");
}

static void fmt_cost(char *buf, size_t size, const json_t *summary)
{
    const json_t *c = json_object_get(summary, "cost_usd");
    if (!json_is_number(c))
        snprintf(buf, size, "-");
    else if (json_is_false(json_object_get(summary, "cost_known")))
        snprintf(buf, size, "$%.4f+?", json_number_value(c));
    else
        snprintf(buf, size, "$%.4f", json_number_value(c));
}

static agc_status print_json(const json_t *v, agc_ctx *ctx)
{
    char *text = NULL;
    agc_status st = agc_json_dump(&text, v, JSON_INDENT(2) | JSON_SORT_KEYS, ctx);
    if (st == AGC_OK)
        printf("%s\n", text);
    agc_free(ctx, text);
    return st;
}

static int cmd_list(const ses_args *a, agc_store *s, agc_ctx *ctx)
{
    agc_ctx *prev = agc_json_enter(ctx);
    json_t *filter = json_pack("{s:I}", "limit", (json_int_t)a->limit);
    if (filter && a->status)
        json_object_set_new(filter, "status", json_string(a->status));
    if (filter && a->agent)
        json_object_set_new(filter, "agent", json_string(a->agent));
    agc_json_leave(prev);
    json_t *runs = NULL;
    agc_status st = filter ? agc_store_run_list(s, filter, &runs) : AGC_ENOMEM;
    prev = agc_json_enter(ctx);
    json_decref(filter);
    agc_json_leave(prev);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot list the sessions");
        return AGC_CLI_FAIL;
    }
    int rc = AGC_CLI_OK;
    if (a->json) {
        rc = print_json(runs, ctx) == AGC_OK ? AGC_CLI_OK : AGC_CLI_FAIL;
    } else if (json_array_size(runs) == 0) {
        fprintf(stderr, "no sessions\n");
    } else {
        printf("%-30s  %-16s  %-17s  %-19s  %s\n", "ID", "AGENT", "STATUS", "UPDATED", "COST");
        size_t i;
        const json_t *r;
        json_array_foreach(runs, i, r)
        {
            char when[32], cost[32];
            fmt_time(when, sizeof when, agc_json_int(r, "updated_ms", 0));
            fmt_cost(cost, sizeof cost, json_object_get(r, "summary"));
            printf("%-30s  %-16s  %-17s  %-19s  %s\n", agc_json_str(r, "id", "?"),
                   agc_json_str(r, "agent", "-"), agc_json_str(r, "status", "?"), when, cost);
        }
    }
    prev = agc_json_enter(ctx);
    json_decref(runs);
    agc_json_leave(prev);
    return rc;
}

/* Prints text indented, at most max_lines lines (then a count of the rest). */
static void print_block(const char *text, int max_lines)
{
    int lines = 0;
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (lines == max_lines) {
            int rest = 0;
            for (const char *p = l; *p; p++)
                rest += *p == '\n';
            printf("      [... %d more line%s]\n", rest + 1, rest ? "s" : "");
            return;
        }
        printf("      %.*s\n", (int)(len > 300 ? 300 : len), l);
        lines++;
        l = e ? e + 1 : NULL;
    }
}

static const char *response_text(const json_t *resp)
{
    const json_t *content = json_object_get(resp, "content");
    size_t i;
    const json_t *p;
    json_array_foreach(content, i, p)
    {
        if (strcmp(agc_json_str(p, "type", ""), "text") == 0)
            return agc_json_str(p, "text", "");
    }
    return NULL;
}

static void print_step(const json_t *step, agc_ctx *ctx)
{
    const char *kind = agc_json_str(step, "kind", "?");
    const json_t *d = json_object_get(step, "data");
    char when[32];
    fmt_time(when, sizeof when, agc_json_int(step, "time_ms", 0));
    printf("#%-3lld %s  %s", agc_json_int(step, "seq", 0), when + (when[0] == '-' ? 0 : 11), kind);
    char call[256];
    if (strcmp(kind, "run.started") == 0) {
        printf("  %s \xc2\xb7 %s/%s\n", agc_json_str(d, "agent", "?"),
               agc_json_str(d, "provider", "?"), agc_json_str(d, "model", "?"));
        print_block(agc_json_str(d, "task", ""), 6);
    } else if (strcmp(kind, "user.message") == 0) {
        putchar('\n');
        print_block(agc_json_str(d, "text", agc_json_str(d, "message", "")), 6);
    } else if (strcmp(kind, "model.response") == 0) {
        const json_t *r = json_object_get(d, "response");
        const json_t *u = json_object_get(r, "usage");
        printf("  turn %lld \xc2\xb7 %s \xc2\xb7 %lld in / %lld out tokens\n",
               agc_json_int(d, "turn", 0), agc_json_str(r, "finish_reason", "?"),
               agc_json_int(u, "input_tokens", 0), agc_json_int(u, "output_tokens", 0));
        const char *t = response_text(r);
        if (t && *t)
            print_block(t, 8);
        size_t i;
        const json_t *tc;
        json_array_foreach(json_object_get(r, "tool_calls"), i, tc)
        {
            json_t *args = NULL;
            const char *raw = agc_json_str(tc, "arguments", NULL);
            const json_t *obj = json_object_get(tc, "arguments");
            if (raw && agc_json_parse(&args, raw, strlen(raw), "arguments", ctx) != AGC_OK)
                args = NULL;
            agc_run_ui_call_text(call, sizeof call, agc_json_str(tc, "name", "?"),
                                 args ? args : obj);
            printf("      \xe2\x86\x92 %s  [%s]\n", call, agc_json_str(tc, "id", "?"));
            agc_ctx *prev = agc_json_enter(ctx);
            json_decref(args);
            agc_json_leave(prev);
        }
    } else if (strcmp(kind, "tool.call") == 0 || strcmp(kind, "approval.requested") == 0) {
        const json_t *args = json_object_get(d, "args"); /* parsed; "arguments" is the raw text */
        agc_run_ui_call_text(call, sizeof call, agc_json_str(d, "tool", "?"),
                             json_is_object(args) ? args : json_object_get(d, "arguments"));
        printf("  %s  [%s]\n", call, agc_json_str(d, "call_id", "?"));
        if (agc_json_str(d, "reason", NULL))
            printf("      %s\n", agc_json_str(d, "reason", ""));
    } else if (strcmp(kind, "tool.result") == 0) {
        bool ok = agc_json_bool(d, "ok", !agc_json_bool(d, "is_error", false));
        printf("  %s %s  [%s] %lld ms\n", ok ? "ok" : "error", agc_json_str(d, "tool", ""),
               agc_json_str(d, "call_id", "?"), agc_json_int(d, "duration_ms", 0));
        print_block(agc_json_str(d, "output", ""), 6);
    } else if (strcmp(kind, "approval.decided") == 0 || strcmp(kind, "tool.denied") == 0) {
        const char *reason = agc_json_str(d, "reason", NULL);
        printf("  %s  [%s]%s%s\n", agc_json_str(d, "decision", agc_json_str(d, "by", "")),
               agc_json_str(d, "call_id", "?"), reason ? ": " : "", reason ? reason : "");
    } else if (strcmp(kind, "run.finished") == 0) {
        const json_t *sum = json_object_get(d, "summary");
        char cost[32];
        fmt_cost(cost, sizeof cost, sum);
        printf("  %s \xc2\xb7 %lld turns \xc2\xb7 %s\n", agc_json_str(d, "status", "?"),
               agc_json_int(sum, "turns", 0), cost);
        if (agc_json_str(d, "reason", NULL))
            printf("      reason: %s\n", agc_json_str(d, "reason", ""));
        if (agc_json_str(d, "output", NULL))
            print_block(agc_json_str(d, "output", ""), 12);
    } else {
        char s[161];
        size_t len = d ? json_dumpb(d, s, sizeof s - 1, JSON_COMPACT) : 0;
        printf("  %.*s%s\n", (int)(len > 160 ? 160 : len), s, len > 160 ? "..." : "");
    }
}

static int cmd_show(const ses_args *a, agc_store *s, agc_ctx *ctx)
{
    json_t *run = NULL, *steps = NULL;
    if (agc_store_run_get(s, a->run_id, &run) != AGC_OK ||
        agc_store_steps_load(s, a->run_id, 0, &steps) != AGC_OK) {
        agc_cli_error(ctx, "cannot show %s", a->run_id);
        agc_ctx *prev = agc_json_enter(ctx);
        json_decref(run);
        agc_json_leave(prev);
        return AGC_CLI_FAIL;
    }
    int rc = AGC_CLI_OK;
    if (a->json) {
        agc_ctx *prev = agc_json_enter(ctx);
        json_t *both = json_pack("{s:O, s:O}", "run", run, "steps", steps);
        agc_json_leave(prev);
        rc = both && print_json(both, ctx) == AGC_OK ? AGC_CLI_OK : AGC_CLI_FAIL;
        prev = agc_json_enter(ctx);
        json_decref(both);
        agc_json_leave(prev);
    } else {
        char created[32], updated[32], cost[32];
        const json_t *sum = json_object_get(run, "summary");
        fmt_time(created, sizeof created, agc_json_int(run, "created_ms", 0));
        fmt_time(updated, sizeof updated, agc_json_int(run, "updated_ms", 0));
        fmt_cost(cost, sizeof cost, sum);
        printf("run      %s\nagent    %s\nstatus   %s\ncreated  %s\nupdated  %s\n",
               agc_json_str(run, "id", "?"), agc_json_str(run, "agent", "-"),
               agc_json_str(run, "status", "?"), created, updated);
        if (sum)
            printf(
                "usage    %lld turns \xc2\xb7 %lld tool calls \xc2\xb7 %lld in / %lld out tokens "
                "\xc2\xb7 %s\n",
                agc_json_int(sum, "turns", 0), agc_json_int(sum, "tool_calls", 0),
                agc_json_int(json_object_get(sum, "usage"), "input_tokens", 0),
                agc_json_int(json_object_get(sum, "usage"), "output_tokens", 0), cost);
        if (agc_json_str(sum, "reason", NULL))
            printf("reason   %s\n", agc_json_str(sum, "reason", ""));
        printf("task     %s\n\nsteps\n", agc_json_str(run, "task", ""));
        size_t i;
        const json_t *step;
        json_array_foreach(steps, i, step)
        {
            print_step(step, ctx);
        }
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(run);
    json_decref(steps);
    agc_json_leave(prev);
    return rc;
}

int agc_cmd_sessions(int argc, char **argv)
{
    ses_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc < 0)
        return AGC_CLI_OK;
    if (rc)
        return rc;
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    char *path = a.store_path ? agc_strdup(ctx, a.store_path) : agc_store_default_path(ctx);
    agc_store *s = NULL;
    if (!path || agc_store_open_sqlite(&s, path, NULL, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot open the session store");
        rc = AGC_CLI_FAIL;
    } else if (strcmp(a.sub, "list") == 0) {
        rc = cmd_list(&a, s, ctx);
    } else if (strcmp(a.sub, "show") == 0) {
        rc = cmd_show(&a, s, ctx);
    } else if (agc_store_run_delete(s, a.run_id) != AGC_OK) {
        agc_cli_error(ctx, "cannot remove %s", a.run_id);
        rc = AGC_CLI_FAIL;
    } else {
        printf("removed %s\n", a.run_id);
    }
    fflush(stdout);
    if (rc == AGC_CLI_OK && ferror(stdout))
        rc = AGC_CLI_FAIL;
    agc_store_close(s);
    agc_free(ctx, path);
    agc_ctx_free(ctx);
    return rc;
}
