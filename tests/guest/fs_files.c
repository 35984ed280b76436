/* Guest test: opening, reading and writing files: open flags, offsets,
 * vectored and positioned I/O, lseek with holes, and the error cases. */
#include "fs_check.h"
#include <limits.h>
#include <sys/syscall.h>
#include <sys/uio.h>

/* musl has no wrappers for these; the flags are the sixth argument */
static ssize_t my_preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    return syscall(SYS_preadv2, fd, iov, cnt, off, 0, flags);
}

static ssize_t my_pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    return syscall(SYS_pwritev2, fd, iov, cnt, off, 0, flags);
}

static void test_open_flags(void)
{
    int fd = open("f", O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0, "open O_CREAT|O_EXCL creates");
    CHECK_ERR(open("f", O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST, "O_EXCL on an existing file: EEXIST");
    CHECK(write(fd, "hello", 5) == 5, "write 5 bytes");
    close(fd);
    fd = open("f", O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "!", 1) == 1, "O_APPEND write after lseek(0)");
    close(fd);
    CHECK(content_is("f", "hello!"), "O_APPEND wrote at the end");
    fd = open("f", O_RDWR | O_TRUNC);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties the file");
    close(fd);
    CHECK_ERR(open("missing", O_RDONLY), ENOENT, "open a missing file: ENOENT");
    CHECK_ERR(open("f/x", O_RDONLY), ENOTDIR, "a file used as a directory: ENOTDIR");
    CHECK_ERR(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file: ENOTDIR");
    CHECK_ERR(open(".", O_WRONLY), EISDIR, "a directory opened for writing: EISDIR");
    CHECK_ERR(open("newdir/", O_CREAT | O_RDWR, 0644), EISDIR, "O_CREAT with a trailing slash: EISDIR");
    symlink("f", "lnk");
    CHECK_ERR(open("lnk", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink: ELOOP");
    fd = open("lnk", O_RDONLY | O_NOFOLLOW | O_PATH);
    CHECK(fd >= 0, "O_PATH|O_NOFOLLOW opens the link itself");
    char c;
    CHECK_ERR(read(fd, &c, 1), EBADF, "read on an O_PATH descriptor: EBADF");
    close(fd);
    CHECK_ERR(open(BAD_PTR, O_RDONLY), EFAULT, "a bad name pointer: EFAULT");
    CHECK_ERR(open("", O_RDONLY), ENOENT, "an empty name: ENOENT");
    fd = open("f", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
    close(fd);
    fd = creat("c", 0644);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY, "creat opens write-only");
    close(fd);
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    fd = openat(dfd, "f", O_RDONLY);
    CHECK(dfd >= 0 && fd >= 0, "openat relative to a directory descriptor");
    CHECK_ERR(openat(fd, "x", O_RDONLY), ENOTDIR, "openat relative to a file: ENOTDIR");
    CHECK_ERR(openat(9999, "x", O_RDONLY), EBADF, "openat with a bad descriptor: EBADF");
    int abs_fd = openat(9999, "/tmp", O_RDONLY);
    CHECK(abs_fd >= 0, "an absolute name ignores dirfd");
    close(abs_fd);
    close(fd);
    close(dfd);
}

static void test_read_write(void)
{
    int fd = open("rw", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(write(fd, "0123456789", 10) == 10, "write 10 bytes");
    char buf[32] = { 0 };
    CHECK(lseek(fd, 0, SEEK_CUR) == 10, "the offset moved to 10");
    CHECK(pread(fd, buf, 4, 3) == 4 && memcmp(buf, "3456", 4) == 0, "pread at 3");
    CHECK(lseek(fd, 0, SEEK_CUR) == 10, "pread leaves the offset alone");
    CHECK(pwrite(fd, "ab", 2, 20) == 2, "pwrite past the end");
    memset(buf, 'x', sizeof(buf));
    CHECK(pread(fd, buf, 32, 0) == 22 && buf[10] == 0 && buf[19] == 0 && buf[20] == 'a', "the gap reads as zeros");
    CHECK(lseek(fd, 0, SEEK_END) == 22 && read(fd, buf, 10) == 0, "read at the end returns 0");
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR(read(fd, BAD_PTR, 10), EFAULT, "read into a bad pointer: EFAULT");
    CHECK_ERR(write(fd, BAD_PTR, 10), EFAULT, "write from a bad pointer: EFAULT");
    CHECK_ERR(read(12345, buf, 1), EBADF, "read on a closed descriptor: EBADF");
    CHECK_ERR(pread(fd, buf, 1, -1), EINVAL, "pread at a negative offset: EINVAL");
    int ro = open("rw", O_RDONLY);
    CHECK_ERR(write(ro, "x", 1), EBADF, "write on a read-only descriptor: EBADF");
    close(ro);
    int d = open(".", O_RDONLY);
    CHECK_ERR(read(d, buf, 1), EISDIR, "read on a directory: EISDIR");
    close(d);
    struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && writev(fd, iov, 3) == 5, "writev of three pieces");
    char a[2], b[3];
    struct iovec riov[2] = { { a, 2 }, { b, 3 } };
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, riov, 2) == 5 && memcmp(a, "ab", 2) == 0 && memcmp(b, "cde", 3) == 0,
          "readv scatters");
    CHECK(pwritev(fd, iov, 3, 1) == 5 && preadv(fd, riov, 2, 1) == 5 && memcmp(a, "ab", 2) == 0, "pwritev, preadv");
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && my_preadv2(fd, riov, 2, -1, 0) == 5 && lseek(fd, 0, SEEK_CUR) == 5,
          "preadv2 at offset -1 uses and moves the file offset");
    CHECK(my_pwritev2(fd, iov, 1, 0, 0) == 2, "pwritev2");
    CHECK_ERR(my_preadv2(fd, riov, 2, 0, 0x40000000), EOPNOTSUPP, "preadv2 with unknown flags: EOPNOTSUPP");
    int minus_one = -1;
    CHECK_ERR(syscall(SYS_readv, fd, riov, minus_one), EINVAL, "readv with a negative count: EINVAL");
    CHECK_ERR(syscall(SYS_readv, fd, riov, IOV_MAX + 1), EINVAL, "readv with more than IOV_MAX pieces: EINVAL");
    struct iovec bad[1] = { { BAD_PTR, 4 } };
    CHECK_ERR(writev(fd, bad, 1), EFAULT, "writev from a bad pointer: EFAULT");
    CHECK_ERR(readv(fd, BAD_PTR, 1), EFAULT, "readv with a bad iovec array: EFAULT");
    close(fd);
}

static void test_lseek(void)
{
    int fd = open("sparse", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(pwrite(fd, "data", 4, 1 << 20) == 4, "write at 1 MiB");
    struct stat st;
    fstat(fd, &st);
    CHECK(st.st_size == (1 << 20) + 4 && st.st_blocks < 64, "sparse: %ld bytes in %ld blocks",
          (long)st.st_size, (long)st.st_blocks);
    off_t data = lseek(fd, 0, SEEK_DATA);
    CHECK(data > 0 && data <= (1 << 20), "SEEK_DATA skips the hole (%ld)", (long)data);
    CHECK(lseek(fd, 0, SEEK_HOLE) == 0, "SEEK_HOLE at 0");
    CHECK(lseek(fd, 1 << 20, SEEK_HOLE) == (1 << 20) + 4, "SEEK_HOLE at the data finds the end");
    CHECK_ERR(lseek(fd, (1 << 20) + 10, SEEK_DATA), ENXIO, "SEEK_DATA past the end: ENXIO");
    CHECK(lseek(fd, -4, SEEK_END) == 1 << 20, "SEEK_END");
    CHECK(lseek(fd, 100, SEEK_END) == (1 << 20) + 104, "past the end is allowed");
    CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL, "a negative offset: EINVAL");
    CHECK_ERR(lseek(fd, 0, 17), EINVAL, "a bad whence: EINVAL");
    CHECK_ERR(lseek(9999, 0, SEEK_SET), EBADF, "lseek on a bad descriptor: EBADF");
    close(fd);
}

static void test_close(void)
{
    int fd = open("f", O_RDONLY);
    CHECK(close(fd) == 0, "close");
    CHECK_ERR(close(fd), EBADF, "close twice: EBADF");
    int a = open("f", O_RDONLY), b = open("f", O_RDONLY), c = open("f", O_RDONLY);
    CHECK(b == a + 1 && c == b + 1, "descriptors are handed out lowest first");
    CHECK(syscall(SYS_close_range, a, b, 0) == 0 && fcntl(a, F_GETFD) == -1 && fcntl(c, F_GETFD) == 0,
          "close_range closes only its range");
    CHECK(syscall(SYS_close_range, c, ~0u, 4 /* CLOSE_RANGE_CLOEXEC */) == 0 && fcntl(c, F_GETFD) == FD_CLOEXEC,
          "close_range CLOSE_RANGE_CLOEXEC marks instead");
    CHECK_ERR(syscall(SYS_close_range, 5, 4, 0), EINVAL, "close_range with first > last: EINVAL");
    close(c);
}

int main(void)
{
    scratch_init("fs_files");
    test_open_flags();
    test_read_write();
    test_lseek();
    test_close();
    return check_summary("fs_files");
}
