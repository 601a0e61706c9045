/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * dlopen/dlsym helpers for the lazily loaded libraries of the net module.
 * Invariant: a library opened here is never closed (RTLD_NODELETE, no
 * dlclose), so function pointers taken from it stay valid for the life of
 * the process. No caching: callers run these once (pthread_once).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dynlib.h"

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "dlsym results are stored as function pointers");

void *agc_net__dlopen(const char *soname, const char *package, char *err, size_t errlen)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s not found: install %s (apt-get install %s); the loader said: %s",
                 soname, package, package, why ? why : "(no reason given)");
    }
    return lib;
}

bool agc_net__dlsym_all(void *lib, const char *soname, const agc_net__dlsym_slot *slots, size_t n,
                        void *table, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        dlerror();
        void *sym = dlsym(lib, slots[i].name);
        if (!sym) {
            snprintf(err, errlen,
                     "%s lacks the function %s: the installed library is too old; upgrade it",
                     soname, slots[i].name);
            return false;
        }
        /* POSIX: a data pointer from dlsym converts to a function pointer */
        memcpy((char *)table + slots[i].offset, &sym, sizeof sym);
    }
    return true;
}

static unsigned long next_part(const char **s)
{
    unsigned long v = 0;
    while (**s >= '0' && **s <= '9') {
        if (v < 100000000UL)
            v = v * 10 + (unsigned long)(**s - '0');
        (*s)++;
    }
    if (**s == '.' && (*s)[1] >= '0' && (*s)[1] <= '9')
        (*s)++;
    return v;
}

int agc_net__version_cmp(const char *a, const char *b)
{
    for (;;) {
        bool more_a = *a >= '0' && *a <= '9', more_b = *b >= '0' && *b <= '9';
        if (!more_a && !more_b)
            return 0;
        unsigned long x = more_a ? next_part(&a) : 0, y = more_b ? next_part(&b) : 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
}
