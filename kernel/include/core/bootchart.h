/* Boot phases and their times since the first kernel instruction (--bootchart). */
#pragma once

#include "lib/types.h"

/* Record the end of a boot phase (cheap: one rdtsc). */
void bootchart_mark(const char *phase);
/* Print every phase with its time and the total, as OSv's --bootchart does. */
void bootchart_print(void);
/* Time of the last mark in ns since the first kernel instruction. */
uint64_t bootchart_elapsed_ns(void);
