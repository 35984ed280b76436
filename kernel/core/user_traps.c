/* Exceptions that concern the application: page faults (demand paging for
 * ring 3 and for the kernel's user-memory copies) and the CPU exceptions a
 * program can raise, which become signals. Kernel-mode faults outside the
 * user-copy code stay fatal (traps.c reports them). */
#include "arch/cpu.h"
#include "arch/trap.h"
#include "arch/uaccess.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/signal.h"
#include "core/thread.h"
#include "core/user.h"
#include "lib/errno.h"
#include "mm/vm.h"

#define PF_PRESENT 1
#define PF_WRITE 2
#define PF_USER 4
#define PF_INSTR 16

static bool from_user(const struct trap_frame *f)
{
    return (f->cs & 3) == 3;
}

/* The signal a failed fault becomes, with its si_code. */
static void fault_to_signal(int err, int *sig, int *code)
{
    switch (err) {
    case -EACCES: *sig = SIGSEGV; *code = SEGV_ACCERR; break;
    case -ENXIO:
    case -EIO: *sig = SIGBUS; *code = BUS_ADRERR; break;
    case -ENOMEM: *sig = SIGBUS; *code = BUS_ADRERR; break; /* Linux sends SIGKILL on OOM; this one is catchable */
    default: *sig = SIGSEGV; *code = SEGV_MAPERR; break;
    }
}

static bool page_fault(struct trap_frame *f)
{
    uintptr_t addr = read_cr2();
    unsigned flags = (f->error_code & PF_WRITE ? VM_FAULT_WRITE : 0) |
                     (f->error_code & PF_INSTR ? VM_FAULT_EXEC : 0);
    struct proc *p = proc_current();
    if (from_user(f)) {
        int e = p && p->vm ? (irq_enable(), vm_fault(p->vm, addr, flags | VM_FAULT_USER)) : -EFAULT;
        if (e) {
            int sig, code;
            fault_to_signal(e, &sig, &code);
            signal_force_fault(sig, code, addr, f);
        }
        return true;
    }
    uintptr_t fixup = uaccess_fixup(f->rip);
    if (!fixup)
        return false; /* a kernel bug: fatal report */
    if (addr < USER_TOP && p && p->vm) {
        irq_enable(); /* the copy ran with interrupts on; vm_fault may sleep */
        if (vm_fault(p->vm, addr, flags) == 0)
            return true; /* retry the copy */
    }
    f->rip = fixup; /* the copy returns -EFAULT */
    return true;
}

/* Ring-3 exceptions other than page faults, as Linux maps them. */
static bool user_exception(struct trap_frame *f)
{
    if (!from_user(f))
        return false;
    int sig, code = SI_KERNEL_CODE;
    uint64_t addr = f->rip;
    switch (f->vector) {
    case VEC_DIVIDE: sig = SIGFPE; code = FPE_INTDIV; break;
    case VEC_DEBUG: sig = SIGTRAP; code = TRAP_TRACE; break;
    case VEC_BREAKPOINT: sig = SIGTRAP; code = SI_KERNEL_CODE; break;
    case 4: sig = SIGSEGV; break;                 /* #OF (into: not in 64-bit) */
    case 5: sig = SIGSEGV; break;                 /* #BR */
    case VEC_INVALID_OPCODE: sig = SIGILL; code = ILL_ILLOPN; break;
    case 7: sig = SIGFPE; break;                  /* #NM: FPU always enabled, should not happen */
    case 10: case 11: case 12: sig = SIGSEGV; addr = 0; break; /* #TS #NP #SS */
    case VEC_GP: sig = SIGSEGV; addr = 0; break;  /* Linux: si_code SI_KERNEL, address 0 */
    case 16: sig = SIGFPE; code = FPE_FLTINV; break; /* #MF */
    case 17: sig = SIGBUS; code = BUS_ADRALN; break; /* #AC */
    case 19: sig = SIGFPE; code = FPE_FLTINV; break; /* #XM: SIMD exception */
    default: return false;
    }
    irq_enable();
    signal_force_fault(sig, code, addr, f);
    return true;
}

void user_traps_init(void)
{
    trap_set_user_return_hook(user_return_work);
    trap_set_exception_handler(VEC_PAGE_FAULT, page_fault);
    static const unsigned vectors[] = { VEC_DIVIDE, VEC_DEBUG, VEC_BREAKPOINT, 4, 5, VEC_INVALID_OPCODE,
                                        7, 10, 11, 12, VEC_GP, 16, 17, 19 };
    for (unsigned i = 0; i < ARRAY_SIZE(vectors); i++)
        trap_set_exception_handler(vectors[i], user_exception);
}
