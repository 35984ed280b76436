/* Extent tree internals shared by the read side (extent.c) and the
 * changing side (extent_write.c): node layout helpers and node I/O. */
#pragma once

#include "ext4_internal.h"

#define EXT4_EXT_ROOT_MAX 4u /* (60 - 12) / 12 entries fit in i_block */
#define EXT4_EXT_NODE_MAX(fs) (((fs)->block_size - 12u) / 12u)
#define EXT4_EXT_TAIL_OFFSET(h) (12u + 12u * (uint32_t)(h)->max)
#define EXT4_EXT_FIRST(h) ((struct ext4_extent *)((uint8_t *)(h) + 12))
#define EXT4_EXT_FIRST_IDX(h) ((struct ext4_extent_idx *)((uint8_t *)(h) + 12))

static inline bool ext4_ext_is_uninit(const struct ext4_extent *e)
{
    return e->len > EXT4_EXT_INIT_MAX_LEN;
}

static inline uint32_t ext4_ext_len(const struct ext4_extent *e)
{
    return e->len > EXT4_EXT_INIT_MAX_LEN ? e->len - EXT4_EXT_INIT_MAX_LEN : e->len;
}

static inline void ext4_ext_set_len(struct ext4_extent *e, uint32_t len, bool uninit)
{
    e->len = (uint16_t)(uninit ? len + EXT4_EXT_INIT_MAX_LEN : len);
}

static inline uint64_t ext4_ext_pblk(const struct ext4_extent *e)
{
    return e->start_lo | (uint64_t)e->start_hi << 32;
}

static inline void ext4_ext_set_pblk(struct ext4_extent *e, uint64_t p)
{
    e->start_lo = (uint32_t)p;
    e->start_hi = (uint16_t)(p >> 32);
}

static inline uint64_t ext4_idx_pblk(const struct ext4_extent_idx *x)
{
    return x->leaf_lo | (uint64_t)x->leaf_hi << 32;
}

static inline void ext4_idx_set_pblk(struct ext4_extent_idx *x, uint64_t p)
{
    x->leaf_lo = (uint32_t)p;
    x->leaf_hi = (uint16_t)(p >> 32);
    x->unused = 0;
}

int ext4_ext_check_entries(struct ext4_fs *fs, uint32_t ino, const struct ext4_extent_header *h);
/* A tree node (not the root) at pblk, expected at `depth`, checked once. */
int ext4_ext_read_node(struct ext4_fs *fs, const struct ext4_inode *ei, uint64_t pblk, unsigned depth,
                       struct ext4_buf **out);
/* Store a node's checksum tail (metadata_csum). */
void ext4_ext_csum_set(struct ext4_fs *fs, const struct ext4_inode *ei, uint8_t *blk);
