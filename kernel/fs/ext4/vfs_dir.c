/* ext4 vnode operations: lookup and readdir, symlinks, attributes, and the
 * namespace changes (create, mkdir, symlink, link, unlink, rmdir, rename),
 * each one call into the core under the mount's lock, then its metadata
 * written back before returning. */
#include "lib/errno.h"
#include "lib/string.h"
#include "vfs_glue.h"

static unsigned ftype_to_dt(uint8_t ft)
{
    static const unsigned dt[] = { DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK };
    return ft < ARRAY_SIZE(dt) ? dt[ft] : DT_UNKNOWN;
}

static int ext4_vop_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
    struct ext4_vnode *ed = EXT4_VN(dir);
    struct ext4_mount *m = vn_mount(ed);
    uint32_t ino;
    uint8_t ft;
    bool taken = ext4_lock(m);
    int err = ext4_dir_lookup(m->fs, &ed->ei, name, len, &ino, &ft);
    if (!err)
        err = ext4_vfs_iget(m, ino, out);
    ext4_unlock(m, taken);
    return err;
}

struct readdir_arg {
    struct dir_ctx *ctx;
};

static bool readdir_cb(void *arg, const char *name, size_t len, uint32_t ino, uint8_t ftype, uint64_t next)
{
    struct readdir_arg *a = arg;
    return a->ctx->emit(a->ctx, name, len, ino, ftype_to_dt(ftype), next);
}

static int ext4_vop_readdir(struct vnode *dir, struct dir_ctx *ctx)
{
    struct ext4_vnode *ed = EXT4_VN(dir);
    struct ext4_mount *m = vn_mount(ed);
    struct readdir_arg a = { ctx };
    uint64_t pos = ctx->pos;
    bool taken = ext4_lock(m);
    int err = ext4_dir_iterate(m->fs, &ed->ei, &pos, readdir_cb, &a);
    ext4_unlock(m, taken);
    if (!err)
        ctx->pos = pos;
    return err;
}

static ssize_t ext4_vop_readlink(struct vnode *v, char *buf, size_t size)
{
    struct ext4_vnode *ev = EXT4_VN(v);
    struct ext4_mount *m = vn_mount(ev);
    bool taken = ext4_lock(m);
    ssize_t n = ext4_readlink(m->fs, &ev->ei, buf, size);
    ext4_unlock(m, taken);
    return n;
}

static struct ext4_time to_ext4_time(struct timespec t)
{
    return (struct ext4_time){ t.tv_sec, (uint32_t)t.tv_nsec };
}

int ext4_vfs_setattr(struct vnode *v, const struct vattr *a)
{
    struct ext4_vnode *ev = EXT4_VN(v);
    struct ext4_mount *m = vn_mount(ev);
    if (m->fs->read_only)
        return -EROFS;
    if ((a->mask & VATTR_SIZE) && !S_ISREG(v->mode))
        return -EINVAL;
    mutex_lock(&v->lock);
    bool taken = ext4_lock(m);
    struct ext4_inode *ei = &ev->ei;
    int err = 0;
    if (a->mask & VATTR_SIZE) {
        ev->trunc_gen++;
        err = ext4_truncate(m->fs, ei, a->size);
        if (!err)
            ext4_pc_zero_tail(ev, a->size);
        ext4_inode_touch(m->fs, ei, true, false);
    }
    if (!err) {
        if (a->mask & VATTR_MODE)
            ei->mode = (uint16_t)((ei->mode & S_IFMT) | (a->mode & S_IALLUGO));
        if (a->mask & VATTR_UID)
            ei->uid = a->uid;
        if (a->mask & VATTR_GID)
            ei->gid = a->gid;
        if (a->mask & VATTR_ATIME)
            ei->atime = to_ext4_time(a->atime);
        if (a->mask & VATTR_MTIME)
            ei->mtime = to_ext4_time(a->mtime);
        ei->ctime = to_ext4_time(a->ctime);
        err = ext4_inode_write(m->fs, ei);
    }
    err = ext4_vfs_commit(m, err);
    ext4_vfs_sync_attrs(ev);
    ext4_unlock(m, taken);
    if (!err && (a->mask & VATTR_SIZE))
        ext4_pc_drop(ev, DIV_ROUND_UP(a->size, (uint64_t)EXT4_PAGE));
    mutex_unlock(&v->lock);
    return err;
}

/* ---- namespace changes ---- */

/* The end of a change to dirs (and a new inode): attributes into the vnodes,
 * metadata to the disk, a vnode for the new inode. */
static int finish(struct ext4_mount *m, int err, struct ext4_vnode *d1, struct ext4_vnode *d2,
                  const struct ext4_inode *made, struct vnode **out)
{
    err = ext4_vfs_commit(m, err);
    if (d1)
        ext4_vfs_sync_attrs(d1);
    if (d2)
        ext4_vfs_sync_attrs(d2);
    if (!err && made && out)
        err = ext4_vfs_inew(m, made, out);
    return err;
}

static int ext4_vop_create(struct vnode *dir, const char *name, size_t len, uint32_t mode, dev_t rdev,
                           struct vnode **out)
{
    struct ext4_vnode *ed = EXT4_VN(dir);
    struct ext4_mount *m = vn_mount(ed);
    struct ext4_inode ni;
    uint64_t r = (uint64_t)DEV_MAJOR(rdev) << 32 | DEV_MINOR(rdev);
    bool taken = ext4_lock(m);
    uint32_t gid = (dir->mode & S_ISGID) ? ed->ei.gid : 0;
    int err = ext4_create(m->fs, &ed->ei, name, len, mode, r, 0, gid, &ni);
    err = finish(m, err, ed, NULL, &ni, out);
    ext4_unlock(m, taken);
    return err;
}

static int ext4_vop_mkdir(struct vnode *dir, const char *name, size_t len, uint32_t mode, struct vnode **out)
{
    struct ext4_vnode *ed = EXT4_VN(dir);
    struct ext4_mount *m = vn_mount(ed);
    struct ext4_inode ni;
    bool taken = ext4_lock(m);
    uint32_t gid = (dir->mode & S_ISGID) ? ed->ei.gid : 0;
    if (dir->mode & S_ISGID)
        mode |= S_ISGID;
    int err = ext4_mkdir(m->fs, &ed->ei, name, len, mode, 0, gid, &ni);
    err = finish(m, err, ed, NULL, &ni, out);
    ext4_unlock(m, taken);
    return err;
}

static int ext4_vop_symlink(struct vnode *dir, const char *name, size_t len, const char *target,
                            struct vnode **out)
{
    struct ext4_vnode *ed = EXT4_VN(dir);
    struct ext4_mount *m = vn_mount(ed);
    struct ext4_inode ni;
    bool taken = ext4_lock(m);
    uint32_t gid = (dir->mode & S_ISGID) ? ed->ei.gid : 0;
    int err = ext4_symlink(m->fs, &ed->ei, name, len, target, 0, gid, &ni);
    err = finish(m, err, ed, NULL, &ni, out);
    ext4_unlock(m, taken);
    return err;
}

static int ext4_vop_link(struct vnode *dir, const char *name, size_t len, struct vnode *target)
{
    if (target->sb != dir->sb)
        return -EXDEV;
    struct ext4_vnode *ed = EXT4_VN(dir), *et = EXT4_VN(target);
    struct ext4_mount *m = vn_mount(ed);
    bool taken = ext4_lock(m);
    int err = ext4_link(m->fs, &ed->ei, name, len, &et->ei);
    err = finish(m, err, ed, et, NULL, NULL);
    ext4_unlock(m, taken);
    return err;
}

static int ext4_vop_unlink(struct vnode *dir, const char *name, size_t len, struct vnode *victim)
{
    struct ext4_vnode *ed = EXT4_VN(dir), *ev = EXT4_VN(victim);
    struct ext4_mount *m = vn_mount(ed);
    bool taken = ext4_lock(m);
    int err = ext4_unlink(m->fs, &ed->ei, name, len, &ev->ei);
    err = finish(m, err, ed, ev, NULL, NULL);
    ext4_unlock(m, taken);
    return err;
}

static int ext4_vop_rmdir(struct vnode *dir, const char *name, size_t len, struct vnode *victim)
{
    struct ext4_vnode *ed = EXT4_VN(dir), *ev = EXT4_VN(victim);
    struct ext4_mount *m = vn_mount(ed);
    bool taken = ext4_lock(m);
    int err = ext4_rmdir(m->fs, &ed->ei, name, len, &ev->ei);
    err = finish(m, err, ed, ev, NULL, NULL);
    ext4_unlock(m, taken);
    return err;
}

static int ext4_vop_rename(struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir,
                           const char *nname, size_t nlen, struct vnode *target, unsigned flags)
{
    struct ext4_vnode *od = EXT4_VN(odir), *nd = EXT4_VN(ndir);
    struct ext4_mount *m = vn_mount(od);
    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
        return -EINVAL;
    bool taken = ext4_lock(m);
    uint32_t ino;
    uint8_t ft;
    struct vnode *moving = NULL;
    int err = ext4_dir_lookup(m->fs, &od->ei, oname, olen, &ino, &ft);
    if (!err)
        err = ext4_vfs_iget(m, ino, &moving);
    struct ext4_vnode *em = moving ? EXT4_VN(moving) : NULL, *et = target ? EXT4_VN(target) : NULL;
    if (!err)
        err = ext4_rename(m->fs, &od->ei, oname, olen, &nd->ei, nname, nlen, &em->ei, et ? &et->ei : NULL,
                          (flags & RENAME_EXCHANGE) != 0);
    err = finish(m, err, od, nd, NULL, NULL);
    if (em)
        ext4_vfs_sync_attrs(em);
    if (et)
        ext4_vfs_sync_attrs(et);
    ext4_unlock(m, taken);
    vnode_put(moving); /* the lock is dropped: its eviction may take it */
    return err;
}

const struct vnode_ops ext4_dir_vops = {
    .lookup = ext4_vop_lookup,
    .create = ext4_vop_create,
    .mkdir = ext4_vop_mkdir,
    .symlink = ext4_vop_symlink,
    .link = ext4_vop_link,
    .unlink = ext4_vop_unlink,
    .rmdir = ext4_vop_rmdir,
    .rename = ext4_vop_rename,
    .readdir = ext4_vop_readdir,
    .setattr = ext4_vfs_setattr,
};

const struct vnode_ops ext4_file_vops = { .setattr = ext4_vfs_setattr };
const struct vnode_ops ext4_link_vops = { .readlink = ext4_vop_readlink, .setattr = ext4_vfs_setattr };
const struct vnode_ops ext4_node_vops = { .setattr = ext4_vfs_setattr };
