/* Local APIC: per-CPU interrupt controller, IPIs and the per-CPU timer.
 * x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise. */
#pragma once

#include "lib/types.h"

void lapic_init_bsp(uint64_t phys); /* choose the mode, map registers, then lapic_init_cpu() */
void lapic_init_cpu(void);          /* enable this CPU's LAPIC (every CPU) */
uint32_t lapic_id(void);
void lapic_eoi(void);
uint32_t lapic_read_error(void);
bool lapic_x2apic_mode(void);

void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_ipi_all_others(uint8_t vector);
void lapic_send_nmi_all_others(void);
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);
/* Wait for the previous IPI to be accepted (xAPIC delivery status). */
void lapic_wait_icr_idle(void);

/* One-shot timer firing `vector`: at an absolute TSC value (TSC-deadline mode)
 * or after a delay in ns (count mode, calibrated against the TSC). */
void lapic_timer_setup(uint8_t vector);
void lapic_timer_arm_tsc(uint64_t deadline_tsc);
void lapic_timer_stop(void);
bool lapic_timer_has_deadline(void);
/* Count-mode calibration: LAPIC timer ticks per TSC tick (fixed point 32.32). */
void lapic_timer_calibrate(void);
