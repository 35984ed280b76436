/* Physical page allocator: the zones (one per contiguous range of RAM), frame
 * numbers, struct page lookup and the direct map. */
#pragma once

#include "mm/buddy.h"

#define PHYS_MAX_ZONES 16

/* Physical address + direct_map_offset = kernel virtual address. */
extern uintptr_t direct_map_offset;

static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(uintptr_t)(phys + direct_map_offset);
}

static inline uint64_t virt_to_phys(const void *virt)
{
    return (uint64_t)((uintptr_t)virt - direct_map_offset);
}

/* Register a zone covering frames [base_pfn, base_pfn + npages) with its page array. */
struct buddy_zone *phys_add_zone(uint64_t base_pfn, uint64_t npages, struct page *pages);
void phys_release_range(uint64_t start, uint64_t end); /* [start, end) bytes, page aligned */

/* 2^order contiguous frames, or NULL. Memory is not cleared. */
struct page *page_alloc(unsigned order);
void page_free(struct page *p, unsigned order);
/* Convenience: zeroed pages as a direct-map pointer, or NULL. */
void *page_alloc_zeroed(unsigned order);
void page_free_virt(void *virt, unsigned order);

/* Counted pages, for memory with several owners (file data in the page cache,
 * application mappings): one order-0 page with one reference; the last
 * page_ref_put frees it. Not cleared. */
struct page *page_alloc_counted(void);
void page_ref_get(struct page *p);
void page_ref_put(struct page *p);

struct page *pfn_to_page(uint64_t pfn); /* NULL when the frame is not RAM we manage */
uint64_t page_to_pfn(const struct page *p);

static inline uint64_t page_to_phys(const struct page *p)
{
    return page_to_pfn(p) << 12;
}

static inline void *page_to_virt(const struct page *p)
{
    return phys_to_virt(page_to_phys(p));
}

static inline struct page *virt_to_page(const void *virt)
{
    return pfn_to_page(virt_to_phys(virt) >> 12);
}

struct phys_stats {
    uint64_t total_pages; /* frames managed by the zones */
    uint64_t free_pages;
};
void phys_get_stats(struct phys_stats *s);
unsigned phys_zone_count(void);
struct buddy_zone *phys_zone(unsigned i);
