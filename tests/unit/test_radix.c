/* Host tests of the radix tree behind ramfs file pages: sparse indices up to
 * 2^64-1, ordered iteration, removal freeing its nodes (checked by counting
 * allocations), against a simple reference model. */
#include "unit.h"
#include <string.h>

#include "fs/radix.h"
#include "lib/errno.h"

static long live_nodes;

void *kzalloc(size_t n)
{
    live_nodes++;
    return calloc(1, n);
}

void kfree(const void *p)
{
    if (p)
        live_nodes--;
    free((void *)p);
}

#define ITEM(i) ((void *)(uintptr_t)(((i) << 1) | 1))

UNIT_TEST(radix_sparse_insert_lookup)
{
    struct radix r = RADIX_INIT;
    static const uint64_t idx[] = { 0, 1, 63, 64, 4095, 4096, 1ull << 30, (1ull << 51) + 7, UINT64_MAX - 1, UINT64_MAX };
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
        CHECK_EQ(radix_insert(&r, idx[i], ITEM(i)), 0);
    CHECK_EQ(radix_insert(&r, 64, ITEM(99)), -EEXIST);
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
        CHECK(radix_lookup(&r, idx[i]) == ITEM(i));
    CHECK(radix_lookup(&r, 2) == NULL);
    CHECK(radix_lookup(&r, 1ull << 31) == NULL);
    uint64_t at;
    void *item;
    size_t n = 0;
    for (uint64_t start = 0; radix_next(&r, start, &at, &item); start = at + 1) {
        CHECK_EQ(at, idx[n]);
        CHECK(item == ITEM(n));
        n++;
        if (at == UINT64_MAX)
            break;
    }
    CHECK_EQ(n, sizeof(idx) / sizeof(idx[0]));
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
        CHECK(radix_remove(&r, idx[i]) == ITEM(i));
    CHECK_EQ(live_nodes, 0);
    CHECK(!radix_next(&r, 0, &at, &item));
    radix_destroy(&r);
}

UNIT_TEST(radix_against_model)
{
    struct radix r = RADIX_INIT;
    static bool present[20000];
    uint32_t seed = 12345;
    for (int step = 0; step < 60000; step++) {
        seed = seed * 1103515245 + 12345;
        uint64_t i = (seed >> 8) % 20000;
        if (present[i]) {
            CHECK(radix_remove(&r, i) == ITEM(i));
            present[i] = false;
        } else {
            CHECK_EQ(radix_insert(&r, i, ITEM(i)), 0);
            present[i] = true;
        }
    }
    uint64_t at;
    void *item;
    for (uint64_t i = 0; i < 20000; i += 97) {
        CHECK((radix_lookup(&r, i) != NULL) == present[i]);
        uint64_t expect = i;
        while (expect < 20000 && !present[expect])
            expect++;
        bool found = radix_next(&r, i, &at, &item);
        CHECK(found == (expect < 20000));
        if (found)
            CHECK_EQ(at, expect);
    }
    radix_destroy(&r);
    CHECK_EQ(live_nodes, 0);
}
