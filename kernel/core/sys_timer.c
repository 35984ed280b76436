/* Timers that send signals: setitimer/getitimer/alarm and the POSIX timers
 * (timer_create...). Wall-clock timers are kernel timers; CPU-time timers
 * (ITIMER_VIRTUAL/PROF, CPU clocks) poll the process's CPU time, firing
 * within a few milliseconds of the moment it is reached. */
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/timer.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define CLOCK_TAI 11
#define TIMER_ABSTIME 1
#define SIGEV_SIGNAL 0
#define SIGEV_NONE 1
#define SIGEV_THREAD 2
#define SIGEV_THREAD_ID 4
#define CPU_POLL_NS (4 * NSEC_PER_MSEC)
#define MAX_POSIX_TIMERS 1024

struct ptimer {
    struct timer t;
    struct proc *proc;
    int id;
    int clock;
    bool cpu_clock;          /* expires counts process CPU time */
    uint64_t expires;        /* on its clock (ns); 0 = disarmed */
    uint64_t interval;
    int signo, notify, tid;
    uint64_t value;
    int overrun, last_overrun;
    struct list_node link;
};

struct itimerspec_abi { struct timespec interval, value; };
struct itimerval_abi { struct timeval interval, value; };
struct sigevent_abi {
    uint64_t value;
    int32_t signo, notify;
    int32_t tid;
    int32_t pad[11];
};

static uint64_t clock_now(const struct ptimer *pt)
{
    if (pt->cpu_clock)
        return proc_cpu_time_ns(pt->proc);
    return pt->clock == CLOCK_REALTIME || pt->clock == CLOCK_REALTIME_ALARM || pt->clock == CLOCK_TAI
               ? clock_realtime_ns()
               : clock_monotonic_ns();
}

/* Arm the kernel timer for the next look at this timer's clock. */
static void ptimer_schedule(struct ptimer *pt)
{
    uint64_t now = clock_now(pt), mono = clock_monotonic_ns();
    uint64_t wait = pt->expires > now ? pt->expires - now : 0;
    if (pt->cpu_clock)
        wait = MIN(wait, CPU_POLL_NS); /* CPU time may run faster or slower than the wall clock */
    timer_arm(&pt->t, mono + wait);
}

static void ptimer_fire(struct timer *t)
{
    struct ptimer *pt = container_of(t, struct ptimer, t);
    if (!pt->expires)
        return;
    uint64_t now = clock_now(pt);
    if (now < pt->expires) {
        ptimer_schedule(pt);
        return;
    }
    int overrun = 0;
    if (pt->interval) {
        uint64_t missed = (now - pt->expires) / pt->interval;
        overrun = (int)MIN(missed, (uint64_t)INT32_MAX);
        pt->expires += (missed + 1) * pt->interval;
    } else {
        pt->expires = 0;
    }
    pt->last_overrun = overrun;
    if (pt->notify != SIGEV_NONE) {
        struct siginfo_abi info;
        memset(&info, 0, sizeof(info));
        info.signo = pt->signo;
        info.code = pt->id >= 0 ? SI_TIMER_CODE : SI_KERNEL_CODE;
        info.timer.tid = pt->id;
        info.timer.overrun = overrun;
        info.timer.value = pt->value;
        if (pt->notify == SIGEV_THREAD_ID)
            signal_send_tid(pt->proc, pt->tid, pt->signo, &info);
        else
            signal_send(pt->proc, NULL, pt->signo, &info);
    }
    if (pt->expires)
        ptimer_schedule(pt);
}

static void ptimer_set(struct ptimer *pt, uint64_t value_ns, uint64_t interval_ns, bool absolute)
{
    timer_cancel(&pt->t);
    pt->interval = interval_ns;
    if (!value_ns) {
        pt->expires = 0;
        return;
    }
    pt->expires = absolute ? value_ns : clock_now(pt) + value_ns;
    ptimer_schedule(pt);
}

static void ptimer_get(struct ptimer *pt, uint64_t *left, uint64_t *interval)
{
    uint64_t now = clock_now(pt);
    *left = pt->expires ? (pt->expires > now ? pt->expires - now : 1) : 0;
    *interval = pt->interval;
}

/* ---- setitimer / getitimer / alarm ---- */

static struct ptimer *itimer(int which)
{
    struct proc *p = proc_current();
    struct ptimer **slot = &p->itimers[which];
    if (!*slot) {
        struct ptimer *pt = kzalloc(sizeof(*pt));
        if (!pt)
            return NULL;
        pt->proc = p;
        pt->id = -1;
        pt->clock = which == ITIMER_REAL ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
        pt->cpu_clock = which != ITIMER_REAL;
        pt->signo = which == ITIMER_REAL ? SIGALRM : which == ITIMER_VIRTUAL ? SIGVTALRM : SIGPROF;
        pt->notify = SIGEV_SIGNAL;
        timer_init(&pt->t, ptimer_fire);
        if (__atomic_compare_exchange_n(slot, &(struct ptimer *){ NULL }, pt, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE) == false)
            kfree(pt);
    }
    return *slot;
}

static uint64_t tv_ns(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * NSEC_PER_SEC + (uint64_t)tv->tv_usec * 1000;
}

static struct timeval ns_tv(uint64_t ns)
{
    /* a running timer never reads as zero: round up to a microsecond */
    return (struct timeval){ (int64_t)(ns / NSEC_PER_SEC), (int64_t)DIV_ROUND_UP(ns % NSEC_PER_SEC, 1000) };
}

long sys_getitimer(int which, struct itimerval_abi __user *cur)
{
    if (which < ITIMER_REAL || which > ITIMER_PROF)
        return -EINVAL;
    struct ptimer *pt = itimer(which);
    if (!pt)
        return -ENOMEM;
    uint64_t left, interval;
    ptimer_get(pt, &left, &interval);
    struct itimerval_abi v = { ns_tv(interval), ns_tv(left) };
    if (v.value.tv_usec == 1000000)
        v.value.tv_sec++, v.value.tv_usec = 0;
    return copy_to_user(cur, &v, sizeof(v)) ? -EFAULT : 0;
}

long sys_setitimer(int which, const struct itimerval_abi __user *nv, struct itimerval_abi __user *old)
{
    if (which < ITIMER_REAL || which > ITIMER_PROF)
        return -EINVAL;
    struct itimerval_abi v;
    memset(&v, 0, sizeof(v));
    if (nv && copy_from_user(&v, nv, sizeof(v)))
        return -EFAULT;
    if (v.value.tv_usec < 0 || v.value.tv_usec >= 1000000 || v.interval.tv_usec < 0 ||
        v.interval.tv_usec >= 1000000 || v.value.tv_sec < 0 || v.interval.tv_sec < 0)
        return -EINVAL;
    if (old) {
        long e = sys_getitimer(which, old);
        if (e)
            return e;
    }
    struct ptimer *pt = itimer(which);
    if (!pt)
        return -ENOMEM;
    ptimer_set(pt, tv_ns(&v.value), tv_ns(&v.interval), false);
    return 0;
}

long sys_alarm(unsigned seconds)
{
    struct ptimer *pt = itimer(ITIMER_REAL);
    if (!pt)
        return -ENOMEM;
    uint64_t left, interval;
    ptimer_get(pt, &left, &interval);
    ptimer_set(pt, (uint64_t)seconds * NSEC_PER_SEC, 0, false);
    /* the seconds left, rounded to nearest, at least 1 if one was pending */
    unsigned s = (unsigned)((left + NSEC_PER_SEC / 2) / NSEC_PER_SEC);
    return left && !s ? 1 : s;
}

/* ---- POSIX timers ---- */

static struct ptimer *ptimer_lookup(struct proc *p, int id)
{
    struct ptimer *found = NULL;
    irqflags_t f = spin_lock(&p->lock);
    for (struct list_node *n = p->ptimers.next; n != &p->ptimers; n = n->next) {
        struct ptimer *pt = list_entry(n, struct ptimer, link);
        if (pt->id == id) {
            found = pt;
            break;
        }
    }
    spin_unlock(&p->lock, f);
    return found;
}

static bool clock_ok_for_timer(int clk, bool *cpu)
{
    *cpu = false;
    if (clk < 0) { /* a process or thread CPU clock: timed on the process's time */
        *cpu = true;
        return (clk & 7) != 7;
    }
    switch (clk) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM: case CLOCK_TAI:
        return true;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
        *cpu = true;
        return true;
    default:
        return false;
    }
}

long sys_timer_create(int clk, const struct sigevent_abi __user *uev, int __user *uid)
{
    struct proc *p = proc_current();
    bool cpu;
    if (!clock_ok_for_timer(clk, &cpu))
        return -EINVAL;
    struct sigevent_abi ev = { .signo = SIGALRM, .notify = SIGEV_SIGNAL };
    if (uev && copy_from_user(&ev, uev, sizeof(ev)))
        return -EFAULT;
    if (ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_NONE && ev.notify != SIGEV_THREAD_ID)
        return -EINVAL; /* SIGEV_THREAD is the C library's, built on SIGEV_THREAD_ID */
    if (ev.notify != SIGEV_NONE && (ev.signo < 1 || ev.signo > NSIG))
        return -EINVAL;
    if (ev.notify == SIGEV_THREAD_ID && !proc_find_thread(p, ev.tid))
        return -EINVAL;
    struct ptimer *pt = kzalloc(sizeof(*pt));
    if (!pt)
        return -ENOMEM;
    pt->proc = p;
    pt->clock = clk;
    pt->cpu_clock = cpu;
    pt->signo = ev.signo;
    pt->notify = ev.notify;
    pt->tid = ev.tid;
    timer_init(&pt->t, ptimer_fire);
    irqflags_t f = spin_lock(&p->lock);
    if (p->nptimers >= MAX_POSIX_TIMERS) {
        spin_unlock(&p->lock, f);
        kfree(pt);
        return -EAGAIN;
    }
    pt->id = p->next_ptimer_id++;
    pt->value = uev ? ev.value : (uint64_t)pt->id; /* the default sigev_value is the timer id */
    list_add_tail(&p->ptimers, &pt->link);
    p->nptimers++;
    spin_unlock(&p->lock, f);
    if (put_user_u32(uid, (uint32_t)pt->id)) {
        f = spin_lock(&p->lock);
        list_remove(&pt->link);
        p->nptimers--;
        spin_unlock(&p->lock, f);
        kfree(pt);
        return -EFAULT;
    }
    return 0;
}

long sys_timer_settime(int id, int flags, const struct itimerspec_abi __user *nv, struct itimerspec_abi __user *old)
{
    struct ptimer *pt = ptimer_lookup(proc_current(), id);
    if (!pt)
        return -EINVAL;
    struct itimerspec_abi v;
    if (copy_from_user(&v, nv, sizeof(v)))
        return -EFAULT;
    if (!timespec_valid(&v.value) || !timespec_valid(&v.interval))
        return -EINVAL;
    if (old) {
        uint64_t left, interval;
        ptimer_get(pt, &left, &interval);
        struct itimerspec_abi o = { ns_to_timespec(interval), ns_to_timespec(left) };
        if (copy_to_user(old, &o, sizeof(o)))
            return -EFAULT;
    }
    ptimer_set(pt, timespec_to_ns(&v.value), timespec_to_ns(&v.interval), flags & TIMER_ABSTIME);
    return 0;
}

long sys_timer_gettime(int id, struct itimerspec_abi __user *cur)
{
    struct ptimer *pt = ptimer_lookup(proc_current(), id);
    if (!pt)
        return -EINVAL;
    uint64_t left, interval;
    ptimer_get(pt, &left, &interval);
    struct itimerspec_abi o = { ns_to_timespec(interval), ns_to_timespec(left) };
    return copy_to_user(cur, &o, sizeof(o)) ? -EFAULT : 0;
}

long sys_timer_getoverrun(int id)
{
    struct ptimer *pt = ptimer_lookup(proc_current(), id);
    return pt ? pt->last_overrun : -EINVAL;
}

long sys_timer_delete(int id)
{
    struct proc *p = proc_current();
    struct ptimer *pt = ptimer_lookup(p, id);
    if (!pt)
        return -EINVAL;
    irqflags_t f = spin_lock(&p->lock);
    list_remove(&pt->link);
    p->nptimers--;
    spin_unlock(&p->lock, f);
    pt->expires = 0;
    timer_cancel(&pt->t); /* waits for a callback in progress */
    kfree(pt);
    return 0;
}

/* The process is gone (exit) or replaced (exec): its POSIX timers go, and at
 * exit its interval timers too. */
void proc_timers_release(struct proc *p, bool keep_itimers)
{
    for (;;) {
        irqflags_t f = spin_lock(&p->lock);
        struct ptimer *pt = NULL;
        if (!list_empty(&p->ptimers)) {
            pt = list_entry(list_pop_head(&p->ptimers), struct ptimer, link);
            p->nptimers--;
        }
        spin_unlock(&p->lock, f);
        if (!pt)
            break;
        pt->expires = 0;
        timer_cancel(&pt->t); /* waits for a callback in progress */
        kfree(pt);
    }
    for (int i = 0; i < 3 && !keep_itimers; i++) {
        struct ptimer *pt = p->itimers[i];
        p->itimers[i] = NULL;
        if (pt) {
            pt->expires = 0;
            timer_cancel(&pt->t);
            kfree(pt);
        }
    }
}
