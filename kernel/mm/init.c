/* mm_init: from the firmware memory map to a running page allocator and
 * kmalloc. Early allocations (page tables, struct page arrays) come from a bump
 * allocator over free RAM; whatever is left goes to the buddy zones. */
#include "mm/mm.h"
#include "arch/boot_info.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/system.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "mm/vm.h"

extern char __kernel_start[], __kernel_end[];

static struct memmap mm_ram;   /* all usable RAM */
static struct memmap mm_free;  /* what is still unallocated during boot */
uint64_t mm_low_page;          /* a page below 1 MiB reserved for SMP start-up code */

#define EARLY_TABLE_LIMIT 0x80000000ull /* reachable through the boot KERNEL_VMA map */

static uint64_t early_table_alloc(void)
{
    uint64_t p = memmap_alloc(&mm_free, PAGE_SIZE, PAGE_SIZE, EARLY_TABLE_LIMIT);
    if (p)
        memset((void *)(uintptr_t)(p + KERNEL_VMA), 0, PAGE_SIZE);
    return p;
}

static uint64_t buddy_table_alloc(void)
{
    void *v = page_alloc_zeroed(0);
    return v ? virt_to_phys(v) : 0;
}

/* Too little memory shows first here: a kernel whose bss runs past the end
 * of RAM, or an initrd the VMM put where the bss lies (QEMU does when the VM
 * has too little memory for both), wiped when the bss was cleared. Say so
 * instead of failing strangely later. */
static void mm_check_initrd_placement(void)
{
    uint64_t k0 = (uintptr_t)__kernel_start - KERNEL_VMA, k1 = (uintptr_t)__kernel_end - KERNEL_VMA;
    bool kernel_fits = false;
    for (unsigned i = 0; i < mm_ram.n; i++)
        kernel_fits |= mm_ram.r[i].start <= k0 && k1 <= mm_ram.r[i].end;
    if (!kernel_fits)
        system_fail("mm: the kernel image (%#lx-%#lx) does not fit in the VM's RAM: give it more memory (-m)", k0, k1);
    uint64_t i0 = boot_info.initrd_base, i1 = i0 + boot_info.initrd_size;
    if (boot_info.initrd_size && i0 < k1 && k0 < i1) {
        pr_err("mm: the VMM loaded the initrd (%#lx-%#lx) over the kernel image (%#lx-%#lx): "
               "the VM needs more memory (-m)\n", i0, i1, k0, k1);
        boot_info.initrd_size = 0;
    }
}

static void mm_reserve_boot_ranges(void)
{
    memmap_remove(&mm_free, 0, PAGE_SIZE); /* page 0: keep NULL+small offsets unmapped in spirit */
    memmap_remove(&mm_free, (uintptr_t)__kernel_start - KERNEL_VMA,
                  (uintptr_t)__kernel_end - KERNEL_VMA);
    if (boot_info.initrd_size)
        memmap_remove(&mm_free, boot_info.initrd_base, boot_info.initrd_base + boot_info.initrd_size);
    mm_check_initrd_placement();
}

static void mm_create_zones(void)
{
    for (unsigned i = 0; i < mm_ram.n; i++) {
        uint64_t npages = (mm_ram.r[i].end - mm_ram.r[i].start) >> PAGE_SHIFT;
        uint64_t bytes = ALIGN_UP(npages * sizeof(struct page), (uint64_t)PAGE_SIZE);
        uint64_t arr = memmap_alloc(&mm_free, bytes, PAGE_SIZE, UINT64_MAX);
        if (!arr)
            panic("mm: no memory for the page descriptors of %#lx-%#lx", mm_ram.r[i].start,
                  mm_ram.r[i].end);
        phys_add_zone(mm_ram.r[i].start >> PAGE_SHIFT, npages, phys_to_virt(arr));
    }
    for (unsigned i = 0; i < mm_free.n; i++)
        phys_release_range(mm_free.r[i].start, mm_free.r[i].end);
}

void mm_init(void)
{
    if (memmap_build_usable(&mm_ram, boot_info.memmap, boot_info.memmap_count) != 0)
        panic("mm: the firmware memory map has more than %d usable pieces", MEMMAP_MAX_RANGES);
    if (mm_ram.n == 0)
        panic("mm: the firmware memory map has no usable RAM");
    mm_free = mm_ram;
    mm_reserve_boot_ranges();
    mm_low_page = memmap_alloc(&mm_free, 4 * PAGE_SIZE, PAGE_SIZE, 0x100000);

    paging_init(&mm_ram, early_table_alloc);
    mm_create_zones();
    paging_set_table_allocator(buddy_table_alloc);
    kmalloc_init();
    vm_init();

    struct phys_stats st;
    phys_get_stats(&st);
    pr_info("mm: %lu KiB RAM in %u ranges, %lu KiB free after boot allocations\n",
            memmap_total(&mm_ram) >> 10, mm_ram.n, st.free_pages * 4);
}

uint64_t mm_total_ram(void)
{
    return memmap_total(&mm_ram);
}
