/* File data: mapping file blocks (extents, block maps or inline data),
 * reading with holes and uninitialized extents as zeros, symlink targets,
 * and the write side: allocating blocks, writing, zeroing and truncating. */
#include "ext4_internal.h"

int ext4_map_block(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t max,
                   struct ext4_map *m)
{
    if (ei->flags & EXT4_INLINE_DATA_FL)
        return -EINVAL;
    int err = ext4_inode_uses_extents(ei) ? ext4_extent_map(fs, ei, lblk, m) : ext4_ind_map(fs, ei, lblk, m);
    if (!err && m->len > max)
        m->len = max;
    return err;
}

/* Read n blocks of a mapping into buf (zeros for holes and uninitialized runs). */
static int read_run(struct ext4_fs *fs, const struct ext4_map *m, uint32_t n, uint8_t *buf)
{
    if (!m->pblk || m->uninit) {
        memset(buf, 0, (size_t)n << fs->log_block_size);
        return 0;
    }
    return ext4_dev_read_blocks(fs, m->pblk, n, buf);
}

ssize_t ext4_file_read(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, void *buf, size_t len)
{
    if (off >= ei->size || !len)
        return 0;
    len = (size_t)MIN((uint64_t)len, ei->size - off);
    if (ei->flags & EXT4_INLINE_DATA_FL)
        return ext4_inline_read(fs, ei, off, buf, len);
    uint8_t *out = buf, *bounce = NULL;
    size_t done = 0;
    uint32_t bs = fs->block_size;
    int err = 0;
    while (done < len) {
        uint64_t pos = off + done;
        uint32_t lblk = (uint32_t)(pos >> fs->log_block_size), in = (uint32_t)(pos & (bs - 1));
        size_t want_blocks = (len - done + in + bs - 1) >> fs->log_block_size;
        struct ext4_map m;
        if (pos >> fs->log_block_size > EXT4_MAX_FILE_BLOCKS) {
            m = (struct ext4_map){ 0, UINT32_MAX, false };
        } else if ((err = ext4_map_block(fs, ei, lblk, (uint32_t)MIN(want_blocks, (size_t)UINT32_MAX), &m)) != 0) {
            break;
        }
        if (in == 0 && len - done >= bs) { /* whole blocks straight into the caller's buffer */
            uint32_t n = (uint32_t)MIN((size_t)m.len, (len - done) >> fs->log_block_size);
            if ((err = read_run(fs, &m, n, out + done)) != 0)
                break;
            done += (size_t)n << fs->log_block_size;
            continue;
        }
        if (!bounce && !(bounce = kmalloc(bs))) {
            err = -ENOMEM;
            break;
        }
        if ((err = read_run(fs, &m, 1, bounce)) != 0)
            break;
        size_t chunk = MIN((size_t)(bs - in), len - done);
        memcpy(out + done, bounce + in, chunk);
        done += chunk;
    }
    kfree(bounce);
    if (err && !done)
        return err;
    return (ssize_t)done;
}

ssize_t ext4_readlink(struct ext4_fs *fs, struct ext4_inode *ei, char *buf, size_t size)
{
    if (!EXT4_ISLNK(ei->mode))
        return -EINVAL;
    if (ei->size == 0 || ei->size >= 4096) {
        ext4_err(fs, "symlink inode %u has a bad length %lu", ei->ino, (unsigned long)ei->size);
        return -EFSCORRUPTED;
    }
    size_t len = (size_t)ei->size;
    /* A fast symlink keeps its target in i_block and owns no block (an
     * extended attribute block aside). */
    uint64_t ea_units = ei->file_acl ? fs->block_size >> 9 : 0;
    bool fast = !(ei->flags & EXT4_INLINE_DATA_FL) && ei->blocks == ea_units;
    if (fast) {
        if (len >= sizeof(ei->block)) {
            ext4_err(fs, "symlink inode %u: %lu bytes cannot be a fast symlink", ei->ino, (unsigned long)len);
            return -EFSCORRUPTED;
        }
        memcpy(buf, ei->block, MIN(len, size));
        return (ssize_t)MIN(len, size);
    }
    char *tmp = kmalloc(len);
    if (!tmp)
        return -ENOMEM;
    ssize_t n = ext4_file_read(fs, ei, 0, tmp, len);
    if (n >= 0 && (size_t)n != len)
        n = -EFSCORRUPTED;
    if (n > 0) {
        n = (ssize_t)MIN((size_t)n, size);
        memcpy(buf, tmp, (size_t)n);
    }
    kfree(tmp);
    return n;
}

/* ---- the write side ---- */

int ext4_write_zero_blocks(struct ext4_fs *fs, uint64_t pblk, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int err = ext4_dev_write_blocks(fs, pblk + i, 1, fs->zero_block);
        if (err)
            return err;
    }
    return 0;
}

/* How many file blocks the inode's mapping can address. */
static uint64_t max_file_blocks(const struct ext4_fs *fs, const struct ext4_inode *ei)
{
    if (ext4_inode_uses_extents(ei))
        return EXT4_MAX_FILE_BLOCKS + 1;
    uint64_t per = fs->block_size / 4;
    return MIN(12 + per + per * per + per * per * per, EXT4_MAX_FILE_BLOCKS + 1);
}

static int writable(struct ext4_fs *fs, const struct ext4_inode *ei)
{
    if (fs->read_only)
        return -EROFS;
    if (ei->flags & (EXT4_INLINE_DATA_FL | EXT4_ENCRYPT_FL | EXT4_VERITY_FL))
        return -EOPNOTSUPP;
    if (ei->flags & (EXT4_IMMUTABLE_FL))
        return -EPERM;
    return 0;
}

/* Map new blocks into a hole starting at lblk: up to n, one contiguous run. */
static int alloc_run(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint32_t n, bool uninit,
                     uint32_t *got, uint64_t *pblk)
{
    if (ext4_inode_uses_extents(ei))
        return ext4_extent_alloc(fs, ei, lblk, n, uninit, got, pblk);
    if (uninit)
        return -EOPNOTSUPP;
    return ext4_ind_alloc(fs, ei, lblk, n, got, pblk);
}

int ext4_bmap_alloc(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint64_t *pblk, bool *fresh)
{
    struct ext4_map m;
    int err = ext4_map_block(fs, ei, lblk, 1, &m);
    if (err)
        return err;
    *fresh = false;
    if (m.pblk && !m.uninit) {
        *pblk = m.pblk;
        return 0;
    }
    if (m.pblk) { /* unwritten: it becomes written, its contents are the caller's */
        err = ext4_extent_mark_init(fs, ei, lblk, 1);
        *pblk = m.pblk;
        *fresh = true;
        return err < 0 ? err : 0;
    }
    uint32_t got;
    err = alloc_run(fs, ei, lblk, 1, false, &got, pblk);
    *fresh = true;
    return err;
}

ssize_t ext4_file_write_blocks(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, const void *buf,
                               size_t len)
{
    int err = writable(fs, ei);
    if (err)
        return err;
    if ((off | len) & (fs->block_size - 1))
        return -EINVAL;
    uint64_t first = off >> fs->log_block_size, n = len >> fs->log_block_size;
    if (first + n > max_file_blocks(fs, ei))
        return -EFBIG;
    const uint8_t *src = buf;
    for (uint64_t done = 0; done < n && !err;) {
        uint32_t lblk = (uint32_t)(first + done), want = (uint32_t)MIN(n - done, (uint64_t)UINT32_MAX);
        struct ext4_map m;
        if ((err = ext4_map_block(fs, ei, lblk, want, &m)) != 0)
            break;
        uint32_t cnt = MIN(m.len, want);
        uint64_t pblk = m.pblk;
        if (!pblk) {
            err = alloc_run(fs, ei, lblk, cnt, false, &cnt, &pblk);
        } else if (m.uninit) {
            int conv = ext4_extent_mark_init(fs, ei, lblk, cnt);
            err = conv < 0 ? conv : 0;
            cnt = conv > 0 ? (uint32_t)conv : cnt;
        }
        /* the data goes out now; the metadata that points at it follows at the commit */
        if (!err)
            err = ext4_dev_write_blocks(fs, pblk, cnt, src + (done << fs->log_block_size));
        done += cnt;
    }
    int e2 = ext4_inode_write(fs, ei);
    return err ? err : e2 ? e2 : (ssize_t)len;
}

static void note_large_file(struct ext4_fs *fs, const struct ext4_inode *ei)
{
    if (ei->size > 0x7FFFFFFFu && EXT4_ISREG(ei->mode) && !ext4_has_ro_compat(fs, EXT4_RO_COMPAT_LARGE_FILE)) {
        fs->ro_compat |= EXT4_RO_COMPAT_LARGE_FILE;
        fs->sb.feature_ro_compat |= EXT4_RO_COMPAT_LARGE_FILE;
        fs->sb_dirty = true;
    }
}

int ext4_file_set_size(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t size)
{
    ei->size = size;
    note_large_file(fs, ei);
    return ext4_inode_write(fs, ei);
}

/* Read the block at lblk (zeros for a hole or unwritten extent). */
static int read_block(struct ext4_fs *fs, struct ext4_inode *ei, uint32_t lblk, uint8_t *buf)
{
    struct ext4_map m;
    int err = ext4_map_block(fs, ei, lblk, 1, &m);
    if (err)
        return err;
    if (!m.pblk || m.uninit) {
        memset(buf, 0, fs->block_size);
        return 0;
    }
    return ext4_dev_read_blocks(fs, m.pblk, 1, buf);
}

ssize_t ext4_file_write(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, const void *buf, size_t len)
{
    int err = writable(fs, ei);
    if (err)
        return err;
    uint32_t bs = fs->block_size;
    uint8_t *bounce = NULL;
    const uint8_t *src = buf;
    size_t done = 0;
    while (done < len && !err) {
        uint64_t pos = off + done;
        uint32_t in = (uint32_t)(pos & (bs - 1));
        if (in == 0 && len - done >= bs) { /* whole blocks straight from the caller */
            size_t n = ALIGN_DOWN(len - done, (size_t)bs);
            ssize_t w = ext4_file_write_blocks(fs, ei, pos, src + done, n);
            if (w < 0)
                err = (int)w;
            else
                done += n;
            continue;
        }
        if (!bounce && !(bounce = kmalloc(bs))) {
            err = -ENOMEM;
            break;
        }
        size_t chunk = MIN((size_t)(bs - in), len - done);
        uint64_t lblk = pos >> fs->log_block_size;
        if (lblk >= max_file_blocks(fs, ei)) {
            err = -EFBIG;
            break;
        }
        if ((err = read_block(fs, ei, (uint32_t)lblk, bounce)) != 0)
            break;
        memcpy(bounce + in, src + done, chunk);
        ssize_t w = ext4_file_write_blocks(fs, ei, lblk << fs->log_block_size, bounce, bs);
        if (w < 0)
            err = (int)w;
        else
            done += chunk;
    }
    kfree(bounce);
    if (done && off + done > ei->size)
        ext4_file_set_size(fs, ei, off + done);
    if (done)
        return (ssize_t)done;
    return err;
}

int ext4_truncate(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t size)
{
    int err = writable(fs, ei);
    if (err)
        return err;
    if (!EXT4_ISREG(ei->mode))
        return -EINVAL;
    if (size >> fs->log_block_size > max_file_blocks(fs, ei))
        return -EFBIG;
    if (size < ei->size) {
        uint64_t from = DIV_ROUND_UP(size, (uint64_t)fs->block_size);
        if (from <= EXT4_MAX_FILE_BLOCKS)
            err = ext4_inode_uses_extents(ei) ? ext4_extent_truncate(fs, ei, (uint32_t)from)
                                              : ext4_ind_truncate(fs, ei, (uint32_t)from);
        uint32_t tail = (uint32_t)(size & (fs->block_size - 1));
        if (!err && tail) { /* the cut part of the last block must read as zeros if the file grows again */
            uint8_t *b = kmalloc(fs->block_size);
            struct ext4_map m;
            if (!b)
                err = -ENOMEM;
            else if ((err = ext4_map_block(fs, ei, (uint32_t)(size >> fs->log_block_size), 1, &m)) == 0 &&
                     m.pblk && !m.uninit && (err = ext4_dev_read_blocks(fs, m.pblk, 1, b)) == 0) {
                memset(b + tail, 0, fs->block_size - tail);
                err = ext4_dev_write_blocks(fs, m.pblk, 1, b);
            }
            kfree(b);
        }
    }
    ei->size = size;
    note_large_file(fs, ei);
    ext4_inode_touch(fs, ei, true, true);
    int e2 = ext4_inode_write(fs, ei);
    return err ? err : e2;
}

int ext4_fallocate(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, uint64_t len, bool keep_size)
{
    int err = writable(fs, ei);
    if (err)
        return err;
    if (!ext4_inode_uses_extents(ei))
        return -EOPNOTSUPP;
    if (len == 0)
        return -EINVAL;
    uint64_t first = off >> fs->log_block_size, end = DIV_ROUND_UP(off + len, (uint64_t)fs->block_size);
    if (end > EXT4_MAX_FILE_BLOCKS + 1)
        return -EFBIG;
    for (uint64_t b = first; b < end && !err;) {
        struct ext4_map m;
        uint32_t want = (uint32_t)MIN(end - b, (uint64_t)UINT32_MAX);
        if ((err = ext4_map_block(fs, ei, (uint32_t)b, want, &m)) != 0)
            break;
        uint32_t cnt = MIN(m.len, want);
        if (!m.pblk) {
            uint64_t pblk;
            err = alloc_run(fs, ei, (uint32_t)b, cnt, true, &cnt, &pblk);
        }
        b += cnt;
    }
    if (!err && !keep_size && off + len > ei->size) {
        ei->size = off + len;
        note_large_file(fs, ei);
    }
    int e2 = ext4_inode_write(fs, ei);
    return err ? err : e2;
}

int ext4_seek_data(struct ext4_fs *fs, struct ext4_inode *ei, uint64_t off, bool data, uint64_t *out)
{
    if (ei->flags & EXT4_INLINE_DATA_FL) {
        *out = data ? off : ei->size;
        return 0;
    }
    uint64_t end = DIV_ROUND_UP(ei->size, (uint64_t)fs->block_size);
    for (uint64_t b = off >> fs->log_block_size; b < end;) {
        struct ext4_map m;
        int err = ext4_map_block(fs, ei, (uint32_t)b, (uint32_t)MIN(end - b, (uint64_t)UINT32_MAX), &m);
        if (err)
            return err;
        bool is_data = m.pblk && !m.uninit;
        if (is_data == data) {
            *out = MAX(off, b << fs->log_block_size);
            return 0;
        }
        b += m.len ? m.len : 1;
    }
    *out = ei->size;
    return 0;
}
