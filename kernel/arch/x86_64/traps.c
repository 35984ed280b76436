/* Trap dispatch: exceptions go to a registered handler or become a clear fatal
 * report; interrupts go to their handler, then EOI, then the exit hook. */
#include "arch/trap.h"
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/percpu.h"
#include "core/log.h"
#include "core/panic.h"

static exception_handler_t exception_handlers[32];
static struct {
    irq_handler_t fn;
    void *ctx;
} irq_handlers[256];
static void (*irq_exit_hook)(struct trap_frame *f);
static void (*user_return_hook)(struct trap_frame *f);
static unsigned next_device_vector = VEC_DEVICE_FIRST;

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 floating point", "#AC alignment check",
    "#MC machine check", "#XM SIMD floating point", "#VE virtualization",
    "#CP control protection", "reserved 22", "reserved 23", "reserved 24",
    "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

const char *trap_vector_name(unsigned vector)
{
    return vector < 32 ? exception_names[vector] : "interrupt";
}

void trap_set_exception_handler(unsigned vector, exception_handler_t h)
{
    if (vector < 32)
        exception_handlers[vector] = h;
}

void trap_set_irq_handler(unsigned vector, irq_handler_t h, void *ctx)
{
    irq_handlers[vector].ctx = ctx;
    __atomic_store_n(&irq_handlers[vector].fn, h, __ATOMIC_RELEASE);
}

int trap_alloc_vector(void)
{
    unsigned v = __atomic_fetch_add(&next_device_vector, 1, __ATOMIC_RELAXED);
    return v <= VEC_DEVICE_LAST ? (int)v : -1;
}

void trap_set_irq_exit_hook(void (*hook)(struct trap_frame *f))
{
    irq_exit_hook = hook;
}

void trap_set_user_return_hook(void (*hook)(struct trap_frame *f))
{
    user_return_hook = hook;
}

static void kick_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx; /* the return to ring 3 does the work */
}

void trap_dump_frame(const struct trap_frame *f)
{
    pr_emerg("  rip %016lx  cs %04lx  rflags %08lx  rsp %016lx  ss %04lx\n", f->rip, f->cs,
             f->rflags, f->rsp, f->ss);
    pr_emerg("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    pr_emerg("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    pr_emerg("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
    pr_emerg("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
    pr_emerg("  cr0 %016lx  cr2 %016lx  cr3 %016lx  cr4 %016lx\n", read_cr0(), read_cr2(),
             read_cr3(), read_cr4());
}

static void trap_fatal(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (v == VEC_DOUBLE_FAULT && (kstack_is_guard(f->rsp) || kstack_is_guard(f->rsp - 8)))
        panic_from_trap(f, "kernel stack overflow (stack pointer %#lx is in a guard page)", f->rsp);
    if (v == VEC_PAGE_FAULT && !(f->error_code & 4) && kstack_is_guard(read_cr2()))
        panic_from_trap(f, "kernel stack overflow (fault at %#lx in a guard page)", read_cr2());
    if (v == VEC_PAGE_FAULT)
        panic_from_trap(f, "unhandled %s at address %#lx (%s %s, %s mode), error code %#lx",
                        exception_names[v], read_cr2(),
                        (f->error_code & 1) ? "protection violation on" : "not-present",
                        (f->error_code & 16) ? "instruction fetch" : (f->error_code & 2) ? "write" : "read",
                        (f->error_code & 4) ? "user" : "kernel", f->error_code);
    panic_from_trap(f, "unhandled exception %s, error code %#lx", exception_names[v], f->error_code);
}

/* NMIs come from the panic path (stop this CPU) or from outside, e.g. a
 * host's "nmi" monitor command: those are reported, not fatal. */
static bool nmi_handler(struct trap_frame *f)
{
    (void)f;
    if (panic_in_progress())
        for (;;)
            cpu_halt();
    pr_warn("cpu%u: NMI received\n", cpu_current_id());
    return true;
}

static void lapic_error_handler(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
    pr_warn("cpu%u: LAPIC error, status %#x\n", cpu_current_id(), lapic_read_error());
}

void trap_init_handlers(void)
{
    trap_set_exception_handler(VEC_NMI, nmi_handler);
    trap_set_irq_handler(VEC_LAPIC_ERROR, lapic_error_handler, NULL);
    trap_set_irq_handler(VEC_KICK, kick_handler, NULL);
}

void trap_dispatch(struct trap_frame *f);

void trap_dispatch(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (v < 32) {
        exception_handler_t h = exception_handlers[v];
        if (!h || !h(f))
            trap_fatal(f);
        if ((f->cs & 3) && user_return_hook)
            user_return_hook(f);
        return;
    }
    if (v == VEC_SPURIOUS)
        return; /* spurious interrupts are not acknowledged */
    irq_handler_t h = __atomic_load_n(&irq_handlers[v].fn, __ATOMIC_ACQUIRE);
    if (h)
        h(f, irq_handlers[v].ctx);
    else
        pr_warn("cpu%u: unexpected interrupt on vector %#x\n", cpu_current_id(), v);
    lapic_eoi();
    if (irq_exit_hook)
        irq_exit_hook(f);
    if ((f->cs & 3) && user_return_hook)
        user_return_hook(f);
}
