/* Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS): its pages live in an
 * object that every VMA mapping it refers to (pieces split by mprotect, the
 * copies a fork makes), so a page first touched after a fork is the same page
 * on both sides, as with Linux's shmem. Pages are indexed by their offset in
 * the object: a table of 512-entry leaves (2 MiB each), grown on demand. */
#include "core/mutex.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "vm_internal.h"

#define VM_ANON_LEAF 512 /* pages per leaf: one 4 KiB array of pointers */

struct vm_anon {
    uint32_t refs;         /* VMAs referring to it (atomic) */
    struct mutex lock;     /* the table */
    struct page ***leaves; /* leaves[i][j]: page i * 512 + j, or NULL */
    uint64_t nleaves;
    uint64_t pages;        /* pages held */
};

struct vm_anon *vm_anon_create(void)
{
    struct vm_anon *a = kzalloc(sizeof(*a));
    if (!a)
        return NULL;
    a->refs = 1;
    mutex_init(&a->lock);
    return a;
}

void vm_anon_get(struct vm_anon *a)
{
    __atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
}

/* The last VMA is gone: the object's own reference on each page goes (pages
 * still mapped somewhere live on through the mappings' references). */
void vm_anon_put(struct vm_anon *a)
{
    if (__atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (uint64_t i = 0; i < a->nleaves; i++) {
        if (!a->leaves[i])
            continue;
        for (unsigned j = 0; j < VM_ANON_LEAF; j++)
            if (a->leaves[i][j])
                page_ref_put(a->leaves[i][j]);
        kfree(a->leaves[i]);
    }
    kfree(a->leaves);
    kfree(a);
}

/* The slot for page `index`, with the table grown and the leaf made when
 * `create`; NULL when absent (or out of memory). Lock held. */
static struct page **vm_anon_slot(struct vm_anon *a, uint64_t index, bool create)
{
    uint64_t li = index / VM_ANON_LEAF;
    if (li >= a->nleaves) {
        if (!create)
            return NULL;
        uint64_t n = MAX(li + 1, a->nleaves * 2);
        struct page ***t = kzalloc(n * sizeof(*t));
        if (!t)
            return NULL;
        if (a->nleaves)
            memcpy(t, a->leaves, a->nleaves * sizeof(*t));
        kfree(a->leaves);
        a->leaves = t;
        a->nleaves = n;
    }
    if (!a->leaves[li]) {
        if (!create || !(a->leaves[li] = kzalloc(VM_ANON_LEAF * sizeof(struct page *))))
            return NULL;
    }
    return &a->leaves[li][index % VM_ANON_LEAF];
}

struct page *vm_anon_lookup(struct vm_anon *a, uint64_t index)
{
    mutex_lock(&a->lock);
    struct page **slot = vm_anon_slot(a, index, false);
    struct page *p = slot ? *slot : NULL;
    if (p)
        page_ref_get(p);
    mutex_unlock(&a->lock);
    return p;
}

struct page *vm_anon_insert(struct vm_anon *a, uint64_t index, struct page *fresh)
{
    mutex_lock(&a->lock);
    struct page **slot = vm_anon_slot(a, index, true);
    struct page *p = slot ? *slot : NULL;
    if (p) {
        page_ref_get(p); /* another mapping made it first */
    } else if (slot) {
        p = *slot = fresh;
        page_ref_get(p); /* the object's own; the caller's goes to its mapping */
        a->pages++;
        fresh = NULL;
    }
    mutex_unlock(&a->lock);
    if (fresh)
        page_ref_put(fresh);
    return p;
}

void vm_anon_punch(struct vm_anon *a, uint64_t first, uint64_t count)
{
    mutex_lock(&a->lock);
    for (uint64_t i = first; i < first + count; i++) {
        if (i / VM_ANON_LEAF >= a->nleaves)
            break;
        struct page **slot = vm_anon_slot(a, i, false);
        if (!slot || !*slot) {
            if (!slot) /* a whole missing leaf: skip to the next one */
                i = ALIGN_DOWN(i, VM_ANON_LEAF) + VM_ANON_LEAF - 1;
            continue;
        }
        page_ref_put(*slot);
        *slot = NULL;
        a->pages--;
    }
    mutex_unlock(&a->lock);
}

uint64_t vm_anon_pages(struct vm_anon *a)
{
    return __atomic_load_n(&a->pages, __ATOMIC_RELAXED);
}
