/* struct cpu: everything one CPU owns. Its first member is the arch part, whose
 * address is the CPU's %gs base. */
#pragma once

#include "arch/percpu.h"
#include "arch/timesrc.h"
#include "mm/kmalloc.h"

struct cpu {
    struct arch_cpu arch; /* first: %gs points here */
    struct kmalloc_cpu_cache kmalloc_cache;
    struct pvclock_vcpu_time_info pvclock __aligned(64); /* kvmclock area (unstable TSC only) */
};

extern struct cpu *cpus[MAX_CPUS];
extern unsigned cpu_count; /* CPUs online */

static inline struct cpu *this_cpu(void)
{
    return (struct cpu *)arch_this_cpu();
}

/* Boot CPU: per-CPU block, GDT, TSS, IDT (before anything can fault usefully). */
void cpu_bsp_early_init(void);
