/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema validations per second: a tool-argument schema of realistic
 * shape (required fields, pattern, enum, nested array of objects, $ref) and a
 * valid instance, validated repeatedly with one compiled schema. Prints figures only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agentc/json.h"
#include "agentc/schema.h"

static const char *SCHEMA =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
    "\"required\":[\"path\",\"edits\"],\"additionalProperties\":false,"
    "\"properties\":{\"path\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9_./-]+$\","
    "\"maxLength\":4096},\"mode\":{\"enum\":[\"replace\",\"insert\",\"delete\"]},"
    "\"edits\":{\"type\":\"array\",\"maxItems\":100,\"items\":{\"$ref\":\"#/$defs/edit\"}}},"
    "\"$defs\":{\"edit\":{\"type\":\"object\",\"required\":[\"line\",\"text\"],"
    "\"properties\":{\"line\":{\"type\":\"integer\",\"minimum\":1},\"text\":{\"type\":"
    "\"string\"}},\"unevaluatedProperties\":false}}}";
static const char *INSTANCE =
    "{\"path\":\"src/core/json.c\",\"mode\":\"replace\",\"edits\":[{\"line\":10,\"text\":"
    "\"int x = 1;\"},{\"line\":20,\"text\":\"return x;\"},{\"line\":30,\"text\":\"}\"}]}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    agc_ctx *ctx = NULL;
    if (agc_ctx_new(&ctx, NULL) != AGC_OK)
        return 1;
    json_t *s = NULL, *inst = NULL;
    agc_schema *sc = NULL;
    if (agc_json_parse(&s, SCHEMA, strlen(SCHEMA), "schema", ctx) != AGC_OK ||
        agc_json_parse(&inst, INSTANCE, strlen(INSTANCE), "instance", ctx) != AGC_OK ||
        agc_schema_compile(&sc, s, NULL, ctx) != AGC_OK) {
        fprintf(stderr, "bench_schema: %s\n", agc_ctx_errmsg(ctx));
        return 1;
    }
    long n = 0;
    double t0 = now_s(), el = 0;
    do {
        for (int i = 0; i < 1000; i++, n++)
            if (agc_schema_validate(NULL, sc, inst, ctx) != AGC_OK) {
                fprintf(stderr, "bench_schema: unexpected: %s\n", agc_ctx_errmsg(ctx));
                return 1;
            }
        el = now_s() - t0;
    } while (el < 1.0);
    printf("schema: %.0f validations/s (tool-argument schema, valid instance, %ld runs)\n",
           (double)n / el, n);
    agc_schema_free(sc, ctx);
    json_decref(s);
    json_decref(inst);
    agc_ctx_free(ctx);
    return 0;
}
