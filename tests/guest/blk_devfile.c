/* A disk seen by an unmodified program: `blk_devfile [PATH MAJOR MINOR]`
 * makes the device node PATH (mknod; EEXIST is fine once devfs has it; not
 * on /tmp, which is nodev) and checks the pattern the harness
 * wrote (the 32-bit word at byte b is b / 4) with pread, lseek+read and the
 * block ioctls, then writes 8 KiB of 0xc3 at middle + 2 MiB + 3 and fsyncs
 * (tests/test_virtio_blk.py checks the image file afterwards). Without
 * arguments it makes such an image in /tmp itself and runs the same checks
 * on it as a regular file, which is how it runs natively and in the guest
 * test suite. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* <linux/fs.h>'s values (musl has no kernel headers) */
#define BLKSSZGET 0x1268
#define BLKGETSIZE64 0x80081272

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

static int pattern_ok(const uint32_t *w, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len / 4; i++)
        if (w[i] != (uint32_t)(off / 4 + i))
            return 0;
    return 1;
}

static const char *make_image(void)
{
    static const char path[] = "/tmp/blk_devfile.img";
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    static uint32_t chunk[16384];
    for (uint32_t c = 0; c < 128 && fd >= 0; c++) { /* 8 MiB, as the harness's disks */
        for (uint32_t i = 0; i < 16384; i++)
            chunk[i] = c * 16384 + i;
        if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
            return NULL;
    }
    close(fd);
    return fd >= 0 ? path : NULL;
}

int main(int argc, char **argv)
{
    const char *path = argc == 4 ? argv[1] : make_image();
    if (!path) {
        check(0, "make the image");
        return 1;
    }
    if (argc == 4) {
        int e = mknod(path, S_IFCHR | 0600, makedev(atoi(argv[2]), atoi(argv[3])));
        check(e == 0 || errno == EEXIST, "mknod of the disk's device node");
    }
    int fd = open(path, O_RDWR);
    check(fd >= 0, "open read-write");
    if (fd < 0)
        return 1;
    struct stat st;
    fstat(fd, &st);
    uint64_t size = (uint64_t)st.st_size;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        check(ioctl(fd, BLKGETSIZE64, &size) == 0, "BLKGETSIZE64");
        int ssz = 0;
        check(ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz >= 512, "BLKSSZGET");
    }
    check(size >= (4u << 20), "the disk is at least 4 MiB");
    static uint32_t buf[1 << 18];
    uint64_t offs[] = { 0, 512, 4096 + 12, 1 << 20, size / 2 - 4096 };
    int ok = 1;
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        ok &= pread(fd, buf, 4096, (off_t)offs[i]) == 4096 && pattern_ok(buf, offs[i], 4096);
    check(ok, "pread at five offsets sees the pattern");
    check(lseek(fd, 64 << 10, SEEK_SET) == 64 << 10 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
              pattern_ok(buf, 64 << 10, sizeof(buf)),
          "lseek + 1 MiB read");
    check(pread(fd, buf, 100, (off_t)size) == 0, "a read at the end returns 0");
    uint64_t w = size / 2 + (2u << 20) + 3;
    static uint8_t c3[8192], back[8192];
    memset(c3, 0xc3, sizeof(c3));
    check(pwrite(fd, c3, sizeof(c3), (off_t)w) == (ssize_t)sizeof(c3), "unaligned 8 KiB pwrite");
    check(fsync(fd) == 0, "fsync");
    check(pread(fd, back, sizeof(back), (off_t)w) == (ssize_t)sizeof(back) && !memcmp(back, c3, sizeof(c3)),
          "reads back the same");
    check(pread(fd, buf, 4, (off_t)(w - 3)) == 4 && ((uint8_t *)buf)[2] == (uint8_t)((w - 3) / 4 >> 16) &&
              ((uint8_t *)buf)[3] == 0xc3,
          "the bytes before it are untouched");
    close(fd);
    if (argc != 4)
        unlink(path);
    return failures ? 1 : 0;
}
