/* Thread lifecycle. A thread's struct lives until it has both exited and been
 * joined (two references); its stack is freed as soon as it has switched out
 * for the last time. */
#include "core/thread.h"
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/sched.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

static uint32_t thread_next_tid = 1;

struct thread *thread_current(void)
{
    return (struct thread *)arch_this_cpu()->current;
}

static void sleep_timer_fired(struct timer *tm)
{
    thread_wake(container_of(tm, struct thread, sleep_timer));
}

/* Fields every thread needs, including idle threads on their boot stacks. */
void thread_init_struct(struct thread *t, const char *name, int cpu)
{
    memset(t, 0, sizeof(*t));
    strlcpy(t->name, name, sizeof(t->name));
    t->tid = __atomic_fetch_add(&thread_next_tid, 1, __ATOMIC_RELAXED);
    t->pinned_cpu = cpu;
    t->migrate_to = -1;
    signal_thread_init(t);
    t->cpu = cpu >= 0 ? cpu : 0;
    t->state = THREAD_NEW;
    t->refs = 2;
    waitq_init(&t->exit_wq);
    timer_init(&t->sleep_timer, sleep_timer_fired);
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
    return thread_create_reserve(name, fn, arg, cpu, 0);
}

struct thread *thread_create_reserve(const char *name, void (*fn)(void *), void *arg, int cpu,
                                     size_t reserve)
{
    if (cpu >= (int)cpu_count)
        return NULL;
    struct thread *t = kmalloc(sizeof(*t));
    if (!t)
        return NULL;
    thread_init_struct(t, name, cpu);
    t->stack_size = THREAD_STACK_SIZE;
    t->stack_top = kstack_alloc(t->stack_size);
    if (!t->stack_top) {
        kfree(t);
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->saved_rsp = arch_thread_stack_init(t->stack_top - ALIGN_UP(reserve, (size_t)16), fn, arg);
    return t;
}

void thread_destroy_unstarted(struct thread *t)
{
    BUG_ON(t->state != THREAD_NEW);
    if (t->uarch.fpu)
        arch_uthread_destroy(&t->uarch);
    kstack_free(t->stack_top, t->stack_size);
    kfree(t);
}

void thread_start(struct thread *t)
{
    BUG_ON(t->state != THREAD_NEW);
    sched_enqueue_new(t);
}

struct thread *thread_spawn(const char *name, void (*fn)(void *), void *arg, int cpu)
{
    struct thread *t = thread_create(name, fn, arg, cpu);
    if (t)
        thread_start(t);
    return t;
}

/* First code a new thread runs (from arch_thread_trampoline). */
void thread_first_run(void (*fn)(void *), void *arg);
void thread_first_run(void (*fn)(void *), void *arg)
{
    sched_finish_switch();
    irq_enable();
    fn(arg);
    thread_exit(0);
}

static void thread_put(struct thread *t)
{
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        kfree(t);
}

/* Called once the dead thread has switched out for good. */
void thread_reap(struct thread *t);
void thread_reap(struct thread *t)
{
    if (t->uarch.fpu)
        arch_uthread_destroy(&t->uarch);
    if (t->stack_size)
        kstack_free(t->stack_top, t->stack_size);
    thread_put(t);
}

void thread_exit(int code)
{
    struct thread *t = thread_current();
    t->exit_code = code;
    irq_disable();
    timer_cancel(&t->sleep_timer);
    t->state = THREAD_DEAD;
    waitq_wake_all(&t->exit_wq);
    schedule();
    panic("thread %s (tid %u) ran after exiting", t->name, t->tid);
}

void thread_detach(struct thread *t)
{
    thread_put(t);
}

int thread_join(struct thread *t)
{
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&t->exit_wq, &e);
        if (READ_ONCE(t->state) == THREAD_DEAD)
            break;
        waitq_sleep(&e, 0);
    }
    waitq_finish(&t->exit_wq, &e);
    int code = t->exit_code;
    thread_put(t);
    return code;
}

void thread_yield(void)
{
    sched_yield_cpu();
}

void thread_wake(struct thread *t)
{
    sched_wake(t);
}

void thread_sleep_until(uint64_t deadline_ns)
{
    struct thread *t = thread_current();
    while (clock_monotonic_ns() < deadline_ns) {
        irqflags_t f = irq_save();
        t->state = THREAD_BLOCKED;
        timer_arm(&t->sleep_timer, deadline_ns);
        schedule();
        irq_restore(f);
    }
    timer_cancel(&t->sleep_timer);
}

void thread_sleep_ns(uint64_t ns)
{
    thread_sleep_until(clock_monotonic_ns() + ns);
}
