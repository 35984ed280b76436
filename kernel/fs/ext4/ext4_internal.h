/* Interfaces between the ext4 core's files: logging, the block cache,
 * checksums, group descriptors, allocation, extents and directories. Pure code:
 * nothing here depends on the VFS, so tests/unit compiles it for the host. */
#pragma once

#include "core/log.h"
#include "fs/ext4.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

/* Linux's names for what a damaged file system returns. */
#define EFSCORRUPTED EUCLEAN
#define EFSBADCRC EBADMSG

#define ext4_err(fs, fmt, ...) pr_err("ext4: %s: " fmt "\n", (fs)->name, ##__VA_ARGS__)
#define ext4_warn(fs, fmt, ...) pr_warn("ext4: %s: " fmt "\n", (fs)->name, ##__VA_ARGS__)
#define ext4_info(fs, fmt, ...) pr_info("ext4: %s: " fmt "\n", (fs)->name, ##__VA_ARGS__)

/* Mode bits (the same numbers as Linux's S_IF*; the core does not include the
 * VFS's headers). */
#define EXT4_S_IFMT 0170000
#define EXT4_S_IFSOCK 0140000
#define EXT4_S_IFLNK 0120000
#define EXT4_S_IFREG 0100000
#define EXT4_S_IFBLK 0060000
#define EXT4_S_IFDIR 0040000
#define EXT4_S_IFCHR 0020000
#define EXT4_S_IFIFO 0010000
#define EXT4_ISDIR(m) (((m) & EXT4_S_IFMT) == EXT4_S_IFDIR)
#define EXT4_ISREG(m) (((m) & EXT4_S_IFMT) == EXT4_S_IFREG)
#define EXT4_ISLNK(m) (((m) & EXT4_S_IFMT) == EXT4_S_IFLNK)

#define EXT4_LINK_MAX 65000
#define EXT4_MAX_FILE_BLOCKS 0xFFFFFFFFull /* logical blocks are 32-bit */

static inline uint16_t get_le16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t get_le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void put_le16(void *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static inline void put_le32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline bool ext4_has_incompat(const struct ext4_fs *fs, uint32_t f)
{
    return (fs->incompat & f) != 0;
}

static inline bool ext4_has_ro_compat(const struct ext4_fs *fs, uint32_t f)
{
    return (fs->ro_compat & f) != 0;
}

static inline bool ext4_block_valid(const struct ext4_fs *fs, uint64_t blk)
{
    return blk >= fs->first_data_block && blk < fs->blocks_count;
}

static inline bool ext4_block_range_valid(const struct ext4_fs *fs, uint64_t blk, uint64_t n)
{
    return n && blk >= fs->first_data_block && blk < fs->blocks_count && n <= fs->blocks_count - blk;
}

static inline uint32_t ext4_block_group(const struct ext4_fs *fs, uint64_t blk)
{
    return (uint32_t)((blk - fs->first_data_block) / fs->blocks_per_group);
}

static inline uint64_t ext4_group_first_block(const struct ext4_fs *fs, uint32_t g)
{
    return fs->first_data_block + (uint64_t)g * fs->blocks_per_group;
}

/* Blocks in group g (the last one may be short). */
static inline uint32_t ext4_group_blocks(const struct ext4_fs *fs, uint32_t g)
{
    uint64_t first = ext4_group_first_block(fs, g);
    uint64_t left = fs->blocks_count - first;
    return left < fs->blocks_per_group ? (uint32_t)left : fs->blocks_per_group;
}

/* ---- crc.c: crc32c (raw: no inversion, as ext4 uses it) and crc16 ---- */
uint32_t ext4_csum_seed_inode(const struct ext4_fs *fs, uint32_t ino, uint32_t gen);

/* ---- bcache.c: metadata blocks ---- */
int ext4_bcache_init(struct ext4_fs *fs, unsigned max_blocks);
void ext4_bcache_destroy(struct ext4_fs *fs);
/* The block with a reference: read from the device unless cached. */
int ext4_bread(struct ext4_fs *fs, uint64_t blk, struct ext4_buf **out);
/* A block about to be overwritten entirely: not read (contents undefined). */
int ext4_bget_new(struct ext4_fs *fs, uint64_t blk, struct ext4_buf **out);
void ext4_brelse(struct ext4_fs *fs, struct ext4_buf *b);
void ext4_bdirty(struct ext4_fs *fs, struct ext4_buf *b);
/* A freed block: drop its cached copy so a stale write never lands on its next owner. */
void ext4_bforget(struct ext4_fs *fs, uint64_t blk);
/* Write every dirty buffer. */
int ext4_bcache_flush(struct ext4_fs *fs);
int ext4_dev_read_blocks(struct ext4_fs *fs, uint64_t blk, uint64_t n, void *buf);
int ext4_dev_write_blocks(struct ext4_fs *fs, uint64_t blk, uint64_t n, const void *buf);

/* ---- super.c ---- */
/* Encode the in-memory counters into the superblock and mark it for writing. */
void ext4_super_dirty(struct ext4_fs *fs);
int ext4_super_write(struct ext4_fs *fs);
bool ext4_group_has_super(const struct ext4_fs *fs, uint32_t g);

/* ---- group.c: descriptors and bitmaps ---- */
static inline struct ext4_group_desc *ext4_gd(const struct ext4_fs *fs, uint32_t g)
{
    return (struct ext4_group_desc *)(fs->gdt + (size_t)g * fs->desc_size);
}
uint64_t ext4_gd_block_bitmap(const struct ext4_fs *fs, uint32_t g);
uint64_t ext4_gd_inode_bitmap(const struct ext4_fs *fs, uint32_t g);
uint64_t ext4_gd_inode_table(const struct ext4_fs *fs, uint32_t g);
uint32_t ext4_gd_free_blocks(const struct ext4_fs *fs, uint32_t g);
uint32_t ext4_gd_free_inodes(const struct ext4_fs *fs, uint32_t g);
uint32_t ext4_gd_used_dirs(const struct ext4_fs *fs, uint32_t g);
uint32_t ext4_gd_itable_unused(const struct ext4_fs *fs, uint32_t g);
void ext4_gd_set_free_blocks(struct ext4_fs *fs, uint32_t g, uint32_t v);
void ext4_gd_set_free_inodes(struct ext4_fs *fs, uint32_t g, uint32_t v);
void ext4_gd_set_used_dirs(struct ext4_fs *fs, uint32_t g, uint32_t v);
void ext4_gd_set_itable_unused(struct ext4_fs *fs, uint32_t g, uint32_t v);
/* The block number holding descriptor block i (meta_bg aware). */
uint64_t ext4_gdt_block_location(const struct ext4_fs *fs, uint32_t i);
/* Read and check all descriptors (mount). */
int ext4_groups_load(struct ext4_fs *fs);
/* Recompute g's checksum and mark its descriptor block for writing. */
void ext4_gd_dirty(struct ext4_fs *fs, uint32_t g);
int ext4_groups_write(struct ext4_fs *fs);
/* Bitmaps with their checksums checked (and initialised for *_UNINIT groups). */
int ext4_read_block_bitmap(struct ext4_fs *fs, uint32_t g, struct ext4_buf **out);
int ext4_read_inode_bitmap(struct ext4_fs *fs, uint32_t g, struct ext4_buf **out);
/* Store the bitmap's checksum in the descriptor after a change. */
void ext4_block_bitmap_csum_set(struct ext4_fs *fs, uint32_t g, struct ext4_buf *b);
void ext4_inode_bitmap_csum_set(struct ext4_fs *fs, uint32_t g, struct ext4_buf *b);
/* Is blk one of the group metadata blocks (superblock, descriptors, bitmaps, inode tables)? */
bool ext4_block_is_metadata(const struct ext4_fs *fs, uint64_t blk, uint64_t n);

/* ---- alloc.c ---- */
/* Up to *count blocks in one run near goal; *count gets what was found. */
int ext4_alloc_blocks(struct ext4_fs *fs, uint64_t goal, uint32_t *count, uint64_t *out);
int ext4_free_blocks(struct ext4_fs *fs, uint64_t blk, uint64_t n);
int ext4_alloc_inode(struct ext4_fs *fs, uint32_t parent_ino, bool dir, uint32_t *out);
int ext4_free_inode(struct ext4_fs *fs, uint32_t ino, bool dir);
/* Where a new block of ei should go: after its last block or in its group. */
uint64_t ext4_block_goal(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk);

/* ---- inode.c ---- */
bool ext4_inode_uses_extents(const struct ext4_inode *ei);
void ext4_inode_add_blocks(struct ext4_fs *fs, struct ext4_inode *ei, int64_t nblocks);
int ext4_inode_fresh(struct ext4_fs *fs, uint32_t ino, uint16_t mode, uint32_t uid, uint32_t gid,
                     struct ext4_inode *out);
uint8_t ext4_mode_to_ftype(uint16_t mode);
/* The on-disk record of an inode: its cached table block and offset. */
int ext4_inode_raw(struct ext4_fs *fs, uint32_t ino, struct ext4_buf **b, uint32_t *off);
/* Inline data (inline_data feature): the bytes kept in the inode. */
ssize_t ext4_inline_read(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, void *buf, size_t len);

/* ---- extent.c / extent_write.c / indirect.c ---- */
int ext4_extent_map(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, struct ext4_map *m);
int ext4_extent_check_root(struct ext4_fs *fs, const struct ext4_inode *ei);
/* Map [lblk, lblk+len) to new blocks (the range is a hole); *got blocks done. */
int ext4_extent_alloc(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t len, bool uninit,
                      uint32_t *got, uint64_t *pblk);
/* Mark [lblk, lblk+len) (inside uninitialized extents) initialized. */
int ext4_extent_mark_init(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t len);
/* Free everything from block lblk on. */
int ext4_extent_truncate(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk);
void ext4_extent_init_root(struct ext4_inode *ei);
int ext4_ind_map(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, struct ext4_map *m);
int ext4_ind_alloc(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t len, uint32_t *got,
                   uint64_t *pblk);
int ext4_ind_truncate(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk);
/* Allocate lblk if it is a hole: its block (zeroed on disk when fresh is NULL). */
int ext4_bmap_alloc(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint64_t *pblk, bool *fresh);

/* ---- dir.c / htree.c ---- */
struct ext4_dirent_loc {
    uint32_t lblk;               /* directory block */
    uint32_t offset;             /* entry offset in it */
    uint32_t prev_offset;        /* previous entry (UINT32_MAX: first in block) */
};
/* Check a directory block's entries (and its checksum tail); -EFSCORRUPTED. */
int ext4_dir_block_check(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, const uint8_t *blk);
/* The reason entries in [0, end) are malformed, or NULL. */
const char *ext4_dir_check_entries(struct ext4_fs *fs, const uint8_t *blk, uint32_t end);
/* A directory block, read and checked. */
int ext4_dir_read_block(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, struct ext4_buf **out);
/* Space for entries in a block (less the checksum tail). */
uint32_t ext4_dir_usable(const struct ext4_fs *fs);
void ext4_dir_set_tail(struct ext4_fs *fs, uint8_t *blk);
void ext4_dir_csum_set(struct ext4_fs *fs, struct ext4_inode *dir, uint8_t *blk);
int ext4_dir_find(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                  struct ext4_dirent_loc *loc, uint32_t *ino);
int ext4_dir_add(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t ino,
                 uint8_t ftype);
int ext4_dir_remove(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len);
/* Point the existing entry `name` at ino. */
int ext4_dir_retarget(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                      uint32_t ino, uint8_t ftype);
int ext4_dir_set_dotdot(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t parent);
static inline uint32_t ext4_rec_len_needed(size_t name_len)
{
    return (uint32_t)ALIGN_UP(EXT4_DIRENT_HEAD + name_len, (size_t)4);
}
uint32_t ext4_rec_len_decode(const struct ext4_fs *fs, uint16_t v);
uint16_t ext4_rec_len_encode(const struct ext4_fs *fs, uint32_t len);
size_t ext4_dirent_name_len(const struct ext4_fs *fs, const struct ext4_dirent *d);

/* htree.c */
bool ext4_dx_is_indexed(const struct ext4_fs *fs, const struct ext4_inode *dir);
/* The leaf block that may hold name, or -EAGAIN when the index is unusable
 * (then search linearly). Collision chains continue with ext4_dx_next_leaf. */
struct ext4_dx_path;
int ext4_dx_find_leaf(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                      uint32_t *lblk, struct ext4_dx_path **path);
/* The next leaf when hashes collide across blocks: 0 with *lblk, or -ENOENT. */
int ext4_dx_next_leaf(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path, uint32_t *lblk);
void ext4_dx_path_free(struct ext4_dx_path *path);
/* Is this directory block an htree index block (root or interior node)? */
bool ext4_dx_block_is_node(const struct ext4_fs *fs, const struct ext4_inode *dir, uint32_t lblk,
                           const uint8_t *blk);
int ext4_dx_node_csum_check(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, const uint8_t *blk);
/* Insert into an indexed directory; -EAGAIN: no index to use (caller goes linear). */
int ext4_dx_add(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t ino,
                uint8_t ftype);
/* Turn an indexed directory into a linear one (its index blocks become empty blocks). */
int ext4_dx_unindex(struct ext4_fs *fs, struct ext4_inode *dir);
/* dir_write.c: block helpers shared with the index code */
void ext4_dir_block_changed(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, struct ext4_buf *b);
void ext4_dir_init_leaf(struct ext4_fs *fs, uint8_t *blk);
/* A new block at the end of the directory (an empty leaf), with a reference. */
int ext4_dir_append_block(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t *lblk, struct ext4_buf **out);
/* Place an entry in a block if it fits: 0, or -ENOSPC. */
int ext4_dirent_insert(struct ext4_fs *fs, uint8_t *blk, uint32_t usable, const char *name, size_t len,
                       uint32_t ino, uint8_t ftype);

/* ---- inline.c: the inline_data feature (read only) ---- */
int ext4_inline_dir_lookup(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                           uint32_t *ino, uint8_t *ftype);
int ext4_inline_dir_iterate(struct ext4_fs *fs, struct ext4_inode *dir, uint64_t *pos, ext4_dir_cb cb, void *arg);

/* ---- journal.c ---- */
/* Find the journal and whether it needs recovery; with may_replay (a
 * writable device) replay it: *replayed says the disk changed under us. */
int ext4_journal_check(struct ext4_fs *fs, bool may_replay, bool *replayed);

/* ---- file.c ---- */
int ext4_write_zero_blocks(struct ext4_fs *fs, uint64_t pblk, uint64_t n);
