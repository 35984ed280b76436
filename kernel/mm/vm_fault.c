/* Page faults: demand-zero anonymous memory (the shared zero page for reads,
 * copy on write), 2 MiB pages for large aligned anonymous regions, file pages
 * (shared: the page cache's own page; private: read-only until written, then
 * copied), kernel pages, copy on write after fork (a page nobody else holds
 * any more is written in place; a 2 MiB one is split first), stack growth,
 * and populating ranges ahead of time. */
#include "core/log.h"
#include "core/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "vm_internal.h"

static bool vm_access_allowed(const struct vma *v, unsigned flags)
{
    if (!vm_prot_accessible(v->prot))
        return false;
    if ((flags & VM_FAULT_WRITE) && !(v->prot & PROT_WRITE))
        return false;
    if ((flags & VM_FAULT_EXEC) && !(v->prot & PROT_EXEC))
        return false;
    return true; /* x86 cannot deny reads of a writable or executable page */
}

/* A fault just below a grows-down VMA extends it, within the stack limit and
 * never closer than the guard gap to an accessible mapping below. */
static struct vma *vm_grow_stack(struct vm_space *vm, uintptr_t addr)
{
    struct vma *v = vma_find_from(&vm->vmas, addr);
    if (!v || !(v->flags & VMA_GROWSDOWN) || addr >= v->start)
        return NULL;
    uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE);
    if (start < VM_MMAP_MIN_ADDR || v->end - start > vm->stack_limit)
        return NULL;
    struct vma *prev = vma_prev(v);
    if (prev && start < prev->end)
        return NULL;
    if (prev && vm_prot_accessible(prev->prot) && !(prev->flags & VMA_GROWSDOWN) &&
        start - prev->end < VMA_STACK_GUARD_GAP)
        return NULL;
    vma_set_bounds(&vm->vmas, v, start, v->end);
    vm_note_peak(vm);
    return v;
}

static int vm_file_error(int err)
{
    return err == -ENXIO || err == -ENOMEM ? err : -EIO;
}

/* Pages a fault needs are allocated and zeroed outside vm->lock when the
 * caller can retry (vm_fault): the locked part asks for them with a positive
 * VM_NEED_* result and is run again with them ready. Other callers (populate,
 * already holding the lock) get them allocated on the spot. */
#define VM_NEED_SMALL 1
#define VM_NEED_LARGE 2

struct vm_prealloc {
    struct page *small; /* a zeroed anonymous page */
    struct page *large; /* 512 zeroed counted frames */
    bool no_large;      /* no 2 MiB block was free: use 4 KiB pages */
    bool can_defer;     /* the caller allocates and retries */
};

/* 2 MiB of zeroed frames, each counted on its own, so the block can later be
 * split (partial munmap/mprotect) without copying. */
static struct page *vm_large_alloc(void)
{
    struct page *p = page_alloc(9);
    if (!p)
        return NULL;
    memset(page_to_virt(p), 0, LARGE_PAGE_SIZE);
    for (unsigned i = 0; i < 512; i++) {
        p[i].flags = PAGE_FLAG_COUNTED | PAGE_FLAG_ANON;
        p[i].order = 0;
        p[i].refs = 1;
        p[i].map_count = 0;
    }
    return p;
}

static void vm_large_free(struct page *p)
{
    for (unsigned i = 0; i < 512; i++)
        p[i].flags = 0;
    page_free(p, 9);
}

/* A zeroed 4 KiB page; NULL with *need set when the caller should get it. */
static struct page *vm_take_small(struct vm_prealloc *pre, int *need)
{
    *need = 0;
    if (pre && pre->small) {
        struct page *p = pre->small;
        pre->small = NULL;
        return p;
    }
    if (pre && pre->can_defer) {
        *need = VM_NEED_SMALL;
        return NULL;
    }
    return vm_page_alloc_anon(true);
}

/* The first touch of a 2 MiB block wholly inside an eligible VMA maps a
 * whole 2 MiB page. */
static bool vm_large_eligible(const struct vma *v, uintptr_t addr)
{
    if (!vm_large_pages || (v->flags & (VMA_SHARED | VMA_NOHUGEPAGE | VMA_STACK | VMA_GROWSDOWN)) ||
        !(v->flags & VMA_ANON) || !vm_prot_accessible(v->prot))
        return false;
    uintptr_t block = ALIGN_DOWN(addr, LARGE_PAGE_SIZE);
    return block >= v->start && block + LARGE_PAGE_SIZE <= v->end;
}

static int vm_fault_large(struct vm_space *vm, const struct vma *v, uintptr_t addr,
                          struct vm_prealloc *pre)
{
    uintptr_t block = ALIGN_DOWN(addr, LARGE_PAGE_SIZE);
    if (!paging_user_block_empty(&vm->pt, block))
        return -EEXIST;
    struct page *p;
    if (pre && pre->large) {
        p = pre->large;
        pre->large = NULL;
    } else if (pre && pre->can_defer) {
        return VM_NEED_LARGE;
    } else if (!(p = vm_large_alloc())) {
        return -ENOMEM;
    }
    uint64_t pte = paging_user_pte(page_to_phys(p), v->prot & PROT_WRITE, v->prot & PROT_EXEC,
                                   PAGING_LEVEL_2M);
    int err = paging_user_map(&vm->pt, block, pte, PAGING_LEVEL_2M, NULL);
    if (err) {
        vm_large_free(p);
        return err;
    }
    vm_account_map(vm, p, 512);
    return 0;
}

static uint64_t vm_page_index(const struct vma *v, uintptr_t addr)
{
    return v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
}

/* Shared anonymous memory: the object's page, made on the first touch by
 * any of the spaces mapping it. */
static int vm_fault_shared_anon(struct vm_space *vm, const struct vma *v, uintptr_t addr,
                                struct vm_prealloc *pre)
{
    uint64_t index = vm_page_index(v, addr);
    struct page *p = vm_anon_lookup(v->anon, index);
    if (!p) {
        int need;
        struct page *fresh = vm_take_small(pre, &need);
        if (!fresh)
            return need ? need : -ENOMEM;
        if (!(p = vm_anon_insert(v->anon, index, fresh)))
            return -ENOMEM;
    }
    uint64_t pte = paging_user_pte(page_to_phys(p), v->prot & PROT_WRITE, v->prot & PROT_EXEC,
                                   PAGING_LEVEL_4K);
    return vm_install_page(vm, ALIGN_DOWN(addr, PAGE_SIZE), p, pte);
}

static int vm_fault_anon(struct vm_space *vm, const struct vma *v, uintptr_t addr, unsigned flags,
                         struct vm_prealloc *pre)
{
    if (v->anon)
        return vm_fault_shared_anon(vm, v, addr, pre);
    if (!(pre && pre->no_large) && vm_large_eligible(v, addr)) {
        int r = vm_fault_large(vm, v, addr, pre);
        if (r == 0 || r == VM_NEED_LARGE)
            return r; /* otherwise fall back to a 4 KiB page */
    }
    uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
    bool exec = v->prot & PROT_EXEC;
    if (!(flags & VM_FAULT_WRITE) && !(v->flags & VMA_SHARED)) {
        uint64_t pte = paging_user_pte(page_to_phys(vm_zero_page), false, exec, PAGING_LEVEL_4K);
        return vm_install_page(vm, va, vm_zero_page, pte);
    }
    int need;
    struct page *p = vm_take_small(pre, &need);
    if (!p)
        return need ? need : -ENOMEM;
    uint64_t pte = paging_user_pte(page_to_phys(p), v->prot & PROT_WRITE, exec, PAGING_LEVEL_4K);
    return vm_install_page(vm, va, p, pte);
}

static int vm_fault_file(struct vm_space *vm, const struct vma *v, uintptr_t addr, unsigned flags,
                         struct vm_prealloc *pre)
{
    uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
    int need = 0;
    struct page *copy = NULL;
    if ((flags & VM_FAULT_WRITE) && !(v->flags & VMA_SHARED) && !(copy = vm_take_small(pre, &need)))
        return need ? need : -ENOMEM;
    struct page *fp;
    int err = vm_file_page(v->file, vm_page_index(v, addr), &fp);
    if (err) {
        if (copy)
            page_ref_put(copy);
        return vm_file_error(err);
    }
    bool exec = v->prot & PROT_EXEC;
    if (v->flags & VMA_SHARED) {
        uint64_t pte = paging_user_pte(page_to_phys(fp), v->prot & PROT_WRITE, exec, PAGING_LEVEL_4K);
        return vm_install_page(vm, va, fp, pte);
    }
    if (!copy) /* read-only until written: then copied */
        return vm_install_page(vm, va, fp, paging_user_pte(page_to_phys(fp), false, exec, 1));
    memcpy(page_to_virt(copy), page_to_virt(fp), PAGE_SIZE);
    page_ref_put(fp);
    return vm_install_page(vm, va, copy, paging_user_pte(page_to_phys(copy), true, exec, 1));
}

/* Kernel pages are mapped as they are; a write to a writable one copies it. */
static int vm_fault_special(struct vm_space *vm, const struct vma *v, uintptr_t addr)
{
    uint64_t phys = v->special[vm_page_index(v, addr)];
    uint64_t pte = paging_user_pte(phys, false, v->prot & PROT_EXEC, PAGING_LEVEL_4K);
    return paging_user_map(&vm->pt, ALIGN_DOWN(addr, PAGE_SIZE), pte, PAGING_LEVEL_4K, NULL);
}

/* A write to a present read-only page of a writable VMA: copy the zero page,
 * a file page, a kernel page or a page shared since a fork into a private
 * one. */
static int vm_fault_cow(struct vm_space *vm, const struct vma *v, uintptr_t addr,
                        const struct paging_leaf *leaf, struct vm_prealloc *pre)
{
    uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
    int need;
    struct page *copy = vm_take_small(pre, &need); /* zeroed: the zero page's copy is ready */
    if (!copy)
        return need ? need : -ENOMEM;
    struct page *old = vm_leaf_page(leaf->pte, leaf->level);
    if (pfn_to_page(leaf->phys >> PAGE_SHIFT) != vm_zero_page)
        memcpy(page_to_virt(copy), phys_to_virt(leaf->phys), PAGE_SIZE);
    uint64_t pte = paging_user_pte(page_to_phys(copy), true, v->prot & PROT_EXEC, PAGING_LEVEL_4K);
    uint64_t prev;
    int err = paging_user_map(&vm->pt, va, pte, PAGING_LEVEL_4K, &prev);
    if (err) {
        page_ref_put(copy);
        return err;
    }
    vm_account_map(vm, copy, 1);
    /* other CPUs may still read the old page through their TLBs, and the old
     * page may be written in place by its other owner once we let it go */
    tlb_flush_page(&vm->tlb, va);
    if (old) {
        vm_account_unmap(vm, old, 1, false);
        page_ref_put(old);
    }
    return 0;
}

/* Rewrite one leaf as v's protection wants it. */
static uint64_t vm_refresh_leaf(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    (void)va;
    return vm_leaf_pte(ctx, pte, level);
}

static bool vm_leaf_satisfies(const struct paging_leaf *l, unsigned flags)
{
    return l->present && (!(flags & VM_FAULT_WRITE) || l->writable) &&
           (!(flags & VM_FAULT_EXEC) || l->exec);
}

/* A leaf is there but did not allow the access. */
static int vm_fault_present(struct vm_space *vm, const struct vma *v, uintptr_t addr,
                            unsigned flags, struct paging_leaf *leaf, struct vm_prealloc *pre)
{
    uint64_t want = vm_leaf_pte(v, leaf->pte, leaf->level);
    if (want != leaf->pte) { /* stale bits (e.g. a write upgrade in place) */
        uintptr_t base = leaf->va, span = leaf->level == 2 ? LARGE_PAGE_SIZE : PAGE_SIZE;
        paging_user_update(&vm->pt, base, base + span, vm_refresh_leaf, (void *)v);
        paging_user_lookup(&vm->pt, addr, leaf);
        if (vm_leaf_satisfies(leaf, flags))
            return 0;
    }
    if ((flags & VM_FAULT_WRITE) && leaf->level == PAGING_LEVEL_2M) {
        /* shared since a fork: copy only the 4 KiB written (as Linux) */
        int err = paging_user_split_leaf(&vm->pt, addr);
        if (err)
            return err;
        paging_user_lookup(&vm->pt, addr, leaf);
        if (leaf->level != PAGING_LEVEL_4K)
            return -EACCES;
        return vm_fault_present(vm, v, addr, flags, leaf, pre);
    }
    if ((flags & VM_FAULT_WRITE) && leaf->level == PAGING_LEVEL_4K)
        return vm_fault_cow(vm, v, addr, leaf, pre);
    return -EACCES; /* cannot happen while VMAs and leaves agree */
}

static int vm_fault_pre(struct vm_space *vm, uintptr_t addr, unsigned flags, struct vm_prealloc *pre)
{
    if (addr >= USER_TOP)
        return -EFAULT;
    struct vma *v = vma_find(&vm->vmas, addr);
    if (!v && !(v = vm_grow_stack(vm, addr)))
        return -EFAULT;
    if (!vm_access_allowed(v, flags))
        return -EACCES;
    struct paging_leaf leaf;
    if (paging_user_lookup(&vm->pt, addr, &leaf)) {
        /* already right: another CPU resolved it, or our TLB was stale */
        if (vm_leaf_satisfies(&leaf, flags))
            return 0;
        return vm_fault_present(vm, v, addr, flags, &leaf, pre);
    }
    if (v->flags & VMA_SPECIAL) {
        int err = vm_fault_special(vm, v, addr);
        if (err || !(flags & VM_FAULT_WRITE))
            return err;
        paging_user_lookup(&vm->pt, addr, &leaf);
        return vm_fault_present(vm, v, addr, flags, &leaf, pre);
    }
    int r = v->file ? vm_fault_file(vm, v, addr, flags, pre) : vm_fault_anon(vm, v, addr, flags, pre);
    if (r == 0)
        vm->faults++;
    return r;
}

int vm_fault_locked(struct vm_space *vm, uintptr_t addr, unsigned flags)
{
    return vm_fault_pre(vm, addr, flags, NULL);
}

int vm_fault(struct vm_space *vm, uintptr_t addr, unsigned flags)
{
    if (vm_fault_loads_space(vm))
        return 0;
    struct vm_prealloc pre = { .can_defer = true };
    int r;
    for (unsigned tries = 0;; tries++) {
        if (tries == 4)
            pre.can_defer = false; /* the mapping keeps changing under us: allocate locked */
        mutex_lock(&vm->lock);
        r = vm_fault_pre(vm, addr, flags, &pre);
        mutex_unlock(&vm->lock);
        if (r == VM_NEED_SMALL && !(pre.small = vm_page_alloc_anon(true)))
            r = -ENOMEM;
        else if (r == VM_NEED_LARGE && !(pre.large = vm_large_alloc()))
            pre.no_large = true;
        if (r != VM_NEED_SMALL && r != VM_NEED_LARGE)
            break;
    }
    if (pre.small)
        page_ref_put(pre.small);
    if (pre.large)
        vm_large_free(pre.large);
    return r;
}

/* Writable private memory is populated for writing (no zero page, no later
 * copy); everything else as if read. PROT_NONE VMAs are skipped. */
int vm_populate_locked(struct vm_space *vm, uintptr_t start, uintptr_t end)
{
    for (uintptr_t a = start; a < end;) {
        struct vma *v = vma_find(&vm->vmas, a);
        if (!v)
            return -ENOMEM;
        if (!vm_prot_accessible(v->prot)) {
            a = v->end;
            continue;
        }
        unsigned flags = (v->prot & PROT_WRITE) && !(v->flags & VMA_SHARED) ? VM_FAULT_WRITE : 0;
        int err = vm_fault_locked(vm, a, flags);
        if (err)
            return err;
        struct paging_leaf leaf;
        paging_user_lookup(&vm->pt, a, &leaf);
        a = leaf.level == PAGING_LEVEL_2M ? leaf.va + LARGE_PAGE_SIZE : a + PAGE_SIZE;
    }
    return 0;
}

int vm_populate(struct vm_space *vm, uintptr_t addr, size_t len)
{
    uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE);
    if (len > USER_TOP || addr > USER_TOP - len)
        return -ENOMEM;
    uintptr_t end = ALIGN_UP(addr + len, PAGE_SIZE);
    mutex_lock(&vm->lock);
    int err = vm_populate_locked(vm, start, end);
    mutex_unlock(&vm->lock);
    return err;
}

/* ---- Another space's memory, through the direct map ---- */

/* One page's part of an access: fault it in as the access needs (a write to
 * a page shared since a fork copies it first), then copy. Bytes done, or a
 * fault error. vm->lock held. */
static long vm_access_page(struct vm_space *vm, uintptr_t addr, void *buf, size_t len, bool write)
{
    unsigned flags = write ? VM_FAULT_WRITE : 0;
    struct paging_leaf leaf;
    if (!paging_user_lookup(&vm->pt, addr, &leaf) || !vm_leaf_satisfies(&leaf, flags)) {
        int err = vm_fault_pre(vm, addr, flags, NULL);
        if (err)
            return err;
        if (!paging_user_lookup(&vm->pt, addr, &leaf) || !vm_leaf_satisfies(&leaf, flags))
            return -EFAULT;
    }
    size_t n = MIN(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
    uint8_t *k = (uint8_t *)phys_to_virt(leaf.phys) + (addr - leaf.va);
    if (write)
        memcpy(k, buf, n);
    else
        memcpy(buf, k, n);
    return (long)n;
}

long vm_access(struct vm_space *vm, uintptr_t addr, void *buf, size_t len, bool write)
{
    if (addr >= USER_TOP || len > USER_TOP - addr)
        return -EFAULT;
    size_t done = 0;
    mutex_lock(&vm->lock);
    while (done < len) {
        long n = vm_access_page(vm, addr + done, (uint8_t *)buf + done, len - done, write);
        if (n < 0) {
            mutex_unlock(&vm->lock);
            return done ? (long)done : (n == -ENOMEM ? -ENOMEM : -EFAULT);
        }
        done += (size_t)n;
    }
    mutex_unlock(&vm->lock);
    return (long)done;
}

int vm_shared_page_phys(struct vm_space *vm, uintptr_t addr, uint64_t *phys)
{
    if (addr >= USER_TOP)
        return -EFAULT;
    mutex_lock(&vm->lock);
    const struct vma *v = vma_find(&vm->vmas, addr);
    int r = 0;
    if (v && (v->flags & VMA_SHARED)) {
        /* a written page: a read could map the zero page, shared by everyone */
        unsigned flags = v->prot & PROT_WRITE ? VM_FAULT_WRITE : 0;
        struct paging_leaf leaf;
        bool ok = paging_user_lookup(&vm->pt, addr, &leaf) && vm_leaf_satisfies(&leaf, flags);
        if (!ok && (r = vm_fault_pre(vm, addr, flags, NULL)) == 0)
            ok = paging_user_lookup(&vm->pt, addr, &leaf) && vm_leaf_satisfies(&leaf, flags);
        if (ok) {
            *phys = leaf.phys + (addr - leaf.va);
            r = 1;
        } else if (!r) {
            r = -EFAULT;
        }
    } else if (!v) {
        r = -EFAULT;
    }
    mutex_unlock(&vm->lock);
    return r;
}
