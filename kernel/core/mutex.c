/* Sleeping mutex with direct hand-off to the first waiter. */
#include "core/mutex.h"
#include "core/panic.h"
#include "core/sched.h"
#include "core/thread.h"

struct mutex_waiter {
    struct list_node link;
    struct thread *thread;
};

void mutex_init(struct mutex *m)
{
    spin_init(&m->lock);
    m->owner = NULL;
    list_init(&m->waiters);
}

void mutex_lock(struct mutex *m)
{
    struct thread *me = thread_current();
    irqflags_t f = spin_lock(&m->lock);
    if (!m->owner) {
        m->owner = me;
        spin_unlock(&m->lock, f);
        return;
    }
    if (m->owner == me)
        panic("mutex_lock: %s (tid %u) already holds this mutex", me->name, me->tid);
    struct mutex_waiter w = { .thread = me };
    list_add_tail(&m->waiters, &w.link);
    while (m->owner != me) {
        me->state = THREAD_BLOCKED;
        spin_unlock_raw(&m->lock);
        schedule(); /* interrupts stay off until we hold the lock again */
        spin_lock_raw(&m->lock);
    }
    spin_unlock(&m->lock, f);
}

bool mutex_trylock(struct mutex *m)
{
    irqflags_t f = spin_lock(&m->lock);
    bool got = !m->owner;
    if (got)
        m->owner = thread_current();
    spin_unlock(&m->lock, f);
    return got;
}

void mutex_unlock(struct mutex *m)
{
    irqflags_t f = spin_lock(&m->lock);
    if (m->owner != thread_current())
        panic("mutex_unlock: the mutex is not held by %s", thread_current()->name);
    struct list_node *n = list_pop_head(&m->waiters);
    if (n) {
        struct mutex_waiter *w = list_entry(n, struct mutex_waiter, link);
        m->owner = w->thread; /* hand off: nobody can barge in between */
        thread_wake(w->thread);
    } else {
        m->owner = NULL;
    }
    spin_unlock(&m->lock, f);
}

bool mutex_held_by_me(struct mutex *m)
{
    return READ_ONCE(m->owner) == thread_current();
}
