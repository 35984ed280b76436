/* Allocation: runs of free blocks near a goal, inodes (directories spread
 * over groups, files near their directory), and freeing both. Every change
 * keeps the bitmap, its checksum, the group descriptor and the superblock's
 * totals in step. */
#include "ext4_internal.h"

static inline bool bit_test(const uint8_t *map, uint32_t i)
{
    return (map[i >> 3] >> (i & 7)) & 1;
}

static inline void bit_set(uint8_t *map, uint32_t i)
{
    map[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static inline void bit_clear(uint8_t *map, uint32_t i)
{
    map[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* The first clear bit in [start, n), or n. */
static uint32_t find_zero(const uint8_t *map, uint32_t start, uint32_t n)
{
    uint32_t i = start;
    while (i < n && (i & 63)) {
        if (!bit_test(map, i))
            return i;
        i++;
    }
    while (i + 64 <= n) {
        uint64_t w;
        memcpy(&w, map + i / 8, 8);
        if (w != ~0ull)
            return i + (uint32_t)__builtin_ctzll(~w);
        i += 64;
    }
    while (i < n && bit_test(map, i))
        i++;
    return i;
}

/* ---- blocks ---- */

/* Take up to want free blocks at or after bit `from` of group g's bitmap. */
static int alloc_in_group(struct ext4_fs *fs, uint32_t g, uint32_t from, uint32_t want, uint64_t *out,
                          uint32_t *got)
{
    if (ext4_gd_free_blocks(fs, g) == 0)
        return -ENOSPC;
    struct ext4_buf *b;
    int err = ext4_read_block_bitmap(fs, g, &b);
    if (err)
        return err;
    uint32_t n = ext4_group_blocks(fs, g);
    uint32_t i = find_zero(b->data, from < n ? from : 0, n);
    if (i >= n && from)
        i = find_zero(b->data, 0, n);
    if (i >= n) {
        ext4_brelse(fs, b);
        return -ENOSPC;
    }
    uint32_t len = 0;
    while (len < want && i + len < n && !bit_test(b->data, i + len))
        bit_set(b->data, i + len++);
    uint32_t freeb = ext4_gd_free_blocks(fs, g);
    ext4_gd_set_free_blocks(fs, g, freeb >= len ? freeb - len : 0);
    ext4_block_bitmap_csum_set(fs, g, b);
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    ext4_gd_dirty(fs, g);
    fs->free_blocks -= len;
    fs->map_changes++;
    ext4_super_dirty(fs);
    *out = ext4_group_first_block(fs, g) + i;
    *got = len;
    return 0;
}

int ext4_alloc_blocks(struct ext4_fs *fs, uint64_t goal, uint32_t *count, uint64_t *out)
{
    if (fs->read_only)
        return -EROFS;
    if (fs->free_blocks == 0 || *count == 0)
        return -ENOSPC;
    if (!ext4_block_valid(fs, goal))
        goal = ext4_group_first_block(fs, fs->alloc_group_hint % fs->group_count);
    uint32_t g0 = ext4_block_group(fs, goal);
    uint32_t from = (uint32_t)(goal - ext4_group_first_block(fs, g0));
    for (uint32_t k = 0; k < fs->group_count; k++) {
        uint32_t g = (g0 + k) % fs->group_count, got;
        int err = alloc_in_group(fs, g, k == 0 ? from : 0, *count, out, &got);
        if (err == -ENOSPC)
            continue;
        if (err)
            return err;
        if (*out < fs->first_data_block + 1 + fs->gdt_blocks && !ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG)) {
            ext4_err(fs, "block bitmap of group %u offers metadata block %lu", g, (unsigned long)*out);
            return -EFSCORRUPTED;
        }
        *count = got;
        fs->alloc_group_hint = g;
        return 0;
    }
    return -ENOSPC;
}

int ext4_free_blocks(struct ext4_fs *fs, uint64_t blk, uint64_t n)
{
    if (!ext4_block_range_valid(fs, blk, n)) {
        ext4_err(fs, "freeing blocks %lu+%lu outside the file system", (unsigned long)blk, (unsigned long)n);
        return -EFSCORRUPTED;
    }
    while (n) {
        uint32_t g = ext4_block_group(fs, blk);
        uint32_t i = (uint32_t)(blk - ext4_group_first_block(fs, g));
        uint32_t len = (uint32_t)MIN(n, (uint64_t)ext4_group_blocks(fs, g) - i);
        struct ext4_buf *b;
        int err = ext4_read_block_bitmap(fs, g, &b);
        if (err)
            return err;
        uint32_t freed = 0;
        for (uint32_t k = 0; k < len; k++) {
            if (!bit_test(b->data, i + k)) {
                ext4_err(fs, "block %lu was already free", (unsigned long)(blk + k));
                continue;
            }
            bit_clear(b->data, i + k);
            ext4_bforget(fs, blk + k);
            freed++;
        }
        ext4_gd_set_free_blocks(fs, g, ext4_gd_free_blocks(fs, g) + freed);
        ext4_block_bitmap_csum_set(fs, g, b);
        ext4_bdirty(fs, b);
        ext4_brelse(fs, b);
        ext4_gd_dirty(fs, g);
        fs->free_blocks += freed;
        fs->map_changes++;
        blk += len;
        n -= len;
    }
    ext4_super_dirty(fs);
    return 0;
}

uint64_t ext4_block_goal(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk)
{
    if (lblk > 0 && !(ei->flags & EXT4_INLINE_DATA_FL)) {
        struct ext4_map m;
        if (ext4_map_block(fs, ei, lblk - 1, 1, &m) == 0 && m.pblk)
            return m.pblk + 1;
    }
    uint32_t g = (ei->ino - 1) / fs->inodes_per_group;
    /* with flex_bg, data follows the flex group's metadata in its first group */
    if (ext4_has_incompat(fs, EXT4_INCOMPAT_FLEX_BG) && fs->sb.log_groups_per_flex < 32)
        g &= ~((1u << fs->sb.log_groups_per_flex) - 1);
    return ext4_group_first_block(fs, g);
}

/* ---- inodes ---- */

/* Directories go to a group with free inodes above the average and the most
 * free blocks; files near their directory. */
static uint32_t pick_group(struct ext4_fs *fs, uint32_t parent_ino, bool dir)
{
    uint32_t pg = parent_ino ? (parent_ino - 1) / fs->inodes_per_group : 0;
    if (!dir || fs->group_count == 1)
        return pg;
    uint32_t avg = fs->free_inodes / fs->group_count, best = pg;
    uint32_t best_blocks = 0;
    for (uint32_t k = 0; k < fs->group_count; k++) {
        uint32_t g = (pg + k) % fs->group_count;
        if (ext4_gd_free_inodes(fs, g) < MAX(avg, 1u))
            continue;
        if (ext4_gd_free_blocks(fs, g) > best_blocks) {
            best_blocks = ext4_gd_free_blocks(fs, g);
            best = g;
        }
    }
    return best;
}

/* Lazily initialised tables may hold garbage past itable_unused: clear
 * records [from, to) of group g before they enter the range fsck scans. */
static int zero_inode_records(struct ext4_fs *fs, uint32_t g, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        uint64_t byte = (uint64_t)i * fs->inode_size;
        struct ext4_buf *b;
        int err = ext4_bread(fs, ext4_gd_inode_table(fs, g) + (byte >> fs->log_block_size), &b);
        if (err)
            return err;
        memset(b->data + (byte & (fs->block_size - 1)), 0, fs->inode_size);
        ext4_bdirty(fs, b);
        ext4_brelse(fs, b);
    }
    return 0;
}

static int take_inode(struct ext4_fs *fs, uint32_t g, bool dir, uint32_t *out)
{
    if (ext4_gd_free_inodes(fs, g) == 0)
        return -ENOSPC;
    struct ext4_buf *b;
    int err = ext4_read_inode_bitmap(fs, g, &b);
    if (err)
        return err;
    uint32_t first = g == 0 ? fs->first_ino - 1 : 0; /* the reserved inodes are never handed out */
    uint32_t i = find_zero(b->data, first, fs->inodes_per_group);
    if (i >= fs->inodes_per_group) {
        ext4_brelse(fs, b);
        return -ENOSPC;
    }
    struct ext4_group_desc *d = ext4_gd(fs, g);
    if (fs->csum || fs->gdt_csum) {
        uint32_t unused = ext4_gd_itable_unused(fs, g), used_end = fs->inodes_per_group - unused;
        if (i >= used_end) {
            if (!(d->flags & EXT4_BG_INODE_ZEROED) && (err = zero_inode_records(fs, g, used_end, i)) != 0) {
                ext4_brelse(fs, b);
                return err;
            }
            ext4_gd_set_itable_unused(fs, g, fs->inodes_per_group - i - 1);
        }
    }
    bit_set(b->data, i);
    ext4_inode_bitmap_csum_set(fs, g, b);
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    ext4_gd_set_free_inodes(fs, g, ext4_gd_free_inodes(fs, g) - 1);
    if (dir)
        ext4_gd_set_used_dirs(fs, g, ext4_gd_used_dirs(fs, g) + 1);
    ext4_gd_dirty(fs, g);
    fs->free_inodes--;
    ext4_super_dirty(fs);
    *out = g * fs->inodes_per_group + i + 1;
    return 0;
}

int ext4_alloc_inode(struct ext4_fs *fs, uint32_t parent_ino, bool dir, uint32_t *out)
{
    if (fs->read_only)
        return -EROFS;
    if (fs->free_inodes == 0)
        return -ENOSPC;
    uint32_t g0 = pick_group(fs, parent_ino, dir);
    for (uint32_t k = 0; k < fs->group_count; k++) {
        int err = take_inode(fs, (g0 + k) % fs->group_count, dir, out);
        if (err != -ENOSPC)
            return err;
    }
    return -ENOSPC;
}

int ext4_free_inode(struct ext4_fs *fs, uint32_t ino, bool dir)
{
    if (ino < fs->first_ino || ino > fs->inodes_count)
        return -EFSCORRUPTED;
    uint32_t g = (ino - 1) / fs->inodes_per_group, i = (ino - 1) % fs->inodes_per_group;
    struct ext4_buf *b;
    int err = ext4_read_inode_bitmap(fs, g, &b);
    if (err)
        return err;
    if (!bit_test(b->data, i)) {
        ext4_err(fs, "inode %u was already free", ino);
        ext4_brelse(fs, b);
        return -EFSCORRUPTED;
    }
    bit_clear(b->data, i);
    ext4_inode_bitmap_csum_set(fs, g, b);
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    ext4_gd_set_free_inodes(fs, g, ext4_gd_free_inodes(fs, g) + 1);
    if (dir && ext4_gd_used_dirs(fs, g))
        ext4_gd_set_used_dirs(fs, g, ext4_gd_used_dirs(fs, g) - 1);
    ext4_gd_dirty(fs, g);
    fs->free_inodes++;
    ext4_super_dirty(fs);
    return 0;
}
