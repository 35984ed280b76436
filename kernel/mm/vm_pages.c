/* Page-table work over ranges of the address space: unmapping (pages are
 * released only after every CPU has dropped its TLB entries), protection
 * changes, moving leaves for mremap, residency and dirty bits. vm->lock is
 * held by every caller. */
#include "core/log.h"
#include "core/panic.h"
#include "lib/errno.h"
#include "lib/list.h"
#include "lib/string.h"
#include "vm_internal.h"

#define VM_RELEASE_MAX 64
#define VM_RELEASE_LARGE 1ul /* tag in a leaves[] pointer: 512 pages */

/* What an unmap pass removed, to free once the TLBs are clean. */
struct vm_release {
    struct vm_space *vm;
    struct tlb_batch tlb;
    unsigned n;
    uintptr_t leaves[VM_RELEASE_MAX]; /* struct page *, tagged */
    struct list_node tables;          /* emptied page-table pages, via page->link */
};

int vm_pages_split_edges(struct vm_space *vm, uintptr_t start, uintptr_t end)
{
    int err = paging_user_split(&vm->pt, start);
    if (!err && end < USER_TOP)
        err = paging_user_split(&vm->pt, end);
    return err;
}

static bool vm_release_leaf(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_release *r = ctx;
    if (level == 0) { /* an emptied table: its walk caches go with any invlpg */
        list_add_tail(&r->tables, &pfn_to_page(pte >> PAGE_SHIFT)->link);
        tlb_batch_add(&r->tlb, va);
        r->tlb.freed_tables = true;
        return true;
    }
    if (pte & PTE_PRESENT)
        tlb_batch_add(&r->tlb, va);
    struct page *p = vm_leaf_page(pte, level);
    if (!p)
        return true;
    unsigned count = level == PAGING_LEVEL_2M ? 512 : 1;
    vm_account_unmap(r->vm, p, count, pte & PTE_DIRTY);
    r->leaves[r->n++] = (uintptr_t)p | (count > 1 ? VM_RELEASE_LARGE : 0);
    return r->n < VM_RELEASE_MAX;
}

static void vm_release_finish(struct vm_release *r)
{
    vm_tlb_flush(r->vm, &r->tlb);
    for (unsigned i = 0; i < r->n; i++) {
        struct page *p = (struct page *)(r->leaves[i] & ~VM_RELEASE_LARGE);
        unsigned count = (r->leaves[i] & VM_RELEASE_LARGE) ? 512 : 1;
        for (unsigned j = 0; j < count; j++)
            page_ref_put(p + j);
    }
    r->n = 0;
    struct list_node *node;
    while ((node = list_pop_head(&r->tables)))
        page_free(list_entry(node, struct page, link), 0);
}

int vm_pages_unmap(struct vm_space *vm, uintptr_t start, uintptr_t end)
{
    struct vm_release r = { .vm = vm };
    tlb_batch_init(&r.tlb);
    list_init(&r.tables);
    for (uintptr_t at = start; at < end;) {
        uintptr_t next;
        int err = paging_user_unmap(&vm->pt, at, end, vm_release_leaf, &r, &next);
        vm_release_finish(&r);
        if (err)
            return err;
        at = next;
    }
    return 0;
}

struct vm_protect_ctx {
    const struct vma *v;
    struct tlb_batch tlb;
};

/* Flush only where rights went away; a stale entry with fewer rights just
 * faults once and vm_fault finds the leaf already right. */
static bool vm_rights_lost(uint64_t old, uint64_t new)
{
    if (!(old & PTE_PRESENT))
        return false;
    if (!(new & PTE_PRESENT))
        return true;
    return ((old & PTE_WRITE) && !(new & PTE_WRITE)) || (!(old & PTE_NX) && (new & PTE_NX)) ||
           (old & PTE_ADDR_MASK) != (new & PTE_ADDR_MASK);
}

static uint64_t vm_protect_leaf(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_protect_ctx *c = ctx;
    uint64_t npte = vm_leaf_pte(c->v, pte, level);
    if (vm_rights_lost(pte, npte))
        tlb_batch_add(&c->tlb, va);
    return npte;
}

int vm_pages_protect(struct vm_space *vm, const struct vma *v, uintptr_t start, uintptr_t end)
{
    struct vm_protect_ctx c = { .v = v };
    tlb_batch_init(&c.tlb);
    int err = paging_user_update(&vm->pt, start, end, vm_protect_leaf, &c);
    vm_tlb_flush(vm, &c.tlb);
    return err;
}

/* ---- mremap: moving leaves ---- */

#define VM_MOVE_BATCH 64

struct vm_move_ctx {
    struct paging_root *pt;
    intptr_t delta;   /* to - from */
    unsigned n;
    uintptr_t va[VM_MOVE_BATCH];
    uint64_t pte[VM_MOVE_BATCH];
    int level[VM_MOVE_BATCH];
    struct tlb_batch tlb;
};

/* A 2 MiB leaf stays one only if its new place is 2 MiB aligned and empty. */
static bool vm_move_keeps_large(const struct vm_move_ctx *c, uintptr_t va, int level)
{
    uintptr_t dst = va + (uintptr_t)c->delta;
    return level == PAGING_LEVEL_2M && IS_ALIGNED(dst, LARGE_PAGE_SIZE) && paging_user_block_empty(c->pt, dst);
}

static bool vm_move_collect(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_move_ctx *c = ctx;
    c->va[c->n] = va;
    c->pte[c->n] = pte;
    c->level[c->n] = level;
    c->n++;
    return c->n < VM_MOVE_BATCH;
}

/* Phase 1: page tables for every destination, so phase 2 cannot fail. */
static int vm_move_prepare(struct vm_move_ctx *c, uintptr_t from, uintptr_t end)
{
    for (uintptr_t at = from; at < end;) {
        c->n = 0;
        paging_user_walk(c->pt, at, end, vm_move_collect, c);
        if (!c->n)
            return 0;
        for (unsigned i = 0; i < c->n; i++) {
            uintptr_t dst = c->va[i] + (uintptr_t)c->delta;
            int err;
            if (vm_move_keeps_large(c, c->va[i], c->level[i]))
                err = paging_user_prepare(c->pt, dst, PAGING_LEVEL_2M);
            else if (c->level[i] == PAGING_LEVEL_2M)
                err = paging_user_prepare(c->pt, dst, 1) ?: paging_user_prepare(c->pt, dst + LARGE_PAGE_SIZE - PAGE_SIZE, 1);
            else
                err = paging_user_prepare(c->pt, dst, 1);
            if (err)
                return err;
        }
        uintptr_t last = c->va[c->n - 1];
        at = last + (c->level[c->n - 1] == PAGING_LEVEL_2M ? LARGE_PAGE_SIZE : PAGE_SIZE);
    }
    return 0;
}

/* Emptied source tables stay until the move is over: a destination in the
 * same 2 MiB may need them (its tables were made in phase 1). */
static bool vm_move_take(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_move_ctx *c = ctx;
    if (level == 0)
        return false;
    if (pte & PTE_PRESENT)
        tlb_batch_add(&c->tlb, va);
    return vm_move_collect(ctx, va, pte, level);
}

static void vm_move_place(struct vm_move_ctx *c, unsigned i)
{
    uintptr_t dst = c->va[i] + (uintptr_t)c->delta;
    uint64_t pte = c->pte[i];
    int err = 0;
    if (c->level[i] == PAGING_LEVEL_2M && IS_ALIGNED(dst, LARGE_PAGE_SIZE) && paging_user_block_empty(c->pt, dst)) {
        err = paging_user_map(c->pt, dst, pte, PAGING_LEVEL_2M, NULL);
    } else if (c->level[i] == PAGING_LEVEL_2M) {
        uint64_t base = pte & PTE_ADDR_MASK & ~(uint64_t)(LARGE_PAGE_SIZE - 1);
        uint64_t bits = pte & ~PTE_ADDR_MASK & ~PTE_LARGE;
        for (unsigned j = 0; j < 512 && !err; j++)
            err = paging_user_map(c->pt, dst + j * PAGE_SIZE, (base + j * PAGE_SIZE) | bits, 1, NULL);
    } else {
        err = paging_user_map(c->pt, dst, pte, PAGING_LEVEL_4K, NULL);
    }
    if (err) /* phase 1 made the tables; this is a broken invariant */
        panic("vm: moving a page to %#lx failed (%d)", dst, err);
}

int vm_pages_move(struct vm_space *vm, uintptr_t from, uintptr_t to, size_t len)
{
    struct vm_move_ctx c = { .pt = &vm->pt, .delta = (intptr_t)(to - from) };
    tlb_batch_init(&c.tlb);
    int err = vm_move_prepare(&c, from, from + len);
    if (err)
        return err;
    for (uintptr_t at = from; at < from + len;) {
        c.n = 0;
        uintptr_t next;
        err = paging_user_unmap(&vm->pt, at, from + len, vm_move_take, &c, &next);
        BUG_ON(err); /* edges were split by the caller */
        vm_tlb_flush(vm, &c.tlb);
        for (unsigned i = 0; i < c.n; i++)
            vm_move_place(&c, i);
        at = next;
    }
    return vm_pages_unmap(vm, from, from + len); /* no leaves left: frees empty tables */
}

/* ---- Residency and dirty bits ---- */

struct vm_residency_ctx {
    uintptr_t start, end;
    unsigned char *vec;
};

static bool vm_residency_leaf(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_residency_ctx *c = ctx;
    (void)pte;
    uintptr_t lo = MAX(va, c->start);
    uintptr_t hi = MIN(va + (level == PAGING_LEVEL_2M ? LARGE_PAGE_SIZE : PAGE_SIZE), c->end);
    for (uintptr_t a = lo; a < hi; a += PAGE_SIZE)
        c->vec[(a - c->start) >> PAGE_SHIFT] = 1;
    return true;
}

void vm_pages_residency(struct vm_space *vm, uintptr_t start, uintptr_t end, unsigned char *vec)
{
    struct vm_residency_ctx c = { start, end, vec };
    memset(vec, 0, (end - start) >> PAGE_SHIFT);
    paging_user_walk(&vm->pt, start, end, vm_residency_leaf, &c);
}

struct vm_dirty_ctx {
    struct tlb_batch tlb;
};

static uint64_t vm_dirty_leaf(void *ctx, uintptr_t va, uint64_t pte, int level)
{
    struct vm_dirty_ctx *c = ctx;
    if (!(pte & PTE_DIRTY))
        return pte;
    struct page *p = vm_leaf_page(pte, level);
    if (p && !(READ_ONCE(p->flags) & PAGE_FLAG_ANON))
        __atomic_or_fetch(&p->flags, PAGE_FLAG_DIRTY, __ATOMIC_RELAXED);
    tlb_batch_add(&c->tlb, va); /* so the next store sets the PTE's bit again */
    return pte & ~PTE_DIRTY;
}

void vm_pages_harvest_dirty(struct vm_space *vm, uintptr_t start, uintptr_t end)
{
    struct vm_dirty_ctx c;
    tlb_batch_init(&c.tlb);
    paging_user_update(&vm->pt, start, end, vm_dirty_leaf, &c);
    vm_tlb_flush(vm, &c.tlb);
}
