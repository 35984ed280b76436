/* Helpers for the ext4 host tests (included once per test binary): host
 * stand-ins for kmalloc and the clock, an ext4_io over an image file, image
 * building with mkfs.ext4 -d, and a comparison of a mounted tree with the
 * host directory it was made from. */
#pragma once

#define _GNU_SOURCE /* SEEK_DATA */
#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs/ext4.h"

#pragma GCC diagnostic ignored "-Wunused-function" /* each test uses a subset */
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages may be cut short */

void *kmalloc(size_t n)
{
    return malloc(n ? n : 1);
}
void *kzalloc(size_t n)
{
    return calloc(1, n ? n : 1);
}
void *kcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size ? size : 1);
}
void kfree(const void *p)
{
    free((void *)p);
}

static struct ext4_time t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (struct ext4_time){ ts.tv_sec, (uint32_t)ts.tv_nsec };
}

struct t_img {
    int fd;
    char path[256];
    uint64_t writes;             /* write calls (crash-order tests count them) */
    int64_t fail_after;          /* >= 0: writes beyond this many fail (simulated crash) */
};

static int t_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct t_img *im = ctx;
    ssize_t n = pread(im->fd, buf, len, (off_t)off);
    if (n < 0)
        return -errno;
    if ((size_t)n < len)
        memset((char *)buf + n, 0, len - (size_t)n); /* past the end of a short image: zeros */
    return 0;
}

static int t_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct t_img *im = ctx;
    if (im->fail_after >= 0 && (int64_t)im->writes >= im->fail_after)
        return -EIO;
    im->writes++;
    ssize_t n = pwrite(im->fd, buf, len, (off_t)off);
    return n == (ssize_t)len ? 0 : -EIO;
}

static int t_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static struct ext4_io t_io(struct t_img *im, bool ro)
{
    struct stat st;
    fstat(im->fd, &st);
    return (struct ext4_io){ t_read, t_write, t_flush, im, (uint64_t)st.st_size, ro };
}

static int t_open_img(struct t_img *im, const char *path)
{
    memset(im, 0, sizeof(*im));
    im->fail_after = -1;
    snprintf(im->path, sizeof(im->path), "%s", path);
    im->fd = open(path, O_RDWR);
    return im->fd < 0 ? -errno : 0;
}

static int t_mount(struct t_img *im, unsigned flags, struct ext4_fs **fs)
{
    struct ext4_io io = t_io(im, false);
    return ext4_fs_mount(&io, "test", flags, t_now, fs);
}

/* Run a shell command; its exit status (-1 if it could not run). */
__attribute__((format(printf, 1, 2))) static int t_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool t_have_tools(void)
{
    static int have = -1;
    if (have < 0) {
        have = t_sh("PATH=$PATH:/sbin:/usr/sbin command -v mkfs.ext4 >/dev/null && "
                    "PATH=$PATH:/sbin:/usr/sbin command -v debugfs >/dev/null") == 0;
        if (!have)
            fprintf(stderr, "ext4 tests: mkfs.ext4/debugfs not found (install e2fsprogs); skipped\n");
    }
    return have;
}

static char t_dir[256];

/* The images go when the test binary ends, unless EXT4_TEST_KEEP is set. */
__attribute__((destructor)) static void t_cleanup(void)
{
    if (t_dir[0] && !getenv("EXT4_TEST_KEEP")) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", t_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", t_dir);
    }
}

static const char *t_tmpdir(void)
{
    char *dir = t_dir;
    if (!dir[0]) {
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(dir, sizeof(t_dir), "%s/osprey-ext4-XXXXXX", base);
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

#define T_SBIN "PATH=$PATH:/sbin:/usr/sbin; export PATH; "

/* mkfs.ext4 -d src into a new image of size_mb MiB. */
static int t_mkfs(const char *img, const char *src, unsigned size_mb, const char *opts)
{
    return t_sh(T_SBIN "rm -f %s && truncate -s %uM %s && mkfs.ext4 -q -F %s %s %s %s "
                "-E root_owner=%u:%u >/dev/null 2>&1",
                img, size_mb, img, opts, src ? "-d" : "", src ? src : "", img, (unsigned)getuid(),
                (unsigned)getgid());
}

static int t_fsck_clean(const char *img)
{
    return t_sh(T_SBIN "e2fsck -fn %s >%s.fsck 2>&1", img, img);
}

/* ---- walking a mounted tree ---- */

struct t_names {
    char (*name)[256];
    uint32_t *ino;
    uint8_t *ftype;
    size_t n, cap;
};

static bool t_names_cb(void *arg, const char *name, size_t len, uint32_t ino, uint8_t ftype, uint64_t next)
{
    (void)next;
    struct t_names *t = arg;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->name = realloc(t->name, t->cap * sizeof(*t->name));
        t->ino = realloc(t->ino, t->cap * sizeof(*t->ino));
        t->ftype = realloc(t->ftype, t->cap);
    }
    memcpy(t->name[t->n], name, len);
    t->name[t->n][len] = 0;
    t->ino[t->n] = ino;
    t->ftype[t->n] = ftype;
    t->n++;
    return true;
}

static void t_names_free(struct t_names *t)
{
    free(t->name);
    free(t->ino);
    free(t->ftype);
    memset(t, 0, sizeof(*t));
}

static int t_list(struct ext4_fs *fs, struct ext4_inode *dir, struct t_names *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t pos = 0;
    return ext4_dir_iterate(fs, dir, &pos, t_names_cb, out);
}

/* Resolve an absolute path inside the file system (no symlinks followed). */
static int t_lookup(struct ext4_fs *fs, const char *path, struct ext4_inode *out)
{
    int err = ext4_inode_read(fs, EXT4_ROOT_INO, out);
    const char *p = path;
    while (!err && *p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        uint32_t ino;
        uint8_t ft;
        err = ext4_dir_lookup(fs, out, p, len, &ino, &ft);
        if (!err)
            err = ext4_inode_read(fs, ino, out);
        p += len;
    }
    return err;
}

static unsigned t_compare_failures;
static bool t_skip_times; /* the tree was changed here: times differ from the model's */

#define T_EXPECT(cond, ...)                                                    \
    do {                                                                       \
        unit_checks++;                                                         \
        if (!(cond)) {                                                         \
            char t_msg_[512];                                                  \
            snprintf(t_msg_, sizeof(t_msg_), __VA_ARGS__);                     \
            unit_fail(__FILE__, __LINE__, t_msg_);                             \
            t_compare_failures++;                                              \
        }                                                                      \
    } while (0)

static void t_compare_file(struct ext4_fs *fs, struct ext4_inode *ei, const char *host, const struct stat *st)
{
    int fd = open(host, O_RDONLY);
    if (fd < 0)
        return;
    size_t chunk = 1 + (size_t)(st->st_size % 7) * 4093; /* odd sizes cross block boundaries */
    char *a = malloc(1 << 20), *b = malloc(1 << 20);
    uint64_t off = 0;
    for (;;) {
        /* skip large holes quickly: compare data regions only */
        off_t data = lseek(fd, (off_t)off, SEEK_DATA);
        if (data < 0)
            break;
        if ((uint64_t)data > off + (1 << 20)) {
            static const char zeros[4096];
            ssize_t z = ext4_file_read(fs, ei, (uint64_t)data - 4096, a, 4096);
            T_EXPECT(z == 4096 && !memcmp(a, zeros, 4096), "%s: hole before %ld reads zeros", host, (long)data);
            off = (uint64_t)data;
        }
        size_t want = chunk < (1 << 20) ? chunk : (1 << 20);
        ssize_t hn = pread(fd, a, want, (off_t)off);
        if (hn <= 0)
            break;
        ssize_t en = ext4_file_read(fs, ei, off, b, want);
        T_EXPECT(en == hn, "%s: read at %lu gave %ld, want %ld", host, (unsigned long)off, (long)en, (long)hn);
        if (en != hn)
            break;
        T_EXPECT(memcmp(a, b, (size_t)hn) == 0, "%s: contents differ at %lu", host, (unsigned long)off);
        off += (uint64_t)hn;
    }
    T_EXPECT(ext4_file_read(fs, ei, (uint64_t)st->st_size, b, 10) == 0, "%s: read at the end gives 0", host);
    free(a);
    free(b);
    close(fd);
}

/* Check every name under host (recursively) against dir; returns entries seen. */
static size_t t_compare_tree(struct ext4_fs *fs, struct ext4_inode *dir, const char *host)
{
    size_t seen = 0;
    struct t_names names;
    int err = t_list(fs, dir, &names);
    T_EXPECT(err == 0, "%s: readdir error %d", host, err);
    DIR *d = opendir(host);
    struct dirent *de;
    size_t host_count = 2; /* "." and ".." */
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!strcmp(de->d_name, "lost+found") && dir->ino == EXT4_ROOT_INO)
            continue;
        host_count++;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", host, de->d_name);
        struct stat st;
        lstat(path, &st);
        uint32_t ino;
        uint8_t ft;
        err = ext4_dir_lookup(fs, dir, de->d_name, strlen(de->d_name), &ino, &ft);
        T_EXPECT(err == 0, "%s: lookup error %d", path, err);
        if (err)
            continue;
        struct ext4_inode ei;
        err = ext4_inode_read(fs, ino, &ei);
        T_EXPECT(err == 0, "%s: inode %u read error %d", path, ino, err);
        if (err)
            continue;
        seen++;
        T_EXPECT((ei.mode & 0170000) == (st.st_mode & 0170000), "%s: type 0%o vs 0%o", path, ei.mode, st.st_mode);
        T_EXPECT((ei.mode & 07777) == (st.st_mode & 07777), "%s: mode 0%o vs 0%o", path, ei.mode, st.st_mode);
        T_EXPECT(S_ISDIR(st.st_mode) || ei.size == (uint64_t)st.st_size, "%s: size %lu vs %ld", path,
                 (unsigned long)ei.size, (long)st.st_size);
        T_EXPECT(S_ISDIR(st.st_mode) || ei.links == st.st_nlink, "%s: links %u vs %lu", path, ei.links,
                 (unsigned long)st.st_nlink);
        /* mke2fs -d stores 32-bit seconds (no epoch bits), so compare those */
        T_EXPECT(t_skip_times || (uint32_t)ei.mtime.sec == (uint32_t)st.st_mtim.tv_sec, "%s: mtime %ld vs %ld", path,
                 (long)ei.mtime.sec, (long)st.st_mtim.tv_sec);
        if (S_ISREG(st.st_mode)) {
            T_EXPECT(ft == EXT4_FT_REG || ft == EXT4_FT_UNKNOWN, "%s: dirent type %u", path, ft);
            t_compare_file(fs, &ei, path, &st);
        } else if (S_ISLNK(st.st_mode)) {
            char want[4096], got[4096];
            ssize_t wn = readlink(path, want, sizeof(want));
            ssize_t gn = ext4_readlink(fs, &ei, got, sizeof(got));
            T_EXPECT(gn == wn && !memcmp(want, got, (size_t)wn), "%s: symlink target (%ld vs %ld)", path, (long)gn,
                     (long)wn);
        } else if (S_ISDIR(st.st_mode)) {
            T_EXPECT(ft == EXT4_FT_DIR || ft == EXT4_FT_UNKNOWN, "%s: dirent type %u", path, ft);
            seen += t_compare_tree(fs, &ei, path);
        }
    }
    if (d)
        closedir(d);
    size_t count = names.n;
    if (dir->ino == EXT4_ROOT_INO) {
        for (size_t i = 0; i < names.n; i++)
            if (!strcmp(names.name[i], "lost+found"))
                count--;
    }
    T_EXPECT(count == host_count, "%s: %lu entries listed, host has %lu", host, (unsigned long)count,
             (unsigned long)host_count);
    t_names_free(&names);
    return seen;
}
