/* Signals: sending, pending sets, choosing which thread takes a process
 * signal, waking it. All state is under the process's sighand lock (a
 * spinlock with interrupts off, since timers send signals from interrupt
 * context). Delivery is in signal_deliver.c. */
#include "core/signal.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/thread.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

/* Signals whose default action is to do nothing; the stop signals too, as
 * there is no job control to stop for. */
#define SIG_DEFAULT_IGNORE (SIG_BIT(SIGCHLD) | SIG_BIT(SIGCONT) | SIG_BIT(SIGURG) | SIG_BIT(SIGWINCH) | \
                            SIG_BIT(SIGSTOP) | SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))

struct sighand *sighand_create(void)
{
    struct sighand *sh = kzalloc(sizeof(*sh));
    if (!sh)
        return NULL;
    sh->refs = 1;
    spin_init(&sh->lock);
    list_init(&sh->shared.queue);
    return sh;
}

struct sighand *sighand_copy(struct sighand *from)
{
    struct sighand *sh = sighand_create();
    if (!sh)
        return NULL;
    irqflags_t f = spin_lock(&from->lock);
    memcpy(sh->action, from->action, sizeof(sh->action));
    spin_unlock(&from->lock, f);
    return sh;
}

void sighand_put(struct sighand *sh)
{
    if (__atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL))
        return;
    while (!list_empty(&sh->shared.queue))
        kfree(list_entry(list_pop_head(&sh->shared.queue), struct sigqueued, link));
    kfree(sh);
}

void sighand_reset_for_exec(struct sighand *sh)
{
    irqflags_t f = spin_lock(&sh->lock);
    for (int i = 0; i < NSIG; i++) {
        if (sh->action[i].handler != SIG_IGN_HANDLER)
            sh->action[i].handler = SIG_DFL_HANDLER;
        sh->action[i].flags = 0;
        sh->action[i].mask = 0;
        sh->action[i].restorer = 0;
    }
    spin_unlock(&sh->lock, f);
}

void signal_thread_init(struct thread *t)
{
    t->sigpend.set = 0;
    list_init(&t->sigpend.queue);
}

bool signal_default_ignored(int sig)
{
    return SIG_DEFAULT_IGNORE & SIG_BIT(sig);
}

static bool sig_ignored(const struct sighand *sh, int sig)
{
    uint64_t h = sh->action[sig - 1].handler;
    return h == SIG_IGN_HANDLER || (h == SIG_DFL_HANDLER && signal_default_ignored(sig));
}

static uint64_t deliverable(const struct thread *t)
{
    const struct sighand *sh = t->proc->sighand;
    return (t->sigpend.set | sh->shared.set) & ~t->sig_blocked;
}

bool signal_work_pending(struct thread *t)
{
    return t->proc && deliverable(t) != 0;
}

void signal_recalc_locked(struct thread *t)
{
    __atomic_store_n(&t->interrupted, deliverable(t) != 0, __ATOMIC_SEQ_CST);
}

/* t has a signal to take: get it out of a blocking call, or into the kernel
 * if it runs application code on another CPU. */
static void signal_wake(struct thread *t)
{
    __atomic_store_n(&t->interrupted, true, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&t->sleep_interruptible, __ATOMIC_SEQ_CST))
        thread_wake(t);
    else if (t->state == THREAD_RUNNING && t != thread_current() && (unsigned)t->cpu < cpu_count)
        lapic_send_ipi(cpus[t->cpu]->arch.apic_id, VEC_KICK);
}

static int queue_info(struct sighand *sh, struct sigpending *pend, int sig, const struct siginfo_abi *info)
{
    if (sig < SIGRTMIN && (pend->set & SIG_BIT(sig)))
        return 0; /* a standard signal is pending at most once */
    struct sigqueued *q = NULL;
    if (sh->queued < PROC_SIGPENDING_MAX)
        q = kmalloc(sizeof(*q));
    if (!q) {
        if (sig >= SIGRTMIN && info && info->code != SI_USER_CODE && info->code != SI_KERNEL_CODE)
            return -EAGAIN; /* sigqueue: the caller must learn it was not queued */
        pend->set |= SIG_BIT(sig); /* delivered with a synthesised siginfo */
        return 0;
    }
    if (info) {
        q->info = *info;
    } else {
        memset(&q->info, 0, sizeof(q->info));
        q->info.code = SI_KERNEL_CODE;
    }
    q->info.signo = sig;
    sh->queued++;
    list_add_tail(&pend->queue, &q->link);
    pend->set |= SIG_BIT(sig);
    return 0;
}

/* The thread that takes a process-directed signal: the current one if it
 * can, else the first that does not block it. */
static struct thread *pick_taker(struct proc *p, int sig)
{
    struct thread *self = thread_current();
    if (self->proc == p && !(self->sig_blocked & SIG_BIT(sig)))
        return self;
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
        struct thread *t = list_entry(n, struct thread, proc_link);
        if (!(t->sig_blocked & SIG_BIT(sig)))
            return t;
    }
    return NULL;
}

static int send_locked(struct proc *p, struct thread *t, int sig, const struct siginfo_abi *info);
/* fs hook (signalfd): told when a signal becomes pending, so readers and
 * pollers of a signalfd whose set includes it look again. Weak: the kernel
 * links without fs/signalfd.c. */
void signalfd_notify(struct proc *p, int sig) __attribute__((weak));

int signal_send(struct proc *p, struct thread *t, int sig, const struct siginfo_abi *info)
{
    irqflags_t f = spin_lock(&p->sighand->lock);
    int e = send_locked(p, t, sig, info);
    spin_unlock(&p->sighand->lock, f);
    return e;
}

/* Threads leave the process list under the sighand lock, so a thread found
 * under it stays valid until the lock is dropped. */
int signal_send_tid(struct proc *p, int tid, int sig, const struct siginfo_abi *info)
{
    irqflags_t f = spin_lock(&p->sighand->lock);
    struct thread *t = NULL;
    spin_lock_raw(&p->lock);
    for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
        struct thread *c = list_entry(n, struct thread, proc_link);
        if (c->utid == tid) {
            t = c;
            break;
        }
    }
    spin_unlock_raw(&p->lock);
    int e = t ? (sig ? send_locked(p, t, sig, info) : 0) : -ESRCH;
    spin_unlock(&p->sighand->lock, f);
    return e;
}

static int send_locked(struct proc *p, struct thread *t, int sig, const struct siginfo_abi *info)
{
    struct sighand *sh = p->sighand;
    int e = 0;
    bool blocked = t ? (t->sig_blocked & SIG_BIT(sig)) != 0 : false;
    if (sig_ignored(sh, sig) && !blocked && sig != SIGKILL)
        return 0; /* discarded at once, as POSIX allows for ignored signals */
    e = queue_info(sh, t ? &t->sigpend : &sh->shared, sig, info);
    if (!e) {
        spin_lock_raw(&p->lock);
        struct thread *taker = t ? t : pick_taker(p, sig);
        if (taker && !(taker->sig_blocked & SIG_BIT(sig)))
            signal_wake(taker);
        spin_unlock_raw(&p->lock);
        if (signalfd_notify) /* signalfd hook: safe under this lock, from any context */
            signalfd_notify(p, sig);
    }
    return e;
}

/* Synchronous signals first (the faulting instruction must not run again
 * before its handler), then the lowest number. */
static int pick_signal(uint64_t set)
{
    static const int sync_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS };
    for (unsigned i = 0; i < ARRAY_SIZE(sync_signals); i++)
        if (set & SIG_BIT(sync_signals[i]))
            return sync_signals[i];
    return set ? __builtin_ctzll(set) + 1 : 0;
}

static bool take_from(struct sighand *sh, struct sigpending *pend, int sig, struct siginfo_abi *info)
{
    if (!(pend->set & SIG_BIT(sig)))
        return false;
    struct sigqueued *found = NULL;
    bool more = false;
    for (struct list_node *n = pend->queue.next; n != &pend->queue; n = n->next) {
        struct sigqueued *q = list_entry(n, struct sigqueued, link);
        if (q->info.signo != sig)
            continue;
        if (found) {
            more = true;
            break;
        }
        found = q;
    }
    if (found) {
        *info = found->info;
        list_remove(&found->link);
        kfree(found);
        sh->queued--;
    } else {
        memset(info, 0, sizeof(*info));
        info->signo = sig;
        info->code = SI_USER_CODE;
    }
    if (!more)
        pend->set &= ~SIG_BIT(sig);
    return true;
}

int signal_dequeue_locked(struct thread *t, uint64_t set, struct siginfo_abi *info)
{
    struct sighand *sh = t->proc->sighand;
    int sig = pick_signal(t->sigpend.set & set);
    if (sig && take_from(sh, &t->sigpend, sig, info))
        return sig;
    sig = pick_signal(sh->shared.set & set);
    if (sig && take_from(sh, &sh->shared, sig, info))
        return sig;
    return 0;
}
