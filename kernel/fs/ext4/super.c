/* Mounting ext2/ext3/ext4: the superblock's checks (magic, revision, geometry,
 * features, checksum), the decision to mount read-write or only read, the
 * clean/dirty state while mounted, and writing the superblock back. */
#include "ext4_internal.h"
#include "lib/printf.h"

/* What the core implements for reading, and what it can also change. */
#define INCOMPAT_READ (EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_RECOVER | EXT4_INCOMPAT_META_BG | \
                       EXT4_INCOMPAT_EXTENTS | EXT4_INCOMPAT_64BIT | EXT4_INCOMPAT_MMP |          \
                       EXT4_INCOMPAT_FLEX_BG | EXT4_INCOMPAT_EA_INODE | EXT4_INCOMPAT_CSUM_SEED |  \
                       EXT4_INCOMPAT_LARGEDIR | EXT4_INCOMPAT_INLINE_DATA)
#define INCOMPAT_WRITE (EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_META_BG | EXT4_INCOMPAT_EXTENTS | \
                        EXT4_INCOMPAT_64BIT | EXT4_INCOMPAT_FLEX_BG | EXT4_INCOMPAT_CSUM_SEED |  \
                        EXT4_INCOMPAT_LARGEDIR)
#define RO_COMPAT_WRITE (EXT4_RO_COMPAT_SPARSE_SUPER | EXT4_RO_COMPAT_LARGE_FILE |           \
                         EXT4_RO_COMPAT_BTREE_DIR | EXT4_RO_COMPAT_HUGE_FILE |               \
                         EXT4_RO_COMPAT_GDT_CSUM | EXT4_RO_COMPAT_DIR_NLINK |                \
                         EXT4_RO_COMPAT_EXTRA_ISIZE | EXT4_RO_COMPAT_METADATA_CSUM)

struct feature_name {
    uint32_t mask;
    const char *name;
};

static const struct feature_name incompat_names[] = {
    { EXT4_INCOMPAT_COMPRESSION, "compression" }, { EXT4_INCOMPAT_FILETYPE, "filetype" },
    { EXT4_INCOMPAT_RECOVER, "needs_recovery" }, { EXT4_INCOMPAT_JOURNAL_DEV, "journal_dev" },
    { EXT4_INCOMPAT_META_BG, "meta_bg" }, { EXT4_INCOMPAT_EXTENTS, "extent" },
    { EXT4_INCOMPAT_64BIT, "64bit" }, { EXT4_INCOMPAT_MMP, "mmp" },
    { EXT4_INCOMPAT_FLEX_BG, "flex_bg" }, { EXT4_INCOMPAT_EA_INODE, "ea_inode" },
    { EXT4_INCOMPAT_DIRDATA, "dirdata" }, { EXT4_INCOMPAT_CSUM_SEED, "metadata_csum_seed" },
    { EXT4_INCOMPAT_LARGEDIR, "large_dir" }, { EXT4_INCOMPAT_INLINE_DATA, "inline_data" },
    { EXT4_INCOMPAT_ENCRYPT, "encrypt" }, { EXT4_INCOMPAT_CASEFOLD, "casefold" },
};

static const struct feature_name ro_compat_names[] = {
    { EXT4_RO_COMPAT_SPARSE_SUPER, "sparse_super" }, { EXT4_RO_COMPAT_LARGE_FILE, "large_file" },
    { EXT4_RO_COMPAT_HUGE_FILE, "huge_file" }, { EXT4_RO_COMPAT_GDT_CSUM, "uninit_bg" },
    { EXT4_RO_COMPAT_DIR_NLINK, "dir_nlink" }, { EXT4_RO_COMPAT_EXTRA_ISIZE, "extra_isize" },
    { EXT4_RO_COMPAT_HAS_SNAPSHOT, "snapshot" }, { EXT4_RO_COMPAT_QUOTA, "quota" },
    { EXT4_RO_COMPAT_BIGALLOC, "bigalloc" }, { EXT4_RO_COMPAT_METADATA_CSUM, "metadata_csum" },
    { EXT4_RO_COMPAT_REPLICA, "replica" }, { EXT4_RO_COMPAT_READONLY, "read-only" },
    { EXT4_RO_COMPAT_PROJECT, "project" }, { EXT4_RO_COMPAT_SHARED_BLOCKS, "shared_blocks" },
    { EXT4_RO_COMPAT_VERITY, "verity" }, { EXT4_RO_COMPAT_ORPHAN_PRESENT, "orphan_present" },
};

/* "name1,name2" for the bits of mask (unknown bits as hex). */
static void feature_list(uint32_t mask, const struct feature_name *names, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!(mask & names[i].mask))
            continue;
        mask &= ~names[i].mask;
        used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? "," : "",
                                 names[i].name);
    }
    if (mask && used < size)
        snprintf(buf + used, size - used, "%sunknown 0x%x", used ? "," : "", mask);
}

bool ext4_group_has_super(const struct ext4_fs *fs, uint32_t g)
{
    if (g == 0)
        return true;
    if (fs->compat & EXT4_COMPAT_SPARSE_SUPER2)
        return g == fs->sb.backup_bgs[0] || g == fs->sb.backup_bgs[1];
    if (g == 1 || !fs->sparse_super)
        return true;
    if (!(g & 1))
        return false;
    static const uint32_t bases[] = { 3, 5, 7 };
    for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
        uint64_t p = bases[i];
        while (p < g)
            p *= bases[i];
        if (p == g)
            return true;
    }
    return false;
}

static uint32_t super_csum(const struct ext4_super *sb)
{
    return ext4_crc32c(~0u, sb, offsetof(struct ext4_super, checksum));
}

/* Geometry: block and inode sizes, group sizes and counts, against each
 * other and the device. */
static int check_geometry(struct ext4_fs *fs)
{
    struct ext4_super *sb = &fs->sb;
    if (sb->log_block_size > 6) {
        ext4_err(fs, "refused: block size 2^%u KiB is not 1-64 KiB", sb->log_block_size);
        return -EINVAL;
    }
    fs->log_block_size = 10 + sb->log_block_size;
    fs->block_size = 1u << fs->log_block_size;
    fs->is64 = ext4_has_incompat(fs, EXT4_INCOMPAT_64BIT);
    fs->blocks_count = sb->blocks_count_lo | (fs->is64 ? (uint64_t)sb->blocks_count_hi << 32 : 0);
    fs->first_data_block = sb->first_data_block;
    fs->blocks_per_group = sb->blocks_per_group;
    fs->inodes_per_group = sb->inodes_per_group;
    fs->inodes_count = sb->inodes_count;
    if (sb->rev_level == 0) {
        fs->inode_size = EXT4_GOOD_OLD_INODE_SIZE;
        fs->first_ino = EXT4_GOOD_OLD_FIRST_INO;
    } else {
        fs->inode_size = sb->inode_size;
        fs->first_ino = sb->first_ino;
    }
    uint32_t bs = fs->block_size;
    if (fs->inode_size < EXT4_GOOD_OLD_INODE_SIZE || fs->inode_size > bs ||
        (fs->inode_size & (fs->inode_size - 1))) {
        ext4_err(fs, "refused: inode size %u is not a power of two from 128 to the block size", fs->inode_size);
        return -EINVAL;
    }
    if (fs->first_data_block != (bs == 1024 ? 1u : 0u) &&
        !(bs == 1024 && ext4_has_ro_compat(fs, EXT4_RO_COMPAT_BIGALLOC))) {
        ext4_err(fs, "refused: first data block %u is wrong for %u-byte blocks", fs->first_data_block, bs);
        return -EINVAL;
    }
    if (!fs->blocks_per_group || fs->blocks_per_group > 8 * bs || (fs->blocks_per_group & 7) ||
        (!ext4_has_ro_compat(fs, EXT4_RO_COMPAT_BIGALLOC) && sb->clusters_per_group != fs->blocks_per_group)) {
        ext4_err(fs, "refused: %u blocks per group (block size %u)", fs->blocks_per_group, bs);
        return -EINVAL;
    }
    if (!fs->inodes_per_group || fs->inodes_per_group > 8 * bs || (fs->inodes_per_group & 7)) {
        ext4_err(fs, "refused: %u inodes per group", fs->inodes_per_group);
        return -EINVAL;
    }
    if (fs->blocks_count <= fs->first_data_block) {
        ext4_err(fs, "refused: block count %lu", (unsigned long)fs->blocks_count);
        return -EINVAL;
    }
    if (fs->io.size && fs->blocks_count > fs->io.size / bs) {
        ext4_err(fs, "refused: the file system has %lu blocks of %u bytes but the device only %lu bytes "
                 "(truncated image?)", (unsigned long)fs->blocks_count, bs, (unsigned long)fs->io.size);
        return -EINVAL;
    }
    uint64_t groups = DIV_ROUND_UP(fs->blocks_count - fs->first_data_block, (uint64_t)fs->blocks_per_group);
    if (groups > UINT32_MAX || groups * fs->inodes_per_group != fs->inodes_count) {
        ext4_err(fs, "refused: %u inodes do not match %lu groups of %u", fs->inodes_count,
                 (unsigned long)groups, fs->inodes_per_group);
        return -EINVAL;
    }
    fs->group_count = (uint32_t)groups;
    if (fs->first_ino < EXT4_GOOD_OLD_FIRST_INO || fs->first_ino > fs->inodes_count) {
        ext4_err(fs, "refused: first inode %u", fs->first_ino);
        return -EINVAL;
    }
    if (fs->is64) {
        fs->desc_size = sb->desc_size;
        if (fs->desc_size < 64 || fs->desc_size > 1024 || (fs->desc_size & (fs->desc_size - 1))) {
            ext4_err(fs, "refused: group descriptor size %u", fs->desc_size);
            return -EINVAL;
        }
    } else {
        fs->desc_size = 32;
    }
    fs->desc_per_block = bs / fs->desc_size;
    fs->gdt_blocks = DIV_ROUND_UP(fs->group_count, fs->desc_per_block);
    if (ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG) && sb->first_meta_bg > fs->gdt_blocks) {
        ext4_err(fs, "refused: first meta_bg %u beyond %u descriptor blocks", sb->first_meta_bg, fs->gdt_blocks);
        return -EINVAL;
    }
    if (!ext4_has_incompat(fs, EXT4_INCOMPAT_META_BG) &&
        (uint64_t)fs->first_data_block + 1 + fs->gdt_blocks > fs->blocks_per_group) {
        ext4_err(fs, "refused: %u descriptor blocks do not fit in group 0", fs->gdt_blocks);
        return -EINVAL;
    }
    return 0;
}

/* Which features are present, which the core understands, and whether it may write. */
static int check_features(struct ext4_fs *fs, bool *can_write, const char **why)
{
    char names[160];
    struct ext4_super *sb = &fs->sb;
    if (sb->rev_level == 0) {
        fs->compat = fs->incompat = fs->ro_compat = 0;
    } else {
        fs->compat = sb->feature_compat;
        fs->incompat = sb->feature_incompat;
        fs->ro_compat = sb->feature_ro_compat;
    }
    uint32_t unknown = fs->incompat & ~(uint32_t)INCOMPAT_READ;
    if (unknown) {
        feature_list(unknown, incompat_names, ARRAY_SIZE(incompat_names), names, sizeof(names));
        ext4_err(fs, "refused: unsupported incompatible features: %s", names);
        return -EINVAL;
    }
    fs->csum = ext4_has_ro_compat(fs, EXT4_RO_COMPAT_METADATA_CSUM);
    fs->gdt_csum = !fs->csum && ext4_has_ro_compat(fs, EXT4_RO_COMPAT_GDT_CSUM);
    fs->has_filetype = ext4_has_incompat(fs, EXT4_INCOMPAT_FILETYPE);
    fs->sparse_super = ext4_has_ro_compat(fs, EXT4_RO_COMPAT_SPARSE_SUPER);
    if (fs->csum && sb->checksum_type != 1) {
        ext4_err(fs, "refused: unknown metadata checksum type %u", sb->checksum_type);
        return -EINVAL;
    }
    uint32_t ro_only = fs->ro_compat & ~(uint32_t)RO_COMPAT_WRITE;
    uint32_t in_ro = fs->incompat & ~(uint32_t)INCOMPAT_WRITE & ~(uint32_t)EXT4_INCOMPAT_RECOVER;
    *can_write = true;
    if (ro_only || in_ro) {
        static char reason[200];
        char b[160];
        feature_list(ro_only, ro_compat_names, ARRAY_SIZE(ro_compat_names), names, sizeof(names));
        feature_list(in_ro, incompat_names, ARRAY_SIZE(incompat_names), b, sizeof(b));
        snprintf(reason, sizeof(reason), "features this kernel can only read: %s%s%s", names,
                 names[0] && b[0] ? "," : "", b);
        *can_write = false;
        *why = reason;
    }
    return 0;
}

static void super_decode_counts(struct ext4_fs *fs)
{
    fs->hash_seed[0] = fs->sb.hash_seed[0];
    fs->hash_seed[1] = fs->sb.hash_seed[1];
    fs->hash_seed[2] = fs->sb.hash_seed[2];
    fs->hash_seed[3] = fs->sb.hash_seed[3];
    fs->dx_unsigned = (fs->sb.flags & EXT4_FLAGS_UNSIGNED_HASH) != 0;
    if (ext4_has_incompat(fs, EXT4_INCOMPAT_CSUM_SEED))
        fs->csum_seed = fs->sb.checksum_seed;
    else
        fs->csum_seed = ext4_crc32c(~0u, fs->sb.uuid, sizeof(fs->sb.uuid));
}

void ext4_super_dirty(struct ext4_fs *fs)
{
    struct ext4_super *sb = &fs->sb;
    sb->free_blocks_count_lo = (uint32_t)fs->free_blocks;
    if (fs->is64)
        sb->free_blocks_count_hi = (uint32_t)(fs->free_blocks >> 32);
    sb->free_inodes_count = fs->free_inodes;
    fs->sb_dirty = true;
}

int ext4_super_write(struct ext4_fs *fs)
{
    if (fs->read_only)
        return -EROFS;
    struct ext4_time now = fs->now ? fs->now() : (struct ext4_time){ 0, 0 };
    fs->sb.wtime = (uint32_t)now.sec;
    fs->sb.wtime_hi = (uint8_t)(now.sec >> 32);
    if (fs->csum)
        fs->sb.checksum = super_csum(&fs->sb);
    int err = fs->io.write(fs->io.ctx, EXT4_SUPER_OFFSET, &fs->sb, sizeof(fs->sb));
    if (err)
        ext4_err(fs, "error %d writing the superblock", err);
    else
        fs->sb_dirty = false;
    return err;
}

/* Read-write from here on: the on-disk state says "not clean" until unmount,
 * so a crash is noticed by the next fsck. */
static int mark_mounted(struct ext4_fs *fs)
{
    struct ext4_time now = fs->now ? fs->now() : (struct ext4_time){ 0, 0 };
    fs->sb.state &= (uint16_t)~EXT4_VALID_FS;
    fs->sb.mnt_count++;
    fs->sb.mtime = (uint32_t)now.sec;
    fs->sb.mtime_hi = (uint8_t)(now.sec >> 32);
    ext4_super_dirty(fs);
    int err = ext4_super_write(fs);
    if (!err && fs->io.flush)
        err = fs->io.flush(fs->io.ctx);
    return err;
}

static void fs_free(struct ext4_fs *fs)
{
    ext4_bcache_destroy(fs);
    kfree(fs->gdt);
    kfree(fs->gdt_dirty);
    kfree(fs->zero_block);
    kfree(fs);
}

static int read_super(struct ext4_fs *fs)
{
    int err = fs->io.read(fs->io.ctx, EXT4_SUPER_OFFSET, &fs->sb, sizeof(fs->sb));
    if (err) {
        ext4_err(fs, "cannot read the superblock: error %d", err);
        return err;
    }
    if (fs->sb.magic != EXT4_SUPER_MAGIC) {
        ext4_err(fs, "refused: no ext2/ext3/ext4 superblock (magic 0x%04x, want 0xef53)", fs->sb.magic);
        return -EINVAL;
    }
    if (fs->sb.rev_level > 1) {
        ext4_err(fs, "refused: superblock revision %u is newer than this kernel knows", fs->sb.rev_level);
        return -EINVAL;
    }
    if ((fs->sb.feature_ro_compat & EXT4_RO_COMPAT_METADATA_CSUM) && fs->sb.rev_level &&
        super_csum(&fs->sb) != fs->sb.checksum) {
        ext4_err(fs, "refused: superblock checksum mismatch (stored 0x%08x, computed 0x%08x)",
                 fs->sb.checksum, super_csum(&fs->sb));
        return -EFSBADCRC;
    }
    return 0;
}

/* Mount read-write only when everything allows it; otherwise say why. */
static void choose_mode(struct ext4_fs *fs, unsigned flags, bool can_write, const char *why)
{
    fs->read_only = true;
    if (flags & EXT4_MOUNT_RDONLY)
        return;
    if (fs->io.read_only)
        why = "the device is read-only";
    else if (fs->journal.needs_recovery)
        why = "the journal needs recovery and could not be replayed (run e2fsck)";
    else if (fs->journal.external)
        why = "it has an external journal";
    else if (fs->sb.state & EXT4_ERROR_FS)
        why = "it has errors recorded (run e2fsck)";
    else if (can_write)
        why = NULL;
    if (why) {
        ext4_warn(fs, "mounting read-only: %s", why);
        return;
    }
    fs->read_only = false;
}

static int fs_mount(const struct ext4_io *io, const char *name, unsigned flags, struct ext4_time (*now)(void),
                    bool allow_replay, struct ext4_fs **out)
{
    struct ext4_fs *fs = kzalloc(sizeof(*fs));
    if (!fs)
        return -ENOMEM;
    fs->io = *io;
    fs->now = now;
    strlcpy(fs->name, name ? name : "ext4", sizeof(fs->name));
    fs->read_only = true; /* nothing is written before the checks pass */
    bool can_write = false;
    const char *why = NULL;
    int err = read_super(fs);
    if (!err)
        err = check_features(fs, &can_write, &why);
    if (!err)
        err = check_geometry(fs);
    if (!err) {
        super_decode_counts(fs);
        fs->zero_block = kzalloc(fs->block_size);
        err = fs->zero_block ? ext4_bcache_init(fs, MAX(64u, (unsigned)(MiB(4) >> fs->log_block_size))) : -ENOMEM;
    }
    if (!err)
        err = ext4_groups_load(fs);
    bool replayed = false;
    if (!err)
        err = ext4_journal_check(fs, allow_replay && !io->read_only, &replayed);
    if (!err && replayed) { /* the log rewrote metadata: start again from the disk, once */
        fs_free(fs);
        return fs_mount(io, name, flags, now, false, out);
    }
    struct ext4_inode root;
    if (!err && (err = ext4_inode_read(fs, EXT4_ROOT_INO, &root)) == 0 && !EXT4_ISDIR(root.mode)) {
        ext4_err(fs, "refused: the root inode is not a directory (mode 0%o)", root.mode);
        err = -EFSCORRUPTED;
    }
    if (!err) {
        if (!(fs->sb.state & EXT4_VALID_FS))
            ext4_warn(fs, "was not cleanly unmounted; running e2fsck is recommended");
        choose_mode(fs, flags, can_write, why);
        if (!fs->read_only && (err = mark_mounted(fs)) != 0)
            ext4_err(fs, "cannot write the superblock: error %d", err);
    }
    if (err) {
        fs_free(fs);
        return err;
    }
    *out = fs;
    return 0;
}

int ext4_fs_mount(const struct ext4_io *io, const char *name, unsigned flags,
                  struct ext4_time (*now)(void), struct ext4_fs **out)
{
    return fs_mount(io, name, flags, now, true, out);
}

int ext4_fs_sync(struct ext4_fs *fs, bool flush)
{
    if (fs->read_only)
        return 0;
    int err = ext4_bcache_flush(fs);
    int e2 = ext4_groups_write(fs);
    if (!err)
        err = e2;
    if (fs->sb_dirty) {
        e2 = ext4_super_write(fs);
        if (!err)
            err = e2;
    }
    if (flush && fs->io.flush) {
        e2 = fs->io.flush(fs->io.ctx);
        if (!err)
            err = e2;
    }
    return err;
}

int ext4_fs_mark_clean(struct ext4_fs *fs)
{
    if (fs->read_only)
        return 0;
    int err = ext4_fs_sync(fs, true);
    if (!err) { /* everything reached the disk: it is clean again */
        fs->sb.state |= EXT4_VALID_FS;
        ext4_super_dirty(fs);
        err = ext4_super_write(fs);
        if (!err && fs->io.flush)
            err = fs->io.flush(fs->io.ctx);
    }
    return err;
}

int ext4_fs_unmount(struct ext4_fs *fs)
{
    int err = ext4_fs_mark_clean(fs);
    fs_free(fs);
    return err;
}

void ext4_fs_statfs(struct ext4_fs *fs, struct ext4_statfs *st)
{
    uint64_t reserved = fs->sb.r_blocks_count_lo | (fs->is64 ? (uint64_t)fs->sb.r_blocks_count_hi << 32 : 0);
    st->bsize = fs->block_size;
    st->blocks = fs->blocks_count - fs->first_data_block;
    st->bfree = fs->free_blocks;
    st->bavail = fs->free_blocks > reserved ? fs->free_blocks - reserved : 0;
    st->files = fs->inodes_count;
    st->ffree = fs->free_inodes;
}
