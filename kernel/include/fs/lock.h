/* Advisory file locks: POSIX record locks (owned by the process), OFD locks
 * (owned by the open file) and flock locks (owned by the open file, a class
 * of their own). Locks of one owner never conflict with each other. */
#pragma once

#include "lib/types.h"

struct file;

enum { VFS_LOCK_POSIX, VFS_LOCK_OFD, VFS_LOCK_FLOCK };

/* A byte range [start, end] (end UINT64_MAX: to the end of the file). */
struct vfs_lock_req {
    int type;           /* F_RDLCK, F_WRLCK, F_UNLCK */
    uint64_t start, end;
    int pid;            /* reported by F_GETLK; -1 for OFD locks */
};

/* F_GETLK: req becomes the first lock that would conflict, or type F_UNLCK. */
int vfs_lock_test(struct file *f, int kind, void *owner, struct vfs_lock_req *req);
/* F_SETLK(W), flock: -EAGAIN on a conflict unless wait. */
int vfs_lock_set(struct file *f, int kind, void *owner, const struct vfs_lock_req *req, bool wait);
