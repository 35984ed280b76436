/* The jbd2 journal: find it, check its superblock, and replay committed
 * transactions that were never written home (the block copies in the log,
 * minus revoked ones, go to their places; then the log is marked empty).
 * Checksums inside the log (csum v2/v3) are not verified: a transaction
 * counts when its commit block is there. The core never writes through the
 * journal; after replay, or when clean, it stays empty. */
#include "ext4_internal.h"

#define JBD2_MAGIC 0xC03B3998u
#define JBD2_DESCRIPTOR 1
#define JBD2_COMMIT 2
#define JBD2_SUPERBLOCK_V1 3
#define JBD2_SUPERBLOCK_V2 4
#define JBD2_REVOKE 5

#define JBD2_COMPAT_CHECKSUM 0x1
#define JBD2_INCOMPAT_REVOKE 0x1
#define JBD2_INCOMPAT_64BIT 0x2
#define JBD2_INCOMPAT_ASYNC_COMMIT 0x4
#define JBD2_INCOMPAT_CSUM_V2 0x8
#define JBD2_INCOMPAT_CSUM_V3 0x10
#define JBD2_INCOMPAT_FAST_COMMIT 0x20
#define JBD2_KNOWN_INCOMPAT (JBD2_INCOMPAT_REVOKE | JBD2_INCOMPAT_64BIT | JBD2_INCOMPAT_ASYNC_COMMIT | \
                             JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3 | JBD2_INCOMPAT_FAST_COMMIT)

#define TAG_ESCAPE 0x1
#define TAG_SAME_UUID 0x2
#define TAG_LAST 0x8

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

struct tag {
    uint32_t seq, jblk;      /* the transaction, where the copy is in the log */
    uint64_t blk;            /* where it belongs */
    bool escaped;
};

struct revoke {
    uint64_t blk;
    uint32_t seq;
};

struct jlog {
    struct ext4_fs *fs;
    struct ext4_inode ji;
    uint8_t *buf;
    uint32_t first, maxlen, incompat;
    struct tag *tags;
    size_t ntags, cap;
    struct revoke *revokes;
    size_t nrev, rcap;
};

/* Read log block j (a block of the journal inode). */
static int log_read(struct jlog *l, uint32_t j, uint8_t *buf)
{
    struct ext4_map m;
    int err = ext4_map_block(l->fs, &l->ji, j, 1, &m);
    if (err)
        return err;
    if (!m.pblk || m.uninit)
        return -EFSCORRUPTED;
    return ext4_dev_read_blocks(l->fs, m.pblk, 1, buf);
}

static uint32_t log_next(const struct jlog *l, uint32_t j)
{
    return j + 1 >= l->maxlen ? l->first : j + 1;
}

static size_t tag_bytes(const struct jlog *l)
{
    if (l->incompat & JBD2_INCOMPAT_CSUM_V3)
        return 16;
    size_t sz = 12 + ((l->incompat & JBD2_INCOMPAT_CSUM_V2) ? 2 : 0);
    return (l->incompat & JBD2_INCOMPAT_64BIT) ? sz : sz - 4;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *na = kmalloc(ncap * elem);
    if (!na)
        return false;
    if (*arr) {
        memcpy(na, *arr, n * elem);
        kfree(*arr);
    }
    *arr = na;
    *cap = ncap;
    return true;
}

/* The tags of a descriptor block: each names the log block after it. */
static int scan_descriptor(struct jlog *l, uint32_t seq, uint32_t *j)
{
    uint8_t *b = l->buf;
    size_t tb = tag_bytes(l), end = l->fs->block_size;
    if (l->incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3))
        end -= 4; /* the descriptor's checksum tail */
    for (size_t off = 12; off + tb <= end;) {
        const uint8_t *t = b + off;
        uint32_t flags;
        uint64_t blk = be32(t);
        if (l->incompat & JBD2_INCOMPAT_CSUM_V3) {
            flags = be32(t + 4);
            if (l->incompat & JBD2_INCOMPAT_64BIT)
                blk |= (uint64_t)be32(t + 8) << 32;
        } else {
            flags = be16(t + 6);
            if (l->incompat & JBD2_INCOMPAT_64BIT)
                blk |= (uint64_t)be32(t + 8) << 32;
        }
        *j = log_next(l, *j);
        if (!grow((void **)&l->tags, &l->cap, l->ntags, sizeof(*l->tags)))
            return -ENOMEM;
        l->tags[l->ntags++] = (struct tag){ seq, *j, blk, (flags & TAG_ESCAPE) != 0 };
        off += tb + ((flags & TAG_SAME_UUID) ? 0 : 16);
        if (flags & TAG_LAST)
            break;
    }
    *j = log_next(l, *j);
    return 0;
}

static int scan_revoke(struct jlog *l, uint32_t seq)
{
    size_t rs = (l->incompat & JBD2_INCOMPAT_64BIT) ? 8 : 4;
    uint32_t count = be32(l->buf + 12);
    if (count > l->fs->block_size)
        count = l->fs->block_size;
    for (size_t off = 16; off + rs <= count; off += rs) {
        uint64_t blk = rs == 8 ? (uint64_t)be32(l->buf + off) << 32 | be32(l->buf + off + 4) : be32(l->buf + off);
        if (!grow((void **)&l->revokes, &l->rcap, l->nrev, sizeof(*l->revokes)))
            return -ENOMEM;
        l->revokes[l->nrev++] = (struct revoke){ blk, seq };
    }
    return 0;
}

/* Walk the log from start: committed transactions' tags and revokes.
 * *last_seq: the first sequence number not committed. */
static int scan(struct jlog *l, uint32_t start, uint32_t seq, uint32_t *last_seq)
{
    uint32_t j = start, committed_tags = 0, committed_revs = 0;
    for (uint32_t steps = 0; steps < l->maxlen; steps++) {
        int err = log_read(l, j, l->buf);
        if (err)
            return err;
        if (be32(l->buf) != JBD2_MAGIC || be32(l->buf + 8) != seq)
            break;
        uint32_t type = be32(l->buf + 4);
        if (type == JBD2_DESCRIPTOR) {
            if ((err = scan_descriptor(l, seq, &j)) != 0)
                return err;
        } else if (type == JBD2_REVOKE) {
            if ((err = scan_revoke(l, seq)) != 0)
                return err;
            j = log_next(l, j);
        } else if (type == JBD2_COMMIT) {
            committed_tags = (uint32_t)l->ntags; /* the transaction is whole */
            committed_revs = (uint32_t)l->nrev;
            seq++;
            j = log_next(l, j);
        } else {
            break;
        }
    }
    l->ntags = committed_tags; /* an unfinished transaction is dropped */
    l->nrev = committed_revs;
    *last_seq = seq;
    return 0;
}

static bool revoked(const struct jlog *l, const struct tag *t)
{
    for (size_t i = 0; i < l->nrev; i++)
        if (l->revokes[i].blk == t->blk && l->revokes[i].seq >= t->seq)
            return true;
    return false;
}

static int replay_tags(struct jlog *l, unsigned *written)
{
    for (size_t i = 0; i < l->ntags; i++) {
        const struct tag *t = &l->tags[i];
        if (revoked(l, t))
            continue;
        if (t->blk >= l->fs->blocks_count) {
            ext4_warn(l->fs, "journal: a logged block %lu is outside the file system; skipped",
                      (unsigned long)t->blk);
            continue;
        }
        int err = log_read(l, t->jblk, l->buf);
        if (err)
            return err;
        if (t->escaped)
            put_be32(l->buf, JBD2_MAGIC);
        if ((err = l->fs->io.write(l->fs->io.ctx, t->blk * l->fs->block_size, l->buf, l->fs->block_size)) != 0)
            return err;
        (*written)++;
    }
    return 0;
}

/* Replay the log whose superblock is in jsb (log block 0), then mark it empty. */
static int replay(struct jlog *l, uint8_t *jsb)
{
    uint32_t start = be32(jsb + 0x1C), seq = be32(jsb + 0x18), last;
    if (start < l->first || start >= l->maxlen)
        return -EFSCORRUPTED;
    int err = scan(l, start, seq, &last);
    unsigned written = 0;
    if (!err)
        err = replay_tags(l, &written);
    if (!err && l->fs->io.flush)
        err = l->fs->io.flush(l->fs->io.ctx);
    if (err)
        return err;
    put_be32(jsb + 0x18, last); /* s_sequence: where the next transaction starts */
    put_be32(jsb + 0x1C, 0);    /* s_start: empty */
    if (l->incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3)) {
        put_be32(jsb + 0xFC, 0);
        put_be32(jsb + 0xFC, ext4_crc32c(~0u, jsb, 1024));
    }
    struct ext4_map m;
    if ((err = ext4_map_block(l->fs, &l->ji, 0, 1, &m)) != 0)
        return err;
    if ((err = l->fs->io.write(l->fs->io.ctx, m.pblk * l->fs->block_size, jsb, l->fs->block_size)) != 0)
        return err;
    ext4_info(l->fs, "journal: replayed %u blocks of transactions %u-%u", written, seq, last ? last - 1 : 0);
    return l->fs->io.flush ? l->fs->io.flush(l->fs->io.ctx) : 0;
}

/* Open the journal inode and its superblock into l and jsb. */
static int journal_open(struct ext4_fs *fs, struct jlog *l, uint8_t *jsb)
{
    l->fs = fs;
    struct ext4_map m;
    int err = ext4_inode_read(fs, fs->journal.inum, &l->ji);
    if (!err)
        err = ext4_map_block(fs, &l->ji, 0, 1, &m);
    if (!err && (!m.pblk || m.uninit))
        err = -EFSCORRUPTED;
    if (!err)
        err = ext4_dev_read_blocks(fs, m.pblk, 1, jsb);
    if (err)
        return err;
    uint32_t type = be32(jsb + 4);
    if (be32(jsb) != JBD2_MAGIC || (type != JBD2_SUPERBLOCK_V1 && type != JBD2_SUPERBLOCK_V2) ||
        be32(jsb + 0xC) != fs->block_size)
        return -EFSCORRUPTED;
    l->maxlen = be32(jsb + 0x10);
    l->first = be32(jsb + 0x14);
    l->incompat = type == JBD2_SUPERBLOCK_V2 ? be32(jsb + 0x28) : 0;
    if (l->first == 0 || l->first >= l->maxlen || l->maxlen > (l->ji.size >> fs->log_block_size))
        return -EFSCORRUPTED;
    if (l->incompat & ~(uint32_t)JBD2_KNOWN_INCOMPAT)
        return -EOPNOTSUPP;
    return 0;
}

/* Replay when the log holds transactions; -errno leaves needs_recovery set. */
static int journal_recover(struct ext4_fs *fs, struct jlog *l, uint8_t *jsb)
{
    l->buf = kmalloc(fs->block_size);
    if (!l->buf)
        return -ENOMEM;
    int err = be32(jsb + 0x1C) ? replay(l, jsb) : 0;
    kfree(l->buf);
    kfree(l->tags);
    kfree(l->revokes);
    if (err)
        return err;
    /* the superblock on the disk (replay may have rewritten it) no longer needs recovery */
    struct ext4_super *sb = kmalloc(sizeof(*sb));
    if (!sb)
        return -ENOMEM;
    err = fs->io.read(fs->io.ctx, EXT4_SUPER_OFFSET, sb, sizeof(*sb));
    if (!err) {
        sb->feature_incompat &= ~(uint32_t)EXT4_INCOMPAT_RECOVER;
        if (sb->feature_ro_compat & EXT4_RO_COMPAT_METADATA_CSUM)
            sb->checksum = ext4_crc32c(~0u, sb, offsetof(struct ext4_super, checksum));
        err = fs->io.write(fs->io.ctx, EXT4_SUPER_OFFSET, sb, sizeof(*sb));
    }
    if (!err && fs->io.flush)
        err = fs->io.flush(fs->io.ctx);
    kfree(sb);
    return err;
}

int ext4_journal_check(struct ext4_fs *fs, bool may_replay, bool *replayed)
{
    struct ext4_journal_info *j = &fs->journal;
    *replayed = false;
    j->needs_recovery = ext4_has_incompat(fs, EXT4_INCOMPAT_RECOVER);
    if (!(fs->compat & EXT4_COMPAT_HAS_JOURNAL)) {
        if (j->needs_recovery)
            ext4_warn(fs, "needs_recovery is set but there is no journal");
        return 0;
    }
    j->inum = fs->sb.journal_inum;
    if (!j->inum || fs->sb.journal_dev) {
        j->external = true;
        return 0;
    }
    struct jlog l;
    memset(&l, 0, sizeof(l));
    uint8_t *jsb = kmalloc(fs->block_size);
    if (!jsb)
        return -ENOMEM;
    int err = journal_open(fs, &l, jsb);
    if (err) {
        /* a broken journal only matters for writing: refuse that */
        ext4_warn(fs, "the journal (inode %u) is unreadable: error %d", j->inum, err);
        j->needs_recovery = true;
        kfree(jsb);
        return 0;
    }
    j->present = true;
    if (be32(jsb + 0x1C) != 0) /* s_start: the log is not empty */
        j->needs_recovery = true;
    if (j->needs_recovery && may_replay) {
        err = journal_recover(fs, &l, jsb);
        if (err)
            ext4_err(fs, "journal replay failed: error %d", err);
        else
            *replayed = true;
    } else if (j->needs_recovery) {
        ext4_warn(fs, "the journal has transactions that were not replayed (the device is read-only); "
                      "the most recent changes may be missing");
    }
    kfree(jsb);
    return 0;
}
