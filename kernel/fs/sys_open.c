/* open, openat, openat2, creat, close, close_range. */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

static long do_open(int dirfd, const char __user *uname, unsigned flags, uint32_t mode)
{
    char *name;
    int err = getname(uname, &name);
    if (err)
        return err;
    struct path start;
    err = at_start(dirfd, name, &start);
    struct file *f = NULL;
    if (!err)
        err = vfs_openat(cur_fs(), start_or_null(&start), name, flags | O_LARGEFILE, mode, &f);
    path_put(&start);
    putname(name);
    if (err)
        return err;
    int fd = cur_fd_install(f, 0, flags & O_CLOEXEC);
    vfs_file_put(f);
    return fd;
}

long sys_openat(int dirfd, const char __user *path, int flags, uint32_t mode)
{
    return do_open(dirfd, path, (unsigned)flags, mode);
}

long sys_open(const char __user *path, int flags, uint32_t mode)
{
    return do_open(AT_FDCWD, path, (unsigned)flags, mode);
}

long sys_creat(const char __user *path, uint32_t mode)
{
    return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

struct open_how {
    uint64_t flags, mode, resolve;
};

#define OPEN_FLAGS_KNOWN (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | \
                          O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |   \
                          O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE)

/* openat2 is strict where openat is lenient: unknown bits are errors. */
long sys_openat2(int dirfd, const char __user *path, const void __user *uhow, size_t size)
{
    struct open_how how = { 0 };
    if (size < sizeof(how))
        return -EINVAL;
    if (size > 4096)
        return -E2BIG;
    if (copy_from_user(&how, uhow, sizeof(how)))
        return -EFAULT;
    for (size_t off = sizeof(how); off < size; off++) { /* a newer struct: the rest must be zero */
        uint8_t c;
        if (copy_from_user(&c, (const char __user *)uhow + off, 1))
            return -EFAULT;
        if (c)
            return -E2BIG;
    }
    if (how.flags & ~(uint64_t)OPEN_FLAGS_KNOWN)
        return -EINVAL;
    if (how.mode & ~(uint64_t)S_IALLUGO || (how.mode && !(how.flags & O_CREAT)))
        return -EINVAL;
    if (how.resolve)
        return -EINVAL; /* RESOLVE_* are not supported */
    return do_open(dirfd, path, (unsigned)how.flags, (uint32_t)how.mode);
}

long sys_close(int fd)
{
    struct fd_table *t = cur_files();
    return t ? fd_close(t, fd) : -EBADF;
}

long sys_close_range(unsigned first, unsigned last, unsigned flags)
{
    struct fd_table *t = cur_files();
    if (!t)
        return -EBADF;
    /* one table per process already: CLOSE_RANGE_UNSHARE needs no copy */
    return fd_close_range(t, first, last, flags);
}
