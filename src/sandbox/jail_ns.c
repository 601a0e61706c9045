/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Child-side steps of the jail: uid/gid maps of a fresh user namespace,
 * private mounts (secret paths covered by empty read-only mounts, read-only
 * binds, a private /tmp, a /proc of the jail's pid namespace), rlimits,
 * capability drop, no_new_privs, Landlock and seccomp. Invariant: only raw
 * system calls on memory prepared by the parent (no malloc, no stdio), so
 * it is safe right after clone() of a multi-threaded process.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_int.h"

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int e = errno;
    close(fd);
    return w == (ssize_t)n ? 0 : (w < 0 ? e : EIO);
}

int agc__ns_write_maps(const agc__jail_plan *plan)
{
    int e = write_file("/proc/self/setgroups", "deny");
    if (e != 0 && e != ENOENT)
        return e;
    e = write_file("/proc/self/uid_map", plan->uid_map);
    if (e == 0)
        e = write_file("/proc/self/gid_map", plan->gid_map);
    return e;
}

/* The mount flags that a remount must keep (locked flags of host mounts). */
static unsigned long kept_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) != 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

static int bind_readonly(const char *path)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0)
        return errno;
    unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(path);
    if (mount(NULL, path, NULL, f, NULL) != 0)
        return errno;
    return 0;
}

/*
 * An empty mode-000 file on a detached tmpfs (new mount API: nothing of it
 * is visible in the tree), bound over each hidden non-directory.
 */
static int scratch_file(int *mnt_out)
{
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return errno;
    int e = 0;
    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) != 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "mode", "700", 0) != 0 ||
        fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
        e = errno;
    int mnt =
        e ? -1
          : fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (!e && mnt < 0)
        e = errno;
    close(fs);
    if (e)
        return e;
    int fd = openat(mnt, "empty", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        e = errno;
        close(mnt);
        return e;
    }
    close(fd);
    *mnt_out = mnt;
    return 0;
}

static int hide_file(int mnt, const char *path)
{
    int tree = open_tree(mnt, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        return errno;
    int rc = move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH);
    int e = errno;
    close(tree);
    if (rc != 0)
        return e;
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) != 0)
        return errno;
    return 0;
}

static int hide_all(const agc__jail_plan *plan, int *index)
{
    int mnt = -1, e = 0;
    for (int i = 0; plan->hide && plan->hide[i] && e == 0; i++) {
        struct stat st;
        *index = i;
        if (stat(plan->hide[i], &st) != 0) {
            if (errno != ENOENT && errno != ENOTDIR)
                e = errno;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (mount("agc-hidden", plan->hide[i], "tmpfs",
                      MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k") != 0)
                e = errno;
            continue;
        }
        if (mnt < 0)
            e = scratch_file(&mnt);
        if (e == 0)
            e = hide_file(mnt, plan->hide[i]);
    }
    if (mnt >= 0)
        close(mnt);
    if (e == 0)
        *index = -1;
    return e;
}

/* mkdir -p of path (absolute, < PATH_MAX) */
static int mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errno;
        buf[i] = c;
    }
    return 0;
}

#define MAX_TMP_KEEP 16

/*
 * An empty tmpfs on /tmp. Granted paths below /tmp (a workspace in a
 * temporary directory) are carried over: cloned (with their hide mounts)
 * before the tmpfs covers them and moved to the same path inside it.
 */
static int private_tmp(const agc__jail_plan *plan, int *index)
{
    int trees[MAX_TMP_KEEP];
    const char *where[MAX_TMP_KEEP];
    int n = 0, e = 0;
    for (int rw = 0; rw < 2; rw++) {
        const char *const *list = rw ? plan->ll_rw : plan->ll_ro;
        for (size_t i = 0; list && list[i] && n < MAX_TMP_KEEP; i++) {
            if (strncmp(list[i], "/tmp/", 5) != 0)
                continue;
            int t =
                open_tree(AT_FDCWD, list[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
            if (t < 0)
                continue; /* missing: nothing to carry */
            trees[n] = t;
            where[n++] = list[i];
        }
    }
    if (mount("agc-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=512m") != 0)
        e = errno;
    for (int i = 0; i < n; i++) {
        *index = i;
        if (e == 0)
            e = mkdirs(where[i]);
        if (e == 0 && move_mount(trees[i], "", AT_FDCWD, where[i], MOVE_MOUNT_F_EMPTY_PATH) != 0)
            e = errno;
        close(trees[i]);
    }
    if (e == 0)
        *index = -1;
    return e;
}

int agc__ns_mounts(const agc__jail_plan *plan, int *step, int *index)
{
    *index = -1;
    *step = AGC__JS_MOUNT_PRIVATE;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return errno;
    *step = AGC__JS_HIDE;
    int e = hide_all(plan, index);
    if (e != 0)
        return e;
    *step = AGC__JS_READONLY;
    for (int i = 0; plan->readonly && plan->readonly[i]; i++) {
        struct stat st;
        *index = i;
        if (stat(plan->readonly[i], &st) != 0)
            continue;
        e = bind_readonly(plan->readonly[i]);
        if (e != 0)
            return e;
    }
    *index = -1;
    *step = AGC__JS_TMP;
    if (plan->private_tmp) {
        e = private_tmp(plan, index);
        if (e != 0)
            return e;
    }
    *step = AGC__JS_PROC;
    if (plan->mount_proc &&
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        return errno;
    *step = AGC__JS_OK;
    return 0;
}

int agc__ns_cap_pids(const agc__jail_plan *plan)
{
    char text[24];
    unsigned long v = plan->pid_max, n = 0;
    char rev[24];
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof rev);
    for (unsigned long i = 0; i < n; i++)
        text[i] = rev[n - 1 - i];
    text[n] = '\0';
    return write_file("/proc/sys/kernel/pid_max", text);
}

int agc__ns_drop_caps(const agc__jail_plan *plan)
{
    for (int c = 0; c <= plan->cap_last; c++)
        prctl(PR_CAPBSET_DROP, c, 0, 0, 0); /* EPERM without CAP_SETPCAP: nothing to drop */
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) != 0)
        return errno;
    return 0;
}

int agc__ns_confine(const agc__jail_plan *plan, int *step, int *index)
{
    *index = -1;
    *step = AGC__JS_RLIMIT;
    for (int i = 0; i < plan->n_rlimits; i++) {
        struct rlimit cur, want = plan->rl_val[i];
        *index = i;
        if (getrlimit(plan->rl_res[i], &cur) == 0) { /* never try to raise a limit */
            if (cur.rlim_max != RLIM_INFINITY &&
                (want.rlim_max == RLIM_INFINITY || want.rlim_max > cur.rlim_max))
                want.rlim_max = cur.rlim_max;
            if (want.rlim_cur == RLIM_INFINITY || want.rlim_cur > want.rlim_max)
                want.rlim_cur = want.rlim_max;
        }
        if (setrlimit(plan->rl_res[i], &want) != 0)
            return errno;
    }
    *index = -1;
    *step = AGC__JS_CAPS;
    int e = agc__ns_drop_caps(plan);
    if (e != 0)
        return e;
    *step = AGC__JS_NNP;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return errno;
    if (plan->landlock_abi > 0) {
        *step = AGC__JS_LANDLOCK;
        e = agc__landlock_apply(plan, index);
        if (e != 0)
            return e;
        *index = -1;
    }
    *step = AGC__JS_SECCOMP;
    if (plan->prog.filter && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &plan->prog) != 0)
        return errno;
    *step = AGC__JS_OK;
    return 0;
}
