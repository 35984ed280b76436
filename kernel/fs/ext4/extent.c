/* The extent tree, read side: checking nodes (magic, entry counts, depth,
 * order, block ranges, checksum tail) and mapping a file block to a disk
 * block, a hole, or an uninitialized extent (which reads as zeros). */
#include "ext4_extent.h"

static inline const struct ext4_extent_header *root_header(const struct ext4_inode *ei)
{
    return (const struct ext4_extent_header *)ei->block;
}

int ext4_extent_check_root(struct ext4_fs *fs, const struct ext4_inode *ei)
{
    const struct ext4_extent_header *h = root_header(ei);
    const char *why = NULL;
    if (h->magic != EXT4_EXT_MAGIC)
        why = "bad magic";
    else if (h->max == 0 || h->max > EXT4_EXT_ROOT_MAX)
        why = "bad capacity";
    else if (h->entries > h->max)
        why = "more entries than room";
    else if (h->depth > EXT4_EXT_MAX_DEPTH)
        why = "too deep";
    else
        return ext4_ext_check_entries(fs, ei->ino, h);
    ext4_err(fs, "inode %u has a corrupt extent root: %s", ei->ino, why);
    return -EFSCORRUPTED;
}

static uint32_t node_tail_csum(const struct ext4_inode *ei, const uint8_t *blk,
                               const struct ext4_extent_header *h)
{
    return ext4_crc32c(ei->csum_seed, blk, EXT4_EXT_TAIL_OFFSET(h));
}

void ext4_ext_csum_set(struct ext4_fs *fs, const struct ext4_inode *ei, uint8_t *blk)
{
    if (!fs->csum)
        return;
    const struct ext4_extent_header *h = (const struct ext4_extent_header *)blk;
    put_le32(blk + EXT4_EXT_TAIL_OFFSET(h), node_tail_csum(ei, blk, h));
}

/* Entries sorted, inside the file's 32-bit block space and the device. */
int ext4_ext_check_entries(struct ext4_fs *fs, uint32_t ino, const struct ext4_extent_header *h)
{
    uint64_t next_free = 0; /* the first file block the next entry may start at */
    for (uint32_t i = 0; i < h->entries; i++) {
        const char *why = NULL;
        if (h->depth == 0) {
            const struct ext4_extent *e = EXT4_EXT_FIRST(h) + i;
            uint32_t len = ext4_ext_len(e);
            uint64_t start = ext4_ext_pblk(e);
            if (len == 0)
                why = "an empty extent";
            else if (e->block < next_free)
                why = "overlapping or unsorted extents";
            else if ((uint64_t)e->block + len > EXT4_MAX_FILE_BLOCKS + 1)
                why = "an extent past the largest file block";
            else if (!ext4_block_range_valid(fs, start, len))
                why = "an extent outside the file system";
            next_free = (uint64_t)e->block + len;
        } else {
            const struct ext4_extent_idx *x = EXT4_EXT_FIRST_IDX(h) + i;
            if (i > 0 && x->block < next_free)
                why = "unsorted index entries";
            else if (!ext4_block_valid(fs, ext4_idx_pblk(x)))
                why = "an index pointing outside the file system";
            next_free = (uint64_t)x->block + 1;
        }
        if (why) {
            ext4_err(fs, "inode %u extent tree (depth %u) is corrupt: %s", ino, h->depth, why);
            return -EFSCORRUPTED;
        }
    }
    return 0;
}

int ext4_ext_read_node(struct ext4_fs *fs, const struct ext4_inode *ei, uint64_t pblk, unsigned depth,
                       struct ext4_buf **out)
{
    struct ext4_buf *b;
    int err = ext4_bread(fs, pblk, &b);
    if (err)
        return err;
    if (b->checked) {
        *out = b;
        return 0;
    }
    const struct ext4_extent_header *h = (const struct ext4_extent_header *)b->data;
    const char *why = NULL;
    if (h->magic != EXT4_EXT_MAGIC)
        why = "bad magic";
    else if (h->max == 0 || h->max > EXT4_EXT_NODE_MAX(fs))
        why = "bad capacity";
    else if (h->entries > h->max)
        why = "more entries than room";
    else if (h->depth != depth)
        why = "wrong depth";
    else if (fs->csum && get_le32(b->data + EXT4_EXT_TAIL_OFFSET(h)) != node_tail_csum(ei, b->data, h))
        why = "checksum mismatch";
    if (why) {
        ext4_err(fs, "inode %u extent block %lu is corrupt: %s", ei->ino, (unsigned long)pblk, why);
        ext4_brelse(fs, b);
        return why[0] == 'c' ? -EFSBADCRC : -EFSCORRUPTED;
    }
    if ((err = ext4_ext_check_entries(fs, ei->ino, h)) != 0) {
        ext4_brelse(fs, b);
        return err;
    }
    b->checked = true;
    *out = b;
    return 0;
}

/* Index of the last entry whose first block is <= lblk, or -1. */
static int ext_search(const struct ext4_extent_header *h, uint32_t lblk)
{
    int lo = 0, hi = (int)h->entries - 1, found = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        uint32_t key = h->depth ? EXT4_EXT_FIRST_IDX(h)[mid].block : EXT4_EXT_FIRST(h)[mid].block;
        if (key <= lblk) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

static void map_from_leaf(const struct ext4_extent_header *h, uint32_t lblk, uint64_t next_key,
                          struct ext4_map *m, uint32_t *first)
{
    int i = ext_search(h, lblk);
    const struct ext4_extent *ex = EXT4_EXT_FIRST(h);
    if (i >= 0 && lblk < ex[i].block + ext4_ext_len(&ex[i])) {
        uint32_t off = lblk - ex[i].block;
        m->pblk = ext4_ext_pblk(&ex[i]) + off;
        m->len = ext4_ext_len(&ex[i]) - off;
        m->uninit = ext4_ext_is_uninit(&ex[i]);
        *first = lblk;
        return;
    }
    if (i + 1 < (int)h->entries)
        next_key = MIN(next_key, (uint64_t)ex[i + 1].block);
    m->pblk = 0;
    m->uninit = false;
    m->len = (uint32_t)MIN(next_key - lblk, (uint64_t)UINT32_MAX);
    *first = lblk;
}

int ext4_extent_map(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, struct ext4_map *m)
{
    if (ei->map_valid && lblk >= ei->map_lblk && lblk - ei->map_lblk < ei->map_len) {
        uint32_t off = lblk - ei->map_lblk;
        m->pblk = ei->map_pblk ? ei->map_pblk + off : 0;
        m->len = ei->map_len - off;
        m->uninit = ei->map_uninit;
        return 0;
    }
    const struct ext4_extent_header *h = root_header(ei);
    struct ext4_buf *b = NULL;
    uint64_t next_key = EXT4_MAX_FILE_BLOCKS + 1;
    unsigned depth = h->depth;
    while (h->depth > 0) {
        int i = ext_search(h, lblk);
        const struct ext4_extent_idx *ix = EXT4_EXT_FIRST_IDX(h);
        if (i < 0) { /* before the first index (or none): a hole up to it */
            if (h->entries)
                next_key = MIN(next_key, (uint64_t)ix[0].block);
            m->pblk = 0;
            m->uninit = false;
            m->len = (uint32_t)MIN(next_key - lblk, (uint64_t)UINT32_MAX);
            ext4_brelse(fs, b);
            return 0;
        }
        if (i + 1 < (int)h->entries)
            next_key = MIN(next_key, (uint64_t)ix[i + 1].block);
        struct ext4_buf *child;
        int err = ext4_ext_read_node(fs, ei, ext4_idx_pblk(&ix[i]), --depth, &child);
        ext4_brelse(fs, b);
        if (err)
            return err;
        b = child;
        h = (const struct ext4_extent_header *)b->data;
    }
    uint32_t first;
    map_from_leaf(h, lblk, next_key, m, &first);
    ext4_brelse(fs, b);
    ei->map_lblk = first;
    ei->map_len = m->len;
    ei->map_pblk = m->pblk;
    ei->map_uninit = m->uninit;
    ei->map_valid = m->len != 0;
    return 0;
}

void ext4_extent_init_root(struct ext4_inode *ei)
{
    memset(ei->block, 0, sizeof(ei->block));
    struct ext4_extent_header *h = (struct ext4_extent_header *)ei->block;
    h->magic = EXT4_EXT_MAGIC;
    h->max = EXT4_EXT_ROOT_MAX;
}
