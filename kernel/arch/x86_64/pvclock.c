/* kvmclock (pvclock ABI): the hypervisor publishes, per vCPU, a TSC timestamp,
 * the system time at that timestamp and a scale to convert TSC deltas to ns.
 * A version counter that is odd while an update is in progress guards reads. */
#include "arch/timesrc.h"
#include "arch/cpu.h"
#include "arch/layout.h"
#include "mm/phys.h"

/* Kernel objects live either in the image or in the direct map. */
static uint64_t kernel_virt_to_phys(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    return v >= KERNEL_VMA ? v - KERNEL_VMA : virt_to_phys(p);
}

void pvclock_register(struct pvclock_vcpu_time_info *info)
{
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, kernel_virt_to_phys(info) | 1);
}

static uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (uint64_t)(((__uint128_t)delta * mul) >> 32);
}

uint64_t pvclock_read_ns(const struct pvclock_vcpu_time_info *info)
{
    uint32_t version;
    uint64_t ns;
    do {
        version = READ_ONCE(info->version);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t delta = rdtsc() - info->tsc_timestamp;
        ns = info->system_time + pvclock_scale(delta, info->tsc_to_system_mul, info->tsc_shift);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != READ_ONCE(info->version));
    return ns;
}

uint64_t pvclock_tsc_khz(const struct pvclock_vcpu_time_info *info)
{
    /* ns = (tsc << shift) * mul / 2^32, so tsc per ms = 10^6 * 2^32 / mul >> shift */
    uint64_t khz = (1000000ull << 32) / info->tsc_to_system_mul;
    if (info->tsc_shift < 0)
        khz <<= -info->tsc_shift;
    else
        khz >>= info->tsc_shift;
    return khz;
}

struct pvclock_wall_clock {
    uint32_t version, sec, nsec;
} __packed;

uint64_t pvclock_boot_epoch_ns(void)
{
    static struct pvclock_wall_clock wc;
    wrmsr(MSR_KVM_WALL_CLOCK_NEW, kernel_virt_to_phys(&wc));
    uint32_t version;
    uint64_t ns;
    do {
        version = READ_ONCE(wc.version);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        ns = wc.sec * 1000000000ull + wc.nsec;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != READ_ONCE(wc.version));
    return ns;
}
