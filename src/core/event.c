/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The event bus and the generic sink wrapper. Sinks form a singly linked
 * list in attachment order; emit assigns seq and time and walks the list
 * under the bus mutex, so sinks see events one at a time, in seq order.
 * The mutex is error-checking: a sink that calls back into its own bus gets
 * AGC_EBUSY instead of a deadlock. Backends live in event_sinks.c.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "agentc/alloc.h"
#include "agentc/clock.h"
#include "agentc/event.h"

struct agc_event_sink {
    const agc_event_sink_ops *ops;
    void *self;
    agc_ctx *ctx;
    uint64_t mask;
    uint64_t dropped;
    agc_event_bus *bus; /* attached to, or NULL */
    agc_event_sink *next;
};

struct agc_event_bus {
    agc_ctx *ctx;
    pthread_mutex_t mu;
    uint64_t seq;
    uint64_t dropped;
    agc_event_sink *sinks;
};

/* ---- types ---------------------------------------------------------------- */

static const char *const TYPE_NAMES[] = {
#define AGC__EVENT_NAME(name, text) text,
    AGC_EVENT_TYPE_MAP(AGC__EVENT_NAME)
#undef AGC__EVENT_NAME
};

const char *agc_event_type_name(agc_event_type type)
{
    if ((unsigned)type >= AGC_EVENT__COUNT)
        return "custom";
    return TYPE_NAMES[type];
}

agc_event_type agc_event_type_from_name(const char *name)
{
    for (unsigned i = 0; name && i < AGC_EVENT_CUSTOM; i++)
        if (strcmp(TYPE_NAMES[i], name) == 0)
            return (agc_event_type)i;
    return AGC_EVENT_CUSTOM;
}

/* ---- sinks ---------------------------------------------------------------- */

agc_status agc_event_sink_new(agc_event_sink **out, const agc_event_sink_ops *ops, void *self,
                              agc_ctx *ctx)
{
    *out = NULL;
    if (!ops || ops->version != AGC_EVENT_SINK_OPS_VERSION || !ops->emit)
        return agc_error_set(ctx, AGC_EINVAL, "event",
                             "event sink ops must have version %d and an emit method",
                             AGC_EVENT_SINK_OPS_VERSION);
    agc_event_sink *s = agc_calloc(ctx, 1, sizeof *s);
    if (!s)
        return AGC_ENOMEM;
    s->ops = ops;
    s->self = self;
    s->ctx = ctx;
    s->mask = AGC_EVENT_MASK_ALL;
    *out = s;
    return AGC_OK;
}

void agc_event_sink_free(agc_event_sink *sink)
{
    if (!sink)
        return;
    assert(sink->bus == NULL && "detach the sink from its bus first");
    if (sink->ops->flush)
        (void)sink->ops->flush(sink->self);
    if (sink->ops->destroy)
        sink->ops->destroy(sink->self);
    agc_free(sink->ctx, sink);
}

/* Library-internal: self of a sink made with ops, else NULL (event_sinks.c). */
void *agc__event_sink_self(const agc_event_sink *sink, const agc_event_sink_ops *ops);
void *agc__event_sink_self(const agc_event_sink *sink, const agc_event_sink_ops *ops)
{
    return sink && sink->ops == ops ? sink->self : NULL;
}

/* ---- locking -------------------------------------------------------------- */

static agc_status lock(agc_event_bus *bus, const char *what)
{
    int rc = pthread_mutex_lock(&bus->mu);
    if (rc == 0)
        return AGC_OK;
    /* EDEADLK: this thread holds the lock, i.e. we are inside a sink, so the
     * ctx is ours to write */
    return agc_error_set(bus->ctx, rc == EDEADLK ? AGC_EBUSY : AGC_ERROR, "event",
                         "%s called from inside an event sink of the same bus; sinks must not "
                         "call back into their bus",
                         what);
}

static void unlock(agc_event_bus *bus)
{
    pthread_mutex_unlock(&bus->mu);
}

/* ---- the bus -------------------------------------------------------------- */

agc_status agc_event_bus_new(agc_event_bus **out, agc_ctx *ctx)
{
    *out = NULL;
    agc_event_bus *bus = agc_calloc(ctx, 1, sizeof *bus);
    if (!bus)
        return AGC_ENOMEM;
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc == 0) {
        rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
        if (rc == 0)
            rc = pthread_mutex_init(&bus->mu, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    if (rc != 0) {
        agc_free(ctx, bus);
        return agc_error_set(ctx, rc == ENOMEM ? AGC_ENOMEM : AGC_ERROR, "event",
                             "cannot create the event bus mutex: %s", strerror(rc));
    }
    bus->ctx = ctx;
    *out = bus;
    return AGC_OK;
}

void agc_event_bus_free(agc_event_bus *bus)
{
    if (!bus)
        return;
    agc_event_sink *s = bus->sinks;
    bus->sinks = NULL;
    while (s) {
        agc_event_sink *next = s->next;
        s->bus = NULL;
        s->next = NULL;
        agc_event_sink_free(s);
        s = next;
    }
    pthread_mutex_destroy(&bus->mu);
    agc_free(bus->ctx, bus);
}

agc_status agc_event_bus_add_sink(agc_event_bus *bus, agc_event_sink *sink, uint64_t mask)
{
    agc_status st = lock(bus, "agc_event_bus_add_sink");
    if (st != AGC_OK)
        return st;
    if (sink->bus) {
        st = agc_error_set(bus->ctx, AGC_EINVAL, "event",
                           "event sink is already attached to a bus; remove it first");
    } else {
        agc_event_sink **tail = &bus->sinks;
        while (*tail)
            tail = &(*tail)->next;
        sink->mask = mask;
        sink->bus = bus;
        sink->next = NULL;
        *tail = sink;
    }
    unlock(bus);
    return st;
}

agc_status agc_event_bus_remove_sink(agc_event_bus *bus, agc_event_sink *sink)
{
    agc_status st = lock(bus, "agc_event_bus_remove_sink");
    if (st != AGC_OK)
        return st;
    agc_event_sink **p = &bus->sinks;
    while (*p && *p != sink)
        p = &(*p)->next;
    if (!*p) {
        st = agc_error_set(bus->ctx, AGC_ENOTFOUND, "event",
                           "event sink is not attached to this bus");
    } else {
        *p = sink->next;
        sink->next = NULL;
        sink->bus = NULL;
        if (sink->ops->flush)
            (void)sink->ops->flush(sink->self);
    }
    unlock(bus);
    return st;
}

/* 1..AGC_EVENT_NAME_MAX characters of [A-Za-z0-9_.:-]. */
static bool name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok || n >= AGC_EVENT_NAME_MAX)
            return false;
    }
    return n > 0;
}

static agc_status check_args(agc_event_bus *bus, agc_event_type type, const char *name,
                             const char *run_id, const char *agent, const json_t *payload)
{
    agc_ctx *ctx = bus->ctx;
    if ((unsigned)type >= AGC_EVENT__COUNT)
        return agc_error_set(ctx, AGC_EINVAL, "event", "unknown event type %d", (int)type);
    if (type == AGC_EVENT_CUSTOM && (!name || !name_ok(name)))
        return agc_error_set(ctx, AGC_EINVAL, "event",
                             "custom event name \"%.64s\" must be 1 to %d characters of "
                             "A-Z a-z 0-9 _ . : -",
                             name ? name : "(null)", AGC_EVENT_NAME_MAX);
    if (run_id && !name_ok(run_id))
        return agc_error_set(ctx, AGC_EINVAL, "event",
                             "run id \"%.64s\" must be 1 to %d characters of A-Z a-z 0-9 _ . : -",
                             run_id, AGC_EVENT_NAME_MAX);
    if (agent && !name_ok(agent))
        return agc_error_set(ctx, AGC_EINVAL, "event",
                             "agent name \"%.64s\" must be 1 to %d characters of "
                             "A-Z a-z 0-9 _ . : -",
                             agent, AGC_EVENT_NAME_MAX);
    if (payload && !json_is_object(payload))
        return agc_error_set(ctx, AGC_EINVAL, "event",
                             "payload of a %s event must be a JSON object, not %s",
                             type == AGC_EVENT_CUSTOM ? name : agc_event_type_name(type),
                             json_is_array(payload)    ? "an array"
                             : json_is_string(payload) ? "a string"
                                                       : "a scalar");
    return AGC_OK;
}

agc_status agc_event_emitx(agc_event_bus *bus, agc_event_type type, const char *name,
                           const char *run_id, const char *agent, const json_t *payload)
{
    agc_status st = lock(bus, "agc_event_emit");
    if (st != AGC_OK)
        return st;
    st = check_args(bus, type, name, run_id, agent, payload);
    if (st != AGC_OK) {
        unlock(bus);
        return st;
    }
    agc_event ev = {
        .type = type,
        .name = type == AGC_EVENT_CUSTOM ? name : agc_event_type_name(type),
        .seq = ++bus->seq,
        .time_ms = agc_clock_now_ms(bus->ctx),
        .run_id = run_id,
        .agent = agent,
        .data = payload,
    };
    agc_status first = AGC_OK;
    for (agc_event_sink *s = bus->sinks; s; s = s->next) {
        if (!(s->mask & AGC_EVENT_BIT(type)))
            continue;
        agc_status rc = s->ops->emit(s->self, &ev);
        if (rc == AGC_OK)
            continue;
        s->dropped++;
        bus->dropped++;
        agc_error_wrap(bus->ctx, rc, "event", "event sink dropped %s #%llu", ev.name,
                       (unsigned long long)ev.seq);
        if (first == AGC_OK)
            first = rc;
    }
    unlock(bus);
    return first;
}

agc_status agc_event_emit(agc_event_bus *bus, agc_event_type type, const char *run_id,
                          const json_t *payload)
{
    if (type == AGC_EVENT_CUSTOM) {
        agc_status st = lock(bus, "agc_event_emit");
        if (st == AGC_OK) {
            st = agc_error_set(bus->ctx, AGC_EINVAL, "event",
                               "custom events need a name; use agc_event_emit_custom");
            unlock(bus);
        }
        return st;
    }
    return agc_event_emitx(bus, type, NULL, run_id, NULL, payload);
}

agc_status agc_event_emit_custom(agc_event_bus *bus, const char *name, const char *run_id,
                                 const json_t *payload)
{
    return agc_event_emitx(bus, AGC_EVENT_CUSTOM, name, run_id, NULL, payload);
}

agc_status agc_event_bus_flush(agc_event_bus *bus)
{
    agc_status st = lock(bus, "agc_event_bus_flush");
    if (st != AGC_OK)
        return st;
    for (agc_event_sink *s = bus->sinks; s; s = s->next) {
        if (!s->ops->flush)
            continue;
        agc_status rc = s->ops->flush(s->self);
        if (rc != AGC_OK && st == AGC_OK)
            st = rc;
    }
    unlock(bus);
    return st;
}

/* Reads a counter under the lock; from inside a sink the lock is already ours. */
static uint64_t read_locked(agc_event_bus *bus, const uint64_t *field)
{
    bool locked = pthread_mutex_lock(&bus->mu) == 0;
    uint64_t n = *field;
    if (locked)
        unlock(bus);
    return n;
}

uint64_t agc_event_bus_last_seq(agc_event_bus *bus)
{
    return read_locked(bus, &bus->seq);
}

uint64_t agc_event_bus_dropped(agc_event_bus *bus)
{
    return read_locked(bus, &bus->dropped);
}

uint64_t agc_event_sink_dropped(const agc_event_sink *sink)
{
    if (!sink)
        return 0;
    return sink->bus ? read_locked(sink->bus, &sink->dropped) : sink->dropped;
}
