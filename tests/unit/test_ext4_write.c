/* Host tests of the ext4 core, write side: every change is made both to a
 * mounted image and to a host directory (the model); after unmounting, the
 * image must be clean for e2fsck -fn and, mounted again, match the model.
 * Formats: 1k/4k blocks, with and without metadata_csum and 64bit, a clean
 * journal, ext2 block maps, and an htree directory that grows. */
#include "test_ext4_util.h"

struct wctx {
    struct ext4_fs *fs;
    char host[300];              /* the model */
    unsigned errors;
};

static void hpath(struct wctx *w, const char *p, char *out, size_t size)
{
    snprintf(out, size, "%s%s", w->host, p);
}

/* The directory holding path's last component, and that component. */
static int parent_of(struct wctx *w, const char *path, struct ext4_inode *dir, const char **name)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    char *slash = strrchr(buf, '/');
    *name = path + (slash - buf) + 1;
    *slash = '\0';
    return t_lookup(w->fs, buf[0] ? buf : "/", dir);
}

#define W_OK_(w, expr)                                                         \
    do {                                                                       \
        int w_err_ = (expr);                                                   \
        T_EXPECT(w_err_ == 0, "%s: error %d", #expr, w_err_);                  \
        if (w_err_)                                                            \
            (w)->errors++;                                                     \
    } while (0)

static int w_create(struct wctx *w, const char *path, struct ext4_inode *out)
{
    struct ext4_inode dir;
    const char *name;
    int err = parent_of(w, path, &dir, &name);
    if (!err)
        err = ext4_create(w->fs, &dir, name, strlen(name), 0100644, 0, 0, 0, out);
    char h[4096];
    hpath(w, path, h, sizeof(h));
    int fd = open(h, O_CREAT | O_WRONLY, 0644);
    fchmod(fd, 0644);
    close(fd);
    return err;
}

/* Write len bytes (a pattern from seed) at off, creating the file if needed. */
static void w_write(struct wctx *w, const char *path, uint64_t off, size_t len, unsigned seed)
{
    struct ext4_inode ei;
    int err = t_lookup(w->fs, path, &ei);
    if (err == -ENOENT)
        err = w_create(w, path, &ei);
    W_OK_(w, err);
    char *buf = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(seed * 131 + i * 7 + (i >> 9));
    ssize_t n = ext4_file_write(w->fs, &ei, off, buf, len);
    T_EXPECT(n == (ssize_t)len, "write %s at %lu: %ld", path, (unsigned long)off, (long)n);
    char h[4096];
    hpath(w, path, h, sizeof(h));
    int fd = open(h, O_WRONLY);
    if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
        perror("pwrite");
    close(fd);
    free(buf);
}

static void w_mkdir(struct wctx *w, const char *path)
{
    struct ext4_inode dir, nd;
    const char *name;
    int err = parent_of(w, path, &dir, &name);
    if (!err)
        err = ext4_mkdir(w->fs, &dir, name, strlen(name), 0755, 0, 0, &nd);
    W_OK_(w, err);
    char h[4096];
    hpath(w, path, h, sizeof(h));
    mkdir(h, 0755);
    chmod(h, 0755);
}

static void w_symlink(struct wctx *w, const char *target, const char *path)
{
    struct ext4_inode dir, nl;
    const char *name;
    int err = parent_of(w, path, &dir, &name);
    if (!err)
        err = ext4_symlink(w->fs, &dir, name, strlen(name), target, 0, 0, &nl);
    W_OK_(w, err);
    char h[4096];
    hpath(w, path, h, sizeof(h));
    if (symlink(target, h))
        perror("symlink");
}

static void w_link(struct wctx *w, const char *from, const char *path)
{
    struct ext4_inode dir, target;
    const char *name;
    int err = t_lookup(w->fs, from, &target);
    if (!err)
        err = parent_of(w, path, &dir, &name);
    if (!err)
        err = ext4_link(w->fs, &dir, name, strlen(name), &target);
    W_OK_(w, err);
    char h1[4096], h2[4096];
    hpath(w, from, h1, sizeof(h1));
    hpath(w, path, h2, sizeof(h2));
    if (link(h1, h2))
        perror("link");
}

/* Unlink or rmdir; the inode goes when its links do (no open files here). */
static void w_remove(struct wctx *w, const char *path)
{
    struct ext4_inode dir, victim;
    const char *name;
    int err = t_lookup(w->fs, path, &victim);
    if (!err)
        err = parent_of(w, path, &dir, &name);
    bool isdir = (victim.mode & 0170000) == 0040000;
    if (!err)
        err = isdir ? ext4_rmdir(w->fs, &dir, name, strlen(name), &victim)
                    : ext4_unlink(w->fs, &dir, name, strlen(name), &victim);
    if (!err)
        err = ext4_inode_release(w->fs, &victim);
    W_OK_(w, err);
    char h[4096];
    hpath(w, path, h, sizeof(h));
    if (isdir ? rmdir(h) : unlink(h))
        perror("remove");
}

static void w_rename(struct wctx *w, const char *from, const char *to, bool exchange)
{
    struct ext4_inode od, nd, moving, target;
    const char *oname, *nname;
    int err = t_lookup(w->fs, from, &moving);
    bool has_target = t_lookup(w->fs, to, &target) == 0;
    if (!err)
        err = parent_of(w, from, &od, &oname);
    if (!err)
        err = parent_of(w, to, &nd, &nname);
    if (!err && od.ino == nd.ino)
        nd = od; /* one directory: one copy of its inode */
    struct ext4_inode *pnd = od.ino == nd.ino ? &od : &nd;
    if (!err)
        err = ext4_rename(w->fs, &od, oname, strlen(oname), pnd, nname, strlen(nname), &moving,
                          has_target ? &target : NULL, exchange);
    if (!err && has_target && !exchange)
        err = ext4_inode_release(w->fs, &target);
    W_OK_(w, err);
    char h1[4096], h2[4096];
    hpath(w, from, h1, sizeof(h1));
    hpath(w, to, h2, sizeof(h2));
    if (exchange) {
        char tmp[4200];
        snprintf(tmp, sizeof(tmp), "%s.xchg", h1);
        rename(h1, tmp);
        rename(h2, h1);
        rename(tmp, h2);
    } else if (rename(h1, h2)) {
        perror("rename");
    }
}

static void w_truncate(struct wctx *w, const char *path, uint64_t size)
{
    struct ext4_inode ei;
    int err = t_lookup(w->fs, path, &ei);
    if (!err)
        err = ext4_truncate(w->fs, &ei, size);
    W_OK_(w, err);
    char h[4096];
    hpath(w, path, h, sizeof(h));
    if (truncate(h, (off_t)size))
        perror("truncate");
}

static bool fsck_clean(const char *img)
{
    int st = t_fsck_clean(img);
    if (st != 0) {
        fprintf(stderr, "e2fsck -fn %s: status %d\n", img, st);
        t_sh("head -40 %s.fsck >&2", img);
    }
    return st == 0;
}

/* Mount again read-only and compare with the model. */
static void verify(struct wctx *w, struct t_img *im, const char *what)
{
    struct ext4_fs *fs;
    int err = t_mount(im, EXT4_MOUNT_RDONLY, &fs);
    T_EXPECT(err == 0, "%s: remount error %d", what, err);
    if (err)
        return;
    struct ext4_inode root;
    ext4_inode_read(fs, EXT4_ROOT_INO, &root);
    unsigned before = t_compare_failures;
    t_skip_times = true;
    t_compare_tree(fs, &root, w->host);
    t_skip_times = false;
    T_EXPECT(t_compare_failures == before, "%s: the image differs from the model", what);
    ext4_fs_unmount(fs);
}

static void start(struct wctx *w, struct t_img *im, const char *name, const char *opts, const char *src)
{
    memset(w, 0, sizeof(*w));
    char img[300];
    snprintf(img, sizeof(img), "%s/%s.img", t_tmpdir(), name);
    snprintf(w->host, sizeof(w->host), "%s/%s.model", t_tmpdir(), name);
    t_sh("rm -rf %s && mkdir -p %s", w->host, w->host);
    if (src)
        t_sh("cp -a %s/. %s/", src, w->host);
    CHECK(t_mkfs(img, src, 64, opts) == 0);
    CHECK(t_open_img(im, img) == 0);
    int err = t_mount(im, 0, &w->fs);
    T_EXPECT(err == 0 && !w->fs->read_only, "%s: mount read-write: %d", name, err);
}

static void finish(struct wctx *w, struct t_img *im, const char *name)
{
    T_EXPECT(ext4_fs_unmount(w->fs) == 0, "%s: unmount", name);
    T_EXPECT(fsck_clean(im->path), "%s: e2fsck -fn is not clean", name);
    verify(w, im, name);
    close(im->fd);
}

/* Files of many sizes, sparse files, overwrites and truncation. */
static void files_workload(struct wctx *w)
{
    static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 65536, 1 << 20 };
    char p[64];
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        snprintf(p, sizeof(p), "/f%zu", sizes[i]);
        w_write(w, p, 0, sizes[i], (unsigned)i);
    }
    w_write(w, "/sparse", 1ull << 30, 100, 9);      /* a 1 GiB hole, then data */
    w_write(w, "/sparse", 123456789, 5000, 10);
    w_write(w, "/f1048576", 1000, 300000, 11);      /* overwrite inside */
    w_write(w, "/f4097", 4000, 10000, 12);          /* extend across blocks */
    w_truncate(w, "/f1048576", 500001);
    w_truncate(w, "/f65536", 0);
    w_write(w, "/f65536", 70000, 10, 13);           /* after truncation the gap reads zeros */
    w_truncate(w, "/f4096", 10000);                 /* grow: a hole */
    for (int k = 0; k < 40; k++) {                   /* many small appends: extents merge */
        struct ext4_inode ei;
        uint64_t at = t_lookup(w->fs, "/log", &ei) == 0 ? ei.size : 0;
        w_write(w, "/log", at, 1000 + (size_t)k * 37, (unsigned)k);
    }
    for (int k = 0; k < 30; k++) {                   /* scattered blocks: the extent tree grows */
        w_write(w, "/scatter", (uint64_t)k * 3 * 65536 + 4096, 4096, (unsigned)k);
    }
}

static void names_workload(struct wctx *w)
{
    w_mkdir(w, "/a");
    w_mkdir(w, "/a/b");
    w_mkdir(w, "/a/b/c");
    w_write(w, "/a/b/c/deep", 0, 1234, 1);
    w_symlink(w, "deep", "/a/b/c/fast");
    w_symlink(w, "/a/very/long/target/that/does/not/fit/in/the/sixty/bytes/of/i_block/at/all", "/a/slow");
    w_write(w, "/a/shared", 0, 10, 2);
    w_link(w, "/a/shared", "/a/b/shared2");
    w_link(w, "/a/shared", "/shared3");
    w_remove(w, "/a/shared");
    w_mkdir(w, "/gone");
    w_write(w, "/gone/file", 0, 9000, 3);
    w_remove(w, "/gone/file");
    w_remove(w, "/gone");
    w_write(w, "/r1", 0, 100, 4);
    w_rename(w, "/r1", "/r2", false);                /* same directory */
    w_rename(w, "/r2", "/a/b/r3", false);            /* across */
    w_write(w, "/victim", 0, 50000, 5);
    w_rename(w, "/a/b/r3", "/victim", false);        /* over a file: its blocks are freed */
    w_mkdir(w, "/a/moving");
    w_write(w, "/a/moving/inside", 0, 10, 6);
    w_rename(w, "/a/moving", "/moved", false);       /* a directory changes parent */
    w_mkdir(w, "/emptydir");
    w_rename(w, "/moved", "/emptydir", false);       /* over an empty directory */
    w_write(w, "/x1", 0, 11, 7);
    w_mkdir(w, "/x2");
    w_rename(w, "/x1", "/x2", true);                 /* exchange a file and a directory */
    char p[64];
    w_mkdir(w, "/many");
    for (int i = 0; i < 600; i++) {
        snprintf(p, sizeof(p), "/many/name-%04d-padding-padding", i);
        w_write(w, p, 0, (size_t)(i % 3), (unsigned)i);
    }
    for (int i = 0; i < 600; i += 3) {
        snprintf(p, sizeof(p), "/many/name-%04d-padding-padding", i);
        w_remove(w, p);
    }
}

static const char *features[] = {
    "-b 4096 -I 256 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,"
    "dir_nlink,extra_isize,metadata_csum,64bit",
    "-b 1024 -I 256 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,"
    "dir_nlink,extra_isize,metadata_csum,64bit",
    "-b 4096 -I 256 -O none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,"
    "large_file,huge_file,dir_nlink,extra_isize",
    "-b 2048 -I 128 -O none,ext_attr,resize_inode,dir_index,filetype,extent,sparse_super,large_file,uninit_bg",
    "-b 1024 -I 128 -O none,ext_attr,resize_inode,filetype,sparse_super,large_file",  /* ext2: block maps */
};

UNIT_TEST(ext4_write_files_and_names)
{
    if (!t_have_tools())
        return;
    for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
        struct wctx w;
        struct t_img im;
        char name[32];
        snprintf(name, sizeof(name), "w%zu", i);
        start(&w, &im, name, features[i], NULL);
        if (!w.fs)
            continue;
        files_workload(&w);
        names_workload(&w);
        finish(&w, &im, name);
    }
}

/* An htree directory made by e2fsck -D grows by thousands of names: leaves
 * split, the index gains a level; lookups keep working throughout. */
UNIT_TEST(ext4_write_htree_grows)
{
    if (!t_have_tools())
        return;
    static const char *opts[] = {
        "-b 1024 -I 256 -N 30000 -O none,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file,"
        "huge_file,dir_nlink,extra_isize,metadata_csum,64bit",
        "-b 4096 -I 256 -N 30000 -O none,ext_attr,dir_index,filetype,extent,sparse_super,large_file",
    };
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
        char src[300], img[300], name[32];
        snprintf(src, sizeof(src), "%s/htsrc", t_tmpdir());
        t_sh("rm -rf %s && mkdir -p %s/d && cd %s/d && seq -f 'seed-%%04g' 0 399 | xargs touch", src, src, src);
        snprintf(name, sizeof(name), "ht%zu", i);
        struct wctx w;
        struct t_img im;
        start(&w, &im, name, opts[i], src);
        if (!w.fs)
            continue;
        ext4_fs_unmount(w.fs);
        snprintf(img, sizeof(img), "%s", im.path);
        t_sh(T_SBIN "e2fsck -fyD %s >/dev/null 2>&1", img);
        CHECK(t_mount(&im, 0, &w.fs) == 0);
        struct ext4_inode d;
        CHECK(t_lookup(w.fs, "/d", &d) == 0);
        CHECK(d.flags & EXT4_INDEX_FL);
        char p[96];
        for (int k = 0; k < 6000; k++) {
            snprintf(p, sizeof(p), "/d/added-name-%05d-with-some-length-to-fill-blocks", k);
            struct ext4_inode ei;
            W_OK_(&w, w_create(&w, p, &ei));
            if (k % 997 == 0)
                T_EXPECT(t_lookup(w.fs, "/d/seed-0123", &ei) == 0, "lookup during growth at %d", k);
        }
        CHECK(t_lookup(w.fs, "/d", &d) == 0);
        T_EXPECT(d.flags & EXT4_INDEX_FL, "%s: still indexed", name);
        finish(&w, &im, name);
    }
}

/* Many new files in a fresh directory, fsync-free: the allocator spreads
 * directories and keeps group counters right (e2fsck checks them). */
UNIT_TEST(ext4_write_fill_and_free)
{
    if (!t_have_tools())
        return;
    struct wctx w;
    struct t_img im;
    start(&w, &im, "fill", "-b 1024 -I 128 -N 4096 -O none,ext_attr,dir_index,filetype,extent,flex_bg,"
                           "sparse_super,large_file,metadata_csum", NULL);
    if (!w.fs)
        return;
    char p[64];
    for (int d = 0; d < 20; d++) {
        snprintf(p, sizeof(p), "/dir%02d", d);
        w_mkdir(&w, p);
        for (int f = 0; f < 20; f++) {
            snprintf(p, sizeof(p), "/dir%02d/file%02d", d, f);
            w_write(&w, p, 0, (size_t)(f * 1500), (unsigned)(d * 100 + f));
        }
    }
    /* fill the disk: the last write fails with ENOSPC, nothing breaks */
    struct ext4_inode ei;
    W_OK_(&w, w_create(&w, "/big", &ei));
    char *chunk = calloc(1, 1 << 20);
    ssize_t n = 0;
    uint64_t off = 0;
    while ((n = ext4_file_write(w.fs, &ei, off, chunk, 1 << 20)) == 1 << 20)
        off += (uint64_t)n;
    T_EXPECT(n == -ENOSPC || (n >= 0 && n < (1 << 20)), "filling: %ld", (long)n);
    if (n > 0)
        off += (uint64_t)n;
    CHECK(ext4_truncate(w.fs, &ei, 0) == 0);
    free(chunk);
    w_truncate(&w, "/big", 0);
    for (int d = 0; d < 20; d += 2) {
        for (int f = 0; f < 20; f++) {
            snprintf(p, sizeof(p), "/dir%02d/file%02d", d, f);
            w_remove(&w, p);
        }
        snprintf(p, sizeof(p), "/dir%02d", d);
        w_remove(&w, p);
    }
    finish(&w, &im, "fill");
}
