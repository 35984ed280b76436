/* Namespace operations by name: mknod, mkdir, symlink, link, unlink, rmdir,
 * rename, readlink. Each checks what Linux checks, in Linux's order, then
 * calls the file system with the directories locked and keeps the name
 * cache in step. */
#include "fs/fs_context.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vfs_internal.h"

static struct mutex rename_mutex = MUTEX_INIT(rename_mutex);

struct parent {
    struct path dir;
    struct last_name last;
};

static int parent_get(struct fs_context *fs, const struct path *start, const char *name,
                      struct parent **out)
{
    struct parent *p = kmalloc(sizeof(*p));
    if (!p)
        return -ENOMEM;
    int err = vfs_lookup_parent(fs, start, name, &p->dir, &p->last);
    if (err) {
        kfree(p);
        return err;
    }
    *out = p;
    return 0;
}

static void parent_put(struct parent *p)
{
    path_put(&p->dir);
    kfree(p);
}

static uint32_t umask_of(struct fs_context *fs)
{
    return READ_ONCE((fs ? fs : fs_context_kernel())->umask);
}

enum create_kind { CREATE_NODE, CREATE_DIR, CREATE_SYMLINK };

/* Everything mknod, mkdir and symlink share: the name must not exist. */
static int create_common(struct fs_context *fs, const struct path *start, const char *name,
                         enum create_kind kind, uint32_t mode, dev_t dev, const char *target)
{
    struct parent *p;
    int err = parent_get(fs, start, name, &p);
    if (err)
        return err;
    struct last_name *l = &p->last;
    struct vnode *dv = path_vnode(&p->dir);
    if (l->type != LAST_NORM) {
        parent_put(p);
        return -EEXIST;
    }
    mutex_lock(&dv->lock);
    struct dentry *d;
    err = lookup_locked(p->dir.dentry, l->name, l->len, &d);
    if (!err) {
        dentry_put(d);
        err = -EEXIST;
    } else if (err == -ENOENT) {
        struct vnode *v = NULL;
        if (p->dir.dentry->flags & DENTRY_DEAD)
            err = -ENOENT;
        else if (l->trailing_slash && kind != CREATE_DIR)
            err = -ENOENT;
        else if (mnt_readonly(p->dir.mnt))
            err = -EROFS;
        else if (!dv->ops)
            err = -EPERM;
        else if (kind == CREATE_DIR)
            err = dv->ops->mkdir ? dv->ops->mkdir(dv, l->name, l->len, S_IFDIR | mode, &v) : -EPERM;
        else if (kind == CREATE_SYMLINK)
            err = dv->ops->symlink ? dv->ops->symlink(dv, l->name, l->len, target, &v) : -EPERM;
        else
            err = dv->ops->create ? dv->ops->create(dv, l->name, l->len, mode, dev, &v) : -EPERM;
        if (!err) {
            d = dentry_add(p->dir.dentry, l->name, l->len, v);
            vnode_put(v);
            if (d)
                dentry_put(d);
        }
    }
    mutex_unlock(&dv->lock);
    parent_put(p);
    return err;
}

int vfs_mknodat(struct fs_context *fs, const struct path *start, const char *name, uint32_t mode,
                dev_t dev)
{
    uint32_t type = mode & S_IFMT;
    if (type == 0)
        type = S_IFREG;
    if (type == S_IFDIR)
        return -EPERM;
    if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK)
        return -EINVAL;
    uint32_t perm = mode & S_IALLUGO & ~umask_of(fs);
    return create_common(fs, start, name, CREATE_NODE, type | perm,
                         type == S_IFCHR || type == S_IFBLK ? dev : 0, NULL);
}

int vfs_mkdirat(struct fs_context *fs, const struct path *start, const char *name, uint32_t mode)
{
    return create_common(fs, start, name, CREATE_DIR, mode & S_IALLUGO & ~umask_of(fs), 0, NULL);
}

int vfs_symlinkat(struct fs_context *fs, const char *target, const struct path *start,
                  const char *name)
{
    if (!target[0])
        return -ENOENT;
    if (strnlen(target, PATH_MAX) >= PATH_MAX)
        return -ENAMETOOLONG;
    return create_common(fs, start, name, CREATE_SYMLINK, 0777, 0, target);
}

/* Checks on the victim of unlink or rmdir, with both locks held. */
static int remove_check(struct dentry *d, bool rmdir, bool trailing, struct mount *mnt)
{
    struct vnode *v = d->vnode;
    if (rmdir) {
        if (!S_ISDIR(v->mode))
            return -ENOTDIR;
        if (READ_ONCE(d->mounted))
            return -EBUSY;
    } else {
        if (S_ISDIR(v->mode))
            return -EISDIR;
        if (trailing)
            return -ENOTDIR;
    }
    return mnt_readonly(mnt) ? -EROFS : 0;
}

int vfs_unlinkat(struct fs_context *fs, const struct path *start, const char *name, int flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    bool rmdir = flags & AT_REMOVEDIR;
    struct parent *p;
    int err = parent_get(fs, start, name, &p);
    if (err)
        return err;
    struct last_name *l = &p->last;
    if (l->type != LAST_NORM) {
        err = !rmdir ? -EISDIR : l->type == LAST_DOT ? -EINVAL : l->type == LAST_DOTDOT ? -ENOTEMPTY : -EBUSY;
        parent_put(p);
        return err;
    }
    struct vnode *dv = path_vnode(&p->dir);
    mutex_lock(&dv->lock);
    struct dentry *d;
    err = lookup_locked(p->dir.dentry, l->name, l->len, &d);
    if (!err) {
        struct vnode *v = d->vnode;
        mutex_lock(&v->lock);
        err = remove_check(d, rmdir, l->trailing_slash, p->dir.mnt);
        if (!err && !dv->ops)
            err = -EPERM;
        if (!err && rmdir)
            err = dv->ops->rmdir ? dv->ops->rmdir(dv, l->name, l->len, v) : -EPERM;
        else if (!err)
            err = dv->ops->unlink ? dv->ops->unlink(dv, l->name, l->len, v) : -EPERM;
        if (!err)
            dentry_unhash(d);
        mutex_unlock(&v->lock);
        dentry_put(d);
    }
    mutex_unlock(&dv->lock);
    parent_put(p);
    return err;
}

int vfs_linkat(struct fs_context *fs, const struct path *ostart, const char *oname,
               const struct path *nstart, const char *nname, int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct path old;
    unsigned lf = (flags & AT_SYMLINK_FOLLOW ? LOOKUP_FOLLOW : 0) | (flags & AT_EMPTY_PATH ? LOOKUP_EMPTY : 0);
    int err = vfs_lookup(fs, ostart, oname, lf, &old);
    if (err)
        return err;
    struct parent *p = NULL;
    struct vnode *v = path_vnode(&old);
    if (S_ISDIR(v->mode))
        err = -EPERM;
    else
        err = parent_get(fs, nstart, nname, &p);
    if (err) {
        path_put(&old);
        return err;
    }
    struct last_name *l = &p->last;
    struct vnode *dv = path_vnode(&p->dir);
    if (l->type != LAST_NORM)
        err = -EEXIST;
    else if (old.mnt != p->dir.mnt)
        err = -EXDEV;
    if (!err) {
        mutex_lock(&dv->lock);
        struct dentry *d;
        err = lookup_locked(p->dir.dentry, l->name, l->len, &d);
        if (!err) {
            dentry_put(d);
            err = -EEXIST;
        } else if (err == -ENOENT) {
            err = l->trailing_slash || (p->dir.dentry->flags & DENTRY_DEAD) ? -ENOENT
                : mnt_readonly(p->dir.mnt) ? -EROFS
                : !dv->ops || !dv->ops->link ? -EPERM : 0;
            if (!err) {
                mutex_lock(&v->lock);
                err = v->nlink == 0 ? -ENOENT : dv->ops->link(dv, l->name, l->len, v);
                mutex_unlock(&v->lock);
            }
            if (!err && (d = dentry_add(p->dir.dentry, l->name, l->len, v)) != NULL)
                dentry_put(d);
        }
        mutex_unlock(&dv->lock);
    }
    parent_put(p);
    path_put(&old);
    return err;
}

ssize_t vfs_readlinkat(struct fs_context *fs, const struct path *start, const char *name,
                       char *buf, size_t size)
{
    struct path p;
    int err = vfs_lookup(fs, start, name, LOOKUP_EMPTY, &p);
    if (err)
        return err;
    ssize_t n = vfs_readlink_path(&p, buf, size);
    path_put(&p);
    return n;
}

/* ---- rename ---- */

/* Lock two distinct directories: an ancestor before its descendant, else by address. */
static void lock_two_dirs(struct dentry *a, struct dentry *b)
{
    if (a == b) {
        mutex_lock(&a->vnode->lock);
        return;
    }
    bool a_first = dentry_is_ancestor(a, b) ? true
                 : dentry_is_ancestor(b, a) ? false : (uintptr_t)a->vnode < (uintptr_t)b->vnode;
    mutex_lock(&(a_first ? a : b)->vnode->lock);
    mutex_lock(&(a_first ? b : a)->vnode->lock);
}

static void unlock_two(struct vnode *a, struct vnode *b)
{
    mutex_unlock(&a->lock);
    if (b && b != a)
        mutex_unlock(&b->lock);
}

static void lock_two_victims(struct vnode *a, struct vnode *b)
{
    if (b && b != a && (uintptr_t)b < (uintptr_t)a) {
        mutex_lock(&b->lock);
        mutex_lock(&a->lock);
        return;
    }
    mutex_lock(&a->lock);
    if (b && b != a)
        mutex_lock(&b->lock);
}

/* Type and topology checks on the source od and the target nd (may be
 * NULL), in the order Linux makes them. */
static int rename_check(struct parent *op, struct parent *np, struct dentry *od, struct dentry *nd,
                        unsigned flags)
{
    struct vnode *ov = od->vnode, *nv = nd ? nd->vnode : NULL;
    if (!nd && (flags & RENAME_EXCHANGE))
        return -ENOENT;
    if ((flags & RENAME_EXCHANGE) && !S_ISDIR(nv->mode) && np->last.trailing_slash)
        return -ENOTDIR;
    if (!S_ISDIR(ov->mode) && (op->last.trailing_slash ||
                               (!(flags & RENAME_EXCHANGE) && np->last.trailing_slash)))
        return -ENOTDIR;
    if (dentry_is_ancestor(od, np->dir.dentry))
        return -EINVAL; /* into itself */
    if (nd && dentry_is_ancestor(nd, op->dir.dentry))
        return flags & RENAME_EXCHANGE ? -EINVAL : -ENOTEMPTY;
    if (nd && !(flags & RENAME_EXCHANGE)) {
        if (S_ISDIR(ov->mode) && !S_ISDIR(nv->mode))
            return -ENOTDIR;
        if (!S_ISDIR(ov->mode) && S_ISDIR(nv->mode))
            return -EISDIR;
    }
    if (READ_ONCE(od->mounted) || (nd && READ_ONCE(nd->mounted)))
        return -EBUSY;
    return mnt_readonly(op->dir.mnt) ? -EROFS : 0;
}

static void rename_update_cache(struct dentry *od, struct dentry *nd, struct parent *np, unsigned flags)
{
    if (flags & RENAME_EXCHANGE) {
        dentry_exchange(od, nd);
        return;
    }
    if (nd)
        dentry_unhash(nd);
    if (dentry_move(od, np->dir.dentry, np->last.name, np->last.len) != 0)
        dentry_unhash(od); /* out of memory: forget the name, the file system knows it */
}

/* With both directories locked: find the names, check, rename. */
static int rename_locked(struct parent *op, struct parent *np, unsigned flags)
{
    struct vnode *odv = path_vnode(&op->dir), *ndv = path_vnode(&np->dir);
    struct dentry *od, *nd = NULL;
    int err = lookup_locked(op->dir.dentry, op->last.name, op->last.len, &od);
    if (err)
        return err;
    err = lookup_locked(np->dir.dentry, np->last.name, np->last.len, &nd);
    if (err == -ENOENT) {
        nd = NULL;
        err = np->dir.dentry->flags & DENTRY_DEAD ? -ENOENT : 0;
    }
    if (!err && nd && (flags & RENAME_NOREPLACE)) {
        err = -EEXIST;
    } else if (!err && nd && nd->vnode == od->vnode) {
        err = 0; /* the same file (or two links to it): nothing to do */
    } else if (!err) {
        err = rename_check(op, np, od, nd, flags);
        if (!err && (!odv->ops || !odv->ops->rename))
            err = -EPERM;
        if (!err) {
            struct vnode *nv = nd ? nd->vnode : NULL;
            lock_two_victims(od->vnode, nv);
            err = odv->ops->rename(odv, op->last.name, op->last.len, ndv, np->last.name,
                                   np->last.len, nv, flags);
            if (!err)
                rename_update_cache(od, nd, np, flags);
            unlock_two(od->vnode, nv);
        }
    }
    dentry_put(nd);
    dentry_put(od);
    return err;
}

int vfs_renameat(struct fs_context *fs, const struct path *ostart, const char *oname,
                 const struct path *nstart, const char *nname, unsigned flags)
{
    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_WHITEOUT) || ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)))
        return -EINVAL;
    struct parent *op, *np;
    int err = parent_get(fs, ostart, oname, &op);
    if (err)
        return err;
    err = parent_get(fs, nstart, nname, &np);
    if (err) {
        parent_put(op);
        return err;
    }
    if (op->last.type != LAST_NORM || np->last.type != LAST_NORM)
        err = (flags & RENAME_NOREPLACE) && np->last.type != LAST_NORM ? -EEXIST : -EBUSY;
    else if (op->dir.mnt != np->dir.mnt)
        err = -EXDEV;
    if (!err) {
        mutex_lock(&rename_mutex); /* the tree's shape holds still for the checks */
        lock_two_dirs(op->dir.dentry, np->dir.dentry);
        err = rename_locked(op, np, flags);
        unlock_two(path_vnode(&op->dir), path_vnode(&np->dir));
        mutex_unlock(&rename_mutex);
    }
    parent_put(np);
    parent_put(op);
    return err;
}
