/* Guest test: attributes: stat, lstat, fstat, fstatat, statx, access,
 * chmod, chown, timestamps, truncate, fallocate, statfs, umask. */
#include "fs_check.h"
#include <stdint.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <utime.h>

struct my_statx_ts {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};

struct my_statx { /* the kernel's layout, so the test needs no new headers */
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct my_statx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t spare[14];
};

static void test_stat(void)
{
    write_file("f", "12345");
    struct stat st, lst, fst;
    CHECK(stat("f", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 5 && st.st_nlink == 1, "stat a file");
    CHECK((st.st_mode & 0777) == 0644, "mode 0644 from 0644 and umask 022 (%o)", st.st_mode & 0777);
    CHECK(st.st_blksize > 0 && st.st_uid == getuid(), "blksize and owner");
    symlink("f", "l");
    CHECK(lstat("l", &lst) == 0 && S_ISLNK(lst.st_mode) && lst.st_ino != st.st_ino, "lstat a symlink");
    int fd = open("f", O_RDONLY);
    CHECK(fstat(fd, &fst) == 0 && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev, "fstat matches stat");
    int dfd = open(".", O_RDONLY);
    CHECK(fstatat(dfd, "l", &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode), "fstatat AT_SYMLINK_NOFOLLOW");
    CHECK(fstatat(fd, "", &fst, AT_EMPTY_PATH) == 0 && fst.st_ino == st.st_ino, "fstatat AT_EMPTY_PATH");
    CHECK_ERR(fstatat(fd, "", &fst, 0), ENOENT, "an empty name without AT_EMPTY_PATH: ENOENT");
    CHECK_ERR(fstatat(dfd, "f", &fst, 0x4000000), EINVAL, "fstatat with unknown flags: EINVAL");
    CHECK_ERR(syscall(SYS_stat, "f", BAD_PTR), EFAULT, "stat into a bad pointer: EFAULT");
    CHECK_ERR(fstat(9999, &fst), EBADF, "fstat on a bad descriptor: EBADF");
    CHECK_ERR(stat("missing", &st), ENOENT, "stat a missing file: ENOENT");
    CHECK_ERR(stat("f/", &st), ENOTDIR, "stat with a trailing slash on a file: ENOTDIR");
    struct my_statx sx;
    CHECK(syscall(SYS_statx, dfd, "f", 0, 0x7ff, &sx) == 0 && sx.size == 5 && sx.ino == st.st_ino &&
              (sx.mask & 0x7ff) == 0x7ff && S_ISREG(sx.mode),
          "statx basic fields");
    CHECK(sx.mtime.tv_sec == st.st_mtim.tv_sec && sx.mtime.tv_nsec == (uint32_t)st.st_mtim.tv_nsec, "statx mtime = stat mtime");
    CHECK_ERR(syscall(SYS_statx, dfd, "f", 0, 0x80000000u, &sx), EINVAL, "statx with a reserved mask bit: EINVAL");
    CHECK(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, &sx) == 0 && sx.ino == st.st_ino, "statx AT_EMPTY_PATH");
    close(fd);
    close(dfd);
}

static void test_access_modes(void)
{
    write_file("m", "");
    CHECK(access("m", R_OK | W_OK) == 0, "access R_OK|W_OK");
    CHECK_ERR(access("m", 0100), EINVAL, "access with a bad mode: EINVAL");
    CHECK_ERR(access("missing", F_OK), ENOENT, "access a missing file: ENOENT");
    if (getuid() == 0)
        CHECK_ERR(access("m", X_OK), EACCES, "X_OK on a file without execute bits: EACCES (even root)");
    CHECK(chmod("m", 0755) == 0 && access("m", X_OK) == 0, "chmod +x, then X_OK");
    struct stat st;
    CHECK(stat("m", &st) == 0 && (st.st_mode & 07777) == 0755, "chmod 0755");
    int fd = open("m", O_RDONLY);
    CHECK(fchmod(fd, 04711) == 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 04711, "fchmod with setuid");
    CHECK(fchmodat(AT_FDCWD, "m", 0600, 0) == 0 && stat("m", &st) == 0 && (st.st_mode & 07777) == 0600, "fchmodat");
    CHECK(faccessat(AT_FDCWD, "m", R_OK, 0) == 0, "faccessat");
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, AT_EACCESS) == 0, "faccessat2 AT_EACCESS");
    CHECK_ERR(syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, 0x8000000), EINVAL, "faccessat2 with unknown flags: EINVAL");
    if (getuid() == 0) {
        CHECK(chown("m", 1000, 1000) == 0 && stat("m", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000, "chown");
        CHECK(fchown(fd, -1, 100) == 0 && fstat(fd, &st) == 0 && st.st_uid == 1000 && st.st_gid == 100, "fchown, -1 keeps the uid");
        symlink("m", "ml");
        CHECK(lchown("ml", 7, 7) == 0 && lstat("ml", &st) == 0 && st.st_uid == 7 && stat("m", &st) == 0 && st.st_uid == 1000,
              "lchown changes the link, not its target");
        CHECK(fchownat(AT_FDCWD, "m", 0, 0, 0) == 0 && stat("m", &st) == 0 && st.st_uid == 0, "fchownat");
        chmod("m", 06755);
        chown("m", 0, 0);
        CHECK(stat("m", &st) == 0 && (st.st_mode & 06000) == 0, "chown clears setuid and setgid");
    }
    close(fd);
    CHECK_ERR(chmod("missing", 0644), ENOENT, "chmod a missing file: ENOENT");
    CHECK_ERR(fchmod(9999, 0644), EBADF, "fchmod a bad descriptor: EBADF");
    mode_t old = umask(077);
    CHECK(old == 022, "umask was 022 (%o)", old);
    write_file("u", "");
    CHECK(stat("u", &st) == 0 && (st.st_mode & 0777) == 0600, "umask 077 applies");
    CHECK(umask(old) == 077, "umask returns the previous mask");
}

static void test_times(void)
{
    write_file("t", "");
    struct timespec ts[2] = { { 1000000000, 5 }, { 1100000000, 123456789 } };
    struct stat st;
    CHECK(utimensat(AT_FDCWD, "t", ts, 0) == 0 && stat("t", &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
              st.st_mtim.tv_sec == 1100000000 && st.st_mtim.tv_nsec == 123456789,
          "utimensat sets atime and mtime");
    struct timespec omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
    CHECK(utimensat(AT_FDCWD, "t", omit, 0) == 0 && stat("t", &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
              st.st_mtim.tv_sec > 1100000000,
          "UTIME_OMIT keeps, UTIME_NOW updates");
    struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
    CHECK_ERR(utimensat(AT_FDCWD, "t", bad, 0), EINVAL, "a bad nanosecond count: EINVAL");
    int fd = open("t", O_RDONLY);
    CHECK(futimens(fd, ts) == 0 && fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 1100000000, "futimens");
    close(fd);
    struct timeval tv[2] = { { 1200000000, 1 }, { 1300000000, 2 } };
    CHECK(utimes("t", tv) == 0 && stat("t", &st) == 0 && st.st_mtim.tv_sec == 1300000000 && st.st_mtim.tv_nsec == 2000,
          "utimes (microseconds)");
    struct utimbuf ub = { 1400000000, 1500000000 };
    CHECK(utime("t", &ub) == 0 && stat("t", &st) == 0 && st.st_atim.tv_sec == 1400000000, "utime");
    CHECK(syscall(SYS_futimesat, AT_FDCWD, "t", tv) == 0 && stat("t", &st) == 0 && st.st_atim.tv_sec == 1200000000, "futimesat");
    time_t before = time(NULL);
    CHECK(utimensat(AT_FDCWD, "t", NULL, 0) == 0 && stat("t", &st) == 0 && st.st_mtim.tv_sec >= before - 1, "NULL means now");
    CHECK_ERR(syscall(SYS_utimensat, AT_FDCWD, "t", BAD_PTR, 0), EFAULT, "utimensat with a bad pointer: EFAULT");
    struct stat a, b;
    stat("t", &a);
    write_file("t", "changed");
    stat("t", &b);
    CHECK(b.st_mtim.tv_sec > a.st_mtim.tv_sec || b.st_mtim.tv_nsec != a.st_mtim.tv_nsec || b.st_mtim.tv_sec >= before - 1,
          "writing moves mtime");
}

static void test_truncate(void)
{
    write_file("tr", "0123456789");
    struct stat st;
    CHECK(truncate("tr", 4) == 0 && stat("tr", &st) == 0 && st.st_size == 4 && content_is("tr", "0123"), "truncate down");
    CHECK(truncate("tr", 8192) == 0 && stat("tr", &st) == 0 && st.st_size == 8192, "truncate up");
    char buf[16];
    int fd = open("tr", O_RDWR);
    CHECK(pread(fd, buf, 4, 4) == 4 && buf[0] == 0 && buf[3] == 0, "the extension reads as zeros");
    CHECK(ftruncate(fd, 2) == 0 && fstat(fd, &st) == 0 && st.st_size == 2, "ftruncate");
    CHECK_ERR(ftruncate(fd, -1), EINVAL, "ftruncate to a negative size: EINVAL");
    CHECK_ERR(truncate("missing", 0), ENOENT, "truncate a missing file: ENOENT");
    CHECK_ERR(truncate(".", 0), EISDIR, "truncate a directory: EISDIR");
    int ro = open("tr", O_RDONLY);
    CHECK_ERR(ftruncate(ro, 0), EINVAL, "ftruncate on a read-only descriptor: EINVAL");
    close(ro);
    CHECK(fallocate(fd, 0, 0, 65536) == 0 && fstat(fd, &st) == 0 && st.st_size == 65536, "fallocate extends");
    CHECK(fallocate(fd, 1 /* KEEP_SIZE */, 0, 1 << 20) == 0 && fstat(fd, &st) == 0 && st.st_size == 65536, "FALLOC_FL_KEEP_SIZE");
    pwrite(fd, "abcdefgh", 8, 4096);
    CHECK(fallocate(fd, 3 /* PUNCH_HOLE|KEEP_SIZE */, 4096, 4096) == 0 && pread(fd, buf, 8, 4096) == 8 && buf[0] == 0,
          "FALLOC_FL_PUNCH_HOLE zeroes");
    CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL, "fallocate at a negative offset: EINVAL");
    CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL, "fallocate of 0 bytes: EINVAL");
    CHECK_ERR(fallocate(fd, 2, 0, 10), EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP");
    close(fd);
}

static void test_statfs(void)
{
    struct statfs sf;
    CHECK(statfs("/tmp", &sf) == 0 && sf.f_bsize > 0 && sf.f_namelen == 255, "statfs /tmp");
    int fd = open("/tmp", O_RDONLY);
    struct statfs sf2;
    CHECK(fstatfs(fd, &sf2) == 0 && sf2.f_type == sf.f_type, "fstatfs agrees");
    close(fd);
    CHECK_ERR(statfs("/missing", &sf), ENOENT, "statfs a missing path: ENOENT");
    CHECK_ERR(syscall(SYS_statfs, "/tmp", BAD_PTR), EFAULT, "statfs into a bad pointer: EFAULT");
    CHECK_ERR(fstatfs(9999, &sf), EBADF, "fstatfs a bad descriptor: EBADF");
}

int main(void)
{
    umask(022);
    scratch_init("fs_attrs");
    test_stat();
    test_access_modes();
    test_times();
    test_truncate();
    test_statfs();
    return check_summary("fs_attrs");
}
