/* SMP bring-up: each application processor gets a struct cpu, IST stacks, a
 * kernel stack that becomes its idle thread's, and joins the scheduler. APs
 * start one at a time so logical CPU numbers follow the firmware's order. */
#include "core/smp.h"
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/paging.h"
#include "arch/platform.h"
#include "arch/smp.h"
#include "arch/trap.h"
#include "arch/uthread.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/sched.h"
#include "core/thread.h"
#include "core/timer.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/phys.h"

struct ap_boot {
    struct cpu *cpu;
    struct thread *idle;
    uintptr_t ist_tops[IST_COUNT];
    volatile bool alive;
};

void thread_init_struct(struct thread *t, const char *name, int cpu);

static void ap_main(void *arg)
{
    struct ap_boot *b = arg;
    struct cpu *c = b->cpu;
    paging_load_kernel_tables();
    arch_cpu_set_percpu(&c->arch, c->arch.id, c->arch.apic_id);
    gdt_init_cpu(&c->arch, b->ist_tops);
    idt_load();
    arch_cpu_enable_features();
    lapic_init_cpu();
    arch_user_init_cpu(false);
    kmalloc_cpu_attach(c->arch.id, &c->kmalloc_cache);
    clock_init_cpu();
    timer_init_cpu();
    sched_init_cpu(b->idle);
    c->arch.online = true;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    b->alive = true; /* b is the boot CPU's: not touched after this */
    sched_idle_loop();
}

static bool smp_start_one(unsigned id, uint32_t apic_id)
{
    struct ap_boot b = { 0 };
    struct cpu *c = kzalloc(sizeof(*c));
    struct thread *idle = kmalloc(sizeof(*idle));
    uintptr_t stack = kstack_alloc(THREAD_STACK_SIZE);
    void *ist = page_alloc_zeroed(2); /* 16 KiB, split into the IST stacks */
    if (!c || !idle || !stack || !ist) {
        pr_warn("smp: out of memory starting cpu%u\n", id);
        return false;
    }
    c->arch.id = id;
    c->arch.apic_id = apic_id;
    thread_init_struct(idle, "idle", (int)id);
    idle->stack_top = stack;
    b.cpu = c;
    b.idle = idle;
    for (int i = 0; i < IST_COUNT; i++)
        b.ist_tops[i] = (uintptr_t)ist + (uintptr_t)(i + 1) * (16384 / IST_COUNT) / 16 * 16;
    cpus[id] = c;
    if (!arch_smp_start_ap(apic_id, ap_main, &b, stack, &b.alive)) {
        pr_warn("smp: cpu with APIC ID %u did not start; continuing without it\n", apic_id);
        cpus[id] = NULL;
        return false; /* its memory stays reserved: the CPU might still wake up */
    }
    __atomic_store_n(&cpu_count, id + 1, __ATOMIC_RELEASE);
    return true;
}

static void smp_start_all(void)
{
    uint32_t bsp = lapic_id();
    unsigned next = 1;
    for (unsigned i = 0; i < platform.cpu_count && next < MAX_CPUS; i++) {
        if (platform.cpus[i].apic_id == bsp)
            continue;
        if (smp_start_one(next, platform.cpus[i].apic_id))
            next++;
    }
    panic_set_stop_others(smp_stop_others);
}

void smp_boot(void)
{
    if (platform.cpu_count > 1 && !arch_smp_prepare(mm_low_page))
        pr_warn("smp: no start-up page below 1 MiB; running on one CPU\n");
    else if (platform.cpu_count > 1)
        smp_start_all();
    pr_info("smp: %u of %u CPUs online\n", cpu_count, platform.cpu_count);
}

void smp_stop_others(void)
{
    if (cpu_count > 1)
        lapic_send_nmi_all_others(); /* an NMI during a panic halts the CPU */
}
