/* Firmware tables: ACPI (RSDP, RSDT/XSDT, MADT, FADT, HPET, the DSDT's \_S5_)
 * and, for machines without ACPI, the Intel MP table, parsed into struct
 * platform_info. The parsers are pure and unit tested on the host: physical
 * memory is reached only through the caller's acpi_map_fn. */
#pragma once

#include "arch/platform.h"
#include "arch/power.h"
#include "lib/types.h"

/* A readable pointer to physical [phys, phys+len), or NULL when that memory
 * cannot be reached. The MP table code uses it too. */
typedef const void *(*acpi_map_fn)(uint64_t phys, size_t len);

#define ACPI_SDT_HEADER_LEN 36
/* Larger "tables" are taken as corrupt: the biggest real DSDTs are a few
 * hundred KiB, and mapping gigabytes on a bad length would eat page tables. */
#define ACPI_TABLE_MAX_LEN (4u << 20)
#define ACPI_MAX_TABLES 64

/* The BIOS data area word at 0x40e holds the EBDA segment. */
#define BIOS_EBDA_SEGMENT_PTR 0x40e
#define BIOS_ROM_START 0xe0000
#define BIOS_ROM_END 0x100000

bool acpi_checksum_ok(const void *buf, size_t len);

/* What a valid RSDP points at. xsdt is 0 for ACPI 1.0 or when the extended
 * checksum or length is bad (ext_bad). */
struct acpi_rsdp_info {
    uint8_t revision;
    bool ext_bad;
    uint64_t rsdt, xsdt;
};

/* Validate an RSDP candidate at buf (avail bytes readable). 0 or -EINVAL. */
int acpi_rsdp_parse(const uint8_t *buf, size_t avail, struct acpi_rsdp_info *out);
/* The RSDP's physical address: `hint` (the loader's) when it holds a valid
 * one, else the first found in the EBDA's first KiB or 0xE0000-0xFFFFF. 0 if none. */
uint64_t acpi_rsdp_find(acpi_map_fn map, uint64_t hint);

/* The first `len` bytes at phys checked as one ACPI table: signature (`sig`,
 * or any when NULL), a length from 36 bytes to ACPI_TABLE_MAX_LEN that is
 * readable, and the checksum. Returns the table and sets *len, or NULL with a
 * log line. */
const uint8_t *acpi_table_map(acpi_map_fn map, uint64_t phys, const char *sig, uint32_t *len);

/* The tables the root table (the XSDT, else the RSDT) lists. */
struct acpi_tables {
    acpi_map_fn map;
    bool xsdt;
    unsigned count;
    struct {
        char sig[4];
        uint64_t phys;
    } entry[ACPI_MAX_TABLES];
};

int acpi_tables_open(struct acpi_tables *t, acpi_map_fn map, uint64_t rsdp_phys);
/* The index-th valid table with signature sig, mapped and checked; NULL if none. */
const uint8_t *acpi_tables_find(const struct acpi_tables *t, const char *sig, unsigned index,
                                uint32_t *len);

/* Single tables. Each returns 0 or a negative errno (with a log line) and
 * leaves the output untouched on error where noted. */
/* MADT: CPUs, IOAPICs, ISA overrides, LAPIC address, PCAT_COMPAT. On error
 * `p` is unchanged. */
int acpi_madt_parse(const uint8_t *madt, uint32_t len, struct platform_info *p);
/* FADT: PM timer, RESET_REG, PM1 control blocks or SLEEP_CONTROL_REG, and
 * the DSDT's address (*dsdt, 0 if none). */
int acpi_fadt_parse(const uint8_t *fadt, uint32_t len, struct platform_info *p,
                    struct acpi_poweroff *off, uint64_t *dsdt);
int acpi_hpet_parse(const uint8_t *hpet, uint32_t len, struct platform_info *p);
/* Find Name(\_S5_, Package(){a, b, ...}) in AML and decode SLP_TYPa/b. */
int acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);

/* All of ACPI: FADT, HPET and S5 fill what they can; returns 0 when the MADT
 * parsed (p->source = "acpi"), else a negative errno with the CPU and
 * interrupt-controller part of `p` unchanged. */
int acpi_parse_platform(acpi_map_fn map, uint64_t rsdp_hint, struct platform_info *p,
                        struct acpi_poweroff *off);

/* Scan [start, start+len) on 16-byte boundaries; the first position where
 * match(candidate, bytes left) is true, as a physical address, or 0. */
uint64_t acpi_scan_range(acpi_map_fn map, uint64_t start, size_t len,
                         bool (*match)(const uint8_t *buf, size_t avail));
/* Physical address of the EBDA from the BIOS data area, 0 when it is not set
 * or not where an EBDA can be (just below 640 KiB). */
uint64_t acpi_ebda_phys(acpi_map_fn map);

/* Intel MultiProcessor Specification 1.4 tables. */
/* The floating pointer's physical address: EBDA first KiB, last KiB of base
 * memory (639-640 KiB), BIOS ROM 0xF0000-0xFFFFF. 0 if none. */
uint64_t mptable_find(acpi_map_fn map);
/* Parse the floating pointer at fps_phys and its configuration table. 0 and
 * p->source = "mptable", or a negative errno with `p` unchanged. */
int mptable_parse(acpi_map_fn map, uint64_t fps_phys, struct platform_info *p);

/* Kernel: fill `p` from the firmware (defaults, then ACPI when its MADT
 * parses, else the MP table) and the ACPI S5 parameters; logs one summary line. */
void platform_discover(struct platform_info *p);
