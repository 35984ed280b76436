/* Machine exit. The status leaves through isa-debug-exit (QEMU exits with
 * (status << 1) | 1); without it, ACPI S5 or a reset ends the VM. */
#include "arch/power.h"
#include "arch/cpu.h"
#include "arch/io.h"

struct acpi_poweroff acpi_poweroff;

#define PM1_SLP_EN (1u << 13)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define SLEEP_CTL_SLP_EN (1u << 5)
#define SLEEP_CTL_SLP_TYP_SHIFT 2

/* Keep the other PM1 control bits (SCI_EN above all) as firmware left them. */
static void pm1_sleep(uint16_t port, uint16_t slp_typ)
{
    uint16_t v = (uint16_t)(inw(port) & ~PM1_SLP_TYP_MASK);
    outw(port, (uint16_t)(v | (slp_typ << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
}

static void sleep_ctl_write(uint8_t v)
{
    if (acpi_poweroff.sleep_ctl_space == ACPI_SPACE_IO)
        outb((uint16_t)acpi_poweroff.sleep_ctl_addr, v);
    else if (acpi_poweroff.sleep_ctl_mmio)
        *acpi_poweroff.sleep_ctl_mmio = v;
}

static void acpi_s5(void)
{
    if (!acpi_poweroff.valid)
        return;
    if (acpi_poweroff.hw_reduced) {
        sleep_ctl_write((uint8_t)(((acpi_poweroff.slp_typa & 7) << SLEEP_CTL_SLP_TYP_SHIFT) |
                                  SLEEP_CTL_SLP_EN));
        return;
    }
    if (!acpi_poweroff.pm1a_cnt)
        return;
    pm1_sleep(acpi_poweroff.pm1a_cnt, acpi_poweroff.slp_typa & 7);
    if (acpi_poweroff.pm1b_cnt)
        pm1_sleep(acpi_poweroff.pm1b_cnt, acpi_poweroff.slp_typb & 7);
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
