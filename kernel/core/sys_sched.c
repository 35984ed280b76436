/* Scheduling system calls: CPU affinity (real masks the scheduler obeys),
 * getcpu, scheduling policies (one fair policy: SCHED_OTHER, with the
 * real-time ones accepted and recorded), usage figures, prctl. */
#include "arch/percpu.h"
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/sched.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"

static struct thread *target_thread(int tid)
{
    struct thread *self = thread_current();
    if (tid == 0 || tid == self->utid)
        return self;
    return proc_find_thread(self->proc, tid);
}

static uint64_t online_mask(void)
{
    return cpu_count >= 64 ? ~0ull : (1ull << cpu_count) - 1;
}

long sys_sched_getaffinity(int tid, size_t len, void __user *mask)
{
    struct thread *t = target_thread(tid);
    if (!t)
        return -ESRCH;
    /* the mask must hold every possible CPU, in whole longs, as Linux checks */
    if (len < 8 || (len & 7))
        return -EINVAL;
    uint64_t m = t->allowed_cpus ? t->allowed_cpus & online_mask() : online_mask();
    if (t->pinned_cpu >= 0)
        m = 1ull << t->pinned_cpu;
    if (copy_to_user(mask, &m, 8))
        return -EFAULT;
    return 8; /* bytes of the kernel's mask written (the C library clears the rest) */
}

long sys_sched_setaffinity(int tid, size_t len, const void __user *mask)
{
    struct thread *t = target_thread(tid);
    if (!t)
        return -ESRCH;
    uint64_t m = 0;
    if (copy_from_user(&m, mask, MIN(len, (size_t)8)))
        return -EFAULT;
    m &= online_mask();
    if (!m)
        return -EINVAL;
    t->allowed_cpus = m == online_mask() ? 0 : m;
    if (t == thread_current())
        sched_migrate_if_needed();
    return 0;
}

long sys_getcpu(unsigned __user *cpu, unsigned __user *node, void __user *unused)
{
    (void)unused;
    unsigned c = cpu_current_id();
    if (cpu && put_user_u32(cpu, c))
        return -EFAULT;
    if (node && put_user_u32(node, 0))
        return -EFAULT;
    return 0;
}

#define SCHED_OTHER 0
#define SCHED_FIFO 1
#define SCHED_RR 2
#define SCHED_BATCH 3
#define SCHED_IDLE 5
#define SCHED_DEADLINE 6
#define SCHED_RESET_ON_FORK 0x40000000

struct sched_param_abi { int priority; };

static bool policy_valid(int policy)
{
    policy &= ~SCHED_RESET_ON_FORK;
    return policy == SCHED_OTHER || policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_BATCH ||
           policy == SCHED_IDLE;
}

static bool priority_valid(int policy, int prio)
{
    policy &= ~SCHED_RESET_ON_FORK;
    if (policy == SCHED_FIFO || policy == SCHED_RR)
        return prio >= 1 && prio <= 99;
    return prio == 0;
}

long sys_sched_getscheduler(int tid)
{
    struct thread *t = target_thread(tid);
    if (tid < 0)
        return -EINVAL;
    return t ? t->sched_policy : -ESRCH;
}

long sys_sched_setscheduler(int tid, int policy, const struct sched_param_abi __user *param)
{
    if (tid < 0 || !param)
        return -EINVAL;
    struct thread *t = target_thread(tid);
    if (!t)
        return -ESRCH;
    struct sched_param_abi p;
    if (copy_from_user(&p, param, sizeof(p)))
        return -EFAULT;
    if (!policy_valid(policy) || !priority_valid(policy, p.priority))
        return -EINVAL;
    t->sched_policy = policy & ~SCHED_RESET_ON_FORK;
    t->sched_priority = p.priority;
    return 0;
}

long sys_sched_getparam(int tid, struct sched_param_abi __user *param)
{
    if (tid < 0 || !param)
        return -EINVAL;
    struct thread *t = target_thread(tid);
    if (!t)
        return -ESRCH;
    struct sched_param_abi p = { t->sched_priority };
    return copy_to_user(param, &p, sizeof(p)) ? -EFAULT : 0;
}

long sys_sched_setparam(int tid, const struct sched_param_abi __user *param)
{
    if (tid < 0 || !param)
        return -EINVAL;
    struct thread *t = target_thread(tid);
    if (!t)
        return -ESRCH;
    struct sched_param_abi p;
    if (copy_from_user(&p, param, sizeof(p)))
        return -EFAULT;
    if (!priority_valid(t->sched_policy, p.priority))
        return -EINVAL;
    t->sched_priority = p.priority;
    return 0;
}

long sys_sched_get_priority_max(int policy)
{
    if (!policy_valid(policy))
        return -EINVAL;
    return policy == SCHED_FIFO || policy == SCHED_RR ? 99 : 0;
}

long sys_sched_get_priority_min(int policy)
{
    if (!policy_valid(policy))
        return -EINVAL;
    return policy == SCHED_FIFO || policy == SCHED_RR ? 1 : 0;
}

long sys_sched_rr_get_interval(int tid, struct timespec __user *interval)
{
    if (tid < 0)
        return -EINVAL;
    if (!target_thread(tid))
        return -ESRCH;
    struct timespec ts = ns_to_timespec(SCHED_SLICE_NS);
    return copy_to_user(interval, &ts, sizeof(ts)) ? -EFAULT : 0;
}

/* ---- usage ---- */

struct rusage_abi {
    struct timeval utime, stime;
    int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv,
        nsignals, nvcsw, nivcsw;
};

#define RUSAGE_SELF 0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD 1

static struct timeval ns_to_timeval(uint64_t ns)
{
    return (struct timeval){ (int64_t)(ns / NSEC_PER_SEC), (int64_t)(ns % NSEC_PER_SEC / 1000) };
}

uint64_t thread_cpu_time_ns(const struct thread *t)
{
    uint64_t ns = READ_ONCE(t->runtime_ns);
    /* a thread on a CPU has run since exec_start_ns, not yet added up */
    if (READ_ONCE(t->state) == THREAD_RUNNING) {
        uint64_t start = READ_ONCE(t->exec_start_ns), now = clock_monotonic_ns();
        if (now > start)
            ns += now - start;
    }
    return ns;
}

uint64_t proc_cpu_time_ns(struct proc *p)
{
    uint64_t total = p->dead_threads_ns;
    irqflags_t f = spin_lock(&p->lock);
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next)
        total += thread_cpu_time_ns(list_entry(n, struct thread, proc_link));
    spin_unlock(&p->lock, f);
    return total;
}

long sys_getrusage(int who, struct rusage_abi __user *usage)
{
    struct rusage_abi r;
    memset(&r, 0, sizeof(r));
    struct thread *t = thread_current();
    if (who == RUSAGE_SELF) {
        r.utime = ns_to_timeval(proc_cpu_time_ns(t->proc)); /* no user/system split is kept */
    } else if (who == RUSAGE_THREAD) {
        r.utime = ns_to_timeval(thread_cpu_time_ns(t));
        r.nvcsw = (int64_t)t->switches;
    } else if (who != RUSAGE_CHILDREN) {
        return -EINVAL;
    }
    return copy_to_user(usage, &r, sizeof(r)) ? -EFAULT : 0;
}

struct tms_abi { int64_t utime, stime, cutime, cstime; };

long sys_times(struct tms_abi __user *buf)
{
    uint64_t ticks = proc_cpu_time_ns(proc_current()) / (NSEC_PER_SEC / 100);
    struct tms_abi t = { (int64_t)ticks, 0, 0, 0 };
    if (buf && copy_to_user(buf, &t, sizeof(t)))
        return -EFAULT;
    return (long)(clock_monotonic_ns() / (NSEC_PER_SEC / 100)); /* clock ticks since boot */
}

/* ---- prctl ---- */

#define PR_SET_PDEATHSIG 1
#define PR_GET_PDEATHSIG 2
#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_GET_KEEPCAPS 7
#define PR_SET_KEEPCAPS 8
#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_GET_TIMERSLACK 30
#define PR_SET_TIMERSLACK 29
#define PR_CAPBSET_READ 23
#define PR_SET_CHILD_SUBREAPER 36
#define PR_GET_CHILD_SUBREAPER 37
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39
#define PR_GET_THP_DISABLE 42
#define PR_SET_THP_DISABLE 41
#define PR_CAP_AMBIENT 47
#define PR_SET_VMA 0x53564d41

long sys_prctl(int option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    struct thread *t = thread_current();
    struct proc *p = t->proc;
    (void)a3, (void)a4, (void)a5;
    switch (option) {
    case PR_SET_NAME: {
        char name[16];
        long n = strncpy_from_user(name, (const char __user *)a2, sizeof(name));
        if (n == -EFAULT)
            return -EFAULT;
        name[15] = '\0'; /* longer names are cut, as Linux does */
        strlcpy(t->name, name, 16);
        return 0;
    }
    case PR_GET_NAME: {
        char name[16] = { 0 };
        strlcpy(name, t->name, sizeof(name));
        return copy_to_user((void __user *)a2, name, sizeof(name)) ? -EFAULT : 0;
    }
    case PR_SET_PDEATHSIG:
        if (a2 > 64)
            return -EINVAL;
        p->pdeathsig = (int)a2; /* the parent is the kernel: it never dies first */
        return 0;
    case PR_GET_PDEATHSIG:
        return put_user_u32((void __user *)a2, (uint32_t)p->pdeathsig);
    case PR_GET_DUMPABLE:
        return p->dumpable;
    case PR_SET_DUMPABLE:
        if (a2 > 1)
            return -EINVAL;
        p->dumpable = (int)a2;
        return 0;
    case PR_GET_KEEPCAPS: return p->keepcaps;
    case PR_SET_KEEPCAPS:
        if (a2 > 1)
            return -EINVAL;
        p->keepcaps = (int)a2;
        return 0;
    case PR_CAPBSET_READ: return a2 <= 40 ? 1 : -EINVAL;
    case PR_GET_TIMERSLACK: return 50000;
    case PR_SET_TIMERSLACK: return 0;
    case PR_SET_CHILD_SUBREAPER: return 0;
    case PR_GET_CHILD_SUBREAPER: return put_user_u32((void __user *)a2, 0);
    case PR_SET_NO_NEW_PRIVS:
        if (a2 != 1)
            return -EINVAL;
        p->no_new_privs = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS: return p->no_new_privs;
    case PR_GET_THP_DISABLE: return 0;
    case PR_SET_THP_DISABLE: return 0;
    case PR_SET_VMA: return -EINVAL; /* naming anonymous mappings: not kept */
    default:
        pr_info("prctl: option %d is not supported; returning EINVAL\n", option);
        return -EINVAL;
    }
}

#define MEMBARRIER_CMD_QUERY 0

long sys_membarrier(int cmd, unsigned flags, int cpu)
{
    (void)cpu;
    if (flags)
        return -EINVAL;
    if (cmd == MEMBARRIER_CMD_QUERY)
        return 0; /* no commands: callers fall back to their own barriers */
    return -EINVAL;
}

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3

long sys_ioprio_get(int which, int who)
{
    if (which < IOPRIO_WHO_PROCESS || which > IOPRIO_WHO_USER)
        return -EINVAL;
    (void)who;
    return proc_current()->ioprio;
}

long sys_ioprio_set(int which, int who, int prio)
{
    if (which < IOPRIO_WHO_PROCESS || which > IOPRIO_WHO_USER)
        return -EINVAL;
    (void)who;
    unsigned cls = (unsigned)prio >> 13;
    if (cls > 3)
        return -EINVAL;
    proc_current()->ioprio = prio;
    return 0;
}
