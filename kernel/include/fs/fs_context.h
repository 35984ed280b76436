/* A process's file system context: its root, working directory and umask. */
#pragma once

#include "arch/spinlock.h"
#include "fs/vfs.h"

struct fs_context {
    spinlock_t lock;
    struct path root, cwd;
    uint32_t umask;
    uint32_t refs;
};

/* root = cwd = the global root, umask 022; NULL when out of memory. */
struct fs_context *fs_context_create(void);
/* A copy (fork without CLONE_FS). */
struct fs_context *fs_context_clone(struct fs_context *fs);
struct fs_context *fs_context_get(struct fs_context *fs);
void fs_context_put(struct fs_context *fs);
/* Copies with references. */
void fs_context_cwd(struct fs_context *fs, struct path *out);
void fs_context_root(struct fs_context *fs, struct path *out);
void fs_context_set_cwd(struct fs_context *fs, const struct path *p);
void fs_context_set_root(struct fs_context *fs, const struct path *p);
/* Set the umask, returning the old one. */
uint32_t fs_context_umask(struct fs_context *fs, uint32_t mask);
/* The kernel's own context (threads without a process). */
struct fs_context *fs_context_kernel(void);
