/* Allocator self-test: every CPU allocates and frees at once, checking that
 * no two live blocks overlap (each is filled with its owner's pattern) and
 * that the memory comes back afterwards. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "core/cpu.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/phys.h"

#define LIVE 192
#define ROUNDS 5000

static volatile int alloc_errors;
static volatile uint64_t alloc_ops;

struct live_block {
    uint8_t *p;
    size_t size;
    struct page *page; /* page_alloc blocks */
    unsigned order;
    uint8_t tag;
};

static bool pattern_ok(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i += 61)
        if (p[i] != v)
            return false;
    return p[n - 1] == v;
}

static void block_free(struct live_block *b)
{
    size_t n = b->page ? (4096ul << b->order) : b->size;
    uint8_t *p = b->page ? page_to_virt(b->page) : b->p;
    if (!pattern_ok(p, n, b->tag))
        alloc_errors++;
    if (b->page)
        page_free(b->page, b->order);
    else
        kfree(b->p);
    b->p = NULL;
    b->page = NULL;
}

static void block_alloc(struct live_block *b, unsigned *seed, uint8_t tag)
{
    *seed = *seed * 1103515245u + 12345u;
    unsigned r = *seed >> 8;
    b->tag = tag;
    if (r % 16 == 0) { /* sometimes whole pages */
        b->order = r % 5;
        b->page = page_alloc(b->order);
        if (b->page)
            memset(page_to_virt(b->page), tag, 4096ul << b->order);
        else
            alloc_errors++;
        return;
    }
    b->size = 1 + (r % 64 == 1 ? r % 20000 : r % 700);
    b->p = kmalloc(b->size);
    if (b->p)
        memset(b->p, tag, b->size);
    else
        alloc_errors++;
}

static void alloc_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg, seed = id * 2654435761u + 1;
    struct live_block *live = kzalloc(sizeof(*live) * LIVE);
    if (!live) {
        alloc_errors++;
        return;
    }
    for (int round = 0; round < ROUNDS; round++) {
        struct live_block *b = &live[(seed >> 4) % LIVE];
        if (b->p || b->page)
            block_free(b);
        block_alloc(b, &seed, (uint8_t)(id * 16 + round % 16 + 1));
    }
    for (int i = 0; i < LIVE; i++)
        if (live[i].p || live[i].page)
            block_free(&live[i]);
    kfree(live);
    __atomic_fetch_add(&alloc_ops, ROUNDS, __ATOMIC_RELAXED);
    /* give this CPU's cached objects back so the totals can be compared */
    irqflags_t f = irq_save();
    kmalloc_cpu_drain(cpu_current_id());
    irq_restore(f);
}

SELFTEST(alloc, "kmalloc and page allocation stress from every CPU at once", true)
{
    struct phys_stats before, after;
    alloc_errors = 0;
    alloc_ops = 0;
    struct thread *t[2 * MAX_CPUS];
    unsigned n = 2 * cpu_count;
    phys_get_stats(&before);
    for (unsigned i = 0; i < n; i++)
        t[i] = thread_create("alloc", alloc_worker, (void *)(uintptr_t)i, (int)(i % cpu_count));
    for (unsigned i = 0; i < n; i++)
        thread_start(t[i]);
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    irqflags_t f = irq_save();
    kmalloc_cpu_drain(cpu_current_id());
    irq_restore(f);
    phys_get_stats(&after);
    /* allowed to stay: one spare slab per size class, stack page tables */
    int64_t lost = (int64_t)before.free_pages - (int64_t)after.free_pages;
    int failures = selftest_check(alloc_errors == 0, "%lu allocations on %u CPUs, contents intact (%d errors)",
                                  (uint64_t)alloc_ops, cpu_count, alloc_errors);
    return failures + selftest_check(lost <= KMALLOC_NCLASSES + 16,
                                     "free memory came back (%ld pages still in use)", lost);
}
