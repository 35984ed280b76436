/* The per-thread machine state of an application thread that does not live on
 * its kernel stack: segment bases and the FPU/SSE/AVX registers. The general
 * registers are in the struct trap_frame at the top of the kernel stack. */
#pragma once

#include "arch/trap.h"
#include "lib/types.h"

struct arch_uthread {
    uint64_t fs_base, gs_base;
    void *fpu;          /* saved FPU state; NULL for kernel threads */
    int fpu_last_cpu;   /* CPU whose registers last held this state, -1 when none */
};

/* The syscall and user-interrupt frame: at the top of the thread's kernel stack. */
static inline struct trap_frame *arch_user_frame(uintptr_t kstack_top)
{
    return (struct trap_frame *)kstack_top - 1;
}

#define SYSCALL_VECTOR 0x100 /* trap_frame.vector of a system call */
#define SIGRETURN_FRAME_VECTOR 0x101 /* a frame rewritten by the kernel: not a restartable call */

/* Boot CPU, early (before the kernel image is write-protected): patch the
 * user-access code for this CPU. */
void arch_user_early_init(void);
/* Every CPU: syscall MSRs, SMEP/SMAP, FPU components. */
void arch_user_init_cpu(bool boot_cpu);

/* Set up `u` for a new application thread with the initial FPU state.
 * Returns 0 or -ENOMEM. */
int arch_uthread_init(struct arch_uthread *u);
/* A thread created by clone: the parent's FPU registers and segment bases. */
int arch_uthread_clone(struct arch_uthread *child, const struct arch_uthread *parent);
void arch_uthread_destroy(struct arch_uthread *u);
/* Context switch hook: save what `prev` leaves in the CPU, load `next`'s. */
void arch_uthread_switch(struct arch_uthread *prev, struct arch_uthread *next);
/* A frame that starts ring-3 execution at `rip` with stack `rsp`. */
void arch_user_frame_init(struct trap_frame *f, uint64_t rip, uint64_t rsp);
/* Leave for ring 3 through `f` (on the current kernel stack). */
void arch_enter_user(struct trap_frame *f) __noreturn;
/* Change this thread's FS/GS base (arch_prctl); takes effect at once. */
void arch_set_user_fs_base(struct arch_uthread *u, uint64_t base);
void arch_set_user_gs_base(struct arch_uthread *u, uint64_t base);
/* rflags bits an application may set (sigreturn, ptrace-like writes). */
#define USER_RFLAGS_MASK 0x0000000000250dd5ull /* CF PF AF ZF SF TF DF OF RF AC ID; no IF/IOPL/NT/VM */
