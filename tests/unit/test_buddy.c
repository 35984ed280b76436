/* Host tests of the buddy allocator: splitting, coalescing, alignment,
 * exhaustion, fragmentation, bad frees, and a random model check. */
#include "unit.h"
#include <setjmp.h>

#include "mm/buddy.h"

extern int unit_expect_panic;
extern jmp_buf unit_panic_jmp;

#define ZONE_PAGES 4096 /* 16 MiB */
static struct page pages[ZONE_PAGES];
static struct buddy_zone z;

static void zone_fresh(uint64_t base_pfn, uint64_t npages)
{
    buddy_zone_init(&z, base_pfn, npages, pages);
    buddy_release_range(&z, base_pfn, npages);
}

UNIT_TEST(buddy_release_builds_max_blocks)
{
    zone_fresh(0x100, ZONE_PAGES);
    CHECK_EQ(z.free_pages, ZONE_PAGES);
    CHECK_EQ(z.free_count[BUDDY_MAX_ORDER], ZONE_PAGES / 1024 - 1 + 0); /* 0x100 is not 4 MiB aligned */
    /* an unaligned base gets smaller leading blocks: 0x100 is aligned to order 8 */
    CHECK(z.free_count[8] >= 1);
}

UNIT_TEST(buddy_alloc_alignment_and_split)
{
    zone_fresh(0, ZONE_PAGES);
    CHECK_EQ(z.free_count[BUDDY_MAX_ORDER], ZONE_PAGES / 1024);
    struct page *p = buddy_alloc(&z, 0);
    CHECK(p != NULL);
    /* splitting one 4 MiB block leaves one free block at each lower order */
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++)
        CHECK_EQ(z.free_count[k], 1);
    CHECK_EQ(z.free_pages, ZONE_PAGES - 1);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        struct page *q = buddy_alloc(&z, k);
        CHECK(q != NULL);
        CHECK_EQ(buddy_page_pfn(&z, q) % (1u << k), 0);
        CHECK_EQ(q->order, k);
        buddy_free(&z, q, k);
    }
    buddy_free(&z, p, 0);
    CHECK_EQ(z.free_pages, ZONE_PAGES);
    CHECK_EQ(z.free_count[BUDDY_MAX_ORDER], ZONE_PAGES / 1024); /* fully coalesced */
}

UNIT_TEST(buddy_exhaustion)
{
    zone_fresh(0, 64);
    struct page *got[64];
    for (int i = 0; i < 64; i++) {
        got[i] = buddy_alloc(&z, 0);
        CHECK(got[i] != NULL);
    }
    CHECK(buddy_alloc(&z, 0) == NULL);
    CHECK(buddy_alloc(&z, 3) == NULL);
    CHECK(buddy_alloc(&z, BUDDY_MAX_ORDER + 1) == NULL);
    CHECK_EQ(z.free_pages, 0);
    for (int i = 0; i < 64; i++)
        buddy_free(&z, got[i], 0);
    CHECK_EQ(z.free_pages, 64);
    CHECK_EQ(z.free_count[6], 1);
}

UNIT_TEST(buddy_fragmentation)
{
    /* Free every other page: plenty of memory, but no block of order 1. */
    zone_fresh(0, 256);
    struct page *got[256];
    for (int i = 0; i < 256; i++)
        got[i] = buddy_alloc(&z, 0);
    for (int i = 0; i < 256; i += 2)
        buddy_free(&z, got[i], 0);
    CHECK_EQ(z.free_pages, 128);
    CHECK(buddy_alloc(&z, 1) == NULL);
    struct page *one = buddy_alloc(&z, 0);
    CHECK(one != NULL);
    buddy_free(&z, one, 0);
    /* freeing the odd pages heals everything back into one block */
    for (int i = 1; i < 256; i += 2)
        buddy_free(&z, got[i], 0);
    CHECK_EQ(z.free_count[8], 1);
    CHECK(buddy_alloc(&z, 8) != NULL);
}

UNIT_TEST(buddy_odd_zone_never_merges_past_end)
{
    /* 100 pages from frame 7: blocks must stay inside [7, 107) */
    zone_fresh(7, 100);
    uint64_t total = 0;
    struct page *p;
    while ((p = buddy_alloc(&z, 0)) != NULL) {
        uint64_t pfn = buddy_page_pfn(&z, p);
        CHECK(pfn >= 7 && pfn < 107);
        total++;
    }
    CHECK_EQ(total, 100);
}

UNIT_TEST(buddy_bad_frees_panic)
{
    zone_fresh(0, 64);
    struct page *p = buddy_alloc(&z, 2);
    buddy_free(&z, p, 2);
    unit_expect_panic = 1;
    volatile int panicked = 0;
    if (setjmp(unit_panic_jmp) == 0)
        buddy_free(&z, p, 2); /* double free */
    else
        panicked++;
    struct page *volatile q = buddy_alloc(&z, 0);
    if (buddy_page_pfn(&z, q) % 2 == 0)
        q = buddy_alloc(&z, 0); /* its buddy: an odd frame */
    CHECK_EQ(buddy_page_pfn(&z, q) % 2, 1);
    if (setjmp(unit_panic_jmp) == 0)
        buddy_free(&z, q, 1); /* an odd frame cannot head an order-1 block */
    else
        panicked++;
    if (setjmp(unit_panic_jmp) == 0)
        buddy_free(&z, &pages[ZONE_PAGES - 1], 0); /* outside the zone */
    else
        panicked++;
    unit_expect_panic = 0;
    CHECK_EQ(panicked, 3);
}

UNIT_TEST(buddy_random_model)
{
    /* Random allocs/frees checked against a model of which frames are taken. */
    enum { N = 2048 };
    static unsigned char taken[N];
    static struct { struct page *p; unsigned order; } live[4096];
    int nlive = 0;
    zone_fresh(0, N);
    unsigned seed = 42;
    for (int step = 0; step < 40000; step++) {
        seed = seed * 1664525 + 1013904223;
        if ((seed >> 28) < 9 && nlive < 4096) {
            unsigned order = (seed >> 8) % 6;
            struct page *p = buddy_alloc(&z, order);
            if (!p)
                continue;
            uint64_t pfn = buddy_page_pfn(&z, p);
            CHECK_EQ(pfn % (1u << order), 0);
            for (unsigned i = 0; i < (1u << order); i++) {
                CHECK(!taken[pfn + i]);
                taken[pfn + i] = 1;
            }
            live[nlive].p = p;
            live[nlive++].order = order;
        } else if (nlive) {
            int i = (int)((seed >> 4) % (unsigned)nlive);
            uint64_t pfn = buddy_page_pfn(&z, live[i].p);
            for (unsigned k = 0; k < (1u << live[i].order); k++)
                taken[pfn + k] = 0;
            buddy_free(&z, live[i].p, live[i].order);
            live[i] = live[--nlive];
        }
        uint64_t used = 0;
        if (step % 1000 == 0) {
            for (int k = 0; k < N; k++)
                used += taken[k];
            CHECK_EQ(z.free_pages, N - used);
        }
    }
    while (nlive) {
        nlive--;
        buddy_free(&z, live[nlive].p, live[nlive].order);
    }
    CHECK_EQ(z.free_pages, N);
    CHECK_EQ(z.free_count[BUDDY_MAX_ORDER], N / 1024);
}
