/* TSC frequency: from CPUID when the CPU or hypervisor states it, otherwise
 * measured against a timer of known frequency. Each calibration counts TSC ticks
 * over about 5 ms of the reference and takes the best of three runs. */
#include "arch/timesrc.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/paging.h"

#define CALIBRATE_RUNS 3

uint64_t tsc_khz_from_cpuid(const char **how)
{
    if (cpu_features.max_hv_leaf >= 0x40000010) {
        /* VMware's timing leaf, also offered by KVM/QEMU: TSC kHz in eax */
        uint32_t khz = cpuid(0x40000010, 0).eax;
        if (khz) {
            *how = "cpuid 0x40000010";
            return khz;
        }
    }
    if (cpu_features.max_leaf >= 0x15) {
        struct cpuid_regs r = cpuid(0x15, 0);
        if (r.eax && r.ebx && r.ecx) {
            *how = "cpuid 0x15";
            return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
        }
    }
    return 0;
}

/* Run `measure` (returns TSC ticks per `ref_ns` of reference time) a few
 * times and keep the smallest, least disturbed by interruptions. */
static uint64_t calibrate_best(uint64_t (*measure)(void *ctx), void *ctx, uint64_t ref_ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < CALIBRATE_RUNS; i++) {
        uint64_t t = measure(ctx);
        if (t && t < best)
            best = t;
    }
    if (best == UINT64_MAX)
        return 0;
    return best * 1000000ull / ref_ns; /* ticks per ms */
}

struct hpet_ctx {
    volatile uint8_t *regs;
    uint64_t ticks; /* HPET ticks per measurement */
};

#define HPET_CAPS 0x000
#define HPET_CONFIG 0x010
#define HPET_COUNTER 0x0f0
#define HPET_CALIBRATE_NS 5000000ull

static uint64_t hpet_measure(void *p)
{
    struct hpet_ctx *c = p;
    uint64_t h0 = mmio_read64(c->regs + HPET_COUNTER), t0 = rdtsc();
    while (mmio_read64(c->regs + HPET_COUNTER) - h0 < c->ticks)
        cpu_pause();
    return rdtsc() - t0;
}

uint64_t tsc_calibrate_hpet(uint64_t hpet_phys)
{
    if (!hpet_phys)
        return 0;
    struct hpet_ctx c = { paging_map_mmio(hpet_phys, 1024), 0 };
    if (!c.regs)
        return 0;
    uint32_t period_fs = (uint32_t)(mmio_read64(c.regs + HPET_CAPS) >> 32);
    if (period_fs == 0 || period_fs > 100000000) /* the spec caps it at 100 ns */
        return 0;
    mmio_write32(c.regs + HPET_CONFIG, mmio_read32(c.regs + HPET_CONFIG) | 1); /* run */
    c.ticks = HPET_CALIBRATE_NS * 1000000ull / period_fs;
    uint64_t ref_ns = c.ticks * period_fs / 1000000ull;
    return calibrate_best(hpet_measure, &c, ref_ns);
}

struct pm_ctx {
    uint16_t port;
    uint32_t mask, ticks;
};

#define PM_TIMER_HZ 3579545ull

static uint64_t pm_measure(void *p)
{
    struct pm_ctx *c = p;
    uint32_t p0 = inl(c->port) & c->mask;
    uint64_t t0 = rdtsc();
    while (((inl(c->port) - p0) & c->mask) < c->ticks)
        cpu_pause();
    return rdtsc() - t0;
}

uint64_t tsc_calibrate_pm_timer(uint16_t port, bool bits32)
{
    if (!port)
        return 0;
    struct pm_ctx c = { port, bits32 ? 0xffffffffu : 0xffffffu, 17898 }; /* ~5 ms */
    /* a missing device reads all ones and never moves */
    uint32_t a = inl(port) & c.mask;
    for (int i = 0; i < 100000 && (inl(port) & c.mask) == a; i++)
        cpu_pause();
    if ((inl(port) & c.mask) == a)
        return 0;
    return calibrate_best(pm_measure, &c, c.ticks * 1000000000ull / PM_TIMER_HZ);
}

#define PIT_HZ 1193182ull
#define PIT_TICKS 5966 /* ~5 ms */

static uint64_t pit_measure(void *unused)
{
    (void)unused;
    /* channel 2, gate on, speaker off; mode 0 counts down once and raises OUT */
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xb0);
    outb(0x42, PIT_TICKS & 0xff);
    outb(0x42, PIT_TICKS >> 8);
    uint64_t t0 = rdtsc();
    for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
        if (spins > 50000000)
            return 0; /* no PIT */
    return rdtsc() - t0;
}

uint64_t tsc_calibrate_pit(void)
{
    /* Without a PIT, port 0x61 reads 0xff: OUT would seem high at once. */
    if (inb(0x61) == 0xff)
        return 0;
    return calibrate_best(pit_measure, NULL, PIT_TICKS * 1000000000ull / PIT_HZ);
}
