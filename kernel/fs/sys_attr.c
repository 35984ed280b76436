/* Attribute changes: chmod, chown (recorded: there is one user, root),
 * timestamps (utimensat, utimes, utime, futimesat), truncate, fallocate. */
#include "lib/string.h"
#include "sys_internal.h"

static long setattr_at(int dirfd, const char __user *path, int atflags, struct vattr *a)
{
    struct at_target t;
    long err = at_target_get(dirfd, path, atflags, true, &t);
    if (err)
        return err;
    err = vfs_setattr(t.vnode, t.mnt, a);
    at_target_put(&t);
    return err;
}

static long setattr_fd(int fd, struct vattr *a)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long err = (f->fmode & FMODE_PATH) ? -EBADF : vfs_setattr(f->vnode, f->path.mnt, a);
    vfs_file_put(f);
    return err;
}

long sys_fchmodat2(int dirfd, const char __user *path, uint32_t mode, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct vattr a = { .mask = VATTR_MODE, .mode = mode };
    struct at_target t;
    long err = at_target_get(dirfd, path, flags, true, &t);
    if (err)
        return err;
    err = S_ISLNK(t.vnode->mode) ? -EOPNOTSUPP : vfs_setattr(t.vnode, t.mnt, &a);
    at_target_put(&t);
    return err;
}

long sys_fchmodat(int dirfd, const char __user *path, uint32_t mode)
{
    return sys_fchmodat2(dirfd, path, mode, 0);
}

long sys_chmod(const char __user *path, uint32_t mode)
{
    return sys_fchmodat2(AT_FDCWD, path, mode, 0);
}

long sys_fchmod(int fd, uint32_t mode)
{
    struct vattr a = { .mask = VATTR_MODE, .mode = mode };
    return setattr_fd(fd, &a);
}

/* -1 leaves an id alone; a real change drops set-id bits of non-directories. */
static void chown_attr(struct vnode *v, uint32_t uid, uint32_t gid, struct vattr *a)
{
    *a = (struct vattr){ 0 };
    if (uid != (uint32_t)-1)
        a->mask |= VATTR_UID, a->uid = uid;
    if (gid != (uint32_t)-1)
        a->mask |= VATTR_GID, a->gid = gid;
    if (a->mask && !S_ISDIR(v->mode) && (v->mode & (S_ISUID | S_ISGID))) {
        uint32_t m = v->mode & ~S_ISUID;
        if (m & 0010) /* setgid without group execute means mandatory locking: kept */
            m &= ~S_ISGID;
        a->mask |= VATTR_MODE;
        a->mode = m;
    }
}

long sys_fchownat(int dirfd, const char __user *path, uint32_t uid, uint32_t gid, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct at_target t;
    long err = at_target_get(dirfd, path, flags, true, &t);
    if (err)
        return err;
    struct vattr a;
    chown_attr(t.vnode, uid, gid, &a);
    err = vfs_setattr(t.vnode, t.mnt, &a);
    at_target_put(&t);
    return err;
}

long sys_chown(const char __user *path, uint32_t uid, uint32_t gid)
{
    return sys_fchownat(AT_FDCWD, path, uid, gid, 0);
}

long sys_lchown(const char __user *path, uint32_t uid, uint32_t gid)
{
    return sys_fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

long sys_fchown(int fd, uint32_t uid, uint32_t gid)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    struct vattr a;
    chown_attr(f->vnode, uid, gid, &a);
    long err = (f->fmode & FMODE_PATH) ? -EBADF : vfs_setattr(f->vnode, f->path.mnt, &a);
    vfs_file_put(f);
    return err;
}

/* Two timespecs (NULL: both now) into a setattr request. */
static long times_attr(const struct timespec *ts, struct vattr *a)
{
    *a = (struct vattr){ 0 };
    struct timespec now = vfs_now();
    for (int i = 0; i < 2; i++) {
        struct timespec t = ts ? ts[i] : (struct timespec){ 0, UTIME_NOW };
        if (t.tv_nsec == UTIME_OMIT)
            continue;
        if (t.tv_nsec != UTIME_NOW && (t.tv_nsec < 0 || t.tv_nsec >= 1000000000))
            return -EINVAL;
        if (t.tv_nsec == UTIME_NOW)
            t = now;
        if (i == 0)
            a->mask |= VATTR_ATIME, a->atime = t;
        else
            a->mask |= VATTR_MTIME, a->mtime = t;
    }
    return 0;
}

static long utimes_common(int dirfd, const char __user *path, const struct timespec *ts, int flags)
{
    struct vattr a;
    long err = times_attr(ts, &a);
    if (err)
        return err;
    if (!a.mask) { /* both UTIME_OMIT: nothing changes, not even ctime */
        if (!path) {
            struct file *f = cur_file(dirfd);
            vfs_file_put(f);
            return f ? 0 : -EBADF;
        }
        struct at_target t;
        err = at_target_get(dirfd, path, flags, true, &t);
        if (!err)
            at_target_put(&t);
        return err;
    }
    if (!path) /* utimensat(fd, NULL, ...) is futimens */
        return setattr_fd(dirfd, &a);
    return setattr_at(dirfd, path, flags, &a);
}

long sys_utimensat(int dirfd, const char __user *path, const struct timespec __user *times, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct timespec ts[2];
    if (times && copy_from_user(ts, times, sizeof(ts)))
        return -EFAULT;
    return utimes_common(dirfd, path, times ? ts : NULL, flags);
}

static long timevals(const struct timeval __user *tv, struct timespec ts[2])
{
    struct timeval v[2];
    if (copy_from_user(v, tv, sizeof(v)))
        return -EFAULT;
    for (int i = 0; i < 2; i++) {
        if (v[i].tv_usec < 0 || v[i].tv_usec >= 1000000)
            return -EINVAL;
        ts[i] = (struct timespec){ v[i].tv_sec, v[i].tv_usec * 1000 };
    }
    return 0;
}

long sys_futimesat(int dirfd, const char __user *path, const struct timeval __user *times)
{
    struct timespec ts[2];
    if (times) {
        long err = timevals(times, ts);
        if (err)
            return err;
    }
    if (!path)
        return -EFAULT;
    return utimes_common(dirfd, path, times ? ts : NULL, 0);
}

long sys_utimes(const char __user *path, const struct timeval __user *times)
{
    return sys_futimesat(AT_FDCWD, path, times);
}

long sys_utime(const char __user *path, const struct utimbuf __user *times)
{
    struct timespec ts[2];
    if (times) {
        struct utimbuf b;
        if (copy_from_user(&b, times, sizeof(b)))
            return -EFAULT;
        ts[0] = (struct timespec){ b.actime, 0 };
        ts[1] = (struct timespec){ b.modtime, 0 };
    }
    if (!path)
        return -EFAULT;
    return utimes_common(AT_FDCWD, path, times ? ts : NULL, 0);
}

long sys_truncate(const char __user *path, int64_t length)
{
    if (length < 0)
        return -EINVAL;
    struct at_target t;
    long err = at_target_get(AT_FDCWD, path, 0, true, &t);
    if (err)
        return err;
    err = vfs_truncate_vnode(t.vnode, t.mnt, (uint64_t)length);
    at_target_put(&t);
    return err;
}

long sys_ftruncate(int fd, int64_t length)
{
    if (length < 0)
        return -EINVAL;
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long err;
    if (f->fmode & FMODE_PATH)
        err = -EBADF;
    else if (!(f->fmode & FMODE_WRITE) || !S_ISREG(f->vnode->mode))
        err = -EINVAL;
    else
        err = vfs_truncate_vnode(f->vnode, f->path.mnt, (uint64_t)length);
    vfs_file_put(f);
    return err;
}

long sys_fallocate(int fd, int mode, int64_t offset, int64_t len)
{
    if (offset < 0 || len <= 0)
        return -EINVAL;
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long err = vfs_fallocate(f, mode, (uint64_t)offset, (uint64_t)len);
    vfs_file_put(f);
    return err;
}
