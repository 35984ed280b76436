/* Vnodes and superblocks: reference counting, timestamps, the registry of
 * file system types, pseudo superblocks for unnamed files, and the table of
 * character devices. */
#include "core/clock.h"
#include "core/log.h"
#include "fs/vfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

struct timespec vfs_now(void)
{
    uint64_t ns = clock_realtime_ns();
    return (struct timespec){ (int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC) };
}

void vnode_init(struct vnode *v, struct vfs_sb *sb, uint32_t mode, const struct vnode_ops *ops,
                const struct file_ops *fops)
{
    memset(v, 0, sizeof(*v));
    v->refs = 1;
    v->mode = mode;
    v->nlink = 1;
    v->blksize = 4096;
    v->sb = sb;
    v->ops = ops;
    v->fops = fops;
    mutex_init(&v->lock);
    list_init(&v->locks);
    v->atime = v->mtime = v->ctime = v->btime = vfs_now();
}

struct vnode *vnode_get(struct vnode *v)
{
    if (v)
        __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

void vnode_put(struct vnode *v)
{
    if (!v)
        return;
    if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (v->sb && v->sb->ops && v->sb->ops->evict)
        v->sb->ops->evict(v);
}

void vnode_touch(struct vnode *v, unsigned which)
{
    struct timespec now = vfs_now();
    if (which & VATTR_ATIME)
        v->atime = now;
    if (which & VATTR_MTIME)
        v->mtime = now;
    if (which & VATTR_CTIME)
        v->ctime = now;
}

/* ---- file system types ---- */

static struct vfs_fstype *fstypes;
static spinlock_t fstype_lock = SPINLOCK_INIT;

void vfs_register_fstype(struct vfs_fstype *t)
{
    irqflags_t f = spin_lock(&fstype_lock);
    struct vfs_fstype **pp = &fstypes;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (!*pp) {
        t->next = NULL;
        *pp = t; /* registration order is /proc/filesystems order */
    }
    spin_unlock(&fstype_lock, f);
}

const struct vfs_fstype *vfs_find_fstype(const char *name)
{
    irqflags_t f = spin_lock(&fstype_lock);
    struct vfs_fstype *t = fstypes;
    while (t && strcmp(t->name, name) != 0)
        t = t->next;
    spin_unlock(&fstype_lock, f);
    return t;
}

const struct vfs_fstype *vfs_next_fstype(const struct vfs_fstype *prev)
{
    return prev ? prev->next : fstypes;
}

/* Anonymous device numbers, as Linux gives to nodev file systems: major 0. */
static uint32_t next_anon_minor = 1;

void vfs_sb_init(struct vfs_sb *sb, const struct vfs_fstype *type, const struct vfs_sb_ops *ops,
                 uint64_t magic)
{
    memset(sb, 0, sizeof(*sb));
    sb->type = type;
    sb->ops = ops;
    sb->magic = magic;
    sb->dev = MKDEV(0, __atomic_fetch_add(&next_anon_minor, 1, __ATOMIC_RELAXED));
    list_init(&sb->dentries);
}

static void anon_evict(struct vnode *v)
{
    kfree(v);
}

static int anon_statfs(struct vfs_sb *sb, struct statfs *st)
{
    (void)sb;
    st->f_bsize = 4096;
    st->f_namelen = NAME_MAX;
    return 0;
}

static const struct vfs_sb_ops anon_sb_ops = { .statfs = anon_statfs, .evict = anon_evict };

struct vfs_sb *vfs_anon_sb(const char *name, uint64_t magic)
{
    struct vfs_sb *sb = kmalloc(sizeof(*sb));
    if (!sb)
        return NULL;
    vfs_sb_init(sb, NULL, &anon_sb_ops, magic);
    sb->anon_name = name;
    return sb;
}

/* ---- character devices ---- */

#define CHRDEV_MAX 32

static struct chrdev {
    dev_t dev;
    const char *name;
    const struct file_ops *ops;
} chrdevs[CHRDEV_MAX];
static unsigned chrdev_count;
static spinlock_t chrdev_lock = SPINLOCK_INIT;

int vfs_chrdev_register(dev_t dev, const char *name, const struct file_ops *ops)
{
    int err = 0;
    irqflags_t f = spin_lock(&chrdev_lock);
    for (unsigned i = 0; i < chrdev_count; i++)
        if (chrdevs[i].dev == dev)
            err = -EBUSY;
    if (!err && chrdev_count == CHRDEV_MAX)
        err = -ENOSPC;
    if (!err)
        chrdevs[chrdev_count++] = (struct chrdev){ dev, name, ops };
    spin_unlock(&chrdev_lock, f);
    return err;
}

const struct file_ops *vfs_chrdev_ops(dev_t dev)
{
    const struct file_ops *ops = NULL;
    irqflags_t f = spin_lock(&chrdev_lock);
    for (unsigned i = 0; i < chrdev_count; i++)
        if (chrdevs[i].dev == dev)
            ops = chrdevs[i].ops;
    spin_unlock(&chrdev_lock, f);
    return ops;
}

const struct file_ops *vfs_fifo_fops;

struct vnode *vfs_anon_vnode(struct vfs_sb *sb, uint32_t mode, const struct file_ops *fops)
{
    static uint64_t next_ino = 1;
    struct vnode *v = kmalloc(sizeof(*v));
    if (!v)
        return NULL;
    vnode_init(v, sb, mode, NULL, fops);
    v->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
    return v;
}
