/* Signal system calls: actions, masks, waiting, the alternate stack, and
 * sending to the process or one of its threads. */
#include "arch/uaccess.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/waitq.h"
#include "lib/errno.h"
#include "lib/string.h"

#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 2048

static bool sig_valid(int sig)
{
    return sig >= 1 && sig <= NSIG;
}

long sys_rt_sigaction(int sig, const struct k_sigaction __user *act, struct k_sigaction __user *oact,
                      size_t sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    if (!sig_valid(sig))
        return -EINVAL;
    struct k_sigaction n;
    if (act && copy_from_user(&n, act, sizeof(n)))
        return -EFAULT;
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    irqflags_t f = spin_lock(&sh->lock);
    struct k_sigaction old = sh->action[sig - 1];
    if (act) {
        n.mask &= ~SIG_UNBLOCKABLE;
        n.flags &= ~(uint64_t)(SA_UNSUPPORTED | SA_EXPOSE_TAGBITS); /* report them as unsupported */
        sh->action[sig - 1] = n;
        /* setting SIG_IGN (or a default that ignores) discards what is pending */
        if (n.handler == SIG_IGN_HANDLER || (n.handler == SIG_DFL_HANDLER && signal_default_ignored(sig))) {
            struct siginfo_abi junk;
            for (struct list_node *l = t->proc->threads.next; l != &t->proc->threads; l = l->next) {
                struct thread *o = list_entry(l, struct thread, proc_link);
                while ((o->sigpend.set & SIG_BIT(sig)) && signal_dequeue_locked(o, SIG_BIT(sig), &junk))
                    ;
            }
        }
    }
    spin_unlock(&sh->lock, f);
    if (oact && copy_to_user(oact, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

/* Change the current thread's mask (under the lock) and notice what it unblocks. */
static void set_blocked(struct thread *t, uint64_t mask)
{
    struct sighand *sh = t->proc->sighand;
    irqflags_t f = spin_lock(&sh->lock);
    t->sig_blocked = mask & ~SIG_UNBLOCKABLE;
    signal_recalc_locked(t);
    spin_unlock(&sh->lock, f);
}

long sys_rt_sigprocmask(int how, const uint64_t __user *set, uint64_t __user *oset, size_t sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    struct thread *t = thread_current();
    uint64_t old = t->sig_blocked, n = 0;
    if (set) {
        if (copy_from_user(&n, set, 8))
            return -EFAULT;
        switch (how) {
        case SIG_BLOCK: n = old | n; break;
        case SIG_UNBLOCK: n = old & ~n; break;
        case SIG_SETMASK: break;
        default: return -EINVAL;
        }
        set_blocked(t, n);
    }
    if (oset && copy_to_user(oset, &old, 8))
        return -EFAULT;
    return 0;
}

long sys_rt_sigpending(uint64_t __user *set, size_t sigsetsize)
{
    if (sigsetsize > 8)
        return -EINVAL;
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    irqflags_t f = spin_lock(&sh->lock);
    uint64_t p = (t->sigpend.set | sh->shared.set) & t->sig_blocked;
    spin_unlock(&sh->lock, f);
    return copy_to_user(set, &p, sigsetsize) ? -EFAULT : 0;
}

/* Sleep until a signal is to be delivered (thread.interrupted). */
static void wait_for_signal(uint64_t deadline, int *timed_out)
{
    struct waitq wq;
    waitq_init(&wq);
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(&wq, &e);
        if (thread_current()->interrupted)
            break;
        if (waitq_sleep_intr(&e, deadline) == -ETIMEDOUT) {
            if (timed_out)
                *timed_out = 1;
            break;
        }
    }
    waitq_finish(&wq, &e);
}

long sys_rt_sigsuspend(const uint64_t __user *mask, size_t sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t m;
    if (copy_from_user(&m, mask, 8))
        return -EFAULT;
    struct thread *t = thread_current();
    t->sig_saved_mask = t->sig_blocked;
    t->sig_restore_mask = true; /* the handler's frame records the old mask */
    set_blocked(t, m);
    wait_for_signal(0, NULL);
    return -ERESTARTNOHAND;
}

long sys_pause(void)
{
    wait_for_signal(0, NULL);
    return -ERESTARTNOHAND;
}

long sys_rt_sigtimedwait(const uint64_t __user *uset, struct siginfo_abi __user *uinfo,
                         const struct timespec __user *timeout, size_t sigsetsize)
{
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t set;
    if (copy_from_user(&set, uset, 8))
        return -EFAULT;
    set &= ~SIG_UNBLOCKABLE;
    uint64_t deadline = 0;
    if (timeout) {
        struct timespec ts;
        if (copy_from_user(&ts, timeout, sizeof(ts)))
            return -EFAULT;
        if (!timespec_valid(&ts))
            return -EINVAL;
        deadline = clock_monotonic_ns() + timespec_to_ns(&ts);
        if (deadline == 0)
            deadline = 1;
    }
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    /* the signals waited for are taken even while blocked: unblock them for
     * the wait so that sending one wakes this thread */
    uint64_t saved = t->sig_blocked;
    for (;;) {
        struct siginfo_abi info;
        irqflags_t f = spin_lock(&sh->lock);
        int sig = signal_dequeue_locked(t, set, &info);
        if (!sig)
            t->sig_blocked = saved & ~set;
        signal_recalc_locked(t);
        spin_unlock(&sh->lock, f);
        if (sig) {
            set_blocked(t, saved);
            if (uinfo && copy_to_user(uinfo, &info, sizeof(info)))
                return -EFAULT;
            return sig;
        }
        int timed_out = 0;
        if (timeout && deadline <= clock_monotonic_ns())
            timed_out = 1;
        else
            wait_for_signal(deadline, &timed_out);
        f = spin_lock(&sh->lock);
        bool ours = (t->sigpend.set | sh->shared.set) & set;
        bool other = ((t->sigpend.set | sh->shared.set) & ~saved & ~set) != 0;
        spin_unlock(&sh->lock, f);
        if (!ours && other) {
            set_blocked(t, saved);
            return -EINTR; /* another signal came: its handler runs */
        }
        if (!ours && timed_out) {
            set_blocked(t, saved);
            return -EAGAIN;
        }
    }
}

struct stack_t_abi {
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
};

static bool on_altstack_now(const struct thread *t)
{
    uint64_t sp = arch_user_frame(t->stack_top)->rsp;
    return t->altstack_size && sp > t->altstack_sp && sp - t->altstack_sp <= t->altstack_size;
}

static int set_altstack(struct thread *t, uint64_t sp, int flags, uint64_t size)
{
    if (on_altstack_now(t))
        return -EPERM;
    int mode = flags & ~(int)SS_AUTODISARM;
    if (mode != 0 && mode != SS_DISABLE_FLAG && mode != SS_ONSTACK_FLAG)
        return -EINVAL;
    if (mode == SS_DISABLE_FLAG) {
        t->altstack_sp = 0;
        t->altstack_size = 0;
        t->altstack_flags = SS_DISABLE_FLAG;
        return 0;
    }
    if (size < MINSIGSTKSZ)
        return -ENOMEM;
    t->altstack_sp = sp;
    t->altstack_size = size;
    t->altstack_flags = flags & (int)SS_AUTODISARM;
    return 0;
}

long sys_sigaltstack(const struct stack_t_abi __user *uss, struct stack_t_abi __user *uoss)
{
    struct thread *t = thread_current();
    struct stack_t_abi old = { t->altstack_sp, 0, 0, t->altstack_size };
    old.flags = on_altstack_now(t) ? SS_ONSTACK_FLAG : t->altstack_size ? t->altstack_flags : SS_DISABLE_FLAG;
    if (uss) {
        struct stack_t_abi n;
        if (copy_from_user(&n, uss, sizeof(n)))
            return -EFAULT;
        int e = set_altstack(t, n.sp, n.flags, n.size);
        if (e)
            return e;
    }
    if (uoss && copy_to_user(uoss, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

void signal_altstack_restore(uint64_t sp, int flags, uint64_t size)
{
    set_altstack(thread_current(), sp, flags & ~SS_ONSTACK_FLAG, size);
}

/* ---- sending ---- */

static void user_info(struct siginfo_abi *info, int sig, int code)
{
    memset(info, 0, sizeof(*info));
    info->signo = sig;
    info->code = code;
    info->rt.pid = proc_current()->pid;
    info->rt.uid = proc_current()->uid;
}

/* A signal to a whole process: a zombie accepts it and does nothing. */
static int kill_one(struct proc *target, int sig, const struct siginfo_abi *info)
{
    if (!sig || target->state != PROC_LIVE)
        return 0;
    return signal_send(target, NULL, sig, info);
}

struct kill_group {
    int pgid;          /* 0: every process but pid 1 (kill -1) */
    int sig;
    const struct siginfo_abi *info;
    int found;
};

static bool kill_group_member(struct proc *p, void *ctx)
{
    struct kill_group *g = ctx;
    if (g->pgid ? p->pgid != g->pgid : p->pid == 1)
        return true;
    g->found++;
    kill_one(p, g->sig, g->info);
    return true;
}

long sys_kill(int pid, int sig)
{
    if (sig < 0 || sig > NSIG)
        return -EINVAL;
    struct siginfo_abi info;
    user_info(&info, sig, SI_USER_CODE);
    if (pid > 0) {
        struct proc *target = proc_find_by_tid(pid); /* a thread id names its process too */
        if (!target)
            return -ESRCH;
        int e = kill_one(target, sig, &info);
        proc_put(target);
        return e;
    }
    if (pid == INT32_MIN)
        return -ESRCH;
    struct kill_group g = { pid == 0 ? proc_current()->pgid : pid == -1 ? 0 : -pid, sig, &info, 0 };
    proc_for_each(kill_group_member, &g);
    return g.found ? 0 : -ESRCH;
}

static long send_to_thread(int tgid, int tid, int sig, const struct siginfo_abi *info)
{
    if (tid <= 0 || (tgid != -1 && tgid <= 0) || sig < 0 || sig > NSIG)
        return -EINVAL;
    struct proc *p = tgid == -1 ? proc_find_by_tid(tid) : proc_find(tgid);
    if (!p)
        return -ESRCH;
    long e = p->state == PROC_LIVE ? signal_send_tid(p, tid, sig, info) : -ESRCH;
    proc_put(p);
    return e;
}

long sys_tgkill(int tgid, int tid, int sig)
{
    struct siginfo_abi info;
    user_info(&info, sig, SI_TKILL_CODE);
    return send_to_thread(tgid, tid, sig, &info);
}

long sys_tkill(int tid, int sig)
{
    struct siginfo_abi info;
    user_info(&info, sig, SI_TKILL_CODE);
    return send_to_thread(-1, tid, sig, &info);
}

/* sigqueue: the caller's siginfo, which may not pretend to come from the kernel. */
static int queued_info(const struct siginfo_abi __user *uinfo, int sig, struct siginfo_abi *info)
{
    if (copy_from_user(info, uinfo, sizeof(*info)))
        return -EFAULT;
    if (info->code >= 0 || info->code == SI_TKILL_CODE)
        return -EPERM;
    info->signo = sig;
    return 0;
}

long sys_rt_sigqueueinfo(int tgid, int sig, const struct siginfo_abi __user *uinfo)
{
    struct siginfo_abi info;
    int e = queued_info(uinfo, sig, &info);
    if (e)
        return e;
    if (!sig_valid(sig))
        return -EINVAL;
    struct proc *p = proc_find(tgid);
    if (!p)
        return -ESRCH;
    e = kill_one(p, sig, &info);
    proc_put(p);
    return e;
}

long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, const struct siginfo_abi __user *uinfo)
{
    struct siginfo_abi info;
    int e = queued_info(uinfo, sig, &info);
    if (e)
        return e;
    return send_to_thread(tgid, tid, sig, &info);
}
