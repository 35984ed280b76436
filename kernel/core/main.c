/* kmain: the boot sequence, from a normalised boot_info to the workload. */
#include "arch/boot_info.h"
#include "arch/power.h"
#include "core/log.h"
#include "drivers/serial.h"

extern const char *boot_error;

static struct console serial_console = { .name = "serial", .write = serial_write };
static struct console debugcon_console = { .name = "debugcon", .write = debugcon_write };

void kmain(void) __noreturn;

void kmain(void)
{
    serial_init();
    if (debugcon_probe())
        log_register_console(&debugcon_console);
    else
        log_register_console(&serial_console);
    log_set_console_level(LOG_DEBUG);
    pr_info("Osprey booting, boot protocol: %s, command line: %s\n", boot_info.protocol, boot_info.cmdline);
    if (boot_error)
        pr_warn("%s\n", boot_error);
    for (unsigned i = 0; i < boot_info.memmap_count; i++)
        pr_info("mem %#lx-%#lx type %u\n", boot_info.memmap[i].base,
                boot_info.memmap[i].base + boot_info.memmap[i].size - 1, boot_info.memmap[i].type);
    serial_write("hello from osprey\n", 18);
    arch_machine_exit(0);
}
