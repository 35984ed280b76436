/* Page tables: the kernel's map, the direct map of RAM, device and firmware windows. */
#pragma once

#include "lib/types.h"

/* A readable kernel pointer to physical memory that is not necessarily RAM
 * (ACPI tables, the MP table, the EBDA); valid for the kernel's lifetime. */
void *paging_map_phys(uint64_t phys, size_t len);
