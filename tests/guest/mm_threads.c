/* Guest test: memory and threads. Threads on every CPU fault in their own
 * parts of one mapping at once and read each other's; a page replaced with
 * MAP_FIXED, or made read-only, is seen as such by the other threads at once
 * (their TLBs were shot down).
 * osprey: cpus=4 memory=256M timeout=60 */
#include "check.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PG 4096ul
#define THREADS 4
#define PAGES 512 /* per thread */

static uint64_t *region;
static pthread_barrier_t barrier;
static atomic_int wrong;

static void *toucher(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < PAGES; i++)
        region[(me * PAGES + i) * (PG / 8)] = ((uint64_t)me << 32) | i;
    pthread_barrier_wait(&barrier);
    unsigned other = (me + 1) % THREADS;
    for (unsigned i = 0; i < PAGES; i++)
        if (region[(other * PAGES + i) * (PG / 8)] != (((uint64_t)other << 32) | i))
            atomic_fetch_add(&wrong, 1);
    return NULL;
}

static void parallel_faults(void)
{
    size_t len = THREADS * PAGES * PG;
    region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, toucher, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(region != MAP_FAILED && atomic_load(&wrong) == 0,
          "%d threads fault in %d pages each at once and read each other's (%d wrong)", THREADS, PAGES,
          atomic_load(&wrong));
    munmap(region, len);
}

/* Readers spin on a page; the main thread replaces it. */
static volatile uint64_t *shared_page;
static atomic_ulong generation;
static atomic_int seen[THREADS];
static atomic_bool stop;

static void *reader(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        uint64_t g = atomic_load(&generation);
        if (g && *shared_page == g)
            atomic_store(&seen[me], (int)g);
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool all_saw(unsigned g, unsigned n)
{
    double end = now() + 10;
    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < n; i++)
            all &= atomic_load(&seen[i]) == (int)g;
        if (all)
            return true;
        if (now() > end)
            return false;
        sched_yield();
    }
}

static void replaced_pages(void)
{
    unsigned n = THREADS - 1;
    void *at = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    shared_page = at;
    pthread_t t[THREADS];
    for (unsigned i = 0; i < n; i++)
        pthread_create(&t[i], NULL, reader, (void *)(uintptr_t)i);
    bool ok = true;
    for (unsigned g = 1; g <= 20 && ok; g++) {
        /* a new page at the same address, holding the new generation */
        uint64_t *p = mmap(at, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        ok = p == at;
        *p = g;
        atomic_store(&generation, g);
        ok = ok && all_saw(g, n);
    }
    CHECK(ok, "20 times a page replaced by MAP_FIXED: every reader thread sees the new one");
    atomic_store(&stop, true);
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    munmap(at, PG);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    parallel_faults();
    replaced_pages();
    return check_exit();
}
