/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Small string helpers (the agentc code demo). */
#ifndef STRUTIL_H
#define STRUTIL_H

#include <stddef.h>

/* Number of words (runs of non-space characters) in s. */
size_t count_words(const char *s);

/* Reverses s in place and returns it. */
char *reverse(char *s);

#endif
