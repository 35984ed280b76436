/* inline_data: small files and directories kept inside the inode, in
 * i_block (60 bytes) continued in the "system.data" extended attribute of
 * the inode's extra space. Read only: such inodes are never changed here. */
#include "ext4_internal.h"

#define XATTR_MAGIC 0xEA020000u
#define XATTR_INDEX_SYSTEM 7
#define INLINE_DIR_POS 8 /* positions 0 and 1 are "." and ".." */

/* The value of system.data: a copy (kmalloc'd, may be NULL with *len 0). */
static int inline_xattr(struct ext4_fs *fs, struct ext4_inode *ei, uint8_t **val, size_t *len)
{
    *val = NULL;
    *len = 0;
    uint32_t start = EXT4_GOOD_OLD_INODE_SIZE + ei->extra_isize;
    if (start + 4 > fs->inode_size)
        return 0;
    struct ext4_buf *b;
    uint32_t off;
    int err = ext4_inode_raw(fs, ei->ino, &b, &off);
    if (err)
        return err;
    const uint8_t *raw = b->data + off, *first = raw + start + 4, *end = raw + fs->inode_size;
    err = 0;
    if (get_le32(raw + start) == XATTR_MAGIC) {
        for (const uint8_t *e = first; e + 16 <= end && get_le32(e) != 0;) {
            uint8_t nlen = e[0], index = e[1];
            uint16_t voff = get_le16(e + 2);
            uint32_t vinum = get_le32(e + 4), vsize = get_le32(e + 8);
            if (e + 16 + nlen > end) {
                err = -EFSCORRUPTED;
                break;
            }
            if (index == XATTR_INDEX_SYSTEM && nlen == 4 && memcmp(e + 16, "data", 4) == 0) {
                if (vinum || first + voff + vsize > end || first + voff < first) {
                    err = -EFSCORRUPTED;
                } else if (vsize) {
                    *val = kmalloc(vsize);
                    if (!*val)
                        err = -ENOMEM;
                    else {
                        memcpy(*val, first + voff, vsize);
                        *len = vsize;
                    }
                }
                break;
            }
            e += ALIGN_UP(16u + nlen, 4u);
        }
    }
    ext4_brelse(fs, b);
    if (err == -EFSCORRUPTED)
        ext4_err(fs, "inode %u has corrupt inline data attributes", ei->ino);
    return err;
}

/* The whole inline content: i_block then the attribute value. */
static int inline_content(struct ext4_fs *fs, struct ext4_inode *ei, uint8_t **out, size_t *len)
{
    uint8_t *val;
    size_t vlen;
    int err = inline_xattr(fs, ei, &val, &vlen);
    if (err)
        return err;
    uint8_t *all = kmalloc(sizeof(ei->block) + vlen);
    if (!all) {
        kfree(val);
        return -ENOMEM;
    }
    memcpy(all, ei->block, sizeof(ei->block));
    if (vlen)
        memcpy(all + sizeof(ei->block), val, vlen);
    kfree(val);
    *out = all;
    *len = sizeof(ei->block) + vlen;
    return 0;
}

ssize_t ext4_inline_read(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, void *buf, size_t len)
{
    uint8_t *all;
    size_t n;
    int err = inline_content(fs, ei, &all, &n);
    if (err)
        return err;
    if (ei->size > n) {
        ext4_err(fs, "inode %u: inline size %lu exceeds its %lu bytes of room", ei->ino,
                 (unsigned long)ei->size, (unsigned long)n);
        kfree(all);
        return -EFSCORRUPTED;
    }
    size_t got = off < n ? MIN(len, n - (size_t)off) : 0;
    memcpy(buf, all + off, got);
    kfree(all);
    return (ssize_t)got;
}

/* Directory entries live at [4, 60) of the content and in all of the value. */
static int inline_dir_regions(struct ext4_fs *fs, struct ext4_inode *dir, uint8_t **all, size_t *n)
{
    int err = inline_content(fs, dir, all, n);
    if (err)
        return err;
    const char *why = ext4_dir_check_entries(fs, *all + 4, sizeof(dir->block) - 4);
    if (!why && *n > sizeof(dir->block))
        why = ext4_dir_check_entries(fs, *all + sizeof(dir->block), (uint32_t)(*n - sizeof(dir->block)));
    if (!why && get_le32(*all) > fs->inodes_count)
        why = "a bad parent";
    if (why) {
        ext4_err(fs, "inline directory inode %u is corrupt: %s", dir->ino, why);
        kfree(*all);
        return -EFSCORRUPTED;
    }
    return 0;
}

/* Call fn on each entry with its position; stop when it returns true. */
static bool inline_walk(struct ext4_fs *fs, const uint8_t *all, size_t n,
                        bool (*fn)(void *arg, const struct ext4_dirent *d, uint64_t pos, uint64_t next), void *arg)
{
    size_t starts[2] = { 4, sizeof(((struct ext4_inode *)0)->block) }, ends[2] = { starts[1], n };
    for (int r = 0; r < 2; r++) {
        for (size_t off = starts[r]; off < ends[r];) {
            const struct ext4_dirent *d = (const struct ext4_dirent *)(all + off);
            size_t rl = ext4_rec_len_decode(fs, d->rec_len);
            if (d->inode && fn(arg, d, INLINE_DIR_POS + off, INLINE_DIR_POS + off + rl))
                return true;
            off += rl;
        }
    }
    return false;
}

struct inline_find {
    struct ext4_fs *fs;
    const char *name;
    size_t len;
    uint32_t ino;
    uint8_t ftype;
};

static bool find_fn(void *arg, const struct ext4_dirent *d, uint64_t pos, uint64_t next)
{
    struct inline_find *f = arg;
    (void)pos;
    (void)next;
    if (ext4_dirent_name_len(f->fs, d) != f->len || memcmp(d->name, f->name, f->len) != 0)
        return false;
    f->ino = d->inode;
    f->ftype = f->fs->has_filetype ? d->file_type : EXT4_FT_UNKNOWN;
    return true;
}

int ext4_inline_dir_lookup(struct ext4_fs *fs, struct ext4_inode *dir, const char *name, size_t len,
                           uint32_t *ino, uint8_t *ftype)
{
    uint8_t *all;
    size_t n;
    int err = inline_dir_regions(fs, dir, &all, &n);
    if (err)
        return err;
    struct inline_find f = { fs, name, len, 0, 0 };
    err = -ENOENT;
    if (len == 2 && name[0] == '.' && name[1] == '.') {
        f.ino = get_le32(all);
        f.ftype = EXT4_FT_DIR;
        err = 0;
    } else if (inline_walk(fs, all, n, find_fn, &f)) {
        err = 0;
    }
    kfree(all);
    if (!err) {
        *ino = f.ino;
        *ftype = f.ftype;
    }
    return err;
}

struct inline_iter {
    struct ext4_fs *fs;
    uint64_t *pos;
    ext4_dir_cb cb;
    void *arg;
};

static bool iter_fn(void *arg, const struct ext4_dirent *d, uint64_t pos, uint64_t next)
{
    struct inline_iter *it = arg;
    if (pos < *it->pos)
        return false;
    uint8_t ft = it->fs->has_filetype ? d->file_type : EXT4_FT_UNKNOWN;
    if (!it->cb(it->arg, d->name, ext4_dirent_name_len(it->fs, d), d->inode, ft, next)) {
        *it->pos = pos;
        return true;
    }
    *it->pos = next;
    return false;
}

int ext4_inline_dir_iterate(struct ext4_fs *fs, struct ext4_inode *dir, uint64_t *pos, ext4_dir_cb cb, void *arg)
{
    uint8_t *all;
    size_t n;
    int err = inline_dir_regions(fs, dir, &all, &n);
    if (err)
        return err;
    bool stopped = false;
    if (*pos == 0) {
        if (cb(arg, ".", 1, dir->ino, EXT4_FT_DIR, 1))
            *pos = 1;
        else
            stopped = true;
    }
    if (!stopped && *pos == 1) {
        if (cb(arg, "..", 2, get_le32(all), EXT4_FT_DIR, INLINE_DIR_POS))
            *pos = INLINE_DIR_POS;
        else
            stopped = true;
    }
    if (!stopped) {
        if (*pos < INLINE_DIR_POS)
            *pos = INLINE_DIR_POS;
        struct inline_iter it = { fs, pos, cb, arg };
        if (!inline_walk(fs, all, n, iter_fn, &it))
            *pos = INLINE_DIR_POS + n;
    }
    kfree(all);
    return 0;
}
