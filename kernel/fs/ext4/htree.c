/* Hash-indexed (htree) directories, read side: the root and interior index
 * blocks with their checks and checksums, and the walk from a name's hash
 * to the leaf block that holds it (following collision chains). Any defect
 * in the index only costs speed: lookups fall back to a linear search. */
#include "ext4_htree.h"

bool ext4_dx_is_indexed(const struct ext4_fs *fs, const struct ext4_inode *dir)
{
    return (fs->compat & EXT4_COMPAT_DIR_INDEX) && (dir->flags & EXT4_INDEX_FL) &&
           !(dir->flags & EXT4_INLINE_DATA_FL) && dir->size >= 2u * fs->block_size;
}

static uint32_t dx_limit(const struct ext4_fs *fs, uint32_t count_off)
{
    return (fs->block_size - count_off - (fs->csum ? EXT4_DX_TAIL_SIZE : 0)) / sizeof(struct ext4_dx_entry);
}

/* Where the count/limit header is in an index block: 0 if not one. */
uint32_t ext4_dx_count_offset(const struct ext4_fs *fs, const struct ext4_inode *dir, uint32_t lblk,
                              const uint8_t *blk)
{
    const struct ext4_dirent *d = (const struct ext4_dirent *)blk;
    if (lblk == 0 && (dir->flags & EXT4_INDEX_FL)) {
        const struct ext4_dx_root_info *info = (const struct ext4_dx_root_info *)(blk + EXT4_DX_INFO_OFFSET);
        if (d->rec_len != 12 || ext4_rec_len_decode(fs, get_le16(blk + 12 + 4)) != fs->block_size - 12)
            return 0;
        return EXT4_DX_INFO_OFFSET + info->info_length;
    }
    if (d->inode == 0 && ext4_rec_len_decode(fs, d->rec_len) == fs->block_size && d->name_len == 0)
        return EXT4_DX_NODE_COUNT_OFFSET;
    return 0;
}

bool ext4_dx_block_is_node(const struct ext4_fs *fs, const struct ext4_inode *dir, uint32_t lblk,
                           const uint8_t *blk)
{
    return ext4_dx_count_offset(fs, dir, lblk, blk) != 0;
}

static uint32_t dx_csum(const struct ext4_inode *dir, const uint8_t *blk,
                        uint32_t count_off, uint32_t count, uint32_t limit)
{
    static const uint8_t zero[4];
    uint32_t c = ext4_crc32c(dir->csum_seed, blk, count_off + count * sizeof(struct ext4_dx_entry));
    const uint8_t *tail = blk + count_off + limit * sizeof(struct ext4_dx_entry);
    c = ext4_crc32c(c, tail, 4); /* dt_reserved */
    return ext4_crc32c(c, zero, 4);
}

int ext4_dx_node_csum_check(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, const uint8_t *blk)
{
    uint32_t off = ext4_dx_count_offset(fs, dir, lblk, blk);
    if (off == 0 || off + 4 > fs->block_size)
        return -EFSCORRUPTED;
    const struct ext4_dx_countlimit *cl = (const struct ext4_dx_countlimit *)(blk + off);
    if (cl->limit != dx_limit(fs, off) || cl->count > cl->limit) {
        ext4_err(fs, "directory inode %u index block %u: bad count %u / limit %u", dir->ino, lblk, cl->count,
                 cl->limit);
        return -EFSCORRUPTED;
    }
    uint32_t want = dx_csum(dir, blk, off, cl->count, cl->limit);
    uint32_t have = get_le32(blk + off + cl->limit * sizeof(struct ext4_dx_entry) + 4);
    if (want != have) {
        ext4_err(fs, "directory inode %u index block %u checksum mismatch", dir->ino, lblk);
        return -EFSBADCRC;
    }
    return 0;
}

void ext4_dx_csum_set(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, uint8_t *blk)
{
    if (!fs->csum)
        return;
    uint32_t off = ext4_dx_count_offset(fs, dir, lblk, blk);
    struct ext4_dx_countlimit *cl = (struct ext4_dx_countlimit *)(blk + off);
    uint8_t *tail = blk + off + cl->limit * sizeof(struct ext4_dx_entry);
    put_le32(tail, 0);
    put_le32(tail + 4, dx_csum(dir, blk, off, cl->count, cl->limit));
}

int ext4_dx_hash_version(const struct ext4_fs *fs, uint8_t stored)
{
    int v = stored;
    if (v <= EXT4_HASH_TEA && fs->dx_unsigned)
        v += 3;
    return v;
}

/* Check an index block's header; *entries points at its dx_entry array. */
static int dx_node_header(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, const uint8_t *blk,
                          uint32_t *count_off, uint32_t *count)
{
    uint32_t off = ext4_dx_count_offset(fs, dir, lblk, blk);
    if (!off)
        return -EAGAIN;
    const struct ext4_dx_countlimit *cl = (const struct ext4_dx_countlimit *)(blk + off);
    if (cl->limit != dx_limit(fs, off) || cl->count == 0 || cl->count > cl->limit)
        return -EAGAIN;
    *count_off = off;
    *count = cl->count;
    return 0;
}

/* The entry of a node whose range holds hash: the last with entry.hash <= hash. */
static uint32_t dx_search(const struct ext4_dx_entry *e, uint32_t count, uint32_t hash)
{
    uint32_t lo = 1, hi = count; /* entry 0 has no hash: it takes everything below entry 1 */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (e[mid].hash <= hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* Read index block lblk and choose the child for path->hash at level lv. */
static int dx_step(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path, unsigned lv,
                   uint32_t lblk, bool first, uint32_t *child)
{
    struct ext4_buf *b;
    int err = ext4_dir_read_block(fs, dir, lblk, &b);
    if (err)
        return err == -ENOMEM ? err : -EAGAIN;
    uint32_t off, count;
    err = dx_node_header(fs, dir, lblk, b->data, &off, &count);
    if (!err) {
        const struct ext4_dx_entry *e = (const struct ext4_dx_entry *)(b->data + off);
        uint32_t at = path->levels[lv].at = first ? 0 : dx_search(e, count, path->hash);
        path->levels[lv].lblk = lblk;
        path->levels[lv].count = count;
        path->levels[lv].count_off = off;
        *child = e[at].block;
        if (*child >= (dir->size >> fs->log_block_size) || *child == 0)
            err = -EAGAIN;
    }
    ext4_brelse(fs, b);
    return err;
}

static int dx_root(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path)
{
    struct ext4_buf *b;
    int err = ext4_dir_read_block(fs, dir, 0, &b);
    if (err)
        return err == -ENOMEM ? err : -EAGAIN;
    const struct ext4_dx_root_info *info = (const struct ext4_dx_root_info *)(b->data + EXT4_DX_INFO_OFFSET);
    unsigned max_levels = ext4_has_incompat(fs, EXT4_INCOMPAT_LARGEDIR) ? 3 : 2;
    err = 0;
    if (info->reserved_zero || info->info_length != 8 || info->hash_version > EXT4_HASH_TEA_UNSIGNED ||
        info->indirect_levels >= max_levels)
        err = -EAGAIN;
    path->depth = info->indirect_levels + 1u;
    path->version = ext4_dx_hash_version(fs, info->hash_version);
    ext4_brelse(fs, b);
    return err;
}

static void dx_warn(struct ext4_fs *fs, struct ext4_inode *dir)
{
    ext4_warn(fs, "directory inode %u has a damaged hash index; searching it linearly", dir->ino);
}

int ext4_dx_find_leaf(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                      uint32_t *lblk, struct ext4_dx_path **out)
{
    struct ext4_dx_path *path = kzalloc(sizeof(*path));
    if (!path)
        return -ENOMEM;
    int err = dx_root(fs, dir, path);
    if (!err) {
        uint32_t minor;
        ext4_dx_hash(path->version, fs->hash_seed, name, len, &path->hash, &minor);
        uint32_t node = 0;
        for (unsigned lv = 0; lv < path->depth && !err; lv++)
            err = dx_step(fs, dir, path, lv, node, false, &node);
        *lblk = node;
    }
    if (err) {
        if (err == -EAGAIN)
            dx_warn(fs, dir);
        kfree(path);
        return err;
    }
    *out = path;
    return 0;
}

/* Entry `at` of the index block at level lv (re-read from the cache). */
static int dx_entry_at(struct ext4_fs *fs, struct ext4_inode *dir, const struct ext4_dx_path *path,
                       unsigned lv, uint32_t at, struct ext4_dx_entry *out)
{
    struct ext4_buf *b;
    int err = ext4_dir_read_block(fs, dir, path->levels[lv].lblk, &b);
    if (err)
        return err;
    memcpy(out, b->data + path->levels[lv].count_off + at * sizeof(*out), sizeof(*out));
    ext4_brelse(fs, b);
    return 0;
}

int ext4_dx_next_leaf(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path, uint32_t *lblk)
{
    int lv = (int)path->depth - 1;
    while (lv >= 0 && path->levels[lv].at + 1 >= path->levels[lv].count)
        lv--;
    if (lv < 0)
        return -ENOENT;
    struct ext4_dx_entry e;
    int err = dx_entry_at(fs, dir, path, (unsigned)lv, path->levels[lv].at + 1, &e);
    if (err)
        return err;
    if ((e.hash & ~1u) != path->hash) /* the next range holds other hashes */
        return -ENOENT;
    path->levels[lv].at++;
    uint32_t node = e.block;
    for (unsigned k = (unsigned)lv + 1; k < path->depth; k++) {
        /* below the step, follow the first entry of each node */
        err = dx_step(fs, dir, path, k, node, true, &node);
        if (err)
            return err == -EAGAIN ? -ENOENT : err;
    }
    if (node >= (dir->size >> fs->log_block_size))
        return -ENOENT;
    *lblk = node;
    return 0;
}

void ext4_dx_path_free(struct ext4_dx_path *path)
{
    kfree(path);
}
