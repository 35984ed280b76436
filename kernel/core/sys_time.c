/* Time system calls: every Linux clock, sleeps (interruptible by signals),
 * and setting the wall clock. The vDSO answers the common reads in ring 3;
 * these are what it falls back to. */
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/thread.h"
#include "core/waitq.h"
#include "exec/vdso.h"
#include "lib/errno.h"
#include "lib/string.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define CLOCK_TAI 11
#define TIMER_ABSTIME 1

/* A clock's current value, or -EINVAL. Negative ids are the CPU-time clocks
 * of a process or thread (clock_getcpuclockid, pthread_getcpuclockid). */
static int clock_read(int clk, uint64_t *ns)
{
    struct thread *t = thread_current();
    if (clk < 0) {
        int id = ~(clk >> 3);
        if ((clk & 7) == 7)
            return -EINVAL; /* a file-descriptor clock (posix_clock): none exist */
        if (clk & 4) {
            struct thread *o = id == 0 ? t : proc_find_thread(t->proc, id);
            if (!o)
                return -EINVAL;
            *ns = thread_cpu_time_ns(o);
        } else {
            if (id != 0 && id != t->proc->pid)
                return -EINVAL;
            *ns = proc_cpu_time_ns(t->proc);
        }
        return 0;
    }
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
        *ns = clock_realtime_ns();
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
        *ns = clock_monotonic_ns();
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID:
        *ns = proc_cpu_time_ns(t->proc);
        return 0;
    case CLOCK_THREAD_CPUTIME_ID:
        *ns = thread_cpu_time_ns(t);
        return 0;
    default:
        return -EINVAL;
    }
}

long sys_clock_gettime(int clk, struct timespec __user *tp)
{
    uint64_t ns;
    int e = clock_read(clk, &ns);
    if (e)
        return e;
    struct timespec ts = ns_to_timespec(ns);
    return copy_to_user(tp, &ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_clock_getres(int clk, struct timespec __user *res)
{
    uint64_t ns;
    int e = clock_read(clk, &ns);
    if (e)
        return e;
    bool coarse = clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE;
    struct timespec ts = { 0, coarse ? 4000000 : 1 };
    if (res && copy_to_user(res, &ts, sizeof(ts)))
        return -EFAULT;
    return 0;
}

long sys_clock_settime(int clk, const struct timespec __user *tp)
{
    struct timespec ts;
    if (copy_from_user(&ts, tp, sizeof(ts)))
        return -EFAULT;
    if (!timespec_valid(&ts))
        return -EINVAL;
    if (clk != CLOCK_REALTIME)
        return -EINVAL;
    clock_set_realtime_ns(timespec_to_ns(&ts));
    vdso_update_realtime();
    return 0;
}

struct timezone_abi { int minuteswest, dsttime; };

long sys_gettimeofday(struct timeval __user *tv, struct timezone_abi __user *tz)
{
    if (tv) {
        uint64_t ns = clock_realtime_ns();
        struct timeval v = { (int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC / 1000) };
        if (copy_to_user(tv, &v, sizeof(v)))
            return -EFAULT;
    }
    if (tz) {
        struct timezone_abi z = { 0, 0 };
        if (copy_to_user(tz, &z, sizeof(z)))
            return -EFAULT;
    }
    return 0;
}

long sys_settimeofday(const struct timeval __user *tv, const struct timezone_abi __user *tz)
{
    (void)tz; /* the kernel's time zone is always UTC */
    if (!tv)
        return 0;
    struct timeval v;
    if (copy_from_user(&v, tv, sizeof(v)))
        return -EFAULT;
    if (v.tv_sec < 0 || v.tv_usec < 0 || v.tv_usec >= 1000000)
        return -EINVAL;
    clock_set_realtime_ns((uint64_t)v.tv_sec * NSEC_PER_SEC + (uint64_t)v.tv_usec * 1000);
    vdso_update_realtime();
    return 0;
}

long sys_time(int64_t __user *t)
{
    int64_t s = (int64_t)(clock_realtime_ns() / NSEC_PER_SEC);
    if (t && copy_to_user(t, &s, sizeof(s)))
        return -EFAULT;
    return s;
}

/* Sleep until the monotonic deadline; -EINTR when a signal interrupts. */
int thread_sleep_intr_until(uint64_t deadline)
{
    struct waitq wq;
    waitq_init(&wq);
    struct wait_entry e = { 0 };
    int r = 0;
    for (;;) {
        waitq_prepare(&wq, &e);
        if (clock_monotonic_ns() >= deadline)
            break;
        int s = waitq_sleep_intr(&e, deadline);
        if (s == -EINTR) {
            r = -EINTR;
            break;
        }
    }
    waitq_finish(&wq, &e);
    return r;
}

static long do_nanosleep(int clk, int flags, const struct timespec __user *req, struct timespec __user *rem)
{
    struct timespec ts;
    if (copy_from_user(&ts, req, sizeof(ts)))
        return -EFAULT;
    if (!timespec_valid(&ts))
        return -EINVAL;
    uint64_t now_clk;
    int e = clock_read(clk, &now_clk);
    if (e)
        return e;
    if (clk == CLOCK_THREAD_CPUTIME_ID)
        return -EINVAL;
    uint64_t want = timespec_to_ns(&ts), now = clock_monotonic_ns(), deadline;
    if (flags & TIMER_ABSTIME)
        deadline = now + (want > now_clk ? want - now_clk : 0);
    else
        deadline = now + want;
    if (thread_sleep_intr_until(deadline) == 0)
        return 0;
    if (rem && !(flags & TIMER_ABSTIME)) {
        uint64_t after = clock_monotonic_ns();
        struct timespec left = ns_to_timespec(after < deadline ? deadline - after : 0);
        if (copy_to_user(rem, &left, sizeof(left)))
            return -EFAULT;
    }
    return -EINTR;
}

long sys_nanosleep(const struct timespec __user *req, struct timespec __user *rem)
{
    return do_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}

long sys_clock_nanosleep(int clk, int flags, const struct timespec __user *req, struct timespec __user *rem)
{
    if (flags & ~TIMER_ABSTIME)
        return -EINVAL;
    return do_nanosleep(clk, flags, req, rem);
}
