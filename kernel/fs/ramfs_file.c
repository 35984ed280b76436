/* ramfs regular files: data in counted pages found through a radix tree;
 * holes read as zeros and own no page. Writers, truncation and fallocate
 * hold the vnode lock; readers and mmap faults take only the page lock, so a
 * write from (or a read into) a mapping of the same file cannot deadlock. */
#include "fs/ramfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"

#define MAX_FILE_SIZE ((uint64_t)INT64_MAX)
#define PG 4096u

void ramfs_file_init(struct ramfs_node *n)
{
    spin_init(&n->file.pages_lock);
    n->file.pages = (struct radix)RADIX_INIT;
}

/* The page at idx with a reference for the caller, or NULL for a hole. */
static struct page *page_get(struct ramfs_node *n, uint64_t idx)
{
    irqflags_t f = spin_lock(&n->file.pages_lock);
    struct page *p = radix_lookup(&n->file.pages, idx);
    if (p)
        page_ref_get(p);
    spin_unlock(&n->file.pages_lock, f);
    return p;
}

/* Fill the hole at idx with a zeroed page: the page (with a reference for
 * the caller) or NULL with *err set. */
static struct page *page_fill(struct ramfs_node *n, uint64_t idx, int *err)
{
    struct page *p = page_get(n, idx);
    if (p)
        return p;
    if ((*err = ramfs_charge_page(n->v.sb)) != 0)
        return NULL;
    struct page *np = page_alloc_counted();
    if (!np) {
        ramfs_uncharge_pages(n->v.sb, 1);
        *err = -ENOMEM;
        return NULL;
    }
    memset(page_to_virt(np), 0, PG);
    irqflags_t f = spin_lock(&n->file.pages_lock);
    p = radix_lookup(&n->file.pages, idx);
    if (!p) {
        *err = radix_insert(&n->file.pages, idx, np);
        if (!*err) {
            p = np;
            np = NULL;
            n->v.blocks += PG / 512;
        }
    }
    if (p)
        page_ref_get(p);
    spin_unlock(&n->file.pages_lock, f);
    if (np) { /* lost a race, or no memory for the tree */
        page_ref_put(np);
        ramfs_uncharge_pages(n->v.sb, 1);
    }
    if (p)
        *err = 0;
    return p;
}

/* Drop the pages with index in [first, last]. */
static void pages_drop(struct ramfs_node *n, uint64_t first, uint64_t last)
{
    uint64_t dropped = 0, idx;
    void *item;
    irqflags_t f = spin_lock(&n->file.pages_lock);
    while (first <= last && radix_next(&n->file.pages, first, &idx, &item) && idx <= last) {
        radix_remove(&n->file.pages, idx);
        page_ref_put(item); /* a mapping's own reference keeps the data alive */
        dropped++;
        if (idx == UINT64_MAX)
            break;
        first = idx + 1;
    }
    n->v.blocks -= dropped * (PG / 512);
    spin_unlock(&n->file.pages_lock, f);
    if (dropped)
        ramfs_uncharge_pages(n->v.sb, dropped);
}

void ramfs_file_free_pages(struct ramfs_node *n)
{
    pages_drop(n, 0, UINT64_MAX);
    radix_destroy(&n->file.pages);
}

/* Zero [off, off+len) inside one page, if that page exists. */
static void zero_in_page(struct ramfs_node *n, uint64_t off, size_t len)
{
    struct page *p = page_get(n, off / PG);
    if (!p)
        return;
    memset((char *)page_to_virt(p) + off % PG, 0, len);
    page_ref_put(p);
}

/* Make [off, end) read as zeros: whole pages go, partial ones are cleared. */
static void punch(struct ramfs_node *n, uint64_t off, uint64_t end)
{
    if (off >= end)
        return;
    uint64_t first_full = DIV_ROUND_UP(off, PG), last_full = end / PG; /* [first, last) */
    if (first_full > last_full) { /* inside one page */
        zero_in_page(n, off, (size_t)(end - off));
        return;
    }
    if (off % PG)
        zero_in_page(n, off, PG - off % PG);
    if (end % PG)
        zero_in_page(n, end - end % PG, end % PG);
    if (last_full > first_full)
        pages_drop(n, first_full, last_full - 1);
}

int ramfs_file_resize(struct ramfs_node *n, uint64_t size)
{
    uint64_t old = n->v.size;
    if (size < old) {
        if (size % PG)
            zero_in_page(n, size, PG - size % PG); /* a later extension must read zeros */
        pages_drop(n, DIV_ROUND_UP(size, PG), UINT64_MAX);
    }
    n->v.size = size;
    return 0;
}

static ssize_t ramfs_read(struct file *f, struct uio *u, uint64_t *pos)
{
    struct ramfs_node *n = RAMFS_NODE(f->vnode);
    uint64_t off = *pos, size = READ_ONCE(n->v.size);
    size_t done = 0;
    while (u->resid && off < size) {
        size_t in = off % PG, chunk = (size_t)MIN((uint64_t)(PG - in), size - off);
        struct page *p = page_get(n, off / PG);
        size_t got;
        if (p) {
            got = uio_copy_out(u, (char *)page_to_virt(p) + in, chunk);
            page_ref_put(p);
        } else {
            got = uio_zero(u, chunk);
        }
        done += got;
        off += got;
        if (got < chunk)
            break;
    }
    *pos = off;
    if (done && !(f->flags & O_NOATIME)) {
        struct vnode *v = &n->v; /* relatime: only when atime fell behind */
        if (v->atime.tv_sec < v->mtime.tv_sec || v->atime.tv_sec < v->ctime.tv_sec ||
            vfs_now().tv_sec - v->atime.tv_sec >= 86400)
            vnode_touch(v, VATTR_ATIME);
    }
    return uio_result(u, done);
}

/* Copy up to one page of the request into the file at off. */
static ssize_t write_chunk(struct ramfs_node *n, struct uio *u, uint64_t off)
{
    size_t in = off % PG, chunk = MIN((size_t)(PG - in), u->resid);
    int err;
    struct page *p = page_fill(n, off / PG, &err);
    if (!p)
        return err;
    size_t got = uio_copy_in(u, (char *)page_to_virt(p) + in, chunk);
    page_ref_put(p);
    return (ssize_t)got;
}

static ssize_t ramfs_write(struct file *f, struct uio *u, uint64_t *pos)
{
    struct ramfs_node *n = RAMFS_NODE(f->vnode);
    mutex_lock(&n->v.lock);
    uint64_t off = (f->flags & O_APPEND) ? n->v.size : *pos;
    ssize_t err = 0;
    size_t done = 0;
    if (off >= MAX_FILE_SIZE)
        err = -EFBIG;
    while (!err && u->resid && off < MAX_FILE_SIZE) {
        ssize_t got = write_chunk(n, u, off);
        if (got <= 0) {
            err = got;
            break;
        }
        done += (size_t)got;
        off += (uint64_t)got;
        if (u->fault)
            break;
    }
    if (off > n->v.size && done)
        n->v.size = off;
    if (done)
        vnode_touch(&n->v, VATTR_MTIME | VATTR_CTIME);
    *pos = off;
    mutex_unlock(&n->v.lock);
    if (done)
        return (ssize_t)done;
    return err ? err : uio_result(u, 0);
}

static int ramfs_get_page(struct file *f, uint64_t pgoff, struct page **out)
{
    struct ramfs_node *n = RAMFS_NODE(f->vnode);
    if (pgoff >= DIV_ROUND_UP(READ_ONCE(n->v.size), PG))
        return -ENXIO;
    int err;
    *out = page_fill(n, pgoff, &err);
    return *out ? 0 : err;
}

static int ramfs_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
    struct ramfs_node *n = RAMFS_NODE(f->vnode);
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
        return -EOPNOTSUPP;
    if ((mode & FALLOC_FL_PUNCH_HOLE) && (!(mode & FALLOC_FL_KEEP_SIZE) || (mode & FALLOC_FL_ZERO_RANGE)))
        return -EOPNOTSUPP;
    uint64_t end;
    if (__builtin_add_overflow(off, len, &end) || end > MAX_FILE_SIZE)
        return -EFBIG;
    int err = 0;
    mutex_lock(&n->v.lock);
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
        punch(n, off, MIN(end, ALIGN_UP(n->v.size, (uint64_t)PG)));
    } else {
        for (uint64_t idx = off / PG; idx < DIV_ROUND_UP(end, PG) && !err; idx++) {
            struct page *p = page_fill(n, idx, &err);
            if (p)
                page_ref_put(p);
        }
    }
    if (!err && !(mode & FALLOC_FL_KEEP_SIZE) && end > n->v.size)
        n->v.size = end;
    if (!err)
        vnode_touch(&n->v, VATTR_MTIME | VATTR_CTIME);
    mutex_unlock(&n->v.lock);
    return err;
}

static int ramfs_seek_data(struct file *f, uint64_t off, int whence, uint64_t *out)
{
    struct ramfs_node *n = RAMFS_NODE(f->vnode);
    uint64_t size = READ_ONCE(n->v.size), idx;
    void *item;
    if (off >= size)
        return -ENXIO;
    irqflags_t fl = spin_lock(&n->file.pages_lock);
    if (whence == SEEK_DATA) {
        bool found = radix_next(&n->file.pages, off / PG, &idx, &item);
        spin_unlock(&n->file.pages_lock, fl);
        uint64_t at = found ? MAX(off, idx * PG) : size;
        if (at >= size)
            return -ENXIO;
        *out = at;
        return 0;
    }
    idx = off / PG; /* SEEK_HOLE: the first missing page, or the end */
    while (idx * PG < size && radix_lookup(&n->file.pages, idx))
        idx++;
    spin_unlock(&n->file.pages_lock, fl);
    *out = MIN(MAX(off, idx * PG), size);
    return 0;
}

int ramfs_file_append(struct ramfs_node *n, const void *data, size_t len)
{
    struct uio u;
    uio_init_kernel(&u, (void *)data, len);
    uint64_t off = n->v.size;
    while (u.resid) {
        ssize_t got = write_chunk(n, &u, off);
        if (got <= 0)
            return got ? (int)got : -EIO;
        off += (uint64_t)got;
        n->v.size = off;
    }
    return 0;
}

int ramfs_setattr(struct vnode *v, const struct vattr *a)
{
    mutex_lock(&v->lock);
    if (a->mask & VATTR_SIZE) {
        ramfs_file_resize(RAMFS_NODE(v), a->size);
        vnode_touch(v, VATTR_MTIME);
    }
    if (a->mask & VATTR_MODE)
        v->mode = (v->mode & S_IFMT) | (a->mode & S_IALLUGO);
    if (a->mask & VATTR_UID)
        v->uid = a->uid;
    if (a->mask & VATTR_GID)
        v->gid = a->gid;
    if (a->mask & VATTR_ATIME)
        v->atime = a->atime;
    if (a->mask & VATTR_MTIME)
        v->mtime = a->mtime;
    v->ctime = a->ctime;
    mutex_unlock(&v->lock);
    return 0;
}

static int ramfs_fsync(struct file *f, bool datasync)
{
    (void)f;
    (void)datasync;
    return 0; /* memory is as durable as it gets */
}

const struct vnode_ops ramfs_file_ops = { .setattr = ramfs_setattr };

const struct file_ops ramfs_file_fops = {
    .read = ramfs_read,
    .write = ramfs_write,
    .get_page = ramfs_get_page,
    .fsync = ramfs_fsync,
    .fallocate = ramfs_fallocate,
    .seek_data = ramfs_seek_data,
    .flags = FOPS_SIZE_SEEK,
};
