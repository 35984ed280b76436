/* The page the kernel shares with the vDSO ("[vvar]"): how to turn a TSC
 * reading into time, kept consistent by a sequence count. Included by the
 * kernel and by the vDSO's user-space code, so plain types only. */
#pragma once

#include <stdint.h>

#define VDSO_MODE_SYSCALL 0  /* no usable clock in user space: the vDSO calls the kernel */
#define VDSO_MODE_TSC 1      /* ns = (tsc - tsc_base) * ns_per_tick_fp >> 32 */
#define VDSO_MODE_PVCLOCK 2  /* kvmclock with a stable TSC: the second vvar page */

struct vdso_pvclock {           /* struct pvclock_vcpu_time_info, the hypervisor's layout */
    uint32_t version, pad0;
    uint64_t tsc_timestamp, system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags, pad[2];
};

struct vdso_data {
    volatile uint32_t seq;      /* odd while the kernel updates the fields below */
    uint32_t mode;
    uint64_t tsc_base;          /* TSC at monotonic zero */
    uint64_t ns_per_tick_fp;    /* 32.32 fixed point */
    uint64_t pvclock_offset_ns; /* kvmclock reading at monotonic zero */
    uint64_t epoch_ns;          /* CLOCK_REALTIME at monotonic zero */
    uint64_t resolution_ns;
    uint32_t have_rdtscp;       /* TSC_AUX holds the CPU number (getcpu) */
};

#define VDSO_VVAR_PAGES 2       /* the data page, then the kvmclock page */
