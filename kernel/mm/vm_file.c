/* The glue between address spaces and the VFS. The VFS functions are weak
 * references, so mm links (and anonymous memory works) whether or not the
 * file system is built in; a missing VFS makes every file unmappable. */
#include "core/proc.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "vm_internal.h"

struct fd_table;

/* Implemented in kernel/fs (fs/vfs.h, fs/fdtable.h). */
extern int vfs_file_get_page(struct file *f, uint64_t pgoff, struct page **out) __attribute__((weak));
extern struct file *vfs_file_ref(struct file *f) __attribute__((weak));
extern void vfs_file_put(struct file *f) __attribute__((weak));
extern int vfs_file_path(struct file *f, char *buf, size_t size) __attribute__((weak));
extern int vfs_fsync(struct file *f, bool datasync) __attribute__((weak));
extern int vfs_mmap_check(struct file *f, int prot, bool shared, bool *maywrite) __attribute__((weak));
extern void vfs_file_ids(struct file *f, uint32_t *dev_major, uint32_t *dev_minor, uint64_t *ino)
    __attribute__((weak));
extern struct file *fd_get(struct fd_table *t, int fd) __attribute__((weak));
/* Implemented in kernel/core (core/proc.h). */
extern struct proc *proc_current(void) __attribute__((weak));

void vm_file_get(struct file *f)
{
    if (vfs_file_ref)
        vfs_file_ref(f);
}

void vm_file_put(struct file *f)
{
    if (vfs_file_put)
        vfs_file_put(f);
}

int vm_file_page(struct file *f, uint64_t pgoff, struct page **out)
{
    if (!vfs_file_get_page)
        return -ENODEV;
    return vfs_file_get_page(f, pgoff, out);
}

size_t vm_file_name(struct file *f, char *buf, size_t size)
{
    int n = vfs_file_path ? vfs_file_path(f, buf, size) : -ENOSYS;
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = 0;
        return 0;
    }
    return (size_t)n;
}

void vm_file_ids(struct file *f, uint32_t *dev_major, uint32_t *dev_minor, uint64_t *ino)
{
    *dev_major = *dev_minor = 0;
    *ino = 0;
    if (vfs_file_ids)
        vfs_file_ids(f, dev_major, dev_minor, ino);
}

int vm_file_check(struct file *f, int prot, bool shared, bool *maywrite)
{
    *maywrite = true;
    if (!vfs_mmap_check)
        return vfs_file_get_page ? 0 : -ENODEV;
    return vfs_mmap_check(f, prot, shared, maywrite);
}

int vm_file_sync(struct file *f)
{
    return vfs_fsync ? vfs_fsync(f, false) : 0;
}

struct file *vm_file_from_fd(int fd)
{
    struct proc *p = proc_current ? proc_current() : NULL;
    if (!p || !p->files || !fd_get || fd < 0)
        return NULL;
    return fd_get(p->files, fd);
}
