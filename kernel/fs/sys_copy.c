/* sendfile and copy_file_range: a kernel bounce buffer between two files
 * (one copy less than read+write through the application). */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define BOUNCE_SIZE 65536

/* Copy up to len bytes from in (at *inpos, or its offset when NULL) to out
 * (at *outpos, or its offset). Bytes copied, or -errno if none. */
static long copy_between(struct file *in, uint64_t *inpos, struct file *out, uint64_t *outpos, size_t len)
{
    char *buf = kmalloc(BOUNCE_SIZE);
    if (!buf)
        return -ENOMEM;
    size_t done = 0;
    long err = 0;
    while (done < len) {
        struct uio u;
        size_t chunk = MIN(len - done, (size_t)BOUNCE_SIZE);
        uio_init_kernel(&u, buf, chunk);
        ssize_t n = inpos ? vfs_read(in, &u, inpos) : vfs_read_at_pos(in, &u);
        if (n <= 0) {
            err = n;
            break;
        }
        uio_init_kernel(&u, buf, (size_t)n);
        ssize_t w = outpos ? vfs_write(out, &u, outpos) : vfs_write_at_pos(out, &u);
        if (w < 0) {
            err = w;
            break;
        }
        done += (size_t)w;
        if (w < n)
            break; /* the reader's extra bytes are lost, as with a short write */
    }
    kfree(buf);
    return done ? (long)done : err;
}

long sys_sendfile(int out_fd, int in_fd, int64_t __user *offset, size_t count)
{
    struct file *in = cur_file(in_fd), *out = cur_file(out_fd);
    long err = 0;
    if (!in || !out || !(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE))
        err = -EBADF;
    else if (S_ISDIR(in->vnode->mode))
        err = -EINVAL;
    else if (out->flags & O_APPEND)
        err = -EINVAL;
    uint64_t pos = 0;
    int64_t upos = 0;
    if (!err && offset) {
        if (copy_from_user(&upos, offset, sizeof(upos)))
            err = -EFAULT;
        else if (upos < 0)
            err = -EINVAL;
        pos = (uint64_t)upos;
    }
    if (!err)
        err = copy_between(in, offset ? &pos : NULL, out, NULL, MIN(count, (size_t)MAX_RW_COUNT));
    if (err >= 0 && offset && put_user_u64(offset, pos))
        err = -EFAULT;
    vfs_file_put(in);
    vfs_file_put(out);
    return err;
}

static long cfr_check(struct file *in, struct file *out, unsigned flags)
{
    if (flags)
        return -EINVAL;
    if (!in || !out || !(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE) || (out->flags & O_APPEND))
        return -EBADF;
    if (S_ISDIR(in->vnode->mode) || S_ISDIR(out->vnode->mode))
        return -EISDIR;
    if (!S_ISREG(in->vnode->mode) || !S_ISREG(out->vnode->mode))
        return -EINVAL;
    return 0;
}

static int get_off(int64_t __user *u, uint64_t *out)
{
    int64_t v;
    if (copy_from_user(&v, u, sizeof(v)))
        return -EFAULT;
    if (v < 0)
        return -EINVAL;
    *out = (uint64_t)v;
    return 0;
}

long sys_copy_file_range(int fd_in, int64_t __user *off_in, int fd_out, int64_t __user *off_out, size_t len,
                         unsigned flags)
{
    struct file *in = cur_file(fd_in), *out = cur_file(fd_out);
    long err = cfr_check(in, out, flags);
    uint64_t ip = 0, op = 0;
    if (!err && off_in)
        err = get_off(off_in, &ip);
    if (!err && off_out)
        err = get_off(off_out, &op);
    if (!err && in->vnode == out->vnode) { /* overlapping ranges of one file */
        uint64_t a = off_in ? ip : in->pos, b = off_out ? op : out->pos;
        if (a < b + len && b < a + len)
            err = -EINVAL;
    }
    if (!err)
        err = copy_between(in, off_in ? &ip : NULL, out, off_out ? &op : NULL, MIN(len, (size_t)MAX_RW_COUNT));
    if (err >= 0 && off_in && put_user_u64(off_in, ip))
        err = -EFAULT;
    if (err >= 0 && off_out && put_user_u64(off_out, op))
        err = -EFAULT;
    vfs_file_put(in);
    vfs_file_put(out);
    return err;
}
