/* Hardware time sources: kvmclock (pvclock), the TSC and the reference timers
 * used to calibrate it (HPET, ACPI PM timer, PIT), and the CMOS RTC. */
#pragma once

#include "lib/types.h"

/* kvmclock: per-CPU structure the hypervisor keeps current. */
struct pvclock_vcpu_time_info {
    uint32_t version, pad0;
    uint64_t tsc_timestamp, system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags, pad[2];
} __packed;

#define PVCLOCK_TSC_STABLE_BIT 0x01

/* Register `info` (in kernel memory) as this CPU's kvmclock area. */
void pvclock_register(struct pvclock_vcpu_time_info *info);
uint64_t pvclock_read_ns(const struct pvclock_vcpu_time_info *info);
/* TSC frequency in kHz implied by the hypervisor's scale factors. */
uint64_t pvclock_tsc_khz(const struct pvclock_vcpu_time_info *info);
/* Wall-clock time of kvmclock's zero in ns since the epoch, 0 on failure. */
uint64_t pvclock_boot_epoch_ns(void);

/* TSC frequency from CPUID leaves 0x40000010, 0x15 and 0x16, 0 if not given. */
uint64_t tsc_khz_from_cpuid(const char **how);
/* Measure the TSC against a reference timer; 0 if the reference is missing. */
uint64_t tsc_calibrate_hpet(uint64_t hpet_phys);
uint64_t tsc_calibrate_pm_timer(uint16_t port, bool bits32);
uint64_t tsc_calibrate_pit(void);

/* CMOS real-time clock as seconds since the epoch, or -1 when absent/invalid. */
int64_t rtc_read_epoch(void);
