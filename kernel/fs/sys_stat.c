/* stat and friends, statx, statfs, readlink, access. */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

static long stat_target(struct at_target *t, struct stat __user *buf)
{
    struct kstat k;
    struct stat st;
    int err = vfs_getattr(t->vnode, t->mnt, &k);
    if (err)
        return err;
    kstat_to_stat(&k, &st);
    return copy_to_user(buf, &st, sizeof(st)) ? -EFAULT : 0;
}

static long do_fstatat(int dirfd, const char __user *path, struct stat __user *buf, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return -EINVAL;
    struct at_target t;
    long err = at_target_get(dirfd, path, flags, true, &t);
    if (err)
        return err;
    err = stat_target(&t, buf);
    at_target_put(&t);
    return err;
}

long sys_newfstatat(int dirfd, const char __user *path, struct stat __user *buf, int flags)
{
    return do_fstatat(dirfd, path, buf, flags);
}

long sys_stat(const char __user *path, struct stat __user *buf)
{
    return do_fstatat(AT_FDCWD, path, buf, 0);
}

long sys_lstat(const char __user *path, struct stat __user *buf)
{
    return do_fstatat(AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW);
}

long sys_fstat(int fd, struct stat __user *buf)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    struct at_target t = { .file = f, .vnode = f->vnode, .mnt = f->path.mnt };
    long err = stat_target(&t, buf);
    vfs_file_put(f);
    return err;
}

long sys_statx(int dirfd, const char __user *path, int flags, unsigned mask, struct statx __user *buf)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED))
        return -EINVAL;
    struct at_target t;
    long err = at_target_get(dirfd, path, flags, true, &t);
    if (err)
        return err;
    struct kstat k;
    err = vfs_getattr(t.vnode, t.mnt, &k);
    at_target_put(&t);
    if (err)
        return err;
    struct statx sx;
    kstat_to_statx(&k, mask, &sx);
    return copy_to_user(buf, &sx, sizeof(sx)) ? -EFAULT : 0;
}

static long statfs_out(const struct path *p, struct statfs __user *buf)
{
    struct statfs st;
    int err = vfs_statfs(p, &st);
    if (err)
        return err;
    return copy_to_user(buf, &st, sizeof(st)) ? -EFAULT : 0;
}

long sys_statfs(const char __user *path, struct statfs __user *buf)
{
    struct at_target t;
    long err = at_target_get(AT_FDCWD, path, 0, true, &t);
    if (err)
        return err;
    err = statfs_out(&t.path, buf);
    at_target_put(&t);
    return err;
}

long sys_fstatfs(int fd, struct statfs __user *buf)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long err;
    if (f->path.mnt) {
        err = statfs_out(&f->path, buf);
    } else { /* pipes and sockets: their pseudo file system */
        struct statfs st = { .f_type = (int64_t)f->vnode->sb->magic, .f_bsize = 4096, .f_namelen = NAME_MAX,
                             .f_frsize = 4096, .f_flags = ST_VALID };
        err = copy_to_user(buf, &st, sizeof(st)) ? -EFAULT : 0;
    }
    vfs_file_put(f);
    return err;
}

long sys_readlinkat(int dirfd, const char __user *path, char __user *buf, int bufsiz)
{
    if (bufsiz <= 0)
        return -EINVAL;
    struct at_target t;
    long err = at_target_get(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, false, &t);
    if (err)
        return err;
    char *tmp = kmalloc(PATH_MAX);
    ssize_t n = -ENOMEM;
    if (tmp && !S_ISLNK(t.vnode->mode))
        n = t.empty ? -ENOENT : -EINVAL;
    else if (tmp)
        n = t.vnode->ops && t.vnode->ops->readlink ? t.vnode->ops->readlink(t.vnode, tmp, PATH_MAX) : -EINVAL;
    at_target_put(&t);
    if (n > 0) {
        n = MIN(n, (ssize_t)bufsiz);
        if (copy_to_user(buf, tmp, (size_t)n))
            n = -EFAULT;
    }
    kfree(tmp);
    return n;
}

long sys_readlink(const char __user *path, char __user *buf, int bufsiz)
{
    return sys_readlinkat(AT_FDCWD, path, buf, bufsiz);
}

/* We run as root: only read-only mounts and missing execute bits say no. */
static long do_access(int dirfd, const char __user *path, int mode, int flags)
{
    if (mode & ~(R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct at_target t;
    long err = at_target_get(dirfd, path, flags & ~AT_EACCESS, true, &t);
    if (err)
        return err;
    struct vnode *v = t.vnode;
    if ((mode & W_OK) && (S_ISREG(v->mode) || S_ISDIR(v->mode) || S_ISLNK(v->mode)) &&
        t.mnt && ((t.mnt->flags & MS_RDONLY) || (t.mnt->sb->flags & MS_RDONLY)))
        err = -EROFS;
    else if ((mode & X_OK) && !S_ISDIR(v->mode) && !(v->mode & 0111))
        err = -EACCES;
    at_target_put(&t);
    return err;
}

long sys_access(const char __user *path, int mode)
{
    return do_access(AT_FDCWD, path, mode, 0);
}

long sys_faccessat(int dirfd, const char __user *path, int mode)
{
    return do_access(dirfd, path, mode, 0);
}

long sys_faccessat2(int dirfd, const char __user *path, int mode, int flags)
{
    return do_access(dirfd, path, mode, flags);
}
