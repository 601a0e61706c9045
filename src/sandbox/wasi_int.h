/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WASI preview1 constants and guest-memory helpers shared by wasi.c and
 * wasi_fs.c. Values are from the preview1 witx (wasi_snapshot_preview1);
 * guest memory is little-endian, as is every host wasm2c supports.
 */
#ifndef AGC_SANDBOX_WASI_INT_H
#define AGC_SANDBOX_WASI_INT_H

#include <string.h>

#include "sandbox_int.h"

enum {
    W_SUCCESS = 0,
    W_2BIG = 1,
    W_ACCES = 2,
    W_AGAIN = 6,
    W_BADF = 8,
    W_BUSY = 10,
    W_EXIST = 20,
    W_FAULT = 21,
    W_FBIG = 22,
    W_ILSEQ = 25,
    W_INTR = 27,
    W_INVAL = 28,
    W_IO = 29,
    W_ISDIR = 31,
    W_LOOP = 32,
    W_MFILE = 33,
    W_NAMETOOLONG = 37,
    W_NFILE = 41,
    W_NOBUFS = 42,
    W_NOENT = 44,
    W_NOMEM = 48,
    W_NOSPC = 51,
    W_NOSYS = 52,
    W_NOTDIR = 54,
    W_NOTEMPTY = 55,
    W_NOTSUP = 58,
    W_NOTTY = 59,
    W_OVERFLOW = 61,
    W_PERM = 63,
    W_PIPE = 64,
    W_ROFS = 66,
    W_SPIPE = 67,
    W_XDEV = 72,
    W_NOTCAPABLE = 76
};

enum {
    W_FT_UNKNOWN = 0,
    W_FT_BLOCK = 1,
    W_FT_CHAR = 2,
    W_FT_DIR = 3,
    W_FT_REG = 4,
    W_FT_SOCK_STREAM = 6,
    W_FT_SYMLINK = 7
};

#define W_RIGHT_FD_READ  (1ull << 1)
#define W_RIGHT_FD_WRITE (1ull << 6)
#define W_RIGHTS_ALL     0x1FFFFFFFull

static inline void put_u8(uint8_t *p, uint8_t v)
{
    *p = v;
}
static inline void put_u16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}
static inline void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}
static inline uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The fd's slot or NULL when fd is not open. */
agc__wasi_fd *agc__wasi_get(agc_wasm_instance *in, uint64_t fd);
/* Writes a u32/u64 result at guest address addr; false when out of bounds. */
bool agc__wasi_ret32(agc_wasm_instance *in, uint64_t addr, uint32_t v);
bool agc__wasi_ret64(agc_wasm_instance *in, uint64_t addr, uint64_t v);
/* Maps a host file type (st_mode) to a WASI filetype. */
uint8_t agc__wasi_filetype(unsigned mode);

#endif
