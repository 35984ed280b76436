/* Helpers the file system calls share: the calling process's tables, names
 * copied from application memory, and *at() starting points. */
#pragma once

#include "arch/uaccess.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "fs/namei.h"
#include "fs/syscalls.h"
#include "fs/vfs.h"
#include "lib/errno.h"

/* Largest single read or write, as Linux (INT_MAX rounded down to a page). */
#define MAX_RW_COUNT 0x7ffff000L

struct fd_table *cur_files(void);
struct fs_context *cur_fs(void);
/* The open file for fd with a reference, or NULL. */
struct file *cur_file(int fd);
/* Install f (a new reference) as the lowest free descriptor. */
int cur_fd_install(struct file *f, unsigned min, bool cloexec);

/* A name from application memory in a PATH_MAX buffer: 0, -EFAULT or
 * -ENAMETOOLONG. Free with putname. */
int getname(const char __user *u, char **out);
void putname(char *name);

/* Where a relative name given with dirfd starts: start->dentry NULL for the
 * working directory (AT_FDCWD, or an absolute name). -EBADF, -ENOTDIR. */
int at_start(int dirfd, const char *name, struct path *start);
/* Resolve (dirfd, name) with LOOKUP_* flags; an empty name with
 * LOOKUP_EMPTY names dirfd itself (which may be any file with a name). */
int at_lookup(int dirfd, const char *name, unsigned lflags, struct path *out);
/* The vnode (and mount) (dirfd, name) refers to: like at_lookup, but an
 * empty name with AT_EMPTY_PATH may also name an anonymous file (a pipe).
 * *ref holds what keeps the vnode alive; release with at_target_put. */
struct at_target {
    struct path path;
    struct file *file;
    struct vnode *vnode;
    struct mount *mnt;
    bool empty;               /* the name was "" */
};
int at_target_get(int dirfd, const char __user *uname, int atflags, bool follow_default,
                  struct at_target *t);
void at_target_put(struct at_target *t);

static inline const struct path *start_or_null(const struct path *start)
{
    return start->dentry ? start : NULL;
}
