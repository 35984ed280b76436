/* ext4 (and ext2/ext3): the on-disk structures and the interface of the file
 * system core, which is pure code over struct ext4_io so that host tests run it
 * on image files; kernel/fs/ext4/vfs_*.c puts it under the VFS. */
#pragma once

#include "lib/list.h"
#include "lib/types.h"

/* ------------------------------------------------------------ the device */

/* Byte-addressed access to the device. The core only issues whole, aligned
 * file system blocks (the superblock: 1024 bytes at 1024). 0 or -errno. */
struct ext4_io {
    int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
    int (*flush)(void *ctx);
    void *ctx;
    uint64_t size;       /* device size in bytes; 0 when unknown */
    bool read_only;      /* the device refuses writes */
};

/* ------------------------------------------------------ on-disk structures */

#define EXT4_SUPER_MAGIC 0xEF53
#define EXT4_SUPER_OFFSET 1024
#define EXT4_ROOT_INO 2
#define EXT4_GOOD_OLD_INODE_SIZE 128
#define EXT4_GOOD_OLD_FIRST_INO 11
#define EXT4_NAME_LEN 255
#define EXT4_N_BLOCKS 15

struct ext4_super {
    uint32_t inodes_count, blocks_count_lo, r_blocks_count_lo, free_blocks_count_lo;
    uint32_t free_inodes_count, first_data_block, log_block_size, log_cluster_size;
    uint32_t blocks_per_group, clusters_per_group, inodes_per_group, mtime;
    uint32_t wtime;
    uint16_t mnt_count, max_mnt_count, magic, state, errors, minor_rev_level;
    uint32_t lastcheck, checkinterval, creator_os, rev_level;
    uint16_t def_resuid, def_resgid;
    uint32_t first_ino;
    uint16_t inode_size, block_group_nr;
    uint32_t feature_compat, feature_incompat, feature_ro_compat;
    uint8_t uuid[16];
    char volume_name[16];
    char last_mounted[64];
    uint32_t algorithm_usage_bitmap;
    uint8_t prealloc_blocks, prealloc_dir_blocks;
    uint16_t reserved_gdt_blocks;
    uint8_t journal_uuid[16];
    uint32_t journal_inum, journal_dev, last_orphan;
    uint32_t hash_seed[4];
    uint8_t def_hash_version, jnl_backup_type;
    uint16_t desc_size;
    uint32_t default_mount_opts, first_meta_bg, mkfs_time;
    uint32_t jnl_blocks[17];
    uint32_t blocks_count_hi, r_blocks_count_hi, free_blocks_count_hi;
    uint16_t min_extra_isize, want_extra_isize;
    uint32_t flags;
    uint16_t raid_stride, mmp_interval;
    uint64_t mmp_block;
    uint32_t raid_stripe_width;
    uint8_t log_groups_per_flex, checksum_type;
    uint16_t reserved_pad;
    uint64_t kbytes_written;
    uint32_t snapshot_inum, snapshot_id;
    uint64_t snapshot_r_blocks_count;
    uint32_t snapshot_list, error_count, first_error_time, first_error_ino;
    uint64_t first_error_block;
    uint8_t first_error_func[32];
    uint32_t first_error_line, last_error_time, last_error_ino, last_error_line;
    uint64_t last_error_block;
    uint8_t last_error_func[32];
    uint8_t mount_opts[64];
    uint32_t usr_quota_inum, grp_quota_inum, overhead_blocks;
    uint32_t backup_bgs[2];
    uint8_t encrypt_algos[4];
    uint8_t encrypt_pw_salt[16];
    uint32_t lpf_ino, prj_quota_inum, checksum_seed;
    uint8_t wtime_hi, mtime_hi, mkfs_time_hi, lastcheck_hi, first_error_time_hi, last_error_time_hi;
    uint8_t pad[2];
    uint16_t encoding, encoding_flags;
    uint32_t orphan_file_inum;
    uint32_t reserved[94];
    uint32_t checksum;
} __packed;
_Static_assert(sizeof(struct ext4_super) == 1024, "ext4 superblock");
_Static_assert(offsetof(struct ext4_super, blocks_count_hi) == 0x150, "ext4 superblock layout");
_Static_assert(offsetof(struct ext4_super, checksum_seed) == 0x270, "ext4 superblock layout");

/* s_state */
#define EXT4_VALID_FS 0x0001
#define EXT4_ERROR_FS 0x0002
#define EXT4_ORPHAN_FS 0x0004
/* s_flags */
#define EXT4_FLAGS_SIGNED_HASH 0x0001
#define EXT4_FLAGS_UNSIGNED_HASH 0x0002

#define EXT4_COMPAT_DIR_PREALLOC 0x0001
#define EXT4_COMPAT_IMAGIC_INODES 0x0002
#define EXT4_COMPAT_HAS_JOURNAL 0x0004
#define EXT4_COMPAT_EXT_ATTR 0x0008
#define EXT4_COMPAT_RESIZE_INODE 0x0010
#define EXT4_COMPAT_DIR_INDEX 0x0020
#define EXT4_COMPAT_SPARSE_SUPER2 0x0200
#define EXT4_COMPAT_FAST_COMMIT 0x0400
#define EXT4_COMPAT_STABLE_INODES 0x0800
#define EXT4_COMPAT_ORPHAN_FILE 0x1000

#define EXT4_INCOMPAT_COMPRESSION 0x0001
#define EXT4_INCOMPAT_FILETYPE 0x0002
#define EXT4_INCOMPAT_RECOVER 0x0004
#define EXT4_INCOMPAT_JOURNAL_DEV 0x0008
#define EXT4_INCOMPAT_META_BG 0x0010
#define EXT4_INCOMPAT_EXTENTS 0x0040
#define EXT4_INCOMPAT_64BIT 0x0080
#define EXT4_INCOMPAT_MMP 0x0100
#define EXT4_INCOMPAT_FLEX_BG 0x0200
#define EXT4_INCOMPAT_EA_INODE 0x0400
#define EXT4_INCOMPAT_DIRDATA 0x1000
#define EXT4_INCOMPAT_CSUM_SEED 0x2000
#define EXT4_INCOMPAT_LARGEDIR 0x4000
#define EXT4_INCOMPAT_INLINE_DATA 0x8000
#define EXT4_INCOMPAT_ENCRYPT 0x10000
#define EXT4_INCOMPAT_CASEFOLD 0x20000

#define EXT4_RO_COMPAT_SPARSE_SUPER 0x0001
#define EXT4_RO_COMPAT_LARGE_FILE 0x0002
#define EXT4_RO_COMPAT_BTREE_DIR 0x0004
#define EXT4_RO_COMPAT_HUGE_FILE 0x0008
#define EXT4_RO_COMPAT_GDT_CSUM 0x0010
#define EXT4_RO_COMPAT_DIR_NLINK 0x0020
#define EXT4_RO_COMPAT_EXTRA_ISIZE 0x0040
#define EXT4_RO_COMPAT_HAS_SNAPSHOT 0x0080
#define EXT4_RO_COMPAT_QUOTA 0x0100
#define EXT4_RO_COMPAT_BIGALLOC 0x0200
#define EXT4_RO_COMPAT_METADATA_CSUM 0x0400
#define EXT4_RO_COMPAT_REPLICA 0x0800
#define EXT4_RO_COMPAT_READONLY 0x1000
#define EXT4_RO_COMPAT_PROJECT 0x2000
#define EXT4_RO_COMPAT_SHARED_BLOCKS 0x4000
#define EXT4_RO_COMPAT_VERITY 0x8000
#define EXT4_RO_COMPAT_ORPHAN_PRESENT 0x10000

/* A block group descriptor: 32 bytes without the 64bit feature, else s_desc_size (>= 64). */
struct ext4_group_desc {
    uint32_t block_bitmap_lo, inode_bitmap_lo, inode_table_lo;
    uint16_t free_blocks_count_lo, free_inodes_count_lo, used_dirs_count_lo, flags;
    uint32_t exclude_bitmap_lo;
    uint16_t block_bitmap_csum_lo, inode_bitmap_csum_lo, itable_unused_lo, checksum;
    uint32_t block_bitmap_hi, inode_bitmap_hi, inode_table_hi;
    uint16_t free_blocks_count_hi, free_inodes_count_hi, used_dirs_count_hi, itable_unused_hi;
    uint32_t exclude_bitmap_hi;
    uint16_t block_bitmap_csum_hi, inode_bitmap_csum_hi;
    uint32_t reserved;
} __packed;
_Static_assert(sizeof(struct ext4_group_desc) == 64, "ext4 group descriptor");

#define EXT4_BG_INODE_UNINIT 0x0001
#define EXT4_BG_BLOCK_UNINIT 0x0002
#define EXT4_BG_INODE_ZEROED 0x0004

struct ext4_inode_disk {
    uint16_t mode, uid;
    uint32_t size_lo, atime, ctime, mtime, dtime;
    uint16_t gid, links_count;
    uint32_t blocks_lo, flags, version;
    uint32_t block[EXT4_N_BLOCKS];
    uint32_t generation, file_acl_lo, size_high, obso_faddr;
    uint16_t blocks_high, file_acl_high, uid_high, gid_high, checksum_lo, reserved;
    /* the large inode: valid up to 128 + extra_isize */
    uint16_t extra_isize, checksum_hi;
    uint32_t ctime_extra, mtime_extra, atime_extra, crtime, crtime_extra, version_hi, projid;
} __packed;
_Static_assert(sizeof(struct ext4_inode_disk) == 160, "ext4 inode");

/* i_flags */
#define EXT4_SYNC_FL 0x00000008
#define EXT4_IMMUTABLE_FL 0x00000010
#define EXT4_APPEND_FL 0x00000020
#define EXT4_NOATIME_FL 0x00000080
#define EXT4_ENCRYPT_FL 0x00000800
#define EXT4_INDEX_FL 0x00001000
#define EXT4_JOURNAL_DATA_FL 0x00004000
#define EXT4_HUGE_FILE_FL 0x00040000
#define EXT4_EXTENTS_FL 0x00080000
#define EXT4_VERITY_FL 0x00100000
#define EXT4_EA_INODE_FL 0x00200000
#define EXT4_INLINE_DATA_FL 0x10000000
#define EXT4_CASEFOLD_FL 0x40000000

#define EXT4_EXT_MAGIC 0xF30A
struct ext4_extent_header {
    uint16_t magic, entries, max, depth;
    uint32_t generation;
} __packed;
struct ext4_extent {
    uint32_t block;      /* first file block */
    uint16_t len;        /* > 32768: uninitialized, len - 32768 blocks */
    uint16_t start_hi;
    uint32_t start_lo;
} __packed;
struct ext4_extent_idx {
    uint32_t block;
    uint32_t leaf_lo;
    uint16_t leaf_hi, unused;
} __packed;
#define EXT4_EXT_INIT_MAX_LEN 32768u
#define EXT4_EXT_UNINIT_MAX_LEN 32767u
#define EXT4_EXT_MAX_DEPTH 5

struct ext4_dirent {
    uint32_t inode;
    uint16_t rec_len;
    uint8_t name_len, file_type; /* without the filetype feature, name_len is 16 bits */
    char name[];
} __packed;
#define EXT4_DIRENT_HEAD 8
#define EXT4_DIRENT_TAIL_SIZE 12
#define EXT4_DIRENT_TAIL_FT 0xDE
/* file_type values */
#define EXT4_FT_UNKNOWN 0
#define EXT4_FT_REG 1
#define EXT4_FT_DIR 2
#define EXT4_FT_CHR 3
#define EXT4_FT_BLK 4
#define EXT4_FT_FIFO 5
#define EXT4_FT_SOCK 6
#define EXT4_FT_SYMLINK 7

/* htree */
struct ext4_dx_root_info {
    uint32_t reserved_zero;
    uint8_t hash_version, info_length, indirect_levels, unused_flags;
} __packed;
struct ext4_dx_countlimit {
    uint16_t limit, count;
} __packed;
struct ext4_dx_entry {
    uint32_t hash, block;
} __packed;
#define EXT4_HASH_LEGACY 0
#define EXT4_HASH_HALF_MD4 1
#define EXT4_HASH_TEA 2
#define EXT4_HASH_LEGACY_UNSIGNED 3
#define EXT4_HASH_HALF_MD4_UNSIGNED 4
#define EXT4_HASH_TEA_UNSIGNED 5
#define EXT4_HASH_SIPHASH 6

/* ------------------------------------------------------ the core's objects */

struct ext4_time {
    int64_t sec;
    uint32_t nsec;
};

/* A cached metadata block (kernel/fs/ext4/bcache.c). */
struct ext4_buf {
    struct list_node hash_link, lru_link;
    uint64_t blk;
    uint32_t refs;
    bool dirty;
    bool checked;                /* its structure was verified (directory and extent blocks) */
    bool forgotten;              /* freed while in use: dropped at its last release */
    uint8_t *data;
};

struct ext4_bcache {
    struct list_node *buckets;
    unsigned nbuckets;
    struct list_node lru;        /* unreferenced buffers, oldest first */
    unsigned count, max, dirty;
};

/* An inode in memory: the fields the core uses, decoded. Writing it back
 * patches these into the on-disk record, which keeps what the core does not
 * know (in-inode extended attributes). */
struct ext4_inode {
    uint32_t ino;
    uint16_t mode, links;
    uint32_t uid, gid, flags, generation, dtime;
    uint64_t size;
    uint64_t blocks;             /* 512-byte units */
    uint64_t file_acl;
    struct ext4_time atime, mtime, ctime, crtime;
    uint16_t extra_isize;
    uint32_t block[EXT4_N_BLOCKS]; /* i_block as stored (little-endian words) */
    uint32_t csum_seed;          /* metadata_csum: the per-inode seed */
    /* one-extent mapping cache for sequential access */
    uint32_t map_lblk, map_len;
    uint64_t map_pblk;           /* 0: a hole */
    bool map_valid, map_uninit;
};

struct ext4_journal_info {
    bool present;                /* has_journal with an internal journal inode */
    bool external;               /* has_journal on another device */
    bool needs_recovery;
    uint32_t inum;
};

struct ext4_fs {
    struct ext4_io io;
    struct ext4_super sb;
    char name[32];               /* for log lines: the device name */
    uint32_t block_size, log_block_size, inode_size, desc_size;
    uint32_t blocks_per_group, inodes_per_group, inodes_count, first_ino;
    uint32_t group_count, first_data_block, desc_per_block, gdt_blocks;
    uint64_t blocks_count;
    uint32_t incompat, ro_compat, compat;
    bool csum, gdt_csum, is64, has_filetype, read_only, sb_dirty, dx_unsigned, sparse_super;
    uint32_t csum_seed;
    uint32_t hash_seed[4];
    uint8_t *gdt;                /* every group descriptor, desc_size apart */
    uint8_t *gdt_dirty;          /* one flag per descriptor block */
    uint64_t free_blocks;
    uint32_t free_inodes;
    uint32_t alloc_group_hint;   /* where the last block allocation ended */
    uint64_t map_changes;        /* bumped by every allocation and mapping change */
    struct ext4_bcache bc;
    struct ext4_journal_info journal;
    struct ext4_time (*now)(void); /* timestamps for changes (the glue's clock) */
    uint8_t *zero_block;         /* block_size zeros */
};

#define EXT4_MOUNT_RDONLY 0x1

struct ext4_map {
    uint64_t pblk;               /* 0: a hole */
    uint32_t len;                /* blocks mapped (or hole length) from lblk */
    bool uninit;                 /* allocated but reads as zeros */
};

/* Directory iteration callback: false stops (the entry is not consumed). */
typedef bool (*ext4_dir_cb)(void *arg, const char *name, size_t len, uint32_t ino, uint8_t ftype,
                            uint64_t next_pos);

struct ext4_statfs {
    uint64_t blocks, bfree, bavail, files, ffree;
    uint32_t bsize;
};

/* ------------------------------------------------------------ operations */

/* Mount: every check of the superblock and group descriptors; a reason is
 * logged for anything refused. A read-write request on a file system that can
 * only be read is downgraded (logged, fs->read_only set). name: for logs. */
int ext4_fs_mount(const struct ext4_io *io, const char *name, unsigned flags,
                  struct ext4_time (*now)(void), struct ext4_fs **out);
/* Write everything back, mark the file system clean (read-write) and free it. */
int ext4_fs_unmount(struct ext4_fs *fs);
/* Write dirty metadata; with flush, also ask the device to make it durable. */
int ext4_fs_sync(struct ext4_fs *fs, bool flush);
/* Sync and set the clean state on the disk while staying mounted (shutdown). */
int ext4_fs_mark_clean(struct ext4_fs *fs);
void ext4_fs_statfs(struct ext4_fs *fs, struct ext4_statfs *st);

int ext4_inode_read(struct ext4_fs *fs, uint32_t ino, struct ext4_inode *out);
int ext4_inode_write(struct ext4_fs *fs, struct ext4_inode *ei);
/* Set mtime (m) and/or ctime (c) to now (in memory; ext4_inode_write stores them). */
void ext4_inode_touch(struct ext4_fs *fs, struct ext4_inode *ei, bool m, bool c);
/* Map file block lblk: the run of up to max blocks starting there. */
int ext4_map_block(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t max,
                   struct ext4_map *m);
/* Read file data (holes and uninitialized extents as zeros); bytes read, 0 at the end. */
ssize_t ext4_file_read(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, void *buf, size_t len);
/* The device number of a character or block device inode. */
uint64_t ext4_inode_rdev(const struct ext4_inode *ei);

int ext4_dir_lookup(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                    uint32_t *ino, uint8_t *ftype);
/* Entries from byte position *pos on (0 starts); *pos is left after the last
 * entry given. Positions are byte offsets in the directory, stable while the
 * directory changes. */
int ext4_dir_iterate(struct ext4_fs *fs, struct ext4_inode *dir, uint64_t *pos, ext4_dir_cb cb, void *arg);
/* The target of a symlink (not terminated): its length or -errno. */
ssize_t ext4_readlink(struct ext4_fs *fs, struct ext4_inode *ei, char *buf, size_t size);

/* --- changes (read-write mounts) --- */

/* Write file data at off, allocating blocks; the file grows as needed. */
ssize_t ext4_file_write(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, const void *buf,
                        size_t len);
/* Write whole blocks (off and len block-aligned); the size is left alone. */
ssize_t ext4_file_write_blocks(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, const void *buf,
                               size_t len);
int ext4_file_set_size(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t size);
/* SEEK_DATA (data) or SEEK_HOLE: the first such offset at or after off (the size if none). */
int ext4_seek_data(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, bool data, uint64_t *out);
/* Allocate (mode 0) or keep size (keep_size) for [off, off+len): uninitialized extents. */
int ext4_fallocate(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, uint64_t len, bool keep_size);
int ext4_truncate(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t size);
/* New inodes: uid/gid and the mode's permission bits are the caller's;
 * `out` gets the new inode (links set, written). */
int ext4_create(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t mode,
                uint64_t rdev, uint32_t uid, uint32_t gid, struct ext4_inode *out);
int ext4_mkdir(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t mode,
               uint32_t uid, uint32_t gid, struct ext4_inode *out);
int ext4_symlink(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                 const char *target, uint32_t uid, uint32_t gid, struct ext4_inode *out);
int ext4_link(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
              struct ext4_inode *target);
/* Remove the entry; the victim's link count drops (its inode is freed by
 * ext4_inode_release once nothing uses it). */
int ext4_unlink(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                struct ext4_inode *victim);
int ext4_rmdir(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
               struct ext4_inode *victim);
/* Move (odir, oname) -> (ndir, nname); target is the inode replaced (or
 * swapped, with exchange) or NULL. */
int ext4_rename(struct ext4_fs *fs, struct ext4_inode *odir, const char *oname, size_t olen,
                struct ext4_inode *ndir, const char *nname, size_t nlen, struct ext4_inode *moving,
                struct ext4_inode *target, bool exchange);
/* The last user of an inode is gone: free it if it has no links left. */
int ext4_inode_release(struct ext4_fs *fs, struct ext4_inode *ei);
/* Is the directory empty (only "." and "..")? 1, 0 or -errno. */
int ext4_dir_is_empty(struct ext4_fs *fs, struct ext4_inode *dir);

/* --- the VFS side (kernel only: kernel/fs/ext4/vfs_*.c) --- */
/* Register "ext4", "ext3" and "ext2" (all three mount any of them). */
void ext4_register_fstypes(void);
/* sync(2): every mount's data and metadata to its disk, the disk flushed. */
int ext4_sync_all(void);
/* Before the VM stops: write everything back and mark each file system
 * clean (it stays mounted, so nothing may change it afterwards). */
void ext4_shutdown_all(void);
/* --mount-fs=TYPE,DEVICE,DIR[,OPTIONS] (OSv's syntax; any registered type):
 * the directory is created when missing. */
int ext4_boot_mount(const char *spec);
/* Mount what an fstab (e.g. /etc/fstab of the image) lists, skipping "/",
 * swap, noauto and types not registered: how many were mounted, or the
 * first error (a missing file is 0). */
int ext4_mount_fstab(const char *path);
/* A root file system from a disk (--rootfs=/dev/vblk0): the superblock to
 * hand to the VFS's root mount. */
struct vfs_sb;
int ext4_root_sb(const char *source, unsigned long flags, struct vfs_sb **out);

/* --- checksums and hashes (exported for tests) --- */
uint32_t ext4_crc32c(uint32_t crc, const void *buf, size_t len);
uint16_t ext4_crc16(uint16_t crc, const void *buf, size_t len);
/* The directory hash of a name: major hash (low bit clear) and minor. */
void ext4_dx_hash(int version, const uint32_t seed[4], const char *name, size_t len, uint32_t *major,
                  uint32_t *minor);
