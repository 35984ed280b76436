/* A fake physical memory for host tests of the page allocator and kmalloc:
 * an aligned host buffer standing in for RAM at a chosen physical address. */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "mm/phys.h"

struct mm_arena {
    void *mem;
    uint64_t phys_base, size;
    struct page *pages;
};

/* Only one arena per process: the page allocator's zone table is global. */
static inline void mm_arena_create(struct mm_arena *a, uint64_t phys_base, uint64_t size)
{
    a->phys_base = phys_base;
    a->size = size;
    a->mem = aligned_alloc(4096, size);
    memset(a->mem, 0xa5, size);
    direct_map_offset = (uintptr_t)a->mem - phys_base;
    a->pages = calloc(size / 4096, sizeof(struct page));
    phys_add_zone(phys_base >> 12, size >> 12, a->pages);
    phys_release_range(phys_base, phys_base + size);
}
