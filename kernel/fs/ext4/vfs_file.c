/* ext4 regular files under the VFS: a page cache of counted pages (bounded,
 * least recently used pages dropped first) that serves read, write (written
 * through to the disk) and mmap faults; fsync, fallocate and SEEK_DATA/HOLE.
 * Writers hold the vnode lock; readers and faults only the page-cache lock
 * and, to fill a page, the mount's lock, so a read into a mapping of the
 * same file cannot deadlock. */
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"
#include "vfs_glue.h"

#define MAX_FILE_SIZE ((uint64_t)INT64_MAX)

/* ---- the page cache ---- */

/* Drop least recently used unpinned pages until under the limit (pc_lock held). */
static void pc_reclaim_locked(struct ext4_mount *m)
{
    list_for_each_safe(n, &m->lru) {
        if (m->cached <= m->max_cached)
            break;
        struct ext4_cpage *cp = list_entry(n, struct ext4_cpage, lru);
        if (cp->pinned)
            continue;
        radix_remove(&cp->owner->pages, cp->index);
        list_remove(&cp->lru);
        m->cached--;
        page_ref_put(cp->page); /* a mapping's own reference keeps the data */
        kfree(cp);
    }
}

/* The cached page at idx with a reference, or NULL. */
static struct page *pc_lookup(struct ext4_vnode *ev, uint64_t idx, bool pin)
{
    struct ext4_mount *m = vn_mount(ev);
    irqflags_t f = spin_lock(&m->pc_lock);
    struct ext4_cpage *cp = radix_lookup(&ev->pages, idx);
    struct page *p = NULL;
    if (cp) {
        p = cp->page;
        page_ref_get(p);
        list_remove(&cp->lru);
        list_add_tail(&m->lru, &cp->lru);
        if (pin && !cp->pinned) {
            cp->pinned = true;
            if (list_empty(&ev->mapped_link))
                list_add_tail(&m->mapped, &ev->mapped_link);
        }
    }
    spin_unlock(&m->pc_lock, f);
    return p;
}

/* Read page idx of the file from the disk into p (zeros past the end). */
static int pc_fill(struct ext4_vnode *ev, uint64_t idx, struct page *p)
{
    struct ext4_mount *m = vn_mount(ev);
    char *data = page_to_virt(p);
    bool taken = ext4_lock(m);
    ssize_t n = ext4_file_read(m->fs, &ev->ei, idx * EXT4_PAGE, data, EXT4_PAGE);
    ext4_unlock(m, taken);
    if (n < 0)
        return (int)n;
    memset(data + n, 0, EXT4_PAGE - (size_t)n);
    return 0;
}

/* Insert a filled page unless one appeared meanwhile or the file was cut
 * below it; returns the page to use, with a reference for the caller. */
static struct page *pc_insert(struct ext4_vnode *ev, uint64_t idx, struct page *np, uint64_t gen, bool pin)
{
    struct ext4_mount *m = vn_mount(ev);
    struct ext4_cpage *cp = kzalloc(sizeof(*cp));
    irqflags_t f = spin_lock(&m->pc_lock);
    struct ext4_cpage *old = radix_lookup(&ev->pages, idx);
    struct page *use = np;
    if (old) {
        use = old->page;
        page_ref_get(use);
        page_ref_put(np);
        if (pin && !old->pinned) {
            old->pinned = true;
            if (list_empty(&ev->mapped_link))
                list_add_tail(&m->mapped, &ev->mapped_link);
        }
    } else if (cp && gen == ev->trunc_gen && radix_insert(&ev->pages, idx, cp) == 0) {
        cp->page = np;
        cp->owner = ev;
        cp->index = idx;
        cp->pinned = pin;
        page_ref_get(np); /* the cache's reference */
        list_add_tail(&m->lru, &cp->lru);
        m->cached++;
        cp = NULL;
        if (pin && list_empty(&ev->mapped_link))
            list_add_tail(&m->mapped, &ev->mapped_link);
        if (m->cached > m->max_cached)
            pc_reclaim_locked(m);
    }
    spin_unlock(&m->pc_lock, f);
    kfree(cp);
    return use; /* uncached (no memory, or truncated meanwhile): still valid for this caller */
}

/* Pages after idx that a sequential reader will want: how many to read
 * with it (stops at the end of the file and at the first cached page). */
static unsigned ra_pages(struct ext4_vnode *ev, uint64_t idx)
{
    if (ev->ra_next != idx || idx == 0) {
        ev->ra_window = 1;
        return 1;
    }
    unsigned w = MIN(ev->ra_window * 2, EXT4_RA_MAX);
    uint64_t last = DIV_ROUND_UP(READ_ONCE(ev->v.size), (uint64_t)EXT4_PAGE);
    if (idx + w > last)
        w = (unsigned)MAX(last - idx, (uint64_t)1);
    struct ext4_mount *m = vn_mount(ev);
    irqflags_t f = spin_lock(&m->pc_lock);
    for (unsigned i = 1; i < w; i++)
        if (radix_lookup(&ev->pages, idx + i)) {
            w = i;
            break;
        }
    spin_unlock(&m->pc_lock, f);
    ev->ra_window = w;
    return w;
}

/* Fill p (page idx) and, reading sequentially, the pages after it with one
 * disk read into a bounce buffer; the extra pages go into the cache. */
static int pc_fill_ahead(struct ext4_vnode *ev, uint64_t idx, struct page *p, uint64_t gen)
{
    unsigned n = ra_pages(ev, idx);
    ev->ra_next = idx + n;
    char *bounce = n > 1 ? kmalloc((size_t)n * EXT4_PAGE) : NULL;
    if (!bounce)
        return pc_fill(ev, idx, p);
    struct ext4_mount *m = vn_mount(ev);
    bool taken = ext4_lock(m);
    ssize_t got = ext4_file_read(m->fs, &ev->ei, idx * EXT4_PAGE, bounce, (size_t)n * EXT4_PAGE);
    ext4_unlock(m, taken);
    if (got < 0) {
        kfree(bounce);
        return (int)got;
    }
    memset(bounce + got, 0, (size_t)n * EXT4_PAGE - (size_t)got);
    memcpy(page_to_virt(p), bounce, EXT4_PAGE);
    for (unsigned i = 1; i < n; i++) {
        struct page *np = page_alloc_counted();
        if (!np)
            break;
        memcpy(page_to_virt(np), bounce + (size_t)i * EXT4_PAGE, EXT4_PAGE);
        page_ref_put(pc_insert(ev, idx + i, np, gen, false));
    }
    kfree(bounce);
    return 0;
}

/* The page holding idx, read from the disk if not cached. fresh: the caller
 * overwrites it entirely, so a missing page starts as zeros. */
static int pc_get(struct ext4_vnode *ev, uint64_t idx, bool fresh, bool pin, struct page **out)
{
    struct page *p = pc_lookup(ev, idx, pin);
    if (p) {
        if (idx == ev->ra_next - 1 || idx == ev->ra_next)
            ev->ra_next = idx + 1;
        *out = p;
        return 0;
    }
    uint64_t gen = __atomic_load_n(&ev->trunc_gen, __ATOMIC_ACQUIRE);
    struct page *np = page_alloc_counted();
    if (!np)
        return -ENOMEM;
    int err = 0;
    if (fresh)
        memset(page_to_virt(np), 0, EXT4_PAGE);
    else
        err = pc_fill_ahead(ev, idx, np, gen);
    if (err) {
        page_ref_put(np);
        return err;
    }
    *out = pc_insert(ev, idx, np, gen, pin);
    return 0;
}

void ext4_pc_drop(struct ext4_vnode *ev, uint64_t first)
{
    struct ext4_mount *m = vn_mount(ev);
    uint64_t idx;
    void *item;
    irqflags_t f = spin_lock(&m->pc_lock);
    while (radix_next(&ev->pages, first, &idx, &item)) {
        struct ext4_cpage *cp = item;
        radix_remove(&ev->pages, idx);
        list_remove(&cp->lru);
        m->cached--;
        page_ref_put(cp->page);
        kfree(cp);
        if (idx == UINT64_MAX)
            break;
        first = idx + 1;
    }
    spin_unlock(&m->pc_lock, f);
}

void ext4_pc_zero_tail(struct ext4_vnode *ev, uint64_t size)
{
    if (!(size % EXT4_PAGE))
        return;
    struct page *p = pc_lookup(ev, size / EXT4_PAGE, false);
    if (p) {
        memset((char *)page_to_virt(p) + size % EXT4_PAGE, 0, EXT4_PAGE - size % EXT4_PAGE);
        page_ref_put(p);
    }
}

/* Write part [from, to) of page idx (its data in p) to the disk; the
 * metadata it changed is written by the caller's commit, after the data. */
static int page_write(struct ext4_vnode *ev, uint64_t idx, struct page *p, uint32_t from, uint32_t to)
{
    struct ext4_mount *m = vn_mount(ev);
    struct ext4_fs *fs = m->fs;
    uint64_t base = idx * EXT4_PAGE;
    const char *data = page_to_virt(p);
    ssize_t n;
    bool taken = ext4_lock(m);
    if (fs->block_size <= EXT4_PAGE) {
        /* whole blocks from the page: the bytes around the change are current there */
        uint32_t a = ALIGN_DOWN(from, fs->block_size), b = ALIGN_UP(to, fs->block_size);
        n = ext4_file_write_blocks(fs, &ev->ei, base + a, data + a, b - a);
        if (n >= 0 && base + to > ev->ei.size)
            ext4_file_set_size(fs, &ev->ei, base + to);
    } else {
        n = ext4_file_write(fs, &ev->ei, base + from, data + from, to - from);
    }
    ext4_unlock(m, taken);
    return n < 0 ? (int)n : 0;
}

int ext4_pc_writeback(struct ext4_vnode *ev)
{
    struct ext4_mount *m = vn_mount(ev);
    int first_err = 0;
    for (uint64_t start = 0;;) {
        uint64_t idx;
        void *item;
        struct page *p = NULL;
        irqflags_t f = spin_lock(&m->pc_lock);
        while (radix_next(&ev->pages, start, &idx, &item)) {
            struct ext4_cpage *cp = item;
            start = idx + 1;
            if (cp->pinned) {
                p = cp->page;
                page_ref_get(p);
                break;
            }
        }
        spin_unlock(&m->pc_lock, f);
        if (!p)
            break;
        uint64_t size = READ_ONCE(ev->ei.size);
        if (idx * EXT4_PAGE < size) {
            uint32_t to = (uint32_t)MIN((uint64_t)EXT4_PAGE, size - idx * EXT4_PAGE);
            int err = page_write(ev, idx, p, 0, to);
            if (err && !first_err)
                first_err = err;
        }
        page_ref_put(p);
    }
    bool taken = ext4_lock(m);
    first_err = ext4_vfs_commit(m, first_err);
    ext4_unlock(m, taken);
    return first_err;
}

/* ---- file operations ---- */

static void touch_atime(struct file *f, struct ext4_vnode *ev)
{
    struct ext4_mount *m = vn_mount(ev);
    struct vnode *v = &ev->v;
    if (m->fs->read_only || m->noatime || (f->flags & O_NOATIME) || (ev->ei.flags & EXT4_NOATIME_FL))
        return;
    struct timespec now = vfs_now();
    /* relatime: only when atime fell behind the last change, or once a day */
    if (v->atime.tv_sec >= v->mtime.tv_sec && v->atime.tv_sec >= v->ctime.tv_sec &&
        now.tv_sec - v->atime.tv_sec < 86400)
        return;
    bool taken = ext4_lock(m);
    ev->ei.atime = (struct ext4_time){ now.tv_sec, (uint32_t)now.tv_nsec };
    ext4_vfs_commit(m, ext4_inode_write(m->fs, &ev->ei));
    v->atime = now;
    ext4_unlock(m, taken);
}

static ssize_t ext4_fop_read(struct file *f, struct uio *u, uint64_t *pos)
{
    struct ext4_vnode *ev = EXT4_VN(f->vnode);
    uint64_t off = *pos, size = READ_ONCE(ev->v.size);
    size_t done = 0;
    int err = 0;
    while (u->resid && off < size) {
        size_t in = off % EXT4_PAGE, chunk = (size_t)MIN((uint64_t)(EXT4_PAGE - in), size - off);
        struct page *p;
        if ((err = pc_get(ev, off / EXT4_PAGE, false, false, &p)) != 0)
            break;
        size_t got = uio_copy_out(u, (char *)page_to_virt(p) + in, chunk);
        page_ref_put(p);
        done += got;
        off += got;
        if (got < chunk)
            break;
    }
    *pos = off;
    if (done)
        touch_atime(f, ev);
    if (!done && err)
        return err;
    return uio_result(u, done);
}

/* Consecutive pages of one write, sent to the disk together: one allocation
 * run and one device write instead of one per page. */
struct wbatch {
    uint64_t idx0;
    unsigned n;
    uint32_t from0, to;          /* written part: from0 in the first page, to in the last */
    struct page *pages[EXT4_RA_MAX];
};

static int batch_flush(struct ext4_vnode *ev, struct wbatch *wb)
{
    int err = 0;
    if (!wb->n)
        return 0;
    struct ext4_mount *m = vn_mount(ev);
    uint32_t bs = m->fs->block_size;
    size_t span = (size_t)wb->n * EXT4_PAGE;
    char *bounce = wb->n > 1 && bs <= EXT4_PAGE ? kmalloc(span) : NULL;
    if (bounce) {
        for (unsigned i = 0; i < wb->n; i++)
            memcpy(bounce + (size_t)i * EXT4_PAGE, page_to_virt(wb->pages[i]), EXT4_PAGE);
        uint32_t a = ALIGN_DOWN(wb->from0, bs);
        size_t end = (size_t)(wb->n - 1) * EXT4_PAGE + ALIGN_UP(wb->to, bs);
        uint64_t base = wb->idx0 * EXT4_PAGE, last = base + (uint64_t)(wb->n - 1) * EXT4_PAGE + wb->to;
        bool taken = ext4_lock(m);
        ssize_t w = ext4_file_write_blocks(m->fs, &ev->ei, base + a, bounce + a, end - a);
        if (w >= 0 && last > ev->ei.size)
            ext4_file_set_size(m->fs, &ev->ei, last);
        ext4_unlock(m, taken);
        err = w < 0 ? (int)w : 0;
        kfree(bounce);
    } else {
        for (unsigned i = 0; i < wb->n && !err; i++)
            err = page_write(ev, wb->idx0 + i, wb->pages[i], i ? 0 : wb->from0, i + 1 < wb->n ? EXT4_PAGE : wb->to);
    }
    for (unsigned i = 0; i < wb->n; i++)
        page_ref_put(wb->pages[i]);
    wb->n = 0;
    return err;
}

/* One page's worth of a write into the cache; it joins the batch. */
static ssize_t write_chunk(struct ext4_vnode *ev, struct uio *u, uint64_t off, struct wbatch *wb)
{
    size_t in = off % EXT4_PAGE, chunk = MIN((size_t)(EXT4_PAGE - in), u->resid);
    uint64_t idx = off / EXT4_PAGE;
    if (wb->n && (in != 0 || wb->idx0 + wb->n != idx || wb->to != EXT4_PAGE || wb->n == EXT4_RA_MAX)) {
        int err = batch_flush(ev, wb);
        if (err)
            return err;
    }
    /* a page that is overwritten whole, or lies beyond the end, needs no read */
    bool fresh = (in == 0 && chunk == EXT4_PAGE) || idx * EXT4_PAGE >= ev->ei.size;
    struct page *p;
    int err = pc_get(ev, idx, fresh, false, &p);
    if (err)
        return err;
    size_t got = uio_copy_in(u, (char *)page_to_virt(p) + in, chunk);
    if (!got) {
        page_ref_put(p);
        return 0;
    }
    if (!wb->n) {
        wb->idx0 = idx;
        wb->from0 = (uint32_t)in;
    }
    wb->pages[wb->n++] = p;
    wb->to = (uint32_t)(in + got);
    return (ssize_t)got;
}

static ssize_t ext4_fop_write(struct file *f, struct uio *u, uint64_t *pos)
{
    struct ext4_vnode *ev = EXT4_VN(f->vnode);
    struct ext4_mount *m = vn_mount(ev);
    if (m->fs->read_only)
        return -EROFS;
    mutex_lock(&ev->v.lock);
    uint64_t off = (f->flags & O_APPEND) ? ev->ei.size : *pos;
    uint64_t old_size = ev->ei.size, old_changes = m->fs->map_changes;
    ssize_t err = 0;
    size_t done = 0;
    struct wbatch wb = { .n = 0 };
    if (off >= MAX_FILE_SIZE)
        err = -EFBIG;
    while (!err && u->resid) {
        ssize_t got = write_chunk(ev, u, off, &wb);
        if (got <= 0) {
            err = got;
            break;
        }
        done += (size_t)got;
        off += (uint64_t)got;
        if (u->fault)
            break;
    }
    int ferr = batch_flush(ev, &wb);
    if (!err)
        err = ferr;
    bool taken = ext4_lock(m);
    if (done)
        ext4_inode_touch(m->fs, &ev->ei, true, true);
    int cerr = ext4_inode_write(m->fs, &ev->ei);
    /* the data is on the disk: now the metadata that points to it. An
     * overwrite in place changed only the times: they go with the next commit. */
    if (ev->ei.size != old_size || m->fs->map_changes != old_changes)
        cerr = ext4_vfs_commit(m, cerr);
    ext4_unlock(m, taken);
    if (!err && cerr)
        err = cerr;
    ext4_vfs_sync_attrs(ev);
    *pos = off;
    mutex_unlock(&ev->v.lock);
    if (done && !err)
        return (ssize_t)done;
    return err ? err : uio_result(u, 0);
}

static int ext4_fop_get_page(struct file *f, uint64_t pgoff, struct page **out)
{
    struct ext4_vnode *ev = EXT4_VN(f->vnode);
    if (pgoff >= DIV_ROUND_UP(READ_ONCE(ev->v.size), (uint64_t)EXT4_PAGE))
        return -ENXIO;
    /* a file open for writing may be mapped shared and written: keep its pages for writeback */
    bool pin = (f->fmode & FMODE_WRITE) && !vn_mount(ev)->fs->read_only;
    return pc_get(ev, pgoff, false, pin, out);
}

static int ext4_fop_fsync(struct file *f, bool datasync)
{
    (void)datasync;
    struct ext4_vnode *ev = EXT4_VN(f->vnode);
    struct ext4_mount *m = vn_mount(ev);
    if (m->fs->read_only)
        return 0;
    int err = ext4_pc_writeback(ev);
    bool taken = ext4_lock(m);
    int e2 = ext4_fs_sync(m->fs, true); /* reaches the disk: the device's cache is flushed */
    ext4_unlock(m, taken);
    return err ? err : e2;
}

static int ext4_fop_fallocate(struct file *f, int mode, uint64_t off, uint64_t len)
{
    struct ext4_vnode *ev = EXT4_VN(f->vnode);
    struct ext4_mount *m = vn_mount(ev);
    if (mode & ~FALLOC_FL_KEEP_SIZE)
        return -EOPNOTSUPP;
    uint64_t end;
    if (__builtin_add_overflow(off, len, &end) || end > MAX_FILE_SIZE)
        return -EFBIG;
    if (m->fs->read_only)
        return -EROFS;
    mutex_lock(&ev->v.lock);
    bool taken = ext4_lock(m);
    int err = ext4_fallocate(m->fs, &ev->ei, off, len, (mode & FALLOC_FL_KEEP_SIZE) != 0);
    if (!err)
        ext4_inode_touch(m->fs, &ev->ei, !(mode & FALLOC_FL_KEEP_SIZE), true);
    err = ext4_vfs_commit(m, err ? err : ext4_inode_write(m->fs, &ev->ei));
    ext4_vfs_sync_attrs(ev);
    ext4_unlock(m, taken);
    mutex_unlock(&ev->v.lock);
    return err;
}

static int ext4_fop_seek_data(struct file *f, uint64_t off, int whence, uint64_t *out)
{
    struct ext4_vnode *ev = EXT4_VN(f->vnode);
    struct ext4_mount *m = vn_mount(ev);
    uint64_t size = READ_ONCE(ev->v.size);
    if (off >= size)
        return -ENXIO;
    bool taken = ext4_lock(m);
    uint64_t at;
    int err = ext4_seek_data(m->fs, &ev->ei, off, whence == SEEK_DATA, &at);
    ext4_unlock(m, taken);
    if (err)
        return err;
    if (whence == SEEK_DATA && at >= size)
        return -ENXIO;
    *out = MIN(MAX(at, off), size);
    return 0;
}

const struct file_ops ext4_file_fops = {
    .read = ext4_fop_read,
    .write = ext4_fop_write,
    .get_page = ext4_fop_get_page,
    .fsync = ext4_fop_fsync,
    .fallocate = ext4_fop_fallocate,
    .seek_data = ext4_fop_seek_data,
    .flags = FOPS_SIZE_SEEK,
};
