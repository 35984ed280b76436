/* Local APIC driver. xAPIC registers are MMIO at the base from the firmware
 * tables; in x2APIC mode register r is MSR 0x800 + r/16 and the ICR is one
 * 64-bit MSR with the destination in its high half. */
#include "arch/lapic.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/paging.h"
#include "core/log.h"
#include "core/panic.h"

#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define LVT_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_NMI (4u << 8)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_LEVEL_TRIGGER (1u << 15)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_ALL_EXCLUDING_SELF (3u << 18)

static volatile uint8_t *lapic_mmio;
static bool lapic_x2;
static bool lapic_tsc_deadline;
static uint8_t lapic_timer_vector;
static uint64_t lapic_ticks_per_tsc_fp32; /* count-mode timer ticks per TSC tick, 32.32 */

static uint32_t lapic_read(uint32_t reg)
{
    if (lapic_x2)
        return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return mmio_read32(lapic_mmio + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    if (lapic_x2)
        wrmsr(0x800 + (reg >> 4), v);
    else
        mmio_write32(lapic_mmio + reg, v);
}

bool lapic_x2apic_mode(void) { return lapic_x2; }

void lapic_init_bsp(uint64_t phys)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    /* a VMM may have switched x2APIC on already; it cannot be switched back */
    lapic_x2 = cpu_features.x2apic || (base & APIC_BASE_X2APIC);
    if (!lapic_x2) {
        lapic_mmio = paging_map_mmio(phys, 4096);
        if (!lapic_mmio)
            panic("lapic: cannot map registers at %#lx", phys);
    }
    lapic_tsc_deadline = cpu_features.tsc_deadline;
    lapic_init_cpu();
}

void lapic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;
    if (lapic_x2)
        base |= APIC_BASE_X2APIC;
    wrmsr(MSR_APIC_BASE, base);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_NMI); /* the platform NMI line */
    lapic_write(LAPIC_LVT_ERROR, 0xfe);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_SVR, 0x100 | 0xff); /* enable, spurious vector 0xff */
    lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return lapic_x2 ? id : id >> 24;
}

uint32_t lapic_read_error(void)
{
    lapic_write(LAPIC_ESR, 0); /* latch the current errors */
    return lapic_read(LAPIC_ESR);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

void lapic_wait_icr_idle(void)
{
    if (lapic_x2)
        return; /* x2APIC has no delivery-status bit to wait for */
    for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
        cpu_pause();
}

static void lapic_send_icr(uint32_t apic_id, uint32_t low)
{
    if (lapic_x2) {
        wrmsr(0x830, ((uint64_t)apic_id << 32) | low);
        return;
    }
    /* two register writes: an interrupt between them that sends its own IPI
     * would retarget ours */
    irqflags_t f = irq_save();
    lapic_wait_icr_idle();
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, low);
    irq_restore(f);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector) { lapic_send_icr(apic_id, vector); }
void lapic_send_ipi_all_others(uint8_t vector) { lapic_send_icr(0, ICR_ALL_EXCLUDING_SELF | vector); }
void lapic_send_nmi_all_others(void) { lapic_send_icr(0, ICR_ALL_EXCLUDING_SELF | ICR_NMI); }
void lapic_send_init(uint32_t apic_id) { lapic_send_icr(apic_id, ICR_INIT | ICR_LEVEL_ASSERT); }
void lapic_send_startup(uint32_t apic_id, uint8_t page) { lapic_send_icr(apic_id, ICR_STARTUP | page); }

bool lapic_timer_has_deadline(void) { return lapic_tsc_deadline; }

void lapic_timer_setup(uint8_t vector)
{
    lapic_timer_vector = vector;
    if (lapic_tsc_deadline) {
        lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | vector);
    } else {
        lapic_write(LAPIC_TIMER_DIVIDE, 0xb); /* divide by 1 */
        lapic_write(LAPIC_LVT_TIMER, vector); /* one-shot */
    }
}

void lapic_timer_calibrate(void)
{
    if (lapic_tsc_deadline)
        return;
    /* Count LAPIC ticks over a fixed span of TSC ticks. */
    lapic_write(LAPIC_TIMER_DIVIDE, 0xb);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TIMER_INITIAL, 0xffffffff);
    uint64_t t0 = rdtsc();
    uint32_t c0 = lapic_read(LAPIC_TIMER_CURRENT);
    while (rdtsc() - t0 < 2000000)
        cpu_pause();
    uint32_t c1 = lapic_read(LAPIC_TIMER_CURRENT);
    uint64_t dt = rdtsc() - t0;
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_ticks_per_tsc_fp32 = ((uint64_t)(c0 - c1) << 32) / dt;
    if (!lapic_ticks_per_tsc_fp32)
        lapic_ticks_per_tsc_fp32 = 1;
    pr_info("lapic: timer counts %lu ticks per 1000 TSC ticks\n", (lapic_ticks_per_tsc_fp32 * 1000) >> 32);
}

void lapic_timer_arm_tsc(uint64_t deadline_tsc)
{
    if (lapic_tsc_deadline) {
        wrmsr(MSR_TSC_DEADLINE, deadline_tsc ? deadline_tsc : 1);
        return;
    }
    uint64_t now = rdtsc();
    uint64_t delta = deadline_tsc > now ? deadline_tsc - now : 1;
    uint64_t ticks = (uint64_t)(((__uint128_t)delta * lapic_ticks_per_tsc_fp32) >> 32);
    if (ticks == 0)
        ticks = 1;
    if (ticks > 0xffffffffull)
        ticks = 0xffffffffull; /* fires early; the timer code re-arms */
    lapic_write(LAPIC_LVT_TIMER, lapic_timer_vector);
    lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)ticks);
}

void lapic_timer_stop(void)
{
    if (lapic_tsc_deadline)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        lapic_write(LAPIC_TIMER_INITIAL, 0);
}
