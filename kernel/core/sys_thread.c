/* System calls about threads: clone for threads, exit, set_tid_address,
 * arch_prctl, gettid, robust lists, sched_yield. */
#include "arch/cpu.h"
#include "arch/uaccess.h"
#include "arch/uthread.h"
#include "core/clone_flags.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/thread.h"
#include "core/user.h"
#include "lib/errno.h"
#include "lib/string.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012

#define CLONE_THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define CLONE_ALLOWED (CLONE_THREAD_FLAGS | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
                       CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED | CLONE_UNTRACED | \
                       CLONE_IO | 0xff /* the exit signal, ignored for threads */)

long proc_clone(uint64_t flags, uint64_t stack, uint32_t __user *parent_tid, uint32_t __user *child_tid,
                uint64_t tls); /* sys_fork.c */

long sys_arch_prctl(int code, uint64_t addr)
{
    struct thread *t = thread_current();
    switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
        if (addr >= USER_TOP)
            return -EPERM; /* Linux: non-canonical or kernel addresses */
        if (code == ARCH_SET_FS)
            arch_set_user_fs_base(&t->uarch, addr);
        else
            arch_set_user_gs_base(&t->uarch, addr);
        return 0;
    case ARCH_GET_FS:
        return put_user_u64((void __user *)addr, t->uarch.fs_base);
    case ARCH_GET_GS:
        return put_user_u64((void __user *)addr, t->uarch.gs_base);
    case ARCH_GET_CPUID:
        return 1; /* cpuid is not faulting */
    case ARCH_SET_CPUID:
        return -ENODEV; /* no CPUID faulting */
    default:
        return -EINVAL;
    }
}

long sys_set_tid_address(uint32_t __user *tidptr)
{
    struct thread *t = thread_current();
    t->clear_child_tid = (uint64_t)tidptr;
    return t->utid;
}

long sys_gettid(void)
{
    return thread_current()->utid;
}

long sys_exit(int status)
{
    user_thread_exit(status & 0xff);
}

long sys_exit_group(int status)
{
    user_group_exit(WSTATUS_EXITED(status));
}

long sys_sched_yield(void)
{
    thread_yield();
    return 0;
}

long sys_set_robust_list(void __user *head, size_t len)
{
    if (len != 24) /* sizeof(struct robust_list_head) */
        return -EINVAL;
    struct thread *t = thread_current();
    t->robust_list = (uint64_t)head;
    t->robust_list_len = len;
    return 0;
}

long sys_get_robust_list(int tid, void __user *__user *head, size_t __user *len)
{
    struct thread *t = thread_current();
    if (tid && tid != t->utid) {
        struct thread *o = proc_find_thread(t->proc, tid);
        if (!o)
            return -ESRCH;
        t = o;
    }
    if (put_user_u64(head, t->robust_list) || put_user_u64(len, t->robust_list_len))
        return -EFAULT;
    return 0;
}

/* A new thread in this process (the only kind of clone Osprey has). */
static long clone_thread(uint64_t flags, uint64_t stack, uint32_t __user *parent_tid, uint32_t __user *child_tid,
                         uint64_t tls)
{
    if (!(flags & CLONE_THREAD))
        return proc_clone(flags, stack, parent_tid, child_tid, tls); /* a new process */
    if ((flags & CLONE_THREAD_FLAGS) != CLONE_THREAD_FLAGS)
        return -EINVAL; /* a thread shares memory, files, fs and handlers, as Linux requires */
    if (flags & ~(uint64_t)CLONE_ALLOWED)
        return -EINVAL;
    if ((flags & CLONE_SETTLS) && tls >= USER_TOP)
        return -EPERM;
    struct thread *self = thread_current();
    struct trap_frame regs = *user_frame();
    regs.rax = 0; /* the child returns 0 */
    if (stack)
        regs.rsp = stack;
    struct thread *t = user_thread_create(self->proc, &regs, self);
    if (!t)
        return -ENOMEM;
    if (flags & CLONE_SETTLS)
        t->uarch.fs_base = tls;
    if (flags & CLONE_CHILD_CLEARTID)
        t->clear_child_tid = (uint64_t)child_tid;
    int tid = t->utid;
    /* the ids are written before the child can run, so both sides see them */
    if ((flags & CLONE_PARENT_SETTID) && put_user_u32(parent_tid, (uint32_t)tid)) {
        user_thread_abandon(t);
        return -EFAULT;
    }
    if ((flags & CLONE_CHILD_SETTID) && put_user_u32(child_tid, (uint32_t)tid)) {
        user_thread_abandon(t);
        return -EFAULT;
    }
    thread_start(t);
    return tid;
}

long sys_clone(uint64_t flags, uint64_t stack, uint32_t __user *parent_tid, uint32_t __user *child_tid,
               uint64_t tls)
{
    return clone_thread(flags, stack, parent_tid, child_tid, tls);
}

struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

long sys_clone3(const struct clone_args __user *uargs, size_t size)
{
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    if (size < 64 || size > 4096)
        return -EINVAL;
    if (copy_from_user(&a, uargs, MIN(size, sizeof(a))))
        return -EFAULT;
    if (a.exit_signal & ~0xffull || a.set_tid || a.set_tid_size || a.cgroup)
        return -EINVAL;
    if ((a.stack == 0) != (a.stack_size == 0))
        return -EINVAL;
    uint64_t top = a.stack ? a.stack + a.stack_size : 0;
    return clone_thread(a.flags | a.exit_signal, top, (uint32_t __user *)a.parent_tid,
                        (uint32_t __user *)a.child_tid, a.tls);
}

