/* Time self-tests: sleeps are never early and not badly late, timers on every
 * CPU fire in order, cancelled timers stay quiet, the clock never goes back. */
#include "arch/cpu.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "core/timer.h"

/* A VM's vCPU may not run when its timer fires (software emulation, a busy
 * host, more vCPUs than host cores), so single sleeps can be very late; the
 * median must still be well under a scheduler-tick-driven timer's. */
#define MEDIAN_LATE_LIMIT_NS (20 * NSEC_PER_MSEC)
#define WORST_LATE_LIMIT_NS (500 * NSEC_PER_MSEC)
#define SLEEPS_PER_THREAD 4

static volatile int sleeps_early;
static uint64_t lateness[4 * MAX_CPUS * SLEEPS_PER_THREAD];
static volatile unsigned nlateness;

static void sleeper(void *arg)
{
    uint64_t ns = (uint64_t)(uintptr_t)arg;
    for (int i = 0; i < SLEEPS_PER_THREAD; i++) {
        uint64_t t0 = clock_monotonic_ns();
        thread_sleep_ns(ns);
        uint64_t took = clock_monotonic_ns() - t0;
        if (took < ns)
            sleeps_early++;
        lateness[__atomic_fetch_add(&nlateness, 1, __ATOMIC_RELAXED)] = took > ns ? took - ns : 0;
    }
}

static void sort_u64(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

static int test_sleep(void)
{
    static const uint64_t durations_ms[] = { 1, 3, 10, 25 };
    struct thread *t[4 * MAX_CPUS];
    unsigned n = 0;
    sleeps_early = 0;
    nlateness = 0;
    for (unsigned c = 0; c < cpu_count; c++)
        for (unsigned d = 0; d < 4; d++)
            t[n++] = thread_spawn("sleeper", sleeper, (void *)(uintptr_t)(durations_ms[d] * NSEC_PER_MSEC), (int)c);
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    sort_u64(lateness, nlateness);
    uint64_t median = lateness[nlateness / 2], worst = lateness[nlateness - 1];
    return selftest_check(sleeps_early == 0 && median <= MEDIAN_LATE_LIMIT_NS && worst <= WORST_LATE_LIMIT_NS,
                          "%u sleeps of 1-25 ms by %u threads: %d early, lateness median %lu us, worst %lu us",
                          nlateness, n, sleeps_early, median / 1000, worst / 1000);
}

struct ordered_timer {
    struct timer timer;
    uint64_t due, fired_at;
    volatile bool fired;
};

static void ordered_fired(struct timer *tm)
{
    struct ordered_timer *o = container_of(tm, struct ordered_timer, timer);
    o->fired_at = clock_monotonic_ns();
    o->fired = true;
}

static int test_timers(void)
{
    enum { N = 24 };
    static struct ordered_timer o[N];
    uint64_t now = clock_monotonic_ns();
    for (int i = 0; i < N; i++) {
        timer_init(&o[i].timer, ordered_fired);
        o[i].fired = false;
        o[i].due = now + (uint64_t)((i * 7) % N + 1) * NSEC_PER_MSEC; /* armed out of order */
        timer_arm(&o[i].timer, o[i].due);
    }
    bool cancelled_ok = timer_cancel(&o[N - 1].timer);
    thread_sleep_ns((N + 10) * NSEC_PER_MSEC);
    int early = 0, missing = 0;
    for (int i = 0; i < N - 1; i++) {
        missing += !o[i].fired;
        early += o[i].fired && o[i].fired_at < o[i].due;
    }
    return selftest_check(!missing && !early && cancelled_ok && !o[N - 1].fired,
                          "%d timers armed out of order all fired, none early; a cancelled one stayed silent",
                          N - 1);
}

static volatile uint64_t clock_shared;
static volatile int clock_backwards;

static void clock_reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        uint64_t seen = __atomic_load_n(&clock_shared, __ATOMIC_ACQUIRE);
        uint64_t now = clock_monotonic_ns();
        if (now < seen)
            clock_backwards++;
        uint64_t cur = seen;
        while (now > cur && !__atomic_compare_exchange_n(&clock_shared, &cur, now, true,
                                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            ;
    }
}

static int test_clock_monotonic(void)
{
    struct thread *t[MAX_CPUS];
    clock_shared = 0;
    clock_backwards = 0;
    for (unsigned c = 0; c < cpu_count; c++)
        t[c] = thread_spawn("clock", clock_reader, NULL, (int)c);
    for (unsigned c = 0; c < cpu_count; c++)
        thread_join(t[c]);
    return selftest_check(clock_backwards == 0, "the monotonic clock never went back across %u CPUs (%s)",
                          cpu_count, clock_source_name());
}

SELFTEST(time, "sleep accuracy, timer ordering and cancel, clock monotonicity", true)
{
    return test_sleep() + test_timers() + test_clock_monotonic();
}

SELFTEST(sleep1s, "sleep one second (the host checks the wall-clock time)", false)
{
    uint64_t t0 = clock_monotonic_ns();
    thread_sleep_ns(NSEC_PER_SEC);
    uint64_t took = clock_monotonic_ns() - t0;
    return selftest_check(took >= NSEC_PER_SEC, "slept %lu us", took / 1000);
}
