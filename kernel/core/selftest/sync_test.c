/* Synchronisation self-tests: mutexes under contention from every CPU, and
 * wait queues that lose no wakeup. */
#include "core/clock.h"
#include "core/cpu.h"
#include "core/mutex.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/errno.h"

#define MUTEX_ROUNDS 3000

static struct mutex counter_lock;
static volatile uint64_t counter;
static volatile int inside;
static volatile int overlap;

static void mutex_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        mutex_lock(&counter_lock);
        if (__atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST) != 1)
            overlap++;
        uint64_t v = counter; /* a non-atomic update: only the mutex keeps it exact */
        if (i % 64 == 0)
            thread_yield(); /* sometimes give the lock holder's CPU away */
        counter = v + 1;
        __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
        mutex_unlock(&counter_lock);
    }
}

static int test_mutex(void)
{
    mutex_init(&counter_lock);
    counter = 0;
    overlap = 0;
    unsigned n = 2 * cpu_count + 1;
    struct thread *t[2 * MAX_CPUS + 1];
    for (unsigned i = 0; i < n; i++)
        t[i] = thread_spawn("mutex", mutex_worker, NULL, (int)(i % cpu_count));
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    int f = selftest_check(counter == (uint64_t)n * MUTEX_ROUNDS && overlap == 0,
                           "%u threads on %u CPUs: counter %lu of %lu, %d overlaps", n, cpu_count,
                           (uint64_t)counter, (uint64_t)n * MUTEX_ROUNDS, overlap);
    mutex_lock(&counter_lock);
    bool again = mutex_trylock(&counter_lock);
    mutex_unlock(&counter_lock);
    bool free_now = mutex_trylock(&counter_lock);
    if (free_now)
        mutex_unlock(&counter_lock);
    return f + selftest_check(!again && free_now, "trylock fails while held and succeeds once free");
}

static struct waitq ping_wq, pong_wq;
static volatile uint64_t ping, pong;

static void ponger(void *arg)
{
    uint64_t rounds = (uint64_t)(uintptr_t)arg;
    for (uint64_t i = 1; i <= rounds; i++) {
        struct wait_entry e = { 0 };
        for (;;) {
            waitq_prepare(&ping_wq, &e);
            if (READ_ONCE(ping) >= i)
                break;
            waitq_sleep(&e, 0);
        }
        waitq_finish(&ping_wq, &e);
        pong = i;
        waitq_wake_all(&pong_wq);
    }
}

static int test_waitq(void)
{
    const uint64_t rounds = 2000;
    waitq_init(&ping_wq);
    waitq_init(&pong_wq);
    ping = pong = 0;
    struct thread *t = thread_spawn("ponger", ponger, (void *)(uintptr_t)rounds, (int)(cpu_count - 1));
    uint64_t t0 = clock_monotonic_ns();
    for (uint64_t i = 1; i <= rounds; i++) {
        ping = i;
        waitq_wake_all(&ping_wq);
        struct wait_entry e = { 0 };
        for (;;) {
            waitq_prepare(&pong_wq, &e);
            if (READ_ONCE(pong) >= i)
                break;
            waitq_sleep(&e, 0);
        }
        waitq_finish(&pong_wq, &e);
    }
    uint64_t ns = clock_monotonic_ns() - t0;
    thread_join(t);
    int f = selftest_check(pong == rounds, "%lu wait-queue ping-pongs with cpu%u, %lu ns per round trip",
                           rounds, cpu_count - 1, ns / rounds);
    /* a timed wait on a condition that never comes true times out, not early */
    struct wait_entry e = { 0 };
    uint64_t start = clock_monotonic_ns(), deadline = start + 20 * NSEC_PER_MSEC;
    int r = 0;
    for (;;) {
        waitq_prepare(&ping_wq, &e);
        if ((r = waitq_sleep(&e, deadline)) == -ETIMEDOUT)
            break;
    }
    waitq_finish(&ping_wq, &e);
    uint64_t waited = clock_monotonic_ns() - start;
    return f + selftest_check(r == -ETIMEDOUT && waited >= 20 * NSEC_PER_MSEC,
                              "a 20 ms timed wait timed out after %lu us", waited / 1000);
}

SELFTEST(mutex, "mutex contention between CPUs, wait queues", true)
{
    return test_mutex() + test_waitq();
}
