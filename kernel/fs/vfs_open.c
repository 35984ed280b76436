/* open by name: lookup or creation under the directory's lock, O_CREAT
 * through dangling symlinks, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH. */
#include "fs/fs_context.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vfs_internal.h"

static uint32_t current_umask(struct fs_context *fs)
{
    return READ_ONCE((fs ? fs : fs_context_kernel())->umask);
}

/* Create or find the last component of name under its directory's lock.
 * Returns 0 with *out set (and *created), or 1 with *link set to the
 * target of a symlink found there (kmalloc'd), or -errno. */
static int open_create_step(struct fs_context *fs, struct path *dir, struct last_name *last,
                            unsigned flags, uint32_t mode, struct path *out, bool *created,
                            char **link)
{
    if (last->type != LAST_NORM || last->trailing_slash)
        return -EISDIR;
    struct vnode *dv = path_vnode(dir);
    mutex_lock(&dv->lock);
    struct dentry *d;
    int err = lookup_locked(dir->dentry, last->name, last->len, &d);
    if (err == -ENOENT) {
        if (dir->dentry->flags & DENTRY_DEAD)
            err = -ENOENT;
        else if (mnt_readonly(dir->mnt))
            err = -EROFS;
        else if (!dv->ops || !dv->ops->create)
            err = -EACCES;
        else {
            struct vnode *v;
            uint32_t m = S_IFREG | (mode & S_IALLUGO & ~current_umask(fs));
            err = dv->ops->create(dv, last->name, last->len, m, 0, &v);
            if (!err) {
                d = dentry_add(dir->dentry, last->name, last->len, v);
                vnode_put(v);
                err = d ? 0 : -ENOMEM;
                *created = true;
            }
        }
    }
    mutex_unlock(&dv->lock);
    if (err)
        return err;
    *out = (struct path){ mount_get(dir->mnt), d };
    if (*created)
        return 0;
    if (flags & O_EXCL) {
        path_put(out);
        return -EEXIST;
    }
    path_cross_mounts(out);
    if (!S_ISLNK(path_vnode(out)->mode))
        return 0;
    if (flags & O_NOFOLLOW) {
        path_put(out);
        return -ELOOP;
    }
    char *buf = kmalloc(PATH_MAX);
    ssize_t n = buf ? vfs_readlink_path(out, buf, PATH_MAX) : -ENOMEM;
    path_put(out);
    if (n <= 0 || n >= PATH_MAX) {
        kfree(buf);
        return n < 0 ? (int)n : n == 0 ? -ENOENT : -ENAMETOOLONG;
    }
    buf[n] = '\0';
    *link = buf;
    return 1;
}

/* O_CREAT: follow symlinks in the last component ourselves, since a
 * dangling one names the file to create. */
static int open_create(struct fs_context *fs, const struct path *start, const char *name,
                       unsigned flags, uint32_t mode, struct path *out, bool *created)
{
    struct last_name *last = kmalloc(sizeof(*last));
    if (!last)
        return -ENOMEM;
    char *owned = NULL;
    struct path base = { NULL, NULL };
    int err;
    for (int links = 0;; links++) {
        struct path dir;
        err = vfs_lookup_parent(fs, base.dentry ? &base : start, name, &dir, last);
        if (err)
            break;
        char *link = NULL;
        err = open_create_step(fs, &dir, last, flags, mode, out, created, &link);
        path_put(&base);
        base = dir; /* a relative link target starts from the link's directory */
        kfree(owned);
        owned = link;
        name = link;
        if (err != 1)
            break;
        if (links == MAXSYMLINKS) {
            err = -ELOOP;
            break;
        }
    }
    path_put(&base);
    kfree(owned);
    kfree(last);
    return err;
}

int vfs_openat(struct fs_context *fs, const struct path *start, const char *name, unsigned flags,
               uint32_t mode, struct file **out)
{
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return -EOPNOTSUPP;
    if (flags & O_PATH)
        flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
    struct path p;
    bool created = false;
    int err;
    if (flags & O_CREAT) {
        err = open_create(fs, start, name, flags, mode, &p, &created);
    } else {
        unsigned lf = (flags & O_NOFOLLOW ? 0 : LOOKUP_FOLLOW) | (flags & O_DIRECTORY ? LOOKUP_DIRECTORY : 0);
        err = vfs_lookup(fs, start, name, lf, &p);
    }
    if (err)
        return err;
    struct vnode *v = path_vnode(&p);
    if ((flags & O_DIRECTORY) && !S_ISDIR(v->mode))
        err = -ENOTDIR;
    else if ((flags & O_NOFOLLOW) && S_ISLNK(v->mode) && !(flags & O_PATH))
        err = -ELOOP;
    if (!err)
        err = vfs_open_path(&p, flags, out);
    if (!err && (flags & O_TRUNC) && !(flags & O_PATH) && !created && S_ISREG(v->mode)) {
        err = vfs_truncate_vnode(v, p.mnt, 0);
        if (err)
            vfs_file_put(*out);
    }
    path_put(&p);
    return err;
}
