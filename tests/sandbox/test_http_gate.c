/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The HTTP gate (agentc/sandbox_http.h) against a real loopback server:
 * policy validation with JSON paths, allowed requests, secrets added by the
 * parent and redacted from replies and logs, refusals (host, port, method,
 * scheme, private addresses, guest-set secret headers), size caps; then the
 * http_fetch example and the adv_http guest through agentc.http_request in
 * this process (request cap, the -42 re-read path, faults, no grant).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "agentc/http_server.h"
#include "agentc/json.h"
#include "agentc/log.h"
#include "agentc/redact.h"
#include "agentc/sandbox_http.h"
#include "sandbox_fixture.h"

#define TOKEN "tok-Zq81-gate-secret-4471"

static agc_http_server *srv;
static agc_ctx *srv_ctx;
static uint16_t port;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char seen_auth[256];
static atomic_int hits;
static const char *wasm_skip;

static agc_status handler(agc_http_sreq *r, void *user)
{
    (void)user;
    atomic_fetch_add(&hits, 1);
    const char *p = agc_http_sreq_path(r);
    const char *auth = agc_http_sreq_header(r, "authorization");
    pthread_mutex_lock(&mu);
    snprintf(seen_auth, sizeof seen_auth, "%s", auth ? auth : "");
    pthread_mutex_unlock(&mu);
    if (strcmp(p, "/echo") == 0) { /* a careless API that reflects credentials */
        char body[512];
        snprintf(body, sizeof body, "{\"you_sent\": \"%s\"}", auth ? auth : "");
        agc_http_header h[] = {{"X-Echo", auth ? auth : "-"}, {"Content-Type", "application/json"}};
        return agc_http_sreq_respond(r, 200, h, 2, body, strlen(body));
    }
    if (strcmp(p, "/big") == 0) {
        size_t n = 200000;
        char *b = malloc(n);
        memset(b, 'b', n);
        agc_status st = agc_http_sreq_respond(r, 200, NULL, 0, b, n);
        free(b);
        return st;
    }
    if (strcmp(p, "/binary") == 0)
        return agc_http_sreq_respond(r, 200, NULL, 0, "\xff\xfe\x00\x01", 4);
    if (strcmp(p, "/post") == 0) {
        size_t len = 0;
        const char *body = agc_http_sreq_body(r, &len);
        return agc_http_sreq_respond(r, 201, NULL, 0, body, len);
    }
    return agc_http_sreq_respond(r, 200, NULL, 0, "hello", 5);
}

static int setup(void **state)
{
    (void)state;
    setenv("AGC_TEST_HTTP_TOKEN", TOKEN, 1);
    if (agc_ctx_new(&srv_ctx, NULL) != AGC_OK)
        return -1;
    if (agc_http_server_new(&srv, NULL, handler, NULL, srv_ctx) != AGC_OK) {
        fprintf(stderr, "server: %s\n", agc_ctx_errmsg(srv_ctx));
        return -1;
    }
    port = agc_http_server_port(srv);
    wasm_skip = compile_missing();
    size_t n = 0;
    unsigned char *w = wasm_skip ? NULL : load_tool("http_fetch", &n);
    if (!wasm_skip && !w)
        wasm_skip = "the wasm tools were not built (clang with wasi-libc missing)";
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

typedef struct logcap {
    pthread_mutex_t mu;
    char text[8192];
} logcap;

static void capture(agc_log_level level, const char *line, size_t len, void *user)
{
    (void)level;
    logcap *l = user;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%.*s\n", (int)len, line);
}

/* A gate over policy text with %u replaced by the server's port. */
static agc_http_gate *gate_for(const char *policy_fmt, agc_ctx *ctx)
{
    char text[2048];
    snprintf(text, sizeof text, policy_fmt, port, port, port);
    json_t *j = NULL;
    if (agc_json_parse(&j, text, strlen(text), "policy", ctx) != AGC_OK)
        fail_msg("policy: %s", agc_ctx_errmsg(ctx));
    agc_http_gate *g = NULL;
    if (agc_http_gate_new(&g, j, ctx) != AGC_OK)
        fail_msg("gate: %s", agc_ctx_errmsg(ctx));
    json_decref(j);
    return g;
}

/* Calls the gate; returns the parsed reply. */
static json_t *call(agc_http_gate *g, const char *req_fmt, agc_ctx *ctx)
{
    char req[8192];
    snprintf(req, sizeof req, req_fmt, port);
    char *resp = NULL;
    size_t len = 0;
    assert_int_equal(agc_http_gate_call(&resp, &len, req, strlen(req), g, ctx), AGC_OK);
    assert_int_equal(len, strlen(resp));
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, resp, len, "reply", ctx), AGC_OK);
    agc_free(ctx, resp);
    return j;
}

static const char *LOCAL =
    "[{\"host\": \"127.0.0.1\", \"schemes\": [\"http\"], \"ports\": [%u], "
    "\"methods\": [\"GET\", \"POST\"], \"allow_private\": true, "
    "\"secrets\": {\"Authorization\": {\"ref\": \"env:AGC_TEST_HTTP_TOKEN\", "
    "\"prefix\": \"Bearer \"}}}]";

static void expect_bad_policy(const char *policy, agc_status code, const char *needle)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, policy, strlen(policy), "policy", ctx), AGC_OK);
    agc_http_gate *g = NULL;
    assert_int_equal(agc_http_gate_new(&g, j, ctx), code);
    assert_null(g);
    if (!strstr(agc_ctx_errmsg(ctx), needle))
        fail_msg("message \"%s\" lacks \"%s\"", agc_ctx_errmsg(ctx), needle);
    json_decref(j);
    agc_ctx_free(ctx);
}

static void gate_rejects_bad_entries_naming_their_path(void **state)
{
    (void)state;
    expect_bad_policy("[{\"host\": \"a.example\"}, {\"host\": \"b\", \"ports\": [0]}]", AGC_EINVAL,
                      "allowed_hosts/1/ports/0");
    expect_bad_policy("[{\"host\": \"a\", \"secrets\": {\"X-Key\": \"sk-pasted-value\"}}]",
                      AGC_EINVAL, "allowed_hosts/0/secrets/X-Key");
    expect_bad_policy("[{\"host\": \"a\", \"port\": 80}]", AGC_EINVAL, "unknown key \"port\"");
    expect_bad_policy("[{\"host\": \"a/b\"}]", AGC_EINVAL, "allowed_hosts/0/host");
    expect_bad_policy("[{\"host\": \"a\", \"methods\": [\"GET X\"]}]", AGC_EINVAL,
                      "allowed_hosts/0/methods");
    expect_bad_policy("[{\"host\": \"a\", \"schemes\": [\"ftp\"]}]", AGC_EINVAL,
                      "allowed_hosts/0/schemes");
    expect_bad_policy("[{\"host\": \"a\", \"allow_private\": \"yes\"}]", AGC_EINVAL,
                      "allow_private");
    expect_bad_policy("{\"host\": \"a\"}", AGC_EINVAL, "must be an array");
    unsetenv("AGC_TEST_UNSET_TOKEN");
    expect_bad_policy("[{\"host\": \"a\", \"secrets\": {\"X-Key\": \"env:AGC_TEST_UNSET_TOKEN\"}}]",
                      AGC_ENOTFOUND, "allowed_hosts/0/secrets/X-Key");
    /* the pasted value is never repeated */
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    const char *p = "[{\"host\": \"a\", \"secrets\": {\"X-Key\": \"sk-pasted-value\"}}]";
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, p, strlen(p), "policy", ctx), AGC_OK);
    agc_http_gate *g = NULL;
    assert_int_equal(agc_http_gate_new(&g, j, ctx), AGC_EINVAL);
    assert_null(strstr(agc_ctx_errmsg(ctx), "sk-pasted"));
    json_decref(j);
    /* NULL and [] allow nothing */
    assert_int_equal(agc_http_gate_new(&g, NULL, ctx), AGC_OK);
    json_t *r = call(g, "{\"url\": \"http://127.0.0.1:%u/\"}", ctx);
    assert_string_equal(agc_json_str(r, "code", ""), "not_allowed");
    json_decref(r);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static void gate_makes_an_allowed_request(void **state)
{
    (void)state;
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);
    agc_http_gate *g = gate_for(LOCAL, ctx);
    json_t *r = call(g, "{\"url\": \"http://127.0.0.1:%u/hello\"}", ctx);
    assert_int_equal(agc_json_int(r, "status", 0), 200);
    assert_string_equal(agc_json_str(r, "body", ""), "hello");
    assert_true(json_is_object(json_object_get(r, "headers")));
    json_decref(r);
    /* the parent added the secret header: the server saw it */
    pthread_mutex_lock(&mu);
    assert_string_equal(seen_auth, "Bearer " TOKEN);
    pthread_mutex_unlock(&mu);
    r = call(g,
             "{\"method\": \"post\", \"url\": \"http://127.0.0.1:%u/post\", "
             "\"headers\": {\"Content-Type\": \"text/plain\"}, \"body\": \"payload\"}",
             ctx);
    assert_int_equal(agc_json_int(r, "status", 0), 201);
    assert_string_equal(agc_json_str(r, "body", ""), "payload");
    json_decref(r);
    r = call(g, "{\"url\": \"http://127.0.0.1:%u/binary\"}", ctx);
    assert_string_equal(agc_json_str(r, "body_base64", ""), "//4AAQ==");
    json_decref(r);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void gate_redacts_an_echoed_secret(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    logcap lc = {PTHREAD_MUTEX_INITIALIZER, {0}};
    assert_int_equal(agc_log_set_callback(ctx, capture, &lc), AGC_OK);
    assert_int_equal(agc_log_set_level(ctx, AGC_LOG_DEBUG), AGC_OK);
    agc_http_gate *g = gate_for(LOCAL, ctx);
    char req[256];
    snprintf(req, sizeof req, "{\"url\": \"http://127.0.0.1:%u/echo\"}", port);
    char *resp = NULL;
    size_t len = 0;
    assert_int_equal(agc_http_gate_call(&resp, &len, req, strlen(req), g, ctx), AGC_OK);
    assert_null(strstr(resp, TOKEN));
    assert_non_null(strstr(resp, AGC_REDACTED));
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, resp, len, "reply", ctx), AGC_OK);
    assert_int_equal(agc_json_int(j, "status", 0), 200);
    const char *echo = agc_json_str(json_object_get(j, "headers"), "x-echo", "");
    assert_null(strstr(echo, TOKEN));
    json_decref(j);
    agc_free(ctx, resp);
    assert_null(strstr(lc.text, TOKEN));
    assert_non_null(strstr(lc.text, "guest HTTP GET http://127.0.0.1"));
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static void expect_refusal(agc_http_gate *g, const char *req, const char *code, const char *needle,
                           agc_ctx *ctx)
{
    int before = atomic_load(&hits);
    json_t *r = call(g, req, ctx);
    assert_null(json_object_get(r, "status"));
    if (strcmp(agc_json_str(r, "code", ""), code) != 0 ||
        !strstr(agc_json_str(r, "error", ""), needle))
        fail_msg("%s: got code %s, error \"%s\"", req, agc_json_str(r, "code", "?"),
                 agc_json_str(r, "error", "?"));
    json_decref(r);
    assert_int_equal(atomic_load(&hits), before); /* nothing reached the server */
}

static void gate_refuses_what_the_policy_does_not_list(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_http_gate *g = gate_for(LOCAL, ctx);
    expect_refusal(g, "{\"url\": \"http://example.org:%u/\"}", "not_allowed", "allowed_hosts", ctx);
    expect_refusal(g, "{\"url\": \"http://127.0.0.1:1/\", \"x\": %u}", "not_allowed",
                   "allowed_hosts", ctx);
    expect_refusal(g, "{\"url\": \"https://127.0.0.1:%u/\"}", "not_allowed", "https://", ctx);
    expect_refusal(g, "{\"method\": \"DELETE\", \"url\": \"http://127.0.0.1:%u/\"}", "not_allowed",
                   "DELETE", ctx);
    expect_refusal(g, "{\"url\": \"http://user:pw@127.0.0.1:%u/\"}", "bad_request", "user names",
                   ctx);
    expect_refusal(g, "{\"url\": \"ftp://127.0.0.1:%u/\"}", "bad_request", "http://", ctx);
    expect_refusal(g, "{\"url\": \"http://127.0.0.1:%u/\\\\x\"}", "bad_request", "backslash", ctx);
    expect_refusal(g,
                   "{\"url\": \"http://127.0.0.1:%u/\", \"headers\": "
                   "{\"authorization\": \"Bearer mine\"}}",
                   "not_allowed", "set by the host", ctx);
    expect_refusal(g, "{\"url\": \"http://127.0.0.1:%u/\", \"headers\": {\"Host\": \"evil\"}}",
                   "not_allowed", "set by the host", ctx);
    expect_refusal(g,
                   "{\"url\": \"http://127.0.0.1:%u/\", \"headers\": {\"X-A\": \"1\\r\\nB: 2\"}}",
                   "bad_request", "one-line", ctx);
    expect_refusal(g, "[%u]", "bad_request", "JSON object", ctx);
    expect_refusal(g, "{\"url\": %u}", "bad_request", "url", ctx);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static void gate_refuses_private_addresses_unless_allowed(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_http_gate *g =
        gate_for("[{\"host\": \"127.0.0.1\", \"schemes\": [\"http\"], \"ports\": [%u]}, "
                 "{\"host\": \"::1\", \"schemes\": [\"http\"], \"ports\": [%u]}, "
                 "{\"host\": \"169.254.169.254\", \"schemes\": [\"http\"], \"ports\": [%u]}]",
                 ctx);
    expect_refusal(g, "{\"url\": \"http://127.0.0.1:%u/\"}", "private_address", "loopback", ctx);
    expect_refusal(g, "{\"url\": \"http://[::1]:%u/\"}", "private_address", "loopback", ctx);
    expect_refusal(g, "{\"url\": \"http://169.254.169.254:%u/\"}", "private_address", "link-local",
                   ctx);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static void gate_caps_response_size(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_http_gate *g = gate_for("[{\"host\": \"127.0.0.1\", \"schemes\": [\"http\"], "
                                "\"ports\": [%u], \"allow_private\": true, "
                                "\"max_response_kb\": 64, \"max_request_kb\": 1}]",
                                ctx);
    json_t *r = call(g, "{\"url\": \"http://127.0.0.1:%u/big\"}", ctx);
    assert_string_equal(agc_json_str(r, "code", ""), "limit");
    json_decref(r);
    char req[4096];
    char pad[2000];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    snprintf(req, sizeof req, "{\"url\": \"http://127.0.0.1:%%u/post\", \"body\": \"%s\"}", pad);
    r = call(g, req, ctx);
    assert_string_equal(agc_json_str(r, "code", ""), "limit");
    assert_non_null(strstr(agc_json_str(r, "error", ""), "max_request_kb"));
    json_decref(r);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static agc_status sweep_gate(agc_ctx *ctx, void *user)
{
    (void)user;
    const char *pol = "[{\"host\": \"api.example\", \"methods\": [\"GET\", \"POST\"], "
                      "\"secrets\": {\"X-Key\": {\"ref\": \"env:AGC_TEST_HTTP_TOKEN\", "
                      "\"prefix\": \"K \"}}}, {\"host\": \"*.example.org\"}]";
    json_t *j = NULL;
    agc_status st = agc_json_parse(&j, pol, strlen(pol), "policy", ctx);
    if (st != AGC_OK)
        return st;
    agc_http_gate *g = NULL;
    st = agc_http_gate_new(&g, j, ctx);
    json_decref(j);
    if (st != AGC_OK)
        return st;
    static const char *const reqs[] = {
        "{\"url\": \"https://evil.example/\"}",
        "{\"url\": \"https://127.0.0.1/\", \"headers\": {\"Host\": \"x\"}}",
        "{\"method\": \"PUT\", \"url\": \"https://api.example/\"}",
        "{\"url\": \"https://api.example/\", \"headers\": {\"x-key\": \"mine\"}}", "not json"};
    for (size_t i = 0; st == AGC_OK && i < sizeof reqs / sizeof *reqs; i++) {
        char *resp = NULL;
        size_t len = 0;
        st = agc_http_gate_call(&resp, &len, reqs[i], strlen(reqs[i]), g, ctx);
        agc_free(ctx, resp);
    }
    agc_http_gate_free(g);
    return st;
}

static void gate_survives_allocation_failures(void **state)
{
    (void)state;
    long runs = agc_test_oom_sweep(sweep_gate, NULL, AGC_OK);
    print_message("%ld allocation-failure runs\n", runs);
    assert_true(runs > 10);
}

/* ---- through a guest, in this process */

#define NEED_WASM()                                                                                \
    do {                                                                                           \
        if (wasm_skip) {                                                                           \
            print_message("skipped: %s\n", wasm_skip);                                             \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static agc_status run_guest(agc_wasm_result *res, const char *tool, const char *input,
                            agc_http_gate *g, uint32_t max_req, agc_ctx *ctx)
{
    size_t len = 0;
    unsigned char *w = load_tool(tool, &len);
    assert_non_null(w);
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_wasm_run_opts ro = AGC_WASM_RUN_OPTS_INIT;
    ro.input_json = input;
    ro.timeout_ms = 20000;
    ro.http = g ? agc_http_gate_call : NULL;
    ro.http_user = g;
    ro.max_http_requests = max_req;
    agc_status st = agc_wasm_run(res, w, len, &co, &ro, ctx);
    free(w);
    return st;
}

static void http_fetch_reaches_an_allowlisted_local_server(void **state)
{
    (void)state;
    NEED_WASM();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    logcap lc = {PTHREAD_MUTEX_INITIALIZER, {0}};
    assert_int_equal(agc_log_set_callback(ctx, capture, &lc), AGC_OK);
    agc_http_gate *g = gate_for(LOCAL, ctx);
    char in[256];
    snprintf(in, sizeof in, "{\"url\": \"http://127.0.0.1:%u/echo\"}", port);
    agc_wasm_result r;
    if (run_guest(&r, "http_fetch", in, g, 0, ctx) != AGC_OK)
        fail_msg("http_fetch: %s", agc_ctx_errmsg(ctx));
    assert_true(r.uses_agentc);
    assert_non_null(r.result);
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, r.result, r.result_len, "result", ctx), AGC_OK);
    assert_int_equal(agc_json_int(j, "status", 0), 200);
    /* the server got the secret; the guest only sees it redacted */
    pthread_mutex_lock(&mu);
    assert_string_equal(seen_auth, "Bearer " TOKEN);
    pthread_mutex_unlock(&mu);
    assert_null(strstr(r.result, TOKEN));
    assert_non_null(strstr(agc_json_str(j, "body", ""), AGC_REDACTED));
    assert_null(strstr(lc.text, TOKEN));
    json_decref(j);
    agc_wasm_result_free(&r);
    /* a host not on the list: an error reply, nothing sent */
    int before = atomic_load(&hits);
    assert_int_equal(run_guest(&r, "http_fetch", "{\"url\": \"http://example.org/\"}", g, 0, ctx),
                     AGC_OK);
    assert_non_null(strstr(r.result, "not_allowed"));
    assert_int_equal(atomic_load(&hits), before);
    agc_wasm_result_free(&r);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static void http_is_not_capable_without_a_gate(void **state)
{
    (void)state;
    NEED_WASM();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_wasm_result r;
    assert_int_equal(run_guest(&r, "http_fetch", "{\"url\": \"http://127.0.0.1/\"}", NULL, 0, ctx),
                     AGC_OK);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(r.result, "not available to this tool (-76)"));
    agc_wasm_result_free(&r);
    agc_ctx_free(ctx);
}

static void guest_request_cap_stops_the_guest(void **state)
{
    (void)state;
    NEED_WASM();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_http_gate *g = gate_for(LOCAL, ctx);
    char in[256];
    snprintf(in, sizeof in, "many 3 http://127.0.0.1:%u/hello", port);
    agc_wasm_result r;
    assert_int_equal(run_guest(&r, "adv_http", in, g, 5, ctx), AGC_OK);
    assert_string_equal(r.result, "{\"ok\": 3}");
    agc_wasm_result_free(&r);
    snprintf(in, sizeof in, "many 20 http://127.0.0.1:%u/hello", port);
    int before = atomic_load(&hits);
    assert_int_equal(run_guest(&r, "adv_http", in, g, 5, ctx), AGC_ELIMIT);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "HTTP request limit 5 per call exceeded"));
    assert_int_equal(atomic_load(&hits) - before, 5);
    agc_wasm_result_free(&r);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

static void large_replies_are_reread_and_faults_are_errnos(void **state)
{
    (void)state;
    NEED_WASM();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_http_gate *g = gate_for(LOCAL, ctx);
    char in[256];
    snprintf(in, sizeof in, "small http://127.0.0.1:%u/hello", port);
    agc_wasm_result r;
    assert_int_equal(run_guest(&r, "adv_http", in, g, 0, ctx), AGC_OK);
    assert_string_equal(r.result, "{\"rc\": -42, \"rc2\": 0, \"has_status\": 1}");
    agc_wasm_result_free(&r);
    assert_int_equal(run_guest(&r, "adv_http", "fault", g, 0, ctx), AGC_OK);
    assert_string_equal(r.result, "{\"rc\": -21}");
    agc_wasm_result_free(&r);
    assert_int_equal(run_guest(&r, "adv_http", "none", g, 0, ctx), AGC_OK);
    assert_string_equal(r.result, "{\"rc\": -28}");
    agc_wasm_result_free(&r);
    /* a 200 kB body arrives whole through the helper's re-read */
    snprintf(in, sizeof in, "{\"url\": \"http://127.0.0.1:%u/big\"}", port);
    assert_int_equal(run_guest(&r, "http_fetch", in, g, 0, ctx), AGC_OK);
    assert_true(r.result_len > 200000);
    agc_wasm_result_free(&r);
    agc_http_gate_free(g);
    agc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_rejects_bad_entries_naming_their_path),
        cmocka_unit_test(gate_makes_an_allowed_request),
        cmocka_unit_test(gate_redacts_an_echoed_secret),
        cmocka_unit_test(gate_refuses_what_the_policy_does_not_list),
        cmocka_unit_test(gate_refuses_private_addresses_unless_allowed),
        cmocka_unit_test(gate_caps_response_size),
        cmocka_unit_test(gate_survives_allocation_failures),
        cmocka_unit_test(http_fetch_reaches_an_allowlisted_local_server),
        cmocka_unit_test(http_is_not_capable_without_a_gate),
        cmocka_unit_test(guest_request_cap_stops_the_guest),
        cmocka_unit_test(large_replies_are_reread_and_faults_are_errnos),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
