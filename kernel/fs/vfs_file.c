/* Open file descriptions: opening a vnode, reference counts, and the
 * generic parts of read, write, seek, poll, ioctl, sync and mmap pages. */
#include "fs/epoll.h"
#include "fs/namei.h"
#include "fs/poll.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vfs_internal.h"

static struct file *file_alloc(struct vnode *v, const struct file_ops *ops, unsigned flags)
{
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    f->refs = 1;
    f->flags = flags & (O_ACCMODE | O_STATUS_FLAGS);
    if (flags & O_PATH) {
        f->fmode = FMODE_PATH;
    } else {
        unsigned acc = flags & O_ACCMODE;
        f->fmode = (acc == O_RDONLY || acc == O_RDWR ? FMODE_READ : 0) |
                   (acc == O_WRONLY || acc == O_RDWR ? FMODE_WRITE : 0);
    }
    mutex_init(&f->pos_lock);
    f->vnode = v;
    f->ops = ops;
    return f;
}

struct file *vfs_file_ref(struct file *f)
{
    if (f)
        __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    return f;
}

void vfs_file_put(struct file *f)
{
    if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    epoll_file_release(f); /* registrations go with the last reference, as on Linux */
    if (f->ops && f->ops->release && !(f->fmode & FMODE_PATH))
        f->ops->release(f);
    if (f->locked)
        vfs_lock_release_file(f);
    path_put(&f->path);
    vnode_put(f->vnode);
    kfree(f);
}

int vfs_file_alloc_anon(struct vnode *v, const struct file_ops *ops, unsigned flags, void *priv,
                        struct file **out)
{
    struct file *f = file_alloc(v, ops, flags);
    if (!f)
        return -ENOMEM;
    f->priv = priv;
    *out = f;
    return 0;
}

int vfs_may_open(struct vnode *v, struct mount *mnt, unsigned flags)
{
    if (flags & O_PATH)
        return 0;
    unsigned acc = flags & O_ACCMODE;
    bool writing = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
    if (S_ISLNK(v->mode))
        return -ELOOP; /* O_NOFOLLOW on a symlink */
    if (S_ISDIR(v->mode) && (acc == O_WRONLY || acc == O_RDWR || (flags & O_CREAT)))
        return -EISDIR;
    if (S_ISSOCK(v->mode))
        return -ENXIO;
    if (writing && (S_ISREG(v->mode) || S_ISDIR(v->mode)) && mnt_readonly(mnt))
        return -EROFS;
    if (!S_ISDIR(v->mode) && (flags & O_DIRECTORY))
        return -ENOTDIR;
    return 0;
}

static int open_ops(struct vnode *v, struct mount *mnt, const struct file_ops **ops)
{
    *ops = v->fops;
    if (S_ISCHR(v->mode) || S_ISBLK(v->mode)) {
        if (mnt && (mnt->flags & MS_NODEV))
            return -EACCES;
        *ops = S_ISCHR(v->mode) ? vfs_chrdev_ops(v->rdev) : NULL;
        return *ops ? 0 : -ENXIO;
    }
    if (S_ISFIFO(v->mode)) {
        *ops = vfs_fifo_fops;
        return *ops ? 0 : -ENXIO;
    }
    return 0;
}

int vfs_open_path(const struct path *p, unsigned flags, struct file **out)
{
    struct vnode *v = path_vnode(p);
    int err = vfs_may_open(v, p->mnt, flags);
    if (err)
        return err;
    const struct file_ops *ops = NULL;
    if (!(flags & O_PATH) && (err = open_ops(v, p->mnt, &ops)) != 0)
        return err;
    struct file *f = file_alloc(vnode_get(v), ops, flags);
    if (!f) {
        vnode_put(v);
        return -ENOMEM;
    }
    f->path = *p;
    path_get(&f->path);
    if (!(flags & O_PATH) && ops && ops->open && (err = ops->open(v, f)) != 0) {
        f->ops = NULL; /* no release for a file that never opened */
        vfs_file_put(f);
        return err;
    }
    *out = f;
    return 0;
}

/* ---- I/O ---- */

ssize_t vfs_read(struct file *f, struct uio *u, uint64_t *pos)
{
    if (!(f->fmode & FMODE_READ))
        return -EBADF;
    if (S_ISDIR(f->vnode->mode))
        return -EISDIR;
    if (!f->ops || !f->ops->read)
        return -EINVAL;
    if (u->resid == 0)
        return 0;
    return f->ops->read(f, u, pos);
}

ssize_t vfs_write(struct file *f, struct uio *u, uint64_t *pos)
{
    if (!(f->fmode & FMODE_WRITE))
        return -EBADF;
    if (!f->ops || !f->ops->write)
        return -EINVAL;
    if (u->resid == 0 && S_ISREG(f->vnode->mode))
        return 0;
    return f->ops->write(f, u, pos);
}

static bool file_is_stream(struct file *f)
{
    return f->ops && (f->ops->flags & FOPS_STREAM);
}

ssize_t vfs_read_at_pos(struct file *f, struct uio *u)
{
    if (file_is_stream(f)) {
        uint64_t pos = 0;
        return vfs_read(f, u, &pos);
    }
    mutex_lock(&f->pos_lock);
    uint64_t pos = f->pos;
    ssize_t n = vfs_read(f, u, &pos);
    if (n > 0)
        f->pos = pos;
    mutex_unlock(&f->pos_lock);
    return n;
}

ssize_t vfs_write_at_pos(struct file *f, struct uio *u)
{
    if (file_is_stream(f)) {
        uint64_t pos = 0;
        return vfs_write(f, u, &pos);
    }
    mutex_lock(&f->pos_lock);
    uint64_t pos = f->pos;
    ssize_t n = vfs_write(f, u, &pos);
    if (n > 0 || (f->flags & O_APPEND))
        f->pos = pos;
    mutex_unlock(&f->pos_lock);
    return n;
}

static int seek_data_default(struct file *f, uint64_t off, int whence, uint64_t *out)
{
    uint64_t size = f->vnode->size;
    if (off >= size)
        return -ENXIO;
    *out = whence == SEEK_DATA ? off : size;
    return 0;
}

static int64_t seek_target(struct file *f, int64_t off, int whence)
{
    int64_t base;
    switch (whence) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = (int64_t)f->pos;
        break;
    case SEEK_END:
        if (S_ISDIR(f->vnode->mode))
            return -EINVAL;
        base = (int64_t)f->vnode->size;
        break;
    case SEEK_DATA:
    case SEEK_HOLE: {
        if (off < 0)
            return -ENXIO;
        uint64_t r;
        int err = f->ops && f->ops->seek_data ? f->ops->seek_data(f, (uint64_t)off, whence, &r)
                                              : seek_data_default(f, (uint64_t)off, whence, &r);
        return err ? err : (int64_t)r;
    }
    default:
        return -EINVAL;
    }
    int64_t r;
    if (__builtin_add_overflow(base, off, &r) || r < 0)
        return -EINVAL;
    return r;
}

int64_t vfs_llseek(struct file *f, int64_t off, int whence)
{
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (file_is_stream(f))
        return -ESPIPE;
    mutex_lock(&f->pos_lock);
    int64_t r = seek_target(f, off, whence);
    if (r >= 0)
        f->pos = (uint64_t)r;
    mutex_unlock(&f->pos_lock);
    return r;
}

unsigned vfs_poll(struct file *f, struct poll_table *pt)
{
    if (f->fmode & FMODE_PATH)
        return POLLNVAL;
    if (!f->ops || !f->ops->poll)
        return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM; /* never blocks */
    return f->ops->poll(f, pt);
}

int vfs_ioctl(struct file *f, unsigned long cmd, unsigned long arg)
{
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (f->ops && f->ops->ioctl)
        return f->ops->ioctl(f, cmd, arg);
    return -ENOTTY;
}

int vfs_fsync(struct file *f, bool datasync)
{
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (f->ops && f->ops->fsync)
        return f->ops->fsync(f, datasync);
    return file_is_stream(f) ? -EINVAL : 0;
}

int vfs_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
    if (!(f->fmode & FMODE_WRITE))
        return -EBADF;
    if (file_is_stream(f))
        return -ESPIPE;
    if (S_ISDIR(f->vnode->mode))
        return -EISDIR;
    if (!S_ISREG(f->vnode->mode))
        return -ENODEV;
    if (!f->ops || !f->ops->fallocate)
        return -EOPNOTSUPP;
    return f->ops->fallocate(f, mode, off, len);
}

int vfs_iterate_dir(struct file *f, struct dir_ctx *ctx)
{
    struct vnode *v = f->vnode;
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (!S_ISDIR(v->mode))
        return -ENOTDIR;
    if (!v->ops || !v->ops->readdir)
        return -ENOTDIR;
    if (f->path.dentry && (f->path.dentry->flags & DENTRY_DEAD))
        return -ENOENT; /* removed while open: Linux lists nothing */
    mutex_lock(&v->lock);
    int err = v->ops->readdir(v, ctx);
    mutex_unlock(&v->lock);
    return err;
}

int vfs_file_get_page(struct file *f, uint64_t pgoff, struct page **out)
{
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (!f->ops || !f->ops->get_page)
        return -ENODEV;
    return f->ops->get_page(f, pgoff, out);
}

/* ---- the kernel's own file access ---- */

int vfs_open_kernel(const char *path, int flags, struct file **out)
{
    return vfs_openat(NULL, NULL, path, (unsigned)flags, 0, out);
}

ssize_t vfs_pread_kernel(struct file *f, void *buf, size_t len, uint64_t off)
{
    struct uio u;
    uio_init_kernel(&u, buf, len);
    size_t done = 0;
    while (u.resid) { /* short reads only at the end of the file */
        ssize_t n = vfs_read(f, &u, &off);
        if (n < 0)
            return done ? (ssize_t)done : n;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

ssize_t vfs_pwrite_kernel(struct file *f, const void *buf, size_t len, uint64_t off)
{
    struct uio u;
    uio_init_kernel(&u, (void *)buf, len);
    return vfs_write(f, &u, &off);
}

int vfs_stat_kernel(const char *path, int flags, struct kstat *st)
{
    struct path p;
    int err = vfs_lookup(NULL, NULL, path, flags & AT_SYMLINK_NOFOLLOW ? 0 : LOOKUP_FOLLOW, &p);
    if (err)
        return err;
    err = vfs_getattr(path_vnode(&p), p.mnt, st);
    path_put(&p);
    return err;
}

ssize_t vfs_readlink_kernel(const char *path, char *buf, size_t size)
{
    struct path p;
    int err = vfs_lookup(NULL, NULL, path, 0, &p);
    if (err)
        return err;
    char *tmp = kmalloc(PATH_MAX);
    ssize_t n = tmp ? vfs_readlink_path(&p, tmp, PATH_MAX) : -ENOMEM;
    path_put(&p);
    if (n >= 0) {
        n = MIN((size_t)n, size);
        memcpy(buf, tmp, (size_t)n);
        if ((size_t)n < size)
            buf[n] = '\0';
    }
    kfree(tmp);
    return n;
}

int vfs_mkdir_kernel(const char *path, uint32_t mode)
{
    return vfs_mkdirat(NULL, NULL, path, mode);
}

int vfs_mmap_check(struct file *f, int prot, bool shared, bool *maywrite)
{
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (!f->ops || !f->ops->get_page)
        return -ENODEV;
    if (!(f->fmode & FMODE_READ))
        return -EACCES;
    if (shared && (prot & 2 /* PROT_WRITE */) && !(f->fmode & FMODE_WRITE))
        return -EACCES;
    if (shared && (prot & 2) && (f->flags & O_APPEND))
        return -EACCES;
    *maywrite = !shared || (f->fmode & FMODE_WRITE);
    return 0;
}

void vfs_file_ids(struct file *f, uint32_t *dev_major, uint32_t *dev_minor, uint64_t *ino)
{
    dev_t dev = f->vnode->sb ? f->vnode->sb->dev : 0;
    *dev_major = DEV_MAJOR(dev);
    *dev_minor = DEV_MINOR(dev);
    *ino = f->vnode->ino;
}
