/* panic: report a broken invariant as clearly as possible, then stop. */
#include "core/panic.h"
#include "arch/backtrace.h"
#include "arch/cpu.h"
#include "arch/percpu.h"
#include "arch/power.h"
#include "arch/trap.h"
#include "core/ksyms.h"
#include "core/log.h"
#include "lib/printf.h"

static bool panic_power_off;
static void (*panic_stop_others_fn)(void);
static int panic_running;

void panic_set_power_off(bool on) { panic_power_off = on; }
bool panic_in_progress(void) { return __atomic_load_n(&panic_running, __ATOMIC_ACQUIRE) != 0; }
void panic_set_stop_others(void (*fn)(void)) { panic_stop_others_fn = fn; }

static void panic_print_pc(uint64_t pc, void *ctx)
{
    unsigned *index = ctx;
    uint64_t off;
    const char *name = ksyms_lookup(pc, &off);
    if (name)
        pr_emerg("  #%-2u %016lx %s+%#lx\n", (*index)++, pc, name, off);
    else
        pr_emerg("  #%-2u %016lx\n", (*index)++, pc);
}

static __noreturn void panic_common(const struct trap_frame *f, const char *fmt, va_list ap)
{
    irq_disable();
    if (__atomic_exchange_n(&panic_running, 1, __ATOMIC_ACQ_REL)) {
        for (;;) /* another CPU (or this one, recursively) is already panicking */
            cpu_halt();
    }
    if (panic_stop_others_fn)
        panic_stop_others_fn();
    log_force_unlock();
    log_record("panic");

    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    pr_emerg("Kernel panic on cpu%u: %s\n", cpu_current_id(), msg);
    if (f)
        trap_dump_frame(f);
    pr_emerg("Backtrace:\n");
    unsigned index = 0;
    if (f) {
        panic_print_pc(f->rip, &index);
        arch_backtrace(f->rbp, panic_print_pc, &index, 32);
    } else {
        arch_backtrace((uint64_t)__builtin_frame_address(0), panic_print_pc, &index, 32);
    }
    if (panic_power_off)
        arch_machine_exit(PANIC_EXIT_STATUS);
    pr_emerg("Halted (boot with --power-off-on-abort to power off instead).\n");
    for (;;)
        cpu_halt();
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(NULL, fmt, ap);
}

void panic_from_trap(const struct trap_frame *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(f, fmt, ap);
}
