/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "strutil.h"

#include <ctype.h>
#include <string.h>

size_t count_words(const char *s)
{
    size_t n = 0;
    int in_word = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
        }
    }
    return n;
}

char *reverse(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len / 2; i++) {
        char t = s[i];
        s[i] = s[len - 1 - i];
        s[len - 1 - i] = t;
    }
    return s;
}
