/* Block groups: the descriptor table (32- or 64-byte descriptors, meta_bg
 * placement), its checksums (crc16 for uninit_bg, crc32c for metadata_csum),
 * the bounds every descriptor is checked against, and the block and inode
 * bitmaps with their checksums and lazy (*_UNINIT) initialisation. */
#include "ext4_internal.h"

#define GD_CSUM_OFFSET offsetof(struct ext4_group_desc, checksum)

static inline uint64_t gd_hi(const struct ext4_fs *fs, uint32_t hi)
{
    return fs->desc_size >= 64 ? (uint64_t)hi << 32 : 0;
}

uint64_t ext4_gd_block_bitmap(const struct ext4_fs *fs, uint32_t g)
{
    const struct ext4_group_desc *d = ext4_gd(fs, g);
    return d->block_bitmap_lo | gd_hi(fs, d->block_bitmap_hi);
}

uint64_t ext4_gd_inode_bitmap(const struct ext4_fs *fs, uint32_t g)
{
    const struct ext4_group_desc *d = ext4_gd(fs, g);
    return d->inode_bitmap_lo | gd_hi(fs, d->inode_bitmap_hi);
}

uint64_t ext4_gd_inode_table(const struct ext4_fs *fs, uint32_t g)
{
    const struct ext4_group_desc *d = ext4_gd(fs, g);
    return d->inode_table_lo | gd_hi(fs, d->inode_table_hi);
}

#define GD_COUNT(name, field)                                                     \
    uint32_t ext4_gd_##name(const struct ext4_fs *fs, uint32_t g)                 \
    {                                                                             \
        const struct ext4_group_desc *d = ext4_gd(fs, g);                         \
        return d->field##_lo | (fs->desc_size >= 64 ? (uint32_t)d->field##_hi << 16 : 0); \
    }                                                                             \
    void ext4_gd_set_##name(struct ext4_fs *fs, uint32_t g, uint32_t v)           \
    {                                                                             \
        struct ext4_group_desc *d = ext4_gd(fs, g);                               \
        d->field##_lo = (uint16_t)v;                                              \
        if (fs->desc_size >= 64)                                                  \
            d->field##_hi = (uint16_t)(v >> 16);                                  \
    }
GD_COUNT(free_blocks, free_blocks_count)
GD_COUNT(free_inodes, free_inodes_count)
GD_COUNT(used_dirs, used_dirs_count)
GD_COUNT(itable_unused, itable_unused)

static uint16_t gd_csum(const struct ext4_fs *fs, uint32_t g)
{
    const uint8_t *d = (const uint8_t *)ext4_gd(fs, g);
    uint8_t le_group[4];
    put_le32(le_group, g);
    if (fs->csum) {
        static const uint8_t zero[2];
        uint32_t c = ext4_crc32c(fs->csum_seed, le_group, 4);
        c = ext4_crc32c(c, d, GD_CSUM_OFFSET);
        c = ext4_crc32c(c, zero, 2);
        if (fs->desc_size > GD_CSUM_OFFSET + 2)
            c = ext4_crc32c(c, d + GD_CSUM_OFFSET + 2, fs->desc_size - GD_CSUM_OFFSET - 2);
        return (uint16_t)c;
    }
    uint16_t c = ext4_crc16(0xFFFF, fs->sb.uuid, sizeof(fs->sb.uuid));
    c = ext4_crc16(c, le_group, 4);
    c = ext4_crc16(c, d, GD_CSUM_OFFSET);
    if (fs->desc_size > GD_CSUM_OFFSET + 2)
        c = ext4_crc16(c, d + GD_CSUM_OFFSET + 2, fs->desc_size - GD_CSUM_OFFSET - 2);
    return c;
}

uint64_t ext4_gdt_block_location(const struct ext4_fs *fs, uint32_t i)
{
    if (!ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG) || i < fs->sb.first_meta_bg)
        return fs->first_data_block + 1 + (uint64_t)i;
    uint32_t g = i * fs->desc_per_block;
    return ext4_group_first_block(fs, g) + (ext4_group_has_super(fs, g) ? 1 : 0);
}

static uint32_t itable_blocks(const struct ext4_fs *fs)
{
    return (uint32_t)DIV_ROUND_UP((uint64_t)fs->inodes_per_group * fs->inode_size, fs->block_size);
}

/* A structure of n blocks at blk must lie in the file system and, without
 * flex_bg, inside its own group; never on group 0's superblock or table. */
static bool gd_place_ok(const struct ext4_fs *fs, uint32_t g, uint64_t blk, uint64_t n)
{
    if (!ext4_block_range_valid(fs, blk, n))
        return false;
    if (blk <= fs->first_data_block + fs->gdt_blocks && !ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG))
        return false;
    if (ext4_has_incompat(fs, EXT4_INCOMPAT_FLEX_BG))
        return true;
    uint64_t first = ext4_group_first_block(fs, g);
    return blk >= first && blk + n <= first + ext4_group_blocks(fs, g);
}

static int gd_check(struct ext4_fs *fs, uint32_t g)
{
    struct ext4_group_desc *d = ext4_gd(fs, g);
    if ((fs->csum || fs->gdt_csum) && d->checksum != gd_csum(fs, g)) {
        ext4_err(fs, "refused: group %u descriptor checksum mismatch (0x%04x, want 0x%04x)", g,
                 d->checksum, gd_csum(fs, g));
        return -EFSBADCRC;
    }
    const char *what = NULL;
    if (!gd_place_ok(fs, g, ext4_gd_block_bitmap(fs, g), 1))
        what = "block bitmap";
    else if (!gd_place_ok(fs, g, ext4_gd_inode_bitmap(fs, g), 1))
        what = "inode bitmap";
    else if (!gd_place_ok(fs, g, ext4_gd_inode_table(fs, g), itable_blocks(fs)))
        what = "inode table";
    else if (ext4_gd_free_blocks(fs, g) > ext4_group_blocks(fs, g))
        what = "free block count";
    else if (ext4_gd_free_inodes(fs, g) > fs->inodes_per_group || ext4_gd_used_dirs(fs, g) > fs->inodes_per_group ||
             ext4_gd_itable_unused(fs, g) > fs->inodes_per_group)
        what = "inode counts";
    if (what) {
        ext4_err(fs, "refused: group %u descriptor has a bad %s", g, what);
        return -EFSCORRUPTED;
    }
    return 0;
}

int ext4_groups_load(struct ext4_fs *fs)
{
    size_t size = (size_t)fs->gdt_blocks * fs->block_size;
    fs->gdt = kmalloc(size);
    fs->gdt_dirty = kzalloc(fs->gdt_blocks);
    if (!fs->gdt || !fs->gdt_dirty)
        return -ENOMEM;
    for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
        uint64_t blk = ext4_gdt_block_location(fs, i);
        int err = ext4_dev_read_blocks(fs, blk, 1, fs->gdt + (size_t)i * fs->block_size);
        if (err) {
            ext4_err(fs, "refused: cannot read group descriptor block %lu: error %d", (unsigned long)blk, err);
            return err == -EFSCORRUPTED ? -EINVAL : err;
        }
    }
    uint64_t free_blocks = 0, free_inodes = 0;
    for (uint32_t g = 0; g < fs->group_count; g++) {
        int err = gd_check(fs, g);
        if (err)
            return err;
        free_blocks += ext4_gd_free_blocks(fs, g);
        free_inodes += ext4_gd_free_inodes(fs, g);
    }
    /* the descriptors are the truth; the superblock's totals may lag behind */
    fs->free_blocks = free_blocks;
    fs->free_inodes = (uint32_t)free_inodes;
    return 0;
}

void ext4_gd_dirty(struct ext4_fs *fs, uint32_t g)
{
    if (fs->csum || fs->gdt_csum)
        ext4_gd(fs, g)->checksum = gd_csum(fs, g);
    fs->gdt_dirty[g / fs->desc_per_block] = 1;
}

int ext4_groups_write(struct ext4_fs *fs)
{
    int first_err = 0;
    for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
        if (!fs->gdt_dirty[i])
            continue;
        uint64_t blk = ext4_gdt_block_location(fs, i);
        int err = ext4_dev_write_blocks(fs, blk, 1, fs->gdt + (size_t)i * fs->block_size);
        if (err) {
            ext4_err(fs, "error %d writing group descriptor block %lu", err, (unsigned long)blk);
            if (!first_err)
                first_err = err;
            continue;
        }
        fs->gdt_dirty[i] = 0;
    }
    return first_err;
}

/* ---- bitmaps ---- */

static inline void bit_set(uint8_t *map, uint32_t i)
{
    map[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static uint32_t block_bitmap_csum(const struct ext4_fs *fs, const uint8_t *map)
{
    return ext4_crc32c(fs->csum_seed, map, fs->blocks_per_group / 8);
}

static uint32_t inode_bitmap_csum(const struct ext4_fs *fs, const uint8_t *map)
{
    return ext4_crc32c(fs->csum_seed, map, fs->inodes_per_group / 8);
}

void ext4_block_bitmap_csum_set(struct ext4_fs *fs, uint32_t g, struct ext4_buf *b)
{
    if (!fs->csum)
        return;
    uint32_t c = block_bitmap_csum(fs, b->data);
    struct ext4_group_desc *d = ext4_gd(fs, g);
    d->block_bitmap_csum_lo = (uint16_t)c;
    if (fs->desc_size >= 64)
        d->block_bitmap_csum_hi = (uint16_t)(c >> 16);
}

void ext4_inode_bitmap_csum_set(struct ext4_fs *fs, uint32_t g, struct ext4_buf *b)
{
    if (!fs->csum)
        return;
    uint32_t c = inode_bitmap_csum(fs, b->data);
    struct ext4_group_desc *d = ext4_gd(fs, g);
    d->inode_bitmap_csum_lo = (uint16_t)c;
    if (fs->desc_size >= 64)
        d->inode_bitmap_csum_hi = (uint16_t)(c >> 16);
}

static bool bitmap_csum_ok(const struct ext4_fs *fs, uint32_t stored_lo, uint32_t stored_hi, uint32_t c)
{
    if (fs->desc_size >= 64)
        return c == (stored_lo | stored_hi << 16);
    return (c & 0xFFFF) == stored_lo;
}

/* Mark the n blocks at blk used in group g's bitmap, where they fall in g. */
static void mark_range(const struct ext4_fs *fs, uint32_t g, uint8_t *map, uint64_t blk, uint64_t n)
{
    uint64_t first = ext4_group_first_block(fs, g), end = first + ext4_group_blocks(fs, g);
    for (uint64_t b = blk; b < blk + n; b++)
        if (b >= first && b < end)
            bit_set(map, (uint32_t)(b - first));
}

/* What a BLOCK_UNINIT group's bitmap would say: only metadata is in use. */
static void block_bitmap_init(struct ext4_fs *fs, uint32_t g, uint8_t *map)
{
    memset(map, 0, fs->block_size);
    uint64_t first = ext4_group_first_block(fs, g);
    if (ext4_group_has_super(fs, g)) {
        uint64_t n = 1;
        if (!ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG))
            n += fs->gdt_blocks + fs->sb.reserved_gdt_blocks;
        else if (g % fs->desc_per_block <= 1 || g % fs->desc_per_block == fs->desc_per_block - 1)
            n += 1; /* this meta group's descriptor block (or a backup) */
        mark_range(fs, g, map, first, n);
    } else if (ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG) && g % fs->desc_per_block == 0) {
        mark_range(fs, g, map, first, 1);
    }
    /* with flex_bg any group's metadata may live here */
    for (uint32_t o = 0; o < fs->group_count; o++) {
        mark_range(fs, g, map, ext4_gd_block_bitmap(fs, o), 1);
        mark_range(fs, g, map, ext4_gd_inode_bitmap(fs, o), 1);
        mark_range(fs, g, map, ext4_gd_inode_table(fs, o), itable_blocks(fs));
    }
    for (uint32_t i = ext4_group_blocks(fs, g); i < fs->block_size * 8; i++)
        bit_set(map, i); /* past the group's end (the last group is short) */
}

int ext4_read_block_bitmap(struct ext4_fs *fs, uint32_t g, struct ext4_buf **out)
{
    struct ext4_group_desc *d = ext4_gd(fs, g);
    uint64_t blk = ext4_gd_block_bitmap(fs, g);
    bool uninit = (fs->csum || fs->gdt_csum) && (d->flags & EXT4_BG_BLOCK_UNINIT);
    int err = uninit ? ext4_bget_new(fs, blk, out) : ext4_bread(fs, blk, out);
    if (err)
        return err;
    if (uninit) {
        block_bitmap_init(fs, g, (*out)->data);
        d->flags &= (uint16_t)~EXT4_BG_BLOCK_UNINIT;
        ext4_block_bitmap_csum_set(fs, g, *out);
        ext4_bdirty(fs, *out);
        ext4_gd_dirty(fs, g);
        return 0;
    }
    if (fs->csum && !bitmap_csum_ok(fs, d->block_bitmap_csum_lo, d->block_bitmap_csum_hi,
                                    block_bitmap_csum(fs, (*out)->data))) {
        ext4_err(fs, "group %u block bitmap checksum mismatch", g);
        ext4_brelse(fs, *out);
        ext4_bforget(fs, blk);
        return -EFSBADCRC;
    }
    return 0;
}

int ext4_read_inode_bitmap(struct ext4_fs *fs, uint32_t g, struct ext4_buf **out)
{
    struct ext4_group_desc *d = ext4_gd(fs, g);
    uint64_t blk = ext4_gd_inode_bitmap(fs, g);
    bool uninit = (fs->csum || fs->gdt_csum) && (d->flags & EXT4_BG_INODE_UNINIT);
    int err = uninit ? ext4_bget_new(fs, blk, out) : ext4_bread(fs, blk, out);
    if (err)
        return err;
    if (uninit) {
        uint8_t *map = (*out)->data;
        memset(map, 0, fs->block_size);
        for (uint32_t i = fs->inodes_per_group; i < fs->block_size * 8; i++)
            bit_set(map, i);
        d->flags &= (uint16_t)~EXT4_BG_INODE_UNINIT;
        ext4_inode_bitmap_csum_set(fs, g, *out);
        ext4_bdirty(fs, *out);
        ext4_gd_dirty(fs, g);
        return 0;
    }
    if (fs->csum && !bitmap_csum_ok(fs, d->inode_bitmap_csum_lo, d->inode_bitmap_csum_hi,
                                    inode_bitmap_csum(fs, (*out)->data))) {
        ext4_err(fs, "group %u inode bitmap checksum mismatch", g);
        ext4_brelse(fs, *out);
        ext4_bforget(fs, blk);
        return -EFSBADCRC;
    }
    return 0;
}
