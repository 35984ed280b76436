/* Binary buddy allocator over one contiguous range of page frames (a zone).
 * Pure logic: it manipulates struct page records only, never the pages. */
#pragma once

#include "arch/spinlock.h"
#include "mm/page.h"

#define BUDDY_MAX_ORDER 10 /* largest block: 2^10 pages = 4 MiB */

struct buddy_zone {
    uint64_t base_pfn, npages;
    struct page *pages;    /* npages records, pages[i] describes base_pfn + i */
    struct list_node free_list[BUDDY_MAX_ORDER + 1];
    uint64_t free_count[BUDDY_MAX_ORDER + 1];
    uint64_t free_pages;
    spinlock_t lock;
};

/* Every page starts reserved; buddy_release_range hands usable ones over. */
void buddy_zone_init(struct buddy_zone *z, uint64_t base_pfn, uint64_t npages, struct page *pages);
void buddy_release_range(struct buddy_zone *z, uint64_t pfn, uint64_t count);
/* NULL when no block of that order is free. */
struct page *buddy_alloc(struct buddy_zone *z, unsigned order);
void buddy_free(struct buddy_zone *z, struct page *p, unsigned order);

static inline uint64_t buddy_page_pfn(const struct buddy_zone *z, const struct page *p)
{
    return z->base_pfn + (uint64_t)(p - z->pages);
}

static inline bool buddy_zone_has_pfn(const struct buddy_zone *z, uint64_t pfn)
{
    return pfn >= z->base_pfn && pfn - z->base_pfn < z->npages;
}
