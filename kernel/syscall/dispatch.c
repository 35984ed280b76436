/* From the syscall entry to the handler and back: look the number up, call
 * the handler with the six argument registers, store the result, trace it
 * under --strace, and run the return-to-application work (signals,
 * rescheduling). Unimplemented numbers return -ENOSYS and are logged once. */
#include "syscall.h"
#include "arch/cpu.h"
#include "arch/trap.h"
#include "arch/uaccess.h"
#include "core/bootopts.h"
#include "core/log.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/user.h"
#include "lib/bitops.h"
#include "lib/errno.h"

#define STRACE_STR_MAX 96

static uint64_t logged_unimplemented[(SYSCALL_COUNT + 63) / 64];

static long syscall_unimplemented(uint64_t nr)
{
    if (nr >= SYSCALL_COUNT || !syscall_table[nr].name) {
        pr_warn("syscall: unknown syscall number %lu; returning ENOSYS\n", nr);
        return -ENOSYS;
    }
    uint64_t bit = 1ull << (nr % 64);
    if (!(__atomic_fetch_or(&logged_unimplemented[nr / 64], bit, __ATOMIC_RELAXED) & bit))
        pr_info("syscall: %s (%lu) is not implemented; returning ENOSYS\n", syscall_table[nr].name, nr);
    return -ENOSYS;
}

/* Strings are copied before the call: afterwards the caller's memory may
 * have been reused (or unmapped by the very call). */
static void strace_capture(const struct syscall_desc *d, const uint64_t args[], char bufs[][STRACE_STR_MAX],
                           const char *strs[])
{
    for (unsigned i = 0; i < d->nargs && i < SYSCALL_MAX_ARGS; i++) {
        strs[i] = NULL;
        if (d->kinds[i] == SARG_STR) {
            long n = strncpy_from_user(bufs[i], (const char __user *)args[i], STRACE_STR_MAX);
            if (n >= 0 || n == -ENAMETOOLONG) {
                bufs[i][STRACE_STR_MAX - 1] = '\0';
                strs[i] = bufs[i];
            }
        } else if (d->kinds[i] == SARG_BUF && i + 1 < SYSCALL_MAX_ARGS) {
            size_t n = MIN((size_t)args[i + 1], (size_t)STRACE_STR_MAX - 1);
            if (copy_from_user(bufs[i], (const void __user *)args[i], n) == 0) {
                bufs[i][n] = '\0';
                strs[i] = bufs[i];
            }
        }
    }
}

void syscall_dispatch(struct trap_frame *f);
void syscall_dispatch(struct trap_frame *f)
{
    irq_enable();
    uint64_t nr = f->rax;
    uint64_t args[SYSCALL_MAX_ARGS] = { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 };
    const struct syscall_desc *d = nr < SYSCALL_COUNT && syscall_table[nr].name ? &syscall_table[nr] : NULL;
    char bufs[SYSCALL_MAX_ARGS][STRACE_STR_MAX];
    const char *strs[SYSCALL_MAX_ARGS] = { 0 };
    bool trace = boot_options.strace;
    if (trace && d)
        strace_capture(d, args, bufs, strs);
    long ret;
    if (trace && d && (nr == SYSCALL_NR_EXIT || nr == SYSCALL_NR_EXIT_GROUP))
        strace_print(d, nr, args, STRACE_NO_RETURN, thread_current()->utid, strs); /* never returns */
    if (d && d->fn)
        ret = d->fn(args[0], args[1], args[2], args[3], args[4], args[5]);
    else
        ret = syscall_unimplemented(nr);
    f->rax = (uint64_t)ret; /* rt_sigreturn returns the restored rax */
    if (ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK && f->vector == SYSCALL_VECTOR &&
        !signal_work_pending(thread_current()))
        signal_restart_syscall(f); /* interrupted, but nothing to deliver: run it again */
    if (trace)
        strace_print(d, nr, args, ret, thread_current()->utid, strs);
    user_return_work(f);
}
