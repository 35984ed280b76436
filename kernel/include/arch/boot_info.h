/* What the VMM told us at boot, normalised from either boot protocol (PVH
 * start_info or the Linux boot_params zero page) before any subsystem starts. */
#pragma once

#include "lib/types.h"

#define BOOT_MEMMAP_MAX 128
#define BOOT_CMDLINE_MAX 8192

/* e820 numbering, which PVH uses as well. */
enum boot_mem_type {
    BOOT_MEM_USABLE = 1,
    BOOT_MEM_RESERVED = 2,
    BOOT_MEM_ACPI = 3,
    BOOT_MEM_NVS = 4,
    BOOT_MEM_BAD = 5,
};

struct boot_mem_range {
    uint64_t base, size;
    uint32_t type;
};

struct boot_info {
    const char *protocol;          /* "pvh" or "linux" */
    struct boot_mem_range memmap[BOOT_MEMMAP_MAX];
    unsigned memmap_count;
    char cmdline[BOOT_CMDLINE_MAX];
    bool cmdline_truncated;
    uint64_t initrd_base, initrd_size; /* physical; size 0 when none */
    uint64_t rsdp;                 /* physical address of the ACPI RSDP, 0 if not given */
    uint64_t tsc_at_entry;         /* TSC at the first kernel instruction */
};

extern struct boot_info boot_info;

/* Set by the entry code before any C runs. */
extern uint64_t boot_tsc0;
