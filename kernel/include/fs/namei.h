/* Path resolution and the namespace operations on names (kernel strings).
 * The system calls copy names in, pick the starting directory and call these. */
#pragma once

#include "fs/vfs.h"

#define LOOKUP_FOLLOW 0x1     /* follow a symlink in the last component */
#define LOOKUP_DIRECTORY 0x2  /* the result must be a directory */
#define LOOKUP_EMPTY 0x4      /* "" names the start itself (AT_EMPTY_PATH) */

enum { LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT };

/* The last component of a name, for operations that create or remove it. */
struct last_name {
    char name[NAME_MAX + 1];
    size_t len;
    int type;                 /* LAST_* */
    bool trailing_slash;
};

/* Resolve `name` from `start` (NULL: fs's working directory; fs NULL: the
 * kernel's context, rooted at /). */
int vfs_lookup(struct fs_context *fs, const struct path *start, const char *name, unsigned flags,
               struct path *out);
/* Resolve all but the last component: the directory and the last name. */
int vfs_lookup_parent(struct fs_context *fs, const struct path *start, const char *name,
                      struct path *parent, struct last_name *last);
/* One name in a directory, crossing mounts, not following symlinks; the
 * directory's lock must not be held. */
int vfs_lookup_child(const struct path *dir, const char *name, size_t len, struct path *out);

int vfs_openat(struct fs_context *fs, const struct path *start, const char *name, unsigned flags,
               uint32_t mode, struct file **out);
int vfs_mknodat(struct fs_context *fs, const struct path *start, const char *name, uint32_t mode,
                dev_t dev);
int vfs_mkdirat(struct fs_context *fs, const struct path *start, const char *name, uint32_t mode);
/* flags: AT_REMOVEDIR */
int vfs_unlinkat(struct fs_context *fs, const struct path *start, const char *name, int flags);
int vfs_symlinkat(struct fs_context *fs, const char *target, const struct path *start,
                  const char *name);
/* flags: AT_SYMLINK_FOLLOW, AT_EMPTY_PATH */
int vfs_linkat(struct fs_context *fs, const struct path *ostart, const char *oname,
               const struct path *nstart, const char *nname, int flags);
/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE */
int vfs_renameat(struct fs_context *fs, const struct path *ostart, const char *oname,
                 const struct path *nstart, const char *nname, unsigned flags);
/* The link's target, not terminated: its length or -errno. */
ssize_t vfs_readlink_path(const struct path *p, char *buf, size_t size);
ssize_t vfs_readlinkat(struct fs_context *fs, const struct path *start, const char *name,
                       char *buf, size_t size);

/* Kernel-internal file access (ELF loader, /proc): names are absolute or
 * relative to /, resolved in the kernel's context. */
int vfs_open_kernel(const char *path, int flags, struct file **out);
ssize_t vfs_pread_kernel(struct file *f, void *buf, size_t len, uint64_t off);
ssize_t vfs_pwrite_kernel(struct file *f, const void *buf, size_t len, uint64_t off);
/* flags: AT_SYMLINK_NOFOLLOW */
int vfs_stat_kernel(const char *path, int flags, struct kstat *st);
ssize_t vfs_readlink_kernel(const char *path, char *buf, size_t size);
int vfs_mkdir_kernel(const char *path, uint32_t mode);
