/* Host tests of boot memory-map cleanup and the early bump allocator. */
#include "unit.h"

#include "lib/errno.h"
#include "mm/memmap.h"

static struct memmap mm;

#define R(b, s, t) { (b), (s), (t) }

UNIT_TEST(memmap_sorts_merges_and_aligns)
{
    struct boot_mem_range in[] = {
        R(0x100000, 0x3f00000, BOOT_MEM_USABLE),
        R(0, 0x9fc00, BOOT_MEM_USABLE),          /* end rounds down to 0x9f000 */
        R(0x9fc00, 0x400, BOOT_MEM_RESERVED),
        R(0x4000000, 0x1000, BOOT_MEM_USABLE),   /* touches the first: merged */
        R(0x5000, 0, BOOT_MEM_USABLE),           /* empty: ignored */
        R(0x7000123, 0x2000, BOOT_MEM_USABLE),   /* unaligned start: one page left */
    };
    CHECK_EQ(memmap_build_usable(&mm, in, 6), 0);
    CHECK_EQ(mm.n, 3);
    CHECK_EQ(mm.r[0].start, 0);
    CHECK_EQ(mm.r[0].end, 0x9f000);
    CHECK_EQ(mm.r[1].start, 0x100000);
    CHECK_EQ(mm.r[1].end, 0x4001000);
    CHECK_EQ(mm.r[2].start, 0x7001000);
    CHECK_EQ(mm.r[2].end, 0x7002000);
    CHECK_EQ(memmap_total(&mm), 0x9f000 + 0x3f01000 + 0x1000);
}

UNIT_TEST(memmap_reserved_wins_over_usable)
{
    struct boot_mem_range in[] = {
        R(0x100000, 0x1000000, BOOT_MEM_USABLE),
        R(0x200000, 0x800, BOOT_MEM_ACPI),   /* inside: splits, whole page lost */
        R(0x0, 0x180000, BOOT_MEM_RESERVED), /* overlaps the start */
        R(0x10ff000, 0x10000, BOOT_MEM_NVS), /* overlaps the end */
    };
    CHECK_EQ(memmap_build_usable(&mm, in, 4), 0);
    CHECK_EQ(mm.n, 2);
    CHECK_EQ(mm.r[0].start, 0x180000);
    CHECK_EQ(mm.r[0].end, 0x200000);
    CHECK_EQ(mm.r[1].start, 0x201000);
    CHECK_EQ(mm.r[1].end, 0x10ff000);
}

UNIT_TEST(memmap_hostile_entries)
{
    struct boot_mem_range in[] = {
        R(0xfffffffffffff000ull, 0x10000, BOOT_MEM_USABLE), /* wraps past 2^64 */
        R(0x1000, UINT64_MAX, BOOT_MEM_BAD),                /* huge bad range */
        R(0x500, 0x300, BOOT_MEM_USABLE),                   /* less than a page */
    };
    CHECK_EQ(memmap_build_usable(&mm, in, 3), 0);
    CHECK_EQ(mm.n, 0);
    /* too many fragments is an error, not an overflow */
    static struct boot_mem_range many[MEMMAP_MAX_RANGES + 10];
    for (unsigned i = 0; i < MEMMAP_MAX_RANGES + 10; i++)
        many[i] = (struct boot_mem_range)R(0x100000 + i * 0x2000ull, 0x1000, BOOT_MEM_USABLE);
    CHECK_EQ(memmap_build_usable(&mm, many, MEMMAP_MAX_RANGES + 10), -ENOSPC);
}

UNIT_TEST(memmap_remove_splits)
{
    struct boot_mem_range in[] = { R(0x100000, 0x100000, BOOT_MEM_USABLE) };
    CHECK_EQ(memmap_build_usable(&mm, in, 1), 0);
    CHECK_EQ(memmap_remove(&mm, 0x150800, 0x151001), 0); /* rounds out to 0x150000-0x152000 */
    CHECK_EQ(mm.n, 2);
    CHECK_EQ(mm.r[0].end, 0x150000);
    CHECK_EQ(mm.r[1].start, 0x152000);
    CHECK_EQ(memmap_remove(&mm, 0, 0x110000), 0);
    CHECK_EQ(mm.r[0].start, 0x110000);
    CHECK_EQ(memmap_remove(&mm, 0x0, UINT64_MAX), 0);
    CHECK_EQ(mm.n, 0);
}

UNIT_TEST(memmap_alloc_respects_align_and_limit)
{
    struct boot_mem_range in[] = {
        R(0x1000, 0x9e000, BOOT_MEM_USABLE),
        R(0x100000, 0x7f00000, BOOT_MEM_USABLE),
    };
    CHECK_EQ(memmap_build_usable(&mm, in, 2), 0);
    uint64_t a = memmap_alloc(&mm, 0x1000, 0x1000, UINT64_MAX);
    CHECK_EQ(a, 0x1000);
    uint64_t b = memmap_alloc(&mm, 0x200000, 0x200000, UINT64_MAX);
    CHECK_EQ(b, 0x200000); /* the low range is too small; first 2 MiB boundary above */
    uint64_t total = memmap_total(&mm);
    CHECK_EQ(memmap_alloc(&mm, 0x100000000ull, 0x1000, UINT64_MAX), 0); /* too big */
    CHECK_EQ(memmap_alloc(&mm, 0x1000, 0x1000, 0x1000), 0);             /* under limit: none */
    CHECK_EQ(memmap_total(&mm), total);                                 /* failures take nothing */
    uint64_t c = memmap_alloc(&mm, 0x3000, 0x1000, 0x100000);
    CHECK_EQ(c, 0x2000);
    CHECK(c + 0x3000 <= 0x100000);
}
