/* kmain: the boot sequence, from a normalised boot_info to the workload. Each
 * phase ends with a bootchart mark. */
#include "arch/boot_info.h"
#include "arch/cpu.h"
#include "arch/ioapic.h"
#include "arch/lapic.h"
#include "arch/pic.h"
#include "arch/platform.h"
#include "arch/smp.h"
#include "arch/uthread.h"
#include "core/bootchart.h"
#include "core/bootopts.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/sched.h"
#include "core/selftest.h"
#include "core/smp.h"
#include "core/system.h"
#include "core/thread.h"
#include "core/timer.h"
#include "drivers/acpi.h"
#include "drivers/drivers.h"
#include "drivers/serial.h"
#include "exec/exec.h"
#include "exec/vdso.h"
#include "fs/vfs.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/vm.h"

extern const char *boot_error;
extern char boot_stack_top[];
void thread_init_struct(struct thread *t, const char *name, int cpu);

static struct console serial_console = { .name = "serial", .write = serial_write };
static struct console debugcon_console = { .name = "debugcon", .write = debugcon_write };
static struct thread bsp_idle_thread;

void kmain(void) __noreturn;
void user_traps_init(void);

static void console_init(void)
{
    serial_init();
    if (debugcon_probe()) {
        /* osprey run: the log has its own channel, the serial port is the app's */
        log_register_console(&debugcon_console);
        log_set_record_sink(debugcon_write);
    } else {
        /* Firecracker, Cloud Hypervisor: one serial console for everything;
         * the exit record still reaches the host tool, on a line of its own */
        log_register_console(&serial_console);
        log_set_record_sink(serial_write_record);
    }
}

static void print_line(const char *line)
{
    printk(LOG_NOTICE, "%s", line);
}

/* Options first: a bad one stops the boot before anything else happens. */
static void options_init(void)
{
    static char words[BOOT_CMDLINE_MAX]; /* parsing cuts the line into words in place */
    char err[200];
    if (boot_info.cmdline_truncated)
        system_fail("the kernel command line is longer than %d bytes", BOOT_CMDLINE_MAX - 1);
    strlcpy(words, boot_info.cmdline, sizeof(words));
    if (bootopts_parse(words, &boot_options, err, sizeof(err)) != 0)
        system_fail("%s", err);
    if (boot_options.help) {
        printk(LOG_NOTICE, "Osprey boot options (then the program and its arguments):\n");
        bootopts_print_help(print_line);
        system_exit(0);
    }
    if (boot_options.verbose) {
        log_set_console_level(LOG_DEBUG);
        log_set_timestamps(true);
    }
    panic_set_power_off(boot_options.power_off_on_abort);
    if (strcmp(boot_options.console, "none") == 0)
        log_unregister_console(&serial_console); /* the log lives on in the ring (and debugcon) */
}

static void interrupts_init(void)
{
    pic_disable();
    lapic_init_bsp(platform.lapic_phys);
    ioapic_init();
    pr_info("interrupts: %s LAPIC, id %u, %u IOAPIC(s)\n", lapic_x2apic_mode() ? "x2APIC" : "xAPIC",
            lapic_id(), platform.ioapic_count);
}

static void scheduler_init(void)
{
    thread_init_struct(&bsp_idle_thread, "idle", 0);
    bsp_idle_thread.stack_top = (uintptr_t)boot_stack_top;
    this_cpu()->arch.apic_id = lapic_id();
    kmalloc_cpu_attach(0, &this_cpu()->kmalloc_cache);
    clock_init_cpu();
    timer_init_cpu();
    sched_init();
    sched_init_cpu(&bsp_idle_thread);
    this_cpu()->arch.online = true;
}

/* Start the application; its main thread ends the VM when it exits. A
 * program that cannot start gets the shell's statuses: 127 when it does not
 * exist, 126 when it cannot be run. */
static void run_program(void)
{
    char err[256];
    struct exec_request req = {
        .argv = (const char *const *)boot_options.argv,
        .argc = boot_options.argc,
        .envp = (const char *const *)boot_options.env,
        .envc = boot_options.envc,
        .cwd = boot_options.cwd,
        .aslr = !boot_options.no_aslr,
    };
    int e = exec_start(&req, err, sizeof(err));
    if (e) {
        pr_err("%s\n", err);
        system_exit(e == -ENOENT || e == -ENOTDIR ? 127 : 126);
    }
    thread_exit(0);
}

/* The first thread: runs what the command line asks for, then ends the VM. */
static void init_main(void *unused)
{
    (void)unused;
    drivers_init();
    int e = vfs_init();
    if (e)
        system_fail("cannot set up the file systems: %s", errno_name(e));
    bootchart_mark("init");
    if (boot_options.bootchart)
        bootchart_print();
    if (boot_options.test)
        system_exit(selftest_run(boot_options.test));
    if (!boot_options.argc) {
        pr_info("nothing to run; shutting down\n");
        system_exit(0);
    }
    run_program();
}

void kmain(void)
{
    console_init();
    cpu_features_detect();
    arch_user_early_init();
    cpu_bsp_early_init();
    bootchart_mark("console and traps");
    options_init();
    pr_info("Osprey booting, boot protocol: %s, command line: %s\n", boot_info.protocol, boot_info.cmdline);
    if (boot_error)
        pr_warn("%s\n", boot_error);
    for (unsigned i = 0; i < boot_info.memmap_count; i++)
        pr_debug("mem %#lx-%#lx type %u\n", boot_info.memmap[i].base,
                 boot_info.memmap[i].base + boot_info.memmap[i].size - 1, boot_info.memmap[i].type);
    mm_init();
    bootchart_mark("memory");
    platform_discover(&platform);
    bootchart_mark("firmware tables");
    interrupts_init();
    clock_init(boot_options.tsc_khz);
    bootchart_mark("interrupts and clock");
    arch_user_init_cpu(true);
    user_traps_init();
    vdso_init();
    scheduler_init();
    smp_boot();
    bootchart_mark("SMP");
    if (!thread_spawn("init", init_main, NULL, -1))
        panic("cannot create the init thread");
    sched_idle_loop();
}
