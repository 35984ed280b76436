/* Host stand-in: each test thread plays one CPU, chosen by setting unit_cpu_id. */
#pragma once

#define MAX_CPUS 64
extern __thread unsigned unit_cpu_id;

static inline unsigned cpu_current_id(void)
{
    return unit_cpu_id;
}
