/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* codegen specs for generation: OpenAPI / JSON Schema / .proto models, plans, checks, OOM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/codegen.h"

static const char *OPENAPI = "openapi: 3.1.0\n"
                             "info: {title: Shop, version: '1'}\n"
                             "paths:\n"
                             "  /items/{id}:\n"
                             "    get:\n"
                             "      responses:\n"
                             "        '200':\n"
                             "          content:\n"
                             "            application/json:\n"
                             "              schema: {$ref: '#/components/schemas/Item'}\n"
                             "  /orders:\n"
                             "    post:\n"
                             "      operationId: PlaceOrder\n"
                             "      tags: [orders]\n"
                             "      requestBody:\n"
                             "        content:\n"
                             "          application/json:\n"
                             "            schema: {$ref: '#/components/schemas/Order'}\n"
                             "            example: {item: 7, qty: 'two'}\n"
                             "      responses: {'201': {description: ok}}\n"
                             "components:\n"
                             "  schemas:\n"
                             "    Item: {type: object, properties: {id: {type: integer}}, "
                             "example: {id: 1}}\n"
                             "    Order:\n"
                             "      type: object\n"
                             "      properties: {item: {type: integer}, qty: {type: integer}}\n";

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    agc_test_write_file(p, text);
    return p;
}

static void openapi_model_plan_and_check(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    char *path = write_tmp(dir, "shop.yaml", OPENAPI);
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_spec *s = NULL;
    assert_int_equal(agc_spec_load(&s, path, ctx), AGC_OK);
    assert_string_equal(agc_spec_kind(s), "openapi");
    assert_string_equal(agc_spec_title(s), "Shop");
    assert_int_equal(agc_spec_type_count(s), 2);
    assert_int_equal(agc_spec_op_count(s), 2);
    const agc_spec_op *o0 = agc_spec_op_at(s, 0), *o1 = agc_spec_op_at(s, 1);
    assert_string_equal(o0->method, "GET");
    assert_string_equal(o0->handler, "get_items_id");
    assert_string_equal(o0->resource, "items");
    assert_string_equal(o0->response, "Item");
    assert_string_equal(o1->handler, "place_order");
    assert_string_equal(o1->request, "Order");
    assert_int_equal(json_array_size(agc_spec_type_at(s, 1)->examples), 1);

    agc_spec_plan_file *plan = NULL;
    size_t n = 0;
    assert_int_equal(agc_spec_plan(&plan, &n, s, "python", "svc"), AGC_OK);
    assert_int_equal(n, 3);
    assert_string_equal(plan[0].path, "svc/models.py");
    assert_string_equal(plan[1].path, "svc/items_handlers.py");
    assert_string_equal(plan[2].path, "svc/orders_handlers.py");
    assert_non_null(strstr(plan[2].slice, "\"place_order\""));
    assert_non_null(strstr(plan[2].slice, "\"Order\""));
    assert_null(strstr(plan[2].slice, "\"Item\"")); /* only the resource's types */
    agc_spec_plan_free(plan, n, ctx);
    assert_int_equal(agc_spec_plan(&plan, &n, s, "cobol", NULL), AGC_EINVAL);

    /* generated code: one handler missing, and Order's example has qty "two" */
    char *p = NULL;
    assert_true(asprintf(&p, "%s/svc", dir) > 0);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    assert_int_equal(agc_spec_plan(&plan, &n, s, "python", "svc"), AGC_OK);
    free(write_tmp(dir, "svc/models.py", "class Item:\n    pass\n\nclass Order:\n    pass\n"));
    free(write_tmp(dir, "svc/items_handlers.py", "def get_items_id(id):\n    return None\n"));
    free(write_tmp(dir, "svc/orders_handlers.py", "def placeOrderX():\n    pass\n"));
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    assert_int_equal(agc_spec_check(&b, s, dir, plan, n), AGC_ESCHEMA);
    assert_non_null(strstr(agc_buf_cstr(&b), "(PlaceOrder): no handler 'place_order'"));
    assert_non_null(strstr(agc_buf_cstr(&b), "type Order: example 1 does not validate"));
    assert_null(strstr(agc_buf_cstr(&b), "get_items_id"));
    assert_null(strstr(agc_buf_cstr(&b), "type Item"));
    /* camelCase is accepted too */
    free(write_tmp(dir, "svc/orders_handlers.py", "function placeOrder(body) {}\n"));
    agc_buf_clear(&b);
    assert_int_equal(agc_spec_check(&b, s, dir, plan, n), AGC_ESCHEMA);
    assert_null(strstr(agc_buf_cstr(&b), "no handler"));
    agc_buf_free(&b);
    agc_spec_plan_free(plan, n, ctx);
    agc_spec_free(s);
    agc_ctx_free(ctx);
    free(path);
    agc_test_rmtree(dir);
    free(dir);
}

static void proto_and_json_schema(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    char *pp = write_tmp(dir, "a.proto",
                         "syntax = \"proto3\";\n/* block */ package shop.v1;\n"
                         "message Item {\n  string id = 1; // c\n  repeated string tags = 2;\n"
                         "  message Inner { int32 x = 1; }\n  Inner inner = 3;\n}\n"
                         "enum Color { RED = 0; GREEN = 1; }\n"
                         "service Catalog {\n  rpc GetItem (Item) returns (stream Item);\n}\n");
    agc_spec *s = NULL;
    assert_int_equal(agc_spec_load(&s, pp, ctx), AGC_OK);
    assert_string_equal(agc_spec_kind(s), "proto");
    assert_string_equal(agc_spec_title(s), "shop.v1");
    assert_int_equal(agc_spec_type_count(s), 2);
    const json_t *props = json_object_get(agc_spec_type_at(s, 0)->schema, "properties");
    assert_string_equal(json_string_value(json_object_get(json_object_get(props, "tags"), "type")),
                        "array");
    assert_int_equal(json_array_size(json_object_get(agc_spec_type_at(s, 1)->schema, "enum")), 2);
    assert_int_equal(agc_spec_op_count(s), 1);
    assert_string_equal(agc_spec_op_at(s, 0)->handler, "get_item");
    assert_string_equal(agc_spec_op_at(s, 0)->path, "Catalog/GetItem");
    agc_spec_free(s);
    char *bad = write_tmp(dir, "b.proto", "message { }\n");
    assert_int_equal(agc_spec_load(&s, bad, ctx), AGC_EPARSE);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "b.proto:1:"));
    char *js = write_tmp(dir, "c.json",
                         "{\"title\":\"Conf\",\"type\":\"object\",\"properties\":{\"port\":{"
                         "\"type\":\"integer\"}},\"examples\":[{\"port\":\"x\"}],"
                         "\"$defs\":{\"Tls\":{\"type\":\"object\"}}}");
    assert_int_equal(agc_spec_load(&s, js, ctx), AGC_OK);
    assert_string_equal(agc_spec_kind(s), "jsonschema");
    assert_int_equal(agc_spec_type_count(s), 2);
    agc_spec_plan_file *plan = NULL;
    size_t n = 0;
    assert_int_equal(agc_spec_plan(&plan, &n, s, "go", NULL), AGC_OK);
    assert_int_equal(n, 1);
    assert_string_equal(plan[0].path, "types.go");
    free(write_tmp(dir, "types.go",
                   "package x\n\ntype Conf struct{ Port int }\ntype Tls struct{}\n"));
    agc_buf b;
    agc_buf_init(&b, ctx, 0);
    assert_int_equal(agc_spec_check(&b, s, dir, plan, n), AGC_ESCHEMA);
    assert_non_null(strstr(agc_buf_cstr(&b), "type Conf: example 1 does not validate"));
    agc_buf_free(&b);
    agc_spec_plan_free(plan, n, ctx);
    agc_spec_free(s);
    agc_ctx_free(ctx);
    free(pp);
    free(bad);
    free(js);
    agc_test_rmtree(dir);
    free(dir);
}

static agc_status sweep(agc_ctx *ctx, void *user)
{
    agc_spec *s = NULL;
    agc_status st = agc_spec_load(&s, user, ctx);
    agc_spec_plan_file *plan = NULL;
    size_t n = 0;
    if (st == AGC_OK)
        st = agc_spec_plan(&plan, &n, s, "typescript", "x");
    agc_spec_plan_free(plan, n, ctx);
    agc_spec_free(s);
    return st;
}

static void load_and_plan_survive_oom(void **state)
{
    (void)state;
    char *dir = agc_test_tmpdir();
    char *path = write_tmp(dir, "shop.yaml", OPENAPI);
    assert_true(agc_test_oom_sweep(sweep, path, 0) > 10);
    char *pp = write_tmp(dir, "a.proto",
                         "package p;\nmessage A { string x = 1; }\nservice S { rpc M (A) returns "
                         "(A); }\n");
    assert_true(agc_test_oom_sweep(sweep, pp, 0) > 5);
    free(pp);
    free(path);
    agc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openapi_model_plan_and_check),
        cmocka_unit_test(proto_and_json_schema),
        cmocka_unit_test(load_and_plan_survive_oom),
    };
    return cmocka_run_group_tests_name("codegen_code_agent_spec", tests, NULL, NULL);
}
