/* Delivering a signal on the way back to ring 3: restart or fail the
 * interrupted system call, run the default action, or build the rt_sigframe
 * (siginfo, ucontext with the registers and FPU state) a handler expects on
 * its stack; and rt_sigreturn, which undoes that frame. Layouts are the
 * Linux x86-64 ABI's. */
#include "core/signal.h"
#include "arch/fpu.h"
#include "arch/gdt.h"
#include "arch/uaccess.h"
#include "arch/uthread.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/thread.h"
#include "core/user.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define FPX_SW_OFFSET 464              /* software-reserved bytes of the FXSAVE image */
#define SIGRETURN_VECTOR SIGRETURN_FRAME_VECTOR /* frame.vector after rt_sigreturn: not restartable */
#define RED_ZONE 128

struct sigcontext_abi {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;
    uint64_t reserved1[8];
};

struct stack_abi {
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
};

struct ucontext_abi {
    uint64_t flags, link;
    struct stack_abi stack;
    struct sigcontext_abi mcontext;
    uint64_t sigmask;
};

struct rt_sigframe {
    uint64_t pretcode;
    struct ucontext_abi uc;
    struct siginfo_abi info;
};

struct fpx_sw_bytes {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};

_Static_assert(sizeof(struct sigcontext_abi) == 256, "struct sigcontext");
_Static_assert(sizeof(struct ucontext_abi) == 304, "struct ucontext");

static const char *const signal_names[NSIG + 1] = {
    [SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
    [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE",
    [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
    [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
    [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
    [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR", [SIGSYS] = "SIGSYS",
};

const char *signal_name(int sig)
{
    return sig > 0 && sig <= NSIG && signal_names[sig] ? signal_names[sig] : "a real-time signal";
}

static size_t fpu_frame_size(void)
{
    return fpu_info.xsave ? fpu_info.size + 4 : FPU_LEGACY_SIZE; /* + FP_XSTATE_MAGIC2 */
}

static bool is_restart(long rax)
{
    return rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND ||
           rax == -ERESTART_RESTARTBLOCK;
}

void signal_restart_syscall(struct trap_frame *f)
{
    f->rax = f->error_code; /* the syscall number, saved by the entry */
    f->rip -= 2;            /* back onto the syscall instruction */
}

/* An interrupted system call meets a handler: run it again, or fail with EINTR. */
static void syscall_meets_handler(struct trap_frame *f, const struct k_sigaction *act)
{
    if (f->vector != SYSCALL_VECTOR || !is_restart((long)f->rax))
        return;
    long r = (long)f->rax;
    if (r == -ERESTARTNOINTR || (r == -ERESTARTSYS && (act->flags & SA_RESTART)))
        signal_restart_syscall(f);
    else
        f->rax = (uint64_t)-EINTR;
    f->vector = SIGRETURN_VECTOR; /* decided: not again for a second signal */
}

static bool on_altstack(const struct thread *t, uint64_t sp)
{
    return t->altstack_size && sp > t->altstack_sp && sp - t->altstack_sp <= t->altstack_size;
}

static void fill_sigcontext(struct sigcontext_abi *sc, const struct trap_frame *f, uint64_t oldmask,
                            uint64_t fpstate, const struct siginfo_abi *info)
{
    memset(sc, 0, sizeof(*sc));
    sc->r8 = f->r8, sc->r9 = f->r9, sc->r10 = f->r10, sc->r11 = f->r11;
    sc->r12 = f->r12, sc->r13 = f->r13, sc->r14 = f->r14, sc->r15 = f->r15;
    sc->rdi = f->rdi, sc->rsi = f->rsi, sc->rbp = f->rbp, sc->rbx = f->rbx;
    sc->rdx = f->rdx, sc->rax = f->rax, sc->rcx = f->rcx, sc->rsp = f->rsp;
    sc->rip = f->rip, sc->eflags = f->rflags;
    sc->cs = (uint16_t)f->cs, sc->ss = (uint16_t)f->ss;
    if (f->vector < 32) {
        sc->trapno = f->vector;
        sc->err = f->error_code;
    }
    if (info->signo == SIGSEGV || info->signo == SIGBUS)
        sc->cr2 = info->fault.addr;
    sc->oldmask = oldmask;
    sc->fpstate = fpstate;
}

/* Save the FPU registers where the handler's frame says, in the XSAVE layout
 * with Linux's software bytes and trailing magic. */
static int save_fpu_frame(uint64_t uaddr)
{
    size_t size = fpu_frame_size();
    uint8_t *buf = kmalloc(size + 64);
    if (!buf)
        return -ENOMEM;
    uint8_t *area = (uint8_t *)ALIGN_UP((uintptr_t)buf, (uintptr_t)64);
    memset(area, 0, size);
    fpu_save(area);
    if (fpu_info.xsave) {
        struct fpx_sw_bytes sw = { FP_XSTATE_MAGIC1, (uint32_t)size, fpu_info.xcr0, fpu_info.size, { 0 } };
        memcpy(area + FPX_SW_OFFSET, &sw, sizeof(sw));
        uint32_t magic2 = FP_XSTATE_MAGIC2;
        memcpy(area + fpu_info.size, &magic2, 4);
    }
    int e = copy_to_user((void __user *)uaddr, area, size);
    kfree(buf);
    return e;
}

/* Build the frame and point the registers at the handler. */
static int setup_frame(struct thread *t, struct trap_frame *f, int sig, const struct k_sigaction *act,
                       const struct siginfo_abi *info, uint64_t oldmask)
{
    uint64_t sp = f->rsp;
    bool alt = (act->flags & SA_ONSTACK) && t->altstack_size && !(t->altstack_flags & SS_DISABLE_FLAG) &&
               !on_altstack(t, sp);
    if (alt)
        sp = t->altstack_sp + t->altstack_size;
    else
        sp -= RED_ZONE;
    uint64_t fpstate = ALIGN_DOWN(sp - fpu_frame_size(), 64ull);
    uint64_t frame = ((fpstate - sizeof(struct rt_sigframe)) & ~15ull) - 8; /* as if called: (rsp + 8) % 16 == 0 */
    if (alt && frame < t->altstack_sp)
        return -EFAULT; /* the alternate stack is too small */

    struct rt_sigframe fr;
    memset(&fr, 0, sizeof(fr));
    fr.pretcode = act->restorer;
    fr.uc.flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    fr.uc.stack.sp = t->altstack_sp;
    fr.uc.stack.size = t->altstack_size;
    fr.uc.stack.flags = t->altstack_size ? (on_altstack(t, f->rsp) ? SS_ONSTACK_FLAG : t->altstack_flags)
                                         : SS_DISABLE_FLAG;
    fill_sigcontext(&fr.uc.mcontext, f, oldmask, fpstate, info);
    fr.uc.sigmask = oldmask;
    fr.info = *info;
    if (save_fpu_frame(fpstate) || copy_to_user((void __user *)frame, &fr, sizeof(fr)))
        return -EFAULT;

    f->rdi = (uint64_t)sig;
    f->rsi = frame + offsetof(struct rt_sigframe, info);
    f->rdx = frame + offsetof(struct rt_sigframe, uc);
    f->rax = 0;
    f->rsp = frame;
    f->rip = act->handler;
    f->rflags &= ~(uint64_t)(1u << 8 | 1u << 10 | 1u << 16 | 1u << 18); /* TF DF RF AC */
    f->cs = GDT_USER_CODE64 | 3;
    f->ss = GDT_USER_DATA | 3;
    fpu_restore(fpu_init_state()); /* the handler starts with a clean FPU, as on Linux */
    return 0;
}

static void die_by_signal(int sig, const struct siginfo_abi *info)
{
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE)
        pr_err("application killed by %s (si_code %d, address %#lx)\n", signal_name(sig), info->code,
               info->fault.addr);
    else
        pr_err("application killed by %s\n", signal_name(sig));
    user_group_exit(WSTATUS_SIGNALED(sig));
}

/* Nothing left to deliver and no handler ran: an interrupted call runs
 * again (it reinstalls its own temporary mask, as sigsuspend and ppoll do),
 * and a temporary mask goes back to the saved one. */
static void no_handler_ran(struct thread *t, struct trap_frame *f)
{
    if (t->sig_restore_mask) {
        t->sig_restore_mask = false;
        t->sig_blocked = t->sig_saved_mask & ~SIG_UNBLOCKABLE;
        signal_recalc_locked(t);
    }
    if (f->vector == SYSCALL_VECTOR && is_restart((long)f->rax)) {
        signal_restart_syscall(f);
        f->vector = SIGRETURN_VECTOR;
    }
}

void signal_handle(struct trap_frame *f)
{
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    struct siginfo_abi info;
    irqflags_t fl = spin_lock(&sh->lock);
    int sig = signal_dequeue_locked(t, ~t->sig_blocked, &info);
    if (!sig) {
        signal_recalc_locked(t);
        no_handler_ran(t, f);
        spin_unlock(&sh->lock, fl);
        return;
    }
    struct k_sigaction act = sh->action[sig - 1];
    if (act.handler > SIG_IGN_HANDLER) {
        uint64_t oldmask = t->sig_restore_mask ? t->sig_saved_mask : t->sig_blocked;
        t->sig_restore_mask = false;
        t->sig_blocked |= act.mask | (act.flags & SA_NODEFER ? 0 : SIG_BIT(sig));
        t->sig_blocked &= ~SIG_UNBLOCKABLE;
        if (act.flags & SA_RESETHAND)
            sh->action[sig - 1].handler = SIG_DFL_HANDLER, sh->action[sig - 1].flags &= ~SA_SIGINFO;
        signal_recalc_locked(t);
        spin_unlock(&sh->lock, fl);
        syscall_meets_handler(f, &act);
        if (setup_frame(t, f, sig, &act, &info, oldmask) != 0) {
            /* no room for the frame: what Linux does too */
            pr_err("cannot deliver %s: the signal stack at %#lx is not writable\n", signal_name(sig), f->rsp);
            die_by_signal(SIGSEGV, &info);
        }
        return;
    }
    signal_recalc_locked(t);
    bool ignored = act.handler == SIG_IGN_HANDLER || signal_default_ignored(sig);
    if (ignored && !t->interrupted)
        no_handler_ran(t, f); /* the last pending one: nothing will run a handler */
    spin_unlock(&sh->lock, fl);
    if (!ignored)
        die_by_signal(sig, &info);
}

void signal_force_fault(int sig, int code, uint64_t addr, struct trap_frame *f)
{
    struct thread *t = thread_current();
    struct sighand *sh = t->proc->sighand;
    struct siginfo_abi info;
    memset(&info, 0, sizeof(info));
    info.signo = sig;
    info.code = code;
    info.fault.addr = addr;
    irqflags_t fl = spin_lock(&sh->lock);
    /* blocked or ignored, the fault would repeat forever: take the default */
    struct k_sigaction *act = &sh->action[sig - 1];
    if ((t->sig_blocked & SIG_BIT(sig)) || act->handler == SIG_IGN_HANDLER) {
        t->sig_blocked &= ~SIG_BIT(sig);
        act->handler = SIG_DFL_HANDLER;
    }
    spin_unlock(&sh->lock, fl);
    if (act->handler == SIG_DFL_HANDLER) {
        pr_err("application killed by %s (si_code %d) at address %#lx, rip %#lx\n", signal_name(sig), code,
               addr, f->rip);
        user_group_exit(WSTATUS_SIGNALED(sig));
    }
    signal_send(t->proc, t, sig, &info);
}

/* ---- rt_sigreturn ---- */

static int restore_fpu(uint64_t uaddr)
{
    uint8_t *buf = kmalloc(fpu_info.size + 64);
    if (!buf)
        return -ENOMEM;
    uint8_t *area = (uint8_t *)ALIGN_UP((uintptr_t)buf, (uintptr_t)64);
    fpu_state_init(area);
    int e = 0;
    if (uaddr) {
        e = copy_from_user(area, (const void __user *)uaddr, FPU_LEGACY_SIZE);
        struct fpx_sw_bytes sw;
        memcpy(&sw, area + FPX_SW_OFFSET, sizeof(sw));
        if (!e && fpu_info.xsave && sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size == fpu_info.size)
            e = copy_from_user(area, (const void __user *)uaddr, fpu_info.size);
        else if (!e && fpu_info.xsave)
            memset(area + FPU_LEGACY_SIZE, 0, fpu_info.size - FPU_LEGACY_SIZE),
                *(uint64_t *)(void *)(area + FPU_LEGACY_SIZE) = XFEATURE_X87 | XFEATURE_SSE;
    }
    if (!e && !fpu_state_valid(area))
        e = -EINVAL; /* XRSTOR would fault in the kernel on this image */
    if (!e)
        fpu_restore(area);
    kfree(buf);
    return e;
}

long sys_rt_sigreturn(void)
{
    struct thread *t = thread_current();
    struct trap_frame *f = user_frame();
    struct ucontext_abi uc;
    uint64_t frame = f->rsp - 8; /* the handler's ret popped pretcode */
    if (copy_from_user(&uc, (const void __user *)(frame + offsetof(struct rt_sigframe, uc)), sizeof(uc)) ||
        restore_fpu(uc.mcontext.fpstate)) {
        struct siginfo_abi info = { .signo = SIGSEGV, .code = SI_KERNEL_CODE };
        die_by_signal(SIGSEGV, &info);
    }
    const struct sigcontext_abi *sc = &uc.mcontext;
    f->r8 = sc->r8, f->r9 = sc->r9, f->r10 = sc->r10, f->r11 = sc->r11;
    f->r12 = sc->r12, f->r13 = sc->r13, f->r14 = sc->r14, f->r15 = sc->r15;
    f->rdi = sc->rdi, f->rsi = sc->rsi, f->rbp = sc->rbp, f->rbx = sc->rbx;
    f->rdx = sc->rdx, f->rcx = sc->rcx, f->rsp = sc->rsp, f->rip = sc->rip;
    f->rflags = (f->rflags & ~USER_RFLAGS_MASK) | (sc->eflags & USER_RFLAGS_MASK);
    f->cs = GDT_USER_CODE64 | 3;
    f->ss = GDT_USER_DATA | 3;
    f->vector = SIGRETURN_VECTOR;
    struct sighand *sh = t->proc->sighand;
    irqflags_t fl = spin_lock(&sh->lock);
    t->sig_blocked = uc.sigmask & ~SIG_UNBLOCKABLE;
    signal_recalc_locked(t);
    spin_unlock(&sh->lock, fl);
    signal_altstack_restore(uc.stack.sp, uc.stack.flags, uc.stack.size);
    return (long)sc->rax;
}
