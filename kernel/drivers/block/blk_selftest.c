/* --test=blk: the block layer and the disk driver against a disk the test
 * harness prepared (tests/test_virtio_blk.py): the whole disk holds
 * consecutive 32-bit little-endian integers (the word at byte offset b is
 * b / 4). Reads are checked against that; writes go to the second half at
 * fixed places the harness checks in the image file afterwards. A
 * read-only disk must refuse every write with -EROFS. */
#include "drivers/block.h"
#include "core/selftest.h"
#include "core/cpu.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

/* Where the writes go, as offsets from the middle of the disk (keep in step
 * with tests/test_virtio_blk.py). */
#define W_PATTERN_OFF 0             /* 256 KiB of (b / 4) ^ 0xdeadbeef */
#define W_PATTERN_LEN (256u << 10)
#define W_UNALIGNED_OFF ((300u << 10) + 100) /* 700 bytes of 0x5a */
#define W_UNALIGNED_LEN 700
#define W_BCACHE_OFF (512u << 10)   /* one 4 KiB block starting "osprey bcache ok" */
#define W_ZERO_OFF (1u << 20)       /* 64 KiB of zeroes */
#define W_ZERO_LEN (64u << 10)
#define BIG_READ (1u << 20)
#define RA_BLOCKS 32

static uint32_t expect(uint64_t off)
{
    return (uint32_t)(off / 4);
}

/* Does buf hold the original pattern for [off, off+len)? Word aligned. */
static bool pattern_ok(const void *buf, uint64_t off, size_t len)
{
    const uint32_t *w = buf;
    for (size_t i = 0; i < len / 4; i++)
        if (w[i] != expect(off + 4 * i))
            return false;
    return true;
}

static int check_reads(struct blockdev *d)
{
    int fails = 0;
    uint8_t small[512];
    fails += selftest_check(blockdev_read(d, 0, small, sizeof(small)) == 0 && pattern_ok(small, 0, 512),
                            "sector 0 holds the pattern (stack buffer)");
    uint8_t *big = kmalloc(BIG_READ);
    if (!big)
        return fails + selftest_check(false, "1 MiB buffer");
    fails += selftest_check(blockdev_read(d, 64 << 10, big, BIG_READ) == 0 && pattern_ok(big, 64 << 10, BIG_READ),
                            "1 MiB read at 64 KiB (split into requests) holds the pattern");
    uint64_t last = blockdev_size(d) - 4096;
    fails += selftest_check(blockdev_read(d, last, big, 4096) == 0 && pattern_ok(big, last, 4096),
                            "the last 4 KiB hold the pattern");
    /* unaligned head and tail: 1000..4000 */
    memset(big, 0, 4096);
    int e = blockdev_read(d, 1000, big, 3000);
    fails += selftest_check(e == 0 && pattern_ok(big, 1000, 3000), "unaligned read of 3000 bytes at 1000");
    /* a buffer on the kernel stack that crosses a page boundary */
    uint8_t across[3 * 1024];
    fails += selftest_check(blockdev_read(d, 8192, across, sizeof(across)) == 0 &&
                                pattern_ok(across, 8192, sizeof(across)),
                            "read into a 3 KiB stack buffer");
    fails += selftest_check(blockdev_read(d, blockdev_size(d) - 512, big, 1024) == -EINVAL,
                            "a read past the end is refused with -EINVAL");
    kfree(big);
    return fails;
}

static int check_readonly(struct blockdev *d)
{
    uint8_t buf[512] = { 0 };
    int fails = selftest_check(blockdev_write(d, 0, buf, sizeof(buf)) == -EROFS,
                               "a write to the read-only disk fails with -EROFS");
    fails += selftest_check(blockdev_write_zeroes(d, 0, 4096) == -EROFS, "write-zeroes too");
    struct bbuf *b;
    fails += selftest_check(blockdev_bread(d, 0, 4096, &b) == 0 && pattern_ok(b->data, 0, 4096),
                            "cached read of block 0");
    blockdev_bdirty(b);
    fails += selftest_check(blockdev_bwrite(b) == -EROFS, "writing a cached block back fails with -EROFS");
    blockdev_brelse(b);
    fails += selftest_check(blockdev_read(d, 0, buf, sizeof(buf)) == 0 && pattern_ok(buf, 0, 512),
                            "the disk is unchanged");
    return fails;
}

static void fill_write_pattern(uint32_t *w, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len / 4; i++)
        w[i] = expect(off + 4 * i) ^ 0xdeadbeef;
}

static int check_writes(struct blockdev *d)
{
    int fails = 0;
    uint64_t mid = blockdev_size(d) / 2;
    uint32_t *w = kmalloc(W_PATTERN_LEN), *r = kmalloc(W_PATTERN_LEN);
    if (!w || !r)
        return selftest_check(false, "write buffers");
    fill_write_pattern(w, mid + W_PATTERN_OFF, W_PATTERN_LEN);
    fails += selftest_check(blockdev_write(d, mid + W_PATTERN_OFF, w, W_PATTERN_LEN) == 0, "256 KiB write");
    fails += selftest_check(blockdev_read(d, mid + W_PATTERN_OFF, r, W_PATTERN_LEN) == 0 &&
                                memcmp(w, r, W_PATTERN_LEN) == 0,
                            "reads back the same");
    uint8_t fives[W_UNALIGNED_LEN];
    memset(fives, 0x5a, sizeof(fives));
    fails += selftest_check(blockdev_write(d, mid + W_UNALIGNED_OFF, fives, sizeof(fives)) == 0,
                            "unaligned write of 700 bytes");
    uint64_t blk = ALIGN_DOWN(mid + W_UNALIGNED_OFF, 512ull);
    uint8_t *around = (uint8_t *)r;
    blockdev_read(d, blk, around, 2048);
    unsigned head = (unsigned)(mid + W_UNALIGNED_OFF - blk);
    bool ok = pattern_ok(around, blk, head) && memcmp(around + head, fives, sizeof(fives)) == 0 &&
              pattern_ok(around + ALIGN_UP(head + W_UNALIGNED_LEN, 4u), blk + ALIGN_UP(head + W_UNALIGNED_LEN, 4u),
                         2048 - ALIGN_UP(head + W_UNALIGNED_LEN, 4u));
    fails += selftest_check(ok, "the bytes around it are untouched");
    fails += selftest_check(blockdev_write_zeroes(d, mid + W_ZERO_OFF, W_ZERO_LEN) == 0, "write-zeroes of 64 KiB");
    memset(r, 0xff, W_ZERO_LEN);
    blockdev_read(d, mid + W_ZERO_OFF, r, W_ZERO_LEN);
    ok = true;
    for (unsigned i = 0; i < W_ZERO_LEN / 4; i++)
        ok &= r[i] == 0;
    fails += selftest_check(ok, "reads back as zeroes");
    kfree(w);
    kfree(r);
    return fails;
}

static int check_cache(struct blockdev *d)
{
    int fails = 0;
    uint64_t mid = blockdev_size(d) / 2, blkno = (mid + W_BCACHE_OFF) / 4096;
    struct bbuf *b, *b2;
    fails += selftest_check(blockdev_bread(d, blkno, 4096, &b) == 0 && pattern_ok(b->data, blkno * 4096, 4096),
                            "bread of a 4 KiB block");
    fails += selftest_check(blockdev_bread(d, blkno, 4096, &b2) == 0 && b2 == b, "a second bread shares it");
    blockdev_brelse(b2);
    memcpy(b->data, "osprey bcache ok", 16);
    blockdev_bdirty(b);
    blockdev_brelse(b);
    char head[16];
    fails += selftest_check(blockdev_read(d, blkno * 4096, head, 16) == 0 && memcmp(head, "osprey bcache ok", 16) == 0,
                            "blockdev_read sees the dirty cached block");
    fails += selftest_check(blockdev_flush(d) == 0, "flush (writes the block back)");
    fails += selftest_check(blockdev_cache_drop(d) == 0, "cache dropped");
    fails += selftest_check(blockdev_bread(d, blkno, 4096, &b) == 0 && memcmp(b->data, "osprey bcache ok", 16) == 0 &&
                                pattern_ok((uint8_t *)b->data + 16, blkno * 4096 + 16, 4096 - 16),
                            "re-read from the disk: the change is there");
    blockdev_brelse(b);
    blockdev_readahead(d, 16, 4096, RA_BLOCKS);
    bool ok = true;
    for (unsigned i = 0; i < RA_BLOCKS && ok; i++) {
        ok = blockdev_bread(d, 16 + i, 4096, &b) == 0 && pattern_ok(b->data, (16 + i) * 4096ull, 4096);
        if (ok)
            blockdev_brelse(b);
    }
    fails += selftest_check(ok, "read-ahead of %u blocks, then bread of each", RA_BLOCKS);
    return fails;
}

struct reader_arg {
    struct blockdev *dev;
    unsigned seed;
    int bad;
};

static void reader_thread(void *p)
{
    struct reader_arg *a = p;
    uint8_t *buf = kmalloc(64 << 10);
    uint64_t half = blockdev_size(a->dev) / 2;
    for (unsigned i = 0; i < 40 && buf; i++) {
        a->seed = a->seed * 1103515245u + 12345u;
        size_t len = 512u * (1 + (a->seed >> 8) % 128);
        uint64_t off = ALIGN_DOWN(((uint64_t)a->seed << 9) % (half - len), 4ull);
        if (blockdev_read(a->dev, off, buf, len) != 0 || !pattern_ok(buf, off, len))
            a->bad++;
    }
    kfree(buf);
    thread_exit(0);
}

/* Reads from every CPU at once: queues, interrupts and wakeups across CPUs. */
static int check_parallel(struct blockdev *d)
{
    unsigned n = MIN(cpu_count * 2, 8u);
    struct reader_arg args[8];
    struct thread *t[8];
    for (unsigned i = 0; i < n; i++) {
        args[i] = (struct reader_arg){ d, 7 + i * 31, 0 };
        t[i] = thread_spawn("blkread", reader_thread, &args[i], (int)(i % cpu_count));
    }
    int bad = 0;
    for (unsigned i = 0; i < n; i++) {
        if (t[i])
            thread_join(t[i]);
        bad += args[i].bad + !t[i];
    }
    return selftest_check(bad == 0, "%u threads on %u CPUs, 40 random reads each: %d bad", n, cpu_count, bad);
}

SELFTEST(blk, "block layer and disk driver on a prepared disk (vblk0)", false)
{
    struct blockdev *d = blockdev_find("vblk0");
    if (selftest_check(d != NULL, "vblk0 exists"))
        return 1;
    int fails = selftest_check(blockdev_size(d) >= (4u << 20), "vblk0 is at least 4 MiB (%lu bytes)", blockdev_size(d));
    if (fails)
        return fails;
    fails += check_reads(d);
    if (blockdev_read_only(d))
        return fails + check_readonly(d) + check_parallel(d);
    fails += check_writes(d);
    fails += check_cache(d);
    fails += check_parallel(d);
    fails += selftest_check(blockdev_flush(d) == 0, "final flush");
    return fails;
}
