/* The ext4 metadata block cache: bitmaps, inode tables, directory, extent and
 * indirect blocks, hashed by block number, reclaimed oldest first. Dirty
 * blocks are written by ext4_bcache_flush at the end of each change. File
 * data does not pass through here. The caller (one file-system lock)
 * serialises every call. */
#include "ext4_internal.h"

static unsigned bucket_of(const struct ext4_bcache *bc, uint64_t blk)
{
    uint64_t h = blk * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 40) & (bc->nbuckets - 1);
}

int ext4_bcache_init(struct ext4_fs *fs, unsigned max_blocks)
{
    struct ext4_bcache *bc = &fs->bc;
    bc->nbuckets = 256;
    while (bc->nbuckets < max_blocks && bc->nbuckets < 8192)
        bc->nbuckets *= 2;
    bc->buckets = kmalloc(sizeof(*bc->buckets) * bc->nbuckets);
    if (!bc->buckets)
        return -ENOMEM;
    for (unsigned i = 0; i < bc->nbuckets; i++)
        list_init(&bc->buckets[i]);
    list_init(&bc->lru);
    bc->count = bc->dirty = 0;
    bc->max = max_blocks;
    return 0;
}

int ext4_dev_read_blocks(struct ext4_fs *fs, uint64_t blk, uint64_t n, void *buf)
{
    if (!ext4_block_range_valid(fs, blk, n))
        return -EFSCORRUPTED;
    return fs->io.read(fs->io.ctx, blk * fs->block_size, buf, (size_t)(n * fs->block_size));
}

int ext4_dev_write_blocks(struct ext4_fs *fs, uint64_t blk, uint64_t n, const void *buf)
{
    if (fs->read_only)
        return -EROFS;
    if (!ext4_block_range_valid(fs, blk, n))
        return -EFSCORRUPTED;
    return fs->io.write(fs->io.ctx, blk * fs->block_size, buf, (size_t)(n * fs->block_size));
}

static int buf_write(struct ext4_fs *fs, struct ext4_buf *b)
{
    int err = ext4_dev_write_blocks(fs, b->blk, 1, b->data);
    if (err) {
        ext4_err(fs, "error %d writing block %lu", err, (unsigned long)b->blk);
        return err;
    }
    b->dirty = false;
    fs->bc.dirty--;
    return 0;
}

static void buf_free(struct ext4_fs *fs, struct ext4_buf *b)
{
    list_remove(&b->hash_link);
    list_remove(&b->lru_link);
    if (b->dirty)
        fs->bc.dirty--;
    fs->bc.count--;
    kfree(b->data);
    kfree(b);
}

/* Make room: drop unreferenced clean buffers, oldest first. Dirty ones wait
 * for the end of the change (ext4_bcache_flush), so metadata never reaches
 * the disk before the data it points to; the cache may overshoot meanwhile. */
static void bcache_shrink(struct ext4_fs *fs)
{
    struct ext4_bcache *bc = &fs->bc;
    list_for_each_safe(n, &bc->lru) {
        if (bc->count < bc->max)
            break;
        struct ext4_buf *b = list_entry(n, struct ext4_buf, lru_link);
        if (!b->dirty)
            buf_free(fs, b);
    }
}

static struct ext4_buf *bcache_find(struct ext4_fs *fs, uint64_t blk)
{
    struct list_node *head = &fs->bc.buckets[bucket_of(&fs->bc, blk)];
    list_for_each(n, head) {
        struct ext4_buf *b = list_entry(n, struct ext4_buf, hash_link);
        if (b->blk == blk)
            return b;
    }
    return NULL;
}

static struct ext4_buf *buf_take(struct ext4_buf *b)
{
    if (b->refs++ == 0)
        list_remove(&b->lru_link);
    return b;
}

static int bcache_get(struct ext4_fs *fs, uint64_t blk, bool read, struct ext4_buf **out)
{
    if (!ext4_block_valid(fs, blk)) {
        ext4_err(fs, "block %lu is outside the file system (%lu blocks)", (unsigned long)blk,
                 (unsigned long)fs->blocks_count);
        return -EFSCORRUPTED;
    }
    struct ext4_buf *b = bcache_find(fs, blk);
    if (b) {
        *out = buf_take(b);
        return 0;
    }
    if (fs->bc.count >= fs->bc.max)
        bcache_shrink(fs);
    b = kzalloc(sizeof(*b));
    uint8_t *data = b ? kmalloc(fs->block_size) : NULL;
    if (!data) {
        kfree(b);
        return -ENOMEM;
    }
    b->data = data;
    b->blk = blk;
    if (read) {
        int err = ext4_dev_read_blocks(fs, blk, 1, data);
        if (err) {
            ext4_err(fs, "error %d reading block %lu", err, (unsigned long)blk);
            kfree(data);
            kfree(b);
            return err;
        }
    }
    list_init(&b->lru_link);
    list_add_head(&fs->bc.buckets[bucket_of(&fs->bc, blk)], &b->hash_link);
    fs->bc.count++;
    b->refs = 1;
    *out = b;
    return 0;
}

int ext4_bread(struct ext4_fs *fs, uint64_t blk, struct ext4_buf **out)
{
    return bcache_get(fs, blk, true, out);
}

int ext4_bget_new(struct ext4_fs *fs, uint64_t blk, struct ext4_buf **out)
{
    return bcache_get(fs, blk, false, out);
}

void ext4_brelse(struct ext4_fs *fs, struct ext4_buf *b)
{
    if (!b)
        return;
    if (--b->refs == 0) {
        list_add_tail(&fs->bc.lru, &b->lru_link);
        if (b->forgotten)
            buf_free(fs, b);
    }
}

void ext4_bdirty(struct ext4_fs *fs, struct ext4_buf *b)
{
    if (!b->dirty) {
        b->dirty = true;
        fs->bc.dirty++;
    }
}

void ext4_bforget(struct ext4_fs *fs, uint64_t blk)
{
    struct ext4_buf *b = bcache_find(fs, blk);
    if (!b)
        return;
    if (b->refs) { /* still in use by the caller: never written, dropped when released */
        if (b->dirty) {
            b->dirty = false;
            fs->bc.dirty--;
        }
        b->forgotten = true;
        list_remove(&b->hash_link); /* the block's next owner reads it afresh */
        return;
    }
    buf_free(fs, b);
}

int ext4_bcache_flush(struct ext4_fs *fs)
{
    if (!fs->bc.dirty)
        return 0;
    int first_err = 0;
    for (unsigned i = 0; i < fs->bc.nbuckets && fs->bc.dirty; i++) {
        list_for_each(n, &fs->bc.buckets[i]) {
            struct ext4_buf *b = list_entry(n, struct ext4_buf, hash_link);
            if (!b->dirty)
                continue;
            int err = buf_write(fs, b);
            if (err && !first_err)
                first_err = err;
        }
    }
    return first_err;
}

void ext4_bcache_destroy(struct ext4_fs *fs)
{
    struct ext4_bcache *bc = &fs->bc;
    if (!bc->buckets)
        return;
    for (unsigned i = 0; i < bc->nbuckets; i++) {
        while (!list_empty(&bc->buckets[i])) {
            struct ext4_buf *b = list_entry(bc->buckets[i].next, struct ext4_buf, hash_link);
            buf_free(fs, b);
        }
    }
    kfree(bc->buckets);
    bc->buckets = NULL;
}
