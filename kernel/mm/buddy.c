/* Binary buddy allocator. A free block of order k starts at a frame number that
 * is a multiple of 2^k (absolute, not zone-relative), so 2 MiB blocks are 2 MiB
 * aligned physically and can back large pages. */
#include "mm/buddy.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/string.h"

void buddy_zone_init(struct buddy_zone *z, uint64_t base_pfn, uint64_t npages, struct page *pages)
{
    z->base_pfn = base_pfn;
    z->npages = npages;
    z->pages = pages;
    z->free_pages = 0;
    spin_init(&z->lock);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        list_init(&z->free_list[k]);
        z->free_count[k] = 0;
    }
    /* A cleared record means "not the allocator's to hand out": releasing a
     * range then touches only block heads. This clear is most of the boot's
     * memory phase, so it stays one bulk store. */
    memset(pages, 0, npages * sizeof(*pages));
}

static void buddy_push(struct buddy_zone *z, struct page *p, unsigned order)
{
    p->flags = PAGE_FLAG_FREE;
    p->order = (uint8_t)order;
    list_add_head(&z->free_list[order], &p->link);
    z->free_count[order]++;
}

static void buddy_unlink(struct buddy_zone *z, struct page *p)
{
    list_remove(&p->link);
    z->free_count[p->order]--;
    p->flags = 0;
}

/* Free a block and merge it with its buddy as long as the buddy is free and whole. */
static void buddy_free_locked(struct buddy_zone *z, uint64_t pfn, unsigned order)
{
    z->free_pages += 1ull << order;
    while (order < BUDDY_MAX_ORDER) {
        uint64_t buddy_pfn = pfn ^ (1ull << order);
        if (!buddy_zone_has_pfn(z, buddy_pfn))
            break;
        struct page *b = &z->pages[buddy_pfn - z->base_pfn];
        if (!(b->flags & PAGE_FLAG_FREE) || b->order != order)
            break;
        /* a block that would run past the zone's end is never merged into */
        uint64_t merged = pfn & ~(1ull << order);
        if (!buddy_zone_has_pfn(z, merged + (2ull << order) - 1))
            break;
        buddy_unlink(z, b);
        pfn = merged;
        order++;
    }
    buddy_push(z, &z->pages[pfn - z->base_pfn], order);
}

void buddy_release_range(struct buddy_zone *z, uint64_t pfn, uint64_t count)
{
    irqflags_t f = spin_lock(&z->lock);
    while (count) {
        unsigned order = BUDDY_MAX_ORDER;
        while (order && ((pfn & ((1ull << order) - 1)) || (1ull << order) > count))
            order--;
        if (!buddy_zone_has_pfn(z, pfn + (1ull << order) - 1) || (z->pages[pfn - z->base_pfn].flags & PAGE_FLAG_FREE))
            panic("buddy: releasing frame %#lx, which is outside this zone or already free", pfn);
        buddy_free_locked(z, pfn, order);
        pfn += 1ull << order;
        count -= 1ull << order;
    }
    spin_unlock(&z->lock, f);
}

struct page *buddy_alloc(struct buddy_zone *z, unsigned order)
{
    if (order > BUDDY_MAX_ORDER)
        return NULL;
    irqflags_t f = spin_lock(&z->lock);
    unsigned k = order;
    while (k <= BUDDY_MAX_ORDER && list_empty(&z->free_list[k]))
        k++;
    if (k > BUDDY_MAX_ORDER) {
        spin_unlock(&z->lock, f);
        return NULL;
    }
    struct page *p = list_entry(z->free_list[k].next, struct page, link);
    buddy_unlink(z, p);
    /* split: hand the upper halves back until the block has the wanted order */
    while (k > order) {
        k--;
        buddy_push(z, p + (1ull << k), k);
    }
    p->order = (uint8_t)order;
    z->free_pages -= 1ull << order;
    spin_unlock(&z->lock, f);
    return p;
}

void buddy_free(struct buddy_zone *z, struct page *p, unsigned order)
{
    uint64_t pfn = buddy_page_pfn(z, p);
    if (p < z->pages || p >= z->pages + z->npages || order > BUDDY_MAX_ORDER ||
        (pfn & ((1ull << order) - 1)) || !buddy_zone_has_pfn(z, pfn + (1ull << order) - 1))
        panic("buddy: free of invalid block (frame %#lx, order %u)", pfn, order);
    if (p->flags & PAGE_FLAG_FREE)
        panic("buddy: double free of frame %#lx", pfn);
    irqflags_t f = spin_lock(&z->lock);
    p->flags = 0;
    p->slab_inuse = 0;
    p->slab_free = NULL;
    buddy_free_locked(z, pfn, order);
    spin_unlock(&z->lock, f);
}
