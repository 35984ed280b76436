/* The machine as firmware tables describe it: CPUs, interrupt controllers,
 * ISA interrupt overrides, timers. Filled by the ACPI driver (MADT, FADT, HPET)
 * or, without ACPI, from the Intel MP table; platform_set_defaults() gives a
 * single-CPU PC when neither exists. */
#pragma once

#include "arch/layout.h"
#include "lib/types.h"

#define PLATFORM_MAX_CPUS MAX_CPUS
#define PLATFORM_MAX_IOAPICS 8
#define PLATFORM_MAX_OVERRIDES 24

#define DEFAULT_LAPIC_PHYS 0xfee00000ull
#define DEFAULT_IOAPIC_PHYS 0xfec00000ull

/* Interrupt polarity/trigger, as in the MPS INTI flags and the MADT. */
#define IRQ_POLARITY_MASK 0x3
#define IRQ_POLARITY_CONFORMS 0x0
#define IRQ_POLARITY_HIGH 0x1
#define IRQ_POLARITY_LOW 0x3
#define IRQ_TRIGGER_MASK 0xc
#define IRQ_TRIGGER_CONFORMS 0x0
#define IRQ_TRIGGER_EDGE 0x4
#define IRQ_TRIGGER_LEVEL 0xc

struct platform_cpu {
    uint32_t apic_id;
};

struct platform_ioapic {
    uint32_t id;
    uint64_t phys;
    uint32_t gsi_base;
};

/* ISA IRQ `source` is wired to global system interrupt `gsi` with `flags`. */
struct platform_irq_override {
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
};

struct platform_info {
    const char *source;            /* "acpi", "mptable" or "default" */
    unsigned cpu_count;
    struct platform_cpu cpus[PLATFORM_MAX_CPUS]; /* cpus[0] is the boot CPU when known */
    uint64_t lapic_phys;
    unsigned ioapic_count;
    struct platform_ioapic ioapics[PLATFORM_MAX_IOAPICS];
    unsigned override_count;
    struct platform_irq_override overrides[PLATFORM_MAX_OVERRIDES];
    bool has_8259;                 /* legacy PICs present (MADT PCAT_COMPAT / MP IMCR) */
    uint64_t hpet_phys;            /* 0 when absent */
    uint16_t pm_timer_port;        /* ACPI PM timer I/O port, 0 when absent */
    bool pm_timer_32bit;
    uint8_t reset_reg_space;       /* FADT RESET_REG: 1 = I/O port; 0 when absent */
    uint64_t reset_reg_addr;
    uint8_t reset_value;
};

extern struct platform_info platform;

void platform_set_defaults(struct platform_info *p);
