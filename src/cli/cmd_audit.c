/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `agentc audit verify|show|export|stats|append|keygen`: the audit trail
 * (--trail PATH, else $AGENTC_AUDIT, $XDG_DATA_HOME/agentc/audit.db or
 * ~/.local/share/agentc/audit.db). verify takes a .db trail or a .jsonl
 * export and exits 0 when valid, 1 naming the first bad record. Invariant:
 * only append writes to the trail; keygen writes a new key file (0600).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agentc/alloc.h"
#include "agentc/audit.h"
#include "agentc/clock.h"
#include "agentc/json.h"
#include "cli.h"

#define USAGE                                                                                      \
    "audit verify [FILE] [--public-key HEX] [--require-checkpoint] [--min-seq N] | "               \
    "audit show|export [--since T] [--until T] [--run ID] [--subject S] [--action A] "             \
    "[--limit N] [--format jsonl|csv] | audit stats [--json] | "                                   \
    "audit append --action A --outcome O [--actor X] [--run ID] [--subject S] [--payload JSON] "   \
    "[--key REF --checkpoint-every N] | audit keygen [--output FILE]  [--trail PATH]"

typedef struct audit_args {
    const char *sub;
    const char *file;
    const char *trail;
    const char *format;
    const char *public_key;
    const char *actor, *run, *subject, *action, *outcome, *payload;
    const char *key_ref, *output;
    unsigned checkpoint_every;
    bool require_cp, json;
    agc_audit_filter filter;
    uint64_t min_seq;
} audit_args;

/* Milliseconds from "1700000000000", "2026-01-02", "2026-01-02T03:04:05Z" (".123" allowed). */
static bool parse_time(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*s && !*end) {
        *out = v;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (!rest)
        return false;
    long ms = 0;
    if (*rest == 'T' || *rest == ' ') {
        rest = strptime(rest + 1, "%H:%M:%S", &tm);
        if (!rest)
            return false;
        if (*rest == '.') {
            ms = strtol(rest + 1, &end, 10);
            if (end != rest + 4)
                return false;
            rest = end;
        }
        if (*rest == 'Z')
            rest++;
    }
    if (*rest)
        return false;
    *out = (int64_t)timegm(&tm) * 1000 + ms;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-')
        return false;
    *out = v;
    return true;
}

static int bad_value(const char *opt, const char *v)
{
    fprintf(stderr, "agentc: %s: cannot use '%s'\n", opt, v);
    return agc_cli_usage(USAGE);
}

static int parse_args(audit_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"trail", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"run", required_argument, NULL, 'r'},
        {"subject", required_argument, NULL, 'S'},
        {"action", required_argument, NULL, 'a'},
        {"outcome", required_argument, NULL, 'o'},
        {"actor", required_argument, NULL, 'A'},
        {"payload", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'n'},
        {"public-key", required_argument, NULL, 'k'},
        {"min-seq", required_argument, NULL, 'm'},
        {"require-checkpoint", no_argument, NULL, 'R'},
        {"key", required_argument, NULL, 'K'},
        {"checkpoint-every", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    agc_audit_filter f = AGC_AUDIT_FILTER_INIT;
    a->filter = f;
    optind = 1;
    opterr = 0;
    int c;
    uint64_t u = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            a->trail = optarg;
            break;
        case 's':
            if (!parse_time(optarg, &a->filter.since_ms))
                return bad_value("--since (ms, YYYY-MM-DD or RFC 3339)", optarg);
            break;
        case 'u':
            if (!parse_time(optarg, &a->filter.until_ms))
                return bad_value("--until (ms, YYYY-MM-DD or RFC 3339)", optarg);
            break;
        case 'r':
            a->run = a->filter.run_id = optarg;
            break;
        case 'S':
            a->subject = a->filter.subject = optarg;
            break;
        case 'a':
            a->action = a->filter.action = optarg;
            break;
        case 'o':
            a->outcome = optarg;
            break;
        case 'A':
            a->actor = optarg;
            break;
        case 'p':
            a->payload = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "jsonl") != 0 && strcmp(optarg, "csv") != 0)
                return bad_value("--format (jsonl or csv)", optarg);
            a->format = optarg;
            break;
        case 'n':
            if (!parse_u64(optarg, &a->filter.limit) || !a->filter.limit)
                return bad_value("--limit", optarg);
            break;
        case 'k':
            a->public_key = optarg;
            break;
        case 'm':
            if (!parse_u64(optarg, &a->min_seq))
                return bad_value("--min-seq", optarg);
            break;
        case 'R':
            a->require_cp = true;
            break;
        case 'K':
            a->key_ref = optarg;
            break;
        case 'c':
            if (!parse_u64(optarg, &u) || u == 0 || u > 1000000000)
                return bad_value("--checkpoint-every", optarg);
            a->checkpoint_every = (unsigned)u;
            break;
        case 'O':
            a->output = optarg;
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
    if (npos < 1) {
        fprintf(stderr, "agentc: audit wants a command\n");
        return agc_cli_usage(USAGE);
    }
    a->sub = argv[optind];
    static const char *const subs[] = {"verify", "show", "export", "stats", "append", "keygen"};
    bool known = false;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        known = known || strcmp(a->sub, subs[i]) == 0;
    if (!known) {
        fprintf(stderr, "agentc: unknown audit command '%s'\n", a->sub);
        return agc_cli_usage(USAGE);
    }
    int maxpos = strcmp(a->sub, "verify") == 0 ? 2 : 1;
    if (npos > maxpos) {
        fprintf(stderr, "agentc: audit %s: unexpected '%s'\n", a->sub, argv[optind + maxpos]);
        return agc_cli_usage(USAGE);
    }
    if (npos == 2)
        a->file = argv[optind + 1];
    if (strcmp(a->sub, "append") == 0 && (!a->action || !a->outcome)) {
        fprintf(stderr, "agentc: audit append needs --action and --outcome\n");
        return agc_cli_usage(USAGE);
    }
    if ((a->checkpoint_every > 0) != (a->key_ref != NULL)) {
        fprintf(stderr, "agentc: --key and --checkpoint-every go together\n");
        return agc_cli_usage(USAGE);
    }
    return 0;
}

/* The trail path: --trail, $AGENTC_AUDIT, $XDG_DATA_HOME/agentc/audit.db, ~/.local/share/... */
static char *trail_path(const audit_args *a, agc_ctx *ctx)
{
    if (a->trail)
        return agc_strdup(ctx, a->trail);
    const char *env = getenv("AGENTC_AUDIT");
    if (env && *env)
        return agc_strdup(ctx, env);
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/')
        return agc_sprintf(ctx, "%s/agentc/audit.db", xdg);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        agc_error_set(ctx, AGC_ENOTFOUND, "audit",
                      "no audit trail path: pass --trail PATH or set AGENTC_AUDIT");
        return NULL;
    }
    return agc_sprintf(ctx, "%s/.local/share/agentc/audit.db", home);
}

static int cmd_verify(const audit_args *a, const char *path, agc_ctx *ctx)
{
    agc_audit_verify_opts vo = AGC_AUDIT_VERIFY_OPTS_INIT;
    vo.public_key = a->public_key;
    vo.require_checkpoint = a->require_cp;
    vo.min_seq = a->min_seq;
    agc_audit_verify_result res;
    if (agc_audit_verify_file(&res, path, &vo, ctx) != AGC_OK) {
        agc_cli_error(ctx, "cannot verify %s", path);
        return AGC_CLI_FAIL;
    }
    if (res.ok) {
        printf("%s: %s\n", path, res.message);
        return AGC_CLI_OK;
    }
    printf("%s: INVALID: %s\n", path, res.message);
    return AGC_CLI_FAIL;
}

static agc_status show_row(const agc_audit_record *r, void *user)
{
    (void)user;
    char t[40];
    agc_time_format_rfc3339(r->time_ms, t, sizeof t);
    printf("%6llu  %s  %-18s %-8s %-16s %-12s %s\n", (unsigned long long)r->seq, t, r->action,
           r->outcome, r->actor ? r->actor : "-", r->run_id ? r->run_id : "-", r->payload);
    return AGC_OK;
}

static int cmd_read(const audit_args *a, agc_audit *t, agc_ctx *ctx)
{
    agc_status st;
    if (strcmp(a->sub, "show") == 0 && !a->format) {
        printf("%6s  %-24s  %-18s %-8s %-16s %-12s %s\n", "SEQ", "TIME", "ACTION", "OUTCOME",
               "ACTOR", "RUN", "PAYLOAD");
        st = agc_audit_query(t, &a->filter, show_row, NULL);
    } else {
        agc_audit_format fmt = a->format && strcmp(a->format, "csv") == 0 ? AGC_AUDIT_FORMAT_CSV
                                                                          : AGC_AUDIT_FORMAT_JSONL;
        FILE *out = stdout;
        if (a->output) {
            int fd = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            out = fd >= 0 ? fdopen(fd, "w") : NULL;
            if (!out) {
                if (fd >= 0)
                    close(fd);
                fprintf(stderr, "agentc: cannot write %s\n", a->output);
                return AGC_CLI_FAIL;
            }
        }
        st = agc_audit_export(t, &a->filter, fmt, out);
        if (out != stdout && fclose(out) != 0 && st == AGC_OK)
            st = agc_error_set(ctx, AGC_EIO, "audit", "cannot write %s", a->output);
    }
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot read the audit trail");
        return AGC_CLI_FAIL;
    }
    return AGC_CLI_OK;
}

static int cmd_stats(const audit_args *a, agc_audit *t, agc_ctx *ctx)
{
    json_t *s = NULL;
    if (agc_audit_stats(&s, t) != AGC_OK) {
        agc_cli_error(ctx, "cannot read the audit trail");
        return AGC_CLI_FAIL;
    }
    if (a->json) {
        char *text = NULL;
        if (agc_json_dump(&text, s, JSON_INDENT(2) | JSON_SORT_KEYS, ctx) == AGC_OK)
            printf("%s\n", text);
        agc_free(ctx, text);
    } else {
        char t1[40] = "-", t2[40] = "-";
        const json_t *ft = json_object_get(s, "first_time"), *lt = json_object_get(s, "last_time");
        if (json_is_integer(ft))
            agc_time_format_rfc3339(json_integer_value(ft), t1, sizeof t1);
        if (json_is_integer(lt))
            agc_time_format_rfc3339(json_integer_value(lt), t2, sizeof t2);
        printf("trail: %s\nrecords: %lld (seq 1..%lld)\nfirst: %s\nlast: %s\n", agc_audit_path(t),
               agc_json_int(s, "records", 0), agc_json_int(s, "last_seq", 0), t1, t2);
        const json_t *cp = json_object_get(s, "last_checkpoint");
        if (json_is_object(cp))
            printf("checkpoints: %lld, last at record %lld, key %s\n",
                   agc_json_int(s, "checkpoints", 0), agc_json_int(cp, "seq", 0),
                   agc_json_str(cp, "public_key", "?"));
        else
            printf("checkpoints: none\n");
        printf("by action:\n");
        const char *act, *out;
        json_t *outs, *n;
        json_object_foreach(json_object_get(s, "by_action"), act, outs)
        {
            json_object_foreach(outs, out, n)
            {
                printf("  %-24s %-10s %lld\n", act, out, (long long)json_integer_value(n));
            }
        }
    }
    json_decref(s);
    return AGC_CLI_OK;
}

static int cmd_append(const audit_args *a, const char *path, agc_ctx *ctx)
{
    json_t *payload = NULL;
    if (a->payload && agc_json_parse(&payload, a->payload, strlen(a->payload), "--payload", ctx)) {
        agc_cli_error(ctx, "--payload is not JSON");
        return AGC_CLI_USAGE;
    }
    agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
    o.checkpoint_every = a->checkpoint_every;
    o.signing_key_ref = a->key_ref;
    agc_audit *t = NULL;
    uint64_t seq = 0;
    agc_audit_entry e = {.actor = a->actor,
                         .run_id = a->run,
                         .subject = a->subject,
                         .action = a->action,
                         .outcome = a->outcome,
                         .payload = payload};
    agc_status st = agc_audit_open(&t, path, &o, ctx);
    if (st == AGC_OK)
        st = agc_audit_append(t, &e, &seq);
    agc_audit_close(t);
    json_decref(payload);
    if (st != AGC_OK) {
        agc_cli_error(ctx, "cannot append to %s", path);
        return AGC_CLI_FAIL;
    }
    printf("%llu\n", (unsigned long long)seq);
    return AGC_CLI_OK;
}

/* Writes a new Ed25519 seed (hex) to --output (0600, must not exist) or stdout; the
 * public key goes to stderr when the seed goes to stdout, else to stdout. */
static int cmd_keygen(const audit_args *a)
{
    unsigned char seed[32], pk[32], sk[64];
    char seed_hex[65], pk_hex[65];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_bin2hex(seed_hex, sizeof seed_hex, seed, sizeof seed);
    sodium_bin2hex(pk_hex, sizeof pk_hex, pk, sizeof pk);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    int rc = AGC_CLI_OK;
    if (a->output) {
        int fd = open(a->output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, seed_hex, 64) != 64 || write(fd, "\n", 1) != 1) {
            fprintf(stderr, "agentc: cannot create %s (it must not exist yet)\n", a->output);
            rc = AGC_CLI_FAIL;
        } else {
            printf("public key: %s\n", pk_hex);
        }
        if (fd >= 0)
            close(fd);
    } else {
        printf("%s\n", seed_hex);
        fprintf(stderr, "public key: %s\n", pk_hex);
    }
    sodium_memzero(seed_hex, sizeof seed_hex);
    return rc;
}

int agc_cmd_audit(int argc, char **argv)
{
    audit_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc != 0)
        return rc < 0 ? AGC_CLI_OK : rc;
    if (strcmp(a.sub, "keygen") == 0)
        return sodium_init() < 0 ? AGC_CLI_FAIL : cmd_keygen(&a);
    agc_ctx *ctx = agc_cli_ctx();
    if (!ctx)
        return AGC_CLI_FAIL;
    char *path = a.file ? agc_strdup(ctx, a.file) : trail_path(&a, ctx);
    if (!path) {
        agc_cli_error(ctx, "cannot find the audit trail");
        agc_ctx_free(ctx);
        return AGC_CLI_FAIL;
    }
    if (strcmp(a.sub, "verify") == 0) {
        rc = cmd_verify(&a, path, ctx);
    } else if (strcmp(a.sub, "append") == 0) {
        rc = cmd_append(&a, path, ctx);
    } else {
        agc_audit_opts o = AGC_AUDIT_OPTS_INIT;
        o.read_only = true;
        agc_audit *t = NULL;
        if (agc_audit_open(&t, path, &o, ctx) != AGC_OK) {
            agc_cli_error(ctx, "cannot open the audit trail");
            rc = AGC_CLI_FAIL;
        } else {
            rc = strcmp(a.sub, "stats") == 0 ? cmd_stats(&a, t, ctx) : cmd_read(&a, t, ctx);
        }
        agc_audit_close(t);
    }
    agc_free(ctx, path);
    agc_ctx_free(ctx);
    return rc;
}
