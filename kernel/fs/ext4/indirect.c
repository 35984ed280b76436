/* The ext2/ext3 block map: 12 direct pointers, then single, double and triple
 * indirect blocks. Mapping (with runs of contiguous blocks), allocation of
 * new blocks with the indirect blocks they need, and truncation. */
#include "ext4_internal.h"

#define IND_DIRECT 12

/* The path to lblk: pointer indexes per level (level 0 in i_block). */
struct ind_path {
    unsigned depth;              /* 1: direct, 2: single, 3: double, 4: triple */
    uint32_t idx[4];
    uint64_t span[4];            /* blocks a pointer covers at each level */
};

static int ind_path(const struct ext4_fs *fs, uint32_t lblk, struct ind_path *p)
{
    uint64_t per = fs->block_size / 4, n = lblk;
    if (n < IND_DIRECT) {
        *p = (struct ind_path){ .depth = 1, .idx = { (uint32_t)n }, .span = { 1 } };
        return 0;
    }
    n -= IND_DIRECT;
    if (n < per) {
        *p = (struct ind_path){ .depth = 2, .idx = { 12, (uint32_t)n }, .span = { per, 1 } };
        return 0;
    }
    n -= per;
    if (n < per * per) {
        *p = (struct ind_path){ .depth = 3, .idx = { 13, (uint32_t)(n / per), (uint32_t)(n % per) },
                                .span = { per * per, per, 1 } };
        return 0;
    }
    n -= per * per;
    if (n < per * per * per) {
        *p = (struct ind_path){ .depth = 4,
                                .idx = { 14, (uint32_t)(n / (per * per)), (uint32_t)(n / per % per),
                                         (uint32_t)(n % per) },
                                .span = { per * per * per, per * per, per, 1 } };
        return 0;
    }
    return -EFBIG;
}

static int ptr_check(struct ext4_fs *fs, const struct ext4_inode *ei, uint32_t ptr)
{
    if (ptr && !ext4_block_valid(fs, ptr)) {
        ext4_err(fs, "inode %u has a block pointer %u outside the file system", ei->ino, ptr);
        return -EFSCORRUPTED;
    }
    return 0;
}

/* Blocks from position idx of a pointer table that continue pblk contiguously. */
static uint32_t run_length(const uint32_t *tab, uint32_t idx, uint32_t n, uint32_t pblk)
{
    uint32_t len = 1;
    while (idx + len < n && tab[idx + len] == pblk + len)
        len++;
    return len;
}

int ext4_ind_map(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, struct ext4_map *m)
{
    struct ind_path p;
    m->uninit = false;
    if (ind_path(fs, lblk, &p)) {
        m->pblk = 0;
        m->len = (uint32_t)MIN(EXT4_MAX_FILE_BLOCKS + 1 - lblk, (uint64_t)UINT32_MAX);
        return 0;
    }
    uint32_t per = fs->block_size / 4;
    uint32_t ptr = ei->block[p.idx[0]];
    int err = ptr_check(fs, ei, ptr);
    if (err)
        return err;
    if (p.depth == 1 && ptr) {
        m->pblk = ptr;
        m->len = run_length(ei->block, p.idx[0], IND_DIRECT, ptr);
        return 0;
    }
    for (unsigned lv = 1; lv < p.depth && ptr; lv++) {
        struct ext4_buf *b;
        if ((err = ext4_bread(fs, ptr, &b)) != 0)
            return err;
        const uint32_t *tab = (const uint32_t *)b->data;
        ptr = tab[p.idx[lv]];
        if ((err = ptr_check(fs, ei, ptr)) == 0 && ptr && lv == p.depth - 1) {
            m->pblk = ptr;
            m->len = run_length(tab, p.idx[lv], per, ptr);
            ext4_brelse(fs, b);
            return 0;
        }
        ext4_brelse(fs, b);
        if (err)
            return err;
        if (!ptr) { /* a hole covering the rest of this pointer's subtree */
            uint64_t span = p.span[lv], within = 0;
            for (unsigned k = lv + 1; k < p.depth; k++)
                within += p.idx[k] * p.span[k];
            m->pblk = 0;
            m->len = (uint32_t)(span - within);
            return 0;
        }
    }
    /* a hole at the top: the whole subtree of that i_block pointer */
    uint64_t within = 0;
    for (unsigned k = 1; k < p.depth; k++)
        within += p.idx[k] * p.span[k];
    m->pblk = 0;
    m->len = (uint32_t)(p.span[0] - within);
    return 0;
}

/* ---- allocation ---- */

/* A new, zeroed indirect block (metadata: through the cache). */
static int new_table(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t goal, uint32_t *out)
{
    uint32_t one = 1;
    uint64_t blk;
    int err = ext4_alloc_blocks(fs, goal, &one, &blk);
    if (err)
        return err;
    if (blk > UINT32_MAX) {
        ext4_free_blocks(fs, blk, 1);
        return -ENOSPC;
    }
    struct ext4_buf *b;
    if ((err = ext4_bget_new(fs, blk, &b)) != 0) {
        ext4_free_blocks(fs, blk, 1);
        return err;
    }
    memset(b->data, 0, fs->block_size);
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    ext4_inode_add_blocks(fs, ei, 1);
    *out = (uint32_t)blk;
    return 0;
}

int ext4_ind_alloc(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t len, uint32_t *got,
                   uint64_t *pblk)
{
    struct ind_path p;
    if (ind_path(fs, lblk, &p))
        return -EFBIG;
    uint32_t per = fs->block_size / 4;
    uint64_t goal = ext4_block_goal(fs, ei, lblk);
    uint32_t *slot = &ei->block[p.idx[0]];
    struct ext4_buf *held = NULL;
    int err = 0;
    for (unsigned lv = 1; lv < p.depth && !err; lv++) {
        if (*slot == 0 && (err = new_table(fs, ei, goal, slot)) == 0 && held)
            ext4_bdirty(fs, held);
        struct ext4_buf *b = NULL;
        if (!err)
            err = ext4_bread(fs, *slot, &b);
        ext4_brelse(fs, held);
        held = b;
        if (!err)
            slot = (uint32_t *)b->data + p.idx[lv];
    }
    if (!err) {
        uint32_t room = p.depth == 1 ? 1 : per - p.idx[p.depth - 1];
        uint32_t count = MIN(len, room);
        err = ext4_alloc_blocks(fs, goal, &count, pblk);
        if (!err && *pblk + count > (uint64_t)UINT32_MAX + 1) {
            ext4_free_blocks(fs, *pblk, count);
            err = -ENOSPC;
        }
        if (!err) {
            for (uint32_t i = 0; i < count; i++)
                slot[i] = (uint32_t)(*pblk + i);
            if (held)
                ext4_bdirty(fs, held);
            ext4_inode_add_blocks(fs, ei, count);
            *got = count;
        }
    }
    ext4_brelse(fs, held);
    ei->map_valid = false;
    return err;
}

/* ---- truncation ---- */

/* Frees are gathered into runs: a block map of a large file frees its
 * blocks one pointer at a time. */
struct free_batch {
    struct ext4_fs *fs;
    struct ext4_inode *ei;
    uint64_t start, len;
    int err;
};

static void batch_flush(struct free_batch *fb)
{
    if (fb->len) {
        int err = ext4_free_blocks(fb->fs, fb->start, fb->len);
        if (err && !fb->err)
            fb->err = err;
        ext4_inode_add_blocks(fb->fs, fb->ei, -(int64_t)fb->len);
    }
    fb->len = 0;
}

static void batch_add(struct free_batch *fb, uint32_t blk)
{
    if (fb->len && fb->start + fb->len == blk) {
        fb->len++;
        return;
    }
    batch_flush(fb);
    fb->start = blk;
    fb->len = 1;
}

/* Cut the subtree behind *slot (level: 1 single .. 3 triple indirect),
 * which maps [base, base + span), from file block `from` on. */
static void trunc_table(struct free_batch *fb, uint32_t *slot, struct ext4_buf *slot_buf, unsigned level,
                        uint64_t base, uint64_t span, uint64_t from)
{
    struct ext4_fs *fs = fb->fs;
    if (*slot == 0 || from >= base + span || fb->err)
        return;
    if (ptr_check(fs, fb->ei, *slot)) {
        fb->err = -EFSCORRUPTED;
        return;
    }
    struct ext4_buf *b;
    if ((fb->err = ext4_bread(fs, *slot, &b)) != 0)
        return;
    uint32_t per = fs->block_size / 4, *tab = (uint32_t *)b->data;
    uint64_t cspan = span / per;
    for (uint32_t k = 0; k < per && !fb->err; k++) {
        uint64_t cb = base + k * cspan;
        if (cb + cspan <= from || !tab[k])
            continue;
        if (level == 1) {
            if (ptr_check(fs, fb->ei, tab[k])) {
                fb->err = -EFSCORRUPTED;
                break;
            }
            batch_add(fb, tab[k]);
            tab[k] = 0;
        } else {
            trunc_table(fb, &tab[k], b, level - 1, cb, cspan, from);
        }
    }
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    if (from <= base && !fb->err) { /* nothing left under this pointer */
        batch_add(fb, *slot);
        *slot = 0;
        if (slot_buf)
            ext4_bdirty(fs, slot_buf);
    }
}

int ext4_ind_truncate(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t from)
{
    struct free_batch fb = { fs, ei, 0, 0, 0 };
    uint64_t per = fs->block_size / 4;
    for (uint32_t i = from; i < IND_DIRECT; i++) {
        if (ei->block[i] && !ptr_check(fs, ei, ei->block[i]))
            batch_add(&fb, ei->block[i]);
        ei->block[i] = 0;
    }
    uint64_t base = IND_DIRECT, span = per;
    for (unsigned level = 1; level <= 3; level++) {
        trunc_table(&fb, &ei->block[IND_DIRECT + level - 1], NULL, level, base, span, from);
        base += span;
        span *= per;
    }
    batch_flush(&fb);
    ei->map_valid = false;
    return fb.err;
}
