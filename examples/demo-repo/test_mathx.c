/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Tests for mathx: prints each failure, exits 1 if any. */
#include <stdio.h>

#include "mathx.h"

static int failures;

static void check_long(const char *what, long got, long want)
{
    if (got != want) {
        printf("FAIL %s: got %ld, want %ld\n", what, got, want);
        failures++;
    }
}

int main(void)
{
    check_long("sum_to(0)", sum_to(0), 0);
    check_long("sum_to(1)", sum_to(1), 1);
    check_long("sum_to(4)", sum_to(4), 10);
    check_long("count_char(\"banana\", 'a')", count_char("banana", 'a'), 3);
    check_long("count_char(\"\", 'a')", count_char("", 'a'), 0);
    if (failures) {
        printf("%d test(s) failed\n", failures);
        return 1;
    }
    printf("all tests passed\n");
    return 0;
}
