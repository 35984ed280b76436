/* ext4 on block devices: a struct ext4_io over the block layer (virtio-blk
 * disks "vblk0"...), and the claim that keeps one disk under one mount. */
#include "arch/spinlock.h"
#include "drivers/block.h"
#include "lib/errno.h"
#include "vfs_glue.h"

#define MAX_CLAIMS 32

static struct blockdev *claimed[MAX_CLAIMS];
static spinlock_t claim_lock = SPINLOCK_INIT;

static int claim(struct blockdev *dev)
{
    int err = -ENOSPC, free_slot = -1;
    irqflags_t f = spin_lock(&claim_lock);
    for (int i = 0; i < MAX_CLAIMS; i++) {
        if (claimed[i] == dev) {
            free_slot = -2;
            break;
        }
        if (!claimed[i] && free_slot == -1)
            free_slot = i;
    }
    if (free_slot == -2)
        err = -EBUSY; /* mounting it twice would let two caches write one disk */
    else if (free_slot >= 0) {
        claimed[free_slot] = dev;
        err = 0;
    }
    spin_unlock(&claim_lock, f);
    return err;
}

static void unclaim(struct blockdev *dev)
{
    irqflags_t f = spin_lock(&claim_lock);
    for (int i = 0; i < MAX_CLAIMS; i++)
        if (claimed[i] == dev)
            claimed[i] = NULL;
    spin_unlock(&claim_lock, f);
}

static int blk_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    return blockdev_read(ctx, off, buf, len);
}

static int blk_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    return blockdev_write(ctx, off, buf, len);
}

static int blk_flush(void *ctx)
{
    return blockdev_flush(ctx);
}

static void blk_close(struct ext4_source *src)
{
    unclaim(src->dev);
    src->dev = NULL;
}

int ext4_blk_open(const char *name, bool ro, struct ext4_source *src)
{
    (void)ro;
    struct blockdev *dev = blockdev_find(name);
    if (!dev)
        return -ENODEV;
    int err = claim(dev);
    if (err)
        return err;
    src->dev = dev;
    src->file = NULL;
    src->close = blk_close;
    src->io = (struct ext4_io){ blk_read, blk_write, blk_flush, dev, blockdev_size(dev), blockdev_read_only(dev) };
    return 0;
}
