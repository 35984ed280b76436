/* mmap, munmap, mprotect and mremap on a vm_space, with Linux's argument
 * checks in Linux's order (mmap(2), mprotect(2), mremap(2)): the VMA tree is
 * edited first, then the page tables follow (vm_pages.c). */
#include "core/log.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "vm_internal.h"

int vm_insert_vma(struct vm_space *vm, uintptr_t start, uintptr_t end, uint32_t prot,
                  uint32_t flags, struct file *f, uint64_t pgoff, const char *name)
{
    if (vm->vmas.count >= VM_MAX_MAP_COUNT)
        return -ENOMEM;
    struct vma *v = vma_alloc();
    if (!v)
        return -ENOMEM;
    v->start = start;
    v->end = end;
    v->prot = prot;
    v->flags = flags;
    v->pgoff = f ? pgoff : 0;
    v->name = name;
    if (f) {
        vm_file_get(f);
        v->file = f;
    } else if ((flags & VMA_SHARED) && (flags & VMA_ANON) && !(v->anon = vm_anon_create())) {
        vma_free(v);
        return -ENOMEM;
    }
    int err = vma_insert(&vm->vmas, v);
    if (err) {
        vma_free(v);
        return err;
    }
    vma_merge(&vm->vmas, v);
    vm_note_peak(vm);
    return 0;
}

int vm_unmap_locked(struct vm_space *vm, uintptr_t start, uintptr_t end)
{
    int err = vm_pages_split_edges(vm, start, end);
    if (err)
        return err;
    struct vma *list = vma_detach_range(&vm->vmas, start, end, &err);
    if (err || !list)
        return err;
    err = vm_pages_unmap(vm, start, end);
    while (list) {
        struct vma *next = list->next_free;
        vma_free(list);
        list = next;
    }
    return err;
}

/* Large anonymous mappings start on a 2 MiB boundary when their length is a
 * multiple of 2 MiB, so they can be backed by 2 MiB pages (as Linux's THP). */
static uint64_t vm_mapping_align(uint64_t len, bool anon_private)
{
    return anon_private && len >= LARGE_PAGE_SIZE && IS_ALIGNED(len, LARGE_PAGE_SIZE) ? LARGE_PAGE_SIZE
                                                                                      : PAGE_SIZE;
}

uintptr_t vm_pick_address(struct vm_space *vm, uintptr_t hint, uint64_t len, int flags)
{
    uintptr_t low = VM_MMAP_MIN_ADDR, high = vm->mmap_base;
    if (flags & MAP_32BIT) {
        low = 0x40000000;
        high = 0x80000000;
    }
    if (hint && hint >= VM_MMAP_MIN_ADDR && len <= USER_TOP - hint &&
        (!(flags & MAP_32BIT) || hint + len <= high) && vma_range_fits(&vm->vmas, hint, hint + len))
        return hint;
    bool anon_private = (flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE;
    uint64_t align = vm_mapping_align(len, anon_private);
    uintptr_t a = vma_find_gap_cached(&vm->vmas, len, align, low, high);
    if (!a && align > PAGE_SIZE)
        a = vma_find_gap_cached(&vm->vmas, len, PAGE_SIZE, low, high);
    if (!a && !(flags & MAP_32BIT)) /* below the base is full: anywhere */
        a = vma_find_gap(&vm->vmas, len, PAGE_SIZE, low, USER_TOP);
    return a;
}

/* The mapping type and file access checks (after the address, as Linux). */
static int vm_mmap_vma_flags(int flags, int prot, struct file *f, uint32_t *out)
{
    int type = flags & MAP_TYPE;
    uint32_t vf = 0;
    if (type == MAP_SHARED_VALIDATE && f && (flags & ~MAP_KNOWN_FLAGS))
        return -EOPNOTSUPP;
    if (type == MAP_SHARED_VALIDATE && !f)
        return -EINVAL; /* as Linux: validation is for files */
    if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE && type != MAP_PRIVATE)
        return -EINVAL;
    bool shared = type != MAP_PRIVATE;
    if (shared)
        vf |= VMA_SHARED;
    if (f) {
        bool maywrite = true;
        int err = vm_file_check(f, prot, shared, &maywrite);
        if (err)
            return err;
        if (maywrite || !shared)
            vf |= VMA_MAYWRITE;
    } else {
        if (shared && (flags & MAP_GROWSDOWN))
            return -EINVAL;
        vf |= VMA_ANON | VMA_MAYWRITE;
        if (flags & MAP_GROWSDOWN)
            vf |= VMA_GROWSDOWN | VMA_STACK;
    }
    if (flags & MAP_STACK)
        vf |= VMA_STACK;
    if (flags & MAP_NORESERVE)
        vf |= VMA_NORESERVE;
    if (flags & MAP_LOCKED)
        vf |= VMA_LOCKED;
    *out = vf;
    return 0;
}

/* Private writable memory (and shared anonymous memory) is "committed" in
 * Linux's terms unless MAP_NORESERVE: refuse the obviously impossible. */
static bool vm_mmap_commit_ok(uint32_t vflags, int prot, uint64_t len)
{
    bool commits = (prot & PROT_WRITE) && !(vflags & VMA_NORESERVE) &&
                   (!(vflags & VMA_SHARED) || (vflags & VMA_ANON));
    return !commits || vm_enough_memory(len >> PAGE_SHIFT);
}

static long vm_mmap_locked(struct vm_space *vm, uintptr_t addr, uint64_t len, int prot, int flags,
                           struct file *f, uint64_t pgoff)
{
    if (!(flags & MAP_FIXED)) {
        addr = vm_pick_address(vm, addr, len, flags | (f ? 0 : MAP_ANONYMOUS));
        if (!addr)
            return -ENOMEM;
    } else if ((flags & MAP_FIXED_NOREPLACE) && !vma_range_free(&vm->vmas, addr, addr + len)) {
        return -EEXIST;
    }
    uint32_t vflags;
    int err = vm_mmap_vma_flags(flags, prot, f, &vflags);
    if (err)
        return err;
    if (vm->lock_future)
        vflags |= VMA_LOCKED;
    if (!vm_mmap_commit_ok(vflags, prot, len))
        return -ENOMEM;
    if (flags & MAP_FIXED) {
        err = vm_unmap_locked(vm, addr, addr + len);
        if (err)
            return err;
    }
    err = vm_insert_vma(vm, addr, addr + len, (uint32_t)prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
                        vflags, f, pgoff, NULL);
    if (err)
        return err;
    if (((flags & MAP_POPULATE) && !(flags & MAP_NONBLOCK)) || (vflags & VMA_LOCKED))
        vm_populate_locked(vm, addr, addr + len); /* best effort, as Linux */
    return (long)addr;
}

long vm_mmap(struct vm_space *vm, uintptr_t addr, size_t len, int prot, int flags,
             struct file *f, uint64_t off)
{
    if (off & (PAGE_SIZE - 1))
        return -EINVAL;
    if (flags & MAP_ANONYMOUS)
        f = NULL;
    else if (!f)
        return -EBADF;
    if ((flags & MAP_HUGETLB) && f)
        return -EINVAL; /* not a hugetlbfs file */
    if (!len)
        return -EINVAL;
    if (flags & MAP_HUGETLB)
        return -ENOMEM; /* no hugetlbfs pages are ever reserved */
    if (flags & MAP_FIXED_NOREPLACE)
        flags |= MAP_FIXED;
    if (!(flags & MAP_FIXED)) {
        addr = ALIGN_DOWN(addr, PAGE_SIZE);
        if (addr && addr < VM_MMAP_MIN_ADDR)
            addr = VM_MMAP_MIN_ADDR;
    }
    uint64_t alen = ALIGN_UP((uint64_t)len, PAGE_SIZE);
    if (!alen || alen > USER_TOP)
        return -ENOMEM;
    uint64_t pgoff = off >> PAGE_SHIFT;
    if (pgoff + (alen >> PAGE_SHIFT) < pgoff)
        return -EOVERFLOW;
    if (flags & MAP_FIXED) {
        if (addr & (PAGE_SIZE - 1))
            return -EINVAL;
        if (addr > USER_TOP - alen)
            return -ENOMEM;
        if (addr < PAGE_SIZE)
            return -EPERM; /* page 0 stays unmapped: it catches NULL pointers */
    }
    mutex_lock(&vm->lock);
    long r = vm_mmap_locked(vm, addr, alen, prot, flags, f, pgoff);
    mutex_unlock(&vm->lock);
    return r;
}

int vm_munmap(struct vm_space *vm, uintptr_t addr, size_t len)
{
    if ((addr & (PAGE_SIZE - 1)) || addr > USER_TOP || len > USER_TOP - addr)
        return -EINVAL;
    len = ALIGN_UP(len, PAGE_SIZE);
    if (!len)
        return -EINVAL;
    mutex_lock(&vm->lock);
    int err = vm_unmap_locked(vm, addr, addr + len);
    mutex_unlock(&vm->lock);
    return err;
}

/* ---- mprotect ---- */

/* Every VMA in [start, end) may take prot, and the commit check passes. */
static int vm_mprotect_check(struct vm_space *vm, uintptr_t start, uintptr_t end, int prot)
{
    uint64_t newly_committed = 0;
    for (struct vma *v = vma_find_from(&vm->vmas, start); v && v->start < end; v = vma_next(v)) {
        if ((prot & PROT_WRITE) && !(v->flags & VMA_MAYWRITE))
            return -EACCES;
        if ((prot & PROT_WRITE) && !(v->prot & PROT_WRITE) && !(v->flags & (VMA_NORESERVE | VMA_SHARED)))
            newly_committed += (MIN(v->end, end) - MAX(v->start, start)) >> PAGE_SHIFT;
    }
    return vm_enough_memory(newly_committed) ? 0 : -ENOMEM;
}

static int vm_mprotect_locked(struct vm_space *vm, uintptr_t start, uintptr_t end, int prot,
                              int grows)
{
    struct vma *v = vma_find_from(&vm->vmas, start);
    if (!v)
        return -ENOMEM;
    if (grows & PROT_GROWSDOWN) {
        if (v->start >= end)
            return -ENOMEM;
        if (!(v->flags & VMA_GROWSDOWN))
            return -EINVAL;
        start = v->start;
    } else if (v->start > start) {
        return -ENOMEM;
    }
    if (grows & PROT_GROWSUP)
        return -EINVAL; /* x86 has no grows-up mappings */
    if (!vma_range_mapped(&vm->vmas, start, end))
        return -ENOMEM;
    int err = vm_mprotect_check(vm, start, end, prot);
    if (!err)
        err = vm_pages_split_edges(vm, start, end);
    if (!err)
        err = vma_split_at(&vm->vmas, start) ?: vma_split_at(&vm->vmas, end);
    if (err)
        return err;
    for (v = vma_find(&vm->vmas, start); v && v->start < end; v = vma_next(v)) {
        v->prot = (uint32_t)prot;
        err = vm_pages_protect(vm, v, v->start, v->end);
        if (err)
            break;
    }
    vma_merge_range(&vm->vmas, start, end);
    return err;
}

int vm_mprotect(struct vm_space *vm, uintptr_t addr, size_t len, int prot)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    prot &= ~grows;
    if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
        return -EINVAL;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
        return -EINVAL;
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    if (!len)
        return 0;
    uint64_t alen = ALIGN_UP((uint64_t)len, PAGE_SIZE);
    uintptr_t end = addr + alen;
    if (!alen || end <= addr || end > USER_TOP)
        return -ENOMEM;
    mutex_lock(&vm->lock);
    int err = vm_mprotect_locked(vm, addr, end, prot, grows);
    mutex_unlock(&vm->lock);
    return err;
}

/* ---- mremap ---- */

/* Give [old, old+old_len) (inside one VMA) a new place of new_len bytes. */
static long vm_move_vma(struct vm_space *vm, uintptr_t old, uint64_t old_len, uintptr_t to,
                        uint64_t new_len, bool dontunmap)
{
    struct vma_tree *t = &vm->vmas;
    int err = vm_pages_split_edges(vm, old, old + old_len);
    if (!err)
        err = vma_split_at(t, old) ?: vma_split_at(t, old + old_len);
    if (err)
        return err;
    struct vma *src = vma_find(t, old);
    struct vma *dst = vma_alloc();
    if (!dst || t->count >= VM_MAX_MAP_COUNT) {
        if (dst)
            kfree(dst);
        vma_merge_range(t, old, old + old_len);
        return -ENOMEM;
    }
    *dst = *src;
    dst->start = to;
    dst->end = to + new_len;
    vma_take_refs(dst);
    if (vma_insert(t, dst) != 0) {
        vma_free(dst);
        vma_merge_range(t, old, old + old_len);
        return -ENOMEM;
    }
    err = vm_pages_move(vm, old, to, old_len);
    if (err) {
        vma_remove(t, dst);
        vma_free(dst);
        vma_merge_range(t, old, old + old_len);
        return err;
    }
    if (!dontunmap) {
        vma_remove(t, src);
        vma_free(src);
    }
    vma_merge(t, dst);
    vma_merge_range(t, old, old + old_len);
    vm_note_peak(vm);
    return (long)to;
}

/* Linux's vma_to_resize: the VMA at old that [old, old+old_len) lies in. */
static struct vma *vm_mremap_source(struct vm_space *vm, uintptr_t old, uint64_t old_len,
                                    uint64_t new_len, long *err)
{
    struct vma *v = vma_find(&vm->vmas, old);
    *err = -EFAULT;
    if (!v || old_len > v->end - old)
        return NULL;
    *err = -EINVAL;
    if (!old_len && !(v->flags & VMA_SHARED))
        return NULL;
    if (new_len == old_len)
        return v;
    uint64_t pgoff = v->pgoff + ((old - v->start) >> PAGE_SHIFT);
    if (v->file && pgoff + (new_len >> PAGE_SHIFT) < pgoff)
        return NULL;
    *err = -EFAULT;
    if ((v->flags & VMA_SPECIAL) && new_len > old_len)
        return NULL;
    *err = -ENOMEM;
    if (new_len > old_len && (v->prot & PROT_WRITE) && !(v->flags & (VMA_NORESERVE | VMA_SHARED)) &&
        !vm_enough_memory((new_len - old_len) >> PAGE_SHIFT))
        return NULL;
    return v;
}

static int vm_mremap_type(const struct vma *v)
{
    return (v->flags & VMA_SHARED ? MAP_SHARED : MAP_PRIVATE) | (v->flags & VMA_ANON ? MAP_ANONYMOUS : 0);
}

/* A new mapping of the same pages (old_len 0 on a shared mapping): the
 * file's, or the shared anonymous object's. */
static long vm_mremap_dup(struct vm_space *vm, struct vma *v, uintptr_t old, uintptr_t to,
                          uint64_t new_len)
{
    struct vma *c = vm->vmas.count < VM_MAX_MAP_COUNT ? vma_dup(v) : NULL;
    if (!c)
        return -ENOMEM;
    c->pgoff = v->pgoff + ((old - v->start) >> PAGE_SHIFT);
    c->start = to;
    c->end = to + new_len;
    int err = vma_insert(&vm->vmas, c);
    if (err) {
        vma_free(c);
        return err;
    }
    vma_merge(&vm->vmas, c);
    vm_note_peak(vm);
    return (long)to;
}

static long vm_mremap_to(struct vm_space *vm, uintptr_t old, uint64_t old_len, uint64_t new_len,
                         int flags, uintptr_t new_addr)
{
    if ((new_addr & (PAGE_SIZE - 1)) || new_len > USER_TOP || new_addr > USER_TOP - new_len)
        return -EINVAL;
    if (old + old_len > new_addr && new_addr + new_len > old)
        return -EINVAL;
    long err;
    if (flags & MREMAP_FIXED) {
        if (new_addr < PAGE_SIZE)
            return -EPERM;
        if ((err = vm_unmap_locked(vm, new_addr, new_addr + new_len)) != 0)
            return err;
    }
    if (old_len > new_len) {
        if ((err = vm_unmap_locked(vm, old + new_len, old + old_len)) != 0)
            return err;
        old_len = new_len;
    }
    struct vma *v = vm_mremap_source(vm, old, old_len, new_len, &err);
    if (!v)
        return err;
    bool dontunmap = flags & MREMAP_DONTUNMAP;
    if (dontunmap && (v->flags & VMA_SPECIAL))
        return -EINVAL; /* the old range could not find its pages again */
    uintptr_t to = new_addr;
    if (!(flags & MREMAP_FIXED) && !(to = vm_pick_address(vm, new_addr, new_len, vm_mremap_type(v))))
        return -ENOMEM;
    if (!old_len)
        return vm_mremap_dup(vm, v, old, to, new_len);
    return vm_move_vma(vm, old, old_len, to, new_len, dontunmap);
}

static long vm_mremap_locked(struct vm_space *vm, uintptr_t old, uint64_t old_len, uint64_t new_len,
                             int flags, uintptr_t new_addr)
{
    if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))
        return vm_mremap_to(vm, old, old_len, new_len, flags, new_addr);
    if (old_len >= new_len) {
        if (old_len == new_len)
            return (long)old;
        int err = vm_unmap_locked(vm, old + new_len, old + old_len);
        return err ? err : (long)old;
    }
    long err;
    struct vma *v = vm_mremap_source(vm, old, old_len, new_len, &err);
    if (!v)
        return err;
    /* grow in place when the range ends the VMA and the space after is free */
    uintptr_t end = old + new_len;
    if (old_len && old + old_len == v->end && end > old && end <= USER_TOP &&
        vma_range_free(&vm->vmas, v->end, end)) {
        vma_set_bounds(&vm->vmas, v, v->start, end);
        vma_merge(&vm->vmas, v);
        vm_note_peak(vm);
        return (long)old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    uintptr_t to = vm_pick_address(vm, 0, new_len, vm_mremap_type(v));
    if (!to)
        return -ENOMEM;
    if (!old_len)
        return vm_mremap_dup(vm, v, old, to, new_len);
    return vm_move_vma(vm, old, old_len, to, new_len, false);
}

long vm_mremap(struct vm_space *vm, uintptr_t old_addr, size_t old_len, size_t new_len,
               int flags, uintptr_t new_addr)
{
    if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_len != new_len))
        return -EINVAL;
    if (old_addr & (PAGE_SIZE - 1))
        return -EINVAL;
    uint64_t olen = ALIGN_UP((uint64_t)old_len, PAGE_SIZE), nlen = ALIGN_UP((uint64_t)new_len, PAGE_SIZE);
    if (!nlen || (old_len && !olen))
        return -EINVAL;
    if (olen > USER_TOP || old_addr > USER_TOP - olen || nlen > USER_TOP)
        return olen > USER_TOP || old_addr > USER_TOP ? -EFAULT : -ENOMEM;
    mutex_lock(&vm->lock);
    long r = vm_mremap_locked(vm, old_addr, olen, nlen, flags, new_addr);
    mutex_unlock(&vm->lock);
    return r;
}
