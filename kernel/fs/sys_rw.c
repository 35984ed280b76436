/* read, write and their vectored and positioned forms; lseek. */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define IOV_STACK 8

static long rw_check(struct file *f, bool write)
{
    if (!f)
        return -EBADF;
    if (!(f->fmode & (write ? FMODE_WRITE : FMODE_READ)))
        return -EBADF;
    return 0;
}

/* One transfer at pos (NULL: the file's offset). */
static long do_rw(struct file *f, struct uio *u, bool write, int64_t pos, unsigned rwf)
{
    if (pos >= 0 && f->ops && (f->ops->flags & FOPS_STREAM))
        return -ESPIPE;
    if (pos < 0 && pos != -1)
        return -EINVAL;
    if (pos == -1) /* the file's own offset */
        return write ? vfs_write_at_pos(f, u) : vfs_read_at_pos(f, u);
    uint64_t p = (uint64_t)pos;
    if (write && (rwf & RWF_APPEND)) {
        unsigned saved = f->flags; /* RWF_APPEND: this one write appends */
        f->flags |= O_APPEND;
        long n = vfs_write(f, u, &p);
        f->flags = saved;
        return n;
    }
    return write ? vfs_write(f, u, &p) : vfs_read(f, u, &p);
}

static long rw_simple(int fd, void __user *buf, size_t count, bool write, int64_t pos)
{
    struct file *f = cur_file(fd);
    long err = rw_check(f, write);
    if (!err && !user_range_ok(buf, count))
        err = -EFAULT;
    if (!err) {
        struct uio u;
        uio_init_user(&u, buf, MIN(count, (size_t)MAX_RW_COUNT));
        err = do_rw(f, &u, write, pos, 0);
    }
    vfs_file_put(f);
    return err;
}

long sys_read(int fd, void __user *buf, size_t count)
{
    return rw_simple(fd, buf, count, false, -1);
}

long sys_write(int fd, const void __user *buf, size_t count)
{
    return rw_simple(fd, (void __user *)buf, count, true, -1);
}

long sys_pread64(int fd, void __user *buf, size_t count, int64_t pos)
{
    return pos < 0 ? -EINVAL : rw_simple(fd, buf, count, false, pos);
}

long sys_pwrite64(int fd, const void __user *buf, size_t count, int64_t pos)
{
    return pos < 0 ? -EINVAL : rw_simple(fd, (void __user *)buf, count, true, pos);
}

/* Copy and check an iovec array; *out is iov_stack or a kmalloc'd array. */
static long iov_import(const struct iovec __user *uiov, int cnt, struct iovec *iov_stack,
                       struct iovec **out, size_t *total)
{
    if (cnt < 0 || cnt > IOV_MAX)
        return -EINVAL;
    struct iovec *iov = cnt <= IOV_STACK ? iov_stack : kmalloc((size_t)cnt * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    long err = copy_from_user(iov, uiov, (size_t)cnt * sizeof(*iov)) ? -EFAULT : 0;
    size_t sum = 0;
    for (int i = 0; !err && i < cnt; i++) {
        if ((int64_t)iov[i].iov_len < 0)
            err = -EINVAL;
        else if (!user_range_ok(iov[i].iov_base, iov[i].iov_len))
            err = -EFAULT;
        else if (sum + iov[i].iov_len > (size_t)MAX_RW_COUNT) /* Linux shortens, never overflows */
            iov[i].iov_len = (size_t)MAX_RW_COUNT - sum;
        sum += err ? 0 : iov[i].iov_len;
    }
    if (err && iov != iov_stack)
        kfree(iov);
    *out = iov;
    *total = sum;
    return err;
}

static long rw_vector(int fd, const struct iovec __user *uiov, int cnt, bool write, int64_t pos, int rwf)
{
    if (rwf & ~RWF_SUPPORTED)
        return -EOPNOTSUPP;
    if (rwf & RWF_NOWAIT)
        return -EOPNOTSUPP; /* nothing here can promise not to block */
    struct file *f = cur_file(fd);
    long err = rw_check(f, write);
    struct iovec stack[IOV_STACK], *iov = NULL;
    size_t total;
    if (!err)
        err = iov_import(uiov, cnt, stack, &iov, &total);
    if (!err) {
        struct uio u;
        uio_init_iov(&u, iov, (unsigned)cnt, total, true);
        err = do_rw(f, &u, write, pos, (unsigned)rwf);
        if (iov != stack)
            kfree(iov);
    }
    vfs_file_put(f);
    return err;
}

long sys_readv(int fd, const struct iovec __user *iov, int cnt)
{
    return rw_vector(fd, iov, cnt, false, -1, 0);
}

long sys_writev(int fd, const struct iovec __user *iov, int cnt)
{
    return rw_vector(fd, iov, cnt, true, -1, 0);
}

/* x86-64 passes the whole offset in pos_l; pos_h is for 32-bit ABIs. */
long sys_preadv(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l, unsigned long pos_h)
{
    (void)pos_h;
    return (int64_t)pos_l < 0 ? -EINVAL : rw_vector(fd, iov, cnt, false, (int64_t)pos_l, 0);
}

long sys_pwritev(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l, unsigned long pos_h)
{
    (void)pos_h;
    return (int64_t)pos_l < 0 ? -EINVAL : rw_vector(fd, iov, cnt, true, (int64_t)pos_l, 0);
}

/* Offset -1 means the file's own offset. */
long sys_preadv2(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l,
                 unsigned long pos_h, int flags)
{
    (void)pos_h;
    return (int64_t)pos_l < -1 ? -EINVAL : rw_vector(fd, iov, cnt, false, (int64_t)pos_l, flags);
}

long sys_pwritev2(int fd, const struct iovec __user *iov, int cnt, unsigned long pos_l,
                  unsigned long pos_h, int flags)
{
    (void)pos_h;
    return (int64_t)pos_l < -1 ? -EINVAL : rw_vector(fd, iov, cnt, true, (int64_t)pos_l, flags);
}

long sys_lseek(int fd, int64_t offset, unsigned whence)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long r = whence > SEEK_HOLE ? -EINVAL : vfs_llseek(f, offset, (int)whence);
    vfs_file_put(f);
    return r;
}
