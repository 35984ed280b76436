/* Per-CPU GDT and TSS. Selector layout follows what SYSCALL/SYSRET require:
 * kernel code, kernel data, then user code32, user data, user code64. */
#include "arch/cpu.h"
#include "arch/gdt.h"
#include "arch/percpu.h"
#include "arch/trap.h"
#include "lib/string.h"

#define SEG_ACCESSED (1ull << 40)
#define SEG_RW (1ull << 41)
#define SEG_EXEC (1ull << 43)
#define SEG_CODE_DATA (1ull << 44)
#define SEG_DPL3 (3ull << 45)
#define SEG_PRESENT (1ull << 47)
#define SEG_LONG (1ull << 53)
#define SEG_DB32 (1ull << 54)
#define SEG_GRAN (1ull << 55)
#define SEG_LIMIT_MAX (0xffffull | (0xfull << 48))

static const uint64_t gdt_template[GDT_ENTRIES] = {
    [0] = 0,
    [GDT_KERNEL_CODE / 8] = SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_LONG | SEG_ACCESSED,
    [GDT_KERNEL_DATA / 8] = SEG_PRESENT | SEG_CODE_DATA | SEG_RW | SEG_ACCESSED | SEG_GRAN | SEG_DB32 | SEG_LIMIT_MAX,
    [GDT_USER_CODE32 / 8] = SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_DPL3 | SEG_ACCESSED | SEG_GRAN | SEG_DB32 | SEG_LIMIT_MAX,
    [GDT_USER_DATA / 8] = SEG_PRESENT | SEG_CODE_DATA | SEG_RW | SEG_DPL3 | SEG_ACCESSED | SEG_GRAN | SEG_DB32 | SEG_LIMIT_MAX,
    [GDT_USER_CODE64 / 8] = SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_DPL3 | SEG_LONG | SEG_ACCESSED,
};

static void gdt_set_tss(uint64_t *gdt, const struct tss *tss)
{
    uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;
    gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x9ull << 40) /* available 64-bit TSS */
                       | SEG_PRESENT | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[GDT_TSS / 8 + 1] = base >> 32;
}

void gdt_init_cpu(struct arch_cpu *c, const uintptr_t ist_tops[IST_COUNT])
{
    memcpy(c->gdt, gdt_template, sizeof(gdt_template));
    memset(&c->tss, 0, sizeof(c->tss));
    for (int i = 0; i < IST_COUNT; i++)
        c->tss.ist[i] = ist_tops[i];
    c->tss.iomap_base = sizeof(struct tss); /* no I/O bitmap: ring 3 gets no ports */
    gdt_set_tss(c->gdt, &c->tss);

    struct __packed { uint16_t limit; uint64_t base; } gdtr = { sizeof(c->gdt) - 1, (uint64_t)c->gdt };
    __asm__ __volatile__(
        "lgdt %0\n\t"
        "movl %1, %%ds\n\t"
        "movl %1, %%es\n\t"
        "movl %1, %%ss\n\t"
        "pushq %2\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "ltr %w3"
        :
        : "m"(gdtr), "r"((uint32_t)GDT_KERNEL_DATA), "i"((uint64_t)GDT_KERNEL_CODE), "r"((uint32_t)GDT_TSS)
        : "rax", "memory");
}

void arch_cpu_set_percpu(struct arch_cpu *c, unsigned id, uint32_t apic_id)
{
    c->self = c;
    c->id = id;
    c->apic_id = apic_id;
    /* %fs and %gs selectors must be null before the base MSRs are written */
    __asm__ __volatile__("movl %0, %%fs; movl %0, %%gs" : : "r"(0));
    wrmsr(MSR_GS_BASE, (uint64_t)c);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}
