/* Memory management start-up and global figures. */
#pragma once

#include "lib/types.h"

void mm_init(void);
uint64_t mm_total_ram(void);
/* Physical address of 4 pages below 1 MiB set aside for SMP start-up (0 if none). */
extern uint64_t mm_low_page;
