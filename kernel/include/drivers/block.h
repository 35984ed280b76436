/* The block-device layer: named disks ("vblk0", ...) that filesystems read and
 * write by byte offset or through a small block cache (struct bbuf). Drivers
 * (virtio-blk) register a struct blockdev with an asynchronous submit hook. */
#pragma once

#include "core/waitq.h"
#include "lib/list.h"
#include "lib/types.h"

#define BLOCKDEV_NAME_MAX 16
#define BLOCKDEV_SECTOR 512 /* the unit of blockdev_req.sector, whatever the logical block size */

/* ---- For filesystems: synchronous access ----
 * All functions may sleep (callers are threads, never interrupt handlers).
 * Errors are -errno: -EIO (the device failed), -EROFS (write to a read-only
 * disk), -EINVAL (range outside the disk), -ENOMEM, -EOPNOTSUPP. */
struct blockdev;

/* The registered device called `name` ("vblk0", also accepted as
 * "/dev/vblk0"), or NULL. Devices are never unregistered. */
struct blockdev *blockdev_find(const char *name);
/* The i-th registered device (0-based, registration order), or NULL. */
struct blockdev *blockdev_get(unsigned index);
unsigned blockdev_count(void);
const char *blockdev_name(const struct blockdev *dev);

/* Any byte range inside the disk; unaligned heads and tails are handled
 * (writes then read-modify-write the partial blocks). Buffers may be anywhere
 * in kernel memory (direct map, kmalloc, kernel stack). Returns 0 when all of
 * `len` was transferred. */
int blockdev_read(struct blockdev *dev, uint64_t byte_offset, void *buf, size_t len);
int blockdev_write(struct blockdev *dev, uint64_t byte_offset, const void *buf, size_t len);
/* Make every completed write durable (the disk's write cache flushed);
 * cached dirty bbufs are written first. */
int blockdev_flush(struct blockdev *dev);
/* Tell the disk a byte range is unused (block-aligned inside; 0 and nothing
 * done when the disk cannot discard), or write zeroes there. */
int blockdev_discard(struct blockdev *dev, uint64_t byte_offset, uint64_t len);
int blockdev_write_zeroes(struct blockdev *dev, uint64_t byte_offset, uint64_t len);

uint64_t blockdev_size(struct blockdev *dev);          /* bytes */
bool blockdev_read_only(struct blockdev *dev);
unsigned blockdev_block_size(struct blockdev *dev);    /* logical block size, >= 512, power of 2 */

/* ---- For filesystems: the block cache ----
 * A bbuf holds one block of `block_size` bytes (a power of two, 512..65536, a
 * multiple of the device's logical block size) at byte offset
 * block_no * block_size. It stays valid while referenced; the cache keeps
 * unreferenced clean blocks until memory for others is needed. Dirty blocks
 * are written by blockdev_bwrite, blockdev_sync/flush, or when evicted. */
struct bbuf {
    struct blockdev *dev;
    uint64_t block_no;
    unsigned block_size;
    void *data;
    /* private to the cache */
    int refs;
    bool dirty, uptodate, busy;
    struct list_node lru, hash;
    struct waitq wq;
};

/* Get block `block_no` with its data read (from the cache or the disk).
 * 0 and *out referenced, or -errno. */
int blockdev_bread(struct blockdev *dev, uint64_t block_no, unsigned block_size, struct bbuf **out);
/* Same but without reading when the block is not cached: for a block the
 * caller overwrites entirely (data is zeroed then). */
int blockdev_bget(struct blockdev *dev, uint64_t block_no, unsigned block_size, struct bbuf **out);
/* Drop a reference. */
void blockdev_brelse(struct bbuf *b);
/* The caller changed b->data: write it back later. */
void blockdev_bdirty(struct bbuf *b);
/* Write b now if dirty (no cache flush of the disk). */
int blockdev_bwrite(struct bbuf *b);
/* Write every dirty cached block of dev (ascending order), no disk flush. */
int blockdev_sync(struct blockdev *dev);
/* Read ahead `count` blocks from block_no into the cache without waiting for
 * more than the first; a hint, errors ignored. */
void blockdev_readahead(struct blockdev *dev, uint64_t block_no, unsigned block_size, unsigned count);
/* Drop cached clean blocks of dev (tests, remount); dirty ones are written first. */
int blockdev_cache_drop(struct blockdev *dev);

/* ---- For applications: device files ----
 * Character device BLOCKDEV_MAJOR, minor = index (vblk0 is 254:0): read,
 * write, fsync, and the BLKGETSIZE64/BLKSSZGET/BLKDISCARD... ioctls. */
#define BLOCKDEV_MAJOR 254
/* Register every disk found so far (drivers_init calls it once). */
void blockdev_devfiles_register(void);

/* ---- For drivers ---- */
enum blockdev_op {
    BLOCKDEV_OP_READ,
    BLOCKDEV_OP_WRITE,
    BLOCKDEV_OP_FLUSH,
    BLOCKDEV_OP_DISCARD,
    BLOCKDEV_OP_WRITE_ZEROES,
};

/* A piece of a request's data (merged requests carry several). */
struct blockdev_seg {
    void *buf;
    uint32_t len; /* a multiple of 512 */
};

/* One request. `sector` and `count` are in 512-byte units and block aligned;
 * the data (READ/WRITE only) is `buf`, count * 512 bytes, or when nsegs > 0
 * the segments in order (their lengths add up to count * 512). Any kernel
 * memory will do: the driver finds the physical pages. The driver calls
 * blockdev_complete() exactly once, possibly from an interrupt handler. */
struct blockdev_req {
    enum blockdev_op op;
    uint64_t sector;
    uint32_t count;
    void *buf;
    const struct blockdev_seg *segs;
    unsigned nsegs;
    int status; /* set by the driver: 0 or -errno */
    void (*done)(struct blockdev_req *req); /* called by blockdev_complete; NULL: waiters are woken */
    void *priv;
    /* private to the block layer */
    volatile bool completed, released;
    struct waitq wq;
    struct list_node link; /* free for the driver while it owns the request */
};

struct blockdev_ops {
    /* Queue req; 0 (it will complete) or -errno (it never will). May sleep
     * for queue space. */
    int (*submit)(struct blockdev *dev, struct blockdev_req *req);
};

#define BLOCKDEV_CAN_FLUSH 0x1
#define BLOCKDEV_CAN_DISCARD 0x2
#define BLOCKDEV_CAN_WRITE_ZEROES 0x4

struct blockdev {
    char name[BLOCKDEV_NAME_MAX];
    unsigned block_size;     /* logical, >= 512 */
    uint64_t sectors;        /* capacity in 512-byte sectors */
    bool read_only;
    unsigned caps;           /* BLOCKDEV_CAN_* */
    uint32_t max_sectors;    /* largest READ/WRITE request (512-byte units) */
    uint32_t max_discard_sectors;      /* per request; 0: no limit */
    uint32_t max_write_zeroes_sectors;
    const struct blockdev_ops *ops;
    void *priv;              /* the driver's */
    /* private to the block layer */
    struct list_node link;
    unsigned cache_block_size; /* size of the blocks it has in the cache, 0: none */
    uint64_t reads, writes, read_bytes, written_bytes, flushes;
};

/* Register dev under the next free "<prefix>N" name (prefix "vblk"), which
 * is written into dev->name. 0 or -errno. */
int blockdev_register(struct blockdev *dev, const char *prefix);
/* Drivers: req is finished with req->status set. */
void blockdev_complete(struct blockdev_req *req);
/* Submit req and sleep until it completes; returns req->status. */
int blockdev_submit_wait(struct blockdev *dev, struct blockdev_req *req);
