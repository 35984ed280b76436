/* Address-space life cycle and layout: creation, references and teardown,
 * the zero page, page accounting, the heap (brk), the main stack and
 * kernel-provided mappings, and the figures /proc/self/status shows. */
#include "arch/tlb.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "vm_internal.h"

struct page *vm_zero_page;
bool vm_large_pages = true;

void vm_init(void)
{
    tlb_init();
    vm_zero_page = page_alloc_counted();
    if (!vm_zero_page)
        panic("vm: no memory for the zero page");
    memset(page_to_virt(vm_zero_page), 0, PAGE_SIZE);
}

struct vm_space *vm_space_create(void)
{
    struct vm_space *vm = kzalloc(sizeof(*vm));
    if (!vm)
        return NULL;
    if (paging_root_init(&vm->pt) != 0) {
        kfree(vm);
        return NULL;
    }
    mutex_init(&vm->lock);
    vma_tree_init(&vm->vmas);
    vm->refs = 1;
    vm->mmap_base = VM_DEFAULT_MMAP_BASE;
    vm->stack_limit = VM_DEFAULT_STACK_LIMIT;
    return vm;
}

struct vm_space *vm_space_get(struct vm_space *vm)
{
    __atomic_add_fetch(&vm->refs, 1, __ATOMIC_RELAXED);
    return vm;
}

void vm_space_put(struct vm_space *vm)
{
    if (vm && __atomic_sub_fetch(&vm->refs, 1, __ATOMIC_ACQ_REL) == 0)
        vm_space_destroy(vm);
}

/* Nobody can load the space any more, so once the CPUs that still have it
 * loaded have left it, the teardown needs no TLB shootdown at all. */
void vm_space_destroy(struct vm_space *vm)
{
    BUG_ON(__atomic_load_n(&vm->refs, __ATOMIC_ACQUIRE) > 1);
    vm_evict_cpus(vm);
    mutex_lock(&vm->lock);
    int err;
    struct vma *list = vma_detach_range(&vm->vmas, 0, USER_TOP, &err);
    vm_pages_unmap(vm, 0, USER_TOP);
    while (list) {
        struct vma *next = list->next_free;
        vma_free(list);
        list = next;
    }
    BUG_ON(vm->vmas.count != 0);
    mutex_unlock(&vm->lock);
    BUG_ON(__atomic_load_n(&vm->tlb.cpus, __ATOMIC_SEQ_CST) != 0);
    paging_root_release(&vm->pt);
    kfree(vm);
}

void vm_set_brk_base(struct vm_space *vm, uintptr_t addr)
{
    mutex_lock(&vm->lock);
    vm->brk_start = vm->brk = addr;
    mutex_unlock(&vm->lock);
}

void vm_set_mmap_base(struct vm_space *vm, uintptr_t addr)
{
    mutex_lock(&vm->lock);
    vm->mmap_base = MIN(ALIGN_DOWN(addr, PAGE_SIZE), (uintptr_t)USER_TOP);
    mutex_unlock(&vm->lock);
}

void vm_set_stack_limit(struct vm_space *vm, uint64_t bytes)
{
    mutex_lock(&vm->lock);
    vm->stack_limit = MAX(ALIGN_UP(bytes, PAGE_SIZE), (uint64_t)PAGE_SIZE);
    mutex_unlock(&vm->lock);
}

/* ---- Pages and accounting ---- */

struct page *vm_page_alloc_anon(bool zero)
{
    struct page *p = page_alloc_counted();
    if (!p)
        return NULL;
    __atomic_or_fetch(&p->flags, PAGE_FLAG_ANON, __ATOMIC_RELAXED);
    if (zero)
        memset(page_to_virt(p), 0, PAGE_SIZE);
    return p;
}

struct page *vm_leaf_page(uint64_t pte, int level)
{
    uint64_t span = level == PAGING_LEVEL_2M ? LARGE_PAGE_SIZE : PAGE_SIZE;
    struct page *p = pfn_to_page((pte & PTE_ADDR_MASK & ~(span - 1)) >> PAGE_SHIFT);
    if (!p || p == vm_zero_page || !(READ_ONCE(p->flags) & PAGE_FLAG_COUNTED))
        return NULL;
    return p;
}

void vm_note_peak(struct vm_space *vm)
{
    vm->peak_rss = MAX(vm->peak_rss, vm->rss_anon + vm->rss_file);
    vm->peak_pages = MAX(vm->peak_pages, vm->vmas.pages);
}

void vm_account_map(struct vm_space *vm, struct page *p, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        __atomic_add_fetch(&p[i].map_count, 1, __ATOMIC_RELAXED);
    if (READ_ONCE(p->flags) & PAGE_FLAG_ANON)
        vm->rss_anon += count;
    else
        vm->rss_file += count;
    vm_note_peak(vm);
}

void vm_account_unmap(struct vm_space *vm, struct page *p, unsigned count, bool dirty)
{
    for (unsigned i = 0; i < count; i++)
        __atomic_sub_fetch(&p[i].map_count, 1, __ATOMIC_RELAXED);
    if (READ_ONCE(p->flags) & PAGE_FLAG_ANON) {
        vm->rss_anon -= count;
    } else {
        vm->rss_file -= count;
        if (dirty)
            __atomic_or_fetch(&p->flags, PAGE_FLAG_DIRTY, __ATOMIC_RELAXED);
    }
}

/* One reference means one mapping: the mapping's own. A transient extra
 * holder only makes us copy where writing in place was possible. */
bool vm_page_exclusive(const struct page *p, int level)
{
    unsigned count = level == PAGING_LEVEL_2M ? 512 : 1;
    for (unsigned i = 0; i < count; i++)
        if (__atomic_load_n(&p[i].refs, __ATOMIC_ACQUIRE) != 1)
            return false;
    return true;
}

/* Private pages may be written in place only when they are ours alone:
 * anonymous pages no other space shares since a fork; file pages and the
 * zero page are copied first. Shared mappings write to the page itself. */
static bool vm_phys_writable(const struct vma *v, uint64_t phys, int level)
{
    if (v->flags & VMA_SPECIAL)
        return false;
    if (v->flags & VMA_SHARED)
        return true;
    struct page *p = pfn_to_page(phys >> PAGE_SHIFT);
    return p && p != vm_zero_page && (READ_ONCE(p->flags) & PAGE_FLAG_ANON) && vm_page_exclusive(p, level);
}

uint64_t vm_leaf_pte(const struct vma *v, uint64_t pte, int level)
{
    uint64_t span = level == PAGING_LEVEL_2M ? LARGE_PAGE_SIZE : PAGE_SIZE;
    uint64_t phys = pte & PTE_ADDR_MASK & ~(span - 1);
    bool write = (v->prot & PROT_WRITE) && vm_phys_writable(v, phys, level);
    uint64_t npte = paging_user_pte(phys, write, v->prot & PROT_EXEC, level);
    npte |= pte & (PTE_ACCESSED | PTE_DIRTY);
    return vm_prot_accessible(v->prot) ? npte : paging_user_protnone(npte);
}

int vm_install_page(struct vm_space *vm, uintptr_t va, struct page *p, uint64_t pte)
{
    uint64_t old = 0;
    int err = paging_user_map(&vm->pt, va, pte, PAGING_LEVEL_4K, &old);
    if (err) {
        if (p != vm_zero_page)
            page_ref_put(p);
        return err;
    }
    if (p != vm_zero_page)
        vm_account_map(vm, p, 1);
    BUG_ON(paging_pte_is_leaf(old)); /* callers checked the slot under vm->lock */
    return 0;
}

bool vm_enough_memory(uint64_t pages)
{
    struct phys_stats st;
    phys_get_stats(&st);
    return pages <= st.total_pages;
}

/* ---- The heap ---- */

uintptr_t vm_brk(struct vm_space *vm, uintptr_t addr)
{
    mutex_lock(&vm->lock);
    uintptr_t cur = vm->brk;
    uintptr_t new_end = ALIGN_UP(addr, PAGE_SIZE), old_end = ALIGN_UP(cur, PAGE_SIZE);
    if (addr < vm->brk_start || addr > USER_TOP)
        goto out;
    if (new_end == old_end) {
        vm->brk = addr;
    } else if (addr < cur) {
        if (vm_unmap_locked(vm, new_end, old_end) == 0)
            vm->brk = addr;
    } else {
        /* a page of room must stay between the heap and the next mapping */
        struct vma *next = vma_find_from(&vm->vmas, old_end);
        if (next && new_end + PAGE_SIZE > vma_start_gap(next))
            goto out;
        if (!vm_enough_memory((new_end - old_end) >> PAGE_SHIFT))
            goto out;
        uint32_t flags = VMA_ANON | VMA_MAYWRITE | (vm->lock_future ? VMA_LOCKED : 0);
        if (vm_insert_vma(vm, old_end, new_end, PROT_READ | PROT_WRITE, flags, NULL, 0, "[heap]") == 0)
            vm->brk = addr;
    }
out:
    cur = vm->brk;
    mutex_unlock(&vm->lock);
    return cur;
}

/* ---- The main stack and kernel pages ---- */

long vm_map_stack(struct vm_space *vm, uintptr_t top, size_t size)
{
    size = ALIGN_UP(size, PAGE_SIZE);
    if ((top & (PAGE_SIZE - 1)) || !size || top > USER_TOP || size > top - VM_MMAP_MIN_ADDR)
        return -EINVAL;
    mutex_lock(&vm->lock);
    int err = vm_insert_vma(vm, top - size, top, PROT_READ | PROT_WRITE,
                            VMA_ANON | VMA_MAYWRITE | VMA_GROWSDOWN | VMA_STACK, NULL, 0, "[stack]");
    mutex_unlock(&vm->lock);
    return err ? err : (long)(top - size);
}

long vm_map_special(struct vm_space *vm, uintptr_t addr, size_t len, int prot,
                    const uint64_t *phys, const char *name)
{
    len = ALIGN_UP(len, PAGE_SIZE);
    if (!len || (addr & (PAGE_SIZE - 1)) || !phys)
        return -EINVAL;
    mutex_lock(&vm->lock);
    long r;
    if (!addr)
        addr = vm_pick_address(vm, 0, len, 0);
    if (!addr || addr > USER_TOP - len || !vma_range_free(&vm->vmas, addr, addr + len)) {
        r = -ENOMEM;
        goto out;
    }
    struct vma *v = vma_alloc();
    if (!v) {
        r = -ENOMEM;
        goto out;
    }
    v->start = addr;
    v->end = addr + len;
    v->prot = (uint32_t)prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
    v->flags = VMA_SPECIAL;
    v->special = phys;
    v->name = name;
    BUG_ON(vma_insert(&vm->vmas, v) != 0);
    vm_note_peak(vm);
    r = vm_populate_locked(vm, addr, addr + len);
    if (r == 0)
        r = (long)addr;
out:
    mutex_unlock(&vm->lock);
    return r;
}

/* ---- Figures ---- */

void vm_get_stats(struct vm_space *vm, struct vm_stats *out)
{
    memset(out, 0, sizeof(*out));
    mutex_lock(&vm->lock);
    for (struct vma *v = vma_first(&vm->vmas); v; v = vma_next(v)) {
        uint64_t bytes = v->end - v->start;
        if (v->flags & VMA_LOCKED)
            out->locked += bytes;
        if (v->flags & (VMA_GROWSDOWN | VMA_STACK))
            out->stack += bytes;
        else if ((v->prot & PROT_WRITE) && !(v->flags & VMA_SHARED))
            out->data += bytes;
        else if ((v->prot & PROT_EXEC) && !(v->prot & PROT_WRITE) && v->file)
            out->exec += bytes;
    }
    out->size = vm->vmas.pages * PAGE_SIZE;
    out->peak_size = MAX(vm->peak_pages, vm->vmas.pages) * PAGE_SIZE;
    out->rss_anon = vm->rss_anon * PAGE_SIZE;
    out->rss_file = vm->rss_file * PAGE_SIZE;
    out->rss = out->rss_anon + out->rss_file;
    out->peak_rss = MAX(vm->peak_rss * PAGE_SIZE, out->rss);
    out->faults = vm->faults;
    out->vma_count = vm->vmas.count;
    mutex_unlock(&vm->lock);
}
