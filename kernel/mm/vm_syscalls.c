/* The memory system calls: find the current process's address space, turn
 * descriptors into files and user buffers into kernel ones, and call the
 * vm_* functions, which hold all the semantics. */
#include "arch/uaccess.h"
#include "core/proc.h"
#include "lib/errno.h"
#include "mm/syscalls.h"
#include "vm_internal.h"

/* Weak until the process and user-copy code are linked. */
extern struct proc *proc_current(void) __attribute__((weak));
extern int copy_to_user(void __user *dst, const void *src, size_t n) __attribute__((weak));

static struct vm_space *vm_current(void)
{
    struct proc *p = proc_current ? proc_current() : NULL;
    return p ? p->vm : NULL;
}

#define VM_OR_ENOSYS(vm)             \
    struct vm_space *vm = vm_current(); \
    if (!vm)                          \
        return -ENOSYS

long sys_mmap(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
              unsigned long fd, unsigned long off)
{
    VM_OR_ENOSYS(vm);
    if (off & (PAGE_SIZE - 1))
        return -EINVAL;
    struct file *f = NULL;
    if (!(flags & MAP_ANONYMOUS) && !(f = vm_file_from_fd((int)fd)))
        return -EBADF;
    long r = vm_mmap(vm, addr, len, (int)prot, (int)flags, f, off);
    if (f)
        vm_file_put(f);
    return r;
}

long sys_munmap(unsigned long addr, size_t len)
{
    VM_OR_ENOSYS(vm);
    return vm_munmap(vm, addr, len);
}

long sys_mprotect(unsigned long start, size_t len, unsigned long prot)
{
    VM_OR_ENOSYS(vm);
    if (prot >> 32)
        return -EINVAL;
    return vm_mprotect(vm, start, len, (int)prot);
}

long sys_mremap(unsigned long addr, unsigned long old_len, unsigned long new_len,
                unsigned long flags, unsigned long new_addr)
{
    VM_OR_ENOSYS(vm);
    if (flags >> 32)
        return -EINVAL;
    return vm_mremap(vm, addr, old_len, new_len, (int)flags, new_addr);
}

long sys_madvise(unsigned long start, size_t len, int advice)
{
    VM_OR_ENOSYS(vm);
    return vm_madvise(vm, start, len, advice);
}

long sys_brk(unsigned long brk)
{
    VM_OR_ENOSYS(vm);
    return (long)vm_brk(vm, brk);
}

/* Residency is gathered a chunk at a time and copied out without vm->lock
 * held (a fault on vec must be able to take it). */
long sys_mincore(unsigned long start, size_t len, unsigned char __user *vec)
{
    VM_OR_ENOSYS(vm);
    if (start & (PAGE_SIZE - 1))
        return -EINVAL;
    if (len > USER_TOP || start > USER_TOP - len)
        return -ENOMEM;
    uint64_t pages = DIV_ROUND_UP((uint64_t)len, PAGE_SIZE);
    if (!user_range_ok(vec, pages))
        return -EFAULT;
    unsigned char chunk[256];
    while (pages) {
        uint64_t n = MIN(pages, (uint64_t)sizeof(chunk));
        int err = vm_mincore(vm, start, n * PAGE_SIZE, chunk);
        if (err)
            return err;
        if (!copy_to_user || copy_to_user(vec, chunk, n))
            return -EFAULT;
        start += n * PAGE_SIZE;
        vec += n;
        pages -= n;
    }
    return 0;
}

long sys_msync(unsigned long start, size_t len, int flags)
{
    VM_OR_ENOSYS(vm);
    return vm_msync(vm, start, len, flags);
}

long sys_mlock(unsigned long start, size_t len)
{
    VM_OR_ENOSYS(vm);
    return vm_mlock(vm, start, len, 0);
}

long sys_mlock2(unsigned long start, size_t len, int flags)
{
    VM_OR_ENOSYS(vm);
    return vm_mlock(vm, start, len, (unsigned)flags);
}

long sys_munlock(unsigned long start, size_t len)
{
    VM_OR_ENOSYS(vm);
    return vm_munlock(vm, start, len);
}

long sys_mlockall(int flags)
{
    VM_OR_ENOSYS(vm);
    return vm_mlockall(vm, flags);
}

long sys_munlockall(void)
{
    VM_OR_ENOSYS(vm);
    return vm_munlockall(vm);
}
