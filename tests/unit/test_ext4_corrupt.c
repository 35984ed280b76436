/* Host tests of the ext4 core against damaged images: targeted corruption of
 * the superblock, group descriptors, inodes, extent headers and nodes,
 * directory blocks, hash indexes and block maps must be refused (or, for a
 * hash index, worked around) with an error, never a crash; then thousands of
 * random byte flips in metadata blocks, read-only and read-write, under
 * AddressSanitizer and UBSan. */
#include "test_ext4_util.h"

static char base_img[3][300];
static const char *base_opts[3] = {
    /* 0: ext4 without checksums (field checks are reached directly) */
    "-b 4096 -I 256 -N 2048 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,"
    "dir_nlink,extra_isize",
    /* 1: ext4 with metadata_csum and 64bit, 1k blocks */
    "-b 1024 -I 256 -N 2048 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,"
    "dir_nlink,extra_isize,metadata_csum,64bit",
    /* 2: ext2 */
    "-b 1024 -I 128 -N 2048 -O none,ext_attr,resize_inode,filetype,sparse_super,large_file",
};

/* The tree: a file with a deep extent tree (written by the core), a plain
 * and an indexed directory, symlinks and files of a few sizes. */
static const char *base(int k)
{
    if (base_img[k][0])
        return base_img[k];
    char src[300];
    snprintf(src, sizeof(src), "%s/csrc", t_tmpdir());
    t_sh("rm -rf %s && mkdir -p %s/plain %s/idx && cd %s && head -c 300000 /dev/urandom > file &&"
         "printf small > small && ln -s small fast && ln -s $(printf 'y%%.0s' $(seq 1 90)) slow &&"
         "(cd plain && seq -f 'p%%02g' 0 20 | xargs touch) &&"
         "(cd idx && seq -f 'indexed-directory-entry-%%04g' 0 599 | xargs touch)",
         src, src, src, src);
    snprintf(base_img[k], sizeof(base_img[k]), "%s/base%d.img", t_tmpdir(), k);
    if (t_mkfs(base_img[k], src, 8, base_opts[k]) != 0)
        return NULL;
    t_sh(T_SBIN "e2fsck -fyD %s >/dev/null 2>&1", base_img[k]);
    /* a fragmented file: its extent tree needs a node below the inode */
    struct t_img im;
    struct ext4_fs *fs;
    if (t_open_img(&im, base_img[k]) || t_mount(&im, 0, &fs))
        return NULL;
    struct ext4_inode root, ei;
    ext4_inode_read(fs, EXT4_ROOT_INO, &root);
    if (ext4_create(fs, &root, "frag", 4, 0100644, 0, 0, 0, &ei) == 0) {
        char blk[4096] = "fragment";
        for (int i = 0; i < 20; i++)
            ext4_file_write(fs, &ei, (uint64_t)i * 2 * fs->block_size, blk, fs->block_size);
    }
    ext4_fs_unmount(fs);
    close(im.fd);
    return base_img[k];
}

static const char *work_copy(int k)
{
    static char img[300];
    snprintf(img, sizeof(img), "%s/work.img", t_tmpdir());
    t_sh("cp %s %s", base(k), img);
    return img;
}

/* A number from debugfs output: the first integer after `key`. */
static long dbg(const char *img, const char *cmd, const char *key)
{
    char c[1024], line[4096];
    snprintf(c, sizeof(c), T_SBIN "debugfs -R '%s' %s 2>/dev/null", cmd, img);
    FILE *f = popen(c, "r");
    long v = -1;
    while (f && fgets(line, sizeof(line), f)) {
        char *p = strstr(line, key);
        if (p && v < 0)
            v = strtol(p + strlen(key), NULL, 0);
    }
    if (f)
        pclose(f);
    return v;
}

static uint32_t block_size_of(const char *img)
{
    return (uint32_t)dbg(img, "stats", "Block size:");
}

/* The byte offset of an inode's record. */
static long inode_offset(const char *img, const char *path)
{
    char c[300];
    snprintf(c, sizeof(c), "imap %s", path);
    long blk = dbg(img, c, "located at block ");
    long off = dbg(img, c, ", offset ");
    return blk * block_size_of(img) + off;
}

static long first_block(const char *img, const char *path)
{
    char c[300];
    snprintf(c, sizeof(c), "bmap %s 0", path);
    return dbg(img, c, "") * block_size_of(img);
}

static void poke(const char *img, long off, const void *data, size_t n)
{
    int fd = open(img, O_RDWR);
    if (pwrite(fd, data, n, off) != (ssize_t)n)
        perror("pwrite");
    close(fd);
}

static void peek(const char *img, long off, void *data, size_t n)
{
    int fd = open(img, O_RDONLY);
    if (pread(fd, data, n, off) != (ssize_t)n)
        perror("pread");
    close(fd);
}

static void poke32(const char *img, long off, uint32_t v)
{
    poke(img, off, &v, 4);
}

static void poke16(const char *img, long off, uint16_t v)
{
    poke(img, off, &v, 2);
}

/* After changing superblock fields of a checksummed image: a valid checksum again. */
static void fix_super_csum(const char *img)
{
    uint8_t sb[1024];
    peek(img, 1024, sb, sizeof(sb));
    uint32_t c = ext4_crc32c(~0u, sb, 0x3FC);
    poke32(img, 1024 + 0x3FC, c);
}

static int try_mount(const char *img, unsigned flags)
{
    struct t_img im;
    struct ext4_fs *fs;
    if (t_open_img(&im, img))
        return -999;
    int err = t_mount(&im, flags, &fs);
    if (!err)
        ext4_fs_unmount(fs);
    close(im.fd);
    return err;
}

/* Mount, then resolve path and read it all: the first error. */
static int try_read(const char *img, const char *path)
{
    struct t_img im;
    struct ext4_fs *fs;
    if (t_open_img(&im, img))
        return -999;
    int err = t_mount(&im, EXT4_MOUNT_RDONLY, &fs);
    if (err) {
        close(im.fd);
        return 1000 + err;
    }
    struct ext4_inode ei;
    err = t_lookup(fs, path, &ei);
    if (!err && (ei.mode & 0170000) == 0040000) {
        struct t_names n;
        err = t_list(fs, &ei, &n);
        t_names_free(&n);
    } else if (!err) { /* a short read hides an error until the next read: read to the end */
        char *buf = malloc(1 << 16);
        uint64_t off = 0;
        ssize_t r;
        while ((r = ext4_file_read(fs, &ei, off, buf, 1 << 16)) > 0)
            off += (uint64_t)r;
        err = r < 0 ? (int)r : 0;
        free(buf);
    }
    ext4_fs_unmount(fs);
    close(im.fd);
    return err;
}

#define EXPECT_MOUNT(what, img, want)                                          \
    do {                                                                       \
        int got_ = try_mount(img, EXT4_MOUNT_RDONLY);                          \
        T_EXPECT(got_ == (want), "%s: mount gives %d, want %d", what, got_, want); \
    } while (0)

UNIT_TEST(ext4_corrupt_superblock_refused)
{
    if (!t_have_tools() || !base(0) || !base(1))
        return;
    struct { const char *what; long off; uint32_t v; int size; } cases[] = {
        { "magic", 0x38, 0x1234, 2 },
        { "block size 2^17", 0x18, 7, 4 },
        { "no blocks per group", 0x20, 0, 4 },
        { "inodes per group", 0x28, 0x7FFFFFF8, 4 },
        { "inode count", 0x00, 5, 4 },
        { "first data block", 0x14, 3, 4 },
        { "larger than the device", 0x04, 0x7FFFFFFF, 4 },
        { "revision", 0x4C, 9, 4 },
        { "unknown incompatible feature", 0x60, 0x1000 | 0x2 | 0x40 | 0x200, 4 },
        { "inode size", 0x58, 100, 2 },
        { "inode size above a block", 0x58, 8192, 2 },
        { "first inode", 0x54, 3, 4 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (int k = 0; k < 2; k++) {
            const char *img = work_copy(k);
            if (cases[i].size == 2)
                poke16(img, 1024 + cases[i].off, (uint16_t)cases[i].v);
            else
                poke32(img, 1024 + cases[i].off, cases[i].v);
            if (k == 1)
                fix_super_csum(img);
            EXPECT_MOUNT(cases[i].what, img, -EINVAL);
        }
    }
    const char *img = work_copy(1);
    uint8_t b;
    peek(img, 1024 + 0x78, &b, 1);
    b ^= 0x40;
    poke(img, 1024 + 0x78, &b, 1); /* the volume name: only the checksum notices */
    EXPECT_MOUNT("superblock checksum", img, -EBADMSG);
    img = work_copy(1);
    poke16(img, 1024 + 0xFE, 48);
    fix_super_csum(img);
    EXPECT_MOUNT("descriptor size", img, -EINVAL);
    img = work_copy(0);
    EXPECT_MOUNT("the good image", img, 0);
}

UNIT_TEST(ext4_corrupt_group_descriptors_refused)
{
    if (!t_have_tools() || !base(0) || !base(1))
        return;
    const char *img = work_copy(0);
    long gdt = 4096; /* 4k blocks: the table is block 1 */
    poke32(img, gdt + 8, 0x7FFFFFF0);
    EXPECT_MOUNT("inode table outside", img, -EUCLEAN);
    img = work_copy(0);
    poke32(img, gdt + 0, 0);
    EXPECT_MOUNT("block bitmap on the superblock", img, -EUCLEAN);
    img = work_copy(0);
    poke16(img, gdt + 0xC, 0xFFFF);
    EXPECT_MOUNT("free block count", img, -EUCLEAN);
    img = work_copy(1);
    uint8_t b;
    peek(img, 2048 + 0xE, &b, 1);
    b ^= 1;
    poke(img, 2048 + 0xE, &b, 1); /* 1k blocks: block 2 */
    EXPECT_MOUNT("descriptor checksum", img, -EBADMSG);
}

UNIT_TEST(ext4_corrupt_inodes_and_extents)
{
    if (!t_have_tools() || !base(0) || !base(1))
        return;
    /* the root inode with no valid type: refused at mount */
    const char *img = work_copy(0);
    poke16(img, inode_offset(img, "/"), 0xF1ED);
    EXPECT_MOUNT("root inode type", img, -EUCLEAN);
    img = work_copy(1);
    uint8_t b;
    long ro = inode_offset(img, "/");
    peek(img, ro + 0x10, &b, 1);
    b ^= 1;
    poke(img, ro + 0x10, &b, 1);
    EXPECT_MOUNT("root inode checksum", img, -EBADMSG);
    struct { const char *what; long off; uint16_t v; } ext[] = {
        { "extent magic", 0x28, 0x1234 },
        { "more extents than room", 0x28 + 2, 5 },
        { "extent tree too deep", 0x28 + 6, 9 },
        { "extent capacity", 0x28 + 4, 7 },
        { "extent past the device", 0x28 + 12 + 6, 0x7FFF },
        { "extra inode size", 0x80, 300 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
        img = work_copy(0);
        poke16(img, inode_offset(img, "/file") + ext[i].off, ext[i].v);
        int err = try_read(img, "/file");
        T_EXPECT(err == -EUCLEAN, "%s: read gives %d", ext[i].what, err);
        T_EXPECT(try_read(img, "/small") == 0, "%s: other files still read", ext[i].what);
    }
    /* the extent node below a fragmented file */
    for (int k = 0; k < 2; k++) {
        img = work_copy(k);
        long node = dbg(img, "stat /frag", "(ETB0):") * block_size_of(img);
        T_EXPECT(node > 0, "the fragmented file has an extent node");
        if (node <= 0)
            continue;
        if (k == 0) {
            poke16(img, node, 0xBEEF);
            T_EXPECT(try_read(img, "/frag") == -EUCLEAN, "extent node magic");
            img = work_copy(k);
            poke16(img, node + 6, 3);
            T_EXPECT(try_read(img, "/frag") == -EUCLEAN, "extent node depth");
            img = work_copy(k);
            poke16(img, node + 2, 0xFFF0);
            T_EXPECT(try_read(img, "/frag") == -EUCLEAN, "extent node entries");
        } else {
            peek(img, node + 20, &b, 1);
            b ^= 0x10;
            poke(img, node + 20, &b, 1);
            T_EXPECT(try_read(img, "/frag") == -EBADMSG, "extent node checksum");
        }
    }
}

extern int unit_log_quiet;

UNIT_TEST(ext4_corrupt_directories)
{
    unit_log_quiet = !getenv("EXT4_TEST_LOG");
    if (!t_have_tools() || !base(0) || !base(1))
        return;
    struct { const char *what; long off; uint16_t v; } cases[] = {
        { "record length 0", 4, 0 },
        { "record length not a multiple of 4", 4, 14 },
        { "record past the block", 12 + 4, 0x7FF0 },
        { "name longer than its record", 12 + 6, 0x00FF },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *img = work_copy(0);
        poke16(img, first_block(img, "/plain") + cases[i].off, cases[i].v);
        int err = try_read(img, "/plain");
        T_EXPECT(err == -EUCLEAN, "%s: readdir gives %d", cases[i].what, err);
        err = try_read(img, "/plain/p05");
        T_EXPECT(err == -EUCLEAN, "%s: lookup gives %d", cases[i].what, err);
    }
    const char *img = work_copy(0);
    poke32(img, first_block(img, "/plain") + 24, 0x7FFFFFFF); /* the third entry's inode */
    T_EXPECT(try_read(img, "/plain") == -EUCLEAN, "inode number out of range");
    img = work_copy(1);
    long blk = first_block(img, "/plain");
    uint8_t b;
    peek(img, blk + 30, &b, 1);
    b ^= 1;
    poke(img, blk + 30, &b, 1);
    T_EXPECT(try_read(img, "/plain") == -EBADMSG, "directory block checksum");
    /* a damaged hash index costs only speed: names are still found */
    for (int k = 0; k < 2; k++) {
        img = work_copy(k);
        long root = first_block(img, "/idx");
        poke(img, root + 0x1C, "\x09", 1); /* an unknown hash */
        /* with checksums the root block itself fails, and with it the directory */
        int err = try_read(img, "/idx/indexed-directory-entry-0333");
        T_EXPECT(k == 0 ? err == 0 : err == -EBADMSG, "unknown hash version: lookup gives %d", err);
        img = work_copy(k);
        poke16(img, root + 0x22, 0x7FFF); /* count past the limit */
        err = try_read(img, "/idx/indexed-directory-entry-0444");
        T_EXPECT(k == 0 ? err == 0 : err == -EUCLEAN, "bad index count: lookup gives %d", err);
    }
    img = work_copy(0);
    long root = first_block(img, "/idx");
    poke32(img, root + 0x28 + 4, 0x0FFFFFFF);                    /* an index entry past the directory */
    T_EXPECT(try_read(img, "/idx/indexed-directory-entry-0555") == 0, "index pointing outside: found linearly");
}

UNIT_TEST(ext4_corrupt_block_maps)
{
    if (!t_have_tools() || !base(2))
        return;
    const char *img = work_copy(2);
    poke32(img, inode_offset(img, "/file") + 0x28 + 4, 0x7FFFFFFF);
    int err = try_read(img, "/file");
    T_EXPECT(err == -EUCLEAN, "direct pointer outside the file system: %d", err);
    img = work_copy(2);
    long ind = 0;
    peek(img, inode_offset(img, "/file") + 0x28 + 12 * 4, &ind, 4);
    poke32(img, ind * 1024 + 8, 0x7FFFFFF0);
    err = try_read(img, "/file");
    T_EXPECT(err == -EUCLEAN, "indirect block pointer outside the file system: %d", err);
}

/* ---- random damage ---- */

/* Read everything reachable, within bounds (a damaged tree may have cycles). */
static void walk(struct ext4_fs *fs, struct ext4_inode *dir, int depth, unsigned *budget, char *buf)
{
    struct t_names names;
    if (depth > 16)
        return;
    if (t_list(fs, dir, &names) != 0) {
        t_names_free(&names);
        return;
    }
    for (size_t i = 0; i < names.n && *budget; i++, (*budget)--) {
        if (!strcmp(names.name[i], ".") || !strcmp(names.name[i], ".."))
            continue;
        uint32_t ino;
        uint8_t ft;
        struct ext4_inode ei;
        if (ext4_dir_lookup(fs, dir, names.name[i], strlen(names.name[i]), &ino, &ft) ||
            ext4_inode_read(fs, ino, &ei))
            continue;
        if ((ei.mode & 0170000) == 0040000)
            walk(fs, &ei, depth + 1, budget, buf);
        else if ((ei.mode & 0170000) == 0120000)
            ext4_readlink(fs, &ei, buf, 4096);
        else
            ext4_file_read(fs, &ei, 0, buf, 1 << 18);
    }
    t_names_free(&names);
}

/* Changes on a damaged file system: they may fail, never crash. */
static void scribble(struct ext4_fs *fs)
{
    struct ext4_inode root, ei, d;
    if (ext4_inode_read(fs, EXT4_ROOT_INO, &root))
        return;
    static char data[20000];
    if (ext4_create(fs, &root, "new", 3, 0100644, 0, 0, 0, &ei) == 0) {
        ext4_file_write(fs, &ei, 0, data, sizeof(data));
        ext4_truncate(fs, &ei, 100);
    }
    if (ext4_mkdir(fs, &root, "nd", 2, 0755, 0, 0, &d) == 0)
        ext4_create(fs, &d, "x", 1, 0100644, 0, 0, 0, &ei);
    uint32_t ino;
    uint8_t ft;
    if (ext4_dir_lookup(fs, &root, "file", 4, &ino, &ft) == 0 && ext4_inode_read(fs, ino, &ei) == 0 &&
        ext4_unlink(fs, &root, "file", 4, &ei) == 0)
        ext4_inode_release(fs, &ei);
    if (t_lookup(fs, "/idx", &d) == 0)
        ext4_create(fs, &d, "added", 5, 0100644, 0, 0, 0, &ei);
    ext4_fs_sync(fs, true);
}

/* Metadata blocks of the base image: where damage is interesting. */
static size_t metadata_blocks(const char *img, long *out, size_t max)
{
    size_t n = 0;
    uint32_t bs = block_size_of(img);
    long limit = (long)(2 * 1024 * 1024 / bs); /* groups' metadata sits at the start */
    for (long b = 0; b < limit && n < max / 2; b++)
        out[n++] = b;
    const char *paths[] = { "/", "/plain", "/idx", "/frag", "/file" };
    for (size_t i = 0; i < ARRAY_SIZE(paths) && n < max; i++) {
        char c[300], line[8192];
        snprintf(c, sizeof(c), T_SBIN "debugfs -R 'blocks %s' %s 2>/dev/null", paths[i], img);
        FILE *f = popen(c, "r");
        while (f && fgets(line, sizeof(line), f)) {
            for (char *p = strtok(line, " \n"); p && n < max; p = strtok(NULL, " \n"))
                out[n++] = strtol(p, NULL, 10);
        }
        if (f)
            pclose(f);
    }
    return n;
}

UNIT_TEST(ext4_random_damage_never_crashes)
{
    if (!t_have_tools())
        return;
    unsigned iterations = getenv("EXT4_FUZZ_ITERATIONS") ? (unsigned)atoi(getenv("EXT4_FUZZ_ITERATIONS")) : 150;
    srand(12345);
    char *buf = malloc(1 << 18);
    for (int k = 0; k < 3; k++) {
        if (!base(k))
            continue;
        static long blocks[4096];
        size_t nb = metadata_blocks(base(k), blocks, ARRAY_SIZE(blocks));
        uint32_t bs = block_size_of(base(k));
        for (unsigned it = 0; it < iterations; it++) {
            const char *img = work_copy(k);
            int flips = 1 + rand() % 8;
            for (int f = 0; f < flips; f++) {
                long off = blocks[(size_t)rand() % nb] * bs + rand() % (long)bs;
                uint8_t v = (uint8_t)rand();
                poke(img, off, &v, 1);
            }
            struct t_img im;
            struct ext4_fs *fs;
            if (t_open_img(&im, img))
                continue;
            bool rw = it % 3 == 0;
            if (t_mount(&im, rw ? 0 : EXT4_MOUNT_RDONLY, &fs) == 0) {
                struct ext4_inode root;
                unsigned budget = 3000;
                if (ext4_inode_read(fs, EXT4_ROOT_INO, &root) == 0)
                    walk(fs, &root, 0, &budget, buf);
                if (rw && !fs->read_only)
                    scribble(fs);
                ext4_fs_unmount(fs);
            }
            close(im.fd);
        }
    }
    free(buf);
    CHECK(1); /* reaching here is the test: no crash, no sanitizer report */
}
