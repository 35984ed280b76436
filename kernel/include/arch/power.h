/* Leaving the VM: exit status to the host, power off, reset. */
#pragma once

#include "lib/types.h"

#define DEBUG_EXIT_PORT 0xf4

/* Stop the machine reporting `status` (0-255): QEMU's isa-debug-exit when
 * present, then ACPI S5 power-off, then a keyboard-controller reset, then a
 * triple fault. Does not return. */
void arch_machine_exit(int status) __noreturn;

/* ACPI S5 parameters, filled in by the ACPI driver when the FADT/DSDT have them. */
struct acpi_poweroff {
    bool valid;
    uint16_t pm1a_cnt, pm1b_cnt; /* I/O ports; 0 when absent */
    uint16_t slp_typa, slp_typb;
};
extern struct acpi_poweroff acpi_poweroff;
