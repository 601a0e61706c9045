/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mcp-badpeer: a stdio "MCP server" that misbehaves on purpose, for the
 * tests of how agentc copes with bad peers. Written on raw stdio + jansson
 * (not the server library) so it can break the protocol at will.
 *
 *   mcp-badpeer crash            exits at once (status 3) without a word on stdout
 *   mcp-badpeer hang             reads requests, never answers
 *   mcp-badpeer garbage          answers every line with non-JSON noise
 *   mcp-badpeer huge [BYTES]     answers every request with one line of BYTES (default 20 MiB)
 *   mcp-badpeer slow-start MS    sleeps MS, then serves like `good`
 *   mcp-badpeer crash-on-call    serves, but dies (SIGKILL) on tools/call
 *   mcp-badpeer good             a correct server with tools hello {name}, ask_model
 *                                (sends sampling/createMessage and returns the answer) and
 *                                ask_user (sends elicitation/create, returns the answer JSON)
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void say(json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(s);
}

static void answer(json_t *id, json_t *result)
{
    say(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

/* Sends a request to the client and waits for its answer (other lines are dropped). */
static json_t *ask_client(const char *method, json_t *params)
{
    say(json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id", "bp-1", "method", method,
                  "params", params));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    json_t *out = NULL;
    while (!out && (n = getline(&line, &cap, stdin)) > 0) {
        json_error_t err;
        json_t *msg = json_loadb(line, (size_t)n, 0, &err);
        const char *id = json_string_value(json_object_get(msg, "id"));
        if (id && strcmp(id, "bp-1") == 0)
            out = json_incref(json_object_get(msg, "result") ? json_object_get(msg, "result")
                                                             : json_object_get(msg, "error"));
        json_decref(msg);
    }
    free(line);
    return out ? out : json_string("no answer");
}

static void serve_good(const char *method, json_t *id, json_t *params, int crash_on_call)
{
    if (!id)
        return; /* a notification */
    if (strcmp(method, "initialize") == 0) {
        const char *v = json_string_value(json_object_get(params, "protocolVersion"));
        answer(id, json_pack("{s:s, s:{s:{}}, s:{s:s, s:s}}", "protocolVersion",
                             v ? v : "2025-06-18", "capabilities", "tools", "serverInfo", "name",
                             "mcp-badpeer", "version", "1"));
    } else if (strcmp(method, "tools/list") == 0) {
        answer(id, json_pack("{s:[{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}, {s:s, s:{s:s}},"
                             " {s:s, s:{s:s}}]}",
                             "tools", "name", "hello", "description", "Says hello", "inputSchema",
                             "type", "object", "properties", "name", "type", "string", "required",
                             "name", "name", "ask_model", "inputSchema", "type", "object", "name",
                             "ask_user", "inputSchema", "type", "object"));
    } else if (strcmp(method, "tools/call") == 0) {
        if (crash_on_call) {
            fprintf(stderr, "mcp-badpeer: crashing on tools/call\n");
            raise(SIGKILL);
        }
        const char *tool = json_string_value(json_object_get(params, "name"));
        if (tool && strcmp(tool, "ask_model") == 0) {
            json_t *r = ask_client("sampling/createMessage",
                                   json_pack("{s:[{s:s, s:{s:s, s:s}}], s:i, s:s}", "messages",
                                             "role", "user", "content", "type", "text", "text",
                                             "What is 2+2? (sampling)", "maxTokens", 50,
                                             "systemPrompt", "Answer briefly."));
            const char *t =
                json_string_value(json_object_get(json_object_get(r, "content"), "text"));
            char *dump = t ? NULL : json_dumps(r, JSON_COMPACT);
            answer(id, json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text",
                                 t      ? t
                                 : dump ? dump
                                        : "?",
                                 "isError", t == NULL));
            free(dump);
            json_decref(r);
            return;
        }
        if (tool && strcmp(tool, "ask_user") == 0) {
            json_t *r =
                ask_client("elicitation/create",
                           json_pack("{s:s, s:{s:s, s:{s:{s:s, s:s}}}}", "message", "Your name?",
                                     "requestedSchema", "type", "object", "properties", "name",
                                     "type", "string", "default", "Ada"));
            char *dump = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
            answer(id, json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text",
                                 dump ? dump : "?"));
            free(dump);
            json_decref(r);
            return;
        }
        const char *name =
            json_string_value(json_object_get(json_object_get(params, "arguments"), "name"));
        char text[256];
        snprintf(text, sizeof text, "hello, %s", name ? name : "?");
        answer(id, json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text));
    } else if (strcmp(method, "ping") == 0) {
        answer(id, json_object());
    } else {
        say(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
                      -32601, "message", "method not found"));
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mcp-badpeer crash|hang|garbage|huge [BYTES]|slow-start MS|"
                        "crash-on-call|good\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argv[1];
    fprintf(stderr, "mcp-badpeer: mode %s\n", mode);
    if (strcmp(mode, "crash") == 0)
        return 3;
    if (strcmp(mode, "slow-start") == 0) {
        long ms = argc > 2 ? atol(argv[2]) : 5000;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    size_t huge = argc > 2 && strcmp(mode, "huge") == 0 ? (size_t)atoll(argv[2]) : 20u << 20;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (strcmp(mode, "hang") == 0)
            continue;
        if (strcmp(mode, "garbage") == 0) {
            fputs("this is not JSON {{{\n\x01\x02 garbage ]]]\n", stdout);
            fflush(stdout);
            continue;
        }
        json_error_t err;
        json_t *msg = json_loadb(line, (size_t)n, 0, &err);
        json_t *id = json_object_get(msg, "id");
        const char *method = json_string_value(json_object_get(msg, "method"));
        if (strcmp(mode, "huge") == 0 && id) {
            printf("{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":{\"pad\":\"",
                   (long long)json_integer_value(id));
            for (size_t i = 0; i < huge; i++)
                putchar('x');
            fputs("\"}}\n", stdout);
            fflush(stdout);
        } else if (method) {
            serve_good(method, id, json_object_get(msg, "params"),
                       strcmp(mode, "crash-on-call") == 0);
        }
        json_decref(msg);
    }
    free(line);
    return 0;
}
