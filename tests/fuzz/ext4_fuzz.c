/* libFuzzer target for the ext4 core: the input is a disk image. It is
 * mounted read-only and everything reachable is read (directories through
 * their index and linearly, files, symlinks), then a copy is mounted
 * read-write and changed. Seeds: tests/fuzz/ext4_seeds.sh. */
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>

#include "fs/ext4.h"

void *kmalloc(size_t n) { return malloc(n ? n : 1); }
void *kzalloc(size_t n) { return calloc(1, n ? n : 1); }
void *kcalloc(size_t n, size_t s) { return calloc(n ? n : 1, s ? s : 1); }
void kfree(const void *p) { free((void *)p); }
void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }
void vprintk(int level, const char *fmt, va_list ap) { (void)level; (void)fmt; (void)ap; }

struct mem {
    uint8_t *data;
    size_t size;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct mem *m = ctx;
    if (off > m->size || len > m->size - off)
        return -5;
    memcpy(buf, m->data + off, len);
    return 0;
}

static int mem_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct mem *m = ctx;
    if (off > m->size || len > m->size - off)
        return -5;
    memcpy(m->data + off, buf, len);
    return 0;
}

static int mem_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static struct ext4_time fixed_now(void)
{
    return (struct ext4_time){ 1700000000, 0 };
}

struct walk {
    struct ext4_fs *fs;
    unsigned budget;
    int depth;
    char buf[65536];
};

static void walk_dir(struct walk *w, struct ext4_inode *dir);

static bool visit(void *arg, const char *name, size_t len, uint32_t ino, uint8_t ftype, uint64_t next)
{
    (void)ftype;
    (void)next;
    struct walk *w = arg;
    if (!w->budget || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return w->budget != 0;
    w->budget--;
    struct ext4_inode ei;
    if (ext4_inode_read(w->fs, ino, &ei) != 0)
        return true;
    if ((ei.mode & 0170000) == 0040000 && w->depth < 12) {
        w->depth++;
        walk_dir(w, &ei);
        w->depth--;
    } else if ((ei.mode & 0170000) == 0120000) {
        ext4_readlink(w->fs, &ei, w->buf, sizeof(w->buf));
    } else {
        for (uint64_t off = 0; off < (1u << 20); off += sizeof(w->buf))
            if (ext4_file_read(w->fs, &ei, off, w->buf, sizeof(w->buf)) <= 0)
                break;
    }
    return true;
}

static void walk_dir(struct walk *w, struct ext4_inode *dir)
{
    uint64_t pos = 0;
    ext4_dir_iterate(w->fs, dir, &pos, visit, w);
    uint32_t ino;
    uint8_t ft;
    ext4_dir_lookup(w->fs, dir, "d", 1, &ino, &ft);
    ext4_dir_lookup(w->fs, dir, "entry-name-042", 14, &ino, &ft);
}

static void change(struct ext4_fs *fs)
{
    struct ext4_inode root, ei, d;
    if (ext4_inode_read(fs, 2, &root))
        return;
    static char data[5000];
    if (ext4_create(fs, &root, "n", 1, 0100644, 0, 0, 0, &ei) == 0) {
        ext4_file_write(fs, &ei, 3000, data, sizeof(data));
        ext4_truncate(fs, &ei, 10);
    }
    if (ext4_mkdir(fs, &root, "m", 1, 0755, 0, 0, &d) == 0)
        ext4_symlink(fs, &d, "s", 1, "a-target", 0, 0, &ei);
    uint32_t ino;
    uint8_t ft;
    if (ext4_dir_lookup(fs, &root, "a", 1, &ino, &ft) == 0 && ext4_inode_read(fs, ino, &ei) == 0 &&
        ext4_unlink(fs, &root, "a", 1, &ei) == 0)
        ext4_inode_release(fs, &ei);
    if (ext4_dir_lookup(fs, &root, "d", 1, &ino, &ft) == 0 && ext4_inode_read(fs, ino, &d) == 0)
        for (int i = 0; i < 40; i++) {
            char name[32];
            int n = snprintf(name, sizeof(name), "new-entry-name-%02d", i);
            if (ext4_create(fs, &d, name, (size_t)n, 0100644, 0, 0, 0, &ei) != 0)
                break;
        }
    ext4_fs_sync(fs, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2048 || size > (4u << 20))
        return 0;
    struct mem m = { malloc(size), size };
    memcpy(m.data, data, size);
    struct ext4_io io = { mem_read, mem_write, mem_flush, &m, size, true };
    struct ext4_fs *fs;
    if (ext4_fs_mount(&io, "fuzz", EXT4_MOUNT_RDONLY, fixed_now, &fs) == 0) {
        static struct walk w;
        w.fs = fs;
        w.budget = 2000;
        w.depth = 0;
        struct ext4_inode root;
        if (ext4_inode_read(fs, 2, &root) == 0)
            walk_dir(&w, &root);
        ext4_fs_unmount(fs);
        io.read_only = false;
        if (ext4_fs_mount(&io, "fuzz", 0, fixed_now, &fs) == 0) {
            change(fs);
            ext4_fs_unmount(fs);
        }
    }
    free(m.data);
    return 0;
}
