/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Landlock for the jail: ABI detection and, in the child, a ruleset that
 * handles every access right the running kernel knows (ABI 1-7) and grants
 * only the plan's paths (read-only or read-write), denies TCP bind/connect
 * when networking is off (ABI >= 4) and scopes abstract unix sockets and
 * signals to the jail (ABI >= 6). The constants are spelled out here because
 * Debian 12's <linux/landlock.h> stops at ABI 2. Runs without allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_int.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule       445
#define SYS_landlock_restrict_self  446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH      1
#define LL_RULE_NET_PORT          2

#define FS_EXECUTE     (1ULL << 0)
#define FS_WRITE_FILE  (1ULL << 1)
#define FS_READ_FILE   (1ULL << 2)
#define FS_READ_DIR    (1ULL << 3)
#define FS_REMOVE_DIR  (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR   (1ULL << 6)
#define FS_MAKE_DIR    (1ULL << 7)
#define FS_MAKE_REG    (1ULL << 8)
#define FS_MAKE_SOCK   (1ULL << 9)
#define FS_MAKE_FIFO   (1ULL << 10)
#define FS_MAKE_BLOCK  (1ULL << 11)
#define FS_MAKE_SYM    (1ULL << 12)
#define FS_REFER       (1ULL << 13) /* ABI 2 */
#define FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define FS_IOCTL_DEV   (1ULL << 15) /* ABI 5 */

#define NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */

#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL               (1ULL << 1) /* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6; older kernels get a prefix. */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

int agc__landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return v > 0 ? (int)v : 0;
}

int agc_jail_landlock_abi(void)
{
    return agc__landlock_abi();
}

static uint64_t fs_rights(int abi)
{
    uint64_t r = (FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
    if (abi >= 2)
        r |= FS_REFER;
    if (abi >= 3)
        r |= FS_TRUNCATE;
    if (abi >= 5)
        r |= FS_IOCTL_DEV;
    return r;
}

/* Rights that make sense on a non-directory. */
#define FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define RO_RIGHTS   (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)

int agc__landlock_apply(const agc__jail_plan *plan, int *bad_index)
{
    int abi = plan->landlock_abi;
    struct ll_ruleset_attr attr;
    memset(&attr, 0, sizeof attr);
    uint64_t handled = fs_rights(abi);
    attr.handled_access_fs = handled;
    size_t size = sizeof attr.handled_access_fs;
    if (abi >= 4) {
        size += sizeof attr.handled_access_net;
        if (plan->landlock_net)
            attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
    }
    if (abi >= 6) {
        size += sizeof attr.scoped;
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
    }
    *bad_index = -1;
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0)
        return errno;
    /* devices every program expects; granted in every jail */
    static const char *const dev_ro[] = {"/dev/urandom", "/dev/random", NULL};
    static const char *const dev_rw[] = {"/dev/null", "/dev/zero", "/dev/full", NULL};
    static const char *const tmp_rw[] = {"/tmp", NULL};
    int idx = 0;
    for (int pass = 0; pass < 5; pass++) {
        /* 0: devices ro, 1: devices rw, 2: private /tmp, 3: ro paths, 4: rw paths */
        bool rw = pass != 0 && pass != 3;
        const char *const *list = pass == 0   ? dev_ro
                                  : pass == 1 ? dev_rw
                                  : pass == 2 ? (plan->private_tmp ? tmp_rw : NULL)
                                  : pass == 3 ? plan->ll_ro
                                              : plan->ll_rw;
        for (size_t i = 0; list && list[i]; i++, idx += pass >= 3) {
            int fd = open(list[i], O_PATH | O_CLOEXEC);
            if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                    continue; /* missing paths are skipped, as documented */
                int e = errno;
                *bad_index = pass >= 3 ? idx : -1;
                close(rs);
                return e;
            }
            struct stat st;
            uint64_t allowed = rw ? handled : (RO_RIGHTS & handled);
            if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
                allowed &= FILE_RIGHTS;
            struct ll_path_beneath_attr pb = {allowed, fd};
            long rc = syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0);
            int e = errno;
            close(fd);
            if (rc != 0) {
                *bad_index = pass >= 3 ? idx : -1;
                close(rs);
                return e;
            }
        }
    }
    if (syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
        int e = errno;
        close(rs);
        return e;
    }
    close(rs);
    return 0;
}
