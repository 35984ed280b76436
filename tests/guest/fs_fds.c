/* Guest test: descriptors: dup family, fcntl (flags and locks), ioctl,
 * flock, the sync calls, sendfile, copy_file_range, getdents. */
#include "fs_check.h"
#include <dirent.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <termios.h>

static void test_dup(void)
{
    write_file("f", "0123456789");
    int fd = open("f", O_RDONLY);
    int d = dup(fd);
    char c;
    CHECK(d > fd, "dup gives a new descriptor");
    CHECK(read(fd, &c, 1) == 1 && lseek(d, 0, SEEK_CUR) == 1, "dup'd descriptors share the offset");
    CHECK(dup2(fd, 50) == 50 && lseek(50, 0, SEEK_CUR) == 1, "dup2 to 50");
    CHECK(dup2(fd, fd) == fd, "dup2 onto itself returns it");
    CHECK_ERR(dup2(9999, 51), EBADF, "dup2 of a bad descriptor: EBADF");
    CHECK(dup3(fd, 51, O_CLOEXEC) == 51 && fcntl(51, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
    CHECK_ERR(dup3(fd, fd, 0), EINVAL, "dup3 onto itself: EINVAL");
    CHECK_ERR(syscall(SYS_dup3, fd, 52, 0x4), EINVAL, "dup3 with bad flags: EINVAL");
    CHECK_ERR(dup(9999), EBADF, "dup of a bad descriptor: EBADF");
    CHECK(fcntl(50, F_GETFD) == 0, "dup2 clears close-on-exec");
    close(50);
    close(51);
    close(d);
    close(fd);
}

static void test_fcntl(void)
{
    int fd = open("f", O_RDWR);
    CHECK(fcntl(fd, F_DUPFD, 20) == 20, "F_DUPFD at 20");
    CHECK(fcntl(fd, F_DUPFD, 20) == 21, "F_DUPFD takes the lowest free from 20");
    CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 0) > fd, "F_DUPFD_CLOEXEC");
    CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL, "F_DUPFD with a negative minimum: EINVAL");
    CHECK_ERR(fcntl(fd, F_DUPFD, 1 << 30), EINVAL, "F_DUPFD beyond the limit: EINVAL");
    CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_SETFD/F_GETFD");
    int fl = fcntl(fd, F_GETFL);
    CHECK((fl & O_ACCMODE) == O_RDWR && !(fl & O_APPEND), "F_GETFL shows O_RDWR");
    CHECK(fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK) == 0 && (fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK)) ==
                                                                     (O_APPEND | O_NONBLOCK),
          "F_SETFL O_APPEND|O_NONBLOCK");
    CHECK(fcntl(fd, F_SETFL, O_RDONLY) == 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_SETFL cannot change the access mode");
    CHECK_ERR(fcntl(9999, F_GETFD), EBADF, "fcntl on a bad descriptor: EBADF");
    CHECK_ERR(fcntl(fd, 9999), EINVAL, "an unknown command: EINVAL");
    close(20);
    close(21);
    close(fd);
}

static void test_locks(void)
{
    int fd = open("f", O_RDWR), fd2 = open("f", O_RDWR), ro = open("f", O_RDONLY);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    CHECK(fcntl(fd, F_SETLK, &fl) == 0, "F_SETLK write lock");
    struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    CHECK(fcntl(fd2, F_GETLK, &q) == 0 && q.l_type == F_UNLCK, "F_GETLK: our own process never conflicts");
    CHECK(fcntl(fd2, F_SETLK, &fl) == 0, "a second POSIX lock by the same process succeeds");
    struct flock rd = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
    int wo = open("f", O_WRONLY);
    CHECK_ERR(fcntl(wo, F_SETLK, &rd), EBADF, "a read lock on a write-only descriptor: EBADF");
    close(wo);
    struct flock wr = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    CHECK_ERR(fcntl(ro, F_SETLK, &wr), EBADF, "a write lock on a read-only descriptor: EBADF");
    struct flock badw = { .l_type = F_WRLCK, .l_whence = 7 };
    CHECK_ERR(fcntl(fd, F_SETLK, &badw), EINVAL, "a bad l_whence: EINVAL");
    struct flock badt = { .l_type = 9, .l_whence = SEEK_SET };
    CHECK_ERR(fcntl(fd, F_SETLK, &badt), EINVAL, "a bad l_type: EINVAL");
    CHECK_ERR(fcntl(fd, F_SETLK, BAD_PTR), EFAULT, "a bad struct flock pointer: EFAULT");
    /* OFD locks belong to the open file: two opens do conflict */
    struct flock o = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 10 };
    CHECK(fcntl(fd, F_OFD_SETLK, &o) == 0, "F_OFD_SETLK");
    CHECK_ERR(fcntl(fd2, F_OFD_SETLK, &o), EAGAIN, "another open file's OFD lock conflicts: EAGAIN");
    struct flock oq = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 105, .l_len = 1 };
    CHECK(fcntl(fd2, F_OFD_GETLK, &oq) == 0 && oq.l_type == F_WRLCK && oq.l_start == 100 && oq.l_len == 10 && oq.l_pid == -1,
          "F_OFD_GETLK describes the holder");
    struct flock op = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1 };
    CHECK_ERR(fcntl(fd, F_OFD_SETLK, &op), EINVAL, "F_OFD_SETLK with l_pid set: EINVAL");
    struct flock un = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 10 };
    CHECK(fcntl(fd, F_OFD_SETLK, &un) == 0 && fcntl(fd2, F_OFD_SETLK, &o) == 0, "unlocking lets the other take it");
    CHECK(flock(fd, LOCK_EX) == 0, "flock LOCK_EX");
    CHECK_ERR(flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK, "flock of another open file: EWOULDBLOCK");
    CHECK(flock(fd, LOCK_SH) == 0 && flock(fd2, LOCK_SH | LOCK_NB) == 0, "convert to shared; shared with shared");
    CHECK_ERR(flock(fd, 0), EINVAL, "flock with no operation: EINVAL");
    CHECK_ERR(flock(9999, LOCK_SH), EBADF, "flock of a bad descriptor: EBADF");
    close(fd);
    CHECK(flock(fd2, LOCK_EX | LOCK_NB) == 0, "closing releases flock locks");
    close(fd2);
    close(ro);
}

static void test_ioctl(void)
{
    int fd = open("f", O_RDWR);
    int n = -1;
    CHECK(ioctl(fd, FIONREAD, &n) == 0 && n == 10, "FIONREAD on a file: bytes left (%d)", n);
    lseek(fd, 4, SEEK_SET);
    CHECK(ioctl(fd, FIONREAD, &n) == 0 && n == 6, "FIONREAD after a seek");
    int on = 1;
    CHECK(ioctl(fd, FIONBIO, &on) == 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "FIONBIO sets O_NONBLOCK");
    on = 0;
    CHECK(ioctl(fd, FIONBIO, &on) == 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "and clears it");
    CHECK(ioctl(fd, FIOCLEX) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "FIOCLEX");
    CHECK(ioctl(fd, FIONCLEX) == 0 && fcntl(fd, F_GETFD) == 0, "FIONCLEX");
    struct winsize ws;
    CHECK_ERR(ioctl(fd, TIOCGWINSZ, &ws), ENOTTY, "TIOCGWINSZ on a file: ENOTTY");
    CHECK_ERR(ioctl(9999, FIONREAD, &n), EBADF, "ioctl on a bad descriptor: EBADF");
    CHECK_ERR(ioctl(fd, FIONREAD, BAD_PTR), EFAULT, "FIONREAD into a bad pointer: EFAULT");
    close(fd);
    if (!isatty(1))
        return; /* natively, under a test runner, stdout is a pipe */
    struct termios t;
    CHECK(tcgetattr(1, &t) == 0, "TCGETS on the console");
    CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0, "TIOCGWINSZ: %dx%d", ws.ws_col, ws.ws_row);
    CHECK(tcsetattr(1, TCSANOW, &t) == 0, "TCSETS");
    pid_t pg = -1;
    CHECK(ioctl(1, TIOCGPGRP, &pg) == 0 && pg > 0, "TIOCGPGRP");
    CHECK(ioctl(0, FIONREAD, &n) == 0 && n >= 0, "FIONREAD on the console");
    CHECK_ERR(lseek(1, 0, SEEK_SET), ESPIPE, "lseek on the console: ESPIPE");
}

static void test_sync_copy(void)
{
    int fd = open("f", O_RDWR);
    CHECK(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync, fdatasync");
    sync();
    CHECK(syncfs(fd) == 0, "syncfs");
    CHECK_ERR(fsync(9999), EBADF, "fsync of a bad descriptor: EBADF");
    int out = open("copy", O_CREAT | O_RDWR | O_TRUNC, 0644);
    off_t off = 2;
    CHECK(sendfile(out, fd, &off, 5) == 5 && off == 7 && lseek(fd, 0, SEEK_CUR) == 0, "sendfile with an offset");
    CHECK(sendfile(out, fd, NULL, 3) == 3 && lseek(fd, 0, SEEK_CUR) == 3, "sendfile at the file offset");
    CHECK(content_is("copy", "23456012"), "sendfile copied the right bytes");
    CHECK_ERR(sendfile(out, 9999, NULL, 1), EBADF, "sendfile from a bad descriptor: EBADF");
    loff_t in_off = 0, out_off = 100;
    CHECK(copy_file_range(fd, &in_off, out, &out_off, 10, 0) == 10 && in_off == 10 && out_off == 110,
          "copy_file_range with offsets");
    char buf[16];
    CHECK(pread(out, buf, 10, 100) == 10 && memcmp(buf, "0123456789", 10) == 0, "it copied the data");
    CHECK_ERR(copy_file_range(fd, NULL, out, NULL, 1, 1), EINVAL, "copy_file_range with flags: EINVAL");
    int d = open(".", O_RDONLY);
    CHECK_ERR(copy_file_range(d, NULL, out, NULL, 1, 0), EISDIR, "copy_file_range from a directory: EISDIR");
    close(d);
    close(out);
    close(fd);
}

struct k_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static void test_getdents(void)
{
    mkdir("ls", 0755);
    write_file("ls/a", "");
    mkdir("ls/b", 0755);
    symlink("a", "ls/c");
    int fd = open("ls", O_RDONLY | O_DIRECTORY);
    char buf[4096];
    long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    int seen = 0, types_ok = 1;
    for (long off = 0; off < n;) {
        struct k_dirent64 *e = (struct k_dirent64 *)(buf + off);
        if (!strcmp(e->d_name, "a"))
            seen |= 1, types_ok &= e->d_type == DT_REG;
        if (!strcmp(e->d_name, "b"))
            seen |= 2, types_ok &= e->d_type == DT_DIR;
        if (!strcmp(e->d_name, "c"))
            seen |= 4, types_ok &= e->d_type == DT_LNK;
        if (!strcmp(e->d_name, "."))
            seen |= 8;
        if (!strcmp(e->d_name, ".."))
            seen |= 16;
        off += e->d_reclen;
    }
    CHECK(n > 0 && seen == 31 && types_ok, "getdents64 lists . .. a b c with their types");
    CHECK(syscall(SYS_getdents64, fd, buf, sizeof(buf)) == 0, "then the end");
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR(syscall(SYS_getdents64, fd, buf, 10), EINVAL, "a buffer too small for one entry: EINVAL");
    CHECK(syscall(SYS_getdents64, fd, buf, 32) > 0, "small buffers resume where they stopped");
    CHECK(syscall(SYS_getdents, fd, buf, sizeof(buf)) > 0, "old getdents");
    int f = open("f", O_RDONLY);
    CHECK_ERR(syscall(SYS_getdents64, f, buf, sizeof(buf)), ENOTDIR, "getdents64 on a file: ENOTDIR");
    close(f);
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR(syscall(SYS_getdents64, fd, BAD_PTR, sizeof(buf)), EFAULT, "getdents64 into a bad pointer: EFAULT");
    close(fd);
    DIR *dir = opendir("ls");
    int count = 0;
    while (dir && readdir(dir))
        count++;
    CHECK(count == 5, "readdir sees 5 entries");
    closedir(dir);
}

int main(void)
{
    scratch_init("fs_fds");
    test_dup();
    test_fcntl();
    test_locks();
    test_ioctl();
    test_sync_copy();
    test_getdents();
    return check_summary("fs_fds");
}
