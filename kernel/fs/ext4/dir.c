/* Directories, read side: entry encoding, the checks every directory block
 * passes (record lengths, names, inode numbers, checksum tails), lookup
 * (through the hash index when there is one) and iteration by byte offset. */
#include "ext4_internal.h"

uint32_t ext4_rec_len_decode(const struct ext4_fs *fs, uint16_t v)
{
    if (fs->block_size < 65536)
        return v;
    if (v == 65535 || v == 0)
        return 65536;
    return (v & 65532u) | (uint32_t)(v & 3) << 16;
}

uint16_t ext4_rec_len_encode(const struct ext4_fs *fs, uint32_t len)
{
    if (fs->block_size < 65536)
        return (uint16_t)len;
    if (len == 65536)
        return 65535;
    return (uint16_t)((len & 65532) | ((len >> 16) & 3));
}

size_t ext4_dirent_name_len(const struct ext4_fs *fs, const struct ext4_dirent *d)
{
    return fs->has_filetype ? d->name_len : (size_t)(d->name_len | (uint32_t)d->file_type << 8);
}

static uint8_t dirent_ftype(const struct ext4_fs *fs, const struct ext4_dirent *d)
{
    return fs->has_filetype && d->file_type <= EXT4_FT_SYMLINK ? d->file_type : EXT4_FT_UNKNOWN;
}

static const struct ext4_dirent *dirent_at(const uint8_t *blk, uint32_t off)
{
    return (const struct ext4_dirent *)(blk + off);
}

uint32_t ext4_dir_usable(const struct ext4_fs *fs)
{
    return fs->block_size - (fs->csum ? EXT4_DIRENT_TAIL_SIZE : 0);
}

static bool has_tail(const struct ext4_fs *fs, const uint8_t *blk)
{
    const struct ext4_dirent *t = dirent_at(blk, fs->block_size - EXT4_DIRENT_TAIL_SIZE);
    return t->inode == 0 && t->rec_len == EXT4_DIRENT_TAIL_SIZE && t->name_len == 0 &&
           t->file_type == EXT4_DIRENT_TAIL_FT;
}

static uint32_t leaf_csum(struct ext4_fs *fs, struct ext4_inode *dir, const uint8_t *blk)
{
    return ext4_crc32c(dir->csum_seed, blk, fs->block_size - EXT4_DIRENT_TAIL_SIZE);
}

void ext4_dir_set_tail(struct ext4_fs *fs, uint8_t *blk)
{
    struct ext4_dirent *t = (struct ext4_dirent *)(blk + fs->block_size - EXT4_DIRENT_TAIL_SIZE);
    memset(t, 0, EXT4_DIRENT_TAIL_SIZE);
    t->rec_len = EXT4_DIRENT_TAIL_SIZE;
    t->file_type = EXT4_DIRENT_TAIL_FT;
}

void ext4_dir_csum_set(struct ext4_fs *fs, struct ext4_inode *dir, uint8_t *blk)
{
    if (fs->csum)
        put_le32(blk + fs->block_size - 4, leaf_csum(fs, dir, blk));
}

/* Walk the entries in [0, end): each record must fit, hold its name, and
 * name an inode that exists. */
const char *ext4_dir_check_entries(struct ext4_fs *fs, const uint8_t *blk, uint32_t end)
{
    for (uint32_t off = 0; off < end;) {
        if (end - off < 12)
            return "a record runs past the end of the block";
        const struct ext4_dirent *d = dirent_at(blk, off);
        uint32_t rl = ext4_rec_len_decode(fs, d->rec_len);
        size_t nl = ext4_dirent_name_len(fs, d);
        if (rl < 12 || (rl & 3))
            return "a bad record length";
        if (rl > end - off)
            return "a record runs past the end of the block";
        if (nl > EXT4_NAME_LEN || EXT4_DIRENT_HEAD + nl > rl)
            return "a name longer than its record";
        if (d->inode > fs->inodes_count)
            return "an inode number out of range";
        if (d->inode && nl == 0)
            return "an entry without a name";
        off += rl;
    }
    return NULL;
}

int ext4_dir_block_check(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, const uint8_t *blk)
{
    uint32_t end = fs->block_size;
    const char *why = NULL;
    int err = -EFSCORRUPTED;
    if (fs->csum) {
        if (has_tail(fs, blk)) {
            end -= EXT4_DIRENT_TAIL_SIZE;
            if (get_le32(blk + fs->block_size - 4) != leaf_csum(fs, dir, blk)) {
                why = "checksum mismatch";
                err = -EFSBADCRC;
            }
        } else if (ext4_dx_block_is_node(fs, dir, lblk, blk)) {
            if ((err = ext4_dx_node_csum_check(fs, dir, lblk, blk)) != 0)
                return err;
        } else {
            why = "no checksum tail";
        }
    }
    if (!why)
        why = ext4_dir_check_entries(fs, blk, end);
    if (!why)
        return 0;
    ext4_err(fs, "directory inode %u block %u is corrupt: %s", dir->ino, lblk, why);
    return err;
}

int ext4_dir_read_block(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, struct ext4_buf **out)
{
    struct ext4_map m;
    int err = ext4_map_block(fs, dir, lblk, 1, &m);
    if (err)
        return err;
    if (!m.pblk || m.uninit) {
        ext4_err(fs, "directory inode %u has a hole at block %u", dir->ino, lblk);
        return -EFSCORRUPTED;
    }
    struct ext4_buf *b;
    if ((err = ext4_bread(fs, m.pblk, &b)) != 0)
        return err;
    if (!b->checked) {
        if ((err = ext4_dir_block_check(fs, dir, lblk, b->data)) != 0) {
            ext4_brelse(fs, b);
            return err;
        }
        b->checked = true;
    }
    *out = b;
    return 0;
}

static uint32_t dir_blocks(const struct ext4_fs *fs, const struct ext4_inode *dir)
{
    return (uint32_t)MIN(dir->size >> fs->log_block_size, (uint64_t)UINT32_MAX);
}

/* Search one block for name: 0 with *loc filled, or -ENOENT. */
static int find_in_block(struct ext4_fs *fs, const uint8_t *blk, const char *name, size_t len,
                         struct ext4_dirent_loc *loc, uint32_t *ino)
{
    uint32_t prev = UINT32_MAX;
    for (uint32_t off = 0; off < fs->block_size;) {
        const struct ext4_dirent *d = dirent_at(blk, off);
        uint32_t rl = ext4_rec_len_decode(fs, d->rec_len);
        if (d->inode && ext4_dirent_name_len(fs, d) == len && memcmp(d->name, name, len) == 0) {
            loc->offset = off;
            loc->prev_offset = prev;
            *ino = d->inode;
            return 0;
        }
        prev = off;
        off += rl;
    }
    return -ENOENT;
}

static int find_linear(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                       struct ext4_dirent_loc *loc, uint32_t *ino)
{
    uint32_t n = dir_blocks(fs, dir);
    for (uint32_t lblk = 0; lblk < n; lblk++) {
        struct ext4_buf *b;
        int err = ext4_dir_read_block(fs, dir, lblk, &b);
        if (err)
            return err;
        err = find_in_block(fs, b->data, name, len, loc, ino);
        ext4_brelse(fs, b);
        if (err != -ENOENT) {
            loc->lblk = lblk;
            return err;
        }
    }
    return -ENOENT;
}

static int find_indexed(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                        struct ext4_dirent_loc *loc, uint32_t *ino)
{
    struct ext4_dx_path *path = NULL;
    uint32_t lblk;
    int err = ext4_dx_find_leaf(fs, dir, name, len, &lblk, &path);
    while (!err) {
        struct ext4_buf *b;
        if ((err = ext4_dir_read_block(fs, dir, lblk, &b)) != 0)
            break;
        err = find_in_block(fs, b->data, name, len, loc, ino);
        ext4_brelse(fs, b);
        if (err != -ENOENT) {
            loc->lblk = lblk;
            break;
        }
        err = ext4_dx_next_leaf(fs, dir, path, &lblk);
    }
    ext4_dx_path_free(path);
    return err;
}

int ext4_dir_find(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                  struct ext4_dirent_loc *loc, uint32_t *ino)
{
    if (!EXT4_ISDIR(dir->mode))
        return -ENOTDIR;
    if (len == 0 || len > EXT4_NAME_LEN)
        return -ENOENT;
    if (ext4_dx_is_indexed(fs, dir)) {
        int err = find_indexed(fs, dir, name, len, loc, ino);
        if (err != -EAGAIN) /* -EAGAIN: the index is unusable, the blocks still are */
            return err;
    }
    return find_linear(fs, dir, name, len, loc, ino);
}

int ext4_dir_lookup(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                    uint32_t *ino, uint8_t *ftype)
{
    if (dir->flags & EXT4_INLINE_DATA_FL)
        return ext4_inline_dir_lookup(fs, dir, name, len, ino, ftype);
    struct ext4_dirent_loc loc;
    int err = ext4_dir_find(fs, dir, name, len, &loc, ino);
    if (err)
        return err;
    struct ext4_buf *b;
    if ((err = ext4_dir_read_block(fs, dir, loc.lblk, &b)) != 0)
        return err;
    *ftype = dirent_ftype(fs, dirent_at(b->data, loc.offset));
    ext4_brelse(fs, b);
    return 0;
}

/* Give entries of one block from offset `from` on. */
static int iterate_block(struct ext4_fs *fs, const uint8_t *blk, uint64_t base, uint32_t from, uint64_t *pos,
                         ext4_dir_cb cb, void *arg)
{
    for (uint32_t off = 0; off < fs->block_size;) {
        const struct ext4_dirent *d = dirent_at(blk, off);
        uint32_t rl = ext4_rec_len_decode(fs, d->rec_len);
        if (off >= from && d->inode) {
            if (!cb(arg, d->name, ext4_dirent_name_len(fs, d), d->inode, dirent_ftype(fs, d), base + off + rl)) {
                *pos = base + off;
                return 1;
            }
        }
        off += rl;
    }
    *pos = base + fs->block_size;
    return 0;
}

int ext4_dir_iterate(struct ext4_fs *fs, struct ext4_inode *dir, uint64_t *pos, ext4_dir_cb cb, void *arg)
{
    if (!EXT4_ISDIR(dir->mode))
        return -ENOTDIR;
    if (dir->flags & EXT4_INLINE_DATA_FL)
        return ext4_inline_dir_iterate(fs, dir, pos, cb, arg);
    uint32_t n = dir_blocks(fs, dir);
    while (*pos < (uint64_t)n << fs->log_block_size) {
        uint32_t lblk = (uint32_t)(*pos >> fs->log_block_size);
        struct ext4_buf *b;
        int err = ext4_dir_read_block(fs, dir, lblk, &b);
        if (err)
            return err;
        uint64_t base = (uint64_t)lblk << fs->log_block_size;
        int stop = iterate_block(fs, b->data, base, (uint32_t)(*pos - base), pos, cb, arg);
        ext4_brelse(fs, b);
        if (stop)
            return 0;
    }
    return 0;
}
