/* Ending the VM with an exit status: a record for the host tool on the log
 * channel, then the platform's power-off path (which carries the status too). */
#include "core/system.h"
#include "arch/power.h"
#include "core/log.h"
#include "lib/printf.h"

/* Work that must happen before the power goes: disk file systems write
 * back what they cache (a root on a disk is never unmounted). */
#define SYSTEM_MAX_EXIT_HOOKS 4
static void (*exit_hooks[SYSTEM_MAX_EXIT_HOOKS])(void);
static unsigned exit_hook_count;
static bool exiting;

void system_add_exit_hook(void (*fn)(void))
{
    if (exit_hook_count < SYSTEM_MAX_EXIT_HOOKS)
        exit_hooks[exit_hook_count++] = fn;
    else
        pr_warn("system: too many exit hooks; one is not run at power-off\n");
}

void system_exit(int status)
{
    /* once: a hook that fails into system_exit must not run the hooks again */
    if (!__atomic_exchange_n(&exiting, true, __ATOMIC_ACQ_REL))
        for (unsigned i = 0; i < exit_hook_count; i++)
            exit_hooks[i]();
    char record[16];
    snprintf(record, sizeof(record), "exit=%d", status & 0xff);
    log_record(record);
    arch_machine_exit(status & 0xff);
}

void system_fail(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pr_err("%s\n", msg);
    system_exit(SYSTEM_FAIL_STATUS);
}
