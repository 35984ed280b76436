/* Attributes: stat in its three shapes (kernel, stat, statx), setattr with
 * the checks common to every file system, and statfs. */
#include "lib/errno.h"
#include "lib/string.h"
#include "vfs_internal.h"

#define MAX_FILE_SIZE ((uint64_t)INT64_MAX)

int vfs_getattr(struct vnode *v, struct mount *mnt, struct kstat *st)
{
    if (v->ops && v->ops->getattr) {
        int err = v->ops->getattr(v);
        if (err)
            return err;
    }
    memset(st, 0, sizeof(*st));
    st->dev = v->sb ? v->sb->dev : 0;
    st->ino = v->ino;
    st->nlink = v->nlink;
    st->mode = v->mode;
    st->uid = v->uid;
    st->gid = v->gid;
    st->rdev = v->rdev;
    st->size = v->size;
    st->blocks = v->blocks;
    st->blksize = v->blksize ? v->blksize : 4096;
    st->atime = v->atime;
    st->mtime = v->mtime;
    st->ctime = v->ctime;
    st->btime = v->btime;
    st->mnt_id = mnt ? (uint64_t)mnt->id : 0;
    return 0;
}

void kstat_to_stat(const struct kstat *k, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = k->dev;
    st->st_ino = k->ino;
    st->st_nlink = k->nlink;
    st->st_mode = k->mode;
    st->st_uid = k->uid;
    st->st_gid = k->gid;
    st->st_rdev = k->rdev;
    st->st_size = (int64_t)k->size;
    st->st_blksize = k->blksize;
    st->st_blocks = (int64_t)k->blocks;
    st->st_atime_sec = (uint64_t)k->atime.tv_sec;
    st->st_atime_nsec = (uint64_t)k->atime.tv_nsec;
    st->st_mtime_sec = (uint64_t)k->mtime.tv_sec;
    st->st_mtime_nsec = (uint64_t)k->mtime.tv_nsec;
    st->st_ctime_sec = (uint64_t)k->ctime.tv_sec;
    st->st_ctime_nsec = (uint64_t)k->ctime.tv_nsec;
}

static struct statx_timestamp sx_time(struct timespec t)
{
    return (struct statx_timestamp){ t.tv_sec, (uint32_t)t.tv_nsec, 0 };
}

void kstat_to_statx(const struct kstat *k, unsigned mask, struct statx *sx)
{
    (void)mask; /* everything is at hand: report it all, as Linux may */
    memset(sx, 0, sizeof(*sx));
    sx->stx_mask = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;
    sx->stx_blksize = k->blksize;
    sx->stx_nlink = (uint32_t)k->nlink;
    sx->stx_uid = k->uid;
    sx->stx_gid = k->gid;
    sx->stx_mode = (uint16_t)k->mode;
    sx->stx_ino = k->ino;
    sx->stx_size = k->size;
    sx->stx_blocks = k->blocks;
    sx->stx_atime = sx_time(k->atime);
    sx->stx_btime = sx_time(k->btime);
    sx->stx_ctime = sx_time(k->ctime);
    sx->stx_mtime = sx_time(k->mtime);
    sx->stx_rdev_major = DEV_MAJOR(k->rdev);
    sx->stx_rdev_minor = DEV_MINOR(k->rdev);
    sx->stx_dev_major = DEV_MAJOR(k->dev);
    sx->stx_dev_minor = DEV_MINOR(k->dev);
    sx->stx_mnt_id = k->mnt_id;
}

/* For vnodes whose file system keeps no more than the fields. */
static int setattr_generic(struct vnode *v, const struct vattr *a)
{
    if (a->mask & VATTR_SIZE)
        return -EINVAL;
    mutex_lock(&v->lock);
    if (a->mask & VATTR_MODE)
        v->mode = (v->mode & S_IFMT) | (a->mode & S_IALLUGO);
    if (a->mask & VATTR_UID)
        v->uid = a->uid;
    if (a->mask & VATTR_GID)
        v->gid = a->gid;
    if (a->mask & VATTR_ATIME)
        v->atime = a->atime;
    if (a->mask & VATTR_MTIME)
        v->mtime = a->mtime;
    v->ctime = a->ctime;
    mutex_unlock(&v->lock);
    return 0;
}

int vfs_setattr(struct vnode *v, struct mount *mnt, struct vattr *a)
{
    if (mnt_readonly(mnt) && !S_ISCHR(v->mode) && !S_ISFIFO(v->mode) && !S_ISSOCK(v->mode))
        return -EROFS;
    if (a->mask & VATTR_SIZE) {
        if (S_ISDIR(v->mode))
            return -EISDIR;
        if (!S_ISREG(v->mode))
            return -EINVAL;
        if (a->size > MAX_FILE_SIZE)
            return -EFBIG;
    }
    if (!(a->mask & VATTR_CTIME))
        a->ctime = vfs_now();
    if (v->ops && v->ops->setattr)
        return v->ops->setattr(v, a);
    return setattr_generic(v, a);
}

int vfs_truncate_vnode(struct vnode *v, struct mount *mnt, uint64_t size)
{
    struct vattr a = { .mask = VATTR_SIZE | VATTR_MTIME, .size = size, .mtime = vfs_now() };
    return vfs_setattr(v, mnt, &a);
}

int vfs_statfs(const struct path *p, struct statfs *st)
{
    struct vfs_sb *sb = p->mnt->sb;
    memset(st, 0, sizeof(*st));
    if (sb->ops && sb->ops->statfs) {
        int err = sb->ops->statfs(sb, st);
        if (err)
            return err;
    }
    st->f_type = (int64_t)sb->magic;
    if (!st->f_bsize)
        st->f_bsize = 4096;
    if (!st->f_frsize)
        st->f_frsize = st->f_bsize;
    if (!st->f_namelen)
        st->f_namelen = NAME_MAX;
    st->f_fsid[0] = (int32_t)(uint32_t)sb->dev;
    st->f_fsid[1] = (int32_t)(uint32_t)(sb->dev >> 32);
    unsigned long mf = p->mnt->flags | (sb->flags & MS_RDONLY);
    st->f_flags = ST_VALID | (mf & MS_RDONLY ? ST_RDONLY : 0) | (mf & MS_NOSUID ? ST_NOSUID : 0) |
                  (mf & MS_NODEV ? ST_NODEV : 0) | (mf & MS_NOEXEC ? ST_NOEXEC : 0) |
                  (mf & MS_NOATIME ? ST_NOATIME : ST_RELATIME);
    return 0;
}
