/* Per-CPU run queues ordered by virtual runtime. The run-queue lock is held
 * across a context switch and released by the thread switched to (in
 * sched_finish_switch), so a thread is never stolen while its registers are
 * still being saved. Lock order: waitq/mutex locks, then run-queue locks (two
 * at once only when stealing, lower CPU number first). */
#include "core/sched.h"
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/trap.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/thread.h"
#include "core/timer.h"
#include "core/proc.h"
#include "mm/vm.h"
#include "lib/bitops.h"

struct runqueue {
    spinlock_t lock;
    struct rb_root tree;     /* runnable threads, not the current one */
    unsigned nr_queued;
    uint64_t min_vruntime;
    struct thread *current, *idle;
    struct thread *switched_from; /* for sched_finish_switch */
    int kick_after_switch;        /* an idle CPU to kick once the lock is dropped, or NO_KICK */
    volatile bool need_resched;
    bool slice_armed;         /* slice_timer is running for the current thread */
    struct timer slice_timer;
    uint64_t switches, steals, idle_ns, idle_since;
};

static struct runqueue runqueues[MAX_CPUS];
static volatile uint64_t idle_cpu_mask; /* CPUs halted in their idle loop */

static struct runqueue *this_rq(void)
{
    return &runqueues[cpu_current_id()];
}

static void rq_insert(struct runqueue *rq, struct thread *t)
{
    struct rb_node **link = &rq->tree.node, *parent = NULL;
    while (*link) {
        parent = *link;
        struct thread *o = rb_entry(parent, struct thread, rq_node);
        link = t->vruntime < o->vruntime ? &parent->left : &parent->right;
    }
    rb_link(&t->rq_node, parent, link);
    rb_insert_fixup(&rq->tree, &t->rq_node);
    t->queued = true;
    rq->nr_queued++;
}

static void rq_remove(struct runqueue *rq, struct thread *t)
{
    rb_erase(&rq->tree, &t->rq_node);
    t->queued = false;
    rq->nr_queued--;
}

static void rq_update_min_vruntime(struct runqueue *rq)
{
    uint64_t v = UINT64_MAX;
    if (rq->current != rq->idle)
        v = rq->current->vruntime;
    struct rb_node *first = rb_first(&rq->tree);
    if (first) {
        uint64_t f = rb_entry(first, struct thread, rq_node)->vruntime;
        v = f < v ? f : v;
    }
    if (v != UINT64_MAX && v > rq->min_vruntime)
        rq->min_vruntime = v;
}

/* Put a woken or new thread in rq; its vruntime is placed near the queue's
 * minimum so a long sleeper cannot monopolise the CPU when it returns. */
static void rq_place(struct runqueue *rq, struct thread *t, unsigned cpu)
{
    uint64_t floor = rq->min_vruntime > SCHED_SLICE_NS / 2 ? rq->min_vruntime - SCHED_SLICE_NS / 2 : 0;
    if (t->vruntime < floor)
        t->vruntime = floor;
    t->cpu = (int)cpu;
    t->state = THREAD_RUNNABLE;
    rq_insert(rq, t);
}

#define NO_KICK (-1)

/* Called with no run-queue lock held: the kicked CPU's first act is to take
 * its queue's lock, and a VMM may run it at once in place of this vCPU
 * (software emulation does, on a busy host), which would then spin until
 * this vCPU ran again, a host tick later, if the lock were still held. */
static void kick_cpu(int cpu)
{
    if (cpu != NO_KICK && (unsigned)cpu != cpu_current_id())
        lapic_send_ipi(cpus[cpu]->arch.apic_id, VEC_RESCHEDULE);
}

static void account_current(struct runqueue *rq, uint64_t now);
static unsigned pick_cpu(const struct thread *t);

/* After queueing work on `cpu`, decide who should notice. That CPU must
 * reschedule if the new thread should run first, or if its current thread
 * runs without a slice timer (it was alone) and would never be preempted.
 * Otherwise an idle CPU is kicked so it can steal the new thread. Returns
 * the CPU to kick once rq's lock is dropped, or NO_KICK. */
static int rq_after_enqueue(struct runqueue *rq, unsigned cpu, struct thread *t)
{
    account_current(rq, clock_monotonic_ns());
    if (rq->current == rq->idle || !rq->slice_armed ||
        t->vruntime + SCHED_SLICE_NS / 2 < rq->current->vruntime) {
        rq->need_resched = true;
        return (int)cpu;
    }
    uint64_t idle = __atomic_load_n(&idle_cpu_mask, __ATOMIC_RELAXED) & ~(1ull << cpu);
    return idle ? (int)bit_ffs64(idle) : NO_KICK;
}

static void slice_expired(struct timer *tm)
{
    struct runqueue *rq = container_of(tm, struct runqueue, slice_timer);
    rq->slice_armed = false;
    rq->need_resched = true;
}

static void account_current(struct runqueue *rq, uint64_t now)
{
    struct thread *cur = rq->current;
    if (cur == rq->idle || now <= cur->exec_start_ns)
        return;
    uint64_t delta = now - cur->exec_start_ns;
    cur->vruntime += delta;
    cur->runtime_ns += delta;
    cur->exec_start_ns = now;
}

static void schedule_locked(struct runqueue *rq, bool preempted)
{
    struct thread *prev = rq->current;
    uint64_t now = clock_monotonic_ns();
    account_current(rq, now);
    rq->need_resched = false;
    /* A preempted thread stays runnable even if it had just marked itself
     * blocked: it will test its wait condition again, so no wakeup is lost. */
    if (prev != rq->idle && (prev->state == THREAD_RUNNING || (preempted && prev->state == THREAD_BLOCKED)))
        rq_place(rq, prev, cpu_current_id());

    struct thread *next = rq->idle;
    struct rb_node *first = rb_first(&rq->tree);
    if (first) {
        next = rb_entry(first, struct thread, rq_node);
        rq_remove(rq, next);
    }
    next->state = THREAD_RUNNING;
    next->exec_start_ns = now;
    next->cpu = (int)cpu_current_id();
    rq->current = next;
    rq_update_min_vruntime(rq);
    rq->slice_armed = rq->nr_queued && next != rq->idle;
    /* work left queued here while another CPU sleeps: wake it to steal */
    uint64_t idle = __atomic_load_n(&idle_cpu_mask, __ATOMIC_RELAXED) & ~(1ull << cpu_current_id());
    int kick = rq->nr_queued && idle ? (int)bit_ffs64(idle) : NO_KICK;
    if (rq->slice_armed)
        timer_arm(&rq->slice_timer, now + SCHED_SLICE_NS);
    else
        timer_cancel(&rq->slice_timer);

    if (next == prev) {
        spin_unlock_raw(&rq->lock);
        kick_cpu(kick);
        return;
    }
    rq->kick_after_switch = kick;
    rq->switches++;
    next->switches++;
    rq->switched_from = prev;
    this_cpu()->arch.current = next;
    arch_set_kernel_stack(next->stack_top);
    /* a process's thread runs on its space; kernel threads keep the loaded
     * one. prev's process may be gone already: only next's is read. */
    vm_switch_to(NULL, next->proc ? next->proc->vm : NULL);
    if (prev->uarch.fpu || next->uarch.fpu)
        arch_uthread_switch(&prev->uarch, &next->uarch);
    arch_context_switch(&prev->saved_rsp, next->saved_rsp);
    sched_finish_switch();
}

static void schedule_common(bool preempted)
{
    irqflags_t f = irq_save();
    struct runqueue *rq = this_rq();
    spin_lock_raw(&rq->lock);
    schedule_locked(rq, preempted);
    irq_restore(f);
}

void schedule(void)
{
    schedule_common(false);
}

/* sched_yield: give way to the next runnable thread of this CPU even when
 * the caller has had less CPU time (a thread spinning on sched_yield waits
 * for one of them: picking it again would starve them). */
void sched_yield_cpu(void)
{
    irqflags_t f = irq_save();
    struct runqueue *rq = this_rq();
    spin_lock_raw(&rq->lock);
    struct thread *cur = rq->current;
    struct rb_node *first = rb_first(&rq->tree);
    if (first && cur != rq->idle) {
        account_current(rq, clock_monotonic_ns());
        uint64_t next = rb_entry(first, struct thread, rq_node)->vruntime;
        if (cur->vruntime <= next)
            cur->vruntime = next + 1; /* queued behind it */
    }
    schedule_locked(rq, false);
    irq_restore(f);
}

void thread_reap(struct thread *t); /* thread.c */

void sched_finish_switch(void)
{
    struct runqueue *rq = this_rq();
    struct thread *prev = rq->switched_from;
    int kick = rq->kick_after_switch;
    rq->switched_from = NULL;
    rq->kick_after_switch = NO_KICK;
    spin_unlock_raw(&rq->lock);
    kick_cpu(kick);
    if (prev && prev->state == THREAD_DEAD)
        thread_reap(prev);
    else if (prev && prev->migrate_to >= 0) {
        /* prev left a CPU it may no longer use: it is off every queue now */
        prev->cpu = prev->migrate_to;
        prev->migrate_to = -1;
        sched_wake(prev);
    }
}

void sched_migrate_if_needed(void)
{
    struct thread *t = thread_current();
    irqflags_t f = irq_save();
    if (!sched_cpu_allowed(t, cpu_current_id())) {
        t->migrate_to = (int)pick_cpu(t);
        t->state = THREAD_BLOCKED;
        schedule();
    }
    irq_restore(f);
}

/* Interrupt exit: preempt when the slice ran out or a better thread woke,
 * provided the interrupted code had interrupts enabled (then it holds no
 * spinlock and touches no per-CPU data). */
static void sched_irq_exit(struct trap_frame *f)
{
    struct runqueue *rq = this_rq();
    if (rq->need_resched && (f->rflags & RFLAGS_IF) && rq->current)
        schedule_common(true);
}

bool sched_need_resched(void)
{
    return this_rq()->need_resched;
}

static void resched_ipi(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    this_rq()->need_resched = true;
}

bool sched_cpu_allowed(const struct thread *t, unsigned cpu)
{
    if (t->pinned_cpu >= 0)
        return cpu == (unsigned)t->pinned_cpu;
    return !t->allowed_cpus || (t->allowed_cpus >> cpu & 1);
}

static unsigned pick_cpu(const struct thread *t)
{
    unsigned best = cpu_current_id(), best_load = UINT32_MAX;
    for (unsigned c = 0; c < cpu_count; c++) {
        if (!sched_cpu_allowed(t, c))
            continue;
        struct runqueue *rq = &runqueues[c];
        unsigned load = READ_ONCE(rq->nr_queued) + (READ_ONCE(rq->current) != rq->idle);
        if (load < best_load) {
            best = c;
            best_load = load;
        }
    }
    return best;
}

/* Lock the run queue t belongs to, following it if it moves meanwhile. */
static struct runqueue *lock_thread_rq(struct thread *t, unsigned *cpu)
{
    for (;;) {
        unsigned c = (unsigned)READ_ONCE(t->cpu);
        struct runqueue *rq = &runqueues[c];
        spin_lock_raw(&rq->lock);
        if ((unsigned)t->cpu == c) {
            *cpu = c;
            return rq;
        }
        spin_unlock_raw(&rq->lock);
    }
}

void sched_enqueue_new(struct thread *t)
{
    irqflags_t f = irq_save();
    unsigned cpu = t->pinned_cpu >= 0 ? (unsigned)t->pinned_cpu : pick_cpu(t);
    struct runqueue *rq = &runqueues[cpu];
    spin_lock_raw(&rq->lock);
    t->vruntime = rq->min_vruntime;
    rq_place(rq, t, cpu);
    int kick = rq_after_enqueue(rq, cpu, t);
    spin_unlock_raw(&rq->lock);
    kick_cpu(kick);
    irq_restore(f);
}

void sched_wake(struct thread *t)
{
    irqflags_t f = irq_save();
    unsigned cpu;
    struct runqueue *rq = lock_thread_rq(t, &cpu);
    int kick = NO_KICK;
    if (t->state == THREAD_BLOCKED) {
        if (rq->current == t) {
            t->state = THREAD_RUNNING; /* has not switched out yet: cancel the block */
        } else {
            rq_place(rq, t, cpu);
            kick = rq_after_enqueue(rq, cpu, t);
        }
    }
    spin_unlock_raw(&rq->lock);
    kick_cpu(kick);
    irq_restore(f);
}

/* An idle CPU takes the next runnable thread from the busiest other queue. */
static bool sched_steal(void)
{
    unsigned me = cpu_current_id(), victim = me, most = 0;
    for (unsigned c = 0; c < cpu_count; c++) {
        unsigned n = READ_ONCE(runqueues[c].nr_queued);
        if (c != me && n > most) {
            most = n;
            victim = c;
        }
    }
    if (victim == me)
        return false;
    struct runqueue *mine = &runqueues[me], *theirs = &runqueues[victim];
    struct runqueue *first = me < victim ? mine : theirs, *second = me < victim ? theirs : mine;
    spin_lock_raw(&first->lock);
    spin_lock_raw(&second->lock);
    struct thread *t = NULL;
    for (struct rb_node *n = rb_first(&theirs->tree); n; n = rb_next(n)) {
        struct thread *c = rb_entry(n, struct thread, rq_node);
        if (c->pinned_cpu < 0 && sched_cpu_allowed(c, me)) {
            t = c;
            break;
        }
    }
    if (t) {
        rq_remove(theirs, t);
        /* its lead over the queue it leaves (a woken thread may sit below
         * that queue's minimum: no lead, not a negative one) */
        uint64_t lead = t->vruntime > theirs->min_vruntime ? t->vruntime - theirs->min_vruntime : 0;
        t->vruntime = mine->min_vruntime + lead;
        rq_place(mine, t, me);
        mine->steals++;
    }
    spin_unlock_raw(&second->lock);
    spin_unlock_raw(&first->lock);
    return t != NULL;
}

void sched_idle_loop(void)
{
    struct runqueue *rq = this_rq();
    uint64_t me = 1ull << cpu_current_id();
    for (;;) {
        irq_disable();
        if (rq->nr_queued || rq->need_resched || sched_steal()) {
            spin_lock_raw(&rq->lock);
            schedule_locked(rq, false);
            continue;
        }
        __atomic_fetch_or(&idle_cpu_mask, me, __ATOMIC_SEQ_CST);
        /* work queued after the check above comes with an IPI, which the
         * sti;hlt pair cannot miss */
        if (READ_ONCE(rq->nr_queued) == 0 && !rq->need_resched) {
            uint64_t t0 = clock_monotonic_ns();
            irq_enable_and_halt();
            irq_disable();
            rq->idle_ns += clock_monotonic_ns() - t0;
        }
        __atomic_fetch_and(&idle_cpu_mask, ~me, __ATOMIC_SEQ_CST);
    }
}

void sched_init_cpu(struct thread *idle)
{
    struct runqueue *rq = this_rq();
    spin_init(&rq->lock);
    rq->kick_after_switch = NO_KICK;
    rq->tree.node = NULL;
    rq->idle = rq->current = idle;
    idle->state = THREAD_RUNNING;
    idle->cpu = (int)cpu_current_id();
    idle->pinned_cpu = idle->cpu;
    timer_init(&rq->slice_timer, slice_expired);
    this_cpu()->arch.current = idle;
}

void sched_init(void)
{
    trap_set_irq_handler(VEC_RESCHEDULE, resched_ipi, NULL);
    trap_set_irq_exit_hook(sched_irq_exit);
}

void sched_get_cpu_stats(unsigned cpu, struct sched_cpu_stats *s)
{
    struct runqueue *rq = &runqueues[cpu];
    s->switches = rq->switches;
    s->idle_ns = rq->idle_ns;
    s->steals = rq->steals;
    s->runnable = rq->nr_queued;
}
