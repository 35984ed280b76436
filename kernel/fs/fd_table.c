/* File descriptor tables: slots grow on demand up to the limit; files are
 * released outside the lock since closing may sleep. */
#include "fs/fdtable.h"
#include "fs/namei.h"
#include "fs/vfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vfs_internal.h"

#define FD_INITIAL_SLOTS 64

struct fd_table *fd_table_create(void)
{
    struct fd_table *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    spin_init(&t->lock);
    t->files = kcalloc(FD_INITIAL_SLOTS, sizeof(struct file *));
    t->cloexec = kcalloc(FD_INITIAL_SLOTS / 64, sizeof(uint64_t));
    if (!t->files || !t->cloexec) {
        kfree(t->files);
        kfree(t->cloexec);
        kfree(t);
        return NULL;
    }
    t->size = FD_INITIAL_SLOTS;
    t->limit = FD_DEFAULT_LIMIT;
    t->refs = 1;
    return t;
}

struct fd_table *fd_table_get(struct fd_table *t)
{
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

static bool cloexec_test(struct fd_table *t, unsigned fd)
{
    return t->cloexec[fd / 64] >> (fd % 64) & 1;
}

static void cloexec_assign(struct fd_table *t, unsigned fd, bool on)
{
    if (on)
        t->cloexec[fd / 64] |= 1ull << (fd % 64);
    else
        t->cloexec[fd / 64] &= ~(1ull << (fd % 64));
}

/* Closing: process-owned (POSIX) locks go with any close of the file. */
static void fd_release(struct fd_table *t, struct file *f)
{
    if (f->vnode && !list_empty(&f->vnode->locks))
        vfs_lock_release_posix(f->vnode, t);
    vfs_file_put(f);
}

void fd_table_put(struct fd_table *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (unsigned i = 0; i < t->size; i++)
        if (t->files[i])
            fd_release(t, t->files[i]);
    kfree(t->files);
    kfree(t->cloexec);
    kfree(t);
}

/* Make room for descriptor fd; called without the lock, allocates. */
static int fd_grow(struct fd_table *t, unsigned fd)
{
    for (;;) {
        irqflags_t f = spin_lock(&t->lock);
        unsigned size = t->size;
        spin_unlock(&t->lock, f);
        if (fd < size)
            return 0;
        unsigned nsize = size;
        while (nsize <= fd)
            nsize *= 2;
        struct file **files = kcalloc(nsize, sizeof(struct file *));
        uint64_t *bits = kcalloc(nsize / 64, sizeof(uint64_t));
        if (!files || !bits) {
            kfree(files);
            kfree(bits);
            return -ENOMEM;
        }
        f = spin_lock(&t->lock);
        if (t->size == size) {
            memcpy(files, t->files, size * sizeof(struct file *));
            memcpy(bits, t->cloexec, size / 64 * sizeof(uint64_t));
            struct file **of = t->files;
            uint64_t *ob = t->cloexec;
            t->files = files;
            t->cloexec = bits;
            t->size = nsize;
            spin_unlock(&t->lock, f);
            kfree(of);
            kfree(ob);
            return 0;
        }
        spin_unlock(&t->lock, f); /* someone else grew it: look again */
        kfree(files);
        kfree(bits);
    }
}

struct fd_table *fd_table_clone(struct fd_table *old)
{
    struct fd_table *t = fd_table_create();
    if (!t)
        return NULL;
    irqflags_t f = spin_lock(&old->lock);
    unsigned n = old->size;
    spin_unlock(&old->lock, f);
    if (fd_grow(t, n - 1) != 0) {
        fd_table_put(t);
        return NULL;
    }
    f = spin_lock(&old->lock);
    unsigned count = MIN(old->size, t->size);
    for (unsigned i = 0; i < count; i++) {
        t->files[i] = old->files[i] ? vfs_file_ref(old->files[i]) : NULL;
        cloexec_assign(t, i, old->files[i] && cloexec_test(old, i));
    }
    t->limit = old->limit;
    t->lowest_free = old->lowest_free;
    spin_unlock(&old->lock, f);
    return t;
}

int fd_table_set_limit(struct fd_table *t, unsigned limit)
{
    if (limit == 0 || limit > FD_HARD_LIMIT)
        return -EINVAL;
    WRITE_ONCE(t->limit, limit);
    return 0;
}

int fd_install(struct fd_table *t, struct file *file, unsigned min, bool cloexec)
{
    for (;;) {
        irqflags_t f = spin_lock(&t->lock);
        unsigned limit = t->limit;
        if (min >= limit) {
            spin_unlock(&t->lock, f);
            return -EMFILE;
        }
        unsigned fd = MAX(min, t->lowest_free);
        while (fd < t->size && t->files[fd])
            fd++;
        if (fd >= limit) {
            spin_unlock(&t->lock, f);
            return -EMFILE;
        }
        if (fd < t->size) {
            t->files[fd] = vfs_file_ref(file);
            cloexec_assign(t, fd, cloexec);
            if (min <= t->lowest_free)
                t->lowest_free = fd + 1;
            spin_unlock(&t->lock, f);
            return (int)fd;
        }
        spin_unlock(&t->lock, f);
        int err = fd_grow(t, fd);
        if (err)
            return err;
    }
}

struct file *fd_get(struct fd_table *t, int fd)
{
    struct file *file = NULL;
    if (fd < 0)
        return NULL;
    irqflags_t f = spin_lock(&t->lock);
    if ((unsigned)fd < t->size && t->files[fd])
        file = vfs_file_ref(t->files[fd]);
    spin_unlock(&t->lock, f);
    return file;
}

/* Take fd out of the table; the caller releases the file. */
static struct file *fd_take_locked(struct fd_table *t, unsigned fd)
{
    struct file *file = t->files[fd];
    t->files[fd] = NULL;
    cloexec_assign(t, fd, false);
    if (fd < t->lowest_free)
        t->lowest_free = fd;
    return file;
}

int fd_close(struct fd_table *t, int fd)
{
    if (fd < 0)
        return -EBADF;
    irqflags_t f = spin_lock(&t->lock);
    struct file *file = (unsigned)fd < t->size ? fd_take_locked(t, (unsigned)fd) : NULL;
    spin_unlock(&t->lock, f);
    if (!file)
        return -EBADF;
    fd_release(t, file);
    return 0;
}

int fd_install_at(struct fd_table *t, struct file *file, int fd, bool cloexec)
{
    if (fd < 0 || (unsigned)fd >= READ_ONCE(t->limit))
        return -EBADF;
    int err = fd_grow(t, (unsigned)fd);
    if (err)
        return err;
    irqflags_t f = spin_lock(&t->lock);
    struct file *old = t->files[fd];
    t->files[fd] = vfs_file_ref(file);
    cloexec_assign(t, (unsigned)fd, cloexec);
    while (t->lowest_free < t->size && t->files[t->lowest_free])
        t->lowest_free++;
    spin_unlock(&t->lock, f);
    if (old)
        fd_release(t, old);
    return fd;
}

int fd_dup_to(struct fd_table *t, int oldfd, int newfd, bool cloexec)
{
    struct file *file = fd_get(t, oldfd);
    if (!file)
        return -EBADF;
    int r = fd_install_at(t, file, newfd, cloexec);
    vfs_file_put(file);
    return r;
}

int fd_get_cloexec(struct fd_table *t, int fd)
{
    irqflags_t f = spin_lock(&t->lock);
    int r = fd >= 0 && (unsigned)fd < t->size && t->files[fd] ? cloexec_test(t, (unsigned)fd) : -EBADF;
    spin_unlock(&t->lock, f);
    return r;
}

int fd_set_cloexec(struct fd_table *t, int fd, bool on)
{
    irqflags_t f = spin_lock(&t->lock);
    int r = -EBADF;
    if (fd >= 0 && (unsigned)fd < t->size && t->files[fd]) {
        cloexec_assign(t, (unsigned)fd, on);
        r = 0;
    }
    spin_unlock(&t->lock, f);
    return r;
}

int fd_close_range(struct fd_table *t, unsigned first, unsigned last, unsigned flags)
{
    if (flags & ~(unsigned)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
        return -EINVAL;
    if (first > last)
        return -EINVAL;
    for (unsigned fd = first;; fd++) {
        irqflags_t f = spin_lock(&t->lock);
        if (fd >= t->size) {
            spin_unlock(&t->lock, f);
            break;
        }
        struct file *file = NULL;
        if (t->files[fd]) {
            if (flags & CLOSE_RANGE_CLOEXEC)
                cloexec_assign(t, fd, true);
            else
                file = fd_take_locked(t, fd);
        }
        spin_unlock(&t->lock, f);
        if (file)
            fd_release(t, file);
        if (fd == last)
            break;
    }
    return 0;
}

void fd_close_on_exec(struct fd_table *t)
{
    for (unsigned fd = 0;; fd++) {
        irqflags_t f = spin_lock(&t->lock);
        if (fd >= t->size) {
            spin_unlock(&t->lock, f);
            return;
        }
        struct file *file = t->files[fd] && cloexec_test(t, fd) ? fd_take_locked(t, fd) : NULL;
        spin_unlock(&t->lock, f);
        if (file)
            fd_release(t, file);
    }
}

unsigned fd_table_count(struct fd_table *t)
{
    irqflags_t f = spin_lock(&t->lock);
    unsigned n = t->size;
    while (n > 0 && !t->files[n - 1])
        n--;
    spin_unlock(&t->lock, f);
    return n;
}

int fd_install_console(struct fd_table *t)
{
    /* one open file shared by 0, 1 and 2, as Linux's init leaves them */
    struct file *f;
    int err = vfs_open_kernel("/dev/console", O_RDWR | O_NOCTTY, &f);
    if (err)
        return err;
    for (int fd = 0; fd < 3 && err >= 0; fd++)
        err = fd_install_at(t, f, fd, false);
    vfs_file_put(f);
    return err < 0 ? err : 0;
}
