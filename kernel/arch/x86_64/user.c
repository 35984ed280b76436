/* Ring 3: the syscall MSRs, SMEP/SMAP, the initial frame of an application
 * thread, and the part of a context switch that concerns application state
 * (FS/GS bases, FPU registers). */
#include "arch/uthread.h"
#include "arch/cpu.h"
#include "arch/fpu.h"
#include "arch/gdt.h"
#include "arch/percpu.h"
#include "arch/uaccess.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/string.h"

#define RFLAGS_TF (1ul << 8)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_NT (1ul << 14)
#define RFLAGS_AC (1ul << 18)
#define CR4_UMIP (1ul << 11)

extern char syscall_entry[];

/* The FPU state each CPU's registers hold (a thread's struct arch_uthread). */
static struct arch_uthread *fpu_owner[MAX_CPUS];

void arch_user_early_init(void)
{
    uaccess_patch_smap(cpu_features.smap);
}

void arch_user_init_cpu(bool boot_cpu)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* STAR: kernel CS/SS from 0x08; sysret takes user CS = 0x18 + 16, SS = 0x18 + 8 */
    wrmsr(MSR_STAR, ((uint64_t)GDT_USER_CODE32 << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC);
    uint64_t cr4 = read_cr4();
    if (cpu_features.smep)
        cr4 |= CR4_SMEP;
    if (cpu_features.smap)
        cr4 |= CR4_SMAP;
    write_cr4(cr4);
    if (cpu_features.rdtscp)
        wrmsr(MSR_TSC_AUX, cpu_current_id()); /* the vDSO's getcpu reads it with rdtscp */
    if (boot_cpu) {
        fpu_init_bsp();
        pr_info("user: ring 3 with%s SMEP, with%s SMAP\n", cpu_features.smep ? "" : "out",
                cpu_features.smap ? "" : "out");
    } else {
        fpu_init_cpu();
    }
}

int arch_uthread_init(struct arch_uthread *u)
{
    memset(u, 0, sizeof(*u));
    u->fpu_last_cpu = -1;
    u->fpu = fpu_state_alloc();
    return u->fpu ? 0 : -ENOMEM;
}

int arch_uthread_clone(struct arch_uthread *child, const struct arch_uthread *parent)
{
    int e = arch_uthread_init(child);
    if (e)
        return e;
    child->fs_base = parent->fs_base;
    child->gs_base = parent->gs_base;
    fpu_save(child->fpu); /* the parent is running: its state is in the registers */
    return 0;
}

void arch_uthread_destroy(struct arch_uthread *u)
{
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        struct arch_uthread *expected = u; /* a failed exchange overwrites it */
        __atomic_compare_exchange_n(&fpu_owner[i], &expected, NULL, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
    fpu_state_free(u->fpu);
    u->fpu = NULL;
}

void arch_uthread_switch(struct arch_uthread *prev, struct arch_uthread *next)
{
    unsigned cpu = cpu_current_id();
    if (prev->fpu) {
        fpu_save(prev->fpu);
        fpu_owner[cpu] = prev;
        prev->fpu_last_cpu = (int)cpu;
    }
    if (!next->fpu)
        return; /* a kernel thread leaves the registers alone */
    /* Skip the restore when these registers still hold exactly next's state:
     * it was saved here last and nothing was loaded since. */
    if (fpu_owner[cpu] != next || next->fpu_last_cpu != (int)cpu) {
        fpu_restore(next->fpu);
        fpu_owner[cpu] = next;
    }
    next->fpu_last_cpu = (int)cpu;
    wrmsr(MSR_FS_BASE, next->fs_base);
    wrmsr(MSR_KERNEL_GS_BASE, next->gs_base); /* swapgs makes it the user GS base */
}

void arch_user_frame_init(struct trap_frame *f, uint64_t rip, uint64_t rsp)
{
    memset(f, 0, sizeof(*f));
    f->rip = rip;
    f->rsp = rsp;
    f->cs = GDT_USER_CODE64 | 3;
    f->ss = GDT_USER_DATA | 3;
    f->rflags = RFLAGS_IF | 0x2;
    f->vector = SYSCALL_VECTOR;
}

void arch_set_user_fs_base(struct arch_uthread *u, uint64_t base)
{
    u->fs_base = base;
    wrmsr(MSR_FS_BASE, base);
}

void arch_set_user_gs_base(struct arch_uthread *u, uint64_t base)
{
    u->gs_base = base;
    wrmsr(MSR_KERNEL_GS_BASE, base);
}
