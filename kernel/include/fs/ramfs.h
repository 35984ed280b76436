/* ramfs and tmpfs: file systems in memory. File data lives in counted pages
 * indexed by a radix tree (holes cost nothing); tmpfs is the same code with
 * limits on pages and inodes. */
#pragma once

#include "arch/spinlock.h"
#include "fs/radix.h"
#include "fs/vfs.h"
#include "lib/rbtree.h"

struct ramfs_sb {
    struct vfs_sb sb;
    spinlock_t lock;             /* the counters */
    uint64_t max_pages, pages;   /* max 0: no limit */
    uint64_t max_inodes, inodes;
    uint64_t next_ino;
};

struct ramfs_node {
    struct vnode v;
    struct list_node kill_link;  /* destroy's work list */
    union {
        struct {
            struct rb_root by_name;
            struct rb_root by_cookie;
            uint64_t next_cookie;
            uint64_t entries;
            struct ramfs_node *parent;
        } dir;
        struct {
            spinlock_t pages_lock;  /* the radix tree and page references */
            struct radix pages;
        } file;
        struct {
            char *target;
        } link;
    };
};

struct ramfs_dirent {
    struct rb_node name_node, cookie_node;
    uint64_t cookie;             /* readdir position */
    uint32_t hash;
    uint16_t len;
    struct ramfs_node *node;     /* holds a vnode reference */
    char name[];
};

static inline struct ramfs_node *RAMFS_NODE(struct vnode *v)
{
    return container_of(v, struct ramfs_node, v);
}

static inline struct ramfs_sb *RAMFS_SB(struct vfs_sb *sb)
{
    return container_of(sb, struct ramfs_sb, sb);
}

extern struct vfs_fstype ramfs_fstype, tmpfs_fstype;

/* A new, unmounted instance: for the initrd root before it is mounted.
 * max_bytes 0: no limit. Free it with ramfs_destroy if never mounted. */
int ramfs_create_sb(const struct vfs_fstype *type, uint64_t magic, uint64_t max_bytes,
                    uint32_t root_mode, struct ramfs_sb **out);
void ramfs_destroy(struct vfs_sb *sb);

/* ramfs_super.c */
struct ramfs_node *ramfs_node_alloc(struct vfs_sb *sb, uint32_t mode);
int ramfs_charge_page(struct vfs_sb *sb);
void ramfs_uncharge_pages(struct vfs_sb *sb, uint64_t n);

/* ramfs_dir.c */
extern const struct vnode_ops ramfs_dir_ops;
extern const struct vnode_ops ramfs_link_ops;
extern const struct vnode_ops ramfs_node_ops; /* devices, FIFOs, sockets */
struct ramfs_dirent *ramfs_dir_find(struct ramfs_node *dir, const char *name, size_t len);
/* Take every entry out of dir (destroy): fn gets each child's reference. */
void ramfs_dir_drain(struct ramfs_node *dir, void (*fn)(struct ramfs_node *child, void *arg), void *arg);

/* ramfs_file.c */
extern const struct vnode_ops ramfs_file_ops;
extern const struct file_ops ramfs_file_fops;
void ramfs_file_init(struct ramfs_node *n);
/* Resize (under the vnode lock): drops the pages past the end. */
int ramfs_file_resize(struct ramfs_node *n, uint64_t size);
void ramfs_file_free_pages(struct ramfs_node *n);
/* Append data at the file's end, a page at a time (cpio unpacking). */
int ramfs_file_append(struct ramfs_node *n, const void *data, size_t len);
/* Common setattr for every ramfs vnode (size only for regular files). */
int ramfs_setattr(struct vnode *v, const struct vattr *a);
