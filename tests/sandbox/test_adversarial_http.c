/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Adversarial HTTP from guests (http_fetch, run in this process with the
 * HTTP gate): a host not on the list, a DNS name that resolves to loopback
 * without allow_private, private / link-local / mapped literals, a secret
 * the server echoes back (redacted in what the guest and the log see), and
 * the pinned connection for a name host that is allowed.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "agentc/http_server.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "agentc/sandbox_http.h"
#include "sandbox_fixture.h"

#define TOKEN "adv-Hq2-secret-token-90210"

static agc_http_server *srv;
static agc_ctx *srv_ctx;
static unsigned port;
static atomic_int hits;
static const char *skip_reason;

static agc_status handler(agc_http_sreq *r, void *user)
{
    (void)user;
    atomic_fetch_add(&hits, 1);
    const char *key = agc_http_sreq_header(r, "x-api-key");
    char body[256];
    snprintf(body, sizeof body, "{\"echo\": \"key=%s\"}", key ? key : "none");
    agc_http_header h[] = {{"X-Reflected", key ? key : "none"}};
    return agc_http_sreq_respond(r, 200, h, 1, body, strlen(body));
}

static int setup(void **state)
{
    (void)state;
    setenv("AGC_ADV_HTTP_KEY", TOKEN, 1);
    if (agc_ctx_new(&srv_ctx, NULL) != AGC_OK ||
        agc_http_server_new(&srv, NULL, handler, NULL, srv_ctx) != AGC_OK)
        return -1;
    port = agc_http_server_port(srv);
    skip_reason = compile_missing();
    size_t n;
    unsigned char *w = skip_reason ? NULL : load_tool("http_fetch", &n);
    if (!skip_reason && !w)
        skip_reason = "the wasm tools were not built (clang with wasi-libc missing)";
    free(w);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    agc_http_server_free(srv);
    agc_ctx_free(srv_ctx);
    return 0;
}

#define NEED_WASM()                                                                                \
    do {                                                                                           \
        if (skip_reason) {                                                                         \
            print_message("skipped: %s\n", skip_reason);                                           \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

typedef struct logcap {
    char text[16384];
} logcap;

static void capture(agc_log_level level, const char *line, size_t len, void *user)
{
    (void)level;
    logcap *l = user;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%.*s\n", (int)len, line);
}

/* Runs http_fetch with a gate over policy (%u = port) and url (%u = port);
 * returns the result JSON (parsed) and fills the log capture. */
static json_t *fetch(const char *policy_fmt, const char *url_fmt, logcap *lc, agc_ctx *ctx)
{
    assert_int_equal(agc_log_set_callback(ctx, capture, lc), AGC_OK);
    assert_int_equal(agc_log_set_level(ctx, AGC_LOG_DEBUG), AGC_OK);
    char policy[1024], url[512], input[600];
    snprintf(policy, sizeof policy, policy_fmt, port);
    snprintf(url, sizeof url, url_fmt, port);
    snprintf(input, sizeof input, "{\"url\": \"%s\"}", url);
    json_t *pj = NULL;
    assert_int_equal(agc_json_parse(&pj, policy, strlen(policy), "policy", ctx), AGC_OK);
    agc_http_gate *g = NULL;
    if (agc_http_gate_new(&g, pj, ctx) != AGC_OK)
        fail_msg("gate: %s", agc_ctx_errmsg(ctx));
    json_decref(pj);
    size_t len = 0;
    unsigned char *w = load_tool("http_fetch", &len);
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    ro.input_json = input;
    ro.timeout_ms = 20000;
    ro.http = agc_http_gate_call;
    ro.http_user = g;
    agc_wasm_result r;
    if (agc_wasm_run(&r, w, len, &co, &ro, ctx) != AGC_OK)
        fail_msg("http_fetch: %s", agc_ctx_errmsg(ctx));
    free(w);
    json_t *j = NULL;
    assert_non_null(r.result);
    assert_int_equal(agc_json_parse(&j, r.result, r.result_len, "result", ctx), AGC_OK);
    assert_null(strstr(r.result, TOKEN));
    agc_wasm_result_free(&r);
    agc_http_gate_free(g);
    return j;
}

static void expect_code(const char *policy, const char *url, const char *code, const char *needle)
{
    logcap lc = {{0}};
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    int before = atomic_load(&hits);
    json_t *j = fetch(policy, url, &lc, ctx);
    if (strcmp(agc_json_str(j, "code", ""), code) != 0 ||
        !strstr(agc_json_str(j, "error", ""), needle))
        fail_msg("%s: code %s, error \"%s\"", url, agc_json_str(j, "code", "?"),
                 agc_json_str(j, "error", "?"));
    assert_int_equal(atomic_load(&hits), before);
    assert_non_null(strstr(lc.text, "refused"));
    json_decref(j);
    agc_ctx_free(ctx);
}

static const char *LOCAL_NAMED =
    "[{\"host\": \"localhost\", \"schemes\": [\"http\"], \"ports\": [%u], "
    "\"allow_private\": true, \"secrets\": {\"X-Api-Key\": \"env:AGC_ADV_HTTP_KEY\"}}]";

static void host_not_on_the_list_is_refused(void **state)
{
    (void)state;
    NEED_WASM();
    expect_code(LOCAL_NAMED, "http://127.0.0.1:%u/", "not_allowed", "not on the tool's");
    expect_code(LOCAL_NAMED, "http://localhost.evil.example:%u/", "not_allowed", "not on");
    expect_code(LOCAL_NAMED, "http://localhost:%u@evil.example/", "bad_request", "user names");
}

static void dns_name_resolving_to_loopback_is_refused(void **state)
{
    (void)state;
    NEED_WASM();
    /* "localhost" is a DNS name; without allow_private its loopback address is refused */
    expect_code("[{\"host\": \"localhost\", \"schemes\": [\"http\"], \"ports\": [%u]}]",
                "http://localhost:%u/", "private_address", "loopback");
}

static void private_and_mapped_literals_are_refused(void **state)
{
    (void)state;
    NEED_WASM();
    static const char *const hosts[] = {
        "10.1.2.3", "192.168.0.10",     "172.20.0.1",    "100.64.0.1",
        "0.0.0.0",  "169.254.169.254",  "fe80::1",       "fc00::1",
        "::",       "::ffff:127.0.0.1", "64:ff9b::a00:1"};
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        char policy[256], url[256];
        bool v6 = strchr(hosts[i], ':') != NULL;
        snprintf(policy, sizeof policy,
                 "[{\"host\": \"%s\", \"schemes\": [\"http\"], \"ports\": [%%u]}]", hosts[i]);
        snprintf(url, sizeof url, "http://%s%s%s:%%u/", v6 ? "[" : "", hosts[i], v6 ? "]" : "");
        expect_code(policy, url, "private_address", "allow_private");
    }
}

static void echoed_secret_is_redacted_for_guest_and_log(void **state)
{
    (void)state;
    NEED_WASM();
    logcap lc = {{0}};
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    int before = atomic_load(&hits);
    /* a name host, allowed with allow_private: the connection is pinned to its address */
    json_t *j = fetch(LOCAL_NAMED, "http://localhost:%u/echo", &lc, ctx);
    assert_int_equal(atomic_load(&hits), before + 1);
    assert_int_equal(agc_json_int(j, "status", 0), 200);
    assert_string_equal(agc_json_str(j, "body", ""), "{\"echo\": \"key=" AGC_REDACTED "\"}");
    assert_string_equal(agc_json_str(json_object_get(j, "headers"), "x-reflected", ""),
                        AGC_REDACTED);
    assert_null(strstr(lc.text, TOKEN));
    json_decref(j);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_not_on_the_list_is_refused),
        cmocka_unit_test(dns_name_resolving_to_loopback_is_refused),
        cmocka_unit_test(private_and_mapped_literals_are_refused),
        cmocka_unit_test(echoed_secret_is_redacted_for_guest_and_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
