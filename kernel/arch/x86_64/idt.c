/* The IDT, shared by all CPUs: every vector goes to its stub in trap_entry.S.
 * Double fault, NMI and machine check run on their own (IST) stacks so they
 * work even when the kernel stack is broken. */
#include "arch/gdt.h"
#include "arch/trap.h"

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
} __packed;

extern char trap_stubs[];
static struct idt_gate idt[256] __aligned(16);

static void idt_set_gate(unsigned vector, uintptr_t handler, uint8_t ist, uint8_t dpl)
{
    idt[vector] = (struct idt_gate){
        .offset_low = (uint16_t)handler,
        .selector = GDT_KERNEL_CODE,
        .ist = ist,
        .type_attr = (uint8_t)(0x8e | (dpl << 5)), /* present, 64-bit interrupt gate */
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_high = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        idt_set_gate(v, (uintptr_t)trap_stubs + 16 * v, 0, 0);
    idt_set_gate(VEC_DOUBLE_FAULT, (uintptr_t)trap_stubs + 16 * VEC_DOUBLE_FAULT, IST_DOUBLE_FAULT, 0);
    idt_set_gate(VEC_NMI, (uintptr_t)trap_stubs + 16 * VEC_NMI, IST_NMI, 0);
    idt_set_gate(VEC_MACHINE_CHECK, (uintptr_t)trap_stubs + 16 * VEC_MACHINE_CHECK, IST_MACHINE_CHECK, 0);
    /* int3 from ring 3 raises SIGTRAP for debuggers, as on Linux */
    idt_set_gate(VEC_BREAKPOINT, (uintptr_t)trap_stubs + 16 * VEC_BREAKPOINT, 0, 3);
}

void idt_load(void)
{
    struct __packed { uint16_t limit; uint64_t base; } idtr = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ __volatile__("lidt %0" : : "m"(idtr));
}
