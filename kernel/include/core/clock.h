/* The kernel's clocks: monotonic time since the first kernel instruction, wall
 * time, and the conversion to TSC deadlines the timer hardware wants. */
#pragma once

#include "lib/time.h"
#include "lib/types.h"

/* Pick a clock source and find the TSC frequency (boot CPU). */
void clock_init(uint64_t tsc_khz_hint);
/* Per-CPU part (kvmclock registration) for every CPU, boot CPU included. */
void clock_init_cpu(void);

uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
uint64_t clock_tsc_khz(void);
/* The TSC value at which monotonic time reaches ns (clamped to now if past). */
uint64_t clock_ns_to_tsc_deadline(uint64_t ns);
/* Monotonic ns for a TSC value read on this machine (bootchart, tracing). */
uint64_t clock_tsc_to_ns(uint64_t tsc);
const char *clock_source_name(void);
const char *clock_calibration_name(void);

/* What the vDSO needs to read the clock in ring 3. */
#define CLOCK_USER_NONE 0     /* only the kernel can read it (per-CPU kvmclock) */
#define CLOCK_USER_TSC 1
#define CLOCK_USER_PVCLOCK 2
struct clock_user_params {
    uint64_t tsc_base, ns_per_tick_fp, pvclock_offset_ns, epoch_ns;
    const void *pvclock_virt; /* the page holding the boot CPU's kvmclock area */
};
int clock_user_params(struct clock_user_params *p);
/* clock_settime(CLOCK_REALTIME): move the wall clock. */
void clock_set_realtime_ns(uint64_t ns);
