/* Host tests of kmalloc: size classes, alignment, large allocations, reuse,
 * exhaustion, bad frees, and several threads playing CPUs with private caches. */
#include "unit.h"
#include <pthread.h>
#include <setjmp.h>

#include "mm/kmalloc.h"
#include "mm_arena.h"

extern int unit_expect_panic;
extern jmp_buf unit_panic_jmp;
extern __thread unsigned unit_cpu_id;

static struct mm_arena arena;

static void setup(void)
{
    static int done;
    if (!done) {
        mm_arena_create(&arena, 0x40000000, 32ull << 20);
        kmalloc_init();
        done = 1;
    }
}

static uint64_t free_pages(void)
{
    struct phys_stats s;
    phys_get_stats(&s);
    return s.free_pages;
}

UNIT_TEST(kmalloc_sizes_and_alignment)
{
    setup();
    for (size_t size = 0; size <= 9000; size += (size < 300 ? 1 : 37)) {
        unsigned char *p = kmalloc(size);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        size_t usable = kmalloc_usable_size(p);
        CHECK(usable >= size);
        memset(p, 0x5a, size);
        kfree(p);
    }
    CHECK_EQ(kmalloc_usable_size(kmalloc(17)), 32); /* leaks one object on purpose */
    void *big = kmalloc(3 * 4096 + 1);               /* 4 pages: order 2 */
    CHECK_EQ(kmalloc_usable_size(big), 4 * 4096);
    CHECK_EQ((uintptr_t)big % 4096, 0);
    kfree(big);
    kfree(NULL);
}

UNIT_TEST(kmalloc_objects_do_not_overlap)
{
    setup();
    enum { N = 3000 };
    static unsigned char *ptrs[N];
    static size_t sizes[N];
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        sizes[i] = 1 + (seed >> 16) % 2500;
        ptrs[i] = kmalloc(sizes[i]);
        CHECK(ptrs[i] != NULL);
        memset(ptrs[i], (unsigned char)i, sizes[i]);
    }
    for (int i = 0; i < N; i++) {
        int ok = 1;
        for (size_t k = 0; k < sizes[i]; k++)
            ok &= ptrs[i][k] == (unsigned char)i;
        CHECK(ok);
        kfree(ptrs[i]);
    }
}

UNIT_TEST(kmalloc_returns_pages_when_empty)
{
    setup();
    uint64_t before = free_pages();
    enum { N = 5000 };
    static void *ptrs[N];
    for (int i = 0; i < N; i++)
        ptrs[i] = kmalloc(64);
    CHECK(free_pages() < before - 70); /* 5000 * 64 B = 78 pages of slabs */
    for (int i = 0; i < N; i++)
        kfree(ptrs[i]);
    /* everything but one spare slab per class comes back */
    CHECK(free_pages() >= before - 1);
}

UNIT_TEST(kmalloc_exhaustion_then_recovery)
{
    setup();
    static void *ptrs[20000];
    int n = 0;
    void *p;
    while (n < 20000 && (p = kmalloc(2048)) != NULL)
        ptrs[n++] = p;
    CHECK(n > 1000 && n < 20000); /* 32 MiB arena runs out */
    CHECK(kmalloc(100000) == NULL);
    CHECK(kmalloc(1ull << 40) == NULL);
    CHECK(kcalloc(1ull << 62, 16) == NULL); /* overflow */
    while (n)
        kfree(ptrs[--n]);
    p = kmalloc(100000);
    CHECK(p != NULL);
    kfree(p);
}

UNIT_TEST(kmalloc_bad_free_panics)
{
    setup();
    char *p = kmalloc(100);
    char local;
    volatile int panicked = 0;
    unit_expect_panic = 1;
    if (setjmp(unit_panic_jmp) == 0)
        kfree(p + 8); /* interior pointer */
    else
        panicked++;
    if (setjmp(unit_panic_jmp) == 0)
        kfree(&local); /* not heap at all */
    else
        panicked++;
    unit_expect_panic = 0;
    CHECK_EQ(panicked, 2);
    kfree(p);
}

static struct kmalloc_cpu_cache caches[4];

static void *cpu_worker(void *arg)
{
    unit_cpu_id = (unsigned)(uintptr_t)arg;
    static __thread void *mine[500];
    unsigned seed = unit_cpu_id + 1;
    for (int round = 0; round < 200; round++) {
        int n = 0;
        for (int i = 0; i < 500; i++) {
            seed = seed * 1103515245 + 12345;
            size_t size = 8 + (seed >> 20) % 600;
            mine[n] = kmalloc(size);
            if (!mine[n])
                return (void *)1;
            memset(mine[n], (int)unit_cpu_id, size);
            n++;
        }
        for (int i = 0; i < n; i++) {
            if (*(unsigned char *)mine[i] != unit_cpu_id)
                return (void *)2;
            kfree(mine[i]);
        }
    }
    return NULL;
}

UNIT_TEST(kmalloc_per_cpu_caches_threads)
{
    setup();
    for (unsigned i = 0; i < 4; i++)
        kmalloc_cpu_attach(i, &caches[i]);
    pthread_t t[4];
    for (unsigned i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, cpu_worker, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < 4; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        CHECK(ret == NULL);
    }
    for (unsigned i = 0; i < 4; i++) {
        kmalloc_cpu_drain(i);
        kmalloc_cpu_attach(i, NULL);
    }
    struct kmalloc_class_stats st[KMALLOC_NCLASSES];
    uint64_t large;
    kmalloc_get_stats(st, &large);
    uint64_t used = 0;
    for (int i = 0; i < KMALLOC_NCLASSES; i++)
        used += st[i].objects_used;
    CHECK(used <= 2); /* only the objects earlier tests leaked on purpose */
    CHECK_EQ(large, 0);
}
