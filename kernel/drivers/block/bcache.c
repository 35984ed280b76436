/* The block cache: blocks of a disk kept in memory by (device, block
 * number), referenced by filesystems through struct bbuf, written back when
 * dirty (on request, on sync, or when memory runs short), evicted least
 * recently used first. One spinlock guards the index; I/O happens outside
 * it, with a block's `busy` flag keeping one transfer per block at a time. */
#include "drivers/block.h"
#include "block_internal.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"

#define BCACHE_HASH_BITS 10
#define BCACHE_BUCKETS (1u << BCACHE_HASH_BITS)
#define BCACHE_MIN_BYTES (256u << 10)
#define BCACHE_MAX_BYTES (64ull << 20)
#define BCACHE_READAHEAD_MAX 64

static struct list_node buckets[BCACHE_BUCKETS];
static struct list_node lru = LIST_INIT(lru); /* unreferenced blocks, oldest first */
static spinlock_t bc_lock = SPINLOCK_INIT;
static uint64_t bc_bytes, bc_dirty_bytes, bc_limit;
static bool bc_ready;

/* The cache may use 1/16 of memory, within [256 KiB, 64 MiB]. */
static void bcache_setup_locked(void)
{
    for (unsigned i = 0; i < BCACHE_BUCKETS; i++)
        list_init(&buckets[i]);
    struct phys_stats st;
    phys_get_stats(&st);
    bc_limit = MIN(MAX(st.total_pages * 4096 / 16, (uint64_t)BCACHE_MIN_BYTES), BCACHE_MAX_BYTES);
    bc_ready = true;
}

static struct list_node *bucket_of(struct blockdev *dev, uint64_t blk)
{
    uint64_t h = ((uintptr_t)dev >> 4) ^ (blk * 0x9e3779b97f4a7c15ull);
    return &buckets[(h >> 32 ^ h) & (BCACHE_BUCKETS - 1)];
}

static struct bbuf *lookup_locked(struct blockdev *dev, uint64_t blk)
{
    struct list_node *head = bucket_of(dev, blk);
    list_for_each(pos, head) {
        struct bbuf *b = list_entry(pos, struct bbuf, hash);
        if (b->dev == dev && b->block_no == blk)
            return b;
    }
    return NULL;
}

static void get_locked(struct bbuf *b)
{
    if (b->refs++ == 0)
        list_remove(&b->lru);
}

static void put_locked(struct bbuf *b)
{
    if (--b->refs == 0)
        list_add_tail(&lru, &b->lru);
}

static void set_dirty_locked(struct bbuf *b, bool dirty)
{
    if (b->dirty == dirty)
        return;
    b->dirty = dirty;
    if (dirty)
        bc_dirty_bytes += b->block_size;
    else
        bc_dirty_bytes -= b->block_size;
}

static void unlink_locked(struct bbuf *b, struct list_node *victims)
{
    list_remove(&b->hash);
    list_remove(&b->lru);
    bc_bytes -= b->block_size;
    list_add_tail(victims, &b->lru);
}

/* Clean, idle, unreferenced blocks from the old end until under the limit. */
static void evict_locked(struct list_node *victims)
{
    list_for_each_safe(pos, &lru) {
        if (bc_bytes <= bc_limit)
            break;
        struct bbuf *b = list_entry(pos, struct bbuf, lru);
        if (!b->dirty && !b->busy)
            unlink_locked(b, victims);
    }
}

static void free_victims(struct list_node *victims)
{
    struct list_node *n;
    while ((n = list_pop_head(victims))) {
        struct bbuf *b = list_entry(n, struct bbuf, lru);
        kfree(b->data);
        kfree(b);
    }
}

static void wait_idle(struct bbuf *b)
{
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&b->wq, &e);
        if (!__atomic_load_n(&b->busy, __ATOMIC_ACQUIRE))
            break;
        waitq_sleep(&e, 0);
    }
    waitq_finish(&b->wq, &e);
}

/* Take the block's transfer slot; false when `skip(b)` says there is
 * nothing to do any more (checked under the lock). */
static bool begin_io(struct bbuf *b, bool (*skip)(const struct bbuf *b))
{
    for (;;) {
        wait_idle(b);
        irqflags_t f = spin_lock(&bc_lock);
        if (skip(b)) {
            spin_unlock(&bc_lock, f);
            return false;
        }
        if (!b->busy) {
            b->busy = true;
            spin_unlock(&bc_lock, f);
            return true;
        }
        spin_unlock(&bc_lock, f);
    }
}

static bool is_uptodate(const struct bbuf *b) { return b->uptodate; }
static bool is_clean(const struct bbuf *b) { return !b->dirty; }

static void end_io_locked(struct bbuf *b)
{
    __atomic_store_n(&b->busy, false, __ATOMIC_RELEASE);
}

static int ensure_uptodate(struct bbuf *b)
{
    if (!begin_io(b, is_uptodate))
        return 0;
    int err = blockdev_io_raw(b->dev, BLOCKDEV_OP_READ, b->block_no * b->block_size, b->data, b->block_size);
    irqflags_t f = spin_lock(&bc_lock);
    b->uptodate = !err;
    end_io_locked(b);
    spin_unlock(&bc_lock, f);
    waitq_wake_all(&b->wq);
    return err;
}

static int check_block(struct blockdev *dev, uint64_t blk, unsigned bs)
{
    if (bs < dev->block_size || (bs & (bs - 1)) || bs > BLOCKDEV_MAX_BLOCK)
        return -EINVAL;
    uint64_t nblocks = blockdev_size(dev) / bs;
    return blk >= nblocks ? -EINVAL : 0;
}

static struct bbuf *bbuf_alloc(struct blockdev *dev, uint64_t blk, unsigned bs)
{
    struct bbuf *b = kzalloc(sizeof(*b));
    void *data = b ? kzalloc(bs) : NULL;
    if (!data) {
        kfree(b);
        return NULL;
    }
    b->dev = dev;
    b->block_no = blk;
    b->block_size = bs;
    b->data = data;
    list_init(&b->lru);
    list_init(&b->hash);
    waitq_init(&b->wq);
    return b;
}

/* A device caches blocks of one size at a time (mixing sizes would let two
 * copies of the same bytes disagree): switching drops the old ones. */
static int switch_block_size(struct blockdev *dev, unsigned bs)
{
    int err = blockdev_cache_drop(dev);
    if (err)
        return err;
    irqflags_t f = spin_lock(&bc_lock);
    bool empty = true;
    for (unsigned i = 0; i < BCACHE_BUCKETS && empty; i++)
        list_for_each(pos, &buckets[i])
            if (list_entry(pos, struct bbuf, hash)->dev == dev)
                empty = false;
    if (empty)
        dev->cache_block_size = bs;
    spin_unlock(&bc_lock, f);
    return empty ? 0 : -EBUSY;
}

static int bcache_get(struct blockdev *dev, uint64_t blk, unsigned bs, bool read, struct bbuf **out)
{
    int err = check_block(dev, blk, bs);
    if (err)
        return err;
    struct bbuf *fresh = NULL, *b;
    struct list_node victims = LIST_INIT(victims);
    bool write_back = false;
    for (;;) {
        irqflags_t f = spin_lock(&bc_lock);
        if (!bc_ready)
            bcache_setup_locked();
        if (dev->cache_block_size && dev->cache_block_size != bs) {
            spin_unlock(&bc_lock, f);
            if ((err = switch_block_size(dev, bs)))
                break;
            continue;
        }
        if ((b = lookup_locked(dev, blk))) {
            get_locked(b);
            spin_unlock(&bc_lock, f);
            break;
        }
        if (fresh) {
            b = fresh;
            fresh = NULL;
            b->refs = 1;
            b->uptodate = !read; /* bget: zeroed data the caller overwrites */
            list_add_tail(bucket_of(dev, blk), &b->hash);
            dev->cache_block_size = bs;
            bc_bytes += bs;
            evict_locked(&victims);
            write_back = bc_dirty_bytes > bc_limit / 2;
            spin_unlock(&bc_lock, f);
            break;
        }
        spin_unlock(&bc_lock, f);
        if (!(fresh = bbuf_alloc(dev, blk, bs))) {
            err = -ENOMEM;
            break;
        }
    }
    free_victims(&victims);
    if (fresh) {
        kfree(fresh->data);
        kfree(fresh);
    }
    if (err)
        return err;
    if (write_back)
        blockdev_sync(dev); /* dirty blocks cannot be evicted: make them clean */
    if ((err = ensure_uptodate(b))) {
        blockdev_brelse(b);
        return err;
    }
    *out = b;
    return 0;
}

int blockdev_bread(struct blockdev *dev, uint64_t block_no, unsigned block_size, struct bbuf **out)
{
    return bcache_get(dev, block_no, block_size, true, out);
}

int blockdev_bget(struct blockdev *dev, uint64_t block_no, unsigned block_size, struct bbuf **out)
{
    return bcache_get(dev, block_no, block_size, false, out);
}

void blockdev_brelse(struct bbuf *b)
{
    if (!b)
        return;
    irqflags_t f = spin_lock(&bc_lock);
    put_locked(b);
    spin_unlock(&bc_lock, f);
}

void blockdev_bdirty(struct bbuf *b)
{
    irqflags_t f = spin_lock(&bc_lock);
    b->uptodate = true;
    set_dirty_locked(b, true);
    spin_unlock(&bc_lock, f);
}

int blockdev_bwrite(struct bbuf *b)
{
    if (b->dev->read_only)
        return b->dirty ? -EROFS : 0;
    if (!begin_io(b, is_clean))
        return 0;
    irqflags_t f = spin_lock(&bc_lock);
    set_dirty_locked(b, false); /* a bdirty during the write makes it dirty again */
    spin_unlock(&bc_lock, f);
    int err = blockdev_io_raw(b->dev, BLOCKDEV_OP_WRITE, b->block_no * b->block_size, b->data, b->block_size);
    f = spin_lock(&bc_lock);
    if (err)
        set_dirty_locked(b, true);
    end_io_locked(b);
    spin_unlock(&bc_lock, f);
    waitq_wake_all(&b->wq);
    return err;
}

/* ---- coherence with byte-range I/O ---- */

/* Call fn on every cached block of dev overlapping [off, off+len), under
 * the lock, with the overlap as offsets into the block and the range. */
static void for_overlap_locked(struct blockdev *dev, uint64_t off, uint64_t len,
                               void (*fn)(struct bbuf *b, unsigned boff, uint64_t roff, unsigned n, void *ctx),
                               void *ctx)
{
    unsigned bs = dev->cache_block_size;
    if (!bs || !len || !bc_ready)
        return;
    for (uint64_t blk = off / bs; blk * bs < off + len; blk++) {
        struct bbuf *b = lookup_locked(dev, blk);
        if (!b)
            continue;
        uint64_t start = MAX(off, blk * bs), end = MIN(off + len, (blk + 1) * bs);
        fn(b, (unsigned)(start - blk * bs), start - off, (unsigned)(end - start), ctx);
    }
}

static void overlay_one(struct bbuf *b, unsigned boff, uint64_t roff, unsigned n, void *ctx)
{
    if (b->dirty)
        memcpy((uint8_t *)ctx + roff, (uint8_t *)b->data + boff, n);
}

void bcache_overlay_dirty(struct blockdev *dev, uint64_t off, void *buf, size_t len)
{
    if (!bc_dirty_bytes)
        return;
    irqflags_t f = spin_lock(&bc_lock);
    for_overlap_locked(dev, off, len, overlay_one, buf);
    spin_unlock(&bc_lock, f);
}

static void update_one(struct bbuf *b, unsigned boff, uint64_t roff, unsigned n, void *ctx)
{
    if (b->uptodate)
        memcpy((uint8_t *)b->data + boff, (const uint8_t *)ctx + roff, n);
}

void bcache_update(struct blockdev *dev, uint64_t off, const void *buf, size_t len)
{
    irqflags_t f = spin_lock(&bc_lock);
    for_overlap_locked(dev, off, len, update_one, (void *)buf);
    spin_unlock(&bc_lock, f);
}

static void zero_one(struct bbuf *b, unsigned boff, uint64_t roff, unsigned n, void *ctx)
{
    (void)roff;
    (void)ctx;
    memset((uint8_t *)b->data + boff, 0, n);
    if (n == b->block_size)
        set_dirty_locked(b, false); /* the disk already holds exactly this */
}

void bcache_zero(struct blockdev *dev, uint64_t off, uint64_t len)
{
    irqflags_t f = spin_lock(&bc_lock);
    for_overlap_locked(dev, off, len, zero_one, NULL);
    spin_unlock(&bc_lock, f);
}

static void invalidate_one(struct bbuf *b, unsigned boff, uint64_t roff, unsigned n, void *ctx)
{
    (void)boff;
    (void)roff;
    (void)n;
    (void)ctx;
    set_dirty_locked(b, false);
    if (!b->busy)
        b->uptodate = false; /* the next bread reads what the disk says now */
}

void bcache_invalidate(struct blockdev *dev, uint64_t off, uint64_t len)
{
    irqflags_t f = spin_lock(&bc_lock);
    for_overlap_locked(dev, off, len, invalidate_one, NULL);
    spin_unlock(&bc_lock, f);
}

/* ---- whole-device operations ---- */

int blockdev_cache_drop(struct blockdev *dev)
{
    int err = blockdev_sync(dev);
    struct list_node victims = LIST_INIT(victims);
    irqflags_t f = spin_lock(&bc_lock);
    if (bc_ready) {
        list_for_each_safe(pos, &lru) {
            struct bbuf *b = list_entry(pos, struct bbuf, lru);
            if (b->dev == dev && !b->dirty && !b->busy)
                unlink_locked(b, &victims);
        }
    }
    spin_unlock(&bc_lock, f);
    free_victims(&victims);
    return err;
}

/* ---- write-back and read-ahead in merged requests ---- */

/* Consecutive blocks go to the disk as one request of several segments. */
struct bcache_run {
    struct blockdev_req req;
    struct bcache_run *next;
    unsigned count;
    struct bbuf *blocks[BCACHE_READAHEAD_MAX];
    struct blockdev_seg segs[BCACHE_READAHEAD_MAX];
};

/* Referenced dirty blocks of dev, sorted by block number. */
static unsigned collect_dirty(struct blockdev *dev, struct bbuf ***out)
{
    unsigned n = 0, cap;
    irqflags_t f = spin_lock(&bc_lock);
    for (unsigned i = 0; bc_ready && i < BCACHE_BUCKETS; i++)
        list_for_each(pos, &buckets[i])
            n += list_entry(pos, struct bbuf, hash)->dev == dev && list_entry(pos, struct bbuf, hash)->dirty;
    spin_unlock(&bc_lock, f);
    if (!n)
        return 0;
    cap = n + 16; /* a few more may turn dirty meanwhile; the rest waits for the next sync */
    struct bbuf **list = kmalloc(cap * sizeof(*list));
    if (!list)
        return 0;
    n = 0;
    f = spin_lock(&bc_lock);
    for (unsigned i = 0; i < BCACHE_BUCKETS && n < cap; i++) {
        list_for_each(pos, &buckets[i]) {
            struct bbuf *b = list_entry(pos, struct bbuf, hash);
            if (b->dev == dev && b->dirty && n < cap) {
                get_locked(b);
                list[n++] = b;
            }
        }
    }
    spin_unlock(&bc_lock, f);
    for (unsigned i = 1; i < n; i++) { /* insertion sort: runs are mostly in order */
        struct bbuf *b = list[i];
        unsigned j = i;
        for (; j && list[j - 1]->block_no > b->block_no; j--)
            list[j] = list[j - 1];
        list[j] = b;
    }
    *out = list;
    return n;
}

static bool try_begin_write(struct bbuf *b)
{
    irqflags_t f = spin_lock(&bc_lock);
    bool ok = !b->busy && b->dirty;
    if (ok) {
        b->busy = true;
        set_dirty_locked(b, false);
    }
    spin_unlock(&bc_lock, f);
    return ok;
}

static void finish_run(struct bcache_run *run, int err, bool write)
{
    irqflags_t f = spin_lock(&bc_lock);
    for (unsigned i = 0; i < run->count; i++) {
        struct bbuf *b = run->blocks[i];
        if (write && err)
            set_dirty_locked(b, true);
        if (!write)
            b->uptodate = !err;
        end_io_locked(b);
        if (!write)
            put_locked(b); /* read-ahead held the only reference */
    }
    spin_unlock(&bc_lock, f);
    for (unsigned i = 0; i < run->count; i++)
        waitq_wake_all(&run->blocks[i]->wq);
}

static int submit_run(struct blockdev *dev, struct bcache_run *run, enum blockdev_op op)
{
    unsigned bs = run->blocks[0]->block_size;
    for (unsigned i = 0; i < run->count; i++)
        run->segs[i] = (struct blockdev_seg){ run->blocks[i]->data, bs };
    run->req.op = op;
    run->req.sector = run->blocks[0]->block_no * (bs / BLOCKDEV_SECTOR);
    run->req.count = run->count * (bs / BLOCKDEV_SECTOR);
    run->req.segs = run->segs;
    run->req.nsegs = run->count;
    return blockdev_submit_async(dev, &run->req);
}

static unsigned run_limit(struct blockdev *dev, unsigned bs)
{
    return MAX(1u, MIN((unsigned)BCACHE_READAHEAD_MAX, dev->max_sectors / (bs / BLOCKDEV_SECTOR)));
}

int blockdev_sync(struct blockdev *dev)
{
    if (dev->read_only)
        return 0;
    struct bbuf **list;
    unsigned n = collect_dirty(dev, &list);
    if (!n)
        return 0;
    struct bcache_run *pending = NULL;
    int err = 0;
    bool *skipped = kzalloc(n);
    unsigned limit = run_limit(dev, list[0]->block_size);
    for (unsigned i = 0; i < n;) {
        struct bcache_run *run = kzalloc(sizeof(*run));
        if (!run || !skipped) {
            kfree(run);
            err = -ENOMEM;
            break;
        }
        while (i < n && run->count < limit &&
               (!run->count || list[i]->block_no == run->blocks[run->count - 1]->block_no + 1)) {
            if (try_begin_write(list[i]))
                run->blocks[run->count++] = list[i];
            else if (skipped)
                skipped[i] = true; /* busy: written by blockdev_bwrite below */
            i++;
            if (skipped[i - 1])
                break;
        }
        if (!run->count) {
            kfree(run);
            continue;
        }
        run->req.done = NULL;
        int e = submit_run(dev, run, BLOCKDEV_OP_WRITE);
        if (e) {
            finish_run(run, e, true);
            kfree(run);
            err = err ? err : e;
            continue;
        }
        run->next = pending;
        pending = run;
    }
    while (pending) {
        struct bcache_run *run = pending;
        pending = run->next;
        int e = blockdev_wait(&run->req);
        finish_run(run, e, true);
        if (!e) {
            dev->writes++;
            dev->written_bytes += (uint64_t)run->req.count * BLOCKDEV_SECTOR;
        }
        err = err ? err : e;
        kfree(run);
    }
    for (unsigned i = 0; i < n; i++) {
        if (skipped && skipped[i] && !err)
            err = blockdev_bwrite(list[i]);
        blockdev_brelse(list[i]);
    }
    kfree(skipped);
    kfree(list);
    return err;
}

static void readahead_done(struct blockdev_req *req)
{
    struct bcache_run *run = container_of(req, struct bcache_run, req);
    finish_run(run, req->status, false);
    kfree(run);
}

/* Insert block blk as busy and referenced, unless it is cached already. */
static struct bbuf *readahead_claim(struct blockdev *dev, uint64_t blk, unsigned bs)
{
    struct bbuf *b = bbuf_alloc(dev, blk, bs);
    if (!b)
        return NULL;
    struct list_node victims = LIST_INIT(victims);
    irqflags_t f = spin_lock(&bc_lock);
    bool ok = bc_ready && dev->cache_block_size == bs && !lookup_locked(dev, blk);
    if (ok) {
        b->refs = 1;
        b->busy = true;
        list_add_tail(bucket_of(dev, blk), &b->hash);
        bc_bytes += bs;
        evict_locked(&victims);
    }
    spin_unlock(&bc_lock, f);
    free_victims(&victims);
    if (!ok) {
        kfree(b->data);
        kfree(b);
        return NULL;
    }
    return b;
}

void blockdev_readahead(struct blockdev *dev, uint64_t block_no, unsigned block_size, unsigned count)
{
    if (check_block(dev, block_no, block_size) || !count)
        return;
    if (!bc_ready || dev->cache_block_size != block_size) {
        struct bbuf *b; /* a first read sets the cache up for this block size */
        if (blockdev_bread(dev, block_no, block_size, &b))
            return;
        blockdev_brelse(b);
    }
    uint64_t nblocks = blockdev_size(dev) / block_size;
    count = (unsigned)MIN((uint64_t)count, nblocks - block_no);
    unsigned limit = run_limit(dev, block_size);
    struct bcache_run *run = NULL;
    for (unsigned i = 0; i <= count; i++) {
        struct bbuf *b = i < count ? readahead_claim(dev, block_no + i, block_size) : NULL;
        if (b) {
            if (!run && !(run = kzalloc(sizeof(*run)))) {
                finish_run(&(struct bcache_run){ .count = 1, .blocks = { b } }, -ENOMEM, false);
                return;
            }
            run->blocks[run->count++] = b;
        }
        if (run && (!b || run->count == limit)) {
            run->req.done = readahead_done;
            int e = submit_run(dev, run, BLOCKDEV_OP_READ);
            if (e) {
                finish_run(run, e, false);
                kfree(run);
            }
            run = NULL;
        }
    }
}
