/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * net sse: the WHATWG parsing rules (fields, line endings, comments, id,
 * retry, BOM, dispatch on blank lines), chunking anywhere (byte by byte and
 * every 2-way split give the same events), the event cap, truncation, OOM.
 */
#include <stdlib.h>
#include <string.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/sse.h"

/* Records each event as "type|id|retry|data\n" (data with its exact bytes). */
typedef struct rec {
    agc_buf out;
    int comments;
    int stop_after; /* return AGC_ECANCELED on this event number (1-based), 0 = never */
    int n;
} rec;

static agc_status on_event(const agc_sse_event *ev, void *user)
{
    rec *r = user;
    assert_int_equal(strlen(ev->type), ev->type_len);
    assert_int_equal(ev->data[ev->data_len], '\0');
    r->n++;
    agc_status st =
        agc_buf_printf(&r->out, "%s|%s|%lld|", ev->type, ev->id, (long long)ev->retry_ms);
    if (st == AGC_OK)
        st = agc_buf_append(&r->out, ev->data, ev->data_len);
    if (st == AGC_OK)
        st = agc_buf_putc(&r->out, '\n');
    if (r->stop_after && r->n == r->stop_after)
        return AGC_ECANCELED;
    return st;
}

static agc_status on_comment(const char *text, size_t len, void *user)
{
    (void)text;
    (void)len;
    ((rec *)user)->comments++;
    return AGC_OK;
}

/* Parses the stream cut at the given offsets (sorted, may be empty). */
static char *parse_cuts(agc_ctx *ctx, const char *s, size_t n, const size_t *cuts, size_t ncuts,
                        agc_status *finish_out, int *comments_out)
{
    rec r = {0};
    agc_buf_init(&r.out, ctx, 0);
    agc_sse_parser *p = NULL;
    assert_int_equal(agc_sse_parser_new(&p, on_event, &r, 0, ctx), AGC_OK);
    agc_sse_parser_set_on_comment(p, on_comment);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        assert_int_equal(agc_sse_feed(p, s + at, end - at), AGC_OK);
        at = end;
    }
    agc_status fin = agc_sse_finish(p);
    if (finish_out)
        *finish_out = fin;
    if (comments_out)
        *comments_out = r.comments;
    agc_sse_parser_free(p);
    char *t = agc_buf_detach(&r.out, NULL);
    return t;
}

static char *parse_whole(agc_ctx *ctx, const char *s, agc_status *fin)
{
    return parse_cuts(ctx, s, strlen(s), NULL, 0, fin, NULL);
}

static char *parse_bytewise(agc_ctx *ctx, const char *s, size_t n)
{
    size_t *cuts = calloc(n + 1, sizeof *cuts);
    for (size_t i = 1; i < n; i++)
        cuts[i - 1] = i;
    char *t = parse_cuts(ctx, s, n, cuts, n ? n - 1 : 0, NULL, NULL);
    free(cuts);
    return t;
}

static const char RICH[] = "\xEF\xBB\xBF: a comment\r\n"
                           "event: add\r\n"
                           "data: 73857293\r\n"
                           "\r\n"
                           "data:no space\n"
                           "data:  two spaces\n"
                           "id: 7\r"
                           "\r"
                           "retry: 1500\n"
                           "data\n"
                           "\n"
                           "event: x\n"
                           "\n"
                           "data: caf\xC3\xA9 \xF0\x9F\x98\x80\r\n"
                           "unknown: field\r\n"
                           ":keepalive\r\n"
                           "\r\n";

static const char RICH_EVENTS[] = "add||-1|73857293\n"
                                  "message|7|-1|no space\n"
                                  " two spaces\n"
                                  "message|7|1500|\n"
                                  "message|7|1500|caf\xC3\xA9 \xF0\x9F\x98\x80\n";

static void parses_fields_per_whatwg(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_status fin;
    int comments = 0;
    char *t = parse_cuts(ctx, RICH, sizeof RICH - 1, NULL, 0, &fin, &comments);
    assert_string_equal(t, RICH_EVENTS);
    assert_int_equal(fin, AGC_OK);
    assert_int_equal(comments, 2);
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

static void same_events_byte_by_byte_and_every_split(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    size_t n = sizeof RICH - 1;
    char *t = parse_bytewise(ctx, RICH, n);
    assert_string_equal(t, RICH_EVENTS);
    agc_free(ctx, t);
    for (size_t cut = 0; cut <= n; cut++) {
        agc_status fin;
        t = parse_cuts(ctx, RICH, n, &cut, 1, &fin, NULL);
        assert_string_equal(t, RICH_EVENTS);
        assert_int_equal(fin, AGC_OK);
        agc_free(ctx, t);
    }
    agc_ctx_free(ctx);
}

static void all_line_endings_are_equivalent(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    const char *lf = "event: a\ndata: 1\ndata: 2\n\ndata: 3\n\n";
    const char *cr = "event: a\rdata: 1\rdata: 2\r\rdata: 3\r\r";
    const char *crlf = "event: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n";
    const char *mixed = "event: a\r\ndata: 1\rdata: 2\n\r\ndata: 3\r\r\n";
    const char *want = "a||-1|1\n2\nmessage||-1|3\n";
    const char *all[] = {lf, cr, crlf, mixed};
    for (size_t i = 0; i < 4; i++) {
        char *t = parse_whole(ctx, all[i], NULL);
        assert_string_equal(t, want);
        agc_free(ctx, t);
        t = parse_bytewise(ctx, all[i], strlen(all[i]));
        assert_string_equal(t, want);
        agc_free(ctx, t);
    }
    /* CR closing one chunk, LF opening the next: one line end, not two */
    const char *s = "data: x\r\ndata: y\r\n\r\n";
    size_t cut = 8; /* right after the first CR */
    char *t = parse_cuts(ctx, s, strlen(s), &cut, 1, NULL, NULL);
    assert_string_equal(t, "message||-1|x\ny\n");
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

static void utf8_split_mid_character_arrives_intact(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    const char *s = "data: \xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9\n\n";
    size_t n = strlen(s);
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            size_t cuts[2] = {a, b};
            char *t = parse_cuts(ctx, s, n, cuts, 2, NULL, NULL);
            assert_string_equal(t, "message||-1|\xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9\n");
            agc_free(ctx, t);
        }
    }
    agc_ctx_free(ctx);
}

static void id_persists_and_id_with_nul_is_ignored(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    static const char s[] = "id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n";
    rec r = {0};
    agc_buf_init(&r.out, ctx, 0);
    agc_sse_parser *p = NULL;
    assert_int_equal(agc_sse_parser_new(&p, on_event, &r, 0, ctx), AGC_OK);
    assert_string_equal(agc_sse_last_event_id(p, NULL), "");
    assert_int_equal(agc_sse_feed(p, s, sizeof s - 1), AGC_OK);
    assert_string_equal(agc_buf_cstr(&r.out), "message|1|-1|a\nmessage|1|-1|b\nmessage|1|-1|c\n"
                                              "message||-1|d\n");
    /* an id alone sets the last event id when its (empty) event is "dispatched" */
    assert_int_equal(agc_sse_feed(p, "id: 42\n\n", 8), AGC_OK);
    size_t len = 0;
    assert_string_equal(agc_sse_last_event_id(p, &len), "42");
    assert_int_equal(len, 2);
    assert_int_equal(agc_sse_event_count(p), 4);
    /* finish keeps the id for a reconnection; reset forgets it */
    assert_int_equal(agc_sse_finish(p), AGC_OK);
    assert_string_equal(agc_sse_last_event_id(p, NULL), "42");
    agc_sse_reset(p);
    assert_string_equal(agc_sse_last_event_id(p, NULL), "");
    agc_sse_parser_free(p);
    agc_buf_free(&r.out);
    agc_ctx_free(ctx);
}

static void retry_accepts_only_digits(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    const char *s = "retry: 250\ndata: a\n\nretry: 12x\nretry: -5\nretry:\nretry: 1 \ndata: b\n\n"
                    "retry:99999999999999999999999\ndata: c\n\n";
    char *t = parse_whole(ctx, s, NULL);
    assert_string_equal(t, "message||250|a\nmessage||250|b\n"
                           "message||9223372036854775807|c\n");
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

static void empty_data_is_not_dispatched_but_bare_data_is(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    /* no data field: nothing; "data" alone: one event with empty data; the
     * event type of an undispatched event does not leak into the next one */
    char *t = parse_whole(ctx, "event: ping\n\n\n\ndata\n\ndata:\ndata:\n\n", NULL);
    assert_string_equal(t, "message||-1|\nmessage||-1|\n\n");
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

static void only_one_leading_bom_is_skipped(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    /* a second BOM makes the field name "\uFEFFdata", which is unknown */
    const char *s = "\xEF\xBB\xBF\xEF\xBB\xBF"
                    "data: hidden\n\ndata: seen\n\n";
    char *t = parse_bytewise(ctx, s, strlen(s));
    assert_string_equal(t, "message||-1|seen\n");
    agc_free(ctx, t);
    /* a stream that starts with a byte of a BOM but is not one keeps its bytes */
    t = parse_bytewise(ctx,
                       "\xEF"
                       "data: x\n\n",
                       10);
    assert_string_equal(t, "");
    agc_free(ctx, t);
    t = parse_whole(ctx, "data: \xEF\xBB\xBFx\n\n", NULL);
    assert_string_equal(t, "message||-1|\xEF\xBB\xBFx\n");
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

static void oversized_event_is_elimit_and_sticky(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    rec r = {0};
    agc_buf_init(&r.out, ctx, 0);
    agc_sse_parser *p = NULL;
    assert_int_equal(agc_sse_parser_new(&p, on_event, &r, 64, ctx), AGC_OK);
    char line[40];
    memset(line, 'x', sizeof line);
    assert_int_equal(agc_sse_feed(p, "data: ", 6), AGC_OK);
    assert_int_equal(agc_sse_feed(p, line, 30), AGC_OK);
    assert_int_equal(agc_sse_feed(p, "\n\n", 2), AGC_OK); /* 30 bytes: fits */
    assert_int_equal(agc_sse_feed(p, "data: ", 6), AGC_OK);
    assert_int_equal(agc_sse_feed(p, line, 30), AGC_OK);
    assert_int_equal(agc_sse_feed(p, "\ndata: ", 7), AGC_OK);
    assert_int_equal(agc_sse_feed(p, line, 40), AGC_ELIMIT); /* line buffer + data > 64 */
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "max_event_bytes (64)"));
    assert_int_equal(agc_sse_feed(p, "\n\n", 2), AGC_ELIMIT);
    assert_int_equal(agc_sse_finish(p), AGC_ELIMIT);
    assert_int_equal(r.n, 1);
    /* a single line longer than the cap, whole in one chunk */
    agc_sse_reset(p);
    char big[100];
    memset(big, 'y', sizeof big);
    memcpy(big, "data: ", 6);
    big[98] = '\n';
    big[99] = '\n';
    assert_int_equal(agc_sse_feed(p, big, sizeof big), AGC_ELIMIT);
    agc_sse_parser_free(p);
    agc_buf_free(&r.out);
    agc_ctx_free(ctx);
}

static void finish_reports_truncated_stream(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    agc_status fin;
    char *t = parse_whole(ctx, "data: a\n\ndata: b\n", &fin);
    assert_int_equal(fin, AGC_EPROTO);
    assert_non_null(strstr(agc_ctx_errmsg(ctx), "truncated"));
    assert_string_equal(t, "message||-1|a\n");
    agc_free(ctx, t);
    t = parse_whole(ctx, "data: a\n\ndata: b", &fin); /* unterminated line */
    assert_int_equal(fin, AGC_EPROTO);
    agc_free(ctx, t);
    t = parse_whole(ctx, "data: a\r\n\r", &fin); /* last blank line ended by a lone CR */
    assert_int_equal(fin, AGC_OK);
    assert_string_equal(t, "message||-1|a\n");
    agc_free(ctx, t);
    t = parse_whole(ctx, "data: a\n\n: bye\n", &fin); /* trailing comment: clean */
    assert_int_equal(fin, AGC_OK);
    agc_free(ctx, t);
    t = parse_whole(ctx, "", &fin);
    assert_int_equal(fin, AGC_OK);
    agc_free(ctx, t);
    agc_ctx_free(ctx);
}

static void callback_error_stops_parsing(void **state)
{
    (void)state;
    agc_ctx *ctx = NULL;
    assert_int_equal(agc_ctx_new(&ctx, NULL), AGC_OK);
    rec r = {.stop_after = 2};
    agc_buf_init(&r.out, ctx, 0);
    agc_sse_parser *p = NULL;
    assert_int_equal(agc_sse_parser_new(&p, on_event, &r, 0, ctx), AGC_OK);
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    assert_int_equal(agc_sse_feed(p, s, strlen(s)), AGC_ECANCELED);
    assert_int_equal(r.n, 2);
    assert_int_equal(agc_sse_feed(p, s, strlen(s)), AGC_ECANCELED);
    assert_int_equal(r.n, 2);
    agc_sse_parser_free(p);
    agc_buf_free(&r.out);
    assert_int_equal(agc_sse_parser_new(&p, NULL, NULL, 0, ctx), AGC_EINVAL);
    assert_null(p);
    agc_ctx_free(ctx);
}

static agc_status sweep_parse(agc_ctx *ctx, void *user)
{
    (void)user;
    rec r = {0};
    agc_buf_init(&r.out, ctx, 0);
    agc_sse_parser *p = NULL;
    agc_status st = agc_sse_parser_new(&p, on_event, &r, 0, ctx);
    if (st != AGC_OK)
        return st;
    st = agc_sse_feed(p, RICH, 20);
    if (st == AGC_OK)
        st = agc_sse_feed(p, RICH + 20, sizeof RICH - 1 - 20);
    if (st == AGC_OK)
        st = agc_sse_finish(p);
    if (st == AGC_OK)
        assert_string_equal(agc_buf_cstr(&r.out), RICH_EVENTS);
    agc_sse_parser_free(p);
    agc_buf_free(&r.out);
    return st;
}

static void out_of_memory_is_clean(void **state)
{
    (void)state;
    assert_true(agc_test_oom_sweep(sweep_parse, NULL, 0) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_fields_per_whatwg),
        cmocka_unit_test(same_events_byte_by_byte_and_every_split),
        cmocka_unit_test(all_line_endings_are_equivalent),
        cmocka_unit_test(utf8_split_mid_character_arrives_intact),
        cmocka_unit_test(id_persists_and_id_with_nul_is_ignored),
        cmocka_unit_test(retry_accepts_only_digits),
        cmocka_unit_test(empty_data_is_not_dispatched_but_bare_data_is),
        cmocka_unit_test(only_one_leading_bom_is_skipped),
        cmocka_unit_test(oversized_event_is_elimit_and_sticky),
        cmocka_unit_test(finish_reports_truncated_stream),
        cmocka_unit_test(callback_error_stops_parsing),
        cmocka_unit_test(out_of_memory_is_clean),
    };
    return cmocka_run_group_tests_name("net_sse", tests, NULL, NULL);
}
