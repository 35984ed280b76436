/* Mounts: the mount list, mount and umount, paths and their reference
 * counts, and turning a path back into a name (getcwd, /proc/self/fd). */
#include "arch/spinlock.h"
#include "core/log.h"
#include "vfs_internal.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

static struct list_node mount_list = LIST_INIT(mount_list); /* newest first */
static spinlock_t mount_lock = SPINLOCK_INIT;
static struct mutex namespace_mutex = MUTEX_INIT(namespace_mutex);
static struct mount *root_mount;
static int next_mount_id = 1;

struct mount *mount_get(struct mount *m)
{
    if (m)
        __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
    return m;
}

static void sb_release(struct vfs_sb *sb)
{
    dcache_prune_sb(sb);
    if (sb->ops && sb->ops->destroy)
        sb->ops->destroy(sb);
}

void mount_put(struct mount *m)
{
    if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    /* only a detached mount reaches zero: attachment holds a reference */
    struct vfs_sb *sb = m->sb;
    dentry_put(m->root);
    dentry_put(m->mountpoint);
    mount_put(m->parent);
    kfree(m->source);
    kfree(m);
    irqflags_t f = spin_lock(&mount_lock);
    bool last = --sb->mounts == 0;
    spin_unlock(&mount_lock, f);
    if (last)
        sb_release(sb);
}

void path_get(struct path *p)
{
    mount_get(p->mnt);
    dentry_get(p->dentry);
}

void path_put(struct path *p)
{
    dentry_put(p->dentry);
    mount_put(p->mnt);
    p->dentry = NULL;
    p->mnt = NULL;
}

bool path_equal(const struct path *a, const struct path *b)
{
    return a->mnt == b->mnt && a->dentry == b->dentry;
}

void vfs_root_path(struct path *out)
{
    irqflags_t f = spin_lock(&mount_lock);
    out->mnt = mount_get(root_mount);
    spin_unlock(&mount_lock, f);
    out->dentry = out->mnt ? dentry_get(out->mnt->root) : NULL;
}

/* The newest mount on (parent, d), with a reference, or NULL. */
struct mount *mount_lookup(struct mount *parent, struct dentry *d)
{
    struct mount *found = NULL;
    if (!READ_ONCE(d->mounted))
        return NULL;
    irqflags_t f = spin_lock(&mount_lock);
    list_for_each(n, &mount_list) {
        struct mount *m = list_entry(n, struct mount, link);
        if (m->parent == parent && m->mountpoint == d) {
            found = mount_get(m);
            break;
        }
    }
    spin_unlock(&mount_lock, f);
    return found;
}

/* Attach sb (showing `root`) at `where`, or as the root mount when where is NULL. */
static int mount_attach(struct vfs_sb *sb, struct dentry *root, const struct path *where,
                        unsigned long flags, const char *source, struct mount **out)
{
    struct mount *m = kzalloc(sizeof(*m));
    size_t slen = strlen(source ? source : "none");
    char *src = kmalloc(slen + 1);
    if (!m || !src) {
        kfree(m);
        kfree(src);
        return -ENOMEM;
    }
    memcpy(src, source ? source : "none", slen + 1);
    m->sb = sb;
    m->root = dentry_get(root);
    m->refs = 1;
    m->flags = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                        MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS);
    m->source = src;
    m->attached = true;
    if (where) {
        m->parent = mount_get(where->mnt);
        m->mountpoint = dentry_get(where->dentry);
    }
    irqflags_t f = spin_lock(&mount_lock);
    m->id = next_mount_id++;
    sb->mounts++;
    list_add_head(&mount_list, &m->link);
    if (where)
        where->dentry->mounted++;
    else
        root_mount = m;
    spin_unlock(&mount_lock, f);
    if (out)
        *out = m;
    return 0;
}

/* A freshly made superblock gets its root dentry and is attached. */
static int mount_new_sb(struct vfs_sb *sb, const struct path *where, unsigned long flags,
                        const char *source)
{
    struct dentry *root = dentry_add(NULL, "/", 1, sb->root);
    if (!root) {
        sb_release(sb);
        return -ENOMEM;
    }
    int err = mount_attach(sb, root, where, flags, source, NULL);
    dentry_put(root);
    if (err)
        sb_release(sb);
    return err;
}

int vfs_mount_root_sb(struct vfs_sb *sb, const char *source)
{
    mutex_lock(&namespace_mutex);
    int err = root_mount ? -EBUSY : mount_new_sb(sb, NULL, sb->flags, source);
    mutex_unlock(&namespace_mutex);
    return err;
}

int vfs_mount(const char *source, const struct path *where, const char *fstype,
              unsigned long flags, const char *data)
{
    const struct vfs_fstype *type = vfs_find_fstype(fstype);
    if (!type)
        return -ENODEV;
    if (!S_ISDIR(path_vnode(where)->mode))
        return -ENOTDIR;
    struct vfs_sb *sb;
    int err = type->mount(type, source, flags, data, &sb);
    if (err)
        return err;
    if (flags & MS_RDONLY)
        sb->flags |= MS_RDONLY;
    mutex_lock(&namespace_mutex);
    err = mount_new_sb(sb, where, flags, source ? source : type->name);
    mutex_unlock(&namespace_mutex);
    return err;
}

int vfs_bind_mount(const struct path *from, const struct path *where, unsigned long flags)
{
    if (S_ISDIR(path_vnode(from)->mode) != S_ISDIR(path_vnode(where)->mode))
        return S_ISDIR(path_vnode(where)->mode) ? -ENOTDIR : -EISDIR;
    mutex_lock(&namespace_mutex);
    int err = mount_attach(from->mnt->sb, from->dentry, where, flags, from->mnt->source, NULL);
    mutex_unlock(&namespace_mutex);
    return err;
}

int vfs_remount(const struct path *where, unsigned long flags)
{
    struct mount *m = where->mnt;
    if (where->dentry != m->root)
        return -EINVAL;
    mutex_lock(&namespace_mutex);
    m->flags = (m->flags & ~(unsigned long)(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME)) |
               (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME));
    if (!(flags & MS_BIND)) /* a plain remount changes the file system too */
        m->sb->flags = (m->sb->flags & ~(unsigned long)MS_RDONLY) | (flags & MS_RDONLY);
    mutex_unlock(&namespace_mutex);
    return 0;
}

static bool mount_has_children_locked(struct mount *m)
{
    list_for_each(n, &mount_list)
        if (list_entry(n, struct mount, link)->parent == m)
            return true;
    return false;
}

/* Detach m and (lazily) everything mounted below it; caller holds mount_lock. */
static void mount_detach_locked(struct mount *m, struct list_node *dropped)
{
    list_for_each_safe(n, &mount_list) {
        struct mount *c = list_entry(n, struct mount, link);
        if (c->parent == m && c->attached)
            mount_detach_locked(c, dropped);
    }
    list_remove(&m->link);
    m->attached = false;
    m->mountpoint->mounted--;
    list_add_tail(dropped, &m->link); /* reuse the link for the drop list */
}

int vfs_umount(const struct path *where, int flags)
{
    struct mount *m = where->mnt;
    if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
        return -EINVAL;
    if (where->dentry != m->root)
        return -EINVAL;
    if (!m->parent)
        return -EBUSY; /* the root stays */
    struct list_node dropped = LIST_INIT(dropped);
    mutex_lock(&namespace_mutex);
    irqflags_t f = spin_lock(&mount_lock);
    int err = 0;
    /* busy: anyone but the attachment and the caller's path */
    if (!(flags & MNT_DETACH) && (READ_ONCE(m->refs) > 2 || mount_has_children_locked(m)))
        err = -EBUSY;
    else if (!m->attached)
        err = -EINVAL;
    else
        mount_detach_locked(m, &dropped);
    spin_unlock(&mount_lock, f);
    mutex_unlock(&namespace_mutex);
    while (!list_empty(&dropped)) {
        struct mount *d = list_entry(list_pop_head(&dropped), struct mount, link);
        mount_put(d);
    }
    return err;
}

struct mount *vfs_next_mount(struct mount *prev)
{
    struct mount *next = NULL;
    irqflags_t f = spin_lock(&mount_lock);
    struct list_node *n = prev && prev->attached ? prev->link.prev : mount_list.prev;
    if (prev && !prev->attached)
        n = &mount_list; /* it went away: stop */
    if (n != &mount_list)
        next = mount_get(list_entry(n, struct mount, link));
    spin_unlock(&mount_lock, f);
    mount_put(prev);
    return next;
}

/* ---- names of paths ---- */

static bool prepend(char *buf, size_t *pos, const char *s, size_t len)
{
    if (*pos < len)
        return false;
    *pos -= len;
    memcpy(buf + *pos, s, len);
    return true;
}

/* Build the name right-aligned in buf; *start gets its first byte. */
static int path_build(const struct path *p, const struct path *root, char *buf, size_t size,
                      size_t *start, bool *unreachable)
{
    size_t pos = size;
    if (!prepend(buf, &pos, "", 1))
        return -ENAMETOOLONG;
    *unreachable = false;
    irqflags_t mf = spin_lock(&mount_lock);
    irqflags_t df = dcache_lock_tree();
    struct dentry *d = p->dentry;
    struct mount *m = p->mnt;
    int err = 0;
    for (;;) {
        if (root && d == root->dentry && m == root->mnt)
            break;
        if (d == m->root || !d->parent) {
            if (!m->parent)
                break;
            d = m->mountpoint;
            m = m->parent;
            continue;
        }
        if (d->flags & DENTRY_DEAD)
            *unreachable = true;
        if (!prepend(buf, &pos, d->name, d->len) || !prepend(buf, &pos, "/", 1)) {
            err = -ENAMETOOLONG;
            break;
        }
        d = d->parent;
    }
    dcache_unlock_tree(df);
    spin_unlock(&mount_lock, mf);
    if (!err && pos == size - 1 && !prepend(buf, &pos, "/", 1))
        err = -ENAMETOOLONG;
    *start = pos;
    return err;
}

int vfs_path_string(const struct path *p, const struct path *root, char *buf, size_t size)
{
    size_t start;
    bool unreachable;
    int err = path_build(p, root, buf, size, &start, &unreachable);
    if (err)
        return err;
    if (unreachable || (p->dentry->flags & DENTRY_DEAD))
        return -ENOENT;
    size_t len = size - start - 1;
    memmove(buf, buf + start, len + 1);
    return (int)len;
}

int vfs_file_path(struct file *f, char *buf, size_t size)
{
    if (!f->path.dentry) {
        struct vfs_sb *sb = f->vnode->sb;
        int n = snprintf(buf, size, "%s:[%lu]", sb && sb->anon_name ? sb->anon_name : "anon_inode",
                         f->vnode->ino);
        return n < (int)size ? n : -ENAMETOOLONG;
    }
    size_t start;
    bool unreachable;
    int err = path_build(&f->path, NULL, buf, size, &start, &unreachable);
    if (err)
        return err;
    size_t len = size - start - 1;
    memmove(buf, buf + start, len + 1);
    if (f->path.dentry->flags & DENTRY_DEAD) {
        if (len + 11 > size)
            return -ENAMETOOLONG;
        strlcat(buf, " (deleted)", size);
        len += 10;
    }
    return (int)len;
}

size_t vfs_mount_describe(struct mount *m, const struct path *root, char *buf, size_t size)
{
    char *where = kmalloc(PATH_MAX);
    if (!where)
        return 0;
    struct path p = { m, m->root };
    int n = vfs_path_string(&p, root, where, PATH_MAX);
    if (n < 0)
        strlcpy(where, "/", PATH_MAX);
    char opts[128] = "";
    if (m->sb->ops && m->sb->ops->show_options)
        m->sb->ops->show_options(m->sb, opts, sizeof(opts));
    bool ro = (m->flags & MS_RDONLY) || (m->sb->flags & MS_RDONLY);
    int len = snprintf(buf, size, "%s %s %s %s%s%s%s%s%s%s 0 0", m->source, where,
                       m->sb->type ? m->sb->type->name : "none", ro ? "ro" : "rw",
                       m->flags & MS_NOSUID ? ",nosuid" : "", m->flags & MS_NODEV ? ",nodev" : "",
                       m->flags & MS_NOEXEC ? ",noexec" : "",
                       m->flags & MS_NOATIME ? ",noatime" : ",relatime", opts[0] ? "," : "", opts);
    kfree(where);
    return len < 0 ? 0 : MIN((size_t)len, size ? size - 1 : 0);
}
