/* Path resolution: components one at a time from a root and a working
 * directory, "." and "..", mount crossing both ways, symlinks through a stack
 * of pending name buffers (no recursion, at most MAXSYMLINKS links), and the
 * trailing-slash rules. */
#include "fs/fs_context.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vfs_internal.h"

static int lookup_in_fs(struct dentry *dir, const char *name, size_t len, struct dentry **out)
{
    struct vnode *dv = dir->vnode;
    if (dir->flags & DENTRY_DEAD)
        return -ENOENT; /* a removed directory has no entries */
    if (!dv->ops || !dv->ops->lookup)
        return -ENOENT;
    struct vnode *v;
    int err = dv->ops->lookup(dv, name, len, &v);
    if (err)
        return err;
    *out = dentry_add(dir, name, len, v);
    vnode_put(v);
    return *out ? 0 : -ENOMEM;
}

int lookup_locked(struct dentry *dir, const char *name, size_t len, struct dentry **out)
{
    struct dentry *d = dcache_lookup(dir, name, len);
    if (d) {
        *out = d;
        return 0;
    }
    return lookup_in_fs(dir, name, len, out);
}

int lookup_unlocked(struct dentry *dir, const char *name, size_t len, struct dentry **out)
{
    struct dentry *d = dcache_lookup(dir, name, len);
    if (d) {
        *out = d;
        return 0;
    }
    mutex_lock(&dir->vnode->lock);
    int err = lookup_locked(dir, name, len, out);
    mutex_unlock(&dir->vnode->lock);
    return err;
}

void path_cross_mounts(struct path *p)
{
    struct mount *m;
    while ((m = mount_lookup(p->mnt, p->dentry)) != NULL) {
        struct path next = { m, dentry_get(m->root) };
        path_put(p);
        *p = next;
    }
}

void walk_start(struct fs_context *fs, const struct path *start, struct path *root, struct path *cur)
{
    if (!fs)
        fs = fs_context_kernel();
    fs_context_root(fs, root);
    if (start) {
        *cur = *start;
        path_get(cur);
    } else {
        fs_context_cwd(fs, cur);
    }
}

struct walk_frame {
    char *buf;          /* a link target (kmalloc'd), or NULL for the caller's name */
    const char *p;      /* what is left to walk */
};

struct nd {
    struct path root, cur;
    struct walk_frame frames[MAXSYMLINKS + 1];
    int depth;
    int links;
};

static bool only_slashes(const char *p)
{
    while (*p == '/')
        p++;
    return *p == '\0';
}

static void nd_set(struct path *dst, struct path *src)
{
    path_put(dst);
    *dst = *src;
}

/* "..": never above the root; from a mount's root to its mount point first. */
static void nd_up(struct nd *nd)
{
    for (;;) {
        if (path_equal(&nd->cur, &nd->root))
            return;
        struct mount *m = nd->cur.mnt;
        if (nd->cur.dentry != m->root) {
            struct dentry *parent = dentry_get_parent(nd->cur.dentry);
            if (!parent)
                return;
            dentry_put(nd->cur.dentry);
            nd->cur.dentry = parent;
            return;
        }
        if (!m->parent)
            return;
        struct path up = { mount_get(m->parent), dentry_get(m->mountpoint) };
        nd_set(&nd->cur, &up);
    }
}

/* Read the link at p into a new frame; the walk continues inside it. */
static int nd_push_link(struct nd *nd, const struct path *p)
{
    if (++nd->links > MAXSYMLINKS || nd->depth == MAXSYMLINKS)
        return -ELOOP;
    char *buf = kmalloc(PATH_MAX);
    if (!buf)
        return -ENOMEM;
    ssize_t n = vfs_readlink_path(p, buf, PATH_MAX);
    if (n < 0 || n == 0 || n >= PATH_MAX) {
        kfree(buf);
        return n < 0 ? (int)n : n == 0 ? -ENOENT : -ENAMETOOLONG;
    }
    buf[n] = '\0';
    nd->frames[++nd->depth] = (struct walk_frame){ buf, buf };
    if (buf[0] == '/') {
        struct path root = nd->root;
        path_get(&root);
        nd_set(&nd->cur, &root);
    }
    return 0;
}

static void nd_free(struct nd *nd)
{
    for (; nd->depth > 0; nd->depth--)
        kfree(nd->frames[nd->depth].buf);
}

/* Is the component just taken the last of the whole walk? */
static bool nd_at_end(struct nd *nd)
{
    for (int i = nd->depth; i >= 0; i--)
        if (!only_slashes(nd->frames[i].p))
            return false;
    return true;
}

static void fill_last(struct last_name *last, const char *c, size_t len, bool trailing)
{
    memcpy(last->name, c, len);
    last->name[len] = '\0';
    last->len = len;
    last->trailing_slash = trailing;
    last->type = len == 1 && c[0] == '.' ? LAST_DOT
               : len == 2 && c[0] == '.' && c[1] == '.' ? LAST_DOTDOT : LAST_NORM;
}

/* Take the next component: 1 with (c, len), 0 at the end, or -errno. */
static int nd_next(struct nd *nd, const char **c, size_t *len)
{
    for (;;) {
        struct walk_frame *f = &nd->frames[nd->depth];
        while (*f->p == '/')
            f->p++;
        if (*f->p)
            break;
        if (nd->depth == 0)
            return 0;
        kfree(f->buf);
        nd->depth--;
    }
    struct walk_frame *f = &nd->frames[nd->depth];
    *c = f->p;
    while (*f->p && *f->p != '/')
        f->p++;
    *len = (size_t)(f->p - *c);
    return *len > NAME_MAX ? -ENAMETOOLONG : 1;
}

static int nd_step(struct nd *nd, const char *c, size_t len, bool follow)
{
    if (!S_ISDIR(path_vnode(&nd->cur)->mode))
        return -ENOTDIR;
    if (len == 1 && c[0] == '.')
        return 0;
    if (len == 2 && c[0] == '.' && c[1] == '.') {
        nd_up(nd);
        return 0;
    }
    struct dentry *d;
    int err = lookup_unlocked(nd->cur.dentry, c, len, &d);
    if (err)
        return err;
    struct path child = { mount_get(nd->cur.mnt), d };
    path_cross_mounts(&child);
    if (follow && S_ISLNK(child.dentry->vnode->mode)) {
        err = nd_push_link(nd, &child); /* resolved relative to nd->cur */
        path_put(&child);
        return err;
    }
    nd_set(&nd->cur, &child);
    return 0;
}

/* Walk name; with last set, stop before the final component and describe it. */
static int nd_walk(struct nd *nd, const char *name, unsigned flags, struct last_name *last)
{
    size_t n = strlen(name);
    bool trailing = n > 0 && name[n - 1] == '/';
    nd->frames[0] = (struct walk_frame){ NULL, name };
    nd->depth = 0;
    if (name[0] == '/') {
        struct path root = nd->root;
        path_get(&root);
        nd_set(&nd->cur, &root);
    }
    for (;;) {
        const char *c;
        size_t len;
        int r = nd_next(nd, &c, &len);
        if (r < 0)
            return r;
        if (r == 0) { /* the name was all slashes: "/" */
            if (last) {
                last->len = 0;
                last->name[0] = '\0';
                last->type = LAST_ROOT;
                last->trailing_slash = true;
            }
            break;
        }
        bool at_end = nd_at_end(nd);
        if (at_end && last) {
            fill_last(last, c, len, trailing);
            return 0;
        }
        bool follow = !at_end || trailing || (flags & LOOKUP_FOLLOW);
        int err = nd_step(nd, c, len, follow);
        if (err)
            return err;
        if (at_end && nd->depth == 0)
            break;
    }
    if ((trailing || (flags & LOOKUP_DIRECTORY)) && !S_ISDIR(path_vnode(&nd->cur)->mode))
        return -ENOTDIR;
    return 0;
}

static int nd_begin(struct nd *nd, struct fs_context *fs, const struct path *start)
{
    nd->links = 0;
    nd->depth = 0;
    walk_start(fs, start, &nd->root, &nd->cur);
    return nd->root.dentry && nd->cur.dentry ? 0 : -ENOENT;
}

static void nd_end(struct nd *nd)
{
    nd_free(nd);
    path_put(&nd->root);
    path_put(&nd->cur);
}

int vfs_lookup(struct fs_context *fs, const struct path *start, const char *name, unsigned flags,
               struct path *out)
{
    struct nd nd;
    if (!name[0] && !(flags & LOOKUP_EMPTY))
        return -ENOENT;
    if (strnlen(name, PATH_MAX) >= PATH_MAX)
        return -ENAMETOOLONG;
    int err = nd_begin(&nd, fs, start);
    if (!err)
        err = name[0] ? nd_walk(&nd, name, flags, NULL) : 0;
    if (!err && (flags & LOOKUP_DIRECTORY) && !S_ISDIR(path_vnode(&nd.cur)->mode))
        err = -ENOTDIR;
    if (!err) {
        *out = nd.cur;
        nd.cur = (struct path){ NULL, NULL };
    }
    nd_end(&nd);
    return err;
}

int vfs_lookup_parent(struct fs_context *fs, const struct path *start, const char *name,
                      struct path *parent, struct last_name *last)
{
    struct nd nd;
    if (!name[0])
        return -ENOENT;
    if (strnlen(name, PATH_MAX) >= PATH_MAX)
        return -ENAMETOOLONG;
    int err = nd_begin(&nd, fs, start);
    if (!err)
        err = nd_walk(&nd, name, 0, last);
    if (!err && !S_ISDIR(path_vnode(&nd.cur)->mode))
        err = -ENOTDIR;
    if (!err) {
        *parent = nd.cur;
        nd.cur = (struct path){ NULL, NULL };
    }
    nd_end(&nd);
    return err;
}

int vfs_lookup_child(const struct path *dir, const char *name, size_t len, struct path *out)
{
    if (!S_ISDIR(path_vnode(dir)->mode))
        return -ENOTDIR;
    if (len > NAME_MAX)
        return -ENAMETOOLONG;
    struct dentry *d;
    int err = lookup_unlocked(dir->dentry, name, len, &d);
    if (err)
        return err;
    *out = (struct path){ mount_get(dir->mnt), d };
    path_cross_mounts(out);
    return 0;
}

ssize_t vfs_readlink_path(const struct path *p, char *buf, size_t size)
{
    struct vnode *v = path_vnode(p);
    if (!S_ISLNK(v->mode))
        return -EINVAL;
    if (!v->ops || !v->ops->readlink)
        return -EINVAL;
    return v->ops->readlink(v, buf, size);
}
