/* The memory devices: /dev/null, /dev/zero, /dev/full, /dev/random and
 * /dev/urandom (both the kernel's ChaCha20 generator: it never blocks once
 * seeded, which happens before any program runs). */
#include "fs/devfs.h"
#include "fs/random.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/phys.h"

static ssize_t null_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)u, (void)pos;
    return 0;
}

static ssize_t null_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)pos;
    return (ssize_t)uio_skip(u, u->resid); /* like Linux: the buffer is never read */
}

static ssize_t zero_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)pos;
    return uio_result(u, uio_zero(u, u->resid));
}

static ssize_t full_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)u, (void)pos;
    return -ENOSPC;
}

/* mmap of /dev/zero: a fresh zero page per fault (private mappings). */
static int zero_get_page(struct file *f, uint64_t pgoff, struct page **out)
{
    (void)f, (void)pgoff;
    struct page *p = page_alloc_counted();
    if (!p)
        return -ENOMEM;
    memset(page_to_virt(p), 0, 4096);
    *out = p;
    return 0;
}

static ssize_t random_read(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)pos;
    uint8_t buf[256];
    size_t done = 0;
    while (u->resid) {
        size_t n = MIN(u->resid, sizeof(buf));
        random_get_bytes(buf, n);
        size_t got = uio_copy_out(u, buf, n);
        done += got;
        if (got < n)
            break;
    }
    memset(buf, 0, sizeof(buf));
    return uio_result(u, done);
}

/* Writing mixes the bytes in (without crediting them), as on Linux. */
static ssize_t random_write(struct file *f, struct uio *u, uint64_t *pos)
{
    (void)f, (void)pos;
    uint8_t buf[256];
    size_t done = 0;
    while (u->resid) {
        size_t got = uio_copy_in(u, buf, MIN(u->resid, sizeof(buf)));
        if (!got)
            break;
        random_add_entropy(buf, got);
        done += got;
    }
    return uio_result(u, done);
}

static const struct file_ops null_fops = { .read = null_read, .write = null_write };
static const struct file_ops zero_fops = { .read = zero_read, .write = null_write, .get_page = zero_get_page };
static const struct file_ops full_fops = { .read = zero_read, .write = full_write };
static const struct file_ops random_fops = { .read = random_read, .write = random_write };

void devfs_mem_register(void)
{
    vfs_chrdev_register(MKDEV(DEV_MEM_MAJOR, DEV_NULL_MINOR), "null", &null_fops);
    vfs_chrdev_register(MKDEV(DEV_MEM_MAJOR, DEV_ZERO_MINOR), "zero", &zero_fops);
    vfs_chrdev_register(MKDEV(DEV_MEM_MAJOR, DEV_FULL_MINOR), "full", &full_fops);
    vfs_chrdev_register(MKDEV(DEV_MEM_MAJOR, DEV_RANDOM_MINOR), "random", &random_fops);
    vfs_chrdev_register(MKDEV(DEV_MEM_MAJOR, DEV_URANDOM_MINOR), "urandom", &random_fops);
}
