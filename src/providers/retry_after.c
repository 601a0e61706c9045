/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Retry-After (RFC 9110 section 10.2.3): delta-seconds or an HTTP-date in
 * any of the three formats a recipient must accept (IMF-fixdate, RFC 850,
 * asctime), turned into milliseconds from now. Parsed by hand, not with
 * strptime, so that the process locale cannot change the month names.
 * A date in the past gives 0; anything malformed gives -1.
 */
#include <string.h>

#include "agentc/sys/provider.h"

/* Longest wait reported (about 24 days); longer values are clamped to it. */
#define MAX_WAIT_MS 2147483647LL

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const days_short[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const days_long[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};

typedef struct cursor {
    const char *p;
    bool ok;
} cursor;

static void lit(cursor *c, const char *s)
{
    size_t n = strlen(s);
    if (c->ok && strncmp(c->p, s, n) == 0)
        c->p += n;
    else
        c->ok = false;
}

/* Exactly n digits (n > 0), or between 1 and -n digits when n < 0. */
static int digits(cursor *c, int n)
{
    int v = 0, count = 0, max = n < 0 ? -n : n;
    while (c->ok && count < max && c->p[0] >= '0' && c->p[0] <= '9') {
        v = v * 10 + (c->p[0] - '0');
        c->p++;
        count++;
    }
    if (count == 0 || (n > 0 && count != n))
        c->ok = false;
    return v;
}

static int month(cursor *c)
{
    for (int i = 0; c->ok && i < 12; i++)
        if (strncmp(c->p, months[i], 3) == 0) {
            c->p += 3;
            return i + 1;
        }
    c->ok = false;
    return 0;
}

/* Matches one of names; returns whether one matched (longest first is not needed: exact). */
static bool dayname(cursor *c, const char *const *names, char after)
{
    for (int i = 0; i < 7; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(c->p, names[i], n) == 0 && c->p[n] == after) {
            c->p += n + 1;
            return true;
        }
    }
    return false;
}

static void hms(cursor *c, int *h, int *m, int *s)
{
    *h = digits(c, 2);
    lit(c, ":");
    *m = digits(c, 2);
    lit(c, ":");
    *s = digits(c, 2);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int year_of(int64_t now_ms)
{
    int64_t days = now_ms / 86400000;
    int y = 1970;
    while (days_from_civil(y + 1, 1, 1) <= days)
        y++;
    return y;
}

/* Parses an HTTP-date into Unix milliseconds; false when malformed. */
static bool http_date(const char *s, int64_t now_ms, int64_t *out)
{
    cursor c = {s, true};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (dayname(&c, days_short, ',')) { /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        lit(&c, " ");
        d = digits(&c, 2);
        lit(&c, " ");
        mo = month(&c);
        lit(&c, " ");
        y = digits(&c, 4);
        lit(&c, " ");
        hms(&c, &h, &mi, &se);
        lit(&c, " GMT");
    } else if (dayname(&c, days_long, ',')) { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        lit(&c, " ");
        d = digits(&c, 2);
        lit(&c, "-");
        mo = month(&c);
        lit(&c, "-");
        int yy = digits(&c, 2);
        lit(&c, " ");
        hms(&c, &h, &mi, &se);
        lit(&c, " GMT");
        /* a two-digit year more than 50 years ahead is in the past century */
        int now_y = year_of(now_ms);
        y = now_y - now_y % 100 + yy;
        if (y > now_y + 50)
            y -= 100;
    } else if (dayname(&c, days_short, ' ')) { /* asctime: Sun Nov  6 08:49:37 1994 */
        mo = month(&c);
        lit(&c, " ");
        if (c.ok && c.p[0] == ' ')
            c.p++;
        d = digits(&c, -2);
        lit(&c, " ");
        hms(&c, &h, &mi, &se);
        lit(&c, " ");
        y = digits(&c, 4);
    } else {
        return false;
    }
    while (c.ok && (*c.p == ' ' || *c.p == '\t'))
        c.p++;
    if (!c.ok || *c.p || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL;
    return true;
}

long agc_parse_retry_after(const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value >= '0' && *value <= '9') {
        int64_t secs = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            if (secs <= MAX_WAIT_MS)
                secs = secs * 10 + (*p - '0');
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p)
            return -1;
        return secs > MAX_WAIT_MS / 1000 ? (long)MAX_WAIT_MS : (long)(secs * 1000);
    }
    int64_t when = 0;
    if (!http_date(value, now_ms, &when))
        return -1;
    int64_t d = when - now_ms;
    if (d < 0)
        return 0;
    return d > MAX_WAIT_MS ? (long)MAX_WAIT_MS : (long)d;
}
