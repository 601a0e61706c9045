/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Run-time loading of the net module's heavy libraries (libcurl,
 * libmicrohttpd): dlopen by soname, dlsym into a table of function pointers,
 * version comparison. Nothing here keeps state; the loaders (curl_api.c,
 * mhd_api.c) keep their one table each. It never dlcloses: see curl_api.c.
 */
#ifndef AGC_NET_DYNLIB_H
#define AGC_NET_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

/* One slot of a function table: the symbol name and the slot's offset. */
typedef struct agc_net__dlsym_slot {
    const char *name;
    size_t offset;
} agc_net__dlsym_slot;

/*
 * dlopen(soname) for good (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE). On failure
 * returns NULL and writes into err (errlen bytes) a message telling the user
 * which Debian package to install, with the loader's reason.
 */
void *agc_net__dlopen(const char *soname, const char *package, char *err, size_t errlen);

/*
 * Resolves every slot of slots[0..n) in lib, storing each function pointer
 * at (char *)table + offset. On a missing symbol returns false and writes
 * into err which symbol soname lacks (the library is too old).
 */
bool agc_net__dlsym_all(void *lib, const char *soname, const agc_net__dlsym_slot *slots, size_t n,
                        void *table, char *err, size_t errlen);

/* Compares dotted decimal versions ("0.9.75" vs "0.9.71"): <0, 0, >0.
 * Missing components count as 0; parsing stops at the first other character. */
int agc_net__version_cmp(const char *a, const char *b);

#endif
