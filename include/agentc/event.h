/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Event bus: typed events (run.started, tool.call, ...) with a JSON payload,
 * numbered per bus and stamped with the ctx clock, delivered in order to
 * sinks (JSONL writer, callback, in-memory recorder, or any ops table).
 * Invariant: a failing sink never stops the emitter or the other sinks; the
 * failure is recorded on the ctx and counted as a dropped event.
 * Not a queue: delivery is synchronous, inside agc_event_emit().
 * The payload fields of each type are the contract in docs/events.md.
 */
#ifndef AGENTC_EVENT_H
#define AGENTC_EVENT_H

#include <stdio.h>

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Event types: enum suffix, canonical dotted name. Never renumber; only append. */
#define AGC_EVENT_TYPE_MAP(X)                                                                      \
    X(RUN_STARTED, "run.started")                                                                  \
    X(RUN_FINISHED, "run.finished")                                                                \
    X(RUN_PAUSED, "run.paused")                                                                    \
    X(RUN_RESUMED, "run.resumed")                                                                  \
    X(TURN_STARTED, "turn.started")                                                                \
    X(TURN_FINISHED, "turn.finished")                                                              \
    X(MODEL_REQUEST, "model.request")                                                              \
    X(MODEL_DELTA, "model.delta")                                                                  \
    X(MODEL_RESPONSE, "model.response")                                                            \
    X(MODEL_RETRY, "model.retry")                                                                  \
    X(TOOL_CALL, "tool.call")                                                                      \
    X(TOOL_RESULT, "tool.result")                                                                  \
    X(TOOL_DENIED, "tool.denied")                                                                  \
    X(APPROVAL_REQUESTED, "approval.requested")                                                    \
    X(APPROVAL_DECIDED, "approval.decided")                                                        \
    X(BUDGET_EXCEEDED, "budget.exceeded")                                                          \
    X(SESSION_SAVED, "session.saved")                                                              \
    X(LOG, "log")                                                                                  \
    X(ERROR, "error")                                                                              \
    X(CUSTOM, "custom")

/* clang-format off */
typedef enum agc_event_type {
#define AGC__EVENT_ENUM(name, text) AGC_EVENT_##name,
    AGC_EVENT_TYPE_MAP(AGC__EVENT_ENUM)
#undef AGC__EVENT_ENUM
    AGC_EVENT__COUNT /* number of types, not a type */
} agc_event_type;
/* clang-format on */

/* Type masks for sink filters: AGC_EVENT_BIT(AGC_EVENT_TOOL_CALL) | ... */
#define AGC_EVENT_BIT(type) ((uint64_t)1 << (unsigned)(type))
#define AGC_EVENT_MASK_ALL  (~(uint64_t)0)

/* Longest run id, agent name or custom event name (bytes, without NUL). */
#define AGC_EVENT_NAME_MAX 128

/*
 * One event as sinks see it. Every pointer is borrowed for the duration of
 * the sink's emit call (memory-sink copies live until cleared).
 */
typedef struct agc_event {
    agc_event_type type;
    const char *name;   /* canonical dotted name, or the caller's name for custom */
    uint64_t seq;       /* 1, 2, 3, ... per bus, in emission order */
    int64_t time_ms;    /* Unix ms from the ctx clock at emission */
    const char *run_id; /* NULL when the event belongs to no run */
    const char *agent;  /* NULL when none */
    const json_t *data; /* payload object; NULL means {} */
} agc_event;

/* Canonical dotted name of a type ("tool.call"); "custom" for AGC_EVENT_CUSTOM
 * and for values out of range. Never NULL, static. */
const char *agc_event_type_name(agc_event_type type);
/* Type of a canonical name; AGC_EVENT_CUSTOM for any other name. */
agc_event_type agc_event_type_from_name(const char *name);

/* ---- sinks ---------------------------------------------------------------- */

/*
 * A sink backend. emit receives each event the sink's mask lets through and
 * returns AGC_OK or a failure status after recording a message on the ctx it
 * was made with (the bus counts the event as dropped and keeps going). flush
 * (optional, may be NULL) pushes buffered output to its destination. destroy
 * releases self; it is called once, by agc_event_sink_free().
 */
typedef struct agc_event_sink_ops {
    unsigned version; /* AGC_EVENT_SINK_OPS_VERSION */
    agc_status (*emit)(void *self, const agc_event *ev);
    agc_status (*flush)(void *self);
    void (*destroy)(void *self);
} agc_event_sink_ops;

#define AGC_EVENT_SINK_OPS_VERSION 1

typedef struct agc_event_sink agc_event_sink;

/*
 * Wraps a backend into a sink. ops must outlive the sink (usually static).
 * On success the sink owns self (ops->destroy runs on free); on failure self
 * stays the caller's. Errors: AGC_EINVAL (unknown ops version, no emit),
 * AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_event_sink_new(agc_event_sink **out, const agc_event_sink_ops *ops,
                                            void *self, agc_ctx *ctx);
/* Flushes and destroys a sink that is not attached to a bus (asserts so);
 * NULL is a no-op. */
void agc_event_sink_free(agc_event_sink *sink);
/* Events this sink failed to take since it was made. */
uint64_t agc_event_sink_dropped(const agc_event_sink *sink);

/* Options of the JSONL sinks. */
typedef struct agc_event_jsonl_opts {
    unsigned version; /* AGC_EVENT_JSONL_OPTS_VERSION */
    bool fsync;       /* fsync(2) after each line (durable, slow); default false */
} agc_event_jsonl_opts;

#define AGC_EVENT_JSONL_OPTS_VERSION 1
#define AGC_EVENT_JSONL_OPTS_INIT                                                                  \
    {                                                                                              \
        AGC_EVENT_JSONL_OPTS_VERSION, false                                                        \
    }
void agc_event_jsonl_opts_init(agc_event_jsonl_opts *opts);

/*
 * A sink that writes each event as one JSON line (see agc_event_to_jsonl) to
 * stream, flushing after each line. The stream stays the caller's and must
 * outlive the sink. opts may be NULL. Errors: AGC_EINVAL (opts version),
 * AGC_ENOMEM. Write failures are reported per event as AGC_EIO.
 */
AGC_NODISCARD agc_status agc_event_sink_jsonl_stream(agc_event_sink **out, FILE *stream,
                                                     const agc_event_jsonl_opts *opts,
                                                     agc_ctx *ctx);
/*
 * Same, appending to the file at path (created with mode 0600 when missing,
 * opened O_APPEND, each line written with one write(2)). The sink closes the
 * file. Errors: AGC_EIO naming the path when it cannot be opened,
 * AGC_EINVAL, AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_event_sink_jsonl_open(agc_event_sink **out, const char *path,
                                                   const agc_event_jsonl_opts *opts, agc_ctx *ctx);

/* Called for each event; ev and everything it points to are borrowed for the
 * call only. Must not emit to, or change the sinks of, the same bus. */
typedef void (*agc_event_fn)(const agc_event *ev, void *user);
/* A sink that calls fn(ev, user). Never fails per event. Errors: AGC_ENOMEM. */
AGC_NODISCARD agc_status agc_event_sink_callback(agc_event_sink **out, agc_event_fn fn, void *user,
                                                 agc_ctx *ctx);

/*
 * A sink that keeps a copy of every event (for tests and inspection; copies
 * are not redacted). A copy that cannot be made is dropped with AGC_ENOMEM.
 * The accessors below take no lock: call them while no thread emits to the
 * sink's bus.
 */
AGC_NODISCARD agc_status agc_event_sink_memory(agc_event_sink **out, agc_ctx *ctx);
/* Number of events held; 0 for a sink that is not a memory sink. */
size_t agc_event_memory_count(const agc_event_sink *sink);
/* The i-th event held (0 = oldest), or NULL when out of range or not a memory
 * sink. Borrowed until agc_event_memory_clear() or the sink is freed. */
const agc_event *agc_event_memory_get(const agc_event_sink *sink, size_t i);
/* Forgets every event held. */
void agc_event_memory_clear(agc_event_sink *sink);

/*
 * Serialises ev as one JSONL line, redacted (agc_redact) and ending in "\n":
 * {"seq":1,"time":"2026-01-02T03:04:05.678Z","type":"tool.call",
 *  "run_id":"run_01J...","agent":"coder","data":{...}}
 * run_id and agent are left out when NULL; data keys are sorted (canonical
 * JSON). *out is the caller's (agc_free); out_len may be NULL.
 * Errors: AGC_ENOMEM.
 */
AGC_NODISCARD agc_status agc_event_to_jsonl(char **out, size_t *out_len, const agc_event *ev,
                                            agc_ctx *ctx);

/* ---- the bus -------------------------------------------------------------- */

typedef struct agc_event_bus agc_event_bus;

/*
 * Creates a bus with no sinks; seq starts at 1. The bus remembers ctx, which
 * must outlive it. Errors: AGC_ENOMEM, AGC_ERROR when the mutex cannot be made.
 *
 * Threads: every call on a bus takes its mutex, so several threads may emit
 * at once; sinks see one event at a time, in seq order, and the bus touches
 * the ctx (clock, allocator, error) only under that mutex. The ctx itself
 * still serves one thread at a time: do not use it elsewhere meanwhile.
 */
AGC_NODISCARD agc_status agc_event_bus_new(agc_event_bus **out, agc_ctx *ctx);
/* Flushes, then frees every attached sink and the bus; NULL is a no-op. No
 * other thread may use the bus meanwhile. */
void agc_event_bus_free(agc_event_bus *bus);

/*
 * Attaches sink; it receives the events whose AGC_EVENT_BIT is set in mask
 * (AGC_EVENT_MASK_ALL for all), after the sinks attached before it. On
 * success the bus owns the sink; on failure the caller still does.
 * Errors: AGC_EINVAL when the sink is already attached, AGC_EBUSY from
 * inside a sink callback.
 */
AGC_NODISCARD agc_status agc_event_bus_add_sink(agc_event_bus *bus, agc_event_sink *sink,
                                                uint64_t mask);
/*
 * Detaches sink (after flushing it) and hands it back to the caller (free it
 * with agc_event_sink_free). Errors: AGC_ENOTFOUND when it is not attached to
 * this bus, AGC_EBUSY from inside a sink callback.
 */
AGC_NODISCARD agc_status agc_event_bus_remove_sink(agc_event_bus *bus, agc_event_sink *sink);

/*
 * Emits an event of a built-in type to every sink whose mask accepts it.
 * run_id may be NULL; payload (an object, or NULL for {}) is borrowed for the
 * call. Returns AGC_OK when every sink took the event, else the first sink's
 * failure status (the error is on the ctx, the event counted as dropped, the
 * other sinks still got it). AGC_EINVAL (nothing emitted, no seq used) for
 * AGC_EVENT_CUSTOM (use agc_event_emit_custom), a payload that is not an
 * object, or a bad run id; AGC_EBUSY when called from inside a sink.
 * Callers that do not care may ignore the result.
 */
agc_status agc_event_emit(agc_event_bus *bus, agc_event_type type, const char *run_id,
                          const json_t *payload);
/*
 * Emits a custom event named name: 1..AGC_EVENT_NAME_MAX characters of
 * [A-Za-z0-9_.:-]. Otherwise as agc_event_emit.
 */
agc_status agc_event_emit_custom(agc_event_bus *bus, const char *name, const char *run_id,
                                 const json_t *payload);
/*
 * The general form: type, plus name when type is AGC_EVENT_CUSTOM (ignored
 * otherwise), run_id and agent (each NULL or 1..AGC_EVENT_NAME_MAX
 * characters of [A-Za-z0-9_.:-]), payload. Otherwise as agc_event_emit.
 */
agc_status agc_event_emitx(agc_event_bus *bus, agc_event_type type, const char *name,
                           const char *run_id, const char *agent, const json_t *payload);

/* Flushes every sink; returns the first failure (others are still flushed). */
agc_status agc_event_bus_flush(agc_event_bus *bus);
/* seq of the last event emitted (0 before the first). */
uint64_t agc_event_bus_last_seq(agc_event_bus *bus);
/* Events that some sink failed to take (one per sink failure) since creation. */
uint64_t agc_event_bus_dropped(agc_event_bus *bus);

#ifdef __cplusplus
}
#endif
#endif
