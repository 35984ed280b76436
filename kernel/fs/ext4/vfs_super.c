/* ext4 under the VFS: the "ext4", "ext3" and "ext2" file system types, mount
 * options and sources (a block device, or an image file as with -o loop),
 * the inode cache that keeps one vnode per inode, eviction, sync, statfs. */
#include "core/log.h"
#include "core/system.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "vfs_glue.h"

static const struct vfs_sb_ops ext4_sb_ops;

/* Every ext4 instance, for sync(2) and the shutdown write-back. */
static struct list_node all_mounts = LIST_INIT(all_mounts);
static spinlock_t all_mounts_lock = SPINLOCK_INIT;

static struct ext4_time glue_now(void)
{
    struct timespec t = vfs_now();
    return (struct ext4_time){ t.tv_sec, (uint32_t)t.tv_nsec };
}

/* ---- sources ---- */

/* Block devices, once the block layer is there (blk_glue.c). */
extern int ext4_blk_open(const char *name, bool ro, struct ext4_source *src) __attribute__((weak));

static int file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct ext4_source *s = ctx;
    ssize_t n = vfs_pread_kernel(s->file, buf, len, off);
    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -EIO;
}

static int file_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct ext4_source *s = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = vfs_pwrite_kernel(s->file, (const char *)buf + done, len - done, off + done);
        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        done += (size_t)n;
    }
    return 0;
}

static int file_flush(void *ctx)
{
    struct ext4_source *s = ctx;
    return vfs_fsync(s->file, false);
}

static void file_close(struct ext4_source *s)
{
    vfs_file_put(s->file);
    s->file = NULL;
}

int ext4_source_open(const char *source, bool ro, struct ext4_source *src)
{
    memset(src, 0, sizeof(*src));
    if (!source || !source[0])
        return -ENOTBLK;
    const char *dev = str_starts_with(source, "/dev/") ? source + 5 : source;
    if (ext4_blk_open) {
        int err = ext4_blk_open(dev, ro, src);
        if (err != -ENODEV)
            return err;
    }
    struct file *f;
    int err = vfs_open_kernel(source, ro ? O_RDONLY : O_RDWR, &f);
    bool dev_ro = ro;
    if (!ro && (err == -EROFS || err == -EACCES)) {
        err = vfs_open_kernel(source, O_RDONLY, &f);
        dev_ro = true;
    }
    if (err)
        return err;
    if (!S_ISREG(f->vnode->mode)) {
        vfs_file_put(f);
        return -ENOTBLK;
    }
    src->file = f;
    src->close = file_close;
    src->io = (struct ext4_io){ file_read, file_write, file_flush, src, f->vnode->size, dev_ro };
    return 0;
}

/* ---- the inode cache ---- */

static struct list_node *ibucket(struct ext4_mount *m, uint32_t ino)
{
    return &m->ihash[ino % EXT4_ICACHE_BUCKETS];
}

void ext4_vfs_sync_attrs(struct ext4_vnode *ev)
{
    struct vnode *v = &ev->v;
    const struct ext4_inode *ei = &ev->ei;
    v->mode = ei->mode;
    v->nlink = ei->links;
    v->uid = ei->uid;
    v->gid = ei->gid;
    v->size = ei->size;
    v->blocks = ei->blocks;
    v->atime = (struct timespec){ ei->atime.sec, ei->atime.nsec };
    v->mtime = (struct timespec){ ei->mtime.sec, ei->mtime.nsec };
    v->ctime = (struct timespec){ ei->ctime.sec, ei->ctime.nsec };
    v->btime = (struct timespec){ ei->crtime.sec, ei->crtime.nsec };
    if (S_ISCHR(ei->mode) || S_ISBLK(ei->mode)) {
        uint64_t r = ext4_inode_rdev(ei);
        v->rdev = MKDEV(r >> 32, r & 0xffffffff);
    }
}

static struct ext4_vnode *vnode_make(struct ext4_mount *m, const struct ext4_inode *ei)
{
    struct ext4_vnode *ev = kzalloc(sizeof(*ev));
    if (!ev)
        return NULL;
    const struct vnode_ops *ops = S_ISDIR(ei->mode) ? &ext4_dir_vops : S_ISREG(ei->mode) ? &ext4_file_vops
                                : S_ISLNK(ei->mode) ? &ext4_link_vops : &ext4_node_vops;
    vnode_init(&ev->v, &m->sb, ei->mode, ops, S_ISREG(ei->mode) ? &ext4_file_fops : NULL);
    ev->ei = *ei;
    ev->v.ino = ei->ino;
    ev->v.blksize = m->fs->block_size;
    ev->pages = (struct radix)RADIX_INIT;
    list_init(&ev->hash_link);
    list_init(&ev->mapped_link);
    ext4_vfs_sync_attrs(ev);
    return ev;
}

/* A cached vnode for ino with a new reference, NULL if none. One being
 * evicted (no references left) is waited out: it leaves the cache first. */
static struct ext4_vnode *icache_find(struct ext4_mount *m, uint32_t ino)
{
    for (;;) {
        bool dying = false;
        struct ext4_vnode *found = NULL;
        irqflags_t f = spin_lock(&m->icache_lock);
        list_for_each(n, ibucket(m, ino)) {
            struct ext4_vnode *ev = list_entry(n, struct ext4_vnode, hash_link);
            if (ev->ei.ino != ino)
                continue;
            uint32_t refs = __atomic_load_n(&ev->v.refs, __ATOMIC_ACQUIRE);
            while (refs && !__atomic_compare_exchange_n(&ev->v.refs, &refs, refs + 1, false, __ATOMIC_ACQ_REL,
                                                        __ATOMIC_ACQUIRE))
                ;
            if (refs)
                found = ev;
            else
                dying = true;
            break;
        }
        spin_unlock(&m->icache_lock, f);
        if (!dying)
            return found;
        cpu_pause();
    }
}

static void icache_insert(struct ext4_mount *m, struct ext4_vnode *ev)
{
    irqflags_t f = spin_lock(&m->icache_lock);
    list_add_head(ibucket(m, ev->ei.ino), &ev->hash_link);
    spin_unlock(&m->icache_lock, f);
}

int ext4_vfs_iget(struct ext4_mount *m, uint32_t ino, struct vnode **out)
{
    struct ext4_vnode *ev = icache_find(m, ino);
    if (ev) {
        *out = &ev->v;
        return 0;
    }
    struct ext4_inode ei;
    int err = ext4_inode_read(m->fs, ino, &ei);
    if (err)
        return err;
    if (!(ev = vnode_make(m, &ei)))
        return -ENOMEM;
    icache_insert(m, ev);
    *out = &ev->v;
    return 0;
}

int ext4_vfs_inew(struct ext4_mount *m, const struct ext4_inode *ei, struct vnode **out)
{
    struct ext4_vnode *ev = vnode_make(m, ei);
    if (!ev)
        return -ENOMEM;
    icache_insert(m, ev);
    *out = &ev->v;
    return 0;
}

int ext4_vfs_commit(struct ext4_mount *m, int err)
{
    if (m->fs->read_only)
        return err;
    int e = ext4_fs_sync(m->fs, false);
    return err ? err : e;
}

static void ext4_evict(struct vnode *v)
{
    struct ext4_vnode *ev = EXT4_VN(v);
    struct ext4_mount *m = vn_mount(ev);
    irqflags_t f = spin_lock(&m->icache_lock);
    list_remove(&ev->hash_link);
    spin_unlock(&m->icache_lock, f);
    f = spin_lock(&m->pc_lock);
    list_remove(&ev->mapped_link);
    spin_unlock(&m->pc_lock, f);
    if (S_ISREG(ev->ei.mode) && !m->fs->read_only)
        ext4_pc_writeback(ev);
    bool taken = ext4_lock(m);
    if (ev->ei.links == 0 && !m->fs->read_only) {
        int err = ext4_vfs_commit(m, ext4_inode_release(m->fs, &ev->ei));
        if (err)
            pr_err("ext4: %s: cannot free inode %u: error %d\n", m->source, ev->ei.ino, err);
    }
    ext4_unlock(m, taken);
    ext4_pc_drop(ev, 0);
    radix_destroy(&ev->pages);
    kfree(ev);
}

/* ---- superblock operations ---- */

static int ext4_statfs(struct vfs_sb *sb, struct statfs *st)
{
    struct ext4_mount *m = EXT4_MNT(sb);
    struct ext4_statfs s;
    bool taken = ext4_lock(m);
    ext4_fs_statfs(m->fs, &s);
    ext4_unlock(m, taken);
    st->f_bsize = st->f_frsize = s.bsize;
    st->f_blocks = s.blocks;
    st->f_bfree = s.bfree;
    st->f_bavail = s.bavail;
    st->f_files = s.files;
    st->f_ffree = s.ffree;
    st->f_namelen = EXT4_NAME_LEN;
    uint32_t u[4];
    memcpy(u, m->fs->sb.uuid, sizeof(u));
    st->f_fsid[0] = (int32_t)(u[0] ^ u[2]);
    st->f_fsid[1] = (int32_t)(u[1] ^ u[3]);
    return 0;
}

/* Write back every file whose pages a mapping may have changed. */
static void writeback_mapped(struct ext4_mount *m)
{
    for (;;) {
        enum { BATCH = 32 };
        struct ext4_vnode *batch[BATCH];
        unsigned n = 0;
        irqflags_t f = spin_lock(&m->pc_lock);
        list_for_each(node, &m->mapped) {
            struct ext4_vnode *ev = list_entry(node, struct ext4_vnode, mapped_link);
            if (n == BATCH)
                break;
            if (ev->synced == m->sync_pass)
                continue;
            uint32_t refs = __atomic_load_n(&ev->v.refs, __ATOMIC_ACQUIRE);
            while (refs && !__atomic_compare_exchange_n(&ev->v.refs, &refs, refs + 1, false, __ATOMIC_ACQ_REL,
                                                        __ATOMIC_ACQUIRE))
                ;
            if (refs) {
                ev->synced = m->sync_pass;
                batch[n++] = ev;
            }
        }
        spin_unlock(&m->pc_lock, f);
        for (unsigned i = 0; i < n; i++) {
            ext4_pc_writeback(batch[i]);
            vnode_put(&batch[i]->v);
        }
        if (n < BATCH)
            return;
    }
}

static int ext4_sync(struct vfs_sb *sb)
{
    struct ext4_mount *m = EXT4_MNT(sb);
    if (m->fs->read_only)
        return 0;
    __atomic_add_fetch(&m->sync_pass, 1, __ATOMIC_RELAXED);
    writeback_mapped(m);
    bool taken = ext4_lock(m);
    int err = ext4_fs_sync(m->fs, true);
    ext4_unlock(m, taken);
    return err;
}

static void ext4_destroy(struct vfs_sb *sb)
{
    struct ext4_mount *m = EXT4_MNT(sb);
    irqflags_t f = spin_lock(&all_mounts_lock);
    list_remove(&m->all_link);
    spin_unlock(&all_mounts_lock, f);
    vnode_put(sb->root);
    for (unsigned b = 0; b < EXT4_ICACHE_BUCKETS; b++)
        if (!list_empty(&m->ihash[b]))
            pr_warn("ext4: %s: inodes still cached at unmount\n", m->source);
    mutex_lock(&m->lock);
    int err = ext4_fs_unmount(m->fs);
    mutex_unlock(&m->lock);
    if (err)
        pr_err("ext4: %s: unmount could not write everything back: error %d\n", m->source, err);
    if (m->src.close)
        m->src.close(&m->src);
    kfree(m);
}

static void ext4_show_options(struct vfs_sb *sb, char *buf, size_t size)
{
    struct ext4_mount *m = EXT4_MNT(sb);
    /* changes are written in place: a journal, if any, is not used */
    snprintf(buf, size, "%s", m->fs->journal.present && !m->fs->read_only ? "nojournal" : "");
}

static const struct vfs_sb_ops ext4_sb_ops = {
    .statfs = ext4_statfs,
    .evict = ext4_evict,
    .destroy = ext4_destroy,
    .sync = ext4_sync,
    .show_options = ext4_show_options,
};

/* ---- mounting ---- */

struct ext4_opts {
    bool ro, noatime;
};

static int parse_options(const char *data, struct ext4_opts *o)
{
    if (!data)
        return 0;
    char buf[256];
    if (strlcpy(buf, data, sizeof(buf)) >= sizeof(buf))
        return -EINVAL;
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma++ = '\0';
        if (!strcmp(p, "ro"))
            o->ro = true;
        else if (!strcmp(p, "rw"))
            o->ro = false;
        else if (!strcmp(p, "noatime"))
            o->noatime = true;
        /* everything else (errors=, data=, barrier, noload, loop, defaults...) changes nothing here */
        p = comma;
    }
    return 0;
}

static void mount_init(struct ext4_mount *m, const struct vfs_fstype *type, const char *source)
{
    vfs_sb_init(&m->sb, type, &ext4_sb_ops, EXT4_SUPER_MAGIC);
    mutex_init(&m->lock);
    spin_init(&m->icache_lock);
    spin_init(&m->pc_lock);
    for (unsigned i = 0; i < EXT4_ICACHE_BUCKETS; i++)
        list_init(&m->ihash[i]);
    list_init(&m->lru);
    list_init(&m->mapped);
    /* cached file pages: up to a quarter of memory, at least 1 MiB */
    m->max_cached = MAX(mm_total_ram() / 4 / EXT4_PAGE, 256u);
    strlcpy(m->source, source, sizeof(m->source));
}

static int ext4_vfs_mount(const struct vfs_fstype *type, const char *source, unsigned long flags,
                          const char *data, struct vfs_sb **out)
{
    struct ext4_opts o = { .ro = (flags & MS_RDONLY) != 0, .noatime = (flags & MS_NOATIME) != 0 };
    int err = parse_options(data, &o);
    if (err)
        return err;
    struct ext4_mount *m = kzalloc(sizeof(*m));
    if (!m)
        return -ENOMEM;
    mount_init(m, type, source ? source : "");
    if ((err = ext4_source_open(source, o.ro, &m->src)) != 0) {
        pr_err("ext4: cannot open %s: error %d\n", source ? source : "(none)", err);
        kfree(m);
        return err;
    }
    const char *name = strrchr(m->source, '/') ? strrchr(m->source, '/') + 1 : m->source;
    err = ext4_fs_mount(&m->src.io, name, o.ro ? EXT4_MOUNT_RDONLY : 0, glue_now, &m->fs);
    struct vnode *root = NULL;
    if (!err) {
        mutex_lock(&m->lock);
        err = ext4_vfs_iget(m, EXT4_ROOT_INO, &root);
        mutex_unlock(&m->lock);
        if (err)
            ext4_fs_unmount(m->fs);
    }
    if (err) {
        if (m->src.close)
            m->src.close(&m->src);
        kfree(m);
        return err;
    }
    m->sb.root = root;
    m->noatime = o.noatime;
    irqflags_t f = spin_lock(&all_mounts_lock);
    list_add_tail(&all_mounts, &m->all_link);
    spin_unlock(&all_mounts_lock, f);
    if (m->fs->read_only)
        m->sb.flags |= MS_RDONLY;
    pr_info("ext4: %s: mounted %s (%u-byte blocks, %lu blocks, %s%s)\n", m->source,
            m->fs->read_only ? "read-only" : "read-write", m->fs->block_size, (unsigned long)m->fs->blocks_count,
            m->fs->csum ? "metadata_csum, " : "", (m->fs->incompat & EXT4_INCOMPAT_EXTENTS) ? "extents" : "block maps");
    *out = &m->sb;
    return 0;
}

/* Visit every mount (one at a time, the list lock not held: fn sleeps). The
 * caller keeps mounts from going away (sync(2) and shutdown race no umount
 * that matters; a mount being destroyed has left the list first). */
static int for_each_mount(int (*fn)(struct ext4_mount *m))
{
    int first_err = 0;
    for (unsigned i = 0;; i++) {
        struct ext4_mount *pick = NULL;
        unsigned k = 0;
        irqflags_t f = spin_lock(&all_mounts_lock);
        list_for_each(n, &all_mounts)
            if (k++ == i) {
                pick = list_entry(n, struct ext4_mount, all_link);
                break;
            }
        spin_unlock(&all_mounts_lock, f);
        if (!pick)
            return first_err;
        int err = fn(pick);
        if (err && !first_err)
            first_err = err;
    }
}

static int sync_one(struct ext4_mount *m)
{
    return ext4_sync(&m->sb);
}

static int shutdown_one(struct ext4_mount *m)
{
    int err = ext4_sync(&m->sb);
    bool taken = ext4_lock(m);
    if (!err && !m->fs->read_only)
        err = ext4_fs_mark_clean(m->fs);
    ext4_unlock(m, taken);
    if (err)
        pr_err("ext4: %s: could not write everything back before stopping: error %d\n", m->source, err);
    return err;
}

int ext4_sync_all(void)
{
    return for_each_mount(sync_one);
}

void ext4_shutdown_all(void)
{
    for_each_mount(shutdown_one);
}

struct vfs_fstype ext4_fstype = { .name = "ext4", .mount = ext4_vfs_mount };
struct vfs_fstype ext3_fstype = { .name = "ext3", .mount = ext4_vfs_mount };
struct vfs_fstype ext2_fstype = { .name = "ext2", .mount = ext4_vfs_mount };

void ext4_register_fstypes(void)
{
    system_add_exit_hook(ext4_shutdown_all); /* nothing written may be lost when the program ends */
    vfs_register_fstype(&ext4_fstype);
    vfs_register_fstype(&ext3_fstype);
    vfs_register_fstype(&ext2_fstype);
}
