/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema validation: applies a compiled node to an instance, walking
 * the applicators ($ref, $dynamicRef through the dynamic scope, allOf/anyOf/
 * oneOf/not/if, items/properties/...) and collecting the "evaluated"
 * annotations that unevaluatedItems/unevaluatedProperties need (a failed
 * subschema contributes none). Never writes to the compiled schema; all
 * per-call state is in sch_vstate and on the C stack. Assertions are in
 * schema_keywords.c.
 */
#include <stdlib.h>
#include <string.h>

#include "agentc/json.h"
#include "schema_int.h"

#define MAX_DEPTH 800

/* ---- annotation sets --------------------------------------------------------- */

static size_t inst_size(const json_t *inst)
{
    if (json_is_array(inst))
        return json_array_size(inst);
    if (json_is_object(inst))
        return json_object_size(inst);
    return 0;
}

static bool ev_init(sch_vstate *st, sch_ev *e, const json_t *inst)
{
    e->n = inst_size(inst);
    e->bits = agc_calloc(st->ctx, e->n ? e->n : 1, 1);
    if (!e->bits) {
        agc__sch_fatal(st, AGC_ENOMEM, "out of memory validating");
        return false;
    }
    return true;
}

static void ev_free(sch_vstate *st, sch_ev *e)
{
    if (e && e->bits) {
        agc_free(st->ctx, e->bits);
        e->bits = NULL;
    }
}

static void ev_merge(sch_ev *dst, const sch_ev *src)
{
    if (!dst || !src || !src->bits)
        return;
    for (size_t i = 0; i < dst->n && i < src->n; i++)
        dst->bits[i] |= src->bits[i];
}

static void ev_mark(sch_ev *e, size_t i)
{
    if (e && e->bits && i < e->n)
        e->bits[i] = 1;
}

/* ---- helpers ---------------------------------------------------------------------- */

/* Applies n to the same instance location (in-place applicator); merges annotations on success. */
static bool in_place(sch_vstate *st, const sch_node *n, const sch_call *call, const sch_path *sp,
                     bool quiet, sch_ev *merge_into)
{
    sch_ev child = {0};
    sch_call c = *call;
    c.sp = sp;
    c.quiet = quiet;
    c.ev = NULL;
    if (merge_into) {
        if (!ev_init(st, &child, call->inst))
            return false;
        c.ev = &child;
    }
    bool ok = agc__sch_validate(st, n, &c);
    if (ok)
        ev_merge(merge_into, &child);
    ev_free(st, &child);
    return ok;
}

/* Applies n to a child instance (no annotations flow back). */
static bool child(sch_vstate *st, const sch_node *n, const sch_call *call, const json_t *inst,
                  const sch_path *ip, const sch_path *sp, bool quiet)
{
    sch_call c = {.inst = inst, .ip = ip, .sp = sp, .scope = call->scope, .quiet = quiet};
    return agc__sch_validate(st, n, &c);
}

static int named_find(const sch_named *arr, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(key, arr[mid].name);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* ---- in-place applicators ---------------------------------------------------------- */

static bool refs(sch_vstate *st, const sch_node *n, const sch_call *call, sch_ev *ev)
{
    bool valid = true;
    if (n->ref) {
        sch_path sp = {call->sp, "$ref", 0};
        valid &= in_place(st, n->ref, call, &sp, call->quiet, ev);
    }
    if (n->dyn_ref) {
        const sch_node *target = n->dyn_ref;
        if (n->dyn_ref_anchor) {
            for (const sch_scope *s = call->scope; s; s = s->up)
                for (size_t i = 0; i < s->res->ndyn; i++)
                    if (strcmp(s->res->dyn[i].name, n->dyn_ref_anchor) == 0 && s->res->dyn[i].node)
                        target = s->res->dyn[i].node;
        }
        sch_path sp = {call->sp, "$dynamicRef", 0};
        valid &= in_place(st, target, call, &sp, call->quiet, ev);
    }
    return valid;
}

static bool combinators(sch_vstate *st, const sch_node *n, const sch_call *call, sch_ev *ev)
{
    bool valid = true;
    for (size_t i = 0; i < n->nall_of && !st->fatal; i++) {
        sch_path kp = {call->sp, "allOf", 0}, sp = {&kp, NULL, i};
        valid &= in_place(st, n->all_of[i], call, &sp, call->quiet, ev);
        if (!valid && call->quiet)
            return false;
    }
    if (n->nany_of) {
        size_t dropped, mark = agc__sch_err_mark(st, &dropped);
        bool any = false;
        sch_path kp = {call->sp, "anyOf", 0};
        for (size_t i = 0; i < n->nany_of && !st->fatal; i++) {
            sch_path sp = {&kp, NULL, i};
            if (in_place(st, n->any_of[i], call, &sp, call->quiet, ev)) {
                any = true;
                if (!ev)
                    break;
            }
        }
        if (any) {
            agc__sch_err_rollback(st, mark, dropped);
        } else {
            agc__sch_error(st, call, "anyOf", NULL, "must match a schema in anyOf");
            valid = false;
        }
    }
    if (n->none_of) {
        size_t dropped, mark = agc__sch_err_mark(st, &dropped);
        size_t count = 0, first = 0, second = 0;
        sch_ev acc = {0};
        if (ev && !ev_init(st, &acc, call->inst))
            return false;
        sch_path kp = {call->sp, "oneOf", 0};
        for (size_t i = 0; i < n->none_of && !st->fatal && count < 2; i++) {
            sch_path sp = {&kp, NULL, i};
            if (in_place(st, n->one_of[i], call, &sp, call->quiet, ev ? &acc : NULL)) {
                if (count++ == 0)
                    first = i;
                else
                    second = i;
            }
        }
        if (count == 1) {
            agc__sch_err_rollback(st, mark, dropped);
            ev_merge(ev, &acc);
        } else if (count == 0) {
            agc__sch_error(st, call, "oneOf", NULL, "must match exactly one schema in oneOf");
            valid = false;
        } else {
            agc__sch_err_rollback(st, mark, dropped);
            agc__sch_error(
                st, call, "oneOf", NULL,
                "must match exactly one schema in oneOf (schemas %zu and %zu both match)", first,
                second);
            valid = false;
        }
        ev_free(st, &acc);
    }
    if (n->not_ && !st->fatal) {
        sch_path sp = {call->sp, "not", 0};
        if (in_place(st, n->not_, call, &sp, true, NULL)) {
            agc__sch_error(st, call, "not", NULL, "must NOT be valid");
            valid = false;
        }
    }
    if (n->if_ && !st->fatal) {
        sch_path sp = {call->sp, "if", 0};
        bool cond = in_place(st, n->if_, call, &sp, true, ev);
        const sch_node *branch = cond ? n->then_ : n->else_;
        const char *bname = cond ? "then" : "else";
        if (branch && !st->fatal) {
            sch_path bp = {call->sp, bname, 0};
            if (!in_place(st, branch, call, &bp, call->quiet, ev)) {
                agc__sch_error(st, call, "if", NULL, "must match \"%s\" schema", bname);
                valid = false;
            }
        }
    }
    if (n->ndep_schemas && json_is_object(call->inst)) {
        sch_path kp = {call->sp, "dependentSchemas", 0};
        for (size_t i = 0; i < n->ndep_schemas && !st->fatal; i++) {
            if (!json_object_get(call->inst, n->dep_schemas[i].name))
                continue;
            sch_path sp = {&kp, n->dep_schemas[i].name, 0};
            valid &= in_place(st, n->dep_schemas[i].node, call, &sp, call->quiet, ev);
        }
    }
    return valid;
}

/* ---- arrays ----------------------------------------------------------------------------- */

static bool arrays(sch_vstate *st, const sch_node *n, const sch_call *call, sch_ev *ev)
{
    const json_t *a = call->inst;
    size_t size = json_array_size(a);
    bool valid = true;
    size_t i = 0;
    if (n->nprefix) {
        sch_path kp = {call->sp, "prefixItems", 0};
        for (; i < n->nprefix && i < size && !st->fatal; i++) {
            sch_path sp = {&kp, NULL, i}, ip = {call->ip, NULL, i};
            valid &= child(st, n->prefix[i], call, json_array_get(a, i), &ip, &sp, call->quiet);
            ev_mark(ev, i);
            if (!valid && call->quiet)
                return false;
        }
    }
    if (n->items && size > n->nprefix) {
        sch_path kp = {call->sp, "items", 0};
        if ((n->items->flags & SCH_N_BOOL) && !(n->items->flags & SCH_N_TRUE)) {
            agc__sch_error(st, call, "items", NULL, "must NOT have more than %zu items",
                           n->nprefix);
            return false;
        }
        for (i = n->nprefix; i < size && !st->fatal; i++) {
            sch_path ip = {call->ip, NULL, i};
            valid &= child(st, n->items, call, json_array_get(a, i), &ip, &kp, call->quiet);
            ev_mark(ev, i);
            if (!valid && call->quiet)
                return false;
        }
    }
    if (n->contains) {
        size_t count = 0;
        sch_path kp = {call->sp, "contains", 0};
        for (i = 0; i < size && !st->fatal; i++) {
            sch_path ip = {call->ip, NULL, i};
            if (child(st, n->contains, call, json_array_get(a, i), &ip, &kp, true)) {
                count++;
                ev_mark(ev, i);
            }
        }
        long long min = n->min_contains >= 0 ? n->min_contains : 1;
        if ((long long)count < min) {
            agc__sch_error(st, call, n->min_contains >= 0 ? "minContains" : "contains", NULL,
                           "must contain at least %lld valid item(s)", min);
            valid = false;
        }
        if (n->max_contains >= 0 && (long long)count > n->max_contains) {
            agc__sch_error(st, call, "maxContains", NULL, "must contain at most %lld valid item(s)",
                           n->max_contains);
            valid = false;
        }
    }
    return valid;
}

/* ---- objects ------------------------------------------------------------------------------ */

static bool prop_name(sch_vstate *st, const sch_node *n, const sch_call *call, const char *key)
{
    agc_ctx *prev = agc_json_enter(st->ctx);
    json_t *name = json_string_nocheck(key);
    agc_json_leave(prev);
    if (!name) {
        agc__sch_fatal(st, AGC_ENOMEM, "out of memory validating");
        return false;
    }
    sch_path sp = {call->sp, "propertyNames", 0};
    bool ok = child(st, n->prop_names, call, name, call->ip, &sp, true);
    prev = agc_json_enter(st->ctx);
    json_decref(name);
    agc_json_leave(prev);
    if (!ok)
        agc__sch_error(st, call, "propertyNames", NULL, "property name '%s' is invalid", key);
    return ok;
}

static bool objects(sch_vstate *st, const sch_node *n, const sch_call *call, sch_ev *ev)
{
    bool valid = true;
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)call->inst, key, val)
    {
        if (st->fatal)
            return false;
        bool matched = false;
        sch_path ip = {call->ip, key, 0};
        int pi = n->nprops ? named_find(n->props, n->nprops, key) : -1;
        if (pi >= 0) {
            sch_path kp = {call->sp, "properties", 0}, sp = {&kp, key, 0};
            valid &= child(st, n->props[pi].node, call, val, &ip, &sp, call->quiet);
            matched = true;
        }
        for (size_t p = 0; p < n->npat_props && !st->fatal; p++) {
            int m = agc__sch_regex_match(st, n->pat_props[p].re, key, strlen(key));
            if (m < 0)
                return false;
            if (m) {
                sch_path kp = {call->sp, "patternProperties", 0},
                         sp = {&kp, n->pat_props[p].src, 0};
                valid &= child(st, n->pat_props[p].node, call, val, &ip, &sp, call->quiet);
                matched = true;
            }
        }
        if (!matched && n->additional) {
            if ((n->additional->flags & SCH_N_BOOL) && !(n->additional->flags & SCH_N_TRUE)) {
                agc__sch_error(st, call, "additionalProperties", NULL,
                               "must NOT have additional property '%s'", key);
                valid = false;
            } else {
                sch_path sp = {call->sp, "additionalProperties", 0};
                valid &= child(st, n->additional, call, val, &ip, &sp, call->quiet);
            }
            matched = true;
        }
        if (matched)
            ev_mark(ev, i);
        if (n->prop_names)
            valid &= prop_name(st, n, call, key);
        if (!valid && call->quiet)
            return false;
        i++;
    }
    return valid;
}

/* ---- unevaluated* ---------------------------------------------------------------------------- */

static bool unevaluated(sch_vstate *st, const sch_node *n, const sch_call *call, sch_ev *ev)
{
    bool valid = true;
    if (n->uneval_items && json_is_array(call->inst)) {
        const sch_node *u = n->uneval_items;
        sch_path sp = {call->sp, "unevaluatedItems", 0};
        for (size_t i = 0; i < ev->n && !st->fatal; i++) {
            if (ev->bits[i])
                continue;
            if ((u->flags & SCH_N_BOOL) && !(u->flags & SCH_N_TRUE)) {
                agc__sch_error(st, call, "unevaluatedItems", NULL,
                               "must NOT have unevaluated item at index %zu", i);
                valid = false;
            } else {
                sch_path ip = {call->ip, NULL, i};
                valid &= child(st, u, call, json_array_get(call->inst, i), &ip, &sp, call->quiet);
            }
            if (!valid && call->quiet)
                return false;
        }
        memset(ev->bits, 1, ev->n);
    }
    if (n->uneval_props && json_is_object(call->inst)) {
        const sch_node *u = n->uneval_props;
        sch_path sp = {call->sp, "unevaluatedProperties", 0};
        size_t i = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)call->inst, key, val)
        {
            if (st->fatal)
                return false;
            if (i < ev->n && !ev->bits[i]) {
                if ((u->flags & SCH_N_BOOL) && !(u->flags & SCH_N_TRUE)) {
                    agc__sch_error(st, call, "unevaluatedProperties", NULL,
                                   "must NOT have unevaluated property '%s'", key);
                    valid = false;
                } else {
                    sch_path ip = {call->ip, key, 0};
                    valid &= child(st, u, call, val, &ip, &sp, call->quiet);
                }
                if (!valid && call->quiet)
                    return false;
            }
            i++;
        }
        memset(ev->bits, 1, ev->n);
    }
    return valid;
}

/* ---- the node
 * ------------------------------------------------------------------------------------ */

bool agc__sch_validate(sch_vstate *st, const sch_node *n, const sch_call *call)
{
    if (st->fatal)
        return false;
    if (n->flags & SCH_N_BOOL) {
        if (n->flags & SCH_N_TRUE)
            return true;
        agc__sch_error(st, call, "false", NULL, "boolean schema is false");
        return false;
    }
    if (st->depth >= MAX_DEPTH) {
        agc__sch_fatal(st, AGC_ELIMIT,
                       "schema evaluation nested more than %d levels deep (an infinite $ref loop?)",
                       MAX_DEPTH);
        return false;
    }
    st->depth++;
    sch_scope frame = {call->scope, n->res};
    sch_call c = *call;
    if (!call->scope || call->scope->res != n->res)
        c.scope = &frame;
    bool is_arr = json_is_array(call->inst), is_obj = json_is_object(call->inst);
    sch_ev local = {0};
    sch_ev *ev = (is_arr || is_obj) ? call->ev : NULL;
    if (!ev && ((is_arr && n->uneval_items) || (is_obj && n->uneval_props))) {
        if (!ev_init(st, &local, call->inst)) {
            st->depth--;
            return false;
        }
        ev = &local;
    }
    c.ev = ev;
    bool valid = agc__sch_assertions(st, n, &c);
    if ((valid || !c.quiet) && (n->ref || n->dyn_ref))
        valid &= refs(st, n, &c, ev);
    if ((valid || !c.quiet) && !st->fatal)
        valid &= combinators(st, n, &c, ev);
    if ((valid || !c.quiet) && !st->fatal && is_arr)
        valid &= arrays(st, n, &c, ev);
    if ((valid || !c.quiet) && !st->fatal && is_obj)
        valid &= objects(st, n, &c, ev);
    if ((valid || !c.quiet) && !st->fatal && ev)
        valid &= unevaluated(st, n, &c, ev);
    ev_free(st, &local);
    st->depth--;
    return valid && !st->fatal;
}
