/* kmain: the boot sequence, from a normalised boot_info to the workload. */
#include "arch/boot_info.h"
#include "arch/cpu.h"
#include "arch/ioapic.h"
#include "arch/lapic.h"
#include "arch/pic.h"
#include "arch/platform.h"
#include "arch/power.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "drivers/serial.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"

extern const char *boot_error;

static struct console serial_console = { .name = "serial", .write = serial_write };
static struct console debugcon_console = { .name = "debugcon", .write = debugcon_write };

void kmain(void) __noreturn;

static void console_init(void)
{
    serial_init();
    if (debugcon_probe()) {
        /* osprey run: the log has its own channel, the serial port is the app's */
        log_register_console(&debugcon_console);
        log_set_record_sink(debugcon_write);
    } else {
        log_register_console(&serial_console);
    }
}

void kmain(void)
{
    console_init();
    cpu_features_detect();
    cpu_bsp_early_init();
    log_set_console_level(LOG_DEBUG);
    pr_info("Osprey booting, boot protocol: %s, command line: %s\n", boot_info.protocol, boot_info.cmdline);
    if (boot_error)
        pr_warn("%s\n", boot_error);
    for (unsigned i = 0; i < boot_info.memmap_count; i++)
        pr_info("mem %#lx-%#lx type %u\n", boot_info.memmap[i].base,
                boot_info.memmap[i].base + boot_info.memmap[i].size - 1, boot_info.memmap[i].type);
    mm_init();
    kmalloc_cpu_attach(0, &this_cpu()->kmalloc_cache);
    platform_set_defaults(&platform);
    pic_disable();
    lapic_init_bsp(platform.lapic_phys);
    ioapic_init();
    pr_info("lapic id %u (%s)\n", lapic_id(), lapic_x2apic_mode() ? "x2apic" : "xapic");
    void *p = kmalloc(100);
    pr_info("kmalloc(100) = %p\n", p);
    kfree(p);
    panic_set_power_off(true);
    if (str_starts_with(boot_info.cmdline, "crash"))
        *(volatile int *)0x1234 = 1;
    log_record("exit=0");
    arch_machine_exit(0);
}
