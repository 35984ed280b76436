/* Wait queues (see waitq.h for the protocol). */
#include "core/waitq.h"
#include "arch/cpu.h"
#include "core/clock.h"
#include "core/sched.h"
#include "core/thread.h"
#include "lib/errno.h"

void waitq_init(struct waitq *wq)
{
    spin_init(&wq->lock);
    list_init(&wq->waiters);
}

void waitq_prepare(struct waitq *wq, struct wait_entry *e)
{
    struct thread *t = thread_current();
    irqflags_t f = spin_lock(&wq->lock);
    if (!e->thread) { /* first round: not queued yet */
        e->thread = t;
        list_init(&e->link);
    }
    if (list_empty(&e->link))
        list_add_tail(&wq->waiters, &e->link);
    t->state = THREAD_BLOCKED;
    spin_unlock(&wq->lock, f);
}

int waitq_sleep(struct wait_entry *e, uint64_t deadline_ns)
{
    struct thread *t = e->thread;
    irqflags_t f = irq_save();
    if (deadline_ns) {
        if (clock_monotonic_ns() >= deadline_ns) {
            t->state = THREAD_RUNNING;
            irq_restore(f);
            return -ETIMEDOUT;
        }
        timer_arm(&t->sleep_timer, deadline_ns);
    }
    schedule();
    irq_restore(f);
    if (deadline_ns) {
        timer_cancel(&t->sleep_timer);
        if (clock_monotonic_ns() >= deadline_ns)
            return -ETIMEDOUT;
    }
    return 0;
}

int waitq_sleep_intr(struct wait_entry *e, uint64_t deadline_ns)
{
    struct thread *t = e->thread;
    __atomic_store_n(&t->sleep_interruptible, true, __ATOMIC_SEQ_CST);
    int r = -EINTR;
    if (!__atomic_load_n(&t->interrupted, __ATOMIC_SEQ_CST))
        r = waitq_sleep(e, deadline_ns);
    __atomic_store_n(&t->sleep_interruptible, false, __ATOMIC_SEQ_CST);
    if (r == 0 && __atomic_load_n(&t->interrupted, __ATOMIC_SEQ_CST))
        r = -EINTR;
    return r;
}

void waitq_finish(struct waitq *wq, struct wait_entry *e)
{
    irqflags_t f = spin_lock(&wq->lock);
    if (e->thread == thread_current() && !list_empty(&e->link))
        list_remove(&e->link);
    thread_current()->state = THREAD_RUNNING;
    spin_unlock(&wq->lock, f);
    e->thread = NULL;
}

static void waitq_wake(struct waitq *wq, bool all)
{
    irqflags_t f = spin_lock(&wq->lock);
    while (!list_empty(&wq->waiters)) {
        struct wait_entry *e = list_entry(list_pop_head(&wq->waiters), struct wait_entry, link);
        thread_wake(e->thread);
        if (!all)
            break;
    }
    spin_unlock(&wq->lock, f);
}

void waitq_wake_one(struct waitq *wq) { waitq_wake(wq, false); }
void waitq_wake_all(struct waitq *wq) { waitq_wake(wq, true); }
