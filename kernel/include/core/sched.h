/* The scheduler: a run queue per CPU ordered by virtual runtime (fair between
 * equal threads), preemption by a per-CPU slice timer, and idle CPUs stealing
 * work from busy ones. */
#pragma once

#include "lib/types.h"

#define SCHED_SLICE_NS ((uint64_t)4000000) /* 4 ms */

struct thread;

void sched_init(void);                 /* boot CPU: adopt the boot context as its idle thread */
void sched_init_cpu(struct thread *idle); /* any CPU, with its idle thread struct */
void sched_idle_loop(void) __noreturn; /* the calling context becomes this CPU's idle thread */
/* Give up the CPU. The current thread stays runnable unless it marked itself
 * blocked (then it waits for thread_wake). Call with interrupts disabled. */
void schedule(void);
void sched_enqueue_new(struct thread *t);
/* Let the next runnable thread of this CPU run first (sched_yield). */
void sched_yield_cpu(void);
void sched_wake(struct thread *t);
/* Whether this CPU should reschedule at the next opportunity (IRQs off). */
bool sched_need_resched(void);
/* Whether t may run on cpu (pinning and its affinity mask). */
bool sched_cpu_allowed(const struct thread *t, unsigned cpu);
/* Move the current thread to a CPU its affinity allows, if this one is not. */
void sched_migrate_if_needed(void);
/* Called after every context switch, in the new thread's context. */
void sched_finish_switch(void);

struct sched_cpu_stats {
    uint64_t switches, idle_ns, steals;
    unsigned runnable;
};
void sched_get_cpu_stats(unsigned cpu, struct sched_cpu_stats *s);
