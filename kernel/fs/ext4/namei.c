/* Namespace changes: new inodes (files, device nodes, FIFOs, sockets,
 * directories, fast and slow symlinks), hard links, unlink, rmdir, rename
 * (with exchange), and freeing an inode once its last link and user are gone. */
#include "ext4_internal.h"

#define XATTR_MAGIC 0xEA020000u

static int check_dir(struct ext4_fs *fs, struct ext4_inode *dir)
{
    if (fs->read_only)
        return -EROFS;
    if (!EXT4_ISDIR(dir->mode))
        return -ENOTDIR;
    if (dir->flags & EXT4_INLINE_DATA_FL)
        return -EOPNOTSUPP;
    return 0;
}

static void touch_dir(struct ext4_fs *fs, struct ext4_inode *dir)
{
    ext4_inode_touch(fs, dir, true, true);
}

/* A link count that reached the limit: dir_nlink lets directories go on with 1 ("many"). */
static int links_inc(struct ext4_fs *fs, struct ext4_inode *ei)
{
    if (ei->links >= EXT4_LINK_MAX || (EXT4_ISDIR(ei->mode) && ei->links == 1)) {
        if (!EXT4_ISDIR(ei->mode) || !ext4_has_ro_compat(fs, EXT4_RO_COMPAT_DIR_NLINK))
            return -EMLINK;
        ei->links = 1;
        return 0;
    }
    ei->links++;
    return 0;
}

static void links_dec_dir(struct ext4_inode *dir)
{
    if (dir->links > 2)
        dir->links--; /* 1 means "many" (dir_nlink) and stays */
}

/* A new inode (not yet named) near dir. */
static int new_inode(struct ext4_fs *fs, struct ext4_inode *dir, uint16_t mode, uint32_t uid, uint32_t gid,
                     struct ext4_inode *out)
{
    uint32_t ino;
    int err = ext4_alloc_inode(fs, dir->ino, EXT4_ISDIR(mode), &ino);
    if (err)
        return err;
    if ((err = ext4_inode_fresh(fs, ino, mode, uid, gid, out)) != 0)
        ext4_free_inode(fs, ino, EXT4_ISDIR(mode));
    return err;
}

/* Undo new_inode after a later step failed. */
static void drop_inode(struct ext4_fs *fs, struct ext4_inode *ei)
{
    ei->links = 0;
    ext4_inode_release(fs, ei);
}

static int name_it(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, struct ext4_inode *ni)
{
    int err = ext4_inode_write(fs, ni);
    if (!err)
        err = ext4_dir_add(fs, dir, name, len, ni->ino, ext4_mode_to_ftype(ni->mode));
    if (err) {
        drop_inode(fs, ni);
        return err;
    }
    touch_dir(fs, dir);
    return ext4_inode_write(fs, dir);
}

int ext4_create(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t mode,
                uint64_t rdev, uint32_t uid, uint32_t gid, struct ext4_inode *out)
{
    int err = check_dir(fs, dir);
    if (err)
        return err;
    if ((mode & EXT4_S_IFMT) == EXT4_S_IFDIR || (mode & EXT4_S_IFMT) == EXT4_S_IFLNK)
        return -EINVAL;
    if (!(mode & EXT4_S_IFMT))
        mode |= EXT4_S_IFREG;
    if ((err = new_inode(fs, dir, (uint16_t)mode, uid, gid, out)) != 0)
        return err;
    out->links = 1;
    uint16_t type = (uint16_t)(mode & EXT4_S_IFMT);
    if (type != EXT4_S_IFREG) { /* special files map no data: no extent tree */
        memset(out->block, 0, sizeof(out->block));
        out->flags &= ~(uint32_t)EXT4_EXTENTS_FL;
    }
    if (type == EXT4_S_IFCHR || type == EXT4_S_IFBLK) {
        uint32_t major = (uint32_t)(rdev >> 32), minor = (uint32_t)rdev;
        if (major < 256 && minor < 256)
            out->block[0] = major << 8 | minor; /* the old encoding, as Linux writes small numbers */
        else
            out->block[1] = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
    }
    return name_it(fs, dir, name, len, out);
}

/* The first block of a new directory: "." and "..". */
static int init_dir_block(struct ext4_fs *fs, struct ext4_inode *ni, uint32_t parent)
{
    uint32_t lblk;
    struct ext4_buf *b;
    ni->size = 0;
    int err = ext4_dir_append_block(fs, ni, &lblk, &b);
    if (err)
        return err;
    struct ext4_dirent *dot = (struct ext4_dirent *)b->data, *dotdot = (struct ext4_dirent *)(b->data + 12);
    dot->inode = ni->ino;
    dot->rec_len = 12;
    dot->name_len = 1;
    dot->file_type = fs->has_filetype ? EXT4_FT_DIR : 0;
    dot->name[0] = '.';
    dotdot->inode = parent;
    dotdot->rec_len = ext4_rec_len_encode(fs, ext4_dir_usable(fs) - 12);
    dotdot->name_len = 2;
    dotdot->file_type = fs->has_filetype ? EXT4_FT_DIR : 0;
    dotdot->name[0] = dotdot->name[1] = '.';
    ext4_dir_block_changed(fs, ni, lblk, b);
    ext4_brelse(fs, b);
    return 0;
}

int ext4_mkdir(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t mode,
               uint32_t uid, uint32_t gid, struct ext4_inode *out)
{
    int err = check_dir(fs, dir);
    if (err)
        return err;
    struct ext4_inode saved = *dir;
    if ((err = links_inc(fs, dir)) != 0)
        return err;
    if ((err = new_inode(fs, dir, (uint16_t)(EXT4_S_IFDIR | (mode & 07777)), uid, gid, out)) != 0) {
        *dir = saved;
        return err;
    }
    out->links = 2;
    if ((err = init_dir_block(fs, out, dir->ino)) != 0) {
        drop_inode(fs, out);
        *dir = saved;
        return err;
    }
    if ((err = name_it(fs, dir, name, len, out)) != 0)
        *dir = saved;
    return err;
}

int ext4_symlink(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, const char *target,
                 uint32_t uid, uint32_t gid, struct ext4_inode *out)
{
    int err = check_dir(fs, dir);
    if (err)
        return err;
    size_t tlen = strlen(target);
    if (tlen == 0)
        return -ENOENT;
    if (tlen >= fs->block_size || tlen >= 4096)
        return -ENAMETOOLONG;
    if ((err = new_inode(fs, dir, EXT4_S_IFLNK | 0777, uid, gid, out)) != 0)
        return err;
    out->links = 1;
    out->size = tlen;
    if (tlen < sizeof(out->block)) { /* fast: the target lives in i_block */
        out->flags &= ~(uint32_t)EXT4_EXTENTS_FL;
        memset(out->block, 0, sizeof(out->block));
        memcpy(out->block, target, tlen);
    } else {
        uint8_t *blk = kzalloc(fs->block_size);
        ssize_t n = blk ? 0 : -ENOMEM;
        if (blk) {
            memcpy(blk, target, tlen);
            n = ext4_file_write_blocks(fs, out, 0, blk, fs->block_size);
        }
        kfree(blk);
        if (n < 0) {
            drop_inode(fs, out);
            return (int)n;
        }
    }
    return name_it(fs, dir, name, len, out);
}

int ext4_link(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, struct ext4_inode *target)
{
    int err = check_dir(fs, dir);
    if (err)
        return err;
    if (EXT4_ISDIR(target->mode))
        return -EPERM;
    if (target->links >= EXT4_LINK_MAX)
        return -EMLINK;
    if ((err = ext4_dir_add(fs, dir, name, len, target->ino, ext4_mode_to_ftype(target->mode))) != 0)
        return err;
    target->links++;
    ext4_inode_touch(fs, target, false, true);
    touch_dir(fs, dir);
    err = ext4_inode_write(fs, target);
    return err ? err : ext4_inode_write(fs, dir);
}

int ext4_unlink(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, struct ext4_inode *victim)
{
    int err = check_dir(fs, dir);
    if (err)
        return err;
    if ((err = ext4_dir_remove(fs, dir, name, len)) != 0)
        return err;
    if (victim->links)
        victim->links--;
    ext4_inode_touch(fs, victim, false, true);
    touch_dir(fs, dir);
    err = ext4_inode_write(fs, victim);
    return err ? err : ext4_inode_write(fs, dir);
}

int ext4_rmdir(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, struct ext4_inode *victim)
{
    int err = check_dir(fs, dir);
    if (err)
        return err;
    if (!EXT4_ISDIR(victim->mode))
        return -ENOTDIR;
    if ((err = ext4_dir_is_empty(fs, victim)) <= 0)
        return err < 0 ? err : -ENOTEMPTY;
    if ((err = ext4_dir_remove(fs, dir, name, len)) != 0)
        return err;
    victim->links = 0;
    links_dec_dir(dir);
    ext4_inode_touch(fs, victim, false, true);
    touch_dir(fs, dir);
    err = ext4_inode_write(fs, victim);
    return err ? err : ext4_inode_write(fs, dir);
}

/* A directory moved from odir to ndir: its ".." and both parents' link counts. */
static int moved_dir(struct ext4_fs *fs, struct ext4_inode *child, struct ext4_inode *odir, struct ext4_inode *ndir)
{
    if (!EXT4_ISDIR(child->mode) || odir->ino == ndir->ino)
        return 0;
    int err = ext4_dir_set_dotdot(fs, child, ndir->ino);
    if (err)
        return err;
    links_dec_dir(odir);
    return links_inc(fs, ndir);
}

static int rename_exchange(struct ext4_fs *fs, struct ext4_inode *odir, const char *oname, size_t olen,
                           struct ext4_inode *ndir, const char *nname, size_t nlen, struct ext4_inode *a,
                           struct ext4_inode *b)
{
    int err = ext4_dir_retarget(fs, odir, oname, olen, b->ino, ext4_mode_to_ftype(b->mode));
    if (!err)
        err = ext4_dir_retarget(fs, ndir, nname, nlen, a->ino, ext4_mode_to_ftype(a->mode));
    if (!err)
        err = moved_dir(fs, a, odir, ndir);
    if (!err)
        err = moved_dir(fs, b, ndir, odir);
    ext4_inode_touch(fs, a, false, true);
    ext4_inode_touch(fs, b, false, true);
    if (!err)
        err = ext4_inode_write(fs, b);
    return err;
}

int ext4_rename(struct ext4_fs *fs, struct ext4_inode *odir, const char *oname, size_t olen,
                struct ext4_inode *ndir, const char *nname, size_t nlen, struct ext4_inode *moving,
                struct ext4_inode *target, bool exchange)
{
    int err = check_dir(fs, odir);
    if (!err)
        err = check_dir(fs, ndir);
    if (err)
        return err;
    if (exchange) {
        if (!target)
            return -ENOENT;
        err = rename_exchange(fs, odir, oname, olen, ndir, nname, nlen, moving, target);
    } else if (target) {
        if (EXT4_ISDIR(target->mode)) {
            if ((err = ext4_dir_is_empty(fs, target)) <= 0)
                return err < 0 ? err : -ENOTEMPTY;
        }
        err = ext4_dir_retarget(fs, ndir, nname, nlen, moving->ino, ext4_mode_to_ftype(moving->mode));
        if (!err) {
            if (EXT4_ISDIR(target->mode)) {
                target->links = 0;
                links_dec_dir(ndir);
            } else if (target->links) {
                target->links--;
            }
            ext4_inode_touch(fs, target, false, true);
            err = ext4_inode_write(fs, target);
        }
    } else {
        err = ext4_dir_add(fs, ndir, nname, nlen, moving->ino, ext4_mode_to_ftype(moving->mode));
    }
    if (!exchange && !err)
        err = ext4_dir_remove(fs, odir, oname, olen);
    if (!exchange && !err)
        err = moved_dir(fs, moving, odir, ndir);
    ext4_inode_touch(fs, moving, false, true);
    touch_dir(fs, odir);
    touch_dir(fs, ndir);
    int e2 = ext4_inode_write(fs, moving);
    if (!e2)
        e2 = ext4_inode_write(fs, odir);
    if (!e2 && ndir->ino != odir->ino)
        e2 = ext4_inode_write(fs, ndir);
    return err ? err : e2;
}

/* Drop the inode's reference to its extended attribute block. */
static int release_xattr_block(struct ext4_fs *fs, struct ext4_inode *ei)
{
    uint64_t blk = ei->file_acl;
    ei->file_acl = 0;
    if (!blk)
        return 0;
    struct ext4_buf *b;
    int err = ext4_bread(fs, blk, &b);
    if (err)
        return err;
    uint32_t refs = get_le32(b->data + 4);
    if (get_le32(b->data) != XATTR_MAGIC) {
        ext4_brelse(fs, b);
        ext4_err(fs, "inode %u: extended attribute block %lu is corrupt", ei->ino, (unsigned long)blk);
        return -EFSCORRUPTED;
    }
    if (refs > 1) {
        put_le32(b->data + 4, refs - 1);
        if (fs->csum) { /* the block's checksum covers its own number */
            uint8_t le[8];
            uint64_t n = blk;
            memcpy(le, &n, 8);
            put_le32(b->data + 0x10, 0);
            uint32_t c = ext4_crc32c(fs->csum_seed, le, 8);
            put_le32(b->data + 0x10, ext4_crc32c(c, b->data, fs->block_size));
        }
        ext4_bdirty(fs, b);
        ext4_brelse(fs, b);
        return 0;
    }
    ext4_brelse(fs, b);
    err = ext4_free_blocks(fs, blk, 1);
    if (!err)
        ext4_inode_add_blocks(fs, ei, -1);
    return err;
}

int ext4_inode_release(struct ext4_fs *fs, struct ext4_inode *ei)
{
    if (ei->links || fs->read_only)
        return 0;
    int err = 0;
    bool maps = EXT4_ISREG(ei->mode) || EXT4_ISDIR(ei->mode) ||
                (EXT4_ISLNK(ei->mode) && ei->blocks > (ei->file_acl ? (uint64_t)(fs->block_size >> 9) : 0));
    if (maps && !(ei->flags & EXT4_INLINE_DATA_FL))
        err = ext4_inode_uses_extents(ei) ? ext4_extent_truncate(fs, ei, 0) : ext4_ind_truncate(fs, ei, 0);
    if (!err)
        err = release_xattr_block(fs, ei);
    if (err) {
        ext4_err(fs, "inode %u could not be freed completely: error %d", ei->ino, err);
        return err;
    }
    struct ext4_time now = fs->now ? fs->now() : (struct ext4_time){ 0, 0 };
    ei->dtime = (uint32_t)now.sec;
    ei->size = 0;
    if ((err = ext4_inode_write(fs, ei)) != 0)
        return err;
    return ext4_free_inode(fs, ei->ino, EXT4_ISDIR(ei->mode));
}
