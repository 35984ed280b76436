/* Machine exit. The status leaves through isa-debug-exit (QEMU exits with
 * (status << 1) | 1); without it, ACPI S5 or a reset ends the VM. */
#include "arch/power.h"
#include "arch/cpu.h"
#include "arch/io.h"

struct acpi_poweroff acpi_poweroff;

#define PM1_SLP_EN (1u << 13)

static void acpi_s5(void)
{
    if (!acpi_poweroff.valid || !acpi_poweroff.pm1a_cnt)
        return;
    outw(acpi_poweroff.pm1a_cnt, (uint16_t)((acpi_poweroff.slp_typa << 10) | PM1_SLP_EN));
    if (acpi_poweroff.pm1b_cnt)
        outw(acpi_poweroff.pm1b_cnt, (uint16_t)((acpi_poweroff.slp_typb << 10) | PM1_SLP_EN));
}

static void triple_fault(void)
{
    struct __packed { uint16_t limit; uint64_t base; } empty = { 0, 0 };
    __asm__ __volatile__("lidt %0; int3" : : "m"(empty));
}

void arch_machine_exit(int status)
{
    irq_disable();
    outl(DEBUG_EXIT_PORT, (uint32_t)status & 0xff);
    acpi_s5();
    /* Pulse the reset line through the i8042 (Firecracker treats this as shutdown;
     * QEMU with -no-reboot exits). */
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
        cpu_pause();
    outb(0x64, 0xfe);
    for (int i = 0; i < 1000000; i++)
        cpu_pause();
    triple_fault();
    for (;;)
        cpu_halt();
}
