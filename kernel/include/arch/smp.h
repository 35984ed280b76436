/* Starting application processors. */
#pragma once

#include "lib/types.h"

/* Prepare the start-up page (code + a small identity page table) below 1 MiB. */
bool arch_smp_prepare(uint64_t low_pages_phys);
/* Start the CPU with `apic_id`: it runs entry(arg) on `stack_top` with the
 * kernel's address space partly loaded (entry must load the kernel tables).
 * Returns once *alive becomes true, or false after the start-up timeout. */
bool arch_smp_start_ap(uint32_t apic_id, void (*entry)(void *), void *arg, uintptr_t stack_top,
                       volatile bool *alive);
/* Per-CPU CPU feature set-up (control-register bits) for every CPU. */
void arch_cpu_enable_features(void);
