/* fork: a new address space with copies of the parent's VMAs whose pages are
 * shared, not copied. Shared mappings keep sharing them; private ones become
 * copy on write in both spaces (the write bit goes from both entries, each
 * page gets a reference per mapping) and the first write on either side
 * copies the page, or writes it in place once the other side has let it go
 * (vm_fault.c). 2 MiB pages are shared whole and split when written. */
#include "core/panic.h"
#include "lib/errno.h"
#include "vm_internal.h"

struct vm_fork_ctx {
    struct vm_space *child;
    const struct vma *v;        /* the parent's VMA being copied */
    struct tlb_batch tlb;       /* parent entries that lost their write bit */
};

/* One parent leaf: the child's entry for the same page (any level). */
static uint64_t vm_fork_leaf(void *ctx, uintptr_t va, uint64_t pte, int level, uint64_t *clear)
{
    struct vm_fork_ctx *c = ctx;
    uint64_t cpte = pte & ~PTE_ACCESSED;
    if (c->v->flags & VMA_SHARED) {
        cpte &= ~PTE_DIRTY; /* the parent's entry still carries it to the page */
    } else if (pte & PTE_WRITE) {
        *clear = PTE_WRITE;
        cpte &= ~PTE_WRITE;
        if (pte & PTE_PRESENT)
            tlb_batch_add(&c->tlb, va);
    }
    struct page *p = vm_leaf_page(pte, level); /* NULL: zero page, kernel page */
    if (p) {
        unsigned count = level == PAGING_LEVEL_2M ? 512 : 1;
        for (unsigned i = 0; i < count; i++)
            page_ref_get(p + i);
        vm_account_map(c->child, p, count);
    }
    return cpte;
}

static int vm_fork_vma(struct vm_space *parent, struct vm_space *child, const struct vma *v,
                       struct vm_fork_ctx *c)
{
    struct vma *copy = vma_dup(v);
    if (!copy)
        return -ENOMEM;
    copy->flags &= ~(uint32_t)VMA_FORK_DROPPED;
    BUG_ON(vma_insert(&child->vmas, copy) != 0); /* the parent's VMAs do not overlap */
    if (!vma_fork_copies_pages(v))
        return 0; /* MADV_WIPEONFORK: zeros on the first touch */
    c->v = v;
    for (uintptr_t at = v->start; at < v->end;) {
        uintptr_t next;
        int err = paging_user_copy(&child->pt, &parent->pt, at, v->end, vm_fork_leaf, c, &next);
        if (err)
            return err;
        at = next;
    }
    return 0;
}

/* The layout figures a child inherits; MCL_FUTURE is not (as Linux). */
static void vm_fork_layout(struct vm_space *child, const struct vm_space *parent)
{
    child->mmap_base = parent->mmap_base;
    child->brk_start = parent->brk_start;
    child->brk = parent->brk;
    child->stack_limit = parent->stack_limit;
}

/* Holding parent->lock throughout keeps its faults and mapping changes out
 * until its CPUs have dropped the writable entries: a store through a stale
 * one could otherwise reach a page the child already shares. */
struct vm_space *vm_space_fork(struct vm_space *parent)
{
    struct vm_space *child = vm_space_create();
    if (!child)
        return NULL;
    struct vm_fork_ctx c = { .child = child };
    tlb_batch_init(&c.tlb);
    int err = 0;
    mutex_lock(&parent->lock);
    mutex_lock(&child->lock); /* nobody else knows it yet: never contended */
    vm_fork_layout(child, parent);
    for (struct vma *v = vma_first(&parent->vmas); v && !err; v = vma_next(v))
        if (vma_fork_copies(v))
            err = vm_fork_vma(parent, child, v, &c);
    vm_note_peak(child);
    mutex_unlock(&child->lock);
    vm_tlb_flush(parent, &c.tlb);
    mutex_unlock(&parent->lock);
    if (err) {
        vm_space_put(child); /* drops every reference taken so far */
        return NULL;
    }
    return child;
}
