/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared fixture for the runtime suites: a temporary workspace, the fakellm
 * server with a script, an agent definition whose provider points at it
 * (OpenAI wire, one attempt: no retry waits), an SQLite session store in the
 * temporary directory and an event bus with a memory sink. Header-only
 * (static functions) because each suite is its own executable.
 */
#ifndef AGC_RT_FIXTURE_H
#define AGC_RT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agc_test.h"
#include "agentc/alloc.h"
#include "agentc/config.h"
#include "agentc/event.h"
#include "agentc/id.h"
#include "agentc/json.h"
#include "agentc/runtime.h"
#include "agentc/store.h"
#include "fakellm_proc.h"

#define RT_KEY "sk-test-runtime-key-0123456789"

typedef struct rt {
    char *dir; /* temporary directory: workspace in dir/ws, store in dir/s.db */
    char *ws;
    agc_ctx *ctx;
    agc_fakellm *llm;
    agc_store *store;
    agc_event_bus *bus;
    agc_event_sink *mem; /* owned by the bus */
    agc_agent_def *def;
    agc_run *run;
} rt;

/* Starts fakellm with script, makes the workspace, store and bus. */
static inline rt *rt_new(const char *script)
{
    setenv("RT_FAKE_KEY", RT_KEY, 1);
    rt *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->dir = agc_test_tmpdir();
    assert_int_equal(asprintf(&t->ws, "%s/ws", t->dir) > 0, 1);
    assert_int_equal(mkdir(t->ws, 0700), 0);
    assert_int_equal(agc_ctx_new(&t->ctx, NULL), AGC_OK);
    t->llm = agc_fakellm_start_json(script);
    char *db = NULL;
    assert_true(asprintf(&db, "%s/s.db", t->dir) > 0);
    assert_int_equal(agc_store_open_sqlite(&t->store, db, NULL, t->ctx), AGC_OK);
    free(db);
    assert_int_equal(agc_event_bus_new(&t->bus, t->ctx), AGC_OK);
    assert_int_equal(agc_event_sink_memory(&t->mem, t->ctx), AGC_OK);
    assert_int_equal(agc_event_bus_add_sink(t->bus, t->mem, AGC_EVENT_MASK_ALL), AGC_OK);
    return t;
}

/*
 * Loads an agent definition: the YAML text extra (tools, budgets, ...) after
 * a header naming the agent and a provider pointing at fakellm.
 */
static inline char *rt_agent_yaml(rt *t, const char *extra)
{
    char *yaml = NULL;
    assert_true(asprintf(&yaml,
                         "version: 1\n"
                         "name: tester\n"
                         "instructions: You are a test agent.\n"
                         "provider:\n"
                         "  name: openai\n"
                         "  base_url: %s/v1\n"
                         "  model: fake-model\n"
                         "  api_key: env:RT_FAKE_KEY\n"
                         "  retry: {max_attempts: 1}\n"
                         "workspace:\n"
                         "  root: %s\n"
                         "%s",
                         agc_fakellm_url(t->llm), t->ws, extra ? extra : "") > 0);
    return yaml;
}

static inline void rt_agent(rt *t, const char *extra)
{
    char *yaml = rt_agent_yaml(t, extra);
    agc_config_opts co = AGC_CONFIG_OPTS_INIT;
    co.no_env = true;
    agc_config *cfg = NULL;
    agc_status st = agc_config_parse(&cfg, yaml, strlen(yaml), "agent.yaml", &co, t->ctx);
    if (st != AGC_OK)
        fail_msg("agent: %s", agc_ctx_errmsg(t->ctx));
    agc_agent_def_unref(t->def);
    t->def = NULL;
    st = agc_agent_def_from_config(&t->def, cfg, t->ctx);
    if (st != AGC_OK)
        fail_msg("agent: %s", agc_ctx_errmsg(t->ctx));
    agc_config_free(cfg);
    free(yaml);
}

/* Run options with the fixture's store and bus, streaming off unless asked. */
static inline agc_run_opts rt_opts(rt *t)
{
    agc_run_opts o = AGC_RUN_OPTS_INIT;
    o.store = t->store;
    o.events = t->bus;
    o.no_agents_md = true;
    return o;
}

/* Creates t->run on task with opts (NULL: rt_opts). */
static inline void rt_start(rt *t, const char *task, const agc_run_opts *opts)
{
    agc_run_opts o = opts ? *opts : rt_opts(t);
    agc_run_free(t->run);
    t->run = NULL;
    assert_int_equal(agc_run_new(&t->run, t->def, task, &o, t->ctx), AGC_OK);
}

/* Runs t->run to the end; returns agc_run_until_done's status. */
static inline agc_status rt_go(rt *t)
{
    return agc_run_until_done(t->run);
}

static inline void rt_free(rt *t)
{
    agc_run_free(t->run);
    agc_agent_def_unref(t->def);
    agc_event_bus_free(t->bus);
    agc_store_close(t->store);
    agc_ctx_free(t->ctx);
    assert_int_equal(agc_fakellm_stop(t->llm), 0);
    agc_test_rmtree(t->dir);
    free(t->ws);
    free(t->dir);
    free(t);
}

/* Number of events of type in the memory sink. */
static inline size_t rt_count(rt *t, agc_event_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < agc_event_memory_count(t->mem); i++)
        n += agc_event_memory_get(t->mem, i)->type == type;
    return n;
}

/* The k-th (0-based) event of type, or NULL. */
static inline const agc_event *rt_event(rt *t, agc_event_type type, size_t k)
{
    for (size_t i = 0; i < agc_event_memory_count(t->mem); i++) {
        const agc_event *e = agc_event_memory_get(t->mem, i);
        if (e->type == type && k-- == 0)
            return e;
    }
    return NULL;
}

/* The steps of a stored run (json_decref them). */
static inline json_t *rt_steps(rt *t, const char *run_id)
{
    json_t *steps = NULL;
    assert_int_equal(agc_store_steps_load(t->store, run_id, 0, &steps), AGC_OK);
    return steps;
}

/* How many steps of kind the run has. */
static inline size_t rt_step_count(rt *t, const char *run_id, const char *kind)
{
    json_t *steps = rt_steps(t, run_id);
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(steps); i++)
        n += strcmp(agc_json_str(json_array_get(steps, i), "kind", ""), kind) == 0;
    json_decref(steps);
    return n;
}

/* The body of the k-th request fakellm received (json_decref *all). */
static inline const json_t *rt_request(rt *t, size_t k, json_t **all)
{
    *all = agc_fakellm_requests(t->llm);
    assert_true(k < json_array_size(*all));
    return json_object_get(json_array_get(*all, k), "body");
}

/* The content of the last message of request k. */
static inline char *rt_last_message(rt *t, size_t k)
{
    json_t *all = NULL;
    const json_t *body = rt_request(t, k, &all);
    const json_t *msgs = json_object_get(body, "messages");
    const json_t *m = json_array_get(msgs, json_array_size(msgs) - 1);
    const json_t *c = json_object_get(m, "content");
    char *s = strdup(json_is_string(c) ? json_string_value(c) : "");
    if (json_is_array(c))
        for (size_t i = 0; i < json_array_size(c); i++) {
            const char *p = agc_json_str(json_array_get(c, i), "text", NULL);
            if (p) {
                free(s);
                s = strdup(p);
            }
        }
    json_decref(all);
    return s;
}

#endif
