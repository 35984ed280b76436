/* Kernel side of firmware-table discovery: physical memory through
 * paging_map_phys, the order ACPI -> MP table -> defaults, one summary line. */
#include "drivers/acpi.h"
#include "arch/boot_info.h"
#include "arch/paging.h"
#include "core/log.h"
#include "lib/printf.h"
#include "lib/string.h"

/* x86-64's architectural limit on physical addresses: a table pointer
 * beyond it is garbage, and mapping it would fail or alias. */
#define DISCOVER_PHYS_LIMIT (1ull << 52)

static const void *discover_map(uint64_t phys, size_t len)
{
    if (!len || phys >= DISCOVER_PHYS_LIMIT || len > DISCOVER_PHYS_LIMIT - phys)
        return NULL;
    return paging_map_phys(phys, len);
}

/* Mapped now: at power-off time nothing may allocate page tables. */
static void discover_map_sleep_ctl(void)
{
    struct acpi_poweroff *off = &acpi_poweroff;
    if (!off->valid || !off->hw_reduced || off->sleep_ctl_space != ACPI_SPACE_MEMORY)
        return;
    if (off->sleep_ctl_addr < DISCOVER_PHYS_LIMIT)
        off->sleep_ctl_mmio = paging_map_mmio(off->sleep_ctl_addr, 1);
    if (!off->sleep_ctl_mmio) {
        pr_warn("acpi: cannot map SLEEP_CONTROL_REG at %#lx\n", off->sleep_ctl_addr);
        off->valid = false;
    }
}

static void discover_log(const struct platform_info *p)
{
    char line[200];
    size_t n = (size_t)snprintf(line, sizeof(line), "platform: %s, %u CPU%s, %u IOAPIC%s",
                                p->source, p->cpu_count, p->cpu_count == 1 ? "" : "s",
                                p->ioapic_count, p->ioapic_count == 1 ? "" : "s");
    if (p->hpet_phys && n < sizeof(line))
        n += (size_t)snprintf(line + n, sizeof(line) - n, ", HPET at %#lx", p->hpet_phys);
    if (p->pm_timer_port && n < sizeof(line))
        n += (size_t)snprintf(line + n, sizeof(line) - n, ", PM timer port %#x", p->pm_timer_port);
    if (acpi_poweroff.valid && n < sizeof(line))
        snprintf(line + n, sizeof(line) - n, ", ACPI S5%s",
                 acpi_poweroff.hw_reduced ? " (hardware-reduced)" : "");
    pr_info("%s\n", line);
    for (unsigned i = 0; i < p->override_count; i++)
        pr_debug("platform: ISA IRQ %u -> GSI %u, flags %#x\n", p->overrides[i].source,
                 p->overrides[i].gsi, p->overrides[i].flags);
}

void platform_discover(struct platform_info *p)
{
    platform_set_defaults(p);
    memset(&acpi_poweroff, 0, sizeof(acpi_poweroff));
    if (acpi_parse_platform(discover_map, boot_info.rsdp, p, &acpi_poweroff) != 0) {
        uint64_t fps = mptable_find(discover_map);
        if (!fps)
            pr_info("mptable: none found\n");
        if (!fps || mptable_parse(discover_map, fps, p) != 0)
            pr_info("platform: no usable ACPI MADT or MP table; assuming one CPU\n");
    }
    discover_map_sleep_ctl();
    discover_log(p);
}
