/* Guest test: the namespace: mkdir, rmdir, unlink, rename (all flavours),
 * hard and symbolic links, readlink, the working directory, name limits. */
#include "fs_check.h"
#include <limits.h>
#include <stdint.h>
#include <sys/syscall.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static int my_renameat2(int od, const char *o, int nd, const char *n, unsigned flags)
{
    return (int)syscall(SYS_renameat2, od, o, nd, n, flags);
}

static void test_dirs(void)
{
    CHECK(mkdir("d", 0755) == 0, "mkdir");
    CHECK_ERR(mkdir("d", 0755), EEXIST, "mkdir an existing name: EEXIST");
    CHECK(mkdir("d/sub/", 0700) == 0, "mkdir with a trailing slash");
    CHECK_ERR(mkdir("nope/x", 0755), ENOENT, "mkdir under a missing directory: ENOENT");
    write_file("file", "x");
    CHECK_ERR(mkdir("file/x", 0755), ENOTDIR, "mkdir under a file: ENOTDIR");
    CHECK_ERR(mkdir(BAD_PTR, 0755), EFAULT, "mkdir with a bad pointer: EFAULT");
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    CHECK(mkdirat(dfd, "at", 0755) == 0, "mkdirat relative to a descriptor");
    struct stat st;
    CHECK(stat("d/at", &st) == 0 && S_ISDIR(st.st_mode), "it is there");
    CHECK_ERR(rmdir("d"), ENOTEMPTY, "rmdir a non-empty directory: ENOTEMPTY");
    CHECK_ERR(rmdir("file"), ENOTDIR, "rmdir a file: ENOTDIR");
    CHECK_ERR(rmdir("d/."), EINVAL, "rmdir \".\": EINVAL");
    CHECK_ERR(rmdir("missing"), ENOENT, "rmdir a missing name: ENOENT");
    CHECK(unlinkat(dfd, "at", AT_REMOVEDIR) == 0, "unlinkat AT_REMOVEDIR");
    CHECK_ERR(unlinkat(dfd, "sub", 0), EISDIR, "unlinkat without AT_REMOVEDIR on a directory: EISDIR");
    CHECK_ERR(unlinkat(dfd, "sub", 0x1234), EINVAL, "unlinkat with unknown flags: EINVAL");
    CHECK(rmdir("d/sub") == 0 && rmdir("d") == 0, "rmdir empty directories");
    close(dfd);
    CHECK_ERR(unlink("file/"), ENOTDIR, "unlink with a trailing slash on a file: ENOTDIR");
    CHECK(unlink("file") == 0, "unlink");
    CHECK_ERR(unlink("file"), ENOENT, "unlink again: ENOENT");
}

static void test_unlink_open(void)
{
    write_file("open", "kept");
    int fd = open("open", O_RDONLY);
    CHECK(unlink("open") == 0, "unlink an open file");
    char buf[8] = { 0 };
    struct stat st;
    CHECK(read(fd, buf, 4) == 4 && strcmp(buf, "kept") == 0, "its data stays readable");
    CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0, "fstat shows 0 links");
    close(fd);
}

static void test_rename(void)
{
    write_file("a", "A");
    write_file("b", "B");
    mkdir("dir1", 0755);
    mkdir("dir2", 0755);
    CHECK(rename("a", "b") == 0 && content_is("b", "A") && access("a", F_OK) != 0, "rename over a file");
    CHECK(rename("b", "dir1/b") == 0 && content_is("dir1/b", "A"), "rename into a directory");
    int d1 = open("dir1", O_RDONLY), d2 = open("dir2", O_RDONLY);
    CHECK(renameat(d1, "b", d2, "c") == 0 && content_is("dir2/c", "A"), "renameat across directories");
    write_file("dir1/x", "X");
    CHECK_ERR(my_renameat2(d1, "x", d2, "c", RENAME_NOREPLACE), EEXIST, "RENAME_NOREPLACE: EEXIST");
    CHECK(my_renameat2(d1, "x", d2, "c", RENAME_EXCHANGE) == 0 && content_is("dir1/x", "A") && content_is("dir2/c", "X"),
          "RENAME_EXCHANGE swaps");
    CHECK_ERR(my_renameat2(d1, "nothere", d2, "c", RENAME_EXCHANGE), ENOENT, "RENAME_EXCHANGE with a missing name: ENOENT");
    CHECK_ERR(my_renameat2(d1, "x", d2, "c", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL, "both flags: EINVAL");
    close(d1);
    close(d2);
    mkdir("dir1/inner", 0755);
    CHECK_ERR(rename("dir1", "dir1/inner/x"), EINVAL, "a directory into itself: EINVAL");
    mkdir("empty", 0755);
    CHECK(rename("dir1", "empty") == 0 && content_is("empty/x", "A"), "a directory over an empty directory");
    CHECK_ERR(rename("empty", "dir2"), ENOTEMPTY, "a directory over a non-empty one: ENOTEMPTY");
    CHECK_ERR(rename("empty", "empty/x"), EINVAL, "a directory over a file inside it: EINVAL first");
    write_file("plain", "p");
    CHECK_ERR(rename("empty", "plain"), ENOTDIR, "a directory over a file: ENOTDIR");
    CHECK_ERR(rename("empty/x", "dir2"), EISDIR, "a file over a directory: EISDIR");
    CHECK_ERR(rename("missing", "y"), ENOENT, "a missing source: ENOENT");
    CHECK(rename("empty/x", "empty/x") == 0, "rename onto itself does nothing");
    link("empty/x", "empty/x2");
    CHECK(rename("empty/x", "empty/x2") == 0 && access("empty/x", F_OK) == 0, "rename between links of one file does nothing");
}

static void test_links(void)
{
    write_file("t", "target");
    CHECK(link("t", "t2") == 0, "link");
    struct stat a, b;
    CHECK(stat("t", &a) == 0 && stat("t2", &b) == 0 && a.st_ino == b.st_ino && a.st_nlink == 2, "two names, one inode");
    CHECK_ERR(link("t", "t2"), EEXIST, "link over a name: EEXIST");
    CHECK_ERR(link("missing", "t3"), ENOENT, "link to a missing file: ENOENT");
    mkdir("ldir", 0755);
    CHECK_ERR(link("ldir", "ldir2"), EPERM, "link to a directory: EPERM");
    int fd = open(".", O_RDONLY);
    CHECK(linkat(fd, "t", fd, "t3", 0) == 0, "linkat");
    CHECK(symlink("t", "s") == 0 && content_is("s", "target"), "symlink");
    CHECK_ERR(symlink("t", "s"), EEXIST, "symlink over a name: EEXIST");
    CHECK_ERR(symlink("", "s2"), ENOENT, "symlink to an empty target: ENOENT");
    CHECK(symlinkat("/no/such/place", fd, "dangling") == 0, "symlinkat, dangling");
    CHECK_ERR(stat("dangling", &a), ENOENT, "stat through a dangling link: ENOENT");
    CHECK(lstat("dangling", &a) == 0 && S_ISLNK(a.st_mode) && a.st_size == 14, "lstat sees the link itself");
    char buf[64];
    CHECK(readlink("s", buf, sizeof(buf)) == 1 && buf[0] == 't', "readlink");
    CHECK(readlink("dangling", buf, 4) == 4 && memcmp(buf, "/no/", 4) == 0, "readlink truncates to the buffer");
    CHECK(readlinkat(fd, "s", buf, sizeof(buf)) == 1, "readlinkat");
    CHECK_ERR(readlink("t", buf, sizeof(buf)), EINVAL, "readlink of a file: EINVAL");
    CHECK_ERR(syscall(SYS_readlink, "s", buf, 0), EINVAL, "readlink with size 0: EINVAL");
    CHECK_ERR(readlink("s", BAD_PTR, 10), EFAULT, "readlink into a bad pointer: EFAULT");
    CHECK(linkat(fd, "s", fd, "hs", 0) == 0 && lstat("hs", &a) == 0 && S_ISLNK(a.st_mode), "linkat without FOLLOW links the symlink");
    CHECK(linkat(fd, "s", fd, "hf", AT_SYMLINK_FOLLOW) == 0 && lstat("hf", &a) == 0 && S_ISREG(a.st_mode),
          "linkat AT_SYMLINK_FOLLOW links its target");
    close(fd);
    symlink("loop2", "loop1");
    symlink("loop1", "loop2");
    CHECK_ERR(open("loop1", O_RDONLY), ELOOP, "a symlink loop: ELOOP");
    symlink("self/x", "self");
    CHECK_ERR(stat("self", &a), ELOOP, "a link through itself: ELOOP");
    symlink("ldir", "dlink");
    CHECK(stat("dlink/", &a) == 0 && S_ISDIR(a.st_mode), "a trailing slash follows a link to a directory");
    CHECK(lstat("dlink/", &a) == 0 && S_ISDIR(a.st_mode), "even with lstat");
    CHECK_ERR(stat("s/", &a), ENOTDIR, "a trailing slash on a link to a file: ENOTDIR");
    symlink("created-through-link", "dl");
    int nf = open("dl", O_CREAT | O_WRONLY, 0644);
    CHECK(nf >= 0 && access("created-through-link", F_OK) == 0, "O_CREAT through a dangling link creates its target");
    close(nf);
    CHECK_ERR(open("dl", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST, "O_CREAT|O_EXCL on a link: EEXIST");
}

static void test_cwd(void)
{
    char buf[PATH_MAX], here[PATH_MAX];
    CHECK(getcwd(here, sizeof(here)) && strcmp(here, scratch) == 0, "getcwd is the scratch directory (%s)", here);
    mkdir("cwd", 0755);
    CHECK(chdir("cwd") == 0 && getcwd(buf, sizeof(buf)) && strcmp(buf + strlen(buf) - 4, "/cwd") == 0, "chdir");
    CHECK(chdir("..") == 0 && getcwd(buf, sizeof(buf)) && strcmp(buf, here) == 0, "chdir ..");
    int fd = open("cwd", O_RDONLY);
    CHECK(fchdir(fd) == 0 && getcwd(buf, sizeof(buf)) && strcmp(buf + strlen(buf) - 4, "/cwd") == 0, "fchdir");
    close(fd);
    CHECK_ERR(syscall(SYS_getcwd, buf, 2), ERANGE, "getcwd into a small buffer: ERANGE");
    CHECK_ERR(syscall(SYS_getcwd, BAD_PTR, sizeof(buf)), EFAULT, "getcwd into a bad pointer: EFAULT");
    CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) == (long)strlen(buf) + 1, "the system call returns the length with its NUL");
    CHECK(chdir(here) == 0, "back");
    CHECK_ERR(chdir("missing"), ENOENT, "chdir to a missing directory: ENOENT");
    write_file("notdir", "");
    CHECK_ERR(chdir("notdir"), ENOTDIR, "chdir to a file: ENOTDIR");
    fd = open("notdir", O_RDONLY);
    CHECK_ERR(fchdir(fd), ENOTDIR, "fchdir to a file: ENOTDIR");
    close(fd);
    CHECK_ERR(fchdir(9999), EBADF, "fchdir to a bad descriptor: EBADF");
    /* a removed working directory */
    mkdir("gone", 0755);
    chdir("gone");
    rmdir("../gone");
    CHECK_ERR(syscall(SYS_getcwd, buf, sizeof(buf)), ENOENT, "getcwd in a removed directory: ENOENT");
    CHECK_ERR(open("x", O_CREAT | O_WRONLY, 0644), ENOENT, "creating in a removed directory: ENOENT");
    chdir(here);
}

static void test_limits(void)
{
    static char name[PATH_MAX + 16];
    memset(name, 'a', 256);
    name[256] = '\0';
    CHECK_ERR(open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG, "a 256-byte name: ENAMETOOLONG");
    name[255] = '\0';
    int fd = open(name, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0, "a 255-byte name works");
    close(fd);
    unlink(name);
    for (int i = 0; i < PATH_MAX + 8; i += 2)
        name[i] = 'b', name[i + 1] = '/';
    name[PATH_MAX + 8] = '\0';
    struct stat st;
    CHECK_ERR(stat(name, &st), ENAMETOOLONG, "a name of more than PATH_MAX bytes: ENAMETOOLONG");
    CHECK_ERR(mkdir(name, 0755), ENAMETOOLONG, "mkdir of it: ENAMETOOLONG");
}

int main(void)
{
    scratch_init("fs_names");
    test_dirs();
    test_unlink_open();
    test_rename();
    test_links();
    test_cwd();
    test_limits();
    return check_summary("fs_names");
}
