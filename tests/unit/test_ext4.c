/* Host tests of the ext4 core, read side: images made by mkfs.ext4 -d from a
 * tree built here (files of many sizes, a sparse 1 GiB file, deep and
 * 10,000-entry directories, fast and slow symlinks, hard links), in many
 * formats (1k/4k blocks, 32/64-bit, with and without metadata_csum, ext2 and
 * ext3 block maps, inline data, htree hashes), each compared with the tree. */
#include "test_ext4_util.h"

/* The tree every image is made from; with_big adds the 10,000-entry
 * directory (mke2fs takes ~25 s to fill it, so only some images carry it). */
static const char *src_tree(bool with_big)
{
    static char src[2][300];
    char *dir = src[with_big];
    if (dir[0])
        return dir;
    snprintf(dir, sizeof(src[0]), "%s/src%s", t_tmpdir(), with_big ? "-big" : "");
    int st = t_sh(
        "set -e; d=%s; mkdir -p $d; cd $d;"
        ": > empty; printf x > one; head -c 4095 /dev/urandom > b4095; head -c 4096 /dev/urandom > b4096;"
        "head -c 4097 /dev/urandom > b4097; head -c 1048576 /dev/urandom > mib; head -c 200000 /dev/urandom > odd;"
        "truncate -s 1G sparse; printf start | dd of=sparse conv=notrunc status=none;"
        "printf middle | dd of=sparse bs=1 seek=123456789 conv=notrunc status=none;"
        "printf end | dd of=sparse bs=1 seek=1073741800 conv=notrunc status=none;"
        "p=deep; for i in $(seq 1 40); do p=$p/d$i; done; mkdir -p $p; echo bottom > $p/file;"
        "mkdir mid; (cd mid; seq -f 'mid-entry-%%04g-name' 0 999 | xargs touch); echo hi > mid/mid-entry-0042-name;"
        "if [ %d = 1 ]; then mkdir big; (cd big; seq -f 'entry-%%05g-with-a-longer-name' 0 9999 | xargs touch);"
        "  echo hi > big/entry-00042-with-a-longer-name; fi;"
        "ln -s one fastlink; ln -s $(printf 'x%%.0s' $(seq 1 100))/target slowlink; ln -s /a/b/c/d abslink;"
        "echo shared > hl1; ln hl1 hl2; ln hl1 deep/hl3;"
        "mkfifo fifo; chmod 4755 one; chmod 0600 b4095;"
        "echo utf > $(printf 'caf\\303\\251-\\342\\202\\254'); echo long > $(printf 'n%%.0s' $(seq 1 255));"
        "touch -d '2001-02-03 04:05:06' b4096; touch -d '2040-01-01 00:00:00' b4097",
        dir, with_big ? 1 : 0);
    if (st != 0) {
        fprintf(stderr, "cannot build the source tree in %s\n", dir);
        exit(2);
    }
    return dir;
}

#define FEAT_EXT4 "has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super," \
                  "large_file,huge_file,dir_nlink,extra_isize"

struct variant {
    const char *name, *opts;
    const char *after;           /* a command run on the image after mkfs (%s: the image) */
    bool indexed;                /* the large directories carry a hash index */
    bool big;                    /* with the 10,000-entry directory */
};

static const struct variant variants[] = {
    { .name = "ext4-4k", .opts = "-b 4096 -I 256 -N 20000 -O none," FEAT_EXT4 ",metadata_csum,64bit" },
    { .name = "ext4-4k-htree", .opts = "-b 4096 -I 256 -N 20000 -O none," FEAT_EXT4 ",metadata_csum,64bit",
      .after = "e2fsck -fyD %s", .indexed = true, .big = true },
    { .name = "ext4-1k-htree", .opts = "-b 1024 -I 256 -N 20000 -O none," FEAT_EXT4 ",metadata_csum,64bit",
      .after = "e2fsck -fyD %s", .indexed = true },
    { .name = "ext4-2k-32bit", .opts = "-b 2048 -I 256 -N 20000 -O none," FEAT_EXT4 ",uninit_bg",
      .after = "e2fsck -fyD %s", .indexed = true },
    { .name = "ext4-nocsum", .opts = "-b 4096 -I 256 -N 20000 -O none," FEAT_EXT4 },
    { .name = "ext4-tea", .opts = "-b 4096 -I 256 -N 20000 -O none," FEAT_EXT4 ",metadata_csum",
      .after = "tune2fs -E hash_alg=tea %s && e2fsck -fyD %s", .indexed = true },
    { .name = "ext4-legacy", .opts = "-b 1024 -I 512 -N 20000 -O none," FEAT_EXT4 ",64bit",
      .after = "tune2fs -E hash_alg=legacy %s && e2fsck -fyD %s", .indexed = true },
    { .name = "ext4-metabg", .opts = "-b 1024 -I 256 -N 20000 -O none,ext_attr,dir_index,filetype,extent,"
                                     "sparse_super,large_file,huge_file,dir_nlink,extra_isize,metadata_csum,64bit,meta_bg" },
    { .name = "ext4-csumseed", .opts = "-b 4096 -I 256 -N 20000 -O none," FEAT_EXT4
                                       ",metadata_csum,metadata_csum_seed,64bit" },
    { .name = "ext4-inline", .opts = "-b 4096 -I 256 -N 20000 -O none," FEAT_EXT4 ",metadata_csum,64bit,inline_data" },
    { .name = "ext3-1k", .opts = "-b 1024 -I 128 -N 20000 -O none,has_journal,ext_attr,resize_inode,dir_index,"
                                 "filetype,sparse_super,large_file", .after = "e2fsck -fyD %s", .indexed = true },
    { .name = "ext2-4k", .opts = "-b 4096 -I 128 -N 20000 -O none,ext_attr,resize_inode,filetype,sparse_super,large_file",
      .big = true },
    { .name = "ext2-nofiletype", .opts = "-b 1024 -I 128 -N 20000 -r 0" },
    { .name = "ext4-64k", .opts = "-b 65536 -I 256 -N 20000 -O none," FEAT_EXT4 ",metadata_csum,64bit" },
};

static bool build_variant(const struct variant *v, char *img, size_t size)
{
    snprintf(img, size, "%s/%s.img", t_tmpdir(), v->name);
    unsigned mb = strstr(v->name, "64k") ? 256 : 96;
    if (t_mkfs(img, src_tree(v->big), mb, v->opts) != 0) {
        fprintf(stderr, "mkfs failed for %s\n", v->name);
        return false;
    }
    if (v->after) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), v->after, img, img);
        t_sh(T_SBIN "(%s) >/dev/null 2>&1", cmd);
    }
    return true;
}

static void check_variant(const struct variant *v)
{
    char img[300];
    if (!build_variant(v, img, sizeof(img))) {
        CHECK(!"mkfs");
        return;
    }
    struct t_img im;
    CHECK(t_open_img(&im, img) == 0);
    struct ext4_fs *fs = NULL;
    int err = t_mount(&im, EXT4_MOUNT_RDONLY, &fs);
    T_EXPECT(err == 0, "%s: mount error %d", v->name, err);
    if (err) {
        close(im.fd);
        return;
    }
    struct ext4_inode root, dir, ei;
    CHECK(ext4_inode_read(fs, EXT4_ROOT_INO, &root) == 0);
    unsigned before = t_compare_failures;
    size_t seen = t_compare_tree(fs, &root, src_tree(v->big));
    T_EXPECT(seen > (v->big ? 11000u : 1000u), "%s: only %lu entries compared", v->name, (unsigned long)seen);
    T_EXPECT(t_compare_failures == before, "%s: tree differs", v->name);
    const char *dname = v->big ? "/big" : "/mid";
    CHECK(t_lookup(fs, dname, &dir) == 0);
    T_EXPECT(((dir.flags & EXT4_INDEX_FL) != 0) == v->indexed, "%s: %s indexed=%d", v->name, dname,
             !!(dir.flags & EXT4_INDEX_FL));
    T_EXPECT(t_lookup(fs, v->big ? "/big/entry-10000-with-a-longer-name" : "/mid/mid-entry-1000-name", &ei) ==
             -ENOENT, "%s: missing name", v->name);
    T_EXPECT(t_lookup(fs, v->big ? "/big/entry-0004" : "/mid/mid-entry", &ei) == -ENOENT, "%s: prefix of a name",
             v->name);
    CHECK(ext4_fs_unmount(fs) == 0);
    close(im.fd);
}

UNIT_TEST(ext4_images_match_their_source)
{
    if (!t_have_tools())
        return;
    for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
        time_t t0 = time(NULL);
        check_variant(&variants[i]);
        if (getenv("EXT4_TEST_VERBOSE"))
            fprintf(stderr, "%s: %lds\n", variants[i].name, (long)(time(NULL) - t0));
    }
}

UNIT_TEST(ext4_crc32c_vectors)
{
    CHECK_EQ(ext4_crc32c(~0u, "123456789", 9) ^ ~0u, 0xE3069283u);
    CHECK_EQ(ext4_crc32c(~0u, "", 0), ~0u);
    static uint8_t zeros[32];
    CHECK_EQ(ext4_crc32c(~0u, zeros, 32) ^ ~0u, 0x8A9136AAu);
    /* slicing and byte-wise agree at every alignment and length */
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    for (size_t a = 0; a < 8; a++) {
        uint32_t c1 = ext4_crc32c(~0u, buf + a, 200), c2 = ~0u;
        for (size_t i = 0; i < 200; i++)
            c2 = ext4_crc32c(c2, buf + a + i, 1);
        CHECK_EQ(c1, c2);
    }
    CHECK_EQ(ext4_crc16(0, "123456789", 9), 0xBB3D); /* CRC-16/ARC */
}

/* Our hashes against debugfs's dx_hash for every algorithm, seeds, long and 8-bit names. */
UNIT_TEST(ext4_dx_hash_matches_debugfs)
{
    if (!t_have_tools())
        return;
    static const char *algs[] = { "legacy", "half_md4", "tea", "legacy_unsigned", "half_md4_unsigned",
                                  "tea_unsigned" };
    static const char *names[] = { "a", "hello", "entry-00042-with-a-longer-name", "caf\xc3\xa9",
                                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-x",
                                   "\xff\xfe\x80", "lost+found", "exactly32bytesexactly32bytes1234" };
    static const char *seed_s = "d1b2c3a4-1111-2222-3333-444455556666";
    static const uint32_t seed[4] = { 0xa4c3b2d1, 0x22221111, 0x44443333, 0x66665555 };
    char out[300], cmd[1024];
    snprintf(out, sizeof(out), "%s/dxhash.txt", t_tmpdir());
    char img[300];
    snprintf(img, sizeof(img), "%s/hash.img", t_tmpdir());
    CHECK(t_mkfs(img, NULL, 8, "-b 1024") == 0);
    for (int s = 0; s < 2; s++) {
        for (size_t a = 0; a < ARRAY_SIZE(algs); a++) {
            for (size_t n = 0; n < ARRAY_SIZE(names); n++) {
                /* numeric versions: debugfs's names stop at tea */
                snprintf(cmd, sizeof(cmd), T_SBIN "debugfs -R 'dx_hash -h %zu %s%s \"%s\"' %s > %s 2>/dev/null", a,
                         s ? "-s " : "", s ? seed_s : "", names[n], img, out);
                if (t_sh("%s", cmd) != 0)
                    continue;
                FILE *f = fopen(out, "r");
                char line[512] = "";
                unsigned long want = 0, want_minor = 0;
                while (f && fgets(line, sizeof(line), f)) {
                    char *p = strstr(line, " is 0x");
                    if (p && sscanf(p, " is 0x%lx (minor 0x%lx)", &want, &want_minor) >= 1)
                        break;
                }
                if (f)
                    fclose(f);
                uint32_t major, minor;
                ext4_dx_hash((int)a, s ? seed : NULL, names[n], strlen(names[n]), &major, &minor);
                T_EXPECT(major == want && minor == want_minor, "%s(%s) seed %d: 0x%x/0x%x, debugfs 0x%lx/0x%lx",
                         algs[a], names[n], s, major, minor, want, want_minor);
            }
        }
    }
}
