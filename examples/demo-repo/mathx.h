/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* mathx: two tiny helpers for the agentc demo. */
#ifndef MATHX_H
#define MATHX_H

/* Sum of the integers from 1 to n inclusive (0 when n < 1). */
long sum_to(int n);
/* Number of characters c in s. */
int count_char(const char *s, char c);

#endif
