/* Per-CPU data through %gs: the GS base of each CPU points at its struct
 * arch_cpu, whose first field points to itself. */
#pragma once

#include "arch/layout.h"
#include "lib/types.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

#define GDT_ENTRIES 9 /* null, kcode, kdata, ucode32, udata, ucode64, tss (2), spare */

/* Field offsets below are used by assembly (syscall and trap entry). */
struct arch_cpu {
    struct arch_cpu *self;      /* %gs:0 */
    uint32_t id;                /* %gs:8  logical CPU number, 0 = boot CPU */
    uint32_t apic_id;           /* %gs:12 */
    void *current;              /* %gs:16 the running thread (core's struct thread) */
    uint64_t kernel_rsp;        /* %gs:24 top of the running thread's kernel stack */
    uint64_t user_rsp;          /* %gs:32 scratch for syscall entry */
    uint64_t gdt[GDT_ENTRIES] __aligned(16);
    struct tss tss __aligned(16);
    bool online;
};

#define ARCH_CPU_CURRENT_OFFSET 16
#define ARCH_CPU_KERNEL_RSP_OFFSET 24

static inline struct arch_cpu *arch_this_cpu(void)
{
    struct arch_cpu *c;
    __asm__ __volatile__("movq %%gs:0, %0" : "=r"(c));
    return c;
}

static inline unsigned cpu_current_id(void)
{
    unsigned id;
    __asm__ __volatile__("movl %%gs:8, %0" : "=r"(id));
    return id;
}

/* Make `c` this CPU's per-CPU block (writes GS_BASE). */
void arch_cpu_set_percpu(struct arch_cpu *c, unsigned id, uint32_t apic_id);
