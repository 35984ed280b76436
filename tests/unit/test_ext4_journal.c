/* Host tests of journal replay: transactions written into the log with
 * debugfs (journal_write), including an escaped block, a revoked one and an
 * unfinished transaction, in several journal formats. Mounting replays
 * them; the result must equal what e2fsck's own replay makes of a copy, and
 * the file system must then be clean. */
#include "test_ext4_util.h"

static void make_block(const char *path, const char *text, bool magic)
{
    char buf[65536] = { 0 };
    if (magic)
        memcpy(buf, "\xc0\x3b\x39\x98", 4); /* the journal's magic: logged escaped */
    else
        memcpy(buf, text, strlen(text));
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, sizeof(buf), f);
    fclose(f);
}

static void read_block(const char *img, uint64_t blk, uint32_t bs, char *out)
{
    int fd = open(img, O_RDONLY);
    if (pread(fd, out, bs, (off_t)(blk * bs)) != (ssize_t)bs)
        memset(out, 0xEE, bs);
    close(fd);
}

struct jcase {
    const char *name, *mkfs, *jo;
    uint32_t bs;
    uint64_t b1, b2;             /* two free blocks */
    bool drop_last_commit;       /* the last transaction (the revoke) never finished */
};

static void check_case(const struct jcase *c)
{
    char dir[300], img[340], ref[340];
    snprintf(dir, sizeof(dir), "%s/j-%s", t_tmpdir(), c->name);
    snprintf(img, sizeof(img), "%s/j.img", dir);
    snprintf(ref, sizeof(ref), "%s/ref.img", dir);
    t_sh("rm -rf %s && mkdir -p %s/src && head -c 10000 /dev/urandom > %s/src/victim", dir, dir, dir);
    char opts[400];
    snprintf(opts, sizeof(opts), "-b %u %s", c->bs, c->mkfs);
    t_sh(T_SBIN "rm -f %s && truncate -s 64M %s && mkfs.ext4 -q -F %s -d %s/src %s >/dev/null 2>&1", img, img, opts,
         dir, img);
    char p[400];
    snprintf(p, sizeof(p), "%s/new.bin", dir);
    make_block(p, "NEW CONTENT FROM THE JOURNAL", false);
    snprintf(p, sizeof(p), "%s/magic.bin", dir);
    make_block(p, NULL, true);
    snprintf(p, sizeof(p), "%s/rev.bin", dir);
    make_block(p, "REVOKED: MUST NOT APPEAR", false);
    int st = t_sh(T_SBIN "cd %s && b=$(debugfs -R 'bmap /victim 0' j.img 2>/dev/null) && "
                  "truncate -s %u new.bin magic.bin rev.bin && "
                  "printf '%s\\njw -b '$b' new.bin\\njw -b %lu magic.bin\\njw -b %lu rev.bin\\njw -r %lu\\njc\\n' | "
                  "debugfs -w -f - j.img >/dev/null 2>&1",
                  dir, c->bs, c->jo, (unsigned long)c->b1, (unsigned long)c->b2, (unsigned long)c->b2);
    CHECK(st == 0);
    if (c->drop_last_commit) { /* zero the last commit block: that transaction is incomplete */
        long commit = -1;
        char cmd[600], line[512];
        snprintf(cmd, sizeof(cmd), T_SBIN "debugfs -R logdump %s 2>/dev/null | grep 'commit block' | tail -1", img);
        FILE *f = popen(cmd, "r");
        if (f && fgets(line, sizeof(line), f)) {
            char *at = strstr(line, "at block ");
            commit = at ? strtol(at + 9, NULL, 10) : -1;
        }
        if (f)
            pclose(f);
        snprintf(cmd, sizeof(cmd), T_SBIN "debugfs -R 'bmap <8> %ld' %s 2>/dev/null", commit, img);
        f = popen(cmd, "r");
        long pb = f && fgets(line, sizeof(line), f) ? strtol(line, NULL, 10) : -1;
        if (f)
            pclose(f);
        CHECK(commit > 0 && pb > 0);
        t_sh("dd if=/dev/zero of=%s bs=%u seek=%ld count=1 conv=notrunc status=none", img, c->bs, pb);
    }
    t_sh("cp %s %s && " T_SBIN "e2fsck -fy %s >/dev/null 2>&1", img, ref, ref);
    /* a read-only device: no replay, a read-only mount */
    struct t_img im;
    CHECK(t_open_img(&im, img) == 0);
    struct ext4_io io = t_io(&im, true);
    struct ext4_fs *fs;
    int err = ext4_fs_mount(&io, "test", 0, t_now, &fs);
    T_EXPECT(err == 0 && fs->read_only && fs->journal.needs_recovery, "%s: read-only device: %d", c->name, err);
    if (!err)
        ext4_fs_unmount(fs);
    /* writable: replayed, then read-write */
    err = t_mount(&im, 0, &fs);
    T_EXPECT(err == 0 && !fs->read_only && !fs->journal.needs_recovery, "%s: replay and mount: %d", c->name, err);
    if (!err) {
        struct ext4_inode ei;
        char buf[64] = { 0 };
        CHECK(t_lookup(fs, "/victim", &ei) == 0);
        ext4_file_read(fs, &ei, 0, buf, 28);
        T_EXPECT(!memcmp(buf, "NEW CONTENT FROM THE JOURNAL", 28), "%s: the file's block came from the log", c->name);
        CHECK(ext4_fs_unmount(fs) == 0);
    }
    close(im.fd);
    static char a[65536], b[65536];
    uint64_t blocks[] = { c->b1, c->b2 };
    for (size_t i = 0; i < 2; i++) {
        read_block(img, blocks[i], c->bs, a);
        read_block(ref, blocks[i], c->bs, b);
        T_EXPECT(!memcmp(a, b, c->bs), "%s: block %lu as e2fsck replays it", c->name, (unsigned long)blocks[i]);
    }
    read_block(img, c->b1, c->bs, a);
    T_EXPECT(!memcmp(a, "\xc0\x3b\x39\x98", 4), "%s: the escaped block has its magic back", c->name);
    read_block(img, c->b2, c->bs, a);
    T_EXPECT(c->drop_last_commit ? !memcmp(a, "REVOKED", 7) : memcmp(a, "REVOKED", 7) != 0,
             "%s: revoke %s", c->name, c->drop_last_commit ? "of an unfinished transaction ignored" : "honoured");
    T_EXPECT(t_fsck_clean(img) == 0, "%s: e2fsck -fn clean after replay", c->name);
}

UNIT_TEST(ext4_journal_replay)
{
    if (!t_have_tools())
        return;
    static const struct jcase cases[] = {
        { "csum3-4k", "-O metadata_csum,64bit", "jo -c", 4096, 10000, 10001, false },
        { "plain-4k", "-O ^metadata_csum,64bit", "jo", 4096, 10000, 10001, false },
        { "32bit-1k", "-O ^metadata_csum,^64bit", "jo", 1024, 40000, 40001, false },
        { "csum2-1k", "-O metadata_csum,^64bit", "jo -c -v 2", 1024, 40000, 40001, false },
        { "unfinished", "-O metadata_csum,64bit", "jo -c", 4096, 10000, 10001, true },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        check_case(&cases[i]);
}
