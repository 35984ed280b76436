/* New processes: fork, vfork and clone without CLONE_THREAD. The child gets
 * a copy-on-write copy of the address space (or shares it: CLONE_VM, vfork),
 * copies or shares of the file table and filesystem context, a copy of the
 * signal actions, and one thread resuming where its parent called. */
#include "arch/uaccess.h"
#include "core/clone_flags.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/user.h"
#include "fs/fdtable.h"
#include "fs/fs_context.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

#define CLONE_PROCESS_ALLOWED (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | CLONE_PARENT | \
                               CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | \
                               CLONE_DETACHED | CLONE_UNTRACED | CLONE_CHILD_SETTID | CLONE_IO | CLONE_PTRACE | 0xff)

static char *dup_bytes(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = kmalloc(n ? n : 1);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* What a child inherits that is not shared: ids, limits, what /proc shows. */
static void inherit_settings(struct proc *c, const struct proc *p)
{
    c->uid = p->uid, c->euid = p->euid, c->suid = p->suid;
    c->gid = p->gid, c->egid = p->egid, c->sgid = p->sgid;
    memcpy(c->groups, p->groups, sizeof(c->groups));
    c->ngroups = p->ngroups;
    c->personality = p->personality;
    c->nice = p->nice;
    c->ioprio = p->ioprio;
    c->dumpable = p->dumpable;
    c->keepcaps = p->keepcaps;
    c->no_new_privs = p->no_new_privs;
    memcpy(c->rlimits, p->rlimits, sizeof(c->rlimits));
    c->pgid = p->pgid;
    c->sid = p->sid;
    c->cmdline = dup_bytes(p->cmdline, p->cmdline_len);
    c->cmdline_len = p->cmdline_len;
    c->environ = dup_bytes(p->environ, p->environ_len);
    c->environ_len = p->environ_len;
    c->auxv = (uint64_t *)dup_bytes((const char *)p->auxv, p->auxv_len);
    c->auxv_len = p->auxv_len;
    c->exe_path = p->exe_path ? dup_bytes(p->exe_path, strlen(p->exe_path) + 1) : NULL;
}

static int share_or_copy(struct proc *c, struct proc *p, uint64_t flags)
{
    c->vm = flags & CLONE_VM ? vm_space_get(p->vm) : vm_space_fork(p->vm);
    c->files = flags & CLONE_FILES ? fd_table_get(p->files) : fd_table_clone(p->files);
    c->fs = flags & CLONE_FS ? fs_context_get(p->fs) : fs_context_clone(p->fs);
    c->sighand = sighand_copy(p->sighand); /* actions are copied even with CLONE_SIGHAND */
    if (!c->vm || !c->files || !c->fs || !c->sighand)
        return -ENOMEM;
    return 0;
}

/* Undo a child that never ran. */
static void abandon_child(struct proc *c)
{
    if (c->files)
        fd_table_put(c->files);
    if (c->fs)
        fs_context_put(c->fs);
    if (c->vm)
        vm_space_put(c->vm);
    irqflags_t f = proc_table_lock();
    void proc_unlink_locked(struct proc *p);
    proc_unlink_locked(c);
    proc_table_unlock(f);
    proc_put(c);
}

static struct thread *child_thread(struct proc *c, uint64_t flags, uint64_t stack, uint32_t __user *child_tid,
                                   uint64_t tls)
{
    struct thread *self = thread_current();
    struct trap_frame regs = *user_frame();
    regs.rax = 0; /* the child returns 0 */
    if (stack)
        regs.rsp = stack;
    struct thread *t = user_thread_create(c, &regs, self);
    if (!t)
        return NULL;
    if (!(flags & CLONE_VM)) { /* fork keeps the alternate signal stack; CLONE_VM does not */
        t->altstack_sp = self->altstack_sp;
        t->altstack_size = self->altstack_size;
        t->altstack_flags = self->altstack_flags;
    }
    if (flags & CLONE_SETTLS)
        t->uarch.fs_base = tls;
    if (flags & CLONE_CHILD_CLEARTID)
        t->clear_child_tid = (uint64_t)child_tid;
    if (flags & CLONE_CHILD_SETTID)
        t->set_child_tid = (uint64_t)child_tid; /* written in the child's own memory when it starts */
    return t;
}

/* vfork: the parent waits until the child has exec'd or exited. */
static void wait_for_vfork(struct proc *c, struct waitq *wq)
{
    struct wait_entry e = { 0 };
    for (;;) {
        waitq_prepare(wq, &e);
        if (__atomic_load_n(&c->vfork_done, __ATOMIC_ACQUIRE))
            break;
        waitq_sleep(&e, 0); /* not interruptible, as Linux's vfork (it is killable there) */
    }
    waitq_finish(wq, &e);
}

long proc_clone(uint64_t flags, uint64_t stack, uint32_t __user *parent_tid, uint32_t __user *child_tid,
                uint64_t tls)
{
    if (flags & CLONE_NAMESPACES)
        return -EINVAL; /* no namespaces: one of each */
    if (flags & ~(uint64_t)CLONE_PROCESS_ALLOWED)
        return -EINVAL;
    if ((flags & CLONE_SETTLS) && tls >= USER_TOP)
        return -EPERM;
    struct proc *p = proc_current();
    struct proc *c = proc_create();
    if (!c)
        return -EAGAIN;
    inherit_settings(c, p);
    c->exit_signal = (int)(flags & 0xff);
    int e = share_or_copy(c, p, flags);
    struct thread *t = e ? NULL : child_thread(c, flags, stack, child_tid, tls);
    if (!t) {
        abandon_child(c);
        return e ? e : -ENOMEM;
    }
    int pid = c->pid;
    if ((flags & CLONE_PARENT_SETTID) && put_user_u32(parent_tid, (uint32_t)pid)) {
        user_thread_abandon(t);
        abandon_child(c);
        return -EFAULT;
    }
    struct waitq vfork_wq;
    if (flags & CLONE_VFORK) {
        waitq_init(&vfork_wq);
        c->vfork_wq = &vfork_wq;
    }
    irqflags_t f = proc_table_lock();
    struct proc *parent = (flags & CLONE_PARENT) && p->parent ? p->parent : p;
    c->parent = parent;
    list_add_tail(&parent->children, &c->sibling);
    proc_table_unlock(f);
    thread_start(t);
    if (flags & CLONE_VFORK)
        wait_for_vfork(c, &vfork_wq);
    return pid;
}

long sys_fork(void)
{
    return proc_clone(SIGCHLD, 0, NULL, NULL, 0);
}

long sys_vfork(void)
{
    return proc_clone(CLONE_VM | CLONE_VFORK | SIGCHLD, 0, NULL, NULL, 0);
}
