/* The block-device layer: the registry of disks, requests and their
 * completion, and synchronous byte-range I/O (split to the driver's limits,
 * unaligned edges through a bounce block) kept coherent with the cache. */
#include "drivers/block.h"
#include "block_internal.h"
#include "arch/cpu.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

static struct list_node blockdevs = LIST_INIT(blockdevs);
static unsigned blockdev_total;
static spinlock_t registry_lock = SPINLOCK_INIT;

/* ---- registry ---- */

int blockdev_register(struct blockdev *dev, const char *prefix)
{
    unsigned bs = dev->block_size;
    if (bs < BLOCKDEV_SECTOR || (bs & (bs - 1)) || bs > BLOCKDEV_MAX_BLOCK || !dev->ops ||
        !dev->ops->submit)
        return -EINVAL;
    if (dev->max_sectors < bs / BLOCKDEV_SECTOR)
        return -EINVAL;
    irqflags_t f = spin_lock(&registry_lock);
    unsigned n = 0;
    list_for_each(pos, &blockdevs) {
        struct blockdev *o = list_entry(pos, struct blockdev, link);
        if (str_starts_with(o->name, prefix))
            n++;
    }
    snprintf(dev->name, sizeof(dev->name), "%s%u", prefix, n);
    list_add_tail(&blockdevs, &dev->link);
    blockdev_total++;
    spin_unlock(&registry_lock, f);
    return 0;
}

struct blockdev *blockdev_find(const char *name)
{
    if (str_starts_with(name, "/dev/"))
        name += 5;
    struct blockdev *found = NULL;
    irqflags_t f = spin_lock(&registry_lock);
    list_for_each(pos, &blockdevs) {
        struct blockdev *d = list_entry(pos, struct blockdev, link);
        if (strcmp(d->name, name) == 0) {
            found = d;
            break;
        }
    }
    spin_unlock(&registry_lock, f);
    return found;
}

struct blockdev *blockdev_get(unsigned index)
{
    struct blockdev *found = NULL;
    irqflags_t f = spin_lock(&registry_lock);
    list_for_each(pos, &blockdevs) {
        if (!index--) {
            found = list_entry(pos, struct blockdev, link);
            break;
        }
    }
    spin_unlock(&registry_lock, f);
    return found;
}

unsigned blockdev_count(void)
{
    return blockdev_total;
}

const char *blockdev_name(const struct blockdev *dev)
{
    return dev->name;
}

uint64_t blockdev_size(struct blockdev *dev)
{
    return dev->sectors * BLOCKDEV_SECTOR;
}

bool blockdev_read_only(struct blockdev *dev)
{
    return dev->read_only;
}

unsigned blockdev_block_size(struct blockdev *dev)
{
    return dev->block_size;
}

/* ---- requests ---- */

void blockdev_complete(struct blockdev_req *req)
{
    if (req->done) {
        req->done(req);
        return;
    }
    __atomic_store_n(&req->completed, true, __ATOMIC_RELEASE);
    waitq_wake_all(&req->wq);
    /* Only now may the waiter free req (often on its stack). */
    __atomic_store_n(&req->released, true, __ATOMIC_RELEASE);
}

int blockdev_submit_async(struct blockdev *dev, struct blockdev_req *req)
{
    req->completed = req->released = false;
    req->status = 0;
    waitq_init(&req->wq);
    return dev->ops->submit(dev, req);
}

int blockdev_wait(struct blockdev_req *req)
{
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&req->wq, &e);
        if (__atomic_load_n(&req->completed, __ATOMIC_ACQUIRE))
            break;
        waitq_sleep(&e, 0);
    }
    waitq_finish(&req->wq, &e);
    while (!__atomic_load_n(&req->released, __ATOMIC_ACQUIRE))
        cpu_pause(); /* the completer is between its two stores: a few instructions */
    return req->status;
}

int blockdev_submit_wait(struct blockdev *dev, struct blockdev_req *req)
{
    req->done = NULL;
    int err = blockdev_submit_async(dev, req);
    return err ? err : blockdev_wait(req);
}

static int check_range(struct blockdev *dev, uint64_t off, uint64_t len)
{
    uint64_t size = blockdev_size(dev);
    return off > size || len > size - off ? -EINVAL : 0;
}

/* Aligned transfer straight to or from the disk, split at max_sectors, with
 * up to BLOCKDEV_INFLIGHT pieces at the device at once (the disk works on
 * them in parallel; one at a time would leave it idle between them). */
#define BLOCKDEV_INFLIGHT 8

int blockdev_io_raw(struct blockdev *dev, enum blockdev_op op, uint64_t off, void *buf, size_t len)
{
    uint64_t max = (uint64_t)dev->max_sectors * BLOCKDEV_SECTOR;
    max = ALIGN_DOWN(max, (uint64_t)dev->block_size);
    struct blockdev_req reqs[BLOCKDEV_INFLIGHT];
    unsigned head = 0, count = 0; /* the ring of requests in flight */
    int err = 0;
    while ((len && !err) || count) {
        if (len && !err && count < BLOCKDEV_INFLIGHT) {
            size_t chunk = (size_t)MIN((uint64_t)len, max);
            struct blockdev_req *r = &reqs[(head + count) % BLOCKDEV_INFLIGHT];
            *r = (struct blockdev_req){ .op = op, .sector = off / BLOCKDEV_SECTOR,
                                        .count = (uint32_t)(chunk / BLOCKDEV_SECTOR), .buf = buf };
            if ((err = blockdev_submit_async(dev, r)))
                continue; /* nothing more is sent; what is in flight is waited for */
            count++;
            off += chunk;
            buf = (uint8_t *)buf + chunk;
            len -= chunk;
            continue;
        }
        struct blockdev_req *r = &reqs[head];
        int e = blockdev_wait(r);
        err = err ? err : e;
        head = (head + 1) % BLOCKDEV_INFLIGHT;
        count--;
        if (op == BLOCKDEV_OP_READ) {
            dev->reads++;
            dev->read_bytes += (uint64_t)r->count * BLOCKDEV_SECTOR;
        } else {
            dev->writes++;
            dev->written_bytes += (uint64_t)r->count * BLOCKDEV_SECTOR;
        }
    }
    return err;
}

/* ---- synchronous byte ranges ---- */

/* Read [off, off+len) where off and len are block aligned, then lay dirty
 * cached blocks over it: the cache is newer than the disk. */
static int read_aligned(struct blockdev *dev, uint64_t off, void *buf, size_t len)
{
    int err = blockdev_io_raw(dev, BLOCKDEV_OP_READ, off, buf, len);
    if (!err)
        bcache_overlay_dirty(dev, off, buf, len);
    return err;
}

/* Write an aligned range; cached copies take the new bytes too. */
static int write_aligned(struct blockdev *dev, uint64_t off, const void *buf, size_t len)
{
    bcache_update(dev, off, buf, len);
    return blockdev_io_raw(dev, BLOCKDEV_OP_WRITE, off, (void *)buf, len);
}

/* The partial block containing byte `off`: read it into a bounce buffer,
 * copy out or patch in `len` bytes (not crossing the block), write back. */
static int partial_block(struct blockdev *dev, uint64_t off, void *buf, size_t len, bool write)
{
    unsigned bs = dev->block_size;
    uint64_t start = ALIGN_DOWN(off, (uint64_t)bs);
    uint8_t *bounce = kmalloc(bs);
    if (!bounce)
        return -ENOMEM;
    int err = read_aligned(dev, start, bounce, bs);
    if (!err && !write)
        memcpy(buf, bounce + (off - start), len);
    if (!err && write) {
        memcpy(bounce + (off - start), buf, len);
        err = write_aligned(dev, start, bounce, bs);
    }
    kfree(bounce);
    return err;
}

static int rw_range(struct blockdev *dev, uint64_t off, void *buf, size_t len, bool write)
{
    int err = check_range(dev, off, len);
    if (err)
        return err;
    if (write && dev->read_only)
        return -EROFS;
    unsigned bs = dev->block_size;
    uint8_t *p = buf;
    if (len && (off & (bs - 1))) { /* head */
        size_t n = MIN(len, (size_t)(bs - (off & (bs - 1))));
        if ((err = partial_block(dev, off, p, n, write)))
            return err;
        off += n, p += n, len -= n;
    }
    size_t mid = ALIGN_DOWN(len, (size_t)bs);
    if (mid) {
        err = write ? write_aligned(dev, off, p, mid) : read_aligned(dev, off, p, mid);
        if (err)
            return err;
        off += mid, p += mid, len -= mid;
    }
    if (len) /* tail */
        err = partial_block(dev, off, p, len, write);
    return err;
}

int blockdev_read(struct blockdev *dev, uint64_t byte_offset, void *buf, size_t len)
{
    return rw_range(dev, byte_offset, buf, len, false);
}

int blockdev_write(struct blockdev *dev, uint64_t byte_offset, const void *buf, size_t len)
{
    return rw_range(dev, byte_offset, (void *)buf, len, true);
}

int blockdev_flush(struct blockdev *dev)
{
    if (dev->read_only)
        return 0;
    int err = blockdev_sync(dev);
    if (err || !(dev->caps & BLOCKDEV_CAN_FLUSH))
        return err; /* without a flush command the disk has no volatile cache */
    struct blockdev_req req = { .op = BLOCKDEV_OP_FLUSH };
    dev->flushes++;
    return blockdev_submit_wait(dev, &req);
}

/* Discard and write-zeroes work on whole blocks inside the range, in pieces
 * the device accepts. */
static int zero_or_discard(struct blockdev *dev, uint64_t off, uint64_t len, enum blockdev_op op)
{
    int err = check_range(dev, off, len);
    if (err)
        return err;
    if (dev->read_only)
        return -EROFS;
    unsigned bs = dev->block_size;
    uint64_t start = ALIGN_UP(off, (uint64_t)bs), end = ALIGN_DOWN(off + len, (uint64_t)bs);
    uint32_t limit = op == BLOCKDEV_OP_DISCARD ? dev->max_discard_sectors : dev->max_write_zeroes_sectors;
    uint64_t max = (uint64_t)(limit ? limit : 1u << 22) * BLOCKDEV_SECTOR;
    max = MAX(ALIGN_DOWN(max, (uint64_t)bs), (uint64_t)bs);
    while (start < end) {
        uint64_t n = MIN(end - start, max);
        struct blockdev_req req = {
            .op = op, .sector = start / BLOCKDEV_SECTOR, .count = (uint32_t)(n / BLOCKDEV_SECTOR) };
        if ((err = blockdev_submit_wait(dev, &req)))
            return err;
        start += n;
    }
    return 0;
}

int blockdev_discard(struct blockdev *dev, uint64_t byte_offset, uint64_t len)
{
    if (!(dev->caps & BLOCKDEV_CAN_DISCARD))
        return dev->read_only ? -EROFS : 0; /* a hint the disk cannot take */
    bcache_invalidate(dev, byte_offset, len);
    return zero_or_discard(dev, byte_offset, len, BLOCKDEV_OP_DISCARD);
}

/* Without the device command, zeroes are written from a zeroed buffer. */
static int write_zeroes_slow(struct blockdev *dev, uint64_t off, uint64_t len)
{
    size_t chunk = 64 * 1024;
    void *zeros = kzalloc(chunk);
    if (!zeros)
        return -ENOMEM;
    int err = 0;
    while (len && !err) {
        size_t n = (size_t)MIN(len, (uint64_t)chunk);
        err = blockdev_write(dev, off, zeros, n);
        off += n;
        len -= n;
    }
    kfree(zeros);
    return err;
}

int blockdev_write_zeroes(struct blockdev *dev, uint64_t byte_offset, uint64_t len)
{
    int err = check_range(dev, byte_offset, len);
    if (err)
        return err;
    if (dev->read_only)
        return -EROFS;
    unsigned bs = dev->block_size;
    uint64_t start = ALIGN_UP(byte_offset, (uint64_t)bs), end = ALIGN_DOWN(byte_offset + len, (uint64_t)bs);
    if (!(dev->caps & BLOCKDEV_CAN_WRITE_ZEROES) || start >= end)
        return write_zeroes_slow(dev, byte_offset, len);
    /* unaligned edges by hand, whole blocks by the device */
    if ((err = write_zeroes_slow(dev, byte_offset, start - byte_offset)))
        return err;
    bcache_zero(dev, start, end - start);
    if ((err = zero_or_discard(dev, start, end - start, BLOCKDEV_OP_WRITE_ZEROES)))
        return err;
    return write_zeroes_slow(dev, end, byte_offset + len - end);
}
