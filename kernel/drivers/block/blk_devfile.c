/* Disks as device files for applications: character device BLOCKDEV_MAJOR,
 * minor = registration index (vblk0 is 254:0), with read/write at any
 * offset, fsync (a disk flush) and the Linux block ioctls programs use to
 * size a disk (BLKGETSIZE64, BLKSSZGET, ...). A node appears in /dev when
 * devfs creates one; until then mknod(path, S_IFCHR, makedev(254, N)). */
#include "drivers/block.h"
#include "arch/uaccess.h"
#include "core/log.h"
#include "fs/uapi.h"
#include "fs/vfs.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"

/* Large chunks keep several requests at the disk at once (blockdev_read
 * splits them); a small one is the fallback when memory is short. */
#define BLK_IO_CHUNK (1u << 20)
#define BLK_IO_CHUNK_MIN (64u << 10)
#define BLKROGET 0x125e
#define BLKGETSIZE 0x1260
#define BLKFLSBUF 0x1261
#define BLKSSZGET 0x1268
#define BLKBSZGET 0x80081270
#define BLKGETSIZE64 0x80081272
#define BLKPBSZGET 0x127b
#define BLKDISCARD 0x1277
#define BLKZEROOUT 0x127f

static int blk_open(struct vnode *v, struct file *f)
{
    struct blockdev *dev = blockdev_get(DEV_MINOR(v->rdev));
    if (!dev)
        return -ENXIO;
    if ((f->fmode & FMODE_WRITE) && blockdev_read_only(dev))
        return -EROFS;
    f->priv = dev;
    return 0;
}

/* Reads and writes go through a kernel buffer: the block layer wants
 * kernel memory, the application's may be paged out or unmapped. */
static ssize_t blk_rw(struct file *f, struct uio *u, uint64_t *pos, bool write)
{
    struct blockdev *dev = f->priv;
    uint64_t size = blockdev_size(dev);
    if (*pos >= size)
        return write && u->resid ? -ENOSPC : 0;
    size_t chunk = u->resid > BLK_IO_CHUNK_MIN ? BLK_IO_CHUNK : BLK_IO_CHUNK_MIN;
    uint8_t *buf = kmalloc(chunk);
    if (!buf && chunk > BLK_IO_CHUNK_MIN)
        buf = kmalloc(chunk = BLK_IO_CHUNK_MIN);
    if (!buf)
        return -ENOMEM;
    size_t done = 0;
    int err = 0;
    while (u->resid && *pos < size) {
        size_t n = (size_t)MIN((uint64_t)MIN(u->resid, chunk), size - *pos);
        if (write) {
            n = uio_copy_in(u, buf, n);
            if (!n || (err = blockdev_write(dev, *pos, buf, n)))
                break;
        } else {
            if ((err = blockdev_read(dev, *pos, buf, n)))
                break;
            size_t got = uio_copy_out(u, buf, n);
            *pos += got;
            done += got;
            if (got < n)
                break;
            continue;
        }
        *pos += n;
        done += n;
    }
    kfree(buf);
    return done ? (ssize_t)done : err ? err : uio_result(u, 0);
}

static ssize_t blk_read(struct file *f, struct uio *u, uint64_t *pos)
{
    return blk_rw(f, u, pos, false);
}

static ssize_t blk_write(struct file *f, struct uio *u, uint64_t *pos)
{
    return blk_rw(f, u, pos, true);
}

static int blk_fsync(struct file *f, bool datasync)
{
    (void)datasync;
    return blockdev_flush(f->priv);
}

static int range_ioctl(struct blockdev *dev, unsigned long arg, bool zero)
{
    uint64_t r[2];
    if (copy_from_user(r, (const void __user *)arg, sizeof(r)))
        return -EFAULT;
    unsigned bs = blockdev_block_size(dev);
    if ((r[0] | r[1]) & (bs - 1))
        return -EINVAL;
    return zero ? blockdev_write_zeroes(dev, r[0], r[1]) : blockdev_discard(dev, r[0], r[1]);
}

static int blk_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    struct blockdev *dev = f->priv;
    void __user *p = (void __user *)arg;
    switch (cmd) {
    case BLKGETSIZE64: return put_user_u64(p, blockdev_size(dev)) ? -EFAULT : 0;
    case BLKGETSIZE: return put_user_u64(p, blockdev_size(dev) / 512) ? -EFAULT : 0;
    case BLKSSZGET:
    case BLKPBSZGET: return put_user_u32(p, blockdev_block_size(dev)) ? -EFAULT : 0;
    case BLKBSZGET: return put_user_u32(p, MAX(blockdev_block_size(dev), 4096u)) ? -EFAULT : 0;
    case BLKROGET: return put_user_u32(p, blockdev_read_only(dev)) ? -EFAULT : 0;
    case BLKFLSBUF: return blockdev_cache_drop(dev);
    case BLKDISCARD: return range_ioctl(dev, arg, false);
    case BLKZEROOUT: return range_ioctl(dev, arg, true);
    default: return -ENOTTY;
    }
}

static const struct file_ops blk_fops = {
    .open = blk_open,
    .read = blk_read,
    .write = blk_write,
    .ioctl = blk_ioctl,
    .fsync = blk_fsync,
};

void blockdev_devfiles_register(void)
{
    for (unsigned i = 0; i < blockdev_count(); i++) {
        struct blockdev *dev = blockdev_get(i);
        int err = vfs_chrdev_register(MKDEV(BLOCKDEV_MAJOR, i), dev->name, &blk_fops);
        if (err)
            pr_warn("%s: no device file (%d)\n", dev->name, err);
    }
}
