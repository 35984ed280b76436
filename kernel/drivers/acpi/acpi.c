/* ACPI discovery as a whole: from the RSDP to a filled struct platform_info
 * and the S5 power-off parameters. Pure code, host tested. */
#include "drivers/acpi.h"
#include "acpi_internal.h"
#include "core/log.h"
#include "lib/errno.h"

/* Safety net against a root table listing the same SSDT over and over. */
#define ACPI_MAX_SSDTS 16

/* \_S5_ is normally in the DSDT; some firmware puts it in an SSDT. */
static bool acpi_find_s5(const struct acpi_tables *t, uint64_t dsdt, uint8_t *a, uint8_t *b)
{
    uint32_t len;
    const uint8_t *aml = acpi_table_map(t->map, dsdt, "DSDT", &len);
    if (aml && acpi_aml_find_s5(aml + ACPI_SDT_HEADER_LEN, len - ACPI_SDT_HEADER_LEN, a, b) == 0)
        return true;
    for (unsigned i = 0; i < ACPI_MAX_SSDTS; i++) {
        aml = acpi_tables_find(t, "SSDT", i, &len);
        if (!aml)
            break;
        if (acpi_aml_find_s5(aml + ACPI_SDT_HEADER_LEN, len - ACPI_SDT_HEADER_LEN, a, b) == 0)
            return true;
    }
    return false;
}

static void acpi_parse_power(const struct acpi_tables *t, struct platform_info *p,
                             struct acpi_poweroff *off)
{
    uint32_t len;
    uint64_t dsdt = 0;
    const uint8_t *fadt = acpi_tables_find(t, "FACP", 0, &len);
    if (!fadt) {
        pr_info("acpi: no FADT\n");
        return;
    }
    if (acpi_fadt_parse(fadt, len, p, off, &dsdt) != 0)
        return;
    uint8_t a, b;
    if (!acpi_find_s5(t, dsdt, &a, &b)) {
        pr_info("acpi: no \\_S5_ object; no ACPI power-off\n");
        return;
    }
    off->slp_typa = a;
    off->slp_typb = b;
    off->valid = off->hw_reduced ? off->sleep_ctl_addr != 0 : off->pm1a_cnt != 0;
}

int acpi_parse_platform(acpi_map_fn map, uint64_t rsdp_hint, struct platform_info *p,
                        struct acpi_poweroff *off)
{
    static struct acpi_tables tables; /* 1 KiB: kept off the boot stack */
    uint64_t rsdp = acpi_rsdp_find(map, rsdp_hint);
    if (!rsdp) {
        pr_info("acpi: no RSDP\n");
        return -ENOENT;
    }
    if (acpi_tables_open(&tables, map, rsdp) != 0)
        return -EINVAL;
    acpi_parse_power(&tables, p, off);
    uint32_t len;
    const uint8_t *t = acpi_tables_find(&tables, "HPET", 0, &len);
    if (t)
        acpi_hpet_parse(t, len, p);
    t = acpi_tables_find(&tables, "APIC", 0, &len);
    if (!t) {
        pr_info("acpi: no MADT\n");
        return -ENOENT;
    }
    int rc = acpi_madt_parse(t, len, p);
    if (rc == 0)
        p->source = "acpi";
    return rc;
}
