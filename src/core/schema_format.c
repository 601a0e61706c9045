/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * JSON Schema "format" checks: date-time, date, time, duration (RFC 3339),
 * email and idn-email (RFC 5321 syntax, approximately), hostname (RFC 1123),
 * ipv4, ipv6, uri, uri-reference, iri, iri-reference (RFC 3986/3987 syntax),
 * uuid, json-pointer, relative-json-pointer, regex (PCRE2 with the pattern
 * flags of the compiler), uri-template (brace syntax only).
 * Unknown formats, idn-hostname included, always pass. Pure functions.
 */
#include <arpa/inet.h>
#include <string.h>

#include "schema_int.h"

enum {
    F_DATE_TIME = 1,
    F_DATE,
    F_TIME,
    F_DURATION,
    F_EMAIL,
    F_IDN_EMAIL,
    F_HOSTNAME,
    F_IPV4,
    F_IPV6,
    F_URI,
    F_URI_REF,
    F_IRI,
    F_IRI_REF,
    F_UUID,
    F_JSON_POINTER,
    F_REL_JSON_POINTER,
    F_REGEX,
    F_URI_TEMPLATE,
};

static const struct {
    const char *name;
    int id;
} formats[] = {
    {"date-time", F_DATE_TIME},
    {"date", F_DATE},
    {"time", F_TIME},
    {"duration", F_DURATION},
    {"email", F_EMAIL},
    {"idn-email", F_IDN_EMAIL},
    {"hostname", F_HOSTNAME},
    {"ipv4", F_IPV4},
    {"ipv6", F_IPV6},
    {"uri", F_URI},
    {"uri-reference", F_URI_REF},
    {"iri", F_IRI},
    {"iri-reference", F_IRI_REF},
    {"uuid", F_UUID},
    {"json-pointer", F_JSON_POINTER},
    {"relative-json-pointer", F_REL_JSON_POINTER},
    {"regex", F_REGEX},
    {"uri-template", F_URI_TEMPLATE},
};

int agc__sch_format_id(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(name, formats[i].name) == 0)
            return formats[i].id;
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* n digits at s as a number, or -1 */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ---- dates and times (RFC 3339) ----------------------------------------------------------- */

static bool check_date(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1)
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

static bool check_time(const char *s, size_t len)
{
    if (len < 9 || s[2] != ':' || s[5] != ':')
        return false;
    int h = digits(s, 2), m = digits(s + 3, 2), sec = digits(s + 6, 2);
    if (h < 0 || m < 0 || sec < 0 || h > 23 || m > 59 || sec > 60)
        return false;
    size_t i = 8;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (i >= len)
        return false;
    int off = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i != 6 || s[i + 3] != ':')
            return false;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return false;
        off = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    if (sec == 60) {
        int utc = ((h * 60 + m - off) % 1440 + 1440) % 1440;
        return utc == 23 * 60 + 59;
    }
    return true;
}

static bool check_date_time(const char *s, size_t len)
{
    if (len < 11 || (s[10] != 'T' && s[10] != 't'))
        return false;
    return check_date(s, 10) && check_time(s + 11, len - 11);
}

/* RFC 3339 appendix A: P(date [T time] | T time | nW), units in order without gaps. */
static bool check_duration(const char *s, size_t len)
{
    if (len < 2 || s[0] != 'P')
        return false;
    static const char date_units[] = "YMD", time_units[] = "HMS";
    size_t i = 1;
    int last = -1; /* index of the last unit in the current section */
    bool any = false, in_time = false, week = false;
    while (i < len) {
        if (s[i] == 'T') {
            if (in_time || week)
                return false;
            in_time = true;
            last = -1;
            i++;
            if (i == len)
                return false;
            continue;
        }
        size_t start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start || i == len)
            return false;
        char u = s[i++];
        if (u == 'W') {
            if (any || in_time)
                return false;
            week = true;
            any = true;
            continue;
        }
        if (week)
            return false;
        const char *units = in_time ? time_units : date_units;
        const char *p = strchr(units, u);
        if (!p || !u)
            return false;
        int idx = (int)(p - units);
        if (last >= 0 && idx != last + 1)
            return false;
        last = idx;
        any = true;
    }
    return any && !(in_time && last < 0);
}

/* ---- internet names and addresses ----------------------------------------------------------- */

static bool check_ipv4(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        int v = 0;
        while (i < len && is_digit(s[i]) && i - start < 3)
            v = v * 10 + (s[i++] - '0');
        size_t n = i - start;
        if (n == 0 || v > 255 || (n > 1 && s[start] == '0'))
            return false;
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == len;
}

static bool check_ipv6(const char *s, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
            return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* an embedded IPv4 part must itself be a valid dotted quad */
    const char *dot = strchr(buf, '.');
    if (dot) {
        const char *start = strrchr(buf, ':');
        if (!start || start > dot || !check_ipv4(start + 1, strlen(start + 1)))
            return false;
    }
    unsigned char out[16];
    return inet_pton(AF_INET6, buf, out) == 1;
}

static bool check_hostname(const char *s, size_t len, bool idn)
{
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (label == 0 || label > 63)
                return false;
            if (s[i - 1] == '-' || s[i - label] == '-')
                return false;
            /* "--" in positions 3-4 is reserved for A-labels (xn--) */
            if (label >= 4 && s[i - label + 2] == '-' && s[i - label + 3] == '-' &&
                !((s[i - label] == 'x' || s[i - label] == 'X') &&
                  (s[i - label + 1] == 'n' || s[i - label + 1] == 'N')))
                return false;
            label = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!(is_alpha((char)c) || is_digit((char)c) || c == '-' || (idn && c >= 0x80)))
            return false;
        label++;
    }
    return true;
}

static bool check_email(const char *s, size_t len, bool idn)
{
    const char *at = NULL;
    size_t i = 0;
    if (len > 0 && s[0] == '"') {
        for (i = 1; i < len && s[i] != '"'; i++)
            if (s[i] == '\\')
                i++;
        if (i >= len || i + 1 >= len || s[i + 1] != '@')
            return false;
        at = s + i + 1;
    } else {
        static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
        for (i = 0; i < len && s[i] != '@'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '.') {
                if (i == 0 || s[i - 1] == '.' || i + 1 >= len || s[i + 1] == '@')
                    return false;
            } else if (!(is_alpha((char)c) || is_digit((char)c) || strchr(atext, c) ||
                         (idn && c >= 0x80)) ||
                       c == 0) {
                return false;
            }
        }
        if (i == 0 || i >= len)
            return false;
        at = s + i;
    }
    const char *d = at + 1;
    size_t dl = len - (size_t)(d - s);
    if (dl >= 2 && d[0] == '[' && d[dl - 1] == ']') {
        if (dl > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
            return check_ipv6(d + 6, dl - 7);
        return check_ipv4(d + 1, dl - 2);
    }
    return check_hostname(d, dl, idn);
}

/* ---- URIs (RFC 3986, RFC 3987 when iri)
 * ------------------------------------------------------------- */

static bool uri_char(const char *s, size_t *i, size_t len, const char *extra, bool iri)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '%') {
        if (*i + 2 >= len + 0 || !is_hex(s[*i + 1]) || !is_hex(s[*i + 2]))
            return false;
        *i += 3;
        return true;
    }
    static const char ok[] = "-._~!$&'()*+,;=";
    if (is_alpha((char)c) || is_digit((char)c) || (c && strchr(ok, c)) || (c && strchr(extra, c)) ||
        (iri && c >= 0x80)) {
        (*i)++;
        return true;
    }
    return false;
}

static bool check_uri(const char *s, size_t len, bool need_scheme, bool iri)
{
    size_t i = 0;
    if (is_alpha(s[0])) {
        size_t k = 1;
        while (k < len &&
               (is_alpha(s[k]) || is_digit(s[k]) || s[k] == '+' || s[k] == '-' || s[k] == '.'))
            k++;
        if (k < len && s[k] == ':')
            i = k + 1;
    }
    if (need_scheme && i == 0)
        return false;
    bool has_scheme = i > 0;
    if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        i += 2;
        size_t end = i;
        while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
            end++;
        const char *atp = memchr(s + i, '@', end - i);
        if (atp) {
            while (i < (size_t)(atp - s))
                if (!uri_char(s, &i, len, ":", iri))
                    return false;
            i++;
        }
        if (i < end && s[i] == '[') {
            const char *close = memchr(s + i, ']', end - i);
            if (!close)
                return false;
            size_t hl = (size_t)(close - s) - i - 1;
            if (!(hl > 0 && (s[i + 1] == 'v' || s[i + 1] == 'V')) && !check_ipv6(s + i + 1, hl))
                return false;
            i = (size_t)(close - s) + 1;
        } else {
            while (i < end && s[i] != ':')
                if (!uri_char(s, &i, len, "", iri))
                    return false;
        }
        if (i < end && s[i] == ':') {
            for (i++; i < end; i++)
                if (!is_digit(s[i]))
                    return false;
        }
        if (i != end)
            return false;
    }
    bool first_seg = true;
    while (i < len && s[i] != '?' && s[i] != '#') {
        if (s[i] == '/') {
            first_seg = false;
            i++;
            continue;
        }
        if (s[i] == ':' && first_seg && !has_scheme)
            return false;
        if (!uri_char(s, &i, len, ":@", iri))
            return false;
    }
    if (i < len && s[i] == '?') {
        for (i++; i < len && s[i] != '#';)
            if (!uri_char(s, &i, len, ":@/?", iri))
                return false;
    }
    if (i < len && s[i] == '#') {
        for (i++; i < len;)
            if (!uri_char(s, &i, len, ":@/?", iri))
                return false;
    }
    return i == len;
}

/* ---- the rest
 * ------------------------------------------------------------------------------------------ */

static bool check_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

static bool check_json_pointer(const char *s, size_t len)
{
    if (len > 0 && s[0] != '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
            return false;
    return true;
}

static bool check_rel_json_pointer(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_digit(s[i]))
        i++;
    if (i == 0 || (i > 1 && s[0] == '0'))
        return false;
    if (i == len)
        return true;
    if (s[i] == '#')
        return i + 1 == len;
    return check_json_pointer(s + i, len - i);
}

/* RFC 6570 varspec list: varname [":" 1-9999 | "*"] ("," varspec)* */
static bool check_varspecs(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && strchr("+#./;?&=,!@|", s[0]))
        i++;
    for (;;) {
        size_t start = i;
        bool dot_ok = false;
        while (i < n) {
            if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_') {
                dot_ok = true;
                i++;
            } else if (s[i] == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
                dot_ok = true;
                i += 3;
            } else if (s[i] == '.' && dot_ok && i + 1 < n && s[i + 1] != '.') {
                dot_ok = false;
                i++;
            } else {
                break;
            }
        }
        if (i == start || s[i - 1] == '.')
            return false;
        if (i < n && s[i] == ':') {
            size_t d = ++i;
            while (i < n && is_digit(s[i]))
                i++;
            if (i == d || i - d > 4 || s[d] == '0')
                return false;
        } else if (i < n && s[i] == '*') {
            i++;
        }
        if (i == n)
            return true;
        if (s[i] != ',')
            return false;
        i++;
    }
}

static bool check_uri_template(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '{') {
            const char *close = memchr(s + i + 1, '}', len - i - 1);
            if (!close || !check_varspecs(s + i + 1, (size_t)(close - s) - i - 1))
                return false;
            i = (size_t)(close - s);
        } else if (c <= 0x20 || c == 0x7f || c == '}' || strchr("\"<>\\^`|", c)) {
            return false;
        }
    }
    return true;
}

/* Rejects PCRE/Python syntax that ECMA-262 does not have: (?P, (?#, global (?i), \a. */
static bool ecma_only(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 1 < len && s[i + 1] == 'a')
                return false;
            i++;
            continue;
        }
        if (s[i] != '(' || i + 1 >= len || s[i + 1] != '?')
            continue;
        if (i + 2 < len && (s[i + 2] == 'P' || s[i + 2] == '#'))
            return false;
        size_t k = i + 2;
        while (k < len && (is_alpha(s[k]) || s[k] == '-'))
            k++;
        if (k > i + 2 && k < len && s[k] == ')')
            return false;
    }
    return true;
}

static int check_regex(const char *s, size_t len, pcre2_general_context *gctx, agc_ctx *ctx)
{
    if (memchr(s, '\0', len) || !ecma_only(s, len))
        return 0;
    char *pat = agc__sch_regex_translate(s, ctx);
    if (!pat)
        return -1;
    pcre2_compile_context *cc = pcre2_compile_context_create(gctx);
    if (!cc) {
        agc_free(ctx, pat);
        return -1;
    }
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX,
                                   &err, &off, cc);
    pcre2_compile_context_free(cc);
    agc_free(ctx, pat);
    if (!re)
        return err == PCRE2_ERROR_HEAP_FAILED ? -1 : 0;
    pcre2_code_free(re);
    return 1;
}

int agc__sch_format_check(int id, const char *s, size_t len, pcre2_general_context *gctx,
                          agc_ctx *ctx)
{
    switch (id) {
    case F_DATE_TIME:
        return check_date_time(s, len);
    case F_DATE:
        return check_date(s, len);
    case F_TIME:
        return check_time(s, len);
    case F_DURATION:
        return check_duration(s, len);
    case F_EMAIL:
        return check_email(s, len, false);
    case F_IDN_EMAIL:
        return check_email(s, len, true);
    case F_HOSTNAME:
        return check_hostname(s, len, false);
    case F_IPV4:
        return check_ipv4(s, len);
    case F_IPV6:
        return check_ipv6(s, len);
    case F_URI:
        return check_uri(s, len, true, false);
    case F_URI_REF:
        return check_uri(s, len, false, false);
    case F_IRI:
        return check_uri(s, len, true, true);
    case F_IRI_REF:
        return check_uri(s, len, false, true);
    case F_UUID:
        return check_uuid(s, len);
    case F_JSON_POINTER:
        return check_json_pointer(s, len);
    case F_REL_JSON_POINTER:
        return check_rel_json_pointer(s, len);
    case F_REGEX:
        return check_regex(s, len, gctx, ctx);
    case F_URI_TEMPLATE:
        return check_uri_template(s, len);
    default:
        return 1;
    }
}
