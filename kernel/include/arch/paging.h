/* Page tables: the kernel's map, the direct map of RAM, device and firmware
 * windows. One address space; these functions edit the kernel's half. */
#pragma once

#include "lib/types.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_USER (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_ACCESSED (1ull << 5)
#define PTE_DIRTY (1ull << 6)
#define PTE_LARGE (1ull << 7)
#define PTE_GLOBAL (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

/* Mapping attributes callers ask for; translated into PTE bits. */
#define MAP_READ 0x0
#define MAP_WRITE 0x1
#define MAP_EXEC 0x2
#define MAP_USER 0x4
#define MAP_UNCACHED 0x8
#define MAP_NO_LARGE 0x10 /* force 4 KiB pages */

/* Map [va, va+size) to [pa, pa+size), using 1 GiB / 2 MiB pages where both
 * addresses are aligned (unless MAP_NO_LARGE). Returns 0 or -ENOMEM. */
int paging_map(uintptr_t va, uint64_t pa, uint64_t size, unsigned attrs);
/* Remove 4 KiB mappings in [va, va+size) and flush them from this CPU's TLB. */
void paging_unmap(uintptr_t va, uint64_t size);
/* Physical address va maps to, or -1 if unmapped. */
uint64_t paging_translate(uintptr_t va);

/* A readable kernel pointer to physical memory that is not necessarily RAM
 * (ACPI tables, the MP table, the EBDA); valid for the kernel's lifetime. */
void *paging_map_phys(uint64_t phys, size_t len);
/* Uncached mapping of device registers. NULL when out of address space. */
void *paging_map_mmio(uint64_t phys, size_t len);
/* Reserve `size` bytes of kernel virtual address space (page aligned, never reused). */
uintptr_t paging_reserve_kvirt(uint64_t size);

/* Boot: build the kernel's page tables (kernel image with W^X, direct map of
 * `ram` ranges) using `alloc_table` for table pages, and switch to them. */
struct memmap;
void paging_init(const struct memmap *ram, uint64_t (*alloc_table)(void));
/* After the page allocator runs, table pages come from it. */
void paging_set_table_allocator(uint64_t (*alloc_table)(void));
/* Load the kernel page tables on a secondary CPU. */
void paging_load_kernel_tables(void);
uint64_t paging_kernel_root(void);
