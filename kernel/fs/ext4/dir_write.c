/* Directories, changing side: placing an entry in a block's free space or a
 * new block, removing one (merged into its predecessor), re-pointing one
 * (rename), "..", and the emptiness test. Indexed directories insert through
 * htree_write.c; every changed block gets its checksum again. */
#include "ext4_htree.h"

static struct ext4_dirent *dirent_at(uint8_t *blk, uint32_t off)
{
    return (struct ext4_dirent *)(blk + off);
}

static void set_entry(struct ext4_fs *fs, struct ext4_dirent *d, uint32_t ino, uint32_t rec_len, const char *name,
                      size_t len, uint8_t ftype)
{
    d->inode = ino;
    d->rec_len = ext4_rec_len_encode(fs, rec_len);
    d->name_len = (uint8_t)len;
    d->file_type = fs->has_filetype ? ftype : 0; /* else the high byte of a 16-bit length */
    memcpy(d->name, name, len);
}

int ext4_dirent_insert(struct ext4_fs *fs, uint8_t *blk, uint32_t usable, const char *name, size_t len,
                       uint32_t ino, uint8_t ftype)
{
    uint32_t need = ext4_rec_len_needed(len);
    for (uint32_t off = 0; off < usable;) {
        struct ext4_dirent *d = dirent_at(blk, off);
        uint32_t rl = ext4_rec_len_decode(fs, d->rec_len);
        uint32_t used = d->inode ? ext4_rec_len_needed(ext4_dirent_name_len(fs, d)) : 0;
        if (rl >= used + need) {
            if (used) { /* split the slack after a live entry off into the new one */
                d->rec_len = ext4_rec_len_encode(fs, used);
                d = dirent_at(blk, off + used);
                rl -= used;
            }
            set_entry(fs, d, ino, rl, name, len, ftype);
            return 0;
        }
        off += rl;
    }
    return -ENOSPC;
}

/* After changing a directory block: its checksum, whatever kind it is. */
void ext4_dir_block_changed(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, struct ext4_buf *b)
{
    if (fs->csum) {
        if (ext4_dx_block_is_node(fs, dir, lblk, b->data) && ext4_dx_is_indexed(fs, dir))
            ext4_dx_csum_set(fs, dir, lblk, b->data);
        else
            ext4_dir_csum_set(fs, dir, b->data);
    }
    b->checked = true;
    ext4_bdirty(fs, b);
}

/* An empty leaf block (one unused entry, then the checksum tail). */
void ext4_dir_init_leaf(struct ext4_fs *fs, uint8_t *blk)
{
    memset(blk, 0, fs->block_size);
    struct ext4_dirent *d = dirent_at(blk, 0);
    d->rec_len = ext4_rec_len_encode(fs, ext4_dir_usable(fs));
    if (fs->csum)
        ext4_dir_set_tail(fs, blk);
}

int ext4_dir_append_block(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t *lblk, struct ext4_buf **out)
{
    uint64_t n = dir->size >> fs->log_block_size;
    if (n >= EXT4_MAX_FILE_BLOCKS || (!ext4_has_incompat(fs, EXT4_INCOMPAT_LARGEDIR) &&
                                      dir->size + fs->block_size > 0xFFFFFFFFull))
        return -ENOSPC;
    uint64_t pblk;
    bool fresh;
    int err = ext4_bmap_alloc(fs, dir, (uint32_t)n, &pblk, &fresh);
    if (!err)
        err = ext4_bget_new(fs, pblk, out);
    if (err)
        return err;
    ext4_dir_init_leaf(fs, (*out)->data);
    (*out)->checked = true;
    dir->size += fs->block_size;
    *lblk = (uint32_t)n;
    return ext4_inode_write(fs, dir);
}

/* A one-block directory needs a second block: index it first, as Linux
 * does, so that large directories are hashed from the start. Block 0 becomes
 * the index root; its entries move to a new leaf. */
static int make_indexed(struct ext4_fs *fs, struct ext4_inode *dir)
{
    struct ext4_buf *b0, *leaf;
    uint32_t lblk;
    int err = ext4_dir_read_block(fs, dir, 0, &b0);
    if (err)
        return err;
    if ((err = ext4_dir_append_block(fs, dir, &lblk, &leaf)) != 0) {
        ext4_brelse(fs, b0);
        return err;
    }
    uint32_t off = 0, seen = 0;
    while (off < ext4_dir_usable(fs) && !err) {
        struct ext4_dirent *d = dirent_at(b0->data, off);
        if (d->inode && seen++ >= 2) /* "." and ".." stay in the root */
            err = ext4_dirent_insert(fs, leaf->data, ext4_dir_usable(fs), d->name, ext4_dirent_name_len(fs, d),
                                     d->inode, d->file_type);
        off += ext4_rec_len_decode(fs, d->rec_len);
    }
    if (!err) {
        if (!(fs->sb.flags & (EXT4_FLAGS_SIGNED_HASH | EXT4_FLAGS_UNSIGNED_HASH))) {
            fs->sb.flags |= EXT4_FLAGS_SIGNED_HASH; /* what Linux on x86 (signed char) records */
            fs->sb_dirty = true;
        }
        uint8_t *r = b0->data;
        struct ext4_dirent *dotdot = dirent_at(r, 12);
        dotdot->rec_len = ext4_rec_len_encode(fs, fs->block_size - 12);
        memset(r + 24, 0, fs->block_size - 24);
        struct ext4_dx_root_info *info = (struct ext4_dx_root_info *)(r + EXT4_DX_INFO_OFFSET);
        info->hash_version = fs->sb.def_hash_version <= EXT4_HASH_TEA ? fs->sb.def_hash_version : EXT4_HASH_HALF_MD4;
        info->info_length = 8;
        struct ext4_dx_countlimit *cl = (struct ext4_dx_countlimit *)(r + EXT4_DX_INFO_OFFSET + 8);
        cl->limit = (uint16_t)((fs->block_size - 0x20 - (fs->csum ? EXT4_DX_TAIL_SIZE : 0)) / 8);
        cl->count = 1;
        put_le32(r + 0x24, lblk);
        dir->flags |= EXT4_INDEX_FL;
        ext4_dir_block_changed(fs, dir, 0, b0);
        ext4_dir_block_changed(fs, dir, lblk, leaf);
        err = ext4_inode_write(fs, dir);
    }
    ext4_brelse(fs, leaf);
    ext4_brelse(fs, b0);
    return err;
}

static int add_linear(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t ino,
                      uint8_t ftype)
{
    uint32_t nblocks = (uint32_t)(dir->size >> fs->log_block_size);
    for (uint32_t lblk = 0; lblk < nblocks; lblk++) {
        struct ext4_buf *b;
        int err = ext4_dir_read_block(fs, dir, lblk, &b);
        if (err)
            return err;
        /* index blocks left by an old index are no place for entries */
        if (!(lblk > 0 && ext4_dx_block_is_node(fs, dir, lblk, b->data) && fs->csum) &&
            ext4_dirent_insert(fs, b->data, ext4_dir_usable(fs), name, len, ino, ftype) == 0) {
            ext4_dir_block_changed(fs, dir, lblk, b);
            ext4_brelse(fs, b);
            return 0;
        }
        ext4_brelse(fs, b);
    }
    if ((fs->compat & EXT4_COMPAT_DIR_INDEX) && nblocks == 1 && !(dir->flags & EXT4_INDEX_FL)) {
        int err = make_indexed(fs, dir);
        if (err)
            return err;
        err = ext4_dx_add(fs, dir, name, len, ino, ftype);
        if (err != -EAGAIN)
            return err;
        if ((err = ext4_dx_unindex(fs, dir)) != 0)
            return err;
    }
    uint32_t lblk;
    struct ext4_buf *b;
    int err = ext4_dir_append_block(fs, dir, &lblk, &b);
    if (err)
        return err;
    err = ext4_dirent_insert(fs, b->data, ext4_dir_usable(fs), name, len, ino, ftype);
    ext4_dir_block_changed(fs, dir, lblk, b);
    ext4_brelse(fs, b);
    return err;
}

int ext4_dir_add(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t ino,
                 uint8_t ftype)
{
    if (dir->flags & EXT4_INLINE_DATA_FL)
        return -EOPNOTSUPP;
    if (len == 0 || len > EXT4_NAME_LEN)
        return -ENAMETOOLONG;
    if (ext4_dx_is_indexed(fs, dir)) {
        int err = ext4_dx_add(fs, dir, name, len, ino, ftype);
        if (err != -EAGAIN)
            return err;
        /* the index cannot take it (or is damaged): the directory goes on unindexed */
        if ((err = ext4_dx_unindex(fs, dir)) != 0)
            return err;
    }
    return add_linear(fs, dir, name, len, ino, ftype);
}

/* The block holding name, with the entry located. */
static int find_entry(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                      struct ext4_dirent_loc *loc, struct ext4_buf **b)
{
    if (dir->flags & EXT4_INLINE_DATA_FL)
        return -EOPNOTSUPP;
    uint32_t ino;
    int err = ext4_dir_find(fs, dir, name, len, loc, &ino);
    return err ? err : ext4_dir_read_block(fs, dir, loc->lblk, b);
}

int ext4_dir_remove(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len)
{
    struct ext4_dirent_loc loc;
    struct ext4_buf *b;
    int err = find_entry(fs, dir, name, len, &loc, &b);
    if (err)
        return err;
    struct ext4_dirent *d = dirent_at(b->data, loc.offset);
    if (loc.prev_offset != UINT32_MAX) {
        struct ext4_dirent *prev = dirent_at(b->data, loc.prev_offset);
        uint32_t rl = ext4_rec_len_decode(fs, prev->rec_len) + ext4_rec_len_decode(fs, d->rec_len);
        prev->rec_len = ext4_rec_len_encode(fs, rl);
    } else {
        d->inode = 0; /* the first entry of a block keeps its place, unused */
    }
    ext4_dir_block_changed(fs, dir, loc.lblk, b);
    ext4_brelse(fs, b);
    return 0;
}

int ext4_dir_retarget(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t ino,
                      uint8_t ftype)
{
    struct ext4_dirent_loc loc;
    struct ext4_buf *b;
    int err = find_entry(fs, dir, name, len, &loc, &b);
    if (err)
        return err;
    struct ext4_dirent *d = dirent_at(b->data, loc.offset);
    d->inode = ino;
    if (fs->has_filetype)
        d->file_type = ftype;
    ext4_dir_block_changed(fs, dir, loc.lblk, b);
    ext4_brelse(fs, b);
    return 0;
}

int ext4_dir_set_dotdot(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t parent)
{
    if (dir->flags & EXT4_INLINE_DATA_FL)
        return -EOPNOTSUPP;
    struct ext4_buf *b;
    int err = ext4_dir_read_block(fs, dir, 0, &b);
    if (err)
        return err;
    err = -EFSCORRUPTED;
    for (uint32_t off = 0; off < fs->block_size;) {
        struct ext4_dirent *d = dirent_at(b->data, off);
        if (d->inode && ext4_dirent_name_len(fs, d) == 2 && d->name[0] == '.' && d->name[1] == '.') {
            d->inode = parent;
            ext4_dir_block_changed(fs, dir, 0, b);
            err = 0;
            break;
        }
        off += ext4_rec_len_decode(fs, d->rec_len);
    }
    ext4_brelse(fs, b);
    if (err)
        ext4_err(fs, "directory inode %u has no \"..\" entry", dir->ino);
    return err;
}

static bool empty_cb(void *arg, const char *name, size_t len, uint32_t ino, uint8_t ftype, uint64_t next)
{
    (void)ino;
    (void)ftype;
    (void)next;
    bool dot = (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
    if (!dot)
        *(bool *)arg = false;
    return dot;
}

int ext4_dir_is_empty(struct ext4_fs *fs, struct ext4_inode *dir)
{
    bool empty = true;
    uint64_t pos = 0;
    int err = ext4_dir_iterate(fs, dir, &pos, empty_cb, &empty);
    return err ? err : empty;
}
