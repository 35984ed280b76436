/* File system contexts: root, working directory and umask of a process (and
 * one for the kernel itself, always at the global root). */
#include "fs/fs_context.h"
#include "mm/kmalloc.h"
#include "lib/string.h"

static struct fs_context kernel_fs = { SPINLOCK_INIT, { NULL, NULL }, { NULL, NULL }, 022, 1 };

struct fs_context *fs_context_kernel(void)
{
    if (!READ_ONCE(kernel_fs.root.mnt)) {
        struct path root;
        vfs_root_path(&root);
        if (!root.mnt)
            return &kernel_fs; /* before vfs_init: lookups fail with ENOENT */
        irqflags_t f = spin_lock(&kernel_fs.lock);
        bool first = !kernel_fs.root.mnt;
        if (first) {
            kernel_fs.root = root;
            kernel_fs.cwd = root;
            path_get(&kernel_fs.cwd);
        }
        spin_unlock(&kernel_fs.lock, f);
        if (!first)
            path_put(&root);
    }
    return &kernel_fs;
}

struct fs_context *fs_context_create(void)
{
    struct fs_context *fs = kzalloc(sizeof(*fs));
    if (!fs)
        return NULL;
    spin_init(&fs->lock);
    vfs_root_path(&fs->root);
    fs->cwd = fs->root;
    path_get(&fs->cwd);
    fs->umask = 022;
    fs->refs = 1;
    return fs;
}

struct fs_context *fs_context_clone(struct fs_context *old)
{
    struct fs_context *fs = kzalloc(sizeof(*fs));
    if (!fs)
        return NULL;
    spin_init(&fs->lock);
    fs_context_root(old, &fs->root);
    fs_context_cwd(old, &fs->cwd);
    fs->umask = READ_ONCE(old->umask);
    fs->refs = 1;
    return fs;
}

struct fs_context *fs_context_get(struct fs_context *fs)
{
    __atomic_add_fetch(&fs->refs, 1, __ATOMIC_RELAXED);
    return fs;
}

void fs_context_put(struct fs_context *fs)
{
    if (!fs || fs == &kernel_fs || __atomic_sub_fetch(&fs->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    path_put(&fs->root);
    path_put(&fs->cwd);
    kfree(fs);
}

static void fs_copy_path(struct fs_context *fs, const struct path *src, struct path *out)
{
    irqflags_t f = spin_lock(&fs->lock);
    *out = *src;
    path_get(out); /* reference counts only: no sleeping under the lock */
    spin_unlock(&fs->lock, f);
}

void fs_context_cwd(struct fs_context *fs, struct path *out)
{
    fs_copy_path(fs, &fs->cwd, out);
}

void fs_context_root(struct fs_context *fs, struct path *out)
{
    fs_copy_path(fs, &fs->root, out);
}

static void fs_replace(struct fs_context *fs, struct path *slot, const struct path *p)
{
    struct path n = *p;
    path_get(&n);
    irqflags_t f = spin_lock(&fs->lock);
    struct path old = *slot;
    *slot = n;
    spin_unlock(&fs->lock, f);
    path_put(&old);
}

void fs_context_set_cwd(struct fs_context *fs, const struct path *p)
{
    fs_replace(fs, &fs->cwd, p);
}

void fs_context_set_root(struct fs_context *fs, const struct path *p)
{
    fs_replace(fs, &fs->root, p);
}

uint32_t fs_context_umask(struct fs_context *fs, uint32_t mask)
{
    return __atomic_exchange_n(&fs->umask, mask & 0777, __ATOMIC_RELAXED);
}
