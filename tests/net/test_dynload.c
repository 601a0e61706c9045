/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * net lazy loading: libcurl and libmicrohttpd are neither linked into the
 * test program nor the agentc CLI, and are loaded by the first client or
 * server; the loader's messages for a missing library or symbol; version
 * comparison. The first test must run before any client or server exists.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/http.h"
#include "agentc/http_server.h"
#include "net/dynlib.h"

static bool is_loaded(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    if (h)
        dlclose(h); /* drops only the reference NOLOAD took */
    return h != NULL;
}

static agc_status answer(agc_http_sreq *r, void *user)
{
    (void)user;
    return agc_http_sreq_respond(r, 204, NULL, 0, NULL, 0);
}

static void libraries_load_at_first_client_and_server(void **state)
{
    (void)state;
    assert_false(is_loaded("libcurl.so.4"));
    assert_false(is_loaded("libmicrohttpd.so.12"));
    agc_test_alloc a;
    agc_ctx *ctx = agc_test_ctx_new(&a);

    agc_http_client *c = NULL;
    assert_int_equal(agc_http_client_new(&c, NULL, ctx), AGC_OK);
    assert_true(is_loaded("libcurl.so.4"));
    assert_false(is_loaded("libmicrohttpd.so.12"));
    agc_http_client *c2 = NULL; /* the second load is a no-op that succeeds */
    assert_int_equal(agc_http_client_new(&c2, NULL, ctx), AGC_OK);
    agc_http_client_free(c2);

    agc_http_server *srv = NULL;
    assert_int_equal(agc_http_server_new(&srv, NULL, answer, NULL, ctx), AGC_OK);
    assert_true(is_loaded("libmicrohttpd.so.12"));

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", (unsigned)agc_http_server_port(srv));
    agc_http_response *resp = NULL;
    assert_int_equal(agc_http_request_sync(&resp, c, "GET", url, NULL, 0, NULL, 0, NULL), AGC_OK);
    assert_int_equal(resp->status, 204);
    agc_http_response_free(resp);

    agc_http_server_free(srv);
    agc_http_client_free(c);
    agc_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

static void cli_does_not_link_curl_or_microhttpd(void **state)
{
    (void)state;
    const char *agentc = getenv("AGENTC");
    if (!agentc || !*agentc)
        skip();
    /* what ldd does: the loader lists the objects it would load, runs nothing */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "LD_TRACE_LOADED_OBJECTS=1 '%s'", agentc);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        assert_null(strstr(line, "libcurl"));
        assert_null(strstr(line, "libmicrohttpd"));
        assert_null(strstr(line, "libssl"));
        assert_null(strstr(line, "libgnutls"));
    }
    assert_int_equal(pclose(p), 0);
    assert_true(lines > 1);
}

static void missing_library_names_the_package_to_install(void **state)
{
    (void)state;
    char err[512] = "";
    void *h = agc_net__dlopen("libagc-no-such-lib.so.9", "agc-no-such-pkg", err, sizeof err);
    assert_null(h);
    assert_non_null(strstr(err, "libagc-no-such-lib.so.9 not found: install agc-no-such-pkg "
                                "(apt-get install agc-no-such-pkg)"));
}

static void missing_symbol_names_the_function(void **state)
{
    (void)state;
    typedef struct fns {
        void (*a)(void);
        void (*b)(void);
    } fns;
    static const agc_net__dlsym_slot slots[] = {{"strlen", offsetof(fns, a)},
                                                {"agc_no_such_function", offsetof(fns, b)}};
    char err[512] = "";
    void *h = agc_net__dlopen("libc.so.6", "libc6", err, sizeof err);
    assert_non_null(h);
    fns f = {0};
    assert_false(agc_net__dlsym_all(h, "libc.so.6", slots, 2, &f, err, sizeof err));
    assert_non_null(f.a);
    assert_non_null(strstr(err, "libc.so.6 lacks the function agc_no_such_function"));
    assert_non_null(strstr(err, "too old"));
    assert_true(agc_net__dlsym_all(h, "libc.so.6", slots, 1, &f, err, sizeof err));
}

static void versions_compare_numerically_by_component(void **state)
{
    (void)state;
    assert_int_equal(agc_net__version_cmp("0.9.75", "0.9.71"), 1);
    assert_int_equal(agc_net__version_cmp("0.9.71", "0.9.71"), 0);
    assert_int_equal(agc_net__version_cmp("0.9.9", "0.9.71"), -1);
    assert_int_equal(agc_net__version_cmp("1.0", "0.9.71"), 1);
    assert_int_equal(agc_net__version_cmp("0.9", "0.9.0"), 0);
    assert_int_equal(agc_net__version_cmp("0.9", "0.9.1"), -1);
    assert_int_equal(agc_net__version_cmp("1.0.0-rc1", "1.0.0"), 0);
    assert_int_equal(agc_net__version_cmp("", "0.1"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libraries_load_at_first_client_and_server), /* first: nothing loaded */
        cmocka_unit_test(cli_does_not_link_curl_or_microhttpd),
        cmocka_unit_test(missing_library_names_the_package_to_install),
        cmocka_unit_test(missing_symbol_names_the_function),
        cmocka_unit_test(versions_compare_numerically_by_component),
    };
    return cmocka_run_group_tests_name("net_dynload", tests, NULL, NULL);
}
