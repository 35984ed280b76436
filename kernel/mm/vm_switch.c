/* Which address space each CPU has loaded: loading one (CR3), the
 * scheduler's lazy switch (kernel threads keep whatever root is loaded), the
 * per-space CPU masks that TLB shootdowns target (arch/tlb.h: loaded,
 * running, stale), and making CPUs leave a space that is being destroyed. */
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "core/proc.h"
#include "vm_internal.h"

/* Implemented in kernel/core (core/proc.h); weak so mm links without it. */
extern struct proc *proc_current(void) __attribute__((weak));

/* What each CPU's CR3 holds (NULL: the kernel's root). Written only by its
 * own CPU with interrupts off, so a CPU reads its own entry without races. */
static struct vm_space *vm_loaded[MAX_CPUS];
static uint64_t vm_switch_count; /* CR3 loads for address spaces (statistics) */

/* A CPU's bit in vm->tlb.cpus is set before the root is loaded and cleared
 * only once another one is: a shootdown that reads the masks after changing
 * an entry reaches every CPU that may cache it (a CR3 load drops all user
 * entries, none being global). */
void vm_activate(struct vm_space *vm)
{
    irqflags_t f = irq_save();
    unsigned cpu = cpu_current_id();
    struct vm_space *old = vm_loaded[cpu];
    if (old == vm) {
        /* back from lazy mode: flush if a shootdown skipped us meanwhile */
        if (vm && !tlb_space_is_active(&vm->tlb, cpu) && tlb_space_wake(&vm->tlb, cpu))
            write_cr3(read_cr3());
    } else {
        if (vm)
            tlb_space_load(&vm->tlb, cpu);
        paging_root_load(vm ? &vm->pt : NULL);
        vm_loaded[cpu] = vm;
        if (old)
            tlb_space_unload(&old->tlb, cpu);
        __atomic_fetch_add(&vm_switch_count, 1, __ATOMIC_RELAXED);
    }
    irq_restore(f);
}

void vm_switch_to(struct vm_space *prev_vm, struct vm_space *next_vm)
{
    (void)prev_vm; /* this CPU's record is what counts: prev may be gone */
    unsigned cpu = cpu_current_id();
    struct vm_space *loaded = vm_loaded[cpu];
    if (next_vm)
        vm_activate(next_vm);
    else if (loaded && tlb_space_is_active(&loaded->tlb, cpu))
        tlb_space_lazy(&loaded->tlb, cpu);
}

struct vm_space *vm_loaded_here(void)
{
    irqflags_t f = irq_save();
    struct vm_space *vm = vm_loaded[cpu_current_id()];
    irq_restore(f);
    return vm;
}

/* In the shootdown IPI (or here, interrupts off): leave vm if still on it. */
static void vm_leave_cpu(void *arg)
{
    if (vm_loaded[cpu_current_id()] == arg)
        vm_activate(NULL);
}

/* No new CPU can load vm (its last reference is gone), so once the CPUs in
 * the mask have run vm_leave_cpu the mask stays empty. */
void vm_evict_cpus(struct vm_space *vm)
{
    if (__atomic_load_n(&vm->tlb.cpus, __ATOMIC_SEQ_CST))
        tlb_run_on(&vm->tlb.cpus, vm_leave_cpu, vm);
}

bool vm_fault_loads_space(struct vm_space *vm)
{
    struct proc *p = proc_current ? proc_current() : NULL;
    if (!p || p->vm != vm || vm_loaded_here() == vm)
        return false;
    vm_activate(vm);
    return true;
}

uint64_t vm_switch_stats(void)
{
    return __atomic_load_n(&vm_switch_count, __ATOMIC_RELAXED);
}
