/* Waiting for children: wait4 and waitid, reaping zombies, WNOHANG, and
 * the process-group selectors (pid 0, -pgid). */
#include "arch/uaccess.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/user.h"
#include "core/waitq.h"
#include "lib/errno.h"
#include "lib/string.h"

#define WNOHANG 0x1
#define WUNTRACED 0x2
#define WEXITED 0x4
#define WCONTINUED 0x8
#define WNOWAIT 0x01000000
#define WNOTHREAD 0x20000000
#define WALL 0x40000000
#define WCLONE 0x80000000u
#define P_ALL 0
#define P_PID 1
#define P_PGID 2
#define P_PIDFD 3

void proc_unlink_locked(struct proc *p); /* proc.c */

struct wait_query {
    int which;      /* P_ALL, P_PID, P_PGID */
    int id;
    bool consume;   /* reap the zombie found (not WNOWAIT) */
};

static bool child_matches(const struct proc *c, const struct wait_query *q)
{
    switch (q->which) {
    case P_PID: return c->pid == q->id;
    case P_PGID: return c->pgid == q->id;
    default: return true;
    }
}

/* A matching zombie child (taken off the table unless !consume), or NULL;
 * *any tells whether there is a matching child at all. Table lock held. */
static struct proc *find_zombie_locked(struct proc *self, const struct wait_query *q, bool *any)
{
    *any = false;
    for (struct list_node *n = self->children.next; n != &self->children; n = n->next) {
        struct proc *c = list_entry(n, struct proc, sibling);
        if (!child_matches(c, q))
            continue;
        *any = true;
        if (c->state != PROC_ZOMBIE)
            continue;
        if (q->consume)
            proc_unlink_locked(c);
        else
            proc_get(c);
        return c;
    }
    return NULL;
}

/* Block until a matching child is a zombie: it (with the table's reference,
 * or a new one for WNOWAIT), 0 with WNOHANG, -ECHILD, -ERESTARTSYS. */
static long wait_child(const struct wait_query *q, int options, struct proc **out)
{
    struct proc *self = proc_current();
    struct wait_entry e = { 0 };
    long r;
    for (;;) {
        waitq_prepare(&self->child_wq, &e);
        bool any;
        irqflags_t f = proc_table_lock();
        struct proc *z = find_zombie_locked(self, q, &any);
        proc_table_unlock(f);
        if (z) {
            *out = z;
            r = z->pid;
            break;
        }
        if (!any) {
            r = -ECHILD;
            break;
        }
        if (options & WNOHANG) {
            r = 0;
            break;
        }
        if (waitq_sleep_intr(&e, 0) == -EINTR) {
            r = -ERESTARTSYS;
            break;
        }
    }
    waitq_finish(&self->child_wq, &e);
    return r;
}

static int query_from_pid(int pid, struct wait_query *q)
{
    struct proc *self = proc_current();
    if (pid == -1)
        q->which = P_ALL;
    else if (pid > 0)
        q->which = P_PID, q->id = pid;
    else if (pid == 0)
        q->which = P_PGID, q->id = self->pgid;
    else if (pid == INT32_MIN)
        return -ESRCH;
    else
        q->which = P_PGID, q->id = -pid;
    return 0;
}

struct rusage_abi_w {
    int64_t words[18];
};

long sys_wait4(int pid, int __user *wstatus, int options, struct rusage_abi_w __user *ru)
{
    if (options & ~(int)(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE))
        return -EINVAL;
    struct wait_query q = { .consume = true };
    int e = query_from_pid(pid, &q);
    if (e)
        return e;
    struct proc *z = NULL;
    long r = wait_child(&q, options, &z);
    if (r <= 0)
        return r;
    int status = z->wait_status;
    struct rusage_abi_w usage;
    memset(&usage, 0, sizeof(usage));
    usage.words[0] = (int64_t)(z->dead_threads_ns / 1000000000ull); /* ru_utime.tv_sec */
    usage.words[1] = (int64_t)(z->dead_threads_ns % 1000000000ull / 1000);
    proc_put(z); /* reaped */
    if (wstatus && put_user_u32(wstatus, (uint32_t)status))
        return -EFAULT;
    if (ru && copy_to_user(ru, &usage, sizeof(usage)))
        return -EFAULT;
    return r;
}

long sys_waitid(int which, int id, struct siginfo_abi __user *infop, int options, struct rusage_abi_w __user *ru)
{
    if (options & ~(int)(WNOHANG | WEXITED | WUNTRACED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE))
        return -EINVAL;
    if (!(options & (WEXITED | WUNTRACED | WCONTINUED)))
        return -EINVAL;
    struct wait_query q = { .which = which, .id = id, .consume = !(options & WNOWAIT) };
    if (which == P_PGID && id == 0)
        q.id = proc_current()->pgid;
    else if (which == P_PIDFD)
        return -EINVAL; /* no pidfds */
    else if (which != P_ALL && which != P_PID && which != P_PGID)
        return -EINVAL;
    else if ((which == P_PID || which == P_PGID) && id < 0)
        return -EINVAL;
    if (!(options & WEXITED))
        options |= WNOHANG; /* only stops and continues asked for: never happen here */
    struct proc *z = NULL;
    long r = wait_child(&q, options, &z);
    if (r < 0)
        return r;
    struct siginfo_abi info;
    memset(&info, 0, sizeof(info));
    if (z) {
        int ws = z->wait_status;
        info.signo = SIGCHLD;
        info.code = (ws & 0x7f) ? CLD_KILLED : CLD_EXITED;
        info.chld.pid = z->pid;
        info.chld.uid = z->uid;
        info.chld.status = (ws & 0x7f) ? (ws & 0x7f) : (ws >> 8) & 0xff;
        proc_put(z);
    }
    (void)ru;
    if (infop && copy_to_user(infop, &info, sizeof(info)))
        return -EFAULT;
    return 0;
}
