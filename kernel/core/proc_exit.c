/* The end of a process: what it holds is released when its last thread
 * leaves, it becomes a zombie until its parent waits for it (or is reaped at
 * once when the parent ignores SIGCHLD), its children go to pid 1, and the
 * parent is told with its exit signal. When pid 1 ends, the VM does. */
#include "core/proc.h"
#include "arch/uaccess.h"
#include "core/log.h"
#include "core/signal.h"
#include "core/system.h"
#include "core/thread.h"
#include "core/user.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

void proc_timers_release(struct proc *p, bool keep_itimers); /* sys_timer.c */
void proc_unlink_locked(struct proc *p);                     /* proc.c */

void proc_free(struct proc *p)
{
    kfree(p->cmdline);
    kfree(p->environ);
    kfree(p->auxv);
    kfree(p->exe_path);
    if (p->sighand)
        sighand_put(p->sighand);
    kfree(p);
}

void proc_vfork_release(struct proc *p)
{
    struct waitq *wq = __atomic_exchange_n(&p->vfork_wq, NULL, __ATOMIC_ACQ_REL);
    if (!wq)
        return;
    __atomic_store_n(&p->vfork_done, true, __ATOMIC_RELEASE);
    waitq_wake_all(wq);
}

/* Whether the parent asked for children to vanish without a zombie
 * (SIGCHLD ignored, or SA_NOCLDWAIT). */
static bool parent_reaps_automatically(struct proc *parent)
{
    const struct k_sigaction *a = &parent->sighand->action[SIGCHLD - 1];
    return a->handler == SIG_IGN_HANDLER || (a->flags & SA_NOCLDWAIT);
}

static void notify_parent(struct proc *p, struct proc *parent)
{
    if (!p->exit_signal)
        return;
    struct siginfo_abi info;
    memset(&info, 0, sizeof(info));
    info.signo = p->exit_signal;
    int ws = p->wait_status;
    info.code = (ws & 0x7f) ? CLD_KILLED : CLD_EXITED;
    info.chld.pid = p->pid;
    info.chld.uid = p->uid;
    info.chld.status = (ws & 0x7f) ? (ws & 0x7f) : (ws >> 8) & 0xff;
    info.chld.utime = (int64_t)(p->dead_threads_ns / 10000000); /* clock ticks */
    signal_send(parent, NULL, p->exit_signal, &info);
}

/* Children of a dying process are adopted by pid 1. Table lock held. */
static bool reparent_children_locked(struct proc *p)
{
    bool zombies = false;
    while (!list_empty(&p->children)) {
        struct proc *c = list_entry(list_pop_head(&p->children), struct proc, sibling);
        c->parent = proc_main;
        list_add_tail(&proc_main->children, &c->sibling);
        zombies |= c->state == PROC_ZOMBIE;
    }
    return zombies;
}

void proc_exit(struct proc *p)
{
    if (p == proc_main)
        system_exit(proc_vm_status(p->wait_status));
    proc_timers_release(p, false);
    /* under p->lock: /proc readers take references with proc_*_get */
    irqflags_t lf = spin_lock(&p->lock);
    struct fd_table *files = p->files;
    struct fs_context *fs = p->fs;
    struct vm_space *vm = p->vm;
    p->files = NULL;
    p->fs = NULL;
    p->vm = NULL;
    spin_unlock(&p->lock, lf);
    if (files)
        fd_table_put(files);
    if (fs)
        fs_context_put(fs);
    if (vm) {
        vm_activate(NULL); /* this thread runs on it until now */
        vm_space_put(vm);
    }
    proc_vfork_release(p);

    irqflags_t f = proc_table_lock();
    struct proc *parent = p->parent;
    bool orphans_zombies = reparent_children_locked(p);
    bool reap = parent && parent_reaps_automatically(parent);
    p->state = PROC_ZOMBIE;
    if (reap)
        proc_unlink_locked(p);
    if (parent)
        proc_get(parent);
    proc_table_unlock(f);

    if (orphans_zombies)
        waitq_wake_all(&proc_main->child_wq);
    if (parent) {
        notify_parent(p, parent);
        waitq_wake_all(&parent->child_wq);
        proc_put(parent);
    }
    if (reap)
        proc_put(p); /* the table's reference: nobody will wait for it */
}
