/* Interfaces between the VFS core's own files (not for file systems). */
#pragma once

#include "fs/fs_context.h"
#include "fs/namei.h"
#include "fs/vfs.h"

/* vfs_dentry.c */
irqflags_t dcache_lock_tree(void);
void dcache_unlock_tree(irqflags_t f);
struct dentry *dentry_get_parent(struct dentry *d);
/* anc is d or one of its ancestors (same file system). */
bool dentry_is_ancestor(struct dentry *anc, struct dentry *d);

/* vfs_mount.c */
struct mount *mount_lookup(struct mount *parent, struct dentry *d);
int vfs_mount_root_sb(struct vfs_sb *sb, const char *source);

static inline bool mnt_readonly(const struct mount *m)
{
    return m && ((m->flags & MS_RDONLY) || (m->sb->flags & MS_RDONLY));
}

/* vfs_namei.c: the child `name` of a directory whose lock the caller holds;
 * -ENOENT when absent. */
int lookup_locked(struct dentry *dir, const char *name, size_t len, struct dentry **out);
/* Same, taking the lock only on a cache miss. */
int lookup_unlocked(struct dentry *dir, const char *name, size_t len, struct dentry **out);
/* Follow mounts covering p (p's references are replaced). */
void path_cross_mounts(struct path *p);
/* Start of a walk: fs (NULL: the kernel's) root, and start or fs's cwd. */
void walk_start(struct fs_context *fs, const struct path *start, struct path *root, struct path *cur);

/* vfs_lock.c: the file's last reference, or a close by `owner` (fd table). */
void vfs_lock_release_file(struct file *f);
void vfs_lock_release_posix(struct vnode *v, void *owner);

/* vfs_file.c */
int vfs_may_open(struct vnode *v, struct mount *mnt, unsigned flags);
