/* The table-driven pseudo file system behind /proc and /sys: vnodes made
 * from entry tables at lookup, directory listing, links, attributes and
 * mounting. The contents of files are procfs_file.c's. */
#include "fs/procfs.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

static const struct vnode_ops procfs_dir_ops, procfs_link_ops, procfs_reg_ops;

/* Inode numbers are a function of what the node names, so that every lookup
 * of the same name gives the same st_ino (find, du and ls -i compare them). */
static uint64_t procfs_ino(const struct procfs_node *n)
{
    uint64_t h = (uint64_t)(uintptr_t)n->ent;
    uint64_t parts[] = { (uint64_t)(uint32_t)n->pid, (uint64_t)(uint32_t)n->tid,
                         (uint64_t)(uint32_t)n->fd, (uint64_t)(uint32_t)n->index, n->whole };
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        h ^= parts[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull;
    }
    return ((h ^ (h >> 29)) & 0xffffffffffffull) | 0x1000; /* never 1, the root's */
}

static uint32_t procfs_type_bits(uint8_t type)
{
    return type == PROCFS_DIR ? S_IFDIR : type == PROCFS_LINK ? S_IFLNK : S_IFREG;
}

static unsigned procfs_subdirs(const struct procfs_entry *e)
{
    unsigned n = 0;
    for (size_t i = 0; e->dir && i < e->dir->count; i++)
        n += e->dir->entries[i].type == PROCFS_DIR;
    return n;
}

/* The mode of an fd/N link: r, w or both as the file was opened, plus x. */
static uint32_t procfs_fd_link_mode(const struct procfs_node *n)
{
    unsigned fmode = procfs_fd_fmode(n);
    return 0100 | (fmode & FMODE_READ ? 0400 : 0) | (fmode & FMODE_WRITE ? 0200 : 0);
}

static void procfs_node_setup(struct procfs_node *n, struct vfs_sb *sb, const struct procfs_entry *e)
{
    uint32_t mode = procfs_type_bits(e->type) | e->mode;
    const struct vnode_ops *ops = e->type == PROCFS_DIR    ? &procfs_dir_ops
                                  : e->type == PROCFS_LINK ? &procfs_link_ops
                                                           : &procfs_reg_ops;
    vnode_init(&n->v, sb, mode, ops, e->type == PROCFS_FILE ? &procfs_file_ops : NULL);
    n->ent = e;
    if (e->type == PROCFS_DIR)
        n->v.nlink = 2 + procfs_subdirs(e);
    if (e->flags & PROCFS_FD_MODE)
        n->v.mode = S_IFLNK | procfs_fd_link_mode(n);
    n->v.ino = procfs_ino(n);
}

/* A child of dir (which may be NULL for a root) named by entry e. */
static struct procfs_node *procfs_node_new(struct vfs_sb *sb, const struct procfs_entry *e,
                                           const struct procfs_node *dir, int id,
                                           void (*enter_id)(struct procfs_node *, int))
{
    struct procfs_node *n = kmalloc(sizeof(*n));
    if (!n)
        return NULL;
    n->pid = dir ? dir->pid : 0;
    n->tid = dir ? dir->tid : 0;
    n->fd = dir ? dir->fd : -1;
    n->index = dir ? dir->index : -1;
    n->whole = dir ? dir->whole : false;
    n->parent_ino = dir ? dir->v.ino : 1;
    n->ent = e;
    if (enter_id)
        enter_id(n, id);
    procfs_node_setup(n, sb, e);
    return n;
}

static bool procfs_entry_hidden(const struct procfs_entry *e, const struct procfs_node *dir)
{
    return (e->flags & PROCFS_TGID_ONLY) && !dir->whole;
}

/* A decimal number as /proc names use it: no sign, no leading zero. */
static int procfs_name_id(const char *name, size_t len)
{
    if (len == 0 || len > 9 || (name[0] == '0' && len > 1))
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int procfs_lookup(struct vnode *dv, const char *name, size_t len, struct vnode **out)
{
    struct procfs_node *dir = procfs_node_of(dv);
    const struct procfs_dir *d = dir->ent->dir;
    if (!d || !procfs_node_alive(dir))
        return -ENOENT;
    for (size_t i = 0; i < d->count; i++) {
        const struct procfs_entry *e = &d->entries[i];
        if (strlen(e->name) != len || memcmp(e->name, name, len) != 0 || procfs_entry_hidden(e, dir))
            continue;
        struct procfs_node *n = procfs_node_new(dv->sb, e, dir, 0, NULL);
        if (!n)
            return -ENOMEM;
        *out = &n->v;
        return 0;
    }
    size_t plen = d->prefix ? strlen(d->prefix) : 0;
    int id = -1;
    if (d->numbered && len > plen && (plen == 0 || memcmp(name, d->prefix, plen) == 0))
        id = procfs_name_id(name + plen, len - plen);
    if (id < 0 || !d->has_id(dir, id))
        return -ENOENT;
    struct procfs_node *n = procfs_node_new(dv->sb, d->numbered, dir, id, d->enter_id);
    if (!n)
        return -ENOMEM;
    *out = &n->v;
    return 0;
}

/* Listing positions: 0 ".", 1 "..", 2 + i the i-th fixed entry, and
 * 2 + count + id the numbered child id, so a position survives changes. */
static bool procfs_emit_numbered(struct procfs_node *dir, struct dir_ctx *ctx)
{
    const struct procfs_dir *d = dir->ent->dir;
    uint64_t base = 2 + d->count;
    int from = ctx->pos > base ? (int)MIN(ctx->pos - base, (uint64_t)INT32_MAX) : 0;
    for (int id = d->next_id(dir, from); id >= 0; id = d->next_id(dir, id + 1)) {
        struct procfs_node tmp = *dir;
        tmp.ent = d->numbered;
        d->enter_id(&tmp, id);
        char name[32];
        size_t len = (size_t)snprintf(name, sizeof(name), "%s%d", d->prefix ? d->prefix : "", id);
        uint64_t ino = procfs_ino(&tmp);
        if (!ctx->emit(ctx, name, len, ino, MODE_TO_DT(procfs_type_bits(d->numbered->type)),
                       base + (uint64_t)id + 1))
            return false;
        if (id == INT32_MAX)
            break;
    }
    return true;
}

static int procfs_readdir(struct vnode *dv, struct dir_ctx *ctx)
{
    struct procfs_node *dir = procfs_node_of(dv);
    const struct procfs_dir *d = dir->ent->dir;
    if (!procfs_node_alive(dir))
        return -ENOENT;
    if (ctx->pos == 0 && !ctx->emit(ctx, ".", 1, dv->ino, DT_DIR, 1))
        return 0;
    if (ctx->pos == 1 && !ctx->emit(ctx, "..", 2, dir->parent_ino, DT_DIR, 2))
        return 0;
    for (size_t i = ctx->pos - 2; ctx->pos >= 2 && i < d->count; i++) {
        const struct procfs_entry *e = &d->entries[i];
        if (procfs_entry_hidden(e, dir)) {
            ctx->pos = 2 + i + 1;
            continue;
        }
        struct procfs_node tmp = *dir;
        tmp.ent = e;
        if (!ctx->emit(ctx, e->name, strlen(e->name), procfs_ino(&tmp),
                       MODE_TO_DT(procfs_type_bits(e->type)), 2 + i + 1))
            return 0;
    }
    if (d->numbered)
        procfs_emit_numbered(dir, ctx);
    return 0;
}

static ssize_t procfs_readlink(struct vnode *v, char *buf, size_t size)
{
    struct procfs_node *n = procfs_node_of(v);
    if (n->ent->link)
        return procfs_node_alive(n) ? n->ent->link(n, buf, size) : -ENOENT;
    struct proc *p = procfs_proc_get(n->pid);
    ssize_t len = p && procfs_node_alive(n) ? n->ent->link_proc(n, p, buf, size) : -ENOENT;
    procfs_proc_put(p);
    return len;
}

/* A name looked up before its thread or descriptor went away is still in
 * use by someone (a cwd, an open file): stat then says it is gone. */
static int procfs_getattr(struct vnode *v)
{
    return procfs_node_alive(procfs_node_of(v)) ? 0 : -ENOENT;
}

/* chmod, chown and truncation (`echo x > file` opens with O_TRUNC) are
 * accepted and forgotten: the next lookup makes a fresh vnode anyway. */
static int procfs_setattr(struct vnode *v, const struct vattr *a)
{
    (void)v, (void)a;
    return 0;
}

static const struct vnode_ops procfs_dir_ops = {
    .lookup = procfs_lookup, .readdir = procfs_readdir, .getattr = procfs_getattr, .setattr = procfs_setattr,
};
static const struct vnode_ops procfs_link_ops = {
    .readlink = procfs_readlink, .getattr = procfs_getattr, .setattr = procfs_setattr,
};
static const struct vnode_ops procfs_reg_ops = { .getattr = procfs_getattr, .setattr = procfs_setattr };

/* ---- superblock ---- */

static void procfs_evict(struct vnode *v)
{
    kfree(procfs_node_of(v));
}

static int procfs_statfs(struct vfs_sb *sb, struct statfs *st)
{
    (void)sb;
    st->f_bsize = 4096;
    st->f_namelen = NAME_MAX;
    return 0;
}

static void procfs_destroy(struct vfs_sb *sb)
{
    vnode_put(sb->root);
    kfree(sb);
}

static const struct vfs_sb_ops procfs_sb_ops = {
    .statfs = procfs_statfs, .evict = procfs_evict, .destroy = procfs_destroy,
};

int procfs_mount_table(const struct vfs_fstype *type, uint64_t magic,
                       const struct procfs_entry *root, struct vfs_sb **out)
{
    struct vfs_sb *sb = kmalloc(sizeof(*sb));
    if (!sb)
        return -ENOMEM;
    vfs_sb_init(sb, type, &procfs_sb_ops, magic);
    /* Names here come and go with threads and descriptors, and the VFS has
     * no revalidation hook: a superblock marked dying keeps no unused names
     * in the cache, so every walk asks procfs_lookup again. */
    sb->dying = true;
    struct procfs_node *r = procfs_node_new(sb, root, NULL, 0, NULL);
    if (!r) {
        kfree(sb);
        return -ENOMEM;
    }
    r->v.ino = 1;
    r->parent_ino = 1;
    sb->root = &r->v;
    *out = sb;
    return 0;
}

ssize_t procfs_link_string(const char *target, char *buf, size_t size)
{
    size_t len = strlen(target);
    if (len > size)
        return -ENAMETOOLONG;
    memcpy(buf, target, len);
    return (ssize_t)len;
}
