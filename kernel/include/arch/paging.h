/* Page tables: the kernel's map, the direct map of RAM, device and firmware
 * windows, and the applications' lower halves: one root (PML4) per address
 * space, sharing the kernel's upper half (the paging_root_* and paging_user_*
 * functions). */
#pragma once

#include "arch/spinlock.h"
#include "lib/list.h"
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
/* Software bit (ignored by the MMU): a non-present user leaf that still owns its
 * page, made inaccessible by mprotect(PROT_NONE). */
#define PTE_SW_PROTNONE (1ull << 9)
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

/* ---- Roots: one per address space ----
 * Entries 0-255 (the lower half) belong to the root; entries 256-511 are the
 * kernel's, copied from the kernel's root when the root is made. The kernel
 * rarely adds a top-level entry later (paging_map far into KVIRT); when it
 * does, the entry is written into every root on the list as well, so all
 * roots always agree on the upper half. */
struct paging_root {
    uint64_t pml4;          /* physical address of the top table */
    spinlock_t lock;        /* the lower half's tables */
    struct list_node link;  /* on the list of roots (upper-half updates) */
};

/* A new root with an empty lower half. 0 or -ENOMEM. */
int paging_root_init(struct paging_root *r);
/* Free the top table. The lower half must be empty (paging_user_unmap of
 * everything first) and no CPU may have r loaded. */
void paging_root_release(struct paging_root *r);
/* Load r into CR3 on this CPU (NULL: the kernel's root). Interrupts off. */
void paging_root_load(const struct paging_root *r);

/* ---- The application half [0, USER_TOP) of a root ----
 * Leaves are 4 KiB (level 1) or 2 MiB (level 2). A leaf is "present" (the MMU
 * uses it) or "protnone" (PTE_SW_PROTNONE, not present, still holds a page).
 * All functions serialise on the root's spinlock, so they are safe against
 * faults being resolved on other CPUs; none flushes any TLB (arch/tlb.h):
 * the caller does, before it frees what the callbacks handed it. */
#define PAGING_LEVEL_4K 1
#define PAGING_LEVEL_2M 2

/* PTE bits for a user leaf of `pa`: present, user, writable when `write`, NX
 * unless `exec` (when the CPU has NX); for level 2 also PTE_LARGE. */
uint64_t paging_user_pte(uint64_t pa, bool write, bool exec, int level);
/* The same leaf made inaccessible (PROT_NONE) but keeping its page. */
uint64_t paging_user_protnone(uint64_t pte);
static inline bool paging_pte_is_leaf(uint64_t pte)
{
    return pte & (PTE_PRESENT | PTE_SW_PROTNONE);
}

struct paging_leaf {
    uint64_t pte;      /* raw entry */
    uint64_t phys;     /* physical address of the page (4 KiB or 2 MiB base) */
    uintptr_t va;      /* virtual base of the leaf */
    int level;         /* 0: nothing mapped, else PAGING_LEVEL_* */
    bool present, writable, exec, dirty, accessed, protnone;
};
/* Describe the leaf covering va; returns its level (0 when none). */
int paging_user_lookup(struct paging_root *r, uintptr_t va, struct paging_leaf *out);

/* Install a leaf at va (aligned to its level). Creates page tables. A leaf
 * already there is replaced and its old value stored in *old (else 0). For
 * level 2, -EEXIST when a page table already covers the 2 MiB. -ENOMEM when a
 * table page cannot be allocated. */
int paging_user_map(struct paging_root *r, uintptr_t va, uint64_t pte, int level, uint64_t *old);
/* True when nothing at all (leaf or table) covers the 2 MiB block at va. */
bool paging_user_block_empty(struct paging_root *r, uintptr_t va);
/* If a 2 MiB leaf covers va and va is not on its boundary, split it into 512
 * 4 KiB leaves with the same bits. 0 or -ENOMEM. */
int paging_user_split(struct paging_root *r, uintptr_t va);
/* Split the 2 MiB leaf covering va, wherever va is in it (copy on write of
 * one 4 KiB page of it). 0 (also when there is none) or -ENOMEM. */
int paging_user_split_leaf(struct paging_root *r, uintptr_t va);

/* Unmap callback: a removed leaf (level 1/2, old pte value; return false to
 * stop after it) or, with level 0, a page-table page that is now empty (pte =
 * its physical address): return true to have it unlinked and take it over
 * (free it after the TLB flush), false to keep it in place. */
typedef bool (*paging_unmap_fn)(void *ctx, uintptr_t va, uint64_t pte, int level);
/* Remove every leaf in [start, end) and free emptied table pages through fn.
 * Stores where it stopped in *next (end when done). 2 MiB leaves only partly
 * inside are split first. 0 or -ENOMEM (split failed; nothing after *next done). */
int paging_user_unmap(struct paging_root *r, uintptr_t start, uintptr_t end, paging_unmap_fn fn,
                      void *ctx, uintptr_t *next);

/* Update callback: returns the new value for a leaf (return pte unchanged to
 * leave it). May be called again if the MMU set accessed/dirty meanwhile. */
typedef uint64_t (*paging_update_fn)(void *ctx, uintptr_t va, uint64_t pte, int level);
/* Rewrite leaves in [start, end); 2 MiB leaves only partly inside are split. */
int paging_user_update(struct paging_root *r, uintptr_t start, uintptr_t end, paging_update_fn fn,
                       void *ctx);

/* Read-only walk over leaves intersecting [start, end) (a 2 MiB leaf is
 * reported once, with its own base va). Return false to stop. */
typedef bool (*paging_walk_fn)(void *ctx, uintptr_t va, uint64_t pte, int level);
void paging_user_walk(struct paging_root *r, uintptr_t start, uintptr_t end, paging_walk_fn fn,
                      void *ctx);
/* Make sure tables down to `level` exist for va (so a later paging_user_map
 * at that level cannot fail). 0 or -ENOMEM. */
int paging_user_prepare(struct paging_root *r, uintptr_t va, int level);

/* Copy callback (fork): for the source leaf `pte`, return the leaf the copy
 * gets at the same place (0: none) and set *clear to bits to take out of the
 * source leaf (PTE_WRITE for copy on write). Called once per leaf; its page
 * table in the copy already exists, so the result is always installed. */
typedef uint64_t (*paging_copy_fn)(void *ctx, uintptr_t va, uint64_t pte, int level, uint64_t *clear);
/* Give dst (an empty range there) the leaves fn makes from src's leaves in
 * [start, end), same levels (2 MiB leaves only partly inside are split in src
 * first). Takes src's lock, then dst's, and stops after a few hundred leaves
 * (call again from *next, which is end when done). 0 or -ENOMEM (the leaves
 * done so far are in dst; the caller unmaps them). */
int paging_user_copy(struct paging_root *dst, struct paging_root *src, uintptr_t start, uintptr_t end,
                     paging_copy_fn fn, void *ctx, uintptr_t *next);
