/* I/O APIC: routes device interrupts (global system interrupts) to vectors. */
#pragma once

#include "lib/types.h"

void ioapic_init(void); /* map every IOAPIC from the platform tables, mask all pins */
/* Route an ISA IRQ (applying firmware overrides) to `vector` on `apic_id`. */
int ioapic_route_isa_irq(unsigned irq, uint8_t vector, uint32_t apic_id);
/* Route a GSI with explicit polarity/trigger (IRQ_POLARITY_* | IRQ_TRIGGER_*). */
int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t apic_id, uint16_t flags);
void ioapic_mask_gsi(uint32_t gsi);
