/* Application threads: creation (exec and clone), the way back to ring 3,
 * and the end of a thread or of the whole application (which ends the VM). */
#include "core/user.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/uaccess.h"
#include "core/futex.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/sched.h"
#include "core/signal.h"
#include "core/system.h"
#include "core/thread.h"
#include "lib/string.h"

static void user_thread_entry(void *arg)
{
    (void)arg;
    struct trap_frame *f = arch_user_frame(thread_current()->stack_top);
    user_return_work(f);
    arch_enter_user(f);
}

struct thread *user_thread_create(struct proc *proc, const struct trap_frame *regs,
                                  struct thread *clone_from)
{
    struct thread *t = thread_create_reserve(clone_from ? clone_from->name : "main", user_thread_entry,
                                             NULL, -1, sizeof(struct trap_frame));
    if (!t)
        return NULL;
    int e = clone_from ? arch_uthread_clone(&t->uarch, &clone_from->uarch) : arch_uthread_init(&t->uarch);
    if (e) {
        thread_destroy_unstarted(t);
        return NULL;
    }
    *arch_user_frame(t->stack_top) = *regs;
    t->proc = proc;
    t->utid = proc->nthreads ? proc_alloc_tid(proc) : proc->pid;
    signal_thread_init(t);
    if (clone_from)
        t->sig_blocked = clone_from->sig_blocked;
    t->altstack_flags = SS_DISABLE_FLAG; /* a new thread has no alternate stack */
    irqflags_t fl = spin_lock(&proc->lock);
    list_add_tail(&proc->threads, &t->proc_link);
    proc->nthreads++;
    spin_unlock(&proc->lock, fl);
    thread_detach(t); /* application threads are never joined */
    return t;
}

void user_thread_abandon(struct thread *t)
{
    struct proc *p = t->proc;
    irqflags_t fl = spin_lock(&p->lock);
    list_remove(&t->proc_link);
    p->nthreads--;
    spin_unlock(&p->lock, fl);
    thread_destroy_unstarted(t);
}

struct trap_frame *user_frame(void)
{
    return arch_user_frame(thread_current()->stack_top);
}

void user_return_work(struct trap_frame *f)
{
    struct thread *t = thread_current();
    for (;;) {
        irq_disable();
        if (sched_need_resched()) {
            schedule();
            continue;
        }
        if (t->allowed_cpus && !sched_cpu_allowed(t, cpu_current_id())) {
            sched_migrate_if_needed();
            continue;
        }
        if (t->proc && signal_work_pending(t)) {
            irq_enable();
            signal_handle(f);
            continue;
        }
        return;
    }
}

void user_process_exit(int status)
{
    struct proc *p = proc_current();
    if (p) {
        irqflags_t fl = spin_lock(&p->lock);
        if (!p->exiting) {
            p->exiting = true;
            p->exit_status = status & 0xff;
        }
        status = p->exit_status;
        spin_unlock(&p->lock, fl);
    }
    system_exit(status);
}

void user_thread_exit(int status)
{
    struct thread *t = thread_current();
    struct proc *p = t->proc;
    if (t->clear_child_tid) {
        /* what pthread_join waits for: the tid word zeroed, then a futex wake */
        uint32_t __user *word = (uint32_t __user *)t->clear_child_tid;
        if (put_user_u32(word, 0) == 0)
            futex_wake((uint64_t)word, 1, FUTEX_BITSET_ANY, true);
    }
    /* off the list under the sighand lock too: senders look threads up under it */
    irqflags_t fl = spin_lock(&p->sighand->lock);
    spin_lock_raw(&p->lock);
    list_remove(&t->proc_link);
    p->dead_threads_ns += t->runtime_ns;
    bool last = --p->nthreads == 0;
    spin_unlock_raw(&p->lock);
    spin_unlock(&p->sighand->lock, fl);
    if (last)
        user_process_exit(status);
    thread_exit(status);
}
