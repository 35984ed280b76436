/* getdents64 and the older getdents: directory entries into the caller's
 * buffer through a kernel bounce buffer, resuming at the file's position. */
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "sys_internal.h"

#define BOUNCE_MAX 32768

struct dirent_ctx {
    struct dir_ctx ctx;
    char *buf;
    size_t size, used;
    bool old;             /* struct linux_dirent */
    bool overflow;        /* an entry did not fit */
};

static bool dirent_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype,
                        uint64_t next)
{
    struct dirent_ctx *d = container_of(ctx, struct dirent_ctx, ctx);
    size_t head = d->old ? offsetof(struct linux_dirent, d_name) : offsetof(struct linux_dirent64, d_name);
    size_t reclen = ALIGN_UP(head + len + 1 + (d->old ? 1 : 0), (size_t)8);
    if (d->used + reclen > d->size) {
        d->overflow = true;
        return false;
    }
    char *rec = d->buf + d->used;
    memset(rec, 0, reclen);
    if (d->old) {
        struct linux_dirent *e = (struct linux_dirent *)rec;
        e->d_ino = ino;
        e->d_off = next;
        e->d_reclen = (uint16_t)reclen;
        memcpy(e->d_name, name, len);
        rec[reclen - 1] = (char)dtype;
    } else {
        struct linux_dirent64 *e = (struct linux_dirent64 *)rec;
        e->d_ino = ino;
        e->d_off = (int64_t)next;
        e->d_reclen = (uint16_t)reclen;
        e->d_type = (uint8_t)dtype;
        memcpy(e->d_name, name, len);
    }
    d->used += reclen;
    ctx->pos = next;
    return true;
}

static long do_getdents(int fd, void __user *dirp, size_t count, bool old)
{
    struct file *f = cur_file(fd);
    if (!f)
        return -EBADF;
    long err = 0;
    if (!S_ISDIR(f->vnode->mode))
        err = -ENOTDIR;
    else if (!user_range_ok(dirp, count))
        err = -EFAULT;
    struct dirent_ctx d = { .ctx = { .emit = dirent_emit }, .old = old, .size = MIN(count, (size_t)BOUNCE_MAX) };
    if (!err && !(d.buf = kmalloc(d.size ? d.size : 1)))
        err = -ENOMEM;
    if (err) {
        vfs_file_put(f);
        return err;
    }
    mutex_lock(&f->pos_lock);
    d.ctx.pos = f->pos;
    err = vfs_iterate_dir(f, &d.ctx);
    if (!err && d.used == 0 && d.overflow)
        err = -EINVAL; /* not even one entry fits */
    if (!err && d.used && copy_to_user(dirp, d.buf, d.used))
        err = -EFAULT;
    if (!err) {
        f->pos = d.ctx.pos;
        err = (long)d.used;
    }
    mutex_unlock(&f->pos_lock);
    kfree(d.buf);
    vfs_file_put(f);
    return err;
}

long sys_getdents64(int fd, void __user *dirp, size_t count)
{
    return do_getdents(fd, dirp, count, false);
}

long sys_getdents(int fd, void __user *dirp, unsigned count)
{
    return do_getdents(fd, dirp, count, true);
}
