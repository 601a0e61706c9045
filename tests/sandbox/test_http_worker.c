/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The HTTP gate through jailed workers (agentc/sandbox_worker.h): the guest
 * runs in a worker with no network, its agentc.http_request travels over the
 * control channel to this process, which holds the gate and the secret. The
 * http_fetch example reaches an allowlisted loopback server (fresh and pooled
 * workers); a host not on the list is refused; the secret the server echoes
 * never reaches the worker; the per-call request cap holds.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "agentc/http_server.h"
#include "agentc/json.h"
#include "agentc/redact.h"
#include "agentc/sandbox_worker.h"
#include "sandbox_fixture.h"

#define TOKEN "wrk-7Ty-secret-token-31337"

static agc_http_server *srv;
static agc_ctx *srv_ctx;
static unsigned port;
static atomic_int hits;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char seen_key[128];
static const char *skip_reason;

static agc_status handler(agc_http_sreq *r, void *user)
{
    (void)user;
    atomic_fetch_add(&hits, 1);
    const char *key = agc_http_sreq_header(r, "x-api-key");
    pthread_mutex_lock(&mu);
    snprintf(seen_key, sizeof seen_key, "%s", key ? key : "");
    pthread_mutex_unlock(&mu);
    char body[256];
    snprintf(body, sizeof body, "{\"echo\": \"%s\"}", key ? key : "none");
    return agc_http_sreq_respond(r, 200, NULL, 0, body, strlen(body));
}

static int setup(void **state)
{
    (void)state;
    setenv("AGC_WORKER_HTTP_KEY", TOKEN, 1);
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

/* A tool over wasm/<name>.wasm with a policy whose allowed_hosts is the loopback server. */
static agc_sandbox_tool *tool_for(const char *name, const char *mode, agc_ctx *ctx)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"mode\": \"%s\", \"timeout_ms\": 20000, \"max_http_requests\": 5, "
             "\"allowed_hosts\": [{\"host\": \"127.0.0.1\", \"schemes\": [\"http\"], "
             "\"ports\": [%u], \"allow_private\": true, "
             "\"secrets\": {\"X-Api-Key\": \"env:AGC_WORKER_HTTP_KEY\"}}]}",
             mode, port);
    json_t *j = NULL;
    assert_int_equal(agc_json_parse(&j, text, strlen(text), "policy", ctx), AGC_OK);
    agc_sandbox_policy *p = NULL;
    if (agc_sandbox_policy_from_json(&p, j, NULL, NULL, ctx) != AGC_OK)
        fail_msg("policy: %s", agc_ctx_errmsg(ctx));
    json_decref(j);
    char path[4096];
    const char *bin = getenv("AGC_BINARY_DIR");
    snprintf(path, sizeof path, "%s/wasm/%s.wasm", bin ? bin : ".", name);
    agc_wasm_compile_opts co = AGC_WASM_COMPILE_OPTS_INIT;
    co.cache_dir = shared_cache();
    agc_sandbox_tool_opts o = AGC_SANDBOX_TOOL_OPTS_INIT;
    o.compile = &co;
    agc_sandbox_tool *t = NULL;
    if (agc_sandbox_tool_new(&t, path, p, &o, ctx) != AGC_OK)
        fail_msg("tool: %s", agc_ctx_errmsg(ctx));
    agc_sandbox_policy_free(p, ctx);
    return t;
}

static void fetch_through_worker(const char *mode)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_sandbox_tool *t = tool_for("http_fetch", mode, ctx);
    for (int i = 0; i < 2; i++) {
        char in[256];
        snprintf(in, sizeof in, "{\"url\": \"http://127.0.0.1:%u/echo\"}", port);
        agc_sandbox_call c;
        if (agc_sandbox_tool_call(&c, t, in) != AGC_OK)
            fail_msg("%s call: %s", mode, agc_ctx_errmsg(ctx));
        assert_true(c.worker_pid > 0); /* really in a worker */
        assert_true(c.is_result);
        json_t *j = NULL;
        assert_int_equal(agc_json_parse(&j, c.output, c.output_len, "result", ctx), AGC_OK);
        assert_int_equal(agc_json_int(j, "status", 0), 200);
        assert_string_equal(agc_json_str(j, "body", ""), "{\"echo\": \"" AGC_REDACTED "\"}");
        assert_null(strstr(c.output, TOKEN));
        pthread_mutex_lock(&mu);
        assert_string_equal(seen_key, TOKEN); /* the parent added it */
        pthread_mutex_unlock(&mu);
        json_decref(j);
        agc_sandbox_call_free(&c);
    }
    /* a host that is not listed: refused by the parent, nothing sent */
    int before = atomic_load(&hits);
    agc_sandbox_call c;
    assert_int_equal(agc_sandbox_tool_call(&c, t, "{\"url\": \"http://127.0.0.2:80/\"}"), AGC_OK);
    assert_non_null(strstr(c.output, "not_allowed"));
    assert_int_equal(atomic_load(&hits), before);
    agc_sandbox_call_free(&c);
    agc_sandbox_tool_free(t);
    agc_ctx_free(ctx);
}

static void http_fetch_through_a_fresh_worker(void **state)
{
    (void)state;
    NEED_WASM();
    fetch_through_worker("fresh");
}

static void http_fetch_through_a_pooled_worker(void **state)
{
    (void)state;
    NEED_WASM();
    fetch_through_worker("pool");
}

static void request_cap_holds(const char *mode)
{
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_sandbox_tool *t = tool_for("adv_http", mode, ctx);
    char in[256];
    snprintf(in, sizeof in, "many 20 http://127.0.0.1:%u/x", port);
    int before = atomic_load(&hits);
    agc_sandbox_call c;
    agc_status st = agc_sandbox_tool_call(&c, t, in);
    print_message("20 requests, cap 5: %s (%s), %d reached the server\n", agc_strerror(st),
                  agc_ctx_errmsg(ctx), atomic_load(&hits) - before);
    assert_int_equal(st, AGC_ELIMIT);
    assert_true(atomic_load(&hits) - before <= 5);
    /* the specific violation, not the output cap */
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "HTTP request limit 5 per call exceeded"));
    assert_null(strstr(agc_ctx_errmsg(ctx), "output limit"));
    assert_non_null(c.violation);
    assert_string_equal(c.violation, "http");
    agc_sandbox_call_free(&c);
    agc_sandbox_tool_free(t);
    agc_ctx_free(ctx);
}

static void request_cap_holds_in_a_worker(void **state)
{
    (void)state;
    NEED_WASM();
    request_cap_holds("fresh");
}

static void request_cap_holds_in_a_pooled_worker(void **state)
{
    (void)state;
    NEED_WASM();
    request_cap_holds("pool");
}

static void request_cap_holds_in_process(void **state)
{
    (void)state;
    NEED_WASM();
    request_cap_holds("inprocess");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_fetch_through_a_fresh_worker),
        cmocka_unit_test(http_fetch_through_a_pooled_worker),
        cmocka_unit_test(request_cap_holds_in_a_worker),
        cmocka_unit_test(request_cap_holds_in_a_pooled_worker),
        cmocka_unit_test(request_cap_holds_in_process),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
