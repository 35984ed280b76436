/* Physical memory ranges at boot: the usable RAM the firmware reported, cleaned
 * up (sorted, merged, page-aligned, overlaps with reserved ranges removed), and a
 * bump allocator over it for what must exist before the page allocator does. */
#pragma once

#include "arch/boot_info.h"
#include "lib/types.h"

#define MEMMAP_MAX_RANGES 160

struct mem_range {
    uint64_t start, end; /* [start, end), page aligned */
};

struct memmap {
    struct mem_range r[MEMMAP_MAX_RANGES];
    unsigned n;
};

/* Usable RAM from the firmware map. Returns 0, or -ENOSPC if it has too many pieces. */
int memmap_build_usable(struct memmap *out, const struct boot_mem_range *in, unsigned count);
/* Take [start, end) out of the set (rounded out to whole pages). */
int memmap_remove(struct memmap *m, uint64_t start, uint64_t end);
/* Allocate `size` bytes aligned to `align` (a power of two >= 4096) below `limit`,
 * from the lowest range that fits. Returns the physical address, or 0 on failure
 * (page 0 is never usable). */
uint64_t memmap_alloc(struct memmap *m, uint64_t size, uint64_t align, uint64_t limit);
uint64_t memmap_total(const struct memmap *m);
