/* INIT-SIPI-SIPI start-up of application processors through the trampoline
 * in ap_trampoline.S. The trampoline page and its page tables (4 pages) lie
 * below 1 MiB because a Startup IPI can only start a CPU there and 32-bit code
 * can only load a CR3 below 4 GiB. */
#include "arch/smp.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "core/clock.h"
#include "core/log.h"
#include "lib/string.h"
#include "mm/phys.h"

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
extern const char ap_off_gdt[], ap_off_gdt_desc[], ap_off_far32[], ap_off_far64[];
extern const char ap_off_pm32[], ap_off_lm64[], ap_off_base_patch[];

struct ap_params {
    uint32_t cr3, efer;
    uint64_t stack, entry, arg;
} __packed;

static uint64_t ap_page;            /* physical: trampoline code */
static struct ap_params *ap_params; /* in the trampoline page, via the direct map */

#define AP_OFF(sym) ((uintptr_t)(sym))

static void patch32(uint8_t *page, uintptr_t offset, uint32_t value)
{
    memcpy(page + offset, &value, 4);
}

bool arch_smp_prepare(uint64_t low_pages_phys)
{
    size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);
    if (!low_pages_phys || size > PAGE_SIZE)
        return false;
    ap_page = low_pages_phys;
    uint8_t *page = phys_to_virt(ap_page);
    memcpy(page, ap_trampoline_start, size);
    patch32(page, AP_OFF(ap_off_gdt_desc) + 2, (uint32_t)(ap_page + AP_OFF(ap_off_gdt)));
    patch32(page, AP_OFF(ap_off_far32), (uint32_t)(ap_page + AP_OFF(ap_off_pm32)));
    patch32(page, AP_OFF(ap_off_far64), (uint32_t)(ap_page + AP_OFF(ap_off_lm64)));
    patch32(page, AP_OFF(ap_off_base_patch), (uint32_t)ap_page);

    /* Page tables: the kernel's half as is, plus the low 2 MiB one to one. */
    uint64_t pml4 = ap_page + PAGE_SIZE, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
    uint64_t *l4 = phys_to_virt(pml4), *l3 = phys_to_virt(pdpt), *l2 = phys_to_virt(pd);
    memcpy(l4, phys_to_virt(paging_kernel_root()), PAGE_SIZE);
    memset(l3, 0, PAGE_SIZE);
    memset(l2, 0, PAGE_SIZE);
    l4[0] = pdpt | PTE_PRESENT | PTE_WRITE;
    l3[0] = pd | PTE_PRESENT | PTE_WRITE;
    l2[0] = PTE_PRESENT | PTE_WRITE | PTE_LARGE;

    ap_params = (struct ap_params *)(page + (ap_trampoline_params - ap_trampoline_start));
    ap_params->cr3 = (uint32_t)pml4;
    ap_params->efer = EFER_LME | (cpu_features.nx ? EFER_NXE : 0);
    return true;
}

static bool wait_alive(volatile bool *alive, uint64_t ns)
{
    uint64_t end = clock_monotonic_ns() + ns;
    while (!*alive) {
        if (clock_monotonic_ns() > end)
            return false;
        cpu_pause();
    }
    return true;
}

bool arch_smp_start_ap(uint32_t apic_id, void (*entry)(void *), void *arg, uintptr_t stack_top,
                       volatile bool *alive)
{
    ap_params->stack = stack_top;
    ap_params->entry = (uint64_t)entry;
    ap_params->arg = (uint64_t)arg;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    lapic_send_init(apic_id);
    lapic_wait_icr_idle();
    if (!cpu_features.hypervisor) /* real hardware wants 10 ms after INIT */
        wait_alive(alive, 10 * NSEC_PER_MSEC);
    lapic_send_startup(apic_id, (uint8_t)(ap_page >> PAGE_SHIFT));
    lapic_wait_icr_idle();
    if (wait_alive(alive, 20 * NSEC_PER_MSEC))
        return true;
    /* a second Startup IPI, as the MP start-up algorithm prescribes */
    lapic_send_startup(apic_id, (uint8_t)(ap_page >> PAGE_SHIFT));
    lapic_wait_icr_idle();
    return wait_alive(alive, 2000 * NSEC_PER_MSEC);
}

void arch_cpu_enable_features(void)
{
    if (cpu_features.pge)
        write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_WP);
}
