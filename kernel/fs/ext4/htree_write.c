/* Hash-indexed directories, changing side: insertion into the leaf a name
 * hashes to, splitting a full leaf in hash order (with the collision bit when
 * equal hashes straddle the split), growing the index by a level or
 * splitting an interior node, and turning an index back into a plain
 * directory when it can grow no more. */
#include "ext4_htree.h"

struct dx_ent {
    const struct ext4_dirent *d;
    uint32_t hash;
};

static uint32_t node_limit(const struct ext4_fs *fs, uint32_t count_off)
{
    return (fs->block_size - count_off - (fs->csum ? EXT4_DX_TAIL_SIZE : 0)) / sizeof(struct ext4_dx_entry);
}

static struct ext4_dx_countlimit *countlimit(uint8_t *blk, uint32_t off)
{
    return (struct ext4_dx_countlimit *)(blk + off);
}

static struct ext4_dx_entry *entries(uint8_t *blk, uint32_t off)
{
    return (struct ext4_dx_entry *)(blk + off);
}

/* Insert (hash, block) after position `at` of the index block. */
static void index_insert(uint8_t *blk, uint32_t off, uint32_t at, uint32_t hash, uint32_t lblk)
{
    struct ext4_dx_countlimit *cl = countlimit(blk, off);
    struct ext4_dx_entry *e = entries(blk, off);
    memmove(&e[at + 2], &e[at + 1], (cl->count - at - 1) * sizeof(*e));
    e[at + 1].hash = hash;
    e[at + 1].block = lblk;
    cl->count++;
}

/* An interior node holding n entries (the first one's hash is the count/limit). */
static void node_init(struct ext4_fs *fs, uint8_t *blk, const struct ext4_dx_entry *src, uint32_t n)
{
    memset(blk, 0, fs->block_size);
    struct ext4_dirent *fake = (struct ext4_dirent *)blk;
    fake->rec_len = ext4_rec_len_encode(fs, fs->block_size);
    struct ext4_dx_entry *e = entries(blk, EXT4_DX_NODE_COUNT_OFFSET);
    memcpy(e, src, n * sizeof(*e));
    struct ext4_dx_countlimit *cl = countlimit(blk, EXT4_DX_NODE_COUNT_OFFSET);
    cl->limit = (uint16_t)node_limit(fs, EXT4_DX_NODE_COUNT_OFFSET);
    cl->count = (uint16_t)n;
}

/* A new directory block for the index or a leaf. */
static int dx_new_block(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t *lblk, struct ext4_buf **b)
{
    return ext4_dir_append_block(fs, dir, lblk, b);
}

static void index_dirty(struct ext4_fs *fs, struct ext4_inode *dir, uint32_t lblk, struct ext4_buf *b)
{
    ext4_dx_csum_set(fs, dir, lblk, b->data);
    b->checked = true;
    ext4_bdirty(fs, b);
}

/* The root is full and the tree one level deep: its entries move to a new
 * interior node, the root points at that node alone. */
static int add_level(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path)
{
    struct ext4_buf *root, *nb;
    uint32_t nl;
    int err = dx_new_block(fs, dir, &nl, &nb);
    if (err)
        return err;
    if ((err = ext4_dir_read_block(fs, dir, 0, &root)) != 0) {
        ext4_brelse(fs, nb);
        return err;
    }
    uint32_t off = path->levels[0].count_off;
    struct ext4_dx_countlimit *cl = countlimit(root->data, off);
    node_init(fs, nb->data, entries(root->data, off), cl->count);
    countlimit(nb->data, EXT4_DX_NODE_COUNT_OFFSET)->limit = (uint16_t)node_limit(fs, EXT4_DX_NODE_COUNT_OFFSET);
    uint32_t moved = cl->count;
    cl->count = 1;
    entries(root->data, off)[0].block = nl;
    ((struct ext4_dx_root_info *)(root->data + EXT4_DX_INFO_OFFSET))->indirect_levels = 1;
    index_dirty(fs, dir, nl, nb);
    index_dirty(fs, dir, 0, root);
    ext4_brelse(fs, nb);
    ext4_brelse(fs, root);
    path->levels[1] = path->levels[0];
    path->levels[1].lblk = nl;
    path->levels[1].count = moved;
    path->levels[1].count_off = EXT4_DX_NODE_COUNT_OFFSET;
    path->levels[0].at = 0;
    path->levels[0].count = 1;
    path->depth = 2;
    return 0;
}

/* A full interior node (level 1) splits in two; the root gets an entry. */
static int split_node(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path)
{
    struct ext4_buf *root = NULL, *node = NULL, *nb;
    uint32_t nl, ol = path->levels[1].lblk;
    int err = dx_new_block(fs, dir, &nl, &nb);
    if (err)
        return err;
    if ((err = ext4_dir_read_block(fs, dir, ol, &node)) == 0)
        err = ext4_dir_read_block(fs, dir, 0, &root);
    if (!err) {
        struct ext4_dx_countlimit *cl = countlimit(node->data, EXT4_DX_NODE_COUNT_OFFSET);
        struct ext4_dx_entry *e = entries(node->data, EXT4_DX_NODE_COUNT_OFFSET);
        uint32_t half = cl->count / 2, n2 = cl->count - half;
        index_insert(root->data, path->levels[0].count_off, path->levels[0].at, e[half].hash, nl);
        node_init(fs, nb->data, &e[half], n2);
        cl->count = (uint16_t)half;
        path->levels[0].count++;
        if (path->levels[1].at >= half) { /* the leaf's entry moved to the new node */
            path->levels[1].at -= half;
            path->levels[1].lblk = nl;
            path->levels[1].count = n2;
            path->levels[0].at++;
        } else {
            path->levels[1].count = half;
        }
        index_dirty(fs, dir, 0, root);
        index_dirty(fs, dir, ol, node);
        index_dirty(fs, dir, nl, nb);
    }
    ext4_brelse(fs, root);
    ext4_brelse(fs, node);
    ext4_brelse(fs, nb);
    return err;
}

/* Room for one more entry in the lowest index node, growing the index if it must. */
static int index_room(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path)
{
    unsigned low = path->depth - 1;
    if (path->levels[low].count < node_limit(fs, path->levels[low].count_off))
        return 0;
    if (path->depth == 1)
        return add_level(fs, dir, path);
    if (path->depth == 2 && path->levels[0].count < node_limit(fs, path->levels[0].count_off))
        return split_node(fs, dir, path);
    return -EAGAIN; /* a third level (large_dir) is not built here */
}

static void sort_by_hash(struct dx_ent *v, uint32_t n)
{
    for (uint32_t gap = n / 2; gap > 0; gap /= 2) /* shell sort: no recursion, no allocation */
        for (uint32_t i = gap; i < n; i++)
            for (uint32_t j = i; j >= gap && v[j - gap].hash > v[j].hash; j -= gap) {
                struct dx_ent t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
}

static int put_entry(struct ext4_fs *fs, uint8_t *blk, const struct ext4_dirent *d)
{
    return ext4_dirent_insert(fs, blk, ext4_dir_usable(fs), d->name, ext4_dirent_name_len(fs, d), d->inode,
                              d->file_type);
}

/* Move the upper half (in hash order) of the full leaf `old` to the empty
 * leaf `nw`: the hash the new leaf starts at, with the collision bit when
 * equal hashes end up on both sides. */
static int split_leaf(struct ext4_fs *fs, int version, uint8_t *old, uint8_t *nw, uint32_t *split)
{
    uint8_t *copy = kmalloc(fs->block_size);
    struct dx_ent *v = kmalloc(fs->block_size / 12 * sizeof(*v));
    if (!copy || !v) {
        kfree(copy);
        kfree(v);
        return -ENOMEM;
    }
    memcpy(copy, old, fs->block_size);
    uint32_t n = 0;
    for (uint32_t off = 0; off < ext4_dir_usable(fs);) {
        const struct ext4_dirent *d = (const struct ext4_dirent *)(copy + off);
        if (d->inode) {
            uint32_t minor;
            v[n].d = d;
            ext4_dx_hash(version, fs->hash_seed, d->name, ext4_dirent_name_len(fs, d), &v[n].hash, &minor);
            n++;
        }
        off += ext4_rec_len_decode(fs, d->rec_len);
    }
    sort_by_hash(v, n);
    uint32_t s = n / 2;
    *split = n ? v[s].hash | (s > 0 && v[s - 1].hash == v[s].hash ? 1u : 0u) : 0;
    ext4_dir_init_leaf(fs, old);
    ext4_dir_init_leaf(fs, nw);
    int err = 0;
    for (uint32_t i = 0; i < n && !err; i++)
        err = put_entry(fs, i < s ? old : nw, v[i].d);
    kfree(copy);
    kfree(v);
    return err;
}

static int add_after_split(struct ext4_fs *fs, struct ext4_inode *dir, struct ext4_dx_path *path,
                           struct ext4_buf *leaf, uint32_t leaf_lblk, const char *name, size_t len, uint32_t ino,
                           uint8_t ftype)
{
    uint32_t nl, split;
    struct ext4_buf *nb, *ib;
    int err = dx_new_block(fs, dir, &nl, &nb);
    if (err)
        return err;
    unsigned low = path->depth - 1;
    if ((err = ext4_dir_read_block(fs, dir, path->levels[low].lblk, &ib)) != 0) {
        ext4_brelse(fs, nb);
        return err;
    }
    if ((err = split_leaf(fs, path->version, leaf->data, nb->data, &split)) == 0) {
        index_insert(ib->data, path->levels[low].count_off, path->levels[low].at, split, nl);
        index_dirty(fs, dir, path->levels[low].lblk, ib);
        bool upper = path->hash >= split;
        err = ext4_dirent_insert(fs, upper ? nb->data : leaf->data, ext4_dir_usable(fs), name, len, ino, ftype);
        if (err == -ENOSPC)
            err = -EAGAIN;
    }
    ext4_dir_block_changed(fs, dir, leaf_lblk, leaf);
    ext4_dir_block_changed(fs, dir, nl, nb);
    ext4_brelse(fs, ib);
    ext4_brelse(fs, nb);
    return err;
}

int ext4_dx_add(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len, uint32_t ino,
                uint8_t ftype)
{
    struct ext4_dx_path *path;
    uint32_t lblk;
    int err = ext4_dx_find_leaf(fs, dir, name, len, &lblk, &path);
    if (err)
        return err == -ENOMEM ? err : -EAGAIN;
    struct ext4_buf *b;
    if ((err = ext4_dir_read_block(fs, dir, lblk, &b)) != 0) {
        ext4_dx_path_free(path);
        return err;
    }
    if (ext4_dirent_insert(fs, b->data, ext4_dir_usable(fs), name, len, ino, ftype) == 0) {
        ext4_dir_block_changed(fs, dir, lblk, b);
    } else if ((err = index_room(fs, dir, path)) == 0) {
        err = add_after_split(fs, dir, path, b, lblk, name, len, ino, ftype);
    }
    ext4_brelse(fs, b);
    ext4_dx_path_free(path);
    return err;
}

int ext4_dx_unindex(struct ext4_fs *fs, struct ext4_inode *dir)
{
    uint32_t n = (uint32_t)(dir->size >> fs->log_block_size);
    for (uint32_t lblk = 0; lblk < n; lblk++) {
        struct ext4_buf *b;
        int err = ext4_dir_read_block(fs, dir, lblk, &b);
        if (err)
            return err;
        if (lblk == 0) { /* keep "." and "..": ".." takes the rest of the block */
            struct ext4_dirent *dotdot = (struct ext4_dirent *)(b->data + 12);
            dotdot->rec_len = ext4_rec_len_encode(fs, ext4_dir_usable(fs) - 12);
            memset(b->data + 24, 0, fs->block_size - 24);
            if (fs->csum)
                ext4_dir_set_tail(fs, b->data);
        } else if (ext4_dx_block_is_node(fs, dir, lblk, b->data)) {
            ext4_dir_init_leaf(fs, b->data);
        } else {
            ext4_brelse(fs, b);
            continue;
        }
        ext4_dir_csum_set(fs, dir, b->data);
        b->checked = true;
        ext4_bdirty(fs, b);
        ext4_brelse(fs, b);
    }
    dir->flags &= ~(uint32_t)EXT4_INDEX_FL;
    ext4_warn(fs, "directory inode %u is no longer indexed (e2fsck -fD rebuilds the index)", dir->ino);
    return ext4_inode_write(fs, dir);
}
