/* madvise, mincore, msync and the mlock family. Nothing is ever swapped, so
 * locking only records the request (and populates, as Linux does);
 * MADV_DONTNEED and MADV_FREE really give anonymous pages back. */
#include "lib/errno.h"
#include "vm_internal.h"

/* Set and clear VMA flags over [start, end), splitting and re-merging. */
static int vm_change_flags(struct vm_space *vm, uintptr_t start, uintptr_t end, uint32_t set,
                           uint32_t clear)
{
    int err = vma_split_at(&vm->vmas, start) ?: vma_split_at(&vm->vmas, end);
    if (err)
        return err;
    for (struct vma *v = vma_find_from(&vm->vmas, start); v && v->start < end; v = vma_next(v))
        v->flags = (v->flags & ~clear) | set;
    vma_merge_range(&vm->vmas, start, end);
    return 0;
}

static bool vm_madvise_known(int advice)
{
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK:
    case MADV_DOFORK: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP:
    case MADV_DODUMP: case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_COLD:
    case MADV_PAGEOUT: case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
    case MADV_DONTNEED_LOCKED:
        return true;
    default:
        return false;
    }
}

/* Drop the pages of [start, end) inside v: the next touch sees zeros
 * (private anonymous memory), the file again, or for shared anonymous memory
 * the same data (its object keeps the pages, as Linux's shmem) unless
 * MADV_REMOVE punched them out of the object too. */
static int vm_discard(struct vm_space *vm, struct vma *v, uintptr_t start, uintptr_t end, int advice)
{
    if (advice == MADV_FREE && (!(v->flags & VMA_ANON) || (v->flags & VMA_SHARED)))
        return -EINVAL;
    if (advice == MADV_DONTNEED && (v->flags & VMA_LOCKED))
        return -EINVAL;
    if (advice == MADV_REMOVE) {
        if (!(v->flags & VMA_SHARED))
            return -EINVAL;
        if (!v->anon)
            return -EOPNOTSUPP; /* punching holes in files is the VFS's */
    }
    int err = vm_pages_split_edges(vm, start, end);
    if (!err)
        err = vm_pages_unmap(vm, start, end);
    if (!err && advice == MADV_REMOVE) /* other spaces keep what they map (no reverse map) */
        vm_anon_punch(v->anon, v->pgoff + ((start - v->start) >> PAGE_SHIFT), (end - start) >> PAGE_SHIFT);
    return err;
}

static int vm_populate_advice(struct vm_space *vm, struct vma *v, uintptr_t start, uintptr_t end,
                              int advice)
{
    unsigned flags = advice == MADV_POPULATE_WRITE ? VM_FAULT_WRITE : 0;
    if (v->flags & VMA_SPECIAL)
        return -EINVAL;
    for (uintptr_t a = start; a < end; a += PAGE_SIZE) {
        int err = vm_fault_locked(vm, a, flags);
        if (err)
            return err == -ENOMEM ? -ENOMEM : -EFAULT;
    }
    return 0;
}

/* One VMA's part [start, end) of a madvise range. */
static int vm_madvise_vma(struct vm_space *vm, struct vma *v, uintptr_t start, uintptr_t end,
                          int advice)
{
    switch (advice) {
    case MADV_DONTNEED: case MADV_DONTNEED_LOCKED: case MADV_FREE: case MADV_REMOVE:
        return vm_discard(vm, v, start, end, advice);
    case MADV_HUGEPAGE:
        return vm_change_flags(vm, start, end, VMA_HUGEPAGE, VMA_NOHUGEPAGE);
    case MADV_NOHUGEPAGE:
        return vm_change_flags(vm, start, end, VMA_NOHUGEPAGE, VMA_HUGEPAGE);
    case MADV_DONTDUMP:
        return vm_change_flags(vm, start, end, VMA_DONTDUMP, 0);
    case MADV_DODUMP:
        return vm_change_flags(vm, start, end, 0, VMA_DONTDUMP);
    case MADV_DONTFORK:
        return vm_change_flags(vm, start, end, VMA_DONTFORK, 0);
    case MADV_DOFORK:
        return vm_change_flags(vm, start, end, 0, VMA_DONTFORK);
    case MADV_WIPEONFORK:
        if (v->file || (v->flags & VMA_SHARED))
            return -EINVAL; /* as Linux: private anonymous memory only */
        return vm_change_flags(vm, start, end, VMA_WIPEONFORK, 0);
    case MADV_KEEPONFORK:
        return vm_change_flags(vm, start, end, 0, VMA_WIPEONFORK);
    case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
        return vm_populate_advice(vm, v, start, end, advice);
    default:
        return 0; /* hints: nothing to do without swap or readahead */
    }
}

int vm_madvise(struct vm_space *vm, uintptr_t addr, size_t len, int advice)
{
    if (!vm_madvise_known(advice))
        return -EINVAL;
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    uint64_t alen = ALIGN_UP((uint64_t)len, PAGE_SIZE);
    if (len && !alen)
        return -EINVAL;
    uintptr_t end = addr + alen;
    if (end < addr)
        return -EINVAL;
    if (end == addr)
        return 0;
    int err = 0, hole = 0;
    mutex_lock(&vm->lock);
    for (uintptr_t at = addr; at < end && !err;) {
        struct vma *v = vma_find_from(&vm->vmas, at);
        if (!v || v->start >= end) {
            hole = -ENOMEM;
            break;
        }
        if (v->start > at)
            hole = -ENOMEM;
        uintptr_t s = MAX(at, v->start), e = MIN(end, v->end);
        err = vm_madvise_vma(vm, v, s, e, advice); /* may merge v away */
        at = e;
    }
    mutex_unlock(&vm->lock);
    return err ? err : hole;
}

int vm_mincore(struct vm_space *vm, uintptr_t addr, size_t len, unsigned char *vec)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if (len > USER_TOP || addr > USER_TOP - len)
        return -ENOMEM;
    if (!len)
        return 0;
    uintptr_t end = ALIGN_UP(addr + len, PAGE_SIZE);
    mutex_lock(&vm->lock);
    int err = vma_range_mapped(&vm->vmas, addr, end) ? 0 : -ENOMEM;
    if (!err)
        vm_pages_residency(vm, addr, end, vec);
    mutex_unlock(&vm->lock);
    return err;
}

/* Shared file pages written through the mapping go back to the file. */
static int vm_msync_vma(struct vm_space *vm, struct vma *v, uintptr_t start, uintptr_t end)
{
    struct file *f = v->file;
    vm_pages_harvest_dirty(vm, start, end);
    vm_file_get(f);
    mutex_unlock(&vm->lock); /* the write-back may sleep on I/O */
    int err = vm_file_sync(f);
    vm_file_put(f);
    mutex_lock(&vm->lock);
    return err;
}

int vm_msync(struct vm_space *vm, uintptr_t addr, size_t len, int flags)
{
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
        return -EINVAL;
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if ((flags & MS_ASYNC) && (flags & MS_SYNC))
        return -EINVAL;
    uintptr_t end = addr + ALIGN_UP((uint64_t)len, PAGE_SIZE);
    if (end < addr)
        return -ENOMEM;
    if (end == addr)
        return 0;
    int err = 0, hole = 0;
    mutex_lock(&vm->lock);
    for (uintptr_t at = addr; at < end && !err;) {
        struct vma *v = vma_find_from(&vm->vmas, at);
        if (!v || v->start >= end) {
            hole = -ENOMEM;
            break;
        }
        if (v->start > at)
            hole = -ENOMEM;
        uintptr_t s = MAX(at, v->start), e = MIN(end, v->end);
        if ((flags & MS_INVALIDATE) && (v->flags & VMA_LOCKED))
            err = -EBUSY;
        else if ((flags & MS_SYNC) && v->file && (v->flags & VMA_SHARED))
            err = vm_msync_vma(vm, v, s, e); /* v may be gone after this */
        at = e;
    }
    mutex_unlock(&vm->lock);
    return err ? err : hole;
}

/* ---- mlock ---- */

int vm_mlock(struct vm_space *vm, uintptr_t addr, size_t len, unsigned flags)
{
    if (flags & ~MLOCK_ONFAULT)
        return -EINVAL;
    uint64_t alen = ALIGN_UP((uint64_t)len + (addr & (PAGE_SIZE - 1)), PAGE_SIZE);
    uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE), end = start + alen;
    if (end < start || (len && !alen))
        return -EINVAL;
    if (end == start)
        return 0;
    mutex_lock(&vm->lock);
    int err = vma_range_mapped(&vm->vmas, start, end) ? 0 : -ENOMEM;
    if (!err)
        err = vm_change_flags(vm, start, end, VMA_LOCKED, 0);
    if (!err && !(flags & MLOCK_ONFAULT)) {
        int perr = vm_populate_locked(vm, start, end);
        err = perr == -ENOMEM ? -ENOMEM : 0;
    }
    mutex_unlock(&vm->lock);
    return err;
}

int vm_munlock(struct vm_space *vm, uintptr_t addr, size_t len)
{
    uint64_t alen = ALIGN_UP((uint64_t)len + (addr & (PAGE_SIZE - 1)), PAGE_SIZE);
    uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE), end = start + alen;
    if (end < start || (len && !alen))
        return -EINVAL;
    if (end == start)
        return 0;
    mutex_lock(&vm->lock);
    int err = vma_range_mapped(&vm->vmas, start, end) ? 0 : -ENOMEM;
    if (!err)
        err = vm_change_flags(vm, start, end, 0, VMA_LOCKED);
    mutex_unlock(&vm->lock);
    return err;
}

int vm_mlockall(struct vm_space *vm, int flags)
{
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return -EINVAL;
    mutex_lock(&vm->lock);
    vm->lock_future = flags & MCL_FUTURE;
    int err = 0;
    if (flags & MCL_CURRENT) {
        err = vm_change_flags(vm, 0, USER_TOP, VMA_LOCKED, 0);
        /* populate, but not reservations that promised never to need memory */
        for (struct vma *v = vma_first(&vm->vmas); v && !err && !(flags & MCL_ONFAULT); v = vma_next(v))
            if (!(v->flags & VMA_NORESERVE))
                vm_populate_locked(vm, v->start, v->end);
    }
    mutex_unlock(&vm->lock);
    return err;
}

int vm_munlockall(struct vm_space *vm)
{
    mutex_lock(&vm->lock);
    vm->lock_future = false;
    int err = vm_change_flags(vm, 0, USER_TOP, 0, VMA_LOCKED);
    mutex_unlock(&vm->lock);
    return err;
}
