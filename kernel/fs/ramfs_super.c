/* ramfs/tmpfs instances: creation with options (size=, nr_inodes=, mode=,
 * uid=, gid=), nodes and inode numbers, page accounting, statfs, eviction of
 * unlinked nodes and tearing a whole instance down. */
#include "fs/ramfs.h"
#include "lib/errno.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"

#define BOGO_DIRENT_SIZE 20 /* what tmpfs reports per directory entry */

struct ramfs_node *ramfs_node_alloc(struct vfs_sb *sb, uint32_t mode)
{
    struct ramfs_sb *rs = RAMFS_SB(sb);
    irqflags_t f = spin_lock(&rs->lock);
    bool full = rs->max_inodes && rs->inodes >= rs->max_inodes;
    uint64_t ino = 0;
    if (!full) {
        rs->inodes++;
        ino = rs->next_ino++;
    }
    spin_unlock(&rs->lock, f);
    if (full)
        return NULL;
    struct ramfs_node *n = kzalloc(sizeof(*n));
    if (!n) {
        f = spin_lock(&rs->lock);
        rs->inodes--;
        spin_unlock(&rs->lock, f);
        return NULL;
    }
    const struct vnode_ops *ops = S_ISDIR(mode) ? &ramfs_dir_ops : S_ISLNK(mode) ? &ramfs_link_ops
                                : S_ISREG(mode) ? &ramfs_file_ops : &ramfs_node_ops;
    vnode_init(&n->v, sb, mode, ops, S_ISREG(mode) ? &ramfs_file_fops : NULL);
    n->v.ino = ino;
    list_init(&n->kill_link);
    if (S_ISDIR(mode)) {
        n->dir.next_cookie = 2; /* 0 and 1 are "." and ".." */
        n->v.nlink = 2;
        n->v.size = 2 * BOGO_DIRENT_SIZE;
    } else if (S_ISREG(mode)) {
        ramfs_file_init(n);
    }
    return n;
}

int ramfs_charge_page(struct vfs_sb *sb)
{
    struct ramfs_sb *rs = RAMFS_SB(sb);
    irqflags_t f = spin_lock(&rs->lock);
    bool ok = !rs->max_pages || rs->pages < rs->max_pages;
    if (ok)
        rs->pages++;
    spin_unlock(&rs->lock, f);
    return ok ? 0 : -ENOSPC;
}

void ramfs_uncharge_pages(struct vfs_sb *sb, uint64_t n)
{
    struct ramfs_sb *rs = RAMFS_SB(sb);
    irqflags_t f = spin_lock(&rs->lock);
    rs->pages -= n;
    spin_unlock(&rs->lock, f);
}

/* The last reference is gone: only unlinked nodes (or a dying instance's) get here. */
static void ramfs_evict(struct vnode *v)
{
    struct ramfs_node *n = RAMFS_NODE(v);
    struct ramfs_sb *rs = RAMFS_SB(v->sb);
    if (S_ISREG(v->mode))
        ramfs_file_free_pages(n);
    else if (S_ISLNK(v->mode))
        kfree(n->link.target);
    irqflags_t f = spin_lock(&rs->lock);
    rs->inodes--;
    spin_unlock(&rs->lock, f);
    kfree(n);
}

static void queue_child(struct ramfs_node *child, void *arg)
{
    if (S_ISDIR(child->v.mode))
        list_add_tail((struct list_node *)arg, &child->kill_link); /* keeps the entry's reference */
    else
        vnode_put(&child->v);
}

void ramfs_destroy(struct vfs_sb *sb)
{
    /* Empty directories breadth-first without recursion (trees may be deep). */
    struct list_node work = LIST_INIT(work);
    list_add_tail(&work, &RAMFS_NODE(sb->root)->kill_link);
    while (!list_empty(&work)) {
        struct ramfs_node *d = list_entry(list_pop_head(&work), struct ramfs_node, kill_link);
        ramfs_dir_drain(d, queue_child, &work);
        vnode_put(&d->v); /* the root's reference is the superblock's */
    }
    kfree(RAMFS_SB(sb));
}

static int ramfs_statfs(struct vfs_sb *sb, struct statfs *st)
{
    struct ramfs_sb *rs = RAMFS_SB(sb);
    irqflags_t f = spin_lock(&rs->lock);
    st->f_bsize = 4096;
    if (rs->max_pages) { /* ramfs proper reports zeros, as Linux's does */
        st->f_blocks = rs->max_pages;
        st->f_bfree = st->f_bavail = rs->max_pages - rs->pages;
    }
    if (rs->max_inodes) {
        st->f_files = rs->max_inodes;
        st->f_ffree = rs->max_inodes - rs->inodes;
    }
    spin_unlock(&rs->lock, f);
    st->f_namelen = NAME_MAX;
    return 0;
}

static void ramfs_show_options(struct vfs_sb *sb, char *buf, size_t size)
{
    struct ramfs_sb *rs = RAMFS_SB(sb);
    uint32_t mode = sb->root->mode & S_IALLUGO;
    if (rs->max_pages)
        snprintf(buf, size, "size=%luk,nr_inodes=%lu,mode=%o", rs->max_pages * 4, rs->max_inodes, mode);
    else
        snprintf(buf, size, "mode=%o", mode);
}

static const struct vfs_sb_ops ramfs_sb_ops = {
    .statfs = ramfs_statfs,
    .evict = ramfs_evict,
    .destroy = ramfs_destroy,
    .show_options = ramfs_show_options,
};

int ramfs_create_sb(const struct vfs_fstype *type, uint64_t magic, uint64_t max_bytes,
                    uint32_t root_mode, struct ramfs_sb **out)
{
    struct ramfs_sb *rs = kzalloc(sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    vfs_sb_init(&rs->sb, type, &ramfs_sb_ops, magic);
    spin_init(&rs->lock);
    rs->max_pages = DIV_ROUND_UP(max_bytes, 4096);
    rs->next_ino = 1;
    struct ramfs_node *root = ramfs_node_alloc(&rs->sb, S_IFDIR | (root_mode & S_IALLUGO));
    if (!root) {
        kfree(rs);
        return -ENOMEM;
    }
    root->dir.parent = root;
    rs->sb.root = &root->v;
    *out = rs;
    return 0;
}

struct ramfs_opts {
    uint64_t size, nr_inodes;
    uint32_t mode, uid, gid;
    bool has_uid, has_gid;
};

static int parse_one_option(char *opt, struct ramfs_opts *o)
{
    char *eq = strchr(opt, '=');
    if (!eq)
        return 0; /* flags like "rw" or "noatime" reach here from mount data */
    *eq = '\0';
    const char *val = eq + 1;
    uint64_t v;
    size_t vlen = strlen(val);
    if (strcmp(opt, "size") == 0 && vlen && val[vlen - 1] == '%') {
        char num[24];
        if (vlen >= sizeof(num))
            return -EINVAL;
        memcpy(num, val, vlen - 1);
        num[vlen - 1] = '\0';
        if (parse_u64(num, &v) || v > 100)
            return -EINVAL;
        o->size = mm_total_ram() / 100 * v;
        return 0;
    }
    if (strcmp(opt, "mode") == 0) {
        uint32_t m = 0;
        for (const char *p = val; *p; p++) {
            if (*p < '0' || *p > '7' || m > 07777)
                return -EINVAL;
            m = m * 8 + (uint32_t)(*p - '0');
        }
        o->mode = m & S_IALLUGO;
        return 0;
    }
    int err = strcmp(opt, "size") == 0 || strcmp(opt, "nr_inodes") == 0 ? parse_size(val, &v)
                                                                         : parse_u64(val, &v);
    if (err)
        return -EINVAL;
    if (strcmp(opt, "size") == 0)
        o->size = v;
    else if (strcmp(opt, "nr_inodes") == 0)
        o->nr_inodes = v;
    else if (strcmp(opt, "uid") == 0)
        o->uid = (uint32_t)v, o->has_uid = true;
    else if (strcmp(opt, "gid") == 0)
        o->gid = (uint32_t)v, o->has_gid = true;
    return 0; /* unknown options are ignored, as tmpfs ignores them with "mount -o" extras */
}

static int parse_options(const char *data, struct ramfs_opts *o)
{
    if (!data)
        return 0;
    char buf[256];
    if (strlcpy(buf, data, sizeof(buf)) >= sizeof(buf))
        return -EINVAL;
    for (char *p = buf; *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        int err = parse_one_option(p, o);
        if (err)
            return err;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static int ramfs_mount(const struct vfs_fstype *type, const char *source, unsigned long flags,
                       const char *data, struct vfs_sb **out)
{
    (void)source;
    (void)flags;
    bool tmpfs = type == &tmpfs_fstype;
    struct ramfs_opts o = { .mode = tmpfs ? 01777 : 0755 };
    if (tmpfs)
        o.size = mm_total_ram() / 2; /* tmpfs's default: half of RAM */
    int err = parse_options(data, &o);
    if (err)
        return err;
    struct ramfs_sb *rs;
    err = ramfs_create_sb(type, tmpfs ? TMPFS_MAGIC : RAMFS_MAGIC, tmpfs ? o.size : 0, o.mode, &rs);
    if (err)
        return err;
    if (tmpfs)
        rs->max_inodes = o.nr_inodes ? o.nr_inodes : mm_total_ram() / 4096 / 2;
    rs->sb.root->uid = o.uid;
    rs->sb.root->gid = o.gid;
    *out = &rs->sb;
    return 0;
}

struct vfs_fstype ramfs_fstype = { .name = "ramfs", .mount = ramfs_mount, .nodev = true };
struct vfs_fstype tmpfs_fstype = { .name = "tmpfs", .mount = ramfs_mount, .nodev = true };
