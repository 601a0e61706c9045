/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* mathx: two tiny helpers for the agentc demo (one of them has a bug). */
#include "mathx.h"

long sum_to(int n)
{
    long total = 0;
    for (int i = 1; i < n; i++)
        total += i;
    return total;
}

int count_char(const char *s, char c)
{
    int count = 0;
    for (; *s; s++)
        if (*s == c)
            count++;
    return count;
}
