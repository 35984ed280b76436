/* Kernel page tables. Built once at boot: the kernel image at KERNEL_VMA with
 * text read-only+executable and everything else non-executable, a direct map of
 * all RAM, and a window (KVIRT) for device registers, firmware tables and
 * kernel stacks with guard pages. Until paging_init switches CR3, the boot page
 * tables map low memory one to one and at KERNEL_VMA. */
#include "arch/paging.h"
#include "arch/cpu.h"
#include "arch/layout.h"
#include "arch/spinlock.h"
#include "core/log.h"
#include "core/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/memmap.h"
#include "mm/phys.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];

static uint64_t kernel_root;                 /* physical address of the PML4 */
static uint64_t (*table_alloc)(void);        /* returns a zeroed page's physical address */
static bool tables_in_direct_map;            /* before paging_init: reach tables at KERNEL_VMA */
static uint64_t pte_nx;                      /* PTE_NX when the CPU has NX */
static spinlock_t paging_lock = SPINLOCK_INIT;
static uintptr_t kvirt_next = KVIRT_BASE;

static uint64_t *table_virt(uint64_t phys)
{
    return tables_in_direct_map ? (uint64_t *)phys_to_virt(phys)
                                : (uint64_t *)(uintptr_t)(phys + KERNEL_VMA);
}

static uint64_t attrs_to_pte(unsigned attrs)
{
    uint64_t pte = PTE_PRESENT;
    if (attrs & MAP_WRITE)
        pte |= PTE_WRITE;
    if (!(attrs & MAP_EXEC))
        pte |= pte_nx;
    if (attrs & MAP_USER)
        pte |= PTE_USER;
    else
        pte |= PTE_GLOBAL;
    if (attrs & MAP_UNCACHED)
        pte |= PTE_PCD | PTE_PWT;
    return pte;
}

/* The entry at `level` (4 = PML4 ... 1 = PT) for va, creating tables on the way. */
static uint64_t *walk_create(uintptr_t va, int level)
{
    uint64_t *table = table_virt(kernel_root);
    for (int l = 4; l > level; l--) {
        uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_PRESENT)) {
            uint64_t t = table_alloc();
            if (!t)
                return NULL;
            /* upper levels stay permissive; leaves decide access */
            *e = t | PTE_PRESENT | PTE_WRITE | ((va < USER_TOP) ? PTE_USER : 0);
        } else if (*e & PTE_LARGE) {
            panic("paging: %#lx is inside a large page at level %d", va, l);
        }
        table = table_virt(*e & PTE_ADDR_MASK);
    }
    return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

int paging_map(uintptr_t va, uint64_t pa, uint64_t size, unsigned attrs)
{
    uint64_t pte = attrs_to_pte(attrs);
    irqflags_t f = spin_lock(&paging_lock);
    while (size) {
        int level = 1;
        uint64_t step = PAGE_SIZE;
        bool large_ok = !(attrs & MAP_NO_LARGE);
        if (large_ok && cpu_features.pdpe1gb && !((va | pa) & (HUGE_PAGE_SIZE - 1)) &&
            size >= HUGE_PAGE_SIZE) {
            level = 3;
            step = HUGE_PAGE_SIZE;
        } else if (large_ok && !((va | pa) & (LARGE_PAGE_SIZE - 1)) && size >= LARGE_PAGE_SIZE) {
            level = 2;
            step = LARGE_PAGE_SIZE;
        }
        uint64_t *e = walk_create(va, level);
        if (!e) {
            spin_unlock(&paging_lock, f);
            return -ENOMEM;
        }
        *e = pa | pte | (level > 1 ? PTE_LARGE : 0);
        va += step;
        pa += step;
        size -= step;
    }
    spin_unlock(&paging_lock, f);
    return 0;
}

static uint64_t *walk_lookup(uintptr_t va, int *level_out)
{
    uint64_t *table = table_virt(kernel_root);
    for (int l = 4; l >= 1; l--) {
        uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_PRESENT))
            return NULL;
        if (l == 1 || (*e & PTE_LARGE)) {
            *level_out = l;
            return e;
        }
        table = table_virt(*e & PTE_ADDR_MASK);
    }
    return NULL;
}

void paging_unmap(uintptr_t va, uint64_t size)
{
    irqflags_t f = spin_lock(&paging_lock);
    for (uintptr_t a = va; a < va + size; a += PAGE_SIZE) {
        int level;
        uint64_t *e = walk_lookup(a, &level);
        if (!e)
            continue;
        if (level != 1)
            panic("paging_unmap: %#lx is mapped by a large page", a);
        *e = 0;
        invlpg(a);
    }
    spin_unlock(&paging_lock, f);
}

uint64_t paging_translate(uintptr_t va)
{
    int level;
    uint64_t *e = walk_lookup(va, &level);
    if (!e)
        return (uint64_t)-1;
    uint64_t page_mask = (1ull << (12 + 9 * (level - 1))) - 1;
    return (*e & PTE_ADDR_MASK & ~page_mask) | (va & page_mask);
}

uintptr_t paging_reserve_kvirt(uint64_t size)
{
    size = ALIGN_UP(size, (uint64_t)PAGE_SIZE);
    uintptr_t va = __atomic_fetch_add(&kvirt_next, size, __ATOMIC_RELAXED);
    if (va + size > KVIRT_BASE + KVIRT_SIZE)
        return 0;
    return va;
}

static void *map_window(uint64_t phys, size_t len, unsigned attrs)
{
    uint64_t start = ALIGN_DOWN(phys, (uint64_t)PAGE_SIZE);
    uint64_t end = ALIGN_UP(phys + (len ? len : 1), (uint64_t)PAGE_SIZE);
    uintptr_t va = paging_reserve_kvirt(end - start);
    if (!va || paging_map(va, start, end - start, attrs | MAP_NO_LARGE) != 0)
        return NULL;
    return (void *)(va + (phys - start));
}

void *paging_map_phys(uint64_t phys, size_t len)
{
    if (!tables_in_direct_map) /* still on the boot tables: low memory is 1:1 */
        return (void *)(uintptr_t)phys;
    /* RAM we manage is in the direct map; firmware memory gets a window. */
    if (pfn_to_page(phys >> 12) && pfn_to_page((phys + len - 1) >> 12))
        return phys_to_virt(phys);
    return map_window(phys, len, MAP_READ);
}

void *paging_map_mmio(uint64_t phys, size_t len)
{
    return map_window(phys, len, MAP_WRITE | MAP_UNCACHED);
}

static void map_or_die(uintptr_t va, uint64_t pa, uint64_t size, unsigned attrs)
{
    if (paging_map(va, pa, size, attrs) != 0)
        panic("paging: out of memory building the kernel page tables");
}

void paging_init(const struct memmap *ram, uint64_t (*alloc_table)(void))
{
    table_alloc = alloc_table;
    if (cpu_features.nx) {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
        pte_nx = PTE_NX;
    }
    kernel_root = alloc_table();
    if (!kernel_root)
        panic("paging: no memory for the kernel page tables");

    /* The kernel image: text R+X, read-only data R, data and bss R+W. */
    uintptr_t text = (uintptr_t)__text_start, rodata = (uintptr_t)__rodata_start;
    uintptr_t data = (uintptr_t)__data_start, end = (uintptr_t)__kernel_end;
    map_or_die(text, text - KERNEL_VMA, ALIGN_UP(rodata - text, PAGE_SIZE), MAP_EXEC | MAP_NO_LARGE);
    map_or_die(rodata, rodata - KERNEL_VMA, data - rodata, MAP_READ | MAP_NO_LARGE);
    map_or_die(data, data - KERNEL_VMA, end - data, MAP_WRITE | MAP_NO_LARGE);

    for (unsigned i = 0; i < ram->n; i++)
        map_or_die(DIRECT_MAP_BASE + ram->r[i].start, ram->r[i].start,
                   ram->r[i].end - ram->r[i].start, MAP_WRITE);

    direct_map_offset = DIRECT_MAP_BASE;
    if (cpu_features.pge)
        write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_WP);
    write_cr3(kernel_root);
    tables_in_direct_map = true;
}

void paging_set_table_allocator(uint64_t (*alloc_table)(void))
{
    table_alloc = alloc_table;
}

void paging_load_kernel_tables(void)
{
    write_cr3(kernel_root);
}

uint64_t paging_kernel_root(void)
{
    return kernel_root;
}
