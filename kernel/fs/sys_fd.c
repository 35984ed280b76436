/* Descriptor operations: dup family, fcntl (flags, locks), ioctl's generic
 * commands, flock, the sync calls, fadvise64, readahead. */
#include "core/proc.h"
#include "fs/lock.h"
#include "lib/string.h"
#include "sys_internal.h"

long sys_dup(int fd)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = cur_fd_install(f, 0, false);
    vfs_file_put(f);
    return r;
}

long sys_dup3(int oldfd, int newfd, int flags)
{
    struct fd_table *t = cur_files();
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (oldfd == newfd)
        return -EINVAL;
    return t ? fd_dup_to(t, oldfd, newfd, flags & O_CLOEXEC) : -EBADF;
}

long sys_dup2(int oldfd, int newfd)
{
    if (oldfd == newfd) {
        struct file *f = cur_file(oldfd);
        vfs_file_put(f);
        return f ? newfd : -EBADF;
    }
    struct fd_table *t = cur_files();
    return t ? fd_dup_to(t, oldfd, newfd, false) : -EBADF;
}

static int current_pid(void)
{
    struct proc *p = proc_current();
    return p ? p->pid : 1;
}

/* struct flock to a byte range, relative to whence. */
static long flock_range(struct file *f, const struct flock *fl, struct vfs_lock_req *r)
{
    int64_t base;
    switch (fl->l_whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: base = (int64_t)f->vnode->size; break;
    default: return -EINVAL;
    }
    int64_t start, end;
    if (__builtin_add_overflow(base, fl->l_start, &start))
        return -EOVERFLOW;
    if (fl->l_len > 0) {
        if (__builtin_add_overflow(start, fl->l_len - 1, &end))
            return -EOVERFLOW;
    } else if (fl->l_len < 0) { /* the bytes before start */
        end = start - 1;
        start += fl->l_len;
    } else {
        end = INT64_MAX;
    }
    if (start < 0)
        return -EINVAL;
    r->start = (uint64_t)start;
    r->end = end == INT64_MAX ? UINT64_MAX : (uint64_t)end;
    return 0;
}

static long fcntl_lock(struct file *f, int cmd, struct flock __user *ufl)
{
    struct flock fl;
    if (copy_from_user(&fl, ufl, sizeof(fl)))
        return -EFAULT;
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    if (ofd && fl.l_pid != 0)
        return -EINVAL;
    if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
        return -EINVAL;
    struct vfs_lock_req r = { .type = fl.l_type, .pid = ofd ? -1 : current_pid() };
    long err = flock_range(f, &fl, &r);
    if (err)
        return err;
    int kind = ofd ? VFS_LOCK_OFD : VFS_LOCK_POSIX;
    void *owner = ofd ? (void *)f : (void *)cur_files();
    if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
        if (fl.l_type == F_UNLCK)
            return -EINVAL;
        vfs_lock_test(f, kind, owner, &r);
        fl.l_type = (int16_t)r.type;
        if (r.type != F_UNLCK) {
            fl.l_whence = SEEK_SET;
            fl.l_start = (int64_t)r.start;
            fl.l_len = r.end == UINT64_MAX ? 0 : (int64_t)(r.end - r.start + 1);
            fl.l_pid = r.pid;
        }
        return copy_to_user(ufl, &fl, sizeof(fl)) ? -EFAULT : 0;
    }
    if ((fl.l_type == F_RDLCK && !(f->fmode & FMODE_READ)) || (fl.l_type == F_WRLCK && !(f->fmode & FMODE_WRITE)))
        return -EBADF;
    return vfs_lock_set(f, kind, owner, &r, cmd == F_SETLKW || cmd == F_OFD_SETLKW);
}

static long fcntl_setfl(struct file *f, unsigned long arg)
{
    unsigned want = (unsigned)arg & O_SETFL_MASK;
    unsigned old = __atomic_load_n(&f->flags, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&f->flags, &old, (old & ~(unsigned)O_SETFL_MASK) | want, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return 0;
}

static long do_fcntl(int fd, struct file *f, int cmd, unsigned long arg)
{
    struct fd_table *t = cur_files();
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (arg >= FD_HARD_LIMIT || arg >= READ_ONCE(t->limit))
            return -EINVAL;
        return cur_fd_install(f, (unsigned)arg, cmd == F_DUPFD_CLOEXEC);
    case F_GETFD:
        return fd_get_cloexec(t, fd);
    case F_SETFD:
        return fd_set_cloexec(t, fd, arg & FD_CLOEXEC);
    case F_GETFL:
        return f->flags | O_LARGEFILE;
    case F_SETFL:
        return fcntl_setfl(f, arg);
    case F_GETLK: case F_SETLK: case F_SETLKW:
    case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
        return (f->fmode & FMODE_PATH) ? -EBADF : fcntl_lock(f, cmd, (struct flock __user *)arg);
    case F_GETOWN:
    case F_SETOWN:
    case F_SETSIG:
        return 0; /* no SIGIO delivery; the owner reads back as none */
    case F_GETSIG:
        return 0;
    case F_GETLEASE:
        return F_UNLCK;
    default:
        if (f->ops && f->ops->fcntl)
            return f->ops->fcntl(f, cmd, arg);
        return cmd == F_GETPIPE_SZ || cmd == F_SETPIPE_SZ ? -EBADF : -EINVAL;
    }
}

long sys_fcntl(int fd, int cmd, unsigned long arg)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = do_fcntl(fd, f, cmd, arg);
    vfs_file_put(f);
    return r;
}

static long ioctl_generic(int fd, struct file *f, unsigned cmd, unsigned long arg, bool *handled)
{
    *handled = true;
    uint32_t v;
    switch (cmd) {
    case FIOCLEX:
    case FIONCLEX:
        return fd_set_cloexec(cur_files(), fd, cmd == FIOCLEX);
    case FIONBIO:
    case FIOASYNC: {
        if (get_user_u32(&v, (void __user *)arg))
            return -EFAULT;
        unsigned bit = cmd == FIONBIO ? O_NONBLOCK : O_ASYNC;
        return fcntl_setfl(f, v ? (f->flags | bit) : (f->flags & ~bit));
    }
    case FIONREAD:
        if (S_ISREG(f->vnode->mode)) { /* what is left before the end */
            uint64_t size = f->vnode->size;
            return put_user_u32((void __user *)arg, (uint32_t)(size > f->pos ? MIN(size - f->pos, (uint64_t)INT32_MAX) : 0));
        }
        break;
    }
    *handled = false;
    return 0;
}

long sys_ioctl(int fd, unsigned cmd, unsigned long arg)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    bool handled;
    long r = (f->fmode & FMODE_PATH) ? -EBADF : ioctl_generic(fd, f, cmd, arg, &handled);
    if (!(f->fmode & FMODE_PATH) && !handled)
        r = vfs_ioctl(f, cmd, arg);
    vfs_file_put(f);
    return r;
}

long sys_flock(int fd, unsigned op)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    unsigned kind = op & ~(unsigned)LOCK_NB;
    long err = 0;
    if (f->fmode & FMODE_PATH)
        err = -EBADF;
    else if (kind != LOCK_SH && kind != LOCK_EX && kind != LOCK_UN)
        err = -EINVAL;
    if (!err) {
        struct vfs_lock_req r = { kind == LOCK_SH ? F_RDLCK : kind == LOCK_EX ? F_WRLCK : F_UNLCK, 0, UINT64_MAX, -1 };
        err = vfs_lock_set(f, VFS_LOCK_FLOCK, f, &r, !(op & LOCK_NB)); /* EWOULDBLOCK is EAGAIN */
    }
    vfs_file_put(f);
    return err;
}

static long fsync_fd(int fd, bool datasync)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = vfs_fsync(f, datasync);
    vfs_file_put(f);
    return r;
}

long sys_fsync(int fd)
{
    return fsync_fd(fd, false);
}

long sys_fdatasync(int fd)
{
    return fsync_fd(fd, true);
}

long sys_sync(void)
{
    return 0; /* every file system here lives in memory; ext4 will hook in */
}

long sys_syncfs(int fd)
{
    struct file *f = cur_file(fd);
    vfs_file_put(f);
    return f ? 0 : -EBADF;
}

long sys_fadvise64(int fd, int64_t offset, int64_t len, int advice)
{
    (void)offset;
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = 0;
    if (f->ops && (f->ops->flags & FOPS_STREAM))
        r = -ESPIPE;
    else if (advice < 0 || advice > 5 || len < 0)
        r = -EINVAL;
    vfs_file_put(f);
    return r; /* advice only: the page cache is the file */
}

long sys_readahead(int fd, int64_t offset, size_t count)
{
    (void)offset, (void)count;
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = S_ISREG(f->vnode->mode) && (f->fmode & FMODE_READ) ? 0 : -EINVAL;
    vfs_file_put(f);
    return r;
}

long sys_name_to_handle_at(int dirfd, const char __user *path, void __user *handle, int __user *mnt_id, int flags)
{
    (void)dirfd, (void)path, (void)handle, (void)mnt_id, (void)flags;
    return -EOPNOTSUPP;
}
