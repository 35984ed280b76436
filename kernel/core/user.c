/* Application threads: creation (exec and clone), the way back to ring 3,
 * and the end of a thread or of the whole application (which ends the VM). */
#include "core/user.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "core/cpu.h"
#include "arch/uaccess.h"
#include "core/futex.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/sched.h"
#include "core/signal.h"
#include "core/system.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"

static void user_thread_entry(void *arg)
{
    (void)arg;
    struct thread *t = thread_current();
    struct trap_frame *f = arch_user_frame(t->stack_top);
    if (t->set_child_tid)
        put_user_u32((uint32_t __user *)t->set_child_tid, (uint32_t)t->utid); /* in its own memory */
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
        if (user_thread_must_leave(t)) {
            irq_enable();
            user_thread_exit(0); /* its process is exiting or exec'ing */
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

/* Other threads of a process that is exiting or exec'ing leave at their next
 * way back to ring 3, or now if they sleep interruptibly. */
static void kick_other_threads(struct proc *p, struct thread *self)
{
    irqflags_t fl = spin_lock(&p->lock);
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
        struct thread *t = list_entry(n, struct thread, proc_link);
        if (t == self)
            continue;
        __atomic_store_n(&t->interrupted, true, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&t->sleep_interruptible, __ATOMIC_SEQ_CST))
            thread_wake(t);
        else if (t->state == THREAD_RUNNING && (unsigned)t->cpu < cpu_count && t->cpu != (int)cpu_current_id())
            lapic_send_ipi(cpus[t->cpu]->arch.apic_id, VEC_KICK);
    }
    spin_unlock(&p->lock, fl);
}

bool user_thread_must_leave(struct thread *t)
{
    struct proc *p = t->proc;
    return p && (p->exiting || p->zap_others) && p->exit_leader != t;
}

void user_group_exit(int wait_status)
{
    struct thread *t = thread_current();
    struct proc *p = t->proc;
    irqflags_t fl = spin_lock(&p->lock);
    if (!p->exiting) {
        p->exiting = true;
        p->wait_status = wait_status;
        p->exit_leader = t;
    }
    spin_unlock(&p->lock, fl);
    if (p == proc_main)
        system_exit(proc_vm_status(p->wait_status)); /* the application is done: so is the VM */
    kick_other_threads(p, t);
    user_thread_exit(0);
}

int user_zap_other_threads(void)
{
    struct thread *t = thread_current();
    struct proc *p = t->proc;
    irqflags_t fl = spin_lock(&p->lock);
    if (p->exiting || p->zap_others) {
        spin_unlock(&p->lock, fl);
        return -EAGAIN; /* another thread is ending the process or exec'ing */
    }
    p->zap_others = true;
    p->exit_leader = t;
    spin_unlock(&p->lock, fl);
    kick_other_threads(p, t);
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&p->thread_wq, &e);
        if (READ_ONCE(p->nthreads) == 1)
            break;
        waitq_sleep(&e, 0);
    }
    waitq_finish(&p->thread_wq, &e);
    fl = spin_lock(&p->lock);
    p->zap_others = false;
    p->exit_leader = NULL;
    spin_unlock(&p->lock, fl);
    return 0;
}

void user_thread_exit(int status)
{
    struct thread *t = thread_current();
    struct proc *p = t->proc;
    if (t->clear_child_tid) {
        /* what pthread_join waits for: the tid word zeroed, then a futex wake */
        uint32_t __user *word = (uint32_t __user *)t->clear_child_tid;
        if (put_user_u32(word, 0) == 0)
            futex_wake((uint64_t)word, true, 1, FUTEX_BITSET_ANY); /* shared, as Linux's exit */
    }
    /* off the list under the sighand lock too: senders look threads up under it */
    irqflags_t fl = spin_lock(&p->sighand->lock);
    spin_lock_raw(&p->lock);
    list_remove(&t->proc_link);
    p->dead_threads_ns += t->runtime_ns;
    bool last = --p->nthreads == 0;
    if (last && !p->exiting) {
        p->exiting = true;
        p->wait_status = WSTATUS_EXITED(status);
    }
    spin_unlock_raw(&p->lock);
    spin_unlock(&p->sighand->lock, fl);
    /* from here on the thread belongs to no process: the process may be
     * freed before this thread has switched out for the last time */
    t->proc = NULL;
    if (last)
        proc_exit(p); /* the process ends with its last thread */
    else
        waitq_wake_all(&p->thread_wq); /* an exec may be waiting to be alone */
    thread_exit(status);
}
