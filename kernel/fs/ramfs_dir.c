/* ramfs directories: entries in two red-black trees, by name (lookup) and by
 * a per-directory cookie that only grows (readdir positions that survive
 * concurrent changes); and the namespace operations on them. The VFS holds
 * the directory's lock around each operation. */
#include "fs/ramfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define BOGO_DIRENT_SIZE 20

static uint32_t ramfs_hash(const char *s, size_t len)
{
    uint32_t h = 5381;
    for (size_t i = 0; i < len; i++)
        h = h * 33 + (uint8_t)s[i];
    return h;
}

static int name_cmp(uint32_t hash, const char *name, size_t len, const struct ramfs_dirent *e)
{
    if (hash != e->hash)
        return hash < e->hash ? -1 : 1;
    if (len != e->len)
        return len < e->len ? -1 : 1;
    return memcmp(name, e->name, len);
}

struct ramfs_dirent *ramfs_dir_find(struct ramfs_node *dir, const char *name, size_t len)
{
    uint32_t hash = ramfs_hash(name, len);
    struct rb_node *n = dir->dir.by_name.node;
    while (n) {
        struct ramfs_dirent *e = rb_entry(n, struct ramfs_dirent, name_node);
        int c = name_cmp(hash, name, len, e);
        if (c == 0)
            return e;
        n = c < 0 ? n->left : n->right;
    }
    return NULL;
}

static void dirent_link(struct ramfs_node *dir, struct ramfs_dirent *e)
{
    struct rb_node **link = &dir->dir.by_name.node, *parent = NULL;
    while (*link) {
        parent = *link;
        int c = name_cmp(e->hash, e->name, e->len, rb_entry(parent, struct ramfs_dirent, name_node));
        link = c < 0 ? &parent->left : &parent->right;
    }
    rb_link(&e->name_node, parent, link);
    rb_insert_fixup(&dir->dir.by_name, &e->name_node);
    e->cookie = dir->dir.next_cookie++; /* the largest: always the rightmost */
    link = &dir->dir.by_cookie.node;
    parent = NULL;
    while (*link) {
        parent = *link;
        link = &parent->right;
    }
    rb_link(&e->cookie_node, parent, link);
    rb_insert_fixup(&dir->dir.by_cookie, &e->cookie_node);
    dir->dir.entries++;
    dir->v.size += BOGO_DIRENT_SIZE;
}

static void dirent_unlink(struct ramfs_node *dir, struct ramfs_dirent *e)
{
    rb_erase(&dir->dir.by_name, &e->name_node);
    rb_erase(&dir->dir.by_cookie, &e->cookie_node);
    dir->dir.entries--;
    dir->v.size -= BOGO_DIRENT_SIZE;
}

/* Add name -> child to dir; the entry takes a reference on child. */
static int dir_add(struct ramfs_node *dir, const char *name, size_t len, struct ramfs_node *child)
{
    struct ramfs_dirent *e = kmalloc(sizeof(*e) + len + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    e->len = (uint16_t)len;
    e->hash = ramfs_hash(name, len);
    e->node = RAMFS_NODE(vnode_get(&child->v));
    dirent_link(dir, e);
    return 0;
}

static void dir_changed(struct ramfs_node *dir)
{
    vnode_touch(&dir->v, VATTR_MTIME | VATTR_CTIME);
}

static int ramfs_lookup(struct vnode *dv, const char *name, size_t len, struct vnode **out)
{
    struct ramfs_dirent *e = ramfs_dir_find(RAMFS_NODE(dv), name, len);
    if (!e)
        return -ENOENT;
    *out = vnode_get(&e->node->v);
    return 0;
}

/* A new node named in dir; *out gets a reference besides the entry's. */
static int make_node(struct vnode *dv, const char *name, size_t len, uint32_t mode,
                     struct ramfs_node **out)
{
    struct ramfs_node *dir = RAMFS_NODE(dv);
    struct ramfs_node *n = ramfs_node_alloc(dv->sb, mode);
    if (!n)
        return -ENOSPC;
    n->v.uid = 0;
    n->v.gid = (dv->mode & S_ISGID) ? dv->gid : 0;
    if (S_ISDIR(mode) && (dv->mode & S_ISGID))
        n->v.mode |= S_ISGID;
    int err = dir_add(dir, name, len, n);
    if (err) {
        n->v.nlink = 0;
        vnode_put(&n->v);
        return err;
    }
    dir_changed(dir);
    *out = n; /* the allocation's reference goes to the caller */
    return 0;
}

static int ramfs_create(struct vnode *dv, const char *name, size_t len, uint32_t mode, dev_t rdev,
                        struct vnode **out)
{
    struct ramfs_node *n;
    int err = make_node(dv, name, len, mode, &n);
    if (err)
        return err;
    n->v.rdev = rdev;
    *out = &n->v;
    return 0;
}

static int ramfs_mkdir(struct vnode *dv, const char *name, size_t len, uint32_t mode, struct vnode **out)
{
    struct ramfs_node *n;
    int err = make_node(dv, name, len, S_IFDIR | (mode & S_IALLUGO), &n);
    if (err)
        return err;
    n->dir.parent = RAMFS_NODE(dv);
    dv->nlink++; /* the child's ".." */
    *out = &n->v;
    return 0;
}

static int ramfs_symlink(struct vnode *dv, const char *name, size_t len, const char *target,
                         struct vnode **out)
{
    size_t tlen = strlen(target);
    char *copy = kmalloc(tlen + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, target, tlen + 1);
    struct ramfs_node *n;
    int err = make_node(dv, name, len, S_IFLNK | 0777, &n);
    if (err) {
        kfree(copy);
        return err;
    }
    n->link.target = copy;
    n->v.size = tlen;
    *out = &n->v;
    return 0;
}

static int ramfs_link(struct vnode *dv, const char *name, size_t len, struct vnode *target)
{
    if (target->sb != dv->sb)
        return -EXDEV;
    int err = dir_add(RAMFS_NODE(dv), name, len, RAMFS_NODE(target));
    if (err)
        return err;
    target->nlink++;
    vnode_touch(target, VATTR_CTIME);
    dir_changed(RAMFS_NODE(dv));
    return 0;
}

/* Drop dir's entry `name` for victim (whose lock the VFS holds). */
static void remove_entry(struct ramfs_node *dir, struct ramfs_dirent *e)
{
    struct ramfs_node *victim = e->node;
    dirent_unlink(dir, e);
    kfree(e);
    vnode_touch(&victim->v, VATTR_CTIME);
    dir_changed(dir);
    vnode_put(&victim->v); /* the entry's reference */
}

static int ramfs_unlink(struct vnode *dv, const char *name, size_t len, struct vnode *victim)
{
    struct ramfs_dirent *e = ramfs_dir_find(RAMFS_NODE(dv), name, len);
    if (!e || &e->node->v != victim)
        return -ENOENT;
    victim->nlink--;
    remove_entry(RAMFS_NODE(dv), e);
    return 0;
}

static int ramfs_rmdir(struct vnode *dv, const char *name, size_t len, struct vnode *victim)
{
    struct ramfs_dirent *e = ramfs_dir_find(RAMFS_NODE(dv), name, len);
    if (!e || &e->node->v != victim)
        return -ENOENT;
    if (RAMFS_NODE(victim)->dir.entries)
        return -ENOTEMPTY;
    victim->nlink = 0;
    dv->nlink--;
    remove_entry(RAMFS_NODE(dv), e);
    return 0;
}

/* Point an entry at a different node (rename over a target). */
static void retarget(struct ramfs_dirent *e, struct ramfs_node *n)
{
    e->node = n;
}

static void moved_dir(struct ramfs_node *child, struct ramfs_node *from, struct ramfs_node *to)
{
    if (!S_ISDIR(child->v.mode) || from == to)
        return;
    child->dir.parent = to;
    from->v.nlink--;
    to->v.nlink++;
}

static int rename_exchange(struct ramfs_node *od, struct ramfs_dirent *oe, struct ramfs_node *nd,
                           struct ramfs_dirent *ne)
{
    struct ramfs_node *a = oe->node, *b = ne->node;
    retarget(oe, b);
    retarget(ne, a);
    moved_dir(a, od, nd);
    moved_dir(b, nd, od);
    vnode_touch(&a->v, VATTR_CTIME);
    vnode_touch(&b->v, VATTR_CTIME);
    dir_changed(od);
    dir_changed(nd);
    return 0;
}

static int ramfs_rename(struct vnode *odv, const char *oname, size_t olen, struct vnode *ndv,
                        const char *nname, size_t nlen, struct vnode *target, unsigned flags)
{
    struct ramfs_node *od = RAMFS_NODE(odv), *nd = RAMFS_NODE(ndv);
    struct ramfs_dirent *oe = ramfs_dir_find(od, oname, olen);
    struct ramfs_dirent *ne = ramfs_dir_find(nd, nname, nlen);
    if (!oe || (target && (!ne || &ne->node->v != target)))
        return -ENOENT;
    if (flags & RENAME_EXCHANGE)
        return rename_exchange(od, oe, nd, ne);
    struct ramfs_node *moving = oe->node;
    if (target && S_ISDIR(target->mode) && RAMFS_NODE(target)->dir.entries)
        return -ENOTEMPTY;
    if (!target) { /* a new entry first: the only step that can fail */
        int err = dir_add(nd, nname, nlen, moving);
        if (err)
            return err;
    } else {
        vnode_get(&moving->v);
        retarget(ne, moving);
        if (S_ISDIR(target->mode)) {
            target->nlink = 0;
            ndv->nlink--;
        } else {
            target->nlink--;
        }
        vnode_touch(target, VATTR_CTIME);
        vnode_put(target); /* the replaced entry's reference */
    }
    dirent_unlink(od, oe);
    kfree(oe);
    vnode_put(&moving->v); /* the old entry's reference; the new one holds it */
    moved_dir(moving, od, nd);
    vnode_touch(&moving->v, VATTR_CTIME);
    dir_changed(od);
    dir_changed(nd);
    return 0;
}

static struct ramfs_dirent *first_from(struct ramfs_node *dir, uint64_t cookie)
{
    struct rb_node *n = dir->dir.by_cookie.node;
    struct ramfs_dirent *best = NULL;
    while (n) {
        struct ramfs_dirent *e = rb_entry(n, struct ramfs_dirent, cookie_node);
        if (e->cookie >= cookie) {
            best = e;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

static int ramfs_readdir(struct vnode *dv, struct dir_ctx *ctx)
{
    struct ramfs_node *dir = RAMFS_NODE(dv);
    if (ctx->pos == 0 && !ctx->emit(ctx, ".", 1, dv->ino, DT_DIR, 1))
        return 0;
    if (ctx->pos == 1 && !ctx->emit(ctx, "..", 2, dir->dir.parent->v.ino, DT_DIR, 2))
        return 0;
    for (struct ramfs_dirent *e = first_from(dir, ctx->pos); e;) {
        if (!ctx->emit(ctx, e->name, e->len, e->node->v.ino, MODE_TO_DT(e->node->v.mode), e->cookie + 1))
            return 0;
        struct rb_node *next = rb_next(&e->cookie_node);
        e = next ? rb_entry(next, struct ramfs_dirent, cookie_node) : NULL;
    }
    return 0;
}

void ramfs_dir_drain(struct ramfs_node *dir, void (*fn)(struct ramfs_node *child, void *arg), void *arg)
{
    struct rb_node *n;
    while ((n = rb_first(&dir->dir.by_cookie)) != NULL) {
        struct ramfs_dirent *e = rb_entry(n, struct ramfs_dirent, cookie_node);
        struct ramfs_node *child = e->node;
        dirent_unlink(dir, e);
        kfree(e);
        fn(child, arg);
    }
}

static ssize_t ramfs_readlink(struct vnode *v, char *buf, size_t size)
{
    size_t len = MIN((size_t)v->size, size);
    memcpy(buf, RAMFS_NODE(v)->link.target, len);
    vnode_touch(v, VATTR_ATIME);
    return (ssize_t)len;
}

const struct vnode_ops ramfs_dir_ops = {
    .lookup = ramfs_lookup,
    .create = ramfs_create,
    .mkdir = ramfs_mkdir,
    .symlink = ramfs_symlink,
    .link = ramfs_link,
    .unlink = ramfs_unlink,
    .rmdir = ramfs_rmdir,
    .rename = ramfs_rename,
    .readdir = ramfs_readdir,
    .setattr = ramfs_setattr,
};

const struct vnode_ops ramfs_link_ops = { .readlink = ramfs_readlink, .setattr = ramfs_setattr };
const struct vnode_ops ramfs_node_ops = { .setattr = ramfs_setattr };
