/* The extent tree, changing side: new extents for holes (merged with a
 * neighbour when contiguous), nodes split when full and the tree grown a
 * level when the root in the inode fills, unwritten extents turned written,
 * and truncation. Index keys always equal their child's first key, as
 * e2fsck requires. */
#include "ext4_extent.h"

struct xlevel {
    struct ext4_buf *b;          /* NULL: the root, in the inode */
    struct ext4_extent_header *h;
    int at;                      /* index levels: the entry followed; leaf: last entry <= key, or -1 */
};

struct xpath {
    unsigned depth;              /* levels 0 (root) .. depth (leaf) */
    bool root_dirty;
    struct xlevel lv[EXT4_EXT_MAX_DEPTH + 2];
};

static inline uint8_t *rec_at(struct ext4_extent_header *h, int i)
{
    return (uint8_t *)h + 12 + 12 * i;
}

static inline uint32_t key_at(struct ext4_extent_header *h, int i)
{
    return get_le32(rec_at(h, i));
}

/* Last entry whose key is <= k, or -1. */
static int node_search(struct ext4_extent_header *h, uint32_t k)
{
    int lo = 0, hi = (int)h->entries - 1, found = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (key_at(h, mid) <= k) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

static void path_release(struct ext4_fs *fs, struct xpath *p)
{
    for (unsigned l = 1; l <= p->depth; l++)
        ext4_brelse(fs, p->lv[l].b);
    memset(p, 0, sizeof(*p));
}

static int path_find(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t k, struct xpath *p)
{
    memset(p, 0, sizeof(*p));
    struct ext4_extent_header *h = (struct ext4_extent_header *)ei->block;
    p->depth = h->depth;
    for (unsigned l = 0;; l++) {
        p->lv[l].h = h;
        p->lv[l].at = node_search(h, k);
        if (l == p->depth)
            return 0;
        if (h->entries == 0) {
            ext4_err(fs, "inode %u has an empty extent index node", ei->ino);
            path_release(fs, p);
            return -EFSCORRUPTED;
        }
        if (p->lv[l].at < 0)
            p->lv[l].at = 0;
        struct ext4_extent_idx *ix = EXT4_EXT_FIRST_IDX(h) + p->lv[l].at;
        int err = ext4_ext_read_node(fs, ei, ext4_idx_pblk(ix), p->depth - l - 1, &p->lv[l + 1].b);
        if (err) {
            p->depth = l;
            path_release(fs, p);
            return err;
        }
        h = (struct ext4_extent_header *)p->lv[l + 1].b->data;
    }
}

static void level_dirty(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p, unsigned l)
{
    fs->map_changes++;
    if (p->lv[l].b) {
        ext4_ext_csum_set(fs, ei, p->lv[l].b->data);
        ext4_bdirty(fs, p->lv[l].b);
    } else {
        p->root_dirty = true;
    }
}

/* A level's first key changed: the parents' keys follow it. */
static void fix_keys(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p, unsigned l)
{
    while (l > 0) {
        uint32_t first = key_at(p->lv[l].h, 0);
        struct xlevel *up = &p->lv[l - 1];
        if (key_at(up->h, up->at) == first)
            return;
        put_le32(rec_at(up->h, up->at), first);
        level_dirty(fs, ei, p, l - 1);
        if (up->at != 0)
            return;
        l--;
    }
}

static int insert_pos(struct ext4_extent_header *h, uint32_t k)
{
    return node_search(h, k) + 1;
}

static void node_insert(struct ext4_extent_header *h, int pos, const void *rec)
{
    memmove(rec_at(h, pos + 1), rec_at(h, pos), (size_t)(h->entries - pos) * 12);
    memcpy(rec_at(h, pos), rec, 12);
    h->entries++;
}

/* A fresh tree node near the inode's data. */
static int new_node(struct ext4_fs *fs, struct ext4_inode *ei, uint16_t depth, struct ext4_buf **out,
                    uint64_t *pblk)
{
    uint32_t one = 1;
    int err = ext4_alloc_blocks(fs, ext4_block_goal(fs, ei, 0), &one, pblk);
    if (err)
        return err;
    if ((err = ext4_bget_new(fs, *pblk, out)) != 0) {
        ext4_free_blocks(fs, *pblk, 1);
        return err;
    }
    memset((*out)->data, 0, fs->block_size);
    struct ext4_extent_header *h = (struct ext4_extent_header *)(*out)->data;
    h->magic = EXT4_EXT_MAGIC;
    h->max = (uint16_t)EXT4_EXT_NODE_MAX(fs);
    h->depth = depth;
    (*out)->checked = true;
    ext4_inode_add_blocks(fs, ei, 1);
    return 0;
}

/* The root is full: its entries move to a new node below it. */
static int grow_root(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p)
{
    struct ext4_extent_header *root = p->lv[0].h;
    struct ext4_buf *nb;
    uint64_t pblk;
    if (p->depth + 1 > EXT4_EXT_MAX_DEPTH)
        return -EFBIG;
    int err = new_node(fs, ei, root->depth, &nb, &pblk);
    if (err)
        return err;
    struct ext4_extent_header *h = (struct ext4_extent_header *)nb->data;
    memcpy(rec_at(h, 0), rec_at(root, 0), (size_t)root->entries * 12);
    h->entries = root->entries;
    struct ext4_extent_idx ix = { .block = key_at(h, 0) };
    ext4_idx_set_pblk(&ix, pblk);
    root->depth++;
    root->entries = 1;
    memcpy(rec_at(root, 0), &ix, 12);
    memmove(&p->lv[2], &p->lv[1], sizeof(p->lv[0]) * p->depth);
    p->lv[1] = (struct xlevel){ nb, h, p->lv[0].at };
    p->lv[0].at = 0;
    p->depth++;
    p->root_dirty = true;
    level_dirty(fs, ei, p, 1);
    return 0;
}

static int insert_rec(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p, unsigned l, const void *rec);

/* Split the full node at level l and insert rec into the right half. */
static int split_insert(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p, unsigned l, const void *rec)
{
    struct ext4_extent_header *h = p->lv[l].h;
    struct ext4_buf *nb;
    uint64_t pblk;
    int err = new_node(fs, ei, h->depth, &nb, &pblk);
    if (err)
        return err;
    struct ext4_extent_header *nh = (struct ext4_extent_header *)nb->data;
    uint32_t k = get_le32(rec);
    int pos = insert_pos(h, k);
    /* appending (sequential writes) leaves the old node full; otherwise halve it */
    int mid = pos == h->entries ? h->entries : h->entries / 2;
    memcpy(rec_at(nh, 0), rec_at(h, mid), (size_t)(h->entries - mid) * 12);
    nh->entries = (uint16_t)(h->entries - mid);
    h->entries = (uint16_t)mid;
    if (nh->entries == 0 || k >= key_at(nh, 0)) {
        node_insert(nh, insert_pos(nh, k), rec);
    } else {
        node_insert(h, pos, rec);
        level_dirty(fs, ei, p, l);
        if (pos == 0)
            fix_keys(fs, ei, p, l);
    }
    level_dirty(fs, ei, p, l);
    ext4_ext_csum_set(fs, ei, nb->data);
    ext4_bdirty(fs, nb);
    struct ext4_extent_idx ix = { .block = key_at(nh, 0) };
    ext4_idx_set_pblk(&ix, pblk);
    ext4_brelse(fs, nb);
    return insert_rec(fs, ei, p, l - 1, &ix);
}

static int insert_rec(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p, unsigned l, const void *rec)
{
    struct ext4_extent_header *h = p->lv[l].h;
    if (h->entries < h->max) {
        int pos = insert_pos(h, get_le32(rec));
        node_insert(h, pos, rec);
        level_dirty(fs, ei, p, l);
        if (pos == 0)
            fix_keys(fs, ei, p, l);
        return 0;
    }
    if (l == 0) {
        int err = grow_root(fs, ei, p);
        return err ? err : insert_rec(fs, ei, p, 1, rec);
    }
    return split_insert(fs, ei, p, l, rec);
}

static int insert_extent(struct ext4_fs *fs, struct ext4_inode *ei, const struct ext4_extent *ex)
{
    struct xpath p;
    int err = path_find(fs, ei, ex->block, &p);
    if (err)
        return err;
    err = insert_rec(fs, ei, &p, p.depth, ex);
    path_release(fs, &p);
    ei->map_valid = false;
    return err;
}

/* Grow a neighbour of the new run instead of adding an extent, when they touch. */
static bool try_merge(struct ext4_fs *fs, struct ext4_inode *ei, struct xpath *p, uint32_t lblk, uint32_t n,
                      uint64_t pblk, bool uninit)
{
    struct xlevel *leaf = &p->lv[p->depth];
    struct ext4_extent *ex = EXT4_EXT_FIRST(leaf->h);
    uint32_t max = uninit ? EXT4_EXT_UNINIT_MAX_LEN : EXT4_EXT_INIT_MAX_LEN;
    int at = leaf->at;
    if (at >= 0 && ext4_ext_is_uninit(&ex[at]) == uninit && ex[at].block + ext4_ext_len(&ex[at]) == lblk &&
        ext4_ext_pblk(&ex[at]) + ext4_ext_len(&ex[at]) == pblk && ext4_ext_len(&ex[at]) + n <= max) {
        ext4_ext_set_len(&ex[at], ext4_ext_len(&ex[at]) + n, uninit);
        level_dirty(fs, ei, p, p->depth);
        return true;
    }
    int nx = at + 1;
    if (nx < leaf->h->entries && ext4_ext_is_uninit(&ex[nx]) == uninit && ex[nx].block == lblk + n &&
        pblk + n == ext4_ext_pblk(&ex[nx]) && ext4_ext_len(&ex[nx]) + n <= max) {
        ex[nx].block = lblk;
        ext4_ext_set_pblk(&ex[nx], pblk);
        ext4_ext_set_len(&ex[nx], ext4_ext_len(&ex[nx]) + n, uninit);
        level_dirty(fs, ei, p, p->depth);
        if (nx == 0) {
            leaf->at = 0;
            fix_keys(fs, ei, p, p->depth);
        }
        return true;
    }
    return false;
}

int ext4_extent_alloc(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t len, bool uninit,
                      uint32_t *got, uint64_t *pblk)
{
    uint32_t count = MIN(len, uninit ? EXT4_EXT_UNINIT_MAX_LEN : EXT4_EXT_INIT_MAX_LEN);
    if (!count || (uint64_t)lblk + count > EXT4_MAX_FILE_BLOCKS + 1)
        return -EFBIG;
    int err = ext4_alloc_blocks(fs, ext4_block_goal(fs, ei, lblk), &count, pblk);
    if (err)
        return err;
    struct xpath p;
    if ((err = path_find(fs, ei, lblk, &p)) != 0) {
        ext4_free_blocks(fs, *pblk, count);
        return err;
    }
    if (!try_merge(fs, ei, &p, lblk, count, *pblk, uninit)) {
        struct ext4_extent ex = { .block = lblk };
        ext4_ext_set_len(&ex, count, uninit);
        ext4_ext_set_pblk(&ex, *pblk);
        err = insert_rec(fs, ei, &p, p.depth, &ex);
    }
    path_release(fs, &p);
    ei->map_valid = false;
    if (err) {
        ext4_free_blocks(fs, *pblk, count);
        return err;
    }
    ext4_inode_add_blocks(fs, ei, count);
    *got = count;
    return 0;
}

int ext4_extent_mark_init(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t len)
{
    struct xpath p;
    int err = path_find(fs, ei, lblk, &p);
    if (err)
        return err;
    struct xlevel *leaf = &p.lv[p.depth];
    struct ext4_extent *ex = leaf->at >= 0 ? EXT4_EXT_FIRST(leaf->h) + leaf->at : NULL;
    if (!ex || !ext4_ext_is_uninit(ex) || lblk >= ex->block + ext4_ext_len(ex)) {
        path_release(fs, &p);
        return -EFSCORRUPTED;
    }
    uint32_t es = ex->block, el = ext4_ext_len(ex), ee = es + el;
    uint64_t ep = ext4_ext_pblk(ex);
    uint32_t end = (uint32_t)MIN((uint64_t)lblk + len, (uint64_t)ee);
    struct ext4_extent pieces[2];
    int n = 0;
    if (lblk == es) {
        ext4_ext_set_len(ex, end - es, false);
    } else {
        ext4_ext_set_len(ex, lblk - es, true); /* the unwritten head stays */
        pieces[n] = (struct ext4_extent){ .block = lblk };
        ext4_ext_set_len(&pieces[n], end - lblk, false);
        ext4_ext_set_pblk(&pieces[n++], ep + (lblk - es));
    }
    if (end < ee) {
        pieces[n] = (struct ext4_extent){ .block = end };
        ext4_ext_set_len(&pieces[n], ee - end, true);
        ext4_ext_set_pblk(&pieces[n++], ep + (end - es));
    }
    level_dirty(fs, ei, &p, p.depth);
    path_release(fs, &p);
    ei->map_valid = false;
    for (int i = 0; i < n && !err; i++)
        err = insert_extent(fs, ei, &pieces[i]);
    return err ? err : (int)(end - lblk);
}

/* ---- truncation ---- */

static int free_run(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t pblk, uint64_t n)
{
    int err = ext4_free_blocks(fs, pblk, n);
    if (!err)
        ext4_inode_add_blocks(fs, ei, -(int64_t)n);
    return err;
}

static int trunc_leaf(struct ext4_fs *fs, struct ext4_inode *ei, struct ext4_extent_header *h, uint32_t from,
                      bool *changed)
{
    while (h->entries > 0) {
        struct ext4_extent *ex = EXT4_EXT_FIRST(h) + h->entries - 1;
        uint32_t len = ext4_ext_len(ex);
        int err = 0;
        if (ex->block >= from) {
            err = free_run(fs, ei, ext4_ext_pblk(ex), len);
            h->entries--;
        } else if (ex->block + len > from) {
            uint32_t keep = from - ex->block;
            err = free_run(fs, ei, ext4_ext_pblk(ex) + keep, len - keep);
            ext4_ext_set_len(ex, keep, ext4_ext_is_uninit(ex));
        } else {
            return 0;
        }
        *changed = true;
        if (err)
            return err;
    }
    return 0;
}

static int trunc_node(struct ext4_fs *fs, struct ext4_inode *ei, struct ext4_extent_header *h, uint32_t from,
                      bool *changed)
{
    if (h->depth == 0)
        return trunc_leaf(fs, ei, h, from, changed);
    while (h->entries > 0) {
        struct ext4_extent_idx *ix = EXT4_EXT_FIRST_IDX(h) + h->entries - 1;
        uint64_t child = ext4_idx_pblk(ix);
        uint32_t key = ix->block;
        struct ext4_buf *b;
        int err = ext4_ext_read_node(fs, ei, child, h->depth - 1u, &b);
        if (err)
            return err;
        bool child_changed = false;
        struct ext4_extent_header *ch = (struct ext4_extent_header *)b->data;
        err = trunc_node(fs, ei, ch, from, &child_changed);
        bool empty = ch->entries == 0;
        if (child_changed && !empty) {
            ext4_ext_csum_set(fs, ei, b->data);
            ext4_bdirty(fs, b);
        }
        ext4_brelse(fs, b);
        if (err)
            return err;
        if (empty) {
            h->entries--;
            *changed = true;
            if ((err = free_run(fs, ei, child, 1)) != 0)
                return err;
        }
        if (key < from)
            return 0; /* the nodes before this one hold only earlier blocks */
    }
    return 0;
}

int ext4_extent_truncate(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t from)
{
    struct ext4_extent_header *root = (struct ext4_extent_header *)ei->block;
    bool changed = false;
    int err = trunc_node(fs, ei, root, from, &changed);
    if (root->entries == 0 && root->depth > 0)
        root->depth = 0; /* an empty tree is an empty leaf */
    ei->map_valid = false;
    return err;
}
