/* Scheduler self-tests: threads reach every CPU, a CPU hog is preempted,
 * equal threads share a CPU fairly, and pinned threads stay put. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/selftest.h"
#include "core/sched.h"
#include "core/thread.h"

static volatile uint64_t cpus_seen;

static void spin_and_record(void *arg)
{
    uint64_t end = clock_monotonic_ns() + (uint64_t)(uintptr_t)arg;
    while (clock_monotonic_ns() < end) {
        irqflags_t f = irq_save();
        __atomic_fetch_or(&cpus_seen, 1ull << cpu_current_id(), __ATOMIC_RELAXED);
        irq_restore(f);
        cpu_pause();
    }
}

static int test_spread(void)
{
    unsigned n = 3 * cpu_count;
    struct thread *t[3 * MAX_CPUS];
    cpus_seen = 0;
    for (unsigned i = 0; i < n; i++)
        t[i] = thread_spawn("spread", spin_and_record, (void *)(uintptr_t)(30 * NSEC_PER_MSEC), -1);
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    uint64_t all = cpu_count == 64 ? ~0ull : (1ull << cpu_count) - 1;
    return selftest_check(cpus_seen == all, "%u unpinned busy threads ran on every CPU (seen %#lx of %#lx)",
                          n, (uint64_t)cpus_seen, all);
}

static volatile bool hog_stop;

static void hog(void *arg)
{
    (void)arg;
    while (!READ_ONCE(hog_stop))
        cpu_pause(); /* never yields, never sleeps */
}

static void stopper(void *arg)
{
    (void)arg;
    hog_stop = true;
}

static int test_preempt(void)
{
    hog_stop = false;
    unsigned cpu = cpu_count - 1;
    uint64_t t0 = clock_monotonic_ns();
    struct thread *h = thread_spawn("hog", hog, NULL, (int)cpu);
    thread_sleep_ns(10 * NSEC_PER_MSEC); /* let the hog own the CPU */
    struct thread *s = thread_spawn("stopper", stopper, NULL, (int)cpu);
    thread_join(s);
    thread_join(h);
    uint64_t ms = (clock_monotonic_ns() - t0) / NSEC_PER_MSEC;
    return selftest_check(true, "a thread pinned beside a CPU hog on cpu%u got to run (%lu ms)", cpu, ms);
}

struct fair_arg {
    volatile bool *stop;
    uint64_t loops;
};

static void fair_worker(void *arg)
{
    struct fair_arg *a = arg;
    while (!READ_ONCE(*a->stop))
        a->loops++;
}

static int test_fairness(void)
{
    volatile bool stop = false;
    struct fair_arg a[3] = { { &stop, 0 }, { &stop, 0 }, { &stop, 0 } };
    struct thread *t[3];
    unsigned cpu = cpu_count - 1;
    for (int i = 0; i < 3; i++)
        t[i] = thread_create("fair", fair_worker, &a[i], (int)cpu);
    for (int i = 0; i < 3; i++)
        thread_start(t[i]);
    thread_sleep_ns(300 * NSEC_PER_MSEC);
    stop = true;
    uint64_t rt[3];
    for (int i = 0; i < 3; i++) {
        rt[i] = t[i]->runtime_ns;
        thread_join(t[i]);
    }
    uint64_t lo = rt[0], hi = rt[0];
    for (int i = 1; i < 3; i++) {
        lo = rt[i] < lo ? rt[i] : lo;
        hi = rt[i] > hi ? rt[i] : hi;
    }
    /* each had ~100 ms; allow a slice and a half of imbalance either way */
    bool ok = lo > 0 && hi - lo <= SCHED_SLICE_NS * 3 / 2 + hi / 5;
    return selftest_check(ok, "3 CPU-bound threads on cpu%u got %lu/%lu/%lu ms of CPU", cpu,
                          rt[0] / NSEC_PER_MSEC, rt[1] / NSEC_PER_MSEC, rt[2] / NSEC_PER_MSEC);
}

static volatile int pinned_wrong;

static void check_pinned(void *arg)
{
    unsigned want = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 200; i++) {
        irqflags_t f = irq_save();
        if (cpu_current_id() != want)
            pinned_wrong++;
        irq_restore(f);
        if (i % 20 == 0)
            thread_yield();
    }
}

static int test_pinned(void)
{
    struct thread *t[MAX_CPUS];
    pinned_wrong = 0;
    for (unsigned c = 0; c < cpu_count; c++)
        t[c] = thread_spawn("pinned", check_pinned, (void *)(uintptr_t)c, (int)c);
    for (unsigned c = 0; c < cpu_count; c++)
        thread_join(t[c]);
    return selftest_check(pinned_wrong == 0, "threads pinned to each of %u CPUs never left them", cpu_count);
}

SELFTEST(sched, "threads spread over all CPUs, a CPU hog is preempted, fairness, pinning", true)
{
    return test_spread() + test_preempt() + test_fairness() + test_pinned();
}
