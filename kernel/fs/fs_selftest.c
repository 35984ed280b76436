/* --test=vfs: the VFS through its kernel-internal API: files, sparse data,
 * truncation, rename, unlink of open files, hard and symbolic links, name
 * limits, directory listing, mounts, paths, mmap pages; devfs, fd tables,
 * locks and the initrd's contents are in fs_selftest_more.c. */
#include "fs/fs_context.h"
#include "fs/poll.h"
#include "fs_selftest.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"

struct file *st_open(const char *path, int flags, int *errp)
{
    struct file *f = NULL;
    int err = vfs_openat(NULL, NULL, path, (unsigned)flags, 0644, &f);
    if (errp)
        *errp = err;
    return err ? NULL : f;
}

ssize_t st_write(struct file *f, const char *s, uint64_t off)
{
    return vfs_pwrite_kernel(f, s, strlen(s), off);
}

int st_create(const char *path, const char *s)
{
    int err;
    struct file *f = st_open(path, O_CREAT | O_TRUNC | O_WRONLY, &err);
    if (!f)
        return err;
    ssize_t n = st_write(f, s, 0);
    vfs_file_put(f);
    return n < 0 ? (int)n : 0;
}

ssize_t st_read(struct file *f, char *buf, size_t size, uint64_t off)
{
    ssize_t n = vfs_pread_kernel(f, buf, size - 1, off);
    buf[n < 0 ? 0 : n] = '\0';
    return n;
}

bool st_content_is(const char *path, const char *s)
{
    struct file *f = st_open(path, O_RDONLY, NULL);
    if (!f)
        return false;
    char buf[256];
    ssize_t n = st_read(f, buf, sizeof(buf), 0);
    vfs_file_put(f);
    return n >= 0 && strcmp(buf, s) == 0;
}

int st_stat(const char *path, bool follow, struct kstat *st)
{
    return vfs_stat_kernel(path, follow ? 0 : AT_SYMLINK_NOFOLLOW, st);
}

static int mkd(const char *path)
{
    return vfs_mkdirat(NULL, NULL, path, 0755);
}

static int unl(const char *path, int flags)
{
    return vfs_unlinkat(NULL, NULL, path, flags);
}

static int ren(const char *a, const char *b, unsigned flags)
{
    return vfs_renameat(NULL, NULL, a, NULL, b, flags);
}

static int test_files(void)
{
    int fails = 0, err;
    T(mkd("/tmp/vt") == 0, "mkdir /tmp/vt");
    T(mkd("/tmp/vt") == -EEXIST, "mkdir again: EEXIST");
    T(st_create("/tmp/vt/a", "hello, world\n") == 0, "create and write /tmp/vt/a");
    T(st_content_is("/tmp/vt/a", "hello, world\n"), "read it back");
    struct file *f = st_open("/tmp/vt/a", O_CREAT | O_EXCL | O_RDWR, &err);
    T(!f && err == -EEXIST, "O_CREAT|O_EXCL on an existing file: EEXIST");
    f = st_open("/tmp/vt/a", O_WRONLY | O_APPEND, NULL);
    T(f && st_write(f, "more\n", 0) == 5, "O_APPEND write");
    vfs_file_put(f);
    T(st_content_is("/tmp/vt/a", "hello, world\nmore\n"), "appended at the end, whatever the offset");
    f = st_open("/tmp/vt/a", O_RDONLY, NULL);
    char c;
    T(f && vfs_pwrite_kernel(f, "x", 1, 0) == -EBADF, "write on a read-only open: EBADF");
    T(vfs_llseek(f, 0, SEEK_END) == 18 && vfs_llseek(f, -3, SEEK_CUR) == 15, "lseek SEEK_END, SEEK_CUR");
    T(vfs_llseek(f, -100, SEEK_CUR) == -EINVAL, "lseek before 0: EINVAL");
    vfs_file_put(f);
    T(!st_open("/tmp/vt/nonexistent", O_RDONLY, &err) && err == -ENOENT, "open a missing file: ENOENT");
    T(!st_open("/tmp/vt/a/b", O_RDONLY, &err) && err == -ENOTDIR, "a file as a directory: ENOTDIR");
    T(!st_open("/tmp/vt/a/", O_RDONLY, &err) && err == -ENOTDIR, "trailing slash on a file: ENOTDIR");
    T(!st_open("/tmp/vt/new/", O_CREAT | O_RDWR, &err) && err == -EISDIR, "O_CREAT with a trailing slash: EISDIR");
    T(!st_open("/tmp/vt", O_RDWR, &err) && err == -EISDIR, "a directory opened for writing: EISDIR");
    T(!st_open("/tmp/vt/a", O_RDONLY | O_DIRECTORY, &err) && err == -ENOTDIR, "O_DIRECTORY on a file: ENOTDIR");
    f = st_open("/tmp/vt", O_RDONLY, NULL);
    T(f && vfs_pread_kernel(f, &c, 1, 0) == -EISDIR, "read on a directory: EISDIR");
    vfs_file_put(f);
    T(mkd("/tmp/vt/d/") == 0, "mkdir with a trailing slash");
    T(st_create("/tmp/vt/d/../b", "b") == 0 && st_content_is("/tmp/vt/b", "b"), "\"..\" in a path");
    T(st_content_is("/tmp/./vt//./b", "b"), "\".\" and repeated slashes");
    struct kstat st;
    T(st_stat("/tmp/vt/a", true, &st) == 0 && S_ISREG(st.mode) && (st.mode & 0777) == 0644 && st.size == 18 &&
          st.nlink == 1, "stat: mode 0644 (umask 022), size 18, 1 link");
    T(st.mtime.tv_sec > 1600000000, "mtime is wall-clock time (%ld)", st.mtime.tv_sec);
    return fails;
}

static int test_sparse_truncate(void)
{
    int fails = 0;
    struct phys_stats before, after;
    phys_get_stats(&before);
    struct file *f = st_open("/tmp/vt/sparse", O_CREAT | O_RDWR, NULL);
    T(f && vfs_pwrite_kernel(f, "end", 3, 1 << 20) == 3, "write 3 bytes at 1 MiB");
    struct kstat st;
    vfs_getattr(f->vnode, f->path.mnt, &st);
    T(st.size == (1 << 20) + 3 && st.blocks == 8, "size 1 MiB + 3, one page used (%lu blocks)", st.blocks);
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    T(vfs_pread_kernel(f, buf, 64, 4096 * 10) == 64 && buf[0] == 0 && buf[63] == 0, "a hole reads as zeros");
    T(vfs_llseek(f, 0, SEEK_DATA) == 1 << 20, "SEEK_DATA skips the hole");
    T(vfs_llseek(f, 0, SEEK_HOLE) == 0, "SEEK_HOLE at 0 is 0");
    T(vfs_llseek(f, 1 << 20, SEEK_HOLE) == (1 << 20) + 3, "SEEK_HOLE after the data is the end");
    T(vfs_llseek(f, (1 << 20) + 10, SEEK_DATA) == -ENXIO, "SEEK_DATA past the end: ENXIO");
    T(vfs_truncate_vnode(f->vnode, f->path.mnt, 100) == 0 && f->vnode->size == 100, "truncate down to 100");
    T(vfs_truncate_vnode(f->vnode, f->path.mnt, 8192) == 0, "truncate up to 8192");
    T(vfs_pread_kernel(f, buf, 10, 1 << 20) == 0, "nothing left at the old data's offset");
    T(vfs_pwrite_kernel(f, "abcdef", 6, 0) == 6 && vfs_truncate_vnode(f->vnode, f->path.mnt, 3) == 0 &&
          vfs_truncate_vnode(f->vnode, f->path.mnt, 6) == 0 && st_read(f, buf, 7, 0) == 6 &&
          memcmp(buf, "abc\0\0\0", 6) == 0, "bytes cut by truncate read as zeros after growing again");
    T(vfs_fallocate(f, 0, 0, 40960) == 0 && f->vnode->size == 40960 && f->vnode->blocks == 80, "fallocate 40 KiB");
    T(vfs_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192) == 0 &&
          f->vnode->blocks == 64 && f->vnode->size == 40960, "punch a 2-page hole");
    T(vfs_fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0 && f->vnode->size == 40960, "KEEP_SIZE keeps the size");
    T(vfs_fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 10) == -EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP");
    vfs_file_put(f);
    T(unl("/tmp/vt/sparse", 0) == 0, "unlink it");
    phys_get_stats(&after);
    T(after.free_pages + 4 >= before.free_pages, "its pages came back (%lu before, %lu after)",
      before.free_pages, after.free_pages);
    return fails;
}

static int test_unlink_open(void)
{
    int fails = 0;
    st_create("/tmp/vt/gone", "still here");
    struct file *f = st_open("/tmp/vt/gone", O_RDWR, NULL);
    T(unl("/tmp/vt/gone", 0) == 0, "unlink an open file");
    struct kstat st;
    T(st_stat("/tmp/vt/gone", true, &st) == -ENOENT, "its name is gone");
    char buf[32];
    T(f && st_read(f, buf, sizeof(buf), 0) == 10 && strcmp(buf, "still here") == 0, "the data stays while open");
    vfs_getattr(f->vnode, NULL, &st);
    T(st.nlink == 0, "fstat shows 0 links");
    char path[64];
    T(vfs_file_path(f, path, sizeof(path)) > 0 && strcmp(path, "/tmp/vt/gone (deleted)") == 0,
      "its path reads \"%s\"", path);
    vfs_file_put(f);
    T(unl("/tmp/vt/gone", 0) == -ENOENT, "unlink again: ENOENT");
    T(unl("/tmp/vt/d", 0) == -EISDIR, "unlink a directory: EISDIR");
    T(unl("/tmp/vt/a", AT_REMOVEDIR) == -ENOTDIR, "rmdir a file: ENOTDIR");
    T(unl("/tmp/vt", AT_REMOVEDIR) == -ENOTEMPTY, "rmdir a non-empty directory: ENOTEMPTY");
    T(unl("/tmp/vt/d/.", AT_REMOVEDIR) == -EINVAL, "rmdir \".\": EINVAL");
    T(unl("/tmp", AT_REMOVEDIR) == -EBUSY, "rmdir a mount point: EBUSY");
    return fails;
}

static int test_rename(void)
{
    int fails = 0;
    st_create("/tmp/vt/r1", "one");
    st_create("/tmp/vt/r2", "two");
    T(ren("/tmp/vt/r1", "/tmp/vt/r2", 0) == 0 && st_content_is("/tmp/vt/r2", "one"), "rename over a file");
    T(ren("/tmp/vt/r2", "/tmp/vt/d/r3", 0) == 0 && st_content_is("/tmp/vt/d/r3", "one"), "rename across directories");
    st_create("/tmp/vt/r4", "four");
    T(ren("/tmp/vt/r4", "/tmp/vt/d/r3", RENAME_NOREPLACE) == -EEXIST, "RENAME_NOREPLACE: EEXIST");
    T(ren("/tmp/vt/r4", "/tmp/vt/d/r3", RENAME_EXCHANGE) == 0 && st_content_is("/tmp/vt/r4", "one") &&
          st_content_is("/tmp/vt/d/r3", "four"), "RENAME_EXCHANGE swaps");
    T(ren("/tmp/vt/d", "/tmp/vt/d/sub", 0) == -EINVAL, "a directory into itself: EINVAL");
    T(mkd("/tmp/vt/e") == 0 && ren("/tmp/vt/d", "/tmp/vt/e", 0) == 0, "a directory over an empty directory");
    T(st_content_is("/tmp/vt/e/r3", "four"), "its contents moved along");
    T(mkd("/tmp/vt/f") == 0 && st_create("/tmp/vt/f/x", "x") == 0 && ren("/tmp/vt/e", "/tmp/vt/f", 0) == -ENOTEMPTY,
      "a directory over a non-empty one: ENOTEMPTY");
    T(ren("/tmp/vt/e", "/tmp/vt/a", 0) == -ENOTDIR, "a directory over a file: ENOTDIR");
    T(ren("/tmp/vt/a", "/tmp/vt/e", 0) == -EISDIR, "a file over a directory: EISDIR");
    T(ren("/tmp/vt/nope", "/tmp/vt/x", 0) == -ENOENT, "a missing source: ENOENT");
    T(ren("/tmp/vt/a", "/dev/a", 0) == -EXDEV, "across mounts: EXDEV");
    struct file *f = st_open("/tmp/vt/e/r3", O_RDONLY, NULL);
    T(ren("/tmp/vt/e", "/tmp/vt/g", 0) == 0, "rename the directory of an open file");
    char path[64];
    T(f && vfs_file_path(f, path, sizeof(path)) > 0 && strcmp(path, "/tmp/vt/g/r3") == 0, "its path follows: %s", path);
    vfs_file_put(f);
    struct kstat st, parent;
    T(st_stat("/tmp/vt/g", true, &st) == 0 && st.nlink == 2, "moved directory has 2 links");
    int err = st_stat("/tmp/vt", true, &parent);
    T(err == 0 && parent.nlink == 4, "parent counts its subdirectories (%lu links)", parent.nlink);
    return fails;
}

static int test_links(void)
{
    int fails = 0;
    struct kstat a, b;
    T(vfs_linkat(NULL, NULL, "/tmp/vt/a", NULL, "/tmp/vt/hard", 0) == 0, "link");
    T(st_stat("/tmp/vt/a", true, &a) == 0 && st_stat("/tmp/vt/hard", true, &b) == 0 && a.ino == b.ino &&
          a.nlink == 2, "same inode, 2 links");
    T(vfs_linkat(NULL, NULL, "/tmp/vt/g", NULL, "/tmp/vt/hd", 0) == -EPERM, "link to a directory: EPERM");
    T(vfs_linkat(NULL, NULL, "/tmp/vt/a", NULL, "/tmp/vt/b", 0) == -EEXIST, "link over a name: EEXIST");
    T(unl("/tmp/vt/a", 0) == 0 && st_content_is("/tmp/vt/hard", "hello, world\nmore\n"), "data lives on via the other link");
    T(vfs_symlinkat(NULL, "hard", NULL, "/tmp/vt/sym") == 0 && st_content_is("/tmp/vt/sym", "hello, world\nmore\n"),
      "relative symlink");
    T(vfs_symlinkat(NULL, "/tmp/vt/g", NULL, "/tmp/vt/dsym") == 0 && st_content_is("/tmp/vt/dsym/r3", "four"),
      "absolute symlink to a directory, in the middle of a path");
    char buf[64];
    ssize_t n = vfs_readlink_kernel("/tmp/vt/sym", buf, sizeof(buf));
    T(n == 4 && memcmp(buf, "hard", 4) == 0, "readlink");
    T(vfs_readlink_kernel("/tmp/vt/hard", buf, sizeof(buf)) == -EINVAL, "readlink of a file: EINVAL");
    T(st_stat("/tmp/vt/sym", false, &a) == 0 && S_ISLNK(a.mode) && a.size == 4, "lstat sees the link");
    T(st_stat("/tmp/vt/dsym/", false, &a) == 0 && S_ISDIR(a.mode), "a trailing slash follows the link");
    vfs_symlinkat(NULL, "loop2", NULL, "/tmp/vt/loop1");
    vfs_symlinkat(NULL, "loop1", NULL, "/tmp/vt/loop2");
    T(st_stat("/tmp/vt/loop1", true, &a) == -ELOOP, "a -> b -> a: ELOOP");
    vfs_symlinkat(NULL, "self/x", NULL, "/tmp/vt/self");
    T(st_stat("/tmp/vt/self", true, &a) == -ELOOP, "a link through itself: ELOOP");
    T(vfs_symlinkat(NULL, "nowhere", NULL, "/tmp/vt/dangling") == 0 &&
          st_stat("/tmp/vt/dangling", true, &a) == -ENOENT, "a dangling link: ENOENT");
    struct file *f = st_open("/tmp/vt/dangling", O_CREAT | O_WRONLY, NULL);
    T(f != NULL && st_stat("/tmp/vt/nowhere", true, &a) == 0, "O_CREAT through a dangling link creates its target");
    vfs_file_put(f);
    T(!st_open("/tmp/vt/sym", O_RDONLY | O_NOFOLLOW, NULL), "O_NOFOLLOW on a link fails");
    /* a chain of 40 links resolves, 41 does not */
    char name[32], target[32];
    for (int i = 1; i <= 41; i++) {
        snprintf(name, sizeof(name), "/tmp/vt/c%d", i);
        snprintf(target, sizeof(target), i == 1 ? "hard" : "c%d", i - 1);
        vfs_symlinkat(NULL, target, NULL, name);
    }
    T(st_stat("/tmp/vt/c40", true, &a) == 0, "40 links in a row resolve");
    T(st_stat("/tmp/vt/c41", true, &a) == -ELOOP, "41 links: ELOOP");
    return fails;
}

static int test_names(void)
{
    int fails = 0;
    char *long_name = kmalloc(PATH_MAX + 16);
    struct kstat st;
    memset(long_name, 'n', PATH_MAX + 8);
    memcpy(long_name, "/tmp/", 5);
    long_name[5 + 256] = '\0';
    T(st_stat(long_name, true, &st) == -ENAMETOOLONG, "a 256-byte component: ENAMETOOLONG");
    long_name[5 + 255] = '\0';
    T(st_create(long_name, "") == 0, "a 255-byte name works");
    unl(long_name, 0);
    for (int i = 5; i < PATH_MAX + 4; i += 2)
        long_name[i] = 'x', long_name[i + 1] = '/';
    long_name[PATH_MAX] = '\0';
    T(st_stat(long_name, true, &st) == -ENAMETOOLONG, "a path of PATH_MAX bytes: ENAMETOOLONG");
    kfree(long_name);
    T(st_stat("", true, &st) == -ENOENT, "an empty name: ENOENT");
    return fails;
}

struct list_ctx {
    struct dir_ctx ctx;
    char names[256];
    int count;
};

static bool list_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype,
                      uint64_t next)
{
    (void)ino, (void)dtype;
    struct list_ctx *l = container_of(ctx, struct list_ctx, ctx);
    if (l->count == 3) /* a tiny buffer: iteration must resume where it stopped */
        return false;
    size_t used = strlen(l->names);
    if (used + len + 2 < sizeof(l->names)) {
        memcpy(l->names + used, name, len);
        l->names[used + len] = ' ';
        l->names[used + len + 1] = '\0';
    }
    l->count++;
    ctx->pos = next;
    return true;
}

static int test_readdir(void)
{
    int fails = 0;
    mkd("/tmp/ls");
    st_create("/tmp/ls/x", "");
    st_create("/tmp/ls/y", "");
    mkd("/tmp/ls/z");
    struct file *f = st_open("/tmp/ls", O_RDONLY | O_DIRECTORY, NULL);
    struct list_ctx l = { .ctx = { .emit = list_emit } };
    int rounds = 0;
    for (; rounds < 10; rounds++) {
        l.count = 0;
        vfs_iterate_dir(f, &l.ctx);
        if (l.count == 0)
            break;
    }
    T(strcmp(l.names, ". .. x y z ") == 0, "listing in three calls: %s", l.names);
    st_create("/tmp/ls/w", "");
    l.count = 0;
    vfs_iterate_dir(f, &l.ctx);
    T(l.count == 1 && strcmp(l.names + strlen(l.names) - 2, "w ") == 0, "an entry added later shows up after the others");
    vfs_file_put(f);
    return fails;
}

static int test_mounts(void)
{
    int fails = 0;
    struct path p, q;
    struct statfs sfs;
    T(vfs_lookup(NULL, NULL, "/tmp", LOOKUP_FOLLOW, &p) == 0 && vfs_statfs(&p, &sfs) == 0 &&
          sfs.f_type == TMPFS_MAGIC && sfs.f_blocks > 0, "/tmp is tmpfs with a size");
    path_put(&p);
    T(vfs_lookup(NULL, NULL, "/", 0, &p) == 0 && vfs_statfs(&p, &sfs) == 0 && sfs.f_type == RAMFS_MAGIC,
      "/ is ramfs");
    path_put(&p);
    T(vfs_lookup(NULL, NULL, "/tmp/..", 0, &p) == 0 && vfs_lookup(NULL, NULL, "/", 0, &q) == 0 && path_equal(&p, &q),
      "\"..\" from a mount's root crosses back to its parent");
    path_put(&p);
    path_put(&q);
    T(vfs_lookup(NULL, NULL, "/..", 0, &p) == 0 && vfs_lookup(NULL, NULL, "/", 0, &q) == 0 && path_equal(&p, &q),
      "\"..\" of the root is the root");
    path_put(&p);
    path_put(&q);
    mkd("/tmp/mnt");
    vfs_lookup(NULL, NULL, "/tmp/mnt", 0, &p);
    T(vfs_mount("test", &p, "tmpfs", 0, "size=1m") == 0, "mount a 1 MiB tmpfs on /tmp/mnt");
    T(st_create("/tmp/mnt/inside", "in") == 0, "a file inside it");
    struct file *f = st_open("/tmp/mnt/inside", O_RDONLY, NULL);
    path_put(&p);
    vfs_lookup(NULL, NULL, "/tmp/mnt", 0, &p);
    T(vfs_statfs(&p, &sfs) == 0 && sfs.f_blocks == 256, "its size is 256 pages");
    T(vfs_umount(&p, 0) == -EBUSY, "umount while a file is open: EBUSY");
    vfs_file_put(f);
    T(vfs_umount(&p, 0) == 0, "umount once closed");
    path_put(&p);
    struct kstat st;
    T(st_stat("/tmp/mnt/inside", true, &st) == -ENOENT, "the file went with it");
    vfs_lookup(NULL, NULL, "/tmp/mnt", 0, &p);
    T(vfs_mount("x", &p, "nosuchfs", 0, NULL) == -ENODEV, "an unknown type: ENODEV");
    path_put(&p);
    return fails;
}

static int test_paths_pages(void)
{
    int fails = 0;
    struct path p, root;
    char buf[128];
    vfs_lookup(NULL, NULL, "/tmp/vt/g/r3", 0, &p);
    T(vfs_path_string(&p, NULL, buf, sizeof(buf)) > 0 && strcmp(buf, "/tmp/vt/g/r3") == 0, "path name: %s", buf);
    vfs_lookup(NULL, NULL, "/tmp/vt", 0, &root);
    T(vfs_path_string(&p, &root, buf, sizeof(buf)) > 0 && strcmp(buf, "/g/r3") == 0, "relative to a chroot: %s", buf);
    T(vfs_path_string(&p, NULL, buf, 8) == -ENAMETOOLONG, "a small buffer: ENAMETOOLONG");
    path_put(&p);
    path_put(&root);

    struct file *f = st_open("/tmp/vt/pages", O_CREAT | O_RDWR, NULL);
    vfs_pwrite_kernel(f, "mapped", 6, 4096);
    struct page *pg = NULL;
    T(vfs_file_get_page(f, 1, &pg) == 0 && memcmp(page_to_virt(pg), "mapped", 6) == 0, "get_page: the data");
    struct page *hole = NULL;
    T(vfs_file_get_page(f, 0, &hole) == 0 && ((char *)page_to_virt(hole))[0] == 0, "get_page of a hole: zeros");
    T(vfs_file_get_page(f, 2, &hole) == -ENXIO, "beyond the end: ENXIO");
    vfs_truncate_vnode(f->vnode, f->path.mnt, 0);
    T(memcmp(page_to_virt(pg), "mapped", 6) == 0, "the caller's page outlives truncation");
    page_ref_put(pg);
    T(vfs_poll(f, NULL) == (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM), "a regular file is always ready");
    vfs_file_put(f);
    return fails;
}

SELFTEST(vfs, "VFS, ramfs/tmpfs, devfs, fd tables, locks and the initrd root", true)
{
    int err = vfs_init();
    if (selftest_check(err == 0, "vfs_init: %d", err))
        return 1;
    int fails = 0;
    fails += test_files();
    fails += test_sparse_truncate();
    fails += test_unlink_open();
    fails += test_rename();
    fails += test_links();
    fails += test_names();
    fails += test_readdir();
    fails += test_mounts();
    fails += test_paths_pages();
    fails += fs_selftest_devices();
    fails += fs_selftest_fds();
    fails += fs_selftest_locks();
    fails += fs_selftest_stress();
    fails += fs_selftest_initrd();
    return fails;
}
