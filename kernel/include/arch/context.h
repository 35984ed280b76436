/* Kernel-thread context: stacks and the switch. */
#pragma once

#include "lib/types.h"

void arch_context_switch(uint64_t *save_rsp, uint64_t load_rsp);
/* Prepare a new stack so that switching to it runs thread_first_run(fn, arg);
 * returns the initial saved rsp. */
uint64_t arch_thread_stack_init(uintptr_t stack_top, void (*fn)(void *), void *arg);
/* The stack the CPU switches to on interrupts from ring 3 and on syscalls. */
void arch_set_kernel_stack(uintptr_t top);

/* Kernel stacks live in their own virtual range with an unmapped guard page
 * below, so an overflow faults instead of corrupting memory. */
uintptr_t kstack_alloc(size_t size); /* returns the top, 0 on failure */
void kstack_free(uintptr_t top, size_t size);
/* Whether addr is inside a guard page of some kernel stack. */
bool kstack_is_guard(uintptr_t addr);
