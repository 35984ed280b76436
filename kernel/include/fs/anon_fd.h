/* Descriptors for files without a name (pipes, eventfds, timerfds,
 * signalfds, epoll instances): a pseudo superblock per kind, made on first
 * use, and installing a new file in the calling process's table. */
#pragma once

#include "fs/vfs.h"

#define PIPEFS_MAGIC 0x50495045
#define ANON_INODE_FS_MAGIC 0x09041934

/* The superblock in *slot, created (named `name`) by the first caller. */
struct vfs_sb *anon_fd_sb(struct vfs_sb **slot, const char *name, uint64_t magic);
/* A new file on a fresh vnode of sb. flags: O_ACCMODE | status flags. On
 * failure priv is untouched (the caller frees it); on success the file's
 * release op owns it. */
int anon_fd_file(struct vfs_sb *sb, uint32_t mode, const struct file_ops *ops, unsigned flags,
                 void *priv, struct file **out);
/* An anon_inode-style file (mode 0600, no type bits), as eventfd, timerfd,
 * signalfd and epoll files are on Linux. */
int anon_fd_inode_file(const struct file_ops *ops, unsigned flags, void *priv, struct file **out);
/* Install f as the lowest free descriptor (O_CLOEXEC in flags sets the
 * close-on-exec bit), always consuming the caller's reference: the number
 * or -EMFILE/-ENOMEM. */
int anon_fd_install(struct file *f, unsigned flags);
/* Take a reference on f unless its count already reached zero (it is being
 * released): for holders of a pointer that does not own a reference. */
bool anon_fd_tryget(struct file *f);
