/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include "strutil.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: error: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void test_count_words(void)
{
    CHECK(count_words("") == 0);
    CHECK(count_words("one") == 1);
    CHECK(count_words("  two words ") == 2);
}

static void test_reverse(void)
{
    char s[] = "abc";
    CHECK(strcmp(reverse(s), "cba") == 0);
}

int main(void)
{
    test_count_words();
    test_reverse();
    if (failures) {
        printf("FAIL: %d check(s) failed\n", failures);
        return 1;
    }
    printf("all tests passed\n");
    return 0;
}
