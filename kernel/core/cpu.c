/* Per-CPU blocks and early CPU set-up. */
#include "core/cpu.h"
#include "arch/cpu.h"
#include "arch/trap.h"

struct cpu *cpus[MAX_CPUS];
unsigned cpu_count;

static struct cpu bsp_cpu;
static uint8_t bsp_ist_stacks[IST_COUNT][IST_STACK_SIZE] __aligned(16);

void cpu_bsp_early_init(void)
{
    arch_cpu_set_percpu(&bsp_cpu.arch, 0, 0);
    uintptr_t tops[IST_COUNT];
    for (int i = 0; i < IST_COUNT; i++)
        tops[i] = (uintptr_t)bsp_ist_stacks[i] + IST_STACK_SIZE;
    gdt_init_cpu(&bsp_cpu.arch, tops);
    idt_init();
    idt_load();
    trap_init_handlers();
    cpus[0] = &bsp_cpu;
    cpu_count = 1;
}
