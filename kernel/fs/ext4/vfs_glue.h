/* ext4 under the VFS: the per-mount state (the core, its lock, the inode
 * cache, the page cache) and the per-inode vnode, shared by vfs_super.c,
 * vfs_dir.c and vfs_file.c. Kernel only (the core below is pure). */
#pragma once

#include "arch/spinlock.h"
#include "core/mutex.h"
#include "fs/ext4.h"
#include "fs/radix.h"
#include "fs/vfs.h"

#define EXT4_ICACHE_BUCKETS 256
#define EXT4_PAGE 4096u
#define EXT4_RA_MAX 32u /* readahead: at most 128 KiB per disk read */

/* Where the file system's bytes come from: a block device or an image file. */
struct ext4_source {
    struct ext4_io io;
    struct file *file;           /* image file ("loop" mount), or NULL */
    void *dev;                   /* block device (blk_glue.c), or NULL */
    void (*close)(struct ext4_source *src);
};

struct ext4_mount {
    struct vfs_sb sb;
    struct ext4_fs *fs;
    struct mutex lock;           /* serialises every call into the core */
    spinlock_t icache_lock;      /* ihash */
    struct list_node ihash[EXT4_ICACHE_BUCKETS];
    spinlock_t pc_lock;          /* every file's page index, the LRU and the counters */
    struct list_node lru;        /* cached pages, least recently used first */
    struct list_node mapped;     /* files with pinned pages (under pc_lock) */
    uint64_t cached, max_cached;
    uint64_t sync_pass;
    struct ext4_source src;
    struct list_node all_link;   /* every ext4 mount (sync, shutdown) */
    bool noatime;
    char source[64];
};

struct ext4_vnode {
    struct vnode v;
    struct ext4_inode ei;
    struct list_node hash_link;  /* ihash, while cached */
    struct radix pages;          /* struct ext4_cpage by page index (under pc_lock) */
    uint64_t trunc_gen;          /* bumped by truncation: fills that raced with it are dropped */
    struct list_node mapped_link; /* on the mount's list of files with pinned pages */
    uint64_t synced;             /* the sync pass that last wrote it back */
    uint64_t ra_next;            /* readahead: the page a sequential reader wants next */
    unsigned ra_window;          /* pages read per miss while reading sequentially */
};

/* A page of file data in the cache. Pinned pages were handed to a mapping
 * that may write them: they stay cached until written back. */
struct ext4_cpage {
    struct page *page;
    struct ext4_vnode *owner;
    uint64_t index;
    struct list_node lru;
    bool pinned;
};

static inline struct ext4_mount *EXT4_MNT(struct vfs_sb *sb)
{
    return container_of(sb, struct ext4_mount, sb);
}

static inline struct ext4_vnode *EXT4_VN(struct vnode *v)
{
    return container_of(v, struct ext4_vnode, v);
}

static inline struct ext4_mount *vn_mount(struct ext4_vnode *ev)
{
    return EXT4_MNT(ev->v.sb);
}

/* The core is called with the mount's lock held (it may already be held by
 * this thread when a vnode is released inside an operation). */
static inline bool ext4_lock(struct ext4_mount *m)
{
    if (mutex_held_by_me(&m->lock))
        return false;
    mutex_lock(&m->lock);
    return true;
}

static inline void ext4_unlock(struct ext4_mount *m, bool taken)
{
    if (taken)
        mutex_unlock(&m->lock);
}

/* vfs_super.c */
/* The vnode for ino, with a reference (the lock is held). */
int ext4_vfs_iget(struct ext4_mount *m, uint32_t ino, struct vnode **out);
/* A vnode for an inode the core just made (the lock is held). */
int ext4_vfs_inew(struct ext4_mount *m, const struct ext4_inode *ei, struct vnode **out);
/* Copy the inode's attributes into the vnode. */
void ext4_vfs_sync_attrs(struct ext4_vnode *ev);
/* After a change: write the core's dirty metadata (the lock is held). */
int ext4_vfs_commit(struct ext4_mount *m, int err);
int ext4_source_open(const char *source, bool ro, struct ext4_source *src);

/* vfs_dir.c */
extern const struct vnode_ops ext4_dir_vops, ext4_file_vops, ext4_link_vops, ext4_node_vops;
int ext4_vfs_setattr(struct vnode *v, const struct vattr *a);

/* vfs_file.c */
extern const struct file_ops ext4_file_fops;
/* Drop cached pages from index first on (truncation, eviction). */
void ext4_pc_drop(struct ext4_vnode *ev, uint64_t first);
/* Write pages a mapping may have changed (fsync, eviction). */
int ext4_pc_writeback(struct ext4_vnode *ev);
void ext4_pc_zero_tail(struct ext4_vnode *ev, uint64_t size);
