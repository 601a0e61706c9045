/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Final answers: without output_schema the text is the answer; with one the
 * text must parse as JSON and validate, otherwise the validation errors go
 * back to the model as a user message (committed as a user.message step) up
 * to output_retries times, and then the run fails with the last errors.
 * Does not repair or guess at JSON beyond stripping a Markdown code fence.
 */
#include "run_int.h"

#include <stdio.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/buf.h"
#include "agentc/clock.h"
#include "agentc/json.h"

#define MAX_LISTED 8

/* Parses text as JSON, accepting a ```json ... ``` fence around it. */
static agc_status parse_answer(json_t **out, const char *text, agc_ctx *ctx)
{
    const char *s = text;
    size_t len = strlen(text);
    while (len && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    if (len >= 6 && strncmp(s, "```", 3) == 0 && strncmp(s + len - 3, "```", 3) == 0) {
        const char *nl = memchr(s, '\n', len);
        if (nl && nl < s + len - 3) {
            len = (size_t)(s + len - 3 - (nl + 1));
            s = nl + 1;
        }
    }
    return agc_json_parse(out, s, len, "final answer", ctx);
}

/* Appends the validation problems of v (or the parse error) to b. */
static agc_status describe(agc_buf *b, agc_run *run, const json_t *v)
{
    agc_schema_result *res = NULL;
    agc_status st =
        agc_schema_validate(&res, agc_agent_def_output_validator(run->def), v, run->ctx);
    if (st == AGC_ESCHEMA && res) {
        st = AGC_OK;
        for (size_t i = 0; st == AGC_OK && i < res->count && i < MAX_LISTED; i++)
            st = agc_buf_printf(b, "\n- %s: %s",
                                res->errors[i].instance_path[0] ? res->errors[i].instance_path
                                                                : "(root)",
                                res->errors[i].message);
        if (st == AGC_OK && (res->count > MAX_LISTED || res->truncated))
            st = agc_buf_puts(b, "\n- ...");
        if (st == AGC_OK)
            st = AGC_ESCHEMA;
    }
    agc_schema_result_free(res, run->ctx);
    return st;
}

static void emit_turn_finished(agc_run *run)
{
    agc__active *a = run->a;
    agc_ctx *prev = agc_json_enter(run->ctx);
    agc__run_emit(
        run, AGC_EVENT_TURN_FINISHED,
        json_pack("{s:I, s:i, s:o, s:o, s:I}", "turn", (json_int_t)run->stats.turns, "tool_calls",
                  0, "usage", agc__usage_json(&a->turn_usage), "cost_usd",
                  a->turn_cost_known ? json_real(a->turn_cost) : json_null(), "duration_ms",
                  (json_int_t)((agc_clock_monotonic_ns(run->ctx) - a->turn_t0_ns) / 1000000)));
    agc_json_leave(prev);
}

agc_status agc__structured_observe(agc_run *run, const agc_chat_response *resp)
{
    return agc__structured_accept(run, agc_chat_response_text(resp));
}

agc_status agc__structured_accept(agc_run *run, const char *text)
{
    agc_ctx *ctx = run->ctx;
    agc__active *a = run->a;
    if (a->turn_t0_ns)
        emit_turn_finished(run);
    a->turn_t0_ns = 0;
    agc_free(ctx, a->output);
    if (!(a->output = agc_strdup(ctx, text)))
        return AGC_ENOMEM;
    if (!agc_agent_def_output_validator(run->def))
        return agc__run_finish(run, AGC_RUN_FINISHED, NULL, NULL, 0, 0);

    json_t *v = NULL;
    agc_buf b;
    agc_buf_init(&b, ctx, 16384);
    agc_status st = parse_answer(&v, text, ctx);
    if (st == AGC_EPARSE)
        st = agc_buf_printf(&b, "\n- not valid JSON: %s", agc_ctx_errmsg(ctx)) == AGC_OK
                 ? AGC_ESCHEMA
                 : AGC_ENOMEM;
    else if (st == AGC_OK)
        st = describe(&b, run, v);
    if (st == AGC_OK) {
        a->output_json = v;
        agc_buf_free(&b);
        return agc__run_finish(run, AGC_RUN_FINISHED, NULL, NULL, 0, 0);
    }
    agc_ctx *prev = agc_json_enter(ctx);
    json_decref(v);
    agc_json_leave(prev);
    if (st != AGC_ESCHEMA) {
        agc_buf_free(&b);
        return st;
    }
    a->output_failures++;
    if (a->output_failures > agc_agent_def_output_retries(run->def)) {
        char *reason = agc_sprintf(ctx,
                                   "the final answer does not match output_schema after %d "
                                   "attempt(s):%s",
                                   a->output_failures, agc_buf_cstr(&b));
        agc_buf_free(&b);
        if (!reason)
            return AGC_ENOMEM;
        run->fail_code = AGC_ESCHEMA;
        agc_free(ctx, a->output);
        a->output = NULL;
        st = agc__run_finish(run, AGC_RUN_FAILED, reason, NULL, 0, 0);
        agc_free(ctx, reason);
        return st;
    }
    char *msg = agc_sprintf(ctx,
                            "Your final answer does not match the required JSON schema:%s\n"
                            "Answer again with only a JSON value that matches the schema.",
                            agc_buf_cstr(&b));
    agc_buf_free(&b);
    if (!msg)
        return AGC_ENOMEM;
    agc_free(ctx, a->output);
    a->output = NULL;
    st = agc__conv_add_user(run, msg, "output_schema", true);
    agc_free(ctx, msg);
    run->phase = AGC__PH_MODEL;
    return st;
}
