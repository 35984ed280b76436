/* Clock selection. kvmclock is used when the hypervisor offers it; otherwise
 * the TSC, whose frequency comes from (in order) the hypervisor, CPUID, the
 * host tool's hint, or a measurement against the HPET, the ACPI PM timer or
 * the PIT. Without any of these the kernel still runs, with a warning and a
 * guessed frequency, rather than stopping for lack of a clock. */
#include "core/clock.h"
#include "arch/boot_info.h"
#include "arch/cpu.h"
#include "arch/platform.h"
#include "arch/timesrc.h"
#include "core/cpu.h"
#include "core/log.h"

#define GUESSED_TSC_KHZ ((uint64_t)2000000)

static bool clock_kvm;           /* reading kvmclock */
static bool clock_kvm_stable;    /* every CPU's TSC agrees: one kvmclock area serves all */
static uint64_t clock_khz;
static uint64_t clock_ns_per_tick_fp; /* 32.32 fixed point */
static uint64_t clock_ticks_per_ns_fp; /* 32.32 fixed point */
static uint64_t clock_offset_ns;      /* kvmclock reading at the first kernel instruction */
static uint64_t clock_epoch_ns;       /* wall time at monotonic zero */
static uint64_t clock_last_ns;        /* for monotonicity when TSCs may differ */
static const char *clock_calibration = "none";
/* kvmclock area of the boot CPU, alone in its page: the vDSO maps that page
 * into the application (read-only) to read the clock without a syscall. */
static union {
    struct pvclock_vcpu_time_info info;
    uint8_t page[4096];
} clock_pv_page __aligned(4096);
#define clock_pv_boot (clock_pv_page.info)

static uint64_t tsc_khz_measure(void)
{
    uint64_t khz;
    if ((khz = tsc_calibrate_hpet(platform.hpet_phys))) {
        clock_calibration = "HPET";
        return khz;
    }
    if ((khz = tsc_calibrate_pm_timer(platform.pm_timer_port, platform.pm_timer_32bit))) {
        clock_calibration = "ACPI PM timer";
        return khz;
    }
    if ((khz = tsc_calibrate_pit())) {
        clock_calibration = "PIT";
        return khz;
    }
    return 0;
}

static uint64_t tsc_khz_find(uint64_t hint)
{
    const char *how = NULL;
    uint64_t khz = tsc_khz_from_cpuid(&how);
    if (khz) {
        clock_calibration = how;
        return khz;
    }
    if (hint) {
        clock_calibration = "--tsc-khz";
        return hint;
    }
    if ((khz = tsc_khz_measure()))
        return khz;
    pr_warn("clock: no way to measure the TSC frequency (no kvmclock, HPET, PM timer or PIT); "
            "assuming %lu MHz, so time may run at the wrong rate\n", GUESSED_TSC_KHZ / 1000);
    clock_calibration = "guess";
    return GUESSED_TSC_KHZ;
}

void clock_init(uint64_t tsc_khz_hint)
{
    if (cpu_features.kvmclock) {
        pvclock_register(&clock_pv_boot);
        clock_kvm = true;
        clock_kvm_stable = cpu_features.kvmclock_stable && (clock_pv_boot.flags & PVCLOCK_TSC_STABLE_BIT);
        clock_khz = pvclock_tsc_khz(&clock_pv_boot);
        clock_calibration = "kvmclock";
        uint64_t now_ns = pvclock_read_ns(&clock_pv_boot), now_tsc = rdtsc();
        clock_offset_ns = now_ns - (now_tsc - boot_info.tsc_at_entry) * 1000000ull / clock_khz;
    } else {
        clock_khz = tsc_khz_find(tsc_khz_hint);
    }
    clock_ns_per_tick_fp = (1000000ull << 32) / clock_khz;
    clock_ticks_per_ns_fp = (clock_khz << 32) / 1000000ull;

    uint64_t epoch = 0;
    if (clock_kvm) {
        uint64_t wall_at_zero = pvclock_boot_epoch_ns();
        if (wall_at_zero)
            epoch = wall_at_zero + clock_offset_ns;
    }
    if (!epoch) {
        int64_t rtc = rtc_read_epoch();
        if (rtc >= 0)
            epoch = (uint64_t)rtc * NSEC_PER_SEC - clock_monotonic_ns();
        else
            pr_warn("clock: no kvmclock and no RTC; the wall clock starts at 1970\n");
    }
    clock_epoch_ns = epoch;
    log_set_clock(clock_monotonic_ns);
    pr_info("clock: %s, TSC %lu kHz (from %s)\n", clock_source_name(), clock_khz, clock_calibration);
}

void clock_init_cpu(void)
{
    /* With an unstable TSC each CPU reads its own kvmclock area. */
    if (clock_kvm && !clock_kvm_stable && this_cpu() != cpus[0])
        pvclock_register(&this_cpu()->pvclock);
}

uint64_t clock_tsc_to_ns(uint64_t tsc)
{
    uint64_t delta = tsc > boot_info.tsc_at_entry ? tsc - boot_info.tsc_at_entry : 0;
    return (uint64_t)(((__uint128_t)delta * clock_ns_per_tick_fp) >> 32);
}

uint64_t clock_monotonic_ns(void)
{
    if (!clock_kvm)
        return clock_tsc_to_ns(rdtsc());
    if (clock_kvm_stable)
        return pvclock_read_ns(&clock_pv_boot) - clock_offset_ns;
    irqflags_t f = irq_save();
    const struct pvclock_vcpu_time_info *pv = this_cpu() == cpus[0] ? &clock_pv_boot : &this_cpu()->pvclock;
    uint64_t ns = pvclock_read_ns(pv) - clock_offset_ns;
    irq_restore(f);
    /* never let time step back when moving between CPUs */
    uint64_t last = __atomic_load_n(&clock_last_ns, __ATOMIC_RELAXED);
    while (ns > last && !__atomic_compare_exchange_n(&clock_last_ns, &last, ns, true,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return ns > last ? ns : last;
}

uint64_t clock_realtime_ns(void)
{
    return clock_epoch_ns + clock_monotonic_ns();
}

uint64_t clock_tsc_khz(void)
{
    return clock_khz;
}

uint64_t clock_ns_to_tsc_deadline(uint64_t ns)
{
    uint64_t now_tsc = rdtsc(), now_ns = clock_monotonic_ns();
    if (ns <= now_ns)
        return now_tsc;
    uint64_t delta = (uint64_t)(((__uint128_t)(ns - now_ns) * clock_ticks_per_ns_fp) >> 32);
    return now_tsc + delta;
}

const char *clock_source_name(void)
{
    return clock_kvm ? "kvmclock" : "tsc";
}

const char *clock_calibration_name(void)
{
    return clock_calibration;
}

int clock_user_params(struct clock_user_params *p)
{
    p->tsc_base = boot_info.tsc_at_entry;
    p->ns_per_tick_fp = clock_ns_per_tick_fp;
    p->pvclock_offset_ns = clock_offset_ns;
    p->epoch_ns = clock_epoch_ns;
    p->pvclock_virt = &clock_pv_page;
    if (!clock_kvm)
        return CLOCK_USER_TSC;
    return clock_kvm_stable ? CLOCK_USER_PVCLOCK : CLOCK_USER_NONE;
}

void clock_set_realtime_ns(uint64_t ns)
{
    clock_epoch_ns = ns - clock_monotonic_ns();
}
