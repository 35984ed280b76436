/* Inodes: finding a record in its group's table, decoding it (128-byte and
 * large inodes, i_extra_isize, nanosecond and post-2038 timestamps, 48-bit
 * block counts, huge files), checking it (checksum, type, sizes, extent root)
 * and writing the fields the core owns back into the record. */
#include "ext4_internal.h"

#define INODE_CSUM_LO 0x7C
#define INODE_CSUM_HI 0x82

static int inode_locate(struct ext4_fs *fs, uint32_t ino, uint64_t *blk, uint32_t *off)
{
    if (ino == 0 || ino > fs->inodes_count) {
        ext4_err(fs, "inode number %u is out of range (1-%u)", ino, fs->inodes_count);
        return -EFSCORRUPTED;
    }
    uint32_t g = (ino - 1) / fs->inodes_per_group, idx = (ino - 1) % fs->inodes_per_group;
    uint64_t byte = (uint64_t)idx * fs->inode_size;
    *blk = ext4_gd_inode_table(fs, g) + (byte >> fs->log_block_size);
    *off = (uint32_t)(byte & (fs->block_size - 1));
    return 0;
}

/* Does the large inode field at [off, off+size) lie within i_extra_isize? */
static inline bool fits(uint16_t extra_isize, uint32_t off, uint32_t size)
{
    return off + size <= EXT4_GOOD_OLD_INODE_SIZE + (uint32_t)extra_isize;
}

static uint32_t inode_csum(const struct ext4_fs *fs, const uint8_t *raw, uint32_t seed, uint16_t extra)
{
    static const uint8_t zero[2];
    uint32_t c = ext4_crc32c(seed, raw, INODE_CSUM_LO);
    c = ext4_crc32c(c, zero, 2);
    c = ext4_crc32c(c, raw + INODE_CSUM_LO + 2, EXT4_GOOD_OLD_INODE_SIZE - INODE_CSUM_LO - 2);
    if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE) {
        uint32_t off = INODE_CSUM_HI;
        c = ext4_crc32c(c, raw + EXT4_GOOD_OLD_INODE_SIZE, off - EXT4_GOOD_OLD_INODE_SIZE);
        if (fits(extra, INODE_CSUM_HI, 2)) {
            c = ext4_crc32c(c, zero, 2);
            off += 2;
        }
        c = ext4_crc32c(c, raw + off, fs->inode_size - off);
    }
    return fits(extra, INODE_CSUM_HI, 2) ? c : c & 0xFFFF;
}

static struct ext4_time time_decode(uint32_t sec, uint32_t extra, bool has_extra)
{
    struct ext4_time t = { (int32_t)sec, 0 };
    if (has_extra) {
        t.sec += (int64_t)(extra & 3) << 32; /* epoch bits push the range past 2038 */
        t.nsec = extra >> 2;
        if (t.nsec >= 1000000000u)
            t.nsec = 0;
    }
    return t;
}

/* The extra word: epoch bits (how many 2^32 seconds past the signed 32-bit range) and nanoseconds. */
static uint32_t time_extra(struct ext4_time t)
{
    return (uint32_t)(((t.sec - (int32_t)(uint32_t)t.sec) >> 32) & 3) | t.nsec << 2;
}

static bool mode_valid(uint16_t mode)
{
    switch (mode & EXT4_S_IFMT) {
    case EXT4_S_IFREG: case EXT4_S_IFDIR: case EXT4_S_IFLNK: case EXT4_S_IFCHR:
    case EXT4_S_IFBLK: case EXT4_S_IFIFO: case EXT4_S_IFSOCK:
        return true;
    default:
        return false;
    }
}

static void inode_decode(struct ext4_fs *fs, const struct ext4_inode_disk *d, uint16_t extra,
                         struct ext4_inode *ei)
{
    ei->mode = d->mode;
    ei->uid = d->uid | (uint32_t)d->uid_high << 16;
    ei->gid = d->gid | (uint32_t)d->gid_high << 16;
    ei->links = d->links_count;
    ei->flags = d->flags;
    ei->generation = d->generation;
    ei->dtime = d->dtime;
    ei->size = d->size_lo | (uint64_t)d->size_high << 32;
    ei->file_acl = d->file_acl_lo | (fs->is64 ? (uint64_t)d->file_acl_high << 32 : 0);
    uint64_t blocks = d->blocks_lo;
    if (ext4_has_ro_compat(fs, EXT4_RO_COMPAT_HUGE_FILE)) {
        blocks |= (uint64_t)d->blocks_high << 32;
        if (d->flags & EXT4_HUGE_FILE_FL)
            blocks <<= fs->log_block_size - 9; /* counted in file system blocks */
    }
    ei->blocks = blocks;
    ei->extra_isize = extra;
    ei->ctime = time_decode(d->ctime, d->ctime_extra, fits(extra, 0x84, 4));
    ei->mtime = time_decode(d->mtime, d->mtime_extra, fits(extra, 0x88, 4));
    ei->atime = time_decode(d->atime, d->atime_extra, fits(extra, 0x8C, 4));
    if (fits(extra, 0x94, 4))
        ei->crtime = time_decode(d->crtime, d->crtime_extra, true);
    else
        ei->crtime = (struct ext4_time){ 0, 0 };
    memcpy(ei->block, d->block, sizeof(ei->block));
}

/* The checks after decoding: what the rest of the core relies on. */
static int inode_check(struct ext4_fs *fs, struct ext4_inode *ei)
{
    const char *why = NULL;
    if (!mode_valid(ei->mode))
        why = "an invalid file type";
    else if (ei->links == 0 && ei->ino != EXT4_ROOT_INO && ei->ino >= fs->first_ino)
        why = "no links (a deleted inode is still referenced)";
    else if (ei->size > (uint64_t)INT64_MAX)
        why = "an impossible size";
    else if ((ei->flags & EXT4_INLINE_DATA_FL) && !ext4_has_incompat(fs, EXT4_INCOMPAT_INLINE_DATA))
        why = "inline data without the inline_data feature";
    else if ((ei->flags & EXT4_INLINE_DATA_FL) && (ei->flags & EXT4_EXTENTS_FL))
        why = "both inline data and extents";
    else if (EXT4_ISDIR(ei->mode) && (ei->size & 3) && !(ei->flags & EXT4_INLINE_DATA_FL))
        why = "a directory size that is not whole entries";
    if (why) {
        ext4_err(fs, "inode %u is corrupt: %s", ei->ino, why);
        return -EFSCORRUPTED;
    }
    if (ext4_inode_uses_extents(ei))
        return ext4_extent_check_root(fs, ei);
    return 0;
}

int ext4_inode_read(struct ext4_fs *fs, uint32_t ino, struct ext4_inode *out)
{
    uint64_t blk;
    uint32_t off;
    int err = inode_locate(fs, ino, &blk, &off);
    struct ext4_buf *b = NULL;
    if (!err)
        err = ext4_bread(fs, blk, &b);
    if (err)
        return err;
    const uint8_t *raw = b->data + off;
    struct ext4_inode_disk d;
    memset(&d, 0, sizeof(d));
    memcpy(&d, raw, MIN(fs->inode_size, (uint32_t)sizeof(d)));
    uint16_t extra = fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE ? d.extra_isize : 0;
    if (EXT4_GOOD_OLD_INODE_SIZE + (uint32_t)extra > fs->inode_size || (extra & 3)) {
        ext4_err(fs, "inode %u is corrupt: extra size %u does not fit a %u-byte inode", ino, extra, fs->inode_size);
        ext4_brelse(fs, b);
        return -EFSCORRUPTED;
    }
    memset(out, 0, sizeof(*out));
    out->ino = ino;
    if (fs->csum) {
        out->csum_seed = ext4_csum_seed_inode(fs, ino, d.generation);
        uint32_t want = inode_csum(fs, raw, out->csum_seed, extra);
        uint32_t have = d.checksum_lo | (fits(extra, INODE_CSUM_HI, 2) ? (uint32_t)d.checksum_hi << 16 : 0);
        if (want != have) {
            ext4_err(fs, "inode %u checksum mismatch (stored 0x%08x, computed 0x%08x)", ino, have, want);
            ext4_brelse(fs, b);
            return -EFSBADCRC;
        }
    }
    ext4_brelse(fs, b);
    inode_decode(fs, &d, extra, out);
    return inode_check(fs, out);
}

static int blocks_encode(struct ext4_fs *fs, struct ext4_inode *ei, struct ext4_inode_disk *d)
{
    uint64_t b = ei->blocks;
    ei->flags &= ~(uint32_t)EXT4_HUGE_FILE_FL;
    if (b <= UINT32_MAX) {
        d->blocks_lo = (uint32_t)b;
        d->blocks_high = 0;
        return 0;
    }
    if (!ext4_has_ro_compat(fs, EXT4_RO_COMPAT_HUGE_FILE))
        return -EFBIG;
    if (b < (1ull << 48)) {
        d->blocks_lo = (uint32_t)b;
        d->blocks_high = (uint16_t)(b >> 32);
        return 0;
    }
    b >>= fs->log_block_size - 9;
    ei->flags |= EXT4_HUGE_FILE_FL;
    d->blocks_lo = (uint32_t)b;
    d->blocks_high = (uint16_t)(b >> 32);
    return 0;
}

int ext4_inode_write(struct ext4_fs *fs, struct ext4_inode *ei)
{
    if (fs->read_only)
        return -EROFS;
    uint64_t blk;
    uint32_t off;
    int err = inode_locate(fs, ei->ino, &blk, &off);
    struct ext4_buf *b = NULL;
    if (!err)
        err = ext4_bread(fs, blk, &b);
    if (err)
        return err;
    uint8_t *raw = b->data + off;
    struct ext4_inode_disk d;
    memset(&d, 0, sizeof(d));
    size_t n = MIN(fs->inode_size, (uint32_t)sizeof(d));
    memcpy(&d, raw, n);
    uint16_t extra = ei->extra_isize;
    d.mode = ei->mode;
    d.uid = (uint16_t)ei->uid;
    d.uid_high = (uint16_t)(ei->uid >> 16);
    d.gid = (uint16_t)ei->gid;
    d.gid_high = (uint16_t)(ei->gid >> 16);
    d.links_count = ei->links;
    d.size_lo = (uint32_t)ei->size;
    d.size_high = (uint32_t)(ei->size >> 32);
    d.dtime = ei->dtime;
    d.generation = ei->generation;
    d.file_acl_lo = (uint32_t)ei->file_acl;
    d.file_acl_high = fs->is64 ? (uint16_t)(ei->file_acl >> 32) : 0;
    if ((err = blocks_encode(fs, ei, &d)) != 0) {
        ext4_brelse(fs, b);
        return err;
    }
    d.flags = ei->flags;
    memcpy(d.block, ei->block, sizeof(d.block));
    d.ctime = (uint32_t)ei->ctime.sec;
    d.mtime = (uint32_t)ei->mtime.sec;
    d.atime = (uint32_t)ei->atime.sec;
    if (fits(extra, 0x84, 4))
        d.ctime_extra = time_extra(ei->ctime);
    if (fits(extra, 0x88, 4))
        d.mtime_extra = time_extra(ei->mtime);
    if (fits(extra, 0x8C, 4))
        d.atime_extra = time_extra(ei->atime);
    if (fits(extra, 0x94, 4)) {
        d.crtime = (uint32_t)ei->crtime.sec;
        d.crtime_extra = time_extra(ei->crtime);
    }
    if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE)
        d.extra_isize = extra;
    memcpy(raw, &d, MIN(n, (size_t)EXT4_GOOD_OLD_INODE_SIZE + extra));
    if (fs->csum) {
        uint32_t c = inode_csum(fs, raw, ei->csum_seed, extra);
        put_le16(raw + INODE_CSUM_LO, (uint16_t)c);
        if (fits(extra, INODE_CSUM_HI, 2))
            put_le16(raw + INODE_CSUM_HI, (uint16_t)(c >> 16));
    }
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    return 0;
}

int ext4_inode_raw(struct ext4_fs *fs, uint32_t ino, struct ext4_buf **b, uint32_t *off)
{
    uint64_t blk;
    int err = inode_locate(fs, ino, &blk, off);
    return err ? err : ext4_bread(fs, blk, b);
}

bool ext4_inode_uses_extents(const struct ext4_inode *ei)
{
    return (ei->flags & EXT4_EXTENTS_FL) != 0;
}

uint64_t ext4_inode_rdev(const struct ext4_inode *ei)
{
    uint32_t old = ei->block[0], nw = ei->block[1];
    uint32_t major, minor;
    if (old) { /* the 16-bit encoding */
        major = (old >> 8) & 0xff;
        minor = old & 0xff;
    } else {
        major = (nw >> 8) & 0xfff;
        minor = (nw & 0xff) | ((nw >> 12) & 0xfff00);
    }
    return (uint64_t)major << 32 | minor;
}

void ext4_inode_add_blocks(struct ext4_fs *fs, struct ext4_inode *ei, int64_t nblocks)
{
    int64_t units = nblocks * ((int64_t)1 << (fs->log_block_size - 9));
    ei->blocks = (uint64_t)((int64_t)ei->blocks + units);
}

void ext4_inode_touch(struct ext4_fs *fs, struct ext4_inode *ei, bool m, bool c)
{
    struct ext4_time now = fs->now ? fs->now() : (struct ext4_time){ 0, 0 };
    if (m)
        ei->mtime = now;
    if (c)
        ei->ctime = now;
}

uint8_t ext4_mode_to_ftype(uint16_t mode)
{
    switch (mode & EXT4_S_IFMT) {
    case EXT4_S_IFREG: return EXT4_FT_REG;
    case EXT4_S_IFDIR: return EXT4_FT_DIR;
    case EXT4_S_IFCHR: return EXT4_FT_CHR;
    case EXT4_S_IFBLK: return EXT4_FT_BLK;
    case EXT4_S_IFIFO: return EXT4_FT_FIFO;
    case EXT4_S_IFSOCK: return EXT4_FT_SOCK;
    case EXT4_S_IFLNK: return EXT4_FT_SYMLINK;
    default: return EXT4_FT_UNKNOWN;
    }
}

/* A newly allocated inode: its whole record is cleared (with lazy inode
 * table initialisation it may hold garbage), then the basics are set. */
int ext4_inode_fresh(struct ext4_fs *fs, uint32_t ino, uint16_t mode, uint32_t uid, uint32_t gid,
                     struct ext4_inode *out)
{
    uint64_t blk;
    uint32_t off;
    int err = inode_locate(fs, ino, &blk, &off);
    struct ext4_buf *b = NULL;
    if (!err)
        err = ext4_bread(fs, blk, &b);
    if (err)
        return err;
    memset(b->data + off, 0, fs->inode_size);
    ext4_bdirty(fs, b);
    ext4_brelse(fs, b);
    static uint32_t gen_counter;
    struct ext4_time now = fs->now ? fs->now() : (struct ext4_time){ 0, 0 };
    memset(out, 0, sizeof(*out));
    out->ino = ino;
    out->mode = mode;
    out->uid = uid;
    out->gid = gid;
    out->generation = (uint32_t)now.sec * 2654435761u ^ now.nsec ^ ++gen_counter;
    out->atime = out->mtime = out->ctime = out->crtime = now;
    if (fs->inode_size > EXT4_GOOD_OLD_INODE_SIZE) {
        uint32_t want = fs->sb.want_extra_isize ? fs->sb.want_extra_isize : 32;
        out->extra_isize = (uint16_t)MIN(want, fs->inode_size - EXT4_GOOD_OLD_INODE_SIZE) & (uint16_t)~3u;
    }
    if (fs->csum)
        out->csum_seed = ext4_csum_seed_inode(fs, ino, out->generation);
    if (ext4_has_incompat(fs, EXT4_INCOMPAT_EXTENTS) && (EXT4_ISREG(mode) || EXT4_ISDIR(mode))) {
        out->flags |= EXT4_EXTENTS_FL;
        ext4_extent_init_root(out);
    }
    return 0;
}
