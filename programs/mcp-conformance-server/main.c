/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp-conformance-server: the fixture the official MCP conformance suite
 * (`conformance server --url ...`) runs against. It registers exactly the
 * tools, resources and prompts the server scenarios call, on top of the real
 * agentc server library and its Streamable HTTP transport.
 * Usage: mcp-conformance-server [--port N] [--bind ADDR]
 * Prints "listening on http://ADDR:PORT/mcp" once ready; stops on SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentc/alloc.h"
#include "agentc/json.h"
#include "agentc/mcp.h"
#include "agentc/mcp_http_server.h"

#define IMAGE_B64                                                                                  \
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJg" \
    "gg"                                                                                           \
    "=="
#define AUDIO_B64 "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

static json_t *parse(const char *text, agc_ctx *ctx)
{
    json_t *v = NULL;
    if (agc_json_parse(&v, text, strlen(text), "fixture", ctx) != AGC_OK)
        return NULL;
    return v;
}

/* Sets *out to the parsed text (a fixed result). */
static agc_status fixed(json_t **out, agc_mcp_request *req, const char *text)
{
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_request_session(req));
    *out = parse(text, ctx);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static json_t *text_result(const char *text)
{
    return json_pack("{s:[{s:s,s:s}]}", "content", "type", "text", "text", text);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- tools ------------------------------------------------------------------------------- */

static agc_status t_simple(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(out, req,
                 "{\"content\":[{\"type\":\"text\",\"text\":\"This is a simple text response for "
                 "testing.\"}]}");
}

static agc_status t_image(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(out, req,
                 "{\"content\":[{\"type\":\"image\",\"data\":\"" IMAGE_B64
                 "\",\"mimeType\":\"image/png\"}]}");
}

static agc_status t_audio(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(out, req,
                 "{\"content\":[{\"type\":\"audio\",\"data\":\"" AUDIO_B64
                 "\",\"mimeType\":\"audio/wav\"}]}");
}

static agc_status t_embedded(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(out, req,
                 "{\"content\":[{\"type\":\"resource\",\"resource\":{\"uri\":\"test://"
                 "embedded-resource\",\"mimeType\":\"text/plain\",\"text\":\"This is an embedded "
                 "resource content.\"}}]}");
}

static agc_status t_mixed(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(out, req,
                 "{\"content\":[{\"type\":\"text\",\"text\":\"Multiple content types test:\"},"
                 "{\"type\":\"image\",\"data\":\"" IMAGE_B64 "\",\"mimeType\":\"image/png\"},"
                 "{\"type\":\"resource\",\"resource\":{\"uri\":\"test://mixed-content-resource\","
                 "\"mimeType\":\"application/json\",\"text\":\"{\\\"test\\\":\\\"data\\\","
                 "\\\"value\\\":123}\"}}]}");
}

static agc_status t_logging(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    agc_mcp_server *srv = agc_mcp_request_server(req);
    const char *steps[] = {"Tool execution started", "Tool processing data",
                           "Tool execution completed"};
    for (int i = 0; i < 3; i++) {
        json_t *d = json_string(steps[i]);
        agc_status st = agc_mcp_server_log(srv, "info", "conformance-test-server", d);
        json_decref(d);
        if (st != AGC_OK)
            return st;
        if (i < 2)
            sleep_ms(50);
    }
    *out = text_result("Tool with logging executed successfully");
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status t_progress(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    for (int p = 0; p <= 100; p += 50) {
        char msg[64];
        snprintf(msg, sizeof msg, "Completed step %d of 100", p);
        agc_status st = agc_mcp_request_progress(req, p, 100, msg);
        if (st != AGC_OK)
            return st;
        if (p < 100)
            sleep_ms(50);
    }
    *out = text_result("Progress tool completed");
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status t_error(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)out, (void)a, (void)u;
    return agc_error_set(agc_mcp_session_ctx(agc_mcp_request_session(req)), AGC_ERROR, "fixture",
                         "This tool intentionally returns an error for testing");
}

static agc_status t_reconnect(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    agc_mcp_request_close_stream(req); /* the client resumes with Last-Event-ID */
    sleep_ms(100);
    *out = text_result("Reconnection test completed successfully. If you received this, the "
                       "client properly reconnected after stream closure.");
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status t_sampling(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)u;
    agc_mcp_server *srv = agc_mcp_request_server(req);
    json_t *p = json_pack("{s:[{s:s,s:{s:s,s:s}}],s:i}", "messages", "role", "user", "content",
                          "type", "text", "text", agc_json_str(a, "prompt", ""), "maxTokens", 100);
    json_t *r = NULL;
    agc_status st = p ? agc_mcp_server_create_message(&r, srv, p, NULL) : AGC_ENOMEM;
    json_decref(p);
    char text[1024];
    if (st == AGC_OK)
        snprintf(text, sizeof text, "LLM response: %s",
                 agc_json_str(json_object_get(r, "content"), "text", "No response"));
    else
        snprintf(text, sizeof text, "Sampling not supported or error: %s",
                 agc_ctx_errmsg(agc_mcp_session_ctx(agc_mcp_request_session(req))));
    json_decref(r);
    *out = text_result(text);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status elicit(json_t **out, agc_mcp_request *req, json_t *params, const char *prefix)
{
    agc_mcp_server *srv = agc_mcp_request_server(req);
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_request_session(req));
    json_t *r = NULL;
    agc_status st = params ? agc_mcp_server_elicit(&r, srv, params, NULL) : AGC_ENOMEM;
    json_decref(params);
    char *content = NULL;
    char text[2048];
    if (st == AGC_OK) {
        json_t *c = json_object_get(r, "content");
        if (c && agc_json_dump(&content, c, JSON_COMPACT, ctx) != AGC_OK)
            content = NULL;
        snprintf(text, sizeof text, "%s: action=%s, content=%s", prefix,
                 agc_json_str(r, "action", "?"), content ? content : "{}");
    } else
        snprintf(text, sizeof text, "Elicitation not supported or error: %s", agc_ctx_errmsg(ctx));
    agc_free(ctx, content);
    json_decref(r);
    *out = text_result(text);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status t_elicitation(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)u;
    json_t *p = json_pack("{s:s,s:s,s:{s:s,s:{s:{s:s,s:s}},s:[s]}}", "mode", "form", "message",
                          agc_json_str(a, "message", ""), "requestedSchema", "type", "object",
                          "properties", "response", "type", "string", "description",
                          "User's response", "required", "response");
    return elicit(out, req, p, "User response");
}

static agc_status t_sep1034(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    json_t *p = parse(
        "{\"mode\":\"form\",\"message\":\"Please review and update the form fields with "
        "defaults\",\"requestedSchema\":{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"description\":\"User name\",\"default\":\"John Doe\"},"
        "\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30},"
        "\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5},"
        "\"status\":{\"type\":\"string\",\"description\":\"User status\",\"enum\":[\"active\","
        "\"inactive\",\"pending\"],\"default\":\"active\"},"
        "\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\","
        "\"default\":true}},\"required\":[]}}",
        agc_mcp_session_ctx(agc_mcp_request_session(req)));
    return elicit(out, req, p, "Elicitation completed");
}

static agc_status t_sep1330(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    json_t *p = parse(
        "{\"mode\":\"form\",\"message\":\"Please select options from the enum fields\","
        "\"requestedSchema\":{\"type\":\"object\",\"properties\":{"
        "\"untitledSingle\":{\"type\":\"string\",\"description\":\"Select one option\","
        "\"enum\":[\"option1\",\"option2\",\"option3\"]},"
        "\"titledSingle\":{\"type\":\"string\",\"description\":\"Select one option with titles\","
        "\"oneOf\":[{\"const\":\"value1\",\"title\":\"First Option\"},{\"const\":\"value2\","
        "\"title\":\"Second Option\"},{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
        "\"legacyEnum\":{\"type\":\"string\",\"description\":\"Select one option (legacy)\","
        "\"enum\":[\"opt1\",\"opt2\",\"opt3\"],\"enumNames\":[\"Option One\",\"Option Two\","
        "\"Option Three\"]},"
        "\"untitledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options\","
        "\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\",\"enum\":[\"option1\","
        "\"option2\",\"option3\"]}},"
        "\"titledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options with "
        "titles\",\"minItems\":1,\"maxItems\":3,\"items\":{\"anyOf\":[{\"const\":\"value1\","
        "\"title\":\"First Choice\"},{\"const\":\"value2\",\"title\":\"Second Choice\"},"
        "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},\"required\":[]}}",
        agc_mcp_session_ctx(agc_mcp_request_session(req)));
    return elicit(out, req, p, "Elicitation completed");
}

static agc_status t_schema2020(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)u;
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_request_session(req));
    char *text = NULL;
    if (agc_json_dump(&text, a, JSON_COMPACT, ctx) != AGC_OK)
        return AGC_ENOMEM;
    char buf[1024];
    snprintf(buf, sizeof buf, "JSON Schema 2020-12 tool called with: %s", text);
    agc_free(ctx, text);
    *out = text_result(buf);
    return *out ? AGC_OK : AGC_ENOMEM;
}

/* ---- resources and prompts ------------------------------------------------------------------- */

static agc_status r_text(json_t **out, agc_mcp_request *req, const char *uri, const json_t *v,
                         void *u)
{
    (void)uri, (void)v;
    const char *text = u;
    *out = json_pack("[{s:s,s:s,s:s}]", "uri", uri, "mimeType", "text/plain", "text", text);
    (void)req;
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status r_binary(json_t **out, agc_mcp_request *req, const char *uri, const json_t *v,
                           void *u)
{
    (void)req, (void)v, (void)u;
    *out = json_pack("[{s:s,s:s,s:s}]", "uri", uri, "mimeType", "image/png", "blob", IMAGE_B64);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status r_template(json_t **out, agc_mcp_request *req, const char *uri, const json_t *v,
                             void *u)
{
    (void)u;
    agc_ctx *ctx = agc_mcp_session_ctx(agc_mcp_request_session(req));
    const char *id = agc_json_str(v, "id", "");
    char data[256];
    snprintf(data, sizeof data, "Data for ID: %s", id);
    json_t *obj = json_pack("{s:s,s:b,s:s}", "id", id, "templateTest", 1, "data", data);
    char *text = NULL;
    if (obj && agc_json_dump(&text, obj, JSON_COMPACT, ctx) != AGC_OK)
        text = NULL;
    json_decref(obj);
    *out = text ? json_pack("[{s:s,s:s,s:s}]", "uri", uri, "mimeType", "application/json", "text",
                            text)
                : NULL;
    agc_free(ctx, text);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status p_simple(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(out, req,
                 "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"This "
                 "is a simple prompt for testing.\"}}]}");
}

static agc_status p_args(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)req, (void)u;
    char text[1024];
    snprintf(text, sizeof text, "Prompt with arguments: arg1='%s', arg2='%s'",
             agc_json_str(a, "arg1", ""), agc_json_str(a, "arg2", ""));
    *out = json_pack("{s:[{s:s,s:{s:s,s:s}}]}", "messages", "role", "user", "content", "type",
                     "text", "text", text);
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status p_embedded(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)req, (void)u;
    *out =
        json_pack("{s:[{s:s,s:{s:s,s:{s:s,s:s,s:s}}},{s:s,s:{s:s,s:s}}]}", "messages", "role",
                  "user", "content", "type", "resource", "resource", "uri",
                  agc_json_str(a, "resourceUri", "test://example-resource"), "mimeType",
                  "text/plain", "text", "Embedded resource content for testing.", "role", "user",
                  "content", "type", "text", "text", "Please process the embedded resource above.");
    return *out ? AGC_OK : AGC_ENOMEM;
}

static agc_status p_image(json_t **out, agc_mcp_request *req, const json_t *a, void *u)
{
    (void)a, (void)u;
    return fixed(
        out, req,
        "{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"image\",\"data\":\"" IMAGE_B64
        "\",\"mimeType\":\"image/png\"}},{\"role\":\"user\",\"content\":{\"type\":"
        "\"text\",\"text\":\"Please analyze the image above.\"}}]}");
}

/* ---- one session ------------------------------------------------------------------------------
 */

static const char SCHEMA_PROMPT[] =
    "{\"type\":\"object\",\"properties\":{\"prompt\":{\"type\":\"string\",\"description\":\"The "
    "prompt to send to the LLM\"}},\"required\":[\"prompt\"]}";
static const char SCHEMA_MESSAGE[] =
    "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"description\":\"The "
    "message to show the user\"}},\"required\":[\"message\"]}";
static const char SCHEMA_2020[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\",\"$defs\":"
    "{\"address\":{\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\"},\"city\":"
    "{\"type\":\"string\"}}}},\"properties\":{\"name\":{\"type\":\"string\"},\"address\":{\"$ref\":"
    "\"#/$defs/address\"}},\"additionalProperties\":false}";

static agc_status add_tool(agc_mcp_server *srv, const char *name, const char *desc,
                           const char *schema, agc_mcp_tool_fn fn, agc_ctx *ctx)
{
    json_t *in = schema ? parse(schema, ctx) : NULL;
    if (schema && !in)
        return AGC_ENOMEM;
    agc_mcp_server_tool t = {name, NULL, desc, in, NULL, NULL, fn, NULL};
    agc_status st = agc_mcp_server_add_tool(srv, &t);
    json_decref(in);
    return st;
}

static agc_status setup(agc_mcp_server *srv, agc_ctx *ctx)
{
    static const struct {
        const char *name, *desc, *schema;
        agc_mcp_tool_fn fn;
    } tools[] = {
        {"test_simple_text", "Tests simple text content response", NULL, t_simple},
        {"test_image_content", "Tests image content response", NULL, t_image},
        {"test_audio_content", "Tests audio content response", NULL, t_audio},
        {"test_embedded_resource", "Tests embedded resource content response", NULL, t_embedded},
        {"test_multiple_content_types",
         "Tests response with multiple content types (text, image, resource)", NULL, t_mixed},
        {"test_tool_with_logging", "Tests tool that emits log messages during execution", NULL,
         t_logging},
        {"test_tool_with_progress", "Tests tool that reports progress notifications", NULL,
         t_progress},
        {"test_error_handling", "Tests error response handling", NULL, t_error},
        {"test_reconnection", "Tests SSE stream disconnection and client reconnection (SEP-1699)",
         NULL, t_reconnect},
        {"test_sampling", "Tests server-initiated sampling (LLM completion request)", SCHEMA_PROMPT,
         t_sampling},
        {"test_elicitation", "Tests server-initiated elicitation (user input request)",
         SCHEMA_MESSAGE, t_elicitation},
        {"test_elicitation_sep1034_defaults", "Tests elicitation with default values per SEP-1034",
         NULL, t_sep1034},
        {"test_elicitation_sep1330_enums",
         "Tests elicitation with enum schema improvements per SEP-1330", NULL, t_sep1330},
        {"json_schema_2020_12_tool",
         "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)", SCHEMA_2020,
         t_schema2020},
    };
    agc_status st = AGC_OK;
    for (size_t i = 0; st == AGC_OK && i < sizeof tools / sizeof tools[0]; i++)
        st = add_tool(srv, tools[i].name, tools[i].desc, tools[i].schema, tools[i].fn, ctx);
    const agc_mcp_server_resource res[] = {
        {"test://static-text", NULL, "static-text", "Static Text Resource",
         "A static text resource for testing", "text/plain", r_text,
         (void *)"This is the content of the static text resource."},
        {"test://static-binary", NULL, "static-binary", "Static Binary Resource",
         "A static binary resource (image) for testing", "image/png", r_binary, NULL},
        {NULL, "test://template/{id}/data", "template", "Resource Template",
         "A resource template with parameter substitution", "application/json", r_template, NULL},
        {"test://watched-resource", NULL, "watched-resource", "Watched Resource",
         "A resource that can be subscribed to", "text/plain", r_text,
         (void *)"Watched resource content"},
    };
    for (size_t i = 0; st == AGC_OK && i < sizeof res / sizeof res[0]; i++)
        st = agc_mcp_server_add_resource(srv, &res[i]);
    static const agc_mcp_prompt_arg args2[] = {{"arg1", "First test argument", true},
                                               {"arg2", "Second test argument", true}};
    static const agc_mcp_prompt_arg args_uri[] = {
        {"resourceUri", "URI of the resource to embed", true}};
    const agc_mcp_server_prompt prompts[] = {
        {"test_simple_prompt", "Simple Test Prompt", "A simple prompt without arguments", NULL, 0,
         p_simple, NULL},
        {"test_prompt_with_arguments", "Prompt With Arguments", "A prompt with required arguments",
         args2, 2, p_args, NULL},
        {"test_prompt_with_embedded_resource", "Prompt With Embedded Resource",
         "A prompt that includes an embedded resource", args_uri, 1, p_embedded, NULL},
        {"test_prompt_with_image", "Prompt With Image", "A prompt that includes image content",
         NULL, 0, p_image, NULL},
    };
    for (size_t i = 0; st == AGC_OK && i < sizeof prompts / sizeof prompts[0]; i++)
        st = agc_mcp_server_add_prompt(srv, &prompts[i]);
    return st;
}

static void run_session(agc_mcp_transport *t, agc_ctx *ctx, const char *sid, void *user)
{
    (void)user;
    agc_mcp_server_opts o = AGC_MCP_SERVER_OPTS_INIT;
    o.name = "mcp-conformance-test-server";
    o.server_version = "1.0.0";
    agc_mcp_server *srv = NULL;
    if (agc_mcp_server_new(&srv, t, NULL, &o, ctx) != AGC_OK) {
        fprintf(stderr, "session %s: %s\n", sid, agc_ctx_errmsg(ctx));
        return;
    }
    if (setup(srv, ctx) == AGC_OK)
        (void)agc_mcp_server_run(srv);
    else
        fprintf(stderr, "session %s: setup failed: %s\n", sid, agc_ctx_errmsg(ctx));
    agc_mcp_server_free(srv);
}

int main(int argc, char **argv)
{
    agc_mcp_http_server_opts o = AGC_MCP_HTTP_SERVER_OPTS_INIT;
    o.max_sessions = 1000;
    o.session_idle_ms = 300000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            o.port = (uint16_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
            o.bind_address = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            o.json_only = true;
        else {
            fprintf(stderr, "usage: %s [--port N] [--bind ADDR] [--json]\n", argv[0]);
            return 2;
        }
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    agc_mcp_http_server *srv = NULL;
    if (agc_mcp_http_server_new(&srv, &o, run_session, NULL, ctx) != AGC_OK) {
        fprintf(stderr, "mcp-conformance-server: %s\n", agc_ctx_errmsg(ctx));
        agc_ctx_free(ctx);
        return 1;
    }
    printf("listening on http://%s:%u/mcp\n", o.bind_address ? o.bind_address : "127.0.0.1",
           (unsigned)agc_mcp_http_server_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    agc_mcp_http_server_free(srv);
    agc_ctx_free(ctx);
    return 0;
}
