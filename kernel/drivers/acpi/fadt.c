/* FADT ("FACP") and HPET table parsing: timers, reset and sleep registers, the
 * DSDT's address. Pure code, host tested. Offsets are the ACPI 6.x ones;
 * fields past an older table's length read as absent. */
#include "drivers/acpi.h"
#include "acpi_internal.h"
#include "core/log.h"
#include "lib/errno.h"

#define FADT_OFF_DSDT 40
#define FADT_OFF_PM1A_CNT 64
#define FADT_OFF_PM1B_CNT 68
#define FADT_OFF_PM_TMR 76
#define FADT_OFF_PM_TMR_LEN 91
#define FADT_OFF_FLAGS 112
#define FADT_OFF_RESET_REG 116
#define FADT_OFF_RESET_VALUE 128
#define FADT_OFF_X_DSDT 140
#define FADT_OFF_X_PM1A_CNT 172
#define FADT_OFF_X_PM1B_CNT 184
#define FADT_OFF_X_PM_TMR 208
#define FADT_OFF_SLEEP_CTL 244
#define FADT_MIN_LEN 116 /* ACPI 1.0: everything up to the flags */

#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED (1u << 20)

#define HPET_OFF_BASE 40
#define HPET_MIN_LEN (HPET_OFF_BASE + ACPI_GAS_LEN)

/* A register block's I/O port: the 64-bit X_ field when set, else the 32-bit
 * one. Memory-mapped blocks are not supported (no x86 VMM uses them), so they
 * read as absent rather than as a bogus port. */
static uint16_t fadt_port(const uint8_t *t, uint32_t len, uint32_t x_off, uint32_t legacy_off)
{
    struct acpi_gas g = fw_gas(t, len, x_off);
    uint64_t port = fw_field32(t, len, legacy_off);
    if (g.addr) {
        if (g.space != ACPI_SPACE_IO)
            return 0;
        port = g.addr;
    }
    return port <= 0xffff ? (uint16_t)port : 0;
}

static void fadt_reset_reg(const uint8_t *t, uint32_t len, uint32_t flags, struct platform_info *p)
{
    struct acpi_gas g = fw_gas(t, len, FADT_OFF_RESET_REG);
    /* platform_info keeps I/O resets only (0 means absent there); QEMU's is
     * port 0xcf9, and memory or PCI-config ones are left to the i8042 path. */
    if (!(flags & FADT_RESET_REG_SUP) || g.space != ACPI_SPACE_IO || !g.addr || g.addr > 0xffff)
        return;
    p->reset_reg_space = ACPI_SPACE_IO;
    p->reset_reg_addr = g.addr;
    p->reset_value = fw_field8(t, len, FADT_OFF_RESET_VALUE);
}

/* Hardware-reduced ACPI ignores the fixed register blocks (PM1, PM timer,
 * GPE): sleeping goes through SLEEP_CONTROL_REG. */
static void fadt_sleep_ctl(const uint8_t *t, uint32_t len, struct acpi_poweroff *off)
{
    struct acpi_gas g = fw_gas(t, len, FADT_OFF_SLEEP_CTL);
    off->hw_reduced = true;
    off->pm1a_cnt = off->pm1b_cnt = 0;
    if (!g.addr || (g.space != ACPI_SPACE_IO && g.space != ACPI_SPACE_MEMORY) ||
        (g.space == ACPI_SPACE_IO && g.addr > 0xffff)) {
        pr_info("acpi: hardware-reduced FADT without a usable SLEEP_CONTROL_REG\n");
        return;
    }
    off->sleep_ctl_space = g.space;
    off->sleep_ctl_addr = g.addr;
}

int acpi_fadt_parse(const uint8_t *t, uint32_t len, struct platform_info *p,
                    struct acpi_poweroff *off, uint64_t *dsdt)
{
    if (len < FADT_MIN_LEN || memcmp(t, "FACP", 4) != 0) {
        pr_warn("acpi: not a valid FADT (%u bytes)\n", len);
        return -EINVAL;
    }
    uint32_t flags = fw_rd32(t + FADT_OFF_FLAGS);
    *dsdt = fw_field64(t, len, FADT_OFF_X_DSDT);
    if (!*dsdt)
        *dsdt = fw_rd32(t + FADT_OFF_DSDT);
    fadt_reset_reg(t, len, flags, p);
    if (flags & FADT_HW_REDUCED) {
        fadt_sleep_ctl(t, len, off);
        return 0;
    }
    off->hw_reduced = false;
    off->pm1a_cnt = fadt_port(t, len, FADT_OFF_X_PM1A_CNT, FADT_OFF_PM1A_CNT);
    off->pm1b_cnt = fadt_port(t, len, FADT_OFF_X_PM1B_CNT, FADT_OFF_PM1B_CNT);
    /* PM_TMR_LEN is 4 when the timer exists, 0 when it does not. */
    if (fw_field8(t, len, FADT_OFF_PM_TMR_LEN) >= 4) {
        p->pm_timer_port = fadt_port(t, len, FADT_OFF_X_PM_TMR, FADT_OFF_PM_TMR);
        p->pm_timer_32bit = p->pm_timer_port && (flags & FADT_TMR_VAL_EXT);
    }
    return 0;
}

int acpi_hpet_parse(const uint8_t *t, uint32_t len, struct platform_info *p)
{
    if (len < HPET_MIN_LEN || memcmp(t, "HPET", 4) != 0) {
        pr_warn("acpi: not a valid HPET table (%u bytes)\n", len);
        return -EINVAL;
    }
    struct acpi_gas g = fw_gas(t, len, HPET_OFF_BASE);
    if (g.space != ACPI_SPACE_MEMORY || !g.addr) {
        pr_warn("acpi: HPET table gives no memory address\n");
        return -EINVAL;
    }
    p->hpet_phys = g.addr;
    return 0;
}
