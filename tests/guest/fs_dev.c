/* Guest test: the device files, the mounts Osprey sets up, mount and
 * umount2 of in-memory file systems, and file mappings of tmpfs files. */
#include "fs_check.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#define TMPFS_MAGIC 0x01021994
#define RAMFS_MAGIC 0x858458f6

static void test_devices(void)
{
    char buf[64];
    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 0 && write(fd, "x", 1) == 1, "/dev/null");
    CHECK(write(fd, BAD_PTR, 10) == 10, "/dev/null never looks at the buffer");
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, sizeof(buf));
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 && buf[63] == 0, "/dev/zero");
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    CHECK_ERR(write(fd, "x", 1), ENOSPC, "/dev/full: ENOSPC");
    close(fd);
    uint64_t r[2] = { 0, 0 };
    fd = open("/dev/urandom", O_RDONLY);
    CHECK(fd >= 0 && read(fd, r, sizeof(r)) == sizeof(r) && r[0] != r[1], "/dev/urandom");
    close(fd);
    fd = open("/dev/random", O_RDONLY);
    CHECK(fd >= 0 && read(fd, r, sizeof(r)) == sizeof(r), "/dev/random does not block");
    close(fd);
    struct stat st;
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
          "/dev/null is char 1:3");
    if (!in_osprey())
        return;
    CHECK(lstat("/dev/stdin", &st) == 0 && S_ISLNK(st.st_mode), "/dev/stdin is a link");
    CHECK(readlink("/dev/fd", buf, sizeof(buf)) == 13 && memcmp(buf, "/proc/self/fd", 13) == 0, "/dev/fd -> /proc/self/fd");
    CHECK_ERR(open("/dev/ptmx", O_RDWR), ENOENT, "/dev/ptmx: ENOENT (no pseudo-terminals)");
    fd = open("/dev/console", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "console\n", 8) == 8, "write to /dev/console");
    close(fd);
    fd = open("/dev/tty", O_RDWR | O_NONBLOCK);
    CHECK(fd >= 0 && isatty(fd), "/dev/tty is a terminal");
    close(fd);
}

static void test_mounts(void)
{
    struct statfs sf;
    if (in_osprey()) {
        CHECK(statfs("/", &sf) == 0 && sf.f_type == RAMFS_MAGIC, "/ is ramfs");
        CHECK(statfs("/tmp", &sf) == 0 && sf.f_type == TMPFS_MAGIC && sf.f_blocks > 0, "/tmp is tmpfs");
        CHECK(statfs("/dev", &sf) == 0 && sf.f_type == TMPFS_MAGIC, "/dev is devtmpfs");
        struct stat st;
        CHECK(stat("/proc", &st) == 0 && S_ISDIR(st.st_mode) && stat("/sys", &st) == 0, "/proc and /sys exist");
    }
    if (getuid() != 0)
        return;
    mkdir("mnt", 0755);
    if (mount("test", "mnt", "tmpfs", 0, "size=256k,mode=0700") != 0) {
        CHECK(errno == EPERM, "mount not permitted here (errno %d): skipped", errno);
        return;
    }
    CHECK(statfs("mnt", &sf) == 0 && sf.f_type == TMPFS_MAGIC && sf.f_blocks * sf.f_bsize == 256 * 1024, "mount a 256 KiB tmpfs");
    struct stat st;
    CHECK(stat("mnt", &st) == 0 && (st.st_mode & 07777) == 0700, "mode= option");
    write_file("mnt/in", "inside");
    int fd = open("mnt/big", O_CREAT | O_WRONLY, 0644);
    static char chunk[65536];
    long total = 0, n;
    while ((n = write(fd, chunk, sizeof(chunk))) > 0)
        total += n;
    CHECK(n == -1 && errno == ENOSPC && total <= 256 * 1024, "writing past size= gives ENOSPC after %ld bytes", total);
    close(fd);
    int busy = open("mnt/in", O_RDONLY);
    CHECK_ERR(umount("mnt"), EBUSY, "umount with an open file: EBUSY");
    close(busy);
    CHECK(mount(NULL, "mnt", NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0, "remount read-only");
    CHECK_ERR(open("mnt/new", O_CREAT | O_WRONLY, 0644), EROFS, "creating on a read-only mount: EROFS");
    CHECK(umount2("mnt", 0) == 0, "umount2");
    CHECK_ERR(stat("mnt/in", &st), ENOENT, "the mounted files are gone");
    CHECK_ERR(umount("mnt"), EINVAL, "umount of a directory that is no mount point: EINVAL");
    CHECK_ERR(mount("x", "mnt", "no-such-fs", 0, NULL), ENODEV, "an unknown file system type: ENODEV");
    CHECK_ERR(mount("x", "missing", "tmpfs", 0, NULL), ENOENT, "mount on a missing directory: ENOENT");
    mkdir("bind", 0755);
    CHECK(mount(scratch, "bind", NULL, MS_BIND, NULL) == 0 && stat("bind/mnt", &st) == 0, "a bind mount shows the same tree");
    CHECK(umount("bind") == 0, "and goes away");
}

static void test_mmap(void)
{
    int fd = open("map", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(ftruncate(fd, 8192) == 0, "an 8 KiB file");
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap it shared");
    if (p == MAP_FAILED)
        return;
    memcpy(p + 4096, "through the map", 16);
    char buf[16];
    CHECK(pread(fd, buf, 16, 4096) == 16 && memcmp(buf, "through the map", 16) == 0, "stores in the map are file data");
    pwrite(fd, "by write", 8, 0);
    CHECK(memcmp(p, "by write", 8) == 0, "writes show in the map");
    CHECK(msync(p, 8192, MS_SYNC) == 0, "msync");
    close(fd);
    unlink("map");
    CHECK(memcmp(p + 4096, "through the map", 16) == 0, "the map keeps the data of an unlinked file");
    munmap(p, 8192);
    int ro = open("/dev/null", O_RDONLY);
    write_file("ro", "read only");
    int rfd = open("ro", O_RDONLY);
    CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0) == MAP_FAILED && errno == EACCES,
          "a writable shared map of a read-only file: EACCES");
    char *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, rfd, 0);
    CHECK(q != MAP_FAILED && memcmp(q, "read only", 9) == 0, "a private writable map of it works");
    if (q != MAP_FAILED) {
        q[0] = 'R';
        CHECK(content_is("ro", "read only"), "private stores stay private");
        munmap(q, 4096);
    }
    close(rfd);
    close(ro);
}

int main(void)
{
    scratch_init("fs_dev");
    test_devices();
    test_mounts();
    test_mmap();
    return check_summary("fs_dev");
}
