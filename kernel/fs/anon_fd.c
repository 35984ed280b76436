/* Descriptors for files without a name (see fs/anon_fd.h): shared by pipes,
 * eventfds, timerfds, signalfds and epoll. */
#include "fs/anon_fd.h"
#include "fs/fdtable.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

struct vfs_sb *anon_fd_sb(struct vfs_sb **slot, const char *name, uint64_t magic)
{
    struct vfs_sb *sb = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (sb)
        return sb;
    sb = vfs_anon_sb(name, magic);
    if (!sb)
        return NULL;
    struct vfs_sb *seen = NULL;
    if (!__atomic_compare_exchange_n(slot, &seen, sb, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        kfree(sb); /* another CPU won the race; nothing refers to ours yet */
        return seen;
    }
    return sb;
}

int anon_fd_file(struct vfs_sb *sb, uint32_t mode, const struct file_ops *ops, unsigned flags,
                 void *priv, struct file **out)
{
    if (!sb)
        return -ENOMEM;
    struct vnode *v = vfs_anon_vnode(sb, mode, ops);
    if (!v)
        return -ENOMEM;
    int err = vfs_file_alloc_anon(v, ops, flags & ~(unsigned)O_CLOEXEC, priv, out);
    if (err)
        vnode_put(v);
    return err;
}

int anon_fd_inode_file(const struct file_ops *ops, unsigned flags, void *priv, struct file **out)
{
    static struct vfs_sb *anon_inode_sb;
    struct vfs_sb *sb = anon_fd_sb(&anon_inode_sb, "anon_inode", ANON_INODE_FS_MAGIC);
    return anon_fd_file(sb, 0600, ops, flags, priv, out);
}

int anon_fd_install(struct file *f, unsigned flags)
{
    int fd = cur_fd_install(f, 0, (flags & O_CLOEXEC) != 0);
    vfs_file_put(f);
    return fd;
}

bool anon_fd_tryget(struct file *f)
{
    uint32_t n = __atomic_load_n(&f->refs, __ATOMIC_RELAXED);
    do {
        if (n == 0)
            return false;
    } while (!__atomic_compare_exchange_n(&f->refs, &n, n + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
    return true;
}
