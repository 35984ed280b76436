/* Leaving the VM: exit status to the host, power off, reset. */
#pragma once

#include "lib/types.h"

#define DEBUG_EXIT_PORT 0xf4

/* Stop the machine reporting `status` (0-255): QEMU's isa-debug-exit when
 * present, then ACPI S5 power-off, then a keyboard-controller reset, then a
 * triple fault. Does not return. */
void arch_machine_exit(int status) __noreturn;

/* ACPI Generic Address Structure address spaces. */
#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1

/* ACPI S5 parameters, filled in by the ACPI driver when the FADT/DSDT have them.
 * valid: \_S5_ was found and there is a register to write it to. */
struct acpi_poweroff {
    bool valid;
    uint16_t pm1a_cnt, pm1b_cnt; /* I/O ports; 0 when absent */
    uint16_t slp_typa, slp_typb;
    /* Hardware-reduced ACPI (Cloud Hypervisor, Firecracker, microvm with ACPI)
     * has no PM1 blocks: S5 is (SLP_TYPa << 2) | SLP_EN written to the FADT's
     * SLEEP_CONTROL_REG, an I/O port or memory (then mapped at discovery). */
    bool hw_reduced;
    uint8_t sleep_ctl_space;          /* ACPI_SPACE_MEMORY or ACPI_SPACE_IO */
    uint64_t sleep_ctl_addr;
    volatile uint8_t *sleep_ctl_mmio; /* the mapping when in memory space */
};
extern struct acpi_poweroff acpi_poweroff;
