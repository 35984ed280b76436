/* Hash-indexed directory internals shared by the lookup side (htree.c) and
 * the insertion side (htree_write.c). */
#pragma once

#include "ext4_internal.h"

#define EXT4_DX_INFO_OFFSET 0x18      /* dx_root_info, after "." and ".." */
#define EXT4_DX_NODE_COUNT_OFFSET 8   /* count/limit after the empty entry of an interior node */
#define EXT4_DX_TAIL_SIZE 8
#define EXT4_DX_MAX_LEVELS 3

/* The way from the root to a leaf: per level the index block, the entry taken. */
struct ext4_dx_path {
    uint32_t hash;
    int version;
    unsigned depth;               /* index levels: 1 (root only) to 3 */
    struct {
        uint32_t lblk, at, count, count_off;
    } levels[EXT4_DX_MAX_LEVELS];
};

uint32_t ext4_dx_count_offset(const struct ext4_fs *fs, const struct ext4_inode *dir, uint32_t lblk,
                              const uint8_t *blk);
void ext4_dx_csum_set(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, uint8_t *blk);
int ext4_dx_hash_version(const struct ext4_fs *fs, uint8_t stored);
