/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema assertion keywords (validation vocabulary and format): type,
 * enum, const, numeric bounds, multipleOf, string length in code points,
 * pattern, array and object sizes, uniqueItems, required, dependentRequired.
 * Numbers compare by value across jansson's integer/real split (1 == 1.0);
 * multipleOf on reals uses a relative tolerance. Applicators are elsewhere.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

/* ---- numbers and equality --------------------------------------------------------- */

/* -1, 0, 1 comparing two JSON numbers exactly (long double holds every int64). */
static int num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    long double x = json_is_integer(a) ? (long double)json_integer_value(a) : json_real_value(a);
    long double y = json_is_integer(b) ? (long double)json_integer_value(b) : json_real_value(b);
    return x < y ? -1 : x > y;
}

static bool is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return true;
    double d = json_real_value(v);
    return isfinite(d) && floor(d) == d;
}

bool agc__sch_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!agc__sch_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            json_t *w = json_object_get(b, k);
            if (!w || !agc__sch_equal(v, w))
                return false;
        }
        return true;
    }
    default:
        return true; /* null, true, false */
    }
}

static bool multiple_of(const json_t *v, const json_t *m)
{
    if (json_is_integer(v) && json_is_integer(m)) {
        json_int_t d = json_integer_value(m);
        return d == -1 || json_integer_value(v) % d == 0;
    }
    double x = json_number_value(v), d = json_number_value(m);
    double q = x / d;
    if (!isfinite(q)) {
        /* overflow: an integer is a multiple of d when 1/d is an integer */
        double inv = 1.0 / d;
        return is_integral(v) && isfinite(inv) && floor(inv) == inv;
    }
    double r = nearbyint(q);
    return fabs(q - r) <= 1e-9 * fmax(1.0, fabs(q));
}

size_t agc__sch_utf8_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- type ------------------------------------------------------------------------------- */

static unsigned inst_types(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return SCH_T_NULL;
    case JSON_TRUE:
    case JSON_FALSE:
        return SCH_T_BOOL;
    case JSON_OBJECT:
        return SCH_T_OBJ;
    case JSON_ARRAY:
        return SCH_T_ARR;
    case JSON_STRING:
        return SCH_T_STR;
    case JSON_INTEGER:
        return SCH_T_NUM | SCH_T_INT;
    case JSON_REAL:
        return SCH_T_NUM | (is_integral(v) ? SCH_T_INT : 0);
    }
    return 0;
}

static void types_str(unsigned t, char *buf, size_t size)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 7; i++) {
        if (!(t & (1u << i)))
            continue;
        o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%s", o ? " or " : "", names[i]);
    }
}

/* ---- the assertions ------------------------------------------------------------------------ */

static void num_str(const json_t *v, char *buf, size_t size)
{
    if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, size, "%.17g", json_real_value(v));
    /* shortest round-trip form */
    if (json_is_real(v)) {
        for (int p = 1; p <= 17; p++) {
            char t[64];
            snprintf(t, sizeof t, "%.*g", p, json_real_value(v));
            if (strtod(t, NULL) == json_real_value(v)) {
                snprintf(buf, size, "%s", t);
                break;
            }
        }
    }
}

static bool numbers(sch_vstate *st, const sch_node *n, const sch_call *call)
{
    const json_t *v = call->inst;
    bool valid = true;
    char b[64];
    if (n->maximum && num_cmp(v, n->maximum) > 0) {
        num_str(n->maximum, b, sizeof b);
        agc__sch_error(st, call, "maximum", NULL, "must be <= %s", b);
        valid = false;
    }
    if (n->ex_maximum && num_cmp(v, n->ex_maximum) >= 0) {
        num_str(n->ex_maximum, b, sizeof b);
        agc__sch_error(st, call, "exclusiveMaximum", NULL, "must be < %s", b);
        valid = false;
    }
    if (n->minimum && num_cmp(v, n->minimum) < 0) {
        num_str(n->minimum, b, sizeof b);
        agc__sch_error(st, call, "minimum", NULL, "must be >= %s", b);
        valid = false;
    }
    if (n->ex_minimum && num_cmp(v, n->ex_minimum) <= 0) {
        num_str(n->ex_minimum, b, sizeof b);
        agc__sch_error(st, call, "exclusiveMinimum", NULL, "must be > %s", b);
        valid = false;
    }
    if (n->multiple_of && !multiple_of(v, n->multiple_of)) {
        num_str(n->multiple_of, b, sizeof b);
        agc__sch_error(st, call, "multipleOf", NULL, "must be multiple of %s", b);
        valid = false;
    }
    return valid;
}

static bool strings(sch_vstate *st, const sch_node *n, const sch_call *call)
{
    const char *s = json_string_value(call->inst);
    size_t len = json_string_length(call->inst);
    bool valid = true;
    if (n->max_len >= 0 || n->min_len >= 0) {
        long long cps = (long long)agc__sch_utf8_len(s, len);
        if (n->max_len >= 0 && cps > n->max_len) {
            agc__sch_error(st, call, "maxLength", NULL, "must NOT have more than %lld characters",
                           n->max_len);
            valid = false;
        }
        if (n->min_len >= 0 && cps < n->min_len) {
            agc__sch_error(st, call, "minLength", NULL, "must NOT have fewer than %lld characters",
                           n->min_len);
            valid = false;
        }
    }
    if (n->pattern.re) {
        int m = agc__sch_regex_match(st, n->pattern.re, s, len);
        if (m < 0)
            return false;
        if (!m) {
            agc__sch_error(st, call, "pattern", NULL, "must match pattern \"%s\"", n->pattern.src);
            valid = false;
        }
    }
    if (n->format_id && (st->s->format_assert || (n->flags & SCH_N_FORMAT_ASSERT))) {
        int ok = agc__sch_format_check(n->format_id, s, len, st->gctx, st->ctx);
        if (ok < 0) {
            agc__sch_fatal(st, AGC_ENOMEM, "out of memory checking format %s", n->format);
            return false;
        }
        if (!ok) {
            agc__sch_error(st, call, "format", NULL, "must match format \"%s\"", n->format);
            valid = false;
        }
    }
    return valid;
}

static bool arrays(sch_vstate *st, const sch_node *n, const sch_call *call)
{
    size_t size = json_array_size(call->inst);
    bool valid = true;
    if (n->max_items >= 0 && (long long)size > n->max_items) {
        agc__sch_error(st, call, "maxItems", NULL, "must NOT have more than %lld items",
                       n->max_items);
        valid = false;
    }
    if (n->min_items >= 0 && (long long)size < n->min_items) {
        agc__sch_error(st, call, "minItems", NULL, "must NOT have fewer than %lld items",
                       n->min_items);
        valid = false;
    }
    if (n->flags & SCH_N_UNIQUE) {
        for (size_t i = 0; i < size; i++) {
            for (size_t j = i + 1; j < size; j++) {
                if (agc__sch_equal(json_array_get(call->inst, i), json_array_get(call->inst, j))) {
                    agc__sch_error(
                        st, call, "uniqueItems", NULL,
                        "must NOT have duplicate items (items %zu and %zu are identical)", i, j);
                    return false;
                }
            }
        }
    }
    return valid;
}

static bool objects(sch_vstate *st, const sch_node *n, const sch_call *call)
{
    const json_t *o = call->inst;
    size_t size = json_object_size(o);
    bool valid = true;
    if (n->max_props >= 0 && (long long)size > n->max_props) {
        agc__sch_error(st, call, "maxProperties", NULL, "must NOT have more than %lld properties",
                       n->max_props);
        valid = false;
    }
    if (n->min_props >= 0 && (long long)size < n->min_props) {
        agc__sch_error(st, call, "minProperties", NULL, "must NOT have fewer than %lld properties",
                       n->min_props);
        valid = false;
    }
    for (size_t i = 0; i < n->nrequired; i++) {
        if (!json_object_get(o, n->required[i])) {
            agc__sch_error(st, call, "required", NULL, "must have required property '%s'",
                           n->required[i]);
            valid = false;
            if (call->quiet)
                return false;
        }
    }
    for (size_t i = 0; i < n->ndep_req; i++) {
        if (!json_object_get(o, n->dep_req[i].name))
            continue;
        for (size_t k = 0; k < n->dep_req[i].n; k++) {
            if (!json_object_get(o, n->dep_req[i].req[k])) {
                agc__sch_error(st, call, "dependentRequired", NULL,
                               "must have property '%s' when property '%s' is present",
                               n->dep_req[i].req[k], n->dep_req[i].name);
                valid = false;
            }
        }
    }
    return valid;
}

bool agc__sch_assertions(sch_vstate *st, const sch_node *n, const sch_call *call)
{
    const json_t *v = call->inst;
    bool valid = true;
    if (n->types && !(n->types & inst_types(v))) {
        char b[96];
        types_str(n->types, b, sizeof b);
        agc__sch_error(st, call, "type", NULL, "must be %s", b);
        if (call->quiet)
            return false;
        valid = false;
    }
    if (n->flags & SCH_N_HAS_CONST) {
        if (!agc__sch_equal(v, n->const_)) {
            agc__sch_error(st, call, "const", NULL, "must be equal to constant");
            valid = false;
        }
    }
    if (n->enum_) {
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(n->enum_, i, e)
        {
            if (agc__sch_equal(v, e)) {
                found = true;
                break;
            }
        }
        if (!found) {
            agc__sch_error(st, call, "enum", NULL, "must be equal to one of the allowed values");
            valid = false;
        }
    }
    if (!valid && call->quiet)
        return false;
    if (json_is_number(v))
        valid &= numbers(st, n, call);
    else if (json_is_string(v))
        valid &= strings(st, n, call);
    else if (json_is_array(v))
        valid &= arrays(st, n, call);
    else if (json_is_object(v))
        valid &= objects(st, n, call);
    return valid;
}
