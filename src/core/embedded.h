/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Files compiled into the library at build time (schemas/ and data/ JSON files;
 * see cmake/embed.cmake), so that the binary never depends on an install path.
 */
#ifndef AGC_CORE_EMBEDDED_H
#define AGC_CORE_EMBEDDED_H

#include <stddef.h>

/* The file's bytes (NUL-terminated) and size, or NULL when no such file was embedded. */
const char *agc__embedded_find(const char *name, size_t *size_out);

#endif
